"""The exe_wrapper of `meson test --setup=valgrind`.

    valgrind-wrapper.py VALGRIND [OPTIONS...] -- TEST [ARGS...]

A compiled test runs under VALGRIND as is. A Python test script runs as it is
(memcheck on the interpreter driving jupyter_client would test CPython, slowly),
and the kernels it starts run under VALGRIND instead: BJ_KERNEL_WRAPPER tells
tests/bjkernelspec.py to put it before the kernel's command. Each kernel writes
its report to a file of its own; any error in any of them fails the test, which
also catches kernels that a test kills rather than shuts down.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

separator = sys.argv.index("--")
valgrind, test = sys.argv[1:separator], sys.argv[separator + 1 :]

if not os.path.basename(test[0]).startswith("python"):
    os.execvp(valgrind[0], valgrind + test)

ERROR = re.compile(
    r"^==\d+== (Invalid |Conditional jump|Use of uninitialised|Syscall param|"
    r"Mismatched |Source and destination overlap|Argument .* fishy)",
    re.M,
)

logs = tempfile.mkdtemp(prefix="bj-valgrind-")
kernel_valgrind = valgrind + [
    # CPython's own allocator reads memory it does not own on purpose.
    "--suppressions=/usr/lib/valgrind/python3.supp",
    "--log-file=" + os.path.join(logs, "kernel.%p.log"),
    # A busy cell must not starve the I/O thread that answers heartbeats.
    "--fair-sched=yes",
]
env = dict(os.environ)
env["BJ_KERNEL_WRAPPER"] = json.dumps(kernel_valgrind)
env["PYTHONMALLOC"] = "malloc"
env.setdefault("BJ_TIME_SCALE", "10")
env.setdefault("BJ_SCRIPT_TIMEOUT", "1700")
code = subprocess.call(test, env=env)

reports = sorted(glob.glob(os.path.join(logs, "kernel.*.log")))
bad = []
for path in reports:
    with open(path, errors="replace") as f:
        text = f.read()
    summary = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    # A kernel a test killed wrote no summary: the errors it met are in the log.
    if summary[-1:] != ["0"] if summary else ERROR.search(text):
        bad.append(path)
        sys.stderr.write("\n==== %s ====\n%s" % (path, text))
print("valgrind: %d kernel process(es), %d with errors" % (len(reports), len(bad)), file=sys.stderr)
if not reports:
    print("valgrind: the test started no kernel under valgrind", file=sys.stderr)
    code = code or 1
if bad:
    code = code or 1
    print("valgrind: reports kept in %s" % logs, file=sys.stderr)
elif code == 0:
    for path in reports:
        os.unlink(path)
    os.rmdir(logs)
sys.exit(code)
