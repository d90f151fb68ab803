/* test_logdir.c - a log dir as Kafka's LogManager handles it: discovery of
 * partition dirs (and what is ignored), the clean-shutdown marker, the root
 * checkpoints written at close and read at open, partition creation and
 * deletion, meta.properties, the lock. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio_int.h"
#include "seglog/batch.h"
#include "seglog/logdir.h"

/* Appends n one-record batches as leader; returns the first offset. */
static int64_t append(sl_log *log, int n) {
  sl_batch_builder_opts o;
  sl_batch_builder *b;
  sl_buf out = SL_BUF_INIT;
  sl_batch_builder_opts_init(&o);
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  for (int i = 0; i < n; i++) {
    sl_batch_builder_reset(b, &o);
    assert_int_equal(sl_batch_builder_add(b, 1000 + i, NULL, -1, "v", 1, NULL, 0), SL_OK);
    assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  }
  sl_batch_builder_free(b);
  sl_append_info info;
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_append(log, out.data, out.len, SL_APPEND_LEADER, 0, 0, &info, &d);
  if (rc) {
    char buf[512];
    fail_msg("append: %s", sl_diag_format(&d, buf, sizeof(buf)));
  }
  sl_buf_release(&out);
  return info.first_offset;
}

static void file_is(const char *dir, const char *name, const char *text) {
  char *p = tu_path(dir, name);
  size_t len;
  uint8_t *data = tu_read_file(p, &len);
  if (data == NULL)
    fail_msg("%s is missing", name);
  if (len != strlen(text) || memcmp(data, text, len) != 0)
    fail_msg("%s is '%.*s', want '%s'", name, (int)len, (const char *)data, text);
  free(data);
  free(p);
}

static void mkdir_in(const char *dir, const char *name) {
  char *p = tu_path(dir, name);
  assert_int_equal(mkdir(p, 0755), 0);
  free(p);
}

static bool exists_in(const char *dir, const char *name) {
  char *p = tu_path(dir, name);
  struct stat st;
  bool r = stat(p, &st) == 0;
  free(p);
  return r;
}

static void test_create_close_reopen(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *root = tu_path(dir, "data");
  sl_logdir_opts o;
  sl_logdir *ld;
  sl_diag d;
  sl_diag_clear(&d);
  sl_logdir_opts_init(&o);
  o.create = true;
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  assert_true(exists_in(root, ".lock"));
  sl_logdir_report r;
  sl_logdir_report_get(ld, &r);
  assert_false(r.clean_shutdown);
  assert_false(r.has_meta_properties);
  assert_null(sl_logdir_meta(ld));
  assert_int_equal(sl_logdir_count(ld), 0);

  /* a second writer is refused while the dir is locked */
  sl_logdir *other;
  assert_int_equal(sl_logdir_open(root, &o, &other, &d), SL_ELOCKED);

  sl_uuid id;
  assert_int_equal(sl_uuid_parse("8Jp3bq6KRTavV7cLYfMFHw", 22, &id), SL_OK);
  sl_log *a, *b;
  assert_int_equal(sl_logdir_create_partition(ld, "orders", 0, NULL, &id, &a, &d), SL_OK);
  assert_int_equal(sl_logdir_create_partition(ld, "my-topic", 3, NULL, NULL, &b, &d),
                   SL_OK);
  sl_log *dot;
  assert_int_equal(sl_logdir_create_partition(ld, ".hidden", 0, NULL, NULL, &dot, &d),
                   SL_OK);
  assert_int_equal(sl_logdir_create_partition(ld, "orders", 0, NULL, NULL, NULL, &d),
                   SL_EEXISTS);
  assert_int_equal(sl_logdir_create_partition(ld, "bad topic", 0, NULL, NULL, NULL, &d),
                   SL_EINVAL);
  assert_int_equal(
      sl_logdir_create_partition(ld, "__cluster_metadata", 0, NULL, NULL, NULL, &d),
      SL_EINVAL);
  file_is(root, "orders-0/partition.metadata",
          "version: 0\ntopic_id: 8Jp3bq6KRTavV7cLYfMFHw");
  assert_int_equal(sl_logdir_count(ld), 3);
  assert_ptr_equal(sl_logdir_get(ld, "orders", 0), a);
  assert_null(sl_logdir_get(ld, "orders", 1));

  assert_int_equal(append(a, 5), 0);
  assert_int_equal(append(b, 2), 0);
  sl_log_set_high_watermark(a, 3);
  sl_log_set_high_watermark(b, 2);
  /* periodic checkpoint: recovery points not yet advanced (no flush) */
  assert_int_equal(sl_logdir_checkpoint(ld, &d), SL_OK);
  file_is(root, "replication-offset-checkpoint",
          "0\n3\norders 0 3\nmy-topic 3 2\n.hidden 0 0\n");
  file_is(root, "log-start-offset-checkpoint", "0\n0\n");
  assert_int_equal(sl_logdir_set_cleaner_offset(ld, "orders", 0, 4), SL_OK);
  /* DeleteRecords moves the log start above the first segment: checkpointed */
  int64_t ns;
  assert_int_equal(sl_log_delete_records(a, 2, &ns, &d), SL_OK);
  assert_int_equal(ns, 2);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);

  /* a clean close: checkpoints at the LEO and the marker */
  file_is(root, "recovery-point-offset-checkpoint",
          "0\n3\norders 0 5\nmy-topic 3 2\n.hidden 0 0\n");
  file_is(root, "replication-offset-checkpoint",
          "0\n3\norders 0 3\nmy-topic 3 2\n.hidden 0 0\n");
  file_is(root, "log-start-offset-checkpoint", "0\n1\norders 0 2\n");
  file_is(root, "cleaner-offset-checkpoint", "0\n1\norders 0 4\n");
  file_is(root, ".kafka_cleanshutdown", "{\"version\":0,\"brokerEpoch\":-1}");

  /* reopen: marker noticed and deleted, partitions found, state restored */
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  sl_logdir_report_get(ld, &r);
  assert_true(r.clean_shutdown);
  assert_int_equal(r.partitions, 3);
  assert_non_null(sl_logdir_get(ld, ".hidden", 0));
  assert_int_equal(r.checkpoint_errors, 0);
  assert_false(exists_in(root, ".kafka_cleanshutdown"));
  a = sl_logdir_get(ld, "orders", 0);
  assert_non_null(a);
  assert_int_equal(sl_log_end_offset(a), 5);
  assert_int_equal(sl_log_high_watermark(a), 3);
  assert_int_equal(sl_log_recovery_point(a), 5);
  assert_int_equal(sl_log_start_offset(a), 2);
  int64_t co;
  assert_true(sl_logdir_cleaner_offset(ld, "orders", 0, &co));
  assert_int_equal(co, 4);
  assert_false(sl_logdir_cleaner_offset(ld, "my-topic", 3, &co));
  const char *t;
  int32_t pn;
  sl_log *l;
  assert_true(sl_logdir_at(ld, 0, &t, &pn, &l));
  assert_string_equal(t, ".hidden"); /* sorted by dir name at open */
  assert_false(sl_logdir_at(ld, 3, &t, &pn, &l));
  /* a crash: no marker written */
  sl_logdir_abandon(ld);
  assert_false(exists_in(root, ".kafka_cleanshutdown"));
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  sl_logdir_report_get(ld, &r);
  assert_false(r.clean_shutdown);
  assert_int_equal(sl_log_end_offset(sl_logdir_get(ld, "orders", 0)), 5);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);
  free(root);
  tu_rmtree_free(dir);
}

/* Opens (creating) the log dir root for writing. */
static sl_logdir *open_new(const char *root) {
  sl_logdir_opts o;
  sl_logdir *ld = NULL;
  sl_logdir_opts_init(&o);
  o.create = true;
  assert_int_equal(sl_logdir_open(root, &o, &ld, NULL), SL_OK);
  return ld;
}

/* sl_logdir_checkpoint_write from another thread. */
static void *write_cp(void *arg) {
  sl_diag d;
  sl_diag_clear(&d);
  return (void *)(intptr_t)sl_logdir_checkpoint_write(arg, &d);
}

/* Root checkpoints taken on one thread and written on another (seglogd's
 * upkeep): a set older than one already written is dropped, and cleaner
 * offsets changed after a set was taken stay dirty until written. */
static void test_checkpoint_in_steps(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *root = tu_path(dir, "data");
  sl_logdir *ld = open_new(root);
  sl_diag d;
  sl_diag_clear(&d);
  sl_log *a;
  assert_int_equal(sl_logdir_create_partition(ld, "t", 0, NULL, NULL, &a, &d), SL_OK);
  assert_int_equal(append(a, 5), 0);
  sl_log_set_high_watermark(a, 2);
  assert_int_equal(sl_logdir_set_cleaner_offset(ld, "t", 0, 1), SL_OK);

  /* Taken at HW 2, written on another thread. */
  sl_logdir_cp *cp = NULL;
  assert_int_equal(sl_logdir_checkpoint_begin(ld, &cp, &d), SL_OK);
  pthread_t th;
  void *res;
  assert_int_equal(pthread_create(&th, NULL, write_cp, cp), 0);
  assert_int_equal(pthread_join(th, &res), 0);
  assert_int_equal((int)(intptr_t)res, SL_OK);
  sl_logdir_checkpoint_end(ld, cp);
  file_is(root, "replication-offset-checkpoint", "0\n1\nt 0 2\n");
  file_is(root, "cleaner-offset-checkpoint", "0\n1\nt 0 1\n");

  /* A set taken at HW 3, then a newer one written first (HW 4): the older
   * one is dropped when its turn comes, and the files keep HW 4. */
  sl_log_set_high_watermark(a, 3);
  assert_int_equal(sl_logdir_checkpoint_begin(ld, &cp, &d), SL_OK);
  sl_log_set_high_watermark(a, 4);
  assert_int_equal(sl_logdir_checkpoint(ld, &d), SL_OK);
  file_is(root, "replication-offset-checkpoint", "0\n1\nt 0 4\n");
  assert_int_equal(sl_logdir_checkpoint_write(cp, &d), SL_OK);
  sl_logdir_checkpoint_end(ld, cp);
  file_is(root, "replication-offset-checkpoint", "0\n1\nt 0 4\n");

  /* A cleaner offset set after a set was taken is not marked written by it:
   * the next checkpoint writes it. */
  assert_int_equal(sl_logdir_set_cleaner_offset(ld, "t", 0, 2), SL_OK);
  assert_int_equal(sl_logdir_checkpoint_begin(ld, &cp, &d), SL_OK);
  assert_int_equal(sl_logdir_set_cleaner_offset(ld, "t", 0, 3), SL_OK);
  assert_int_equal(sl_logdir_checkpoint_write(cp, &d), SL_OK);
  sl_logdir_checkpoint_end(ld, cp);
  file_is(root, "cleaner-offset-checkpoint", "0\n1\nt 0 2\n");
  assert_int_equal(sl_logdir_checkpoint(ld, &d), SL_OK);
  file_is(root, "cleaner-offset-checkpoint", "0\n1\nt 0 3\n");
  sl_logdir_checkpoint_end(ld, NULL); /* NULL is a no-op */

  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);
  free(root);
  tu_rmtree_free(dir);
}

static void test_discovery_rules(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  sl_logdir_opts o;
  sl_logdir *ld;
  sl_diag d;
  sl_diag_clear(&d);
  sl_logdir_opts_init(&o);
  /* a partition made by a first open */
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  sl_log *a;
  assert_int_equal(sl_logdir_create_partition(ld, "t", 1, NULL, NULL, &a, &d), SL_OK);
  assert_int_equal(append(a, 3), 0);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);
  /* things LogManager does not load */
  mkdir_in(root, "__cluster_metadata-0");
  mkdir_in(root, "remote-log-index-cache");
  mkdir_in(root, "t-2.0123456789abcdef0123456789abcdef-future");
  mkdir_in(root, "t-3.0123456789abcdef0123456789abcdef-stray");
  mkdir_in(root, "t-4.0123456789abcdef0123456789abcdef-delete");
  mkdir_in(root, "not a partition");
  char *f = tu_path(root, "t-4.0123456789abcdef0123456789abcdef-delete/x.log");
  assert_int_equal(tu_write_file(f, "x", 1), 0);
  free(f);
  f = tu_path(root, "t-9");
  assert_int_equal(tu_write_file(f, "a file, not a dir", 17), 0);
  free(f);
  /* an unreadable root checkpoint is treated as empty */
  f = tu_path(root, "replication-offset-checkpoint");
  assert_int_equal(tu_write_file(f, "7\n0\n", 4), 0);
  free(f);
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  sl_logdir_report r;
  sl_logdir_report_get(ld, &r);
  assert_int_equal(r.partitions, 1);
  assert_int_equal(r.delete_dirs_removed, 1);
  assert_int_equal(r.dirs_ignored, 5);
  assert_int_equal(r.checkpoint_errors, 1);
  assert_non_null(strstr(r.first_checkpoint_error, "replication-offset-checkpoint"));
  assert_false(exists_in(root, "t-4.0123456789abcdef0123456789abcdef-delete"));
  assert_true(exists_in(root, "t-3.0123456789abcdef0123456789abcdef-stray"));
  assert_int_equal(sl_log_high_watermark(sl_logdir_get(ld, "t", 1)), 0);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);

  /* read-only: no lock, marker left alone, nothing written */
  assert_true(exists_in(root, ".kafka_cleanshutdown"));
  o.readonly = true;
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  assert_null(sl_logdir_lock(ld));
  assert_true(exists_in(root, ".kafka_cleanshutdown"));
  assert_int_equal(sl_log_end_offset(sl_logdir_get(ld, "t", 1)), 3);
  assert_int_equal(sl_logdir_checkpoint(ld, &d), SL_EREADONLY);
  assert_int_equal(sl_logdir_create_partition(ld, "u", 0, NULL, NULL, NULL, &d),
                   SL_EREADONLY);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);
  assert_true(exists_in(root, ".kafka_cleanshutdown"));

  /* KRaft rule: meta.properties required */
  o.readonly = false;
  o.require_meta_properties = true;
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_ENOT_FOUND);
  assert_true(exists_in(root, ".kafka_cleanshutdown")); /* nothing touched */
  tu_rmtree_free(root);
}

static void test_meta_and_delete(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  sl_logdir_opts o;
  sl_logdir *ld;
  sl_diag d;
  sl_diag_clear(&d);
  sl_logdir_opts_init(&o);
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  sl_meta_properties m;
  memset(&m, 0, sizeof(m));
  m.version = 1;
  m.has_node_id = true;
  m.node_id = 2;
  m.has_cluster_id = true;
  snprintf(m.cluster_id, sizeof(m.cluster_id), "MkU3OEVBNTcwNTJENDM2Qg");
  assert_int_equal(sl_logdir_set_meta(ld, &m, &d), SL_OK);
  assert_non_null(sl_logdir_meta(ld));
  sl_log *a, *b;
  assert_int_equal(sl_logdir_create_partition(ld, "x", 0, NULL, NULL, &a, &d), SL_OK);
  assert_int_equal(sl_logdir_create_partition(ld, "y", 0, NULL, NULL, &b, &d), SL_OK);
  assert_int_equal(append(a, 2), 0);
  assert_int_equal(sl_logdir_set_cleaner_offset(ld, "x", 0, 1), SL_OK);
  assert_int_equal(sl_logdir_delete_partition(ld, "x", 0, &d), SL_OK);
  assert_int_equal(sl_logdir_delete_partition(ld, "x", 0, &d), SL_ENOT_FOUND);
  assert_false(exists_in(root, "x-0"));
  assert_int_equal(sl_logdir_count(ld), 1);
  assert_null(sl_logdir_get(ld, "x", 0));
  /* the checkpoints no longer mention it */
  file_is(root, "recovery-point-offset-checkpoint", "0\n1\ny 0 0\n");
  file_is(root, "cleaner-offset-checkpoint", "0\n0\n");
  /* and it can be created again, empty */
  assert_int_equal(sl_logdir_create_partition(ld, "x", 0, NULL, NULL, &a, &d), SL_OK);
  assert_int_equal(sl_log_end_offset(a), 0);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);
  o.require_meta_properties = true;
  assert_int_equal(sl_logdir_open(root, &o, &ld, &d), SL_OK);
  assert_int_equal(sl_logdir_meta(ld)->node_id, 2);
  /* KRaft: the missing directory.id was generated and written */
  assert_true(sl_logdir_meta(ld)->has_directory_id);
  sl_meta_properties back;
  assert_int_equal(sl_meta_properties_read(root, &back, &d), SL_OK);
  assert_true(back.has_directory_id);
  assert_true(sl_uuid_equal(&back.directory_id, &sl_logdir_meta(ld)->directory_id));
  assert_int_equal(sl_logdir_count(ld), 2);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);
  sl_logdir_close(NULL, NULL);
  sl_logdir_abandon(NULL);
  tu_rmtree_free(root);
}

static int only_compact(void *ctx, const char *topic, sl_log_config *cfg) {
  int *calls = ctx;
  (*calls)++;
  if (strcmp(topic, "refused") == 0)
    return SL_EINVAL;
  cfg->segment_bytes = 4096;
  return SL_OK;
}

static void test_topic_config_hook(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  sl_logdir_opts o;
  sl_logdir *ld;
  int calls = 0;
  sl_logdir_opts_init(&o);
  o.topic_config = only_compact;
  o.topic_config_ctx = &calls;
  assert_int_equal(sl_logdir_open(root, &o, &ld, NULL), SL_OK);
  sl_log *a;
  assert_int_equal(sl_logdir_create_partition(ld, "small", 0, NULL, NULL, &a, NULL),
                   SL_OK);
  assert_int_equal(calls, 1);
  /* 4 KiB segments: 200 batches of ~70 bytes roll several times */
  for (int i = 0; i < 4; i++)
    append(a, 50);
  sl_log_segment_info info[16];
  assert_true(sl_log_segments(a, info, 16) > 1);
  assert_int_equal(sl_logdir_create_partition(ld, "refused", 0, NULL, NULL, NULL, NULL),
                   SL_EINVAL);
  assert_false(exists_in(root, "refused-0"));
  assert_int_equal(sl_logdir_close(ld, NULL), SL_OK);
  tu_rmtree_free(root);
}

static void test_failed_close_writes_no_marker(void **state) {
  (void)state;
  char *root = tu_mkdtemp();
  sl_logdir *ld;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_logdir_open(root, NULL, &ld, &d), SL_OK);
  sl_log *a;
  assert_int_equal(sl_logdir_create_partition(ld, "t", 0, NULL, NULL, &a, &d), SL_OK);
  assert_int_equal(append(a, 3), 0);
  /* every fsync fails from now on: the close cannot be clean */
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 0;
  f.crash = true;
  f.writes_until_fail = 1000000;
  sl__fio_set_faults(&f);
  assert_true(sl_logdir_close(ld, &d) < 0);
  sl__fio_set_faults(NULL);
  assert_false(exists_in(root, ".kafka_cleanshutdown"));
  /* the next open recovers (no marker) and the data is there */
  assert_int_equal(sl_logdir_open(root, NULL, &ld, &d), SL_OK);
  sl_logdir_report r;
  sl_logdir_report_get(ld, &r);
  assert_false(r.clean_shutdown);
  assert_int_equal(sl_log_end_offset(sl_logdir_get(ld, "t", 0)), 3);
  assert_int_equal(sl_logdir_close(ld, &d), SL_OK);
  assert_true(exists_in(root, ".kafka_cleanshutdown"));
  tu_rmtree_free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_close_reopen),
      cmocka_unit_test(test_checkpoint_in_steps),
      cmocka_unit_test(test_discovery_rules),
      cmocka_unit_test(test_meta_and_delete),
      cmocka_unit_test(test_topic_config_hook),
      cmocka_unit_test(test_failed_close_writes_no_marker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
