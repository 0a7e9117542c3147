#!/usr/bin/python3
"""A service's D-Bus error messages are in the service's language: a wrong-state
call to `bpy-jupyter-kernel --dbus` started under LANGUAGE=de gets German, with
the documented error name unchanged (clients match on names, people read the
messages); a service in English on the same bus still answers in English."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "dbus"))
import bjdbus  # noqa: E402  (re-runs this script on a private bus)
import bji18n  # noqa: E402


class GermanService(unittest.TestCase):
    def setUp(self):
        self.german = bjdbus.Service(env=bji18n.environment("de"))
        self.catalogue = bji18n.catalogue("de")

    def tearDown(self):
        self.assertEqual(self.german.terminate(), 0, self.german.stderr_text())

    def refused(self, code, call, *args):
        with self.assertRaises(bjdbus.DBusError) as caught:
            call(*args)
        self.assertEqual(caught.exception.name, bjdbus.ERROR_PREFIX + code, caught.exception)
        return caught.exception.message

    def test_wrong_state_in_german(self):
        name = self.german.name
        message = self.refused("NotRunning", bjdbus.stop, name)
        self.assertEqual(message, "Der Kernel läuft nicht")
        self.assertEqual(message, self.catalogue.gettext("The kernel is not running"))
        self.assertEqual(
            self.refused("NotRunning", bjdbus.interrupt, name), "Der Kernel läuft nicht"
        )

        path = bjdbus.start(name)
        self.assertEqual(
            self.refused("AlreadyRunning", bjdbus.start, name), "Der Kernel läuft bereits"
        )
        self.assertEqual(
            self.refused("NotBusy", bjdbus.interrupt, name),
            "Es läuft keine Zelle: Es gibt nichts zu unterbrechen",
        )
        reply, out = bjdbus.execute(path, "print('noch da')")
        self.assertEqual(reply["status"], "ok")
        self.assertIn("noch da", out)
        bjdbus.stop(name)

        # bpy-jupyter-ctl passes the service's message on, whatever its own language.
        result = bjdbus.ctl("stop", "--instance", name, env=bji18n.environment("fr"))
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertEqual(result.stderr, "Der Kernel läuft nicht\n")

    def test_english_service_alongside(self):
        english = bjdbus.Service(env={"LANGUAGE": "", "LC_ALL": "C.UTF-8"})
        try:
            self.assertEqual(
                self.refused("NotRunning", bjdbus.stop, english.name), "The kernel is not running"
            )
            self.assertEqual(
                self.refused("NotRunning", bjdbus.stop, self.german.name), "Der Kernel läuft nicht"
            )
        finally:
            self.assertEqual(english.terminate(), 0, english.stderr_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
