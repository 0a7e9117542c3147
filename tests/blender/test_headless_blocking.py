#!/usr/bin/python3
"""Issue 15 in headless Blender, the `bpy-jupyter-blender` kernelspec: interrupt,
shutdown_request and SIGTERM reach a cell blocked in each of the seven calls of
tests/protocol/bjblocking.py, exactly as tests/protocol/test_blocking.py checks
them in the standalone kernel (same test classes), with

    blender -b --factory-startup \
        --python <stage>/addons/bpy_jupyter/kernel_process.py -- -f {connection_file}

as the kernel process, launched by jupyter_client like JupyterLab does.
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "protocol"))

import bjblender  # noqa: E402

KERNEL_NAME = bjblender.HEADLESS_KERNEL_NAME
_spec_root = bjblender.use_headless_kernelspec("bj-blender-blocking-")

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
