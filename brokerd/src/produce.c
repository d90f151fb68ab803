/*
 * produce.c - the Produce handler (ApiKey 0, versions 3-9): each partition's
 * record batches are appended through sl_log_append as the leader (offsets,
 * leader epoch and LogAppendTime assigned by the log; CRC, magic, size and
 * producer-sequence checks done there), then the high watermark moves to the
 * log end offset (the ISR is this node alone) and parked fetches wake.
 * acks=0 gets no answer; acks=1 and acks=-1 are answered after the append
 * (with one replica both mean "written to the leader's log").  A retried
 * idempotent batch gets its original offsets back.  With a topic
 * compression.type other than "producer", batches in another codec are
 * rebuilt in that codec first (recompress.c); the topic's max.message.bytes
 * and message.timestamp.type are the log's config (sl_log_append).  docs/BROKER.md,
 * "APIs".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "faults.h"
#include "kp_produce.h"
#include "recompress.h"
#include "sdlog.h"

static kp_str arena_str(sd_req *req, const char *s) {
  size_t n = strlen(s);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 1, 1, (void **)&p) != 0)
    return KP_STR_NULL;
  memcpy(p, s, n);
  return (kp_str){p, (int32_t)n};
}

static void produce_partition(sd_req *req, const sd_topic *t,
                              const kp_produce_request_partition_produce_data *in,
                              kp_produce_response_partition_produce_response *out,
                              bool *appended) {
  out->index = in->index;
  out->base_offset = -1;
  out->log_append_time_ms = -1;
  out->log_start_offset = -1;
  out->record_errors_count = 0;
  const sd_partition *p = t ? sd_topic_partition(t, in->index) : NULL;
  if (p == NULL) {
    out->error_code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    return;
  }
  if (sd_partition_offline(req->broker, t, p, NULL)) {
    out->error_code = SD_KERR_KAFKA_STORAGE_ERROR;
    out->error_message = arena_str(req, "partition offline after a storage failure");
    sd_req_count_error(req);
    return;
  }
  if (in->records.len <= 0) {
    out->error_code = SD_KERR_CORRUPT_MESSAGE;
    out->error_message = arena_str(req, "no record batches");
    return;
  }
  sl_append_info info;
  memset(&info, 0, sizeof(info));
  sl_diag diag;
  sl_diag_clear(&diag);
  /* The records live in this request's frame, which the server owns and lets
   * the log patch in place (offsets, epoch, LogAppendTime, CRC). */
  uint8_t *data = (uint8_t *)in->records.ptr;
  size_t len = (size_t)in->records.len;
  uint8_t *rebuilt = NULL;
  sl_compression target;
  int rc = 0;
  if (sd_compression_target(t->compression, &target)) { /* the topic's compression.type */
    size_t rlen = 0;
    rc = sd_recompress(data, len, target, &rebuilt, &rlen, &diag);
    if (rc == 0) {
      data = rebuilt;
      len = rlen;
    } else if (rc == 1) {
      rc = 0;
    }
  }
  if (rc == 0)
    rc = sl_log_append(p->log, data, len, SL_APPEND_LEADER, p->leader_epoch, 0, &info,
                       &diag);
  free(rebuilt);
  if (rc == SL_EDUPLICATE_SEQUENCE && info.duplicate)
    rc = 0;
  if (rc != 0) {
    out->error_code =
        rc == SL_EUNSUPPORTED ? SD_KERR_INVALID_RECORD : sd_kerr_from_sl(rc);
    char buf[700];
    out->error_message = arena_str(req, sl_diag_format(&diag, buf, sizeof(buf)));
    out->log_start_offset = sl_log_start_offset(p->log);
    SD_DEBUG("produce to %s-%d failed: %s", t->name, in->index, buf);
    sd_partition_offline(req->broker, t, p, buf); /* logs a failure that latched now */
    sd_req_count_error(req);
    return;
  }
  sl_log_set_high_watermark(p->log, sl_log_end_offset(p->log));
  out->error_code = SD_KERR_NONE;
  out->base_offset = info.first_offset;
  out->log_append_time_ms = info.log_append_time;
  out->log_start_offset = sl_log_start_offset(p->log);
  *appended = true;
}

void sd_handle_produce(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_produce_request *rq = req->body;
  kp_produce_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_produce_response_init_defaults(resp);
  bool bad_acks = rq->acks != 0 && rq->acks != 1 && rq->acks != -1;
  int32_t nt = rq->topic_data_count > 0 ? rq->topic_data_count : 0;
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->responses),
                   (void **)&resp->responses) != 0)
    return;
  resp->responses_count = nt;
  bool appended = false;
  for (int32_t i = 0; i < nt; i++) {
    const kp_produce_request_topic_produce_data *ti = &rq->topic_data[i];
    kp_produce_response_topic_produce_response *to = &resp->responses[i];
    kp_produce_response_topic_produce_response_init_defaults(to);
    to->name = ti->name;
    const sd_topic *t =
        ti->name.len > 0 ? sd_topics_find(&b->topics, ti->name.ptr, (size_t)ti->name.len)
                         : NULL;
    int32_t np = ti->partition_data_count > 0 ? ti->partition_data_count : 0;
    if (sd_req_alloc(req, (size_t)np, sizeof(*to->partition_responses),
                     (void **)&to->partition_responses) != 0)
      return;
    to->partition_responses_count = np;
    for (int32_t j = 0; j < np; j++) {
      kp_produce_response_partition_produce_response *po = &to->partition_responses[j];
      kp_produce_response_partition_produce_response_init_defaults(po);
      if (bad_acks) {
        po->index = ti->partition_data[j].index;
        po->error_code = SD_KERR_INVALID_REQUIRED_ACKS;
        po->base_offset = -1;
        sd_req_count_error(req);
        continue;
      }
      if (t == NULL)
        sd_req_count_error(req);
      produce_partition(req, t, &ti->partition_data[j], po, &appended);
    }
  }
  if (appended)
    sd_fetch_wake(b);
  if (rq->acks == 0)
    sd_req_no_response(req);
  else
    sd_req_respond(req, resp);
}
