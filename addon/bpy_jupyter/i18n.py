# SPDX-License-Identifier: GPL-3.0-or-later
"""The add-on's translations: the bpy-jupyter gettext catalogues (po/*.po), turned
into the `translations` module at build time and fed to bpy.app.translations.

Blender translates what it draws itself (panel and operator labels, property
names and descriptions, `layout.label(text=…)`) when the interface language is
not English and "Translate Interface" is on: such strings are only marked here,
with N_(), or NC_() in the "Operator" context for what labels an operator. Text
the add-on formats itself goes through _() first, then gets its values.
"""
import bpy

from .translations import TRANSLATIONS


def N_(msgid):
    """Marks msgid for xgettext; Blender translates it where it draws it."""
    return msgid


def NC_(msgctxt, msgid):
    """N_() in a context: operators' labels are looked up in "Operator"."""
    return msgid


def _(msgid):
    """msgid in the interface language, for text the add-on formats itself."""
    return bpy.app.translations.pgettext_iface(msgid)


def tip_(msgid):
    """msgid in the interface language, as a tooltip."""
    return bpy.app.translations.pgettext_tip(msgid)


def register():
    # Registering twice is an error: drop what an earlier, failed unregister left.
    bpy.app.translations.unregister(__package__)
    bpy.app.translations.register(__package__, TRANSLATIONS)


def unregister():
    bpy.app.translations.unregister(__package__)
