/* bj-module.c: the _bpy_jupyter extension module (abi3)
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A Python face for BjKernel and the Python executor, for hosts that run Python
 * themselves (Blender). Compiled with Py_LIMITED_API 3.10 and never linked with
 * libpython, so one binary loads in every Blender from 3.x on.
 *
 * The kernel lives on a private GMainContext that the host pumps with iterate()
 * (Blender: from a bpy.app.timers callback) or run() (a blocking loop for hosts
 * without their own, such as `blender -b`).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

#include <errno.h>
#include "bj-i18n-private.h"

#include "bj-python-executor.h"
#include "bj-module-connection-info.h"
#include "bj-module-stop-signals.h"

/* A running kernel wants the host's loop to come back at once (Blender's GUI loop
 * runs timers every ~5 ms anyway); a stopped one only needs an occasional tick. */
#define RUNNING_INTERVAL 0.001
#define STOPPED_INTERVAL 0.25
/* Exported on D-Bus, a stopped kernel may be started remotely: answer soon. */
#define EXPORTED_STOPPED_INTERVAL 0.05

typedef struct {
  PyObject *error;                  /* _bpy_jupyter.KernelError */
  PyObject *kernel_type;
  PyObject *connection_info_type;
  BjPythonExecutor *executor;       /* one per interpreter: its namespace outlives kernels */
} ModuleState;

typedef struct {
  PyObject_HEAD
  PyObject *module;
  BjKernel *kernel;
  GMainContext *context;
  PyObject *on_state_changed;
  PyObject *on_execute_started;
  PyObject *on_execute_finished;
  gboolean exit_on_shutdown;
  gboolean shutdown_requested;
  BjKernelService *service;         /* while exported on D-Bus */
  GDBusConnection *bus;             /* private: closing it drops every name at once */
  char *host_document;
} KernelObject;

static ModuleState *
module_state (PyObject *module)
{
  return PyModule_GetState (module);
}

/* ---- Kernel ---- */

/* Callbacks run inside the host's loop: an exception there is reported and
 * dropped, never raised into whatever Blender was doing. */
static void
call_callback (PyObject   *callback,
               const char *format,
               ...)
{
  PyGILState_STATE gil;
  PyObject *args;
  PyObject *result;
  va_list va;

  if (callback == NULL || callback == Py_None)
    return;

  gil = PyGILState_Ensure ();
  va_start (va, format);
  args = Py_VaBuildValue (format, va);
  va_end (va);
  result = args ? PyObject_CallObject (callback, args) : NULL;
  if (result == NULL)
    PyErr_Print ();
  Py_XDECREF (result);
  Py_XDECREF (args);
  PyGILState_Release (gil);
}

static void
on_state_changed (BjKernel      *kernel,
                  BjKernelState  state,
                  KernelObject  *self)
{
  call_callback (self->on_state_changed, "(s)", bj_kernel_state_to_string (state));
}

static void
on_execute_started (BjKernel     *kernel,
                    guint64       execution_count,
                    KernelObject *self)
{
  call_callback (self->on_execute_started, "(K)", (unsigned long long) execution_count);
}

static void
on_execute_finished (BjKernel     *kernel,
                     guint64       execution_count,
                     const char   *status,
                     KernelObject *self)
{
  call_callback (self->on_execute_finished, "(Ks)", (unsigned long long) execution_count, status);
}

static void
on_shutdown_requested (BjKernel     *kernel,
                       gboolean      restart,
                       KernelObject *self)
{
  self->shutdown_requested = TRUE;
  if (self->exit_on_shutdown)
    {
      g_autoptr(GError) error = NULL;

      /* A kernel process ends on shutdown, restart included: the client that
       * launched it starts a new one. */
      g_signal_stop_emission_by_name (kernel, "shutdown-requested");
      if (!bj_kernel_stop (kernel, &error))
        g_warning ("%s", error->message);
    }
}

static int
raise_gerror (PyObject *module,
              GError   *error)
{
  ModuleState *state = module_state (module);
  PyObject *exception = state->error;

  if (error->domain == BJ_ERROR && error->code == BJ_ERROR_ADDRESS_IN_USE)
    exception = PyExc_OSError;
  PyErr_SetString (exception, error->message);
  return -1;
}

static PyObject *
kernel_new (PyObject *type,
            PyObject *args,
            PyObject *kwargs)
{
  PyObject *module = PyType_GetModule ((PyTypeObject *) type);
  ModuleState *state;
  KernelObject *self;

  if (module == NULL)
    return NULL;
  state = module_state (module);

  if (!PyArg_ParseTuple (args, ":Kernel"))
    return NULL;

  if (state->executor == NULL)
    {
      g_autoptr(GError) error = NULL;

      state->executor = bj_python_executor_new (&error);
      if (state->executor == NULL)
        {
          raise_gerror (module, error);
          return NULL;
        }
    }

  self = (KernelObject *) PyType_GenericAlloc ((PyTypeObject *) type, 0);
  if (self == NULL)
    return NULL;
  self->module = Py_NewRef (module);
  self->context = g_main_context_new ();
  self->kernel = bj_kernel_new (BJ_EXECUTOR (state->executor));
  g_signal_connect (self->kernel, "state-changed", G_CALLBACK (on_state_changed), self);
  g_signal_connect (self->kernel, "execute-started", G_CALLBACK (on_execute_started), self);
  g_signal_connect (self->kernel, "execute-finished", G_CALLBACK (on_execute_finished), self);
  g_signal_connect (self->kernel, "shutdown-requested", G_CALLBACK (on_shutdown_requested), self);
  return (PyObject *) self;
}

/* Takes the kernel off the bus: the shared name passes to the next host. */
static void
kernel_unexport (KernelObject *self)
{
  BjKernelService *service = g_steal_pointer (&self->service);
  GDBusConnection *bus = g_steal_pointer (&self->bus);

  if (service == NULL)
    return;

  /* Releasing the names waits for the bus: other Python threads run meanwhile. */
  g_main_context_push_thread_default (self->context);
  Py_BEGIN_ALLOW_THREADS
  bj_kernel_service_unexport (service);
  g_object_unref (service);
  g_dbus_connection_close_sync (bus, NULL, NULL);
  g_object_unref (bus);
  Py_END_ALLOW_THREADS
  g_main_context_pop_thread_default (self->context);
}

static void
kernel_dealloc (PyObject *object)
{
  KernelObject *self = (KernelObject *) object;
  PyObject *type = PyObject_Type (object);
  freefunc tp_free = (freefunc) PyType_GetSlot ((PyTypeObject *) type, Py_tp_free);

  kernel_unexport (self);
  g_clear_pointer (&self->host_document, g_free);
  if (self->kernel != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->kernel, self);
      if (bj_kernel_get_state (self->kernel) != BJ_KERNEL_STATE_STOPPED)
        {
          g_main_context_push_thread_default (self->context);
          bj_kernel_stop (self->kernel, NULL);
          g_main_context_pop_thread_default (self->context);
        }
      g_clear_object (&self->kernel);
    }
  g_clear_pointer (&self->context, g_main_context_unref);
  Py_CLEAR (self->on_state_changed);
  Py_CLEAR (self->on_execute_started);
  Py_CLEAR (self->on_execute_finished);
  Py_CLEAR (self->module);
  tp_free (object);
  Py_DECREF (type);
  Py_DECREF (type);
}

/* Sets what the next start uses, whoever calls it: start() here, or Start over
 * D-Bus. A key is generated whenever ip or transport is given, so a configured
 * kernel is never unsigned by accident. */
static gboolean
configure_kernel (KernelObject *self,
                  const char   *connection_file,
                  const char   *ip,
                  const char   *transport)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = NULL;

  if (bj_kernel_get_state (self->kernel) != BJ_KERNEL_STATE_STOPPED)
    {
      PyErr_SetString (module_state (self->module)->error, _("The kernel is already running"));
      return FALSE;
    }

  if (ip != NULL || transport != NULL)
    {
      info = bj_connection_info_new ();
      if (!bj_connection_info_generate_key (info, &error))
        return raise_gerror (self->module, error), FALSE;
      if (ip != NULL)
        bj_connection_info_set_ip (info, ip);
      if (transport != NULL && !bj_connection_info_set_transport (info, transport, &error))
        return raise_gerror (self->module, error), FALSE;
    }

  if (connection_file != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (connection_file);
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          PyErr_Format (module_state (self->module)->error,
                        _("Cannot create the folder “%s” for the connection file: %s"),
                        dir, g_strerror (errno));
          return FALSE;
        }
    }

  bj_kernel_set_connection_file (self->kernel, connection_file);
  bj_kernel_set_connection_info (self->kernel, info);
  return TRUE;
}

static PyObject *
kernel_configure (PyObject *object,
                  PyObject *args,
                  PyObject *kwargs)
{
  static char *keywords[] = { "connection_file", "ip", "transport", "max_message_size", NULL };
  KernelObject *self = (KernelObject *) object;
  const char *connection_file = NULL;
  const char *ip = NULL;
  const char *transport = NULL;
  long long max_message_size = 0;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|z$zzL:configure", keywords,
                                    &connection_file, &ip, &transport, &max_message_size))
    return NULL;
  /* 0 (not given) keeps the current limit, unlike the other arguments: it is not
   * part of the connection, and a host sets it once. */
  if (max_message_size != 0 && max_message_size < BJ_KERNEL_MIN_MAX_MESSAGE_SIZE)
    {
      PyErr_Format (PyExc_ValueError, _("max_message_size must be at least %d bytes"),
                    (int) BJ_KERNEL_MIN_MAX_MESSAGE_SIZE);
      return NULL;
    }
  if (!configure_kernel (self, connection_file, ip, transport))
    return NULL;
  if (max_message_size != 0)
    bj_kernel_set_max_message_size (self->kernel, max_message_size);
  Py_RETURN_NONE;
}

/* The kernel takes the thread-default context at start as its owner: pushing ours
 * fails (a GLib critical, nothing more) when another thread holds it, and the
 * kernel would then wait on a context nobody iterates, answering kernel_info
 * from its I/O thread but never running a cell. Refuse loudly instead. */
static gboolean
enter_kernel_context (KernelObject *self)
{
  if (!g_main_context_acquire (self->context))
    {
      PyErr_SetString (module_state (self->module)->error,
                       _("The kernel's main context is in use by another thread"));
      return FALSE;
    }
  g_main_context_push_thread_default (self->context);
  return TRUE;
}

static void
leave_kernel_context (KernelObject *self)
{
  g_main_context_pop_thread_default (self->context);
  g_main_context_release (self->context);
}

static PyObject *
kernel_start (PyObject *object,
              PyObject *args,
              PyObject *kwargs)
{
  static char *keywords[] = { "connection_file", "ip", "transport", NULL };
  KernelObject *self = (KernelObject *) object;
  g_autoptr(GError) error = NULL;
  const char *connection_file = NULL;
  const char *ip = NULL;
  const char *transport = NULL;
  gboolean ok;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|z$zz:start", keywords,
                                    &connection_file, &ip, &transport))
    return NULL;
  if (!configure_kernel (self, connection_file, ip, transport))
    return NULL;
  self->shutdown_requested = FALSE;

  if (!enter_kernel_context (self))
    return NULL;
  ok = bj_kernel_start (self->kernel, &error);
  leave_kernel_context (self);

  if (!ok)
    return raise_gerror (self->module, error), NULL;
  Py_RETURN_NONE;
}

static PyObject *
kernel_stop (PyObject *object,
             PyObject *unused)
{
  KernelObject *self = (KernelObject *) object;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_main_context_push_thread_default (self->context);
  ok = bj_kernel_stop (self->kernel, &error);
  g_main_context_pop_thread_default (self->context);
  if (!ok)
    return raise_gerror (self->module, error), NULL;
  Py_RETURN_NONE;
}

static PyObject *
kernel_restart (PyObject *object,
                PyObject *unused)
{
  KernelObject *self = (KernelObject *) object;
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = NULL;
  gboolean ok;

  /* Same ports, same key, same file: connected clients carry on. */
  info = bj_kernel_get_connection_info (self->kernel);
  if (!enter_kernel_context (self))
    return NULL;
  ok = bj_kernel_stop (self->kernel, &error);
  if (ok)
    {
      bj_kernel_set_connection_info (self->kernel, info);
      ok = bj_kernel_start (self->kernel, &error);
    }
  leave_kernel_context (self);
  if (!ok)
    return raise_gerror (self->module, error), NULL;
  Py_RETURN_NONE;
}

static PyObject *
kernel_interrupt (PyObject *object,
                  PyObject *unused)
{
  KernelObject *self = (KernelObject *) object;

  if (bj_kernel_get_state (self->kernel) == BJ_KERNEL_STATE_STOPPED)
    {
      PyErr_SetString (module_state (self->module)->error, _("The kernel is not running"));
      return NULL;
    }
  /* Only a running cell can be interrupted; otherwise there is nothing to do. The
   * kernel's own interrupt also ends a wait for input(), as D-Bus Interrupt does. */
  if (bj_kernel_get_state (self->kernel) == BJ_KERNEL_STATE_BUSY)
    bj_kernel_interrupt (self->kernel, NULL);
  Py_RETURN_NONE;
}

static PyObject *
kernel_export_dbus (PyObject *object,
                    PyObject *args,
                    PyObject *kwargs)
{
  static char *keywords[] = { "host", "document", NULL };
  KernelObject *self = (KernelObject *) object;
  g_autoptr(GError) error = NULL;
  g_autofree char *current_document = NULL;
  GDBusConnection *bus = NULL;
  BjKernelService *service = NULL;
  const char *host = NULL;
  const char *document = NULL;
  gboolean ok = FALSE;

  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "s|z:export_dbus", keywords, &host, &document))
    return NULL;

  if (self->service != NULL)
    {
      PyErr_Format (module_state (self->module)->error,
                    _("The kernel is already exported on D-Bus as %s"),
                    bj_kernel_service_get_instance_name (self->service));
      return NULL;
    }
  if (document != NULL)
    {
      g_free (self->host_document);
      self->host_document = g_strdup (document);
    }
  current_document = g_strdup (self->host_document);

  /* Start, Stop and Restart from D-Bus then run on this kernel's context, when
   * iterate() or run() pumps it. The connection is private so that it never
   * ends the host when the bus goes away, and closing it drops our names. */
  g_main_context_push_thread_default (self->context);
  Py_BEGIN_ALLOW_THREADS
  {
    g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);

    if (address != NULL)
      bus = g_dbus_connection_new_for_address_sync (address,
                                                    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                    NULL, NULL, &error);
    if (bus != NULL)
      {
        service = bj_kernel_service_new (self->kernel, bus, host, current_document);
        ok = bj_kernel_service_export (service, &error);
        if (!ok)
          {
            g_clear_object (&service);
            g_dbus_connection_close_sync (bus, NULL, NULL);
            g_clear_object (&bus);
          }
      }
  }
  Py_END_ALLOW_THREADS
  g_main_context_pop_thread_default (self->context);

  if (!ok)
    {
      PyErr_Format (module_state (self->module)->error,
                    _("Cannot export the kernel on D-Bus: %s"), error->message);
      return NULL;
    }
  self->bus = bus;
  self->service = service;
  Py_RETURN_NONE;
}

static PyObject *
kernel_unexport_dbus (PyObject *object,
                      PyObject *unused)
{
  kernel_unexport ((KernelObject *) object);
  Py_RETURN_NONE;
}

static PyObject *
kernel_set_host_document (PyObject *object,
                          PyObject *args)
{
  KernelObject *self = (KernelObject *) object;
  const char *document = NULL;

  if (!PyArg_ParseTuple (args, "z:set_host_document", &document))
    return NULL;
  g_free (self->host_document);
  self->host_document = g_strdup (document);
  if (self->service != NULL)
    bj_kernel_service_set_host_document (self->service, document);
  Py_RETURN_NONE;
}

static PyObject *
kernel_iterate (PyObject *object,
                PyObject *unused)
{
  KernelObject *self = (KernelObject *) object;

  /* Never blocks: handles what is ready (a cell runs here) and returns. */
  g_main_context_push_thread_default (self->context);
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_main_context_pop_thread_default (self->context);

  if (bj_kernel_get_state (self->kernel) != BJ_KERNEL_STATE_STOPPED)
    return PyFloat_FromDouble (RUNNING_INTERVAL);
  return PyFloat_FromDouble (self->service != NULL ? EXPORTED_STOPPED_INTERVAL : STOPPED_INTERVAL);
}

static PyObject *
kernel_run (PyObject *object,
            PyObject *unused)
{
  KernelObject *self = (KernelObject *) object;
  g_autoptr(GError) error = NULL;
  BjStopSignals *stop_signals;
  PyThreadState *thread_state;

  if (bj_kernel_get_state (self->kernel) == BJ_KERNEL_STATE_STOPPED)
    {
      PyErr_SetString (module_state (self->module)->error, _("The kernel is not running"));
      return NULL;
    }

  /* Waiting releases the GIL so the host's other Python threads run; the executor
   * takes it back to run a cell. SIGTERM and SIGHUP stop the kernel as they stop
   * bpy-jupyter-kernel: this loop is the process's. */
  g_main_context_push_thread_default (self->context);
  thread_state = PyEval_SaveThread ();
  stop_signals = bj_stop_signals_watch (self->kernel, self->context);
  while (bj_kernel_get_state (self->kernel) != BJ_KERNEL_STATE_STOPPED &&
         !bj_stop_signals_fired (stop_signals))
    g_main_context_iteration (self->context, TRUE);
  if (bj_kernel_get_state (self->kernel) != BJ_KERNEL_STATE_STOPPED &&
      !bj_kernel_stop (self->kernel, &error))
    g_warning ("Cannot stop the kernel on a termination signal: %s", error->message);
  bj_stop_signals_free (stop_signals);
  PyEval_RestoreThread (thread_state);
  g_main_context_pop_thread_default (self->context);
  Py_RETURN_NONE;
}

static PyObject *
kernel_get_state (PyObject *object,
                  void     *closure)
{
  KernelObject *self = (KernelObject *) object;
  return PyUnicode_FromString (bj_kernel_state_to_string (bj_kernel_get_state (self->kernel)));
}

static PyObject *
kernel_get_max_message_size (PyObject *object,
                             void     *closure)
{
  KernelObject *self = (KernelObject *) object;
  return PyLong_FromLongLong (bj_kernel_get_max_message_size (self->kernel));
}

static PyObject *
kernel_get_connection_file (PyObject *object,
                            void     *closure)
{
  KernelObject *self = (KernelObject *) object;
  const char *path = bj_kernel_get_connection_file (self->kernel);

  if (path == NULL || bj_kernel_get_state (self->kernel) == BJ_KERNEL_STATE_STOPPED)
    Py_RETURN_NONE;
  return PyUnicode_DecodeFSDefault (path);
}

static PyObject *
kernel_get_connection_info (PyObject *object,
                            void     *closure)
{
  KernelObject *self = (KernelObject *) object;

  if (bj_kernel_get_state (self->kernel) == BJ_KERNEL_STATE_STOPPED)
    Py_RETURN_NONE;
  return bj_module_connection_info_wrap (module_state (self->module)->connection_info_type,
                                         bj_kernel_get_connection_info (self->kernel));
}

static PyObject *
kernel_get_execution_count (PyObject *object,
                            void     *closure)
{
  KernelObject *self = (KernelObject *) object;
  return PyLong_FromUnsignedLongLong (bj_kernel_get_execution_count (self->kernel));
}

static PyObject *
kernel_get_namespace (PyObject *object,
                      void     *closure)
{
  PyObject *modules = PyImport_GetModuleDict ();
  PyObject *runtime = PyDict_GetItemString (modules, "_bpy_jupyter_runtime");

  if (runtime == NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "the executor's runtime is not loaded");
      return NULL;
    }
  return PyObject_GetAttrString (runtime, "user_ns");
}

static PyObject *
kernel_get_dbus_name (PyObject *object,
                      void     *closure)
{
  KernelObject *self = (KernelObject *) object;

  if (self->service == NULL)
    Py_RETURN_NONE;
  return PyUnicode_FromString (bj_kernel_service_get_instance_name (self->service));
}

static PyObject *
kernel_get_host_document (PyObject *object,
                          void     *closure)
{
  KernelObject *self = (KernelObject *) object;

  if (self->host_document == NULL)
    return PyUnicode_FromString ("");
  return PyUnicode_FromString (self->host_document);
}

static PyObject *
kernel_get_exit_on_shutdown (PyObject *object,
                             void     *closure)
{
  return PyBool_FromLong (((KernelObject *) object)->exit_on_shutdown);
}

static int
kernel_set_exit_on_shutdown (PyObject *object,
                             PyObject *value,
                             void     *closure)
{
  int truth = value ? PyObject_IsTrue (value) : 0;

  if (truth < 0)
    return -1;
  ((KernelObject *) object)->exit_on_shutdown = truth;
  return 0;
}

static PyObject *
kernel_get_shutdown_requested (PyObject *object,
                               void     *closure)
{
  return PyBool_FromLong (((KernelObject *) object)->shutdown_requested);
}

static PyObject *
kernel_get_callback (PyObject *object,
                     void     *closure)
{
  KernelObject *self = (KernelObject *) object;
  PyObject **slot = (PyObject **) ((char *) self + GPOINTER_TO_SIZE (closure));

  return Py_NewRef (*slot ? *slot : Py_None);
}

static int
kernel_set_callback (PyObject *object,
                     PyObject *value,
                     void     *closure)
{
  KernelObject *self = (KernelObject *) object;
  PyObject **slot = (PyObject **) ((char *) self + GPOINTER_TO_SIZE (closure));

  if (value != NULL && value != Py_None && !PyCallable_Check (value))
    {
      PyErr_SetString (PyExc_TypeError, "a callback must be callable or None");
      return -1;
    }
  {
    PyObject *old = *slot;
    Py_XINCREF (value);
    *slot = value;
    Py_XDECREF (old);
  }
  return 0;
}

static PyMethodDef kernel_methods[] = {
  { "start", (PyCFunction) (void (*) (void)) kernel_start, METH_VARARGS | METH_KEYWORDS,
    "start(connection_file=None, *, ip=None, transport=None): bind the channels and serve.\n"
    "An existing connection file is used as is; a missing one is created." },
  { "configure", (PyCFunction) (void (*) (void)) kernel_configure, METH_VARARGS | METH_KEYWORDS,
    "configure(connection_file=None, *, ip=None, transport=None, max_message_size=0): what the\n"
    "next start uses, including a Start over D-Bus; ip or transport come with a fresh key;\n"
    "max_message_size (bytes, default 256 MiB) bounds what a client may send, 0 keeps it" },
  { "stop", kernel_stop, METH_NOARGS,
    "stop(): close every socket, join the I/O thread, remove the connection file it wrote" },
  { "restart", kernel_restart, METH_NOARGS,
    "restart(): stop and start again on the same ports with the same key" },
  { "interrupt", kernel_interrupt, METH_NOARGS,
    "interrupt(): raise KeyboardInterrupt in the running cell, if any" },
  { "export_dbus", (PyCFunction) (void (*) (void)) kernel_export_dbus, METH_VARARGS | METH_KEYWORDS,
    "export_dbus(host, document=None): put this kernel on the session bus as\n"
    "org.bpyjupyter.Kernel.Instance<pid> (and in the queue for org.bpyjupyter.Kernel),\n"
    "stopped or not. host names the program, e.g. 'Blender 3.4.1'; document is the open\n"
    "file. Start, Stop and Restart from D-Bus run in iterate() or run(); Interrupt and\n"
    "the properties are answered at once. Raises KernelError if already exported or the\n"
    "bus is unreachable." },
  { "unexport_dbus", kernel_unexport_dbus, METH_NOARGS,
    "unexport_dbus(): take the kernel off the bus (the kernel itself is left as it is)" },
  { "set_host_document", kernel_set_host_document, METH_VARARGS,
    "set_host_document(path): the document now open in the host ('' or None for none);\n"
    "shown as HostDocument on D-Bus" },
  { "iterate", kernel_iterate, METH_NOARGS,
    "iterate() -> float: handle what is ready without blocking; returns the seconds until the next call" },
  { "run", kernel_run, METH_NOARGS,
    "run(): serve until the kernel stops (for hosts without their own event loop);\n"
    "SIGTERM or SIGHUP interrupt the running cell and stop the kernel, as in\n"
    "bpy-jupyter-kernel" },
  { NULL, NULL, 0, NULL },
};

static PyGetSetDef kernel_getset[] = {
  { "state", kernel_get_state, NULL, "stopped, starting, idle, busy or stopping", NULL },
  { "connection_file", kernel_get_connection_file, NULL, "the connection file while running, else None", NULL },
  { "connection_info", kernel_get_connection_info, NULL, "a ConnectionInfo while running, else None", NULL },
  { "execution_count", kernel_get_execution_count, NULL, "executions stored in history", NULL },
  { "max_message_size", kernel_get_max_message_size, NULL,
    "the largest message a client may send, in bytes (set with configure())", NULL },
  { "namespace", kernel_get_namespace, NULL, "the dict cells run in (kept across restarts)", NULL },
  { "dbus_name", kernel_get_dbus_name, NULL,
    "the kernel's bus name while exported on D-Bus, else None", NULL },
  { "host_document", kernel_get_host_document, NULL,
    "the document set with set_host_document() or export_dbus()", NULL },
  { "exit_on_shutdown", kernel_get_exit_on_shutdown, kernel_set_exit_on_shutdown,
    "stop (rather than restart in place) on a client's shutdown_request", NULL },
  { "shutdown_requested", kernel_get_shutdown_requested, NULL,
    "whether a client sent shutdown_request since the last start", NULL },
  { "on_state_changed", kernel_get_callback, kernel_set_callback, "callback(state: str)",
    GSIZE_TO_POINTER (offsetof (KernelObject, on_state_changed)) },
  { "on_execute_started", kernel_get_callback, kernel_set_callback, "callback(execution_count: int)",
    GSIZE_TO_POINTER (offsetof (KernelObject, on_execute_started)) },
  { "on_execute_finished", kernel_get_callback, kernel_set_callback,
    "callback(execution_count: int, status: str)",
    GSIZE_TO_POINTER (offsetof (KernelObject, on_execute_finished)) },
  { NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot kernel_slots[] = {
  { Py_tp_doc, (void *) "Kernel(): a Jupyter kernel running Python in this interpreter." },
  { Py_tp_new, kernel_new },
  { Py_tp_dealloc, kernel_dealloc },
  { Py_tp_methods, kernel_methods },
  { Py_tp_getset, kernel_getset },
  { 0, NULL },
};

static PyType_Spec kernel_spec = {
  .name = "_bpy_jupyter.Kernel",
  .basicsize = sizeof (KernelObject),
  .flags = Py_TPFLAGS_DEFAULT,
  .slots = kernel_slots,
};

/* ---- the module ---- */

static int
module_exec (PyObject *module)
{
  ModuleState *state = module_state (module);

  bj_i18n_init ();

  state->error = PyErr_NewExceptionWithDoc ("_bpy_jupyter.KernelError",
                                            "A kernel operation failed; the message says why.",
                                            PyExc_RuntimeError, NULL);
  state->kernel_type = PyType_FromModuleAndSpec (module, &kernel_spec, NULL);
  state->connection_info_type = bj_module_connection_info_type_new (module);
  if (state->error == NULL || state->kernel_type == NULL || state->connection_info_type == NULL)
    return -1;

  if (PyModule_AddObjectRef (module, "KernelError", state->error) < 0 ||
      PyModule_AddObjectRef (module, "Kernel", state->kernel_type) < 0 ||
      PyModule_AddObjectRef (module, "ConnectionInfo", state->connection_info_type) < 0 ||
      PyModule_AddStringConstant (module, "__version__", PACKAGE_VERSION) < 0)
    return -1;
  return 0;
}

static int
module_traverse (PyObject  *module,
                 visitproc  visit,
                 void      *arg)
{
  ModuleState *state = module_state (module);

  Py_VISIT (state->error);
  Py_VISIT (state->kernel_type);
  Py_VISIT (state->connection_info_type);
  return 0;
}

static int
module_clear (PyObject *module)
{
  ModuleState *state = module_state (module);

  Py_CLEAR (state->error);
  Py_CLEAR (state->kernel_type);
  Py_CLEAR (state->connection_info_type);
  return 0;
}

static void
module_free (void *module)
{
  ModuleState *state = module_state (module);

  module_clear (module);
  g_clear_object (&state->executor);
}

static PyModuleDef_Slot module_slots[] = {
  { Py_mod_exec, module_exec },
  { 0, NULL },
};

static struct PyModuleDef module_def = {
  PyModuleDef_HEAD_INIT,
  .m_name = "_bpy_jupyter",
  .m_doc = "A native Jupyter kernel (bpy-jupyter) for Python hosts such as Blender.",
  .m_size = sizeof (ModuleState),
  .m_slots = module_slots,
  .m_traverse = module_traverse,
  .m_clear = module_clear,
  .m_free = module_free,
};

PyMODINIT_FUNC PyInit__bpy_jupyter (void);

PyMODINIT_FUNC
PyInit__bpy_jupyter (void)
{
  return PyModuleDef_Init (&module_def);
}
