# SPDX-License-Identifier: GPL-3.0-or-later
"""The Jupyter panel: in the 3D View sidebar and in Properties › Scene.

Drawing only reads state; every change goes through an operator.
"""
import os

import bpy

from . import kernel
from .i18n import N_, NC_, _
from .operators import online_access_allowed
from .registration import register_classes, unregister_classes

STATE_ICONS = {
    "stopped": "CANCEL",
    "starting": "TIME",
    "idle": "CHECKMARK",
    "busy": "SORTTIME",
    "stopping": "TIME",
}

# Kernel states as the panel shows them; Blender translates them as it draws.
STATE_LABELS = {
    "stopped": N_("Stopped"),
    "starting": N_("Starting…"),
    "idle": N_("Idle"),
    "busy": N_("Busy"),
    "stopping": N_("Stopping…"),
}


def draw_main(layout, context):
    state = kernel.state()
    running = kernel.current_kernel()

    row = layout.row()
    row.label(text=STATE_LABELS.get(state, state), icon=STATE_ICONS.get(state, "QUESTION"))
    if running is not None:
        row.label(text=_("Cells run: %d") % kernel.execution_count(), translate=False)

    if not online_access_allowed():
        box = layout.box()
        box.label(text=N_("Online access is disabled:"), icon="ERROR")
        box.label(text=N_("the kernel needs it to listen for clients."))
        box.operator(
            "screen.userpref_show", text=NC_("Operator", "Open Preferences"), icon="PREFERENCES"
        )

    if running is None:
        layout.operator("bpy_jupyter.start_kernel", icon="PLAY")
    else:
        # Three buttons in one row get cut to "Sto…", "Rest…" at the sidebar's
        # default width: two rows keep every label readable.
        col = layout.column(align=True)
        row = col.row(align=True)
        row.operator("bpy_jupyter.stop_kernel", icon="SNAP_FACE", text=NC_("Operator", "Stop"))
        row.operator(
            "bpy_jupyter.restart_kernel", icon="FILE_REFRESH", text=NC_("Operator", "Restart")
        )
        col.operator(
            "bpy_jupyter.interrupt_kernel", icon="PAUSE", text=NC_("Operator", "Interrupt")
        )
        layout.operator(
            "bpy_jupyter.copy_connection_info",
            icon="CONSOLE",
            text=NC_("Operator", "Copy Console Command"),
        ).what = "COMMAND"

    if kernel.last_error:
        box = layout.box()
        box.label(text=N_("Last error:"), icon="ERROR")
        box.label(text=kernel.last_error, translate=False)


def draw_connection(layout, context):
    running = kernel.current_kernel()
    if running is None:
        layout.label(text=N_("Start the kernel to connect a client."))
        return
    info = running.connection_info
    path = running.connection_file

    col = layout.column(align=True)
    row = col.row(align=True)
    row.label(text=os.path.basename(path), icon="FILE", translate=False)
    row.operator("bpy_jupyter.copy_connection_info", text="", icon="COPYDOWN").what = "PATH"
    row = col.row(align=True)
    row.label(text=os.path.dirname(path), icon="FILE_FOLDER", translate=False)
    row.operator("bpy_jupyter.copy_connection_info", text="", icon="COPYDOWN").what = "FOLDER"

    col = layout.column(align=True)
    col.label(text="%s://%s" % (info.transport, info.ip), translate=False)
    # The channels' own names, as Jupyter's documentation spells them.
    col.label(
        text="Shell %d · IOPub %d · Stdin %d" % (info.shell_port, info.iopub_port, info.stdin_port),
        translate=False,
    )
    col.label(text="Control %d · Heartbeat %d" % (info.control_port, info.hb_port), translate=False)
    col.label(text=_("Signed with %s") % info.signature_scheme, translate=False)
    row = layout.row(align=True)
    row.label(text=N_("Key: hidden"), icon="LOCKED")
    row.operator(
        "bpy_jupyter.copy_connection_info",
        text=NC_("Operator", "Copy JSON with Key"),
        icon="COPYDOWN",
    ).what = "JSON"


class BPY_JUPYTER_PT_view3d(bpy.types.Panel):
    bl_idname = "BPY_JUPYTER_PT_view3d"
    bl_label = N_("Jupyter Kernel")
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Jupyter"

    def draw(self, context):
        draw_main(self.layout, context)


class BPY_JUPYTER_PT_view3d_connection(bpy.types.Panel):
    bl_idname = "BPY_JUPYTER_PT_view3d_connection"
    bl_label = N_("Connection")
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Jupyter"
    bl_parent_id = "BPY_JUPYTER_PT_view3d"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        draw_connection(self.layout, context)


class BPY_JUPYTER_PT_scene(bpy.types.Panel):
    bl_idname = "BPY_JUPYTER_PT_scene"
    bl_label = N_("Jupyter Kernel")
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "scene"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        draw_main(self.layout, context)


class BPY_JUPYTER_PT_scene_connection(bpy.types.Panel):
    bl_idname = "BPY_JUPYTER_PT_scene_connection"
    bl_label = N_("Connection")
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "scene"
    bl_parent_id = "BPY_JUPYTER_PT_scene"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        draw_connection(self.layout, context)


classes = (
    BPY_JUPYTER_PT_view3d,
    BPY_JUPYTER_PT_view3d_connection,
    BPY_JUPYTER_PT_scene,
    BPY_JUPYTER_PT_scene_connection,
)


def register():
    register_classes(classes)


def unregister():
    unregister_classes(classes)
