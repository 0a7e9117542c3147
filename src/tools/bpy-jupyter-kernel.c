/* bpy-jupyter-kernel: a Jupyter kernel process running Python natively
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpyjupyter.h>

#include "bj-tool-exit.h"
#include "bj-tool-i18n.h"

#include "bj-python-executor.h"

#define KERNELSPEC_NAME "bpy-jupyter-python"
#define BLENDER_KERNELSPEC_NAME "bpy-jupyter-blender"

typedef struct {
  GMainLoop *loop;
  int exit_status;
  BjKernel *kernel;
  guint idle_timeout;       /* seconds, with --dbus; 0 for never */
  guint idle_timeout_id;
  pid_t parent_pid;         /* our parent when the process began */
  pid_t client_pid;         /* JPY_PARENT_PID, the launching client, or 0 */
  GMainContext *signal_context;
  GMainLoop *signal_loop;
  guint reinterrupt_id;     /* on signal_context */
} Service;

#define DEFAULT_IDLE_TIMEOUT 60

/* Signal thread: a cell that swallowed one KeyboardInterrupt gets another. */
static gboolean
on_reinterrupt (gpointer user_data)
{
  Service *service = user_data;

  bj_kernel_interrupt (service->kernel, NULL);
  return G_SOURCE_CONTINUE;
}

/* Runs on a thread of its own: the main thread may be in a cell that never ends,
 * and a stop must not wait for it. The cell is interrupted (again every half
 * second until it returns); the loop then ends and the kernel stops. */
static gboolean
on_termination_signal (gpointer user_data)
{
  Service *service = user_data;

  g_message ("Stopping on a termination signal");
  /* No cell running is fine: NOT_BUSY is the only error. */
  bj_kernel_interrupt (service->kernel, NULL);
  if (service->reinterrupt_id == 0)
    {
      g_autoptr(GSource) source = g_timeout_source_new (500);

      g_source_set_callback (source, on_reinterrupt, service, NULL);
      g_source_set_static_name (source, "[bpy-jupyter] interrupt until stopped");
      service->reinterrupt_id = g_source_attach (source, service->signal_context);
    }
  g_main_loop_quit (service->loop);
  return G_SOURCE_CONTINUE;
}

static gpointer
signal_thread (gpointer user_data)
{
  Service *service = user_data;

  g_main_context_push_thread_default (service->signal_context);
  g_main_loop_run (service->signal_loop);
  g_main_context_pop_thread_default (service->signal_context);
  return NULL;
}

/* From now on SIGTERM and SIGHUP reach only threads started before (the signal
 * thread, GLib's worker): delivered to the thread running a cell, they would end its
 * system call before the interrupt is armed, CPython would retry the call, and the
 * cell would wait for the next re-interrupt (seen as ~0.5 s stops). */
static void
block_termination_signals (void)
{
  sigset_t termination;

  sigemptyset (&termination);
  sigaddset (&termination, SIGTERM);
  sigaddset (&termination, SIGHUP);
  pthread_sigmask (SIG_BLOCK, &termination, NULL);
}

static void
watch_termination_signal (Service *service,
                          int      signum)
{
  g_autoptr(GSource) source = g_unix_signal_source_new (signum);

  g_source_set_callback (source, on_termination_signal, service, NULL);
  g_source_attach (source, service->signal_context);
}

static void
on_shutdown_requested (BjKernel *kernel,
                       gboolean  restart,
                       gpointer  user_data)
{
  Service *service = user_data;

  /* A kernel process exits on shutdown, restart included: the client that
   * launched it starts a new process for a restart. */
  g_signal_stop_emission_by_name (kernel, "shutdown-requested");
  g_main_loop_quit (service->loop);
}

/* --dbus: a service nobody uses (kernel stopped, no calls) for a while exits; D-Bus
 * activation brings it back when needed. */
static gboolean
on_idle_timeout (gpointer user_data)
{
  Service *service = user_data;

  service->idle_timeout_id = 0;
  g_debug ("Exiting after %u s unused", service->idle_timeout);
  g_main_loop_quit (service->loop);
  return G_SOURCE_REMOVE;
}

static void
rearm_idle_timeout (Service *service)
{
  g_clear_handle_id (&service->idle_timeout_id, g_source_remove);
  if (service->idle_timeout > 0 &&
      bj_kernel_get_state (service->kernel) == BJ_KERNEL_STATE_STOPPED)
    service->idle_timeout_id = g_timeout_add_seconds (service->idle_timeout, on_idle_timeout, service);
}

static void
on_service_state_changed (BjKernel      *kernel,
                          BjKernelState  state,
                          gpointer       user_data)
{
  rearm_idle_timeout (user_data);
}

static void
on_service_called (BjKernelService *kernel_service,
                   const char      *method,
                   gpointer         user_data)
{
  rearm_idle_timeout (user_data);
}

static char *
kernelspec_json (const char * const *argv,
                 const char         *display_name)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "argv");
  json_builder_begin_array (builder);
  for (guint i = 0; argv[i] != NULL; i++)
    json_builder_add_string_value (builder, argv[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "display_name");
  json_builder_add_string_value (builder, display_name);
  json_builder_set_member_name (builder, "language");
  json_builder_add_string_value (builder, "python");
  json_builder_set_member_name (builder, "interrupt_mode");
  json_builder_add_string_value (builder, "message");
  json_builder_set_member_name (builder, "metadata");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "debugger");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

static char *
find_own_program (const char *argv0)
{
  g_autofree char *resolved = g_file_read_link ("/proc/self/exe", NULL);

  if (resolved != NULL)
    return g_steal_pointer (&resolved);
  if (g_path_is_absolute (argv0))
    return g_strdup (argv0);
  return g_find_program_in_path (argv0);
}

static int
write_kernelspec (const char         *name,
                  const char * const *argv,
                  const char         *display_name,
                  gboolean            user,
                  const char         *prefix)
{
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *json = NULL;
  g_autoptr(GError) error = NULL;

  if (user)
    base = g_build_filename (g_get_user_data_dir (), "jupyter", "kernels", NULL);
  else
    base = g_build_filename (prefix ? prefix : BJ_PREFIX, "share", "jupyter", "kernels", NULL);
  dir = g_build_filename (base, name, NULL);
  path = g_build_filename (dir, "kernel.json", NULL);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_printerr (_("Cannot create “%s”: %s\n"), dir, g_strerror (errno));
      return BJ_EXIT_FAILED;
    }

  json = kernelspec_json (argv, display_name);
  if (!g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error))
    {
      g_printerr (_("Cannot write the kernelspec: %s\n"), error->message);
      return BJ_EXIT_FAILED;
    }

  g_print (_("Installed kernelspec %s in %s\n"), name, dir);
  return BJ_EXIT_OK;
}

static int
install_kernelspec (const char *argv0,
                    gboolean    user,
                    const char *prefix)
{
  g_autofree char *program = find_own_program (argv0);
  const char *argv[] = { NULL, "-f", "{connection_file}", NULL };

  if (program == NULL)
    {
      g_printerr (_("Cannot tell where this program is installed\n"));
      return BJ_EXIT_FAILED;
    }
  argv[0] = program;
  return write_kernelspec (KERNELSPEC_NAME, argv, "Python 3 (bpy-jupyter)", user, prefix);
}

/* Run uninstalled, from a meson build tree (<build>/src/tools/bpy-jupyter-kernel), this
 * program goes with the add-on that build staged in <build>/addon/scripts/addons, not
 * with an installed copy that may be missing or older: someone following the README
 * right after `meson compile` gets a kernelspec that works. The build tree is told by
 * the meson-private/ folder meson keeps at its top, which no install has. */
static char *
find_staged_addon_dir (void)
{
  g_autofree char *program = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *tools = NULL;
  g_autofree char *build = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *addon = NULL;

  if (program == NULL)
    return NULL;
  tools = g_path_get_dirname (program);
  build = g_canonicalize_filename ("../..", tools);
  marker = g_build_filename (build, "meson-private", "coredata.dat", NULL);
  addon = g_build_filename (build, "addon", "scripts", "addons", "bpy_jupyter", NULL);
  if (!g_file_test (marker, G_FILE_TEST_IS_REGULAR) || !g_file_test (addon, G_FILE_TEST_IS_DIR))
    return NULL;
  return g_steal_pointer (&addon);
}

/* The script Blender runs as a kernel process ships with the add-on: the folder
 * BJ_ADDON_DIR names if set (another copy of the add-on), else the build tree's staged
 * add-on when run from one, else the installed add-on. */
static char *
find_blender_kernel_script (void)
{
  const char *override = g_getenv ("BJ_ADDON_DIR");
  g_autofree char *staged = override ? NULL : find_staged_addon_dir ();
  const char *dir = override ? override : staged ? staged : BJ_ADDON_DIR;
  g_autofree char *script = g_build_filename (dir, "kernel_process.py", NULL);

  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr (_("The add-on’s kernel_process.py is not at “%s”: install bpy-jupyter, "
                    "or set BJ_ADDON_DIR to the bpy_jupyter add-on folder\n"), script);
      return NULL;
    }
  return g_steal_pointer (&script);
}

static int
install_blender_kernelspec (const char *blender,
                            gboolean    user,
                            const char *prefix)
{
  g_autofree char *blender_path = NULL;
  g_autofree char *script = NULL;
  const char *argv[] = { NULL, "-b", "--factory-startup", "--python", NULL,
                         "--", "-f", "{connection_file}", NULL };

  if (blender != NULL)
    blender_path = g_file_test (blender, G_FILE_TEST_IS_EXECUTABLE) && g_path_is_absolute (blender)
      ? g_strdup (blender) : g_find_program_in_path (blender);
  else
    blender_path = g_find_program_in_path ("blender");
  if (blender_path == NULL)
    {
      g_printerr (blender
                  ? _("“%s” is not a Blender executable\n")
                  : _("Blender was not found on PATH: install it (Debian: apt-get install blender) "
                      "or name it with --blender PATH\n"),
                  blender);
      return BJ_EXIT_FAILED;
    }

  script = find_blender_kernel_script ();
  if (script == NULL)
    return BJ_EXIT_FAILED;

  argv[0] = blender_path;
  argv[4] = script;
  return write_kernelspec (BLENDER_KERNELSPEC_NAME, argv, "Blender", user, prefix);
}

static gboolean
initialize_python (GError **error)
{
  PyConfig config;
  PyStatus status;

  PyConfig_InitPythonConfig (&config);
  /* SIGINT belongs to the kernel: the runtime arms Python's handler only while a
   * cell runs, so a Ctrl-C meant for a notebook server never hits an idle kernel. */
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  status = PyConfig_SetBytesString (&config, &config.program_name, "bpy-jupyter-kernel");
  /* sys.executable names the interpreter this kernel embeds, not this program (which
   * Python would look for on PATH, find nowhere and leave ''): cells run
   * subprocess.run([sys.executable, …]), multiprocessing spawns it, debugpy needs it. */
  if (!PyStatus_Exception (status))
    status = PyConfig_SetBytesString (&config, &config.executable, BJ_PYTHON_EXECUTABLE);
  if (!PyStatus_Exception (status))
    status = Py_InitializeFromConfig (&config);
  PyConfig_Clear (&config);

  if (PyStatus_Exception (status))
    {
      g_set_error (error, BJ_ERROR, BJ_ERROR_FAILED,
                   _("Cannot initialize Python: %s"),
                   status.err_msg ? status.err_msg : _("unknown error"));
      return FALSE;
    }

  /* As in any Python REPL: the working folder is importable, argv has one entry. */
  if (PyRun_SimpleString ("import sys\n"
                          "sys.argv = ['']\n"
                          "sys.path.insert(0, '')\n") != 0)
    {
      g_set_error_literal (error, BJ_ERROR, BJ_ERROR_FAILED,
                           _("Cannot set up sys.path"));
      return FALSE;
    }
  return TRUE;
}

/* jupyter_client names itself in JPY_PARENT_PID. When that client dies without a
 * shutdown_request (killed, or its terminal closed), the kernel stops rather than
 * stay behind, as ipykernel does. Either sign counts: the client process is gone,
 * or we were reparented (a wrapper between us and the client died). The parent is
 * recorded first thing in main(): a client may die before the kernel is ready. */
static gboolean
client_is_gone (Service *service)
{
  gboolean client_gone = service->client_pid > 0 &&
    kill (service->client_pid, 0) != 0 && errno == ESRCH;

  return client_gone || getppid () != service->parent_pid;
}

static gboolean
on_parent_check (gpointer user_data)
{
  Service *service = user_data;

  if (!client_is_gone (service))
    return G_SOURCE_CONTINUE;
  g_message ("The client that launched this kernel is gone: stopping");
  g_main_loop_quit (service->loop);
  return G_SOURCE_REMOVE;
}

/* Returns the watch (0 for none), or FALSE in *alive when the client is gone
 * already: the loop must then not run at all. */
static guint
watch_parent (Service  *service,
              gboolean *alive)
{
  const char *client = g_getenv ("JPY_PARENT_PID");
  guint64 pid = 0;

  *alive = TRUE;
  if (client == NULL || !g_ascii_string_to_unsigned (client, 10, 2, G_MAXINT, &pid, NULL))
    return 0;
  service->client_pid = (pid_t) pid;
  if (client_is_gone (service))
    {
      g_message ("The client that launched this kernel is gone: stopping");
      *alive = FALSE;
      return 0;
    }
  return g_timeout_add_seconds (1, on_parent_check, service);
}

/* A kernel process, as a kernelspec launches it: serves until shutdown_request. */
static void
run_kernel_process (Service    *service,
                    const char *connection_file)
{
  g_autoptr(GError) error = NULL;
  guint parent_watch_id;
  gboolean client_alive;

  g_signal_connect (service->kernel, "shutdown-requested", G_CALLBACK (on_shutdown_requested), service);
  if (!bj_kernel_start (service->kernel, &error))
    {
      g_printerr (_("Cannot start the kernel: %s\n"), error->message);
      service->exit_status = BJ_EXIT_FAILED;
      return;
    }

  if (connection_file == NULL)
    {
      g_autofree char *command =
        bj_console_command_for_file (bj_kernel_get_connection_file (service->kernel));
      g_printerr (_("To connect another client to this kernel, use:\n    %s\n"), command);
    }
  parent_watch_id = watch_parent (service, &client_alive);
  if (client_alive)
    g_main_loop_run (service->loop);
  g_clear_handle_id (&parent_watch_id, g_source_remove);
  if (bj_kernel_get_state (service->kernel) != BJ_KERNEL_STATE_STOPPED &&
      !bj_kernel_stop (service->kernel, &error))
    g_warning ("%s", error->message);
}

static void
on_bus_closed (GDBusConnection *connection,
               gboolean         remote_peer_vanished,
               GError          *error,
               gpointer         user_data)
{
  g_message ("Lost the session bus: stopping");
  kill (getpid (), SIGTERM);
}

/* --dbus: the kernel, stopped, on the session bus until SIGTERM or the idle timeout.
 * A client's shutdown_request only stops the kernel (or restarts it in place): the
 * service stays for the next Start. */
static void
run_dbus_service (Service *service)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(BjKernelService) kernel_service = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (connection == NULL)
    {
      g_printerr (_("Cannot connect to the session bus: %s\n"), error->message);
      service->exit_status = BJ_EXIT_FAILED;
      return;
    }
  /* Losing the bus stops the service as SIGTERM does. GLib's exit-on-close would
   * raise() it on this thread, which blocks SIGTERM: send it to the process. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  g_signal_connect (connection, "closed", G_CALLBACK (on_bus_closed), NULL);

  kernel_service = bj_kernel_service_new (service->kernel, connection,
                                          "bpy-jupyter-kernel " BJ_VERSION, NULL);
  if (!bj_kernel_service_export (kernel_service, &error))
    {
      g_printerr (_("Cannot export the kernel on D-Bus: %s\n"), error->message);
      service->exit_status = BJ_EXIT_FAILED;
      return;
    }
  g_debug ("On the session bus as %s", bj_kernel_service_get_instance_name (kernel_service));

  g_signal_connect (service->kernel, "state-changed", G_CALLBACK (on_service_state_changed), service);
  g_signal_connect (kernel_service, "called", G_CALLBACK (on_service_called), service);
  rearm_idle_timeout (service);

  g_main_loop_run (service->loop);

  g_clear_handle_id (&service->idle_timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (service->kernel, service);
  g_signal_handlers_disconnect_by_data (kernel_service, service);
  if (bj_kernel_get_state (service->kernel) != BJ_KERNEL_STATE_STOPPED &&
      !bj_kernel_stop (service->kernel, &error))
    g_warning ("%s", error->message);
  bj_kernel_service_unexport (kernel_service);
  g_dbus_connection_flush_sync (connection, NULL, NULL);
}

static int
run_kernel (const char *connection_file,
            gboolean    dbus,
            guint       idle_timeout,
            gint64      max_message_size,
            pid_t       parent_pid)
{
  g_autoptr(BjPythonExecutor) executor = NULL;
  g_autoptr(BjKernel) kernel = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  PyThreadState *main_thread_state;
  Service service = { 0, };
  GThread *signals;

  service.parent_pid = parent_pid;
  signal (SIGINT, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);

  if (!initialize_python (&error))
    {
      g_printerr ("%s\n", error->message);
      return BJ_EXIT_FAILED;
    }

  executor = bj_python_executor_new (&error);
  if (executor == NULL)
    {
      g_printerr ("%s\n", error->message);
      return BJ_EXIT_FAILED;
    }
  bj_python_executor_set_interrupt_with_signal (executor, TRUE);

  /* Idle, the kernel waits in GLib's poll: other Python threads must run meanwhile. */
  main_thread_state = PyEval_SaveThread ();

  kernel = bj_kernel_new (BJ_EXECUTOR (executor));
  if (connection_file != NULL)
    bj_kernel_set_connection_file (kernel, connection_file);
  bj_kernel_set_max_message_size (kernel, max_message_size);

  loop = g_main_loop_new (NULL, FALSE);
  service.loop = loop;
  service.kernel = kernel;
  service.idle_timeout = idle_timeout;
  service.signal_context = g_main_context_new ();
  service.signal_loop = g_main_loop_new (service.signal_context, FALSE);
  watch_termination_signal (&service, SIGTERM);
  watch_termination_signal (&service, SIGHUP);
  signals = g_thread_new ("bj-signals", signal_thread, &service);
  block_termination_signals ();

  if (dbus)
    run_dbus_service (&service);
  else
    run_kernel_process (&service, connection_file);

  /* Quitting from here, after the loop: the signal thread may still be using the
   * kernel until it is joined. */
  g_main_loop_quit (service.signal_loop);
  g_thread_join (signals);
  g_main_loop_unref (service.signal_loop);
  g_main_context_unref (service.signal_context);
  g_clear_object (&kernel);

  PyEval_RestoreThread (main_thread_state);
  g_clear_object (&executor);
  if (Py_FinalizeEx () < 0)
    service.exit_status = 120;
  return service.exit_status;
}

int
main (int    argc,
      char **argv)
{
  pid_t parent_pid = getppid ();
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *connection_file = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *blender = NULL;
  gboolean install = FALSE;
  gboolean install_blender = FALSE;
  gboolean dbus = FALSE;
  int idle_timeout = -1;
  gint64 max_message_size = BJ_KERNEL_DEFAULT_MAX_MESSAGE_SIZE;
  gboolean user = FALSE;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "connection-file", 'f', 0, G_OPTION_ARG_FILENAME, &connection_file,
      N_("Use this connection file (created with free ports and a new key if it does not exist)"),
      N_("FILE") },
    { "dbus", 0, 0, G_OPTION_ARG_NONE, &dbus,
      N_("Run as a session-bus service: export the kernel, stopped, as org.bpyjupyter.Kernel "
         "for clients to start and stop"), NULL },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      N_("With --dbus: exit after this long with the kernel stopped and no calls "
         "(default 60; 0 for never)"), N_("SECONDS") },
    { "max-message-size", 0, 0, G_OPTION_ARG_INT64, &max_message_size,
      N_("The largest message a client may send, in bytes (default 268435456, 256 MiB; "
         "at least 4096): a client sending more loses its connection"), N_("BYTES") },
    { "install", 0, 0, G_OPTION_ARG_NONE, &install,
      N_("Install the “bpy-jupyter-python” kernelspec and exit"), NULL },
    { "install-blender", 0, 0, G_OPTION_ARG_NONE, &install_blender,
      N_("Install the “bpy-jupyter-blender” kernelspec (Blender as the kernel process) and exit"), NULL },
    { "blender", 0, 0, G_OPTION_ARG_FILENAME, &blender,
      N_("With --install-blender: the Blender to run (default: blender on PATH)"), N_("PATH") },
    { "user", 0, 0, G_OPTION_ARG_NONE, &user,
      N_("With --install or --install-blender: install for the current user only"), NULL },
    { "prefix", 0, 0, G_OPTION_ARG_FILENAME, &prefix,
      N_("With --install or --install-blender: install under PREFIX/share/jupyter/kernels"), N_("PREFIX") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  bj_tool_init_i18n ();

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _("A native Jupyter kernel that runs Python."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n%s\n", error->message, _("Run with --help to see the options."));
      return BJ_EXIT_USAGE;
    }

  if (version)
    {
      g_print ("bpy-jupyter-kernel %s\n", BJ_VERSION);
      return BJ_EXIT_OK;
    }
  if ((user || prefix != NULL) && !install && !install_blender)
    {
      g_printerr (_("--user and --prefix only go with --install or --install-blender\n"));
      return BJ_EXIT_USAGE;
    }
  if (blender != NULL && !install_blender)
    {
      g_printerr (_("--blender only goes with --install-blender\n"));
      return BJ_EXIT_USAGE;
    }
  if (install && install_blender)
    {
      g_printerr (_("Use either --install or --install-blender, not both\n"));
      return BJ_EXIT_USAGE;
    }
  if (user && prefix != NULL)
    {
      g_printerr (_("Use either --user or --prefix, not both\n"));
      return BJ_EXIT_USAGE;
    }
  if (idle_timeout != -1 && !dbus)
    {
      g_printerr (_("--idle-timeout only goes with --dbus\n"));
      return BJ_EXIT_USAGE;
    }
  if (idle_timeout < -1)
    {
      g_printerr (_("--idle-timeout takes a number of seconds, 0 or more\n"));
      return BJ_EXIT_USAGE;
    }
  if (max_message_size < BJ_KERNEL_MIN_MAX_MESSAGE_SIZE)
    {
      g_printerr (_("--max-message-size takes a number of bytes, %d or more\n"),
                  (int) BJ_KERNEL_MIN_MAX_MESSAGE_SIZE);
      return BJ_EXIT_USAGE;
    }
  if (dbus && (install || install_blender))
    {
      g_printerr (_("--dbus does not go with --install or --install-blender\n"));
      return BJ_EXIT_USAGE;
    }
  if (install)
    return install_kernelspec (argv[0], user, prefix);
  if (install_blender)
    return install_blender_kernelspec (blender, user, prefix);

  return run_kernel (connection_file, dbus,
                     idle_timeout == -1 ? DEFAULT_IDLE_TIMEOUT : (guint) idle_timeout,
                     max_message_size, parent_pid);
}
