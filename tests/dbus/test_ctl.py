"""bpy-jupyter-ctl: --help, list/status (--json), start/stop/restart/interrupt
with the service's own error messages, connect, and the documented exit codes."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjdbus  # noqa: E402  (re-runs this script on a private bus)

OK, FAILED, USAGE, WRONG_STATE, NO_KERNEL, AMBIGUOUS = range(6)
COMMANDS = ["list", "status", "start", "stop", "restart", "interrupt", "connect"]


class Ctl(unittest.TestCase):
    def ctl(self, *args, expect, env=None, input_text=None):
        if input_text is None:
            result = bjdbus.ctl(*args, env=env)
        else:
            full_env = dict(os.environ)
            full_env.update(env or {})
            result = subprocess.run(
                [bjdbus.CTL_BINARY] + list(args),
                capture_output=True,
                text=True,
                timeout=60,
                env=full_env,
                input=input_text,
            )
        self.assertEqual(
            result.returncode,
            expect,
            "bpy-jupyter-ctl %s: exit %d\nstdout: %s\nstderr: %s"
            % (" ".join(args), result.returncode, result.stdout, result.stderr),
        )
        return result

    def service_message(self, call, *args):
        with self.assertRaises(bjdbus.DBusError) as caught:
            call(*args)
        return caught.exception.message

    def test_help(self):
        result = self.ctl("--help", expect=OK)
        for command in COMMANDS:
            self.assertRegex(result.stdout, r"\n  %s +\S" % command)
        self.assertIn("--instance", result.stdout)
        self.assertIn("--json", result.stdout)
        self.assertIn("Exit status:", result.stdout)
        for code in range(6):
            self.assertRegex(result.stdout, r"\n  %d  \S" % code)
        self.assertIn("bpy-jupyter-ctl", self.ctl("--version", expect=OK).stdout)

    def test_usage_errors(self):
        self.assertIn("No command", self.ctl(expect=USAGE).stderr)
        self.assertIn("Unknown command", self.ctl("frobnicate", expect=USAGE).stderr)
        self.ctl("start", "extra", expect=USAGE)
        self.ctl("--json", "start", expect=USAGE)
        self.ctl("list", "--instance", "1", expect=USAGE)
        self.ctl("status", "--instance", "not a bus name!", expect=USAGE)
        self.ctl("--no-such-option", "list", expect=USAGE)

    def test_no_kernel(self):
        self.assertIsNone(bjdbus.name_owner(bjdbus.NAME))
        self.assertIn("No bpy-jupyter kernel", self.ctl("status", expect=NO_KERNEL).stderr)
        self.ctl("status", "--json", expect=NO_KERNEL)
        for command in ("stop", "restart", "interrupt", "connect"):
            self.ctl(command, expect=NO_KERNEL)
        self.assertIn("No bpy-jupyter kernel", self.ctl("list", expect=OK).stdout)
        self.assertEqual(json.loads(self.ctl("list", "--json", expect=OK).stdout), [])

    def test_commands(self):
        service = bjdbus.Service()
        try:
            self.run_commands(service)
        finally:
            self.assertEqual(service.terminate(), 0, service.stderr_text())

    def run_commands(self, service):
        status = json.loads(self.ctl("status", "--json", expect=OK).stdout)
        self.assertEqual(status["name"], service.name)
        self.assertEqual(status["pid"], service.pid)
        self.assertEqual(status["state"], "stopped")
        self.assertTrue(status["primary"])
        for key in (
            "host",
            "host_document",
            "version",
            "execution_count",
            "connection_file",
            "connection_info",
            "unique_name",
        ):
            self.assertIn(key, status)
        text = self.ctl("status", expect=OK).stdout
        self.assertRegex(text, r"State: +stopped")
        self.assertIn(service.name, text)

        # Wrong state: the service's own message, exit 3.
        message = self.service_message(bjdbus.stop, service.name)
        result = self.ctl("stop", expect=WRONG_STATE)
        self.assertEqual(result.stderr, message + "\n")
        self.ctl("interrupt", expect=WRONG_STATE)
        self.ctl("restart", expect=WRONG_STATE)
        self.ctl("connect", expect=WRONG_STATE)

        path = self.ctl("start", expect=OK).stdout.strip()
        self.assertTrue(os.path.isfile(path))
        self.assertEqual(path, bjdbus.get(service.name, "ConnectionFile"))
        message = self.service_message(bjdbus.start, service.name)
        self.assertEqual(self.ctl("start", expect=WRONG_STATE).stderr, message + "\n")
        message = self.service_message(bjdbus.interrupt, service.name)
        self.assertEqual(
            self.ctl("interrupt", "-i", service.name, expect=WRONG_STATE).stderr, message + "\n"
        )
        self.ctl("restart", expect=OK)
        self.assertEqual(bjdbus.get(service.name, "ConnectionFile"), path)

        status = json.loads(self.ctl("status", "--json", "-i", str(service.pid), expect=OK).stdout)
        self.assertEqual(status["state"], "idle")
        self.assertEqual(status["connection_file"], path)
        self.assertNotIn("key", status["connection_info"])
        text = self.ctl("status", expect=OK).stdout
        self.assertIn("jupyter console --existing " + path, text)

        # connect execs `jupyter console --existing FILE [ARGS…]`: first a stand-in
        # jupyter that records its arguments, then the real one.
        fake = bjdbus.tmp_path("fake-bin")
        os.makedirs(fake, exist_ok=True)
        record = bjdbus.tmp_path("jupyter-argv")
        with open(os.path.join(fake, "jupyter"), "w") as f:
            f.write('#!/bin/sh\nprintf "%%s\\n" "$@" > "%s"\n' % record)
        os.chmod(os.path.join(fake, "jupyter"), 0o755)
        fake_env = {"PATH": fake + os.pathsep + os.environ.get("PATH", "")}
        self.ctl("connect", expect=OK, env=fake_env)
        with open(record) as f:
            self.assertEqual(f.read().splitlines(), ["console", "--existing", path])
        self.ctl("connect", "-i", service.name, "--", "--simple-prompt", expect=OK, env=fake_env)
        with open(record) as f:
            self.assertEqual(
                f.read().splitlines(), ["console", "--existing", path, "--simple-prompt"]
            )

        result = self.ctl(
            "connect", "--", "--simple-prompt", expect=OK, input_text="print(6 * 7)\n"
        )
        self.assertIn("42", result.stdout)
        self.assertTrue(service.alive())

        # The console may have shut the kernel down as it left; either way:
        if bjdbus.get(service.name, "State") != "stopped":
            self.ctl("stop", expect=OK)
        self.assertFalse(os.path.exists(path))
        self.assertIn("not running", self.ctl("stop", expect=WRONG_STATE).stderr)

        self.ctl("status", "-i", "999999", expect=NO_KERNEL)
        self.ctl("stop", "-i", "org.bpyjupyter.Kernel.Instance999999", expect=NO_KERNEL)

        # Two running kernels: connect wants --instance.
        other = bjdbus.Service()
        try:
            bjdbus.start(service.name)
            bjdbus.start(other.name)
            result = self.ctl("connect", expect=AMBIGUOUS, env=fake_env)
            self.assertIn(service.name, result.stderr)
            self.assertIn(other.name, result.stderr)
            self.ctl("connect", "-i", other.name, expect=OK, env=fake_env)
            with open(record) as f:
                self.assertEqual(f.read().splitlines()[2], bjdbus.get(other.name, "ConnectionFile"))
            listed = self.ctl("list", expect=OK).stdout
            self.assertIn(service.name + "*", listed)
            self.assertIn(other.name + " ", listed)
        finally:
            self.assertEqual(other.terminate(), 0, other.stderr_text())
        bjdbus.stop(service.name)

    def test_failure_exit_code(self):
        # A connection file that is not one: Start fails; the service says why.
        bad = bjdbus.tmp_path("not-a-connection-file.json")
        with open(bad, "w") as f:
            f.write("{ this is not json")
        service = bjdbus.Service([bjdbus.KERNEL_BINARY, "--dbus", "--idle-timeout", "0", "-f", bad])
        try:
            message = self.service_message(bjdbus.start, service.name)
            result = self.ctl("start", "-i", service.name, expect=FAILED)
            self.assertEqual(result.stderr, message + "\n")
            self.assertEqual(bjdbus.get(service.name, "State"), "stopped")
        finally:
            self.assertEqual(service.terminate(), 0, service.stderr_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
