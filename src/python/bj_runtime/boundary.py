"""JSON text for the C boundary, and the helpers every module shares.

The C side never walks Python objects: requests and replies cross as JSON
text, which must be strict JSON and valid UTF-8 whatever a cell produced.
Pure: imports nothing of the kernel, so it is tested in-process.
"""

import importlib
import json
import math


class LazyModule:
    """A module imported the first time one of its names is used.

    These are costly to import (asyncio alone takes tens of milliseconds and
    ~10 MB) and a kernel may never need them: a kernel must be ready and small at
    once, inside Blender as much as standalone.
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        module = importlib.import_module(self._name)
        return getattr(module, attr)


base64 = LazyModule("base64")


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

    ASCII output first: CPython escapes a string four times faster for it
    (a 1.4 MB base64 image: 5 ms against 20), and it is valid UTF-8 as it
    stands.  Surrogates show there as "\\ud..." escapes, lone or paired (any
    character beyond the BMP); only then is the slower exact path taken.
    """
    try:
        text = json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError, OverflowError, RecursionError):
        obj = _jsonable(obj)
        text = json.dumps(obj, allow_nan=False)
    if "\\ud" not in text:
        return text
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


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
