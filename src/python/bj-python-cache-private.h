/* bj-python-cache-private.h: the runtime's bytecode cache
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <Python.h>
#include <glib.h>

G_BEGIN_DECLS

/* A tuple of the code objects of the n sources, each compiled as its filename:
 * from the cache in $XDG_CACHE_HOME/bpy-jupyter when a file there matches them
 * all exactly, else compiled and cached. NULL with a Python error set if one does
 * not compile. Needs the GIL. */
PyObject *bj_python_compile_cached (GBytes * const     *sources,
                                    const char * const *filenames,
                                    guint               n);

G_END_DECLS
