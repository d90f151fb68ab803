/*
 * kp_api.h - the table of every Kafka API the generated codecs know
 * (gen/kp_apis.c, made by tools/protogen), for the broker's dispatch table,
 * its ApiVersions answer, and the fuzzer.  Each entry gives the versions and,
 * per direction, generic entry points over `void *` messages.
 */
#ifndef KP_API_H
#define KP_API_H

#include "kp_header.h"
#include "kp_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kp_api_msg {
  const char *name; /* "ProduceRequest" */
  size_t size;      /* sizeof the C struct */
  void (*init_defaults)(void *out);
  int (*decode)(sl_rbuf *r, int16_t version, kp_arena *arena, void *out);
  int (*encode)(sl_buf *w, int16_t version, const void *in);
} kp_api_msg;

typedef struct kp_api {
  int16_t key;         /* ApiKey */
  const char *name;    /* "Produce" */
  int16_t min_version; /* validVersions */
  int16_t max_version;
  int16_t first_flexible; /* first flexible version, -1 if none */
  bool latest_unstable;   /* max_version is not yet stable in Kafka */
  /* One digit per version from min_version: the header version to use. */
  const char *request_header_versions;
  const char *response_header_versions;
  kp_api_msg request;
  kp_api_msg response;
} kp_api;

/* The API with this key, or NULL. */
const kp_api *kp_api_find(int16_t key);
/* The i-th API in key order, or NULL past the end (for iteration). */
const kp_api *kp_api_at(size_t i);
/* RequestHeader / ResponseHeader version for api at version, -1 if unsupported. */
int kp_api_request_header_version(const kp_api *api, int16_t version);
int kp_api_response_header_version(const kp_api *api, int16_t version);

/*
 * Read the RequestHeader at the start of a request frame (the bytes after the
 * int32 size), choosing its version from the ApiKey and ApiVersion it begins
 * with.  On 0, *api is the API and r is positioned at the request body: decode
 * it with (*api)->request.decode(r, hdr->request_api_version, arena, body).
 * SL_EUNSUPPORTED for an unknown ApiKey (*api NULL; header read as v1) or a
 * version outside the API's range (header read with the version the highest
 * valid version uses): *hdr is filled then, so the caller can answer with the
 * correlation id (Kafka answers an unsupported ApiVersions version with
 * ApiVersions v0 and UNSUPPORTED_VERSION).  Other errors: as kp_*_decode.
 */
int kp_request_header_read(sl_rbuf *r, kp_arena *arena, kp_request_header *hdr,
                           const kp_api **api);

#ifdef __cplusplus
}
#endif
#endif
