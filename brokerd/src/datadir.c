/*
 * datadir.c - opening and identifying seglogd's log directories through
 * seglog/logdir.h (see datadir.h; docs/BROKER.md, "Log directories").
 */
#include "datadir.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdlog.h"

static int fail(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(char *err, size_t cap, const char *fmt, ...) {
  if (cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int sd_log_config_from(const sd_config *c, sl_log_config *o, char *err, size_t errcap) {
  sl_log_config_init(o);
  o->segment_bytes = (int32_t)sd_cfg_i(c, SD_CFG_SEGMENT_BYTES);
  o->segment_ms = c->roll_ms;
  o->segment_index_bytes = (int32_t)sd_cfg_i(c, SD_CFG_INDEX_SIZE_MAX);
  o->index_interval_bytes = (int32_t)sd_cfg_i(c, SD_CFG_INDEX_INTERVAL);
  o->retention_ms = c->retention_ms;
  o->retention_bytes = sd_cfg_i(c, SD_CFG_RETENTION_BYTES);
  o->max_message_bytes = (int32_t)sd_cfg_i(c, SD_CFG_MESSAGE_MAX_BYTES);
  o->message_timestamp_type =
      strcmp(sd_cfg_s(c, SD_CFG_TIMESTAMP_TYPE), "LogAppendTime") == 0
          ? SL_TIMESTAMP_LOG_APPEND_TIME
          : SL_TIMESTAMP_CREATE_TIME;
  o->flush_messages = sd_cfg_i(c, SD_CFG_FLUSH_MESSAGES);
  o->flush_ms = c->flush_ms;
  o->preallocate = sd_cfg_b(c, SD_CFG_PREALLOCATE);
  o->file_delete_delay_ms = sd_cfg_i(c, SD_CFG_SEGMENT_DELETE_DELAY_MS);
  const char *policy = sd_cfg_s(c, SD_CFG_CLEANUP_POLICY);
  o->cleanup_policy = (strstr(policy, "delete") ? SL_CLEANUP_DELETE : 0) |
                      (strstr(policy, "compact") ? SL_CLEANUP_COMPACT : 0);
  o->delete_retention_ms = sd_cfg_i(c, SD_CFG_CLEANER_DELETE_RETENTION_MS);
  o->min_cleanable_dirty_ratio = sd_cfg_d(c, SD_CFG_CLEANER_MIN_RATIO);
  o->min_compaction_lag_ms = sd_cfg_i(c, SD_CFG_CLEANER_MIN_LAG_MS);
  o->max_compaction_lag_ms = sd_cfg_i(c, SD_CFG_CLEANER_MAX_LAG_MS);
  sl_diag diag;
  sl_diag_clear(&diag);
  if (sl_log_config_validate(o, &diag) != 0) {
    char buf[700];
    return fail(err, errcap, "log configuration: %s",
                sl_diag_format(&diag, buf, sizeof(buf)));
  }
  return 0;
}

/* sl_logdir_opts.topic_config: each log opens with its topic's stored overrides. */
static int topic_config_hook(void *ctx, const char *topic, sl_log_config *cfg) {
  sd_datadirs *d = ctx;
  sd_tcfile_topic *t = sd_tcfile_find(&d->tconf, topic);
  if (t == NULL || t->conf.n == 0)
    return 0;
  char err[512];
  if (sd_topicconf_apply(&t->conf, &d->log_cfg, cfg, err, sizeof(err)) != 0) {
    SD_ERROR("stored config of topic %s: %s", topic, err);
    return SL_EINVAL;
  }
  return 0;
}

int sd_datadirs_open(sd_datadirs *d, const sd_config *c, char *err, size_t errcap) {
  memset(d, 0, sizeof(*d));
  int32_t node_id = (int32_t)sd_cfg_i(c, SD_CFG_NODE_ID);
  bool missing[SD_MAX_LOG_DIRS] = {false};
  char dbuf[700];
  if (sd_log_config_from(c, &d->log_cfg, err, errcap) != 0)
    return -1;
  /* Rolled segments are fsync'd by the upkeep on the thread pool (upkeep.c),
   * not by the produce request that rolled them. */
  d->log_cfg.roll_flush_async = true;
  snprintf(d->compression_type, sizeof(d->compression_type), "%s",
           sd_cfg_s(c, SD_CFG_COMPRESSION_TYPE));
  d->min_isr = (int32_t)sd_cfg_i(c, SD_CFG_MIN_ISR);
  if (sd_tcfile_read_all(c->log_dirs, c->n_log_dirs, &d->tconf, dbuf, sizeof(dbuf)) !=
      0) {
    fail(err, errcap, "log.dirs: per-topic configs: %s", dbuf);
    return -1;
  }
  /* Cross-key checks too, so that a bad stored set stops the start here with
   * one line rather than failing a log's open. */
  for (int i = 0; i < d->tconf.n; i++) {
    sl_log_config lc;
    if (sd_topicconf_apply(&d->tconf.t[i].conf, &d->log_cfg, &lc, dbuf, sizeof(dbuf)) !=
        0) {
      fail(err, errcap, "log.dirs: per-topic configs (%s): topic %s: %s",
           SD_TOPICCONF_FILE, d->tconf.t[i].name, dbuf);
      sd_tcfile_release(&d->tconf);
      return -1;
    }
  }
  for (int i = 0; i < c->n_log_dirs; i++) {
    const char *dir = c->log_dirs[i];
    d->paths[i] = strdup(dir);
    d->n = i + 1;
    if (d->paths[i] == NULL) {
      fail(err, errcap, "out of memory");
      goto fail;
    }
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
      fail(err, errcap, "log.dirs: %s is not a directory", dir);
      goto fail;
    }
    sl_logdir_opts opts;
    sl_logdir_opts_init(&opts);
    opts.create = true;
    opts.default_config = &d->log_cfg;
    opts.topic_config = topic_config_hook;
    opts.topic_config_ctx = d;
    sl_diag diag;
    sl_diag_clear(&diag);
    int rc = sl_logdir_open(dir, &opts, &d->ld[i], &diag);
    if (rc != 0) {
      const char *what = sl_diag_format(&diag, dbuf, sizeof(dbuf));
      if (strstr(what, dir) != NULL)
        fail(err, errcap, "log.dirs: cannot open log directory: %s", what);
      else
        fail(err, errcap, "log.dirs: cannot open log directory %s: %s", dir, what);
      goto fail;
    }
    sl_logdir_report rep;
    sl_logdir_report_get(d->ld[i], &rep);
    const sl_meta_properties *m = sl_logdir_meta(d->ld[i]);
    /* A directory without meta.properties or partitions was never used: it
     * has no shutdown marker because nothing ever shut down. */
    const char *state = rep.clean_shutdown ? "clean shutdown"
                        : m == NULL && rep.partitions == 0
                            ? "new"
                            : "unclean (recovered) shutdown";
    SD_INFO("opened log directory %s: %d partitions, %s%s%s", dir, rep.partitions, state,
            rep.checkpoint_errors ? "; unreadable checkpoint: " : "",
            rep.checkpoint_errors ? rep.first_checkpoint_error : "");
    if (m == NULL) {
      missing[i] = true;
      continue;
    }
    if (m->has_node_id && m->node_id != node_id) {
      fail(err, errcap,
           "node.id: configured %d but %s/meta.properties belongs to node.id %d",
           (int)node_id, dir, (int)m->node_id);
      goto fail;
    }
    if (m->has_cluster_id) {
      if (d->cluster_id[0] != '\0' && strcmp(d->cluster_id, m->cluster_id) != 0) {
        fail(
            err, errcap,
            "log.dirs: %s/meta.properties has cluster.id %s but another directory has %s",
            dir, m->cluster_id, d->cluster_id);
        goto fail;
      }
      snprintf(d->cluster_id, sizeof(d->cluster_id), "%s", m->cluster_id);
    }
  }
  if (d->cluster_id[0] == '\0') {
    sl_uuid u;
    if (sl_uuid_random(&u, NULL) != 0) {
      fail(err, errcap, "no randomness for a cluster id");
      goto fail;
    }
    char s[SL_UUID_STR_LEN + 1];
    sl_uuid_to_string(&u, s);
    snprintf(d->cluster_id, sizeof(d->cluster_id), "%s", s);
    SD_INFO("generated cluster id %s", d->cluster_id);
  }
  for (int i = 0; i < d->n; i++) {
    if (!missing[i])
      continue;
    sl_meta_properties m;
    memset(&m, 0, sizeof(m));
    m.version = 1;
    m.has_node_id = true;
    m.node_id = node_id;
    m.has_cluster_id = true;
    snprintf(m.cluster_id, sizeof(m.cluster_id), "%s", d->cluster_id);
    m.has_directory_id = true;
    sl_diag diag;
    sl_diag_clear(&diag);
    if (sl_uuid_random(&m.directory_id, &diag) != 0 ||
        sl_logdir_set_meta(d->ld[i], &m, &diag) != 0) {
      fail(err, errcap, "log.dirs: cannot write %s/meta.properties: %s", d->paths[i],
           sl_diag_format(&diag, dbuf, sizeof(dbuf)));
      goto fail;
    }
  }
  return 0;
fail:
  for (int i = 0; i < d->n; i++) {
    sl_logdir_abandon(d->ld[i]);
    d->ld[i] = NULL;
    free(d->paths[i]);
    d->paths[i] = NULL;
  }
  d->n = 0;
  sd_tcfile_release(&d->tconf);
  return -1;
}

int sd_datadirs_close(sd_datadirs *d) {
  if (d == NULL)
    return 0;
  int status = 0;
  for (int i = 0; i < d->n; i++) {
    if (d->ld[i] != NULL) {
      sl_diag diag;
      sl_diag_clear(&diag);
      if (sl_logdir_close(d->ld[i], &diag) != 0) {
        char buf[700];
        SD_ERROR("log directory %s did not close cleanly: %s", d->paths[i],
                 sl_diag_format(&diag, buf, sizeof(buf)));
        status = -1;
      } else {
        SD_INFO("closed log directory %s cleanly", d->paths[i]);
      }
      d->ld[i] = NULL;
    }
    free(d->paths[i]);
    d->paths[i] = NULL;
  }
  d->n = 0;
  sd_tcfile_release(&d->tconf);
  return status;
}
