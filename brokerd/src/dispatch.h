/*
 * dispatch.h - seglogd's API table: one entry per ApiKey the broker serves,
 * with the version range it implements in full and its handler.  The same
 * ranges build the ApiVersions answer, so what is advertised and what is
 * dispatched cannot drift apart (docs/BROKER.md, "APIs").
 */
#ifndef SD_DISPATCH_H
#define SD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define SD_API_VERSIONS_KEY 18

typedef void (*sd_handler_fn)(sd_req *req);

struct sd_api_entry {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
  sd_handler_fn handler;
};

/* The entry for key, or NULL if the broker does not serve that API. */
const sd_api_entry *sd_dispatch_find(int16_t key);
/*
 * Checks the table against the generated codecs (every advertised version
 * must be one the codecs know).  -1 with err filled if not: a build defect.
 */
int sd_dispatch_check(char *err, size_t errcap);

/* Handlers (one file per API family). */
void sd_handle_api_versions(sd_req *req);
void sd_handle_metadata(sd_req *req);
void sd_handle_produce(sd_req *req);
void sd_handle_fetch(sd_req *req);
void sd_handle_list_offsets(sd_req *req);
void sd_handle_init_producer_id(sd_req *req);
void sd_handle_create_topics(sd_req *req);
void sd_handle_delete_topics(sd_req *req);
void sd_handle_create_partitions(sd_req *req);
void sd_handle_delete_records(sd_req *req);
void sd_handle_offset_for_leader_epoch(sd_req *req);
void sd_handle_describe_cluster(sd_req *req);
void sd_handle_describe_configs(sd_req *req);
void sd_handle_alter_configs(sd_req *req);             /* alter_configs.c */
void sd_handle_incremental_alter_configs(sd_req *req); /* alter_configs.c */
void sd_handle_describe_log_dirs(sd_req *req);
void sd_handle_offset_commit(sd_req *req); /* offsets_api.c */
void sd_handle_offset_fetch(sd_req *req);
void sd_handle_offset_delete(sd_req *req);
/* Group membership (group_api.c). */
void sd_handle_find_coordinator(sd_req *req);
void sd_handle_join_group(sd_req *req);
void sd_handle_heartbeat(sd_req *req);
void sd_handle_leave_group(sd_req *req);
void sd_handle_sync_group(sd_req *req);
void sd_handle_describe_groups(sd_req *req);
void sd_handle_list_groups(sd_req *req);
void sd_handle_delete_groups(sd_req *req);

#endif
