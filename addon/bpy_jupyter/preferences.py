# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the kernel listens and whether it starts by itself."""
import ipaddress

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from .i18n import N_
from .registration import register_classes, unregister_classes


def _settings_changed(self, context):
    # Imported here: kernel imports the extension module, preferences must not.
    from . import kernel

    kernel.configure(self)
    kernel.update_dbus_export(self)


class BPY_JUPYTER_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    ip: StringProperty(
        name=N_("Address"),
        description=N_("Where the kernel listens (tcp), or the path prefix of its sockets (ipc)"),
        default="127.0.0.1",
        update=_settings_changed,
    )
    allow_remote: BoolProperty(
        name=N_("Allow Other Machines"),
        description=N_(
            "Listen on an address other machines can reach. Anyone who gets the "
            "connection file can run any code as you"
        ),
        default=False,
        update=_settings_changed,
    )
    transport: EnumProperty(
        name=N_("Transport"),
        items=(
            ("tcp", "TCP", N_("Network sockets (the usual choice)")),
            ("ipc", "IPC", N_("Local socket files: only this machine can connect")),
        ),
        default="tcp",
        update=_settings_changed,
    )
    connection_dir: StringProperty(
        name=N_("Connection File Folder"),
        description=N_("Where to write the connection file; empty for Jupyter's runtime folder"),
        subtype="DIR_PATH",
        default="",
        update=_settings_changed,
    )
    dbus_export: BoolProperty(
        name=N_("Desktop Control (D-Bus)"),
        description=N_(
            "Let desktop tools see and start or stop this kernel over the session bus "
            "(org.bpyjupyter.Kernel)"
        ),
        default=True,
        update=_settings_changed,
    )
    auto_start: BoolProperty(
        name=N_("Start Automatically"),
        description=N_("Start the kernel when Blender starts with this add-on enabled"),
        default=False,
    )

    def is_loopback(self):
        if self.transport == "ipc":
            return True
        try:
            return ipaddress.ip_address(self.ip).is_loopback
        except ValueError:
            return self.ip == "localhost"

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "transport")
        layout.prop(self, "ip")
        if not self.is_loopback():
            box = layout.box()
            box.label(text=N_("This address can be reached from other machines."), icon="ERROR")
            box.prop(self, "allow_remote")
        layout.prop(self, "connection_dir")
        layout.prop(self, "auto_start")
        layout.prop(self, "dbus_export")


classes = (BPY_JUPYTER_AP_preferences,)


def register():
    register_classes(classes)


def unregister():
    unregister_classes(classes)
