/* bj-restart-host: hosts a kernel the way an application does, for the tests
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unlike bpy-jupyter-kernel, it keeps BjKernel's default shutdown handling: a
 * shutdown_request with restart stops the kernel object and starts it again in the
 * same process, on the same ports and key, with the same Python namespace. It exits
 * when the kernel ends up stopped.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <signal.h>

#include <bpyjupyter.h>

#include "bj-python-executor.h"

static guint starts;

static gboolean
still_stopped (gpointer user_data)
{
  BjKernel *kernel = user_data;
  GMainLoop *loop = g_object_get_data (G_OBJECT (kernel), "loop");

  /* A stop that was part of a restart is followed by a start at once. */
  if (bj_kernel_get_state (kernel) == BJ_KERNEL_STATE_STOPPED)
    g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
on_state_changed_quit (BjKernel      *kernel,
                       BjKernelState  state,
                       gpointer       user_data)
{
  if (state == BJ_KERNEL_STATE_STARTING)
    g_printerr ("bj-restart-host: start %u\n", ++starts);
  else if (state == BJ_KERNEL_STATE_STOPPED)
    g_idle_add (still_stopped, kernel);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(BjPythonExecutor) executor = NULL;
  g_autoptr(BjKernel) kernel = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  PyThreadState *thread_state;

  if (argc != 2)
    {
      g_printerr ("usage: bj-restart-host CONNECTION_FILE\n");
      return 2;
    }

  signal (SIGPIPE, SIG_IGN);
  Py_InitializeEx (0);
  executor = bj_python_executor_new (&error);
  g_assert_no_error (error);
  thread_state = PyEval_SaveThread ();

  loop = g_main_loop_new (NULL, FALSE);
  kernel = bj_kernel_new (BJ_EXECUTOR (executor));
  g_object_set_data (G_OBJECT (kernel), "loop", loop);
  bj_kernel_set_connection_file (kernel, argv[1]);
  g_signal_connect (kernel, "state-changed", G_CALLBACK (on_state_changed_quit), NULL);

  if (!bj_kernel_start (kernel, &error))
    {
      g_printerr ("bj-restart-host: %s\n", error->message);
      return 1;
    }
  g_main_loop_run (loop);
  g_clear_object (&kernel);

  PyEval_RestoreThread (thread_state);
  g_clear_object (&executor);
  Py_FinalizeEx ();
  return 0;
}
