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
