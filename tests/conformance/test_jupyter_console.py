"""Debian's `jupyter console --kernel bpy-jupyter-python`, typed into through tmux.

The kernelspec is the one `bpy-jupyter-kernel --install --prefix` writes, found
through JUPYTER_PATH, exactly as a user's would be.
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

KERNEL = os.environ.get("BJ_KERNEL_BINARY")
TIMEOUT = 30


class JupyterConsole(unittest.TestCase):
    def setUp(self):
        self.assertTrue(
            KERNEL and os.access(KERNEL, os.X_OK), "BJ_KERNEL_BINARY must name the built kernel"
        )
        for program in ("tmux", "jupyter-console"):
            self.assertIsNotNone(
                shutil.which(program), f"{program} is required (apt-get install it)"
            )
        self.tmp = tempfile.TemporaryDirectory()
        prefix = os.path.join(self.tmp.name, "prefix")
        subprocess.run([KERNEL, "--install", "--prefix", prefix], check=True, capture_output=True)
        self.env = dict(
            os.environ,
            JUPYTER_PATH=os.path.join(prefix, "share", "jupyter"),
            JUPYTER_RUNTIME_DIR=os.path.join(self.tmp.name, "runtime"),
            JUPYTER_CONFIG_DIR=os.path.join(self.tmp.name, "config"),
            IPYTHONDIR=os.path.join(self.tmp.name, "ipython"),
            HOME=self.tmp.name,
            TERM="xterm",
        )
        self.session = f"bj-console-{os.getpid()}"
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                "160",
                "-y",
                "50",
                "/usr/bin/jupyter-console --kernel bpy-jupyter-python --simple-prompt",
            ],
            check=True,
            env=self.env,
        )

    def tearDown(self):
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)
        self.tmp.cleanup()

    def screen(self):
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.session, "-S", "-200"],
            capture_output=True,
            text=True,
        ).stdout

    def wait_for(self, text):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        self.fail(f"{text!r} did not appear; the screen shows:\n{self.screen()}")

    def type_line(self, line):
        subprocess.run(["tmux", "send-keys", "-t", self.session, "-l", line], check=True)
        subprocess.run(["tmux", "send-keys", "-t", self.session, "Enter"], check=True)

    def test_runs_cells(self):
        self.wait_for("In [1]:")
        # jupyter_console 6.4 shows the prompt once the shell answers, before its
        # iopub subscription has reached the kernel (ZeroMQ's slow joiner): a cell
        # typed at once loses its output, with ipykernel as with ours.
        time.sleep(1.0)
        banner = self.screen()
        self.assertIn("bpy-jupyter", banner)
        self.type_line("1+1")
        self.wait_for("Out[1]: 2")
        self.type_line("print('hi' * 3)")
        self.wait_for("hihihi")
        self.type_line("1/0")
        self.wait_for("ZeroDivisionError")
        # exit asks the frontend to close (IPython's ask_exit payload), it does not
        # raise SystemExit in the kernel.
        self.type_line("exit")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if (
                subprocess.run(
                    ["tmux", "has-session", "-t", self.session], capture_output=True
                ).returncode
                != 0
            ):
                break
            time.sleep(0.1)
        else:
            self.fail("jupyter console did not exit:\n" + self.screen())


if __name__ == "__main__":
    unittest.main()
