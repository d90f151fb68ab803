/*
 * describe_log_dirs.c - DescribeLogDirs (ApiKey 35, versions 0-4)
 * (docs/BROKER.md, "APIs"): per log directory, its absolute path, the
 * partitions it holds (all, or those asked for) with their size on disk
 * (sl_log_size_bytes; OffsetLag 0: there are no future replicas) and, from
 * v4, the file system's total and usable bytes (statvfs).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_describe_log_dirs.h"

static kp_str arena_str(sd_req *req, const char *s) {
  size_t n = strlen(s);
  char *p = NULL;
  if (kp_arena_alloc(&req->arena, n + 1, 1, (void **)&p) != 0)
    return KP_STR_NULL;
  memcpy(p, s, n);
  return (kp_str){p, (int32_t)n};
}

/* Whether the request asks about (topic, partition). */
static bool asked(const kp_describe_log_dirs_request *rq, const char *topic,
                  int32_t part) {
  if (rq->topics_count < 0)
    return true;
  for (int32_t i = 0; i < rq->topics_count; i++) {
    const kp_describe_log_dirs_request_describable_log_dir_topic *t = &rq->topics[i];
    if (!kp_str_eq(t->topic, topic, (int32_t)strlen(topic)))
      continue;
    for (int32_t j = 0; j < t->partitions_count; j++)
      if (t->partitions[j] == part)
        return true;
  }
  return false;
}

void sd_handle_describe_log_dirs(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_describe_log_dirs_request *rq = req->body;
  kp_describe_log_dirs_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_describe_log_dirs_response_init_defaults(resp);
  if (sd_req_alloc(req, (size_t)b->dirs.n, sizeof(*resp->results),
                   (void **)&resp->results) != 0)
    return;
  resp->results_count = b->dirs.n;
  const sd_topics *tp = &b->topics;
  for (int d = 0; d < b->dirs.n; d++) {
    kp_describe_log_dirs_response_describe_log_dirs_result *out = &resp->results[d];
    kp_describe_log_dirs_response_describe_log_dirs_result_init_defaults(out);
    char abs[PATH_MAX];
    out->log_dir =
        arena_str(req, realpath(b->dirs.paths[d], abs) ? abs : b->dirs.paths[d]);
    out->error_code = SD_KERR_NONE;
    if (req->version >= 4) {
      struct statvfs sv;
      if (statvfs(b->dirs.paths[d], &sv) == 0) {
        out->total_bytes = (int64_t)sv.f_blocks * (int64_t)sv.f_frsize;
        out->usable_bytes = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
      }
    }
    if (sd_req_alloc(req, (size_t)tp->n, sizeof(*out->topics), (void **)&out->topics) !=
        0)
      return;
    int32_t nt = 0;
    for (int i = 0; i < tp->n; i++) {
      const sd_topic *t = &tp->topics[i];
      kp_describe_log_dirs_response_describe_log_dirs_topic *to = &out->topics[nt];
      kp_describe_log_dirs_response_describe_log_dirs_topic_init_defaults(to);
      if (sd_req_alloc(req, (size_t)t->n_parts, sizeof(*to->partitions),
                       (void **)&to->partitions) != 0)
        return;
      int32_t np = 0;
      for (int j = 0; j < t->n_parts; j++) {
        const sd_partition *p = &t->parts[j];
        if (p->dir != d || !asked(rq, t->name, p->index))
          continue;
        kp_describe_log_dirs_response_describe_log_dirs_partition *po =
            &to->partitions[np++];
        kp_describe_log_dirs_response_describe_log_dirs_partition_init_defaults(po);
        po->partition_index = p->index;
        po->partition_size = sl_log_size_bytes(p->log);
        po->offset_lag = 0;
        po->is_future_key = false;
      }
      if (np == 0)
        continue;
      to->name = kp_str_from(t->name);
      to->partitions_count = np;
      nt++;
    }
    out->topics_count = nt;
  }
  resp->throttle_time_ms = 0;
  resp->error_code = SD_KERR_NONE;
  sd_req_respond(req, resp);
}
