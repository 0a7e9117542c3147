#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lays out the add-on with its extension module and zips it.

    stage.py OUTPUT_ZIP STAGE_DIR MODULE_SO FILE...

STAGE_DIR/bpy_jupyter/ is what tests point Blender at (BLENDER_USER_SCRIPTS);
the zip installs through Preferences › Add-ons › Install in any Blender.
"""
import os
import shutil
import sys
import zipfile


def main(output_zip, stage_dir, module_so, *files):
    package = os.path.join(stage_dir, "addons", "bpy_jupyter")
    shutil.rmtree(package, ignore_errors=True)
    os.makedirs(package)
    for path in files + (module_so,):
        shutil.copy2(path, package)
    with zipfile.ZipFile(output_zip + ".tmp", "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(os.listdir(package)):
            archive.write(os.path.join(package, name), os.path.join("bpy_jupyter", name))
    os.replace(output_zip + ".tmp", output_zip)


if __name__ == "__main__":
    main(*sys.argv[1:])
