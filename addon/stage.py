#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lays out the add-on with its extension module and zips it, twice.

    stage.py LEGACY_ZIP EXTENSION_ZIP STAGE_DIR BLENDER MODULE_SO FILE...

STAGE_DIR/addons/bpy_jupyter/ is what tests and scripts/run point Blender at
(BLENDER_USER_SCRIPTS), and what the headless-Blender kernelspec runs from a build tree.

LEGACY_ZIP holds the bpy_jupyter/ folder: Preferences › Add-ons › Install in Blender
3.x (bl_info), "Install legacy Add-on" in 4.2+.

EXTENSION_ZIP is the Blender 4.2+ extension (blender_manifest.toml at the top).
BLENDER, a Blender 4.2 or later, builds it with `blender --command extension build`,
which validates the manifest as extensions.blender.org does; BLENDER "-" (none, or
an older one) zips the same files here in the same layout, and the blender suite
validates that zip wherever a Blender 4.2+ runs it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile


def write_zip(output, package, prefix):
    with zipfile.ZipFile(output + ".tmp", "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(os.listdir(package)):
            archive.write(os.path.join(package, name), os.path.join(prefix, name))
    os.replace(output + ".tmp", output)


def build_with_blender(blender, package, output):
    # A private HOME: building must neither read nor write the user's Blender settings.
    with tempfile.TemporaryDirectory(prefix="bpy-jupyter-stage-") as home:
        env = dict(os.environ, HOME=home, PYTHONDONTWRITEBYTECODE="1")
        env.pop("BLENDER_USER_SCRIPTS", None)
        result = subprocess.run(
            [
                blender,
                "--factory-startup",
                "--command",
                "extension",
                "build",
                "--source-dir",
                package,
                "--output-filepath",
                output + ".tmp.zip",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    if result.returncode != 0 or not os.path.isfile(output + ".tmp.zip"):
        sys.exit("blender --command extension build failed:\n" + result.stdout)
    os.replace(output + ".tmp.zip", output)


def main(legacy_zip, extension_zip, stage_dir, blender, module_so, *files):
    package = os.path.join(stage_dir, "addons", "bpy_jupyter")
    shutil.rmtree(package, ignore_errors=True)
    os.makedirs(package)
    for path in files + (module_so,):
        shutil.copy2(path, package)
    write_zip(legacy_zip, package, "bpy_jupyter")
    if blender != "-":
        build_with_blender(blender, package, extension_zip)
    else:
        write_zip(extension_zip, package, "")


if __name__ == "__main__":
    main(*sys.argv[1:])
