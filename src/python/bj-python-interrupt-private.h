/* bj-python-interrupt-private.h: interrupting a cell, wherever it is blocked
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <Python.h>
#include <glib-object.h>
#include <pthread.h>
#include <signal.h>

G_BEGIN_DECLS

/* Owned by a BjPythonExecutor; every field but owner_thread is read from other
 * threads (the kernel's I/O thread, a D-Bus handler), hence atomics. */
typedef struct {
  GObject *owner;             /* not a reference: the executor this belongs to */
  pthread_t owner_thread;     /* the thread cells run on */
  gint executing;             /* atomic */
  guint serial;               /* atomic: tells one cell's interrupt from the next cell */
  gint armed_signal;          /* atomic: the signal the runtime armed for this cell, or 0 */
  gint requested;             /* atomic: an interrupt its signal handler has not taken yet */
  int saved_signum;           /* owner thread only: the disposition to give back, or 0 */
  struct sigaction saved_action;
} BjPythonInterrupt;

void      bj_python_interrupt_init        (BjPythonInterrupt *self,
                                           GObject           *owner);
void      bj_python_interrupt_cell_begin  (BjPythonInterrupt *self);
void      bj_python_interrupt_cell_end    (BjPythonInterrupt *self);
gboolean  bj_python_interrupt_is_running  (BjPythonInterrupt *self);
void      bj_python_interrupt_request     (BjPythonInterrupt *self);

/* For the runtime, through the helper module (GIL held, owner thread). */
PyObject *bj_python_interrupt_arm         (BjPythonInterrupt *self,
                                           PyObject          *args);
PyObject *bj_python_interrupt_disarm      (BjPythonInterrupt *self);
PyObject *bj_python_interrupt_take        (BjPythonInterrupt *self);
PyObject *bj_python_interrupt_signal_is_free (PyObject       *args);
PyObject *bj_python_interrupt_save_disposition (BjPythonInterrupt *self,
                                                PyObject          *args);
PyObject *bj_python_interrupt_restore_disposition (BjPythonInterrupt *self);

G_END_DECLS
