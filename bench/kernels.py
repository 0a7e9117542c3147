"""Starting and stopping the two kernels under test.

Both are launched the same way: a connection file written beforehand with
jupyter_client (free loopback ports, fresh key), then the process with -f FILE.
Every process started here is remembered; stop_all() ends whatever is still
running (shutdown_request on control, then SIGKILL after a timeout), and is
also run at exit and on SIGINT/SIGTERM, so a run never leaves kernels behind.
"""

import atexit
import json
import os
import secrets
import signal
import subprocess
import sys
import time

from jupyter_client.connect import write_connection_file

from rawclient import RawClient

SYSTEM_PYTHON = "/usr/bin/python3"
# XDG_CACHE_HOME of every process the bench starts (bench/run sets and warms it):
# ours keeps the bytecode of its Python runtime there, as it would in a user's
# ~/.cache after the first start.
BYTECODE_CACHE = None
SHUTDOWN_TIMEOUT = 5.0

_RUNNING = []  # KernelProcess objects whose process may still be alive


class KernelKind:
    def __init__(self, name, label, argv_prefix, env=None):
        self.name = name  # "ours" / "ipykernel"
        self.label = label  # for the table
        self.argv_prefix = argv_prefix
        self.env = env or {}  # added to the environment

    def argv(self, connection_file):
        return self.argv_prefix + ["-f", connection_file]


def ours(repo):
    return KernelKind(
        "ours",
        "bpy-jupyter-kernel",
        [os.path.join(repo, "build", "src", "tools", "bpy-jupyter-kernel")],
    )


def ipykernel():
    return KernelKind("ipykernel", "ipykernel", [SYSTEM_PYTHON, "-m", "ipykernel_launcher"])


def new_connection_file(path):
    """Writes a connection file with free tcp ports on 127.0.0.1; returns its dict."""
    if os.path.exists(path):
        os.unlink(path)
    # A fresh key, as jupyter_client's KernelManager gives: every message is signed
    # (write_connection_file alone would leave the key empty).
    write_connection_file(
        fname=path, ip="127.0.0.1", transport="tcp", key=secrets.token_hex(32).encode()
    )
    with open(path) as f:
        return json.load(f)


def blender_ours(blender, kernel_process, env):
    """Headless Blender as the kernel process, as the bpy-jupyter-blender kernelspec."""
    return KernelKind(
        "ours",
        "kernel_process.py",
        [blender, "-b", "--factory-startup", "--python", kernel_process, "--"],
        env,
    )


def blender_ipykernel(blender, reference_launcher, env):
    """The reference: ipykernel's blocking IPKernelApp in headless Blender."""
    return KernelKind(
        "ipykernel",
        "ipykernel in blender -b",
        [blender, "-b", "--factory-startup", "--python", reference_launcher, "--"],
        env,
    )


def _env(extra=None):
    env = dict(os.environ)
    # Only Debian's interpreter and its packages: nothing from the other Python
    # first on PATH may leak into either kernel.
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(var, None)
    if BYTECODE_CACHE:
        env["XDG_CACHE_HOME"] = BYTECODE_CACHE
    env.update(extra or {})
    return env


class KernelProcess:
    def __init__(self, kind, connection_file, log_path):
        self.kind = kind
        self.connection_file = connection_file
        self.log_path = log_path
        self.popen = None
        self.t_popen = None

    def start(self):
        """Popen only (the caller times what follows). Returns perf_counter at Popen."""
        self._log = open(self.log_path, "ab")
        self.t_popen = time.perf_counter()
        self.popen = subprocess.Popen(
            self.kind.argv(self.connection_file),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=_env(self.kind.env),
            cwd=os.path.dirname(self.connection_file),
            start_new_session=True,
        )
        _RUNNING.append(self)
        _STARTED_PIDS.add(self.popen.pid)
        return self.t_popen

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def rss_kb(self):
        return read_status_kb(self.popen.pid, "VmRSS")

    def hwm_kb(self):
        return read_status_kb(self.popen.pid, "VmHWM")

    def log_tail(self, n=20):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, client=None, timeout=SHUTDOWN_TIMEOUT):
        """shutdown_request on control, wait for exit, SIGKILL after timeout.
        Returns (seconds from request to exit or None if it had to be killed, returncode)."""
        if self.popen is None:
            return None, None
        exit_s = None
        if self.popen.poll() is None:
            own = client is None
            try:
                if own:
                    with open(self.connection_file) as f:
                        conn = json.load(f)
                    client = RawClient(conn, iopub=False)
                t0 = time.perf_counter()
                client.shutdown_request()
                try:
                    self.popen.wait(timeout)
                    exit_s = time.perf_counter() - t0
                except subprocess.TimeoutExpired:
                    pass
            except Exception as e:  # noqa: BLE001  (a broken kernel still gets killed)
                print("warning: shutdown of %s failed: %s" % (self.kind.name, e), file=sys.stderr)
            finally:
                if own and client is not None:
                    client.close()
        if self.popen.poll() is None:
            print(
                "warning: %s (pid %d) did not exit %.0f s after shutdown_request: killed"
                % (self.kind.name, self.popen.pid, timeout),
                file=sys.stderr,
            )
            self.kill()
        if self in _RUNNING:
            _RUNNING.remove(self)
        self._log.close()
        return exit_s, self.popen.returncode

    def kill(self):
        """SIGKILL to the kernel's own process group (it was started in a new
        session, pgid == its pid, still unreaped here so the id is still ours)."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass


def read_status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def stop_all():
    for k in list(_RUNNING):
        try:
            k.stop(timeout=2.0)
        except Exception:  # noqa: BLE001
            k.kill()
            if k in _RUNNING:
                _RUNNING.remove(k)


_STARTED_PIDS = set()


def stray_processes():
    """pids of processes still alive from this run: a kernel itself, or anything
    left in a kernel's process group (pgid == a kernel pid). Should be empty."""
    out = [k.pid for k in _RUNNING if k.alive()]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp in _STARTED_PIDS and state != "Z" and int(entry) not in out:
            out.append(int(entry))
    return out


def _on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def install_cleanup():
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
