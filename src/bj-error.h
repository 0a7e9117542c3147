/* bj-error.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "bj-export.h"

G_BEGIN_DECLS

/**
 * BJ_ERROR:
 *
 * The error domain of bpy-jupyter. Each code maps to a D-Bus error named
 * `org.bpyjupyter.Kernel.Error.<Code>`.
 */
#define BJ_ERROR (bj_error_quark ())

/**
 * BjError:
 * @BJ_ERROR_FAILED: something failed; the message says what
 * @BJ_ERROR_ALREADY_RUNNING: the kernel is already started
 * @BJ_ERROR_NOT_RUNNING: the kernel is not running
 * @BJ_ERROR_BUSY: the kernel cannot do this while it executes a cell
 * @BJ_ERROR_INVALID_CONNECTION_INFO: a connection file or its values are unusable
 * @BJ_ERROR_UNSUPPORTED_SIGNATURE_SCHEME: a signature scheme other than `hmac-sha256`
 * @BJ_ERROR_BAD_SIGNATURE: a message's signature does not match its content
 * @BJ_ERROR_REPLAYED_MESSAGE: a message with a signature already seen in this session
 * @BJ_ERROR_MALFORMED_MESSAGE: a message whose frames are missing or not valid JSON objects
 * @BJ_ERROR_MESSAGE_TOO_LARGE: a message over the configured size limit
 * @BJ_ERROR_ADDRESS_IN_USE: a port or ipc path is already taken
 * @BJ_ERROR_NOT_BUSY: no cell is running, so there is nothing to interrupt
 *
 * Error codes in the %BJ_ERROR domain.
 */
typedef enum {
  BJ_ERROR_FAILED,
  BJ_ERROR_ALREADY_RUNNING,
  BJ_ERROR_NOT_RUNNING,
  BJ_ERROR_BUSY,
  BJ_ERROR_INVALID_CONNECTION_INFO,
  BJ_ERROR_UNSUPPORTED_SIGNATURE_SCHEME,
  BJ_ERROR_BAD_SIGNATURE,
  BJ_ERROR_REPLAYED_MESSAGE,
  BJ_ERROR_MALFORMED_MESSAGE,
  BJ_ERROR_MESSAGE_TOO_LARGE,
  BJ_ERROR_ADDRESS_IN_USE,
  BJ_ERROR_NOT_BUSY,
} BjError;

BJ_EXPORT
GQuark bj_error_quark (void);

G_END_DECLS
