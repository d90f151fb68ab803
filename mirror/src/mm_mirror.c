/*
 * mm_mirror.c - seglog-mirror's replication engine (mm_mirror.h).
 *
 * One thread runs every flow in turn: poll the source consumer, produce each
 * record to the same partition of the remote topic, serve delivery reports,
 * write offset syncs for acknowledged records, and run the timers (topic
 * refresh, heartbeats, checkpoints, group offset sync).  Per partition:
 *
 *   next      next source offset accepted (older deliveries are dropped)
 *   acked     last source offset the target acknowledged (in order: the
 *             idempotent producer reports deliveries per partition in order)
 *   synced    last upstream offset written in an offset sync
 *   durable   last upstream offset whose sync the sync cluster acknowledged
 *
 * A record is produced only while next - durable <= mirror.window.records;
 * past that the partition is paused and rewound, so after kill -9 at most
 * that many source offsets per partition are copied again.  On restart the
 * last sync of each partition (read back from the offset-syncs topic) gives
 * the position: upstream + 1.  docs/MIRROR.md ("Delivery") has the argument.
 */
#include "mm_mirror.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_admin.h"
#include "mm_log.h"
#include "mm_policy.h"
#include "mm_records.h"

#define MM_HIST 256         /* offset syncs kept per partition for translation */
#define MM_SYNC_IDLE_MS 100 /* a sync at most this long after an ack */
#define MM_POLL_BATCH_MSGS 1024
#define MM_POLL_ROUNDS 8
#define MM_RETRY_MS 5000
#define MM_LAT_BUCKETS 14

static const double lat_bounds_ms[MM_LAT_BUCKETS - 1] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

enum { TAG_PART = 1, TAG_SYNC, TAG_HEARTBEAT, TAG_CHECKPOINT };
enum { T_NEW, T_READY, T_FAILED };

typedef struct fifo_ent {
  int64_t off;
  int64_t ts;
  uint32_t gen;
  uint8_t skip;
} fifo_ent;

typedef struct synchist {
  int64_t up[MM_HIST], down[MM_HIST];
  size_t n, pos; /* ring: pos is the next slot */
} synchist;

struct mm_topic;
struct mm_flow;

typedef struct mm_part {
  int tag; /* TAG_PART */
  struct mm_topic *t;
  int32_t id;
  bool paused, rewind, started;
  uint32_t gen;
  int64_t next, acked, acked_down, synced, durable, last_sync_ms;
  int64_t retry_at; /* a paused partition stays paused until then */
  fifo_ent *q;
  size_t qcap, qhead, qlen;
  synchist hist;
  uint64_t records, bytes, skipped, errors, pauses;
} mm_part;

typedef struct mm_topic {
  char *name, *remote;
  rd_kafka_topic_t *rkt;     /* target handle; its opaque is this topic */
  rd_kafka_topic_t *src_rkt; /* the consumer's handle (keeps its metadata) */
  int state;
  int32_t nparts;    /* partitions mirrored (assigned) */
  int32_t src_parts; /* partitions on the source at the last refresh */
  mm_part **parts;
  int64_t retry_at;
} mm_topic;

/* Offset syncs read back at start, by source topic and partition. */
typedef struct loaded_sync {
  char *topic;
  int32_t partition;
  synchist hist;
} loaded_sync;

typedef struct sync_msg {
  int tag; /* TAG_SYNC */
  mm_part *p;
  int64_t up;
} sync_msg;

/* Last checkpoint emitted per (group, topic, partition). */
typedef struct ckpt_seen {
  char *group;
  mm_part *p;
  int64_t upstream, downstream;
} ckpt_seen;

typedef struct mm_flow {
  const mm_flow_cfg *cfg;
  const mm_cluster *src, *dst;
  const char *sa, *da; /* aliases */
  const mm_policy *pol;
  rd_kafka_t *cons, *prod, *sprod; /* sprod == prod when syncs live on the target */
  rd_kafka_queue_t *cq;            /* the consumer's queue (batch reads) */
  char syncs_topic[256], ckpt_topic[256];
  mm_topic **topics;
  size_t ntopics;
  mm_topic *last;
  loaded_sync *loaded;
  size_t nloaded;
  ckpt_seen *seen;
  size_t nseen;
  int64_t t_refresh, t_heartbeat, t_checkpoint, t_groupsync, t_configs;
  uint64_t inflight;
  bool fatal;
  int tag_hb, tag_ck;
  /* metrics */
  uint64_t err_produce, err_consume, err_admin, err_sync, heartbeats, checkpoints,
      groups_synced, topics_created, configs_synced;
  uint64_t lat_count, lat_buckets[MM_LAT_BUCKETS];
  double lat_sum_ms;
} mm_flow;

struct mm_mirror {
  const mm_config *cfg;
  pthread_mutex_t *lock;
  atomic_int scrapes_waiting; /* metrics renders waiting for the lock */
  mm_policy pol;
  mm_flow *flows;
  size_t nflows;
};

/* ---- small helpers ---- */

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (!d)
    abort(); /* the process cannot continue without memory */
  return d;
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (!q && n)
    abort();
  return q;
}

static void hist_push(synchist *h, int64_t up, int64_t down) {
  h->up[h->pos] = up;
  h->down[h->pos] = down;
  h->pos = (h->pos + 1) % MM_HIST;
  if (h->n < MM_HIST)
    h->n++;
}

/* MM2's translation: the newest sync at or before `up`; exact when it names
 * `up`, else one past its downstream offset.  -1 when no sync qualifies. */
static int64_t hist_translate(const synchist *h, int64_t up) {
  int64_t best_up = -1, best_down = -1;
  for (size_t i = 0; i < h->n; i++) {
    if (h->up[i] <= up && h->up[i] > best_up) {
      best_up = h->up[i];
      best_down = h->down[i];
    }
  }
  if (best_up < 0)
    return -1;
  return best_up == up ? best_down : best_down + 1;
}

static int64_t hist_last_up(const synchist *h) {
  int64_t m = -1;
  for (size_t i = 0; i < h->n; i++)
    if (h->up[i] > m)
      m = h->up[i];
  return m;
}

static void fifo_push(mm_part *p, fifo_ent e) {
  if (p->qlen == p->qcap) {
    size_t nc = p->qcap ? p->qcap * 2 : 1024;
    fifo_ent *nq = xrealloc(NULL, nc * sizeof *nq);
    for (size_t i = 0; i < p->qlen; i++)
      nq[i] = p->q[(p->qhead + i) % p->qcap];
    free(p->q);
    p->q = nq;
    p->qcap = nc;
    p->qhead = 0;
  }
  p->q[(p->qhead + p->qlen) % p->qcap] = e;
  p->qlen++;
}

static fifo_ent *fifo_front(mm_part *p) {
  return p->qlen ? &p->q[p->qhead] : NULL;
}

static void fifo_pop(mm_part *p) {
  p->qhead = (p->qhead + 1) % p->qcap;
  p->qlen--;
}

/* ---- clients ---- */

static int conf_apply(rd_kafka_conf_t *conf, const mm_kv *kv, size_t n, char *err,
                      size_t cap, const char *alias, const char *kind) {
  for (size_t i = 0; i < n; i++) {
    char why[256];
    if (rd_kafka_conf_set(conf, kv[i].key, kv[i].value, why, sizeof why) !=
        RD_KAFKA_CONF_OK) {
      snprintf(err, cap, "%s.%s%s: %s", alias, kind, kv[i].key, why);
      return -1;
    }
  }
  return 0;
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err,
                    size_t cap) {
  char why[256];
  if (rd_kafka_conf_set(conf, k, v, why, sizeof why) != RD_KAFKA_CONF_OK) {
    snprintf(err, cap, "%s: %s", k, why);
    return -1;
  }
  return 0;
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
  mm_flow *f = opaque;
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof why);
    mm_log("error", "client.fatal", "flow=%s->%s client=%s error=%s reason=\"%s\"", f->sa,
           f->da, rd_kafka_name(rk), rd_kafka_err2name(orig), why);
    f->fatal = true;
    return;
  }
  mm_log("warn", "client.error", "flow=%s->%s client=%s error=%s reason=\"%s\"", f->sa,
         f->da, rd_kafka_name(rk), rd_kafka_err2name((rd_kafka_resp_err_t)code), reason);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
struct mm_topic;
static void target_metadata_refresh(struct mm_flow *f, struct mm_topic *t);
static void target_handle(struct mm_flow *f, struct mm_topic *t);

/* kind: 'c' consumer on src, 'p' idempotent producer on dst, 's' sync
 * producer on src. */
static rd_kafka_t *client_new(mm_flow *f, char kind, char *err, size_t cap) {
  const mm_cluster *cl = kind == 'p' ? f->dst : f->src;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char why[512];
  if (conf_set(conf, "bootstrap.servers", cl->bootstrap, err, cap) != 0)
    goto fail;
  char id[128];
  snprintf(id, sizeof id, "seglog-mirror-%s-%s-%c", f->sa, f->da, kind);
  conf_set(conf, "client.id", id, err, cap);
  if (conf_apply(conf, cl->common, cl->n_common, err, cap, cl->alias, "") != 0)
    goto fail;
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_conf_set_opaque(conf, f);
  rd_kafka_type_t type;
  if (kind == 'c') {
    type = RD_KAFKA_CONSUMER;
    if (conf_set(conf, "enable.auto.commit", "false", err, cap) != 0 ||
        conf_set(conf, "enable.auto.offset.store", "false", err, cap) != 0 ||
        conf_set(conf, "auto.offset.reset", "earliest", err, cap) != 0 ||
        conf_set(conf, "enable.partition.eof", "false", err, cap) != 0 ||
        conf_set(conf, "group.id", id, err, cap) != 0)
      goto fail;
    /* librdkafka compares queued.min.messages with the length of the one
     * queue all assigned partitions feed, and once it is reached fetches
     * nothing until its broker thread next wakes (about once a second in
     * 2.0).  Its default (100000) is a few fetches of six partitions: the
     * mirror stalled ~0.9 s in every second (docs/MIRROR.md, "Client
     * defaults").  queued.max.messages.kbytes still bounds the memory. */
    if (conf_set(conf, "queued.min.messages", "10000000", err, cap) != 0)
      goto fail;
    if (conf_apply(conf, cl->consumer, cl->n_consumer, err, cap, cl->alias,
                   "consumer.") != 0)
      goto fail;
  } else {
    type = RD_KAFKA_PRODUCER;
    /* Defaults a user may override with <alias>.producer.*; idempotence and
     * acks are forced below (the guarantees depend on them). */
    if (conf_set(conf, "linger.ms", "5", err, cap) != 0 ||
        conf_set(conf, "batch.num.messages", "10000", err, cap) != 0 ||
        conf_set(conf, "compression.type", "none", err, cap) != 0 ||
        conf_set(conf, "queue.buffering.max.messages", "1000000", err, cap) != 0 ||
        conf_set(conf, "message.timeout.ms", "120000", err, cap) != 0)
      goto fail;
    if (kind == 'p' && conf_apply(conf, cl->producer, cl->n_producer, err, cap, cl->alias,
                                  "producer.") != 0)
      goto fail;
    if (conf_set(conf, "enable.idempotence", "true", err, cap) != 0 ||
        conf_set(conf, "acks", "all", err, cap) != 0)
      goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  }
  rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
  if (!rk) {
    snprintf(err, cap, "%s: cannot create client: %s", cl->alias, why);
    goto fail;
  }
  if (kind == 'c')
    rd_kafka_poll_set_consumer(rk);
  return rk;
fail:
  rd_kafka_conf_destroy(conf);
  return NULL;
}

/* ---- admin (synchronous wrappers) ---- */

/* Creates `name` with `parts` partitions and configs (NULL-terminated
 * name/value pairs).  0 created, 1 already there, -1 failed (msg filled). */
static int create_topic(rd_kafka_t *rk, const char *name, int32_t parts, int32_t rf,
                        const char *const *cfg, size_t ncfg, char *msg, size_t cap) {
  char why[256];
  int rc = -1;
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, parts, rf, why, sizeof why);
  if (!nt) {
    snprintf(msg, cap, "%s", why);
    return -1;
  }
  for (size_t i = 0; i < ncfg; i++)
    rd_kafka_NewTopic_set_config(nt, cfg[2 * i], cfg[2 * i + 1]);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o = mm_admin_opts(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_CreateTopics(rk, &nt, 1, o, q);
  rd_kafka_event_t *ev = mm_admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
  if (!ev) {
    snprintf(msg, cap, "CreateTopics timed out");
  } else if (rd_kafka_event_error(ev)) {
    snprintf(msg, cap, "%s", rd_kafka_event_error_string(ev));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n == 1) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[0]);
      const char *es = rd_kafka_topic_result_error_string(tr[0]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = 0;
      else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        rc = 1;
      else
        snprintf(msg, cap, "%s: %s", rd_kafka_err2name(e), es ? es : "");
    } else {
      snprintf(msg, cap, "CreateTopics returned %zu results", n);
    }
  }
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  return rc;
}

static int create_partitions(rd_kafka_t *rk, const char *name, int32_t total, char *msg,
                             size_t cap) {
  char why[256];
  int rc = -1;
  rd_kafka_NewPartitions_t *np =
      rd_kafka_NewPartitions_new(name, (size_t)total, why, sizeof why);
  if (!np) {
    snprintf(msg, cap, "%s", why);
    return -1;
  }
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o = mm_admin_opts(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
  rd_kafka_CreatePartitions(rk, &np, 1, o, q);
  rd_kafka_event_t *ev = mm_admin_wait(q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
  if (!ev) {
    snprintf(msg, cap, "CreatePartitions timed out");
  } else if (rd_kafka_event_error(ev)) {
    snprintf(msg, cap, "%s", rd_kafka_event_error_string(ev));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreatePartitions_result_topics(
        rd_kafka_event_CreatePartitions_result(ev), &n);
    if (n == 1 && rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR)
      rc = 0;
    else if (n == 1)
      snprintf(msg, cap, "%s: %s", rd_kafka_err2name(rd_kafka_topic_result_error(tr[0])),
               rd_kafka_topic_result_error_string(tr[0])
                   ? rd_kafka_topic_result_error_string(tr[0])
                   : "");
    else
      snprintf(msg, cap, "CreatePartitions returned %zu results", n);
  }
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewPartitions_destroy(np);
  return rc;
}

static bool config_excluded(const mm_flow *f, const char *name) {
  for (size_t k = 0; k < f->cfg->n_config_exclude; k++)
    if (strcmp(name, f->cfg->config_exclude[k]) == 0)
      return true;
  return false;
}

/* The configs the remote topic should have (docs/MIRROR.md, "Target
 * topics"): those set on the source topic and not excluded, plus, for an
 * existing remote topic, the excluded ones it has set itself (its own
 * min.insync.replicas, say: the replacing AlterConfigs would reset them). */
static void configs_wanted(const mm_flow *f, const mm_cfgset *src, const mm_cfgset *dst,
                           mm_cfgset *want) {
  for (size_t i = 0; i < src->n; i++)
    if (!config_excluded(f, src->kv[2 * i]))
      mm_cfgset_add(want, src->kv[2 * i], src->kv[2 * i + 1]);
  for (size_t i = 0; dst && i < dst->n; i++)
    if (config_excluded(f, dst->kv[2 * i]))
      mm_cfgset_add(want, dst->kv[2 * i], dst->kv[2 * i + 1]);
}

/* Internal topics: one partition, compacted.  A target that refuses topic
 * configs (seglogd before per-topic configs) gets the topic without them and
 * a warning: these topics only grow then (docs/MIRROR.md). */
static int ensure_internal(mm_flow *f, rd_kafka_t *rk, const char *alias,
                           const char *name) {
  static const char *const compact[] = {"cleanup.policy", "compact"};
  char msg[512] = "";
  int rc =
      create_topic(rk, name, 1, f->cfg->replication_factor, compact, 1, msg, sizeof msg);
  if (rc == 0)
    mm_log("info", "internal.created", "cluster=%s topic=%s", alias, name);
  if (rc >= 0)
    return 0;
  if (strstr(msg, "INVALID_CONFIG") || strstr(msg, "not supported")) {
    mm_log("warn", "internal.no_configs",
           "cluster=%s topic=%s reason=\"%s\" action=\"created without "
           "cleanup.policy=compact\"",
           alias, name, msg);
    rc = create_topic(rk, name, 1, f->cfg->replication_factor, NULL, 0, msg, sizeof msg);
    if (rc >= 0)
      return 0;
  }
  mm_log("error", "internal.create_failed", "cluster=%s topic=%s reason=\"%s\"", alias,
         name, msg);
  f->err_admin++;
  return -1;
}

/* ---- progress read back ---- */

static loaded_sync *loaded_find(mm_flow *f, const char *topic, size_t tlen, int32_t part,
                                bool add) {
  for (size_t i = 0; i < f->nloaded; i++)
    if (f->loaded[i].partition == part && strlen(f->loaded[i].topic) == tlen &&
        memcmp(f->loaded[i].topic, topic, tlen) == 0)
      return &f->loaded[i];
  if (!add)
    return NULL;
  f->loaded = xrealloc(f->loaded, (f->nloaded + 1) * sizeof *f->loaded);
  loaded_sync *l = &f->loaded[f->nloaded++];
  memset(l, 0, sizeof *l);
  l->topic = xrealloc(NULL, tlen + 1);
  memcpy(l->topic, topic, tlen);
  l->topic[tlen] = '\0';
  l->partition = part;
  return l;
}

/* Reads the whole offset-syncs topic (every partition, to its high
 * watermark) into f->loaded. */
static int load_syncs(mm_flow *f) {
  const mm_cluster *cl = f->cfg->syncs_on_target ? f->dst : f->src;
  char err[512];
  int rc = -1;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_t *rk = NULL;
  rd_kafka_topic_partition_list_t *tl = NULL;
  const rd_kafka_metadata_t *md = NULL;
  if (conf_set(conf, "bootstrap.servers", cl->bootstrap, err, sizeof err) != 0 ||
      conf_apply(conf, cl->common, cl->n_common, err, sizeof err, cl->alias, "") != 0 ||
      conf_set(conf, "enable.auto.commit", "false", err, sizeof err) != 0 ||
      conf_set(conf, "group.id", "seglog-mirror-syncs-reader", err, sizeof err) != 0) {
    rd_kafka_conf_destroy(conf);
    mm_log("error", "syncs.read_failed", "flow=%s->%s reason=\"%s\"", f->sa, f->da, err);
    return -1;
  }
  rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    mm_log("error", "syncs.read_failed", "flow=%s->%s reason=\"%s\"", f->sa, f->da, err);
    return -1;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, f->syncs_topic, NULL);
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, MM_ADMIN_MS);
  rd_kafka_topic_destroy(rkt);
  if (e || md->topic_cnt != 1 || md->topics[0].err) {
    mm_log("error", "syncs.read_failed", "flow=%s->%s topic=%s reason=\"metadata: %s\"",
           f->sa, f->da, f->syncs_topic,
           rd_kafka_err2str(e                    ? e
                            : md->topic_cnt == 1 ? md->topics[0].err
                                                 : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    goto done;
  }
  int np = md->topics[0].partition_cnt;
  tl = rd_kafka_topic_partition_list_new(np);
  int64_t *hi = calloc((size_t)np + 1, sizeof *hi);
  int64_t *pos = calloc((size_t)np + 1, sizeof *pos);
  if (!hi || !pos) {
    free(hi);
    free(pos);
    goto done;
  }
  int pending = 0;
  for (int i = 0; i < np; i++) {
    int64_t lo = 0;
    e = rd_kafka_query_watermark_offsets(rk, f->syncs_topic, i, &lo, &hi[i], MM_ADMIN_MS);
    if (e) {
      mm_log("error", "syncs.read_failed", "flow=%s->%s reason=\"watermarks: %s\"", f->sa,
             f->da, rd_kafka_err2str(e));
      free(hi);
      free(pos);
      goto done;
    }
    pos[i] = lo;
    if (hi[i] > lo) {
      rd_kafka_topic_partition_list_add(tl, f->syncs_topic, i)->offset = lo;
      pending++;
    }
  }
  uint64_t count = 0;
  if (pending > 0) {
    rd_kafka_assign(rk, tl);
    int64_t until = mm_mono_ms() + 120000;
    while (pending > 0 && mm_mono_ms() < until) {
      rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
      if (!m)
        continue;
      if (!m->err && m->partition >= 0 && m->partition < np) {
        mm_offset_sync s;
        if (m->key && m->payload &&
            mm_offset_sync_decode(m->key, m->key_len, m->payload, m->len, &s) == 0) {
          loaded_sync *l = loaded_find(f, s.topic.p, s.topic.len, s.partition, true);
          hist_push(&l->hist, s.upstream, s.downstream);
          count++;
        } else {
          mm_log("warn", "syncs.bad_record", "flow=%s->%s partition=%d offset=%lld",
                 f->sa, f->da, m->partition, (long long)m->offset);
        }
        if (m->offset + 1 >= hi[m->partition] && pos[m->partition] < hi[m->partition]) {
          pos[m->partition] = hi[m->partition];
          pending--;
        }
      }
      rd_kafka_message_destroy(m);
    }
  }
  free(hi);
  free(pos);
  if (pending > 0) {
    mm_log("error", "syncs.read_failed", "flow=%s->%s reason=\"timed out reading %s\"",
           f->sa, f->da, f->syncs_topic);
    goto done;
  }
  mm_log("info", "syncs.loaded", "flow=%s->%s topic=%s records=%llu partitions=%zu",
         f->sa, f->da, f->syncs_topic, (unsigned long long)count, f->nloaded);
  rc = 0;
done:
  if (md)
    rd_kafka_metadata_destroy(md);
  if (tl)
    rd_kafka_topic_partition_list_destroy(tl);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return rc;
}

/* ---- topics and partitions ---- */

static mm_topic *topic_find(mm_flow *f, const char *name) {
  if (f->last && strcmp(f->last->name, name) == 0)
    return f->last;
  for (size_t i = 0; i < f->ntopics; i++)
    if (strcmp(f->topics[i]->name, name) == 0)
      return f->last = f->topics[i];
  return NULL;
}

static mm_part *part_new(mm_flow *f, mm_topic *t, int32_t id) {
  mm_part *p = calloc(1, sizeof *p);
  if (!p)
    abort();
  p->tag = TAG_PART;
  p->t = t;
  p->id = id;
  p->acked = p->synced = p->durable = -1;
  p->acked_down = -1;
  p->next = -1; /* unknown until the first record or a loaded sync */
  loaded_sync *l = loaded_find(f, t->name, strlen(t->name), id, false);
  if (l && l->hist.n) {
    p->hist = l->hist;
    int64_t up = hist_last_up(&l->hist);
    p->next = up + 1;
    p->acked = p->synced = p->durable = up;
    p->acked_down = hist_translate(&l->hist, up);
    p->started = true;
  }
  return p;
}

/* Asks rk's cluster for the topic's metadata through the handle, so rk
 * knows its partitions and leaders before it uses them. */
static void metadata_warm(rd_kafka_t *rk, rd_kafka_topic_t *rkt) {
  const rd_kafka_metadata_t *md = NULL;
  if (rkt &&
      rd_kafka_metadata(rk, 0, rkt, &md, MM_ADMIN_MS) == RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_metadata_destroy(md);
}

/* Adds partitions [t->nparts, want) and assigns them incrementally. */
static void assign_new(mm_flow *f, mm_topic *t, int32_t want) {
  if (want <= t->nparts)
    return;
  /* The consumer must know the leaders first: librdkafka retries the offset
   * lookup of a partition without a known leader (from=-1) only after
   * 500 ms, so each new topic started half a second late. */
  if (!t->src_rkt)
    t->src_rkt = rd_kafka_topic_new(f->cons, t->name, NULL);
  metadata_warm(f->cons, t->src_rkt);
  t->parts = xrealloc(t->parts, (size_t)want * sizeof *t->parts);
  rd_kafka_topic_partition_list_t *tl =
      rd_kafka_topic_partition_list_new(want - t->nparts);
  for (int32_t i = t->nparts; i < want; i++) {
    mm_part *p = part_new(f, t, i);
    t->parts[i] = p;
    rd_kafka_topic_partition_list_add(tl, t->name, i)->offset =
        p->next >= 0 ? p->next : RD_KAFKA_OFFSET_BEGINNING;
    mm_log("info", "partition.assigned", "flow=%s->%s topic=%s partition=%d from=%lld",
           f->sa, f->da, t->name, i, (long long)p->next);
  }
  rd_kafka_error_t *er = rd_kafka_incremental_assign(f->cons, tl);
  if (er) {
    mm_log("error", "partition.assign_failed", "flow=%s->%s topic=%s reason=\"%s\"",
           f->sa, f->da, t->name, rd_kafka_error_string(er));
    rd_kafka_error_destroy(er);
    f->err_consume++;
  }
  rd_kafka_topic_partition_list_destroy(tl);
  t->nparts = want;
}

/* Makes the remote topic exist with at least t->src_parts partitions and the
 * source's configs; never falls back to defaults for the configs. */
static void topic_prepare(mm_flow *f, mm_topic *t, const rd_kafka_metadata_t *tmd) {
  char msg[1024] = "";
  int32_t have = -1;
  for (int i = 0; i < tmd->topic_cnt; i++)
    if (strcmp(tmd->topics[i].topic, t->remote) == 0 && !tmd->topics[i].err)
      have = tmd->topics[i].partition_cnt;
  if (have < 0) {
    mm_cfgset src = {0}, cfg = {0};
    if (f->cfg->sync_topic_configs) {
      const char *name = t->name;
      if (mm_describe_topic_configs(f->cons, &name, 1, &src, msg, sizeof msg) != 0 ||
          !src.ok) {
        mm_cfgset_release(&src);
        goto failed;
      }
      configs_wanted(f, &src, NULL, &cfg);
      mm_cfgset_release(&src);
    }
    int rc = create_topic(f->prod, t->remote, t->src_parts, f->cfg->replication_factor,
                          (const char *const *)cfg.kv, cfg.n, msg, sizeof msg);
    char list[512];
    mm_cfgset_format(&cfg, list, sizeof list);
    size_t ncfg = cfg.n;
    mm_cfgset_release(&cfg);
    if (rc < 0) {
      if (ncfg > 0 && (strstr(msg, "INVALID_CONFIG") || strstr(msg, "not supported")))
        mm_log("error", "topic.configs_refused",
               "flow=%s->%s topic=%s remote=%s configs=\"%s\" reason=\"%s\" action=\"not "
               "mirrored until the target accepts the configs; retrying\"",
               f->sa, f->da, t->name, t->remote, list, msg);
      goto failed;
    }
    if (rc == 0) {
      f->topics_created++;
      mm_log("info", "topic.created",
             "flow=%s->%s topic=%s remote=%s partitions=%d configs=\"%s\"", f->sa, f->da,
             t->name, t->remote, t->src_parts, list);
    }
    have = t->src_parts;
  }
  if (have < t->src_parts) {
    if (create_partitions(f->prod, t->remote, t->src_parts, msg, sizeof msg) != 0)
      goto failed;
    mm_log("info", "partitions.created", "flow=%s->%s remote=%s from=%d to=%d", f->sa,
           f->da, t->remote, have, t->src_parts);
    have = t->src_parts;
  }
  t->state = T_READY;
  target_handle(f, t);
  target_metadata_refresh(f, t);
  assign_new(f, t, t->src_parts);
  return;
failed:
  f->err_admin++;
  t->state = T_FAILED;
  t->retry_at = mm_mono_ms() + MM_RETRY_MS;
  mm_log("error", "topic.prepare_failed", "flow=%s->%s topic=%s remote=%s reason=\"%s\"",
         f->sa, f->da, t->name, t->remote, msg);
}

static void refresh_topics(mm_flow *f) {
  const rd_kafka_metadata_t *smd = NULL, *tmd = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(f->cons, 1, NULL, &smd, MM_ADMIN_MS);
  if (e) {
    mm_log("warn", "refresh.failed", "flow=%s->%s cluster=%s reason=\"%s\"", f->sa, f->da,
           f->sa, rd_kafka_err2str(e));
    f->err_admin++;
    return;
  }
  bool need_target = false;
  for (int i = 0; i < smd->topic_cnt; i++) {
    const rd_kafka_metadata_topic_t *mt = &smd->topics[i];
    if (mt->err || mt->partition_cnt <= 0)
      continue;
    if (!mm_policy_topic_wanted(f->pol, f->cfg, f->sa, f->da, mt->topic))
      continue;
    mm_topic *t = topic_find(f, mt->topic);
    if (!t) {
      char remote[512];
      if (mm_policy_remote_topic(f->pol, f->sa, mt->topic, remote, sizeof remote) != 0)
        continue;
      t = calloc(1, sizeof *t);
      if (!t)
        abort();
      t->name = xstrdup(mt->topic);
      t->remote = xstrdup(remote);
      t->state = T_NEW;
      f->topics = xrealloc(f->topics, (f->ntopics + 1) * sizeof *f->topics);
      f->topics[f->ntopics++] = t;
      mm_log("info", "topic.found", "flow=%s->%s topic=%s remote=%s partitions=%d", f->sa,
             f->da, t->name, t->remote, mt->partition_cnt);
    }
    if (mt->partition_cnt > t->src_parts)
      t->src_parts = mt->partition_cnt;
    if (t->state != T_READY || t->src_parts > t->nparts)
      need_target = true;
  }
  rd_kafka_metadata_destroy(smd);
  if (!need_target)
    return;
  e = rd_kafka_metadata(f->prod, 1, NULL, &tmd, MM_ADMIN_MS);
  if (e) {
    mm_log("warn", "refresh.failed", "flow=%s->%s cluster=%s reason=\"%s\"", f->sa, f->da,
           f->da, rd_kafka_err2str(e));
    f->err_admin++;
    return;
  }
  int64_t now = mm_mono_ms();
  for (size_t i = 0; i < f->ntopics; i++) {
    mm_topic *t = f->topics[i];
    if (t->state == T_FAILED && now < t->retry_at)
      continue;
    if (t->state != T_READY || t->src_parts > t->nparts)
      topic_prepare(f, t, tmd);
  }
  rd_kafka_metadata_destroy(tmd);
}

/* MM2's sync.topic.configs: every interval, the remote topics whose configs
 * differ from what their source topics say (configs_wanted) get them, in one
 * DescribeConfigs per cluster and one AlterConfigs. */
static void configs_tick(mm_flow *f) {
  char msg[512] = "";
  size_t n = 0, na = 0;
  const char **src = calloc(f->ntopics + 1, sizeof *src);
  const char **dst = calloc(f->ntopics + 1, sizeof *dst);
  const char **alt = calloc(f->ntopics + 1, sizeof *alt);
  mm_cfgset *ss = calloc(f->ntopics + 1, sizeof *ss);
  mm_cfgset *ts = calloc(f->ntopics + 1, sizeof *ts);
  mm_cfgset *want = calloc(f->ntopics + 1, sizeof *want);
  rd_kafka_resp_err_t *errs = calloc(f->ntopics + 1, sizeof *errs);
  if (!src || !dst || !alt || !ss || !ts || !want || !errs)
    abort();
  for (size_t i = 0; i < f->ntopics; i++) {
    if (f->topics[i]->state != T_READY)
      continue;
    src[n] = f->topics[i]->name;
    dst[n++] = f->topics[i]->remote;
  }
  if (n == 0)
    goto done;
  if (mm_describe_topic_configs(f->cons, src, n, ss, msg, sizeof msg) != 0 ||
      mm_describe_topic_configs(f->prod, dst, n, ts, msg, sizeof msg) != 0) {
    f->err_admin++;
    mm_log("warn", "configs.sync_failed", "flow=%s->%s reason=\"%s\"", f->sa, f->da, msg);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    if (!ss[i].ok || !ts[i].ok)
      continue; /* deleted meanwhile, say: the next round sees */
    mm_cfgset w = {0};
    configs_wanted(f, &ss[i], &ts[i], &w);
    if (mm_cfgset_equal(&w, &ts[i])) {
      mm_cfgset_release(&w);
      continue;
    }
    alt[na] = dst[i];
    want[na++] = w;
  }
  if (na == 0)
    goto done;
  if (mm_alter_topic_configs(f->prod, alt, na, want, errs, msg, sizeof msg) != 0) {
    f->err_admin++;
    mm_log("warn", "configs.sync_failed", "flow=%s->%s reason=\"%s\"", f->sa, f->da, msg);
    goto done;
  }
  for (size_t i = 0; i < na; i++) {
    char list[512];
    mm_cfgset_format(&want[i], list, sizeof list);
    if (errs[i]) {
      f->err_admin++;
      mm_log("warn", "topic.configs_sync_failed",
             "flow=%s->%s remote=%s configs=\"%s\" error=%s", f->sa, f->da, alt[i], list,
             rd_kafka_err2name(errs[i]));
    } else {
      f->configs_synced++;
      mm_log("info", "topic.configs_synced", "flow=%s->%s remote=%s configs=\"%s\"",
             f->sa, f->da, alt[i], list);
    }
  }
done:
  for (size_t i = 0; i < f->ntopics; i++) {
    mm_cfgset_release(&ss[i]);
    mm_cfgset_release(&ts[i]);
    mm_cfgset_release(&want[i]);
  }
  free(src);
  free(dst);
  free(alt);
  free(ss);
  free(ts);
  free(want);
  free(errs);
}

/* ---- replication ---- */

/* Asks the target for the topic's metadata through the producer, so its
 * cache learns partitions just created (librdkafka refuses a record for an
 * unknown partition without refreshing). */
static void target_metadata_refresh(mm_flow *f, mm_topic *t) {
  metadata_warm(f->prod, t->rkt);
}

/* The target topic handle, created once with the topic as its opaque (the
 * first creation of a handle fixes its configuration in librdkafka). */
static void target_handle(mm_flow *f, mm_topic *t) {
  if (t->rkt)
    return;
  rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
  rd_kafka_topic_conf_set_opaque(tc, t);
  t->rkt = rd_kafka_topic_new(f->prod, t->remote, tc);
  if (!t->rkt)
    abort(); /* only fails on an invalid name, which CreateTopics accepted */
}

static void pause_and_rewind(mm_flow *f, mm_part *p, int64_t to) {
  rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(tl, p->t->name, p->id)->offset = to;
  if (!p->paused)
    rd_kafka_pause_partitions(f->cons, tl);
  p->pauses++;
  rd_kafka_error_t *er = rd_kafka_seek_partitions(f->cons, tl, 5000);
  if (er) {
    mm_log("warn", "partition.seek_failed",
           "flow=%s->%s topic=%s partition=%d reason=\"%s\"", f->sa, f->da, p->t->name,
           p->id, rd_kafka_error_string(er));
    rd_kafka_error_destroy(er);
  }
  rd_kafka_topic_partition_list_destroy(tl);
  p->paused = true;
  p->next = to;
}

static void part_resume(mm_flow *f, mm_part *p) {
  rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(tl, p->t->name, p->id);
  rd_kafka_resume_partitions(f->cons, tl);
  rd_kafka_topic_partition_list_destroy(tl);
  p->paused = false;
}

static void ack_skips(mm_part *p) {
  fifo_ent *e;
  while ((e = fifo_front(p)) && e->skip) {
    if (e->gen == p->gen)
      p->acked = e->off;
    fifo_pop(p);
  }
}

/* Returns true when the message was handed to the producer (it is then
 * destroyed in its delivery report: the copy is zero-copy), false when the
 * caller still owns it. */
static bool handle_record(mm_flow *f, rd_kafka_message_t *m) {
  if (m->err) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      f->err_consume++;
      mm_log("warn", "consume.error", "flow=%s->%s error=%s reason=\"%s\"", f->sa, f->da,
             rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
    }
    return false;
  }
  mm_topic *t = topic_find(f, rd_kafka_topic_name(m->rkt));
  if (!t || m->partition < 0 || m->partition >= t->nparts)
    return false;
  mm_part *p = t->parts[m->partition];
  if (p->paused || p->rewind || m->offset < p->next)
    return false; /* stale: before a seek, or a copy we already produced */
  if (!p->started) {
    p->started = true;
    p->durable = p->synced = p->acked = m->offset - 1;
  }
  if (m->offset - p->durable > f->cfg->window) {
    pause_and_rewind(f, p, m->offset);
    return false;
  }
  rd_kafka_headers_t *hdrs = NULL;
  const void *pv = NULL;
  size_t pn = 0;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      rd_kafka_header_get_last(hdrs, MM_PATH_HEADER, &pv, &pn) ==
          RD_KAFKA_RESP_ERR_NO_ERROR &&
      pv && mm_path_has(pv, pn, f->da)) {
    /* It came from the target: copying it back would loop. */
    p->skipped++;
    p->next = m->offset + 1;
    if (p->qlen == 0)
      p->acked = m->offset;
    else
      fifo_push(p, (fifo_ent){m->offset, 0, p->gen, 1});
    return false;
  }
  /* The path: the incoming one extended by our alias (just the alias when
   * there is none, or when the result would not fit). */
  const char *pval = f->sa;
  size_t plen = strlen(f->sa);
  char path[512];
  if (pv && pn > 0) {
    int w = snprintf(path, sizeof path, "%.*s,%s", (int)pn, (const char *)pv, f->sa);
    if (w > 0 && (size_t)w < sizeof path) {
      pval = path;
      plen = (size_t)w;
    }
  }
  rd_kafka_headers_t *out;
  if (hdrs) {
    out = rd_kafka_headers_copy(hdrs);
    rd_kafka_header_remove(out, MM_PATH_HEADER);
  } else {
    out = rd_kafka_headers_new(1);
  }
  rd_kafka_header_add(out, MM_PATH_HEADER, (ssize_t)(sizeof MM_PATH_HEADER - 1), pval,
                      (ssize_t)plen);
  rd_kafka_timestamp_type_t tst;
  int64_t ts = rd_kafka_message_timestamp(m, &tst);
  for (;;) {
    /* Zero-copy: key and value stay in the consumer's message, which the
     * delivery report destroys; the topic handle's opaque names the topic. */
    rd_kafka_resp_err_t e = rd_kafka_producev(
        f->prod, RD_KAFKA_V_RKT(t->rkt), RD_KAFKA_V_PARTITION(m->partition),
        RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_KEY(m->key, m->key_len),
        RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_TIMESTAMP(ts >= 0 ? ts : 0),
        RD_KAFKA_V_HEADERS(out), RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
      break;
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(f->prod, 50);
      continue;
    }
    rd_kafka_headers_destroy(out);
    f->err_produce++;
    p->errors++;
    p->retry_at = mm_mono_ms() + 1000;
    if (e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
        e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
      target_metadata_refresh(f, t);
    mm_log("error", "produce.failed",
           "flow=%s->%s remote=%s partition=%d offset=%lld error=%s", f->sa, f->da,
           t->remote, m->partition, (long long)m->offset, rd_kafka_err2name(e));
    pause_and_rewind(f, p, m->offset);
    return false;
  }
  fifo_push(p, (fifo_ent){m->offset, ts, p->gen, 0});
  p->next = m->offset + 1;
  f->inflight++;
  return true;
}

static void emit_sync(mm_flow *f, mm_part *p, int64_t now, bool may_poll);

static void on_part_delivery(mm_flow *f, mm_part *p, const rd_kafka_message_t *m) {
  fifo_ent *e = fifo_front(p);
  if (!e)
    return; /* cannot happen: one entry per produced record */
  fifo_ent ent = *e;
  fifo_pop(p);
  if (f->inflight)
    f->inflight--;
  if (ent.gen != p->gen)
    return; /* produced before a failure: its ack proves nothing about order */
  if (m->err) {
    f->err_produce++;
    p->errors++;
    mm_log(
        "error", "delivery.failed",
        "flow=%s->%s remote=%s partition=%d offset=%lld error=%s action=rewind to=%lld",
        f->sa, f->da, p->t->remote, p->id, (long long)ent.off, rd_kafka_err2name(m->err),
        (long long)(p->acked + 1));
    p->gen++;
    p->rewind = true;
    return;
  }
  p->acked = ent.off;
  p->acked_down = m->offset;
  p->records++;
  p->bytes += m->len + m->key_len;
  if (ent.ts > 0) {
    double lat = (double)(mm_now_ms() - ent.ts);
    if (lat < 0)
      lat = 0;
    size_t b = 0;
    while (b < MM_LAT_BUCKETS - 1 && lat > lat_bounds_ms[b])
      b++;
    f->lat_buckets[b]++;
    f->lat_count++;
    f->lat_sum_ms += lat;
  }
  ack_skips(p);
  /* MM2 writes a sync at least every offset.lag.max records; so do we, from
   * here, so translation stays that precise however large the poll batch. */
  if (p->acked - p->synced >= f->cfg->offset_lag_max)
    emit_sync(f, p, mm_mono_ms(), false);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  mm_flow *f = opaque;
  mm_topic *t = rk == f->prod && m->rkt ? rd_kafka_topic_opaque(m->rkt) : NULL;
  if (t) {
    rd_kafka_message_t *src = m->_private; /* the consumer's message */
    if (m->partition >= 0 && m->partition < t->nparts)
      on_part_delivery(f, t->parts[m->partition], m);
    if (src)
      rd_kafka_message_destroy(src);
    return;
  }
  int *tag = m->_private;
  if (!tag)
    return;
  if (*tag == TAG_SYNC) {
    sync_msg *s = (sync_msg *)tag;
    if (m->err) {
      f->err_sync++;
      mm_log("warn", "sync.failed", "flow=%s->%s topic=%s partition=%d error=%s", f->sa,
             f->da, s->p->t->name, s->p->id, rd_kafka_err2name(m->err));
      if (s->p->synced > s->p->durable)
        s->p->synced = s->p->durable; /* write it again */
    } else if (s->up > s->p->durable) {
      s->p->durable = s->up;
    }
    free(s);
  } else if (*tag == TAG_HEARTBEAT || *tag == TAG_CHECKPOINT) {
    if (m->err) {
      f->err_produce++;
      mm_log("warn", *tag == TAG_HEARTBEAT ? "heartbeat.failed" : "checkpoint.failed",
             "flow=%s->%s error=%s", f->sa, f->da, rd_kafka_err2name(m->err));
    }
  }
}

/* may_poll is false inside delivery callbacks: librdkafka must not be
 * re-entered from there, so a full queue fails the call instead. */
static int produce_internal(rd_kafka_t *rk, const char *topic, sl_buf *k, sl_buf *v,
                            void *opaque, bool may_poll) {
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(k->data, k->len),
        RD_KAFKA_V_VALUE(v->data, v->len), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && may_poll) {
      rd_kafka_poll(rk, 50);
      continue;
    }
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
  }
}

static void emit_sync(mm_flow *f, mm_part *p, int64_t now, bool may_poll) {
  sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
  mm_offset_sync s = {{p->t->name, strlen(p->t->name)}, p->id, p->acked, p->acked_down};
  if (mm_offset_sync_encode(&s, &k, &v) == 0) {
    sync_msg *sm = malloc(sizeof *sm);
    if (!sm)
      abort();
    sm->tag = TAG_SYNC;
    sm->p = p;
    sm->up = p->acked;
    if (produce_internal(f->sprod, f->syncs_topic, &k, &v, sm, may_poll) == 0) {
      p->synced = p->acked;
      p->last_sync_ms = now;
      hist_push(&p->hist, p->acked, p->acked_down);
    } else {
      free(sm);
      if (may_poll)
        f->err_sync++;
    }
  }
  sl_buf_release(&k);
  sl_buf_release(&v);
}

static void partitions_tick(mm_flow *f, bool force) {
  int64_t now = mm_mono_ms();
  for (size_t i = 0; i < f->ntopics; i++) {
    mm_topic *t = f->topics[i];
    for (int32_t j = 0; j < t->nparts; j++) {
      mm_part *p = t->parts[j];
      if (p->rewind) {
        p->rewind = false;
        pause_and_rewind(f, p, p->acked + 1);
      }
      /* A sync needs a known downstream offset (skipped records alone give
       * none). */
      if (p->acked > p->synced && p->acked_down >= 0 &&
          (force || p->acked - p->synced >= f->cfg->offset_lag_max ||
           now - p->last_sync_ms >= MM_SYNC_IDLE_MS))
        emit_sync(f, p, now, true);
      if (p->paused && p->next - p->durable <= f->cfg->window / 2 && now >= p->retry_at)
        part_resume(f, p);
    }
  }
}

/* ---- heartbeats, checkpoints, group offsets ---- */

static void emit_heartbeat(mm_flow *f) {
  sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
  mm_heartbeat h = {{f->sa, strlen(f->sa)}, {f->da, strlen(f->da)}, mm_now_ms()};
  if (mm_heartbeat_encode(&h, &k, &v) == 0 &&
      produce_internal(f->prod, MM_HEARTBEATS_TOPIC, &k, &v, &f->tag_hb, true) == 0)
    f->heartbeats++;
  else
    f->err_produce++;
  sl_buf_release(&k);
  sl_buf_release(&v);
}

static ckpt_seen *seen_find(mm_flow *f, const char *group, mm_part *p) {
  for (size_t i = 0; i < f->nseen; i++)
    if (f->seen[i].p == p && strcmp(f->seen[i].group, group) == 0)
      return &f->seen[i];
  f->seen = xrealloc(f->seen, (f->nseen + 1) * sizeof *f->seen);
  ckpt_seen *s = &f->seen[f->nseen++];
  s->group = xstrdup(group);
  s->p = p;
  s->upstream = s->downstream = -1;
  return s;
}

static char **list_groups(mm_flow *f, rd_kafka_t *rk, size_t *n) {
  char **out = NULL;
  *n = 0;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o = mm_admin_opts(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
  rd_kafka_ListConsumerGroups(rk, o, q);
  rd_kafka_event_t *ev = mm_admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT);
  if (!ev || rd_kafka_event_error(ev)) {
    f->err_admin++;
    mm_log("warn", "groups.list_failed", "flow=%s->%s reason=\"%s\"", f->sa, f->da,
           ev ? rd_kafka_event_error_string(ev) : "timed out");
  } else {
    const rd_kafka_ListConsumerGroups_result_t *r =
        rd_kafka_event_ListConsumerGroups_result(ev);
    size_t cnt = 0;
    const rd_kafka_ConsumerGroupListing_t **gl =
        rd_kafka_ListConsumerGroups_result_valid(r, &cnt);
    for (size_t i = 0; i < cnt; i++) {
      const char *g = rd_kafka_ConsumerGroupListing_group_id(gl[i]);
      if (!g || !mm_filter_match(&f->cfg->groups, g) ||
          mm_filter_match(&f->cfg->groups_exclude, g))
        continue;
      out = xrealloc(out, (*n + 1) * sizeof *out);
      out[(*n)++] = xstrdup(g);
    }
  }
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  return out;
}

/* Committed offsets of `group` on rk's cluster (caller destroys), or NULL. */
static rd_kafka_topic_partition_list_t *group_offsets(mm_flow *f, rd_kafka_t *rk,
                                                      const char *group) {
  rd_kafka_topic_partition_list_t *res = NULL;
  rd_kafka_ListConsumerGroupOffsets_t *req =
      rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o =
      mm_admin_opts(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
  rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, o, q);
  rd_kafka_event_t *ev = mm_admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT);
  if (!ev || rd_kafka_event_error(ev)) {
    f->err_admin++;
    mm_log("warn", "groups.offsets_failed", "flow=%s->%s group=%s reason=\"%s\"", f->sa,
           f->da, group, ev ? rd_kafka_event_error_string(ev) : "timed out");
  } else {
    size_t cnt = 0;
    const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &cnt);
    if (cnt == 1 && !rd_kafka_group_result_error(gr[0]) &&
        rd_kafka_group_result_partitions(gr[0]))
      res = rd_kafka_topic_partition_list_copy(rd_kafka_group_result_partitions(gr[0]));
  }
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  rd_kafka_ListConsumerGroupOffsets_destroy(req);
  return res;
}

/* True when the group has no active members on rk's cluster. */
static bool group_idle(mm_flow *f, rd_kafka_t *rk, const char *group) {
  bool idle = false;
  const char *groups[1] = {group};
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o =
      mm_admin_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
  rd_kafka_DescribeConsumerGroups(rk, groups, 1, o, q);
  rd_kafka_event_t *ev = mm_admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT);
  if (ev && !rd_kafka_event_error(ev)) {
    size_t cnt = 0;
    const rd_kafka_ConsumerGroupDescription_t **gd =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &cnt);
    if (cnt == 1) {
      const rd_kafka_error_t *ge = rd_kafka_ConsumerGroupDescription_error(gd[0]);
      rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(gd[0]);
      if (ge && rd_kafka_error_code(ge) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
        idle = true;
      else if (!ge)
        idle = rd_kafka_ConsumerGroupDescription_member_count(gd[0]) == 0 ||
               st == RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY ||
               st == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD;
    }
  } else {
    f->err_admin++;
  }
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  return idle;
}

static void sync_group(mm_flow *f, const char *group,
                       rd_kafka_topic_partition_list_t *want) {
  if (want->cnt == 0 || !group_idle(f, f->prod, group))
    return;
  rd_kafka_topic_partition_list_t *have = group_offsets(f, f->prod, group);
  rd_kafka_topic_partition_list_t *alt = rd_kafka_topic_partition_list_new(want->cnt);
  for (int i = 0; i < want->cnt; i++) {
    rd_kafka_topic_partition_t *w = &want->elems[i];
    rd_kafka_topic_partition_t *h =
        have ? rd_kafka_topic_partition_list_find(have, w->topic, w->partition) : NULL;
    /* Never move a target group backwards (MM2 does not either). */
    if (h && h->offset >= w->offset)
      continue;
    rd_kafka_topic_partition_list_add(alt, w->topic, w->partition)->offset = w->offset;
  }
  if (alt->cnt > 0) {
    rd_kafka_AlterConsumerGroupOffsets_t *req =
        rd_kafka_AlterConsumerGroupOffsets_new(group, alt);
    rd_kafka_queue_t *q = rd_kafka_queue_new(f->prod);
    rd_kafka_AdminOptions_t *o =
        mm_admin_opts(f->prod, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    rd_kafka_AlterConsumerGroupOffsets(f->prod, &req, 1, o, q);
    rd_kafka_event_t *ev =
        mm_admin_wait(q, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT);
    bool ok = false;
    if (ev && !rd_kafka_event_error(ev)) {
      size_t cnt = 0;
      const rd_kafka_group_result_t **gr =
          rd_kafka_AlterConsumerGroupOffsets_result_groups(
              rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &cnt);
      ok = cnt == 1 && !rd_kafka_group_result_error(gr[0]);
      if (ok) {
        const rd_kafka_topic_partition_list_t *pl =
            rd_kafka_group_result_partitions(gr[0]);
        for (int i = 0; pl && i < pl->cnt; i++)
          if (pl->elems[i].err)
            ok = false;
      }
    }
    if (ok) {
      f->groups_synced++;
      mm_log("info", "group.synced", "flow=%s->%s group=%s partitions=%d", f->sa, f->da,
             group, alt->cnt);
    } else {
      f->err_admin++;
      mm_log("warn", "group.sync_failed", "flow=%s->%s group=%s reason=\"%s\"", f->sa,
             f->da, group,
             ev && rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
                                            : "partition errors or timeout");
    }
    if (ev)
      rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
  }
  rd_kafka_topic_partition_list_destroy(alt);
  if (have)
    rd_kafka_topic_partition_list_destroy(have);
}

static void checkpoints_tick(mm_flow *f, bool do_sync) {
  size_t ng = 0;
  char **groups = list_groups(f, f->cons, &ng);
  for (size_t g = 0; g < ng; g++) {
    rd_kafka_topic_partition_list_t *offs = group_offsets(f, f->cons, groups[g]);
    rd_kafka_topic_partition_list_t *want = rd_kafka_topic_partition_list_new(4);
    for (int i = 0; offs && i < offs->cnt; i++) {
      rd_kafka_topic_partition_t *tp = &offs->elems[i];
      if (tp->err || tp->offset < 0)
        continue;
      mm_topic *t = topic_find(f, tp->topic);
      if (!t || tp->partition < 0 || tp->partition >= t->nparts)
        continue;
      mm_part *p = t->parts[tp->partition];
      int64_t down = hist_translate(&p->hist, tp->offset);
      if (down < 0)
        continue; /* older than every sync we hold: cannot translate */
      rd_kafka_topic_partition_list_add(want, t->remote, tp->partition)->offset = down;
      ckpt_seen *s = seen_find(f, groups[g], p);
      if (s->upstream == tp->offset && s->downstream == down)
        continue;
      const char *meta =
          tp->metadata && tp->metadata_size ? (const char *)tp->metadata : "";
      size_t ml = tp->metadata && tp->metadata_size ? tp->metadata_size : 0;
      mm_checkpoint c = {{groups[g], strlen(groups[g])},
                         {t->remote, strlen(t->remote)},
                         tp->partition,
                         tp->offset,
                         down,
                         {meta, ml}};
      sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
      if (mm_checkpoint_encode(&c, &k, &v) == 0 &&
          produce_internal(f->prod, f->ckpt_topic, &k, &v, &f->tag_ck, true) == 0) {
        f->checkpoints++;
        s->upstream = tp->offset;
        s->downstream = down;
      } else {
        f->err_produce++;
      }
      sl_buf_release(&k);
      sl_buf_release(&v);
    }
    if (do_sync)
      sync_group(f, groups[g], want);
    rd_kafka_topic_partition_list_destroy(want);
    if (offs)
      rd_kafka_topic_partition_list_destroy(offs);
    free(groups[g]);
  }
  free(groups);
}

/* ---- lifecycle ---- */

int mm_mirror_new(const mm_config *c, mm_mirror **out, char *err, size_t cap) {
  mm_mirror *m = calloc(1, sizeof *m);
  if (!m) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  m->cfg = c;
  mm_policy_init(&m->pol, c);
  m->flows = calloc(c->n_flows, sizeof *m->flows);
  if (!m->flows) {
    free(m);
    snprintf(err, cap, "out of memory");
    return -1;
  }
  m->nflows = c->n_flows;
  for (size_t i = 0; i < c->n_flows; i++) {
    mm_flow *f = &m->flows[i];
    f->cfg = &c->flows[i];
    f->src = &c->clusters[f->cfg->src];
    f->dst = &c->clusters[f->cfg->dst];
    f->sa = f->src->alias;
    f->da = f->dst->alias;
    f->pol = &m->pol;
    f->tag_hb = TAG_HEARTBEAT;
    f->tag_ck = TAG_CHECKPOINT;
    mm_policy_offset_syncs_topic(&m->pol, f->cfg->syncs_on_target ? f->sa : f->da,
                                 f->syncs_topic, sizeof f->syncs_topic);
    mm_policy_checkpoints_topic(&m->pol, f->sa, f->ckpt_topic, sizeof f->ckpt_topic);
    f->cons = client_new(f, 'c', err, cap);
    f->prod = f->cons ? client_new(f, 'p', err, cap) : NULL;
    f->sprod = f->prod
                   ? (f->cfg->syncs_on_target ? f->prod : client_new(f, 's', err, cap))
                   : NULL;
    if (!f->sprod) {
      mm_mirror_free(m);
      return -1;
    }
    f->cq = rd_kafka_queue_get_consumer(f->cons);
  }
  *out = m;
  return 0;
}

static void flow_free(mm_flow *f) {
  if (f->prod) {
    /* Records still queued hold consumer messages: purge them so their
     * delivery reports release those before the consumer goes. */
    rd_kafka_purge(f->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(f->prod, 5000);
  }
  if (f->cq)
    rd_kafka_queue_destroy(f->cq);
  for (size_t i = 0; i < f->ntopics; i++) {
    if (f->topics[i]->rkt)
      rd_kafka_topic_destroy(f->topics[i]->rkt);
    if (f->topics[i]->src_rkt)
      rd_kafka_topic_destroy(f->topics[i]->src_rkt);
  }
  if (f->sprod && f->sprod != f->prod)
    rd_kafka_destroy(f->sprod);
  if (f->prod)
    rd_kafka_destroy(f->prod);
  if (f->cons)
    rd_kafka_destroy(f->cons);
  for (size_t i = 0; i < f->ntopics; i++) {
    mm_topic *t = f->topics[i];
    for (int32_t j = 0; j < t->nparts; j++) {
      free(t->parts[j]->q);
      free(t->parts[j]);
    }
    free(t->parts);
    free(t->name);
    free(t->remote);
    free(t);
  }
  free(f->topics);
  for (size_t i = 0; i < f->nloaded; i++)
    free(f->loaded[i].topic);
  free(f->loaded);
  for (size_t i = 0; i < f->nseen; i++)
    free(f->seen[i].group);
  free(f->seen);
}

void mm_mirror_free(mm_mirror *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->nflows; i++)
    flow_free(&m->flows[i]);
  free(m->flows);
  free(m);
}

static int flow_start(mm_flow *f) {
  rd_kafka_t *srk = f->cfg->syncs_on_target ? f->prod : f->cons;
  const char *salias = f->cfg->syncs_on_target ? f->da : f->sa;
  if (ensure_internal(f, srk, salias, f->syncs_topic) != 0)
    return -1;
  if (f->cfg->emit_heartbeats && f->cfg->heartbeats_ms > 0 &&
      ensure_internal(f, f->prod, f->da, MM_HEARTBEATS_TOPIC) != 0)
    return -1;
  if (f->cfg->emit_checkpoints && f->cfg->checkpoints_ms > 0 &&
      ensure_internal(f, f->prod, f->da, f->ckpt_topic) != 0)
    return -1;
  if (load_syncs(f) != 0)
    return -1;
  {
    /* Warm the sync producer's metadata: its first sync must not wait for
     * a lazy lookup while the window fills. */
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(f->sprod, f->syncs_topic, NULL);
    metadata_warm(f->sprod, rkt);
    if (rkt)
      rd_kafka_topic_destroy(rkt);
  }
  mm_log("info", "flow.started", "flow=%s->%s policy=%s syncs=%s@%s", f->sa, f->da,
         f->pol->identity ? "identity" : "default", f->syncs_topic, salias);
  refresh_topics(f);
  int64_t now = mm_mono_ms();
  f->t_refresh = now + (f->cfg->refresh_topics ? f->cfg->refresh_topics_ms : -1);
  f->t_heartbeat = now;
  f->t_checkpoint = now + (f->cfg->checkpoints_ms > 0 ? f->cfg->checkpoints_ms : 0);
  f->t_groupsync = now + (f->cfg->sync_groups_ms > 0 ? f->cfg->sync_groups_ms : 0);
  f->t_configs = now + (f->cfg->sync_configs_ms > 0 ? f->cfg->sync_configs_ms : 0);
  return 0;
}

static bool topics_pending(const mm_flow *f) {
  for (size_t i = 0; i < f->ntopics; i++)
    if (f->topics[i]->state != T_READY)
      return true;
  return false;
}

static void flow_tick(mm_flow *f, int timeout_ms) {
  rd_kafka_message_t *batch[MM_POLL_BATCH_MSGS];
  for (int round = 0; round < MM_POLL_ROUNDS; round++) {
    /* Never wait for a full batch (consume_batch_queue blocks until it has
     * one or times out): take what is queued, and block only when nothing
     * is, for the first message. */
    ssize_t n = rd_kafka_consume_batch_queue(f->cq, 0, batch, MM_POLL_BATCH_MSGS);
    if (n <= 0 && round == 0) {
      batch[0] = rd_kafka_consumer_poll(f->cons, timeout_ms);
      n = batch[0] ? 1 : 0;
    }
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      if (!handle_record(f, batch[i]))
        rd_kafka_message_destroy(batch[i]);
    rd_kafka_poll(f->prod, 0);
  }
  rd_kafka_poll(f->prod, 0);
  if (f->sprod != f->prod)
    rd_kafka_poll(f->sprod, 0);
  partitions_tick(f, false);
  int64_t now = mm_mono_ms();
  if ((f->cfg->refresh_topics && f->cfg->refresh_topics_ms > 0 && now >= f->t_refresh) ||
      (topics_pending(f) &&
       now >= f->t_refresh - f->cfg->refresh_topics_ms + MM_RETRY_MS)) {
    refresh_topics(f);
    f->t_refresh =
        mm_mono_ms() +
        (f->cfg->refresh_topics_ms > 0 ? f->cfg->refresh_topics_ms : MM_RETRY_MS);
  }
  if (f->cfg->sync_topic_configs && f->cfg->sync_configs_ms > 0 && now >= f->t_configs) {
    configs_tick(f);
    f->t_configs = mm_mono_ms() + f->cfg->sync_configs_ms;
  }
  if (f->cfg->emit_heartbeats && f->cfg->heartbeats_ms > 0 && now >= f->t_heartbeat) {
    emit_heartbeat(f);
    f->t_heartbeat = now + f->cfg->heartbeats_ms;
  }
  if (f->cfg->emit_checkpoints && f->cfg->checkpoints_ms > 0 && now >= f->t_checkpoint) {
    bool sync =
        f->cfg->sync_group_offsets && f->cfg->sync_groups_ms > 0 && now >= f->t_groupsync;
    checkpoints_tick(f, sync);
    f->t_checkpoint = mm_mono_ms() + f->cfg->checkpoints_ms;
    if (sync)
      f->t_groupsync = mm_mono_ms() + f->cfg->sync_groups_ms;
  }
}

void mm_mirror_set_lock(mm_mirror *m, pthread_mutex_t *lock) {
  m->lock = lock;
}

int mm_mirror_run(mm_mirror *m, volatile sig_atomic_t *stop) {
  for (size_t i = 0; i < m->nflows; i++)
    if (flow_start(&m->flows[i]) != 0)
      return -1;
  int rc = 0;
  while (!*stop) {
    for (size_t i = 0; i < m->nflows; i++) {
      mm_flow *f = &m->flows[i];
      if (m->lock)
        pthread_mutex_lock(m->lock);
      flow_tick(f, m->nflows == 1 ? 50 : 10);
      if (m->lock) {
        pthread_mutex_unlock(m->lock);
        /* A mutex is not fair: relocking at once would starve a waiting
         * scrape for seconds.  Give way until it has rendered. */
        while (atomic_load(&m->scrapes_waiting) > 0) {
          struct timespec ts = {0, 100 * 1000};
          nanosleep(&ts, NULL);
        }
      }
      if (f->fatal)
        rc = -1;
    }
    if (rc != 0)
      break;
  }
  /* Orderly stop: deliver what is queued, then record it in syncs. */
  for (size_t i = 0; i < m->nflows; i++) {
    mm_flow *f = &m->flows[i];
    rd_kafka_flush(f->prod, 30000);
    partitions_tick(f, true);
    rd_kafka_flush(f->sprod, 30000);
    rd_kafka_consumer_close(f->cons);
    mm_log("info", "flow.stopped", "flow=%s->%s", f->sa, f->da);
  }
  return rc;
}

/* ---- metrics ---- */

static int metrics_render(mm_mirror *m, sl_buf *b);

static void mline(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mline(sl_buf *b, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0)
    sl_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

int mm_mirror_metrics(mm_mirror *m, sl_buf *b) {
  atomic_fetch_add(&m->scrapes_waiting, 1);
  if (m->lock)
    pthread_mutex_lock(m->lock);
  atomic_fetch_sub(&m->scrapes_waiting, 1);
  int rc = metrics_render(m, b);
  if (m->lock)
    pthread_mutex_unlock(m->lock);
  return rc;
}

static int metrics_render(mm_mirror *m, sl_buf *b) {
  static const char *const pfams[][3] = {
      {"seglog_mirror_records_total", "counter",
       "Records replicated (acknowledged by the target)"},
      {"seglog_mirror_bytes_total", "counter", "Key and value bytes replicated"},
      {"seglog_mirror_skipped_total", "counter",
       "Records not copied because their path header names the target"},
      {"seglog_mirror_partition_errors_total", "counter", "Produce and delivery errors"},
      {"seglog_mirror_lag_records", "gauge",
       "Source high watermark minus the next offset to replicate"},
      {"seglog_mirror_acked_offset", "gauge",
       "Last source offset acknowledged by the target"},
      {"seglog_mirror_synced_offset", "gauge",
       "Last source offset recorded durably in offset-syncs"},
      {"seglog_mirror_rewinds_total", "counter",
       "Times the partition was paused and rewound (window full or errors)"},
  };
  for (size_t fam = 0; fam < sizeof pfams / sizeof pfams[0]; fam++) {
    mline(b, "# HELP %s %s\n# TYPE %s %s\n", pfams[fam][0], pfams[fam][2], pfams[fam][0],
          pfams[fam][1]);
    for (size_t i = 0; i < m->nflows; i++) {
      mm_flow *f = &m->flows[i];
      for (size_t ti = 0; ti < f->ntopics; ti++) {
        mm_topic *t = f->topics[ti];
        for (int32_t j = 0; j < t->nparts; j++) {
          mm_part *p = t->parts[j];
          double v = 0;
          if (fam == 0)
            v = (double)p->records;
          else if (fam == 1)
            v = (double)p->bytes;
          else if (fam == 2)
            v = (double)p->skipped;
          else if (fam == 3)
            v = (double)p->errors;
          else if (fam == 4) {
            int64_t lo = 0, hi = 0;
            rd_kafka_get_watermark_offsets(f->cons, t->name, p->id, &lo, &hi);
            int64_t pos = p->acked + 1;
            v = hi > pos ? (double)(hi - pos) : 0;
          } else if (fam == 5)
            v = (double)p->acked;
          else if (fam == 6)
            v = (double)p->durable;
          else
            v = (double)p->pauses;
          mline(b, "%s{source=\"%s\",target=\"%s\",topic=\"%s\",partition=\"%d\"} %.0f\n",
                pfams[fam][0], f->sa, f->da, t->name, p->id, v);
        }
      }
    }
  }
  static const char *const ffams[][2] = {
      {"seglog_mirror_errors_total", "Errors by kind"},
  };
  mline(b, "# HELP %s %s\n# TYPE %s counter\n", ffams[0][0], ffams[0][1], ffams[0][0]);
  for (size_t i = 0; i < m->nflows; i++) {
    mm_flow *f = &m->flows[i];
    const char *kinds[] = {"produce", "consume", "admin", "sync"};
    uint64_t vals[] = {f->err_produce, f->err_consume, f->err_admin, f->err_sync};
    for (size_t k = 0; k < 4; k++)
      mline(b,
            "seglog_mirror_errors_total{source=\"%s\",target=\"%s\",kind=\"%s\"} %llu\n",
            f->sa, f->da, kinds[k], (unsigned long long)vals[k]);
  }
  mline(b,
        "# HELP seglog_mirror_events_total Heartbeats, checkpoints, group syncs, topics "
        "created and topic configs synced\n# TYPE seglog_mirror_events_total counter\n");
  for (size_t i = 0; i < m->nflows; i++) {
    mm_flow *f = &m->flows[i];
    const char *kinds[] = {"heartbeat", "checkpoint", "group_sync", "topic_created",
                           "topic_configs_synced"};
    uint64_t vals[] = {f->heartbeats, f->checkpoints, f->groups_synced, f->topics_created,
                       f->configs_synced};
    for (size_t k = 0; k < 5; k++)
      mline(b,
            "seglog_mirror_events_total{source=\"%s\",target=\"%s\",kind=\"%s\"} %llu\n",
            f->sa, f->da, kinds[k], (unsigned long long)vals[k]);
  }
  mline(b, "# HELP seglog_mirror_latency_ms Source record timestamp to target "
           "acknowledgement\n"
           "# TYPE seglog_mirror_latency_ms histogram\n");
  for (size_t i = 0; i < m->nflows; i++) {
    mm_flow *f = &m->flows[i];
    uint64_t cum = 0;
    for (size_t k = 0; k < MM_LAT_BUCKETS; k++) {
      cum += f->lat_buckets[k];
      if (k < MM_LAT_BUCKETS - 1)
        mline(b,
              "seglog_mirror_latency_ms_bucket{source=\"%s\",target=\"%s\",le=\"%g\"} "
              "%llu\n",
              f->sa, f->da, lat_bounds_ms[k], (unsigned long long)cum);
      else
        mline(b,
              "seglog_mirror_latency_ms_bucket{source=\"%s\",target=\"%s\",le=\"+Inf\"} "
              "%llu\n",
              f->sa, f->da, (unsigned long long)cum);
    }
    mline(b, "seglog_mirror_latency_ms_sum{source=\"%s\",target=\"%s\"} %.0f\n", f->sa,
          f->da, f->lat_sum_ms);
    mline(b, "seglog_mirror_latency_ms_count{source=\"%s\",target=\"%s\"} %llu\n", f->sa,
          f->da, (unsigned long long)f->lat_count);
  }
  return b->err;
}
