# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender as a Jupyter kernel process (the `bpy-jupyter-blender` kernelspec).

    blender -b --factory-startup --python kernel_process.py -- -f CONNECTION_FILE

Timers never run under `blender -b`, so the kernel serves from its own blocking
loop until a client asks it to shut down; then Blender exits.
"""
import argparse
import os
import sys

import bpy


def main(argv):
    parser = argparse.ArgumentParser(prog="blender -b --python kernel_process.py --")
    parser.add_argument("-f", "--connection-file", required=True)
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _bpy_jupyter

    kernel = _bpy_jupyter.Kernel()
    kernel.exit_on_shutdown = True
    namespace = kernel.namespace
    namespace.update(bpy=bpy, C=bpy.context, D=bpy.data)
    kernel.start(args.connection_file)
    kernel.run()


argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
try:
    main(argv)
except SystemExit:
    raise
except BaseException as error:
    print("bpy-jupyter: the Blender kernel failed: %s" % error, file=sys.stderr)
    sys.exit(1)
