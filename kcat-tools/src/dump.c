/*
 * dump.c - `seglog dump`: shows Kafka's on-disk files as kafka-dump-log does
 * (segments with batch headers, records with --deep-iteration, keys/values
 * with --print-data-log, control records decoded), plus the index, time
 * index, txn index, producer snapshot, checkpoint, partition.metadata,
 * meta.properties and clean-shutdown files, or whole partition/log dirs;
 * --json gives one object per batch or file.  Damage is reported with the
 * file and byte position and never stops the tool from showing the rest it
 * can frame.  Formats: docs/FORMAT.md; the output: docs/CLI.md ("dump").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "decode.h"
#include "seglog/batch.h"
#include "seglog/checkpoint.h"
#include "seglog/index.h"
#include "seglog/meta.h"
#include "seglog/pstate.h"
#include "slclient/envelope.h"

#define MAX_SMALL_FILE (256u << 20)

typedef struct dump_opts {
  cli_internal_topic internal; /* of the file being dumped */
  bool decode_internal;        /* not --raw-internal */
  bool deep;
  bool data;
  bool json;
  int problems;
} dump_opts;

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Base offset from a 20-digit file name; 0 if it is not one. */
static int64_t name_base_offset(const char *path) {
  const char *b = base_name(path);
  int64_t v = 0;
  size_t i = 0;
  while (b[i] >= '0' && b[i] <= '9')
    i++;
  if (i != 20 || sl_parse_decimal(b, 20, 0, INT64_MAX, &v))
    return 0;
  return v;
}

static int read_small(const char *path, uint8_t **data, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  *data = NULL;
  *len = 0;
  if (fd < 0) {
    cli_err("%s: %s", path, strerror(errno));
    return CLI_ERROR;
  }
  if (fstat(fd, &st) || (uint64_t)st.st_size > MAX_SMALL_FILE) {
    cli_err("%s: too large to dump (%lld bytes)", path, (long long)st.st_size);
    close(fd);
    return CLI_ERROR;
  }
  uint8_t *p = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  if (!p) {
    close(fd);
    return CLI_ERROR;
  }
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  *data = p;
  *len = got;
  return CLI_OK;
}

static void problem(dump_opts *o, const char *path, int64_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(dump_opts *o, const char *path, int64_t pos, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  o->problems++;
  cli_out_flush();
  if (pos >= 0)
    cli_err("%s: at byte %lld: %s", path, (long long)pos, msg);
  else
    cli_err("%s: %s", path, msg);
}

static const char *bool_s(bool b) {
  return b ? "true" : "false";
}

static void out_bytes_text(const uint8_t *p, int32_t len) {
  sl_buf *out = cli_out();
  if (len < 0) {
    sl_buf_append(out, "null", 4);
    return;
  }
  /* As kafka-dump-log: the bytes as a string; control characters (and, when
   * the bytes are not UTF-8, every byte above 0x7f) escaped as \xNN so one
   * record stays on one line and the output stays valid UTF-8. */
  bool utf8 = sc_utf8_valid(p, (size_t)len);
  for (int32_t i = 0; i < len; i++) {
    uint8_t c = p[i];
    if (c == '\n')
      sl_buf_append(out, "\\n", 2);
    else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
      char tmp[8];
      int n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
      sl_buf_append(out, tmp, (size_t)n);
    } else
      sl_buf_u8(out, c);
  }
}

static const char *control_name(int16_t type) {
  switch (type) {
  case SL_CONTROL_ABORT:
    return "ABORT";
  case SL_CONTROL_COMMIT:
    return "COMMIT";
  case SL_CONTROL_LEADER_CHANGE:
    return "LEADER_CHANGE";
  case SL_CONTROL_SNAPSHOT_HEADER:
    return "SNAPSHOT_HEADER";
  case SL_CONTROL_SNAPSHOT_FOOTER:
    return "SNAPSHOT_FOOTER";
  case SL_CONTROL_KRAFT_VERSION:
    return "KRAFT_VERSION";
  case SL_CONTROL_KRAFT_VOTERS:
    return "KRAFT_VOTERS";
  default:
    return "UNKNOWN";
  }
}

static void dump_batch_text(dump_opts *o, const sl_batch_header *h, int64_t position,
                            int32_t size, bool crc_ok) {
  const char *tst =
      (h->attributes & SL_ATTR_LOG_APPEND_TIME) ? "LogAppendTime" : "CreateTime";
  int32_t last_seq = h->base_sequence < 0
                         ? -1
                         : (int32_t)(((int64_t)h->base_sequence + h->last_offset_delta) %
                                     ((int64_t)INT32_MAX + 1));
  char horizon[48];
  if (h->magic == 2 && (h->attributes & SL_ATTR_DELETE_HORIZON))
    snprintf(horizon, sizeof(horizon), "OptionalLong[%" PRId64 "]", h->base_timestamp);
  else
    snprintf(horizon, sizeof(horizon), "OptionalLong.empty");
  cli_out_printf(
      "baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %d baseSequence: "
      "%d lastSequence: %d producerId: %" PRId64 " producerEpoch: %d "
      "partitionLeaderEpoch: %d isTransactional: %s isControl: %s "
      "deleteHorizonMs: %s position: %" PRId64 " %s: %" PRId64
      " size: %d magic: %d compresscodec: %s crcValid: %s\n",
      h->base_offset, sl_batch_last_offset(h), (int)h->records_count,
      (int)h->base_sequence, (int)last_seq, h->producer_id, (int)h->producer_epoch,
      (int)h->partition_leader_epoch, bool_s(sl_batch_is_transactional(h)),
      bool_s(sl_batch_is_control(h)), horizon, position, tst, h->max_timestamp, (int)size,
      (int)h->magic, sl_compression_name(sl_batch_compression(h)), bool_s(crc_ok));
  (void)o;
}

static void dump_record_text(dump_opts *o, const sl_batch_header *h, const sl_record *r,
                             int32_t index) {
  const char *tst =
      (h->attributes & SL_ATTR_LOG_APPEND_TIME) ? "LogAppendTime" : "CreateTime";
  int32_t seq = h->base_sequence < 0 ? -1 : h->base_sequence + index;
  cli_out_printf("| offset: %" PRId64 " %s: %" PRId64 " keySize: %d valueSize: %d "
                 "sequence: %d headerKeys: [",
                 r->offset, tst, r->timestamp, (int)r->key_len, (int)r->value_len,
                 (int)seq);
  for (int32_t i = 0; i < r->header_count; i++) {
    if (i)
      cli_out_str(",");
    out_bytes_text(r->headers[i].key, r->headers[i].key_len);
  }
  cli_out_str("]");
  if (sl_batch_is_control(h)) {
    sl_control ctl;
    if (sl_control_parse(r, &ctl, NULL) == 0) {
      if (ctl.type == SL_CONTROL_ABORT || ctl.type == SL_CONTROL_COMMIT)
        cli_out_printf(" endTxnMarker: %s coordinatorEpoch: %d", control_name(ctl.type),
                       (int)ctl.coordinator_epoch);
      else
        cli_out_printf(" controlType: %s(%d)", control_name(ctl.type), (int)ctl.type);
    } else {
      cli_out_str(" controlType: unparsable");
    }
  } else if (o->data && o->internal != CLI_TOPIC_OTHER) {
    sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
    cli_decode_internal(o->internal, r, &k, &v);
    cli_out_str(" key: ");
    sl_buf_append(cli_out(), k.data, k.len);
    cli_out_str(" payload: ");
    sl_buf_append(cli_out(), v.data, v.len);
    sl_buf_release(&k);
    sl_buf_release(&v);
  } else if (o->data) {
    if (r->header_count > 0) {
      cli_out_str(" headers: [");
      for (int32_t i = 0; i < r->header_count; i++) {
        if (i)
          cli_out_str(",");
        out_bytes_text(r->headers[i].key, r->headers[i].key_len);
        cli_out_str("=");
        out_bytes_text(r->headers[i].value, r->headers[i].value_len);
      }
      cli_out_str("]");
    }
    cli_out_str(" key: ");
    out_bytes_text(r->key, r->key_len);
    cli_out_str(" payload: ");
    out_bytes_text(r->value, r->value_len);
  }
  cli_out_str("\n");
}

static void json_kv_int(const char *k, int64_t v, bool comma) {
  cli_out_printf("%s\"%s\":%" PRId64, comma ? "," : "", k, v);
}

static void dump_batch_json(const char *path, const sl_batch_header *h, int64_t position,
                            int32_t size, bool crc_ok) {
  sl_buf *out = cli_out();
  cli_out_str("{\"file\":");
  sc_json_bytes(out, (const uint8_t *)path, (int32_t)strlen(path));
  json_kv_int("position", position, true);
  json_kv_int("baseOffset", h->base_offset, true);
  json_kv_int("lastOffset", sl_batch_last_offset(h), true);
  json_kv_int("count", h->records_count, true);
  json_kv_int("size", size, true);
  json_kv_int("magic", h->magic, true);
  json_kv_int("partitionLeaderEpoch", h->partition_leader_epoch, true);
  json_kv_int("producerId", h->producer_id, true);
  json_kv_int("producerEpoch", h->producer_epoch, true);
  json_kv_int("baseSequence", h->base_sequence, true);
  json_kv_int("baseTimestamp", h->base_timestamp, true);
  json_kv_int("maxTimestamp", h->max_timestamp, true);
  cli_out_printf(
      ",\"timestampType\":\"%s\",\"compression\":\"%s\",\"isTransactional\":%s,"
      "\"isControl\":%s,\"crc\":%u,\"crcValid\":%s",
      (h->attributes & SL_ATTR_LOG_APPEND_TIME) ? "LogAppendTime" : "CreateTime",
      sl_compression_name(sl_batch_compression(h)), bool_s(sl_batch_is_transactional(h)),
      bool_s(sl_batch_is_control(h)), (unsigned)h->crc, bool_s(crc_ok));
}

static void dump_record_json(dump_opts *o, const sl_batch_header *h, const sl_record *r,
                             bool first) {
  sl_buf *out = cli_out();
  cli_out_printf("%s{\"offset\":%" PRId64 ",\"timestamp\":%" PRId64
                 ",\"keySize\":%d,\"valueSize\":%d",
                 first ? "" : ",", r->offset, r->timestamp, (int)r->key_len,
                 (int)r->value_len);
  if (sl_batch_is_control(h)) {
    sl_control ctl;
    if (sl_control_parse(r, &ctl, NULL) == 0) {
      cli_out_printf(",\"controlType\":\"%s\"", control_name(ctl.type));
      if (ctl.type == SL_CONTROL_ABORT || ctl.type == SL_CONTROL_COMMIT)
        cli_out_printf(",\"coordinatorEpoch\":%d", (int)ctl.coordinator_epoch);
    }
  } else if (o->data && o->internal != CLI_TOPIC_OTHER) {
    sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
    cli_decode_internal(o->internal, r, &k, &v);
    cli_out_str(",\"key\":");
    sl_buf_append(out, k.data, k.len);
    cli_out_str(",\"payload\":");
    sl_buf_append(out, v.data, v.len);
    sl_buf_release(&k);
    sl_buf_release(&v);
  } else if (o->data) {
    cli_out_str(",\"headers\":[");
    for (int32_t i = 0; i < r->header_count; i++) {
      if (i)
        cli_out_str(",");
      sc_json_bytes(out, r->headers[i].key, r->headers[i].key_len);
      cli_out_str(",");
      sc_json_bytes(out, r->headers[i].value, r->headers[i].value_len);
    }
    cli_out_str("],\"key\":");
    sc_json_bytes(out, r->key, r->key_len);
    cli_out_str(",\"payload\":");
    sc_json_bytes(out, r->value, r->value_len);
  }
  cli_out_str("}");
}

static int dump_log(dump_opts *o, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0) {
    cli_err("%s: %s", path, strerror(errno));
    return CLI_ERROR;
  }
  if (fstat(fd, &st)) {
    close(fd);
    return CLI_ERROR;
  }
  sl_batch_reader *reader = NULL;
  uint8_t *buf = NULL;
  size_t cap = 0;
  int rc = CLI_OK;
  if (sl_batch_reader_new(0, &reader)) {
    close(fd);
    return CLI_ERROR;
  }
  o->internal = o->decode_internal ? cli_internal_topic_of(path) : CLI_TOPIC_OTHER;
  if (!o->json)
    cli_out_printf("Dumping %s\nLog starting offset: %" PRId64 "\n", path,
                   name_base_offset(path));
  int64_t pos = 0, size_total = st.st_size;
  while (pos < size_total && rc == CLI_OK) {
    uint8_t head[SL_BATCH_HEADER_SIZE];
    size_t want =
        (size_t)(size_total - pos < SL_BATCH_HEADER_SIZE ? size_total - pos
                                                         : SL_BATCH_HEADER_SIZE);
    ssize_t n = pread(fd, head, want, pos);
    if (n < 0) {
      cli_err("%s: read: %s", path, strerror(errno));
      rc = CLI_ERROR;
      break;
    }
    int64_t base;
    int32_t size;
    int8_t magic;
    int prc = sl_batch_peek(head, (size_t)n, &base, &size, &magic);
    if (prc == SL_ETRUNCATED) {
      problem(o, path, pos,
              "%lld bytes at the end are too short for a batch header "
              "(torn write?)",
              (long long)(size_total - pos));
      break;
    }
    if (prc) {
      problem(o, path, pos,
              "not a record batch (impossible length or magic); %lld bytes from here "
              "cannot be framed",
              (long long)(size_total - pos));
      break;
    }
    if ((int64_t)size > size_total - pos) {
      problem(o, path, pos,
              "incomplete batch: needs %d bytes, only %lld left (torn write?)", (int)size,
              (long long)(size_total - pos));
      break;
    }
    if ((size_t)size > cap) {
      uint8_t *nb = realloc(buf, (size_t)size);
      if (!nb) {
        rc = CLI_ERROR;
        break;
      }
      buf = nb;
      cap = (size_t)size;
    }
    size_t got = 0;
    while (got < (size_t)size) {
      ssize_t m = pread(fd, buf + got, (size_t)size - got, pos + (off_t)got);
      if (m < 0 && errno == EINTR)
        continue;
      if (m <= 0)
        break;
      got += (size_t)m;
    }
    if (got < (size_t)size) {
      problem(o, path, pos, "file shrank while reading");
      break;
    }
    sl_diag diag;
    sl_diag_clear(&diag);
    bool crc_ok = sl_batch_validate(buf, (size_t)size, &diag) == 0;
    sl_batch_header h;
    int orc = sl_batch_reader_open(reader, buf, (size_t)size, &h, &diag);
    if (orc && magic == 2 && sl_batch_header_decode(buf, (size_t)size, &h, NULL) != 0)
      memset(&h, 0, sizeof(h));
    if (!crc_ok)
      problem(o, path, pos, "batch at offset %lld: %s", (long long)base, diag.msg);
    if (o->json)
      dump_batch_json(path, &h, pos, size, crc_ok);
    else
      dump_batch_text(o, &h, pos, size, crc_ok);
    if (orc) {
      if (crc_ok)
        problem(o, path, pos, "batch at offset %lld: %s", (long long)base, diag.msg);
    } else if (o->deep) {
      sl_record r;
      int nr, i = 0;
      if (o->json)
        cli_out_str(",\"records\":[");
      while ((nr = sl_batch_reader_next(reader, &r, &diag)) == 1) {
        if (o->json)
          dump_record_json(o, &h, &r, i == 0);
        else
          dump_record_text(o, &h, &r, i);
        i++;
        if (cli_out_maybe_flush() == CLI_PIPE_CLOSED) {
          rc = CLI_PIPE_CLOSED;
          break;
        }
      }
      if (o->json)
        cli_out_str("]");
      if (nr < 0)
        problem(o, path, pos + (diag.pos >= 0 ? diag.pos : 0), "record %d: %s", i,
                diag.msg);
    }
    if (o->json)
      cli_out_str("}\n");
    if (rc == CLI_OK && cli_out_maybe_flush() == CLI_PIPE_CLOSED)
      rc = CLI_PIPE_CLOSED;
    pos += size;
  }
  free(buf);
  sl_batch_reader_free(reader);
  close(fd);
  return rc;
}

static void json_file_open(const char *path, const char *type) {
  cli_out_str("{\"file\":");
  sc_json_bytes(cli_out(), (const uint8_t *)path, (int32_t)strlen(path));
  cli_out_printf(",\"type\":\"%s\",\"entries\":[", type);
}

static int dump_index(dump_opts *o, const char *path, int kind) {
  uint8_t *data;
  size_t len;
  if (read_small(path, &data, &len))
    return CLI_ERROR;
  int64_t base = name_base_offset(path);
  sl_diag diag;
  sl_diag_clear(&diag);
  static const char *types[] = {"offset-index", "time-index", "txn-index"};
  size_t esize = kind == 0   ? SL_OFFSET_INDEX_ENTRY_SIZE
                 : kind == 1 ? SL_TIME_INDEX_ENTRY_SIZE
                             : SL_TXN_INDEX_ENTRY_SIZE;
  size_t live = kind == 0   ? sl_offset_index_live_count(data, len)
                : kind == 1 ? sl_time_index_live_count(data, len)
                            : len / esize;
  if (o->json)
    json_file_open(path, types[kind]);
  else
    cli_out_printf("Dumping %s\n", path);
  for (size_t i = 0; i < live; i++) {
    const char *sep = (o->json && i) ? "," : "";
    if (kind == 0) {
      sl_offset_position e;
      if (sl_offset_index_entry(data, len, i, base, &e))
        break;
      cli_out_printf(o->json ? "%s{\"offset\":%" PRId64 ",\"position\":%" PRId64 "}"
                             : "%soffset: %" PRId64 " position: %" PRId64 "\n",
                     sep, e.offset, e.position);
    } else if (kind == 1) {
      sl_timestamp_offset e;
      if (sl_time_index_entry(data, len, i, base, &e))
        break;
      cli_out_printf(o->json ? "%s{\"timestamp\":%" PRId64 ",\"offset\":%" PRId64 "}"
                             : "%stimestamp: %" PRId64 " offset: %" PRId64 "\n",
                     sep, e.timestamp, e.offset);
    } else {
      sl_aborted_txn t;
      if (sl_txn_index_entry(data, len, i, &t)) {
        problem(o, path, (int64_t)(i * esize), "unsupported txn index entry version");
        break;
      }
      cli_out_printf(o->json ? "%s{\"version\":%d,\"producerId\":%" PRId64
                               ",\"firstOffset\":%" PRId64 ",\"lastOffset\":%" PRId64
                               ",\"lastStableOffset\":%" PRId64 "}"
                             : "%sversion: %d producerId: %" PRId64
                               " firstOffset: %" PRId64 " lastOffset: %" PRId64
                               " lastStableOffset: %" PRId64 "\n",
                     sep, (int)t.version, t.producer_id, t.first_offset, t.last_offset,
                     t.last_stable_offset);
    }
  }
  size_t slots = len / esize;
  /* Slots past the live entries must be zero (a preallocated active index);
   * anything else there is an entry out of order. */
  size_t bad_slot = slots;
  for (size_t i = live; i < slots && bad_slot == slots; i++) {
    size_t at = i * esize, k = 0;
    while (k < esize && data[at + k] == 0)
      k++;
    if (k < esize)
      bad_slot = i;
  }
  if (o->json)
    cli_out_printf("],\"slots\":%zu,\"entries_in_use\":%zu}\n", slots, live);
  else if (live < slots && bad_slot == slots)
    cli_out_printf("(%zu of %zu slots in use; the rest are zero-filled, as in an active "
                   "segment's preallocated index)\n",
                   live, slots);
  if (bad_slot < slots)
    problem(o, path, (int64_t)(bad_slot * esize),
            "entry %zu is not above the previous one (out of order or garbage)",
            bad_slot);
  int src = kind == 0   ? sl_offset_index_sanity_check(data, len, base, &diag)
            : kind == 1 ? sl_time_index_sanity_check(data, len, base, &diag)
                        : sl_txn_index_sanity_check(data, len, base, &diag);
  if (len % esize)
    problem(o, path, (int64_t)(len - len % esize),
            "length %zu is not a multiple of the entry size %zu", len, esize);
  else if (src && live == slots)
    problem(o, path, diag.pos, "%s", diag.msg);
  free(data);
  return CLI_OK;
}

static int dump_snapshot(dump_opts *o, const char *path) {
  sl_pstate_snapshot_entry *e = NULL;
  size_t n = 0;
  sl_diag diag;
  sl_diag_clear(&diag);
  int rc = sl_pstate_snapshot_read(path, &e, &n, &diag);
  if (rc) {
    problem(o, path, diag.pos, "%s", diag.msg[0] ? diag.msg : sl_strerror(rc));
    return CLI_OK;
  }
  if (o->json)
    json_file_open(path, "producer-snapshot");
  else
    cli_out_printf("Dumping %s\n", path);
  for (size_t i = 0; i < n; i++) {
    const sl_pstate_snapshot_entry *s = &e[i];
    int32_t first_seq = s->last_sequence < 0 ? -1 : s->last_sequence - s->offset_delta;
    cli_out_printf(
        o->json ? "%s{\"producerId\":%" PRId64 ",\"producerEpoch\":%d,"
                  "\"coordinatorEpoch\":%d,\"currentTxnFirstOffset\":%" PRId64
                  ",\"lastTimestamp\":%" PRId64 ",\"firstSequence\":%d,"
                  "\"lastSequence\":%d,\"lastOffset\":%" PRId64 ",\"offsetDelta\":%d}"
                : "%sproducerId: %" PRId64 " producerEpoch: %d coordinatorEpoch: "
                  "%d currentTxnFirstOffset: %" PRId64 " lastTimestamp: %" PRId64
                  " firstSequence: %d lastSequence: %d lastOffset: %" PRId64
                  " offsetDelta: %d\n",
        (o->json && i) ? "," : "", s->producer_id, (int)s->epoch,
        (int)s->coordinator_epoch, s->current_txn_first_offset, s->timestamp,
        (int)first_seq, (int)s->last_sequence, s->last_offset, (int)s->offset_delta);
  }
  if (o->json)
    cli_out_str("]}\n");
  free(e);
  return CLI_OK;
}

static int dump_checkpoint(dump_opts *o, const char *path, bool epoch) {
  uint8_t *data;
  size_t len;
  sl_diag diag;
  sl_diag_clear(&diag);
  if (read_small(path, &data, &len))
    return CLI_ERROR;
  if (epoch) {
    sl_epoch_entry *e = NULL;
    size_t n = 0;
    if (sl_epoch_checkpoint_parse(data, len, &e, &n, &diag)) {
      problem(o, path, diag.pos, "%s", diag.msg);
    } else {
      if (o->json)
        json_file_open(path, "leader-epoch-checkpoint");
      else
        cli_out_printf("Dumping %s\n", path);
      for (size_t i = 0; i < n; i++)
        cli_out_printf(o->json ? "%s{\"epoch\":%d,\"startOffset\":%" PRId64 "}"
                               : "%sepoch: %d startOffset: %" PRId64 "\n",
                       (o->json && i) ? "," : "", (int)e[i].epoch, e[i].start_offset);
      if (o->json)
        cli_out_str("]}\n");
      free(e);
    }
  } else {
    sl_offset_checkpoint c;
    sl_offset_checkpoint_init(&c);
    if (sl_offset_checkpoint_parse(data, len, &c, &diag)) {
      problem(o, path, diag.pos, "%s", diag.msg);
    } else {
      if (o->json)
        json_file_open(path, "offset-checkpoint");
      else
        cli_out_printf("Dumping %s\n", path);
      for (size_t i = 0; i < c.count; i++) {
        if (o->json) {
          cli_out_str(i ? ",{\"topic\":" : "{\"topic\":");
          sc_json_bytes(cli_out(), (const uint8_t *)c.entries[i].topic,
                        (int32_t)strlen(c.entries[i].topic));
          cli_out_printf(",\"partition\":%d,\"offset\":%" PRId64 "}",
                         (int)c.entries[i].partition, c.entries[i].offset);
        } else {
          cli_out_printf("topic: %s partition: %d offset: %" PRId64 "\n",
                         c.entries[i].topic, (int)c.entries[i].partition,
                         c.entries[i].offset);
        }
      }
      if (o->json)
        cli_out_str("]}\n");
    }
    sl_offset_checkpoint_release(&c);
  }
  free(data);
  return CLI_OK;
}

static int dump_meta(dump_opts *o, const char *path, int kind) {
  uint8_t *data;
  size_t len;
  sl_diag diag;
  sl_diag_clear(&diag);
  if (read_small(path, &data, &len))
    return CLI_ERROR;
  char id[SL_UUID_STR_LEN + 1];
  if (kind == 0) { /* partition.metadata */
    int32_t version;
    sl_uuid tid;
    if (sl_partition_metadata_parse(data, len, &version, &tid, &diag)) {
      problem(o, path, diag.pos, "%s", diag.msg);
    } else {
      sl_uuid_to_string(&tid, id);
      cli_out_printf(o->json ? "{\"file\":\"%s\",\"type\":\"partition.metadata\","
                               "\"version\":%d,\"topicId\":\"%s\"}\n"
                             : "Dumping %s\nversion: %d topicId: %s\n",
                     path, (int)version, id);
    }
  } else if (kind == 1) { /* meta.properties */
    sl_meta_properties m;
    if (sl_meta_properties_parse(data, len, &m, &diag)) {
      problem(o, path, diag.pos, "%s", diag.msg);
    } else {
      if (m.has_directory_id)
        sl_uuid_to_string(&m.directory_id, id);
      else
        snprintf(id, sizeof(id), "%s", "");
      cli_out_printf(o->json
                         ? "{\"file\":\"%s\",\"type\":\"meta.properties\",\"version\":%d,"
                           "\"nodeId\":%d,\"clusterId\":\"%s\",\"directoryId\":\"%s\"}\n"
                         : "Dumping %s\nversion: %d nodeId: %d clusterId: %s "
                           "directoryId: %s\n",
                     path, m.version, m.has_node_id ? (int)m.node_id : -1,
                     m.has_cluster_id ? m.cluster_id : "", id);
    }
  } else { /* .kafka_cleanshutdown */
    int64_t epoch;
    sl_clean_shutdown_parse(data, len, &epoch);
    cli_out_printf(
        o->json ? "{\"file\":\"%s\",\"type\":\"clean-shutdown\",\"brokerEpoch\":%" PRId64
                  "}\n"
                : "Dumping %s\nclean shutdown marker, brokerEpoch: %" PRId64 "\n",
        path, epoch);
  }
  free(data);
  return CLI_OK;
}

static int dump_path(dump_opts *o, const char *path, int depth);

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dump_dir(dump_opts *o, const char *path, int depth) {
  DIR *d = opendir(path);
  if (!d) {
    cli_err("%s: %s", path, strerror(errno));
    return CLI_ERROR;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  int rc = CLI_OK;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        strcmp(de->d_name, ".lock") == 0)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof(*nn));
      if (!nn) {
        rc = CLI_ERROR;
        break;
      }
      names = nn;
    }
    names[n] = strdup(de->d_name);
    if (!names[n]) {
      rc = CLI_ERROR;
      break;
    }
    n++;
  }
  closedir(d);
  if (n)
    qsort(names, n, sizeof(*names), name_cmp);
  for (size_t i = 0; i < n && rc != CLI_PIPE_CLOSED; i++) {
    char child[4096];
    int len = snprintf(child, sizeof(child), "%s/%s", path, names[i]);
    if (len < 0 || (size_t)len >= sizeof(child))
      continue;
    struct stat st;
    if (stat(child, &st))
      continue;
    if (S_ISDIR(st.st_mode)) {
      sl_pdir_name pn;
      if (depth == 0 && sl_pdir_name_parse(names[i], &pn, NULL) == 0) {
        int r = dump_path(o, child, depth + 1);
        if (r)
          rc = r;
      }
      continue;
    }
    int r = dump_path(o, child, depth + 1);
    if (r && r != CLI_USAGE)
      rc = r;
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

static int dump_path(dump_opts *o, const char *path, int depth) {
  struct stat st;
  if (stat(path, &st)) {
    cli_err("%s: %s", path, strerror(errno));
    return CLI_ERROR;
  }
  if (S_ISDIR(st.st_mode))
    return depth > 1 ? CLI_OK : dump_dir(o, path, depth);
  const char *b = base_name(path);
  int rc;
  if (ends_with(b, ".log"))
    rc = dump_log(o, path);
  else if (ends_with(b, ".index"))
    rc = dump_index(o, path, 0);
  else if (ends_with(b, ".timeindex"))
    rc = dump_index(o, path, 1);
  else if (ends_with(b, ".txnindex"))
    rc = dump_index(o, path, 2);
  else if (ends_with(b, ".snapshot"))
    rc = dump_snapshot(o, path);
  else if (strcmp(b, SL_LEADER_EPOCH_CHECKPOINT) == 0)
    rc = dump_checkpoint(o, path, true);
  else if (ends_with(b, "-checkpoint"))
    rc = dump_checkpoint(o, path, false);
  else if (strcmp(b, SL_PARTITION_METADATA_FILE) == 0)
    rc = dump_meta(o, path, 0);
  else if (strcmp(b, SL_META_PROPERTIES_FILE) == 0)
    rc = dump_meta(o, path, 1);
  else if (strcmp(b, SL_CLEAN_SHUTDOWN_FILE) == 0)
    rc = dump_meta(o, path, 2);
  else {
    if (depth == 0)
      cli_err("%s: not a file seglog knows how to dump", path);
    return depth == 0 ? CLI_ERROR : CLI_USAGE;
  }
  if (rc == CLI_OK)
    rc = cli_out_maybe_flush();
  return rc;
}

int cmd_dump(int argc, char **argv) {
  dump_opts o;
  memset(&o, 0, sizeof(o));
  o.decode_internal = true;
  static const struct option longopts[] = {
      {"deep-iteration", no_argument, NULL, 'd'},
      {"print-data-log", no_argument, NULL, 'p'},
      {"json", no_argument, NULL, 'j'},
      {"files", required_argument, NULL, 'f'},
      {"offsets-decoder", no_argument, NULL, 'O'},
      {"transaction-log-decoder", no_argument, NULL, 'O'},
      {"raw-internal", no_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int opt;
  const char *files_opt = NULL;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (opt) {
    case 'd':
      o.deep = true;
      break;
    case 'p':
      o.deep = o.data = true;
      break;
    case 'j':
      o.json = true;
      break;
    case 'O': /* kafka-dump-log's decoders: imply --print-data-log */
      o.deep = o.data = true;
      break;
    case 'r':
      o.decode_internal = false;
      break;
    case 'f':
      files_opt = optarg; /* kafka-dump-log's --files A,B */
      break;
    default:
      return cli_usage_error("bad option");
    }
  }
  if (optind >= argc && !files_opt)
    return cli_usage_error("no PATH given");
  int rc = CLI_OK;
  for (int i = optind; i < argc && rc != CLI_PIPE_CLOSED; i++) {
    int r = dump_path(&o, argv[i], 0);
    if (r)
      rc = r;
  }
  if (files_opt && rc != CLI_PIPE_CLOSED) {
    char *copy = strdup(files_opt);
    char *save = NULL;
    for (char *f = copy ? strtok_r(copy, ",", &save) : NULL; f;
         f = strtok_r(NULL, ",", &save)) {
      int r = dump_path(&o, f, 0);
      if (r)
        rc = r;
    }
    free(copy);
  }
  if (rc == CLI_OK && o.problems > 0)
    rc = CLI_PROBLEMS;
  return rc;
}
