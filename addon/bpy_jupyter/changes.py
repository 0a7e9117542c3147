# SPDX-License-Identifier: GPL-3.0-or-later
"""Did a cell change Blender data? It decides the cell's undo step and redraw.

An undo step costs little on a small scene but tens of ms on a big one (a 1 M-face
mesh on Blender 3.4), a full redraw 200+ ms with software GL, and a read-only cell
that pushes a step makes Ctrl+Z undo nothing visible. So a cell gets a step only
when it changed something, and the 3D views are redrawn only then.

How a change is seen: Blender evaluates the dependency graph after any change of
data (RNA property set, operator, new or removed datablock) and then calls
`depsgraph_update_post`; `scene.frame_set()` calls `frame_change_post` instead.
`view_layer.update()` before the cell flushes what others changed, after the cell it
evaluates what the cell tagged at once (`evaluated_depsgraph_get()` would skip new
datablocks: their handler would only run later, from the main loop). Both cost about
a microsecond when nothing is tagged.

What is not seen: ID custom properties (`obj["key"] = 1`), `Text.write()`, and on
Blender 3.x `foreach_set()` without `mesh.update()`. A cell doing only such things
calls `id.update_tag()` or `bpy_jupyter.mark_changed()`.

A cell that undid, redid or loaded a file gets no step of its own: pushing one would
drop the redo steps it just made.
"""
import bpy
from bpy.app.handlers import persistent

_active = False  # between begin() and end(): a cell runs
_updates = 0  # depsgraph_update_post / frame_change_post calls during the cell
_undo_moves = 0  # undo_post / redo_post / load_post calls during the cell
_geometry = False  # the depsgraph reported updated datablocks: the 3D views show them
_marked = False  # mark_changed() was called during the cell


@persistent
def _on_depsgraph(scene, depsgraph=None):
    global _updates, _geometry
    if not _active:
        return  # interactive edits between cells: nothing to count, keep them cheap
    _updates += 1
    if not _geometry and depsgraph is not None:
        _geometry = any(True for _ in depsgraph.updates)


@persistent
def _on_undo_move(*args):
    global _undo_moves
    if _active:
        _undo_moves += 1


_HANDLERS = (
    ("depsgraph_update_post", _on_depsgraph),
    ("frame_change_post", _on_depsgraph),  # scene.frame_set() calls only this one
    ("undo_post", _on_undo_move),
    ("redo_post", _on_undo_move),
    ("load_post", _on_undo_move),
)


def mark_changed():
    """Have the running cell count as a change (one undo step), for changes Blender
    does not report: custom properties, Text.write(). Outside a cell: nothing."""
    global _marked
    if _active:
        _marked = True


def _flush():
    view_layer = getattr(bpy.context, "view_layer", None)
    if view_layer is not None:
        view_layer.update()


def begin():
    """A cell is about to run: forget what happened before it."""
    global _active, _updates, _undo_moves, _geometry, _marked
    _active = False
    _flush()
    _updates = _undo_moves = 0
    _geometry = _marked = False
    _active = True


def end():
    """The cell ended: (push an undo step?, redraw the 3D views?)."""
    global _active
    if not _active:
        return False, False
    try:
        _flush()
    finally:
        _active = False
    if _undo_moves:
        return False, False
    changed = bool(_updates) or _marked
    # RNA sets and operators send notifiers that redraw what they touched; evaluated
    # geometry (bmesh.to_mesh on 3.x, update_tag()) sends none, hence this tag.
    return changed, changed and _geometry


def tag_view3d():
    """Redraw the 3D views only: the one editor a change may leave stale."""
    wm = getattr(bpy.context, "window_manager", None)
    for window in wm.windows if wm is not None else ():
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


def tag_kernel_panels():
    """Redraw the regions that show the kernel's panels and are on screen: the 3D
    views' open sidebars, the Properties editors on the Scene tab. Cheap regions of
    buttons, never the viewport."""
    wm = getattr(bpy.context, "window_manager", None)
    for window in wm.windows if wm is not None else ():
        for area in window.screen.areas:
            space = area.spaces.active
            if area.type == "VIEW_3D" and getattr(space, "show_region_ui", False):
                kind = "UI"
            elif area.type == "PROPERTIES" and getattr(space, "context", "") == "SCENE":
                kind = "WINDOW"
            else:
                continue
            for region in area.regions:
                if region.type == kind:
                    region.tag_redraw()


def register():
    for name, handler in _HANDLERS:
        handlers = getattr(bpy.app.handlers, name)
        if handler not in handlers:
            handlers.append(handler)


def unregister():
    global _active
    _active = False
    for name, handler in _HANDLERS:
        handlers = getattr(bpy.app.handlers, name)
        if handler in handlers:
            handlers.remove(handler)
