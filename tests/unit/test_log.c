/*
 * test_log.c - the partition log: append (leader and follower paths), reads
 * with max bytes / max offset, roll on each trigger, lookups across segments,
 * ListOffsets, the dir lock, read-only readers in another process, the failed
 * latch on fsync errors, ENOSPC during append, config parsing.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio_int.h"
#include "seglog/batch.h"
#include "seglog/log.h"

/* Appends one uncompressed batch of n records (value_size bytes each, record
 * timestamps ts, ts+1, ...) to out. */
static void make_batch(sl_buf *out, int64_t base, int n, int64_t ts, int value_size,
                       int32_t epoch) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  o.base_offset = base;
  o.partition_leader_epoch = epoch;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  uint8_t *val = malloc((size_t)value_size + 1);
  for (int i = 0; i < n; i++) {
    memset(val, 'a' + (int)((base + i) % 26), (size_t)value_size);
    assert_int_equal(sl_batch_builder_add(b, ts + i, NULL, -1, val, value_size, NULL, 0),
                     SL_OK);
  }
  assert_int_equal(sl_batch_builder_finish(b, out), SL_OK);
  sl_batch_builder_free(b);
  free(val);
}

static char *part_dir(const char *root) {
  return tu_path(root, "topic-0");
}

static sl_log *open_log(const char *dir, const sl_log_config *cfg, bool clean) {
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.clean_shutdown = clean;
  sl_log *log = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_open(dir, cfg, SL_LOG_CREATE, &o, &log, &d);
  if (rc) {
    char buf[1024];
    fprintf(stderr, "open: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
  }
  assert_int_equal(rc, SL_OK);
  return log;
}

static int64_t append_n(sl_log *log, int n, int64_t ts, int value_size) {
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, n, ts, value_size, 0);
  sl_append_info info;
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 3, 1000, &info, &d);
  if (rc) {
    char buf[1024];
    fprintf(stderr, "append: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
  }
  assert_int_equal(rc, SL_OK);
  sl_buf_release(&b);
  return info.first_offset;
}

static void test_append_read_reopen(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  sl_log *log = open_log(dir, &cfg, false);
  assert_int_equal(sl_log_end_offset(log), 0);
  for (int i = 0; i < 10; i++)
    assert_int_equal(append_n(log, 3, 1000 + i, 10), i * 3);
  assert_int_equal(sl_log_end_offset(log), 30);
  assert_int_equal(sl_log_latest_epoch(log), 3);
  sl_log_set_high_watermark(log, 30);

  /* Read from offset 4: starts at the batch 3..5, whole batches. */
  sl_log_slice s;
  assert_int_equal(sl_log_read(log, 4, 1 << 20, -1, &s, NULL), SL_OK);
  assert_int_equal(s.first_offset, 3);
  assert_int_equal(s.next_offset, 30);
  int64_t bsize = s.length / 9;
  assert_int_equal(s.length, bsize * 9);
  assert_int_equal(s.position, bsize);
  sl_log_slice_release(&s);
  /* max bytes smaller than a batch: still one batch. */
  assert_int_equal(sl_log_read(log, 4, 1, -1, &s, NULL), SL_OK);
  assert_int_equal(s.length, bsize);
  assert_int_equal(s.next_offset, 6);
  sl_log_slice_release(&s);
  /* max offset: only batches whose base offset is below it. */
  assert_int_equal(sl_log_read(log, 0, 1 << 20, 7, &s, NULL), SL_OK);
  assert_int_equal(s.next_offset, 9);
  assert_int_equal(s.length, bsize * 3);
  sl_log_slice_release(&s);
  assert_int_equal(sl_log_read(log, 30, 1 << 20, -1, &s, NULL), SL_OK);
  assert_int_equal(s.length, 0);
  sl_log_slice_release(&s);
  assert_int_equal(sl_log_read(log, 31, 1 << 20, -1, &s, NULL), SL_EOFFSET_OUT_OF_RANGE);
  sl_log_slice_release(&s);

  /* Copy read: the bytes are the batches with assigned offsets and epoch. */
  sl_buf out = SL_BUF_INIT;
  int64_t next;
  assert_int_equal(sl_log_read_copy(log, 6, 1 << 20, -1, &out, &next, NULL), SL_OK);
  assert_int_equal(next, 30);
  assert_int_equal((int64_t)sl_load_be64(out.data), 6);
  assert_int_equal((int32_t)sl_load_be32(out.data + 12), 3);
  assert_int_equal(sl_batch_validate(out.data, (size_t)bsize, NULL), SL_OK);
  sl_buf_release(&out);

  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  log = open_log(dir, &cfg, true);
  assert_int_equal(sl_log_end_offset(log), 30);
  assert_int_equal(sl_log_recovery_point(log), 30);
  assert_int_equal(sl_log_latest_epoch(log), 3);
  assert_int_equal(append_n(log, 1, 2000, 10), 30);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /* Unclean reopen (recovery from 0): same end. */
  log = open_log(dir, &cfg, false);
  assert_int_equal(sl_log_end_offset(log), 31);
  sl_log_load_report r;
  sl_log_load_report_get(log, &r);
  assert_int_equal(r.segments_recovered, 1);
  assert_int_equal(r.bytes_truncated, 0);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

static void test_follower_offsets(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log *log = open_log(dir, NULL, false);
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 5, 2, 100, 4, 7);
  make_batch(&b, 10, 1, 100, 4, 7);
  sl_append_info info;
  assert_int_equal(
      sl_log_append(log, b.data, b.len, SL_APPEND_FOLLOWER, 0, 0, &info, NULL), SL_OK);
  assert_int_equal(info.first_offset, 5);
  assert_int_equal(info.last_offset, 10);
  assert_int_equal(sl_log_end_offset(log), 11);
  assert_int_equal(sl_log_latest_epoch(log), 7);
  /* Offsets must keep increasing. */
  sl_buf_reset(&b);
  make_batch(&b, 10, 1, 100, 4, 7);
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_FOLLOWER, 0, 0, &info, &d),
                   SL_EINVALID_OFFSET);
  /* A corrupt batch is refused, nothing written. */
  sl_buf_reset(&b);
  make_batch(&b, 11, 1, 100, 4, 7);
  b.data[b.len - 1] ^= 1;
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_FOLLOWER, 0, 0, &info, &d),
                   SL_ECRC);
  assert_int_equal(sl_log_end_offset(log), 11);
  sl_buf_release(&b);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

static void test_second_writer_locked(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log *log = open_log(dir, NULL, false);
  sl_log *other = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  pid_t pid = fork();
  if (pid == 0) {
    /* Another process: the OFD lock conflicts. */
    int rc = sl_log_open(dir, NULL, 0, NULL, &other, &d);
    _exit(rc == SL_ELOCKED && strstr(d.msg, "pid") != NULL ? 0 : 1);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  /* In this process too (a second open file description). */
  assert_int_equal(sl_log_open(dir, NULL, 0, NULL, &other, &d), SL_ELOCKED);
  char want[64];
  snprintf(want, sizeof(want), "pid %ld", (long)getpid());
  assert_non_null(strstr(d.msg, want));
  /* Sharing the lock handle works. */
  sl_dir_lock *lk;
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(sl_dir_lock_acquire(root, &lk, NULL), SL_OK);
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.lock = lk;
  char *dir2 = tu_path(root, "topic-1");
  sl_log *a, *b;
  assert_int_equal(sl_log_open(dir, NULL, 0, &o, &a, NULL), SL_OK);
  assert_int_equal(sl_log_open(dir2, NULL, SL_LOG_CREATE, &o, &b, NULL), SL_OK);
  sl_dir_lock_release(lk);
  assert_int_equal(sl_log_close(a, NULL), SL_OK);
  assert_int_equal(sl_log_close(b, NULL), SL_OK);
  free(dir2);
  free(dir);
  tu_rmtree_free(root);
}

static size_t seg_count(sl_log *log) {
  sl_log_segment_info segs[256];
  return sl_log_segments(log, segs, 256);
}

static void append_one(sl_log *log, int64_t base, int n, int64_t ts, int vs,
                       unsigned flags) {
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, base, n, ts, vs, 0);
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_append(log, b.data, b.len, flags, 0, 1000, NULL, &d);
  if (rc) {
    char buf[1024];
    fprintf(stderr, "append: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
  }
  assert_int_equal(rc, SL_OK);
  sl_buf_release(&b);
}

/* roll_flush_async: a roll leaves the rolled segment to sl_log_flush_rolled
 * (Kafka's scheduled flush), which moves the recovery point; appends go on
 * meanwhile; a failed fsync latches the log. */
static void test_roll_flush_async(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "async-0");
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.segment_bytes = 400; /* 5 batches of 78 bytes per segment */
  cfg.roll_flush_async = true;
  sl_log *log = open_log(dir, &cfg, false);
  for (int i = 0; i < 7; i++)
    append_one(log, 0, 1, 1000, 10, SL_APPEND_LEADER);
  assert_int_equal(seg_count(log), 2);
  assert_int_equal(sl_log_recovery_point(log), 0); /* the roll did not flush */
  assert_true(sl_log_flush_rolled_pending(log));
  assert_int_equal(sl_log_flush_rolled(log, NULL), SL_OK);
  assert_int_equal(sl_log_recovery_point(log), 5); /* the active segment's base */
  assert_false(sl_log_flush_rolled_pending(log));
  assert_int_equal(sl_log_flush_rolled(log, NULL), SL_OK); /* nothing to do */
  assert_int_equal(sl_log_recovery_point(log), 5);

  /* A failed fsync: the recovery point stays, the log latches. */
  for (int i = 0; i < 5; i++)
    append_one(log, 0, 1, 1000, 10, SL_APPEND_LEADER);
  assert_int_equal(seg_count(log), 3);
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 0;
  sl__fio_set_faults(&f);
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_flush_rolled(log, &d);
  sl__fio_set_faults(NULL);
  assert_int_not_equal(rc, SL_OK);
  assert_non_null(strstr(d.msg, "fsync"));
  assert_int_equal(sl_log_recovery_point(log), 5);
  assert_true(sl_log_failed(log));
  assert_false(sl_log_flush_rolled_pending(log));
  sl_log_close(log, NULL);

  /* Without roll_flush_async the roll flushes at once (the default). */
  char *dir2 = tu_path(root, "sync-0");
  sl_log_config_init(&cfg);
  cfg.segment_bytes = 400;
  log = open_log(dir2, &cfg, false);
  for (int i = 0; i < 7; i++)
    append_one(log, 0, 1, 1000, 10, SL_APPEND_LEADER);
  assert_int_equal(sl_log_recovery_point(log), 5);
  assert_false(sl_log_flush_rolled_pending(log));
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  free(dir2);
  tu_rmtree_free(root);
}

static void test_roll_triggers(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  sl_log_config cfg;
  /* segment.bytes: 78-byte batches, 400-byte segments -> 5 per segment
   * (a roll when size > 400 - 78). */
  char *d1 = tu_path(root, "bytes-0");
  sl_log_config_init(&cfg);
  cfg.segment_bytes = 400;
  sl_log *log = open_log(d1, &cfg, false);
  for (int i = 0; i < 12; i++)
    append_one(log, 0, 1, 1000, 10, SL_APPEND_LEADER);
  sl_log_segment_info segs[16];
  assert_int_equal(sl_log_segments(log, segs, 16), 3);
  assert_int_equal(segs[0].base_offset, 0);
  assert_int_equal(segs[0].size_bytes, 5 * 78);
  assert_int_equal(segs[1].base_offset, 5);
  assert_int_equal(segs[2].base_offset, 10);
  assert_int_equal(segs[2].size_bytes, 2 * 78);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);

  /* segment.ms against the batch max timestamp vs the segment's first batch. */
  char *d2 = tu_path(root, "ms-0");
  sl_log_config_init(&cfg);
  cfg.segment_ms = 1000;
  log = open_log(d2, &cfg, false);
  append_one(log, 0, 1, 5000, 10, SL_APPEND_LEADER);
  append_one(log, 0, 1, 5500, 10, SL_APPEND_LEADER);
  append_one(log, 0, 1, 6000, 10, SL_APPEND_LEADER); /* waited 1000: not > 1000 */
  assert_int_equal(seg_count(log), 1);
  append_one(log, 0, 1, 6001, 10, SL_APPEND_LEADER);
  assert_int_equal(seg_count(log), 2);
  append_one(log, 0, 1, 100, 10, SL_APPEND_LEADER); /* older timestamps never roll */
  assert_int_equal(seg_count(log), 2);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);

  /* A full time index (segment.index.bytes 36: 3 slots, one kept for the
   * final entry) with an entry per batch after the first. */
  char *d3 = tu_path(root, "index-0");
  sl_log_config_init(&cfg);
  cfg.segment_index_bytes = 36;
  cfg.index_interval_bytes = 0;
  log = open_log(d3, &cfg, false);
  for (int i = 0; i < 9; i++)
    append_one(log, 0, 1, 1000 + i, 10, SL_APPEND_LEADER);
  assert_int_equal(sl_log_segments(log, segs, 16), 3);
  assert_int_equal(segs[1].base_offset, 3);
  assert_int_equal(segs[2].base_offset, 6);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);

  /* Relative offset overflow (follower data with a big gap): the new segment
   * starts at the batch's first offset. */
  char *d4 = tu_path(root, "overflow-0");
  sl_log_config_init(&cfg);
  log = open_log(d4, &cfg, false);
  append_one(log, 0, 1, 1000, 10, SL_APPEND_FOLLOWER);
  append_one(log, 10, 1, 1000, 10, SL_APPEND_FOLLOWER);
  int64_t far = 10 + (int64_t)INT32_MAX;
  append_one(log, far, 2, 1000, 10, SL_APPEND_FOLLOWER);
  assert_int_equal(sl_log_segments(log, segs, 16), 2);
  assert_int_equal(segs[1].base_offset, far);
  assert_int_equal(sl_log_end_offset(log), far + 2);
  /* Reads across the gap land in the next segment. */
  sl_log_slice s;
  assert_int_equal(sl_log_read(log, 11, 1 << 20, -1, &s, NULL), SL_OK);
  assert_int_equal(s.first_offset, far);
  assert_int_equal(s.segment_base, far);
  sl_log_slice_release(&s);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /* Explicit roll of an empty active segment is a no-op. */
  log = open_log(d4, &cfg, true);
  assert_int_equal(sl_log_roll(log, 0, NULL), SL_OK);
  assert_int_equal(sl_log_roll(log, 0, NULL), SL_OK);
  assert_int_equal(seg_count(log), 3);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(d1);
  free(d2);
  free(d3);
  free(d4);
  tu_rmtree_free(root);
}

/* Every offset of a multi-segment log is found by a 1-byte read. */
static void test_lookup_across_segments(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.segment_bytes = 3000;
  cfg.index_interval_bytes = 200;
  sl_log *log = open_log(dir, &cfg, false);
  for (int i = 0; i < 200; i++)
    append_one(log, 0, 1 + i % 4, 10000 + 10 * i, 5 + (i * 7) % 50, SL_APPEND_LEADER);
  int64_t leo = sl_log_end_offset(log);
  assert_true(seg_count(log) > 5);
  for (int round = 0; round < 2; round++) {
    for (int64_t off = 0; off < leo; off++) {
      sl_log_slice s;
      assert_int_equal(sl_log_read(log, off, 1, -1, &s, NULL), SL_OK);
      assert_true(s.first_offset <= off);
      assert_true(s.next_offset > off);
      assert_true(s.length > 0);
      sl_log_slice_release(&s);
    }
    /* Same answers from the indexes Kafka-style after a clean reopen. */
    assert_int_equal(sl_log_close(log, NULL), SL_OK);
    log = open_log(dir, &cfg, true);
  }
  /* ListOffsets: record granularity (record j of batch i has ts 10000+10i+j). */
  int64_t off, ts;
  assert_int_equal(sl_log_find_offset_by_time(log, 10000 + 10 * 7 + 1, &off, &ts, NULL),
                   SL_OK);
  /* batches 0..6 hold 1+2+3+4+1+2+3 = 16 records; batch 7 has 4 records. */
  assert_int_equal(off, 17);
  assert_int_equal(ts, 10071);
  assert_int_equal(sl_log_find_offset_by_time(log, 10000 + 10 * 7 + 5, &off, &ts, NULL),
                   SL_OK);
  assert_int_equal(off, 20); /* the first record of batch 8 */
  assert_int_equal(ts, 10080);
  assert_int_equal(sl_log_find_offset_by_time(log, 0, &off, &ts, NULL), SL_OK);
  assert_int_equal(off, 0);
  assert_int_equal(sl_log_find_offset_by_time(log, 99999999, &off, &ts, NULL),
                   SL_ENOT_FOUND);
  assert_int_equal(sl_log_find_offset_by_time(log, SL_LIST_LATEST, &off, &ts, NULL),
                   SL_OK);
  assert_int_equal(off, leo);
  assert_int_equal(
      sl_log_find_offset_by_time(log, SL_LIST_MAX_TIMESTAMP, &off, &ts, NULL), SL_OK);
  assert_int_equal(ts, 10000 + 10 * 199 + 199 % 4);
  assert_int_equal(off, leo - 1);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

static void test_log_append_time_and_limits(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  assert_int_equal(
      sl_log_config_set(&cfg, "message.timestamp.type", "LogAppendTime", NULL), SL_OK);
  assert_int_equal(sl_log_config_set(&cfg, "max.message.bytes", "200", NULL), SL_OK);
  sl_log *log = open_log(dir, &cfg, false);
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, 2, 5, 10, 0);
  sl_append_info info;
  assert_int_equal(
      sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 9, 123456, &info, NULL), SL_OK);
  assert_int_equal(info.log_append_time, 123456);
  assert_int_equal(info.max_timestamp, 123456);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_log_read_copy(log, 0, 1 << 20, -1, &out, NULL, NULL), SL_OK);
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(out.data, out.len, &h, NULL), SL_OK);
  assert_true(h.attributes & SL_ATTR_LOG_APPEND_TIME);
  assert_int_equal(h.max_timestamp, 123456);
  assert_int_equal(h.partition_leader_epoch, 9);
  assert_int_equal(sl_batch_validate(out.data, out.len, NULL), SL_OK);
  sl_buf_reset(&b);
  make_batch(&b, 0, 1, 5, 300, 0);
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 9, 1, &info, &d),
                   SL_ETOO_LARGE);
  /* Incomplete and legacy input. */
  sl_buf_reset(&b);
  make_batch(&b, 0, 1, 5, 10, 0);
  assert_int_equal(
      sl_log_append(log, b.data, b.len - 1, SL_APPEND_LEADER, 9, 1, &info, &d),
      SL_ECORRUPT);
  b.data[16] = 1;
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 9, 1, &info, &d),
                   SL_EUNSUPPORTED);
  assert_int_equal(sl_log_end_offset(log), 2);
  sl_buf_release(&b);
  sl_buf_release(&out);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

static void test_config(void **state) {
  (void)state;
  sl_log_config c;
  sl_log_config_init(&c);
  assert_int_equal(c.segment_bytes, 1073741824);
  assert_int_equal(c.max_message_bytes, 1048588);
  assert_int_equal(c.segment_index_bytes, 10485760);
  assert_int_equal(c.flush_messages, INT64_MAX);
  assert_int_equal(sl_log_config_set(&c, "segment.bytes", "1048576", NULL), SL_OK);
  assert_int_equal(c.segment_bytes, 1048576);
  assert_int_equal(sl_log_config_set(&c, "retention.ms", "-1", NULL), SL_OK);
  assert_int_equal(c.retention_ms, -1);
  assert_int_equal(sl_log_config_set(&c, "cleanup.policy", "compact,delete", NULL),
                   SL_OK);
  assert_int_equal(c.cleanup_policy, SL_CLEANUP_COMPACT | SL_CLEANUP_DELETE);
  assert_int_equal(sl_log_config_set(&c, "preallocate", "true", NULL), SL_OK);
  assert_true(c.preallocate);
  assert_int_equal(sl_log_config_set(&c, "min.cleanable.dirty.ratio", "0.25", NULL),
                   SL_OK);
  assert_true(c.min_cleanable_dirty_ratio == 0.25);
  sl_diag d;
  assert_int_equal(sl_log_config_set(&c, "segment.bytes", "12x", &d), SL_EINVAL);
  assert_int_equal(sl_log_config_set(&c, "segment.bytes", "9999999999", &d), SL_EINVAL);
  assert_int_equal(sl_log_config_set(&c, "cleanup.policy", "zap", &d), SL_EINVAL);
  assert_int_equal(sl_log_config_set(&c, "no.such", "1", &d), SL_ENOT_FOUND);
  assert_int_equal(sl_log_config_validate(&c, &d), SL_OK);
  c.segment_bytes = 13;
  assert_int_equal(sl_log_config_validate(&c, &d), SL_EINVAL);
}

/* preallocate=true: the active .log is sized to segment.bytes and trimmed when
 * it becomes inactive; recovery treats the zero tail as the end. */
static void test_preallocate(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.preallocate = true;
  cfg.segment_bytes = 1000;
  sl_log *log = open_log(dir, &cfg, false);
  for (int i = 0; i < 3; i++)
    append_one(log, 0, 1, 1000, 10, SL_APPEND_LEADER);
  char *lp = tu_path(dir, "00000000000000000000.log");
  assert_int_equal(tu_file_size(lp), 1000);
  /* A crash now: reopen without closing through a second handle is not
   * possible (locked), so simulate with a read-only reader. */
  sl_log *r;
  assert_int_equal(sl_log_open(dir, &cfg, SL_LOG_READONLY, NULL, &r, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(r), 3);
  sl_log_close(r, NULL);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(tu_file_size(lp), 3 * 78);
  free(lp);
  free(dir);
  tu_rmtree_free(root);
}

/* A batch of a producer (pid/epoch/sequence, transactional or not). */
static void make_pbatch(sl_buf *out, int n, int64_t pid, int16_t pepoch, int32_t seq,
                        bool txn) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  o.producer_id = pid;
  o.producer_epoch = pepoch;
  o.base_sequence = seq;
  o.transactional = txn;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  /* Real timestamps: producers idle for producer.id.expiration.ms (1 day) are
   * dropped when a snapshot is loaded. */
  int64_t now = (int64_t)time(NULL) * 1000;
  for (int i = 0; i < n; i++)
    assert_int_equal(sl_batch_builder_add(b, now + i, "k", 1, "v", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_finish(b, out), SL_OK);
  sl_batch_builder_free(b);
}

static int append_buf(sl_log *log, sl_buf *b, unsigned flags, int32_t epoch,
                      sl_append_info *info) {
  return sl_log_append(log, b->data, b->len, flags, epoch, 1000, info, NULL);
}

static void test_idempotent_producer(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log *log = open_log(dir, NULL, false);
  append_n(log, 2, 1, 1); /* offsets 0-1, no producer */
  sl_buf b = SL_BUF_INIT;
  sl_append_info info;
  make_pbatch(&b, 3, 1000, 0, 0, false);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, &info), SL_OK);
  assert_int_equal(info.first_offset, 2);
  assert_false(info.duplicate);
  /* The retry of the same batch: nothing written, the original offsets. */
  sl_buf_reset(&b);
  make_pbatch(&b, 3, 1000, 0, 0, false);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, &info),
                   SL_EDUPLICATE_SEQUENCE);
  assert_true(info.duplicate);
  assert_int_equal(info.first_offset, 2);
  assert_int_equal(info.last_offset, 4);
  assert_int_equal(sl_log_end_offset(log), 5);
  /* A gap in the sequence. */
  sl_buf_reset(&b);
  make_pbatch(&b, 1, 1000, 0, 7, false);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, &info),
                   SL_EOUT_OF_ORDER_SEQUENCE);
  sl_buf_reset(&b);
  make_pbatch(&b, 2, 1000, 0, 3, false);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, &info), SL_OK);
  assert_int_equal(info.first_offset, 5);
  /* A roll writes a snapshot at the new base; close one at the LEO. */
  assert_int_equal(sl_log_roll(log, 0, NULL), SL_OK);
  char *snap7 = tu_path(dir, "00000000000000000007.snapshot");
  assert_true(tu_file_size(snap7) > 10);
  append_n(log, 1, 1, 1);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *snap8 = tu_path(dir, "00000000000000000008.snapshot");
  assert_int_equal(tu_file_size(snap8), 10 + 46);
  /* After a reopen (unclean: replay from the snapshot) the state is back. */
  for (int clean = 0; clean < 2; clean++) {
    log = open_log(dir, NULL, clean);
    sl_buf_reset(&b);
    make_pbatch(&b, 2, 1000, 0, 3, false);
    assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, &info),
                     SL_EDUPLICATE_SEQUENCE);
    assert_int_equal(info.first_offset, 5);
    assert_int_equal(sl_log_close(log, NULL), SL_OK);
  }
  /* Lost snapshots after an unclean stop: rebuilt by scanning the log. */
  unlink(snap7);
  unlink(snap8);
  log = open_log(dir, NULL, false);
  sl_buf_reset(&b);
  make_pbatch(&b, 1, 1000, 0, 5, false);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, &info), SL_OK);
  assert_int_equal(info.first_offset, 8);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  sl_buf_release(&b);
  free(snap7);
  free(snap8);
  free(dir);
  tu_rmtree_free(root);
}

static int collect_cb(void *ctx, const sl_aborted_txn *t) {
  sl_aborted_txn *out = ctx;
  *out = *t;
  return 0;
}

static void test_transactions_and_txnindex(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log *log = open_log(dir, NULL, false);
  sl_buf b = SL_BUF_INIT;
  sl_append_info info;
  make_pbatch(&b, 2, 2000, 1, 0, true); /* offsets 0-1 */
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 0, &info), SL_OK);
  append_n(log, 1, 1, 1); /* offset 2, non-transactional from another producer */
  sl_log_set_high_watermark(log, 3);
  assert_int_equal(sl_log_last_stable_offset(log), 0);
  sl_buf_reset(&b);
  assert_int_equal(sl_batch_build_marker(&b, 0, 2000, 1, SL_CONTROL_ABORT, 4, 1000, -1),
                   SL_OK);
  assert_int_equal(
      append_buf(log, &b, SL_APPEND_LEADER | SL_APPEND_COORDINATOR, 0, &info), SL_OK);
  assert_int_equal(info.first_offset, 3);
  sl_log_set_high_watermark(log, 4);
  assert_int_equal(sl_log_last_stable_offset(log), 4);
  /* The .txnindex entry: version 0, pid 2000, first 0, last 3, LSO 4. */
  char *xp = tu_path(dir, "00000000000000000000.txnindex");
  uint8_t want[34];
  tu_unhex("0000 00000000000007d0 0000000000000000 0000000000000003 0000000000000004",
           want, sizeof(want));
  size_t len;
  uint8_t *got = tu_read_file(xp, &len);
  assert_int_equal(len, 34);
  assert_memory_equal(got, want, 34);
  free(got);
  sl_aborted_txn t;
  memset(&t, 0, sizeof(t));
  assert_int_equal(sl_log_collect_aborted_txns(log, 0, 4, collect_cb, &t, NULL), SL_OK);
  assert_int_equal(t.producer_id, 2000);
  assert_int_equal(t.last_offset, 3);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /* Recovery rebuilds the .txnindex identically. */
  unlink(xp);
  char *ip = tu_path(dir, "00000000000000000000.index");
  unlink(ip);
  log = open_log(dir, NULL, true);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  got = tu_read_file(xp, &len);
  assert_non_null(got);
  assert_int_equal(len, 34);
  assert_memory_equal(got, want, 34);
  free(got);
  free(ip);
  free(xp);
  sl_buf_release(&b);
  free(dir);
  tu_rmtree_free(root);
}

static void test_leader_epoch_cache(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log *log = open_log(dir, NULL, false);
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, 2, 1, 1, 0);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, NULL), SL_OK); /* 0-1 */
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 3, NULL), SL_OK); /* 2-3 */
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 5, NULL), SL_OK); /* 4-5 */
  char *cp = tu_path(dir, "leader-epoch-checkpoint");
  size_t len;
  char *got = (char *)tu_read_file(cp, &len);
  assert_non_null(got);
  assert_string_equal(got, "0\n2\n3 0\n5 4\n");
  free(got);
  int32_t e;
  int64_t end;
  sl_log_end_offset_for_epoch(log, 3, &e, &end);
  assert_int_equal(e, 3);
  assert_int_equal(end, 4);
  sl_log_end_offset_for_epoch(log, 5, &e, &end);
  assert_int_equal(end, 6);
  assert_int_equal(sl_log_latest_epoch(log), 5);
  /* Truncation drops epoch 5 (starts at 4). */
  assert_int_equal(sl_log_truncate_to(log, 4, NULL), SL_OK);
  assert_int_equal(sl_log_latest_epoch(log), 3);
  got = (char *)tu_read_file(cp, &len);
  assert_string_equal(got, "0\n1\n3 0\n");
  free(got);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 6, NULL), SL_OK); /* 4-5 */
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /* Scenario 6: a lost checkpoint is rebuilt from the batch headers. */
  unlink(cp);
  log = open_log(dir, NULL, true);
  assert_int_equal(sl_log_latest_epoch(log), 6);
  got = (char *)tu_read_file(cp, &len);
  assert_non_null(got);
  assert_string_equal(got, "0\n2\n3 0\n6 4\n");
  free(got);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  sl_buf_release(&b);
  free(cp);
  free(dir);
  tu_rmtree_free(root);
}

/* Kafka's makeLeader: the epoch's start offset is recorded when the log
 * becomes leader, so the first append at that epoch writes no checkpoint. */
static void test_become_leader(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log *log = open_log(dir, NULL, false);
  char *cp = tu_path(dir, "leader-epoch-checkpoint");
  size_t len;
  assert_int_equal(sl_log_become_leader(log, 0, NULL), SL_OK);
  char *got = (char *)tu_read_file(cp, &len);
  assert_non_null(got);
  assert_string_equal(got, "0\n1\n0 0\n");
  free(got);
  int32_t e;
  int64_t end;
  sl_log_end_offset_for_epoch(log, 0, &e, &end);
  assert_int_equal(e, 0);
  assert_int_equal(end, 0);
  /* The first append at epoch 0 leaves the checkpoint file alone. */
  struct stat st0, st1;
  assert_int_equal(stat(cp, &st0), 0);
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, 2, 1, 1, 0);
  assert_int_equal(append_buf(log, &b, SL_APPEND_LEADER, 0, NULL), SL_OK); /* 0-1 */
  assert_int_equal(stat(cp, &st1), 0);
  assert_int_equal(st0.st_ino, st1.st_ino); /* not replaced by a rename */
  /* Same or older epoch: nothing changes; a newer one starts at the LEO. */
  assert_int_equal(sl_log_become_leader(log, 0, NULL), SL_OK);
  assert_int_equal(stat(cp, &st1), 0);
  assert_int_equal(st0.st_ino, st1.st_ino);
  assert_int_equal(sl_log_become_leader(log, 4, NULL), SL_OK);
  got = (char *)tu_read_file(cp, &len);
  assert_string_equal(got, "0\n2\n0 0\n4 2\n");
  free(got);
  assert_int_equal(sl_log_latest_epoch(log), 4);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  sl_buf_release(&b);
  free(cp);
  free(dir);
  tu_rmtree_free(root);
}

static void test_client_rules_and_record_validation(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.cleanup_policy = SL_CLEANUP_COMPACT;
  sl_log *log = open_log(dir, &cfg, false);
  sl_buf b = SL_BUF_INIT;
  sl_diag d;
  /* A CRC-valid batch whose record is malformed: the record length varint
   * claims one byte more; the CRC is recomputed. */
  make_batch(&b, 0, 1, 5, 10, 0);
  b.data[SL_BATCH_HEADER_SIZE] += 2; /* zigzag: +1 */
  sl_store_be32(b.data + SL_BATCH_OFF_CRC, sl_batch_crc_compute(b.data, b.len));
  assert_int_equal(sl_batch_validate(b.data, b.len, NULL), SL_OK);
  sl_diag_clear(&d);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 0, 1, NULL, &d),
                   SL_ECORRUPT);
  /* Keyless records on a compacted topic: refused for clients only. */
  sl_buf_reset(&b);
  make_batch(&b, 0, 2, 5, 10, 0);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER | SL_APPEND_CLIENT,
                                 0, 1, NULL, &d),
                   SL_EINVALID_RECORD);
  assert_non_null(strstr(d.msg, "key"));
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 0, 1, NULL, &d),
                   SL_OK);
  /* Control batches from a client. */
  sl_buf_reset(&b);
  assert_int_equal(sl_batch_build_marker(&b, 0, 77, 0, SL_CONTROL_COMMIT, 0, 1, -1),
                   SL_OK);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER | SL_APPEND_CLIENT,
                                 0, 1, NULL, &d),
                   SL_EINVALID_RECORD);
  /* A producer id without a sequence. */
  sl_buf_reset(&b);
  make_pbatch(&b, 1, 55, 0, -1, false);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER | SL_APPEND_CLIENT,
                                 0, 1, NULL, &d),
                   SL_EINVALID_RECORD);
  /* lastOffsetDelta that does not match the record count. */
  sl_batch_builder_opts o;
  sl_batch_builder *bb;
  sl_batch_builder_opts_init(&o);
  o.last_offset_delta = 5;
  assert_int_equal(sl_batch_builder_new(&o, &bb), SL_OK);
  assert_int_equal(sl_batch_builder_add(bb, 1, "k", 1, "v", 1, NULL, 0), SL_OK);
  sl_buf_reset(&b);
  assert_int_equal(sl_batch_builder_finish(bb, &b), SL_OK);
  sl_batch_builder_free(bb);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER | SL_APPEND_CLIENT,
                                 0, 1, NULL, &d),
                   SL_EINVALID_RECORD);
  assert_int_equal(sl_log_end_offset(log), 2);
  sl_buf_release(&b);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

/* What the reader (sl_batch_reader) says of a batch's records, with the
 * client's consecutive-offset rule: the reference for the append's own
 * in-place record check. */
static int reference_records(const uint8_t *batch, size_t len, bool client) {
  sl_batch_reader *r;
  sl_batch_header h;
  int rc = sl_batch_reader_new(0, &r);
  assert_int_equal(rc, SL_OK);
  rc = sl_batch_reader_open(r, batch, len, &h, NULL);
  for (int64_t expect = h.base_offset; rc == SL_OK; expect++) {
    sl_record rec;
    int more = sl_batch_reader_next(r, &rec, NULL);
    if (more <= 0) {
      rc = more;
      break;
    }
    if (client && rec.offset != expect) {
      sl_batch_reader_free(r);
      return SL_EINVALID_RECORD;
    }
  }
  sl_batch_reader_free(r);
  return rc == SL_OK ? SL_OK : SL_ECORRUPT;
}

/* The append checks uncompressed records in place (no reader): every
 * single-byte change of the records section of a batch with keys, null keys,
 * values and headers (CRC recomputed) is accepted or refused exactly as the
 * batch reader decides. */
static void test_record_check_matches_reader(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  sl_log *log = open_log(dir, &cfg, false);
  sl_batch_builder_opts o;
  sl_batch_builder *bb;
  sl_buf orig = SL_BUF_INIT, b = SL_BUF_INIT;
  sl_batch_builder_opts_init(&o);
  assert_int_equal(sl_batch_builder_new(&o, &bb), SL_OK);
  /* an empty header key (0x00) that one change makes null (0x01): same
   * record length, refused */
  sl_header hd[3] = {{(const uint8_t *)"h1", 2, (const uint8_t *)"v", 1},
                     {(const uint8_t *)"h2", 2, NULL, -1},
                     {(const uint8_t *)"", 0, (const uint8_t *)"v", 1}};
  char big[200];
  memset(big, 'x', sizeof big);
  assert_int_equal(sl_batch_builder_add(bb, 1000, "k", 1, "value", 5, hd, 3), SL_OK);
  assert_int_equal(sl_batch_builder_add(bb, 1001, NULL, -1, big, 200, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_add(bb, 900000, "key", 3, NULL, -1, hd, 1), SL_OK);
  assert_int_equal(sl_batch_builder_finish(bb, &orig), SL_OK);
  sl_batch_builder_free(bb);
  /* the first five flip bits, the rest set the byte (0x01 is the varint -1,
   * 0x03 is -2) */
  static const uint8_t xors[] = {0x01, 0x02, 0x40, 0x80, 0xff,
                                 0x00, 0x01, 0x03, 0x7f, 0x80};
  int accepted = 0, refused = 0;
  for (size_t p = SL_BATCH_HEADER_SIZE; p < orig.len; p++) {
    for (size_t x = 0; x < sizeof xors; x++) {
      for (int client = 0; client < 2; client++) {
        sl_buf_reset(&b);
        assert_int_equal(sl_buf_append(&b, orig.data, orig.len), SL_OK);
        if (x < 5)
          b.data[p] ^= xors[x];
        else
          b.data[p] = xors[x];
        sl_store_be32(b.data + SL_BATCH_OFF_CRC, sl_batch_crc_compute(b.data, b.len));
        int want = reference_records(b.data, b.len, client);
        sl_diag d;
        sl_diag_clear(&d);
        int got = sl_log_append(log, b.data, b.len,
                                SL_APPEND_LEADER | (client ? SL_APPEND_CLIENT : 0), 0, 1,
                                NULL, &d);
        if (got != want)
          fprintf(stderr,
                  "byte %zu, change %zu (0x%02x), client %d: append %d, reader %d (%s)\n",
                  p, x, xors[x], client, got, want, d.msg);
        assert_int_equal(got, want);
        if (got == SL_OK)
          accepted++;
        else
          refused++;
      }
    }
  }
  /* both outcomes occur (value bytes change freely, lengths do not) */
  assert_true(accepted > 100);
  assert_true(refused > 100);
  sl_buf_release(&b);
  sl_buf_release(&orig);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

/* sl_log_read_copy frames its one pread in memory instead of walking headers:
 * for every start offset, byte limit and offset limit it returns exactly the
 * bytes and next offset of the header-walked slice (sl_log_read). */
static void test_read_copy_matches_slices(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.segment_bytes = 6000; /* several segments */
  sl_log *log = open_log(dir, &cfg, false);
  sl_buf b = SL_BUF_INIT;
  for (int i = 0; i < 40; i++) {
    sl_buf_reset(&b);
    /* small and large batches, so both kinds of header walk occur */
    make_batch(&b, 0, 1 + i % 3, 100 + i, i % 4 == 0 ? 1500 : 20 + i, 0);
    assert_int_equal(
        sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 0, 1, NULL, NULL), SL_OK);
  }
  int64_t leo = sl_log_end_offset(log);
  static const int64_t max_bytes[] = {0, 1, 100, 1600, 3000, 5000, 1 << 20};
  for (int64_t off = 0; off < leo; off++) {
    for (size_t m = 0; m < sizeof max_bytes / sizeof max_bytes[0]; m++) {
      for (int64_t mo = off; mo <= leo + 1; mo += 7) {
        int64_t max_off = mo > leo ? -1 : mo;
        sl_log_slice sl;
        assert_int_equal(sl_log_read(log, off, max_bytes[m], max_off, &sl, NULL), SL_OK);
        sl_buf want = SL_BUF_INIT, got = SL_BUF_INIT;
        if (sl.length > 0) {
          uint8_t *p = sl_buf_reserve(&want, (size_t)sl.length);
          assert_non_null(p);
          assert_int_equal(pread(sl.fd, p, (size_t)sl.length, sl.position), sl.length);
          want.len = (size_t)sl.length;
        }
        int64_t next = -2;
        assert_int_equal(
            sl_log_read_copy(log, off, max_bytes[m], max_off, &got, &next, NULL), SL_OK);
        assert_int_equal(got.len, want.len);
        if (want.len > 0)
          assert_memory_equal(got.data, want.data, want.len);
        assert_int_equal(next, sl.next_offset);
        sl_log_slice_release(&sl);
        sl_buf_release(&want);
        sl_buf_release(&got);
      }
    }
  }
  sl_buf_release(&b);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

/* Inactive segments hold one descriptor (the .log) until an index lookup. */
static void test_descriptors_per_segment(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  cfg.segment_bytes = 400;
  cfg.index_interval_bytes = 100;
  sl_log *log = open_log(dir, &cfg, false);
  for (int i = 0; i < 100; i++)
    append_one(log, 0, 1, 1000 + i, 10, SL_APPEND_LEADER);
  assert_int_equal(seg_count(log), 20);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  int before = count_fds();
  log = open_log(dir, &cfg, true);
  int opened = count_fds() - before;
  /* 19 inactive .log files + the active .log, .index, .timeindex + .lock. */
  assert_true(opened <= 19 + 3 + 2);
  sl_log_slice sl;
  assert_int_equal(sl_log_read(log, 7, 1, -1, &sl, NULL), SL_OK);
  assert_int_equal(sl.first_offset, 7);
  sl_log_slice_release(&sl);
  assert_true(count_fds() - before <= opened + 1);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(count_fds(), before);
  free(dir);
  tu_rmtree_free(root);
}

/* SL_APPEND_TRUSTED: a valid batch lands byte for byte as without the flag;
 * the CRC check is what it skips (a batch with a bad CRC is refused without
 * it, written as it is with it), while the header checks still apply. */
static void test_trusted_append(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = part_dir(root);
  char *root2 = tu_mkdtemp(); /* the dir lock is per log dir root */
  char *dir2 = part_dir(root2);
  sl_log_config cfg;
  sl_log_config_init(&cfg);
  sl_log *a = open_log(dir, &cfg, false);
  sl_log *t = open_log(dir2, &cfg, false);
  sl_buf b1 = SL_BUF_INIT, b2 = SL_BUF_INIT;
  make_batch(&b1, 0, 5, 1000, 20, 0);
  make_batch(&b2, 0, 5, 1000, 20, 0);
  sl_append_info ia, it;
  assert_int_equal(sl_log_append(a, b1.data, b1.len, SL_APPEND_LEADER, 2, 1, &ia, NULL),
                   SL_OK);
  assert_int_equal(sl_log_append(t, b2.data, b2.len, SL_APPEND_LEADER | SL_APPEND_TRUSTED,
                                 2, 1, &it, NULL),
                   SL_OK);
  assert_int_equal(ia.last_offset, 4);
  assert_int_equal(it.last_offset, 4);
  sl_buf ra = SL_BUF_INIT, rt = SL_BUF_INIT;
  assert_int_equal(sl_log_read_copy(a, 0, 1 << 20, -1, &ra, NULL, NULL), SL_OK);
  assert_int_equal(sl_log_read_copy(t, 0, 1 << 20, -1, &rt, NULL, NULL), SL_OK);
  assert_int_equal(ra.len, rt.len);
  assert_memory_equal(ra.data, rt.data, ra.len);

  /* Flip a byte inside the CRC-covered part (a record value). */
  sl_buf_reset(&b1);
  make_batch(&b1, 0, 1, 2000, 20, 0);
  b1.data[b1.len - 3] ^= 0x40;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_log_append(a, b1.data, b1.len, SL_APPEND_LEADER, 2, 1, NULL, &d),
                   SL_ECRC);
  assert_int_equal(sl_log_end_offset(a), 5);
  assert_int_equal(sl_log_append(t, b1.data, b1.len, SL_APPEND_LEADER | SL_APPEND_TRUSTED,
                                 2, 1, NULL, NULL),
                   SL_OK);
  assert_int_equal(sl_log_end_offset(t), 6);
  /* Header sanity still holds: a size beyond the bytes given is refused. */
  sl_buf_reset(&b2);
  make_batch(&b2, 0, 1, 3000, 20, 0);
  assert_int_equal(sl_log_append(t, b2.data, b2.len - 1,
                                 SL_APPEND_LEADER | SL_APPEND_TRUSTED, 2, 1, NULL, NULL),
                   SL_ECORRUPT);
  assert_int_equal(sl_log_end_offset(t), 6);

  sl_buf_release(&ra);
  sl_buf_release(&rt);
  sl_buf_release(&b1);
  sl_buf_release(&b2);
  assert_int_equal(sl_log_close(a, NULL), SL_OK);
  assert_int_equal(sl_log_close(t, NULL), SL_OK);
  free(dir);
  free(dir2);
  tu_rmtree_free(root);
  tu_rmtree_free(root2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_read_reopen),
      cmocka_unit_test(test_follower_offsets),
      cmocka_unit_test(test_second_writer_locked),
      cmocka_unit_test(test_roll_triggers),
      cmocka_unit_test(test_roll_flush_async),
      cmocka_unit_test(test_lookup_across_segments),
      cmocka_unit_test(test_log_append_time_and_limits),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_preallocate),
      cmocka_unit_test(test_idempotent_producer),
      cmocka_unit_test(test_transactions_and_txnindex),
      cmocka_unit_test(test_leader_epoch_cache),
      cmocka_unit_test(test_become_leader),
      cmocka_unit_test(test_client_rules_and_record_validation),
      cmocka_unit_test(test_record_check_matches_reader),
      cmocka_unit_test(test_read_copy_matches_slices),
      cmocka_unit_test(test_descriptors_per_segment),
      cmocka_unit_test(test_trusted_append),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
