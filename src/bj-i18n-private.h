/* bj-i18n-private.h: the library's gettext domain, bound on first use
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

void        bj_i18n_init  (void);
const char *bj_gettext    (const char *msgid) G_GNUC_FORMAT (1);

G_END_DECLS

/* A program that uses the library (through GObject Introspection, say) never
 * calls bindtextdomain() for our domain: without this, its users would get
 * English whatever their language, since gettext only looks in the default
 * folder, where the catalogues may not be. */
#undef _
#define _(String) bj_gettext (String)
