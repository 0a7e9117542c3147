/* bj-wire.c: the Jupyter wire format, signing and its checks
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "bj-i18n-private.h"
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "bj-error.h"
#include "bj-message-private.h"
#include "bj-wire-private.h"

struct _BjSigner {
  /* Keyed once; each message signs with a copy, which skips re-hashing the key. */
  gnutls_hmac_hd_t keyed;
  /* GLib's HMAC, keyed the same way: used where GnuTLS refuses the key (FIPS mode
   * rejects keys under 112 bits) or cannot copy a keyed state. A library loaded
   * into Blender must not abort its host over either. */
  GHmac *fallback;
};

BjSigner *
bj_signer_new (const char *key)
{
  BjSigner *self = g_new0 (BjSigner, 1);

  if (key != NULL && *key != '\0')
    {
      gsize length = strlen (key);
      int ret = gnutls_hmac_init (&self->keyed, GNUTLS_MAC_SHA256, key, length);
      if (ret < 0)
        {
          g_debug ("gnutls_hmac_init: %s; signing with GLib's HMAC", gnutls_strerror (ret));
          self->keyed = NULL;
        }
      self->fallback = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) key, length);
    }
  return self;
}

BjSigner *
bj_signer_new_glib_only (const char *key)
{
  BjSigner *self = bj_signer_new (key);

  if (self->keyed != NULL)
    gnutls_hmac_deinit (self->keyed, NULL);
  self->keyed = NULL;
  return self;
}

void
bj_signer_free (BjSigner *self)
{
  if (self == NULL)
    return;
  if (self->keyed != NULL)
    gnutls_hmac_deinit (self->keyed, NULL);
  g_clear_pointer (&self->fallback, g_hmac_unref);
  g_free (self);
}

gboolean
bj_signer_is_enabled (const BjSigner *self)
{
  return self->fallback != NULL;
}

static void
signer_digest (BjSigner   *self,
               const void *parts[4],
               const gsize lengths[4],
               guint8      digest[32])
{
  gnutls_hmac_hd_t hmac = self->keyed != NULL ? gnutls_hmac_copy (self->keyed) : NULL;
  g_autoptr(GHmac) slow = NULL;
  gsize digest_length = 32;

  if (hmac != NULL)
    {
      for (guint i = 0; i < 4; i++)
        gnutls_hmac (hmac, parts[i], lengths[i]);
      gnutls_hmac_deinit (hmac, digest);
      return;
    }

  slow = g_hmac_copy (self->fallback);
  for (guint i = 0; i < 4; i++)
    g_hmac_update (slow, parts[i], lengths[i]);
  g_hmac_get_digest (slow, digest, &digest_length);
}

void
bj_signer_sign (BjSigner    *self,
                const void  *parts[4],
                const gsize  lengths[4],
                char         out[BJ_SIGNATURE_HEX_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  guint8 digest[32];

  if (!bj_signer_is_enabled (self))
    {
      out[0] = '\0';
      return;
    }

  signer_digest (self, parts, lengths, digest);
  for (guint i = 0; i < sizeof digest; i++)
    {
      out[2 * i] = hex[digest[i] >> 4];
      out[2 * i + 1] = hex[digest[i] & 0xf];
    }
  out[BJ_SIGNATURE_HEX_LEN] = '\0';
}

gboolean
bj_signer_verify (BjSigner    *self,
                  const void  *signature,
                  gsize        signature_length,
                  const void  *parts[4],
                  const gsize  lengths[4])
{
  char expected[BJ_SIGNATURE_HEX_LEN + 1];
  const guint8 *given = signature;
  guint8 difference = 0;

  if (!bj_signer_is_enabled (self))
    return TRUE;
  /* The length of a signature is public; only its content must not leak timing. */
  if (signature_length != BJ_SIGNATURE_HEX_LEN)
    return FALSE;

  bj_signer_sign (self, parts, lengths, expected);
  for (gsize i = 0; i < BJ_SIGNATURE_HEX_LEN; i++)
    difference |= (guint8) expected[i] ^ given[i];
  return difference == 0;
}

struct _BjReplayGuard {
  GHashTable *seen;   /* signature → itself, owned by order */
  GQueue order;
  guint capacity;
};

BjReplayGuard *
bj_replay_guard_new (guint capacity)
{
  BjReplayGuard *self = g_new0 (BjReplayGuard, 1);

  self->seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->order);
  self->capacity = MAX (capacity, 1);
  return self;
}

void
bj_replay_guard_free (BjReplayGuard *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->seen);
  g_queue_clear_full (&self->order, g_free);
  g_free (self);
}

gboolean
bj_replay_guard_check (BjReplayGuard *self,
                       const char    *signature,
                       gsize          length)
{
  g_autofree char *key = g_strndup (signature, length);

  if (g_hash_table_contains (self->seen, key))
    return FALSE;

  if (self->order.length >= self->capacity)
    {
      char *oldest = g_queue_pop_head (&self->order);
      g_hash_table_remove (self->seen, oldest);
      g_free (oldest);
    }
  g_hash_table_add (self->seen, key);
  g_queue_push_tail (&self->order, g_steal_pointer (&key));
  return TRUE;
}

/* json-glib's parser recurses once per nesting level and trusts its input to be
 * UTF-8: both are checked here first, in one linear pass. */
gboolean
bj_wire_check_json (const char  *text,
                    gsize        length,
                    GError     **error)
{
  gboolean in_string = FALSE;
  gboolean escaped = FALSE;
  guint depth = 0;

  if (!g_utf8_validate_len (text, length, NULL))
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_MALFORMED_MESSAGE,
                           _("Frame is not valid UTF-8"));
      return FALSE;
    }

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > BJ_WIRE_MAX_JSON_DEPTH)
            {
              g_set_error (error, BJ_ERROR, BJ_ERROR_MALFORMED_MESSAGE,
                           _("JSON nested deeper than %d levels"), BJ_WIRE_MAX_JSON_DEPTH);
              return FALSE;
            }
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return TRUE;
}

static JsonObject *
parse_json_object (JsonParser  *parser,
                   GBytes      *frame,
                   const char  *what,
                   GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize length;
  const char *text = g_bytes_get_data (frame, &length);
  JsonNode *root;

  if (length == 0 || !bj_wire_check_json (text, length, &local_error) ||
      !json_parser_load_from_data (parser, text, length, &local_error))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_MALFORMED_MESSAGE,
                   _("The %s is not valid JSON: %s"), what,
                   local_error ? local_error->message : _("empty frame"));
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_MALFORMED_MESSAGE,
                   _("The %s is not a JSON object"), what);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

static const char *
header_string (JsonObject *header,
               const char *member)
{
  JsonNode *node = json_object_get_member (header, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

BjMessage *
bj_wire_parse (GBytes * const  *frames,
               guint            n_frames,
               BjSigner        *signer,
               BjReplayGuard   *replay_guard,
               GError         **error)
{
  static const char * const part_names[4] = {
    /* TRANSLATORS: the parts of a Jupyter message, as in "The %s is not valid JSON" */
    N_("header"), N_("parent header"), N_("metadata"), N_("content"),
  };
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(BjMessage) message = NULL;
  JsonObject *objects[4] = { NULL, };
  const void *parts[4];
  gsize lengths[4];
  const char *signature;
  gsize signature_length;
  guint delimiter;
  const char *msg_type;
  const char *msg_id;

  for (delimiter = 0; delimiter < n_frames; delimiter++)
    {
      gsize length;
      const void *data = g_bytes_get_data (frames[delimiter], &length);
      if (length == strlen (BJ_MESSAGE_DELIMITER) &&
          memcmp (data, BJ_MESSAGE_DELIMITER, length) == 0)
        break;
    }

  if (delimiter == n_frames)
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_MALFORMED_MESSAGE,
                           _("No “<IDS|MSG>” delimiter frame"));
      return NULL;
    }
  if (n_frames - delimiter < 6)
    {
      guint n_parts = n_frames - delimiter - 1;

      bj_i18n_init ();
      g_set_error (error, BJ_ERROR, BJ_ERROR_MALFORMED_MESSAGE,
                   g_dngettext (GETTEXT_PACKAGE,
                                "Truncated message: %u frame after the delimiter, at least 5 needed",
                                "Truncated message: %u frames after the delimiter, at least 5 needed",
                                n_parts),
                   n_parts);
      return NULL;
    }

  signature = g_bytes_get_data (frames[delimiter + 1], &signature_length);
  for (guint i = 0; i < 4; i++)
    parts[i] = g_bytes_get_data (frames[delimiter + 2 + i], &lengths[i]);

  if (!bj_signer_verify (signer, signature, signature_length, parts, lengths))
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_BAD_SIGNATURE,
                           _("Invalid signature"));
      return NULL;
    }

  parser = json_parser_new_immutable ();
  for (guint i = 0; i < 4; i++)
    {
      objects[i] = parse_json_object (parser, frames[delimiter + 2 + i],
                                      _(part_names[i]), error);
      if (objects[i] == NULL)
        goto fail;
    }

  msg_type = header_string (objects[0], "msg_type");
  msg_id = header_string (objects[0], "msg_id");
  if (msg_type == NULL || *msg_type == '\0' || msg_id == NULL)
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_MALFORMED_MESSAGE,
                           _("The header has no “msg_type” or “msg_id” string"));
      goto fail;
    }

  /* Only a message that is otherwise acceptable is remembered, so garbage cannot
   * push real signatures out of the guard. */
  if (replay_guard != NULL && bj_signer_is_enabled (signer) &&
      !bj_replay_guard_check (replay_guard, signature, signature_length))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_REPLAYED_MESSAGE,
                   _("Replayed message (signature already seen): %s"), msg_type);
      goto fail;
    }

  message = bj_message_new_parsed (objects, frames + delimiter + 2);
  for (guint i = 0; i < delimiter; i++)
    g_ptr_array_add (bj_message_get_identities (message), g_bytes_ref (frames[i]));
  for (guint i = delimiter + 6; i < n_frames; i++)
    bj_message_add_buffer (message, frames[i]);

fail:
  for (guint i = 0; i < 4; i++)
    g_clear_pointer (&objects[i], json_object_unref);
  return g_steal_pointer (&message);
}

static JsonNode *
value_member (JsonObject *object,
              const char *member,
              GType       type)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

gboolean
bj_json_get_boolean (JsonObject *object,
                     const char *member,
                     gboolean    default_value)
{
  JsonNode *node = value_member (object, member, G_TYPE_BOOLEAN);
  return node ? json_node_get_boolean (node) : default_value;
}

const char *
bj_json_get_string (JsonObject *object,
                    const char *member,
                    const char *default_value)
{
  JsonNode *node = value_member (object, member, G_TYPE_STRING);
  return node ? json_node_get_string (node) : default_value;
}

gint64
bj_json_get_int (JsonObject *object,
                 const char *member,
                 gint64      default_value)
{
  JsonNode *node = value_member (object, member, G_TYPE_INT64);
  return node ? json_node_get_int (node) : default_value;
}

void
bj_json_append_escaped (GString    *out,
                        const char *text,
                        gsize       length)
{
  static const char hex[] = "0123456789abcdef";
  gsize run_start = 0;

  g_string_append_c (out, '"');
  for (gsize i = 0; i < length; i++)
    {
      guchar c = (guchar) text[i];
      const char *escape = NULL;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;

      g_string_append_len (out, text + run_start, i - run_start);
      run_start = i + 1;
      switch (c)
        {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        default: break;
        }
      if (escape != NULL)
        g_string_append (out, escape);
      else
        {
          char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], '\0' };
          g_string_append_len (out, u, 6);
        }
    }
  g_string_append_len (out, text + run_start, length - run_start);
  g_string_append_c (out, '"');
}

char *
bj_wire_make_header (const char  *msg_type,
                     const char  *session,
                     char       **out_msg_id)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
  g_autofree char *msg_id = g_uuid_string_random ();
  GString *header = g_string_sized_new (256);

  g_string_append (header, "{\"msg_id\":\"");
  g_string_append (header, msg_id);
  g_string_append (header, "\",\"msg_type\":");
  bj_json_append_escaped (header, msg_type, strlen (msg_type));
  g_string_append (header, ",\"session\":");
  bj_json_append_escaped (header, session, strlen (session));
  g_string_append (header, ",\"username\":\"kernel\",\"date\":\"");
  g_string_append (header, date);
  g_string_append (header, "\",\"version\":\"" BJ_PROTOCOL_VERSION "\"}");

  if (out_msg_id != NULL)
    *out_msg_id = g_steal_pointer (&msg_id);
  return g_string_free (header, FALSE);
}

GPtrArray *
bj_wire_build_frames (BjSigner   *signer,
                      GPtrArray  *identities,
                      GBytes     *header,
                      GBytes     *parent_header,
                      GBytes     *metadata,
                      GBytes     *content,
                      GPtrArray  *buffers)
{
  GBytes *json_parts[4] = { header, parent_header, metadata, content };
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  char signature[BJ_SIGNATURE_HEX_LEN + 1];
  const void *parts[4];
  gsize lengths[4];

  for (guint i = 0; i < 4; i++)
    parts[i] = g_bytes_get_data (json_parts[i], &lengths[i]);
  bj_signer_sign (signer, parts, lengths, signature);

  if (identities != NULL)
    for (guint i = 0; i < identities->len; i++)
      g_ptr_array_add (frames, g_bytes_ref (identities->pdata[i]));
  g_ptr_array_add (frames, g_bytes_new_static (BJ_MESSAGE_DELIMITER, strlen (BJ_MESSAGE_DELIMITER)));
  g_ptr_array_add (frames, g_bytes_new (signature, strlen (signature)));
  for (guint i = 0; i < 4; i++)
    g_ptr_array_add (frames, g_bytes_ref (json_parts[i]));
  if (buffers != NULL)
    for (guint i = 0; i < buffers->len; i++)
      g_ptr_array_add (frames, g_bytes_ref (buffers->pdata[i]));
  return frames;
}
