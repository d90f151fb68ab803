/* test_mirror_records.c - seglog-mirror's MirrorMaker 2 encodings against
 * bytes computed by hand from Java's Schema layouts (OffsetSync, Checkpoint,
 * Heartbeat: STRING = int16 length + bytes, big-endian integers, the INT16
 * version header on Checkpoint and Heartbeat values), decode round trips and
 * malformed input; plus the replication policies (remote names, cycles,
 * internal topics) and the path header check. */
#include "testutil.h"

#include <string.h>

#include "mm_policy.h"
#include "mm_records.h"

#define S(lit) ((mm_str){lit, sizeof lit - 1})

static void assert_buf(const sl_buf *b, const uint8_t *want, size_t n) {
  assert_int_equal(b->len, n);
  assert_memory_equal(b->data, want, n);
}

static void test_offset_sync(void **state) {
  (void)state;
  static const uint8_t key[] = {0x00, 0x02, 't', '1', 0x00, 0x00, 0x00, 0x03};
  static const uint8_t val[] = {0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0x01, 0x2c};
  mm_offset_sync s = {S("t1"), 3, 100, 300};
  sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
  assert_int_equal(mm_offset_sync_encode(&s, &k, &v), 0);
  assert_buf(&k, key, sizeof key);
  assert_buf(&v, val, sizeof val);
  mm_offset_sync d;
  assert_int_equal(mm_offset_sync_decode(key, sizeof key, val, sizeof val, &d), 0);
  assert_int_equal(d.topic.len, 2);
  assert_memory_equal(d.topic.p, "t1", 2);
  assert_int_equal(d.partition, 3);
  assert_int_equal(d.upstream, 100);
  assert_int_equal(d.downstream, 300);
  /* Truncated, trailing and negative-length inputs are refused. */
  assert_int_equal(mm_offset_sync_decode(key, sizeof key - 1, val, sizeof val, &d),
                   SL_ETRUNCATED);
  assert_int_equal(mm_offset_sync_decode(key, sizeof key, val, sizeof val - 1, &d),
                   SL_ETRUNCATED);
  static const uint8_t longer[] = {0, 0, 0, 0, 0, 0, 0,    100, 0,
                                   0, 0, 0, 0, 0, 1, 0x2c, 9};
  assert_int_equal(mm_offset_sync_decode(key, sizeof key, longer, sizeof longer, &d),
                   SL_ECORRUPT);
  static const uint8_t neg[] = {0xff, 0xff, 0, 0, 0, 3};
  assert_int_equal(mm_offset_sync_decode(neg, sizeof neg, val, sizeof val, &d),
                   SL_ECORRUPT);
  sl_buf_release(&k);
  sl_buf_release(&v);
}

static void test_checkpoint(void **state) {
  (void)state;
  static const uint8_t key[] = {0x00, 0x02, 'g',  '1',  0x00, 0x03, 'A',
                                '.',  't',  0x00, 0x00, 0x00, 0x05};
  static const uint8_t val[] = {0x00, 0x00,                            /* version */
                                0,    0,    0,   0,  0, 0, 0x04, 0xd2, /* 1234 */
                                0,    0,    0,   0,  0, 0, 0x04, 0xd0, /* 1232 */
                                0x00, 0x02, 'm', 'd'};                 /* "md" */
  mm_checkpoint c = {S("g1"), S("A.t"), 5, 1234, 1232, S("md")};
  sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
  assert_int_equal(mm_checkpoint_encode(&c, &k, &v), 0);
  assert_buf(&k, key, sizeof key);
  assert_buf(&v, val, sizeof val);
  mm_checkpoint d;
  assert_int_equal(mm_checkpoint_decode(key, sizeof key, val, sizeof val, &d), 0);
  assert_memory_equal(d.group.p, "g1", 2);
  assert_memory_equal(d.topic.p, "A.t", 3);
  assert_int_equal(d.partition, 5);
  assert_int_equal(d.upstream, 1234);
  assert_int_equal(d.downstream, 1232);
  assert_int_equal(d.metadata.len, 2);
  /* Version 1 is not a layout we know. */
  uint8_t v1[sizeof val];
  memcpy(v1, val, sizeof val);
  v1[1] = 1;
  assert_int_equal(mm_checkpoint_decode(key, sizeof key, v1, sizeof v1, &d), SL_ECORRUPT);
  /* Empty metadata is an empty STRING (00 00), as Java writes "". */
  sl_buf_reset(&k);
  sl_buf_reset(&v);
  mm_checkpoint e = {S("g"), S("t"), 0, 0, 0, S("")};
  assert_int_equal(mm_checkpoint_encode(&e, &k, &v), 0);
  assert_int_equal(v.len, 2 + 8 + 8 + 2);
  assert_int_equal(v.data[18], 0);
  assert_int_equal(v.data[19], 0);
  sl_buf_release(&k);
  sl_buf_release(&v);
}

static void test_heartbeat(void **state) {
  (void)state;
  static const uint8_t key[] = {0x00, 0x01, 'A', 0x00, 0x02, 'B', 'B'};
  /* 1700000000000 = 0x0000018BCFE56800 */
  static const uint8_t val[] = {0x00, 0x00, 0x00, 0x00, 0x01,
                                0x8b, 0xcf, 0xe5, 0x68, 0x00};
  mm_heartbeat h = {S("A"), S("BB"), 1700000000000LL};
  sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
  assert_int_equal(mm_heartbeat_encode(&h, &k, &v), 0);
  assert_buf(&k, key, sizeof key);
  assert_buf(&v, val, sizeof val);
  mm_heartbeat d;
  assert_int_equal(mm_heartbeat_decode(key, sizeof key, val, sizeof val, &d), 0);
  assert_int_equal(d.timestamp, 1700000000000LL);
  assert_int_equal(d.target.len, 2);
  assert_int_equal(mm_heartbeat_decode(key, 2, val, sizeof val, &d), SL_ETRUNCATED);
  sl_buf_release(&k);
  sl_buf_release(&v);
}

static void test_policy(void **state) {
  (void)state;
  mm_policy d = {false, "."}, id = {true, "."}, u = {false, "_"};
  char out[128];
  assert_int_equal(mm_policy_remote_topic(&d, "A", "orders", out, sizeof out), 0);
  assert_string_equal(out, "A.orders");
  assert_int_equal(mm_policy_remote_topic(&u, "A", "orders", out, sizeof out), 0);
  assert_string_equal(out, "A_orders");
  assert_int_equal(mm_policy_remote_topic(&id, "A", "orders", out, sizeof out), 0);
  assert_string_equal(out, "orders");
  assert_int_equal(mm_policy_remote_topic(&id, "A", "heartbeats", out, sizeof out), 0);
  assert_string_equal(out, "A.heartbeats");
  assert_int_equal(mm_policy_remote_topic(&d, "A", "orders", out, 5), -1);

  mm_policy_topic_source(&d, "A.orders", out, sizeof out);
  assert_string_equal(out, "A");
  mm_policy_topic_source(&d, "orders", out, sizeof out);
  assert_string_equal(out, "");
  mm_policy_topic_source(&id, "A.orders", out, sizeof out);
  assert_string_equal(out, "");

  assert_true(mm_policy_is_cycle(&d, "B.orders", "B"));
  assert_true(mm_policy_is_cycle(&d, "A.B.orders", "B"));
  assert_false(mm_policy_is_cycle(&d, "A.orders", "B"));
  assert_false(mm_policy_is_cycle(&d, "orders", "B"));
  assert_false(mm_policy_is_cycle(&id, "B.orders", "B"));

  assert_true(mm_policy_is_internal(&d, "__consumer_offsets"));
  assert_true(mm_policy_is_internal(&d, "mm2-offset-syncs.B.internal"));
  assert_true(mm_policy_is_internal(&d, "A.checkpoints.internal"));
  assert_true(mm_policy_is_internal(&d, "connect-offsets-internal"));
  assert_false(mm_policy_is_internal(&d, "heartbeats"));
  assert_true(mm_policy_is_heartbeats(&d, "heartbeats"));
  assert_true(mm_policy_is_heartbeats(&d, "A.heartbeats"));
  assert_false(mm_policy_is_heartbeats(&d, "xheartbeats"));

  mm_policy_offset_syncs_topic(&d, "B", out, sizeof out);
  assert_string_equal(out, "mm2-offset-syncs.B.internal");
  mm_policy_checkpoints_topic(&d, "A", out, sizeof out);
  assert_string_equal(out, "A.checkpoints.internal");

  assert_true(mm_path_has("A", 1, "A"));
  assert_true(mm_path_has("A,B", 3, "B"));
  assert_false(mm_path_has("AB,C", 4, "A"));
  assert_false(mm_path_has("", 0, "A"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_offset_sync),
      cmocka_unit_test(test_checkpoint),
      cmocka_unit_test(test_heartbeat),
      cmocka_unit_test(test_policy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
