"""N start/stop cycles of one bpy-jupyter kernel inside one host process, run by
bench/standalone.py (host: /usr/bin/python3) and bench/headless.py (host:
`blender -b --factory-startup --python cycles_inproc.py -- …`).

    cycles_inproc.py MODULE_DIR BENCH_DIR N WORK_DIR OUT_JSON

MODULE_DIR holds _bpy_jupyter.abi3.so. Each cycle: Kernel.start() (binds the
channels, writes the connection file), check the file, Kernel.stop() (closes the
sockets, joins the I/O thread, removes the file). One cycle runs first so that
one-time setup (the runtime, GLib's worker thread) is not counted as a leak.
fds (/proc/self/fd) and threads of the host are read before and after, with the
kernel stopped. Afterwards the kernel is started once more and must answer a
`1+1` from a client (bench/rawclient.py, on a thread of this process) while the
host pumps it with Kernel.iterate(), then stop cleanly.
"""

import json
import os
import sys
import threading
import time

args = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
module_dir, bench_dir, n, work, out_path = args[0], args[1], int(args[2]), args[3], args[4]
sys.path.insert(0, module_dir)
sys.path.insert(0, bench_dir)

import _bpy_jupyter  # noqa: E402


def fds():
    return len(os.listdir("/proc/self/fd"))


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def main():
    path = os.path.join(work, "kernel-cycles.json")
    res = {"problems": []}
    k = _bpy_jupyter.Kernel()
    k.start(path)
    k.stop()
    time.sleep(0.2)
    res["before"] = {"fds": fds(), "threads": status("Threads"), "rss_kb": status("VmRSS")}
    times = []
    t_all = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        k.start(path)
        if not os.path.exists(path):
            res["problems"].append("no connection file while running (cycle %d)" % i)
        k.stop()
        times.append(time.perf_counter() - t)
        if os.path.exists(path):
            res["problems"].append("connection file left after stop (cycle %d)" % i)
        if len(res["problems"]) > 10:
            break
    res["elapsed_s"] = time.perf_counter() - t_all
    time.sleep(0.2)
    res["after"] = {"fds": fds(), "threads": status("Threads"), "rss_kb": status("VmRSS")}
    res["times"] = times

    # still serving afterwards
    import rawclient

    k.start(path)
    with open(path) as f:
        conn = json.load(f)
    outcome = {}

    def client():
        c = rawclient.RawClient(conn)
        try:
            c.wait_ready(30)
            outcome["rt_s"] = c.execute("1+1")
        except Exception as e:  # noqa: BLE001
            outcome["error"] = repr(e)
        finally:
            c.close()
            rawclient.term_context()

    th = threading.Thread(target=client)
    th.start()
    deadline = time.monotonic() + 60
    while th.is_alive() and time.monotonic() < deadline:
        time.sleep(min(max(k.iterate(), 0.0), 0.001))
    k.stop()
    th.join(5)
    res["works_after"] = "rt_s" in outcome
    if not res["works_after"]:
        res["problems"].append(
            "the kernel did not execute after the cycles: %s" % outcome.get("error", "timeout")
        )
    with open(out_path, "w") as f:
        json.dump(res, f)


try:
    main()
except BaseException as e:  # noqa: BLE001  reported to the bench, never a hang
    with open(out_path, "w") as f:
        json.dump({"error": repr(e)}, f)
    raise
finally:
    if "bpy" in sys.modules:  # blender -b: leave at once
        sys.stdout.flush()
        os._exit(0)
