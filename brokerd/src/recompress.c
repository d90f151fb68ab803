/*
 * recompress.c - broker-side recompression of produced batches (see
 * recompress.h; docs/BROKER.md, "APIs").  Batches are read with
 * sl_batch_reader and rebuilt with sl_batch_builder.
 */
#include "recompress.h"

#include <stdlib.h>
#include <string.h>

#include "seglog/batch.h"
#include "seglog/bytes.h"

bool sd_compression_target(const char *type, sl_compression *out) {
  if (type == NULL || strcmp(type, "producer") == 0)
    return false;
  if (strcmp(type, "uncompressed") == 0) {
    *out = SL_COMPRESSION_NONE;
    return true;
  }
  return sl_compression_parse(type, out) == 0;
}

/* 1: every batch is complete, v2, valid and of a kind we can rebuild. */
static int scan(const uint8_t *data, size_t len, sl_compression target, bool *needed) {
  size_t pos = 0;
  *needed = false;
  while (pos < len) {
    int64_t base;
    int32_t size;
    int8_t magic;
    if (sl_batch_peek(data + pos, len - pos, &base, &size, &magic) != 0 || magic != 2 ||
        (size_t)size > len - pos)
      return 0;
    sl_batch_header h;
    if (sl_batch_header_decode(data + pos, (size_t)size, &h, NULL) != 0 ||
        sl_batch_validate(data + pos, (size_t)size, NULL) != 0)
      return 0;
    if (!sl_batch_is_control(&h) && sl_batch_compression(&h) != target &&
        h.records_count > 0)
      *needed = true;
    pos += (size_t)size;
  }
  return 1;
}

int sd_recompress(const uint8_t *data, size_t len, sl_compression target, uint8_t **out,
                  size_t *out_len, sl_diag *diag) {
  bool needed;
  if (!scan(data, len, target, &needed) || !needed)
    return 1;
  sl_buf buf;
  sl_buf_init(&buf);
  sl_batch_reader *rd = NULL;
  sl_batch_builder *bld = NULL;
  int rc = sl_batch_reader_new(0, &rd);
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  if (rc == 0)
    rc = sl_batch_builder_new(&o, &bld);
  size_t pos = 0;
  while (rc == 0 && pos < len) {
    int64_t base;
    int32_t size;
    int8_t magic;
    sl_batch_peek(data + pos, len - pos, &base, &size, &magic);
    sl_batch_header h;
    rc = sl_batch_reader_open(rd, data + pos, (size_t)size, &h, diag);
    if (rc != 0)
      break;
    if (sl_batch_is_control(&h) || sl_batch_compression(&h) == target ||
        h.records_count == 0) {
      rc = sl_buf_append(&buf, data + pos, (size_t)size);
      pos += (size_t)size;
      continue;
    }
    sl_batch_builder_opts_init(&o);
    o.compression = target;
    o.base_offset = h.base_offset;
    o.partition_leader_epoch = h.partition_leader_epoch;
    o.producer_id = h.producer_id;
    o.producer_epoch = h.producer_epoch;
    o.base_sequence = h.base_sequence;
    o.transactional = sl_batch_is_transactional(&h);
    o.log_append_time = (h.attributes & SL_ATTR_LOG_APPEND_TIME) != 0;
    o.last_offset_delta = h.last_offset_delta;
    o.max_timestamp = h.max_timestamp;
    sl_batch_builder_reset(bld, &o);
    sl_record rec;
    int more;
    while ((more = sl_batch_reader_next(rd, &rec, diag)) == 1) {
      rc = sl_batch_builder_add_record(bld, &rec);
      if (rc != 0)
        break;
    }
    if (rc == 0 && more < 0)
      rc = more;
    if (rc == 0)
      rc = sl_batch_builder_finish(bld, &buf);
    pos += (size_t)size;
  }
  sl_batch_builder_free(bld);
  sl_batch_reader_free(rd);
  if (rc == 0 && buf.err != 0)
    rc = buf.err;
  if (rc != 0) {
    sl_buf_release(&buf);
    return rc;
  }
  *out = sl_buf_detach(&buf, out_len);
  return 0;
}
