/*
 * offsets_rec.c - encoding and decoding of __consumer_offsets keys and
 * OffsetCommitValue records with Kafka's int16 version prefix, and Kafka's
 * partitioning of group ids (Java String.hashCode).  See offsets_rec.h;
 * docs/GROUPS.md, "Storage".
 */
#include "offsets_rec.h"

#include <string.h>

#include "kp_records.h"

static int prefixed(sl_buf *w, int16_t version) {
  sl_buf_i16(w, version);
  return w->err;
}

int sd_okey_encode_offset(sl_buf *w, kp_str group, kp_str topic, int32_t partition) {
  kp_offset_commit_key k;
  kp_offset_commit_key_init_defaults(&k);
  k.group = group;
  k.topic = topic;
  k.partition = partition;
  size_t start = w->len;
  int rc = prefixed(w, SD_OC_KEY_VERSION);
  if (rc == 0)
    rc = kp_offset_commit_key_encode(w, SD_OC_KEY_VERSION, &k);
  if (rc != 0)
    w->len = start;
  return rc;
}

int sd_okey_encode_group(sl_buf *w, kp_str group) {
  kp_group_metadata_key k;
  kp_group_metadata_key_init_defaults(&k);
  k.group = group;
  size_t start = w->len;
  int rc = prefixed(w, SD_GM_KEY_VERSION);
  if (rc == 0)
    rc = kp_group_metadata_key_encode(w, SD_GM_KEY_VERSION, &k);
  if (rc != 0)
    w->len = start;
  return rc;
}

int sd_oval_encode(sl_buf *w, const sd_oval *v) {
  kp_offset_commit_value o;
  kp_offset_commit_value_init_defaults(&o);
  o.offset = v->offset;
  o.leader_epoch = v->leader_epoch;
  o.metadata = v->metadata.len < 0 ? KP_STR("") : v->metadata;
  o.commit_timestamp = v->commit_ts;
  o.expire_timestamp = v->expire_ts;
  int16_t version = v->expire_ts != -1 ? SD_OC_VALUE_VERSION_EXPIRE : SD_OC_VALUE_VERSION;
  size_t start = w->len;
  int rc = prefixed(w, version);
  if (rc == 0)
    rc = kp_offset_commit_value_encode(w, version, &o);
  if (rc != 0)
    w->len = start;
  return rc;
}

int sd_okey_decode(const uint8_t *p, size_t len, sd_okey *out) {
  memset(out, 0, sizeof(*out));
  sl_rbuf r;
  sl_rbuf_init(&r, p, len);
  int16_t version = sl_rbuf_i16(&r);
  int rc = sl_rbuf_err(&r);
  if (rc != 0)
    return rc;
  if (version < 0)
    return SL_EUNSUPPORTED;
  out->version = version;
  kp_arena a;
  kp_arena_init(&a, 1024);
  if (version <= 1) {
    kp_offset_commit_key k;
    rc = kp_offset_commit_key_decode(&r, version, &a, &k);
    out->kind = SD_OKEY_OFFSET;
    out->group = k.group;
    out->topic = k.topic;
    out->partition = k.partition;
  } else if (version == 2) {
    kp_group_metadata_key k;
    rc = kp_group_metadata_key_decode(&r, version, &a, &k);
    out->kind = SD_OKEY_GROUP;
    out->group = k.group;
  } else {
    out->kind = SD_OKEY_OTHER;
    kp_arena_release(&a);
    return 0;
  }
  kp_arena_release(&a);
  if (rc == 0 && sl_rbuf_left(&r) != 0)
    rc = SL_ECORRUPT;
  if (rc == 0 &&
      (out->group.len < 0 || (out->kind == SD_OKEY_OFFSET && out->topic.len < 0)))
    rc = SL_ECORRUPT;
  return rc;
}

int sd_oval_decode(const uint8_t *p, size_t len, kp_arena *a, sd_oval *out) {
  memset(out, 0, sizeof(*out));
  sl_rbuf r;
  sl_rbuf_init(&r, p, len);
  int16_t version = sl_rbuf_i16(&r);
  int rc = sl_rbuf_err(&r);
  if (rc != 0)
    return rc;
  if (version < 0)
    return SL_EUNSUPPORTED;
  /* KIP-915: versions after the last known one only add tagged fields. */
  const kp_record *rec = kp_record_find("OffsetCommitValue");
  if (rec != NULL && version > rec->max_version)
    version = rec->max_version;
  kp_offset_commit_value o;
  rc = kp_offset_commit_value_decode(&r, version, a, &o);
  if (rc != 0)
    return rc;
  if (sl_rbuf_left(&r) != 0)
    return SL_ECORRUPT;
  out->offset = o.offset;
  out->leader_epoch = o.leader_epoch;
  out->metadata = o.metadata;
  out->commit_ts = o.commit_timestamp;
  out->expire_ts = version == 1 ? o.expire_timestamp : -1;
  return 0;
}

/*
 * Java's UTF-8 decoder: calls emit(code point) per character, U+FFFD for each
 * maximal malformed subpart (Unicode's recommended practice, which the JDK
 * follows).
 */
typedef struct java_acc {
  int32_t hash;
  size_t units;
} java_acc;

static void java_add_unit(java_acc *acc, uint32_t unit) {
  acc->hash = (int32_t)((uint32_t)acc->hash * 31u + unit);
  acc->units++;
}

static void java_add_cp(java_acc *acc, uint32_t cp) {
  if (cp >= 0x10000) {
    cp -= 0x10000;
    java_add_unit(acc, 0xD800 + (cp >> 10));
    java_add_unit(acc, 0xDC00 + (cp & 0x3FF));
  } else {
    java_add_unit(acc, cp);
  }
}

static void java_decode(const char *s, size_t len, java_acc *acc) {
  const uint8_t *p = (const uint8_t *)s;
  size_t i = 0;
  while (i < len) {
    uint8_t c = p[i];
    if (c < 0x80) {
      java_add_cp(acc, c);
      i++;
      continue;
    }
    int need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      cp = c & 0x0F;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      cp = c & 0x07;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      java_add_cp(acc, 0xFFFD); /* not a lead byte */
      i++;
      continue;
    }
    size_t j = i + 1;
    int got = 0;
    while (got < need && j < len) {
      uint8_t b = p[j];
      uint8_t l = got == 0 ? lo : 0x80, h = got == 0 ? hi : 0xBF;
      if (b < l || b > h)
        break;
      cp = (cp << 6) | (b & 0x3F);
      got++;
      j++;
    }
    java_add_cp(acc, got == need ? cp : 0xFFFD);
    i = j;
  }
}

int32_t sd_java_string_hash(const char *p, size_t len) {
  java_acc acc = {0, 0};
  java_decode(p, len, &acc);
  return acc.hash;
}

size_t sd_java_string_length(const char *p, size_t len) {
  java_acc acc = {0, 0};
  java_decode(p, len, &acc);
  return acc.units;
}

int32_t sd_offsets_partition_of(kp_str group, int32_t n_partitions) {
  if (n_partitions <= 0)
    return 0;
  int32_t h = sd_java_string_hash(group.ptr, group.len > 0 ? (size_t)group.len : 0);
  int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
  return a % n_partitions;
}
