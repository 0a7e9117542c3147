#!/usr/bin/env -S gjs
// js-kernel.js: a Jupyter kernel for JavaScript, written in GJS on libbpyjupyter.
//
//   gjs js-kernel.js -f CONNECTION_FILE
//
// The kernel (sockets, signing, heartbeat, status, replies) is BpyJupyter.Kernel; this
// file only implements the BpyJupyter.Executor interface: it evaluates cells with
// an indirect eval() in the global scope, so `var` and function declarations and
// `globalThis.x = …` persist from cell to cell (`let`/`const` stay in their cell),
// sends print() and printerr() through bj_kernel_write_stream() and publishes the
// value of the last expression as an `execute_result`.
//
// A kernelspec that launches it:
//   {"argv": ["gjs", "/path/to/js-kernel.js", "-f", "{connection_file}"],
//    "display_name": "JavaScript (GJS)", "language": "javascript",
//    "interrupt_mode": "message"}
//
// Interrupt is not implemented: the kernel calls Executor.interrupt() from its I/O
// thread, and GJS cannot run JavaScript off its main thread.

imports.gi.versions.BpyJupyter = '1.0';
imports.gi.versions.Json = '1.0';

const {BpyJupyter, GLib, GObject, Json} = imports.gi;
const System = imports.system;

const USAGE = 'Usage: gjs js-kernel.js -f CONNECTION_FILE';
// System.version is 17402 for GJS 1.74.2.
const GJS_VERSION = [Math.floor(System.version / 10000), Math.floor(System.version / 100) % 100,
    System.version % 100].join('.');

// A JsonObject from a plain JavaScript object.
function jsonObject(value) {
    return Json.from_string(JSON.stringify(value)).get_object();
}

// The text/plain form of a cell's value, close to what a JavaScript REPL prints.
function formatValue(value) {
    if (typeof value === 'string')
        return JSON.stringify(value);
    if (typeof value === 'function')
        return `[Function: ${value.name || '(anonymous)'}]`;
    if (value === null || typeof value !== 'object')
        return String(value);
    if (value instanceof Error)
        return `${value.name}: ${value.message}`;
    try {
        const text = JSON.stringify(value, null, 2);
        if (text !== undefined)
            return text;
    } catch (e) {
        // Cycles, BigInts, …: fall through to the object's own string.
    }
    return String(value);
}

function toText(args) {
    return args.map(arg => typeof arg === 'string' ? arg : formatValue(arg)).join(' ');
}

var JsExecutor = GObject.registerClass({
    GTypeName: 'BjJsExecutor',
    Implements: [BpyJupyter.Executor],
}, class JsExecutor extends GObject.Object {
    _init() {
        super._init();
        this._kernel = null;
        this._history = [];
    }

    vfunc_get_kernel_info() {
        return jsonObject({
            language_info: {
                name: 'javascript',
                version: GJS_VERSION,
                mimetype: 'text/javascript',
                file_extension: '.js',
                codemirror_mode: 'javascript',
                pygments_lexer: 'javascript',
            },
            banner: `JavaScript on GJS ${GJS_VERSION}, served by libbpyjupyter`,
            help_links: [],
        });
    }

    // Output of print() and printerr() goes to the notebook while the kernel runs,
    // and to the process's own streams otherwise. (GJS's console object is
    // read-only: console.log() keeps logging to the process's stderr.)
    vfunc_attach(kernel) {
        this._kernel = kernel;
        const write = (stream, args) => {
            const text = `${toText(args)}\n`;
            if (this._kernel !== null)
                this._kernel.write_stream(stream, text, -1);
            else
                (stream === BpyJupyter.Stream.STDOUT ? hostPrint : hostPrintErr)(text.slice(0, -1));
        };
        globalThis.print = (...args) => write(BpyJupyter.Stream.STDOUT, args);
        globalThis.printerr = (...args) => write(BpyJupyter.Stream.STDERR, args);
    }

    vfunc_detach(_kernel) {
        this._kernel = null;
    }

    vfunc_execute(kernel, request, executionCount) {
        const content = request.get_content();
        const code = content.get_string_member('code');
        const silent = content.get_boolean_member_with_default('silent', false);
        const storeHistory = !silent &&
            content.get_boolean_member_with_default('store_history', true);

        if (storeHistory)
            this._history.push([executionCount, code]);

        let value;
        try {
            value = (0, eval)(code);  // indirect: the global scope, not this method's
        } catch (error) {
            const ename = error?.name ?? 'Error';
            const evalue = error?.message ?? String(error);
            const traceback = [`${ename}: ${evalue}`];
            if (error?.stack)
                traceback.push(...error.stack.trimEnd().split('\n'));
            const reply = {ename, evalue, traceback};
            if (!silent)
                kernel.publish_json('error', JSON.stringify(reply), null, null);
            return jsonObject({status: 'error', ...reply});
        }

        if (value !== undefined && !silent) {
            kernel.publish_json('execute_result', JSON.stringify({
                execution_count: executionCount,
                data: {'text/plain': formatValue(value)},
                metadata: {},
            }), null, null);
        }
        return jsonObject({status: 'ok'});
    }

    // Completes global names and properties of a dotted path: `Math.fl` → `Math.floor`.
    vfunc_complete(_kernel, request) {
        const content = request.get_content();
        const code = content.get_string_member('code');
        const cursor = content.get_int_member_with_default('cursor_pos', code.length);
        const before = code.slice(0, cursor);
        const match = /((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)?$/.exec(before);
        const path = match[1] ? match[1].slice(0, -1).split('.') : [];
        const prefix = match[2] ?? '';
        let target = globalThis;
        try {
            for (const name of path)
                target = target[name];
        } catch (e) {
            target = undefined;
        }
        const names = new Set();
        for (let object = target; object !== null && object !== undefined;
            object = Object.getPrototypeOf(object)) {
            for (const name of Object.getOwnPropertyNames(object)) {
                if (name.startsWith(prefix))
                    names.add(name);
            }
        }
        return jsonObject({
            status: 'ok',
            matches: [...names].sort(),
            cursor_start: cursor - prefix.length,
            cursor_end: cursor,
            metadata: {},
        });
    }

    vfunc_is_complete(_kernel, request) {
        const code = request.get_content().get_string_member('code');
        try {
            // Parses without running; a missing closing bracket means "more to come".
            new Function(code);  // eslint-disable-line no-new-func
            return jsonObject({status: 'complete'});
        } catch (error) {
            if (error instanceof SyntaxError && /end of|unterminated|missing/i.test(error.message))
                return jsonObject({status: 'incomplete', indent: ''});
            return jsonObject({status: 'invalid'});
        }
    }

    // Comms: this kernel has no comm targets, but frontends ask which comms are open
    // (JupyterLab does at every connection). Returns [handled, reply content].
    vfunc_handle_message(_kernel, request) {
        if (request.get_msg_type() === 'comm_info_request')
            return [true, jsonObject({status: 'ok', comms: {}})];
        return [false, null];
    }

    vfunc_history(_kernel, _request) {
        return jsonObject({
            status: 'ok',
            history: this._history.map(([count, code]) => [0, count, code]),
        });
    }
});

const hostPrint = globalThis.print;
const hostPrintErr = globalThis.printerr;

function parseArguments(argv) {
    let connectionFile = null;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '-f' || arg === '--connection-file')
            connectionFile = argv[++i] ?? null;
        else if (arg.startsWith('--connection-file='))
            connectionFile = arg.slice('--connection-file='.length);
        else if (arg === '-h' || arg === '--help')
            return {help: true};
        else
            throw new Error(`Unknown argument “${arg}”\n${USAGE}`);
    }
    if (connectionFile === null)
        throw new Error(USAGE);
    return {connectionFile};
}

function main(argv) {
    let options;
    try {
        options = parseArguments(argv);
    } catch (error) {
        hostPrintErr(error.message);
        return 2;
    }
    if (options.help) {
        hostPrint(USAGE);
        return 0;
    }

    const loop = new GLib.MainLoop(null, false);
    const kernel = BpyJupyter.Kernel.new(new JsExecutor());
    kernel.set_connection_file(options.connectionFile);

    const quit = () => {
        if (kernel.get_state() !== BpyJupyter.KernelState.STOPPED)
            kernel.stop();
        loop.quit();
    };

    // A client's shutdown_request ends the process; a restart keeps the default
    // handler's in-process restart (same ports, same key, globals kept).
    kernel.connect('shutdown-requested', (_kernel, restart) => {
        if (!restart)
            quit();
    });
    // Stop cleanly (and remove the connection file we wrote) when terminated.
    // SIGINT is ignored: the interrupt_mode is "message".
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15 /* SIGTERM */, () => {
        quit();
        return GLib.SOURCE_REMOVE;
    });
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2 /* SIGINT */, () => GLib.SOURCE_CONTINUE);

    try {
        kernel.start();
    } catch (error) {
        hostPrintErr(`Cannot start the kernel: ${error.message}`);
        return 1;
    }
    loop.run();
    return 0;
}

System.exit(main(ARGV));
