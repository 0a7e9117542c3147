/* bj-message.c
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "bj-message-private.h"
#include "bj-wire-private.h"

/**
 * BjMessage:
 *
 * One Jupyter message: routing identities, header, parent header, metadata,
 * content and binary buffers.
 *
 * Messages received by a kernel keep the exact text of their frames, so a reply's
 * parent header is the request's header as the client wrote it.
 */

enum { PART_HEADER, PART_PARENT, PART_METADATA, PART_CONTENT, N_PARTS };

struct _BjMessage {
  gatomicrefcount ref_count;
  JsonObject *objects[N_PARTS];
  GBytes *texts[N_PARTS];           /* NULL until needed or after a change */
  GPtrArray *identities;
  GPtrArray *buffers;
};

G_DEFINE_BOXED_TYPE (BjMessage, bj_message, bj_message_ref, bj_message_unref)

static BjMessage *
message_alloc (void)
{
  BjMessage *self = g_new0 (BjMessage, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->identities = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return self;
}

BjMessage *
bj_message_new_parsed (JsonObject * const objects[4],
                       GBytes     * const texts[4])
{
  BjMessage *self = message_alloc ();

  for (guint i = 0; i < N_PARTS; i++)
    {
      self->objects[i] = json_object_ref (objects[i]);
      self->texts[i] = texts[i] ? g_bytes_ref (texts[i]) : NULL;
    }
  return self;
}

/**
 * bj_message_new:
 * @msg_type: the message type, e.g. `execute_reply`
 * @session: the sender's session id
 * @parent: (nullable): the message this one answers
 *
 * Creates a message with a fresh header (random `msg_id`, current UTC date,
 * protocol version %BJ_PROTOCOL_VERSION), the parent's header as parent header
 * and the parent's identities, so a reply routes back to the client that asked.
 *
 * Returns: (transfer full): a new message with empty metadata and content
 */
BjMessage *
bj_message_new (const char *msg_type,
                const char *session,
                BjMessage  *parent)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autofree char *header = NULL;
  BjMessage *self;

  g_return_val_if_fail (msg_type != NULL && *msg_type != '\0', NULL);
  g_return_val_if_fail (session != NULL, NULL);

  header = bj_wire_make_header (msg_type, session, NULL);
  if (!json_parser_load_from_data (parser, header, -1, NULL))
    g_assert_not_reached ();

  self = message_alloc ();
  self->objects[PART_HEADER] = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  {
    gsize header_length = strlen (header);
    self->texts[PART_HEADER] = g_bytes_new_take (g_steal_pointer (&header), header_length);
  }
  self->objects[PART_METADATA] = json_object_new ();
  self->objects[PART_CONTENT] = json_object_new ();

  if (parent != NULL)
    {
      self->objects[PART_PARENT] = json_object_ref (parent->objects[PART_HEADER]);
      self->texts[PART_PARENT] = bj_message_get_header_json (parent);
      for (guint i = 0; i < parent->identities->len; i++)
        g_ptr_array_add (self->identities, g_bytes_ref (parent->identities->pdata[i]));
    }
  else
    self->objects[PART_PARENT] = json_object_new ();

  return self;
}

/**
 * bj_message_ref:
 * @self: a message
 *
 * Takes a reference to a message.
 *
 * Returns: (transfer full): @self
 */
BjMessage *
bj_message_ref (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bj_message_unref:
 * @self: (transfer full): a message
 *
 * Drops a reference; the last one frees the message.
 */
void
bj_message_unref (BjMessage *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  for (guint i = 0; i < N_PARTS; i++)
    {
      g_clear_pointer (&self->objects[i], json_object_unref);
      g_clear_pointer (&self->texts[i], g_bytes_unref);
    }
  g_ptr_array_unref (self->identities);
  g_ptr_array_unref (self->buffers);
  g_free (self);
}

static const char *
header_member (BjMessage  *self,
               const char *member)
{
  JsonNode *node = json_object_get_member (self->objects[PART_HEADER], member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return "";
  return json_node_get_string (node);
}

/**
 * bj_message_get_msg_type:
 * @self: a message
 *
 * Gets the message type.
 *
 * Returns: the header's `msg_type`
 */
const char *
bj_message_get_msg_type (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return header_member (self, "msg_type");
}

/**
 * bj_message_get_msg_id:
 * @self: a message
 *
 * Gets the message id.
 *
 * Returns: the header's `msg_id`
 */
const char *
bj_message_get_msg_id (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return header_member (self, "msg_id");
}

/**
 * bj_message_get_session:
 * @self: a message
 *
 * Gets the session id of the message's sender.
 *
 * Returns: the header's `session`, empty if absent
 */
const char *
bj_message_get_session (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return header_member (self, "session");
}

/**
 * bj_message_get_header:
 * @self: a message
 *
 * Gets the header.
 *
 * Returns: (transfer none): the header
 */
JsonObject *
bj_message_get_header (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->objects[PART_HEADER];
}

/**
 * bj_message_get_parent_header:
 * @self: a message
 *
 * Gets the header of the message this one answers.
 *
 * Returns: (transfer none): the parent header, empty for unsolicited messages
 */
JsonObject *
bj_message_get_parent_header (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->objects[PART_PARENT];
}

/**
 * bj_message_get_metadata:
 * @self: a message
 *
 * Gets the metadata.
 *
 * Returns: (transfer none): the metadata
 */
JsonObject *
bj_message_get_metadata (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->objects[PART_METADATA];
}

/**
 * bj_message_get_content:
 * @self: a message
 *
 * The content object belongs to the message: after changing it in place, call
 * [method@Message.set_content] with it so the serialized form is refreshed.
 *
 * Returns: (transfer none): the content
 */
JsonObject *
bj_message_get_content (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->objects[PART_CONTENT];
}

static void
set_part (BjMessage  *self,
          guint       part,
          JsonObject *object)
{
  JsonObject *old = self->objects[part];

  self->objects[part] = object ? json_object_ref (object) : json_object_new ();
  g_clear_pointer (&old, json_object_unref);
  g_clear_pointer (&self->texts[part], g_bytes_unref);
}

/**
 * bj_message_set_content:
 * @self: a message
 * @content: (nullable): the new content; %NULL for an empty object
 *
 * Replaces the content.
 */
void
bj_message_set_content (BjMessage  *self,
                        JsonObject *content)
{
  g_return_if_fail (self != NULL);
  set_part (self, PART_CONTENT, content);
}

/**
 * bj_message_set_metadata:
 * @self: a message
 * @metadata: (nullable): the new metadata; %NULL for an empty object
 *
 * Replaces the metadata.
 */
void
bj_message_set_metadata (BjMessage  *self,
                         JsonObject *metadata)
{
  g_return_if_fail (self != NULL);
  set_part (self, PART_METADATA, metadata);
}

static GBytes *
part_text (BjMessage *self,
           guint      part)
{
  if (self->texts[part] == NULL)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      gsize length = 0;
      char *text;

      json_node_set_object (node, self->objects[part]);
      json_generator_set_root (generator, node);
      text = json_generator_to_data (generator, &length);
      self->texts[part] = g_bytes_new_take (text, length);
    }
  return g_bytes_ref (self->texts[part]);
}

/**
 * bj_message_get_content_json:
 * @self: a message
 *
 * Gets the content as JSON text.
 *
 * Returns: (transfer full): the content as JSON text (as received, if received)
 */
GBytes *
bj_message_get_content_json (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return part_text (self, PART_CONTENT);
}

/**
 * bj_message_get_header_json:
 * @self: a message
 *
 * Gets the header as JSON text.
 *
 * Returns: (transfer full): the header as JSON text (as received, if received)
 */
GBytes *
bj_message_get_header_json (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return part_text (self, PART_HEADER);
}

/**
 * bj_message_get_identities:
 * @self: a message
 *
 * Gets the routing identities a ROUTER socket put in front of the message.
 *
 * Returns: (transfer none) (element-type GBytes): the ZeroMQ routing identities
 */
GPtrArray *
bj_message_get_identities (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->identities;
}

/**
 * bj_message_set_identities:
 * @self: a message
 * @identities: (nullable) (element-type GBytes): routing identities
 *
 * Replaces the routing identities.
 */
void
bj_message_set_identities (BjMessage *self,
                           GPtrArray *identities)
{
  g_return_if_fail (self != NULL);

  g_ptr_array_set_size (self->identities, 0);
  if (identities != NULL)
    for (guint i = 0; i < identities->len; i++)
      g_ptr_array_add (self->identities, g_bytes_ref (identities->pdata[i]));
}

/**
 * bj_message_get_buffers:
 * @self: a message
 *
 * Gets the binary buffers sent after the content.
 *
 * Returns: (transfer none) (element-type GBytes): the binary buffers
 */
GPtrArray *
bj_message_get_buffers (BjMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->buffers;
}

/**
 * bj_message_add_buffer:
 * @self: a message
 * @buffer: a binary buffer
 *
 * Appends a binary buffer, sent as is after the content frame.
 */
void
bj_message_add_buffer (BjMessage *self,
                       GBytes    *buffer)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (buffer != NULL);
  g_ptr_array_add (self->buffers, g_bytes_ref (buffer));
}

/**
 * bj_message_parse:
 * @frames: (array length=n_frames): the frames of one multipart ZeroMQ message
 * @n_frames: the number of frames
 * @key: (nullable): the signing key; %NULL or empty when messages are not signed
 * @error: return location for a #GError
 *
 * Splits identities from the message at the `<IDS|MSG>` delimiter, verifies the
 * HMAC-SHA256 signature in constant time, and parses the four JSON frames, each of
 * which must be an object. Frames after the content are kept as buffers.
 *
 * Returns: (transfer full) (nullable): the message, or %NULL with @error set to
 *   %BJ_ERROR_BAD_SIGNATURE or %BJ_ERROR_MALFORMED_MESSAGE
 */
BjMessage *
bj_message_parse (GBytes * const *frames,
                  guint           n_frames,
                  const char     *key,
                  GError        **error)
{
  g_autoptr(BjSigner) signer = bj_signer_new (key);

  g_return_val_if_fail (frames != NULL || n_frames == 0, NULL);
  return bj_wire_parse (frames, n_frames, signer, NULL, error);
}

/**
 * bj_message_serialize:
 * @self: a message
 * @key: (nullable): the signing key; %NULL or empty to leave messages unsigned
 *
 * Turns the message into the frames of one multipart ZeroMQ message, signed
 * with @key.
 *
 * Returns: (transfer container) (element-type GBytes): the frames to send:
 *   identities, delimiter, signature, header, parent header, metadata, content,
 *   buffers
 */
GPtrArray *
bj_message_serialize (BjMessage  *self,
                      const char *key)
{
  g_autoptr(BjSigner) signer = bj_signer_new (key);
  GBytes *texts[N_PARTS];
  GPtrArray *frames;

  g_return_val_if_fail (self != NULL, NULL);

  for (guint i = 0; i < N_PARTS; i++)
    texts[i] = part_text (self, i);
  frames = bj_wire_build_frames (signer, self->identities,
                                 texts[PART_HEADER], texts[PART_PARENT],
                                 texts[PART_METADATA], texts[PART_CONTENT],
                                 self->buffers);
  for (guint i = 0; i < N_PARTS; i++)
    g_bytes_unref (texts[i]);
  return frames;
}

/**
 * bj_message_compute_signature:
 * @key: the signing key
 * @header: the header frame
 * @parent_header: the parent header frame
 * @metadata: the metadata frame
 * @content: the content frame
 *
 * Computes the HMAC-SHA256 signature of a message's four JSON frames.
 *
 * Returns: (transfer full): the lowercase hexadecimal HMAC-SHA256 of the four
 *   frames, or an empty string if @key is empty
 */
char *
bj_message_compute_signature (const char *key,
                              GBytes     *header,
                              GBytes     *parent_header,
                              GBytes     *metadata,
                              GBytes     *content)
{
  g_autoptr(BjSigner) signer = bj_signer_new (key);
  GBytes *frames[4] = { header, parent_header, metadata, content };
  char signature[BJ_SIGNATURE_HEX_LEN + 1];
  const void *parts[4];
  gsize lengths[4];

  for (guint i = 0; i < 4; i++)
    parts[i] = g_bytes_get_data (frames[i], &lengths[i]);
  bj_signer_sign (signer, parts, lengths, signature);
  return g_strdup (signature);
}
