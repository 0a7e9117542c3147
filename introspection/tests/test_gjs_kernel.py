#!/usr/bin/python3
"""The GJS example kernel (introspection/examples/js-kernel.js) through jupyter_client
(suite 'gir').

The executor is a JavaScript class implementing BpyJupyter.Executor through GObject
Introspection; the process is `gjs js-kernel.js -f FILE`, as a kernelspec runs it.
"""

import os
import shutil
import signal
import subprocess
import unittest

import gitest

GJS = shutil.which("gjs")
JS_KERNEL = os.path.join(gitest.EXAMPLES, "js-kernel.js")


class GjsKernelTest(gitest.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.assertIsNotNone(GJS, "gjs is not installed (apt-get install gjs)")
        self.connection_file = os.path.join(self.tmp, "js-kernel.json")
        self.process = subprocess.Popen(
            [GJS, JS_KERNEL, "-f", self.connection_file],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(self.reap)
        gitest.wait_for_file(self.connection_file, self.process)

    def reap(self):
        if self.process.poll() is None:
            self.process.kill()
        self.stdout, self.stderr = self.process.communicate(timeout=gitest.TIMEOUT)

    def wait_exit(self):
        try:
            code = self.process.wait(timeout=gitest.TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("the GJS kernel did not exit")
        stderr = self.process.stderr.read()
        return code, stderr

    def test_kernel_info_names_javascript(self):
        (info,) = gitest.run_client(self.connection_file, [{"op": "kernel_info"}])
        self.assertEqual(info["status"], "ok")
        self.assertEqual(info["language_info"]["name"], "javascript")
        self.assertEqual(info["language_info"]["file_extension"], ".js")
        self.assertIn("GJS", info["banner"])
        self.assertEqual(info["implementation"], "bpy-jupyter")

    def test_execute_result_and_stream(self):
        first, second, failing, completion, incomplete = gitest.run_client(
            self.connection_file,
            [
                {
                    "op": "execute",
                    "code": "print('hello', 'from', 'GJS'); var answer = 6 * 7; answer",
                },
                {"op": "execute", "code": "printerr('careful'); ({total: answer + 1})"},
                {"op": "execute", "code": "throw new TypeError('boom')"},
                {"op": "complete", "code": "Math.fl", "cursor_pos": 7},
                {"op": "is_complete", "code": "function f() {"},
            ],
        )

        self.assertEqual(first["reply"]["status"], "ok", first)
        self.assertEqual(first["reply"]["execution_count"], 1)
        kinds = [kind for kind, _ in first["iopub"]]
        self.assertEqual(
            kinds, ["status", "execute_input", "stream", "execute_result", "status"], kinds
        )
        self.assertEqual(gitest.stream_text(first["iopub"]), "hello from GJS\n")
        (result,) = gitest.of_type(first["iopub"], "execute_result")
        self.assertEqual(result["data"], {"text/plain": "42"})
        self.assertEqual(result["execution_count"], 1)

        # Globals persist between cells; printerr() is the stderr stream.
        self.assertEqual(gitest.stream_text(second["iopub"], "stderr"), "careful\n")
        (result,) = gitest.of_type(second["iopub"], "execute_result")
        self.assertEqual(result["data"]["text/plain"], '{\n  "total": 43\n}')

        self.assertEqual(failing["reply"]["status"], "error")
        self.assertEqual(failing["reply"]["ename"], "TypeError")
        self.assertEqual(failing["reply"]["evalue"], "boom")
        (error,) = gitest.of_type(failing["iopub"], "error")
        self.assertEqual(error["ename"], "TypeError")

        self.assertIn("floor", completion["matches"])
        self.assertEqual(completion["cursor_start"], 5)
        self.assertEqual(incomplete["status"], "incomplete")

    def test_out_parameter_of_a_javascript_vfunc(self):
        # handle_message returns its reply through an (out) parameter.
        (reply,) = gitest.run_client(
            self.connection_file,
            [
                {"op": "shell", "msg_type": "comm_info_request", "content": {}},
            ],
        )
        self.assertEqual(reply, {"status": "ok", "comms": {}})

    def test_shutdown_request_ends_the_process(self):
        (reply,) = gitest.run_client(self.connection_file, [{"op": "shutdown", "restart": False}])
        self.assertEqual(reply["status"], "ok")
        code, stderr = self.wait_exit()
        self.assertEqual(code, 0, stderr)
        self.assertNotIn("CRITICAL", stderr)
        self.assertNotIn("JS ERROR", stderr)
        # The kernel wrote the connection file, so it removed it.
        self.assertFalse(os.path.exists(self.connection_file))

    def test_sigterm_stops_cleanly(self):
        gitest.run_client(self.connection_file, [{"op": "execute", "code": "1"}])
        self.process.send_signal(signal.SIGTERM)
        code, stderr = self.wait_exit()
        self.assertEqual(code, 0, stderr)
        self.assertFalse(os.path.exists(self.connection_file))


if __name__ == "__main__":
    unittest.main(verbosity=2)
