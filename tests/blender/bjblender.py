"""Shared helpers for the `blender` test suite: a real Blender under Xvfb.

Environment:
  BJ_ADDON_SCRIPTS   the staged scripts folder holding addons/bpy_jupyter (required;
                     meson passes <build>/addon/scripts)
  BJ_ADDON_EXTENSION_ZIP  the extension zip (required with Blender 4.2+; meson passes
                     <build>/addon/bpy_jupyter-VERSION-extension.zip)
  BJ_BLENDER         the Blender binary (default: `blender` on PATH)
  BJ_TIME_SCALE      factor for every timeout (default 1)
  BJ_KEEP_TMP        "1": keep the private temporary folder (Blender's log, …)

Missing Blender, xvfb-run or the staged add-on is a failure, never a skip.

How the add-on gets into Blender follows the Blender under test, as a user's would:
Blender 4.2+ installs the extension zip (`blender --command extension install-file -r
user_default`, package `bl_ext.user_default.bpy_jupyter`) and runs with --online-mode
unless a test asks otherwise (without it, online access is off under --factory-startup
and Start is refused); Blender 3.x finds the legacy add-on (bl_info) in the staged
scripts folder (BLENDER_USER_SCRIPTS). Cells and commands `import bpy_jupyter` either way.

Each `BlenderGUI` runs `xvfb-run -a … blender --factory-startup --python DRIVER` in
its own session (process group) with HOME, TMPDIR and JUPYTER_RUNTIME_DIR inside a
private temporary folder, so nothing lands outside it (Blender's quit.blend,
autosaves and temp dirs, xvfb-run's Xauthority, the connection file). `close()`
ends every process of the group, checks none is left, and removes the folder.

The driver enables the add-on, optionally starts the kernel from a timer as a user
would, and serves *commands*: Python snippets the test drops into a folder, run on
Blender's main thread from a persistent timer. That reaches Blender while no kernel
runs (to start one again, for instance) without involving the kernel under test.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest


def run_on_private_bus():
    """Runs the calling test script again under dbus-run-session, unless it already
    is: a private session bus, nothing of the desktop's. Call it first thing."""
    if os.environ.get("BJ_DBUS_SESSION") == "1":
        return
    runner = shutil.which("dbus-run-session")
    if runner is None:
        sys.exit("dbus-run-session is required (apt-get install dbus-daemon)")
    os.environ["BJ_DBUS_SESSION"] = "1"
    os.execv(runner, [runner, "--", sys.executable] + sys.argv)


# bpy-jupyter-ctl of this build, next to the kernel binary meson names.
CTL = os.path.join(os.path.dirname(os.environ.get("BJ_KERNEL_BINARY", "")), "bpy-jupyter-ctl")


def ctl(*args):
    return subprocess.run([CTL, *args], capture_output=True, text=True, timeout=30)


TIME_SCALE = float(os.environ.get("BJ_TIME_SCALE") or 1)
STARTUP_TIMEOUT = 60 * TIME_SCALE
TIMEOUT = 15 * TIME_SCALE
SCREEN = "-screen 0 1280x800x24"

# The command server: Python snippets dropped into CMD_DIR run on Blender's main
# thread from a persistent 50 ms timer; each one's `result` (or its traceback) is
# written back as JSON. bench/blenders.py serves its commands with the same code.
COMMAND_SERVER = r'''
import json, os, sys, time, traceback
import bpy

CMD_DIR = {cmd_dir!r}
bpy.context.preferences.view.show_splash = False
_namespace = {{"bpy": bpy}}


def _bj_serve_commands():
    try:
        names = sorted(n for n in os.listdir(CMD_DIR) if n.endswith(".py"))
    except OSError:
        return 0.05
    for name in names:
        path = os.path.join(CMD_DIR, name)
        with open(path) as f:
            code = f.read()
        os.unlink(path)
        _namespace.pop("result", None)
        try:
            exec(compile(code, name, "exec"), _namespace)
            out = {{"ok": True, "result": _namespace.get("result")}}
        except BaseException:
            out = {{"ok": False, "error": traceback.format_exc()}}
        base = path[:-3]
        with open(base + ".tmp", "w") as f:
            json.dump(out, f, default=repr)
        os.replace(base + ".tmp", base + ".json")
    return 0.05


bpy.app.timers.register(_bj_serve_commands, first_interval=0.0, persistent=True)
'''

# What the test driver adds around the command server: the add-on enabled first,
# the kernel optionally started from a timer afterwards.
ENABLE_ADDON = r'''
import addon_utils
if addon_utils.enable({module!r}, default_set=True) is None:
    print("bj-driver: the add-on {module} could not be enabled", flush=True)
else:
    print("bj-driver: add-on {module} enabled", flush=True)
'''

START_KERNEL = r'''
# As the recipe a user follows: the operator, from Blender's event loop.
bpy.app.timers.register(lambda: bpy.ops.bpy_jupyter.start_kernel() and None,
                        first_interval=0.5)
'''


def driver_source(cmd_dir, before="", after=""):
    """A driver script: `before`, the command server on cmd_dir, then `after`."""
    return before + COMMAND_SERVER.format(cmd_dir=cmd_dir) + after


def fail(message):
    raise AssertionError(message)


def find_program(name, env_var=None):
    path = (os.environ.get(env_var) if env_var else None) or shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        fail(
            f"{name} is required for the blender suite and was not found "
            f"(apt-get install {name if name != 'xvfb-run' else 'xvfb'})"
        )
    return path


_blender_version = None


def blender_version():
    """(major, minor) of the Blender under test, from `blender --version`."""
    global _blender_version
    if _blender_version is None:
        blender = find_program("blender", "BJ_BLENDER")
        with tempfile.TemporaryDirectory(prefix="bj-version-") as home:
            out = subprocess.run(
                [blender, "--factory-startup", "--version"],
                capture_output=True,
                text=True,
                timeout=STARTUP_TIMEOUT,
                cwd=home,
                env=dict(os.environ, HOME=home),
            ).stdout
        for line in out.splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "Blender":
                _blender_version = tuple(int(n) for n in words[1].split(".")[:2])
                break
        else:
            fail(f"`{blender} --version` printed no version:\n{out}")
    return _blender_version


def uses_extensions():
    """Blender 4.2+ installs add-ons as extensions (and has online access to allow)."""
    return blender_version() >= (4, 2)


EXTENSION_MODULE = "bl_ext.user_default.bpy_jupyter"


def extension_zip():
    path = os.environ.get("BJ_ADDON_EXTENSION_ZIP")
    if not path or not os.path.isfile(path):
        fail(
            f"BJ_ADDON_EXTENSION_ZIP ({path!r}) must name the built extension zip "
            "(<build>/addon/bpy_jupyter-VERSION-extension.zip): build the addon-zip target"
        )
    return path


def install_extension(blender, env, cwd):
    """Install the extension zip into the user_default repository of env's HOME."""
    result = subprocess.run(
        [
            blender,
            "--factory-startup",
            "--command",
            "extension",
            "install-file",
            "-r",
            "user_default",
            extension_zip(),
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
    )
    if result.returncode != 0:
        fail(
            f"installing the extension failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )


def addon_scripts():
    scripts = os.environ.get("BJ_ADDON_SCRIPTS")
    if not scripts:
        fail(
            "BJ_ADDON_SCRIPTS is not set: it must name the staged scripts folder "
            "(<build>/addon/scripts)"
        )
    package = os.path.join(scripts, "addons", "bpy_jupyter")
    for name in ("__init__.py", "kernel_process.py"):
        if not os.path.isfile(os.path.join(package, name)):
            fail(f"{package}/{name} is missing: build the addon-zip target first")
    if not any(n.startswith("_bpy_jupyter") and n.endswith(".so") for n in os.listdir(package)):
        fail(f"the extension module is missing from {package}")
    return os.path.abspath(scripts)


def wait_until(predicate, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def kill_group(popen, grace=5.0):
    """End the process group led by popen: SIGTERM, then SIGKILL; reap; check it is gone."""
    pgid = popen.pid
    if group_alive(pgid):
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace
        while group_alive(pgid) and time.monotonic() < deadline:
            popen.poll()
            time.sleep(0.05)
        if group_alive(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    # Children reparented to init are reaped by it; give them a moment.
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not group_alive(pgid)


def connection_files(runtime_dir):
    try:
        return sorted(
            os.path.join(runtime_dir, n)
            for n in os.listdir(runtime_dir)
            if n.startswith("kernel-blender-") and n.endswith(".json")
        )
    except FileNotFoundError:
        return []


def read_connection_file(path):
    """The file's JSON once it is complete, else None."""
    try:
        with open(path) as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    if not info.get("key") or not info.get("shell_port"):
        return None
    return info


class BlenderGUI:
    """A GUI Blender under xvfb-run with the add-on enabled (see the module doc)."""

    def __init__(
        self,
        start_kernel=True,
        extra_args=(),
        name="bj-blender",
        driver=None,
        env=None,
        online=True,
    ):
        """driver(cmd_dir) -> source replaces the test driver (bench/blenders.py serves
        commands without the add-on); env: variables to set in Blender's environment
        (None: to remove); online: pass --online-mode to a Blender 4.2+ (without it,
        online access is off under --factory-startup)."""
        self.blender = find_program("blender", "BJ_BLENDER")
        self.xvfb_run = find_program("xvfb-run")
        self.scripts = addon_scripts()
        self.tmp = tempfile.mkdtemp(prefix=name + "-")
        self.runtime_dir = os.path.join(self.tmp, "runtime")
        self.cmd_dir = os.path.join(self.tmp, "commands")
        self.home = os.path.join(self.tmp, "home")
        self.tmpdir = os.path.join(self.tmp, "tmp")
        for d in (self.runtime_dir, self.cmd_dir, self.home, self.tmpdir):
            os.makedirs(d, mode=0o700)
        self.log_path = os.path.join(self.tmp, "blender.log")
        # A driver of one's own (bench/blenders.py) enables the legacy copy itself.
        self.extension = driver is None and uses_extensions()
        self.addon_module = EXTENSION_MODULE if self.extension else "bpy_jupyter"
        self.driver = os.path.join(self.tmp, "driver.py")
        with open(self.driver, "w") as f:
            if driver is not None:
                f.write(driver(self.cmd_dir))
            else:
                f.write(
                    driver_source(
                        self.cmd_dir,
                        ENABLE_ADDON.format(module=self.addon_module),
                        START_KERNEL if start_kernel else "",
                    )
                )
        self.env = dict(
            os.environ,
            JUPYTER_RUNTIME_DIR=self.runtime_dir,
            HOME=self.home,
            TMPDIR=self.tmpdir,
            XDG_RUNTIME_DIR=self.tmpdir,
            XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
            XDG_CACHE_HOME=os.path.join(self.home, ".cache"),
        )
        for var in (
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "XAUTHORITY",
            "PYTHONDONTWRITEBYTECODE",
            "BLENDER_USER_SCRIPTS",
        ):
            self.env.pop(var, None)
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the staged add-on
        if self.extension:
            # Nothing of the staged legacy copy on sys.path: `import bpy_jupyter` must
            # find the extension.
            install_extension(self.blender, self.env, self.tmp)
        else:
            self.env["BLENDER_USER_SCRIPTS"] = self.scripts
        if online and uses_extensions():
            extra_args = ("--online-mode", *extra_args)
        for key, value in (env or {}).items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = value
        self.argv = [
            self.xvfb_run,
            "-a",
            "-s",
            SCREEN,
            self.blender,
            "--factory-startup",
            "-noaudio",
            *extra_args,
            "--python",
            self.driver,
        ]
        self._log = open(self.log_path, "wb")
        self._serial = 0
        self.clients = []
        self.t_popen = time.perf_counter()
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.tmp,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.closed = False

    # -- state -------------------------------------------------------------
    def alive(self):
        return self.popen.poll() is None

    def log(self, tail=4000):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return text[-tail:]

    def check_alive(self):
        if not self.alive():
            fail(f"Blender exited (code {self.popen.returncode}); its log ends with:\n{self.log()}")

    def _wait(self, predicate, timeout, what):
        """wait_until(), failing at once should Blender exit meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            self.check_alive()
            if time.monotonic() >= deadline:
                fail(
                    f"timed out after {timeout:.0f}s waiting for {what}; "
                    f"Blender's log ends with:\n{self.log()}"
                )
            time.sleep(0.02)

    # -- connection file ---------------------------------------------------
    def wait_connection_file(self, timeout=STARTUP_TIMEOUT):
        """Wait for the (one) connection file to be complete; return (path, info)."""

        def ready():
            files = connection_files(self.runtime_dir)
            if len(files) > 1:
                fail(f"more than one connection file: {files}")
            if files:
                info = read_connection_file(files[0])
                if info:
                    return files[0], info
            return None

        return self._wait(ready, timeout, "the kernel's connection file")

    def wait_no_connection_file(self, timeout=TIMEOUT):
        self._wait(
            lambda: not connection_files(self.runtime_dir),
            timeout,
            "the connection file to be removed",
        )

    # -- commands run by the driver on Blender's main thread ----------------
    def submit(self, code):
        """Queue `code` for the driver; returns a handle for result()."""
        self._serial += 1
        base = os.path.join(self.cmd_dir, "%06d" % self._serial)
        with open(base + ".tmp", "w") as f:
            f.write(code)
        os.replace(base + ".tmp", base + ".py")
        return base, code

    def result(self, handle, timeout=TIMEOUT):
        """Wait for a submitted command; return the `result` it set."""
        base, code = handle
        self._wait(lambda: os.path.exists(base + ".json"), timeout, f"the command {code!r}")
        with open(base + ".json") as f:
            out = json.load(f)
        os.unlink(base + ".json")
        if not out["ok"]:
            fail(f"the command {code!r} failed in Blender:\n{out['error']}")
        return out["result"]

    def command(self, code, timeout=TIMEOUT):
        """Run `code` in Blender from a timer; return the `result` it sets."""
        return self.result(self.submit(code), timeout)

    # -- clients -----------------------------------------------------------
    def client(self, connection_file, timeout=TIMEOUT):
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=connection_file)
        kc.load_connection_file()
        kc.start_channels()
        self.clients.append(kc)
        try:
            kc.wait_for_ready(timeout=timeout)
        except RuntimeError as error:
            self.check_alive()
            fail(f"the kernel did not answer kernel_info: {error}\n{self.log()}")
        return kc

    def drop_client(self, kc):
        try:
            kc.stop_channels()
        except Exception:
            pass
        if kc in self.clients:
            self.clients.remove(kc)

    # -- the end -----------------------------------------------------------
    def wait_exit(self, timeout=TIMEOUT):
        """Wait for xvfb-run (whose code is Blender's) to exit; return the code."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            fail(f"Blender did not exit within {timeout:.0f}s\n{self.log()}")

    def close(self):
        """Stop clients, end every process of the group, remove the temporary folder.
        Returns a list of problems (stray processes); never raises."""
        if self.closed:
            return []
        self.closed = True
        problems = []
        for kc in list(self.clients):
            self.drop_client(kc)
        if not kill_group(self.popen):
            problems.append(f"processes of group {self.popen.pid} survived SIGKILL")
        self._log.close()
        if os.environ.get("BJ_KEEP_TMP") == "1":
            sys.stderr.write(f"keeping {self.tmp}\n")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return problems


def execute(kc, code, timeout=TIMEOUT, **kwargs):
    """Run a cell; return (reply content, [iopub messages of the cell, idle excluded]).
    Fails on a timeout. kwargs go to kc.execute (e.g. stop_on_error)."""
    msg_id = kc.execute(code, **kwargs)
    return collect(kc, msg_id, timeout)


def _stash(kc):
    if not hasattr(kc, "_bj_stash"):
        kc._bj_stash = {"shell": [], "iopub": []}
    return kc._bj_stash


def collect(kc, msg_id, timeout=TIMEOUT):
    """The reply to msg_id and its iopub messages (up to idle). Messages of other
    requests are kept for their own collect(), so requests can be pipelined."""
    from queue import Empty

    stash = _stash(kc)
    deadline = time.monotonic() + timeout
    outputs = []
    reply = None
    idle = False

    def take(channel, msg):
        nonlocal reply, idle
        if msg["parent_header"].get("msg_id") != msg_id:
            stash[channel].append(msg)
        elif channel == "shell":
            reply = msg["content"]
        elif msg["msg_type"] == "status":
            idle = idle or msg["content"]["execution_state"] == "idle"
        else:
            outputs.append(msg)

    for channel in ("shell", "iopub"):
        pending, stash[channel] = stash[channel], []
        for msg in pending:
            take(channel, msg)
    while reply is None or not idle:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            fail(
                f"no complete answer to {msg_id} within {timeout:.0f}s "
                f"(reply: {reply is not None}, idle: {idle}, outputs: {outputs})"
            )
        if reply is None:
            try:
                take("shell", kc.get_shell_msg(timeout=min(remaining, 0.05)))
            except Empty:
                pass
        try:
            while not idle:
                take(
                    "iopub", kc.get_iopub_msg(timeout=0 if reply is None else min(remaining, 0.05))
                )
        except Empty:
            pass
    return reply, outputs


def wait_started(kc, msg_id, timeout=TIMEOUT):
    """Wait until the request's execute_input is published (the cell is about to run);
    every iopub message read is kept for collect()."""
    from queue import Empty

    stash = _stash(kc)
    if any(
        m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input"
        for m in stash["iopub"]
    ):
        return
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            fail(f"the cell {msg_id} did not start within {timeout:.0f}s")
        try:
            msg = kc.get_iopub_msg(timeout=min(remaining, 0.1))
        except Empty:
            continue
        stash["iopub"].append(msg)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            return


# Should an interrupt never land, this thread ends the loop after VALVE seconds, so
# that one failure leaves the kernel usable for later tests. Merely waking up, it
# takes the GIL, which makes the main thread look at pending calls (a queued
# interrupt then lands, late); a second later it raises an exception of its own there.
VALVE = 8.0
VALVE_CELL = f"""
import ctypes as _bj_ctypes, threading as _bj_threading
class BjSafetyValve(Exception):
    pass
def _bj_valve_run(ident=_bj_threading.get_ident()):
    if _bj_valve_closed.wait({VALVE}) or _bj_valve_closed.wait(1.0):
        return
    _bj_ctypes.pythonapi.PyThreadState_SetAsyncExc(_bj_ctypes.c_ulong(ident),
                                                   _bj_ctypes.py_object(BjSafetyValve))
_bj_valve_closed = _bj_threading.Event()
_bj_threading.Thread(target=_bj_valve_run, daemon=True).start()
"""
MAX_INTERRUPT_LATENCY = 3.0


def check_interrupt(test, kc, send_interrupt):
    """Interrupt `while True: pass` with send_interrupt(); the cell must end with
    KeyboardInterrupt within MAX_INTERRUPT_LATENCY s, and the kernel carry on."""
    reply, _ = execute(kc, VALVE_CELL)
    test.assertEqual(reply["status"], "ok", reply)
    msg_id = kc.execute("while True: pass")
    wait_started(kc, msg_id)
    time.sleep(0.2)
    sent = time.monotonic()
    send_interrupt()
    reply, _ = collect(kc, msg_id, timeout=VALVE + TIMEOUT)
    latency = time.monotonic() - sent
    closed, _ = execute(kc, "_bj_valve_closed.set()")
    test.assertEqual(reply["status"], "error", reply)
    test.assertLess(
        latency,
        MAX_INTERRUPT_LATENCY,
        f"the interrupt did not stop the cell: it ended {latency:.1f}s later with "
        f"{reply['ename']}, once the test's safety-valve thread woke up",
    )
    test.assertEqual(reply["ename"], "KeyboardInterrupt")
    test.assertEqual(closed["status"], "ok", closed)


def result_text(outputs):
    for msg in outputs:
        if msg["msg_type"] == "execute_result":
            return msg["content"]["data"]["text/plain"]
    return None


def stream_text(outputs, name="stdout"):
    return "".join(
        m["content"]["text"]
        for m in outputs
        if m["msg_type"] == "stream" and m["content"]["name"] == name
    )


class BlenderTestCase(unittest.TestCase):
    """One GUI Blender (BlenderGUI(**blender_options)) per test class: prepare()
    readies it, a failure there closes it; tearDownClass fails the run when closing
    found a problem; a step after Blender died fails at once with its log."""

    blender_options = {}

    @classmethod
    def setUpClass(cls):
        cls.blender = BlenderGUI(**cls.blender_options)
        try:
            cls.prepare()
        except BaseException:
            cls.blender.close()
            raise

    @classmethod
    def prepare(cls):
        """Runs once Blender started: wait for the kernel, connect clients…"""

    @classmethod
    def tearDownClass(cls):
        problems = cls.blender.close()
        if problems:
            raise AssertionError("; ".join(problems))

    def setUp(self):
        # A step after a failed one would only report the same failure again.
        if not self.blender.alive():
            self.fail("Blender is not running (an earlier step ended it):\n" + self.blender.log())


HEADLESS_KERNEL_NAME = "bpy-jupyter-blender"


def use_headless_kernelspec(prefix):
    """Writes the `bpy-jupyter-blender` kernelspec (`blender -b` running the staged
    add-on's kernel_process.py) into a new private folder and puts it first on
    JUPYTER_PATH for bjkernelspec (mode "installed": taken as it is), with Blender's
    temporary files kept in it. Call it before importing bjkernelspec. Returns the
    folder; removes it again if anything fails."""
    root = tempfile.mkdtemp(prefix=prefix)
    try:
        spec = {
            "argv": [
                find_program("blender", "BJ_BLENDER"),
                "-b",
                "--factory-startup",
                "--python",
                os.path.join(addon_scripts(), "addons", "bpy_jupyter", "kernel_process.py"),
                "--",
                "-f",
                "{connection_file}",
            ],
            "display_name": "Blender",
            "language": "python",
            "interrupt_mode": "message",
            "metadata": {"debugger": False},
        }
        kdir = os.path.join(root, "kernels", HEADLESS_KERNEL_NAME)
        os.makedirs(kdir)
        with open(os.path.join(kdir, "kernel.json"), "w") as f:
            json.dump(spec, f, indent=1)
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = root + (os.pathsep + old if old else "")
        os.environ["BJ_KERNELSPEC_MODE"] = "installed"
        os.environ["BJ_KERNEL_NAME"] = HEADLESS_KERNEL_NAME
        os.makedirs(os.path.join(root, "tmp"))
        os.environ["TMPDIR"] = os.path.join(root, "tmp")
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        # Blender starts in a few seconds, not the standalone kernel's milliseconds.
        os.environ.setdefault("BJ_STARTUP_TIMEOUT", str(STARTUP_TIMEOUT))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root
