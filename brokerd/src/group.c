/*
 * group.c - the classic group protocol's state machine (see group_int.h):
 * Kafka's GroupCoordinator and GroupMetadata rules for JoinGroup (KIP-394
 * member ids, protocol selection by vote, the initial rebalance delay),
 * SyncGroup, Heartbeat, LeaveGroup, DeleteGroups, the offset-commit
 * membership check, static members (KIP-345) and the session, join and sync
 * deadlines.  No libuv and no requests here: the caller passes the time and
 * receives answers through hooks.  docs/GROUPS.md, "Membership".
 */
#include "group_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sdlog.h"
#include "seglog/bytes.h"

/* ---- small helpers ----------------------------------------------------- */

const char *sdg_state_name(sdg_state s) {
  switch (s) {
  case SDG_EMPTY:
    return "Empty";
  case SDG_PREPARING_REBALANCE:
    return "PreparingRebalance";
  case SDG_COMPLETING_REBALANCE:
    return "CompletingRebalance";
  case SDG_STABLE:
    return "Stable";
  case SDG_DEAD:
    return "Dead";
  }
  return "Unknown";
}

static int str_set(sdg_str *s, const char *p, int32_t len) {
  if (len < 0 || p == NULL) {
    *s = (sdg_str){NULL, -1};
    return 0;
  }
  char *n = malloc((size_t)len + 1);
  if (n == NULL)
    return -1;
  if (len > 0)
    memcpy(n, p, (size_t)len);
  n[len] = '\0';
  *s = (sdg_str){n, len};
  return 0;
}

static int str_dup(sdg_str *s, kp_str k) {
  return str_set(s, k.ptr, k.len);
}

static void str_free(sdg_str *s) {
  free(s->p);
  *s = (sdg_str){NULL, -1};
}

static kp_str kstr(const sdg_str *s) {
  return (kp_str){s->p, s->len};
}

static bool kstr_eq(kp_str a, kp_str b) {
  if (a.len != b.len)
    return false;
  return a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

static bool str_eq(const sdg_str *s, kp_str k) {
  return kstr_eq(kstr(s), k);
}

static void note_deadline(sdg_coord *c, int64_t d) {
  if (d < c->next_deadline)
    c->next_deadline = d;
}

/* ---- a chained hash map of byte-string keys ---------------------------- */

typedef struct map_entry {
  const char *key; /* borrowed from the value */
  int32_t klen;
  void *val;
  struct map_entry *next;
} map_entry;

struct sdg_map {
  map_entry **b;
  size_t nb, n;
};

static uint64_t hash_bytes(const char *p, int32_t len) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (int32_t i = 0; i < len; i++) {
    h ^= (uint8_t)p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static sdg_map *map_new(void) {
  sdg_map *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return NULL;
  m->nb = 16;
  m->b = calloc(m->nb, sizeof(*m->b));
  if (m->b == NULL) {
    free(m);
    return NULL;
  }
  return m;
}

static void map_free(sdg_map *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->nb; i++) {
    map_entry *e = m->b[i];
    while (e != NULL) {
      map_entry *n = e->next;
      free(e);
      e = n;
    }
  }
  free(m->b);
  free(m);
}

static void *map_get(const sdg_map *m, kp_str k) {
  if (k.len < 0)
    return NULL;
  size_t i = hash_bytes(k.ptr, k.len) & (m->nb - 1);
  for (map_entry *e = m->b[i]; e != NULL; e = e->next)
    if (e->klen == k.len && (k.len == 0 || memcmp(e->key, k.ptr, (size_t)k.len) == 0))
      return e->val;
  return NULL;
}

static void map_grow(sdg_map *m) {
  size_t nb = m->nb * 2;
  map_entry **b = calloc(nb, sizeof(*b));
  if (b == NULL)
    return; /* keeps working with longer chains */
  for (size_t i = 0; i < m->nb; i++) {
    map_entry *e = m->b[i];
    while (e != NULL) {
      map_entry *n = e->next;
      size_t j = hash_bytes(e->key, e->klen) & (nb - 1);
      e->next = b[j];
      b[j] = e;
      e = n;
    }
  }
  free(m->b);
  m->b = b;
  m->nb = nb;
}

/* Key must not be present.  0 or -1 (out of memory). */
static int map_put(sdg_map *m, kp_str k, void *val) {
  map_entry *e = malloc(sizeof(*e));
  if (e == NULL)
    return -1;
  if (m->n >= m->nb)
    map_grow(m);
  size_t i = hash_bytes(k.ptr, k.len) & (m->nb - 1);
  *e = (map_entry){k.ptr, k.len, val, m->b[i]};
  m->b[i] = e;
  m->n++;
  return 0;
}

static void map_del(sdg_map *m, kp_str k) {
  size_t i = hash_bytes(k.ptr, k.len) & (m->nb - 1);
  for (map_entry **pp = &m->b[i]; *pp != NULL; pp = &(*pp)->next) {
    map_entry *e = *pp;
    if (e->klen == k.len && (k.len == 0 || memcmp(e->key, k.ptr, (size_t)k.len) == 0)) {
      *pp = e->next;
      free(e);
      m->n--;
      return;
    }
  }
}

/* ---- members ------------------------------------------------------------ */

static void protos_free(sdg_protocol *p, int32_t n) {
  for (int32_t i = 0; i < n; i++) {
    str_free(&p[i].name);
    free(p[i].meta);
  }
  free(p);
}

static int protos_copy(sdg_protocol **out, const sdg_join_protocol *in, int32_t n) {
  *out = NULL;
  if (n <= 0)
    return 0;
  sdg_protocol *p = calloc((size_t)n, sizeof(*p));
  if (p == NULL)
    return -1;
  for (int32_t i = 0; i < n; i++) {
    int32_t ml = in[i].metadata.len < 0 ? 0 : in[i].metadata.len;
    if (str_dup(&p[i].name, in[i].name) != 0)
      goto fail;
    p[i].meta = malloc(ml > 0 ? (size_t)ml : 1);
    if (p[i].meta == NULL)
      goto fail;
    if (ml > 0)
      memcpy(p[i].meta, in[i].metadata.ptr, (size_t)ml);
    p[i].meta_len = ml;
  }
  *out = p;
  return 0;
fail:
  protos_free(p, n);
  return -1;
}

static void member_free(sdg_member *m) {
  if (m == NULL)
    return;
  str_free(&m->id);
  str_free(&m->instance_id);
  str_free(&m->client_id);
  str_free(&m->client_host);
  protos_free(m->protos, m->n_protos);
  free(m->assign);
  free(m);
}

static int32_t pcount_of(const sdg_group *g, kp_str name) {
  const sdg_pcount *pc = map_get(g->pcounts, name);
  return pc ? pc->count : 0;
}

/* Counts m's protocols (distinct names: sdg_join removes duplicates). */
static void pcounts_add(sdg_group *g, const sdg_member *m, int delta) {
  for (int32_t i = 0; i < m->n_protos; i++) {
    kp_str name = kstr(&m->protos[i].name);
    sdg_pcount *pc = map_get(g->pcounts, name);
    if (pc == NULL) {
      if (delta < 0)
        continue;
      pc = calloc(1, sizeof(*pc));
      if (pc == NULL || str_dup(&pc->name, name) != 0 ||
          map_put(g->pcounts, kstr(&pc->name), pc) != 0) {
        if (pc != NULL)
          str_free(&pc->name);
        free(pc);
        continue; /* the protocol then looks unsupported: safe */
      }
    }
    pc->count += delta;
    if (pc->count <= 0) {
      map_del(g->pcounts, kstr(&pc->name));
      str_free(&pc->name);
      free(pc);
    }
  }
}

static bool member_matches(const sdg_member *m, const sdg_join_protocol *p, int32_t n) {
  if (m->n_protos != n)
    return false;
  for (int32_t i = 0; i < n; i++) {
    int32_t ml = p[i].metadata.len < 0 ? 0 : p[i].metadata.len;
    if (!str_eq(&m->protos[i].name, p[i].name) || m->protos[i].meta_len != ml ||
        (ml > 0 && memcmp(m->protos[i].meta, p[i].metadata.ptr, (size_t)ml) != 0))
      return false;
  }
  return true;
}

static const sdg_protocol *member_protocol(const sdg_member *m, const sdg_str *name) {
  if (name->p == NULL)
    return NULL;
  for (int32_t i = 0; i < m->n_protos; i++)
    if (str_eq(&m->protos[i].name, kstr(name)))
      return &m->protos[i];
  return NULL;
}

/* Java's UUID.randomUUID().toString(). */
static void random_uuid(char out[37]) {
  uint8_t b[16];
  if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
    /* No entropy: the clock and an address still make ids unique enough here. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    x ^= (uint64_t)(uintptr_t)out * 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 16; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b[i] = (uint8_t)x;
    }
  }
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
  static const char hex[] = "0123456789abcdef";
  int o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = '\0';
}

/* Kafka's generateMemberId: (instance id or client id) + "-" + UUID. */
static int new_member_id(sdg_str *out, kp_str client_id, kp_str instance_id) {
  kp_str prefix = instance_id.len >= 0 ? instance_id : client_id;
  int32_t plen = prefix.len < 0 ? 0 : prefix.len;
  char *p = malloc((size_t)plen + 38);
  if (p == NULL)
    return -1;
  if (plen > 0)
    memcpy(p, prefix.ptr, (size_t)plen);
  p[plen] = '-';
  random_uuid(p + plen + 1);
  *out = (sdg_str){p, plen + 37};
  return 0;
}

/* ---- groups ------------------------------------------------------------- */

sdg_group *sdg_find(const sdg_coord *c, kp_str group_id) {
  return map_get(c->groups, group_id);
}

sdg_member *sdg_find_member(const sdg_group *g, kp_str member_id) {
  return map_get(g->by_id, member_id);
}

static sdg_member *find_active(const sdg_group *g, kp_str member_id) {
  sdg_member *m = map_get(g->by_id, member_id);
  return m != NULL && !m->is_pending ? m : NULL;
}

static sdg_group *group_new(sdg_coord *c, kp_str id) {
  sdg_group *g = calloc(1, sizeof(*g));
  if (g == NULL)
    return NULL;
  g->c = c;
  g->protocol_type = (sdg_str){NULL, -1};
  g->protocol_name = (sdg_str){NULL, -1};
  g->join_deadline = g->sync_deadline = SDG_NO_DEADLINE;
  g->state_ts_ms = -1;
  g->by_id = map_new();
  g->statics = map_new();
  g->pcounts = map_new();
  if (g->by_id == NULL || g->statics == NULL || g->pcounts == NULL ||
      str_dup(&g->id, id) != 0 || map_put(c->groups, kstr(&g->id), g) != 0) {
    map_free(g->by_id);
    map_free(g->statics);
    map_free(g->pcounts);
    free(g->id.p);
    free(g);
    return NULL;
  }
  g->list_next = c->list;
  if (c->list)
    c->list->list_prev = g;
  c->list = g;
  c->n_groups++;
  return g;
}

static void group_free_members(sdg_member *m) {
  while (m != NULL) {
    sdg_member *n = m->next;
    member_free(m);
    m = n;
  }
}

/* Unlinks and frees a group; it must have no parked requests. */
static void group_destroy(sdg_coord *c, sdg_group *g) {
  map_del(c->groups, kstr(&g->id));
  if (g->list_prev)
    g->list_prev->list_next = g->list_next;
  else
    c->list = g->list_next;
  if (g->list_next)
    g->list_next->list_prev = g->list_prev;
  c->n_groups--;
  group_free_members(g->members);
  group_free_members(g->pending);
  map_free(g->by_id);
  map_free(g->statics);
  if (g->pcounts != NULL) {
    for (size_t i = 0; i < g->pcounts->nb; i++)
      for (map_entry *e = g->pcounts->b[i]; e != NULL; e = e->next) {
        sdg_pcount *pc = e->val;
        str_free(&pc->name);
        free(pc);
      }
    map_free(g->pcounts);
  }
  str_free(&g->id);
  str_free(&g->protocol_type);
  str_free(&g->protocol_name);
  free(g);
}

static int32_t group_rebalance_timeout(const sdg_group *g) {
  int32_t t = 0;
  for (const sdg_member *m = g->members; m != NULL; m = m->next)
    if (m->rebalance_ms > t)
      t = m->rebalance_ms;
  return t;
}

static void list_append(sdg_member **head, sdg_member **tail, sdg_member *m) {
  m->next = NULL;
  m->prev = tail ? *tail : NULL;
  if (tail == NULL) {
    /* pending list: push front */
    m->prev = NULL;
    m->next = *head;
    if (*head)
      (*head)->prev = m;
    *head = m;
    return;
  }
  if (*tail)
    (*tail)->next = m;
  else
    *head = m;
  *tail = m;
}

static void list_unlink(sdg_member **head, sdg_member **tail, sdg_member *m) {
  if (m->prev)
    m->prev->next = m->next;
  else
    *head = m->next;
  if (m->next)
    m->next->prev = m->prev;
  else if (tail)
    *tail = m->prev;
  m->prev = m->next = NULL;
}

/*
 * GroupMetadata.add: links a fully built member (awaiting its join when it
 * has a waiter).  The first member of a group sets its protocol type.
 */
static int group_add(sdg_group *g, sdg_member *m, kp_str protocol_type) {
  if (map_put(g->by_id, kstr(&m->id), m) != 0)
    return -1;
  if (m->instance_id.p != NULL && map_put(g->statics, kstr(&m->instance_id), m) != 0) {
    map_del(g->by_id, kstr(&m->id));
    return -1;
  }
  if (g->n_members == 0) {
    sdg_str t;
    if (str_dup(&t, protocol_type) == 0) {
      str_free(&g->protocol_type);
      g->protocol_type = t;
    }
  }
  m->g = g;
  if (g->leader == NULL)
    g->leader = m;
  list_append(&g->members, &g->members_tail, m);
  g->n_members++;
  pcounts_add(g, m, +1);
  if (m->awaiting_join)
    g->n_awaiting_join++;
  return 0;
}

static void answer_join_error(sdg_coord *c, void *waiter, kp_str member_id, int16_t err) {
  sdg_join_result r = {0};
  r.error = err;
  r.generation = -1;
  r.protocol_type = KP_STR_NULL;
  r.protocol_name = KP_STR_NULL;
  r.leader = KP_STR("");
  r.member_id = member_id.len < 0 ? KP_STR("") : member_id;
  c->hooks.join_done(c->hooks.ctx, waiter, &r);
}

static void answer_sync(sdg_coord *c, void *waiter, int16_t err, const sdg_group *g,
                        const uint8_t *assign, int32_t len) {
  sdg_sync_result r;
  r.error = err;
  r.protocol_type = err == 0 && g ? kstr(&g->protocol_type) : KP_STR_NULL;
  r.protocol_name = err == 0 && g ? kstr(&g->protocol_name) : KP_STR_NULL;
  r.assignment = (kp_bytes){assign ? assign : (const uint8_t *)"", assign ? len : 0};
  c->hooks.sync_done(c->hooks.ctx, waiter, &r);
}

/* maybeInvokeJoinCallback with an error. */
static void member_fail_join(sdg_coord *c, sdg_member *m, kp_str member_id, int16_t err) {
  if (!m->awaiting_join)
    return;
  void *w = m->join_waiter;
  m->awaiting_join = false;
  m->join_waiter = NULL;
  m->g->n_awaiting_join--;
  answer_join_error(c, w, member_id, err);
}

static void member_fail_sync(sdg_coord *c, sdg_member *m, int16_t err) {
  if (!m->awaiting_sync)
    return;
  void *w = m->sync_waiter;
  m->awaiting_sync = false;
  m->sync_waiter = NULL;
  answer_sync(c, w, err, NULL, NULL, 0);
}

static void set_pending_sync(sdg_group *g, sdg_member *m, bool on) {
  if (m->pending_sync == on)
    return;
  m->pending_sync = on;
  g->n_pending_sync += on ? 1 : -1;
}

static void clear_pending_sync(sdg_group *g) {
  for (sdg_member *m = g->members; m != NULL; m = m->next)
    m->pending_sync = false;
  g->n_pending_sync = 0;
  g->sync_deadline = SDG_NO_DEADLINE;
}

/* GroupMetadata.remove: unlinks and frees (the member has no parked request). */
static void group_remove(sdg_group *g, sdg_member *m) {
  map_del(g->by_id, kstr(&m->id));
  if (m->is_pending) {
    list_unlink(&g->pending, NULL, m);
    g->n_pending--;
    member_free(m);
    return;
  }
  if (m->instance_id.p != NULL && map_get(g->statics, kstr(&m->instance_id)) == m)
    map_del(g->statics, kstr(&m->instance_id));
  pcounts_add(g, m, -1);
  if (m->awaiting_join)
    g->n_awaiting_join--;
  set_pending_sync(g, m, false);
  list_unlink(&g->members, &g->members_tail, m);
  g->n_members--;
  if (g->leader == m)
    g->leader = g->members;
  member_free(m);
}

static void schedule(sdg_coord *c, sdg_member *m, int64_t now, int64_t timeout) {
  m->deadline = now + timeout;
  note_deadline(c, m->deadline);
}

/* completeAndScheduleNextHeartbeatExpiration */
static void heartbeat_ok(sdg_coord *c, sdg_member *m, int64_t now) {
  schedule(c, m, now, m->session_ms);
}

static int16_t store(sdg_coord *c, const sdg_group *g) {
  return c->hooks.store ? c->hooks.store(c->hooks.ctx, g) : 0;
}

/* GroupMetadata.selectProtocol: among the protocols every member supports,
 * each member votes for the first of its own list; most votes wins (ties:
 * the one voted for first, in join order).  NULL if none.  O(members x
 * protocols). */
static const sdg_str *select_protocol(const sdg_group *g) {
  if (g->n_members <= 0)
    return NULL;
  const sdg_str **vote = calloc((size_t)g->n_members, sizeof(*vote));
  int32_t *count = calloc((size_t)g->n_members, sizeof(*count));
  sdg_map *first = map_new(); /* protocol -> index of its first vote + 1 */
  const sdg_str *best = NULL;
  if (vote == NULL || count == NULL || first == NULL)
    goto out;
  int32_t k = 0;
  for (const sdg_member *m = g->members; m != NULL; m = m->next, k++) {
    for (int32_t i = 0; i < m->n_protos && vote[k] == NULL; i++)
      if (pcount_of(g, kstr(&m->protos[i].name)) == g->n_members)
        vote[k] = &m->protos[i].name;
    if (vote[k] == NULL)
      continue;
    intptr_t at = (intptr_t)map_get(first, kstr(vote[k]));
    if (at == 0) {
      if (map_put(first, kstr(vote[k]), (void *)(intptr_t)(k + 1)) != 0)
        goto out;
      at = k + 1;
    }
    count[at - 1]++;
  }
  int32_t best_votes = 0;
  for (k = 0; k < g->n_members; k++) {
    if (count[k] > best_votes) {
      best_votes = count[k];
      best = vote[k];
    }
  }
out:
  free(vote);
  free(count);
  map_free(first);
  return best;
}

/* GroupMetadata.supportsProtocols */
static bool supports_protocols(const sdg_group *g, kp_str type,
                               const sdg_join_protocol *p, int32_t n) {
  if (g->state == SDG_EMPTY)
    return type.len > 0 && n > 0;
  if (!str_eq(&g->protocol_type, type))
    return false;
  for (int32_t i = 0; i < n; i++)
    if (pcount_of(g, p[i].name) == g->n_members)
      return true;
  return false;
}

static bool can_rebalance(const sdg_group *g) {
  return g->state == SDG_STABLE || g->state == SDG_COMPLETING_REBALANCE ||
         g->state == SDG_EMPTY;
}

/* ---- the rebalance ------------------------------------------------------ */

static void complete_join(sdg_coord *c, sdg_group *g, int64_t now);

static void propagate_assignment(sdg_coord *c, sdg_group *g, int16_t err, int64_t now) {
  for (sdg_member *m = g->members; m != NULL; m = m->next) {
    if (!m->awaiting_sync)
      continue;
    void *w = m->sync_waiter;
    m->awaiting_sync = false;
    m->sync_waiter = NULL;
    answer_sync(c, w, err, g, m->assign, m->assign_len);
    heartbeat_ok(c, m, now);
  }
}

static void reset_and_propagate(sdg_coord *c, sdg_group *g, int16_t err, int64_t now) {
  for (sdg_member *m = g->members; m != NULL; m = m->next) {
    free(m->assign);
    m->assign = NULL;
    m->assign_len = 0;
  }
  propagate_assignment(c, g, err, now);
}

static void try_complete_join(sdg_coord *c, sdg_group *g, int64_t now) {
  if (g->state == SDG_PREPARING_REBALANCE && !g->initial_delay &&
      g->n_awaiting_join == g->n_members && g->n_pending == 0)
    complete_join(c, g, now);
}

/* Kafka's prepareRebalance; why/who: the reason logged ("member", member id). */
static void prepare_rebalance(sdg_coord *c, sdg_group *g, int64_t now, const char *why,
                              const char *who) {
  SD_INFO("group %s: preparing to rebalance in state %s, generation %d (%s%s%s)", g->id.p,
          sdg_state_name(g->state), (int)g->generation, why, who ? " " : "",
          who ? who : "");
  if (g->state == SDG_COMPLETING_REBALANCE)
    reset_and_propagate(c, g, SDG_ERR_REBALANCE_IN_PROGRESS, now);
  clear_pending_sync(g);
  int32_t rt = group_rebalance_timeout(g);
  if (g->state == SDG_EMPTY) {
    int32_t d = c->cfg.initial_rebalance_delay_ms;
    g->initial_delay = true;
    g->new_member_added = false;
    g->join_deadline = now + d;
    g->initial_remaining_ms = rt - d > 0 ? rt - d : 0;
  } else {
    g->initial_delay = false;
    g->join_deadline = now + rt;
  }
  note_deadline(c, g->join_deadline);
  g->state = SDG_PREPARING_REBALANCE;
  c->rebalances++;
  try_complete_join(c, g, now);
}

static void maybe_prepare_rebalance(sdg_coord *c, sdg_group *g, int64_t now,
                                    const char *why, const char *who) {
  if (can_rebalance(g))
    prepare_rebalance(c, g, now, why, who);
}

/* removeMemberAndUpdateGroup; why: "left", "expired"... for the log. */
static void remove_member_and_update(sdg_coord *c, sdg_group *g, sdg_member *m,
                                     int64_t now, const char *why) {
  SD_INFO("group %s: member %s %s", g->id.p, m->id.p, why);
  member_fail_join(c, m, KP_STR(""), SDG_ERR_UNKNOWN_MEMBER_ID);
  /* Kafka leaves a parked SyncGroup of a removed member unanswered; we answer it. */
  member_fail_sync(c, m, SDG_ERR_UNKNOWN_MEMBER_ID);
  group_remove(g, m);
  switch (g->state) {
  case SDG_STABLE:
  case SDG_COMPLETING_REBALANCE:
    maybe_prepare_rebalance(c, g, now, "a member was removed", NULL);
    break;
  case SDG_PREPARING_REBALANCE:
    try_complete_join(c, g, now);
    break;
  default:
    break;
  }
}

/* GroupMetadata.maybeElectNewJoinedLeader */
static bool elect_joined_leader(sdg_group *g) {
  if (g->leader == NULL)
    return false;
  if (g->leader->awaiting_join)
    return true;
  for (sdg_member *m = g->members; m != NULL; m = m->next) {
    if (m->awaiting_join) {
      g->leader = m;
      return true;
    }
  }
  return false;
}

static void init_next_generation(sdg_coord *c, sdg_group *g) {
  /* Java's int arithmetic: a replayed generation of 2^31-1 wraps around. */
  g->generation = (int32_t)((uint32_t)g->generation + 1u);
  str_free(&g->protocol_name);
  if (g->n_members > 0) {
    const sdg_str *p = select_protocol(g);
    if (p != NULL)
      (void)str_dup(&g->protocol_name, kstr(p));
    g->state = SDG_COMPLETING_REBALANCE;
  } else {
    g->state = SDG_EMPTY;
  }
  g->state_ts_ms = c->hooks.wall_ms ? c->hooks.wall_ms(c->hooks.ctx) : -1;
  clear_pending_sync(g);
}

/* Builds the JoinGroup answer of member m (the leader gets every member). */
static int join_result(const sdg_group *g, const sdg_member *m, bool with_members,
                       sdg_join_member **members_out, sdg_join_result *r) {
  memset(r, 0, sizeof(*r));
  r->error = 0;
  r->generation = g->generation;
  r->protocol_type = kstr(&g->protocol_type);
  r->protocol_name = kstr(&g->protocol_name);
  r->leader = g->leader ? kstr(&g->leader->id) : KP_STR("");
  r->member_id = kstr(&m->id);
  *members_out = NULL;
  if (!with_members || g->n_members == 0)
    return 0;
  sdg_join_member *jm = calloc((size_t)g->n_members, sizeof(*jm));
  if (jm == NULL)
    return -1;
  int32_t n = 0;
  for (const sdg_member *o = g->members; o != NULL; o = o->next) {
    const sdg_protocol *p = member_protocol(o, &g->protocol_name);
    jm[n].member_id = kstr(&o->id);
    jm[n].instance_id = kstr(&o->instance_id);
    jm[n].metadata =
        p ? (kp_bytes){p->meta, p->meta_len} : (kp_bytes){(const uint8_t *)"", 0};
    n++;
  }
  r->members = jm;
  r->n_members = n;
  *members_out = jm;
  return 0;
}

/* Answers m's parked JoinGroup with the current generation. */
static void answer_join_current(sdg_coord *c, sdg_group *g, sdg_member *m,
                                bool with_members, bool skip, kp_str leader_override) {
  if (!m->awaiting_join)
    return;
  void *w = m->join_waiter;
  m->awaiting_join = false;
  m->join_waiter = NULL;
  g->n_awaiting_join--;
  sdg_join_result r;
  sdg_join_member *jm = NULL;
  if (join_result(g, m, with_members, &jm, &r) != 0) {
    answer_join_error(c, w, kstr(&m->id), SDG_ERR_UNKNOWN_SERVER_ERROR);
    return;
  }
  r.skip_assignment = skip;
  if (leader_override.len >= 0)
    r.leader = leader_override;
  c->hooks.join_done(c->hooks.ctx, w, &r);
  free(jm);
}

/* onCompleteJoin */
static void complete_join(sdg_coord *c, sdg_group *g, int64_t now) {
  g->join_deadline = SDG_NO_DEADLINE;
  g->initial_delay = false;
  for (sdg_member *m = g->members, *n; m != NULL; m = n) {
    n = m->next;
    if (!m->awaiting_join && m->instance_id.p == NULL) {
      member_fail_sync(c, m, SDG_ERR_REBALANCE_IN_PROGRESS);
      group_remove(g, m);
    }
  }
  if (g->state == SDG_DEAD)
    return;
  if (!elect_joined_leader(g) && g->n_members > 0) {
    /* Nobody rejoined: wait another rebalance timeout for the session
     * timeouts to remove the silent members. */
    g->join_deadline = now + group_rebalance_timeout(g);
    note_deadline(c, g->join_deadline);
    return;
  }
  init_next_generation(c, g);
  SD_INFO("group %s: generation %d with %d members (protocol %s)", g->id.p,
          (int)g->generation, (int)g->n_members,
          g->protocol_name.p ? g->protocol_name.p : "none");
  if (g->state == SDG_EMPTY) {
    (void)store(c, g); /* Kafka only warns when this fails */
    return;
  }
  for (sdg_member *m = g->members; m != NULL; m = m->next) {
    answer_join_current(c, g, m, g->leader == m, false, KP_STR_NULL);
    heartbeat_ok(c, m, now);
    m->is_new = false;
    set_pending_sync(g, m, true);
  }
  g->sync_deadline = now + group_rebalance_timeout(g);
  note_deadline(c, g->sync_deadline);
}

/* InitialDelayedJoin / DelayedJoin expiry. */
static void join_expired(sdg_coord *c, sdg_group *g, int64_t now) {
  if (g->initial_delay && g->new_member_added && g->initial_remaining_ms > 0) {
    int32_t d = c->cfg.initial_rebalance_delay_ms;
    int32_t delay = d < g->initial_remaining_ms ? d : g->initial_remaining_ms;
    g->new_member_added = false;
    g->initial_remaining_ms =
        g->initial_remaining_ms - delay > 0 ? g->initial_remaining_ms - delay : 0;
    g->join_deadline = now + delay;
    note_deadline(c, g->join_deadline);
    return;
  }
  complete_join(c, g, now);
}

/* onExpirePendingSync */
static void sync_expired(sdg_coord *c, sdg_group *g, int64_t now) {
  g->sync_deadline = SDG_NO_DEADLINE;
  if (g->n_pending_sync == 0)
    return;
  for (sdg_member *m = g->members, *n; m != NULL; m = n) {
    n = m->next;
    if (m->pending_sync) {
      member_fail_join(c, m, KP_STR(""), SDG_ERR_UNKNOWN_MEMBER_ID);
      member_fail_sync(c, m, SDG_ERR_UNKNOWN_MEMBER_ID);
      group_remove(g, m);
    }
  }
  prepare_rebalance(c, g, now, "members did not send SyncGroup in time", NULL);
}

/* ---- coordinator --------------------------------------------------------- */

sdg_coord *sdg_new(const sdg_config *cfg, const sdg_hooks *hooks) {
  sdg_coord *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return NULL;
  c->cfg = *cfg;
  c->hooks = *hooks;
  c->groups = map_new();
  if (c->groups == NULL) {
    free(c);
    return NULL;
  }
  c->next_deadline = SDG_NO_DEADLINE;
  c->active = true;
  return c;
}

void sdg_stop(sdg_coord *c, int16_t err) {
  if (c == NULL)
    return;
  c->active = false;
  for (sdg_group *g = c->list; g != NULL; g = g->list_next) {
    for (sdg_member *m = g->members; m != NULL; m = m->next) {
      member_fail_join(c, m, kstr(&m->id), err);
      member_fail_sync(c, m, err);
    }
  }
}

void sdg_free(sdg_coord *c) {
  if (c == NULL)
    return;
  while (c->list != NULL)
    group_destroy(c, c->list);
  map_free(c->groups);
  free(c);
}

int64_t sdg_next_deadline(const sdg_coord *c) {
  return c->next_deadline;
}

static void tick_group(sdg_coord *c, sdg_group *g, int64_t now) {
  /* Pending (KIP-394) members that never came back. */
  for (sdg_member *m = g->pending, *n; m != NULL; m = n) {
    n = m->next;
    if (m->deadline <= now) {
      group_remove(g, m);
      try_complete_join(c, g, now);
    }
  }
again:
  for (sdg_member *m = g->members; m != NULL; m = m->next) {
    if (m->deadline > now)
      continue;
    if (!m->is_new && (m->awaiting_join || m->awaiting_sync)) {
      m->deadline = SDG_NO_DEADLINE; /* waiting members satisfy their heartbeat */
      continue;
    }
    remove_member_and_update(c, g, m, now, "expired (session timeout)");
    goto again; /* the list may have changed in many places */
  }
  /* An extended initial delay of 0 ms expires in the same tick. */
  for (int i = 0; i < 3 && g->state == SDG_PREPARING_REBALANCE && g->join_deadline <= now;
       i++)
    join_expired(c, g, now);
  if ((g->state == SDG_COMPLETING_REBALANCE || g->state == SDG_STABLE) &&
      g->sync_deadline <= now)
    sync_expired(c, g, now);
}

static void recompute_deadline(sdg_coord *c) {
  int64_t d = SDG_NO_DEADLINE;
  for (const sdg_group *g = c->list; g != NULL; g = g->list_next) {
    if (g->state == SDG_PREPARING_REBALANCE && g->join_deadline < d)
      d = g->join_deadline;
    if ((g->state == SDG_COMPLETING_REBALANCE || g->state == SDG_STABLE) &&
        g->sync_deadline < d)
      d = g->sync_deadline;
    for (const sdg_member *m = g->members; m != NULL; m = m->next)
      if (m->deadline < d)
        d = m->deadline;
    for (const sdg_member *m = g->pending; m != NULL; m = m->next)
      if (m->deadline < d)
        d = m->deadline;
  }
  c->next_deadline = d;
}

void sdg_tick(sdg_coord *c, int64_t now) {
  if (c == NULL || !c->active || now < c->next_deadline)
    return;
  for (sdg_group *g = c->list; g != NULL; g = g->list_next)
    tick_group(c, g, now);
  recompute_deadline(c);
}

/* ---- JoinGroup ------------------------------------------------------------ */

static bool accept_joining_member(const sdg_coord *c, const sdg_group *g,
                                  kp_str member_id, kp_str instance_id) {
  const sdg_member *m = find_active(g, member_id);
  /* A known static member replacing itself does not grow the group (Kafka
   * counts it as new and may refuse it; docs/GROUPS.md). */
  if (m == NULL && member_id.len <= 0 && instance_id.len >= 0)
    m = map_get(g->statics, instance_id);
  switch (g->state) {
  case SDG_EMPTY:
  case SDG_DEAD:
    return true;
  case SDG_PREPARING_REBALANCE:
    return (m != NULL && m->awaiting_join) || g->n_awaiting_join < c->cfg.max_size;
  default:
    return m != NULL || g->n_members < c->cfg.max_size;
  }
}

static sdg_member *member_build(const sdg_join_args *a, sdg_str *id) {
  sdg_member *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return NULL;
  m->id = *id;
  *id = (sdg_str){NULL, -1};
  m->instance_id = (sdg_str){NULL, -1};
  if (str_dup(&m->instance_id, a->instance_id) != 0 ||
      str_dup(&m->client_id, a->client_id) != 0 ||
      str_dup(&m->client_host, a->client_host) != 0 ||
      protos_copy(&m->protos, a->protos, a->n_protos) != 0) {
    member_free(m);
    return NULL;
  }
  m->n_protos = a->n_protos;
  m->session_ms = a->session_ms;
  m->rebalance_ms = a->rebalance_ms;
  m->deadline = SDG_NO_DEADLINE;
  return m;
}

/* addMemberAndRebalance; consumes *id. */
static void add_member_and_rebalance(sdg_coord *c, sdg_group *g, const sdg_join_args *a,
                                     sdg_str *id, int64_t now) {
  sdg_member *m = member_build(a, id);
  if (m == NULL) {
    str_free(id);
    answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_UNKNOWN_SERVER_ERROR);
    return;
  }
  m->is_new = true;
  m->awaiting_join = true;
  m->join_waiter = a->waiter;
  if (g->state == SDG_PREPARING_REBALANCE && g->generation == 0)
    g->new_member_added = true;
  if (group_add(g, m, a->protocol_type) != 0) {
    member_free(m);
    answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_UNKNOWN_SERVER_ERROR);
    return;
  }
  schedule(c, m, now, SDG_NEW_MEMBER_JOIN_TIMEOUT_MS);
  maybe_prepare_rebalance(c, g, now, "new member joined", m->id.p);
}

/*
 * GroupMetadata.updateMember.  A member that was already awaiting its join
 * (a retried JoinGroup) has the older request answered REBALANCE_IN_PROGRESS
 * (Kafka drops the older callback).  protos are taken over.
 */
static void update_member(sdg_coord *c, sdg_group *g, sdg_member *m, sdg_protocol *protos,
                          int32_t n_protos, int32_t rebalance_ms, int32_t session_ms,
                          void *waiter, bool has_waiter) {
  pcounts_add(g, m, -1);
  protos_free(m->protos, m->n_protos);
  m->protos = protos;
  m->n_protos = n_protos;
  pcounts_add(g, m, +1);
  m->rebalance_ms = rebalance_ms;
  m->session_ms = session_ms;
  if (m->awaiting_join && has_waiter) {
    void *old = m->join_waiter;
    m->join_waiter = waiter;
    answer_join_error(c, old, kstr(&m->id), SDG_ERR_REBALANCE_IN_PROGRESS);
    return;
  }
  if (has_waiter && !m->awaiting_join)
    g->n_awaiting_join++;
  else if (!has_waiter && m->awaiting_join)
    g->n_awaiting_join--;
  m->awaiting_join = has_waiter;
  m->join_waiter = has_waiter ? waiter : NULL;
}

static void update_member_and_rebalance(sdg_coord *c, sdg_group *g, sdg_member *m,
                                        const sdg_join_args *a, int64_t now) {
  sdg_protocol *p = NULL;
  if (protos_copy(&p, a->protos, a->n_protos) != 0) {
    answer_join_error(c, a->waiter, kstr(&m->id), SDG_ERR_UNKNOWN_SERVER_ERROR);
    return;
  }
  update_member(c, g, m, p, a->n_protos, a->rebalance_ms, a->session_ms, a->waiter, true);
  maybe_prepare_rebalance(c, g, now, "member rejoined", m->id.p);
}

/* replaceStaticMember: m gets new_id; its old requests are fenced. */
static int replace_static_member(sdg_coord *c, sdg_group *g, sdg_member *m,
                                 sdg_str *new_id) {
  sdg_str old = m->id;
  member_fail_join(c, m, kstr(&old), SDG_ERR_FENCED_INSTANCE_ID);
  member_fail_sync(c, m, SDG_ERR_FENCED_INSTANCE_ID);
  map_del(g->by_id, kstr(&old));
  m->id = *new_id;
  if (map_put(g->by_id, kstr(&m->id), m) != 0) {
    m->id = old;
    (void)map_put(g->by_id, kstr(&m->id), m); /* the entry just freed: cannot fail */
    return -1;
  }
  *new_id = old; /* the caller frees or restores it */
  return 0;
}

/* updateStaticMemberAndRebalance; consumes *new_id. */
static void update_static_member_and_rebalance(sdg_coord *c, sdg_group *g, sdg_member *m,
                                               const sdg_join_args *a, sdg_str *new_id,
                                               int64_t now) {
  sdg_str current_leader = {NULL, -1};
  if (g->leader != NULL && str_dup(&current_leader, kstr(&g->leader->id)) != 0)
    goto oom;
  sdg_protocol *np = NULL;
  if (protos_copy(&np, a->protos, a->n_protos) != 0)
    goto oom;
  if (replace_static_member(c, g, m, new_id) != 0) {
    protos_free(np, a->n_protos);
    goto oom;
  }
  sdg_str old_id = *new_id; /* now the old id */
  SD_INFO("group %s: static member %s replaced %s", g->id.p, m->id.p, old_id.p);
  *new_id = (sdg_str){NULL, -1};
  heartbeat_ok(c, m, now);
  sdg_protocol *old_protos = m->protos;
  int32_t old_n = m->n_protos, old_rt = m->rebalance_ms, old_st = m->session_ms;
  /* Keep the old protocols for a revert: detach them before update_member frees. */
  pcounts_add(g, m, -1);
  m->protos = NULL;
  m->n_protos = 0;
  update_member(c, g, m, np, a->n_protos, a->rebalance_ms, a->session_ms, a->waiter,
                true);

  switch (g->state) {
  case SDG_STABLE: {
    const sdg_str *sel = select_protocol(g);
    if (sel != NULL && str_eq(&g->protocol_name, kstr(sel))) {
      int16_t err = store(c, g);
      if (err != 0) {
        /* Revert: old protocols, timeouts and member id. */
        update_member(c, g, m, old_protos, old_n, old_rt, old_st, NULL, false);
        old_protos = NULL;
        sdg_str cur = m->id;
        map_del(g->by_id, kstr(&cur));
        m->id = old_id;
        old_id = cur;
        if (map_put(g->by_id, kstr(&m->id), m) != 0) {
          /* cannot happen (an entry was just freed); drop the member */
        }
        heartbeat_ok(c, m, now);
        answer_join_error(c, a->waiter, KP_STR(""), err);
      } else if (a->support_skip_assignment) {
        bool is_leader = g->leader == m;
        answer_join_current(c, g, m, is_leader, is_leader, KP_STR_NULL);
      } else {
        answer_join_current(c, g, m, false, false,
                            current_leader.p ? kstr(&current_leader) : KP_STR(""));
      }
    } else {
      maybe_prepare_rebalance(c, g, now, "static member changed the protocol choice",
                              m->id.p);
    }
    break;
  }
  case SDG_COMPLETING_REBALANCE:
    prepare_rebalance(c, g, now, "static member replaced during CompletingRebalance",
                      m->id.p);
    break;
  default:
    break; /* PreparingRebalance: answered when the join phase completes */
  }
  protos_free(old_protos, old_n);
  str_free(&old_id);
  str_free(&current_leader);
  return;
oom:
  str_free(new_id);
  str_free(&current_leader);
  answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_UNKNOWN_SERVER_ERROR);
}

static void add_pending_member(sdg_coord *c, sdg_group *g, sdg_str *id,
                               int32_t session_ms, int64_t now) {
  sdg_member *p = calloc(1, sizeof(*p));
  if (p == NULL)
    goto fail;
  p->id = *id;
  *id = (sdg_str){NULL, -1};
  p->instance_id = p->client_id = p->client_host = (sdg_str){NULL, -1};
  p->is_pending = true;
  p->g = g;
  if (map_put(g->by_id, kstr(&p->id), p) != 0) {
    member_free(p);
    goto fail;
  }
  list_append(&g->pending, NULL, p);
  g->n_pending++;
  schedule(c, p, now, session_ms);
  return;
fail:
  str_free(id);
}

static void new_member_join(sdg_coord *c, sdg_group *g, const sdg_join_args *a,
                            int64_t now) {
  if (g->state == SDG_DEAD) {
    answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_COORDINATOR_NOT_AVAILABLE);
    return;
  }
  if (!supports_protocols(g, a->protocol_type, a->protos, a->n_protos)) {
    answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
    return;
  }
  sdg_str id;
  if (new_member_id(&id, a->client_id, a->instance_id) != 0) {
    answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_UNKNOWN_SERVER_ERROR);
    return;
  }
  if (a->instance_id.len >= 0) {
    sdg_member *old = map_get(g->statics, a->instance_id);
    if (old != NULL)
      update_static_member_and_rebalance(c, g, old, a, &id, now);
    else
      add_member_and_rebalance(c, g, a, &id, now);
    return;
  }
  if (a->require_known_member_id) {
    /* KIP-394: remember the id, ask the client to come back with it. */
    sdg_join_result r;
    memset(&r, 0, sizeof(r));
    r.error = SDG_ERR_MEMBER_ID_REQUIRED;
    r.generation = -1;
    r.protocol_type = KP_STR_NULL;
    r.protocol_name = KP_STR_NULL;
    r.leader = KP_STR("");
    sdg_str copy;
    if (str_dup(&copy, kstr(&id)) != 0) {
      str_free(&id);
      answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_UNKNOWN_SERVER_ERROR);
      return;
    }
    add_pending_member(c, g, &id, a->session_ms, now);
    r.member_id = kstr(&copy);
    c->hooks.join_done(c->hooks.ctx, a->waiter, &r);
    str_free(&copy);
    return;
  }
  add_member_and_rebalance(c, g, a, &id, now);
}

/* validateCurrentMember */
static int16_t validate_member(const sdg_group *g, kp_str member_id, kp_str instance_id,
                               sdg_member **out) {
  *out = NULL;
  if (instance_id.len >= 0) {
    sdg_member *s = map_get(g->statics, instance_id);
    if (s == NULL)
      return SDG_ERR_UNKNOWN_MEMBER_ID;
    if (!str_eq(&s->id, member_id))
      return SDG_ERR_FENCED_INSTANCE_ID;
  }
  sdg_member *m = find_active(g, member_id);
  if (m == NULL)
    return SDG_ERR_UNKNOWN_MEMBER_ID;
  *out = m;
  return 0;
}

static void current_member_join(sdg_coord *c, sdg_group *g, const sdg_join_args *a,
                                int64_t now) {
  if (g->state == SDG_DEAD) {
    answer_join_error(c, a->waiter, a->member_id, SDG_ERR_COORDINATOR_NOT_AVAILABLE);
    return;
  }
  if (!supports_protocols(g, a->protocol_type, a->protos, a->n_protos)) {
    answer_join_error(c, a->waiter, a->member_id, SDG_ERR_INCONSISTENT_GROUP_PROTOCOL);
    return;
  }
  sdg_member *pm = sdg_find_member(g, a->member_id);
  if (pm != NULL && pm->is_pending) {
    if (a->instance_id.len >= 0) {
      /* Kafka: IllegalStateException, answered as an unknown error. */
      answer_join_error(c, a->waiter, a->member_id, SDG_ERR_UNKNOWN_SERVER_ERROR);
      return;
    }
    sdg_str id;
    if (str_dup(&id, a->member_id) != 0) {
      answer_join_error(c, a->waiter, a->member_id, SDG_ERR_UNKNOWN_SERVER_ERROR);
      return;
    }
    group_remove(g, pm);
    add_member_and_rebalance(c, g, a, &id, now);
    return;
  }
  sdg_member *m;
  int16_t err = validate_member(g, a->member_id, a->instance_id, &m);
  if (err != 0) {
    answer_join_error(c, a->waiter, a->member_id, err);
    return;
  }
  switch (g->state) {
  case SDG_PREPARING_REBALANCE:
    update_member_and_rebalance(c, g, m, a, now);
    break;
  case SDG_COMPLETING_REBALANCE:
    if (member_matches(m, a->protos, a->n_protos)) {
      /* Same metadata (the member missed its answer): the current generation. */
      m->awaiting_join = true;
      m->join_waiter = a->waiter;
      g->n_awaiting_join++;
      answer_join_current(c, g, m, g->leader == m, false, KP_STR_NULL);
    } else {
      update_member_and_rebalance(c, g, m, a, now);
    }
    break;
  case SDG_STABLE:
    if (g->leader == m || !member_matches(m, a->protos, a->n_protos)) {
      update_member_and_rebalance(c, g, m, a, now);
    } else {
      m->awaiting_join = true;
      m->join_waiter = a->waiter;
      g->n_awaiting_join++;
      answer_join_current(c, g, m, false, false, KP_STR_NULL);
    }
    break;
  default:
    answer_join_error(c, a->waiter, a->member_id, SDG_ERR_UNKNOWN_MEMBER_ID);
    break;
  }
}

static bool group_is_unused(const sdg_group *g) {
  return g->state == SDG_EMPTY && g->generation == 0 && g->n_members == 0 &&
         g->n_pending == 0 && g->protocol_type.p == NULL;
}

static void join_impl(sdg_coord *c, const sdg_join_args *a, int64_t now) {
  if (!c->active) {
    answer_join_error(c, a->waiter, a->member_id, SDG_ERR_COORDINATOR_NOT_AVAILABLE);
    return;
  }
  if (a->group_id.len <= 0) {
    answer_join_error(c, a->waiter, a->member_id, SDG_ERR_INVALID_GROUP_ID);
    return;
  }
  if (a->session_ms < c->cfg.min_session_ms || a->session_ms > c->cfg.max_session_ms) {
    answer_join_error(c, a->waiter, a->member_id, SDG_ERR_INVALID_SESSION_TIMEOUT);
    return;
  }
  bool unknown = a->member_id.len <= 0;
  sdg_group *g = sdg_find(c, a->group_id);
  bool created = false;
  if (g == NULL) {
    if (!unknown) {
      answer_join_error(c, a->waiter, a->member_id, SDG_ERR_UNKNOWN_MEMBER_ID);
      return;
    }
    g = group_new(c, a->group_id);
    if (g == NULL) {
      answer_join_error(c, a->waiter, a->member_id, SDG_ERR_UNKNOWN_SERVER_ERROR);
      return;
    }
    created = true;
  }
  if (!accept_joining_member(c, g, a->member_id, a->instance_id)) {
    sdg_member *m = sdg_find_member(g, a->member_id);
    if (m != NULL) {
      member_fail_join(c, m, KP_STR(""), SDG_ERR_GROUP_MAX_SIZE_REACHED);
      member_fail_sync(c, m, SDG_ERR_GROUP_MAX_SIZE_REACHED);
      group_remove(g, m);
    }
    answer_join_error(c, a->waiter, KP_STR(""), SDG_ERR_GROUP_MAX_SIZE_REACHED);
  } else if (unknown) {
    new_member_join(c, g, a, now);
  } else {
    current_member_join(c, g, a, now);
  }
  if (g->state == SDG_PREPARING_REBALANCE)
    try_complete_join(c, g, now);
  if (created && group_is_unused(g))
    group_destroy(c, g);
}

/* A member listing a protocol name twice keeps the first (Kafka keeps both
 * and then counts the name twice, so that it can never be chosen). */
static int dedupe_protocols(const sdg_join_protocol *in, int32_t n,
                            sdg_join_protocol **out, int32_t *n_out) {
  *out = NULL;
  *n_out = 0;
  if (n <= 0)
    return 0;
  sdg_join_protocol *o = malloc((size_t)n * sizeof(*o));
  sdg_map *seen = map_new();
  int rc = -1;
  if (o == NULL || seen == NULL)
    goto out;
  int32_t k = 0;
  for (int32_t i = 0; i < n; i++) {
    kp_str name = in[i].name.len >= 0 ? in[i].name : KP_STR("");
    if (map_get(seen, name) != NULL)
      continue;
    if (map_put(seen, name, (void *)&in[i]) != 0)
      goto out;
    o[k] = in[i];
    o[k].name = name;
    k++;
  }
  *out = o;
  *n_out = k;
  o = NULL;
  rc = 0;
out:
  free(o);
  map_free(seen);
  return rc;
}

void sdg_join(sdg_coord *c, const sdg_join_args *a, int64_t now) {
  sdg_join_args d = *a;
  sdg_join_protocol *protos = NULL;
  if (dedupe_protocols(a->protos, a->n_protos, &protos, &d.n_protos) != 0) {
    answer_join_error(c, a->waiter, a->member_id, SDG_ERR_UNKNOWN_SERVER_ERROR);
    return;
  }
  d.protos = protos;
  join_impl(c, &d, now);
  free(protos);
}

/* ---- SyncGroup ------------------------------------------------------------ */

static int16_t validate_sync(const sdg_group *g, int32_t generation, kp_str member_id,
                             kp_str instance_id, kp_str ptype, kp_str pname,
                             sdg_member **m) {
  *m = NULL;
  if (g->state == SDG_DEAD)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  int16_t err = validate_member(g, member_id, instance_id, m);
  if (err != 0)
    return err;
  if (generation != g->generation)
    return SDG_ERR_ILLEGAL_GENERATION;
  if (ptype.len >= 0 && (g->protocol_type.p == NULL || !str_eq(&g->protocol_type, ptype)))
    return SDG_ERR_INCONSISTENT_GROUP_PROTOCOL;
  if (pname.len >= 0 && (g->protocol_name.p == NULL || !str_eq(&g->protocol_name, pname)))
    return SDG_ERR_INCONSISTENT_GROUP_PROTOCOL;
  return 0;
}

static int set_assignment(sdg_member *m, kp_bytes b) {
  int32_t len = b.len < 0 ? 0 : b.len;
  uint8_t *p = NULL;
  if (len > 0) {
    p = malloc((size_t)len);
    if (p == NULL)
      return -1;
    memcpy(p, b.ptr, (size_t)len);
  }
  free(m->assign);
  m->assign = p;
  m->assign_len = len;
  return 0;
}

void sdg_sync(sdg_coord *c, kp_str group_id, int32_t generation, kp_str member_id,
              kp_str instance_id, kp_str protocol_type, kp_str protocol_name,
              const sdg_assignment *as, int32_t n_as, void *waiter, int64_t now) {
  if (!c->active) {
    answer_sync(c, waiter, SDG_ERR_COORDINATOR_NOT_AVAILABLE, NULL, NULL, 0);
    return;
  }
  if (group_id.len <= 0) {
    answer_sync(c, waiter, SDG_ERR_INVALID_GROUP_ID, NULL, NULL, 0);
    return;
  }
  sdg_group *g = sdg_find(c, group_id);
  if (g == NULL) {
    answer_sync(c, waiter, SDG_ERR_UNKNOWN_MEMBER_ID, NULL, NULL, 0);
    return;
  }
  sdg_member *m;
  int16_t err = validate_sync(g, generation, member_id, instance_id, protocol_type,
                              protocol_name, &m);
  if (err != 0) {
    answer_sync(c, waiter, err, NULL, NULL, 0);
    return;
  }
  switch (g->state) {
  case SDG_EMPTY:
    answer_sync(c, waiter, SDG_ERR_UNKNOWN_MEMBER_ID, NULL, NULL, 0);
    return;
  case SDG_PREPARING_REBALANCE:
    answer_sync(c, waiter, SDG_ERR_REBALANCE_IN_PROGRESS, NULL, NULL, 0);
    return;
  case SDG_STABLE:
    set_pending_sync(g, m, false);
    answer_sync(c, waiter, 0, g, m->assign, m->assign_len);
    heartbeat_ok(c, m, now);
    return;
  case SDG_COMPLETING_REBALANCE:
    break;
  default:
    answer_sync(c, waiter, SDG_ERR_COORDINATOR_NOT_AVAILABLE, NULL, NULL, 0);
    return;
  }
  /* A retried SyncGroup replaces the parked one (answered REBALANCE_IN_PROGRESS). */
  member_fail_sync(c, m, SDG_ERR_REBALANCE_IN_PROGRESS);
  m->awaiting_sync = true;
  m->sync_waiter = waiter;
  set_pending_sync(g, m, false);
  if (n_as >= 0 && g->n_pending_sync == 0)
    g->sync_deadline = SDG_NO_DEADLINE;
  if (g->leader != m)
    return;
  /* The leader's assignment: members it left out get an empty one; entries
   * for unknown members are ignored; a member listed twice gets the last. */
  for (sdg_member *o = g->members; o != NULL; o = o->next) {
    kp_bytes b = {(const uint8_t *)"", 0};
    for (int32_t i = 0; i < n_as; i++)
      if (str_eq(&o->id, as[i].member_id))
        b = as[i].assignment;
    if (set_assignment(o, b) != 0) {
      err = SDG_ERR_UNKNOWN_SERVER_ERROR;
      break;
    }
  }
  if (err == 0)
    err = store(c, g);
  if (err != 0) {
    reset_and_propagate(c, g, err, now);
    maybe_prepare_rebalance(c, g, now, "storing the assignment failed", NULL);
    return;
  }
  propagate_assignment(c, g, 0, now);
  g->state = SDG_STABLE;
  c->completed_rebalances++;
}

/* ---- Heartbeat, LeaveGroup, DeleteGroups -------------------------------- */

int16_t sdg_heartbeat(sdg_coord *c, kp_str group_id, kp_str member_id, kp_str instance_id,
                      int32_t generation, int64_t now) {
  if (group_id.len <= 0)
    return SDG_ERR_INVALID_GROUP_ID;
  if (!c->active)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  sdg_group *g = sdg_find(c, group_id);
  if (g == NULL)
    return SDG_ERR_UNKNOWN_MEMBER_ID;
  if (g->state == SDG_DEAD)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  sdg_member *m;
  int16_t err = validate_member(g, member_id, instance_id, &m);
  if (err != 0)
    return err;
  if (generation != g->generation)
    return SDG_ERR_ILLEGAL_GENERATION;
  switch (g->state) {
  case SDG_EMPTY:
    return SDG_ERR_UNKNOWN_MEMBER_ID;
  case SDG_PREPARING_REBALANCE:
    heartbeat_ok(c, m, now);
    return SDG_ERR_REBALANCE_IN_PROGRESS;
  default:
    heartbeat_ok(c, m, now);
    return 0;
  }
}

int16_t sdg_leave_begin(sdg_coord *c, kp_str group_id, sdg_group **g) {
  *g = NULL;
  if (group_id.len <= 0)
    return SDG_ERR_INVALID_GROUP_ID;
  if (!c->active)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  *g = sdg_find(c, group_id);
  if (*g != NULL && (*g)->state == SDG_DEAD)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  return 0;
}

int16_t sdg_leave_member(sdg_coord *c, sdg_group *g, kp_str member_id, kp_str instance_id,
                         int64_t now) {
  if (g == NULL)
    return SDG_ERR_UNKNOWN_MEMBER_ID;
  sdg_member *m;
  if (member_id.len <= 0) {
    /* Administrative removal by group.instance.id. */
    m = instance_id.len >= 0 ? map_get(g->statics, instance_id) : NULL;
    if (m == NULL)
      return SDG_ERR_UNKNOWN_MEMBER_ID;
    remove_member_and_update(c, g, m, now, "left the group (LeaveGroup)");
    return 0;
  }
  m = sdg_find_member(g, member_id);
  if (m != NULL && m->is_pending) {
    group_remove(g, m);
    try_complete_join(c, g, now);
    return 0;
  }
  int16_t err = validate_member(g, member_id, instance_id, &m);
  if (err != 0)
    return err;
  remove_member_and_update(c, g, m, now, "left the group (LeaveGroup)");
  return 0;
}

int16_t sdg_delete(sdg_coord *c, kp_str group_id) {
  if (group_id.len < 0)
    return SDG_ERR_INVALID_GROUP_ID;
  if (!c->active)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  sdg_group *g = sdg_find(c, group_id);
  if (g == NULL || g->state == SDG_DEAD)
    return SDG_ERR_GROUP_ID_NOT_FOUND;
  if (g->state != SDG_EMPTY)
    return SDG_ERR_NON_EMPTY_GROUP;
  g->state = SDG_DEAD;
  if (c->hooks.deleted)
    c->hooks.deleted(c->hooks.ctx, g, true);
  group_destroy(c, g);
  return 0;
}

/* ---- the offsets half's checks -------------------------------------------- */

sdg_group *sdg_touch(sdg_coord *c, kp_str group_id) {
  sdg_group *g = sdg_find(c, group_id);
  return g != NULL ? g : group_new(c, group_id);
}

int16_t sdg_check_commit(sdg_coord *c, kp_str group_id, kp_str member_id,
                         kp_str instance_id, int32_t generation, int64_t now) {
  if (group_id.len < 0)
    return SDG_ERR_INVALID_GROUP_ID;
  if (!c->active)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  sdg_group *g = sdg_find(c, group_id);
  if (g == NULL) {
    if (generation >= 0)
      return SDG_ERR_ILLEGAL_GENERATION;
    return sdg_touch(c, group_id) != NULL ? 0 : SDG_ERR_UNKNOWN_SERVER_ERROR;
  }
  if (g->state == SDG_DEAD)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  if (generation < 0 && g->state == SDG_EMPTY)
    return 0;
  sdg_member *m = NULL;
  if (generation >= 0 || member_id.len > 0 || instance_id.len >= 0) {
    int16_t err = validate_member(g, member_id, instance_id, &m);
    if (err != 0)
      return err;
    if (generation != g->generation)
      return SDG_ERR_ILLEGAL_GENERATION;
  } else if (g->state != SDG_EMPTY) {
    return SDG_ERR_UNKNOWN_MEMBER_ID;
  }
  switch (g->state) {
  case SDG_COMPLETING_REBALANCE:
    return SDG_ERR_REBALANCE_IN_PROGRESS;
  case SDG_STABLE:
  case SDG_PREPARING_REBALANCE:
    if (m != NULL)
      heartbeat_ok(c, m, now);
    return 0;
  default:
    return 0;
  }
}

bool sdg_subscription_has_topic(const uint8_t *meta, int32_t len, kp_str topic) {
  /* ConsumerProtocolSubscription: Version int16, Topics [string] (all versions
   * start this way and are not flexible). */
  if (meta == NULL || len < 0)
    return true;
  sl_rbuf r;
  sl_rbuf_init(&r, meta, (size_t)len);
  int16_t version = sl_rbuf_i16(&r);
  int32_t n = sl_rbuf_i32(&r);
  if (sl_rbuf_err(&r) != 0 || version < 0 || n < 0 || (size_t)n > sl_rbuf_left(&r) / 2)
    return true;
  for (int32_t i = 0; i < n; i++) {
    int16_t l = sl_rbuf_i16(&r);
    if (l < 0)
      return true;
    const uint8_t *p = sl_rbuf_bytes(&r, (size_t)l);
    if (sl_rbuf_err(&r) != 0 || p == NULL)
      return true;
    if (l == topic.len && (l == 0 || memcmp(p, topic.ptr, (size_t)l) == 0))
      return true;
  }
  return false;
}

int16_t sdg_check_offset_delete(sdg_coord *c, kp_str group_id, kp_str topic) {
  if (group_id.len < 0)
    return SDG_ERR_INVALID_GROUP_ID;
  if (!c->active)
    return SDG_ERR_COORDINATOR_NOT_AVAILABLE;
  sdg_group *g = sdg_find(c, group_id);
  if (g == NULL || g->state == SDG_DEAD)
    return SDG_ERR_GROUP_ID_NOT_FOUND;
  if (g->state == SDG_EMPTY)
    return 0;
  if (!str_eq(&g->protocol_type, KP_STR("consumer")))
    return SDG_ERR_NON_EMPTY_GROUP;
  for (const sdg_member *m = g->members; m != NULL; m = m->next) {
    const sdg_protocol *p = member_protocol(m, &g->protocol_name);
    if (p == NULL || sdg_subscription_has_topic(p->meta, p->meta_len, topic))
      return SDG_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
  }
  return 0;
}

void sdg_offsets_gone(sdg_coord *c, kp_str group_id) {
  sdg_group *g = sdg_find(c, group_id);
  if (g == NULL || g->state != SDG_EMPTY || g->n_members > 0)
    return;
  g->state = SDG_DEAD;
  if (c->hooks.deleted)
    c->hooks.deleted(c->hooks.ctx, g, false);
  group_destroy(c, g);
}

/* ---- replay ----------------------------------------------------------------- */

int sdg_replay(sdg_coord *c, kp_str group_id, const sdg_stored_group *sg, int64_t now) {
  sdg_group *g = sdg_find(c, group_id);
  if (g != NULL)
    group_destroy(c, g); /* at start: nothing is parked */
  if (sg == NULL)
    return 0;
  g = group_new(c, group_id);
  if (g == NULL)
    return -1;
  g->generation = sg->generation;
  g->state_ts_ms = sg->state_ts_ms;
  if (str_dup(&g->protocol_type, sg->protocol_type) != 0 ||
      str_dup(&g->protocol_name, sg->protocol_name) != 0)
    goto fail;
  for (int32_t i = 0; i < sg->n_members; i++) {
    const sdg_stored_member *sm = &sg->members[i];
    if (map_get(g->by_id, sm->member_id) != NULL)
      continue; /* a duplicate member id: keep the first */
    sdg_join_protocol p = {g->protocol_name.p ? kstr(&g->protocol_name) : KP_STR(""),
                           sm->subscription};
    sdg_join_args a;
    memset(&a, 0, sizeof(a));
    a.instance_id = sm->instance_id;
    if (a.instance_id.len >= 0 && map_get(g->statics, a.instance_id) != NULL)
      a.instance_id = KP_STR_NULL;
    a.client_id = sm->client_id;
    a.client_host = sm->client_host;
    a.session_ms = sm->session_ms;
    a.rebalance_ms = sm->rebalance_ms >= 0 ? sm->rebalance_ms : sm->session_ms;
    a.protos = &p;
    a.n_protos = 1;
    sdg_str id;
    if (str_dup(&id, sm->member_id) != 0)
      goto fail;
    sdg_member *m = member_build(&a, &id);
    str_free(&id); /* consumed unless member_build failed early */
    if (m == NULL || set_assignment(m, sm->assignment) != 0 ||
        group_add(g, m, sg->protocol_type) != 0) {
      member_free(m);
      goto fail;
    }
    heartbeat_ok(c, m, now);
  }
  g->leader = NULL;
  if (sg->leader.len >= 0)
    g->leader = find_active(g, sg->leader);
  if (g->leader == NULL)
    g->leader = g->members;
  if (g->n_members > 0 && g->protocol_name.p == NULL)
    g->state = SDG_EMPTY; /* cannot be Stable without a protocol: members expire */
  else
    g->state = g->n_members > 0 ? SDG_STABLE : SDG_EMPTY;
  if (g->n_members > c->cfg.max_size)
    prepare_rebalance(c, g, now, "replayed group is over group.max.size", NULL);
  return 0;
fail:
  group_destroy(c, g);
  return -1;
}
