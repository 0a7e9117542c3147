#!/usr/bin/python3
"""The control channel and the heartbeat stay responsive while a cell runs;
interrupt_request stops a running cell with KeyboardInterrupt."""

import sys
import time

import bjtest
from bjtest import control_request, get_reply, of_type, parent_id

S = bjtest.TIME_SCALE


class TestControlWhileBusy(bjtest.KernelTestCase):
    def start_cell(self, code):
        """Send code and wait until the kernel has started running it."""
        msg_id = self.kc.execute(code)
        t0 = time.monotonic()
        pre = []
        while True:
            if time.monotonic() - t0 > bjtest.TIMEOUT:
                self.fail("cell did not start: %r" % [m["msg_type"] for m in pre])
            try:
                m = bjtest.get_msg(self.kc.iopub_channel, timeout=0.1)
            except Exception:
                continue
            if parent_id(m) != msg_id:
                continue
            pre.append(m)
            if m["msg_type"] == "execute_input":
                self.addCleanup(self._ensure_finished, msg_id)
                return msg_id, pre

    def _ensure_finished(self, msg_id):
        """After a failed test, stop the cell so the next test gets a usable kernel."""
        if msg_id in self._finished:
            return
        try:
            self.km.interrupt_kernel()
            get_reply(self.kc.shell_channel, msg_id, timeout=5 * S)
        except Exception:
            pass
        bjtest.flush_iopub(self.kc)

    def setUp(self):
        super().setUp()
        self._finished = set()

    def finish_cell(self, msg_id, pre, timeout=bjtest.TIMEOUT):
        reply = get_reply(self.kc.shell_channel, msg_id, timeout=timeout)
        self._finished.add(msg_id)
        msgs = pre + bjtest.collect_iopub(self.kc, msg_id)
        return reply, msgs

    def assertNextCellWorks(self):
        r, msgs = self.execute("'still' + ' alive'")
        self.assertOk(r)
        self.assertEqual(
            of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "'still alive'"
        )

    def test_control_kernel_info_while_busy(self):
        msg_id, pre = self.start_cell("import time\ntime.sleep(%g)" % (3 * S))
        time.sleep(0.2)
        t0 = time.monotonic()
        cid = control_request(self.kc, "kernel_info_request")
        reply = get_reply(self.kc.control_channel, cid, timeout=5 * S)
        dt = time.monotonic() - t0
        self.assertEqual(reply["msg_type"], "kernel_info_reply")
        self.assertEqual(reply["content"]["language_info"]["name"], "python")
        self.assertLess(dt, 1.0 * S, "control kernel_info_reply took %.3fs while busy" % dt)
        # heartbeat: raw echo and the client's view
        for _ in range(3):
            t1 = time.monotonic()
            self.assertTrue(bjtest.heartbeat_ping(self.kernel), "no heartbeat while busy")
            hb = time.monotonic() - t1
        self.assertTrue(self.kc.hb_channel.is_beating(), "hb channel not beating while busy")
        # we really measured while the cell was running
        self.assertFalse(bjtest.msg_ready(self.kc.shell_channel), "cell already finished")
        reply, msgs = self.finish_cell(msg_id, pre)
        self.assertOk(reply)
        sys.stderr.write(
            "[info] control kernel_info while busy: %.1f ms, heartbeat %.1f ms\n"
            % (dt * 1000, hb * 1000)
        )
        self.assertNextCellWorks()

    def _interrupt(self, code, how):
        msg_id, pre = self.start_cell(code)
        time.sleep(0.3)
        t0 = time.monotonic()
        if how == "control":
            iid = control_request(self.kc, "interrupt_request")
            ireply = get_reply(self.kc.control_channel, iid, timeout=5 * S)
            self.assertEqual(ireply["msg_type"], "interrupt_reply")
            # protocol 5.x: {"status": "ok"}; ipykernel 6 sends {} (tolerated)
            self.assertEqual(ireply["content"].get("status", "ok"), "ok", ireply["content"])
        else:
            self.km.interrupt_kernel()  # kernelspec interrupt_mode "message"
        reply, msgs = self.finish_cell(msg_id, pre, timeout=5 * S)
        dt = time.monotonic() - t0
        self.assertLess(dt, 5.0 * S)
        self.assertEqual(reply["content"]["status"], "error", reply["content"])
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        errors = of_type(msgs, "error")
        self.assertEqual(len(errors), 1, [m["msg_type"] for m in msgs])
        self.assertEqual(errors[0]["content"]["ename"], "KeyboardInterrupt")
        self.assertEqual(msgs[-1]["content"]["execution_state"], "idle")
        sys.stderr.write(
            "[info] %s interrupt (%s): cell ended after %.0f ms\n"
            % (how, code.splitlines()[-1], dt * 1000)
        )
        self.assertTrue(bjtest.heartbeat_ping(self.kernel))
        self.assertNextCellWorks()

    def test_interrupt_sleep_via_control(self):
        self._interrupt("import time\ntime.sleep(30)", "control")

    def test_interrupt_loop_via_control(self):
        self._interrupt("while True:\n    pass", "control")

    def test_interrupt_sleep_via_manager(self):
        self._interrupt("import time\ntime.sleep(30)", "manager")


if __name__ == "__main__":
    bjtest.main()
