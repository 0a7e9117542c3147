/* bj-executor.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "bj-export.h"
#include "bj-message.h"

G_BEGIN_DECLS

typedef struct _BjKernel BjKernel;

#define BJ_TYPE_EXECUTOR (bj_executor_get_type ())

BJ_EXPORT
G_DECLARE_INTERFACE (BjExecutor, bj_executor, BJ, EXECUTOR, GObject)

/**
 * BjExecutorInterface:
 * @get_kernel_info: returns the language-specific part of `kernel_info_reply`
 *   (`language_info`, `banner`, `help_links`); called once when the kernel starts
 * @attach: the kernel started with this executor; called on the owner thread
 * @detach: the kernel is stopping; release what @attach set up
 * @execute: runs the code of an `execute_request`, publishing outputs through
 *   the kernel, and returns the `execute_reply` content (with at least `status`)
 * @complete: returns the `complete_reply` content
 * @inspect: returns the `inspect_reply` content
 * @is_complete: returns the `is_complete_reply` content
 * @history: returns the `history_reply` content
 * @handle_message: any other shell request (comms, …): returns %TRUE if it handled
 *   the type, with the reply content in @reply when the type has a reply; %FALSE
 *   for a type it does not know (the kernel then logs and ignores it)
 * @interrupt: asks a running @execute to stop. Called from the kernel's I/O thread,
 *   only while a cell runs: implementations must be thread-safe and must not block
 *
 * An executor runs code for a [class@Kernel]. Everything except @interrupt is called
 * on the kernel's owner thread, one request at a time; the kernel handles the
 * protocol (status, counters, replies) around each call.
 */
struct _BjExecutorInterface
{
  GTypeInterface parent_iface;

  JsonObject *(*get_kernel_info) (BjExecutor *self);
  void        (*attach)          (BjExecutor *self,
                                  BjKernel   *kernel);
  void        (*detach)          (BjExecutor *self,
                                  BjKernel   *kernel);
  JsonObject *(*execute)         (BjExecutor *self,
                                  BjKernel   *kernel,
                                  BjMessage  *request,
                                  guint64     execution_count);
  JsonObject *(*complete)        (BjExecutor *self,
                                  BjKernel   *kernel,
                                  BjMessage  *request);
  JsonObject *(*inspect)         (BjExecutor *self,
                                  BjKernel   *kernel,
                                  BjMessage  *request);
  JsonObject *(*is_complete)     (BjExecutor *self,
                                  BjKernel   *kernel,
                                  BjMessage  *request);
  JsonObject *(*history)         (BjExecutor *self,
                                  BjKernel   *kernel,
                                  BjMessage  *request);
  gboolean    (*handle_message)  (BjExecutor  *self,
                                  BjKernel    *kernel,
                                  BjMessage   *request,
                                  JsonObject **reply);
  void        (*interrupt)       (BjExecutor *self);

  /*< private >*/
  gpointer padding[12];
};

BJ_EXPORT
JsonObject *bj_executor_get_kernel_info (BjExecutor *self);
BJ_EXPORT
void        bj_executor_attach          (BjExecutor *self,
                                         BjKernel   *kernel);
BJ_EXPORT
void        bj_executor_detach          (BjExecutor *self,
                                         BjKernel   *kernel);
BJ_EXPORT
JsonObject *bj_executor_execute         (BjExecutor *self,
                                         BjKernel   *kernel,
                                         BjMessage  *request,
                                         guint64     execution_count);
BJ_EXPORT
JsonObject *bj_executor_complete        (BjExecutor *self,
                                         BjKernel   *kernel,
                                         BjMessage  *request);
BJ_EXPORT
JsonObject *bj_executor_inspect         (BjExecutor *self,
                                         BjKernel   *kernel,
                                         BjMessage  *request);
BJ_EXPORT
JsonObject *bj_executor_is_complete     (BjExecutor *self,
                                         BjKernel   *kernel,
                                         BjMessage  *request);
BJ_EXPORT
JsonObject *bj_executor_history         (BjExecutor *self,
                                         BjKernel   *kernel,
                                         BjMessage  *request);
BJ_EXPORT
gboolean    bj_executor_handle_message  (BjExecutor  *self,
                                         BjKernel    *kernel,
                                         BjMessage   *request,
                                         JsonObject **reply);
BJ_EXPORT
void        bj_executor_interrupt       (BjExecutor *self);

G_END_DECLS
