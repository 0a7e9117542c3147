/* bj-python-executor.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <bpyjupyter.h>

G_BEGIN_DECLS

#define BJ_TYPE_PYTHON_EXECUTOR (bj_python_executor_get_type ())

G_DECLARE_FINAL_TYPE (BjPythonExecutor, bj_python_executor, BJ, PYTHON_EXECUTOR, GObject)

BjPythonExecutor *bj_python_executor_new                      (GError           **error);
void              bj_python_executor_set_interrupt_with_signal (BjPythonExecutor  *self,
                                                                gboolean           with_signal);

G_END_DECLS
