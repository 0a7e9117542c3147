/* bj-module-stop-signals.c: SIGTERM and SIGHUP stop a kernel served by run()
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A process whose main loop is Kernel.run() (the headless-Blender kernel process)
 * is a kernel process like bpy-jupyter-kernel, and ends the same way on SIGTERM
 * (or SIGHUP): the running cell is interrupted, its client gets the reply, the
 * kernel stops and run() returns. Blender leaves both signals at their default,
 * which would kill it on the spot, leaving a cell's child processes behind.
 *
 * The cell blocks the owner thread, so the signals are watched from a thread of
 * their own, as in the standalone kernel; a cell that swallows KeyboardInterrupt
 * is interrupted again every half second until it ends. The previous handlers
 * come back when run() returns (GLib would leave SIG_DFL).
 *
 * The owner thread blocks both signals meanwhile: one arriving there would end the
 * cell's system call with EINTR, and CPython, finding no Python handler tripped,
 * retries it; the interrupt's own signal could land in between, before the retry,
 * and be missed until the next interrupt. Another thread takes them instead.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>

#include <glib-unix.h>

#include "bj-module-stop-signals.h"

#define REINTERRUPT_INTERVAL_MS 500

static const int stop_signals[] = { SIGTERM, SIGHUP };

struct _BjStopSignals {
  BjKernel *kernel;                 /* a reference */
  GMainContext *owner_context;      /* woken up to see fired */
  GMainContext *context;            /* the watcher thread's */
  GThread *thread;
  GSource *sources[G_N_ELEMENTS (stop_signals)];
  struct sigaction previous[G_N_ELEMENTS (stop_signals)];
  sigset_t owner_mask;              /* the owner thread's, to restore */
  gint fired;                       /* atomic */
  gint quit;                        /* atomic */
};

/* Watcher thread: interrupting is the one kernel call allowed from any thread. */
static gboolean
on_reinterrupt (gpointer user_data)
{
  BjStopSignals *self = user_data;

  bj_kernel_interrupt (self->kernel, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stop_signal (gpointer user_data)
{
  BjStopSignals *self = user_data;

  if (g_atomic_int_compare_and_exchange (&self->fired, 0, 1))
    {
      g_autoptr(GSource) source = g_timeout_source_new (REINTERRUPT_INTERVAL_MS);

      g_source_set_callback (source, on_reinterrupt, self, NULL);
      g_source_set_static_name (source, "[bpy-jupyter] interrupt until stopped");
      g_source_attach (source, self->context);
    }
  bj_kernel_interrupt (self->kernel, NULL);
  g_main_context_wakeup (self->owner_context);
  return G_SOURCE_CONTINUE;
}

static gpointer
watch_thread (gpointer user_data)
{
  BjStopSignals *self = user_data;

  g_main_context_push_thread_default (self->context);
  while (!g_atomic_int_get (&self->quit))
    g_main_context_iteration (self->context, TRUE);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* On the owner thread, before it serves the kernel. */
BjStopSignals *
bj_stop_signals_watch (BjKernel     *kernel,
                       GMainContext *owner_context)
{
  BjStopSignals *self = g_new0 (BjStopSignals, 1);

  self->kernel = g_object_ref (kernel);
  self->owner_context = g_main_context_ref (owner_context);
  self->context = g_main_context_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (stop_signals); i++)
    {
      sigaction (stop_signals[i], NULL, &self->previous[i]);
      self->sources[i] = g_unix_signal_source_new (stop_signals[i]);
      g_source_set_callback (self->sources[i], on_stop_signal, self, NULL);
      g_source_set_static_name (self->sources[i], "[bpy-jupyter] stop signal");
      g_source_attach (self->sources[i], self->context);
    }
  self->thread = g_thread_new ("bj-stop-signals", watch_thread, self);

  {
    sigset_t blocked;

    sigemptyset (&blocked);
    for (gsize i = 0; i < G_N_ELEMENTS (stop_signals); i++)
      sigaddset (&blocked, stop_signals[i]);
    pthread_sigmask (SIG_BLOCK, &blocked, &self->owner_mask);
  }
  return self;
}

gboolean
bj_stop_signals_fired (BjStopSignals *self)
{
  return g_atomic_int_get (&self->fired) != 0;
}

/* On the owner thread, as bj_stop_signals_watch(). */
void
bj_stop_signals_free (BjStopSignals *self)
{
  pthread_sigmask (SIG_SETMASK, &self->owner_mask, NULL);
  g_atomic_int_set (&self->quit, 1);
  g_main_context_wakeup (self->context);
  g_thread_join (self->thread);
  for (gsize i = 0; i < G_N_ELEMENTS (stop_signals); i++)
    {
      g_source_destroy (self->sources[i]);
      g_source_unref (self->sources[i]);
      sigaction (stop_signals[i], &self->previous[i], NULL);
    }
  g_main_context_unref (self->context);
  g_main_context_unref (self->owner_context);
  g_object_unref (self->kernel);
  g_free (self);
}
