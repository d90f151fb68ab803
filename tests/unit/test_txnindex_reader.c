/*
 * test_txnindex_reader.c - sl_log_collect_aborted_txns on a read-only log
 * while a writer in another process resets, rebuilds, truncates, appends to
 * or removes the segment's .txnindex (docs/FORMAT.md, "Indexes", the
 * .txnindex part).  An aborted-transaction list is not a hint: the reader
 * must return every entry for the data it sees, or SL_EINTERRUPTED ("retry")
 * without calling the callback at all - never a partial list, never
 * SL_ETRUNCATED.  The writer's file changes are replayed one at a time by
 * rewriting the file between calls, so every case is deterministic.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seglog/batch.h"
#include "seglog/index.h"
#include "seglog/log.h"

#define ENTRY 34

typedef struct got {
  sl_aborted_txn t[8];
  size_t n;
} got;

static int collect_cb(void *ctx, const sl_aborted_txn *t) {
  got *g = ctx;
  if (g->n < 8)
    g->t[g->n] = *t;
  g->n++;
  return 0;
}

static sl_log *open_log(const char *dir, unsigned flags, bool clean) {
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  o.clean_shutdown = clean;
  sl_log *log = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_open(dir, NULL, flags, &o, &log, &d);
  if (rc) {
    char buf[1024];
    fprintf(stderr, "open: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
  }
  assert_int_equal(rc, SL_OK);
  return log;
}

static void append(sl_log *log, sl_buf *b, unsigned flags) {
  sl_append_info info;
  assert_int_equal(sl_log_append(log, b->data, b->len, flags, 0, 1000, &info, NULL),
                   SL_OK);
  sl_buf_reset(b);
}

/* n records of producer pid (transactional or not). */
static void pbatch(sl_buf *out, int n, int64_t pid, int32_t seq, bool txn) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_batch_builder_opts_init(&o);
  o.producer_id = pid;
  o.producer_epoch = pid < 0 ? -1 : 0;
  o.base_sequence = pid < 0 ? -1 : seq;
  o.transactional = txn;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  int64_t now = (int64_t)time(NULL) * 1000;
  for (int i = 0; i < n; i++)
    assert_int_equal(sl_batch_builder_add(b, now + i, "k", 1, "v", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_finish(b, out), SL_OK);
  sl_batch_builder_free(b);
}

static void abort_marker(sl_log *log, sl_buf *b, int64_t pid) {
  assert_int_equal(sl_batch_build_marker(b, 0, pid, 0, SL_CONTROL_ABORT, 1, 1000, -1),
                   SL_OK);
  append(log, b, SL_APPEND_LEADER | SL_APPEND_COORDINATOR);
}

/* Collects everything; on SL_OK checks the entries' pids and last offsets. */
static int collect(sl_log *r, got *g) {
  memset(g, 0, sizeof(*g));
  return sl_log_collect_aborted_txns(r, 0, 1000, collect_cb, g, NULL);
}

static void expect(sl_log *r, size_t n, const int64_t *last) {
  got g;
  assert_int_equal(collect(r, &g), SL_OK);
  assert_int_equal(g.n, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(g.t[i].last_offset, last[i]);
    assert_int_equal(g.t[i].producer_id, 1000 + (int64_t)i);
  }
}

static void expect_retry(sl_log *r) {
  got g;
  sl_diag d;
  memset(&g, 0, sizeof(g));
  sl_diag_clear(&d);
  assert_int_equal(sl_log_collect_aborted_txns(r, 0, 1000, collect_cb, &g, &d),
                   SL_EINTERRUPTED);
  assert_int_equal(g.n, 0); /* nothing delivered: no partial list */
  assert_non_null(strstr(d.path, ".txnindex"));
}

static void test_txnindex_rewritten_under_reader(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  char *dir = tu_path(root, "t-0");
  sl_buf b = SL_BUF_INIT;
  sl_log *w = open_log(dir, SL_LOG_CREATE, true);
  pbatch(&b, 2, 1000, 0, true); /* 0-1 */
  append(w, &b, SL_APPEND_LEADER);
  abort_marker(w, &b, 1000);    /* 2: entry A (first 0, last 2) */
  pbatch(&b, 2, 1001, 0, true); /* 3-4 */
  append(w, &b, SL_APPEND_LEADER);
  char *lp = tu_path(dir, "00000000000000000000.log");
  long long cut = tu_file_size(lp); /* where marker B starts */
  abort_marker(w, &b, 1001);        /* 5: entry B (first 3, last 5) */
  pbatch(&b, 1, -1, -1, false);     /* 6 */
  append(w, &b, SL_APPEND_LEADER);
  assert_int_equal(sl_log_close(w, NULL), SL_OK);

  char *xp = tu_path(dir, "00000000000000000000.txnindex");
  size_t len;
  uint8_t *full = tu_read_file(xp, &len);
  assert_int_equal(len, 2 * ENTRY);
  const int64_t last[3] = {2, 5, 9};

  sl_log *r = open_log(dir, SL_LOG_READONLY, true);
  assert_int_equal(sl_log_end_offset(r), 7);
  expect(r, 2, last);

  /* Reset (a writer's recovery starts its rebuild): B and A cover data the
   * reader sees, so the empty file is a rebuild in progress. */
  assert_int_equal(tu_write_file(xp, "", 0), 0);
  expect_retry(r);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  expect_retry(r);
  /* Half rebuilt: A only, then A and a torn B. */
  assert_int_equal(tu_write_file(xp, full, ENTRY), 0);
  expect_retry(r);
  assert_int_equal(tu_write_file(xp, full, ENTRY + 10), 0);
  expect_retry(r);
  /* Rebuilt: the same list, with or without a refresh. */
  assert_int_equal(tu_write_file(xp, full, 2 * ENTRY), 0);
  expect(r, 2, last);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  expect(r, 2, last);

  /* An abort marker appended past the reader's view: its entry is listed,
   * and it may vanish again (the writer truncated data the reader never saw). */
  uint8_t grown[3 * ENTRY];
  memcpy(grown, full, 2 * ENTRY);
  sl_aborted_txn c = {0, 1002, 7, 9, 10};
  sl_txn_index_encode(grown + 2 * ENTRY, &c);
  assert_int_equal(tu_write_file(xp, grown, sizeof(grown)), 0);
  expect(r, 3, last);
  assert_int_equal(tu_write_file(xp, full, 2 * ENTRY), 0);
  expect(r, 2, last);

  /* Removed (a rebuild after the writer deleted it), then recreated. */
  assert_int_equal(unlink(xp), 0);
  expect_retry(r);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  expect_retry(r);
  assert_int_equal(tu_write_file(xp, full, 2 * ENTRY), 0);
  expect(r, 2, last);

  /* A writer that really recovers (reset + rebuild) leaves the same list. */
  w = open_log(dir, 0, false);
  expect(r, 2, last);
  assert_int_equal(sl_log_close(w, NULL), SL_OK);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  expect(r, 2, last);

  /* The writer truncated the log before marker B and dropped B: until the
   * reader refreshes it still sees offset 5, so B missing means "retry";
   * after the refresh the shorter list is the right one. */
  assert_int_equal(truncate(lp, (off_t)cut), 0);
  assert_int_equal(tu_write_file(xp, full, ENTRY), 0);
  expect_retry(r);
  assert_int_equal(sl_log_refresh(r, NULL), SL_OK);
  assert_int_equal(sl_log_end_offset(r), 5);
  expect(r, 1, last);

  sl_log_close(r, NULL);
  sl_buf_release(&b);
  free(full);
  free(xp);
  free(lp);
  free(dir);
  tu_rmtree_free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_txnindex_rewritten_under_reader),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
