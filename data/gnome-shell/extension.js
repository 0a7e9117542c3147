// SPDX-License-Identifier: GPL-3.0-or-later
// Copyright 2026 The bpy-jupyter developers
//
// bpy-jupyter panel indicator, entry point for GNOME Shell 43 and 44 (legacy
// imports). The GNOME 45+ entry point is esm/extension.js; both hand the same
// indicator.js and kernelModel.js the Shell modules they need.

const Gettext = imports.gettext;

const ExtensionUtils = imports.misc.extensionUtils;
const Main = imports.ui.main;
const PanelMenu = imports.ui.panelMenu;
const PopupMenu = imports.ui.popupMenu;

const Me = ExtensionUtils.getCurrentExtension();
const {Indicator} = Me.imports.indicator;
const KernelModel = Me.imports.kernelModel;

class BpyJupyterExtension {
    constructor() {
        this.indicator = null;
    }

    enable() {
        this.indicator = new Indicator({
            uuid: Me.metadata.uuid,
            dir: Me.dir,
            deps: {
                Main, PanelMenu, PopupMenu, KernelModel,
                _: ExtensionUtils.gettext,
                ngettext: ExtensionUtils.ngettext,
            },
        });
    }

    disable() {
        this.indicator?.destroy();
        this.indicator = null;
    }
}

function init() {
    ExtensionUtils.initTranslations();
    // Installed with bpy-jupyter, the translations are in its prefix, which need
    // not be Shell's; a locale/ folder in the extension (a user install) wins.
    const localeDir = Me.metadata['bpy-jupyter-localedir'];
    if (localeDir && !Me.dir.get_child('locale').query_exists(null))
        Gettext.bindtextdomain(Me.metadata['gettext-domain'], localeDir);
    return new BpyJupyterExtension();
}
