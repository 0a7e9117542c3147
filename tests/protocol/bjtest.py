"""Shared helpers for the bpy-jupyter protocol tests.

Each test script is run as ``/usr/bin/python3 tests/protocol/test_xxx.py`` with
BJ_KERNEL_ARGV set (see ../bjkernelspec.py). The kernel is started through a
real jupyter_client KernelManager from a kernelspec, like a notebook would.

Environment knobs (all optional):
  BJ_TIME_SCALE                   factor for all latency bounds/timeouts (default 1)
  BJ_TIMEOUT                      generic per-message timeout in seconds (default 10)
  BJ_SHUTDOWN_TIMEOUT             how long a kernel may take to exit after
                                  shutdown_request (default 5)
  BJ_FORBIDDEN_TRACEBACK_WORDS    comma-separated words that must not appear in
                                  user tracebacks (default "bj_runtime")
  BJ_STARTUP_TIMEOUT              seconds until kernel_info must answer (default 30)
  BJ_EXPECT_WARNINGS              "1": the kernel must log warnings on stderr for
                                  rejected messages (see test_robustness.py)
  BJ_KEEP_STDERR                  "1": keep captured kernel stderr logs
"""

import inspect
import os
import re
import sys
import tempfile
import time
import unittest
from queue import Empty

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))  # tests/, for bjkernelspec

import bjkernelspec  # noqa: E402  (sets JUPYTER_PATH before jupyter_client)

import zmq  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

# BJ_TIME_SCALE multiplies every latency bound and timeout (e.g. 10 under valgrind)
TIME_SCALE = float(os.environ.get("BJ_TIME_SCALE") or 1)
TIMEOUT = float(os.environ.get("BJ_TIMEOUT") or 10 * TIME_SCALE)
SHUTDOWN_TIMEOUT = float(os.environ.get("BJ_SHUTDOWN_TIMEOUT") or 5 * TIME_SCALE)
STARTUP_TIMEOUT = float(os.environ.get("BJ_STARTUP_TIMEOUT") or 30 * TIME_SCALE)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(s):
    return _ANSI.sub("", s)


def forbidden_traceback_words():
    raw = os.environ.get("BJ_FORBIDDEN_TRACEBACK_WORDS")
    if raw is None:
        raw = "bj_runtime"
    return [w.strip() for w in raw.split(",") if w.strip()]


def expect_warnings():
    return os.environ.get("BJ_EXPECT_WARNINGS", "") == "1"


# ---------------------------------------------------------------------------
# kernel lifecycle


class Kernel:
    """A running kernel: km (KernelManager), kc (BlockingKernelClient),
    popen (the kernel process), stderr_path (if stderr was captured)."""

    def __init__(self, capture_stderr=False, env=None, args=None, kernel_name=None):
        """env: variables to add to (or, with None values, remove from) the kernel's environment.
        args: options added to the kernel's command line (a kernelspec of their own).
        kernel_name: another kernelspec (see bjkernelspec.add_kernelspec) to start."""
        bjkernelspec.check_kernelspec()
        self.name = kernel_name or bjkernelspec.setup_kernelspec()
        if args:
            self.name = bjkernelspec.add_kernelspec(
                "bpy-jupyter-python-%08x" % (hash(tuple(args)) & 0xFFFFFFFF),
                bjkernelspec.kernel_argv() + list(args),
            )
        self.stderr_path = None
        self._stderr_fh = None
        self.km = KernelManager(
            kernel_name=self.name, connection_file=bjkernelspec.connection_file_path()
        )
        kw = {}
        if capture_stderr:
            fd, self.stderr_path = tempfile.mkstemp(prefix="bj-kernel-stderr-", suffix=".log")
            os.close(fd)
            self._stderr_fh = open(self.stderr_path, "wb")
            kw["stderr"] = self._stderr_fh
        if env:
            kernel_env = dict(os.environ)
            for key, value in env.items():
                if value is None:
                    kernel_env.pop(key, None)
                else:
                    kernel_env[key] = value
            kw["env"] = kernel_env
        self.km.start_kernel(**kw)
        self.popen = self.km.provisioner.process
        bjkernelspec.register_process(self.popen)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        except Exception:
            self.kill()
            raise
        self.returncode = None
        self.exit_seconds = None

    # -- connection info ----------------------------------------------------
    def connection_info(self):
        return self.km.get_connection_info(session=False)

    def url(self, channel):
        info = self.connection_info()
        port = info["%s_port" % channel]
        if info["transport"] == "tcp":
            return "tcp://%s:%d" % (info["ip"], port)
        return "ipc://%s-%d" % (info["ip"], port)

    def stderr_text(self):
        if not self.stderr_path:
            return ""
        if self._stderr_fh:
            self._stderr_fh.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -- shutdown -----------------------------------------------------------
    def wait_exit(self, timeout):
        """Poll the process until it exits; return its exit code or None."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            rc = self.popen.poll()
            if rc is not None:
                self.exit_seconds = time.monotonic() - t0
                return rc
            time.sleep(0.02)
        return self.popen.poll()

    def send_shutdown(self, restart=False, channel="control"):
        """Send shutdown_request ourselves on control (or shell); return msg_id."""
        msg = self.kc.session.msg("shutdown_request", {"restart": restart})
        getattr(self.kc, channel + "_channel").send(msg)
        return msg["header"]["msg_id"]

    def kill(self):
        """Forcefully clean up everything (used on failure paths)."""
        try:
            self.kc.stop_channels()
        except Exception:
            pass
        try:
            if self.popen.poll() is None:
                self.km.shutdown_kernel(now=True)
            else:
                self.km.cleanup_resources()
        except Exception:
            pass
        self._close_stderr()

    def _close_stderr(self):
        if self._stderr_fh:
            self._stderr_fh.close()
            self._stderr_fh = None

    def shutdown(self, already_requested=False):
        """Graceful shutdown: shutdown_request on control, the process must exit
        by itself within SHUTDOWN_TIMEOUT with code 0. Resources are always
        released; returns a failure string or None."""
        problem = None
        if self.popen.poll() is None and not already_requested:
            try:
                self.send_shutdown(restart=False)
            except Exception as e:  # channels already stopped
                problem = "could not send shutdown_request: %r" % (e,)
        rc = self.wait_exit(SHUTDOWN_TIMEOUT)
        if rc is None:
            problem = "kernel process %d still running %.1fs after shutdown_request" % (
                self.popen.pid,
                SHUTDOWN_TIMEOUT,
            )
        elif rc != 0:
            problem = "kernel process exited with code %r after shutdown_request" % (rc,)
        self.returncode = rc
        try:
            self.kc.stop_channels()
        except Exception:
            pass
        try:
            if self.popen.poll() is None:
                self.km.shutdown_kernel(now=True)
            else:
                self.km.cleanup_resources()
        except Exception as e:
            problem = problem or "cleanup failed: %r" % (e,)
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(5)
            problem = problem or "kernel process had to be killed"
        self._close_stderr()
        if self.stderr_path and not os.environ.get("BJ_KEEP_STDERR"):
            try:
                os.unlink(self.stderr_path)
            except OSError:
                pass
        return problem


# ---------------------------------------------------------------------------
# message helpers


def parent_id(msg):
    return msg.get("parent_header", {}).get("msg_id")


def control_request(kc, msg_type, content=None):
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    return msg["header"]["msg_id"]


def _sync(fn, *args, **kw):
    """Call a channel method that is async in jupyter_client 7, sync in 8."""
    if inspect.iscoroutinefunction(fn):
        from jupyter_client.utils import run_sync

        return run_sync(fn)(*args, **kw)
    return fn(*args, **kw)


def get_msg(channel, timeout=None):
    """channel.get_msg(timeout) for shell/control/iopub/stdin; raises Empty."""
    return _sync(channel.get_msg, timeout=timeout)


def msg_ready(channel):
    return bool(_sync(channel.msg_ready))


def get_reply(channel, msg_id, timeout=TIMEOUT, others=None):
    """Next message on a shell/control channel (e.g. kc.shell_channel) whose
    parent is msg_id; messages for other parents go to `others` (or are dropped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no reply to %s within %.1fs" % (msg_id, timeout))
        try:
            msg = get_msg(channel, timeout=left)
        except Empty:
            continue
        if parent_id(msg) == msg_id:
            return msg
        if others is not None:
            others.append(msg)


def collect_iopub(kc, msg_id, timeout=TIMEOUT, others=None):
    """iopub messages whose parent is msg_id, in arrival order, up to and
    including status idle. Messages for other parents go to `others`."""
    deadline = time.monotonic() + timeout
    msgs = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(
                "no idle status for %s within %.1fs; got %r"
                % (msg_id, timeout, [m["msg_type"] for m in msgs])
            )
        try:
            msg = get_msg(kc.iopub_channel, timeout=left)
        except Empty:
            continue
        if parent_id(msg) != msg_id:
            if others is not None:
                others.append(msg)
            continue
        msgs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return msgs


def execute(kc, code, timeout=TIMEOUT, others=None, **kw):
    """Run code; return (reply, iopub messages for this request)."""
    msg_id = kc.execute(code, **kw)
    reply = get_reply(kc.shell_channel, msg_id, timeout, others)
    msgs = collect_iopub(kc, msg_id, timeout, others)
    return reply, msgs


def stream_text(msgs, name="stdout"):
    return "".join(
        m["content"]["text"]
        for m in msgs
        if m["msg_type"] == "stream" and m["content"]["name"] == name
    )


def of_type(msgs, msg_type):
    return [m for m in msgs if m["msg_type"] == msg_type]


def flush_iopub(kc, quiet=0.2):
    out = []
    while True:
        try:
            out.append(get_msg(kc.iopub_channel, timeout=quiet))
        except Empty:
            return out


def heartbeat_ping(kernel, timeout=None, payload=b"bj-ping"):
    """Raw REQ ping on the heartbeat port; True if echoed within timeout."""
    if timeout is None:
        timeout = 1.0 * TIME_SCALE
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.REQ)
    s.linger = 0
    try:
        s.connect(kernel.url("hb"))
        s.send(payload)
        if s.poll(int(timeout * 1000)):
            return s.recv() == payload
        return False
    finally:
        s.close(linger=0)


# ---------------------------------------------------------------------------
# test case bases


class KernelTestCase(unittest.TestCase):
    """One kernel per test class, shut down gracefully in tearDownClass
    (which fails the run if the process does not exit cleanly)."""

    capture_stderr = False
    kernel_env = None  # see Kernel(env=)
    kernel_args = None  # see Kernel(args=)
    kernel = None

    @classmethod
    def setUpClass(cls):
        cls.kernel = Kernel(
            capture_stderr=cls.capture_stderr, env=cls.kernel_env, args=cls.kernel_args
        )
        cls.km = cls.kernel.km
        cls.kc = cls.kernel.kc

    @classmethod
    def tearDownClass(cls):
        if cls.kernel is None:
            return
        problem = cls.kernel.shutdown()
        cls.kernel = None
        if problem:
            raise AssertionError("teardown: " + problem)

    def setUp(self):
        # stale iopub from a previous test must not leak into this one
        flush_iopub(self.kc, quiet=0.05)

    def execute(self, code, **kw):
        return execute(self.kc, code, **kw)

    def assertOk(self, reply):
        self.assertEqual(
            reply["content"]["status"],
            "ok",
            "reply status: %r" % (reply["content"],),
        )


def main():
    bjkernelspec.unittest_main()
