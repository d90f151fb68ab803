/*
 * topics.h - the topics and partitions this broker leads, found at start in
 * the log directories: every `<topic>-<partition>` directory (Kafka's layout)
 * is a partition led by this node, with replicas and ISR = [this node].  The
 * topic id comes from the partition's `partition.metadata`, the leader epoch
 * from the last entry of its `leader-epoch-checkpoint` (docs/BROKER.md,
 * "Topics").
 *
 * Seam: partitions will hold an open sl_log (log.h) for produce and fetch, and
 * their high watermark / log end offset, when libseglog's log API lands.
 */
#ifndef SD_TOPICS_H
#define SD_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datadir.h"

typedef struct sd_partition {
  int32_t index;
  int32_t leader_epoch;
  char *dir; /* the partition directory */
} sd_partition;

typedef struct sd_topic {
  char *name;
  uint8_t id[16];      /* all zero when unknown */
  bool internal;       /* __consumer_offsets, __transaction_state */
  sd_partition *parts; /* sorted by index */
  int n_parts;
} sd_topic;

typedef struct sd_topics {
  sd_topic *topics; /* sorted by name */
  int n;
} sd_topics;

/* Scans every log directory.  Returns 0 or -1 with err naming the path. */
int sd_topics_scan(sd_topics *t, const sd_datadirs *dirs, char *err, size_t errcap);
void sd_topics_release(sd_topics *t);
/* The topic named name (len bytes), or NULL. */
const sd_topic *sd_topics_find(const sd_topics *t, const char *name, size_t len);
const sd_topic *sd_topics_find_id(const sd_topics *t, const uint8_t id[16]);
/* Kafka's topic name rule: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
bool sd_topic_name_valid(const char *name, size_t len);
/* Total bytes of the files in a partition directory. */
int64_t sd_partition_size(const sd_partition *p);

#endif
