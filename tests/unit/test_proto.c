/*
 * test_proto.c - the generated Kafka wire-protocol codecs (brokerd/proto):
 * exact bytes of real client requests (librdkafka 2.0.2 via kcat, and
 * kafka-python 2.0.2, captured on a loopback socket), hand-computed response encodings,
 * a round trip of every API and version, and hostile inputs.  The mapping is
 * documented in tools/protogen/README.md.
 */
#include "testutil.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_api.h"
#include "kp_apis.h"
#include "kp_testfill.h"

#define ARENA_LIMIT (1u << 20)

/* Request frames (after the int32 size) as the clients sent them. */
/* librdkafka 2.0.2 (kcat -L): ApiVersions v3, flexible header v2. */
static const char APIVERSIONS_V3_RDKAFKA[] = "0012 0003 00000001 0007 72646b61666b61 00"
                                             "0b 6c696272646b61666b61 06 322e302e32 00";
/* librdkafka 2.0.2 (kcat -L -t orders): Metadata v4. */
static const char METADATA_V4_RDKAFKA[] = "0003 0004 00000002 0007 72646b61666b61"
                                          "00000001 0006 6f7264657273 01";
/* librdkafka 2.0.2 (kcat -P): Produce v7, acks -1, one 73-byte batch "hello". */
static const char PRODUCE_V7_RDKAFKA[] =
    "0000 0007 00000003 0007 72646b61666b61 ffff ffff 00007530"
    "00000001 0006 6f7264657273 00000001 00000000 00000049"
    "0000000000000000 0000003d 00000000 02 d478ee39 0000 00000000"
    "000001a213aa3ea5 000001a213aa3ea5 ffffffffffffffff ffff ffffffff 00000001"
    "16 00 00 00 01 0a 68656c6c6f 00";
/* librdkafka 2.0.2 (kcat -C -o 42): Fetch v11, read_committed, no session. */
static const char FETCH_V11_RDKAFKA[] =
    "0001 000b 00000004 0007 72646b61666b61 ffffffff 000001f4 00000001 03200000"
    "01 00000000 ffffffff 00000001 0006 6f7264657273 00000001 00000000 ffffffff"
    "000000000000002a ffffffffffffffff 00100000 00000000 0000";
/* kafka-python 2.0.2: Metadata v1 for topics orders and payments. */
static const char METADATA_V1_PY[] = "0003 0001 00000007 000c 6b61666b612d707974686f6e"
                                     "00000002 0006 6f7264657273 0008 7061796d656e7473";
/* kafka-python 2.0.2: Produce v3, acks -1, one 74-byte batch to orders/0. */
static const char PRODUCE_V3_PY[] =
    "0000 0003 00000008 000c 6b61666b612d707974686f6e ffff ffff 00007530"
    "00000001 0006 6f7264657273 00000001 00000000 0000004a"
    "0000000000000000 0000003e 00000000 02 36ff4dc3 0000 00000000"
    "0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001"
    "18 00 00 00 02 6b 0a 68656c6c6f 00";
/* kafka-python 2.0.2: Fetch v4 of orders/0 from offset 42. */
static const char FETCH_V4_PY[] =
    "0001 0004 00000009 000c 6b61666b612d707974686f6e ffffffff 000001f4 00000001"
    "03200000 00 00000001 0006 6f7264657273 00000001 00000000 000000000000002a"
    "00100000";

typedef struct capture {
  uint8_t bytes[512];
  size_t len;
  kp_arena arena;
  kp_request_header hdr;
  const kp_api *api;
  void *body;
} capture;

static void req_free(capture *q) {
  free(q->body);
  kp_arena_release(&q->arena);
}

/* Decode header + body of a captured frame; returns the first error. */
static int req_decode(capture *q, const char *hex) {
  q->len = tu_unhex(hex, q->bytes, sizeof q->bytes);
  kp_arena_init(&q->arena, ARENA_LIMIT);
  q->body = NULL;
  sl_rbuf r;
  sl_rbuf_init(&r, q->bytes, q->len);
  int rc = kp_request_header_read(&r, &q->arena, &q->hdr, &q->api);
  if (rc != 0)
    return rc;
  q->body = malloc(q->api->request.size);
  assert_non_null(q->body);
  rc = q->api->request.decode(&r, q->hdr.request_api_version, &q->arena, q->body);
  if (rc == 0 && sl_rbuf_left(&r) != 0)
    rc = SL_ECORRUPT;
  return rc;
}

/* Encoding the decoded header and body again gives the captured bytes. */
static void assert_reencodes(const capture *q) {
  sl_buf w = SL_BUF_INIT;
  int16_t v = q->hdr.request_api_version;
  int hv = kp_api_request_header_version(q->api, v);
  assert_int_equal(kp_request_header_encode(&w, (int16_t)hv, &q->hdr), 0);
  assert_int_equal(q->api->request.encode(&w, v, q->body), 0);
  assert_int_equal(w.len, q->len);
  assert_memory_equal(w.data, q->bytes, q->len);
  sl_buf_release(&w);
}

static void assert_str(kp_str s, const char *want) {
  assert_int_equal(s.len, (int32_t)strlen(want));
  assert_memory_equal(s.ptr, want, strlen(want));
}

static void test_apiversions_v3_librdkafka(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, APIVERSIONS_V3_RDKAFKA), 0);
  assert_int_equal(q.hdr.request_api_key, KP_API_API_VERSIONS);
  assert_int_equal(q.hdr.request_api_version, 3);
  assert_int_equal(q.hdr.correlation_id, 1);
  assert_str(q.hdr.client_id, "rdkafka");
  const kp_api_versions_request *b = q.body;
  assert_str(b->client_software_name, "librdkafka");
  assert_str(b->client_software_version, "2.0.2");
  /* Strings are borrowed from the request buffer. */
  assert_ptr_equal(b->client_software_name.ptr, (const char *)q.bytes + 19);
  assert_reencodes(&q);
  req_free(&q);
}

static void test_metadata_v4_librdkafka(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, METADATA_V4_RDKAFKA), 0);
  assert_int_equal(q.hdr.request_api_version, 4);
  assert_int_equal(q.hdr.correlation_id, 2);
  const kp_metadata_request *b = q.body;
  assert_int_equal(b->topics_count, 1);
  assert_str(b->topics[0].name, "orders");
  assert_true(b->allow_auto_topic_creation);
  assert_false(b->include_topic_authorized_operations);
  assert_reencodes(&q);
  req_free(&q);
}

static void test_metadata_v1_python(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, METADATA_V1_PY), 0);
  assert_int_equal(q.hdr.correlation_id, 7);
  assert_str(q.hdr.client_id, "kafka-python");
  const kp_metadata_request *b = q.body;
  assert_int_equal(b->topics_count, 2);
  assert_str(b->topics[0].name, "orders");
  assert_str(b->topics[1].name, "payments");
  /* Absent before v4: Kafka's default (true). */
  assert_true(b->allow_auto_topic_creation);
  assert_reencodes(&q);
  req_free(&q);
}

static void test_produce_v3_python(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, PRODUCE_V3_PY), 0);
  const kp_produce_request *b = q.body;
  assert_int_equal(b->transactional_id.len, -1);
  assert_int_equal(b->acks, -1);
  assert_int_equal(b->timeout_ms, 30000);
  assert_int_equal(b->topic_data_count, 1);
  assert_str(b->topic_data[0].name, "orders");
  assert_int_equal(b->topic_data[0].partition_data_count, 1);
  const kp_produce_request_partition_produce_data *p =
      &b->topic_data[0].partition_data[0];
  assert_int_equal(p->index, 0);
  /* The batch is not copied: it is the 74 bytes at the end of the request. */
  assert_int_equal(p->records.len, 74);
  assert_ptr_equal(p->records.ptr, q.bytes + q.len - 74);
  assert_int_equal(p->records.ptr[16], 2); /* magic */
  assert_reencodes(&q);
  req_free(&q);
}

static void test_produce_v7_librdkafka(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, PRODUCE_V7_RDKAFKA), 0);
  assert_int_equal(q.hdr.request_api_version, 7);
  const kp_produce_request *b = q.body;
  assert_int_equal(b->transactional_id.len, -1);
  assert_int_equal(b->acks, -1);
  assert_int_equal(b->timeout_ms, 30000);
  assert_int_equal(b->topic_data_count, 1);
  assert_str(b->topic_data[0].name, "orders");
  const kp_produce_request_partition_produce_data *p =
      &b->topic_data[0].partition_data[0];
  assert_int_equal(p->records.len, 73);
  assert_ptr_equal(p->records.ptr, q.bytes + q.len - 73);
  assert_reencodes(&q);
  req_free(&q);
}

static void test_fetch_v11_librdkafka(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, FETCH_V11_RDKAFKA), 0);
  const kp_fetch_request *b = q.body;
  assert_int_equal(b->max_wait_ms, 500);
  assert_int_equal(b->isolation_level, 1);
  assert_int_equal(b->session_id, 0);
  assert_int_equal(b->session_epoch, -1);
  assert_int_equal(b->topics_count, 1);
  const kp_fetch_request_fetch_partition *p = &b->topics[0].partitions[0];
  assert_int_equal(p->current_leader_epoch, -1);
  assert_int_equal(p->fetch_offset, 42);
  assert_int_equal(p->log_start_offset, -1);
  assert_int_equal(p->partition_max_bytes, 1048576);
  assert_int_equal(b->forgotten_topics_data_count, 0);
  assert_str(b->rack_id, "");
  assert_reencodes(&q);
  req_free(&q);
}

static void test_fetch_v4_python(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, FETCH_V4_PY), 0);
  const kp_fetch_request *b = q.body;
  assert_int_equal(b->replica_id, -1);
  assert_int_equal(b->max_wait_ms, 500);
  assert_int_equal(b->min_bytes, 1);
  assert_int_equal(b->max_bytes, 52428800);
  assert_int_equal(b->isolation_level, 0);
  assert_int_equal(b->topics_count, 1);
  assert_str(b->topics[0].topic, "orders");
  assert_int_equal(b->topics[0].partitions_count, 1);
  assert_int_equal(b->topics[0].partitions[0].partition, 0);
  assert_int_equal(b->topics[0].partitions[0].fetch_offset, 42);
  assert_int_equal(b->topics[0].partitions[0].partition_max_bytes, 1048576);
  /* Absent in v4: defaults. */
  assert_int_equal(b->topics[0].partitions[0].current_leader_epoch, -1);
  assert_int_equal(b->topics[0].partitions[0].log_start_offset, -1);
  assert_reencodes(&q);
  req_free(&q);
}

/* Every strict prefix of a real request fails to decode, without crashing. */
static void test_truncated_requests(void **state) {
  (void)state;
  const char *all[] = {
      APIVERSIONS_V3_RDKAFKA, METADATA_V4_RDKAFKA, PRODUCE_V7_RDKAFKA, FETCH_V11_RDKAFKA,
      METADATA_V1_PY,         PRODUCE_V3_PY,       FETCH_V4_PY};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    uint8_t full[512];
    size_t len = tu_unhex(all[i], full, sizeof full);
    for (size_t cut = 0; cut < len; cut++) {
      uint8_t *copy = malloc(cut + 1); /* exact size: ASan sees any overread */
      assert_non_null(copy);
      memcpy(copy, full, cut);
      kp_arena a;
      kp_arena_init(&a, ARENA_LIMIT);
      kp_request_header hdr;
      const kp_api *api;
      sl_rbuf r;
      sl_rbuf_init(&r, copy, cut);
      int rc = kp_request_header_read(&r, &a, &hdr, &api);
      if (rc == 0) {
        void *body = malloc(api->request.size);
        rc = api->request.decode(&r, hdr.request_api_version, &a, body);
        free(body);
      }
      assert_int_equal(rc, SL_ETRUNCATED);
      kp_arena_release(&a);
      free(copy);
    }
  }
}

/* Encode r into a fresh buffer and compare with hex. */
static void assert_encodes(int (*enc)(sl_buf *, int16_t, const void *), int16_t v,
                           const void *msg, const char *hex) {
  uint8_t want[512];
  size_t n = tu_unhex(hex, want, sizeof want);
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(enc(&w, v, msg), 0);
  assert_int_equal(w.len, n);
  assert_memory_equal(w.data, want, n);
  sl_buf_release(&w);
}

static void test_encode_apiversions_response(void **state) {
  (void)state;
  const kp_api *api = kp_api_find(KP_API_API_VERSIONS);
  kp_api_versions_response_api_version keys[2] = {{18, 0, 4}, {3, 0, 12}};
  kp_api_versions_response resp;
  kp_api_versions_response_init_defaults(&resp);
  assert_int_equal(resp.finalized_features_epoch, -1);
  resp.api_keys = keys;
  resp.api_keys_count = 2;
  /* v0: int32 count, no throttle time, no tagged fields. */
  assert_encodes(api->response.encode, 0, &resp,
                 "0000 00000002 0012 0000 0004 0003 0000 000c");
  /* v3: compact count (n+1), tagged sections; defaults are not written. */
  assert_encodes(api->response.encode, 3, &resp,
                 "0000 03 0012 0000 0004 00 0003 0000 000c 00 00000000 00");
  /* A non-default tagged field: tag 1 (FinalizedFeaturesEpoch), 8 bytes. */
  resp.finalized_features_epoch = 5;
  resp.throttle_time_ms = 100;
  assert_encodes(api->response.encode, 3, &resp,
                 "0000 03 0012 0000 0004 00 0003 0000 000c 00 00000064"
                 "01 01 08 0000000000000005");
  /* ... and it decodes back. */
  uint8_t bytes[64];
  size_t n = tu_unhex("0000 03 0012 0000 0004 00 0003 0000 000c 00 00000064"
                      "01 01 08 0000000000000005",
                      bytes, sizeof bytes);
  kp_arena a;
  kp_arena_init(&a, ARENA_LIMIT);
  kp_api_versions_response got;
  sl_rbuf r;
  sl_rbuf_init(&r, bytes, n);
  assert_int_equal(kp_api_versions_response_decode(&r, 3, &a, &got), 0);
  assert_int_equal(sl_rbuf_left(&r), 0);
  assert_int_equal(got.finalized_features_epoch, 5);
  assert_int_equal(got.api_keys_count, 2);
  assert_int_equal(got.api_keys[1].max_version, 12);
  kp_arena_release(&a);
}

static void test_encode_produce_response(void **state) {
  (void)state;
  kp_produce_response_partition_produce_response part;
  kp_produce_response_partition_produce_response_init_defaults(&part);
  assert_int_equal(part.log_append_time_ms, -1);
  assert_int_equal(part.log_start_offset, -1);
  part.index = 0;
  part.base_offset = 100;
  kp_produce_response_topic_produce_response topic;
  kp_produce_response_topic_produce_response_init_defaults(&topic);
  topic.name = KP_STR("orders");
  topic.partition_responses = &part;
  topic.partition_responses_count = 1;
  kp_produce_response resp;
  kp_produce_response_init_defaults(&resp);
  resp.responses = &topic;
  resp.responses_count = 1;
  const kp_api *api = kp_api_find(KP_API_PRODUCE);
  /* v3: topic, partition, error, base offset, log append time, throttle. */
  assert_encodes(api->response.encode, 3, &resp,
                 "00000001 0006 6f7264657273 00000001 00000000 0000"
                 "0000000000000064 ffffffffffffffff 00000000");
  /* v9 (flexible): compact strings and arrays, record errors, tagged sections. */
  assert_encodes(api->response.encode, 9, &resp,
                 "02 07 6f7264657273 02 00000000 0000 0000000000000064"
                 "ffffffffffffffff ffffffffffffffff 01 00 00 00 00000000 00");
  size_t size;
  assert_int_equal(kp_produce_response_size(9, &resp, &size), 0);
  assert_int_equal(size, 48);
}

static void test_encode_response_header(void **state) {
  (void)state;
  kp_response_header h = {.correlation_id = 0x01020304};
  assert_encodes((int (*)(sl_buf *, int16_t, const void *))kp_response_header_encode, 0,
                 &h, "01020304");
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(kp_response_header_encode(&w, 1, &h), 0);
  assert_int_equal(w.len, 5);
  assert_int_equal(w.data[4], 0); /* empty tagged section */
  sl_buf_release(&w);
}

/* The README's request/response flow: answer librdkafka's ApiVersions v3. */
static void test_response_frame(void **state) {
  (void)state;
  capture q;
  assert_int_equal(req_decode(&q, APIVERSIONS_V3_RDKAFKA), 0);
  int16_t v = q.hdr.request_api_version;
  kp_api_versions_response_api_version keys[2] = {{18, 0, 4}, {3, 0, 12}};
  kp_api_versions_response resp;
  kp_api_versions_response_init_defaults(&resp);
  resp.api_keys = keys;
  resp.api_keys_count = 2;
  kp_response_header rh = {.correlation_id = q.hdr.correlation_id};
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_buf_i32(&out, 0), 0);
  assert_int_equal(kp_response_header_encode(
                       &out, (int16_t)kp_api_response_header_version(q.api, v), &rh),
                   0);
  assert_int_equal(kp_api_versions_response_encode(&out, v, &resp), 0);
  sl_buf_patch_be32(&out, 0, (uint32_t)(out.len - 4));
  uint8_t want[64];
  /* Header v0 (no tagged section, KIP-511), then the flexible v3 body. */
  size_t n = tu_unhex("0000001a 00000001 0000 03 0012 0000 0004 00 0003 0000 000c 00"
                      "00000000 00",
                      want, sizeof want);
  assert_int_equal(out.len, n);
  assert_memory_equal(out.data, want, n);
  sl_buf_release(&out);
  req_free(&q);
}

/* Fill, encode, decode, encode again: same bytes, for every API and version. */
static void test_roundtrip_all(void **state) {
  (void)state;
  size_t apis = 0, cases = 0, bytes = 0;
  for (size_t i = 0; kp_api_at(i) != NULL; i++, apis++) {
    const kp_api *api = kp_api_at(i);
    for (int16_t v = api->min_version; v <= api->max_version; v++) {
      for (int dir = 0; dir < 2; dir++) {
        const kp_api_msg *m = dir ? &api->response : &api->request;
        for (uint32_t s = 1; s <= 6; s++) {
          uint32_t seed = s * 2654435761u + (uint32_t)(api->key * 131 + v);
          kp_arena a;
          kp_arena_init(&a, ARENA_LIMIT);
          void *msg = calloc(1, m->size), *back = calloc(1, m->size);
          assert_non_null(msg);
          assert_non_null(back);
          assert_int_equal(kp_testfill(api->key, dir, v, &a, &seed, msg), 0);
          sl_buf w1 = SL_BUF_INIT, w2 = SL_BUF_INIT;
          int rc = m->encode(&w1, v, msg);
          if (rc != 0)
            fail_msg("%s v%d seed %u: encode %s", m->name, v, s, sl_errname(rc));
          sl_rbuf r;
          sl_rbuf_init(&r, w1.data, w1.len);
          rc = m->decode(&r, v, &a, back);
          if (rc != 0 || sl_rbuf_left(&r) != 0)
            fail_msg("%s v%d seed %u: decode %s, %zu left", m->name, v, s, sl_errname(rc),
                     sl_rbuf_left(&r));
          assert_int_equal(m->encode(&w2, v, back), 0);
          assert_int_equal(w2.len, w1.len);
          assert_memory_equal(w2.data, w1.data, w1.len);
          bytes += w1.len;
          /* Every strict prefix is an incomplete message. */
          if (s == 1) {
            for (size_t cut = 0; cut < w1.len; cut++) {
              sl_rbuf_init(&r, w1.data, cut);
              kp_arena_reset(&a);
              assert_int_equal(m->decode(&r, v, &a, back), SL_ETRUNCATED);
            }
          }
          sl_buf_release(&w1);
          sl_buf_release(&w2);
          free(msg);
          free(back);
          kp_arena_release(&a);
          cases++;
        }
      }
    }
  }
  assert_true(apis >= 80);
  printf("round trip: %zu APIs, %zu cases, %zu bytes\n", apis, cases, bytes);
}

static void test_unsupported_versions(void **state) {
  (void)state;
  for (size_t i = 0; kp_api_at(i) != NULL; i++) {
    const kp_api *api = kp_api_at(i);
    for (int dir = 0; dir < 2; dir++) {
      const kp_api_msg *m = dir ? &api->response : &api->request;
      void *msg = calloc(1, m->size);
      assert_non_null(msg);
      m->init_defaults(msg);
      int16_t bad[] = {(int16_t)(api->min_version - 1), (int16_t)(api->max_version + 1)};
      for (size_t k = 0; k < 2; k++) {
        sl_buf w = SL_BUF_INIT;
        assert_int_equal(m->encode(&w, bad[k], msg), SL_EUNSUPPORTED);
        assert_int_equal(w.len, 0);
        uint8_t zeros[64] = {0};
        sl_rbuf r;
        sl_rbuf_init(&r, zeros, sizeof zeros);
        assert_int_equal(m->decode(&r, bad[k], NULL, msg), SL_EUNSUPPORTED);
        sl_buf_release(&w);
      }
      free(msg);
    }
  }
}

static void test_api_table(void **state) {
  (void)state;
  const kp_api *p = kp_api_find(0);
  assert_non_null(p);
  assert_string_equal(p->name, "Produce");
  assert_int_equal(p->min_version, 0);
  assert_int_equal(p->first_flexible, 9);
  assert_int_equal(kp_api_request_header_version(p, 8), 1);
  assert_int_equal(kp_api_request_header_version(p, 9), 2);
  assert_int_equal(kp_api_response_header_version(p, 8), 0);
  assert_int_equal(kp_api_response_header_version(p, 9), 1);
  assert_int_equal(kp_api_request_header_version(p, (int16_t)(p->max_version + 1)), -1);
  /* ApiVersions responses always use header v0 (KIP-511). */
  const kp_api *av = kp_api_find(KP_API_API_VERSIONS);
  assert_int_equal(kp_api_request_header_version(av, 3), 2);
  assert_int_equal(kp_api_response_header_version(av, 3), 0);
  /* ControlledShutdown v0 used request header v0. */
  assert_int_equal(kp_api_request_header_version(kp_api_find(7), 0), 0);
  assert_null(kp_api_find(-1));
  assert_null(kp_api_find(KP_API_KEY_MAX + 1));
  int16_t last = -1;
  for (size_t i = 0; kp_api_at(i) != NULL; i++) {
    assert_true(kp_api_at(i)->key > last);
    last = kp_api_at(i)->key;
    assert_ptr_equal(kp_api_find(last), kp_api_at(i));
  }
}

/* Unknown keys and versions: the header is still read, for the error answer. */
static void test_header_unsupported(void **state) {
  (void)state;
  kp_arena a;
  kp_arena_init(&a, ARENA_LIMIT);
  kp_request_header hdr;
  const kp_api *api;
  uint8_t b[64];
  sl_rbuf r;
  /* ApiVersions v9 (flexible header v2, as the newest version uses). */
  size_t n = tu_unhex("0012 0009 0000002a 0003 616263 00", b, sizeof b);
  sl_rbuf_init(&r, b, n);
  assert_int_equal(kp_request_header_read(&r, &a, &hdr, &api), SL_EUNSUPPORTED);
  assert_non_null(api);
  assert_int_equal(hdr.correlation_id, 42);
  assert_str(hdr.client_id, "abc");
  assert_int_equal(sl_rbuf_left(&r), 0);
  /* Unknown ApiKey 999: header v1. */
  n = tu_unhex("03e7 0000 00000007 ffff", b, sizeof b);
  sl_rbuf_init(&r, b, n);
  assert_int_equal(kp_request_header_read(&r, &a, &hdr, &api), SL_EUNSUPPORTED);
  assert_null(api);
  assert_int_equal(hdr.correlation_id, 7);
  assert_int_equal(hdr.client_id.len, -1);
  /* Fewer than 4 bytes. */
  sl_rbuf_init(&r, b, 3);
  assert_int_equal(kp_request_header_read(&r, &a, &hdr, &api), SL_ETRUNCATED);
  kp_arena_release(&a);
}

/* Decode hex as message m at version v; returns the error. */
static int decode_hex(const kp_api_msg *m, int16_t v, const char *hex, kp_arena *a) {
  uint8_t bytes[256];
  size_t n = tu_unhex(hex, bytes, sizeof bytes);
  void *out = calloc(1, m->size);
  assert_non_null(out);
  sl_rbuf r;
  sl_rbuf_init(&r, bytes, n);
  int rc = m->decode(&r, v, a, out);
  if (rc == 0 && sl_rbuf_left(&r) != 0)
    rc = SL_ECORRUPT;
  free(out);
  return rc;
}

static void test_hostile_counts(void **state) {
  (void)state;
  const kp_api_msg *meta = &kp_api_find(KP_API_METADATA)->request;
  kp_arena a;
  kp_arena_init(&a, ARENA_LIMIT);
  /* Classic count 0x7fffffff with 4 bytes behind it: refused before allocating. */
  assert_int_equal(decode_hex(meta, 1, "7fffffff 0001 61", &a), SL_ETRUNCATED);
  assert_int_equal(a.used, 0);
  assert_null(a.head);
  /* Compact count 2^31-2 (uvarint ff ff ff ff 07 = n + 1), and one past int32. */
  assert_int_equal(decode_hex(meta, 9, "ffffffff07 00 00 00", &a), SL_ETRUNCATED);
  assert_int_equal(decode_hex(meta, 9, "feffffff0f 00 00 00", &a), SL_ECORRUPT);
  assert_int_equal(a.used, 0);
  /* Negative counts other than -1, and -1 where not nullable (v0). */
  assert_int_equal(decode_hex(meta, 1, "fffffffe", &a), SL_ECORRUPT);
  assert_int_equal(decode_hex(meta, 0, "ffffffff", &a), SL_ECORRUPT);
  assert_int_equal(decode_hex(meta, 1, "ffffffff", &a), 0); /* null: all topics */
  /* A count that fits the bytes left but not the arena cap. */
  kp_arena small;
  kp_arena_init(&small, 64);
  assert_int_equal(
      decode_hex(meta, 1, "00000008 0000 0000 0000 0000 0000 0000 0000 0000", &small),
      SL_ETOO_LARGE);
  assert_int_equal(small.used, 0);
  assert_int_equal(decode_hex(meta, 1, "00000002 0000 0000", &small), 0);
  kp_arena_release(&small);
  kp_arena_release(&a);
}

static void test_hostile_strings(void **state) {
  (void)state;
  const kp_api_msg *meta = &kp_api_find(KP_API_METADATA)->request;
  const kp_api_msg *av = &kp_api_find(KP_API_API_VERSIONS)->request;
  kp_arena a;
  kp_arena_init(&a, ARENA_LIMIT);
  /* Topic name length -2, -32768, and -1 (null) where the name is not nullable. */
  assert_int_equal(decode_hex(meta, 1, "00000001 fffe", &a), SL_ECORRUPT);
  assert_int_equal(decode_hex(meta, 1, "00000001 8000", &a), SL_ECORRUPT);
  assert_int_equal(decode_hex(meta, 1, "00000001 ffff", &a), SL_ECORRUPT);
  /* Length beyond the bytes present. */
  assert_int_equal(decode_hex(meta, 1, "00000001 0005 6162", &a), SL_ETRUNCATED);
  /* Compact string null (0) where not nullable; compact length over 32767. */
  assert_int_equal(decode_hex(av, 3, "00 00 00", &a), SL_ECORRUPT);
  assert_int_equal(decode_hex(av, 3, "818002 00 00", &a), SL_ECORRUPT);
  /* Varint longer than 5 bytes. */
  assert_int_equal(decode_hex(av, 3, "8080808080 00", &a), SL_ECORRUPT);
  kp_arena_release(&a);
}

static void test_tagged_fields(void **state) {
  (void)state;
  const kp_api_msg *av = &kp_api_find(KP_API_API_VERSIONS)->request;
  const kp_api_msg *avr = &kp_api_find(KP_API_API_VERSIONS)->response;
  kp_arena a;
  kp_arena_init(&a, ARENA_LIMIT);
  /* Unknown tags (7 and 300) are skipped. */
  assert_int_equal(decode_hex(av, 3, "02 61 02 62 02 07 03 010203 ac02 00", &a), 0);
  /* A tagged field whose size runs past the message. */
  assert_int_equal(decode_hex(av, 3, "02 61 02 62 01 07 09 0102", &a), SL_ETRUNCATED);
  /* Known tag 1 (int64) announced with 9 bytes, or with 7. */
  assert_int_equal(decode_hex(avr, 3, "0000 01 00000000 01 01 09 000000000000000500", &a),
                   SL_ECORRUPT);
  assert_int_equal(decode_hex(avr, 3, "0000 01 00000000 01 01 07 00000000000005", &a),
                   SL_ETRUNCATED);
  /* A hostile tag count ends at the end of the input. */
  assert_int_equal(decode_hex(av, 3, "02 61 02 62 ffffffff07", &a), SL_ETRUNCATED);
  kp_arena_release(&a);
}

static void test_encode_rejects_invalid(void **state) {
  (void)state;
  kp_metadata_request_topic topic;
  kp_metadata_request_topic_init_defaults(&topic);
  topic.name = KP_STR_NULL; /* nullable only from v10 */
  kp_metadata_request req;
  kp_metadata_request_init_defaults(&req);
  req.topics = &topic;
  req.topics_count = 1;
  sl_buf w = SL_BUF_INIT;
  assert_int_equal(sl_buf_append(&w, "xy", 2), 0);
  assert_int_equal(kp_metadata_request_encode(&w, 1, &req), SL_EINVAL);
  assert_int_equal(w.len, 2); /* untouched on error */
  assert_int_equal(kp_metadata_request_encode(&w, 10, &req), 0);
  req.topics_count = -1; /* null topics: not in v0 */
  assert_int_equal(kp_metadata_request_encode(&w, 0, &req), SL_EINVAL);
  req.topics_count = -2;
  assert_int_equal(kp_metadata_request_encode(&w, 5, &req), SL_EINVAL);
  req.topics_count = 1;
  /* A non-ignorable field the version lacks must hold its default (Kafka
   * refuses to drop it silently); an ignorable one is simply not written. */
  req.topics_count = 0;
  req.allow_auto_topic_creation = false; /* v4+, not ignorable */
  assert_int_equal(kp_metadata_request_encode(&w, 3, &req), SL_EUNSUPPORTED);
  assert_int_equal(kp_metadata_request_encode(&w, 4, &req), 0);
  kp_produce_response resp;
  kp_produce_response_init_defaults(&resp);
  resp.throttle_time_ms = 5; /* v1+, ignorable */
  assert_int_equal(kp_produce_response_encode(&w, 0, &resp), 0);
  req.allow_auto_topic_creation = true;
  req.topics_count = 1;
  static char big[40000];
  memset(big, 'x', sizeof big);
  topic.name = (kp_str){big, (int32_t)sizeof big};
  assert_int_equal(kp_metadata_request_encode(&w, 1, &req), SL_ETOO_LARGE);
  sl_buf_release(&w);
}

static void test_arena(void **state) {
  (void)state;
  kp_arena a;
  kp_arena_init(&a, 100000);
  void *p, *q;
  assert_int_equal(kp_arena_alloc(&a, 3, 7, &p), 0);
  assert_int_equal(kp_arena_alloc(&a, 1, 1, &q), 0);
  assert_int_equal((uintptr_t)q % alignof(max_align_t), 0);
  assert_true((uint8_t *)q >= (uint8_t *)p + 21);
  assert_int_equal(kp_arena_alloc(&a, SIZE_MAX / 2, 4, &p), SL_ETOO_LARGE);
  assert_int_equal(kp_arena_alloc(&a, 1, 100000, &p), SL_ETOO_LARGE);
  assert_int_equal(kp_arena_alloc(&a, 1, 50000, &p), 0); /* a chunk of its own */
  memset(p, 0xab, 50000);
  kp_arena_reset(&a);
  assert_int_equal(a.used, 0);
  assert_int_equal(kp_arena_alloc(&a, 1, 90000, &p), 0);
  assert_int_equal(((uint8_t *)p)[89999], 0);
  kp_arena_release(&a);
  kp_arena_release(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_apiversions_v3_librdkafka),
      cmocka_unit_test(test_metadata_v4_librdkafka),
      cmocka_unit_test(test_metadata_v1_python),
      cmocka_unit_test(test_produce_v3_python),
      cmocka_unit_test(test_produce_v7_librdkafka),
      cmocka_unit_test(test_fetch_v11_librdkafka),
      cmocka_unit_test(test_fetch_v4_python),
      cmocka_unit_test(test_truncated_requests),
      cmocka_unit_test(test_encode_apiversions_response),
      cmocka_unit_test(test_encode_produce_response),
      cmocka_unit_test(test_encode_response_header),
      cmocka_unit_test(test_response_frame),
      cmocka_unit_test(test_roundtrip_all),
      cmocka_unit_test(test_unsupported_versions),
      cmocka_unit_test(test_api_table),
      cmocka_unit_test(test_header_unsupported),
      cmocka_unit_test(test_hostile_counts),
      cmocka_unit_test(test_hostile_strings),
      cmocka_unit_test(test_tagged_fields),
      cmocka_unit_test(test_encode_rejects_invalid),
      cmocka_unit_test(test_arena),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
