/* bj-kernel-service.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "bj-export.h"
#include "bj-kernel.h"

G_BEGIN_DECLS

/**
 * BJ_DBUS_NAME:
 *
 * The shared bus name every host queues for; it passes to the next host when its
 * owner exits, and D-Bus activation starts `bpy-jupyter-kernel --dbus` for it.
 */
#define BJ_DBUS_NAME "org.bpyjupyter.Kernel"

/**
 * BJ_DBUS_INSTANCE_PREFIX:
 *
 * The start of each host's own bus name, which ends with its process id.
 */
#define BJ_DBUS_INSTANCE_PREFIX "org.bpyjupyter.Kernel.Instance"

/**
 * BJ_DBUS_PATH:
 *
 * The object path of the kernel object.
 */
#define BJ_DBUS_PATH "/org/bpyjupyter/Kernel"

/**
 * BJ_DBUS_INTERFACE:
 *
 * The D-Bus interface of the kernel object.
 */
#define BJ_DBUS_INTERFACE "org.bpyjupyter.Kernel"

#define BJ_TYPE_KERNEL_SERVICE (bj_kernel_service_get_type ())

BJ_EXPORT
G_DECLARE_FINAL_TYPE (BjKernelService, bj_kernel_service, BJ, KERNEL_SERVICE, GObject)

BJ_EXPORT
BjKernelService   *bj_kernel_service_new                (BjKernel         *kernel,
                                                         GDBusConnection  *connection,
                                                         const char       *host,
                                                         const char       *host_document);
BJ_EXPORT
gboolean           bj_kernel_service_export             (BjKernelService  *self,
                                                         GError          **error);
BJ_EXPORT
void               bj_kernel_service_unexport           (BjKernelService  *self);
BJ_EXPORT
gboolean           bj_kernel_service_get_exported       (BjKernelService  *self);

BJ_EXPORT
BjKernel          *bj_kernel_service_get_kernel         (BjKernelService  *self);
BJ_EXPORT
GDBusConnection   *bj_kernel_service_get_connection     (BjKernelService  *self);
BJ_EXPORT
const char        *bj_kernel_service_get_host           (BjKernelService  *self);
BJ_EXPORT
const char        *bj_kernel_service_get_host_document  (BjKernelService  *self);
BJ_EXPORT
void               bj_kernel_service_set_host_document  (BjKernelService  *self,
                                                         const char       *host_document);
BJ_EXPORT
const char        *bj_kernel_service_get_instance_name  (BjKernelService  *self);

G_END_DECLS
