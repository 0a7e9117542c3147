/* bj-usage.c: usage_reply, the resources a kernel and its host use
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "bj-usage-private.h"
#include "bj-wire-private.h"

struct _BjUsage {
  /* The previous request's readings: CPU use is a rate since then. */
  gboolean have_previous;
  gint64 previous_time_us;
  guint64 previous_process_ticks;   /* this process and its descendants */
  guint64 previous_host_total;
  guint64 previous_host_idle;
};

BjUsage *
bj_usage_new (void)
{
  return g_new0 (BjUsage, 1);
}

void
bj_usage_free (BjUsage *self)
{
  g_free (self);
}

/* /proc/PID/stat: the fields after the command (which may hold spaces and
 * parentheses, hence the last ')'), field 4 being the first of them. */
static gboolean
read_stat_fields (int      pid,
                  GStrv   *out_fields)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  const char *end;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  end = strrchr (text, ')');
  if (end == NULL)
    return FALSE;
  *out_fields = g_strsplit_set (g_strstrip ((char *) end + 1), " ", -1);
  return g_strv_length (*out_fields) > 13;
}

typedef struct {
  int pid;
  int ppid;
  guint64 ticks;                    /* utime + stime */
} ProcessStat;

/* This process and every process below it, as psutil's children(recursive=True),
 * with the CPU ticks they used added up in *out_ticks: one read of each
 * /proc/PID/stat serves both. */
static GArray *
process_tree (guint64 *out_ticks)
{
  GArray *tree = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (ProcessStat));
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  int self = getpid ();

  *out_ticks = 0;
  g_array_append_val (tree, self);
  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_auto(GStrv) fields = NULL;
      guint64 pid;
      ProcessStat stat;

      if (!g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &pid, NULL) ||
          !read_stat_fields ((int) pid, &fields))
        continue;
      stat.pid = (int) pid;
      stat.ppid = atoi (fields[1]);  /* field 4 */
      /* utime and stime, fields 14 and 15 */
      stat.ticks = g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
      g_array_append_val (all, stat);
      if (stat.pid == self)
        *out_ticks += stat.ticks;
    }
  /* Breadth first: each round adds the children of what the tree holds. */
  for (guint i = 0; i < tree->len; i++)
    for (guint j = 0; j < all->len; j++)
      {
        const ProcessStat *stat = &g_array_index (all, ProcessStat, j);

        if (stat->ppid == g_array_index (tree, int, i) && stat->pid != self)
          {
            g_array_append_val (tree, stat->pid);
            *out_ticks += stat->ticks;
          }
      }
  return tree;
}

/* Proportional set size in bytes (shared pages split among their users, as psutil's
 * memory_full_info().pss), or the resident size where smaps_rollup is missing. */
static guint64
process_memory (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/smaps_rollup", pid);
  g_autofree char *text = NULL;
  const char *pss;

  if (g_file_get_contents (path, &text, NULL, NULL) && (pss = strstr (text, "\nPss:")) != NULL)
    return g_ascii_strtoull (pss + 5, NULL, 10) * 1024;

  g_free (path);
  g_clear_pointer (&text, g_free);
  path = g_strdup_printf ("/proc/%d/statm", pid);
  if (g_file_get_contents (path, &text, NULL, NULL))
    {
      g_auto(GStrv) fields = g_strsplit (text, " ", 3);
      if (g_strv_length (fields) >= 2)
        return g_ascii_strtoull (fields[1], NULL, 10) * (guint64) sysconf (_SC_PAGESIZE);
    }
  return 0;
}

/* The first line of /proc/stat: all time, and idle time (idle + iowait), in ticks. */
static gboolean
host_ticks (guint64 *total,
            guint64 *idle)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL) || !g_str_has_prefix (text, "cpu "))
    return FALSE;
  *strchr (text, '\n') = '\0';
  fields = g_strsplit_set (text + 4, " ", -1);
  *total = *idle = 0;
  for (guint i = 0, n = 0; fields[i] != NULL; i++)
    {
      guint64 value;

      if (*fields[i] == '\0')
        continue;
      value = g_ascii_strtoull (fields[i], NULL, 10);
      /* guest and guest_nice (the 9th and 10th) are already in user and nice */
      if (n < 8)
        *total += value;
      if (n == 3 || n == 4)
        *idle += value;
      n++;
    }
  return *total > 0;
}

static guint64
meminfo_bytes (const char *text,
               const char *key)
{
  g_autofree char *needle = g_strconcat ("\n", key, ":", NULL);
  const char *at = g_str_has_prefix (text, needle + 1) ? text - 1 : strstr (text, needle);

  return at == NULL ? 0 : g_ascii_strtoull (at + strlen (needle), NULL, 10) * 1024;
}

/* psutil.virtual_memory() on Linux, field by field and in its order. */
static void
append_virtual_memory (GString *json)
{
  g_autofree char *text = NULL;
  guint64 total, available, free_, buffers, cached, shared, active, inactive, slab;
  gint64 used;
  char percent[G_ASCII_DTOSTR_BUF_SIZE];

  if (!g_file_get_contents ("/proc/meminfo", &text, NULL, NULL))
    {
      g_string_append (json, "{}");
      return;
    }
  total = meminfo_bytes (text, "MemTotal");
  free_ = meminfo_bytes (text, "MemFree");
  available = meminfo_bytes (text, "MemAvailable");
  buffers = meminfo_bytes (text, "Buffers");
  cached = meminfo_bytes (text, "Cached") + meminfo_bytes (text, "SReclaimable");
  shared = meminfo_bytes (text, "Shmem");
  active = meminfo_bytes (text, "Active");
  inactive = meminfo_bytes (text, "Inactive");
  slab = meminfo_bytes (text, "Slab");
  used = (gint64) total - (gint64) free_ - (gint64) cached - (gint64) buffers;
  if (used < 0)
    used = (gint64) total - (gint64) free_;
  g_ascii_formatd (percent, sizeof percent, "%.1f",
                   total > 0 ? 100.0 * (double) (total - MIN (available, total)) / (double) total : 0.0);
  g_string_append_printf (json,
                          "{\"total\":%" G_GUINT64_FORMAT ",\"available\":%" G_GUINT64_FORMAT
                          ",\"percent\":%s,\"used\":%" G_GINT64_FORMAT ",\"free\":%" G_GUINT64_FORMAT
                          ",\"active\":%" G_GUINT64_FORMAT ",\"inactive\":%" G_GUINT64_FORMAT
                          ",\"buffers\":%" G_GUINT64_FORMAT ",\"cached\":%" G_GUINT64_FORMAT
                          ",\"shared\":%" G_GUINT64_FORMAT ",\"slab\":%" G_GUINT64_FORMAT "}",
                          total, available, percent, used, free_, active, inactive, buffers,
                          cached, shared, slab);
}

GBytes *
bj_usage_reply_content (BjUsage *self)
{
  guint64 process_total = 0, memory = 0, host_total = 0, host_idle = 0;
  g_autoptr(GArray) tree = process_tree (&process_total);
  GString *json = g_string_new ("{\"hostname\":");
  gint64 now = g_get_monotonic_time ();
  double ticks_per_second = (double) sysconf (_SC_CLK_TCK);
  gboolean have_host = host_ticks (&host_total, &host_idle);
  double kernel_cpu = 0.0;
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < tree->len; i++)
    memory += process_memory (g_array_index (tree, int, i));

  bj_json_append_escaped (json, g_get_host_name (), strlen (g_get_host_name ()));
  g_string_append_printf (json, ",\"pid\":%d,\"cpu_count\":%ld", (int) getpid (),
                          sysconf (_SC_NPROCESSORS_ONLN));

  /* As psutil's cpu_percent(None): 0.0 the first time, then the share of one CPU
   * used since the previous request (above 100 with several busy threads). A
   * child that exited in between takes its ticks along: never below zero. */
  if (self->have_previous && now > self->previous_time_us && ticks_per_second > 0 &&
      process_total > self->previous_process_ticks)
    kernel_cpu = 100.0 * (double) (process_total - self->previous_process_ticks) / ticks_per_second
                 / ((double) (now - self->previous_time_us) / G_USEC_PER_SEC);
  g_ascii_formatd (number, sizeof number, "%.1f", kernel_cpu);
  g_string_append_printf (json, ",\"kernel_cpu\":%s,\"kernel_memory\":%" G_GUINT64_FORMAT,
                          number, memory);

  /* ipykernel leaves host_cpu_percent out while psutil has nothing to compare with. */
  if (self->have_previous && have_host && host_total > self->previous_host_total)
    {
      double busy = 100.0 * (1.0 - (double) (host_idle - MIN (host_idle, self->previous_host_idle))
                                   / (double) (host_total - self->previous_host_total));
      if (busy > 0.0)
        {
          g_ascii_formatd (number, sizeof number, "%.1f", CLAMP (busy, 0.0, 100.0));
          g_string_append_printf (json, ",\"host_cpu_percent\":%s", number);
        }
    }

  g_string_append (json, ",\"host_virtual_memory\":");
  append_virtual_memory (json);
  g_string_append_c (json, '}');

  self->have_previous = TRUE;
  self->previous_time_us = now;
  self->previous_process_ticks = process_total;
  if (have_host)
    {
      self->previous_host_total = host_total;
      self->previous_host_idle = host_idle;
    }
  return g_string_free_to_bytes (json);
}
