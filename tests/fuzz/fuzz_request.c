/*
 * fuzz_request.c - libFuzzer target for the generated Kafka protocol decoders
 * (brokerd/proto).  Input: ApiKey (2 bytes, big-endian) + version (2 bytes) +
 * a message body.  The key picks its API (an unknown key picks the table
 * entry at key modulo the table size), the
 * version is folded into the API's valid range, and the body is decoded as
 * that API's request and as its response.  Whatever decodes must encode, and
 * decoding that encoding must give the same bytes again.  The whole input is
 * also read as a request frame (header + body).  Seeds: real client requests
 * (tests/fuzz/corpus/fuzz_request).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_api.h"

#define ARENA_LIMIT (16u << 20)

static size_t api_count(void) {
  size_t n = 0;
  while (kp_api_at(n) != NULL)
    n++;
  return n;
}

static void check(int ok) {
  if (!ok)
    abort();
}

static void one(const kp_api_msg *m, int16_t v, const uint8_t *p, size_t len) {
  kp_arena a;
  kp_arena_init(&a, ARENA_LIMIT);
  void *msg = malloc(m->size), *back = malloc(m->size);
  check(msg != NULL && back != NULL);
  sl_rbuf r;
  sl_rbuf_init(&r, p, len);
  if (m->decode(&r, v, &a, msg) == 0) {
    sl_buf w1 = SL_BUF_INIT, w2 = SL_BUF_INIT;
    int rc = m->encode(&w1, v, msg);
    /* A decoded message always encodes (lengths are bounded by the input). */
    check(rc == 0 || rc == SL_ENOMEM);
    if (rc == 0) {
      sl_rbuf_init(&r, w1.data, w1.len);
      check(m->decode(&r, v, &a, back) == 0 && sl_rbuf_left(&r) == 0);
      check(m->encode(&w2, v, back) == 0);
      check(w2.len == w1.len && (w1.len == 0 || memcmp(w1.data, w2.data, w1.len) == 0));
    }
    sl_buf_release(&w1);
    sl_buf_release(&w2);
  }
  free(msg);
  free(back);
  kp_arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  static size_t n;
  if (n == 0)
    n = api_count();
  const kp_api *api = kp_api_find((int16_t)sl_load_be16(data));
  if (api == NULL)
    api = kp_api_at((size_t)sl_load_be16(data) % n);
  int span = api->max_version - api->min_version + 1;
  int16_t v = (int16_t)(api->min_version + sl_load_be16(data + 2) % span);
  one(&api->request, v, data + 4, size - 4);
  one(&api->response, v, data + 4, size - 4);

  /* The same bytes as a request frame. */
  kp_arena a;
  kp_arena_init(&a, ARENA_LIMIT);
  kp_request_header hdr;
  const kp_api *found;
  sl_rbuf r;
  sl_rbuf_init(&r, data, size);
  if (kp_request_header_read(&r, &a, &hdr, &found) == 0) {
    void *body = malloc(found->request.size);
    check(body != NULL);
    (void)found->request.decode(&r, hdr.request_api_version, &a, body);
    free(body);
  }
  kp_arena_release(&a);
  return 0;
}
