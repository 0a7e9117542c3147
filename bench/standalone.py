"""Section "standalone": the standalone kernel (build/src/tools/bpy-jupyter-kernel)
against ipykernel, both launched as their own processes with -f FILE. Trial
blocks alternate ours / ipykernel with both kernels alive; launches alternate too."""

import os
import tempfile
import time

import kernels
import measures
import rawclient
from report import Row, fmt_lines_per_s, fmt_mb, fmt_pct, log, median, ms, summary

NAME = "standalone"
FULL = dict(
    warmup=100,
    jc_n=1000,
    raw_n=3000,
    rt_block=10,
    fp_n=20,
    fp_block=5,
    comp_n=200,
    comp_block=10,
    comp_late_n=20,
    tp_lines=1_000_000,
    tp_reps=5,
    launch_n=10,
    png_n=30,
    png_block=5,
    conc_clients=10,
    conc_cells=200,
    conc_reps=2,
    idle_s=30,
    cycles=1000,
)
QUICK = dict(
    warmup=30,
    jc_n=100,
    raw_n=300,
    rt_block=10,
    fp_n=6,
    fp_block=3,
    comp_n=50,
    comp_block=10,
    comp_late_n=10,
    tp_lines=200_000,
    tp_reps=1,
    launch_n=3,
    png_n=6,
    png_block=3,
    conc_clients=10,
    conc_cells=30,
    conc_reps=1,
    idle_s=5,
    cycles=100,
)


def capture_stdout(client, code):
    """Runs code on a raw client and returns what it printed."""
    out = []
    mid = client.execute_request(code)
    client.wait_reply_and_idle(
        mid,
        30,
        lambda h, c, t: out.append(c.get("text", "")) if h["msg_type"] == "stream" else None,
    )
    return "".join(out)


# -- phases -------------------------------------------------------------------------


def phase_launch(kinds, tmp, p, res):
    log("launch → kernel_info_reply, %d alternating launches each" % p["launch_n"])
    trials = {k.name: [] for k in kinds}
    trials["ours_cold"] = []
    floor = []
    for i in range(p["launch_n"]):
        for kind in kinds:
            path = measures.connection_file(tmp, "launch-%s" % kind.name)
            conn = kernels.new_connection_file(path)
            proc = kernels.KernelProcess(kind, path, os.path.join(tmp, "%s.log" % kind.name))
            trials[kind.name].append(measures.launch_once(proc, conn))
        # ours on its very first start: no bytecode cache yet (an empty XDG_CACHE_HOME)
        cold = kernels.KernelKind(
            "ours",
            kinds[0].label,
            kinds[0].argv_prefix,
            {"XDG_CACHE_HOME": os.path.join(tmp, "cold-cache-%d" % i)},
        )
        path = measures.connection_file(tmp, "launch-cold")
        conn = kernels.new_connection_file(path)
        proc = kernels.KernelProcess(cold, path, os.path.join(tmp, "ours.log"))
        trials["ours_cold"].append(measures.launch_once(proc, conn))
        floor.append(measures.python_floor(kernels.SYSTEM_PYTHON))
    res["launch"] = trials
    res["python_floor"] = [{"seconds": s, "rss_kb": kb} for s, kb in floor]


def start_long_lived(kinds, tmp):
    procs = {}
    for kind in kinds:
        path = measures.connection_file(tmp, kind.name)
        kernels.new_connection_file(path)
        proc = kernels.KernelProcess(kind, path, os.path.join(tmp, "%s.log" % kind.name))
        proc.start()
        procs[kind.name] = proc
    return procs


def phase_jupyter_client(kinds, procs, p, res):
    log("execute 1+1 through jupyter_client: %d each, blocks of %d" % (p["jc_n"], p["rt_block"]))
    kcs = {}
    try:
        for kind in kinds:
            kcs[kind.name] = measures.jc_client(procs[kind.name].connection_file)
        for kind in kinds:
            for _ in range(p["warmup"]):
                measures.jc_execute(kcs[kind.name])
        res["execute_jupyter_client"] = measures.interleave(
            [(k.name, lambda kc=kcs[k.name]: measures.jc_execute(kc)) for k in kinds],
            p["jc_n"],
            p["rt_block"],
        )
    finally:
        # jupyter_client's iopub subscriber must not stay: every extra SUB makes
        # the kernel publish twice and would skew the raw measures below.
        for kc in kcs.values():
            kc.stop_channels()


def phase_complete(kinds, clients, p, res):
    """Run first, on fresh kernels: IPython keeps every output as a global
    (_1, _2, …) and its jedi completion slows down as they pile up, so after the
    execute sets ipykernel's figure would be several times worse."""
    res["complete"] = {}
    for code in ("import o", "pri"):
        log("complete_request %r: %d each, blocks of %d" % (code, p["comp_n"], p["comp_block"]))
        matches = {}

        def trial(c, name, code=code):
            s, m = measures.complete(c, code)
            matches[name] = m
            return s

        for kind in kinds:  # warm-up: the first completion imports the completer
            for _ in range(5):
                trial(clients[kind.name], kind.name)
        samples = measures.interleave(
            [(k.name, lambda c=clients[k.name], n=k.name: trial(c, n)) for k in kinds],
            p["comp_n"],
            p["comp_block"],
        )
        res["complete"][code] = {"samples": samples, "matches": matches}


def phase_raw(kinds, clients, p, res):
    log("execute 1+1 through raw pyzmq: %d each, blocks of %d" % (p["raw_n"], p["rt_block"]))
    for kind in kinds:
        for _ in range(p["warmup"]):
            clients[kind.name].execute("1+1")
    res["execute_raw"] = measures.interleave(
        [(k.name, lambda c=clients[k.name]: measures.raw_execute(c)) for k in kinds],
        p["raw_n"],
        p["rt_block"],
    )

    log("first print latency: %d each, blocks of %d" % (p["fp_n"], p["fp_block"]))
    res["first_print"] = measures.interleave(
        [(k.name, lambda c=clients[k.name]: measures.first_print(c)) for k in kinds],
        p["fp_n"],
        p["fp_block"],
    )

    n = p["tp_lines"]
    log("print throughput: %d lines, %d alternating runs each" % (n, p["tp_reps"]))
    want = measures.expected_lines(n)
    for kind in kinds:  # warm-up
        measures.print_throughput(clients[kind.name], 1000)
    tp = {k.name: [] for k in kinds}
    in_kernel = {k.name: [] for k in kinds}
    noop = []
    for _ in range(p["tp_reps"]):
        for kind in kinds:
            r = measures.print_throughput(clients[kind.name], n, want)
            tp[kind.name].append(r)
            if not r["ok"]:
                log("  %s: PROBLEM: %s" % (kind.name, r["problem"]))
        for kind in kinds:
            in_kernel[kind.name].append(measures.kernel_noop_print(clients[kind.name], n))
        noop.append(measures.python_noop_print(kernels.SYSTEM_PYTHON, n))
    res["throughput"] = {
        "lines": n,
        "runs": tp,
        "python_noop_writer_lines_per_s": noop,
        "kernel_noop_writer_lines_per_s": in_kernel,
    }

    n_exec = sum(len(v) for v in res["execute_raw"].values()) // len(kinds)
    log("complete_request 'pri' again, after the execute sets: %d each" % p["comp_late_n"])
    res["complete_late"] = {
        "after_executes": n_exec + p["jc_n"] + 2 * p["warmup"],
        "samples": measures.interleave(
            [(k.name, lambda c=clients[k.name]: measures.complete(c, "pri")[0]) for k in kinds],
            p["comp_late_n"],
            5,
        ),
    }


def phase_more(kinds, procs, clients, p, res):
    """A 1 MB PNG, 10 clients at once, then idle CPU (both kernels in the same window)."""
    log("display() of a 1 MB PNG: %d each, blocks of %d" % (p["png_n"], p["png_block"]))
    digests = {k.name: measures.png_setup(clients[k.name]) for k in kinds}
    for k in kinds:
        measures.display_png(clients[k.name], digests[k.name])
    res["display_png"] = {
        "png_bytes": digests[kinds[0].name][0],
        "samples": measures.interleave(
            [
                (k.name, lambda c=clients[k.name], d=digests[k.name]: measures.display_png(c, d))
                for k in kinds
            ],
            p["png_n"],
            p["png_block"],
        ),
    }

    log(
        "%d clients at once, %d cells each, %d alternating runs each"
        % (p["conc_clients"], p["conc_cells"], p["conc_reps"])
    )
    runs = measures.concurrent_pairs(
        [(k.name, procs[k.name].connection_file) for k in kinds],
        p["conc_clients"],
        p["conc_cells"],
        p["conc_reps"],
        log,
    )
    res["concurrent"] = {m: dict(measures.concurrent_summary(r), runs=r) for m, r in runs.items()}
    for c in clients.values():
        c.drain()  # the other clients' traffic on iopub

    log("idle CPU over %d s, both kernels in the same window" % p["idle_s"])
    time.sleep(1.0)
    res["idle_cpu"] = measures.idle_cpu({k.name: procs[k.name].pid for k in kinds}, p["idle_s"])


def more_rows(res, o, i, rows, cycles_host):
    """Rows shared by the standalone and headless sections: PNG, clients at once,
    idle CPU, start/stop cycles."""
    png = res["display_png"]
    rows.append(
        Row(
            "`display()` of a %.2f MB PNG until display_data arrives, median (n=%d)"
            % (png["png_bytes"] / 2**20, len(png["samples"][o])),
            ms(summary(png["samples"][o])["median"]),
            ms(summary(png["samples"][i])["median"]),
            "ms",
        )
    )
    cc = res["concurrent"]
    rows.append(
        Row(
            "%d clients executing `1+1` at once, %d cells each, median of %d runs"
            % (cc[o]["clients"], cc[o]["cells_each"], len(cc[o]["runs"])),
            cc[o]["cells_per_s"],
            cc[i]["cells_per_s"],
            "cells/s",
            lower_is_better=False,
            fmt=lambda v: "%.0f cells/s" % v,
        )
    )
    rows.append(
        Row(
            "… replies lost",
            "%d of %d" % (cc[o]["lost"], cc[o]["sent"]),
            "%d of %d" % (cc[i]["lost"], cc[i]["sent"]),
            "",
        )
    )
    rows.append(
        Row(
            "… per-cell latency, median",
            ms(summary(cc[o]["latencies"])["median"]),
            ms(summary(cc[i]["latencies"])["median"]),
            "ms",
        )
    )
    idle = res["idle_cpu"]
    rows.append(
        Row(
            "idle CPU over %.0f s, no traffic" % idle[o]["seconds"],
            idle[o]["cpu"],
            idle[i]["cpu"],
            "",
            fmt=lambda v: fmt_pct(v) + " of a CPU",
            ratio=idle[o]["cpu"] > 0 and idle[i]["cpu"] > 0,
        )
    )
    la = res["launch"]
    rows.append(
        Row(
            "one process start/stop cycle (Popen → kernel_info_reply → `1+1` → "
            "shutdown_request → exit), median (n=%d)" % len(la[o]),
            median([t["cycle_s"] * 1e3 for t in la[o] if t.get("cycle_s")]),
            median([t["cycle_s"] * 1e3 for t in la[i] if t.get("cycle_s")]),
            "ms",
        )
    )
    cy = res["cycles"]
    rows.append(
        Row(
            "%d start/stop cycles in one host process (%s): time per cycle, median"
            % (len(cy["times"]), cycles_host),
            ms(median(cy["times"])),
            "no in-process stop/start",
            "ms",
            ratio=False,
        )
    )
    ok = (
        cy["before"]["fds"] == cy["after"]["fds"]
        and cy["before"]["threads"] == cy["after"]["threads"]
        and cy["works_after"]
    )
    rows.append(
        Row(
            "… fds / threads of the host before → after (kernel stopped)",
            "%d → %d / %d → %d"
            % (
                cy["before"]["fds"],
                cy["after"]["fds"],
                cy["before"]["threads"],
                cy["after"]["threads"],
            ),
            None,
            "",
            goal=(0, "zero leaked: " + ("met" if ok else "**not met**")),
        )
    )
    rows.append(
        Row(
            "… RSS of the host before → after",
            "%s → %s" % (fmt_mb(cy["before"]["rss_kb"]), fmt_mb(cy["after"]["rss_kb"])),
            None,
            "",
        )
    )


def noop_row(tp, o, i, rows):
    kn = tp["kernel_noop_writer_lines_per_s"]
    rows.append(
        Row(
            "… the same loop into a no-op writer in the kernel (`write = len`: its "
            "Python's ceiling), median of %d" % len(kn[o]),
            median(kn[o]),
            median(kn[i]),
            "lines/s",
            lower_is_better=False,
            fmt=fmt_lines_per_s,
            ratio=False,
        )
    )


def more_problems(res, kinds_names):
    problems = []
    cc = res.get("concurrent", {})
    for m in kinds_names[:1]:
        if m in cc and cc[m]["lost"]:
            problems.append(
                "%s lost %d of %d cells with %d clients at once: %s"
                % (m, cc[m]["lost"], cc[m]["sent"], cc[m]["clients"], cc[m]["errors"][:3])
            )
    cy = res.get("cycles")
    if cy is not None:
        problems += ["in-process cycles: " + x for x in cy["problems"]]
        if (cy["after"]["fds"], cy["after"]["threads"]) != (
            cy["before"]["fds"],
            cy["before"]["threads"],
        ):
            problems.append(
                "in-process start/stop cycles: fds %d → %d, threads %d → %d"
                % (
                    cy["before"]["fds"],
                    cy["after"]["fds"],
                    cy["before"]["threads"],
                    cy["after"]["threads"],
                )
            )
    return problems


def rows_from(res, kinds):
    o, i = kinds[0].name, kinds[1].name
    rows = []

    def ms_row(name, samples, stat, goal=None):
        a, b = summary(samples[o])[stat], summary(samples[i])[stat]
        rows.append(Row(name, ms(a), ms(b), "ms", goal=goal))

    jc = res["execute_jupyter_client"]
    n = len(jc[o])
    ms_row(
        "execute `1+1` round trip, jupyter_client, median (n=%d)" % n,
        jc,
        "median",
        goal=(1.0, "≤ 1 ms (DESIGN)"),
    )
    ms_row("… jupyter_client p90", jc, "p90")
    ms_row("… jupyter_client p99", jc, "p99")
    raw = res["execute_raw"]
    n = len(raw[o])
    ms_row(
        "execute `1+1` round trip, raw pyzmq, median (n=%d)" % n,
        raw,
        "median",
        goal=(1.0, "≤ 1 ms"),
    )
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
    rows.append(
        Row(
            "… stream messages per run, median",
            median([r["messages"] for r in tp["runs"][o]]),
            median([r["messages"] for r in tp["runs"][i]]),
            "",
            fmt=lambda v: "%.0f" % v,
            ratio=False,
        )
    )
    noop_row(tp, o, i, rows)
    for code, c in res["complete"].items():
        s = c["samples"]
        ms_row(
            "completion `%s` on a fresh kernel, median (n=%d)" % (code, len(s[o])),
            s,
            "median",
            goal=(1.0, "≤ 1 ms"),
        )
    late = res["complete_late"]
    ms_row(
        "completion `pri` after %d executes, median (n=%d)"
        % (late["after_executes"], len(late["samples"][o])),
        late["samples"],
        "median",
    )
    la = res["launch"]
    nl = len(la[o])

    def launch_row(name, key, scale, unit, goal=None, fmt=None):
        rows.append(
            Row(
                name,
                median([t[key] * scale for t in la[o] if t.get(key) is not None]),
                median([t[key] * scale for t in la[i] if t.get(key) is not None]),
                unit,
                goal=goal,
                fmt=fmt,
            )
        )

    launch_row(
        "launch → first kernel_info_reply, median (n=%d)" % nl,
        "kernel_info_s",
        1e3,
        "ms",
        goal=(50.0, "≤ 50 ms"),
    )
    rows.append(
        Row(
            "… ours on a first start, without its bytecode cache, median (n=%d)"
            % len(la["ours_cold"]),
            median([t["kernel_info_s"] * 1e3 for t in la["ours_cold"]]),
            None,
            "ms",
            ratio=False,
        )
    )
    launch_row("launch → reply to a first `1+1`, median", "first_execute_s", 1e3, "ms")
    launch_row("shutdown_request → process exit, median", "shutdown_s", 1e3, "ms")
    launch_row(
        "RSS after startup (at kernel_info_reply), median",
        "rss_startup_kb",
        1,
        "kB",
        goal=(15 * 1024, "≤ 15 MB"),
        fmt=fmt_mb,
    )
    launch_row(
        "RSS after one execute, median",
        "rss_after_execute_kb",
        1,
        "kB",
        goal=(15 * 1024, "≤ 15 MB"),
        fmt=fmt_mb,
    )
    more_rows(res, o, i, rows, "/usr/bin/python3")
    end = res["rss_end"]
    rows.append(
        Row(
            "RSS at the end of the latency/throughput run (VmRSS)",
            end[o]["rss_kb"],
            end[i]["rss_kb"],
            "kB",
            fmt=fmt_mb,
        )
    )
    rows.append(
        Row(
            "… peak RSS over that run (VmHWM)", end[o]["hwm_kb"], end[i]["hwm_kb"], "kB", fmt=fmt_mb
        )
    )
    return rows


def run(repo, quick):
    """Runs the section; returns its result dict (see bench/run)."""
    p = QUICK if quick else FULL
    kinds = [kernels.ours(repo), kernels.ipykernel()]
    if not os.access(kinds[0].argv_prefix[0], os.X_OK):
        raise SystemExit("no kernel binary at %s" % kinds[0].argv_prefix[0])
    res = {}
    problems = []
    info = {}
    with tempfile.TemporaryDirectory(prefix="bj-bench-") as tmp:
        try:
            phase_launch(kinds, tmp, p, res)

            log("starting both kernels for the latency and throughput sets")
            procs = start_long_lived(kinds, tmp)
            clients = {}
            for kind in kinds:
                c = rawclient.RawClient(measures.load_connection(procs[kind.name].connection_file))
                c.wait_ready(60)
                clients[kind.name] = c
            info["kernel_python"] = {
                k.name: capture_stdout(clients[k.name], "import sys; print(sys.version)").strip()
                for k in kinds
            }
            phase_complete(kinds, clients, p, res)
            # the raw clients stay connected (and idle) while jupyter_client measures
            phase_jupyter_client(kinds, procs, p, res)
            for c in clients.values():
                c.drain()
            phase_raw(kinds, clients, p, res)
            phase_more(kinds, procs, clients, p, res)
            res["rss_end"] = {
                k.name: {"rss_kb": procs[k.name].rss_kb(), "hwm_kb": procs[k.name].hwm_kb()}
                for k in kinds
            }
            log("shutting the kernels down")
            res["shutdown_long_lived"] = {}
            for kind in kinds:
                exit_s, rc = procs[kind.name].stop(clients[kind.name])
                res["shutdown_long_lived"][kind.name] = {"seconds": exit_s, "returncode": rc}
                if exit_s is None:
                    problems.append("%s needed SIGKILL after shutdown_request" % kind.name)
                clients[kind.name].close()

            log("%d start/stop cycles of ours inside one /usr/bin/python3" % p["cycles"])
            work = os.path.join(tmp, "cycles")
            os.makedirs(work)
            res["cycles"] = measures.inproc_cycles(
                [kernels.SYSTEM_PYTHON],
                os.path.join(repo, "build", "src", "python"),
                p["cycles"],
                work,
                env=kernels._env(),
            )
        finally:
            kernels.stop_all()

    for name, t in [(k, t) for k, ts in res["launch"].items() for t in ts]:
        if t.get("shutdown_s") is None:
            problems.append("%s launch trial needed SIGKILL after shutdown_request" % name)
        elif t.get("returncode") != 0:
            problems.append("%s launch trial exited with code %r" % (name, t.get("returncode")))
    for name, r in res.get("shutdown_long_lived", {}).items():
        if r["seconds"] is not None and r["returncode"] != 0:
            problems.append("%s exited with code %r after the run" % (name, r["returncode"]))
    for name, runs in res["throughput"]["runs"].items():
        for r in runs:
            if not r["ok"]:
                problems.append("%s print throughput: %s" % (name, r["problem"]))
    problems += more_problems(res, [k.name for k in kinds])
    for code, c in res["complete"].items():
        for name, m in c["matches"].items():
            if code == "pri" and "print" not in m:
                problems.append("%s: completing 'pri' did not offer 'print' (%r)" % (name, m[:10]))

    fl = res["python_floor"]
    notes = [
        "References, CPython alone in the same run (no kernel): `/usr/bin/python3 -c …` "
        "from Popen to exit %.1f ms, VmRSS %s (median of %d); `print` into a no-op "
        "Python writer %s (median of %d)."
        % (
            ms(median([f["seconds"] for f in fl])),
            fmt_mb(median([f["rss_kb"] for f in fl])),
            len(fl),
            fmt_lines_per_s(median(res["throughput"]["python_noop_writer_lines_per_s"])),
            len(res["throughput"]["python_noop_writer_lines_per_s"]),
        )
    ]
    return {
        "name": NAME,
        "title": "standalone kernel vs ipykernel",
        "labels": ("ours", "ipykernel"),
        "params": p,
        "rows": rows_from(res, kinds),
        "notes": notes,
        "problems": problems,
        "info": info,
        "raw": res,
        "latency": {
            "raw pyzmq": res["execute_raw"],
            "jupyter_client": res["execute_jupyter_client"],
        },
    }
