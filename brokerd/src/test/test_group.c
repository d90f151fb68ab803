/*
 * test_group.c - unit tests of the classic group state machine (group.c) and
 * the GroupMetadataValue codec (group_store.c), driven with a fake clock:
 * KIP-394 member ids, the initial rebalance delay, protocol selection,
 * session/rebalance/sync deadlines, LeaveGroup, static members (KIP-345),
 * group.max.size, DeleteGroups, the offset-commit checks and replay of a
 * stored group (docs/GROUPS.md, "Membership").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "group_int.h"
#include "group_store.h"
#include "sdlog.h"

/* ---- a fake client: one parked request = one `call` --------------------- */

typedef struct call {
  bool answered;
  int answers;
  int16_t error;
  int32_t generation;
  char member_id[128];
  char leader[128];
  char protocol[32];
  bool protocol_null;
  bool skip;
  int32_t n_members;
  char members[8][128];
  uint8_t assign[64];
  int32_t assign_len;
} call;

typedef struct env {
  sdg_coord *c;
  int stores, deletes;
  int16_t store_error;
} env;

static void copy_kstr(char *dst, size_t cap, kp_str s) {
  size_t n = s.len < 0 ? 0 : (size_t)s.len;
  if (n >= cap)
    n = cap - 1;
  if (n > 0)
    memcpy(dst, s.ptr, n);
  dst[n] = '\0';
}

static void on_join(void *ctx, void *waiter, const sdg_join_result *r) {
  (void)ctx;
  call *w = waiter;
  w->answered = true;
  w->answers++;
  w->error = r->error;
  w->generation = r->generation;
  copy_kstr(w->member_id, sizeof(w->member_id), r->member_id);
  copy_kstr(w->leader, sizeof(w->leader), r->leader);
  w->protocol_null = r->protocol_name.len < 0;
  copy_kstr(w->protocol, sizeof(w->protocol), r->protocol_name);
  w->skip = r->skip_assignment;
  w->n_members = r->n_members;
  for (int32_t i = 0; i < r->n_members && i < 8; i++)
    copy_kstr(w->members[i], sizeof(w->members[i]), r->members[i].member_id);
}

static void on_sync(void *ctx, void *waiter, const sdg_sync_result *r) {
  (void)ctx;
  call *w = waiter;
  w->answered = true;
  w->answers++;
  w->error = r->error;
  w->assign_len = r->assignment.len;
  if (r->assignment.len > 0 && r->assignment.len <= (int32_t)sizeof(w->assign))
    memcpy(w->assign, r->assignment.ptr, (size_t)r->assignment.len);
  copy_kstr(w->protocol, sizeof(w->protocol), r->protocol_name);
}

static int16_t on_store(void *ctx, const sdg_group *g) {
  (void)g;
  env *e = ctx;
  e->stores++;
  return e->store_error;
}

static void on_deleted(void *ctx, const sdg_group *g, bool via) {
  (void)g;
  (void)via;
  env *e = ctx;
  e->deletes++;
}

static env *env_new(int32_t initial_delay, int32_t max_size) {
  env *e = calloc(1, sizeof(*e));
  sdg_config cfg = {6000, 1800000, initial_delay, max_size};
  sdg_hooks h = {e, on_join, on_sync, on_store, on_deleted, NULL};
  e->c = sdg_new(&cfg, &h);
  assert_non_null(e->c);
  return e;
}

static void env_free(env *e) {
  sdg_stop(e->c, SDG_ERR_NOT_COORDINATOR);
  sdg_free(e->c);
  free(e);
}

static void setid(char *dst, const char *src) {
  snprintf(dst, 128, "%s", src);
}

static kp_str S(const char *s) {
  return s ? kp_str_from(s) : KP_STR_NULL;
}

/* JoinGroup with one protocol list "name1,name2" (metadata = name). */
static void join_full(env *e, int64_t now, call *w, const char *group, const char *member,
                      const char *instance, const char *protos, int version,
                      int32_t session, int32_t rebalance, const char *ptype) {
  memset(w, 0, sizeof(*w));
  sdg_join_protocol p[4];
  int n = 0;
  static char names[4][32];
  const char *s = protos;
  while (s && *s && n < 4) {
    const char *comma = strchr(s, ',');
    size_t l = comma ? (size_t)(comma - s) : strlen(s);
    memcpy(names[n], s, l);
    names[n][l] = '\0';
    p[n].name = (kp_str){names[n], (int32_t)l};
    p[n].metadata = (kp_bytes){(const uint8_t *)names[n], (int32_t)l};
    n++;
    s = comma ? comma + 1 : NULL;
  }
  sdg_join_args a;
  memset(&a, 0, sizeof(a));
  a.group_id = S(group);
  a.member_id = S(member ? member : "");
  a.instance_id = S(instance);
  a.protocol_type = S(ptype);
  a.client_id = S("cli");
  a.client_host = S("/127.0.0.1");
  a.session_ms = session;
  a.rebalance_ms = rebalance;
  a.protos = p;
  a.n_protos = n;
  a.require_known_member_id = version >= 4 && instance == NULL;
  a.support_skip_assignment = version >= 9;
  a.waiter = w;
  sdg_join(e->c, &a, now);
}

static void join(env *e, int64_t now, call *w, const char *member, const char *protos) {
  join_full(e, now, w, "g", member, NULL, protos, 3, 10000, 5000, "consumer");
}

static void sync_(env *e, int64_t now, call *w, const char *member, int32_t gen,
                  const char *const *assign_to, int n) {
  memset(w, 0, sizeof(*w));
  sdg_assignment as[8];
  for (int i = 0; i < n; i++) {
    as[i].member_id = S(assign_to[i]);
    as[i].assignment =
        (kp_bytes){(const uint8_t *)assign_to[i], (int32_t)strlen(assign_to[i])};
  }
  sdg_sync(e->c, S("g"), gen, S(member), KP_STR_NULL, KP_STR_NULL, KP_STR_NULL, as, n, w,
           now);
}

static int16_t hb(env *e, int64_t now, const char *member, int32_t gen) {
  return sdg_heartbeat(e->c, S("g"), S(member), KP_STR_NULL, gen, now);
}

static sdg_state state(env *e) {
  sdg_group *g = sdg_find(e->c, S("g"));
  return g ? g->state : SDG_DEAD;
}

/* Two dynamic members m1 (leader), m2 in a Stable group at generation 1. */
static void stable_pair(env *e, char *m1, char *m2) {
  call j1, j2, s1, s2;
  join(e, 0, &j1, NULL, "range");
  join(e, 0, &j2, NULL, "range");
  sdg_tick(e->c, 0);
  assert_true(j1.answered && j2.answered);
  assert_int_equal(j1.error, 0);
  assert_int_equal(j1.generation, 1);
  setid(m1, j1.member_id);
  setid(m2, j2.member_id);
  const char *as[2] = {m1, m2};
  sync_(e, 0, &s2, m2, 1, NULL, 0);
  assert_false(s2.answered); /* waits for the leader */
  sync_(e, 0, &s1, m1, 1, as, 2);
  assert_true(s1.answered && s2.answered);
  assert_int_equal(s2.error, 0);
  assert_int_equal(s2.assign_len, (int)strlen(m2));
  assert_memory_equal(s2.assign, m2, strlen(m2));
  assert_int_equal(state(e), SDG_STABLE);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_kip394_and_initial_delay(void **st) {
  (void)st;
  env *e = env_new(3000, 100);
  call w;
  join_full(e, 0, &w, "g", NULL, NULL, "range", 4, 10000, 60000, "consumer");
  assert_true(w.answered);
  assert_int_equal(w.error, SDG_ERR_MEMBER_ID_REQUIRED);
  assert_true(strncmp(w.member_id, "cli-", 4) == 0);
  assert_int_equal(strlen(w.member_id), 4 + 36);
  char id[128];
  setid(id, w.member_id);
  assert_int_equal(state(e), SDG_EMPTY);
  join_full(e, 10, &w, "g", id, NULL, "range", 4, 10000, 60000, "consumer");
  assert_false(w.answered);
  assert_int_equal(state(e), SDG_PREPARING_REBALANCE);
  sdg_tick(e->c, 3009);
  assert_false(w.answered); /* group.initial.rebalance.delay.ms */
  assert_true(sdg_next_deadline(e->c) <= 3010);
  sdg_tick(e->c, 3010);
  assert_true(w.answered);
  assert_int_equal(w.error, 0);
  assert_int_equal(w.generation, 1);
  assert_string_equal(w.leader, id);
  assert_string_equal(w.protocol, "range");
  assert_int_equal(w.n_members, 1);
  assert_int_equal(state(e), SDG_COMPLETING_REBALANCE);
  call s;
  const char *as[1] = {id};
  sync_(e, 3020, &s, id, 1, as, 1);
  assert_true(s.answered);
  assert_int_equal(s.error, 0);
  assert_string_equal(s.protocol, "range");
  assert_int_equal(state(e), SDG_STABLE);
  assert_int_equal(e->stores, 1);
  env_free(e);
}

static void test_initial_delay_extends(void **st) {
  (void)st;
  env *e = env_new(100, 100);
  call a, b;
  join(e, 0, &a, NULL, "range"); /* rebalance timeout 5000 */
  join(e, 50, &b, NULL, "range");
  sdg_tick(e->c, 100);
  assert_false(a.answered); /* a member joined during the delay: one more delay */
  sdg_tick(e->c, 199);
  assert_false(a.answered);
  sdg_tick(e->c, 200);
  assert_true(a.answered && b.answered);
  assert_int_equal(a.generation, 1);
  assert_int_equal(a.n_members, 2); /* the leader gets every member */
  assert_int_equal(b.n_members, 0);
  assert_string_equal(a.leader, a.member_id);
  assert_string_equal(b.leader, a.member_id);
  env_free(e);
}

static void test_protocol_vote(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  call a, b, c;
  join(e, 0, &a, NULL, "x,y");
  join(e, 0, &b, NULL, "y,x");
  join(e, 0, &c, NULL, "x,y");
  sdg_tick(e->c, 0);
  assert_string_equal(a.protocol, "x");
  assert_string_equal(c.protocol, "x");
  env_free(e);
  /* Only what every member supports is a candidate. */
  e = env_new(0, 100);
  join(e, 0, &a, NULL, "x,y");
  join(e, 0, &b, NULL, "x,y");
  join(e, 0, &c, NULL, "y");
  sdg_tick(e->c, 0);
  assert_int_equal(c.error, 0);
  assert_string_equal(a.protocol, "y");
  env_free(e);
  /* A tie goes to the protocol voted for first; duplicate names count once. */
  e = env_new(0, 100);
  join(e, 0, &a, NULL, "y,x,y");
  join(e, 0, &b, NULL, "x,y,x");
  sdg_tick(e->c, 0);
  assert_int_equal(a.error, 0);
  assert_string_equal(a.protocol, "y");
  env_free(e);
}

static void test_join_errors(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  call w;
  join_full(e, 0, &w, "", NULL, NULL, "range", 3, 10000, 5000, "consumer");
  assert_int_equal(w.error, SDG_ERR_INVALID_GROUP_ID);
  join_full(e, 0, &w, "g", NULL, NULL, "range", 3, 5999, 5000, "consumer");
  assert_int_equal(w.error, SDG_ERR_INVALID_SESSION_TIMEOUT);
  join_full(e, 0, &w, "g", NULL, NULL, "range", 3, 1800001, 5000, "consumer");
  assert_int_equal(w.error, SDG_ERR_INVALID_SESSION_TIMEOUT);
  join_full(e, 0, &w, "g", "nobody", NULL, "range", 3, 10000, 5000, "consumer");
  assert_int_equal(w.error, SDG_ERR_UNKNOWN_MEMBER_ID);
  join_full(e, 0, &w, "g", NULL, NULL, "range", 3, 10000, 5000, "");
  assert_int_equal(w.error, SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
  join_full(e, 0, &w, "g", NULL, NULL, "", 3, 10000, 5000, "consumer");
  assert_int_equal(w.error, SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
  assert_null(sdg_find(e->c, S("g"))); /* failed joins leave no group behind */
  char m1[128], m2[128];
  stable_pair(e, m1, m2);
  join_full(e, 0, &w, "g", NULL, NULL, "range", 3, 10000, 5000, "connect");
  assert_int_equal(w.error, SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
  join_full(e, 0, &w, "g", NULL, NULL, "roundrobin", 3, 10000, 5000, "consumer");
  assert_int_equal(w.error, SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
  env_free(e);
}

static void test_heartbeat_and_sync_errors(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  char m1[128], m2[128];
  assert_int_equal(hb(e, 0, "x", 0), SDG_ERR_UNKNOWN_MEMBER_ID); /* no group */
  stable_pair(e, m1, m2);
  assert_int_equal(hb(e, 1, m1, 1), 0);
  assert_int_equal(hb(e, 1, m1, 2), SDG_ERR_ILLEGAL_GENERATION);
  assert_int_equal(hb(e, 1, "x", 1), SDG_ERR_UNKNOWN_MEMBER_ID);
  assert_int_equal(sdg_heartbeat(e->c, S(""), S(m1), KP_STR_NULL, 1, 1),
                   SDG_ERR_INVALID_GROUP_ID);
  call s;
  sync_(e, 1, &s, m1, 7, NULL, 0);
  assert_int_equal(s.error, SDG_ERR_ILLEGAL_GENERATION);
  memset(&s, 0, sizeof(s));
  sdg_sync(e->c, S("g"), 1, S(m2), KP_STR_NULL, S("consumer"), S("roundrobin"), NULL, 0,
           &s, 1);
  assert_int_equal(s.error, SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
  memset(&s, 0, sizeof(s));
  sdg_sync(e->c, S("g"), 1, S(m2), KP_STR_NULL, S("consumer"), S("range"), NULL, 0, &s,
           1);
  assert_int_equal(s.error, 0); /* Stable: the current assignment again */
  assert_memory_equal(s.assign, m2, strlen(m2));
  env_free(e);
}

static void test_session_expiry(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  char m1[128], m2[128];
  stable_pair(e, m1, m2); /* session 10000 */
  for (int64_t t = 2000; t <= 10000; t += 2000)
    assert_int_equal(hb(e, t, m1, 1), 0);
  sdg_tick(e->c, 9999);
  assert_int_equal(state(e), SDG_STABLE);
  sdg_tick(e->c, 10000); /* m2 silent since 0 */
  assert_int_equal(state(e), SDG_PREPARING_REBALANCE);
  assert_int_equal(hb(e, 10001, m2, 1), SDG_ERR_UNKNOWN_MEMBER_ID);
  assert_int_equal(hb(e, 10001, m1, 1), SDG_ERR_REBALANCE_IN_PROGRESS);
  call j;
  join(e, 10002, &j, m1, "range");
  assert_true(j.answered); /* every remaining member rejoined: no waiting */
  assert_int_equal(j.generation, 2);
  assert_int_equal(j.n_members, 1);
  env_free(e);
}

static void test_leave_rebalances_at_once(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  char m1[128], m2[128];
  stable_pair(e, m1, m2);
  sdg_group *g;
  assert_int_equal(sdg_leave_begin(e->c, S("g"), &g), 0);
  assert_int_equal(sdg_leave_member(e->c, g, S(m2), KP_STR_NULL, 100), 0);
  assert_int_equal(sdg_leave_member(e->c, g, S(m2), KP_STR_NULL, 100),
                   SDG_ERR_UNKNOWN_MEMBER_ID);
  assert_int_equal(state(e), SDG_PREPARING_REBALANCE);
  assert_int_equal(hb(e, 101, m1, 1), SDG_ERR_REBALANCE_IN_PROGRESS);
  call j;
  join(e, 102, &j, m1, "range");
  assert_true(j.answered);
  assert_int_equal(j.generation, 2);
  /* Last member leaves: Empty, stored. */
  call s;
  const char *as[1] = {m1};
  sync_(e, 103, &s, m1, 2, as, 1);
  int stores = e->stores;
  assert_int_equal(sdg_leave_begin(e->c, S("g"), &g), 0);
  assert_int_equal(sdg_leave_member(e->c, g, S(m1), KP_STR_NULL, 104), 0);
  assert_int_equal(state(e), SDG_EMPTY); /* nobody left to wait for */
  assert_int_equal(sdg_find(e->c, S("g"))->generation, 3);
  assert_true(e->stores > stores);
  /* No group: per member UNKNOWN_MEMBER_ID. */
  assert_int_equal(sdg_leave_begin(e->c, S("other"), &g), 0);
  assert_null(g);
  assert_int_equal(sdg_leave_member(e->c, g, S("x"), KP_STR_NULL, 1),
                   SDG_ERR_UNKNOWN_MEMBER_ID);
  env_free(e);
}

static void test_rebalance_timeout_drops_silent(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  char m1[128], m2[128];
  stable_pair(e, m1, m2); /* rebalance timeout 5000 */
  call j3, j1;
  join(e, 1000, &j3, NULL, "range"); /* a new member: everyone must rejoin */
  assert_int_equal(state(e), SDG_PREPARING_REBALANCE);
  assert_int_equal(hb(e, 1100, m2, 1),
                   SDG_ERR_REBALANCE_IN_PROGRESS); /* told to rejoin */
  join(e, 1200, &j1, m1, "range");
  assert_false(j1.answered);
  sdg_tick(e->c, 5999);
  assert_false(j1.answered);
  sdg_tick(e->c, 6000);
  assert_true(j1.answered && j3.answered);
  assert_int_equal(j1.generation, 2);
  assert_int_equal(j1.n_members, 2); /* m2 never rejoined: dropped */
  assert_int_equal(hb(e, 6001, m2, 1), SDG_ERR_UNKNOWN_MEMBER_ID);
  env_free(e);
}

static void test_pending_sync_expiry(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  call a, b, s;
  join(e, 0, &a, NULL, "range");
  join(e, 0, &b, NULL, "range");
  sdg_tick(e->c, 0);
  const char *as[1] = {a.member_id};
  sync_(e, 10, &s, a.member_id, 1, as, 1);
  assert_int_equal(state(e), SDG_STABLE);
  sdg_tick(e->c, 5000); /* b never sent SyncGroup within the rebalance timeout */
  assert_int_equal(state(e), SDG_PREPARING_REBALANCE);
  assert_int_equal(hb(e, 5001, b.member_id, 1), SDG_ERR_UNKNOWN_MEMBER_ID);
  env_free(e);
}

static void test_static_member_rejoin(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  call j1, j2, s1, s2;
  join_full(e, 0, &j1, "g", NULL, "i1", "range", 5, 10000, 5000, "consumer");
  join_full(e, 0, &j2, "g", NULL, "i2", "range", 5, 10000, 5000, "consumer");
  sdg_tick(e->c, 0);
  assert_int_equal(j1.error, 0); /* static members need no second join */
  assert_true(strncmp(j1.member_id, "i1-", 3) == 0);
  const char *as[2] = {j1.member_id, j2.member_id};
  sync_(e, 1, &s2, j2.member_id, 1, NULL, 0);
  sync_(e, 1, &s1, j1.member_id, 1, as, 2);
  assert_int_equal(state(e), SDG_STABLE);
  char old2[128];
  setid(old2, j2.member_id);
  /* i2 restarts: new member id, same generation, no rebalance. */
  call r;
  int stores = e->stores;
  join_full(e, 100, &r, "g", NULL, "i2", "range", 5, 10000, 5000, "consumer");
  assert_true(r.answered);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.generation, 1);
  assert_string_not_equal(r.member_id, old2);
  assert_string_equal(r.leader, j1.member_id);
  assert_int_equal(state(e), SDG_STABLE);
  assert_int_equal(e->stores, stores + 1);
  call s;
  sync_(e, 101, &s, r.member_id, 1, NULL, 0);
  assert_int_equal(s.error, 0);
  assert_memory_equal(s.assign, old2, strlen(old2)); /* its old assignment */
  assert_int_equal(sdg_heartbeat(e->c, S("g"), S(old2), S("i2"), 1, 102),
                   SDG_ERR_FENCED_INSTANCE_ID);
  assert_int_equal(hb(e, 102, old2, 1), SDG_ERR_UNKNOWN_MEMBER_ID);
  assert_int_equal(sdg_heartbeat(e->c, S("g"), S(r.member_id), S("i2"), 1, 102), 0);
  /* The static leader restarts: v9 is told it leads but may skip the
   * assignment; an older version is told the old leader id. */
  join_full(e, 200, &r, "g", NULL, "i1", "range", 9, 10000, 5000, "consumer");
  assert_int_equal(r.error, 0);
  assert_true(r.skip);
  assert_string_equal(r.leader, r.member_id);
  assert_int_equal(r.n_members, 2);
  char leader[128];
  setid(leader, r.member_id);
  join_full(e, 300, &r, "g", NULL, "i1", "range", 5, 10000, 5000, "consumer");
  assert_false(r.skip);
  assert_string_equal(r.leader, leader);
  assert_int_equal(r.n_members, 0);
  assert_int_equal(state(e), SDG_STABLE);
  /* Changed protocols that change the selection: rebalance. */
  join_full(e, 400, &r, "g", NULL, "i2", "roundrobin", 5, 10000, 5000, "consumer");
  assert_int_equal(r.error, SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
  /* Removal by instance id. */
  sdg_group *g;
  sdg_leave_begin(e->c, S("g"), &g);
  assert_int_equal(sdg_leave_member(e->c, g, S(""), S("i2"), 500), 0);
  assert_int_equal(sdg_leave_member(e->c, g, S(""), S("i9"), 500),
                   SDG_ERR_UNKNOWN_MEMBER_ID);
  assert_int_equal(state(e), SDG_PREPARING_REBALANCE);
  env_free(e);
}

static void test_static_fences_parked_join(void **st) {
  (void)st;
  env *e = env_new(1000, 100);
  call a, b;
  join_full(e, 0, &a, "g", NULL, "i1", "range", 5, 10000, 5000, "consumer");
  assert_false(a.answered);
  join_full(e, 10, &b, "g", NULL, "i1", "range", 5, 10000, 5000, "consumer");
  assert_true(a.answered); /* the older incarnation is fenced */
  assert_int_equal(a.error, SDG_ERR_FENCED_INSTANCE_ID);
  sdg_tick(e->c, 1000);
  assert_true(b.answered);
  assert_int_equal(b.error, 0);
  env_free(e);
}

static void test_max_size(void **st) {
  (void)st;
  env *e = env_new(0, 2);
  char m1[128], m2[128];
  stable_pair(e, m1, m2);
  call w;
  join(e, 1, &w, NULL, "range");
  assert_int_equal(w.error, SDG_ERR_GROUP_MAX_SIZE_REACHED);
  assert_int_equal(state(e), SDG_STABLE);
  env_free(e);
}

static void test_duplicate_join_and_stop(void **st) {
  (void)st;
  env *e = env_new(1000, 100);
  call a, a2;
  join(e, 0, &a, NULL, "range");
  char id[128];
  assert_false(a.answered);
  sdg_group *g = sdg_find(e->c, S("g"));
  setid(id, g->members->id.p);
  join(e, 1, &a2, id, "range"); /* retried while parked */
  assert_true(a.answered);
  assert_int_equal(a.error, SDG_ERR_REBALANCE_IN_PROGRESS);
  assert_false(a2.answered);
  sdg_stop(e->c, SDG_ERR_NOT_COORDINATOR);
  assert_true(a2.answered);
  assert_int_equal(a2.error, SDG_ERR_NOT_COORDINATOR);
  assert_int_equal(a2.answers, 1);
  call w;
  join(e, 2, &w, NULL, "range");
  assert_int_equal(w.error, SDG_ERR_COORDINATOR_NOT_AVAILABLE);
  env_free(e);
}

static void test_delete_and_commit_checks(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  assert_int_equal(sdg_delete(e->c, S("none")), SDG_ERR_GROUP_ID_NOT_FOUND);
  /* Simple commits create an Empty group. */
  assert_int_equal(sdg_check_commit(e->c, S("simple"), S(""), KP_STR_NULL, -1, 0), 0);
  assert_non_null(sdg_find(e->c, S("simple")));
  assert_int_equal(sdg_check_commit(e->c, S("nogroup"), S("m"), KP_STR_NULL, 3, 0),
                   SDG_ERR_ILLEGAL_GENERATION);
  assert_int_equal(sdg_delete(e->c, S("simple")), 0);
  assert_int_equal(e->deletes, 1);
  assert_null(sdg_find(e->c, S("simple")));
  char m1[128], m2[128];
  stable_pair(e, m1, m2);
  assert_int_equal(sdg_delete(e->c, S("g")), SDG_ERR_NON_EMPTY_GROUP);
  assert_int_equal(sdg_check_commit(e->c, S("g"), S(m1), KP_STR_NULL, 1, 1), 0);
  assert_int_equal(sdg_check_commit(e->c, S("g"), S(m1), KP_STR_NULL, 0, 1),
                   SDG_ERR_ILLEGAL_GENERATION);
  assert_int_equal(sdg_check_commit(e->c, S("g"), S("x"), KP_STR_NULL, 1, 1),
                   SDG_ERR_UNKNOWN_MEMBER_ID);
  assert_int_equal(sdg_check_commit(e->c, S("g"), S(""), KP_STR_NULL, -1, 1),
                   SDG_ERR_UNKNOWN_MEMBER_ID);
  /* A commit counts as a heartbeat. */
  assert_int_equal(hb(e, 9000, m2, 1), 0);
  assert_int_equal(sdg_check_commit(e->c, S("g"), S(m1), KP_STR_NULL, 1, 9000), 0);
  sdg_tick(e->c, 12000);
  assert_int_equal(state(e), SDG_STABLE);
  /* CompletingRebalance: REBALANCE_IN_PROGRESS. */
  call j1, j2;
  join(e, 12001, &j1, m1, "range");
  join(e, 12001, &j2, m2, "range");
  assert_int_equal(state(e), SDG_COMPLETING_REBALANCE);
  assert_int_equal(sdg_check_commit(e->c, S("g"), S(m1), KP_STR_NULL, 2, 12002),
                   SDG_ERR_REBALANCE_IN_PROGRESS);
  env_free(e);
}

/* ConsumerProtocolSubscription v0 with the given topics. */
static size_t subscription(uint8_t *out, const char *const *topics, int n) {
  size_t o = 0;
  out[o++] = 0;
  out[o++] = 0;
  out[o++] = 0;
  out[o++] = 0;
  out[o++] = 0;
  out[o++] = (uint8_t)n;
  for (int i = 0; i < n; i++) {
    size_t l = strlen(topics[i]);
    out[o++] = 0;
    out[o++] = (uint8_t)l;
    memcpy(out + o, topics[i], l);
    o += l;
  }
  memset(out + o, 0xff, 4); /* user data null */
  return o + 4;
}

static void test_offset_delete_check(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  uint8_t sub[64];
  const char *topics[2] = {"a", "bb"};
  size_t n = subscription(sub, topics, 2);
  assert_true(sdg_subscription_has_topic(sub, (int32_t)n, S("bb")));
  assert_false(sdg_subscription_has_topic(sub, (int32_t)n, S("c")));
  assert_true(sdg_subscription_has_topic(sub, 3, S("c"))); /* unparsable: kept */
  call w;
  memset(&w, 0, sizeof(w));
  sdg_join_protocol p = {S("range"), {sub, (int32_t)n}};
  sdg_join_args a;
  memset(&a, 0, sizeof(a));
  a.group_id = S("g");
  a.member_id = S("");
  a.instance_id = KP_STR_NULL;
  a.protocol_type = S("consumer");
  a.client_id = S("c");
  a.client_host = S("/h");
  a.session_ms = 10000;
  a.rebalance_ms = 5000;
  a.protos = &p;
  a.n_protos = 1;
  a.waiter = &w;
  sdg_join(e->c, &a, 0);
  sdg_tick(e->c, 0);
  assert_int_equal(w.error, 0);
  assert_int_equal(sdg_check_offset_delete(e->c, S("g"), S("a")),
                   SDG_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
  assert_int_equal(sdg_check_offset_delete(e->c, S("g"), S("c")), 0);
  assert_int_equal(sdg_check_offset_delete(e->c, S("zz"), S("c")),
                   SDG_ERR_GROUP_ID_NOT_FOUND);
  sdg_touch(e->c, S("zz"));
  assert_int_equal(sdg_check_offset_delete(e->c, S("zz"), S("c")), 0);
  sdg_offsets_gone(e->c, S("zz"));
  assert_null(sdg_find(e->c, S("zz")));
  sdg_offsets_gone(e->c, S("g")); /* not Empty: stays */
  assert_non_null(sdg_find(e->c, S("g")));
  env_free(e);
}

static void test_store_roundtrip_and_replay(void **st) {
  (void)st;
  env *e = env_new(0, 100);
  call j1, j2, s1, s2;
  join_full(e, 0, &j1, "g", NULL, "i1", "range", 5, 10000, 5000, "consumer");
  join(e, 0, &j2, NULL, "range");
  sdg_tick(e->c, 0);
  const char *as[2] = {j1.member_id, j2.member_id};
  sync_(e, 1, &s2, j2.member_id, 1, NULL, 0);
  sync_(e, 1, &s1, j1.member_id, 1, as, 2);
  uint8_t *v = NULL;
  size_t len = 0;
  assert_int_equal(sdg_store_encode(sdg_find(e->c, S("g")), &v, &len), 0);
  assert_int_equal(v[0], 0);
  assert_int_equal(v[1], SDG_STORE_VERSION);
  /* Every truncation is refused, never read past. */
  kp_arena arena;
  kp_arena_init(&arena, 1 << 20);
  for (size_t cut = 0; cut < len; cut++) {
    sdg_stored_group sg;
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, v, cut);
    assert_int_equal(sdg_store_decode(copy, cut, &arena, &sg), -1);
    free(copy);
  }
  sdg_stored_group sg;
  assert_int_equal(sdg_store_decode(v, len, &arena, &sg), 0);
  assert_int_equal(sg.generation, 1);
  assert_int_equal(sg.n_members, 2);
  assert_true(kp_str_eq(sg.protocol_name, "range", 5));
  assert_true(kp_str_eq(sg.members[0].instance_id, "i1", 2));
  assert_int_equal(sg.members[1].instance_id.len, -1);
  assert_int_equal(sg.members[0].session_ms, 10000);
  assert_int_equal(sg.members[0].rebalance_ms, 5000);
  assert_true(kp_str_eq(sg.members[0].client_host, "/127.0.0.1", 10));

  env *e2 = env_new(0, 100);
  assert_int_equal(sdg_replay(e2->c, S("g"), &sg, 1000), 0);
  kp_arena_release(&arena);
  free(v);
  sdg_group *g = sdg_find(e2->c, S("g"));
  assert_int_equal(g->state, SDG_STABLE);
  assert_int_equal(g->generation, 1);
  assert_string_equal(g->leader->id.p, j1.member_id);
  call s;
  sync_(e2, 1001, &s, j2.member_id, 1, NULL, 0);
  assert_int_equal(s.error, 0);
  assert_memory_equal(s.assign, j2.member_id, strlen(j2.member_id));
  /* Members that do not come back expire after their session timeout. */
  sdg_tick(e2->c, 11000);
  assert_int_equal(g->state, SDG_PREPARING_REBALANCE);
  sdg_tick(e2->c, 16000);
  assert_int_equal(g->state, SDG_EMPTY);
  assert_int_equal(g->generation, 2);
  /* A tombstone forgets the group. */
  assert_int_equal(sdg_replay(e2->c, S("g"), NULL, 17000), 0);
  assert_null(sdg_find(e2->c, S("g")));
  env_free(e2);
  env_free(e);
}

static void test_decode_hostile(void **st) {
  (void)st;
  sdg_stored_group sg;
  kp_arena arena;
  kp_arena_init(&arena, 1 << 16);
  /* version 3, type "", gen 0, null protocol, null leader, ts, 2^31-1 members */
  const uint8_t huge[] = {0, 3, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                          0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
  assert_int_equal(sdg_store_decode(huge, sizeof(huge), &arena, &sg), -1);
  const uint8_t badver[] = {0, 9, 0, 0};
  assert_int_equal(sdg_store_decode(badver, sizeof(badver), &arena, &sg), -1);
  const uint8_t empty_ok[] = {0, 3, 0, 0, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff,
                              0, 0, 0, 0, 0, 0, 0, 0, 0,    0,    0,    0};
  assert_int_equal(sdg_store_decode(empty_ok, sizeof(empty_ok), &arena, &sg), 0);
  assert_int_equal(sg.generation, 5);
  assert_int_equal(sg.n_members, 0);
  kp_arena_release(&arena);
}

int main(void) {
  sd_log_set_level(SD_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kip394_and_initial_delay),
      cmocka_unit_test(test_initial_delay_extends),
      cmocka_unit_test(test_protocol_vote),
      cmocka_unit_test(test_join_errors),
      cmocka_unit_test(test_heartbeat_and_sync_errors),
      cmocka_unit_test(test_session_expiry),
      cmocka_unit_test(test_leave_rebalances_at_once),
      cmocka_unit_test(test_rebalance_timeout_drops_silent),
      cmocka_unit_test(test_pending_sync_expiry),
      cmocka_unit_test(test_static_member_rejoin),
      cmocka_unit_test(test_static_fences_parked_join),
      cmocka_unit_test(test_max_size),
      cmocka_unit_test(test_duplicate_join_and_stop),
      cmocka_unit_test(test_delete_and_commit_checks),
      cmocka_unit_test(test_offset_delete_check),
      cmocka_unit_test(test_store_roundtrip_and_replay),
      cmocka_unit_test(test_decode_hostile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
