/*
 * test_topicconf.c - unit tests of seglogd's per-topic configs (topicconf.c):
 * Kafka's validation and wording per key, the override set, defaults from
 * the broker keys, the effective sl_log_config, and the stored file (round
 * trip, escaping, generations, a torn .tmp left by a crash, bad content).
 * docs/BROKER.md, "Per-topic configs".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "topicconf.h"

static void expect_error(const char *key, const char *value, int rc, const char *msg) {
  sd_topicconf c = {0};
  char err[512] = "";
  assert_int_equal(sd_topicconf_set(&c, key, value, err, sizeof(err)), rc);
  assert_string_equal(err, msg);
  assert_int_equal(c.n, 0);
  sd_topicconf_release(&c);
}

static void test_validation_messages(void **state) {
  (void)state;
  expect_error("no.such.key", "1", SD_TC_UNKNOWN_KEY,
               "Unknown topic config name: no.such.key");
  expect_error(
      "retention.ms", "abc", SD_TC_BAD_VALUE,
      "Invalid value abc for configuration retention.ms: Not a number of type LONG");
  expect_error(
      "retention.ms", "-2", SD_TC_BAD_VALUE,
      "Invalid value -2 for configuration retention.ms: Value must be at least -1");
  expect_error(
      "segment.bytes", "13", SD_TC_BAD_VALUE,
      "Invalid value 13 for configuration segment.bytes: Value must be at least 14");
  expect_error(
      "segment.bytes", "2147483648", SD_TC_BAD_VALUE,
      "Invalid value 2147483648 for configuration segment.bytes: Not a number of "
      "type INT");
  expect_error(
      "min.cleanable.dirty.ratio", "1.5", SD_TC_BAD_VALUE,
      "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must "
      "be no more than 1");
  expect_error(
      "min.cleanable.dirty.ratio", "x", SD_TC_BAD_VALUE,
      "Invalid value x for configuration min.cleanable.dirty.ratio: Not a number "
      "of type DOUBLE");
  expect_error("preallocate", "yes", SD_TC_BAD_VALUE,
               "Invalid value yes for configuration preallocate: Expected value to be "
               "either true or false");
  expect_error("compression.type", "brotli", SD_TC_BAD_VALUE,
               "Invalid value brotli for configuration compression.type: String must be "
               "one of: uncompressed, zstd, lz4, snappy, gzip, producer");
  expect_error(
      "message.timestamp.type", "createtime", SD_TC_BAD_VALUE,
      "Invalid value createtime for configuration message.timestamp.type: String "
      "must be one of: CreateTime, LogAppendTime");
  expect_error(
      "cleanup.policy", "compact,remove", SD_TC_BAD_VALUE,
      "Invalid value remove for configuration cleanup.policy: String must be one "
      "of: compact, delete");
  expect_error("min.insync.replicas", "0", SD_TC_BAD_VALUE,
               "Invalid value 0 for configuration min.insync.replicas: Value must be at "
               "least 1");
  expect_error(
      "max.compaction.lag.ms", "0", SD_TC_BAD_VALUE,
      "Invalid value 0 for configuration max.compaction.lag.ms: Value must be at "
      "least 1");
  expect_error(
      "flush.messages", "0", SD_TC_BAD_VALUE,
      "Invalid value 0 for configuration flush.messages: Value must be at least 1");
  expect_error("retention.ms", NULL, SD_TC_BAD_VALUE,
               "Null value not supported for topic configs: retention.ms");
}

static void test_set_replace_unset(void **state) {
  (void)state;
  sd_topicconf c = {0};
  char err[256];
  assert_int_equal(sd_topicconf_set(&c, "segment.ms", " 1000 ", err, sizeof(err)), 0);
  assert_int_equal(
      sd_topicconf_set(&c, "cleanup.policy", "compact, delete", err, sizeof(err)), 0);
  assert_int_equal(sd_topicconf_set(&c, "preallocate", "TRUE", err, sizeof(err)), 0);
  assert_int_equal(sd_topicconf_set(&c, "retention.bytes", "-7", err, sizeof(err)), 0);
  assert_int_equal(c.n, 4);
  /* Sorted by key, values trimmed as given. */
  assert_string_equal(c.e[0].key, "cleanup.policy");
  assert_string_equal(c.e[1].key, "preallocate");
  assert_string_equal(c.e[2].key, "retention.bytes");
  assert_string_equal(c.e[3].key, "segment.ms");
  assert_string_equal(sd_topicconf_get(&c, "segment.ms"), "1000");
  assert_string_equal(sd_topicconf_get(&c, "cleanup.policy"), "compact, delete");
  assert_int_equal(sd_topicconf_set(&c, "segment.ms", "2000", err, sizeof(err)), 0);
  assert_int_equal(c.n, 4);
  assert_string_equal(sd_topicconf_get(&c, "segment.ms"), "2000");
  sd_topicconf copy;
  assert_int_equal(sd_topicconf_copy(&copy, &c), 0);
  assert_true(sd_topicconf_equal(&copy, &c));
  sd_topicconf_unset(&copy, "preallocate");
  assert_false(sd_topicconf_equal(&copy, &c));
  assert_null(sd_topicconf_get(&copy, "preallocate"));
  assert_int_equal(copy.n, 3);
  sd_topicconf_unset(&copy, "preallocate");
  assert_int_equal(copy.n, 3);
  /* An empty cleanup.policy is an empty list, as in Kafka. */
  assert_int_equal(sd_topicconf_set(&copy, "cleanup.policy", "", err, sizeof(err)), 0);
  sd_topicconf_release(&copy);
  sd_topicconf_release(&c);
  assert_true(sd_topicconf_is_list("cleanup.policy"));
  assert_false(sd_topicconf_is_list("retention.ms"));
  assert_true(sd_topicconf_known("unclean.leader.election.enable"));
  assert_false(sd_topicconf_known("log.retention.ms"));
  /* The table is sorted (binary search) and every key documented. */
  for (int i = 1; i < sd_topicconf_key_count(); i++)
    assert_true(strcmp(sd_topicconf_key_at(i - 1), sd_topicconf_key_at(i)) < 0);
  for (int i = 0; i < sd_topicconf_key_count(); i++)
    assert_non_null(sd_topicconf_key_doc(sd_topicconf_key_at(i)));
  assert_null(sd_topicconf_key_at(sd_topicconf_key_count()));
}

static void test_apply(void **state) {
  (void)state;
  sl_log_config base;
  sl_log_config_init(&base);
  base.retention_ms = 5000;
  sd_topicconf c = {0};
  char err[512];
  sl_log_config out;
  assert_int_equal(sd_topicconf_apply(&c, &base, &out, err, sizeof(err)), 0);
  assert_int_equal(out.retention_ms, 5000);
  assert_int_equal(sd_topicconf_set(&c, "retention.ms", "-1", err, sizeof(err)), 0);
  assert_int_equal(
      sd_topicconf_set(&c, "cleanup.policy", " compact , delete", err, sizeof(err)), 0);
  assert_int_equal(sd_topicconf_set(&c, "preallocate", "True", err, sizeof(err)), 0);
  assert_int_equal(
      sd_topicconf_set(&c, "min.cleanable.dirty.ratio", "0.25", err, sizeof(err)), 0);
  assert_int_equal(
      sd_topicconf_set(&c, "message.timestamp.type", "LogAppendTime", err, sizeof(err)),
      0);
  assert_int_equal(sd_topicconf_set(&c, "max.message.bytes", "+1000", err, sizeof(err)),
                   0);
  assert_int_equal(sd_topicconf_set(&c, "compression.type", "zstd", err, sizeof(err)), 0);
  assert_int_equal(sd_topicconf_set(&c, "min.insync.replicas", "2", err, sizeof(err)), 0);
  assert_int_equal(sd_topicconf_apply(&c, &base, &out, err, sizeof(err)), 0);
  assert_int_equal(out.retention_ms, -1);
  assert_int_equal(out.cleanup_policy, SL_CLEANUP_COMPACT | SL_CLEANUP_DELETE);
  assert_true(out.preallocate);
  assert_true(out.min_cleanable_dirty_ratio == 0.25);
  assert_int_equal(out.message_timestamp_type, SL_TIMESTAMP_LOG_APPEND_TIME);
  assert_int_equal(out.max_message_bytes, 1000);
  assert_int_equal(out.segment_bytes, base.segment_bytes);
  assert_string_equal(sd_topicconf_compression(&c, "producer"), "zstd");
  sd_topicconf_unset(&c, "compression.type");
  assert_string_equal(sd_topicconf_compression(&c, "gzip"), "gzip");
  /* Kafka's cross-key check. */
  assert_int_equal(sd_topicconf_set(&c, "min.compaction.lag.ms", "100", err, sizeof(err)),
                   0);
  assert_int_equal(sd_topicconf_set(&c, "max.compaction.lag.ms", "50", err, sizeof(err)),
                   0);
  assert_int_equal(sd_topicconf_apply(&c, &base, &out, err, sizeof(err)), -1);
  assert_string_equal(err, "conflict topic config setting min.compaction.lag.ms (100) > "
                           "max.compaction.lag.ms (50)");
  sd_topicconf_release(&c);
}

static void test_defaults_from_broker(void **state) {
  (void)state;
  sd_config bc;
  char err[512];
  assert_int_equal(sd_config_init(&bc), 0);
  assert_int_equal(sd_config_set(&bc, "log.retention.hours", "2", err, sizeof(err)), 0);
  assert_int_equal(
      sd_config_set(&bc, "log.cleanup.policy", "compact, delete", err, sizeof(err)), 0);
  assert_int_equal(sd_config_finish(&bc, err, sizeof(err)), 0);
  sl_log_config blog;
  sl_log_config_init(&blog);
  char v[256];
  const char *syn = NULL;
  bool ex = false;
  sd_topicconf_default(&bc, &blog, "retention.ms", v, sizeof(v), &syn, &ex);
  assert_string_equal(v, "7200000");
  assert_string_equal(syn, "log.retention.ms");
  assert_true(ex);
  sd_topicconf_default(&bc, &blog, "cleanup.policy", v, sizeof(v), &syn, &ex);
  assert_string_equal(v, "compact,delete");
  assert_true(ex);
  sd_topicconf_default(&bc, &blog, "segment.bytes", v, sizeof(v), &syn, &ex);
  assert_string_equal(v, "1073741824");
  assert_string_equal(syn, "log.segment.bytes");
  assert_false(ex);
  sd_topicconf_default(&bc, &blog, "unclean.leader.election.enable", v, sizeof(v), &syn,
                       &ex);
  assert_string_equal(v, "false");
  assert_null(syn);
  sd_topicconf_default(&bc, &blog, "file.delete.delay.ms", v, sizeof(v), &syn, &ex);
  assert_string_equal(v, "60000");
  assert_string_equal(syn, "log.segment.delete.delay.ms");
  assert_false(ex);
  /* The view: an override wins and is the DYNAMIC_TOPIC_CONFIG source. */
  sd_topicconf c = {0};
  assert_int_equal(sd_topicconf_set(&c, "retention.ms", "42", err, sizeof(err)), 0);
  sd_tc_view tv;
  sd_topicconf_view(&bc, &blog, &c, "retention.ms", &tv);
  assert_string_equal(tv.value, "42");
  assert_int_equal(tv.source, SD_SRC_DYNAMIC_TOPIC);
  assert_string_equal(tv.dflt, "7200000");
  assert_int_equal(tv.broker_source, SD_SRC_STATIC_BROKER);
  sd_topicconf_view(&bc, &blog, &c, "segment.ms", &tv);
  assert_null(tv.override);
  assert_string_equal(tv.value, "604800000");
  assert_int_equal(tv.source, SD_SRC_DEFAULT);
  sd_topicconf_release(&c);
  sd_config_release(&bc);
}

/* ---- the file ---- */

static char tmpdir[256];

static int setup_dir(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_topicconf.XXXXXX");
  return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown_dir(void **state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

static void test_file_roundtrip(void **state) {
  (void)state;
  char err[512];
  sd_tcfile f;
  /* Missing file: empty, generation 0. */
  assert_int_equal(sd_tcfile_read(tmpdir, &f, err, sizeof(err)), 0);
  assert_int_equal(f.n, 0);
  assert_int_equal(f.generation, 0);
  sd_topicconf c = {0};
  assert_int_equal(
      sd_topicconf_set(&c, "cleanup.policy", " compact , delete ", err, sizeof(err)), 0);
  assert_int_equal(sd_topicconf_set(&c, "retention.ms", "-1", err, sizeof(err)), 0);
  sl_uuid id;
  assert_int_equal(sl_uuid_random(&id, NULL), 0);
  assert_int_equal(sd_tcfile_put(&f, "orders.v1_x-y", &id, &c), 0);
  assert_int_equal(sd_tcfile_put(&f, "other", NULL, &c), 0);
  f.generation = 7;
  assert_int_equal(sd_tcfile_write(tmpdir, &f, err, sizeof(err)), 0);
  sd_tcfile g;
  assert_int_equal(sd_tcfile_read(tmpdir, &g, err, sizeof(err)), 0);
  assert_int_equal(g.generation, 7);
  assert_int_equal(g.n, 2);
  sd_tcfile_topic *t = sd_tcfile_find(&g, "orders.v1_x-y");
  assert_non_null(t);
  assert_true(sl_uuid_equal(&t->id, &id));
  assert_true(sd_topicconf_equal(&t->conf, &c));
  assert_string_equal(sd_topicconf_get(&t->conf, "cleanup.policy"), "compact , delete");
  t = sd_tcfile_find(&g, "other");
  assert_non_null(t);
  assert_true(sl_uuid_is_zero(&t->id));
  assert_true(sd_tcfile_remove(&g, "other"));
  assert_false(sd_tcfile_remove(&g, "other"));
  assert_null(sd_tcfile_find(&g, "other"));
  sd_tcfile_release(&g);

  /* A crash while writing leaves a torn .tmp next to the old file: ignored. */
  char tmp[400];
  snprintf(tmp, sizeof(tmp), "%s/%s.tmp", tmpdir, SD_TOPICCONF_FILE);
  write_text(tmp, "generation=99\nx/retention.ms=1");
  assert_int_equal(sd_tcfile_read(tmpdir, &g, err, sizeof(err)), 0);
  assert_int_equal(g.generation, 7);
  sd_tcfile_release(&g);
  /* The next write replaces the .tmp. */
  f.generation = 8;
  assert_int_equal(sd_tcfile_write(tmpdir, &f, err, sizeof(err)), 0);
  struct stat st;
  assert_int_not_equal(stat(tmp, &st), 0);

  /* Several directories: the highest generation wins. */
  char d2[300];
  snprintf(d2, sizeof(d2), "%s/second", tmpdir);
  assert_int_equal(mkdir(d2, 0755), 0);
  sd_tcfile_remove(&f, "other");
  f.generation = 9;
  assert_int_equal(sd_tcfile_write(d2, &f, err, sizeof(err)), 0);
  char *dirs[2] = {tmpdir, d2};
  assert_int_equal(sd_tcfile_read_all(dirs, 2, &g, err, sizeof(err)), 0);
  assert_int_equal(g.generation, 9);
  assert_int_equal(g.n, 1);
  sd_tcfile_release(&g);
  sd_tcfile_release(&f);
  sd_topicconf_release(&c);
}

static void test_file_bad_content(void **state) {
  (void)state;
  char dir[300], path[400], err[512];
  snprintf(dir, sizeof(dir), "%s/bad", tmpdir);
  assert_int_equal(mkdir(dir, 0755), 0);
  snprintf(path, sizeof(path), "%s/%s", dir, SD_TOPICCONF_FILE);
  sd_tcfile g;
  write_text(path, "generation=1\nt/retention.ms=abc\n");
  assert_int_equal(sd_tcfile_read(dir, &g, err, sizeof(err)), -1);
  assert_non_null(
      strstr(err, ":2: topic t: Invalid value abc for configuration retention.ms"));
  write_text(path, "generation=1\nt/no.such=1\n");
  assert_int_equal(sd_tcfile_read(dir, &g, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "Unknown topic config name: no.such"));
  write_text(path, "generation=1\nbad name/retention.ms=1\n");
  assert_int_equal(sd_tcfile_read(dir, &g, err, sizeof(err)), -1);
  write_text(path, "generation=x\n");
  assert_int_equal(sd_tcfile_read(dir, &g, err, sizeof(err)), -1);
  write_text(path, "generation=1\nt/id=nope\n");
  assert_int_equal(sd_tcfile_read(dir, &g, err, sizeof(err)), -1);
  write_text(path, "# comment\ngeneration=3\nt/retention.ms=\\u0031\\u0030\n");
  assert_int_equal(sd_tcfile_read(dir, &g, err, sizeof(err)), 0);
  assert_string_equal(sd_topicconf_get(&sd_tcfile_find(&g, "t")->conf, "retention.ms"),
                      "10");
  sd_tcfile_release(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validation_messages),
      cmocka_unit_test(test_set_replace_unset),
      cmocka_unit_test(test_apply),
      cmocka_unit_test(test_defaults_from_broker),
      cmocka_unit_test(test_file_roundtrip),
      cmocka_unit_test(test_file_bad_content),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
