/* bj-kernel.c
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include "bj-i18n-private.h"
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bj-enums.h"
#include "bj-error.h"
#include "bj-io-private.h"
#include "bj-kernel.h"
#include "bj-wire-private.h"

/**
 * BjKernel:
 *
 * A Jupyter kernel: the five channels, the protocol, and an [iface@Executor]
 * that runs the code.
 *
 * A kernel lives on its owner [struct@GLib.MainContext], the thread-default context
 * of the thread that calls [method@Kernel.start]; requests are handled there, one
 * at a time, whenever that context is iterated. A private I/O thread owns the
 * sockets, echoes heartbeats and answers `kernel_info`, `interrupt` and `shutdown`
 * requests even while the owner thread is busy.
 *
 * A kernel can be started and stopped any number of times. Stopping joins the I/O
 * thread, closes every socket and removes the connection file it wrote.
 */

#define DISPATCH_SLICE_US 10000

typedef struct {
  BjMessage *message;       /* NULL for a shutdown request */
  BjChannel channel;
  gboolean restart;
} Incoming;

struct _BjKernel {
  GObject parent_instance;

  BjExecutor *executor;
  BjKernelState state;
  char *connection_file;
  BjConnectionInfo *connection_info;
  gboolean wrote_connection_file;
  guint64 execution_count;
  char *session;
  gint64 max_message_size;

  GMainContext *owner_context;
  GSource *dispatch_source;
  GAsyncQueue *incoming;
  BjIo *io;
  BjMessage *current_request;
  gint executing;           /* atomic: a cell runs; interrupt may reach the executor */
  GMutex io_lock;           /* io as seen by bj_kernel_interrupt() from other threads */
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_EXECUTOR,
  PROP_CONNECTION_FILE,
  PROP_CONNECTION_INFO,
  PROP_EXECUTION_COUNT,
  PROP_SESSION,
  PROP_MAX_MESSAGE_SIZE,
  N_PROPS
};

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_EXECUTE_STARTED,
  SIGNAL_EXECUTE_FINISHED,
  SIGNAL_SHUTDOWN_REQUESTED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BjKernel, bj_kernel, G_TYPE_OBJECT)

/* Owner thread: the I/O object goes away under the lock, so another thread's
 * interrupt never uses a freed one. */
static void
clear_io (BjKernel *self)
{
  BjIo *io;

  g_mutex_lock (&self->io_lock);
  io = g_steal_pointer (&self->io);
  g_mutex_unlock (&self->io_lock);
  bj_io_free (io);
}

static void
incoming_free (Incoming *in)
{
  g_clear_pointer (&in->message, bj_message_unref);
  g_free (in);
}

static GBytes *
json_object_to_bytes (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize length = 0;
  char *text;

  json_node_set_object (node, object);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &length);
  return g_bytes_new_take (text, length);
}

static void
set_state (BjKernel      *self,
           BjKernelState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, state);
}

/**
 * bj_kernel_state_to_string:
 * @state: a state
 *
 * Names a state.
 *
 * Returns: the state's name as shown to users and on D-Bus: `stopped`, `starting`,
 *   `idle`, `busy` or `stopping`
 */
const char *
bj_kernel_state_to_string (BjKernelState state)
{
  switch (state)
    {
    case BJ_KERNEL_STATE_STOPPED: return "stopped";
    case BJ_KERNEL_STATE_STARTING: return "starting";
    case BJ_KERNEL_STATE_IDLE: return "idle";
    case BJ_KERNEL_STATE_BUSY: return "busy";
    case BJ_KERNEL_STATE_STOPPING: return "stopping";
    default: g_return_val_if_reached (NULL);
    }
}

/* Owner thread. */
static void
publish_status (BjKernel   *self,
                BjMessage  *parent,
                const char *state)
{
  g_autoptr(JsonObject) content = json_object_new ();
  g_autoptr(GBytes) parent_header = parent ? bj_message_get_header_json (parent) : NULL;
  g_autoptr(GBytes) text = NULL;

  json_object_set_string_member (content, "execution_state", state);
  text = json_object_to_bytes (content);
  bj_io_publish (self->io, parent_header, "status", text, NULL, NULL);
}

static char *
reply_type_for (const char *request_type)
{
  if (g_str_has_suffix (request_type, "_request"))
    return g_strdup_printf ("%.*s_reply", (int) (strlen (request_type) - strlen ("_request")),
                            request_type);
  return g_strconcat (request_type, "_reply", NULL);
}

static void
send_reply (BjKernel   *self,
            BjChannel   channel,
            BjMessage  *request,
            JsonObject *reply)
{
  g_autofree char *reply_type = reply_type_for (bj_message_get_msg_type (request));
  g_autoptr(GBytes) text = NULL;

  if (!json_object_has_member (reply, "status"))
    json_object_set_string_member (reply, "status", "ok");
  text = json_object_to_bytes (reply);
  bj_io_reply (self->io, channel, request, reply_type, text);
}

static void
abort_queued_executions (BjKernel *self)
{
  GQueue kept = G_QUEUE_INIT;
  GQueue aborted = G_QUEUE_INIT;
  Incoming *in;

  /* Holding the queue's lock keeps newer arrivals behind the requests put back. */
  g_async_queue_lock (self->incoming);
  while ((in = g_async_queue_try_pop_unlocked (self->incoming)) != NULL)
    {
      if (in->message != NULL &&
          g_str_equal (bj_message_get_msg_type (in->message), "execute_request"))
        g_queue_push_tail (&aborted, in);
      else
        g_queue_push_tail (&kept, in);
    }
  while ((in = g_queue_pop_head (&kept)) != NULL)
    g_async_queue_push_unlocked (self->incoming, in);
  g_async_queue_unlock (self->incoming);

  while ((in = g_queue_pop_head (&aborted)) != NULL)
    {
      g_autoptr(JsonObject) reply = json_object_new ();

      json_object_set_string_member (reply, "status", "aborted");
      json_object_set_int_member (reply, "execution_count", (gint64) self->execution_count);
      publish_status (self, in->message, "busy");
      send_reply (self, in->channel, in->message, reply);
      publish_status (self, in->message, "idle");
      incoming_free (in);
    }
}

static JsonObject *
execute (BjKernel   *self,
         BjMessage  *request)
{
  JsonObject *content = bj_message_get_content (request);
  JsonNode *code_node = json_object_get_member (content, "code");
  gboolean silent = bj_json_get_boolean (content, "silent", FALSE);
  gboolean store_history = !silent &&
    bj_json_get_boolean (content, "store_history", TRUE);
  JsonObject *reply;
  const char *status;

  if (code_node == NULL || !JSON_NODE_HOLDS_VALUE (code_node) ||
      json_node_get_value_type (code_node) != G_TYPE_STRING)
    {
      reply = json_object_new ();
      json_object_set_string_member (reply, "status", "error");
      json_object_set_string_member (reply, "ename", "BadRequest");
      json_object_set_string_member (reply, "evalue", _("execute_request has no “code” string"));
      json_object_set_array_member (reply, "traceback", json_array_new ());
      json_object_set_int_member (reply, "execution_count", (gint64) self->execution_count);
      return reply;
    }

  if (store_history)
    {
      self->execution_count++;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_EXECUTION_COUNT]);
    }

  if (!silent)
    {
      g_autoptr(JsonObject) input = json_object_new ();
      g_autoptr(GBytes) text = NULL;
      g_autoptr(GBytes) parent = bj_message_get_header_json (request);

      json_object_set_string_member (input, "code", json_node_get_string (code_node));
      json_object_set_int_member (input, "execution_count", (gint64) self->execution_count);
      text = json_object_to_bytes (input);
      bj_io_publish (self->io, parent, "execute_input", text, NULL, NULL);
    }

  g_signal_emit (self, signals[SIGNAL_EXECUTE_STARTED], 0, self->execution_count);
  g_atomic_int_set (&self->executing, 1);
  reply = bj_executor_execute (self->executor, self, request, self->execution_count);
  g_atomic_int_set (&self->executing, 0);

  if (reply == NULL)
    {
      reply = json_object_new ();
      json_object_set_string_member (reply, "status", "error");
      json_object_set_string_member (reply, "ename", "RuntimeError");
      json_object_set_string_member (reply, "evalue", _("The executor returned no reply"));
      json_object_set_array_member (reply, "traceback", json_array_new ());
    }
  if (!json_object_has_member (reply, "status"))
    json_object_set_string_member (reply, "status", "ok");
  json_object_set_int_member (reply, "execution_count", (gint64) self->execution_count);
  if (g_str_equal (bj_json_get_string (reply, "status", ""), "ok"))
    {
      if (!json_object_has_member (reply, "payload"))
        json_object_set_array_member (reply, "payload", json_array_new ());
      if (!json_object_has_member (reply, "user_expressions"))
        json_object_set_object_member (reply, "user_expressions", json_object_new ());
    }

  status = bj_json_get_string (reply, "status", "");
  g_signal_emit (self, signals[SIGNAL_EXECUTE_FINISHED], 0, self->execution_count, status);
  return reply;
}

/* Output printed later (by threads, by comm handlers) belongs to the last request
 * that runs user code, not to a completion asked for in between. */
static gboolean
request_owns_output (const char *msg_type)
{
  return g_str_equal (msg_type, "execute_request") || g_str_has_prefix (msg_type, "comm_");
}

static void
handle_request (BjKernel  *self,
                BjMessage *request,
                BjChannel  channel)
{
  const char *msg_type = bj_message_get_msg_type (request);
  g_autoptr(JsonObject) reply = NULL;
  gboolean abort_queue = FALSE;

  g_clear_pointer (&self->current_request, bj_message_unref);
  self->current_request = bj_message_ref (request);
  if (request_owns_output (msg_type))
    {
      g_autoptr(GBytes) parent = bj_message_get_header_json (request);
      bj_io_set_stream_parent (self->io, parent);
    }

  publish_status (self, request, "busy");
  set_state (self, BJ_KERNEL_STATE_BUSY);

  if (g_str_equal (msg_type, "execute_request"))
    {
      JsonObject *content = bj_message_get_content (request);

      reply = execute (self, request);
      abort_queue = g_str_equal (bj_json_get_string (reply, "status", ""), "error") &&
        !bj_json_get_boolean (content, "silent", FALSE) &&
        bj_json_get_boolean (content, "stop_on_error", TRUE);
    }
  else if (g_str_equal (msg_type, "complete_request"))
    reply = bj_executor_complete (self->executor, self, request);
  else if (g_str_equal (msg_type, "inspect_request"))
    reply = bj_executor_inspect (self->executor, self, request);
  else if (g_str_equal (msg_type, "is_complete_request"))
    reply = bj_executor_is_complete (self->executor, self, request);
  else if (g_str_equal (msg_type, "history_request"))
    reply = bj_executor_history (self->executor, self, request);
  else
    {
      if (!bj_executor_handle_message (self->executor, self, request, &reply))
        g_warning ("Ignored a “%s” request on %s: this kernel does not handle that type",
                   msg_type, bj_channel_get_name (channel));
    }

  /* The kernel may have been stopped from inside the cell. */
  if (self->io == NULL)
    return;

  /* Only what was queued before the client could see this error is aborted: once
   * the reply is out, a new request is a deliberate one. */
  if (abort_queue)
    abort_queued_executions (self);
  /* idle goes out before the reply: a client that sends its next request on
   * getting this reply must not then see this request's idle and take it for the
   * end of the next one (jupyter_console 6 does, and loses that cell's output). */
  publish_status (self, request, "idle");
  if (reply != NULL)
    send_reply (self, channel, request, reply);
  set_state (self, BJ_KERNEL_STATE_IDLE);
}

static gboolean
dispatch_incoming (gpointer user_data)
{
  g_autoptr(BjKernel) self = g_object_ref (BJ_KERNEL (user_data));
  gint64 deadline = g_get_monotonic_time () + DISPATCH_SLICE_US;
  Incoming *in;

  /* Handle what is waiting, but hand the loop back after a slice so a host's own
   * events still run between requests. */
  while (self->io != NULL && (in = g_async_queue_try_pop (self->incoming)) != NULL)
    {
      if (in->message != NULL)
        handle_request (self, in->message, in->channel);
      else
        g_signal_emit (self, signals[SIGNAL_SHUTDOWN_REQUESTED], 0, in->restart);
      incoming_free (in);
      if (g_get_monotonic_time () > deadline)
        break;
    }
  return G_SOURCE_CONTINUE;
}

typedef struct {
  GSource source;
  GAsyncQueue *queue;
} DispatchSource;

static gboolean
dispatch_source_prepare (GSource *source,
                         gint    *timeout)
{
  *timeout = -1;
  return g_async_queue_length (((DispatchSource *) source)->queue) > 0;
}

static gboolean
dispatch_source_check (GSource *source)
{
  return g_async_queue_length (((DispatchSource *) source)->queue) > 0;
}

static gboolean
dispatch_source_dispatch (GSource     *source,
                          GSourceFunc  callback,
                          gpointer     user_data)
{
  return callback (user_data);
}

static void
dispatch_source_finalize (GSource *source)
{
  g_async_queue_unref (((DispatchSource *) source)->queue);
}

static GSourceFuncs dispatch_source_funcs = {
  .prepare = dispatch_source_prepare,
  .check = dispatch_source_check,
  .dispatch = dispatch_source_dispatch,
  .finalize = dispatch_source_finalize,
};

/* I/O thread callbacks. */
static void
io_request (BjMessage *request,
            BjChannel  channel,
            gpointer   user_data)
{
  BjKernel *self = user_data;
  Incoming *in = g_new0 (Incoming, 1);

  in->message = bj_message_ref (request);
  in->channel = channel;
  g_async_queue_push (self->incoming, in);
  g_main_context_wakeup (self->owner_context);
}

static void
io_interrupt (gpointer user_data)
{
  BjKernel *self = user_data;

  /* An interrupt while idle does nothing: there is no cell to stop. */
  if (g_atomic_int_get (&self->executing))
    bj_executor_interrupt (self->executor);
}

static void
io_shutdown (gboolean restart,
             gpointer user_data)
{
  BjKernel *self = user_data;
  Incoming *in = g_new0 (Incoming, 1);

  in->restart = restart;
  /* A shutdown goes before whatever is queued, and a running cell is interrupted:
   * the client asking for it must not wait for a cell that may never end. */
  g_async_queue_push_front (self->incoming, in);
  g_main_context_wakeup (self->owner_context);
  if (g_atomic_int_get (&self->executing))
    bj_executor_interrupt (self->executor);
}

static const BjIoCallbacks io_callbacks = {
  .request = io_request,
  .interrupt = io_interrupt,
  .shutdown = io_shutdown,
};

static char *
default_connection_file (GError **error)
{
  static guint counter = 0;
  const char *runtime_dir = g_getenv ("JUPYTER_RUNTIME_DIR");
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;

  if (runtime_dir != NULL && *runtime_dir != '\0')
    dir = g_strdup (runtime_dir);
  else if (g_getenv ("JUPYTER_DATA_DIR") != NULL)
    dir = g_build_filename (g_getenv ("JUPYTER_DATA_DIR"), "runtime", NULL);
  else
    dir = g_build_filename (g_get_user_data_dir (), "jupyter", "runtime", NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot create the folder “%s” for connection files: %s"),
                   dir, g_strerror (saved_errno));
      return NULL;
    }

  name = g_strdup_printf ("kernel-bj-%d-%u.json", (int) getpid (), ++counter);
  return g_build_filename (dir, name, NULL);
}

/* In a folder anyone may write to, someone else could replace the connection file
 * between our write and the client's read, and hand the client their own ports and
 * key. The sticky bit (as on /tmp) stops that: others cannot rename or delete files
 * they do not own there. */
static gboolean
check_connection_folder (const char  *connection_file,
                         GError     **error)
{
  g_autofree char *folder = g_path_get_dirname (connection_file);
  GStatBuf st;

  if (g_stat (folder, &st) != 0)
    return TRUE;  /* writing the file will say what is wrong */
  if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("Refusing to write the connection file in “%s”: anyone can write to "
                     "that folder and replace it (make it private, or set its sticky bit)"),
                   folder);
      return FALSE;
    }
  return TRUE;
}

static GBytes *
build_kernel_info (BjKernel *self)
{
  g_autoptr(JsonObject) info = bj_executor_get_kernel_info (self->executor);

  if (info == NULL)
    info = json_object_new ();
  json_object_set_string_member (info, "status", "ok");
  json_object_set_string_member (info, "protocol_version", BJ_PROTOCOL_VERSION);
  json_object_set_string_member (info, "implementation", "bpy-jupyter");
  json_object_set_string_member (info, "implementation_version", PACKAGE_VERSION);
  if (!json_object_has_member (info, "banner"))
    json_object_set_string_member (info, "banner", "");
  if (!json_object_has_member (info, "help_links"))
    json_object_set_array_member (info, "help_links", json_array_new ());
  json_object_set_boolean_member (info, "debugger", FALSE);
  /* Protocol 5.5 (JEP 92): what this kernel implements beyond the base protocol.
   * Never "kernel subshells": bpy must stay on the owner thread, and JupyterLab
   * would route comm traffic to a subshell. */
  if (!json_object_has_member (info, "supported_features"))
    json_object_set_array_member (info, "supported_features", json_array_new ());
  return json_object_to_bytes (info);
}

static BjConnectionInfo *
resolve_connection_info (BjKernel  *self,
                         gboolean  *out_must_write,
                         GError   **error)
{
  g_autoptr(BjConnectionInfo) info = NULL;

  *out_must_write = TRUE;
  if (self->connection_file != NULL && g_file_test (self->connection_file, G_FILE_TEST_EXISTS))
    {
      info = bj_connection_info_new_from_file (self->connection_file, error);
      if (info == NULL)
        return NULL;
      /* A file that names every port is the client's: it is used as is. */
      *out_must_write = FALSE;
      for (guint i = 0; i < BJ_N_CHANNELS; i++)
        if (bj_connection_info_get_port (info, i) == 0)
          *out_must_write = TRUE;
    }
  else if (self->connection_info != NULL)
    info = bj_connection_info_copy (self->connection_info);
  else
    {
      info = bj_connection_info_new ();
      if (!bj_connection_info_generate_key (info, error))
        return NULL;
    }

  if (!bj_connection_info_set_signature_scheme (info, bj_connection_info_get_signature_scheme (info), error))
    return NULL;

  if (*bj_connection_info_get_key (info) == '\0')
    g_warning ("This kernel’s connection has no key: messages are not signed, and anyone "
               "who can reach its ports can run code as you");

  return g_steal_pointer (&info);
}

/**
 * bj_kernel_start:
 * @self: a kernel
 * @error: return location for a #GError
 *
 * Binds the channels, writes the connection file if needed, and starts serving on
 * the calling thread's thread-default main context.
 *
 * With [property@Kernel:connection-file] naming an existing file, its ports and key
 * are used; a file that does not exist yet is created with free ports and a fresh
 * key, as is one under the Jupyter runtime folder when no file is set.
 *
 * Returns: %TRUE once the kernel is idle and reachable; %FALSE with @error set
 *   (%BJ_ERROR_ALREADY_RUNNING, %BJ_ERROR_ADDRESS_IN_USE,
 *   %BJ_ERROR_INVALID_CONNECTION_INFO, …), leaving the kernel stopped
 */
gboolean
bj_kernel_start (BjKernel  *self,
                 GError   **error)
{
  g_autoptr(BjConnectionInfo) info = NULL;
  g_autoptr(GBytes) kernel_info = NULL;
  DispatchSource *source;
  gboolean must_write = TRUE;

  g_return_val_if_fail (BJ_IS_KERNEL (self), FALSE);

  if (self->state != BJ_KERNEL_STATE_STOPPED)
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_ALREADY_RUNNING,
                           _("The kernel is already running"));
      return FALSE;
    }

  set_state (self, BJ_KERNEL_STATE_STARTING);

  info = resolve_connection_info (self, &must_write, error);
  if (info == NULL)
    goto fail;

  if (self->connection_file == NULL)
    {
      self->connection_file = default_connection_file (error);
      if (self->connection_file == NULL)
        goto fail;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTION_FILE]);
    }

  g_free (self->session);
  self->session = g_uuid_string_random ();
  {
    BjIo *io = bj_io_new (info, self->session, self->max_message_size, error);

    if (io == NULL)
      goto fail;
    g_mutex_lock (&self->io_lock);
    self->io = io;
    g_mutex_unlock (&self->io_lock);
  }

  if (must_write)
    {
      if (!check_connection_folder (self->connection_file, error) ||
          !bj_connection_info_write_file (info, self->connection_file, error))
        goto fail;
      self->wrote_connection_file = TRUE;
    }

  g_clear_pointer (&self->connection_info, bj_connection_info_free);
  self->connection_info = g_steal_pointer (&info);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTION_INFO]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SESSION]);

  kernel_info = build_kernel_info (self);
  bj_executor_attach (self->executor, self);

  self->owner_context = g_main_context_ref_thread_default ();
  source = (DispatchSource *) g_source_new (&dispatch_source_funcs, sizeof (DispatchSource));
  source->queue = g_async_queue_ref (self->incoming);
  g_source_set_callback ((GSource *) source, dispatch_incoming, self, NULL);
  g_source_set_static_name ((GSource *) source, "[bpy-jupyter] kernel requests");
  g_source_attach ((GSource *) source, self->owner_context);
  self->dispatch_source = (GSource *) source;

  bj_io_start (self->io, kernel_info, &io_callbacks, self);
  publish_status (self, NULL, "starting");
  set_state (self, BJ_KERNEL_STATE_IDLE);
  return TRUE;

fail:
  clear_io (self);
  if (self->wrote_connection_file)
    {
      g_unlink (self->connection_file);
      self->wrote_connection_file = FALSE;
    }
  set_state (self, BJ_KERNEL_STATE_STOPPED);
  return FALSE;
}

/**
 * bj_kernel_stop:
 * @self: a kernel
 * @error: return location for a #GError
 *
 * Stops serving: sends what was already published, joins the I/O thread, closes
 * every socket and removes the connection file if the kernel wrote it. Call it on
 * the owner thread, not from inside a running cell.
 *
 * Returns: %TRUE once stopped; %FALSE with %BJ_ERROR_NOT_RUNNING if it was not
 *   running, or %BJ_ERROR_BUSY from inside a running cell
 */
gboolean
bj_kernel_stop (BjKernel  *self,
                GError   **error)
{
  Incoming *in;

  g_return_val_if_fail (BJ_IS_KERNEL (self), FALSE);

  if (self->state == BJ_KERNEL_STATE_STOPPED || self->state == BJ_KERNEL_STATE_STOPPING)
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_NOT_RUNNING,
                           _("The kernel is not running"));
      return FALSE;
    }
  if (g_atomic_int_get (&self->executing))
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_BUSY,
                           _("The kernel cannot stop itself from inside a running cell"));
      return FALSE;
    }

  set_state (self, BJ_KERNEL_STATE_STOPPING);

  bj_executor_detach (self->executor, self);
  clear_io (self);

  if (self->dispatch_source != NULL)
    {
      g_source_destroy (self->dispatch_source);
      g_clear_pointer (&self->dispatch_source, g_source_unref);
    }
  g_clear_pointer (&self->owner_context, g_main_context_unref);
  while ((in = g_async_queue_try_pop (self->incoming)) != NULL)
    incoming_free (in);
  g_clear_pointer (&self->current_request, bj_message_unref);

  if (self->wrote_connection_file)
    {
      if (g_unlink (self->connection_file) != 0 && errno != ENOENT)
        g_warning ("Cannot remove the connection file “%s”: %s",
                   self->connection_file, g_strerror (errno));
      self->wrote_connection_file = FALSE;
    }

  set_state (self, BJ_KERNEL_STATE_STOPPED);
  return TRUE;
}

/**
 * bj_kernel_restart:
 * @self: a kernel
 * @error: return location for a #GError
 *
 * Stops the kernel and starts it again on the same ports, with the same key and
 * connection file, so connected clients carry on. Call it on the owner thread, not
 * from inside a running cell.
 *
 * Returns: %TRUE once running again; %FALSE with @error set: %BJ_ERROR_NOT_RUNNING
 *   if it was not running, %BJ_ERROR_BUSY from inside a running cell (both change
 *   nothing), or an error of [method@Kernel.start], leaving the kernel stopped
 */
gboolean
bj_kernel_restart (BjKernel  *self,
                   GError   **error)
{
  g_autoptr(BjConnectionInfo) info = NULL;

  g_return_val_if_fail (BJ_IS_KERNEL (self), FALSE);

  info = bj_kernel_get_connection_info (self);
  if (!bj_kernel_stop (self, error))
    return FALSE;
  bj_kernel_set_connection_info (self, info);
  return bj_kernel_start (self, error);
}

/**
 * bj_kernel_interrupt:
 * @self: a kernel
 * @error: return location for a #GError
 *
 * Interrupts the running cell through the executor, as a client's
 * `interrupt_request` does; a cell waiting for input gets no answer and is
 * interrupted too. Unlike everything else on a kernel this may be called
 * from any thread, which is the point: the owner thread is the one running the cell.
 *
 * Returns: %TRUE if a cell was running and was asked to stop; %FALSE with
 *   %BJ_ERROR_NOT_BUSY when no cell runs (nothing is done)
 */
gboolean
bj_kernel_interrupt (BjKernel  *self,
                     GError   **error)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), FALSE);

  if (!g_atomic_int_get (&self->executing))
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_NOT_BUSY,
                           _("No cell is running: there is nothing to interrupt"));
      return FALSE;
    }
  bj_executor_interrupt (self->executor);
  /* A cell waiting for input() runs no Python code the interrupt could reach. */
  g_mutex_lock (&self->io_lock);
  if (self->io != NULL)
    bj_io_cancel_input (self->io);
  g_mutex_unlock (&self->io_lock);
  return TRUE;
}

static void
bj_kernel_real_shutdown_requested (BjKernel *self,
                                   gboolean  restart)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = NULL;

  if (self->state == BJ_KERNEL_STATE_STOPPED)
    return;

  /* A restart keeps ports and key so connected clients find the kernel again. */
  if (restart)
    info = bj_connection_info_copy (self->connection_info);
  if (!bj_kernel_stop (self, &error))
    {
      g_warning ("Cannot stop the kernel on request: %s", error->message);
      return;
    }
  if (restart)
    {
      bj_kernel_set_connection_info (self, info);
      if (!bj_kernel_start (self, &error))
        g_warning ("Cannot restart the kernel: %s", error->message);
    }
}

/**
 * bj_kernel_publish:
 * @self: a kernel
 * @msg_type: an iopub message type, e.g. `display_data`
 * @content: the content
 * @metadata: (nullable): the metadata
 *
 * Publishes a message on iopub as a child of the request being handled. Text already
 * written with [method@Kernel.write_stream] goes out first. Thread-safe.
 */
void
bj_kernel_publish (BjKernel   *self,
                   const char *msg_type,
                   JsonObject *content,
                   JsonObject *metadata)
{
  g_autoptr(GBytes) content_text = NULL;
  g_autoptr(GBytes) metadata_text = NULL;

  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (msg_type != NULL);
  g_return_if_fail (content != NULL);

  if (self->io == NULL)
    return;
  content_text = json_object_to_bytes (content);
  metadata_text = metadata ? json_object_to_bytes (metadata) : NULL;
  bj_io_publish (self->io, NULL, msg_type, content_text, metadata_text, NULL);
}

/**
 * bj_kernel_publish_json:
 * @self: a kernel
 * @msg_type: an iopub message type
 * @content_json: the content as JSON text (an object)
 * @metadata_json: (nullable): the metadata as JSON text (an object)
 * @buffers: (nullable) (element-type GBytes): binary buffers sent after the content
 *
 * Like [method@Kernel.publish], for callers that already have JSON text: it is
 * sent as given, unparsed, so it must be a valid JSON object. Thread-safe.
 */
void
bj_kernel_publish_json (BjKernel   *self,
                        const char *msg_type,
                        const char *content_json,
                        const char *metadata_json,
                        GPtrArray  *buffers)
{
  g_autoptr(GBytes) content_text = NULL;
  g_autoptr(GBytes) metadata_text = NULL;

  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (msg_type != NULL);
  g_return_if_fail (content_json != NULL);

  if (self->io == NULL)
    return;
  content_text = g_bytes_new (content_json, strlen (content_json));
  metadata_text = metadata_json ? g_bytes_new (metadata_json, strlen (metadata_json)) : NULL;
  bj_io_publish (self->io, NULL, msg_type, content_text, metadata_text, buffers);
}

/**
 * bj_kernel_write_stream:
 * @self: a kernel
 * @stream: stdout or stderr
 * @text: UTF-8 text
 * @length: the length of @text in bytes, or -1 if nul-terminated
 *
 * Appends text to a stream. Text is batched into `stream` messages: the first
 * write after a pause is sent at once, later ones within a few milliseconds.
 * Thread-safe and cheap enough to call for every line.
 */
void
bj_kernel_write_stream (BjKernel   *self,
                        BjStream    stream,
                        const char *text,
                        gssize      length)
{
  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (stream == BJ_STREAM_STDOUT || stream == BJ_STREAM_STDERR);
  g_return_if_fail (text != NULL || length == 0);

  if (self->io == NULL)
    return;
  bj_io_write_stream (self->io, stream, text, length < 0 ? strlen (text) : (gsize) length);
}

/**
 * bj_kernel_request_input:
 * @self: a kernel
 * @prompt: the prompt to show
 * @password: whether the frontend should hide what is typed
 * @error: return location for a #GError
 *
 * Asks the frontend of the running `execute_request` for a line of input and waits
 * for it. Call it on the owner thread from inside [vfunc@Executor.execute].
 *
 * Returns: (transfer full) (nullable): the line, or %NULL with @error set:
 *   %G_IO_ERROR_NOT_SUPPORTED when the frontend does not allow input,
 *   %G_IO_ERROR_CANCELLED when interrupted or stopped
 */
char *
bj_kernel_request_input (BjKernel    *self,
                         const char  *prompt,
                         gboolean     password,
                         GError     **error)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), NULL);
  g_return_val_if_fail (prompt != NULL, NULL);

  if (self->io == NULL || self->current_request == NULL ||
      !g_str_equal (bj_message_get_msg_type (self->current_request), "execute_request"))
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_NOT_RUNNING,
                           _("Input can only be requested while a cell runs"));
      return NULL;
    }
  if (!bj_json_get_boolean (bj_message_get_content (self->current_request),
                                                    "allow_stdin", FALSE))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("This frontend does not support input requests"));
      return NULL;
    }
  return bj_io_request_input (self->io, self->current_request, prompt, password, error);
}

/**
 * bj_kernel_new:
 * @executor: the executor that runs code
 *
 * Creates a kernel that runs code with @executor. It listens only once
 * started with [method@Kernel.start] or [method@Kernel.start_async].
 *
 * Returns: (transfer full): a new, stopped kernel
 */
BjKernel *
bj_kernel_new (BjExecutor *executor)
{
  g_return_val_if_fail (BJ_IS_EXECUTOR (executor), NULL);
  return g_object_new (BJ_TYPE_KERNEL, "executor", executor, NULL);
}

/**
 * bj_kernel_get_state:
 * @self: a kernel
 *
 * Gets where the kernel is in its life cycle: [property@Kernel:state].
 *
 * Returns: the current state
 */
BjKernelState
bj_kernel_get_state (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), BJ_KERNEL_STATE_STOPPED);
  return self->state;
}

/**
 * bj_kernel_get_executor:
 * @self: a kernel
 *
 * Gets the executor that runs the kernel's code.
 *
 * Returns: (transfer none): the executor
 */
BjExecutor *
bj_kernel_get_executor (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), NULL);
  return self->executor;
}

/**
 * bj_kernel_get_connection_file:
 * @self: a kernel
 *
 * Gets the connection file the kernel reads or writes when it starts.
 *
 * Returns: (nullable) (type filename): the connection file, or %NULL before the
 *   first start when none was set
 */
const char *
bj_kernel_get_connection_file (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), NULL);
  return self->connection_file;
}

/**
 * bj_kernel_set_connection_file:
 * @self: a stopped kernel
 * @path: (nullable) (type filename): the connection file to use or create, or
 *   %NULL for one in the Jupyter runtime folder
 *
 * Sets the connection file used by the next start.
 */
void
bj_kernel_set_connection_file (BjKernel   *self,
                               const char *path)
{
  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (self->state == BJ_KERNEL_STATE_STOPPED);

  if (g_strcmp0 (self->connection_file, path) == 0)
    return;
  g_free (self->connection_file);
  self->connection_file = g_strdup (path);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTION_FILE]);
}

/**
 * bj_kernel_get_connection_info:
 * @self: a kernel
 *
 * Gets where the kernel listens and its key.
 *
 * Returns: (transfer full) (nullable): a copy of the connection info in use while
 *   running (ports resolved), or the configured one when stopped
 */
BjConnectionInfo *
bj_kernel_get_connection_info (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), NULL);
  return self->connection_info ? bj_connection_info_copy (self->connection_info) : NULL;
}

/**
 * bj_kernel_set_connection_info:
 * @self: a stopped kernel
 * @info: (nullable): where to listen and the key; %NULL for defaults and a fresh key
 *
 * Sets the connection info used by the next start when the connection file does
 * not exist yet. An empty key turns signing off: only for trusted, local use.
 */
void
bj_kernel_set_connection_info (BjKernel               *self,
                               const BjConnectionInfo *info)
{
  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (self->state == BJ_KERNEL_STATE_STOPPED);

  g_clear_pointer (&self->connection_info, bj_connection_info_free);
  self->connection_info = info ? bj_connection_info_copy (info) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTION_INFO]);
}

/**
 * bj_kernel_get_execution_count:
 * @self: a kernel
 *
 * Gets [property@Kernel:execution-count], the number of the last cell
 * stored in history.
 *
 * Returns: the number of executions stored in history so far
 */
guint64
bj_kernel_get_execution_count (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), 0);
  return self->execution_count;
}

/**
 * bj_kernel_get_session:
 * @self: a kernel
 *
 * Gets the session id the kernel signs its messages with; a new one is
 * made at each start.
 *
 * Returns: (nullable): the session id of the current run, %NULL before the first
 */
const char *
bj_kernel_get_session (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), NULL);
  return self->session;
}

/**
 * bj_kernel_get_owner_context:
 * @self: a kernel
 *
 * Gets the main context the kernel serves: the thread-default context of
 * the thread that started it.
 *
 * Returns: (transfer none) (nullable): the main context requests are handled on
 *   while running
 */
GMainContext *
bj_kernel_get_owner_context (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), NULL);
  return self->owner_context;
}

/**
 * bj_kernel_get_max_message_size:
 * @self: a kernel
 *
 * Gets [property@Kernel:max-message-size].
 *
 * Returns: the largest message, in bytes, a client may send
 */
gint64
bj_kernel_get_max_message_size (BjKernel *self)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), 0);

  return self->max_message_size;
}

/**
 * bj_kernel_set_max_message_size:
 * @self: a kernel
 * @size: a number of bytes, at least %BJ_KERNEL_MIN_MAX_MESSAGE_SIZE
 *
 * Sets the largest message a client may send on the shell, control and stdin
 * channels, all frames counted. ZeroMQ checks each frame as it arrives, before
 * buffering it, and drops the connection of a client that sends more (the client
 * reconnects; the message is lost). Applies from the next start.
 */
void
bj_kernel_set_max_message_size (BjKernel *self,
                                gint64    size)
{
  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (size >= BJ_KERNEL_MIN_MAX_MESSAGE_SIZE);

  if (self->max_message_size == size)
    return;
  self->max_message_size = size;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MAX_MESSAGE_SIZE]);
}

static void
bj_kernel_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  BjKernel *self = BJ_KERNEL (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_EXECUTOR:
      g_value_set_object (value, self->executor);
      break;
    case PROP_CONNECTION_FILE:
      g_value_set_string (value, self->connection_file);
      break;
    case PROP_CONNECTION_INFO:
      g_value_take_boxed (value, bj_kernel_get_connection_info (self));
      break;
    case PROP_EXECUTION_COUNT:
      g_value_set_uint64 (value, self->execution_count);
      break;
    case PROP_SESSION:
      g_value_set_string (value, self->session);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_int64 (value, self->max_message_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bj_kernel_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  BjKernel *self = BJ_KERNEL (object);

  switch (prop_id)
    {
    case PROP_EXECUTOR:
      self->executor = g_value_dup_object (value);
      break;
    case PROP_CONNECTION_FILE:
      bj_kernel_set_connection_file (self, g_value_get_string (value));
      break;
    case PROP_CONNECTION_INFO:
      bj_kernel_set_connection_info (self, g_value_get_boxed (value));
      break;
    case PROP_MAX_MESSAGE_SIZE:
      bj_kernel_set_max_message_size (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bj_kernel_dispose (GObject *object)
{
  BjKernel *self = BJ_KERNEL (object);

  if (self->state != BJ_KERNEL_STATE_STOPPED)
    bj_kernel_stop (self, NULL);
  g_clear_object (&self->executor);

  G_OBJECT_CLASS (bj_kernel_parent_class)->dispose (object);
}

static void
bj_kernel_finalize (GObject *object)
{
  BjKernel *self = BJ_KERNEL (object);

  g_free (self->connection_file);
  g_clear_pointer (&self->connection_info, bj_connection_info_free);
  g_free (self->session);
  g_async_queue_unref (self->incoming);
  g_mutex_clear (&self->io_lock);

  G_OBJECT_CLASS (bj_kernel_parent_class)->finalize (object);
}

static void
bj_kernel_class_init (BjKernelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = bj_kernel_get_property;
  object_class->set_property = bj_kernel_set_property;
  object_class->dispose = bj_kernel_dispose;
  object_class->finalize = bj_kernel_finalize;

  /**
   * BjKernel:state:
   *
   * Where the kernel is in its life cycle.
   */
  props[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       BJ_TYPE_KERNEL_STATE, BJ_KERNEL_STATE_STOPPED,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernel:executor:
   *
   * The executor that runs code.
   */
  props[PROP_EXECUTOR] =
    g_param_spec_object ("executor", NULL, NULL,
                         BJ_TYPE_EXECUTOR,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernel:connection-file:
   *
   * The connection file: read if it exists when the kernel starts, written
   * otherwise. Settable while stopped.
   */
  props[PROP_CONNECTION_FILE] =
    g_param_spec_string ("connection-file", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernel:connection-info:
   *
   * The connection info in use (while running) or to use (while stopped).
   */
  props[PROP_CONNECTION_INFO] =
    g_param_spec_boxed ("connection-info", NULL, NULL,
                        BJ_TYPE_CONNECTION_INFO,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernel:execution-count:
   *
   * The number of executions stored in history.
   */
  props[PROP_EXECUTION_COUNT] =
    g_param_spec_uint64 ("execution-count", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernel:session:
   *
   * The session id of the current run, new at each start.
   */
  props[PROP_SESSION] =
    g_param_spec_string ("session", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BjKernel:max-message-size:
   *
   * The largest message, in bytes and all frames counted, a client may send on
   * the shell, control and stdin channels; a client sending more loses its
   * connection. Applies from the next start.
   */
  props[PROP_MAX_MESSAGE_SIZE] =
    g_param_spec_int64 ("max-message-size", NULL, NULL,
                        BJ_KERNEL_MIN_MAX_MESSAGE_SIZE, G_MAXINT64,
                        BJ_KERNEL_DEFAULT_MAX_MESSAGE_SIZE,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * BjKernel::state-changed:
   * @self: the kernel
   * @state: the new state
   *
   * Emitted on the owner thread at every change of [property@Kernel:state].
   */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, BJ_TYPE_KERNEL_STATE);

  /**
   * BjKernel::execute-started:
   * @self: the kernel
   * @execution_count: the execution's number
   *
   * Emitted on the owner thread before a cell runs.
   */
  signals[SIGNAL_EXECUTE_STARTED] =
    g_signal_new ("execute-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);

  /**
   * BjKernel::execute-finished:
   * @self: the kernel
   * @execution_count: the execution's number
   * @status: `ok`, `error` or `aborted`
   *
   * Emitted on the owner thread after a cell ran.
   */
  signals[SIGNAL_EXECUTE_FINISHED] =
    g_signal_new ("execute-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_STRING);

  /**
   * BjKernel::shutdown-requested:
   * @self: the kernel
   * @restart: whether the client asked for a restart
   *
   * Emitted on the owner thread after a client's `shutdown_request` was answered.
   * The default handler stops the kernel, and with @restart starts it again on the
   * same ports with the same key. A host that should exit instead connects a
   * handler and stops the emission.
   */
  signals[SIGNAL_SHUTDOWN_REQUESTED] =
    g_signal_new_class_handler ("shutdown-requested", G_TYPE_FROM_CLASS (klass),
                                G_SIGNAL_RUN_LAST,
                                G_CALLBACK (bj_kernel_real_shutdown_requested),
                                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
bj_kernel_init (BjKernel *self)
{
  self->incoming = g_async_queue_new_full ((GDestroyNotify) incoming_free);
  self->max_message_size = BJ_KERNEL_DEFAULT_MAX_MESSAGE_SIZE;
  g_mutex_init (&self->io_lock);
}

/* ---- asynchronous start and stop ----
 *
 * Binding the sockets and joining the I/O thread take milliseconds, so the work
 * itself is not moved to a thread: it must happen on the owner context anyway (the
 * kernel's sources live there and stop must not race a running request). What the
 * async variants add is ordering with the rest of the loop, a GCancellable that is
 * honoured until the work begins, and a callback in the caller's context. */

static gboolean
start_in_owner_context (gpointer user_data)
{
  GTask *task = G_TASK (user_data);
  BjKernel *self = g_task_get_source_object (task);
  GMainContext *context = g_task_get_context (task);
  GError *error = NULL;
  gboolean started;

  if (g_task_return_error_if_cancelled (task))
    return G_SOURCE_REMOVE;

  /* The kernel serves the thread-default context of the caller of start_async,
   * the one this task dispatches in, as bj_kernel_start() would have. */
  g_main_context_push_thread_default (context);
  started = bj_kernel_start (self, &error);
  g_main_context_pop_thread_default (context);

  if (started)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  return G_SOURCE_REMOVE;
}

/**
 * bj_kernel_start_async:
 * @self: a stopped kernel
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async) (nullable) (closure user_data): called once the kernel started or failed to
 * @user_data: data for @callback
 *
 * Starts the kernel like [method@Kernel.start], from the next iteration of the
 * calling thread's thread-default main context, which becomes the owner context.
 * Cancelling @cancellable before then leaves the kernel stopped and finishes with
 * %G_IO_ERROR_CANCELLED; once started, cancelling does not stop it.
 *
 * Finish with [method@Kernel.start_finish] in @callback, which is called in the
 * same context.
 */
void
bj_kernel_start_async (BjKernel            *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSource) source = NULL;

  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bj_kernel_start_async);
  g_task_set_name (task, "[bpy-jupyter] kernel start");
  if (g_task_return_error_if_cancelled (task))
    return;

  source = g_idle_source_new ();
  g_source_set_static_name (source, "[bpy-jupyter] kernel start");
  g_task_attach_source (task, source, start_in_owner_context);
}

/**
 * bj_kernel_start_finish:
 * @self: a kernel
 * @result: the result given to the callback of [method@Kernel.start_async]
 * @error: return location for a #GError
 *
 * Finishes [method@Kernel.start_async].
 *
 * Returns: %TRUE once the kernel is idle and reachable; %FALSE with @error set:
 *   %G_IO_ERROR_CANCELLED, or any error of [method@Kernel.start]
 */
gboolean
bj_kernel_start_finish (BjKernel      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, bj_kernel_start_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
stop_in_owner_context (gpointer user_data)
{
  GTask *task = G_TASK (user_data);
  BjKernel *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return G_SOURCE_REMOVE;

  if (bj_kernel_stop (self, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  return G_SOURCE_REMOVE;
}

/**
 * bj_kernel_stop_async:
 * @self: a running kernel
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async) (nullable) (closure user_data): called once the kernel stopped or failed to
 * @user_data: data for @callback
 *
 * Stops the kernel like [method@Kernel.stop], from the next iteration of its owner
 * context. Call it on the owner thread; unlike [method@Kernel.stop] it may be
 * called from inside a running cell: the kernel then stops once the cell returned
 * and its reply went out. Cancelling @cancellable before the kernel begins to stop
 * leaves it running and finishes with %G_IO_ERROR_CANCELLED.
 *
 * Finish with [method@Kernel.stop_finish] in @callback, which is called in the
 * calling thread's thread-default main context.
 */
void
bj_kernel_stop_async (BjKernel            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSource) source = NULL;

  g_return_if_fail (BJ_IS_KERNEL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bj_kernel_stop_async);
  g_task_set_name (task, "[bpy-jupyter] kernel stop");
  if (g_task_return_error_if_cancelled (task))
    return;

  if (self->owner_context == NULL ||
      self->state == BJ_KERNEL_STATE_STOPPED || self->state == BJ_KERNEL_STATE_STOPPING)
    {
      g_task_return_new_error (task, BJ_ERROR, BJ_ERROR_NOT_RUNNING,
                               "%s", _("The kernel is not running"));
      return;
    }

  /* Not g_task_attach_source(): the work belongs to the owner context, which need
   * not be the caller's. The source keeps the task (and so the kernel) alive. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[bpy-jupyter] kernel stop");
  g_source_set_callback (source, stop_in_owner_context, g_object_ref (task), g_object_unref);
  g_source_attach (source, self->owner_context);
}

/**
 * bj_kernel_stop_finish:
 * @self: a kernel
 * @result: the result given to the callback of [method@Kernel.stop_async]
 * @error: return location for a #GError
 *
 * Finishes [method@Kernel.stop_async].
 *
 * Returns: %TRUE once stopped; %FALSE with @error set: %G_IO_ERROR_CANCELLED,
 *   %BJ_ERROR_NOT_RUNNING, or %BJ_ERROR_BUSY if the owner context was iterated
 *   from inside a running cell
 */
gboolean
bj_kernel_stop_finish (BjKernel      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (BJ_IS_KERNEL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, bj_kernel_stop_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
