/* bj-python-interrupt.c: interrupting a cell, wherever it is blocked
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A cell runs on the owner thread; an interrupt comes from another thread (the
 * kernel's I/O thread, a D-Bus call, a signal thread). Two ways reach the cell:
 *
 * - A signal to the owner thread. A system call the cell sleeps in (time.sleep,
 *   select, Event.wait) returns EINTR, CPython runs the Python handler the runtime
 *   armed for the cell, and that handler raises KeyboardInterrupt. The standalone
 *   kernel owns its process and uses SIGINT; a host that owns SIGINT (Blender)
 *   gets SIGURG, whose default action is to ignore it, and only when the host
 *   leaves it to Python (bj_runtime.py checks before each cell).
 * - Python's pending calls, where no signal is armed (the cell runs on a thread
 *   that is not Python's main thread, or the host uses SIGURG itself). These run
 *   only between bytecodes: a cell asleep in a system call does not see them.
 *
 * Like the rest of src/python this is compiled with Py_LIMITED_API and never
 * linked with libpython.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

#include <signal.h>

#include "bj-python-interrupt-private.h"

void
bj_python_interrupt_init (BjPythonInterrupt *self,
                          GObject           *owner)
{
  self->owner = owner;
  self->owner_thread = pthread_self ();
}

void
bj_python_interrupt_cell_begin (BjPythonInterrupt *self)
{
  g_atomic_int_inc (&self->serial);
  g_atomic_int_set (&self->executing, 1);
}

void
bj_python_interrupt_cell_end (BjPythonInterrupt *self)
{
  g_atomic_int_set (&self->executing, 0);
}

gboolean
bj_python_interrupt_is_running (BjPythonInterrupt *self)
{
  return g_atomic_int_get (&self->executing) != 0;
}

typedef struct {
  GObject *owner;             /* a reference: keeps the interrupt state alive */
  BjPythonInterrupt *interrupt;
  guint serial;
} PendingInterrupt;

/* Runs on the main thread between bytecodes, with the GIL. Raising here raises in
 * the running cell; a cell that already ended is left alone. */
static int
raise_pending_interrupt (void *data)
{
  PendingInterrupt *pending = data;
  gboolean same_cell = g_atomic_int_get (&pending->interrupt->executing) &&
    (guint) g_atomic_int_get (&pending->interrupt->serial) == pending->serial;

  g_object_unref (pending->owner);
  g_free (pending);
  if (!same_cell)
    return 0;
  PyErr_SetNone (PyExc_KeyboardInterrupt);
  return -1;
}

/* CPython only looks at pending calls when its eval breaker is set, and a pending
 * call added from a thread that is not Python's main thread does not set it for the
 * main thread (3.11). Asking for the GIL does: the running cell then handles its
 * pending calls before it yields. This thread may wait for the GIL as long as the
 * cell keeps it, which is why it is not the I/O thread. */
static gpointer
kick_eval_loop (gpointer data)
{
  if (Py_IsInitialized ())
    {
      PyGILState_STATE gil = PyGILState_Ensure ();
      PyGILState_Release (gil);
    }
  return NULL;
}

void
bj_python_interrupt_request (BjPythonInterrupt *self)
{
  PendingInterrupt *pending;
  int signum;

  if (!g_atomic_int_get (&self->executing))
    return;

  signum = g_atomic_int_get (&self->armed_signal);
  if (signum != 0)
    {
      /* Set before the signal goes: the handler raises only for a request, so
       * the host's own uses of the signal (if it chains) are not mistaken for
       * one. A signal that arrives after the cell disarmed finds the handler
       * the host had, which for SIGURG (and SIGINT in the standalone kernel)
       * ignores it. */
      g_atomic_int_set (&self->requested, 1);
      pthread_kill (self->owner_thread, signum);
      return;
    }

  pending = g_new0 (PendingInterrupt, 1);
  pending->owner = g_object_ref (self->owner);
  pending->interrupt = self;
  pending->serial = (guint) g_atomic_int_get (&self->serial);
  /* Py_AddPendingCall needs no GIL; it fails only when its queue is full. */
  if (Py_AddPendingCall (raise_pending_interrupt, pending) < 0)
    {
      g_object_unref (pending->owner);
      g_free (pending);
      return;
    }
  g_thread_unref (g_thread_new ("bj-interrupt", kick_eval_loop, NULL));
}

/* arm_interrupt(signum): the runtime installed its handler for signum on the owner
 * thread; interrupts of this cell now send it. */
PyObject *
bj_python_interrupt_arm (BjPythonInterrupt *self,
                         PyObject          *args)
{
  int signum;

  if (!PyArg_ParseTuple (args, "i:arm_interrupt", &signum))
    return NULL;
  if (signum <= 0 || signum >= NSIG)
    {
      PyErr_SetString (PyExc_ValueError, "signal number out of range");
      return NULL;
    }
  if (!pthread_equal (pthread_self (), self->owner_thread))
    {
      PyErr_SetString (PyExc_RuntimeError, "arm_interrupt() must be called on the kernel's thread");
      return NULL;
    }
  g_atomic_int_set (&self->requested, 0);
  g_atomic_int_set (&self->armed_signal, signum);
  Py_RETURN_NONE;
}

PyObject *
bj_python_interrupt_disarm (BjPythonInterrupt *self)
{
  g_atomic_int_set (&self->armed_signal, 0);
  Py_RETURN_NONE;
}

/* take_interrupt() -> bool: whether an interrupt was asked for since the last
 * take; the armed handler raises only then. */
PyObject *
bj_python_interrupt_take (BjPythonInterrupt *self)
{
  if (g_atomic_int_compare_and_exchange (&self->requested, 1, 0))
    Py_RETURN_TRUE;
  Py_RETURN_FALSE;
}

/* signal_is_free(signum) -> bool: whether the process leaves signum at its default
 * or ignored, and the calling thread does not block it. Python's signal.getsignal()
 * only knows what the process had when Python started and what Python set since: a
 * host's C code may have installed a handler after (Blender does for SIGINT). */
PyObject *
bj_python_interrupt_signal_is_free (PyObject *args)
{
  struct sigaction action;
  sigset_t blocked;
  int signum;

  if (!PyArg_ParseTuple (args, "i:signal_is_free", &signum))
    return NULL;
  if (signum <= 0 || signum >= NSIG ||
      sigaction (signum, NULL, &action) < 0 ||
      pthread_sigmask (SIG_BLOCK, NULL, &blocked) != 0 ||
      sigismember (&blocked, signum))
    Py_RETURN_FALSE;
  if ((action.sa_flags & SA_SIGINFO) == 0 &&
      (action.sa_handler == SIG_DFL || action.sa_handler == SIG_IGN))
    Py_RETURN_TRUE;
  Py_RETURN_FALSE;
}

/* save_disposition(signum): remember the process's C-level disposition of signum
 * before the runtime arms its handler. Python's signal.signal(signum, SIG_DFL)
 * gives back the action but not the flags the host had (it adds SA_ONSTACK), and a
 * host's signals are to be left exactly as they were. */
PyObject *
bj_python_interrupt_save_disposition (BjPythonInterrupt *self,
                                      PyObject          *args)
{
  int signum;

  if (!PyArg_ParseTuple (args, "i:save_disposition", &signum))
    return NULL;
  if (signum <= 0 || signum >= NSIG || sigaction (signum, NULL, &self->saved_action) < 0)
    {
      PyErr_SetString (PyExc_ValueError, "signal number out of range");
      return NULL;
    }
  self->saved_signum = signum;
  Py_RETURN_NONE;
}

/* restore_disposition(): put back what save_disposition() saw, once the runtime
 * gave Python's own handler table its previous entry (SIG_DFL or SIG_IGN). */
PyObject *
bj_python_interrupt_restore_disposition (BjPythonInterrupt *self)
{
  if (self->saved_signum != 0)
    sigaction (self->saved_signum, &self->saved_action, NULL);
  self->saved_signum = 0;
  Py_RETURN_NONE;
}
