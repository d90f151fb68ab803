/*
 * test_segment.c - one segment: file names, append with the per-batch index
 * rule, translate_offset (index lookup then scan) against a brute-force
 * answer, find by timestamp, truncate_to, recovery of offsets that go
 * backwards, legacy entry headers, rename to .deleted while a reference keeps
 * the data readable.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "segment_int.h"
#include "seglog/batch.h"
#include "seglog/crc.h"

static void make_batch(sl_buf *out, int64_t base, int n, int64_t ts, int value_size) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  o.base_offset = base;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  uint8_t val[256];
  memset(val, 's', sizeof(val));
  for (int i = 0; i < n; i++)
    assert_int_equal(sl_batch_builder_add(b, ts + i, NULL, -1, val, value_size, NULL, 0),
                     SL_OK);
  assert_int_equal(sl_batch_builder_finish(b, out), SL_OK);
  sl_batch_builder_free(b);
}

static void cfg_init(sl__segment_config *c) {
  memset(c, 0, sizeof(*c));
  c->index_interval_bytes = 120;
  c->max_index_bytes = 4096;
  c->segment_bytes = 1 << 20;
}

/* Appends one batch (base..base+n-1) to the segment. */
static void seg_append(sl__segment *s, int64_t base, int n, int64_t ts) {
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, base, n, ts, 30);
  sl__batch_info bi;
  assert_int_equal(sl__batch_info_parse(b.data, b.len, &bi, NULL), SL_OK);
  assert_int_equal(sl__segment_append(s, b.data, b.len, &bi, 1, NULL), SL_OK);
  sl_buf_release(&b);
}

static void test_names(void **state) {
  (void)state;
  char buf[64];
  assert_int_equal(sl__segment_file_name(buf, sizeof(buf), "d", 1234, ".log"), SL_OK);
  assert_string_equal(buf, "d/00000000000000001234.log");
  assert_int_equal(sl__segment_file_name(buf, 10, "d", 1234, ".log"), SL_EINVAL);
}

static void test_translate_and_time_lookup(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  sl__segment_config c;
  cfg_init(&c);
  sl__segment *s;
  assert_int_equal(sl__segment_open(dir, 100, &c,
                                    SL__SEG_CREATE | SL__SEG_WRITABLE | SL__SEG_ACTIVE, 1,
                                    &s, NULL),
                   SL_OK);
  /* Batches with gaps: base 100 + 5i, 1 + i % 3 records, timestamps 1000 + 10i. */
  int64_t bases[60], lasts[60];
  for (int i = 0; i < 60; i++) {
    bases[i] = 100 + 5 * i;
    lasts[i] = bases[i] + i % 3;
    seg_append(s, bases[i], 1 + i % 3, 1000 + 10 * i);
  }
  assert_true(s->oindex.entries > 5);
  for (int64_t target = 90; target < 410; target++) {
    int64_t pos;
    sl__batch_info bi;
    int rc = sl__segment_translate_offset(s, target, 0, &pos, &bi, NULL);
    int want = -1;
    for (int i = 0; i < 60 && want < 0; i++)
      if (lasts[i] >= target)
        want = i;
    if (want < 0) {
      assert_int_equal(rc, 0);
    } else {
      assert_int_equal(rc, 1);
      assert_int_equal(bi.base_offset, bases[want]);
    }
  }
  int64_t off, bts, next;
  assert_int_equal(sl__segment_find_by_timestamp(s, 1205, 0, &off, &bts, NULL), 1);
  assert_int_equal(off, bases[21]); /* batch 20 max ts = 1200 + 2 = 1202 */
  assert_int_equal(bts, 1210);
  assert_int_equal(sl__segment_find_by_timestamp(s, 1201, 0, &off, &bts, NULL), 1);
  assert_int_equal(off, bases[20]);
  assert_int_equal(sl__segment_find_by_timestamp(s, 1201, 201, &off, &bts, NULL), 1);
  assert_int_equal(off, 201);
  assert_int_equal(sl__segment_find_by_timestamp(s, 99999, 0, &off, &bts, NULL), 0);
  assert_int_equal(sl__segment_next_offset(s, &next, NULL), SL_OK);
  assert_int_equal(next, lasts[59] + 1);
  assert_int_equal(sl__segment_largest_timestamp(s), 1000 + 10 * 59 + 59 % 3);

  /* Truncate to inside batch 30 (base 250, 1 record; truncate to 251 keeps
   * it? no: 251 lies in the gap after it -> batch 31 goes). */
  int64_t removed, size_before = s->size;
  assert_int_equal(sl__segment_truncate_to(s, 251, &removed, NULL), SL_OK);
  assert_int_equal(sl__segment_next_offset(s, &next, NULL), SL_OK);
  assert_int_equal(next, lasts[30] + 1);
  assert_true(removed > 0 && removed < size_before);
  assert_true(s->oindex.entries == 0 || s->oindex.last_key < 251);
  assert_int_equal(s->max_ts, 1300);
  /* Reopen and recover: same state, no truncation. */
  int64_t size = s->size;
  sl__segment_unref(s);
  assert_int_equal(sl__segment_open(dir, 100, &c, SL__SEG_WRITABLE, 1, &s, NULL), SL_OK);
  int64_t truncated;
  assert_int_equal(sl__segment_recover(s, NULL, NULL, &truncated, NULL), SL_OK);
  assert_int_equal(truncated, 0);
  assert_int_equal(s->size, size);
  assert_int_equal(s->next_offset, lasts[30] + 1);

  /* Rename to .deleted: the descriptor still reads. */
  sl__segment_ref(s);
  assert_int_equal(sl__segment_rename_deleted(s, NULL), SL_OK);
  char *old = tu_path(dir, "00000000000000000100.log");
  char *del = tu_path(dir, "00000000000000000100.log.deleted");
  assert_int_equal(tu_file_size(old), -1);
  assert_int_equal(tu_file_size(del), size);
  assert_int_equal(sl__segment_delete_files(s, NULL), SL_OK);
  assert_int_equal(tu_file_size(del), -1);
  uint8_t h[8];
  assert_int_equal(pread(s->fd, h, 8, 0), 8);
  assert_int_equal((int64_t)sl_load_be64(h), 100);
  sl__segment_unref(s);
  sl__segment_unref(s);
  free(old);
  free(del);
  tu_rmtree_free(dir);
}

/* Recovery stops at a batch whose offset goes backwards. */
static void test_recover_offsets_backwards(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, 2, 10, 20);
  make_batch(&b, 2, 2, 20, 20);
  size_t good = b.len;
  make_batch(&b, 1, 1, 30, 20); /* overlaps the previous batch */
  make_batch(&b, 9, 1, 40, 20);
  char *lp = tu_path(dir, "00000000000000000000.log");
  assert_int_equal(tu_write_file(lp, b.data, b.len), 0);
  sl__segment_config c;
  cfg_init(&c);
  sl__segment *s;
  assert_int_equal(sl__segment_open(dir, 0, &c, SL__SEG_WRITABLE, 1, &s, NULL), SL_OK);
  assert_true(s->oindex.missing);
  int64_t truncated;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl__segment_recover(s, NULL, NULL, &truncated, &d), SL_OK);
  assert_int_equal(truncated, (int64_t)(b.len - good));
  assert_int_equal(d.err, SL_EINVALID_OFFSET);
  assert_int_equal(d.pos, (int64_t)good);
  assert_int_equal(s->next_offset, 4);
  assert_int_equal(tu_file_size(lp), (long long)good);
  sl__segment_unref(s);
  free(lp);
  sl_buf_release(&b);
  tu_rmtree_free(dir);
}

/* Legacy (magic 0/1) entries: headers for indexing. */
static void test_legacy_info(void **state) {
  (void)state;
  /* offset 7, size 22+4, crc, magic 1, attrs 0, ts 1234, key -1, value "ab" */
  uint8_t m[12 + 28];
  memset(m, 0, sizeof(m));
  sl_store_be64(m, 7);
  sl_store_be32(m + 8, 28);
  m[16] = 1;
  m[17] = 0;
  sl_store_be64(m + 18, 1234);
  sl_store_be32(m + 26, 0xffffffff);
  sl_store_be32(m + 30, 2);
  m[34] = 'a';
  m[35] = 'b';
  sl_store_be32(m + 12, sl_crc32_ieee(0, m + 16, 24));
  sl__batch_info bi;
  assert_int_equal(sl__batch_info_parse(m, 40, &bi, NULL), SL_OK);
  assert_int_equal(bi.magic, 1);
  assert_int_equal(bi.base_offset, 7);
  assert_int_equal(bi.last_offset, 7);
  assert_int_equal(bi.max_timestamp, 1234);
  assert_int_equal(bi.size, 40);
  assert_int_equal(bi.leader_epoch, -1);
  assert_int_equal(sl__batch_info_parse(m, 16, &bi, NULL), SL_ETRUNCATED);
  m[16] = 3;
  assert_int_equal(sl__batch_info_parse(m, 40, &bi, NULL), SL_ECORRUPT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_translate_and_time_lookup),
      cmocka_unit_test(test_recover_offsets_backwards),
      cmocka_unit_test(test_legacy_info),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
