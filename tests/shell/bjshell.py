"""A real, headless GNOME Shell for the bpy-jupyter `shell` suite.

Importing this module re-runs the importing script under ``dbus-run-session`` (through
tests/dbus/bjdbus.py), so the script, the Shell and the kernel services share a private
session bus. :class:`Shell` then starts, on top of it:

- a private ``dbus-daemon`` exported as the system bus (``DBUS_SYSTEM_BUS_ADDRESS``),
  with python-dbusmock's ``logind`` template on it: mutter asks logind for its session;
- ``gnome-shell --headless --wayland --no-x11 --virtual-monitor 1280x800 --unsafe-mode``
  with HOME, XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_RUNTIME_DIR (0700)
  in a private folder, and GSettings in a keyfile there (``GSETTINGS_BACKEND=keyfile``),
  so nothing of the user's desktop is read or written.

The extension under test is the flavour the installed Shell loads (:func:`extension_dir`:
the legacy one, BJ_SHELL_LEGACY_DIR, for GNOME Shell 43/44; the ES modules one,
BJ_SHELL_ESM_DIR, for 45 and later), copied from the build folder into
``$XDG_DATA_HOME/gnome-shell/extensions/<uuid>``, where Shell looks for user extensions,
and enabled through ``org.gnome.Shell.Extensions.EnableExtension``. ``Eval`` (unsafe
mode only) reads its state and drives its menu; ``org.gnome.Shell.Screenshot`` saves
PNGs (also unsafe mode only, for a caller that is not gnome-screenshot).

A missing gnome-shell, dbus-daemon or python-dbusmock fails the test: never a skip.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dbus")
)
import bjdbus  # noqa: E402  (re-runs the importing script on a private session bus)

from gi.repository import Gio, GLib  # noqa: E402

UUID = "bpy-jupyter@bpyjupyter.org"
SHELL_NAME = "org.gnome.Shell"
SHELL_PATH = "/org/gnome/Shell"

STARTUP_TIMEOUT = float(os.environ.get("BJ_SHELL_STARTUP_TIMEOUT") or 60)


def _require(program, package):
    path = shutil.which(program)
    if path is None:
        sys.exit("FAIL: %s is missing (Debian: apt-get install %s)" % (program, package))
    return path


def _require_dbusmock():
    try:
        import dbusmock  # noqa: F401
    except ImportError:
        sys.exit("FAIL: python-dbusmock is missing (Debian: apt-get install python3-dbusmock)")


class ShellError(Exception):
    pass


def shell_version():
    """The major version of the gnome-shell on PATH, e.g. 48."""
    gnome_shell = _require("gnome-shell", "gnome-shell")
    out = subprocess.run(
        [gnome_shell, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True
    ).stdout.decode()
    match = re.search(r"GNOME Shell ([0-9]+)", out)
    if match is None:
        raise ShellError("cannot read the version of %s: %r" % (gnome_shell, out))
    return int(match.group(1))


def extension_dir():
    """The build folder of the flavour this Shell loads: Shell 45 moved extensions
    to ES modules and never loads the legacy flavour (nor 43/44 the ESM one)."""
    name = "BJ_SHELL_ESM_DIR" if shell_version() >= 45 else "BJ_SHELL_LEGACY_DIR"
    return bjdbus.env_path(name)


class Shell:
    """A headless gnome-shell on the private session bus."""

    def __init__(self, extension_dir=None, env=None, metadata=None, log_name="gnome-shell"):
        """env: variables for the Shell on top of the private ones; metadata: keys
        to change in the staged copy's metadata.json."""
        gnome_shell = _require("gnome-shell", "gnome-shell")
        dbus_daemon = _require("dbus-daemon", "dbus-daemon")
        _require_dbusmock()
        self._procs = []
        self._logs = []

        # Each Shell has folders of its own; the session bus and XDG_DATA_HOME
        # (where the extension is staged) are the script's.
        base = tempfile.mkdtemp(prefix=log_name + "-", dir=bjdbus.tmp_path())
        self._base = base
        home = os.path.join(base, "home")
        runtime = os.path.join(base, "xdg-runtime")
        os.makedirs(home)
        os.makedirs(runtime, mode=0o700)
        os.chmod(runtime, 0o700)
        self.env = dict(os.environ)
        self.env.update(
            {
                "HOME": home,
                "XDG_RUNTIME_DIR": runtime,
                "XDG_CACHE_HOME": os.path.join(base, "cache"),
                "XDG_CONFIG_HOME": os.path.join(base, "config"),
                "XDG_CURRENT_DESKTOP": "GNOME",
                "XDG_SESSION_TYPE": "wayland",
                "GSETTINGS_BACKEND": "keyfile",
                "NO_AT_BRIDGE": "1",
                "GTK_A11Y": "none",
                "LIBGL_ALWAYS_SOFTWARE": "1",
                "LANG": "C.UTF-8",
                "LANGUAGE": "",
                "LC_ALL": "C.UTF-8",
            }
        )
        for key in ("DISPLAY", "WAYLAND_DISPLAY"):
            self.env.pop(key, None)
        self.env.update(env or {})

        if extension_dir:
            target = os.path.join(self.env["XDG_DATA_HOME"], "gnome-shell", "extensions", UUID)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(extension_dir, target)
            self.extension_path = target
            if metadata:
                path = os.path.join(target, "metadata.json")
                with open(path) as f:
                    staged = json.load(f)
                staged.update(metadata)
                with open(path, "w") as f:
                    json.dump(staged, f)

        # The system bus: a dbus-daemon of our own with the session configuration, so
        # anyone may own names on it, and logind from dbusmock.
        read_fd, write_fd = os.pipe()
        system_bus = subprocess.Popen(
            [
                dbus_daemon,
                "--session",
                "--nofork",
                "--nopidfile",
                "--address=unix:path=" + os.path.join(runtime, "system_bus_socket"),
                "--print-address=%d" % write_fd,
            ],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            env=self.env,
        )
        os.close(write_fd)
        self._procs.append(system_bus)
        with os.fdopen(read_fd) as f:
            address = f.readline().strip()
        if not address:
            raise ShellError("the system dbus-daemon printed no address")
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = address
        self._spawn(
            "logind", [sys.executable, "-m", "dbusmock", "--system", "--template", "logind"]
        )
        system = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None,
            None,
        )
        self._wait_name(system, "org.freedesktop.login1", 20, "dbusmock's logind")
        system.close_sync(None)

        self.log_path = os.path.join(base, log_name + ".log")
        self.proc = self._spawn(
            log_name,
            [
                gnome_shell,
                "--headless",
                "--wayland",
                "--no-x11",
                "--virtual-monitor",
                "1280x800",
                "--unsafe-mode",
            ],
        )
        self._wait_name(bjdbus.bus(), SHELL_NAME, STARTUP_TIMEOUT, "gnome-shell on the bus")
        # The Shell is up once Main.layoutManager has finished its startup animation.
        self.wait_eval("!Main.layoutManager._startingUp", STARTUP_TIMEOUT, "the Shell's startup")

    def _spawn(self, name, argv):
        log = open(os.path.join(self._base, name + ".log"), "wb")
        self._logs.append(log)
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env
        )
        self._procs.append(proc)
        return proc

    def _wait_name(self, connection, name, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            reply = connection.call_sync(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "NameHasOwner",
                GLib.Variant("(s)", (name,)),
                GLib.VariantType("(b)"),
                Gio.DBusCallFlags.NONE,
                5000,
                None,
            )
            if reply.unpack()[0]:
                return
            for proc in self._procs:
                if proc.poll() is not None:
                    raise ShellError(
                        "%s exited with %s while waiting for %s:\n%s"
                        % (proc.args[0], proc.returncode, what, self.log_text())
                    )
            if time.monotonic() > deadline:
                raise ShellError("timed out waiting for %s:\n%s" % (what, self.log_text()))
            time.sleep(0.05)

    def log_text(self):
        texts = []
        for log in self._logs:
            if not log.closed:
                log.flush()
            with open(log.name, "rb") as f:
                texts.append(
                    "--- %s\n%s"
                    % (os.path.basename(log.name), f.read().decode("utf-8", "replace")[-6000:])
                )
        return "\n".join(texts)

    # -- org.gnome.Shell ----------------------------------------------------

    def eval(self, code):
        """Runs JavaScript in the Shell; returns the JSON-decoded result.

        Raises ShellError with the exception text when the code throws."""
        ok, result = bjdbus.call(
            SHELL_NAME,
            "Eval",
            GLib.Variant("(s)", (code,)),
            "(bs)",
            interface="org.gnome.Shell",
            path=SHELL_PATH,
        )
        if not ok:
            raise ShellError("Eval(%r) failed: %s" % (code, result))
        return json.loads(result) if result else None

    def wait_eval(self, code, timeout=10, what=None, expected=True):
        """Waits until eval(code) returns expected; returns it."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.eval(code)
                if last == expected:
                    return last
            except (ShellError, bjdbus.DBusError) as error:
                last = error
            if self.proc.poll() is not None:
                raise ShellError(
                    "gnome-shell exited with %s:\n%s" % (self.proc.returncode, self.log_text())
                )
            if time.monotonic() > deadline:
                raise ShellError(
                    "timed out after %.0fs waiting for %s == %r (last: %r)"
                    % (timeout, what or code, expected, last)
                )
            time.sleep(0.05)

    def enable_extension(self, uuid=UUID):
        ok = bjdbus.call(
            SHELL_NAME,
            "EnableExtension",
            GLib.Variant("(s)", (uuid,)),
            "(b)",
            interface="org.gnome.Shell.Extensions",
            path=SHELL_PATH,
        )[0]
        if not ok:
            raise ShellError("EnableExtension(%s) refused" % uuid)

    def wait_extension_enabled(self, uuid=UUID, timeout=10):
        """Waits for the extension's state ENABLED (1); on a timeout says why not
        (4 OUT_OF_DATE: its metadata's shell-version misses this Shell; 3 ERROR)."""
        try:
            self.wait_eval(
                "Main.extensionManager.lookup(%s).state" % json.dumps(uuid),
                timeout,
                "the extension enabled",
                expected=1,
            )
        except ShellError as error:
            info = self.extension_info(uuid)
            raise ShellError(
                "%s\nGNOME Shell %d, extension state %s, shell-version %s, "
                "error %r"
                % (
                    error,
                    shell_version(),
                    info.get("state"),
                    info.get("shell-version"),
                    info.get("error"),
                )
            )

    def extension_info(self, uuid=UUID):
        return bjdbus.call(
            SHELL_NAME,
            "GetExtensionInfo",
            GLib.Variant("(s)", (uuid,)),
            "(a{sv})",
            interface="org.gnome.Shell.Extensions",
            path=SHELL_PATH,
        )[0]

    def close(self):
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in self._logs:
            log.close()
