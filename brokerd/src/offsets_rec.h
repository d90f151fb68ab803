/*
 * offsets_rec.h - the records of __consumer_offsets as Kafka's classic group
 * coordinator writes them (GroupMetadataManager / GroupCoordinatorRecordSerde):
 * key = int16 version + key struct, value = int16 version + value struct,
 * through the generated record codecs (kp_records.h).  Key version 0-1 is an
 * OffsetCommitKey, 2 a GroupMetadataKey, 3+ the newer coordinator's records
 * (recognised, ignored).  Also Kafka's partitioning of group ids.  Pure
 * functions (no broker state): unit-tested and fuzzable on bytes.
 * docs/GROUPS.md, "Storage".
 */
#ifndef SD_OFFSETS_REC_H
#define SD_OFFSETS_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_runtime.h"
#include "seglog/bytes.h"

/* The version each record is written with (Kafka 2.3+ without expire
 * timestamps: OffsetCommitValue v3, v1 when the commit carried a retention
 * time; GroupMetadataValue v3). */
#define SD_OC_KEY_VERSION 1
#define SD_GM_KEY_VERSION 2
#define SD_OC_VALUE_VERSION 3
#define SD_OC_VALUE_VERSION_EXPIRE 1
#define SD_GM_VALUE_VERSION 3

typedef enum sd_okey_kind {
  SD_OKEY_OFFSET = 1, /* OffsetCommitKey: group, topic, partition */
  SD_OKEY_GROUP = 2,  /* GroupMetadataKey: group */
  SD_OKEY_OTHER = 3,  /* a record of the new group coordinator (ignored) */
} sd_okey_kind;

typedef struct sd_okey {
  sd_okey_kind kind;
  int16_t version;
  kp_str group; /* borrowed from the key bytes */
  kp_str topic; /* SD_OKEY_OFFSET */
  int32_t partition;
} sd_okey;

/* One committed offset (an OffsetCommitValue). */
typedef struct sd_oval {
  int64_t offset;
  int32_t leader_epoch; /* -1: none */
  kp_str metadata;      /* never null ("" for none) */
  int64_t commit_ts;
  int64_t expire_ts; /* -1: none (value v1 only) */
} sd_oval;

/* Appends the version-prefixed keys/value to w.  0 or an SL_E* code. */
int sd_okey_encode_offset(sl_buf *w, kp_str group, kp_str topic, int32_t partition);
int sd_okey_encode_group(sl_buf *w, kp_str group);
/* Value v3, or v1 when expire_ts != -1 (Kafka's choice for commits with a
 * retention time). */
int sd_oval_encode(sl_buf *w, const sd_oval *v);

/*
 * Decodes a key (the whole key bytes; trailing bytes are SL_ECORRUPT).
 * Strings borrow from `p`.  SL_ECORRUPT/SL_ETRUNCATED for malformed keys,
 * SL_EUNSUPPORTED for a negative version.
 */
int sd_okey_decode(const uint8_t *p, size_t len, sd_okey *out);
/* Decodes an OffsetCommitValue (any version 0-4; later versions are read as
 * v4, whose fields they must start with, as Kafka does).  Strings borrow from
 * p; the arena `a` is unused by this schema but required by the codec. */
int sd_oval_decode(const uint8_t *p, size_t len, kp_arena *a, sd_oval *out);

/*
 * Java's String.hashCode of a group id given as UTF-8 (the wire encoding):
 * the bytes are decoded as Java's UTF-8 decoder does (malformed sequences
 * become U+FFFD, one per maximal subpart), supplementary characters count as
 * two UTF-16 code units.
 */
int32_t sd_java_string_hash(const char *p, size_t len);
/* The number of UTF-16 code units of a UTF-8 string (Java's length()). */
size_t sd_java_string_length(const char *p, size_t len);
/* Kafka's Utils.abs(hash) % n (abs(INT32_MIN) = 0). */
int32_t sd_offsets_partition_of(kp_str group, int32_t n_partitions);

#endif
