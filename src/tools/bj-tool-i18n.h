/* bj-tool-i18n.h: gettext set-up shared by the command-line tools
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gi18n.h>
#include <locale.h>

/* The catalogues live in LOCALEDIR once installed. Uninstalled tools have none
 * there: BJ_LOCALEDIR names another folder of <lang>/LC_MESSAGES/bpy-jupyter.mo,
 * such as the build tree's po/ (the tests point it there). */
static inline void
bj_tool_init_i18n (void)
{
  const char *localedir = g_getenv ("BJ_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
