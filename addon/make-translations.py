#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Turns the bpy-jupyter catalogues into the add-on's `translations` module.

    make-translations.py OUTPUT.py LANG.po...

Blender does not read .mo files of add-ons: it takes a dict
{blender_locale: {(msgctxt, msgid): msgstr}} through bpy.app.translations.register().
This builds that dict from po/*.po at build time, keeping only the messages the
add-on itself uses (those with a reference under addon/) and only finished
translations (no fuzzy, no empty, no plural: Blender has no plural forms).
"""
import ast
import os
import sys

# bpy.app.translations.locales of Blender 3.4 (4.x adds to it, keeping these).
BLENDER_LOCALES = (
    "en_US",
    "es",
    "fr_FR",
    "ja_JP",
    "sk_SK",
    "vi_VN",
    "zh_CN",
    "cs_CZ",
    "de_DE",
    "it_IT",
    "ko_KR",
    "pt_BR",
    "pt_PT",
    "ru_RU",
    "uk_UA",
    "zh_TW",
    "ab",
    "ar_EG",
    "ca_AD",
    "eo",
    "eu_EU",
    "fa_IR",
    "fi_FI",
    "ha",
    "he_IL",
    "hi_IN",
    "hr_HR",
    "hu_HU",
    "id_ID",
    "ka",
    "ky_KG",
    "nl_NL",
    "pl_PL",
    "sr_RS",
    "sr_RS@latin",
    "sv_SE",
    "th_TH",
    "tr_TR",
)

# Blender's own default context: what bpy means by "no context".
DEFAULT_CONTEXT = "*"


def blender_locale(language):
    """The Blender locale of a catalogue: de → de_DE, es → es, pt_BR → pt_BR."""
    if language in BLENDER_LOCALES:
        return language
    matches = [loc for loc in BLENDER_LOCALES if loc.split("_")[0].split("@")[0] == language]
    if len(matches) != 1:
        raise SystemExit(
            "make-translations.py: no single Blender locale for the catalogue "
            "%r (candidates: %s); name the .po after one of %s"
            % (language, matches or "none", ", ".join(BLENDER_LOCALES))
        )
    return matches[0]


def parse_po(path):
    """Yields one dict per entry: msgctxt, msgid, msgid_plural, msgstr ({index: text}),
    references, flags. Entries are separated by blank lines, as gettext writes them."""
    with open(path, encoding="utf-8") as f:
        blocks = f.read().split("\n\n")
    for block in blocks:
        entry = {
            "msgctxt": None,
            "msgid": None,
            "msgid_plural": None,
            "msgstr": {},
            "references": [],
            "flags": set(),
        }
        field = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#~") or not line:
                continue  # obsolete
            if line.startswith("#:"):
                entry["references"] += line[2:].split()
            elif line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                if field is None:
                    raise SystemExit("%s: a string outside any field in:\n%s" % (path, block))
                if isinstance(field, int):
                    entry["msgstr"][field] += ast.literal_eval(line)
                else:
                    entry[field] += ast.literal_eval(line)
            else:
                keyword, _, value = line.partition(" ")
                if keyword.startswith("msgstr["):
                    field = int(keyword[len("msgstr[") : -1])
                    entry["msgstr"][field] = ast.literal_eval(value)
                elif keyword == "msgstr":
                    field = 0
                    entry["msgstr"][0] = ast.literal_eval(value)
                elif keyword in ("msgctxt", "msgid", "msgid_plural"):
                    field = keyword
                    entry[field] = ast.literal_eval(value)
                else:
                    raise SystemExit("%s: unknown keyword %r in:\n%s" % (path, keyword, block))
        if entry["msgid"] is not None:
            yield entry


def addon_messages(path):
    messages = {}
    for entry in parse_po(path):
        if entry["msgid"] == "" or entry["msgid_plural"] is not None:
            continue
        if "fuzzy" in entry["flags"]:
            continue
        if not any(ref.startswith("addon/") for ref in entry["references"]):
            continue
        msgstr = entry["msgstr"].get(0, "")
        if msgstr:
            messages[(entry["msgctxt"] or DEFAULT_CONTEXT, entry["msgid"])] = msgstr
    return messages


def main(output, *po_files):
    translations = {}
    for path in po_files:
        language = os.path.splitext(os.path.basename(path))[0]
        translations[blender_locale(language)] = addon_messages(path)

    lines = [
        "# Generated from po/*.po by addon/make-translations.py at build time: do not edit.",
        "# {Blender locale: {(context, message): translation}} for bpy.app.translations.",
        "TRANSLATIONS = {",
    ]
    for locale in sorted(translations):
        lines.append("    %r: {" % locale)
        for key in sorted(translations[locale]):
            lines.append("        %r: %r," % (key, translations[locale][key]))
        lines.append("    },")
    lines.append("}")
    with open(output + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(output + ".tmp", output)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
