/*
 * test_proto_records.c - the generated codecs of the record schemas of
 * __consumer_offsets and the other group-coordinator records
 * (brokerd/proto/gen/kp_rec_*.c, kp_records.c): exact bytes of the classic
 * coordinator's records, computed by hand from Kafka's schemas (kafka-python
 * has no codec for them to compare with), a round trip of every record and
 * version, and truncated input.  tools/protogen/README.md, "Record schemas".
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "kp_records.h"
#include "kp_testfill.h"

#define ARENA_LIMIT (1u << 20)

static void expect_bytes(const sl_buf *w, const char *hex) {
  uint8_t want[512];
  size_t n = tu_unhex(hex, want, sizeof want);
  assert_int_equal(w->len, n);
  assert_memory_equal(w->data, want, n);
}

static void test_offset_commit_key(void **state) {
  (void)state;
  kp_offset_commit_key k;
  kp_offset_commit_key_init_defaults(&k);
  k.group = KP_STR("grp");
  k.topic = KP_STR("t1");
  k.partition = 7;
  for (int16_t v = 0; v <= 1; v++) {
    sl_buf w = SL_BUF_INIT;
    assert_int_equal(kp_offset_commit_key_encode(&w, v, &k), 0);
    expect_bytes(&w, "0003 677270 0002 7431 00000007");
    sl_buf_release(&w);
  }
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(kp_offset_commit_key_encode(&w, 2, &k), SL_EUNSUPPORTED);
  sl_buf_release(&w);
}

static void test_offset_commit_value(void **state) {
  (void)state;
  kp_offset_commit_value o;
  kp_offset_commit_value_init_defaults(&o);
  assert_int_equal(o.leader_epoch, -1);
  assert_int_equal(o.expire_timestamp, -1);
  o.offset = 42;
  o.metadata = KP_STR("md");
  o.commit_timestamp = 0x0102030405;
  static const char *const want[] = {
      /* v0: offset, metadata, commit timestamp */
      "000000000000002a 0002 6d64 0000000102030405",
      /* v1: + expire timestamp (default -1 written as is) */
      "000000000000002a 0002 6d64 0000000102030405 ffffffffffffffff",
      /* v2: as v0 */
      "000000000000002a 0002 6d64 0000000102030405",
      /* v3: + leader epoch after the offset */
      "000000000000002a 00000005 0002 6d64 0000000102030405",
      /* v4: flexible: compact string, empty tagged section */
      "000000000000002a 00000005 03 6d64 0000000102030405 00",
  };
  for (int16_t v = 0; v <= 4; v++) {
    o.leader_epoch = v >= 3 ? 5 : -1;
    sl_buf w = SL_BUF_INIT;
    assert_int_equal(kp_offset_commit_value_encode(&w, v, &o), 0);
    expect_bytes(&w, want[v]);
    kp_arena a;
    kp_arena_init(&a, ARENA_LIMIT);
    kp_offset_commit_value back;
    sl_rbuf r;
    sl_rbuf_init(&r, w.data, w.len);
    assert_int_equal(kp_offset_commit_value_decode(&r, v, &a, &back), 0);
    assert_int_equal(sl_rbuf_left(&r), 0);
    assert_int_equal(back.offset, 42);
    assert_int_equal(back.leader_epoch, v >= 3 ? 5 : -1);
    assert_int_equal(back.metadata.len, 2);
    assert_memory_equal(back.metadata.ptr, "md", 2);
    assert_int_equal(back.commit_timestamp, 0x0102030405);
    assert_int_equal(back.expire_timestamp, -1);
    kp_arena_release(&a);
    sl_buf_release(&w);
  }
  /* Leader epoch and expire timestamp are ignorable: dropped silently. */
  o.leader_epoch = 9;
  o.expire_timestamp = 16;
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(kp_offset_commit_value_encode(&w, 1, &o), 0);
  expect_bytes(&w, "000000000000002a 0002 6d64 0000000102030405 0000000000000010");
  sl_buf_release(&w);
}

static void test_group_metadata_key(void **state) {
  (void)state;
  kp_group_metadata_key k;
  kp_group_metadata_key_init_defaults(&k);
  k.group = KP_STR("grp");
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(kp_group_metadata_key_encode(&w, 2, &k), 0);
  expect_bytes(&w, "0003 677270");
  sl_buf_release(&w);
  w = (sl_buf)SL_BUF_INIT;
  assert_int_equal(kp_group_metadata_key_encode(&w, 1, &k), SL_EUNSUPPORTED);
  sl_buf_release(&w);
}

static void test_group_metadata_value(void **state) {
  (void)state;
  static const uint8_t sub[] = {1, 2};
  kp_group_metadata_value_member_metadata m;
  kp_group_metadata_value_member_metadata_init_defaults(&m);
  assert_int_equal(m.group_instance_id.len, -1);
  assert_int_equal(m.rebalance_timeout, -1);
  m.member_id = KP_STR("m1");
  m.client_id = KP_STR("c");
  m.client_host = KP_STR("/h");
  m.rebalance_timeout = 300000;
  m.session_timeout = 10000;
  m.subscription = (kp_bytes){sub, 2};
  m.assignment = (kp_bytes){sub, 0};
  kp_group_metadata_value g;
  kp_group_metadata_value_init_defaults(&g);
  assert_int_equal(g.current_state_timestamp, -1);
  g.protocol_type = KP_STR("consumer");
  g.generation = 2;
  g.protocol = KP_STR("range");
  g.leader = KP_STR("m1");
  g.current_state_timestamp = 100;
  g.members = &m;
  g.members_count = 1;
  static const char *const want[] = {
      /* v0 */
      "0008 636f6e73756d6572 00000002 0005 72616e6765 0002 6d31 00000001"
      "0002 6d31 0001 63 0002 2f68 00002710 00000002 0102 00000000",
      /* v1: + rebalance timeout */
      "0008 636f6e73756d6572 00000002 0005 72616e6765 0002 6d31 00000001"
      "0002 6d31 0001 63 0002 2f68 000493e0 00002710 00000002 0102 00000000",
      /* v2: + current state timestamp */
      "0008 636f6e73756d6572 00000002 0005 72616e6765 0002 6d31 0000000000000064"
      "00000001 0002 6d31 0001 63 0002 2f68 000493e0 00002710 00000002 0102 00000000",
      /* v3: + group instance id (null) */
      "0008 636f6e73756d6572 00000002 0005 72616e6765 0002 6d31 0000000000000064"
      "00000001 0002 6d31 ffff 0001 63 0002 2f68 000493e0 00002710 00000002 0102"
      "00000000",
      /* v4: flexible */
      "09 636f6e73756d6572 00000002 06 72616e6765 03 6d31 0000000000000064"
      "02 03 6d31 00 02 63 03 2f68 000493e0 00002710 03 0102 01 00 00",
  };
  for (int16_t v = 0; v <= 4; v++) {
    sl_buf w = SL_BUF_INIT;
    assert_int_equal(kp_group_metadata_value_encode(&w, v, &g), 0);
    expect_bytes(&w, want[v]);
    sl_buf_release(&w);
  }
  /* Null protocol and leader (an Empty group) in v3. */
  g.protocol = KP_STR_NULL;
  g.leader = KP_STR_NULL;
  g.members_count = 0;
  g.members = NULL;
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(kp_group_metadata_value_encode(&w, 3, &g), 0);
  expect_bytes(&w, "0008 636f6e73756d6572 00000002 ffff ffff 0000000000000064 00000000");
  sl_buf_release(&w);
}

/* Fill, encode, decode, encode again: same bytes, every record and version;
 * every strict prefix of the first encoding is SL_ETRUNCATED. */
static void test_roundtrip_all_records(void **state) {
  (void)state;
  size_t n = 0;
  for (size_t i = 0; kp_record_at(i) != NULL; i++) {
    const kp_record *rec = kp_record_at(i);
    assert_ptr_equal(kp_record_find(rec->name), rec);
    for (int16_t v = rec->min_version; v <= rec->max_version; v++) {
      for (uint32_t s = 1; s <= 6; s++) {
        uint32_t seed = s * 2654435761u + (uint32_t)(i * 131 + (size_t)v);
        kp_arena a;
        kp_arena_init(&a, ARENA_LIMIT);
        void *msg = calloc(1, rec->size), *back = calloc(1, rec->size);
        assert_non_null(msg);
        assert_non_null(back);
        assert_int_equal(kp_testfill_record(rec->name, v, &a, &seed, msg), 0);
        sl_buf w1 = SL_BUF_INIT, w2 = SL_BUF_INIT;
        int rc = rec->encode(&w1, v, msg);
        if (rc != 0)
          fail_msg("%s v%d seed %u: encode %s", rec->name, v, s, sl_errname(rc));
        sl_rbuf r;
        sl_rbuf_init(&r, w1.data, w1.len);
        rc = rec->decode(&r, v, &a, back);
        if (rc != 0 || sl_rbuf_left(&r) != 0)
          fail_msg("%s v%d seed %u: decode %s, %zu left", rec->name, v, s, sl_errname(rc),
                   sl_rbuf_left(&r));
        assert_int_equal(rec->encode(&w2, v, back), 0);
        assert_int_equal(w2.len, w1.len);
        assert_memory_equal(w2.data, w1.data, w1.len);
        if (s == 1) {
          for (size_t cut = 0; cut < w1.len; cut++) {
            sl_rbuf_init(&r, w1.data, cut);
            kp_arena_reset(&a);
            assert_int_equal(rec->decode(&r, v, &a, back), SL_ETRUNCATED);
          }
        }
        sl_buf_release(&w1);
        sl_buf_release(&w2);
        free(msg);
        free(back);
        kp_arena_release(&a);
        n++;
      }
    }
  }
  assert_true(n > 100);
  assert_null(kp_record_find("NoSuchRecord"));
  uint32_t seed = 1;
  assert_int_equal(kp_testfill_record("NoSuchRecord", 0, NULL, &seed, NULL), SL_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_offset_commit_key),
      cmocka_unit_test(test_offset_commit_value),
      cmocka_unit_test(test_group_metadata_key),
      cmocka_unit_test(test_group_metadata_value),
      cmocka_unit_test(test_roundtrip_all_records),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
