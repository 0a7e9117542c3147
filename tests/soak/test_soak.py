"""Soak: many start/stop cycles of one kernel object, and many executes in one
kernel process, with file descriptors, threads and RSS flat.

  BJ_SOAK_CYCLES     start/stop cycles (default 1000)
  BJ_SOAK_EXECUTES   executes in one kernel (default 100000)

Both report their numbers on stderr (docs/security.md quotes them).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import zmq
from jupyter_client.session import Session

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
import bjtest  # noqa: E402
import bjkernelspec  # noqa: E402

CYCLES = int(os.environ.get("BJ_SOAK_CYCLES") or 1000)
EXECUTES = int(os.environ.get("BJ_SOAK_EXECUTES") or 100000)
MODULE_DIR = os.environ.get("BJ_MODULE_DIR")


def usage(pid="self"):
    """(fds, threads, RSS in KiB) of a process."""
    fds = len(os.listdir("/proc/%s/fd" % pid))
    threads = len(os.listdir("/proc/%s/task" % pid))
    with open("/proc/%s/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return fds, threads, rss


def is_idle(frames):
    """Whether an iopub message is an idle status, without the cost of parsing it
    all: the client must keep up with the kernel, or it measures itself."""
    header = json.loads(frames[frames.index(b"<IDS|MSG>") + 2])
    return header["msg_type"] == "status" and json.loads(frames[-1])["execution_state"] == "idle"


# Runs in a process of its own: the module's kernel, started and stopped CYCLES
# times; a raw client asks for kernel_info every 50th cycle to show it serves (not
# right before a sample: ZeroMQ closes its sockets in the background).
CYCLE_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import _bpy_jupyter, zmq
from jupyter_client.session import Session

def usage():
    fds = len(os.listdir("/proc/self/fd"))
    threads = len(os.listdir("/proc/self/task"))
    with open("/proc/self/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return fds, threads, rss

cycles, path = int(sys.argv[2]), sys.argv[3]
kernel = _bpy_jupyter.Kernel()
assert kernel.max_message_size == 256 << 20
try:
    kernel.configure(max_message_size=100)
    raise SystemExit("a 100-byte limit was accepted")
except ValueError:
    pass
kernel.configure(max_message_size=65536)
assert kernel.max_message_size == 65536
context = zmq.Context()
samples = {}
for i in range(1, cycles + 1):
    kernel.start(path)
    if i == 1 or i % 50 == 25:
        with open(path) as f:
            info = json.load(f)
        session = Session(key=info["key"].encode())
        sock = context.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect("tcp://%s:%d" % (info["ip"], info["control_port"]))
        if i == 1:  # the limit set with configure() holds
            session.send(sock, "kernel_info_request", {"padding": "p" * 100000})
            assert not sock.poll(500), "a message over the limit was answered"
        session.send(sock, "kernel_info_request", {})
        assert sock.poll(10000), "no kernel_info_reply at cycle %d" % i
        reply = session.recv(sock)[1]
        assert reply["msg_type"] == "kernel_info_reply", reply
        sock.close(linger=0)
    kernel.stop()
    assert not os.path.exists(path)
    if i in (cycles // 10, cycles):
        samples[i] = usage()
context.term()
print(json.dumps(samples))
"""


class Soak(unittest.TestCase):
    def test_start_stop_cycles(self):
        self.assertTrue(MODULE_DIR, "BJ_MODULE_DIR (the built _bpy_jupyter module) is not set")
        with tempfile.TemporaryDirectory(prefix="bj-soak-") as folder:
            os.chmod(folder, 0o700)
            t0 = time.monotonic()
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CYCLE_SCRIPT,
                    MODULE_DIR,
                    str(CYCLES),
                    os.path.join(folder, "kernel.json"),
                ],
                capture_output=True,
                text=True,
                timeout=600 * bjtest.TIME_SCALE,
            )
            elapsed = time.monotonic() - t0
        self.assertEqual(done.returncode, 0, done.stderr)
        samples = {int(k): v for k, v in json.loads(done.stdout.splitlines()[-1]).items()}
        (early, (fds0, threads0, rss0)), (last, (fds1, threads1, rss1)) = sorted(samples.items())
        print(
            "%d start/stop cycles in %.1f s: after %d: %d fds, %d threads, %d KiB; "
            "after %d: %d fds, %d threads, %d KiB (RSS %+d KiB)"
            % (
                CYCLES,
                elapsed,
                early,
                fds0,
                threads0,
                rss0,
                last,
                fds1,
                threads1,
                rss1,
                rss1 - rss0,
            ),
            file=sys.stderr,
        )
        self.assertEqual(fds1, fds0, "file descriptors leak across start/stop")
        self.assertEqual(threads1, threads0, "threads leak across start/stop")
        self.assertLess(rss1 - rss0, 8 * 1024, "memory grows with start/stop cycles")

    def test_many_executes(self):
        kernel = bjtest.Kernel()
        self.addCleanup(kernel.kill)
        pid = kernel.popen.pid
        info = kernel.connection_info()
        key = info["key"] if isinstance(info["key"], bytes) else info["key"].encode()
        session = Session(key=key)
        context = zmq.Context()
        self.addCleanup(context.destroy, 0)
        shell = context.socket(zmq.DEALER)
        shell.connect(kernel.url("shell"))
        iopub = context.socket(zmq.SUB)
        iopub.subscribe(b"")
        iopub.connect(kernel.url("iopub"))
        time.sleep(0.3)

        # Cells of every kind a session has: results, prints, errors, silent ones.
        cells = [
            ("n = %d", {}),
            ("n * 2", {}),
            ("print(n)", {}),
            ("s = 'x' * 1000; len(s)", {}),
            ("n += 1", {"silent": True}),
            ("1 / 0 if n %% 97 == 0 else n", {"stop_on_error": False}),
        ]
        window = 50
        samples = {}
        pending = 0
        sent = received = idles = errors = 0
        t0 = time.monotonic()
        while received < EXECUTES:
            while pending < window and sent < EXECUTES:
                code, extra = cells[sent % len(cells)]
                content = {
                    "code": code % sent if "%d" in code else code.replace("%%", "%"),
                    "silent": False,
                    "store_history": True,
                    "allow_stdin": False,
                    "stop_on_error": True,
                    "user_expressions": {},
                }
                content.update(extra)
                session.send(shell, "execute_request", content)
                sent += 1
                pending += 1
            self.assertTrue(
                shell.poll(int(60000 * bjtest.TIME_SCALE)), "no reply after %d executes" % received
            )
            reply = session.recv(shell)[1]
            self.assertEqual(reply["msg_type"], "execute_reply")
            if reply["content"]["status"] != "ok":
                self.assertEqual(reply["content"]["ename"], "ZeroDivisionError", reply["content"])
                errors += 1
            received += 1
            pending -= 1
            while iopub.poll(0):
                idles += is_idle(iopub.recv_multipart())
            if received % (EXECUTES // 10) == 0:
                samples[received] = usage(pid)
        elapsed = time.monotonic() - t0
        while iopub.poll(500):
            idles += is_idle(iopub.recv_multipart())

        print(
            "RSS every %d executes (KiB): %s"
            % (EXECUTES // 10, [v[2] for k, v in sorted(samples.items())]),
            file=sys.stderr,
        )
        early, last = EXECUTES // 10, EXECUTES
        fds0, threads0, rss0 = samples[early]
        fds1, threads1, rss1 = samples[last]
        print(
            "%d executes in %.1f s (%.0f/s, %d errors): after %d: %d fds, %d threads, %d KiB; "
            "after %d: %d fds, %d threads, %d KiB (RSS %+d KiB)"
            % (
                EXECUTES,
                elapsed,
                EXECUTES / elapsed,
                errors,
                early,
                fds0,
                threads0,
                rss0,
                last,
                fds1,
                threads1,
                rss1,
                rss1 - rss0,
            ),
            file=sys.stderr,
        )
        self.assertEqual(idles, EXECUTES, "iopub lost status messages")
        self.assertGreater(errors, 0)
        self.assertLessEqual(fds1, fds0, "file descriptors grow with executes")
        self.assertEqual(threads1, threads0, "threads grow with executes")
        # Memory grows while two bounded stores fill: the signatures kept against
        # replay (the last 65 536 requests, ~140 bytes each) and the input history
        # (the last 10 000 cells). Once both are full it is flat.
        self.assertLess(
            rss1 - rss0, 16 * 1024, "memory grows with executes beyond the bounded stores"
        )
        if EXECUTES >= 80000:
            full = samples[EXECUTES * 7 // 10][2]
            print(
                "RSS from %d to %d executes: %+d KiB" % (EXECUTES * 7 // 10, EXECUTES, rss1 - full),
                file=sys.stderr,
            )
            self.assertLess(
                rss1 - full, 1024, "memory grows with executes once the bounded stores are full"
            )
        problem = kernel.shutdown()
        self.assertIsNone(problem)


if __name__ == "__main__":
    bjkernelspec.unittest_main()
