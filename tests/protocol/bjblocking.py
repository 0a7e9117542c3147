"""The seven blocking calls of issue 15, shared by every host's interrupt tests.

A cell blocked in a system call (or a lock, or a wait for stdin) runs no bytecode:
an interrupt must still end it within INTERRUPT_LIMIT seconds with
KeyboardInterrupt, the kernel must keep serving, the next cell run and the
namespace survive. Stopping the kernel (D-Bus Stop, shutdown_request, SIGTERM)
while such a cell runs must end it the same way, leaving nothing behind.

Everything here speaks to a kernel through a real jupyter_client
BlockingKernelClient (`kc`), whichever host runs the kernel: the standalone
kernel, the _bpy_jupyter module in /usr/bin/python3, GUI or headless Blender.

`subprocess.run(["sleep", …])`: like ipykernel's, our interrupt reaches the
kernel's own thread, and subprocess.run() itself kills its child when
KeyboardInterrupt reaches it (and waits for it): no `sleep` may outlive the
cell. SLEEP_ARG makes this run's `sleep` processes recognisable in /proc.
"""

import os
import time
from queue import Empty

TIME_SCALE = float(os.environ.get("BJ_TIME_SCALE") or 1)
# The bound. subprocess.run() waits 0.25 s for a child that got the
# terminal's SIGINT too before it kills it; that is inside the second.
INTERRUPT_LIMIT = 1.0 * TIME_SCALE
STOP_LIMIT = 2.0 * TIME_SCALE
TIMEOUT = 15 * TIME_SCALE

SLEEP_ARG = "271.%d" % os.getpid()
READY = "bj-blocking-now"


class Blocking:
    def __init__(self, name, code, stdin=False, sleeps=False):
        self.name = name
        self.stdin = stdin  # waits for an input_reply the client never sends
        self.sleeps = sleeps  # starts a `sleep SLEEP_ARG` child process
        # The cell says when it is about to block, so the test interrupts the very call.
        self.code = "print(%r, flush=True)\n%s" % (READY, code)

    def __repr__(self):
        return self.name


CELLS = [
    Blocking("time.sleep", "import time\ntime.sleep(100)"),
    Blocking("threading.Event.wait", "import threading\nthreading.Event().wait()"),
    Blocking("queue.Queue.get", "import queue\nqueue.Queue().get()"),
    Blocking(
        "socket.recv",
        "import socket\n"
        "_bj_pair = socket.socketpair()\n"
        "try:\n"
        "    _bj_pair[0].recv(1)\n"
        "finally:\n"
        "    _bj_pair[0].close(); _bj_pair[1].close(); del _bj_pair\n",
    ),
    Blocking(
        "select.select",
        "import os, select\n"
        "_bj_r, _bj_w = os.pipe()\n"
        "try:\n"
        "    select.select([_bj_r], [], [])\n"
        "finally:\n"
        "    os.close(_bj_r); os.close(_bj_w); del _bj_r, _bj_w\n",
    ),
    Blocking(
        "subprocess.run",
        "import subprocess\nsubprocess.run(['sleep', %r])" % SLEEP_ARG,
        sleeps=True,
    ),
    Blocking("input", "input('never answered: ')", stdin=True),
]


def sleep_processes():
    """pids of this run's `sleep SLEEP_ARG` processes, zombies excluded."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/stat" % entry) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if argv[:2] == [b"sleep", SLEEP_ARG.encode()] and state != "Z":
            found.append(int(entry))
    return found


def wait_until(predicate, timeout, what, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def _parent(msg):
    return msg.get("parent_header", {}).get("msg_id")


def drain(kc):
    """Drop what earlier requests left on shell, iopub and stdin."""
    for get in (kc.get_shell_msg, kc.get_iopub_msg, kc.get_stdin_msg):
        while True:
            try:
                get(timeout=0.05)
            except Empty:
                break


class Cell:
    """A blocking cell sent to a kernel: start() returns once it blocks; finish()
    collects its reply and iopub messages (status idle included)."""

    def __init__(self, kc, blocking):
        self.kc = kc
        self.blocking = blocking
        self.msg_id = None
        self.reply = None
        self.iopub = []
        self.stdin = []
        self.others = []  # iopub messages of other requests (an interrupt's status)
        self.idle = False

    def _take_iopub(self, timeout):
        msg = self.kc.get_iopub_msg(timeout=timeout)
        if _parent(msg) == self.msg_id:
            self.iopub.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                self.idle = True
        else:
            self.others.append(msg)
        return msg

    def printed(self):
        return "".join(
            m["content"].get("text", "") for m in self.iopub if m["msg_type"] == "stream"
        )

    def start(self, timeout=TIMEOUT):
        drain(self.kc)
        self.msg_id = self.kc.execute(self.blocking.code, allow_stdin=self.blocking.stdin)
        deadline = time.monotonic() + timeout
        while READY not in self.printed():
            if time.monotonic() > deadline:
                raise AssertionError(
                    "the cell %r did not start within %.0fs: %r"
                    % (self.blocking, timeout, self.iopub)
                )
            try:
                self._take_iopub(0.1)
            except Empty:
                pass
        if self.blocking.stdin:
            while not self.stdin:
                if time.monotonic() > deadline:
                    raise AssertionError("no input_request within %.0fs" % timeout)
                try:
                    msg = self.kc.get_stdin_msg(timeout=0.1)
                except Empty:
                    continue
                if msg["msg_type"] == "input_request":
                    self.stdin.append(msg)
        elif self.blocking.sleeps:
            wait_until(sleep_processes, timeout, "the cell's sleep process")
        # Well inside the blocking call: the print above came just before it.
        time.sleep(0.2 * TIME_SCALE)
        return self

    def finish(self, timeout=TIMEOUT, need_idle=True):
        deadline = time.monotonic() + timeout
        while self.reply is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "no reply to the cell %r within %.1fs" % (self.blocking, timeout)
                )
            try:
                msg = self.kc.get_shell_msg(timeout=min(left, 0.05))
                if _parent(msg) == self.msg_id:
                    self.reply = msg
            except Empty:
                pass
        while need_idle and not self.idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no idle status after the cell %r" % (self.blocking,))
            try:
                self._take_iopub(min(left, 0.1))
            except Empty:
                pass
        return self.reply

    def wait_reply(self, limit):
        """Wait up to `limit` s for the reply; return it or None (nothing is lost)."""
        try:
            return self.finish(timeout=limit, need_idle=False)
        except AssertionError:
            return None


def run_cell(kc, code, timeout=TIMEOUT):
    """Run a plain cell; return (reply content, stdout text)."""
    cell = Cell(kc, None)
    drain(kc)
    cell.msg_id = kc.execute(code)
    reply = cell.finish(timeout)
    return reply["content"], cell.printed()


def check_interrupt(test, kc, blocking, send_interrupt):
    """Block in `blocking`, send_interrupt(), and check what issue 15 asks for."""
    content, _ = run_cell(kc, "_bj_kept = ['namespace', 'kept']")
    test.assertEqual(content["status"], "ok", content)
    cell = Cell(kc, blocking).start()
    sent = time.monotonic()
    send_interrupt()
    reply = cell.wait_reply(INTERRUPT_LIMIT)
    latency = time.monotonic() - sent
    if reply is None:
        # Let it end for the next test, then fail with what happened.
        late = cell.wait_reply(TIMEOUT)
        test.fail(
            "interrupting %r: no reply within %.1fs (%s)"
            % (
                blocking,
                INTERRUPT_LIMIT,
                "never"
                if late is None
                else "it came %.1fs later: %r"
                % (time.monotonic() - sent, late["content"].get("ename")),
            )
        )
    cell.finish()
    content = reply["content"]
    test.assertEqual(content["status"], "error", content)
    test.assertEqual(content["ename"], "KeyboardInterrupt", content)
    errors = [m for m in cell.iopub if m["msg_type"] == "error"]
    test.assertEqual([m["content"]["ename"] for m in errors], ["KeyboardInterrupt"])
    if blocking.sleeps:
        test.assertEqual(sleep_processes(), [], "the cell's sleep outlived the interrupt")
    # The kernel carries on, with its namespace.
    content, out = run_cell(kc, "print(_bj_kept, 6 * 7)")
    test.assertEqual(content["status"], "ok", content)
    test.assertEqual(out.strip(), "['namespace', 'kept'] 42")
    return latency


def check_stop(test, kc, blocking, stop, stopped, expect_reply=True):
    """Block in `blocking`, stop(), and wait for stopped() (the kernel or its process
    gone) within STOP_LIMIT; the cell's reply, where the kernel still sends one,
    is KeyboardInterrupt. Nothing of the cell is left."""
    cell = Cell(kc, blocking).start()
    sent = time.monotonic()
    stop()
    wait_until(stopped, STOP_LIMIT, "the kernel to stop with %r blocked" % (blocking,))
    latency = time.monotonic() - sent
    if expect_reply:
        reply = cell.wait_reply(1.0 * TIME_SCALE)
        test.assertIsNotNone(
            reply, "the cell %r got no reply before the kernel stopped" % (blocking,)
        )
        test.assertEqual(reply["content"].get("ename"), "KeyboardInterrupt", reply["content"])
    if blocking.sleeps:
        wait_until(
            lambda: not sleep_processes(),
            1.0 * TIME_SCALE,
            "the cell's sleep to end with the kernel",
        )
    return latency
