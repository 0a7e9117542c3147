// SPDX-License-Identifier: GPL-3.0-or-later
// Copyright 2026 The bpy-jupyter developers
//
// The panel indicator: a state icon in the top bar while at least one kernel host is
// on the session bus, and a menu with each host and its actions. The Shell modules it
// uses (Main, PanelMenu, PopupMenu) and the gettext functions are handed in by the
// entry point, extension.js (GNOME 43/44, legacy imports) or esm/extension.js (GNOME
// 45+), so this one file serves both; esmify.py generates its ES module form.

const {Clutter, Gio, GLib, St} = imports.gi;

// EXPORTS: Indicator ACTIONS

/** The menu actions of a host, in menu order (see Indicator.menuItem()). */
var ACTIONS = ['startStop', 'interrupt', 'restart', 'copyPath', 'copyCommand'];

const STATES = ['stopped', 'idle', 'busy'];

// `%s` and `%d` replaced in order: translated strings keep their placeholders.
function format(template, ...args) {
    return template.replace(/%[sd]/g, () => String(args.shift()));
}

class HostSection {
    constructor(indicator, host) {
        const {PopupMenu, _} = indicator.deps;
        this.indicator = indicator;
        this.host = host;
        // The separator goes in the menu itself, above the section: the menu hides
        // the first one.
        this.separator = new PopupMenu.PopupSeparatorMenuItem();
        this.section = new PopupMenu.PopupMenuSection();

        this.titleItem = new PopupMenu.PopupMenuItem('', {reactive: false, can_focus: false});
        this.titleItem.add_style_class_name('bpy-jupyter-host');
        this.section.addMenuItem(this.titleItem);
        this.detailItem = new PopupMenu.PopupMenuItem('', {reactive: false, can_focus: false});
        this.detailItem.add_style_class_name('bpy-jupyter-detail');
        this.section.addMenuItem(this.detailItem);

        this.items = {
            startStop: this._addAction('', () => host.running ? host.stop() : host.start(),
                () => host.running ? _('Could not stop the kernel of %s')
                    : _('Could not start the kernel of %s')),
            interrupt: this._addAction(_('Interrupt'), () => host.interrupt(),
                () => _('Could not interrupt the kernel of %s')),
            restart: this._addAction(_('Restart'), () => host.restart(),
                () => _('Could not restart the kernel of %s')),
            copyPath: this._addAction(_('Copy connection file path'),
                () => indicator.copy(host.connectionFile)),
            copyCommand: this._addAction(_('Copy jupyter console command'),
                () => indicator.copy(host.consoleCommand)),
        };
        this._changedId = host.connect('changed', () => this.update());
        this.update();
    }

    _addAction(label, run, failure) {
        const {PopupMenu} = this.indicator.deps;
        const item = new PopupMenu.PopupMenuItem(label);
        item.connect('activate', () => {
            // The failure title is picked now: Start and Stop share one item.
            const title = failure ? format(failure(), this.title) : null;
            Promise.resolve().then(run).catch(error => this.indicator.notifyError(title, error));
        });
        this.section.addMenuItem(item);
        return item;
    }

    get title() {
        return this.host.host || this.host.busName;
    }

    update() {
        const {_, ngettext} = this.indicator.deps;
        const host = this.host;
        const state = host.state;
        // Translators: a kernel host and its state, e.g. "Blender 3.4.1 — idle".
        this.titleItem.label.text = format(_('%s — %s'), this.title, stateLabel(_, state));
        const document = host.hostDocument
            ? GLib.path_get_basename(host.hostDocument) : _('No document');
        const count = host.executionCount;
        // Translators: the host's open document and "N executions".
        this.detailItem.label.text = format(_('%s · %s'), document,
            format(ngettext('%d execution', '%d executions', count), count));

        // Translators: menu items that stop or start a Jupyter kernel.
        this.items.startStop.label.text = host.running ? _('Stop') : _('Start');
        // Stop while busy is fine: the service interrupts the cell first.
        this.items.startStop.setSensitive(['stopped', 'idle', 'busy'].includes(state));
        this.items.interrupt.setSensitive(state === 'busy');
        this.items.restart.setSensitive(state === 'idle');
        const hasFile = host.connectionFile !== '';
        this.items.copyPath.setSensitive(hasFile);
        this.items.copyCommand.setSensitive(hasFile);
    }

    describe() {
        const items = {};
        for (const [action, item] of Object.entries(this.items))
            items[action] = {label: item.label.text, sensitive: item.sensitive};
        return {
            ...this.host.toJSON(),
            title: this.titleItem.label.text,
            detail: this.detailItem.label.text,
            items,
        };
    }

    destroy() {
        this.host.disconnect(this._changedId);
        this.section.destroy();
        this.separator.destroy();
    }
}

function stateLabel(_, state) {
    switch (state) {
    case 'stopped': return _('stopped');
    case 'starting': return _('starting');
    case 'idle': return _('idle');
    case 'busy': return _('busy');
    case 'stopping': return _('stopping');
    default: return state;
    }
}

/**
 * The indicator. `deps` holds Main, PanelMenu, PopupMenu, KernelModel, `_` (gettext)
 * and `ngettext`; `dir` is the extension's folder (icons, interface XML).
 */
var Indicator = class Indicator {
    constructor({uuid, dir, deps, connection = Gio.DBus.session}) {
        const {Main, PanelMenu, KernelModel, _} = deps;
        this.deps = deps;
        this._dir = dir;
        this._sections = new Map();   // bus name → HostSection

        this.button = new PanelMenu.Button(0.0, _('Jupyter kernels'), false);
        this.button.add_style_class_name('bpy-jupyter-indicator');
        // The button allocates one child: a box with the icon and the host count.
        const box = new St.BoxLayout({style_class: 'panel-status-indicators-box'});
        this.icon = new St.Icon({style_class: 'system-status-icon bpy-jupyter-icon'});
        box.add_child(this.icon);
        this.countLabel = new St.Label({
            style_class: 'bpy-jupyter-count',
            y_align: Clutter.ActorAlign.CENTER,
            visible: false,
        });
        box.add_child(this.countLabel);
        this.button.add_child(box);
        this.button.visible = false;
        Main.panel.addToStatusArea(uuid, this.button);

        this._icons = {};
        for (const state of STATES) {
            this._icons[state] = new Gio.FileIcon({
                file: dir.get_child(`bpy-jupyter-${state}-symbolic.svg`),
            });
        }

        const interfaceInfo = KernelModel.loadInterfaceInfo(
            dir.get_child('org.bpyjupyter.Kernel.xml'));
        this.watcher = new KernelModel.KernelWatcher({connection, interfaceInfo});
        this._addedId = this.watcher.connect('host-added', (w, host) => this._addHost(host));
        this._removedId = this.watcher.connect('host-removed', (w, host) => this._removeHost(host));
        this._changedId = this.watcher.connect('changed', () => this._update());
        this._update();
        this.watcher.start();
    }

    /** @type {string} none (hidden), stopped, idle or busy */
    get state() {
        return this.watcher.summary;
    }

    /** A plain snapshot of what the indicator shows, for tests and debugging. */
    describe() {
        return {
            state: this.state,
            visible: this.button.visible,
            icon: this.icon.gicon?.get_file().get_basename() ?? null,
            styleClass: this.icon.get_style_class_name(),
            count: this.countLabel.visible ? this.countLabel.text : '',
            menuOpen: this.button.menu.isOpen,
            hosts: this.watcher.hosts.map(h => this._sections.get(h.busName)?.describe()),
        };
    }

    /** The menu item of a host's action (one of ACTIONS), or null. */
    menuItem(busName, action) {
        return this._sections.get(busName)?.items[action] ?? null;
    }

    copy(text) {
        if (!text)
            return;
        const clipboard = St.Clipboard.get_default();
        clipboard.set_text(St.ClipboardType.CLIPBOARD, text);
        clipboard.set_text(St.ClipboardType.PRIMARY, text);
    }

    notifyError(title, error) {
        const {Main} = this.deps;
        // The service's own message (KernelError.message) says what went wrong.
        Main.notifyError(title ?? this.deps._('Jupyter kernel error'), error.message ?? `${error}`);
    }

    _addHost(host) {
        const section = new HostSection(this, host);
        this._sections.set(host.busName, section);
        const position = 2 * this.watcher.hosts.indexOf(host);
        this.button.menu.addMenuItem(section.separator, position);
        this.button.menu.addMenuItem(section.section, position + 1);
    }

    _removeHost(host) {
        this._sections.get(host.busName)?.destroy();
        this._sections.delete(host.busName);
        if (this._sections.size === 0)
            this.button.menu.close();
    }

    _update() {
        const state = this.state;
        this.button.visible = state !== 'none';
        for (const s of STATES)
            this.icon.remove_style_class_name(`bpy-jupyter-${s}`);
        if (state !== 'none') {
            this.icon.gicon = this._icons[state];
            this.icon.add_style_class_name(`bpy-jupyter-${state}`);
        }
        const hosts = this.watcher.hosts.length;
        this.countLabel.text = String(hosts);
        this.countLabel.visible = hosts > 1;
    }

    destroy() {
        this.watcher.disconnect(this._addedId);
        this.watcher.disconnect(this._removedId);
        this.watcher.disconnect(this._changedId);
        this.watcher.stop();
        for (const section of this._sections.values())
            section.destroy();
        this._sections.clear();
        this.button.destroy();
    }
};
