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
 * bj_runtime.py, embedded as a resource; this file moves JSON text between it and
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
#include "bj-python-interrupt-private.h"

#define HELPER_MODULE_NAME "_bpy_jupyter_executor"
#define RUNTIME_MODULE_NAME "_bpy_jupyter_runtime"
#define RUNTIME_RESOURCE "/org/bpyjupyter/python/bj_runtime.py"

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

/* ---- the helper module: what bj_runtime.py calls back into ---- */

typedef struct {
  BjPythonExecutor *executor;
} HelperState;

typedef struct {
  PyObject_HEAD
  BjPythonExecutor *executor;
  BjStream stream;
} StreamWriter;

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

static void
write_fallback (BjStream    stream,
                const char *text,
                Py_ssize_t  length)
{
  /* Detached writers (kept by user code after the kernel stopped) still say
   * something rather than swallowing it. */
  while (length > 0)
    {
      ssize_t written = write (stream == BJ_STREAM_STDOUT ? 1 : 2, text, length);
      if (written <= 0)
        return;
      text += written;
      length -= written;
    }
}

static PyObject *
stream_writer_write (PyObject *object,
                     PyObject *text)
{
  StreamWriter *writer = (StreamWriter *) object;
  const char *data;
  Py_ssize_t length;
  PyObject *encoded = NULL;

  if (!PyUnicode_Check (text))
    {
      PyObject *type = PyObject_Type (text);
      PyObject *name = type ? PyObject_GetAttrString (type, "__name__") : NULL;

      if (name != NULL)
        PyErr_Format (PyExc_TypeError, "write() argument must be str, not %U", name);
      Py_XDECREF (name);
      Py_XDECREF (type);
      return NULL;
    }

  data = PyUnicode_AsUTF8AndSize (text, &length);
  if (data == NULL)
    {
      /* Lone surrogates: show a replacement character, never raise from print(). */
      PyErr_Clear ();
      encoded = PyUnicode_AsEncodedString (text, "utf-8", "replace");
      if (encoded == NULL || PyBytes_AsStringAndSize (encoded, (char **) &data, &length) < 0)
        {
          Py_XDECREF (encoded);
          return NULL;
        }
    }

  if (writer->executor != NULL && writer->executor->kernel != NULL)
    bj_kernel_write_stream (writer->executor->kernel, writer->stream, data, length);
  else
    write_fallback (writer->stream, data, length);

  Py_XDECREF (encoded);
  return PyLong_FromSsize_t (PyUnicode_GetLength (text));
}

static PyObject *
stream_writer_writelines (PyObject *object,
                          PyObject *lines)
{
  PyObject *iterator = PyObject_GetIter (lines);
  PyObject *line;

  if (iterator == NULL)
    return NULL;
  while ((line = PyIter_Next (iterator)) != NULL)
    {
      PyObject *result = stream_writer_write (object, line);
      Py_DECREF (line);
      if (result == NULL)
        {
          Py_DECREF (iterator);
          return NULL;
        }
      Py_DECREF (result);
    }
  Py_DECREF (iterator);
  if (PyErr_Occurred ())
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *
stream_writer_flush (PyObject *object,
                     PyObject *unused)
{
  /* Batches already go out within milliseconds; ordering with other output is kept
   * by the kernel, so there is nothing to force here. */
  Py_RETURN_NONE;
}

static PyObject *
stream_writer_false (PyObject *object,
                     PyObject *unused)
{
  Py_RETURN_FALSE;
}

static PyObject *
stream_writer_true (PyObject *object,
                    PyObject *unused)
{
  Py_RETURN_TRUE;
}

static PyObject *
stream_writer_fileno (PyObject *object,
                      PyObject *unused)
{
  PyObject *io = PyImport_ImportModule ("io");
  PyObject *unsupported = io ? PyObject_GetAttrString (io, "UnsupportedOperation") : NULL;

  PyErr_SetString (unsupported ? unsupported : PyExc_OSError,
                   "the kernel's streams have no file descriptor");
  Py_XDECREF (unsupported);
  Py_XDECREF (io);
  return NULL;
}

static PyObject *
stream_writer_get_name (PyObject *object,
                        void     *closure)
{
  StreamWriter *writer = (StreamWriter *) object;
  return PyUnicode_FromString (writer->stream == BJ_STREAM_STDOUT ? "<stdout>" : "<stderr>");
}

static PyObject *
stream_writer_get_encoding (PyObject *object,
                            void     *closure)
{
  return PyUnicode_FromString ("utf-8");
}

static PyObject *
stream_writer_get_errors (PyObject *object,
                          void     *closure)
{
  return PyUnicode_FromString ("strict");
}

static PyObject *
stream_writer_get_closed (PyObject *object,
                          void     *closure)
{
  Py_RETURN_FALSE;
}

static PyObject *
stream_writer_get_mode (PyObject *object,
                        void     *closure)
{
  return PyUnicode_FromString ("w");
}

static PyObject *
stream_writer_get_newlines (PyObject *object,
                            void     *closure)
{
  Py_RETURN_NONE;
}

static PyMethodDef stream_writer_methods[] = {
  { "write", stream_writer_write, METH_O, "write(text) -> number of characters written" },
  { "writelines", stream_writer_writelines, METH_O, "writelines(lines)" },
  { "flush", stream_writer_flush, METH_NOARGS, "flush()" },
  { "isatty", stream_writer_false, METH_NOARGS, "isatty() -> False" },
  { "readable", stream_writer_false, METH_NOARGS, "readable() -> False" },
  { "seekable", stream_writer_false, METH_NOARGS, "seekable() -> False" },
  { "writable", stream_writer_true, METH_NOARGS, "writable() -> True" },
  { "fileno", stream_writer_fileno, METH_NOARGS, "fileno(): not supported" },
  { NULL, NULL, 0, NULL },
};

static PyGetSetDef stream_writer_getset[] = {
  { "name", stream_writer_get_name, NULL, NULL, NULL },
  { "encoding", stream_writer_get_encoding, NULL, NULL, NULL },
  { "errors", stream_writer_get_errors, NULL, NULL, NULL },
  { "closed", stream_writer_get_closed, NULL, NULL, NULL },
  { "mode", stream_writer_get_mode, NULL, NULL, NULL },
  { "newlines", stream_writer_get_newlines, NULL, NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static PyType_Slot stream_writer_slots[] = {
  { Py_tp_doc, (void *) "A text stream that publishes to the kernel's clients." },
  { Py_tp_methods, stream_writer_methods },
  { Py_tp_getset, stream_writer_getset },
  { 0, NULL },
};

static PyType_Spec stream_writer_spec = {
  .name = HELPER_MODULE_NAME ".StreamWriter",
  .basicsize = sizeof (StreamWriter),
  .flags = Py_TPFLAGS_DEFAULT,
  .slots = stream_writer_slots,
};

static PyObject *
stream_writer_new (PyObject         *type,
                   BjPythonExecutor *executor,
                   BjStream          stream)
{
  /* tp_alloc is not in the limited API; PyType_GenericAlloc is. */
  StreamWriter *writer = (StreamWriter *) PyType_GenericAlloc ((PyTypeObject *) type, 0);

  if (writer == NULL)
    return NULL;
  writer->executor = executor;
  writer->stream = stream;
  return (PyObject *) writer;
}

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

  writer_type = PyType_FromSpec (&stream_writer_spec);
  if (writer_type == NULL)
    goto out;
  stdout_writer = stream_writer_new (writer_type, self, BJ_STREAM_STDOUT);
  stderr_writer = stream_writer_new (writer_type, self, BJ_STREAM_STDERR);
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

/* ---- the runtime's bytecode cache ----
 *
 * Compiling bj_runtime.py from source takes longer than everything else the
 * executor does at start (~18 ms of a ~80 ms standalone launch), so its code
 * object is kept, marshalled, in $XDG_CACHE_HOME/bpy-jupyter/. A cache file is
 * only used when its whole header matches: our format, the interpreter's bytecode
 * magic number and optimization level, the SHA-256 of the embedded source, and the
 * SHA-256 of the marshalled payload (marshal trusts its input, so a damaged file
 * must never reach it). Anything else (missing, foreign, damaged, not ours, not
 * writable) falls back to compiling, silently: the cache only ever saves time. The
 * limited API has no PyMarshal_*, so the builtin marshal module does the work. */

#define RUNTIME_CACHE_TAG "BJRC"
#define RUNTIME_CACHE_FORMAT 1
/* tag, format, Python magic, optimize level, source SHA-256, payload SHA-256 */
#define RUNTIME_CACHE_HEADER_SIZE (4 + 4 + 4 + 4 + 32 + 32)
#define RUNTIME_CACHE_MAX_SIZE (16 * 1024 * 1024)

typedef struct {
  guint8 header[RUNTIME_CACHE_HEADER_SIZE];
  char *path;
} RuntimeCacheKey;

static void
sha256_into (const guint8 *data,
             gsize         length,
             guint8       *digest)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize digest_length = 32;

  g_checksum_update (checksum, data, length);
  g_checksum_get_digest (checksum, digest, &digest_length);
}

static void
put_le32 (guint8  *at,
          guint32  value)
{
  value = GUINT32_TO_LE (value);
  memcpy (at, &value, 4);
}

/* Fills the header (payload digest still zero) and the file name, which carries
 * the key too, so interpreters of different versions (Blender's and the system's)
 * keep a file each rather than overwriting each other's. Needs the GIL. */
static gboolean
runtime_cache_key (GBytes          *source,
                   RuntimeCacheKey *key)
{
  long magic = PyImport_GetMagicNumber ();
  long optimize = 0;
  PyObject *flags = PySys_GetObject ("flags");  /* borrowed */
  g_autofree char *source_hex = NULL;
  g_autofree char *name = NULL;
  guint8 *h = key->header;

  if (magic == -1)
    {
      PyErr_Clear ();
      return FALSE;
    }
  if (flags != NULL)
    {
      PyObject *value = PyObject_GetAttrString (flags, "optimize");

      if (value != NULL)
        optimize = PyLong_AsLong (value);
      Py_XDECREF (value);
      if (PyErr_Occurred ())
        {
          PyErr_Clear ();
          return FALSE;
        }
    }

  memset (h, 0, RUNTIME_CACHE_HEADER_SIZE);
  memcpy (h, RUNTIME_CACHE_TAG, 4);
  put_le32 (h + 4, RUNTIME_CACHE_FORMAT);
  put_le32 (h + 8, (guint32) magic);
  put_le32 (h + 12, (guint32) optimize);
  sha256_into (g_bytes_get_data (source, NULL), g_bytes_get_size (source), h + 16);

  source_hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, source);
  source_hex[16] = '\0';
  name = g_strdup_printf ("bj_runtime-%08lx-o%ld-%s.bin", (unsigned long) (guint32) magic,
                          optimize, source_hex);
  key->path = g_build_filename (g_get_user_cache_dir (), "bpy-jupyter", name, NULL);
  return TRUE;
}

/* The limited API has no PyCode_Check. */
static gboolean
is_code_object (PyObject *object)
{
  PyObject *name = PyObject_GetAttrString ((PyObject *) Py_TYPE (object), "__name__");
  gboolean is_code = name != NULL && PyUnicode_CompareWithASCIIString (name, "code") == 0;

  Py_XDECREF (name);
  PyErr_Clear ();
  return is_code;
}

/* The code object from the cache file, or NULL (no Python error set) when there is
 * no usable one. Needs the GIL. */
static PyObject *
runtime_cache_read (const RuntimeCacheKey *key)
{
  g_autofree guint8 *data = NULL;
  guint8 digest[32];
  PyObject *marshal, *code = NULL;
  struct stat st;
  gsize length = 0;
  int fd;

  fd = open (key->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return NULL;
  /* A file someone else could have written is not ours to execute. */
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid () ||
      (st.st_mode & 022) != 0 || st.st_size <= RUNTIME_CACHE_HEADER_SIZE ||
      st.st_size > RUNTIME_CACHE_MAX_SIZE)
    {
      close (fd);
      return NULL;
    }
  data = g_malloc (st.st_size);
  while (length < (gsize) st.st_size)
    {
      ssize_t n = read (fd, data + length, st.st_size - length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      length += n;
    }
  close (fd);
  if (length != (gsize) st.st_size ||
      memcmp (data, key->header, RUNTIME_CACHE_HEADER_SIZE - 32) != 0)
    return NULL;
  sha256_into (data + RUNTIME_CACHE_HEADER_SIZE, length - RUNTIME_CACHE_HEADER_SIZE, digest);
  if (memcmp (digest, data + RUNTIME_CACHE_HEADER_SIZE - 32, 32) != 0)
    return NULL;

  marshal = PyImport_ImportModule ("marshal");
  if (marshal != NULL)
    {
      code = PyObject_CallMethod (marshal, "loads", "y#",
                                  (const char *) data + RUNTIME_CACHE_HEADER_SIZE,
                                  (Py_ssize_t) (length - RUNTIME_CACHE_HEADER_SIZE));
      Py_DECREF (marshal);
    }
  if (code != NULL && !is_code_object (code))
    Py_CLEAR (code);
  PyErr_Clear ();
  return code;
}

/* Writes a new file next to @path and renames it over @path: readers see the old
 * file or the new one, and the new one is 0600 whatever the old one was. Not
 * g_file_set_contents_full(): newer GLib (2.84 in trixie) keeps an existing file's mode, and a
 * group-writable file found here must not stay so. */
static void
runtime_cache_replace (const char   *path,
                       const guint8 *data,
                       gsize         length)
{
  g_autofree char *tmp_path = g_strconcat (path, ".XXXXXX", NULL);
  gsize written = 0;
  gboolean ok;
  int fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      g_debug ("Not caching the Python runtime's bytecode: %s", g_strerror (errno));
      return;
    }
  while (written < length)
    {
      ssize_t n = write (fd, data + written, length - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      written += n;
    }
  /* mkstemp's mode went through the umask; make sure of 0600 either way. */
  ok = written == length && fchmod (fd, 0600) == 0;
  ok = close (fd) == 0 && ok;
  if (!ok || rename (tmp_path, path) < 0)
    {
      g_debug ("Not caching the Python runtime's bytecode: %s", g_strerror (errno));
      unlink (tmp_path);
    }
}

/* Best effort: writes the code object atomically (temporary file, then rename),
 * mode 0600. Needs the GIL; leaves no Python error set. */
static void
runtime_cache_write (const RuntimeCacheKey *key,
                     PyObject              *code)
{
  g_autofree char *dir = g_path_get_dirname (key->path);
  g_autofree guint8 *data = NULL;
  PyObject *marshal, *payload = NULL;
  char *bytes;
  Py_ssize_t size;

  marshal = PyImport_ImportModule ("marshal");
  if (marshal != NULL)
    {
      payload = PyObject_CallMethod (marshal, "dumps", "O", code);
      Py_DECREF (marshal);
    }
  if (payload == NULL || PyBytes_AsStringAndSize (payload, &bytes, &size) < 0 ||
      size <= 0 || size > RUNTIME_CACHE_MAX_SIZE - RUNTIME_CACHE_HEADER_SIZE)
    {
      Py_XDECREF (payload);
      PyErr_Clear ();
      return;
    }
  data = g_malloc (RUNTIME_CACHE_HEADER_SIZE + size);
  memcpy (data, key->header, RUNTIME_CACHE_HEADER_SIZE);
  memcpy (data + RUNTIME_CACHE_HEADER_SIZE, bytes, size);
  sha256_into (data + RUNTIME_CACHE_HEADER_SIZE, size, data + RUNTIME_CACHE_HEADER_SIZE - 32);
  Py_DECREF (payload);

  if (g_mkdir_with_parents (dir, 0700) == 0)
    runtime_cache_replace (key->path, data, RUNTIME_CACHE_HEADER_SIZE + size);
}

static gboolean
load_runtime (BjPythonExecutor  *self,
              GError           **error)
{
  g_autoptr(GBytes) source = NULL;
  RuntimeCacheKey key = { { 0 }, NULL };
  gboolean have_key;
  PyObject *code;

  source = g_resources_lookup_data (RUNTIME_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (source == NULL)
    return FALSE;

  have_key = runtime_cache_key (source, &key);
  code = have_key ? runtime_cache_read (&key) : NULL;
  if (code == NULL)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (source, NULL),
                                         g_bytes_get_size (source));

      code = Py_CompileString (text, "bj_runtime.py", Py_file_input);
      if (code != NULL && have_key)
        runtime_cache_write (&key, code);
    }
  g_free (key.path);
  if (code != NULL)
    {
      self->runtime = PyImport_ExecCodeModule (RUNTIME_MODULE_NAME, code);
      Py_DECREF (code);
    }
  if (self->runtime == NULL)
    {
      g_autofree char *message = fetch_python_error ();
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
      if (PyDict_DelItemString (modules, RUNTIME_MODULE_NAME) < 0)
        PyErr_Clear ();
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
                ((StreamWriter *) writer)->executor = NULL;
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
