#!/usr/bin/python3
"""Rich output, silent execution and output from threads, through jupyter_client.

MIME bundles (every _repr_*_ method, _repr_mimebundle_, metadata, bytes as
base64), display() with display ids and updates, clear_output, IPython.display
routed through the kernel without an IPython shell, matplotlib figures shown
inline, silent=True publishing nothing, and prints from other threads reaching
the frontend while the host's own prints outside a cell stay on the host.
"""

import base64
import struct
import time
from queue import Empty

import bjtest
from bjtest import get_reply, of_type, parent_id, stream_text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

RICH_CLASS = r'''
class Rich:
    def _repr_html_(self): return "<b>html</b>"
    def _repr_markdown_(self): return "**md**"
    def _repr_svg_(self): return "<svg xmlns='http://www.w3.org/2000/svg'/>"
    def _repr_png_(self): return (b"\x89PNG-bytes", {"width": 10, "height": 20})
    def _repr_jpeg_(self): return b"\xff\xd8jpeg"
    def _repr_latex_(self): return r"$\alpha$"
    def _repr_json_(self): return {"a": [1, 2]}
    def _repr_javascript_(self): return "console.log(1)"
    def _repr_pdf_(self): return b"%PDF-1.4"
    def __repr__(self): return "Rich()"
'''


def png_size(data_b64):
    raw = base64.b64decode(data_b64)
    if not raw.startswith(PNG_MAGIC):
        raise AssertionError("not a PNG: %r" % raw[:16])
    return struct.unpack(">II", raw[16:24])


def outputs(msgs):
    """The iopub messages of a request other than status and execute_input.

    Consecutive stream messages of one stream are merged into one: how the
    kernel batches a stream is not what these tests are about.
    """
    merged = []
    for m in msgs:
        if m["msg_type"] in ("status", "execute_input"):
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and m["msg_type"] == "stream"
            and last["msg_type"] == "stream"
            and last["content"]["name"] == m["content"]["name"]
        ):
            last["content"] = dict(
                last["content"], text=last["content"]["text"] + m["content"]["text"]
            )
            continue
        merged.append(dict(m))
    return merged


class TestLazyImports(bjtest.KernelTestCase):
    def test_nothing_heavy_at_start(self):
        # IPython (~0.3 s) and matplotlib must only be imported by cells that want them
        reply, msgs = self.execute(
            "import sys\n"
            "sorted(m for m in ('IPython', 'matplotlib', 'comm', 'ipykernel') if m in sys.modules)"
        )
        self.assertOk(reply)
        self.assertEqual(of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "[]")


class TestRichOutput(bjtest.KernelTestCase):
    capture_stderr = True

    def result(self, code, **kw):
        reply, msgs = self.execute(code, **kw)
        self.assertOk(reply)
        results = of_type(msgs, "execute_result")
        self.assertEqual(len(results), 1, [m["msg_type"] for m in msgs])
        return results[0]["content"]

    # -- MIME bundles ---------------------------------------------------------

    def test_every_repr_method(self):
        self.assertOk(self.execute(RICH_CLASS)[0])
        content = self.result("Rich()")
        data, md = content["data"], content["metadata"]
        self.assertEqual(data["text/plain"], "Rich()")
        self.assertEqual(data["text/html"], "<b>html</b>")
        self.assertEqual(data["text/markdown"], "**md**")
        self.assertEqual(data["image/svg+xml"], "<svg xmlns='http://www.w3.org/2000/svg'/>")
        self.assertEqual(base64.b64decode(data["image/png"]), b"\x89PNG-bytes")
        self.assertEqual(base64.b64decode(data["image/jpeg"]), b"\xff\xd8jpeg")
        self.assertEqual(data["text/latex"], r"$\alpha$")
        self.assertEqual(data["application/json"], {"a": [1, 2]})
        self.assertEqual(data["application/javascript"], "console.log(1)")
        self.assertEqual(base64.b64decode(data["application/pdf"]), b"%PDF-1.4")
        # a (value, metadata) tuple keeps its metadata under the MIME type
        self.assertEqual(md, {"image/png": {"width": 10, "height": 20}})

    def test_text_beyond_ascii_arrives_intact(self):
        # Accents, CJK, a character beyond the BMP (a surrogate pair in JSON), a
        # literal backslash-u: all exactly; a lone surrogate (a surrogateescape'd
        # filename) cannot be UTF-8 and arrives as "?", with the rest of the text.
        text = "caf\u00e9 \u65e5\u672c \U0001F600 \\ud800 end"
        content = self.result(
            "class Html:\n" "    def _repr_html_(self):\n" "        return %r\n" "Html()" % text
        )
        self.assertEqual(content["data"]["text/html"], text)
        content = self.result(
            "class Lone:\n"
            "    def _repr_html_(self):\n"
            "        return 'a\\udcffb \u00e9'\n"
            "Lone()"
        )
        self.assertEqual(content["data"]["text/html"], "a?b \u00e9")

    def test_mimebundle_with_metadata(self):
        code = (
            "class Bundle:\n"
            "    def _repr_mimebundle_(self, include=None, exclude=None):\n"
            "        return ({'text/html': '<i>b</i>', 'application/vnd.custom+json': {'k': 1},\n"
            "                 'image/png': b'\\x89PNG'}, {'image/png': {'width': 3}})\n"
            "    def _repr_html_(self): return 'not used: the bundle has html'\n"
            "    def _repr_markdown_(self): return 'md fills in'\n"
            "Bundle()"
        )
        content = self.result(code)
        data = content["data"]
        self.assertEqual(data["text/html"], "<i>b</i>")
        self.assertEqual(data["application/vnd.custom+json"], {"k": 1})
        self.assertEqual(data["text/markdown"], "md fills in")
        self.assertEqual(base64.b64decode(data["image/png"]), b"\x89PNG")
        self.assertIn("text/plain", data)
        self.assertEqual(content["metadata"], {"image/png": {"width": 3}})

    def test_broken_repr_costs_one_representation(self):
        code = (
            "class Half:\n"
            "    def _repr_html_(self): raise ValueError('bj-broken-html')\n"
            "    def _repr_markdown_(self): return '*ok*'\n"
            "Half()"
        )
        reply, msgs = self.execute(code)
        self.assertOk(reply)
        data = of_type(msgs, "execute_result")[0]["content"]["data"]
        self.assertNotIn("text/html", data)
        self.assertEqual(data["text/markdown"], "*ok*")
        self.assertIn("bj-broken-html", stream_text(msgs, "stderr"))

    def test_display_include_exclude_metadata(self):
        self.assertOk(self.execute(RICH_CLASS)[0])
        reply, msgs = self.execute(
            "display(Rich(), include=['text/html', 'text/plain'])\n"
            "display(Rich(), exclude=['image/png', 'application/pdf', 'image/jpeg'],"
            " metadata={'text/html': {'isolated': True}})"
        )
        self.assertOk(reply)
        shown = of_type(msgs, "display_data")
        self.assertEqual(len(shown), 2, [m["msg_type"] for m in msgs])
        self.assertEqual(sorted(shown[0]["content"]["data"]), ["text/html", "text/plain"])
        second = shown[1]["content"]
        for mime in ("image/png", "application/pdf", "image/jpeg"):
            self.assertNotIn(mime, second["data"])
        self.assertIn("text/markdown", second["data"])
        self.assertEqual(second["metadata"]["text/html"], {"isolated": True})
        self.assertEqual(of_type(msgs, "execute_result"), [])

    def test_display_ids_and_updates(self):
        reply, msgs = self.execute(
            "h = display('first', display_id=True)\n"
            "display({'text/plain': 'raw'}, raw=True, display_id='bj-fixed')\n"
            "h.update('second')\n"
            "update_display('third', display_id='bj-fixed')\n"
            "display('again', display_id='bj-fixed')\n"
            "h2 = display(display_id='bj-empty')\n"
        )
        self.assertOk(reply)
        got = [
            (
                m["msg_type"],
                m["content"]["data"].get("text/plain"),
                m["content"].get("transient", {}).get("display_id"),
            )
            for m in outputs(msgs)
        ]
        generated = got[0][2]
        self.assertTrue(generated and generated != "bj-fixed", got)
        self.assertEqual(
            got,
            [
                ("display_data", "'first'", generated),
                ("display_data", "raw", "bj-fixed"),
                ("update_display_data", "'second'", generated),
                ("update_display_data", "'third'", "bj-fixed"),
                ("display_data", "'again'", "bj-fixed"),
                ("display_data", None, "bj-empty"),  # a placeholder to update later
            ],
        )
        reply, msgs = self.execute("h2.update('filled'); h2")
        self.assertOk(reply)
        update = of_type(msgs, "update_display_data")[0]["content"]
        self.assertEqual(update["transient"], {"display_id": "bj-empty"})
        self.assertEqual(update["data"]["text/plain"], "'filled'")
        # update without an id is an error, as in IPython
        reply, msgs = self.execute("display('x', update=True)")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "TypeError")

    def test_clear_output(self):
        reply, msgs = self.execute(
            "print('a')\nclear_output()\nprint('b')\nclear_output(wait=True)\n'c'"
        )
        self.assertOk(reply)
        got = [
            (m["msg_type"], m["content"].get("wait", m["content"].get("text")))
            for m in outputs(msgs)
        ]
        self.assertEqual(
            got[:4],
            [("stream", "a\n"), ("clear_output", False), ("stream", "b\n"), ("clear_output", True)],
            got,
        )
        self.assertEqual(got[4][0], "execute_result")

    def test_ipython_display_protocol(self):
        # objects that publish themselves (ipywidgets 7 style): no execute_result of their own
        code = (
            "class Self:\n"
            "    def _ipython_display_(self):\n"
            "        display({'text/html': '<p>self</p>', 'text/plain': 'self'}, raw=True)\n"
            "Self()"
        )
        reply, msgs = self.execute(code)
        self.assertOk(reply)
        self.assertEqual([m["msg_type"] for m in outputs(msgs)], ["display_data"])
        self.assertEqual(
            of_type(msgs, "display_data")[0]["content"]["data"]["text/html"], "<p>self</p>"
        )

    # -- IPython.display ------------------------------------------------------

    def test_ipython_display_is_routed(self):
        reply, msgs = self.execute(
            "import IPython.display as ipd\n"
            "from IPython.display import display as ipdisplay, HTML, Markdown, Image, JSON\n"
            "png = bytes.fromhex('89504e470d0a1a0a0000000d4948445200000001000000010806000000'\n"
            "                    '1f15c4890000000d49444154789c6360000000000500010d0a2db40000'\n"
            "                    '000049454e44ae426082')\n"
            "ipdisplay(HTML('<b>h</b>'))\n"
            "ipd.display(Markdown('*m*'), Image(data=png, format='png'))\n"
            "JSON({'j': 1})\n"
        )
        self.assertOk(reply)
        shown = of_type(msgs, "display_data")
        self.assertEqual(len(shown), 3, [m["msg_type"] for m in msgs])
        self.assertEqual(shown[0]["content"]["data"]["text/html"], "<b>h</b>")
        self.assertEqual(shown[1]["content"]["data"]["text/markdown"], "*m*")
        self.assertEqual(png_size(shown[2]["content"]["data"]["image/png"]), (1, 1))
        result = of_type(msgs, "execute_result")[0]["content"]
        self.assertEqual(result["data"]["application/json"], {"j": 1})
        self.assertEqual(
            result["metadata"], {"application/json": {"expanded": False, "root": "root"}}
        )
        self.assertEqual(stream_text(msgs), "", "IPython printed the repr instead of publishing")

    def test_ipython_updates_and_clear(self):
        reply, msgs = self.execute(
            "from IPython.display import display, update_display, clear_output, DisplayHandle\n"
            "from IPython.core import display_functions\n"
            "h = display('one', display_id='bj-ip')\n"
            "update_display('two', display_id='bj-ip')\n"
            "DisplayHandle('bj-ip').update('three')\n"
            "display_functions.publish_display_data({'text/plain': 'pub'})\n"
            "clear_output(wait=True)\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "InteractiveShell.initialized()"
        )
        self.assertOk(reply)
        got = [
            (
                m["msg_type"],
                m["content"].get("data", {}).get("text/plain"),
                m["content"].get("transient", {}).get("display_id"),
            )
            for m in outputs(msgs)
        ]
        self.assertEqual(
            got,
            [
                ("display_data", "'one'", "bj-ip"),
                ("update_display_data", "'two'", "bj-ip"),
                ("update_display_data", "'three'", "bj-ip"),
                ("display_data", "pub", None),
                ("clear_output", None, None),
                ("execute_result", "False", None),  # no IPython shell was started
            ],
        )

    # -- matplotlib -----------------------------------------------------------

    def test_matplotlib_inline(self):
        reply, msgs = self.execute(
            "import warnings\nwarnings.simplefilter('error')\n"  # plt.show() must not warn
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots()\n"
            "ax.plot([1, 3, 2])\n"
            "print('drawn')"
        )
        self.assertOk(reply)
        types = [m["msg_type"] for m in outputs(msgs)]
        self.assertEqual(types, ["stream", "display_data"], types)
        data = of_type(msgs, "display_data")[0]["content"]["data"]
        self.assertEqual(data["text/plain"], "<Figure size 640x480 with 1 Axes>")
        width, height = png_size(data["image/png"])
        self.assertTrue(300 < width < 700 and 200 < height < 500, (width, height))
        self.assertEqual(stream_text(msgs, "stderr"), "")

        # figures are closed once shown; plt.show() shows at once, without blocking or warning
        t0 = time.monotonic()
        reply, msgs = self.execute(
            "shown_before = plt.get_fignums()\n"
            "plt.figure(); plt.plot([1, 2])\n"
            "plt.show()\n"
            "print('after show', plt.get_fignums())\n"
            "plt.figure(); plt.plot([2, 1])\n"
            "plt.figure(); plt.plot([3, 3])\n"
            "shown_before"
        )
        self.assertOk(reply)
        self.assertLess(time.monotonic() - t0, 5 * bjtest.TIME_SCALE)
        got = [
            (
                m["msg_type"],
                m["content"].get("text") or m["content"].get("data", {}).get("text/plain"),
            )
            for m in outputs(msgs)
        ]
        self.assertEqual(
            got,
            [
                ("display_data", "<Figure size 640x480 with 1 Axes>"),
                ("stream", "after show []\n"),
                ("execute_result", "[]"),
                ("display_data", "<Figure size 640x480 with 1 Axes>"),
                ("display_data", "<Figure size 640x480 with 1 Axes>"),
            ],
        )
        self.assertEqual(stream_text(msgs, "stderr"), "")
        reply, msgs = self.execute("import matplotlib\nmatplotlib.get_backend(), plt.get_fignums()")
        self.assertEqual(
            of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"],
            "('module://_bpy_jupyter_matplotlib', [])",
        )

    def test_matplotlib_figure_as_result(self):
        # shown once, as the result (ipykernel shows it a second time when the cell ends)
        reply, msgs = self.execute(
            "import matplotlib.pyplot as plt\n"
            "fig = plt.figure(figsize=(2, 1)); fig.add_subplot().plot([1])\n"
            "fig"
        )
        self.assertOk(reply)
        self.assertEqual([m["msg_type"] for m in outputs(msgs)], ["execute_result"])
        data = of_type(msgs, "execute_result")[0]["content"]["data"]
        self.assertEqual(data["text/plain"], "<Figure size 200x100 with 1 Axes>")
        png_size(data["image/png"])
        # an empty figure has no image, only its text (as in IPython)
        reply, msgs = self.execute("plt.figure()\nNone")
        self.assertEqual(
            [(m["msg_type"], m["content"]["data"]) for m in outputs(msgs)],
            [("display_data", {"text/plain": "<Figure size 640x480 with 0 Axes>"})],
        )
        # fig.show() publishes at once too
        reply, msgs = self.execute(
            "f = plt.figure(); f.add_subplot().plot([1]); f.show(); print('x')"
        )
        self.assertEqual([m["msg_type"] for m in outputs(msgs)], ["display_data", "stream"])

    # -- silent ---------------------------------------------------------------

    def test_silent_publishes_nothing(self):
        code = (
            "import sys\n"
            "print('bj-silent-out')\n"
            "print('bj-silent-err', file=sys.stderr)\n"
            "sys.stdout.write('more'); sys.stdout.flush()\n"
            "display('bj-silent-display')\n"
            "clear_output()\n"
            "import matplotlib.pyplot as plt; plt.plot([1]); plt.show()\n"
            "42"
        )
        for c in (code, code + "\n1/0"):
            # stop_on_error=False: the C kernel aborts what is queued after an error even
            # for a silent request, racing with the next cell sent after the reply
            reply, msgs = self.execute(c, silent=True, stop_on_error=False)
            self.assertEqual(reply["content"]["status"], "ok" if c == code else "error")
            self.assertEqual(
                [m["msg_type"] for m in msgs],
                ["status", "status"],
                [(m["msg_type"], m["content"]) for m in msgs],
            )
        # the streams are back to normal for the next cell
        reply, msgs = self.execute("print('loud')")
        self.assertOk(reply)
        self.assertEqual(stream_text(msgs), "loud\n")
        # and the silent prints did not leak to the host either
        self.assertNotIn("bj-silent", self.kernel.stderr_text())

    # -- threads --------------------------------------------------------------

    def test_thread_output_during_cell(self):
        reply, msgs = self.execute(
            "import threading\n"
            "t = threading.Thread(target=lambda: print('bj-in-thread'))\n"
            "t.start(); t.join()"
        )
        self.assertOk(reply)
        self.assertEqual(stream_text(msgs), "bj-in-thread\n")

    def test_thread_output_after_cell(self):
        msg_id = self.kc.execute(
            "import threading, time, sys\n"
            "def late():\n"
            "    time.sleep(0.3)\n"
            "    print('bj-late-out')\n"
            "    print('bj-late-err', file=sys.stderr)\n"
            "    display('bj-late-display')\n"
            "threading.Thread(target=late).start()"
        )
        reply = get_reply(self.kc.shell_channel, msg_id)
        self.assertOk(reply)
        bjtest.collect_iopub(self.kc, msg_id)  # the cell is over: idle
        late = []
        deadline = time.monotonic() + bjtest.TIMEOUT
        while len(late) < 3 and time.monotonic() < deadline:
            try:
                m = bjtest.get_msg(self.kc.iopub_channel, timeout=0.1)
            except Empty:
                continue
            late.append(m)
        for m in late:
            self.assertEqual(
                parent_id(m), msg_id, "late output not parented to the cell that started it"
            )
        self.assertEqual(stream_text(late, "stdout"), "bj-late-out\n")
        self.assertEqual(stream_text(late, "stderr"), "bj-late-err\n")
        self.assertEqual(
            [m["content"]["data"]["text/plain"] for m in of_type(late, "display_data")],
            ["'bj-late-display'"],
        )

    def test_host_prints_between_cells_stay_on_host(self):
        # Outside a cell, main-thread output is the host's (Blender's console): here
        # an object's __repr__ run by an inspect_request writes to sys.stderr.
        self.assertOk(
            self.execute(
                "import sys\n"
                "class Loud:\n"
                "    def __repr__(self):\n"
                "        sys.stderr.write('bj-host-marker\\n'); sys.stderr.flush()\n"
                "        return 'Loud()'\n"
                "loud = Loud()"
            )[0]
        )
        msg_id = self.kc.inspect("loud", 4)
        reply = get_reply(self.kc.shell_channel, msg_id)
        self.assertTrue(reply["content"]["found"])
        msgs = bjtest.collect_iopub(self.kc, msg_id)
        self.assertEqual(of_type(msgs, "stream"), [])
        deadline = time.monotonic() + bjtest.TIMEOUT
        while "bj-host-marker" not in self.kernel.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("bj-host-marker", self.kernel.stderr_text())
        # in a cell, the same write goes to the frontend
        reply, msgs = self.execute("repr(loud)")
        self.assertEqual(stream_text(msgs, "stderr"), "bj-host-marker\n")


if __name__ == "__main__":
    bjtest.main()
