/*
 * seglog/meta.h - the small identity and naming formats of a Kafka data dir:
 * topic name rules, partition directory names (and their -delete / -future /
 * -stray forms), Kafka UUIDs (topic ids, cluster and directory ids) in their
 * 22-character base64url form, `partition.metadata`, `meta.properties` and the
 * clean-shutdown marker `.kafka_cleanshutdown`.
 *
 * Formats are described in docs/FORMAT.md ("Log directory layout",
 * "partition.metadata", "meta.properties", "Clean shutdown marker").
 * Parsers take (ptr, len) and do no I/O; the _read/_write functions wrap them
 * with the file layer (writes replace files atomically and fsync them).
 */
#ifndef SEGLOG_META_H
#define SEGLOG_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/bytes.h"
#include "seglog/checkpoint.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_PARTITION_METADATA_FILE "partition.metadata"
#define SL_META_PROPERTIES_FILE "meta.properties"
#define SL_CLEAN_SHUTDOWN_FILE ".kafka_cleanshutdown"

/* ---- topic names ---- */

/*
 * Kafka's Topic.validate: 1..249 characters from [a-zA-Z0-9._-], and not "."
 * or "..".  Returns 0 or SL_EINVAL with the reason in diag.
 */
int sl_topic_name_validate(const char *name, size_t len, sl_diag *diag);
/* Convenience for NUL-terminated names. */
bool sl_topic_name_is_valid(const char *name);

/* ---- partition directory names ---- */

typedef enum sl_pdir_kind {
  SL_PDIR_NORMAL = 0, /* topic-N */
  SL_PDIR_DELETE,     /* topic-N.<uuid>-delete: being deleted */
  SL_PDIR_FUTURE,     /* topic-N.<uuid>-future: replica moving between dirs */
  SL_PDIR_STRAY       /* topic-N.<uuid>-stray: stray replica, to be deleted */
} sl_pdir_kind;

typedef struct sl_pdir_name {
  sl_pdir_kind kind;
  /* The topic; for suffixed kinds Kafka may have truncated it to fit 255 bytes. */
  char topic[SL_TOPIC_NAME_MAX + 1];
  int32_t partition;
  char unique_id[64]; /* the <uuid> part of suffixed kinds ("" for NORMAL) */
} sl_pdir_name;

/*
 * Parses a directory name as Kafka's LocalLog.parseTopicPartitionName does:
 * strip a `.<id>-delete|-future|-stray` suffix (the name must then match
 * `^\S+-\S+\.\S+-<suffix>$`), split the rest at the LAST '-', and read the
 * partition as a non-negative decimal int.  The topic must be a valid name.
 * SL_EINVAL (with the reason in diag) for anything else, e.g. "meta.properties"
 * or "remote-log-index-cache" would parse as topic "remote-log-index", partition
 * "cache" -> SL_EINVAL.
 */
int sl_pdir_name_parse(const char *name, sl_pdir_name *out, sl_diag *diag);
/* "topic-N" into out; SL_EINVAL for a bad name/partition or if cap is short. */
int sl_pdir_name_format(const char *topic, int32_t partition, char *out, size_t cap);
/*
 * The suffixed name "topic-N.<unique_id>-delete" (resp. -future, -stray), with
 * the topic truncated so the whole name fits in 255 bytes, as Kafka does.
 * unique_id is usually sl_uuid_hex32 of a random UUID.
 */
int sl_pdir_name_format_suffixed(const char *topic, int32_t partition, sl_pdir_kind kind,
                                 const char *unique_id, char *out, size_t cap);

/* ---- UUIDs (org.apache.kafka.common.Uuid) ---- */

typedef struct sl_uuid {
  uint8_t b[16]; /* most significant byte first */
} sl_uuid;

#define SL_UUID_STR_LEN 22 /* base64url without padding */

bool sl_uuid_is_zero(const sl_uuid *u);
bool sl_uuid_equal(const sl_uuid *a, const sl_uuid *b);
/*
 * A random id as Kafka's Uuid.randomUuid makes it: a version-4 UUID, never the
 * zero id or the reserved metadata topic id (1), and never one whose string
 * form starts with '-'.  Uses getrandom(2) (or /dev/urandom).
 */
int sl_uuid_random(sl_uuid *out, sl_diag *diag);
/* 22 chars + NUL into out (cap >= 23). */
void sl_uuid_to_string(const sl_uuid *u, char out[SL_UUID_STR_LEN + 1]);
/*
 * Parses the base64url form: 22 characters, or 24 with "==" padding, of
 * [A-Za-z0-9_-], decoding to exactly 16 bytes, with the unused low bits of the
 * last character zero (so parse and format round-trip).  The zero id parses;
 * callers that must reject it check sl_uuid_is_zero.  SL_EINVAL otherwise.
 */
int sl_uuid_parse(const char *s, size_t len, sl_uuid *out);
/* 32 lowercase hex digits + NUL (Java UUID.toString without dashes), as used
 * in -delete/-future/-stray directory names. */
void sl_uuid_hex32(const sl_uuid *u, char out[33]);

/* ---- partition.metadata ---- */

/*
 * Parses `version: 0\ntopic_id: <id>` as Kafka's PartitionMetadataReadBuffer
 * (trunk, which also checks the keys): each of the first two lines is split
 * once at ":\s+" into a key, which must be "version" (resp. "topic_id"), and a
 * value; the version must be an int >= 0 (higher versions are accepted, as
 * Kafka does for downgrades); the id must parse and not be zero.  Further
 * lines are ignored.  SL_ECORRUPT otherwise.  *version may be NULL.
 */
int sl_partition_metadata_parse(const void *p, size_t len, int32_t *version,
                                sl_uuid *topic_id, sl_diag *diag);
/* Appends exactly "version: 0\ntopic_id: <id>" (no trailing newline). */
int sl_partition_metadata_format(const sl_uuid *topic_id, sl_buf *out);
/* Read/write `<partition_dir>/partition.metadata`.  A missing file is
 * SL_ENOT_FOUND. */
int sl_partition_metadata_read(const char *partition_dir, sl_uuid *topic_id,
                               sl_diag *diag);
int sl_partition_metadata_write(const char *partition_dir, const sl_uuid *topic_id,
                                sl_diag *diag);

/* ---- meta.properties ---- */

typedef struct sl_meta_properties {
  int version; /* 0 (ZooKeeper era) or 1 (KRaft) */
  bool has_node_id;
  int32_t node_id; /* node.id (v1, required) or broker.id (v0, optional); >= 0 */
  bool has_cluster_id;
  char cluster_id[64]; /* as written; required in v1 */
  bool has_directory_id;
  sl_uuid directory_id;
} sl_meta_properties;

/*
 * Parses Java Properties text (comments '#'/'!', key=value, key:value or
 * key value, backslash escapes and line continuations, \uXXXX limited to
 * ASCII) and validates it as Kafka's MetaProperties does: a missing version
 * means 0; version must be 0 or 1; v0 reads broker.id if present, v1 requires
 * node.id and cluster.id; ids are ints >= 0; directory.id must be a UUID.
 * Unknown keys are ignored.  SL_ECORRUPT (or SL_EUNSUPPORTED for an unknown
 * version) with the line in diag.
 */
int sl_meta_properties_parse(const void *p, size_t len, sl_meta_properties *out,
                             sl_diag *diag);
/*
 * Appends the file as Java's Properties.store(w, "") writes it: "#\n", then
 * "#<date>\n" (Date.toString form in UTC for now_ms, e.g.
 * "#Wed Nov 25 16:41:03 UTC 2026"), then key=value lines.  SL_EINVAL if v1
 * lacks node.id or cluster.id, or the cluster id has characters that would
 * need escaping.
 */
int sl_meta_properties_format(const sl_meta_properties *m, int64_t now_ms, sl_buf *out);
/* `<log_dir>/meta.properties`; missing is SL_ENOT_FOUND. */
int sl_meta_properties_read(const char *log_dir, sl_meta_properties *out, sl_diag *diag);
int sl_meta_properties_write(const char *log_dir, const sl_meta_properties *m,
                             sl_diag *diag);

/* ---- .kafka_cleanshutdown ---- */

/*
 * Tolerant parse of {"version":0,"brokerEpoch":N}: unknown fields are ignored
 * and anything unparsable gives *broker_epoch = -1.  Never fails.
 */
void sl_clean_shutdown_parse(const void *p, size_t len, int64_t *broker_epoch);
/* Appends exactly {"version":0,"brokerEpoch":N}. */
int sl_clean_shutdown_format(int64_t broker_epoch, sl_buf *out);
/* Whether `<log_dir>/.kafka_cleanshutdown` exists, and its epoch (-1 if
 * unknown).  broker_epoch may be NULL. */
int sl_clean_shutdown_read(const char *log_dir, bool *exists, int64_t *broker_epoch,
                           sl_diag *diag);
/* Writes the marker durably (tmp + fsync + rename + fsync dir). */
int sl_clean_shutdown_write(const char *log_dir, int64_t broker_epoch, sl_diag *diag);
/* Deletes the marker (missing is fine) and fsyncs the dir. */
int sl_clean_shutdown_delete(const char *log_dir, sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
