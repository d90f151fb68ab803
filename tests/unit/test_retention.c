/*
 * test_retention.c - retention by time, size and log start offset (never at or
 * above the high watermark, roll first when everything would go, deferred
 * removal of *.deleted files, slices that outlive their segment), and the
 * replication truncations truncate_to / truncate_fully_and_start_at.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seglog/batch.h"
#include "seglog/log.h"

static void make_batch(sl_buf *out, int n, int64_t ts, int value_size) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  uint8_t val[256];
  memset(val, 'r', sizeof(val));
  for (int i = 0; i < n; i++)
    assert_int_equal(sl_batch_builder_add(b, ts, NULL, -1, val, value_size, NULL, 0),
                     SL_OK);
  assert_int_equal(sl_batch_builder_finish(b, out), SL_OK);
  sl_batch_builder_free(b);
}

static char *seg_file(const char *dir, int64_t base, const char *suffix) {
  char name[64];
  snprintf(name, sizeof(name), "%020lld%s", (long long)base, suffix);
  return tu_path(dir, name);
}

/* 5 segments of 4 batches x 2 records (100-byte values); segment i has
 * timestamps 10000 * (i + 1). */
static sl_log *five_segments(const char *dir, sl_log_config *cfg, int64_t *seg_size) {
  sl_log *log;
  assert_int_equal(sl_log_open(dir, cfg, SL_LOG_CREATE, NULL, &log, NULL), SL_OK);
  for (int s = 0; s < 5; s++) {
    for (int i = 0; i < 4; i++) {
      sl_buf b = SL_BUF_INIT;
      make_batch(&b, 2, 10000 * (s + 1), 100);
      assert_int_equal(
          sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 0, 1, NULL, NULL), SL_OK);
      sl_buf_release(&b);
    }
    if (s == 0)
      *seg_size = sl_log_size_bytes(log);
    if (s < 4)
      assert_int_equal(sl_log_roll(log, 1, NULL), SL_OK);
  }
  sl_log_segment_info segs[8];
  assert_int_equal(sl_log_segments(log, segs, 8), 5);
  for (int s = 0; s < 5; s++) {
    assert_int_equal(segs[s].base_offset, 8 * s);
    assert_int_equal(segs[s].largest_timestamp, 10000 * (s + 1));
  }
  return log;
}

static void test_retention_by_time(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.retention_ms = 1000;
  cfg.file_delete_delay_ms = 500;
  int64_t seg_size;
  sl_log *log = five_segments(dir, &cfg, &seg_size);
  /* HW 0: nothing may go. */
  sl_retention_result r;
  assert_int_equal(sl_log_retain(log, 35000, &r, NULL), SL_OK);
  assert_int_equal(r.segments_deleted, 0);
  /* HW at the end of segment 1 (offset 16): segments 0 and 1 are old enough
   * at now = 31500 (largest timestamps 10000, 20000, 30000 < 30500) but only
   * 0 and 1 are below the HW. */
  sl_log_set_high_watermark(log, 16);
  /* A slice into segment 0 outlives its deletion. */
  sl_log_slice sl;
  assert_int_equal(sl_log_read(log, 0, 1 << 20, -1, &sl, NULL), SL_OK);
  assert_int_equal(sl_log_retain(log, 31500, &r, NULL), SL_OK);
  assert_int_equal(r.segments_deleted, 2);
  assert_int_equal(r.by_time, 2);
  assert_int_equal(r.bytes_deleted, 2 * seg_size);
  assert_int_equal(r.log_start_offset, 16);
  assert_int_equal(sl_log_start_offset(log), 16);
  char *l0 = seg_file(dir, 0, ".log");
  char *l0d = seg_file(dir, 0, ".log.deleted");
  char *i0d = seg_file(dir, 0, ".index.deleted");
  assert_int_equal(tu_file_size(l0), -1);
  assert_int_equal(tu_file_size(l0d), seg_size);
  assert_true(tu_file_size(i0d) >= 0);
  uint8_t first[12];
  assert_int_equal(pread(sl.fd, first, sizeof(first), sl.position), 12);
  assert_int_equal((int64_t)sl_load_be64(first), 0);
  sl_log_slice_release(&sl);
  assert_int_equal(sl_log_read(log, 0, 1 << 20, -1, &sl, NULL), SL_EOFFSET_OUT_OF_RANGE);
  sl_log_slice_release(&sl);
  /* file.delete.delay.ms later the files are gone. */
  assert_int_equal(sl_log_tick(log, 31999, NULL), SL_OK);
  assert_int_equal(tu_file_size(l0d), seg_size);
  assert_int_equal(sl_log_tick(log, 32000, NULL), SL_OK);
  assert_int_equal(tu_file_size(l0d), -1);
  assert_int_equal(tu_file_size(i0d), -1);
  /* Everything expired and below the HW: roll first, keep an empty active
   * segment at the LEO. */
  sl_log_set_high_watermark(log, 40);
  assert_int_equal(sl_log_retain(log, 100000, &r, NULL), SL_OK);
  assert_int_equal(r.segments_deleted, 3);
  sl_log_segment_info segs[8];
  assert_int_equal(sl_log_segments(log, segs, 8), 1);
  assert_int_equal(segs[0].base_offset, 40);
  assert_int_equal(segs[0].size_bytes, 0);
  assert_int_equal(sl_log_start_offset(log), 40);
  assert_int_equal(sl_log_end_offset(log), 40);
  /* The empty last segment is never deleted. */
  assert_int_equal(sl_log_retain(log, 200000, &r, NULL), SL_OK);
  assert_int_equal(r.segments_deleted, 0);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /* Close removed the pending files. */
  char *l4d = seg_file(dir, 32, ".log.deleted");
  assert_int_equal(tu_file_size(l4d), -1);
  free(l4d);
  free(l0);
  free(l0d);
  free(i0d);
  free(dir);
  tu_rmtree_free(root);
}

static void test_retention_by_size(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.retention_ms = -1;
  cfg.file_delete_delay_ms = 0;
  int64_t seg_size;
  sl_log *log = five_segments(dir, &cfg, &seg_size);
  sl_log_set_high_watermark(log, 40);
  sl_log_close(log, NULL);
  /* retention.bytes = 2.5 segments: (5 - 2.5) segments over -> 2 deleted. */
  cfg.retention_bytes = seg_size * 5 / 2;
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.high_watermark = 40;
  o.clean_shutdown = true;
  assert_int_equal(sl_log_open(dir, &cfg, 0, &o, &log, NULL), SL_OK);
  assert_int_equal(sl_log_high_watermark(log), 40);
  sl_retention_result r;
  assert_int_equal(sl_log_retain(log, 0, &r, NULL), SL_OK);
  assert_int_equal(r.by_bytes, 2);
  assert_int_equal(r.by_time, 0);
  assert_int_equal(sl_log_start_offset(log), 16);
  assert_int_equal(sl_log_size_bytes(log), 3 * seg_size);
  char *l1 = seg_file(dir, 8, ".log");
  char *l1d = seg_file(dir, 8, ".log.deleted");
  assert_int_equal(tu_file_size(l1), -1);
  assert_int_equal(tu_file_size(l1d), -1); /* file.delete.delay.ms = 0 */
  /* compact-only topics do not apply size/time rules. */
  sl_log_close(log, NULL);
  cfg.cleanup_policy = SL_CLEANUP_COMPACT;
  cfg.retention_bytes = 1;
  assert_int_equal(sl_log_open(dir, &cfg, 0, &o, &log, NULL), SL_OK);
  assert_int_equal(sl_log_retain(log, 0, &r, NULL), SL_OK);
  assert_int_equal(r.segments_deleted, 0);
  sl_log_close(log, NULL);
  free(l1);
  free(l1d);
  free(dir);
  tu_rmtree_free(root);
}

static void test_retention_by_start_offset(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.retention_ms = -1;
  cfg.file_delete_delay_ms = 0;
  cfg.cleanup_policy = SL_CLEANUP_COMPACT; /* rule 1 applies to all policies */
  int64_t seg_size, start;
  sl_log *log = five_segments(dir, &cfg, &seg_size);
  /* DeleteRecords above the HW is refused. */
  sl_log_set_high_watermark(log, 20);
  assert_int_equal(sl_log_delete_records(log, 21, &start, NULL), SL_EOFFSET_OUT_OF_RANGE);
  assert_int_equal(sl_log_delete_records(log, 17, &start, NULL), SL_OK);
  assert_int_equal(start, 17);
  assert_int_equal(sl_log_start_offset(log), 17);
  /* Reads below the log start are out of range even before retention. */
  sl_log_slice sl;
  assert_int_equal(sl_log_read(log, 16, 1 << 20, -1, &sl, NULL), SL_EOFFSET_OUT_OF_RANGE);
  sl_log_slice_release(&sl);
  sl_retention_result r;
  assert_int_equal(sl_log_retain(log, 0, &r, NULL), SL_OK);
  /* Segments whose next segment starts at or below 17: 0 (next 8), 1 (next 16). */
  assert_int_equal(r.by_start_offset, 2);
  assert_int_equal(sl_log_start_offset(log), 17);
  int64_t off, ts;
  assert_int_equal(sl_log_find_offset_by_time(log, SL_LIST_EARLIEST, &off, &ts, NULL),
                   SL_OK);
  assert_int_equal(off, 17);
  sl_log_close(log, NULL);
  /* The log start survives a reopen through the caller's checkpoint. */
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.log_start_offset = 17;
  assert_int_equal(sl_log_open(dir, &cfg, 0, &o, &log, NULL), SL_OK);
  assert_int_equal(sl_log_start_offset(log), 17);
  sl_log_close(log, NULL);
  free(dir);
  tu_rmtree_free(root);
}

static int no_problem_cb(void *ctx, const sl_verify_problem *p) {
  (void)ctx;
  fprintf(stderr, "verify: %s @%lld: %s\n", p->file, (long long)p->position, p->message);
  return 0;
}

static void test_truncate_to(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.index_interval_bytes = 100;
  cfg.file_delete_delay_ms = 0;
  int64_t seg_size;
  sl_log *log = five_segments(dir, &cfg, &seg_size);
  sl_log_set_high_watermark(log, 40);
  /* Inside segment 2 (offsets 16..23, batches of 2): truncate to 20. */
  assert_int_equal(sl_log_truncate_to(log, 20, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(log), 20);
  assert_int_equal(sl_log_high_watermark(log), 20);
  sl_log_segment_info segs[8];
  assert_int_equal(sl_log_segments(log, segs, 8), 3);
  assert_int_equal(segs[2].size_bytes, seg_size / 2);
  char *l3 = seg_file(dir, 24, ".log");
  assert_int_equal(tu_file_size(l3), -1);
  sl_buf out = SL_BUF_INIT;
  int64_t next;
  assert_int_equal(sl_log_read_copy(log, 16, 1 << 20, -1, &out, &next, NULL), SL_OK);
  assert_int_equal(next, 20);
  /* Appends continue at 20 in the truncated (now active) segment. */
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 3, 99999, 10);
  sl_append_info info;
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 5, 1, &info, NULL),
                   SL_OK);
  assert_int_equal(info.first_offset, 20);
  assert_int_equal(info.segment_base, 16);
  assert_int_equal(sl_log_latest_epoch(log), 5);
  /* A cut inside a batch removes the whole batch; the LEO is the target. */
  assert_int_equal(sl_log_truncate_to(log, 21, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(log), 21);
  assert_int_equal(sl_log_size_bytes(log), 2 * seg_size + seg_size / 2);
  /* The epoch cache keeps 5@20 (only entries starting at or after 21 go). */
  assert_int_equal(sl_log_latest_epoch(log), 5);
  /* Below the first segment: start over there. */
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  int64_t problems = -1;
  assert_int_equal(sl_log_verify(dir, no_problem_cb, NULL, &problems, NULL), SL_OK);
  assert_int_equal(problems, 0);
  assert_int_equal(sl_log_open(dir, &cfg, 0, NULL, &log, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(log), 20);
  assert_int_equal(sl_log_truncate_fully_and_start_at(log, 1000, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(log), 1000);
  assert_int_equal(sl_log_start_offset(log), 1000);
  assert_int_equal(sl_log_high_watermark(log), 1000);
  assert_int_equal(sl_log_segments(log, segs, 8), 1);
  assert_int_equal(segs[0].base_offset, 1000);
  sl_buf_reset(&b);
  make_batch(&b, 1, 5, 10);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 6, 1, &info, NULL),
                   SL_OK);
  assert_int_equal(info.first_offset, 1000);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *l0 = seg_file(dir, 0, ".log");
  assert_int_equal(tu_file_size(l0), -1);
  free(l0);
  sl_buf_release(&b);
  sl_buf_release(&out);
  free(l3);
  free(dir);
  tu_rmtree_free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_retention_by_time),
      cmocka_unit_test(test_retention_by_size),
      cmocka_unit_test(test_retention_by_start_offset),
      cmocka_unit_test(test_truncate_to),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
