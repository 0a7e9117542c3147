"""The indicator speaks the user's language: in a real headless GNOME Shell with
LANGUAGE=de, the extension binds its gettext domain (`bpy-jupyter`, from
metadata.json) to the locale folder its metadata names — the install prefix's, as
installed — and its menu shows the translations found there, plural forms included.

The catalogue is a small German one compiled here with msgfmt (the project's own
po/ may not translate these strings yet); what is tested is the extension's side:
strings marked for gettext, the domain, and where it is bound.
"""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjshell  # noqa: E402  (re-runs this script on a private session bus)
from bjshell import bjdbus  # noqa: E402

EXTENSION_DIR = bjdbus.env_path("BJ_SHELL_EXTENSION_DIR")
INDICATOR = "Main.extensionManager.lookup('%s').stateObj.indicator" % bjshell.UUID

GERMAN = r'''
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

msgid "Start"
msgstr "Starten"

msgid "Stop"
msgstr "Anhalten"

msgid "stopped"
msgstr "angehalten"

msgid "idle"
msgstr "bereit"

msgid "No document"
msgstr "Kein Dokument"

msgid "%d execution"
msgid_plural "%d executions"
msgstr[0] "%d Ausführung"
msgstr[1] "%d Ausführungen"

msgid "Copy connection file path"
msgstr "Pfad der Verbindungsdatei kopieren"
'''


class Translations(unittest.TestCase):
    def test_german_menu(self):
        msgfmt = shutil.which("msgfmt")
        if msgfmt is None:
            self.fail("msgfmt is missing (Debian: apt-get install gettext)")
        locale_dir = bjdbus.tmp_path("locale")
        messages = os.path.join(locale_dir, "de", "LC_MESSAGES")
        os.makedirs(messages)
        po = bjdbus.tmp_path("de.po")
        with open(po, "w", encoding="utf-8") as f:
            f.write(GERMAN)
        subprocess.run([msgfmt, "--check", "-o", os.path.join(messages, "bpy-jupyter.mo"), po],
                       check=True)

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
            self.assertEqual(host["items"]["restart"]["label"], "Restart", "untranslated stays English")
            self.assertEqual(host["title"], host["host"] + " — angehalten")
            self.assertEqual(host["detail"], "Kein Dokument · 0 Ausführungen")

            path = bjdbus.start(service.name)
            shell.wait_eval(INDICATOR + ".describe().state", 10, "idle", expected="idle")
            reply, _ = bjdbus.execute(path, "1")
            self.assertEqual(reply["status"], "ok")
            shell.wait_eval(INDICATOR + ".describe().hosts[0].detail", 10, "one execution",
                            expected="Kein Dokument · 1 Ausführung")
            host = shell.eval(INDICATOR + ".describe()")["hosts"][0]
            self.assertEqual(host["items"]["startStop"]["label"], "Anhalten")
            self.assertEqual(host["title"], host["host"] + " — bereit")
            bjdbus.stop(service.name)
            self.assertEqual(service.terminate(), 0, service.stderr_text())
            shell.wait_eval(INDICATOR + ".describe().state", 10, "no host", expected="none")
        finally:
            shell.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
