/* bj-kernel.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bj-connection-info.h"
#include "bj-executor.h"
#include "bj-export.h"

G_BEGIN_DECLS

/**
 * BjKernelState:
 * @BJ_KERNEL_STATE_STOPPED: not listening
 * @BJ_KERNEL_STATE_STARTING: binding sockets and writing the connection file
 * @BJ_KERNEL_STATE_IDLE: listening, nothing running
 * @BJ_KERNEL_STATE_BUSY: handling a request (running a cell)
 * @BJ_KERNEL_STATE_STOPPING: closing sockets and joining the I/O thread
 *
 * The life cycle of a [class@Kernel].
 */
typedef enum {
  BJ_KERNEL_STATE_STOPPED,
  BJ_KERNEL_STATE_STARTING,
  BJ_KERNEL_STATE_IDLE,
  BJ_KERNEL_STATE_BUSY,
  BJ_KERNEL_STATE_STOPPING,
} BjKernelState;

/**
 * BjStream:
 * @BJ_STREAM_STDOUT: standard output
 * @BJ_STREAM_STDERR: standard error
 *
 * The two text streams a kernel publishes.
 */
typedef enum {
  BJ_STREAM_STDOUT,
  BJ_STREAM_STDERR,
} BjStream;

/**
 * BJ_KERNEL_DEFAULT_MAX_MESSAGE_SIZE:
 *
 * The default of [property@Kernel:max-message-size]: 256 MiB.
 */
#define BJ_KERNEL_DEFAULT_MAX_MESSAGE_SIZE ((gint64) 256 * 1024 * 1024)

/**
 * BJ_KERNEL_MIN_MAX_MESSAGE_SIZE:
 *
 * The smallest [property@Kernel:max-message-size] accepted: 4 KiB, room enough
 * for any request's header and a short cell.
 */
#define BJ_KERNEL_MIN_MAX_MESSAGE_SIZE ((gint64) 4096)

#define BJ_TYPE_KERNEL (bj_kernel_get_type ())

BJ_EXPORT
G_DECLARE_FINAL_TYPE (BjKernel, bj_kernel, BJ, KERNEL, GObject)

BJ_EXPORT
BjKernel          *bj_kernel_new                    (BjExecutor        *executor);
BJ_EXPORT
gboolean           bj_kernel_start                  (BjKernel          *self,
                                                     GError           **error);
BJ_EXPORT
gboolean           bj_kernel_stop                   (BjKernel          *self,
                                                     GError           **error);
BJ_EXPORT
gboolean           bj_kernel_restart                (BjKernel          *self,
                                                     GError           **error);
BJ_EXPORT
gboolean           bj_kernel_interrupt              (BjKernel          *self,
                                                     GError           **error);
BJ_EXPORT
void               bj_kernel_start_async            (BjKernel           *self,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);
BJ_EXPORT
gboolean           bj_kernel_start_finish           (BjKernel          *self,
                                                     GAsyncResult      *result,
                                                     GError           **error);
BJ_EXPORT
void               bj_kernel_stop_async             (BjKernel           *self,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);
BJ_EXPORT
gboolean           bj_kernel_stop_finish            (BjKernel          *self,
                                                     GAsyncResult      *result,
                                                     GError           **error);

BJ_EXPORT
BjKernelState      bj_kernel_get_state              (BjKernel          *self);
BJ_EXPORT
const char        *bj_kernel_state_to_string        (BjKernelState      state);
BJ_EXPORT
BjExecutor        *bj_kernel_get_executor           (BjKernel          *self);
BJ_EXPORT
const char        *bj_kernel_get_connection_file    (BjKernel          *self);
BJ_EXPORT
void               bj_kernel_set_connection_file    (BjKernel          *self,
                                                     const char        *path);
BJ_EXPORT
BjConnectionInfo  *bj_kernel_get_connection_info    (BjKernel          *self);
BJ_EXPORT
void               bj_kernel_set_connection_info    (BjKernel          *self,
                                                     const BjConnectionInfo *info);
BJ_EXPORT
gint64             bj_kernel_get_max_message_size   (BjKernel          *self);
BJ_EXPORT
void               bj_kernel_set_max_message_size   (BjKernel          *self,
                                                     gint64             size);
BJ_EXPORT
guint64            bj_kernel_get_execution_count    (BjKernel          *self);
BJ_EXPORT
const char        *bj_kernel_get_session            (BjKernel          *self);
BJ_EXPORT
GMainContext      *bj_kernel_get_owner_context      (BjKernel          *self);

BJ_EXPORT
void               bj_kernel_publish                (BjKernel          *self,
                                                     const char        *msg_type,
                                                     JsonObject        *content,
                                                     JsonObject        *metadata);
BJ_EXPORT
void               bj_kernel_publish_json           (BjKernel          *self,
                                                     const char        *msg_type,
                                                     const char        *content_json,
                                                     const char        *metadata_json,
                                                     GPtrArray         *buffers);
BJ_EXPORT
void               bj_kernel_write_stream           (BjKernel          *self,
                                                     BjStream           stream,
                                                     const char        *text,
                                                     gssize             length);
BJ_EXPORT
char              *bj_kernel_request_input          (BjKernel          *self,
                                                     const char        *prompt,
                                                     gboolean           password,
                                                     GError           **error);

G_END_DECLS
