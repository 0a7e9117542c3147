# SPDX-License-Identifier: GPL-3.0-or-later
"""Start, stop, restart, interrupt, and copy what a client needs to connect."""
import os
import re

import bpy
from bpy.props import EnumProperty

from . import kernel
from .i18n import N_, NC_, _, tip_
from .kernel import online_access_allowed
from .registration import register_classes, unregister_classes

_SHELL_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def console_command(connection_file):
    """`jupyter console --existing FILE`, FILE quoted for a POSIX shell exactly as
    the tools and the GNOME Shell indicator quote it (bj_console_command_for_file)."""
    if _SHELL_SAFE.fullmatch(connection_file):
        quoted = connection_file
    else:
        quoted = "'" + connection_file.replace("'", "'\\''") + "'"
    return "jupyter console --existing " + quoted


# Descriptions are bl_description rather than docstrings: xgettext does not see
# docstrings. Blender looks operator labels up in the "Operator" context.
class BPY_JUPYTER_OT_start_kernel(bpy.types.Operator):
    bl_idname = "bpy_jupyter.start_kernel"
    bl_label = NC_("Operator", "Start Kernel")
    bl_description = N_("Start a Jupyter kernel in this Blender, listening for clients")
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        if not online_access_allowed():
            cls.poll_message_set(tip_(N_("Online access is disabled in Preferences › System")))
            return False
        return kernel.current_kernel() is None

    def invoke(self, context, event):
        prefs = kernel.preferences_or_none()
        if prefs is not None and not prefs.is_loopback() and not prefs.allow_remote:
            self.report(
                {"ERROR"},
                _(
                    "Listening on %s reaches other machines: confirm it in the "
                    "add-on preferences first"
                )
                % prefs.ip,
            )
            return {"CANCELLED"}
        return self.execute(context)

    def execute(self, context):
        prefs = kernel.preferences_or_none()
        try:
            kernel.start(prefs)
        except Exception as error:
            kernel.last_error = str(error)
            self.report({"ERROR"}, _("Cannot start the kernel: %s") % error)
            return {"CANCELLED"}
        self.report(
            {"INFO"}, _("Jupyter kernel started: %s") % kernel.current_kernel().connection_file
        )
        return {"FINISHED"}


class BPY_JUPYTER_OT_stop_kernel(bpy.types.Operator):
    bl_idname = "bpy_jupyter.stop_kernel"
    bl_label = NC_("Operator", "Stop Kernel")
    bl_description = N_("Stop the kernel: clients disconnect and the connection file is removed")
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    def execute(self, context):
        try:
            kernel.stop()
        except Exception as error:
            self.report({"ERROR"}, _("Cannot stop the kernel: %s") % error)
            return {"CANCELLED"}
        self.report({"INFO"}, _("Jupyter kernel stopped"))
        return {"FINISHED"}


class BPY_JUPYTER_OT_restart_kernel(bpy.types.Operator):
    bl_idname = "bpy_jupyter.restart_kernel"
    bl_label = NC_("Operator", "Restart Kernel")
    bl_description = N_(
        "Restart the kernel on the same ports and key; the Python namespace is kept"
    )
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    def execute(self, context):
        try:
            kernel.restart()
        except Exception as error:
            self.report({"ERROR"}, _("Cannot restart the kernel: %s") % error)
            return {"CANCELLED"}
        return {"FINISHED"}


class BPY_JUPYTER_OT_interrupt_kernel(bpy.types.Operator):
    bl_idname = "bpy_jupyter.interrupt_kernel"
    bl_label = NC_("Operator", "Interrupt")
    bl_description = N_("Interrupt the running cell (raises KeyboardInterrupt in it)")
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    def execute(self, context):
        kernel.interrupt()
        return {"FINISHED"}


class BPY_JUPYTER_OT_copy_connection_info(bpy.types.Operator):
    bl_idname = "bpy_jupyter.copy_connection_info"
    bl_label = NC_("Operator", "Copy Connection Info")
    bl_description = N_("Copy what a Jupyter client needs to connect to this kernel")
    bl_options = {"REGISTER"}

    what: EnumProperty(
        name=N_("What"),
        items=(
            ("PATH", N_("Connection File Path"), N_("The path of the connection file")),
            (
                "FOLDER",
                N_("Connection File Folder"),
                N_("The folder that holds the connection file"),
            ),
            (
                "JSON",
                N_("Connection JSON (with key)"),
                N_("The connection file's content, key included: keep it secret"),
            ),
            (
                "COMMAND",
                N_("Console Command"),
                N_("A jupyter console command that connects to this kernel"),
            ),
        ),
        default="PATH",
    )

    @classmethod
    def poll(cls, context):
        return kernel.current_kernel() is not None

    @classmethod
    def description(cls, context, properties):
        return tip_(
            {
                "PATH": N_("Copy the connection file's path"),
                "FOLDER": N_("Copy the folder of the connection file"),
                "JSON": N_("Copy the connection file's JSON, key included (keep it secret)"),
                "COMMAND": N_("Copy a `jupyter console --existing` command for this kernel"),
            }[properties.what]
        )

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
            text = console_command(path)
        context.window_manager.clipboard = text
        self.report({"INFO"}, _("Copied"))
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
