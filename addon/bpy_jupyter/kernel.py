# SPDX-License-Identifier: GPL-3.0-or-later
"""The one kernel of this Blender process, and the timer that pumps it.

The kernel's I/O thread answers heartbeats and control requests by itself; cells
run here, on Blender's main thread, when the timer calls `Kernel.iterate()`.
"""
import atexit
import os
import time
import traceback

import bpy
from bpy.app.handlers import persistent

from . import _bpy_jupyter, changes
from .i18n import _

# The last error start/stop ran into, shown in the panel until the next success.
last_error = ""

# The panels' "Cells run" count is refreshed once the kernel has been quiet this
# long, so cells in quick succession share one redraw of those regions. A person sees
# it at once. The 3D views are redrawn only after a cell that changed data (changes.py).
REDRAW_DELAY = 0.05

_kernel = None  # created once: its Python namespace outlives stops
_finished_cell = None  # execution count of a cell whose undo step is still to decide
_panels_at = None  # when the debounced refresh of the kernel's panels is due


def _get_kernel():
    global _kernel
    if _kernel is None:
        _kernel = _bpy_jupyter.Kernel()
        _kernel.on_execute_started = _on_execute_started
        _kernel.on_execute_finished = _on_execute_finished
        _kernel.on_state_changed = _on_state_changed
        namespace = _kernel.namespace
        # As in Blender's Python console.
        namespace.setdefault("bpy", bpy)
        namespace.setdefault("C", bpy.context)
        namespace.setdefault("D", bpy.data)
    return _kernel


def current_kernel():
    if _kernel is not None and _kernel.state != "stopped":
        return _kernel
    return None


def state():
    return _kernel.state if _kernel is not None else "stopped"


def execution_count():
    return _kernel.execution_count if _kernel is not None else 0


def _jupyter_runtime_dir():
    explicit = os.environ.get("JUPYTER_RUNTIME_DIR")
    if explicit:
        return explicit
    data = os.environ.get("JUPYTER_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "jupyter"
    )
    return os.path.join(data, "runtime")


def connection_file_path(prefs):
    """Each Blender writes its own file, so two Blenders never collide.

    The default folder is Jupyter's runtime folder, where
    `jupyter console --existing kernel-blender-PID.json` finds it by name.
    """
    folder = (
        bpy.path.abspath(prefs.connection_dir) if prefs.connection_dir else _jupyter_runtime_dir()
    )
    return os.path.join(folder, "kernel-blender-%d.json" % os.getpid())


def online_access_allowed():
    # Blender 4.2+ lets users forbid add-ons the network (Preferences › System, or
    # --offline-mode; off under --factory-startup unless --online-mode); 3.x has no such
    # switch. A kernel listens for clients, so it starts only where access is allowed.
    return getattr(bpy.app, "online_access", True)


def start(prefs):
    global last_error
    if not online_access_allowed():
        # The operator's poll says so in the panel; this covers auto-start.
        raise RuntimeError(_("Online access is disabled in Preferences › System"))
    kernel = _get_kernel()
    kernel.start(connection_file_path(prefs), ip=prefs.ip, transport=prefs.transport)
    last_error = ""
    _tag_redraw()


def configure(prefs):
    """What a Start over D-Bus uses: the same file, address and transport as the panel."""
    if _kernel is not None and current_kernel() is None and prefs is not None:
        # Until the user confirms it in the preferences, a remote Start stays local.
        ip = prefs.ip if prefs.is_loopback() or prefs.allow_remote else "127.0.0.1"
        _kernel.configure(connection_file_path(prefs), ip=ip, transport=prefs.transport)


def update_dbus_export(prefs):
    """Export the kernel on the session bus (org.bpyjupyter.Kernel) or stop doing so.

    Only where a session bus exists: without DBUS_SESSION_BUS_ADDRESS, GIO would try
    to autolaunch one, which a Blender under Xvfb or ssh must not do. Not while online
    access is disabled either: a Start over the bus would open the kernel's sockets
    behind the user's back (and the kernel cannot ask the add-on first).
    """
    wanted = (
        prefs is not None
        and prefs.dbus_export
        and online_access_allowed()
        and bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))
    )
    if not wanted and _kernel is None:
        return  # nothing exported, and no kernel to create just to say so
    kernel = _get_kernel()
    if wanted and kernel.dbus_name is None:
        try:
            configure(prefs)
            kernel.export_dbus(
                "Blender " + bpy.app.version_string, document=bpy.data.filepath or None
            )
        except Exception as error:
            print(_("bpy-jupyter: not on D-Bus: %s") % error)
    elif not wanted and kernel.dbus_name is not None:
        kernel.unexport_dbus()


def stop():
    global last_error
    if current_kernel() is None:
        return
    _kernel.stop()
    last_error = ""
    _tag_redraw()


def restart():
    _kernel.restart()
    _tag_redraw()


def interrupt():
    _kernel.interrupt()


def _on_state_changed(new_state):
    # busy/idle flip around every request, and Blender cannot draw while a cell
    # holds the main thread anyway: those wait for the debounced refresh of the
    # panels after a cell. Start and stop show at once.
    if new_state not in ("busy", "idle"):
        _tag_redraw()


def _on_execute_started(execution_count):
    # A cell that follows another within one tick (a client sending its next cell
    # at once) must find that one's undo step already pushed: otherwise its
    # `bpy.ops.ed.undo()` undoes an older cell, or finds nothing to undo.
    try:
        _finish_cell()
        changes.begin()
    except Exception:
        traceback.print_exc()


def _on_execute_finished(execution_count, status):
    # The undo step waits, off the reply's path: until the next cell starts or the
    # end of this tick. Whatever the status: a cell that raised after changing
    # something gets its step too.
    global _finished_cell
    _finished_cell = execution_count


def _tag_redraw():
    wm = getattr(bpy.context, "window_manager", None)
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            area.tag_redraw()


def _finish_cell():
    """The last cell's undo step and redraw, if it changed Blender data."""
    global _finished_cell, _panels_at
    n, _finished_cell = _finished_cell, None
    if n is None:
        return
    _panels_at = time.monotonic() + REDRAW_DELAY
    changed, redraw_view3d = changes.end()
    if changed:
        try:
            # So Ctrl+Z undoes what a cell did, one cell at a time.
            # TRANSLATORS: the undo step of a cell; %d is its execution count
            bpy.ops.ed.undo_push(message=_("Jupyter cell [%d]") % n)
        except Exception:
            traceback.print_exc()
    if redraw_view3d:
        changes.tag_view3d()


def view3d_context(window=None):
    wm = bpy.context.window_manager
    for candidate in [window] if window else wm.windows:
        for area in candidate.screen.areas:
            if area.type == "VIEW_3D":
                region = next(r for r in area.regions if r.type == "WINDOW")
                return bpy.context.temp_override(window=candidate, area=area, region=region)
    raise RuntimeError(_("No 3D View is open"))


def _pump():
    """The persistent timer: runs ready requests, then says when to come back."""
    try:
        if _kernel is None:
            return 0.25
        global _panels_at
        interval = _kernel.iterate()
        _finish_cell()
        if _panels_at is not None and time.monotonic() >= _panels_at and _kernel.state != "busy":
            _panels_at = None
            changes.tag_kernel_panels()
        return interval
    except Exception:
        # Never let an error end the timer: Blender must keep serving clients.
        traceback.print_exc()
        return 0.25


def _ensure_timer():
    if not bpy.app.timers.is_registered(_pump):
        bpy.app.timers.register(_pump, first_interval=0.0, persistent=True)


@persistent
def _on_load_post(*args):
    # A new or opened file: the timer survives (persistent), the namespace keeps
    # working (bpy.data and bpy.context are the live ones), the panel refreshes.
    _ensure_timer()
    if _kernel is not None and _kernel.dbus_name is not None:
        _kernel.set_host_document(bpy.data.filepath or None)
    _tag_redraw()


def _stop_at_exit():
    # Blender quitting with a kernel running: stop cleanly, remove the file.
    try:
        if current_kernel() is not None:
            _kernel.stop()
    except Exception:
        traceback.print_exc()


def auto_start():
    prefs = preferences_or_none()
    update_dbus_export(prefs)
    if prefs is not None and prefs.auto_start and current_kernel() is None:
        try:
            start(prefs)
        except Exception as error:
            global last_error
            last_error = str(error)
            print(_("bpy-jupyter: auto-start failed: %s") % error)
    return None


def preferences_or_none():
    addon = bpy.context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None


def register():
    _ensure_timer()
    if _on_load_post not in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.append(_on_load_post)
    atexit.register(_stop_at_exit)
    # Preferences are readable only after registration completes.
    bpy.app.timers.register(auto_start, first_interval=0.0)


def unregister():
    global _kernel
    if _kernel is not None and _kernel.dbus_name is not None:
        _kernel.unexport_dbus()
    _stop_at_exit()
    atexit.unregister(_stop_at_exit)
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    if bpy.app.timers.is_registered(_pump):
        bpy.app.timers.unregister(_pump)
    if bpy.app.timers.is_registered(auto_start):
        bpy.app.timers.unregister(auto_start)
    # The kernel object (and its namespace) stays with the extension module, which
    # Python cannot unload; a re-enabled add-on picks it up again.
