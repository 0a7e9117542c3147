"""Blender processes for the benchmark: GUI Blenders under Xvfb and headless
`blender -b` kernel processes.

The GUI Blenders reuse tests/blender/bjblender.py (xvfb-run in its own process
group, private HOME/TMPDIR/JUPYTER_RUNTIME_DIR, commands run on Blender's main
thread from a timer, clean-up of the whole group), with a driver of their own:
it does *not* enable the add-on, so the same driver serves

  - "ours":  the add-on, enabled later by a command (RSS is read before that),
             the kernel started by the operator `bpy.ops.bpy_jupyter.start_kernel()`;
  - "seed":  no add-on; a command runs bench/reference/seed_in_blender.py (ipykernel
             embedded, asyncio flushed from a 1 ms timer) with a connection file;
  - "plain": no add-on, no kernel: the idle-CPU and memory-drift reference.

Never `--enable-event-simulate`: it removes the event loop's idle sleep.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(HERE)
SCRIPTS = os.path.join(REPO, "build", "addon", "scripts")
KERNEL_PROCESS = os.path.join(SCRIPTS, "addons", "bpy_jupyter", "kernel_process.py")
SEED = os.path.join(HERE, "reference", "seed_in_blender.py")
HEADLESS_REFERENCE = os.path.join(HERE, "reference", "ipykernel_headless_blender.py")

os.environ.setdefault("BJ_ADDON_SCRIPTS", SCRIPTS)
sys.path.insert(0, os.path.join(REPO, "tests", "blender"))
import bjblender  # noqa: E402
import kernels  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


# bjblender's command server, without the add-on (the bench enables it itself, timed).
def driver(mode):
    return lambda cmd_dir: bjblender.driver_source(
        cmd_dir, after='print("bench-driver: ready (%s)", flush=True)\n' % mode
    )


# Helpers defined once in Blender (as _bench) for the commands below.
HELPERS = r'''
import os, time
class _bench:
    @staticmethod
    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    @staticmethod
    def fds():
        return len(os.listdir("/proc/self/fd"))
result = os.getpid()
'''

ENABLE_ADDON = r'''
import addon_utils
addon_utils.enable("bpy_jupyter", default_set=True)
result = _bench.status("VmRSS")
'''

# The operator, as a user's click (or the test recipe) runs it, from a timer.
START_OURS = r'''
_t0 = time.perf_counter()
_r = bpy.ops.bpy_jupyter.start_kernel()
_t1 = time.perf_counter()
import bpy_jupyter
result = {"t0": _t0, "t1": _t1, "ret": sorted(_r),
          "file": bpy_jupyter.current_kernel().connection_file}
'''

START_SEED = r'''
import sys
_t0 = time.perf_counter()
_rss0 = _bench.status("VmRSS")
_argv, sys.argv = sys.argv, [sys.argv[0], "--", {conn!r}]
try:
    with open({seed!r}) as _f:
        _src = _f.read()
    if {quiet!r}:
        # the variant without the echo: IPKernelApp's own default
        assert "quiet=False" in _src
        _src = _src.replace("quiet=False", "quiet=True")
    exec(compile(_src, {seed!r}, "exec"), {{"__name__": "seed_in_blender"}})
finally:
    sys.argv = _argv
_t1 = time.perf_counter()
result = {{"t0": _t0, "t1": _t1, "rss_before": _rss0, "rss_after": _bench.status("VmRSS")}}
'''

STOP_OURS = r'''
_r = bpy.ops.bpy_jupyter.stop_kernel()
result = sorted(_r)
'''

# n start/stop cycles by the operators, in chunks (Blender's loop runs between
# commands). Each cycle checks the connection file exists while running and is
# gone after the stop.
CYCLES = r'''
import bpy_jupyter
_times = []
_problems = []
for _i in range({n}):
    _t = time.perf_counter()
    if bpy.ops.bpy_jupyter.start_kernel() != {{"FINISHED"}}:
        _problems.append("start %d did not finish" % _i)
        break
    _path = bpy_jupyter.current_kernel().connection_file
    if not os.path.exists(_path):
        _problems.append("no connection file while running (cycle %d)" % _i)
    if bpy.ops.bpy_jupyter.stop_kernel() != {{"FINISHED"}}:
        _problems.append("stop %d did not finish" % _i)
        break
    _times.append(time.perf_counter() - _t)
    if os.path.exists(_path):
        _problems.append("connection file left after stop (cycle %d)" % _i)
result = {{"times": _times, "problems": _problems[:20]}}
'''


def bjblender_status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def cpu_seconds(pid):
    """utime + stime of pid (all its threads) from /proc/PID/stat, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def group_members(pgid):
    """{pid: comm} of the live processes in process group pgid."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out[int(entry)] = comm
    return out


class GuiBlender(bjblender.BlenderGUI):
    """A GUI Blender under xvfb-run (see the module doc). mode: ours / seed / plain."""

    def __init__(self, mode, name=None):
        self.mode = mode
        env = {
            "PYTHONPATH": None,
            "PYTHONHOME": None,
            "VIRTUAL_ENV": None,
            "DBUS_SESSION_BUS_ADDRESS": None,
        }
        if kernels.BYTECODE_CACHE:
            env["XDG_CACHE_HOME"] = kernels.BYTECODE_CACHE
        super().__init__(name="bj-bench-%s" % (name or mode), driver=driver(mode), env=env)
        self.pid = None
        _ALL.append(self)
        _PGIDS.add(self.popen.pid)

    def run(self, code, timeout=bjblender.TIMEOUT):
        return self.command(code, timeout)

    # -- the Blender process -------------------------------------------------
    def wait_ready(self, timeout=bjblender.STARTUP_TIMEOUT):
        self.pid = self.run(HELPERS, timeout)
        return self.pid

    def rss_kb(self):
        return bjblender_status(self.pid, "VmRSS")

    def anon_kb(self):
        """RssAnon: unlike VmRSS, not lowered when the kernel drops cold file pages
        (this VM runs DAMON proactive reclaim)."""
        return bjblender_status(self.pid, "RssAnon")

    def hwm_kb(self):
        return bjblender_status(self.pid, "VmHWM")

    def threads(self):
        return bjblender_status(self.pid, "Threads")

    def fds(self):
        return fd_count(self.pid)

    def cpu_seconds(self):
        return cpu_seconds(self.pid)

    def xvfb_pid(self):
        for pid, comm in group_members(self.popen.pid).items():
            if comm == "Xvfb":
                return pid
        return None

    def close(self):
        problems = super().close()
        if self in _ALL:
            _ALL.remove(self)
        return problems


_ALL = []
_PGIDS = set()


def stray_processes():
    """pids still alive in the process group of any GUI Blender started here."""
    return sorted(pid for pgid in _PGIDS for pid in group_members(pgid))


def close_all():
    problems = []
    for b in list(_ALL):
        try:
            problems += b.close()
        except Exception as e:  # noqa: BLE001
            problems.append("closing a Blender failed: %s" % e)
    return problems


def settle(blenders, timeout=120.0, window=1.0, max_cpu=0.06, log=None):
    """Waits until each Blender's CPU use over `window` s is below max_cpu (share of
    one CPU): GUI Blender spends its first seconds compiling shaders and drawing with
    llvmpipe. Returns the seconds waited."""
    t0 = time.perf_counter()
    deadline = t0 + timeout
    pending = list(blenders)
    while pending:
        before = {b: b.cpu_seconds() for b in pending}
        time.sleep(window)
        for b in list(pending):
            b.check_alive()
            if (b.cpu_seconds() - before[b]) / window <= max_cpu:
                pending.remove(b)
        if pending and time.perf_counter() > deadline:
            if log:
                log("warning: %s still busy after %.0f s" % ([b.mode for b in pending], timeout))
            break
    return time.perf_counter() - t0
