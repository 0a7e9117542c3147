"""Python half of the bpy-jupyter executor.

The C kernel embeds CPython, executes this file as the module ``bj_runtime``
and calls the top-level functions below on its owner thread with the GIL held.
Everything that is easier to get right in Python lives here: compiling cells,
building MIME bundles, completion, introspection and history.

The C boundary is deliberately narrow: arguments and return values are JSON
text or ints, so the C side never has to walk Python objects.  Outputs
(results, rich displays, errors) are pushed through ``_bpy_jupyter_executor``,
the small C module that owns the iopub socket and the stream buffers.

Nothing happens at import time besides defining names: the process may be a
host application (Blender) whose ``sys``/``builtins`` we only borrow while a
cell runs and hand back on ``shutdown()``.
"""

import __future__
import ast
import asyncio
import base64
import builtins
import codeop
import contextlib
import fnmatch
import getpass
import inspect as _inspect
import io
import json
import keyword
import linecache
import math
import platform
import pprint
import re
import signal
import sys
import threading
import tokenize
import traceback
import types
import uuid
from collections import deque

import _bpy_jupyter_executor as _bj

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
]

_MISSING = object()

# The namespace is the __dict__ of a real module object so that it can stand
# in for ``__main__`` while a cell runs: pickle, dataclasses and
# typing.get_type_hints resolve cell-defined names through
# sys.modules[cls.__module__].
_user_module = types.ModuleType("__main__")
_user_module.__dict__["__builtins__"] = builtins
user_ns = _user_module.__dict__

_HISTORY_LIMIT = 10000
# Entries are [session, line, input, output-or-None]; output is filled in after
# the cell has run.
_history = deque(maxlen=_HISTORY_LIMIT)

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

def _jsonable(obj):
    """Coerce anything into strict JSON values.

    Only used when json.dumps refuses the real thing: a stray NaN or a
    non-serialisable metadata value must not lose the whole message.
    """
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(key): _jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(value) for value in obj]
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    return _safe_str(obj)


def _dumps(obj):
    """Serialise for C: strict JSON, valid UTF-8.

    Lone surrogates (from surrogateescape-decoded filenames, say) cannot be
    encoded to UTF-8 by the C side, so they are replaced here.
    """
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, OverflowError, RecursionError):
        text = json.dumps(_jsonable(obj), ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _publish(msg_type, content):
    _bj.publish(msg_type, _dumps(content))


def _safe_str(obj):
    try:
        return str(obj)
    except Exception:
        return object.__repr__(obj)


def _safe_repr(obj):
    try:
        return repr(obj)
    except Exception:
        return object.__repr__(obj)


# --------------------------------------------------------------------------
# Rich output
# --------------------------------------------------------------------------

_REPR_METHODS = (
    ("text/html", "_repr_html_"),
    ("text/markdown", "_repr_markdown_"),
    ("image/svg+xml", "_repr_svg_"),
    ("image/png", "_repr_png_"),
    ("image/jpeg", "_repr_jpeg_"),
    ("text/latex", "_repr_latex_"),
    ("application/json", "_repr_json_"),
    ("application/javascript", "_repr_javascript_"),
    ("application/pdf", "_repr_pdf_"),
)
_PRETTY_TYPES = (dict, list, tuple, set, frozenset)
_PRETTY_MAX_ITEMS = 1000  # beyond this pprint's one-item-per-line output only gets in the way


def _is_json_mime(mime):
    return mime == "application/json" or mime.endswith("+json")


def _is_text_mime(mime):
    return (
        mime.startswith("text/")
        or mime.endswith(("+xml", "+json"))
        or mime in ("application/json", "application/javascript")
    )


def _repr_method(obj, name):
    """Look up a _repr_*_ method the way IPython does.

    Classes are skipped (their _repr_html_ is an unbound function), and so are
    objects that claim to have every attribute (proxies, mocks); many
    libraries special-case IPython's canary name, so the same one is used.
    """
    try:
        if getattr(obj, "_ipython_canary_method_should_not_exist_", None) is not None:
            return None
        method = getattr(obj, name, None)
    except Exception:
        return None
    if _inspect.isclass(obj) and not isinstance(method, types.MethodType):
        return None
    return method if callable(method) else None


def _report_formatter_error(obj, what, exc):
    """A broken _repr_* must cost the user one representation, not the cell."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next)
    try:
        sys.stderr.write(
            "Error in %s.%s, representation skipped:\n%s"
            % (type(obj).__name__, what, "".join(lines))
        )
    except Exception:
        pass


def _mime_value(mime, value):
    """Normalise one representation to what the message spec carries, or None."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if _is_text_mime(mime):
            return raw.decode("utf-8", "replace")
        return base64.b64encode(raw).decode("ascii")
    if _is_json_mime(mime):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return None
        return value
    if isinstance(value, str):
        return value
    return None


def _wanted(mime, include, exclude):
    return (not include or mime in include) and not (exclude and mime in exclude)


def _plain_text(obj):
    try:
        if isinstance(obj, _PRETTY_TYPES) and len(obj) <= _PRETTY_MAX_ITEMS:
            return pprint.pformat(obj, sort_dicts=False)
        return repr(obj)
    except Exception as exc:
        _report_formatter_error(obj, "__repr__", exc)
        return object.__repr__(obj)


def format_bundle(obj, include=None, exclude=None):
    """Return (data, metadata) for obj, merging representations like IPython.

    _repr_mimebundle_ goes first; the individual _repr_*_ methods fill in the
    types it did not provide; text/plain is always there unless excluded.
    """
    data, metadata = {}, {}

    method = _repr_method(obj, "_repr_mimebundle_")
    if method is not None:
        try:
            result = method(include=include, exclude=exclude)
        except Exception as exc:
            _report_formatter_error(obj, "_repr_mimebundle_", exc)
            result = None
        bundle, bundle_md = result, None
        if isinstance(result, tuple) and len(result) == 2:
            bundle, bundle_md = result
        if isinstance(bundle, dict):
            for mime, value in bundle.items():
                value = _mime_value(str(mime), value)
                if value is not None and _wanted(mime, include, exclude):
                    data[str(mime)] = value
        if isinstance(bundle_md, dict):
            for key, value in bundle_md.items():
                if _wanted(key, include, exclude):
                    metadata[str(key)] = value

    for mime, name in _REPR_METHODS:
        if mime in data or not _wanted(mime, include, exclude):
            continue
        method = _repr_method(obj, name)
        if method is None:
            continue
        try:
            result = method()
        except Exception as exc:
            _report_formatter_error(obj, name, exc)
            continue
        md = None
        if isinstance(result, tuple) and len(result) == 2:
            result, md = result
        value = None if result is None else _mime_value(mime, result)
        if value is None:
            continue
        data[mime] = value
        if md:
            metadata[mime] = md

    if "text/plain" not in data and _wanted("text/plain", include, exclude):
        data["text/plain"] = _plain_text(obj)
    return data, metadata


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


def display(*objs, include=None, exclude=None, metadata=None, transient=None,
            display_id=None, raw=False, clear=False, update=False):
    """IPython.display.display, publishing straight to the kernel.

    display_id=True allocates a fresh id; with a display_id (and no objects)
    an empty placeholder output is published that can be updated later.
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


_BUILTINS = {"display": display, "update_display": update_display, "clear_output": clear_output,
             "exit": _Exiter("exit"), "quit": _Exiter("quit")}
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


@contextlib.contextmanager
def _cell_io():
    """Route a cell's stdio to the kernel and lend it ``__main__``.

    Everything is put back afterwards, even after KeyboardInterrupt, because
    the host keeps using its own streams between requests.
    """
    saved = sys.stdout, sys.stderr, sys.stdin
    saved_input, saved_getpass = builtins.input, getpass.getpass
    saved_sigint = None
    sys.stdout, sys.stderr, sys.stdin = _bj.stdout, _bj.stderr, _NO_STDIN
    builtins.input, getpass.getpass = _input, _getpass
    # Where the kernel owns the process it interrupts with SIGINT, which also wakes
    # blocking calls like time.sleep(); Python's handler is armed only while a
    # cell runs, so a stray Ctrl-C never hits an idle kernel.
    if getattr(_bj, "interrupt_with_signal", False) and threading.current_thread() is threading.main_thread():
        saved_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with _lend_main():
            yield
    finally:
        if saved_sigint is not None:
            signal.signal(signal.SIGINT, saved_sigint)
        for stream in (_bj.stdout, _bj.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        sys.stdout, sys.stderr, sys.stdin = saved
        builtins.input, getpass.getpass = saved_input, saved_getpass


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


def _compile(node, filename, mode):
    global _future_flags
    code = compile(node, filename, mode,
                   flags=_future_flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
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
    if code.co_flags & _inspect.CO_COROUTINE:
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


_NAME = r"[^\W\d]\w*"
_HELP_RE = re.compile(
    r"^\s*(?P<pre>\?{1,2})?\s*(?P<name>%s(?:\s*\.\s*%s)*)\s*(?P<post>\?{1,2})?\s*$" % (_NAME, _NAME)
)


def _help_query(code):
    """(name, detail_level) for `name?` / `name??` (or `?name`), else None."""
    match = _HELP_RE.match(code)
    if not match or bool(match.group("pre")) == bool(match.group("post")):
        return None
    marks = match.group("pre") or match.group("post")
    return re.sub(r"\s+", "", match.group("name")), len(marks) - 1


def _ends_with_semicolon(code):
    """Whether the last token is ';' (comments ignored), the REPL idiom for 'no output'."""
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER,
            tokenize.INDENT, tokenize.DEDENT}
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
        tree = compile(code, filename, "exec", dont_inherit=True,
                       flags=_future_flags | ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = _compile(tree, filename, "exec")
        expression = _compile(ast.Expression(last.value), filename, "eval") if last else None
    except Exception as exc:
        error = isinstance(exc, SyntaxError) and _usage_error(code, exc)
        return error or _error_content(exc, tb=None), [], None

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
    _publish("execute_result",
             {"execution_count": execution_count, "data": data, "metadata": metadata})
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
    try:
        request = json.loads(request_json)
        code = request.get("code") or ""
        silent = bool(request.get("silent", False))
        store_history = bool(request.get("store_history", True)) and not silent
        expressions = request.get("user_expressions") or {}
        global _allow_stdin
        _allow_stdin = bool(request.get("allow_stdin", False))

        entry = None
        if store_history and code.strip():
            entry = [0, execution_count, code, None]
            _history.append(entry)
        for name, value in _BUILTINS.items():
            _set_builtin(name, value)

        with _cell_io():
            error, payload, result_text = _run_cell(code, execution_count, silent, store_history)
            if error is not None:
                _publish("error", error)
                user_expressions = {}
            else:
                user_expressions = _evaluate_user_expressions(expressions)
        if entry is not None:
            entry[3] = result_text
    except BaseException as exc:
        # A bug here, or an interrupt that landed outside the cell: still
        # answer rather than raise into C.  Where an interrupt landed in the
        # runtime means nothing to the user; where a bug is, is worth showing.
        tb = None if isinstance(exc, KeyboardInterrupt) else exc.__traceback__
        error, payload, user_expressions = _error_content(exc, tb), [], {}
        with contextlib.suppress(BaseException):
            _publish("error", error)

    reply = {"execution_count": execution_count, "payload": payload,
             "user_expressions": user_expressions}
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


def _token_at_cursor(code, cursor_pos):
    """The dotted name to inspect at cursor_pos.

    Follows IPython: when the cursor is inside a call's parentheses the
    callee wins, since that is what shift-tab users want to see.
    """
    names, call_names, previous = [], [], None
    line_offsets = [0]
    for line in code.splitlines(True):
        line_offsets.append(line_offsets[-1] + len(line))

    def offset(position):
        row, col = position
        return line_offsets[min(row - 1, len(line_offsets) - 1)] + col

    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            start = offset(token.start)
            # '|foo' at the very start of a line still means foo.
            if start >= (cursor_pos + 1 if token.start[1] == 0 else cursor_pos):
                break
            if token.type == tokenize.NAME and not keyword.iskeyword(token.string):
                after_dot = previous is not None and previous.exact_type == tokenize.DOT
                if names and after_dot:
                    names[-1] += "." + token.string
                else:
                    names.append(token.string)
            elif token.type == tokenize.OP:
                if token.string == "=" and names:
                    names.pop()  # never inspect an assignment target
                elif token.string == "(" and names:
                    call_names.append(names[-1])
                elif token.string == ")" and call_names:
                    call_names.pop()
            previous = token
            if offset(token.end) > cursor_pos:
                break
    except (tokenize.TokenError, SyntaxError):
        pass
    if call_names:
        return call_names[-1]
    return names[-1] if names else ""


def _clamp_cursor(code, cursor_pos):
    if cursor_pos is None:
        return len(code)
    return max(0, min(int(cursor_pos), len(code)))


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


def _hidden(name, typed):
    """Private names are offered only once the user has typed the underscore, as in IPython."""
    return name.startswith("_") and not typed.startswith("_")


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
        if _hidden(completion.name, code[cursor_pos - typed:cursor_pos]):
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
        described.append({
            "start": start,
            "end": cursor_pos,
            "text": text,
            "type": kind,
            "signature": _jedi_signature(completion) if kind == "function" else "",
        })
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
        raw = [m[len(prefix):] for m in completer.attr_matches(token) if m.startswith(prefix)]
    else:
        typed = token
        raw = completer.global_matches(token)
    # rlcompleter decorates for readline: 'len(', 'copy()', 'import ', 'try:'.
    names = {m.rstrip("(): ") for m in raw}
    names = {name for name in names if name and not _hidden(name, typed)}
    matches = sorted(names, key=lambda name: (name.startswith("_"), name.lower(), name))
    return matches, cursor_pos - len(typed)


def complete(request_json):
    """Answer a complete_request; jedi when available, rlcompleter otherwise."""
    matches, cursor_start, cursor_end, metadata = [], 0, 0, {}
    try:
        request = json.loads(request_json)
        code = request.get("code") or ""
        cursor_end = cursor_start = _clamp_cursor(code, request.get("cursor_pos"))
        jedi = _import_jedi()
        if jedi:
            try:
                matches, cursor_start, described = _complete_with_jedi(jedi, code, cursor_end)
                metadata = {"_jupyter_types_experimental": described}
            except Exception:
                matches = []
        if not matches:
            matches, cursor_start = _complete_with_rlcompleter(code, cursor_end)
            metadata = {}
    except BaseException:
        matches, cursor_start, metadata = [], cursor_end, {}
    return _dumps({"status": "ok", "matches": matches, "cursor_start": cursor_start,
                   "cursor_end": cursor_end, "metadata": metadata})


# --------------------------------------------------------------------------
# is_complete
# --------------------------------------------------------------------------

def _indent_of(line):
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


_LAYOUT_TOKENS = (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER)


def _opens_block(line):
    """Whether a physical line ends in ':' (ignoring a comment)."""
    significant = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline):
            if token.type not in _LAYOUT_TOKENS:
                significant = token
    except (tokenize.TokenError, SyntaxError):
        return False  # an open bracket or string: not a block header
    return significant is not None and significant.type == tokenize.OP and significant.string == ":"


def _ends_inside_block(code):
    """Whether the last line is still inside an indented block, which the user may extend."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    kinds = [token.type for token in tokens if token.type != tokenize.ENDMARKER]
    return bool(kinds) and kinds[-1] == tokenize.DEDENT


def _completeness(code):
    if not code.strip() or _help_query(code) is not None:
        return {"status": "complete"}
    compiler = codeop.CommandCompiler()
    compiler.compiler.flags |= _future_flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        compiled = compiler(code, "<input>", "exec")
    except (SyntaxError, OverflowError, ValueError, TypeError, MemoryError, RecursionError):
        return {"status": "invalid"}

    lines = [line for line in code.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if compiled is None:
        indent = _indent_of(last) + (4 if _opens_block(last) else 0)
        return {"status": "incomplete", "indent": " " * indent}
    # Complete as far as the compiler is concerned, but a block is still open
    # and the user has not ended it with a blank line (as in the REPL).
    if code.splitlines()[-1].strip() and not code.endswith("\n") and _ends_inside_block(code):
        return {"status": "incomplete", "indent": " " * _indent_of(last)}
    return {"status": "complete"}


def is_complete(request_json):
    """Answer an is_complete_request the way IPython does where it matters to consoles."""
    try:
        reply = _completeness(json.loads(request_json).get("code") or "")
    except BaseException:
        reply = {"status": "unknown"}
    return _dumps(reply)


# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------

def _optional_int(value):
    return None if value is None else int(value)


def history(request_json):
    """Answer a history_request from the in-memory history of this session (session 0)."""
    try:
        request = json.loads(request_json)
        kind = request.get("hist_access_type") or "tail"
        with_output = bool(request.get("output"))
        n = _optional_int(request.get("n"))
        entries = list(_history)

        if kind == "range":
            session = _optional_int(request.get("session")) or 0
            start = _optional_int(request.get("start"))
            stop = _optional_int(request.get("stop"))
            start = 1 if start is None else start
            entries = [e for e in entries
                       if session == 0 and e[1] >= start and (stop is None or e[1] < stop)]
        elif kind == "search":
            pattern = request.get("pattern") or "*"
            entries = [e for e in entries if fnmatch.fnmatchcase(e[2], pattern)]
            if request.get("unique"):
                seen, latest_first = set(), []
                for entry in reversed(entries):
                    if entry[2] not in seen:
                        seen.add(entry[2])
                        latest_first.append(entry)
                entries = latest_first[::-1]
            if n is not None:
                entries = entries[-n:] if n > 0 else []
        elif kind == "tail":
            if n is not None:
                entries = entries[-n:] if n > 0 else []
        else:
            entries = []

        if with_output:
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
    return _dumps({
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
    })


def shutdown():
    """Give the host back its builtins and close the private event loop."""
    global _loop
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

def comm(msg_type, content_json, buffers):
    """Handle comm_open / comm_msg / comm_close / comm_info_request.

    Returns the reply content as JSON text for comm_info_request, None for the
    others (they have no reply).
    """
    if msg_type == "comm_info_request":
        return _dumps({"status": "ok", "comms": {}})
    return None
