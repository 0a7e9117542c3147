/* bj-i18n.c: the library's gettext domain, bound on first use
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "bj-i18n-private.h"

/**
 * bj_i18n_init: (skip)
 *
 * Binds the `bpy-jupyter` domain to the catalogues' folder: `$BJ_LOCALEDIR` when
 * set (uninstalled builds: the build tree's `po/`), else the install's
 * localedir. Safe to call from any thread, any number of times.
 */
void
bj_i18n_init (void)
{
  static gsize bound = 0;

  if (g_once_init_enter (&bound))
    {
      const char *localedir = g_getenv ("BJ_LOCALEDIR");

      bindtextdomain (GETTEXT_PACKAGE,
                      localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&bound, 1);
    }
}

/**
 * bj_gettext: (skip)
 * @msgid: an English message
 *
 * Returns: (transfer none): @msgid in the user's language, from this library's domain
 */
const char *
bj_gettext (const char *msgid)
{
  bj_i18n_init ();
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}
