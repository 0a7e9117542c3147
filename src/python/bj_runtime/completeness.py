"""is_complete: whether a console should run the code typed so far.

Pure: tested in-process.
"""

import ast
import io
import re
import tokenize

from .boundary import LazyModule

codeop = LazyModule("codeop")


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


def _completeness(code, future_flags=0):
    """{"status": ...} for code; future_flags are the __future__ flags in effect."""
    if not code.strip() or _help_query(code) is not None:
        return {"status": "complete"}
    compiler = codeop.CommandCompiler()
    compiler.compiler.flags |= future_flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
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
