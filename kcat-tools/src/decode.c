/*
 * decode.c - readable fields for the records of Kafka's internal topics, as
 * kafka-dump-log's --offsets-decoder and --transaction-log-decoder show them:
 * __consumer_offsets keys (OffsetCommitKey v0/1, GroupMetadataKey v2) and
 * values (OffsetCommitValue v0-4, GroupMetadataValue v0-4), and
 * __transaction_state (TransactionLogKey v0, TransactionLogValue v0-1).
 * Flexible versions (compact strings and arrays, tagged fields) are handled.
 * Every field goes through sl_rbuf; anything malformed is reported as such,
 * never trusted.  Output is one JSON object per key and value
 * (docs/CLI.md, "dump").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "decode.h"
#include "seglog/batch.h"
#include "slclient/envelope.h"

typedef struct kr {
  sl_rbuf r;
  bool flexible;
} kr;

/* A (nullable) string: int16 length, or compact uvarint length + 1. */
static int kr_string(kr *k, const uint8_t **p, int32_t *len) {
  int64_t n;
  if (k->flexible) {
    n = (int64_t)sl_rbuf_uvarint(&k->r) - 1;
  } else {
    n = sl_rbuf_i16(&k->r);
  }
  if (sl_rbuf_err(&k->r))
    return -1;
  if (n < 0) {
    *p = NULL;
    *len = -1;
    return 0;
  }
  *p = sl_rbuf_bytes(&k->r, (size_t)n);
  *len = (int32_t)n;
  return *p ? 0 : -1;
}

static int64_t kr_array_len(kr *k) {
  if (k->flexible)
    return (int64_t)sl_rbuf_uvarint(&k->r) - 1;
  return sl_rbuf_i32(&k->r);
}

static int64_t kr_bytes_len(kr *k) {
  if (k->flexible)
    return (int64_t)sl_rbuf_uvarint(&k->r) - 1;
  return sl_rbuf_i32(&k->r);
}

static void kr_skip_tags(kr *k) {
  if (!k->flexible)
    return;
  uint32_t n = sl_rbuf_uvarint(&k->r);
  for (uint32_t i = 0; i < n && !sl_rbuf_err(&k->r); i++) {
    (void)sl_rbuf_uvarint(&k->r);
    uint32_t size = sl_rbuf_uvarint(&k->r);
    sl_rbuf_skip(&k->r, size);
  }
}

static void put_str(sl_buf *o, const char *name, const uint8_t *p, int32_t len,
                    bool comma) {
  char tmp[64];
  snprintf(tmp, sizeof(tmp), "%s\"%s\":", comma ? "," : "", name);
  sl_buf_append(o, tmp, strlen(tmp));
  sc_json_bytes(o, p, len);
}

static void put_i64(sl_buf *o, const char *name, int64_t v, bool comma) {
  char tmp[96];
  int n = snprintf(tmp, sizeof(tmp), "%s\"%s\":%" PRId64, comma ? "," : "", name, v);
  sl_buf_append(o, tmp, (size_t)n);
}

static int bad(sl_buf *o, const char *what) {
  char tmp[128];
  int n = snprintf(tmp, sizeof(tmp), "{\"error\":\"malformed %s\"}", what);
  sl_buf_append(o, tmp, (size_t)n);
  return -1;
}

static int offsets_key(const uint8_t *p, int32_t len, sl_buf *o) {
  kr k = {{0}, false};
  const uint8_t *g, *t;
  int32_t gl, tl;
  if (len < 0)
    return bad(o, "key (null)");
  sl_rbuf_init(&k.r, p, (size_t)len);
  int16_t v = sl_rbuf_i16(&k.r);
  if (v == 0 || v == 1) {
    if (kr_string(&k, &g, &gl) || kr_string(&k, &t, &tl))
      return bad(o, "OffsetCommitKey");
    int32_t part = sl_rbuf_i32(&k.r);
    if (sl_rbuf_err(&k.r))
      return bad(o, "OffsetCommitKey");
    sl_buf_u8(o, '{');
    put_i64(o, "type", v, false);
    sl_buf_append(o, ",\"data\":{", 9);
    put_str(o, "group", g, gl, false);
    put_str(o, "topic", t, tl, true);
    put_i64(o, "partition", part, true);
    sl_buf_append(o, "}}", 2);
    return 0;
  }
  if (v == 2) {
    if (kr_string(&k, &g, &gl))
      return bad(o, "GroupMetadataKey");
    sl_buf_append(o, "{\"type\":2,\"data\":{", 18);
    put_str(o, "group", g, gl, false);
    sl_buf_append(o, "}}", 2);
    return 0;
  }
  char tmp[96];
  int n = snprintf(tmp, sizeof(tmp), "{\"type\":%d,\"data\":\"not decoded\"}", (int)v);
  sl_buf_append(o, tmp, (size_t)n);
  return 0;
}

static int offsets_value(int16_t key_type, const uint8_t *p, int32_t len, sl_buf *o) {
  if (len < 0) {
    sl_buf_append(o, "null", 4); /* tombstone: offset or group deleted */
    return 0;
  }
  kr k = {{0}, false};
  sl_rbuf_init(&k.r, p, (size_t)len);
  int16_t v = sl_rbuf_i16(&k.r);
  const uint8_t *s;
  int32_t sl;
  char tmp[64];
  int n = snprintf(tmp, sizeof(tmp), "{\"version\":%d,\"data\":{", (int)v);
  sl_buf_append(o, tmp, (size_t)n);
  if (key_type == 0 || key_type == 1) {
    k.flexible = v >= 4;
    put_i64(o, "offset", sl_rbuf_i64(&k.r), false);
    if (v >= 3)
      put_i64(o, "leaderEpoch", sl_rbuf_i32(&k.r), true);
    if (kr_string(&k, &s, &sl))
      return bad(o, "OffsetCommitValue");
    put_str(o, "metadata", s, sl, true);
    put_i64(o, "commitTimestamp", sl_rbuf_i64(&k.r), true);
    if (v == 1)
      put_i64(o, "expireTimestamp", sl_rbuf_i64(&k.r), true);
    kr_skip_tags(&k);
  } else if (key_type == 2) {
    k.flexible = v >= 4;
    const uint8_t *pt, *pr, *ld;
    int32_t ptl, prl, ldl;
    if (kr_string(&k, &pt, &ptl))
      return bad(o, "GroupMetadataValue");
    int32_t gen = sl_rbuf_i32(&k.r);
    if (kr_string(&k, &pr, &prl) || kr_string(&k, &ld, &ldl))
      return bad(o, "GroupMetadataValue");
    put_str(o, "protocolType", pt, ptl, false);
    put_i64(o, "generation", gen, true);
    put_str(o, "protocol", pr, prl, true);
    put_str(o, "leader", ld, ldl, true);
    if (v >= 2)
      put_i64(o, "currentStateTimestamp", sl_rbuf_i64(&k.r), true);
    int64_t members = kr_array_len(&k);
    if (sl_rbuf_err(&k.r) || members > (int64_t)sl_rbuf_left(&k.r))
      return bad(o, "GroupMetadataValue members");
    sl_buf_append(o, ",\"members\":[", 12);
    for (int64_t i = 0; i < members && !sl_rbuf_err(&k.r); i++) {
      const uint8_t *mid, *gid = NULL, *cid, *ch;
      int32_t midl, gidl = -1, cidl, chl;
      if (kr_string(&k, &mid, &midl))
        return bad(o, "member");
      if (v >= 3 && kr_string(&k, &gid, &gidl))
        return bad(o, "member");
      if (kr_string(&k, &cid, &cidl) || kr_string(&k, &ch, &chl))
        return bad(o, "member");
      int32_t rebalance = v >= 1 ? sl_rbuf_i32(&k.r) : -1;
      int32_t session = sl_rbuf_i32(&k.r);
      int64_t sub = kr_bytes_len(&k);
      sl_rbuf_skip(&k.r, sub > 0 ? (size_t)sub : 0);
      int64_t asg = kr_bytes_len(&k);
      sl_rbuf_skip(&k.r, asg > 0 ? (size_t)asg : 0);
      kr_skip_tags(&k);
      if (sl_rbuf_err(&k.r))
        return bad(o, "member");
      sl_buf_append(o, i ? ",{" : "{", i ? 2 : 1);
      put_str(o, "memberId", mid, midl, false);
      put_str(o, "groupInstanceId", gid, gidl, true);
      put_str(o, "clientId", cid, cidl, true);
      put_str(o, "clientHost", ch, chl, true);
      put_i64(o, "rebalanceTimeout", rebalance, true);
      put_i64(o, "sessionTimeout", session, true);
      put_i64(o, "subscriptionBytes", sub, true);
      put_i64(o, "assignmentBytes", asg, true);
      sl_buf_u8(o, '}');
    }
    sl_buf_u8(o, ']');
    kr_skip_tags(&k);
  } else {
    sl_buf_append(o, "}}", 2);
    return 0;
  }
  if (sl_rbuf_err(&k.r))
    return bad(o, "value");
  sl_buf_append(o, "}}", 2);
  return 0;
}

static const char *txn_status(int8_t s) {
  static const char *names[] = {"Empty",        "Ongoing",          "PrepareCommit",
                                "PrepareAbort", "CompleteCommit",   "CompleteAbort",
                                "Dead",         "PrepareEpochFence"};
  return s >= 0 && s < 8 ? names[s] : "Unknown";
}

static int txn_value(const uint8_t *p, int32_t len, sl_buf *o) {
  if (len < 0) {
    sl_buf_append(o, "null", 4);
    return 0;
  }
  kr k = {{0}, false};
  sl_rbuf_init(&k.r, p, (size_t)len);
  int16_t v = sl_rbuf_i16(&k.r);
  k.flexible = v >= 1;
  char tmp[128];
  int n = snprintf(tmp, sizeof(tmp), "{\"version\":%d,\"data\":{", (int)v);
  sl_buf_append(o, tmp, (size_t)n);
  put_i64(o, "producerId", sl_rbuf_i64(&k.r), false);
  put_i64(o, "producerEpoch", sl_rbuf_i16(&k.r), true);
  put_i64(o, "transactionTimeoutMs", sl_rbuf_i32(&k.r), true);
  int8_t st = sl_rbuf_i8(&k.r);
  n = snprintf(tmp, sizeof(tmp), ",\"state\":\"%s\"", txn_status(st));
  sl_buf_append(o, tmp, (size_t)n);
  int64_t topics = kr_array_len(&k);
  if (sl_rbuf_err(&k.r) || topics > (int64_t)sl_rbuf_left(&k.r))
    return bad(o, "TransactionLogValue");
  sl_buf_append(o, ",\"partitions\":[", 15);
  for (int64_t i = 0; i < topics && !sl_rbuf_err(&k.r); i++) {
    const uint8_t *t;
    int32_t tl;
    if (kr_string(&k, &t, &tl))
      return bad(o, "TransactionLogValue topic");
    int64_t parts = kr_array_len(&k);
    if (sl_rbuf_err(&k.r) || parts > (int64_t)sl_rbuf_left(&k.r))
      return bad(o, "TransactionLogValue partitions");
    sl_buf_append(o, i ? ",{" : "{", i ? 2 : 1);
    put_str(o, "topic", t, tl, false);
    sl_buf_append(o, ",\"partitions\":[", 15);
    for (int64_t j = 0; j < parts && !sl_rbuf_err(&k.r); j++) {
      n = snprintf(tmp, sizeof(tmp), "%s%d", j ? "," : "", (int)sl_rbuf_i32(&k.r));
      sl_buf_append(o, tmp, (size_t)n);
    }
    sl_buf_append(o, "]}", 2);
    kr_skip_tags(&k);
  }
  sl_buf_u8(o, ']');
  put_i64(o, "lastUpdateTimestampMs", sl_rbuf_i64(&k.r), true);
  put_i64(o, "startTimestampMs", sl_rbuf_i64(&k.r), true);
  kr_skip_tags(&k);
  if (sl_rbuf_err(&k.r))
    return bad(o, "TransactionLogValue");
  sl_buf_append(o, "}}", 2);
  return 0;
}

int cli_decode_internal(cli_internal_topic t, const sl_record *r, sl_buf *key,
                        sl_buf *value) {
  if (t == CLI_TOPIC_CONSUMER_OFFSETS) {
    int16_t type = r->key_len >= 2 ? (int16_t)sl_load_be16(r->key) : -1;
    int a = offsets_key(r->key, r->key_len, key);
    int b = offsets_value(type, r->value, r->value_len, value);
    return a | b;
  }
  /* __transaction_state */
  kr k = {{0}, false};
  const uint8_t *id;
  int32_t idl;
  int a = 0;
  if (r->key_len < 0) {
    a = bad(key, "key (null)");
  } else {
    sl_rbuf_init(&k.r, r->key, (size_t)r->key_len);
    int16_t v = sl_rbuf_i16(&k.r);
    if (kr_string(&k, &id, &idl)) {
      a = bad(key, "TransactionLogKey");
    } else {
      char tmp[48];
      int n = snprintf(tmp, sizeof(tmp), "{\"version\":%d,\"data\":{", (int)v);
      sl_buf_append(key, tmp, (size_t)n);
      put_str(key, "transactionalId", id, idl, false);
      sl_buf_append(key, "}}", 2);
    }
  }
  return a | txn_value(r->value, r->value_len, value);
}

cli_internal_topic cli_internal_topic_of(const char *path) {
  if (strstr(path, "__consumer_offsets-"))
    return CLI_TOPIC_CONSUMER_OFFSETS;
  if (strstr(path, "__transaction_state-"))
    return CLI_TOPIC_TRANSACTION_STATE;
  return CLI_TOPIC_OTHER;
}
