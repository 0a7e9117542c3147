"""Rich output: the MIME bundle of an object, merged like IPython does.

Pure: publishing is the session's business (display(), DisplayHandle);
this module only turns objects into (data, metadata), so it is tested
in-process.
"""

import io
import json
import sys
import types

from .boundary import LazyModule

base64 = LazyModule("base64")
pprint = LazyModule("pprint")
traceback = LazyModule("traceback")
_inspect = LazyModule("inspect")


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

    # IPython's protocol for objects that publish themselves (ipywidgets 7
    # among others): they get the call, and nothing else is shown.
    method = _repr_method(obj, "_ipython_display_")
    if method is not None:
        try:
            method()
            return {}, {}
        except Exception as exc:
            _report_formatter_error(obj, "_ipython_display_", exc)

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

    if "image/png" not in data and _wanted("image/png", include, exclude) and _is_figure(obj):
        try:
            png = _figure_png(obj)
        except Exception as exc:
            _report_formatter_error(obj, "savefig", exc)
            png = None
        if png is not None:
            data["image/png"] = png

    if "text/plain" not in data and _wanted("text/plain", include, exclude):
        data["text/plain"] = _plain_text(obj)
    return data, metadata


def _is_figure(obj):
    figure = sys.modules.get("matplotlib.figure")
    return figure is not None and isinstance(obj, figure.Figure)


def _figure_png(fig):
    """PNG of a figure as IPython's inline support renders it, or None if empty.

    Same arguments as IPython.core.pylabtools.print_figure, so notebooks
    look the same on either kernel.
    """
    if not fig.axes and not fig.lines:
        return None  # an empty figure is shown as its text form only
    if fig.canvas is None:
        from matplotlib.backend_bases import FigureCanvasBase

        FigureCanvasBase(fig)
    buffer = io.BytesIO()
    fig.canvas.print_figure(
        buffer,
        format="png",
        facecolor=fig.get_facecolor(),
        edgecolor=fig.get_edgecolor(),
        dpi=fig.dpi,
        bbox_inches="tight",
    )
    return base64.b64encode(buffer.getvalue()).decode("ascii")
