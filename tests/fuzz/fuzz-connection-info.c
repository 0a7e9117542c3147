/* fuzz-connection-info.c: libFuzzer target for connection files
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <bpyjupyter.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = NULL;

  info = bj_connection_info_new_from_json ((const char *) data, size, &error);
  if (info != NULL)
    {
      /* What parses must write out and read back to the same values. */
      g_autofree char *json = bj_connection_info_to_json (info, TRUE);
      g_autoptr(BjConnectionInfo) again = bj_connection_info_new_from_json (json, -1, NULL);

      g_assert (again != NULL);
      for (guint c = 0; c < BJ_N_CHANNELS; c++)
        {
          g_autofree char *endpoint = bj_connection_info_get_endpoint (info, c);
          g_assert_cmpuint (bj_connection_info_get_port (again, c), ==, bj_connection_info_get_port (info, c));
          g_assert (endpoint != NULL);
        }
      g_assert_cmpstr (bj_connection_info_get_key (again), ==, bj_connection_info_get_key (info));
      g_assert_cmpstr (bj_connection_info_get_ip (again), ==, bj_connection_info_get_ip (info));
    }
  else
    g_assert (error != NULL);
  return 0;
}
