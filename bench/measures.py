"""The individual measurements. Each function does one trial on one kernel and
returns plain numbers (seconds, counts); bench/run interleaves the trials
ours / ipykernel and summarizes them."""

import json
import os
import time
from queue import Empty

from jupyter_client.blocking import BlockingKernelClient

from rawclient import BenchTimeout, RawClient

FIRST_PRINT_CODE = "print('x'); import time; time.sleep(0.5)"


# -- scheduling ---------------------------------------------------------------


def interleave(targets, n, block):
    """targets: list of (name, trial) with trial() -> sample. Runs `block` trials
    on each target in turn (A A A … B B B … A A A …) until each has n samples."""
    samples = {name: [] for name, _ in targets}
    done = 0
    while done < n:
        k = min(block, n - done)
        for name, trial in targets:
            for _ in range(k):
                samples[name].append(trial())
        done += k
    return samples


# -- 1. execute round trip ------------------------------------------------------


def jc_client(connection_file):
    kc = BlockingKernelClient(connection_file=connection_file)
    kc.load_connection_file()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    # wait_for_ready leaves its own kernel_info traffic behind: drop it.
    for get in (kc.get_shell_msg, kc.get_iopub_msg):
        for _ in range(1000):
            try:
                get(timeout=0.2)
            except Empty:
                break
    return kc


def jc_execute(kc, code="1+1", timeout=30.0):
    """jupyter_client round trip: execute(), then the reply on shell and the idle
    on iopub for it. Seconds from execute() until both were received."""
    t0 = time.perf_counter()
    mid = kc.execute(code)
    deadline = t0 + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.001, deadline - time.perf_counter()))
        if msg["parent_header"].get("msg_id") == mid:
            if msg["content"].get("status") != "ok":
                raise RuntimeError("execute failed: %r" % msg["content"])
            break
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.001, deadline - time.perf_counter()))
        if (
            msg["parent_header"].get("msg_id") == mid
            and msg["msg_type"] == "status"
            and msg["content"].get("execution_state") == "idle"
        ):
            break
    return time.perf_counter() - t0


def raw_execute(client, code="1+1"):
    return client.execute(code)


# -- 2. first print -------------------------------------------------------------


def first_print(client, timeout=30.0):
    """Seconds from sending FIRST_PRINT_CODE until the first stream message for
    it arrives on iopub (the cell itself then sleeps 0.5 s; we wait it out)."""
    first = {}

    def on_iopub(h, c, t):
        if h["msg_type"] == "stream" and "t" not in first:
            first["t"] = t
            first["text"] = c.get("text", "")

    t0 = time.perf_counter()
    mid = client.execute_request(FIRST_PRINT_CODE)
    reply, _, _ = client.wait_reply_and_idle(mid, timeout, on_iopub)
    if reply.get("status") != "ok":
        raise RuntimeError("first print cell failed: %r" % reply)
    if "t" not in first:
        raise RuntimeError("no stream message for the first-print cell")
    if not first["text"].startswith("x"):
        raise RuntimeError("first stream message was %r, expected 'x…'" % first["text"][:40])
    return first["t"] - t0


# -- 3. print throughput --------------------------------------------------------


def expected_lines(n):
    return "".join("%d\n" % i for i in range(n))


def describe_mismatch(got, want):
    """A short, precise account of how the received text differs."""
    got_lines = got.split("\n")
    want_n = want.count("\n")
    i = 0
    limit = min(len(got), len(want))
    while i < limit and got[i] == want[i]:
        i += 1
    line = got.count("\n", 0, i)
    # which numbers are missing / duplicated / out of order
    nums = []
    bad = 0
    for s in got_lines[:-1] if got.endswith("\n") else got_lines:
        try:
            nums.append(int(s))
        except ValueError:
            bad += 1
    seen = set(nums)
    missing = want_n - len(seen & set(range(want_n)))
    dups = len(nums) - len(seen)
    out_of_order = sum(1 for a, b in zip(nums, nums[1:]) if b != a + 1)
    return (
        "received %d chars / %d lines, expected %d chars / %d lines; first difference at "
        "char %d (line %d): got %r, expected %r; missing numbers: %d, duplicated: %d, "
        "non-numeric lines: %d, breaks in sequence: %d"
        % (
            len(got),
            got.count("\n"),
            len(want),
            want_n,
            i,
            line,
            got[max(0, i - 20) : i + 20],
            want[max(0, i - 20) : i + 20],
            missing,
            dups,
            bad,
            out_of_order,
        )
    )


def print_throughput(client, n, want=None, timeout=300.0):
    """Sends `for i in range(n): print(i)`, collects the stdout stream until idle.
    Returns dict(seconds, lines_per_s, messages, ok, problem)."""
    chunks = []
    other = []

    def on_iopub(h, c, t):
        if h["msg_type"] == "stream":
            if c.get("name") == "stdout":
                chunks.append(c.get("text", ""))
            else:
                other.append(c.get("text", ""))

    code = "for i in range(%d): print(i)" % n
    t0 = time.perf_counter()
    mid = client.execute_request(code)
    reply, t_reply, t_idle = client.wait_reply_and_idle(mid, timeout, on_iopub)
    seconds = max(t_reply, t_idle) - t0
    got = "".join(chunks)
    if want is None:
        want = expected_lines(n)
    problem = None
    if reply.get("status") != "ok":
        problem = "execute_reply status %r" % reply.get("status")
    elif got != want:
        problem = describe_mismatch(got, want)
    elif other:
        problem = "unexpected stderr text: %r" % "".join(other)[:200]
    return {
        "seconds": seconds,
        "lines_per_s": n / seconds,
        "messages": len(chunks),
        "ok": problem is None,
        "problem": problem,
    }


# -- 4. completion ----------------------------------------------------------------


def complete(client, code, timeout=30.0):
    """Seconds from complete_request until complete_reply; then waits (untimed)
    for the idle of that request so requests never overlap. Returns (s, matches)."""
    t0 = time.perf_counter()
    mid = client.send(client.shell, "complete_request", {"code": code, "cursor_pos": len(code)})
    reply, t_reply, _ = client.wait_reply_and_idle(mid, timeout)
    if reply.get("status") != "ok":
        raise RuntimeError("complete_request %r failed: %r" % (code, reply))
    return t_reply - t0, reply.get("matches", [])


# -- 5 + 6. launch, RSS -------------------------------------------------------------


def launch_once(proc, conn, timeout=60.0):
    """proc: a not yet started kernels.KernelProcess whose connection file holds
    conn. Connects before Popen with a 1 ms reconnect interval and queues one
    kernel_info_request, so its reply comes as soon as the kernel serves shell.
    Returns dict with seconds from Popen to: kernel_info_reply, the reply to a
    first `1+1` sent right after it, the process's exit after shutdown_request
    (cycle_s); VmRSS (kB) at kernel_info_reply and after that
    execute; shutdown seconds."""
    client = RawClient(conn, reconnect_ivl_ms=1, iopub=True)
    res = {}
    try:
        client.send(client.shell, "kernel_info_request", {})
        t0 = proc.start()
        deadline = t0 + timeout
        next_resend = t0 + 5.0  # only a safety net: the first request is queued
        t_ki = None
        while t_ki is None:
            for s, _ in client.poller.poll(20):
                h, _, _ = client.parse(s.recv_multipart())
                if s is client.shell and h["msg_type"] == "kernel_info_reply":
                    t_ki = time.perf_counter()
            if t_ki is not None:
                break
            now = time.perf_counter()
            if proc.popen.poll() is not None:
                raise RuntimeError(
                    "%s exited with %s before answering kernel_info:\n%s"
                    % (proc.kind.name, proc.popen.returncode, proc.log_tail())
                )
            if now > deadline:
                raise BenchTimeout("no kernel_info_reply within %.0f s" % timeout)
            if now >= next_resend:
                client.send(client.shell, "kernel_info_request", {})
                next_resend += 5.0
        res["kernel_info_s"] = t_ki - t0
        res["rss_startup_kb"] = proc.rss_kb()
        mid = client.execute_request("1+1")
        reply, t_reply, t_idle = client.wait_reply_and_idle(mid, timeout)
        if reply.get("status") != "ok":
            raise RuntimeError("first execute failed: %r" % reply)
        res["first_execute_s"] = t_reply - t0
        res["rss_after_execute_kb"] = proc.rss_kb()
        exit_s, rc = proc.stop(client)
        res["shutdown_s"] = exit_s
        res["returncode"] = rc
        if exit_s is not None:  # one whole process start/stop cycle
            res["cycle_s"] = time.perf_counter() - t0
    finally:
        if proc.alive():
            proc.stop()
        client.close()
    return res


def load_connection(path):
    with open(path) as f:
        return json.load(f)


def connection_file(tmpdir, name):
    return os.path.join(tmpdir, "kernel-bench-%s.json" % name)


# -- references: CPython alone, no kernel ---------------------------------------------

_FLOOR_CODE = (
    "import sys\n"
    "for l in open('/proc/self/status'):\n"
    "    if l.startswith('VmRSS:'): sys.stdout.write(l.split()[1])\n"
)

_NOOP_WRITER_CODE = """import io, sys, time
class W(io.TextIOBase):
    def write(self, s): return len(s)
out, sys.stdout = sys.stdout, W()
t = time.perf_counter()
for i in range(%d): print(i)
t = time.perf_counter() - t
sys.stdout = out
print(t)
"""


def python_floor(python):
    """A bare interpreter (with site, like both kernels): seconds from Popen to
    exit and its VmRSS (kB) at the end. The floor under any Python kernel's launch
    time and memory."""
    import subprocess

    t0 = time.perf_counter()
    out = subprocess.run(
        [python, "-c", _FLOOR_CODE], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return time.perf_counter() - t0, int(out)


def python_noop_print(python, n):
    """Lines/s of `for i in range(n): print(i)` into a Python writer that drops the
    text: CPython's own ceiling for the throughput measure."""
    import subprocess

    out = subprocess.run(
        [python, "-c", _NOOP_WRITER_CODE % n],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return n / float(out)


# -- 7. inspection ------------------------------------------------------------------


def inspect(client, code, detail_level=0, timeout=30.0):
    """Seconds from inspect_request (cursor at the end of code) until
    inspect_reply; waits (untimed) for its idle. Returns (s, found)."""
    t0 = time.perf_counter()
    mid = client.send(
        client.shell,
        "inspect_request",
        {"code": code, "cursor_pos": len(code), "detail_level": detail_level},
    )
    reply, t_reply, _ = client.wait_reply_and_idle(mid, timeout)
    if reply.get("status") != "ok":
        raise RuntimeError("inspect_request %r failed: %r" % (code, reply))
    return t_reply - t0, bool(reply.get("found"))


# -- 8. a 1 MB PNG through display() ---------------------------------------------------

# Defines, in the kernel, a valid RGB PNG of about `size` bytes (random pixels,
# stored with zlib, deterministic) and an object whose _repr_png_ returns it.
PNG_SETUP = r'''
import hashlib as _bh, random as _br, struct as _bs, zlib as _bz
def _bench_make_png(size):
    side = int((size / 3) ** 0.5)
    rnd = _br.Random(1)
    raw = b"".join(b"\0" + rnd.randbytes(side * 3) for _ in range(side))
    def chunk(kind, data):
        return (_bs.pack(">I", len(data)) + kind + data
                + _bs.pack(">I", _bz.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", _bs.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", _bz.compress(raw, 1)) + chunk(b"IEND", b""))
_bench_png = _bench_make_png(%d)
class _BenchPNG:
    def _repr_png_(self):
        return _bench_png
_bench_png_digest = (len(_bench_png), _bh.sha256(_bench_png).hexdigest())
'''
PNG_CELL = "display(_BenchPNG())"
PNG_SIZE = 1 << 20


def check_png(data):
    """Parses a PNG: signature, chunk CRCs, IHDR, and inflates IDAT to the
    expected size. Raises ValueError when anything is off."""
    import struct
    import zlib

    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError("bad CRC in %r" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    w, h = ihdr[0], ihdr[1]
    if len(zlib.decompress(b"".join(idat))) != h * (1 + 3 * w):
        raise ValueError("IDAT does not inflate to %dx%d RGB" % (w, h))
    return w, h


def png_setup(client, size=PNG_SIZE):
    """Runs PNG_SETUP in the kernel; returns (length, sha256 hex) of its PNG."""
    out = {}

    def on_iopub(h, c, t):
        if h["msg_type"] == "execute_result":
            out["text"] = c["data"]["text/plain"]

    mid = client.execute_request(PNG_SETUP % size)
    reply, _, _ = client.wait_reply_and_idle(mid, 60)
    if reply.get("status") != "ok":
        raise RuntimeError("PNG setup failed: %r" % reply)
    mid = client.execute_request("_bench_png_digest")
    reply, _, _ = client.wait_reply_and_idle(mid, 60, on_iopub)
    import ast

    return ast.literal_eval(out["text"])


def display_png(client, digest, timeout=60.0):
    """Seconds from sending PNG_CELL until its display_data arrives; checks that
    the image/png it carries is exactly the kernel's PNG (length, sha256), then
    waits (untimed) for the reply and idle."""
    import base64
    import hashlib

    got = {}

    def on_iopub(h, c, t):
        if h["msg_type"] == "display_data" and "t" not in got:
            got["t"] = t
            got["png"] = c.get("data", {}).get("image/png")

    t0 = time.perf_counter()
    mid = client.execute_request(PNG_CELL)
    reply, _, _ = client.wait_reply_and_idle(mid, timeout, on_iopub)
    if reply.get("status") != "ok":
        raise RuntimeError("display cell failed: %r" % reply)
    if "t" not in got:
        raise RuntimeError("no display_data for the PNG cell")
    data = base64.b64decode(got["png"] or "")
    if (len(data), hashlib.sha256(data).hexdigest()) != tuple(digest):
        raise RuntimeError("the PNG that arrived differs from the kernel's (%d bytes)" % len(data))
    return got["t"] - t0


# -- 10 clients at once ------------------------------------------------------------------


def concurrent(connection_file, n_clients, n_cells, timeout=60.0):
    """n_clients clients, each a process of its own (bench/concurrent_client.py),
    execute n_cells `1+1` each, all at once. Every reply and every idle must arrive."""
    import select
    import signal
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(os.path.realpath(__file__)), "concurrent_client.py")
    procs = []
    results = []
    try:
        for _ in range(n_clients):
            procs.append(
                subprocess.Popen(
                    [sys.executable, script, connection_file, str(n_cells), str(timeout)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )
        deadline = time.perf_counter() + 90
        for pr in procs:
            while not select.select([pr.stdout], [], [], 1.0)[0]:
                if time.perf_counter() > deadline or pr.poll() is not None:
                    raise RuntimeError("a client did not get ready")
            if pr.stdout.readline().strip() != "ready":
                raise RuntimeError("a client did not get ready")
        t0 = time.perf_counter()
        for pr in procs:
            pr.stdin.write("go\n")
            pr.stdin.flush()
        for pr in procs:
            out, _ = pr.communicate(timeout=timeout * 2 + n_cells)
            results.append(json.loads(out.strip().splitlines()[-1]))
        elapsed = time.perf_counter() - t0
    finally:
        for pr in procs:
            if pr.poll() is None:
                try:
                    os.killpg(pr.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pr.wait(5)
    done = sum(len(r["latencies"]) for r in results)
    return {
        "clients": n_clients,
        "cells_each": n_cells,
        "completed": done,
        "lost": n_clients * n_cells - done,
        "seconds": elapsed,
        "cells_per_s": done / elapsed if elapsed else 0.0,
        "latencies": [x for r in results for x in r["latencies"]],
        "errors": [e for r in results for e in r["errors"]][:10],
    }


def concurrent_pairs(targets, n_clients, n_cells, reps, log=None):
    """targets: [(name, connection_file)]. Runs `concurrent` on each in turn,
    reps times (A B A B …). Returns {name: [result, …]}."""
    out = {name: [] for name, _ in targets}
    for i in range(reps):
        for name, path in targets:
            r = concurrent(path, n_clients, n_cells)
            out[name].append(r)
            if log:
                log(
                    "  %s (%d/%d): %d/%d cells in %.2f s"
                    % (name, i + 1, reps, r["completed"], n_clients * n_cells, r["seconds"])
                )
    return out


def concurrent_summary(runs):
    """One line of figures over the runs of concurrent_pairs for one target."""
    lat = sorted(x for r in runs for x in r["latencies"])
    from report import median

    return {
        "cells_per_s": median([r["cells_per_s"] for r in runs]),
        "lost": sum(r["lost"] for r in runs),
        "sent": sum(r["clients"] * r["cells_each"] for r in runs),
        "latencies": lat,
        "clients": runs[0]["clients"],
        "cells_each": runs[0]["cells_each"],
        "errors": [e for r in runs for e in r["errors"]][:10],
    }


# -- idle CPU -------------------------------------------------------------------------


def cpu_seconds(pid):
    """CPU time of a process's live threads, in seconds, to the nanosecond
    (/proc/PID/task/*/schedstat; utime and stime count 10 ms ticks, too coarse
    for an idle kernel)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total / 1e9


def idle_cpu(pids, seconds):
    """pids: {name: pid}. CPU used by each over the same window with no client
    traffic, as a share of one CPU."""
    c0 = {m: cpu_seconds(p) for m, p in pids.items()}
    t0 = time.perf_counter()
    time.sleep(seconds)
    dt = time.perf_counter() - t0
    return {m: {"cpu": (cpu_seconds(p) - c0[m]) / dt, "seconds": dt} for m, p in pids.items()}


# -- output ceiling inside a kernel ----------------------------------------------------

KERNEL_NOOP_PRINT = r'''
import sys as _s, time as _t
class _BenchNoopWriter:
    write = len
    def flush(self): pass
_bw = _BenchNoopWriter()
_bt = _t.perf_counter()
for _bi in range(%d): print(_bi, file=_bw)
_bt = _t.perf_counter() - _bt
_bt
'''


def kernel_noop_print(client, n):
    """Lines/s of `print(i, file=w)` inside the kernel's own interpreter, w a writer
    whose write is the builtin len: what the kernel's Python loop costs without
    any output path (its ceiling for the throughput measure)."""
    out = {}

    def on_iopub(h, c, t):
        if h["msg_type"] == "execute_result":
            out["text"] = c["data"]["text/plain"]

    mid = client.execute_request(KERNEL_NOOP_PRINT % n)
    reply, _, _ = client.wait_reply_and_idle(mid, 120, on_iopub)
    if reply.get("status") != "ok" or "text" not in out:
        raise RuntimeError("the no-op print cell failed: %r" % reply)
    return n / float(out["text"])


# -- start/stop cycles inside one host process ------------------------------------------


def inproc_cycles(host_argv, module_dir, n, work, env=None, timeout=600):
    """Runs bench/cycles_inproc.py in a host (host_argv + [script, '--', …] for
    blender; [python, script, …] otherwise). Returns its JSON result."""
    import subprocess

    here = os.path.dirname(os.path.realpath(__file__))
    script = os.path.join(here, "cycles_inproc.py")
    out = os.path.join(work, "cycles-%d.json" % len(os.listdir(work)))
    argv = host_argv + [script, "--", module_dir, here, str(n), work, out]
    subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        timeout=timeout,
        start_new_session=True,
    )
    with open(out) as f:
        res = json.load(f)
    if "error" in res:
        raise RuntimeError("in-process cycles failed: %s" % res["error"])
    return res
