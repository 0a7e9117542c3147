#!/usr/bin/python3
"""A program using the library through GObject Introspection gets its errors in
the user's language without binding the `bpy-jupyter` domain itself: the library
binds it on first use (src/bj-i18n.c). Run in a child so that the language is set
before anything is translated."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bji18n  # noqa: E402

CHILD = r'''
import locale
locale.setlocale(locale.LC_ALL, "")  # what any GUI program does first
import gi
gi.require_version("BpyJupyter", "1.0")
from gi.repository import BpyJupyter, GLib
try:
    BpyJupyter.ConnectionInfo.new_from_json("{", -1)
except GLib.Error as error:
    print(error.message)
'''


class LibraryThroughGI(unittest.TestCase):
    def error_in(self, language):
        env = (
            bji18n.environment(language)
            if language
            else dict(os.environ, LANGUAGE="", LC_ALL="C.UTF-8")
        )
        child = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=60
        )
        self.assertEqual(child.returncode, 0, child.stderr)
        return child.stdout.strip()

    def test_errors_follow_the_language(self):
        self.assertTrue(self.error_in(None).startswith("Not valid JSON: "), self.error_in(None))
        for language, expected in (
            ("de", "Kein gültiges JSON: "),
            ("fr", bji18n.catalogue("fr").gettext("Not valid JSON: %s").split("%s")[0]),
        ):
            with self.subTest(language=language):
                self.assertTrue(
                    self.error_in(language).startswith(expected), self.error_in(language)
                )


if __name__ == "__main__":
    unittest.main(verbosity=2)
