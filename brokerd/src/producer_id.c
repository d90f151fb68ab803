/*
 * producer_id.c - the InitProducerId handler (ApiKey 22, versions 0-4) for
 * idempotent producers (docs/BROKER.md, "APIs").  Producer ids are drawn from
 * the wall clock (milliseconds << 10), never below the last one handed out,
 * so they stay unique across restarts of this single node without a file;
 * the per-partition sequence and epoch checks live in the log's producer
 * state (sl_log_append).  A producer that passes its current id and epoch
 * (KIP-360, v3+) gets the epoch bumped, or a new id when the epoch is
 * exhausted.  Transactional ids are refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED until transactions land.
 */
#include <time.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_init_producer_id.h"

#define SD_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED 53
#define PRODUCER_EPOCH_MAX 32766

static int64_t next_producer_id(sd_broker *b) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  int64_t id = now_ms << 10;
  if (id <= b->last_producer_id)
    id = b->last_producer_id + 1;
  b->last_producer_id = id;
  return id;
}

void sd_handle_init_producer_id(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_init_producer_id_request *rq = req->body;
  kp_init_producer_id_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_init_producer_id_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  if (rq->transactional_id.len >= 0) {
    resp->error_code = SD_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    resp->producer_id = -1;
    resp->producer_epoch = -1;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  if (rq->producer_id >= 0 && rq->producer_epoch >= 0 &&
      rq->producer_epoch < PRODUCER_EPOCH_MAX) {
    resp->producer_id = rq->producer_id;
    resp->producer_epoch = (int16_t)(rq->producer_epoch + 1);
  } else {
    resp->producer_id = next_producer_id(b);
    resp->producer_epoch = 0;
  }
  resp->error_code = SD_KERR_NONE;
  sd_req_respond(req, resp);
}
