#!/usr/bin/python3
"""Every catalogue in po/LINGUAS is complete and valid: `msgfmt --check --statistics`
passes with no fuzzy and no untranslated message, the plural forms are those of
the language, and translations are not English copied over."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bji18n  # noqa: E402

# nplurals as gettext's own tables have them; a language missing here must only
# declare some Plural-Forms.
NPLURALS = {"de": 2, "es": 2, "fr": 2, "ja": 1}

# Technical words (Transport, HOST, Version) may read the same in a language; a
# catalogue that is largely English is not translated.
MAX_SAME_AS_ENGLISH = 0.05


class Catalogues(unittest.TestCase):
    def test_linguas(self):
        languages = bji18n.languages()
        self.assertTrue(languages, "po/LINGUAS lists no language")
        self.assertEqual(len(set(languages)), len(languages), "po/LINGUAS repeats a language")
        for language in ("de", "es", "fr", "ja"):
            self.assertIn(language, languages)
        for language in languages:
            self.assertTrue(
                os.path.isfile(os.path.join(bji18n.PO_DIR, language + ".po")),
                "po/LINGUAS lists %s but po/%s.po is missing" % (language, language),
            )

    def test_msgfmt_check_statistics(self):
        msgfmt = bji18n.program("msgfmt")
        for language in bji18n.languages():
            with self.subTest(language=language):
                path = os.path.join(bji18n.PO_DIR, language + ".po")
                result = subprocess.run(
                    [msgfmt, "--check", "--statistics", "-o", os.devnull, path],
                    capture_output=True,
                    text=True,
                )
                report = result.stdout + result.stderr
                self.assertEqual(result.returncode, 0, report)
                self.assertRegex(report, r"\b\d+ translated messages?\b", report)
                self.assertNotIn("fuzzy", report)
                self.assertNotIn("untranslated", report)

    def test_headers_and_plural_forms(self):
        for language in bji18n.languages():
            with self.subTest(language=language):
                entries = bji18n.read_po(os.path.join(bji18n.PO_DIR, language + ".po"))
                self.assertEqual(
                    entries[0]["msgid"], "", "po/%s.po does not start with its header" % language
                )
                header = entries[0]["msgstr"][0]
                self.assertIn("Language: %s\n" % language, header)
                self.assertIn("charset=UTF-8", header)
                match = re.search(r"^Plural-Forms: nplurals=(\d+); plural=[^;\n]+;$", header, re.M)
                self.assertIsNotNone(match, "po/%s.po has no Plural-Forms header" % language)
                nplurals = int(match.group(1))
                if language in NPLURALS:
                    self.assertEqual(nplurals, NPLURALS[language], "Plural-Forms of %s" % language)
                plurals = [e for e in entries[1:] if e["msgid_plural"] is not None]
                self.assertTrue(
                    plurals, "no message has plural forms: the test would prove nothing"
                )
                for entry in plurals:
                    self.assertEqual(
                        len(entry["msgstr"]), nplurals, "%s: %r" % (language, entry["msgid"])
                    )
                    self.assertTrue(all(entry["msgstr"]), "%s: %r" % (language, entry["msgid"]))

    def test_not_english(self):
        for language in bji18n.languages():
            with self.subTest(language=language):
                entries = bji18n.read_po(os.path.join(bji18n.PO_DIR, language + ".po"))[1:]
                same = [e["msgid"] for e in entries if e["msgstr"] == [e["msgid"]]]
                self.assertLessEqual(
                    len(same),
                    MAX_SAME_AS_ENGLISH * len(entries),
                    "%s: too many messages left in English: %r" % (language, same),
                )


if __name__ == "__main__":
    unittest.main(verbosity=2)
