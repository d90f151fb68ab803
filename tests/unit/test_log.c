/*
 * test_log.c - the partition log: append (leader and follower paths), reads
 * with max bytes / max offset, roll on each trigger, lookups across segments,
 * ListOffsets, the dir lock, read-only readers in another process, the failed
 * latch on fsync errors, ENOSPC during append, config parsing.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_read_reopen),
      cmocka_unit_test(test_follower_offsets),
      cmocka_unit_test(test_second_writer_locked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
