/*
 * test_sdconfig.c - unit tests of seglogd's configuration (config.c): the
 * Java-properties parser entry by entry (keys, values, escapes, continuations,
 * comments, line ends, line numbers) and Kafka's key types, defaults, checks
 * and derived values (docs/BROKER.md, "Configuration").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

typedef struct entries {
  int n;
  char key[16][64];
  char value[16][128];
  int line[16];
} entries;

static int collect(void *ctx, const char *key, const char *value, int line) {
  entries *e = ctx;
  if (e->n >= 16)
    return -1;
  snprintf(e->key[e->n], sizeof(e->key[0]), "%s", key);
  snprintf(e->value[e->n], sizeof(e->value[0]), "%s", value);
  e->line[e->n] = line;
  e->n++;
  return 0;
}

static int parse(const char *text, entries *e) {
  memset(e, 0, sizeof(*e));
  char err[256];
  return sd_props_parse(text, strlen(text), collect, e, err, sizeof(err));
}

static void test_props_separators(void **state) {
  entries e;
  assert_int_equal(parse("a=b\n  key : value  \nk3 v3\nalone\nx==y\n:=z\n", &e), 0);
  assert_int_equal(e.n, 6);
  assert_string_equal(e.key[0], "a");
  assert_string_equal(e.value[0], "b");
  assert_string_equal(e.key[1], "key");
  assert_string_equal(e.value[1], "value  "); /* Properties keeps trailing blanks */
  assert_string_equal(e.key[2], "k3");
  assert_string_equal(e.value[2], "v3");
  assert_string_equal(e.key[3], "alone");
  assert_string_equal(e.value[3], "");
  assert_string_equal(e.key[4], "x");
  assert_string_equal(e.value[4], "=y");
  assert_string_equal(e.key[5], "");
  assert_string_equal(e.value[5], "=z");
}

static void test_props_comments_and_lines(void **state) {
  entries e;
  /* A backslash ending a comment line does not continue it. */
  assert_int_equal(parse("# c=1 \\\n! d\n\n   \t\nk=v\r\nk2=v2\rk3=v3", &e), 0);
  assert_int_equal(e.n, 3);
  assert_string_equal(e.key[0], "k");
  assert_string_equal(e.value[0], "v");
  assert_int_equal(e.line[0], 5);
  assert_string_equal(e.key[1], "k2");
  assert_int_equal(e.line[1], 6);
  assert_string_equal(e.key[2], "k3");
  assert_string_equal(e.value[2], "v3");
  assert_int_equal(e.line[2], 7);
}

static void test_props_continuation_and_escapes(void **state) {
  entries e;
  assert_int_equal(parse("k=v1\\\n     v2\\\n\tv3\nnext=1\n"
                         "a\\=b\\ c=\\t\\u0041\\u00e9\\x\n"
                         "even=v\\\\\nodd=w\\\\\\\n  x\n"
                         "# comment\\\n",
                         &e),
                   0);
  assert_int_equal(e.n, 5);
  assert_string_equal(e.key[0], "k");
  assert_string_equal(e.value[0], "v1v2v3");
  assert_int_equal(e.line[1], 4);
  assert_string_equal(e.key[1], "next");
  assert_string_equal(e.key[2], "a=b c");
  assert_string_equal(e.value[2], "\tA\xc3\xa9x");
  assert_string_equal(e.value[3], "v\\");
  assert_string_equal(e.value[4], "w\\x");
}

static void test_props_malformed_unicode(void **state) {
  entries e;
  assert_int_not_equal(parse("k=\\u12\n", &e), 0);
  assert_int_not_equal(parse("k=\\uZZZZ\n", &e), 0);
  assert_int_not_equal(parse("k=\\u0000\n", &e), 0);
  /* A continuation at the very end of the input drops the backslash. */
  assert_int_equal(parse("k=v\\", &e), 0);
  assert_string_equal(e.value[0], "v");
}

static void test_config_defaults(void **state) {
  sd_config c;
  char err[512];
  assert_int_equal(sd_config_init(&c), 0);
  assert_int_equal(sd_config_finish(&c, err, sizeof(err)), 0);
  assert_int_equal(sd_cfg_i(&c, SD_CFG_NUM_PARTITIONS), 1);
  assert_int_equal(sd_cfg_i(&c, SD_CFG_SEGMENT_BYTES), 1073741824);
  assert_int_equal(sd_cfg_i(&c, SD_CFG_MESSAGE_MAX_BYTES), 1048588);
  assert_int_equal(sd_cfg_i(&c, SD_CFG_SOCKET_REQUEST_MAX), 104857600);
  assert_true(sd_cfg_b(&c, SD_CFG_AUTO_CREATE));
  assert_string_equal(sd_cfg_s(&c, SD_CFG_COMPRESSION_TYPE), "producer");
  assert_null(sd_cfg_s(&c, SD_CFG_ADVERTISED_LISTENERS));
  assert_int_equal(c.n_listeners, 1);
  assert_string_equal(c.listeners[0].host, "127.0.0.1");
  assert_int_equal(c.listeners[0].port, 9092);
  assert_int_equal(c.n_log_dirs, 1);
  assert_string_equal(c.log_dirs[0], "/tmp/kafka-logs");
  assert_int_equal(c.retention_ms, 168LL * 3600000);
  assert_int_equal(c.roll_ms, 168LL * 3600000);
  assert_int_equal(c.metrics_port, 9644);
  sd_config_release(&c);
}

static void expect_bad(const char *key, const char *value) {
  sd_config c;
  char err[512] = "";
  assert_int_equal(sd_config_init(&c), 0);
  assert_int_equal(sd_config_set(&c, key, value, err, sizeof(err)), -1);
  assert_non_null(strstr(err, key));
  sd_config_release(&c);
}

static void test_config_bad_values(void **state) {
  expect_bad("no.such.key", "1");
  expect_bad("num.partitions", "abc");
  expect_bad("num.partitions", "0");
  expect_bad("num.partitions", "2147483648");
  expect_bad("num.partitions", "1.5");
  expect_bad("log.segment.bytes", "13");
  expect_bad("auto.create.topics.enable", "yes");
  expect_bad("compression.type", "brotli");
  expect_bad("log.cleanup.policy", "delete,shred");
  expect_bad("log.cleanup.policy", "delete,");
  expect_bad("log.cleaner.min.cleanable.ratio", "1.01");
  expect_bad("log.cleaner.min.cleanable.ratio", "nan");
  expect_bad("log.level", "trace");
  expect_bad("log.segment.delete.delay.ms", "-1");
}

static void test_config_values_and_derived(void **state) {
  sd_config c;
  char err[512];
  assert_int_equal(sd_config_init(&c), 0);
  assert_int_equal(sd_config_set(&c, "num.partitions", "  +3 ", err, sizeof(err)), 0);
  assert_int_equal(sd_cfg_i(&c, SD_CFG_NUM_PARTITIONS), 3);
  assert_int_equal(
      sd_config_set(&c, "auto.create.topics.enable", "FALSE", err, sizeof(err)), 0);
  assert_false(sd_cfg_b(&c, SD_CFG_AUTO_CREATE));
  assert_int_equal(
      sd_config_set(&c, "log.cleanup.policy", "compact , delete", err, sizeof(err)), 0);
  assert_int_equal(
      sd_config_set(&c, "log.cleaner.min.cleanable.ratio", "0.25", err, sizeof(err)), 0);
  assert_true(sd_cfg_d(&c, SD_CFG_CLEANER_MIN_RATIO) == 0.25);
  assert_int_equal(sd_config_set(&c, "log.retention.minutes", "5", err, sizeof(err)), 0);
  assert_int_equal(sd_config_set(&c, "log.roll.ms", "1000", err, sizeof(err)), 0);
  assert_int_equal(sd_config_set_override(&c, "log.dirs= /a , /b ,", err, sizeof(err)),
                   0);
  assert_int_equal(
      sd_config_set_override(&c, "listeners=PLAINTEXT://:9093", err, sizeof(err)), 0);
  assert_int_equal(
      sd_config_set_override(&c, "advertised.listeners=PLAINTEXT://h.example:19093", err,
                             sizeof(err)),
      0);
  assert_int_equal(sd_config_set(&c, "process.roles", "broker", err, sizeof(err)), 0);
  assert_int_equal(sd_config_finish(&c, err, sizeof(err)), 0);
  assert_int_equal(c.retention_ms, 5 * 60000);
  assert_int_equal(c.roll_ms, 1000);
  assert_int_equal(c.n_log_dirs, 2);
  assert_string_equal(c.log_dirs[0], "/a");
  assert_string_equal(c.log_dirs[1], "/b");
  assert_string_equal(c.listeners[0].host, "");
  assert_int_equal(c.listeners[0].port, 9093);
  assert_string_equal(c.advertised[0].host, "h.example");
  assert_int_equal(c.advertised[0].port, 19093);
  /* log.retention.ms wins over minutes and hours; -1 is unlimited. */
  assert_int_equal(sd_config_set(&c, "log.retention.ms", "-5", err, sizeof(err)), 0);
  assert_int_equal(sd_config_finish(&c, err, sizeof(err)), 0);
  assert_int_equal(c.retention_ms, -1);
  sd_config_release(&c);
}

static void test_config_listeners(void **state) {
  sd_listener_cfg l[SD_MAX_LISTENERS];
  int n;
  char err[512];
  assert_int_equal(sd_listeners_parse("listeners", "PLAINTEXT://[::1]:9092", l,
                                      SD_MAX_LISTENERS, &n, err, sizeof(err)),
                   0);
  assert_int_equal(n, 1);
  assert_string_equal(l[0].host, "::1");
  assert_int_equal(sd_listeners_parse("listeners", "SSL://h:1", l, SD_MAX_LISTENERS, &n,
                                      err, sizeof(err)),
                   -1);
  assert_int_equal(sd_listeners_parse("listeners", "PLAINTEXT://h:1,PLAINTEXT://h:2", l,
                                      SD_MAX_LISTENERS, &n, err, sizeof(err)),
                   -1);
  assert_int_equal(sd_listeners_parse("listeners", "PLAINTEXT://h:70000", l,
                                      SD_MAX_LISTENERS, &n, err, sizeof(err)),
                   -1);
  assert_int_equal(sd_listeners_parse("listeners", "h:9092", l, SD_MAX_LISTENERS, &n, err,
                                      sizeof(err)),
                   -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_props_separators),
      cmocka_unit_test(test_props_comments_and_lines),
      cmocka_unit_test(test_props_continuation_and_escapes),
      cmocka_unit_test(test_props_malformed_unicode),
      cmocka_unit_test(test_config_defaults),
      cmocka_unit_test(test_config_bad_values),
      cmocka_unit_test(test_config_values_and_derived),
      cmocka_unit_test(test_config_listeners),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
