/*
 * test_index.c - offset, time and transaction indexes: the exact bytes Kafka
 * writes for a known sequence of appends (per-batch index.interval.bytes rule,
 * preallocation while active, trimming and the final time-index entry on
 * close), the codecs, the zero-tail rule, sanity checks, lookups against a
 * brute-force answer, truncation, is_full, and the lazily created .txnindex.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "seglog/batch.h"
#include "seglog/index.h"
#include "seglog/log.h"

static void make_batch(sl_buf *out, int64_t base, int n, int64_t ts, int value_size) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  o.base_offset = base;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  uint8_t val[256];
  memset(val, 'v', sizeof(val));
  for (int i = 0; i < n; i++)
    assert_int_equal(sl_batch_builder_add(b, ts + i, NULL, -1, val, value_size, NULL, 0),
                     SL_OK);
  assert_int_equal(sl_batch_builder_finish(b, out), SL_OK);
  sl_batch_builder_free(b);
}

static char *seg_file(const char *dir, int64_t base, const char *suffix) {
  char name[64];
  snprintf(name, sizeof(name), "%020lld%s", (long long)base, suffix);
  return tu_path(dir, name);
}

/* 10 one-record batches of 78 bytes, timestamps 1000, 1010, ..., except batch
 * 5 which carries 5000 and batch 6 which goes back to 1060, into a log with
 * index.interval.bytes = 100 and segment.index.bytes = 1000. */
static void test_exact_bytes_for_known_appends(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.index_interval_bytes = 100;
  cfg.segment_index_bytes = 1000;
  sl_log *log;
  assert_int_equal(sl_log_open(dir, &cfg, SL_LOG_CREATE, NULL, &log, NULL), SL_OK);
  char *ipath = seg_file(dir, 0, ".index");
  char *tpath = seg_file(dir, 0, ".timeindex");
  /* Preallocated while active: rounded down to the entry size. */
  assert_int_equal(tu_file_size(ipath), 1000);
  assert_int_equal(tu_file_size(tpath), 996);
  for (int i = 0; i < 10; i++) {
    sl_buf b = SL_BUF_INIT;
    int64_t ts = i == 5 ? 5000 : 1000 + 10 * i;
    make_batch(&b, 0, 1, ts, 10);
    assert_int_equal(b.len, 78);
    assert_int_equal(
        sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 0, 1, NULL, NULL), SL_OK);
    sl_buf_release(&b);
  }
  /* Still preallocated, zero tail after the entries. */
  assert_int_equal(tu_file_size(ipath), 1000);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /*
   * Positions 0, 78, 156, ...: an entry when more than 100 bytes were written
   * since the last one, before the batch: batches 2 (156), 4 (312), 6 (468),
   * 8 (624).  Offsets = the batch's last offset.
   */
  uint8_t want_index[32];
  size_t wn = tu_unhex("00000002 0000009c 00000004 00000138"
                       "00000006 000001d4 00000008 00000270",
                       want_index, sizeof(want_index));
  size_t len;
  uint8_t *got = tu_read_file(ipath, &len);
  assert_int_equal(len, wn);
  assert_memory_equal(got, want_index, wn);
  free(got);
  /*
   * Time entries (max timestamp so far, offset of the batch carrying it):
   * (1020,2) (1040,4) (5000,5) at batch 6 and batch 8 (5000 is still the max:
   * not appended again); no final entry needed (5000 already last).
   */
  uint8_t want_time[36];
  wn = tu_unhex("00000000000003fc 00000002"
                "0000000000000410 00000004"
                "0000000000001388 00000005",
                want_time, sizeof(want_time));
  got = tu_read_file(tpath, &len);
  assert_int_equal(len, wn);
  assert_memory_equal(got, want_time, wn);
  free(got);
  /* A txn index is only created by an aborted transaction. */
  char *xpath = seg_file(dir, 0, ".txnindex");
  assert_int_equal(tu_file_size(xpath), -1);
  free(xpath);
  free(ipath);
  free(tpath);
  free(dir);
  tu_rmtree_free(root);
}

/* The final time-index entry on close when the max is in an unindexed tail. */
static void test_final_time_entry(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.index_interval_bytes = 100;
  sl_log *log;
  assert_int_equal(sl_log_open(dir, &cfg, SL_LOG_CREATE, NULL, &log, NULL), SL_OK);
  for (int i = 0; i < 4; i++) {
    sl_buf b = SL_BUF_INIT;
    make_batch(&b, 0, 1, 1000 + 10 * i, 10);
    assert_int_equal(
        sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 0, 1, NULL, NULL), SL_OK);
    sl_buf_release(&b);
  }
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *tpath = seg_file(dir, 0, ".timeindex");
  uint8_t want[24];
  size_t wn =
      tu_unhex("00000000000003fc 00000002 0000000000000406 00000003", want, sizeof(want));
  size_t len;
  uint8_t *got = tu_read_file(tpath, &len);
  assert_int_equal(len, wn);
  assert_memory_equal(got, want, wn);
  free(got);
  free(tpath);
  free(dir);
  tu_rmtree_free(root);
}

static void test_codecs_and_live_counts(void **state) {
  (void)state;
  uint8_t e[SL_TXN_INDEX_ENTRY_SIZE];
  sl_offset_index_encode(e, 100, 105, 4096);
  uint8_t want[8];
  tu_unhex("00000005 00001000", want, 8);
  assert_memory_equal(e, want, 8);
  sl_offset_position op;
  assert_int_equal(sl_offset_index_entry(e, 8, 0, 100, &op), SL_OK);
  assert_int_equal(op.offset, 105);
  assert_int_equal(op.position, 4096);
  assert_int_equal(sl_offset_index_entry(e, 7, 0, 100, &op), SL_ETRUNCATED);

  sl_time_index_encode(e, 100, 1700000000000LL, 107);
  uint8_t want_t[12];
  tu_unhex("0000018bcfe56800 00000007", want_t, 12);
  assert_memory_equal(e, want_t, 12);

  sl_aborted_txn t = {0, 42, 10, 20, 21}, back;
  sl_txn_index_encode(e, &t);
  uint8_t want_x[34];
  tu_unhex("0000 000000000000002a 000000000000000a 0000000000000014 0000000000000015",
           want_x, 34);
  assert_memory_equal(e, want_x, 34);
  assert_int_equal(sl_txn_index_entry(e, 34, 0, &back), SL_OK);
  assert_int_equal(back.producer_id, 42);
  assert_int_equal(back.last_stable_offset, 21);
  e[0] = 1; /* version 256 */
  assert_int_equal(sl_txn_index_entry(e, 34, 0, &back), SL_EUNSUPPORTED);

  /* Zero tails. */
  uint8_t ix[64];
  memset(ix, 0, sizeof(ix));
  assert_int_equal(sl_offset_index_live_count(ix, sizeof(ix)), 0);
  assert_int_equal(sl_offset_index_count(sizeof(ix)), 8);
  sl_offset_index_encode(ix, 0, 3, 100);
  sl_offset_index_encode(ix + 8, 0, 9, 300);
  assert_int_equal(sl_offset_index_live_count(ix, sizeof(ix)), 2);
  sl_offset_index_encode(ix + 16, 0, 9, 400); /* offset not increasing */
  assert_int_equal(sl_offset_index_live_count(ix, sizeof(ix)), 2);
  uint8_t ti[48];
  memset(ti, 0, sizeof(ti));
  sl_time_index_encode(ti, 0, 50, 3);
  sl_time_index_encode(ti + 12, 0, 60, 3);
  assert_int_equal(sl_time_index_live_count(ti, sizeof(ti)), 2);
  sl_time_index_encode(ti + 24, 0, 60, 4); /* timestamp not increasing */
  assert_int_equal(sl_time_index_live_count(ti, sizeof(ti)), 2);

  /* Sanity checks. */
  sl_diag d;
  assert_int_equal(sl_offset_index_sanity_check(ix, 16, 0, &d), SL_OK);
  assert_int_equal(sl_offset_index_sanity_check(ix, 15, 0, &d), SL_ECORRUPT);
  uint8_t neg[8];
  sl_offset_index_encode(neg, 100, 50, 10); /* relative offset -50 */
  assert_int_equal(sl_offset_index_sanity_check(neg, 8, 100, &d), SL_ECORRUPT);
  sl_time_index_encode(ti + 12, 0, 40, 3); /* last < first */
  assert_int_equal(sl_time_index_sanity_check(ti, 24, 0, &d), SL_ECORRUPT);
  assert_int_equal(d.pos, 12);
  assert_int_equal(sl_time_index_sanity_check(ti, 12, 0, &d), SL_OK);
  sl_txn_index_encode(e, &t);
  assert_int_equal(sl_txn_index_sanity_check(e, 34, 0, &d), SL_OK);
  assert_int_equal(sl_txn_index_sanity_check(e, 34, 21, &d), SL_ECORRUPT);
  assert_int_equal(sl_txn_index_sanity_check(e, 33, 0, &d), SL_ECORRUPT);
}

static void test_index_file_lookup_truncate_full(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *p = tu_path(root, "00000000000000001000.index");
  sl__index ix;
  sl_diag d;
  /* 80 bytes: 10 entries max. */
  assert_int_equal(
      sl__index_open(&ix, SL__INDEX_OFFSET, p, 1000, 80,
                     SL__IDX_WRITABLE | SL__IDX_CREATE | SL__IDX_PREALLOC | SL__IDX_LIVE,
                     &d),
      SL_OK);
  assert_int_equal(tu_file_size(p), 80);
  for (int i = 0; i < 10; i++) {
    assert_false(sl__index_is_full(&ix));
    assert_int_equal(sl__index_append_offset(&ix, 1000 + 10 * (i + 1), 100 * (i + 1), &d),
                     SL_OK);
  }
  assert_true(sl__index_is_full(&ix));
  assert_int_equal(sl__index_append_offset(&ix, 2000, 5000, &d), SL_ETOO_LARGE);
  /* Lookup vs brute force. */
  for (int64_t target = 990; target < 1120; target++) {
    int64_t k, v, bk = 1000, bv = 0;
    for (int i = 0; i < 10; i++)
      if (1000 + 10 * (i + 1) <= target) {
        bk = 1000 + 10 * (i + 1);
        bv = 100 * (i + 1);
      }
    int rc = sl__index_lookup(&ix, target, &k, &v, &d);
    assert_int_equal(rc, bk == 1000 ? 0 : 1);
    assert_int_equal(k, bk);
    assert_int_equal(v, bv);
  }
  /* Not increasing: refused. */
  sl__index_truncate_to(&ix, 1050, &d);
  assert_int_equal(ix.entries, 4);
  assert_int_equal(sl__index_append_offset(&ix, 1040, 900, &d), SL_EINVALID_OFFSET);
  /* Truncation zeroes the dropped slots: a live reopen counts 4. */
  sl__index_close(&ix);
  assert_int_equal(sl__index_open(&ix, SL__INDEX_OFFSET, p, 1000, 80, SL__IDX_LIVE, &d),
                   SL_OK);
  assert_int_equal(ix.entries, 4);
  assert_int_equal(ix.last_key, 1040);
  sl__index_close(&ix);
  /* Inactive open: every slot counts (Kafka's rule). */
  assert_int_equal(sl__index_open(&ix, SL__INDEX_OFFSET, p, 1000, 80, 0, &d), SL_OK);
  assert_int_equal(ix.entries, 10);
  sl__index_close(&ix);
  free(p);

  /* Time index: one slot is kept for the final entry. */
  p = tu_path(root, "00000000000000001000.timeindex");
  assert_int_equal(sl__index_open(&ix, SL__INDEX_TIME, p, 1000, 36,
                                  SL__IDX_WRITABLE | SL__IDX_CREATE | SL__IDX_PREALLOC,
                                  &d),
                   SL_OK);
  assert_int_equal(ix.max_entries, 3);
  assert_int_equal(sl__index_maybe_append_time(&ix, 50, 1001, false, &d), SL_OK);
  assert_int_equal(sl__index_maybe_append_time(&ix, 50, 1002, false, &d), SL_OK);
  assert_int_equal(ix.entries, 1); /* same timestamp: not appended */
  assert_int_equal(sl__index_maybe_append_time(&ix, 40, 1003, false, &d),
                   SL_EINVALID_TIMESTAMP);
  assert_int_equal(sl__index_maybe_append_time(&ix, 60, 1000, false, &d),
                   SL_EINVALID_OFFSET);
  assert_int_equal(sl__index_maybe_append_time(&ix, 60, 1004, false, &d), SL_OK);
  assert_true(sl__index_is_full(&ix));
  assert_int_equal(sl__index_maybe_append_time(&ix, 70, 1005, false, &d), SL_ETOO_LARGE);
  assert_int_equal(sl__index_maybe_append_time(&ix, 70, 1005, true, &d), SL_OK);
  int64_t k, v;
  assert_int_equal(sl__index_lookup(&ix, 65, &k, &v, &d), 1);
  assert_int_equal(k, 60);
  assert_int_equal(v, 1004);
  assert_int_equal(sl__index_lookup(&ix, 49, &k, &v, &d), 0);
  assert_int_equal(k, -1);
  assert_int_equal(v, 1000);
  assert_int_equal(sl__index_truncate_to(&ix, 1004, &d), SL_OK);
  assert_int_equal(ix.entries, 1);
  assert_int_equal(sl__index_trim(&ix, &d), SL_OK);
  assert_int_equal(tu_file_size(p), 12);
  sl__index_close(&ix);
  free(p);

  /* .txnindex: lazily created, last offsets increasing, truncate. */
  p = tu_path(root, "00000000000000001000.txnindex");
  sl__txnindex tx;
  assert_int_equal(sl__txnindex_open(&tx, p, 1000, true, &d), SL_OK);
  assert_int_equal(tu_file_size(p), -1);
  sl_aborted_txn a = {0, 7, 1000, 1005, 1006};
  assert_int_equal(sl__txnindex_append(&tx, &a, &d), SL_OK);
  assert_int_equal(tu_file_size(p), 34);
  assert_int_equal(sl__txnindex_append(&tx, &a, &d), SL_EINVALID_OFFSET);
  a.last_offset = 1010;
  assert_int_equal(sl__txnindex_append(&tx, &a, &d), SL_OK);
  assert_int_equal(sl__txnindex_sanity_check(&tx, &d), SL_OK);
  assert_int_equal(sl__txnindex_truncate_to(&tx, 1010, &d), SL_OK);
  assert_int_equal(tx.entries, 1);
  assert_int_equal(tx.last_offset, 1005);
  assert_int_equal(tu_file_size(p), 34);
  sl__txnindex_close(&tx);
  free(p);
  tu_rmtree_free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_bytes_for_known_appends),
      cmocka_unit_test(test_final_time_entry),
      cmocka_unit_test(test_codecs_and_live_counts),
      cmocka_unit_test(test_index_file_lookup_truncate_full),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
