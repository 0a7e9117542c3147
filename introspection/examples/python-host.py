#!/usr/bin/python3
"""python-host.py: a Python program that hosts a Jupyter kernel through PyGObject.

    python3 python-host.py -f CONNECTION_FILE

The kernel runs Python cells in *this* interpreter, on the main thread, whenever
the GLib main loop dispatches a request: a cell sees the host's modules (here
``import python_host; python_host.counter`` counts the cells run so far), and the
host keeps serving its own sources between cells. While a cell runs, ``__main__``
is the notebook's namespace, not the host's script. The host's own prints stay on
its stdout; a cell's prints go to the notebook.

BpyJupyterPython.PythonExecutor lives in libbpyjupyter-python-1.0, which does not
link libpython: it uses the interpreter of the process that loads it, this one.
PyGObject releases the GIL around calls into C and while the main loop waits; the
executor takes the GIL itself whenever it runs Python.

With a build tree instead of an install:
    GI_TYPELIB_PATH=build/introspection LD_LIBRARY_PATH=build/src:build/introspection \\
        python3 introspection/examples/python-host.py -f kernel.json
"""

import argparse
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("BpyJupyter", "1.0")
gi.require_version("BpyJupyterPython", "1.0")
from gi.repository import BpyJupyter, BpyJupyterPython, GLib  # noqa: E402

# Something of the host's for cells to look at: `import python_host; python_host.counter`.
counter = 0
sys.modules.setdefault("python_host", sys.modules[__name__])


def main(argv):
    parser = argparse.ArgumentParser(description="Host a Python Jupyter kernel in a GLib main loop")
    parser.add_argument(
        "-f",
        "--connection-file",
        required=True,
        help="the connection file to read, or to write if it does not exist",
    )
    args = parser.parse_args(argv)

    loop = GLib.MainLoop()
    executor = BpyJupyterPython.PythonExecutor.new()
    kernel = BpyJupyter.Kernel.new(executor)
    kernel.set_connection_file(args.connection_file)

    def on_state_changed(kernel, state):
        print(f"kernel: {BpyJupyter.KernelState.to_string(state)}", file=sys.stderr, flush=True)

    def on_execute_finished(kernel, execution_count, status):
        global counter
        counter += 1

    def on_shutdown_requested(kernel, restart):
        # Returning leaves the default handler, which restarts in process; a plain
        # shutdown ends this host.
        if not restart:
            kernel.stop()
            loop.quit()

    kernel.connect("state-changed", on_state_changed)
    kernel.connect("execute-finished", on_execute_finished)
    kernel.connect("shutdown-requested", on_shutdown_requested)

    def on_terminate():
        if kernel.get_state() != BpyJupyter.KernelState.STOPPED:
            kernel.stop()
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, on_terminate)  # SIGTERM

    kernel.start()
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
