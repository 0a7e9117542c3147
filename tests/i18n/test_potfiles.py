#!/usr/bin/python3
"""po/POTFILES.in names exactly the source files with translatable strings, sorted,
and every catalogue holds exactly the messages those files have today."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bji18n  # noqa: E402

# Where translatable strings live: C (library, tools), the Blender add-on (Python)
# and the GNOME Shell extension (JavaScript).
SEARCHED = ("src", "addon", "data/gnome-shell")
EXTENSIONS = (".c", ".h", ".py", ".js")

# A marker opening on a string literal: _("…"), N_(…), C_("ctx", …), NC_(…),
# ngettext/pgettext (Python, GJS) and GLib's g_dngettext (GETTEXT_PACKAGE, "…").
MARKER = re.compile(
    r"""(?<![\w.])(?:_|N_|C_|NC_|ngettext|pgettext)\(\s*["'`]"""
    r"""|\bg_dngettext\s*\(\s*GETTEXT_PACKAGE\s*,\s*["]"""
)

# The keywords of meson's glib preset (po/meson.build), for an xgettext run of our own.
XGETTEXT_KEYWORDS = [
    "_",
    "N_",
    "C_:1c,2",
    "NC_:1c,2",
    "g_dcgettext:2",
    "g_dngettext:2,3",
    "g_dpgettext2:2c,3",
]


def potfiles():
    with open(os.path.join(bji18n.PO_DIR, "POTFILES.in"), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def marked_files():
    found = []
    for top in SEARCHED:
        for folder, dirs, files in os.walk(os.path.join(bji18n.SOURCE_ROOT, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in files:
                if not name.endswith(EXTENSIONS):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    if MARKER.search(f.read()):
                        found.append(os.path.relpath(path, bji18n.SOURCE_ROOT))
    return sorted(found)


class Potfiles(unittest.TestCase):
    def test_sorted_and_unique(self):
        listed = potfiles()
        self.assertEqual(listed, sorted(listed), "po/POTFILES.in is not sorted")
        self.assertEqual(len(set(listed)), len(listed), "po/POTFILES.in repeats a file")

    def test_matches_the_markers_in_the_sources(self):
        listed = potfiles()
        for path in listed:
            self.assertTrue(
                os.path.isfile(os.path.join(bji18n.SOURCE_ROOT, path)),
                "po/POTFILES.in names %s, which does not exist" % path,
            )
        marked = marked_files()
        self.assertIn("src/tools/bpy-jupyter-ctl.c", marked, "the marker search finds nothing")
        self.assertIn("addon/bpy_jupyter/panels.py", marked, "the marker search misses Python")
        self.assertEqual(
            sorted(set(marked) - set(listed)),
            [],
            "files with translatable strings missing from po/POTFILES.in",
        )
        self.assertEqual(
            sorted(set(listed) - set(marked)),
            [],
            "po/POTFILES.in names files without translatable strings",
        )

    def test_catalogues_are_current(self):
        xgettext = bji18n.program("xgettext")
        with tempfile.TemporaryDirectory() as tmp:
            pot = os.path.join(tmp, "current.pot")
            subprocess.run(
                [
                    xgettext,
                    "--from-code=UTF-8",
                    "--package-name=bpy-jupyter",
                    "-D",
                    bji18n.SOURCE_ROOT,
                    "-f",
                    os.path.join(bji18n.PO_DIR, "POTFILES.in"),
                    "-o",
                    pot,
                ]
                + ["--keyword=" + k for k in XGETTEXT_KEYWORDS],
                check=True,
                capture_output=True,
                text=True,
            )
            current = self.messages(pot)
        self.assertGreater(len(current), 100)
        for language in bji18n.languages():
            with self.subTest(language=language):
                messages = self.messages(os.path.join(bji18n.PO_DIR, language + ".po"))
                missing = sorted(current - messages)
                stale = sorted(messages - current)
                self.assertEqual(
                    missing,
                    [],
                    "po/%s.po lacks messages of the sources: run "
                    "`meson compile -C build bpy-jupyter-update-po` and translate "
                    "them" % language,
                )
                self.assertEqual(
                    stale, [], "po/%s.po has messages the sources no longer have" % language
                )

    @staticmethod
    def messages(path):
        return {
            (e["msgctxt"], e["msgid"], e["msgid_plural"])
            for e in bji18n.read_po(path)
            if e["msgid"]
        }


if __name__ == "__main__":
    unittest.main(verbosity=2)
