/*
 * alter_configs.c - AlterConfigs (ApiKey 33, versions 0-2) and
 * IncrementalAlterConfigs (ApiKey 44, versions 0-1) (docs/BROKER.md, "APIs"
 * and "Per-topic configs").
 *
 * TOPIC resources: AlterConfigs replaces the topic's whole override set;
 * IncrementalAlterConfigs applies SET / DELETE / APPEND / SUBTRACT (the last
 * two only on LIST keys, starting from the current value, override or
 * default) to the current set.  Keys and values are validated as Kafka does
 * (topicconf.c: INVALID_CONFIG in Kafka's words), the new set is stored
 * durably and applied to the open partitions before the answer
 * (sd_topics_set_config); ValidateOnly checks without changing anything.
 * BROKER resources: seglogd's broker config is static, so - as Kafka does for
 * keys that cannot be updated dynamically - any key is refused with
 * INVALID_REQUEST; an empty set succeeds.  Other resource types get
 * INVALID_REQUEST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_alter_configs.h"
#include "kp_incremental_alter_configs.h"
#include "sdlog.h"

#define SD_KERR_INVALID_CONFIG 40

enum { RES_TOPIC = 2, RES_BROKER = 4 };
enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

static kp_str arena_str(sd_req *req, const char *s) {
  size_t n = strlen(s);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 1, 1, (void **)&p) != 0)
    return KP_STR_NULL;
  memcpy(p, s, n);
  return (kp_str){p, (int32_t)n};
}

/* A kp_str as a C string in the arena (NULL for a null string). */
static char *arena_cstr(sd_req *req, kp_str s) {
  if (s.len < 0)
    return NULL;
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, (size_t)s.len + 1, 1, (void **)&p) != 0)
    return NULL;
  if (s.len > 0)
    memcpy(p, s.ptr, (size_t)s.len);
  p[s.len] = '\0';
  return p;
}

/* The checks shared by both APIs for a BROKER resource. */
static int16_t broker_resource(sd_req *req, kp_str name, const char *const *keys, int n,
                               char *msg, size_t cap) {
  char node[16];
  snprintf(node, sizeof(node), "%d", (int)req->broker->node_id);
  if (name.len > 0 && !kp_str_eq(name, node, (int32_t)strlen(node))) {
    snprintf(msg, cap,
             "Unexpected broker id, expected %s or empty string, but received %.*s", node,
             name.len > 100 ? 100 : (int)name.len, name.ptr);
    return SD_KERR_INVALID_REQUEST;
  }
  if (n == 0)
    return SD_KERR_NONE;
  size_t o =
      (size_t)snprintf(msg, cap,
                       "Invalid config value for resource ConfigResource(type=BROKER, "
                       "name='%.*s'): Cannot update these configs dynamically: Set(",
                       name.len > 0 ? (int)name.len : 0, name.len > 0 ? name.ptr : "");
  for (int i = 0; i < n && o < cap; i++)
    o +=
        (size_t)snprintf(msg + o, cap - o, "%s%s", i ? ", " : "", keys[i] ? keys[i] : "");
  if (o < cap)
    snprintf(msg + o, cap - o, ")");
  return SD_KERR_INVALID_REQUEST;
}

/* Checks that a resource's keys are not repeated. */
static bool duplicate_keys(char *const *keys, int n) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      if (keys[i] && keys[j] && strcmp(keys[i], keys[j]) == 0)
        return true;
  return false;
}

static int16_t code_of(int rc) {
  switch (rc) {
  case SL_ENOT_FOUND:
    return SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
  case SL_EINVAL:
    return SD_KERR_INVALID_CONFIG;
  default:
    return SD_KERR_KAFKA_STORAGE_ERROR;
  }
}

/* ---- AlterConfigs ---- */

static int16_t alter_topic(sd_req *req, const void *resource, char *const *keys,
                           bool validate_only, char *msg, size_t cap) {
  const kp_alter_configs_request_alter_configs_resource *r = resource;
  sd_broker *b = req->broker;
  if (r->resource_name.len <= 0 || sd_topics_find(&b->topics, r->resource_name.ptr,
                                                  (size_t)r->resource_name.len) == NULL) {
    snprintf(msg, cap, "The topic '%.*s' does not exist.",
             r->resource_name.len > 200 ? 200 : (int)r->resource_name.len,
             r->resource_name.len > 0 ? r->resource_name.ptr : "");
    return SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
  }
  sd_topicconf conf = {0};
  int16_t code = SD_KERR_NONE;
  for (int32_t i = 0; i < r->configs_count && code == SD_KERR_NONE; i++) {
    char *value = arena_cstr(req, r->configs[i].value);
    if (keys[i] == NULL || (value == NULL && r->configs[i].value.len >= 0)) {
      sd_topicconf_release(&conf);
      return -1;
    }
    int rc = sd_topicconf_set(&conf, keys[i], value, msg, cap);
    if (rc == SD_TC_NOMEM) {
      sd_topicconf_release(&conf);
      return -1;
    }
    if (rc != SD_TC_OK)
      code = SD_KERR_INVALID_CONFIG;
  }
  if (code == SD_KERR_NONE) {
    int rc = sd_topics_set_config(&b->topics, &b->dirs, r->resource_name.ptr,
                                  (size_t)r->resource_name.len, &conf, validate_only, msg,
                                  cap);
    if (rc != 0)
      code = code_of(rc);
  }
  sd_topicconf_release(&conf);
  return code;
}

/* A TOPIC resource's handler: resource is the API's resource struct. */
typedef int16_t (*topic_alter_fn)(sd_req *req, const void *resource, char *const *keys,
                                  bool validate_only, char *msg, size_t cap);

/*
 * What AlterConfigs and IncrementalAlterConfigs do alike for one resource:
 * the config names as C strings (the n names lie `stride` bytes apart from
 * `names`), the duplicate-key check, BROKER and unknown resource types; a
 * TOPIC goes to `topic`.  Sets *code and *message (null on success).
 * Returns -1 when out of memory (the request is then aborted).
 */
static int answer_resource(sd_req *req, const char *api, int8_t type, kp_str name,
                           const kp_str *names, int32_t n, size_t stride,
                           topic_alter_fn topic, const void *resource, bool validate_only,
                           int16_t *code, kp_str *message) {
  char **keys = NULL;
  if (sd_req_alloc(req, (size_t)n + 1, sizeof(*keys), (void **)&keys) != 0)
    return -1;
  for (int32_t j = 0; j < n; j++) {
    const kp_str *kn =
        (const kp_str *)(const void *)((const char *)names + (size_t)j * stride);
    keys[j] = arena_cstr(req, *kn);
    if (keys[j] == NULL) {
      sd_req_abort(req, "out of memory");
      return -1;
    }
  }
  char msg[1024] = "";
  int16_t c;
  if (duplicate_keys(keys, n)) {
    snprintf(msg, sizeof(msg), "Error due to duplicate config keys");
    c = SD_KERR_INVALID_REQUEST;
  } else if (type == RES_TOPIC) {
    c = topic(req, resource, keys, validate_only, msg, sizeof(msg));
  } else if (type == RES_BROKER) {
    c = broker_resource(req, name, (const char *const *)keys, n, msg, sizeof(msg));
  } else {
    snprintf(msg, sizeof(msg), "Unexpected resource type %d", (int)type);
    c = SD_KERR_INVALID_REQUEST;
  }
  if (c < 0) {
    sd_req_abort(req, "out of memory");
    return -1;
  }
  *code = c;
  *message = KP_STR_NULL;
  if (c != SD_KERR_NONE) {
    *message = arena_str(req, msg);
    sd_req_count_error(req);
    SD_DEBUG("%s %.*s: %s", api, (int)name.len, name.ptr, msg);
  }
  return 0;
}

void sd_handle_alter_configs(sd_req *req) {
  const kp_alter_configs_request *rq = req->body;
  int32_t nr = rq->resources_count > 0 ? rq->resources_count : 0;
  kp_alter_configs_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_alter_configs_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nr, sizeof(*resp->responses),
                   (void **)&resp->responses) != 0)
    return;
  resp->responses_count = nr;
  for (int32_t i = 0; i < nr; i++) {
    const kp_alter_configs_request_alter_configs_resource *r = &rq->resources[i];
    kp_alter_configs_response_alter_configs_resource_response *out = &resp->responses[i];
    kp_alter_configs_response_alter_configs_resource_response_init_defaults(out);
    out->resource_type = r->resource_type;
    out->resource_name = r->resource_name;
    int32_t nc = r->configs_count > 0 ? r->configs_count : 0;
    if (answer_resource(req, "AlterConfigs", r->resource_type, r->resource_name,
                        nc > 0 ? &r->configs[0].name : NULL, nc, sizeof(*r->configs),
                        alter_topic, r, rq->validate_only, &out->error_code,
                        &out->error_message) != 0)
      return;
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}

/* ---- IncrementalAlterConfigs ---- */

/* Splits a LIST value into trimmed, non-empty items appended to *items. */
static int split_list(const char *v, char ***items, int *n) {
  const char *p = v;
  while (p != NULL && *p) {
    const char *comma = strchr(p, ',');
    size_t l = comma ? (size_t)(comma - p) : strlen(p);
    const char *s = p;
    while (l > 0 && (unsigned char)*s <= ' ') {
      s++;
      l--;
    }
    while (l > 0 && (unsigned char)s[l - 1] <= ' ')
      l--;
    if (l > 0) {
      char **ni = realloc(*items, sizeof(*ni) * (size_t)(*n + 1));
      if (ni == NULL)
        return -1;
      *items = ni;
      ni[*n] = strndup(s, l);
      if (ni[*n] == NULL)
        return -1;
      (*n)++;
    }
    p = comma ? comma + 1 : NULL;
  }
  return 0;
}

static void free_list(char **items, int n) {
  for (int i = 0; i < n; i++)
    free(items[i]);
  free(items);
}

/* APPEND / SUBTRACT on a LIST key: the new value from the current one. */
static int list_op(const char *current, const char *arg, bool append, char **out) {
  char **cur = NULL, **add = NULL;
  int nc = 0, na = 0, rc = -1;
  char *res = NULL;
  if (split_list(current, &cur, &nc) != 0 || split_list(arg, &add, &na) != 0)
    goto done;
  size_t cap = strlen(current ? current : "") + strlen(arg ? arg : "") + 2;
  res = malloc(cap);
  if (res == NULL)
    goto done;
  size_t o = 0;
  res[0] = '\0';
  for (int i = 0; i < nc; i++) {
    bool drop = false;
    for (int j = 0; !append && j < na; j++)
      drop = drop || strcmp(cur[i], add[j]) == 0;
    if (!drop)
      o += (size_t)snprintf(res + o, cap - o, "%s%s", o ? "," : "", cur[i]);
  }
  for (int j = 0; append && j < na; j++) {
    bool have = false;
    for (int i = 0; i < nc; i++)
      have = have || strcmp(cur[i], add[j]) == 0;
    for (int i = 0; i < j; i++)
      have = have || strcmp(add[i], add[j]) == 0;
    if (!have)
      o += (size_t)snprintf(res + o, cap - o, "%s%s", o ? "," : "", add[j]);
  }
  *out = res;
  res = NULL;
  rc = 0;
done:
  free(res);
  free_list(cur, nc);
  free_list(add, na);
  return rc;
}

static int16_t incremental_topic(sd_req *req, const void *resource, char *const *keys,
                                 bool validate_only, char *msg, size_t cap) {
  const kp_incremental_alter_configs_request_alter_configs_resource *r = resource;
  sd_broker *b = req->broker;
  const sd_topic *tp =
      r->resource_name.len > 0
          ? sd_topics_find(&b->topics, r->resource_name.ptr, (size_t)r->resource_name.len)
          : NULL;
  if (tp == NULL) {
    snprintf(msg, cap, "The topic '%.*s' does not exist.",
             r->resource_name.len > 200 ? 200 : (int)r->resource_name.len,
             r->resource_name.len > 0 ? r->resource_name.ptr : "");
    return SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
  }
  sd_topicconf conf;
  if (sd_topicconf_copy(&conf, &tp->conf) != 0)
    return -1;
  int16_t code = SD_KERR_NONE;
  for (int32_t i = 0; i < r->configs_count && code == SD_KERR_NONE; i++) {
    const kp_incremental_alter_configs_request_alterable_config *c = &r->configs[i];
    const char *key = keys[i];
    char *value = arena_cstr(req, c->value);
    if (value == NULL && c->value.len >= 0) {
      code = -1;
      break;
    }
    if (!sd_topicconf_known(key)) {
      snprintf(msg, cap, "Unknown topic config name: %s", key);
      code = SD_KERR_INVALID_CONFIG;
      break;
    }
    int rc = SD_TC_OK;
    switch (c->config_operation) {
    case OP_SET:
      rc = sd_topicconf_set(&conf, key, value, msg, cap);
      break;
    case OP_DELETE:
      sd_topicconf_unset(&conf, key);
      break;
    case OP_APPEND:
    case OP_SUBTRACT: {
      bool append = c->config_operation == OP_APPEND;
      if (!sd_topicconf_is_list(key)) {
        snprintf(msg, cap, "Can't %s to key %s because its type is not LIST.",
                 append ? "APPEND" : "SUBTRACT", key);
        code = SD_KERR_INVALID_CONFIG;
        break;
      }
      sd_tc_view v;
      sd_topicconf_view(b->cfg, &b->dirs.log_cfg, &conf, key, &v);
      char *nv = NULL;
      if (list_op(v.value, value, append, &nv) != 0) {
        code = -1;
        break;
      }
      rc = sd_topicconf_set(&conf, key, nv, msg, cap);
      free(nv);
      break;
    }
    default:
      snprintf(msg, cap, "Unknown operation type %d", (int)c->config_operation);
      code = SD_KERR_INVALID_REQUEST;
      break;
    }
    if (rc == SD_TC_NOMEM)
      code = -1;
    else if (rc != SD_TC_OK)
      code = SD_KERR_INVALID_CONFIG;
  }
  if (code == SD_KERR_NONE) {
    int rc = sd_topics_set_config(&b->topics, &b->dirs, r->resource_name.ptr,
                                  (size_t)r->resource_name.len, &conf, validate_only, msg,
                                  cap);
    if (rc != 0)
      code = code_of(rc);
  }
  sd_topicconf_release(&conf);
  return code;
}

void sd_handle_incremental_alter_configs(sd_req *req) {
  const kp_incremental_alter_configs_request *rq = req->body;
  int32_t nr = rq->resources_count > 0 ? rq->resources_count : 0;
  kp_incremental_alter_configs_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_incremental_alter_configs_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nr, sizeof(*resp->responses),
                   (void **)&resp->responses) != 0)
    return;
  resp->responses_count = nr;
  for (int32_t i = 0; i < nr; i++) {
    const kp_incremental_alter_configs_request_alter_configs_resource *r =
        &rq->resources[i];
    kp_incremental_alter_configs_response_alter_configs_resource_response *out =
        &resp->responses[i];
    kp_incremental_alter_configs_response_alter_configs_resource_response_init_defaults(
        out);
    out->resource_type = r->resource_type;
    out->resource_name = r->resource_name;
    int32_t nc = r->configs_count > 0 ? r->configs_count : 0;
    if (answer_resource(req, "IncrementalAlterConfigs", r->resource_type,
                        r->resource_name, nc > 0 ? &r->configs[0].name : NULL, nc,
                        sizeof(*r->configs), incremental_topic, r, rq->validate_only,
                        &out->error_code, &out->error_message) != 0)
      return;
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}
