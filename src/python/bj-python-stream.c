/* bj-python-stream.c: sys.stdout and sys.stderr of a running cell
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A print() goes straight to the kernel's stream buffer (bj_kernel_write_stream),
 * which the I/O thread coalesces into stream messages: no Python-level buffering,
 * no flush needed, and the hot path of print-heavy cells stays in C.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

#include <unistd.h>

#include "bj-python-stream-private.h"

typedef struct {
  PyObject_HEAD
  BjKernel *const *kernel;    /* the executor's kernel slot; NULL once detached */
  BjStream stream;
} StreamWriter;

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

  if (writer->kernel != NULL && *writer->kernel != NULL)
    bj_kernel_write_stream (*writer->kernel, writer->stream, data, length);
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
  .name = "_bpy_jupyter_executor.StreamWriter",
  .basicsize = sizeof (StreamWriter),
  .flags = Py_TPFLAGS_DEFAULT,
  .slots = stream_writer_slots,
};

PyObject *
bj_python_stream_writer_type_new (void)
{
  return PyType_FromSpec (&stream_writer_spec);
}

void
bj_python_stream_writer_detach (PyObject *writer)
{
  ((StreamWriter *) writer)->kernel = NULL;
}

PyObject *
bj_python_stream_writer_new (PyObject        *type,
                             BjKernel *const *kernel,
                             BjStream         stream)
{
  /* tp_alloc is not in the limited API; PyType_GenericAlloc is. */
  StreamWriter *writer = (StreamWriter *) PyType_GenericAlloc ((PyTypeObject *) type, 0);

  if (writer == NULL)
    return NULL;
  writer->kernel = kernel;
  writer->stream = stream;
  return (PyObject *) writer;
}
