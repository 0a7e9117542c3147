/* fuzz-wire.c: libFuzzer target for the wire parser and signature check
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: one byte choosing the key (even: unsigned, odd: key "fuzz-key"), then the
 * frames of a multipart message separated by the two bytes 0xFF 0x00.
 */
#include <bpyjupyter.h>

#include "bj-wire-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
quiet_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  static BjSigner *signers[2];
  static BjReplayGuard *guard;
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(BjMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  gsize start = 1;

  if (signers[0] == NULL)
    {
      g_log_set_default_handler (quiet_log, NULL);
      signers[0] = bj_signer_new (NULL);
      signers[1] = bj_signer_new ("fuzz-key");
      guard = bj_replay_guard_new (1024);
    }
  if (size == 0)
    return 0;

  for (gsize i = 1; i + 1 < size; i++)
    if (data[i] == 0xFF && data[i + 1] == 0x00)
      {
        g_ptr_array_add (frames, g_bytes_new (data + start, i - start));
        start = i + 2;
        i++;
      }
  g_ptr_array_add (frames, g_bytes_new (data + start, size - start));

  message = bj_wire_parse ((GBytes * const *) frames->pdata, frames->len,
                           signers[data[0] & 1], guard, &error);
  if (message != NULL)
    {
      /* Whatever parses must serialize and parse back the same. */
      g_autoptr(GPtrArray) again = bj_message_serialize (message, (data[0] & 1) ? "fuzz-key" : NULL);
      g_autoptr(BjMessage) round_trip = bj_message_parse ((GBytes * const *) again->pdata, again->len,
                                                          (data[0] & 1) ? "fuzz-key" : NULL, NULL);

      g_assert (round_trip != NULL);
      g_assert_cmpstr (bj_message_get_msg_type (round_trip), ==, bj_message_get_msg_type (message));
      g_assert_cmpuint (bj_message_get_buffers (round_trip)->len, ==, bj_message_get_buffers (message)->len);
    }
  else
    g_assert (error != NULL);
  return 0;
}
