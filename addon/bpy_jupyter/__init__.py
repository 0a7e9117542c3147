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

import sys  # noqa: E402

from . import changes, i18n, kernel, operators, panels, preferences  # noqa: E402

_modules = (i18n, preferences, changes, kernel, operators, panels)

# The name cells and scripts import, whatever Blender loaded the package as: a legacy
# add-on is `bpy_jupyter` itself, an extension (Blender 4.2+) is
# `bl_ext.<repository>.bpy_jupyter`, which `import bpy_jupyter` would not find.
PUBLIC_NAME = "bpy_jupyter"


def current_kernel():
    """The running kernel (a `_bpy_jupyter.Kernel`), or None when stopped."""
    return kernel.current_kernel()


def mark_changed():
    """Give the running cell its undo step though Blender reported no change.

    Cells that only set custom properties (`obj["key"] = 1`) or write to a Text
    change nothing Blender reports; `id.update_tag()` works as well::

        obj["weight"] = 2.5
        bpy_jupyter.mark_changed()
    """
    changes.mark_changed()


def view3d_context(window=None):
    """A context override for the first 3D View, for operators that need an area.

    Cells run from a timer, where `bpy.context` has no area::

        with bpy_jupyter.view3d_context():
            bpy.ops.view3d.view_all()
    """
    return kernel.view3d_context(window)


def _aliases():
    """(public name, module) for this package and its loaded submodules."""
    prefix = __name__ + "."
    return [
        (PUBLIC_NAME + name[len(__name__) :], module)
        for name, module in list(sys.modules.items())
        if name == __name__ or name.startswith(prefix)
    ]


def _add_aliases():
    # sys.modules entries, not a copy on sys.path: a second import of the files would
    # make a second kernel module with its own (stopped) kernel. Submodules too, so that
    # `import bpy_jupyter.kernel` finds the loaded one instead of loading it again.
    if __name__ == PUBLIC_NAME:
        return
    other = sys.modules.get(PUBLIC_NAME)
    if other is not None and other is not sys.modules[__name__]:
        # Another bpy_jupyter (a legacy copy, say) was imported first: leave it be.
        print(
            "bpy-jupyter: `import bpy_jupyter` names %s, not this add-on (%s)"
            % (getattr(other, "__file__", other), __name__)
        )
        return
    for alias, module in _aliases():
        sys.modules.setdefault(alias, module)


def _remove_aliases():
    if __name__ == PUBLIC_NAME:
        return
    for alias, module in _aliases():
        if sys.modules.get(alias) is module:
            del sys.modules[alias]


def register():
    for module in _modules:
        module.register()
    _add_aliases()


def unregister():
    _remove_aliases()
    for module in reversed(_modules):
        module.unregister()
