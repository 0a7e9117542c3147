#!/usr/bin/python3
"""The GIRs and libbpyjupyter-python-1.0, as built (suite 'gir').

Every public symbol is usable from bindings (nothing is marked introspectable="0").
The Python executor library never links libpython: every CPython symbol it uses is
left undefined and comes from the host process. It exports the executor's API only.
"""

import os
import re
import subprocess
import unittest
import xml.etree.ElementTree as ET

import gitest

CORE = "{http://www.gtk.org/introspection/core/1.0}"


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


class GirFilesTest(unittest.TestCase):
    def setUp(self):
        self.library = os.path.join(gitest.build_dir(), "libbpyjupyter-python-1.0.so.0")
        self.assertTrue(os.path.exists(self.library), self.library)

    def test_links_no_libpython(self):
        needed = re.findall(
            r"\(NEEDED\)\s+Shared library: \[(.+?)\]", run("readelf", "-d", self.library)
        )
        self.assertIn("libbpyjupyter-1.0.so.0", needed)
        self.assertFalse([lib for lib in needed if "python" in lib], needed)

    def test_python_symbols_come_from_the_host(self):
        # ldd -r resolves against the NEEDED libraries only: what stays undefined must
        # be CPython's C API, and there must be some (the library really uses it).
        report = subprocess.run(["ldd", "-r", self.library], capture_output=True, text=True)
        undefined = re.findall(r"undefined symbol: (\S+)", report.stdout + report.stderr)
        self.assertTrue(undefined, "no symbol is left for the host: is libpython linked?")
        strangers = [name for name in undefined if not re.match(r"_?Py", name)]
        self.assertEqual(strangers, [], "undefined symbols that no host Python provides")

    def test_exports_only_the_executor(self):
        exported = sorted(
            line.split()[-1]
            for line in run("nm", "-D", "--defined-only", self.library).splitlines()
            if line.split()[1] in ("T", "D", "B", "R")
        )
        self.assertEqual(
            exported,
            [
                "bj_python_executor_get_type",
                "bj_python_executor_new",
                "bj_python_executor_set_interrupt_with_signal",
            ],
        )

    def test_girs_name_their_own_library(self):
        for namespace, library in [
            ("BpyJupyter", "libbpyjupyter-1.0.so.0"),
            ("BpyJupyterPython", "libbpyjupyter-python-1.0.so.0"),
        ]:
            gir = ET.parse(os.path.join(gitest.build_dir(), f"{namespace}-1.0.gir"))
            (element,) = gir.getroot().iter(CORE + "namespace")
            self.assertEqual(element.get("name"), namespace)
            self.assertEqual(element.get("shared-library"), library)
            self.assertEqual(
                element.get("{http://www.gtk.org/introspection/c/1.0}identifier-prefixes"), "Bj"
            )
            self.assertEqual(
                element.get("{http://www.gtk.org/introspection/c/1.0}symbol-prefixes"), "bj"
            )

    def test_everything_is_introspectable(self):
        for namespace in ("BpyJupyter", "BpyJupyterPython"):
            gir = ET.parse(os.path.join(gitest.build_dir(), f"{namespace}-1.0.gir"))
            hidden = [
                element.get("name")
                for element in gir.getroot().iter()
                if element.get("introspectable") == "0"
            ]
            self.assertEqual(hidden, [], f"{namespace}: not usable from bindings")

    def test_async_pairs(self):
        gir = ET.parse(os.path.join(gitest.build_dir(), "BpyJupyter-1.0.gir"))
        methods = {m.get("name"): m for m in gir.getroot().iter(CORE + "method")}
        for name in ("start", "stop"):
            async_method = methods[name + "_async"]
            callback = [
                p for p in async_method.iter(CORE + "parameter") if p.get("name") == "callback"
            ][0]
            self.assertEqual(callback.get("scope"), "async")
            self.assertEqual(callback.find(CORE + "type").get("name"), "Gio.AsyncReadyCallback")
            self.assertEqual(methods[name + "_finish"].get("throws"), "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
