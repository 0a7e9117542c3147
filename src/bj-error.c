/* bj-error.c
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "bj-error.h"

static const GDBusErrorEntry bj_error_entries[] = {
  { BJ_ERROR_FAILED, "org.bpyjupyter.Kernel.Error.Failed" },
  { BJ_ERROR_ALREADY_RUNNING, "org.bpyjupyter.Kernel.Error.AlreadyRunning" },
  { BJ_ERROR_NOT_RUNNING, "org.bpyjupyter.Kernel.Error.NotRunning" },
  { BJ_ERROR_BUSY, "org.bpyjupyter.Kernel.Error.Busy" },
  { BJ_ERROR_INVALID_CONNECTION_INFO, "org.bpyjupyter.Kernel.Error.InvalidConnectionInfo" },
  { BJ_ERROR_UNSUPPORTED_SIGNATURE_SCHEME, "org.bpyjupyter.Kernel.Error.UnsupportedSignatureScheme" },
  { BJ_ERROR_BAD_SIGNATURE, "org.bpyjupyter.Kernel.Error.BadSignature" },
  { BJ_ERROR_REPLAYED_MESSAGE, "org.bpyjupyter.Kernel.Error.ReplayedMessage" },
  { BJ_ERROR_MALFORMED_MESSAGE, "org.bpyjupyter.Kernel.Error.MalformedMessage" },
  { BJ_ERROR_MESSAGE_TOO_LARGE, "org.bpyjupyter.Kernel.Error.MessageTooLarge" },
  { BJ_ERROR_ADDRESS_IN_USE, "org.bpyjupyter.Kernel.Error.AddressInUse" },
  { BJ_ERROR_NOT_BUSY, "org.bpyjupyter.Kernel.Error.NotBusy" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (bj_error_entries) == BJ_ERROR_NOT_BUSY + 1);

/**
 * bj_error_quark:
 *
 * Gets the error domain of bpy-jupyter. It is registered with GDBus, so an error
 * of this domain crosses the bus as the D-Bus error named after its code and comes
 * back out of a proxy call as the same domain and code.
 *
 * Returns: the quark of %BJ_ERROR
 */
GQuark
bj_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("bj-error-quark",
                                      &quark,
                                      bj_error_entries,
                                      G_N_ELEMENTS (bj_error_entries));
  return (GQuark) quark;
}
