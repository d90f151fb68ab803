/*
 * group_store.c - Kafka's GroupMetadataValue record (the value of a group's
 * metadata record in __consumer_offsets; schema GroupMetadataValue.json,
 * versions 0-4, flexible from 4): encoding at version 3 (what Kafka writes)
 * from a group's state, and decoding of every version for replay, through
 * the bounds-checked sl_buf/sl_rbuf.  docs/GROUPS.md, "Membership:
 * persistence".
 */
#include "group_store.h"

#include <stdlib.h>
#include <string.h>

#include "seglog/bytes.h"

/* ---- encoding (version 3: classic strings, int32 array counts) ---------- */

static void put_str(sl_buf *w, const char *p, int32_t len) {
  if (p == NULL || len < 0) {
    sl_buf_i16(w, -1);
    return;
  }
  sl_buf_i16(w, (int16_t)len);
  sl_buf_append(w, p, (size_t)len);
}

static void put_bytes(sl_buf *w, const uint8_t *p, int32_t len) {
  sl_buf_i32(w, len < 0 ? 0 : len);
  if (len > 0)
    sl_buf_append(w, p, (size_t)len);
}

static bool str_ok(const sdg_str *s) {
  return s->p == NULL || (s->len >= 0 && s->len <= INT16_MAX);
}

int sdg_store_encode(const sdg_group *g, uint8_t **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  if (!str_ok(&g->protocol_type) || !str_ok(&g->protocol_name))
    return SL_ETOO_LARGE;
  sl_buf w;
  sl_buf_init(&w);
  sl_buf_i16(&w, SDG_STORE_VERSION);
  const sdg_str *pt = &g->protocol_type;
  put_str(&w, pt->p ? pt->p : "", pt->p ? pt->len : 0); /* not nullable */
  sl_buf_i32(&w, g->generation);
  put_str(&w, g->protocol_name.p, g->protocol_name.len);
  if (g->leader != NULL)
    put_str(&w, g->leader->id.p, g->leader->id.len);
  else
    put_str(&w, NULL, -1);
  sl_buf_i64(&w, g->state_ts_ms);
  sl_buf_i32(&w, g->n_members);
  for (const sdg_member *m = g->members; m != NULL; m = m->next) {
    if (!str_ok(&m->id) || !str_ok(&m->instance_id) || !str_ok(&m->client_id) ||
        !str_ok(&m->client_host)) {
      sl_buf_release(&w);
      return SL_ETOO_LARGE;
    }
    put_str(&w, m->id.p, m->id.len);
    put_str(&w, m->instance_id.p, m->instance_id.len);
    put_str(&w, m->client_id.p ? m->client_id.p : "",
            m->client_id.p ? m->client_id.len : 0);
    put_str(&w, m->client_host.p ? m->client_host.p : "",
            m->client_host.p ? m->client_host.len : 0);
    sl_buf_i32(&w, m->rebalance_ms);
    sl_buf_i32(&w, m->session_ms);
    const sdg_protocol *sub = NULL;
    for (int32_t i = 0; i < m->n_protos && g->protocol_name.p != NULL; i++)
      if (m->protos[i].name.len == g->protocol_name.len &&
          memcmp(m->protos[i].name.p, g->protocol_name.p, (size_t)g->protocol_name.len) ==
              0)
        sub = &m->protos[i];
    put_bytes(&w, sub ? sub->meta : NULL, sub ? sub->meta_len : 0);
    put_bytes(&w, m->assign, m->assign_len);
  }
  if (w.err != 0) {
    int rc = w.err;
    sl_buf_release(&w);
    return rc;
  }
  *out = sl_buf_detach(&w, out_len);
  return *out != NULL ? SL_OK : SL_ENOMEM;
}

/* ---- decoding (versions 0-4) -------------------------------------------- */

typedef struct rd {
  sl_rbuf r;
  bool flexible;
  bool bad;
} rd;

static int32_t rd_len(rd *d, bool bytes) {
  if (d->flexible) {
    uint32_t u = sl_rbuf_uvarint(&d->r);
    if (sl_rbuf_err(&d->r) != 0 || u > (uint32_t)INT32_MAX) {
      d->bad = true;
      return -2;
    }
    return (int32_t)u - 1;
  }
  int32_t n = bytes ? sl_rbuf_i32(&d->r) : sl_rbuf_i16(&d->r);
  if (sl_rbuf_err(&d->r) != 0 || n < -1) {
    d->bad = true;
    return -2;
  }
  return n;
}

static kp_str rd_str(rd *d, bool nullable) {
  int32_t n = rd_len(d, false);
  if (d->bad)
    return KP_STR_NULL;
  if (n < 0) {
    if (!nullable)
      d->bad = true;
    return KP_STR_NULL;
  }
  const uint8_t *p = sl_rbuf_bytes(&d->r, (size_t)n);
  if (p == NULL || sl_rbuf_err(&d->r) != 0) {
    d->bad = true;
    return KP_STR_NULL;
  }
  return (kp_str){n > 0 ? (const char *)p : "", n};
}

static kp_bytes rd_bytes(rd *d) {
  int32_t n = rd_len(d, true);
  if (d->bad || n < 0) {
    d->bad = true; /* not nullable */
    return KP_BYTES_NULL;
  }
  const uint8_t *p = sl_rbuf_bytes(&d->r, (size_t)n);
  if (p == NULL || sl_rbuf_err(&d->r) != 0) {
    d->bad = true;
    return KP_BYTES_NULL;
  }
  return (kp_bytes){n > 0 ? p : (const uint8_t *)"", n};
}

static void rd_tags(rd *d) {
  if (!d->flexible || d->bad)
    return;
  uint32_t n = sl_rbuf_uvarint(&d->r);
  for (uint32_t i = 0; i < n && !d->bad; i++) {
    (void)sl_rbuf_uvarint(&d->r);
    uint32_t size = sl_rbuf_uvarint(&d->r);
    if (sl_rbuf_err(&d->r) != 0 || size > sl_rbuf_left(&d->r)) {
      d->bad = true;
      return;
    }
    sl_rbuf_skip(&d->r, size);
  }
  if (sl_rbuf_err(&d->r) != 0)
    d->bad = true;
}

int sdg_store_decode(const uint8_t *v, size_t len, sdg_stored_group *out,
                     sdg_stored_member **members) {
  memset(out, 0, sizeof(*out));
  *members = NULL;
  rd d = {.bad = false};
  sl_rbuf_init(&d.r, v, len);
  int16_t version = sl_rbuf_i16(&d.r);
  if (sl_rbuf_err(&d.r) != 0 || version < 0 || version > 4)
    return -1;
  d.flexible = version >= 4;
  out->protocol_type = rd_str(&d, false);
  out->generation = sl_rbuf_i32(&d.r);
  out->protocol_name = rd_str(&d, true);
  out->leader = rd_str(&d, true);
  out->state_ts_ms = version >= 2 ? sl_rbuf_i64(&d.r) : -1;
  int32_t n;
  if (d.flexible) {
    uint32_t u = sl_rbuf_uvarint(&d.r);
    n = u == 0 || u > (uint32_t)INT32_MAX ? -1 : (int32_t)u - 1;
  } else {
    n = sl_rbuf_i32(&d.r);
  }
  /* Each member takes at least 4 strings + 2 int32 + 2 bytes: 16 bytes. */
  if (d.bad || sl_rbuf_err(&d.r) != 0 || n < 0 || (size_t)n > sl_rbuf_left(&d.r) / 8)
    return -1;
  sdg_stored_member *ms = n > 0 ? calloc((size_t)n, sizeof(*ms)) : NULL;
  if (n > 0 && ms == NULL)
    return -1;
  for (int32_t i = 0; i < n && !d.bad; i++) {
    sdg_stored_member *m = &ms[i];
    m->member_id = rd_str(&d, false);
    m->instance_id = version >= 3 ? rd_str(&d, true) : KP_STR_NULL;
    m->client_id = rd_str(&d, false);
    m->client_host = rd_str(&d, false);
    m->rebalance_ms = version >= 1 ? sl_rbuf_i32(&d.r) : -1;
    m->session_ms = sl_rbuf_i32(&d.r);
    m->subscription = rd_bytes(&d);
    m->assignment = rd_bytes(&d);
    rd_tags(&d);
  }
  rd_tags(&d);
  if (d.bad || sl_rbuf_err(&d.r) != 0) {
    free(ms);
    return -1;
  }
  out->members = ms;
  out->n_members = n;
  *members = ms;
  return 0;
}
