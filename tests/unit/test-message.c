/* test-message.c: the wire layer
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Expected signatures were computed with Python's hmac module.
 */
#include <bpyjupyter.h>

#include "bj-wire-private.h"

static GBytes *
bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static void
replace_frame (GPtrArray  *frames,
               guint       index,
               const char *text)
{
  g_bytes_unref (frames->pdata[index]);
  frames->pdata[index] = bytes (text);
}

static void
test_known_signatures (void)
{
  g_autoptr(GBytes) header = bytes ("{\"msg_id\":\"1\",\"msg_type\":\"kernel_info_request\"}");
  g_autoptr(GBytes) empty = bytes ("{}");
  g_autoptr(GBytes) a = bytes ("{\"a\":1}");
  g_autoptr(GBytes) b = bytes ("{\"b\":\"ü\"}");
  g_autoptr(GBytes) code = bytes ("{\"code\":\"print(1)\\n\"}");
  g_autofree char *first = bj_message_compute_signature ("secret-key", header, empty, empty, empty);
  g_autofree char *second = bj_message_compute_signature (
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", a, b, empty, code);
  g_autofree char *unsigned_ = bj_message_compute_signature ("", a, b, empty, code);

  g_assert_cmpstr (first, ==, "d24613c901272087168eb7a17b371d2f54d14044dca08737846f4baf86191b6a");
  g_assert_cmpstr (second, ==, "638a38f68535a1cae9b2f663cdabf35896193780cc0136222bc3f924dbc87890");
  g_assert_cmpstr (unsigned_, ==, "");
}

/* Builds [ids…, <IDS|MSG>, signature, header, parent, metadata, content, buffers…]. */
static GPtrArray *
request_frames (const char *key,
                const char *header,
                const char *content)
{
  g_autoptr(BjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) h = bytes (header);
  g_autoptr(GBytes) p = bytes ("{}");
  g_autoptr(GBytes) m = bytes ("{}");
  g_autoptr(GBytes) c = bytes (content);
  g_autofree char *signature = bj_message_compute_signature (key, h, p, m, c);

  g_ptr_array_add (frames, bytes ("client-identity"));
  g_ptr_array_add (frames, bytes (BJ_MESSAGE_DELIMITER));
  g_ptr_array_add (frames, bytes (signature));
  g_ptr_array_add (frames, g_bytes_ref (h));
  g_ptr_array_add (frames, g_bytes_ref (p));
  g_ptr_array_add (frames, g_bytes_ref (m));
  g_ptr_array_add (frames, g_bytes_ref (c));
  return g_steal_pointer (&frames);
}

#define HEADER "{\"msg_id\":\"m1\",\"msg_type\":\"execute_request\",\"session\":\"s1\",\"username\":\"u\",\"date\":\"2026-01-01T00:00:00Z\",\"version\":\"5.3\"}"

static void
test_parse_valid (void)
{
  g_autoptr(GPtrArray) frames = request_frames ("k", HEADER, "{\"code\":\"1+1\"}");
  g_autoptr(GError) error = NULL;
  g_autoptr(BjMessage) message = NULL;
  g_autoptr(GBytes) buffer = bytes ("\x00\x01 binary");
  g_autoptr(GBytes) header_json = NULL;

  g_ptr_array_add (frames, g_bytes_ref (buffer));
  message = bj_message_parse ((GBytes * const *) frames->pdata, frames->len, "k", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bj_message_get_msg_type (message), ==, "execute_request");
  g_assert_cmpstr (bj_message_get_msg_id (message), ==, "m1");
  g_assert_cmpstr (bj_message_get_session (message), ==, "s1");
  g_assert_cmpstr (json_object_get_string_member (bj_message_get_content (message), "code"), ==, "1+1");
  g_assert_cmpuint (bj_message_get_identities (message)->len, ==, 1);
  g_assert_cmpuint (bj_message_get_buffers (message)->len, ==, 1);
  g_assert_true (g_bytes_equal (bj_message_get_buffers (message)->pdata[0], buffer));

  /* The header is kept byte for byte, to be echoed as a reply's parent header. */
  header_json = bj_message_get_header_json (message);
  g_assert_cmpmem (g_bytes_get_data (header_json, NULL), g_bytes_get_size (header_json),
                   HEADER, strlen (HEADER));
}

static void
test_round_trip (void)
{
  g_autoptr(GPtrArray) frames = request_frames ("k", HEADER, "{\"code\":\"1+1\"}");
  g_autoptr(GError) error = NULL;
  g_autoptr(BjMessage) request = bj_message_parse ((GBytes * const *) frames->pdata, frames->len, "k", &error);
  g_autoptr(BjMessage) reply = bj_message_new ("execute_reply", "kernel-session", request);
  g_autoptr(JsonObject) content = json_object_new ();
  g_autoptr(GPtrArray) reply_frames = NULL;
  g_autoptr(BjMessage) parsed = NULL;
  g_autoptr(GBytes) binary = bytes ("buffer");

  g_assert_no_error (error);
  json_object_set_string_member (content, "status", "ok");
  json_object_set_string_member (content, "text", "quote \" backslash \\ newline \n ünïcode");
  bj_message_set_content (reply, content);
  bj_message_add_buffer (reply, binary);

  reply_frames = bj_message_serialize (reply, "k");
  g_assert_cmpuint (reply_frames->len, ==, 1 + 1 + 1 + 4 + 1);

  parsed = bj_message_parse ((GBytes * const *) reply_frames->pdata, reply_frames->len, "k", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bj_message_get_msg_type (parsed), ==, "execute_reply");
  g_assert_cmpstr (bj_message_get_session (parsed), ==, "kernel-session");
  g_assert_cmpstr (bj_message_get_msg_id (parsed), ==, bj_message_get_msg_id (reply));
  g_assert_cmpstr (json_object_get_string_member (bj_message_get_parent_header (parsed), "msg_id"), ==, "m1");
  g_assert_cmpstr (json_object_get_string_member (bj_message_get_content (parsed), "text"), ==,
                   "quote \" backslash \\ newline \n ünïcode");
  g_assert_cmpstr (json_object_get_string_member (bj_message_get_header (parsed), "version"), ==,
                   BJ_PROTOCOL_VERSION);
  g_assert_cmpuint (bj_message_get_identities (parsed)->len, ==, 1);
  g_assert_true (g_bytes_equal (bj_message_get_buffers (parsed)->pdata[0], binary));
}

static void
expect_rejected (GPtrArray  *frames,
                 const char *key,
                 int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjMessage) message = bj_message_parse ((GBytes * const *) frames->pdata, frames->len, key, &error);

  g_assert_null (message);
  g_assert_error (error, BJ_ERROR, code);
}

static void
test_bad_signature (void)
{
  g_autoptr(GPtrArray) frames = request_frames ("k", HEADER, "{}");
  g_autoptr(GPtrArray) upper = NULL;
  g_autofree char *upper_signature = NULL;

  expect_rejected (frames, "other-key", BJ_ERROR_BAD_SIGNATURE);

  /* Same digest in upper case, and a truncated one: both refused. */
  upper = request_frames ("k", HEADER, "{}");
  upper_signature = g_ascii_strup (g_bytes_get_data (upper->pdata[2], NULL), 64);
  replace_frame (upper, 2, upper_signature);
  expect_rejected (upper, "k", BJ_ERROR_BAD_SIGNATURE);
  replace_frame (upper, 2, "abcd");
  expect_rejected (upper, "k", BJ_ERROR_BAD_SIGNATURE);

  /* A changed content frame with the old signature. */
  replace_frame (frames, 6, "{\"code\":\"evil\"}");
  expect_rejected (frames, "k", BJ_ERROR_BAD_SIGNATURE);
}

static void
test_truncated (void)
{
  g_autoptr(GPtrArray) frames = request_frames ("k", HEADER, "{}");

  g_ptr_array_set_size (frames, 4);
  expect_rejected (frames, "k", BJ_ERROR_MALFORMED_MESSAGE);
  g_ptr_array_remove_index (frames, 1);
  expect_rejected (frames, "k", BJ_ERROR_MALFORMED_MESSAGE);
  g_ptr_array_set_size (frames, 0);
  expect_rejected (frames, "k", BJ_ERROR_MALFORMED_MESSAGE);
}

static void
test_invalid_json (void)
{
  static const char *contents[] = {
    "{not json",
    "[1, 2, 3]",
    "\"string\"",
    "",
    "{\"a\": \"\xff\xfe\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
    {
      g_autoptr(GPtrArray) frames = request_frames ("k", HEADER, contents[i]);
      expect_rejected (frames, "k", BJ_ERROR_MALFORMED_MESSAGE);
    }
}

static void
test_header_without_type (void)
{
  g_autoptr(GPtrArray) frames = request_frames ("k", "{\"msg_id\":\"x\"}", "{}");
  g_autoptr(GPtrArray) wrong_type = request_frames ("k", "{\"msg_id\":\"x\",\"msg_type\":5}", "{}");

  expect_rejected (frames, "k", BJ_ERROR_MALFORMED_MESSAGE);
  expect_rejected (wrong_type, "k", BJ_ERROR_MALFORMED_MESSAGE);
}

static void
test_deep_nesting (void)
{
  GString *deep = g_string_new (NULL);
  g_autoptr(GPtrArray) frames = NULL;

  g_string_append (deep, "{\"a\":");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  frames = request_frames ("k", HEADER, deep->str);
  expect_rejected (frames, "k", BJ_ERROR_MALFORMED_MESSAGE);
  g_string_free (deep, TRUE);
}

/* GLib's HMAC, the fallback where GnuTLS refuses a key, signs exactly as GnuTLS. */
static void
test_signer_fallback_agrees (void)
{
  static const char *keys[] = { "k", "a-256-bit-key-0123456789abcdef0123456789abcdef", "\xc3\xa9t\xc3\xa9" };
  const void *parts[4] = { HEADER, "{}", "{\"m\": 1}", "{\"code\": \"1+1\"}" };
  gsize lengths[4];

  for (guint i = 0; i < 4; i++)
    lengths[i] = strlen (parts[i]);
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      g_autoptr(BjSigner) gnutls = bj_signer_new (keys[k]);
      g_autoptr(BjSigner) glib = bj_signer_new_glib_only (keys[k]);
      char a[BJ_SIGNATURE_HEX_LEN + 1], b[BJ_SIGNATURE_HEX_LEN + 1];

      bj_signer_sign (gnutls, parts, lengths, a);
      bj_signer_sign (glib, parts, lengths, b);
      g_assert_cmpuint (strlen (a), ==, BJ_SIGNATURE_HEX_LEN);
      g_assert_cmpstr (a, ==, b);
      g_assert_true (bj_signer_verify (glib, a, BJ_SIGNATURE_HEX_LEN, parts, lengths));
      b[0] = b[0] == '0' ? '1' : '0';
      g_assert_false (bj_signer_verify (glib, b, BJ_SIGNATURE_HEX_LEN, parts, lengths));
    }
}

static void
test_replay_guard (void)
{
  g_autoptr(GPtrArray) frames = request_frames ("k", HEADER, "{}");
  g_autoptr(BjSigner) signer = bj_signer_new ("k");
  BjReplayGuard *guard = bj_replay_guard_new (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(BjMessage) first = NULL;
  g_autoptr(BjMessage) again = NULL;

  first = bj_wire_parse ((GBytes * const *) frames->pdata, frames->len, signer, guard, &error);
  g_assert_no_error (error);
  g_assert_nonnull (first);
  again = bj_wire_parse ((GBytes * const *) frames->pdata, frames->len, signer, guard, &error);
  g_assert_null (again);
  g_assert_error (error, BJ_ERROR, BJ_ERROR_REPLAYED_MESSAGE);

  /* Bounded: the oldest signature is forgotten once capacity is exceeded. */
  g_assert_true (bj_replay_guard_check (guard, "b", 1));
  g_assert_true (bj_replay_guard_check (guard, "c", 1));
  g_assert_false (bj_replay_guard_check (guard, "c", 1));
  g_assert_true (bj_replay_guard_check (guard, "a", 1));
  bj_replay_guard_free (guard);
}

static void
test_unsigned (void)
{
  g_autoptr(GPtrArray) frames = request_frames ("", HEADER, "{}");
  g_autoptr(GError) error = NULL;
  g_autoptr(BjMessage) message = bj_message_parse ((GBytes * const *) frames->pdata, frames->len, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
}

static void
test_json_escape (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  const char text[] = "a\"b\\c\nd\te\x01" "f/é";
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  bj_json_append_escaped (out, text, strlen (text));
  g_assert_cmpstr (out->str, ==, "\"a\\\"b\\\\c\\nd\\te\\u0001f/é\"");
  g_assert_true (json_parser_load_from_data (parser, out->str, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (json_parser_get_root (parser)), ==, text);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/message/known-signatures", test_known_signatures);
  g_test_add_func ("/message/parse-valid", test_parse_valid);
  g_test_add_func ("/message/round-trip", test_round_trip);
  g_test_add_func ("/message/bad-signature", test_bad_signature);
  g_test_add_func ("/message/truncated", test_truncated);
  g_test_add_func ("/message/invalid-json", test_invalid_json);
  g_test_add_func ("/message/header-without-type", test_header_without_type);
  g_test_add_func ("/message/deep-nesting", test_deep_nesting);
  g_test_add_func ("/message/signer-fallback-agrees", test_signer_fallback_agrees);
  g_test_add_func ("/message/replay-guard", test_replay_guard);
  g_test_add_func ("/message/unsigned", test_unsigned);
  g_test_add_func ("/message/json-escape", test_json_escape);

  return g_test_run ();
}
