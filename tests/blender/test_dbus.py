"""Two Blenders on one session bus: both listed, each controlled by its own name,
and the shared name org.bpyjupyter.Kernel passes on when the first quits.

Runs itself under dbus-run-session: a private bus, nothing of the desktop's.
"""
import json
import os
import subprocess
import unittest

import bjblender  # noqa: E402

bjblender.run_on_private_bus()

CTL = bjblender.CTL


ctl = bjblender.ctl


def listed():
    result = ctl("list", "--json")
    return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else []


def shared_name_owner():
    result = subprocess.run(
        [
            "gdbus",
            "call",
            "--session",
            "--dest",
            "org.freedesktop.DBus",
            "--object-path",
            "/org/freedesktop/DBus",
            "--method",
            "org.freedesktop.DBus.GetNameOwner",
            "org.bpyjupyter.Kernel",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout.strip().strip("(),'") if result.returncode == 0 else None


class TwoBlenders(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(CTL, os.X_OK), "bpy-jupyter-ctl must be built next to the kernel")
        self.first = bjblender.BlenderGUI(start_kernel=False, name="bj-dbus-1")
        self.addCleanup(self.first.close)
        # One at a time: two `xvfb-run -a` started together can pick the same display,
        # and closing the first Blender would then take the second's X server along.
        self.wait_listed(1)
        self.second = bjblender.BlenderGUI(start_kernel=False, name="bj-dbus-2")
        self.addCleanup(self.second.close)

    def wait_listed(self, count):
        bjblender.wait_until(
            lambda: len([k for k in listed() if k["host"].startswith("Blender")]) >= count,
            bjblender.STARTUP_TIMEOUT,
            "%d Blender kernels on the bus" % count,
        )
        return {k["pid"]: k for k in listed()}

    def test_both_listed_each_controlled_shared_name_passes_on(self):
        kernels = self.wait_listed(2)
        self.assertEqual(len(kernels), 2, kernels)
        # The Host property names the very Blender under test, whatever its version.
        version = self.first.command("result = bpy.app.version_string")
        for entry in kernels.values():
            self.assertEqual(entry["state"], "stopped")
            self.assertEqual(entry["host"], "Blender " + version, entry)
        names = {pid: entry["name"] for pid, entry in kernels.items()}

        # Unique names (":1.62") grow as clients connect: compare them as numbers.
        def connected_order(pid):
            return int(kernels[pid]["unique_name"].rsplit(".", 1)[1])

        first_pid = min(kernels, key=connected_order)
        second_pid = max(kernels, key=connected_order)

        # Start the second one only, by its instance name: a remote Start in Blender.
        result = ctl("start", "--instance", names[second_pid])
        self.assertEqual(result.returncode, 0, result.stderr)
        connection_file = result.stdout.strip()
        self.assertTrue(
            os.path.basename(connection_file).startswith("kernel-blender-%d" % second_pid),
            "a remote Start follows the add-on's preferences: %s" % connection_file,
        )
        states = {k["pid"]: k["state"] for k in listed()}
        self.assertEqual(states[second_pid], "idle")
        self.assertEqual(states[first_pid], "stopped")

        kc = self.second.client(connection_file)
        reply, outputs = bjblender.execute(kc, "bpy.app.version_string")
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(bjblender.result_text(outputs), repr(version))
        self.second.drop_client(kc)

        result = ctl("stop", "--instance", names[second_pid])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(os.path.exists(connection_file))
        result = ctl("stop", "--instance", names[second_pid])
        self.assertEqual(
            result.returncode, 3, "stopping a stopped kernel is refused: %s" % result.stderr
        )

        # The shared name belongs to the first Blender, then passes to the second.
        owner = shared_name_owner()
        self.assertEqual(owner, kernels[first_pid]["unique_name"])
        self.first.close()
        bjblender.wait_until(
            lambda: shared_name_owner() == kernels[second_pid]["unique_name"],
            bjblender.STARTUP_TIMEOUT,
            "org.bpyjupyter.Kernel passing to the second Blender",
        )
        self.assertEqual([k["pid"] for k in listed()], [second_pid])


if __name__ == "__main__":
    unittest.main()
