/* test_checkpoint.c - Kafka checkpoint text files: exact texts, every reader
 * rule (empty file, version, count, malformed lines, numbers, topic names,
 * line endings), atomic durable writes. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_int.h"
#include "fileio_int.h"
#include "seglog/checkpoint.h"

static int parse_offsets(const char *text, sl_offset_checkpoint *c, sl_diag *d) {
  sl_diag_clear(d);
  return sl_offset_checkpoint_parse(text, strlen(text), c, d);
}

static void test_offset_format_exact(void **state) {
  (void)state;
  sl_offset_checkpoint c;
  sl_buf b = SL_BUF_INIT;
  sl_offset_checkpoint_init(&c);
  assert_int_equal(sl_offset_checkpoint_set(&c, "orders", 3, 123456), SL_OK);
  assert_int_equal(sl_offset_checkpoint_set(&c, "my.topic-x", 12, 0), SL_OK);
  assert_int_equal(sl_offset_checkpoint_set(&c, "orders", 3, 123457),
                   SL_OK); /* replace */
  assert_int_equal(c.count, 2);
  assert_int_equal(sl_offset_checkpoint_format(&c, &b), SL_OK);
  const char *want = "0\n2\norders 3 123457\nmy.topic-x 12 0\n";
  assert_int_equal(b.len, strlen(want));
  assert_memory_equal(b.data, want, b.len);
  /* empty list */
  sl_buf_reset(&b);
  sl_offset_checkpoint_reset(&c);
  assert_int_equal(sl_offset_checkpoint_format(&c, &b), SL_OK);
  assert_int_equal(b.len, 4);
  assert_memory_equal(b.data, "0\n0\n", 4);
  /* bad names and partitions are refused by set */
  assert_int_equal(sl_offset_checkpoint_set(&c, "bad topic", 0, 1), SL_EINVAL);
  assert_int_equal(sl_offset_checkpoint_set(&c, "..", 0, 1), SL_EINVAL);
  assert_int_equal(sl_offset_checkpoint_set(&c, "t", -1, 1), SL_EINVAL);
  sl_buf_release(&b);
  sl_offset_checkpoint_release(&c);
}

static void test_offset_parse_ok(void **state) {
  (void)state;
  sl_offset_checkpoint c;
  sl_diag d;
  sl_offset_checkpoint_init(&c);
  assert_int_equal(parse_offsets("0\n3\norders 3 123456\na-b.c_d 0 -1\nz 2147483647 "
                                 "9223372036854775807\n",
                                 &c, &d),
                   SL_OK);
  assert_int_equal(c.count, 3);
  const sl_offset_entry *e = sl_offset_checkpoint_find(&c, "orders", 3);
  assert_non_null(e);
  assert_int_equal(e->offset, 123456);
  e = sl_offset_checkpoint_find(&c, "a-b.c_d", 0);
  assert_non_null(e);
  assert_int_equal(e->offset, -1);
  e = sl_offset_checkpoint_find(&c, "z", INT32_MAX);
  assert_non_null(e);
  assert_true(e->offset == INT64_MAX);
  assert_null(sl_offset_checkpoint_find(&c, "orders", 4));
  assert_true(sl_offset_checkpoint_remove(&c, "orders", 3));
  assert_false(sl_offset_checkpoint_remove(&c, "orders", 3));
  assert_int_equal(c.count, 2);
  sl_offset_checkpoint_release(&c);

  /* whitespace runs, tabs, trailing blanks, \r\n and a last line without \n */
  sl_offset_checkpoint_init(&c);
  assert_int_equal(parse_offsets("0\r\n2\r\nt  1\t\t5  \r\nu 0 +7", &c, &d), SL_OK);
  assert_int_equal(c.count, 2);
  assert_int_equal(sl_offset_checkpoint_find(&c, "t", 1)->offset, 5);
  assert_int_equal(sl_offset_checkpoint_find(&c, "u", 0)->offset, 7);
  sl_offset_checkpoint_release(&c);

  /* duplicates: the later line wins, order of first appearance kept */
  sl_offset_checkpoint_init(&c);
  assert_int_equal(parse_offsets("0\n3\na 0 1\nb 0 2\na 0 3\n", &c, &d), SL_OK);
  assert_int_equal(c.count, 2);
  assert_string_equal(c.entries[0].topic, "b");
  assert_string_equal(c.entries[1].topic, "a");
  assert_int_equal(c.entries[1].offset, 3);
  sl_offset_checkpoint_release(&c);
}

static void test_offset_parse_empty_forms(void **state) {
  (void)state;
  sl_offset_checkpoint c;
  sl_diag d;
  sl_offset_checkpoint_init(&c);
  assert_int_equal(parse_offsets("", &c, &d), SL_OK); /* empty file */
  assert_int_equal(c.count, 0);
  assert_int_equal(parse_offsets("0\n", &c, &d), SL_OK); /* ends after version */
  assert_int_equal(c.count, 0);
  assert_int_equal(parse_offsets("0", &c, &d), SL_OK);
  assert_int_equal(parse_offsets("0\n0\n", &c, &d), SL_OK);
  assert_int_equal(c.count, 0);
  sl_offset_checkpoint_release(&c);
}

static void test_offset_parse_errors(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int64_t pos; /* expected diag->pos */
    const char *msg_part;
  } bad[] = {
      {"1\n0\n", 0, "version 1"},                         /* wrong version */
      {"-0x\n0\n", 0, "line 1"},                          /* unparsable version */
      {" 0\n0\n", 0, "line 1"},                           /* parseInt allows no blanks */
      {"0\n\n", 2, "line 2"},                             /* empty count */
      {"0\n-1\n", 2, "line 2"},                           /* negative count */
      {"0\n1\n", 4, "expected 1 entries but found 0"},    /* count mismatch */
      {"0\n1\na 0 1\nb 0 2\n", 16, "expected 1 entries"}, /* count mismatch */
      {"0\n2\na 0 1\n", 10, "found 1"},                   /* too few */
      {"0\n1\na 0\n", 4, "line 3"},                       /* two fields */
      {"0\n1\na 0 1 2\n", 4, "line 3"},                   /* four fields */
      {"0\n1\n a 0 1\n", 4, "line 3"},                    /* leading blank */
      {"0\n1\na 0 x\n", 4, "line 3"},                     /* bad offset */
      {"0\n1\na 0 9223372036854775808\n", 4, "line 3"},   /* offset overflow */
      {"0\n1\na 2147483648 0\n", 4, "line 3"},            /* partition overflow */
      {"0\n1\na -1 0\n", 4, "line 3"},                    /* negative partition */
      {"0\n1\na 0x1 0\n", 4, "line 3"},                   /* hex */
      {"0\n1\nbad/topic 0 1\n", 4, "line 3"},             /* bad topic char */
      {"0\n1\n.. 0 1\n", 4, "line 3"},                    /* reserved topic */
      {"0\n2\na 0 1\n\n", 10, "line 4"},                  /* empty entry line */
      {"0\n1\na 0 1\xff\n", 4, "line 3"},                 /* junk byte */
      {"0\n1\na 0 +\n", 4, "line 3"},                     /* sign only */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sl_offset_checkpoint c;
    sl_diag d;
    sl_offset_checkpoint_init(&c);
    assert_int_equal(sl_offset_checkpoint_set(&c, "keep", 0, 42), SL_OK);
    int rc = parse_offsets(bad[i].text, &c, &d);
    if (rc != SL_ECORRUPT || d.pos != bad[i].pos || !strstr(d.msg, bad[i].msg_part))
      fail_msg("case %zu: rc=%d pos=%lld msg=%s", i, rc, (long long)d.pos, d.msg);
    /* the list is untouched on error */
    assert_int_equal(c.count, 1);
    assert_int_equal(c.entries[0].offset, 42);
    sl_offset_checkpoint_release(&c);
  }
  /* a 250-character topic is too long, 249 is fine */
  char text[400];
  char topic[251];
  memset(topic, 'x', 250);
  topic[250] = '\0';
  snprintf(text, sizeof(text), "0\n1\n%s 0 1\n", topic);
  sl_offset_checkpoint c;
  sl_diag d;
  sl_offset_checkpoint_init(&c);
  assert_int_equal(parse_offsets(text, &c, &d), SL_ECORRUPT);
  topic[249] = '\0';
  snprintf(text, sizeof(text), "0\n1\n%s 0 1\n", topic);
  assert_int_equal(parse_offsets(text, &c, &d), SL_OK);
  assert_int_equal(c.count, 1);
  sl_offset_checkpoint_release(&c);
}

static void test_decimal_parser(void **state) {
  (void)state;
  int64_t v = 0;
  assert_int_equal(sl_parse_decimal("0", 1, 0, 10, &v), SL_OK);
  assert_int_equal(v, 0);
  assert_int_equal(sl_parse_decimal("-9223372036854775808", 20, INT64_MIN, INT64_MAX, &v),
                   SL_OK);
  assert_true(v == INT64_MIN);
  assert_int_equal(sl_parse_decimal("00000000000000000000000007", 26, 0, 10, &v), SL_OK);
  assert_int_equal(v, 7);
  assert_int_equal(sl_parse_decimal("-0", 2, 0, 10, &v), SL_OK);
  assert_int_equal(v, 0);
  assert_int_equal(sl_parse_decimal("11", 2, 0, 10, &v), SL_EINVAL); /* range */
  assert_int_equal(sl_parse_decimal("", 0, 0, 10, &v), SL_EINVAL);
  assert_int_equal(sl_parse_decimal("-", 1, -10, 10, &v), SL_EINVAL);
  assert_int_equal(sl_parse_decimal("1 ", 2, 0, 10, &v), SL_EINVAL);
  assert_int_equal(sl_parse_decimal(" 1", 2, 0, 10, &v), SL_EINVAL);
  assert_int_equal(sl_parse_decimal("+-1", 3, -10, 10, &v), SL_EINVAL);
  assert_int_equal(sl_parse_decimal("9223372036854775808", 19, INT64_MIN, INT64_MAX, &v),
                   SL_EINVAL);
  assert_int_equal(sl_parse_decimal("12345678901234567890", 20, INT64_MIN, INT64_MAX, &v),
                   SL_EINVAL);
  /* not NUL-terminated: only len bytes are read */
  assert_int_equal(sl_parse_decimal("123abc", 3, 0, 1000, &v), SL_OK);
  assert_int_equal(v, 123);
}

static void test_java_split(void **state) {
  (void)state;
  sl__token t[4];
  assert_int_equal(sl__split_ws("a b", 3, t, 4), 2);
  assert_int_equal(sl__split_ws(" a b", 4, t, 4), 3);
  assert_int_equal(t[0].len, 0);
  assert_int_equal(sl__split_ws("a b  ", 5, t, 4), 2);
  assert_int_equal(sl__split_ws("", 0, t, 4), 1);
  assert_int_equal(sl__split_ws("   ", 3, t, 4), 0);
  assert_int_equal(sl__split_ws("a\x0b"
                                "b\fc",
                                5, t, 4),
                   3);
  assert_int_equal(sl__split_ws("1 2 3 4 5 6", 11, t, 4), 6);
}

static void test_epoch_checkpoint(void **state) {
  (void)state;
  sl_epoch_entry *e = NULL;
  size_t n = 99;
  sl_diag d;
  const char *text = "0\n3\n0 0\n5 1000\n7 2000\n";
  assert_int_equal(sl_epoch_checkpoint_parse(text, strlen(text), &e, &n, &d), SL_OK);
  assert_int_equal(n, 3);
  assert_int_equal(e[1].epoch, 5);
  assert_int_equal(e[1].start_offset, 1000);
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sl_epoch_checkpoint_format(e, n, &b), SL_OK);
  assert_int_equal(b.len, strlen(text));
  assert_memory_equal(b.data, text, b.len);
  free(e);
  sl_buf_release(&b);

  assert_int_equal(sl_epoch_checkpoint_parse("", 0, &e, &n, &d), SL_OK);
  assert_int_equal(n, 0);
  assert_null(e);
  static const char *const bad[] = {
      "1\n0\n",       "0\n1\n5\n",    "0\n1\n5 1 2\n",
      "0\n1\n-1 0\n", "0\n1\n0 -5\n", "0\n1\n2147483648 0\n",
      "0\n2\n0 0\n",  "0\n0\n1 5\n",  "0\n1\nx 5\n",
      "0\nx\n",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sl_diag_clear(&d);
    e = NULL;
    int rc = sl_epoch_checkpoint_parse(bad[i], strlen(bad[i]), &e, &n, &d);
    if (rc != SL_ECORRUPT)
      fail_msg("case %zu (%s): rc=%d", i, bad[i], rc);
    assert_null(e);
    assert_int_equal(n, 0);
  }
}

static void test_files(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *p = tu_path(dir, SL_RECOVERY_POINT_CHECKPOINT);
  sl_offset_checkpoint c;
  sl_diag d;
  sl_diag_clear(&d);
  sl_offset_checkpoint_init(&c);
  /* missing file: empty list, not created */
  assert_int_equal(sl_offset_checkpoint_read(p, &c, &d), SL_OK);
  assert_int_equal(c.count, 0);
  assert_int_equal(tu_file_size(p), -1);
  assert_int_equal(sl_offset_checkpoint_set(&c, "t", 0, 10), SL_OK);
  assert_int_equal(sl_offset_checkpoint_write(p, &c, &d), SL_OK);
  size_t len;
  uint8_t *data = tu_read_file(p, &len);
  assert_int_equal(len, 11);
  assert_memory_equal(data, "0\n1\nt 0 10\n", 11);
  free(data);
  char *tmp = tu_path(dir, "recovery-point-offset-checkpoint.tmp");
  assert_int_equal(tu_file_size(tmp), -1);
  sl_offset_checkpoint_release(&c);
  sl_offset_checkpoint_init(&c);
  assert_int_equal(sl_offset_checkpoint_read(p, &c, &d), SL_OK);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.entries[0].offset, 10);
  sl_offset_checkpoint_release(&c);

  /* a corrupt file names itself in the diag */
  assert_int_equal(tu_write_file(p, "0\n5\n", 4), 0);
  sl_offset_checkpoint_init(&c);
  assert_int_equal(sl_offset_checkpoint_read(p, &c, &d), SL_ECORRUPT);
  assert_string_equal(d.path, p);
  sl_offset_checkpoint_release(&c);

  /* a failed write (ENOSPC) leaves the old file in place */
  assert_int_equal(tu_write_file(p, "0\n0\n", 4), 0);
  sl_offset_checkpoint_init(&c);
  assert_int_equal(sl_offset_checkpoint_set(&c, "t", 0, 10), SL_OK);
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.writes_until_fail = 0;
  f.write_errno = ENOSPC;
  sl__fio_set_faults(&f);
  assert_int_equal(sl_offset_checkpoint_write(p, &c, &d), SL_ENOSPC);
  sl__fio_set_faults(NULL);
  data = tu_read_file(p, &len);
  assert_int_equal(len, 4);
  assert_memory_equal(data, "0\n0\n", 4);
  free(data);
  sl_offset_checkpoint_release(&c);

  /* epoch files */
  char *ep = tu_path(dir, SL_LEADER_EPOCH_CHECKPOINT);
  sl_epoch_entry ents[2] = {{1, 0}, {3, 77}};
  assert_int_equal(sl_epoch_checkpoint_write(ep, ents, 2, &d), SL_OK);
  data = tu_read_file(ep, &len);
  assert_int_equal(len, 13);
  assert_memory_equal(data, "0\n2\n1 0\n3 77\n", 13);
  free(data);
  sl_epoch_entry *e;
  size_t n;
  assert_int_equal(sl_epoch_checkpoint_read(ep, &e, &n, &d), SL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(e[1].start_offset, 77);
  free(e);
  free(ep);
  free(tmp);
  free(p);
  tu_rmtree_free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_offset_format_exact),
      cmocka_unit_test(test_offset_parse_ok),
      cmocka_unit_test(test_offset_parse_empty_forms),
      cmocka_unit_test(test_offset_parse_errors),
      cmocka_unit_test(test_decimal_parser),
      cmocka_unit_test(test_java_split),
      cmocka_unit_test(test_epoch_checkpoint),
      cmocka_unit_test(test_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
