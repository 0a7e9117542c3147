"""Shared helpers for the `i18n` test suite.

Environment (set by tests/i18n/meson.build):
  BJ_SOURCE_ROOT    the source tree
  BJ_LOCALEDIR      the build tree's po/: <lang>/LC_MESSAGES/bpy-jupyter.mo, as the
                    built tools read it
  BJ_KERNEL_BINARY, BJ_CTL_BINARY   the built tools

A missing gettext tool is a failure, never a skip.
"""
import ast
import gettext
import os
import re
import shutil
import subprocess

DOMAIN = "bpy-jupyter"


def env_path(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError("%s is not set: run the suite with meson test --suite i18n" % name)
    if not os.path.exists(value):
        raise RuntimeError("%s=%s does not exist: build first" % (name, value))
    return value


SOURCE_ROOT = env_path("BJ_SOURCE_ROOT")
PO_DIR = os.path.join(SOURCE_ROOT, "po")


def program(name):
    path = shutil.which(name)
    if path is None:
        raise AssertionError("%s is missing (Debian: apt-get install gettext)" % name)
    return path


def languages():
    """LINGUAS, in order."""
    result = []
    with open(os.path.join(PO_DIR, "LINGUAS"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            result += line.split()
    return result


def catalogue(language):
    """The built catalogue of a language, as the tools load it."""
    path = os.path.join(env_path("BJ_LOCALEDIR"), language, "LC_MESSAGES", DOMAIN + ".mo")
    with open(path, "rb") as f:
        return gettext.GNUTranslations(f)


def utf8_locale(language):
    """A UTF-8 locale of `language` that glibc has here (Debian: locales-all), or
    C.UTF-8 where there is none."""
    try:
        names = subprocess.run(
            ["locale", "-a"], capture_output=True, text=True, timeout=30
        ).stdout.split()
    except OSError:
        names = []
    ours = sorted(
        name
        for name in names
        if re.match(r"^%s_[A-Z]{2}\.(utf8|UTF-8)$" % re.escape(language), name)
    )
    return ours[0] if ours else "C.UTF-8"


def environment(language):
    """An environment in which gettext picks `language`. LANGUAGE only counts in a
    locale other than C/POSIX; trixie's glibc (2.41, unlike bookworm's 2.36) counts
    C.UTF-8 as C there too. The language's own UTF-8 locale works in all."""
    env = dict(os.environ)
    for var in list(env):
        if var.startswith("LC_"):
            del env[var]
    env["LANG"] = env["LC_ALL"] = utf8_locale(language)
    env["LANGUAGE"] = language
    env["BJ_LOCALEDIR"] = env_path("BJ_LOCALEDIR")
    return env


def read_po(path):
    """The live entries of a .po or .pot file, in order: dicts with msgctxt (or
    None), msgid, msgid_plural (or None) and msgstr (a list: one per plural form).
    Entries are separated by blank lines, as the gettext tools write them; the
    header is the entry with the empty msgid."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    entries = []
    for block in text.split("\n\n"):
        fields = {}
        field = None
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue  # comments, flags, obsolete (#~) entries
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                field = match.group(1)
                fields[field] = ast.literal_eval(match.group(2))  # C escapes read as Python's
            elif line.startswith('"') and field is not None:
                fields[field] += ast.literal_eval(line)
            else:
                raise AssertionError("%s: cannot read the line %r" % (path, line))
        if "msgid" in fields:
            forms = sorted(
                (k for k in fields if k.startswith("msgstr")),
                key=lambda k: int(k[7:-1]) if "[" in k else 0,
            )
            entries.append(
                {
                    "msgctxt": fields.get("msgctxt"),
                    "msgid": fields["msgid"],
                    "msgid_plural": fields.get("msgid_plural"),
                    "msgstr": [fields[k] for k in forms],
                }
            )
    return entries
