/* bpy-jupyter-ctl: control bpy-jupyter kernels on the session bus
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpyjupyter.h>

#include "bj-tool-exit.h"
#include "bj-tool-i18n.h"

#define CALL_TIMEOUT_MS 25000
#define LIST_TIMEOUT_MS 5000

typedef struct {
  GDBusConnection *bus;
  char *instance;       /* a bus name, or NULL for the shared one */
  gboolean json;
} Ctl;

/* A kernel found on the bus. */
typedef struct {
  char *name;           /* org.bpyjupyter.Kernel.Instance<pid> */
  char *unique_name;
  gboolean primary;     /* owns org.bpyjupyter.Kernel */
  GVariant *properties; /* a{sv} */
} Kernel;

static void
kernel_free (Kernel *kernel)
{
  g_free (kernel->name);
  g_free (kernel->unique_name);
  g_clear_pointer (&kernel->properties, g_variant_unref);
  g_free (kernel);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Kernel, kernel_free)

static const char *
property_string (Kernel     *kernel,
                 const char *name)
{
  const char *value = NULL;

  if (!g_variant_lookup (kernel->properties, name, "&s", &value))
    return "";
  return value;
}

static guint64
property_uint (Kernel     *kernel,
               const char *name)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (kernel->properties, name, NULL);

  if (value == NULL)
    return 0;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_variant_get_uint64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (value);
  return 0;
}

static gboolean
kernel_is_running (Kernel *kernel)
{
  const char *state = property_string (kernel, "State");

  return g_str_equal (state, "idle") || g_str_equal (state, "busy");
}

static int
error_exit_status (const GError *error)
{
  if (error->domain == BJ_ERROR)
    {
      switch (error->code)
        {
        case BJ_ERROR_ALREADY_RUNNING:
        case BJ_ERROR_NOT_RUNNING:
        case BJ_ERROR_BUSY:
        case BJ_ERROR_NOT_BUSY:
          return BJ_EXIT_WRONG_STATE;
        default:
          return BJ_EXIT_FAILED;
        }
    }
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    return BJ_EXIT_NO_KERNEL;
  return BJ_EXIT_FAILED;
}

/* Prints the service's own message, without GDBus's "GDBus.Error:…:" prefix. */
static int
report_error (Ctl        *ctl,
              const char *name,
              GError     *error)
{
  int status = error_exit_status (error);

  g_dbus_error_strip_remote_error (error);
  if (status == BJ_EXIT_NO_KERNEL)
    g_printerr (_("No bpy-jupyter kernel on the session bus as %s (%s)\n"), name, error->message);
  else
    g_printerr ("%s\n", error->message);
  return status;
}

static const char *
target_name (Ctl *ctl)
{
  return ctl->instance ? ctl->instance : BJ_DBUS_NAME;
}

/* NAME, Instance<pid> or <pid>; NULL with a message when it is no bus name. */
static char *
resolve_instance (const char *instance)
{
  g_autofree char *name = NULL;
  const char *p;

  for (p = instance; g_ascii_isdigit (*p); p++)
    ;
  if (*instance != '\0' && *p == '\0')
    name = g_strconcat (BJ_DBUS_INSTANCE_PREFIX, instance, NULL);
  else if (g_str_has_prefix (instance, "Instance"))
    name = g_strconcat (BJ_DBUS_NAME ".", instance, NULL);
  else
    name = g_strdup (instance);

  if (!g_dbus_is_name (name))
    {
      g_printerr (_("“%s” is not a kernel’s bus name, Instance<pid> or pid\n"), instance);
      return NULL;
    }
  return g_steal_pointer (&name);
}

static GVariant *
get_properties (Ctl         *ctl,
                const char  *name,
                gint         timeout_ms,
                GError     **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *properties = NULL;

  /* Looking never starts a service: only `start` does. */
  reply = g_dbus_connection_call_sync (ctl->bus, name, BJ_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       g_variant_new ("(s)", BJ_DBUS_INTERFACE),
                                       G_VARIANT_TYPE ("(a{sv})"),
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       timeout_ms, NULL, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(@a{sv})", &properties);
  return properties;
}

static char *
get_name_owner (Ctl        *ctl,
                const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  char *owner = NULL;

  reply = g_dbus_connection_call_sync (ctl->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetNameOwner",
                                       g_variant_new ("(s)", name), G_VARIANT_TYPE ("(s)"),
                                       G_DBUS_CALL_FLAGS_NONE, LIST_TIMEOUT_MS, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

static Kernel *
kernel_lookup (Ctl         *ctl,
               const char  *name,
               const char  *primary_owner,
               GError     **error)
{
  g_autoptr(Kernel) kernel = g_new0 (Kernel, 1);

  kernel->properties = get_properties (ctl, name, LIST_TIMEOUT_MS, error);
  if (kernel->properties == NULL)
    return NULL;
  kernel->name = g_strdup_printf (BJ_DBUS_INSTANCE_PREFIX "%u", (guint) property_uint (kernel, "Pid"));
  kernel->unique_name = get_name_owner (ctl, name);
  kernel->primary = primary_owner != NULL && g_strcmp0 (kernel->unique_name, primary_owner) == 0;
  return g_steal_pointer (&kernel);
}

static gint
compare_kernels (gconstpointer a,
                 gconstpointer b)
{
  Kernel *ka = *(Kernel **) a;
  Kernel *kb = *(Kernel **) b;
  guint64 pa = property_uint (ka, "Pid");
  guint64 pb = property_uint (kb, "Pid");

  return pa < pb ? -1 : pa > pb;
}

/* Every org.bpyjupyter.Kernel.Instance* on the bus that answers. */
static GPtrArray *
list_kernels (Ctl     *ctl,
              GError **error)
{
  g_autoptr(GPtrArray) kernels = g_ptr_array_new_with_free_func ((GDestroyNotify) kernel_free);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  g_autofree char *primary_owner = NULL;
  const char *name;

  reply = g_dbus_connection_call_sync (ctl->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ListNames", NULL,
                                       G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE,
                                       LIST_TIMEOUT_MS, NULL, error);
  if (reply == NULL)
    return NULL;

  primary_owner = get_name_owner (ctl, BJ_DBUS_NAME);
  g_variant_get (reply, "(as)", &iter);
  while (g_variant_iter_loop (iter, "&s", &name))
    {
      g_autoptr(GError) local_error = NULL;
      Kernel *kernel;

      if (!g_str_has_prefix (name, BJ_DBUS_INSTANCE_PREFIX))
        continue;
      kernel = kernel_lookup (ctl, name, primary_owner, &local_error);
      if (kernel != NULL)
        g_ptr_array_add (kernels, kernel);
      /* One that left meanwhile is simply gone; anything else is worth a word. */
      else if (error_exit_status (local_error) != BJ_EXIT_NO_KERNEL)
        {
          g_dbus_error_strip_remote_error (local_error);
          g_printerr (_("Skipping %s: %s\n"), name, local_error->message);
        }
    }
  g_ptr_array_sort (kernels, compare_kernels);
  return g_steal_pointer (&kernels);
}

/* The columns text takes on a terminal: printf's "%-*s" pads by bytes, which
 * misaligns translated labels (Japanese ones, say). */
static guint
text_width (const char *text)
{
  guint width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_iszerowidth (c))
        width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

static char *
pad_to_width (const char *text,
              guint       width)
{
  GString *padded = g_string_new (text);

  for (guint used = text_width (text); used < width; used++)
    g_string_append_c (padded, ' ');
  return g_string_free (padded, FALSE);
}

/* "Label:  value" lines, the values lined up after the widest label. */
static void
print_fields (const char * const *fields)
{
  guint width = 0;

  for (guint i = 0; fields[i] != NULL; i += 2)
    width = MAX (width, text_width (fields[i]));
  for (guint i = 0; fields[i] != NULL; i += 2)
    {
      g_autofree char *label = pad_to_width (fields[i], width);

      g_print ("%s  %s\n", label, fields[i + 1]);
    }
}

static JsonNode *
kernel_to_json (Kernel *kernel)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GVariant) info = g_variant_lookup_value (kernel->properties, "ConnectionInfo",
                                                     G_VARIANT_TYPE_VARDICT);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, kernel->name);
  json_builder_set_member_name (builder, "unique_name");
  json_builder_add_string_value (builder, kernel->unique_name ? kernel->unique_name : "");
  json_builder_set_member_name (builder, "primary");
  json_builder_add_boolean_value (builder, kernel->primary);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, property_string (kernel, "State"));
  json_builder_set_member_name (builder, "host");
  json_builder_add_string_value (builder, property_string (kernel, "Host"));
  json_builder_set_member_name (builder, "host_document");
  json_builder_add_string_value (builder, property_string (kernel, "HostDocument"));
  json_builder_set_member_name (builder, "pid");
  json_builder_add_int_value (builder, (gint64) property_uint (kernel, "Pid"));
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, property_string (kernel, "Version"));
  json_builder_set_member_name (builder, "execution_count");
  json_builder_add_int_value (builder, (gint64) property_uint (kernel, "ExecutionCount"));
  json_builder_set_member_name (builder, "connection_file");
  json_builder_add_string_value (builder, property_string (kernel, "ConnectionFile"));
  json_builder_set_member_name (builder, "connection_info");
  if (info != NULL)
    json_builder_add_value (builder, json_gvariant_serialize (info));
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static int
command_list (Ctl         *ctl,
              const char  *method,
              char       **args)
{
  g_autoptr(GPtrArray) kernels = NULL;
  g_autoptr(GError) error = NULL;

  kernels = list_kernels (ctl, &error);
  if (kernels == NULL)
    return report_error (ctl, "org.freedesktop.DBus", error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      g_autoptr(JsonArray) array = json_array_new ();

      for (guint i = 0; i < kernels->len; i++)
        json_array_add_element (array, kernel_to_json (g_ptr_array_index (kernels, i)));
      json_node_set_array (root, array);
      print_json (root);
      return BJ_EXIT_OK;
    }

  if (kernels->len == 0)
    {
      g_print (_("No bpy-jupyter kernel on the session bus.\n"));
      return BJ_EXIT_OK;
    }

  {
    /* TRANSLATORS: column heading of `bpy-jupyter-ctl list` */
    g_autofree char *instance_heading = pad_to_width (_("INSTANCE"), 38);
    /* TRANSLATORS: column heading of `bpy-jupyter-ctl list` */
    g_autofree char *state_heading = pad_to_width (_("STATE"), 9);
    /* TRANSLATORS: column heading of `bpy-jupyter-ctl list` */
    g_autofree char *host_heading = pad_to_width (_("HOST"), 26);

    /* TRANSLATORS: column heading of `bpy-jupyter-ctl list` */
    g_print ("%s %s %s %s\n", instance_heading, state_heading, host_heading, _("DOCUMENT"));
  }
  for (guint i = 0; i < kernels->len; i++)
    {
      Kernel *kernel = g_ptr_array_index (kernels, i);
      g_autofree char *name = g_strconcat (kernel->name, kernel->primary ? "*" : "", NULL);
      const char *document = property_string (kernel, "HostDocument");

      g_print ("%-38s %-9s %-26s %s\n", name, property_string (kernel, "State"),
               property_string (kernel, "Host"), *document ? document : "-");
    }
  /* TRANSLATORS: footnote of `bpy-jupyter-ctl list`: the instance marked * */
  g_print (_("* answers as %s\n"), BJ_DBUS_NAME);
  return BJ_EXIT_OK;
}

static int
command_status (Ctl         *ctl,
                const char  *method,
                char       **args)
{
  g_autoptr(Kernel) kernel = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *primary_owner = get_name_owner (ctl, BJ_DBUS_NAME);
  const char *file;
  const char *document;

  kernel = kernel_lookup (ctl, target_name (ctl), primary_owner, &error);
  if (kernel == NULL)
    return report_error (ctl, target_name (ctl), error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = kernel_to_json (kernel);
      print_json (root);
      return BJ_EXIT_OK;
    }

  file = property_string (kernel, "ConnectionFile");
  document = property_string (kernel, "HostDocument");
  {
    g_autofree char *pid = g_strdup_printf ("%" G_GUINT64_FORMAT, property_uint (kernel, "Pid"));
    g_autofree char *executions = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                   property_uint (kernel, "ExecutionCount"));
    g_autofree char *command = *file ? bj_console_command_for_file (file) : g_strdup ("");
    const char *fields[24];
    guint n = 0;

#define FIELD(label, value) (fields[n++] = (label), fields[n++] = (value))
    FIELD (_("Instance:"), kernel->name);
    if (kernel->primary)
      FIELD (_("Answers as:"), BJ_DBUS_NAME);
    FIELD (_("State:"), property_string (kernel, "State"));
    FIELD (_("Host:"), property_string (kernel, "Host"));
    FIELD (_("Document:"), *document ? document : "-");
    FIELD (_("Pid:"), pid);
    FIELD (_("Version:"), property_string (kernel, "Version"));
    FIELD (_("Executions:"), executions);
    if (*file != '\0')
      {
        FIELD (_("Connection file:"), file);
        FIELD (_("Connect with:"), command);
      }
#undef FIELD
    fields[n] = NULL;
    print_fields (fields);
  }
  return BJ_EXIT_OK;
}

static int
command_call (Ctl         *ctl,
              const char  *method,
              char       **args)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  gboolean start = g_str_equal (method, "Start");

  /* Only start may bring up a service by D-Bus activation. */
  reply = g_dbus_connection_call_sync (ctl->bus, target_name (ctl), BJ_DBUS_PATH,
                                       BJ_DBUS_INTERFACE, method, NULL,
                                       start ? G_VARIANT_TYPE ("(s)") : G_VARIANT_TYPE_UNIT,
                                       start ? G_DBUS_CALL_FLAGS_NONE : G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       CALL_TIMEOUT_MS, NULL, &error);
  if (reply == NULL)
    return report_error (ctl, target_name (ctl), error);
  if (start)
    {
      const char *file;

      g_variant_get (reply, "(&s)", &file);
      g_print ("%s\n", file);
    }
  return BJ_EXIT_OK;
}

static int
command_connect (Ctl         *ctl,
                 const char  *method,
                 char       **console_args)
{
  g_autoptr(Kernel) named = NULL;
  g_autoptr(GPtrArray) kernels = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) error = NULL;
  Kernel *kernel = NULL;

  if (ctl->instance != NULL)
    {
      named = kernel_lookup (ctl, ctl->instance, NULL, &error);
      if (named == NULL)
        return report_error (ctl, ctl->instance, error);
      if (!kernel_is_running (named))
        {
          /* TRANSLATORS: a bus name, then a state as D-Bus spells it (stopped, starting, stopping) */
          g_printerr (_("The kernel %s is %s: start it first with “bpy-jupyter-ctl start --instance %s”\n"),
                      named->name, property_string (named, "State"), named->name);
          return BJ_EXIT_WRONG_STATE;
        }
      kernel = named;
    }
  else
    {
      guint n_running = 0;

      kernels = list_kernels (ctl, &error);
      if (kernels == NULL)
        return report_error (ctl, "org.freedesktop.DBus", error);
      if (kernels->len == 0)
        {
          g_printerr (_("No bpy-jupyter kernel on the session bus\n"));
          return BJ_EXIT_NO_KERNEL;
        }
      for (guint i = 0; i < kernels->len; i++)
        if (kernel_is_running (g_ptr_array_index (kernels, i)))
          {
            kernel = g_ptr_array_index (kernels, i);
            n_running++;
          }
      if (n_running == 0)
        {
          g_printerr (_("No kernel on the session bus is running: start one with “bpy-jupyter-ctl start”\n"));
          return BJ_EXIT_WRONG_STATE;
        }
      if (n_running > 1)
        {
          g_printerr (_("Several kernels are running; choose one with --instance:\n"));
          for (guint i = 0; i < kernels->len; i++)
            {
              Kernel *candidate = g_ptr_array_index (kernels, i);

              if (kernel_is_running (candidate))
                g_printerr ("  %s  %s  %s\n", candidate->name, property_string (candidate, "Host"),
                            property_string (candidate, "HostDocument"));
            }
          return BJ_EXIT_AMBIGUOUS;
        }
    }

  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) "jupyter");
  g_ptr_array_add (argv, (char *) "console");
  g_ptr_array_add (argv, (char *) "--existing");
  g_ptr_array_add (argv, (char *) property_string (kernel, "ConnectionFile"));
  for (guint i = 0; console_args != NULL && console_args[i] != NULL; i++)
    g_ptr_array_add (argv, console_args[i]);
  g_ptr_array_add (argv, NULL);

  fflush (stdout);
  fflush (stderr);
  execvp ("jupyter", (char **) argv->pdata);
  g_printerr (_("Cannot run “jupyter console”: %s (Debian: apt-get install jupyter-console)\n"),
              g_strerror (errno));
  return BJ_EXIT_FAILED;
}

/* Every command, what it accepts and what runs it; the D-Bus methods Start, Stop,
 * Restart and Interrupt are one call each. */
typedef struct {
  const char *name;
  int (*run) (Ctl *ctl, const char *method, char **args);
  const char *method;
  gboolean passes_arguments;  /* the words after it go on (to jupyter console) */
  gboolean prints_json;       /* --json applies */
  gboolean takes_instance;    /* --instance applies */
} CtlCommand;

static const CtlCommand commands[] = {
  { "list", command_list, NULL, FALSE, TRUE, FALSE },
  { "status", command_status, NULL, FALSE, TRUE, TRUE },
  { "start", command_call, "Start", FALSE, FALSE, TRUE },
  { "stop", command_call, "Stop", FALSE, FALSE, TRUE },
  { "restart", command_call, "Restart", FALSE, FALSE, TRUE },
  { "interrupt", command_call, "Interrupt", FALSE, FALSE, TRUE },
  { "connect", command_connect, NULL, TRUE, FALSE, TRUE },
};

static const CtlCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *instance = NULL;
  g_auto(GStrv) rest = NULL;
  gboolean json = FALSE;
  gboolean version = FALSE;
  Ctl ctl = { 0, };
  const CtlCommand *command;
  int status;
  const GOptionEntry entries[] = {
    { "instance", 'i', 0, G_OPTION_ARG_STRING, &instance,
      N_("The kernel to act on: a bus name, Instance<pid> or a pid"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("With list and status: print JSON"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, N_("COMMAND") },
    { NULL }
  };

  bj_tool_init_i18n ();

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    _("Control the bpy-jupyter kernels on the session bus: Blender with the\n"
      "bpy-jupyter add-on, and bpy-jupyter-kernel --dbus services."));
  g_option_context_set_description (context,
    /* TRANSLATORS: keep command names, options and exit statuses; line the descriptions up */
    _("Commands:\n"
      "  list        List the kernels on the session bus (* answers as org.bpyjupyter.Kernel)\n"
      "  status      Show a kernel’s state, host, document and connection file\n"
      "  start       Start a kernel and print its connection file; with no kernel on\n"
      "              the bus, D-Bus activation starts bpy-jupyter-kernel --dbus\n"
      "  stop        Stop a kernel\n"
      "  restart     Restart a kernel on the same ports with the same key\n"
      "  interrupt   Interrupt the cell a kernel runs\n"
      "  connect     Run “jupyter console --existing FILE” on a running kernel;\n"
      "              arguments after “--” go to jupyter console\n"
      "\n"
      "Exit status:\n"
      "  0  success\n"
      "  1  the kernel or the bus reported an error (printed)\n"
      "  2  usage error\n"
      "  3  the kernel refused in its current state: already running, not running,\n"
      "     busy (stop or restart while a cell runs), not busy (interrupt while idle)\n"
      "  4  no such kernel on the session bus\n"
      "  5  several kernels are running: choose one with --instance\n"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n%s\n", error->message, _("Run with --help to see the commands."));
      return BJ_EXIT_USAGE;
    }

  if (version)
    {
      g_print ("bpy-jupyter-ctl %s\n", BJ_VERSION);
      return BJ_EXIT_OK;
    }
  if (rest == NULL || rest[0] == NULL)
    {
      g_printerr (_("No command given.\n%s\n"), _("Run with --help to see the commands."));
      return BJ_EXIT_USAGE;
    }
  command = find_command (rest[0]);
  if (command == NULL)
    {
      g_printerr (_("Unknown command “%s”.\n%s\n"), rest[0], _("Run with --help to see the commands."));
      return BJ_EXIT_USAGE;
    }
  if (!command->passes_arguments && rest[1] != NULL)
    {
      g_printerr (_("Unexpected argument “%s”.\n%s\n"), rest[1], _("Run with --help to see the commands."));
      return BJ_EXIT_USAGE;
    }
  if (json && !command->prints_json)
    {
      g_printerr (_("--json only goes with list and status\n"));
      return BJ_EXIT_USAGE;
    }
  if (instance != NULL && !command->takes_instance)
    {
      g_printerr (_("--instance does not go with list\n"));
      return BJ_EXIT_USAGE;
    }

  if (instance != NULL)
    {
      ctl.instance = resolve_instance (instance);
      if (ctl.instance == NULL)
        return BJ_EXIT_USAGE;
    }
  ctl.json = json;

  /* Registers org.bpyjupyter.Kernel.Error.* so the service's errors come back as
   * BJ_ERROR codes. */
  (void) bj_error_quark ();

  ctl.bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (ctl.bus == NULL)
    {
      g_printerr (_("Cannot connect to the session bus: %s\n"), error->message);
      g_free (ctl.instance);
      return BJ_EXIT_FAILED;
    }

  status = command->run (&ctl, command->method, rest + 1);

  g_clear_object (&ctl.bus);
  g_free (ctl.instance);
  return status;
}
