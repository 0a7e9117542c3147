/* bj-executor.c
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "bj-executor.h"
#include "bj-kernel.h"
#include "bj-wire-private.h"

/**
 * BjExecutor:
 *
 * Runs code for a [class@Kernel]: the kernel speaks the protocol, the executor
 * knows the language. Any GObject Introspection language can implement it.
 */

G_DEFINE_INTERFACE (BjExecutor, bj_executor, G_TYPE_OBJECT)

static JsonObject *
reply_with_status (const char *status)
{
  JsonObject *reply = json_object_new ();

  json_object_set_string_member (reply, "status", status);
  return reply;
}

static JsonObject *
default_get_kernel_info (BjExecutor *self)
{
  JsonObject *info = json_object_new ();
  JsonObject *language_info = json_object_new ();

  json_object_set_string_member (language_info, "name", "");
  json_object_set_object_member (info, "language_info", language_info);
  json_object_set_string_member (info, "banner", "");
  return info;
}

static JsonObject *
default_execute (BjExecutor *self,
                 BjKernel   *kernel,
                 BjMessage  *request,
                 guint64     execution_count)
{
  JsonObject *reply = reply_with_status ("error");

  json_object_set_string_member (reply, "ename", "NotImplementedError");
  json_object_set_string_member (reply, "evalue", "This executor does not run code");
  json_object_set_array_member (reply, "traceback", json_array_new ());
  return reply;
}

static JsonObject *
default_complete (BjExecutor *self,
                  BjKernel   *kernel,
                  BjMessage  *request)
{
  JsonObject *reply = reply_with_status ("ok");
  JsonObject *content = bj_message_get_content (request);
  gint64 cursor = bj_json_get_int (content, "cursor_pos", 0);

  json_object_set_array_member (reply, "matches", json_array_new ());
  json_object_set_int_member (reply, "cursor_start", cursor);
  json_object_set_int_member (reply, "cursor_end", cursor);
  json_object_set_object_member (reply, "metadata", json_object_new ());
  return reply;
}

static JsonObject *
default_inspect (BjExecutor *self,
                 BjKernel   *kernel,
                 BjMessage  *request)
{
  JsonObject *reply = reply_with_status ("ok");

  json_object_set_boolean_member (reply, "found", FALSE);
  json_object_set_object_member (reply, "data", json_object_new ());
  json_object_set_object_member (reply, "metadata", json_object_new ());
  return reply;
}

static JsonObject *
default_is_complete (BjExecutor *self,
                     BjKernel   *kernel,
                     BjMessage  *request)
{
  return reply_with_status ("unknown");
}

static JsonObject *
default_history (BjExecutor *self,
                 BjKernel   *kernel,
                 BjMessage  *request)
{
  JsonObject *reply = reply_with_status ("ok");

  json_object_set_array_member (reply, "history", json_array_new ());
  return reply;
}

static gboolean
default_handle_message (BjExecutor  *self,
                        BjKernel    *kernel,
                        BjMessage   *request,
                        JsonObject **reply)
{
  *reply = NULL;
  return FALSE;
}

static void
bj_executor_default_init (BjExecutorInterface *iface)
{
  iface->get_kernel_info = default_get_kernel_info;
  iface->execute = default_execute;
  iface->complete = default_complete;
  iface->inspect = default_inspect;
  iface->is_complete = default_is_complete;
  iface->history = default_history;
  iface->handle_message = default_handle_message;
}

/**
 * bj_executor_get_kernel_info: (virtual get_kernel_info)
 * @self: an executor
 *
 * Asks the executor for the language-specific part of `kernel_info_reply`.
 * The kernel calls it once per start and adds the protocol fields itself.
 *
 * Returns: (transfer full): `language_info`, `banner` and `help_links` for
 *   `kernel_info_reply`
 */
JsonObject *
bj_executor_get_kernel_info (BjExecutor *self)
{
  g_return_val_if_fail (BJ_IS_EXECUTOR (self), NULL);
  return BJ_EXECUTOR_GET_IFACE (self)->get_kernel_info (self);
}

/**
 * bj_executor_attach: (virtual attach)
 * @self: an executor
 * @kernel: the kernel that starts with @self
 *
 * Called on the owner thread when @kernel starts.
 */
void
bj_executor_attach (BjExecutor *self,
                    BjKernel   *kernel)
{
  BjExecutorInterface *iface;

  g_return_if_fail (BJ_IS_EXECUTOR (self));
  iface = BJ_EXECUTOR_GET_IFACE (self);
  if (iface->attach != NULL)
    iface->attach (self, kernel);
}

/**
 * bj_executor_detach: (virtual detach)
 * @self: an executor
 * @kernel: the kernel that stops
 *
 * Called on the owner thread when @kernel stops.
 */
void
bj_executor_detach (BjExecutor *self,
                    BjKernel   *kernel)
{
  BjExecutorInterface *iface;

  g_return_if_fail (BJ_IS_EXECUTOR (self));
  iface = BJ_EXECUTOR_GET_IFACE (self);
  if (iface->detach != NULL)
    iface->detach (self, kernel);
}

/**
 * bj_executor_execute: (virtual execute)
 * @self: an executor
 * @kernel: the kernel to publish outputs through
 * @request: the `execute_request`
 * @execution_count: the number of this execution
 *
 * Runs the code of an `execute_request`. Outputs go out through @kernel while
 * the code runs ([method@Kernel.write_stream], [method@Kernel.publish]); the kernel
 * publishes the status, the `execute_input` and the reply around this call.
 *
 * Returns: (transfer full): the `execute_reply` content
 */
JsonObject *
bj_executor_execute (BjExecutor *self,
                     BjKernel   *kernel,
                     BjMessage  *request,
                     guint64     execution_count)
{
  g_return_val_if_fail (BJ_IS_EXECUTOR (self), NULL);
  return BJ_EXECUTOR_GET_IFACE (self)->execute (self, kernel, request, execution_count);
}

/**
 * bj_executor_complete: (virtual complete)
 * @self: an executor
 * @kernel: the kernel
 * @request: the `complete_request`
 *
 * Answers a `complete_request`.
 *
 * Returns: (transfer full): the `complete_reply` content
 */
JsonObject *
bj_executor_complete (BjExecutor *self,
                      BjKernel   *kernel,
                      BjMessage  *request)
{
  g_return_val_if_fail (BJ_IS_EXECUTOR (self), NULL);
  return BJ_EXECUTOR_GET_IFACE (self)->complete (self, kernel, request);
}

/**
 * bj_executor_inspect: (virtual inspect)
 * @self: an executor
 * @kernel: the kernel
 * @request: the `inspect_request`
 *
 * Answers an `inspect_request`.
 *
 * Returns: (transfer full): the `inspect_reply` content
 */
JsonObject *
bj_executor_inspect (BjExecutor *self,
                     BjKernel   *kernel,
                     BjMessage  *request)
{
  g_return_val_if_fail (BJ_IS_EXECUTOR (self), NULL);
  return BJ_EXECUTOR_GET_IFACE (self)->inspect (self, kernel, request);
}

/**
 * bj_executor_is_complete: (virtual is_complete)
 * @self: an executor
 * @kernel: the kernel
 * @request: the `is_complete_request`
 *
 * Answers an `is_complete_request`.
 *
 * Returns: (transfer full): the `is_complete_reply` content
 */
JsonObject *
bj_executor_is_complete (BjExecutor *self,
                         BjKernel   *kernel,
                         BjMessage  *request)
{
  g_return_val_if_fail (BJ_IS_EXECUTOR (self), NULL);
  return BJ_EXECUTOR_GET_IFACE (self)->is_complete (self, kernel, request);
}

/**
 * bj_executor_history: (virtual history)
 * @self: an executor
 * @kernel: the kernel
 * @request: the `history_request`
 *
 * Answers a `history_request`.
 *
 * Returns: (transfer full): the `history_reply` content
 */
JsonObject *
bj_executor_history (BjExecutor *self,
                     BjKernel   *kernel,
                     BjMessage  *request)
{
  g_return_val_if_fail (BJ_IS_EXECUTOR (self), NULL);
  return BJ_EXECUTOR_GET_IFACE (self)->history (self, kernel, request);
}

/**
 * bj_executor_handle_message: (virtual handle_message)
 * @self: an executor
 * @kernel: the kernel
 * @request: a shell request of another type
 * @reply: (out) (transfer full) (optional) (nullable): the reply content, %NULL
 *   for a message that has no reply (`comm_msg`, …)
 *
 * Offers the executor a shell request the kernel does not handle itself:
 * comms (`comm_open`, `comm_msg`, `comm_close`, `comm_info_request`) and any
 * other type.
 *
 * Returns: %TRUE if the executor handled the message type
 */
gboolean
bj_executor_handle_message (BjExecutor  *self,
                            BjKernel    *kernel,
                            BjMessage   *request,
                            JsonObject **reply)
{
  JsonObject *content = NULL;
  gboolean handled;

  g_return_val_if_fail (BJ_IS_EXECUTOR (self), FALSE);
  handled = BJ_EXECUTOR_GET_IFACE (self)->handle_message (self, kernel, request, &content);
  if (reply != NULL)
    *reply = content;
  else
    g_clear_pointer (&content, json_object_unref);
  return handled;
}

/**
 * bj_executor_interrupt: (virtual interrupt)
 * @self: an executor
 *
 * Asks the running execution to stop. Thread-safe; does not block.
 */
void
bj_executor_interrupt (BjExecutor *self)
{
  BjExecutorInterface *iface;

  g_return_if_fail (BJ_IS_EXECUTOR (self));
  iface = BJ_EXECUTOR_GET_IFACE (self);
  if (iface->interrupt != NULL)
    iface->interrupt (self);
}
