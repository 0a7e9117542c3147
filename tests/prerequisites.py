"""Prints the Debian packages of the test tools and Python modules that are
missing, one per line ("package (what is missing)"), for meson setup."""
import importlib.util
import shutil
import sys

# What the suites drive, and the Debian package that brings it.
PROGRAMS = {
    "dbus-run-session": "dbus-daemon",
    "gdbus": "libglib2.0-bin",
    "gjs": "gjs",
    "gnome-shell": "gnome-shell",
    "blender": "blender",
    "xvfb-run": "xvfb",
    "xauth": "xauth",
    "tmux": "tmux",
    "jupyter-console": "jupyter-console",
    "jupyter-kernelspec": "jupyter-client",
    "gi-docgen": "gi-docgen",
    "msgfmt": "gettext",
}
MODULES = {
    "jupyter_client": "python3-jupyter-client",
    "jupyter_kernel_test": "python3-jupyter-kernel-test",
    "zmq": "python3-zmq",
    "nbclient": "python3-nbclient",
    "nbformat": "python3-nbformat",
    "ipykernel": "python3-ipykernel",
    "IPython": "python3-ipython",
    "ipywidgets": "python3-ipywidgets",
    "comm": "python3-comm",
    "jedi": "python3-jedi",
    "matplotlib": "python3-matplotlib",
    "gi": "python3-gi",
    "dbusmock": "python3-dbusmock",
    "PIL": "python3-pil",
}

missing = [
    "%s (%s)" % (package, name) for name, package in PROGRAMS.items() if shutil.which(name) is None
]
missing += [
    "%s (Python module %s)" % (package, name)
    for name, package in MODULES.items()
    if importlib.util.find_spec(name) is None
]
sys.stdout.write("".join(line + "\n" for line in missing))
