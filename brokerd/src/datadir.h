/*
 * datadir.h - seglogd's log directories: each entry of log.dirs is opened
 * through libseglog's log-dir layer (seglog/logdir.h: lock, meta.properties,
 * root checkpoints, clean-shutdown marker, recovery of every partition), and
 * this file adds the broker's rules on top: the node.id in meta.properties
 * must be ours, every directory must carry the same cluster.id, and a
 * directory without meta.properties gets one (a cluster id generated once,
 * written to every such directory).  docs/BROKER.md, "Log directories".
 */
#ifndef SD_DATADIR_H
#define SD_DATADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "seglog/logdir.h"
#include "topicconf.h"

typedef struct sd_datadirs {
  int n;
  char *paths[SD_MAX_LOG_DIRS];
  sl_logdir *ld[SD_MAX_LOG_DIRS];
  char cluster_id[64];
  sl_log_config log_cfg;     /* the broker-wide defaults for every partition */
  char compression_type[16]; /* the broker's compression.type */
  int32_t min_isr;           /* the broker's min.insync.replicas */
  /* The stored per-topic configs read at open (the copy with the highest
   * generation); each log opens with its topic's overrides.  sd_topics_load
   * takes them over and empties this. */
  sd_tcfile tconf;
} sd_datadirs;

/* The log config the broker keys give (log.segment.bytes, log.retention.ms...). */
int sd_log_config_from(const sd_config *c, sl_log_config *out, char *err, size_t errcap);

/*
 * Opens every directory of c->log_dirs.  Returns 0, or -1 with err naming the
 * directory and what failed; on failure nothing stays open or locked.
 */
int sd_datadirs_open(sd_datadirs *d, const sd_config *c, char *err, size_t errcap);
/*
 * Clean close: every log flushed, checkpoints and the clean-shutdown marker
 * written (by sl_logdir_close).  Returns 0, or -1 if any directory failed to
 * close cleanly (logged).  d may be NULL or zeroed.
 */
int sd_datadirs_close(sd_datadirs *d);

#endif
