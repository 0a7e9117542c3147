/* bj-export.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#if !defined(BJ_INSIDE) && !defined(BJ_COMPILATION)
# error "Only <bpyjupyter.h> can be included directly."
#endif

/* The library is built with -fvisibility=hidden: only what carries this is ABI. */
#if defined(BJ_COMPILATION) && defined(__GNUC__)
# define BJ_EXPORT __attribute__((visibility ("default"))) extern
#else
# define BJ_EXPORT extern
#endif
