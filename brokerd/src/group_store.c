/*
 * group_store.c - Kafka's GroupMetadataValue record (the value of a group's
 * metadata record in __consumer_offsets; schema GroupMetadataValue.json,
 * versions 0-4, flexible from 4), through the generated record codec
 * (kp_rec_group_metadata_value.h): encoding at version 3 (what Kafka writes)
 * from a group's state, decoding of every version for replay.
 * docs/GROUPS.md, "Persistence".
 */
#include "group_store.h"

#include <stdlib.h>
#include <string.h>

#include "kp_rec_group_metadata_value.h"
#include "seglog/bytes.h"

static kp_str kstr(const sdg_str *s) {
  return (kp_str){s->p, s->len};
}

static kp_str kstr_nonnull(const sdg_str *s) {
  return s->p ? (kp_str){s->p, s->len} : KP_STR("");
}

int sdg_store_encode(const sdg_group *g, uint8_t **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  kp_group_metadata_value v;
  kp_group_metadata_value_init_defaults(&v);
  v.protocol_type = kstr_nonnull(&g->protocol_type);
  v.generation = g->generation;
  v.protocol = kstr(&g->protocol_name);
  v.leader = g->leader ? kstr(&g->leader->id) : KP_STR_NULL;
  v.current_state_timestamp = g->state_ts_ms;
  kp_group_metadata_value_member_metadata *ms = NULL;
  if (g->n_members > 0) {
    ms = calloc((size_t)g->n_members, sizeof(*ms));
    if (ms == NULL)
      return SL_ENOMEM;
  }
  int32_t i = 0;
  for (const sdg_member *m = g->members; m != NULL; m = m->next, i++) {
    kp_group_metadata_value_member_metadata *o = &ms[i];
    kp_group_metadata_value_member_metadata_init_defaults(o);
    o->member_id = kstr(&m->id);
    o->group_instance_id = kstr(&m->instance_id);
    o->client_id = kstr_nonnull(&m->client_id);
    o->client_host = kstr_nonnull(&m->client_host);
    o->rebalance_timeout = m->rebalance_ms;
    o->session_timeout = m->session_ms;
    o->subscription = (kp_bytes){(const uint8_t *)"", 0};
    for (int32_t k = 0; k < m->n_protos && g->protocol_name.p != NULL; k++)
      if (m->protos[k].name.len == g->protocol_name.len &&
          memcmp(m->protos[k].name.p, g->protocol_name.p, (size_t)g->protocol_name.len) ==
              0)
        o->subscription = (kp_bytes){m->protos[k].meta, m->protos[k].meta_len};
    o->assignment = m->assign ? (kp_bytes){m->assign, m->assign_len}
                              : (kp_bytes){(const uint8_t *)"", 0};
  }
  v.members = ms;
  v.members_count = g->n_members;
  sl_buf w;
  sl_buf_init(&w);
  int rc = sl_buf_i16(&w, SDG_STORE_VERSION);
  if (rc == SL_OK)
    rc = kp_group_metadata_value_encode(&w, SDG_STORE_VERSION, &v);
  if (rc == SL_OK && w.err != 0)
    rc = w.err;
  free(ms);
  if (rc != SL_OK) {
    sl_buf_release(&w);
    return rc;
  }
  *out = sl_buf_detach(&w, out_len);
  return *out != NULL ? SL_OK : SL_ENOMEM;
}

int sdg_store_decode(const uint8_t *v, size_t len, kp_arena *arena,
                     sdg_stored_group *out) {
  memset(out, 0, sizeof(*out));
  sl_rbuf r;
  sl_rbuf_init(&r, v, len);
  int16_t version = sl_rbuf_i16(&r);
  if (sl_rbuf_err(&r) != 0 || version < 0 || version > 4)
    return -1;
  kp_group_metadata_value gv;
  if (kp_group_metadata_value_decode(&r, version, arena, &gv) != 0 ||
      gv.members_count < 0)
    return -1;
  sdg_stored_member *ms = NULL;
  if (gv.members_count > 0 &&
      kp_arena_alloc(arena, (size_t)gv.members_count, sizeof(*ms), (void **)&ms) != 0)
    return -1;
  for (int32_t i = 0; i < gv.members_count; i++) {
    const kp_group_metadata_value_member_metadata *m = &gv.members[i];
    ms[i].member_id = m->member_id;
    ms[i].instance_id = m->group_instance_id;
    ms[i].client_id = m->client_id;
    ms[i].client_host = m->client_host;
    ms[i].rebalance_ms = m->rebalance_timeout;
    ms[i].session_ms = m->session_timeout;
    ms[i].subscription = m->subscription;
    ms[i].assignment = m->assignment;
  }
  out->protocol_type = gv.protocol_type;
  out->generation = gv.generation;
  out->protocol_name = gv.protocol;
  out->leader = gv.leader;
  out->state_ts_ms = gv.current_state_timestamp;
  out->members = ms;
  out->n_members = gv.members_count;
  return 0;
}
