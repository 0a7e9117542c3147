"""PropertiesChanged for every state change: starting → idle on Start, idle → busy →
idle around each cell (busy while the cell still runs), all four of a Restart,
stopping → stopped on Stop;
ExecutionCount follows; `gdbus monitor` sees the same signals."""

import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjdbus  # noqa: E402  (re-runs this script on a private bus)


class PropertiesChanged(unittest.TestCase):
    def setUp(self):
        self.service = bjdbus.Service()
        self.watcher = bjdbus.PropertiesWatcher(self.service.unique_name)

    def tearDown(self):
        self.watcher.close()
        rc = self.service.terminate()
        self.assertEqual(rc, 0, self.service.stderr_text())

    def test_every_state_change(self):
        path = bjdbus.start(self.service.name)
        states = self.watcher.wait_states(["starting", "idle"])
        self.assertEqual(states, ["starting", "idle"])
        last = self.watcher.changes[-1][1]
        self.assertEqual(last["ConnectionFile"], path)
        self.assertIn("shell_port", last["ConnectionInfo"])

        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=10)
            self.watcher.pump(0.1)
            base = len(self.watcher.states())
            counts = []
            for i in range(5):
                reply = kc.execute_interactive("x = %d" % i, timeout=10)
                self.assertEqual(reply["content"]["status"], "ok")
                counts.append(reply["content"]["execution_count"])
                # Each cell: busy then idle, however quick.
                bjdbus.wait_for(
                    lambda: len(self.watcher.states()) >= base + 2 * (i + 1),
                    5,
                    what="busy and idle of cell %d" % i,
                )
            cells = self.watcher.states()[base:]
            self.assertEqual(cells, ["busy", "idle"] * 5)
            seen_counts = [
                c["ExecutionCount"] for _, c in self.watcher.changes if "ExecutionCount" in c
            ]
            self.assertEqual(seen_counts[-5:], counts)

            # busy reaches clients while the cell still holds the host.
            msg_id = kc.execute("import time; time.sleep(1.0)")
            busy_at = None
            deadline = time.monotonic() + 10
            while busy_at is None and time.monotonic() < deadline:
                self.watcher.pump(0.01)
                if self.watcher.states()[-1:] == ["busy"]:
                    busy_at = self.watcher.changes[-1][0]
            self.assertIsNotNone(busy_at, "no busy while a cell runs")
            reply = kc.get_shell_msg(timeout=10)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=10)
            replied_at = time.monotonic()
            self.assertGreater(replied_at - busy_at, 0.5, "busy came only at the end of the cell")
            self.watcher.wait_states(["busy", "idle"])
        finally:
            kc.stop_channels()

        # Four changes in one go, each announced on its own.
        bjdbus.restart(self.service.name)
        states = self.watcher.wait_states(["stopping", "stopped", "starting", "idle"])

        bjdbus.stop(self.service.name)
        states = self.watcher.wait_states(["stopping", "stopped"])
        changed = {}
        for _, c in self.watcher.changes:
            changed.update(c)
        self.assertEqual(changed["ConnectionFile"], "")
        self.assertEqual(changed["ConnectionInfo"], {})
        # Every announced value matches what a fresh read says.
        props = bjdbus.get_all(self.service.name)
        for key, value in changed.items():
            self.assertEqual(props[key], value, key)
        # Consecutive announcements never repeat a state.
        states = self.watcher.states()
        self.assertTrue(all(a != b for a, b in zip(states, states[1:])), states)

    def test_quitting_host_announces_stopped(self):
        bjdbus.start(self.service.name)
        self.watcher.wait_states(["starting", "idle"])
        self.assertEqual(self.service.terminate(), 0, self.service.stderr_text())
        # The last word of a host quitting with its kernel running.
        self.watcher.wait_states(["stopping", "stopped"])

    def test_gdbus_monitor_sees_the_changes(self):
        self.assertIsNotNone(
            shutil.which("gdbus"), "gdbus is missing (apt-get install libglib2.0-bin)"
        )
        monitor = subprocess.Popen(
            [
                "gdbus",
                "monitor",
                "--session",
                "--dest",
                self.service.name,
                "--object-path",
                bjdbus.PATH,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # gdbus monitor prints a line once it watches the name.
            first = monitor.stdout.readline()
            self.assertIn(self.service.name, first)
            time.sleep(0.2)
            path = bjdbus.start(self.service.name)
            reply, _ = bjdbus.execute(path, "1 + 1")
            bjdbus.stop(self.service.name)
            time.sleep(0.3)
        finally:
            monitor.terminate()
            out, _ = monitor.communicate(timeout=5)
        lines = [line for line in (first + out).splitlines() if "PropertiesChanged" in line]
        states = []
        for line in lines:
            if "'State': <'" in line:
                states.append(line.split("'State': <'", 1)[1].split("'", 1)[0])
        self.assertEqual(states, ["starting", "idle", "busy", "idle", "stopping", "stopped"], out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
