/* bj-io.c: the kernel's I/O thread
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ZeroMQ sockets are not thread-safe, so one thread owns them all. It answers the
 * heartbeat and the control requests that need no executor itself, so a host that is
 * busy running a cell never looks dead; everything else is handed to the kernel.
 * Other threads talk to it through a locked queue and a wake-up pipe.
 */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include "bj-i18n-private.h"
#include <glib/gstdio.h>
#include <unistd.h>
#include <zmq.h>

#include "bj-error.h"
#include "bj-io-private.h"
#include "bj-usage-private.h"
#include "bj-wire-private.h"

/* Stream text is batched: the first write after a quiet spell goes out at once,
 * later ones at most every STREAM_FLUSH_INTERVAL_US, so a print loop sends few
 * large messages rather than one per line. */
#define STREAM_FLUSH_INTERVAL_US 2000
/* print() writes the text and the newline separately: waiting this long after the
 * first write sends them as one message, and is still far below what a person sees. */
#define STREAM_COALESCE_US 200
#define REPLAY_GUARD_CAPACITY 65536
/* Messages, not bytes: what ZeroMQ queues for one peer before it drops (PUB) or
 * refuses (ROUTER, which we never block on) more. A subscriber that stops reading
 * loses iopub messages beyond this; the host never waits for it. */
#define SEND_HIGH_WATER_MARK 1000
#define ZERO_COPY_THRESHOLD 8192
/* A client sending garbage in a loop must not flood the host's log: this many
 * rejections are logged per window, the rest counted and summed up. */
#define REJECTION_LOG_BURST 10
#define REJECTION_LOG_WINDOW_US (10 * G_USEC_PER_SEC)

typedef struct {
  BjChannel channel;
  GPtrArray *identities;        /* GBytes; NULL on iopub */
  char *msg_type;
  GBytes *parent_header;        /* NULL → {}, or the current parent with use_current_parent */
  gboolean use_current_parent;
  GBytes *metadata;             /* NULL → {} */
  GBytes *content;              /* NULL for a stream: built from stream_text */
  GPtrArray *buffers;           /* GBytes, or NULL */
  BjStream stream;
  GString *stream_text;
} Outgoing;

struct _BjIo {
  void *context;
  void *sockets[BJ_N_CHANNELS];
  int wakeup_fds[2];
  GThread *thread;
  gboolean quit;                /* under lock */
  char *session;
  gint64 max_message_size;

  /* I/O thread only */
  BjSigner *signer;
  BjReplayGuard *replay_guard;
  BjUsage *usage;
  GBytes *kernel_info;
  BjIoCallbacks callbacks;
  gpointer user_data;
  gint64 last_stream_flush;
  gint64 rejection_window_start;
  guint rejections_in_window;

  GMutex lock;
  GQueue outgoing;              /* Outgoing*, under lock */
  GString *stream_text[2];      /* under lock */
  GBytes *stream_parent;        /* under lock */
  gboolean stream_signaled;     /* under lock: a flush is scheduled */
  gint64 stream_signal_time;    /* under lock: when it was */

  /* The one pending input_request, under lock. */
  GCond input_cond;
  gboolean input_waiting;
  char *input_value;
  gboolean input_cancelled;
};

static GBytes *
empty_object_bytes (void)
{
  return g_bytes_new_static ("{}", 2);
}

static GBytes *
bytes_take_string (char *text)
{
  return g_bytes_new_take (text, strlen (text));
}

static void
unref_bytes_hint (void *data,
                  void *hint)
{
  g_bytes_unref (hint);
}

static void
outgoing_free (Outgoing *out)
{
  g_clear_pointer (&out->identities, g_ptr_array_unref);
  g_free (out->msg_type);
  g_clear_pointer (&out->parent_header, g_bytes_unref);
  g_clear_pointer (&out->metadata, g_bytes_unref);
  g_clear_pointer (&out->content, g_bytes_unref);
  g_clear_pointer (&out->buffers, g_ptr_array_unref);
  if (out->stream_text != NULL)
    g_string_free (out->stream_text, TRUE);
  g_free (out);
}

static void
wakeup (BjIo *self)
{
  static const char byte = 'w';
  ssize_t ret;

  do
    ret = write (self->wakeup_fds[1], &byte, 1);
  while (ret < 0 && errno == EINTR);
  /* EAGAIN: the pipe is full of wake-ups already, which is enough. */
}

static void
drain_wakeup (BjIo *self)
{
  char buffer[256];

  while (read (self->wakeup_fds[0], buffer, sizeof buffer) > 0)
    ;
}

static gboolean
set_socket_option (void        *socket,
                   int          option,
                   const void  *value,
                   size_t       size,
                   GError     **error)
{
  if (zmq_setsockopt (socket, option, value, size) != 0)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot configure socket: %s"), zmq_strerror (zmq_errno ()));
      return FALSE;
    }
  return TRUE;
}

static guint
port_of_endpoint (const char *endpoint)
{
  const char *colon = strrchr (endpoint, ':');
  guint64 port = 0;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    return 0;
  return (guint) port;
}

static gboolean
bind_channel (BjIo              *self,
              BjConnectionInfo  *info,
              BjChannel          channel,
              GError           **error)
{
  static const int socket_types[BJ_N_CHANNELS] = {
    [BJ_CHANNEL_SHELL] = ZMQ_ROUTER,
    /* XPUB: it sees each new subscription and answers with iopub_welcome (JEP 65). */
    [BJ_CHANNEL_IOPUB] = ZMQ_XPUB,
    [BJ_CHANNEL_STDIN] = ZMQ_ROUTER,
    [BJ_CHANNEL_CONTROL] = ZMQ_ROUTER,
    [BJ_CHANNEL_HEARTBEAT] = ZMQ_REP,
  };
  const int zero = 0;
  const int one = 1;
  const int high_water_mark = SEND_HIGH_WATER_MARK;
  const gint64 max_size = self->max_message_size;
  g_autofree char *endpoint = NULL;
  gboolean ipc = g_str_equal (bj_connection_info_get_transport (info), "ipc");
  void *socket;

  socket = zmq_socket (self->context, socket_types[channel]);
  if (socket == NULL)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot create the %s socket: %s"),
                   bj_channel_get_name (channel), zmq_strerror (zmq_errno ()));
      return FALSE;
    }
  self->sockets[channel] = socket;

  /* ZeroMQ checks the size of each frame as it arrives, before buffering it, and
   * drops the connection of a peer that sends one over the limit. */
  if (!set_socket_option (socket, ZMQ_LINGER, &zero, sizeof zero, error) ||
      !set_socket_option (socket, ZMQ_SNDHWM, &high_water_mark, sizeof high_water_mark, error) ||
      !set_socket_option (socket, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size, error))
    return FALSE;
  if (socket_types[channel] == ZMQ_ROUTER &&
      !set_socket_option (socket, ZMQ_ROUTER_HANDOVER, &one, sizeof one, error))
    return FALSE;
  /* Verbose: every subscriber's subscription comes through, not only the first one
   * to a topic, so each client gets its own welcome. */
  if (socket_types[channel] == ZMQ_XPUB &&
      !set_socket_option (socket, ZMQ_XPUB_VERBOSE, &one, sizeof one, error))
    return FALSE;
  if (strchr (bj_connection_info_get_ip (info), ':') != NULL && !ipc &&
      !set_socket_option (socket, ZMQ_IPV6, &one, sizeof one, error))
    return FALSE;

  if (ipc && bj_connection_info_get_port (info, channel) == 0)
    {
      /* ipc "ports" are suffixes of a path: take the first one nobody uses. */
      for (guint port = 1; port < 65536; port++)
        {
          g_autofree char *path = g_strdup_printf ("%s-%u", bj_connection_info_get_ip (info), port);
          gboolean taken = FALSE;

          for (guint other = 0; other < BJ_N_CHANNELS; other++)
            taken |= bj_connection_info_get_port (info, other) == port;
          if (!taken && !g_file_test (path, G_FILE_TEST_EXISTS))
            {
              bj_connection_info_set_port (info, channel, port);
              break;
            }
        }
    }

  endpoint = bj_connection_info_get_endpoint (info, channel);
  if (zmq_bind (socket, endpoint) != 0)
    {
      int code = zmq_errno ();
      g_set_error (error, BJ_ERROR,
                   code == EADDRINUSE ? BJ_ERROR_ADDRESS_IN_USE : BJ_ERROR_FAILED,
                   _("Cannot listen on %s for the %s channel: %s"),
                   endpoint, bj_channel_get_name (channel), zmq_strerror (code));
      return FALSE;
    }

  if (!ipc && bj_connection_info_get_port (info, channel) == 0)
    {
      char last_endpoint[256] = "";
      size_t size = sizeof last_endpoint;

      if (zmq_getsockopt (socket, ZMQ_LAST_ENDPOINT, last_endpoint, &size) != 0 ||
          port_of_endpoint (last_endpoint) == 0)
        {
          g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                       _("Cannot tell which port the %s channel got"),
                       bj_channel_get_name (channel));
          return FALSE;
        }
      bj_connection_info_set_port (info, channel, port_of_endpoint (last_endpoint));
    }

  return TRUE;
}

static void
close_sockets (BjIo *self)
{
  for (guint i = 0; i < BJ_N_CHANNELS; i++)
    g_clear_pointer (&self->sockets[i], zmq_close);
  g_clear_pointer (&self->context, zmq_ctx_term);
}

BjIo *
bj_io_new (BjConnectionInfo  *info,
           const char        *session,
           gint64             max_message_size,
           GError           **error)
{
  BjIo *self = g_new0 (BjIo, 1);

  self->max_message_size = max_message_size;
  self->wakeup_fds[0] = self->wakeup_fds[1] = -1;
  g_mutex_init (&self->lock);
  g_cond_init (&self->input_cond);
  g_queue_init (&self->outgoing);
  self->session = g_strdup (session);
  self->stream_text[0] = g_string_new (NULL);
  self->stream_text[1] = g_string_new (NULL);

  self->context = zmq_ctx_new ();
  if (self->context == NULL)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot create a ZeroMQ context: %s"), zmq_strerror (zmq_errno ()));
      bj_io_free (self);
      return NULL;
    }
  /* With linger 0 everywhere, terminating the context must never wait. */
  zmq_ctx_set (self->context, ZMQ_BLOCKY, 0);
  zmq_ctx_set (self->context, ZMQ_IO_THREADS, 1);

  for (guint channel = 0; channel < BJ_N_CHANNELS; channel++)
    if (!bind_channel (self, info, channel, error))
      {
        bj_io_free (self);
        return NULL;
      }

  if (!g_unix_open_pipe (self->wakeup_fds, FD_CLOEXEC, error) ||
      !g_unix_set_fd_nonblocking (self->wakeup_fds[0], TRUE, error) ||
      !g_unix_set_fd_nonblocking (self->wakeup_fds[1], TRUE, error))
    {
      bj_io_free (self);
      return NULL;
    }

  self->signer = bj_signer_new (bj_connection_info_get_key (info));
  self->replay_guard = bj_replay_guard_new (REPLAY_GUARD_CAPACITY);
  self->usage = bj_usage_new ();
  return self;
}

static void
send_frames (BjIo      *self,
             BjChannel  channel,
             GPtrArray *frames)
{
  void *socket = self->sockets[channel];

  for (guint i = 0; i < frames->len; i++)
    {
      GBytes *frame = frames->pdata[i];
      int flags = ZMQ_DONTWAIT | (i + 1 < frames->len ? ZMQ_SNDMORE : 0);
      gsize length;
      const void *data = g_bytes_get_data (frame, &length);
      int ret;

      if (length >= ZERO_COPY_THRESHOLD)
        {
          zmq_msg_t msg;
          zmq_msg_init_data (&msg, (void *) data, length,
                             unref_bytes_hint,
                             g_bytes_ref (frame));
          ret = zmq_msg_send (&msg, socket, flags);
          if (ret < 0)
            zmq_msg_close (&msg);
        }
      else
        ret = zmq_send (socket, data, length, flags);

      if (ret < 0)
        {
          /* A vanished client or a full queue: the message is dropped, the kernel goes on. */
          g_debug ("Dropped a message on %s: %s", bj_channel_get_name (channel),
                   zmq_strerror (zmq_errno ()));
          return;
        }
    }
}

static GBytes *
stream_content (BjStream  stream,
                GString  *text)
{
  GString *json = g_string_sized_new (text->len + text->len / 8 + 48);

  g_string_append (json, stream == BJ_STREAM_STDOUT ? "{\"name\":\"stdout\",\"text\":"
                                                    : "{\"name\":\"stderr\",\"text\":");
  bj_json_append_escaped (json, text->str, text->len);
  g_string_append_c (json, '}');
  return g_string_free_to_bytes (json);
}

static void
send_outgoing (BjIo     *self,
               Outgoing *out)
{
  g_autoptr(GBytes) header = bytes_take_string (bj_wire_make_header (out->msg_type, self->session, NULL));
  g_autoptr(GBytes) empty = empty_object_bytes ();
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GPtrArray) frames = NULL;

  if (out->content != NULL)
    content = g_bytes_ref (out->content);
  else
    content = stream_content (out->stream, out->stream_text);

  frames = bj_wire_build_frames (self->signer, out->identities, header,
                                 out->parent_header ? out->parent_header : empty,
                                 out->metadata ? out->metadata : empty,
                                 content, out->buffers);
  send_frames (self, out->channel, frames);
}

/* Under lock: turns buffered stream text into queued messages, so it goes out
 * before anything published after it. */
static gboolean
seal_streams_locked (BjIo *self)
{
  gboolean sealed = FALSE;

  for (guint stream = 0; stream < 2; stream++)
    {
      Outgoing *out;

      if (self->stream_text[stream]->len == 0)
        continue;

      out = g_new0 (Outgoing, 1);
      out->channel = BJ_CHANNEL_IOPUB;
      out->msg_type = g_strdup ("stream");
      out->parent_header = self->stream_parent ? g_bytes_ref (self->stream_parent) : NULL;
      out->stream = stream;
      out->stream_text = self->stream_text[stream];
      self->stream_text[stream] = g_string_sized_new (out->stream_text->len);
      g_queue_push_tail (&self->outgoing, out);
      sealed = TRUE;
    }
  return sealed;
}

static void
enqueue (BjIo     *self,
         Outgoing *out)
{
  g_mutex_lock (&self->lock);
  if (out->channel == BJ_CHANNEL_IOPUB)
    seal_streams_locked (self);
  if (out->use_current_parent && self->stream_parent != NULL)
    out->parent_header = g_bytes_ref (self->stream_parent);
  g_queue_push_tail (&self->outgoing, out);
  g_mutex_unlock (&self->lock);
  wakeup (self);
}

void
bj_io_reply (BjIo       *self,
             BjChannel   channel,
             BjMessage  *request,
             const char *msg_type,
             GBytes     *content)
{
  Outgoing *out = g_new0 (Outgoing, 1);

  out->channel = channel;
  out->identities = g_ptr_array_ref (bj_message_get_identities (request));
  out->msg_type = g_strdup (msg_type);
  out->parent_header = bj_message_get_header_json (request);
  out->content = g_bytes_ref (content);
  enqueue (self, out);
}

void
bj_io_publish (BjIo       *self,
               GBytes     *parent_header,
               const char *msg_type,
               GBytes     *content,
               GBytes     *metadata,
               GPtrArray  *buffers)
{
  Outgoing *out = g_new0 (Outgoing, 1);

  out->channel = BJ_CHANNEL_IOPUB;
  out->msg_type = g_strdup (msg_type);
  out->parent_header = parent_header ? g_bytes_ref (parent_header) : NULL;
  out->use_current_parent = parent_header == NULL;
  out->content = g_bytes_ref (content);
  out->metadata = metadata ? g_bytes_ref (metadata) : NULL;
  out->buffers = buffers && buffers->len ? g_ptr_array_ref (buffers) : NULL;
  enqueue (self, out);
}

void
bj_io_set_stream_parent (BjIo   *self,
                         GBytes *parent_header)
{
  gboolean sealed;

  g_mutex_lock (&self->lock);
  sealed = seal_streams_locked (self);
  g_clear_pointer (&self->stream_parent, g_bytes_unref);
  self->stream_parent = parent_header ? g_bytes_ref (parent_header) : NULL;
  g_mutex_unlock (&self->lock);
  if (sealed)
    wakeup (self);
}

void
bj_io_write_stream (BjIo       *self,
                    BjStream    stream,
                    const char *text,
                    gsize       length)
{
  gboolean signal;

  g_mutex_lock (&self->lock);
  g_string_append_len (self->stream_text[stream], text, length);
  signal = !self->stream_signaled;
  if (signal)
    {
      self->stream_signaled = TRUE;
      self->stream_signal_time = g_get_monotonic_time ();
    }
  g_mutex_unlock (&self->lock);
  if (signal)
    wakeup (self);
}

static GBytes *
status_content (const char *state)
{
  return bytes_take_string (g_strdup_printf ("{\"execution_state\":\"%s\"}", state));
}

/* Replies from the I/O thread itself go through the queue like any other, so they
 * keep their order with what the owner thread published. */
static void
reply_here (BjIo       *self,
            BjChannel   channel,
            BjMessage  *request,
            const char *msg_type,
            GBytes     *content)
{
  g_autoptr(GBytes) parent = bj_message_get_header_json (request);
  g_autoptr(GBytes) busy = status_content ("busy");
  g_autoptr(GBytes) idle = status_content ("idle");

  bj_io_publish (self, parent, "status", busy, NULL, NULL);
  bj_io_publish (self, parent, "status", idle, NULL, NULL);
  bj_io_reply (self, channel, request, msg_type, content);
}

static void
handle_shutdown (BjIo      *self,
                 BjChannel  channel,
                 BjMessage *request)
{
  JsonObject *content = bj_message_get_content (request);
  gboolean restart = bj_json_get_boolean (content, "restart", FALSE);
  g_autoptr(GBytes) reply = NULL;

  reply = bytes_take_string (g_strdup_printf ("{\"status\":\"ok\",\"restart\":%s}",
                                              restart ? "true" : "false"));
  reply_here (self, channel, request, "shutdown_reply", reply);
  self->callbacks.shutdown (restart, self->user_data);
  bj_io_cancel_input (self);
}

static void
handle_request (BjIo      *self,
                BjChannel  channel,
                BjMessage *request)
{
  const char *msg_type = bj_message_get_msg_type (request);

  if (g_str_equal (msg_type, "kernel_info_request"))
    reply_here (self, channel, request, "kernel_info_reply", self->kernel_info);
  else if (g_str_equal (msg_type, "shutdown_request"))
    handle_shutdown (self, channel, request);
  else if (channel == BJ_CHANNEL_CONTROL && g_str_equal (msg_type, "usage_request"))
    {
      g_autoptr(GBytes) usage = bj_usage_reply_content (self->usage);

      reply_here (self, channel, request, "usage_reply", usage);
    }
  else if (channel == BJ_CHANNEL_CONTROL && g_str_equal (msg_type, "interrupt_request"))
    {
      g_autoptr(GBytes) ok = g_bytes_new_static ("{\"status\":\"ok\"}", 15);

      self->callbacks.interrupt (self->user_data);
      bj_io_cancel_input (self);
      reply_here (self, channel, request, "interrupt_reply", ok);
    }
  else
    self->callbacks.request (request, channel, self->user_data);
}

static void
handle_input_reply (BjIo      *self,
                    BjMessage *reply)
{
  JsonObject *content = bj_message_get_content (reply);
  const char *value;

  if (!g_str_equal (bj_message_get_msg_type (reply), "input_reply"))
    {
      g_warning ("Ignored “%s” on the stdin channel: only input_reply belongs there",
                 bj_message_get_msg_type (reply));
      return;
    }

  value = bj_json_get_string (content, "value", NULL);
  g_mutex_lock (&self->lock);
  if (!self->input_waiting)
    g_warning ("Ignored an input_reply that answers no input_request");
  else if (value == NULL)
    g_warning ("Ignored an input_reply without a “value” string");
  else
    {
      g_free (self->input_value);
      self->input_value = g_strdup (value);
      g_cond_broadcast (&self->input_cond);
    }
  g_mutex_unlock (&self->lock);
}

static void
log_rejection (BjIo       *self,
               BjChannel   channel,
               const char *reason)
{
  gint64 now = g_get_monotonic_time ();

  if (now - self->rejection_window_start > REJECTION_LOG_WINDOW_US)
    {
      if (self->rejections_in_window > REJECTION_LOG_BURST)
        g_warning ("Rejected %u more messages in the last %d s without logging each",
                   self->rejections_in_window - REJECTION_LOG_BURST,
                   (int) (REJECTION_LOG_WINDOW_US / G_USEC_PER_SEC));
      self->rejection_window_start = now;
      self->rejections_in_window = 0;
    }

  if (++self->rejections_in_window <= REJECTION_LOG_BURST)
    g_warning ("Rejected a message on %s: %s", bj_channel_get_name (channel), reason);
}

/* Reads every message waiting on a socket; a bad one is logged and dropped, never
 * answered, and the next one is read as usual. */
static void
receive_all (BjIo      *self,
             BjChannel  channel)
{
  void *socket = self->sockets[channel];

  for (;;)
    {
      g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_autoptr(BjMessage) message = NULL;
      g_autoptr(GError) error = NULL;
      gint64 total = 0;
      int more = 0;
      size_t more_size = sizeof more;

      do
        {
          zmq_msg_t msg;

          zmq_msg_init (&msg);
          if (zmq_msg_recv (&msg, socket, frames->len == 0 ? ZMQ_DONTWAIT : 0) < 0)
            {
              zmq_msg_close (&msg);
              if (frames->len == 0)
                return;  /* nothing (more) waiting */
              g_warning ("Dropped a message on %s: %s", bj_channel_get_name (channel),
                         zmq_strerror (zmq_errno ()));
              return;
            }
          total += zmq_msg_size (&msg);
          g_ptr_array_add (frames, g_bytes_new (zmq_msg_data (&msg), zmq_msg_size (&msg)));
          zmq_msg_close (&msg);
          zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &more_size);
        }
      while (more);

      if (total > self->max_message_size)
        {
          g_autofree char *reason = g_strdup_printf ("%" G_GINT64_FORMAT " bytes is over the limit", total);
          log_rejection (self, channel, reason);
          continue;
        }

      message = bj_wire_parse ((GBytes * const *) frames->pdata, frames->len,
                               self->signer, self->replay_guard, &error);
      if (message == NULL)
        {
          log_rejection (self, channel, error->message);
          continue;
        }

      if (channel == BJ_CHANNEL_STDIN)
        handle_input_reply (self, message);
      else
        handle_request (self, channel, message);
    }
}

/* Each new iopub subscription gets an iopub_welcome with no parent, sent to its
 * topic (JEP 65): once a client has it, nothing published later can miss it. */
static void
welcome_subscribers (BjIo *self)
{
  void *socket = self->sockets[BJ_CHANNEL_IOPUB];
  zmq_msg_t msg;

  zmq_msg_init (&msg);
  while (zmq_msg_recv (&msg, socket, ZMQ_DONTWAIT) >= 0)
    {
      const char *data = zmq_msg_data (&msg);
      gsize size = zmq_msg_size (&msg);
      Outgoing *out;
      GString *content;

      /* \x01 + topic subscribes, \x00 + topic unsubscribes */
      if (size == 0 || data[0] != 1 || !g_utf8_validate_len (data + 1, size - 1, NULL))
        continue;
      content = g_string_new ("{\"subscription\":");
      bj_json_append_escaped (content, data + 1, size - 1);
      g_string_append_c (content, '}');
      out = g_new0 (Outgoing, 1);
      out->channel = BJ_CHANNEL_IOPUB;
      out->msg_type = g_strdup ("iopub_welcome");
      out->content = g_string_free_to_bytes (content);
      if (size > 1)
        {
          out->identities = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
          g_ptr_array_add (out->identities, g_bytes_new (data + 1, size - 1));
        }
      enqueue (self, out);
    }
  zmq_msg_close (&msg);
}

static void
echo_heartbeats (BjIo *self)
{
  void *socket = self->sockets[BJ_CHANNEL_HEARTBEAT];
  zmq_msg_t msg;

  zmq_msg_init (&msg);
  while (zmq_msg_recv (&msg, socket, ZMQ_DONTWAIT) >= 0)
    zmq_msg_send (&msg, socket, ZMQ_DONTWAIT);
  zmq_msg_close (&msg);
}

/* Returns how long poll may sleep, in ms: -1 unless a stream flush is due later. */
static long
flush_outgoing (BjIo *self)
{
  GQueue batch = G_QUEUE_INIT;
  long timeout = -1;
  Outgoing *out;

  g_mutex_lock (&self->lock);
  if (self->stream_signaled)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 due = MAX (self->last_stream_flush + STREAM_FLUSH_INTERVAL_US,
                        self->stream_signal_time + STREAM_COALESCE_US);

      if (now >= due)
        {
          seal_streams_locked (self);
          self->stream_signaled = FALSE;
          self->last_stream_flush = now;
        }
      else
        timeout = (long) ((due - now + 999) / 1000);
    }
  batch = self->outgoing;
  g_queue_init (&self->outgoing);
  g_mutex_unlock (&self->lock);

  while ((out = g_queue_pop_head (&batch)) != NULL)
    {
      send_outgoing (self, out);
      outgoing_free (out);
    }
  return timeout;
}

static gpointer
io_thread (gpointer data)
{
  BjIo *self = data;
  static const BjChannel polled[] = {
    BJ_CHANNEL_HEARTBEAT, BJ_CHANNEL_CONTROL, BJ_CHANNEL_SHELL, BJ_CHANNEL_STDIN,
    BJ_CHANNEL_IOPUB,
  };
  zmq_pollitem_t items[G_N_ELEMENTS (polled) + 1];
  long timeout = -1;

  for (guint i = 0; i < G_N_ELEMENTS (polled); i++)
    items[i] = (zmq_pollitem_t) { self->sockets[polled[i]], 0, ZMQ_POLLIN, 0 };
  items[G_N_ELEMENTS (polled)] = (zmq_pollitem_t) { NULL, self->wakeup_fds[0], ZMQ_POLLIN, 0 };

  for (;;)
    {
      gboolean quit;

      if (zmq_poll (items, G_N_ELEMENTS (items), timeout) < 0 && zmq_errno () != EINTR)
        {
          g_critical ("The kernel's I/O thread cannot poll: %s", zmq_strerror (zmq_errno ()));
          break;
        }

      if (items[G_N_ELEMENTS (polled)].revents & ZMQ_POLLIN)
        drain_wakeup (self);
      /* Heartbeat and control first: they are what must never wait. */
      for (guint i = 0; i < G_N_ELEMENTS (polled); i++)
        if (items[i].revents & ZMQ_POLLIN)
          {
            if (polled[i] == BJ_CHANNEL_HEARTBEAT)
              echo_heartbeats (self);
            else if (polled[i] == BJ_CHANNEL_IOPUB)
              welcome_subscribers (self);
            else
              receive_all (self, polled[i]);
          }

      timeout = flush_outgoing (self);

      g_mutex_lock (&self->lock);
      quit = self->quit;
      g_mutex_unlock (&self->lock);
      if (quit)
        break;
    }

  /* Whatever was published before stop goes out: the final idle, the last prints. */
  g_mutex_lock (&self->lock);
  seal_streams_locked (self);
  g_mutex_unlock (&self->lock);
  flush_outgoing (self);
  return NULL;
}

void
bj_io_start (BjIo                *self,
             GBytes              *kernel_info,
             const BjIoCallbacks *callbacks,
             gpointer             user_data)
{
  g_return_if_fail (self->thread == NULL);

  self->kernel_info = g_bytes_ref (kernel_info);
  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->thread = g_thread_new ("bj-kernel-io", io_thread, self);
}

char *
bj_io_request_input (BjIo        *self,
                     BjMessage   *parent,
                     const char  *prompt,
                     gboolean     password,
                     GError     **error)
{
  GString *json = g_string_new ("{\"prompt\":");
  g_autoptr(GBytes) content = NULL;
  char *value = NULL;

  bj_json_append_escaped (json, prompt, strlen (prompt));
  g_string_append (json, password ? ",\"password\":true}" : ",\"password\":false}");
  content = g_string_free_to_bytes (json);

  g_mutex_lock (&self->lock);
  if (self->input_waiting)
    {
      g_mutex_unlock (&self->lock);
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_BUSY,
                           _("Another input request is already waiting"));
      return NULL;
    }
  self->input_waiting = TRUE;
  self->input_cancelled = FALSE;
  g_clear_pointer (&self->input_value, g_free);
  g_mutex_unlock (&self->lock);

  bj_io_reply (self, BJ_CHANNEL_STDIN, parent, "input_request", content);

  g_mutex_lock (&self->lock);
  while (self->input_value == NULL && !self->input_cancelled && !self->quit)
    g_cond_wait (&self->input_cond, &self->lock);
  value = g_steal_pointer (&self->input_value);
  self->input_waiting = FALSE;
  g_mutex_unlock (&self->lock);

  if (value == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                         _("Input was interrupted"));
  return value;
}

void
bj_io_cancel_input (BjIo *self)
{
  g_mutex_lock (&self->lock);
  if (self->input_waiting)
    {
      self->input_cancelled = TRUE;
      g_cond_broadcast (&self->input_cond);
    }
  g_mutex_unlock (&self->lock);
}

void
bj_io_free (BjIo *self)
{
  if (self == NULL)
    return;

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      g_cond_broadcast (&self->input_cond);
      g_mutex_unlock (&self->lock);
      wakeup (self);
      g_thread_join (g_steal_pointer (&self->thread));
    }

  close_sockets (self);
  for (guint i = 0; i < 2; i++)
    if (self->wakeup_fds[i] >= 0)
      g_close (self->wakeup_fds[i], NULL);

  g_queue_clear_full (&self->outgoing, (GDestroyNotify) outgoing_free);
  g_string_free (self->stream_text[0], TRUE);
  g_string_free (self->stream_text[1], TRUE);
  g_clear_pointer (&self->stream_parent, g_bytes_unref);
  g_clear_pointer (&self->kernel_info, g_bytes_unref);
  g_clear_pointer (&self->signer, bj_signer_free);
  g_clear_pointer (&self->replay_guard, bj_replay_guard_free);
  g_clear_pointer (&self->usage, bj_usage_free);
  g_free (self->input_value);
  g_free (self->session);
  g_cond_clear (&self->input_cond);
  g_mutex_clear (&self->lock);
  g_free (self);
}
