#!/usr/bin/python3
"""ipywidgets (Debian's python3-ipywidgets) on bpy-jupyter, side by side with ipykernel.

The same frontend conversation is held with both kernels: version check,
widgets created and displayed, state changed from the kernel and from the
frontend, a button click, a widget created by the frontend, and a close.
Each conversation is reduced to what a widget frontend depends on (message
types, comm targets, model names, state, printed text) and the two must be
equal.  Ids differ legitimately and are replaced by the name of the model
they belong to.

The frontend speaks the widget protocol of the ipywidgets installed here, as a
real frontend matches the kernel's library (Debian: 6 on bookworm, 8 on trixie
and sid); nothing below expects one version's message shapes from the kernel.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bjtest  # noqa: E402  (sets up JUPYTER_PATH first)
import bjkernelspec  # noqa: E402
from bjwidgets import (
    frontend_checks_version,
    frontend_made_text,  # noqa: E402
    frontend_sets,
    model_name,
    INSTANCES,
)
from jupyter_client.manager import KernelManager  # noqa: E402

REFERENCE_KERNEL = "bj-reference-ipykernel"


class Conversation:
    """A kernel plus the frontend's side of the widget protocol."""

    def __init__(self, kernel_name):
        self.km = KernelManager(
            kernel_name=kernel_name, connection_file=bjkernelspec.connection_file_path()
        )
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=bjtest.STARTUP_TIMEOUT)
        self.names = {}  # comm_id -> model name, to compare runs without ids
        self.transcript = []
        self.comm_data = []  # (model name, data) of every comm_msg, for the checks

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def _name(self, comm_id):
        return self.names.get(comm_id, "<unknown comm>")

    def _record(self, msgs):
        """Append the frontend-visible essence of one request's iopub messages.

        Streams are compared as the whole text each request printed, after its
        other messages: how print() output is cut into chunks, and where
        ipykernel's separately buffered stdout lands among comm messages, is
        not something a frontend can rely on.
        """
        printed = {}
        for msg in msgs:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                printed[content["name"]] = printed.get(content["name"], "") + content["text"]
                continue
            if kind == "comm_open":
                name, view = model_name(content["data"], content["target_name"])
                self.names[content["comm_id"]] = name
                self.transcript.append((kind, content["target_name"], name, view))
            elif kind == "comm_msg":
                self.comm_data.append((self._name(content["comm_id"]), content["data"]))
                self.transcript.append(
                    (kind, self._name(content["comm_id"]), repr(sorted(content["data"].items())))
                )
            elif kind == "comm_close":
                self.transcript.append((kind, self._name(content["comm_id"])))
            elif kind in ("display_data", "execute_result"):
                # A widget as a cell's value: ipywidgets 6/7 display() it, 8 gives a
                # view in the result; the comparison with ipykernel tells which.
                view = content["data"].get("application/vnd.jupyter.widget-view+json")
                self.transcript.append(
                    (
                        kind,
                        self._name(view["model_id"]) if view else content["data"].get("text/plain"),
                    )
                )
            elif kind == "error":
                self.transcript.append((kind, content["ename"], content["evalue"]))
        for name in sorted(printed):
            self.transcript.append(("stream", name, printed[name]))

    def cell(self, code):
        reply, msgs = bjtest.execute(self.kc, code, timeout=bjtest.TIMEOUT * 3)
        self._record(msgs)
        self.transcript.append(("reply", reply["content"]["status"]))
        return reply

    def frontend(self, msg_type, content, metadata=None):
        """A comm message from the frontend; records what the kernel publishes for it."""
        msg = self.kc.session.msg(msg_type, content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        self._record(bjtest.collect_iopub(self.kc, msg["header"]["msg_id"]))
        return msg

    def comm_of(self, model_name):
        matches = [comm_id for comm_id, name in self.names.items() if name == model_name]
        assert matches, "no comm for %s in %r" % (model_name, self.names)
        return matches[-1]


def converse(kernel_name):
    """The whole conversation; returns (transcript, conversation)."""
    talk = Conversation(kernel_name)
    try:
        talk.cell("import ipywidgets as w")
        # The classic notebook checks the widget library's version first; frontends
        # for ipywidgets 8 do not (it has no such target).
        if frontend_checks_version():
            talk.names["version-check"] = "version"
            talk.frontend(
                "comm_open",
                {"comm_id": "version-check", "target_name": "jupyter.widget.version", "data": {}},
            )
            talk.frontend(
                "comm_msg",
                {
                    "comm_id": "version-check",
                    "data": {"validated": True, "frontend_version": "2.1.4"},
                },
            )
        talk.cell("s = w.IntSlider(value=3, min=0, max=10, description='x')\ns")
        talk.cell(
            "def changed(change):\n    print('changed', change['new'])\n"
            "s.observe(changed, names='value')\ns.value = 7\nprint(s.value)"
        )
        slider = talk.comm_of("IntSliderModel")
        talk.frontend("comm_msg", {"comm_id": slider, "data": frontend_sets({"value": 9})})
        talk.cell("print('now', s.value)")
        talk.cell(
            "b = w.Button(description='go')\n"
            "b.on_click(lambda button: print('clicked', button.description))\n"
            "display(b)"
        )
        talk.frontend(
            "comm_msg",
            {
                "comm_id": talk.comm_of("ButtonModel"),
                "data": {"method": "custom", "content": {"event": "click"}},
            },
        )
        # A widget the frontend creates: the kernel builds the Python side.
        talk.names["frontend-made"] = "frontend-made"
        data, metadata = frontend_made_text()
        talk.frontend(
            "comm_open",
            {"comm_id": "frontend-made", "target_name": "jupyter.widget", "data": data},
            metadata,
        )
        talk.cell(
            INSTANCES + "t = instances['frontend-made']\n" "print(type(t).__name__, repr(t.value))"
        )
        talk.cell("s.close()\nprint(s.comm)")
        talk.cell(
            "from traitlets import TraitError\n"
            "try:\n    s.value = 'not a number'\nexcept TraitError as e:\n"
            "    print('refused')"
        )
        return talk.transcript, talk
    finally:
        talk.close()


class TestWidgets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        bjkernelspec.add_kernelspec(
            REFERENCE_KERNEL, bjkernelspec.IPYKERNEL_ARGV, "ipykernel (reference)"
        )
        cls.ours, cls.ours_talk = converse(bjkernelspec.setup_kernelspec())
        cls.reference, _ = converse(REFERENCE_KERNEL)

    def test_same_conversation_as_ipykernel(self):
        self.assertEqual(self.ours, self.reference)

    def test_widgets_really_flow(self):
        # Guards against both kernels agreeing on nothing happening.
        kinds = [entry[0] for entry in self.ours]
        self.assertIn(("comm_open", "jupyter.widget", "IntSliderModel", "IntSliderView"), self.ours)
        self.assertTrue(
            {("display_data", "IntSliderModel"), ("execute_result", "IntSliderModel")}
            & set(self.ours),
            "the slider was not displayed",
        )
        # The kernel's change reached the frontend as an update of the slider's state.
        self.assertIn(
            ("IntSliderModel", "update", 7),
            [
                (name, data.get("method"), data.get("state", {}).get("value"))
                for name, data in self.ours_talk.comm_data
            ],
        )
        self.assertIn(("stream", "stdout", "changed 9\n"), self.ours)
        self.assertIn(("stream", "stdout", "now 9\n"), self.ours)
        self.assertIn(("stream", "stdout", "clicked go\n"), self.ours)
        self.assertIn(("stream", "stdout", "Text ''\n"), self.ours)
        self.assertIn(("comm_close", "IntSliderModel"), self.ours)
        self.assertIn(("stream", "stdout", "refused\n"), self.ours)
        self.assertNotIn("error", kinds)
        self.assertNotIn(("reply", "error"), self.ours)
        # No warnings: ipywidgets 6 would say "Widget Javascript not detected"
        # without the version check, and 8 warns about deprecated names.
        self.assertFalse(
            [entry for entry in self.ours if entry[0] == "stream" and entry[1] == "stderr"],
            self.ours,
        )


if __name__ == "__main__":
    unittest.main(verbosity=2)
