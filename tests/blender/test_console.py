#!/usr/bin/python3
"""`jupyter console --existing FILE` against the kernel of a GUI Blender, typed into
through tmux, as the panel's "Copy Console Command" suggests.
"""
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bjblender import STARTUP_TIMEOUT, TIMEOUT, BlenderGUI, fail  # noqa: E402


class ConsoleOnGUIBlender(unittest.TestCase):
    def setUp(self):
        for program in ("tmux", "jupyter-console"):
            if shutil.which(program) is None:
                fail(f"{program} is required (apt-get install {program})")
        self.blender = BlenderGUI(name="bj-console")
        self.addCleanup(self.close_blender)
        self.connection_file, _ = self.blender.wait_connection_file()
        env = dict(
            self.blender.env,
            TERM="xterm",
            JUPYTER_CONFIG_DIR=os.path.join(self.blender.home, "jupyter-config"),
            JUPYTER_DATA_DIR=os.path.join(self.blender.home, "jupyter-data"),
            IPYTHONDIR=os.path.join(self.blender.home, "ipython"),
        )
        self.session = f"bj-blender-console-{os.getpid()}"
        # tmux's server is a daemon outside Blender's process group: keep its socket
        # private and end the server in cleanup.
        self.tmux = ["tmux", "-S", os.path.join(self.blender.tmp, "tmux.sock")]
        subprocess.run(
            self.tmux
            + [
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                "160",
                "-y",
                "50",
                "/usr/bin/jupyter-console --simple-prompt --existing " + self.connection_file,
            ],
            check=True,
            env=env,
        )
        self.addCleanup(lambda: subprocess.run(self.tmux + ["kill-server"], capture_output=True))

    def close_blender(self):
        problems = self.blender.close()
        if problems:
            raise AssertionError("; ".join(problems))

    def screen(self):
        return subprocess.run(
            self.tmux + ["capture-pane", "-p", "-t", self.session, "-S", "-200"],
            capture_output=True,
            text=True,
        ).stdout

    def wait_for(self, text, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            self.blender.check_alive()
            time.sleep(0.1)
        self.fail(f"{text!r} did not appear; the screen shows:\n{self.screen()}")

    def type_line(self, line):
        subprocess.run(self.tmux + ["send-keys", "-t", self.session, "-l", line], check=True)
        subprocess.run(self.tmux + ["send-keys", "-t", self.session, "Enter"], check=True)

    def session_exists(self):
        return (
            subprocess.run(
                self.tmux + ["has-session", "-t", self.session], capture_output=True
            ).returncode
            == 0
        )

    def test_console_drives_blender(self):
        self.wait_for("In [1]:", timeout=STARTUP_TIMEOUT)
        self.type_line("D.objects['Cube'].name")
        self.wait_for("Out[1]: 'Cube'")
        self.type_line("print(len(D.objects), C.scene.name)")
        self.wait_for("3 Scene")
        # `exit` closes the console, which asks the kernel to shut down: the kernel
        # stops (its file goes), Blender stays.
        self.type_line("exit")
        deadline = time.monotonic() + TIMEOUT
        while self.session_exists():
            if time.monotonic() > deadline:
                self.fail("jupyter console did not exit:\n" + self.screen())
            time.sleep(0.1)
        self.blender.wait_no_connection_file()
        time.sleep(0.3)
        self.assertTrue(self.blender.alive(), "Blender exited:\n" + self.blender.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
