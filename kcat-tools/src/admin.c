/*
 * admin.c - the offline maintenance and inspection commands: `seglog verify`
 * (sl_log_verify over partition dirs; --repair reopens the partition as a
 * writer with recovery from offset 0, which truncates a torn or corrupt tail
 * and rebuilds indexes, after printing what it will remove), `seglog compact`
 * (sl_cleaner_clean_dir with the log dir lock held), `seglog topics
 * list|describe` and `seglog offsets` (read-only opens).  docs/CLI.md.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"
#include "seglog/cleaner.h"
#include "seglog/logdir.h"
#include "seglog/log.h"
#include "seglog/meta.h"
#include "slclient/format.h"

/* ---- verify ---- */

typedef struct verify_ctx {
  int64_t problems;
  int64_t first_bad_pos;
  char first_bad_file[4096];
} verify_ctx;

static const char *verify_kind_name(sl_verify_kind k) {
  switch (k) {
  case SL_VERIFY_CRC:
    return "crc";
  case SL_VERIFY_BAD_LENGTH:
    return "bad-length";
  case SL_VERIFY_TRUNCATED:
    return "truncated";
  case SL_VERIFY_OFFSETS:
    return "offsets";
  case SL_VERIFY_INDEX_ENTRY:
    return "index";
  case SL_VERIFY_TIME_INDEX:
    return "time-index";
  case SL_VERIFY_INDEX_FILE:
    return "index-file";
  case SL_VERIFY_TXN_INDEX:
    return "txn-index";
  case SL_VERIFY_SEGMENT_OVERLAP:
    return "overlap";
  }
  return "problem";
}

static int verify_cb(void *ctx, const sl_verify_problem *p) {
  verify_ctx *v = ctx;
  cli_out_printf("%s: at byte %" PRId64 ": %s: %s", p->file, p->position,
                 verify_kind_name(p->kind), p->message);
  if (p->offset >= 0)
    cli_out_printf(" [offset %" PRId64 "]", p->offset);
  cli_out_str("\n");
  if (v->problems == 0 && (p->kind == SL_VERIFY_CRC || p->kind == SL_VERIFY_BAD_LENGTH ||
                           p->kind == SL_VERIFY_TRUNCATED)) {
    v->first_bad_pos = p->position;
    snprintf(v->first_bad_file, sizeof(v->first_bad_file), "%s", p->file);
  }
  v->problems++;
  return 0;
}

static bool is_partition_dir(const char *path) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  sl_pdir_name pn;
  if (sl_pdir_name_parse(b, &pn, NULL) == 0 && pn.kind == SL_PDIR_NORMAL)
    return true;
  /* Any dir holding .log files counts too. */
  DIR *d = opendir(path);
  bool found = false;
  if (!d)
    return false;
  struct dirent *de;
  while (!found && (de = readdir(d)) != NULL) {
    size_t n = strlen(de->d_name);
    found = n > 4 && strcmp(de->d_name + n - 4, ".log") == 0;
  }
  closedir(d);
  return found;
}

static int repair_partition(const char *dir, const verify_ctx *v) {
  struct stat st;
  if (v->first_bad_file[0] && stat(v->first_bad_file, &st) == 0)
    cli_err("repair %s: will truncate %s at byte %" PRId64 " (removing %" PRId64
            " bytes) and delete any later segments; indexes are rebuilt",
            dir, v->first_bad_file, v->first_bad_pos,
            (int64_t)st.st_size - v->first_bad_pos);
  else
    cli_err("repair %s: rebuilding indexes (recovery from offset 0)", dir);
  sl_log_open_opts oo;
  sl_log_open_opts_init(&oo);
  oo.recovery_point = 0;
  oo.clean_shutdown = false;
  sl_log *log = NULL;
  sl_diag diag;
  sl_diag_clear(&diag);
  int rc = sl_log_open(dir, NULL, 0, &oo, &log, &diag);
  if (rc == SL_ELOCKED) {
    cli_err_diag(dir, rc, &diag);
    cli_err("the log directory is in use by another writer (seglogd?); nothing repaired");
    return CLI_LOCKED;
  }
  if (rc) {
    cli_err_diag(dir, rc, &diag);
    return CLI_ERROR;
  }
  sl_log_load_report r;
  sl_log_load_report_get(log, &r);
  cli_err("repaired %s: %d segments recovered, %" PRId64 " bytes truncated%s%s, %d later "
          "segments deleted",
          dir, (int)r.segments_recovered, r.bytes_truncated,
          r.first_bad_file[0] ? " in " : "", r.first_bad_file, (int)r.segments_deleted);
  rc = sl_log_close(log, &diag);
  if (rc) {
    cli_err_diag("close", rc, &diag);
    return CLI_ERROR;
  }
  return CLI_OK;
}

/* Every segment needs its .index and .timeindex (Kafka rebuilds missing ones
 * at load, but their absence means something deleted files). */
static void check_index_files(const char *dir, verify_ctx *v) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t n = strlen(de->d_name);
    if (n != 24 || strcmp(de->d_name + 20, ".log") != 0)
      continue;
    static const char *const sfx[] = {".index", ".timeindex"};
    for (int k = 0; k < 2; k++) {
      char path[4096];
      struct stat st;
      int len = snprintf(path, sizeof(path), "%s/%.20s%s", dir, de->d_name, sfx[k]);
      if (len < 0 || (size_t)len >= sizeof(path) || stat(path, &st) == 0)
        continue;
      cli_out_printf("%s: at byte 0: missing: the segment has no %s file (--repair "
                     "rebuilds it)\n",
                     path, sfx[k]);
      v->problems++;
    }
  }
  closedir(d);
}

static int verify_partition(const char *dir, bool repair, int64_t *total) {
  verify_ctx v;
  memset(&v, 0, sizeof(v));
  v.first_bad_pos = -1;
  sl_diag diag;
  sl_diag_clear(&diag);
  int rc = sl_log_verify(dir, verify_cb, &v, NULL, &diag);
  if (rc) {
    cli_out_flush();
    cli_err_diag(dir, rc, &diag);
    return CLI_ERROR;
  }
  check_index_files(dir, &v);
  *total += v.problems;
  if (cli_out_flush() == CLI_PIPE_CLOSED)
    return CLI_PIPE_CLOSED;
  if (repair && v.problems > 0)
    return repair_partition(dir, &v);
  return CLI_OK;
}

int cmd_verify(int argc, char **argv) {
  bool repair = false;
  static const struct option longopts[] = {{"repair", no_argument, NULL, 'r'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (opt == 'r')
      repair = true;
    else
      return cli_usage_error("bad option");
  }
  if (optind >= argc)
    return cli_usage_error("no PATH given");
  int rc = CLI_OK;
  int64_t problems = 0;
  for (int i = optind; i < argc; i++) {
    const char *path = argv[i];
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
      cli_err("%s: not a partition or log directory", path);
      rc = CLI_ERROR;
      continue;
    }
    if (is_partition_dir(path)) {
      int r = verify_partition(path, repair, &problems);
      if (r)
        rc = r;
      continue;
    }
    cli_partition *parts = NULL;
    size_t n = 0;
    if (cli_list_partitions(path, NULL, &parts, &n)) {
      cli_err("%s: cannot list", path);
      rc = CLI_ERROR;
      continue;
    }
    for (size_t k = 0; k < n; k++) {
      char dir[4096];
      if (cli_partition_dir(path, parts[k].topic, parts[k].partition, dir, sizeof(dir)))
        continue;
      int r = verify_partition(dir, repair, &problems);
      if (r)
        rc = r;
    }
    free(parts);
  }
  if (rc == CLI_OK && problems > 0 && !repair)
    rc = CLI_PROBLEMS;
  if (problems == 0 && rc == CLI_OK && isatty(STDERR_FILENO))
    cli_err("no problems found");
  return rc;
}

/* ---- compact ---- */

static int compact_one(const char *logdir, const char *topic, int32_t p, bool force,
                       bool roll, sl_dir_lock *lock) {
  char dir[4096];
  if (cli_partition_dir(logdir, topic, p, dir, sizeof(dir)))
    return CLI_ERROR;
  if (roll) {
    /* Kafka never cleans the active segment: roll so all data is cleanable. */
    sl_log_open_opts oo;
    sl_log_open_opts_init(&oo);
    oo.lock = lock;
    sl_log *log = NULL;
    sl_diag d2;
    sl_diag_clear(&d2);
    int rrc = sl_log_open(dir, NULL, 0, &oo, &log, &d2);
    if (rrc == 0)
      rrc = sl_log_roll(log, 0, &d2);
    int crc = sl_log_close(log, rrc ? NULL : &d2);
    if (rrc == 0)
      rrc = crc;
    if (rrc) {
      cli_err_diag(dir, rrc, &d2);
      return CLI_ERROR;
    }
  }
  sl_cleaner_opts o;
  sl_cleaner_opts_init(&o);
  o.force = force;
  sl_cleaner_stats st;
  sl_diag diag;
  sl_diag_clear(&diag);
  if (isatty(STDERR_FILENO))
    fprintf(stderr, "compacting %s-%d ...\r", topic, (int)p);
  int rc = sl_cleaner_clean_dir(dir, &o, &st, &diag);
  if (isatty(STDERR_FILENO))
    fprintf(stderr, "%*s\r", 40, "");
  if (rc) {
    cli_err_diag(dir, rc, &diag);
    return CLI_ERROR;
  }
  if (!st.cleaned) {
    cli_out_printf(
        "%s-%d: nothing to clean (cleanable ratio %.2f, first dirty offset %" PRId64
        ", first uncleanable %" PRId64 ")\n",
        topic, (int)p, st.plan.cleanable_ratio, st.plan.first_dirty_offset,
        st.plan.first_uncleanable_offset);
    return CLI_OK;
  }
  char b1[32], b2[32];
  cli_human_bytes(st.bytes_before, b1, sizeof(b1));
  cli_human_bytes(st.bytes_after, b2, sizeof(b2));
  cli_out_printf(
      "%s-%d: %d segments -> %d, %" PRId64 " bytes (%s) -> %" PRId64
      " bytes (%s), %" PRId64 " records -> %" PRId64 ", %" PRId64 " keys, %" PRId64
      " tombstones dropped, cleaned up to offset %" PRId64 " in %.3f s\n",
      topic, (int)p, (int)st.segments_before, (int)st.segments_after, st.bytes_before, b1,
      st.bytes_after, b2, st.records_before, st.records_after, st.map_entries,
      st.tombstones_dropped, st.end_offset, (double)st.duration_us / 1e6);
  return CLI_OK;
}

int cmd_compact(int argc, char **argv) {
  cli_opts co;
  cli_opts_init(&co);
  bool force = true, roll = false;
  static const struct option longopts[] = {{"respect-ratio", no_argument, NULL, 'r'},
                                           {"roll", no_argument, NULL, 'R'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:t:p:", longopts, NULL)) != -1) {
    switch (opt) {
    case 'r':
      force = false;
      break;
    case 'R':
      roll = true;
      break;
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if (!co.dir || !co.topic)
    return cli_usage_error("-d DIR and -t TOPIC are required");
  cli_partition *parts = NULL;
  size_t n = 0;
  if (cli_list_partitions(co.dir, co.topic, &parts, &n) || n == 0) {
    cli_err("%s: no topic '%s'", co.dir, co.topic);
    free(parts);
    return CLI_ERROR;
  }
  sl_dir_lock *lock = NULL;
  sl_diag diag;
  sl_diag_clear(&diag);
  int rc = sl_dir_lock_acquire(co.dir, &lock, &diag);
  if (rc) {
    cli_err_diag(co.dir, rc, &diag);
    if (rc == SL_ELOCKED)
      cli_err(
          "the log directory is in use by another writer (seglogd?); nothing changed");
    free(parts);
    return rc == SL_ELOCKED ? CLI_LOCKED : CLI_ERROR;
  }
  rc = CLI_OK;
  bool any = false;
  for (size_t i = 0; i < n && rc == CLI_OK; i++) {
    if (co.partition >= 0 && parts[i].partition != co.partition)
      continue;
    any = true;
    rc = compact_one(co.dir, co.topic, parts[i].partition, force, roll, lock);
  }
  if (!any) {
    cli_err("%s: no partition %s-%lld", co.dir, co.topic, (long long)co.partition);
    rc = CLI_ERROR;
  }
  sl_dir_lock_release(lock);
  free(parts);
  return rc;
}

/* ---- topics ---- */

/* topics create|delete: offline through sl_logdir (writer lock), or -b. */
static int topics_manage(int argc, char **argv, bool create) {
  const char *configs[64];
  int nconfigs = 0;
  cli_opts co;
  cli_opts_init(&co);
  int64_t partitions = 1, replication = -1;
  static const struct option longopts[] = {
      {"partitions", required_argument, NULL, 'P'},
      {"replication-factor", required_argument, NULL, 'R'},
      {"config", required_argument, NULL, 'C'},
      {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:t:b:X:", longopts, NULL)) != -1) {
    switch (opt) {
    case 'P':
      if (cli_parse_i64(optarg, 1, 100000, &partitions))
        return cli_usage_error("bad --partitions '%s'", optarg);
      break;
    case 'R':
      if (cli_parse_i64(optarg, 1, 32767, &replication))
        return cli_usage_error("bad --replication-factor '%s'", optarg);
      break;
    case 'C':
      if (nconfigs == 64)
        return cli_usage_error("too many --config");
      configs[nconfigs++] = optarg;
      break;
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if ((!co.dir && !co.brokers) || !co.topic)
    return cli_usage_error("-d DIR (or -b BROKERS) and -t TOPIC are required");
  if (!sl_topic_name_is_valid(co.topic))
    return cli_usage_error("'%s' is not a valid topic name", co.topic);
  if (co.brokers) {
    net_conf nc = {co.brokers, co.props, co.nprops};
    return create ? net_topic_create(&nc, co.topic, (int32_t)partitions,
                                     (int32_t)replication, configs, nconfigs)
                  : net_topic_delete(&nc, co.topic);
  }
  if (nconfigs > 0)
    return cli_usage_error(
        "--config needs -b: a log directory does not store topic configs");
  sl_logdir *ld = NULL;
  sl_logdir_opts lo;
  sl_logdir_opts_init(&lo);
  lo.create = create;
  sl_diag diag;
  sl_diag_clear(&diag);
  int rc = sl_logdir_open(co.dir, &lo, &ld, &diag);
  if (rc) {
    cli_err_diag(co.dir, rc, &diag);
    if (rc == SL_ELOCKED)
      cli_err(
          "the log directory is in use by another writer (seglogd?); nothing changed");
    return rc == SL_ELOCKED ? CLI_LOCKED : CLI_ERROR;
  }
  int status = CLI_OK;
  if (create) {
    for (size_t i = 0; i < sl_logdir_count(ld); i++) {
      const char *t;
      int32_t p;
      sl_log *log;
      if (sl_logdir_at(ld, i, &t, &p, &log) && strcmp(t, co.topic) == 0) {
        cli_err("%s: topic '%s' already exists", co.dir, co.topic);
        status = CLI_ERROR;
        break;
      }
    }
    sl_uuid id;
    if (status == CLI_OK && sl_uuid_random(&id, &diag) != 0)
      status = CLI_ERROR;
    for (int32_t p = 0; status == CLI_OK && p < (int32_t)partitions; p++) {
      rc = sl_logdir_create_partition(ld, co.topic, p, NULL, &id, NULL, &diag);
      if (rc) {
        cli_err_diag("create", rc, &diag);
        status = CLI_ERROR;
      }
    }
    if (status == CLI_OK)
      cli_out_printf("created %s with %lld partition%s\n", co.topic,
                     (long long)partitions, partitions == 1 ? "" : "s");
  } else {
    int32_t deleted = 0;
    for (int32_t p = 0; status == CLI_OK && p <= INT32_MAX - 1; p++) {
      if (!sl_logdir_get(ld, co.topic, p)) {
        bool more = false;
        for (size_t i = 0; i < sl_logdir_count(ld); i++) {
          const char *t;
          int32_t q;
          sl_log *log;
          if (sl_logdir_at(ld, i, &t, &q, &log) && strcmp(t, co.topic) == 0)
            more = true;
        }
        if (!more)
          break;
        continue;
      }
      rc = sl_logdir_delete_partition(ld, co.topic, p, &diag);
      if (rc) {
        cli_err_diag("delete", rc, &diag);
        status = CLI_ERROR;
      }
      deleted++;
    }
    if (status == CLI_OK && deleted == 0) {
      cli_err("%s: no topic '%s'", co.dir, co.topic);
      status = CLI_ERROR;
    } else if (status == CLI_OK) {
      cli_out_printf("deleted %s (%d partition%s)\n", co.topic, (int)deleted,
                     deleted == 1 ? "" : "s");
    }
  }
  rc = sl_logdir_close(ld, &diag);
  if (rc && status == CLI_OK) {
    cli_err_diag("close", rc, &diag);
    status = CLI_ERROR;
  }
  return status;
}

int cmd_topics(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("topics wants list, describe, create, delete or alter");
  const char *sub = argv[1];
  bool describe = strcmp(sub, "describe") == 0;
  if (strcmp(sub, "create") == 0 || strcmp(sub, "delete") == 0)
    return topics_manage(argc - 1, argv + 1, strcmp(sub, "create") == 0);
  if (!describe && strcmp(sub, "list") != 0) {
    if (strcmp(sub, "alter") == 0)
      return cmd_topics_alter(argc - 1, argv + 1);
    return cli_usage_error("unknown topics subcommand '%s'", sub);
  }
  cli_opts co;
  cli_opts_init(&co);
  int opt;
  optind = 1;
  while ((opt = getopt(argc - 1, argv + 1, "d:t:b:X:")) != -1) {
    switch (opt) {
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if (co.brokers) {
    net_conf nc = {co.brokers, co.props, co.nprops};
    return net_topics(&nc, co.topic, describe);
  }
  if (!co.dir)
    return cli_usage_error("-d DIR (or -b BROKERS) is required");
  cli_partition *parts = NULL;
  size_t n = 0;
  int lrc = cli_list_partitions(co.dir, co.topic, &parts, &n);
  if (lrc) {
    cli_err("%s: %s", co.dir,
            lrc == SL_ENOT_FOUND ? "no such log directory" : sl_strerror(lrc));
    return CLI_ERROR;
  }
  if (co.topic && n == 0) {
    cli_err("%s: no topic '%s'", co.dir, co.topic);
    free(parts);
    return CLI_ERROR;
  }
  int rc = CLI_OK;
  if (!describe) {
    for (size_t i = 0; i < n; i++) {
      if (i > 0 && strcmp(parts[i].topic, parts[i - 1].topic) == 0)
        continue;
      size_t count = 0;
      for (size_t k = i; k < n && strcmp(parts[k].topic, parts[i].topic) == 0; k++)
        count++;
      cli_out_printf("%s\t%zu partition%s\n", parts[i].topic, count,
                     count == 1 ? "" : "s");
    }
    free(parts);
    return CLI_OK;
  }
  cli_out_printf("%-24s %9s %12s %12s %9s %14s %-24s %-24s\n", "TOPIC", "PARTITION",
                 "START", "END", "SEGMENTS", "SIZE", "FIRST-TIMESTAMP", "LAST-TIMESTAMP");
  for (size_t i = 0; i < n && rc == CLI_OK; i++) {
    sl_log *log = NULL;
    sl_diag diag;
    sl_diag_clear(&diag);
    int orc = cli_open_readonly(co.dir, parts[i].topic, parts[i].partition, &log, &diag);
    if (orc) {
      cli_out_flush();
      cli_err_diag("open", orc, &diag);
      rc = CLI_ERROR;
      break;
    }
    size_t nseg = sl_log_segments(log, NULL, 0);
    sl_log_segment_info *segs = nseg ? calloc(nseg, sizeof(*segs)) : NULL;
    int64_t last_ts = -1;
    if (segs) {
      nseg = sl_log_segments(log, segs, nseg);
      for (size_t k = 0; k < nseg; k++)
        if (segs[k].size_bytes > 0 && segs[k].largest_timestamp > last_ts)
          last_ts = segs[k].largest_timestamp;
    }
    int64_t first_ts = cli_first_timestamp(log);
    if (sl_log_end_offset(log) == sl_log_start_offset(log))
      last_ts = -1;
    sl_buf t1 = SL_BUF_INIT, t2 = SL_BUF_INIT;
    if (first_ts >= 0)
      sc_format_iso_time(first_ts, &t1);
    else
      sl_buf_append(&t1, "-", 1);
    if (last_ts >= 0)
      sc_format_iso_time(last_ts, &t2);
    else
      sl_buf_append(&t2, "-", 1);
    sl_buf_u8(&t1, 0);
    sl_buf_u8(&t2, 0);
    cli_out_printf("%-24s %9d %12" PRId64 " %12" PRId64 " %9zu %14" PRId64
                   " %-24s %-24s\n",
                   parts[i].topic, (int)parts[i].partition, sl_log_start_offset(log),
                   sl_log_end_offset(log), nseg, sl_log_size_bytes(log),
                   t1.data ? (char *)t1.data : "-", t2.data ? (char *)t2.data : "-");
    sl_buf_release(&t1);
    sl_buf_release(&t2);
    free(segs);
    sl_log_close(log, NULL);
    rc = cli_out_maybe_flush();
  }
  free(parts);
  return rc;
}

/* ---- offsets ---- */

int cmd_offsets(int argc, char **argv) {
  const char *time_s = NULL;
  cli_opts co;
  cli_opts_init(&co);
  static const struct option longopts[] = {{"time", required_argument, NULL, 'T'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:t:p:b:X:", longopts, NULL)) != -1) {
    switch (opt) {
    case 'T':
      time_s = optarg;
      break;
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if ((!co.dir && !co.brokers) || !co.topic)
    return cli_usage_error("-d DIR (or -b BROKERS) and -t TOPIC are required");
  int64_t ts = 0;
  if (time_s) {
    if (strcmp(time_s, "earliest") == 0)
      ts = SL_LIST_EARLIEST;
    else if (strcmp(time_s, "latest") == 0)
      ts = SL_LIST_LATEST;
    else if (strcmp(time_s, "max") == 0 || strcmp(time_s, "max-timestamp") == 0)
      ts = SL_LIST_MAX_TIMESTAMP;
    else if (cli_parse_time(time_s, &ts) || ts < 0)
      return cli_usage_error("bad --time '%s'", time_s);
    if (co.brokers && ts == SL_LIST_MAX_TIMESTAMP)
      return cli_usage_error("--time max is offline only");
  }
  if (co.brokers) {
    net_conf nc = {co.brokers, co.props, co.nprops};
    return net_offsets(&nc, co.topic, co.partition, time_s != NULL, ts);
  }
  cli_partition *parts = NULL;
  size_t n = 0;
  if (cli_list_partitions(co.dir, co.topic, &parts, &n) || n == 0) {
    cli_err("%s: no topic '%s'", co.dir, co.topic);
    free(parts);
    return CLI_ERROR;
  }
  int rc = CLI_OK;
  bool any = false;
  if (!time_s)
    cli_out_printf("%-24s %9s %12s %12s\n", "TOPIC", "PARTITION", "EARLIEST", "LATEST");
  for (size_t i = 0; i < n && rc == CLI_OK; i++) {
    if (co.partition >= 0 && parts[i].partition != co.partition)
      continue;
    any = true;
    sl_log *log = NULL;
    sl_diag diag;
    sl_diag_clear(&diag);
    int orc = cli_open_readonly(co.dir, co.topic, parts[i].partition, &log, &diag);
    if (orc) {
      cli_err_diag("open", orc, &diag);
      rc = CLI_ERROR;
      break;
    }
    if (!time_s) {
      cli_out_printf("%-24s %9d %12" PRId64 " %12" PRId64 "\n", co.topic,
                     (int)parts[i].partition, sl_log_start_offset(log),
                     sl_log_end_offset(log));
    } else {
      int64_t off = -1, found_ts = -1;
      int frc = sl_log_find_offset_by_time(log, ts, &off, &found_ts, &diag);
      if (frc && frc != SL_ENOT_FOUND) {
        cli_err_diag("offset for time", frc, &diag);
        rc = CLI_ERROR;
      } else {
        cli_out_printf("%s:%d:%" PRId64 "\n", co.topic, (int)parts[i].partition,
                       frc ? -1 : off);
      }
    }
    sl_log_close(log, NULL);
  }
  if (!any) {
    cli_err("%s: no partition %s-%lld", co.dir, co.topic, (long long)co.partition);
    rc = CLI_ERROR;
  }
  free(parts);
  return rc;
}

/* ---- mock-cluster ---- */

int cmd_mock_cluster(int argc, char **argv) {
  int64_t brokers = 1;
  const char *topics[64];
  int ntopics = 0;
  static const struct option longopts[] = {{"brokers", required_argument, NULL, 'n'},
                                           {"topic", required_argument, NULL, 't'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (opt == 't' && ntopics < 64) {
      topics[ntopics++] = optarg;
      continue;
    }
    if (opt != 'n' || cli_parse_i64(optarg, 1, 16, &brokers))
      return cli_usage_error("bad option");
  }
  return net_mock_cluster((int)brokers, topics, ntopics);
}

/* ---- perf ---- */

int cmd_perf(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "produce") != 0 && strcmp(argv[1], "consume") != 0))
    return cli_usage_error("perf wants produce or consume");
  bool produce = strcmp(argv[1], "produce") == 0;
  cli_opts co;
  cli_opts_init(&co);
  int64_t n = -1, size = 100, throughput = -1;
  static const struct option longopts[] = {
      {"num-records", required_argument, NULL, 'n'},
      {"messages", required_argument, NULL, 'n'},
      {"record-size", required_argument, NULL, 's'},
      {"throughput", required_argument, NULL, 'T'},
      {"topic", required_argument, NULL, 't'},
      {"bootstrap-server", required_argument, NULL, 'b'},
      {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc - 1, argv + 1, "b:t:X:", longopts, NULL)) != -1) {
    switch (opt) {
    case 'n':
      if (cli_parse_i64(optarg, 1, 1000000000, &n))
        return cli_usage_error("bad --num-records '%s'", optarg);
      break;
    case 's':
      if (cli_parse_i64(optarg, 0, 100 << 20, &size))
        return cli_usage_error("bad --record-size '%s'", optarg);
      break;
    case 'T':
      if (cli_parse_i64(optarg, -1, INT64_MAX, &throughput))
        return cli_usage_error("bad --throughput '%s'", optarg);
      break;
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if (!co.brokers || !co.topic || n < 0)
    return cli_usage_error("-b BROKERS, -t TOPIC and --num-records N are required");
  net_conf nc = {co.brokers, co.props, co.nprops};
  return produce ? net_perf_produce(&nc, co.topic, n, (int32_t)size, throughput)
                 : net_perf_consume(&nc, co.topic, n);
}
