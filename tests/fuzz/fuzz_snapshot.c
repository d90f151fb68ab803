/*
 * fuzz_snapshot.c - libFuzzer target for producer state (docs/FORMAT.md,
 * "Producer state snapshots", "Producer state").  Input that decodes as a
 * .snapshot must re-encode to the same bytes and load into a state whose
 * entries encode again without loss.  Any input is also replayed as a
 * sequence of 16-byte append operations against the state machine, checking
 * its invariants: a rejected batch changes nothing, the map end offset
 * follows the appends, the first unstable offset lies below it, and the
 * state snapshots and reloads to the same entries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/bytes.h"
#include "seglog/pstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_entries(const sl_pstate_snapshot_entry *a, size_t na,
                         const sl_pstate_snapshot_entry *b, size_t nb) {
  if (na != nb)
    abort();
  for (size_t i = 0; i < na; i++)
    if (a[i].producer_id != b[i].producer_id || a[i].epoch != b[i].epoch ||
        a[i].last_sequence != b[i].last_sequence ||
        a[i].last_offset != b[i].last_offset || a[i].offset_delta != b[i].offset_delta ||
        a[i].timestamp != b[i].timestamp ||
        a[i].coordinator_epoch != b[i].coordinator_epoch ||
        a[i].current_txn_first_offset != b[i].current_txn_first_offset)
      abort();
}

static void snapshot_roundtrip(sl_pstate *ps) {
  sl_pstate_snapshot_entry *e = NULL, *e2 = NULL, *e3 = NULL;
  size_t n = 0, n2 = 0, n3 = 0;
  sl_buf b = SL_BUF_INIT;
  sl_pstate *ps2 = NULL;
  if (sl_pstate_to_entries(ps, &e, &n) != SL_OK)
    abort();
  if (sl_pstate_snapshot_encode(e, n, &b) != SL_OK)
    abort();
  if (sl_pstate_snapshot_decode(b.data, b.len, 0, &e2, &n2, NULL) != SL_OK)
    abort();
  same_entries(e, n, e2, n2);
  if (sl_pstate_new(NULL, NULL, &ps2) != SL_OK)
    abort();
  if (sl_pstate_load_entries(ps2, e2, n2, sl_pstate_map_end_offset(ps), -1) != SL_OK)
    abort();
  if (sl_pstate_to_entries(ps2, &e3, &n3) != SL_OK)
    abort();
  same_entries(e, n, e3, n3);
  sl_pstate_free(ps2);
  free(e);
  free(e2);
  free(e3);
  sl_buf_release(&b);
}

/* One op (16 bytes): pid(1) epoch(1) seq(4) records(1) flags(1) ts(4)
 * coordinator epoch(2) stage-count(1) spare(1). */
static void replay(const uint8_t *data, size_t size) {
  sl_pstate *ps;
  sl_pstate_config cfg = {1000, 64};
  if (sl_pstate_new(NULL, &cfg, &ps) != SL_OK)
    abort();
  int64_t next = 0;
  for (size_t at = 0; at + 16 <= size; at += 16) {
    const uint8_t *o = data + at;
    uint8_t flags = o[7];
    sl_batch_header h;
    memset(&h, 0, sizeof(h));
    h.magic = 2;
    h.base_offset = next;
    h.producer_id = (flags & 0x80) ? -1 : o[0] % 8;
    h.producer_epoch = (int16_t)(o[1] % 4);
    h.base_sequence = (int32_t)sl_load_be32(o + 2);
    if (h.base_sequence < -1)
      h.base_sequence &= INT32_MAX;
    h.records_count = 1 + o[6] % 8;
    h.last_offset_delta = h.records_count - 1;
    h.max_timestamp = h.base_timestamp = (int64_t)sl_load_be32(o + 8);
    sl_control ctl = {0, (int16_t)(flags & 0x3), 0,
                      (int32_t)(int16_t)sl_load_be16(o + 12)};
    const sl_control *marker = NULL;
    if (flags & 0x10)
      h.attributes |= SL_ATTR_TRANSACTIONAL;
    if (flags & 0x20) {
      h.attributes |= SL_ATTR_CONTROL | SL_ATTR_TRANSACTIONAL;
      h.records_count = 1;
      h.last_offset_delta = 0;
      h.base_sequence = -1;
      marker = (flags & 0x4) ? NULL : &ctl;
    }
    sl_append_origin origin =
        (sl_append_origin)((flags >> 3) % 3 == 0   ? SL_ORIGIN_CLIENT
                           : (flags >> 3) % 3 == 1 ? SL_ORIGIN_COORDINATOR
                                                   : SL_ORIGIN_REPLICATION);
    sl_pstate_snapshot_entry *before = NULL, *after = NULL;
    size_t nb = 0, na = 0;
    if (sl_pstate_to_entries(ps, &before, &nb) != SL_OK)
      abort();
    sl_pstate_dup dup;
    const sl_pstate_txn *txns;
    size_t nt;
    int rc = sl_pstate_apply(ps, origin, &h, marker, &txns, &nt, NULL);
    if (sl_pstate_to_entries(ps, &after, &na) != SL_OK)
      abort();
    if (rc != SL_OK) {
      same_entries(before, nb, after, na); /* a rejection changes nothing */
      if (rc == SL_EDUPLICATE_SEQUENCE)
        (void)dup;
    } else {
      next = h.base_offset + h.last_offset_delta + 1;
      if (sl_pstate_map_end_offset(ps) != next)
        abort();
      for (size_t i = 0; i < nt; i++)
        if (txns[i].first_offset > txns[i].last_offset ||
            txns[i].last_stable_offset > txns[i].last_offset + 1)
          abort();
    }
    free(before);
    free(after);
    int64_t fu;
    if (sl_pstate_first_unstable_offset(ps, &fu) && fu >= next)
      abort();
    if (o[14] & 1)
      sl_pstate_on_high_watermark(ps, next - (o[15] % 4));
    if (o[14] & 2)
      sl_pstate_remove_expired(ps, (int64_t)sl_load_be32(o + 8) + 500);
  }
  snapshot_roundtrip(ps);
  sl_pstate_free(ps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_pstate_snapshot_entry *e = NULL;
  size_t n = 0;
  if (sl_pstate_snapshot_decode(data, size, 4096, &e, &n, NULL) == SL_OK) {
    sl_buf b = SL_BUF_INIT;
    if (sl_pstate_snapshot_encode(e, n, &b) != SL_OK || b.len != size ||
        memcmp(b.data, data, size) != 0)
      abort();
    sl_buf_release(&b);
    sl_pstate *ps;
    if (sl_pstate_new(NULL, NULL, &ps) != SL_OK)
      abort();
    if (sl_pstate_load_entries(ps, e, n, 100, -1) != SL_OK)
      abort();
    snapshot_roundtrip(ps);
    sl_pstate_free(ps);
    free(e);
  }
  replay(data, size);
  return 0;
}
