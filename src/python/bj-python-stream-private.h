/* bj-python-stream-private.h: sys.stdout and sys.stderr of a running cell
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <Python.h>
#include <bpyjupyter.h>

G_BEGIN_DECLS

/* The StreamWriter type (a new reference), for the executor's helper module. */
PyObject *bj_python_stream_writer_type_new (void);
/* A writer of type that writes to *kernel (the executor's kernel, NULL while none
 * is attached) or, detached or without a kernel, to the process's own fd 1 or 2. */
PyObject *bj_python_stream_writer_new      (PyObject        *type,
                                            BjKernel *const *kernel,
                                            BjStream         stream);
/* From now on the writer only writes to the process's fd: its executor is gone. */
void      bj_python_stream_writer_detach   (PyObject        *writer);

G_END_DECLS
