/* test_mirror_config.c - seglog-mirror's mm2.properties parser: the Java
 * .properties lexer (separators, comments, escapes, continuations), the key
 * table (globals, A->B overrides, cluster and client keys), errors that name
 * the key, MM2's defaults, and the Java-regex-to-POSIX translation. */
#include "testutil.h"

#include <string.h>

#include "mm_config.h"

static mm_config *parse_ok(const char *text) {
  mm_config *c = NULL;
  char err[512] = "";
  int rc = mm_config_parse(text, strlen(text), &c, err, sizeof err);
  if (rc != 0)
    fail_msg("unexpected error: %s", err);
  return c;
}

/* Parses text expecting failure; the message must contain `needle`. */
static void parse_bad(const char *text, const char *needle) {
  mm_config *c = NULL;
  char err[512] = "";
  assert_int_equal(mm_config_parse(text, strlen(text), &c, err, sizeof err), -1);
  assert_null(c);
  if (!strstr(err, needle))
    fail_msg("error '%s' does not mention '%s'", err, needle);
}

#define BASE                                                                             \
  "clusters = A, B\n"                                                                    \
  "A.bootstrap.servers = 127.0.0.1:1\n"                                                  \
  "B.bootstrap.servers: 127.0.0.1:2\n"

static void test_minimal_and_defaults(void **state) {
  (void)state;
  mm_config *c = parse_ok("# comment\n! also\n" BASE "A->B.enabled = true\n");
  assert_int_equal(c->n_clusters, 2);
  assert_int_equal(c->n_flows, 1);
  const mm_flow_cfg *f = &c->flows[0];
  assert_int_equal(f->src, 0);
  assert_int_equal(f->dst, 1);
  assert_false(c->identity_policy);
  assert_string_equal(c->separator, ".");
  assert_string_equal(c->clusters[1].bootstrap, "127.0.0.1:2");
  /* MM2's defaults. */
  assert_true(mm_filter_match(&f->topics, "orders"));
  assert_true(mm_filter_match(&f->topics_exclude, "x.internal"));
  assert_true(mm_filter_match(&f->topics_exclude, "x-internal"));
  assert_true(mm_filter_match(&f->topics_exclude, "a.replica"));
  assert_true(mm_filter_match(&f->topics_exclude, "__consumer_offsets"));
  assert_false(mm_filter_match(&f->topics_exclude, "orders"));
  assert_false(mm_filter_match(&f->topics_exclude, "xinternal"));
  assert_true(mm_filter_match(&f->groups_exclude, "console-consumer-1"));
  assert_false(mm_filter_match(&f->groups_exclude, "app"));
  assert_int_equal(f->refresh_topics_ms, 600000);
  assert_int_equal(f->heartbeats_ms, 1000);
  assert_int_equal(f->checkpoints_ms, 60000);
  assert_int_equal(f->offset_lag_max, 100);
  assert_false(f->sync_group_offsets);
  assert_false(f->syncs_on_target);
  assert_true(f->sync_topic_configs);
  assert_int_equal(f->sync_configs_ms, 600000);
  assert_int_equal(f->replication_factor, -1);
  mm_config_free(c);
}

static void test_overrides(void **state) {
  (void)state;
  mm_config *c =
      parse_ok(BASE "topics = orders.*, pay\\\\d+\n"
                    "A->B.enabled = true\n"
                    "B->A.enabled = true\n"
                    "B->A.topics = only\n"
                    "A->B.refresh.topics.interval.seconds = 2\n"
                    "emit.checkpoints.interval.seconds = -1\n"
                    "B->A.sync.topic.configs.interval.seconds = 3\n"
                    "sync.group.offsets.enabled = TRUE\n"
                    "offset-syncs.topic.location = target\n"
                    "replication.policy.class = "
                    "org.apache.kafka.connect.mirror.IdentityReplicationPolicy\n"
                    "replication.policy.separator = _\n"
                    "A.producer.linger.ms = 20\n"
                    "A.consumer.fetch.min.bytes = 1\n"
                    "A.client.rack = r1\n"
                    "tasks.max = 4\n"
                    "metrics.listener = 127.0.0.1:0\n");
  assert_int_equal(c->n_flows, 2);
  assert_true(c->identity_policy);
  assert_string_equal(c->separator, "_");
  assert_string_equal(c->metrics_listener, "127.0.0.1:0");
  const mm_flow_cfg *ab = NULL, *ba = NULL;
  for (size_t i = 0; i < c->n_flows; i++) {
    if (c->flows[i].src == 0)
      ab = &c->flows[i];
    else
      ba = &c->flows[i];
  }
  assert_non_null(ab);
  assert_non_null(ba);
  assert_true(mm_filter_match(&ab->topics, "orders.eu"));
  assert_true(mm_filter_match(&ab->topics, "pay42"));
  assert_false(mm_filter_match(&ab->topics, "payx"));
  assert_false(mm_filter_match(&ab->topics, "xorders"));
  assert_true(mm_filter_match(&ba->topics, "only"));
  assert_false(mm_filter_match(&ba->topics, "orders"));
  assert_int_equal(ab->refresh_topics_ms, 2000);
  assert_int_equal(ba->refresh_topics_ms, 600000);
  assert_int_equal(ab->checkpoints_ms, -1);
  assert_int_equal(ab->sync_configs_ms, 600000);
  assert_int_equal(ba->sync_configs_ms, 3000);
  assert_true(ab->sync_group_offsets);
  assert_true(ab->syncs_on_target);
  assert_int_equal(c->clusters[0].n_producer, 1);
  assert_string_equal(c->clusters[0].producer[0].key, "linger.ms");
  assert_int_equal(c->clusters[0].n_consumer, 1);
  assert_int_equal(c->clusters[0].n_common, 1);
  mm_config_free(c);
}

static void test_lexer(void **state) {
  (void)state;
  /* Continuation lines, ':' and space separators, \uXXXX and \\ escapes. */
  mm_config *c = parse_ok("clusters = A, \\\n    B\n"
                          "A.bootstrap.servers 127.0.0.1:1\n"
                          "B.bootstrap.servers=127.0.0.1:\\u0032\n"
                          "A->B.enabled = true\n"
                          "topics = a\\\\.b\n");
  assert_int_equal(c->n_clusters, 2);
  assert_string_equal(c->clusters[1].alias, "B");
  assert_string_equal(c->clusters[1].bootstrap, "127.0.0.1:2");
  assert_true(mm_filter_match(&c->flows[0].topics, "a.b"));
  assert_false(mm_filter_match(&c->flows[0].topics, "axb"));
  mm_config_free(c);
  /* A single backslash is a properties escape: "a\.b" reaches the regex as
   * "a.b", as in Java. */
  c = parse_ok(BASE "A->B.enabled = true\ntopics = a\\.b\n");
  assert_true(mm_filter_match(&c->flows[0].topics, "axb"));
  mm_config_free(c);
  /* An empty list matches nothing. */
  c = parse_ok(BASE "A->B.enabled = true\ngroups =\n");
  assert_false(mm_filter_match(&c->flows[0].groups, "g"));
  mm_config_free(c);
}

static void test_errors_name_the_key(void **state) {
  (void)state;
  parse_bad("A.bootstrap.servers = x\n", "clusters");
  parse_bad("clusters = A\nA.bootstrap.servers=x\n", "clusters");
  parse_bad("clusters = A, A\n", "clusters");
  parse_bad("clusters = A, B/C\n", "clusters");
  parse_bad(BASE, "enabled");
  parse_bad("clusters = A, B\nA.bootstrap.servers = x\nA->B.enabled = true\n",
            "B.bootstrap.servers");
  parse_bad(BASE "A->B.enabled = yes\n", "A->B.enabled");
  parse_bad(BASE "A->B.enabled = true\nbogus.key = 1\n", "bogus.key");
  parse_bad(BASE "A->B.enabled = true\nA->B.bogus = 1\n", "A->B.bogus");
  parse_bad(BASE "A->C.enabled = true\n", "A->C.enabled");
  parse_bad(BASE "C->B.enabled = true\n", "C->B.enabled");
  parse_bad(BASE "A->A.enabled = true\n", "A->A.enabled");
  parse_bad(BASE "A->B.enabled = true\nrefresh.topics.interval.seconds = 0\n",
            "refresh.topics.interval.seconds");
  parse_bad(BASE "A->B.enabled = true\nrefresh.topics.interval.seconds = 5s\n",
            "refresh.topics.interval.seconds");
  parse_bad(BASE "A->B.enabled = true\noffset-syncs.topic.location = middle\n",
            "offset-syncs.topic.location");
  parse_bad(BASE "A->B.enabled = true\nreplication.policy.class = My\n",
            "replication.policy.class");
  parse_bad(BASE "A->B.enabled = true\nA.producer.linger.ms = soon\n",
            "A.producer.linger.ms");
  parse_bad(BASE "A->B.enabled = true\nA.producer.no.such.thing = 1\n",
            "A.producer.no.such.thing");
  parse_bad(BASE "A->B.enabled = true\nexactly.once.source.support = enabled\n",
            "transactions");
  parse_bad(BASE "A->B.enabled = true\ntopics = (?i)orders\n", "topics");
  parse_bad(BASE "A->B.enabled = true\nA->B.topics = a*?\n", "A->B.topics");
  parse_bad(BASE "A->B.enabled = true\ntopics = [abc\n", "topics");
  parse_bad(BASE "A->B.enabled = true\noffset.lag.max = 20000\n",
            "mirror.window.records");
  parse_bad(BASE "A->B.enabled = true\nB.bootstrap.servers = x\\u00zz\n", "line 5");
}

static void test_regex_translate(void **state) {
  (void)state;
  char out[256], err[128];
  static const char *const cases[][2] = {
      {"a\\d+", "a[0-9]+"},
      {"\\w\\s\\D", "[A-Za-z0-9_][[:space:]][^0-9]"},
      {"a\\.b", "a\\.b"},
      {"[\\-\\.]x", "[[.-.].]x"},
      {"[^\\]a]", "[^[.].]a]"},
      {"[\\d_]", "[0-9_]"},
      {"[[:alpha:]]+", "[[:alpha:]]+"},
      {"(a|b)*", "(a|b)*"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(mm_regex_translate(cases[i][0], out, sizeof out, err, sizeof err),
                     0);
    assert_string_equal(out, cases[i][1]);
  }
  static const char *const bad[] = {"(?i)a",  "a+?",    "a*+", "\\bword",
                                    "(a)\\1", "[a&&b]", "x\\"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(mm_regex_translate(bad[i], out, sizeof out, err, sizeof err), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minimal_and_defaults),
      cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_lexer),
      cmocka_unit_test(test_errors_name_the_key),
      cmocka_unit_test(test_regex_translate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
