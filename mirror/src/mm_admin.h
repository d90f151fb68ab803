/*
 * mm_admin.h - seglog-mirror's synchronous admin helpers over librdkafka's
 * asynchronous Admin API: waiting for a result, request options, and topic
 * config sets (DescribeConfigs of many topics, AlterConfigs, comparison) for
 * creating remote topics with the source's configs and keeping them in step
 * (docs/MIRROR.md, "Target topics").
 */
#ifndef MM_ADMIN_H
#define MM_ADMIN_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#define MM_ADMIN_MS 15000 /* admin request timeout */

/* Waits (up to the admin timeout and a margin) for an event of `type` on q;
 * other events are dropped.  NULL on timeout; the caller destroys it. */
rd_kafka_event_t *mm_admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type);
/* Options for `op` with the admin request timeout (caller destroys). */
rd_kafka_AdminOptions_t *mm_admin_opts(rd_kafka_t *rk, rd_kafka_admin_op_t op);

/* A topic's configs: n name/value pairs in kv[2*i], kv[2*i+1] (owned). */
typedef struct mm_cfgset {
  char **kv;
  size_t n;
  bool ok; /* described without error */
} mm_cfgset;

void mm_cfgset_add(mm_cfgset *s, const char *name, const char *value);
/* The value of `name`, or NULL. */
const char *mm_cfgset_get(const mm_cfgset *s, const char *name);
/* Same names with the same values (order does not matter). */
bool mm_cfgset_equal(const mm_cfgset *a, const mm_cfgset *b);
/* "a=1,b=2" into buf (truncated to cap). */
void mm_cfgset_format(const mm_cfgset *s, char *buf, size_t cap);
void mm_cfgset_release(mm_cfgset *s); /* back to empty; NULL ok */

/*
 * DescribeConfigs of n topics on rk's cluster in one request: sets[i]
 * (empty on entry) receives the configs set on topic i itself (source
 * DYNAMIC_TOPIC_CONFIG), not read-only, not sensitive; sets[i].ok is false
 * when that topic had an error.  Returns 0, or -1 when the request failed as
 * a whole (msg filled).
 */
int mm_describe_topic_configs(rd_kafka_t *rk, const char *const *topics, size_t n,
                              mm_cfgset *sets, char *msg, size_t cap);

/*
 * AlterConfigs (the replacing, non-incremental request: librdkafka 2.0 has no
 * IncrementalAlterConfigs) of n topics: topic i's set configs become exactly
 * sets[i]; configs not listed return to their defaults.  errs[i] receives
 * the topic's error code (0 ok).  Returns 0, or -1 when the request failed
 * as a whole (msg filled).
 */
int mm_alter_topic_configs(rd_kafka_t *rk, const char *const *topics, size_t n,
                           const mm_cfgset *sets, rd_kafka_resp_err_t *errs, char *msg,
                           size_t cap);

#endif
