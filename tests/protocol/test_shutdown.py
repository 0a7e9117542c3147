#!/usr/bin/python3
"""shutdown_request: the reply, then the kernel process exits by itself with 0."""

import sys
import time
import unittest

import bjtest
from bjtest import SHUTDOWN_TIMEOUT, get_reply


class TestShutdown(unittest.TestCase):
    def setUp(self):
        self.kernel = bjtest.Kernel()
        self.kc = self.kernel.kc
        self.km = self.kernel.km

    def tearDown(self):
        # the process has normally exited already; this only releases resources
        if self.kernel is not None:
            self.kernel.shutdown(already_requested=True)

    def _check_ran_and_exits(self, msg_id, channel, restart):
        t0 = time.monotonic()
        reply = get_reply(channel, msg_id, timeout=5 * bjtest.TIME_SCALE)
        self.assertEqual(reply["msg_type"], "shutdown_reply")
        self.assertEqual(reply["content"].get("status"), "ok", reply["content"])
        self.assertIs(reply["content"]["restart"], restart)
        rc = self.kernel.wait_exit(SHUTDOWN_TIMEOUT)
        self.assertIsNotNone(
            rc, "kernel still running %.1fs after shutdown_request" % SHUTDOWN_TIMEOUT
        )
        self.assertEqual(rc, 0, "kernel exit code")
        self.assertFalse(self.km.is_alive())
        sys.stderr.write("[info] reply + exit after %.0f ms\n" % ((time.monotonic() - t0) * 1000))

    def test_shutdown_control(self):
        # a normal cell first: shutdown must work after real work too
        reply, _ = bjtest.execute(self.kc, "x = 1")
        self.assertEqual(reply["content"]["status"], "ok")
        msg_id = self.kc.shutdown(restart=False)  # sent on the control channel
        self._check_ran_and_exits(msg_id, self.kc.control_channel, False)

    def test_shutdown_restart_true(self):
        msg_id = self.kc.shutdown(restart=True)
        self._check_ran_and_exits(msg_id, self.kc.control_channel, True)

    def test_shutdown_on_shell(self):
        # deprecated but still part of protocol 5.x
        msg_id = self.kernel.send_shutdown(restart=False, channel="shell")
        self._check_ran_and_exits(msg_id, self.kc.shell_channel, False)

    def test_manager_shutdown(self):
        # the usual client path: KernelManager.shutdown_kernel() (interrupt +
        # shutdown_request on control, then waits; it would escalate to SIGTERM
        # after shutdown_wait_time/2, so the exit must come before that)
        popen = self.kernel.popen
        self.kc.stop_channels()
        t0 = time.monotonic()
        self.km.shutdown_kernel(now=False)
        dt = time.monotonic() - t0
        self.assertEqual(popen.poll(), 0, "kernel exit code after km.shutdown_kernel()")
        self.assertLess(dt, self.km.shutdown_wait_time / 2, "kernel needed a signal to exit")
        sys.stderr.write("[info] km.shutdown_kernel() took %.0f ms\n" % (dt * 1000))


if __name__ == "__main__":
    bjtest.main()
