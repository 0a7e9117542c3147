/* bj-kernel-service.c
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "bj-i18n-private.h"
#include <unistd.h>

#include "bj-dbus-generated.h"
#include "bj-error.h"
#include "bj-kernel-service.h"

/**
 * BjKernelService:
 *
 * Exports a [class@Kernel] on D-Bus as `org.bpyjupyter.Kernel` at
 * `/org/bpyjupyter/Kernel` (see `data/org.bpyjupyter.Kernel.xml` for the interface).
 *
 * Exporting owns the host's bus name `org.bpyjupyter.Kernel.Instance<pid>` and
 * queues for the shared name `org.bpyjupyter.Kernel`, which passes to the next host
 * when this one goes. The object stays exported whether the kernel runs or not, so
 * a client can start it.
 *
 * The kernel runs on its owner thread, and that thread is blocked while a cell runs.
 * So the D-Bus object lives on a private thread: properties and `Interrupt` are
 * answered at once, even during a long cell, and so are `Start` and `Restart`
 * while a cell runs (with an error: the kernel is running, or busy). `Stop` while
 * a cell runs interrupts the cell and stops the kernel once it returned.
 * Otherwise these three run on the owner context (the thread-default context of
 * the thread that called [method@KernelService.export]) when that context is next
 * iterated. Property changes are announced one by one, `busy` included, and always
 * before the reply of the call that caused them.
 */

#define DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER 1
#define RELEASE_NAME_TIMEOUT_MS 2000

typedef enum {
  CALL_START,
  CALL_STOP,
  CALL_RESTART,
} CallKind;

static const char * const call_names[] = { "Start", "Stop", "Restart" };

/* A method call on its way to the owner thread. */
typedef struct {
  BjKernelService *self;
  GDBusMethodInvocation *invocation;
  CallKind kind;
} Call;

/* From the owner thread to the D-Bus thread, in order: a property snapshot, or the
 * reply to a call (sent after the snapshots its call caused). */
typedef struct {
  GDBusMethodInvocation *invocation;   /* a reply; NULL for a snapshot */
  GVariant *reply;
  GError *error;

  char *state;
  char *connection_file;
  GVariant *connection_info;
  guint64 execution_count;
  char *host_document;
} Update;

struct _BjKernelService {
  GObject parent_instance;

  BjKernel *kernel;
  GDBusConnection *connection;
  char *host;
  char *host_document;
  char *instance_name;

  /* While exported; everything but the atomics and the queue belongs to the
   * owner thread, the skeleton to the D-Bus thread. */
  gint exported;                  /* atomic */
  gint kernel_state;              /* atomic: the kernel's state, for the D-Bus thread */
  gint cell_running;              /* atomic: between execute-started and -finished */
  GMainContext *owner_context;
  GMainContext *dbus_context;
  GMainLoop *dbus_loop;
  GThread *dbus_thread;
  GSource *reinterrupt;           /* D-Bus thread: a Stop waiting for its cell */
  BjDBusKernel *skeleton;
  gulong state_changed_id;
  gulong execution_count_id;
  gulong execute_started_id;
  gulong execute_finished_id;

  GMutex lock;
  GQueue updates;                 /* of Update, guarded by lock */
  gboolean drain_scheduled;       /* guarded by lock */
};

enum {
  PROP_0,
  PROP_KERNEL,
  PROP_CONNECTION,
  PROP_HOST,
  PROP_HOST_DOCUMENT,
  PROP_INSTANCE_NAME,
  PROP_EXPORTED,
  N_PROPS
};

enum {
  SIGNAL_CALLED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BjKernelService, bj_kernel_service, G_TYPE_OBJECT)

static void
update_free (Update *update)
{
  g_clear_object (&update->invocation);
  g_clear_pointer (&update->reply, g_variant_unref);
  g_clear_error (&update->error);
  g_free (update->state);
  g_free (update->connection_file);
  g_clear_pointer (&update->connection_info, g_variant_unref);
  g_free (update->host_document);
  g_free (update);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Update, update_free)

static void
call_free (Call *call)
{
  g_clear_object (&call->invocation);
  g_clear_object (&call->self);
  g_free (call);
}

/* D-Bus strings are UTF-8; a path that is not still shows, if not usable. */
static char *
to_utf8 (const char *text)
{
  if (text == NULL)
    return g_strdup ("");
  if (g_utf8_validate (text, -1, NULL))
    return g_strdup (text);
  return g_filename_display_name (text);
}

/* Errors cross the bus as org.bpyjupyter.Kernel.Error.*: anything from another
 * domain (a file that cannot be written, say) becomes Failed, message kept. */
static GError *
to_service_error (GError *error)
{
  GError *mapped;

  if (error->domain == BJ_ERROR)
    return error;
  mapped = g_error_new_literal (BJ_ERROR, BJ_ERROR_FAILED, error->message);
  g_error_free (error);
  return mapped;
}

static GVariant *
connection_info_to_variant (const BjConnectionInfo *info)
{
  static const struct {
    BjChannel channel;
    const char *name;
  } ports[] = {
    { BJ_CHANNEL_SHELL, "shell_port" },
    { BJ_CHANNEL_IOPUB, "iopub_port" },
    { BJ_CHANNEL_STDIN, "stdin_port" },
    { BJ_CHANNEL_CONTROL, "control_port" },
    { BJ_CHANNEL_HEARTBEAT, "hb_port" },
  };
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  /* Never the key: anyone on the session bus may read this. */
  if (info != NULL)
    {
      g_autofree char *ip = to_utf8 (bj_connection_info_get_ip (info));

      g_variant_builder_add (&builder, "{sv}", "ip", g_variant_new_string (ip));
      g_variant_builder_add (&builder, "{sv}", "transport",
                             g_variant_new_string (bj_connection_info_get_transport (info)));
      for (guint i = 0; i < G_N_ELEMENTS (ports); i++)
        g_variant_builder_add (&builder, "{sv}", ports[i].name,
                               g_variant_new_uint32 (bj_connection_info_get_port (info, ports[i].channel)));
      g_variant_builder_add (&builder, "{sv}", "signature_scheme",
                             g_variant_new_string (bj_connection_info_get_signature_scheme (info)));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* Owner thread. */
static Update *
snapshot_new (BjKernelService *self)
{
  BjKernelState state = bj_kernel_get_state (self->kernel);
  gboolean running = state == BJ_KERNEL_STATE_IDLE || state == BJ_KERNEL_STATE_BUSY;
  g_autoptr(BjConnectionInfo) info = running ? bj_kernel_get_connection_info (self->kernel) : NULL;
  Update *update = g_new0 (Update, 1);

  update->state = g_strdup (bj_kernel_state_to_string (state));
  update->connection_file = to_utf8 (running ? bj_kernel_get_connection_file (self->kernel) : NULL);
  update->connection_info = connection_info_to_variant (info);
  update->execution_count = bj_kernel_get_execution_count (self->kernel);
  update->host_document = to_utf8 (self->host_document);
  return update;
}

/* Owner thread, before export, or D-Bus thread. */
static void
apply_snapshot (BjKernelService *self,
                Update          *update)
{
  bj_dbus_kernel_set_state (self->skeleton, update->state);
  bj_dbus_kernel_set_connection_file (self->skeleton, update->connection_file);
  bj_dbus_kernel_set_connection_info (self->skeleton, update->connection_info);
  bj_dbus_kernel_set_execution_count (self->skeleton, update->execution_count);
  bj_dbus_kernel_set_host_document (self->skeleton, update->host_document);
  /* One PropertiesChanged per snapshot, now: left to the skeleton's idle, idle →
   * busy → idle would fold into nothing. */
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self->skeleton));
}

/* Any thread: takes the invocation. */
static void
send_reply (GDBusMethodInvocation *invocation,
            GVariant              *reply,
            GError                *error)
{
  if (error != NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    g_dbus_method_invocation_return_value (invocation, reply);
}

/* D-Bus thread. */
static gboolean
drain_updates (gpointer user_data)
{
  BjKernelService *self = user_data;
  GQueue updates = G_QUEUE_INIT;
  Update *update;

  g_mutex_lock (&self->lock);
  updates = self->updates;
  g_queue_init (&self->updates);
  self->drain_scheduled = FALSE;
  g_mutex_unlock (&self->lock);

  while ((update = g_queue_pop_head (&updates)) != NULL)
    {
      if (update->invocation != NULL)
        send_reply (g_steal_pointer (&update->invocation), update->reply, update->error);
      else
        apply_snapshot (self, update);
      update_free (update);
    }
  return G_SOURCE_REMOVE;
}

/* Owner thread. */
static void
push_update (BjKernelService *self,
             Update          *update)
{
  gboolean schedule;

  /* Unexported meanwhile (from a handler of the kernel's signals, say): a reply
   * still goes out, from here; a snapshot has nowhere to go. */
  if (!g_atomic_int_get (&self->exported))
    {
      if (update->invocation != NULL)
        send_reply (g_steal_pointer (&update->invocation), update->reply, update->error);
      update_free (update);
      return;
    }

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->updates, update);
  schedule = !self->drain_scheduled;
  self->drain_scheduled = TRUE;
  g_mutex_unlock (&self->lock);

  if (schedule)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, drain_updates, self, NULL);
      g_source_set_static_name (source, "[bpy-jupyter] D-Bus updates");
      g_source_attach (source, self->dbus_context);
    }
}

static void
push_snapshot (BjKernelService *self)
{
  push_update (self, snapshot_new (self));
}

static void
on_kernel_state_changed (BjKernel        *kernel,
                         BjKernelState    state,
                         BjKernelService *self)
{
  g_atomic_int_set (&self->kernel_state, (gint) state);
  push_snapshot (self);
}

static void
on_kernel_execution_count (BjKernel        *kernel,
                           GParamSpec      *pspec,
                           BjKernelService *self)
{
  push_snapshot (self);
}

/* Busy covers more than cells (completions, comm messages, the moment between a
 * reply and idle); only a running cell makes Stop and Restart refuse at once. */
static void
on_kernel_execute_started (BjKernel        *kernel,
                           guint64          execution_count,
                           BjKernelService *self)
{
  g_atomic_int_set (&self->cell_running, TRUE);
}

static void
on_kernel_execute_finished (BjKernel        *kernel,
                            guint64          execution_count,
                            const char      *status,
                            BjKernelService *self)
{
  g_atomic_int_set (&self->cell_running, FALSE);
}

typedef struct {
  BjKernelService *self;
  const char *method;
} Called;

static gboolean
emit_called (gpointer user_data)
{
  Called *called = user_data;

  g_signal_emit (called->self, signals[SIGNAL_CALLED], 0, called->method);
  return G_SOURCE_REMOVE;
}

static void
called_free (Called *called)
{
  g_object_unref (called->self);
  g_free (called);
}

/* D-Bus thread: ::called is emitted on the owner thread. */
static void
schedule_called (BjKernelService *self,
                 const char      *method)
{
  g_autoptr(GSource) source = g_idle_source_new ();
  Called *called = g_new0 (Called, 1);

  called->self = g_object_ref (self);
  called->method = method;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_called, called, (GDestroyNotify) called_free);
  g_source_set_static_name (source, "[bpy-jupyter] D-Bus call");
  g_source_attach (source, self->owner_context);
}

/* Owner thread. */
static gboolean
run_call (gpointer user_data)
{
  Call *call = user_data;
  BjKernelService *self = call->self;
  GError *error = NULL;
  GVariant *reply = NULL;
  gboolean ok = FALSE;

  if (!g_atomic_int_get (&self->exported))
    {
      g_dbus_method_invocation_return_error_literal (g_steal_pointer (&call->invocation),
                                                     BJ_ERROR, BJ_ERROR_FAILED,
                                                     _("The kernel is no longer available on D-Bus"));
      return G_SOURCE_REMOVE;
    }

  /* A kernel serves on the thread-default context of the thread starting it. */
  g_main_context_push_thread_default (self->owner_context);
  switch (call->kind)
    {
    case CALL_START:
      ok = bj_kernel_start (self->kernel, &error);
      if (ok)
        {
          g_autofree char *path = to_utf8 (bj_kernel_get_connection_file (self->kernel));
          reply = g_variant_new ("(s)", path);
        }
      break;
    case CALL_STOP:
      ok = bj_kernel_stop (self->kernel, &error);
      break;
    case CALL_RESTART:
      ok = bj_kernel_restart (self->kernel, &error);
      break;
    default:
      g_assert_not_reached ();
    }
  g_main_context_pop_thread_default (self->owner_context);

  {
    Update *update = g_new0 (Update, 1);

    update->invocation = g_steal_pointer (&call->invocation);
    update->reply = reply ? g_variant_ref_sink (reply) : NULL;
    update->error = ok ? NULL : to_service_error (error);
    push_update (self, update);
  }
  g_signal_emit (self, signals[SIGNAL_CALLED], 0, call_names[call->kind]);
  return G_SOURCE_REMOVE;
}

/* D-Bus thread: takes the invocation, as every handler does. */
static void
forward_call (BjKernelService       *self,
              GDBusMethodInvocation *invocation,
              CallKind               kind,
              int                    priority)
{
  g_autoptr(GSource) source = g_idle_source_new ();
  Call *call = g_new0 (Call, 1);

  call->self = g_object_ref (self);
  call->invocation = invocation;
  call->kind = kind;
  g_source_set_priority (source, priority);
  g_source_set_callback (source, run_call, call, (GDestroyNotify) call_free);
  g_source_set_static_name (source, "[bpy-jupyter] D-Bus method");
  g_source_attach (source, self->owner_context);
}

/* D-Bus thread: answered here, without waiting for the owner thread. */
static gboolean
refuse_call (BjKernelService       *self,
             GDBusMethodInvocation *invocation,
             const char            *method,
             BjError                code,
             const char            *message)
{
  g_dbus_method_invocation_return_error_literal (invocation, BJ_ERROR, code, message);
  schedule_called (self, method);
  return TRUE;
}

/* While a cell runs the owner thread cannot answer: calls that would wait for the
 * cell's end are answered at once instead. A call racing a cell's start waits. */
static gboolean
handle_start (BjDBusKernel          *skeleton,
              GDBusMethodInvocation *invocation,
              BjKernelService       *self)
{
  if (g_atomic_int_get (&self->kernel_state) == BJ_KERNEL_STATE_BUSY)
    return refuse_call (self, invocation, "Start", BJ_ERROR_ALREADY_RUNNING,
                        _("The kernel is already running"));
  forward_call (self, invocation, CALL_START, G_PRIORITY_DEFAULT);
  return TRUE;
}

#define REINTERRUPT_INTERVAL_MS 500

/* Until the cell ends: an interrupt that came before the cell could take it (the
 * moment between busy and the cell's own code), or that the cell caught, is sent
 * again, as the standalone kernel does for SIGTERM. */
static gboolean
on_reinterrupt (gpointer user_data)
{
  BjKernelService *self = user_data;

  if (g_atomic_int_get (&self->cell_running))
    {
      bj_kernel_interrupt (self->kernel, NULL);
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&self->reinterrupt, g_source_unref);
  return G_SOURCE_REMOVE;
}

static gboolean
handle_stop (BjDBusKernel          *skeleton,
             GDBusMethodInvocation *invocation,
             BjKernelService       *self)
{
  /* A stop must not wait for a cell that may never end: the cell is interrupted,
   * and the stop runs as soon as it returned, ahead of any queued request. */
  if (g_atomic_int_get (&self->cell_running))
    {
      bj_kernel_interrupt (self->kernel, NULL);
      if (self->reinterrupt == NULL)
        {
          self->reinterrupt = g_timeout_source_new (REINTERRUPT_INTERVAL_MS);
          g_source_set_callback (self->reinterrupt, on_reinterrupt, self, NULL);
          g_source_set_static_name (self->reinterrupt, "[bpy-jupyter] interrupt until stopped");
          g_source_attach (self->reinterrupt, self->dbus_context);
        }
      forward_call (self, invocation, CALL_STOP, G_PRIORITY_HIGH);
      return TRUE;
    }
  forward_call (self, invocation, CALL_STOP, G_PRIORITY_DEFAULT);
  return TRUE;
}

static gboolean
handle_restart (BjDBusKernel          *skeleton,
                GDBusMethodInvocation *invocation,
                BjKernelService       *self)
{
  if (g_atomic_int_get (&self->cell_running))
    return refuse_call (self, invocation, "Restart", BJ_ERROR_BUSY,
                        _("A cell is running: interrupt it, or wait until it ends, before restarting the kernel"));
  forward_call (self, invocation, CALL_RESTART, G_PRIORITY_DEFAULT);
  return TRUE;
}

static gboolean
handle_interrupt (BjDBusKernel          *skeleton,
                  GDBusMethodInvocation *invocation,
                  BjKernelService       *self)
{
  g_autoptr(GError) error = NULL;

  if (g_atomic_int_get (&self->kernel_state) == BJ_KERNEL_STATE_STOPPED)
    return refuse_call (self, invocation, "Interrupt", BJ_ERROR_NOT_RUNNING,
                        _("The kernel is not running"));
  if (!bj_kernel_interrupt (self->kernel, &error))
    return refuse_call (self, invocation, "Interrupt", error->code, error->message);
  bj_dbus_kernel_complete_interrupt (skeleton, invocation);
  schedule_called (self, "Interrupt");
  return TRUE;
}

static gpointer
dbus_thread_main (gpointer user_data)
{
  BjKernelService *self = user_data;

  g_main_context_push_thread_default (self->dbus_context);
  g_main_loop_run (self->dbus_loop);
  g_main_context_pop_thread_default (self->dbus_context);
  return NULL;
}

/* D-Bus thread, last thing it does. */
static gboolean
stop_dbus_thread (gpointer user_data)
{
  BjKernelService *self = user_data;

  /* What happened last (a host stopping its kernel as it quits) is still announced. */
  drain_updates (self);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  /* Calls already dispatched to the object get their answer (an error) now. */
  while (g_main_context_iteration (self->dbus_context, FALSE))
    ;
  g_main_loop_quit (self->dbus_loop);
  return G_SOURCE_REMOVE;
}

static gboolean
request_name (GDBusConnection    *connection,
              const char         *name,
              GBusNameOwnerFlags  flags,
              guint32            *out_reply,
              GError            **error)
{
  g_autoptr(GVariant) result = NULL;

  result = g_dbus_connection_call_sync (connection,
                                        "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "RequestName",
                                        g_variant_new ("(su)", name, (guint32) flags),
                                        G_VARIANT_TYPE ("(u)"),
                                        G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (result == NULL)
    return FALSE;
  g_variant_get (result, "(u)", out_reply);
  return TRUE;
}

static void
release_name (GDBusConnection *connection,
              const char      *name)
{
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  if (g_dbus_connection_is_closed (connection))
    return;
  /* Synchronous, so the shared name has passed on once unexport returns. */
  result = g_dbus_connection_call_sync (connection,
                                        "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "ReleaseName",
                                        g_variant_new ("(s)", name),
                                        G_VARIANT_TYPE ("(u)"),
                                        G_DBUS_CALL_FLAGS_NONE, RELEASE_NAME_TIMEOUT_MS,
                                        NULL, &error);
  if (result == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    g_debug ("Cannot release the bus name %s: %s", name, error->message);
}

/* Owner thread: undoes what export did, whatever stage it reached. */
static void
teardown (BjKernelService *self)
{
  Update *update;

  g_clear_signal_handler (&self->state_changed_id, self->kernel);
  g_clear_signal_handler (&self->execution_count_id, self->kernel);
  g_clear_signal_handler (&self->execute_started_id, self->kernel);
  g_clear_signal_handler (&self->execute_finished_id, self->kernel);

  if (self->dbus_thread != NULL)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_HIGH);
      g_source_set_callback (source, stop_dbus_thread, self, NULL);
      g_source_set_static_name (source, "[bpy-jupyter] D-Bus stop");
      g_source_attach (source, self->dbus_context);
      g_thread_join (g_steal_pointer (&self->dbus_thread));
    }
  else if (self->skeleton != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));

  /* Replies the D-Bus thread had no time to send. */
  g_mutex_lock (&self->lock);
  while ((update = g_queue_pop_head (&self->updates)) != NULL)
    {
      if (update->invocation != NULL)
        send_reply (g_steal_pointer (&update->invocation), update->reply, update->error);
      update_free (update);
    }
  self->drain_scheduled = FALSE;
  g_mutex_unlock (&self->lock);

  if (self->reinterrupt != NULL)
    g_source_destroy (self->reinterrupt);
  g_clear_pointer (&self->reinterrupt, g_source_unref);
  g_clear_object (&self->skeleton);
  g_clear_pointer (&self->dbus_loop, g_main_loop_unref);
  g_clear_pointer (&self->dbus_context, g_main_context_unref);
  g_clear_pointer (&self->owner_context, g_main_context_unref);
}

/**
 * bj_kernel_service_export:
 * @self: a service
 * @error: return location for a #GError
 *
 * Exports the kernel object and takes the bus names: the host's own
 * `org.bpyjupyter.Kernel.Instance<pid>`, and a place in the queue for
 * `org.bpyjupyter.Kernel`.
 *
 * Call it on the kernel's owner thread with the kernel's owner context as the
 * thread-default main context: `Start`, `Stop` and `Restart` calls from D-Bus run
 * there, when that context is iterated.
 *
 * Returns: %TRUE once exported; %FALSE with @error set (%G_IO_ERROR_EXISTS when
 *   already exported or when this process already has a kernel on the bus, or the
 *   bus's error), having exported nothing
 */
gboolean
bj_kernel_service_export (BjKernelService  *self,
                          GError          **error)
{
  g_autoptr(Update) snapshot = NULL;
  guint32 reply = 0;

  g_return_val_if_fail (BJ_IS_KERNEL_SERVICE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_atomic_int_get (&self->exported))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("The kernel is already exported on D-Bus as %s"), self->instance_name);
      return FALSE;
    }

  self->owner_context = g_main_context_ref_thread_default ();
  self->dbus_context = g_main_context_new ();
  self->dbus_loop = g_main_loop_new (self->dbus_context, FALSE);
  g_atomic_int_set (&self->kernel_state, (gint) bj_kernel_get_state (self->kernel));
  /* Exported from inside a cell (a host's script, say): that cell is running. */
  g_atomic_int_set (&self->cell_running, bj_kernel_get_state (self->kernel) == BJ_KERNEL_STATE_BUSY);

  /* The skeleton's sources, and the calls GDBus dispatches to it, go to the
   * thread-default context of the thread creating and exporting it. */
  g_main_context_push_thread_default (self->dbus_context);
  self->skeleton = bj_dbus_kernel_skeleton_new ();
  g_signal_connect (self->skeleton, "handle-start", G_CALLBACK (handle_start), self);
  g_signal_connect (self->skeleton, "handle-stop", G_CALLBACK (handle_stop), self);
  g_signal_connect (self->skeleton, "handle-restart", G_CALLBACK (handle_restart), self);
  g_signal_connect (self->skeleton, "handle-interrupt", G_CALLBACK (handle_interrupt), self);
  {
    g_autofree char *host = to_utf8 (self->host);

    bj_dbus_kernel_set_host (self->skeleton, host);
  }
  bj_dbus_kernel_set_pid (self->skeleton, (guint) getpid ());
  bj_dbus_kernel_set_version (self->skeleton, PACKAGE_VERSION);
  snapshot = snapshot_new (self);
  apply_snapshot (self, snapshot);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton),
                                         self->connection, BJ_DBUS_PATH, error))
    {
      g_main_context_pop_thread_default (self->dbus_context);
      teardown (self);
      return FALSE;
    }
  g_main_context_pop_thread_default (self->dbus_context);

  if (!request_name (self->connection, self->instance_name, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, &reply, error))
    {
      teardown (self);
      return FALSE;
    }
  if (reply != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("Another kernel of this process is already on D-Bus as %s"),
                   self->instance_name);
      teardown (self);
      return FALSE;
    }
  /* In the queue, or first: either way the name comes to us in turn. */
  if (!request_name (self->connection, BJ_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE, &reply, error))
    {
      release_name (self->connection, self->instance_name);
      teardown (self);
      return FALSE;
    }

  self->dbus_thread = g_thread_try_new ("bj-dbus", dbus_thread_main, self, error);
  if (self->dbus_thread == NULL)
    {
      release_name (self->connection, BJ_DBUS_NAME);
      release_name (self->connection, self->instance_name);
      teardown (self);
      return FALSE;
    }

  self->state_changed_id = g_signal_connect (self->kernel, "state-changed",
                                             G_CALLBACK (on_kernel_state_changed), self);
  self->execution_count_id = g_signal_connect (self->kernel, "notify::execution-count",
                                               G_CALLBACK (on_kernel_execution_count), self);
  self->execute_started_id = g_signal_connect (self->kernel, "execute-started",
                                               G_CALLBACK (on_kernel_execute_started), self);
  self->execute_finished_id = g_signal_connect (self->kernel, "execute-finished",
                                                G_CALLBACK (on_kernel_execute_finished), self);
  g_atomic_int_set (&self->exported, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_EXPORTED]);
  return TRUE;
}

/**
 * bj_kernel_service_unexport:
 * @self: a service
 *
 * Releases the bus names (the shared one passes to the next host) and removes the
 * object from the bus. The kernel is left as it is. Call it on the thread that
 * exported; does nothing when not exported.
 */
void
bj_kernel_service_unexport (BjKernelService *self)
{
  g_return_if_fail (BJ_IS_KERNEL_SERVICE (self));

  if (!g_atomic_int_get (&self->exported))
    return;

  g_atomic_int_set (&self->exported, FALSE);
  release_name (self->connection, BJ_DBUS_NAME);
  release_name (self->connection, self->instance_name);
  teardown (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_EXPORTED]);
}

/**
 * bj_kernel_service_get_exported:
 * @self: a service
 *
 * Gets whether the service is exported on its bus.
 *
 * Returns: whether the kernel is on the bus
 */
gboolean
bj_kernel_service_get_exported (BjKernelService *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL_SERVICE (self), FALSE);
  return g_atomic_int_get (&self->exported);
}

/**
 * bj_kernel_service_new:
 * @kernel: the kernel to export
 * @connection: the bus connection to export it on
 * @host: the program hosting the kernel and its version, e.g. `Blender 3.4.1`
 * @host_document: (nullable) (type filename): the document open in the host, if any
 *
 * Creates a service for @kernel; nothing is on the bus until
 * [method@KernelService.export].
 *
 * Returns: (transfer full): a new service
 */
BjKernelService *
bj_kernel_service_new (BjKernel        *kernel,
                       GDBusConnection *connection,
                       const char      *host,
                       const char      *host_document)
{
  g_return_val_if_fail (BJ_IS_KERNEL (kernel), NULL);
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  g_return_val_if_fail (host != NULL, NULL);

  return g_object_new (BJ_TYPE_KERNEL_SERVICE,
                       "kernel", kernel,
                       "connection", connection,
                       "host", host,
                       "host-document", host_document,
                       NULL);
}

/**
 * bj_kernel_service_get_kernel:
 * @self: a service
 *
 * Gets the kernel the service exports.
 *
 * Returns: (transfer none): the kernel
 */
BjKernel *
bj_kernel_service_get_kernel (BjKernelService *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL_SERVICE (self), NULL);
  return self->kernel;
}

/**
 * bj_kernel_service_get_connection:
 * @self: a service
 *
 * Gets the bus connection the service is exported on.
 *
 * Returns: (transfer none): the bus connection
 */
GDBusConnection *
bj_kernel_service_get_connection (BjKernelService *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL_SERVICE (self), NULL);
  return self->connection;
}

/**
 * bj_kernel_service_get_host:
 * @self: a service
 *
 * Gets the name of the application that hosts the kernel.
 *
 * Returns: the host, e.g. `Blender 3.4.1`
 */
const char *
bj_kernel_service_get_host (BjKernelService *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL_SERVICE (self), NULL);
  return self->host;
}

/**
 * bj_kernel_service_get_host_document:
 * @self: a service
 *
 * Gets the document the host has open, if any.
 *
 * Returns: (nullable) (type filename): the document open in the host
 */
const char *
bj_kernel_service_get_host_document (BjKernelService *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL_SERVICE (self), NULL);
  return self->host_document;
}

/**
 * bj_kernel_service_set_host_document:
 * @self: a service
 * @host_document: (nullable) (type filename): the document now open in the host,
 *   e.g. the `.blend` file just loaded; %NULL or empty for none
 *
 * Updates the `HostDocument` property. Call it on the thread that exported.
 */
void
bj_kernel_service_set_host_document (BjKernelService *self,
                                     const char      *host_document)
{
  g_return_if_fail (BJ_IS_KERNEL_SERVICE (self));

  if (host_document != NULL && *host_document == '\0')
    host_document = NULL;
  if (g_strcmp0 (self->host_document, host_document) == 0)
    return;
  g_free (self->host_document);
  self->host_document = g_strdup (host_document);
  if (g_atomic_int_get (&self->exported))
    push_snapshot (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_HOST_DOCUMENT]);
}

/**
 * bj_kernel_service_get_instance_name:
 * @self: a service
 *
 * Gets the bus name this process owns whatever happens to the shared name.
 *
 * Returns: the host's own bus name, `org.bpyjupyter.Kernel.Instance<pid>`
 */
const char *
bj_kernel_service_get_instance_name (BjKernelService *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL_SERVICE (self), NULL);
  return self->instance_name;
}

static void
bj_kernel_service_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  BjKernelService *self = BJ_KERNEL_SERVICE (object);

  switch (prop_id)
    {
    case PROP_KERNEL:
      g_value_set_object (value, self->kernel);
      break;
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_HOST_DOCUMENT:
      g_value_set_string (value, self->host_document);
      break;
    case PROP_INSTANCE_NAME:
      g_value_set_string (value, self->instance_name);
      break;
    case PROP_EXPORTED:
      g_value_set_boolean (value, bj_kernel_service_get_exported (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bj_kernel_service_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  BjKernelService *self = BJ_KERNEL_SERVICE (object);

  switch (prop_id)
    {
    case PROP_KERNEL:
      self->kernel = g_value_dup_object (value);
      break;
    case PROP_CONNECTION:
      self->connection = g_value_dup_object (value);
      break;
    case PROP_HOST:
      self->host = g_value_dup_string (value);
      break;
    case PROP_HOST_DOCUMENT:
      bj_kernel_service_set_host_document (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bj_kernel_service_dispose (GObject *object)
{
  BjKernelService *self = BJ_KERNEL_SERVICE (object);

  if (self->kernel != NULL)
    bj_kernel_service_unexport (self);
  g_clear_object (&self->kernel);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (bj_kernel_service_parent_class)->dispose (object);
}

static void
bj_kernel_service_finalize (GObject *object)
{
  BjKernelService *self = BJ_KERNEL_SERVICE (object);

  g_free (self->host);
  g_free (self->host_document);
  g_free (self->instance_name);
  g_queue_clear_full (&self->updates, (GDestroyNotify) update_free);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (bj_kernel_service_parent_class)->finalize (object);
}

static void
bj_kernel_service_class_init (BjKernelServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = bj_kernel_service_get_property;
  object_class->set_property = bj_kernel_service_set_property;
  object_class->dispose = bj_kernel_service_dispose;
  object_class->finalize = bj_kernel_service_finalize;

  /**
   * BjKernelService:kernel:
   *
   * The kernel on the bus.
   */
  props[PROP_KERNEL] =
    g_param_spec_object ("kernel", NULL, NULL,
                         BJ_TYPE_KERNEL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernelService:connection:
   *
   * The bus connection the kernel is exported on.
   */
  props[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL,
                         G_TYPE_DBUS_CONNECTION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernelService:host:
   *
   * The program hosting the kernel and its version, e.g. `Blender 3.4.1`: the
   * `Host` property on the bus.
   */
  props[PROP_HOST] =
    g_param_spec_string ("host", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernelService:host-document:
   *
   * The document open in the host (the `HostDocument` property on the bus), or
   * %NULL for none.
   */
  props[PROP_HOST_DOCUMENT] =
    g_param_spec_string ("host-document", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernelService:instance-name:
   *
   * The host's own bus name, `org.bpyjupyter.Kernel.Instance<pid>`.
   */
  props[PROP_INSTANCE_NAME] =
    g_param_spec_string ("instance-name", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernelService:exported:
   *
   * Whether the kernel is on the bus.
   */
  props[PROP_EXPORTED] =
    g_param_spec_boolean ("exported", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * BjKernelService::called:
   * @self: the service
   * @method: the method's name on the bus, e.g. `Start`
   *
   * Emitted on the thread that exported after a D-Bus client called a method,
   * whatever the outcome. A service that quits when unused watches it.
   */
  signals[SIGNAL_CALLED] =
    g_signal_new ("called", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
bj_kernel_service_init (BjKernelService *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->updates);
  self->instance_name = g_strdup_printf (BJ_DBUS_INSTANCE_PREFIX "%d", (int) getpid ());
}
