/* test-kernel.c: BjKernel's life cycle
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <bpyjupyter.h>

/* The smallest real executor: the kernel's life cycle needs no language. */
#define TEST_TYPE_EXECUTOR (test_executor_get_type ())
G_DECLARE_FINAL_TYPE (TestExecutor, test_executor, TEST, EXECUTOR, GObject)

struct _TestExecutor {
  GObject parent_instance;
  guint attached;
  guint detached;
};

static void test_executor_iface_init (BjExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestExecutor, test_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BJ_TYPE_EXECUTOR, test_executor_iface_init))

static void
test_executor_attach (BjExecutor *executor, BjKernel *kernel)
{
  TEST_EXECUTOR (executor)->attached++;
}

static void
test_executor_detach (BjExecutor *executor, BjKernel *kernel)
{
  TEST_EXECUTOR (executor)->detached++;
}

static void
test_executor_iface_init (BjExecutorInterface *iface)
{
  iface->attach = test_executor_attach;
  iface->detach = test_executor_detach;
}

static void test_executor_class_init (TestExecutorClass *klass) {}
static void test_executor_init (TestExecutor *self) {}

static guint
count_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint count = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    count++;
  return count;
}

typedef struct {
  char *dir;
  char *connection_file;
  TestExecutor *executor;
  BjKernel *kernel;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("bj-kernel-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->connection_file = g_build_filename (fixture->dir, "kernel.json", NULL);
  fixture->executor = g_object_new (TEST_TYPE_EXECUTOR, NULL);
  fixture->kernel = bj_kernel_new (BJ_EXECUTOR (fixture->executor));
  bj_kernel_set_connection_file (fixture->kernel, fixture->connection_file);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_object (&fixture->kernel);
  g_clear_object (&fixture->executor);
  g_unlink (fixture->connection_file);
  g_assert_cmpint (g_rmdir (fixture->dir), ==, 0);
  g_free (fixture->connection_file);
  g_free (fixture->dir);
}

static void
record_state (BjKernel *kernel, BjKernelState state, GString *states)
{
  g_string_append_printf (states, "%s ", bj_kernel_state_to_string (state));
}

static void
test_start_stop (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = NULL;
  g_autoptr(BjConnectionInfo) from_file = NULL;
  g_autoptr(GString) states = g_string_new (NULL);
  struct stat st;

  g_signal_connect (fixture->kernel, "state-changed", G_CALLBACK (record_state), states);

  g_assert_true (bj_kernel_start (fixture->kernel, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bj_kernel_get_state (fixture->kernel), ==, BJ_KERNEL_STATE_IDLE);
  g_assert_cmpuint (fixture->executor->attached, ==, 1);

  /* The file it wrote: private, with the ports it bound and its key. */
  g_assert_cmpint (g_stat (fixture->connection_file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  info = bj_kernel_get_connection_info (fixture->kernel);
  from_file = bj_connection_info_new_from_file (fixture->connection_file, &error);
  g_assert_no_error (error);
  for (guint c = 0; c < BJ_N_CHANNELS; c++)
    {
      g_assert_cmpuint (bj_connection_info_get_port (info, c), !=, 0);
      g_assert_cmpuint (bj_connection_info_get_port (info, c), ==,
                        bj_connection_info_get_port (from_file, c));
    }
  g_assert_cmpuint (strlen (bj_connection_info_get_key (from_file)), ==, 64);

  g_assert_true (bj_kernel_stop (fixture->kernel, &error));
  g_assert_no_error (error);
  g_assert_cmpint (bj_kernel_get_state (fixture->kernel), ==, BJ_KERNEL_STATE_STOPPED);
  g_assert_false (g_file_test (fixture->connection_file, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (fixture->executor->detached, ==, 1);
  g_assert_cmpstr (states->str, ==, "starting idle stopping stopped ");
}

static void
test_wrong_state (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (bj_kernel_stop (fixture->kernel, &error));
  g_assert_error (error, BJ_ERROR, BJ_ERROR_NOT_RUNNING);
  g_clear_error (&error);

  g_assert_true (bj_kernel_start (fixture->kernel, &error));
  g_assert_false (bj_kernel_start (fixture->kernel, &error));
  g_assert_error (error, BJ_ERROR, BJ_ERROR_ALREADY_RUNNING);
  g_clear_error (&error);
  g_assert_cmpint (bj_kernel_get_state (fixture->kernel), ==, BJ_KERNEL_STATE_IDLE);

  g_assert_true (bj_kernel_stop (fixture->kernel, &error));
  g_assert_false (bj_kernel_stop (fixture->kernel, &error));
  g_assert_error (error, BJ_ERROR, BJ_ERROR_NOT_RUNNING);
}

static void
test_cycles_leak_nothing (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint fds_before, threads_before;
  guint cycles = g_test_slow () ? 1000 : 200;

  /* One cycle first: GLib and GnuTLS set up process-wide state once. */
  g_assert_true (bj_kernel_start (fixture->kernel, &error));
  g_assert_true (bj_kernel_stop (fixture->kernel, &error));
  fds_before = count_entries ("/proc/self/fd");
  threads_before = count_entries ("/proc/self/task");

  for (guint i = 0; i < cycles; i++)
    {
      g_assert_true (bj_kernel_start (fixture->kernel, &error));
      g_assert_no_error (error);
      g_assert_true (bj_kernel_stop (fixture->kernel, &error));
      g_assert_no_error (error);
    }

  g_assert_cmpuint (count_entries ("/proc/self/fd"), ==, fds_before);
  g_assert_cmpuint (count_entries ("/proc/self/task"), ==, threads_before);
}

static void
test_existing_file_is_kept (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = NULL;
  g_autoptr(BjConnectionInfo) in_use = NULL;

  /* Start once to learn free ports, then hand that file over as a client would. */
  g_assert_true (bj_kernel_start (fixture->kernel, &error));
  info = bj_kernel_get_connection_info (fixture->kernel);
  g_assert_true (bj_kernel_stop (fixture->kernel, &error));
  g_assert_true (bj_connection_info_write_file (info, fixture->connection_file, &error));

  g_assert_true (bj_kernel_start (fixture->kernel, &error));
  g_assert_no_error (error);
  in_use = bj_kernel_get_connection_info (fixture->kernel);
  g_assert_cmpuint (bj_connection_info_get_port (in_use, BJ_CHANNEL_SHELL), ==,
                    bj_connection_info_get_port (info, BJ_CHANNEL_SHELL));
  g_assert_true (bj_kernel_stop (fixture->kernel, &error));
  /* It was the client's file: the kernel leaves it. */
  g_assert_true (g_file_test (fixture->connection_file, G_FILE_TEST_EXISTS));
}

static void
test_port_in_use (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = NULL;
  g_autoptr(TestExecutor) other_executor = g_object_new (TEST_TYPE_EXECUTOR, NULL);
  g_autoptr(BjKernel) other = bj_kernel_new (BJ_EXECUTOR (other_executor));
  g_autofree char *other_file = g_build_filename (fixture->dir, "other.json", NULL);

  g_assert_true (bj_kernel_start (fixture->kernel, &error));
  info = bj_kernel_get_connection_info (fixture->kernel);

  bj_kernel_set_connection_file (other, other_file);
  bj_kernel_set_connection_info (other, info);
  g_assert_false (bj_kernel_start (other, &error));
  g_assert_error (error, BJ_ERROR, BJ_ERROR_ADDRESS_IN_USE);
  g_assert_cmpint (bj_kernel_get_state (other), ==, BJ_KERNEL_STATE_STOPPED);
  g_assert_false (g_file_test (other_file, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  g_assert_true (bj_kernel_stop (fixture->kernel, &error));
}

static void
test_unsupported_scheme (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (fixture->connection_file,
                                      "{\"signature_scheme\": \"hmac-md5\", \"key\": \"k\"}", -1, &error));
  g_assert_false (bj_kernel_start (fixture->kernel, &error));
  g_assert_error (error, BJ_ERROR, BJ_ERROR_UNSUPPORTED_SIGNATURE_SCHEME);
  g_assert_cmpint (bj_kernel_get_state (fixture->kernel), ==, BJ_KERNEL_STATE_STOPPED);
}

static void
test_world_writable_folder (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  /* Anyone could swap the file (and its key): refused. */
  g_assert_cmpint (g_chmod (fixture->dir, 0777), ==, 0);
  g_assert_false (bj_kernel_start (fixture->kernel, &error));
  g_assert_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO);
  g_assert_nonnull (strstr (error->message, fixture->dir));
  g_assert_cmpint (bj_kernel_get_state (fixture->kernel), ==, BJ_KERNEL_STATE_STOPPED);
  g_assert_false (g_file_test (fixture->connection_file, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* With the sticky bit, as /tmp has, others cannot replace our file. */
  g_assert_cmpint (g_chmod (fixture->dir, 01777), ==, 0);
  g_assert_true (bj_kernel_start (fixture->kernel, &error));
  g_assert_no_error (error);
  g_assert_true (bj_kernel_stop (fixture->kernel, &error));
  g_assert_cmpint (g_chmod (fixture->dir, 0700), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/kernel/start-stop", test_start_stop);
  ADD ("/kernel/wrong-state", test_wrong_state);
  ADD ("/kernel/cycles-leak-nothing", test_cycles_leak_nothing);
  ADD ("/kernel/existing-file-is-kept", test_existing_file_is_kept);
  ADD ("/kernel/port-in-use", test_port_in_use);
  ADD ("/kernel/unsupported-scheme", test_unsupported_scheme);
  ADD ("/kernel/world-writable-folder", test_world_writable_folder);
#undef ADD

  return g_test_run ();
}
