/* bpyjupyter.h: the one header of libbpyjupyter
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#define BJ_INSIDE
# include "bj-connection-info.h"
# include "bj-enums.h"
# include "bj-error.h"
# include "bj-executor.h"
# include "bj-kernel.h"
# include "bj-kernel-service.h"
# include "bj-message.h"
# include "bj-version.h"
#undef BJ_INSIDE
