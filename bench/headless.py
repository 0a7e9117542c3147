"""Section "headless": Blender as the kernel process (`blender -b`), ours
(addons/bpy_jupyter/kernel_process.py, as the bpy-jupyter-blender kernelspec runs
it) against the reference bench/reference/ipykernel_headless_blender.py
(IPKernelApp.launch_instance() blocking: the seed cannot serve under -b, where
timers never run). Both launched like the standalone kernels: connection file
written first, a client connected before Popen with a queued kernel_info_request."""

import os
import subprocess
import tempfile
import time

import blenders
import kernels
import measures
import rawclient
import standalone
from report import Row, fmt_lines_per_s, fmt_mb, log, median, ms, summary

NAME = "headless"
FULL = dict(
    launch_n=8,
    warmup=50,
    jc_n=500,
    raw_n=2000,
    rt_block=10,
    fp_n=20,
    fp_block=5,
    tp_lines=1_000_000,
    tp_reps=3,
    png_n=30,
    png_block=5,
    conc_clients=10,
    conc_cells=200,
    conc_reps=2,
    idle_s=30,
    cycles=1000,
)
QUICK = dict(
    launch_n=1,
    warmup=20,
    jc_n=100,
    raw_n=300,
    rt_block=10,
    fp_n=4,
    fp_block=2,
    tp_lines=200_000,
    tp_reps=1,
    png_n=6,
    png_block=3,
    conc_clients=10,
    conc_cells=30,
    conc_reps=1,
    idle_s=5,
    cycles=100,
)

# Blender alone: when --python code starts (CLOCK_MONOTONIC, as perf_counter), VmRSS.
FLOOR_CODE = (
    "import time, sys\n"
    "t = time.perf_counter()\n"
    "rss = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')][0]\n"
    "open(%r, 'w').write('%%r %%s' %% (t, rss))\n"
)


def blender_floor(blender, tmp, env):
    """`blender -b --factory-startup --python-expr …` doing nothing: seconds from
    Popen until the Python code runs and until exit, VmRSS at that point."""
    out = os.path.join(tmp, "floor.txt")
    if os.path.exists(out):
        os.unlink(out)
    t0 = time.perf_counter()
    subprocess.run(
        [blender, "-b", "--factory-startup", "--python-expr", FLOOR_CODE % out],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=kernels._env(env),
        timeout=60,
        check=True,
        start_new_session=True,
    )
    t_exit = time.perf_counter() - t0
    t_py, rss = open(out).read().split()
    return {"python_s": float(t_py) - t0, "exit_s": t_exit, "rss_kb": int(rss)}


NOOP_CODE = (
    "import io, sys, time\n"
    "class W(io.TextIOBase):\n"
    "    def write(self, s): return len(s)\n"
    "out, sys.stdout = sys.stdout, W()\n"
    "t = time.perf_counter()\n"
    "for i in range(%d): print(i)\n"
    "t = time.perf_counter() - t\n"
    "sys.stdout = out\n"
    "open(%r, 'w').write(repr(t))\n"
)


def blender_noop_print(blender, tmp, env, n):
    """Lines/s of `for i in range(n): print(i)` into a Python writer that drops the
    text, inside `blender -b` (Blender's libpython): the ceiling for its kernels."""
    out = os.path.join(tmp, "noop.txt")
    subprocess.run(
        [blender, "-b", "--factory-startup", "--python-expr", NOOP_CODE % (n, out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=kernels._env(env),
        timeout=120,
        check=True,
        start_new_session=True,
    )
    return n / float(open(out).read())


def run(repo, quick):
    p = QUICK if quick else FULL
    blender = blenders.bjblender.find_program("blender", "BJ_BLENDER")
    if not os.path.isfile(blenders.KERNEL_PROCESS):
        raise SystemExit("no staged add-on at %s" % blenders.KERNEL_PROCESS)
    res = {}
    problems = []
    info = {}
    with tempfile.TemporaryDirectory(prefix="bj-bench-headless-") as tmp:
        home = os.path.join(tmp, "home")
        ktmp = os.path.join(tmp, "tmp")
        os.makedirs(home)
        os.makedirs(ktmp)
        env = {"HOME": home, "TMPDIR": ktmp, "PYTHONDONTWRITEBYTECODE": "1"}
        kinds = [
            kernels.blender_ours(blender, blenders.KERNEL_PROCESS, env),
            kernels.blender_ipykernel(blender, blenders.HEADLESS_REFERENCE, env),
        ]
        try:
            log("launch → kernel_info_reply, %d alternating launches each" % p["launch_n"])
            trials = {k.name: [] for k in kinds}
            floor = []
            for i in range(p["launch_n"]):
                for kind in kinds if i % 2 == 0 else kinds[::-1]:
                    path = measures.connection_file(tmp, "launch-%s" % kind.name)
                    conn = kernels.new_connection_file(path)
                    proc = kernels.KernelProcess(
                        kind, path, os.path.join(tmp, "%s.log" % kind.name)
                    )
                    trials[kind.name].append(measures.launch_once(proc, conn))
                floor.append(blender_floor(blender, tmp, env))
            res["launch"] = trials
            res["blender_floor"] = floor

            log("starting both for the latency sets")
            procs, clients = {}, {}
            for kind in kinds:
                path = measures.connection_file(tmp, kind.name)
                kernels.new_connection_file(path)
                procs[kind.name] = kernels.KernelProcess(
                    kind, path, os.path.join(tmp, "%s.log" % kind.name)
                )
                procs[kind.name].start()
            for kind in kinds:
                clients[kind.name] = rawclient.RawClient(
                    measures.load_connection(procs[kind.name].connection_file)
                )
                clients[kind.name].wait_ready(60)

            log("execute 1+1 through jupyter_client: %d each" % p["jc_n"])
            kcs = {}
            try:
                for kind in kinds:
                    kcs[kind.name] = measures.jc_client(procs[kind.name].connection_file)
                    for _ in range(p["warmup"]):
                        measures.jc_execute(kcs[kind.name])
                res["execute_jupyter_client"] = measures.interleave(
                    [(n, lambda kc=kc: measures.jc_execute(kc)) for n, kc in kcs.items()],
                    p["jc_n"],
                    p["rt_block"],
                )
            finally:
                for kc in kcs.values():
                    kc.stop_channels()
            for c in clients.values():
                c.drain()
            log("execute 1+1 through raw pyzmq: %d each" % p["raw_n"])
            for c in clients.values():
                for _ in range(p["warmup"]):
                    c.execute("1+1")
            res["execute_raw"] = measures.interleave(
                [(n, lambda c=c: measures.raw_execute(c)) for n, c in clients.items()],
                p["raw_n"],
                p["rt_block"],
            )
            log("first print latency: %d each" % p["fp_n"])
            res["first_print"] = measures.interleave(
                [(n, lambda c=c: measures.first_print(c)) for n, c in clients.items()],
                p["fp_n"],
                p["fp_block"],
            )
            n = p["tp_lines"]
            log("print throughput: %d lines, %d runs each" % (n, p["tp_reps"]))
            want = measures.expected_lines(n)
            for c in clients.values():
                measures.print_throughput(c, 1000)
            tp = {k.name: [] for k in kinds}
            in_kernel = {k.name: [] for k in kinds}
            noop = []
            for _ in range(p["tp_reps"]):
                for name, c in clients.items():
                    tp[name].append(measures.print_throughput(c, n, want))
                for name, c in clients.items():
                    in_kernel[name].append(measures.kernel_noop_print(c, n))
                noop.append(blender_noop_print(blender, tmp, env, n))
            res["throughput"] = {
                "lines": n,
                "runs": tp,
                "blender_noop_writer_lines_per_s": noop,
                "kernel_noop_writer_lines_per_s": in_kernel,
            }
            standalone.phase_more(kinds, procs, clients, p, res)
            res["rss_end"] = {
                k: {"rss_kb": pr.rss_kb(), "hwm_kb": pr.hwm_kb()} for k, pr in procs.items()
            }
            log("shutting both down")
            res["shutdown_long_lived"] = {}
            for name, pr in procs.items():
                exit_s, rc = pr.stop(clients[name])
                res["shutdown_long_lived"][name] = {"seconds": exit_s, "returncode": rc}
                clients[name].close()

            log("%d start/stop cycles of ours inside one blender -b" % p["cycles"])
            work = os.path.join(tmp, "cycles")
            os.makedirs(work)
            res["cycles"] = measures.inproc_cycles(
                [blender, "-b", "--factory-startup", "--python"],
                os.path.dirname(blenders.KERNEL_PROCESS),
                p["cycles"],
                work,
                env=kernels._env(env),
            )
        finally:
            kernels.stop_all()

    for name, ts in res["launch"].items():
        for t in ts:
            if t.get("shutdown_s") is None:
                problems.append("%s launch trial needed SIGKILL after shutdown_request" % name)
            elif t.get("returncode") != 0 and name == "ours":
                problems.append("ours exited with code %r" % t.get("returncode"))
    for name, runs in res["throughput"]["runs"].items():
        for r in runs:
            if not r["ok"]:
                problems.append("%s print throughput: %s" % (name, r["problem"]))
    problems += standalone.more_problems(res, ["ours", "ipykernel"])
    codes = sorted({t.get("returncode") for t in res["launch"]["ipykernel"]}, key=repr)
    fl = res["blender_floor"]
    notes = [
        "Reference floor, in the same run: `blender -b --factory-startup --python-expr …` "
        "reaches its Python code %.0f ms after Popen and exits after %.0f ms, VmRSS %s "
        "(median of %d)."
        % (
            ms(median([f["python_s"] for f in fl])),
            ms(median([f["exit_s"] for f in fl])),
            fmt_mb(median([f["rss_kb"] for f in fl])),
            len(fl),
        )
        + " `print` into a no-op Python writer inside `blender -b` (Blender's "
        "libpython3.11): %s (median of %d), for reference."
        % (
            fmt_lines_per_s(median(res["throughput"]["blender_noop_writer_lines_per_s"])),
            len(res["throughput"]["blender_noop_writer_lines_per_s"]),
        ),
        "Exit codes after shutdown_request: ours %s, reference %s%s."
        % (
            sorted({t.get("returncode") for t in res["launch"]["ours"]}, key=repr),
            codes,
            " (-11: Blender segfaults in its exit after IPKernelApp returns, with "
            "ipykernel's output-capture threads still running; not counted as a problem "
            "of ours)"
            if -11 in codes
            else "",
        ),
    ]
    return {
        "name": NAME,
        "title": "headless Blender as the kernel process",
        "labels": ("ours", "ipykernel in blender -b"),
        "params": p,
        "rows": rows_from(res),
        "notes": notes,
        "problems": problems,
        "info": info,
        "raw": res,
        "latency": {
            "raw pyzmq": res["execute_raw"],
            "jupyter_client": res["execute_jupyter_client"],
        },
    }


def rows_from(res):
    o, i = "ours", "ipykernel"
    rows = []

    def ms_row(name, samples, stat, goal=None):
        rows.append(
            Row(name, ms(summary(samples[o])[stat]), ms(summary(samples[i])[stat]), "ms", goal=goal)
        )

    jc, raw = res["execute_jupyter_client"], res["execute_raw"]
    ms_row("execute `1+1` round trip, jupyter_client, median (n=%d)" % len(jc[o]), jc, "median")
    ms_row("… jupyter_client p90", jc, "p90")
    ms_row("… jupyter_client p99", jc, "p99")
    ms_row("execute `1+1` round trip, raw pyzmq, median (n=%d)" % len(raw[o]), raw, "median")
    ms_row("… raw pyzmq p90", raw, "p90")
    ms_row("… raw pyzmq p99", raw, "p99")
    fp = res["first_print"]
    ms_row(
        "first `print` reaching the client, median (n=%d)" % len(fp[o]),
        fp,
        "median",
        goal=(10.0, "≤ 10 ms"),
    )
    tp = res["throughput"]
    rows.append(
        Row(
            "`print` throughput, %d lines, median of %d" % (tp["lines"], len(tp["runs"][o])),
            median([r["lines_per_s"] for r in tp["runs"][o]]),
            median([r["lines_per_s"] for r in tp["runs"][i]]),
            "lines/s",
            lower_is_better=False,
            goal=(2e6, "≥ 2 M lines/s"),
            fmt=fmt_lines_per_s,
        )
    )
    rows.append(
        Row(
            "… all lines complete and in order",
            "%d/%d runs" % (sum(r["ok"] for r in tp["runs"][o]), len(tp["runs"][o])),
            "%d/%d runs" % (sum(r["ok"] for r in tp["runs"][i]), len(tp["runs"][i])),
            "",
        )
    )
    standalone.noop_row(tp, o, i, rows)
    la = res["launch"]

    def launch_row(name, key, scale, unit, fmt=None):
        rows.append(
            Row(
                name,
                median([t[key] * scale for t in la[o] if t.get(key) is not None]),
                median([t[key] * scale for t in la[i] if t.get(key) is not None]),
                unit,
                fmt=fmt,
            )
        )

    launch_row(
        "launch → first kernel_info_reply, median (n=%d)" % len(la[o]), "kernel_info_s", 1e3, "ms"
    )
    fl = res["blender_floor"]

    def paired(kernel, key, floor_key, scale):
        # launch i of each kernel and floor i ran back to back
        return median([(t[key] - f[floor_key]) * scale for t, f in zip(la[kernel], fl)])

    rows.append(
        Row(
            "… minus `blender -b` reaching its `--python` code (%.0f ms), paired"
            % ms(median([f["python_s"] for f in fl])),
            paired(o, "kernel_info_s", "python_s", 1e3),
            paired(i, "kernel_info_s", "python_s", 1e3),
            "ms",
        )
    )
    launch_row("launch → reply to a first `1+1`, median", "first_execute_s", 1e3, "ms")
    launch_row("shutdown_request → process exit, median", "shutdown_s", 1e3, "ms")
    launch_row("RSS at kernel_info_reply, median", "rss_startup_kb", 1, "kB", fmt=fmt_mb)
    rows.append(
        Row(
            "… minus `blender -b` alone (%s), paired" % fmt_mb(median([f["rss_kb"] for f in fl])),
            paired(o, "rss_startup_kb", "rss_kb", 1),
            paired(i, "rss_startup_kb", "rss_kb", 1),
            "kB",
            fmt=lambda v: "%+.1f MB" % (v / 1024),
        )
    )
    launch_row("RSS after one execute, median", "rss_after_execute_kb", 1, "kB", fmt=fmt_mb)
    standalone.more_rows(res, o, i, rows, "blender -b")
    end = res["rss_end"]
    rows.append(
        Row(
            "peak RSS over the latency run (VmHWM)",
            end[o]["hwm_kb"],
            end[i]["hwm_kb"],
            "kB",
            fmt=fmt_mb,
        )
    )
    return rows
