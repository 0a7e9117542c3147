/* bj-connection-info.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "bj-export.h"

G_BEGIN_DECLS

/**
 * BjChannel:
 * @BJ_CHANNEL_SHELL: requests from clients (ROUTER)
 * @BJ_CHANNEL_IOPUB: broadcast outputs and status (PUB)
 * @BJ_CHANNEL_STDIN: input requests to the frontend (ROUTER)
 * @BJ_CHANNEL_CONTROL: out-of-band requests: interrupt, shutdown (ROUTER)
 * @BJ_CHANNEL_HEARTBEAT: liveness echo (REP)
 *
 * The five sockets of a Jupyter kernel.
 */
typedef enum {
  BJ_CHANNEL_SHELL,
  BJ_CHANNEL_IOPUB,
  BJ_CHANNEL_STDIN,
  BJ_CHANNEL_CONTROL,
  BJ_CHANNEL_HEARTBEAT,
} BjChannel;

/**
 * BJ_N_CHANNELS:
 *
 * The number of values in #BjChannel.
 */
#define BJ_N_CHANNELS 5

#define BJ_TYPE_CONNECTION_INFO (bj_connection_info_get_type ())

typedef struct _BjConnectionInfo BjConnectionInfo;

BJ_EXPORT
GType              bj_connection_info_get_type            (void) G_GNUC_CONST;
BJ_EXPORT
BjConnectionInfo  *bj_connection_info_new                 (void);
BJ_EXPORT
BjConnectionInfo  *bj_connection_info_new_from_json       (const char        *json,
                                                           gssize             length,
                                                           GError           **error);
BJ_EXPORT
BjConnectionInfo  *bj_connection_info_new_from_file       (const char        *path,
                                                           GError           **error);
BJ_EXPORT
BjConnectionInfo  *bj_connection_info_copy                (const BjConnectionInfo *self);
BJ_EXPORT
void               bj_connection_info_free                (BjConnectionInfo  *self);

BJ_EXPORT
const char        *bj_connection_info_get_ip              (const BjConnectionInfo *self);
BJ_EXPORT
void               bj_connection_info_set_ip              (BjConnectionInfo  *self,
                                                           const char        *ip);
BJ_EXPORT
const char        *bj_connection_info_get_transport       (const BjConnectionInfo *self);
BJ_EXPORT
gboolean           bj_connection_info_set_transport       (BjConnectionInfo  *self,
                                                           const char        *transport,
                                                           GError           **error);
BJ_EXPORT
guint              bj_connection_info_get_port            (const BjConnectionInfo *self,
                                                           BjChannel          channel);
BJ_EXPORT
void               bj_connection_info_set_port            (BjConnectionInfo  *self,
                                                           BjChannel          channel,
                                                           guint              port);
BJ_EXPORT
const char        *bj_connection_info_get_key             (const BjConnectionInfo *self);
BJ_EXPORT
void               bj_connection_info_set_key             (BjConnectionInfo  *self,
                                                           const char        *key);
BJ_EXPORT
gboolean           bj_connection_info_generate_key        (BjConnectionInfo  *self,
                                                           GError           **error);
BJ_EXPORT
const char        *bj_connection_info_get_signature_scheme (const BjConnectionInfo *self);
BJ_EXPORT
gboolean           bj_connection_info_set_signature_scheme (BjConnectionInfo *self,
                                                            const char       *scheme,
                                                            GError          **error);
BJ_EXPORT
const char        *bj_connection_info_get_kernel_name     (const BjConnectionInfo *self);
BJ_EXPORT
void               bj_connection_info_set_kernel_name     (BjConnectionInfo  *self,
                                                           const char        *kernel_name);

BJ_EXPORT
char              *bj_connection_info_get_endpoint        (const BjConnectionInfo *self,
                                                           BjChannel          channel);
BJ_EXPORT
char              *bj_connection_info_to_json             (const BjConnectionInfo *self,
                                                           gboolean           include_key);
BJ_EXPORT
gboolean           bj_connection_info_write_file          (const BjConnectionInfo *self,
                                                           const char        *path,
                                                           GError           **error);

BJ_EXPORT
const char        *bj_channel_get_name                    (BjChannel          channel);

BJ_EXPORT
char              *bj_console_command_for_file            (const char        *connection_file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BjConnectionInfo, bj_connection_info_free)

G_END_DECLS
