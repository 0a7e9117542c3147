"""Statistics, the comparison table and the environment record."""

import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

T_START = time.perf_counter()


def log(msg):
    print("[%6.1f s] %s" % (time.perf_counter() - T_START, msg), file=sys.stderr, flush=True)


def quantile(sorted_xs, q):
    """Nearest-rank quantile of an already sorted list."""
    if not sorted_xs:
        return float("nan")
    k = max(0, min(len(sorted_xs) - 1, math.ceil(q * len(sorted_xs)) - 1))
    return sorted_xs[k]


def summary(xs):
    s = sorted(xs)
    return {
        "n": len(s),
        "median": statistics.median(s) if s else float("nan"),
        "p90": quantile(s, 0.90),
        "p99": quantile(s, 0.99),
        "min": s[0] if s else float("nan"),
        "max": s[-1] if s else float("nan"),
    }


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


# -- table ------------------------------------------------------------------------


class Row:
    """One line of the table. lower_is_better decides the ratio's direction, so
    the ratio is always "how many times better ours is" (>1: we're faster /
    smaller). goal: (limit, text) checked against ours, or None."""

    def __init__(
        self,
        measure,
        ours,
        ipy,
        unit,
        lower_is_better=True,
        goal=None,
        fmt=None,
        note=None,
        ratio=True,
    ):
        self.show_ratio = ratio
        self.measure = measure
        self.ours = ours
        self.ipy = ipy
        self.unit = unit
        self.lower_is_better = lower_is_better
        self.goal = goal
        self.fmt = fmt
        self.note = note

    def ratio(self):
        if not self.show_ratio:
            return None
        if not _num(self.ours) or not _num(self.ipy) or self.ours <= 0 or self.ipy <= 0:
            return None
        return self.ipy / self.ours if self.lower_is_better else self.ours / self.ipy

    def goal_text(self):
        if self.goal is None:
            return ""
        limit, text = self.goal
        if not _num(self.ours):
            return text
        ok = self.ours <= limit if self.lower_is_better else self.ours >= limit
        return "%s %s" % (text, "met" if ok else "**not met**")

    def cell(self, v):
        if v is None:
            return "–"
        if isinstance(v, str):
            return v
        if isinstance(v, float) and math.isnan(v):
            return "–"
        if self.fmt:
            return self.fmt(v)
        return "%s %s" % (_num_text(v), self.unit)

    def as_dict(self):
        return {
            "measure": self.measure,
            "ours": self.ours,
            "reference": self.ipy,
            "unit": self.unit,
            "ratio": self.ratio(),
            "goal": self.goal_text() or None,
            "note": self.note,
        }


def _num(v):
    return isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))


def _num_text(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.3f" % v


def table(rows, labels=("ours", "ipykernel")):
    head = ["measure", labels[0], labels[1], "ratio (>1: ours better)", "goal (ours)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for r in rows:
        ratio = r.ratio()
        lines.append(
            "| "
            + " | ".join(
                [
                    r.measure,
                    r.cell(r.ours),
                    r.cell(r.ipy),
                    "%.2f×" % ratio if ratio else "–",
                    r.goal_text(),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def ms(s):
    return s * 1e3


def fmt_lines_per_s(v):
    if v >= 1e6:
        return "%.2f M lines/s" % (v / 1e6)
    return "%.0f k lines/s" % (v / 1e3)


def fmt_mb(kb):
    return "%.1f MB" % (kb / 1024)


def fmt_delta_mb(kb):
    return "%+.1f MB" % (kb / 1024)


def fmt_pct(share):
    """A share of one CPU (0.01 = 1 %)."""
    if share < 0.001:
        return "%.4f %%" % (share * 100)
    return "%.2f %%" % (share * 100) if share < 0.1 else "%.1f %%" % (share * 100)


# -- environment ------------------------------------------------------------------


def _run(argv, cwd=None):
    try:
        return subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def environment(repo):
    import ipykernel
    import jupyter_client
    import zmq

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            cpu = m.group(1) if m else ""
    except OSError:
        pass
    commit = _run(["git", "rev-parse", "--short", "HEAD"], cwd=repo)
    if commit and _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo):
        commit += "+dirty"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel_release": platform.release(),
        "python": platform.python_version(),
        "python_executable": "/usr/bin/python3",
        "pyzmq": zmq.__version__,
        "libzmq_client": zmq.zmq_version(),
        "libzmq_ours": _run(["pkg-config", "--modversion", "libzmq"]),
        "ipykernel": ipykernel.__version__,
        "jupyter_client": jupyter_client.__version__,
        "commit": commit,
    }
