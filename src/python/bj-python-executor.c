/* bj-python-executor.c: runs Python for a BjKernel through CPython's limited API
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * This file is compiled against Python's headers only and never linked with
 * libpython: hosts such as official Blender builds link Python statically and
 * provide its symbols themselves. With Py_LIMITED_API one binary serves every
 * Python from 3.10 on.
 *
 * The language work (compiling cells, rich output, completion) is Python code in
 * the bj_runtime/ modules, embedded as resources; this file moves JSON text between it and
 * the kernel, and implements the hot paths: the stream writers and interrupt.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bj-python-executor.h"
#include "bj-python-cache-private.h"
#include "bj-python-interrupt-private.h"
#include "bj-python-stream-private.h"

#define HELPER_MODULE_NAME "_bpy_jupyter_executor"
#define RUNTIME_MODULE_NAME "_bpy_jupyter_runtime"
#define RUNTIME_RESOURCE_DIR "/org/bpyjupyter/python/bj_runtime/"

/* The runtime's modules (bj_runtime/), in the order they run: each imports only
 * those before it. The last, the session, becomes the package itself, so the C
 * side and hosts keep finding the entry points and user_ns on one module. */
static const char * const runtime_modules[] = {
  "boundary", "display", "completeness", "completion", "history", "session",
};
#define N_RUNTIME_MODULES G_N_ELEMENTS (runtime_modules)

/**
 * BjPythonExecutor:
 *
 * Runs Python for a [class@BpyJupyter.Kernel], in the interpreter of the process it
 * is loaded into.
 *
 * Cells run on the thread that created the executor, the kernel's owner thread,
 * in one namespace that persists between cells. Outputs are rich (`IPython.display`,
 * matplotlib inline), `input()` asks the frontend, and comms reach the `comm`
 * package. While a cell runs, `sys.stdout` and `sys.stderr` write to the notebook;
 * between cells the host's own prints go where they went before.
 *
 * The executor takes the GIL itself around each call into Python, so its caller
 * need not hold it: through PyGObject, which releases the GIL around calls into C
 * and while a [struct@GLib.MainLoop] runs, a cell runs whenever the loop
 * dispatches a request.
 *
 * Create it with [ctor@PythonExecutor.new]; an executor made with
 * `g_object_new()` has no Python runtime and cannot run cells.
 */
struct _BjPythonExecutor {
  GObject parent_instance;

  PyObject *helper;           /* the _bpy_jupyter_executor module */
  PyObject *runtime;          /* the bj_runtime module */
  BjKernel *kernel;           /* while attached; not a reference: the kernel owns us */
  gboolean interrupt_with_signal;
  BjPythonInterrupt interrupt;
};

static void bj_python_executor_iface_init (BjExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BjPythonExecutor, bj_python_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BJ_TYPE_EXECUTOR, bj_python_executor_iface_init))

/* ---- the helper module: what the runtime calls back into ---- */

typedef struct {
  BjPythonExecutor *executor;
} HelperState;

static BjPythonExecutor *
helper_executor (PyObject *module)
{
  HelperState *state = PyModule_GetState (module);
  return state ? state->executor : NULL;
}

static PyObject *
helper_publish (PyObject *module,
                PyObject *args)
{
  BjPythonExecutor *self = helper_executor (module);
  g_autoptr(GPtrArray) buffers = NULL;
  const char *msg_type;
  const char *content;
  const char *metadata = NULL;
  PyObject *buffer_list = Py_None;

  if (!PyArg_ParseTuple (args, "ss|zO:publish", &msg_type, &content, &metadata, &buffer_list))
    return NULL;

  if (buffer_list != Py_None)
    {
      PyObject *iterator = PyObject_GetIter (buffer_list);
      PyObject *item;

      if (iterator == NULL)
        return NULL;
      buffers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      while ((item = PyIter_Next (iterator)) != NULL)
        {
          /* bytes(x) accepts bytes, bytearray and memoryview alike. */
          PyObject *data = PyObject_Bytes (item);
          char *bytes;
          Py_ssize_t size;

          Py_DECREF (item);
          if (data == NULL || PyBytes_AsStringAndSize (data, &bytes, &size) < 0)
            {
              Py_XDECREF (data);
              Py_DECREF (iterator);
              return NULL;
            }
          g_ptr_array_add (buffers, g_bytes_new (bytes, size));
          Py_DECREF (data);
        }
      Py_DECREF (iterator);
      if (PyErr_Occurred ())
        return NULL;
    }

  if (self != NULL && self->kernel != NULL)
    bj_kernel_publish_json (self->kernel, msg_type, content, metadata, buffers);
  Py_RETURN_NONE;
}

static PyObject *
helper_request_input (PyObject *module,
                      PyObject *args)
{
  BjPythonExecutor *self = helper_executor (module);
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;
  const char *prompt;
  int password = 0;
  PyThreadState *thread_state;

  if (!PyArg_ParseTuple (args, "s|p:request_input", &prompt, &password))
    return NULL;
  if (self == NULL || self->kernel == NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "The kernel is not running");
      return NULL;
    }

  thread_state = PyEval_SaveThread ();
  value = bj_kernel_request_input (self->kernel, prompt, password, &error);
  PyEval_RestoreThread (thread_state);

  if (value != NULL)
    return PyUnicode_FromString (value);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    PyErr_SetNone (PyExc_KeyboardInterrupt);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    PyErr_SetString (PyExc_EOFError, error->message);
  else
    PyErr_SetString (PyExc_RuntimeError, error->message);
  return NULL;
}

static PyObject *
helper_arm_interrupt (PyObject *module,
                      PyObject *args)
{
  BjPythonExecutor *self = helper_executor (module);

  if (self == NULL)
    Py_RETURN_NONE;
  return bj_python_interrupt_arm (&self->interrupt, args);
}

static PyObject *
helper_disarm_interrupt (PyObject *module,
                         PyObject *unused)
{
  BjPythonExecutor *self = helper_executor (module);

  if (self == NULL)
    Py_RETURN_NONE;
  return bj_python_interrupt_disarm (&self->interrupt);
}

static PyObject *
helper_take_interrupt (PyObject *module,
                       PyObject *unused)
{
  BjPythonExecutor *self = helper_executor (module);

  if (self == NULL)
    Py_RETURN_FALSE;
  return bj_python_interrupt_take (&self->interrupt);
}

static PyObject *
helper_signal_is_free (PyObject *module,
                       PyObject *args)
{
  return bj_python_interrupt_signal_is_free (args);
}

static PyObject *
helper_save_disposition (PyObject *module,
                         PyObject *args)
{
  BjPythonExecutor *self = helper_executor (module);

  if (self == NULL)
    Py_RETURN_NONE;
  return bj_python_interrupt_save_disposition (&self->interrupt, args);
}

static PyObject *
helper_restore_disposition (PyObject *module,
                            PyObject *unused)
{
  BjPythonExecutor *self = helper_executor (module);

  if (self == NULL)
    Py_RETURN_NONE;
  return bj_python_interrupt_restore_disposition (&self->interrupt);
}

static PyMethodDef helper_methods[] = {
  { "publish", helper_publish, METH_VARARGS,
    "publish(msg_type, content_json, metadata_json=None, buffers=None): publish on iopub" },
  { "request_input", helper_request_input, METH_VARARGS,
    "request_input(prompt, password=False): ask the frontend for a line" },
  { "arm_interrupt", helper_arm_interrupt, METH_VARARGS,
    "arm_interrupt(signum): interrupts of this cell send signum to this thread" },
  { "disarm_interrupt", helper_disarm_interrupt, METH_NOARGS,
    "disarm_interrupt(): interrupts go through pending calls again" },
  { "take_interrupt", helper_take_interrupt, METH_NOARGS,
    "take_interrupt() -> bool: whether an interrupt was requested since the last take" },
  { "signal_is_free", helper_signal_is_free, METH_VARARGS,
    "signal_is_free(signum) -> bool: the process leaves signum at its default or ignored" },
  { "save_disposition", helper_save_disposition, METH_VARARGS,
    "save_disposition(signum): remember signum's C-level disposition" },
  { "restore_disposition", helper_restore_disposition, METH_NOARGS,
    "restore_disposition(): put back what save_disposition() saw" },
  { NULL, NULL, 0, NULL },
};

static struct PyModuleDef helper_module_def = {
  PyModuleDef_HEAD_INIT,
  .m_name = HELPER_MODULE_NAME,
  .m_doc = "Internal: the bpy-jupyter kernel seen from its Python runtime.",
  .m_size = sizeof (HelperState),
  .m_methods = helper_methods,
};

/* ---- setting up ---- */

static char *
fetch_python_error (void)
{
  PyObject *type = NULL, *value = NULL, *traceback = NULL;
  PyObject *text;
  char *message = NULL;

  PyErr_Fetch (&type, &value, &traceback);
  PyErr_NormalizeException (&type, &value, &traceback);
  text = value ? PyObject_Str (value) : NULL;
  if (text != NULL)
    {
      const char *utf8 = PyUnicode_AsUTF8AndSize (text, NULL);
      PyObject *type_name = type ? PyObject_GetAttrString (type, "__name__") : NULL;
      const char *name = type_name ? PyUnicode_AsUTF8AndSize (type_name, NULL) : NULL;
      message = g_strdup_printf ("%s: %s", name ? name : "Error", utf8 ? utf8 : "");
      Py_XDECREF (type_name);
    }
  PyErr_Clear ();
  Py_XDECREF (text);
  Py_XDECREF (type);
  Py_XDECREF (value);
  Py_XDECREF (traceback);
  return message ? message : g_strdup ("unknown Python error");
}

static gboolean
create_helper_module (BjPythonExecutor  *self,
                      GError           **error)
{
  PyObject *module = PyModule_Create (&helper_module_def);
  PyObject *writer_type = NULL;
  PyObject *stdout_writer = NULL;
  PyObject *stderr_writer = NULL;
  PyObject *modules;
  HelperState *state;
  gboolean ok = FALSE;

  if (module == NULL)
    goto out;
  state = PyModule_GetState (module);
  state->executor = self;

  writer_type = bj_python_stream_writer_type_new ();
  if (writer_type == NULL)
    goto out;
  stdout_writer = bj_python_stream_writer_new (writer_type, &self->kernel, BJ_STREAM_STDOUT);
  stderr_writer = bj_python_stream_writer_new (writer_type, &self->kernel, BJ_STREAM_STDERR);
  if (stdout_writer == NULL || stderr_writer == NULL ||
      PyModule_AddObjectRef (module, "StreamWriter", writer_type) < 0 ||
      PyModule_AddObjectRef (module, "stdout", stdout_writer) < 0 ||
      PyModule_AddObjectRef (module, "stderr", stderr_writer) < 0 ||
      PyModule_AddStringConstant (module, "implementation_version", PACKAGE_VERSION) < 0 ||
      PyModule_AddIntConstant (module, "interrupt_with_signal", self->interrupt_with_signal) < 0)
    goto out;

  modules = PyImport_GetModuleDict ();
  if (PyDict_SetItemString (modules, HELPER_MODULE_NAME, module) < 0)
    goto out;

  self->helper = module;
  module = NULL;
  ok = TRUE;

out:
  if (!ok)
    {
      g_autofree char *message = fetch_python_error ();
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot set up the Python executor: %s"), message);
    }
  Py_XDECREF (stdout_writer);
  Py_XDECREF (stderr_writer);
  Py_XDECREF (writer_type);
  Py_XDECREF (module);
  return ok;
}

/* Removes the runtime's modules from sys.modules. Needs the GIL. */
static void
unload_runtime_modules (void)
{
  PyObject *modules = PyImport_GetModuleDict ();

  for (guint i = 0; i + 1 < N_RUNTIME_MODULES; i++)
    {
      g_autofree char *name = g_strconcat (RUNTIME_MODULE_NAME ".", runtime_modules[i], NULL);

      if (PyDict_DelItemString (modules, name) < 0)
        PyErr_Clear ();
    }
  if (PyDict_DelItemString (modules, RUNTIME_MODULE_NAME) < 0)
    PyErr_Clear ();
}

/* A ModuleSpec for the package: without one, the import system derives the
 * package's parent from its file name ("bj_runtime.py", not a package) and warns
 * on every relative import that it disagrees with __package__. */
static PyObject *
package_spec (void)
{
  PyObject *machinery = PyImport_ImportModule ("importlib.machinery");
  PyObject *spec_type = machinery ? PyObject_GetAttrString (machinery, "ModuleSpec") : NULL;
  PyObject *args = Py_BuildValue ("(sO)", RUNTIME_MODULE_NAME, Py_None);
  PyObject *kwargs = Py_BuildValue ("{sO}", "is_package", Py_True);
  PyObject *spec = NULL;

  if (spec_type != NULL && args != NULL && kwargs != NULL)
    spec = PyObject_Call (spec_type, args, kwargs);
  Py_XDECREF (machinery);
  Py_XDECREF (spec_type);
  Py_XDECREF (args);
  Py_XDECREF (kwargs);
  return spec;
}

/* Runs code as the module name of the runtime's package, which is put in
 * sys.modules first so that the modules after it can import it. Returns a new
 * reference, or NULL with a Python error set. Needs the GIL. */
static PyObject *
exec_runtime_module (const char *name,
                     PyObject   *code,
                     gboolean    is_package)
{
  PyObject *module = PyModule_New (name);
  PyObject *spec = is_package ? package_spec () : NULL;
  PyObject *path = is_package ? PyList_New (0) : NULL;
  PyObject *package = PyUnicode_FromString (RUNTIME_MODULE_NAME);
  gboolean ok = module != NULL && package != NULL &&
                (!is_package || (spec != NULL && path != NULL));

  ok = ok && PyObject_SetAttrString (module, "__package__", package) == 0;
  if (ok && is_package)
    ok = PyObject_SetAttrString (module, "__spec__", spec) == 0 &&
         PyObject_SetAttrString (module, "__path__", path) == 0;
  ok = ok && PyDict_SetItemString (PyImport_GetModuleDict (), name, module) == 0;
  Py_XDECREF (spec);
  Py_XDECREF (path);
  Py_XDECREF (package);
  Py_XDECREF (module);
  /* PyImport_ExecCodeModule() runs the code in the module just put there. */
  return ok ? PyImport_ExecCodeModule (name, code) : NULL;
}

static gboolean
load_runtime (BjPythonExecutor  *self,
              GError           **error)
{
  GBytes *sources[N_RUNTIME_MODULES] = { NULL };
  char *filenames[N_RUNTIME_MODULES] = { NULL };
  PyObject *codes = NULL;
  gboolean ok = TRUE;

  for (guint i = 0; ok && i < N_RUNTIME_MODULES; i++)
    {
      g_autofree char *path = g_strconcat (RUNTIME_RESOURCE_DIR, runtime_modules[i], ".py", NULL);

      sources[i] = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
      ok = sources[i] != NULL;
      /* The session keeps the file name the runtime always had: tracebacks and the
       * cache know the runtime by it. */
      filenames[i] = i + 1 == N_RUNTIME_MODULES
        ? g_strdup ("bj_runtime.py")
        : g_strconcat ("bj_runtime/", runtime_modules[i], ".py", NULL);
    }
  if (ok)
    codes = bj_python_compile_cached (sources, (const char * const *) filenames,
                                      N_RUNTIME_MODULES);
  for (guint i = 0; codes != NULL && i < N_RUNTIME_MODULES; i++)
    {
      gboolean is_package = i + 1 == N_RUNTIME_MODULES;
      g_autofree char *name = is_package
        ? g_strdup (RUNTIME_MODULE_NAME)
        : g_strconcat (RUNTIME_MODULE_NAME ".", runtime_modules[i], NULL);
      PyObject *module = exec_runtime_module (name, PyTuple_GetItem (codes, i), is_package);

      if (module == NULL)
        break;
      if (is_package)
        self->runtime = module;
      else
        Py_DECREF (module);
    }
  Py_XDECREF (codes);
  for (guint i = 0; i < N_RUNTIME_MODULES; i++)
    {
      g_clear_pointer (&sources[i], g_bytes_unref);
      g_free (filenames[i]);
    }
  if (!ok)
    return FALSE;
  if (self->runtime == NULL)
    {
      g_autofree char *message = fetch_python_error ();

      unload_runtime_modules ();
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot load the Python runtime: %s"), message);
      return FALSE;
    }
  return TRUE;
}

/**
 * bj_python_executor_new:
 * @error: return location for a #GError
 *
 * Creates the executor in the running Python interpreter. Python must be
 * initialized; the calling thread becomes the one that runs cells, so call it on
 * the thread that will start the kernel and iterate its main context. The GIL may
 * be held or not: the executor takes it with `PyGILState_Ensure()`.
 *
 * Returns: (transfer full) (nullable): the executor, or %NULL with @error set
 *   (%BJ_ERROR_FAILED when Python is not initialized or its runtime fails to load)
 */
BjPythonExecutor *
bj_python_executor_new (GError **error)
{
  g_autoptr(BjPythonExecutor) self = g_object_new (BJ_TYPE_PYTHON_EXECUTOR, NULL);
  PyGILState_STATE gil;
  gboolean ok;

  if (!Py_IsInitialized ())
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_FAILED,
                           _("Python is not initialized"));
      return NULL;
    }

  bj_python_interrupt_init (&self->interrupt, G_OBJECT (self));
  gil = PyGILState_Ensure ();
  ok = create_helper_module (self, error) && load_runtime (self, error);
  PyGILState_Release (gil);

  return ok ? g_steal_pointer (&self) : NULL;
}

/**
 * bj_python_executor_set_interrupt_with_signal:
 * @self: an executor
 * @with_signal: whether interrupt may send SIGINT to the owner thread
 *
 * A process that owns its signals (the standalone kernel) lets interrupt send
 * SIGINT to the owner thread, which also wakes blocking calls such as
 * `time.sleep()`; Python's SIGINT handler is armed only while a cell runs.
 *
 * In a host that owns SIGINT itself (the default, %FALSE), interrupt sends SIGURG
 * instead, whose default action ignores it: a cell that runs on Python's main
 * thread, in a host that leaves SIGURG at its default, is interrupted even while
 * it sleeps in a system call, and the host's SIGINT handling is untouched.
 * Otherwise interrupt goes through Python's pending calls, which reach a cell
 * only between bytecodes.
 */
void
bj_python_executor_set_interrupt_with_signal (BjPythonExecutor *self,
                                              gboolean          with_signal)
{
  PyGILState_STATE gil;

  g_return_if_fail (BJ_IS_PYTHON_EXECUTOR (self));

  self->interrupt_with_signal = with_signal;
  gil = PyGILState_Ensure ();
  if (PyObject_SetAttrString (self->helper, "interrupt_with_signal",
                              with_signal ? Py_True : Py_False) < 0)
    PyErr_Clear ();
  PyGILState_Release (gil);
}

/* ---- calls into the runtime ---- */

static JsonObject *
internal_error_reply (const char *message)
{
  JsonObject *reply = json_object_new ();
  JsonArray *traceback = json_array_new ();

  json_array_add_string_element (traceback, message);
  json_object_set_string_member (reply, "status", "error");
  json_object_set_string_member (reply, "ename", "InternalError");
  json_object_set_string_member (reply, "evalue", message);
  json_object_set_array_member (reply, "traceback", traceback);
  return reply;
}

static JsonObject *
parse_reply (PyObject *result)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  const char *text;
  Py_ssize_t length;
  JsonNode *root;

  text = PyUnicode_AsUTF8AndSize (result, &length);
  if (text == NULL)
    {
      g_autofree char *message = fetch_python_error ();
      return internal_error_reply (message);
    }
  if (!json_parser_load_from_data (parser, text, length, &error))
    return internal_error_reply (error->message);
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return internal_error_reply ("the runtime's reply is not a JSON object");
  return json_object_ref (json_node_get_object (root));
}

/* Calls runtime.NAME(content_json[, execution_count]) with the GIL, returning the
 * reply it gives as JSON text, or an error reply if the runtime itself failed. */
static JsonObject *
call_runtime (BjPythonExecutor *self,
              const char       *name,
              BjMessage        *request,
              gboolean          with_count,
              guint64           execution_count)
{
  g_autoptr(GBytes) content = bj_message_get_content_json (request);
  PyGILState_STATE gil = PyGILState_Ensure ();
  PyObject *result;
  JsonObject *reply;

  if (with_count)
    result = PyObject_CallMethod (self->runtime, name, "s#K",
                                  g_bytes_get_data (content, NULL),
                                  (Py_ssize_t) g_bytes_get_size (content),
                                  (unsigned long long) execution_count);
  else
    result = PyObject_CallMethod (self->runtime, name, "s#",
                                  g_bytes_get_data (content, NULL),
                                  (Py_ssize_t) g_bytes_get_size (content));

  if (result == NULL)
    {
      g_autofree char *message = fetch_python_error ();
      g_warning ("The Python runtime failed in %s: %s", name, message);
      reply = internal_error_reply (message);
    }
  else
    {
      reply = parse_reply (result);
      Py_DECREF (result);
    }

  PyGILState_Release (gil);
  return reply;
}

static JsonObject *
bj_python_executor_get_kernel_info (BjExecutor *executor)
{
  BjPythonExecutor *self = BJ_PYTHON_EXECUTOR (executor);
  PyGILState_STATE gil = PyGILState_Ensure ();
  PyObject *result = PyObject_CallMethod (self->runtime, "kernel_info", NULL);
  JsonObject *info;

  if (result == NULL)
    {
      g_autofree char *message = fetch_python_error ();
      g_warning ("The Python runtime failed in kernel_info: %s", message);
      info = json_object_new ();
    }
  else
    {
      info = parse_reply (result);
      Py_DECREF (result);
    }
  PyGILState_Release (gil);
  return info;
}

static void
bj_python_executor_attach (BjExecutor *executor,
                           BjKernel   *kernel)
{
  BJ_PYTHON_EXECUTOR (executor)->kernel = kernel;
}

static void
bj_python_executor_detach (BjExecutor *executor,
                           BjKernel   *kernel)
{
  BJ_PYTHON_EXECUTOR (executor)->kernel = NULL;
}

static JsonObject *
bj_python_executor_execute (BjExecutor *executor,
                            BjKernel   *kernel,
                            BjMessage  *request,
                            guint64     execution_count)
{
  BjPythonExecutor *self = BJ_PYTHON_EXECUTOR (executor);
  JsonObject *reply;

  bj_python_interrupt_cell_begin (&self->interrupt);
  reply = call_runtime (self, "execute", request, TRUE, execution_count);
  bj_python_interrupt_cell_end (&self->interrupt);
  return reply;
}

static JsonObject *
bj_python_executor_complete (BjExecutor *executor,
                             BjKernel   *kernel,
                             BjMessage  *request)
{
  return call_runtime (BJ_PYTHON_EXECUTOR (executor), "complete", request, FALSE, 0);
}

static JsonObject *
bj_python_executor_inspect (BjExecutor *executor,
                            BjKernel   *kernel,
                            BjMessage  *request)
{
  return call_runtime (BJ_PYTHON_EXECUTOR (executor), "inspect", request, FALSE, 0);
}

static JsonObject *
bj_python_executor_is_complete (BjExecutor *executor,
                                BjKernel   *kernel,
                                BjMessage  *request)
{
  return call_runtime (BJ_PYTHON_EXECUTOR (executor), "is_complete", request, FALSE, 0);
}

static JsonObject *
bj_python_executor_history (BjExecutor *executor,
                            BjKernel   *kernel,
                            BjMessage  *request)
{
  return call_runtime (BJ_PYTHON_EXECUTOR (executor), "history", request, FALSE, 0);
}

/* Comm messages (comm_open, comm_msg, comm_close, comm_info_request) go to
 * runtime.comm(msg_type, content_json, buffers, metadata_json), which returns the
 * reply content as JSON text, or None for the types that have no reply. The
 * metadata matters: ipywidgets reads the widget protocol version from a
 * frontend's comm_open there. */
static gboolean
bj_python_executor_handle_message (BjExecutor  *executor,
                                   BjKernel    *kernel,
                                   BjMessage   *request,
                                   JsonObject **reply)
{
  BjPythonExecutor *self = BJ_PYTHON_EXECUTOR (executor);
  const char *msg_type = bj_message_get_msg_type (request);
  g_autoptr(GBytes) content = NULL;
  g_autofree char *metadata_json = NULL;
  JsonObject *metadata;
  GPtrArray *buffers;
  PyGILState_STATE gil;
  PyObject *buffer_list;
  PyObject *result = NULL;

  *reply = NULL;
  if (!g_str_has_prefix (msg_type, "comm_"))
    return FALSE;

  content = bj_message_get_content_json (request);
  buffers = bj_message_get_buffers (request);
  metadata = bj_message_get_metadata (request);
  if (metadata != NULL && json_object_get_size (metadata) > 0)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), metadata);
      metadata_json = json_to_string (node, FALSE);
    }
  gil = PyGILState_Ensure ();
  buffer_list = PyList_New (0);
  for (guint i = 0; buffer_list != NULL && i < buffers->len; i++)
    {
      gsize size;
      const char *data = g_bytes_get_data (buffers->pdata[i], &size);
      PyObject *item = PyBytes_FromStringAndSize (data, size);

      if (item == NULL || PyList_Append (buffer_list, item) < 0)
        Py_CLEAR (buffer_list);
      Py_XDECREF (item);
    }
  if (buffer_list != NULL)
    result = PyObject_CallMethod (self->runtime, "comm", "ss#Oz", msg_type,
                                  g_bytes_get_data (content, NULL),
                                  (Py_ssize_t) g_bytes_get_size (content),
                                  buffer_list, metadata_json);
  Py_XDECREF (buffer_list);

  if (result == NULL)
    {
      g_autofree char *message = fetch_python_error ();
      g_warning ("The Python runtime failed in comm (%s): %s", msg_type, message);
      *reply = internal_error_reply (message);
    }
  else if (result != Py_None)
    *reply = parse_reply (result);
  Py_XDECREF (result);
  PyGILState_Release (gil);
  return TRUE;
}

static void
bj_python_executor_interrupt (BjExecutor *executor)
{
  bj_python_interrupt_request (&BJ_PYTHON_EXECUTOR (executor)->interrupt);
}

static void
bj_python_executor_dispose (GObject *object)
{
  BjPythonExecutor *self = BJ_PYTHON_EXECUTOR (object);

  if ((self->runtime != NULL || self->helper != NULL) && Py_IsInitialized ())
    {
      PyGILState_STATE gil = PyGILState_Ensure ();
      PyObject *modules = PyImport_GetModuleDict ();

      if (self->runtime != NULL)
        {
          PyObject *result = PyObject_CallMethod (self->runtime, "shutdown", NULL);
          if (result == NULL)
            PyErr_Clear ();
          Py_XDECREF (result);
        }
      if (PyDict_DelItemString (modules, HELPER_MODULE_NAME) < 0)
        PyErr_Clear ();
      unload_runtime_modules ();
      if (self->helper != NULL)
        {
          HelperState *state = PyModule_GetState (self->helper);
          static const char * const writers[] = { "stdout", "stderr" };

          /* User code may keep a writer or the module: they must not outlive us. */
          if (state != NULL)
            state->executor = NULL;
          for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
            {
              PyObject *writer = PyObject_GetAttrString (self->helper, writers[i]);
              if (writer != NULL)
                bj_python_stream_writer_detach (writer);
              else
                PyErr_Clear ();
              Py_XDECREF (writer);
            }
        }
      Py_CLEAR (self->runtime);
      Py_CLEAR (self->helper);
      PyGILState_Release (gil);
    }

  G_OBJECT_CLASS (bj_python_executor_parent_class)->dispose (object);
}

static void
bj_python_executor_class_init (BjPythonExecutorClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = bj_python_executor_dispose;
}

static void
bj_python_executor_iface_init (BjExecutorInterface *iface)
{
  iface->get_kernel_info = bj_python_executor_get_kernel_info;
  iface->attach = bj_python_executor_attach;
  iface->detach = bj_python_executor_detach;
  iface->execute = bj_python_executor_execute;
  iface->complete = bj_python_executor_complete;
  iface->inspect = bj_python_executor_inspect;
  iface->is_complete = bj_python_executor_is_complete;
  iface->history = bj_python_executor_history;
  iface->handle_message = bj_python_executor_handle_message;
  iface->interrupt = bj_python_executor_interrupt;
}

static void
bj_python_executor_init (BjPythonExecutor *self)
{
}
