/* test_crc.c - CRC-32C against known vectors, hardware vs portable, chaining. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "seglog/crc.h"

#include "crc_int.h"

static void test_check_values(void **state) {
  (void)state;
  assert_int_equal(sl_crc32c(0, "123456789", 9), 0xE3069283u);
  assert_int_equal(sl_crc32c_sw(0, "123456789", 9), 0xE3069283u);
  assert_int_equal(sl_crc32c(0, "", 0), 0);
  /* RFC 3720 B.4: 32 bytes of zeros, of 0xff */
  uint8_t z[32] = {0}, f[32];
  memset(f, 0xff, sizeof(f));
  assert_int_equal(sl_crc32c(0, z, 32), 0x8A9136AAu);
  assert_int_equal(sl_crc32c(0, f, 32), 0x62A8AB43u);
  /* the empty producer snapshot's CRC: four zero bytes */
  assert_int_equal(sl_crc32c(0, z, 4), 0x48674BC7u);
  assert_int_equal(sl_crc32_ieee(0, "123456789", 9), 0xCBF43926u);
}

static void test_hw_matches_sw_all_lengths_and_alignments(void **state) {
  (void)state;
  size_t max = 3 * 4096 * 2 + 100;
  uint8_t *buf = malloc(max + 8);
  assert_non_null(buf);
  tu_fill_random(buf, max + 8, 42);
  for (size_t align = 0; align < 8; align++) {
    for (size_t len = 0; len < 300; len++)
      assert_int_equal(sl_crc32c(0, buf + align, len), sl_crc32c_sw(0, buf + align, len));
    /* 1000..1300 crosses the folding path's threshold and its 256-byte steps */
    for (size_t len = 1000; len < 1300; len++)
      assert_int_equal(sl_crc32c(0, buf + align, len), sl_crc32c_sw(0, buf + align, len));
    size_t bigs[] = {12287, 12288, 12289, 24576, 24581, max};
    for (size_t i = 0; i < sizeof(bigs) / sizeof(bigs[0]); i++)
      assert_int_equal(sl_crc32c(0, buf + align, bigs[i]),
                       sl_crc32c_sw(0, buf + align, bigs[i]));
  }
  free(buf);
}

static void test_large_buffer(void **state) {
  (void)state;
  size_t n = (1u << 20) + 77;
  uint8_t *buf = malloc(n);
  assert_non_null(buf);
  tu_fill_random(buf, n, 99);
  assert_int_equal(sl_crc32c(0, buf, n), sl_crc32c_sw(0, buf, n));
  assert_int_equal(sl_crc32c(0x12345678u, buf + 3, n - 3),
                   sl_crc32c_sw(0x12345678u, buf + 3, n - 3));
  free(buf);
}

/* Every implementation this CPU has, whichever sl_crc32c chose. */
static void test_each_implementation(void **state) {
  (void)state;
  const char *impls[] = {"sw", "sse4.2", "armv8", "avx512-vpclmulqdq"};
  size_t n = 3 * 4096 * 3 + 1029;
  uint8_t *buf = malloc(n);
  assert_non_null(buf);
  tu_fill_random(buf, n, 5);
  int ran = 0;
  for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
    uint32_t got;
    for (size_t len = 0; len <= n; len += len < 2048 ? 1 : 4093) {
      if (!sl__crc32c_with(impls[i], 0xffffffffu, buf + 1, len - (len > 0), &got))
        break;
      assert_int_equal(got, sl_crc32c_sw(0xffffffffu, buf + 1, len - (len > 0)));
      if (len == 0)
        ran++;
    }
  }
  assert_true(ran >= 1); /* at least "sw" */
  free(buf);
}

static void test_chaining(void **state) {
  (void)state;
  uint8_t buf[20000];
  tu_fill_random(buf, sizeof(buf), 7);
  uint32_t whole = sl_crc32c(0, buf, sizeof(buf));
  for (size_t cut = 0; cut < sizeof(buf); cut += 997) {
    uint32_t c = sl_crc32c(0, buf, cut);
    c = sl_crc32c(c, buf + cut, sizeof(buf) - cut);
    assert_int_equal(c, whole);
  }
  assert_non_null(sl_crc32c_impl());
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_check_values),
      cmocka_unit_test(test_hw_matches_sw_all_lengths_and_alignments),
      cmocka_unit_test(test_large_buffer),
      cmocka_unit_test(test_each_implementation),
      cmocka_unit_test(test_chaining),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
