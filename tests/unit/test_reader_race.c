/*
 * test_reader_race.c - a read-only reader in one process against a writer in
 * another that keeps opening (recovery: the indexes are reset and rebuilt),
 * appending to (rolls: the old active indexes trimmed, new ones preallocated)
 * and closing (trim) the same log.  Indexes are only hints for a reader
 * (docs/FORMAT.md, "Indexes"): every refresh and read must succeed and return
 * exactly the records asked for, whatever state the index files are in.
 * Record values encode their own offset, so any wrong position shows.
 * Bounded by time and iterations; nothing here asserts on timing.  A second,
 * deterministic test replays the index-file changes one at a time against a
 * read-only sl__index.
 */
#include "testutil.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "index_int.h"
#include "seglog/batch.h"
#include "seglog/index.h"
#include "seglog/log.h"

#define RECS_PER_BATCH 5
#define VALUE_LEN 24

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void config(sl_log_config *cfg) {
  sl_log_config_init(cfg);
  cfg->segment_bytes = 16384;      /* a roll every few writer sessions */
  cfg->segment_index_bytes = 4096; /* 512 offset entries */
  cfg->index_interval_bytes = 100; /* an index entry for nearly every batch */
}

/* One batch of RECS_PER_BATCH records at base; each value is the record's
 * offset in decimal, zero padded. */
static int build_batch(sl_buf *out, int64_t base) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  o.base_offset = base;
  if (sl_batch_builder_new(&o, &b) != SL_OK)
    return -1;
  int rc = 0;
  for (int i = 0; i < RECS_PER_BATCH && rc == 0; i++) {
    char v[VALUE_LEN + 1];
    snprintf(v, sizeof(v), "%0*" PRId64, VALUE_LEN, base + i);
    rc = sl_batch_builder_add(b, 1000 + base + i, NULL, -1, v, VALUE_LEN, NULL, 0);
  }
  if (rc == 0)
    rc = sl_batch_builder_finish(b, out);
  sl_batch_builder_free(b);
  return rc;
}

/* Writer session: open (unless `clean`, as after a crash: every segment is
 * recovered, its indexes reset and rebuilt), append, close. */
static int writer_session(const char *dir, int batches, bool clean) {
  sl_log_config cfg;
  config(&cfg);
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.clean_shutdown = clean;
  sl_log *log = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_open(dir, &cfg, SL_LOG_CREATE, &o, &log, &d);
  for (int i = 0; i < batches && rc == SL_OK; i++) {
    sl_buf b = SL_BUF_INIT;
    rc = build_batch(&b, sl_log_end_offset(log));
    if (rc == SL_OK)
      rc = sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 1, 0, NULL, &d);
    sl_buf_release(&b);
  }
  int rc2 = sl_log_close(log, rc ? NULL : &d);
  if (rc == SL_OK)
    rc = rc2;
  if (rc) {
    char buf[1024];
    fprintf(stderr, "writer: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
  }
  return rc;
}

/* Checks the batches in data[0, len): whole, CRC-valid, the first holding
 * `offset`, consecutive offsets, every value naming its offset, nothing at or
 * past leo.  Returns the number of records or -1. */
static int64_t check_batches(sl_batch_reader *r, const uint8_t *data, size_t len,
                             int64_t offset, int64_t leo) {
  size_t at = 0;
  int64_t expect = -1, n = 0;
  while (at < len) {
    sl_batch_header h;
    sl_diag d;
    sl_diag_clear(&d);
    if (len - at < 12)
      return -1;
    uint32_t blen = ((uint32_t)data[at + 8] << 24) | ((uint32_t)data[at + 9] << 16) |
                    ((uint32_t)data[at + 10] << 8) | data[at + 11];
    size_t size = 12 + (size_t)blen;
    if (size > len - at || sl_batch_validate(data + at, size, &d) != SL_OK ||
        sl_batch_reader_open(r, data + at, size, &h, &d) != SL_OK) {
      fprintf(stderr, "reader: bad batch at %zu of the read of %" PRId64 "\n", at,
              offset);
      return -1;
    }
    sl_record rec;
    int rc;
    while ((rc = sl_batch_reader_next(r, &rec, &d)) == 1) {
      char v[VALUE_LEN + 1];
      snprintf(v, sizeof(v), "%0*" PRId64, VALUE_LEN, rec.offset);
      if (expect < 0 && (rec.offset > offset || rec.offset + RECS_PER_BATCH <= offset)) {
        fprintf(stderr, "reader: read of %" PRId64 " starts at %" PRId64 "\n", offset,
                rec.offset);
        return -1;
      }
      if ((expect >= 0 && rec.offset != expect) || rec.offset >= leo ||
          rec.value_len != VALUE_LEN || memcmp(rec.value, v, VALUE_LEN) != 0) {
        fprintf(stderr, "reader: record %" PRId64 " wrong (read of %" PRId64 ")\n",
                rec.offset, offset);
        return -1;
      }
      expect = rec.offset + 1;
      n++;
    }
    if (rc < 0)
      return -1;
    at += size;
  }
  return n;
}

static void test_reader_vs_writer_sessions(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "topic-0");
  assert_int_equal(writer_session(dir, 3, false), SL_OK);

  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* The writer: short sessions for a bounded time. */
    double end = now_s() + 2.5;
    int rc = SL_OK;
    for (int i = 0; i < 2000 && rc == SL_OK && now_s() < end; i++)
      rc = writer_session(dir, 1 + i % 4, i % 3 == 2);
    _exit(rc == SL_OK ? 0 : 1);
  }

  sl_log *log = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_log_open(dir, NULL, SL_LOG_READONLY, NULL, &log, &d), SL_OK);
  sl_batch_reader *r;
  assert_int_equal(sl_batch_reader_new(0, &r), SL_OK);
  uint64_t rng = 0x2545F4914F6CDD1DULL;
  int64_t reads = 0, records = 0;
  int status = 0;
  bool child_done = false, ok = true;
  char buf[1024];
  for (long iter = 0; ok && iter < 2000000; iter++) {
    if (!child_done && waitpid(pid, &status, WNOHANG) == pid)
      child_done = true;
    int rc = sl_log_refresh(log, &d);
    if (rc) {
      fprintf(stderr, "refresh: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
      ok = false;
      break;
    }
    int64_t start = sl_log_start_offset(log), leo = sl_log_end_offset(log);
    for (int k = 0; k < 8 && leo > start; k++) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      int64_t off = start + (int64_t)(rng % (uint64_t)(leo - start));
      sl_buf out = SL_BUF_INIT;
      int64_t next = -1;
      if ((k & 1) == 0) {
        rc = sl_log_read_copy(log, off, 1 + (int64_t)(rng >> 40) % 2048, -1, &out, &next,
                              &d);
      } else {
        /* The zero-copy slice, read from its descriptor. */
        sl_log_slice s;
        rc = sl_log_read(log, off, 1 + (int64_t)(rng >> 40) % 2048, -1, &s, &d);
        if (rc == SL_OK && s.length > 0) {
          uint8_t *p = sl_buf_reserve(&out, (size_t)s.length);
          assert_non_null(p);
          ssize_t got = pread(s.fd, p, (size_t)s.length, s.position);
          if (got != (ssize_t)s.length) {
            fprintf(stderr, "reader: slice pread %zd of %lld\n", got,
                    (long long)s.length);
            rc = -1;
          } else {
            out.len = (size_t)s.length;
          }
        }
        next = s.next_offset;
        sl_log_slice_release(&s);
      }
      if (rc) {
        fprintf(stderr, "read of %lld: %s\n", (long long)off,
                sl_diag_format(&d, buf, sizeof(buf)));
        ok = false;
      } else {
        int64_t n = check_batches(r, out.data, out.len, off, leo);
        if (n <= 0 || next <= off)
          ok = false;
        records += n;
        reads++;
      }
      sl_buf_release(&out);
      if (!ok)
        break;
    }
    if (child_done)
      break;
  }
  if (!child_done) {
    if (!ok)
      kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
  }
  assert_true(ok);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_true(reads > 0);

  /* Once the writer is gone, everything it wrote reads back in order. */
  assert_int_equal(sl_log_refresh(log, &d), SL_OK);
  int64_t leo = sl_log_end_offset(log);
  assert_true(leo >= 3 * RECS_PER_BATCH);
  for (int64_t off = 0; off < leo;) {
    sl_buf out = SL_BUF_INIT;
    int64_t next = -1;
    assert_int_equal(sl_log_read_copy(log, off, 1 << 20, -1, &out, &next, &d), SL_OK);
    int64_t n = check_batches(r, out.data, out.len, off, leo);
    assert_true(n > 0);
    assert_int_equal(next, off + n);
    off = next;
    sl_buf_release(&out);
  }
  fprintf(stderr, "reader: %lld reads, %lld records, LEO %lld\n", (long long)reads,
          (long long)records, (long long)leo);
  sl_batch_reader_free(r);
  sl_log_close(log, NULL);
  free(dir);
  tu_rmtree_free(root);
}

/* Writes a trimmed offset index of n entries (base+10i+9 at 100i+100). */
static void write_index(const char *path, int64_t base, int n) {
  sl__index w;
  (void)truncate(path, 0); /* rewritten in place, as a recovering writer does */
  assert_int_equal(sl__index_open(&w, SL__INDEX_OFFSET, path, base, 4096,
                                  SL__IDX_WRITABLE | SL__IDX_CREATE, NULL),
                   SL_OK);
  for (int i = 0; i < n; i++)
    assert_int_equal(sl__index_append_offset(&w, base + 10 * i + 9, 100 * i + 100, NULL),
                     SL_OK);
  assert_int_equal(sl__index_trim(&w, NULL), SL_OK);
  sl__index_close(&w);
}

/* The same races, one at a time: a read-only index whose file the writer
 * truncates, removes or rewrites under it answers lookups without errors
 * (no entry, or the entries as they are now), never reading a slot that is
 * no longer there. */
static void test_readonly_index_shrinks(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *path = tu_path(root, "00000000000000000100.index");
  int64_t k, v;
  write_index(path, 100, 8);

  for (unsigned flags = SL__IDX_LIVE; flags;
       flags = flags == SL__IDX_LIVE ? SL__IDX_LAZY : 0) {
    sl__index r;
    write_index(path, 100, 8);
    assert_int_equal(sl__index_open(&r, SL__INDEX_OFFSET, path, 100, 4096, flags, NULL),
                     SL_OK);
    assert_int_equal(r.entries, 8);
    assert_int_equal(sl__index_lookup(&r, 131, &k, &v, NULL), 1);
    assert_int_equal(k, 129);
    assert_int_equal(v, 300);
    /* Reset (a recovering writer): no entry, no error. */
    assert_int_equal(truncate(path, 0), 0);
    sl_diag d;
    sl_diag_clear(&d);
    assert_int_equal(sl__index_lookup(&r, 131, &k, &v, &d), 0);
    assert_int_equal(k, 100);
    assert_int_equal(v, 0);
    assert_int_equal(r.entries, 0);
    /* Rebuilt with fewer entries: the refresh sees them. */
    write_index(path, 100, 3);
    assert_int_equal(sl__index_refresh(&r, NULL), SL_OK);
    assert_int_equal(r.entries, 3);
    assert_int_equal(sl__index_lookup(&r, 125, &k, &v, NULL), 1);
    assert_int_equal(k, 119);
    assert_int_equal(v, 200);
    /* Shrunk to 2 entries without a refresh: the binary search reaches
     * entry 2, which is gone; the lookup recounts and answers from 2. */
    assert_int_equal(truncate(path, 16), 0);
    assert_int_equal(sl__index_lookup(&r, 119, &k, &v, NULL), 1);
    assert_int_equal(r.entries, 2);
    assert_int_equal(k, 119);
    assert_int_equal(v, 200);
    sl__index_close(&r);
  }

  /* Lazy (inactive) and removed before its first use: no entry. */
  sl__index r;
  write_index(path, 100, 8);
  assert_int_equal(
      sl__index_open(&r, SL__INDEX_OFFSET, path, 100, 4096, SL__IDX_LAZY, NULL), SL_OK);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(sl__index_lookup(&r, 131, &k, &v, NULL), 0);
  assert_int_equal(sl__index_refresh(&r, NULL), SL_OK);
  assert_int_equal(r.entries, 0);
  sl__index_close(&r);

  /* A preallocated, zero-padded file (an active writer's): the zero tail is
   * not counted. */
  sl__index w;
  assert_int_equal(sl__index_open(&w, SL__INDEX_OFFSET, path, 100, 4096,
                                  SL__IDX_WRITABLE | SL__IDX_CREATE | SL__IDX_PREALLOC,
                                  NULL),
                   SL_OK);
  assert_int_equal(sl__index_append_offset(&w, 109, 100, NULL), SL_OK);
  assert_int_equal(sl__index_write_pending(&w, NULL), SL_OK);
  assert_int_equal(tu_file_size(path), 4096);
  assert_int_equal(
      sl__index_open(&r, SL__INDEX_OFFSET, path, 100, 4096, SL__IDX_LIVE, NULL), SL_OK);
  assert_int_equal(r.entries, 1);
  assert_int_equal(sl__index_lookup(&r, 500, &k, &v, NULL), 1);
  assert_int_equal(k, 109);
  sl__index_close(&r);
  sl__index_close(&w);

  free(path);
  tu_rmtree_free(root);
}

/* Entry i of an index file (entry_size bytes each). */
static void file_entry(const uint8_t *f, size_t entry_size, size_t i, uint8_t *out) {
  memcpy(out, f + i * entry_size, entry_size);
}

/* A reader's index files rewritten in place (same lengths) with entries that
 * do not describe the log, as a reader can see them while a writer rebuilds
 * them: reads and timestamp lookups still give the right batches. */
static void test_reader_index_rewritten_in_place(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "topic-0");
  sl_log_config cfg;
  config(&cfg);
  cfg.index_interval_bytes = 1; /* an entry for every batch but the first */
  sl_log *w = NULL;
  assert_int_equal(sl_log_open(dir, &cfg, SL_LOG_CREATE, NULL, &w, NULL), SL_OK);
  for (int i = 0; i < 50; i++) {
    sl_buf b = SL_BUF_INIT;
    assert_int_equal(build_batch(&b, 5 * i), SL_OK);
    assert_int_equal(
        sl_log_append(w, b.data, b.len, SL_APPEND_FOLLOWER, 0, 0, NULL, NULL), SL_OK);
    sl_buf_release(&b);
  }
  assert_int_equal(sl_log_close(w, NULL), SL_OK);

  sl_log *log = NULL;
  assert_int_equal(sl_log_open(dir, NULL, SL_LOG_READONLY, NULL, &log, NULL), SL_OK);
  char *ipath = tu_path(dir, "00000000000000000000.index");
  char *tpath = tu_path(dir, "00000000000000000000.timeindex");
  size_t ilen, tlen;
  uint8_t *ix = tu_read_file(ipath, &ilen);
  uint8_t *tx = tu_read_file(tpath, &tlen);
  assert_int_equal(ilen, 49 * 8);
  assert_int_equal(tlen, 49 * 12);
  /* Offset index: every slot (9, position of batch 1): a search for 100 ends
   * on the last slot, which the reader has in memory as (249, position of
   * batch 245), past 100. */
  uint8_t e[12];
  file_entry(ix, 8, 0, e);
  for (size_t i = 0; i < ilen / 8; i++)
    memcpy(ix + i * 8, e, 8);
  assert_int_equal(tu_write_file(ipath, ix, ilen), 0);
  /* Time index: every slot but the last (1100, 240), which names batch 240
   * whose max timestamp is 1244. */
  sl_time_index_encode(e, 0, 1100, 240);
  for (size_t i = 0; i + 1 < tlen / 12; i++)
    memcpy(tx + i * 12, e, 12);
  assert_int_equal(tu_write_file(tpath, tx, tlen), 0);

  sl_batch_reader *r;
  assert_int_equal(sl_batch_reader_new(0, &r), SL_OK);
  for (int64_t off = 0; off < 250; off += 7) {
    sl_buf out = SL_BUF_INIT;
    int64_t next = -1;
    assert_int_equal(sl_log_read_copy(log, off, 1, -1, &out, &next, NULL), SL_OK);
    assert_int_equal(check_batches(r, out.data, out.len, off, 250), RECS_PER_BATCH);
    assert_int_equal(next, off - off % RECS_PER_BATCH + RECS_PER_BATCH);
    sl_buf_release(&out);
  }
  int64_t o, t;
  /* Search ends on a (1100, 240) slot: batch 240's max timestamp is not 1100. */
  assert_int_equal(sl_log_find_offset_by_time(log, 1150, &o, &t, NULL), SL_OK);
  assert_int_equal(o, 150);
  assert_int_equal(t, 1150);
  assert_int_equal(sl_log_find_offset_by_time(log, 1100, &o, &t, NULL), SL_OK);
  assert_int_equal(o, 100);
  assert_int_equal(sl_log_find_offset_by_time(log, 1003, &o, &t, NULL), SL_OK);
  assert_int_equal(o, 3);
  /* Every slot (1009, 9): a search for 1100 ends on the last slot, in memory
   * as (1249, 249), above the target. */
  sl_time_index_encode(e, 0, 1009, 9);
  for (size_t i = 0; i < tlen / 12; i++)
    memcpy(tx + i * 12, e, 12);
  assert_int_equal(tu_write_file(tpath, tx, tlen), 0);
  assert_int_equal(sl_log_find_offset_by_time(log, 1100, &o, &t, NULL), SL_OK);
  assert_int_equal(o, 100);
  assert_int_equal(t, 1100);
  sl_batch_reader_free(r);
  sl_log_close(log, NULL);
  free(ix);
  free(tx);
  free(ipath);
  free(tpath);
  free(dir);
  tu_rmtree_free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reader_index_rewritten_in_place),
      cmocka_unit_test(test_readonly_index_shrinks),
      cmocka_unit_test(test_reader_vs_writer_sessions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
