/* test_sc_client.c - slclient (common/): base64 (RFC 4648 vectors), Kafka's
 * murmur2 and default partitioner (values from Kafka's own tests, checked
 * against kafka-python's independent implementation), the JSON record
 * envelope (exact strings, null vs empty, binary as base64, decode round
 * trip, malformed input) and kcat format strings. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slclient/base64.h"
#include "slclient/envelope.h"
#include "slclient/format.h"
#include "slclient/partition.h"

static char *buf_str(sl_buf *b) {
  sl_buf_u8(b, 0);
  b->len--;
  return (char *)b->data;
}

static void test_base64(void **state) {
  (void)state;
  static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                              "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t i = 0; i < 7; i++) {
    sl_buf b = SL_BUF_INIT;
    assert_int_equal(sc_base64_encode(plain[i], strlen(plain[i]), &b), 0);
    assert_int_equal(b.len, strlen(enc[i]));
    assert_int_equal(b.len, sc_base64_encoded_len(strlen(plain[i])));
    if (b.len)
      assert_memory_equal(b.data, enc[i], b.len);
    sl_buf_reset(&b);
    assert_int_equal(sc_base64_decode(enc[i], strlen(enc[i]), &b), 0);
    assert_int_equal(b.len, strlen(plain[i]));
    if (b.len)
      assert_memory_equal(b.data, plain[i], b.len);
    sl_buf_release(&b);
  }
  sl_buf b = SL_BUF_INIT;
  /* Unpadded input is accepted. */
  assert_int_equal(sc_base64_decode("Zm8", 3, &b), 0);
  assert_int_equal(b.len, 2);
  sl_buf_reset(&b);
  const uint8_t bin[] = {0x00, 0xff, 0xfe, 0x80};
  assert_int_equal(sc_base64_encode(bin, 4, &b), 0);
  assert_memory_equal(b.data, "AP/+gA==", 8);
  sl_buf_reset(&b);
  assert_int_equal(sc_base64_decode("AP/+gA==", 8, &b), 0);
  assert_memory_equal(b.data, bin, 4);
  /* Rejected: bad characters, impossible lengths, non-zero spare bits,
   * padding in a non-multiple of 4, URL-safe alphabet, whitespace. */
  const char *bad[] = {"Z", "Zg=", "Zh==", "Zm9v!", "Zm9v Yg==", "AP_-gA==", "=", "Zm=v"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sl_buf_reset(&b);
    sl_buf_append(&b, "xy", 2);
    assert_int_equal(sc_base64_decode(bad[i], strlen(bad[i]), &b), SL_EINVAL);
    assert_int_equal(b.len, 2); /* restored */
  }
  sl_buf_release(&b);
}

static void test_murmur2(void **state) {
  (void)state;
  /* Kafka's UtilsTest.testMurmur2 values (Java ints); kafka-python's murmur2
   * gives the same numbers as unsigned 32-bit values. */
  struct {
    const char *s;
    int32_t h;
  } cases[] = {
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
      {"", 275646681},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_int_equal(sc_murmur2(cases[i].s, strlen(cases[i].s)), cases[i].h);
  const uint8_t bin[] = {0x00, 0xff, 0x80};
  assert_int_equal(sc_murmur2(bin, 3), (int32_t)2506231675u);
  /* toPositive(h) % n */
  assert_int_equal(sc_partition_for_key("21", 2, 7), 3);
  assert_int_equal(sc_partition_for_key("foobar", 6, 7), 0);
  assert_int_equal(sc_partition_for_key("abc", 3, 7), 4);
  assert_int_equal(sc_partition_for_key("", 0, 7), 2);
  assert_int_equal(sc_partition_for_key("21", 2, 1), 0);
}

static void test_sticky(void **state) {
  (void)state;
  sc_sticky s;
  sc_sticky_init(&s, 42);
  int32_t p = sc_sticky_partition(&s, 5);
  assert_true(p >= 0 && p < 5);
  assert_int_equal(sc_sticky_partition(&s, 5), p); /* sticky within a batch */
  for (int i = 0; i < 50; i++) {
    sc_sticky_next_batch(&s, 5);
    int32_t q = sc_sticky_partition(&s, 5);
    assert_true(q >= 0 && q < 5);
    assert_int_not_equal(q, p); /* a new batch moves on */
    p = q;
  }
  sc_sticky_init(&s, 0);
  assert_int_equal(sc_sticky_partition(&s, 1), 0);
  sc_sticky_next_batch(&s, 1);
  assert_int_equal(sc_sticky_partition(&s, 1), 0);
}

static void test_envelope_encode(void **state) {
  (void)state;
  sl_buf b = SL_BUF_INIT;
  sc_record r;
  sc_record_init(&r);
  r.topic = "orders";
  r.topic_len = 6;
  r.partition = 2;
  r.offset = 41;
  r.tstype = SC_TSTYPE_CREATE;
  r.timestamp = 1700000000123;
  r.key = (const uint8_t *)"k1";
  r.key_len = 2;
  r.value = (const uint8_t *)"he said \"hi\"\n\x01";
  r.value_len = 14;
  sl_header h[3] = {{(const uint8_t *)"trace", 5, (const uint8_t *)"abc", 3},
                    {(const uint8_t *)"empty", 5, (const uint8_t *)"", 0},
                    {(const uint8_t *)"nul", 3, NULL, -1}};
  r.headers = h;
  r.header_count = 3;
  assert_int_equal(sc_envelope_encode(&r, &b), 0);
  assert_string_equal(buf_str(&b),
                      "{\"topic\":\"orders\",\"partition\":2,\"offset\":41,\"tstype\":"
                      "\"create\",\"ts\":1700000000123,\"broker\":-1,\"headers\":["
                      "\"trace\",\"abc\",\"empty\",\"\",\"nul\",null],\"key\":\"k1\","
                      "\"payload\":\"he said \\\"hi\\\"\\n\\u0001\"}");
  /* null key, empty payload, binary header value, no headers key when none */
  sl_buf_reset(&b);
  sc_record_init(&r);
  r.partition = 0;
  r.offset = 0;
  r.tstype = SC_TSTYPE_LOGAPPEND;
  r.timestamp = 5;
  r.value = (const uint8_t *)"";
  r.value_len = 0;
  assert_int_equal(sc_envelope_encode(&r, &b), 0);
  assert_string_equal(buf_str(&b),
                      "{\"partition\":0,\"offset\":0,\"tstype\":\"logappend\","
                      "\"ts\":5,\"broker\":-1,\"key\":null,\"payload\":\"\"}");
  sl_buf_reset(&b);
  const uint8_t bin[] = {0xff, 0x00, 0xc3};
  sl_header hb = {(const uint8_t *)"b", 1, bin, 3};
  r.headers = &hb;
  r.header_count = 1;
  r.key = bin;
  r.key_len = 3;
  r.value = (const uint8_t *)"caf\xc3\xa9";
  r.value_len = 5;
  r.tstype = SC_TSTYPE_NONE;
  r.timestamp = -1;
  assert_int_equal(sc_envelope_encode(&r, &b), 0);
  assert_string_equal(buf_str(&b),
                      "{\"partition\":0,\"offset\":0,\"tstype\":\"none\",\"ts\":-1,"
                      "\"broker\":-1,\"headers\":[\"b\",{\"base64\":\"/wDD\"}],"
                      "\"key\":{\"base64\":\"/wDD\"},\"payload\":\"caf\xc3\xa9\"}");
  sl_buf_release(&b);
}

static void test_utf8(void **state) {
  (void)state;
  assert_true(sc_utf8_valid((const uint8_t *)"", 0));
  assert_true(sc_utf8_valid((const uint8_t *)"abc\x7f", 4));
  assert_true(sc_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
  assert_false(sc_utf8_valid((const uint8_t *)"\xc0\x80", 2));         /* overlong */
  assert_false(sc_utf8_valid((const uint8_t *)"\xe0\x80\x80", 3));     /* overlong */
  assert_false(sc_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
  assert_false(sc_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
  assert_false(sc_utf8_valid((const uint8_t *)"\xe2\x82", 2));         /* truncated */
  assert_false(sc_utf8_valid((const uint8_t *)"\x80", 1));
}

static void test_envelope_decode(void **state) {
  (void)state;
  sc_envelope_decoder *d;
  sc_record r;
  sl_diag diag;
  assert_int_equal(sc_envelope_decoder_new(&d), 0);
  const char *in = " {\"topic\":\"t\\u00e9\",\"partition\":3,\"offset\":9,\"tstype\":"
                   "\"create\",\"ts\":-1,\"broker\":1,\"extra\":{\"a\":[1,2.5e3,true,"
                   "null,\"x\"]},\"headers\":[\"a\",null,\"b\",\"\",\"c\",{\"base64\":"
                   "\"AP8=\"}],\"key\":null,\"payload\":\"\\ud83d\\ude00\\/\\\\\"} \n";
  sl_diag_clear(&diag);
  assert_int_equal(sc_envelope_decode(d, in, strlen(in), &r, &diag), 0);
  assert_int_equal(r.topic_len, 3);
  assert_memory_equal(r.topic, "t\xc3\xa9", 3);
  assert_int_equal(r.partition, 3);
  assert_int_equal(r.offset, 9);
  assert_int_equal(r.tstype, SC_TSTYPE_CREATE);
  assert_int_equal(r.timestamp, -1);
  assert_int_equal(r.broker, 1);
  assert_int_equal(r.key_len, -1);
  assert_null(r.key);
  assert_int_equal(r.value_len, 6);
  assert_memory_equal(r.value, "\xf0\x9f\x98\x80/\\", 6);
  assert_int_equal(r.header_count, 3);
  assert_int_equal(r.headers[0].value_len, -1);
  assert_int_equal(r.headers[1].value_len, 0);
  assert_int_equal(r.headers[2].value_len, 2);
  assert_memory_equal(r.headers[2].value, "\x00\xff", 2);
  assert_memory_equal(r.headers[2].key, "c", 1);

  /* Missing fields stay unknown; empty strings stay empty. */
  in = "{\"key\":\"\",\"payload\":{\"base64\":\"\"}}";
  assert_int_equal(sc_envelope_decode(d, in, strlen(in), &r, &diag), 0);
  assert_int_equal(r.partition, -1);
  assert_int_equal(r.timestamp, -1);
  assert_int_equal(r.key_len, 0);
  assert_non_null(r.key);
  assert_int_equal(r.value_len, 0);
  assert_int_equal(r.header_count, 0);
  assert_null(r.topic);

  /* Encode -> decode reproduces binary, null and empty exactly. */
  uint8_t bin[256];
  for (int i = 0; i < 256; i++)
    bin[i] = (uint8_t)i;
  sl_header hs[2] = {{bin, 256, NULL, -1}, {(const uint8_t *)"x", 1, bin + 10, 0}};
  sc_record src;
  sc_record_init(&src);
  src.partition = 1;
  src.offset = 77;
  src.tstype = SC_TSTYPE_CREATE;
  src.timestamp = 123;
  src.key = bin + 200;
  src.key_len = 56;
  src.value = bin;
  src.value_len = 128; /* ASCII incl. control chars: a JSON string */
  src.headers = hs;
  src.header_count = 2;
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sc_envelope_encode(&src, &b), 0);
  assert_int_equal(sc_envelope_decode(d, (const char *)b.data, b.len, &r, &diag), 0);
  assert_int_equal(r.partition, 1);
  assert_int_equal(r.offset, 77);
  assert_int_equal(r.timestamp, 123);
  assert_int_equal(r.key_len, 56);
  assert_memory_equal(r.key, bin + 200, 56);
  assert_int_equal(r.value_len, 128);
  assert_memory_equal(r.value, bin, 128);
  assert_int_equal(r.header_count, 2);
  assert_int_equal(r.headers[0].key_len, 256);
  assert_memory_equal(r.headers[0].key, bin, 256);
  assert_int_equal(r.headers[0].value_len, -1);
  assert_int_equal(r.headers[1].value_len, 0);
  sl_buf_release(&b);

  /* Malformed input: error with a position, never a crash. */
  struct {
    const char *s;
    int64_t pos;
  } bad[] = {
      {"", 0},
      {"[]", 0},
      {"{\"key\":\"abc}", 12},
      {"{\"key\":\"a\\q\"}", 9},
      {"{\"key\":1}", 7},
      {"{\"key\":{\"base64\":\"@@\"}}", 17},
      {"{\"key\":{}}", 8},
      {"{\"headers\":[\"a\"]}", 16},
      {"{\"headers\":[null,\"a\"]}", 16},
      {"{\"partition\":1.5}", 13},
      {"{\"partition\":99999999999}", 13},
      {"{\"ts\":1} x", 9},
      {"{\"payload\":\"\\ud800\"}", 12},
      {"{\"payload\":\"a\tb\"}", 13},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sl_diag_clear(&diag);
    assert_int_equal(sc_envelope_decode(d, bad[i].s, strlen(bad[i].s), &r, &diag),
                     SL_EINVAL);
    if (diag.pos != bad[i].pos)
      fail_msg("case %zu (%s): pos %lld, want %lld (%s)", i, bad[i].s,
               (long long)diag.pos, (long long)bad[i].pos, diag.msg);
  }
  /* Deep nesting in an unknown field is bounded. */
  char deep[200];
  size_t n = 0;
  n += (size_t)snprintf(deep, sizeof(deep), "{\"x\":");
  for (int i = 0; i < 60; i++)
    deep[n++] = '[';
  deep[n] = 0;
  assert_int_equal(sc_envelope_decode(d, deep, n, &r, &diag), SL_EINVAL);
  sc_envelope_decoder_free(d);
}

static void test_format(void **state) {
  (void)state;
  sc_format *f;
  sl_diag diag;
  sl_buf b = SL_BUF_INIT;
  sc_record r;
  sc_record_init(&r);
  r.topic = "tp";
  r.topic_len = 2;
  r.partition = 1;
  r.offset = 12;
  r.timestamp = 1700000000123;
  r.key = (const uint8_t *)"K\x01";
  r.key_len = 2;
  r.value = (const uint8_t *)"val";
  r.value_len = 3;
  sl_header h[2] = {{(const uint8_t *)"a", 1, (const uint8_t *)"1", 1},
                    {(const uint8_t *)"b", 1, NULL, -1}};
  r.headers = h;
  r.header_count = 2;
  assert_int_equal(
      sc_format_compile("%t [%p] at %o: %k=%s %K/%S %T %h%%\\t\\x41\\n", &f, &diag), 0);
  assert_int_equal(sc_format_render(f, &r, &b), 0);
  assert_string_equal(buf_str(&b),
                      "tp [1] at 12: K\x01=val 2/3 1700000000123 a=1,b=%\tA\n");
  sc_format_free(f);

  sl_buf_reset(&b);
  assert_int_equal(sc_format_compile("%xk|%bs|%iT|%R|%xh", &f, &diag), 0);
  assert_int_equal(sc_format_render(f, &r, &b), 0);
  assert_int_equal(b.len, strlen("4b01|dmFs|2023-11-14T22:13:20.123Z|") + 4 +
                              strlen("|61=31,62="));
  assert_memory_equal(b.data,
                      "4b01|dmFs|2023-11-14T22:13:20.123Z|\0\0\0\x03|61=31,62=", b.len);
  sc_format_free(f);

  /* null key and payload: empty by default, the null string with -Z */
  sl_buf_reset(&b);
  r.key = NULL;
  r.key_len = -1;
  r.value_len = -1;
  r.value = NULL;
  assert_int_equal(sc_format_compile("[%k][%s][%K][%S]", &f, &diag), 0);
  assert_int_equal(sc_format_render(f, &r, &b), 0);
  assert_string_equal(buf_str(&b), "[][][-1][-1]");
  sl_buf_reset(&b);
  assert_int_equal(sc_format_set_null(f, "NULL"), 0);
  assert_int_equal(sc_format_render(f, &r, &b), 0);
  assert_string_equal(buf_str(&b), "[NULL][NULL][-1][-1]");
  sc_format_free(f);

  /* errors with the position */
  const char *bad[] = {"ab%q", "%", "%xT", "%io", "x\\y", "\\xZZ"};
  int64_t pos[] = {2, 0, 0, 0, 1, 0};
  for (size_t i = 0; i < 6; i++) {
    sl_diag_clear(&diag);
    assert_int_equal(sc_format_compile(bad[i], &f, &diag), SL_EINVAL);
    assert_int_equal(diag.pos, pos[i]);
  }
  sl_buf_reset(&b);
  assert_int_equal(sc_format_iso_time(0, &b), 0);
  assert_string_equal(buf_str(&b), "1970-01-01T00:00:00.000Z");
  sl_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64), cmocka_unit_test(test_murmur2),
      cmocka_unit_test(test_sticky), cmocka_unit_test(test_envelope_encode),
      cmocka_unit_test(test_utf8),   cmocka_unit_test(test_envelope_decode),
      cmocka_unit_test(test_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
