/*
 * test_record.c - RecordBatch v2 records: the builder's exact bytes (the
 * worked example of docs/FORMAT.md "Record batches", kafka-python's
 * DefaultRecordBatchBuilder output), round trips through every codec and
 * every varint size class, control batches and transaction markers, producer
 * fields, LogAppendTime, delete horizons, empty batches, and malformed records
 * that must give SL_ECORRUPT at the right position.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/batch.h"
#include "seglog/crc.h"

#define TS 1700000000000LL

/* baseOffset 0, epoch 0, one record key=null value="hi", ts 1700000000000. */
static const char EXAMPLE[] = "00 00 00 00 00 00 00 00 00 00 00 3a 00 00 00 00"
                              "02 bb cc 41 15 00 00 00 00 00 00 00 00 01 8b cf"
                              "e5 68 00 00 00 01 8b cf e5 68 00 ff ff ff ff ff"
                              "ff ff ff ff ff ff ff ff ff 00 00 00 01 10 00 00"
                              "00 01 04 68 69 00";

/*
 * Generated with kafka-python 2.0.2 (magic 2, producer epoch 0 leader epoch,
 * offsets 0..3, timestamps TS+0, +5, -3, +100):
 *   r0 key "key-0" value "value-"x20 headers h1="v1", empty="", null=null
 *   r1 key null value "" no headers
 *   r2 key "" value null header k="x"x100
 *   r3 key "key-3" value "abc"x50
 * The gzip one is transactional: producer id 4242, epoch 3, base sequence 17.
 */
static const char KP_V2_NONE[] =
    "0000000000000000000001e600000000024339faaa0000000000030000018bcfe5680000"
    "00018bcfe56864ffffffffffffffffffffffffffff00000004ae020000000a6b65792d30"
    "f00176616c75652d76616c75652d76616c75652d76616c75652d76616c75652d76616c75"
    "652d76616c75652d76616c75652d76616c75652d76616c75652d76616c75652d76616c75"
    "652d76616c75652d76616c75652d76616c75652d76616c75652d76616c75652d76616c75"
    "652d76616c75652d76616c75652d060468310476310a656d70747900086e756c6c010c00"
    "0a02010000dc01000504000102026bc80178787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878787878787878787878787878787878787878787878787878787878"
    "787878787878787878c60200c801060a6b65792d33ac0261626361626361626361626361"
    "626361626361626361626361626361626361626361626361626361626361626361626361"
    "626361626361626361626361626361626361626361626361626361626361626361626361"
    "626361626361626361626361626361626361626361626361626361626361626361626361"
    "626361626361626361626361626361626361626361626361626361626300";
static const char KP_V2_GZIP[] =
    "00000000000000000000009600000000025fb981d10011000000030000018bcfe5680000"
    "00018bcfe568640000000000001092000300000011000000041f8b0800fa0f076b02ff5b"
    "c7c4c0c0c0959d5aa96bf081b12c31a7345597fe241b4b86214b9921576a6e4149250347"
    "5e694e0e230f0317132303c31d46065616064626a6ec138c157400c798184e30b28103c4"
    "780d536252f220440c004437ed18b5010000";
static const char KP_V2_SNAPPY[] =
    "0000000000000000000000ac0000000002860988610002000000030000018bcfe5680000"
    "00018bcfe56864ffffffffffffffffffffffffffff0000000482534e4150505900000000"
    "010000000100000067b50348ae020000000a6b65792d30f00176616c75652dfe0600c606"
    "00a0060468310476310a656d70747900086e756c6c010c000a02010000dc010005040001"
    "02026bc8017878fe020086020014c60200c8010625111433ac02616263fe0300fe03004a"
    "03000000";
static const char KP_V2_LZ4[] =
    "0000000000000000000000a60000000002d18dc7130003000000030000018bcfe5680000"
    "00018bcfe56864ffffffffffffffffffffffffffff0000000404224d186840b501000000"
    "000000b85e000000ff04ae020000000a6b65792d30f00176616c75652d06005fff190604"
    "68310476310a656d70747900086e756c6c010c000a02010000dc01000504000102026bc8"
    "017801005061c60200c8010611016f33ac0261626303007c50636162630000000000";
static const char KP_V2_ZSTD[] =
    "0000000000000000000000940000000002cee7aac40004000000030000018bcfe5680000"
    "00018bcfe56864ffffffffffffffffffffffffffff0000000428b52ffd60b500cd020084"
    "04ae020000000a6b65792d30f00176616c75652d060468310476310a656d70747900086e"
    "756c6c010c000a02010000dc01000504000102026bc80178c60200c8010633ac02616263"
    "000400109d0ac56a0b002e2d5fd26207";

/* ---- helpers ---- */

typedef struct exp_hdr {
  const char *key;
  const char *value; /* NULL = null */
} exp_hdr;

typedef struct exp_rec {
  int64_t offset;
  int64_t timestamp;
  const uint8_t *key; /* NULL = null */
  int32_t key_len;
  const uint8_t *value;
  int32_t value_len;
  int32_t header_count;
  const sl_header *headers;
} exp_rec;

static uint8_t *unhex_alloc(const char *hex, size_t *n) {
  size_t cap = strlen(hex) / 2 + 1;
  uint8_t *b = malloc(cap);
  assert_non_null(b);
  *n = tu_unhex(hex, b, cap);
  return b;
}

static void assert_bytes(const uint8_t *a, int32_t alen, const uint8_t *b, int32_t blen) {
  assert_int_equal(alen, blen);
  if (alen > 0)
    assert_memory_equal(a, b, (size_t)alen);
}

static void assert_record(const sl_record *r, const exp_rec *e) {
  assert_true(r->offset == e->offset);
  assert_true(r->timestamp == e->timestamp);
  assert_bytes(r->key, r->key_len, e->key, e->key_len);
  assert_bytes(r->value, r->value_len, e->value, e->value_len);
  if (e->key_len == 0)
    assert_non_null(r->key); /* empty is not null */
  if (e->value_len == 0)
    assert_non_null(r->value);
  assert_int_equal(r->header_count, e->header_count);
  for (int32_t i = 0; i < e->header_count; i++) {
    assert_bytes(r->headers[i].key, r->headers[i].key_len, e->headers[i].key,
                 e->headers[i].key_len);
    assert_bytes(r->headers[i].value, r->headers[i].value_len, e->headers[i].value,
                 e->headers[i].value_len);
  }
}

/* Opens `batch`, checks every record against `exp`, and the clean end. */
static void read_expect(sl_batch_reader *rd, const uint8_t *batch, size_t n,
                        const exp_rec *exp, int count, sl_batch_header *h) {
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_batch_validate(batch, n, &d), SL_OK);
  assert_int_equal(sl_batch_reader_open(rd, batch, n, h, &d), SL_OK);
  assert_int_equal(h->records_count, count);
  sl_record r;
  for (int i = 0; i < count; i++) {
    int rc = sl_batch_reader_next(rd, &r, &d);
    if (rc != 1)
      fail_msg("record %d: rc %d: %s", i, rc, d.msg);
    assert_record(&r, &exp[i]);
  }
  assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
  assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
}

#define B(s) (const uint8_t *)(s), (int32_t)(sizeof(s) - 1)
#define H(k, v)                                                                          \
  {                                                                                      \
    (const uint8_t *)(k), (int32_t)(sizeof(k) - 1), (const uint8_t *)(v),                \
        (int32_t)(sizeof(v) - 1)                                                         \
  }

/* ---- exact bytes ---- */

static void test_worked_example(void **state) {
  (void)state;
  uint8_t want[80];
  size_t wn = tu_unhex(EXAMPLE, want, sizeof(want));
  assert_int_equal(wn, 70);
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.partition_leader_epoch = 0;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, "hi", 2, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_count(b), 1);
  assert_int_equal(sl_batch_builder_size(b), 70);
  sl_buf out = SL_BUF_INIT;
  sl_buf_append(&out, "xyz", 3); /* finish appends */
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  assert_int_equal(out.len, 73);
  assert_memory_equal(out.data + 3, want, 70);
  assert_int_equal(sl_load_be32(out.data + 3 + SL_BATCH_OFF_CRC), 0xbbcc4115u);

  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  sl_batch_header h;
  exp_rec e = {0, TS, NULL, -1, B("hi"), 0, NULL};
  read_expect(rd, out.data + 3, 70, &e, 1, &h);
  assert_int_equal(h.last_offset_delta, 0);
  sl_batch_reader_free(rd);
  sl_batch_builder_free(b);
  sl_buf_release(&out);
}

static const sl_header KP_H0[] = {
    H("h1", "v1"), H("empty", ""), {(const uint8_t *)"null", 4, NULL, -1}};
static uint8_t KP_X100[100];
static const sl_header KP_H2[] = {{(const uint8_t *)"k", 1, KP_X100, 100}};
static char KP_V0[121], KP_V3[151];

static void kp_expected(exp_rec e[4]) {
  memset(KP_X100, 'x', sizeof(KP_X100));
  for (int i = 0; i < 20; i++)
    memcpy(KP_V0 + 6 * i, "value-", 6);
  for (int i = 0; i < 50; i++)
    memcpy(KP_V3 + 3 * i, "abc", 3);
  exp_rec r[4] = {
      {0, TS, B("key-0"), (const uint8_t *)KP_V0, 120, 3, KP_H0},
      {1, TS + 5, NULL, -1, B(""), 0, NULL},
      {2, TS - 3, B(""), NULL, -1, 1, KP_H2},
      {3, TS + 100, B("key-3"), (const uint8_t *)KP_V3, 150, 0, NULL},
  };
  memcpy(e, r, sizeof(r));
}

static void test_builder_matches_kafka_python(void **state) {
  (void)state;
  exp_rec e[4];
  kp_expected(e);
  size_t wn;
  uint8_t *want = unhex_alloc(KP_V2_NONE, &wn);
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.partition_leader_epoch = 0;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  for (int i = 0; i < 4; i++)
    assert_int_equal(sl_batch_builder_add(b, e[i].timestamp, e[i].key, e[i].key_len,
                                          e[i].value, e[i].value_len, e[i].headers,
                                          e[i].header_count),
                     SL_OK);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  assert_int_equal(out.len, wn);
  assert_memory_equal(out.data, want, wn);
  sl_batch_builder_free(b);
  sl_buf_release(&out);
  free(want);
}

static void test_reads_kafka_python_batches(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    sl_compression codec;
  } cases[] = {
      {KP_V2_NONE, SL_COMPRESSION_NONE},     {KP_V2_GZIP, SL_COMPRESSION_GZIP},
      {KP_V2_SNAPPY, SL_COMPRESSION_SNAPPY}, {KP_V2_LZ4, SL_COMPRESSION_LZ4},
      {KP_V2_ZSTD, SL_COMPRESSION_ZSTD},
  };
  exp_rec e[4];
  kp_expected(e);
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t n;
    uint8_t *batch = unhex_alloc(cases[i].hex, &n);
    sl_batch_header h;
    read_expect(rd, batch, n, e, 4, &h);
    assert_int_equal(sl_batch_compression(&h), cases[i].codec);
    assert_int_equal(h.last_offset_delta, 3);
    assert_true(h.base_timestamp == TS);
    assert_true(h.max_timestamp == TS + 100);
    assert_int_equal(h.partition_leader_epoch, 0);
    if (cases[i].codec == SL_COMPRESSION_GZIP) {
      assert_true(sl_batch_is_transactional(&h));
      assert_true(h.producer_id == 4242);
      assert_int_equal(h.producer_epoch, 3);
      assert_int_equal(h.base_sequence, 17);
    } else {
      assert_false(sl_batch_is_transactional(&h));
      assert_true(h.producer_id == -1);
      assert_int_equal(h.producer_epoch, -1);
      assert_int_equal(h.base_sequence, -1);
    }
    free(batch);
  }
  sl_batch_reader_free(rd);
}

/* ---- round trips ---- */

static const int32_t SIZES[] = {0,    1,    63,    64,    127,    128,
                                8191, 8192, 16383, 16384, 1 << 20};
#define NSIZES (sizeof(SIZES) / sizeof(SIZES[0]))

/* Varint byte counts by hand, independent of the library. */
static size_t vsize(int64_t v) {
  uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    n++;
  }
  return n;
}

static void roundtrip_codec(sl_compression codec) {
  uint8_t *data = malloc((size_t)(1 << 20) + 16);
  assert_non_null(data);
  tu_fill_random(data, (size_t)(1 << 20) + 16, 42 + (uint64_t)codec);
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.compression = codec;
  o.base_offset = 1000;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  sl_buf out = SL_BUF_INIT;
  for (size_t s = 0; s < NSIZES; s++) {
    int32_t n = SIZES[s];
    sl_batch_builder_reset(b, &o);
    /* key, value, header key and value of size n, then the null variants */
    sl_header hs[2] = {{data + 1, n, data + 2, n}, {data, n, NULL, -1}};
    exp_rec e[3] = {
        {1000, TS + n, data + 3, n, data + 4, n, 2, hs},
        {1001, TS - 1, NULL, -1, data + 5, n, 1, hs + 1},
        {1002, TS, data + 6, n, NULL, -1, 0, NULL},
    };
    size_t body_total = 0;
    for (int i = 0; i < 3; i++) {
      assert_int_equal(sl_batch_builder_add(b, e[i].timestamp, e[i].key, e[i].key_len,
                                            e[i].value, e[i].value_len, e[i].headers,
                                            e[i].header_count),
                       SL_OK);
      size_t body =
          1 + vsize(e[i].timestamp - (TS + n)) + vsize(i) + vsize(e[i].key_len) +
          (size_t)(e[i].key_len > 0 ? e[i].key_len : 0) + vsize(e[i].value_len) +
          (size_t)(e[i].value_len > 0 ? e[i].value_len : 0) + vsize(e[i].header_count);
      for (int j = 0; j < e[i].header_count; j++)
        body += vsize(e[i].headers[j].key_len) + (size_t)e[i].headers[j].key_len +
                vsize(e[i].headers[j].value_len) +
                (size_t)(e[i].headers[j].value_len > 0 ? e[i].headers[j].value_len : 0);
      body_total += vsize((int64_t)body) + body;
    }
    assert_int_equal(sl_batch_builder_size(b), SL_BATCH_HEADER_SIZE + body_total);
    sl_buf_reset(&out);
    assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
    if (codec == SL_COMPRESSION_NONE)
      assert_int_equal(out.len, SL_BATCH_HEADER_SIZE + body_total);
    sl_batch_header h;
    read_expect(rd, out.data, out.len, e, 3, &h);
    assert_int_equal(sl_batch_compression(&h), codec);
    assert_true(h.base_offset == 1000);
    assert_int_equal(h.last_offset_delta, 2);
    assert_true(h.base_timestamp == TS + n);
    assert_true(h.max_timestamp == TS + n);
    assert_int_equal(h.attributes, (int16_t)codec);
  }
  sl_buf_release(&out);
  sl_batch_builder_free(b);
  sl_batch_reader_free(rd);
  free(data);
}

static void test_roundtrip_none(void **state) {
  (void)state;
  roundtrip_codec(SL_COMPRESSION_NONE);
}
static void test_roundtrip_gzip(void **state) {
  (void)state;
  roundtrip_codec(SL_COMPRESSION_GZIP);
}
static void test_roundtrip_snappy(void **state) {
  (void)state;
  roundtrip_codec(SL_COMPRESSION_SNAPPY);
}
static void test_roundtrip_lz4(void **state) {
  (void)state;
  roundtrip_codec(SL_COMPRESSION_LZ4);
}
static void test_roundtrip_zstd(void **state) {
  (void)state;
  roundtrip_codec(SL_COMPRESSION_ZSTD);
}

static void test_many_headers_and_records(void **state) {
  (void)state;
  enum { NH = 2000, NR = 3000 };
  sl_header *hs = calloc(NH, sizeof(*hs));
  char(*keys)[16] = calloc(NH, 16);
  assert_non_null(hs);
  assert_non_null(keys);
  for (int i = 0; i < NH; i++) {
    int kl = snprintf(keys[i], 16, "hdr-%d", i);
    hs[i].key = (const uint8_t *)keys[i];
    hs[i].key_len = kl;
    hs[i].value = i % 3 == 0 ? NULL : (const uint8_t *)keys[i];
    hs[i].value_len = i % 3 == 0 ? -1 : (i % 3 == 1 ? 0 : kl);
  }
  static const sl_compression codecs[] = {SL_COMPRESSION_NONE, SL_COMPRESSION_ZSTD};
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  for (size_t c = 0; c < 2; c++) {
    sl_batch_builder_opts o;
    sl_batch_builder_opts_init(&o);
    o.compression = codecs[c];
    sl_batch_builder *b;
    assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
    assert_int_equal(sl_batch_builder_add(b, TS, "k", 1, "v", 1, hs, NH), SL_OK);
    for (int i = 1; i < NR; i++)
      assert_int_equal(
          sl_batch_builder_add(b, TS + i, &i, sizeof(i), NULL, -1, hs, i % 4), SL_OK);
    sl_buf out = SL_BUF_INIT;
    assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
    sl_batch_header h;
    sl_diag d;
    assert_int_equal(sl_batch_validate(out.data, out.len, &d), SL_OK);
    assert_int_equal(sl_batch_reader_open(rd, out.data, out.len, &h, &d), SL_OK);
    assert_int_equal(h.records_count, NR);
    assert_int_equal(h.last_offset_delta, NR - 1);
    assert_true(h.max_timestamp == TS + NR - 1);
    sl_record r;
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
    exp_rec e0 = {0, TS, B("k"), B("v"), NH, hs};
    assert_record(&r, &e0);
    for (int i = 1; i < NR; i++) {
      assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
      exp_rec e = {i, TS + i, (const uint8_t *)&i, sizeof(i), NULL, -1, i % 4, hs};
      assert_record(&r, &e);
    }
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
    sl_buf_release(&out);
    sl_batch_builder_free(b);
  }
  sl_batch_reader_free(rd);
  free(keys);
  free(hs);
}

/* ---- control batches and markers ---- */

static void test_markers_exact(void **state) {
  (void)state;
  /* Built field by field in Python with kafka-python's crc32c. */
  static const char COMMIT[] =
      "0000000000000005000000420000000202a17569800030000000000000018bcfe568000000018bcfe5"
      "680000000000000010920003ffffffff000000012000000008000000010c00000000000700";
  static const char ABORT[] =
      "000000000000000000000042ffffffff0249975f240030000000000000000000000000000000000000"
      "00"
      "0000000000000000010000ffffffff000000012000000008000000000c00000000000000";
  uint8_t want[100];
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_build_marker(&out, 5, 4242, 3, SL_CONTROL_COMMIT, 7, TS, 2),
                   SL_OK);
  assert_int_equal(out.len, 78);
  assert_int_equal(tu_unhex(COMMIT, want, sizeof(want)), 78);
  assert_memory_equal(out.data, want, 78);
  assert_int_equal(sl_batch_build_marker(&out, 0, 1, 0, SL_CONTROL_ABORT, 0, 0, -1),
                   SL_OK);
  assert_int_equal(out.len, 156);
  assert_int_equal(tu_unhex(ABORT, want, sizeof(want)), 78);
  assert_memory_equal(out.data + 78, want, 78);
  assert_int_equal(
      sl_batch_build_marker(&out, 0, 1, 0, SL_CONTROL_LEADER_CHANGE, 0, 0, -1),
      SL_EINVAL);
  assert_int_equal(out.len, 156);

  /* the example of docs/FORMAT.md "Control batches and transaction markers" */
  static const char DOC[] = "00 00 00 00 00 00 00 0a 00 00 00 42 00 00 00 03"
                            "02 b2 de 5e ad 00 30 00 00 00 00 00 00 01 8b cf"
                            "e5 69 f4 00 00 01 8b cf e5 69 f4 00 00 00 00 00"
                            "00 0f a0 00 02 ff ff ff ff 00 00 00 01 20 00 00"
                            "00 08 00 00 00 01 0c 00 00 00 00 00 07 00";
  sl_buf doc = SL_BUF_INIT;
  assert_int_equal(
      sl_batch_build_marker(&doc, 10, 4000, 2, SL_CONTROL_COMMIT, 7, 1700000000500LL, 3),
      SL_OK);
  assert_int_equal(tu_unhex(DOC, want, sizeof(want)), 78);
  assert_int_equal(doc.len, 78);
  assert_memory_equal(doc.data, want, 78);
  assert_int_equal(sl_load_be32(doc.data + SL_BATCH_OFF_CRC), 0xb2de5eadu);
  sl_buf_release(&doc);

  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  static const struct {
    size_t at;
    int16_t type;
    int32_t epoch;
    int64_t pid;
  } m[] = {{0, SL_CONTROL_COMMIT, 7, 4242}, {78, SL_CONTROL_ABORT, 0, 1}};
  for (int i = 0; i < 2; i++) {
    sl_batch_header h;
    sl_diag d;
    assert_int_equal(sl_batch_validate(out.data + m[i].at, 78, &d), SL_OK);
    assert_int_equal(sl_batch_reader_open(rd, out.data + m[i].at, 78, &h, &d), SL_OK);
    assert_true(sl_batch_is_control(&h));
    assert_true(sl_batch_is_transactional(&h));
    assert_int_equal(h.attributes, 0x30);
    assert_true(h.producer_id == m[i].pid);
    assert_int_equal(h.base_sequence, -1);
    sl_record r;
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
    sl_control c;
    assert_int_equal(sl_control_parse(&r, &c, &d), SL_OK);
    assert_int_equal(c.version, 0);
    assert_int_equal(c.type, m[i].type);
    assert_int_equal(c.value_version, 0);
    assert_int_equal(c.coordinator_epoch, m[i].epoch);
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
  }
  sl_batch_reader_free(rd);
  sl_buf_release(&out);
}

static void test_control_parse_rules(void **state) {
  (void)state;
  static const struct {
    const char *key;
    int32_t key_len;
    const char *value;
    int32_t value_len;
    int rc;
    int16_t type;
    int32_t epoch;
  } cases[] = {
      {"\0\0\0\1", 4, "\0\0\0\0\0\x09", 6, SL_OK, 1, 9},
      {"\0\1\0\0", 4, "\0\1\0\0\1\0\xff", 7, SL_OK, 0, 256}, /* newer versions parse */
      {"\0\0\0\2", 4, NULL, -1, SL_OK, 2, -1},               /* leader change: no value */
      {"\0\0\0\x63", 4, "zz", 2, SL_OK, 99, -1},             /* unknown type: ignored */
      {"\0\0\0", 3, "\0\0\0\0\0\0", 6, SL_ECORRUPT, 0, 0},   /* short key */
      {NULL, -1, "\0\0\0\0\0\0", 6, SL_ECORRUPT, 0, 0},      /* null key */
      {"\xff\xff\0\1", 4, "\0\0\0\0\0\0", 6, SL_ECORRUPT, 0, 0}, /* negative version */
      {"\0\0\0\1", 4, "\0\0\0\0\0", 5, SL_ECORRUPT, 0, 0},       /* short marker value */
      {"\0\0\0\0", 4, NULL, -1, SL_ECORRUPT, 0, 0},              /* abort without value */
      {"\0\0\0\0", 4, "\xff\xff\0\0\0\0", 6, SL_ECORRUPT, 0, 0}, /* negative value ver */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sl_record r;
    memset(&r, 0, sizeof(r));
    r.key = (const uint8_t *)cases[i].key;
    r.key_len = cases[i].key_len;
    r.value = (const uint8_t *)cases[i].value;
    r.value_len = cases[i].value_len;
    sl_control c;
    sl_diag d;
    sl_diag_clear(&d);
    assert_int_equal(sl_control_parse(&r, &c, &d), cases[i].rc);
    if (cases[i].rc == SL_OK) {
      assert_int_equal(c.type, cases[i].type);
      assert_int_equal(c.coordinator_epoch, cases[i].epoch);
    }
  }
}

static void test_control_and_producer_fields(void **state) {
  (void)state;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.producer_id = 0x0102030405060708LL;
  o.producer_epoch = 0x0a0b;
  o.base_sequence = 0x7ffffffe;
  o.transactional = true;
  o.base_offset = 77;
  o.partition_leader_epoch = 12;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS, "a", 1, "b", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS + 1, "a", 1, "c", 1, NULL, 0), SL_OK);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  const uint8_t *p = out.data;
  assert_true((int64_t)sl_load_be64(p) == 77);
  assert_int_equal(sl_load_be32(p + SL_BATCH_OFF_LEADER_EPOCH), 12);
  assert_int_equal(sl_load_be16(p + SL_BATCH_OFF_ATTRIBUTES), 0x10);
  assert_int_equal(sl_load_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA), 1);
  assert_true(sl_load_be64(p + SL_BATCH_OFF_PRODUCER_ID) == 0x0102030405060708ULL);
  assert_int_equal(sl_load_be16(p + SL_BATCH_OFF_PRODUCER_EPOCH), 0x0a0b);
  assert_int_equal(sl_load_be32(p + SL_BATCH_OFF_BASE_SEQUENCE), 0x7ffffffe);
  assert_int_equal(sl_load_be32(p + SL_BATCH_OFF_RECORDS_COUNT), 2);

  /* a control batch that is not a marker, compressed */
  o.control = true;
  o.compression = SL_COMPRESSION_GZIP;
  sl_batch_builder_reset(b, &o);
  assert_int_equal(sl_batch_builder_add(b, TS, "\0\0\0\2", 4, NULL, -1, NULL, 0), SL_OK);
  sl_buf_reset(&out);
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  sl_batch_header h;
  exp_rec e = {77, TS, B("\0\0\0\2"), NULL, -1, 0, NULL};
  read_expect(rd, out.data, out.len, &e, 1, &h);
  assert_int_equal(h.attributes, 0x31);
  sl_batch_reader_free(rd);
  sl_batch_builder_free(b);
  sl_buf_release(&out);
}

/* ---- timestamps ---- */

static void test_log_append_time(void **state) {
  (void)state;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.log_append_time = true;
  o.max_timestamp = 1800000000000LL;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, "a", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS + 9, NULL, -1, "b", 1, NULL, 0), SL_OK);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  assert_int_equal(sl_load_be16(out.data + SL_BATCH_OFF_ATTRIBUTES), 0x08);
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  sl_batch_header h;
  exp_rec e[2] = {{0, 1800000000000LL, NULL, -1, B("a"), 0, NULL},
                  {1, 1800000000000LL, NULL, -1, B("b"), 0, NULL}};
  read_expect(rd, out.data, out.len, e, 2, &h);
  assert_true(h.base_timestamp == TS);

  /* the broker's in-place rewrite of a CreateTime batch */
  o.log_append_time = false;
  o.max_timestamp = -1;
  sl_batch_builder_reset(b, &o);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, "a", 1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS + 9, NULL, -1, "b", 1, NULL, 0), SL_OK);
  sl_buf_reset(&out);
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  e[0].timestamp = TS;
  e[1].timestamp = TS + 9;
  read_expect(rd, out.data, out.len, e, 2, &h);
  assert_true(h.max_timestamp == TS + 9);
  sl_batch_set_log_append_time(out.data, out.len, 1900000000000LL);
  e[0].timestamp = e[1].timestamp = 1900000000000LL;
  read_expect(rd, out.data, out.len, e, 2, &h);
  sl_batch_reader_free(rd);
  sl_batch_builder_free(b);
  sl_buf_release(&out);
}

static void test_delete_horizon_negative_deltas(void **state) {
  (void)state;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.delete_horizon_ms = TS + 1000;
  o.base_offset = 50;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS, "k", 1, NULL, -1, NULL, 0), SL_OK);
  assert_int_equal(sl_batch_builder_add(b, TS + 2000, "k", 1, "v", 1, NULL, 0), SL_OK);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  assert_int_equal(sl_load_be16(out.data + SL_BATCH_OFF_ATTRIBUTES), 0x40);
  assert_true((int64_t)sl_load_be64(out.data + SL_BATCH_OFF_BASE_TIMESTAMP) == TS + 1000);
  assert_true((int64_t)sl_load_be64(out.data + SL_BATCH_OFF_MAX_TIMESTAMP) == TS + 2000);
  /* record 0: len, attr 0, tsDelta -1000 = zigzag 1999 = cf 0f, offDelta 0,
   * key 1 "k", value null, 0 headers; record 1: tsDelta +1000 = d0 0f. */
  static const uint8_t R[] = {0x10, 0x00, 0xcf, 0x0f, 0x00, 0x02, 'k',  0x01, 0x00, 0x12,
                              0x00, 0xd0, 0x0f, 0x02, 0x02, 'k',  0x02, 'v',  0x00};
  assert_int_equal(out.len, SL_BATCH_HEADER_SIZE + sizeof(R));
  assert_memory_equal(out.data + SL_BATCH_HEADER_SIZE, R, sizeof(R));
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  sl_batch_header h;
  exp_rec e[2] = {{50, TS, B("k"), NULL, -1, 0, NULL},
                  {51, TS + 2000, B("k"), B("v"), 0, NULL}};
  read_expect(rd, out.data, out.len, e, 2, &h);
  sl_batch_reader_free(rd);
  sl_batch_builder_free(b);
  sl_buf_release(&out);
}

/* ---- offsets, overrides, empty batches ---- */

static void test_explicit_offsets_and_override(void **state) {
  (void)state;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.base_offset = 100;
  o.last_offset_delta = 20;
  o.compression = SL_COMPRESSION_LZ4;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  sl_record r;
  memset(&r, 0, sizeof(r));
  r.key_len = r.value_len = -1;
  r.timestamp = TS;
  r.offset = 99;
  assert_int_equal(sl_batch_builder_add_record(b, &r), SL_EINVALID_OFFSET);
  r.offset = 103;
  assert_int_equal(sl_batch_builder_add_record(b, &r), SL_OK);
  assert_int_equal(sl_batch_builder_add_record(b, &r), SL_EINVALID_OFFSET);
  r.offset = 102;
  assert_int_equal(sl_batch_builder_add_record(b, &r), SL_EINVALID_OFFSET);
  r.offset = 110;
  r.timestamp = TS + 1;
  assert_int_equal(sl_batch_builder_add_record(b, &r), SL_OK);
  /* sequential add continues after the last explicit offset */
  assert_int_equal(sl_batch_builder_add(b, TS + 2, "z", 1, NULL, -1, NULL, 0), SL_OK);
  r.offset = 100LL + INT32_MAX + 1;
  assert_int_equal(sl_batch_builder_add_record(b, &r), SL_EINVALID_OFFSET);
  assert_int_equal(sl_batch_builder_count(b), 3);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  sl_batch_header h;
  exp_rec e[3] = {{103, TS, NULL, -1, NULL, -1, 0, NULL},
                  {110, TS + 1, NULL, -1, NULL, -1, 0, NULL},
                  {111, TS + 2, B("z"), NULL, -1, 0, NULL}};
  read_expect(rd, out.data, out.len, e, 3, &h);
  assert_int_equal(h.last_offset_delta, 20);
  assert_true(sl_batch_last_offset(&h) == 120);

  /* an override below the real last offset is refused */
  o.last_offset_delta = 5;
  sl_batch_builder_reset(b, &o);
  r.offset = 110;
  assert_int_equal(sl_batch_builder_add_record(b, &r), SL_OK);
  sl_buf_reset(&out);
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_EINVAL);
  assert_int_equal(out.len, 0);
  sl_batch_reader_free(rd);
  sl_batch_builder_free(b);
  sl_buf_release(&out);
}

static void test_empty_batch(void **state) {
  (void)state;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.base_offset = 10;
  o.compression = SL_COMPRESSION_ZSTD; /* empty batches carry no codec */
  o.producer_id = 9;
  o.producer_epoch = 1;
  o.base_sequence = 4;
  o.transactional = true;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_EINVAL);
  assert_int_equal(out.len, 0);
  o.last_offset_delta = 6;
  o.max_timestamp = TS;
  sl_batch_builder_reset(b, &o);
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  assert_int_equal(out.len, 61);
  sl_batch_header h;
  assert_int_equal(sl_batch_validate(out.data, out.len, NULL), SL_OK);
  assert_int_equal(sl_batch_header_decode(out.data, out.len, &h, NULL), SL_OK);
  assert_int_equal(h.batch_length, 49);
  assert_int_equal(h.attributes, 0x10);
  assert_int_equal(h.last_offset_delta, 6);
  assert_true(h.base_timestamp == -1);
  assert_true(h.max_timestamp == TS);
  assert_true(h.producer_id == 9);
  assert_int_equal(h.base_sequence, 4);
  assert_int_equal(h.records_count, 0);
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  read_expect(rd, out.data, out.len, NULL, 0, &h);
  sl_batch_reader_free(rd);
  sl_batch_builder_free(b);
  sl_buf_release(&out);
}

static void test_builder_rejects_bad_input(void **state) {
  (void)state;
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.compression = (sl_compression)5;
  sl_batch_builder *b = NULL;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_EINVAL);
  assert_null(b);
  sl_batch_builder_opts_init(&o);
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  sl_header bad_key = {NULL, -1, NULL, -1};
  sl_header bad_val = {(const uint8_t *)"k", 1, NULL, -2};
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -2, NULL, -1, NULL, 0), SL_EINVAL);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, NULL, -2, NULL, 0), SL_EINVAL);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, 3, NULL, -1, NULL, 0), SL_EINVAL);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, NULL, -1, NULL, 1), SL_EINVAL);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, NULL, -1, &bad_key, 1),
                   SL_EINVAL);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, NULL, -1, &bad_val, 1),
                   SL_EINVAL);
  assert_int_equal(sl_batch_builder_count(b), 0);
  assert_int_equal(sl_batch_builder_size(b), 61);
  o.compression = (sl_compression)7;
  sl_batch_builder_reset(b, &o);
  assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, NULL, -1, NULL, 0), SL_EINVAL);
  sl_batch_builder_free(b);
  sl_batch_builder_free(NULL);
  sl_batch_reader_free(NULL);
}

/* ---- malformed records ---- */

/* Wraps a records section in a v2 header announcing `count` records. */
static size_t wrap(uint8_t *out, const char *records_hex, int32_t count) {
  size_t n = tu_unhex(records_hex, out + SL_BATCH_HEADER_SIZE, 4096);
  memset(out, 0, SL_BATCH_HEADER_SIZE);
  sl_store_be32(out + SL_BATCH_OFF_LENGTH, (uint32_t)(SL_BATCH_HEADER_SIZE - 12 + n));
  out[SL_BATCH_OFF_MAGIC] = 2;
  sl_store_be64(out + SL_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)TS);
  sl_store_be32(out + SL_BATCH_OFF_LAST_OFFSET_DELTA,
                (uint32_t)(count > 0 ? count - 1 : 0));
  sl_store_be32(out + SL_BATCH_OFF_RECORDS_COUNT, (uint32_t)count);
  size_t size = SL_BATCH_HEADER_SIZE + n;
  sl_store_be32(out + SL_BATCH_OFF_CRC, sl_batch_crc_compute(out, size));
  return size;
}

static void test_malformed_records(void **state) {
  (void)state;
  /* A good record: len 8, attr, tsΔ 0, offΔ 0, key null, value "hi", 0 hdrs. */
  static const struct {
    const char *name;
    const char *records;
    int32_t count;
    int good;    /* records read before the failure */
    int64_t pos; /* expected diag position in the batch */
  } cases[] = {
      {"good", "10 00 00 00 01 04 6869 00", 1, 1, -2},
      {"length one short of the fields", "0e 00 00 00 01 04 6869 00", 1, 0, 61 + 1 + 7},
      {"length longer than the fields", "12 00 00 00 01 04 6869 00 00", 1, 0, 61 + 1 + 8},
      {"length past the end", "12 00 00 00 01 04 6869 00", 1, 0, 61},
      {"count says 2, one record", "10 00 00 00 01 04 6869 00", 2, 1, 61 + 9},
      {"count says 1, two records", "10 00 00 00 01 04 6869 00 10 00 02 02 01 04 6869 00",
       1, 1, 61 + 9},
      {"trailing byte", "10 00 00 00 01 04 6869 00 00", 1, 1, 61 + 9},
      {"count 0 with bytes", "10 00 00 00 01 04 6869 00", 0, 0, 61},
      {"key length -2", "10 00 00 00 03 04 6869 00", 1, 0, 61 + 1 + 4},
      {"key length past the record", "10 00 00 00 0e 04 6869 00", 1, 0, 61 + 1 + 4},
      {"value length -3", "10 00 00 00 01 05 6869 00", 1, 0, 61 + 1 + 5},
      {"negative header count", "10 00 00 00 01 04 6869 01", 1, 0, 61 + 1 + 8},
      {"huge header count", "18 00 00 00 01 04 6869 feffffff0f", 1, 0, 61 + 1 + 12},
      {"null header key", "14 00 00 00 01 04 6869 02 01 01", 1, 0, 61 + 1 + 9},
      {"header value length -2", "16 00 00 00 01 04 6869 02 02 61 03", 1, 0, 61 + 1 + 11},
      {"6-byte length varint", "ffffffffff01 00 00 00 01 04 6869 00", 1, 0, 61},
      {"6-byte offset delta", "1a 00 00 ffffffffff01 01 04 6869 00", 1, 0, 61 + 1 + 7},
      {"11-byte timestamp delta", "1e 00 ffffffffffffffffffff01 00 01 04 6869 00", 1, 0,
       61 + 1 + 11},
      {"negative record length", "01 00", 1, 0, 61},
      {"empty section, count 1", "", 1, 0, 61},
  };
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  uint8_t batch[4096 + 64];
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t n = wrap(batch, cases[i].records, cases[i].count);
    sl_diag d;
    sl_diag_clear(&d);
    assert_int_equal(sl_batch_validate(batch, n, &d), SL_OK);
    assert_int_equal(sl_batch_reader_open(rd, batch, n, NULL, &d), SL_OK);
    sl_record r;
    for (int j = 0; j < cases[i].good; j++) {
      assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
      assert_true(r.offset == j);
    }
    int rc = sl_batch_reader_next(rd, &r, &d);
    if (cases[i].pos == -2) {
      assert_int_equal(rc, 0);
      continue;
    }
    if (rc != SL_ECORRUPT)
      fail_msg("%s: rc %d", cases[i].name, rc);
    if (d.pos != cases[i].pos)
      fail_msg("%s: pos %lld, want %lld (%s)", cases[i].name, (long long)d.pos,
               (long long)cases[i].pos, d.msg);
    assert_int_equal(d.err, SL_ECORRUPT);
    /* the error is sticky */
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), SL_ECORRUPT);
  }
  sl_batch_reader_free(rd);
}

static void test_reader_open_errors(void **state) {
  (void)state;
  uint8_t b[200];
  size_t n = tu_unhex(EXAMPLE, b, sizeof(b));
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  sl_record r;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_batch_reader_next(rd, &r, &d), SL_EINVAL); /* nothing open */
  assert_int_equal(sl_batch_reader_open(rd, b, n - 1, NULL, &d), SL_ECORRUPT);
  assert_int_equal(sl_batch_reader_open(rd, b, 10, NULL, &d), SL_ECORRUPT);
  assert_int_equal(sl_batch_reader_next(rd, &r, &d), SL_ECORRUPT);
  /* a compressed section that is not a valid stream */
  uint8_t c[200];
  memcpy(c, b, n);
  sl_store_be16(c + SL_BATCH_OFF_ATTRIBUTES, SL_COMPRESSION_GZIP);
  assert_int_equal(sl_batch_reader_open(rd, c, n, NULL, &d), SL_ECORRUPT);
  assert_int_equal(d.pos, SL_BATCH_HEADER_SIZE);
  /* the reader is reusable after errors */
  assert_int_equal(sl_batch_reader_open(rd, b, n, NULL, &d), SL_OK);
  assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
  assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
  sl_batch_reader_free(rd);
}

static void test_decompression_is_bounded(void **state) {
  (void)state;
  static const sl_compression codecs[] = {SL_COMPRESSION_GZIP, SL_COMPRESSION_SNAPPY,
                                          SL_COMPRESSION_LZ4, SL_COMPRESSION_ZSTD};
  uint8_t *zeros = calloc(1, 100000);
  assert_non_null(zeros);
  sl_batch_reader *small, *big;
  assert_int_equal(sl_batch_reader_new(50000, &small), SL_OK);
  assert_int_equal(sl_batch_reader_new(200000, &big), SL_OK);
  for (size_t i = 0; i < 4; i++) {
    sl_batch_builder_opts o;
    sl_batch_builder_opts_init(&o);
    o.compression = codecs[i];
    sl_batch_builder *b;
    assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
    assert_int_equal(sl_batch_builder_add(b, TS, NULL, -1, zeros, 100000, NULL, 0),
                     SL_OK);
    sl_buf out = SL_BUF_INIT;
    assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
    assert_true(out.len < 20000);
    sl_diag d;
    assert_int_equal(sl_batch_reader_open(small, out.data, out.len, NULL, &d),
                     SL_ETOO_LARGE);
    assert_int_equal(sl_batch_reader_open(big, out.data, out.len, NULL, &d), SL_OK);
    sl_record r;
    assert_int_equal(sl_batch_reader_next(big, &r, &d), 1);
    assert_int_equal(r.value_len, 100000);
    assert_memory_equal(r.value, zeros, 100000);
    sl_buf_release(&out);
    sl_batch_builder_free(b);
  }
  sl_batch_reader_free(small);
  sl_batch_reader_free(big);
  free(zeros);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_worked_example),
      cmocka_unit_test(test_builder_matches_kafka_python),
      cmocka_unit_test(test_reads_kafka_python_batches),
      cmocka_unit_test(test_roundtrip_none),
      cmocka_unit_test(test_roundtrip_gzip),
      cmocka_unit_test(test_roundtrip_snappy),
      cmocka_unit_test(test_roundtrip_lz4),
      cmocka_unit_test(test_roundtrip_zstd),
      cmocka_unit_test(test_many_headers_and_records),
      cmocka_unit_test(test_markers_exact),
      cmocka_unit_test(test_control_parse_rules),
      cmocka_unit_test(test_control_and_producer_fields),
      cmocka_unit_test(test_log_append_time),
      cmocka_unit_test(test_delete_horizon_negative_deltas),
      cmocka_unit_test(test_explicit_offsets_and_override),
      cmocka_unit_test(test_empty_batch),
      cmocka_unit_test(test_builder_rejects_bad_input),
      cmocka_unit_test(test_malformed_records),
      cmocka_unit_test(test_reader_open_errors),
      cmocka_unit_test(test_decompression_is_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
