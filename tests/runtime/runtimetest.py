"""Imports the runtime's pure modules in-process, from the source tree.

src/python/bj_runtime/ is imported as the namespace package ``bj_runtime``: the
same files the kernel embeds, without a kernel (the session module, which needs
one, is never imported here).
"""
import os
import sys

_SOURCE = os.environ.get("BJ_RUNTIME_SOURCE") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "python"
)
sys.path.insert(0, os.path.abspath(_SOURCE))
