/*
 * groups.c - `seglog groups list|describe|reset-offsets|delete` (network
 * mode, as Kafka's kafka-consumer-groups.sh) and `seglog topics alter` (as
 * kafka-configs.sh --alter), through librdkafka's admin API:
 * ListConsumerGroups, DescribeConsumerGroups, ListConsumerGroupOffsets,
 * AlterConsumerGroupOffsets, DeleteGroups, DeleteConsumerGroupOffsets,
 * DescribeConfigs and AlterConfigs; log start/end offsets through ListOffsets
 * (rd_kafka_offsets_for_times with -2/-1).  Which command needs which broker
 * API, the output columns and where we differ from Kafka's tools:
 * docs/CLI.md, "groups" and "topics alter".  Built only when librdkafka is
 * found (SEGLOG_HAVE_RDKAFKA); otherwise the commands say so.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"
#include "seglog/meta.h"

#define GRP_MAX_GROUPS 64
#define GRP_MAX_TOPICS 64
#define GRP_MAX_PROPS 64
#define GRP_MAX_CONFIGS 256

/* --topic T[:P,P,...]: one topic, all partitions (nparts 0) or a list. */
typedef struct grp_topic_spec {
  char topic[256];
  int32_t *parts;
  int nparts;
} grp_topic_spec;

typedef enum {
  GRP_RESET_NONE,
  GRP_RESET_EARLIEST,
  GRP_RESET_LATEST,
  GRP_RESET_OFFSET,
  GRP_RESET_DATETIME,
  GRP_RESET_DURATION,
  GRP_RESET_SHIFT,
  GRP_RESET_CURRENT
} grp_reset_kind;

typedef enum { GRP_VIEW_OFFSETS, GRP_VIEW_MEMBERS, GRP_VIEW_STATE } grp_view;

typedef struct grp_args {
  net_conf conf;
  const char *props[GRP_MAX_PROPS];
  const char *groups[GRP_MAX_GROUPS];
  int ngroups;
  bool all_groups;
  grp_topic_spec topics[GRP_MAX_TOPICS];
  int ntopics;
  bool all_topics;
  grp_view view;
  bool verbose;
  const char *states; /* list --state S[,S] */
  grp_reset_kind reset;
  int64_t reset_value; /* offset, ms timestamp, duration ms or shift */
  bool execute;
} grp_args;

static void grp_args_release(grp_args *a) {
  for (int i = 0; i < a->ntopics; i++)
    free(a->topics[i].parts);
}

/* "T" or "T:0,1,2" */
static int grp_parse_topic(const char *s, grp_topic_spec *out) {
  const char *colon = strchr(s, ':');
  size_t tlen = colon ? (size_t)(colon - s) : strlen(s);
  memset(out, 0, sizeof(*out));
  if (tlen == 0 || tlen >= sizeof(out->topic))
    return -1;
  memcpy(out->topic, s, tlen);
  out->topic[tlen] = 0;
  if (!sl_topic_name_is_valid(out->topic))
    return -1;
  if (!colon)
    return 0;
  const char *p = colon + 1;
  size_t cap = 1;
  for (const char *q = p; *q; q++)
    cap += *q == ',';
  out->parts = calloc(cap, sizeof(*out->parts));
  if (!out->parts)
    return -1;
  while (*p) {
    char num[16];
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    int64_t v;
    if (n == 0 || n >= sizeof(num))
      return -1;
    memcpy(num, p, n);
    num[n] = 0;
    if (cli_parse_i64(num, 0, INT32_MAX, &v))
      return -1;
    out->parts[out->nparts++] = (int32_t)v;
    p += n + (comma ? 1 : 0);
    if (comma && !*p)
      return -1;
  }
  return out->nparts > 0 ? 0 : -1;
}

/* ISO 8601 duration as java.time.Duration.parse takes it: [-]PnDTnHnMn[.n]S
 * (days, hours, minutes, seconds; at least one part).  Milliseconds. */
static int grp_parse_duration(const char *s, int64_t *ms) {
  int64_t total = 0;
  bool neg = false, time_part = false, any = false;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (*s != 'P' && *s != 'p')
    return -1;
  s++;
  while (*s) {
    if (*s == 'T' || *s == 't') {
      if (time_part)
        return -1;
      time_part = true;
      s++;
      continue;
    }
    int64_t whole = 0, frac = 0;
    int fdigits = 0, digits = 0;
    while (*s >= '0' && *s <= '9') {
      if (whole > INT64_MAX / 1000 / 86400 / 10)
        return -1;
      whole = whole * 10 + (*s++ - '0');
      digits++;
    }
    if (*s == '.' || *s == ',') {
      s++;
      while (*s >= '0' && *s <= '9') {
        if (fdigits < 3) {
          frac = frac * 10 + (*s - '0');
          fdigits++;
        }
        s++;
      }
      while (fdigits > 0 && fdigits < 3) {
        frac *= 10;
        fdigits++;
      }
    }
    if (digits == 0)
      return -1;
    int64_t unit;
    switch (*s) {
    case 'D':
    case 'd':
      if (time_part || frac)
        return -1;
      unit = 86400000;
      break;
    case 'H':
    case 'h':
      unit = 3600000;
      break;
    case 'M':
    case 'm':
      unit = 60000;
      break;
    case 'S':
    case 's':
      unit = 1000;
      break;
    default:
      return -1;
    }
    if (unit != 1000 && frac)
      return -1;
    if (unit != 86400000 && !time_part)
      return -1;
    total += whole * unit + frac;
    any = true;
    s++;
  }
  if (!any)
    return -1;
  *ms = neg ? -total : total;
  return 0;
}

#ifndef SEGLOG_HAVE_RDKAFKA

static int grp_unavailable(void) {
  cli_err("network mode (-b) is not available: this seglog was built without librdkafka");
  return CLI_USAGE;
}
static int grp_list(grp_args *a) {
  (void)a;
  return grp_unavailable();
}
static int grp_describe(grp_args *a) {
  (void)a;
  return grp_unavailable();
}
static int grp_reset(grp_args *a) {
  (void)a;
  return grp_unavailable();
}
static int grp_delete(grp_args *a) {
  (void)a;
  return grp_unavailable();
}
static int grp_topic_alter(const net_conf *nc, const char *topic, const char **set,
                           int nset, const char **del, int ndel) {
  (void)nc;
  (void)topic;
  (void)set;
  (void)nset;
  (void)del;
  (void)ndel;
  return grp_unavailable();
}

#else

#include <librdkafka/rdkafka.h>

#define GRP_TIMEOUT_MS 30000

/* ---- a text table: columns padded to their widest cell (Kafka's tools) ---- */

typedef struct grp_table {
  int ncols;
  char **cells; /* rows * ncols, malloc'd strings */
  size_t rows, cap;
} grp_table;

static int grp_table_add(grp_table *t, const char *const *row) {
  if (t->rows == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 16;
    char **nc = realloc(t->cells, ncap * (size_t)t->ncols * sizeof(*nc));
    if (!nc)
      return -1;
    t->cells = nc;
    t->cap = ncap;
  }
  for (int c = 0; c < t->ncols; c++) {
    char *d = strdup(row[c] ? row[c] : "-");
    if (!d) {
      for (int k = 0; k < c; k++)
        free(t->cells[t->rows * (size_t)t->ncols + (size_t)k]);
      return -1;
    }
    t->cells[t->rows * (size_t)t->ncols + (size_t)c] = d;
  }
  t->rows++;
  return 0;
}

static int grp_table_print(const grp_table *t) {
  size_t w[16] = {0};
  for (size_t r = 0; r < t->rows; r++)
    for (int c = 0; c < t->ncols && c < 16; c++) {
      size_t n = strlen(t->cells[r * (size_t)t->ncols + (size_t)c]);
      if (n > w[c])
        w[c] = n;
    }
  for (size_t r = 0; r < t->rows; r++) {
    for (int c = 0; c < t->ncols; c++) {
      const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
      if (c == t->ncols - 1)
        cli_out_printf("%s\n", s);
      else
        cli_out_printf("%-*s ", (int)w[c], s);
    }
  }
  /* Flushed now: main() drops buffered output when the status is an error,
   * and a table may come with one (a group that failed, a refused delete). */
  return cli_out_flush();
}

static void grp_table_release(grp_table *t) {
  for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  t->cells = NULL;
  t->rows = t->cap = 0;
}

/* ---- the admin client and its results ---- */

static rd_kafka_AdminOptions_t *grp_options(rd_kafka_t *rk, rd_kafka_admin_op_t op) {
  char errstr[256];
  rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
  if (o)
    rd_kafka_AdminOptions_set_request_timeout(o, GRP_TIMEOUT_MS, errstr, sizeof(errstr));
  return o;
}

/* Waits for the admin result of `type` on q; NULL (reported) on a timeout or
 * a request-level error. */
static rd_kafka_event_t *grp_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type,
                                  const char *what) {
  for (;;) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, GRP_TIMEOUT_MS + 5000);
    if (!ev) {
      cli_err("%s: timed out", what);
      return NULL;
    }
    if (rd_kafka_event_type(ev) != type) {
      rd_kafka_event_destroy(ev);
      continue;
    }
    if (rd_kafka_event_error(ev)) {
      cli_err("%s: %s", what, rd_kafka_event_error_string(ev));
      rd_kafka_event_destroy(ev);
      return NULL;
    }
    return ev;
  }
}

/* ---- groups list ---- */

static int grp_list(grp_args *a) {
  rd_kafka_t *rk = net_admin_client(&a->conf);
  if (!rk)
    return CLI_ERROR;
  int rc = CLI_ERROR;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o = grp_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
  rd_kafka_event_t *ev = NULL;
  grp_table t = {.ncols = 3};
  if (a->states) {
    rd_kafka_consumer_group_state_t st[8];
    size_t n = 0;
    const char *p = a->states;
    while (*p) {
      char name[64];
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      if (len == 0 || len >= sizeof(name) || n == 8) {
        rc = cli_usage_error("bad --state '%s'", a->states);
        goto out;
      }
      memcpy(name, p, len);
      name[len] = 0;
      st[n] = rd_kafka_consumer_group_state_code(name);
      if (st[n] == RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN &&
          strcmp(name, "Unknown") != 0) {
        rc = cli_usage_error("unknown group state '%s' (Stable, Empty, "
                             "PreparingRebalance, CompletingRebalance, Dead)",
                             name);
        goto out;
      }
      n++;
      p += len + (comma ? 1 : 0);
    }
    rd_kafka_error_t *err =
        rd_kafka_AdminOptions_set_match_consumer_group_states(o, st, n);
    if (err) {
      cli_err("--state: %s", rd_kafka_error_string(err));
      rd_kafka_error_destroy(err);
      goto out;
    }
  }
  rd_kafka_ListConsumerGroups(rk, o, q);
  ev = grp_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "list groups (ListGroups)");
  if (!ev)
    goto out;
  const rd_kafka_ListConsumerGroups_result_t *res =
      rd_kafka_event_ListConsumerGroups_result(ev);
  size_t nerr = 0, n = 0;
  const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
  for (size_t i = 0; i < nerr; i++)
    cli_err("list groups: %s", rd_kafka_error_string(errs[i]));
  const rd_kafka_ConsumerGroupListing_t **gl =
      rd_kafka_ListConsumerGroups_result_valid(res, &n);
  const char *hdr[] = {"GROUP", "STATE", "PROTOCOL-TYPE"};
  if (grp_table_add(&t, hdr))
    goto out;
  /* Sorted by name (kafka-consumer-groups prints them unsorted). */
  const rd_kafka_ConsumerGroupListing_t **sorted = calloc(n ? n : 1, sizeof(*sorted));
  if (!sorted)
    goto out;
  for (size_t i = 0; i < n; i++) {
    size_t k = i;
    while (k > 0 && strcmp(rd_kafka_ConsumerGroupListing_group_id(sorted[k - 1]),
                           rd_kafka_ConsumerGroupListing_group_id(gl[i])) > 0) {
      sorted[k] = sorted[k - 1];
      k--;
    }
    sorted[k] = gl[i];
  }
  rc = CLI_OK;
  for (size_t i = 0; i < n && rc == CLI_OK; i++) {
    /* librdkafka lists only consumer-protocol groups: protocol type
     * "consumer", or "" for a group that only commits offsets. */
    const char *row[] = {rd_kafka_ConsumerGroupListing_group_id(sorted[i]),
                         rd_kafka_consumer_group_state_name(
                             rd_kafka_ConsumerGroupListing_state(sorted[i])),
                         rd_kafka_ConsumerGroupListing_is_simple_consumer_group(sorted[i])
                             ? "-"
                             : "consumer"};
    if (grp_table_add(&t, row))
      rc = CLI_ERROR;
  }
  free(sorted);
  if (rc == CLI_OK)
    rc = grp_table_print(&t);
  if (rc == CLI_OK && nerr > 0)
    rc = CLI_ERROR;
out:
  grp_table_release(&t);
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

/* ---- one group's description and committed offsets ---- */

typedef struct grp_info {
  rd_kafka_event_t *desc_ev; /* DescribeConsumerGroups result (owns desc) */
  const rd_kafka_ConsumerGroupDescription_t *desc;
  rd_kafka_topic_partition_list_t *committed; /* offset < 0: none */
} grp_info;

static void grp_info_release(grp_info *g) {
  if (g->desc_ev)
    rd_kafka_event_destroy(g->desc_ev);
  if (g->committed)
    rd_kafka_topic_partition_list_destroy(g->committed);
  memset(g, 0, sizeof(*g));
}

static int grp_fetch_offsets(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *group,
                             grp_info *g);

/* DescribeConsumerGroups for one group into g (and with offsets its
 * committed offsets). */
static int grp_fetch(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *group, bool offsets,
                     grp_info *g) {
  memset(g, 0, sizeof(*g));
  rd_kafka_AdminOptions_t *o = grp_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
  const char *groups[] = {group};
  rd_kafka_DescribeConsumerGroups(rk, groups, 1, o, q);
  rd_kafka_AdminOptions_destroy(o);
  g->desc_ev = grp_wait(q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                        "describe group (DescribeGroups)");
  if (!g->desc_ev)
    return CLI_ERROR;
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t **d =
      rd_kafka_DescribeConsumerGroups_result_groups(
          rd_kafka_event_DescribeConsumerGroups_result(g->desc_ev), &n);
  if (n != 1) {
    cli_err("describe group %s: %zu results", group, n);
    return CLI_ERROR;
  }
  const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(d[0]);
  if (e && rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
    /* The broker lacks DescribeGroups.  librdkafka 2.0.2 then never finishes
     * rd_kafka_destroy (its main thread deadlocks), so end the process here
     * rather than hang. */
    cli_err("describe group %s: the broker does not support DescribeGroups (%s)", group,
            rd_kafka_error_string(e));
    cli_out_flush();
    fflush(NULL);
    _exit(CLI_ERROR);
  }
  if (e) {
    cli_err("describe group %s: %s", group, rd_kafka_error_string(e));
    return CLI_ERROR;
  }
  g->desc = d[0];
  return offsets ? grp_fetch_offsets(rk, q, group, g) : CLI_OK;
}

/* The group's committed offsets (OffsetFetch, all partitions) into g. */
static int grp_fetch_offsets(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *group,
                             grp_info *g) {
  size_t n = 0;
  rd_kafka_AdminOptions_t *o =
      grp_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
  rd_kafka_ListConsumerGroupOffsets_t *lo =
      rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
  rd_kafka_ListConsumerGroupOffsets(rk, &lo, 1, o, q);
  rd_kafka_ListConsumerGroupOffsets_destroy(lo);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_event_t *ev = grp_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
                                  "committed offsets (OffsetFetch)");
  if (!ev)
    return CLI_ERROR;
  int rc = CLI_OK;
  const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
  if (n != 1 || rd_kafka_group_result_error(gr[0])) {
    cli_err("committed offsets of %s: %s", group,
            n == 1 ? rd_kafka_error_string(rd_kafka_group_result_error(gr[0]))
                   : "no result");
    rc = CLI_ERROR;
  } else {
    g->committed =
        rd_kafka_topic_partition_list_copy(rd_kafka_group_result_partitions(gr[0]));
    for (int i = 0; g->committed && i < g->committed->cnt; i++) {
      rd_kafka_topic_partition_t *tp = &g->committed->elems[i];
      if (tp->err) {
        cli_err("committed offset of %s %s-%d: %s", group, tp->topic, (int)tp->partition,
                rd_kafka_err2str(tp->err));
        rc = CLI_ERROR;
      }
    }
  }
  rd_kafka_event_destroy(ev);
  return rc;
}

static const char *grp_state(const grp_info *g) {
  return rd_kafka_consumer_group_state_name(
      rd_kafka_ConsumerGroupDescription_state(g->desc));
}

static bool grp_is_dead(const grp_info *g) {
  return rd_kafka_ConsumerGroupDescription_state(g->desc) ==
         RD_KAFKA_CONSUMER_GROUP_STATE_DEAD;
}

static int64_t grp_committed(const grp_info *g, const char *topic, int32_t p) {
  rd_kafka_topic_partition_t *tp =
      g->committed ? rd_kafka_topic_partition_list_find(g->committed, topic, p) : NULL;
  return tp && tp->offset >= 0 ? tp->offset : -1;
}

/* Fills offset of every element with ListOffsets at `which` (-2 earliest, -1
 * latest, >= 0 a timestamp; -1 in the result when no record is at/after it). */
static int grp_list_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l,
                            int64_t which) {
  if (l->cnt == 0)
    return CLI_OK;
  for (int i = 0; i < l->cnt; i++)
    l->elems[i].offset = which;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, l, GRP_TIMEOUT_MS);
  if (err) {
    cli_err("log offsets (ListOffsets): %s", rd_kafka_err2str(err));
    return CLI_ERROR;
  }
  for (int i = 0; i < l->cnt; i++)
    if (l->elems[i].err) {
      cli_err("log offsets of %s-%d: %s", l->elems[i].topic, (int)l->elems[i].partition,
              rd_kafka_err2str(l->elems[i].err));
      return CLI_ERROR;
    }
  return CLI_OK;
}

static int grp_tp_cmp(const void *x, const void *y) {
  const rd_kafka_topic_partition_t *a = x, *b = y;
  int c = strcmp(a->topic, b->topic);
  return c ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

/* The member a partition is assigned to, or NULL. */
static const rd_kafka_MemberDescription_t *grp_owner(const grp_info *g, const char *topic,
                                                     int32_t p) {
  size_t n = rd_kafka_ConsumerGroupDescription_member_count(g->desc);
  for (size_t i = 0; i < n; i++) {
    const rd_kafka_MemberDescription_t *m =
        rd_kafka_ConsumerGroupDescription_member(g->desc, i);
    const rd_kafka_topic_partition_list_t *l =
        rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
    if (l && rd_kafka_topic_partition_list_find(l, topic, p))
      return m;
  }
  return NULL;
}

/* "t(0,1),u(2)" from a sorted partition list. */
static void grp_assignment_str(const rd_kafka_topic_partition_list_t *l, sl_buf *out) {
  rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);
  if (!c)
    return;
  qsort(c->elems, (size_t)c->cnt, sizeof(*c->elems), grp_tp_cmp);
  for (int i = 0; i < c->cnt; i++) {
    char num[16];
    bool first = i == 0 || strcmp(c->elems[i - 1].topic, c->elems[i].topic) != 0;
    bool last = i == c->cnt - 1 || strcmp(c->elems[i + 1].topic, c->elems[i].topic) != 0;
    if (first) {
      if (i > 0)
        sl_buf_append(out, ",", 1);
      sl_buf_append(out, c->elems[i].topic, strlen(c->elems[i].topic));
      sl_buf_append(out, "(", 1);
    }
    int len =
        snprintf(num, sizeof(num), "%d%s", (int)c->elems[i].partition, last ? ")" : ",");
    sl_buf_append(out, num, (size_t)len);
  }
  rd_kafka_topic_partition_list_destroy(c);
}

static void grp_i64(char *buf, size_t cap, int64_t v) {
  if (v < 0)
    snprintf(buf, cap, "-");
  else
    snprintf(buf, cap, "%" PRId64, v);
}

static int grp_describe_offsets(rd_kafka_t *rk, const char *group, const grp_info *g,
                                grp_table *t) {
  /* Rows: every committed partition and every assigned one. */
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
  int rc = CLI_OK;
  for (int i = 0; g->committed && i < g->committed->cnt; i++)
    rd_kafka_topic_partition_list_add(l, g->committed->elems[i].topic,
                                      g->committed->elems[i].partition);
  size_t nm = rd_kafka_ConsumerGroupDescription_member_count(g->desc);
  for (size_t i = 0; i < nm; i++) {
    const rd_kafka_topic_partition_list_t *a =
        rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(
            rd_kafka_ConsumerGroupDescription_member(g->desc, i)));
    for (int k = 0; a && k < a->cnt; k++)
      if (!rd_kafka_topic_partition_list_find(l, a->elems[k].topic,
                                              a->elems[k].partition))
        rd_kafka_topic_partition_list_add(l, a->elems[k].topic, a->elems[k].partition);
  }
  qsort(l->elems, (size_t)l->cnt, sizeof(*l->elems), grp_tp_cmp);
  rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_copy(l);
  if (!ends || grp_list_offsets(rk, ends, RD_KAFKA_OFFSET_END)) {
    rc = CLI_ERROR;
    goto out;
  }
  for (int i = 0; i < l->cnt; i++) {
    const rd_kafka_topic_partition_t *tp = &l->elems[i];
    int64_t cur = grp_committed(g, tp->topic, tp->partition);
    int64_t end = ends->elems[i].offset;
    char part[16], cs[24], es[24], lag[24];
    snprintf(part, sizeof(part), "%d", (int)tp->partition);
    grp_i64(cs, sizeof(cs), cur);
    grp_i64(es, sizeof(es), end);
    grp_i64(lag, sizeof(lag), cur >= 0 && end >= 0 ? (end > cur ? end - cur : 0) : -1);
    const rd_kafka_MemberDescription_t *m = grp_owner(g, tp->topic, tp->partition);
    const char *row[] = {group,
                         tp->topic,
                         part,
                         cs,
                         es,
                         lag,
                         m ? rd_kafka_MemberDescription_consumer_id(m) : "-",
                         m ? rd_kafka_MemberDescription_host(m) : "-",
                         m ? rd_kafka_MemberDescription_client_id(m) : "-"};
    if (grp_table_add(t, row)) {
      rc = CLI_ERROR;
      break;
    }
  }
out:
  if (ends)
    rd_kafka_topic_partition_list_destroy(ends);
  rd_kafka_topic_partition_list_destroy(l);
  return rc;
}

static int grp_describe_members(const char *group, const grp_info *g, bool verbose,
                                grp_table *t) {
  size_t nm = rd_kafka_ConsumerGroupDescription_member_count(g->desc);
  for (size_t i = 0; i < nm; i++) {
    const rd_kafka_MemberDescription_t *m =
        rd_kafka_ConsumerGroupDescription_member(g->desc, i);
    const rd_kafka_topic_partition_list_t *a =
        rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
    char np[16];
    snprintf(np, sizeof(np), "%d", a ? a->cnt : 0);
    sl_buf as = SL_BUF_INIT;
    if (a && a->cnt > 0)
      grp_assignment_str(a, &as);
    else
      sl_buf_append(&as, "-", 1);
    sl_buf_u8(&as, 0);
    const char *inst = rd_kafka_MemberDescription_group_instance_id(m);
    const char *row[] = {group,
                         rd_kafka_MemberDescription_consumer_id(m),
                         inst && *inst ? inst : "-",
                         rd_kafka_MemberDescription_host(m),
                         rd_kafka_MemberDescription_client_id(m),
                         np,
                         as.data ? (const char *)as.data : "-"};
    const char *brief[] = {row[0], row[1], row[3], row[4], row[5]};
    int r = grp_table_add(t, verbose ? row : brief);
    sl_buf_release(&as);
    if (r)
      return CLI_ERROR;
  }
  return CLI_OK;
}

static int grp_describe(grp_args *a) {
  rd_kafka_t *rk = net_admin_client(&a->conf);
  if (!rk)
    return CLI_ERROR;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  int rc = CLI_OK;
  grp_table t = {0};
  const char **groups = a->groups;
  int ngroups = a->ngroups;
  const char **all = NULL;
  rd_kafka_event_t *lev = NULL;
  if (a->all_groups) {
    rd_kafka_AdminOptions_t *o = grp_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(rk, o, q);
    rd_kafka_AdminOptions_destroy(o);
    lev =
        grp_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "list groups (ListGroups)");
    if (!lev) {
      rc = CLI_ERROR;
      goto out;
    }
    size_t n = 0;
    const rd_kafka_ConsumerGroupListing_t **gl = rd_kafka_ListConsumerGroups_result_valid(
        rd_kafka_event_ListConsumerGroups_result(lev), &n);
    all = calloc(n ? n : 1, sizeof(*all));
    if (!all) {
      rc = CLI_ERROR;
      goto out;
    }
    for (size_t i = 0; i < n; i++)
      all[i] = rd_kafka_ConsumerGroupListing_group_id(gl[i]);
    groups = all;
    ngroups = (int)n;
  }
  switch (a->view) {
  case GRP_VIEW_OFFSETS: {
    t.ncols = 9;
    const char *h[] = {"GROUP",          "TOPIC",          "PARTITION",
                       "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                       "CONSUMER-ID",    "HOST",           "CLIENT-ID"};
    rc = grp_table_add(&t, h) ? CLI_ERROR : CLI_OK;
    break;
  }
  case GRP_VIEW_MEMBERS: {
    const char *h[] = {"GROUP",     "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST",
                       "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"};
    const char *brief[] = {"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"};
    t.ncols = a->verbose ? 7 : 5;
    rc = grp_table_add(&t, a->verbose ? h : brief) ? CLI_ERROR : CLI_OK;
    break;
  }
  case GRP_VIEW_STATE: {
    const char *h[] = {"GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE",
                       "#MEMBERS"};
    t.ncols = 5;
    rc = grp_table_add(&t, h) ? CLI_ERROR : CLI_OK;
    break;
  }
  }
  for (int i = 0; i < ngroups && rc == CLI_OK; i++) {
    grp_info g;
    int r = grp_fetch(rk, q, groups[i], a->view == GRP_VIEW_OFFSETS, &g);
    if (r == CLI_OK && grp_is_dead(&g) && (!g.committed || g.committed->cnt == 0)) {
      cli_err("consumer group '%s' does not exist", groups[i]);
      r = CLI_ERROR;
    } else if (r == CLI_OK) {
      size_t nm = rd_kafka_ConsumerGroupDescription_member_count(g.desc);
      if (nm == 0 && a->view != GRP_VIEW_STATE)
        cli_err("consumer group '%s' has no active members", groups[i]);
      if (a->view == GRP_VIEW_OFFSETS) {
        r = grp_describe_offsets(rk, groups[i], &g, &t);
      } else if (a->view == GRP_VIEW_MEMBERS) {
        r = grp_describe_members(groups[i], &g, a->verbose, &t);
      } else {
        const rd_kafka_Node_t *c = rd_kafka_ConsumerGroupDescription_coordinator(g.desc);
        char coord[300], nmem[16];
        if (c)
          snprintf(coord, sizeof(coord), "%s:%u (%d)", rd_kafka_Node_host(c),
                   (unsigned)rd_kafka_Node_port(c), rd_kafka_Node_id(c));
        else
          snprintf(coord, sizeof(coord), "-");
        snprintf(nmem, sizeof(nmem), "%zu", nm);
        const char *assignor =
            rd_kafka_ConsumerGroupDescription_partition_assignor(g.desc);
        const char *row[] = {groups[i], coord, assignor && *assignor ? assignor : "-",
                             grp_state(&g), nmem};
        r = grp_table_add(&t, row) ? CLI_ERROR : CLI_OK;
      }
    }
    grp_info_release(&g);
    if (r != CLI_OK)
      rc = r;
  }
  /* Print what was gathered even when one group failed. */
  if (t.rows > 1) {
    int pr = grp_table_print(&t);
    if (pr != CLI_OK)
      rc = pr;
  }
out:
  grp_table_release(&t);
  free(all);
  if (lev)
    rd_kafka_event_destroy(lev);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

/* ---- reset-offsets ---- */

/* The partitions the reset covers: --all-topics = every partition with a
 * committed offset; --topic T = all partitions of T (metadata), T:P,.. those. */
static int grp_reset_partitions(rd_kafka_t *rk, const grp_args *a, const grp_info *g,
                                rd_kafka_topic_partition_list_t *out) {
  if (a->all_topics) {
    for (int i = 0; g->committed && i < g->committed->cnt; i++)
      rd_kafka_topic_partition_list_add(out, g->committed->elems[i].topic,
                                        g->committed->elems[i].partition);
    return CLI_OK;
  }
  for (int i = 0; i < a->ntopics; i++) {
    const grp_topic_spec *ts = &a->topics[i];
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, ts->topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, GRP_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err ||
        md->topics[0].partition_cnt == 0) {
      cli_err("no topic '%s' on the cluster%s%s", ts->topic, err ? ": " : "",
              err ? rd_kafka_err2str(err) : "");
      if (md)
        rd_kafka_metadata_destroy(md);
      return CLI_ERROR;
    }
    const rd_kafka_metadata_topic_t *mt = &md->topics[0];
    if (ts->nparts == 0) {
      for (int k = 0; k < mt->partition_cnt; k++)
        rd_kafka_topic_partition_list_add(out, ts->topic, mt->partitions[k].id);
    } else {
      for (int k = 0; k < ts->nparts; k++) {
        bool found = false;
        for (int j = 0; j < mt->partition_cnt; j++)
          found |= mt->partitions[j].id == ts->parts[k];
        if (!found) {
          cli_err("topic %s has no partition %d", ts->topic, (int)ts->parts[k]);
          rd_kafka_metadata_destroy(md);
          return CLI_ERROR;
        }
        rd_kafka_topic_partition_list_add(out, ts->topic, ts->parts[k]);
      }
    }
    rd_kafka_metadata_destroy(md);
  }
  return CLI_OK;
}

/* New offsets into plan->elems[i].offset, as kafka-consumer-groups computes
 * them (offsets clamped to [log start, log end]; a time with no record at or
 * after it -> log end). */
static int grp_reset_plan(rd_kafka_t *rk, const grp_args *a, const grp_info *g,
                          const char *group, rd_kafka_topic_partition_list_t *plan) {
  int rc = CLI_ERROR;
  rd_kafka_topic_partition_list_t *lo = rd_kafka_topic_partition_list_copy(plan);
  rd_kafka_topic_partition_list_t *hi = rd_kafka_topic_partition_list_copy(plan);
  rd_kafka_topic_partition_list_t *bt = NULL;
  if (!lo || !hi || grp_list_offsets(rk, lo, RD_KAFKA_OFFSET_BEGINNING) ||
      grp_list_offsets(rk, hi, RD_KAFKA_OFFSET_END))
    goto out;
  if (a->reset == GRP_RESET_DATETIME || a->reset == GRP_RESET_DURATION) {
    int64_t ts =
        a->reset == GRP_RESET_DATETIME ? a->reset_value : cli_now_ms() - a->reset_value;
    bt = rd_kafka_topic_partition_list_copy(plan);
    if (!bt || grp_list_offsets(rk, bt, ts < 0 ? 0 : ts))
      goto out;
  }
  for (int i = 0; i < plan->cnt; i++) {
    rd_kafka_topic_partition_t *tp = &plan->elems[i];
    int64_t start = lo->elems[i].offset, end = hi->elems[i].offset;
    int64_t cur = grp_committed(g, tp->topic, tp->partition), v;
    switch (a->reset) {
    case GRP_RESET_EARLIEST:
      v = start;
      break;
    case GRP_RESET_LATEST:
      v = end;
      break;
    case GRP_RESET_OFFSET:
      v = a->reset_value;
      break;
    case GRP_RESET_DATETIME:
    case GRP_RESET_DURATION:
      v = bt->elems[i].offset >= 0 ? bt->elems[i].offset : end;
      break;
    case GRP_RESET_SHIFT:
      if (cur < 0) {
        cli_err("cannot shift the offset of %s-%d: group %s has no committed offset "
                "there",
                tp->topic, (int)tp->partition, group);
        goto out;
      }
      v = cur + a->reset_value;
      break;
    case GRP_RESET_CURRENT:
    default:
      v = cur >= 0 ? cur : end;
      break;
    }
    if (v < start)
      v = start;
    if (v > end)
      v = end;
    tp->offset = v;
  }
  rc = CLI_OK;
out:
  if (lo)
    rd_kafka_topic_partition_list_destroy(lo);
  if (hi)
    rd_kafka_topic_partition_list_destroy(hi);
  if (bt)
    rd_kafka_topic_partition_list_destroy(bt);
  return rc;
}

static int grp_reset_one(rd_kafka_t *rk, rd_kafka_queue_t *q, const grp_args *a,
                         const char *group, grp_table *t) {
  grp_info g;
  rd_kafka_topic_partition_list_t *plan = NULL;
  int rc = grp_fetch(rk, q, group, false, &g);
  if (rc)
    goto out;
  rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(g.desc);
  if (st != RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY &&
      st != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD) {
    cli_err("assignments can only be reset if the group '%s' is inactive, but the "
            "current state is %s (%zu members); stop its consumers first",
            group, grp_state(&g), rd_kafka_ConsumerGroupDescription_member_count(g.desc));
    rc = CLI_ERROR;
    goto out;
  }
  plan = rd_kafka_topic_partition_list_new(16);
  rc = grp_fetch_offsets(rk, q, group, &g);
  if (rc == CLI_OK)
    rc = grp_reset_partitions(rk, a, &g, plan);
  if (rc)
    goto out;
  if (plan->cnt == 0) {
    cli_err("group '%s': no partitions to reset (--all-topics covers only partitions "
            "with committed offsets)",
            group);
    rc = CLI_ERROR;
    goto out;
  }
  qsort(plan->elems, (size_t)plan->cnt, sizeof(*plan->elems), grp_tp_cmp);
  rc = grp_reset_plan(rk, a, &g, group, plan);
  if (rc)
    goto out;
  for (int i = 0; i < plan->cnt; i++) {
    char part[16], off[24];
    snprintf(part, sizeof(part), "%d", (int)plan->elems[i].partition);
    snprintf(off, sizeof(off), "%" PRId64, plan->elems[i].offset);
    const char *row[] = {group, plan->elems[i].topic, part, off};
    if (grp_table_add(t, row)) {
      rc = CLI_ERROR;
      goto out;
    }
  }
  if (!a->execute)
    goto out;
  rd_kafka_AdminOptions_t *o =
      grp_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
  rd_kafka_AlterConsumerGroupOffsets_t *ao =
      rd_kafka_AlterConsumerGroupOffsets_new(group, plan);
  rd_kafka_AlterConsumerGroupOffsets(rk, &ao, 1, o, q);
  rd_kafka_AlterConsumerGroupOffsets_destroy(ao);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_event_t *ev = grp_wait(q, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT,
                                  "reset offsets (OffsetCommit)");
  if (!ev) {
    rc = CLI_ERROR;
    goto out;
  }
  size_t n = 0;
  const rd_kafka_group_result_t **gr = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
  if (n != 1 || rd_kafka_group_result_error(gr[0])) {
    cli_err("reset offsets of %s: %s", group,
            n == 1 ? rd_kafka_error_string(rd_kafka_group_result_error(gr[0]))
                   : "no result");
    rc = CLI_ERROR;
  } else {
    const rd_kafka_topic_partition_list_t *res = rd_kafka_group_result_partitions(gr[0]);
    for (int i = 0; res && i < res->cnt; i++)
      if (res->elems[i].err) {
        cli_err("reset offset of %s %s-%d: %s", group, res->elems[i].topic,
                (int)res->elems[i].partition, rd_kafka_err2str(res->elems[i].err));
        rc = CLI_ERROR;
      }
  }
  rd_kafka_event_destroy(ev);
out:
  if (plan)
    rd_kafka_topic_partition_list_destroy(plan);
  grp_info_release(&g);
  return rc;
}

static int grp_reset(grp_args *a) {
  rd_kafka_t *rk = net_admin_client(&a->conf);
  if (!rk)
    return CLI_ERROR;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  grp_table t = {.ncols = 4};
  const char *h[] = {"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"};
  int rc = grp_table_add(&t, h) ? CLI_ERROR : CLI_OK;
  for (int i = 0; i < a->ngroups && rc == CLI_OK; i++)
    rc = grp_reset_one(rk, q, a, a->groups[i], &t);
  if (rc == CLI_OK) {
    rc = grp_table_print(&t);
    if (!a->execute)
      cli_err("dry run: nothing was changed (add --execute to apply)");
  }
  grp_table_release(&t);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

/* ---- delete ---- */

static int grp_delete_offsets(rd_kafka_t *rk, rd_kafka_queue_t *q, const grp_args *a) {
  const char *group = a->groups[0];
  grp_info g;
  memset(&g, 0, sizeof(g));
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
  int rc = CLI_OK;
  rd_kafka_event_t *ev = NULL;
  for (int i = 0; i < a->ntopics && rc == CLI_OK; i++) {
    const grp_topic_spec *ts = &a->topics[i];
    if (ts->nparts > 0) {
      for (int k = 0; k < ts->nparts; k++)
        rd_kafka_topic_partition_list_add(l, ts->topic, ts->parts[k]);
      continue;
    }
    grp_args one = {.ntopics = 1};
    one.topics[0] = *ts;
    rc = grp_reset_partitions(rk, &one, &g, l);
  }
  if (rc)
    goto out;
  rd_kafka_AdminOptions_t *o =
      grp_options(rk, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS);
  rd_kafka_DeleteConsumerGroupOffsets_t *d =
      rd_kafka_DeleteConsumerGroupOffsets_new(group, l);
  rd_kafka_DeleteConsumerGroupOffsets(rk, &d, 1, o, q);
  rd_kafka_DeleteConsumerGroupOffsets_destroy(d);
  rd_kafka_AdminOptions_destroy(o);
  ev = grp_wait(q, RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT,
                "delete offsets (OffsetDelete)");
  if (!ev) {
    rc = CLI_ERROR;
    goto out;
  }
  size_t n = 0;
  const rd_kafka_group_result_t **gr = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
      rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &n);
  if (n != 1 || rd_kafka_group_result_error(gr[0])) {
    cli_err("delete offsets of group '%s': %s", group,
            n == 1 ? rd_kafka_error_string(rd_kafka_group_result_error(gr[0]))
                   : "no result");
    rc = CLI_ERROR;
    goto out;
  }
  const rd_kafka_topic_partition_list_t *res = rd_kafka_group_result_partitions(gr[0]);
  grp_table t = {.ncols = 3};
  const char *h[] = {"TOPIC", "PARTITION", "STATUS"};
  rc = grp_table_add(&t, h) ? CLI_ERROR : CLI_OK;
  for (int i = 0; res && i < res->cnt && rc == CLI_OK; i++) {
    char part[16], status[256];
    snprintf(part, sizeof(part), "%d", (int)res->elems[i].partition);
    if (res->elems[i].err) {
      snprintf(status, sizeof(status), "Error: %s", rd_kafka_err2str(res->elems[i].err));
      cli_err("offset of %s-%d not deleted: %s", res->elems[i].topic,
              (int)res->elems[i].partition, rd_kafka_err2str(res->elems[i].err));
    } else {
      snprintf(status, sizeof(status), "Successful");
    }
    const char *row[] = {res->elems[i].topic, part, status};
    if (grp_table_add(&t, row))
      rc = CLI_ERROR;
  }
  if (rc == CLI_OK)
    rc = grp_table_print(&t);
  for (int i = 0; res && i < res->cnt && rc == CLI_OK; i++)
    if (res->elems[i].err)
      rc = CLI_ERROR;
  grp_table_release(&t);
out:
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_topic_partition_list_destroy(l);
  return rc;
}

static int grp_delete(grp_args *a) {
  rd_kafka_t *rk = net_admin_client(&a->conf);
  if (!rk)
    return CLI_ERROR;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  int rc = CLI_OK;
  if (a->ntopics > 0) {
    rc = grp_delete_offsets(rk, q, a);
    goto out;
  }
  rd_kafka_DeleteGroup_t *dg[GRP_MAX_GROUPS];
  for (int i = 0; i < a->ngroups; i++)
    dg[i] = rd_kafka_DeleteGroup_new(a->groups[i]);
  rd_kafka_AdminOptions_t *o = grp_options(rk, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
  rd_kafka_DeleteGroups(rk, dg, (size_t)a->ngroups, o, q);
  rd_kafka_DeleteGroup_destroy_array(dg, (size_t)a->ngroups);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_event_t *ev =
      grp_wait(q, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, "delete groups (DeleteGroups)");
  if (!ev) {
    rc = CLI_ERROR;
    goto out;
  }
  size_t n = 0;
  const rd_kafka_group_result_t **gr =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
  for (size_t i = 0; i < n; i++) {
    const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[i]);
    if (!e) {
      cli_out_printf("deleted group '%s'\n", rd_kafka_group_result_name(gr[i]));
      continue;
    }
    rc = CLI_ERROR;
    if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP)
      cli_err("group '%s' could not be deleted: it is not empty (%s); stop its "
              "consumers first",
              rd_kafka_group_result_name(gr[i]), rd_kafka_error_string(e));
    else
      cli_err("group '%s' could not be deleted: %s", rd_kafka_group_result_name(gr[i]),
              rd_kafka_error_string(e));
  }
  rd_kafka_event_destroy(ev);
out:
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

/* ---- topics alter ---- */

static bool grp_in(const char *name, const char **list, int n, size_t namelen) {
  for (int i = 0; i < n; i++) {
    const char *eq = strchr(list[i], '=');
    size_t len = eq ? (size_t)(eq - list[i]) : strlen(list[i]);
    if (len == namelen && strncmp(list[i], name, len) == 0)
      return true;
  }
  return false;
}

/* AlterConfigs replaces a topic's whole set of dynamic configs (librdkafka
 * 2.0.2 has no IncrementalAlterConfigs): read the set with DescribeConfigs,
 * apply the changes, write it back. */
static int grp_topic_alter(const net_conf *nc, const char *topic, const char **set,
                           int nset, const char **del, int ndel) {
  rd_kafka_t *rk = net_admin_client(nc);
  if (!rk)
    return CLI_ERROR;
  int rc = CLI_ERROR;
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_event_t *ev = NULL;
  rd_kafka_ConfigResource_t *res =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
  rd_kafka_ConfigResource_t *nres =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
  rd_kafka_AdminOptions_t *o = grp_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_DescribeConfigs(rk, &res, 1, o, q);
  rd_kafka_AdminOptions_destroy(o);
  ev = grp_wait(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT,
                "topic configs (DescribeConfigs)");
  if (!ev)
    goto out;
  size_t n = 0;
  const rd_kafka_ConfigResource_t **rr = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(ev), &n);
  if (n != 1 || rd_kafka_ConfigResource_error(rr[0])) {
    cli_err("topic configs of %s: %s", topic,
            n == 1 ? rd_kafka_ConfigResource_error_string(rr[0]) : "no result");
    goto out;
  }
  size_t ne = 0;
  const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(rr[0], &ne);
  for (int i = 0; i < ndel; i++) {
    bool found = false;
    for (size_t k = 0; k < ne && !found; k++)
      found = rd_kafka_ConfigEntry_source(ents[k]) ==
                  RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG &&
              strcmp(rd_kafka_ConfigEntry_name(ents[k]), del[i]) == 0;
    if (!found) {
      cli_err("topic %s has no config '%s' set (nothing to delete)", topic, del[i]);
      goto out;
    }
  }
  /* Keep every dynamic config not deleted or replaced. */
  for (size_t k = 0; k < ne; k++) {
    const char *name = rd_kafka_ConfigEntry_name(ents[k]);
    if (rd_kafka_ConfigEntry_source(ents[k]) !=
            RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
        grp_in(name, del, ndel, strlen(name)) || grp_in(name, set, nset, strlen(name)))
      continue;
    if (rd_kafka_ConfigEntry_is_sensitive(ents[k])) {
      cli_err("topic %s has a sensitive config '%s' whose value the broker does not "
              "return; AlterConfigs would lose it",
              topic, name);
      goto out;
    }
    rd_kafka_ConfigResource_set_config(nres, name, rd_kafka_ConfigEntry_value(ents[k]));
  }
  for (int i = 0; i < nset; i++) {
    char key[256];
    const char *eq = strchr(set[i], '=');
    if (!eq || eq == set[i] || (size_t)(eq - set[i]) >= sizeof(key)) {
      rc = cli_usage_error("--add-config wants NAME=VALUE, got '%s'", set[i]);
      goto out;
    }
    memcpy(key, set[i], (size_t)(eq - set[i]));
    key[eq - set[i]] = 0;
    if (rd_kafka_ConfigResource_set_config(nres, key, eq + 1)) {
      cli_err("config %s: rejected by librdkafka", key);
      goto out;
    }
  }
  rd_kafka_event_destroy(ev);
  o = grp_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
  rd_kafka_AlterConfigs(rk, &nres, 1, o, q);
  rd_kafka_AdminOptions_destroy(o);
  ev = grp_wait(q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, "alter configs (AlterConfigs)");
  if (!ev)
    goto out;
  rr = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
  if (n != 1 || rd_kafka_ConfigResource_error(rr[0])) {
    const char *msg = n == 1 ? rd_kafka_ConfigResource_error_string(rr[0]) : NULL;
    cli_err("alter configs of %s: %s", topic,
            msg && *msg ? msg
            : n == 1    ? rd_kafka_err2str(rd_kafka_ConfigResource_error(rr[0]))
                        : "no result");
    goto out;
  }
  cli_out_printf("Completed updating config for topic %s.\n", topic);
  rc = CLI_OK;
out:
  if (ev)
    rd_kafka_event_destroy(ev);
  rd_kafka_ConfigResource_destroy(res);
  rd_kafka_ConfigResource_destroy(nres);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

#endif /* SEGLOG_HAVE_RDKAFKA */

/* ---- command line ---- */

enum {
  OPT_GROUP = 1000,
  OPT_ALL_GROUPS,
  OPT_TOPIC,
  OPT_ALL_TOPICS,
  OPT_MEMBERS,
  OPT_OFFSETS,
  OPT_STATE,
  OPT_VERBOSE,
  OPT_EARLIEST,
  OPT_LATEST,
  OPT_TO_OFFSET,
  OPT_DATETIME,
  OPT_DURATION,
  OPT_SHIFT,
  OPT_CURRENT,
  OPT_EXECUTE,
  OPT_DRY_RUN,
  OPT_BOOTSTRAP
};

static int grp_set_reset(grp_args *a, grp_reset_kind k) {
  if (a->reset != GRP_RESET_NONE)
    return cli_usage_error("give one of --to-earliest, --to-latest, --to-offset, "
                           "--to-datetime, --by-duration, --shift-by, --to-current");
  a->reset = k;
  return CLI_OK;
}

int cmd_groups(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("groups wants list, describe, reset-offsets or delete");
  const char *sub = argv[1];
  bool is_list = strcmp(sub, "list") == 0, is_describe = strcmp(sub, "describe") == 0,
       is_reset = strcmp(sub, "reset-offsets") == 0,
       is_delete = strcmp(sub, "delete") == 0;
  if (!is_list && !is_describe && !is_reset && !is_delete)
    return cli_usage_error("unknown groups subcommand '%s'", sub);
  grp_args *a = calloc(1, sizeof(*a));
  if (!a)
    return CLI_ERROR;
  a->conf.props = a->props;
  static const struct option longopts[] = {
      {"group", required_argument, NULL, OPT_GROUP},
      {"all-groups", no_argument, NULL, OPT_ALL_GROUPS},
      {"topic", required_argument, NULL, OPT_TOPIC},
      {"all-topics", no_argument, NULL, OPT_ALL_TOPICS},
      {"members", no_argument, NULL, OPT_MEMBERS},
      {"offsets", no_argument, NULL, OPT_OFFSETS},
      {"state", optional_argument, NULL, OPT_STATE},
      {"verbose", no_argument, NULL, OPT_VERBOSE},
      {"to-earliest", no_argument, NULL, OPT_EARLIEST},
      {"to-latest", no_argument, NULL, OPT_LATEST},
      {"to-offset", required_argument, NULL, OPT_TO_OFFSET},
      {"to-datetime", required_argument, NULL, OPT_DATETIME},
      {"by-duration", required_argument, NULL, OPT_DURATION},
      {"shift-by", required_argument, NULL, OPT_SHIFT},
      {"to-current", no_argument, NULL, OPT_CURRENT},
      {"execute", no_argument, NULL, OPT_EXECUTE},
      {"dry-run", no_argument, NULL, OPT_DRY_RUN},
      {"bootstrap-server", required_argument, NULL, OPT_BOOTSTRAP},
      {NULL, 0, NULL, 0}};
  int rc = CLI_OK, opt;
  bool state_view = false, dry_run = false;
  optind = 1;
  while (rc == CLI_OK &&
         (opt = getopt_long(argc - 1, argv + 1, "b:X:g:G:d:t:", longopts, NULL)) != -1) {
    switch (opt) {
    case 'b':
    case OPT_BOOTSTRAP:
      a->conf.brokers = optarg;
      break;
    case 'X':
      if (a->conf.nprops == GRP_MAX_PROPS)
        rc = cli_usage_error("too many -X");
      else
        a->props[a->conf.nprops++] = optarg;
      break;
    case 'd':
      rc = cli_usage_error("groups needs a broker (-b): consumer groups live in the "
                           "broker's group coordinator, not in a log directory");
      break;
    case 'g':
    case 'G':
    case OPT_GROUP:
      if (a->ngroups == GRP_MAX_GROUPS)
        rc = cli_usage_error("too many --group");
      else
        a->groups[a->ngroups++] = optarg;
      break;
    case OPT_ALL_GROUPS:
      a->all_groups = true;
      break;
    case 't':
    case OPT_TOPIC:
      if (a->ntopics == GRP_MAX_TOPICS)
        rc = cli_usage_error("too many --topic");
      else if (grp_parse_topic(optarg, &a->topics[a->ntopics++]))
        rc = cli_usage_error("bad --topic '%s' (TOPIC or TOPIC:P,P,...)", optarg);
      break;
    case OPT_ALL_TOPICS:
      a->all_topics = true;
      break;
    case OPT_MEMBERS:
      a->view = GRP_VIEW_MEMBERS;
      break;
    case OPT_OFFSETS:
      a->view = GRP_VIEW_OFFSETS;
      break;
    case OPT_STATE:
      state_view = true;
      a->states = optarg;
      /* kafka-consumer-groups takes `--state Stable` as well as `--state` */
      if (!optarg && is_list && optind < argc - 1 && argv[optind + 1][0] != '-') {
        a->states = argv[optind + 1];
        optind++;
      }
      break;
    case OPT_VERBOSE:
      a->verbose = true;
      break;
    case OPT_EARLIEST:
      rc = grp_set_reset(a, GRP_RESET_EARLIEST);
      break;
    case OPT_LATEST:
      rc = grp_set_reset(a, GRP_RESET_LATEST);
      break;
    case OPT_CURRENT:
      rc = grp_set_reset(a, GRP_RESET_CURRENT);
      break;
    case OPT_TO_OFFSET:
      rc = grp_set_reset(a, GRP_RESET_OFFSET);
      if (rc == CLI_OK && cli_parse_i64(optarg, 0, INT64_MAX, &a->reset_value))
        rc = cli_usage_error("bad --to-offset '%s'", optarg);
      break;
    case OPT_SHIFT:
      rc = grp_set_reset(a, GRP_RESET_SHIFT);
      if (rc == CLI_OK &&
          cli_parse_i64(optarg, INT64_MIN / 2, INT64_MAX / 2, &a->reset_value))
        rc = cli_usage_error("bad --shift-by '%s'", optarg);
      break;
    case OPT_DATETIME:
      rc = grp_set_reset(a, GRP_RESET_DATETIME);
      if (rc == CLI_OK && (cli_parse_time(optarg, &a->reset_value) || a->reset_value < 0))
        rc = cli_usage_error("bad --to-datetime '%s' (YYYY-MM-DDTHH:MM:SS[.mmm][Z] UTC, "
                             "or ms since the epoch)",
                             optarg);
      break;
    case OPT_DURATION:
      rc = grp_set_reset(a, GRP_RESET_DURATION);
      if (rc == CLI_OK && grp_parse_duration(optarg, &a->reset_value))
        rc = cli_usage_error("bad --by-duration '%s' (ISO 8601 PnDTnHnMnS)", optarg);
      break;
    case OPT_EXECUTE:
      a->execute = true;
      break;
    case OPT_DRY_RUN:
      dry_run = true;
      break;
    default:
      rc = cli_usage_error("bad option");
      break;
    }
  }
  if (rc != CLI_OK)
    goto out;
  if (optind < argc - 1) {
    rc = cli_usage_error("unexpected argument '%s'", argv[optind + 1]);
    goto out;
  }
  if (!a->conf.brokers) {
    rc = cli_usage_error("-b BROKERS is required (groups are a network-mode command)");
    goto out;
  }
  if (is_list) {
    if (a->ngroups || a->ntopics || a->reset || a->execute)
      rc = cli_usage_error("list takes only -b, -X and --state [S,...]");
    else
      rc = grp_list(a);
    goto out;
  }
  if (state_view && a->states) {
    rc = cli_usage_error("--state takes states only with list");
    goto out;
  }
  if (a->all_groups && !is_describe) {
    rc = cli_usage_error("--all-groups is for describe only");
    goto out;
  }
  if (!a->all_groups && a->ngroups == 0) {
    rc = cli_usage_error("-g GROUP is required");
    goto out;
  }
  if (is_describe) {
    if (state_view)
      a->view = GRP_VIEW_STATE;
    if (a->ntopics || a->reset || a->execute)
      rc = cli_usage_error("describe takes -g GROUP... or --all-groups and one of "
                           "--offsets, --members [--verbose], --state");
    else
      rc = grp_describe(a);
    goto out;
  }
  if (is_reset) {
    if (a->reset == GRP_RESET_NONE) {
      rc = cli_usage_error(
          "reset-offsets needs one of --to-earliest, --to-latest, "
          "--to-offset N, --to-datetime TS, --by-duration D, --shift-by N, "
          "--to-current");
    } else if (a->all_topics == (a->ntopics > 0)) {
      rc = cli_usage_error("reset-offsets needs --topic T[:P,...] (repeatable) or "
                           "--all-topics");
    } else if (a->execute && dry_run) {
      rc = cli_usage_error("--execute and --dry-run exclude each other");
    } else {
      rc = grp_reset(a);
    }
    goto out;
  }
  /* delete */
  if (a->reset || a->execute || a->all_topics)
    rc = cli_usage_error("delete takes -g GROUP... [--topic T[:P,...]]...");
  else if (a->ntopics > 0 && a->ngroups != 1)
    rc = cli_usage_error("delete --topic (offsets) takes exactly one -g GROUP");
  else
    rc = grp_delete(a);
out:
  grp_args_release(a);
  free(a);
  return rc;
}

/* `seglog topics alter`: network only (argv[0] is "alter"). */
int cmd_topics_alter(int argc, char **argv) {
  const char *set[GRP_MAX_CONFIGS], *del[GRP_MAX_CONFIGS];
  int nset = 0, ndel = 0, opt;
  cli_opts co;
  cli_opts_init(&co);
  enum { OPT_ADD = 1, OPT_DEL };
  static const struct option longopts[] = {
      {"add-config", required_argument, NULL, OPT_ADD},
      {"config", required_argument, NULL, OPT_ADD},
      {"delete-config", required_argument, NULL, OPT_DEL},
      {"bootstrap-server", required_argument, NULL, 'b'},
      {"topic", required_argument, NULL, 't'},
      {NULL, 0, NULL, 0}};
  optind = 1;
  while ((opt = getopt_long(argc, argv, "b:X:t:d:", longopts, NULL)) != -1) {
    switch (opt) {
    case OPT_ADD:
    case OPT_DEL: {
      /* kafka-configs takes comma-separated lists: a=1,b=2 */
      const char **list = opt == OPT_ADD ? set : del;
      int *n = opt == OPT_ADD ? &nset : &ndel;
      char *p = optarg;
      while (p) {
        char *comma = strchr(p, ',');
        if (comma)
          *comma = 0;
        if (*n == GRP_MAX_CONFIGS || !*p)
          return cli_usage_error("bad config list '%s'", optarg);
        list[(*n)++] = p;
        p = comma ? comma + 1 : NULL;
      }
      break;
    }
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if (co.dir && !co.brokers)
    return cli_usage_error(
        "topics alter is network-only: a log directory does not store topic configs "
        "(seglogd keeps them); use -b BROKERS");
  if (!co.brokers || !co.topic)
    return cli_usage_error("-b BROKERS and -t TOPIC are required");
  if (nset + ndel == 0)
    return cli_usage_error(
        "nothing to alter: give --add-config K=V or --delete-config K");
  for (int i = 0; i < nset; i++) {
    const char *eq = strchr(set[i], '=');
    if (!eq || eq == set[i])
      return cli_usage_error("--add-config wants NAME=VALUE, got '%s'", set[i]);
    for (int k = 0; k < ndel; k++)
      if (strlen(del[k]) == (size_t)(eq - set[i]) &&
          strncmp(del[k], set[i], (size_t)(eq - set[i])) == 0)
        return cli_usage_error("'%s' is both added and deleted", del[k]);
  }
  net_conf nc = {co.brokers, co.props, co.nprops};
  return grp_topic_alter(&nc, co.topic, set, nset, del, ndel);
}
