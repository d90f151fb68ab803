/*
 * test_sdregress.c - requests that fuzz_sdrequest found trouble with, sent
 * through an in-process broker (sdt_inproc.h) as a client would, each with
 * the answer Kafka gives.  docs/BROKER.md, "Robustness".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kerrors.h"
#include "kp_metadata.h"
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metadata_null_name_before_v12),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
