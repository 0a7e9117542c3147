/* bj-message.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "bj-export.h"

G_BEGIN_DECLS

/**
 * BJ_PROTOCOL_VERSION:
 *
 * The version of the Jupyter messaging protocol this library speaks.
 */
#define BJ_PROTOCOL_VERSION "5.5"

/**
 * BJ_MESSAGE_DELIMITER:
 *
 * The frame that separates routing identities from the signed message.
 */
#define BJ_MESSAGE_DELIMITER "<IDS|MSG>"

#define BJ_TYPE_MESSAGE (bj_message_get_type ())

typedef struct _BjMessage BjMessage;

BJ_EXPORT
GType        bj_message_get_type           (void) G_GNUC_CONST;
BJ_EXPORT
BjMessage   *bj_message_new                (const char    *msg_type,
                                            const char    *session,
                                            BjMessage     *parent);
BJ_EXPORT
BjMessage   *bj_message_ref                (BjMessage     *self);
BJ_EXPORT
void         bj_message_unref              (BjMessage     *self);

BJ_EXPORT
const char  *bj_message_get_msg_type       (BjMessage     *self);
BJ_EXPORT
const char  *bj_message_get_msg_id         (BjMessage     *self);
BJ_EXPORT
const char  *bj_message_get_session        (BjMessage     *self);
BJ_EXPORT
JsonObject  *bj_message_get_header         (BjMessage     *self);
BJ_EXPORT
JsonObject  *bj_message_get_parent_header  (BjMessage     *self);
BJ_EXPORT
JsonObject  *bj_message_get_metadata       (BjMessage     *self);
BJ_EXPORT
JsonObject  *bj_message_get_content        (BjMessage     *self);
BJ_EXPORT
void         bj_message_set_content        (BjMessage     *self,
                                            JsonObject    *content);
BJ_EXPORT
void         bj_message_set_metadata       (BjMessage     *self,
                                            JsonObject    *metadata);
BJ_EXPORT
GBytes      *bj_message_get_content_json   (BjMessage     *self);
BJ_EXPORT
GBytes      *bj_message_get_header_json    (BjMessage     *self);

BJ_EXPORT
GPtrArray   *bj_message_get_identities     (BjMessage     *self);
BJ_EXPORT
void         bj_message_set_identities     (BjMessage     *self,
                                            GPtrArray     *identities);
BJ_EXPORT
GPtrArray   *bj_message_get_buffers        (BjMessage     *self);
BJ_EXPORT
void         bj_message_add_buffer         (BjMessage     *self,
                                            GBytes        *buffer);

BJ_EXPORT
BjMessage   *bj_message_parse              (GBytes * const *frames,
                                            guint          n_frames,
                                            const char    *key,
                                            GError       **error);
BJ_EXPORT
GPtrArray   *bj_message_serialize          (BjMessage     *self,
                                            const char    *key);
BJ_EXPORT
char        *bj_message_compute_signature  (const char    *key,
                                            GBytes        *header,
                                            GBytes        *parent_header,
                                            GBytes        *metadata,
                                            GBytes        *content);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BjMessage, bj_message_unref)

G_END_DECLS
