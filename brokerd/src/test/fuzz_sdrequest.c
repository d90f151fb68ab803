/*
 * fuzz_sdrequest.c - libFuzzer target for seglogd's whole request path: the
 * input goes over a real loopback TCP connection into an in-process broker
 * (sdt_inproc.h), so it meets the connection state machine, the header and
 * body decoders, the dispatch table, every handler and the response
 * encoders exactly as a client's request does.  Invariant: no crash, leak or
 * UB (ASan/UBSan), and the broker keeps answering new connections.
 * docs/BROKER.md, "Robustness".
 *
 * Input: a first byte 0xff sends the rest to the socket unchanged (size
 * prefixes included: bad sizes, split frames).  Otherwise the input is a
 * sequence of chunks [u16 big-endian length][bytes]; each chunk becomes one
 * request frame (ApiKey, ApiVersion, correlation id, client id, ..., body)
 * with a correct size prefix, so mutations reach the handlers.  A sentinel
 * ApiVersions v0 request follows; the input is done when its answer arrives,
 * the broker closes the connection, or nothing moves (parked fetches are then
 * told to answer).  Each input gets a new connection.
 *
 * State: one broker per process on a temporary log directory (removed at
 * exit) with topic "t" (3 partitions) holding a few records.  After each
 * input, topics beyond a handful are deleted and "t" is recreated if it was
 * deleted, so memory and files stay bounded over a long run.
 *
 * Seeds: `SD_FUZZ_WRITE_SEEDS=DIR fuzz_sdrequest` writes one chunked seed
 * per API and version the broker advertises (bodies from kp_testfill, with
 * the topic "t" and a valid record batch where the API takes them) plus a few
 * APIs and versions it does not advertise, and a few raw streams with bad
 * sizes, then exits.  The committed corpus
 * brokerd/src/test/corpus/fuzz_sdrequest/ was made that way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kp_api_versions.h"
#include "kp_create_partitions.h"
#include "kp_create_topics.h"
#include "kp_delete_records.h"
#include "kp_describe_configs.h"
#include "kp_fetch.h"
#include "kp_init_producer_id.h"
#include "kp_list_offsets.h"
#include "kp_metadata.h"
#include "kp_offset_for_leader_epoch.h"
#include "kp_produce.h"
#include "kp_testfill.h"
#include "sdt_inproc.h"
#include "seglog/batch.h"

#define SENTINEL_CORR 0x5e9105e9
#define IDLE_SPINS 400
#define MAX_TOPICS 12
#define SEED_TOPIC "t"

static sdt_broker *g_broker;
static unsigned long g_inputs;

static void fuzz_exit(void) {
  if (g_broker != NULL) {
    sdt_stop(g_broker);
    free(g_broker);
    g_broker = NULL;
  }
}

/* A valid v2 batch of two records (no producer id). */
static int make_batch(sl_buf *out) {
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  sl_batch_builder *bb = NULL;
  int rc = sl_batch_builder_new(&o, &bb);
  if (rc == 0)
    rc = sl_batch_builder_add(bb, 1700000000000, "k", 1, "value-1", 7, NULL, 0);
  if (rc == 0)
    rc = sl_batch_builder_add(bb, 1700000000001, NULL, -1, "value-2", 7, NULL, 0);
  if (rc == 0)
    rc = sl_batch_builder_finish(bb, out);
  sl_batch_builder_free(bb);
  return rc;
}

/* Topic "t" exists, and other topics are few. */
static void housekeeping(sdt_broker *t) {
  char err[512];
  sd_topics *tp = &t->b.topics;
  while (tp->n > MAX_TOPICS) {
    /* The oldest-sorting topic a client made: not t, not an internal one. */
    int victim = 0;
    while (victim < tp->n - 1 && (strcmp(tp->topics[victim].name, SEED_TOPIC) == 0 ||
                                  tp->topics[victim].internal))
      victim++;
    char name[300];
    snprintf(name, sizeof(name), "%s", tp->topics[victim].name);
    if (sd_topics_delete(tp, &t->b.dirs, name, strlen(name), err, sizeof(err)) != 0) {
      fprintf(stderr, "fuzz_sdrequest: cannot delete topic %s: %s\n", name, err);
      abort();
    }
  }
  if (sd_topics_find(tp, SEED_TOPIC, 1) == NULL &&
      sd_topics_create(tp, &t->b.dirs, SEED_TOPIC, 1, 3, NULL, err, sizeof(err)) != 0) {
    fprintf(stderr, "fuzz_sdrequest: cannot create topic t: %s\n", err);
    abort();
  }
}

/* A new connection gets its ApiVersions answered: the broker is not wedged. */
static void check_alive(sdt_broker *t) {
  int fd = sdt_connect(t);
  if (fd < 0)
    abort();
  kp_api_versions_request rq;
  kp_api_versions_request_init_defaults(&rq);
  kp_arena a;
  kp_arena_init(&a, 1 << 20);
  kp_api_versions_response resp;
  int rc = sdt_call(t, fd, SD_API_VERSIONS_KEY, 0, &rq, &a, &resp);
  if (rc != 0 || resp.error_code != 0) {
    fprintf(stderr, "fuzz_sdrequest: the broker stopped answering (%d)\n", rc);
    abort();
  }
  kp_arena_release(&a);
  sdt_disconnect(t, fd);
}

static sdt_broker *broker(void) {
  if (g_broker != NULL)
    return g_broker;
  /* Each partition holds files open: a runaway CreateTopics meets EMFILE
   * (an error answer) long before it can exhaust the machine. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > 2048) {
    rl.rlim_cur = rl.rlim_max =
        2048; /* the hard limit too: the server raises the soft one */
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  sd_log_set_level(SD_LOG_ERROR);
  static const char *const overrides[] = {
      "log.segment.bytes=65536", "log.index.size.max.bytes=4096", "num.partitions=2",
      "connections.max.idle.ms=-1", NULL};
  g_broker = calloc(1, sizeof(*g_broker));
  if (g_broker == NULL || sdt_start(g_broker, overrides, NULL) != 0)
    abort();
  atexit(fuzz_exit);
  housekeeping(g_broker);
  /* A few records in every partition of t. */
  sl_buf batch = SL_BUF_INIT;
  if (make_batch(&batch) != 0)
    abort();
  const sd_topic *tp = sd_topics_find(&g_broker->b.topics, SEED_TOPIC, 1);
  for (int i = 0; i < tp->n_parts; i++) {
    for (int j = 0; j < 3; j++) {
      uint8_t *copy = malloc(batch.len);
      if (copy == NULL)
        abort();
      memcpy(copy, batch.data, batch.len);
      sl_append_info info;
      if (sl_log_append(tp->parts[i].log, copy, batch.len, SL_APPEND_LEADER, 0, 0, &info,
                        NULL) != 0)
        abort();
      free(copy);
    }
    sl_log_set_high_watermark(tp->parts[i].log, sl_log_end_offset(tp->parts[i].log));
  }
  sl_buf_release(&batch);
  return g_broker;
}

/* ---- seeds ---- */

static kp_str seed_str(const char *s) {
  return (kp_str){s, (int32_t)strlen(s)};
}

/* Points the testfilled request at topic "t", partition 0, and gives Produce
 * a real batch: seeds that reach past the "unknown topic" answers. */
static void seed_fixup(int16_t key, int16_t v, void *body, const sl_buf *batch) {
  switch (key) {
  case 0: {
    kp_produce_request *r = body;
    r->transactional_id = KP_STR_NULL;
    r->acks = (int16_t)(v % 2 ? -1 : 1);
    for (int32_t i = 0; i < r->topic_data_count; i++) {
      r->topic_data[i].name = seed_str(SEED_TOPIC);
      for (int32_t j = 0; j < r->topic_data[i].partition_data_count; j++) {
        r->topic_data[i].partition_data[j].index = j;
        r->topic_data[i].partition_data[j].records =
            (kp_bytes){batch->data, (int32_t)batch->len};
      }
    }
    break;
  }
  case 1: {
    kp_fetch_request *r = body;
    r->max_wait_ms = 0;
    r->session_id = 0;
    r->session_epoch = -1;
    r->max_bytes = 1 << 20;
    for (int32_t i = 0; i < r->topics_count; i++) {
      r->topics[i].topic = seed_str(SEED_TOPIC);
      for (int32_t j = 0; j < r->topics[i].partitions_count; j++) {
        r->topics[i].partitions[j].partition = j;
        r->topics[i].partitions[j].fetch_offset = j;
        r->topics[i].partitions[j].current_leader_epoch = -1;
        r->topics[i].partitions[j].partition_max_bytes = 65536;
      }
    }
    break;
  }
  case 2: {
    kp_list_offsets_request *r = body;
    for (int32_t i = 0; i < r->topics_count; i++) {
      r->topics[i].name = seed_str(SEED_TOPIC);
      for (int32_t j = 0; j < r->topics[i].partitions_count; j++) {
        r->topics[i].partitions[j].partition_index = j;
        r->topics[i].partitions[j].current_leader_epoch = -1;
        r->topics[i].partitions[j].timestamp = j == 0 ? -1 : -2;
      }
    }
    break;
  }
  case 3: {
    kp_metadata_request *r = body;
    for (int32_t i = 0; i < r->topics_count; i++)
      r->topics[i].name = seed_str(i == 0 ? SEED_TOPIC : "auto");
    break;
  }
  case 19: {
    kp_create_topics_request *r = body;
    for (int32_t i = 0; i < r->topics_count; i++) {
      r->topics[i].name = seed_str(i == 0 ? "new" : "new2");
      r->topics[i].num_partitions = 2;
      r->topics[i].replication_factor = -1;
      r->topics[i].assignments_count = 0;
      r->topics[i].configs_count = 0;
    }
    break;
  }
  case 21: {
    kp_delete_records_request *r = body;
    for (int32_t i = 0; i < r->topics_count; i++) {
      r->topics[i].name = seed_str(SEED_TOPIC);
      for (int32_t j = 0; j < r->topics[i].partitions_count; j++) {
        r->topics[i].partitions[j].partition_index = j;
        r->topics[i].partitions[j].offset = 1;
      }
    }
    break;
  }
  case 22: {
    kp_init_producer_id_request *r = body;
    r->transactional_id = KP_STR_NULL;
    r->producer_id = -1;
    r->producer_epoch = -1;
    break;
  }
  case 23: {
    kp_offset_for_leader_epoch_request *r = body;
    for (int32_t i = 0; i < r->topics_count; i++) {
      r->topics[i].topic = seed_str(SEED_TOPIC);
      for (int32_t j = 0; j < r->topics[i].partitions_count; j++) {
        r->topics[i].partitions[j].partition = j;
        r->topics[i].partitions[j].current_leader_epoch = -1;
        r->topics[i].partitions[j].leader_epoch = 0;
      }
    }
    break;
  }
  case 32: {
    kp_describe_configs_request *r = body;
    for (int32_t i = 0; i < r->resources_count; i++) {
      r->resources[i].resource_type = 2; /* TOPIC */
      r->resources[i].resource_name = seed_str(SEED_TOPIC);
    }
    break;
  }
  case 37: {
    kp_create_partitions_request *r = body;
    for (int32_t i = 0; i < r->topics_count; i++) {
      r->topics[i].name = seed_str(SEED_TOPIC);
      r->topics[i].count = 4;
      r->topics[i].assignments_count = -1;
    }
    break;
  }
  default:
    break;
  }
}

/* Writes DIR/<api>-v<version>[-<n>]: one chunk [u16 length][frame]. */
static void write_seed(const char *dir, const char *name, int16_t key, int16_t v,
                       const void *body) {
  sl_buf f = SL_BUF_INIT;
  if (sdt_frame(&f, key, v, 7, body) != 0 || f.len - 4 > 0xffff) {
    fprintf(stderr, "seed %s: cannot encode\n", name);
    sl_buf_release(&f);
    return;
  }
  size_t n = f.len - 4;
  uint8_t len2[2] = {(uint8_t)(n >> 8), (uint8_t)n};
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  if (fp == NULL || fwrite(len2, 1, 2, fp) != 2 || fwrite(f.data + 4, 1, n, fp) != n) {
    fprintf(stderr, "seed %s: cannot write\n", path);
    abort();
  }
  fclose(fp);
  sl_buf_release(&f);
}

static void write_seeds(const char *dir) {
  sl_buf batch = SL_BUF_INIT;
  if (make_batch(&batch) != 0)
    abort();
  for (int16_t key = 0; key < SD_API_KEYS; key++) {
    const kp_api *api = kp_api_find(key);
    const sd_api_entry *ent = sd_dispatch_find(key);
    if (api == NULL)
      continue;
    /* Advertised versions; for APIs we do not serve, their newest version. */
    int16_t lo = ent ? ent->min_version : api->max_version;
    int16_t hi = ent ? ent->max_version : api->max_version;
    if (ent == NULL && key % 7 != 0 && key != 9 && key != 10)
      continue; /* a sample of unserved APIs is enough */
    for (int16_t v = lo; v <= hi; v++) {
      kp_arena a;
      kp_arena_init(&a, 1 << 20);
      void *body = NULL;
      uint32_t seed = 0x5e91u + (uint32_t)key * 131u + (uint32_t)v;
      if (kp_arena_alloc(&a, 1, api->request.size, &body) != 0 ||
          kp_testfill(key, false, v, &a, &seed, body) != 0)
        abort();
      seed_fixup(key, v, body, &batch);
      char name[128];
      snprintf(name, sizeof(name), "%s-v%d%s", api->name, v, ent ? "" : "-unserved");
      write_seed(dir, name, key, v, body);
      kp_arena_release(&a);
    }
    if (ent != NULL && ent->min_version > api->min_version) {
      /* A version below the advertised range: the connection is closed. */
      kp_arena a;
      kp_arena_init(&a, 1 << 20);
      void *body = NULL;
      uint32_t seed = 99;
      int16_t v = (int16_t)(ent->min_version - 1);
      if (kp_arena_alloc(&a, 1, api->request.size, &body) != 0 ||
          kp_testfill(key, false, v, &a, &seed, body) != 0)
        abort();
      char name[128];
      snprintf(name, sizeof(name), "%s-v%d-unadvertised", api->name, v);
      write_seed(dir, name, key, v, body);
      kp_arena_release(&a);
    }
  }
  /* ApiVersions at a version nobody knows (KIP-511 v0 answer). */
  kp_api_versions_request av;
  kp_api_versions_request_init_defaults(&av);
  sl_buf f = SL_BUF_INIT;
  if (sdt_frame(&f, SD_API_VERSIONS_KEY, 0, 7, &av) == 0) {
    f.data[4 + 3] = 99; /* ApiVersion 99 */
    char path[1024];
    snprintf(path, sizeof(path), "%s/ApiVersions-v99", dir);
    FILE *fp = fopen(path, "wb");
    uint8_t len2[2] = {0, (uint8_t)(f.len - 4)};
    if (fp == NULL || fwrite(len2, 1, 2, fp) != 2 ||
        fwrite(f.data + 4, 1, f.len - 4, fp) != f.len - 4)
      abort();
    fclose(fp);
  }
  sl_buf_release(&f);
  /* Raw mode (0xff first): sizes the server must refuse or wait for. */
  static const struct {
    const char *name;
    uint8_t bytes[16];
    size_t len;
  } raw[] = {
      {"raw-negative-size", {0xff, 0xff, 0xff, 0xff, 0xff}, 5},
      {"raw-huge-size", {0xff, 0x7f, 0xff, 0xff, 0xff, 0, 18, 0, 0}, 9},
      {"raw-short-frame", {0xff, 0, 0, 0, 4, 0, 18, 0, 0}, 9},
      {"raw-split-frame", {0xff, 0, 0, 0, 10, 0, 18, 0, 0, 0, 0}, 11},
  };
  for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, raw[i].name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(raw[i].bytes, 1, raw[i].len, fp) != raw[i].len)
      abort();
    fclose(fp);
  }
  sl_buf_release(&batch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *dir = getenv("SD_FUZZ_WRITE_SEEDS");
  if (dir != NULL) {
    write_seeds(dir);
    exit(0);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sdt_broker *t = broker();
  sl_buf out = SL_BUF_INIT;
  if (size > 0 && data[0] == 0xff) {
    sl_buf_append(&out, data + 1, size - 1);
  } else {
    size_t pos = 0;
    while (pos < size) {
      size_t n = size - pos >= 2 ? (size_t)(data[pos] << 8 | data[pos + 1]) : 0;
      pos += size - pos >= 2 ? 2 : size - pos;
      if (n > size - pos)
        n = size - pos;
      sl_buf_i32(&out, (int32_t)n);
      sl_buf_append(&out, data + pos, n);
      pos += n;
    }
  }
  kp_api_versions_request av;
  kp_api_versions_request_init_defaults(&av);
  if (out.err != 0 || sdt_frame(&out, SD_API_VERSIONS_KEY, 0, SENTINEL_CORR, &av) != 0)
    abort();
  int fd = sdt_connect(t);
  if (fd < 0)
    abort();
  sdt_exchange(t, fd, out.data, out.len, SENTINEL_CORR, NULL, IDLE_SPINS);
  sdt_disconnect(t, fd);
  sl_buf_release(&out);
  housekeeping(t);
  if (++g_inputs % 32 == 0)
    check_alive(t);
  return 0;
}
