/*
 * legacy.c - read-only support for legacy message sets (magic 0 and 1):
 * validation with CRC-32 (IEEE), decoding of single messages and iteration of
 * compressed wrapper messages (gzip, snappy, lz4) and their inner message
 * sets, with v1 relative inner offsets and LogAppendTime taken from the
 * wrapper.  The batch reader in record.c dispatches here for magic 0/1.
 * Layout: docs/FORMAT.md, "Legacy messages".
 */
#include "record_int.h"

#include <string.h>

#include "seglog/crc.h"

#define LEGACY_OFF_CRC 12
#define LEGACY_OFF_MAGIC 16
#define LEGACY_OFF_ATTRIBUTES 17

int sl__legacy_validate(const uint8_t *entry, size_t size, sl_diag *diag) {
  /* offset(8) size(4) crc(4) magic(1) attributes(1) [timestamp(8)] key value */
  int8_t magic = (int8_t)entry[LEGACY_OFF_MAGIC];
  size_t min = magic == 0 ? SL_LEGACY_V0_MIN_MESSAGE : SL_LEGACY_V1_MIN_MESSAGE;
  if (size < SL_LOG_OVERHEAD + min)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "magic %d message of %zu bytes is below the minimum %zu", magic,
                       size - SL_LOG_OVERHEAD, min);
  uint32_t stored = sl_load_be32(entry + LEGACY_OFF_CRC);
  uint32_t crc = sl_crc32_ieee(0, entry + LEGACY_OFF_MAGIC, size - LEGACY_OFF_MAGIC);
  if (stored != crc)
    return sl_diag_set(diag, SL_ECRC, LEGACY_OFF_CRC,
                       "CRC-32 stored 0x%08x, computed 0x%08x", stored, crc);
  return SL_OK;
}

/* Reads an int32-length-prefixed byte string (-1 = null). */
static int read_bytes32(sl_rbuf *r, const uint8_t **p, int32_t *n) {
  int32_t len = sl_rbuf_i32(r);
  if (sl_rbuf_err(r))
    return SL_ECORRUPT;
  if (len < -1 || (len >= 0 && (size_t)len > sl_rbuf_left(r)))
    return SL_ECORRUPT;
  *n = len;
  *p = len >= 0 ? sl_rbuf_bytes(r, (size_t)len) : NULL;
  return SL_OK;
}

int sl__legacy_parse(const uint8_t *p, size_t len, size_t *consumed, sl__legacy_msg *m,
                     int64_t base, const char *what, sl_diag *diag) {
  if (len < SL_LOG_OVERHEAD)
    return sl_diag_set(diag, SL_ECORRUPT, base, "%s: %zu bytes left, need 12", what, len);
  m->offset = (int64_t)sl_load_be64(p);
  int32_t msize = (int32_t)sl_load_be32(p + SL_BATCH_OFF_LENGTH);
  if (msize < SL_LEGACY_V0_MIN_MESSAGE)
    return sl_diag_set(diag, SL_ECORRUPT, base + SL_BATCH_OFF_LENGTH,
                       "%s size %d is below the minimum %d", what, msize,
                       SL_LEGACY_V0_MIN_MESSAGE);
  if ((size_t)msize > len - SL_LOG_OVERHEAD)
    return sl_diag_set(diag, SL_ECORRUPT, base + SL_BATCH_OFF_LENGTH,
                       "%s size %d exceeds the %zu bytes left", what, msize,
                       len - SL_LOG_OVERHEAD);
  sl_rbuf r;
  sl_rbuf_init(&r, p + SL_LOG_OVERHEAD, (size_t)msize);
  m->crc = sl_rbuf_u32(&r);
  m->magic = sl_rbuf_i8(&r);
  m->attributes = sl_rbuf_i8(&r);
  if (m->magic != 0 && m->magic != 1)
    return sl_diag_set(diag, SL_ECORRUPT, base + LEGACY_OFF_MAGIC,
                       "%s has magic %d, expected 0 or 1", what, m->magic);
  if (m->magic == 1 && msize < SL_LEGACY_V1_MIN_MESSAGE)
    return sl_diag_set(diag, SL_ECORRUPT, base + SL_BATCH_OFF_LENGTH,
                       "%s size %d is below the v1 minimum %d", what, msize,
                       SL_LEGACY_V1_MIN_MESSAGE);
  m->timestamp = m->magic == 1 ? sl_rbuf_i64(&r) : SL_NO_TIMESTAMP;
  if (read_bytes32(&r, &m->key, &m->key_len))
    return sl_diag_set(diag, SL_ECORRUPT, base + SL_LOG_OVERHEAD + (int64_t)r.pos,
                       "%s has an invalid key length", what);
  if (read_bytes32(&r, &m->value, &m->value_len))
    return sl_diag_set(diag, SL_ECORRUPT, base + SL_LOG_OVERHEAD + (int64_t)r.pos,
                       "%s has an invalid value length", what);
  if (sl_rbuf_left(&r) != 0)
    return sl_diag_set(diag, SL_ECORRUPT, base + SL_LOG_OVERHEAD + (int64_t)r.pos,
                       "%s has %zu trailing bytes", what, sl_rbuf_left(&r));
  *consumed = SL_LOG_OVERHEAD + (size_t)msize;
  return SL_OK;
}

static int decompress_wrapper(const sl__legacy_msg *m, sl_buf *scratch, size_t max,
                              int64_t vpos, sl_diag *diag) {
  int codec = m->attributes & SL_ATTR_COMPRESSION_MASK;
  if (codec > SL_COMPRESSION_LZ4)
    return sl_diag_set(diag, SL_ECORRUPT, LEGACY_OFF_ATTRIBUTES,
                       "codec %d is not valid for magic %d messages", codec, m->magic);
  if (m->value_len < 0)
    return sl_diag_set(diag, SL_ECORRUPT, vpos, "compressed wrapper has a null value");
  int rc;
  if (codec == SL_COMPRESSION_LZ4 && m->magic == 0)
    rc = sl_decompress_lz4_legacy(m->value, (size_t)m->value_len, max, scratch, diag);
  else
    rc = sl_decompress((sl_compression)codec, m->value, (size_t)m->value_len, max,
                       scratch, diag);
  if (rc && diag) {
    diag->pos = vpos;
    if (rc != SL_ETOO_LARGE)
      rc = diag->err = SL_ECORRUPT;
  } else if (rc && rc != SL_ETOO_LARGE) {
    rc = SL_ECORRUPT;
  }
  return rc;
}

int sl__legacy_open(sl__legacy_iter *it, sl_buf *scratch, size_t max,
                    const uint8_t *entry, size_t size, sl_batch_header *h,
                    sl_diag *diag) {
  sl__legacy_msg m;
  size_t used = 0;
  int rc = sl__legacy_parse(entry, size, &used, &m, 0, "message", diag);
  if (rc)
    return rc;
  if (used != size)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "message size %zu does not match the %zu bytes given", used, size);
  memset(it, 0, sizeof(*it));
  it->magic = m.magic;
  h->batch_length = (int32_t)(size - SL_LOG_OVERHEAD);
  h->partition_leader_epoch = SL_NO_PARTITION_LEADER_EPOCH;
  h->magic = m.magic;
  h->crc = m.crc;
  h->attributes = (int16_t)(uint8_t)m.attributes;
  h->max_timestamp = m.timestamp;
  h->producer_id = SL_NO_PRODUCER_ID;
  h->producer_epoch = SL_NO_PRODUCER_EPOCH;
  h->base_sequence = SL_NO_SEQUENCE;

  if ((m.attributes & SL_ATTR_COMPRESSION_MASK) == 0) {
    it->inner = entry;
    it->inner_len = size;
    it->remaining = 1;
    h->base_offset = m.offset;
    h->last_offset_delta = 0;
    h->base_timestamp = m.timestamp;
    h->records_count = 1;
    return SL_OK;
  }

  /* A compressed wrapper: the value is a compressed inner message set. */
  int64_t vpos = (int64_t)(size - (size_t)(m.value_len > 0 ? m.value_len : 0));
  sl_buf_reset(scratch);
  rc = decompress_wrapper(&m, scratch, max, vpos, diag);
  if (rc)
    return rc;
  it->inner = scratch->data;
  it->inner_len = scratch->len;
  it->wrapped = true;
  it->append_time = m.magic == 1 && (m.attributes & SL_ATTR_LOG_APPEND_TIME);
  it->wrapper_ts = m.timestamp;

  /* Check every inner message before handing out the first. */
  int64_t first = 0, last = 0, first_ts = SL_NO_TIMESTAMP;
  int32_t count = 0;
  size_t pos = 0;
  while (pos < it->inner_len) {
    sl__legacy_msg im;
    size_t n;
    rc = sl__legacy_parse(it->inner + pos, it->inner_len - pos, &n, &im, vpos,
                          "inner message", diag);
    if (rc) {
      if (diag) {
        char why[sizeof(diag->msg)];
        memcpy(why, diag->msg, sizeof(why));
        sl_diag_set(diag, rc, vpos, "inner message at decompressed byte %zu: %s", pos,
                    why);
      }
      return rc;
    }
    if (im.magic != m.magic)
      return sl_diag_set(diag, SL_ECORRUPT, vpos,
                         "inner message at decompressed byte %zu has magic %d, "
                         "wrapper has %d",
                         pos, im.magic, m.magic);
    if (im.attributes & SL_ATTR_COMPRESSION_MASK)
      return sl_diag_set(diag, SL_ECORRUPT, vpos,
                         "inner message at decompressed byte %zu is itself compressed",
                         pos);
    uint32_t crc =
        sl_crc32_ieee(0, it->inner + pos + LEGACY_OFF_MAGIC, n - LEGACY_OFF_MAGIC);
    if (crc != im.crc)
      return sl_diag_set(diag, SL_ECRC, vpos,
                         "inner message at decompressed byte %zu: CRC-32 stored "
                         "0x%08x, computed 0x%08x",
                         pos, im.crc, crc);
    if (count == 0) {
      first = im.offset;
      first_ts = im.timestamp;
    }
    last = im.offset;
    count++;
    pos += n;
  }
  if (count == 0)
    return sl_diag_set(diag, SL_ECORRUPT, vpos,
                       "compressed wrapper has no inner messages");
  if (last < first || last - first > INT32_MAX)
    return sl_diag_set(diag, SL_ECORRUPT, vpos,
                       "inner offsets %lld..%lld are not increasing", (long long)first,
                       (long long)last);
  /* v1: inner offsets are relative; the wrapper carries the last absolute one. */
  it->offset_shift = m.magic == 1 ? (int64_t)((uint64_t)m.offset - (uint64_t)last) : 0;
  it->remaining = count;
  h->base_offset = (int64_t)((uint64_t)first + (uint64_t)it->offset_shift);
  h->last_offset_delta = (int32_t)(last - first);
  h->base_timestamp = it->append_time ? m.timestamp : first_ts;
  h->records_count = count;
  return SL_OK;
}

int sl__legacy_next(sl__legacy_iter *it, sl_record *rec, sl_diag *diag) {
  if (it->remaining == 0)
    return 0;
  sl__legacy_msg m;
  size_t n;
  int rc = sl__legacy_parse(it->inner + it->pos, it->inner_len - it->pos, &n, &m,
                            (int64_t)it->pos, "message", diag);
  if (rc)
    return rc; /* unreachable: open checked every message */
  it->pos += n;
  it->remaining--;
  rec->offset = (int64_t)((uint64_t)m.offset + (uint64_t)it->offset_shift);
  rec->timestamp = it->append_time ? it->wrapper_ts : m.timestamp;
  rec->attributes = 0; /* the message attributes are in the header */
  rec->key = m.key;
  rec->key_len = m.key_len;
  rec->value = m.value;
  rec->value_len = m.value_len;
  rec->headers = NULL;
  rec->header_count = 0;
  return 1;
}
