# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The bpy-jupyter developers
"""A native Jupyter kernel inside Blender.

Start it from the sidebar (3D View › Jupyter) or Properties › Scene, then connect
`jupyter console --existing FILE`, JupyterLab, VS Code or nbclient, and drive bpy
live. The kernel is C (bpy-jupyter); this package is the Blender side of it.
"""

bl_info = {
    "name": "Jupyter Kernel (bpy-jupyter)",
    "author": "The bpy-jupyter developers",
    "version": (0, 1, 0),
    "blender": (3, 0, 0),
    "location": "3D View › Sidebar › Jupyter; Properties › Scene › Jupyter Kernel",
    "description": "Run a native Jupyter kernel in Blender and drive bpy from notebooks",
    "doc_url": "https://bpyjupyter.org",
    "category": "Development",
}

from . import i18n, kernel, operators, panels, preferences  # noqa: E402

_modules = (i18n, preferences, kernel, operators, panels)


def current_kernel():
    """The running kernel (a `_bpy_jupyter.Kernel`), or None when stopped."""
    return kernel.current_kernel()


def view3d_context(window=None):
    """A context override for the first 3D View, for operators that need an area.

    Cells run from a timer, where `bpy.context` has no area::

        with bpy_jupyter.view3d_context():
            bpy.ops.view3d.view_all()
    """
    return kernel.view3d_context(window)


def register():
    for module in _modules:
        module.register()


def unregister():
    for module in reversed(_modules):
        module.unregister()
