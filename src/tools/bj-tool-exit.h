/* bj-tool-exit.h: the exit statuses of bpy-jupyter-kernel and bpy-jupyter-ctl
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

/* One set for both tools, as their --help and the README document: scripts can
 * tell a usage error from a refusal from a missing kernel whichever tool they ran. */
typedef enum {
  BJ_EXIT_OK = 0,
  BJ_EXIT_FAILED = 1,       /* an error from the kernel, the bus or the system (printed) */
  BJ_EXIT_USAGE = 2,        /* the command line is wrong */
  BJ_EXIT_WRONG_STATE = 3,  /* the kernel refused in its current state */
  BJ_EXIT_NO_KERNEL = 4,    /* no such kernel on the session bus */
  BJ_EXIT_AMBIGUOUS = 5,    /* several kernels could be meant: choose with --instance */
} BjExitStatus;
