/* bj-module-stop-signals.h: SIGTERM and SIGHUP stop a kernel served by run()
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <bpyjupyter.h>

G_BEGIN_DECLS

typedef struct _BjStopSignals BjStopSignals;

BjStopSignals *bj_stop_signals_watch (BjKernel      *kernel,
                                      GMainContext  *owner_context);
gboolean       bj_stop_signals_fired (BjStopSignals *self);
void           bj_stop_signals_free  (BjStopSignals *self);

G_END_DECLS
