/* test_epoch.c - the leader-epoch cache: Kafka's assign rules, truncation from
 * the end and the start, OffsetsForLeaderEpoch answers, load repair and the
 * checkpoint file it writes. */
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio_int.h"
#include "seglog/epoch.h"

/* Compares the cache with "e0:s0 e1:s1 ..." */
static void expect(const sl_epoch_cache *c, const int64_t *pairs, size_t n) {
  size_t count;
  const sl_epoch_entry *e = sl_epoch_cache_entries(c, &count);
  if (count != n)
    fail_msg("cache has %zu entries, want %zu", count, n);
  for (size_t i = 0; i < n; i++)
    if (e[i].epoch != pairs[2 * i] || e[i].start_offset != pairs[2 * i + 1])
      fail_msg("entry %zu is (%d, %lld), want (%lld, %lld)", i, (int)e[i].epoch,
               (long long)e[i].start_offset, (long long)pairs[2 * i],
               (long long)pairs[2 * i + 1]);
}

static void file_is(const char *path, const char *text) {
  size_t len;
  uint8_t *data = tu_read_file(path, &len);
  assert_non_null(data);
  if (len != strlen(text) || memcmp(data, text, len) != 0)
    fail_msg("file is '%.*s', want '%s'", (int)len, (const char *)data, text);
  free(data);
}

static void test_assign(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, "leader-epoch-checkpoint");
  sl_epoch_cache *c;
  bool changed;
  assert_int_equal(sl_epoch_cache_open(p, &c, NULL), SL_OK);
  assert_false(sl_epoch_cache_latest(c, NULL));
  assert_int_equal(tu_file_size(p), -1); /* not created by open */

  assert_int_equal(sl_epoch_cache_assign(c, 2, 10, &changed, NULL), SL_OK);
  assert_true(changed);
  file_is(p, "0\n1\n2 10\n"); /* written synchronously */
  /* same epoch, later offset: no change, no write */
  assert_int_equal(sl_epoch_cache_assign(c, 2, 15, &changed, NULL), SL_OK);
  assert_false(changed);
  /* same epoch, earlier offset: replaces */
  assert_int_equal(sl_epoch_cache_assign(c, 2, 8, &changed, NULL), SL_OK);
  assert_true(changed);
  assert_int_equal(sl_epoch_cache_assign(c, 4, 20, &changed, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 6, 30, &changed, NULL), SL_OK);
  expect(c, (int64_t[]){2, 8, 4, 20, 6, 30}, 3);
  file_is(p, "0\n3\n2 8\n4 20\n6 30\n");
  /* a lower epoch removes the later conflicting entries (epoch >= 3) */
  assert_int_equal(sl_epoch_cache_assign(c, 3, 25, &changed, NULL), SL_OK);
  expect(c, (int64_t[]){2, 8, 3, 25}, 2);
  /* a higher epoch with a start below existing ones removes those */
  assert_int_equal(sl_epoch_cache_assign(c, 9, 20, &changed, NULL), SL_OK);
  expect(c, (int64_t[]){2, 8, 9, 20}, 2);
  file_is(p, "0\n2\n2 8\n9 20\n");
  /* negative values are refused */
  assert_int_equal(sl_epoch_cache_assign(c, -1, 5, &changed, NULL), SL_EINVAL);
  assert_int_equal(sl_epoch_cache_assign(c, 10, -5, &changed, NULL), SL_EINVAL);
  expect(c, (int64_t[]){2, 8, 9, 20}, 2);

  /* the append rule: only epochs above the latest */
  assert_int_equal(sl_epoch_cache_on_batch(c, 9, 40, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_on_batch(c, 5, 40, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_on_batch(c, -1, 40, NULL), SL_OK);
  expect(c, (int64_t[]){2, 8, 9, 20}, 2);
  assert_int_equal(sl_epoch_cache_on_batch(c, 10, 40, NULL), SL_OK);
  expect(c, (int64_t[]){2, 8, 9, 20, 10, 40}, 3);
  sl_epoch_cache_free(c);

  /* reopen loads the file */
  assert_int_equal(sl_epoch_cache_open(p, &c, NULL), SL_OK);
  expect(c, (int64_t[]){2, 8, 9, 20, 10, 40}, 3);
  sl_epoch_entry e;
  assert_true(sl_epoch_cache_latest(c, &e));
  assert_int_equal(e.epoch, 10);
  assert_true(sl_epoch_cache_earliest(c, &e));
  assert_int_equal(e.start_offset, 8);
  sl_epoch_cache_free(c);
  free(p);
  tu_rmtree_free(dir);
}

static void test_truncate(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, "leader-epoch-checkpoint");
  sl_epoch_cache *c;
  assert_int_equal(sl_epoch_cache_open(p, &c, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 1, 0, NULL, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 3, 100, NULL, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 5, 200, NULL, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 7, 300, NULL, NULL), SL_OK);

  /* from the end: nothing to do when the latest start is below the offset */
  sl_epoch_cache_truncate_from_end(c, 301);
  assert_false(sl_epoch_cache_is_dirty(c));
  expect(c, (int64_t[]){1, 0, 3, 100, 5, 200, 7, 300}, 4);
  /* drop entries starting at or after 200 */
  sl_epoch_cache_truncate_from_end(c, 200);
  expect(c, (int64_t[]){1, 0, 3, 100}, 2);
  assert_true(sl_epoch_cache_is_dirty(c));
  file_is(p, "0\n4\n1 0\n3 100\n5 200\n7 300\n"); /* not yet written */
  assert_int_equal(sl_epoch_cache_flush(c, NULL), SL_OK);
  assert_false(sl_epoch_cache_is_dirty(c));
  file_is(p, "0\n2\n1 0\n3 100\n");

  assert_int_equal(sl_epoch_cache_assign(c, 5, 200, NULL, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 7, 300, NULL, NULL), SL_OK);
  /* from the start: the first start is not below the offset -> nothing */
  sl_epoch_cache_truncate_from_start(c, 0);
  expect(c, (int64_t[]){1, 0, 3, 100, 5, 200, 7, 300}, 4);
  /* start offset inside epoch 3: epoch 3 now starts at 150 */
  sl_epoch_cache_truncate_from_start(c, 150);
  expect(c, (int64_t[]){3, 150, 5, 200, 7, 300}, 3);
  /* exactly on an entry's start: that entry is kept (removed and re-added) */
  sl_epoch_cache_truncate_from_start(c, 200);
  expect(c, (int64_t[]){5, 200, 7, 300}, 2);
  /* past every start: only the last epoch remains, at the new start */
  sl_epoch_cache_truncate_from_start(c, 1000);
  expect(c, (int64_t[]){7, 1000}, 1);
  /* negative offsets are ignored */
  sl_epoch_cache_truncate_from_start(c, -1);
  sl_epoch_cache_truncate_from_end(c, -1);
  expect(c, (int64_t[]){7, 1000}, 1);
  /* truncating the end below everything empties the cache */
  sl_epoch_cache_truncate_from_end(c, 0);
  expect(c, NULL, 0);
  assert_int_equal(sl_epoch_cache_flush(c, NULL), SL_OK);
  file_is(p, "0\n0\n");
  assert_int_equal(sl_epoch_cache_assign(c, 1, 5, NULL, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_clear(c, NULL), SL_OK);
  file_is(p, "0\n0\n");
  sl_epoch_cache_free(c);
  free(p);
  tu_rmtree_free(dir);
}

static void test_end_offset_for(void **state) {
  (void)state;
  sl_epoch_cache *c;
  int32_t e;
  int64_t o;
  assert_int_equal(sl_epoch_cache_open(NULL, &c, NULL), SL_OK);
  /* empty cache */
  sl_epoch_cache_end_offset_for(c, 0, 100, &e, &o);
  assert_int_equal(e, -1);
  assert_int_equal(o, -1);
  assert_int_equal(sl_epoch_cache_assign(c, 2, 10, NULL, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 4, 20, NULL, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 7, 35, NULL, NULL), SL_OK);
  static const struct {
    int32_t req;
    int32_t epoch;
    int64_t offset;
  } cases[] = {
      {-1, -1, -1}, /* undefined epoch */
      {7, 7, 50},   /* the latest epoch ends at the LEO */
      {8, -1, -1},  /* above every known epoch */
      {4, 4, 35},   /* known: the next epoch's start */
      {5, 4, 35},   /* unknown between: the floor epoch, next start */
      {6, 4, 35},   {2, 2, 20}, {3, 2, 20},
      {1, 1, 10}, /* below every epoch: the requested epoch, the first start */
      {0, 0, 10},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sl_epoch_cache_end_offset_for(c, cases[i].req, 50, &e, &o);
    if (e != cases[i].epoch || o != cases[i].offset)
      fail_msg("epoch %d: got (%d, %lld)", (int)cases[i].req, (int)e, (long long)o);
  }
  assert_true(sl_epoch_cache_epoch_for_offset(c, 10, &e));
  assert_int_equal(e, 2);
  assert_true(sl_epoch_cache_epoch_for_offset(c, 34, &e));
  assert_int_equal(e, 4);
  assert_true(sl_epoch_cache_epoch_for_offset(c, 1000, &e));
  assert_int_equal(e, 7);
  assert_false(sl_epoch_cache_epoch_for_offset(c, 9, &e));
  /* memory-only caches never write */
  sl_epoch_cache_truncate_from_end(c, 20);
  assert_int_equal(sl_epoch_cache_flush(c, NULL), SL_OK);
  sl_epoch_cache_free(c);
  sl_epoch_cache_free(NULL);
}

static void test_load_repairs_and_rejects(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, "leader-epoch-checkpoint");
  sl_epoch_cache *c;
  sl_diag d;
  /* a non-monotonic file goes through assign in file order, each entry
   * removing the conflicting ones before it, as Kafka's constructor does */
  const char *text = "0\n4\n1 0\n6 50\n5 100\n8 90\n";
  assert_int_equal(tu_write_file(p, text, strlen(text)), 0);
  assert_int_equal(sl_epoch_cache_open(p, &c, NULL), SL_OK);
  /* (1,0) (6,50) ; (5,100): removes epoch>=5 -> (1,0) (5,100) ; (8,90): removes
   * start>=90 -> (1,0) (8,90) */
  expect(c, (int64_t[]){1, 0, 8, 90}, 2);
  assert_false(sl_epoch_cache_is_dirty(c));
  sl_epoch_cache_free(c);
  /* corrupt files fail the open with the path */
  assert_int_equal(tu_write_file(p, "0\n2\n1 0\n", 8), 0);
  sl_diag_clear(&d);
  c = (sl_epoch_cache *)1;
  assert_int_equal(sl_epoch_cache_open(p, &c, &d), SL_ECORRUPT);
  assert_null(c);
  assert_string_equal(d.path, p);
  assert_int_equal(tu_write_file(p, "0\n1\n-1 0\n", 9), 0);
  assert_int_equal(sl_epoch_cache_open(p, &c, &d), SL_ECORRUPT);
  free(p);
  tu_rmtree_free(dir);
}

static void test_write_failures(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, "leader-epoch-checkpoint");
  sl_epoch_cache *c;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_epoch_cache_open(p, &c, NULL), SL_OK);
  assert_int_equal(sl_epoch_cache_assign(c, 1, 0, NULL, NULL), SL_OK);
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.writes_until_fail = 0;
  f.write_errno = ENOSPC;
  sl__fio_set_faults(&f);
  bool changed = false;
  assert_int_equal(sl_epoch_cache_assign(c, 2, 10, &changed, &d), SL_ENOSPC);
  sl__fio_set_faults(NULL);
  /* the cache changed, the file did not, and the cache stays dirty */
  assert_true(changed);
  expect(c, (int64_t[]){1, 0, 2, 10}, 2);
  file_is(p, "0\n1\n1 0\n");
  assert_true(sl_epoch_cache_is_dirty(c));
  assert_int_equal(sl_epoch_cache_flush(c, &d), SL_OK);
  file_is(p, "0\n2\n1 0\n2 10\n");
  assert_false(sl_epoch_cache_is_dirty(c));
  /* an fsync failure is reported too */
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 0;
  sl__fio_set_faults(&f);
  assert_int_equal(sl_epoch_cache_clear(c, &d), SL_EIO);
  sl__fio_set_faults(NULL);
  file_is(p, "0\n2\n1 0\n2 10\n");
  sl_epoch_cache_free(c);
  free(p);
  tu_rmtree_free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_assign),
      cmocka_unit_test(test_truncate),
      cmocka_unit_test(test_end_offset_for),
      cmocka_unit_test(test_load_repairs_and_rejects),
      cmocka_unit_test(test_write_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
