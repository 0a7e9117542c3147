"""Python half of the bpy-jupyter executor: the session.

The C kernel embeds CPython and executes the runtime's modules (this folder,
embedded as resources) as the package ``_bpy_jupyter_runtime``: first the
modules this one imports (boundary, display, completeness, completion,
history: pure, no kernel state, tested in-process by tests/runtime), then this
file as the package itself.  The C side calls the top-level functions below on
its owner thread with the GIL held.
Everything that is easier to get right in Python lives here: compiling cells,
building MIME bundles, completion, introspection and history.

The C boundary is deliberately narrow: arguments and return values are JSON
text or ints, so the C side never has to walk Python objects.  Outputs
(results, rich displays, errors) are pushed through ``_bpy_jupyter_executor``,
the small C module that owns the iopub socket and the stream buffers.

Nothing happens at import time besides defining names: the process may be a
host application (Blender) whose ``sys``/``builtins`` we only borrow and hand
back on ``shutdown()``.  From the first execute on, sys.stdout/sys.stderr
are routers (see _StreamRouter) so that threads started by cells keep
reaching the notebook while the host's own prints keep reaching the host;
during a cell they are the C writers themselves, for speed.

Integrations with third-party packages (IPython.display, matplotlib, the
``comm`` package) are installed lazily by an import hook when a cell imports
them: importing them eagerly would cost every kernel start hundreds of ms.
"""

import __future__
import ast
import builtins
import contextlib
import functools
import getpass
import io
import json
import keyword
import linecache
import os
import re
import signal
import sys
import threading
import tokenize
import types
import weakref
from collections import deque

import _bpy_jupyter_executor as _bj

from .boundary import LazyModule as _LazyModule, _dumps, _safe_repr, _safe_str
from .completeness import _completeness, _help_query
from .completion import _clamp_cursor, _complete_live_name, _hidden, _live_name_at, _token_at_cursor
from .display import _is_figure, _mime_value, format_bundle
from .history import _history_rows, _HistoryStore

asyncio = _LazyModule("asyncio")
platform = _LazyModule("platform")
uuid = _LazyModule("uuid")
_inspect = _LazyModule("inspect")
# Only needed for errors: ~1 ms of every start otherwise.
traceback = _LazyModule("traceback")

# inspect.CO_COROUTINE, without importing inspect for every cell.
_CO_COROUTINE = 0x0080

__all__ = [
    "user_ns",
    "kernel_info",
    "execute",
    "complete",
    "inspect",
    "is_complete",
    "history",
    "shutdown",
    "format_bundle",
    "display",
    "update_display",
    "clear_output",
    "DisplayHandle",
    "publish_display_data",
    "Comm",
    "CommManager",
    "comm_manager",
    "create_comm",
    "get_comm_manager",
]

_MISSING = object()

# The namespace is the __dict__ of a real module object so that it can stand
# in for ``__main__`` while a cell runs: pickle, dataclasses and
# typing.get_type_hints resolve cell-defined names through
# sys.modules[cls.__module__].
_user_module = types.ModuleType("__main__")
_user_module.__dict__["__builtins__"] = builtins
user_ns = _user_module.__dict__

# Filenames whose frames are user code; tracebacks start at the first of them.
_USER_EXPRESSION_FILE = "<user-expression>"
_user_files = {_USER_EXPRESSION_FILE}
# Sources of cells run without store_history, so that identical silent
# requests (variable inspectors poll) reuse one linecache entry.
_unnumbered_cells = {}

_FUTURE_FEATURES = [getattr(__future__, name) for name in __future__.all_feature_names]
_future_flags = 0  # __future__ imports stay in effect for later cells, as in the REPL

_loop = None
_saved_builtins = {}
_jedi = None  # module, False when unavailable, None when not yet imported
_rlcompleter = None


class StdinNotImplementedError(IOError, NotImplementedError):
    """Reading stdin from a cell would block the kernel on the host's terminal."""


# Whether the request being executed lets the kernel ask its frontend for input.
_allow_stdin = False


def _request_input(prompt, password):
    """Ask the frontend for one line over the stdin channel (input_request)."""
    if not _allow_stdin:
        raise StdinNotImplementedError(
            "input() is not available: this frontend does not accept input requests "
            "(the execute_request has allow_stdin false)"
        )
    return _bj.request_input(str(prompt), bool(password))


def _input(prompt=""):
    """input() for cells: the prompt and the answer travel through the frontend."""
    return _request_input(prompt, False)


def _getpass(prompt="Password: ", stream=None):
    """getpass.getpass() for cells: the frontend hides what is typed."""
    return _request_input(prompt, True)


class _KernelStdin(io.TextIOBase):
    """Stands in for sys.stdin during a cell.

    The host's real stdin is a terminal nobody watches (the kernel would hang) or
    /dev/null, so reading asks the frontend instead, like input() does.
    close() is a no-op because site's exit()/quit() close sys.stdin before raising
    SystemExit.
    """

    name = "<stdin>"
    encoding = "utf-8"
    errors = "strict"

    def readable(self):
        return True

    def readline(self, size=-1):
        return _request_input("", False) + "\n"

    def read(self, size=-1):
        return self.readline()

    def readlines(self, hint=-1):
        return [self.readline()]

    def close(self):
        pass


_NO_STDIN = _KernelStdin()


# --------------------------------------------------------------------------
# JSON at the C boundary
# --------------------------------------------------------------------------

# Messages that are output of a cell, which a silent request must not publish.
_OUTPUT_TYPES = frozenset(
    (
        "stream",
        "display_data",
        "update_display_data",
        "execute_result",
        "error",
        "clear_output",
    )
)


def _publish(msg_type, content):
    """Publish on iopub, parented to the current request.

    A silent cell's own output is dropped here, in one place, so display(),
    errors and results all obey silent=True; other threads' output (and comm
    traffic, which is protocol rather than output) still goes out.
    """
    if _silent and msg_type in _OUTPUT_TYPES and threading.get_ident() == _owner_ident:
        return
    _bj.publish(msg_type, _dumps(content))


# --------------------------------------------------------------------------
# Rich output
# --------------------------------------------------------------------------


class DisplayHandle:
    """Refers to one display_id so an output can be replaced in place."""

    def __init__(self, display_id=None):
        self.display_id = display_id or uuid.uuid4().hex

    def __repr__(self):
        return "<%s display_id=%s>" % (type(self).__name__, self.display_id)

    def display(self, obj, **kwargs):
        return display(obj, display_id=self.display_id, **kwargs)

    def update(self, obj, **kwargs):
        return display(obj, display_id=self.display_id, update=True, **kwargs)


def display(
    *objs,
    include=None,
    exclude=None,
    metadata=None,
    transient=None,
    display_id=None,
    raw=False,
    clear=False,
    update=False,
    **kwargs
):
    """IPython.display.display, publishing straight to the kernel.

    display_id=True allocates a fresh id; with a display_id (and no objects)
    an empty placeholder output is published that can be updated later.
    Unknown keyword arguments are accepted and ignored, as IPython passes
    them on to publishers that mostly ignore them too.
    """
    if clear:
        clear_output(wait=True)
    transient = dict(transient or {})
    if display_id is True:
        display_id = uuid.uuid4().hex
    if display_id:
        transient["display_id"] = str(display_id)
    if update and "display_id" not in transient:
        raise TypeError("display_id required for update_display")
    if not objs and display_id:
        objs, raw = ({},), True

    for obj in objs:
        if raw:
            data = {}
            for mime, value in dict(obj).items():
                value = _mime_value(str(mime), value)
                if value is not None:
                    data[str(mime)] = value
            md = dict(metadata or {})
        else:
            data, md = format_bundle(obj, include=include, exclude=exclude)
            if not data:
                continue
            if metadata:
                md.update(metadata)
        content = {"data": data, "metadata": md}
        if transient:
            content["transient"] = transient
        _publish("update_display_data" if update else "display_data", content)

    if display_id:
        return DisplayHandle(transient["display_id"])
    return None


def update_display(obj, *, display_id, **kwargs):
    """Replace the output previously displayed with display_id."""
    kwargs["update"] = True
    return display(obj, display_id=display_id, **kwargs)


def clear_output(wait=False):
    """Clear the current cell's output; wait=True defers it until new output arrives."""
    _publish("clear_output", {"wait": bool(wait)})


def publish_display_data(data, metadata=None, source=None, *, transient=None, **kwargs):
    """IPython.display.publish_display_data: a ready-made MIME bundle, published as is."""
    display(data, metadata=metadata, transient=transient, raw=True)


# Payloads a cell asked for while it ran (e.g. exit()), sent with its reply.
_cell_payload = []


class _Exiter:
    """exit / quit in cells: asks the frontend to close, as IPython does.

    site's versions raise SystemExit, which a kernel must not honour (it would
    take the host down) and which a console user would only see as an error.
    Typing the bare name works too, like in IPython.
    """

    def __init__(self, name):
        self._name = name

    def __call__(self, keep_kernel=False):
        request = {"source": "ask_exit", "keepkernel": bool(keep_kernel)}
        if request not in _cell_payload:
            _cell_payload.append(request)

    def __repr__(self):
        return "Use %s() to ask the frontend to close." % self._name


_BUILTINS = {
    "display": display,
    "update_display": update_display,
    "clear_output": clear_output,
    "exit": _Exiter("exit"),
    "quit": _Exiter("quit"),
}
user_ns.update(_BUILTINS)


def _set_builtin(name, value):
    if name not in _saved_builtins:
        _saved_builtins[name] = builtins.__dict__.get(name, _MISSING)
    builtins.__dict__[name] = value


def _restore_builtins():
    for name, previous in _saved_builtins.items():
        if previous is _MISSING:
            builtins.__dict__.pop(name, None)
        else:
            builtins.__dict__[name] = previous
    _saved_builtins.clear()


# --------------------------------------------------------------------------
# Integrations: IPython.display, matplotlib, the comm package
# --------------------------------------------------------------------------

_RUNTIME_NAME = __name__


def _live_runtime():
    """The runtime of the kernel running now, or None.

    Functions installed into other packages look the runtime up at every
    call instead of binding this one: in a host that restarts its kernel
    in-process (Blender), user modules keep the functions they imported
    from IPython.display across restarts, and those must reach the new
    kernel, not the dead one.
    """
    runtime = sys.modules.get(_RUNTIME_NAME)
    if runtime is None or getattr(runtime, "_shut_down", True):
        return None
    return runtime


def _make_trampoline(attribute, original):
    def trampoline(*args, **kwargs):
        runtime = _live_runtime()
        if runtime is None:
            return original(*args, **kwargs)
        return getattr(runtime, attribute)(*args, **kwargs)

    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        with contextlib.suppress(AttributeError):
            setattr(trampoline, name, getattr(original, name))
    trampoline.__wrapped__ = original
    trampoline._bj_original = original
    return trampoline


_IPYTHON_DISPLAY = ("display", "update_display", "clear_output", "publish_display_data")
# module -> names replaced by the runtime function of the same name.  Only
# names a module really defines are replaced: IPython 8's core.display
# forwards the old ones through a module __getattr__, which then finds the
# replacements in display_functions.
_MODULE_PATCHES = {
    "IPython.core.display_functions": _IPYTHON_DISPLAY,
    "IPython.core.display": _IPYTHON_DISPLAY,
    "IPython.display": _IPYTHON_DISPLAY,
    "comm": ("create_comm", "get_comm_manager"),
    # ipywidgets 6 and 7 predate the comm package: see _adopt_ipykernel_comm
    # and _register_widget_targets.
    "ipykernel.comm": (),
    "ipywidgets": (),
}
# module -> function run on it once it is loaded, filled in by the comm section
_MODULE_INTEGRATIONS = {}
# (module, name, trampoline, original), to undo on shutdown
_patched = []


def _patch_module(module):
    """Point one module's display / comm functions at the kernel.

    Without this IPython.display.display() prints the repr (no IPython shell
    is running) and comm.create_comm() raises NotImplementedError; with it
    they publish through this kernel, and no IPython shell is ever started.
    """
    module_name = getattr(module, "__name__", None)
    names = _MODULE_PATCHES.get(module_name, ())
    integration = _MODULE_INTEGRATIONS.get(module_name)
    if integration is not None:
        integration(module)
    namespace = getattr(module, "__dict__", {})
    for name in names:
        current = namespace.get(name)
        if current is None or getattr(current, "_bj_original", None) is not None:
            continue
        trampoline = _make_trampoline(name, current)
        setattr(module, name, trampoline)
        _patched.append((module, name, trampoline, current))


def _patch_loaded_modules():
    """Patch what was imported without the hook seeing it.

    The host may have imported IPython before the first cell, and a module
    loaded by an unusual loader is not seen by the hook: both are caught
    here, after every cell, for the price of a few dictionary lookups.
    """
    modules = sys.modules
    for name in _MODULE_PATCHES:
        module = modules.get(name)
        if module is not None and name not in _patched_names:
            _patched_names.add(name)
            with contextlib.suppress(Exception):
                _patch_module(module)


_patched_names = set()


def _unpatch_modules():
    for module, name, trampoline, original in reversed(_patched):
        with contextlib.suppress(Exception):
            if getattr(module, name, None) is trampoline:
                setattr(module, name, original)
    del _patched[:]
    _patched_names.clear()


class _PatchingLoader:
    """Runs a function right after a watched module has executed.

    Patching at that moment, before anything can import names from the
    module, is what makes `from IPython.display import display` (done
    anywhere, later) get the kernel's version.  Afterwards the module is
    given back its real loader, so nothing can tell.
    """

    def __init__(self, loader, after):
        self._loader = loader
        self._after = after

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        with contextlib.suppress(Exception):
            module.__loader__ = self._loader
            module.__spec__.loader = self._loader
        try:
            self._after(module)
        except Exception:
            pass  # an integration failing must never break the user's import

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _BackendLoader:
    """Loader of the matplotlib backend module (see _fill_backend)."""

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        _fill_backend(module)


class _ImportHook:
    """sys.meta_path entry that notices the modules we integrate with.

    It answers None for everything else after one set lookup, so imports
    stay as fast as before.  It is installed at the first execute and
    removed on shutdown.
    """

    def __init__(self):
        self._finding = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _WATCHED_MODULES:
            return None
        if fullname == _MPL_BACKEND_MODULE:
            import importlib.machinery

            return importlib.machinery.ModuleSpec(fullname, _BackendLoader())
        if fullname == "matplotlib":
            if not _in_cell:
                return None  # the host's matplotlib keeps the host's backend
            after = _select_matplotlib_backend
        else:
            after = _patch_module
        if fullname in self._finding:
            return None
        self._finding.add(fullname)
        try:
            spec = self._find_elsewhere(fullname, path, target)
        finally:
            self._finding.discard(fullname)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader, after)
        return spec

    def _find_elsewhere(self, fullname, path, target):
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None

    def invalidate_caches(self):
        pass


_MPL_BACKEND_MODULE = "_bpy_jupyter_matplotlib"
_MPL_BACKEND = "module://" + _MPL_BACKEND_MODULE
_WATCHED_MODULES = frozenset(_MODULE_PATCHES) | {"matplotlib", _MPL_BACKEND_MODULE}
_IMPORT_HOOK = _ImportHook()


def _select_matplotlib_backend(matplotlib):
    """Make figures created in cells render inline.

    An explicit MPLBACKEND is respected, as ipykernel does; a backend from a
    matplotlibrc is not, since a GUI window would pop up on the host (or
    fail headless) where the user expects an inline image.
    """
    if os.environ.get("MPLBACKEND"):
        return
    matplotlib.rcParams["backend"] = _MPL_BACKEND


def _fill_backend(module):
    """The inline backend: Agg rendering, figures published as PNG.

    show() (plt.show(), fig.show()) publishes at once, never blocks and never
    warns; whatever is still open when the cell ends is published then.
    """
    from matplotlib.backend_bases import FigureManagerBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    class FigureManager(FigureManagerBase):
        def show(self):
            runtime = _live_runtime()
            if runtime is not None:
                runtime._show_figures([self])

    class FigureCanvas(FigureCanvasAgg):
        manager_class = FigureManager

    def new_figure_manager_given_figure(num, figure):
        return FigureManager(FigureCanvas(figure), num)

    def new_figure_manager(num, *args, FigureClass=Figure, **kwargs):
        return new_figure_manager_given_figure(num, FigureClass(*args, **kwargs))

    def show(*args, block=None, **kwargs):
        runtime = _live_runtime()
        if runtime is not None:
            runtime._show_figures()

    module.FigureManager = FigureManager
    module.FigureCanvas = FigureCanvas
    module.new_figure_manager_given_figure = new_figure_manager_given_figure
    module.new_figure_manager = new_figure_manager
    module.show = show
    module.backend_version = "bpy-jupyter"


def _inline_pyplot():
    """matplotlib.pyplot if it is loaded and drawing with our backend, else None.

    A backend the user chose keeps its figures to itself.
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    matplotlib = sys.modules.get("matplotlib")
    if pyplot is None or matplotlib is None:
        return None
    try:
        # dict.get: RcParams' own lookup would resolve (and import) a backend
        if dict.get(matplotlib.rcParams, "backend") != _MPL_BACKEND:
            return None
    except TypeError:
        return None
    return pyplot


def _show_figures(managers=None):
    """Publish pyplot figures as display_data and close them (plt.show(), end of cell)."""
    pyplot = _inline_pyplot()
    if pyplot is None:
        return
    if managers is None:
        managers = sys.modules["matplotlib._pylab_helpers"].Gcf.get_all_fig_managers()
    for manager in managers:
        figure = manager.canvas.figure
        try:
            display(figure)
        finally:
            pyplot.close(figure)


def _close_figure(figure):
    pyplot = _inline_pyplot()
    if pyplot is not None:
        with contextlib.suppress(Exception):
            pyplot.close(figure)


def _release_matplotlib():
    """shutdown(): never leave the host's matplotlib a backend it cannot import.

    Once loaded, the backend module stays in sys.modules and keeps working
    (show() does nothing without a kernel); if it never was, nothing but the
    import hook could load it, so the host gets plain Agg instead.
    """
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is None or _MPL_BACKEND_MODULE in sys.modules:
        return
    if dict.get(matplotlib.rcParams, "backend") == _MPL_BACKEND:
        matplotlib.rcParams["backend"] = "agg"


def _after_cell():
    """What the inline backend does when a cell ends: show what was drawn."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    try:
        _show_figures()
    except Exception as exc:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        with contextlib.suppress(Exception):
            sys.stderr.write("Error while showing matplotlib figures:\n" + "".join(lines))


# --------------------------------------------------------------------------
# Running cells
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _lend_main():
    """Make the user namespace ``__main__`` for the duration.

    Not done when a host has replaced user_ns with its own dict: there is no
    module object to lend then.
    """
    if user_ns is not _user_module.__dict__:
        yield
        return
    saved = sys.modules.get("__main__", _MISSING)
    sys.modules["__main__"] = _user_module
    try:
        yield
    finally:
        if saved is _MISSING:
            sys.modules.pop("__main__", None)
        else:
            sys.modules["__main__"] = saved


# --------------------------------------------------------------------------
# Standard streams
# --------------------------------------------------------------------------

# The thread that runs requests: the host's main thread in Blender.
_owner_ident = None
# What sys.stdout / sys.stderr were before the kernel took them: the host's.
_host_streams = [None, None]
_started = False
_shut_down = False
# Whether a cell's code is running now; requests that only call back into
# user code (comms) do not count.
_in_cell = False
_silent = False


class _Discard:
    """Where a silent cell's own prints go (and the host's, if it has no stream)."""

    name = "<discarded>"
    encoding = "utf-8"
    errors = "strict"
    closed = False

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        for _ in lines:
            pass

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        raise io.UnsupportedOperation("a silent cell's output has no file descriptor")


_DISCARD = _Discard()


class _StreamRouter:
    """sys.stdout / sys.stderr between requests and during silent cells.

    Writes from the thread that runs requests go to the host's stream
    between requests (Blender's own prints must stay in Blender's console)
    and nowhere during a silent cell; writes from any other thread go to the
    kernel's stream, parented to the current or most recent request, so what
    threads started by cells print is never lost.  During an ordinary cell
    the C writer itself is installed instead and this class costs nothing.
    Once the kernel is shut down everything goes to the host's stream, since
    loggers and threads may have kept a reference to the router.
    """

    __slots__ = ("_index", "_kernel", "_silent")

    def __init__(self, index, kernel, silent):
        self._index = index
        self._kernel = kernel
        self._silent = silent

    def _target(self):
        if _shut_down:
            return _host_streams[self._index] or _DISCARD
        if threading.get_ident() == _owner_ident:
            if self._silent:
                return _DISCARD
            return _host_streams[self._index] or _DISCARD
        return self._kernel

    def write(self, text):
        return self._target().write(text)

    def writelines(self, lines):
        return self._target().writelines(lines)

    def flush(self):
        return self._target().flush()

    def __getattr__(self, name):
        return getattr(self._target(), name)

    def __repr__(self):
        return "<bpy-jupyter %s>" % ("stdout", "stderr")[self._index]


_routers = (_StreamRouter(0, _bj.stdout, False), _StreamRouter(1, _bj.stderr, False))
_silent_routers = (_StreamRouter(0, _bj.stdout, True), _StreamRouter(1, _bj.stderr, True))
_STREAM_NAMES = ("stdout", "stderr")


def _is_request_stream(stream):
    return (
        stream is _bj.stdout
        or stream is _bj.stderr
        or stream is _silent_routers[0]
        or stream is _silent_routers[1]
    )


def _take_host_streams():
    """Remember the host's streams, unless what is installed now is ours.

    Done at every request rather than once, because a host may install
    streams of its own between requests; those are then the ones to give
    back main-thread output and to restore on shutdown.
    """
    for index, name in enumerate(_STREAM_NAMES):
        current = getattr(sys, name, None)
        if current is not _routers[index] and not _is_request_stream(current):
            _host_streams[index] = current


def _streams_between_requests():
    if _shut_down:
        return tuple(_host_streams)
    return _routers


def _restore_host_streams():
    """shutdown(): give the host its streams back where ours are still installed."""
    for index, name in enumerate(_STREAM_NAMES):
        current = getattr(sys, name, None)
        if current is _routers[index] or _is_request_stream(current):
            setattr(sys, name, _host_streams[index])


def _on_interrupt_signal(previous, signum, frame):
    """The cell's handler for SIGURG: raises for the kernel's interrupts only, and
    passes the host's own uses of the signal on to the handler it had."""
    if _bj.take_interrupt():
        raise KeyboardInterrupt
    if callable(previous):
        previous(signum, frame)


def _arm_interrupt():
    """Arm a signal that interrupts this cell even where it sleeps in a system call.

    A signal to this thread makes the call return EINTR and CPython then runs the
    Python handler armed here, which raises KeyboardInterrupt. Where the kernel
    owns the process that is SIGINT; in a host that owns SIGINT (Blender) it is
    SIGURG, whose default action ignores it, and only when the host leaves it to
    Python. Armed only while a cell runs, so a stray signal never hits an idle
    kernel. Returns what _disarm_interrupt() needs, or None: interrupts then go
    through pending calls, which run only between bytecodes.
    """
    if threading.current_thread() is not threading.main_thread():
        return None  # Python runs signal handlers on its main thread only
    try:
        if getattr(_bj, "interrupt_with_signal", False):
            signum = signal.SIGINT
            previous = signal.signal(signum, signal.default_int_handler)
        else:
            signum = getattr(signal, "SIGURG", None)
            if signum is None:
                return None
            previous = signal.getsignal(signum)
            if previous is None:
                return None  # a handler Python did not install: the host's own
            if previous in (signal.SIG_DFL, signal.SIG_IGN):
                if not _bj.signal_is_free(signum):
                    return None  # installed by the host's C code after Python started
                # Given back exactly, flags included, by _disarm_interrupt().
                _bj.save_disposition(signum)
            signal.signal(signum, functools.partial(_on_interrupt_signal, previous))
    except (ValueError, OSError):
        return None
    try:
        _bj.arm_interrupt(signum)
    except (ValueError, RuntimeError):
        signal.signal(signum, previous)
        _bj.restore_disposition()
        return None
    return signum, previous


def _disarm_interrupt(signum, previous):
    _bj.disarm_interrupt()
    try:
        signal.signal(signum, previous)
    except (ValueError, OSError, TypeError):
        pass
    _bj.restore_disposition()


@contextlib.contextmanager
def _request_io(silent=False, cell=True):
    """Route a request's stdio to the kernel and lend it ``__main__``.

    cell=False is for requests that only call back into user code (comm
    handlers): their prints belong to the frontend too, but stdin and SIGINT
    stay as they are.  Everything is put back afterwards, even after
    KeyboardInterrupt, because the host keeps using its streams between
    requests.
    """
    global _in_cell
    _take_host_streams()
    saved_streams = sys.stdout, sys.stderr
    saved_in_cell = _in_cell
    if silent:
        sys.stdout, sys.stderr = _silent_routers
    else:
        sys.stdout, sys.stderr = _bj.stdout, _bj.stderr
    armed = None
    if cell:
        saved_stdin = sys.stdin
        saved_input, saved_getpass = builtins.input, getpass.getpass
        sys.stdin = _NO_STDIN
        builtins.input, getpass.getpass = _input, _getpass
        if not saved_in_cell:
            armed = _arm_interrupt()
        _in_cell = True
    try:
        with _lend_main():
            yield
    finally:
        if armed is not None:
            _disarm_interrupt(*armed)
        for stream in (_bj.stdout, _bj.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        if _is_request_stream(saved_streams[0]):
            sys.stdout, sys.stderr = saved_streams  # nested in another request
        else:
            sys.stdout, sys.stderr = _streams_between_requests()
        if cell:
            sys.stdin = saved_stdin
            builtins.input, getpass.getpass = saved_input, saved_getpass
        _in_cell = saved_in_cell


def _start():
    """What the first execute sets up: the import hook, and patches for what is loaded.

    Not done at import: a host that loads the kernel but never runs a cell
    keeps its imports untouched.
    """
    global _started
    if _started or _shut_down:
        return
    _started = True
    if _IMPORT_HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _IMPORT_HOOK)
    _patch_loaded_modules()


def _register_cell(code, execution_count, numbered):
    """Give the cell a filename and put its source where traceback/inspect look.

    mtime None marks the entry as not backed by a file, so
    linecache.checkcache() leaves it alone.
    """
    if not numbered and code in _unnumbered_cells:
        return _unnumbered_cells[code]
    filename = "<cell-%d>" % execution_count
    suffix = 1
    while filename in _user_files:
        suffix += 1
        filename = "<cell-%d.%d>" % (execution_count, suffix)
    _user_files.add(filename)
    if not numbered:
        _unnumbered_cells[code] = filename
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    return filename


# A cell's source stays in linecache for tracebacks and inspect. Kept for every
# cell (as IPython does), a long session grows by each cell's source for good:
# beyond the last _CELL_SOURCE_LIMIT cells, a source is dropped once nothing its
# cell made (function, class, generator) is alive, as nothing can show it then.
_CELL_SOURCE_LIMIT = 1000
_recent_cells = deque()  # (filename, [weakrefs to the cell's nested code objects])
_defining_cells = []  # older cells whose functions are alive
_defining_swept = 0  # len(_defining_cells) after the last sweep


def _nested_code(code):
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield const
            yield from _nested_code(const)


def _is_alive(cell):
    return any(ref() is not None for ref in cell[1])


def _forget_cell(filename):
    linecache.cache.pop(filename, None)
    _user_files.discard(filename)


def _track_cell(filename, codes):
    global _defining_swept
    refs = [
        weakref.ref(nested) for code in codes if code is not None for nested in _nested_code(code)
    ]
    _recent_cells.append((filename, refs))
    while len(_recent_cells) > _CELL_SOURCE_LIMIT:
        cell = _recent_cells.popleft()
        if _is_alive(cell):
            _defining_cells.append(cell)
        else:
            _forget_cell(cell[0])
    if len(_defining_cells) > 2 * _defining_swept + _CELL_SOURCE_LIMIT:
        kept = []
        for cell in _defining_cells:
            if _is_alive(cell):
                kept.append(cell)
            else:
                _forget_cell(cell[0])
        _defining_cells[:] = kept
        _defining_swept = len(kept)


def _compile(node, filename, mode):
    global _future_flags
    code = compile(
        node,
        filename,
        mode,
        flags=_future_flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        dont_inherit=True,
    )
    for feature in _FUTURE_FEATURES:
        if code.co_flags & feature.compiler_flag:
            _future_flags |= feature.compiler_flag
    return code


def _event_loop():
    """The private loop for top-level await.

    It is reused across cells so tasks started in one cell keep running when
    a later cell awaits, but it is never installed as the thread's current
    loop and is not running between cells, so asyncio.run() keeps working.
    """
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


def _run_coroutine(coro):
    if asyncio._get_running_loop() is not None:
        coro.close()
        raise RuntimeError(
            "top-level await is unavailable: an asyncio event loop is already "
            "running in this thread"
        )
    loop = _event_loop()
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except BaseException:
        if not task.done():
            # Interrupted from outside the task (e.g. KeyboardInterrupt while
            # the loop waited): do not leave it to resume in a later cell.
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.wait({task}, timeout=1.0))
        if task.done() and not task.cancelled():
            task.exception()  # mark retrieved; it is reported as the cell's error
        raise


def _run_code(code):
    result = eval(code, user_ns)
    if code.co_flags & _CO_COROUTINE:
        result = _run_coroutine(result)
    return result


def _user_traceback(tb):
    """tb from the first frame of user code on, or None when there is none.

    The frames above it are this module's and asyncio's; an exception with
    no user frame at all (an interrupt landing in the event loop's select)
    is better shown bare than with the machinery's frames.
    """
    while tb is not None and tb.tb_frame.f_code.co_filename not in _user_files:
        tb = tb.tb_next
    return tb


def _error_content(exc, tb=_MISSING):
    """ename/evalue/traceback for exc; tb=None formats it without frames (compile errors)."""
    if tb is _MISSING:
        tb = _user_traceback(exc.__traceback__)
    try:
        chunks = list(traceback.TracebackException(type(exc), exc, tb).format())
    except Exception:
        chunks = traceback.format_exception_only(type(exc), exc)
    # Frontends join the list with newlines; only the chunk's own final
    # newline goes, blank separator lines between chained exceptions stay.
    lines = [chunk[:-1] if chunk.endswith("\n") else chunk for chunk in chunks]
    return {"ename": type(exc).__name__, "evalue": _safe_str(exc), "traceback": lines}


def _usage_error(code, exc):
    """Explain a SyntaxError caused by IPython syntax, else None.

    Only the line the parser stopped at counts, so '%' opening a continued
    line (modulo) or inside a string is never mistaken for a magic.  The
    ename mirrors IPython's UsageError so notebooks read the same.
    """
    lines = code.splitlines()
    if not exc.lineno or not 1 <= exc.lineno <= len(lines):
        return None
    line = lines[exc.lineno - 1].strip()
    if line.startswith("%"):
        what = "IPython magics (%s)" % line.split()[0]
        hint = ""
    elif line.startswith("!"):
        what = "IPython shell escapes (%s)" % line.split()[0]
        hint = "; use subprocess.run() instead"
    else:
        return None
    message = "this kernel runs plain Python, which does not support %s%s" % (what, hint)
    return {"ename": "UsageError", "evalue": message, "traceback": ["UsageError: " + message]}


def _ends_with_semicolon(code):
    """Whether the last token is ';' (comments ignored), the REPL idiom for 'no output'."""
    skip = {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.COMMENT,
        tokenize.ENDMARKER,
        tokenize.INDENT,
        tokenize.DEDENT,
    }
    last = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type not in skip:
                last = token
    except (tokenize.TokenError, SyntaxError):
        return False
    return last is not None and last.type == tokenize.OP and last.string == ";"


def _run_cell(code, execution_count, silent, numbered):
    """Run one cell; returns (error content or None, payload list, result text or None)."""
    query = _help_query(code)
    if query is not None:
        name, detail = query
        found, obj = _resolve(name)
        if not found:
            print("Object `%s` not found." % name)
            return None, [], None
        text = _describe(obj, name, detail)
        return None, [{"source": "page", "data": {"text/plain": text}, "start": 0}], None

    filename = _register_cell(code, execution_count, numbered)
    try:
        tree = compile(
            code,
            filename,
            "exec",
            dont_inherit=True,
            flags=_future_flags | ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        )
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = _compile(tree, filename, "exec")
        expression = _compile(ast.Expression(last.value), filename, "eval") if last else None
    except Exception as exc:
        if numbered:
            _track_cell(filename, ())
        error = isinstance(exc, SyntaxError) and _usage_error(code, exc)
        return error or _error_content(exc, tb=None), [], None
    if numbered:
        _track_cell(filename, (body, expression))

    del _cell_payload[:]
    try:
        _run_code(body)
        value = _run_code(expression) if expression is not None else None
    except BaseException as exc:
        return _error_content(exc), [], None

    if isinstance(value, _Exiter):
        value()
        value = None
    payload = list(_cell_payload)
    if value is None or silent or _ends_with_semicolon(code):
        return None, payload, None
    _set_builtin("_", value)
    data, metadata = format_bundle(value)
    if not data:
        return None, payload, None  # the object displayed itself (_ipython_display_)
    _publish(
        "execute_result", {"execution_count": execution_count, "data": data, "metadata": metadata}
    )
    if _is_figure(value):
        _close_figure(value)  # shown once, not again when the cell's figures are flushed
    return None, payload, data.get("text/plain")


def _evaluate_user_expressions(expressions):
    results = {}
    for key, source in expressions.items():
        try:
            code = compile(str(source), _USER_EXPRESSION_FILE, "eval", dont_inherit=True)
            data, metadata = format_bundle(eval(code, user_ns))
            results[key] = {"status": "ok", "data": data, "metadata": metadata}
        except BaseException as exc:
            results[key] = dict(_error_content(exc), status="error")
    return results


def execute(request_json, execution_count):
    """Run an execute_request; outputs go to iopub, the reply content is returned."""
    global _allow_stdin, _silent, _owner_ident
    silent = False
    try:
        request = json.loads(request_json)
        code = request.get("code") or ""
        silent = bool(request.get("silent", False))
        store_history = bool(request.get("store_history", True)) and not silent
        expressions = request.get("user_expressions") or {}
        _allow_stdin = bool(request.get("allow_stdin", False))
        _owner_ident = threading.get_ident()
        _start()

        entry = None
        if store_history and code.strip():
            entry = _history.record_input(execution_count, code)
        for name, value in _BUILTINS.items():
            _set_builtin(name, value)

        _silent = silent
        try:
            with _request_io(silent):
                error, payload, result_text = _run_cell(
                    code, execution_count, silent, store_history
                )
                if error is not None:
                    _publish("error", error)
                if not silent:
                    _after_cell()
                user_expressions = (
                    {} if error is not None else _evaluate_user_expressions(expressions)
                )
        finally:
            _silent = False
            _patch_loaded_modules()
        if entry is not None and result_text is not None:
            _history.record_output(entry, result_text)
    except BaseException as exc:
        # A bug here, or an interrupt that landed outside the cell: still
        # answer rather than raise into C.  Where an interrupt landed in the
        # runtime means nothing to the user; where a bug is, is worth showing.
        tb = None if isinstance(exc, KeyboardInterrupt) else exc.__traceback__
        error, payload, user_expressions = _error_content(exc, tb), [], {}
        if not silent:
            with contextlib.suppress(BaseException):
                _publish("error", error)

    reply = {
        "execution_count": execution_count,
        "payload": payload,
        "user_expressions": user_expressions,
    }
    if error is None:
        reply["status"] = "ok"
    else:
        reply.update(error, status="error")
    return _dumps(reply)


# --------------------------------------------------------------------------
# Introspection
# --------------------------------------------------------------------------


def _resolve(dotted):
    """(found, obj) for a dotted name, looking in user_ns then builtins; never evaluates code."""
    parts = dotted.split(".")
    if not parts[0] or keyword.iskeyword(parts[0]):
        return False, None
    if parts[0] in user_ns:
        obj = user_ns[parts[0]]
    elif hasattr(builtins, parts[0]):
        obj = getattr(builtins, parts[0])
    else:
        return False, None
    for part in parts[1:]:
        try:
            obj = getattr(obj, part)
        except Exception:
            return False, None
    return True, obj


def _shorten(text, limit=1000):
    return text if len(text) <= limit else text[: limit - 5] + " ... "


def _source_file(obj):
    try:
        return _inspect.getsourcefile(obj) or _inspect.getfile(obj)
    except Exception:
        pass
    if _inspect.isclass(obj):
        # inspect looks classes up through their module, and the lent
        # __main__ has no __file__; a method's code knows its cell.
        for member in vars(obj).values():
            code = getattr(getattr(member, "__func__", member), "__code__", None)
            if code is not None and code.co_filename in _user_files:
                return code.co_filename
    return None


def _describe(obj, name, detail_level):
    """IPython-style plain-text description (Signature, Type, File, Docstring/Source)."""
    fields = []
    is_class = _inspect.isclass(obj)
    is_plain_object = not (is_class or _inspect.isroutine(obj) or _inspect.ismodule(obj))

    if callable(obj):
        try:
            signature = str(_inspect.signature(obj))
        except (TypeError, ValueError):
            signature = None
        if signature is not None:
            if is_class:
                label = "Init signature"
            else:
                label = "Call signature" if is_plain_object else "Signature"
            fields.append((label, name + signature))
    if is_plain_object:
        fields.append(("String form", _shorten(_safe_repr(obj))))
        try:
            fields.append(("Length", str(len(obj))))
        except Exception:
            pass

    filename = _source_file(type(obj) if is_plain_object else obj)
    if filename:
        fields.append(("File", filename))

    source = None
    if detail_level:
        try:
            source = _inspect.getsource(obj)
        except Exception:
            pass
    if source:
        fields.append(("Source", source.rstrip()))
    else:
        try:
            doc = _inspect.getdoc(obj)
        except Exception:
            doc = None
        fields.append(("Docstring", doc or "<no docstring>"))
    fields.append(("Type", type(obj).__name__))

    width = max(len(label) for label, _ in fields) + 2
    lines = []
    for label, value in fields:
        if "\n" in value:
            lines.append("%s:\n%s" % (label, value))
        else:
            lines.append("%-*s%s" % (width, label + ":", value))
    return "\n".join(lines)


def inspect(request_json):
    """Answer an inspect_request with a plain-text description."""
    found, data = False, {}
    try:
        request = json.loads(request_json)
        code = request.get("code") or ""
        name = _token_at_cursor(code, _clamp_cursor(code, request.get("cursor_pos")))
        if name:
            found, obj = _resolve(name)
            if found:
                with _lend_main():
                    text = _describe(obj, name, int(request.get("detail_level") or 0))
                data = {"text/plain": text}
    except BaseException:
        found, data = False, {}
    return _dumps({"status": "ok", "found": found, "data": data, "metadata": {}})


# --------------------------------------------------------------------------
# Completion
# --------------------------------------------------------------------------


def _import_jedi():
    global _jedi
    if _jedi is None:
        try:
            import jedi
        except Exception:
            jedi = False
        _jedi = jedi
    return _jedi


def _import_rlcompleter():
    """Import rlcompleter without letting it take over the host's readline.

    On import it installs itself as readline's completer, a process-wide
    change nobody asked for; readline is blocked if not loaded yet, and its
    completer is put back if it was.
    """
    global _rlcompleter
    if _rlcompleter is None:
        readline = sys.modules.get("readline")
        previous = readline.get_completer() if readline is not None else None
        block = "readline" not in sys.modules and "rlcompleter" not in sys.modules
        if block:
            sys.modules["readline"] = None
        try:
            import rlcompleter
        finally:
            if block:
                sys.modules.pop("readline", None)
            elif readline is not None:
                readline.set_completer(previous)
        _rlcompleter = rlcompleter
    return _rlcompleter


def _jedi_signature(completion):
    try:
        signatures = completion.get_signatures()
    except Exception:
        return ""
    if not signatures:
        return "(?)"
    return "(" + signatures[0].to_string().split("(", 1)[-1]


def _complete_with_jedi(jedi, code, cursor_pos):
    """(matches, cursor_start, types) from jedi, all relative to one cursor_start."""
    before = code[:cursor_pos]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1)
    found = []
    for completion in jedi.Interpreter(code, [user_ns]).complete(line, column):
        text = completion.name_with_symbols
        rest = completion.complete
        typed = max(len(text) - len(rest), 0) if rest is not None and text.endswith(rest) else 0
        if _hidden(completion.name, code[cursor_pos - typed : cursor_pos]):
            continue
        found.append((cursor_pos - typed, text, completion))
    if not found:
        return [], cursor_pos, []

    # Jupyter allows one replacement range, so completions that replace less
    # are widened with the text they keep.
    start = min(item[0] for item in found)
    matches, described, seen = [], [], set()
    for own_start, text, completion in found:
        text = code[start:own_start] + text
        if text in seen:
            continue
        seen.add(text)
        matches.append(text)
        kind = completion.type
        described.append(
            {
                "start": start,
                "end": cursor_pos,
                "text": text,
                "type": kind,
                "signature": _jedi_signature(completion) if kind == "function" else "",
            }
        )
    return matches, start, described


def _complete_with_rlcompleter(code, cursor_pos):
    """(matches, cursor_start) for the dotted name before the cursor.

    Matches are bare names (attributes without their 'obj.' prefix), like
    jedi's, with cursor_start at the start of what they replace.
    """
    token = re.search(r"[\w.]*$", code[:cursor_pos]).group()
    if token[:1].isdigit() or token.startswith(".") or ".." in token:
        return [], cursor_pos
    completer = _import_rlcompleter().Completer(user_ns)
    if "." in token:
        expr, _, typed = token.rpartition(".")
        prefix = expr + "."
        raw = [m[len(prefix) :] for m in completer.attr_matches(token) if m.startswith(prefix)]
    else:
        typed = token
        raw = completer.global_matches(token)
    # rlcompleter decorates for readline: 'len(', 'copy()', 'import ', 'try:'.
    names = {m.rstrip("(): ") for m in raw}
    names = {name for name in names if name and not _hidden(name, typed)}
    matches = sorted(names, key=lambda name: (name.startswith("_"), name.lower(), name))
    return matches, cursor_pos - len(typed)


# The dotted name being typed, at the end of the text before the cursor:
# group 1 the object's path with its trailing dot (may be empty), group 2 the
# part of the last name typed so far (may be empty after a dot).


def complete(request_json):
    """Answer a complete_request: live names and attributes from the namespace,
    the rest with jedi when available, rlcompleter otherwise."""
    matches, cursor_start, cursor_end, metadata = [], 0, 0, {}
    try:
        request = json.loads(request_json)
        code = request.get("code") or ""
        cursor_end = cursor_start = _clamp_cursor(code, request.get("cursor_pos"))
        plain = _live_name_at(code, cursor_end, user_ns)
        jedi = _import_jedi() if plain is None else None
        if plain is not None:
            cursor_start = plain[2]
            matches, described = _complete_live_name(*plain, user_ns)
            metadata = {"_jupyter_types_experimental": described}
        elif jedi:
            try:
                matches, cursor_start, described = _complete_with_jedi(jedi, code, cursor_end)
                metadata = {"_jupyter_types_experimental": described}
            except Exception:
                matches = []
        if not matches and plain is None:
            matches, cursor_start = _complete_with_rlcompleter(code, cursor_end)
            metadata = {}
    except BaseException:
        matches, cursor_start, metadata = [], cursor_end, {}
    return _dumps(
        {
            "status": "ok",
            "matches": matches,
            "cursor_start": cursor_start,
            "cursor_end": cursor_end,
            "metadata": metadata,
        }
    )


# --------------------------------------------------------------------------
# is_complete
# --------------------------------------------------------------------------


def is_complete(request_json):
    """Answer an is_complete_request the way IPython does where it matters to consoles."""
    try:
        reply = _completeness(json.loads(request_json).get("code") or "", _future_flags)
    except BaseException:
        reply = {"status": "unknown"}
    return _dumps(reply)


# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------

_history = _HistoryStore(
    kernel_name=lambda: getattr(_bj, "kernel_name", None), host_stderr=lambda: _host_streams[1]
)


def history(request_json):
    """Answer a history_request from this and earlier sessions of this kernel name.

    Sessions are numbered from 1 per kernel name; in a range request 0 is
    the current session and negative numbers count back from it, as in
    IPython.  Rows carry absolute session numbers.
    """
    try:
        request = json.loads(request_json)
        entries = _history_rows(_history, request)
        if request.get("output"):
            rows = [[e[0], e[1], [e[2], e[3]]] for e in entries]
        else:
            rows = [[e[0], e[1], e[2]] for e in entries]
        reply = {"status": "ok", "history": rows}
    except BaseException as exc:
        reply = dict(_error_content(exc, tb=None), status="error", history=[])
    return _dumps(reply)


# --------------------------------------------------------------------------
# Kernel info and shutdown
# --------------------------------------------------------------------------


def kernel_info():
    """language_info, banner and help links; the C side adds the protocol fields."""
    version = platform.python_version()
    docs = "https://docs.python.org/%d.%d/" % sys.version_info[:2]
    banner = (
        "bpy-jupyter %s, Python %s\n"
        "Plain Python: IPython magics (%%) and shell escapes (!) are not available."
        % (getattr(_bj, "implementation_version", "?"), version)
    )
    return _dumps(
        {
            "language_info": {
                "name": "python",
                "version": version,
                "mimetype": "text/x-python",
                "file_extension": ".py",
                "pygments_lexer": "python3",
                "codemirror_mode": {"name": "python", "version": 3},
                "nbconvert_exporter": "python",
            },
            "banner": banner,
            "help_links": [
                {"text": "Python Reference", "url": docs},
                {"text": "Python Library Reference", "url": docs + "library/"},
            ],
        }
    )


def shutdown():
    """Give the host back what the kernel borrowed, and close the private event loop.

    Streams, builtins, the import hook and the functions patched into other
    packages all go back, so a host that restarts its kernel in-process
    (Blender) starts the next one from a clean slate.
    """
    global _loop, _shut_down
    _shut_down = True
    with contextlib.suppress(BaseException):
        _restore_host_streams()
    with contextlib.suppress(BaseException):
        while _IMPORT_HOOK in sys.meta_path:
            sys.meta_path.remove(_IMPORT_HOOK)
    with contextlib.suppress(BaseException):
        _unpatch_modules()
    with contextlib.suppress(BaseException):
        _release_matplotlib()
    with contextlib.suppress(BaseException):
        comm_manager.comms.clear()
    with contextlib.suppress(BaseException):
        _history.close()
    loop, _loop = _loop, None
    if loop is not None and not loop.is_closed():
        with contextlib.suppress(BaseException):
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=1.0))
            loop.run_until_complete(loop.shutdown_asyncgens())
        with contextlib.suppress(BaseException):
            loop.close()
    _restore_builtins()


# --------------------------------------------------------------------------
# Comms
# --------------------------------------------------------------------------


def _import_item(name):
    """'package.module.attribute' -> the attribute, as traitlets' import_item does."""
    import importlib

    module, _, attribute = name.rpartition(".")
    if not module:
        return importlib.import_module(name)
    return getattr(importlib.import_module(module), attribute)


def _comm_message(msg_type, content, buffers, metadata=None):
    """The message dict comm callbacks expect (they read msg["content"]["data"]).

    The content, metadata (ipywidgets reads the protocol version of a widget
    the frontend creates there) and buffers come from the frontend's message;
    the header carries the type, for callbacks that log it.
    """
    return {
        "header": {"msg_type": msg_type},
        "msg_type": msg_type,
        "parent_header": {},
        "metadata": metadata if isinstance(metadata, dict) else {},
        "content": content,
        "buffers": [memoryview(buffer) for buffer in buffers or ()],
    }


class Comm:
    """The kernel side of a comm, with the API of comm.base_comm.BaseComm.

    Libraries written for the ``comm`` package (ipywidgets 8, for one) get
    instances of this class from comm.create_comm().  Messages go out on
    iopub with binary buffers; data is made JSON-safe rather than refused.
    """

    def __init__(
        self,
        target_name="comm",
        data=None,
        metadata=None,
        buffers=None,
        comm_id=None,
        primary=True,
        target_module=None,
        topic=None,
        _open_data=None,
        _close_data=None,
        **kwargs
    ):
        self.comm_id = comm_id if comm_id else uuid.uuid4().hex
        self.primary = primary
        self.target_name = target_name
        self.target_module = target_module
        self.topic = topic if topic else ("comm-%s" % self.comm_id).encode("ascii")
        self._open_data = _open_data if _open_data else {}
        self._close_data = _close_data if _close_data else {}
        self._msg_callback = None
        self._close_callback = None
        self._closed = True
        # ipywidgets 7 checks `comm.kernel is not None` before sending.
        self.kernel = _COMM_KERNEL
        if self.primary:
            self.open(data=data, metadata=metadata, buffers=buffers)
        else:
            self._closed = False

    def __repr__(self):
        return "<%s %s target=%r%s>" % (
            type(self).__name__,
            self.comm_id,
            self.target_name,
            " closed" if self._closed else "",
        )

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        # The kernel running now, not the one that defined this class: a host
        # that restarts in-process keeps library classes (and their comms)
        # across kernels.  With no kernel there is no frontend to tell.
        runtime = _live_runtime()
        if runtime is None:
            return
        content = dict(data={} if data is None else data, comm_id=self.comm_id, **keys)
        runtime._bj.publish(
            msg_type,
            runtime._dumps(content),
            runtime._dumps(metadata) if metadata else None,
            list(buffers) if buffers else None,
        )

    def open(self, data=None, metadata=None, buffers=None):
        """Open the frontend side of this comm."""
        if data is None:
            data = self._open_data
        manager = _live_comm_manager()
        if manager is None:
            raise RuntimeError("Comms cannot be opened: no bpy-jupyter kernel is running")
        manager.register_comm(self)
        try:
            self.publish_msg(
                "comm_open",
                data=data,
                metadata=metadata,
                buffers=buffers,
                target_name=self.target_name,
                target_module=self.target_module,
            )
            self._closed = False
        except Exception:
            manager.unregister_comm(self)
            raise

    def close(self, data=None, metadata=None, buffers=None, deleting=False):
        """Close the frontend side of this comm (once)."""
        if self._closed:
            return
        self._closed = True
        if data is None:
            data = self._close_data
        self.publish_msg("comm_close", data=data, metadata=metadata, buffers=buffers)
        manager = _live_comm_manager()
        if not deleting and manager is not None:
            manager.unregister_comm(self)

    def send(self, data=None, metadata=None, buffers=None):
        """Send a comm_msg to the frontend side."""
        self.publish_msg("comm_msg", data=data, metadata=metadata, buffers=buffers)

    def on_msg(self, callback):
        """callback(msg) for each comm_msg from the frontend; None removes it."""
        self._msg_callback = callback

    def on_close(self, callback):
        """callback(msg) when the frontend closes the comm; None removes it."""
        self._close_callback = callback

    def handle_msg(self, msg):
        if self._msg_callback:
            self._msg_callback(msg)

    def handle_close(self, msg):
        if self._close_callback:
            self._close_callback(msg)


class CommManager:
    """Comm targets and open comms, with the API of comm.base_comm.CommManager.

    A target is a callable f(comm, msg) run when the frontend opens a comm
    with that target_name.
    """

    def __init__(self):
        self.comms = {}
        self.targets = {}

    def register_target(self, target_name, f):
        if isinstance(f, str):
            f = _import_item(f)
        self.targets[target_name] = f

    def unregister_target(self, target_name, f=None):
        return self.targets.pop(target_name, None)

    def register_comm(self, comm):
        self.comms[comm.comm_id] = comm
        return comm.comm_id

    def unregister_comm(self, comm):
        return self.comms.pop(comm.comm_id, None)

    def get_comm(self, comm_id):
        return self.comms.get(comm_id)


def _live_comm_manager():
    runtime = _live_runtime()
    return runtime.comm_manager if runtime is not None else None


class _CommKernel:
    """What Comm.kernel is: something that is not None and knows the manager."""

    @property
    def comm_manager(self):
        return _live_comm_manager() or comm_manager

    def __repr__(self):
        return "<bpy-jupyter kernel>"


_COMM_KERNEL = _CommKernel()
comm_manager = CommManager()


def create_comm(*args, **kwargs):
    """comm.create_comm for this kernel."""
    return Comm(*args, **kwargs)


def get_comm_manager():
    """comm.get_comm_manager for this kernel."""
    return comm_manager


def _widget_comm_class():
    """The Comm class ipywidgets 6/7 accept, or None when they are not loaded.

    Their widgets declare ``comm = Instance('ipykernel.comm.Comm')``, a class
    that needs a running ipykernel.  ipykernel.comm.Comm is replaced, as soon
    as it is imported, by a subclass of this kernel's Comm.  That class is
    made once per process and kept on the ipykernel.comm module: ipywidgets
    resolves its trait once, so a kernel restarted in-process (Blender) must
    hand out the very same class.
    """
    module = sys.modules.get("ipykernel.comm")
    return getattr(module, "_bj_comm_class", None) if module is not None else None


def _adopt_ipykernel_comm(module):
    comm_class = module.__dict__.get("_bj_comm_class")
    if comm_class is None:
        comm_class = type(
            "Comm",
            (Comm,),
            {
                "__module__": module.__name__,
                "__doc__": "ipykernel.comm.Comm as bpy-jupyter provides it: see bj_runtime.Comm.",
            },
        )
        module._bj_comm_class = comm_class
    original = module.__dict__.get("Comm")
    if original is None or original is comm_class:
        return
    module.Comm = comm_class
    _patched.append((module, "Comm", comm_class, original))


def _register_widget_targets(module):
    """Register ipywidgets' comm targets, which it does itself only inside IPython.

    ipywidgets 6/7 register them on ``get_ipython().kernel``; with no IPython
    shell here the frontend's version check (and any frontend-created
    widget) would find no target.
    """
    register = getattr(module, "register_comm_target", None)
    if callable(register):
        register(_COMM_KERNEL)


_MODULE_INTEGRATIONS.update(
    {
        "ipykernel.comm": _adopt_ipykernel_comm,
        "ipywidgets": _register_widget_targets,
    }
)


def _report_comm_error(what):
    """A failing comm callback is the library's bug: show it, keep the kernel going."""
    with contextlib.suppress(Exception):
        sys.stderr.write("%s\n%s" % (what, traceback.format_exc()))


def _handle_comm(msg_type, content, buffers, metadata=None):
    comm_id = content.get("comm_id")
    msg = _comm_message(msg_type, content, buffers, metadata)
    if msg_type == "comm_open":
        target_name = content.get("target_name")
        comm_class = _widget_comm_class() or Comm
        comm = comm_class(comm_id=comm_id, primary=False, target_name=target_name)
        comm_manager.register_comm(comm)
        target = comm_manager.targets.get(target_name)
        if target is None:
            sys.stderr.write("No such comm target registered: %s\n" % target_name)
        else:
            try:
                target(comm, msg)
                return
            except Exception:
                _report_comm_error("Exception opening comm with target %s:" % target_name)
        with contextlib.suppress(Exception):
            comm.close()
        comm_manager.unregister_comm(comm)
    elif msg_type == "comm_msg":
        comm = comm_manager.get_comm(comm_id)
        if comm is None:
            return
        try:
            comm.handle_msg(msg)
        except Exception:
            _report_comm_error("Exception in comm_msg for %s:" % comm_id)
    elif msg_type == "comm_close":
        comm = comm_manager.comms.pop(comm_id, None)
        if comm is None:
            return
        comm._closed = True
        try:
            comm.handle_close(msg)
        except Exception:
            _report_comm_error("Exception in comm_close for %s:" % comm_id)


def comm(msg_type, content_json, buffers, metadata_json=None):
    """Handle comm_open / comm_msg / comm_close / comm_info_request.

    Returns the reply content as JSON text for comm_info_request, None for the
    others (they have no reply).  Callbacks run with the request's output
    going to the frontend, like a cell's.
    """
    global _owner_ident
    try:
        content = json.loads(content_json)
        if msg_type == "comm_info_request":
            target_name = content.get("target_name")
            comms = {
                comm_id: {"target_name": comm.target_name}
                for comm_id, comm in list(comm_manager.comms.items())
                if not target_name or comm.target_name == target_name
            }
            return _dumps({"status": "ok", "comms": comms})
        _owner_ident = threading.get_ident()
        with _request_io(cell=False):
            _handle_comm(
                msg_type, content, buffers, json.loads(metadata_json) if metadata_json else None
            )
    except BaseException as exc:
        if msg_type == "comm_info_request":
            return _dumps(dict(_error_content(exc, tb=None), status="error", comms={}))
    return None
