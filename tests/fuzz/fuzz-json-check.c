/* fuzz-json-check.c: libFuzzer target for the JSON pre-check and the escaper
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bj_wire_check_json guards json-glib against invalid UTF-8 and deep nesting;
 * bj_json_append_escaped writes stream text into messages. What passes the check
 * must not crash json-glib, and any valid UTF-8 text must escape into a JSON
 * string that decodes back to itself.
 */
#include <bpyjupyter.h>

#include "bj-wire-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  const char *text = (const char *) data;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();

  if (bj_wire_check_json (text, size, NULL))
    {
      g_autoptr(GString) escaped = g_string_new (NULL);
      g_autoptr(GError) error = NULL;

      (void) json_parser_load_from_data (parser, text, size, NULL);

      bj_json_append_escaped (escaped, text, size);
      if (memchr (text, '\0', size) == NULL)
        {
          g_assert (json_parser_load_from_data (parser, escaped->str, escaped->len, &error));
          g_autofree char *original = g_strndup (text, size);
          g_assert_cmpstr (json_node_get_string (json_parser_get_root (parser)), ==, original);
        }
    }
  return 0;
}
