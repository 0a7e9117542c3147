"""Helpers shared by the gir tests (suite 'gir').

The tests run under /usr/bin/python3 with GI_TYPELIB_PATH at build/introspection and
LD_LIBRARY_PATH at build/src and build/introspection (set by meson). A missing
typelib, PyGObject, gjs or jupyter_client is a failure, never a skip.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(SOURCE_ROOT, "introspection", "examples")
CLIENT = os.path.join(HERE, "giclient.py")
PYTHON = sys.executable
TIMEOUT = 60


def build_dir():
    """The introspection build folder the environment points at."""
    path = os.environ.get("BJ_GIR_BUILD_DIR")
    if not path:
        raise RuntimeError("BJ_GIR_BUILD_DIR is not set: run the gir tests through meson test")
    return path


def import_gi(*namespaces):
    """Imports the BpyJupyter namespaces from the build tree, checking that they are
    the build's typelibs and not an installed copy."""
    import gi

    from gi import _gi

    gi.require_version("GLib", "2.0")
    gi.require_version("GObject", "2.0")
    gi.require_version("Gio", "2.0")
    for namespace in namespaces:
        gi.require_version(namespace, "1.0")

    modules = [__import__("gi.repository." + ns, fromlist=[ns]) for ns in namespaces]
    # The repository PyGObject itself loads from. Not GIRepository-2.0's default:
    # PyGObject 3.52 on (sid) is built on GIRepository-3.0, which has no such
    # namespace version, and whose default repository is not PyGObject's.
    repository = _gi.Repository.get_default()
    for namespace in namespaces:
        typelib = repository.get_typelib_path(namespace)
        if os.path.dirname(os.path.realpath(typelib)) != os.path.realpath(build_dir()):
            raise RuntimeError(f"{namespace} came from {typelib}, not from the build tree")
    return modules


def client_command(connection_file, steps):
    return [PYTHON, CLIENT, connection_file, json.dumps(steps)]


def run_client(connection_file, steps, timeout=TIMEOUT):
    """Runs giclient.py against a kernel in another process; returns its results."""
    done = subprocess.run(
        client_command(connection_file, steps), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise AssertionError(f"client failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def wait_for_file(path, process, timeout=TIMEOUT):
    """Waits until a kernel process wrote its connection file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                try:
                    info = json.load(f)
                except ValueError:
                    info = None
            if info and info.get("shell_port"):
                return info
        if process.poll() is not None:
            raise AssertionError(
                f"the kernel exited with {process.returncode} before it was ready:\n"
                f"{process.stderr.read() if process.stderr else ''}"
            )
        time.sleep(0.02)
    raise AssertionError(f"{path} did not appear within {timeout} s")


def of_type(iopub, msg_type):
    return [content for kind, content in iopub if kind == msg_type]


def stream_text(iopub, name="stdout"):
    return "".join(c["text"] for c in of_type(iopub, "stream") if c["name"] == name)


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="bj-gir-")
        self.tmp = self._tmp.name
        # Keep every kernel's files in the test's own folder.
        os.environ["JUPYTER_RUNTIME_DIR"] = self.tmp

    def tearDown(self):
        self._tmp.cleanup()
