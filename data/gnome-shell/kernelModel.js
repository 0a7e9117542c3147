// SPDX-License-Identifier: GPL-3.0-or-later
// Copyright 2026 The bpy-jupyter developers
//
// The part of the bpy-jupyter panel indicator that does not touch Shell UI: it watches
// the session bus for kernel hosts, keeps a proxy per host and says what the panel
// should show. It only needs Gio, GLib and GObject, so it runs under plain `gjs`
// (tests/shell/test_kernel_model.js) as well as in GNOME Shell.
//
// This file is a legacy `imports` module (GNOME Shell 43/44). The GNOME 45+ port
// (ESM) is generated from it at build time by esmify.py, which rewrites the
// `imports.gi` line below and exports the names in the EXPORTS line; keep both lines
// in their one-line form.

const {Gio, GLib, GObject} = imports.gi;

// EXPORTS: BUS_NAME INSTANCE_PREFIX OBJECT_PATH INTERFACE_NAME ERROR_PREFIX KernelError KernelHost KernelWatcher loadInterfaceInfo summarize consoleCommand shellQuote

var BUS_NAME = 'org.bpyjupyter.Kernel';
var INSTANCE_PREFIX = 'org.bpyjupyter.Kernel.Instance';
var OBJECT_PATH = '/org/bpyjupyter/Kernel';
var INTERFACE_NAME = 'org.bpyjupyter.Kernel';
var ERROR_PREFIX = 'org.bpyjupyter.Kernel.Error.';

const INSTANCE_RE = /^org\.bpyjupyter\.Kernel\.Instance([0-9]+)$/;

/**
 * The interface of org.bpyjupyter.Kernel, read from the copy of
 * data/org.bpyjupyter.Kernel.xml shipped next to the extension (the XML is the
 * interface's one source).
 *
 * @param {Gio.File} file - org.bpyjupyter.Kernel.xml
 * @returns {Gio.DBusInterfaceInfo} the interface
 */
function loadInterfaceInfo(file) {
    const [, bytes] = file.load_contents(null);
    const xml = new TextDecoder().decode(bytes);
    const info = Gio.DBusNodeInfo.new_for_xml(xml).lookup_interface(INTERFACE_NAME);
    if (!info)
        throw new Error(`${file.get_path()} does not describe ${INTERFACE_NAME}`);
    info.cache_build();
    return info;
}

/**
 * Quotes a word for a POSIX shell, leaving plain paths as they are so the
 * command stays readable.
 *
 * @param {string} word - a word
 * @returns {string} the word, safe to paste into a shell
 */
function shellQuote(word) {
    if (word.length > 0 && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word))
        return word;
    return GLib.shell_quote(word);
}

/**
 * The command that attaches a Jupyter console to a running kernel.
 *
 * @param {string} connectionFile - the kernel's connection file
 * @returns {string|null} the command, null without a connection file
 */
function consoleCommand(connectionFile) {
    if (!connectionFile)
        return null;
    return `jupyter console --existing ${shellQuote(connectionFile)}`;
}

/**
 * What the panel icon shows for a set of hosts: `none` (no host: no indicator),
 * `busy` if any kernel runs a cell, `idle` if any other kernel is up (starting and
 * stopping count as up), else `stopped`.
 *
 * @param {string[]} states - the State of every host
 * @returns {string} none, busy, idle or stopped
 */
function summarize(states) {
    if (states.length === 0)
        return 'none';
    if (states.includes('busy'))
        return 'busy';
    if (states.some(s => s !== 'stopped'))
        return 'idle';
    return 'stopped';
}

/**
 * An error the kernel service answered with: `code` is the part after
 * org.bpyjupyter.Kernel.Error. (or the whole D-Bus error name for other errors),
 * `message` the service's own text.
 */
var KernelError = class KernelError extends Error {
    constructor(code, message, dbusName = null) {
        super(message);
        this.name = 'KernelError';
        this.code = code;
        this.dbusName = dbusName;
    }

    static fromGError(error) {
        const remote = Gio.DBusError.is_remote_error(error)
            ? Gio.DBusError.get_remote_error(error) : null;
        let message = error.message;
        if (remote) {
            Gio.DBusError.strip_remote_error(error);
            message = error.message;
        }
        const code = remote && remote.startsWith(ERROR_PREFIX)
            ? remote.slice(ERROR_PREFIX.length) : remote ?? 'Failed';
        return new KernelError(code, message, remote);
    }
};

function _variantValue(proxy, name, fallback) {
    const value = proxy.get_cached_property(name);
    return value ? value.recursiveUnpack() : fallback;
}

/**
 * One kernel host on the bus (a Blender with the add-on or a standalone
 * bpy-jupyter-kernel), seen through its `org.bpyjupyter.Kernel.Instance<pid>` name.
 * Emits `changed` whenever one of its properties does.
 */
var KernelHost = GObject.registerClass({
    GTypeName: 'BjShellKernelHost',
    Signals: {'changed': {}},
}, class KernelHost extends GObject.Object {
    _init(busName, proxy) {
        super._init();
        this.busName = busName;
        this._proxy = proxy;
        this._propertiesId = proxy.connect('g-properties-changed',
            () => this.emit('changed'));
    }

    /** @type {number} the host's process id (from its bus name) */
    get pid() {
        return Number(INSTANCE_RE.exec(this.busName)[1]);
    }

    /** @type {string} stopped, starting, idle, busy or stopping */
    get state() {
        return _variantValue(this._proxy, 'State', 'stopped');
    }

    /** @type {string} e.g. `Blender 3.4.1` */
    get host() {
        return _variantValue(this._proxy, 'Host', '');
    }

    /** @type {string} the open document, empty if none */
    get hostDocument() {
        return _variantValue(this._proxy, 'HostDocument', '');
    }

    /** @type {number} executions stored in history since the host started */
    get executionCount() {
        return Number(_variantValue(this._proxy, 'ExecutionCount', 0));
    }

    /** @type {string} the running kernel's connection file, empty if none */
    get connectionFile() {
        return _variantValue(this._proxy, 'ConnectionFile', '');
    }

    /** @type {string|null} `jupyter console --existing FILE`, null if not running */
    get consoleCommand() {
        return consoleCommand(this.connectionFile);
    }

    /** @type {boolean} whether Stop (rather than Start) is the thing to offer */
    get running() {
        return this.state !== 'stopped';
    }

    /** A plain snapshot, for logs and tests. */
    toJSON() {
        return {
            busName: this.busName,
            pid: this.pid,
            state: this.state,
            host: this.host,
            hostDocument: this.hostDocument,
            executionCount: this.executionCount,
            connectionFile: this.connectionFile,
        };
    }

    _call(method, replyType) {
        return new Promise((resolve, reject) => {
            this._proxy.call(method, null, Gio.DBusCallFlags.NO_AUTO_START, -1, null,
                (proxy, result) => {
                    try {
                        const reply = proxy.call_finish(result);
                        resolve(replyType ? reply.deepUnpack() : undefined);
                    } catch (error) {
                        reject(error instanceof GLib.Error ? KernelError.fromGError(error) : error);
                    }
                });
        });
    }

    /**
     * Starts the kernel.
     *
     * @returns {Promise<string>} the connection file; rejects with a KernelError
     */
    async start() {
        const [connectionFile] = await this._call('Start', '(s)');
        return connectionFile;
    }

    /** @returns {Promise} rejects with a KernelError */
    stop() {
        return this._call('Stop');
    }

    /** @returns {Promise} rejects with a KernelError */
    restart() {
        return this._call('Restart');
    }

    /** @returns {Promise} rejects with a KernelError */
    interrupt() {
        return this._call('Interrupt');
    }

    destroy() {
        if (this._propertiesId) {
            this._proxy.disconnect(this._propertiesId);
            this._propertiesId = 0;
        }
    }
});

/**
 * Watches a bus for kernel hosts. Emits `host-added` and `host-removed` (with the
 * KernelHost) and `changed` after any of these or any host's property change.
 * `hosts` is ordered by process id.
 */
var KernelWatcher = GObject.registerClass({
    GTypeName: 'BjShellKernelWatcher',
    Signals: {
        'host-added': {param_types: [GObject.TYPE_OBJECT]},
        'host-removed': {param_types: [GObject.TYPE_OBJECT]},
        'changed': {},
    },
}, class KernelWatcher extends GObject.Object {
    /**
     * @param {object} params - parameters
     * @param {Gio.DBusConnection} params.connection - the bus (the session bus)
     * @param {Gio.DBusInterfaceInfo} params.interfaceInfo - see loadInterfaceInfo()
     */
    _init({connection, interfaceInfo}) {
        super._init();
        this._connection = connection;
        this._interfaceInfo = interfaceInfo;
        this._hosts = new Map();    // bus name → KernelHost
        this._pending = new Map();  // bus name → Gio.Cancellable of its proxy's creation
        this._subscription = 0;
        this._cancellable = null;
    }

    /** Starts watching: hosts already on the bus are added as their proxies load. */
    start() {
        if (this._subscription)
            return;
        this._cancellable = new Gio.Cancellable();
        // arg0namespace matches the shared name and every Instance<pid> name.
        this._subscription = this._connection.signal_subscribe(
            'org.freedesktop.DBus', 'org.freedesktop.DBus', 'NameOwnerChanged',
            '/org/freedesktop/DBus', BUS_NAME, Gio.DBusSignalFlags.MATCH_ARG0_NAMESPACE,
            (connection, sender, path, iface, signal, parameters) => {
                const [name, oldOwner, newOwner] = parameters.deepUnpack();
                if (oldOwner)
                    this._remove(name);
                if (newOwner)
                    this._add(name);
            });
        this._connection.call('org.freedesktop.DBus', '/org/freedesktop/DBus',
            'org.freedesktop.DBus', 'ListNames', null, new GLib.VariantType('(as)'),
            Gio.DBusCallFlags.NONE, -1, this._cancellable, (connection, result) => {
                let names;
                try {
                    [names] = connection.call_finish(result).deepUnpack();
                } catch (error) {
                    if (!error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                        logError(error, 'bpy-jupyter: ListNames failed');
                    return;
                }
                names.forEach(name => this._add(name));
            });
    }

    /** Stops watching and forgets every host (without emitting host-removed). */
    stop() {
        if (this._subscription) {
            this._connection.signal_unsubscribe(this._subscription);
            this._subscription = 0;
        }
        this._cancellable?.cancel();
        this._cancellable = null;
        for (const cancellable of this._pending.values())
            cancellable.cancel();
        this._pending.clear();
        for (const host of this._hosts.values())
            host.destroy();
        this._hosts.clear();
    }

    /** @type {KernelHost[]} the hosts, by process id */
    get hosts() {
        return [...this._hosts.values()].sort((a, b) => a.pid - b.pid);
    }

    /** @type {string} none, busy, idle or stopped: see summarize() */
    get summary() {
        return summarize(this.hosts.map(h => h.state));
    }

    lookup(busName) {
        return this._hosts.get(busName) ?? null;
    }

    _add(name) {
        if (!INSTANCE_RE.test(name) || this._hosts.has(name) || this._pending.has(name))
            return;
        const cancellable = new Gio.Cancellable();
        this._pending.set(name, cancellable);
        Gio.DBusProxy.new(this._connection,
            Gio.DBusProxyFlags.DO_NOT_AUTO_START, this._interfaceInfo, name, OBJECT_PATH,
            INTERFACE_NAME, cancellable, (source, result) => {
                let proxy;
                try {
                    proxy = Gio.DBusProxy.new_finish(result);
                } catch (error) {
                    if (!error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED)) {
                        this._pending.delete(name);
                        logError(error, `bpy-jupyter: no proxy for ${name}`);
                    }
                    return;
                }
                this._pending.delete(name);
                // The host left while its properties loaded: nobody to show.
                if (!proxy.g_name_owner)
                    return;
                const host = new KernelHost(name, proxy);
                this._hosts.set(name, host);
                host.connect('changed', () => this.emit('changed'));
                this.emit('host-added', host);
                this.emit('changed');
            });
    }

    _remove(name) {
        this._pending.get(name)?.cancel();
        this._pending.delete(name);
        const host = this._hosts.get(name);
        if (!host)
            return;
        this._hosts.delete(name);
        host.destroy();
        this.emit('host-removed', host);
        this.emit('changed');
    }
});
