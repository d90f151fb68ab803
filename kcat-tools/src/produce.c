/*
 * produce.c - `seglog produce`: records from stdin, a file (-l) or whole files
 * (FILE...) into batches (sl_batch_builder), appended as the leader with
 * sl_log_append, offline through sl_logdir (which takes the log dir's writer
 * lock: if seglogd holds it we say so and exit 4 before reading any input).
 * Input modes: delimited (-D, default newline; -K splits key and value), one
 * JSON envelope per line (-J, as `seglog consume -J` prints), or whole files.
 * Keys are partitioned as Kafka's Java default partitioner does; keyless
 * records stick to one partition per batch.  docs/CLI.md, "produce".
 *
 * Each batch is appended whole or not at all; a malformed input record stops
 * the command after the batches already appended (the message names the
 * input line).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"
#include "seglog/batch.h"
#include "seglog/logdir.h"
#include "slclient/envelope.h"
#include "slclient/partition.h"

/* Uncompressed bytes per batch before it is appended (below Kafka's default
 * max.message.bytes of 1048588 so a full batch is always accepted). */
#define BATCH_TARGET_BYTES (1000 * 1000)
#define READ_CHUNK (256 << 10)
#define MAX_HEADERS 64

typedef struct prod_part {
  sl_log *log; /* borrowed from the logdir; NULL if the partition does not exist */
  sl_batch_builder *b;
  /* Early writeback (see kick_writeback): the active segment we opened, its
   * base offset, and the bytes appended since the last kick. */
  int wb_fd;
  int64_t wb_base;
  int64_t wb_pending;
} prod_part;

/* Start writeback of appended data every this many bytes. */
#define WRITEBACK_EVERY (16 << 20)

typedef struct prod_ctx {
  net_producer *np; /* network mode */
  sl_logdir *ld;
  const char *topic;
  prod_part *parts;
  int32_t nparts;
  int64_t fixed_partition; /* -p, or -1 */
  bool create_missing;     /* -J: create partitions named by envelopes */
  sl_batch_builder_opts bopts;
  sc_sticky sticky;
  sl_header headers[MAX_HEADERS]; /* -H */
  int32_t nheaders;
  int64_t fixed_ts;
  int64_t batch_bytes; /* --batch-bytes */
  int64_t now_ts;      /* wall clock, read once per input chunk */
  sl_buf batch;
  int64_t records;
  int64_t batches;
} prod_ctx;

static int add_partition(prod_ctx *c, int32_t p, bool create) {
  if (p >= c->nparts) {
    prod_part *np = realloc(c->parts, (size_t)(p + 1) * sizeof(*np));
    if (!np)
      return SL_ENOMEM;
    memset(np + c->nparts, 0, (size_t)(p + 1 - c->nparts) * sizeof(*np));
    c->parts = np;
    c->nparts = p + 1;
  }
  prod_part *pp = &c->parts[p];
  if (pp->log)
    return SL_OK;
  pp->wb_fd = -1;
  sl_diag diag;
  sl_diag_clear(&diag);
  pp->log = sl_logdir_get(c->ld, c->topic, p);
  if (!pp->log) {
    if (!create)
      return SL_ENOT_FOUND;
    int rc = sl_logdir_create_partition(c->ld, c->topic, p, NULL, NULL, &pp->log, &diag);
    if (rc) {
      cli_err_diag("create partition", rc, &diag);
      return rc;
    }
  }
  return sl_batch_builder_new(&c->bopts, &pp->b);
}

/*
 * The log fsyncs its segments when it is closed (durability).  Writing 1 GiB
 * and then fsyncing it all at the end doubles the wall time, so every 16 MiB
 * we ask the kernel to start writing back what was appended (sync_file_range
 * SYNC_FILE_RANGE_WRITE: asynchronous, no waiting, no durability promise of
 * its own); the final fsync then finds little left to do.  Best effort: any
 * failure here is ignored (the fsync at close reports real errors).
 */
static void kick_writeback(prod_ctx *c, prod_part *pp, int32_t p, size_t appended) {
  pp->wb_pending += (int64_t)appended;
  if (pp->wb_pending < WRITEBACK_EVERY)
    return;
  pp->wb_pending = 0;
  sl_log_segment_info segs[1];
  size_t n = sl_log_segments(pp->log, NULL, 0);
  if (n == 0)
    return;
  sl_log_segment_info *all = calloc(n, sizeof(*all));
  if (!all)
    return;
  n = sl_log_segments(pp->log, all, n);
  segs[0] = all[n - 1];
  free(all);
  if (pp->wb_fd >= 0 && pp->wb_base != segs[0].base_offset) {
    close(pp->wb_fd);
    pp->wb_fd = -1;
  }
  if (pp->wb_fd < 0) {
    char path[4096];
    int len = snprintf(path, sizeof(path), "%s/%s-%d/%020lld.log", sl_logdir_path(c->ld),
                       c->topic, (int)p, (long long)segs[0].base_offset);
    if (len < 0 || (size_t)len >= sizeof(path))
      return;
    pp->wb_fd = open(path, O_RDONLY | O_CLOEXEC);
    pp->wb_base = segs[0].base_offset;
    if (pp->wb_fd < 0)
      return;
  }
  (void)sync_file_range(pp->wb_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

static int flush_partition(prod_ctx *c, int32_t p) {
  prod_part *pp = &c->parts[p];
  if (!pp->b || sl_batch_builder_count(pp->b) == 0)
    return CLI_OK;
  sl_diag diag;
  sl_diag_clear(&diag);
  sl_buf_reset(&c->batch);
  int rc = sl_batch_builder_finish(pp->b, &c->batch);
  if (rc == 0)
    rc = sl_log_append(pp->log, c->batch.data, c->batch.len,
                       SL_APPEND_LEADER | SL_APPEND_TRUSTED, sl_log_latest_epoch(pp->log),
                       0, NULL, &diag);
  if (rc) {
    char what[300];
    snprintf(what, sizeof(what), "append to %s-%d", c->topic, (int)p);
    cli_err_diag(what, rc, &diag);
    return CLI_ERROR;
  }
  kick_writeback(c, pp, p, c->batch.len);
  /* Offline we are the only replica: the high watermark follows the LEO. */
  sl_log_set_high_watermark(pp->log, sl_log_end_offset(pp->log));
  c->records += sl_batch_builder_count(pp->b);
  c->batches++;
  sl_batch_builder_reset(pp->b, &c->bopts);
  if (c->fixed_partition < 0 && sc_sticky_partition(&c->sticky, c->nparts) == p)
    sc_sticky_next_batch(&c->sticky, c->nparts);
  return CLI_OK;
}

/* Routes and adds one record; partition -1 = choose. */
static int add_record(prod_ctx *c, int32_t partition, int64_t ts, const uint8_t *key,
                      int32_t key_len, const uint8_t *value, int32_t value_len,
                      const sl_header *headers, int32_t nh) {
  int32_t p;
  if (c->np) {
    if (ts < 0)
      ts = c->fixed_ts >= 0 ? c->fixed_ts : 0;
    p = c->fixed_partition >= 0 ? (int32_t)c->fixed_partition : partition;
    return net_producer_send(c->np, c->topic, p, key, key_len, value, value_len, headers,
                             nh, ts);
  }
  if (c->fixed_partition >= 0)
    p = (int32_t)c->fixed_partition;
  else if (partition >= 0)
    p = partition;
  else if (key_len >= 0)
    p = sc_partition_for_key(key, (size_t)key_len, c->nparts);
  else
    p = sc_sticky_partition(&c->sticky, c->nparts);
  if (p >= c->nparts || !c->parts[p].log) {
    int rc = add_partition(c, p, c->create_missing);
    if (rc == SL_ENOT_FOUND) {
      cli_err("%s: topic %s has no partition %d", sl_logdir_path(c->ld), c->topic,
              (int)p);
      return CLI_ERROR;
    }
    if (rc)
      return CLI_ERROR;
  }
  prod_part *pp = &c->parts[p];
  size_t est =
      32 + (size_t)(key_len > 0 ? key_len : 0) + (size_t)(value_len > 0 ? value_len : 0);
  for (int32_t i = 0; i < nh; i++)
    est += 16 + (size_t)headers[i].key_len +
           (size_t)(headers[i].value_len > 0 ? headers[i].value_len : 0);
  if (sl_batch_builder_count(pp->b) > 0 &&
      sl_batch_builder_size(pp->b) + est > (size_t)c->batch_bytes) {
    int rc = flush_partition(c, p);
    if (rc)
      return rc;
    /* A keyless record moves on with the sticky partition. */
    if (c->fixed_partition < 0 && partition < 0 && key_len < 0)
      return add_record(c, partition, ts, key, key_len, value, value_len, headers, nh);
  }
  if (ts < 0)
    ts = c->fixed_ts >= 0 ? c->fixed_ts : c->now_ts;
  int rc = sl_batch_builder_add(pp->b, ts, key, key_len, value, value_len, headers, nh);
  if (rc) {
    cli_err("record: %s", sl_strerror(rc));
    return CLI_ERROR;
  }
  return CLI_OK;
}

static int flush_all(prod_ctx *c) {
  for (int32_t p = 0; p < c->nparts; p++) {
    int rc = flush_partition(c, p);
    if (rc)
      return rc;
  }
  return CLI_OK;
}

/* One delimited record (key split with -K). */
static int delimited_record(prod_ctx *c, const uint8_t *p, size_t n, const sl_buf *kdelim,
                            bool null_empty) {
  if (n > INT32_MAX) {
    cli_err("record of %zu bytes is too large", n);
    return CLI_ERROR;
  }
  const uint8_t *key = NULL;
  int32_t key_len = -1;
  if (kdelim->len > 0) {
    const uint8_t *k = memmem(p, n, kdelim->data, kdelim->len);
    if (k) {
      key = p;
      key_len = (int32_t)(k - p);
      size_t skip = (size_t)(k - p) + kdelim->len;
      p += skip;
      n -= skip;
    }
  }
  int32_t vlen = (int32_t)n;
  if (n == 0 && null_empty)
    vlen = -1;
  return add_record(c, -1, -1, key, key_len, vlen >= 0 ? p : NULL, vlen, c->headers,
                    c->nheaders);
}

static int json_record(prod_ctx *c, sc_envelope_decoder *dec, const uint8_t *p, size_t n,
                       int64_t line) {
  /* blank lines are skipped */
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
    i++;
  if (i == n)
    return CLI_OK;
  sc_record r;
  sl_diag diag;
  sl_diag_clear(&diag);
  int rc = sc_envelope_decode(dec, (const char *)p, n, &r, &diag);
  if (rc) {
    cli_err("input line %lld: at character %lld: %s", (long long)line,
            (long long)diag.pos, rc == SL_ENOMEM ? "out of memory" : diag.msg);
    return CLI_ERROR;
  }
  const sl_header *hs = r.headers;
  int32_t nh = r.header_count;
  sl_header merged[MAX_HEADERS * 2];
  if (c->nheaders > 0) {
    if (nh > MAX_HEADERS) {
      cli_err("input line %lld: too many headers to add -H headers", (long long)line);
      return CLI_ERROR;
    }
    memcpy(merged, r.headers, (size_t)nh * sizeof(*merged));
    memcpy(merged + nh, c->headers, (size_t)c->nheaders * sizeof(*merged));
    hs = merged;
    nh += c->nheaders;
  }
  return add_record(c, r.partition, r.timestamp, r.key, r.key_len, r.value, r.value_len,
                    hs, nh);
}

/* Reads fd to the end, splitting records at delim (JSON: newline). */
static int read_stream(prod_ctx *c, int fd, const char *name, const sl_buf *delim,
                       const sl_buf *kdelim, bool json, bool null_empty) {
  sl_buf in = SL_BUF_INIT;
  sc_envelope_decoder *dec = NULL;
  int rc = CLI_OK;
  int64_t line = 0;
  bool eof = false;
  if (json && sc_envelope_decoder_new(&dec)) {
    cli_err("out of memory");
    return CLI_ERROR;
  }
  size_t consumed = 0;
  while (!eof && rc == CLI_OK) {
    /* Keep the unconsumed tail at the front, then read more. */
    if (consumed > 0) {
      memmove(in.data, in.data + consumed, in.len - consumed);
      in.len -= consumed;
      consumed = 0;
    }
    uint8_t *w = sl_buf_reserve(&in, READ_CHUNK);
    if (!w) {
      cli_err("out of memory");
      rc = CLI_ERROR;
      break;
    }
    ssize_t n = read(fd, w, READ_CHUNK);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      cli_err("%s: read: %s", name, strerror(errno));
      rc = CLI_ERROR;
      break;
    }
    if (n == 0)
      eof = true;
    in.len += (size_t)n;
    c->now_ts = cli_now_ms();
    size_t scan_from = 0;
    for (;;) {
      const uint8_t *start = in.data + consumed;
      size_t avail = in.len - consumed;
      const uint8_t *d;
      if (delim->len == 1)
        d = memchr(start + scan_from, delim->data[0], avail - scan_from);
      else
        d = memmem(start + scan_from, avail - scan_from, delim->data, delim->len);
      size_t reclen;
      if (d) {
        reclen = (size_t)(d - start);
      } else if (eof && avail > 0) {
        reclen = avail; /* a last record without a delimiter */
      } else {
        break;
      }
      line++;
      rc = json ? json_record(c, dec, start, reclen, line)
                : delimited_record(c, start, reclen, kdelim, null_empty);
      if (rc)
        break;
      consumed += reclen + (d ? delim->len : 0);
      scan_from = 0;
      if (consumed >= in.len)
        break;
    }
    /* A partial record stays; do not rescan the part that has no delimiter. */
  }
  sc_envelope_decoder_free(dec);
  sl_buf_release(&in);
  return rc;
}

static int whole_file(prod_ctx *c, const char *path) {
  sl_buf data = SL_BUF_INIT;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int rc = CLI_OK;
  if (fd < 0) {
    cli_err("%s: %s", path, strerror(errno));
    return CLI_ERROR;
  }
  for (;;) {
    uint8_t *w = sl_buf_reserve(&data, 1 << 20);
    if (!w) {
      rc = CLI_ERROR;
      cli_err("out of memory");
      break;
    }
    ssize_t n = read(fd, w, 1 << 20);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      cli_err("%s: read: %s", path, strerror(errno));
      rc = CLI_ERROR;
      break;
    }
    if (n == 0)
      break;
    data.len += (size_t)n;
    if (data.len > INT32_MAX) {
      cli_err("%s: too large for one record", path);
      rc = CLI_ERROR;
      break;
    }
  }
  close(fd);
  c->now_ts = cli_now_ms();
  if (rc == CLI_OK)
    rc = add_record(c, -1, -1, NULL, -1, data.data ? data.data : (const uint8_t *)"",
                    (int32_t)data.len, c->headers, c->nheaders);
  sl_buf_release(&data);
  return rc;
}

int cmd_produce(int argc, char **argv) {
  const char *codec = NULL, *list_file = NULL;
  const char *delim_s = "\\n", *kdelim_s = NULL;
  const char *hdr_args[MAX_HEADERS];
  int nhdr = 0;
  int64_t partition = -1, nparts_new = 1, fixed_ts = -1, batch_bytes = BATCH_TARGET_BYTES;
  bool json = false, null_empty = false;
  cli_opts co;
  cli_opts_init(&co);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  static const struct option longopts[] = {{"partitions", required_argument, NULL, 'P'},
                                           {"topic-config", required_argument, NULL, 'C'},
                                           {"batch-bytes", required_argument, NULL, 'B'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:t:p:K:D:H:z:l:JT:Zb:X:", longopts, NULL)) !=
         -1) {
    switch (opt) {
    case 'p':
      if (cli_parse_i64(optarg, 0, INT32_MAX - 1, &partition))
        return cli_usage_error("bad partition '%s'", optarg);
      break;
    case 'K':
      kdelim_s = optarg;
      break;
    case 'D':
      delim_s = optarg;
      break;
    case 'H':
      if (nhdr == MAX_HEADERS)
        return cli_usage_error("at most %d -H headers", MAX_HEADERS);
      if (!strchr(optarg, '='))
        return cli_usage_error("-H wants KEY=VALUE, got '%s'", optarg);
      hdr_args[nhdr++] = optarg;
      break;
    case 'z':
      codec = optarg;
      break;
    case 'l':
      list_file = optarg;
      break;
    case 'J':
      json = true;
      break;
    case 'T':
      if (cli_parse_time(optarg, &fixed_ts) || fixed_ts < 0)
        return cli_usage_error("bad timestamp '%s'", optarg);
      break;
    case 'Z':
      null_empty = true;
      break;
    case 'C': {
      char name[128];
      const char *eq = strchr(optarg, '=');
      sl_diag cd;
      sl_diag_clear(&cd);
      if (!eq || (size_t)(eq - optarg) >= sizeof(name))
        return cli_usage_error("--topic-config wants NAME=VALUE, got '%s'", optarg);
      memcpy(name, optarg, (size_t)(eq - optarg));
      name[eq - optarg] = 0;
      int crc = sl_log_config_set(&cfg, name, eq + 1, &cd);
      if (crc == SL_ENOT_FOUND)
        return cli_usage_error("unknown topic config '%s'", name);
      if (crc)
        return cli_usage_error("--topic-config %s: %s", optarg, cd.msg);
      break;
    }
    case 'B':
      if (cli_parse_i64(optarg, 1, 64 << 20, &batch_bytes))
        return cli_usage_error("bad --batch-bytes '%s'", optarg);
      break;
    case 'P':
      if (cli_parse_i64(optarg, 1, 1000000, &nparts_new))
        return cli_usage_error("bad --partitions '%s'", optarg);
      break;
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if ((!co.dir && !co.brokers) || !co.topic)
    return cli_usage_error("-d DIR (or -b BROKERS) and -t TOPIC are required");
  if (co.dir && co.brokers)
    return cli_usage_error("-d and -b exclude each other");
  if (!sl_topic_name_is_valid(co.topic))
    return cli_usage_error("'%s' is not a valid topic name", co.topic);
  if (list_file && optind < argc)
    return cli_usage_error("-l FILE and whole FILE arguments exclude each other");
  if (json && optind < argc)
    return cli_usage_error("-J reads JSON lines; FILE arguments are not allowed");

  prod_ctx c;
  memset(&c, 0, sizeof(c));
  c.topic = co.topic;
  c.fixed_partition = partition;
  c.create_missing = json;
  c.fixed_ts = fixed_ts;
  c.batch_bytes = batch_bytes;
  sl_batch_builder_opts_init(&c.bopts);
  sl_buf_init(&c.batch);
  sc_sticky_init(&c.sticky, (uint64_t)cli_now_ms() ^ ((uint64_t)getpid() << 32));
  if (codec && sl_compression_parse(codec, &c.bopts.compression))
    return cli_usage_error("unknown codec '%s' (none, gzip, snappy, lz4, zstd)", codec);
  sl_buf delim = SL_BUF_INIT, kdelim = SL_BUF_INIT;
  if (cli_unescape(json ? "\\n" : delim_s, &delim) || delim.len == 0)
    return cli_usage_error("bad delimiter '%s'", delim_s);
  if (kdelim_s && (cli_unescape(kdelim_s, &kdelim) || kdelim.len == 0)) {
    sl_buf_release(&delim);
    return cli_usage_error("bad key delimiter '%s'", kdelim_s);
  }
  for (int i = 0; i < nhdr; i++) {
    const char *eq = strchr(hdr_args[i], '=');
    c.headers[i].key = (const uint8_t *)hdr_args[i];
    c.headers[i].key_len = (int32_t)(eq - hdr_args[i]);
    c.headers[i].value = (const uint8_t *)eq + 1;
    c.headers[i].value_len = (int32_t)strlen(eq + 1);
  }
  c.nheaders = nhdr;

  int rc = CLI_ERROR;
  int in_fd = -1;
  sl_diag diag;
  sl_diag_clear(&diag);
  if (co.brokers) {
    net_conf nc = {co.brokers, co.props, co.nprops};
    rc = net_producer_new(&nc, codec, &c.np);
    if (rc)
      goto out;
    goto input;
  }
  sl_logdir_opts lo;
  sl_logdir_opts_init(&lo);
  lo.create = true;
  lo.default_config = &cfg;
  int orc = sl_logdir_open(co.dir, &lo, &c.ld, &diag);
  if (orc == SL_ELOCKED) {
    cli_err_diag(co.dir, orc, &diag);
    cli_err("the log directory is in use by another writer (seglogd?); nothing written");
    rc = CLI_LOCKED;
    goto out;
  }
  if (orc) {
    cli_err_diag(co.dir, orc, &diag);
    goto out;
  }
  /* Existing partitions of the topic; create the topic if it has none. */
  int32_t maxp = -1;
  for (size_t i = 0; i < sl_logdir_count(c.ld); i++) {
    const char *t;
    int32_t p;
    sl_log *log;
    if (sl_logdir_at(c.ld, i, &t, &p, &log) && strcmp(t, co.topic) == 0 && p > maxp)
      maxp = p;
  }
  if (maxp < 0) {
    for (int32_t p = 0; p < (int32_t)nparts_new; p++)
      if (add_partition(&c, p, true))
        goto out;
  } else {
    for (int32_t p = 0; p <= maxp; p++) {
      int arc = add_partition(&c, p, false);
      if (arc && arc != SL_ENOT_FOUND)
        goto out;
    }
  }
  if (partition >= 0 && (partition >= c.nparts || !c.parts[partition].log)) {
    cli_err("%s: topic %s has no partition %lld", co.dir, co.topic, (long long)partition);
    goto out;
  }

input:
  if (optind < argc) {
    rc = CLI_OK;
    for (int i = optind; i < argc && rc == CLI_OK; i++)
      rc = whole_file(&c, argv[i]);
  } else {
    const char *name = list_file ? list_file : "stdin";
    in_fd = list_file ? open(list_file, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (in_fd < 0) {
      cli_err("%s: %s", list_file, strerror(errno));
      goto out;
    }
    rc = read_stream(&c, in_fd, name, &delim, &kdelim, json, null_empty);
  }
  /* Whatever was read before an input error is appended (whole batches). */
  if (!c.np) {
    int frc = flush_all(&c);
    if (rc == CLI_OK)
      rc = frc;
  }
out:
  if (c.np) {
    int nrc = net_producer_close(c.np);
    if (rc == CLI_OK)
      rc = nrc;
  }
  if (in_fd > STDIN_FILENO)
    close(in_fd);
  if (c.parts)
    for (int32_t p = 0; p < c.nparts; p++) {
      sl_batch_builder_free(c.parts[p].b);
      if (c.parts[p].log && c.parts[p].wb_fd >= 0)
        close(c.parts[p].wb_fd);
    }
  free(c.parts);
  if (c.ld) {
    int crc = sl_logdir_close(c.ld, &diag);
    if (crc) {
      cli_err_diag("close", crc, &diag);
      if (rc == CLI_OK)
        rc = CLI_ERROR;
    }
  }
  sl_buf_release(&c.batch);
  sl_buf_release(&delim);
  sl_buf_release(&kdelim);
  return rc;
}
