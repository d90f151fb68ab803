/*
 * metadata.c - the Metadata handler (ApiKey 3, versions 0-12): this broker as
 * the only broker and the controller, the cluster id from meta.properties,
 * and the topics found in the log directories, each partition led by this
 * node with replicas and ISR = [this node] (docs/BROKER.md, "APIs").
 * An unknown topic is created (num.partitions partitions) when
 * auto.create.topics.enable is on and the client allows it (v4+), and is
 * answered at once with its partitions; otherwise UNKNOWN_TOPIC_OR_PARTITION.
 */
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "faults.h"
#include "kp_metadata.h"
#include "sdlog.h"

static int fill_topic(sd_req *req, kp_metadata_response_topic *out, const sd_topic *t) {
  int32_t node = req->broker->node_id;
  out->error_code = SD_KERR_NONE;
  out->name = kp_str_from(t->name);
  memcpy(out->topic_id.b, t->id.b, 16);
  out->is_internal = t->internal;
  int rc = kp_arena_alloc(&req->arena, (size_t)t->n_parts, sizeof(*out->partitions),
                          (void **)&out->partitions);
  if (rc != 0)
    return rc;
  out->partitions_count = t->n_parts;
  for (int i = 0; i < t->n_parts; i++) {
    kp_metadata_response_partition *p = &out->partitions[i];
    kp_metadata_response_partition_init_defaults(p);
    int32_t *nodes;
    rc = kp_arena_alloc(&req->arena, 2, sizeof(int32_t), (void **)&nodes);
    if (rc != 0)
      return rc;
    nodes[0] = node;
    nodes[1] = node;
    p->error_code = SD_KERR_NONE;
    p->partition_index = t->parts[i].index;
    p->leader_id = node;
    p->leader_epoch = t->parts[i].leader_epoch;
    p->replica_nodes = &nodes[0];
    p->replica_nodes_count = 1;
    p->isr_nodes = &nodes[1];
    p->isr_nodes_count = 1;
    p->offline_replicas_count = 0;
    if (sd_partition_offline(req->broker, t, &t->parts[i], NULL)) {
      /* As Kafka shows a partition whose only replica's log dir is offline. */
      p->error_code = SD_KERR_LEADER_NOT_AVAILABLE;
      p->leader_id = -1;
      p->offline_replicas = &nodes[0];
      p->offline_replicas_count = 1;
    }
  }
  return 0;
}

void sd_handle_metadata(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_metadata_request *rq = req->body;
  kp_metadata_response *resp = NULL;
  kp_metadata_response_broker *brk = NULL;
  int rc = kp_arena_alloc(&req->arena, 1, sizeof(*resp), (void **)&resp);
  if (rc == 0)
    rc = kp_arena_alloc(&req->arena, 1, sizeof(*brk), (void **)&brk);
  if (rc != 0) {
    sd_req_abort(req, "out of memory");
    return;
  }
  kp_metadata_response_init_defaults(resp);
  kp_metadata_response_broker_init_defaults(brk);
  const sd_listener_cfg *ad = &b->cfg->advertised[req->listener];
  brk->node_id = b->node_id;
  brk->host = kp_str_from(ad->host);
  brk->port = ad->port;
  brk->rack = KP_STR_NULL;
  resp->brokers = brk;
  resp->brokers_count = 1;
  resp->cluster_id = kp_str_from(b->dirs.cluster_id);
  resp->controller_id = b->node_id;
  resp->throttle_time_ms = 0;

  /* v0: an empty list means all topics; v1+: null means all, empty means none. */
  bool all = rq->topics_count < 0 || (req->version == 0 && rq->topics_count == 0);
  /* Kafka: auto-creation when the broker allows it and (v4+) the client asks.
   * With one broker a replication factor above 1 cannot be met. */
  bool auto_create = sd_cfg_b(b->cfg, SD_CFG_AUTO_CREATE) &&
                     (req->version < 4 || rq->allow_auto_topic_creation) &&
                     sd_cfg_i(b->cfg, SD_CFG_DEFAULT_RF) == 1 && !sd_server_stopping(b);
  const sd_topics *tp = &b->topics;
  int32_t n = all ? tp->n : rq->topics_count;
  rc = kp_arena_alloc(&req->arena, (size_t)(n > 0 ? n : 0), sizeof(*resp->topics),
                      (void **)&resp->topics);
  if (rc != 0) {
    sd_req_abort(req, "out of memory");
    return;
  }
  resp->topics_count = n;
  for (int32_t i = 0; i < n && rc == 0; i++) {
    kp_metadata_response_topic *out = &resp->topics[i];
    kp_metadata_response_topic_init_defaults(out);
    if (all) {
      rc = fill_topic(req, out, &tp->topics[i]);
      continue;
    }
    const kp_metadata_request_topic *want = &rq->topics[i];
    const sd_topic *t = NULL;
    if (want->name.len >= 0) {
      out->name = want->name;
      if (!sd_topic_name_valid(want->name.ptr, (size_t)want->name.len)) {
        out->error_code = SD_KERR_INVALID_TOPIC_EXCEPTION;
        sd_req_count_error(req);
        continue;
      }
      t = sd_topics_find(tp, want->name.ptr, (size_t)want->name.len);
      if (t == NULL && auto_create) {
        char err[512];
        int crc = sd_topics_create(
            &b->topics, &b->dirs, want->name.ptr, (size_t)want->name.len,
            (int32_t)sd_cfg_i(b->cfg, SD_CFG_NUM_PARTITIONS), &t, err, sizeof(err));
        if (crc != 0) {
          SD_WARN("auto-creating topic %.*s failed: %s", (int)want->name.len,
                  want->name.ptr, err);
          out->error_code = crc == SL_EINVAL ? SD_KERR_INVALID_TOPIC_EXCEPTION
                                             : SD_KERR_KAFKA_STORAGE_ERROR;
          sd_req_count_error(req);
          continue;
        }
      }
      if (t == NULL) {
        out->error_code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        sd_req_count_error(req);
        continue;
      }
    } else if (req->version < 12) {
      /* Kafka: "Topic name can not be null for version 10/11" (the response
       * cannot carry a null name before v12).  Found by fuzz_sdrequest. */
      out->name = kp_str_from("");
      out->error_code = SD_KERR_INVALID_REQUEST;
      sd_req_count_error(req);
      continue;
    } else {
      out->name = KP_STR_NULL;
      out->topic_id = want->topic_id;
      t = sd_topics_find_id(tp, want->topic_id.b);
      if (t == NULL) {
        out->error_code = SD_KERR_UNKNOWN_TOPIC_ID;
        sd_req_count_error(req);
        continue;
      }
    }
    rc = fill_topic(req, out, t);
  }
  if (rc != 0) {
    sd_req_abort(req, "out of memory");
    return;
  }
  sd_req_respond(req, resp);
}
