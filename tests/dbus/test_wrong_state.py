"""Calls in the wrong state get the documented org.bpyjupyter.Kernel.Error.* and
change nothing; a running cell does not block Interrupt or the properties; clients
that vanish mid-call hurt nothing."""

import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjdbus  # noqa: E402  (re-runs this script on a private bus)

from gi.repository import Gio  # noqa: E402


def documented_errors():
    """The error codes the interface XML documents."""
    with open(bjdbus.env_path("BJ_INTERFACE_XML")) as f:
        text = f.read()
    import re

    return set(re.findall(r"- `(\w+)`:", text))


class WrongState(unittest.TestCase):
    def setUp(self):
        self.service = bjdbus.Service()
        self.name = self.service.name

    def tearDown(self):
        rc = self.service.terminate()
        self.assertEqual(rc, 0, self.service.stderr_text())
        self.assertEqual(self.files(), [], "the host left its connection file")

    def files(self):
        """This host's connection files."""
        return sorted(f for f in os.listdir(bjdbus.RUNTIME_DIR) if "-%d-" % self.service.pid in f)

    def assert_error(self, code, call, *args):
        before = bjdbus.get_all(self.name)
        files = self.files()
        with self.assertRaises(bjdbus.DBusError) as caught:
            call(*args)
        self.assertEqual(caught.exception.name, bjdbus.ERROR_PREFIX + code, caught.exception)
        self.assertIn(code, documented_errors())
        # A readable message, not a code.
        self.assertRegex(caught.exception.message, r"^[A-Z][^ ]* [a-z]+ ")
        self.assertEqual(bjdbus.get_all(self.name), before, "a refused call changed the properties")
        self.assertEqual(self.files(), files, "a refused call changed the connection files")
        return caught.exception

    def test_stopped(self):
        error = self.assert_error("NotRunning", bjdbus.stop, self.name)
        self.assertIn("not running", error.message)
        self.assert_error("NotRunning", bjdbus.restart, self.name)
        self.assert_error("NotRunning", bjdbus.interrupt, self.name)
        self.assertEqual(bjdbus.get(self.name, "State"), "stopped")

    def test_idle(self):
        path = bjdbus.start(self.name)
        error = self.assert_error("AlreadyRunning", bjdbus.start, self.name)
        self.assertIn("already running", error.message)
        error = self.assert_error("NotBusy", bjdbus.interrupt, self.name)
        self.assertIn("No cell is running", error.message)
        # Still fully working.
        reply, out = bjdbus.execute(path, "print('fine')")
        self.assertEqual(reply["status"], "ok")
        self.assertIn("fine", out)
        bjdbus.stop(self.name)

    def test_busy(self):
        from jupyter_client import BlockingKernelClient

        path = bjdbus.start(self.name)
        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=10)
            msg_id = kc.execute("import time\nfor i in range(600): time.sleep(0.05)")
            bjdbus.wait_for(
                lambda: bjdbus.get(self.name, "State") == "busy", 10, what="the cell to start"
            )

            # The owner thread is in the cell; these are answered at once anyway.
            t0 = time.monotonic()
            props = bjdbus.get_all(self.name, timeout_ms=2000)
            self.assertEqual(props["State"], "busy")
            self.assert_error("AlreadyRunning", bjdbus.start, self.name)
            self.assert_error("Busy", bjdbus.restart, self.name)
            self.assertLess(time.monotonic() - t0, 2.0, "calls waited for the cell")

            # Interrupt reaches the cell.
            t0 = time.monotonic()
            bjdbus.interrupt(self.name)
            reply = kc.get_shell_msg(timeout=10)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=10)
            self.assertLess(time.monotonic() - t0, 5.0)
            self.assertEqual(reply["content"]["status"], "error")
            self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        finally:
            kc.stop_channels()
            # Whatever failed above, the cell must not outlive the test.
            try:
                bjdbus.interrupt(self.name)
            except bjdbus.DBusError:
                pass
        bjdbus.wait_for(lambda: bjdbus.get(self.name, "State") == "idle", 10, what="idle")
        self.assert_error("NotBusy", bjdbus.interrupt, self.name)
        bjdbus.stop(self.name)
        self.assertFalse(os.path.exists(path))

    def test_stop_while_a_cell_runs(self):
        # Stop interrupts the cell and returns once the kernel stopped; the cell's
        # client gets its KeyboardInterrupt reply first.
        from jupyter_client import BlockingKernelClient

        for code in ["import time\ntime.sleep(100)", "while True:\n    pass"]:
            path = bjdbus.start(self.name)
            kc = BlockingKernelClient(connection_file=path)
            kc.load_connection_file()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=10)
                msg_id = kc.execute(code)
                bjdbus.wait_for(
                    lambda: bjdbus.get(self.name, "State") == "busy", 10, what="the cell to start"
                )
                time.sleep(0.3)
                t0 = time.monotonic()
                bjdbus.stop(self.name)
                self.assertLess(time.monotonic() - t0, 5.0, "Stop waited for the cell")
                self.assertEqual(bjdbus.get(self.name, "State"), "stopped")
                self.assertFalse(os.path.exists(path))
                reply = kc.get_shell_msg(timeout=5)
                while reply["parent_header"].get("msg_id") != msg_id:
                    reply = kc.get_shell_msg(timeout=5)
                self.assertEqual(reply["content"]["status"], "error")
                self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
            finally:
                kc.stop_channels()
        # The namespace survived; the kernel starts and runs cells again.
        path = bjdbus.start(self.name)
        reply, out = bjdbus.execute(path, "print('after')")
        self.assertEqual(reply["status"], "ok")
        self.assertIn("after", out)
        bjdbus.stop(self.name)

    def test_stop_right_after_a_reply(self):
        # The reply leaves before the kernel is idle again: a Restart or Stop sent
        # on receiving it is no call "while a cell runs", and must succeed.
        from jupyter_client import BlockingKernelClient

        path = bjdbus.start(self.name)
        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=10)
            # (Shell replies only: after each restart iopub subscribers reconnect.)
            for i in range(10):
                msg_id = kc.execute("x = %d" % i)
                reply = kc.get_shell_msg(timeout=10)
                self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
                self.assertEqual(reply["content"]["status"], "ok")
                bjdbus.restart(self.name)
            msg_id = kc.execute("x")
            reply = kc.get_shell_msg(timeout=10)
            self.assertEqual(reply["content"]["status"], "ok")
        finally:
            kc.stop_channels()
        bjdbus.stop(self.name)

    def test_gdbus_client_killed_mid_call(self):
        # A gdbus call killed while the host handles it, again and again: the
        # kernel ends up started or not, consistently, and the host carries on.
        for i in range(20):
            names_before = set(bjdbus.list_names())
            proc = subprocess.Popen(
                [
                    "gdbus",
                    "call",
                    "--session",
                    "--dest",
                    self.name,
                    "--object-path",
                    bjdbus.PATH,
                    "--method",
                    "org.bpyjupyter.Kernel.Start",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.002 * (i % 10))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            # The bus orders nothing between two clients' connections: a Start the
            # killed client sent may reach the host after our next call. Once the bus
            # dropped the client's name it has read (and passed on) all it sent, and
            # our calls from then on reach the host after it.
            bjdbus.wait_for(
                lambda: set(bjdbus.list_names()) <= names_before,
                5,
                what="the bus to drop the killed client",
            )
            state = bjdbus.wait_for(lambda: self.settled_state(), 5, what="a settled state")
            time.sleep(0.1)
            self.assertEqual(self.settled_state(), state)
            if state == "idle":
                bjdbus.stop(self.name)
        self.assertTrue(self.service.alive())
        path = bjdbus.start(self.name)
        reply, out = bjdbus.execute(path, "print('alive')")
        self.assertIn("alive", out)
        bjdbus.stop(self.name)

    def settled_state(self):
        """stopped without a file, or idle with one; None in between."""
        state = bjdbus.get(self.name, "State")
        files = self.files()
        if (state, len(files)) in (("stopped", 0), ("idle", 1)):
            return state
        return None

    def test_raw_connection_closed_after_sending(self):
        address = Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None)
        for method in ["Start", "Stop", "Restart", "Start", "Interrupt", "Stop", "Stop"] * 5:
            connection = Gio.DBusConnection.new_for_address_sync(
                address,
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
                None,
                None,
            )
            message = Gio.DBusMessage.new_method_call(self.name, bjdbus.PATH, bjdbus.IFACE, method)
            connection.send_message(message, Gio.DBusSendMessageFlags.NONE)
            connection.flush_sync(None)
            connection.close_sync(None)
        # Calls from separate connections may be handled in any order: whatever the
        # outcome, the host is consistent, and a Stop of our own settles it.
        bjdbus.wait_for(lambda: self.settled_state(), 5, what="a settled state")
        time.sleep(0.3)
        try:
            bjdbus.stop(self.name)
        except bjdbus.DBusError as error:
            self.assertEqual(error.code, "NotRunning")
        self.assertEqual(self.settled_state(), "stopped")
        self.assertTrue(self.service.alive())
        path = bjdbus.start(self.name)
        reply, out = bjdbus.execute(path, "print('alive')")
        self.assertIn("alive", out)
        bjdbus.stop(self.name)

    def test_concurrent_clients(self):
        # Many clients at once: exactly one Start wins, the others get AlreadyRunning.
        results = []

        def worker():
            try:
                results.append(("ok", bjdbus.start(self.name)))
            except bjdbus.DBusError as error:
                results.append((error.code, error.message))

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [r for r in results if r[0] == "ok"]
        self.assertEqual(len(winners), 1, results)
        self.assertEqual(sorted(set(r[0] for r in results)), ["AlreadyRunning", "ok"], results)
        bjdbus.stop(self.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
