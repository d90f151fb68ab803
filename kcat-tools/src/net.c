/*
 * net.c - seglog's network mode through librdkafka (net.h; docs/CLI.md,
 * "Network mode"): a consumer that assigns partitions itself (no group) with
 * kcat's start offsets and pinned ends, a producer with librdkafka's
 * murmur2_random partitioner (Java's placement for keys) that reports every
 * failed delivery, and metadata / ListOffsets queries for topics and offsets.
 * Built only when librdkafka is found (SEGLOG_HAVE_RDKAFKA).
 */
#include "net.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef SEGLOG_HAVE_RDKAFKA

static int unavailable(void) {
  cli_err("network mode (-b) is not available: this seglog was built without librdkafka");
  return CLI_USAGE;
}
int net_consume(const net_consume_args *a, net_emit_fn emit, void *ctx) {
  (void)a;
  (void)emit;
  (void)ctx;
  return unavailable();
}
int net_producer_new(const net_conf *conf, const char *codec, net_producer **out) {
  (void)conf;
  (void)codec;
  *out = NULL;
  return unavailable();
}
int net_producer_send(net_producer *np, const char *topic, int32_t partition,
                      const uint8_t *key, int32_t key_len, const uint8_t *value,
                      int32_t value_len, const sl_header *headers, int32_t nh,
                      int64_t ts) {
  return CLI_USAGE;
}
int net_producer_close(net_producer *np) {
  return CLI_USAGE;
}
int net_topics(const net_conf *conf, const char *topic, bool describe) {
  return unavailable();
}
int net_offsets(const net_conf *conf, const char *topic, int64_t partition, bool has_time,
                int64_t ts) {
  return unavailable();
}
int net_topic_create(const net_conf *conf, const char *topic, int32_t partitions,
                     int32_t replication, const char **configs, int nconfigs) {
  return unavailable();
}
int net_topic_delete(const net_conf *conf, const char *topic) {
  return unavailable();
}
int net_mock_cluster(int brokers, const char **topics, int ntopics) {
  (void)topics;
  (void)ntopics;
  return unavailable();
}
int net_perf_produce(const net_conf *conf, const char *topic, int64_t num_records,
                     int32_t record_size, int64_t throughput) {
  return unavailable();
}
int net_perf_consume(const net_conf *conf, const char *topic, int64_t num_records) {
  return unavailable();
}

#else

#include <librdkafka/rdkafka.h>

#define NET_TIMEOUT_MS 10000

static rd_kafka_conf_t *make_conf(const net_conf *nc, const char *const *defaults) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", nc->brokers, errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK)
    goto bad;
  rd_kafka_conf_set(conf, "client.id", "seglog", errstr, sizeof(errstr));
  for (const char *const *d = defaults; d && *d; d += 2)
    if (rd_kafka_conf_set(conf, d[0], d[1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
      goto bad;
  for (int i = 0; i < nc->nprops; i++) {
    char key[256];
    const char *eq = strchr(nc->props[i], '=');
    if (!eq || (size_t)(eq - nc->props[i]) >= sizeof(key)) {
      cli_err("-X wants key=value, got '%s'", nc->props[i]);
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
    memcpy(key, nc->props[i], (size_t)(eq - nc->props[i]));
    key[eq - nc->props[i]] = 0;
    if (rd_kafka_conf_set(conf, key, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
      goto bad;
  }
  return conf;
bad:
  cli_err("configuration: %s", errstr);
  rd_kafka_conf_destroy(conf);
  return NULL;
}

/* Partition ids of a topic (sorted as the broker lists them). */
static int topic_partitions(rd_kafka_t *rk, const char *topic, int32_t **ids, int *n) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, NET_TIMEOUT_MS);
  int rc = CLI_OK;
  *ids = NULL;
  *n = 0;
  if (err) {
    cli_err("metadata for %s: %s", topic, rd_kafka_err2str(err));
    rc = CLI_ERROR;
  } else if (md->topic_cnt != 1 || md->topics[0].err ||
             md->topics[0].partition_cnt == 0) {
    cli_err("no topic '%s' on %s%s%s", topic, "the cluster",
            md->topic_cnt == 1 && md->topics[0].err ? ": " : "",
            md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
                                                    : "");
    rc = CLI_ERROR;
  } else {
    *n = md->topics[0].partition_cnt;
    *ids = calloc((size_t)*n, sizeof(**ids));
    if (!*ids) {
      rc = CLI_ERROR;
    } else {
      for (int i = 0; i < *n; i++)
        (*ids)[i] = md->topics[0].partitions[i].id;
    }
  }
  if (md)
    rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return rc;
}

typedef struct net_part {
  int32_t id;
  int64_t end; /* pinned end, -1 none */
  int64_t next;
  bool done;
  bool assigned; /* group mode: currently assigned to us */
} net_part;

/* Group mode state shared with the rebalance callback. */
typedef struct net_group {
  const net_consume_args *a;
  net_part *parts;
  int np;
  int remaining; /* assigned partitions not done yet */
  bool ever_assigned;
} net_group;

static net_part *find_part(net_part *parts, int np, int32_t id) {
  for (int i = 0; i < np; i++)
    if (parts[i].id == id)
      return &parts[i];
  return NULL;
}

/* Eager rebalancing: take the assignment as given; with -e pin each newly
 * assigned partition's end at its high watermark now. */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *list, void *opaque) {
  net_group *g = opaque;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < list->cnt; i++) {
      net_part *p = find_part(g->parts, g->np, list->elems[i].partition);
      if (!p || p->assigned)
        continue;
      p->assigned = true;
      g->ever_assigned = true;
      if (g->a->pin_end && p->end < 0) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, list->elems[i].topic, p->id, &lo, &hi,
                                             NET_TIMEOUT_MS) == 0)
          p->end = hi;
        /* Where the group will start is only known from its committed offset;
         * an empty partition (lo == hi) is done at once. */
        if (p->end >= 0 && lo >= p->end)
          p->done = true;
      }
      if (!p->done)
        g->remaining++;
    }
    rd_kafka_assign(rk, list);
  } else {
    for (int i = 0; i < list->cnt; i++) {
      net_part *p = find_part(g->parts, g->np, list->elems[i].partition);
      if (p && p->assigned) {
        p->assigned = false;
        if (!p->done)
          g->remaining--;
      }
    }
    rd_kafka_assign(rk, NULL);
  }
}

int net_consume(const net_consume_args *a, net_emit_fn emit, void *ctx) {
  static const char *const defaults[] = {"enable.auto.commit",
                                         "false",
                                         "enable.partition.eof",
                                         "true",
                                         "auto.offset.reset",
                                         "earliest",
                                         "group.id",
                                         "seglog-cli",
                                         NULL};
  char errstr[512];
  int rc = CLI_ERROR;
  int32_t *ids = NULL;
  int n = 0;
  net_part *parts = NULL;
  rd_kafka_topic_partition_list_t *list = NULL;
  rd_kafka_conf_t *conf = make_conf(a->conf, defaults);
  net_group grp;
  memset(&grp, 0, sizeof(grp));
  grp.a = a;
  if (!conf)
    return CLI_USAGE;
  if (a->group) {
    /* kcat -G: commit as we go; -o picks where a group without offsets starts. */
    static const char *const gdefaults[] = {"enable.auto.commit", "true", NULL};
    /* Only what was printed is committed: a record read past the pinned end
     * (-e), past -c or after e@TS stays unconsumed for the group. */
    if (rd_kafka_conf_set(conf, "group.id", a->group, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, gdefaults[0], gdefaults[1], errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr,
                          sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "auto.offset.reset",
                          a->start == NET_START_END ? "latest" : "earliest", errstr,
                          sizeof(errstr))) {
      cli_err("configuration: %s", errstr);
      rd_kafka_conf_destroy(conf);
      return CLI_USAGE;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, &grp);
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (!rk) {
    cli_err("consumer: %s", errstr);
    return CLI_ERROR;
  }
  if (topic_partitions(rk, a->topic, &ids, &n))
    goto out;
  parts = calloc((size_t)n, sizeof(*parts));
  list = rd_kafka_topic_partition_list_new(n);
  if (!parts || !list)
    goto out;
  int np = 0;
  if (a->group) {
    for (int i = 0; i < n; i++) {
      parts[i].id = ids[i];
      parts[i].end = -1;
    }
    np = n;
    grp.parts = parts;
    grp.np = np;
    rd_kafka_topic_partition_list_add(list, a->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(rk, list);
    if (serr) {
      cli_err("subscribe %s: %s", a->topic, rd_kafka_err2str(serr));
      goto out;
    }
    goto poll;
  }
  for (int i = 0; i < n; i++) {
    if (a->partition >= 0 && ids[i] != a->partition)
      continue;
    net_part *p = &parts[np++];
    p->id = ids[i];
    p->end = -1;
    int64_t lo = 0, hi = 0;
    if (a->pin_end || a->start == NET_START_ABS || a->start == NET_START_REL) {
      rd_kafka_resp_err_t err =
          rd_kafka_query_watermark_offsets(rk, a->topic, p->id, &lo, &hi, NET_TIMEOUT_MS);
      if (err) {
        cli_err("offsets of %s-%d: %s", a->topic, (int)p->id, rd_kafka_err2str(err));
        goto out;
      }
    }
    int64_t start;
    switch (a->start) {
    case NET_START_END:
      start = RD_KAFKA_OFFSET_END;
      p->next = hi;
      break;
    case NET_START_ABS:
      start = a->start_value < lo ? lo : a->start_value;
      p->next = start;
      break;
    case NET_START_REL:
      start = hi - a->start_value < lo ? lo : hi - a->start_value;
      p->next = start;
      break;
    case NET_START_TIME:
      start = a->start_value;
      p->next = 0;
      break;
    default:
      start = RD_KAFKA_OFFSET_BEGINNING;
      p->next = lo;
      break;
    }
    rd_kafka_topic_partition_list_add(list, a->topic, p->id)->offset = start;
    if (a->pin_end)
      p->end = hi;
  }
  if (np == 0) {
    cli_err("topic %s has no partition %lld", a->topic, (long long)a->partition);
    goto out;
  }
  if (a->start == NET_START_TIME) {
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, NET_TIMEOUT_MS);
    if (err) {
      cli_err("offsets for time: %s", rd_kafka_err2str(err));
      goto out;
    }
    for (int i = 0; i < list->cnt; i++) {
      if (list->elems[i].offset < 0)
        list->elems[i].offset = RD_KAFKA_OFFSET_END;
      parts[i].next = list->elems[i].offset < 0 ? INT64_MAX : list->elems[i].offset;
    }
  }
  int remaining = np;
  for (int i = 0; i < np; i++) {
    parts[i].assigned = true;
    if (parts[i].end >= 0 &&
        (a->start == NET_START_END || parts[i].next >= parts[i].end)) {
      parts[i].done = true;
      remaining--;
    }
  }
  rd_kafka_resp_err_t aerr = rd_kafka_assign(rk, list);
  if (aerr) {
    cli_err("assign: %s", rd_kafka_err2str(aerr));
    goto out;
  }
  grp.remaining = remaining;
  grp.ever_assigned = true;
poll:;
  int64_t printed = 0;
  rc = CLI_OK;
  /* With a group, -e ends once every assigned partition reached its end. */
  while (rc == CLI_OK &&
         (a->group ? !(a->pin_end && grp.ever_assigned && grp.remaining <= 0)
                   : grp.remaining > 0)) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
    if (!m)
      continue;
    net_part *p = find_part(parts, np, m->partition);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (p && !p->done && p->end >= 0 && m->offset >= p->end) {
        p->done = true;
        grp.remaining--;
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err) {
      cli_err("consume %s: %s", a->topic, rd_kafka_message_errstr(m));
      rc = CLI_ERROR;
      rd_kafka_message_destroy(m);
      break;
    }
    if (!p || p->done) {
      rd_kafka_message_destroy(m);
      continue;
    }
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    bool stop =
        (p->end >= 0 && m->offset >= p->end) || (a->stop_ts >= 0 && ts >= a->stop_ts);
    if (!stop) {
      sc_record r;
      sl_header hbuf[64];
      sc_record_init(&r);
      r.topic = a->topic;
      r.topic_len = strlen(a->topic);
      r.partition = m->partition;
      r.offset = m->offset;
      r.timestamp = ts;
      r.tstype = tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? SC_TSTYPE_CREATE
                 : tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? SC_TSTYPE_LOGAPPEND
                                                                : SC_TSTYPE_NONE;
      r.broker = rd_kafka_message_broker_id(m);
      r.key = m->key;
      r.key_len = m->key ? (int32_t)m->key_len : -1;
      r.value = m->payload;
      r.value_len = m->payload ? (int32_t)m->len : -1;
      rd_kafka_headers_t *hdrs = NULL;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t cnt = rd_kafka_header_cnt(hdrs);
        for (size_t i = 0; i < cnt && i < 64; i++) {
          const char *name;
          const void *val;
          size_t size;
          if (rd_kafka_header_get_all(hdrs, i, &name, &val, &size))
            break;
          hbuf[i].key = (const uint8_t *)name;
          hbuf[i].key_len = (int32_t)strlen(name);
          hbuf[i].value = val;
          hbuf[i].value_len = val ? (int32_t)size : -1;
          r.header_count = (int32_t)i + 1;
        }
        r.headers = hbuf;
      }
      rc = emit(ctx, &r);
      if (rc == CLI_OK && a->group)
        rd_kafka_offset_store(m->rkt, m->partition, m->offset); /* commits offset+1 */
      printed++;
      p->next = m->offset + 1;
      if (a->count >= 0 && printed >= a->count) {
        rd_kafka_message_destroy(m);
        break;
      }
    }
    if (stop || (p->end >= 0 && p->next >= p->end)) {
      p->done = true;
      grp.remaining--;
    }
    rd_kafka_message_destroy(m);
  }
out:
  /* Close first: leaving the group calls rebalance_cb, which uses parts. */
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (list)
    rd_kafka_topic_partition_list_destroy(list);
  free(parts);
  free(ids);
  return rc;
}

struct net_producer {
  rd_kafka_t *rk;
  int64_t failed;
  char first_error[256];
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  net_producer *np = opaque;
  (void)rk;
  if (m->err) {
    if (np->failed == 0)
      snprintf(np->first_error, sizeof(np->first_error), "%s", rd_kafka_err2str(m->err));
    np->failed++;
  }
}

int net_producer_new(const net_conf *nc, const char *codec, net_producer **out) {
  static const char *const defaults[] = {"partitioner", "murmur2_random", NULL};
  char errstr[512];
  net_producer *np = calloc(1, sizeof(*np));
  *out = NULL;
  if (!np)
    return CLI_ERROR;
  rd_kafka_conf_t *conf = make_conf(nc, defaults);
  if (!conf) {
    free(np);
    return CLI_USAGE;
  }
  if (codec && rd_kafka_conf_set(conf, "compression.codec", codec, errstr,
                                 sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    cli_err("-z %s: %s", codec, errstr);
    rd_kafka_conf_destroy(conf);
    free(np);
    return CLI_USAGE;
  }
  rd_kafka_conf_set_opaque(conf, np);
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  np->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!np->rk) {
    cli_err("producer: %s", errstr);
    free(np);
    return CLI_ERROR;
  }
  *out = np;
  return CLI_OK;
}

int net_producer_send(net_producer *np, const char *topic, int32_t partition,
                      const uint8_t *key, int32_t key_len, const uint8_t *value,
                      int32_t value_len, const sl_header *headers, int32_t nh,
                      int64_t ts) {
  rd_kafka_headers_t *hdrs = NULL;
  if (nh > 0) {
    hdrs = rd_kafka_headers_new((size_t)nh);
    for (int32_t i = 0; i < nh; i++)
      rd_kafka_header_add(hdrs, (const char *)headers[i].key, headers[i].key_len,
                          headers[i].value_len >= 0
                              ? (headers[i].value ? (const void *)headers[i].value : "")
                              : NULL,
                          headers[i].value_len >= 0 ? headers[i].value_len : 0);
  }
  const void *kp = key_len >= 0 ? (key ? (const void *)key : "") : NULL;
  size_t kl = key_len >= 0 ? (size_t)key_len : 0;
  void *vp = value_len >= 0 ? (value ? (void *)(uintptr_t)value : (void *)"") : NULL;
  size_t vl = value_len >= 0 ? (size_t)value_len : 0;
  int32_t part = partition >= 0 ? partition : RD_KAFKA_PARTITION_UA;
  int64_t tsv = ts > 0 ? ts : 0;
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        np->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(kp, kl),
        RD_KAFKA_V_VALUE(vp, vl), RD_KAFKA_V_TIMESTAMP(tsv), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(np->rk, 5);
      continue;
    }
    if (err) {
      if (hdrs)
        rd_kafka_headers_destroy(hdrs);
      cli_err("produce to %s: %s", topic, rd_kafka_err2str(err));
      return CLI_ERROR;
    }
    break;
  }
  rd_kafka_poll(np->rk, 0);
  return CLI_OK;
}

int net_producer_close(net_producer *np) {
  if (!np)
    return CLI_OK;
  int rc = CLI_OK;
  rd_kafka_resp_err_t err = rd_kafka_flush(np->rk, 60000);
  if (err) {
    cli_err("flush: %s (%d messages not delivered)", rd_kafka_err2str(err),
            rd_kafka_outq_len(np->rk));
    rc = CLI_ERROR;
  }
  if (np->failed > 0) {
    cli_err("%lld records were not delivered (first error: %s)", (long long)np->failed,
            np->first_error);
    rc = CLI_ERROR;
  }
  rd_kafka_destroy(np->rk);
  free(np);
  return rc;
}

rd_kafka_t *net_admin_client(const net_conf *nc) {
  char errstr[512];
  rd_kafka_conf_t *conf = make_conf(nc, NULL);
  if (!conf)
    return NULL;
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk)
    cli_err("client: %s", errstr);
  return rk;
}

int net_topics(const net_conf *nc, const char *topic, bool describe) {
  rd_kafka_t *rk = net_admin_client(nc);
  if (!rk)
    return CLI_ERROR;
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, rkt ? 0 : 1, rkt, &md, NET_TIMEOUT_MS);
  int rc = CLI_OK;
  if (err) {
    cli_err("metadata: %s", rd_kafka_err2str(err));
    rc = CLI_ERROR;
    goto out;
  }
  if (describe)
    cli_out_printf("%-24s %9s %7s %12s %12s %-12s %-12s\n", "TOPIC", "PARTITION",
                   "LEADER", "START", "END", "REPLICAS", "ISR");
  for (int t = 0; t < md->topic_cnt && rc == CLI_OK; t++) {
    const rd_kafka_metadata_topic_t *mt = &md->topics[t];
    if (mt->err) {
      cli_err("%s: %s", mt->topic, rd_kafka_err2str(mt->err));
      rc = CLI_ERROR;
      break;
    }
    if (!describe) {
      cli_out_printf("%s\t%d partition%s\n", mt->topic, mt->partition_cnt,
                     mt->partition_cnt == 1 ? "" : "s");
      continue;
    }
    for (int i = 0; i < mt->partition_cnt; i++) {
      const rd_kafka_metadata_partition_t *mp = &mt->partitions[i];
      int64_t lo = -1, hi = -1;
      rd_kafka_query_watermark_offsets(rk, mt->topic, mp->id, &lo, &hi, NET_TIMEOUT_MS);
      char reps[128] = "", isrs[128] = "";
      size_t o = 0;
      for (int k = 0; k < mp->replica_cnt && o < sizeof(reps) - 12; k++)
        o += (size_t)snprintf(reps + o, sizeof(reps) - o, "%s%d", k ? "," : "",
                              (int)mp->replicas[k]);
      o = 0;
      for (int k = 0; k < mp->isr_cnt && o < sizeof(isrs) - 12; k++)
        o += (size_t)snprintf(isrs + o, sizeof(isrs) - o, "%s%d", k ? "," : "",
                              (int)mp->isrs[k]);
      cli_out_printf("%-24s %9d %7d %12" PRId64 " %12" PRId64 " %-12s %-12s\n", mt->topic,
                     (int)mp->id, (int)mp->leader, lo, hi, reps, isrs);
    }
  }
out:
  if (md)
    rd_kafka_metadata_destroy(md);
  if (rkt)
    rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return rc;
}

int net_offsets(const net_conf *nc, const char *topic, int64_t partition, bool has_time,
                int64_t ts) {
  rd_kafka_t *rk = net_admin_client(nc);
  int32_t *ids = NULL;
  int n = 0;
  int rc = CLI_ERROR;
  if (!rk)
    return CLI_ERROR;
  if (topic_partitions(rk, topic, &ids, &n))
    goto out;
  rc = CLI_OK;
  if (!has_time)
    cli_out_printf("%-24s %9s %12s %12s\n", "TOPIC", "PARTITION", "EARLIEST", "LATEST");
  bool any = false;
  for (int i = 0; i < n && rc == CLI_OK; i++) {
    if (partition >= 0 && ids[i] != partition)
      continue;
    any = true;
    int64_t lo = -1, hi = -1, off = -1;
    rd_kafka_resp_err_t err;
    if (!has_time || ts < 0) {
      err = rd_kafka_query_watermark_offsets(rk, topic, ids[i], &lo, &hi, NET_TIMEOUT_MS);
      off = ts == SL_LIST_EARLIEST ? lo : hi;
    } else {
      rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(l, topic, ids[i])->offset = ts;
      err = rd_kafka_offsets_for_times(rk, l, NET_TIMEOUT_MS);
      if (!err)
        err = l->elems[0].err;
      off = l->elems[0].offset < 0 ? -1 : l->elems[0].offset;
      rd_kafka_topic_partition_list_destroy(l);
    }
    if (err) {
      cli_err("offsets of %s-%d: %s", topic, (int)ids[i], rd_kafka_err2str(err));
      rc = CLI_ERROR;
    } else if (!has_time) {
      cli_out_printf("%-24s %9d %12" PRId64 " %12" PRId64 "\n", topic, (int)ids[i], lo,
                     hi);
    } else {
      cli_out_printf("%s:%d:%" PRId64 "\n", topic, (int)ids[i], off);
    }
  }
  if (!any) {
    cli_err("topic %s has no partition %lld", topic, (long long)partition);
    rc = CLI_ERROR;
  }
out:
  free(ids);
  rd_kafka_destroy(rk);
  return rc;
}

#include <time.h>

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct perf_state {
  int64_t *sent_us; /* per record: when it was produced */
  int32_t *lat_ms;  /* per delivered record */
  int64_t delivered;
  int64_t failed;
  char first_error[256];
} perf_state;

static void perf_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  perf_state *ps = opaque;
  (void)rk;
  if (m->err) {
    if (ps->failed++ == 0)
      snprintf(ps->first_error, sizeof(ps->first_error), "%s", rd_kafka_err2str(m->err));
    return;
  }
  int64_t idx = (int64_t)(intptr_t)m->_private;
  ps->lat_ms[ps->delivered++] = (int32_t)((mono_us() - ps->sent_us[idx]) / 1000);
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

int net_perf_produce(const net_conf *nc, const char *topic, int64_t n, int32_t size,
                     int64_t throughput) {
  char errstr[512];
  perf_state ps;
  memset(&ps, 0, sizeof(ps));
  ps.sent_us = calloc((size_t)n, sizeof(*ps.sent_us));
  ps.lat_ms = calloc((size_t)n, sizeof(*ps.lat_ms));
  uint8_t *payload = malloc((size_t)size + 1);
  int rc = CLI_ERROR;
  rd_kafka_t *rk = NULL;
  if (!ps.sent_us || !ps.lat_ms || !payload)
    goto out;
  for (int32_t i = 0; i < size; i++)
    payload[i] = (uint8_t)('A' + i % 26); /* as the Java tool: printable letters */
  rd_kafka_conf_t *conf = make_conf(nc, NULL);
  if (!conf) {
    rc = CLI_USAGE;
    goto out;
  }
  rd_kafka_conf_set_opaque(conf, &ps);
  rd_kafka_conf_set_dr_msg_cb(conf, perf_dr_cb);
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    cli_err("producer: %s", errstr);
    goto out;
  }
  int64_t start = mono_us();
  for (int64_t i = 0; i < n; i++) {
    if (throughput > 0) { /* throttle to `throughput` records/s */
      int64_t due = start + i * 1000000 / throughput;
      while (mono_us() < due)
        rd_kafka_poll(rk, 1);
    }
    ps.sent_us[i] = mono_us();
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, (size_t)size),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 5);
        continue;
      }
      if (err) {
        cli_err("produce: %s", rd_kafka_err2str(err));
        goto out;
      }
      break;
    }
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 60000);
  double secs = (double)(mono_us() - start) / 1e6;
  if (ps.failed)
    cli_err("%lld records failed (first error: %s)", (long long)ps.failed,
            ps.first_error);
  int64_t d = ps.delivered;
  double avg = 0;
  int32_t max = 0;
  for (int64_t i = 0; i < d; i++) {
    avg += ps.lat_ms[i];
    if (ps.lat_ms[i] > max)
      max = ps.lat_ms[i];
  }
  avg = d ? avg / (double)d : 0;
  qsort(ps.lat_ms, (size_t)d, sizeof(*ps.lat_ms), cmp_i32);
#define PCT(p) (d ? ps.lat_ms[(int64_t)((double)d * (p))] : 0)
  cli_out_printf(
      "%lld records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, "
      "%.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
      (long long)d, (double)d / secs, (double)d * size / secs / (1024 * 1024), avg,
      (double)max, PCT(0.5), PCT(0.95), PCT(0.99), PCT(0.999));
#undef PCT
  rc = ps.failed ? CLI_ERROR : CLI_OK;
out:
  if (rk)
    rd_kafka_destroy(rk);
  free(payload);
  free(ps.sent_us);
  free(ps.lat_ms);
  return rc;
}

static void wall_time(char *buf, size_t cap) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  time_t t = ts.tv_sec;
  localtime_r(&t, &tm);
  snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d:%03d", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           (int)(ts.tv_nsec / 1000000));
}

int net_perf_consume(const net_conf *nc, const char *topic, int64_t n) {
  static const char *const defaults[] = {
      "enable.auto.commit", "false", "auto.offset.reset", "earliest", "group.id",
      "seglog-perf",        NULL};
  char errstr[512], t0[40], t1[40];
  rd_kafka_conf_t *conf = make_conf(nc, defaults);
  if (!conf)
    return CLI_USAGE;
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (!rk) {
    cli_err("consumer: %s", errstr);
    return CLI_ERROR;
  }
  int rc = CLI_OK;
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA);
  wall_time(t0, sizeof(t0));
  int64_t start = mono_us(), first = -1, last = start, count = 0, bytes = 0;
  if (rd_kafka_subscribe(rk, list)) {
    cli_err("subscribe %s failed", topic);
    rc = CLI_ERROR;
  }
  int64_t idle_since = mono_us();
  while (rc == CLI_OK && count < n) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m) {
      if (mono_us() - idle_since > 10000000) { /* as the Java tool's --timeout */
        cli_err("no records for 10 s; consumed %lld of %lld", (long long)count,
                (long long)n);
        rc = CLI_ERROR;
      }
      continue;
    }
    idle_since = mono_us();
    if (!m->err) {
      if (first < 0)
        first = mono_us();
      count++;
      bytes += (int64_t)m->len;
      last = mono_us();
    }
    rd_kafka_message_destroy(m);
  }
  wall_time(t1, sizeof(t1));
  double secs = (double)(last - start) / 1e6, mb = (double)bytes / (1024 * 1024);
  double fetch_secs = first >= 0 ? (double)(last - first) / 1e6 : 0;
  if (secs <= 0)
    secs = 1e-6;
  if (fetch_secs <= 0)
    fetch_secs = 1e-6;
  cli_out_str(
      "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, "
      "nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n");
  cli_out_printf("%s, %s, %.4f, %.4f, %lld, %.4f, %lld, %lld, %.4f, %.4f\n", t0, t1, mb,
                 mb / secs, (long long)count, (double)count / secs,
                 (long long)(first >= 0 ? (first - start) / 1000 : 0),
                 (long long)(fetch_secs * 1000), mb / fetch_secs,
                 (double)count / fetch_secs);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return rc;
}

#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

int net_mock_cluster(int brokers, const char **topics, int ntopics) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* This handle only hosts the cluster: no notice about its missing
   * bootstrap.servers. */
  rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    cli_err("mock cluster: %s", errstr);
    return CLI_ERROR;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    cli_err("mock cluster: could not start");
    rd_kafka_destroy(rk);
    return CLI_ERROR;
  }
  for (int i = 0; i < ntopics; i++) {
    char name[256];
    const char *colon = strrchr(topics[i], ':');
    int64_t parts = 0;
    size_t len = colon ? (size_t)(colon - topics[i]) : 0;
    if (!colon || len == 0 || len >= sizeof(name) ||
        cli_parse_i64(colon + 1, 1, 10000, &parts)) {
      cli_err("--topic wants NAME:PARTITIONS, got '%s'", topics[i]);
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return CLI_USAGE;
    }
    memcpy(name, topics[i], len);
    name[len] = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(mc, name, (int)parts, brokers < 3 ? brokers : 3);
    if (err) {
      cli_err("mock topic %s: %s", name, rd_kafka_err2str(err));
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return CLI_ERROR;
    }
  }
  cli_out_printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  int rc = cli_out_flush();
  /* Serve until stdin closes or a signal arrives. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  for (;;) {
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    int pr = poll(&pfd, 1, 200);
    if (pr > 0) {
      char b[256];
      if (read(STDIN_FILENO, b, sizeof(b)) <= 0)
        break;
    }
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT))
      break;
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return rc;
}

/* Waits for one admin result event and reports the topic's error. */
static int admin_wait(rd_kafka_queue_t *q, const char *what, const char *topic,
                      bool create) {
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
  int rc = CLI_OK;
  if (!ev) {
    cli_err("%s %s: timed out", what, topic);
    return CLI_ERROR;
  }
  if (rd_kafka_event_error(ev)) {
    cli_err("%s %s: %s", what, topic, rd_kafka_event_error_string(ev));
    rc = CLI_ERROR;
  } else {
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr =
        create
            ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev),
                                                  &cnt)
            : rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev),
                                                  &cnt);
    for (size_t i = 0; i < cnt; i++) {
      if (rd_kafka_topic_result_error(tr[i])) {
        const char *msg = rd_kafka_topic_result_error_string(tr[i]);
        cli_err("%s %s: %s", what, rd_kafka_topic_result_name(tr[i]),
                msg ? msg : rd_kafka_err2str(rd_kafka_topic_result_error(tr[i])));
        rc = CLI_ERROR;
      }
    }
  }
  rd_kafka_event_destroy(ev);
  return rc;
}

int net_topic_create(const net_conf *nc, const char *topic, int32_t partitions,
                     int32_t replication, const char **configs, int nconfigs) {
  char errstr[512];
  rd_kafka_t *rk = net_admin_client(nc);
  if (!rk)
    return CLI_ERROR;
  int rc = CLI_ERROR;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_NewTopic_t *nt =
      rd_kafka_NewTopic_new(topic, partitions, replication, errstr, sizeof(errstr));
  if (!nt) {
    cli_err("create %s: %s", topic, errstr);
    goto out;
  }
  for (int i = 0; i < nconfigs; i++) {
    char key[256];
    const char *eq = strchr(configs[i], '=');
    if (!eq || (size_t)(eq - configs[i]) >= sizeof(key)) {
      cli_err("--config wants NAME=VALUE, got '%s'", configs[i]);
      rc = CLI_USAGE;
      goto out;
    }
    memcpy(key, configs[i], (size_t)(eq - configs[i]));
    key[eq - configs[i]] = 0;
    rd_kafka_NewTopic_set_config(nt, key, eq + 1);
  }
  rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
  rc = admin_wait(q, "create", topic, true);
out:
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

int net_topic_delete(const net_conf *nc, const char *topic) {
  rd_kafka_t *rk = net_admin_client(nc);
  if (!rk)
    return CLI_ERROR;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
  rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
  int rc = admin_wait(q, "delete", topic, false);
  rd_kafka_DeleteTopic_destroy(dt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

#endif
