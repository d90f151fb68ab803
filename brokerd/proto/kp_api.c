/*
 * kp_api.c - header-version lookups over the generated API table
 * (gen/kp_apis.c).  See kp_api.h.
 */
#include "kp_api.h"

static int digit_at(const kp_api *api, const char *digits, int16_t version) {
  if (api == NULL || version < api->min_version || version > api->max_version)
    return -1;
  return digits[version - api->min_version] - '0';
}

int kp_api_request_header_version(const kp_api *api, int16_t version) {
  return api ? digit_at(api, api->request_header_versions, version) : -1;
}

int kp_api_response_header_version(const kp_api *api, int16_t version) {
  return api ? digit_at(api, api->response_header_versions, version) : -1;
}

int kp_request_header_read(sl_rbuf *r, kp_arena *arena, kp_request_header *hdr,
                           const kp_api **api) {
  kp_request_header_init_defaults(hdr);
  *api = NULL;
  if (sl_rbuf_left(r) < 4) {
    sl_rbuf_skip(r, 4);
    return sl_rbuf_err(r);
  }
  int16_t key = (int16_t)sl_load_be16(r->p + r->pos);
  int16_t version = (int16_t)sl_load_be16(r->p + r->pos + 2);
  const kp_api *found = kp_api_find(key);
  int hv = 1;
  bool supported = false;
  if (found != NULL) {
    supported = version >= found->min_version && version <= found->max_version;
    hv = kp_api_request_header_version(
        found, version > found->max_version ? found->max_version : version);
    if (hv < 0)
      hv = kp_api_request_header_version(found, found->min_version);
  }
  int rc = kp_request_header_decode(r, (int16_t)hv, arena, hdr);
  if (rc != 0)
    return rc;
  *api = found;
  return supported ? 0 : SL_EUNSUPPORTED;
}
