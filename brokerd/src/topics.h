/*
 * topics.h - the topics and partitions this broker leads: every partition
 * opened by the log directories (seglog/logdir.h) is led by this node, with
 * replicas and ISR = [this node].  Each topic has a topic id (from
 * partition.metadata; one is generated and written for a topic without it),
 * each partition a leader epoch (the latest in its leader-epoch cache, 0 for
 * a new log) and its sl_log.  Topics are created here too (auto-creation,
 * later CreateTopics).  docs/BROKER.md, "Topics".
 */
#ifndef SD_TOPICS_H
#define SD_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datadir.h"
#include "seglog/log.h"
#include "topicconf.h"
#include "seglog/meta.h"

typedef struct sd_partition {
  int32_t index;
  int32_t leader_epoch;
  sl_log *log; /* borrowed from its sl_logdir */
  int dir;     /* index into sd_datadirs */
} sd_partition;

typedef struct sd_topic {
  char *name;
  sl_uuid id;
  bool internal;       /* __consumer_offsets, __transaction_state */
  sd_partition *parts; /* sorted by index */
  int n_parts;
  sd_topicconf conf;     /* the topic's config overrides (topicconf.h) */
  sl_log_config log_cfg; /* effective: the broker's defaults + conf */
  char compression[16];  /* effective compression.type */
  int32_t min_isr;       /* effective min.insync.replicas */
  /* Effective message.timestamp.before/after.max.ms (INT64_MAX: no limit). */
  int64_t ts_before_ms, ts_after_ms;
} sd_topic;

typedef struct sd_topics {
  sd_topic *topics; /* sorted by name; pointers into it change when a topic is added */
  int n;
  int64_t conf_generation; /* of the last seglog-topic-configs.properties written */
} sd_topics;

/* Builds the registry from the opened log directories. */
int sd_topics_load(sd_topics *t, sd_datadirs *dirs, char *err, size_t errcap);
void sd_topics_release(sd_topics *t);
/*
 * Creates topic `name` with `partitions` partitions (spread over the log
 * directories) and a new topic id.  *out (may be NULL) is the new topic,
 * valid until the next topic is added.  Returns 0 or an SL_E* code with err.
 */
int sd_topics_create(sd_topics *t, sd_datadirs *dirs, const char *name, size_t len,
                     int32_t partitions, const sd_topic **out, char *err, size_t errcap);
/*
 * The same with config overrides (NULL or empty = none; build them with
 * sd_topicconf_set, which validates each key and value).  The overrides are
 * checked together (SL_EINVAL with Kafka's message in err: answer
 * INVALID_CONFIG), stored durably in every log directory before any partition
 * is created (SL_EIO if that fails), and every partition opens with them.
 * __consumer_offsets is created this way with cleanup.policy=compact.
 */
int sd_topics_create_with_config(sd_topics *t, sd_datadirs *dirs, const char *name,
                                 size_t len, int32_t partitions, const sd_topicconf *conf,
                                 const sd_topic **out, char *err, size_t errcap);
/*
 * Replaces the whole override set of topic `name` (AlterConfigs semantics;
 * IncrementalAlterConfigs builds the new set from sd_topic.conf first).
 * SL_ENOT_FOUND if unknown, SL_EINVAL (err: Kafka's message) if the set does
 * not validate, SL_EIO if it cannot be stored.  With validate_only nothing
 * changes.  Otherwise the set is written durably (atomic rename, fsync) and
 * then applied to every open partition at once (sl_log_set_config) and to
 * partitions created later.
 */
int sd_topics_set_config(sd_topics *t, sd_datadirs *dirs, const char *name, size_t len,
                         const sd_topicconf *conf, bool validate_only, char *err,
                         size_t errcap);
/*
 * Deletes every partition of topic `name` as Kafka does (sl_logdir_delete_partition:
 * rename to -delete, checkpoints rewritten, files removed) and drops it from
 * the registry.  SL_ENOT_FOUND if unknown; on another error err says which
 * partition failed (those already deleted stay deleted).
 */
int sd_topics_delete(sd_topics *t, sd_datadirs *dirs, const char *name, size_t len,
                     char *err, size_t errcap);
/*
 * Grows topic `name` to `count` partitions (new ones get the topic's id).
 * SL_ENOT_FOUND if unknown, SL_EINVAL if count is not larger; on a failure
 * the partitions made so far are kept (they are valid partitions).
 */
int sd_topics_add_partitions(sd_topics *t, sd_datadirs *dirs, const char *name,
                             size_t len, int32_t count, char *err, size_t errcap);
const sd_topic *sd_topics_find(const sd_topics *t, const char *name, size_t len);
const sd_topic *sd_topics_find_id(const sd_topics *t, const uint8_t id[16]);
const sd_partition *sd_topic_partition(const sd_topic *t, int32_t index);
bool sd_topic_name_valid(const char *name, size_t len);

#endif
