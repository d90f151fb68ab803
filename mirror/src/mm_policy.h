/*
 * mm_policy.h - replication policies (MM2's DefaultReplicationPolicy and
 * IdentityReplicationPolicy: remote topic names, the source alias a name
 * carries, internal topics, cycles) and the provenance header that stops
 * loops even when names do not change.  docs/MIRROR.md ("Replication
 * policy", "Cycle detection").
 */
#ifndef MM_POLICY_H
#define MM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "mm_config.h"

/* Header on every mirrored record: the cluster aliases the record was copied
 * from, oldest first, comma-separated ("A", then "A,B" after B->C). */
#define MM_PATH_HEADER "seglog.mirror.path"
#define MM_HEARTBEATS_TOPIC "heartbeats"

typedef struct mm_policy {
  bool identity;
  char sep[16];
} mm_policy;

void mm_policy_init(mm_policy *p, const mm_config *c);

/* The name of source topic `topic` of cluster `src` on the target.  Returns
 * 0, or -1 when out is too small. */
int mm_policy_remote_topic(const mm_policy *p, const char *src, const char *topic,
                           char *out, size_t cap);
/* The alias a topic name says it came from, copied into out ("" for none). */
void mm_policy_topic_source(const mm_policy *p, const char *topic, char *out, size_t cap);
/* Kafka's, Connect's and MM2's internal topics (never mirrored). */
bool mm_policy_is_internal(const mm_policy *p, const char *topic);
/* "heartbeats" or a remote name of it ("A.heartbeats", "B.A.heartbeats"). */
bool mm_policy_is_heartbeats(const mm_policy *p, const char *topic);
/* True when the name says the topic came (maybe through others) from `alias`. */
bool mm_policy_is_cycle(const mm_policy *p, const char *topic, const char *alias);
/* Names of the internal topics. */
void mm_policy_offset_syncs_topic(const mm_policy *p, const char *alias, char *out,
                                  size_t cap);
void mm_policy_checkpoints_topic(const mm_policy *p, const char *alias, char *out,
                                 size_t cap);

/* Whether flow f (src -> dst aliases) mirrors `topic`: not internal, not a
 * cycle back to dst, and heartbeats or matching topics minus topics.exclude. */
bool mm_policy_topic_wanted(const mm_policy *p, const mm_flow_cfg *f, const char *src,
                            const char *dst, const char *topic);

/* Whether a path header value [v, v+n) lists `alias`. */
bool mm_path_has(const char *v, size_t n, const char *alias);

#endif
