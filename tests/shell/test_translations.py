"""The indicator speaks the user's language: in a real headless GNOME Shell with
LANGUAGE=de, the extension binds its gettext domain (`bpy-jupyter`, from
metadata.json) to the locale folder its metadata names — the install prefix's, as
installed — and its menu shows the translations found there, plural forms included.

The catalogue is the project's own German one (po/de.po), as this build compiled
it (BJ_LOCALEDIR, the build's po/ folder).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjshell  # noqa: E402  (re-runs this script on a private session bus)
from bjshell import bjdbus  # noqa: E402

EXTENSION_DIR = bjdbus.env_path("BJ_SHELL_EXTENSION_DIR")
INDICATOR = "Main.extensionManager.lookup('%s').stateObj.indicator" % bjshell.UUID



class Translations(unittest.TestCase):
    def test_german_menu(self):
        locale_dir = bjdbus.env_path("BJ_LOCALEDIR")
        catalogue = os.path.join(locale_dir, "de", "LC_MESSAGES", "bpy-jupyter.mo")
        self.assertTrue(os.path.isfile(catalogue), "no German catalogue at %s" % catalogue)
        self.assertFalse(os.path.exists(os.path.join(EXTENSION_DIR, "locale")),
                         "the staged extension has no locale/ folder: the metadata's is used")
        shell = bjshell.Shell(EXTENSION_DIR, env={"LANGUAGE": "de"},
                              metadata={"bpy-jupyter-localedir": locale_dir})
        try:
            shell.enable_extension()
            shell.wait_eval("Main.extensionManager.lookup('%s').state" % bjshell.UUID, 10,
                            "the extension enabled", expected=1)
            service = bjdbus.Service()
            shell.wait_eval(INDICATOR + ".describe().state", 10, "a host", expected="stopped")
            [host] = shell.eval(INDICATOR + ".describe()")["hosts"]
            self.assertEqual(host["items"]["startStop"]["label"], "Starten")
            self.assertEqual(host["items"]["copyPath"]["label"], "Pfad der Verbindungsdatei kopieren")
            self.assertEqual(host["items"]["restart"]["label"], "Neu starten")
            self.assertEqual(host["title"], host["host"] + " — beendet")
            self.assertEqual(host["detail"], "Kein Dokument · 0 Ausführungen")

            path = bjdbus.start(service.name)
            shell.wait_eval(INDICATOR + ".describe().state", 10, "idle", expected="idle")
            reply, _ = bjdbus.execute(path, "1")
            self.assertEqual(reply["status"], "ok")
            shell.wait_eval(INDICATOR + ".describe().hosts[0].detail", 10, "one execution",
                            expected="Kein Dokument · 1 Ausführung")
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
