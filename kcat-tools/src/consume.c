/*
 * consume.c - `seglog consume`: prints the records of a topic, offline from a
 * log directory through libseglog (read-only open: no lock, safe while
 * seglogd appends), as kcat -C does: -o start points, -e pinned end offsets,
 * -c counts, -f format strings or the -J envelope (docs/CLI.md, "consume").
 *
 * Reads are sl_log_read slices of whole batches (up to 8 MiB), mapped
 * read-only (mmap, MAP_POPULATE: no copy into user space, which was half the
 * time of a consume), CRC-checked, and rendered into the 1 MiB stdout
 * buffer.  A slice that cannot be mapped is pread into a buffer instead.
 * Without -e the partitions are followed: when none has new data the logs
 * are refreshed (sl_log_refresh) every 100 ms.
 *
 * A mapped file that another process truncates under us (recovery or
 * `verify --repair` of a torn tail) raises SIGBUS on access; the walk of a
 * mapped slice runs under slclient's guard (slclient/mapguard.h), which ends
 * it there, the output stops after the last whole record and the tool
 * reports the truncation and exits 1 rather than crash (docs/CLI.md,
 * "consume").
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"
#include "seglog/batch.h"
#include "slclient/envelope.h"
#include "slclient/format.h"
#include "slclient/mapguard.h"

#define READ_MAX_BYTES (8 << 20)

static size_t out_mark; /* stdout buffer length after the last whole record */

#define FOLLOW_POLL_MS 100

typedef enum { START_BEGINNING, START_END, START_ABS, START_REL, START_TIME } start_kind;

typedef struct part_state {
  int32_t partition;
  sl_log *log;
  int64_t next;
  int64_t end; /* -1: follow */
  bool done;
} part_state;

typedef struct consume_ctx {
  const char *dir;
  const char *topic;
  size_t topic_len;
  sc_format *fmt; /* NULL with -J */
  bool json;
  int64_t stop_ts; /* e@TS, -1 none */
  int64_t count;   /* -1 unlimited */
  int64_t printed;
  sl_batch_reader *reader;
  uint8_t *buf;
  size_t buf_cap;
} consume_ctx;

static int parse_start(const char *s, start_kind *kind, int64_t *value,
                       int64_t *stop_ts) {
  if (strcmp(s, "beginning") == 0) {
    *kind = START_BEGINNING;
  } else if (strcmp(s, "end") == 0) {
    *kind = START_END;
  } else if (strncmp(s, "s@", 2) == 0) {
    *kind = START_TIME;
    return cli_parse_time(s + 2, value);
  } else if (strncmp(s, "e@", 2) == 0) {
    return cli_parse_time(s + 2, stop_ts);
  } else if (s[0] == '-') {
    *kind = START_REL;
    return cli_parse_i64(s + 1, 0, INT64_MAX, value);
  } else {
    *kind = START_ABS;
    return cli_parse_i64(s, 0, INT64_MAX, value);
  }
  return SL_OK;
}

/* Renders one record; returns CLI_OK, CLI_PIPE_CLOSED or CLI_ERROR. */
static int emit_record(void *ctx, const sc_record *r) {
  consume_ctx *c = ctx;
  sl_buf *out = cli_out();
  int rc;
  if (c->json) {
    rc = sc_envelope_encode(r, out);
    if (rc == 0)
      rc = sl_buf_u8(out, '\n');
  } else {
    rc = sc_format_render(c->fmt, r, out);
  }
  if (rc) {
    cli_err("out of memory");
    return CLI_ERROR;
  }
  c->printed++;
  rc = cli_out_maybe_flush();
  out_mark = out->len;
  return rc;
}

static int emit(consume_ctx *c, int32_t partition, const sl_batch_header *h,
                const sl_record *rec) {
  sc_record r;
  sc_record_init(&r);
  r.topic = c->topic;
  r.topic_len = c->topic_len;
  r.partition = partition;
  r.offset = rec->offset;
  r.timestamp = rec->timestamp;
  r.tstype = h->magic == 0                               ? SC_TSTYPE_NONE
             : (h->attributes & SL_ATTR_LOG_APPEND_TIME) ? SC_TSTYPE_LOGAPPEND
                                                         : SC_TSTYPE_CREATE;
  r.key = rec->key;
  r.key_len = rec->key_len;
  r.value = rec->value;
  r.value_len = rec->value_len;
  r.headers = rec->headers;
  r.header_count = rec->header_count;
  return emit_record(c, &r);
}

static int consume_batches(consume_ctx *c, part_state *ps, const uint8_t *data,
                           size_t got, const char *segname, int64_t file_pos,
                           bool *progress);

/* consume_batches' arguments, for its run under the SIGBUS guard. */
typedef struct batches_call {
  consume_ctx *c;
  part_state *ps;
  const uint8_t *data;
  size_t got;
  const char *segname;
  int64_t file_pos;
  bool *progress;
} batches_call;

static int call_consume_batches(void *arg) {
  batches_call *b = arg;
  return consume_batches(b->c, b->ps, b->data, b->got, b->segname, b->file_pos,
                         b->progress);
}

/*
 * Reads and prints what is available of one partition.  *progress says
 * whether anything was read.  Returns a CLI_* status.
 */
static int consume_some(consume_ctx *c, part_state *ps, bool *progress) {
  sl_diag diag;
  sl_log_slice s;
  int rc;
  *progress = false;
  sl_diag_clear(&diag);
  int64_t start = sl_log_start_offset(ps->log);
  int64_t leo = sl_log_end_offset(ps->log);
  if (ps->next < start)
    ps->next = start; /* retention moved past us: continue at the log start */
  if (ps->end >= 0 && ps->next >= ps->end) {
    ps->done = true;
    return CLI_OK;
  }
  if (ps->next >= leo)
    return CLI_OK;
  rc = sl_log_read(ps->log, ps->next, READ_MAX_BYTES, ps->end >= 0 ? ps->end : -1, &s,
                   &diag);
  if (rc == SL_EOFFSET_OUT_OF_RANGE)
    return CLI_OK; /* raced with retention or truncation; the next round retries */
  if (rc) {
    cli_err_diag("read", rc, &diag);
    return CLI_ERROR;
  }
  if (s.length == 0) {
    sl_log_slice_release(&s);
    return CLI_OK;
  }
  char segname[64];
  snprintf(segname, sizeof(segname), "%020lld.log", (long long)s.segment_base);
  int64_t file_pos = s.position;
  size_t got = 0;
  const uint8_t *data = NULL;
  void *map = MAP_FAILED;
  size_t map_len = 0;
  struct stat st;
  long page = sysconf(_SC_PAGESIZE);
  off_t map_off = (off_t)(s.position - s.position % page);
  if (fstat(s.fd, &st) == 0 && st.st_size >= s.position + s.length) {
    map_len = (size_t)(s.position - map_off + s.length);
    map = mmap(NULL, map_len, PROT_READ, MAP_SHARED | MAP_POPULATE, s.fd, map_off);
  }
  if (map != MAP_FAILED) {
    data = (const uint8_t *)map + (s.position - map_off);
    got = (size_t)s.length;
  } else {
    if ((size_t)s.length > c->buf_cap) {
      uint8_t *nb = realloc(c->buf, (size_t)s.length);
      if (!nb) {
        sl_log_slice_release(&s);
        cli_err("out of memory");
        return CLI_ERROR;
      }
      c->buf = nb;
      c->buf_cap = (size_t)s.length;
    }
    while (got < (size_t)s.length) {
      ssize_t n =
          pread(s.fd, c->buf + got, (size_t)s.length - got, s.position + (off_t)got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; /* truncated under us: frame what we have */
      got += (size_t)n;
    }
    data = c->buf;
  }
  /* The mapping keeps the file's pages reachable after the slice (and the
   * segment reference) is released. */
  sl_log_slice_release(&s);
  if (map == MAP_FAILED)
    return consume_batches(c, ps, data, got, segname, file_pos, progress);
  out_mark = cli_out()->len;
  batches_call call = {c, ps, data, got, segname, file_pos, progress};
  int grc = sc_mapguard_run(map, map_len, call_consume_batches, &call, &rc, NULL);
  munmap(map, map_len);
  if (grc == SL_ETRUNCATED) {
    /* The file shrank under the mapping: keep whole records only. */
    cli_out()->len = out_mark;
    cli_err("%s/%s-%d/%s: the segment was truncated while being read (at or after "
            "offset %lld); stopping",
            c->dir, c->topic, (int)ps->partition, segname, (long long)ps->next);
    return CLI_ERROR;
  }
  if (grc) {
    cli_err("%s/%s-%d/%s: cannot guard the mapped read: %s", c->dir, c->topic,
            (int)ps->partition, segname, sl_strerror(grc));
    return CLI_ERROR;
  }
  return rc;
}

/* Prints the records of the whole batches in data[0..got) (see consume_some). */
static int consume_batches(consume_ctx *c, part_state *ps, const uint8_t *data,
                           size_t got, const char *segname, int64_t file_pos,
                           bool *progress) {
  sl_diag diag;
  int rc;
  sl_diag_clear(&diag);
  size_t pos = 0;
  rc = CLI_OK;
  while (pos < got && rc == CLI_OK && !ps->done) {
    int64_t base;
    int32_t size;
    int8_t magic;
    if (sl_batch_peek(data + pos, got - pos, &base, &size, &magic) != 0 ||
        (size_t)size > got - pos)
      break; /* incomplete: the next read starts here */
    sl_batch_header h;
    if (sl_batch_validate(data + pos, (size_t)size, &diag) != 0 ||
        sl_batch_reader_open(c->reader, data + pos, (size_t)size, &h, &diag) != 0) {
      cli_err("%s/%s-%d/%s: at byte %lld: %s", c->dir, c->topic, (int)ps->partition,
              segname, (long long)(file_pos + (int64_t)pos), diag.msg);
      return CLI_ERROR;
    }
    int64_t last = sl_batch_last_offset(&h);
    if (last >= ps->next && !sl_batch_is_control(&h)) {
      sl_record rec;
      int nr;
      while ((nr = sl_batch_reader_next(c->reader, &rec, &diag)) == 1) {
        if (rec.offset < ps->next)
          continue;
        if (ps->end >= 0 && rec.offset >= ps->end) {
          ps->done = true;
          break;
        }
        if (c->stop_ts >= 0 && rec.timestamp >= c->stop_ts) {
          ps->done = true;
          break;
        }
        rc = emit(c, ps->partition, &h, &rec);
        ps->next = rec.offset + 1;
        if (rc != CLI_OK)
          break;
        if (c->count >= 0 && c->printed >= c->count)
          return CLI_OK;
      }
      if (nr < 0) {
        cli_err("%s/%s-%d/%s: in the batch at byte %lld: %s", c->dir, c->topic,
                (int)ps->partition, segname, (long long)(file_pos + (int64_t)pos),
                diag.msg);
        return CLI_ERROR;
      }
    }
    if (!ps->done && last + 1 > ps->next)
      ps->next = last + 1;
    *progress = true;
    pos += (size_t)size;
  }
  return rc;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int append_escaped_pct(sl_buf *b, const char *s) {
  for (; *s; s++) {
    if (*s == '%' && sl_buf_u8(b, '%'))
      return SL_ENOMEM;
    if (sl_buf_u8(b, (uint8_t)*s))
      return SL_ENOMEM;
  }
  return SL_OK;
}

int cmd_consume(int argc, char **argv) {
  const char *format = NULL, *key_delim = NULL;
  const char *delim = "\\n";
  int64_t count = -1, start_value = 0, stop_ts = -1;
  start_kind start = START_BEGINNING;
  bool pin_end = false, json = false, null_str = false;
  const char *group = NULL;
  cli_opts co;
  cli_opts_init(&co);
  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:t:p:o:ec:f:JK:D:Zb:X:G:", longopts, NULL)) !=
         -1) {
    switch (opt) {
    case 'o':
      if (parse_start(optarg, &start, &start_value, &stop_ts))
        return cli_usage_error("bad offset '%s'", optarg);
      break;
    case 'e':
      pin_end = true;
      break;
    case 'c':
      if (cli_parse_i64(optarg, 0, INT64_MAX, &count))
        return cli_usage_error("bad count '%s'", optarg);
      break;
    case 'f':
      format = optarg;
      break;
    case 'J':
      json = true;
      break;
    case 'K':
      key_delim = optarg;
      break;
    case 'D':
      delim = optarg;
      break;
    case 'Z':
      null_str = true;
      break;
    case 'G':
      group = optarg;
      break;
    default:
      if (cli_opts_take(&co, opt, optarg) != CLI_OK)
        return CLI_USAGE;
      break;
    }
  }
  if (optind < argc)
    return cli_usage_error("unexpected argument '%s'", argv[optind]);
  if ((!co.dir && !co.brokers) || !co.topic)
    return cli_usage_error("-d DIR (or -b BROKERS) and -t TOPIC are required");
  if (co.dir && co.brokers)
    return cli_usage_error("-d and -b exclude each other");
  if (group && !co.brokers)
    return cli_usage_error("-G needs network mode (-b)");
  if (group && co.partition >= 0)
    return cli_usage_error("-G and -p exclude each other (the group assigns partitions)");
  if (json && format)
    return cli_usage_error("-f and -J exclude each other");

  int rc = CLI_ERROR;
  consume_ctx c;
  memset(&c, 0, sizeof(c));
  c.dir = co.dir;
  c.topic = co.topic;
  c.topic_len = strlen(co.topic);
  c.json = json;
  c.stop_ts = stop_ts;
  c.count = count;
  cli_partition *plist = NULL;
  size_t np = 0;
  part_state *parts = NULL;
  sl_buf fmtbuf = SL_BUF_INIT;
  sl_diag diag;
  sl_diag_clear(&diag);

  if (!json) {
    if (!format) {
      if (key_delim) {
        sl_buf_append(&fmtbuf, "%k", 2);
        append_escaped_pct(&fmtbuf, key_delim);
      }
      sl_buf_append(&fmtbuf, "%s", 2);
      append_escaped_pct(&fmtbuf, delim);
      sl_buf_u8(&fmtbuf, 0);
      if (fmtbuf.err) {
        cli_err("out of memory");
        goto out;
      }
      format = (const char *)fmtbuf.data;
    }
    int frc = sc_format_compile(format, &c.fmt, &diag);
    if (frc) {
      rc =
          cli_usage_error("format: at character %lld: %s", (long long)diag.pos, diag.msg);
      goto out;
    }
    if (null_str && sc_format_set_null(c.fmt, "NULL")) {
      cli_err("out of memory");
      goto out;
    }
  }
  if (co.brokers) {
    net_conf nc = {co.brokers, co.props, co.nprops};
    static const net_start_kind kinds[] = {NET_START_BEGINNING, NET_START_END,
                                           NET_START_ABS, NET_START_REL, NET_START_TIME};
    net_consume_args na = {&nc,     co.topic, co.partition, kinds[start], start_value,
                           stop_ts, pin_end,  count,        group};
    rc = net_consume(&na, emit_record, &c);
    if (rc == CLI_OK)
      rc = cli_out_flush();
    goto out;
  }
  if (sl_batch_reader_new(0, &c.reader)) {
    cli_err("out of memory");
    goto out;
  }
  int lrc = cli_list_partitions(co.dir, co.topic, &plist, &np);
  if (lrc) {
    cli_err("%s: %s", co.dir,
            lrc == SL_ENOT_FOUND ? "no such log directory" : sl_strerror(lrc));
    goto out;
  }
  if (co.partition >= 0) {
    size_t k = 0;
    for (size_t i = 0; i < np; i++)
      if (plist[i].partition == co.partition)
        plist[k++] = plist[i];
    np = k;
  }
  if (np == 0) {
    if (co.partition >= 0)
      cli_err("%s: no partition %s-%lld", co.dir, co.topic, (long long)co.partition);
    else
      cli_err("%s: no topic '%s'", co.dir, co.topic);
    goto out;
  }
  parts = calloc(np, sizeof(*parts));
  if (!parts) {
    cli_err("out of memory");
    goto out;
  }
  for (size_t i = 0; i < np; i++) {
    part_state *ps = &parts[i];
    ps->partition = plist[i].partition;
    int orc = cli_open_readonly(co.dir, co.topic, ps->partition, &ps->log, &diag);
    if (orc) {
      cli_err_diag("open", orc, &diag);
      goto out;
    }
    int64_t lso = sl_log_start_offset(ps->log), leo = sl_log_end_offset(ps->log);
    switch (start) {
    case START_BEGINNING:
      ps->next = lso;
      break;
    case START_END:
      ps->next = leo;
      break;
    case START_ABS:
      ps->next = start_value < lso ? lso : start_value;
      break;
    case START_REL:
      ps->next = leo - start_value < lso ? lso : leo - start_value;
      break;
    case START_TIME: {
      int64_t off, ts;
      int frc = sl_log_find_offset_by_time(ps->log, start_value, &off, &ts, &diag);
      if (frc == SL_ENOT_FOUND)
        ps->next = leo;
      else if (frc) {
        cli_err_diag("offset for time", frc, &diag);
        goto out;
      } else
        ps->next = off;
      break;
    }
    }
    ps->end = pin_end ? leo : -1;
  }

  rc = CLI_OK;
  for (;;) {
    bool any_progress = false, all_done = true;
    for (size_t i = 0; i < np && rc == CLI_OK; i++) {
      part_state *ps = &parts[i];
      bool progress = true;
      /* Drain one partition at a time while it has data (kcat prints partitions
       * in arrival order; offline that is one after the other). */
      while (!ps->done && progress && rc == CLI_OK) {
        rc = consume_some(&c, ps, &progress);
        any_progress |= progress;
        if (count >= 0 && c.printed >= count)
          goto done;
      }
      all_done &= ps->done;
    }
    if (rc != CLI_OK || all_done)
      break;
    if (!any_progress) {
      /* Nothing new anywhere (or, with -e, data below the pinned end that is
       * not readable yet): wait and look again. */
      rc = cli_out_flush();
      if (rc != CLI_OK)
        break;
      sleep_ms(FOLLOW_POLL_MS);
      for (size_t i = 0; i < np; i++) {
        int frc = sl_log_refresh(parts[i].log, &diag);
        if (frc) {
          cli_err_diag("refresh", frc, &diag);
          rc = CLI_ERROR;
          break;
        }
      }
    }
  }
done:
  if (rc == CLI_OK)
    rc = cli_out_flush();
out:
  if (parts)
    for (size_t i = 0; i < np; i++)
      sl_log_close(parts[i].log, NULL);
  free(parts);
  free(plist);
  free(c.buf);
  sl_batch_reader_free(c.reader);
  sc_format_free(c.fmt);
  sl_buf_release(&fmtbuf);
  return rc;
}
