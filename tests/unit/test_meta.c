/* test_meta.c - topic names, partition dir names, Kafka UUIDs,
 * partition.metadata, meta.properties and the clean-shutdown marker: exact
 * bytes and every reader rule. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/meta.h"

static void test_topic_names(void **state) {
  (void)state;
  char longname[251];
  assert_true(sl_topic_name_is_valid("orders"));
  assert_true(sl_topic_name_is_valid("my.topic_v2-x"));
  assert_true(sl_topic_name_is_valid("..."));
  assert_true(sl_topic_name_is_valid("-"));
  assert_false(sl_topic_name_is_valid(""));
  assert_false(sl_topic_name_is_valid("."));
  assert_false(sl_topic_name_is_valid(".."));
  assert_false(sl_topic_name_is_valid("a b"));
  assert_false(sl_topic_name_is_valid("a/b"));
  assert_false(sl_topic_name_is_valid("caf\xc3\xa9"));
  assert_false(sl_topic_name_is_valid(NULL));
  memset(longname, 'a', 249);
  longname[249] = '\0';
  assert_true(sl_topic_name_is_valid(longname));
  longname[249] = 'a';
  longname[250] = '\0';
  assert_false(sl_topic_name_is_valid(longname));
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_topic_name_validate("ab:c", 4, &d), SL_EINVAL);
  assert_int_equal(d.pos, 2);
  assert_non_null(strstr(d.msg, "0x3a"));
}

static void test_pdir_parse(void **state) {
  (void)state;
  sl_pdir_name n;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_pdir_name_parse("orders-0", &n, &d), SL_OK);
  assert_int_equal(n.kind, SL_PDIR_NORMAL);
  assert_string_equal(n.topic, "orders");
  assert_int_equal(n.partition, 0);
  assert_string_equal(n.unique_id, "");
  /* split at the LAST '-' */
  assert_int_equal(sl_pdir_name_parse("my-topic-name-12", &n, &d), SL_OK);
  assert_string_equal(n.topic, "my-topic-name");
  assert_int_equal(n.partition, 12);
  assert_int_equal(sl_pdir_name_parse("foo--1", &n, &d), SL_OK);
  assert_string_equal(n.topic, "foo-");
  assert_int_equal(n.partition, 1);
  assert_int_equal(sl_pdir_name_parse("__consumer_offsets-49", &n, &d), SL_OK);
  assert_int_equal(sl_pdir_name_parse("__cluster_metadata-0", &n, &d), SL_OK);
  assert_string_equal(n.topic, "__cluster_metadata");

  assert_int_equal(
      sl_pdir_name_parse("my.topic-3.0123456789abcdef0123456789abcdef-delete", &n, &d),
      SL_OK);
  assert_int_equal(n.kind, SL_PDIR_DELETE);
  assert_string_equal(n.topic, "my.topic");
  assert_int_equal(n.partition, 3);
  assert_string_equal(n.unique_id, "0123456789abcdef0123456789abcdef");
  assert_int_equal(sl_pdir_name_parse("t-1.abc-future", &n, &d), SL_OK);
  assert_int_equal(n.kind, SL_PDIR_FUTURE);
  assert_int_equal(n.partition, 1);
  assert_int_equal(sl_pdir_name_parse("t-x-2.abc-stray", &n, &d), SL_OK);
  assert_int_equal(n.kind, SL_PDIR_STRAY);
  assert_string_equal(n.topic, "t-x");
  assert_int_equal(n.partition, 2);

  static const char *const bad[] = {
      "",
      "orders",                 /* no dash */
      "orders-",                /* empty partition */
      "-3",                     /* empty topic */
      "orders-x",               /* not a number */
      "orders-+1",              /* sign */
      "orders-2147483648",      /* int overflow */
      "remote-log-index-cache", /* a known non-partition dir */
      "meta.properties",
      "t-0-delete",     /* suffix without .uuid */
      "t-0.-delete",    /* empty uuid */
      "t-0.a.b-delete", /* partition "0.a" */
      "a b-0",          /* whitespace */
      "..-0",           /* reserved topic name */
      "t-0.x y-stray",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (sl_pdir_name_parse(bad[i], &n, &d) != SL_EINVAL)
      fail_msg("'%s' parsed", bad[i]);
}

static void test_pdir_format(void **state) {
  (void)state;
  char out[300];
  assert_int_equal(sl_pdir_name_format("orders", 7, out, sizeof(out)), SL_OK);
  assert_string_equal(out, "orders-7");
  assert_int_equal(sl_pdir_name_format("orders", 7, out, 8), SL_EINVAL); /* no room */
  assert_int_equal(sl_pdir_name_format("a b", 7, out, sizeof(out)), SL_EINVAL);
  assert_int_equal(sl_pdir_name_format("ok", -1, out, sizeof(out)), SL_EINVAL);
  const char *id = "0123456789abcdef0123456789abcdef";
  assert_int_equal(
      sl_pdir_name_format_suffixed("orders", 7, SL_PDIR_DELETE, id, out, sizeof(out)),
      SL_OK);
  assert_string_equal(out, "orders-7.0123456789abcdef0123456789abcdef-delete");
  assert_int_equal(
      sl_pdir_name_format_suffixed("orders", 7, SL_PDIR_STRAY, id, out, sizeof(out)),
      SL_OK);
  assert_string_equal(out, "orders-7.0123456789abcdef0123456789abcdef-stray");
  /* a 249-character topic is truncated so the name is 255 bytes */
  char topic[250];
  memset(topic, 't', 249);
  topic[249] = '\0';
  assert_int_equal(
      sl_pdir_name_format_suffixed(topic, 12, SL_PDIR_FUTURE, id, out, sizeof(out)),
      SL_OK);
  assert_int_equal(strlen(out), 255);
  /* suffix "-12." + 32 + "-future" = 43, so 212 topic characters remain */
  assert_int_equal(strspn(out, "t"), 212);
  sl_pdir_name n;
  assert_int_equal(sl_pdir_name_parse(out, &n, NULL), SL_OK);
  assert_int_equal(n.kind, SL_PDIR_FUTURE);
  assert_int_equal(strlen(n.topic), 212);
  assert_int_equal(n.partition, 12);
  assert_int_equal(
      sl_pdir_name_format_suffixed("t", 0, SL_PDIR_NORMAL, id, out, sizeof(out)),
      SL_EINVAL);
}

static void test_uuid(void **state) {
  (void)state;
  sl_uuid u;
  char s[SL_UUID_STR_LEN + 1];
  static const uint8_t example[16] = {0xf0, 0x9a, 0x77, 0x6e, 0xae, 0x8a, 0x45, 0x36,
                                      0xaf, 0x57, 0xb7, 0x0b, 0x61, 0xf3, 0x05, 0x1f};
  assert_int_equal(sl_uuid_parse("8Jp3bq6KRTavV7cLYfMFHw", 22, &u), SL_OK);
  assert_memory_equal(u.b, example, 16);
  sl_uuid_to_string(&u, s);
  assert_string_equal(s, "8Jp3bq6KRTavV7cLYfMFHw");
  /* padded form accepted */
  assert_int_equal(sl_uuid_parse("8Jp3bq6KRTavV7cLYfMFHw==", 24, &u), SL_OK);
  assert_memory_equal(u.b, example, 16);
  for (int i = 0; i < 16; i++)
    u.b[i] = (uint8_t)i;
  sl_uuid_to_string(&u, s);
  assert_string_equal(s, "AAECAwQFBgcICQoLDA0ODw");
  char hex[33];
  sl_uuid_hex32(&u, hex);
  assert_string_equal(hex, "000102030405060708090a0b0c0d0e0f");
  /* zero and the metadata topic id */
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAA", 22, &u), SL_OK);
  assert_true(sl_uuid_is_zero(&u));
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAQ", 22, &u), SL_OK);
  assert_false(sl_uuid_is_zero(&u));
  assert_int_equal(u.b[15], 1);
  /* rejects */
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAB", 22, &u), SL_EINVAL); /* bits */
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAA", 21, &u), SL_EINVAL);
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAAA", 23, &u), SL_EINVAL);
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAA+A", 22, &u), SL_EINVAL);
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAA/A", 22, &u), SL_EINVAL);
  assert_int_equal(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAA=A", 22, &u), SL_EINVAL);
  /* random ids: v4, never zero, never starting with '-', all distinct */
  sl_uuid prev;
  memset(&prev, 0, sizeof(prev));
  for (int i = 0; i < 2000; i++) {
    assert_int_equal(sl_uuid_random(&u, NULL), SL_OK);
    assert_false(sl_uuid_is_zero(&u));
    assert_int_equal(u.b[6] >> 4, 4);
    assert_int_equal(u.b[8] >> 6, 2);
    sl_uuid_to_string(&u, s);
    assert_true(s[0] != '-');
    assert_false(sl_uuid_equal(&u, &prev));
    sl_uuid back;
    assert_int_equal(sl_uuid_parse(s, strlen(s), &back), SL_OK);
    assert_true(sl_uuid_equal(&u, &back));
    prev = u;
  }
}

static void test_partition_metadata(void **state) {
  (void)state;
  sl_uuid u, back;
  sl_buf b = SL_BUF_INIT;
  int32_t version = -5;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_uuid_parse("8Jp3bq6KRTavV7cLYfMFHw", 22, &u), SL_OK);
  assert_int_equal(sl_partition_metadata_format(&u, &b), SL_OK);
  const char *want = "version: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw";
  assert_int_equal(b.len, strlen(want)); /* no trailing newline */
  assert_memory_equal(b.data, want, b.len);
  assert_int_equal(sl_partition_metadata_parse(b.data, b.len, &version, &back, &d),
                   SL_OK);
  assert_int_equal(version, 0);
  assert_true(sl_uuid_equal(&u, &back));
  sl_buf_release(&b);

  static const char *const good[] = {
      "version: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw\n",           /* trailing newline */
      "version:  0\r\ntopic_id:\t8Jp3bq6KRTavV7cLYfMFHw",         /* \s+ and \r\n */
      "version: 3\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw",             /* newer version */
      "version: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw\nextra line", /* ignored */
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    int rc = sl_partition_metadata_parse(good[i], strlen(good[i]), NULL, &back, &d);
    if (rc != SL_OK)
      fail_msg("good case %zu: rc=%d %s", i, rc, d.msg);
    assert_true(sl_uuid_equal(&u, &back));
  }
  static const char *const bad[] = {
      "",
      "version: 0",                                    /* no id line */
      "version:0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw",   /* no blank after ':' */
      "version: -1\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw", /* negative version */
      "version: x\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw",
      "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA",    /* zero id */
      "version: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMF",      /* short id */
      "version: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw x",  /* junk */
      "version: 0: 1\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw", /* three parts */
      "version: 0\n\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw",  /* blank line */
      "v: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw",          /* wrong key */
      "version: 0\ntopicid: 8Jp3bq6KRTavV7cLYfMFHw",     /* wrong key */
      "version: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw: ",  /* junk after the id */
      "version: \ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw",     /* empty version */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (sl_partition_metadata_parse(bad[i], strlen(bad[i]), NULL, &back, &d) !=
        SL_ECORRUPT)
      fail_msg("bad case %zu parsed", i);

  /* files */
  char *dir = tu_mkdtemp();
  assert_int_equal(sl_partition_metadata_read(dir, &back, &d), SL_ENOT_FOUND);
  assert_int_equal(sl_partition_metadata_write(dir, &u, &d), SL_OK);
  char *p = tu_path(dir, "partition.metadata");
  size_t len;
  uint8_t *data = tu_read_file(p, &len);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(data, want, len);
  free(data);
  memset(&back, 0, sizeof(back));
  assert_int_equal(sl_partition_metadata_read(dir, &back, &d), SL_OK);
  assert_true(sl_uuid_equal(&u, &back));
  sl_uuid zero;
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(sl_partition_metadata_write(dir, &zero, &d), SL_EINVAL);
  assert_int_equal(tu_write_file(p, "garbage", 7), 0);
  assert_int_equal(sl_partition_metadata_read(dir, &back, &d), SL_ECORRUPT);
  assert_string_equal(d.path, p);
  free(p);
  tu_rmtree_free(dir);
}

static void test_meta_properties_parse(void **state) {
  (void)state;
  sl_meta_properties m;
  sl_diag d;
  sl_diag_clear(&d);
  /* as Kafka writes it */
  const char *v1 = "#\n#Tue Nov 14 10:21:11 UTC 2023\nnode.id=1\n"
                   "directory.id=8Jp3bq6KRTavV7cLYfMFHw\nversion=1\n"
                   "cluster.id=MkU3OEVBNTcwNTJENDM2Qg\n";
  assert_int_equal(sl_meta_properties_parse(v1, strlen(v1), &m, &d), SL_OK);
  assert_int_equal(m.version, 1);
  assert_true(m.has_node_id);
  assert_int_equal(m.node_id, 1);
  assert_true(m.has_cluster_id);
  assert_string_equal(m.cluster_id, "MkU3OEVBNTcwNTJENDM2Qg");
  assert_true(m.has_directory_id);
  char s[SL_UUID_STR_LEN + 1];
  sl_uuid_to_string(&m.directory_id, s);
  assert_string_equal(s, "8Jp3bq6KRTavV7cLYfMFHw");

  /* v0, Properties syntax variants: ':' and blank separators, '!' comments,
   * continuation lines, escapes, unknown keys, later key wins */
  const char *v0 = "! comment\n"
                   "  # indented comment\n"
                   "\n"
                   "version : 0\n"
                   "broker.id   7\n"
                   "broker.id=8\n"
                   "cluster.id=ab\\\n"
                   "    cd\\u0045\n"
                   "some.other=thing\n";
  assert_int_equal(sl_meta_properties_parse(v0, strlen(v0), &m, &d), SL_OK);
  assert_int_equal(m.version, 0);
  assert_true(m.has_node_id);
  assert_int_equal(m.node_id, 8);
  assert_string_equal(m.cluster_id, "abcdE");
  assert_false(m.has_directory_id);

  /* missing version = 0; v0 needs neither broker.id nor cluster.id */
  assert_int_equal(sl_meta_properties_parse("", 0, &m, &d), SL_OK);
  assert_int_equal(m.version, 0);
  assert_false(m.has_node_id);
  assert_false(m.has_cluster_id);
  /* v0 ignores node.id */
  assert_int_equal(sl_meta_properties_parse("version=0\nnode.id=3\n", 20, &m, &d), SL_OK);
  assert_false(m.has_node_id);

  static const struct {
    const char *text;
    int rc;
  } bad[] = {
      {"version=2\n", SL_EUNSUPPORTED},
      {"version=x\n", SL_ECORRUPT},
      {"version=1\ncluster.id=c\n", SL_ECORRUPT}, /* no node.id */
      {"version=1\nnode.id=1\n", SL_ECORRUPT},    /* no cluster.id */
      {"version=1\nnode.id=-1\ncluster.id=c\n", SL_ECORRUPT},
      {"version=1\nnode.id=1 \ncluster.id=c\n", SL_ECORRUPT}, /* trailing blank */
      {"version=1\nnode.id=abc\ncluster.id=c\n", SL_ECORRUPT},
      {"version=0\nbroker.id=2147483648\n", SL_ECORRUPT},
      {"version=0\ndirectory.id=nope\n", SL_ECORRUPT},
      {"version=0\ncluster.id=\\u00zz\n", SL_ECORRUPT},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = sl_meta_properties_parse(bad[i].text, strlen(bad[i].text), &m, &d);
    if (rc != bad[i].rc)
      fail_msg("case %zu: rc=%d want %d", i, rc, bad[i].rc);
  }
}

static void test_meta_properties_format(void **state) {
  (void)state;
  sl_meta_properties m;
  sl_buf b = SL_BUF_INIT;
  memset(&m, 0, sizeof(m));
  m.version = 1;
  m.has_node_id = true;
  m.node_id = 3;
  m.has_cluster_id = true;
  snprintf(m.cluster_id, sizeof(m.cluster_id), "MkU3OEVBNTcwNTJENDM2Qg");
  m.has_directory_id = true;
  assert_int_equal(sl_uuid_parse("8Jp3bq6KRTavV7cLYfMFHw", 22, &m.directory_id), SL_OK);
  /* 2026-11-25 16:41:03 UTC */
  assert_int_equal(sl_meta_properties_format(&m, 1795624863000LL, &b), SL_OK);
  const char *want = "#\n#Wed Nov 25 16:41:03 UTC 2026\n"
                     "cluster.id=MkU3OEVBNTcwNTJENDM2Qg\n"
                     "directory.id=8Jp3bq6KRTavV7cLYfMFHw\n"
                     "node.id=3\n"
                     "version=1\n";
  assert_int_equal(b.len, strlen(want));
  assert_memory_equal(b.data, want, b.len);
  sl_meta_properties back;
  assert_int_equal(sl_meta_properties_parse(b.data, b.len, &back, NULL), SL_OK);
  assert_int_equal(back.node_id, 3);
  assert_string_equal(back.cluster_id, m.cluster_id);
  assert_true(sl_uuid_equal(&back.directory_id, &m.directory_id));

  /* v0 with broker.id, single-digit day padded, escaping of special chars */
  sl_buf_reset(&b);
  memset(&m, 0, sizeof(m));
  m.version = 0;
  m.has_node_id = true;
  m.node_id = 0;
  m.has_cluster_id = true;
  snprintf(m.cluster_id, sizeof(m.cluster_id), " a=b:c#");
  assert_int_equal(sl_meta_properties_format(&m, 0, &b), SL_OK);
  want = "#\n#Thu Jan 01 00:00:00 UTC 1970\nbroker.id=0\ncluster.id=\\ a\\=b\\:c\\#\n"
         "version=0\n";
  assert_int_equal(b.len, strlen(want));
  assert_memory_equal(b.data, want, b.len);
  assert_int_equal(sl_meta_properties_parse(b.data, b.len, &back, NULL), SL_OK);
  assert_string_equal(back.cluster_id, " a=b:c#");
  assert_int_equal(back.node_id, 0);

  /* v1 without node.id or with junk is refused */
  m.version = 1;
  m.has_node_id = false;
  assert_int_equal(sl_meta_properties_format(&m, 0, &b), SL_EINVAL);
  m.version = 2;
  assert_int_equal(sl_meta_properties_format(&m, 0, &b), SL_EINVAL);
  sl_buf_release(&b);

  /* file round trip */
  char *dir = tu_mkdtemp();
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_meta_properties_read(dir, &back, &d), SL_ENOT_FOUND);
  memset(&m, 0, sizeof(m));
  m.version = 1;
  m.has_node_id = true;
  m.node_id = 42;
  m.has_cluster_id = true;
  snprintf(m.cluster_id, sizeof(m.cluster_id), "abc");
  assert_int_equal(sl_meta_properties_write(dir, &m, &d), SL_OK);
  assert_int_equal(sl_meta_properties_read(dir, &back, &d), SL_OK);
  assert_int_equal(back.version, 1);
  assert_int_equal(back.node_id, 42);
  assert_string_equal(back.cluster_id, "abc");
  char *p = tu_path(dir, "meta.properties");
  size_t len;
  char *data = (char *)tu_read_file(p, &len);
  assert_memory_equal(data, "#\n#", 3);
  assert_non_null(strstr(data, " UTC "));
  assert_non_null(strstr(data, "\ncluster.id=abc\nnode.id=42\nversion=1\n"));
  free(data);
  free(p);
  tu_rmtree_free(dir);
}

static void test_clean_shutdown(void **state) {
  (void)state;
  int64_t e;
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sl_clean_shutdown_format(123, &b), SL_OK);
  const char *want = "{\"version\":0,\"brokerEpoch\":123}";
  assert_int_equal(b.len, strlen(want));
  assert_memory_equal(b.data, want, b.len);
  sl_clean_shutdown_parse(b.data, b.len, &e);
  assert_int_equal(e, 123);
  sl_buf_release(&b);
  static const struct {
    const char *text;
    int64_t epoch;
  } cases[] = {
      {"{ \"brokerEpoch\" : -1 , \"version\" : 0 }", -1},
      {"{\"version\":0,\"extra\":{\"a\":[1,2,\"}\"]},\"brokerEpoch\":77}\n", 77},
      {"{\"brokerEpoch\":9223372036854775807}", INT64_MAX},
      {"{\"version\":0}", -1},
      {"", -1},
      {"{", -1},
      {"{\"brokerEpoch\":12", -1},
      {"{\"brokerEpoch\":\"12\"}", -1},
      {"{\"brokerEpoch\":1.5}", -1},
      {"[1]", -1},
      {"{\"brokerEpoch\":5,}", -1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sl_clean_shutdown_parse(cases[i].text, strlen(cases[i].text), &e);
    if (e != cases[i].epoch)
      fail_msg("case %zu: epoch %lld", i, (long long)e);
  }
  char *dir = tu_mkdtemp();
  bool exists = true;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_clean_shutdown_read(dir, &exists, &e, &d), SL_OK);
  assert_false(exists);
  assert_int_equal(e, -1);
  assert_int_equal(sl_clean_shutdown_write(dir, 9, &d), SL_OK);
  assert_int_equal(sl_clean_shutdown_read(dir, &exists, &e, &d), SL_OK);
  assert_true(exists);
  assert_int_equal(e, 9);
  char *p = tu_path(dir, ".kafka_cleanshutdown");
  assert_int_equal(tu_write_file(p, "not json", 8), 0);
  assert_int_equal(sl_clean_shutdown_read(dir, &exists, &e, &d), SL_OK);
  assert_true(exists); /* existence is what counts */
  assert_int_equal(e, -1);
  assert_int_equal(sl_clean_shutdown_delete(dir, &d), SL_OK);
  assert_int_equal(tu_file_size(p), -1);
  assert_int_equal(sl_clean_shutdown_delete(dir, &d), SL_OK); /* missing is fine */
  assert_int_equal(sl_clean_shutdown_read(dir, &exists, NULL, &d), SL_OK);
  assert_false(exists);
  free(p);
  tu_rmtree_free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_names),
      cmocka_unit_test(test_pdir_parse),
      cmocka_unit_test(test_pdir_format),
      cmocka_unit_test(test_uuid),
      cmocka_unit_test(test_partition_metadata),
      cmocka_unit_test(test_meta_properties_parse),
      cmocka_unit_test(test_meta_properties_format),
      cmocka_unit_test(test_clean_shutdown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
