"""Kernelspec for the bpy-jupyter Python test suites (protocol, conformance).

Import this module BEFORE jupyter_client: it sets JUPYTER_PATH so that the
kernelspec "bpy-jupyter-python" resolves to the kernel under test.

Environment:

  BJ_KERNEL_ARGV      JSON list, the kernel argv with the literal placeholder
                      "{connection_file}", e.g.
                      ["/build/src/tools/bpy-jupyter-kernel", "-f", "{connection_file}"]
                      or, for the reference run,
                      ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
  BJ_KERNELSPEC_MODE  "temp" (default): write a kernelspec built from BJ_KERNEL_ARGV
                      into a private temporary directory and put it first on
                      JUPYTER_PATH (nothing in the user's or system data dirs is
                      used or modified).
                      "installed": use the kernelspec that JUPYTER_PATH / the
                      system already provides (BJ_KERNEL_ARGV is then not needed).
  BJ_KERNEL_NAME      kernelspec name (default "bpy-jupyter-python").
  BJ_REFERENCE        "ipykernel" when validating the suites against ipykernel.
  BJ_SCRIPT_TIMEOUT   watchdog for a whole script, seconds (default 120).
  BJ_KERNEL_WRAPPER   JSON list put before BJ_KERNEL_ARGV, e.g. valgrind and its
                      options (meson test --setup=valgrind sets it).

Any misconfiguration raises KernelSpecError: the tests fail, they never skip.
Everything temporary (kernelspec, connection files, IPYTHONDIR for an IPython
based kernel, XDG_DATA_HOME for bpy-jupyter's history) lives in one private
directory removed at exit.
"""

import atexit
import json
import os
import shutil
import subprocess
import tempfile

KERNEL_NAME = os.environ.get("BJ_KERNEL_NAME") or "bpy-jupyter-python"
DISPLAY_NAME = "Python (bpy-jupyter)"
PLACEHOLDER = "{connection_file}"

_state = {"dir": None, "name": None}
_processes = []


class KernelSpecError(RuntimeError):
    pass


def kernel_argv():
    """The kernel argv from BJ_KERNEL_ARGV, validated."""
    raw = os.environ.get("BJ_KERNEL_ARGV")
    if not raw:
        raise KernelSpecError(
            "BJ_KERNEL_ARGV is not set: it must be a JSON list such as "
            '["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]'
        )
    try:
        argv = json.loads(raw)
    except ValueError as e:
        raise KernelSpecError("BJ_KERNEL_ARGV is not valid JSON: %s (%r)" % (e, raw))
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise KernelSpecError("BJ_KERNEL_ARGV must be a non-empty JSON list of strings: %r" % raw)
    if not any(PLACEHOLDER in a for a in argv):
        raise KernelSpecError("BJ_KERNEL_ARGV must contain %s: %r" % (PLACEHOLDER, raw))
    if os.path.isabs(argv[0]) and not os.access(argv[0], os.X_OK):
        raise KernelSpecError("BJ_KERNEL_ARGV[0] is not an executable file: %s" % argv[0])
    return kernel_wrapper() + argv


def kernel_wrapper():
    """BJ_KERNEL_WRAPPER (a JSON list, e.g. valgrind and its options): what the
    kernel command is prefixed with. `meson test --setup=valgrind` sets it, since
    its exe_wrapper only wraps the test script."""
    raw = os.environ.get("BJ_KERNEL_WRAPPER")
    if not raw:
        return []
    try:
        wrapper = json.loads(raw)
    except ValueError as e:
        raise KernelSpecError("BJ_KERNEL_WRAPPER is not valid JSON: %s (%r)" % (e, raw))
    if not isinstance(wrapper, list) or not all(isinstance(a, str) for a in wrapper):
        raise KernelSpecError("BJ_KERNEL_WRAPPER must be a JSON list of strings: %r" % raw)
    return wrapper


def spec_dict(argv):
    return {
        "argv": argv,
        "display_name": DISPLAY_NAME,
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }


def _cleanup():
    d = _state["dir"]
    if d:
        shutil.rmtree(d, ignore_errors=True)
        _state["dir"] = None


def setup_kernelspec():
    """Make the kernelspec available and return its name. Idempotent."""
    if _state["name"]:
        return _state["name"]
    mode = os.environ.get("BJ_KERNELSPEC_MODE") or "temp"
    if mode not in ("temp", "installed", "install"):
        raise KernelSpecError(
            "BJ_KERNELSPEC_MODE must be 'temp', 'installed' or 'install', not %r" % mode
        )
    argv = kernel_argv() if mode == "temp" else None
    d = tempfile.mkdtemp(prefix="bj-kernelspec-")
    _state["dir"] = d
    atexit.register(_cleanup)
    # hermetic runs: an IPython-based kernel (the ipykernel reference) must not
    # read or write the user's ~/.ipython (profile, history.sqlite)
    os.environ["IPYTHONDIR"] = os.path.join(d, "ipython")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel noise
    # ... nor bpy-jupyter's, which keeps its input history under XDG_DATA_HOME.
    # Jupyter's own data dir also derives from XDG_DATA_HOME, so it is pinned
    # first to where it was: kernelspecs are found exactly as before.
    if not os.environ.get("JUPYTER_DATA_DIR"):
        from jupyter_core.paths import jupyter_data_dir

        os.environ["JUPYTER_DATA_DIR"] = jupyter_data_dir()
    os.environ["XDG_DATA_HOME"] = os.path.join(d, "data")
    if mode == "install":
        # The kernelspec exactly as users get it: written by the kernel's own
        # --install, into a private prefix.
        binary = os.environ.get("BJ_KERNEL_BINARY")
        if not binary or not os.access(binary, os.X_OK):
            raise KernelSpecError(
                "BJ_KERNELSPEC_MODE=install needs BJ_KERNEL_BINARY, the built kernel"
            )
        prefix = os.path.join(d, "prefix")
        subprocess.run(
            [binary, "--install", "--prefix", prefix], check=True, stdout=subprocess.DEVNULL
        )
        old = os.environ.get("JUPYTER_PATH")
        data = os.path.join(prefix, "share", "jupyter")
        os.environ["JUPYTER_PATH"] = data + (os.pathsep + old if old else "")
    elif mode == "temp":
        kdir = os.path.join(d, "kernels", KERNEL_NAME)
        os.makedirs(kdir)
        with open(os.path.join(kdir, "kernel.json"), "w") as f:
            json.dump(spec_dict(argv), f, indent=1)
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = d + (os.pathsep + old if old else "")
    _state["name"] = KERNEL_NAME
    return KERNEL_NAME


IPYKERNEL_ARGV = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", PLACEHOLDER]


def add_kernelspec(name, argv, display_name=None):
    """Make one more kernelspec available (e.g. ipykernel, to compare with); returns name.

    Written into the private directory, put first on JUPYTER_PATH, whatever
    BJ_KERNELSPEC_MODE says about the kernel under test.
    """
    setup_kernelspec()
    extra = os.path.join(_state["dir"], "extra")
    kdir = os.path.join(extra, "kernels", name)
    os.makedirs(kdir, exist_ok=True)
    spec = spec_dict(argv)
    spec["display_name"] = display_name or name
    with open(os.path.join(kdir, "kernel.json"), "w") as f:
        json.dump(spec, f, indent=1)
    paths = os.environ.get("JUPYTER_PATH", "").split(os.pathsep)
    if extra not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([extra] + [p for p in paths if p])
    return name


def connection_file_path():
    """A fresh connection-file path inside the private temp dir (so nothing is
    left in /tmp or the Jupyter runtime dir if a run is killed)."""
    setup_kernelspec()
    fd, path = tempfile.mkstemp(prefix="kernel-", suffix=".json", dir=_state["dir"])
    os.close(fd)
    os.unlink(path)
    return path


def check_kernelspec():
    """Resolve the spec through jupyter_client (imported here, after setup)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = setup_kernelspec()
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise KernelSpecError(
            "kernelspec %r not found (JUPYTER_PATH=%r)" % (name, os.environ.get("JUPYTER_PATH"))
        )
    if spec.language != "python":
        raise KernelSpecError("kernelspec %r: language is %r, not python" % (name, spec.language))
    return spec


def register_process(popen):
    """Remember a kernel process, so the watchdog can kill it."""
    _processes.append(popen)


def start_watchdog(seconds):
    """A hung kernel must not hang the run forever: after `seconds`, dump all
    stacks, kill the kernels this script started and exit 1."""
    import faulthandler
    import sys
    import threading

    def fire():
        sys.stderr.write("\nbjkernelspec watchdog: no result after %.0fs, aborting\n" % seconds)
        faulthandler.dump_traceback(all_threads=True)
        for p in _processes:
            try:
                if p.poll() is None:
                    sys.stderr.write("killing kernel process %d\n" % p.pid)
                    p.kill()
            except Exception:
                pass
        _cleanup()
        sys.stderr.flush()
        os._exit(1)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()
    return t


def is_reference():
    """True when running against ipykernel (BJ_REFERENCE=ipykernel)."""
    return os.environ.get("BJ_REFERENCE", "") == "ipykernel"


# Set up at import, so JUPYTER_PATH is right before jupyter_client is imported.
setup_kernelspec()


def unittest_main(allowed_skips=()):
    """unittest.main() that exits non-zero on any failure, error or skip
    (a missing dependency must fail, never pass as a skip) or if no test ran.

    allowed_skips: explicit exceptions, each a tuple of substrings that must
    all occur in str(test) (e.g. a subTest's parameters)."""
    import sys
    import unittest

    def allowed(test):
        name = str(test)
        return any(all(part in name for part in parts) for parts in allowed_skips)

    class StrictResult(unittest.TextTestResult):
        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            if allowed(test):
                self.stream.writeln("    (skip allowed here: %s)" % test)
                return
            self.failures.append((test, "skipped, which is not allowed here: %s" % reason))

    try:
        import jupyter_client

        jc = jupyter_client.__version__
    except ImportError as e:
        jc = "MISSING (%s)" % e
    sys.stderr.write(
        "kernelspec %s (mode %s), BJ_KERNEL_ARGV=%s, jupyter_client %s, python %s\n"
        % (
            KERNEL_NAME,
            os.environ.get("BJ_KERNELSPEC_MODE") or "temp",
            os.environ.get("BJ_KERNEL_ARGV"),
            jc,
            sys.executable,
        )
    )
    start_watchdog(float(os.environ.get("BJ_SCRIPT_TIMEOUT") or 120))
    runner = unittest.TextTestRunner(verbosity=2, resultclass=StrictResult)
    prog = unittest.main(module="__main__", testRunner=runner, exit=False)
    r = prog.result
    bad_skips = [t for t, _ in r.skipped if not allowed(t)]
    ok = r.wasSuccessful() and not bad_skips and r.testsRun > 0
    sys.exit(0 if ok else 1)
