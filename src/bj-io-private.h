/* bj-io-private.h: the kernel's I/O thread, sole owner of its ZeroMQ sockets
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "bj-connection-info.h"
#include "bj-kernel.h"
#include "bj-message.h"

G_BEGIN_DECLS

typedef struct _BjIo BjIo;

typedef struct {
  /* Called on the I/O thread for a request the owner must handle. */
  void (*request)   (BjMessage *request, BjChannel channel, gpointer user_data);
  /* Called on the I/O thread for interrupt_request; must not block. */
  void (*interrupt) (gpointer user_data);
  /* Called on the I/O thread after shutdown_reply was sent. */
  void (*shutdown)  (gboolean restart, gpointer user_data);
} BjIoCallbacks;

/* Binds every socket (choosing free ports, recorded in info) on the calling thread.
 * A message over max_message_size bytes costs its sender the connection. */
BjIo      *bj_io_new               (BjConnectionInfo     *info,
                                    const char           *session,
                                    gint64                max_message_size,
                                    GError              **error);
/* Hands the sockets to a new thread; kernel_info is the full kernel_info_reply content. */
void       bj_io_start             (BjIo                 *self,
                                    GBytes               *kernel_info,
                                    const BjIoCallbacks  *callbacks,
                                    gpointer              user_data);
/* Sends what is queued, joins the thread, closes the sockets and the context. */
void       bj_io_free              (BjIo                 *self);

/* Thread-safe. A NULL parent header means the current request (set_stream_parent). */
void       bj_io_reply             (BjIo                 *self,
                                    BjChannel             channel,
                                    BjMessage            *request,
                                    const char           *msg_type,
                                    GBytes               *content);
void       bj_io_publish           (BjIo                 *self,
                                    GBytes               *parent_header,
                                    const char           *msg_type,
                                    GBytes               *content,
                                    GBytes               *metadata,
                                    GPtrArray            *buffers);
void       bj_io_set_stream_parent (BjIo                 *self,
                                    GBytes               *parent_header);
void       bj_io_write_stream      (BjIo                 *self,
                                    BjStream              stream,
                                    const char           *text,
                                    gsize                 length);
char      *bj_io_request_input     (BjIo                 *self,
                                    BjMessage            *parent,
                                    const char           *prompt,
                                    gboolean              password,
                                    GError              **error);
void       bj_io_cancel_input      (BjIo                 *self);

G_END_DECLS
