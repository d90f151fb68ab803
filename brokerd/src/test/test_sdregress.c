/*
 * test_sdregress.c - requests that fuzz_sdrequest found trouble with, sent
 * through an in-process broker (sdt_inproc.h) as a client would, each with
 * the answer Kafka gives, and a descriptor mix-up the fuzzer ran into.
 * docs/BROKER.md, "Robustness".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kerrors.h"
#include "kp_metadata.h"
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "sdt_inproc.h"

/* Metadata v10/v11 by topic id (name null): the response cannot carry a null
 * name before v12, so the broker failed to encode it and closed the
 * connection with an ERROR line.  Kafka refuses it: INVALID_REQUEST. */
static void test_metadata_null_name_before_v12(void **state) {
  (void)state;
  sdt_broker *t = calloc(1, sizeof(*t));
  assert_non_null(t);
  assert_int_equal(sdt_start(t, NULL, NULL), 0);
  int fd = sdt_connect(t);
  assert_true(fd >= 0);
  for (int16_t v = 10; v <= 12; v++) {
    kp_metadata_request_topic mt;
    kp_metadata_request_topic_init_defaults(&mt);
    mt.name = KP_STR_NULL;
    memset(mt.topic_id.b, 0x5e, sizeof(mt.topic_id.b));
    kp_metadata_request rq;
    kp_metadata_request_init_defaults(&rq);
    rq.topics = &mt;
    rq.topics_count = 1;
    rq.allow_auto_topic_creation = false;
    kp_arena a;
    kp_arena_init(&a, 1 << 20);
    kp_metadata_response resp;
    /* Answered on the same connection every time (it was closed before). */
    assert_int_equal(sdt_call(t, fd, 3, v, &rq, &a, &resp), 0);
    assert_int_equal(resp.topics_count, 1);
    assert_int_equal(resp.topics[0].error_code,
                     v < 12 ? SD_KERR_INVALID_REQUEST : SD_KERR_UNKNOWN_TOPIC_ID);
    kp_arena_release(&a);
  }
  sdt_disconnect(t, fd);
  sdt_stop(t);
  free(t);
}

static rlim_t open_descriptors(void) {
  rlim_t n = 0;
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

/* A topic creation that runs out of descriptors half-way (CreateTopics with
 * many partitions under a low RLIMIT_NOFILE) closed descriptor 0: libseglog's
 * segment open freed indexes it had not opened yet, whose descriptor fields
 * were still 0.  The number was then reused by another partition's segment
 * and closed again later, so that partition's fsync failed with EBADF. */
static void test_emfile_during_create_keeps_other_descriptors(void **state) {
  (void)state;
  if (fcntl(0, F_GETFD) == -1) {
    int fd = open("/dev/null", O_RDONLY);
    assert_int_equal(fd, 0);
  }
  struct stat st0;
  assert_int_equal(fstat(0, &st0), 0);
  sdt_broker *t = calloc(1, sizeof(*t));
  assert_non_null(t);
  assert_int_equal(sdt_start(t, NULL, NULL), 0);
  struct rlimit was, low;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
  low = was;
  low.rlim_cur = open_descriptors() + 60; /* room for ~20 partitions */
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  char err[512];
  int rc =
      sd_topics_create(&t->b.topics, &t->b.dirs, "many", 4, 400, NULL, err, sizeof(err));
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
  assert_int_not_equal(rc, 0); /* out of descriptors */
  struct stat st1;
  assert_int_equal(fstat(0, &st1), 0); /* still open, still the same file */
  assert_true(st0.st_dev == st1.st_dev && st0.st_ino == st1.st_ino);
  sdt_stop(t);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metadata_null_name_before_v12),
      cmocka_unit_test(test_emfile_during_create_keeps_other_descriptors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
