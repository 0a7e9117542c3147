/* bj-module-connection-info.c: _bpy_jupyter.ConnectionInfo, where a kernel listens
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

#include "bj-module-connection-info.h"

typedef struct {
  PyObject_HEAD
  BjConnectionInfo *info;
} ConnectionInfoObject;

PyObject *
bj_module_connection_info_wrap (PyObject         *type,
                                BjConnectionInfo *info)
{
  ConnectionInfoObject *object;

  object = (ConnectionInfoObject *) PyType_GenericAlloc ((PyTypeObject *) type, 0);
  if (object == NULL)
    {
      bj_connection_info_free (info);
      return NULL;
    }
  object->info = info;
  return (PyObject *) object;
}

static void
connection_info_dealloc (PyObject *object)
{
  ConnectionInfoObject *self = (ConnectionInfoObject *) object;
  PyObject *type = PyObject_Type (object);
  freefunc tp_free = (freefunc) PyType_GetSlot ((PyTypeObject *) type, Py_tp_free);

  g_clear_pointer (&self->info, bj_connection_info_free);
  tp_free (object);
  Py_DECREF (type);   /* the reference PyObject_Type gave */
  Py_DECREF (type);   /* the instance's reference to its heap type */
}

static PyObject *
connection_info_repr (PyObject *object)
{
  ConnectionInfoObject *self = (ConnectionInfoObject *) object;
  BjConnectionInfo *info = self->info;

  return PyUnicode_FromFormat ("<ConnectionInfo %s://%s shell=%u iopub=%u stdin=%u control=%u hb=%u "
                               "signature_scheme=%s key=%s>",
                               bj_connection_info_get_transport (info),
                               bj_connection_info_get_ip (info),
                               bj_connection_info_get_port (info, BJ_CHANNEL_SHELL),
                               bj_connection_info_get_port (info, BJ_CHANNEL_IOPUB),
                               bj_connection_info_get_port (info, BJ_CHANNEL_STDIN),
                               bj_connection_info_get_port (info, BJ_CHANNEL_CONTROL),
                               bj_connection_info_get_port (info, BJ_CHANNEL_HEARTBEAT),
                               bj_connection_info_get_signature_scheme (info),
                               *bj_connection_info_get_key (info) ? "********" : "(none)");
}

static PyObject *
connection_info_to_json (PyObject *object,
                         PyObject *args,
                         PyObject *kwargs)
{
  static char *keywords[] = { "include_key", NULL };
  ConnectionInfoObject *self = (ConnectionInfoObject *) object;
  g_autofree char *json = NULL;
  int include_key = 0;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|$p:to_json", keywords, &include_key))
    return NULL;
  json = bj_connection_info_to_json (self->info, include_key);
  return PyUnicode_FromString (json);
}

static PyObject *
connection_info_reveal_key (PyObject *object,
                            PyObject *unused)
{
  ConnectionInfoObject *self = (ConnectionInfoObject *) object;
  return PyUnicode_FromString (bj_connection_info_get_key (self->info));
}

static PyObject *
connection_info_get_string (PyObject *object,
                            void     *closure)
{
  ConnectionInfoObject *self = (ConnectionInfoObject *) object;
  const char *name = closure;
  const char *value = "";

  if (g_str_equal (name, "ip"))
    value = bj_connection_info_get_ip (self->info);
  else if (g_str_equal (name, "transport"))
    value = bj_connection_info_get_transport (self->info);
  else if (g_str_equal (name, "signature_scheme"))
    value = bj_connection_info_get_signature_scheme (self->info);
  else if (g_str_equal (name, "kernel_name"))
    value = bj_connection_info_get_kernel_name (self->info);
  return PyUnicode_FromString (value);
}

static PyObject *
connection_info_get_port (PyObject *object,
                          void     *closure)
{
  ConnectionInfoObject *self = (ConnectionInfoObject *) object;
  return PyLong_FromUnsignedLong (bj_connection_info_get_port (self->info, GPOINTER_TO_UINT (closure)));
}

static PyMethodDef connection_info_methods[] = {
  { "to_json", (PyCFunction) (void (*) (void)) connection_info_to_json, METH_VARARGS | METH_KEYWORDS,
    "to_json(*, include_key=False) -> str: the connection file's JSON; the key is masked unless asked for" },
  { "reveal_key", connection_info_reveal_key, METH_NOARGS,
    "reveal_key() -> str: the signing key itself (keep it secret: it lets anyone run code)" },
  { NULL, NULL, 0, NULL },
};

static PyGetSetDef connection_info_getset[] = {
  { "ip", connection_info_get_string, NULL, "address (tcp) or path prefix (ipc)", (void *) "ip" },
  { "transport", connection_info_get_string, NULL, "tcp or ipc", (void *) "transport" },
  { "signature_scheme", connection_info_get_string, NULL, "hmac-sha256", (void *) "signature_scheme" },
  { "kernel_name", connection_info_get_string, NULL, "kernelspec name", (void *) "kernel_name" },
  { "shell_port", connection_info_get_port, NULL, NULL, GUINT_TO_POINTER (BJ_CHANNEL_SHELL) },
  { "iopub_port", connection_info_get_port, NULL, NULL, GUINT_TO_POINTER (BJ_CHANNEL_IOPUB) },
  { "stdin_port", connection_info_get_port, NULL, NULL, GUINT_TO_POINTER (BJ_CHANNEL_STDIN) },
  { "control_port", connection_info_get_port, NULL, NULL, GUINT_TO_POINTER (BJ_CHANNEL_CONTROL) },
  { "hb_port", connection_info_get_port, NULL, NULL, GUINT_TO_POINTER (BJ_CHANNEL_HEARTBEAT) },
  { NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot connection_info_slots[] = {
  { Py_tp_doc, (void *) "Where a kernel listens. The key is masked in repr() and str()." },
  { Py_tp_dealloc, connection_info_dealloc },
  { Py_tp_repr, connection_info_repr },
  { Py_tp_methods, connection_info_methods },
  { Py_tp_getset, connection_info_getset },
  { 0, NULL },
};

static PyType_Spec connection_info_spec = {
  .name = "_bpy_jupyter.ConnectionInfo",
  .basicsize = sizeof (ConnectionInfoObject),
  .flags = Py_TPFLAGS_DEFAULT,
  .slots = connection_info_slots,
};

PyObject *
bj_module_connection_info_type_new (PyObject *module)
{
  return PyType_FromModuleAndSpec (module, &connection_info_spec, NULL);
}
