/*
 * test_recovery.c - crash recovery and verification (fault scenarios 2, 4, 5,
 * 6, 7, 9): a segment cut at every byte of its last batch, garbage after the
 * last batch, a CRC error in a middle segment (verify's exact report, then
 * truncation and deletion of later segments), lost indexes rebuilt
 * byte-identically, .deleted/.cleaned/.swap handling, ENOSPC during append,
 * the fsync latch, and a reader process that never sees a partial batch.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio_int.h"
#include "log_int.h"
#include "seglog/batch.h"
#include "seglog/log.h"

static void make_batch(sl_buf *out, int64_t base, int n, int64_t ts, int value_size) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  o.base_offset = base;
  o.partition_leader_epoch = 1;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  uint8_t val[512];
  for (int i = 0; i < n; i++) {
    memset(val, 'a' + (int)((base + i) % 26), sizeof(val));
    assert_int_equal(sl_batch_builder_add(b, ts + i, "k", 1, val, value_size, NULL, 0),
                     SL_OK);
  }
  assert_int_equal(sl_batch_builder_finish(b, out), SL_OK);
  sl_batch_builder_free(b);
}

static char *seg_file(const char *dir, int64_t base, const char *suffix) {
  char name[64];
  snprintf(name, sizeof(name), "%020lld%s", (long long)base, suffix);
  return tu_path(dir, name);
}

static void cfg_small(sl_log_config *cfg) {
  sl_log_config_init(cfg);
  cfg->index_interval_bytes = 150;
  cfg->segment_index_bytes = 4096;
  cfg->file_delete_delay_ms = 0;
}

static sl_log *open_log(const char *dir, const sl_log_config *cfg, bool clean,
                        int64_t recovery_point) {
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.clean_shutdown = clean;
  o.recovery_point = recovery_point;
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

/* Appends `n` batches of 1..3 records with varying sizes; returns the LEO. */
static int64_t fill(sl_log *log, int n, int64_t ts0) {
  for (int i = 0; i < n; i++) {
    sl_buf b = SL_BUF_INIT;
    make_batch(&b, 0, 1 + i % 3, ts0 + i * 7, 20 + (i * 13) % 60);
    sl_diag d;
    sl_diag_clear(&d);
    int rc = sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1, 1, NULL, &d);
    if (rc) {
      char buf[1024];
      fprintf(stderr, "append: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
    }
    assert_int_equal(rc, SL_OK);
    sl_buf_release(&b);
  }
  return sl_log_end_offset(log);
}

static int count_cb(void *ctx, const sl_verify_problem *p) {
  (void)ctx;
  fprintf(stderr, "verify: %s @%lld: %s\n", p->file, (long long)p->position, p->message);
  return 0;
}

static int64_t verify_problems(const char *dir) {
  int64_t n = -1;
  assert_int_equal(sl_log_verify(dir, count_cb, NULL, &n, NULL), SL_OK);
  return n;
}

/* Scenario 4: a segment cut at every byte of its last batch. */
static void test_cut_at_every_byte(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  char *ref_dir = tu_path(root, "ref-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  /* The reference: the same batches without the last one. */
  sl_log *log = open_log(ref_dir, &cfg, false, 0);
  int64_t ref_leo = fill(log, 11, 1000);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  log = open_log(dir, &cfg, false, 0);
  fill(log, 11, 1000);
  int64_t start_of_last = sl_log_size_bytes(log);
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, 2, 5000, 40);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1, 1, NULL, NULL),
                   SL_OK);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *lp = seg_file(dir, 0, ".log");
  char *ip = seg_file(dir, 0, ".index");
  char *tp = seg_file(dir, 0, ".timeindex");
  char *rip = seg_file(ref_dir, 0, ".index");
  char *rtp = seg_file(ref_dir, 0, ".timeindex");
  size_t full_len, ilen, tlen, rilen, rtlen;
  uint8_t *full = tu_read_file(lp, &full_len);
  uint8_t *idx = tu_read_file(ip, &ilen);
  uint8_t *tidx = tu_read_file(tp, &tlen);
  uint8_t *ridx = tu_read_file(rip, &rilen);
  uint8_t *rtidx = tu_read_file(rtp, &rtlen);
  assert_int_equal((int64_t)full_len, start_of_last + (int64_t)b.len);
  for (size_t cut = (size_t)start_of_last; cut < full_len; cut++) {
    /* The state a crash leaves: a torn .log, the indexes of before. */
    assert_int_equal(tu_write_file(lp, full, cut), 0);
    assert_int_equal(tu_write_file(ip, idx, ilen), 0);
    assert_int_equal(tu_write_file(tp, tidx, tlen), 0);
    log = open_log(dir, &cfg, false, 0);
    assert_int_equal(sl_log_end_offset(log), ref_leo);
    sl_log_load_report r;
    sl_log_load_report_get(log, &r);
    assert_int_equal(r.bytes_truncated, (int64_t)cut - start_of_last);
    if (cut > (size_t)start_of_last)
      assert_int_equal(r.first_bad_position, start_of_last);
    assert_int_equal(sl_log_size_bytes(log), start_of_last);
    assert_int_equal(sl_log_close(log, NULL), SL_OK);
    /* The indexes agree with the reference built without the last batch. */
    size_t n1, n2;
    uint8_t *a = tu_read_file(ip, &n1);
    uint8_t *c = tu_read_file(tp, &n2);
    assert_int_equal(n1, rilen);
    assert_memory_equal(a, ridx, n1);
    assert_int_equal(n2, rtlen);
    assert_memory_equal(c, rtidx, n2);
    free(a);
    free(c);
    assert_int_equal(tu_file_size(lp), start_of_last);
  }
  assert_int_equal(verify_problems(dir), 0);
  free(full);
  free(idx);
  free(tidx);
  free(ridx);
  free(rtidx);
  free(lp);
  free(ip);
  free(tp);
  free(rip);
  free(rtp);
  sl_buf_release(&b);
  free(ref_dir);
  free(dir);
  tu_rmtree_free(root);
}

/* Scenario 4: 37 random bytes after the last batch. */
static void test_garbage_tail(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false, 0);
  int64_t leo = fill(log, 20, 1000);
  int64_t size = sl_log_size_bytes(log);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *lp = seg_file(dir, 0, ".log");
  uint8_t junk[37];
  tu_fill_random(junk, sizeof(junk), 37);
  int fd = open(lp, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
  close(fd);
  int64_t problems = verify_problems(dir);
  assert_true(problems >= 1);
  log = open_log(dir, &cfg, false, 0);
  sl_log_load_report r;
  sl_log_load_report_get(log, &r);
  assert_int_equal(r.bytes_truncated, 37);
  assert_int_equal(r.first_bad_position, size);
  assert_int_equal(sl_log_end_offset(log), leo);
  /* Appends continue right after the last good batch. */
  assert_int_equal(fill(log, 1, 9000), leo + 1);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(verify_problems(dir), 0);
  free(lp);
  free(dir);
  tu_rmtree_free(root);
}

typedef struct crc_report {
  int n;
  sl_verify_kind kind;
  char file[512];
  int64_t position;
  uint32_t stored, computed;
} crc_report;

static int first_cb(void *ctx, const sl_verify_problem *p) {
  crc_report *r = ctx;
  if (r->n++ == 0) {
    r->kind = p->kind;
    snprintf(r->file, sizeof(r->file), "%s", p->file);
    r->position = p->position;
    r->stored = p->stored_crc;
    r->computed = p->computed_crc;
  }
  return 0;
}

/* Scenario 5: a bit flip in a middle segment. */
static void test_crc_error_in_middle_segment(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.segment_bytes = 1500;
  sl_log *log = open_log(dir, &cfg, false, 0);
  fill(log, 60, 1000);
  sl_log_segment_info segs[64];
  size_t n = sl_log_segments(log, segs, 64);
  assert_true(n >= 4);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /* Corrupt the third batch of segment 1. */
  int64_t base1 = segs[1].base_offset;
  char *lp = seg_file(dir, base1, ".log");
  size_t len;
  uint8_t *data = tu_read_file(lp, &len);
  int64_t pos = 0, bad_offset = -1;
  for (int i = 0; i < 2; i++)
    pos += 12 + (int32_t)sl_load_be32(data + pos + 8);
  bad_offset = (int64_t)sl_load_be64(data + pos);
  int64_t bsize = 12 + (int32_t)sl_load_be32(data + pos + 8);
  uint32_t stored = sl_load_be32(data + pos + 17);
  data[pos + bsize - 3] ^= 0x40;
  uint32_t computed = sl_batch_crc_compute(data + pos, (size_t)bsize);
  assert_int_equal(tu_write_file(lp, data, len), 0);
  crc_report r;
  memset(&r, 0, sizeof(r));
  int64_t problems;
  assert_int_equal(sl_log_verify(dir, first_cb, &r, &problems, NULL), SL_OK);
  assert_int_equal(problems, 1);
  assert_int_equal(r.kind, SL_VERIFY_CRC);
  assert_string_equal(r.file, lp);
  assert_int_equal(r.position, pos);
  assert_int_equal(r.stored, stored);
  assert_int_equal(r.computed, computed);
  /* Nothing was modified by verify. */
  size_t len2;
  uint8_t *again = tu_read_file(lp, &len2);
  assert_int_equal(len2, len);
  assert_memory_equal(again, data, len);
  free(again);
  /* Recovery from 0 truncates there and deletes the later segments. */
  log = open_log(dir, &cfg, false, 0);
  sl_log_load_report lr;
  sl_log_load_report_get(log, &lr);
  assert_int_equal(lr.first_bad_position, pos);
  assert_string_equal(lr.first_bad_file, lp);
  assert_int_equal(lr.segments_deleted, (int32_t)n - 2);
  assert_int_equal(sl_log_end_offset(log), bad_offset);
  assert_int_equal(sl_log_segments(log, segs, 64), 2);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *later = seg_file(dir, segs[1].base_offset + 1000, ".log");
  assert_int_equal(verify_problems(dir), 0);
  free(later);
  free(data);
  free(lp);
  free(dir);
  tu_rmtree_free(root);
}

/* Scenario 6: lost indexes are rebuilt byte for byte. */
static void test_missing_indexes_rebuilt(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.segment_bytes = 2000;
  sl_log *log = open_log(dir, &cfg, false, 0);
  fill(log, 50, 1000);
  sl_log_segment_info segs[64];
  size_t n = sl_log_segments(log, segs, 64);
  assert_true(n >= 3);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  for (int round = 0; round < 2; round++) {
    uint8_t *saved[64][2];
    size_t saved_len[64][2];
    for (size_t i = 0; i < n; i++) {
      char *ip = seg_file(dir, segs[i].base_offset, ".index");
      char *tp = seg_file(dir, segs[i].base_offset, ".timeindex");
      saved[i][0] = tu_read_file(ip, &saved_len[i][0]);
      saved[i][1] = tu_read_file(tp, &saved_len[i][1]);
      assert_non_null(saved[i][0]);
      unlink(ip);
      unlink(tp);
      free(ip);
      free(tp);
    }
    /* Round 0: after a clean shutdown (a missing .index forces recovery);
     * round 1: unclean. */
    log = open_log(dir, &cfg, round == 0, round == 0 ? 0 : 1000000);
    sl_log_load_report r;
    sl_log_load_report_get(log, &r);
    assert_int_equal(r.segments_recovered, (int32_t)n);
    assert_int_equal(sl_log_close(log, NULL), SL_OK);
    for (size_t i = 0; i < n; i++) {
      char *ip = seg_file(dir, segs[i].base_offset, ".index");
      char *tp = seg_file(dir, segs[i].base_offset, ".timeindex");
      size_t l1, l2;
      uint8_t *a = tu_read_file(ip, &l1);
      uint8_t *b = tu_read_file(tp, &l2);
      assert_int_equal(l1, saved_len[i][0]);
      assert_memory_equal(a, saved[i][0], l1);
      assert_int_equal(l2, saved_len[i][1]);
      assert_memory_equal(b, saved[i][1], l2);
      free(a);
      free(b);
      free(saved[i][0]);
      free(saved[i][1]);
      free(ip);
      free(tp);
    }
  }
  assert_int_equal(verify_problems(dir), 0);
  free(dir);
  tu_rmtree_free(root);
}

/* LogLoader step 1: *.deleted, *.cleaned, *.swap and orphan indexes. */
static void test_temp_files_and_swaps(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.segment_bytes = 1500;
  sl_log *log = open_log(dir, &cfg, false, 0);
  fill(log, 40, 1000);
  sl_log_segment_info segs[64];
  size_t n = sl_log_segments(log, segs, 64);
  assert_true(n >= 3);
  int64_t leo = sl_log_end_offset(log);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  /* A swap replacing segment 0 (a copy of it, as a cleaner would write). */
  char *l0 = seg_file(dir, 0, ".log");
  char *swap = seg_file(dir, 0, ".log.swap");
  size_t len;
  uint8_t *d0 = tu_read_file(l0, &len);
  assert_int_equal(tu_write_file(swap, d0, len), 0);
  /* Junk the loader must remove. */
  char *del = seg_file(dir, 5, ".log.deleted");
  char *cleaned = seg_file(dir, segs[1].base_offset, ".log.cleaned");
  char *bad_swap = seg_file(dir, segs[2].base_offset, ".log.swap");
  char *orphan = seg_file(dir, 999999, ".index");
  char *cp_del = tu_path(dir, "leader-epoch-checkpoint.checkpoint.deleted");
  assert_int_equal(tu_write_file(del, "x", 1), 0);
  assert_int_equal(tu_write_file(cleaned, "x", 1), 0);
  assert_int_equal(tu_write_file(bad_swap, "x", 1), 0);
  assert_int_equal(tu_write_file(orphan, "x", 1), 0);
  assert_int_equal(tu_write_file(cp_del, "x", 1), 0);
  log = open_log(dir, &cfg, true, 0);
  sl_log_load_report r;
  sl_log_load_report_get(log, &r);
  assert_int_equal(r.swaps_completed, 1);
  assert_int_equal(tu_file_size(swap), -1);
  assert_int_equal(tu_file_size(l0), (long long)len);
  assert_int_equal(tu_file_size(del), -1);
  assert_int_equal(tu_file_size(cleaned), -1);
  assert_int_equal(tu_file_size(bad_swap), -1);
  assert_int_equal(tu_file_size(orphan), -1);
  assert_int_equal(tu_file_size(cp_del), 1);
  /* Segment 0's index was replaced with the swap: rebuilt by recovery. */
  assert_int_equal(sl_log_end_offset(log), leo);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(verify_problems(dir), 0);
  free(d0);
  free(l0);
  free(swap);
  free(del);
  free(cleaned);
  free(bad_swap);
  free(orphan);
  free(cp_del);
  free(dir);
  tu_rmtree_free(root);
}

/* Scenario 7: ENOSPC during append, also after a partial (short) write. */
static void test_enospc_during_append(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.index_interval_bytes = 0; /* an index entry for every batch but the first */
  sl_log *log = open_log(dir, &cfg, false, 0);
  int64_t leo = fill(log, 5, 1000);
  int64_t size = sl_log_size_bytes(log);
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, 3, 2000, 100);
  for (long when = 0; when < 3; when++) {
    /* when 0: the first write(2) fails; 1: after a 10-byte partial write;
     * 2: the data is written and the index entries' write fails (the entries
     * are kept in memory until SL__INDEX_PENDING_MAX are pending: fill the
     * buffer first so that this append's entry writes them out). */
    if (when == 2) {
      sl__index *oi = &log->segs[log->nsegs - 1]->oindex;
      for (int i = 0; oi->npending < SL__INDEX_PENDING_MAX; i++) {
        assert_true(i < 2 * SL__INDEX_PENDING_MAX);
        fill(log, 1, 1000 + i);
        oi = &log->segs[log->nsegs - 1]->oindex;
      }
      leo = sl_log_end_offset(log);
      size = sl_log_size_bytes(log);
    }
    sl__fio_faults f;
    sl__fio_faults_init(&f);
    f.writes_until_fail = when == 2 ? 1 : when;
    f.write_errno = ENOSPC;
    if (when == 1)
      f.short_write_max = 10;
    sl__fio_set_faults(&f);
    sl_diag d;
    sl_diag_clear(&d);
    assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1, 1, NULL, &d),
                     SL_ENOSPC);
    sl__fio_set_faults(NULL);
    assert_false(sl_log_failed(log));
    assert_int_equal(sl_log_end_offset(log), leo);
    assert_int_equal(sl_log_size_bytes(log), size);
    char *lp = seg_file(dir, 0, ".log");
    assert_int_equal(tu_file_size(lp), size);
    free(lp);
  }
  /* Nothing partial after a reopen either, and appends work again. */
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  log = open_log(dir, &cfg, false, 0);
  assert_int_equal(sl_log_end_offset(log), leo);
  sl_log_load_report r;
  sl_log_load_report_get(log, &r);
  assert_int_equal(r.bytes_truncated, 0);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1, 1, NULL, NULL),
                   SL_OK);
  assert_int_equal(sl_log_end_offset(log), leo + 3);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(verify_problems(dir), 0);
  sl_buf_release(&b);
  free(dir);
  tu_rmtree_free(root);
}

/* Scenario 9: a failed fsync latches the log; fsync is never retried. */
static void test_fsync_failure_latches(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false, 0);
  int64_t leo = fill(log, 5, 1000);
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 0;
  f.fsync_errno = EIO;
  sl__fio_set_faults(&f);
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_log_flush(log, -1, &d), SL_EFAILED);
  assert_non_null(strstr(d.msg, "fsync"));
  sl__fio_set_faults(NULL);
  assert_true(sl_log_failed(log));
  assert_int_equal(sl_log_recovery_point(log), 0);
  /* fsync would succeed now, but the log does not retry: still failed. */
  assert_int_equal(sl_log_flush(log, -1, NULL), SL_EFAILED);
  assert_int_equal(sl_log_recovery_point(log), 0);
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 0, 1, 1, 1);
  assert_int_equal(sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1, 1, NULL, NULL),
                   SL_EFAILED);
  assert_int_equal(sl_log_roll(log, 0, NULL), SL_EFAILED);
  sl_buf_release(&b);
  /* Reads keep working. */
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_log_read_copy(log, 0, 1 << 20, -1, &out, NULL, NULL), SL_OK);
  assert_true(out.len > 0);
  sl_buf_release(&out);
  assert_int_equal(sl_log_end_offset(log), leo);
  /* Close reports the unclean state. */
  assert_int_equal(sl_log_close(log, NULL), SL_EFAILED);
  free(dir);
  tu_rmtree_free(root);
}

/* A reader process follows the writer and never sees a partial batch, even
 * with the writer's data arriving a few bytes per write(2). */
static void test_reader_process_never_sees_partial_batch(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  char *done = tu_path(root, "done");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.segment_bytes = 4000;
  const int total_batches = 300;
  sl_log *log = open_log(dir, &cfg, false, 0);
  fill(log, 1, 1);
  int64_t target = 0;
  for (int i = 0; i < total_batches; i++)
    target += 1 + i % 3;
  target += 1;
  pid_t pid = fork();
  if (pid == 0) {
    sl_log *r = NULL;
    int rc = sl_log_open(dir, &cfg, SL_LOG_READONLY, NULL, &r, NULL);
    if (rc)
      _exit(2);
    int64_t next = 0;
    bool writer_done = false;
    sl_buf buf = SL_BUF_INIT;
    while (next < target) {
      if (sl_log_refresh(r, NULL) != SL_OK)
        _exit(3);
      sl_buf_reset(&buf);
      int64_t nn;
      rc = sl_log_read_copy(r, next, 1 << 16, -1, &buf, &nn, NULL);
      if (rc)
        _exit(4);
      size_t p = 0;
      while (p < buf.len) {
        int64_t base;
        int32_t size;
        if (sl_batch_peek(buf.data + p, buf.len - p, &base, &size, NULL) != SL_OK ||
            (size_t)size > buf.len - p)
          _exit(5);
        if (sl_batch_validate(buf.data + p, (size_t)size, NULL) != SL_OK)
          _exit(6);
        if (base != next)
          _exit(7);
        sl_batch_header h;
        sl_batch_header_decode(buf.data + p, (size_t)size, &h, NULL);
        next = sl_batch_last_offset(&h) + 1;
        p += (size_t)size;
      }
      if (buf.len == 0) {
        if (writer_done)
          break;
        writer_done = tu_file_size(done) >= 0;
      }
    }
    sl_buf_release(&buf);
    sl_log_close(r, NULL);
    _exit(next == target ? 0 : 8);
  }
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.short_write_max = 7;
  sl__fio_set_faults(&f);
  fill(log, total_batches, 1000);
  sl__fio_set_faults(NULL);
  assert_int_equal(sl_log_end_offset(log), target);
  assert_int_equal(tu_write_file(done, "1", 1), 0);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(done);
  free(dir);
  tu_rmtree_free(root);
}

/* Even with the clean-shutdown marker, a torn active tail is cut before
 * appending (Kafka would trust it). */
static void test_clean_open_cuts_torn_tail(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false, 0);
  int64_t leo = fill(log, 5, 1000);
  int64_t size = sl_log_size_bytes(log);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *lp = seg_file(dir, 0, ".log");
  size_t len;
  uint8_t *data = tu_read_file(lp, &len);
  /* Append the first 30 bytes of a copy of the first batch. */
  uint8_t *torn = malloc(len + 30);
  memcpy(torn, data, len);
  memcpy(torn + len, data, 30);
  assert_int_equal(tu_write_file(lp, torn, len + 30), 0);
  log = open_log(dir, &cfg, true, 0);
  sl_log_load_report r;
  sl_log_load_report_get(log, &r);
  assert_int_equal(r.segments_recovered, 0);
  assert_int_equal(r.bytes_truncated, 30);
  assert_int_equal(r.first_bad_position, size);
  assert_int_equal(fill(log, 1, 5000), leo + 1);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(verify_problems(dir), 0);
  free(torn);
  free(data);
  free(lp);
  free(dir);
  tu_rmtree_free(root);
}

/* flush.messages moves the recovery point; a log start checkpoint above the
 * LEO restarts the log there (Kafka's load step 4). */
static void test_flush_messages_and_start_checkpoint(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.flush_messages = 4;
  sl_log *log = open_log(dir, &cfg, false, 0);
  fill(log, 1, 1000); /* 1 record */
  assert_int_equal(sl_log_recovery_point(log), 0);
  fill(log, 2, 1000); /* 1 + (1 + 2) = 4 records: 4 unflushed */
  assert_int_equal(sl_log_recovery_point(log), 4);
  sl_log_close(log, NULL);
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.log_start_offset = 100;
  o.recovery_point = 4;
  assert_int_equal(sl_log_open(dir, &cfg, 0, &o, &log, NULL), SL_OK);
  assert_int_equal(sl_log_start_offset(log), 100);
  assert_int_equal(sl_log_end_offset(log), 100);
  sl_log_segment_info segs[4];
  assert_int_equal(sl_log_segments(log, segs, 4), 1);
  assert_int_equal(segs[0].base_offset, 100);
  assert_int_equal(fill(log, 1, 1000), 101);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *l0 = seg_file(dir, 0, ".log");
  assert_int_equal(tu_file_size(l0), -1);
  free(l0);
  free(dir);
  tu_rmtree_free(root);
}

/* A read-only reader follows retention (segments gone), truncation (a file
 * that shrank) and new segments. */
static void test_reader_follows_retention_and_truncation(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.segment_bytes = 1000;
  cfg.retention_bytes = 2500;
  cfg.retention_ms = -1;
  sl_log *w = open_log(dir, &cfg, false, 0);
  int64_t leo = fill(w, 30, 1000);
  sl_log *r;
  assert_int_equal(sl_log_open(dir, &cfg, SL_LOG_READONLY, NULL, &r, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(r), leo);
  assert_int_equal(sl_log_start_offset(r), 0);
  /* Writer: retention by size (HW at the LEO). */
  sl_log_set_high_watermark(w, leo);
  sl_retention_result res;
  assert_int_equal(sl_log_retain(w, 0, &res, NULL), SL_OK);
  assert_true(res.segments_deleted > 0);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  assert_int_equal(sl_log_start_offset(r), sl_log_start_offset(w));
  sl_log_slice sl;
  assert_int_equal(sl_log_read(r, 0, 100, -1, &sl, NULL), SL_EOFFSET_OUT_OF_RANGE);
  sl_log_slice_release(&sl);
  /* Writer: truncation inside the active segment, then new data. */
  int64_t cut = leo - 2;
  assert_int_equal(sl_log_truncate_to(w, cut, NULL), SL_OK);
  int64_t wleo = sl_log_end_offset(w);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  assert_true(sl_log_end_offset(r) <= wleo);
  leo = fill(w, 10, 9000);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(r), leo);
  /* Truncated and rewritten past the old end before the reader looks. */
  assert_int_equal(sl_log_truncate_to(w, leo - 5, NULL), SL_OK);
  leo = fill(w, 12, 7000);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(r), leo);
  /* The reader's bytes equal the writer's. */
  int64_t start = sl_log_start_offset(w);
  sl_buf a = SL_BUF_INIT, b = SL_BUF_INIT;
  for (int64_t off = start; off < leo;) {
    int64_t n1, n2;
    sl_buf_reset(&a);
    sl_buf_reset(&b);
    assert_int_equal(sl_log_read_copy(w, off, 1 << 20, -1, &a, &n1, NULL), SL_OK);
    assert_int_equal(sl_log_read_copy(r, off, 1 << 20, -1, &b, &n2, NULL), SL_OK);
    assert_int_equal(n1, n2);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_true(n1 > off);
    off = n1;
  }
  sl_buf_release(&a);
  sl_buf_release(&b);
  /* A reader refuses writes. */
  sl_buf x = SL_BUF_INIT;
  make_batch(&x, 0, 1, 1, 1);
  assert_int_equal(sl_log_append(r, x.data, x.len, SL_APPEND_LEADER, 0, 1, NULL, NULL),
                   SL_EREADONLY);
  sl_buf_release(&x);
  assert_int_equal(sl_log_close(r, NULL), SL_OK);
  assert_int_equal(sl_log_close(w, NULL), SL_OK);
  free(dir);
  tu_rmtree_free(root);
}

typedef struct kinds {
  int n;
  int index_entry;
  int64_t index_pos;
  int time_index;
} kinds;

static int kinds_cb(void *ctx, const sl_verify_problem *p) {
  kinds *k = ctx;
  k->n++;
  if (p->kind == SL_VERIFY_INDEX_ENTRY && k->index_entry++ == 0)
    k->index_pos = p->position;
  if (p->kind == SL_VERIFY_TIME_INDEX)
    k->time_index++;
  return 0;
}

/* A wrong .index entry: verify names it; reads after a clean open (no
 * recovery) still find every offset. */
static void test_bad_index_entry(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false, 0);
  int64_t leo = fill(log, 40, 1000);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *ip = seg_file(dir, 0, ".index");
  char *tp = seg_file(dir, 0, ".timeindex");
  size_t len, tlen;
  uint8_t *ix = tu_read_file(ip, &len);
  uint8_t *tx = tu_read_file(tp, &tlen);
  assert_true(len >= 24);
  /* Entry 2: position + 1 (not a batch start). */
  sl_store_be32(ix + 2 * 8 + 4, sl_load_be32(ix + 2 * 8 + 4) + 1);
  assert_int_equal(tu_write_file(ip, ix, len), 0);
  /* Time index entry 1: timestamp lowered below entry 0's. */
  assert_true(tlen >= 24);
  sl_store_be64(tx + 12, 1);
  assert_int_equal(tu_write_file(tp, tx, tlen), 0);
  kinds k;
  memset(&k, 0, sizeof(k));
  int64_t problems;
  assert_int_equal(sl_log_verify(dir, kinds_cb, &k, &problems, NULL), SL_OK);
  assert_int_equal(k.index_entry, 1);
  assert_int_equal(k.index_pos, 16);
  assert_true(k.time_index >= 1);
  log = open_log(dir, &cfg, true, 0);
  for (int64_t off = 0; off < leo; off++) {
    sl_log_slice sl;
    assert_int_equal(sl_log_read(log, off, 1, -1, &sl, NULL), SL_OK);
    assert_true(sl.first_offset <= off && off < sl.next_offset);
    sl_log_slice_release(&sl);
  }
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  free(ix);
  free(tx);
  free(ip);
  free(tp);
  free(dir);
  tu_rmtree_free(root);
}

/* A .txnindex that fails Kafka's sanity check forces recovery of its segment
 * even after a clean shutdown. */
static void test_bad_txnindex_forces_recovery(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false, 0);
  int64_t leo = fill(log, 5, 1000);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  char *xp = seg_file(dir, 0, ".txnindex");
  uint8_t junk[34];
  memset(junk, 0, sizeof(junk));
  junk[0] = 1; /* version 256 */
  assert_int_equal(tu_write_file(xp, junk, sizeof(junk)), 0);
  log = open_log(dir, &cfg, true, 0);
  sl_log_load_report r;
  sl_log_load_report_get(log, &r);
  assert_int_equal(r.segments_recovered, 1);
  assert_int_equal(sl_log_end_offset(log), leo);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(tu_file_size(xp), 0);
  assert_int_equal(verify_problems(dir), 0);
  free(xp);
  free(dir);
  tu_rmtree_free(root);
}

/* A crash at every write (fileio crash mode: the Nth write fails, short, and
 * everything after it too): after a restart every acknowledged append is
 * there, nothing partial is, and verify finds the directory clean. */
static void test_crash_at_every_write(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.segment_bytes = 700;
  for (long n = 0; n < 80; n++) {
    char name[32];
    snprintf(name, sizeof(name), "c-%ld", n);
    char *dir = tu_path(root, name);
    sl_log *log = open_log(dir, &cfg, false, 0);
    sl__fio_faults f;
    sl__fio_faults_init(&f);
    f.writes_until_fail = n;
    f.write_errno = EIO;
    f.crash = true;
    f.short_write_max = 40;
    sl__fio_set_faults(&f);
    int64_t acked = 0;
    for (int i = 0; i < 12; i++) {
      sl_buf b = SL_BUF_INIT;
      make_batch(&b, 0, 1 + i % 3, 1000 + i, 30);
      sl_append_info info;
      int rc =
          sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1 + i / 4, 1, &info, NULL);
      sl_buf_release(&b);
      if (rc != SL_OK)
        break;
      acked = info.last_offset + 1;
    }
    (void)sl_log_close(log, NULL);
    sl__fio_set_faults(NULL);
    log = open_log(dir, &cfg, false, 0);
    int64_t leo = sl_log_end_offset(log);
    assert_true(leo >= acked);
    assert_int_equal(sl_log_close(log, NULL), SL_OK);
    assert_int_equal(verify_problems(dir), 0);
    free(dir);
  }
  tu_rmtree_free(root);
}

/* Appends `n` one-record batches (timestamps 1000 + i); positions[i] gets each
 * batch's position in the segment. */
static void append_singles(sl_log *log, int n, int64_t *positions) {
  for (int i = 0; i < n; i++) {
    sl_buf b = SL_BUF_INIT;
    make_batch(&b, 0, 1, 1000 + i, 30);
    sl_append_info info;
    assert_int_equal(
        sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1, 1, &info, NULL), SL_OK);
    assert_int_equal(info.first_offset, sl_log_end_offset(log) - 1);
    positions[info.first_offset] = info.position;
    sl_buf_release(&b);
  }
}

/* The .index entries in the file (zero-tail rule), each checked byte for byte
 * against (offset k, position of batch k) for k = 1, 2, ...: one entry per
 * batch but the first (index.interval.bytes 0). */
static size_t check_index_file(const char *dir, const int64_t *positions) {
  char *ip = seg_file(dir, 0, ".index");
  size_t len = 0;
  uint8_t *ix = tu_read_file(ip, &len);
  assert_non_null(ix);
  size_t n = sl_offset_index_live_count(ix, len);
  for (size_t i = 0; i < n; i++) {
    uint8_t want[8];
    sl_store_be32(want, (uint32_t)(i + 1));
    sl_store_be32(want + 4, (uint32_t)positions[i + 1]);
    assert_memory_equal(ix + i * 8, want, 8);
  }
  free(ix);
  free(ip);
  return n;
}

/* Index entries are written SL__INDEX_PENDING_MAX at a time, and all of them
 * by a flush; a reader in another process (here: a read-only open, which reads
 * the files through its own descriptors) finds every batch meanwhile. */
static void test_deferred_index_entries(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.index_interval_bytes = 0;
  int64_t pos[128];
  sl_log *log = open_log(dir, &cfg, false, 0);
  const int n = SL__INDEX_PENDING_MAX + 6; /* n - 1 entries */
  append_singles(log, n, pos);
  /* the first 64 went out when the 65th was added; 5 are pending */
  assert_int_equal(check_index_file(dir, pos), SL__INDEX_PENDING_MAX);
  sl_log *rd = NULL;
  assert_int_equal(sl_log_open(dir, &cfg, SL_LOG_READONLY, NULL, &rd, NULL), SL_OK);
  for (int64_t off = 0; off < n; off++) {
    sl_buf out = SL_BUF_INIT;
    int64_t next = -1;
    assert_int_equal(sl_log_read_copy(rd, off, 1 << 20, -1, &out, &next, NULL), SL_OK);
    assert_true(out.len > 0);
    assert_int_equal((int64_t)sl_load_be64(out.data), off); /* its base offset */
    sl_buf_release(&out);
  }
  assert_int_equal(sl_log_flush(log, sl_log_end_offset(log), NULL), SL_OK);
  assert_int_equal(check_index_file(dir, pos), (size_t)(n - 1));
  /* the writer's own lookups see pending entries too */
  append_singles(log, 3, pos);
  for (int64_t off = 0; off < n + 3; off++) {
    sl_buf out = SL_BUF_INIT;
    assert_int_equal(sl_log_read_copy(log, off, 1 << 20, -1, &out, NULL, NULL), SL_OK);
    assert_int_equal((int64_t)sl_load_be64(out.data), off);
    sl_buf_release(&out);
  }
  assert_int_equal(sl_log_close(rd, NULL), SL_OK);
  /* close writes the pending ones and trims the file to its entries */
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(check_index_file(dir, pos), (size_t)(n + 2));
  char *ip = seg_file(dir, 0, ".index");
  assert_int_equal(tu_file_size(ip), (n + 2) * 8);
  free(ip);
  assert_int_equal(verify_problems(dir), 0);
  free(dir);
  tu_rmtree_free(root);
}

/* A crash (every write fails from then on) loses the pending entries; the
 * unclean open recovers the segment and rebuilds all of them. */
static void test_crash_loses_pending_index_entries(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  cfg.index_interval_bytes = 0;
  int64_t pos[128];
  sl_log *log = open_log(dir, &cfg, false, 0);
  const int n = SL__INDEX_PENDING_MAX + 10;
  append_singles(log, n, pos);
  assert_int_equal(check_index_file(dir, pos), SL__INDEX_PENDING_MAX);
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.writes_until_fail = 0;
  f.write_errno = EIO;
  f.crash = true;
  sl__fio_set_faults(&f);
  (void)sl_log_close(log, NULL);
  sl__fio_set_faults(NULL);
  assert_int_equal(check_index_file(dir, pos), SL__INDEX_PENDING_MAX);
  log = open_log(dir, &cfg, false, 0);
  assert_int_equal(sl_log_end_offset(log), n);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(check_index_file(dir, pos), (size_t)(n - 1));
  assert_int_equal(verify_problems(dir), 0);
  free(dir);
  tu_rmtree_free(root);
}

static void append_raw(const char *path, const void *p, size_t n) {
  int fd = open(path, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, p, n), (ssize_t)n);
  close(fd);
}

/* sl_log_verify on a dir a writer has open: an incomplete batch or zeros at the
 * end of the active segment are its in-progress tail, not problems; the same
 * bytes once the writer is gone are a truncated batch. */
static void test_verify_live_tail(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_log_config cfg;
  cfg_small(&cfg);
  int64_t pos[16];
  sl_log *log = open_log(dir, &cfg, false, 0);
  append_singles(log, 5, pos);
  char *lp = seg_file(dir, 0, ".log");
  sl_buf b = SL_BUF_INIT;
  make_batch(&b, 5, 2, 2000, 40);
  append_raw(lp, b.data, 30); /* a header being written */
  assert_int_equal(verify_problems(dir), 0);
  append_raw(lp, b.data + 30, 40); /* the header complete, the records not */
  assert_int_equal(verify_problems(dir), 0);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(verify_problems(dir), 1);
  /* a preallocated zero tail while live */
  log = open_log(dir, &cfg, false, 0); /* the unclean open cuts the torn batch */
  assert_int_equal(verify_problems(dir), 0);
  uint8_t zeros[100] = {0};
  append_raw(lp, zeros, sizeof zeros);
  assert_int_equal(verify_problems(dir), 0);
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
  assert_int_equal(verify_problems(dir), 1);
  sl_buf_release(&b);
  free(lp);
  free(dir);
  tu_rmtree_free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cut_at_every_byte),
      cmocka_unit_test(test_garbage_tail),
      cmocka_unit_test(test_crc_error_in_middle_segment),
      cmocka_unit_test(test_missing_indexes_rebuilt),
      cmocka_unit_test(test_temp_files_and_swaps),
      cmocka_unit_test(test_enospc_during_append),
      cmocka_unit_test(test_fsync_failure_latches),
      cmocka_unit_test(test_reader_process_never_sees_partial_batch),
      cmocka_unit_test(test_clean_open_cuts_torn_tail),
      cmocka_unit_test(test_bad_index_entry),
      cmocka_unit_test(test_bad_txnindex_forces_recovery),
      cmocka_unit_test(test_crash_at_every_write),
      cmocka_unit_test(test_reader_follows_retention_and_truncation),
      cmocka_unit_test(test_flush_messages_and_start_checkpoint),
      cmocka_unit_test(test_deferred_index_entries),
      cmocka_unit_test(test_crash_loses_pending_index_entries),
      cmocka_unit_test(test_verify_live_tail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
