/*
 * test_sdoffline.c - storage failures at the broker level: an in-process
 * seglogd (sdt_inproc.h) whose log sees an fsync fail (libseglog's fault
 * injection, fileio_int.h) takes that partition offline - Produce, Fetch and
 * ListOffsets answer KAFKA_STORAGE_ERROR, Metadata shows no leader and the
 * node as an offline replica, one ERROR line names it - while the other
 * partitions keep working, and a restart on the same directory brings it back
 * with every acknowledged record; the same when the failed fsync is the
 * upkeep's background flush of a rolled segment.  docs/BROKER.md, "Storage
 * failures".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fileio_int.h"
#include "kerrors.h"
#include "kp_fetch.h"
#include "kp_list_offsets.h"
#include "kp_metadata.h"
#include "kp_produce.h"
#include "faults.h"
#include "sdt_inproc.h"
#include "upkeep.h"
#include "seglog/batch.h"

static const char *const overrides[] = {"log.flush.interval.messages=1",
                                        "num.partitions=2", NULL};

/* Produce v8 of one batch (one record `value`) to t-<part>; the error code. */
static int16_t produce(sdt_broker *t, int fd, int32_t part, const char *value) {
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  sl_batch_builder *bb = NULL;
  sl_buf batch = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_new(&o, &bb), 0);
  assert_int_equal(sl_batch_builder_add(bb, 1700000000000, NULL, -1, value,
                                        (int32_t)strlen(value), NULL, 0),
                   0);
  assert_int_equal(sl_batch_builder_finish(bb, &batch), 0);
  sl_batch_builder_free(bb);
  kp_produce_request_partition_produce_data pd = {part, {batch.data, (int32_t)batch.len}};
  kp_produce_request_topic_produce_data td;
  kp_produce_request_topic_produce_data_init_defaults(&td);
  td.name = kp_str_from("t");
  td.partition_data = &pd;
  td.partition_data_count = 1;
  kp_produce_request rq;
  kp_produce_request_init_defaults(&rq);
  rq.acks = -1;
  rq.timeout_ms = 5000;
  rq.topic_data = &td;
  rq.topic_data_count = 1;
  kp_arena a;
  kp_arena_init(&a, 1 << 20);
  kp_produce_response resp;
  assert_int_equal(sdt_call(t, fd, 0, 8, &rq, &a, &resp), 0);
  assert_int_equal(resp.responses_count, 1);
  assert_int_equal(resp.responses[0].partition_responses_count, 1);
  int16_t code = resp.responses[0].partition_responses[0].error_code;
  kp_arena_release(&a);
  sl_buf_release(&batch);
  return code;
}

/* Fetch v11 of t-<part> from offset 0: the error code; *bytes = record bytes. */
static int16_t fetch(sdt_broker *t, int fd, int32_t part, int32_t *bytes) {
  kp_fetch_request_fetch_partition fp;
  kp_fetch_request_fetch_partition_init_defaults(&fp);
  fp.partition = part;
  fp.fetch_offset = 0;
  fp.partition_max_bytes = 1 << 20;
  kp_fetch_request_fetch_topic ft;
  kp_fetch_request_fetch_topic_init_defaults(&ft);
  ft.topic = kp_str_from("t");
  ft.partitions = &fp;
  ft.partitions_count = 1;
  kp_fetch_request rq;
  kp_fetch_request_init_defaults(&rq);
  rq.max_wait_ms = 0;
  rq.min_bytes = 0;
  rq.topics = &ft;
  rq.topics_count = 1;
  rq.forgotten_topics_data_count = 0;
  rq.rack_id = kp_str_from("");
  kp_arena a;
  kp_arena_init(&a, 1 << 20);
  kp_fetch_response resp;
  assert_int_equal(sdt_call(t, fd, 1, 11, &rq, &a, &resp), 0);
  assert_int_equal(resp.responses_count, 1);
  assert_int_equal(resp.responses[0].partitions_count, 1);
  int16_t code = resp.responses[0].partitions[0].error_code;
  *bytes = resp.responses[0].partitions[0].records.len;
  kp_arena_release(&a);
  return code;
}

/* ListOffsets v5 (latest) of t-<part>: the error code; *offset the answer. */
static int16_t list_latest(sdt_broker *t, int fd, int32_t part, int64_t *offset) {
  kp_list_offsets_request_list_offsets_partition lp;
  kp_list_offsets_request_list_offsets_partition_init_defaults(&lp);
  lp.partition_index = part;
  lp.timestamp = -1;
  kp_list_offsets_request_list_offsets_topic lt;
  kp_list_offsets_request_list_offsets_topic_init_defaults(&lt);
  lt.name = kp_str_from("t");
  lt.partitions = &lp;
  lt.partitions_count = 1;
  kp_list_offsets_request rq;
  kp_list_offsets_request_init_defaults(&rq);
  rq.replica_id = -1;
  rq.topics = &lt;
  rq.topics_count = 1;
  kp_arena a;
  kp_arena_init(&a, 1 << 20);
  kp_list_offsets_response resp;
  assert_int_equal(sdt_call(t, fd, 2, 5, &rq, &a, &resp), 0);
  int16_t code = resp.topics[0].partitions[0].error_code;
  *offset = resp.topics[0].partitions[0].offset;
  kp_arena_release(&a);
  return code;
}

/* Metadata v9 of t: leader and offline replica count of partition part. */
static void metadata(sdt_broker *t, int fd, int32_t part, int16_t *code, int32_t *leader,
                     int32_t *offline) {
  kp_metadata_request_topic mt;
  kp_metadata_request_topic_init_defaults(&mt);
  mt.name = kp_str_from("t");
  kp_metadata_request rq;
  kp_metadata_request_init_defaults(&rq);
  rq.topics = &mt;
  rq.topics_count = 1;
  kp_arena a;
  kp_arena_init(&a, 1 << 20);
  kp_metadata_response resp;
  assert_int_equal(sdt_call(t, fd, 3, 9, &rq, &a, &resp), 0);
  assert_int_equal(resp.topics_count, 1);
  assert_int_equal(resp.topics[0].error_code, 0);
  bool found = false;
  for (int32_t i = 0; i < resp.topics[0].partitions_count; i++) {
    const kp_metadata_response_partition *p = &resp.topics[0].partitions[i];
    if (p->partition_index != part)
      continue;
    found = true;
    *code = p->error_code;
    *leader = p->leader_id;
    *offline = p->offline_replicas_count;
    if (p->offline_replicas_count == 1)
      assert_int_equal(p->offline_replicas[0], 1);
  }
  assert_true(found);
  kp_arena_release(&a);
}

/* stderr into a temporary file (the log lines); *saved keeps the old one. */
static FILE *capture_stderr(int *saved) {
  FILE *log = tmpfile();
  assert_non_null(log);
  *saved = dup(2);
  assert_true(*saved >= 0);
  fflush(stderr);
  dup2(fileno(log), 2);
  return log;
}

static void restore_stderr(FILE *log, int saved) {
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  fclose(log);
}

/* How many lines of the captured stderr contain needle. */
static int count_log_lines(FILE *log, const char *needle) {
  fflush(stderr);
  rewind(log);
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof(line), log) != NULL)
    if (strstr(line, needle) != NULL)
      n++;
  return n;
}

static void test_fsync_failure_takes_one_partition_offline(void **state) {
  (void)state;
  sdt_broker *t = calloc(1, sizeof(*t));
  assert_non_null(t);
  assert_int_equal(sdt_start(t, overrides, NULL), 0);
  char err[256];
  assert_int_equal(
      sd_topics_create(&t->b.topics, &t->b.dirs, "t", 1, 2, NULL, err, sizeof(err)), 0);
  int fd = sdt_connect(t);
  assert_true(fd >= 0);
  assert_int_equal(produce(t, fd, 0, "before-0"), SD_KERR_NONE);
  assert_int_equal(produce(t, fd, 1, "before-1"), SD_KERR_NONE);

  /* stderr to a file, to count the log lines. */
  int saved = -1;
  FILE *log = capture_stderr(&saved);

  /* The next fsync fails: the append to t-0 (flush every message) latches it. */
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 0;
  f.fsync_errno = EIO;
  sl__fio_set_faults(&f);
  int16_t code = produce(t, fd, 0, "lost-0");
  sl__fio_set_faults(NULL);
  assert_int_equal(code, SD_KERR_KAFKA_STORAGE_ERROR);

  /* t-0 stays offline although fsync works again; t-1 is untouched. */
  assert_int_equal(produce(t, fd, 0, "after-0"), SD_KERR_KAFKA_STORAGE_ERROR);
  assert_int_equal(produce(t, fd, 1, "after-1"), SD_KERR_NONE);
  int32_t bytes = 0;
  assert_int_equal(fetch(t, fd, 0, &bytes), SD_KERR_KAFKA_STORAGE_ERROR);
  assert_int_equal(fetch(t, fd, 1, &bytes), SD_KERR_NONE);
  assert_true(bytes > 0);
  int64_t off = -1;
  assert_int_equal(list_latest(t, fd, 0, &off), SD_KERR_KAFKA_STORAGE_ERROR);
  assert_int_equal(list_latest(t, fd, 1, &off), SD_KERR_NONE);
  assert_int_equal(off, 2);
  int16_t mcode = -2;
  int32_t leader = -2, offline = -2;
  metadata(t, fd, 0, &mcode, &leader, &offline);
  assert_int_equal(mcode, SD_KERR_LEADER_NOT_AVAILABLE);
  assert_int_equal(leader, -1);
  assert_int_equal(offline, 1);
  metadata(t, fd, 1, &mcode, &leader, &offline);
  assert_int_equal(mcode, SD_KERR_NONE);
  assert_int_equal(leader, 1);
  assert_int_equal(offline, 0);
  assert_int_equal(sd_partitions_offline_count(&t->b), 1);
  size_t mlen = 0;
  char *text = sd_metrics_render(&t->b.metrics, &t->b, &mlen);
  assert_non_null(text);
  assert_non_null(strstr(text, "\nseglog_partitions_offline 1\n"));
  free(text);

  /* One ERROR line for the failure, however often the partition is touched. */
  assert_int_equal(count_log_lines(log, "partition t-0 is offline"), 1);
  assert_int_equal(count_log_lines(log, "ERROR"), 1);
  restore_stderr(log, saved);

  /* A restart recovers t-0: the acknowledged record is there, writes work. */
  sdt_disconnect(t, fd);
  char dir[512];
  snprintf(dir, sizeof(dir), "%s", t->dir);
  t->dir[0] = '\0'; /* keep the directory */
  sdt_stop(t);
  assert_int_equal(sdt_start(t, overrides, dir), 0);
  fd = sdt_connect(t);
  assert_true(fd >= 0);
  assert_int_equal(list_latest(t, fd, 0, &off), SD_KERR_NONE);
  /* "before-0" is kept; the unacknowledged "lost-0" reached the page cache
   * before its fsync failed, so recovery may keep it too (as Kafka's would). */
  assert_true(off == 1 || off == 2);
  int64_t before = off;
  assert_int_equal(produce(t, fd, 0, "again-0"), SD_KERR_NONE);
  assert_int_equal(list_latest(t, fd, 0, &off), SD_KERR_NONE);
  assert_int_equal(off, before + 1);
  assert_int_equal(fetch(t, fd, 0, &bytes), SD_KERR_NONE);
  assert_int_equal(sd_partitions_offline_count(&t->b), 0);
  sdt_disconnect(t, fd);
  snprintf(t->dir, sizeof(t->dir), "%s", dir);
  sdt_stop(t);
  free(t);
}

/* The background flush of a rolled segment (upkeep's tick on the thread
 * pool) fails: the partition goes offline as it would in a produce request,
 * with one ERROR line; the other partition keeps working. */
static void test_failed_roll_flush_takes_partition_offline(void **state) {
  (void)state;
  static const char *const small[] = {"log.segment.bytes=100", "num.partitions=2", NULL};
  sdt_broker *t = calloc(1, sizeof(*t));
  assert_non_null(t);
  assert_int_equal(sdt_start(t, small, NULL), 0);
  sd_upkeep_start(&t->b); /* the tick (the harness does not start it) */
  char err[256];
  assert_int_equal(
      sd_topics_create(&t->b.topics, &t->b.dirs, "t", 1, 2, NULL, err, sizeof(err)), 0);
  int fd = sdt_connect(t);
  assert_true(fd >= 0);
  int saved = -1;
  FILE *log = capture_stderr(&saved);

  /* Two batches of more than 100 bytes: the second append rolls t-0, and the
   * roll leaves the fsync of the first segment to the tick. */
  char big[160];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  int16_t a0 = produce(t, fd, 0, big);
  /* The append that rolls fsyncs once (the producer snapshot at the new
   * base, as before); the next fsync is the tick's flush of the rolled
   * segment, and that one fails. */
  sl__fio_faults f;
  sl__fio_faults_init(&f);
  f.fsyncs_until_fail = 1;
  f.fsync_errno = EIO;
  sl__fio_set_faults(&f);
  int16_t a1 = produce(t, fd, 0, big); /* rolls; acknowledged */
  int16_t mcode = -2;
  int32_t leader = -2, offline = -2;
  for (int i = 0; i < 200 && leader != -1; i++) { /* the tick runs every second */
    usleep(50 * 1000);                            /* (the loop runs inside each call) */
    metadata(t, fd, 0, &mcode, &leader, &offline);
  }
  sl__fio_set_faults(NULL);
  int16_t p0 = produce(t, fd, 0, "after-0"), p1 = produce(t, fd, 1, "after-1");
  int offline_lines = count_log_lines(log, "partition t-0 is offline");
  int fsync_lines = count_log_lines(log, "fsync");
  restore_stderr(log, saved); /* before asserting: cmocka reports on stderr */
  assert_int_equal(a0, SD_KERR_NONE);
  assert_int_equal(a1, SD_KERR_NONE);
  assert_int_equal(leader, -1);
  assert_int_equal(mcode, SD_KERR_LEADER_NOT_AVAILABLE);
  assert_int_equal(p0, SD_KERR_KAFKA_STORAGE_ERROR);
  assert_int_equal(p1, SD_KERR_NONE);
  /* One ERROR line (from whichever notices the latch first: the job's answer
   * or a request) and the job's WARN naming the failed fsync. */
  assert_int_equal(offline_lines, 1);
  assert_int_equal(fsync_lines, 1);
  sdt_disconnect(t, fd);
  sd_upkeep_stop(&t->b);
  sdt_stop(t);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fsync_failure_takes_one_partition_offline),
      cmocka_unit_test(test_failed_roll_flush_takes_partition_offline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
