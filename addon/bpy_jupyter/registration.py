# SPDX-License-Identifier: GPL-3.0-or-later
"""Class registration that tolerates being run twice (reloads, re-enabling)."""
import bpy


def register_classes(classes):
    for cls in classes:
        # A class left registered by an earlier, failed unregister is reused.
        if getattr(cls, "is_registered", False):
            continue
        bpy.utils.register_class(cls)


def unregister_classes(classes):
    for cls in reversed(classes):
        if getattr(cls, "is_registered", False):
            bpy.utils.unregister_class(cls)
