/*
 * describe_configs.c - DescribeConfigs (ApiKey 32, versions 0-4), read-only
 * (docs/BROKER.md, "APIs").  A TOPIC resource lists Kafka's topic-level
 * configs with the values the broker keys give every topic (per-topic
 * overrides cannot be stored yet), each with its source: STATIC_BROKER_CONFIG
 * when the broker key was set in the file or an override, DEFAULT_CONFIG
 * otherwise, and the broker key as synonym.  A BROKER resource (this node's
 * id, or "" for the cluster default) lists every seglogd key, read-only.
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_describe_configs.h"

enum { RES_TOPIC = 2, RES_BROKER = 4 };
enum { SRC_STATIC_BROKER = 4, SRC_DEFAULT = 5 };
enum { T_BOOLEAN = 1, T_STRING = 2, T_INT = 3, T_LONG = 5, T_DOUBLE = 6, T_LIST = 7 };

typedef enum topic_value {
  TV_KEY,       /* the broker key's text */
  TV_RETENTION, /* derived retention.ms */
  TV_ROLL,      /* derived segment.ms */
  TV_FLUSH_MS,  /* derived flush.ms */
  TV_FILE_DELETE_DELAY,
  TV_SEGMENT_JITTER,
} topic_value;

typedef struct topic_cfg {
  const char *name;
  int broker_key; /* sd_ckey, or -1 */
  int8_t type;
  topic_value how;
} topic_cfg;

static const topic_cfg topic_cfgs[] = {
    {"cleanup.policy", SD_CFG_CLEANUP_POLICY, T_LIST, TV_KEY},
    {"compression.type", SD_CFG_COMPRESSION_TYPE, T_STRING, TV_KEY},
    {"delete.retention.ms", SD_CFG_CLEANER_DELETE_RETENTION_MS, T_LONG, TV_KEY},
    {"file.delete.delay.ms", -1, T_LONG, TV_FILE_DELETE_DELAY},
    {"flush.messages", SD_CFG_FLUSH_MESSAGES, T_LONG, TV_KEY},
    {"flush.ms", SD_CFG_FLUSH_MS, T_LONG, TV_FLUSH_MS},
    {"index.interval.bytes", SD_CFG_INDEX_INTERVAL, T_INT, TV_KEY},
    {"max.compaction.lag.ms", SD_CFG_CLEANER_MAX_LAG_MS, T_LONG, TV_KEY},
    {"max.message.bytes", SD_CFG_MESSAGE_MAX_BYTES, T_INT, TV_KEY},
    {"message.timestamp.type", SD_CFG_TIMESTAMP_TYPE, T_STRING, TV_KEY},
    {"min.cleanable.dirty.ratio", SD_CFG_CLEANER_MIN_RATIO, T_DOUBLE, TV_KEY},
    {"min.compaction.lag.ms", SD_CFG_CLEANER_MIN_LAG_MS, T_LONG, TV_KEY},
    {"min.insync.replicas", SD_CFG_MIN_ISR, T_INT, TV_KEY},
    {"preallocate", SD_CFG_PREALLOCATE, T_BOOLEAN, TV_KEY},
    {"retention.bytes", SD_CFG_RETENTION_BYTES, T_LONG, TV_KEY},
    {"retention.ms", SD_CFG_RETENTION_MS, T_LONG, TV_RETENTION},
    {"segment.bytes", SD_CFG_SEGMENT_BYTES, T_INT, TV_KEY},
    {"segment.index.bytes", SD_CFG_INDEX_SIZE_MAX, T_INT, TV_KEY},
    {"segment.jitter.ms", -1, T_LONG, TV_SEGMENT_JITTER},
    {"segment.ms", SD_CFG_ROLL_MS, T_LONG, TV_ROLL},
};
#define N_TOPIC_CFGS (sizeof(topic_cfgs) / sizeof(topic_cfgs[0]))

static kp_str arena_str(sd_req *req, const char *s) {
  if (s == NULL)
    return KP_STR_NULL;
  size_t n = strlen(s);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 1, 1, (void **)&p) != 0)
    return KP_STR_NULL;
  memcpy(p, s, n);
  return (kp_str){p, (int32_t)n};
}

static bool wanted(const kp_describe_configs_request_describe_configs_resource *r,
                   const char *name) {
  if (r->configuration_keys_count < 0)
    return true;
  for (int32_t i = 0; i < r->configuration_keys_count; i++)
    if (kp_str_eq(r->configuration_keys[i], name, (int32_t)strlen(name)))
      return true;
  return false;
}

/* The key's text as Kafka prints it: lists without blanks around commas. */
static void key_text(const sd_config *c, int k, char *out, size_t cap) {
  const char *s = sd_cfg_s(c, (sd_ckey)k);
  size_t o = 0;
  for (; s && *s && o + 1 < cap; s++)
    if (*s != ' ' && *s != '\t')
      out[o++] = *s;
  out[o] = '\0';
}

static int8_t broker_type(int k) {
  static const int8_t types[] = {
#define SD__CKEY_TYPE(id, name, type, def, min, max, allowed) type,
      SD_CONFIG_MAP(SD__CKEY_TYPE)
#undef SD__CKEY_TYPE
  };
  switch (types[k]) {
  case SD_CT_INT:
    return T_INT;
  case SD_CT_LONG:
    return T_LONG;
  case SD_CT_DOUBLE:
    return T_DOUBLE;
  case SD_CT_BOOL:
    return T_BOOLEAN;
  case SD_CT_LIST:
    return T_LIST;
  default:
    return T_STRING;
  }
}

static bool explicit_set(const sd_config *c, const topic_cfg *t) {
  if (t->broker_key < 0)
    return false;
  if (t->how == TV_RETENTION)
    return c->v[SD_CFG_RETENTION_MS].explicit_set ||
           c->v[SD_CFG_RETENTION_MINUTES].explicit_set ||
           c->v[SD_CFG_RETENTION_HOURS].explicit_set;
  if (t->how == TV_ROLL)
    return c->v[SD_CFG_ROLL_MS].explicit_set || c->v[SD_CFG_ROLL_HOURS].explicit_set;
  if (t->how == TV_FLUSH_MS)
    return c->v[SD_CFG_FLUSH_MS].explicit_set ||
           c->v[SD_CFG_FLUSH_SCHEDULER_MS].explicit_set;
  return c->v[t->broker_key].explicit_set;
}

static int fill_entry(sd_req *req,
                      kp_describe_configs_response_describe_configs_resource_result *e,
                      const char *name, const char *value, int8_t type, bool is_explicit,
                      const char *synonym, bool synonyms) {
  kp_describe_configs_response_describe_configs_resource_result_init_defaults(e);
  e->name = arena_str(req, name);
  e->value = arena_str(req, value);
  e->read_only = true;
  e->is_sensitive = false;
  if (req->version == 0)
    e->is_default = !is_explicit;
  if (req->version >= 1)
    e->config_source = is_explicit ? SRC_STATIC_BROKER : SRC_DEFAULT;
  if (req->version >= 3)
    e->config_type = type;
  e->synonyms_count = 0;
  if (req->version >= 1 && synonyms && synonym != NULL) {
    kp_describe_configs_response_describe_configs_synonym *s = NULL;
    if (kp_arena_alloc(&req->arena, 1, sizeof(*s), (void **)&s) != 0)
      return -1;
    kp_describe_configs_response_describe_configs_synonym_init_defaults(s);
    s->name = arena_str(req, synonym);
    s->value = arena_str(req, value);
    s->source = is_explicit ? SRC_STATIC_BROKER : SRC_DEFAULT;
    e->synonyms = s;
    e->synonyms_count = 1;
  }
  return 0;
}

static int describe_topic(sd_req *req,
                          const kp_describe_configs_request_describe_configs_resource *r,
                          kp_describe_configs_response_describe_configs_result *out,
                          bool synonyms) {
  sd_broker *b = req->broker;
  const sd_config *c = b->cfg;
  if (kp_arena_alloc(&req->arena, N_TOPIC_CFGS, sizeof(*out->configs),
                     (void **)&out->configs) != 0)
    return -1;
  int32_t n = 0;
  for (size_t i = 0; i < N_TOPIC_CFGS; i++) {
    const topic_cfg *t = &topic_cfgs[i];
    if (!wanted(r, t->name))
      continue;
    char value[256];
    switch (t->how) {
    case TV_RETENTION:
      snprintf(value, sizeof(value), "%lld", (long long)c->retention_ms);
      break;
    case TV_ROLL:
      snprintf(value, sizeof(value), "%lld", (long long)c->roll_ms);
      break;
    case TV_FLUSH_MS:
      snprintf(value, sizeof(value), "%lld", (long long)c->flush_ms);
      break;
    case TV_FILE_DELETE_DELAY:
      snprintf(value, sizeof(value), "%lld",
               (long long)b->dirs.log_cfg.file_delete_delay_ms);
      break;
    case TV_SEGMENT_JITTER:
      snprintf(value, sizeof(value), "%lld",
               (long long)b->dirs.log_cfg.segment_jitter_ms);
      break;
    default:
      key_text(c, t->broker_key, value, sizeof(value));
      break;
    }
    const char *syn =
        t->broker_key >= 0 ? sd_config_key_name((sd_ckey)t->broker_key) : NULL;
    if (fill_entry(req, &out->configs[n++], t->name, value, t->type, explicit_set(c, t),
                   syn, synonyms) != 0)
      return -1;
  }
  out->configs_count = n;
  return 0;
}

static int describe_broker(sd_req *req,
                           const kp_describe_configs_request_describe_configs_resource *r,
                           kp_describe_configs_response_describe_configs_result *out) {
  const sd_config *c = req->broker->cfg;
  if (kp_arena_alloc(&req->arena, SD_CFG__COUNT, sizeof(*out->configs),
                     (void **)&out->configs) != 0)
    return -1;
  int32_t n = 0;
  for (int k = 0; k < SD_CFG__COUNT; k++) {
    const char *name = sd_config_key_name((sd_ckey)k);
    if (!wanted(r, name))
      continue;
    char value[1024];
    key_text(c, k, value, sizeof(value));
    if (fill_entry(req, &out->configs[n++], name, sd_cfg_s(c, (sd_ckey)k) ? value : NULL,
                   broker_type(k), c->v[k].explicit_set, NULL, false) != 0)
      return -1;
  }
  out->configs_count = n;
  return 0;
}

void sd_handle_describe_configs(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_describe_configs_request *rq = req->body;
  int32_t nr = rq->resources_count > 0 ? rq->resources_count : 0;
  kp_describe_configs_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_describe_configs_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nr, sizeof(*resp->results), (void **)&resp->results) != 0)
    return;
  resp->results_count = nr;
  char node[16];
  snprintf(node, sizeof(node), "%d", (int)b->node_id);
  for (int32_t i = 0; i < nr; i++) {
    const kp_describe_configs_request_describe_configs_resource *r = &rq->resources[i];
    kp_describe_configs_response_describe_configs_result *out = &resp->results[i];
    kp_describe_configs_response_describe_configs_result_init_defaults(out);
    out->resource_type = r->resource_type;
    out->resource_name = r->resource_name;
    out->configs_count = 0;
    int rc = 0;
    if (r->resource_type == RES_TOPIC) {
      if (r->resource_name.len <= 0 || !sd_topics_find(&b->topics, r->resource_name.ptr,
                                                       (size_t)r->resource_name.len)) {
        out->error_code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->error_message = arena_str(req, "This server does not host this topic.");
        sd_req_count_error(req);
        continue;
      }
      rc = describe_topic(req, r, out, rq->include_synonyms);
    } else if (r->resource_type == RES_BROKER) {
      if (r->resource_name.len > 0 &&
          !kp_str_eq(r->resource_name, node, (int32_t)strlen(node))) {
        out->error_code = SD_KERR_INVALID_REQUEST;
        out->error_message = arena_str(req, "Unexpected broker id");
        sd_req_count_error(req);
        continue;
      }
      rc = describe_broker(req, r, out);
    } else {
      out->error_code = SD_KERR_INVALID_REQUEST;
      out->error_message =
          arena_str(req, "Only TOPIC and BROKER resources are described");
      sd_req_count_error(req);
      continue;
    }
    if (rc != 0) {
      sd_req_abort(req, "out of memory");
      return;
    }
    out->error_code = SD_KERR_NONE;
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}
