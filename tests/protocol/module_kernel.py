"""The _bpy_jupyter extension module as a kernel process, for the protocol suite:

    python3 module_kernel.py iterate|run -f CONNECTION_FILE

`iterate` pumps kernel.iterate() from a loop, as the Blender add-on does from a
bpy.app.timers callback, and exits once the kernel stopped on a client's
shutdown_request. `run` serves from kernel.run() with exit_on_shutdown, as the
headless-Blender kernel process (addon/bpy_jupyter/kernel_process.py) does.
BJ_MODULE_DIR names the folder holding the built module.
"""
import os
import sys
import time

sys.path.insert(0, os.environ["BJ_MODULE_DIR"])
import _bpy_jupyter  # noqa: E402

mode, flag, connection_file = sys.argv[1:4]
assert mode in ("iterate", "run") and flag == "-f", sys.argv

kernel = _bpy_jupyter.Kernel()
if mode == "run":
    kernel.exit_on_shutdown = True
    kernel.start(connection_file)
    kernel.run()
else:
    kernel.start(connection_file)
    while not (kernel.shutdown_requested and kernel.state == "stopped"):
        time.sleep(kernel.iterate())
