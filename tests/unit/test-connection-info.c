/* test-connection-info.c
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <bpyjupyter.h>

static const char *full_file =
  "{\"shell_port\": 5001, \"iopub_port\": 5002, \"stdin_port\": 5003,"
  " \"control_port\": 5004, \"hb_port\": 5005, \"ip\": \"127.0.0.1\","
  " \"key\": \"abc\", \"transport\": \"tcp\", \"signature_scheme\": \"hmac-sha256\","
  " \"kernel_name\": \"bpy-jupyter-python\"}";

static void
test_parse_full (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = bj_connection_info_new_from_json (full_file, -1, &error);
  g_autofree char *endpoint = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (bj_connection_info_get_port (info, BJ_CHANNEL_SHELL), ==, 5001);
  g_assert_cmpuint (bj_connection_info_get_port (info, BJ_CHANNEL_IOPUB), ==, 5002);
  g_assert_cmpuint (bj_connection_info_get_port (info, BJ_CHANNEL_STDIN), ==, 5003);
  g_assert_cmpuint (bj_connection_info_get_port (info, BJ_CHANNEL_CONTROL), ==, 5004);
  g_assert_cmpuint (bj_connection_info_get_port (info, BJ_CHANNEL_HEARTBEAT), ==, 5005);
  g_assert_cmpstr (bj_connection_info_get_key (info), ==, "abc");
  g_assert_cmpstr (bj_connection_info_get_kernel_name (info), ==, "bpy-jupyter-python");
  endpoint = bj_connection_info_get_endpoint (info, BJ_CHANNEL_CONTROL);
  g_assert_cmpstr (endpoint, ==, "tcp://127.0.0.1:5004");
}

static void
test_parse_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = bj_connection_info_new_from_json ("{}", -1, &error);
  g_autofree char *endpoint = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (bj_connection_info_get_ip (info), ==, "127.0.0.1");
  g_assert_cmpstr (bj_connection_info_get_transport (info), ==, "tcp");
  g_assert_cmpstr (bj_connection_info_get_signature_scheme (info), ==, "hmac-sha256");
  endpoint = bj_connection_info_get_endpoint (info, BJ_CHANNEL_SHELL);
  g_assert_cmpstr (endpoint, ==, "tcp://127.0.0.1:*");
}

static void
test_ipc_endpoint (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info =
    bj_connection_info_new_from_json ("{\"transport\": \"ipc\", \"ip\": \"/tmp/k\", \"hb_port\": 7}", -1, &error);
  g_autofree char *endpoint = NULL;

  g_assert_no_error (error);
  endpoint = bj_connection_info_get_endpoint (info, BJ_CHANNEL_HEARTBEAT);
  g_assert_cmpstr (endpoint, ==, "ipc:///tmp/k-7");
}

static void
test_parse_invalid (void)
{
  static const char *bad[] = {
    "",
    "not json",
    "[1, 2]",
    "{\"shell_port\": \"5001\"}",
    "{\"shell_port\": 70000}",
    "{\"shell_port\": -1}",
    "{\"key\": 5}",
    "{\"transport\": \"udp\"}",
    "{\"ip\": \"\"}",
    "{\"shell_port\": 1.5}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(BjConnectionInfo) info = bj_connection_info_new_from_json (bad[i], -1, &error);

      g_assert_null (info);
      g_assert_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO);
      g_assert_nonnull (error->message);
    }
}

static void
test_signature_scheme (void)
{
  g_autoptr(BjConnectionInfo) info = bj_connection_info_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (bj_connection_info_set_signature_scheme (info, "hmac-md5", &error));
  g_assert_error (error, BJ_ERROR, BJ_ERROR_UNSUPPORTED_SIGNATURE_SCHEME);
  g_assert_cmpstr (bj_connection_info_get_signature_scheme (info), ==, "hmac-sha256");
}

static void
test_generate_key (void)
{
  g_autoptr(BjConnectionInfo) a = bj_connection_info_new ();
  g_autoptr(BjConnectionInfo) b = bj_connection_info_new ();
  g_autoptr(GError) error = NULL;
  const char *key;

  g_assert_true (bj_connection_info_generate_key (a, &error));
  g_assert_no_error (error);
  g_assert_true (bj_connection_info_generate_key (b, &error));
  key = bj_connection_info_get_key (a);
  g_assert_cmpuint (strlen (key), ==, 64);
  for (const char *c = key; *c; c++)
    g_assert_true (g_ascii_isxdigit (*c) && !g_ascii_isupper (*c));
  g_assert_cmpstr (key, !=, bj_connection_info_get_key (b));
}

static void
test_json_masks_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = bj_connection_info_new_from_json (full_file, -1, &error);
  g_autofree char *masked = bj_connection_info_to_json (info, FALSE);
  g_autofree char *full = bj_connection_info_to_json (info, TRUE);

  g_assert_null (strstr (masked, "\"abc\""));
  g_assert_nonnull (strstr (masked, "********"));
  g_assert_nonnull (strstr (full, "\"abc\""));
}

static void
test_write_read_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bj-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "kernel.json", NULL);
  g_autoptr(BjConnectionInfo) info = bj_connection_info_new_from_json (full_file, -1, &error);
  g_autoptr(BjConnectionInfo) read_back = NULL;
  struct stat st;

  g_assert_no_error (error);
  g_assert_true (bj_connection_info_write_file (info, path, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  read_back = bj_connection_info_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bj_connection_info_get_key (read_back), ==, "abc");
  for (guint c = 0; c < BJ_N_CHANNELS; c++)
    g_assert_cmpuint (bj_connection_info_get_port (read_back, c), ==,
                      bj_connection_info_get_port (info, c));

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BjConnectionInfo) info = bj_connection_info_new_from_file ("/nonexistent/kernel.json", &error);

  g_assert_null (info);
  g_assert_error (error, BJ_ERROR, BJ_ERROR_INVALID_CONNECTION_INFO);
}

/* One quoting for every place that shows the command: a path pastes into a POSIX
 * shell as the one word it is, whatever it holds. */
static void
test_console_command (void)
{
  static const char *paths[] = {
    "/run/user/1000/jupyter/kernel-bj-12-1.json",
    "/tmp/my kernels/it's.json",
    "/tmp/$(rm -rf ~).json",
    "/tmp/a b/'c'\".json",
    "/tmp/tab\there;`x`&|<>*?[]{}~!#.json",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *command = bj_console_command_for_file (paths[i]);
      g_auto(GStrv) argv = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (g_str_has_prefix (command, "jupyter console --existing "));
      g_assert_true (g_shell_parse_argv (command, NULL, &argv, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_strv_length (argv), ==, 4);
      g_assert_cmpstr (argv[3], ==, paths[i]);
    }
  {
    g_autofree char *plain = bj_console_command_for_file (paths[0]);
    g_assert_cmpstr (plain, ==, "jupyter console --existing /run/user/1000/jupyter/kernel-bj-12-1.json");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/connection-info/parse-full", test_parse_full);
  g_test_add_func ("/connection-info/parse-defaults", test_parse_defaults);
  g_test_add_func ("/connection-info/ipc-endpoint", test_ipc_endpoint);
  g_test_add_func ("/connection-info/parse-invalid", test_parse_invalid);
  g_test_add_func ("/connection-info/signature-scheme", test_signature_scheme);
  g_test_add_func ("/connection-info/generate-key", test_generate_key);
  g_test_add_func ("/connection-info/json-masks-key", test_json_masks_key);
  g_test_add_func ("/connection-info/write-read", test_write_read_round_trip);
  g_test_add_func ("/connection-info/console-command", test_console_command);
  g_test_add_func ("/connection-info/missing-file", test_missing_file);

  return g_test_run ();
}
