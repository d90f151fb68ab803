/*
 * offsets_mem.c - the committed offsets in memory (offsets_int.h): a hash
 * table of groups, each a hash table of (topic, partition) -> committed
 * offset, plus each group's latest GroupMetadata record; applying one
 * __consumer_offsets record to it (replay); which offsets have expired
 * (Kafka's GroupMetadata.removeExpiredOffsets); the record lists appended
 * per request.  No broker state, no I/O: unit-tested directly.
 * docs/GROUPS.md, "Storage".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kp_records.h"
#include "offsets_int.h"

/* ---- hash tables ----------------------------------------------------- */

static uint32_t fnv1a(const void *p, size_t n, uint32_t h) {
  const uint8_t *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 16777619u;
  }
  return h;
}

static uint32_t group_hash(kp_str g) {
  return fnv1a(g.ptr, g.len > 0 ? (size_t)g.len : 0, 2166136261u);
}

static uint32_t entry_hash(kp_str topic, int32_t partition) {
  uint32_t h = fnv1a(topic.ptr, topic.len > 0 ? (size_t)topic.len : 0, 2166136261u);
  uint8_t pb[4] = {(uint8_t)(partition >> 24), (uint8_t)(partition >> 16),
                   (uint8_t)(partition >> 8), (uint8_t)partition};
  return fnv1a(pb, 4, h);
}

static size_t slen(kp_str s) {
  return s.len > 0 ? (size_t)s.len : 0;
}

static bool str_is(const char *p, int32_t n, kp_str s) {
  return n == (int32_t)slen(s) && (n == 0 || memcmp(p, s.ptr, (size_t)n) == 0);
}

sd_ogroup *sd_offsets_group(const sd_offsets *o, kp_str group) {
  if (o == NULL || o->nslots == 0)
    return NULL;
  for (sd_ogroup *g = o->slots[group_hash(group) & (o->nslots - 1)]; g; g = g->next)
    if (str_is(g->id, g->id_len, group))
      return g;
  return NULL;
}

static int grow_groups(sd_offsets *o) {
  uint32_t n = o->nslots ? o->nslots * 2 : 64;
  sd_ogroup **slots = calloc(n, sizeof(*slots));
  if (slots == NULL)
    return SL_ENOMEM;
  for (uint32_t i = 0; i < o->nslots; i++) {
    sd_ogroup *g = o->slots[i];
    while (g) {
      sd_ogroup *next = g->next;
      uint32_t at = group_hash((kp_str){g->id, g->id_len}) & (n - 1);
      g->next = slots[at];
      slots[at] = g;
      g = next;
    }
  }
  free(o->slots);
  o->slots = slots;
  o->nslots = n;
  return 0;
}

sd_ogroup *sd_offsets_group_add(sd_offsets *o, kp_str group) {
  sd_ogroup *g = sd_offsets_group(o, group);
  if (g != NULL)
    return g;
  if (o->count >= o->nslots && grow_groups(o) != 0)
    return NULL;
  g = calloc(1, sizeof(*g) + slen(group) + 1);
  if (g == NULL)
    return NULL;
  g->id_len = (int32_t)slen(group);
  if (g->id_len > 0)
    memcpy(g->id, group.ptr, (size_t)g->id_len);
  uint32_t at = group_hash(group) & (o->nslots - 1);
  g->next = o->slots[at];
  o->slots[at] = g;
  o->count++;
  return g;
}

static void entry_free(sd_oentry *e) {
  if (e == NULL)
    return;
  free(e->metadata);
  free(e);
}

static void group_free(sd_ogroup *g) {
  for (uint32_t i = 0; i < g->nslots; i++) {
    sd_oentry *e = g->slots[i];
    while (e) {
      sd_oentry *next = e->next;
      entry_free(e);
      e = next;
    }
  }
  free(g->slots);
  free(g->meta);
  free(g);
}

void sd_offsets_group_drop(sd_offsets *o, sd_ogroup *g) {
  if (o == NULL || g == NULL)
    return;
  sd_ogroup **pp = &o->slots[group_hash((kp_str){g->id, g->id_len}) & (o->nslots - 1)];
  while (*pp && *pp != g)
    pp = &(*pp)->next;
  if (*pp == g) {
    *pp = g->next;
    o->count--;
  }
  group_free(g);
}

sd_oentry *sd_offsets_entry(const sd_ogroup *g, kp_str topic, int32_t partition) {
  if (g == NULL || g->nslots == 0)
    return NULL;
  for (sd_oentry *e = g->slots[entry_hash(topic, partition) & (g->nslots - 1)]; e;
       e = e->next)
    if (e->partition == partition && str_is(e->topic, e->topic_len, topic))
      return e;
  return NULL;
}

static int grow_entries(sd_ogroup *g) {
  uint32_t n = g->nslots ? g->nslots * 2 : 16;
  sd_oentry **slots = calloc(n, sizeof(*slots));
  if (slots == NULL)
    return SL_ENOMEM;
  for (uint32_t i = 0; i < g->nslots; i++) {
    sd_oentry *e = g->slots[i];
    while (e) {
      sd_oentry *next = e->next;
      uint32_t at = entry_hash((kp_str){e->topic, e->topic_len}, e->partition) & (n - 1);
      e->next = slots[at];
      slots[at] = e;
      e = next;
    }
  }
  free(g->slots);
  g->slots = slots;
  g->nslots = n;
  return 0;
}

int sd_offsets_put(sd_ogroup *g, kp_str topic, int32_t partition, const sd_oval *v) {
  char *meta = NULL;
  size_t mlen = slen(v->metadata);
  if (mlen > 0) {
    meta = malloc(mlen);
    if (meta == NULL)
      return SL_ENOMEM;
    memcpy(meta, v->metadata.ptr, mlen);
  }
  sd_oentry *e = sd_offsets_entry(g, topic, partition);
  if (e == NULL) {
    if (g->count >= g->nslots && grow_entries(g) != 0) {
      free(meta);
      return SL_ENOMEM;
    }
    e = calloc(1, sizeof(*e) + slen(topic) + 1);
    if (e == NULL) {
      free(meta);
      return SL_ENOMEM;
    }
    e->partition = partition;
    e->topic_len = (int32_t)slen(topic);
    if (e->topic_len > 0)
      memcpy(e->topic, topic.ptr, (size_t)e->topic_len);
    uint32_t at = entry_hash(topic, partition) & (g->nslots - 1);
    e->next = g->slots[at];
    g->slots[at] = e;
    g->count++;
  }
  free(e->metadata);
  e->metadata = meta;
  e->metadata_len = (int32_t)mlen;
  e->offset = v->offset;
  e->leader_epoch = v->leader_epoch;
  e->commit_ts = v->commit_ts;
  e->expire_ts = v->expire_ts;
  return 0;
}

void sd_offsets_remove(sd_ogroup *g, kp_str topic, int32_t partition) {
  if (g == NULL || g->nslots == 0)
    return;
  sd_oentry **pp = &g->slots[entry_hash(topic, partition) & (g->nslots - 1)];
  while (*pp) {
    sd_oentry *e = *pp;
    if (e->partition == partition && str_is(e->topic, e->topic_len, topic)) {
      *pp = e->next;
      entry_free(e);
      g->count--;
      return;
    }
    pp = &e->next;
  }
}

int sd_offsets_set_meta(sd_ogroup *g, const uint8_t *value, size_t len) {
  uint8_t *copy = NULL;
  if (value != NULL) {
    copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
      return SL_ENOMEM;
    if (len > 0)
      memcpy(copy, value, len);
  }
  free(g->meta);
  g->meta = copy;
  g->meta_len = value != NULL ? len : 0;
  return 0;
}

/* ---- appending records ----------------------------------------------- */

void sd_orecs_init(sd_orecs *r) {
  memset(r, 0, sizeof(*r));
  sl_buf_init(&r->keys);
  sl_buf_init(&r->values);
}

void sd_orecs_release(sd_orecs *r) {
  sl_buf_release(&r->keys);
  sl_buf_release(&r->values);
  free(r->key_end);
  free(r->value_end);
  free(r->tombstone);
  memset(r, 0, sizeof(*r));
}

static int orecs_reserve(sd_orecs *r) {
  if (r->n < r->cap)
    return 0;
  size_t cap = r->cap ? r->cap * 2 : 16;
  size_t *ke = realloc(r->key_end, cap * sizeof(*ke));
  if (ke == NULL)
    return SL_ENOMEM;
  r->key_end = ke;
  size_t *ve = realloc(r->value_end, cap * sizeof(*ve));
  if (ve == NULL)
    return SL_ENOMEM;
  r->value_end = ve;
  bool *ts = realloc(r->tombstone, cap * sizeof(*ts));
  if (ts == NULL)
    return SL_ENOMEM;
  r->tombstone = ts;
  r->cap = cap;
  return 0;
}

static int orecs_done(sd_orecs *r, bool tombstone) {
  if (r->keys.err || r->values.err)
    return r->keys.err ? r->keys.err : r->values.err;
  r->key_end[r->n] = r->keys.len;
  r->value_end[r->n] = r->values.len;
  r->tombstone[r->n] = tombstone;
  r->n++;
  return 0;
}

int sd_orecs_add_offset(sd_orecs *r, kp_str group, kp_str topic, int32_t partition,
                        const sd_oval *v) {
  int rc = orecs_reserve(r);
  if (rc == 0)
    rc = sd_okey_encode_offset(&r->keys, group, topic, partition);
  if (rc == 0 && v != NULL)
    rc = sd_oval_encode(&r->values, v);
  return rc == 0 ? orecs_done(r, v == NULL) : rc;
}

int sd_orecs_add_group(sd_orecs *r, kp_str group, const uint8_t *value, size_t len,
                       bool tombstone) {
  int rc = orecs_reserve(r);
  if (rc == 0)
    rc = sd_okey_encode_group(&r->keys, group);
  if (rc == 0 && !tombstone && len > 0)
    rc = sl_buf_append(&r->values, value, len);
  return rc == 0 ? orecs_done(r, tombstone) : rc;
}

int64_t sd_offsets_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- expiry ---------------------------------------------------------- */

void sd_offsets_meta_view(const sd_ogroup *g, kp_arena *a, sd_ometa *mv) {
  memset(mv, 0, sizeof(*mv));
  mv->state_ts = -1;
  if (g->meta == NULL)
    return;
  sl_rbuf r;
  sl_rbuf_init(&r, g->meta, g->meta_len);
  int16_t version = sl_rbuf_i16(&r);
  if (sl_rbuf_err(&r) || version < 0)
    return;
  const kp_record *rec = kp_record_find("GroupMetadataValue");
  if (rec != NULL && version > rec->max_version)
    version = rec->max_version;
  kp_group_metadata_value v;
  if (kp_group_metadata_value_decode(&r, version, a, &v) != 0)
    return;
  mv->known = true;
  mv->has_protocol = v.protocol_type.len > 0;
  mv->empty = v.members_count <= 0;
  mv->state_ts = v.current_state_timestamp;
  if (!(v.protocol_type.len == 8 && memcmp(v.protocol_type.ptr, "consumer", 8) == 0))
    return;
  mv->consumer = true;
  for (int32_t i = 0; i < v.members_count && mv->consumer; i++) {
    kp_bytes s = v.members[i].subscription;
    sl_rbuf sr;
    sl_rbuf_init(&sr, s.ptr, s.len > 0 ? (size_t)s.len : 0);
    int16_t sv = sl_rbuf_i16(&sr);
    kp_consumer_protocol_subscription sub;
    const kp_record *srec = kp_record_find("ConsumerProtocolSubscription");
    if (srec != NULL && sv > srec->max_version)
      sv = srec->max_version; /* Kafka reads newer versions with the latest schema */
    if (sl_rbuf_err(&sr) || sv < 0 ||
        kp_consumer_protocol_subscription_decode(&sr, sv, a, &sub) != 0) {
      mv->consumer = false;
      break;
    }
    for (int32_t j = 0; j < sub.topics_count; j++) {
      kp_str *nt = NULL;
      if (kp_arena_alloc(a, (size_t)mv->n_topics + 1, sizeof(*nt), (void **)&nt) != 0) {
        mv->consumer = false;
        break;
      }
      if (mv->n_topics > 0)
        memcpy(nt, mv->topics, sizeof(*nt) * (size_t)mv->n_topics);
      nt[mv->n_topics++] = sub.topics[j];
      mv->topics = nt;
    }
  }
}

bool sd_offsets_meta_empty(const sd_ogroup *g) {
  kp_arena a;
  kp_arena_init(&a, 1u << 24);
  sd_ometa mv;
  sd_offsets_meta_view(g, &a, &mv);
  kp_arena_release(&a);
  return !mv.known || mv.empty;
}

static bool subscribed(const sd_ometa *mv, const char *topic, int32_t len) {
  for (int32_t i = 0; i < mv->n_topics; i++)
    if (str_is(topic, len, mv->topics[i]))
      return true;
  return false;
}

/*
 * Kafka's GroupMetadata.removeExpiredOffsets: which offsets of g have
 * expired at now_ms.  Marks them in `out` (count returned).
 */
int64_t sd_offsets_expired_of(const sd_ogroup *g, const sd_ometa *mv, int64_t now_ms,
                              int64_t retention_ms, sd_oentry **out, int64_t cap) {
  int mode; /* 0: never, 1: since commit, 2: since Empty, 3: unsubscribed since commit */
  if (!mv->known || !mv->has_protocol)
    mode = 1; /* simple consumer group: Kafka only stores offsets for it */
  else if (mv->empty)
    mode = 2;
  else if (mv->consumer)
    mode = 3;
  else
    mode = 0;
  if (mode == 0)
    return 0;
  int64_t n = 0;
  for (uint32_t i = 0; i < g->nslots; i++) {
    for (sd_oentry *e = g->slots[i]; e; e = e->next) {
      if (mode == 3 && subscribed(mv, e->topic, e->topic_len))
        continue;
      bool gone;
      if (e->expire_ts != -1) {
        gone = now_ms >= e->expire_ts; /* v1 records: the old semantics */
      } else {
        int64_t base = mode == 2 && mv->state_ts != -1 ? mv->state_ts : e->commit_ts;
        /* Timestamps come from the log: saturate instead of overflowing. */
        int64_t age;
        if (__builtin_sub_overflow(now_ms, base, &age))
          age = base < 0 ? INT64_MAX : INT64_MIN;
        gone = age >= retention_ms;
      }
      if (gone && n < cap)
        out[n++] = e;
    }
  }
  return n;
}

int sd_offsets_apply(sd_offsets *o, const uint8_t *key, int32_t key_len,
                     const uint8_t *value, int32_t value_len) {
  if (key == NULL || key_len < 0)
    return SL_ECORRUPT;
  sd_okey k;
  int rc = sd_okey_decode(key, (size_t)key_len, &k);
  if (rc != 0)
    return rc;
  if (k.kind == SD_OKEY_OTHER)
    return 0; /* records of the new coordinator: not ours */
  bool tomb = value == NULL || value_len < 0;
  sd_ogroup *g = sd_offsets_group(o, k.group);
  if (k.kind == SD_OKEY_GROUP) {
    if (tomb) {
      if (g != NULL) {
        sd_offsets_set_meta(g, NULL, 0);
        if (g->count == 0)
          sd_offsets_group_drop(o, g);
      }
      return 0;
    }
    if (g == NULL)
      g = sd_offsets_group_add(o, k.group);
    return g == NULL ? SL_ENOMEM : sd_offsets_set_meta(g, value, (size_t)value_len);
  }
  if (tomb) {
    if (g != NULL) {
      sd_offsets_remove(g, k.topic, k.partition);
      if (g->count == 0 && g->meta == NULL)
        sd_offsets_group_drop(o, g);
    }
    return 0;
  }
  kp_arena a;
  kp_arena_init(&a, 1024);
  sd_oval v;
  rc = sd_oval_decode(value, (size_t)value_len, &a, &v);
  if (rc == 0) {
    if (g == NULL)
      g = sd_offsets_group_add(o, k.group);
    rc = g == NULL ? SL_ENOMEM : sd_offsets_put(g, k.topic, k.partition, &v);
  }
  kp_arena_release(&a);
  return rc;
}

void sd_offsets_clear(sd_offsets *o) {
  for (uint32_t i = 0; i < o->nslots; i++) {
    sd_ogroup *g = o->slots[i];
    while (g) {
      sd_ogroup *next = g->next;
      group_free(g);
      g = next;
    }
  }
  free(o->slots);
  o->slots = NULL;
  o->nslots = o->count = 0;
}
