/*
 * offsets_api.c - the handlers of the storage half of the group coordinator:
 * OffsetCommit (ApiKey 8, v0-8), OffsetFetch (9, v0-8, several groups at
 * once in v8) and OffsetDelete (47, v0), answered as Kafka's
 * KafkaApis/GroupCoordinator do.  A commit is appended to __consumer_offsets
 * as one batch per request before it is answered.  docs/GROUPS.md,
 * "Storage"; docs/BROKER.md, "APIs".
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_offset_commit.h"
#include "kp_offset_delete.h"
#include "kp_offset_fetch.h"
#include "offsets_int.h"
#include "sdlog.h"

/* Kafka's storage-error mapping for offset commits (GroupMetadataManager.storeOffsets).
 */
static int16_t commit_error_of(int slerr) {
  int16_t e = sd_kerr_from_sl(slerr);
  switch (e) {
  case SD_KERR_UNKNOWN_TOPIC_OR_PARTITION:
  case SD_KERR_NOT_ENOUGH_REPLICAS:
    return SD_KERR_COORDINATOR_NOT_AVAILABLE;
  case SD_KERR_NOT_LEADER_OR_FOLLOWER:
  case SD_KERR_KAFKA_STORAGE_ERROR:
    return SD_KERR_NOT_COORDINATOR;
  case SD_KERR_MESSAGE_TOO_LARGE:
  case SD_KERR_RECORD_LIST_TOO_LARGE:
    return SD_KERR_INVALID_COMMIT_OFFSET_SIZE;
  default:
    return slerr == SL_ENOT_FOUND ? SD_KERR_COORDINATOR_NOT_AVAILABLE : e;
  }
}

static bool partition_known(const sd_broker *b, kp_str topic, int32_t partition) {
  const sd_topic *t =
      topic.len > 0 ? sd_topics_find(&b->topics, topic.ptr, (size_t)topic.len) : NULL;
  return t != NULL && sd_topic_partition(t, partition) != NULL;
}

/* ---- OffsetCommit ---------------------------------------------------- */

/* v2-4 RetentionTimeMs: the expire timestamp (-1: none); saturating, the
 * value is the client's. */
static int64_t expire_of(const sd_req *req, const kp_offset_commit_request *rq,
                         int64_t now) {
  if (req->version < 2 || req->version > 4 || rq->retention_time_ms == -1)
    return -1;
  int64_t t;
  if (__builtin_add_overflow(now, rq->retention_time_ms, &t))
    t = rq->retention_time_ms > 0 ? INT64_MAX : INT64_MIN;
  return t == -1 ? -2 : t; /* -1 would mean "none" */
}

/* The stored value of one committed partition, as Kafka's handleOffsetCommit
 * builds its OffsetAndMetadata. */
static void commit_value(const sd_req *req, const kp_offset_commit_request *rq,
                         const kp_offset_commit_request_partition *pi, int64_t now,
                         sd_oval *v) {
  v->offset = pi->committed_offset;
  v->leader_epoch = req->version >= 6 ? pi->committed_leader_epoch : -1;
  v->metadata = pi->committed_metadata.len < 0 ? KP_STR("") : pi->committed_metadata;
  v->commit_ts =
      req->version == 1 && pi->commit_timestamp != -1 ? pi->commit_timestamp : now;
  v->expire_ts = expire_of(req, rq, now);
}

void sd_handle_offset_commit(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_offset_commit_request *rq = req->body;
  kp_offset_commit_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_offset_commit_response_init_defaults(resp);
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->topics), (void **)&resp->topics) != 0)
    return;
  resp->topics_count = nt;
  int64_t now = sd_offsets_now_ms();
  int64_t max_meta = sd_cfg_i(b->cfg, SD_CFG_OFFSET_METADATA_MAX);
  /* Pass 1: per-partition checks that do not depend on the group. */
  bool any_valid = false;
  for (int32_t i = 0; i < nt; i++) {
    const kp_offset_commit_request_topic *ti = &rq->topics[i];
    kp_offset_commit_response_topic *to = &resp->topics[i];
    kp_offset_commit_response_topic_init_defaults(to);
    to->name = ti->name;
    int32_t np = ti->partitions_count > 0 ? ti->partitions_count : 0;
    if (sd_req_alloc(req, (size_t)np, sizeof(*to->partitions),
                     (void **)&to->partitions) != 0)
      return;
    to->partitions_count = np;
    for (int32_t j = 0; j < np; j++) {
      const kp_offset_commit_request_partition *pi = &ti->partitions[j];
      kp_offset_commit_response_partition *po = &to->partitions[j];
      po->partition_index = pi->partition_index;
      po->error_code = SD_KERR_NONE;
      if (!partition_known(b, ti->name, pi->partition_index))
        po->error_code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
      else if (pi->committed_metadata.len > 0 &&
               (int64_t)sd_java_string_length(pi->committed_metadata.ptr,
                                              (size_t)pi->committed_metadata.len) >
                   max_meta)
        po->error_code = SD_KERR_OFFSET_METADATA_TOO_LARGE;
      else
        any_valid = true;
    }
  }
  /* Pass 2: the group's verdict applies to every partition still valid. */
  int16_t gerr = SD_KERR_NONE;
  if (any_valid) {
    kp_str member = req->version >= 1 ? rq->member_id : KP_STR("");
    kp_str instance = req->version >= 7 ? rq->group_instance_id : KP_STR_NULL;
    int32_t generation = req->version >= 1 ? rq->generation_id_or_member_epoch : -1;
    gerr = sd_groups_check_commit(b, rq->group_id, member, instance, generation);
  }
  sd_orecs recs;
  sd_orecs_init(&recs);
  int rc = 0;
  for (int32_t i = 0; i < nt && any_valid && gerr == SD_KERR_NONE && rc == 0; i++) {
    const kp_offset_commit_request_topic *ti = &rq->topics[i];
    for (int32_t j = 0; j < resp->topics[i].partitions_count && rc == 0; j++) {
      if (resp->topics[i].partitions[j].error_code != SD_KERR_NONE)
        continue;
      const kp_offset_commit_request_partition *pi = &ti->partitions[j];
      sd_oval v;
      commit_value(req, rq, pi, now, &v);
      rc = sd_orecs_add_offset(&recs, rq->group_id, ti->name, pi->partition_index, &v);
    }
  }
  if (rc == 0 && gerr == SD_KERR_NONE && recs.n > 0)
    rc = sd_offsets_append(b, rq->group_id, &recs);
  if (rc != 0)
    gerr = commit_error_of(rc);
  /* Apply in memory (only once written) and set the answers. */
  sd_ogroup *g = NULL;
  if (gerr == SD_KERR_NONE && recs.n > 0) {
    g = sd_offsets_group_add(b->offsets, rq->group_id);
    if (g == NULL)
      gerr = SD_KERR_UNKNOWN_SERVER_ERROR;
  }
  for (int32_t i = 0; i < nt; i++) {
    const kp_offset_commit_request_topic *ti = &rq->topics[i];
    for (int32_t j = 0; j < resp->topics[i].partitions_count; j++) {
      kp_offset_commit_response_partition *po = &resp->topics[i].partitions[j];
      if (po->error_code == SD_KERR_NONE && gerr != SD_KERR_NONE)
        po->error_code = gerr;
      if (po->error_code == SD_KERR_NONE && g != NULL) {
        const kp_offset_commit_request_partition *pi = &ti->partitions[j];
        sd_oval v;
        commit_value(req, rq, pi, now, &v);
        if (sd_offsets_put(g, ti->name, pi->partition_index, &v) != 0)
          po->error_code = SD_KERR_UNKNOWN_SERVER_ERROR;
      }
      if (po->error_code != SD_KERR_NONE)
        sd_req_count_error(req);
    }
  }
  sd_orecs_release(&recs);
  sd_req_respond(req, resp);
}

/* ---- OffsetFetch ----------------------------------------------------- */

typedef struct fetch_part {
  int32_t partition;
  int64_t offset;
  int32_t leader_epoch;
  kp_str metadata;
  int16_t error;
} fetch_part;

static void fetch_one(const sd_ogroup *g, kp_str topic, int32_t partition,
                      fetch_part *out) {
  out->partition = partition;
  out->offset = -1;
  out->leader_epoch = -1;
  out->metadata = KP_STR("");
  out->error = SD_KERR_NONE;
  const sd_oentry *e = sd_offsets_entry(g, topic, partition);
  if (e != NULL) {
    out->offset = e->offset;
    out->leader_epoch = e->leader_epoch;
    out->metadata = (kp_str){e->metadata ? e->metadata : "", e->metadata_len};
  }
}

/* Response arrays sized by what is stored rather than by the request (a
 * fetch of every offset of a large group) come from malloc, owned by the
 * request, so the per-request arena's cap does not apply to them. */
static int own_alloc(sd_req *req, size_t n, size_t size, void **out) {
  *out = NULL;
  if (n == 0)
    return 0;
  void *p = calloc(n, size);
  if (p == NULL || sd_req_own(req, p) != 0) {
    sd_req_abort(req, "out of memory");
    return -1;
  }
  *out = p;
  return 0;
}

static bool same_topic(const sd_oentry *x, const sd_oentry *y) {
  return x->topic_len == y->topic_len &&
         (x->topic_len == 0 || memcmp(x->topic, y->topic, (size_t)x->topic_len) == 0);
}

static int entry_cmp(const void *a, const void *b) {
  const sd_oentry *x = *(const sd_oentry *const *)a, *y = *(const sd_oentry *const *)b;
  int32_t n = x->topic_len < y->topic_len ? x->topic_len : y->topic_len;
  int c = n > 0 ? memcmp(x->topic, y->topic, (size_t)n) : 0;
  if (c != 0)
    return c;
  if (x->topic_len != y->topic_len)
    return x->topic_len < y->topic_len ? -1 : 1;
  return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/* One group's answer as (topic, partitions[]) lists, for either layout. */
typedef struct fetch_topic {
  kp_str name;
  fetch_part *parts;
  int32_t n;
} fetch_topic;

/* Every committed offset of g, by topic then partition. */
static int fetch_all(sd_req *req, const sd_ogroup *g, fetch_topic **out, int32_t *n_out) {
  *out = NULL;
  *n_out = 0;
  if (g == NULL || g->count == 0)
    return 0;
  const sd_oentry **es = NULL;
  if (own_alloc(req, g->count, sizeof(*es), (void **)&es) != 0)
    return -1;
  size_t n = 0;
  for (uint32_t i = 0; i < g->nslots; i++)
    for (const sd_oentry *e = g->slots[i]; e; e = e->next)
      es[n++] = e;
  qsort(es, n, sizeof(*es), entry_cmp);
  int32_t nt = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || !same_topic(es[i - 1], es[i]))
      nt++;
  fetch_topic *topics = NULL;
  fetch_part *parts = NULL;
  if (own_alloc(req, (size_t)nt, sizeof(*topics), (void **)&topics) != 0 ||
      own_alloc(req, n, sizeof(*parts), (void **)&parts) != 0)
    return -1;
  int32_t t = -1;
  for (size_t i = 0; i < n; i++) {
    kp_str name = {es[i]->topic, es[i]->topic_len};
    if (i == 0 || !same_topic(es[i - 1], es[i])) {
      t++;
      topics[t].name = name;
      topics[t].parts = &parts[i];
      topics[t].n = 0;
    }
    fetch_one(g, name, es[i]->partition, &parts[i]);
    topics[t].n++;
  }
  *out = topics;
  *n_out = nt;
  return 0;
}

static int fetch_group(sd_req *req, kp_str group, bool all, const kp_str *names,
                       int32_t *const *indexes, const int32_t *counts, int32_t nt,
                       fetch_topic **out, int32_t *n_out) {
  const sd_ogroup *g = sd_offsets_group(req->broker->offsets, group);
  if (all)
    return fetch_all(req, g, out, n_out);
  fetch_topic *topics = NULL;
  if (nt > 0 && sd_req_alloc(req, (size_t)nt, sizeof(*topics), (void **)&topics) != 0)
    return -1;
  for (int32_t i = 0; i < nt; i++) {
    topics[i].name = names[i];
    int32_t np = counts[i] > 0 ? counts[i] : 0;
    if (np > 0 && sd_req_alloc(req, (size_t)np, sizeof(*topics[i].parts),
                               (void **)&topics[i].parts) != 0)
      return -1;
    topics[i].n = np;
    for (int32_t j = 0; j < np; j++)
      fetch_one(g, names[i], indexes[i][j], &topics[i].parts[j]);
  }
  *out = topics;
  *n_out = nt;
  return 0;
}

static int fetch_classic(sd_req *req, const kp_offset_fetch_request *rq,
                         kp_offset_fetch_response *resp) {
  bool all = rq->topics_count < 0;
  int32_t nt = all ? 0 : rq->topics_count;
  kp_str *names = NULL;
  int32_t **idx = NULL, *counts = NULL;
  if (nt > 0 && (sd_req_alloc(req, (size_t)nt, sizeof(*names), (void **)&names) != 0 ||
                 sd_req_alloc(req, (size_t)nt, sizeof(*idx), (void **)&idx) != 0 ||
                 sd_req_alloc(req, (size_t)nt, sizeof(*counts), (void **)&counts) != 0))
    return -1;
  for (int32_t i = 0; i < nt; i++) {
    names[i] = rq->topics[i].name;
    idx[i] = rq->topics[i].partition_indexes;
    counts[i] = rq->topics[i].partition_indexes_count;
  }
  fetch_topic *ft = NULL;
  int32_t n = 0;
  if (fetch_group(req, rq->group_id, all, names, idx, counts, nt, &ft, &n) != 0)
    return -1;
  if (own_alloc(req, (size_t)n, sizeof(*resp->topics), (void **)&resp->topics) != 0)
    return -1;
  resp->topics_count = n;
  for (int32_t i = 0; i < n; i++) {
    kp_offset_fetch_response_topic *to = &resp->topics[i];
    kp_offset_fetch_response_topic_init_defaults(to);
    to->name = ft[i].name;
    if (own_alloc(req, (size_t)ft[i].n, sizeof(*to->partitions),
                  (void **)&to->partitions))
      return -1;
    to->partitions_count = ft[i].n;
    for (int32_t j = 0; j < ft[i].n; j++) {
      kp_offset_fetch_response_partition *po = &to->partitions[j];
      kp_offset_fetch_response_partition_init_defaults(po);
      po->partition_index = ft[i].parts[j].partition;
      po->committed_offset = ft[i].parts[j].offset;
      po->committed_leader_epoch = ft[i].parts[j].leader_epoch;
      po->metadata = ft[i].parts[j].metadata;
      po->error_code = ft[i].parts[j].error;
    }
  }
  return 0;
}

static int fetch_groups(sd_req *req, const kp_offset_fetch_request *rq,
                        kp_offset_fetch_response *resp) {
  int32_t ng = rq->groups_count > 0 ? rq->groups_count : 0;
  if (ng > 0 &&
      sd_req_alloc(req, (size_t)ng, sizeof(*resp->groups), (void **)&resp->groups))
    return -1;
  resp->groups_count = ng;
  for (int32_t k = 0; k < ng; k++) {
    const kp_offset_fetch_request_group *gi = &rq->groups[k];
    kp_offset_fetch_response_group *go = &resp->groups[k];
    kp_offset_fetch_response_group_init_defaults(go);
    go->group_id = gi->group_id;
    bool all = gi->topics_count < 0;
    int32_t nt = all ? 0 : gi->topics_count;
    kp_str *names = NULL;
    int32_t **idx = NULL, *counts = NULL;
    if (nt > 0 && (sd_req_alloc(req, (size_t)nt, sizeof(*names), (void **)&names) != 0 ||
                   sd_req_alloc(req, (size_t)nt, sizeof(*idx), (void **)&idx) != 0 ||
                   sd_req_alloc(req, (size_t)nt, sizeof(*counts), (void **)&counts) != 0))
      return -1;
    for (int32_t i = 0; i < nt; i++) {
      names[i] = gi->topics[i].name;
      idx[i] = gi->topics[i].partition_indexes;
      counts[i] = gi->topics[i].partition_indexes_count;
    }
    fetch_topic *ft = NULL;
    int32_t n = 0;
    if (fetch_group(req, gi->group_id, all, names, idx, counts, nt, &ft, &n) != 0)
      return -1;
    if (own_alloc(req, (size_t)n, sizeof(*go->topics), (void **)&go->topics) != 0)
      return -1;
    go->topics_count = n;
    for (int32_t i = 0; i < n; i++) {
      kp_offset_fetch_response_topics *to = &go->topics[i];
      kp_offset_fetch_response_topics_init_defaults(to);
      to->name = ft[i].name;
      if (own_alloc(req, (size_t)ft[i].n, sizeof(*to->partitions),
                    (void **)&to->partitions) != 0)
        return -1;
      to->partitions_count = ft[i].n;
      for (int32_t j = 0; j < ft[i].n; j++) {
        kp_offset_fetch_response_partitions *po = &to->partitions[j];
        kp_offset_fetch_response_partitions_init_defaults(po);
        po->partition_index = ft[i].parts[j].partition;
        po->committed_offset = ft[i].parts[j].offset;
        po->committed_leader_epoch = ft[i].parts[j].leader_epoch;
        po->metadata = ft[i].parts[j].metadata;
        po->error_code = ft[i].parts[j].error;
      }
    }
  }
  return 0;
}

void sd_handle_offset_fetch(sd_req *req) {
  const kp_offset_fetch_request *rq = req->body;
  kp_offset_fetch_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_offset_fetch_response_init_defaults(resp);
  /* require_stable (v7+): no transactional offset commits exist here, so
   * nothing is ever pending and no partition is UNSTABLE_OFFSET_COMMIT. */
  int rc = req->version >= 8 ? fetch_groups(req, rq, resp) : fetch_classic(req, rq, resp);
  if (rc != 0)
    return; /* the request was aborted */
  sd_req_respond(req, resp);
}

/* ---- OffsetDelete ---------------------------------------------------- */

void sd_handle_offset_delete(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_offset_delete_request *rq = req->body;
  kp_offset_delete_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_offset_delete_response_init_defaults(resp);
  int32_t nt = rq->topics_count > 0 ? rq->topics_count : 0;
  if (sd_req_alloc(req, (size_t)nt, sizeof(*resp->topics), (void **)&resp->topics) != 0)
    return;
  resp->topics_count = nt;
  int16_t top = SD_KERR_NONE;
  for (int32_t i = 0; i < nt; i++) {
    const kp_offset_delete_request_topic *ti = &rq->topics[i];
    kp_offset_delete_response_topic *to = &resp->topics[i];
    kp_offset_delete_response_topic_init_defaults(to);
    to->name = ti->name;
    int32_t np = ti->partitions_count > 0 ? ti->partitions_count : 0;
    if (sd_req_alloc(req, (size_t)np, sizeof(*to->partitions),
                     (void **)&to->partitions) != 0)
      return;
    to->partitions_count = np;
    int16_t terr = SD_KERR_NONE;
    if (top == SD_KERR_NONE) {
      terr = sd_groups_check_offset_delete(b, rq->group_id, ti->name);
      if (terr != SD_KERR_NONE && terr != SD_KERR_GROUP_SUBSCRIBED_TO_TOPIC) {
        top = terr; /* GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, coordinator errors */
        terr = SD_KERR_NONE;
      }
    }
    for (int32_t j = 0; j < np; j++) {
      kp_offset_delete_response_partition *po = &to->partitions[j];
      po->partition_index = ti->partitions[j].partition_index;
      if (!partition_known(b, ti->name, po->partition_index))
        po->error_code = SD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
      else
        po->error_code = terr;
    }
  }
  if (top != SD_KERR_NONE) {
    resp->error_code = top;
    resp->topics_count = 0;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  sd_ogroup *g = sd_offsets_group(b->offsets, rq->group_id);
  sd_orecs recs;
  sd_orecs_init(&recs);
  int rc = 0;
  for (int32_t i = 0; i < nt && rc == 0; i++)
    for (int32_t j = 0; j < resp->topics[i].partitions_count && rc == 0; j++) {
      const kp_offset_delete_response_partition *po = &resp->topics[i].partitions[j];
      if (po->error_code == SD_KERR_NONE &&
          sd_offsets_entry(g, rq->topics[i].name, po->partition_index) != NULL)
        rc = sd_orecs_add_offset(&recs, rq->group_id, rq->topics[i].name,
                                 po->partition_index, NULL);
    }
  if (rc == 0 && recs.n > 0)
    rc = sd_offsets_append(b, rq->group_id, &recs);
  sd_orecs_release(&recs);
  if (rc != 0) {
    resp->error_code = commit_error_of(rc);
    resp->topics_count = 0;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  for (int32_t i = 0; i < nt; i++)
    for (int32_t j = 0; j < resp->topics[i].partitions_count; j++) {
      const kp_offset_delete_response_partition *po = &resp->topics[i].partitions[j];
      if (po->error_code == SD_KERR_NONE)
        sd_offsets_remove(g, rq->topics[i].name, po->partition_index);
      else
        sd_req_count_error(req);
    }
  /* Kafka's cleanupGroupMetadata: an Empty group left without offsets dies. */
  if (g != NULL && g->count == 0 && sd_offsets_meta_empty(g)) {
    if (g->meta == NULL)
      sd_offsets_group_drop(b->offsets, g);
    sd_groups_offsets_gone(b, rq->group_id);
  }
  sd_req_respond(req, resp);
}
