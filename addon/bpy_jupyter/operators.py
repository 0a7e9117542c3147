# SPDX-License-Identifier: GPL-3.0-or-later
"""Start, stop, restart, interrupt, and copy what a client needs to connect."""
import json
import os

import bpy
from bpy.props import EnumProperty

from . import kernel
from .registration import register_classes, unregister_classes


def online_access_allowed():
    # Blender 4.2+ lets users forbid add-ons the network; 3.x has no such switch.
    return getattr(bpy.app, "online_access", True)


class BPY_JUPYTER_OT_start_kernel(bpy.types.Operator):
    """Start a Jupyter kernel in this Blender, listening for clients"""

    bl_idname = "bpy_jupyter.start_kernel"
    bl_label = "Start Kernel"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        if not online_access_allowed():
            cls.poll_message_set("Online access is disabled in Preferences › System")
            return False
        return kernel.current_kernel() is None

    def invoke(self, context, event):
        prefs = kernel.preferences_or_none()
        if prefs is not None and not prefs.is_loopback() and not prefs.allow_remote:
            self.report({"ERROR"}, "Listening on %s reaches other machines: confirm it in the "
                                   "add-on preferences first" % prefs.ip)
            return {"CANCELLED"}
        return self.execute(context)

    def execute(self, context):
        prefs = kernel.preferences_or_none()
        try:
            kernel.start(prefs)
        except Exception as error:
            kernel.last_error = str(error)
            self.report({"ERROR"}, "Cannot start the kernel: %s" % error)
            return {"CANCELLED"}
        self.report({"INFO"}, "Jupyter kernel started: %s" % kernel.current_kernel().connection_file)
        return {"FINISHED"}


class BPY_JUPYTER_OT_stop_kernel(bpy.types.Operator):
    """Stop the kernel: clients disconnect and the connection file is removed"""

    bl_idname = "bpy_jupyter.stop_kernel"
    bl_label = "Stop Kernel"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    def execute(self, context):
        try:
            kernel.stop()
        except Exception as error:
            self.report({"ERROR"}, "Cannot stop the kernel: %s" % error)
            return {"CANCELLED"}
        self.report({"INFO"}, "Jupyter kernel stopped")
        return {"FINISHED"}


class BPY_JUPYTER_OT_restart_kernel(bpy.types.Operator):
    """Restart the kernel on the same ports and key; the Python namespace is kept"""

    bl_idname = "bpy_jupyter.restart_kernel"
    bl_label = "Restart Kernel"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    def execute(self, context):
        try:
            kernel.restart()
        except Exception as error:
            self.report({"ERROR"}, "Cannot restart the kernel: %s" % error)
            return {"CANCELLED"}
        return {"FINISHED"}


class BPY_JUPYTER_OT_interrupt_kernel(bpy.types.Operator):
    """Interrupt the running cell (raises KeyboardInterrupt in it)"""

    bl_idname = "bpy_jupyter.interrupt_kernel"
    bl_label = "Interrupt"
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    def execute(self, context):
        kernel.interrupt()
        return {"FINISHED"}


class BPY_JUPYTER_OT_copy_connection_info(bpy.types.Operator):
    """Copy what a Jupyter client needs to connect to this kernel"""

    bl_idname = "bpy_jupyter.copy_connection_info"
    bl_label = "Copy Connection Info"
    bl_options = {"REGISTER"}

    what: EnumProperty(
        name="What",
        items=(
            ("PATH", "Connection File Path", "The path of the connection file"),
            ("FOLDER", "Connection File Folder", "The folder that holds the connection file"),
            ("JSON", "Connection JSON (with key)", "The connection file's content, key included: keep it secret"),
            ("COMMAND", "Console Command", "A jupyter console command that connects to this kernel"),
        ),
        default="PATH",
    )

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    @classmethod
    def description(cls, context, properties):
        return {
            "PATH": "Copy the connection file's path",
            "FOLDER": "Copy the folder of the connection file",
            "JSON": "Copy the connection file's JSON, key included (keep it secret)",
            "COMMAND": "Copy a `jupyter console --existing` command for this kernel",
        }[properties.what]

    def execute(self, context):
        running = kernel.current_kernel()
        path = running.connection_file
        if self.what == "PATH":
            text = path
        elif self.what == "FOLDER":
            text = os.path.dirname(path)
        elif self.what == "JSON":
            text = running.connection_info.to_json(include_key=True)
        else:
            text = "jupyter console --existing %s" % json.dumps(path)[1:-1].replace(" ", "\\ ")
        context.window_manager.clipboard = text
        self.report({"INFO"}, "Copied")
        return {"FINISHED"}


classes = (
    BPY_JUPYTER_OT_start_kernel,
    BPY_JUPYTER_OT_stop_kernel,
    BPY_JUPYTER_OT_restart_kernel,
    BPY_JUPYTER_OT_interrupt_kernel,
    BPY_JUPYTER_OT_copy_connection_info,
)


def register():
    register_classes(classes)


def unregister():
    unregister_classes(classes)
