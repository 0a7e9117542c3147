"""D-Bus activation: with data/org.bpyjupyter.Kernel.service.in installed in the
bus's service folder, calling org.bpyjupyter.Kernel starts `bpy-jupyter-kernel
--dbus`, which exits on its own once unused for its idle timeout.

The bus is a private dbus-daemon with a configuration naming that service folder
(dbus-run-session --config-file). The activation file's Exec points, through
@bindir@, at a folder whose `bpy-jupyter-kernel` logs its arguments and runs the
built kernel with a 3 s idle timeout."""

import os
import shutil
import sys
import tempfile
import time
import unittest

IDLE_TIMEOUT = 3

if os.environ.get("BJ_DBUS_TEST_PRIVATE_BUS") != "1":
    # Outside the private bus: prepare it (the inner run removes the folder).
    root = tempfile.mkdtemp(prefix="bj-dbus-activation-")
    services = os.path.join(root, "share", "dbus-1", "services")
    bindir = os.path.join(root, "bin")
    os.makedirs(services)
    os.makedirs(bindir)
    kernel = os.environ.get("BJ_KERNEL_BINARY") or sys.exit("FAIL: BJ_KERNEL_BINARY is not set")
    template = os.environ.get("BJ_SERVICE_IN") or sys.exit("FAIL: BJ_SERVICE_IN is not set")
    wrapper = os.path.join(bindir, "bpy-jupyter-kernel")
    with open(wrapper, "w") as f:
        f.write(
            '#!/bin/sh\necho "$*" >> "%s"\nexec "%s" "$@" --idle-timeout %d\n'
            % (os.path.join(root, "activations.log"), kernel, IDLE_TIMEOUT)
        )
    os.chmod(wrapper, 0o755)
    with open(template) as f:
        service_file = f.read()
    if "@bindir@" not in service_file:
        sys.exit("FAIL: %s has no @bindir@" % template)
    with open(os.path.join(services, "org.bpyjupyter.Kernel.service"), "w") as f:
        f.write(service_file.replace("@bindir@", bindir))
    config = os.path.join(root, "session.conf")
    with open(config, "w") as f:
        f.write(
            """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=%s</listen>
  <auth>EXTERNAL</auth>
  <servicedir>%s</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
            % (root, services)
        )
    os.environ["BJ_DBUS_CONFIG"] = config
    os.environ["BJ_ACTIVATION_ROOT"] = root
    os.environ["XDG_DATA_DIRS"] = os.path.join(root, "share")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjdbus  # noqa: E402  (re-runs this script on the private bus configured above)

ROOT = os.environ["BJ_ACTIVATION_ROOT"]
import atexit  # noqa: E402

atexit.register(shutil.rmtree, ROOT, True)


def activations():
    try:
        with open(os.path.join(ROOT, "activations.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def owner_pid():
    return bjdbus.name_pid(bjdbus.NAME) if bjdbus.name_owner(bjdbus.NAME) else None


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


class Activation(unittest.TestCase):
    def test_activation_and_idle_exit(self):
        self.assertIsNone(bjdbus.name_owner(bjdbus.NAME))

        # Looking does not start anything.
        result = bjdbus.ctl("status")
        self.assertEqual(result.returncode, 4, result.stdout + result.stderr)
        self.assertIsNone(bjdbus.name_owner(bjdbus.NAME))
        self.assertEqual(activations(), [])

        # The README's gdbus line activates the service and starts its kernel.
        result = bjdbus.gdbus(
            "call",
            "--session",
            "--dest",
            bjdbus.NAME,
            "--object-path",
            bjdbus.PATH,
            "--method",
            "org.bpyjupyter.Kernel.Start",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        path = result.stdout.strip()[2:-3]
        self.assertTrue(os.path.isfile(path), result.stdout)
        self.assertEqual(activations(), ["--dbus"])
        pid = owner_pid()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().decode().split("\0")
        self.assertEqual(os.path.realpath(cmdline[0]), os.path.realpath(bjdbus.KERNEL_BINARY))
        self.assertIn("--dbus", cmdline)
        self.assertEqual(
            bjdbus.name_owner(bjdbus.INSTANCE_PREFIX + str(pid)), bjdbus.name_owner(bjdbus.NAME)
        )

        reply, out = bjdbus.execute(path, "print('activated')")
        self.assertIn("activated", out)

        # Running, it never times out.
        time.sleep(IDLE_TIMEOUT + 1.5)
        self.assertTrue(pid_alive(pid))
        self.assertEqual(bjdbus.get(bjdbus.NAME, "State"), "idle")

        bjdbus.stop()
        stopped_at = time.monotonic()
        self.assertFalse(os.path.exists(path))

        # A call (even a refused one) starts the idle time over.
        time.sleep(2.0)
        with self.assertRaises(bjdbus.DBusError) as caught:
            bjdbus.stop()
        self.assertEqual(caught.exception.code, "NotRunning")
        time.sleep(max(0, stopped_at + IDLE_TIMEOUT + 1.6 - time.monotonic()))
        self.assertTrue(
            pid_alive(pid),
            "exited %.1fs after the last call" % (time.monotonic() - stopped_at - 2.0),
        )
        self.assertEqual(owner_pid(), pid)

        # Then, unused, it goes.
        bjdbus.wait_for(
            lambda: not pid_alive(pid), IDLE_TIMEOUT + 4, what="the idle service to exit"
        )
        exited_after = time.monotonic() - stopped_at - 2.0
        self.assertGreaterEqual(exited_after, IDLE_TIMEOUT - 0.5)
        self.assertIsNone(bjdbus.name_owner(bjdbus.NAME))

        # bpy-jupyter-ctl start activates a new one; stop; it goes again.
        result = bjdbus.ctl("start")
        self.assertEqual(result.returncode, 0, result.stderr)
        path = result.stdout.strip()
        self.assertTrue(os.path.isfile(path))
        self.assertEqual(activations(), ["--dbus", "--dbus"])
        pid2 = owner_pid()
        self.assertNotEqual(pid2, pid)
        result = bjdbus.ctl("stop")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(os.path.exists(path))
        bjdbus.wait_for(
            lambda: not pid_alive(pid2), IDLE_TIMEOUT + 4, what="the second service to exit"
        )
        self.assertIsNone(bjdbus.name_owner(bjdbus.NAME))
        # Other commands never activate.
        for command in ("stop", "restart", "interrupt"):
            result = bjdbus.ctl(command)
            self.assertEqual(result.returncode, 4, command + ": " + result.stderr)
        self.assertEqual(len(activations()), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
