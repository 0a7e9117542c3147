"""Limits and faults: a message over the size limit, a subscriber that never
reads, a kernel stopped while its cell runs, a cell that runs out of memory.

Each case checks what the faulty party gets, and that everyone else is served.
"""
import os
import resource
import signal
import sys
import time
import unittest

import zmq
from jupyter_client.session import Session

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
import bjtest  # noqa: E402

TIMEOUT = bjtest.TIMEOUT
SMALL_LIMIT = 65536


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def vm_size_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize for %d" % pid)


class RawClient:
    """A DEALER on one channel speaking the protocol with the connection's key."""

    def __init__(self, test, channel="shell"):
        info = test.km.get_connection_info(session=False)
        key = info["key"] if isinstance(info["key"], bytes) else info["key"].encode()
        self.session = Session(key=key)
        self.context = zmq.Context()
        self.sock = self.context.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect("tcp://%s:%d" % (info["ip"], info[channel + "_port"]))
        test.addCleanup(self.close)

    def send(self, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(self.sock, msg)
        return msg["header"]["msg_id"]

    def recv(self, timeout):
        if not self.sock.poll(int(timeout * 1000)):
            return None
        return self.session.recv(self.sock)[1]

    def close(self):
        self.sock.close(linger=0)
        self.context.term()


class MessageSizeLimit(bjtest.KernelTestCase):
    kernel_args = ["--max-message-size", str(SMALL_LIMIT)]

    def test_oversized_request_is_refused_and_others_are_served(self):
        raw = RawClient(self)
        raw.send(
            "execute_request", {"code": "x = '%s'" % ("a" * (2 * SMALL_LIMIT)), "silent": False}
        )
        self.assertIsNone(raw.recv(1.0 * bjtest.TIME_SCALE), "an oversized request was answered")

        # The legitimate client, connected all along, is served as before.
        reply, msgs = self.execute("'x' in dir()")
        self.assertOk(reply)
        self.assertEqual(
            bjtest.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "False"
        )

        # A request under the limit from the same raw client (ZeroMQ reconnected it) runs.
        msg_id = raw.send("execute_request", {"code": "y = '%s'" % ("b" * (SMALL_LIMIT // 2))})
        deadline = time.monotonic() + TIMEOUT
        reply = None
        while reply is None and time.monotonic() < deadline:
            msg = raw.recv(0.5)
            if msg is None:
                msg_id = raw.send(
                    "execute_request", {"code": "y = '%s'" % ("b" * (SMALL_LIMIT // 2))}
                )
            elif msg["parent_header"]["msg_id"] == msg_id:
                reply = msg
        self.assertIsNotNone(reply, "no reply to a request under the limit after the drop")
        self.assertEqual(reply["content"]["status"], "ok")
        reply, _ = self.execute("assert len(y) == %d" % (SMALL_LIMIT // 2))
        self.assertOk(reply)

    def test_oversized_control_and_stdin_messages(self):
        for channel in ("control", "stdin"):
            raw = RawClient(self, channel)
            raw.send(
                "kernel_info_request" if channel == "control" else "input_reply",
                {"value": "v" * (2 * SMALL_LIMIT)},
            )
            self.assertIsNone(raw.recv(0.5 * bjtest.TIME_SCALE))
        msg_id = bjtest.control_request(self.kc, "kernel_info_request")
        reply = bjtest.get_reply(self.kc.control_channel, msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIsNone(self.kernel.popen.poll())


class SlowSubscriber(bjtest.KernelTestCase):
    CELLS = 1500

    def test_subscriber_that_never_reads_does_not_block_the_kernel(self):
        context = zmq.Context()
        self.addCleanup(context.destroy, 0)
        slow = context.socket(zmq.SUB)
        slow.rcvhwm = 10
        slow.setsockopt(zmq.RCVBUF, 4096)
        slow.subscribe(b"")
        slow.connect(self.kernel.url("iopub"))
        time.sleep(0.3)  # the subscription reaches the kernel

        rss_before = rss_kib(self.kernel.popen.pid)
        code = "print('%s')" % ("z" * 10000)
        t0 = time.monotonic()
        for i in range(self.CELLS):
            msg_id = self.kc.execute(code)
            reply = bjtest.get_reply(self.kc.shell_channel, msg_id)
            self.assertEqual(reply["content"]["status"], "ok")
            # The legitimate subscriber reads: it loses nothing.
            msgs = bjtest.collect_iopub(self.kc, msg_id)
            self.assertEqual(len(bjtest.stream_text(msgs)), 10001, "cell %d lost output" % i)
        elapsed = time.monotonic() - t0
        rss_growth = rss_kib(self.kernel.popen.pid) - rss_before

        # Each cell published busy, execute_input, stream and idle: the slow
        # subscriber got at most its queues' worth, the rest was dropped for it.
        received = 0
        while slow.poll(200):
            slow.recv_multipart()
            received += 1
        published = 4 * self.CELLS
        print(
            "slow subscriber: %d of %d messages; %d cells in %.1f s; RSS +%d KiB"
            % (received, published, self.CELLS, elapsed, rss_growth),
            file=sys.stderr,
        )
        self.assertLess(received, published // 2)
        # Bounded by the high-water mark (1000 messages of ~10 KB) plus socket buffers.
        self.assertLess(rss_growth, 64 * 1024, "the kernel grows with a slow subscriber")


class StopWhileBusy(unittest.TestCase):
    """Each case stops a kernel whose cell would run for a long time."""

    CELLS = {
        "sleep": "import time\ntime.sleep(100)",
        "busy loop": "while True:\n    pass",
        "input": "input('never answered: ')",
    }

    def start(self):
        kernel = bjtest.Kernel(capture_stderr=True)
        self.addCleanup(kernel.kill)
        return kernel

    def run_cell(self, kernel, code):
        msg_id = kernel.kc.execute(code, allow_stdin=True)
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = bjtest.get_msg(
                kernel.kc.iopub_channel, timeout=max(0.1, deadline - time.monotonic())
            )
            if (
                bjtest.parent_id(msg) == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "busy"
            ):
                break
        time.sleep(0.3 * bjtest.TIME_SCALE)  # well inside the cell
        self.assertIsNone(kernel.popen.poll())
        return msg_id

    def assert_stops(self, kernel, how, msg_id=None):
        t0 = time.monotonic()
        rc = kernel.wait_exit(bjtest.SHUTDOWN_TIMEOUT)
        self.assertIsNotNone(
            rc, "%s: the kernel still runs after %.1f s" % (how, bjtest.SHUTDOWN_TIMEOUT)
        )
        self.assertEqual(rc, 0, "%s: exit code %r\n%s" % (how, rc, kernel.stderr_text()))
        if msg_id is not None:
            # The interrupted cell's client got its reply before the kernel went.
            reply = bjtest.get_reply(kernel.kc.shell_channel, msg_id, timeout=2)
            self.assertEqual(reply["content"]["status"], "error")
            self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        return time.monotonic() - t0

    def test_shutdown_request_while_a_cell_runs(self):
        for name, code in self.CELLS.items():
            with self.subTest(cell=name):
                kernel = self.start()
                msg_id = self.run_cell(kernel, code)
                shutdown_id = kernel.send_shutdown()
                reply = bjtest.get_reply(kernel.kc.control_channel, shutdown_id)
                self.assertEqual(reply["content"]["status"], "ok")
                self.assert_stops(kernel, "shutdown_request during " + name, msg_id)
                kernel.shutdown(already_requested=True)

    def test_sigterm_while_a_cell_runs(self):
        for name, code in self.CELLS.items():
            with self.subTest(cell=name):
                kernel = self.start()
                msg_id = self.run_cell(kernel, code)
                kernel.popen.send_signal(signal.SIGTERM)
                self.assert_stops(kernel, "SIGTERM during " + name, msg_id)
                self.assertIn("Stopping on a termination signal", kernel.stderr_text())
                kernel.shutdown(already_requested=True)


class OutOfMemory(bjtest.KernelTestCase):
    def assert_memory_error(self, code):
        reply, msgs = self.execute(code, timeout=30 * bjtest.TIME_SCALE)
        self.assertEqual(reply["content"]["status"], "error", reply["content"])
        self.assertEqual(reply["content"]["ename"], "MemoryError")
        errors = bjtest.of_type(msgs, "error")
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0]["content"]["ename"], "MemoryError")
        # The next cell runs, and the kernel kept its state.
        reply, msgs = self.execute("print(sum(range(10)), kept)")
        self.assertOk(reply)
        self.assertEqual(bjtest.stream_text(msgs), "45 kept\n")
        self.assertIsNone(self.kernel.popen.poll())

    def setUp(self):
        super().setUp()
        reply, _ = self.execute("kept = 'kept'")
        self.assertOk(reply)

    def test_allocations_no_machine_can_satisfy(self):
        self.assert_memory_error("b' ' * (1 << 46)")
        self.assert_memory_error("bytearray(10**13)")
        self.assert_memory_error("[0] * (1 << 60)")

    def test_memory_running_out_under_an_address_space_limit(self):
        # The kernel's address space is capped a little above what it uses: the
        # cell's allocations really fail, one by one, until Python gives up.
        pid = self.kernel.popen.pid
        limit = vm_size_bytes(pid) + 256 * 1024 * 1024
        old = resource.prlimit(pid, resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        try:
            self.assert_memory_error(
                "def fill():\n"
                "    chunks = []\n"
                "    while True:\n"
                "        chunks.append(bytearray(1 << 20))\n"
                "fill()"
            )
            # A cell wanting a little more than is left fails; one that fits runs.
            self.assert_memory_error("bytearray(512 << 20)")
            reply, _ = self.execute("z = bytearray(16 << 20); del z")
            self.assertOk(reply)
        finally:
            resource.prlimit(pid, resource.RLIMIT_AS, old)


class LongSession(bjtest.KernelTestCase):
    def test_cell_sources_are_bounded_and_live_functions_keep_theirs(self):
        reply, _ = self.execute("def old_function():\n    raise ValueError('from an old cell')")
        self.assertOk(reply)
        for i in range(1200):
            msg_id = self.kc.execute("v = %d" % i)
            self.assertEqual(
                bjtest.get_reply(self.kc.shell_channel, msg_id)["content"]["status"], "ok"
            )
        bjtest.flush_iopub(self.kc)
        reply, msgs = self.execute(
            "import linecache\nprint(sum(name.startswith('<cell-') for name in linecache.cache))"
        )
        self.assertOk(reply)
        self.assertLessEqual(int(bjtest.stream_text(msgs)), 1001)
        # A function defined 1 200 cells ago still shows its source in tracebacks.
        reply, msgs = self.execute("old_function()")
        self.assertEqual(reply["content"]["ename"], "ValueError")
        traceback = bjtest.strip_ansi("\n".join(reply["content"]["traceback"]))
        self.assertIn("raise ValueError('from an old cell')", traceback)


if __name__ == "__main__":
    bjtest.main()
