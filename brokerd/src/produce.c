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
 * and message.timestamp.type are the log's config (sl_log_append); acks=-1
 * gets NOT_ENOUGH_REPLICAS while the topic's min.insync.replicas exceeds the
 * ISR (this node); on a CreateTime topic with message.timestamp.before/
 * after.max.ms (or difference.max.ms) records outside that window get
 * INVALID_TIMESTAMP with record errors, as Kafka's LogValidator answers.  docs/BROKER.md,
 * "APIs".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "kerrors.h"
#include "faults.h"
#include "kp_produce.h"
#include "recompress.h"
#include "seglog/batch.h"
#include "sdlog.h"

static kp_str arena_str(sd_req *req, const char *s) {
  size_t n = strlen(s);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 1, 1, (void **)&p) != 0)
    return KP_STR_NULL;
  memcpy(p, s, n);
  return (kp_str){p, (int32_t)n};
}

static int16_t req_acks(const sd_req *req) {
  return ((const kp_produce_request *)req->body)->acks;
}

/*
 * Kafka's LogValidator timestamp rule for a CreateTime topic with
 * message.timestamp.before/after.max.ms (or the older difference.max.ms):
 * every record's timestamp must lie in [now - before, now + after].  On the
 * first batch with records outside, fills `out` (INVALID_TIMESTAMP with a
 * record error per such record, v8+) and returns true.  Malformed batches are
 * left to sl_log_append.
 */
static bool timestamps_refused(sd_req *req, const sd_topic *t, const uint8_t *data,
                               size_t len,
                               kp_produce_response_partition_produce_response *out) {
  if (t->log_cfg.message_timestamp_type != SL_TIMESTAMP_CREATE_TIME ||
      (t->ts_before_ms == INT64_MAX && t->ts_after_ms == INT64_MAX))
    return false;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  int64_t lo = now - t->ts_before_ms; /* now > 0: no overflow */
  int64_t hi = t->ts_after_ms > INT64_MAX - now ? INT64_MAX : now + t->ts_after_ms;
  sl_batch_reader *r = NULL;
  if (sl_batch_reader_new(0, &r) != 0)
    return false;
  bool refused = false;
  size_t pos = 0;
  while (!refused && pos < len) {
    int64_t base;
    int32_t size;
    int8_t magic;
    if (sl_batch_peek(data + pos, len - pos, &base, &size, &magic) != 0 ||
        (size_t)size > len - pos)
      break;
    sl_batch_header h;
    if (magic == 2 && sl_batch_reader_open(r, data + pos, (size_t)size, &h, NULL) == 0 &&
        !sl_batch_is_control(&h)) {
      sl_record rec;
      int32_t index = 0, bad = 0;
      kp_produce_response_batch_index_and_error_message *errs = NULL;
      while (sl_batch_reader_next(r, &rec, NULL) == 1) {
        if (rec.timestamp >= 0 && (rec.timestamp < lo || rec.timestamp > hi)) {
          if (errs == NULL && kp_arena_alloc(&req->arena, (size_t)h.records_count,
                                             sizeof(*errs), (void **)&errs) != 0)
            break;
          char msg[300];
          snprintf(msg, sizeof(msg),
                   "Timestamp %lld of message with offset %lld is out of range. The "
                   "timestamp should be within [%lld, %lld]",
                   (long long)rec.timestamp, (long long)rec.offset, (long long)lo,
                   (long long)hi);
          if (bad < h.records_count) {
            kp_produce_response_batch_index_and_error_message_init_defaults(&errs[bad]);
            errs[bad].batch_index = index;
            errs[bad].batch_index_error_message = arena_str(req, msg);
            if (bad == 0)
              out->error_message = errs[0].batch_index_error_message;
            bad++;
          }
        }
        index++;
      }
      if (bad > 0) {
        refused = true;
        out->error_code = SD_KERR_INVALID_TIMESTAMP;
        out->record_errors = errs;
        out->record_errors_count = bad;
      }
    }
    pos += (size_t)size;
  }
  sl_batch_reader_free(r);
  return refused;
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
  if (t != NULL && t->internal) {
    /* Only the coordinators write internal topics (Kafka's ReplicaManager
     * with internalTopicsAllowed = false for client Produce requests). */
    char msg[300];
    snprintf(msg, sizeof(msg), "Cannot append to internal topic %s", t->name);
    out->error_code = SD_KERR_INVALID_TOPIC_EXCEPTION;
    out->error_message = arena_str(req, msg);
    sd_req_count_error(req);
    return;
  }
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
  if (req_acks(req) == -1 && t->min_isr > 1) {
    /* Kafka refuses acks=all while the ISR (this node) is below the topic's
     * min.insync.replicas. */
    char msg[400];
    snprintf(msg, sizeof(msg),
             "The size of the current ISR Set(%d) is insufficient to satisfy the min.isr "
             "requirement of %d for partition %s-%d",
             (int)req->broker->node_id, (int)t->min_isr, t->name, (int)in->index);
    out->error_code = SD_KERR_NOT_ENOUGH_REPLICAS;
    out->error_message = arena_str(req, msg);
    out->log_start_offset = sl_log_start_offset(p->log);
    sd_req_count_error(req);
    return;
  }
  if (in->records.len <= 0) {
    out->error_code = SD_KERR_CORRUPT_MESSAGE;
    out->error_message = arena_str(req, "no record batches");
    return;
  }
  if (timestamps_refused(req, t, in->records.ptr, (size_t)in->records.len, out)) {
    out->log_start_offset = sl_log_start_offset(p->log);
    SD_DEBUG("produce to %s-%d: %.*s", t->name, in->index, (int)out->error_message.len,
             out->error_message.ptr);
    sd_req_count_error(req);
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
