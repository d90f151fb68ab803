/*
 * partitions_admin.c - CreatePartitions (ApiKey 37, versions 0-3),
 * DeleteRecords (ApiKey 21, versions 0-2), OffsetForLeaderEpoch (ApiKey 23,
 * versions 0-4) and DescribeCluster (ApiKey 60, versions 0-1)
 * (docs/BROKER.md, "APIs").
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "faults.h"
#include "kp_create_partitions.h"
#include "kp_delete_records.h"
#include "kp_describe_cluster.h"
#include "kp_offset_for_leader_epoch.h"
#include "sdlog.h"

#define SD_KERR_INVALID_PARTITIONS 37
#define SD_KERR_INVALID_REPLICA_ASSIGNMENT 39
#define SD_KERR_FENCED_LEADER_EPOCH 74
#define SD_KERR_UNKNOWN_LEADER_EPOCH 75
#define SD_KERR_UNSUPPORTED_ENDPOINT_TYPE 119

static kp_str arena_str(sd_req *req, const char *s) {
  size_t n = strlen(s);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 1, 1, (void **)&p) != 0)
    return KP_STR_NULL;
  memcpy(p, s, n);
  return (kp_str){p, (int32_t)n};
}

static const sd_topic *find(sd_req *req, kp_str name) {
  if (name.len <= 0)
    return NULL;
  return sd_topics_find(&req->broker->topics, name.ptr, (size_t)name.len);
}

void sd_handle_create_partitions(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_create_partitions_request *rq = req->body;
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  kp_create_partitions_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_create_partitions_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->results), (void **)&resp->results) != 0)
    return;
  resp->results_count = nt;
  for (int32_t i = 0; i < nt; i++) {
    const kp_create_partitions_request_create_partitions_topic *ti = &rq->topics[i];
    kp_create_partitions_response_create_partitions_topic_result *to = &resp->results[i];
    kp_create_partitions_response_create_partitions_topic_result_init_defaults(to);
    to->name = ti->name;
    char msg[512] = "";
    int16_t code = SD_KERR_NONE;
    const sd_topic *t = find(req, ti->name);
    for (int32_t j = 0; j < i; j++)
      if (kp_str_eq(rq->topics[j].name, ti->name.ptr, ti->name.len)) {
        code = SD_KERR_INVALID_REQUEST;
        snprintf(msg, sizeof(msg), "Duplicate topic in request.");
      }
    int32_t have = t && t->n_parts > 0 ? t->parts[t->n_parts - 1].index + 1 : 0;
    if (code == SD_KERR_NONE && t == NULL) {
      code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
      snprintf(msg, sizeof(msg), "The topic '%.*s' does not exist.", (int)ti->name.len,
               ti->name.ptr ? ti->name.ptr : "");
    } else if (code == SD_KERR_NONE && ti->count <= have) {
      code = SD_KERR_INVALID_PARTITIONS;
      snprintf(
          msg, sizeof(msg),
          "Topic currently has %d partitions, which is higher than the requested %d.",
          (int)have, (int)ti->count);
    } else if (code == SD_KERR_NONE && ti->assignments_count >= 0) {
      bool ok = ti->assignments_count == ti->count - have;
      for (int32_t j = 0; ok && j < ti->assignments_count; j++)
        ok = ti->assignments[j].broker_ids_count == 1 &&
             ti->assignments[j].broker_ids[0] == b->node_id;
      if (!ok) {
        code = SD_KERR_INVALID_REPLICA_ASSIGNMENT;
        snprintf(msg, sizeof(msg),
                 "Each new partition must be assigned to broker %d only.",
                 (int)b->node_id);
      }
    }
    if (code == SD_KERR_NONE && !rq->validate_only) {
      char err[512];
      int rc =
          sd_topics_add_partitions(&b->topics, &b->dirs, ti->name.ptr,
                                   (size_t)ti->name.len, ti->count, err, sizeof(err));
      if (rc != 0) {
        code = SD_KERR_KAFKA_STORAGE_ERROR;
        snprintf(msg, sizeof(msg), "%s", err);
      }
    }
    to->error_code = code;
    if (code != SD_KERR_NONE) {
      to->error_message = arena_str(req, msg);
      sd_req_count_error(req);
    }
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}

void sd_handle_delete_records(sd_req *req) {
  const kp_delete_records_request *rq = req->body;
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  kp_delete_records_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_delete_records_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->topics), (void **)&resp->topics) != 0)
    return;
  resp->topics_count = nt;
  for (int32_t i = 0; i < nt; i++) {
    const kp_delete_records_request_delete_records_topic *ti = &rq->topics[i];
    kp_delete_records_response_delete_records_topic_result *to = &resp->topics[i];
    kp_delete_records_response_delete_records_topic_result_init_defaults(to);
    to->name = ti->name;
    const sd_topic *t = find(req, ti->name);
    int32_t np = ti->partitions_count > 0 ? ti->partitions_count : 0;
    if (sd_req_alloc(req, (size_t)np, sizeof(*to->partitions),
                     (void **)&to->partitions) != 0)
      return;
    to->partitions_count = np;
    for (int32_t j = 0; j < np; j++) {
      const kp_delete_records_request_delete_records_partition *pi = &ti->partitions[j];
      kp_delete_records_response_delete_records_partition_result *po = &to->partitions[j];
      kp_delete_records_response_delete_records_partition_result_init_defaults(po);
      po->partition_index = pi->partition_index;
      po->low_watermark = -1;
      const sd_partition *p = t ? sd_topic_partition(t, pi->partition_index) : NULL;
      if (p == NULL || sd_partition_offline(req->broker, t, p, NULL)) {
        po->error_code =
            p ? SD_KERR_KAFKA_STORAGE_ERROR : SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        sd_req_count_error(req);
        continue;
      }
      /* -1: up to the high watermark (Kafka's DeleteRecordsRequest.HIGH_WATERMARK). */
      int64_t off = pi->offset == -1 ? sl_log_high_watermark(p->log) : pi->offset;
      int64_t start = -1;
      sl_diag diag;
      sl_diag_clear(&diag);
      int rc = off < 0 ? SL_EOFFSET_OUT_OF_RANGE
                       : sl_log_delete_records(p->log, off, &start, &diag);
      if (rc != 0) {
        po->error_code = sd_kerr_from_sl(rc);
        sd_req_count_error(req);
        continue;
      }
      po->error_code = SD_KERR_NONE;
      po->low_watermark = start;
    }
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}

void sd_handle_offset_for_leader_epoch(sd_req *req) {
  const kp_offset_for_leader_epoch_request *rq = req->body;
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  kp_offset_for_leader_epoch_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_offset_for_leader_epoch_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->topics), (void **)&resp->topics) != 0)
    return;
  resp->topics_count = nt;
  for (int32_t i = 0; i < nt; i++) {
    const kp_offset_for_leader_epoch_request_offset_for_leader_topic *ti = &rq->topics[i];
    kp_offset_for_leader_epoch_response_offset_for_leader_topic_result *to =
        &resp->topics[i];
    kp_offset_for_leader_epoch_response_offset_for_leader_topic_result_init_defaults(to);
    to->topic = ti->topic;
    const sd_topic *t = find(req, ti->topic);
    int32_t np = ti->partitions_count > 0 ? ti->partitions_count : 0;
    if (sd_req_alloc(req, (size_t)np, sizeof(*to->partitions),
                     (void **)&to->partitions) != 0)
      return;
    to->partitions_count = np;
    for (int32_t j = 0; j < np; j++) {
      const kp_offset_for_leader_epoch_request_offset_for_leader_partition *pi =
          &ti->partitions[j];
      kp_offset_for_leader_epoch_response_epoch_end_offset *po = &to->partitions[j];
      kp_offset_for_leader_epoch_response_epoch_end_offset_init_defaults(po);
      po->partition = pi->partition;
      po->end_offset = -1;
      const sd_partition *p = t ? sd_topic_partition(t, pi->partition) : NULL;
      if (p == NULL || sd_partition_offline(req->broker, t, p, NULL)) {
        po->error_code =
            p ? SD_KERR_KAFKA_STORAGE_ERROR : SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        sd_req_count_error(req);
        continue;
      }
      if (pi->current_leader_epoch >= 0 && pi->current_leader_epoch != p->leader_epoch) {
        po->error_code = pi->current_leader_epoch > p->leader_epoch
                             ? SD_KERR_UNKNOWN_LEADER_EPOCH
                             : SD_KERR_FENCED_LEADER_EPOCH;
        sd_req_count_error(req);
        continue;
      }
      int32_t epoch = -1;
      int64_t end = -1;
      sl_log_end_offset_for_epoch(p->log, pi->leader_epoch, &epoch, &end);
      if (epoch < 0 && pi->leader_epoch >= p->leader_epoch) {
        /* No epoch recorded yet (an empty log): the current epoch ends at the LEO. */
        epoch = p->leader_epoch;
        end = sl_log_end_offset(p->log);
      }
      po->error_code = SD_KERR_NONE;
      po->end_offset = end;
      if (req->version >= 1)
        po->leader_epoch = epoch;
    }
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}

void sd_handle_describe_cluster(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_describe_cluster_request *rq = req->body;
  kp_describe_cluster_response *resp = NULL;
  kp_describe_cluster_response_describe_cluster_broker *brk = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0 ||
      kp_arena_alloc(&req->arena, 1, sizeof(*brk), (void **)&brk) != 0)
    return;
  kp_describe_cluster_response_init_defaults(resp);
  kp_describe_cluster_response_describe_cluster_broker_init_defaults(brk);
  resp->throttle_time_ms = 0;
  resp->endpoint_type = rq->endpoint_type;
  resp->cluster_id = kp_str_from(b->dirs.cluster_id);
  if (req->version >= 1 && rq->endpoint_type != 1) {
    /* Only brokers are described here: there is no separate controller. */
    resp->error_code = SD_KERR_UNSUPPORTED_ENDPOINT_TYPE;
    resp->error_message =
        arena_str(req, "The request was sent to an endpoint of type BROKER, "
                       "but we wanted an endpoint of type CONTROLLER");
    resp->brokers_count = 0;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  const sd_listener_cfg *ad = &b->cfg->advertised[req->listener];
  brk->broker_id = b->node_id;
  brk->host = kp_str_from(ad->host);
  brk->port = ad->port;
  brk->rack = KP_STR_NULL;
  resp->brokers = brk;
  resp->brokers_count = 1;
  resp->controller_id = b->node_id;
  resp->error_code = SD_KERR_NONE;
  sd_req_respond(req, resp);
}
