// SPDX-License-Identifier: GPL-3.0-or-later
// Copyright 2026 The bpy-jupyter developers
//
// gjs tests of data/gnome-shell/kernelModel.js, the Shell-independent logic of the
// panel indicator, against real `bpy-jupyter-kernel --dbus` services on a private
// session bus (meson runs this under dbus-run-session) and real Jupyter cells run by
// jupyter_client (tests/shell/run_cell.py). Prints TAP.
//
//   gjs -m test_kernel_model.js legacy   the imports module GNOME Shell 43/44 load
//   gjs -m test_kernel_model.js esm      the ES module generated for GNOME 45+
//
// Environment (tests/meson.build): BJ_KERNEL_BINARY, BJ_INTERFACE_XML, BJ_PYTHON,
// BJ_SHELL_MODEL_DIR (legacy: the folder of kernelModel.js), BJ_SHELL_ESM_MODEL (esm:
// the generated module).

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';

const flavour = System.programArgs[0];

function env(name) {
    const value = GLib.getenv(name);
    if (!value)
        throw new Error(`${name} is not set: run with meson test --suite shell`);
    return value;
}

// Loaded by the runner below: a dynamic import needs the main loop running.
let KernelModel, interfaceInfo;

async function loadModel() {
    if (flavour === 'legacy') {
        imports.searchPath.unshift(env('BJ_SHELL_MODEL_DIR'));
        KernelModel = imports.kernelModel;
    } else if (flavour === 'esm') {
        KernelModel = await import(Gio.File.new_for_path(env('BJ_SHELL_ESM_MODEL')).get_uri());
    } else {
        throw new Error('usage: gjs -m test_kernel_model.js legacy|esm');
    }
    interfaceInfo = KernelModel.loadInterfaceInfo(
        Gio.File.new_for_path(env('BJ_INTERFACE_XML')));
}

const KERNEL_BINARY = env('BJ_KERNEL_BINARY');
const PYTHON = env('BJ_PYTHON');
const RUN_CELL = GLib.build_filenamev([
    GLib.path_get_dirname(Gio.File.new_for_uri(import.meta.url).get_path()), 'run_cell.py']);

const TMP = GLib.dir_make_tmp('bj-shell-model-XXXXXX');
const RUNTIME_DIR = GLib.build_filenamev([TMP, 'runtime']);
GLib.mkdir_with_parents(RUNTIME_DIR, 0o700);
GLib.setenv('JUPYTER_RUNTIME_DIR', RUNTIME_DIR, true);
GLib.setenv('XDG_DATA_HOME', GLib.build_filenamev([TMP, 'data']), true);
GLib.setenv('IPYTHONDIR', GLib.build_filenamev([TMP, 'ipython']), true);
GLib.setenv('PYTHONDONTWRITEBYTECODE', '1', true);

const bus = Gio.DBus.session;

// ---------------------------------------------------------------------------
// helpers

function sleep(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

async function waitFor(predicate, what, timeoutMs = 10000) {
    const deadline = GLib.get_monotonic_time() + timeoutMs * 1000;
    for (;;) {
        const value = predicate();
        if (value)
            return value;
        if (GLib.get_monotonic_time() > deadline)
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(10);
    }
}

function assert(condition, message) {
    if (!condition)
        throw new Error(`assertion failed: ${message}`);
}

function assertEqual(actual, expected, message = '') {
    const a = JSON.stringify(actual), e = JSON.stringify(expected);
    if (a !== e)
        throw new Error(`${message}: expected ${e}, got ${a}`);
}

async function assertRejects(promise, code, messagePart) {
    try {
        await promise;
    } catch (error) {
        assert(error instanceof KernelModel.KernelError, `${error} is a KernelError`);
        assertEqual(error.code, code, 'error code');
        assertEqual(error.dbusName, KernelModel.ERROR_PREFIX + code, 'D-Bus error name');
        assert(error.message.includes(messagePart),
            `message ${JSON.stringify(error.message)} contains ${JSON.stringify(messagePart)}`);
        assert(!error.message.includes('GDBus.Error'), 'the service message is unwrapped');
        return error;
    }
    throw new Error(`expected a ${code} error`);
}

const services = [];

class Service {
    constructor() {
        this.proc = Gio.Subprocess.new([KERNEL_BINARY, '--dbus', '--idle-timeout', '0'],
            Gio.SubprocessFlags.STDIN_PIPE);
        this.pid = Number(this.proc.get_identifier());
        this.name = KernelModel.INSTANCE_PREFIX + this.pid;
        services.push(this);
    }

    async terminate() {
        this.proc.send_signal(15);
        await new Promise((resolve, reject) => this.proc.wait_async(null, (p, res) => {
            try {
                p.wait_finish(res);
                resolve();
            } catch (e) {
                reject(e);
            }
        }));
        assertEqual(this.proc.get_exit_status(), 0, `exit status of ${this.name}`);
    }
}

function runCell(connectionFile, code) {
    const proc = Gio.Subprocess.new([PYTHON, RUN_CELL, connectionFile, code],
        Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE);
    return new Promise((resolve, reject) => proc.communicate_utf8_async(null, null, (p, res) => {
        try {
            const [, stdout, stderr] = p.communicate_utf8_finish(res);
            if (p.get_exit_status() !== 0)
                reject(new Error(`run_cell.py failed: ${stdout}${stderr}`));
            else
                resolve(JSON.parse(stdout));
        } catch (e) {
            reject(e);
        }
    }));
}

function newWatcher() {
    const watcher = new KernelModel.KernelWatcher({connection: bus, interfaceInfo});
    watcher.events = [];
    watcher.connect('host-added', (w, host) => watcher.events.push(['added', host.busName]));
    watcher.connect('host-removed', (w, host) => watcher.events.push(['removed', host.busName]));
    watcher.connect('changed', () => watcher.events.push(['changed', watcher.summary]));
    watcher.start();
    return watcher;
}

// ---------------------------------------------------------------------------
// tests

const tests = [];
function test(name, fn) {
    tests.push([name, fn]);
}

test('console command and shell quoting', () => {
    assertEqual(KernelModel.consoleCommand('/run/user/1000/jupyter/kernel-bj-12-1.json'),
        'jupyter console --existing /run/user/1000/jupyter/kernel-bj-12-1.json', 'plain path');
    assertEqual(KernelModel.consoleCommand("/tmp/my kernels/it's.json"),
        "jupyter console --existing '/tmp/my kernels/it'\\''s.json'", 'quoted path');
    assertEqual(KernelModel.consoleCommand('/tmp/$(rm -rf ~).json'),
        "jupyter console --existing '/tmp/$(rm -rf ~).json'", 'no command substitution');
    assertEqual(KernelModel.consoleCommand(''), null, 'no file, no command');
    // What the shell makes of the quoted word is the path again.
    const [, argv] = GLib.shell_parse_argv(KernelModel.consoleCommand("/tmp/a b/'c'\".json"));
    assertEqual(argv, ['jupyter', 'console', '--existing', "/tmp/a b/'c'\".json"], 'round trip');
});

test('summary of host states', () => {
    assertEqual(KernelModel.summarize([]), 'none', 'no host');
    assertEqual(KernelModel.summarize(['stopped']), 'stopped', 'one stopped');
    assertEqual(KernelModel.summarize(['stopped', 'idle']), 'idle', 'one up');
    assertEqual(KernelModel.summarize(['starting']), 'idle', 'starting counts as up');
    assertEqual(KernelModel.summarize(['idle', 'busy', 'stopped']), 'busy', 'any busy');
});

test('interface read from the shipped XML', () => {
    for (const m of ['Start', 'Stop', 'Interrupt', 'Restart'])
        assert(interfaceInfo.lookup_method(m), `method ${m}`);
    for (const p of ['State', 'Host', 'HostDocument', 'ExecutionCount', 'ConnectionFile'])
        assert(interfaceInfo.lookup_property(p), `property ${p}`);
    const bad = Gio.File.new_for_path(GLib.build_filenamev([TMP, 'other.xml']));
    bad.replace_contents('<node><interface name="org.example.Other"/></node>', null, false,
        Gio.FileCreateFlags.NONE, null);
    let threw = false;
    try {
        KernelModel.loadInterfaceInfo(bad);
    } catch (e) {
        threw = e.message.includes('org.bpyjupyter.Kernel');
    }
    assert(threw, 'an XML without the interface is refused clearly');
});

test('no host on the bus: summary none', async () => {
    const watcher = newWatcher();
    await sleep(200);
    assertEqual(watcher.hosts.length, 0, 'hosts');
    assertEqual(watcher.summary, 'none', 'summary');
    watcher.stop();
});

test('a host appears, starts, runs a cell, answers errors, stops and leaves', async () => {
    const watcher = newWatcher();
    const service = new Service();
    const host = await waitFor(() => watcher.lookup(service.name), `${service.name} added`);
    assertEqual(watcher.events[0], ['added', service.name], 'first event');
    assertEqual(host.pid, service.pid, 'pid from the bus name');
    assertEqual(host.state, 'stopped', 'a new service is stopped');
    assert(/^bpy-jupyter-kernel [0-9]/.test(host.host), `Host ${host.host}`);
    assertEqual(host.hostDocument, '', 'HostDocument');
    assertEqual(host.connectionFile, '', 'no connection file while stopped');
    assertEqual(host.consoleCommand, null, 'no console command while stopped');
    assertEqual(host.running, false, 'running');
    assertEqual(watcher.summary, 'stopped', 'summary');
    // Only the per-process name is a host: the shared name is the same process.
    assertEqual(watcher.hosts.map(h => h.busName), [service.name], 'one host');

    const file = await host.start();
    assert(file.startsWith(RUNTIME_DIR) && GLib.file_test(file, GLib.FileTest.EXISTS),
        `connection file ${file}`);
    await waitFor(() => host.state === 'idle', 'idle after Start');
    assertEqual(host.connectionFile, file, 'ConnectionFile');
    assertEqual(host.consoleCommand, `jupyter console --existing ${file}`, 'console command');
    assertEqual(watcher.summary, 'idle', 'summary');
    await assertRejects(host.start(), 'AlreadyRunning', '');
    await assertRejects(host.interrupt(), 'NotBusy', '');

    // A cell that takes a while: busy while it runs, idle after, one more execution.
    const before = host.executionCount;
    const states = [];
    const id = host.connect('changed', () => states.push(host.state));
    const cell = runCell(file, 'import time; time.sleep(1.0)');
    await waitFor(() => host.state === 'busy', 'busy while the cell runs', 20000);
    assertEqual(watcher.summary, 'busy', 'summary while busy');
    const reply = await cell;
    await waitFor(() => host.state === 'idle', 'idle after the cell');
    host.disconnect(id);
    assert(states.includes('busy') && states[states.length - 1] === 'idle', `states ${states}`);
    assertEqual(host.executionCount, reply.execution_count, 'ExecutionCount follows');
    assert(host.executionCount > before, 'ExecutionCount grew');

    // Interrupt of a long cell: the cell fails with KeyboardInterrupt, the kernel lives.
    const long = runCell(file, 'import time; time.sleep(30)');
    await waitFor(() => host.state === 'busy', 'busy in the long cell', 20000);
    await host.interrupt();
    const failed = await long.then(() => null, e => e);
    assert(failed && failed.message.includes('KeyboardInterrupt'), `interrupted: ${failed}`);
    await waitFor(() => host.state === 'idle', 'idle after the interrupt');

    await host.restart();
    await waitFor(() => host.state === 'idle', 'idle after Restart');
    assertEqual(host.connectionFile, file, 'Restart keeps the connection file');

    // Stop while a cell runs: the service interrupts the cell, then stops.
    const stopped = runCell(file, 'import time; time.sleep(30)');
    await waitFor(() => host.state === 'busy', 'busy before Stop', 20000);
    await host.stop();
    const cut = await stopped.then(() => null, e => e);
    assert(cut && cut.message.includes('KeyboardInterrupt'), `stopped mid-cell: ${cut}`);
    await waitFor(() => host.state === 'stopped', 'stopped after Stop');
    assertEqual(host.connectionFile, '', 'no connection file after Stop');
    assertEqual(watcher.summary, 'stopped', 'summary');
    const error = await assertRejects(host.stop(), 'NotRunning', '');
    assert(error.message.length > 0, 'the service says why');
    await assertRejects(host.interrupt(), 'NotRunning', '');

    await service.terminate();
    await waitFor(() => !watcher.lookup(service.name), `${service.name} removed`);
    assertEqual(watcher.events.filter(e => e[0] !== 'changed'),
        [['added', service.name], ['removed', service.name]], 'added then removed');
    assertEqual(watcher.summary, 'none', 'summary after the host left');
    watcher.stop();
});

test('several hosts, ordered by pid; hosts already on the bus are found', async () => {
    const a = new Service();
    const b = new Service();
    const early = newWatcher();
    await waitFor(() => early.hosts.length === 2, 'two hosts');
    const expected = [a, b].sort((x, y) => x.pid - y.pid).map(s => s.name);
    assertEqual(early.hosts.map(h => h.busName), expected, 'by pid');

    // A watcher started now finds both through ListNames.
    const late = newWatcher();
    await waitFor(() => late.hosts.length === 2, 'two hosts listed');
    assertEqual(late.hosts.map(h => h.busName), expected, 'listed by pid');

    await late.lookup(b.name).start();
    await waitFor(() => early.summary === 'idle' && late.summary === 'idle', 'idle summary');

    // The first host leaves: the shared name passes on, the other host stays.
    await a.terminate();
    await waitFor(() => early.hosts.length === 1 && late.hosts.length === 1, 'one host left');
    assertEqual(early.hosts[0].busName, b.name, 'b stays');
    assertEqual(early.hosts[0].state, 'idle', 'b still idle');

    // A stopped watcher hears nothing more and holds no host.
    late.stop();
    const eventsBefore = late.events.length;
    await b.terminate();
    await waitFor(() => early.hosts.length === 0, 'no host left');
    await sleep(100);
    assertEqual(late.events.length, eventsBefore, 'no events after stop()');
    assertEqual(late.hosts.length, 0, 'no hosts after stop()');
    early.stop();
});

test('a host that leaves while its proxy loads is never shown', async () => {
    const watcher = newWatcher();
    const service = new Service();
    // Killed as soon as the watcher hears of it: its proxy may still be loading.
    await waitFor(() => watcher.events.length > 0 || watcher._pending.size > 0, 'name seen');
    service.proc.force_exit();
    await new Promise(resolve => service.proc.wait_async(null, () => resolve()));
    await sleep(300);
    assertEqual(watcher.hosts.length, 0, 'no host left behind');
    assertEqual(watcher.summary, 'none', 'summary');
    watcher.stop();
});

// ---------------------------------------------------------------------------
// TAP runner

const loop = new GLib.MainLoop(null, false);
let failures = 0;
(async () => {
    try {
        await loadModel();
    } catch (error) {
        print(`Bail out! ${error}`);
        System.exit(1);
    }
    print(`1..${tests.length}`);
    for (const [index, [name, fn]] of tests.entries()) {
        try {
            await fn();
            print(`ok ${index + 1} - [${flavour}] ${name}`);
        } catch (error) {
            failures++;
            print(`not ok ${index + 1} - [${flavour}] ${name}`);
            for (const line of `${error}\n${error.stack ?? ''}`.split('\n'))
                print(`# ${line}`);
        }
        // A failed test leaves no service behind to confuse the next one.
        for (const service of services.splice(0)) {
            service.proc.force_exit();
            await new Promise(resolve => service.proc.wait_async(null, () => resolve()));
        }
    }
    loop.quit();
})();
loop.run();
Gio.Subprocess.new(['rm', '-rf', TMP], Gio.SubprocessFlags.NONE).wait(null);
System.exit(failures ? 1 : 0);
