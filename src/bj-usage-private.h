/* bj-usage-private.h: usage_reply, the resources a kernel and its host use
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BjUsage BjUsage;

BjUsage *bj_usage_new           (void);
void     bj_usage_free          (BjUsage *self);
/* The content of a usage_reply, as ipykernel sends it (jupyter-resource-usage reads
 * it): hostname, pid, cpu_count, kernel_cpu and host_cpu_percent (percent since the
 * previous request; host_cpu_percent absent the first time), kernel_memory (PSS of
 * this process and its descendants, bytes) and host_virtual_memory (psutil's
 * fields). Read from /proc: no Python, so the I/O thread answers it while a cell runs. */
GBytes  *bj_usage_reply_content (BjUsage *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BjUsage, bj_usage_free)

G_END_DECLS
