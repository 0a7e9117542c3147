"""Two hosts on one bus: each has its own instance name, bpy-jupyter-ctl lists
both, and the shared name passes to the second when the first quits."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjdbus  # noqa: E402  (re-runs this script on a private bus)


class TwoServices(unittest.TestCase):
    def test_two_services(self):
        first = bjdbus.Service()
        second = bjdbus.Service()
        try:
            self.assertNotEqual(first.name, second.name)
            # The first to queue answers as the shared name.
            self.assertEqual(bjdbus.name_owner(bjdbus.NAME), first.unique_name)
            self.assertEqual(bjdbus.get(bjdbus.NAME, "Pid"), first.pid)

            result = bjdbus.ctl("list", "--json")
            self.assertEqual(result.returncode, 0, result.stderr)
            listed = json.loads(result.stdout)
            self.assertEqual(
                [k["name"] for k in listed],
                sorted(
                    [first.name, second.name], key=lambda n: int(n[len(bjdbus.INSTANCE_PREFIX) :])
                ),
            )
            by_name = {k["name"]: k for k in listed}
            self.assertTrue(by_name[first.name]["primary"])
            self.assertFalse(by_name[second.name]["primary"])
            for service in (first, second):
                entry = by_name[service.name]
                self.assertEqual(entry["pid"], service.pid)
                self.assertEqual(entry["state"], "stopped")
                self.assertEqual(entry["unique_name"], service.unique_name)
                self.assertTrue(entry["host"].startswith("bpy-jupyter-kernel "))

            # Each is controlled by its own name: starting the second leaves the first alone.
            result = bjdbus.ctl("start", "--instance", second.name)
            self.assertEqual(result.returncode, 0, result.stderr)
            path2 = result.stdout.strip()
            self.assertTrue(os.path.isfile(path2))
            self.assertIn("-%d-" % second.pid, os.path.basename(path2))
            self.assertEqual(bjdbus.get(first.name, "State"), "stopped")
            self.assertEqual(bjdbus.get(second.name, "State"), "idle")

            path1 = bjdbus.start(first.name)
            self.assertNotEqual(path1, path2)
            reply, out = bjdbus.execute(path1, "import os; print(os.getpid())")
            self.assertEqual(out.strip(), str(first.pid))
            reply, out = bjdbus.execute(path2, "import os; print(os.getpid())")
            self.assertEqual(out.strip(), str(second.pid))

            result = bjdbus.ctl("list", "--json")
            listed = {k["name"]: k for k in json.loads(result.stdout)}
            self.assertEqual(listed[first.name]["connection_file"], path1)
            self.assertEqual(listed[second.name]["connection_file"], path2)
            self.assertEqual(listed[first.name]["state"], "idle")

            # Pid and Instance<pid> name the same kernel as the full name.
            for form in (str(second.pid), "Instance%d" % second.pid):
                result = bjdbus.ctl("status", "--json", "--instance", form)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(json.loads(result.stdout)["name"], second.name)

            result = bjdbus.ctl("stop", "-i", first.name)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertFalse(os.path.exists(path1))
            self.assertEqual(bjdbus.get(second.name, "State"), "idle")

            # The first quits (its running kernel stops cleanly): the name passes on.
            bjdbus.start(first.name)
            path1 = bjdbus.get(first.name, "ConnectionFile")
            self.assertEqual(first.terminate(), 0, first.stderr_text())
            self.assertFalse(os.path.exists(path1), "the quitting host left its connection file")
            bjdbus.wait_for(
                lambda: bjdbus.name_owner(bjdbus.NAME) == second.unique_name,
                5,
                what="the shared name passing to the second host",
            )
            self.assertIsNone(bjdbus.name_owner(first.name))
            self.assertEqual(bjdbus.get(bjdbus.NAME, "Pid"), second.pid)

            result = bjdbus.ctl("status", "--json")
            self.assertEqual(result.returncode, 0, result.stderr)
            status = json.loads(result.stdout)
            self.assertEqual(status["name"], second.name)
            self.assertTrue(status["primary"])
            self.assertEqual(status["state"], "idle")

            result = bjdbus.ctl("list", "--json")
            self.assertEqual([k["name"] for k in json.loads(result.stdout)], [second.name])

            # Through the shared name, now the second's.
            result = bjdbus.ctl("stop")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertFalse(os.path.exists(path2))
            self.assertEqual(second.terminate(), 0, second.stderr_text())
            bjdbus.wait_for(
                lambda: bjdbus.name_owner(bjdbus.NAME) is None,
                5,
                what="the shared name to be released",
            )
        finally:
            first.kill()
            second.kill()

    def test_host_killed_hard_releases_names(self):
        first = bjdbus.Service()
        second = bjdbus.Service()
        try:
            bjdbus.start(first.name)
            first.kill()  # SIGKILL: no unexport, the bus drops its names
            bjdbus.wait_for(
                lambda: bjdbus.name_owner(bjdbus.NAME) == second.unique_name,
                5,
                what="the shared name passing on after SIGKILL",
            )
            path = bjdbus.start()
            reply, out = bjdbus.execute(path, "print('second')")
            self.assertIn("second", out)
            bjdbus.stop()
            self.assertEqual(second.terminate(), 0, second.stderr_text())
        finally:
            first.kill()
            second.kill()


if __name__ == "__main__":
    unittest.main(verbosity=2)
