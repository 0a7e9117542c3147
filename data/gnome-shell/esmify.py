#!/usr/bin/env python3
"""Turns a legacy `imports` module of the extension into an ES module (GNOME 45+).

esmify.py INPUT OUTPUT

The module keeps its single source: the line `const {A, B} = imports.gi;` becomes one
`import A from 'gi://A';` per name, and the names on the `// EXPORTS:` line are
exported at the end. Anything else that only works with legacy imports is an error.
"""

import re
import sys

GI_LINE = re.compile(r"^const \{([A-Za-z0-9_, ]+)\} = imports\.gi;$")
EXPORTS_LINE = re.compile(r"^// EXPORTS: ([A-Za-z0-9_ ]+)$")


def esmify(text, source):
    out = []
    exports = None
    gi_seen = False
    for number, line in enumerate(text.splitlines(), 1):
        gi = GI_LINE.match(line)
        exported = EXPORTS_LINE.match(line)
        if gi:
            gi_seen = True
            for name in (n.strip() for n in gi.group(1).split(",")):
                out.append("import %s from 'gi://%s';" % (name, name))
        elif exported:
            exports = exported.group(1).split()
            out.append("// Generated from %s by esmify.py: edit that file." % source)
        elif "imports." in line and not line.lstrip().startswith("//"):
            raise SystemExit(
                "%s:%d: legacy import the ESM port cannot follow: %s"
                % (source, number, line.strip())
            )
        else:
            out.append(line)
    if not gi_seen or not exports:
        raise SystemExit(
            "%s: needs a `const {...} = imports.gi;` line and an " "`// EXPORTS:` line" % source
        )
    out.append("")
    out.append("export {%s};" % ", ".join(exports))
    return "\n".join(out) + "\n"


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as f:
        text = f.read()
    with open(target, "w", encoding="utf-8") as f:
        f.write(esmify(text, source.rsplit("/", 1)[-1]))


if __name__ == "__main__":
    main()
