#!/usr/bin/python3
"""The PyGObject example host (introspection/examples/python-host.py) as a process
that clients reach with jupyter_client (suite 'gir')."""

import os
import signal
import subprocess
import unittest

import gitest

PYTHON_HOST = os.path.join(gitest.EXAMPLES, "python-host.py")


class PythonHostExampleTest(gitest.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.connection_file = os.path.join(self.tmp, "python-host.json")
        self.process = subprocess.Popen(
            [gitest.PYTHON, PYTHON_HOST, "-f", self.connection_file],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(self.reap)
        gitest.wait_for_file(self.connection_file, self.process)

    def reap(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=gitest.TIMEOUT)

    def wait_exit(self):
        try:
            code = self.process.wait(timeout=gitest.TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("the example host did not exit")
        return code, self.process.stderr.read()

    def test_cells_run_in_the_host(self):
        info, first, second, reply = gitest.run_client(
            self.connection_file,
            [
                {"op": "kernel_info"},
                {"op": "execute", "code": "import os, python_host\nprint(os.getpid())"},
                {"op": "execute", "code": "python_host.counter"},
                {"op": "shutdown", "restart": False},
            ],
        )
        self.assertEqual(info["language_info"]["name"], "python")
        # The cell ran in the host process, and sees the host's module state.
        self.assertEqual(gitest.stream_text(first["iopub"]).strip(), str(self.process.pid))
        (result,) = gitest.of_type(second["iopub"], "execute_result")
        self.assertEqual(result["data"]["text/plain"], "1")  # one cell had finished
        self.assertEqual(reply["status"], "ok")

        code, stderr = self.wait_exit()
        self.assertEqual(code, 0, stderr)
        # The host's state-changed handler logged the life cycle on its own stderr.
        lines = [line for line in stderr.splitlines() if line.startswith("kernel: ")]
        self.assertEqual(lines[:2], ["kernel: starting", "kernel: idle"], stderr)
        self.assertIn("kernel: busy", lines, stderr)
        self.assertEqual(lines[-2:], ["kernel: stopping", "kernel: stopped"], stderr)
        self.assertNotIn("CRITICAL", stderr)
        self.assertNotIn("Traceback", stderr)
        self.assertFalse(os.path.exists(self.connection_file))

    def test_sigterm_stops_cleanly(self):
        self.process.send_signal(signal.SIGTERM)
        code, stderr = self.wait_exit()
        self.assertEqual(code, 0, stderr)
        self.assertFalse(os.path.exists(self.connection_file))


if __name__ == "__main__":
    unittest.main(verbosity=2)
