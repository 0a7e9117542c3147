"""BjKernel restarted in-process: start → stop → start, same ports, same key.

Drives bj-restart-host (an application hosting a kernel with BjKernel's default
shutdown handling) with jupyter_client.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

from jupyter_client import BlockingKernelClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bjwidgets import INSTANCES, frontend_made_text, frontend_sets, model_name  # noqa: E402

HOST = os.environ.get("BJ_RESTART_HOST")
TIMEOUT = 10 * float(os.environ.get("BJ_TIME_SCALE") or 1)
# What the host is run under, e.g. valgrind (see tests/bjkernelspec.py).
WRAPPER = json.loads(os.environ.get("BJ_KERNEL_WRAPPER") or "[]")


def wait_for(predicate, timeout=TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def execute(kc, code):
    """Runs code, returns (reply content, execute_result text or None)."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    # A slow kernel (valgrind) answers more than one of wait_for_ready()'s probes.
    while reply["parent_header"].get("msg_id") != msg_id:
        assert reply["msg_type"] == "kernel_info_reply", reply["msg_type"]
        reply = kc.get_shell_msg(timeout=TIMEOUT)
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]["data"]["text/plain"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return reply["content"], result


class InProcessRestart(unittest.TestCase):
    def setUp(self):
        self.assertTrue(
            HOST and os.access(HOST, os.X_OK), "BJ_RESTART_HOST must name the built host"
        )
        self.tmp = tempfile.TemporaryDirectory()
        self.connection_file = os.path.join(self.tmp.name, "kernel.json")
        self.log = open(os.path.join(self.tmp.name, "host.log"), "w+")
        self.host = subprocess.Popen(WRAPPER + [HOST, self.connection_file], stderr=self.log)
        wait_for(lambda: os.path.exists(self.connection_file), what="the connection file")
        self.kc = BlockingKernelClient(connection_file=self.connection_file)
        self.kc.load_connection_file()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)

    def tearDown(self):
        self.kc.stop_channels()
        if self.host.poll() is None:
            self.host.kill()
            self.host.wait()
        self.log.close()
        self.tmp.cleanup()

    def host_log(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def test_restart_keeps_ports_key_and_namespace(self):
        with open(self.connection_file) as f:
            before = json.load(f)
        content, _ = execute(self.kc, "x = 41")
        self.assertEqual(content["status"], "ok")

        msg = self.kc.session.msg("shutdown_request", {"restart": True})
        self.kc.control_channel.send(msg)
        reply = self.kc.get_control_msg(timeout=TIMEOUT)
        self.assertEqual(reply["msg_type"], "shutdown_reply")
        self.assertEqual(reply["content"]["restart"], True)

        wait_for(lambda: "start 2" in self.host_log(), what="the second start")
        self.assertIsNone(self.host.poll(), "the host must survive a restart")
        self.kc.wait_for_ready(timeout=TIMEOUT)
        with open(self.connection_file) as f:
            self.assertEqual(json.load(f), before, "same ports and key after restart")

        content, result = execute(self.kc, "x + 1")
        self.assertEqual(content["status"], "ok")
        self.assertEqual(result, "42")

        # A plain shutdown stops the kernel: the host exits, the file it wrote is gone.
        self.kc.shutdown()
        self.assertEqual(self.host.wait(timeout=TIMEOUT), 0)
        self.assertFalse(os.path.exists(self.connection_file))
        self.assertEqual(self.host_log().count("bj-restart-host: start "), 2, self.host_log())

    def iopub_until_idle(self, msg_id):
        msgs = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            msgs.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return msgs

    def test_widgets_keep_working_after_restart(self):
        # ipywidgets binds its comm class once, at import: widgets made after
        # an in-process restart must reach the new kernel, both ways.
        content, _ = execute(self.kc, "import ipywidgets as w\nbefore = w.IntSlider()")
        self.assertEqual(content["status"], "ok")
        self.kc.control_channel.send(self.kc.session.msg("shutdown_request", {"restart": True}))
        self.assertEqual(self.kc.get_control_msg(timeout=TIMEOUT)["msg_type"], "shutdown_reply")
        wait_for(lambda: "start 2" in self.host_log(), what="the second start")
        self.kc.wait_for_ready(timeout=TIMEOUT)

        msg_id = self.kc.execute("after = w.IntSlider(value=5)")
        opened = [
            m
            for m in self.iopub_until_idle(msg_id)
            if m["msg_type"] == "comm_open"
            and model_name(m["content"]["data"], None)[0] == "IntSliderModel"
        ]
        self.assertEqual(self.kc.get_shell_msg(timeout=TIMEOUT)["content"]["status"], "ok")
        self.assertEqual(len(opened), 1)
        comm_id = opened[0]["content"]["comm_id"]

        update = self.kc.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": frontend_sets({"value": 6})}
        )
        self.kc.shell_channel.send(update)
        self.iopub_until_idle(update["header"]["msg_id"])
        content, result = execute(self.kc, "after.value")
        self.assertEqual(result, "6")

        # A widget the frontend creates: the widget target is registered again.
        data, metadata = frontend_made_text()
        made = self.kc.session.msg(
            "comm_open",
            {"comm_id": "made", "target_name": "jupyter.widget", "data": data},
            metadata=metadata,
        )
        self.kc.shell_channel.send(made)
        closed = [
            m
            for m in self.iopub_until_idle(made["header"]["msg_id"])
            if m["msg_type"] == "comm_close"
        ]
        self.assertEqual(closed, [], "the widget target refused the frontend's widget")
        content, result = execute(self.kc, INSTANCES + "type(instances['made']).__name__")
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(result, "'Text'", "the widget targets are registered again")
        self.kc.shutdown()
        self.assertEqual(self.host.wait(timeout=TIMEOUT), 0)


if __name__ == "__main__":
    unittest.main()
