/*
 * topics_admin.c - CreateTopics (ApiKey 19, versions 0-7) and DeleteTopics
 * (ApiKey 20, versions 0-6) (docs/BROKER.md, "APIs").
 *
 * CreateTopics: NumPartitions -1 means num.partitions; ReplicationFactor must
 * be -1 or 1 (this is one broker); explicit assignments must put every
 * partition 0..n-1 on this node; ValidateOnly checks without creating.
 * Configs are validated key by key (topicconf.c: unknown key or bad value ->
 * INVALID_CONFIG in Kafka's words) and together, stored before the
 * partitions are created, and v5+ answers with every topic config of the new
 * topic (value and source, as DescribeConfigs shows them).
 * DeleteTopics deletes by name, or by topic id from v6.
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_create_topics.h"
#include "kp_delete_topics.h"
#include "sdlog.h"
#include "upkeep.h"

#define SD_KERR_TOPIC_ALREADY_EXISTS 36
#define SD_KERR_INVALID_PARTITIONS 37
#define SD_KERR_INVALID_REPLICATION_FACTOR 38
#define SD_KERR_INVALID_REPLICA_ASSIGNMENT 39
#define SD_KERR_INVALID_CONFIG 40

static kp_str arena_str(sd_req *req, const char *s) {
  size_t n = strlen(s);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 1, 1, (void **)&p) != 0)
    return KP_STR_NULL;
  memcpy(p, s, n);
  return (kp_str){p, (int32_t)n};
}

/* The request's configs as overrides; INVALID_CONFIG with msg if any fails. */
static int16_t build_conf(sd_req *req, const kp_create_topics_request_creatable_topic *ti,
                          sd_topicconf *conf, char *msg, size_t cap) {
  for (int32_t i = 0; i < ti->configs_count; i++) {
    const kp_create_topics_request_creatable_topic_config *c = &ti->configs[i];
    char key[256], value[4096];
    if (c->name.len < 0 || (size_t)c->name.len >= sizeof(key)) {
      snprintf(msg, cap, "Unknown topic config name: %.*s", c->name.len > 0 ? 200 : 0,
               c->name.ptr ? c->name.ptr : "");
      return SD_KERR_INVALID_CONFIG;
    }
    memcpy(key, c->name.ptr, (size_t)c->name.len);
    key[c->name.len] = '\0';
    if (c->value.len >= (int32_t)sizeof(value)) {
      snprintf(msg, cap, "Invalid value for configuration %s: longer than %zu bytes", key,
               sizeof(value) - 1);
      return SD_KERR_INVALID_CONFIG;
    }
    if (c->value.len >= 0) {
      memcpy(value, c->value.ptr, (size_t)c->value.len);
      value[c->value.len] = '\0';
    }
    int rc = sd_topicconf_set(conf, key, c->value.len >= 0 ? value : NULL, msg, cap);
    if (rc == SD_TC_NOMEM) {
      sd_req_abort(req, "out of memory");
      return -1;
    }
    if (rc != SD_TC_OK)
      return SD_KERR_INVALID_CONFIG;
  }
  sl_log_config lc;
  if (sd_topicconf_apply(conf, &req->broker->dirs.log_cfg, &lc, msg, cap) != 0)
    return SD_KERR_INVALID_CONFIG;
  return SD_KERR_NONE;
}

/* CreateTopics v5+: every topic config of the new topic. */
static int fill_configs(sd_req *req, const sd_topicconf *conf,
                        kp_create_topics_response_creatable_topic_result *to) {
  sd_broker *b = req->broker;
  int nk = sd_topicconf_key_count();
  if (kp_arena_alloc(&req->arena, (size_t)nk, sizeof(*to->configs),
                     (void **)&to->configs) != 0)
    return -1;
  for (int i = 0; i < nk; i++) {
    const char *key = sd_topicconf_key_at(i);
    sd_tc_view v;
    sd_topicconf_view(b->cfg, &b->dirs.log_cfg, conf, key, &v);
    kp_create_topics_response_creatable_topic_configs *c = &to->configs[i];
    kp_create_topics_response_creatable_topic_configs_init_defaults(c);
    c->name = arena_str(req, key);
    c->value = arena_str(req, v.value);
    c->read_only = false;
    c->config_source = v.source;
    c->is_sensitive = false;
  }
  to->configs_count = nk;
  return 0;
}

/* Checks one topic; returns its ErrorCode and fills *parts. */
static int16_t check_topic(sd_req *req,
                           const kp_create_topics_request_creatable_topic *ti,
                           int32_t *parts, char *msg, size_t cap) {
  sd_broker *b = req->broker;
  const char *name = ti->name.ptr;
  size_t len = ti->name.len > 0 ? (size_t)ti->name.len : 0;
  if (!sd_topic_name_valid(name, len)) {
    snprintf(msg, cap, "Topic name '%.*s' is illegal", (int)len, name ? name : "");
    return SD_KERR_INVALID_TOPIC_EXCEPTION;
  }
  if (sd_topics_find(&b->topics, name, len) != NULL) {
    snprintf(msg, cap, "Topic '%.*s' already exists.", (int)len, name);
    return SD_KERR_TOPIC_ALREADY_EXISTS;
  }
  int32_t n = ti->num_partitions;
  if (ti->assignments_count > 0) {
    if (n != -1 || ti->replication_factor != -1) {
      snprintf(msg, cap,
               "Both numPartitions or replicationFactor and replicasAssignments "
               "were set. Both cannot be used at the same time.");
      return SD_KERR_INVALID_REQUEST;
    }
    n = ti->assignments_count;
    for (int32_t i = 0; i < n; i++) {
      const kp_create_topics_request_creatable_replica_assignment *a =
          &ti->assignments[i];
      bool ok = a->broker_ids_count == 1 && a->broker_ids[0] == b->node_id;
      bool index_seen = false;
      for (int32_t j = 0; j < n; j++)
        if (ti->assignments[j].partition_index == i)
          index_seen = true;
      if (!ok || !index_seen) {
        snprintf(msg, cap, "Replica assignment must place partitions 0..%d on broker %d",
                 (int)n - 1, (int)b->node_id);
        return SD_KERR_INVALID_REPLICA_ASSIGNMENT;
      }
    }
  } else {
    if (n == -1)
      n = (int32_t)sd_cfg_i(b->cfg, SD_CFG_NUM_PARTITIONS);
    if (n <= 0) {
      snprintf(msg, cap,
               "Number of partitions was set to an invalid non-positive value.");
      return SD_KERR_INVALID_PARTITIONS;
    }
    int32_t rf = ti->replication_factor == -1
                     ? (int32_t)sd_cfg_i(b->cfg, SD_CFG_DEFAULT_RF)
                     : ti->replication_factor;
    if (rf <= 0) {
      snprintf(msg, cap,
               "Replication factor must be larger than 0, or -1 to use the default "
               "value.");
      return SD_KERR_INVALID_REPLICATION_FACTOR;
    }
    if (rf > 1) {
      snprintf(msg, cap,
               "Unable to replicate the partition %d time(s): The target "
               "replication factor of %d cannot be reached because only 1 broker(s) "
               "are registered.",
               (int)rf, (int)rf);
      return SD_KERR_INVALID_REPLICATION_FACTOR;
    }
  }
  if (n > 100000) {
    snprintf(msg, cap, "Number of partitions %d is too large", (int)n);
    return SD_KERR_INVALID_PARTITIONS;
  }
  *parts = n;
  return SD_KERR_NONE;
}

void sd_handle_create_topics(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_create_topics_request *rq = req->body;
  kp_create_topics_response *resp = NULL;
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_create_topics_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->topics), (void **)&resp->topics) != 0)
    return;
  resp->topics_count = nt;
  for (int32_t i = 0; i < nt; i++) {
    const kp_create_topics_request_creatable_topic *ti = &rq->topics[i];
    kp_create_topics_response_creatable_topic_result *to = &resp->topics[i];
    kp_create_topics_response_creatable_topic_result_init_defaults(to);
    to->name = ti->name;
    to->configs_count = req->version >= 5 ? 0 : -1;
    char msg[512] = "";
    int32_t parts = 0;
    sd_topicconf conf = {0};
    int16_t code = check_topic(req, ti, &parts, msg, sizeof(msg));
    if (code == SD_KERR_NONE)
      code = build_conf(req, ti, &conf, msg, sizeof(msg));
    if (code < 0) {
      sd_topicconf_release(&conf);
      return; /* aborted */
    }
    for (int32_t j = 0; j < i && code == SD_KERR_NONE; j++) {
      if (kp_str_eq(rq->topics[j].name, ti->name.ptr, ti->name.len)) {
        snprintf(msg, sizeof(msg),
                 "Create topics request from client contains a duplicate "
                 "topic name");
        code = SD_KERR_INVALID_REQUEST;
      }
    }
    if (code == SD_KERR_NONE && !rq->validate_only) {
      char err[512];
      const sd_topic *t = NULL;
      int rc = sd_topics_create_with_config(&b->topics, &b->dirs, ti->name.ptr,
                                            (size_t)ti->name.len, parts, &conf, &t, err,
                                            sizeof(err));
      if (rc != 0) {
        code = rc == SL_EINVAL ? SD_KERR_INVALID_CONFIG : SD_KERR_KAFKA_STORAGE_ERROR;
        snprintf(msg, sizeof(msg), "%s", err);
      } else if (req->version >= 7) {
        memcpy(to->topic_id.b, t->id.b, 16);
      }
    }
    to->error_code = code;
    to->error_message = KP_STR_NULL; /* Kafka: null on success */
    if (code != SD_KERR_NONE) {
      sd_req_count_error(req);
      if (req->version >= 1)
        to->error_message = arena_str(req, msg);
      SD_DEBUG("CreateTopics %.*s: %s", (int)ti->name.len, ti->name.ptr, msg);
    } else if (req->version >= 5) {
      to->num_partitions = parts;
      to->replication_factor = 1;
      if (fill_configs(req, &conf, to) != 0) {
        sd_topicconf_release(&conf);
        sd_req_abort(req, "out of memory");
        return;
      }
    }
    sd_topicconf_release(&conf);
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}

void sd_handle_delete_topics(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_delete_topics_request *rq = req->body;
  int32_t n = req->version >= 6 ? rq->topics_count : rq->topic_names_count;
  if (n < 0)
    n = 0;
  kp_delete_topics_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_delete_topics_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)n, sizeof(*resp->responses), (void **)&resp->responses) !=
      0)
    return;
  resp->responses_count = n;
  for (int32_t i = 0; i < n; i++) {
    kp_delete_topics_response_deletable_topic_result *to = &resp->responses[i];
    kp_delete_topics_response_deletable_topic_result_init_defaults(to);
    kp_str name = req->version >= 6 ? rq->topics[i].name : rq->topic_names[i];
    const sd_topic *t = NULL;
    if (name.len >= 0) {
      to->name = name;
      t = sd_topics_find(&b->topics, name.ptr, (size_t)name.len);
      if (t == NULL) {
        to->error_code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        sd_req_count_error(req);
        continue;
      }
    } else {
      to->name = KP_STR_NULL;
      to->topic_id = rq->topics[i].topic_id;
      t = sd_topics_find_id(&b->topics, rq->topics[i].topic_id.b);
      if (t == NULL) {
        to->error_code = SD_KERR_UNKNOWN_TOPIC_ID;
        sd_req_count_error(req);
        continue;
      }
      to->name = arena_str(req, t->name); /* t->name is freed by the delete */
    }
    if (req->version >= 6)
      memcpy(to->topic_id.b, t->id.b, 16);
    char err[512];
    if (t->internal) {
      /* The coordinators hold the internal topics open and need them: refused
       * here, where Kafka's broker leaves the check to kafka-topics.sh
       * (docs/BROKER.md, "Differences from Kafka"). */
      to->error_code = SD_KERR_INVALID_TOPIC_EXCEPTION;
      snprintf(err, sizeof(err), "Cannot delete internal topic %s", t->name);
      if (req->version >= 5)
        to->error_message = arena_str(req, err);
      sd_req_count_error(req);
      continue;
    }
    sd_cleaner_wait(b, t->name); /* a compaction round must not outlive its log */
    sd_flush_wait();             /* nor a flush of rolled segments */
    int rc = sd_topics_delete(&b->topics, &b->dirs, t->name, strlen(t->name), err,
                              sizeof(err));
    if (rc != 0) {
      to->error_code = SD_KERR_KAFKA_STORAGE_ERROR;
      if (req->version >= 5)
        to->error_message = arena_str(req, err);
      sd_req_count_error(req);
      SD_WARN("DeleteTopics %.*s: %s", (int)to->name.len, to->name.ptr, err);
    }
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}
