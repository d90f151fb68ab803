/*
 * mm_config.h - seglog-mirror's configuration: an mm2.properties-style file
 * (cluster aliases, per-flow `A->B.*` keys, topic/group regex filters, the
 * replication policy, intervals, client passthrough) parsed and checked at
 * start, so a bad key or value fails naming the key.  The key table and the
 * mapping to MirrorMaker 2's names are in docs/MIRROR.md ("Configuration").
 */
#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MM_ALIAS_MAX 64

/* One `key = value` pair (both owned by the config). */
typedef struct mm_kv {
  char *key;
  char *value;
} mm_kv;

typedef struct mm_cluster {
  char *alias;
  char *bootstrap; /* <alias>.bootstrap.servers */
  mm_kv *common;   /* <alias>.<librdkafka key>: every client of the cluster */
  size_t n_common;
  mm_kv *producer; /* <alias>.producer.<librdkafka key> */
  size_t n_producer;
  mm_kv *consumer; /* <alias>.consumer.<librdkafka key> */
  size_t n_consumer;
} mm_cluster;

/* A compiled MM2 regex list ("a, b.*"): full match of any element. */
typedef struct mm_filter {
  char *text; /* as configured */
  bool empty; /* an empty list matches nothing */
  regex_t re;
  bool compiled;
} mm_filter;

/* Settings that may be given globally or per flow (`A->B.<key>`). */
typedef struct mm_flow_cfg {
  size_t src, dst; /* indexes into mm_config.clusters */
  bool enabled;
  mm_filter topics, topics_exclude, groups, groups_exclude;
  int64_t refresh_topics_ms, refresh_groups_ms;
  int64_t heartbeats_ms, checkpoints_ms, sync_groups_ms;
  int64_t sync_configs_ms; /* sync.topic.configs.interval.seconds; -1 off */
  bool emit_heartbeats, emit_checkpoints, sync_group_offsets, sync_topic_configs;
  bool refresh_topics, refresh_groups;
  bool syncs_on_target; /* offset-syncs.topic.location = target */
  int64_t offset_lag_max;
  int64_t
      window; /* mirror.window.records: max source offsets past the last durable sync */
  int32_t replication_factor;
  char **config_exclude; /* config.properties.exclude names */
  size_t n_config_exclude;
} mm_flow_cfg;

typedef struct mm_config {
  mm_cluster *clusters;
  size_t n_clusters;
  mm_flow_cfg *flows; /* enabled flows only */
  size_t n_flows;
  bool identity_policy;   /* IdentityReplicationPolicy */
  char separator[16];     /* replication.policy.separator */
  char *metrics_listener; /* host:port or NULL */
} mm_config;

/*
 * Parses properties text [text, text+len) (Java .properties syntax: `=`, `:`
 * or space separators, `#`/`!` comments, backslash escapes and line
 * continuations).  On success *out is a new config (mm_config_free); on error
 * returns -1 and writes a one-line message naming the key into err.
 */
int mm_config_parse(const char *text, size_t len, mm_config **out, char *err,
                    size_t errcap);
/* Reads the file at path and parses it; errors name the file on I/O failure. */
int mm_config_load(const char *path, mm_config **out, char *err, size_t errcap);
void mm_config_free(mm_config *c); /* NULL ok */

/* Full match of s against the filter (false for an empty list). */
bool mm_filter_match(const mm_filter *f, const char *s);

/*
 * Translates one Java regex into POSIX ERE (docs/MIRROR.md "Regex
 * differences"): \d \w \s and their negations, \. and other escaped
 * punctuation, escapes inside brackets.  Returns 0, or -1 with a reason in err
 * for constructs POSIX cannot express ((?...) groups, lazy or possessive
 * quantifiers, \b, back references).
 */
int mm_regex_translate(const char *java, char *out, size_t outcap, char *err,
                       size_t errcap);

#endif
