/*
 * fuzz_batch.c - libFuzzer target for the record batch layer: the input is
 * read as concatenated log entries (v2 batches and legacy magic 0/1 messages,
 * as in a .log segment).  Each complete entry is validated, opened with a
 * bounded reader and walked to the end; control records are parsed; every v2
 * batch that reads cleanly is rebuilt with the builder from its records and
 * must read back to the same records.  Formats: docs/FORMAT.md, "Record
 * batches" and "Legacy messages".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DECOMPRESSED ((size_t)1 << 20)
#define MAX_RECORDS 4096

static void same_bytes(const uint8_t *a, int32_t alen, const uint8_t *b, int32_t blen) {
  if (alen != blen || (alen > 0 && memcmp(a, b, (size_t)alen) != 0))
    abort();
}

static void same_record(const sl_record *a, const sl_record *b) {
  if (a->offset != b->offset || a->timestamp != b->timestamp ||
      a->attributes != b->attributes || a->header_count != b->header_count)
    abort();
  same_bytes(a->key, a->key_len, b->key, b->key_len);
  same_bytes(a->value, a->value_len, b->value, b->value_len);
  for (int32_t i = 0; i < a->header_count; i++) {
    same_bytes(a->headers[i].key, a->headers[i].key_len, b->headers[i].key,
               b->headers[i].key_len);
    same_bytes(a->headers[i].value, a->headers[i].value_len, b->headers[i].value,
               b->headers[i].value_len);
  }
}

/* Rebuilds a v2 batch (uncompressed) from its records and checks the copy
 * reads back identically.  Skipped for LogAppendTime batches (the builder
 * stores CreateTime deltas) and for inputs the builder rightly refuses. */
static void rebuild(const uint8_t *batch, size_t n, const sl_batch_header *h,
                    sl_batch_reader *r1, sl_batch_reader *r2) {
  if (h->attributes & SL_ATTR_LOG_APPEND_TIME)
    return;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.base_offset = h->base_offset;
  o.partition_leader_epoch = h->partition_leader_epoch;
  o.producer_id = h->producer_id;
  o.producer_epoch = h->producer_epoch;
  o.base_sequence = h->base_sequence;
  o.transactional = sl_batch_is_transactional(h);
  o.control = sl_batch_is_control(h);
  o.last_offset_delta = h->last_offset_delta;
  o.max_timestamp = h->max_timestamp;
  if (h->attributes & SL_ATTR_DELETE_HORIZON)
    o.delete_horizon_ms = h->base_timestamp;
  sl_batch_builder *b = NULL;
  sl_buf out = SL_BUF_INIT;
  if (sl_batch_builder_new(&o, &b))
    goto done;
  if (sl_batch_reader_open(r1, batch, n, NULL, NULL))
    abort(); /* it opened a moment ago */
  sl_record rec;
  while (sl_batch_reader_next(r1, &rec, NULL) == 1) {
    if (sl_batch_builder_add_record(b, &rec))
      goto done; /* e.g. offsets that do not increase, refused by the builder */
  }
  if (sl_batch_builder_finish(b, &out))
    goto done;
  if (sl_batch_validate(out.data, out.len, NULL))
    abort();
  sl_batch_header h2;
  if (sl_batch_reader_open(r2, out.data, out.len, &h2, NULL))
    abort();
  if (h2.records_count != h->records_count || h2.base_offset != h->base_offset)
    abort();
  if (sl_batch_reader_open(r1, batch, n, NULL, NULL))
    abort();
  sl_record a, c;
  for (;;) {
    int ra = sl_batch_reader_next(r1, &a, NULL);
    int rc = sl_batch_reader_next(r2, &c, NULL);
    if (ra != rc)
      abort();
    if (ra != 1)
      break;
    same_record(&a, &c);
  }
done:
  sl_buf_release(&out);
  sl_batch_builder_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_batch_reader *r = NULL, *r1 = NULL, *r2 = NULL;
  if (sl_batch_reader_new(MAX_DECOMPRESSED, &r) ||
      sl_batch_reader_new(MAX_DECOMPRESSED, &r1) ||
      sl_batch_reader_new(MAX_DECOMPRESSED, &r2))
    goto out;
  size_t pos = 0;
  while (pos < size) {
    int32_t esize;
    int8_t magic;
    if (sl_batch_peek(data + pos, size - pos, NULL, &esize, &magic))
      break;
    if ((size_t)esize > size - pos)
      break;
    const uint8_t *e = data + pos;
    size_t n = (size_t)esize;
    sl_diag d;
    sl_diag_clear(&d);
    (void)sl_batch_validate(e, n, &d);
    /* Walk even when the CRC is wrong, so the fuzzer reaches the records. */
    sl_batch_header h;
    if (sl_batch_reader_open(r, e, n, &h, &d) == SL_OK) {
      sl_record rec;
      int rc, count = 0;
      while ((rc = sl_batch_reader_next(r, &rec, &d)) == 1 && count < MAX_RECORDS + 1) {
        count++;
        if (sl_batch_is_control(&h) || magic < 2) {
          sl_control c;
          (void)sl_control_parse(&rec, &c, &d);
        }
      }
      if (rc == 0 && count != h.records_count)
        abort();
      if (rc == 0 && magic == 2 && count <= MAX_RECORDS)
        rebuild(e, n, &h, r1, r2);
    }
    pos += n;
  }
out:
  sl_batch_reader_free(r);
  sl_batch_reader_free(r1);
  sl_batch_reader_free(r2);
  return 0;
}
