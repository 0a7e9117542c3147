"""The _bpy_jupyter extension module (what the Blender add-on uses) on D-Bus:
export_dbus() in a host that pumps iterate(), Start/Stop dispatched by that pump,
Interrupt and properties answered while a cell holds the host, HostDocument
updates, repeated export/unexport without leaks, SIGTERM."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protocol")
)
import bjdbus  # noqa: E402  (re-runs this script on a private bus)
import bjblocking  # noqa: E402

HOST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "module_host.py")
MODULE_DIR = bjdbus.env_path("BJ_MODULE_DIR")


class ModuleExport(unittest.TestCase):
    def setUp(self):
        self.host = bjdbus.Service(
            [sys.executable, HOST, "/tmp/scene.blend"], env={"BJ_MODULE_DIR": MODULE_DIR}
        )
        self.name = self.host.name
        self.watcher = bjdbus.PropertiesWatcher(self.host.unique_name)

    def tearDown(self):
        self.watcher.close()
        rc = self.host.terminate()
        self.assertEqual(rc, 0, self.host.stderr_text())
        self.assertIsNone(bjdbus.name_owner(self.name))

    def test_module_host(self):
        props = bjdbus.get_all(self.name)
        self.assertEqual(props["Host"], "TestHost 1.0")
        self.assertEqual(props["HostDocument"], "/tmp/scene.blend")
        self.assertEqual(props["Pid"], self.host.pid)
        self.assertEqual(props["State"], "stopped")
        self.assertEqual(bjdbus.name_owner(bjdbus.NAME), self.host.unique_name)

        # Start runs on the host's pump (stopped and exported: ~50 ms ticks).
        t0 = time.monotonic()
        path = bjdbus.start(self.name)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertTrue(os.path.isfile(path))
        reply, out = bjdbus.execute(path, "print(kernel.dbus_name, states)")
        self.assertEqual(reply["status"], "ok", reply)
        self.assertIn(self.name, out)
        self.assertIn("'starting', 'idle', 'busy'", out)  # the host's own callback saw them

        # The host updates its document (the add-on: on file load).
        reply, _ = bjdbus.execute(path, "kernel.set_host_document('/tmp/other scene.blend')")
        self.assertEqual(reply["status"], "ok", reply)

        def announced():
            self.watcher.pump()
            return any(
                c.get("HostDocument") == "/tmp/other scene.blend" for _, c in self.watcher.changes
            )

        bjdbus.wait_for(announced, 5, what="HostDocument in PropertiesChanged")
        self.assertEqual(bjdbus.get(self.name, "HostDocument"), "/tmp/other scene.blend")
        reply, out = bjdbus.execute(
            path, "kernel.set_host_document(None); print(repr(kernel.host_document))"
        )
        self.assertIn("''", out)
        self.assertEqual(bjdbus.get(self.name, "HostDocument"), "")

        # A cell holds the host's only thread: properties and Interrupt still answer.
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=10)
            msg_id = kc.execute("n = 0\nwhile True:\n    n += 1\n")
            bjdbus.wait_for(lambda: bjdbus.get(self.name, "State") == "busy", 10, what="busy")
            t0 = time.monotonic()
            self.assertEqual(bjdbus.get_all(self.name, timeout_ms=2000)["State"], "busy")
            bjdbus.interrupt(self.name)
            reply = kc.get_shell_msg(timeout=10)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=10)
            self.assertLess(time.monotonic() - t0, 5.0)
            self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")

            # Stop while a cell runs interrupts it (here through Python's pending
            # calls, the host owning SIGINT) and stops the kernel once it returned.
            msg_id = kc.execute("n = 0\nwhile True:\n    n += 1\n")
            bjdbus.wait_for(lambda: bjdbus.get(self.name, "State") == "busy", 10, what="busy")
            t0 = time.monotonic()
            bjdbus.stop(self.name)
            self.assertLess(time.monotonic() - t0, 5.0)
            self.assertEqual(bjdbus.get(self.name, "State"), "stopped")
            reply = kc.get_shell_msg(timeout=10)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=10)
            self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        finally:
            kc.stop_channels()
            try:
                bjdbus.interrupt(self.name)
            except bjdbus.DBusError:
                pass

        self.assertFalse(os.path.exists(path))
        self.watcher.wait_states(["stopping", "stopped"])

    def wait_reply(self, kc, msg_id, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def test_cell_blocked_in_a_system_call(self):
        # A cell blocked in a system call (each of tests/protocol/bjblocking.py's
        # seven) runs no bytecode, so a pending call never reaches it: Interrupt,
        # D-Bus Stop and a client's shutdown_request must still end it, quickly, in
        # a host that owns SIGINT (as Blender does).
        from jupyter_client import BlockingKernelClient

        for blocking in bjblocking.CELLS:
            for how in ("Interrupt", "Stop", "shutdown_request"):
                with self.subTest(how=how, call=blocking.name):
                    path = bjdbus.start(self.name)
                    kc = BlockingKernelClient(connection_file=path)
                    kc.load_connection_file()
                    kc.start_channels()
                    try:
                        kc.wait_for_ready(timeout=10)
                        stopped = lambda: bjdbus.get(self.name, "State") == "stopped"  # noqa: E731
                        if how == "Interrupt":
                            bjblocking.check_interrupt(
                                self, kc, blocking, lambda: bjdbus.interrupt(self.name)
                            )
                            # The host's own SIGINT handling is what it was.
                            reply, out = bjdbus.execute(
                                path, "import signal\nprint(signal.getsignal(signal.SIGINT))"
                            )
                            self.assertEqual(reply["status"], "ok", reply)
                            self.assertIn("default_int_handler", out)
                            bjdbus.stop(self.name)
                        elif how == "Stop":
                            bjblocking.check_stop(
                                self, kc, blocking, lambda: bjdbus.stop(self.name), stopped
                            )
                        else:
                            bjblocking.check_stop(self, kc, blocking, kc.shutdown, stopped)
                        bjdbus.wait_for(stopped, 5, what="stopped")
                    finally:
                        kc.stop_channels()
                    self.assertFalse(os.path.exists(path))

    def test_export_unexport_cycles(self):
        path = bjdbus.start(self.name)
        # Off the bus and back, from a cell, 20 times: the names come back, and the
        # host keeps no fd or thread per export.
        # (A closed connection's socket is released by GDBus's worker a moment later.)
        code = (
            "import os, time\n"
            "def counts():\n"
            "    time.sleep(0.3)\n"
            "    return len(os.listdir('/proc/self/fd')), len(os.listdir('/proc/self/task'))\n"
            "kernel.unexport_dbus(); kernel.export_dbus('TestHost 1.0')\n"
            "before = counts()\n"
            "for i in range(20):\n"
            "    kernel.unexport_dbus()\n"
            "    assert kernel.dbus_name is None\n"
            "    kernel.export_dbus('TestHost 1.0', document='/tmp/d%d.blend' % i)\n"
            "print(before, counts())\n"
        )
        reply, out = bjdbus.execute(path, code)
        self.assertEqual(reply["status"], "ok", reply)
        before, after = out.strip().split(") (")
        self.assertEqual(before + ")", "(" + after, out)
        self.assertEqual(bjdbus.get(self.name, "HostDocument"), "/tmp/d19.blend")
        self.assertEqual(bjdbus.get(self.name, "State"), "idle")
        # The new export has the shared name again, and controls the kernel.
        self.assertEqual(bjdbus.name_owner(bjdbus.NAME), bjdbus.name_owner(self.name))
        bjdbus.stop()
        self.assertFalse(os.path.exists(path))


if __name__ == "__main__":
    unittest.main(verbosity=2)
