/*
 * record.c - the records inside a RecordBatch v2: the batch reader
 * (bounded decompression of the records section, then record iteration with
 * Kafka's validation rules), the batch builder (what Kafka's
 * MemoryRecordsBuilder writes, field for field), transaction marker batches and
 * control record parsing.  Legacy magic 0/1 entries are decoded by legacy.c
 * behind the same reader.
 * Layout: docs/FORMAT.md, "Record batches" (records, control batches,
 * compression) and "Legacy messages".
 */
#include <stdlib.h>
#include <string.h>

#include "record_int.h"

#include "seglog/crc.h"

#define DEFAULT_MAX_DECOMPRESSED ((size_t)64 << 20)

/* Wrapping arithmetic for offsets and timestamps taken from untrusted input. */
static inline int64_t add_wrap(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a + (uint64_t)b);
}
static inline int64_t sub_wrap(int64_t a, int64_t b) {
  return (int64_t)((uint64_t)a - (uint64_t)b);
}

/* ====================================================================== */
/* Reader                                                                 */
/* ====================================================================== */

enum { R_CLOSED = 0, R_V2, R_LEGACY, R_DONE, R_ERROR };

struct sl_batch_reader {
  size_t max;
  sl_buf buf;      /* decompressed records section / inner message set */
  sl_header *hdrs; /* headers of the current record */
  size_t hdrs_cap;
  int state;
  int err;         /* sticky error once state == R_ERROR */
  bool compressed; /* records come from buf (positions are not batch positions) */
  sl_batch_header h;
  sl_rbuf rb; /* the (decompressed) records section */
  int32_t remaining;
  int32_t index;
  sl__legacy_iter legacy;
};

int sl_batch_reader_new(size_t max_decompressed, sl_batch_reader **out) {
  sl_batch_reader *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return SL_ENOMEM;
  r->max = max_decompressed ? max_decompressed : DEFAULT_MAX_DECOMPRESSED;
  sl_buf_init(&r->buf);
  *out = r;
  return SL_OK;
}

void sl_batch_reader_free(sl_batch_reader *r) {
  if (r == NULL)
    return;
  sl_buf_release(&r->buf);
  free(r->hdrs);
  free(r);
}

static int reader_fail(sl_batch_reader *r, int err) {
  r->state = R_ERROR;
  r->err = err;
  return err;
}

/* Batch position of a records-section position, for diagnostics. */
static int64_t rec_pos(const sl_batch_reader *r, size_t section_pos) {
  return r->compressed ? SL_BATCH_HEADER_SIZE
                       : SL_BATCH_HEADER_SIZE + (int64_t)section_pos;
}

static int open_v2(sl_batch_reader *r, const uint8_t *batch, size_t size, sl_diag *diag) {
  int rc = sl_batch_header_decode(batch, size, &r->h, diag);
  if (rc)
    return rc;
  if ((size_t)sl_batch_size(&r->h) != size)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "batch size %d does not match the %zu bytes given",
                       sl_batch_size(&r->h), size);
  const uint8_t *sec = batch + SL_BATCH_HEADER_SIZE;
  size_t sec_len = size - SL_BATCH_HEADER_SIZE;
  sl_compression codec = sl_batch_compression(&r->h);
  r->compressed = false;
  if (codec == SL_COMPRESSION_NONE || r->h.records_count == 0) {
    /* Kafka never looks at the records section of an empty batch, so a
     * compressed empty batch is not decompressed; an uncompressed one must
     * still be exactly empty (checked at the end). */
    if (codec != SL_COMPRESSION_NONE)
      sec_len = 0;
    sl_rbuf_init(&r->rb, sec, sec_len);
  } else {
    sl_buf_reset(&r->buf);
    rc = sl_decompress(codec, sec, sec_len, r->max, &r->buf, diag);
    if (rc) {
      if (rc != SL_ETOO_LARGE && rc != SL_ENOMEM)
        rc = SL_ECORRUPT;
      if (diag) {
        diag->err = rc;
        diag->pos = SL_BATCH_HEADER_SIZE;
      }
      return rc;
    }
    r->compressed = true;
    sl_rbuf_init(&r->rb, r->buf.data, r->buf.len);
  }
  r->remaining = r->h.records_count;
  return SL_OK;
}

int sl_batch_reader_open(sl_batch_reader *r, const uint8_t *batch, size_t size,
                         sl_batch_header *hdr, sl_diag *diag) {
  int8_t magic = -1;
  int32_t esize = 0;
  r->state = R_CLOSED;
  r->index = 0;
  r->remaining = 0;
  int rc = sl_batch_peek(batch, size, NULL, &esize, &magic);
  if (rc == SL_ETRUNCATED)
    return reader_fail(r, sl_diag_set(diag, SL_ECORRUPT, (int64_t)size,
                                      "batch of %zu bytes is too short", size));
  if (rc)
    return reader_fail(r, sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                                      "invalid batch length or magic %d", magic));
  if ((size_t)esize != size)
    return reader_fail(r, sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                                      "batch size %d does not match the %zu bytes given",
                                      esize, size));
  if (magic == 2) {
    rc = open_v2(r, batch, size, diag);
    if (rc)
      return reader_fail(r, rc);
    r->state = R_V2;
  } else {
    rc = sl__legacy_open(&r->legacy, &r->buf, r->max, batch, size, &r->h, diag);
    if (rc)
      return reader_fail(r, rc);
    r->remaining = r->h.records_count;
    r->state = R_LEGACY;
  }
  if (hdr)
    *hdr = r->h;
  return SL_OK;
}

/* Reads a varint length-prefixed byte string (-1 = null when allowed). */
static bool read_varbytes(sl_rbuf *rb, bool nullable, const uint8_t **p, int32_t *n) {
  int32_t len = sl_rbuf_varint(rb);
  if (sl_rbuf_err(rb))
    return false;
  if (len < (nullable ? -1 : 0) || (len > 0 && (size_t)len > sl_rbuf_left(rb)))
    return false;
  *n = len;
  *p = len > 0 ? sl_rbuf_bytes(rb, (size_t)len) : (len == 0 ? rb->p + rb->pos : NULL);
  return true;
}

static int grow_headers(sl_batch_reader *r, size_t n) {
  if (n <= r->hdrs_cap)
    return SL_OK;
  size_t cap = r->hdrs_cap ? r->hdrs_cap : 8;
  while (cap < n)
    cap *= 2;
  sl_header *h = realloc(r->hdrs, cap * sizeof(*h));
  if (h == NULL)
    return SL_ENOMEM;
  r->hdrs = h;
  r->hdrs_cap = cap;
  return SL_OK;
}

#define REC_FAIL(what, at)                                                               \
  do {                                                                                   \
    rc = sl_diag_set(diag, SL_ECORRUPT, rec_pos(r, (at)),                                \
                     "record %d at records byte %zu: %s", r->index, start, (what));      \
    goto out;                                                                            \
  } while (0)

static int next_v2(sl_batch_reader *r, sl_record *rec, sl_diag *diag) {
  int rc = SL_OK;
  size_t start = r->rb.pos;
  if (r->remaining == 0) {
    if (sl_rbuf_left(&r->rb) != 0)
      REC_FAIL("trailing bytes after the last record", start);
    r->state = R_DONE;
    return 0;
  }
  int32_t len = sl_rbuf_varint(&r->rb);
  if (sl_rbuf_err(&r->rb))
    REC_FAIL(sl_rbuf_err(&r->rb) == SL_ETRUNCATED
                 ? "records section ends before the record count is reached"
                 : "invalid record length varint",
             start);
  if (len < 0 || (size_t)len > sl_rbuf_left(&r->rb))
    REC_FAIL("record length exceeds the bytes left", start);
  size_t body = r->rb.pos;
  sl_rbuf b;
  sl_rbuf_init(&b, r->rb.p + body, (size_t)len);
  rec->attributes = sl_rbuf_i8(&b);
  int64_t ts_delta = sl_rbuf_varlong(&b);
  int32_t off_delta = sl_rbuf_varint(&b);
  if (sl_rbuf_err(&b))
    REC_FAIL("truncated or invalid record fields", body + b.pos);
  if (!read_varbytes(&b, true, &rec->key, &rec->key_len))
    REC_FAIL("invalid key length", body + b.pos);
  if (!read_varbytes(&b, true, &rec->value, &rec->value_len))
    REC_FAIL("invalid value length", body + b.pos);
  int32_t hc = sl_rbuf_varint(&b);
  if (sl_rbuf_err(&b) || hc < 0 || (size_t)hc > sl_rbuf_left(&b))
    REC_FAIL("invalid header count", body + b.pos);
  rc = grow_headers(r, (size_t)hc);
  if (rc) {
    rc = sl_diag_set(diag, rc, rec_pos(r, start), "no memory for %d headers", hc);
    goto out;
  }
  for (int32_t i = 0; i < hc; i++) {
    sl_header *h = &r->hdrs[i];
    if (!read_varbytes(&b, false, &h->key, &h->key_len))
      REC_FAIL("invalid header key length", body + b.pos);
    if (!read_varbytes(&b, true, &h->value, &h->value_len))
      REC_FAIL("invalid header value length", body + b.pos);
  }
  if (sl_rbuf_left(&b) != 0)
    REC_FAIL("record length does not match its fields", body + b.pos);
  sl_rbuf_skip(&r->rb, (size_t)len);
  rec->offset = add_wrap(r->h.base_offset, off_delta);
  rec->timestamp = (r->h.attributes & SL_ATTR_LOG_APPEND_TIME)
                       ? r->h.max_timestamp
                       : add_wrap(r->h.base_timestamp, ts_delta);
  rec->headers = hc ? r->hdrs : NULL;
  rec->header_count = hc;
  r->remaining--;
  r->index++;
  return 1;
out:
  return rc;
}

int sl_batch_reader_next(sl_batch_reader *r, sl_record *rec, sl_diag *diag) {
  int rc;
  switch (r->state) {
  case R_V2:
    rc = next_v2(r, rec, diag);
    break;
  case R_LEGACY:
    rc = sl__legacy_next(&r->legacy, rec, diag);
    if (rc == 0)
      r->state = R_DONE;
    break;
  case R_DONE:
    return 0;
  case R_ERROR:
    return sl_diag_set(diag, r->err, -1, "the batch reader is in an error state");
  default:
    return sl_diag_set(diag, SL_EINVAL, -1, "no batch is open");
  }
  if (rc < 0)
    reader_fail(r, rc);
  return rc;
}

/* ====================================================================== */
/* Control records                                                        */
/* ====================================================================== */

int sl_control_parse(const sl_record *rec, sl_control *out, sl_diag *diag) {
  if (rec->key_len < 4)
    return sl_diag_set(diag, SL_ECORRUPT, -1, "control record key of %d bytes, need 4",
                       rec->key_len);
  out->version = (int16_t)sl_load_be16(rec->key);
  out->type = (int16_t)sl_load_be16(rec->key + 2);
  out->value_version = -1;
  out->coordinator_epoch = -1;
  if (out->version < 0)
    return sl_diag_set(diag, SL_ECORRUPT, -1, "negative control record version %d",
                       out->version);
  if (out->type == SL_CONTROL_ABORT || out->type == SL_CONTROL_COMMIT) {
    if (rec->value_len < 6)
      return sl_diag_set(diag, SL_ECORRUPT, -1,
                         "transaction marker value of %d bytes, need 6", rec->value_len);
    out->value_version = (int16_t)sl_load_be16(rec->value);
    out->coordinator_epoch = (int32_t)sl_load_be32(rec->value + 2);
    if (out->value_version < 0)
      return sl_diag_set(diag, SL_ECORRUPT, -1, "negative transaction marker version %d",
                         out->value_version);
  }
  return SL_OK;
}

/* ====================================================================== */
/* Builder                                                                */
/* ====================================================================== */

struct sl_batch_builder {
  sl_batch_builder_opts o;
  int err;     /* SL_EINVAL after invalid options */
  sl_buf recs; /* uncompressed records section */
  int32_t count;
  int64_t last_offset;
  int64_t base_ts;
  int64_t max_ts;
};

void sl_batch_builder_opts_init(sl_batch_builder_opts *o) {
  memset(o, 0, sizeof(*o));
  o->compression = SL_COMPRESSION_NONE;
  o->level = SL_COMPRESSION_LEVEL_DEFAULT;
  o->base_offset = 0;
  o->partition_leader_epoch = SL_NO_PARTITION_LEADER_EPOCH;
  o->producer_id = SL_NO_PRODUCER_ID;
  o->producer_epoch = SL_NO_PRODUCER_EPOCH;
  o->base_sequence = SL_NO_SEQUENCE;
  o->transactional = false;
  o->control = false;
  o->log_append_time = false;
  o->delete_horizon_ms = -1;
  o->last_offset_delta = -1;
  o->max_timestamp = SL_NO_TIMESTAMP;
}

static int opts_check(const sl_batch_builder_opts *o) {
  if ((int)o->compression < SL_COMPRESSION_NONE || o->compression > SL_COMPRESSION_ZSTD)
    return SL_EINVAL;
  return SL_OK;
}

void sl_batch_builder_reset(sl_batch_builder *b, const sl_batch_builder_opts *o) {
  b->o = *o;
  b->err = opts_check(o);
  sl_buf_reset(&b->recs);
  b->count = 0;
  b->last_offset = o->base_offset;
  b->base_ts = o->delete_horizon_ms >= 0 ? o->delete_horizon_ms : SL_NO_TIMESTAMP;
  b->max_ts = SL_NO_TIMESTAMP;
}

int sl_batch_builder_new(const sl_batch_builder_opts *o, sl_batch_builder **out) {
  int rc = opts_check(o);
  if (rc)
    return rc;
  sl_batch_builder *b = calloc(1, sizeof(*b));
  if (b == NULL)
    return SL_ENOMEM;
  sl_buf_init(&b->recs);
  sl_batch_builder_reset(b, o);
  *out = b;
  return SL_OK;
}

void sl_batch_builder_free(sl_batch_builder *b) {
  if (b == NULL)
    return;
  sl_buf_release(&b->recs);
  free(b);
}

int32_t sl_batch_builder_count(const sl_batch_builder *b) {
  return b->count;
}

size_t sl_batch_builder_size(const sl_batch_builder *b) {
  return SL_BATCH_HEADER_SIZE + b->recs.len;
}

static size_t varbytes_size(int32_t len) {
  return sl_varint_size(len) + (len > 0 ? (size_t)len : 0);
}

static int add_impl(sl_batch_builder *b, int64_t offset, int64_t timestamp, int8_t attrs,
                    const void *key, int32_t key_len, const void *value,
                    int32_t value_len, const sl_header *headers, int32_t header_count) {
  if (b->err)
    return b->err;
  if (key_len < -1 || value_len < -1 || header_count < 0 ||
      (key_len > 0 && key == NULL) || (value_len > 0 && value == NULL) ||
      (header_count > 0 && headers == NULL))
    return SL_EINVAL;
  if (b->count == INT32_MAX)
    return SL_EINVAL;
  if (offset < b->o.base_offset || (b->count > 0 && offset <= b->last_offset) ||
      (uint64_t)offset - (uint64_t)b->o.base_offset > INT32_MAX)
    return SL_EINVALID_OFFSET;
  int64_t base_ts = b->count == 0 && b->o.delete_horizon_ms < 0 ? timestamp : b->base_ts;
  int64_t ts_delta = sub_wrap(timestamp, base_ts);
  int32_t off_delta = (int32_t)(offset - b->o.base_offset);

  size_t body = 1 + sl_varlong_size(ts_delta) + sl_varint_size(off_delta) +
                varbytes_size(key_len) + varbytes_size(value_len) +
                sl_varint_size(header_count);
  for (int32_t i = 0; i < header_count; i++) {
    const sl_header *h = &headers[i];
    if (h->key_len < 0 || h->value_len < -1 || (h->key_len > 0 && h->key == NULL) ||
        (h->value_len > 0 && h->value == NULL))
      return SL_EINVAL;
    body += varbytes_size(h->key_len) + varbytes_size(h->value_len);
    if (body > INT32_MAX)
      return SL_ETOO_LARGE;
  }
  if (body > INT32_MAX)
    return SL_ETOO_LARGE;

  size_t mark = b->recs.len;
  sl_buf *o = &b->recs;
  sl_buf_varint(o, (int32_t)body);
  sl_buf_u8(o, (uint8_t)attrs);
  sl_buf_varlong(o, ts_delta);
  sl_buf_varint(o, off_delta);
  sl_buf_varint(o, key_len);
  if (key_len > 0)
    sl_buf_append(o, key, (size_t)key_len);
  sl_buf_varint(o, value_len);
  if (value_len > 0)
    sl_buf_append(o, value, (size_t)value_len);
  sl_buf_varint(o, header_count);
  for (int32_t i = 0; i < header_count; i++) {
    const sl_header *h = &headers[i];
    sl_buf_varint(o, h->key_len);
    if (h->key_len > 0)
      sl_buf_append(o, h->key, (size_t)h->key_len);
    sl_buf_varint(o, h->value_len);
    if (h->value_len > 0)
      sl_buf_append(o, h->value, (size_t)h->value_len);
  }
  if (o->err) {
    o->len = mark;
    o->err = 0;
    return SL_ENOMEM;
  }
  if (b->count == 0)
    b->base_ts = base_ts;
  if (timestamp > b->max_ts)
    b->max_ts = timestamp;
  b->last_offset = offset;
  b->count++;
  return SL_OK;
}

int sl_batch_builder_add(sl_batch_builder *b, int64_t timestamp, const void *key,
                         int32_t key_len, const void *value, int32_t value_len,
                         const sl_header *headers, int32_t header_count) {
  int64_t offset = b->o.base_offset;
  if (b->count > 0) {
    if (b->last_offset == INT64_MAX)
      return SL_EINVALID_OFFSET;
    offset = b->last_offset + 1;
  }
  return add_impl(b, offset, timestamp, 0, key, key_len, value, value_len, headers,
                  header_count);
}

int sl_batch_builder_add_record(sl_batch_builder *b, const sl_record *rec) {
  return add_impl(b, rec->offset, rec->timestamp, rec->attributes, rec->key, rec->key_len,
                  rec->value, rec->value_len, rec->headers, rec->header_count);
}

int sl_batch_builder_finish(sl_batch_builder *b, sl_buf *out) {
  if (b->err)
    return b->err;
  const sl_batch_builder_opts *o = &b->o;
  int32_t lod;
  int64_t base_ts, max_ts;
  int attrs = 0;
  sl_compression codec = o->compression;
  if (b->count == 0) {
    /* An empty batch (what the cleaner leaves): no records, no codec, base
     * timestamp -1, as Kafka's DefaultRecordBatch.writeEmptyHeader. */
    if (o->last_offset_delta < 0)
      return SL_EINVAL;
    lod = o->last_offset_delta;
    codec = SL_COMPRESSION_NONE;
    base_ts = SL_NO_TIMESTAMP;
    max_ts = o->max_timestamp;
  } else {
    int64_t actual = b->last_offset - o->base_offset;
    if (o->last_offset_delta >= 0 && o->last_offset_delta < actual)
      return SL_EINVAL;
    lod = o->last_offset_delta >= 0 ? o->last_offset_delta : (int32_t)actual;
    base_ts = b->base_ts;
    max_ts = o->max_timestamp != SL_NO_TIMESTAMP ? o->max_timestamp : b->max_ts;
    if (o->delete_horizon_ms >= 0)
      attrs |= SL_ATTR_DELETE_HORIZON;
  }
  attrs |= (int)codec;
  if (o->log_append_time)
    attrs |= SL_ATTR_LOG_APPEND_TIME;
  if (o->transactional)
    attrs |= SL_ATTR_TRANSACTIONAL;
  if (o->control)
    attrs |= SL_ATTR_CONTROL;

  size_t start = out->len;
  int rc = SL_OK;
  sl_buf_i64(out, o->base_offset);
  sl_buf_i32(out, 0); /* batchLength, patched below */
  sl_buf_i32(out, o->partition_leader_epoch);
  sl_buf_u8(out, 2);
  sl_buf_i32(out, 0); /* crc, patched below */
  sl_buf_i16(out, (int16_t)attrs);
  sl_buf_i32(out, lod);
  sl_buf_i64(out, base_ts);
  sl_buf_i64(out, max_ts);
  sl_buf_i64(out, o->producer_id);
  sl_buf_i16(out, o->producer_epoch);
  sl_buf_i32(out, o->base_sequence);
  sl_buf_i32(out, b->count);
  if (out->err) {
    rc = SL_ENOMEM;
    goto fail;
  }
  if (b->count > 0) {
    if (codec == SL_COMPRESSION_NONE)
      rc = sl_buf_append(out, b->recs.data, b->recs.len);
    else
      rc = sl_compress(codec, o->level, b->recs.data, b->recs.len, out);
    if (rc)
      goto fail;
  }
  size_t total = out->len - start;
  if (total - SL_LOG_OVERHEAD > INT32_MAX - SL_LOG_OVERHEAD) {
    rc = SL_ETOO_LARGE;
    goto fail;
  }
  sl_buf_patch_be32(out, start + SL_BATCH_OFF_LENGTH,
                    (uint32_t)(total - SL_LOG_OVERHEAD));
  sl_buf_patch_be32(out, start + SL_BATCH_OFF_CRC,
                    sl_batch_crc_compute(out->data + start, total));
  return SL_OK;
fail:
  out->len = start;
  out->err = 0;
  return rc;
}

int sl_batch_build_marker(sl_buf *out, int64_t base_offset, int64_t producer_id,
                          int16_t producer_epoch, int type, int32_t coordinator_epoch,
                          int64_t timestamp, int32_t partition_leader_epoch) {
  if (type != SL_CONTROL_ABORT && type != SL_CONTROL_COMMIT)
    return SL_EINVAL;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.base_offset = base_offset;
  o.partition_leader_epoch = partition_leader_epoch;
  o.producer_id = producer_id;
  o.producer_epoch = producer_epoch;
  o.transactional = true;
  o.control = true;
  uint8_t key[4], value[6];
  sl_store_be16(key, 0);
  sl_store_be16(key + 2, (uint16_t)type);
  sl_store_be16(value, 0);
  sl_store_be32(value + 2, (uint32_t)coordinator_epoch);
  sl_batch_builder *b = NULL;
  int rc = sl_batch_builder_new(&o, &b);
  if (rc)
    goto out;
  rc = sl_batch_builder_add(b, timestamp, key, 4, value, 6, NULL, 0);
  if (rc)
    goto out;
  rc = sl_batch_builder_finish(b, out);
out:
  sl_batch_builder_free(b);
  return rc;
}
