/* test_fileio.c - the file layer: atomic replace, short writes, injected
 * ENOSPC/EIO and crashes, errno mapping. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio_int.h"

static void test_atomic_write_and_read(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, "cp");
  assert_int_equal(sl__fio_write_atomic(p, "0\n0\n", 4, true, NULL), SL_OK);
  assert_int_equal(sl__fio_write_atomic(p, "0\n1\nt 0 5\n", 10, true, NULL), SL_OK);
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sl__fio_read_file(p, 100, &b, NULL), SL_OK);
  assert_int_equal(b.len, 10);
  assert_memory_equal(b.data, "0\n1\nt 0 5\n", 10);
  char *tmp = tu_path(dir, "cp.tmp");
  assert_int_equal(tu_file_size(tmp), -1); /* no temp file left behind */
  sl_buf_reset(&b);
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl__fio_read_file(p, 5, &b, &d), SL_ETOO_LARGE);
  assert_int_equal(b.len, 0);
  char *missing = tu_path(dir, "nope");
  assert_int_equal(sl__fio_read_file(missing, 5, &b, &d), SL_ENOT_FOUND);
  assert_string_equal(d.path, missing);
  sl_buf_release(&b);
  free(missing);
  free(tmp);
  free(p);
  tu_rmtree_free(dir);
}

static void test_short_writes_are_completed(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, "f");
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.short_write_max = 3;
  sl__fio_set_faults(&f);
  int fd;
  assert_int_equal(sl__fio_open(p, O_RDWR | O_CREAT, 0644, &fd, NULL), SL_OK);
  uint8_t data[1000];
  tu_fill_random(data, sizeof(data), 1);
  assert_int_equal(sl__fio_write_all(fd, data, sizeof(data), p, NULL), SL_OK);
  assert_int_equal(sl__fio_pwrite_all(fd, data, 10, 995, p, NULL), SL_OK);
  sl__fio_set_faults(NULL);
  uint8_t back[1005];
  size_t got;
  assert_int_equal(sl__fio_pread_all(fd, back, sizeof(back), 0, &got, p, NULL), SL_OK);
  assert_int_equal(got, 1005);
  assert_memory_equal(back, data, 995);
  assert_memory_equal(back + 995, data, 10);
  sl__fio_close(fd);
  free(p);
  tu_rmtree_free(dir);
}

static void test_injected_failures(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, "f");
  int fd;
  assert_int_equal(sl__fio_open(p, O_RDWR | O_CREAT, 0644, &fd, NULL), SL_OK);
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.writes_until_fail = 2;
  f.write_errno = ENOSPC;
  f.crash = true;
  f.fsyncs_until_fail = 5;
  sl__fio_set_faults(&f);
  assert_int_equal(sl__fio_write_all(fd, "a", 1, p, NULL), SL_OK);
  assert_int_equal(sl__fio_write_all(fd, "b", 1, p, NULL), SL_OK);
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl__fio_write_all(fd, "c", 1, p, &d), SL_ENOSPC);
  assert_string_equal(d.path, p);
  /* crashed: everything after fails, fsync included */
  assert_int_equal(sl__fio_write_all(fd, "d", 1, p, NULL), SL_ENOSPC);
  assert_int_equal(sl__fio_fsync(fd, p, NULL), SL_EIO);
  sl__fio_set_faults(NULL);
  assert_int_equal(sl__fio_fsync(fd, p, NULL), SL_OK);
  assert_int_equal(tu_file_size(p), 2);
  /* fsync failure alone */
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 0;
  sl__fio_set_faults(&f);
  assert_int_equal(sl__fio_fsync(fd, p, NULL), SL_EIO);
  assert_int_equal(sl__fio_fsync(fd, p, NULL), SL_OK); /* one-shot */
  sl__fio_set_faults(NULL);
  /* atomic write that fails leaves the old content and no temp file */
  assert_int_equal(sl__fio_write_atomic(p, "old", 3, true, NULL), SL_OK);
  sl__fio_faults_init(&f);
  f.writes_until_fail = 0;
  sl__fio_set_faults(&f);
  assert_int_equal(sl__fio_write_atomic(p, "new", 3, true, NULL), SL_EIO);
  sl__fio_set_faults(NULL);
  size_t n;
  uint8_t *c = tu_read_file(p, &n);
  assert_int_equal(n, 3);
  assert_memory_equal(c, "old", 3);
  free(c);
  sl__fio_close(fd);
  free(p);
  tu_rmtree_free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_atomic_write_and_read),
      cmocka_unit_test(test_short_writes_are_completed),
      cmocka_unit_test(test_injected_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
