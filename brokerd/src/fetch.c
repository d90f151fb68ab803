/*
 * fetch.c - the Fetch (ApiKey 1, versions 4-13) and ListOffsets (ApiKey 2,
 * versions 1-7) handlers (docs/BROKER.md, "APIs").
 *
 * Fetch reads whole batches up to the high watermark (read_uncommitted) or
 * the last stable offset (read_committed), within
 * PartitionMaxBytes and the response's MaxBytes, except that the first
 * non-empty partition always returns its first batch even if larger (as
 * Kafka).  On plaintext connections the batches are not read at all: each
 * partition's sl_log_read slice becomes a hole in the answer that the server
 * fills with sendfile() from the segment file (sd_req_file_bytes; server.c,
 * "Zero-copy Fetch"); otherwise (SEGLOG_FETCH_SENDFILE=0) they are copied
 * with sl_log_read_copy.  Both give the same bytes.  Long polling: when fewer than
 * MinBytes are available the request parks (an sd_fetch_wait with a MaxWaitMs timer);
 * every successful produce wakes the parked fetches, which answer as soon as MinBytes are
 * there, and the timer answers with whatever there is.  Fetch sessions (KIP-227) are
 * declined: every answer carries SessionId 0, so clients send full fetches.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "faults.h"
#include "kp_fetch.h"
#include "kp_list_offsets.h"
#include "sdlog.h"

#define SD_KERR_FENCED_LEADER_EPOCH 74
#define SD_KERR_UNKNOWN_LEADER_EPOCH 75
#define SD_KERR_FETCH_SESSION_ID_NOT_FOUND 70
#define SD_KERR_INVALID_FETCH_SESSION_EPOCH 71

struct sd_fetch_wait {
  sd_fetch_wait *prev, *next;
  sd_broker *b;
  sd_req *req;
  uv_timer_t timer;
};

static int16_t epoch_check(const sd_partition *p, int32_t current) {
  if (current < 0 || current == p->leader_epoch)
    return SD_KERR_NONE;
  return current > p->leader_epoch ? SD_KERR_UNKNOWN_LEADER_EPOCH
                                   : SD_KERR_FENCED_LEADER_EPOCH;
}

/* Frees the record buffers and slices a run attached (when it does not
 * answer). */
static void drop_records(sd_req *req, kp_fetch_response *resp) {
  for (int32_t i = 0; i < resp->responses_count; i++) {
    kp_fetch_response_fetchable_topic_response *t = &resp->responses[i];
    for (int32_t j = 0; j < t->partitions_count; j++) {
      kp_fetch_response_partition_data *pd = &t->partitions[j];
      if (pd->records.len > 0)
        free((void *)pd->records.ptr);
      pd->records = (kp_bytes){(const uint8_t *)"", 0};
    }
  }
  sd_req_drop_files(req);
}

/*
 * Reads partition data from `offset` (at most `limit`, but the first batch
 * whatever its size, only batches below `upto`) into *records: a file-backed
 * hole on zero-copy connections, else a malloc'd copy.  *len = its size (0:
 * nothing to send, *records untouched).  skip_over: drop the read if larger
 * than this (a later partition may not exceed its limit).
 */
static int read_records(sd_req *req, sl_log *log, int64_t offset, int64_t limit,
                        int64_t upto, int64_t skip_over, kp_bytes *records, int64_t *len,
                        sl_diag *diag) {
  *len = 0;
  if (sd_req_zero_copy(req)) {
    sl_log_slice sl;
    int rc = sl_log_read(log, offset, limit > 0 ? limit : 1, upto, &sl, diag);
    if (rc != 0)
      return rc;
    if (sl.length == 0 || (skip_over >= 0 && sl.length > skip_over)) {
      sl_log_slice_release(&sl);
      return 0;
    }
    int64_t n = sl.length;
    if (sd_req_file_bytes(req, &sl, records) != 0)
      return sl_diag_set(diag, SL_ENOMEM, -1, "fetch of %lld bytes", (long long)n);
    *len = n;
    return 0;
  }
  sl_buf buf;
  sl_buf_init(&buf);
  int rc = sl_log_read_copy(log, offset, limit > 0 ? limit : 1, upto, &buf, NULL, diag);
  if (rc != 0 || buf.len == 0 || (skip_over >= 0 && (int64_t)buf.len > skip_over)) {
    sl_buf_release(&buf);
    return rc;
  }
  size_t n = 0;
  uint8_t *data = sl_buf_detach(&buf, &n);
  *records = (kp_bytes){data, (int32_t)n};
  *len = (int64_t)n;
  return 0;
}

/* Allocates the answer's arrays once per request (runs reuse them). */
static kp_fetch_response *fetch_response(sd_req *req) {
  if (req->ctx != NULL)
    return req->ctx;
  const kp_fetch_request *rq = req->body;
  kp_fetch_response *resp = NULL;
  if (kp_arena_alloc(&req->arena, 1, sizeof(*resp), (void **)&resp) != 0)
    return NULL;
  kp_fetch_response_init_defaults(resp);
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  if (kp_arena_alloc(&req->arena, (size_t)nt, sizeof(*resp->responses),
                     (void **)&resp->responses) != 0)
    return NULL;
  resp->responses_count = nt;
  for (int32_t i = 0; i < nt; i++) {
    kp_fetch_response_fetchable_topic_response *to = &resp->responses[i];
    kp_fetch_response_fetchable_topic_response_init_defaults(to);
    to->topic = rq->topics[i].topic;
    to->topic_id = rq->topics[i].topic_id;
    int32_t np = rq->topics[i].partitions_count > 0 ? rq->topics[i].partitions_count : 0;
    if (kp_arena_alloc(&req->arena, (size_t)np, sizeof(*to->partitions),
                       (void **)&to->partitions) != 0)
      return NULL;
    to->partitions_count = np;
    for (int32_t j = 0; j < np; j++) {
      kp_fetch_response_partition_data_init_defaults(&to->partitions[j]);
      to->partitions[j].records = (kp_bytes){(const uint8_t *)"", 0};
    }
  }
  req->ctx = resp;
  return resp;
}

/* One pass over the partitions.  Answers (true) when MinBytes are there, on
 * an error, or when `final`; otherwise leaves nothing allocated (false). */
static bool fetch_run(sd_req *req, bool final) {
  sd_broker *b = req->broker;
  const kp_fetch_request *rq = req->body;
  kp_fetch_response *resp = fetch_response(req);
  if (resp == NULL) {
    sd_req_abort(req, "out of memory");
    return true;
  }
  int64_t remaining = rq->max_bytes > 0 ? rq->max_bytes : 0;
  int64_t total = 0;
  bool any_error = false, any_data = false;
  for (int32_t i = 0; i < resp->responses_count; i++) {
    const kp_fetch_request_fetch_topic *ti = &rq->topics[i];
    kp_fetch_response_fetchable_topic_response *to = &resp->responses[i];
    const sd_topic *t = NULL;
    if (req->version >= 13)
      t = sd_topics_find_id(&b->topics, ti->topic_id.b);
    else if (ti->topic.len > 0)
      t = sd_topics_find(&b->topics, ti->topic.ptr, (size_t)ti->topic.len);
    for (int32_t j = 0; j < to->partitions_count; j++) {
      const kp_fetch_request_fetch_partition *pi = &ti->partitions[j];
      kp_fetch_response_partition_data *po = &to->partitions[j];
      po->partition_index = pi->partition;
      po->error_code = SD_KERR_NONE;
      po->high_watermark = -1;
      po->last_stable_offset = -1;
      po->log_start_offset = -1;
      po->preferred_read_replica = -1;
      po->aborted_transactions = NULL;
      po->aborted_transactions_count = rq->isolation_level == 1 ? 0 : -1;
      const sd_partition *p = t ? sd_topic_partition(t, pi->partition) : NULL;
      if (p == NULL) {
        po->error_code = t == NULL && req->version >= 13
                             ? SD_KERR_UNKNOWN_TOPIC_ID
                             : SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        any_error = true;
        continue;
      }
      if (sd_partition_offline(req->broker, t, p, NULL)) {
        po->error_code = SD_KERR_KAFKA_STORAGE_ERROR;
        any_error = true;
        continue;
      }
      po->error_code = epoch_check(p, pi->current_leader_epoch);
      if (po->error_code != SD_KERR_NONE) {
        any_error = true;
        continue;
      }
      sl_log *log = p->log;
      po->high_watermark = sl_log_high_watermark(log);
      po->last_stable_offset = sl_log_last_stable_offset(log);
      po->log_start_offset = sl_log_start_offset(log);
      int64_t limit = pi->partition_max_bytes;
      if (limit > remaining)
        limit = remaining;
      if (limit <= 0 && any_data)
        continue;
      int64_t upto =
          rq->isolation_level == 1 ? po->last_stable_offset : po->high_watermark;
      sl_diag diag;
      sl_diag_clear(&diag);
      int64_t len = 0;
      /* Only the first non-empty partition may exceed its limit. */
      int rc = read_records(req, log, pi->fetch_offset, limit, upto,
                            any_data ? limit : -1, &po->records, &len, &diag);
      if (rc != 0) {
        po->error_code = rc == SL_EOFFSET_OUT_OF_RANGE ? SD_KERR_OFFSET_OUT_OF_RANGE
                                                       : SD_KERR_KAFKA_STORAGE_ERROR;
        if (rc != SL_EOFFSET_OUT_OF_RANGE) {
          char dbuf[700];
          SD_WARN("fetch from %s-%d: %s", t->name, (int)pi->partition,
                  sl_diag_format(&diag, dbuf, sizeof(dbuf)));
        }
        any_error = true;
        continue;
      }
      if (len == 0)
        continue;
      total += len;
      remaining -= len;
      any_data = true;
    }
  }
  if (!final && !any_error && total < rq->min_bytes) {
    drop_records(req, resp);
    return false;
  }
  /* Answer: the record buffers now belong to the request. */
  for (int32_t i = 0; i < resp->responses_count; i++) {
    kp_fetch_response_fetchable_topic_response *to = &resp->responses[i];
    for (int32_t j = 0; j < to->partitions_count; j++) {
      kp_fetch_response_partition_data *po = &to->partitions[j];
      if (po->records.len > 0 && sd_req_own(req, (void *)po->records.ptr) != 0) {
        po->records = (kp_bytes){(const uint8_t *)"", 0};
        po->error_code = SD_KERR_UNKNOWN_SERVER_ERROR;
      }
      if (po->error_code != SD_KERR_NONE)
        sd_req_count_error(req);
    }
  }
  resp->throttle_time_ms = 0;
  resp->error_code = SD_KERR_NONE;
  resp->session_id = 0;
  sd_req_respond(req, resp);
  return true;
}

static void wait_unlink(sd_fetch_wait *w) {
  if (w->prev)
    w->prev->next = w->next;
  else
    w->b->fetch_waits = w->next;
  if (w->next)
    w->next->prev = w->prev;
  w->prev = w->next = NULL;
}

static void wait_closed(uv_handle_t *h) {
  free(h->data);
}

static void wait_finish(sd_fetch_wait *w) {
  wait_unlink(w);
  uv_timer_stop(&w->timer);
  uv_close((uv_handle_t *)&w->timer, wait_closed);
}

static void on_wait_timeout(uv_timer_t *timer) {
  sd_fetch_wait *w = timer->data;
  sd_req *req = w->req;
  wait_finish(w);
  fetch_run(req, true);
}

void sd_fetch_wake(sd_broker *b) {
  sd_fetch_wait *next;
  for (sd_fetch_wait *w = b->fetch_waits; w; w = next) {
    next = w->next;
    sd_req *req = w->req;
    /* Unlink first: answering may run other handlers' code. */
    wait_unlink(w);
    if (fetch_run(req, false)) {
      uv_timer_stop(&w->timer);
      uv_close((uv_handle_t *)&w->timer, wait_closed);
    } else {
      w->next = b->fetch_waits;
      if (b->fetch_waits)
        b->fetch_waits->prev = w;
      b->fetch_waits = w;
    }
  }
}

void sd_fetch_stop(sd_broker *b) {
  while (b->fetch_waits) {
    sd_fetch_wait *w = b->fetch_waits;
    sd_req *req = w->req;
    wait_finish(w);
    fetch_run(req, true);
  }
}

void sd_handle_fetch(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_fetch_request *rq = req->body;
  if (rq->session_id != 0 || rq->session_epoch > 0) {
    /* We never hand out sessions, so no session can be continued. */
    kp_fetch_response *resp = NULL;
    if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
      return;
    kp_fetch_response_init_defaults(resp);
    resp->error_code = rq->session_id != 0 ? SD_KERR_FETCH_SESSION_ID_NOT_FOUND
                                           : SD_KERR_INVALID_FETCH_SESSION_EPOCH;
    resp->responses_count = 0;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  bool final = rq->max_wait_ms <= 0 || sd_server_stopping(b);
  if (fetch_run(req, final))
    return;
  sd_fetch_wait *w = calloc(1, sizeof(*w));
  if (w == NULL) {
    fetch_run(req, true);
    return;
  }
  w->b = b;
  w->req = req;
  uv_timer_init(b->loop, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, on_wait_timeout, (uint64_t)rq->max_wait_ms, 0);
  w->next = b->fetch_waits;
  if (b->fetch_waits)
    b->fetch_waits->prev = w;
  b->fetch_waits = w;
}

void sd_handle_list_offsets(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_list_offsets_request *rq = req->body;
  kp_list_offsets_response *resp = NULL;
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_list_offsets_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->topics), (void **)&resp->topics) != 0)
    return;
  resp->topics_count = nt;
  for (int32_t i = 0; i < nt; i++) {
    const kp_list_offsets_request_list_offsets_topic *ti = &rq->topics[i];
    kp_list_offsets_response_list_offsets_topic_response *to = &resp->topics[i];
    kp_list_offsets_response_list_offsets_topic_response_init_defaults(to);
    to->name = ti->name;
    const sd_topic *t =
        ti->name.len > 0 ? sd_topics_find(&b->topics, ti->name.ptr, (size_t)ti->name.len)
                         : NULL;
    int32_t np = ti->partitions_count > 0 ? ti->partitions_count : 0;
    if (sd_req_alloc(req, (size_t)np, sizeof(*to->partitions),
                     (void **)&to->partitions) != 0)
      return;
    to->partitions_count = np;
    for (int32_t j = 0; j < np; j++) {
      const kp_list_offsets_request_list_offsets_partition *pi = &ti->partitions[j];
      kp_list_offsets_response_list_offsets_partition_response *po = &to->partitions[j];
      kp_list_offsets_response_list_offsets_partition_response_init_defaults(po);
      po->partition_index = pi->partition_index;
      po->timestamp = -1;
      po->offset = -1;
      const sd_partition *p = t ? sd_topic_partition(t, pi->partition_index) : NULL;
      if (p == NULL || sd_partition_offline(b, t, p, NULL)) {
        po->error_code =
            p ? SD_KERR_KAFKA_STORAGE_ERROR : SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        sd_req_count_error(req);
        continue;
      }
      po->error_code = epoch_check(p, pi->current_leader_epoch);
      if (po->error_code != SD_KERR_NONE) {
        sd_req_count_error(req);
        continue;
      }
      if (req->version >= 4)
        po->leader_epoch = p->leader_epoch;
      int64_t ts = pi->timestamp;
      if (ts == SL_LIST_LATEST) {
        po->offset = rq->isolation_level == 1 ? sl_log_last_stable_offset(p->log)
                                              : sl_log_high_watermark(p->log);
      } else if (ts == SL_LIST_EARLIEST || ts == SL_LIST_EARLIEST_LOCAL) {
        po->offset = sl_log_start_offset(p->log);
      } else if (ts == SL_LIST_MAX_TIMESTAMP && req->version < 7) {
        po->error_code = SD_KERR_UNSUPPORTED_VERSION;
        sd_req_count_error(req);
      } else if (ts < 0 && ts != SL_LIST_MAX_TIMESTAMP) {
        po->error_code = SD_KERR_INVALID_REQUEST;
        sd_req_count_error(req);
      } else {
        int64_t off = -1, found_ts = -1;
        sl_diag diag;
        sl_diag_clear(&diag);
        int rc = sl_log_find_offset_by_time(p->log, ts, &off, &found_ts, &diag);
        if (rc == 0) {
          po->offset = off;
          po->timestamp = found_ts;
        } else if (rc != SL_ENOT_FOUND) {
          po->error_code = SD_KERR_KAFKA_STORAGE_ERROR;
          sd_req_count_error(req);
        }
      }
    }
  }
  resp->throttle_time_ms = 0;
  sd_req_respond(req, resp);
}
