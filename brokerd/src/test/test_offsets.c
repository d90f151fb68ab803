/*
 * test_offsets.c - unit tests of the storage half of the group coordinator
 * without a broker: the bytes of __consumer_offsets keys and values with
 * their version prefix (offsets_rec.c), Kafka's partitioning of group ids
 * (Java String.hashCode, checked against values Java gives), and the
 * in-memory state (offsets_mem.c): replay of records with tombstones and
 * corrupt records, and expiry as Kafka 2.1+ decides it.  docs/GROUPS.md,
 * "Storage".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kp_records.h"
#include "offsets_int.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = hex; *p; p++) {
    int v;
    if (*p >= '0' && *p <= '9')
      v = *p - '0';
    else if (*p >= 'a' && *p <= 'f')
      v = *p - 'a' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      assert_true(n < cap);
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return n;
}

static void expect_hex(const sl_buf *w, size_t from, const char *hex) {
  uint8_t want[256];
  size_t n = unhex(hex, want, sizeof want);
  assert_int_equal(w->len - from, n);
  assert_memory_equal(w->data + from, want, n);
}

/* ---- record bytes ---- */

static void test_key_bytes(void **state) {
  (void)state;
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(sd_okey_encode_offset(&w, KP_STR("grp"), KP_STR("t1"), 7), 0);
  expect_hex(&w, 0, "0001 0003 677270 0002 7431 00000007");
  size_t at = w.len;
  assert_int_equal(sd_okey_encode_group(&w, KP_STR("grp")), 0);
  expect_hex(&w, at, "0002 0003 677270");

  sd_okey k;
  assert_int_equal(sd_okey_decode(w.data, at, &k), 0);
  assert_int_equal(k.kind, SD_OKEY_OFFSET);
  assert_int_equal(k.version, 1);
  assert_int_equal(k.group.len, 3);
  assert_memory_equal(k.group.ptr, "grp", 3);
  assert_int_equal(k.topic.len, 2);
  assert_int_equal(k.partition, 7);
  assert_int_equal(sd_okey_decode(w.data + at, w.len - at, &k), 0);
  assert_int_equal(k.kind, SD_OKEY_GROUP);
  assert_memory_equal(k.group.ptr, "grp", 3);
  /* Version 0 keys (Kafka before 0.10) are offset keys too. */
  uint8_t v0[32];
  size_t n = unhex("0000 0001 67 0001 74 00000002", v0, sizeof v0);
  assert_int_equal(sd_okey_decode(v0, n, &k), 0);
  assert_int_equal(k.kind, SD_OKEY_OFFSET);
  assert_int_equal(k.partition, 2);
  /* Newer coordinator records (versions 3+) are recognised, not parsed. */
  n = unhex("0003 0001 67", v0, sizeof v0);
  assert_int_equal(sd_okey_decode(v0, n, &k), 0);
  assert_int_equal(k.kind, SD_OKEY_OTHER);
  /* Malformed: truncated, trailing bytes, negative version. */
  assert_int_equal(sd_okey_decode(w.data, at - 1, &k), SL_ETRUNCATED);
  assert_int_equal(sd_okey_decode(w.data, at + 1, &k), SL_ECORRUPT);
  n = unhex("ffff 0001 67", v0, sizeof v0);
  assert_int_equal(sd_okey_decode(v0, n, &k), SL_EUNSUPPORTED);
  assert_int_equal(sd_okey_decode(v0, 1, &k), SL_ETRUNCATED);
  sl_buf_release(&w);
}

static void test_value_bytes(void **state) {
  (void)state;
  sl_buf w = SL_BUF_INIT;
  sd_oval v = {.offset = 42,
               .leader_epoch = 5,
               .metadata = KP_STR("md"),
               .commit_ts = 0x0102030405,
               .expire_ts = -1};
  assert_int_equal(sd_oval_encode(&w, &v), 0);
  /* Version 3, as Kafka 2.1+ writes. */
  expect_hex(&w, 0, "0003 000000000000002a 00000005 0002 6d64 0000000102030405");
  /* A commit with a retention time: version 1 with the expire timestamp
   * (the leader epoch does not exist in v1). */
  size_t at = w.len;
  v.expire_ts = 0x10;
  assert_int_equal(sd_oval_encode(&w, &v), 0);
  expect_hex(&w, at, "0001 000000000000002a 0002 6d64 0000000102030405 0000000000000010");

  kp_arena a;
  kp_arena_init(&a, 4096);
  sd_oval back;
  assert_int_equal(sd_oval_decode(w.data, at, &a, &back), 0);
  assert_int_equal(back.offset, 42);
  assert_int_equal(back.leader_epoch, 5);
  assert_int_equal(back.expire_ts, -1);
  assert_int_equal(back.commit_ts, 0x0102030405);
  assert_int_equal(sd_oval_decode(w.data + at, w.len - at, &a, &back), 0);
  assert_int_equal(back.leader_epoch, -1);
  assert_int_equal(back.expire_ts, 0x10);
  /* v4 (flexible) and a later version with an unknown tagged field. */
  uint8_t b[64];
  size_t n =
      unhex("0004 000000000000002a 00000005 03 6d64 0000000102030405 00", b, sizeof b);
  assert_int_equal(sd_oval_decode(b, n, &a, &back), 0);
  assert_int_equal(back.leader_epoch, 5);
  assert_int_equal(back.metadata.len, 2);
  n = unhex("0007 000000000000002a 00000005 03 6d64 0000000102030405 01 09 02 abcd", b,
            sizeof b);
  assert_int_equal(sd_oval_decode(b, n, &a, &back), 0);
  assert_int_equal(back.offset, 42);
  /* Truncated and trailing garbage. */
  assert_int_equal(sd_oval_decode(w.data, at - 1, &a, &back), SL_ETRUNCATED);
  assert_int_equal(sd_oval_decode(w.data, at + 2, &a, &back), SL_ECORRUPT);
  kp_arena_release(&a);
  sl_buf_release(&w);
}

/* ---- partitioning ---- */

static int32_t jhash(const char *s) {
  return sd_java_string_hash(s, strlen(s));
}

static void test_java_hash(void **state) {
  (void)state;
  /* Values Java's String.hashCode gives. */
  assert_int_equal(jhash(""), 0);
  assert_int_equal(jhash("hello"), 99162322);
  assert_int_equal(jhash("Aa"), 2112);
  assert_int_equal(jhash("BB"), 2112);
  assert_int_equal(jhash("polygenelubricants"), INT32_MIN);
  assert_int_equal(jhash("my-group"), -1906497762);
  assert_int_equal(jhash("\xc3\xbc"), 252);              /* U+00FC */
  assert_int_equal(jhash("gr\xc3\xbcppe"), -1233264812); /* "grüppe" */
  assert_int_equal(jhash("\xf0\x9f\x98\x80"), 1772899);  /* U+1F600: a surrogate pair */
  assert_int_equal(jhash("a\xe2\x82"
                         "b"),
                   2124838); /* truncated: one U+FFFD */
  assert_int_equal(jhash("a\xc0\x80"
                         "b"),
                   67898561); /* two invalid bytes: two */
  assert_int_equal(sd_java_string_length("gr\xc3\xbcppe", 7), 6);
  assert_int_equal(sd_java_string_length("\xf0\x9f\x98\x80", 4), 2);

  assert_int_equal(sd_offsets_partition_of(KP_STR("my-group"), 50), 12);
  assert_int_equal(sd_offsets_partition_of(KP_STR("a"), 50), 47);
  /* Utils.abs(Integer.MIN_VALUE) is 0. */
  assert_int_equal(sd_offsets_partition_of(KP_STR("polygenelubricants"), 50), 0);
  assert_int_equal(sd_offsets_partition_of(KP_STR("polygenelubricants"), 7), 0);
  assert_int_equal(sd_offsets_partition_of(KP_STR(""), 50), 0);
  assert_int_equal(sd_offsets_partition_of(KP_STR("my-group"), 1), 0);
}

/* ---- replay ---- */

static void apply_offset(sd_offsets *o, const char *group, const char *topic,
                         int32_t part, int64_t offset, int64_t ts, bool tomb) {
  sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
  assert_int_equal(
      sd_okey_encode_offset(&k, kp_str_from(group), kp_str_from(topic), part), 0);
  sd_oval val = {.offset = offset,
                 .leader_epoch = -1,
                 .metadata = KP_STR(""),
                 .commit_ts = ts,
                 .expire_ts = -1};
  assert_int_equal(sd_oval_encode(&v, &val), 0);
  assert_int_equal(sd_offsets_apply(o, k.data, (int32_t)k.len, tomb ? NULL : v.data,
                                    tomb ? -1 : (int32_t)v.len),
                   0);
  sl_buf_release(&k);
  sl_buf_release(&v);
}

/* A GroupMetadataValue v3 with `members` consumer members subscribed to
 * `topic`, currentStateTimestamp state_ts. */
static void apply_group(sd_offsets *o, const char *group, const char *protocol_type,
                        int members, const char *topic, int64_t state_ts) {
  sl_buf sub = SL_BUF_INIT;
  sl_buf_i16(&sub, 0);
  kp_consumer_protocol_subscription s;
  kp_consumer_protocol_subscription_init_defaults(&s);
  kp_str t = kp_str_from(topic);
  s.topics = &t;
  s.topics_count = 1;
  assert_int_equal(kp_consumer_protocol_subscription_encode(&sub, 0, &s), 0);
  kp_group_metadata_value_member_metadata m[2];
  for (int i = 0; i < 2; i++) {
    kp_group_metadata_value_member_metadata_init_defaults(&m[i]);
    m[i].member_id = i ? KP_STR("m1") : KP_STR("m0");
    m[i].subscription = (kp_bytes){sub.data, (int32_t)sub.len};
  }
  kp_group_metadata_value g;
  kp_group_metadata_value_init_defaults(&g);
  g.protocol_type = kp_str_from(protocol_type);
  g.generation = 3;
  g.current_state_timestamp = state_ts;
  g.members = m;
  g.members_count = members;
  sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
  sl_buf_i16(&v, 3);
  assert_int_equal(kp_group_metadata_value_encode(&v, 3, &g), 0);
  assert_int_equal(sd_okey_encode_group(&k, kp_str_from(group)), 0);
  assert_int_equal(sd_offsets_apply(o, k.data, (int32_t)k.len, v.data, (int32_t)v.len),
                   0);
  sl_buf_release(&k);
  sl_buf_release(&v);
  sl_buf_release(&sub);
}

static int64_t committed(sd_offsets *o, const char *group, const char *topic, int32_t p) {
  sd_ogroup *g = sd_offsets_group(o, kp_str_from(group));
  sd_oentry *e = sd_offsets_entry(g, kp_str_from(topic), p);
  return e ? e->offset : -1;
}

static void test_replay(void **state) {
  (void)state;
  sd_offsets o;
  memset(&o, 0, sizeof o);
  apply_offset(&o, "g1", "orders", 0, 10, 1000, false);
  apply_offset(&o, "g1", "orders", 1, 20, 1000, false);
  apply_offset(&o, "g1", "orders", 0, 11, 1001, false); /* the latest wins */
  apply_offset(&o, "g2", "orders", 0, 5, 1000, false);
  apply_offset(&o, "g2", "orders", 0, 0, 0, true); /* tombstone */
  assert_int_equal(committed(&o, "g1", "orders", 0), 11);
  assert_int_equal(committed(&o, "g1", "orders", 1), 20);
  assert_int_equal(committed(&o, "g2", "orders", 0), -1);
  /* A group with neither offsets nor metadata is gone. */
  assert_null(sd_offsets_group(&o, KP_STR("g2")));
  assert_int_equal(o.count, 1);
  /* Many partitions: the tables grow. */
  for (int i = 0; i < 300; i++)
    apply_offset(&o, "big", i % 2 ? "a" : "b", i, i * 10, 1000, false);
  for (int i = 0; i < 300; i++)
    assert_int_equal(committed(&o, "big", i % 2 ? "a" : "b", i), i * 10);
  for (int i = 0; i < 200; i++) {
    char name[16];
    snprintf(name, sizeof name, "grp-%d", i);
    apply_offset(&o, name, "t", 0, i, 1000, false);
  }
  assert_int_equal(committed(&o, "grp-199", "t", 0), 199);
  assert_int_equal(o.count, 202);
  /* Group metadata: remembered, and a tombstone forgets it. */
  apply_group(&o, "g1", "consumer", 1, "orders", 500);
  sd_ogroup *g = sd_offsets_group(&o, KP_STR("g1"));
  assert_non_null(g->meta);
  assert_false(sd_offsets_meta_empty(g));
  sl_buf k = SL_BUF_INIT;
  assert_int_equal(sd_okey_encode_group(&k, KP_STR("g1")), 0);
  assert_int_equal(sd_offsets_apply(&o, k.data, (int32_t)k.len, NULL, -1), 0);
  assert_null(g->meta);
  assert_true(sd_offsets_meta_empty(g));
  assert_int_equal(committed(&o, "g1", "orders", 0), 11);
  /* Corrupt records change nothing and say so. */
  uint8_t bad[] = {0, 1, 0, 9, 'x'};
  assert_int_not_equal(sd_offsets_apply(&o, bad, sizeof bad, bad, sizeof bad), 0);
  assert_int_not_equal(sd_offsets_apply(&o, NULL, -1, bad, sizeof bad), 0);
  uint8_t bad_value[] = {0, 3, 1, 2};
  assert_int_not_equal(
      sd_offsets_apply(&o, k.data, (int32_t)k.len - 1, bad_value, sizeof bad_value), 0);
  sl_buf k2 = SL_BUF_INIT;
  assert_int_equal(sd_okey_encode_offset(&k2, KP_STR("g1"), KP_STR("orders"), 0), 0);
  assert_int_equal(sd_offsets_apply(&o, k2.data, (int32_t)k2.len, bad_value, 4),
                   SL_ETRUNCATED);
  assert_int_equal(committed(&o, "g1", "orders", 0), 11);
  sl_buf_release(&k);
  sl_buf_release(&k2);
  sd_offsets_clear(&o);
  assert_int_equal(o.count, 0);
}

/* ---- expiry ---- */

static int64_t expired(sd_offsets *o, const char *group, int64_t now, int64_t retention) {
  sd_ogroup *g = sd_offsets_group(o, kp_str_from(group));
  assert_non_null(g);
  kp_arena a;
  kp_arena_init(&a, 1 << 20);
  sd_ometa mv;
  sd_offsets_meta_view(g, &a, &mv);
  sd_oentry *list[16];
  int64_t n = sd_offsets_expired_of(g, &mv, now, retention, list, 16);
  kp_arena_release(&a);
  return n;
}

static void test_expiry(void **state) {
  (void)state;
  sd_offsets o;
  memset(&o, 0, sizeof o);
  const int64_t R = 60000;
  /* A simple group (offsets only): since each commit. */
  apply_offset(&o, "simple", "t", 0, 1, 1000, false);
  apply_offset(&o, "simple", "t", 1, 1, 5000, false);
  assert_int_equal(expired(&o, "simple", 1000 + R - 1, R), 0);
  assert_int_equal(expired(&o, "simple", 1000 + R, R), 1);
  assert_int_equal(expired(&o, "simple", 5000 + R, R), 2);
  /* A group with protocol type "" is simple too. */
  apply_offset(&o, "blank", "t", 0, 1, 1000, false);
  apply_group(&o, "blank", "", 0, "t", 900000);
  assert_int_equal(expired(&o, "blank", 1000 + R, R), 1);
  /* An Empty consumer group: since it became Empty, not since the commit. */
  apply_offset(&o, "empty", "t", 0, 1, 1000, false);
  apply_group(&o, "empty", "consumer", 0, "t", 100000);
  assert_true(sd_offsets_meta_empty(sd_offsets_group(&o, KP_STR("empty"))));
  assert_int_equal(expired(&o, "empty", 1000 + R, R), 0);
  assert_int_equal(expired(&o, "empty", 100000 + R - 1, R), 0);
  assert_int_equal(expired(&o, "empty", 100000 + R, R), 1);
  /* Empty without a state timestamp (old records): since the commit. */
  apply_group(&o, "empty", "consumer", 0, "t", -1);
  assert_int_equal(expired(&o, "empty", 1000 + R, R), 1);
  /* A consumer group with members: never for subscribed topics, since the
   * commit for the others (KIP-496). */
  apply_offset(&o, "active", "orders", 0, 1, 1000, false);
  apply_offset(&o, "active", "old", 0, 1, 1000, false);
  apply_group(&o, "active", "consumer", 2, "orders", 500);
  assert_int_equal(expired(&o, "active", 1000 + 100 * R, R), 1);
  assert_int_equal(expired(&o, "active", 1000 + R - 1, R), 0);
  /* A non-consumer protocol with members: nothing expires. */
  apply_offset(&o, "connect", "t", 0, 1, 1000, false);
  apply_group(&o, "connect", "connect", 1, "t", 500);
  assert_int_equal(expired(&o, "connect", 1000 + 100 * R, R), 0);
  /* A v1 record's expire timestamp replaces the retention (old semantics)
   * where offsets expire at all... */
  sd_ogroup *g = sd_offsets_group(&o, KP_STR("simple"));
  sd_oval v = {.offset = 7,
               .leader_epoch = -1,
               .metadata = KP_STR(""),
               .commit_ts = 100000,
               .expire_ts = 102000};
  assert_int_equal(sd_offsets_put(g, KP_STR("t"), 2, &v), 0);
  assert_int_equal(expired(&o, "simple", 5000 + R, R), 2);
  assert_int_equal(expired(&o, "simple", 102000, R), 3);
  /* ... but not in a group whose offsets do not expire. */
  g = sd_offsets_group(&o, KP_STR("connect"));
  assert_int_equal(sd_offsets_put(g, KP_STR("t"), 1, &v), 0);
  assert_int_equal(expired(&o, "connect", 1000 + 100 * R, R), 0);
  sd_offsets_clear(&o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_bytes), cmocka_unit_test(test_value_bytes),
      cmocka_unit_test(test_java_hash), cmocka_unit_test(test_replay),
      cmocka_unit_test(test_expiry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
