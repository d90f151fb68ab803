/*
 * test_legacy.c - legacy message sets (magic 0 and 1): exact bytes, CRC-32
 * validation, iteration of plain messages and of gzip/snappy/lz4 wrappers
 * (v0 absolute inner offsets, v1 relative inner offsets, v1 LogAppendTime),
 * the magic-0 lz4 header-checksum quirk, and malformed entries.
 * Layout: docs/FORMAT.md, "Legacy messages".
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "seglog/batch.h"
#include "seglog/compress.h"
#include "seglog/crc.h"

#define TS 1700000000000LL

/*
 * Generated with kafka-python 2.0.2 LegacyRecordBatchBuilder: records
 * (key "k0", value "hello"x10, TS), (null, "v", TS+1), ("", null, TS+2).
 * Plain sets: three entries at offsets 100..102.  Wrappers: v0 inner offsets
 * 100..102 (absolute); v1 inner offsets 0..2 (relative), wrapper offset and
 * timestamp patched to 102 and TS+2 (CRC recomputed).  v0 lz4 carries the
 * old broken header checksum.
 */
static const char KP_V0_NONE[] =
    "000000000000006400000042df3dfce50000000000026b300000003268656c6c6f68656c"
    "6c6f68656c6c6f68656c6c6f68656c6c6f68656c6c6f68656c6c6f68656c6c6f68656c6c"
    "6f68656c6c6f00000000000000650000000fd20cbff50000ffffffff0000000176000000"
    "00000000660000000e3d314895000000000000ffffffff";
static const char KP_V0_GZIP[] =
    "00000000000000660000005cdbd90fab0001ffffffff0000004e1f8b0800fa0f076b02ff"
    "63600083142076ba6ffbe72998c7946d00248d32527372f24922208631a40231ff259efd"
    "5f1918fe030190c75806954a03623e5b438fa9102e481a0056aad13e83000000";
static const char KP_V0_SNAPPY[] =
    "000000000000006600000073b5a4bd340002ffffffff0000006582534e41505059000000"
    "00010000000100000051830100000901206400000042df3dfce5050f2c026b3000000032"
    "68656c6c6fb20500053e540000650000000fd20cbff50000ffffffff00000001760d1b48"
    "660000000e3d314895000000000000ffffffff";
static const char KP_V0_LZ4[] =
    "00000000000000660000007288d3aba80003ffffffff0000006404224d1860401a550000"
    "0012000100916400000042df3dfce50f00cf026b300000003268656c6c6f05001a013e00"
    "f0070000650000000fd20cbff50000ffffffff00000001761800f007000000660000000e"
    "3d314895000000000000ffffffff00000000";
static const char KP_V1_NONE[] =
    "00000000000000640000004ab94d872a01000000018bcfe56800000000026b3000000032"
    "68656c6c6f68656c6c6f68656c6c6f68656c6c6f68656c6c6f68656c6c6f68656c6c6f68"
    "656c6c6f68656c6c6f68656c6c6f0000000000000065000000172ea541fb01000000018b"
    "cfe56801ffffffff000000017600000000000000660000001614ca060b01000000018bcf"
    "e5680200000000ffffffff";
static const char KP_V1_GZIP[] =
    "00000000000000660000006bc754d5dc01010000018bcfe56802ffffffff000000551f8b"
    "0800fa0f076b02ff63608003af9dbeed5a8c400663f7f9a7192011a66c03206994919a93"
    "934f120135116498b8de52c7df705319ff030188530655c204c46222a7d8b8e14a40220c"
    "206500585b3c7f9b000000";
static const char KP_V1_SNAPPY[] =
    "000000000000006600000087558c197f01020000018bcfe56802ffffffff000000718253"
    "4e415050590000000001000000010000005d9b0100001901344ab94d872a01000000018b"
    "cfe56801182c026b300000003268656c6c6fb20500013d01491c000000172ea541fb0109"
    "05561001ffffffff011a007601202c000000020000001614ca060b1523200200000000ff"
    "ffffff";
static const char KP_V1_LZ4[] =
    "00000000000000660000008789424e2001030000018bcfe56802ffffffff000000710422"
    "4d1868409b000000000000008d5a00000016000100e04ab94d872a01000000018bcfe568"
    "1800cf026b300000003268656c6c6f05001a003d0000490085000000172ea541fb560050"
    "01ffffffff1a0011762100b50000020000001614ca060b2300900200000000ffffffff00"
    "000000";
static const char KP_V1_GZIP_APPEND_TIME[] =
    "00000000000000660000006b8cc78cd60109000001a3185c5000ffffffff000000551f8b"
    "0800fa0f076b02ff63608003af9dbeed5a8c400663f7f9a7192011a66c03206994919a93"
    "934f120135116498b8de52c7df705319ff030188530655c204c46222a7d8b8e14a40220c"
    "206500585b3c7f9b000000";

/* Hand-computed (CRC-32 from zlib): v0 offset 7 key "key" value "value";
 * v1 offset 8 ts TS key null value "v1". */
static const char V0_MSG[] = "0000000000000007 00000016 2356c137 00 00 00000003 6b6579"
                             "00000005 76616c7565";
static const char V1_MSG[] = "0000000000000008 00000018 6a5500fb 01 00 0000018bcfe56800"
                             "ffffffff 00000002 7631";

typedef struct exp_rec {
  int64_t offset;
  int64_t timestamp;
  const char *key; /* NULL = null */
  int32_t key_len;
  const char *value;
  int32_t value_len;
} exp_rec;

static uint8_t *unhex_alloc(const char *hex, size_t *n) {
  size_t cap = strlen(hex) / 2 + 1;
  uint8_t *b = malloc(cap);
  assert_non_null(b);
  *n = tu_unhex(hex, b, cap);
  return b;
}

static const char HELLO10[] = "hellohellohellohellohellohellohellohellohellohello";

static void expected(exp_rec e[3], int magic, int64_t append_time) {
  exp_rec r[3] = {{100, TS, "k0", 2, HELLO10, 50},
                  {101, TS + 1, NULL, -1, "v", 1},
                  {102, TS + 2, "", 0, NULL, -1}};
  for (int i = 0; i < 3; i++) {
    if (magic == 0)
      r[i].timestamp = -1;
    else if (append_time >= 0)
      r[i].timestamp = append_time;
  }
  memcpy(e, r, sizeof(r));
}

static void assert_rec(const sl_record *r, const exp_rec *e) {
  assert_true(r->offset == e->offset);
  assert_true(r->timestamp == e->timestamp);
  assert_int_equal(r->key_len, e->key_len);
  if (e->key_len > 0)
    assert_memory_equal(r->key, e->key, (size_t)e->key_len);
  if (e->key_len == 0)
    assert_non_null(r->key);
  assert_int_equal(r->value_len, e->value_len);
  if (e->value_len > 0)
    assert_memory_equal(r->value, e->value, (size_t)e->value_len);
  assert_int_equal(r->header_count, 0);
  assert_int_equal(r->attributes, 0);
}

static void test_exact_messages(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    int8_t magic;
    exp_rec e;
  } cases[] = {
      {V0_MSG, 0, {7, -1, "key", 3, "value", 5}},
      {V1_MSG, 1, {8, TS, NULL, -1, "v1", 2}},
  };
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  for (size_t i = 0; i < 2; i++) {
    size_t n;
    uint8_t *m = unhex_alloc(cases[i].hex, &n);
    int64_t base;
    int32_t size;
    int8_t magic;
    assert_int_equal(sl_batch_peek(m, n, &base, &size, &magic), SL_OK);
    assert_int_equal(size, (int32_t)n);
    assert_int_equal(magic, cases[i].magic);
    /* the CRC-32 covers magic..end */
    assert_int_equal(sl_crc32_ieee(0, m + 16, n - 16), sl_load_be32(m + 12));
    sl_diag d;
    assert_int_equal(sl_batch_validate(m, n, &d), SL_OK);
    sl_batch_header h;
    assert_int_equal(sl_batch_reader_open(rd, m, n, &h, &d), SL_OK);
    assert_int_equal(h.magic, cases[i].magic);
    assert_int_equal(h.records_count, 1);
    assert_true(h.base_offset == cases[i].e.offset);
    assert_int_equal(h.last_offset_delta, 0);
    assert_int_equal(h.batch_length, (int32_t)n - 12);
    assert_int_equal(h.crc, sl_load_be32(m + 12));
    assert_true(h.producer_id == -1);
    assert_int_equal(h.producer_epoch, -1);
    assert_int_equal(h.base_sequence, -1);
    assert_int_equal(h.partition_leader_epoch, -1);
    assert_true(h.max_timestamp == cases[i].e.timestamp);
    sl_record r;
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
    assert_rec(&r, &cases[i].e);
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
    /* every flipped bit after the CRC field is detected */
    for (size_t j = 16; j < n; j++) {
      m[j] ^= 0x04;
      int rc = sl_batch_validate(m, n, &d);
      assert_true(rc == SL_ECRC || rc == SL_ECORRUPT);
      m[j] ^= 0x04;
    }
    free(m);
  }
  sl_batch_reader_free(rd);
}

static void test_kafka_python_plain_sets(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    int magic;
  } cases[] = {{KP_V0_NONE, 0}, {KP_V1_NONE, 1}};
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  for (size_t i = 0; i < 2; i++) {
    size_t n;
    uint8_t *set = unhex_alloc(cases[i].hex, &n);
    exp_rec e[3];
    expected(e, cases[i].magic, -1);
    size_t pos = 0;
    int k = 0;
    while (pos < n) {
      int32_t size;
      int8_t magic;
      assert_int_equal(sl_batch_peek(set + pos, n - pos, NULL, &size, &magic), SL_OK);
      assert_int_equal(magic, cases[i].magic);
      sl_diag d;
      assert_int_equal(sl_batch_validate(set + pos, (size_t)size, &d), SL_OK);
      sl_batch_header h;
      assert_int_equal(sl_batch_reader_open(rd, set + pos, (size_t)size, &h, &d), SL_OK);
      assert_int_equal(sl_batch_compression(&h), SL_COMPRESSION_NONE);
      assert_true(h.base_offset == e[k].offset);
      sl_record r;
      assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
      assert_rec(&r, &e[k]);
      assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
      pos += (size_t)size;
      k++;
    }
    assert_int_equal(k, 3);
    free(set);
  }
  sl_batch_reader_free(rd);
}

static void test_kafka_python_wrappers(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    int magic;
    sl_compression codec;
    int64_t append_time;
  } cases[] = {
      {KP_V0_GZIP, 0, SL_COMPRESSION_GZIP, -1},
      {KP_V0_SNAPPY, 0, SL_COMPRESSION_SNAPPY, -1},
      {KP_V0_LZ4, 0, SL_COMPRESSION_LZ4, -1},
      {KP_V1_GZIP, 1, SL_COMPRESSION_GZIP, -1},
      {KP_V1_SNAPPY, 1, SL_COMPRESSION_SNAPPY, -1},
      {KP_V1_LZ4, 1, SL_COMPRESSION_LZ4, -1},
      {KP_V1_GZIP_APPEND_TIME, 1, SL_COMPRESSION_GZIP, 1800000000000LL},
  };
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t n;
    uint8_t *w = unhex_alloc(cases[i].hex, &n);
    exp_rec e[3];
    expected(e, cases[i].magic, cases[i].append_time);
    sl_diag d;
    sl_diag_clear(&d);
    assert_int_equal(sl_batch_validate(w, n, &d), SL_OK);
    sl_batch_header h;
    int rc = sl_batch_reader_open(rd, w, n, &h, &d);
    if (rc)
      fail_msg("case %zu: %d %s", i, rc, d.msg);
    assert_int_equal(h.magic, cases[i].magic);
    assert_int_equal(sl_batch_compression(&h), cases[i].codec);
    assert_int_equal((h.attributes & SL_ATTR_LOG_APPEND_TIME) != 0,
                     cases[i].append_time >= 0);
    assert_int_equal(h.records_count, 3);
    assert_true(h.base_offset == 100);
    assert_int_equal(h.last_offset_delta, 2);
    assert_true(sl_batch_last_offset(&h) == 102);
    assert_true(h.base_timestamp == e[0].timestamp);
    assert_true(h.max_timestamp == (cases[i].magic == 0         ? -1
                                    : cases[i].append_time >= 0 ? cases[i].append_time
                                                                : TS + 2));
    for (int k = 0; k < 3; k++) {
      sl_record r;
      assert_int_equal(sl_batch_reader_next(rd, &r, &d), 1);
      assert_rec(&r, &e[k]);
    }
    sl_record r;
    assert_int_equal(sl_batch_reader_next(rd, &r, &d), 0);
    free(w);
  }
  sl_batch_reader_free(rd);
}

/* v1 wrapper offsets: absolute = wrapperOffset - lastInnerRelative + inner. */
static void test_v1_relative_offsets(void **state) {
  (void)state;
  size_t n;
  uint8_t *w = unhex_alloc(KP_V1_SNAPPY, &n);
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(0, &rd), SL_OK);
  static const int64_t wrapper[] = {2, 1000000, 0};
  for (int i = 0; i < 3; i++) {
    sl_batch_set_base_offset(w, wrapper[i]); /* not covered by the CRC */
    assert_int_equal(sl_batch_validate(w, n, NULL), SL_OK);
    sl_batch_header h;
    assert_int_equal(sl_batch_reader_open(rd, w, n, &h, NULL), SL_OK);
    assert_true(h.base_offset == wrapper[i] - 2);
    for (int k = 0; k < 3; k++) {
      sl_record r;
      assert_int_equal(sl_batch_reader_next(rd, &r, NULL), 1);
      assert_true(r.offset == wrapper[i] - 2 + k);
    }
  }
  sl_batch_reader_free(rd);
  free(w);
}

/* ---- synthetic entries for the error paths ---- */

/* Appends one legacy entry with a correct CRC-32. */
static void put_msg(sl_buf *b, int64_t off, int8_t magic, int8_t attrs, int64_t ts,
                    const void *key, int32_t klen, const void *val, int32_t vlen) {
  size_t start = b->len;
  sl_buf_i64(b, off);
  sl_buf_i32(b, 0);
  sl_buf_i32(b, 0);
  sl_buf_u8(b, (uint8_t)magic);
  sl_buf_u8(b, (uint8_t)attrs);
  if (magic == 1)
    sl_buf_i64(b, ts);
  sl_buf_i32(b, klen);
  if (klen > 0)
    sl_buf_append(b, key, (size_t)klen);
  sl_buf_i32(b, vlen);
  if (vlen > 0)
    sl_buf_append(b, val, (size_t)vlen);
  assert_int_equal(b->err, 0);
  sl_buf_patch_be32(b, start + 8, (uint32_t)(b->len - start - 12));
  sl_buf_patch_be32(b, start + 12,
                    sl_crc32_ieee(0, b->data + start + 16, b->len - start - 16));
}

/* A wrapper of `codec` around the given inner message set. */
static void put_wrapper(sl_buf *b, int8_t magic, int codec, const sl_buf *inner) {
  sl_buf z = SL_BUF_INIT;
  assert_int_equal(sl_compress((sl_compression)codec, SL_COMPRESSION_LEVEL_DEFAULT,
                               inner->data, inner->len, &z),
                   SL_OK);
  put_msg(b, 5, magic, (int8_t)codec, TS, NULL, -1, z.data, (int32_t)z.len);
  sl_buf_release(&z);
}

static void expect_open(const sl_buf *b, size_t max, int want, const char *why) {
  sl_batch_reader *rd;
  assert_int_equal(sl_batch_reader_new(max, &rd), SL_OK);
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_batch_reader_open(rd, b->data, b->len, NULL, &d);
  if (rc != want)
    fail_msg("%s: rc %d want %d (%s)", why, rc, want, d.msg);
  if (want == SL_ECORRUPT)
    assert_int_equal(d.err, SL_ECORRUPT);
  sl_batch_reader_free(rd);
}

static void test_malformed_wrappers(void **state) {
  (void)state;
  sl_buf in = SL_BUF_INIT, b = SL_BUF_INIT;

  /* control: a good v1 gzip wrapper */
  put_msg(&in, 0, 1, 0, TS, "a", 1, "b", 1);
  put_msg(&in, 1, 1, 0, TS, "a", 1, "c", 1);
  put_wrapper(&b, 1, SL_COMPRESSION_GZIP, &in);
  expect_open(&b, 0, SL_OK, "good wrapper");
  expect_open(&b, 20, SL_ETOO_LARGE, "decompression over the max");

  /* nested compression */
  sl_buf_reset(&in);
  sl_buf_reset(&b);
  put_msg(&in, 0, 1, SL_COMPRESSION_GZIP, TS, NULL, -1, "xx", 2);
  put_wrapper(&b, 1, SL_COMPRESSION_GZIP, &in);
  expect_open(&b, 0, SL_ECORRUPT, "nested compressed inner message");

  /* inner magic differs from the wrapper's */
  sl_buf_reset(&in);
  sl_buf_reset(&b);
  put_msg(&in, 0, 0, 0, -1, "a", 1, "b", 1);
  put_wrapper(&b, 1, SL_COMPRESSION_SNAPPY, &in);
  expect_open(&b, 0, SL_ECORRUPT, "inner magic mismatch");

  /* empty inner set */
  sl_buf_reset(&in);
  sl_buf_reset(&b);
  put_wrapper(&b, 0, SL_COMPRESSION_GZIP, &in);
  expect_open(&b, 0, SL_ECORRUPT, "empty inner set");

  /* inner CRC wrong */
  sl_buf_reset(&in);
  sl_buf_reset(&b);
  put_msg(&in, 0, 0, 0, -1, "a", 1, "b", 1);
  in.data[in.len - 1] ^= 1;
  put_wrapper(&b, 0, SL_COMPRESSION_LZ4, &in);
  expect_open(&b, 0, SL_ECRC, "inner CRC mismatch");

  /* truncated trailing inner entry */
  sl_buf_reset(&in);
  sl_buf_reset(&b);
  put_msg(&in, 0, 0, 0, -1, "a", 1, "b", 1);
  put_msg(&in, 1, 0, 0, -1, "a", 1, "b", 1);
  in.len -= 3;
  put_wrapper(&b, 0, SL_COMPRESSION_GZIP, &in);
  expect_open(&b, 0, SL_ECORRUPT, "truncated inner entry");

  /* inner offsets going backwards */
  sl_buf_reset(&in);
  sl_buf_reset(&b);
  put_msg(&in, 9, 0, 0, -1, "a", 1, "b", 1);
  put_msg(&in, 3, 0, 0, -1, "a", 1, "b", 1);
  put_wrapper(&b, 0, SL_COMPRESSION_GZIP, &in);
  expect_open(&b, 0, SL_ECORRUPT, "inner offsets decreasing");

  /* wrapper with a null value, with zstd (not legal in v0/v1), with junk */
  sl_buf_reset(&b);
  put_msg(&b, 0, 1, SL_COMPRESSION_GZIP, TS, NULL, -1, NULL, -1);
  expect_open(&b, 0, SL_ECORRUPT, "null wrapper value");
  sl_buf_reset(&b);
  put_msg(&b, 0, 1, SL_COMPRESSION_ZSTD, TS, NULL, -1, "zz", 2);
  expect_open(&b, 0, SL_ECORRUPT, "zstd wrapper");
  sl_buf_reset(&b);
  put_msg(&b, 0, 0, SL_COMPRESSION_SNAPPY, TS, NULL, -1, "junkjunk", 8);
  expect_open(&b, 0, SL_ECORRUPT, "undecodable wrapper value");

  sl_buf_release(&in);
  sl_buf_release(&b);
}

static void test_malformed_messages(void **state) {
  (void)state;
  sl_buf b = SL_BUF_INIT;
  put_msg(&b, 0, 0, 0, -1, "key", 3, "val", 3);
  expect_open(&b, 0, SL_OK, "good");
  static const struct {
    size_t at; /* byte to patch (a length field) */
    int32_t v;
    const char *why;
  } patches[] = {
      {18, -2, "key length -2"},
      {18, 4, "key length past the value"},
      {18, 1000, "key length past the end"},
      {25, -5, "value length -5"},
      {25, 2, "value shorter than the message: trailing bytes"},
      {25, 4, "value length past the end"},
  };
  for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
    sl_buf c = SL_BUF_INIT;
    sl_buf_append(&c, b.data, b.len);
    sl_store_be32(c.data + patches[i].at, (uint32_t)patches[i].v);
    expect_open(&c, 0, SL_ECORRUPT, patches[i].why);
    sl_buf_release(&c);
  }
  /* a v1 message of the v0 minimum size */
  sl_buf_reset(&b);
  put_msg(&b, 0, 0, 0, -1, NULL, -1, NULL, -1);
  b.data[16] = 1;
  expect_open(&b, 0, SL_ECORRUPT, "v1 below its minimum");
  assert_int_equal(sl_batch_validate(b.data, b.len, NULL), SL_ECORRUPT);
  sl_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_messages),
      cmocka_unit_test(test_kafka_python_plain_sets),
      cmocka_unit_test(test_kafka_python_wrappers),
      cmocka_unit_test(test_v1_relative_offsets),
      cmocka_unit_test(test_malformed_wrappers),
      cmocka_unit_test(test_malformed_messages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
