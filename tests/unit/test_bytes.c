/* test_bytes.c - varints (Kafka's examples), the sticky reader, sl_buf. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/bytes.h"

static void test_varint_examples(void **state) {
  (void)state;
  struct {
    int32_t v;
    const char *hex;
  } cases[] = {{0, "00"},
               {-1, "01"},
               {1, "02"},
               {63, "7e"},
               {-64, "7f"},
               {64, "8001"},
               {300, "d804"},
               {INT32_MAX, "feffffff0f"},
               {INT32_MIN, "ffffffff0f"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t want[8], got[8];
    size_t n = tu_unhex(cases[i].hex, want, sizeof(want));
    assert_int_equal(sl_varint_encode(got, cases[i].v), n);
    assert_memory_equal(got, want, n);
    assert_int_equal(sl_varint_size(cases[i].v), n);
    sl_rbuf r;
    sl_rbuf_init(&r, want, n);
    assert_int_equal(sl_rbuf_varint(&r), cases[i].v);
    assert_int_equal(sl_rbuf_err(&r), 0);
    assert_int_equal(sl_rbuf_left(&r), 0);
  }
}

static void test_varlong_roundtrip(void **state) {
  (void)state;
  int64_t vals[] = {0, 1, -1, 1700000000000LL, INT64_MAX, INT64_MIN, -64, 64};
  for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
    uint8_t b[SL_VARLONG_MAX];
    size_t n = sl_varlong_encode(b, vals[i]);
    assert_int_equal(n, sl_varlong_size(vals[i]));
    sl_rbuf r;
    sl_rbuf_init(&r, b, n);
    assert_true(sl_rbuf_varlong(&r) == vals[i]);
    assert_int_equal(sl_rbuf_err(&r), 0);
  }
}

static void test_varint_rejects_sixth_byte_and_truncation(void **state) {
  (void)state;
  uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  sl_rbuf r;
  sl_rbuf_init(&r, six, sizeof(six));
  (void)sl_rbuf_varint(&r);
  assert_int_equal(sl_rbuf_err(&r), SL_ECORRUPT);
  uint8_t cut[] = {0x80, 0x80};
  sl_rbuf_init(&r, cut, sizeof(cut));
  (void)sl_rbuf_varint(&r);
  assert_int_equal(sl_rbuf_err(&r), SL_ETRUNCATED);
  uint8_t eleven[11];
  memset(eleven, 0x80, sizeof(eleven));
  sl_rbuf_init(&r, eleven, sizeof(eleven));
  (void)sl_rbuf_varlong(&r);
  assert_int_equal(sl_rbuf_err(&r), SL_ECORRUPT);
}

static void test_reader_sticky_error(void **state) {
  (void)state;
  uint8_t b[] = {0, 0, 0, 5, 1, 2};
  sl_rbuf r;
  sl_rbuf_init(&r, b, sizeof(b));
  assert_int_equal(sl_rbuf_i32(&r), 5);
  assert_int_equal(sl_rbuf_i32(&r), 0); /* only 2 left */
  assert_int_equal(sl_rbuf_err(&r), SL_ETRUNCATED);
  assert_int_equal(sl_rbuf_i16(&r), 0); /* stays failed */
  assert_null(sl_rbuf_bytes(&r, 1));
}

static void test_buf_writer(void **state) {
  (void)state;
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sl_buf_i32(&b, 0), 0);
  assert_int_equal(sl_buf_i64(&b, -2), 0);
  assert_int_equal(sl_buf_varint(&b, 300), 0);
  for (int i = 0; i < 10000; i++)
    assert_int_equal(sl_buf_u8(&b, (uint8_t)i), 0);
  sl_buf_patch_be32(&b, 0, 0xdeadbeef);
  assert_int_equal(sl_load_be32(b.data), 0xdeadbeef);
  assert_int_equal(b.len, 4 + 8 + 2 + 10000);
  size_t n;
  uint8_t *p = sl_buf_detach(&b, &n);
  assert_int_equal(n, 10014);
  assert_int_equal(b.len, 0);
  free(p);
  sl_buf_release(&b);
}

static void test_error_names(void **state) {
  (void)state;
  assert_string_equal(sl_errname(SL_ECRC), "CRC");
  assert_string_equal(sl_strerror(SL_OK), "success");
  assert_string_equal(sl_strerror(12345), "unknown error");
  sl_diag d;
  sl_diag_clear(&d);
  snprintf(d.path, sizeof(d.path), "x.log");
  sl_diag_set(&d, SL_ECRC, 70, "stored %d", 1);
  char out[256];
  assert_string_equal(sl_diag_format(&d, out, sizeof(out)),
                      "x.log: at byte 70: stored 1 (CRC)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_varint_examples),
      cmocka_unit_test(test_varlong_roundtrip),
      cmocka_unit_test(test_varint_rejects_sixth_byte_and_truncation),
      cmocka_unit_test(test_reader_sticky_error),
      cmocka_unit_test(test_buf_writer),
      cmocka_unit_test(test_error_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
