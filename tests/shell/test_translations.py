"""The indicator speaks the user's language: in a real headless GNOME Shell in a
German locale (de_DE.UTF-8), the extension binds its gettext domain (`bpy-jupyter`, from
metadata.json) to the locale folder its metadata names — the install prefix's, as
installed — and its menu shows the translations found there, plural forms included.

The catalogue is the project's own German one (po/de.po), as this build compiled
it (BJ_LOCALEDIR, the build's po/ folder).
"""

import locale
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjshell  # noqa: E402  (re-runs this script on a private session bus)
from bjshell import bjdbus  # noqa: E402

EXTENSION_DIR = bjshell.extension_dir()
INDICATOR = "Main.extensionManager.lookup('%s').stateObj.indicator" % bjshell.UUID
GERMAN = "de_DE.UTF-8"


class Translations(unittest.TestCase):
    def test_german_menu(self):
        locale_dir = bjdbus.env_path("BJ_LOCALEDIR")
        catalogue = os.path.join(locale_dir, "de", "LC_MESSAGES", "bpy-jupyter.mo")
        self.assertTrue(os.path.isfile(catalogue), "no German catalogue at %s" % catalogue)
        self.assertFalse(
            os.path.exists(os.path.join(EXTENSION_DIR, "locale")),
            "the staged extension has no locale/ folder: the metadata's is used",
        )
        # A German locale, not only LANGUAGE=de: under LC_ALL=C.UTF-8, trixie's and
        # sid's glibc (2.41) ignore LANGUAGE as they do for C, and Shell 48 and 51
        # show even their own strings in English (bookworm's 2.36 translated).
        try:
            locale.setlocale(locale.LC_MESSAGES, GERMAN)
        except locale.Error:
            self.fail("no %s locale (Debian: apt-get install locales-all)" % GERMAN)
        finally:
            locale.setlocale(locale.LC_MESSAGES, "")
        shell = bjshell.Shell(
            EXTENSION_DIR,
            env={"LANGUAGE": "de", "LANG": GERMAN, "LC_ALL": GERMAN},
            metadata={"bpy-jupyter-localedir": locale_dir},
        )
        try:
            shell.enable_extension()
            shell.wait_extension_enabled()
            service = bjdbus.Service()
            shell.wait_eval(INDICATOR + ".describe().state", 10, "a host", expected="stopped")
            [host] = shell.eval(INDICATOR + ".describe()")["hosts"]
            self.assertEqual(host["items"]["startStop"]["label"], "Starten")
            self.assertEqual(
                host["items"]["copyPath"]["label"], "Pfad der Verbindungsdatei kopieren"
            )
            self.assertEqual(host["items"]["restart"]["label"], "Neu starten")
            self.assertEqual(host["title"], host["host"] + " — beendet")
            self.assertEqual(host["detail"], "Kein Dokument · 0 Ausführungen")

            path = bjdbus.start(service.name)
            # The host's own state: the icon's summary counts "starting" as idle.
            shell.wait_eval(INDICATOR + ".describe().hosts[0].state", 10, "idle", expected="idle")
            reply, _ = bjdbus.execute(path, "1")
            self.assertEqual(reply["status"], "ok")
            shell.wait_eval(
                INDICATOR + ".describe().hosts[0].detail",
                10,
                "one execution",
                expected="Kein Dokument · 1 Ausführung",
            )
            host = shell.eval(INDICATOR + ".describe()")["hosts"][0]
            self.assertEqual(host["items"]["startStop"]["label"], "Beenden")
            self.assertEqual(host["title"], host["host"] + " — bereit")
            bjdbus.stop(service.name)
            self.assertEqual(service.terminate(), 0, service.stderr_text())
            shell.wait_eval(INDICATOR + ".describe().state", 10, "no host", expected="none")
        finally:
            shell.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
