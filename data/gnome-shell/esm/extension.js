// SPDX-License-Identifier: GPL-3.0-or-later
// Copyright 2026 The bpy-jupyter developers
//
// bpy-jupyter panel indicator, entry point for GNOME Shell 45 and later (ES
// modules). indicator.js and kernelModel.js next to it are generated at build time
// from the legacy modules by esmify.py: this file is the whole port.

import Gettext from 'gettext';

import {Extension, gettext as _, ngettext} from 'resource:///org/gnome/shell/extensions/extension.js';
import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as PanelMenu from 'resource:///org/gnome/shell/ui/panelMenu.js';
import * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';

import * as KernelModel from './kernelModel.js';
import {Indicator} from './indicator.js';

export default class BpyJupyterExtension extends Extension {
    constructor(metadata) {
        super(metadata);
        // Binds the metadata's gettext-domain to the extension's locale/ folder, else
        // to Shell's prefix; `_` throws until it ran. Shell 48's and 51's constructor
        // already calls it; calling it here does not depend on that.
        this.initTranslations();
        // Installed with bpy-jupyter, the translations are in its prefix, which need
        // not be Shell's; a locale/ folder in the extension (a user install) wins.
        const localeDir = this.metadata['bpy-jupyter-localedir'];
        if (localeDir && !this.dir.get_child('locale').query_exists(null))
            Gettext.bindtextdomain(this.metadata['gettext-domain'], localeDir);
        this.indicator = null;
    }

    enable() {
        this.indicator = new Indicator({
            uuid: this.uuid,
            dir: this.dir,
            deps: {Main, PanelMenu, PopupMenu, KernelModel, _, ngettext},
        });
    }

    disable() {
        this.indicator?.destroy();
        this.indicator = null;
    }
}
