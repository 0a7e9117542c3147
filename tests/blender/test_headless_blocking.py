#!/usr/bin/python3
"""Issue 15 in headless Blender, the `bpy-jupyter-blender` kernelspec: interrupt,
shutdown_request and SIGTERM reach a cell blocked in each of the seven calls of
tests/protocol/bjblocking.py, exactly as tests/protocol/test_blocking.py checks
them in the standalone kernel (same test classes), with

    blender -b --factory-startup \
        --python <stage>/addons/bpy_jupyter/kernel_process.py -- -f {connection_file}

as the kernel process, launched by jupyter_client like JupyterLab does.
"""
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "protocol"))

import bjblender  # noqa: E402

KERNEL_NAME = "bpy-jupyter-blender"
_spec_root = tempfile.mkdtemp(prefix="bj-blender-blocking-")


def _write_kernelspec():
    scripts = bjblender.addon_scripts()
    blender = bjblender.find_program("blender", "BJ_BLENDER")
    spec = {
        "argv": [
            blender,
            "-b",
            "--factory-startup",
            "--python",
            os.path.join(scripts, "addons", "bpy_jupyter", "kernel_process.py"),
            "--",
            "-f",
            "{connection_file}",
        ],
        "display_name": "Blender",
        "language": "python",
        "interrupt_mode": "message",
    }
    kdir = os.path.join(_spec_root, "kernels", KERNEL_NAME)
    os.makedirs(kdir)
    with open(os.path.join(kdir, "kernel.json"), "w") as f:
        json.dump(spec, f)
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = _spec_root + (os.pathsep + old if old else "")
    os.environ["BJ_KERNELSPEC_MODE"] = "installed"
    os.environ["BJ_KERNEL_NAME"] = KERNEL_NAME
    # Blender's temporary files stay private.
    os.makedirs(os.path.join(_spec_root, "tmp"))
    os.environ["TMPDIR"] = os.path.join(_spec_root, "tmp")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    # Blender starts in a few seconds, not the standalone kernel's milliseconds.
    os.environ.setdefault("BJ_STARTUP_TIMEOUT", str(bjblender.STARTUP_TIMEOUT))


try:
    _write_kernelspec()
except BaseException:
    shutil.rmtree(_spec_root, ignore_errors=True)
    raise

import bjtest  # noqa: E402  (after the kernelspec: bjkernelspec reads the environment)
import test_blocking  # noqa: E402

bjtest.bjkernelspec.atexit.register(shutil.rmtree, _spec_root, True)


class HeadlessBlenderInterrupt(test_blocking.InterruptBlocked, bjtest.unittest.TestCase):
    pass


class HeadlessBlenderStop(test_blocking.StopBlocked, bjtest.unittest.TestCase):
    stops = ("shutdown_request", "SIGTERM")


if __name__ == "__main__":
    os.environ.setdefault("BJ_SCRIPT_TIMEOUT", "560")
    bjtest.main()
