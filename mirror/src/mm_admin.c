/*
 * mm_admin.c - synchronous admin helpers and topic config sets for
 * seglog-mirror (mm_admin.h).  Which configs are replicated and how they are
 * kept in step: docs/MIRROR.md, "Target topics".
 */
#include "mm_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_log.h"

static char *dup_or_die(const char *s) {
  char *d = strdup(s);
  if (!d)
    abort(); /* the process cannot continue without memory */
  return d;
}

rd_kafka_event_t *mm_admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type) {
  int64_t until = mm_mono_ms() + MM_ADMIN_MS + 2000;
  while (mm_mono_ms() < until) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 500);
    if (!ev)
      continue;
    if (rd_kafka_event_type(ev) == type)
      return ev;
    rd_kafka_event_destroy(ev);
  }
  return NULL;
}

rd_kafka_AdminOptions_t *mm_admin_opts(rd_kafka_t *rk, rd_kafka_admin_op_t op) {
  rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
  char why[256];
  rd_kafka_AdminOptions_set_request_timeout(o, MM_ADMIN_MS, why, sizeof why);
  return o;
}

void mm_cfgset_add(mm_cfgset *s, const char *name, const char *value) {
  char **kv = realloc(s->kv, (2 * s->n + 2) * sizeof *kv);
  if (!kv)
    abort();
  s->kv = kv;
  kv[2 * s->n] = dup_or_die(name);
  kv[2 * s->n + 1] = dup_or_die(value);
  s->n++;
}

const char *mm_cfgset_get(const mm_cfgset *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->kv[2 * i], name) == 0)
      return s->kv[2 * i + 1];
  return NULL;
}

bool mm_cfgset_equal(const mm_cfgset *a, const mm_cfgset *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++) {
    const char *v = mm_cfgset_get(b, a->kv[2 * i]);
    if (!v || strcmp(v, a->kv[2 * i + 1]) != 0)
      return false;
  }
  return true;
}

void mm_cfgset_format(const mm_cfgset *s, char *buf, size_t cap) {
  size_t j = 0;
  if (cap == 0)
    return;
  buf[0] = '\0';
  for (size_t i = 0; i < s->n && j < cap; i++) {
    int w = snprintf(buf + j, cap - j, "%s%s=%s", i ? "," : "", s->kv[2 * i],
                     s->kv[2 * i + 1]);
    if (w < 0)
      break;
    j += (size_t)w;
  }
}

void mm_cfgset_release(mm_cfgset *s) {
  if (!s)
    return;
  for (size_t i = 0; i < 2 * s->n; i++)
    free(s->kv[i]);
  free(s->kv);
  s->kv = NULL;
  s->n = 0;
  s->ok = false;
}

/* The result resource named `name` (results need not keep request order). */
static const rd_kafka_ConfigResource_t *result_find(const rd_kafka_ConfigResource_t **rr,
                                                    size_t nr, const char *name) {
  for (size_t i = 0; i < nr; i++)
    if (strcmp(rd_kafka_ConfigResource_name(rr[i]), name) == 0)
      return rr[i];
  return NULL;
}

static rd_kafka_ConfigResource_t **resources_new(const char *const *topics, size_t n,
                                                 const mm_cfgset *sets) {
  rd_kafka_ConfigResource_t **res = calloc(n ? n : 1, sizeof *res);
  if (!res)
    abort();
  for (size_t i = 0; i < n; i++) {
    res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topics[i]);
    for (size_t k = 0; sets && k < sets[i].n; k++)
      rd_kafka_ConfigResource_set_config(res[i], sets[i].kv[2 * k],
                                         sets[i].kv[2 * k + 1]);
  }
  return res;
}

static void resources_free(rd_kafka_ConfigResource_t **res, size_t n) {
  for (size_t i = 0; i < n; i++)
    rd_kafka_ConfigResource_destroy(res[i]);
  free(res);
}

/* Runs DescribeConfigs (sets == NULL) or AlterConfigs over `res` and returns
 * the result event (caller destroys), or NULL with msg filled. */
static rd_kafka_event_t *configs_request(rd_kafka_t *rk, rd_kafka_ConfigResource_t **res,
                                         size_t n, bool alter, char *msg, size_t cap) {
  const char *what = alter ? "AlterConfigs" : "DescribeConfigs";
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o = mm_admin_opts(
      rk, alter ? RD_KAFKA_ADMIN_OP_ALTERCONFIGS : RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  if (alter)
    rd_kafka_AlterConfigs(rk, res, n, o, q);
  else
    rd_kafka_DescribeConfigs(rk, res, n, o, q);
  rd_kafka_event_t *ev = mm_admin_wait(q, alter ? RD_KAFKA_EVENT_ALTERCONFIGS_RESULT
                                                : RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
  if (!ev) {
    snprintf(msg, cap, "%s timed out", what);
  } else if (rd_kafka_event_error(ev)) {
    snprintf(msg, cap, "%s: %s", what, rd_kafka_event_error_string(ev));
    rd_kafka_event_destroy(ev);
    ev = NULL;
  }
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  return ev;
}

int mm_describe_topic_configs(rd_kafka_t *rk, const char *const *topics, size_t n,
                              mm_cfgset *sets, char *msg, size_t cap) {
  rd_kafka_ConfigResource_t **res = resources_new(topics, n, NULL);
  rd_kafka_event_t *ev = configs_request(rk, res, n, false, msg, cap);
  resources_free(res, n);
  if (!ev)
    return -1;
  size_t nr = 0;
  const rd_kafka_ConfigResource_t **rr = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(ev), &nr);
  for (size_t i = 0; i < n; i++) {
    const rd_kafka_ConfigResource_t *r = result_find(rr, nr, topics[i]);
    if (!r || rd_kafka_ConfigResource_error(r)) {
      if (n == 1)
        snprintf(msg, cap, "DescribeConfigs: %s",
                 r ? rd_kafka_ConfigResource_error_string(r) : "no result");
      continue;
    }
    size_t ne = 0;
    const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(r, &ne);
    for (size_t k = 0; k < ne; k++) {
      const char *name = rd_kafka_ConfigEntry_name(ce[k]);
      const char *val = rd_kafka_ConfigEntry_value(ce[k]);
      if (rd_kafka_ConfigEntry_source(ce[k]) ==
              RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG &&
          !rd_kafka_ConfigEntry_is_read_only(ce[k]) &&
          !rd_kafka_ConfigEntry_is_sensitive(ce[k]) && name && val)
        mm_cfgset_add(&sets[i], name, val);
    }
    sets[i].ok = true;
  }
  rd_kafka_event_destroy(ev);
  return 0;
}

int mm_alter_topic_configs(rd_kafka_t *rk, const char *const *topics, size_t n,
                           const mm_cfgset *sets, rd_kafka_resp_err_t *errs, char *msg,
                           size_t cap) {
  rd_kafka_ConfigResource_t **res = resources_new(topics, n, sets);
  rd_kafka_event_t *ev = configs_request(rk, res, n, true, msg, cap);
  resources_free(res, n);
  if (!ev)
    return -1;
  size_t nr = 0;
  const rd_kafka_ConfigResource_t **rr =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &nr);
  for (size_t i = 0; i < n; i++) {
    const rd_kafka_ConfigResource_t *r = result_find(rr, nr, topics[i]);
    errs[i] = r ? rd_kafka_ConfigResource_error(r) : RD_KAFKA_RESP_ERR__TIMED_OUT;
  }
  rd_kafka_event_destroy(ev);
  return 0;
}
