/*
 * dispatch.c - the API table and the ApiVersions handler (see dispatch.h;
 * docs/BROKER.md, "APIs").  ApiVersions follows KIP-511: a version we do not
 * advertise is answered in a v0 body with UNSUPPORTED_VERSION and the
 * supported ranges; v3+ requests with an invalid client software name or
 * version get INVALID_REQUEST.
 */
#include "dispatch.h"

#include <stdio.h>

#include "kp_api_versions.h"
#include "kerrors.h"

/* Sorted by ApiKey. */
static const sd_api_entry api_table[] = {
    {0, 3, 9, sd_handle_produce},
    {1, 4, 13, sd_handle_fetch},
    {2, 1, 7, sd_handle_list_offsets},
    {3, 0, 12, sd_handle_metadata},
    {8, 0, 8, sd_handle_offset_commit},
    {9, 0, 8, sd_handle_offset_fetch},
    {10, 0, 4, sd_handle_find_coordinator},
    {11, 0, 9, sd_handle_join_group},
    {12, 0, 4, sd_handle_heartbeat},
    {13, 0, 5, sd_handle_leave_group},
    {14, 0, 5, sd_handle_sync_group},
    {15, 0, 5, sd_handle_describe_groups},
    {16, 0, 4, sd_handle_list_groups},
    {SD_API_VERSIONS_KEY, 0, 3, sd_handle_api_versions},
    {19, 0, 7, sd_handle_create_topics},
    {20, 0, 6, sd_handle_delete_topics},
    {21, 0, 2, sd_handle_delete_records},
    {22, 0, 4, sd_handle_init_producer_id},
    {23, 0, 4, sd_handle_offset_for_leader_epoch},
    {32, 0, 4, sd_handle_describe_configs},
    {33, 0, 2, sd_handle_alter_configs},
    {35, 0, 4, sd_handle_describe_log_dirs},
    {37, 0, 3, sd_handle_create_partitions},
    {42, 0, 2, sd_handle_delete_groups},
    {44, 0, 1, sd_handle_incremental_alter_configs},
    {47, 0, 0, sd_handle_offset_delete},
    {60, 0, 1, sd_handle_describe_cluster},
};

#define N_APIS (sizeof(api_table) / sizeof(api_table[0]))

const sd_api_entry *sd_dispatch_find(int16_t key) {
  for (size_t i = 0; i < N_APIS; i++)
    if (api_table[i].key == key)
      return &api_table[i];
  return NULL;
}

int sd_dispatch_check(char *err, size_t errcap) {
  for (size_t i = 0; i < N_APIS; i++) {
    const sd_api_entry *e = &api_table[i];
    const kp_api *api = kp_api_find(e->key);
    if (api == NULL || e->min_version < api->min_version ||
        e->max_version > api->max_version) {
      snprintf(err, errcap,
               "internal: ApiKey %d versions %d-%d are not all in the codecs", e->key,
               e->min_version, e->max_version);
      return -1;
    }
  }
  return 0;
}

/* Kafka's rule for ClientSoftwareName/Version: [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
 */
static bool software_field_valid(kp_str s) {
  if (s.len <= 0)
    return false;
  for (int32_t i = 0; i < s.len; i++) {
    char ch = s.ptr[i];
    bool alnum =
        (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    bool inner = ch == '-' || ch == '.';
    if (!alnum && !(inner && i > 0 && i < s.len - 1))
      return false;
  }
  return true;
}

void sd_handle_api_versions(sd_req *req) {
  kp_api_versions_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_api_versions_response_init_defaults(resp);
  const kp_api_versions_request *rq = req->body;
  if (!req->unsupported && req->version >= 3 &&
      (!software_field_valid(rq->client_software_name) ||
       !software_field_valid(rq->client_software_version))) {
    resp->error_code = SD_KERR_INVALID_REQUEST;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  if (sd_req_alloc(req, N_APIS, sizeof(*resp->api_keys), (void **)&resp->api_keys) != 0)
    return;
  for (size_t i = 0; i < N_APIS; i++) {
    resp->api_keys[i].api_key = api_table[i].key;
    resp->api_keys[i].min_version = api_table[i].min_version;
    resp->api_keys[i].max_version = api_table[i].max_version;
  }
  resp->api_keys_count = (int32_t)N_APIS;
  resp->throttle_time_ms = 0;
  resp->supported_features_count = 0;
  resp->finalized_features_count = 0;
  resp->finalized_features_epoch = -1;
  if (req->unsupported) {
    resp->error_code = SD_KERR_UNSUPPORTED_VERSION;
    sd_req_count_error(req);
  }
  sd_req_respond(req, resp);
}
