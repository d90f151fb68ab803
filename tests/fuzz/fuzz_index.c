/*
 * fuzz_index.c - the index parsers of seglog/index.h on hostile bytes: the
 * first input byte picks the base offset's magnitude, the rest is read as an
 * offset index, a time index and a transaction index image.  Invariants: no
 * crash or out-of-bounds read, live counts never exceed the slot counts, and
 * every entry the counters accept decodes and re-encodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int64_t base = (int64_t)data[0] << (data[0] % 40);
  const uint8_t *p = data + 1;
  size_t len = size - 1;
  sl_diag d;

  size_t n = sl_offset_index_count(len);
  size_t live = sl_offset_index_live_count(p, len);
  if (live > n)
    abort();
  for (size_t i = 0; i < n; i++) {
    sl_offset_position e;
    uint8_t back[SL_OFFSET_INDEX_ENTRY_SIZE];
    if (sl_offset_index_entry(p, len, i, base, &e) != SL_OK)
      abort();
    sl_offset_index_encode(back, base, e.offset, (int32_t)e.position);
    if (memcmp(back, p + i * SL_OFFSET_INDEX_ENTRY_SIZE, sizeof(back)) != 0)
      abort();
  }
  (void)sl_offset_index_sanity_check(p, len, base, &d);

  n = sl_time_index_count(len);
  live = sl_time_index_live_count(p, len);
  if (live > n)
    abort();
  for (size_t i = 0; i < n; i++) {
    sl_timestamp_offset e;
    uint8_t back[SL_TIME_INDEX_ENTRY_SIZE];
    if (sl_time_index_entry(p, len, i, base, &e) != SL_OK)
      abort();
    sl_time_index_encode(back, base, e.timestamp, e.offset);
    if (memcmp(back, p + i * SL_TIME_INDEX_ENTRY_SIZE, sizeof(back)) != 0)
      abort();
  }
  (void)sl_time_index_sanity_check(p, len, base, &d);

  n = len / SL_TXN_INDEX_ENTRY_SIZE;
  for (size_t i = 0; i < n; i++) {
    sl_aborted_txn t;
    if (sl_txn_index_entry(p, len, i, &t) == SL_OK) {
      uint8_t back[SL_TXN_INDEX_ENTRY_SIZE];
      sl_txn_index_encode(back, &t);
      if (memcmp(back, p + i * SL_TXN_INDEX_ENTRY_SIZE, sizeof(back)) != 0)
        abort();
    }
  }
  (void)sl_txn_index_sanity_check(p, len, base, &d);
  return 0;
}
