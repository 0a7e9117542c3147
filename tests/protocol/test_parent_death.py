"""A kernel whose launching client dies without a shutdown_request stops by itself.

jupyter_client names itself in JPY_PARENT_PID; a kernel left behind by a killed
client (or a closed terminal) would otherwise hold its ports forever.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import bjtest


def alive(pid):
    """Whether pid still runs: an exited kernel whose new parent has not reaped it
    yet is a zombie, which kill(pid, 0) still finds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class ParentDeath(unittest.TestCase):
    def test_kernel_stops_when_its_client_dies(self):
        self.check_client_death(wait_for_kernel=True)

    def test_kernel_stops_when_its_client_dies_before_it_is_ready(self):
        self.check_client_death(wait_for_kernel=False)

    def check_client_death(self, wait_for_kernel):
        argv_template = bjtest.bjkernelspec.kernel_wrapper() + json.loads(
            os.environ["BJ_KERNEL_ARGV"]
        )
        with tempfile.TemporaryDirectory() as tmp:
            connection_file = os.path.join(tmp, "kernel.json")
            pid_file = os.path.join(tmp, "kernel.pid")
            argv = [a.replace("{connection_file}", connection_file) for a in argv_template]
            # The "client": starts the kernel as jupyter_client does, then dies abruptly.
            client = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    (
                        "import os, subprocess, sys, time\n"
                        "env = dict(os.environ, JPY_PARENT_PID=str(os.getpid()))\n"
                        "kernel = subprocess.Popen(%r, env=env, stderr=subprocess.DEVNULL)\n"
                        "open(%r, 'w').write(str(kernel.pid))\n"
                        "deadline = time.monotonic() + (%g if %r else 0)\n"
                        "while not os.path.exists(%r) and time.monotonic() < deadline:\n"
                        "    time.sleep(0.05)\n"
                        "os._exit(0)\n"
                    )
                    % (argv, pid_file, 10 * bjtest.TIME_SCALE, wait_for_kernel, connection_file),
                ]
            )
            self.assertEqual(client.wait(timeout=15 * bjtest.TIME_SCALE), 0)
            with open(pid_file) as f:
                kernel_pid = int(f.read())
            # The kernel checks its client every second once it runs; a loaded machine
            # (the suites of other generations, sanitizers) may take seconds to start it.
            deadline = time.monotonic() + 10 * bjtest.TIME_SCALE
            while time.monotonic() < deadline:
                if not alive(kernel_pid):
                    break
                time.sleep(0.1)
            else:
                os.kill(kernel_pid, 9)
                self.fail("the kernel outlived its client by more than 10 s")
            if wait_for_kernel:
                self.assertFalse(
                    os.path.exists(connection_file), "the kernel left its connection file"
                )


if __name__ == "__main__":
    bjtest.main()
