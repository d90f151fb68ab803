/*
 * batch.c - RecordBatch v2 header: peek, decode, CRC, shallow validation and
 * the in-place rewrites the broker does (base offset, leader epoch,
 * LogAppendTime).  Records are in record.c, legacy magic 0/1 in legacy.c.
 * Layout: docs/FORMAT.md, "Record batches".
 */
#include "seglog/batch.h"

#include "seglog/crc.h"

int sl_batch_peek(const uint8_t *p, size_t len, int64_t *base_offset, int32_t *size,
                  int8_t *magic) {
  if (len < SL_BATCH_OFF_MAGIC + 1)
    return SL_ETRUNCATED;
  int32_t blen = (int32_t)sl_load_be32(p + SL_BATCH_OFF_LENGTH);
  int8_t m = (int8_t)p[SL_BATCH_OFF_MAGIC];
  if (base_offset)
    *base_offset = (int64_t)sl_load_be64(p);
  if (magic)
    *magic = m;
  if (blen < SL_LEGACY_V0_MIN_MESSAGE)
    return SL_ECORRUPT;
  if (m < 0 || m > 2)
    return SL_ECORRUPT;
  if (size)
    *size = blen > INT32_MAX - SL_LOG_OVERHEAD ? INT32_MAX : blen + SL_LOG_OVERHEAD;
  return blen > INT32_MAX - SL_LOG_OVERHEAD ? SL_ECORRUPT : SL_OK;
}

int sl_batch_header_decode(const uint8_t *p, size_t len, sl_batch_header *h,
                           sl_diag *diag) {
  if (len < SL_BATCH_HEADER_SIZE)
    return sl_diag_set(diag, SL_ETRUNCATED, (int64_t)len,
                       "batch header needs %d bytes, have %zu", SL_BATCH_HEADER_SIZE,
                       len);
  sl_rbuf r;
  sl_rbuf_init(&r, p, SL_BATCH_HEADER_SIZE);
  h->base_offset = sl_rbuf_i64(&r);
  h->batch_length = sl_rbuf_i32(&r);
  h->partition_leader_epoch = sl_rbuf_i32(&r);
  h->magic = sl_rbuf_i8(&r);
  h->crc = sl_rbuf_u32(&r);
  h->attributes = sl_rbuf_i16(&r);
  h->last_offset_delta = sl_rbuf_i32(&r);
  h->base_timestamp = sl_rbuf_i64(&r);
  h->max_timestamp = sl_rbuf_i64(&r);
  h->producer_id = sl_rbuf_i64(&r);
  h->producer_epoch = sl_rbuf_i16(&r);
  h->base_sequence = sl_rbuf_i32(&r);
  h->records_count = sl_rbuf_i32(&r);
  if (h->magic != 2)
    return sl_diag_set(diag, SL_EUNSUPPORTED, SL_BATCH_OFF_MAGIC,
                       "magic %d is not a v2 record batch", h->magic);
  if (h->batch_length < SL_BATCH_HEADER_SIZE - SL_LOG_OVERHEAD)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "batch length %d is below the minimum %d", h->batch_length,
                       SL_BATCH_HEADER_SIZE - SL_LOG_OVERHEAD);
  if (h->batch_length > INT32_MAX - SL_LOG_OVERHEAD)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "batch length %d is too large", h->batch_length);
  if (h->records_count < 0)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_RECORDS_COUNT,
                       "negative record count %d", h->records_count);
  if (h->last_offset_delta < 0)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LAST_OFFSET_DELTA,
                       "negative last offset delta %d", h->last_offset_delta);
  if ((h->attributes & SL_ATTR_COMPRESSION_MASK) > SL_COMPRESSION_ZSTD)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_ATTRIBUTES,
                       "unknown compression codec %d",
                       h->attributes & SL_ATTR_COMPRESSION_MASK);
  return SL_OK;
}

uint32_t sl_batch_crc_compute(const uint8_t *batch, size_t size) {
  if (size < SL_BATCH_CRC_START)
    return 0;
  return sl_crc32c(0, batch + SL_BATCH_CRC_START, size - SL_BATCH_CRC_START);
}

/* Defined in legacy.c. */
int sl__legacy_validate(const uint8_t *entry, size_t size, sl_diag *diag);

int sl_batch_validate(const uint8_t *batch, size_t size, sl_diag *diag) {
  int8_t magic;
  int32_t esize;
  int rc = sl_batch_peek(batch, size, NULL, &esize, &magic);
  if (rc == SL_ECORRUPT)
    return sl_diag_set(diag, rc, SL_BATCH_OFF_LENGTH, "invalid batch length or magic %d",
                       magic);
  if (rc)
    return sl_diag_set(diag, rc, (int64_t)size, "batch header is incomplete");
  if ((size_t)esize != size)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "batch size %d does not match the %zu bytes given", esize, size);
  if (magic < 2)
    return sl__legacy_validate(batch, size, diag);
  sl_batch_header h;
  rc = sl_batch_header_decode(batch, size, &h, diag);
  if (rc)
    return rc;
  uint32_t crc = sl_batch_crc_compute(batch, size);
  if (crc != h.crc)
    return sl_diag_set(diag, SL_ECRC, SL_BATCH_OFF_CRC,
                       "CRC-32C stored 0x%08x, computed 0x%08x", h.crc, crc);
  return SL_OK;
}

void sl_batch_set_base_offset(uint8_t *batch, int64_t base_offset) {
  sl_store_be64(batch + SL_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void sl_batch_set_leader_epoch(uint8_t *batch, int32_t epoch) {
  sl_store_be32(batch + SL_BATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

void sl_batch_set_log_append_time(uint8_t *batch, size_t size, int64_t now_ms) {
  uint16_t attrs = sl_load_be16(batch + SL_BATCH_OFF_ATTRIBUTES);
  sl_store_be16(batch + SL_BATCH_OFF_ATTRIBUTES, attrs | SL_ATTR_LOG_APPEND_TIME);
  sl_store_be64(batch + SL_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)now_ms);
  sl_store_be32(batch + SL_BATCH_OFF_CRC, sl_batch_crc_compute(batch, size));
}
