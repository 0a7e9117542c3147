/* standalone-main.c: runs a fuzz target over files, without libFuzzer
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every build replays the corpus and the regressions (inputs that once crashed)
 * through the same target code, so a fixed crash stays fixed.
 */
#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
main (int    argc,
      char **argv)
{
  guint count = 0;

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
      const char *name;

      if (dir == NULL)
        {
          g_printerr ("Cannot open %s\n", argv[i]);
          return 1;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);
          g_autofree char *contents = NULL;
          gsize length;

          if (!g_file_get_contents (path, &contents, &length, NULL))
            return 1;
          LLVMFuzzerTestOneInput ((const guint8 *) contents, length);
          count++;
        }
    }

  g_print ("1..1\nok 1 - %u inputs replayed\n", count);
  return count > 0 ? 0 : 1;
}
