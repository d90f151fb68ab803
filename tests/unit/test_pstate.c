/* test_pstate.c - producer state: the .snapshot codec with exact bytes and
 * every decode check, and the state machine as Kafka's ProducerStateManager
 * behaves: duplicates of each of the last 5 batches, gaps, epoch bumps,
 * fencing, sequence wrap-around, transactions and aborted-txn entries, the
 * last stable offset, expiry, snapshots and reload. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio_int.h"
#include "seglog/pstate.h"

/* ---- codec ---- */

/* Field-wise comparison (the struct has padding). */
static void entries_equal(const sl_pstate_snapshot_entry *a,
                          const sl_pstate_snapshot_entry *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(a[i].producer_id, b[i].producer_id);
    assert_int_equal(a[i].epoch, b[i].epoch);
    assert_int_equal(a[i].last_sequence, b[i].last_sequence);
    assert_int_equal(a[i].last_offset, b[i].last_offset);
    assert_int_equal(a[i].offset_delta, b[i].offset_delta);
    assert_int_equal(a[i].timestamp, b[i].timestamp);
    assert_int_equal(a[i].coordinator_epoch, b[i].coordinator_epoch);
    assert_int_equal(a[i].current_txn_first_offset, b[i].current_txn_first_offset);
  }
}

static const char *const two_hex =
    "00 01 67 db 89 c1 00 00 00 02"
    " 00 00 00 00 00 00 03 e8 00 03 00 00 00 29 00 00 00 00 00 00 03 e7 00 00 00 04"
    " 00 00 01 8b cf e5 68 7b ff ff ff ff ff ff ff ff ff ff ff ff"
    " 00 00 00 00 00 00 07 d0 00 00 00 00 00 09 00 00 00 00 00 00 05 dc 00 00 00 09"
    " 00 00 01 8b cf e5 69 c8 00 00 00 07 00 00 00 00 00 00 05 d2";

static const sl_pstate_snapshot_entry two[2] = {
    {1000, 3, 41, 999, 4, 1700000000123LL, -1, -1},
    {2000, 0, 9, 1500, 9, 1700000000456LL, 7, 1490},
};

static void test_snapshot_empty_bytes(void **state) {
  (void)state;
  static const uint8_t empty[10] = {0x00, 0x01, 0x48, 0x67, 0x4b, 0xc7, 0, 0, 0, 0};
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sl_pstate_snapshot_encode(NULL, 0, &b), SL_OK);
  assert_int_equal(b.len, 10);
  assert_memory_equal(b.data, empty, 10);
  sl_pstate_snapshot_entry *e = (sl_pstate_snapshot_entry *)1;
  size_t n = 9;
  assert_int_equal(sl_pstate_snapshot_decode(empty, 10, 0, &e, &n, NULL), SL_OK);
  assert_null(e);
  assert_int_equal(n, 0);
  sl_buf_release(&b);
}

static void test_snapshot_two_producers(void **state) {
  (void)state;
  uint8_t want[200];
  size_t wl = tu_unhex(two_hex, want, sizeof(want));
  assert_int_equal(wl, 102);
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sl_pstate_snapshot_encode(two, 2, &b), SL_OK);
  assert_int_equal(b.len, 102);
  assert_memory_equal(b.data, want, 102);
  sl_pstate_snapshot_entry *e;
  size_t n;
  assert_int_equal(sl_pstate_snapshot_decode(want, wl, 0, &e, &n, NULL), SL_OK);
  assert_int_equal(n, 2);
  entries_equal(e, two, 2);
  free(e);
  sl_buf_release(&b);
}

static void test_snapshot_decode_errors(void **state) {
  (void)state;
  uint8_t good[200], buf[200];
  size_t gl = tu_unhex(two_hex, good, sizeof(good));
  sl_pstate_snapshot_entry *e;
  size_t n;
  sl_diag d;
  /* too short for the header */
  for (size_t len = 0; len < 10; len++) {
    sl_diag_clear(&d);
    assert_int_equal(sl_pstate_snapshot_decode(good, len, 0, &e, &n, &d), SL_ETRUNCATED);
  }
  /* truncated entries */
  for (size_t len = 10; len < gl; len++) {
    int rc = sl_pstate_snapshot_decode(good, len, 0, &e, &n, &d);
    assert_int_equal(rc, SL_ETRUNCATED);
    assert_null(e);
  }
  /* count says 1 with two entries present: trailing bytes */
  memcpy(buf, good, gl);
  buf[9] = 1;
  assert_int_equal(sl_pstate_snapshot_decode(buf, gl, 0, &e, &n, &d), SL_ECORRUPT);
  assert_int_equal(d.pos, 56);
  /* negative count */
  memcpy(buf, good, gl);
  buf[6] = 0x80;
  assert_int_equal(sl_pstate_snapshot_decode(buf, gl, 0, &e, &n, &d), SL_ECORRUPT);
  /* huge count against few bytes: no allocation, truncated */
  memcpy(buf, good, gl);
  buf[6] = 0x7f;
  assert_int_equal(sl_pstate_snapshot_decode(buf, gl, 0, &e, &n, &d), SL_ETRUNCATED);
  /* count above the configured maximum */
  assert_int_equal(sl_pstate_snapshot_decode(good, gl, 1, &e, &n, &d), SL_ETOO_LARGE);
  /* versions 0 and 2 */
  memcpy(buf, good, gl);
  buf[1] = 0;
  assert_int_equal(sl_pstate_snapshot_decode(buf, gl, 0, &e, &n, &d), SL_EUNSUPPORTED);
  buf[1] = 2;
  assert_int_equal(sl_pstate_snapshot_decode(buf, gl, 0, &e, &n, &d), SL_EUNSUPPORTED);
  /* every flipped bit after the CRC field is a CRC error */
  for (size_t i = 10; i < gl; i++) {
    memcpy(buf, good, gl);
    buf[i] ^= 0x10;
    sl_diag_clear(&d);
    int rc = sl_pstate_snapshot_decode(buf, gl, 0, &e, &n, &d);
    if (rc != SL_ECRC)
      fail_msg("flip at %zu: rc %d", i, rc);
  }
  memcpy(buf, good, gl);
  buf[5] ^= 1; /* the stored CRC itself */
  sl_diag_clear(&d);
  assert_int_equal(sl_pstate_snapshot_decode(buf, gl, 0, &e, &n, &d), SL_ECRC);
  assert_non_null(strstr(d.msg, "stored crc 0x67db89c0"));
  assert_non_null(strstr(d.msg, "computed crc 0x67db89c1"));
}

static void test_snapshot_files(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char path[512];
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_pstate_snapshot_path(dir, 1234, path, sizeof(path)), SL_OK);
  char *want = tu_path(dir, "00000000000000001234.snapshot");
  assert_string_equal(path, want);
  free(want);
  assert_int_equal(sl_pstate_snapshot_path(dir, -1, path, sizeof(path)), SL_EINVAL);
  assert_int_equal(sl_pstate_snapshot_write(dir, 1234, two, 2, true, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_write(dir, 5, NULL, 0, false, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_write(dir, 99, NULL, 0, false, &d), SL_OK);
  /* names that are not snapshots */
  char *junk1 = tu_path(dir, "00000000000000000007.snapshot.deleted");
  char *junk2 = tu_path(dir, "7.snapshot");
  char *junk3 = tu_path(dir, "00000000000000000000.log");
  assert_int_equal(tu_write_file(junk1, "", 0), 0);
  assert_int_equal(tu_write_file(junk2, "", 0), 0);
  assert_int_equal(tu_write_file(junk3, "", 0), 0);
  int64_t *offs;
  size_t n;
  assert_int_equal(sl_pstate_snapshot_list(dir, &offs, &n, &d), SL_OK);
  assert_int_equal(n, 3);
  assert_int_equal(offs[0], 5);
  assert_int_equal(offs[1], 99);
  assert_int_equal(offs[2], 1234);
  free(offs);
  size_t len;
  uint8_t *data = tu_read_file(path, &len);
  uint8_t exp[200];
  assert_int_equal(len, tu_unhex(two_hex, exp, sizeof(exp)));
  assert_memory_equal(data, exp, len);
  free(data);
  sl_pstate_snapshot_entry *e;
  assert_int_equal(sl_pstate_snapshot_read(path, &e, &n, &d), SL_OK);
  assert_int_equal(n, 2);
  free(e);
  assert_int_equal(sl_pstate_snapshot_delete(dir, 99, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_delete(dir, 99, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_list(dir, &offs, &n, &d), SL_OK);
  assert_int_equal(n, 2);
  free(offs);
  /* a failed write (ENOSPC, or EIO on fsync) leaves no file behind */
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.writes_until_fail = 0;
  f.write_errno = ENOSPC;
  sl__fio_set_faults(&f);
  assert_int_equal(sl_pstate_snapshot_write(dir, 777, two, 2, true, &d), SL_ENOSPC);
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 0;
  sl__fio_set_faults(&f);
  assert_int_equal(sl_pstate_snapshot_write(dir, 778, two, 2, true, &d), SL_EIO);
  sl__fio_set_faults(NULL);
  char p777[512];
  assert_int_equal(sl_pstate_snapshot_path(dir, 777, p777, sizeof(p777)), SL_OK);
  assert_int_equal(tu_file_size(p777), -1);
  assert_int_equal(sl_pstate_snapshot_path(dir, 778, p777, sizeof(p777)), SL_OK);
  assert_int_equal(tu_file_size(p777), -1);
  /* a corrupt file names itself */
  assert_int_equal(tu_write_file(path, "\x00\x01\x00", 3), 0);
  assert_int_equal(sl_pstate_snapshot_read(path, &e, &n, &d), SL_ETRUNCATED);
  assert_string_equal(d.path, path);
  free(junk1);
  free(junk2);
  free(junk3);
  tu_rmtree_free(dir);
}

/* ---- state machine helpers ---- */

static sl_batch_header data_batch(int64_t base, int32_t records, int64_t pid,
                                  int16_t epoch, int32_t seq, bool txn, int64_t ts) {
  sl_batch_header h;
  memset(&h, 0, sizeof(h));
  h.base_offset = base;
  h.magic = 2;
  h.attributes = txn ? SL_ATTR_TRANSACTIONAL : 0;
  h.last_offset_delta = records - 1;
  h.base_timestamp = ts;
  h.max_timestamp = ts;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.records_count = records;
  h.partition_leader_epoch = 0;
  return h;
}

static sl_batch_header marker_batch(int64_t off, int64_t pid, int16_t epoch, int64_t ts) {
  sl_batch_header h = data_batch(off, 1, pid, epoch, -1, true, ts);
  h.attributes = SL_ATTR_TRANSACTIONAL | SL_ATTR_CONTROL;
  return h;
}

static sl_control marker(int type, int32_t coordinator_epoch) {
  sl_control c = {0, (int16_t)type, 0, coordinator_epoch};
  return c;
}

/* One-batch client append: begin, stage, commit(next). */
static int client_append(sl_pstate *ps, const sl_batch_header *h, sl_pstate_dup *dup) {
  sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
  int rc = sl_pstate_stage(ps, h, NULL, dup, NULL);
  if (rc) {
    sl_pstate_rollback(ps);
    return rc;
  }
  return sl_pstate_commit(ps, sl_batch_last_offset(h) + 1, NULL, NULL);
}

static sl_pstate *new_state(const char *dir) {
  sl_pstate *ps;
  sl_pstate_config cfg = {1000, 0}; /* expiration 1 s */
  assert_int_equal(sl_pstate_new(dir, &cfg, &ps), SL_OK);
  return ps;
}

static void test_idempotent_dups_and_gaps(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  sl_pstate_dup dup;
  /* six batches of 5 records, sequences 0..29, offsets 100.. */
  for (int i = 0; i < 6; i++) {
    sl_batch_header h = data_batch(100 + 5 * i, 5, 7, 0, 5 * i, false, 1000 + i);
    assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  }
  assert_int_equal(sl_pstate_map_end_offset(ps), 130);
  sl_pstate_producer p;
  assert_true(sl_pstate_producer_get(ps, 7, &p));
  assert_int_equal(p.nbatches, 5);
  assert_int_equal(p.batches[0].first_seq, 5);
  assert_int_equal(p.batches[4].last_seq, 29);
  assert_int_equal(p.batches[4].first_offset, 125);
  /* a duplicate of each of the last 5 batches returns its original offsets,
   * whatever offsets the retry was given */
  for (int i = 1; i < 6; i++) {
    sl_batch_header h = data_batch(500, 5, 7, 0, 5 * i, false, 9999);
    memset(&dup, 0, sizeof(dup));
    assert_int_equal(client_append(ps, &h, &dup), SL_EDUPLICATE_SEQUENCE);
    assert_int_equal(dup.first_offset, 100 + 5 * i);
    assert_int_equal(dup.last_offset, 104 + 5 * i);
    assert_int_equal(dup.timestamp, 1000 + i);
  }
  /* the evicted first batch is no longer a duplicate: out of order */
  sl_batch_header h = data_batch(500, 5, 7, 0, 0, false, 9999);
  assert_int_equal(client_append(ps, &h, &dup), SL_EOUT_OF_ORDER_SEQUENCE);
  /* same first sequence but different length: not a duplicate */
  h = data_batch(500, 3, 7, 0, 25, false, 9999);
  assert_int_equal(client_append(ps, &h, &dup), SL_EOUT_OF_ORDER_SEQUENCE);
  /* a gap */
  h = data_batch(130, 1, 7, 0, 31, false, 2000);
  assert_int_equal(client_append(ps, &h, &dup), SL_EOUT_OF_ORDER_SEQUENCE);
  /* nothing changed by the rejections */
  assert_true(sl_pstate_producer_get(ps, 7, &p));
  assert_int_equal(p.batches[4].last_seq, 29);
  assert_int_equal(sl_pstate_map_end_offset(ps), 130);
  /* in sequence */
  h = data_batch(130, 2, 7, 0, 30, false, 2000);
  assert_int_equal(client_append(ps, &h, &dup), SL_OK);
  assert_true(sl_pstate_producer_get(ps, 7, &p));
  assert_int_equal(p.batches[0].first_seq, 10); /* oldest evicted */
  assert_int_equal(p.batches[4].last_seq, 31);
  /* replication does not check sequences (or look for duplicates) */
  sl_batch_header r = data_batch(132, 1, 7, 0, 77, false, 2001);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_REPLICATION, &r, NULL, NULL, NULL, NULL),
                   SL_OK);
  assert_true(sl_pstate_producer_get(ps, 7, &p));
  assert_int_equal(p.batches[4].last_seq, 77);
  /* batches without a producer id are ignored */
  sl_batch_header plain = data_batch(133, 1, -1, -1, -1, false, 1);
  assert_int_equal(client_append(ps, &plain, &dup), SL_OK);
  assert_int_equal(sl_pstate_producer_count(ps), 1);
  sl_pstate_free(ps);
}

static void test_epochs_and_unknown_producers(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  sl_pstate_dup dup;
  sl_pstate_producer p;
  /* an unknown producer may start at any sequence (Kafka 3.x, KIP-360) */
  sl_batch_header h = data_batch(0, 2, 1, 4, 17, false, 10);
  assert_int_equal(client_append(ps, &h, &dup), SL_OK);
  /* older epoch: fenced */
  h = data_batch(2, 1, 1, 3, 19, false, 11);
  assert_int_equal(client_append(ps, &h, &dup), SL_EINVALID_PRODUCER_EPOCH);
  /* a new epoch must start at sequence 0 */
  h = data_batch(2, 1, 1, 5, 19, false, 11);
  assert_int_equal(client_append(ps, &h, &dup), SL_EOUT_OF_ORDER_SEQUENCE);
  h = data_batch(2, 1, 1, 5, 0, false, 11);
  assert_int_equal(client_append(ps, &h, &dup), SL_OK);
  assert_true(sl_pstate_producer_get(ps, 1, &p));
  assert_int_equal(p.epoch, 5);
  assert_int_equal(p.nbatches, 1); /* the bump forgot the old epoch's batches */
  /* the old epoch's batch is not a duplicate any more: fenced */
  h = data_batch(9, 2, 1, 4, 17, false, 10);
  assert_int_equal(client_append(ps, &h, &dup), SL_EINVALID_PRODUCER_EPOCH);
  /* replication accepts an older epoch (Kafka only warns) */
  h = data_batch(3, 1, 1, 4, 50, false, 12);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_REPLICATION, &h, NULL, NULL, NULL, NULL),
                   SL_OK);
  assert_true(sl_pstate_producer_get(ps, 1, &p));
  assert_int_equal(p.epoch, 4);
  sl_pstate_free(ps);
}

static void test_sequence_wrap(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  sl_pstate_dup dup;
  sl_pstate_producer p;
  /* INT32_MAX-2 .. INT32_MAX */
  sl_batch_header h = data_batch(0, 3, 9, 0, INT32_MAX - 2, false, 1);
  assert_int_equal(client_append(ps, &h, &dup), SL_OK);
  /* next is 0 */
  h = data_batch(3, 1, 9, 0, INT32_MAX, false, 1);
  assert_int_equal(client_append(ps, &h, &dup), SL_EOUT_OF_ORDER_SEQUENCE);
  h = data_batch(3, 2, 9, 0, 0, false, 1);
  assert_int_equal(client_append(ps, &h, &dup), SL_OK);
  /* a batch that itself wraps: INT32_MAX-1 .. 1 on a fresh producer */
  h = data_batch(5, 4, 10, 0, INT32_MAX - 1, false, 1);
  assert_int_equal(client_append(ps, &h, &dup), SL_OK);
  assert_true(sl_pstate_producer_get(ps, 10, &p));
  assert_int_equal(p.batches[0].first_seq, INT32_MAX - 1);
  assert_int_equal(p.batches[0].last_seq, 1);
  /* its retry is recognised as a duplicate across the wrap */
  h = data_batch(50, 4, 10, 0, INT32_MAX - 1, false, 1);
  assert_int_equal(client_append(ps, &h, &dup), SL_EDUPLICATE_SEQUENCE);
  assert_int_equal(dup.first_offset, 5);
  assert_int_equal(dup.last_offset, 8);
  h = data_batch(9, 1, 10, 0, 2, false, 1);
  assert_int_equal(client_append(ps, &h, &dup), SL_OK);
  sl_pstate_free(ps);
}

static void test_multi_batch_append(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  sl_pstate_dup dup;
  sl_pstate_producer p;
  sl_batch_header z = data_batch(0, 1, 3, 0, 0, false, 4);
  sl_batch_header a = data_batch(1, 2, 3, 0, 1, false, 5);
  sl_batch_header b = data_batch(3, 2, 3, 0, 3, false, 6);
  sl_batch_header c = data_batch(5, 1, 3, 0, 9, false, 7);
  /* Kafka accepts any sequences in the first append of an unknown producer,
   * even a gap between its batches */
  sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
  assert_int_equal(sl_pstate_stage(ps, &a, NULL, &dup, NULL), SL_OK);
  assert_int_equal(sl_pstate_stage(ps, &c, NULL, &dup, NULL), SL_OK);
  sl_pstate_rollback(ps);
  assert_false(sl_pstate_producer_get(ps, 3, &p));
  assert_int_equal(client_append(ps, &z, &dup), SL_OK);
  /* known now: the second batch is checked against the first, staged one */
  sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
  assert_int_equal(sl_pstate_stage(ps, &a, NULL, &dup, NULL), SL_OK);
  assert_int_equal(sl_pstate_stage(ps, &b, NULL, &dup, NULL), SL_OK);
  assert_int_equal(sl_pstate_stage(ps, &c, NULL, &dup, NULL), SL_EOUT_OF_ORDER_SEQUENCE);
  /* a write failure: rollback leaves the committed state */
  sl_pstate_rollback(ps);
  assert_true(sl_pstate_producer_get(ps, 3, &p));
  assert_int_equal(p.nbatches, 1);
  assert_int_equal(sl_pstate_map_end_offset(ps), 1);
  sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
  assert_int_equal(sl_pstate_stage(ps, &a, NULL, &dup, NULL), SL_OK);
  assert_int_equal(sl_pstate_stage(ps, &b, NULL, &dup, NULL), SL_OK);
  assert_int_equal(sl_pstate_commit(ps, 5, NULL, NULL), SL_OK);
  assert_true(sl_pstate_producer_get(ps, 3, &p));
  assert_int_equal(p.nbatches, 3);
  assert_int_equal(p.batches[2].last_seq, 4);
  assert_int_equal(p.last_timestamp, 6);
  assert_int_equal(sl_pstate_map_end_offset(ps), 5);
  sl_pstate_free(ps);
}

static void test_transactions(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  const sl_pstate_txn *txns;
  size_t nt;
  int64_t fu;
  sl_diag d;
  sl_diag_clear(&d);
  assert_false(sl_pstate_first_unstable_offset(ps, &fu));
  /* producer 10: transactional data at 100..101; producer 11 at 102 */
  sl_batch_header h = data_batch(100, 2, 10, 0, 0, true, 1);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  h = data_batch(102, 1, 11, 0, 0, true, 2);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  assert_true(sl_pstate_first_unstable_offset(ps, &fu));
  assert_int_equal(fu, 100);
  sl_pstate_producer p;
  assert_true(sl_pstate_producer_get(ps, 10, &p));
  assert_int_equal(p.current_txn_first_offset, 100);
  /* a non-transactional write inside the transaction */
  h = data_batch(103, 1, 10, 0, 2, false, 3);
  assert_int_equal(client_append(ps, &h, NULL), SL_EINVALID_TXN_STATE);
  /* producer 10 aborts at 103 */
  sl_batch_header m = marker_batch(103, 10, 0, 4);
  sl_control ab = marker(SL_CONTROL_ABORT, 5);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_COORDINATOR, &m, &ab, &txns, &nt, &d),
                   SL_OK);
  assert_int_equal(nt, 1);
  assert_int_equal(txns[0].producer_id, 10);
  assert_int_equal(txns[0].first_offset, 100);
  assert_int_equal(txns[0].last_offset, 103);
  assert_true(txns[0].aborted);
  assert_int_equal(txns[0].last_stable_offset, 102); /* producer 11 still open */
  assert_int_equal(sl_pstate_map_end_offset(ps), 104);
  assert_true(sl_pstate_producer_get(ps, 10, &p));
  assert_int_equal(p.current_txn_first_offset, -1);
  assert_int_equal(p.coordinator_epoch, 5);
  assert_int_equal(p.last_timestamp, 4);
  /* the aborted txn stays unstable until the HW passes its marker */
  assert_true(sl_pstate_first_unstable_offset(ps, &fu));
  assert_int_equal(fu, 100);
  assert_true(sl_pstate_first_undecided_offset(ps, &fu)); /* only 11 is open */
  assert_int_equal(fu, 102);
  sl_pstate_on_high_watermark(ps, 103);
  assert_true(sl_pstate_first_unstable_offset(ps, &fu));
  assert_int_equal(fu, 100);
  sl_pstate_on_high_watermark(ps, 104);
  assert_true(sl_pstate_first_unstable_offset(ps, &fu));
  assert_int_equal(fu, 102);
  /* a zombie coordinator is fenced; an older producer epoch too */
  m = marker_batch(104, 10, 0, 5);
  sl_control old = marker(SL_CONTROL_COMMIT, 4);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_COORDINATOR, &m, &old, &txns, &nt, &d),
                   SL_ETRANSACTION_COORDINATOR_FENCED);
  /* producer 11 commits at 104 */
  m = marker_batch(104, 11, 0, 6);
  sl_control cm = marker(SL_CONTROL_COMMIT, 0);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_COORDINATOR, &m, &cm, &txns, &nt, &d),
                   SL_OK);
  assert_int_equal(nt, 1);
  assert_false(txns[0].aborted);
  assert_int_equal(txns[0].first_offset, 102);
  assert_int_equal(txns[0].last_stable_offset, 105);
  sl_pstate_on_high_watermark(ps, 105);
  assert_false(sl_pstate_first_unstable_offset(ps, &fu));
  /* a marker without an open transaction reports nothing but takes the
   * coordinator epoch */
  m = marker_batch(105, 11, 0, 7);
  sl_control c3 = marker(SL_CONTROL_ABORT, 3);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_COORDINATOR, &m, &c3, &txns, &nt, &d),
                   SL_OK);
  assert_int_equal(nt, 0);
  assert_true(sl_pstate_producer_get(ps, 11, &p));
  assert_int_equal(p.coordinator_epoch, 3);
  /* markers with an older producer epoch are fenced */
  h = data_batch(106, 1, 11, 2, 0, true, 8);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  m = marker_batch(107, 11, 1, 9);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_COORDINATOR, &m, &c3, &txns, &nt, &d),
                   SL_EINVALID_PRODUCER_EPOCH);
  /* ... but replication takes them */
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_REPLICATION, &m, &c3, &txns, &nt, &d),
                   SL_OK);
  assert_int_equal(nt, 1);
  assert_true(txns[0].aborted);
  /* control records other than ABORT/COMMIT are corrupt; empty control
   * batches (marker NULL) are ignored */
  sl_control lc = marker(SL_CONTROL_LEADER_CHANGE, 0);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_REPLICATION, &m, &lc, &txns, &nt, &d),
                   SL_ECORRUPT);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_REPLICATION, &m, NULL, &txns, &nt, &d),
                   SL_OK);
  sl_pstate_free(ps);
}

static void test_lso_with_interleaved_txns(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  const sl_pstate_txn *txns;
  size_t nt;
  /* A opens at 0, B at 1, C at 2; B aborts first (3): its LSO is A's 0; A
   * commits (4): LSO is C's 2; C aborts (5): LSO is 6 */
  sl_batch_header a = data_batch(0, 1, 1, 0, 0, true, 1);
  sl_batch_header b = data_batch(1, 1, 2, 0, 0, true, 1);
  sl_batch_header c = data_batch(2, 1, 3, 0, 0, true, 1);
  assert_int_equal(client_append(ps, &a, NULL), SL_OK);
  assert_int_equal(client_append(ps, &b, NULL), SL_OK);
  assert_int_equal(client_append(ps, &c, NULL), SL_OK);
  sl_control ab = marker(SL_CONTROL_ABORT, 0), cm = marker(SL_CONTROL_COMMIT, 0);
  /* B's abort and A's commit staged in one append */
  sl_batch_header mb = marker_batch(3, 2, 0, 1), ma = marker_batch(4, 1, 0, 1);
  sl_pstate_begin(ps, SL_ORIGIN_COORDINATOR);
  assert_int_equal(sl_pstate_stage(ps, &mb, &ab, NULL, NULL), SL_OK);
  assert_int_equal(sl_pstate_stage(ps, &ma, &cm, NULL, NULL), SL_OK);
  assert_int_equal(sl_pstate_commit(ps, 5, &txns, &nt), SL_OK);
  assert_int_equal(nt, 2);
  assert_int_equal(txns[0].producer_id, 2);
  assert_int_equal(txns[0].last_stable_offset, 0);
  assert_int_equal(txns[1].producer_id, 1);
  assert_int_equal(txns[1].last_stable_offset, 2);
  sl_batch_header mc = marker_batch(5, 3, 0, 1);
  assert_int_equal(sl_pstate_apply(ps, SL_ORIGIN_COORDINATOR, &mc, &ab, &txns, &nt, NULL),
                   SL_OK);
  assert_int_equal(txns[0].last_stable_offset, 6);
  int64_t fu;
  assert_true(sl_pstate_first_unstable_offset(ps, &fu));
  assert_int_equal(fu, 0);
  sl_pstate_on_high_watermark(ps, 6);
  assert_false(sl_pstate_first_unstable_offset(ps, &fu));
  sl_pstate_free(ps);
}

static void test_expiry(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL); /* expiration 1000 ms */
  sl_batch_header h = data_batch(0, 1, 1, 0, 0, false, 5000);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  h = data_batch(1, 1, 2, 0, 0, true, 5000); /* open transaction: never expires */
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  h = data_batch(2, 1, 3, 0, 0, false, 5500);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  sl_pstate_remove_expired(ps, 5999);
  assert_int_equal(sl_pstate_producer_count(ps), 3);
  sl_pstate_remove_expired(ps, 6000); /* idle >= 1000 ms */
  sl_pstate_producer p;
  assert_false(sl_pstate_producer_get(ps, 1, &p));
  assert_true(sl_pstate_producer_get(ps, 2, &p));
  assert_true(sl_pstate_producer_get(ps, 3, &p));
  sl_pstate_remove_expired(ps, 100000);
  assert_int_equal(sl_pstate_producer_count(ps), 1);
  /* an expired producer may come back with any sequence */
  h = data_batch(3, 1, 1, 0, 12345, false, 100000);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  sl_pstate_free(ps);
}

static void test_many_producers(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  /* enough to force several table resizes and removals with probing */
  for (int64_t i = 0; i < 3000; i++) {
    sl_batch_header h = data_batch(i, 1, i * 7919, 0, 0, false, i % 2 ? 0 : 100000);
    assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  }
  assert_int_equal(sl_pstate_producer_count(ps), 3000);
  sl_pstate_remove_expired(ps, 50000); /* removes the odd ones (ts 0) */
  assert_int_equal(sl_pstate_producer_count(ps), 1500);
  sl_pstate_producer p;
  for (int64_t i = 0; i < 3000; i++)
    assert_int_equal(sl_pstate_producer_get(ps, i * 7919, &p), i % 2 == 0);
  sl_pstate_free(ps);
  /* a producer limit */
  sl_pstate_config cfg = {0, 2};
  assert_int_equal(sl_pstate_new(NULL, &cfg, &ps), SL_OK);
  for (int i = 0; i < 2; i++) {
    sl_batch_header h = data_batch(i, 1, i, 0, 0, false, 1);
    assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  }
  sl_batch_header h = data_batch(2, 1, 99, 0, 0, false, 1);
  assert_int_equal(client_append(ps, &h, NULL), SL_ETOO_LARGE);
  assert_int_equal(sl_pstate_producer_count(ps), 2);
  sl_pstate_free(ps);
  /* the limit counts producers staged in the same append, at stage time */
  cfg.max_producers = 2;
  assert_int_equal(sl_pstate_new(NULL, &cfg, &ps), SL_OK);
  h = data_batch(0, 1, 1, 0, 0, false, 1);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  sl_batch_header h2 = data_batch(1, 1, 2, 0, 0, false, 1);
  sl_batch_header h3 = data_batch(2, 1, 3, 0, 0, false, 1);
  sl_batch_header h4 = data_batch(3, 1, 2, 0, 1, false, 1);
  sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
  assert_int_equal(sl_pstate_stage(ps, &h2, NULL, NULL, NULL), SL_OK);
  assert_int_equal(sl_pstate_stage(ps, &h4, NULL, NULL, NULL), SL_OK); /* same new one */
  assert_int_equal(sl_pstate_stage(ps, &h3, NULL, NULL, NULL), SL_ETOO_LARGE);
  assert_int_equal(sl_pstate_commit(ps, 4, NULL, NULL), SL_OK);
  assert_int_equal(sl_pstate_producer_count(ps), 2);
  sl_pstate_free(ps);
}

static void test_snapshot_round_trip(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  sl_pstate *ps = new_state(dir);
  sl_diag d;
  sl_diag_clear(&d);
  /* producer 5: three batches; producer 6: open transaction */
  for (int i = 0; i < 3; i++) {
    sl_batch_header h = data_batch(10 * i, 3, 5, 2, 3 * i, false, 100 + i);
    assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  }
  sl_batch_header h = data_batch(30, 2, 6, 1, 0, true, 200);
  assert_int_equal(client_append(ps, &h, NULL), SL_OK);
  assert_int_equal(sl_pstate_map_end_offset(ps), 32);
  sl_pstate_snapshot_entry *e;
  size_t n;
  assert_int_equal(sl_pstate_to_entries(ps, &e, &n), SL_OK);
  assert_int_equal(n, 2);
  /* only the last batch persists */
  const sl_pstate_snapshot_entry want[2] = {{5, 2, 8, 22, 2, 102, -1, -1},
                                            {6, 1, 1, 31, 1, 200, -1, 30}};
  entries_equal(e, want, 2);
  free(e);
  assert_int_equal(sl_pstate_take_snapshot(ps, true, &d), SL_OK);
  char *p = tu_path(dir, "00000000000000000032.snapshot");
  sl_pstate_snapshot_entry *back;
  assert_int_equal(sl_pstate_snapshot_read(p, &back, &n, &d), SL_OK);
  assert_int_equal(n, 2);
  entries_equal(back, want, 2);
  free(back);

  /* reload into a fresh state: dedupe knows only the last batch */
  sl_pstate *ps2 = new_state(dir);
  assert_int_equal(sl_pstate_truncate_and_reload(ps2, 0, 32, 150, &d), SL_OK);
  assert_int_equal(sl_pstate_map_end_offset(ps2), 32);
  assert_int_equal(sl_pstate_producer_count(ps2), 2);
  sl_pstate_dup dup;
  h = data_batch(99, 3, 5, 2, 6, false, 1); /* the last batch */
  assert_int_equal(client_append(ps2, &h, &dup), SL_EDUPLICATE_SEQUENCE);
  assert_int_equal(dup.first_offset, 20);
  assert_int_equal(dup.last_offset, 22);
  h = data_batch(99, 3, 5, 2, 3, false, 1); /* an earlier one: out of order */
  assert_int_equal(client_append(ps2, &h, &dup), SL_EOUT_OF_ORDER_SEQUENCE);
  int64_t fu;
  assert_true(sl_pstate_first_unstable_offset(ps2, &fu)); /* open txn reloaded */
  assert_int_equal(fu, 30);
  /* its commit completes the reloaded transaction */
  sl_batch_header m = marker_batch(32, 6, 1, 300);
  sl_control cm = marker(SL_CONTROL_COMMIT, 0);
  const sl_pstate_txn *txns;
  size_t nt;
  assert_int_equal(sl_pstate_apply(ps2, SL_ORIGIN_REPLICATION, &m, &cm, &txns, &nt, &d),
                   SL_OK);
  assert_int_equal(nt, 1);
  assert_int_equal(txns[0].first_offset, 30);
  sl_pstate_free(ps2);

  /* reload with expiry: producer 5 (ts 102) expired at now=2000; producer 6
   * has an open transaction and stays */
  ps2 = new_state(dir);
  assert_int_equal(sl_pstate_truncate_and_reload(ps2, 0, 32, 2000, &d), SL_OK);
  assert_int_equal(sl_pstate_producer_count(ps2), 1);
  sl_pstate_free(ps2);

  /* a newer corrupt snapshot is deleted and the older one used */
  sl_pstate_set_map_end_offset(ps, 40);
  assert_int_equal(sl_pstate_take_snapshot(ps, false, &d), SL_OK);
  char *p40 = tu_path(dir, "00000000000000000040.snapshot");
  assert_int_equal(tu_write_file(p40, "\x00\x01garbage!", 10), 0);
  ps2 = new_state(dir);
  assert_int_equal(sl_pstate_truncate_and_reload(ps2, 0, 45, 150, &d), SL_OK);
  assert_int_equal(sl_pstate_map_end_offset(ps2), 32);
  assert_int_equal(tu_file_size(p40), -1);
  assert_int_equal(sl_pstate_producer_count(ps2), 2);
  /* snapshots beyond the log end or at/below the log start are deleted */
  assert_int_equal(sl_pstate_snapshot_write(dir, 50, NULL, 0, false, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_write(dir, 3, NULL, 0, false, &d), SL_OK);
  assert_int_equal(sl_pstate_truncate_and_reload(ps2, 3, 45, 150, &d), SL_OK);
  int64_t *offs;
  assert_int_equal(sl_pstate_snapshot_list(dir, &offs, &n, &d), SL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(offs[0], 32);
  free(offs);
  /* nothing usable: empty state at the log start */
  assert_int_equal(sl_pstate_truncate_and_reload(ps2, 32, 45, 150, &d), SL_OK);
  assert_int_equal(sl_pstate_producer_count(ps2), 0);
  assert_int_equal(sl_pstate_map_end_offset(ps2), 32);
  /* log start moves: map end raised */
  assert_int_equal(sl_pstate_on_log_start(ps2, 40, &d), SL_OK);
  assert_int_equal(sl_pstate_map_end_offset(ps2), 40);
  assert_int_equal(sl_pstate_snapshot_write(dir, 41, NULL, 0, false, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_write(dir, 42, NULL, 0, false, &d), SL_OK);
  assert_int_equal(sl_pstate_delete_snapshots_before(ps2, 42, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_list(dir, &offs, &n, &d), SL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(offs[0], 42);
  free(offs);
  assert_int_equal(sl_pstate_truncate_fully(ps2, 60, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_list(dir, &offs, &n, &d), SL_OK);
  assert_int_equal(n, 0);
  assert_int_equal(sl_pstate_map_end_offset(ps2), 60);
  sl_pstate_free(ps2);
  sl_pstate_free(ps);
  free(p40);
  free(p);
  tu_rmtree_free(dir);
}

static void test_stage_from_bytes(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  sl_buf b = SL_BUF_INIT;
  sl_batch_builder_opts o;
  sl_batch_builder *bb;
  sl_diag d;
  sl_control c;
  const sl_pstate_txn *txns;
  size_t nt;
  sl_diag_clear(&d);
  /* a transactional data batch of producer 42 at offsets 10..11 */
  sl_batch_builder_opts_init(&o);
  o.base_offset = 10;
  o.producer_id = 42;
  o.producer_epoch = 3;
  o.base_sequence = 0;
  o.transactional = true;
  assert_int_equal(sl_batch_builder_new(&o, &bb), SL_OK);
  assert_int_equal(sl_batch_builder_add(bb, 500, NULL, -1, "a", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_add(bb, 501, NULL, -1, "b", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_finish(bb, &b), SL_OK);
  sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
  assert_int_equal(sl_pstate_stage_batch(ps, NULL, b.data, b.len, NULL, &d), SL_OK);
  assert_int_equal(sl_pstate_commit(ps, 12, &txns, &nt), SL_OK);
  sl_pstate_producer p;
  assert_true(sl_pstate_producer_get(ps, 42, &p));
  assert_int_equal(p.current_txn_first_offset, 10);
  assert_int_equal(p.batches[0].last_seq, 1);
  assert_int_equal(p.last_timestamp, 501);
  /* its ABORT marker at 12, read from the marker's bytes */
  sl_buf_reset(&b);
  assert_int_equal(sl_batch_build_marker(&b, 12, 42, 3, SL_CONTROL_ABORT, 9, 600, 0),
                   SL_OK);
  assert_int_equal(b.len, 78);
  assert_int_equal(sl_pstate_read_marker(NULL, b.data, b.len, &c, &d), 1);
  assert_int_equal(c.type, SL_CONTROL_ABORT);
  assert_int_equal(c.coordinator_epoch, 9);
  sl_pstate_begin(ps, SL_ORIGIN_COORDINATOR);
  assert_int_equal(sl_pstate_stage_batch(ps, NULL, b.data, b.len, NULL, &d), SL_OK);
  assert_int_equal(sl_pstate_commit(ps, 13, &txns, &nt), SL_OK);
  assert_int_equal(nt, 1);
  assert_true(txns[0].aborted);
  assert_int_equal(txns[0].first_offset, 10);
  assert_int_equal(txns[0].last_offset, 12);
  assert_int_equal(txns[0].last_stable_offset, 13);
  assert_true(sl_pstate_producer_get(ps, 42, &p));
  assert_int_equal(p.coordinator_epoch, 9);
  assert_int_equal(p.last_timestamp, 600);
  /* an empty (cleaned) control batch: nothing to read, nothing staged */
  sl_buf_reset(&b);
  sl_batch_builder_opts_init(&o);
  o.base_offset = 13;
  o.producer_id = 42;
  o.producer_epoch = 3;
  o.transactional = true;
  o.control = true;
  o.last_offset_delta = 0;
  sl_batch_builder_reset(bb, &o);
  assert_int_equal(sl_batch_builder_finish(bb, &b), SL_OK);
  assert_int_equal(b.len, 61);
  assert_int_equal(sl_pstate_read_marker(NULL, b.data, b.len, &c, &d), 0);
  sl_pstate_begin(ps, SL_ORIGIN_REPLICATION);
  assert_int_equal(sl_pstate_stage_batch(ps, NULL, b.data, b.len, NULL, &d), SL_OK);
  assert_int_equal(sl_pstate_commit(ps, 14, &txns, &nt), SL_OK);
  assert_int_equal(nt, 0);
  /* a data batch is not a marker; a truncated header is an error */
  sl_buf_reset(&b);
  sl_batch_builder_opts_init(&o);
  sl_batch_builder_reset(bb, &o);
  assert_int_equal(sl_batch_builder_add(bb, 1, NULL, -1, "x", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_finish(bb, &b), SL_OK);
  assert_int_equal(sl_pstate_read_marker(NULL, b.data, b.len, &c, &d), SL_EINVAL);
  sl_pstate_begin(ps, SL_ORIGIN_CLIENT);
  assert_true(sl_pstate_stage_batch(ps, NULL, b.data, 40, NULL, &d) < 0);
  /* no producer id: ignored */
  assert_int_equal(sl_pstate_stage_batch(ps, NULL, b.data, b.len, NULL, &d), SL_OK);
  sl_pstate_rollback(ps);
  sl_batch_builder_free(bb);
  sl_buf_release(&b);
  sl_pstate_free(ps);
}

static void test_stray_snapshots(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  sl_pstate *ps = new_state(dir);
  sl_diag d;
  int64_t *offs;
  size_t n;
  sl_diag_clear(&d);
  /* segments at 0, 100, 200; snapshots at 0, 50, 100, 150, 250 (250 = LEO
   * snapshot of a clean shutdown) */
  const int64_t snaps[] = {0, 50, 100, 150, 250};
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(sl_pstate_snapshot_write(dir, snaps[i], NULL, 0, false, &d), SL_OK);
  const int64_t bases[] = {200, 0, 100};
  assert_int_equal(sl_pstate_remove_stray_snapshots(ps, bases, 3, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_list(dir, &offs, &n, &d), SL_OK);
  assert_int_equal(n, 3);
  assert_int_equal(offs[0], 0);
  assert_int_equal(offs[1], 100);
  assert_int_equal(offs[2], 250);
  free(offs);
  /* the newest stray below the last segment base goes too */
  assert_int_equal(sl_pstate_snapshot_write(dir, 150, NULL, 0, false, &d), SL_OK);
  const int64_t bases2[] = {0, 100, 300};
  assert_int_equal(sl_pstate_remove_stray_snapshots(ps, bases2, 3, &d), SL_OK);
  assert_int_equal(sl_pstate_snapshot_list(dir, &offs, &n, &d), SL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(offs[0], 0);
  assert_int_equal(offs[1], 100);
  free(offs);
  sl_pstate_free(ps);
  tu_rmtree_free(dir);
}

static void test_load_entries_rules(void **state) {
  (void)state;
  sl_pstate *ps = new_state(NULL);
  const sl_pstate_snapshot_entry e[3] = {
      {1, 0, -1, -1, 0, 500, 2, -1}, /* marker only: no batch metadata */
      {2, 0, 4, 10, 4, 500, -1, 6},  /* open transaction */
      {2, 1, 0, 12, 0, 600, -1, -1}, /* later duplicate of 2 wins */
  };
  assert_int_equal(sl_pstate_load_entries(ps, e, 3, 13, -1), SL_OK);
  assert_int_equal(sl_pstate_producer_count(ps), 2);
  sl_pstate_producer p;
  assert_true(sl_pstate_producer_get(ps, 1, &p));
  assert_int_equal(p.nbatches, 0);
  assert_int_equal(p.coordinator_epoch, 2);
  assert_true(sl_pstate_producer_get(ps, 2, &p));
  assert_int_equal(p.epoch, 1);
  assert_int_equal(p.nbatches, 1);
  int64_t fu;
  assert_false(sl_pstate_first_unstable_offset(ps, &fu));
  /* memory-only states refuse file operations */
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_pstate_take_snapshot(ps, false, &d), SL_EINVAL);
  sl_pstate_free(ps);
  sl_pstate_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_snapshot_empty_bytes),
      cmocka_unit_test(test_snapshot_two_producers),
      cmocka_unit_test(test_snapshot_decode_errors),
      cmocka_unit_test(test_snapshot_files),
      cmocka_unit_test(test_idempotent_dups_and_gaps),
      cmocka_unit_test(test_epochs_and_unknown_producers),
      cmocka_unit_test(test_sequence_wrap),
      cmocka_unit_test(test_multi_batch_append),
      cmocka_unit_test(test_transactions),
      cmocka_unit_test(test_lso_with_interleaved_txns),
      cmocka_unit_test(test_expiry),
      cmocka_unit_test(test_many_producers),
      cmocka_unit_test(test_snapshot_round_trip),
      cmocka_unit_test(test_load_entries_rules),
      cmocka_unit_test(test_stray_snapshots),
      cmocka_unit_test(test_stage_from_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
