/* bj-connection-info.c
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "bj-i18n-private.h"
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>

#include "bj-connection-info.h"
#include "bj-error.h"

/**
 * BjConnectionInfo:
 *
 * Where a kernel listens and how its messages are signed: the content of a Jupyter
 * connection file.
 *
 * Ports left at 0 are chosen by the kernel when it binds. Text meant for display is
 * made with [method@ConnectionInfo.to_json] and `include_key` false, so the key never
 * reaches a screen or a log by accident.
 */
struct _BjConnectionInfo {
  char *ip;
  char *transport;
  char *key;
  char *signature_scheme;
  char *kernel_name;
  guint ports[BJ_N_CHANNELS];
};

G_DEFINE_BOXED_TYPE (BjConnectionInfo, bj_connection_info,
                     bj_connection_info_copy, bj_connection_info_free)

#define KEY_BYTES 32
#define MASKED_KEY "********"

static const char * const port_members[BJ_N_CHANNELS] = {
  [BJ_CHANNEL_SHELL] = "shell_port",
  [BJ_CHANNEL_IOPUB] = "iopub_port",
  [BJ_CHANNEL_STDIN] = "stdin_port",
  [BJ_CHANNEL_CONTROL] = "control_port",
  [BJ_CHANNEL_HEARTBEAT] = "hb_port",
};

/**
 * bj_channel_get_name:
 * @channel: a channel
 *
 * Names a channel.
 *
 * Returns: the channel's name as the messaging spec writes it (`shell`, `iopub`,
 *   `stdin`, `control`, `hb`)
 */
const char *
bj_channel_get_name (BjChannel channel)
{
  static const char * const names[BJ_N_CHANNELS] = {
    "shell", "iopub", "stdin", "control", "hb",
  };

  g_return_val_if_fail (channel < BJ_N_CHANNELS, NULL);
  return names[channel];
}

/**
 * bj_connection_info_new:
 *
 * Creates connection info with the defaults a local kernel wants: tcp on
 * 127.0.0.1, every port chosen at bind time, signature scheme `hmac-sha256`,
 * and no key yet (see [method@ConnectionInfo.generate_key]).
 *
 * Returns: (transfer full): new connection info
 */
BjConnectionInfo *
bj_connection_info_new (void)
{
  BjConnectionInfo *self = g_new0 (BjConnectionInfo, 1);

  self->ip = g_strdup ("127.0.0.1");
  self->transport = g_strdup ("tcp");
  self->key = g_strdup ("");
  self->signature_scheme = g_strdup ("hmac-sha256");
  self->kernel_name = g_strdup ("");
  return self;
}

/**
 * bj_connection_info_copy:
 * @self: connection info
 *
 * Copies connection info, key included.
 *
 * Returns: (transfer full): a deep copy of @self
 */
BjConnectionInfo *
bj_connection_info_copy (const BjConnectionInfo *self)
{
  BjConnectionInfo *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (BjConnectionInfo, 1);
  copy->ip = g_strdup (self->ip);
  copy->transport = g_strdup (self->transport);
  copy->key = g_strdup (self->key);
  copy->signature_scheme = g_strdup (self->signature_scheme);
  copy->kernel_name = g_strdup (self->kernel_name);
  memcpy (copy->ports, self->ports, sizeof copy->ports);
  return copy;
}

/**
 * bj_connection_info_free:
 * @self: (nullable): connection info
 *
 * Frees @self, wiping the key from memory first.
 */
void
bj_connection_info_free (BjConnectionInfo *self)
{
  if (self == NULL)
    return;

  if (self->key != NULL)
    explicit_bzero (self->key, strlen (self->key));
  g_free (self->ip);
  g_free (self->transport);
  g_free (self->key);
  g_free (self->signature_scheme);
  g_free (self->kernel_name);
  g_free (self);
}

/* Copies before freeing, so setting a field to its own value is safe. */
static void
replace_string (char       **field,
                const char  *value)
{
  char *copy = g_strdup (value);

  if (*field != NULL)
    explicit_bzero (*field, strlen (*field));
  g_free (*field);
  *field = copy;
}

static gboolean
transport_is_valid (const char *transport)
{
  return g_strcmp0 (transport, "tcp") == 0 || g_strcmp0 (transport, "ipc") == 0;
}

static gboolean
read_string_member (JsonObject  *object,
                    const char  *member,
                    char       **out,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("“%s” must be a string"), member);
      return FALSE;
    }

  replace_string (out, json_node_get_string (node));
  return TRUE;
}

static gboolean
read_port_member (JsonObject  *object,
                  const char  *member,
                  guint       *out,
                  GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 port;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("“%s” must be an integer"), member);
      return FALSE;
    }

  port = json_node_get_int (node);
  if (port < 0 || port > 65535)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("“%s” is %lld, not a port number (0 to 65535)"),
                   member, (long long) port);
      return FALSE;
    }

  *out = (guint) port;
  return TRUE;
}

/**
 * bj_connection_info_new_from_json:
 * @json: the text of a connection file
 * @length: the length of @json in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * Parses a connection file's JSON. Members that are absent keep the defaults of
 * [ctor@ConnectionInfo.new]; members of the wrong type or value are an error.
 *
 * Returns: (transfer full) (nullable): the connection info, or %NULL with @error set
 */
BjConnectionInfo *
bj_connection_info_new_from_json (const char  *json,
                                  gssize       length,
                                  GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(BjConnectionInfo) self = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;

  g_return_val_if_fail (json != NULL, NULL);

  if (!json_parser_load_from_data (parser, json, length, &local_error))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("Not valid JSON: %s"), local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                           _("A connection file must hold a JSON object"));
      return NULL;
    }
  object = json_node_get_object (root);

  self = bj_connection_info_new ();
  if (!read_string_member (object, "ip", &self->ip, error) ||
      !read_string_member (object, "transport", &self->transport, error) ||
      !read_string_member (object, "key", &self->key, error) ||
      !read_string_member (object, "signature_scheme", &self->signature_scheme, error) ||
      !read_string_member (object, "kernel_name", &self->kernel_name, error))
    return NULL;

  for (guint i = 0; i < BJ_N_CHANNELS; i++)
    if (!read_port_member (object, port_members[i], &self->ports[i], error))
      return NULL;

  if (!transport_is_valid (self->transport))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("Transport “%s” is not supported (use “tcp” or “ipc”)"),
                   self->transport);
      return NULL;
    }

  if (*self->ip == '\0')
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                           _("“ip” must not be empty"));
      return NULL;
    }

  return g_steal_pointer (&self);
}

/**
 * bj_connection_info_new_from_file:
 * @path: (type filename): a connection file
 * @error: return location for a #GError
 *
 * Reads and parses a connection file.
 *
 * Returns: (transfer full) (nullable): the connection info, or %NULL with @error set
 */
BjConnectionInfo *
bj_connection_info_new_from_file (const char  *path,
                                  GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  BjConnectionInfo *self;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("Cannot read connection file: %s"), local_error->message);
      return NULL;
    }

  self = bj_connection_info_new_from_json (contents, length, &local_error);
  explicit_bzero (contents, length);
  if (self == NULL)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("Connection file “%s”: %s"), path, local_error->message);
      return NULL;
    }

  return self;
}

/**
 * bj_connection_info_get_ip:
 * @self: connection info
 *
 * Gets the address the kernel binds.
 *
 * Returns: the address to bind (tcp), or the path prefix of the sockets (ipc)
 */
const char *
bj_connection_info_get_ip (const BjConnectionInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->ip;
}

/**
 * bj_connection_info_set_ip:
 * @self: connection info
 * @ip: an IP address (tcp) or a path prefix (ipc)
 *
 * Sets where the kernel listens.
 */
void
bj_connection_info_set_ip (BjConnectionInfo *self,
                           const char       *ip)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (ip != NULL && *ip != '\0');

  replace_string (&self->ip, ip);
}

/**
 * bj_connection_info_get_transport:
 * @self: connection info
 *
 * Gets the ZeroMQ transport.
 *
 * Returns: `tcp` or `ipc`
 */
const char *
bj_connection_info_get_transport (const BjConnectionInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->transport;
}

/**
 * bj_connection_info_set_transport:
 * @self: connection info
 * @transport: `tcp` or `ipc`
 * @error: return location for a #GError
 *
 * Sets the ZeroMQ transport.
 *
 * Returns: %TRUE on success; %FALSE with @error set for any other transport
 */
gboolean
bj_connection_info_set_transport (BjConnectionInfo  *self,
                                  const char        *transport,
                                  GError           **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!transport_is_valid (transport))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO,
                   _("Transport “%s” is not supported (use “tcp” or “ipc”)"),
                   transport ? transport : "");
      return FALSE;
    }

  replace_string (&self->transport, transport);
  return TRUE;
}

/**
 * bj_connection_info_get_port:
 * @self: connection info
 * @channel: a channel
 *
 * Gets the port of one channel.
 *
 * Returns: the port of @channel, or 0 if it is yet to be chosen
 */
guint
bj_connection_info_get_port (const BjConnectionInfo *self,
                             BjChannel               channel)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (channel < BJ_N_CHANNELS, 0);
  return self->ports[channel];
}

/**
 * bj_connection_info_set_port:
 * @self: connection info
 * @channel: a channel
 * @port: a port, or 0 to let the kernel choose a free one when it binds
 *
 * Sets the port of @channel.
 */
void
bj_connection_info_set_port (BjConnectionInfo *self,
                             BjChannel         channel,
                             guint             port)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (channel < BJ_N_CHANNELS);
  g_return_if_fail (port <= 65535);
  self->ports[channel] = port;
}

/**
 * bj_connection_info_get_key:
 * @self: connection info
 *
 * Gets the key messages are signed with. Never show it: display text
 * comes from [method@ConnectionInfo.to_json] without the key.
 *
 * Returns: the signing key; empty if messages are not signed
 */
const char *
bj_connection_info_get_key (const BjConnectionInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->key;
}

/**
 * bj_connection_info_set_key:
 * @self: connection info
 * @key: the signing key, empty for none
 *
 * Sets the key that signs every message.
 */
void
bj_connection_info_set_key (BjConnectionInfo *self,
                            const char       *key)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (key != NULL);

  replace_string (&self->key, key);
}

/**
 * bj_connection_info_generate_key:
 * @self: connection info
 * @error: return location for a #GError
 *
 * Replaces the key with 256 random bits from GnuTLS's key generator, written
 * as 64 hexadecimal digits.
 *
 * Returns: %TRUE on success
 */
gboolean
bj_connection_info_generate_key (BjConnectionInfo  *self,
                                 GError           **error)
{
  guint8 random_bytes[KEY_BYTES];
  char hex[KEY_BYTES * 2 + 1];
  int ret;

  g_return_val_if_fail (self != NULL, FALSE);

  ret = gnutls_rnd (GNUTLS_RND_KEY, random_bytes, sizeof random_bytes);
  if (ret < 0)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot generate a key: %s"), gnutls_strerror (ret));
      return FALSE;
    }

  for (gsize i = 0; i < KEY_BYTES; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", random_bytes[i]);

  bj_connection_info_set_key (self, hex);
  explicit_bzero (random_bytes, sizeof random_bytes);
  explicit_bzero (hex, sizeof hex);
  return TRUE;
}

/**
 * bj_connection_info_get_signature_scheme:
 * @self: connection info
 *
 * Gets how messages are signed.
 *
 * Returns: the signature scheme, `hmac-sha256`
 */
const char *
bj_connection_info_get_signature_scheme (const BjConnectionInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->signature_scheme;
}

/**
 * bj_connection_info_set_signature_scheme:
 * @self: connection info
 * @scheme: the signature scheme
 * @error: return location for a #GError
 *
 * Only `hmac-sha256` is supported: weaker schemes are refused rather than
 * silently accepted.
 *
 * Returns: %TRUE on success
 */
gboolean
bj_connection_info_set_signature_scheme (BjConnectionInfo  *self,
                                         const char        *scheme,
                                         GError           **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (g_strcmp0 (scheme, "hmac-sha256") != 0)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_UNSUPPORTED_SIGNATURE_SCHEME,
                   _("Signature scheme “%s” is not supported (use “hmac-sha256”)"),
                   scheme ? scheme : "");
      return FALSE;
    }

  replace_string (&self->signature_scheme, scheme);
  return TRUE;
}

/**
 * bj_connection_info_get_kernel_name:
 * @self: connection info
 *
 * Gets the name of the kernelspec the connection is for.
 *
 * Returns: the kernelspec name the file was written for; may be empty
 */
const char *
bj_connection_info_get_kernel_name (const BjConnectionInfo *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->kernel_name;
}

/**
 * bj_connection_info_set_kernel_name:
 * @self: connection info
 * @kernel_name: a kernelspec name
 *
 * Sets the kernelspec name recorded in the file.
 */
void
bj_connection_info_set_kernel_name (BjConnectionInfo *self,
                                    const char       *kernel_name)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (kernel_name != NULL);

  replace_string (&self->kernel_name, kernel_name);
}

/**
 * bj_connection_info_get_endpoint:
 * @self: connection info
 * @channel: a channel
 *
 * Builds the ZeroMQ endpoint of @channel as jupyter_client does:
 * `tcp://IP:PORT`, or `ipc://IP-PORT` for the ipc transport. A port of 0 gives
 * `tcp://IP:*` (any free port).
 *
 * Returns: (transfer full): the endpoint
 */
char *
bj_connection_info_get_endpoint (const BjConnectionInfo *self,
                                 BjChannel               channel)
{
  guint port;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (channel < BJ_N_CHANNELS, NULL);

  port = self->ports[channel];
  if (g_str_equal (self->transport, "ipc"))
    return g_strdup_printf ("ipc://%s-%u", self->ip, port);
  if (port == 0)
    return g_strdup_printf ("tcp://%s:*", self->ip);
  if (strchr (self->ip, ':') != NULL)
    return g_strdup_printf ("tcp://[%s]:%u", self->ip, port);
  return g_strdup_printf ("tcp://%s:%u", self->ip, port);
}

/**
 * bj_connection_info_to_json:
 * @self: connection info
 * @include_key: whether to write the real key; %FALSE masks it
 *
 * Writes the connection file's JSON. With @include_key %FALSE the key is replaced
 * by asterisks: that form is the one to show, log or put on D-Bus.
 *
 * Returns: (transfer full): pretty-printed JSON
 */
char *
bj_connection_info_to_json (const BjConnectionInfo *self,
                            gboolean                include_key)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  json_builder_begin_object (builder);
  for (guint i = 0; i < BJ_N_CHANNELS; i++)
    {
      json_builder_set_member_name (builder, port_members[i]);
      json_builder_add_int_value (builder, self->ports[i]);
    }
  json_builder_set_member_name (builder, "ip");
  json_builder_add_string_value (builder, self->ip);
  json_builder_set_member_name (builder, "key");
  json_builder_add_string_value (builder, include_key || *self->key == '\0' ? self->key : MASKED_KEY);
  json_builder_set_member_name (builder, "transport");
  json_builder_add_string_value (builder, self->transport);
  json_builder_set_member_name (builder, "signature_scheme");
  json_builder_add_string_value (builder, self->signature_scheme);
  json_builder_set_member_name (builder, "kernel_name");
  json_builder_add_string_value (builder, self->kernel_name);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  return json_generator_to_data (generator, NULL);
}

/**
 * bj_connection_info_write_file:
 * @self: connection info
 * @path: (type filename): where to write
 * @error: return location for a #GError
 *
 * Writes the connection file, key included, atomically (a reader sees the old
 * file or the whole new one) and readable by the owner only (mode 0600).
 *
 * Returns: %TRUE on success
 */
gboolean
bj_connection_info_write_file (const BjConnectionInfo  *self,
                               const char              *path,
                               GError                 **error)
{
  g_autofree char *json = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  json = bj_connection_info_to_json (self, TRUE);
  ok = g_file_set_contents_full (path, json, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &local_error);
  explicit_bzero (json, strlen (json));
  if (!ok)
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot write connection file: %s"), local_error->message);
      return FALSE;
    }

  return TRUE;
}

/**
 * bj_console_command_for_file:
 * @connection_file: (type filename): a kernel's connection file
 *
 * The shell command that attaches `jupyter console` to the kernel of a
 * connection file, `jupyter console --existing FILE`. FILE is quoted for a POSIX
 * shell when it holds anything but letters, digits, an at sign and the
 * characters `_%+=:,./-`. The add-on, the tools and the GNOME Shell indicator all
 * quote this way, so a path with spaces, quotes or `$` pastes safely.
 *
 * Returns: (transfer full): the command
 */
char *
bj_console_command_for_file (const char *connection_file)
{
  static const char safe[] = "_@%+=:,./-";
  g_autofree char *quoted = NULL;
  gboolean plain;

  g_return_val_if_fail (connection_file != NULL, NULL);

  plain = *connection_file != '\0';
  for (const char *c = connection_file; plain && *c != '\0'; c++)
    plain = g_ascii_isalnum (*c) || strchr (safe, *c) != NULL;
  quoted = plain ? g_strdup (connection_file) : g_shell_quote (connection_file);
  return g_strconcat ("jupyter console --existing ", quoted, NULL);
}
