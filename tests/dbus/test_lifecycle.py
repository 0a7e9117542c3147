"""Start, Stop and Restart over D-Bus: the README's gdbus lines, a cell through
jupyter_client, and 200 Start/Stop cycles without leaked fds or threads."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjdbus  # noqa: E402  (re-runs this script on a private bus)

GDBUS_TARGET = ["--session", "--dest", bjdbus.NAME, "--object-path", bjdbus.PATH]
CYCLES = int(os.environ.get("BJ_DBUS_CYCLES") or 200)


def gdbus_call(method):
    return bjdbus.gdbus("call", *GDBUS_TARGET, "--method", "org.bpyjupyter.Kernel." + method)


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.service = bjdbus.Service()

    def tearDown(self):
        rc = self.service.terminate()
        self.assertEqual(rc, 0, self.service.stderr_text())

    def test_gdbus_start_execute_stop_start(self):
        props = bjdbus.get_all(bjdbus.NAME)
        self.assertEqual(props["State"], "stopped")
        self.assertEqual(props["ConnectionFile"], "")
        self.assertEqual(props["ConnectionInfo"], {})
        self.assertEqual(props["Pid"], self.service.pid)
        self.assertEqual(props["Host"], "bpy-jupyter-kernel " + props["Version"])
        self.assertEqual(props["HostDocument"], "")

        # The README's line, verbatim.
        result = gdbus_call("Start")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout.strip(), r"^\('(/.+\.json)',\)$")
        path = result.stdout.strip()[2:-3]
        self.assertTrue(os.path.isfile(path), path)
        self.assertEqual(os.path.dirname(path), bjdbus.RUNTIME_DIR)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)

        props = bjdbus.get_all(bjdbus.NAME)
        self.assertEqual(props["State"], "idle")
        self.assertEqual(props["ConnectionFile"], path)
        info = props["ConnectionInfo"]
        self.assertEqual(
            sorted(info),
            sorted(
                [
                    "ip",
                    "transport",
                    "shell_port",
                    "iopub_port",
                    "stdin_port",
                    "control_port",
                    "hb_port",
                    "signature_scheme",
                ]
            ),
        )
        self.assertNotIn("key", info)
        import json

        with open(path) as f:
            on_disk = json.load(f)
        for key in info:
            self.assertEqual(info[key], on_disk[key], key)
        self.assertNotIn(on_disk["key"], repr(props))

        reply, out = bjdbus.execute(path, "print('hello from d-bus')\n6 * 7")
        self.assertEqual(reply["status"], "ok", reply)
        self.assertIn("hello from d-bus", out)
        self.assertIn("42", out)
        self.assertEqual(bjdbus.get(bjdbus.NAME, "ExecutionCount"), reply["execution_count"])

        result = gdbus_call("Stop")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "()")
        self.assertFalse(os.path.exists(path), "Stop left the connection file")
        props = bjdbus.get_all(bjdbus.NAME)
        self.assertEqual(props["State"], "stopped")
        self.assertEqual(props["ConnectionFile"], "")
        self.assertEqual(props["ConnectionInfo"], {})

        # Start again: the namespace survived the stop.
        path2 = bjdbus.start()
        self.assertTrue(os.path.isfile(path2))
        reply, out = bjdbus.execute(path2, "print('again')")
        self.assertEqual(reply["status"], "ok", reply)
        self.assertIn("again", out)
        bjdbus.stop()
        self.assertFalse(os.path.exists(path2))

    def test_restart_keeps_connection(self):
        path = bjdbus.start()
        before = bjdbus.get_all(bjdbus.NAME)
        reply, _ = bjdbus.execute(path, "kept = 'still here'")
        self.assertEqual(reply["status"], "ok", reply)
        result = gdbus_call("Restart")
        self.assertEqual(result.returncode, 0, result.stderr)
        after = bjdbus.get_all(bjdbus.NAME)
        self.assertEqual(after["State"], "idle")
        self.assertEqual(after["ConnectionFile"], before["ConnectionFile"])
        self.assertEqual(after["ConnectionInfo"], before["ConnectionInfo"])
        reply, out = bjdbus.execute(path, "print(kept)")
        self.assertEqual(reply["status"], "ok", reply)
        self.assertIn("still here", out)
        bjdbus.stop(self.service.name)

    def test_start_stop_cycles_leak_nothing(self):
        # One cycle first: Python, the executor and ZMQ set up what they keep.
        bjdbus.start(self.service.name)
        bjdbus.stop(self.service.name)
        fds = self.service.fd_count()
        threads = self.service.thread_count()

        for i in range(CYCLES):
            path = bjdbus.start(self.service.name)
            self.assertTrue(os.path.isfile(path), "cycle %d: no connection file" % i)
            bjdbus.stop(self.service.name)
            self.assertFalse(os.path.exists(path), "cycle %d: connection file left" % i)

        self.assertEqual(bjdbus.get(self.service.name, "State"), "stopped")
        self.assertEqual(os.listdir(bjdbus.RUNTIME_DIR), [])
        self.assertEqual(
            self.service.fd_count(),
            fds,
            "fds before %d, after %d cycles %d" % (fds, CYCLES, self.service.fd_count()),
        )
        self.assertEqual(
            self.service.thread_count(),
            threads,
            "threads before %d, after %d cycles %d"
            % (threads, CYCLES, self.service.thread_count()),
        )

        # And it still works.
        path = bjdbus.start(self.service.name)
        reply, out = bjdbus.execute(path, "print(1 + 1)")
        self.assertEqual(reply["status"], "ok", reply)
        self.assertIn("2", out)
        bjdbus.stop(self.service.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
