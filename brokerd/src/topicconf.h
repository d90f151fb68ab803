/*
 * topicconf.h - per-topic configuration in seglogd: Kafka's topic-level
 * config keys (cleanup.policy, retention.ms, compression.type, ...) with
 * Kafka's types, validation and error wording, their defaults taken from the
 * broker keys (log.retention.ms, compression.type, ...), the set of overrides
 * a topic carries, and their durable storage: one properties file per log
 * directory (`seglog-topic-configs.properties`), replaced atomically and
 * fsynced before a request that changed it is answered.
 * docs/BROKER.md, "Per-topic configs", describes keys, sources and the file.
 */
#ifndef SD_TOPICCONF_H
#define SD_TOPICCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "seglog/log.h"
#include "seglog/meta.h"

/* The file, in each log directory. */
#define SD_TOPICCONF_FILE "seglog-topic-configs.properties"

/* One override: a validated value, as given (trimmed). */
typedef struct sd_topicconf_entry {
  char *key;
  char *value;
} sd_topicconf_entry;

/* A topic's overrides, sorted by key, each key once.  Zeroed = empty. */
typedef struct sd_topicconf {
  sd_topicconf_entry *e;
  int n;
} sd_topicconf;

/* Why sd_topicconf_set failed (both are Kafka's INVALID_CONFIG). */
enum { SD_TC_OK = 0, SD_TC_UNKNOWN_KEY = -1, SD_TC_BAD_VALUE = -2, SD_TC_NOMEM = -3 };

/*
 * Validates `value` for topic key `key` and sets it (replacing an earlier
 * value).  Errors in Kafka's words: "Unknown topic config name: KEY",
 * "Invalid value V for configuration KEY: ...", "Null value not supported
 * for topic configs: KEY" (value NULL).
 */
int sd_topicconf_set(sd_topicconf *c, const char *key, const char *value, char *err,
                     size_t errcap);
/* Removes key (no-op if absent). */
void sd_topicconf_unset(sd_topicconf *c, const char *key);
/* The override of key, or NULL. */
const char *sd_topicconf_get(const sd_topicconf *c, const char *key);
int sd_topicconf_copy(sd_topicconf *dst, const sd_topicconf *src);
void sd_topicconf_release(sd_topicconf *c);
bool sd_topicconf_equal(const sd_topicconf *a, const sd_topicconf *b);

/* ---- the key table ---- */

typedef enum sd_tc_type {
  SD_TC_BOOLEAN = 1, /* DescribeConfigs ConfigType numbers */
  SD_TC_STRING = 2,
  SD_TC_INT = 3,
  SD_TC_LONG = 5,
  SD_TC_DOUBLE = 6,
  SD_TC_LIST = 7,
} sd_tc_type;

/* True if key is a topic-level config key we know. */
bool sd_topicconf_known(const char *key);
/* LIST keys (IncrementalAlterConfigs APPEND / SUBTRACT). */
bool sd_topicconf_is_list(const char *key);
int sd_topicconf_key_count(void);
/* The i-th key in name order; NULL past the end. */
const char *sd_topicconf_key_at(int i);
sd_tc_type sd_topicconf_key_type(const char *key);
/* Our one-line description (DescribeConfigs v3+ documentation). */
const char *sd_topicconf_key_doc(const char *key);

/*
 * The value every topic gets when it has no override (from the broker keys,
 * Kafka's topic default when no broker key maps).  *synonym (may be NULL) gets
 * the broker key the value comes from, or NULL, and *explicit_set whether that
 * key was set in the file / an override (STATIC_BROKER_CONFIG) or is the
 * default (DEFAULT_CONFIG).
 */
void sd_topicconf_default(const sd_config *bc, const sl_log_config *blog, const char *key,
                          char *out, size_t cap, const char **synonym,
                          bool *explicit_set);

/* DescribeConfigs ConfigSource values. */
enum { SD_SRC_DYNAMIC_TOPIC = 1, SD_SRC_STATIC_BROKER = 4, SD_SRC_DEFAULT = 5 };

/* One key of one topic as DescribeConfigs / CreateTopics v5+ show it. */
typedef struct sd_tc_view {
  const char *value;      /* effective: the override or dflt */
  int8_t source;          /* SD_SRC_* */
  const char *override;   /* the topic's override, or NULL */
  const char *broker_key; /* the broker synonym, or NULL */
  int8_t broker_source;   /* SD_SRC_STATIC_BROKER or SD_SRC_DEFAULT */
  char dflt[256];         /* the broker-level value */
} sd_tc_view;
/* conf may be NULL (no overrides).  Pointers are valid while conf is. */
void sd_topicconf_view(const sd_config *bc, const sl_log_config *blog,
                       const sd_topicconf *conf, const char *key, sd_tc_view *v);

/*
 * The effective log config of a topic: `base` (the broker's defaults) with
 * the overrides applied, then Kafka's cross-key checks (min.compaction.lag.ms
 * <= max.compaction.lag.ms) and sl_log_config_validate.  -1 with err.
 */
int sd_topicconf_apply(const sd_topicconf *c, const sl_log_config *base,
                       sl_log_config *out, char *err, size_t errcap);
/* The effective compression.type: the override, else broker_default. */
const char *sd_topicconf_compression(const sd_topicconf *c, const char *broker_default);

/* ---- storage ---- */

typedef struct sd_tcfile_topic {
  char *name;
  sl_uuid id; /* zero if unknown */
  sd_topicconf conf;
} sd_tcfile_topic;

typedef struct sd_tcfile {
  int64_t generation; /* grows with every write; the highest copy wins */
  sd_tcfile_topic *t;
  int n;
} sd_tcfile;

void sd_tcfile_release(sd_tcfile *f);
/* The topic's entry, or NULL. */
sd_tcfile_topic *sd_tcfile_find(sd_tcfile *f, const char *name);
/* Adds (or replaces) a topic's entry; conf is copied. */
int sd_tcfile_put(sd_tcfile *f, const char *name, const sl_uuid *id,
                  const sd_topicconf *conf);
/* Drops a topic's entry; false if it had none. */
bool sd_tcfile_remove(sd_tcfile *f, const char *name);

/*
 * Reads `<dir>/seglog-topic-configs.properties`: a missing file (or missing
 * dir) is an empty set of generation 0.  A value that no longer validates
 * fails the read (err names the file, topic and key).  -1 with err.
 */
int sd_tcfile_read(const char *dir, sd_tcfile *out, char *err, size_t errcap);
/* The same from text in memory; `label` names it in errors. */
int sd_tcfile_parse(const char *text, size_t len, const char *label, sd_tcfile *out,
                    char *err, size_t errcap);
/*
 * Writes f to `<dir>/seglog-topic-configs.properties` atomically and durably:
 * a `.tmp` file written and fsynced, renamed over the old one, the directory
 * fsynced.  A crash at any point leaves the old or the new file.  -1 with err.
 */
int sd_tcfile_write(const char *dir, const sd_tcfile *f, char *err, size_t errcap);
/* Reads every directory and keeps the copy with the highest generation. */
int sd_tcfile_read_all(char *const *dirs, int n, sd_tcfile *out, char *err,
                       size_t errcap);

#endif
