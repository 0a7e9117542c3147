// SPDX-License-Identifier: GPL-3.0-or-later
// Copyright 2026 The bpy-jupyter developers
//
// Loads the GNOME 45+ (ESM) flavour of the extension, as staged in the build folder
// (BJ_SHELL_ESM_DIR), under plain gjs, whatever GNOME Shell is installed: this
// checks that every module parses and links with its real gi:// imports (St and
// Clutter from this system's gnome-shell and mutter) and its own relative imports;
// only the four resource:///org/gnome/shell/ modules, which exist inside gnome-shell
// alone, are replaced by the empty stand-ins in esm-stubs/. It also checks that the
// installed Shell's version is in the metadata of the flavour that Shell loads. The
// behaviour of the shared logic is tested by test_kernel_model.js (esm) and, in a
// real Shell, by test_panel.py (the flavour that Shell loads). Prints TAP.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GIRepository from 'gi://GIRepository';
import System from 'system';

const here = GLib.path_get_dirname(Gio.File.new_for_uri(import.meta.url).get_path());
const sourceDir = GLib.getenv('BJ_SHELL_ESM_DIR');

let count = 0, failures = 0;
function check(ok, name, detail = '') {
    count++;
    print(`${ok ? 'ok' : 'not ok'} ${count} - ${name}`);
    if (!ok) {
        failures++;
        for (const line of `${detail}`.split('\n'))
            print(`# ${line}`);
    }
}

function readText(file) {
    return new TextDecoder().decode(file.load_contents(null)[1]);
}

// St and Clutter live in gnome-shell's and mutter's private folders.
function addShellTypelibs() {
    const dirs = ['/usr/lib/gnome-shell'];
    for (const base of ['/usr/lib', '/usr/lib64']) {
        const parent = Gio.File.new_for_path(base);
        let children;
        try {
            children = parent.enumerate_children('standard::name,standard::type',
                Gio.FileQueryInfoFlags.NONE, null);
        } catch (e) {
            continue;
        }
        for (const arch of children) {
            if (arch.get_file_type() !== Gio.FileType.DIRECTORY)
                continue;
            const archDir = parent.get_child(arch.get_name());
            let inner;
            try {
                inner = archDir.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NONE, null);
            } catch (e) {
                continue;
            }
            for (const info of inner) {
                if (/^mutter-[0-9]+$/.test(info.get_name()))
                    dirs.push(archDir.get_child(info.get_name()).get_path());
            }
        }
    }
    // GIRepository 2.0 (gobject-introspection's library, gjs before 1.80) has static
    // functions; 3.0 (GLib's girepository-2.0, what gjs 1.80+ gives first) has
    // methods of the repository, and gjs loads from the default one.
    const Repository = GIRepository.Repository;
    const repository = typeof Repository.dup_default === 'function'
        ? Repository.dup_default() : null;
    for (const dir of dirs) {
        if (repository) {
            repository.prepend_search_path(dir);
            repository.prepend_library_path(dir);
        } else {
            Repository.prepend_search_path(dir);
            Repository.prepend_library_path(dir);
        }
    }
    return dirs;
}

async function main() {
    if (!sourceDir)
        throw new Error('BJ_SHELL_ESM_DIR is not set: run with meson test --suite shell');
    const typelibDirs = addShellTypelibs();
    check(typelibDirs.length > 1, 'mutter typelibs found', typelibDirs.join(' '));

    // A copy whose resource:/// imports point at the stand-ins.
    const tmp = GLib.dir_make_tmp('bj-shell-esm-XXXXXX');
    const source = Gio.File.new_for_path(sourceDir);
    const names = [];
    for (const info of source.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NONE, null))
        names.push(info.get_name());
    const modules = names.filter(n => n.endsWith('.js')).sort();
    check(JSON.stringify(modules) === JSON.stringify(['extension.js', 'indicator.js', 'kernelModel.js']),
        'the ESM flavour ships its three modules', modules.join(' '));
    const stubs = Gio.File.new_for_path(GLib.build_filenamev([here, 'esm-stubs'])).get_uri();
    let rewritten = 0;
    for (const name of names) {
        let text = readText(source.get_child(name));
        if (name.endsWith('.js')) {
            check(!/^\s*(const|let|var)\s.*\bimports\./m.test(text), `${name}: no legacy imports`);
            text = text.replace(/'resource:\/\/\/org\/gnome\/shell\/(?:ui|extensions)\/([A-Za-z]+\.js)'/g,
                (match, file) => {
                    rewritten++;
                    return `'${stubs}/${file}'`;
                });
        }
        Gio.File.new_for_path(GLib.build_filenamev([tmp, name])).replace_contents(
            new TextEncoder().encode(text), null, false, Gio.FileCreateFlags.NONE, null);
    }
    check(rewritten === 4, 'four Shell modules imported by extension.js', `${rewritten}`);

    const metadata = JSON.parse(readText(source.get_child('metadata.json')));
    check(metadata.uuid === 'bpy-jupyter@bpyjupyter.org', 'metadata uuid');
    check(metadata['gettext-domain'] === 'bpy-jupyter', 'metadata gettext-domain');
    check(metadata['shell-version'].includes('45') &&
        !metadata['shell-version'].includes('43'), 'metadata shell-version is 45+ only',
        JSON.stringify(metadata['shell-version']));

    // Shell refuses (OUT_OF_DATE) an extension whose metadata misses its major version.
    const [, out] = GLib.spawn_command_line_sync('gnome-shell --version');
    const major = Number(/GNOME Shell ([0-9]+)/.exec(new TextDecoder().decode(out))?.[1]);
    const flavourDir = Gio.File.new_for_path(major >= 45 ? sourceDir : GLib.getenv('BJ_SHELL_LEGACY_DIR'));
    const flavourMetadata = JSON.parse(readText(flavourDir.get_child('metadata.json')));
    check(major > 0 && flavourMetadata['shell-version'].includes(String(major)),
        `the installed GNOME Shell ${major} is in the metadata of the flavour it loads`,
        `${flavourDir.get_path()}: ${JSON.stringify(flavourMetadata['shell-version'])}`);

    const base = Gio.File.new_for_path(tmp).get_uri();
    const model = await import(`${base}/kernelModel.js`);
    check(typeof model.KernelWatcher === 'function' && model.BUS_NAME === 'org.bpyjupyter.Kernel',
        'kernelModel.js loads and exports KernelWatcher');
    const info = model.loadInterfaceInfo(Gio.File.new_for_path(GLib.build_filenamev([tmp, 'org.bpyjupyter.Kernel.xml'])));
    check(info.lookup_method('Stop') !== null, 'the shipped interface XML reads');
    const indicator = await import(`${base}/indicator.js`);
    check(typeof indicator.Indicator === 'function', 'indicator.js loads and exports Indicator');
    check(JSON.stringify(indicator.ACTIONS) ===
        JSON.stringify(['startStop', 'interrupt', 'restart', 'copyPath', 'copyCommand']), 'ACTIONS');
    const stub = await import(`${stubs}/extension.js`);
    const extension = await import(`${base}/extension.js`);
    const Ext = extension.default;
    check(typeof Ext === 'function' && Ext.prototype instanceof stub.Extension,
        'extension.js default-exports an Extension subclass');
    check(typeof Ext.prototype.enable === 'function' && typeof Ext.prototype.disable === 'function',
        'with enable() and disable()');
    Gio.Subprocess.new(['rm', '-rf', tmp], Gio.SubprocessFlags.NONE).wait(null);
}

const loop = new GLib.MainLoop(null, false);
main().catch(error => check(false, 'loading the ESM flavour', `${error}\n${error.stack}`))
    .finally(() => loop.quit());
loop.run();
print(`1..${count}`);
System.exit(failures ? 1 : 0);
