/* bj-module-connection-info.h: _bpy_jupyter.ConnectionInfo, where a kernel listens
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <Python.h>
#include <bpyjupyter.h>

G_BEGIN_DECLS

/* The ConnectionInfo type of module (a new reference). */
PyObject *bj_module_connection_info_type_new (PyObject         *module);
/* A ConnectionInfo of type that owns info (freed with it, or at once on failure). */
PyObject *bj_module_connection_info_wrap     (PyObject         *type,
                                              BjConnectionInfo *info);

G_END_DECLS
