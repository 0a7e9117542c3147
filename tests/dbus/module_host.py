"""A host for the _bpy_jupyter extension module, pumped like the Blender add-on pumps
it: export_dbus(), then iterate() from a loop (Blender: a bpy.app.timers callback)
until SIGTERM. Cells can reach the kernel object as `kernel` and the states the
host's callback saw as `states`.

    python3 module_host.py [DOCUMENT]
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.environ["BJ_MODULE_DIR"])
import _bpy_jupyter  # noqa: E402

running = True


def on_sigterm(signum, frame):
    global running
    running = False


signal.signal(signal.SIGTERM, on_sigterm)

kernel = _bpy_jupyter.Kernel()
states = []
kernel.on_state_changed = states.append
kernel.namespace["kernel"] = kernel
kernel.namespace["states"] = states

assert kernel.dbus_name is None
kernel.export_dbus("TestHost 1.0", document=sys.argv[1] if len(sys.argv) > 1 else None)
try:
    kernel.export_dbus("TestHost 1.0")
    raise SystemExit("export_dbus twice did not raise")
except _bpy_jupyter.KernelError:
    pass

while running:
    time.sleep(kernel.iterate())

kernel.unexport_dbus()
if kernel.state != "stopped":
    kernel.stop()
