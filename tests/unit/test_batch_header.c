/* test_batch_header.c - v2 header decode, CRC and validation on exact bytes
 * (the worked example of docs/FORMAT.md). */
#include "testutil.h"

#include <string.h>

#include "seglog/batch.h"

/* baseOffset 0, epoch 0, one record key=null value="hi", ts 1700000000000. */
static const char *EXAMPLE = "00 00 00 00 00 00 00 00 00 00 00 3a 00 00 00 00"
                             "02 bb cc 41 15 00 00 00 00 00 00 00 00 01 8b cf"
                             "e5 68 00 00 00 01 8b cf e5 68 00 ff ff ff ff ff"
                             "ff ff ff ff ff ff ff ff ff 00 00 00 01 10 00 00"
                             "00 01 04 68 69 00";

static void test_decode_example(void **state) {
  (void)state;
  uint8_t b[80];
  size_t n = tu_unhex(EXAMPLE, b, sizeof(b));
  assert_int_equal(n, 70);
  int64_t base;
  int32_t size;
  int8_t magic;
  assert_int_equal(sl_batch_peek(b, n, &base, &size, &magic), SL_OK);
  assert_int_equal(size, 70);
  assert_int_equal(magic, 2);
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(b, n, &h, NULL), SL_OK);
  assert_int_equal(h.batch_length, 58);
  assert_int_equal(h.crc, 0xbbcc4115u);
  assert_true(h.base_timestamp == 1700000000000LL);
  assert_true(h.max_timestamp == 1700000000000LL);
  assert_true(h.producer_id == -1);
  assert_int_equal(h.producer_epoch, -1);
  assert_int_equal(h.base_sequence, -1);
  assert_int_equal(h.records_count, 1);
  assert_int_equal(sl_batch_crc_compute(b, n), 0xbbcc4115u);
  assert_int_equal(sl_batch_validate(b, n, NULL), SL_OK);
}

static void test_crc_not_covering_offset_and_epoch(void **state) {
  (void)state;
  uint8_t b[80];
  size_t n = tu_unhex(EXAMPLE, b, sizeof(b));
  sl_batch_set_base_offset(b, 123456789);
  sl_batch_set_leader_epoch(b, 7);
  assert_int_equal(sl_batch_validate(b, n, NULL), SL_OK);
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(b, n, &h, NULL), SL_OK);
  assert_true(h.base_offset == 123456789);
  assert_int_equal(h.partition_leader_epoch, 7);
  sl_batch_set_log_append_time(b, n, 1800000000000LL);
  assert_int_equal(sl_batch_validate(b, n, NULL), SL_OK);
  assert_int_equal(sl_batch_header_decode(b, n, &h, NULL), SL_OK);
  assert_true(h.attributes & SL_ATTR_LOG_APPEND_TIME);
  assert_true(h.max_timestamp == 1800000000000LL);
}

static void test_every_flipped_byte_in_crc_range_detected(void **state) {
  (void)state;
  uint8_t b[80];
  size_t n = tu_unhex(EXAMPLE, b, sizeof(b));
  for (size_t i = SL_BATCH_CRC_START; i < n; i++) {
    b[i] ^= 0x01;
    sl_diag d;
    sl_diag_clear(&d);
    int rc = sl_batch_validate(b, n, &d);
    assert_true(rc == SL_ECRC || rc == SL_ECORRUPT);
    b[i] ^= 0x01;
  }
  /* a flipped stored CRC */
  b[SL_BATCH_OFF_CRC] ^= 0x80;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_batch_validate(b, n, &d), SL_ECRC);
  assert_int_equal(d.pos, SL_BATCH_OFF_CRC);
  assert_non_null(strstr(d.msg, "computed 0xbbcc4115"));
}

static void test_bad_headers(void **state) {
  (void)state;
  uint8_t b[80];
  size_t n = tu_unhex(EXAMPLE, b, sizeof(b));
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(b, 60, &h, NULL), SL_ETRUNCATED);
  assert_int_equal(sl_batch_peek(b, 16, NULL, NULL, NULL), SL_ETRUNCATED);
  b[SL_BATCH_OFF_MAGIC] = 3;
  assert_int_equal(sl_batch_peek(b, n, NULL, NULL, NULL), SL_ECORRUPT);
  b[SL_BATCH_OFF_MAGIC] = 2;
  sl_store_be32(b + SL_BATCH_OFF_LENGTH, 13);
  assert_int_equal(sl_batch_peek(b, n, NULL, NULL, NULL), SL_ECORRUPT);
  sl_store_be32(b + SL_BATCH_OFF_LENGTH, 58);
  assert_int_equal(sl_batch_validate(b, n - 1, NULL), SL_ECORRUPT);
  sl_store_be32(b + SL_BATCH_OFF_RECORDS_COUNT, 0xffffffffu);
  assert_int_equal(sl_batch_header_decode(b, n, &h, NULL), SL_ECORRUPT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_example),
      cmocka_unit_test(test_crc_not_covering_offset_and_epoch),
      cmocka_unit_test(test_every_flipped_byte_in_crc_range_detected),
      cmocka_unit_test(test_bad_headers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
