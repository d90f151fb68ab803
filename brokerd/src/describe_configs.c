/*
 * describe_configs.c - DescribeConfigs (ApiKey 32, versions 0-4)
 * (docs/BROKER.md, "APIs" and "Per-topic configs").  A TOPIC resource lists
 * Kafka's topic-level configs (topicconf.c) with the topic's values: its
 * override (source DYNAMIC_TOPIC_CONFIG), else the broker key's value
 * (STATIC_BROKER_CONFIG when the key was set in the file or an override,
 * DEFAULT_CONFIG otherwise); synonyms list the override, then the broker key;
 * v3+ with IncludeDocumentation adds our one-line description.  A BROKER
 * resource (this node's id, or "" for the cluster default) lists every
 * seglogd key, read-only (the broker's config is static).
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_describe_configs.h"

enum { RES_TOPIC = 2, RES_BROKER = 4 };
enum { T_BOOLEAN = 1, T_STRING = 2, T_INT = 3, T_LONG = 5, T_DOUBLE = 6, T_LIST = 7 };

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

static kp_describe_configs_response_describe_configs_synonym *
synonym_at(kp_describe_configs_response_describe_configs_synonym *s, int i, sd_req *req,
           const char *name, const char *value, int8_t source) {
  kp_describe_configs_response_describe_configs_synonym_init_defaults(&s[i]);
  s[i].name = arena_str(req, name);
  s[i].value = arena_str(req, value);
  s[i].source = source;
  return &s[i];
}

static int describe_topic(sd_req *req, const sd_topic *tp,
                          const kp_describe_configs_request_describe_configs_resource *r,
                          kp_describe_configs_response_describe_configs_result *out,
                          bool synonyms, bool docs) {
  sd_broker *b = req->broker;
  int nk = sd_topicconf_key_count();
  if (kp_arena_alloc(&req->arena, (size_t)nk, sizeof(*out->configs),
                     (void **)&out->configs) != 0)
    return -1;
  int32_t n = 0;
  for (int i = 0; i < nk; i++) {
    const char *key = sd_topicconf_key_at(i);
    if (!wanted(r, key))
      continue;
    sd_tc_view v;
    sd_topicconf_view(b->cfg, &b->dirs.log_cfg, &tp->conf, key, &v);
    kp_describe_configs_response_describe_configs_resource_result *e = &out->configs[n++];
    kp_describe_configs_response_describe_configs_resource_result_init_defaults(e);
    e->name = arena_str(req, key);
    e->value = arena_str(req, v.value);
    e->read_only = false;
    e->is_sensitive = false;
    if (req->version == 0)
      e->is_default = v.source == SD_SRC_DEFAULT;
    if (req->version >= 1)
      e->config_source = v.source;
    if (req->version >= 3) {
      e->config_type = (int8_t)sd_topicconf_key_type(key);
      e->documentation = docs ? arena_str(req, sd_topicconf_key_doc(key)) : KP_STR_NULL;
    }
    e->synonyms_count = 0;
    if (req->version >= 1 && synonyms) {
      kp_describe_configs_response_describe_configs_synonym *s = NULL;
      if (kp_arena_alloc(&req->arena, 2, sizeof(*s), (void **)&s) != 0)
        return -1;
      int ns = 0;
      if (v.override != NULL)
        synonym_at(s, ns++, req, key, v.override, SD_SRC_DYNAMIC_TOPIC);
      if (v.broker_key != NULL)
        synonym_at(s, ns++, req, v.broker_key, v.dflt, v.broker_source);
      e->synonyms = s;
      e->synonyms_count = ns;
    }
  }
  out->configs_count = n;
  return 0;
}

static int fill_entry(sd_req *req,
                      kp_describe_configs_response_describe_configs_resource_result *e,
                      const char *name, const char *value, int8_t type,
                      bool is_explicit) {
  kp_describe_configs_response_describe_configs_resource_result_init_defaults(e);
  e->name = arena_str(req, name);
  e->value = arena_str(req, value);
  e->read_only = true;
  e->is_sensitive = false;
  if (req->version == 0)
    e->is_default = !is_explicit;
  if (req->version >= 1)
    e->config_source = is_explicit ? SD_SRC_STATIC_BROKER : SD_SRC_DEFAULT;
  if (req->version >= 3)
    e->config_type = type;
  e->synonyms_count = 0;
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
                   broker_type(k), c->v[k].explicit_set) != 0)
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
      const sd_topic *tp = r->resource_name.len > 0
                               ? sd_topics_find(&b->topics, r->resource_name.ptr,
                                                (size_t)r->resource_name.len)
                               : NULL;
      if (tp == NULL) {
        out->error_code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->error_message = arena_str(req, "This server does not host this topic.");
        sd_req_count_error(req);
        continue;
      }
      rc = describe_topic(req, tp, r, out, rq->include_synonyms,
                          req->version >= 3 && rq->include_documentation);
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
    out->error_message = KP_STR_NULL;
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}
