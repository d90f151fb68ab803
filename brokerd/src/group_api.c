/*
 * group_api.c - the membership half of seglogd's group coordinator on the
 * broker: the groups.h functions of group.c's half (start-up, shutdown,
 * replay, the offset-commit checks), the libuv timer that drives the state
 * machine's deadlines (group.c), persistence of GroupMetadataValue through
 * offsets.c, and the handlers FindCoordinator (10), JoinGroup (11),
 * Heartbeat (12), LeaveGroup (13), SyncGroup (14), DescribeGroups (15),
 * ListGroups (16) and DeleteGroups (42).  docs/GROUPS.md, "Membership".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dispatch.h"
#include "group_int.h"
#include "group_store.h"
#include "groups.h"
#include "kerrors.h"
#include "kp_delete_groups.h"
#include "kp_describe_groups.h"
#include "kp_find_coordinator.h"
#include "kp_heartbeat.h"
#include "kp_join_group.h"
#include "kp_leave_group.h"
#include "kp_list_groups.h"
#include "kp_sync_group.h"
#include "sdlog.h"

struct sd_groups {
  sd_broker *b;
  sdg_coord *c;
  uv_timer_t timer;
  bool timer_open;
  int64_t armed; /* deadline the timer is set for; SDG_NO_DEADLINE: stopped */
};

/* AclOperation bits of READ, DELETE and DESCRIBE: what a group allows when
 * there is no authorizer (IncludeAuthorizedOperations). */
#define GROUP_AUTHORIZED_OPS ((1 << 3) | (1 << 6) | (1 << 8))

static int64_t now_ms(const sd_groups *gs) {
  return (int64_t)uv_now(gs->b->loop);
}

static void on_timer(uv_timer_t *t);

static void rearm(sd_groups *gs) {
  if (!gs->timer_open)
    return;
  int64_t d = sdg_next_deadline(gs->c);
  if (d == gs->armed)
    return;
  if (d == SDG_NO_DEADLINE) {
    uv_timer_stop(&gs->timer);
    gs->armed = SDG_NO_DEADLINE;
    return;
  }
  int64_t now = now_ms(gs);
  uv_timer_start(&gs->timer, on_timer, d > now ? (uint64_t)(d - now) : 0, 0);
  gs->armed = d;
}

static void on_timer(uv_timer_t *t) {
  sd_groups *gs = t->data;
  gs->armed = SDG_NO_DEADLINE;
  sdg_tick(gs->c, now_ms(gs));
  rearm(gs);
}

/* ---- hooks: answers and storage ----------------------------------------- */

static void join_done(void *ctx, void *waiter, const sdg_join_result *r) {
  (void)ctx;
  sd_req *req = waiter;
  kp_join_group_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_join_group_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  resp->error_code = r->error;
  resp->generation_id = r->generation;
  if (req->version >= 7) {
    resp->protocol_type = r->protocol_type;
    resp->protocol_name = r->protocol_name;
  } else {
    resp->protocol_name = r->protocol_name.len >= 0 ? r->protocol_name : KP_STR("");
  }
  resp->leader = r->leader;
  resp->skip_assignment = req->version >= 9 && r->skip_assignment;
  resp->member_id = r->member_id;
  resp->members_count = 0;
  if (r->n_members > 0) {
    if (sd_req_alloc(req, (size_t)r->n_members, sizeof(*resp->members),
                     (void **)&resp->members) != 0)
      return;
    for (int32_t i = 0; i < r->n_members; i++) {
      kp_join_group_response_member *m = &resp->members[i];
      kp_join_group_response_member_init_defaults(m);
      m->member_id = r->members[i].member_id;
      m->group_instance_id = req->version >= 5 ? r->members[i].instance_id : KP_STR_NULL;
      m->metadata = r->members[i].metadata;
    }
    resp->members_count = r->n_members;
  }
  if (r->error != 0)
    sd_req_count_error(req);
  sd_req_respond(req, resp);
}

static void sync_done(void *ctx, void *waiter, const sdg_sync_result *r) {
  (void)ctx;
  sd_req *req = waiter;
  kp_sync_group_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_sync_group_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  resp->error_code = r->error;
  if (req->version >= 5) {
    resp->protocol_type = r->protocol_type;
    resp->protocol_name = r->protocol_name;
  }
  resp->assignment = r->assignment;
  if (r->error != 0)
    sd_req_count_error(req);
  sd_req_respond(req, resp);
}

/* GroupMetadataManager.storeGroup's error mapping. */
static int16_t store_error(int sl_rc) {
  int16_t e = sd_kerr_from_sl(sl_rc);
  if (e == SD_KERR_MESSAGE_TOO_LARGE || e == SD_KERR_RECORD_LIST_TOO_LARGE ||
      e == SD_KERR_CORRUPT_MESSAGE || e == SD_KERR_INVALID_RECORD)
    return SDG_ERR_UNKNOWN_SERVER_ERROR;
  if (e == SD_KERR_UNKNOWN_TOPIC_OR_PARTITION || e == SD_KERR_NOT_ENOUGH_REPLICAS ||
      e == SD_KERR_REQUEST_TIMED_OUT)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  return e;
}

static int16_t store_hook(void *ctx, const sdg_group *g) {
  sd_broker *b = ctx;
  uint8_t *v = NULL;
  size_t len = 0;
  int rc = sdg_store_encode(g, &v, &len);
  if (rc == SL_OK)
    rc = sd_offsets_store_group(b, (kp_str){g->id.p, g->id.len}, v, len);
  free(v);
  if (rc != SL_OK) {
    SD_WARN("group %s: cannot store its metadata: %s", g->id.p, sl_strerror(rc));
    return store_error(rc);
  }
  return 0;
}

static void deleted_hook(void *ctx, const sdg_group *g, bool via_delete_groups) {
  sd_broker *b = ctx;
  kp_str id = {g->id.p, g->id.len};
  int rc;
  if (via_delete_groups)
    rc = sd_offsets_delete_group(b, id);
  else if (g->generation > 0) /* Kafka writes no tombstone for offsets-only groups */
    rc = sd_offsets_store_group(b, id, NULL, 0);
  else
    rc = SL_OK;
  if (rc != SL_OK)
    SD_WARN("group %s: cannot write its tombstones: %s", g->id.p, sl_strerror(rc));
  else
    SD_INFO("group %s deleted", g->id.p);
}

static int64_t wall_hook(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- groups.h ------------------------------------------------------------- */

int sd_groups_init(sd_broker *b, char *err, size_t errcap) {
  sd_groups *gs = calloc(1, sizeof(*gs));
  if (gs == NULL) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  sdg_config cfg = {
      .min_session_ms = (int32_t)sd_cfg_i(b->cfg, SD_CFG_GROUP_MIN_SESSION_TIMEOUT_MS),
      .max_session_ms = (int32_t)sd_cfg_i(b->cfg, SD_CFG_GROUP_MAX_SESSION_TIMEOUT_MS),
      .initial_rebalance_delay_ms =
          (int32_t)sd_cfg_i(b->cfg, SD_CFG_GROUP_INITIAL_REBALANCE_DELAY_MS),
      .max_size = (int32_t)sd_cfg_i(b->cfg, SD_CFG_GROUP_MAX_SIZE),
  };
  sdg_hooks hooks = {
      .ctx = b,
      .join_done = join_done,
      .sync_done = sync_done,
      .store = store_hook,
      .deleted = deleted_hook,
      .wall_ms = wall_hook,
  };
  gs->b = b;
  gs->c = sdg_new(&cfg, &hooks);
  if (gs->c == NULL) {
    free(gs);
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  gs->armed = SDG_NO_DEADLINE;
  if (b->loop != NULL && uv_timer_init(b->loop, &gs->timer) == 0) {
    gs->timer.data = gs;
    uv_unref((uv_handle_t *)&gs->timer);
    gs->timer_open = true;
  }
  b->groups = gs;
  return 0;
}

void sd_groups_stop(sd_broker *b) {
  sd_groups *gs = b ? b->groups : NULL;
  if (gs == NULL)
    return;
  sdg_stop(gs->c, SDG_ERR_NOT_COORDINATOR);
  if (gs->timer_open) {
    uv_timer_stop(&gs->timer);
    if (!uv_is_closing((uv_handle_t *)&gs->timer))
      uv_close((uv_handle_t *)&gs->timer, NULL);
    gs->timer_open = false;
  }
}

void sd_groups_free(sd_broker *b) {
  sd_groups *gs = b ? b->groups : NULL;
  if (gs == NULL)
    return;
  sdg_free(gs->c);
  free(gs);
  b->groups = NULL;
}

int sd_groups_replay(sd_broker *b, kp_str group, const uint8_t *value, size_t len) {
  sd_groups *gs = b->groups;
  if (value == NULL)
    return sdg_replay(gs->c, group, NULL, now_ms(gs));
  sdg_stored_group sg;
  kp_arena arena;
  kp_arena_init(&arena, len * 8 + 4096); /* decoded arrays are bounded by the bytes */
  int rc = -1;
  if (sdg_store_decode(value, len, &arena, &sg) == 0)
    rc = sdg_replay(gs->c, group, &sg, now_ms(gs));
  kp_arena_release(&arena);
  rearm(gs);
  return rc;
}

void sd_groups_touch(sd_broker *b, kp_str group) {
  (void)sdg_touch(b->groups->c, group);
}

int16_t sd_groups_check_commit(sd_broker *b, kp_str group, kp_str member_id,
                               kp_str instance_id, int32_t generation_id) {
  sd_groups *gs = b->groups;
  int16_t e =
      sdg_check_commit(gs->c, group, member_id, instance_id, generation_id, now_ms(gs));
  rearm(gs);
  return e;
}

int16_t sd_groups_check_offset_delete(sd_broker *b, kp_str group, kp_str topic) {
  return sdg_check_offset_delete(b->groups->c, group, topic);
}

void sd_groups_offsets_gone(sd_broker *b, kp_str group) {
  sdg_offsets_gone(b->groups->c, group);
}

size_t sd_groups_metrics_render(const sd_broker *b, char *buf, size_t cap) {
  const sd_groups *gs = b ? b->groups : NULL;
  int64_t by_state[SDG_DEAD + 1] = {0};
  uint64_t started = 0, completed = 0;
  if (gs != NULL) {
    for (const sdg_group *g = gs->c->list; g != NULL; g = g->list_next)
      by_state[g->state]++;
    started = gs->c->rebalances;
    completed = gs->c->completed_rebalances;
  }
  int n = snprintf(
      buf, cap,
      "# HELP seglog_groups Consumer groups, per state.\n# TYPE seglog_groups gauge\n"
      "seglog_groups{state=\"Empty\"} %lld\nseglog_groups{state=\"PreparingRebalance\"} "
      "%lld\n"
      "seglog_groups{state=\"CompletingRebalance\"} "
      "%lld\nseglog_groups{state=\"Stable\"} "
      "%lld\n"
      "# HELP seglog_group_rebalances_total Rebalances started (PreparingRebalance).\n"
      "# TYPE seglog_group_rebalances_total counter\nseglog_group_rebalances_total %llu\n"
      "# HELP seglog_group_rebalances_completed_total Rebalances completed (leader's "
      "SyncGroup stored).\n# TYPE seglog_group_rebalances_completed_total counter\n"
      "seglog_group_rebalances_completed_total %llu\n",
      (long long)by_state[SDG_EMPTY], (long long)by_state[SDG_PREPARING_REBALANCE],
      (long long)by_state[SDG_COMPLETING_REBALANCE], (long long)by_state[SDG_STABLE],
      (unsigned long long)started, (unsigned long long)completed);
  return n < 0 ? 0 : (size_t)n;
}

/* ---- handlers --------------------------------------------------------------- */

static kp_str client_host(sd_req *req) {
  /* Kafka's clientAddress.toString: "/<ip>". */
  const char *peer = sd_req_peer(req);
  const char *colon = strrchr(peer, ':');
  size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 2, 1, (void **)&p) != 0)
    return KP_STR("");
  p[0] = '/';
  memcpy(p + 1, peer, n);
  return (kp_str){p, (int32_t)(n + 1)};
}

static kp_str header_client_id(const sd_req *req) {
  return req->hdr.client_id.len >= 0 ? req->hdr.client_id : KP_STR("");
}

void sd_handle_find_coordinator(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_find_coordinator_request *rq = req->body;
  kp_find_coordinator_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_find_coordinator_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  const sd_listener_cfg *ad = &b->cfg->advertised[req->listener];
  int16_t err;
  /* CoordinatorType: 0 GROUP (this node), 1 TRANSACTION (no transaction
   * coordinator yet); anything else is an invalid request (Kafka). */
  if (rq->key_type == 0)
    err = SDG_ERR_NONE;
  else if (rq->key_type == 1)
    err = SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  else
    err = SDG_ERR_INVALID_REQUEST;
  kp_str msg = err == 0 ? KP_STR("NONE")
               : err == SDG_ERR_INVALID_REQUEST
                   ? KP_STR("Unknown coordinator type")
                   : KP_STR("The coordinator is not available.");
  if (req->version < 4) {
    resp->error_code = err;
    resp->error_message = msg;
    resp->node_id = err == 0 ? b->node_id : -1;
    resp->host = err == 0 ? kp_str_from(ad->host) : KP_STR("");
    resp->port = err == 0 ? ad->port : -1;
    if (err != 0)
      sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  int32_t n = rq->coordinator_keys_count < 0 ? 0 : rq->coordinator_keys_count;
  if (n > 0 && sd_req_alloc(req, (size_t)n, sizeof(*resp->coordinators),
                            (void **)&resp->coordinators) != 0)
    return;
  for (int32_t i = 0; i < n; i++) {
    kp_find_coordinator_response_coordinator *co = &resp->coordinators[i];
    kp_find_coordinator_response_coordinator_init_defaults(co);
    co->key = rq->coordinator_keys[i];
    co->error_code = err;
    co->error_message = msg;
    co->node_id = err == 0 ? b->node_id : -1;
    co->host = err == 0 ? kp_str_from(ad->host) : KP_STR("");
    co->port = err == 0 ? ad->port : -1;
  }
  resp->coordinators_count = n;
  if (err != 0)
    sd_req_count_error(req);
  sd_req_respond(req, resp);
}

void sd_handle_join_group(sd_req *req) {
  sd_groups *gs = req->broker->groups;
  const kp_join_group_request *rq = req->body;
  int32_t n = rq->protocols_count < 0 ? 0 : rq->protocols_count;
  sdg_join_protocol *protos = NULL;
  if (n > 0 && sd_req_alloc(req, (size_t)n, sizeof(*protos), (void **)&protos) != 0)
    return;
  for (int32_t i = 0; i < n; i++) {
    protos[i].name = rq->protocols[i].name;
    protos[i].metadata = rq->protocols[i].metadata;
  }
  sdg_join_args a;
  memset(&a, 0, sizeof(a));
  a.group_id = rq->group_id;
  a.member_id = rq->member_id;
  a.instance_id = req->version >= 5 ? rq->group_instance_id : KP_STR_NULL;
  a.protocol_type = rq->protocol_type;
  a.client_id = header_client_id(req);
  a.client_host = client_host(req);
  a.session_ms = rq->session_timeout_ms;
  /* v0 has no rebalance timeout: Kafka uses the session timeout. */
  a.rebalance_ms = req->version >= 1 ? rq->rebalance_timeout_ms : rq->session_timeout_ms;
  a.protos = protos;
  a.n_protos = n;
  a.require_known_member_id = req->version >= 4 && a.instance_id.len < 0;
  a.support_skip_assignment = req->version >= 9;
  a.waiter = req;
  sdg_join(gs->c, &a, now_ms(gs));
  rearm(gs);
}

void sd_handle_sync_group(sd_req *req) {
  sd_groups *gs = req->broker->groups;
  const kp_sync_group_request *rq = req->body;
  int32_t n = rq->assignments_count < 0 ? 0 : rq->assignments_count;
  sdg_assignment *as = NULL;
  if (n > 0 && sd_req_alloc(req, (size_t)n, sizeof(*as), (void **)&as) != 0)
    return;
  for (int32_t i = 0; i < n; i++) {
    as[i].member_id = rq->assignments[i].member_id;
    as[i].assignment = rq->assignments[i].assignment;
  }
  sdg_sync(gs->c, rq->group_id, rq->generation_id, rq->member_id,
           req->version >= 3 ? rq->group_instance_id : KP_STR_NULL,
           req->version >= 5 ? rq->protocol_type : KP_STR_NULL,
           req->version >= 5 ? rq->protocol_name : KP_STR_NULL, as, n, req, now_ms(gs));
  rearm(gs);
}

void sd_handle_heartbeat(sd_req *req) {
  sd_groups *gs = req->broker->groups;
  const kp_heartbeat_request *rq = req->body;
  kp_heartbeat_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_heartbeat_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  resp->error_code =
      sdg_heartbeat(gs->c, rq->group_id, rq->member_id,
                    req->version >= 3 ? rq->group_instance_id : KP_STR_NULL,
                    rq->generation_id, now_ms(gs));
  rearm(gs);
  if (resp->error_code != 0)
    sd_req_count_error(req);
  sd_req_respond(req, resp);
}

void sd_handle_leave_group(sd_req *req) {
  sd_groups *gs = req->broker->groups;
  const kp_leave_group_request *rq = req->body;
  kp_leave_group_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_leave_group_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  sdg_group *g = NULL;
  int16_t top = sdg_leave_begin(gs->c, rq->group_id, &g);
  bool any_error = top != 0;
  if (req->version < 3) {
    if (top == 0)
      top = sdg_leave_member(gs->c, g, rq->member_id, KP_STR_NULL, now_ms(gs));
    resp->error_code = top;
    any_error = top != 0;
  } else {
    resp->error_code = top;
    int32_t n = top != 0 || rq->members_count < 0 ? 0 : rq->members_count;
    if (n > 0 && sd_req_alloc(req, (size_t)n, sizeof(*resp->members),
                              (void **)&resp->members) != 0)
      return;
    for (int32_t i = 0; i < n; i++) {
      const kp_leave_group_request_member_identity *mi = &rq->members[i];
      kp_leave_group_response_member_response *mr = &resp->members[i];
      kp_leave_group_response_member_response_init_defaults(mr);
      mr->member_id = mi->member_id;
      mr->group_instance_id = mi->group_instance_id;
      /* A member may empty the group: look the group up again each time. */
      sdg_group *cur = NULL;
      (void)sdg_leave_begin(gs->c, rq->group_id, &cur);
      mr->error_code =
          sdg_leave_member(gs->c, cur, mi->member_id, mi->group_instance_id, now_ms(gs));
      any_error = any_error || mr->error_code != 0;
    }
    resp->members_count = n;
  }
  rearm(gs);
  if (any_error)
    sd_req_count_error(req);
  sd_req_respond(req, resp);
}

/* -1: the request was aborted (out of memory) and must not be touched. */
static int describe_one(sd_req *req, sd_groups *gs, kp_str id,
                        kp_describe_groups_response_described_group *out) {
  const kp_describe_groups_request *rq = req->body;
  kp_describe_groups_response_described_group_init_defaults(out);
  out->group_id = id;
  out->error_code = 0;
  out->protocol_type = KP_STR("");
  out->protocol_data = KP_STR("");
  out->members_count = 0;
  out->authorized_operations = req->version >= 3 && rq->include_authorized_operations
                                   ? GROUP_AUTHORIZED_OPS
                                   : INT32_MIN;
  if (id.len < 0) {
    out->error_code = SDG_ERR_INVALID_GROUP_ID;
    out->group_state = KP_STR("");
    return 0;
  }
  if (!gs->c->active) {
    out->error_code = SDG_ERR_COORDINATOR_NOT_AVAILABLE;
    out->group_state = KP_STR("");
    return 0;
  }
  const sdg_group *g = sdg_find(gs->c, id);
  if (g == NULL) {
    out->group_state = KP_STR("Dead");
    return 0;
  }
  out->group_state = kp_str_from(sdg_state_name(g->state));
  if (g->protocol_type.p != NULL)
    out->protocol_type = (kp_str){g->protocol_type.p, g->protocol_type.len};
  bool stable = g->state == SDG_STABLE;
  if (stable && g->protocol_name.p != NULL)
    out->protocol_data = (kp_str){g->protocol_name.p, g->protocol_name.len};
  if (g->n_members == 0)
    return 0;
  if (sd_req_alloc(req, (size_t)g->n_members, sizeof(*out->members),
                   (void **)&out->members) != 0)
    return -1;
  int32_t i = 0;
  for (const sdg_member *m = g->members; m != NULL; m = m->next, i++) {
    kp_describe_groups_response_described_group_member *dm = &out->members[i];
    kp_describe_groups_response_described_group_member_init_defaults(dm);
    dm->member_id = (kp_str){m->id.p, m->id.len};
    dm->group_instance_id =
        req->version >= 4 ? (kp_str){m->instance_id.p, m->instance_id.len} : KP_STR_NULL;
    dm->client_id = (kp_str){m->client_id.p ? m->client_id.p : "",
                             m->client_id.p ? m->client_id.len : 0};
    dm->client_host = (kp_str){m->client_host.p ? m->client_host.p : "",
                               m->client_host.p ? m->client_host.len : 0};
    dm->member_metadata = (kp_bytes){(const uint8_t *)"", 0};
    dm->member_assignment = (kp_bytes){(const uint8_t *)"", 0};
    if (stable) {
      for (int32_t k = 0; k < m->n_protos; k++)
        if (m->protos[k].name.len == g->protocol_name.len &&
            memcmp(m->protos[k].name.p, g->protocol_name.p,
                   (size_t)g->protocol_name.len) == 0)
          dm->member_metadata = (kp_bytes){m->protos[k].meta, m->protos[k].meta_len};
      if (m->assign != NULL)
        dm->member_assignment = (kp_bytes){m->assign, m->assign_len};
    }
  }
  out->members_count = g->n_members;
  return 0;
}

void sd_handle_describe_groups(sd_req *req) {
  sd_groups *gs = req->broker->groups;
  const kp_describe_groups_request *rq = req->body;
  kp_describe_groups_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_describe_groups_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  int32_t n = rq->groups_count < 0 ? 0 : rq->groups_count;
  if (n > 0 &&
      sd_req_alloc(req, (size_t)n, sizeof(*resp->groups), (void **)&resp->groups) != 0)
    return;
  bool any_error = false;
  for (int32_t i = 0; i < n; i++) {
    if (describe_one(req, gs, rq->groups[i], &resp->groups[i]) != 0)
      return;
    any_error = any_error || resp->groups[i].error_code != 0;
  }
  resp->groups_count = n;
  if (any_error)
    sd_req_count_error(req);
  sd_req_respond(req, resp);
}

static bool state_wanted(const kp_list_groups_request *rq, const char *state) {
  if (rq->states_filter_count <= 0)
    return true;
  for (int32_t i = 0; i < rq->states_filter_count; i++) {
    kp_str f = rq->states_filter[i];
    if (f.len == (int32_t)strlen(state) && strncasecmp(f.ptr, state, (size_t)f.len) == 0)
      return true;
  }
  return false;
}

void sd_handle_list_groups(sd_req *req) {
  sd_groups *gs = req->broker->groups;
  const kp_list_groups_request *rq = req->body;
  kp_list_groups_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_list_groups_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  resp->groups_count = 0;
  if (!gs->c->active) {
    resp->error_code = SDG_ERR_COORDINATOR_NOT_AVAILABLE;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  resp->error_code = 0;
  int32_t n = gs->c->n_groups;
  if (n > 0 &&
      sd_req_alloc(req, (size_t)n, sizeof(*resp->groups), (void **)&resp->groups) != 0)
    return;
  int32_t k = 0;
  for (const sdg_group *g = gs->c->list; g != NULL && k < n; g = g->list_next) {
    const char *state = sdg_state_name(g->state);
    if (req->version >= 4 && !state_wanted(rq, state))
      continue;
    kp_list_groups_response_listed_group *lg = &resp->groups[k++];
    kp_list_groups_response_listed_group_init_defaults(lg);
    lg->group_id = (kp_str){g->id.p, g->id.len};
    lg->protocol_type = g->protocol_type.p
                            ? (kp_str){g->protocol_type.p, g->protocol_type.len}
                            : KP_STR("");
    lg->group_state = req->version >= 4 ? kp_str_from(state) : KP_STR("");
  }
  resp->groups_count = k;
  sd_req_respond(req, resp);
}

void sd_handle_delete_groups(sd_req *req) {
  sd_groups *gs = req->broker->groups;
  const kp_delete_groups_request *rq = req->body;
  kp_delete_groups_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_delete_groups_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  int32_t n = rq->groups_names_count < 0 ? 0 : rq->groups_names_count;
  if (n > 0 &&
      sd_req_alloc(req, (size_t)n, sizeof(*resp->results), (void **)&resp->results) != 0)
    return;
  bool any_error = false;
  for (int32_t i = 0; i < n; i++) {
    kp_delete_groups_response_deletable_group_result *r = &resp->results[i];
    kp_delete_groups_response_deletable_group_result_init_defaults(r);
    r->group_id = rq->groups_names[i];
    r->error_code = sdg_delete(gs->c, rq->groups_names[i]);
    any_error = any_error || r->error_code != 0;
  }
  resp->results_count = n;
  rearm(gs);
  if (any_error)
    sd_req_count_error(req);
  sd_req_respond(req, resp);
}
