"""Shared helpers for the bpy-jupyter D-Bus suite.

Importing this module re-runs the importing script under ``dbus-run-session``
(with the bus configuration named by BJ_DBUS_CONFIG, if set), so each script gets a
real, private session bus of its own and never touches the user's. Nothing
of bpy-jupyter is mocked: the services are the built ``bpy-jupyter-kernel --dbus``
and the ``_bpy_jupyter`` extension module, the clients are ``gdbus``, PyGObject,
``bpy-jupyter-ctl`` and jupyter_client.

Environment (set by tests/meson.build):
  BJ_KERNEL_BINARY   the built bpy-jupyter-kernel
  BJ_CTL_BINARY      the built bpy-jupyter-ctl
  BJ_MODULE_DIR      the folder holding the built _bpy_jupyter extension module
  BJ_SERVICE_IN      data/org.bpyjupyter.Kernel.service.in
  BJ_INTERFACE_XML   data/org.bpyjupyter.Kernel.xml

A missing tool or Python package is a failure, never a skip. BJ_GDB_ON_HANG=1
prints the threads of a host that ignores SIGTERM (needs gdb).
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

NAME = "org.bpyjupyter.Kernel"
INSTANCE_PREFIX = "org.bpyjupyter.Kernel.Instance"
PATH = "/org/bpyjupyter/Kernel"
IFACE = "org.bpyjupyter.Kernel"
ERROR_PREFIX = "org.bpyjupyter.Kernel.Error."

_WRAPPED = "BJ_DBUS_TEST_PRIVATE_BUS"


def run_on_private_bus(config_file=None):
    """Re-executes the main script under dbus-run-session unless already there."""
    if os.environ.get(_WRAPPED) == "1":
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            sys.exit("FAIL: dbus-run-session gave no DBUS_SESSION_BUS_ADDRESS")
        return
    runner = shutil.which("dbus-run-session")
    if runner is None:
        sys.exit("FAIL: dbus-run-session is missing (Debian: apt-get install dbus-daemon)")
    argv = [runner]
    if config_file:
        argv += ["--config-file", config_file]
    argv += ["--", sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    env = dict(os.environ)
    env[_WRAPPED] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(runner, argv, env)


run_on_private_bus(os.environ.get("BJ_DBUS_CONFIG"))


def env_path(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError("%s is not set: run the suite with meson test --suite dbus" % name)
    if not os.path.exists(value):
        raise RuntimeError("%s=%s does not exist: build first" % (name, value))
    return value


KERNEL_BINARY = env_path("BJ_KERNEL_BINARY")
CTL_BINARY = env_path("BJ_CTL_BINARY")

# Everything a kernel writes (connection files, history) goes to a private folder.
_TMP = tempfile.mkdtemp(prefix="bj-dbus-test-")
atexit.register(shutil.rmtree, _TMP, True)
RUNTIME_DIR = os.path.join(_TMP, "runtime")
os.makedirs(RUNTIME_DIR, mode=0o700)
os.environ["JUPYTER_RUNTIME_DIR"] = RUNTIME_DIR
os.environ["XDG_DATA_HOME"] = os.path.join(_TMP, "data")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_TMP, "config")
os.environ["IPYTHONDIR"] = os.path.join(_TMP, "ipython")
os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")


def tmp_path(*parts):
    return os.path.join(_TMP, *parts)


# ---------------------------------------------------------------------------
# the bus, through PyGObject

from gi.repository import Gio, GLib  # noqa: E402

_bus = None


def bus():
    global _bus
    if _bus is None:
        _bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    return _bus


class DBusError(Exception):
    """A D-Bus error reply: .name is the D-Bus error name, .message the text."""

    def __init__(self, name, message):
        super().__init__("%s: %s" % (name, message))
        self.name = name
        self.message = message

    @property
    def code(self):
        """The part after org.bpyjupyter.Kernel.Error., or the whole name."""
        if self.name.startswith(ERROR_PREFIX):
            return self.name[len(ERROR_PREFIX) :]
        return self.name


def _convert(error):
    name = Gio.DBusError.get_remote_error(error) or ""
    message = error.message
    prefix = "GDBus.Error:%s: " % name
    if name and message.startswith(prefix):
        message = message[len(prefix) :]
    return DBusError(name, message)


def call(
    dest,
    method,
    args=None,
    reply_type=None,
    interface=IFACE,
    path=PATH,
    timeout_ms=25000,
    auto_start=False,
    connection=None,
):
    """Calls a method and returns the unpacked reply; raises DBusError."""
    flags = Gio.DBusCallFlags.NONE if auto_start else Gio.DBusCallFlags.NO_AUTO_START
    try:
        reply = (connection or bus()).call_sync(
            dest,
            path,
            interface,
            method,
            args,
            GLib.VariantType.new(reply_type) if reply_type else None,
            flags,
            timeout_ms,
            None,
        )
    except GLib.Error as error:
        raise _convert(error) from None
    return reply.unpack() if reply is not None else None


def get_all(dest, timeout_ms=5000):
    return call(
        dest,
        "GetAll",
        GLib.Variant("(s)", (IFACE,)),
        "(a{sv})",
        interface="org.freedesktop.DBus.Properties",
        timeout_ms=timeout_ms,
    )[0]


def get(dest, prop):
    return call(
        dest,
        "Get",
        GLib.Variant("(ss)", (IFACE, prop)),
        "(v)",
        interface="org.freedesktop.DBus.Properties",
    )[0]


def start(dest=NAME, **kw):
    return call(dest, "Start", reply_type="(s)", **kw)[0]


def stop(dest=NAME, **kw):
    call(dest, "Stop", **kw)


def restart(dest=NAME, **kw):
    call(dest, "Restart", **kw)


def interrupt(dest=NAME, **kw):
    call(dest, "Interrupt", **kw)


def _bus_call(method, args, reply_type):
    return call(
        "org.freedesktop.DBus",
        method,
        args,
        reply_type,
        interface="org.freedesktop.DBus",
        path="/org/freedesktop/DBus",
    )


def name_owner(name):
    """The unique name owning name, or None."""
    try:
        return _bus_call("GetNameOwner", GLib.Variant("(s)", (name,)), "(s)")[0]
    except DBusError as error:
        if error.name == "org.freedesktop.DBus.Error.NameHasNoOwner":
            return None
        raise


def name_pid(name):
    return _bus_call("GetConnectionUnixProcessID", GLib.Variant("(s)", (name,)), "(u)")[0]


def list_names():
    return _bus_call("ListNames", None, "(as)")[0]


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# services under test

_children = []


def _cleanup_children():
    for proc in _children:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


atexit.register(_cleanup_children)


class Service:
    """A `bpy-jupyter-kernel --dbus` process (or any host given as argv)."""

    def __init__(self, argv=None, idle_timeout=0, env=None, ready_timeout=20):
        if argv is None:
            argv = [KERNEL_BINARY, "--dbus", "--idle-timeout", str(idle_timeout)]
        self.stderr_path = tmp_path("host-stderr-%d-%d.log" % (len(_children), os.getpid()))
        self._stderr = open(self.stderr_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr, env=full_env
        )
        _children.append(self.proc)
        self.pid = self.proc.pid
        self.name = INSTANCE_PREFIX + str(self.pid)
        try:
            wait_for(
                lambda: self.proc.poll() is not None or name_owner(self.name),
                ready_timeout,
                what="%s on the bus" % self.name,
            )
        except AssertionError:
            self.kill()
            raise
        if self.proc.poll() is not None:
            raise AssertionError(
                "host exited with %r before exporting:\n%s"
                % (self.proc.returncode, self.stderr_text())
            )
        self.unique_name = name_owner(self.name)

    def stderr_text(self):
        if not self._stderr.closed:
            self._stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, timeout=10):
        """SIGTERM, then the process must exit by itself with status 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            if os.environ.get("BJ_GDB_ON_HANG"):
                os.system("gdb -p %d -batch -ex 'thread apply all bt' >&2" % self.pid)
            self.kill()
            raise AssertionError("host %d ignored SIGTERM for %ss" % (self.pid, timeout))
        self._stderr.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def thread_count(self):
        return len(os.listdir("/proc/%d/task" % self.pid))


# ---------------------------------------------------------------------------
# Jupyter clients


def execute(connection_file, code, timeout=15):
    """Runs code through jupyter_client; returns (reply content, stdout text)."""
    from jupyter_client import BlockingKernelClient

    out = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "execute_result":
            out.append(msg["content"]["data"].get("text/plain", "") + "\n")

    kc = BlockingKernelClient(connection_file=connection_file)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=timeout)
        reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    finally:
        kc.stop_channels()
    return reply["content"], "".join(out)


def ctl(*args, env=None, timeout=30):
    """Runs bpy-jupyter-ctl; returns the CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [CTL_BINARY] + list(args), capture_output=True, text=True, timeout=timeout, env=full_env
    )


def gdbus(*args, timeout=30):
    """Runs the gdbus command-line tool; returns the CompletedProcess (text)."""
    exe = shutil.which("gdbus")
    if exe is None:
        raise RuntimeError("gdbus is missing (Debian: apt-get install libglib2.0-bin)")
    return subprocess.run([exe] + list(args), capture_output=True, text=True, timeout=timeout)


class PropertiesWatcher:
    """Collects PropertiesChanged of the kernel interface from one sender, on a
    private GLib main context iterated by pump()."""

    def __init__(self, sender):
        self.context = GLib.MainContext.new()
        self.context.push_thread_default()
        try:
            self.connection = Gio.DBusConnection.new_for_address_sync(
                Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None),
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
                None,
                None,
            )
            self.changes = []  # (monotonic time, {property: value})
            self.subscription = self.connection.signal_subscribe(
                sender,
                "org.freedesktop.DBus.Properties",
                "PropertiesChanged",
                PATH,
                IFACE,
                Gio.DBusSignalFlags.NONE,
                self._on_signal,
            )
        finally:
            self.context.pop_thread_default()
        # The match rule is in place once a round trip has been made.
        self.connection.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "GetId",
            None,
            None,
            Gio.DBusCallFlags.NONE,
            5000,
            None,
        )

    def _on_signal(self, connection, sender, path, interface, signal_name, parameters):
        iface, changed, invalidated = parameters.unpack()
        if iface == IFACE:
            self.changes.append((time.monotonic(), changed))

    def pump(self, seconds=0.0):
        deadline = time.monotonic() + seconds
        while True:
            while self.context.iteration(False):
                pass
            if time.monotonic() >= deadline:
                return
            time.sleep(0.005)

    def states(self):
        self.pump()
        return [changed["State"] for _, changed in self.changes if "State" in changed]

    def wait_states(self, expected_tail, timeout=10):
        """Waits until the State values seen end with expected_tail."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            if states[-len(expected_tail) :] == list(expected_tail):
                return states
            if time.monotonic() > deadline:
                raise AssertionError(
                    "State changes %r do not end with %r" % (states, expected_tail)
                )
            time.sleep(0.01)

    def close(self):
        self.connection.signal_unsubscribe(self.subscription)
        self.connection.close_sync(None)
        self.pump()
