#!/usr/bin/python3
"""The built tools speak the user's language: `--help` (summary, option
descriptions, the command list) and their own error messages, in every language
of po/LINGUAS, and German in words a German reader expects."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bji18n  # noqa: E402

CTL = bji18n.env_path("BJ_CTL_BINARY")
KERNEL = bji18n.env_path("BJ_KERNEL_BINARY")

CTL_HELP_MSGIDS = [
    "Control the bpy-jupyter kernels on the session bus: Blender with the\n"
    "bpy-jupyter add-on, and bpy-jupyter-kernel --dbus services.",
    "The kernel to act on: a bus name, Instance<pid> or a pid",
    "Print the version and exit",
]
KERNEL_HELP_MSGIDS = [
    "A native Jupyter kernel that runs Python.",
    "Install the “bpy-jupyter-python” kernelspec and exit",
    "With --install or --install-blender: install for the current user only",
]


def run(argv, language):
    env = (
        bji18n.environment(language)
        if language
        else dict(os.environ, LANGUAGE="", LC_ALL="C.UTF-8")
    )
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)


class Tools(unittest.TestCase):
    def check_help(self, argv, msgids):
        english = run(argv + ["--help"], None)
        self.assertEqual(english.returncode, 0, english.stderr)
        for msgid in msgids:
            self.assertIn(msgid, english.stdout)
        for language in bji18n.languages():
            with self.subTest(program=os.path.basename(argv[0]), language=language):
                catalogue = bji18n.catalogue(language)
                result = run(argv + ["--help"], language)
                self.assertEqual(result.returncode, 0, result.stderr)
                for msgid in msgids:
                    translated = catalogue.gettext(msgid)
                    self.assertNotEqual(
                        translated, msgid, "%s has no translation of %r" % (language, msgid)
                    )
                    self.assertIn(translated, result.stdout)
                    self.assertNotIn(msgid, result.stdout)

    def test_ctl_help(self):
        self.check_help([CTL], CTL_HELP_MSGIDS)

    def test_kernel_help(self):
        self.check_help([KERNEL], KERNEL_HELP_MSGIDS)

    def test_ctl_help_in_german(self):
        result = run([CTL, "--help"], "de")
        self.assertEqual(result.returncode, 0, result.stderr)
        for text in (
            "Die bpy-jupyter-Kernel am Sitzungsbus steuern",
            "Die Version ausgeben und beenden",
            "Befehle:",
            "  stop        Einen Kernel beenden",
            "Exit-Status:",
        ):
            self.assertIn(text, result.stdout)
        self.assertNotIn("Print the version", result.stdout)
        self.assertNotIn("Commands:", result.stdout)

    def test_usage_errors(self):
        result = run([CTL, "frobnicate"], None)
        self.assertEqual(result.returncode, 2)
        self.assertIn("Unknown command “frobnicate”.", result.stderr)
        result = run([CTL, "frobnicate"], "de")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr,
            "Unbekannter Befehl „frobnicate“.\n" "Mit --help werden die Befehle angezeigt.\n",
        )
        result = run([KERNEL, "--idle-timeout", "5"], "fr")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr, "--idle-timeout ne s’emploie qu’avec --dbus\n")
        result = run([KERNEL, "--user"], "ja")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr, "--user と --prefix は --install か --install-blender と一緒にのみ使えます\n"
        )


if __name__ == "__main__":
    unittest.main(verbosity=2)
