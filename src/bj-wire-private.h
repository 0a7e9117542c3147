/* bj-wire-private.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "bj-message.h"

G_BEGIN_DECLS

/* Nesting beyond this is refused before json-glib's recursive parser sees it. */
#define BJ_WIRE_MAX_JSON_DEPTH 256
#define BJ_SIGNATURE_HEX_LEN 64

typedef struct _BjSigner BjSigner;

BjSigner   *bj_signer_new          (const char      *key);
/* The same signer with GnuTLS left out: what signing falls back to where GnuTLS
 * refuses the key or cannot copy a keyed state (for tests of that path). */
BjSigner   *bj_signer_new_glib_only (const char     *key);
void        bj_signer_free         (BjSigner        *self);
gboolean    bj_signer_is_enabled   (const BjSigner  *self);
/* Writes the lowercase hex HMAC-SHA256 of the four frames, nul-terminated, into out;
 * an empty string when signing is disabled. */
void        bj_signer_sign         (BjSigner        *self,
                                    const void      *parts[4],
                                    const gsize      lengths[4],
                                    char             out[BJ_SIGNATURE_HEX_LEN + 1]);
gboolean    bj_signer_verify       (BjSigner        *self,
                                    const void      *signature,
                                    gsize            signature_length,
                                    const void      *parts[4],
                                    const gsize      lengths[4]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BjSigner, bj_signer_free)

/* Remembers the signatures accepted in one kernel session, so a captured message
 * cannot be sent again; bounded, oldest forgotten first. */
typedef struct _BjReplayGuard BjReplayGuard;

BjReplayGuard *bj_replay_guard_new    (guint           capacity);
void           bj_replay_guard_free   (BjReplayGuard  *self);
/* Returns FALSE if the signature was seen before; otherwise records it. */
gboolean       bj_replay_guard_check  (BjReplayGuard  *self,
                                       const char     *signature,
                                       gsize           length);

BjMessage  *bj_wire_parse          (GBytes * const  *frames,
                                    guint            n_frames,
                                    BjSigner        *signer,
                                    BjReplayGuard   *replay_guard,
                                    GError         **error);
char       *bj_wire_make_header    (const char      *msg_type,
                                    const char      *session,
                                    char           **out_msg_id);
/* Frames, ready to send: identities, delimiter, signature, the four JSON parts, buffers. */
GPtrArray  *bj_wire_build_frames   (BjSigner        *signer,
                                    GPtrArray       *identities,
                                    GBytes          *header,
                                    GBytes          *parent_header,
                                    GBytes          *metadata,
                                    GBytes          *content,
                                    GPtrArray       *buffers);
gboolean    bj_wire_check_json     (const char      *text,
                                    gsize            length,
                                    GError         **error);
/* Members of client-sent JSON, read with the type they must have: any other type,
 * or none, gives the default (json-glib's own getters warn instead). */
gboolean    bj_json_get_boolean    (JsonObject      *object,
                                    const char      *member,
                                    gboolean         default_value);
const char *bj_json_get_string     (JsonObject      *object,
                                    const char      *member,
                                    const char      *default_value);
gint64      bj_json_get_int        (JsonObject      *object,
                                    const char      *member,
                                    gint64           default_value);
void        bj_json_append_escaped (GString         *out,
                                    const char      *text,
                                    gsize            length);

G_END_DECLS
