#!/usr/bin/python3
"""Blender 4.2+'s online access switch: off (as under --factory-startup), the add-on
refuses to start a kernel, by the button or by itself, says why, and stays off the
session bus; on (--online-mode), Start works. Blender 3.x has no such switch: Start
works there as is.

Runs itself under dbus-run-session: a private bus, nothing of the desktop's.
"""
import json
import os
import subprocess
import unittest

import bjblender  # noqa: E402

bjblender.run_on_private_bus()

CTL = bjblender.CTL
# The add-on's own explanation (operators.py, kernel.py), in English here.
REFUSAL = "Online access is disabled in Preferences › System"

STATE = (
    "import bpy, bpy_jupyter\n"
    "result = {'online_access': getattr(bpy.app, 'online_access', None),\n"
    "          'poll': bpy.ops.bpy_jupyter.start_kernel.poll(),\n"
    "          'kernel': bpy_jupyter.current_kernel() is not None}"
)

START_BY_BUTTON = (
    "try:\n"
    "    result = sorted(bpy.ops.bpy_jupyter.start_kernel())\n"
    "except RuntimeError as error:\n"
    "    result = 'refused: %s' % error"
)

# What "Start Automatically" does at launch, with the preference on.
AUTO_START = (
    "import bpy_jupyter\n"
    "from bpy_jupyter import kernel\n"
    "kernel.preferences_or_none().auto_start = True\n"
    "kernel.auto_start()\n"
    "result = [bpy_jupyter.current_kernel() is not None, kernel.last_error]"
)


def listed_blender_pids():
    result = subprocess.run([CTL, "list", "--json"], capture_output=True, text=True, timeout=30)
    if result.returncode != 0 or not result.stdout.strip():
        return []
    return sorted(k["pid"] for k in json.loads(result.stdout) if k["host"].startswith("Blender"))


class OnlineAccess(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(CTL, os.X_OK), "bpy-jupyter-ctl must be built next to the kernel")

    def blender(self, **kwargs):
        gui = bjblender.BlenderGUI(start_kernel=False, **kwargs)
        self.addCleanup(self.close, gui)
        self.pid = gui.command("import os\nresult = os.getpid()", timeout=bjblender.STARTUP_TIMEOUT)
        return gui

    def close(self, gui):
        problems = gui.close()
        if problems:
            raise AssertionError("; ".join(problems))

    def check_start_works(self, gui):
        pid = self.pid
        bjblender.wait_until(
            lambda: pid in listed_blender_pids(),
            bjblender.STARTUP_TIMEOUT,
            "the Blender on the session bus",
        )
        self.assertEqual(gui.command(START_BY_BUTTON), ["FINISHED"])
        path, _ = gui.wait_connection_file()
        kc = gui.client(path)
        reply, outputs = bjblender.execute(kc, "D.objects['Cube'].name")
        self.assertEqual(reply["status"], "ok", reply)
        self.assertEqual(bjblender.result_text(outputs), "'Cube'")
        gui.drop_client(kc)
        return pid

    def test_online_access(self):
        if not bjblender.uses_extensions():
            # Blender 3.x: no switch, nothing refused.
            gui = self.blender(name="bj-online-3x")
            state = gui.command(STATE)
            self.assertEqual(state, {"online_access": None, "poll": True, "kernel": False})
            self.check_start_works(gui)
            return

        offline = self.blender(online=False, name="bj-offline")
        offline_pid = self.pid
        self.assertEqual(
            offline.command(STATE), {"online_access": False, "poll": False, "kernel": False}
        )
        refused = offline.command(START_BY_BUTTON)
        self.assertTrue(refused.startswith("refused:") and REFUSAL in refused, refused)
        self.assertEqual(offline.command(AUTO_START), [False, REFUSAL])
        self.assertEqual(bjblender.connection_files(offline.runtime_dir), [])

        # The other Blender, with --online-mode, starts; only it is on the bus (a Start
        # over D-Bus would get round the switch).
        online = self.blender(name="bj-online")
        self.assertEqual(online.command(STATE)["online_access"], True)
        online_pid = self.check_start_works(online)
        self.assertEqual(listed_blender_pids(), [online_pid])
        self.assertEqual(offline.command(STATE)["kernel"], False)
        self.assertNotIn(offline_pid, listed_blender_pids())


if __name__ == "__main__":
    unittest.main(verbosity=2)
