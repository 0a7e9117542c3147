/* bj-python-cache.c: the runtime's bytecode cache
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Compiling the runtime's modules (bj_runtime/) from source takes longer than
 * everything else the executor does at start (~18 ms of a ~80 ms standalone
 * launch), so their code objects are kept, marshalled, in one file in
 * $XDG_CACHE_HOME/bpy-jupyter/. One file, not one per module: one open, one
 * digest and one marshal call per start. Its payload is the tuple of the modules'
 * code objects, in the order they run (the session, which becomes the package,
 * last). A cache file is only used when
 * its whole header matches: our format, the interpreter's bytecode magic number
 * and optimization level, the SHA-256 of the embedded sources, and the
 * SHA-256 of the marshalled payload (marshal trusts its input, so a damaged file
 * must never reach it). Anything else (missing, foreign, damaged, not ours, not
 * writable) falls back to compiling, silently: the cache only ever saves time. The
 * limited API has no PyMarshal_*, so the builtin marshal module does the work. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bj-python-cache-private.h"


#define RUNTIME_CACHE_TAG "BJRC"
#define RUNTIME_CACHE_FORMAT 2
/* tag, format, Python magic, optimize level, sources SHA-256, payload SHA-256 */
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
/* The SHA-256 of the modules' names and sources, each length-prefixed so no two
 * different sets of modules digest alike. */
static void
sources_sha256_into (GBytes * const     *sources,
                     const char * const *filenames,
                     guint               n,
                     guint8             *digest)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize digest_length = 32;

  for (guint i = 0; i < n; i++)
    {
      guint64 lengths[2] = {
        GUINT64_TO_LE ((guint64) strlen (filenames[i])),
        GUINT64_TO_LE ((guint64) g_bytes_get_size (sources[i])),
      };

      g_checksum_update (checksum, (const guint8 *) lengths, sizeof lengths);
      g_checksum_update (checksum, (const guint8 *) filenames[i], strlen (filenames[i]));
      g_checksum_update (checksum, g_bytes_get_data (sources[i], NULL),
                         g_bytes_get_size (sources[i]));
    }
  g_checksum_get_digest (checksum, digest, &digest_length);
}

static gboolean
runtime_cache_key (GBytes * const     *sources,
                   const char * const *filenames,
                   guint               n,
                   RuntimeCacheKey    *key)
{
  long magic = PyImport_GetMagicNumber ();
  long optimize = 0;
  PyObject *flags = PySys_GetObject ("flags");  /* borrowed */
  char source_hex[17];
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
  sources_sha256_into (sources, filenames, n, h + 16);

  for (guint i = 0; i < 8; i++)
    g_snprintf (source_hex + 2 * i, 3, "%02x", h[16 + i]);
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

/* The payload of the cache file, or NULL (no Python error set) when there is
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
  PyErr_Clear ();
  return code;
}

/* The n code objects of a cache file's payload, or NULL (no Python error set) if
 * it is not a tuple of exactly n code objects. Needs the GIL. */
static PyObject *
runtime_cache_codes (PyObject *payload,
                     guint     n)
{
  if (!PyTuple_Check (payload) || PyTuple_Size (payload) != (Py_ssize_t) n)
    return NULL;
  for (guint i = 0; i < n; i++)
    if (!is_code_object (PyTuple_GetItem (payload, i)))
      return NULL;
  Py_INCREF (payload);
  return payload;
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

/* Best effort: writes the code objects atomically (temporary file, then rename),
 * mode 0600. Needs the GIL; leaves no Python error set. */
static void
runtime_cache_write (const RuntimeCacheKey *key,
                     PyObject              *codes)
{
  g_autofree char *dir = g_path_get_dirname (key->path);
  g_autofree guint8 *data = NULL;
  PyObject *marshal, *payload = NULL;
  char *bytes;
  Py_ssize_t size;

  marshal = PyImport_ImportModule ("marshal");
  if (marshal != NULL)
    {
      payload = PyObject_CallMethod (marshal, "dumps", "(O)", codes);
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

PyObject *
bj_python_compile_cached (GBytes * const     *sources,
                          const char * const *filenames,
                          guint               n)
{
  RuntimeCacheKey key = { { 0 }, NULL };
  gboolean have_key;
  PyObject *cached = NULL, *codes = NULL;

  g_return_val_if_fail (n > 0, NULL);

  have_key = runtime_cache_key (sources, filenames, n, &key);
  cached = have_key ? runtime_cache_read (&key) : NULL;
  if (cached != NULL)
    {
      codes = runtime_cache_codes (cached, n);
      Py_DECREF (cached);
    }
  if (codes == NULL)
    {
      codes = PyTuple_New (n);
      for (guint i = 0; codes != NULL && i < n; i++)
        {
          g_autofree char *text = g_strndup (g_bytes_get_data (sources[i], NULL),
                                             g_bytes_get_size (sources[i]));
          PyObject *code = Py_CompileString (text, filenames[i], Py_file_input);

          if (code == NULL)
            Py_CLEAR (codes);
          else
            PyTuple_SetItem (codes, i, code);
        }
      if (codes != NULL && have_key)
        runtime_cache_write (&key, codes);
    }
  g_free (key.path);
  return codes;
}
