/*
 * offsets.c - the storage half of seglogd's group coordinator (groups.h):
 * the compacted internal topic __consumer_offsets (created at start with
 * offsets.topic.num.partitions partitions), committed offsets in memory
 * (a hash table of groups, each a hash table of (topic, partition)), replay
 * of every partition at start (latest record per key wins, tombstones
 * delete, corrupt records are logged and skipped), appends of one batch per
 * request to the group's partition, and offsets.retention.minutes expiry as
 * Kafka 2.1+ does it (KIP-211, KIP-496).  The handlers are in offsets_api.c,
 * the record formats in offsets_rec.c.  docs/GROUPS.md, "Storage".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "kp_records.h"
#include "offsets_int.h"
#include "sdlog.h"
#include "topicconf.h"
#include "seglog/batch.h"

static const sd_topic *offsets_topic(const sd_broker *b) {
  return sd_topics_find(&b->topics, SD_OFFSETS_TOPIC, strlen(SD_OFFSETS_TOPIC));
}

static int32_t n_partitions(const sd_broker *b) {
  const sd_topic *t = offsets_topic(b);
  if (t != NULL && t->n_parts > 0)
    return t->n_parts;
  return (int32_t)sd_cfg_i(b->cfg, SD_CFG_OFFSETS_TOPIC_PARTITIONS);
}

int32_t sd_offsets_partition_for(const sd_broker *b, kp_str group) {
  return sd_offsets_partition_of(group, n_partitions(b));
}

const sd_partition *sd_offsets_log_of(const sd_broker *b, kp_str group) {
  const sd_topic *t = offsets_topic(b);
  if (t == NULL)
    return NULL;
  return sd_topic_partition(t, sd_offsets_partition_of(group, t->n_parts));
}

int sd_offsets_append(sd_broker *b, kp_str group, const sd_orecs *r) {
  sd_offsets *o = b->offsets;
  if (o == NULL)
    return SL_EINVAL;
  if (r->n == 0)
    return 0;
  const sd_partition *p = sd_offsets_log_of(b, group);
  if (p == NULL)
    return SL_ENOT_FOUND;
  sl_batch_builder_opts opts;
  sl_batch_builder_opts_init(&opts);
  opts.partition_leader_epoch = p->leader_epoch;
  int rc = 0;
  if (o->builder == NULL)
    rc = sl_batch_builder_new(&opts, &o->builder);
  else
    sl_batch_builder_reset(o->builder, &opts);
  if (rc != 0)
    return rc;
  int64_t now = sd_offsets_now_ms();
  size_t kstart = 0, vstart = 0;
  for (size_t i = 0; i < r->n && rc == 0; i++) {
    size_t klen = r->key_end[i] - kstart, vlen = r->value_end[i] - vstart;
    rc = sl_batch_builder_add(o->builder, now, r->keys.data + kstart, (int32_t)klen,
                              r->tombstone[i] ? NULL : r->values.data + vstart,
                              r->tombstone[i] ? -1 : (int32_t)vlen, NULL, 0);
    kstart = r->key_end[i];
    vstart = r->value_end[i];
  }
  sl_buf_reset(&o->batch);
  if (rc == 0)
    rc = sl_batch_builder_finish(o->builder, &o->batch);
  if (rc != 0)
    return rc;
  sl_diag diag;
  sl_diag_clear(&diag);
  rc = sl_log_append(p->log, o->batch.data, o->batch.len, SL_APPEND_LEADER,
                     p->leader_epoch, 0, NULL, &diag);
  if (rc != 0) {
    char buf[700];
    SD_WARN("append to %s-%d failed: %s", SD_OFFSETS_TOPIC, (int)p->index,
            sl_diag_format(&diag, buf, sizeof(buf)));
    return rc;
  }
  sl_log_set_high_watermark(p->log, sl_log_end_offset(p->log));
  sd_fetch_wake(b);
  return 0;
}

/* ---- groups.h: storage entry points ---------------------------------- */

int sd_offsets_store_group(sd_broker *b, kp_str group, const uint8_t *value, size_t len) {
  sd_offsets *o = b->offsets;
  if (o == NULL)
    return SL_EINVAL;
  sd_orecs r;
  sd_orecs_init(&r);
  int rc = sd_orecs_add_group(&r, group, value, len, value == NULL);
  if (rc == 0)
    rc = sd_offsets_append(b, group, &r);
  sd_orecs_release(&r);
  if (rc != 0)
    return rc;
  sd_ogroup *g = sd_offsets_group(o, group);
  if (value == NULL) {
    if (g != NULL) {
      sd_offsets_set_meta(g, NULL, 0);
      if (g->count == 0)
        sd_offsets_group_drop(o, g);
    }
    return 0;
  }
  if (g == NULL)
    g = sd_offsets_group_add(o, group);
  if (g == NULL)
    return SL_ENOMEM;
  /* The record is written: a failure to remember it only affects expiry. */
  if (sd_offsets_set_meta(g, value, len) != 0)
    SD_WARN("out of memory remembering a group's metadata");
  return 0;
}

int sd_offsets_delete_group(sd_broker *b, kp_str group) {
  sd_offsets *o = b->offsets;
  if (o == NULL)
    return SL_EINVAL;
  sd_ogroup *g = sd_offsets_group(o, group);
  sd_orecs r;
  sd_orecs_init(&r);
  int rc = 0;
  if (g != NULL) {
    for (uint32_t i = 0; i < g->nslots && rc == 0; i++)
      for (sd_oentry *e = g->slots[i]; e && rc == 0; e = e->next)
        rc = sd_orecs_add_offset(&r, group, (kp_str){e->topic, e->topic_len},
                                 e->partition, NULL);
  }
  if (rc == 0)
    rc = sd_orecs_add_group(&r, group, NULL, 0, true);
  if (rc == 0)
    rc = sd_offsets_append(b, group, &r);
  sd_orecs_release(&r);
  if (rc == 0 && g != NULL)
    sd_offsets_group_drop(o, g);
  return rc;
}

bool sd_offsets_group_has_offsets(const sd_broker *b, kp_str group) {
  const sd_ogroup *g = sd_offsets_group(b->offsets, group);
  return g != NULL && g->count > 0;
}

/* ---- replay ---------------------------------------------------------- */

static void replay_record(sd_broker *b, const sd_partition *p, const sl_record *rec) {
  sd_offsets *o = b->offsets;
  o->replayed_records++;
  int rc = sd_offsets_apply(o, rec->key, rec->key_len, rec->value, rec->value_len);
  if (rc != 0) {
    SD_WARN("%s-%d offset %lld: record skipped (%s)", SD_OFFSETS_TOPIC, (int)p->index,
            (long long)rec->offset, sl_errname(rc));
    o->replay_errors++;
  }
}

static int replay_partition(sd_broker *b, const sd_partition *p, sl_batch_reader *rd,
                            size_t chunk) {
  sl_buf buf = SL_BUF_INIT;
  int64_t at = sl_log_start_offset(p->log), end = sl_log_end_offset(p->log);
  int rc = 0;
  while (at < end) {
    sl_diag diag;
    sl_diag_clear(&diag);
    sl_buf_reset(&buf);
    int64_t next = at;
    rc = sl_log_read_copy(p->log, at, (int64_t)chunk, -1, &buf, &next, &diag);
    if (rc == SL_EOFFSET_OUT_OF_RANGE && at < sl_log_start_offset(p->log)) {
      at = sl_log_start_offset(p->log);
      rc = 0;
      continue;
    }
    if (rc != 0) {
      char d[700];
      SD_ERROR("%s-%d: replay stopped at offset %lld: %s", SD_OFFSETS_TOPIC,
               (int)p->index, (long long)at, sl_diag_format(&diag, d, sizeof(d)));
      break;
    }
    if (buf.len == 0 || next <= at)
      break;
    size_t pos = 0;
    while (pos < buf.len) {
      int64_t base = 0;
      int32_t size = 0;
      int8_t magic = 0;
      if (sl_batch_peek(buf.data + pos, buf.len - pos, &base, &size, &magic) != 0 ||
          size <= 0 || (size_t)size > buf.len - pos)
        break;
      sl_batch_header hdr;
      sl_diag_clear(&diag);
      int orc = sl_batch_reader_open(rd, buf.data + pos, (size_t)size, &hdr, &diag);
      if (orc != 0) {
        SD_WARN("%s-%d offset %lld: unreadable batch skipped (%s)", SD_OFFSETS_TOPIC,
                (int)p->index, (long long)base, sl_errname(orc));
        b->offsets->replay_errors++;
      } else if (!(magic == 2 && sl_batch_is_control(&hdr))) {
        sl_record rec;
        int n;
        while ((n = sl_batch_reader_next(rd, &rec, &diag)) == 1)
          replay_record(b, p, &rec);
        if (n < 0) {
          SD_WARN("%s-%d batch at %lld: malformed record skipped (%s)", SD_OFFSETS_TOPIC,
                  (int)p->index, (long long)base, sl_errname(n));
          b->offsets->replay_errors++;
        }
      }
      pos += (size_t)size;
    }
    at = next;
  }
  sl_buf_release(&buf);
  return rc;
}

int sd_offsets_replay(sd_broker *b) {
  const sd_topic *t = offsets_topic(b);
  if (t == NULL)
    return 0;
  sl_batch_reader *rd = NULL;
  int rc = sl_batch_reader_new(0, &rd);
  if (rc != 0)
    return rc;
  size_t chunk = (size_t)sd_cfg_i(b->cfg, SD_CFG_OFFSETS_LOAD_BUFFER);
  for (int i = 0; i < t->n_parts; i++)
    replay_partition(b, &t->parts[i], rd, chunk);
  sl_batch_reader_free(rd);
  /* Hand the groups to the membership half. */
  sd_offsets *o = b->offsets;
  int64_t groups = 0, offsets = 0;
  for (uint32_t i = 0; i < o->nslots; i++) {
    for (sd_ogroup *g = o->slots[i]; g; g = g->next) {
      kp_str id = {g->id, g->id_len};
      groups++;
      offsets += g->count;
      if (g->meta != NULL) {
        if (sd_groups_replay(b, id, g->meta, g->meta_len) != 0) {
          SD_WARN("%s: group %.*s: metadata record does not decode; skipped",
                  SD_OFFSETS_TOPIC, (int)g->id_len, g->id);
          o->replay_errors++;
          if (g->count > 0)
            sd_groups_touch(b, id);
        }
      } else if (g->count > 0) {
        sd_groups_touch(b, id);
      }
    }
  }
  SD_INFO("%s replayed: %lld records, %lld groups, %lld committed offsets, %lld skipped",
          SD_OFFSETS_TOPIC, (long long)o->replayed_records, (long long)groups,
          (long long)offsets, (long long)o->replay_errors);
  return 0;
}

/* ---- expiry ---------------------------------------------------------- */

/* Group ids collected during a walk of the table. */
typedef struct id_list {
  kp_str *ids;
  size_t n, cap;
} id_list;

static void id_list_add(id_list *l, const sd_ogroup *g) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 8;
    kp_str *ni = realloc(l->ids, nc * sizeof(*ni));
    if (ni == NULL)
      return; /* the group is looked at again at the next pass */
    l->ids = ni;
    l->cap = nc;
  }
  char *copy = malloc(g->id_len > 0 ? (size_t)g->id_len : 1);
  if (copy == NULL)
    return;
  if (g->id_len > 0)
    memcpy(copy, g->id, (size_t)g->id_len);
  l->ids[l->n++] = (kp_str){copy, g->id_len};
}

/* Tombstones for the n expired entries of g, then forgets them.  The
 * number removed (0 if the append failed). */
static int64_t remove_expired(sd_broker *b, sd_ogroup *g, sd_oentry **list, int64_t n) {
  kp_str id = {g->id, g->id_len};
  sd_orecs r;
  sd_orecs_init(&r);
  int rc = 0;
  for (int64_t k = 0; k < n && rc == 0; k++)
    rc = sd_orecs_add_offset(&r, id, (kp_str){list[k]->topic, list[k]->topic_len},
                             list[k]->partition, NULL);
  if (rc == 0)
    rc = sd_offsets_append(b, id, &r);
  sd_orecs_release(&r);
  if (rc != 0) {
    SD_WARN("group %.*s: expired offsets not removed (%s)", (int)g->id_len, g->id,
            sl_errname(rc));
    return 0;
  }
  for (int64_t k = 0; k < n; k++)
    sd_offsets_remove(g, (kp_str){list[k]->topic, list[k]->topic_len},
                      list[k]->partition);
  SD_INFO("group %.*s: %lld expired offsets removed", (int)g->id_len, g->id,
          (long long)n);
  return n;
}

/*
 * Kafka's cleanupGroupMetadata: expired offsets go, and a group left Empty
 * with no offsets (by expiry, or because it never committed) is handed to
 * group.c, which removes it (sd_groups_offsets_gone).
 */
int64_t sd_offsets_expire(sd_broker *b, int64_t now_ms) {
  sd_offsets *o = b->offsets;
  if (o == NULL)
    return 0;
  int64_t retention_ms = sd_cfg_i(b->cfg, SD_CFG_OFFSETS_RETENTION_MINUTES) * 60000;
  int64_t total = 0;
  /* Told to group.c after the walk: it calls back into
   * sd_offsets_store_group, which changes the table. */
  id_list gone = {0};
  for (uint32_t i = 0; i < o->nslots; i++) {
    for (sd_ogroup *g = o->slots[i]; g; g = g->next) {
      kp_arena a;
      kp_arena_init(&a, 1u << 24);
      sd_ometa mv;
      sd_offsets_meta_view(g, &a, &mv);
      if (g->count > 0) {
        sd_oentry **list = malloc(sizeof(*list) * g->count);
        int64_t n =
            list ? sd_offsets_expired_of(g, &mv, now_ms, retention_ms, list, g->count)
                 : 0;
        if (n > 0)
          total += remove_expired(b, g, list, n);
        free(list);
      }
      if (g->count == 0 && (!mv.known || mv.empty))
        id_list_add(&gone, g);
      kp_arena_release(&a);
    }
  }
  for (size_t i = 0; i < gone.n; i++) {
    sd_ogroup *g = sd_offsets_group(o, gone.ids[i]);
    if (g != NULL && g->count == 0 && g->meta == NULL)
      sd_offsets_group_drop(o, g);
    sd_groups_offsets_gone(b, gone.ids[i]);
    free((void *)gone.ids[i].ptr);
  }
  free(gone.ids);
  o->expired += total;
  return total;
}

static void on_expiry(uv_timer_t *t) {
  sd_broker *b = t->data;
  sd_offsets_expire(b, sd_offsets_now_ms());
}

/* ---- lifecycle ------------------------------------------------------- */

/* Kafka's GroupCoordinator.offsetsTopicConfigs. */
static int ensure_topic(sd_broker *b, char *err, size_t errcap) {
  if (offsets_topic(b) != NULL)
    return 0;
  int32_t n = (int32_t)sd_cfg_i(b->cfg, SD_CFG_OFFSETS_TOPIC_PARTITIONS);
  char seg[32], e[512];
  snprintf(seg, sizeof(seg), "%lld",
           (long long)sd_cfg_i(b->cfg, SD_CFG_OFFSETS_TOPIC_SEGMENT_BYTES));
  sd_topicconf conf = {0};
  int rc = sd_topicconf_set(&conf, "cleanup.policy", "compact", e, sizeof(e));
  if (rc == 0)
    rc = sd_topicconf_set(&conf, "segment.bytes", seg, e, sizeof(e));
  if (rc == 0)
    rc = sd_topicconf_set(&conf, "compression.type", "producer", e, sizeof(e));
  if (rc == 0)
    rc = sd_topics_create_with_config(&b->topics, &b->dirs, SD_OFFSETS_TOPIC,
                                      strlen(SD_OFFSETS_TOPIC), n, &conf, NULL, e,
                                      sizeof(e));
  sd_topicconf_release(&conf);
  if (rc != 0) {
    snprintf(err, errcap, "cannot create %s: %s", SD_OFFSETS_TOPIC, e);
    return -1;
  }
  return 0;
}

int sd_offsets_init(sd_broker *b, char *err, size_t errcap) {
  sd_offsets *o = calloc(1, sizeof(*o));
  if (o == NULL) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  o->b = b;
  sl_buf_init(&o->batch);
  b->offsets = o;
  if (ensure_topic(b, err, errcap) != 0)
    return -1;
  int rc = sd_offsets_replay(b);
  if (rc != 0) {
    snprintf(err, errcap, "cannot replay %s: %s", SD_OFFSETS_TOPIC, sl_errname(rc));
    return -1;
  }
  if (b->loop != NULL) {
    uv_timer_init(b->loop, &o->expiry_timer);
    o->expiry_timer.data = b;
    uint64_t every = (uint64_t)sd_cfg_i(b->cfg, SD_CFG_OFFSETS_RETENTION_CHECK_MS);
    uv_timer_start(&o->expiry_timer, on_expiry, every, every);
    uv_unref((uv_handle_t *)&o->expiry_timer);
    o->timer_running = true;
  }
  return 0;
}

void sd_offsets_stop(sd_broker *b) {
  if (b == NULL || b->offsets == NULL || !b->offsets->timer_running)
    return;
  uv_timer_stop(&b->offsets->expiry_timer);
  if (!uv_is_closing((uv_handle_t *)&b->offsets->expiry_timer))
    uv_close((uv_handle_t *)&b->offsets->expiry_timer, NULL);
  b->offsets->timer_running = false;
}

void sd_offsets_free(sd_broker *b) {
  if (b == NULL || b->offsets == NULL)
    return;
  sd_offsets *o = b->offsets;
  sd_offsets_clear(o);
  sl_batch_builder_free(o->builder);
  sl_buf_release(&o->batch);
  free(o);
  b->offsets = NULL;
}
