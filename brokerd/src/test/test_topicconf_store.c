/*
 * test_topicconf_store.c - unit tests of per-topic configs in the topic
 * registry (topics.c over two real log directories): creation with configs,
 * replacement applied to open partitions and to partitions added later,
 * validate-only and invalid sets, reload after close, deletion, stale
 * entries dropped at start, and a storage failure (the config file cannot be
 * written) that must leave topics, partitions and configs as they were.
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

#include "topics.h"

static char root[256];
static char dir_a[300], dir_b[300];

static int setup(void **state) {
  (void)state;
  snprintf(root, sizeof(root), "/tmp/test_topicconf_store.XXXXXX");
  if (mkdtemp(root) == NULL)
    return -1;
  snprintf(dir_a, sizeof(dir_a), "%s/a", root);
  snprintf(dir_b, sizeof(dir_b), "%s/b", root);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  return system(cmd) == 0 ? 0 : -1;
}

typedef struct broker {
  sd_config cfg;
  sd_datadirs dirs;
  sd_topics topics;
} broker;

static void open_broker(broker *b) {
  char err[1024], dirs[700];
  assert_int_equal(sd_config_init(&b->cfg), 0);
  snprintf(dirs, sizeof(dirs), "%s,%s", dir_a, dir_b);
  assert_int_equal(sd_config_set(&b->cfg, "log.dirs", dirs, err, sizeof(err)), 0);
  assert_int_equal(
      sd_config_set(&b->cfg, "log.retention.ms", "86400000", err, sizeof(err)), 0);
  assert_int_equal(sd_config_finish(&b->cfg, err, sizeof(err)), 0);
  if (sd_datadirs_open(&b->dirs, &b->cfg, err, sizeof(err)) != 0)
    fail_msg("open: %s", err);
  if (sd_topics_load(&b->topics, &b->dirs, err, sizeof(err)) != 0)
    fail_msg("load: %s", err);
}

static void close_broker(broker *b) {
  sd_topics_release(&b->topics);
  assert_int_equal(sd_datadirs_close(&b->dirs), 0);
  sd_config_release(&b->cfg);
}

static const sd_topic *topic(broker *b, const char *name) {
  return sd_topics_find(&b->topics, name, strlen(name));
}

/* The config an open partition's log actually uses. */
static sl_log_config part_cfg(broker *b, const char *name, int32_t part) {
  const sd_topic *t = topic(b, name);
  assert_non_null(t);
  const sd_partition *p = sd_topic_partition(t, part);
  assert_non_null(p);
  sl_log_config c;
  sl_log_get_config(p->log, &c);
  return c;
}

static void conf_of(sd_topicconf *c, const char *kv) {
  char err[512], buf[512];
  memset(c, 0, sizeof(*c));
  snprintf(buf, sizeof(buf), "%s", kv);
  for (char *tok = buf; *tok;) {
    char *sp = strchr(tok, ' ');
    if (sp)
      *sp = '\0';
    char *eq = strchr(tok, '=');
    assert_non_null(eq);
    *eq = '\0';
    if (sd_topicconf_set(c, tok, eq + 1, err, sizeof(err)) != 0)
      fail_msg("%s", err);
    if (!sp)
      break;
    tok = sp + 1;
  }
}

static bool exists(const char *dir, const char *name) {
  char p[700];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  return stat(p, &st) == 0;
}

static int64_t generation_in(const char *dir) {
  sd_tcfile f;
  char err[512];
  assert_int_equal(sd_tcfile_read(dir, &f, err, sizeof(err)), 0);
  int64_t g = f.generation;
  sd_tcfile_release(&f);
  return g;
}

static void test_registry_lifecycle(void **state) {
  (void)state;
  broker b;
  char err[1024];
  open_broker(&b);
  sd_topicconf c;
  conf_of(&c, "cleanup.policy=compact retention.ms=1000");
  assert_int_equal(sd_topics_create_with_config(&b.topics, &b.dirs, "t", 1, 3, &c, NULL,
                                                err, sizeof(err)),
                   0);
  sd_topicconf_release(&c);
  for (int32_t p = 0; p < 3; p++) {
    sl_log_config lc = part_cfg(&b, "t", p);
    assert_int_equal(lc.cleanup_policy, SL_CLEANUP_COMPACT);
    assert_int_equal(lc.retention_ms, 1000);
  }
  assert_int_equal(generation_in(dir_a), 1);
  assert_int_equal(generation_in(dir_b), 1);
  assert_string_equal(topic(&b, "t")->compression, "producer");

  /* Replacement: keys not given go back to the broker's values, at once. */
  conf_of(&c, "segment.ms=5000 compression.type=lz4");
  assert_int_equal(
      sd_topics_set_config(&b.topics, &b.dirs, "t", 1, &c, false, err, sizeof(err)), 0);
  sd_topicconf_release(&c);
  sl_log_config lc = part_cfg(&b, "t", 2);
  assert_int_equal(lc.cleanup_policy, SL_CLEANUP_DELETE);
  assert_int_equal(lc.retention_ms, 86400000);
  assert_int_equal(lc.segment_ms, 5000);
  assert_string_equal(topic(&b, "t")->compression, "lz4");
  assert_int_equal(generation_in(dir_a), 2);

  /* Validate-only and invalid sets change nothing. */
  conf_of(&c, "segment.ms=7");
  assert_int_equal(
      sd_topics_set_config(&b.topics, &b.dirs, "t", 1, &c, true, err, sizeof(err)), 0);
  sd_topicconf_release(&c);
  conf_of(&c, "min.compaction.lag.ms=9 max.compaction.lag.ms=8");
  assert_int_equal(
      sd_topics_set_config(&b.topics, &b.dirs, "t", 1, &c, false, err, sizeof(err)),
      SL_EINVAL);
  assert_non_null(strstr(err, "min.compaction.lag.ms (9) > max.compaction.lag.ms (8)"));
  sd_topicconf_release(&c);
  assert_int_equal(part_cfg(&b, "t", 0).segment_ms, 5000);
  assert_int_equal(generation_in(dir_a), 2);
  conf_of(&c, "segment.ms=7");
  assert_int_equal(
      sd_topics_set_config(&b.topics, &b.dirs, "nope", 4, &c, false, err, sizeof(err)),
      SL_ENOT_FOUND);
  sd_topicconf_release(&c);

  /* Partitions added later open with the topic's config. */
  assert_int_equal(
      sd_topics_add_partitions(&b.topics, &b.dirs, "t", 1, 5, err, sizeof(err)), 0);
  assert_int_equal(part_cfg(&b, "t", 4).segment_ms, 5000);

  /* Reopen: the logs open with the stored overrides. */
  close_broker(&b);
  open_broker(&b);
  assert_int_equal(topic(&b, "t")->n_parts, 5);
  for (int32_t p = 0; p < 5; p++)
    assert_int_equal(part_cfg(&b, "t", p).segment_ms, 5000);
  assert_string_equal(sd_topicconf_get(&topic(&b, "t")->conf, "compression.type"), "lz4");
  assert_string_equal(topic(&b, "t")->compression, "lz4");

  /* Delete: the entry goes; a topic re-created with the name has defaults. */
  assert_int_equal(sd_topics_delete(&b.topics, &b.dirs, "t", 1, err, sizeof(err)), 0);
  sd_tcfile f;
  assert_int_equal(sd_tcfile_read(dir_b, &f, err, sizeof(err)), 0);
  assert_null(sd_tcfile_find(&f, "t"));
  sd_tcfile_release(&f);
  assert_int_equal(
      sd_topics_create(&b.topics, &b.dirs, "t", 1, 1, NULL, err, sizeof(err)), 0);
  assert_int_equal(topic(&b, "t")->conf.n, 0);
  assert_int_equal(part_cfg(&b, "t", 0).segment_ms, 604800000);
  close_broker(&b);
}

static void test_stale_entries(void **state) {
  (void)state;
  broker b;
  char err[1024];
  open_broker(&b);
  sd_topicconf c;
  conf_of(&c, "retention.ms=5000");
  assert_int_equal(sd_topics_create_with_config(&b.topics, &b.dirs, "kept", 4, 1, &c,
                                                NULL, err, sizeof(err)),
                   0);
  sd_topicconf_release(&c);
  close_broker(&b);
  /* Dir b got a newer copy (as after a crash between the two directories)
   * with an entry for a topic that has no partitions and one with another
   * topic id. */
  sd_tcfile f;
  assert_int_equal(sd_tcfile_read(dir_b, &f, err, sizeof(err)), 0);
  conf_of(&c, "retention.ms=1");
  assert_int_equal(sd_tcfile_put(&f, "ghost", NULL, &c), 0);
  sl_uuid other;
  assert_int_equal(sl_uuid_random(&other, NULL), 0);
  assert_int_equal(sd_tcfile_put(&f, "t", &other, &c), 0);
  sd_topicconf_release(&c);
  f.generation += 10;
  int64_t g = f.generation;
  assert_int_equal(sd_tcfile_write(dir_b, &f, err, sizeof(err)), 0);
  sd_tcfile_release(&f);
  open_broker(&b);
  assert_int_equal(topic(&b, "t")->conf.n, 0);
  assert_int_equal(part_cfg(&b, "t", 0).retention_ms, 86400000);
  assert_string_equal(sd_topicconf_get(&topic(&b, "kept")->conf, "retention.ms"), "5000");
  assert_null(topic(&b, "ghost"));
  /* Rewritten without them, newer than both copies, in both directories. */
  assert_int_equal(generation_in(dir_a), g + 1);
  assert_int_equal(sd_tcfile_read(dir_a, &f, err, sizeof(err)), 0);
  assert_int_equal(f.n, 1);
  assert_non_null(sd_tcfile_find(&f, "kept"));
  sd_tcfile_release(&f);
  close_broker(&b);
}

static void test_storage_failure(void **state) {
  (void)state;
  broker b;
  char err[1024], tmp[700];
  open_broker(&b);
  /* A directory where the .tmp file goes: every write of the file fails. */
  snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir_b, SD_TOPICCONF_FILE);
  assert_int_equal(mkdir(tmp, 0755), 0);
  sd_topicconf c;
  conf_of(&c, "segment.ms=60000");
  assert_int_equal(
      sd_topics_set_config(&b.topics, &b.dirs, "kept", 4, &c, false, err, sizeof(err)),
      SL_EIO);
  assert_non_null(strstr(err, SD_TOPICCONF_FILE));
  assert_string_equal(sd_topicconf_get(&topic(&b, "kept")->conf, "retention.ms"), "5000");
  assert_null(sd_topicconf_get(&topic(&b, "kept")->conf, "segment.ms"));
  assert_int_equal(part_cfg(&b, "kept", 0).retention_ms, 5000);
  assert_int_equal(part_cfg(&b, "kept", 0).segment_ms, 604800000);
  /* Dir a, written before b failed, got the previous set back. */
  sd_tcfile f;
  assert_int_equal(sd_tcfile_read(dir_a, &f, err, sizeof(err)), 0);
  assert_null(sd_topicconf_get(&sd_tcfile_find(&f, "kept")->conf, "segment.ms"));
  assert_string_equal(sd_topicconf_get(&sd_tcfile_find(&f, "kept")->conf, "retention.ms"),
                      "5000");
  sd_tcfile_release(&f);
  /* Creation with configs fails before any partition exists. */
  assert_int_equal(sd_topics_create_with_config(&b.topics, &b.dirs, "fresh", 5, 2, &c,
                                                NULL, err, sizeof(err)),
                   SL_EIO);
  assert_null(topic(&b, "fresh"));
  assert_false(exists(dir_a, "fresh-0") || exists(dir_b, "fresh-0") ||
               exists(dir_a, "fresh-1") || exists(dir_b, "fresh-1"));
  /* Without configs nothing needs storing. */
  assert_int_equal(
      sd_topics_create(&b.topics, &b.dirs, "plain", 5, 1, NULL, err, sizeof(err)), 0);
  assert_int_equal(rmdir(tmp), 0);
  assert_int_equal(
      sd_topics_set_config(&b.topics, &b.dirs, "kept", 4, &c, false, err, sizeof(err)),
      0);
  sd_topicconf_release(&c);
  assert_int_equal(part_cfg(&b, "kept", 0).segment_ms, 60000);
  close_broker(&b);
  /* After a restart the refused creation left nothing behind. */
  open_broker(&b);
  assert_null(topic(&b, "fresh"));
  assert_int_equal(part_cfg(&b, "kept", 0).segment_ms, 60000);
  close_broker(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_lifecycle),
      cmocka_unit_test(test_stale_entries),
      cmocka_unit_test(test_storage_failure),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
