/*
 * groups.h - seglogd's group coordinator (issue 5), in two halves:
 *
 *   group.c    membership: the classic protocol's state machine (Empty,
 *              PreparingRebalance, CompletingRebalance, Stable, Dead),
 *              static members, session/rebalance timers, and the handlers
 *              FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 *              DescribeGroups, ListGroups, DeleteGroups.
 *   offsets.c  storage: the compacted internal topic __consumer_offsets
 *              (Kafka's OffsetCommitKey/Value and GroupMetadataKey/Value
 *              records), committed offsets in memory, replay at start,
 *              offsets.retention.minutes expiry, and the handlers
 *              OffsetCommit, OffsetFetch, OffsetDelete.
 *
 * This header is the contract between the halves.  Everything runs on the
 * broker's loop thread.  Group ids are byte strings (kp_str: ptr + len; not
 * NUL-terminated).  docs/GROUPS.md describes the design.
 */
#ifndef SD_GROUPS_H
#define SD_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "kp_runtime.h"

typedef struct sd_groups sd_groups;   /* group.c: b->groups */
typedef struct sd_offsets sd_offsets; /* offsets.c: b->offsets */

/* ---- offsets.c ------------------------------------------------------- */

/*
 * Start-up, after sd_topics_load and sd_groups_init: creates
 * __consumer_offsets if missing (offsets.topic.num.partitions partitions,
 * cleanup.policy=compact) and replays every partition, feeding group
 * metadata records to sd_groups_replay.  -1 with err on failure.
 */
int sd_offsets_init(sd_broker *b, char *err, size_t errcap);
/* Stops timers (expiry); the loop closes them.  NULL-safe. */
void sd_offsets_stop(sd_broker *b);
/* Frees everything after the loop is drained.  NULL-safe. */
void sd_offsets_free(sd_broker *b);

/* The __consumer_offsets partition of a group: Kafka's
 * Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions. */
int32_t sd_offsets_partition_for(const sd_broker *b, kp_str group);

/*
 * Appends the GroupMetadata record of `group` (value = an encoded
 * GroupMetadataValue, version prefix included; NULL = tombstone) to the
 * group's partition and flushes per the log's policy.  Returns 0 or an SL_E*
 * code (the caller maps it with sd_kerr_from_sl).
 */
int sd_offsets_store_group(sd_broker *b, kp_str group, const uint8_t *value, size_t len);

/*
 * DeleteGroups: writes tombstones for every committed offset of `group` and
 * for its metadata, and forgets them.  0 or an SL_E* code.
 */
int sd_offsets_delete_group(sd_broker *b, kp_str group);

/* True if `group` has at least one committed offset. */
bool sd_offsets_group_has_offsets(const sd_broker *b, kp_str group);

/* ---- group.c --------------------------------------------------------- */

int sd_groups_init(sd_broker *b, char *err, size_t errcap);
/* Shutdown: answers every parked JoinGroup/SyncGroup/Heartbeat now
 * (NOT_COORDINATOR, as Kafka's coordinator does when it unloads a group),
 * stops timers.  NULL-safe. */
void sd_groups_stop(sd_broker *b);
void sd_groups_free(sd_broker *b);

/*
 * Replay of __consumer_offsets at start: the latest GroupMetadata record of
 * a group (value as stored, version prefix included; NULL = tombstone, the
 * group is forgotten).  Returns 0, or -1 if the value does not decode (the
 * caller logs it with the partition and offset and goes on).
 */
int sd_groups_replay(sd_broker *b, kp_str group, const uint8_t *value, size_t len);

/*
 * A group that has committed offsets but no metadata (a "simple" consumer
 * group, or offsets replayed at start) exists in state Empty with protocol
 * type "" so that ListGroups/DescribeGroups show it.  Idempotent.
 */
void sd_groups_touch(sd_broker *b, kp_str group);

/*
 * OffsetCommit's membership check, Kafka's rules (GroupCoordinator
 * handleCommitOffsets / validateOffsetCommit):
 * generation_id < 0 and an empty member id on a group with no members is a
 * simple commit (allowed; the group is touched); otherwise the member and
 * generation must match (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
 * FENCED_INSTANCE_ID for a static member with another member id,
 * REBALANCE_IN_PROGRESS while CompletingRebalance, COORDINATOR_NOT_AVAILABLE
 * for a Dead group).  instance_id.len == -1 means null.  Returns a Kafka
 * ErrorCode (0 = commit allowed).  A successful check also counts as a
 * heartbeat of that member, as in Kafka.
 */
int16_t sd_groups_check_commit(sd_broker *b, kp_str group, kp_str member_id,
                               kp_str instance_id, int32_t generation_id);

/*
 * OffsetDelete's check: 0, GROUP_ID_NOT_FOUND, or GROUP_SUBSCRIBED_TO_TOPIC
 * when the group is not Empty and a member's subscription (consumer
 * protocol) names `topic`.
 */
int16_t sd_groups_check_offset_delete(sd_broker *b, kp_str group, kp_str topic);

/* Offsets of an Empty group with no members all expired (offsets.c): the
 * group becomes Dead and is removed, its metadata tombstoned. */
void sd_groups_offsets_gone(sd_broker *b, kp_str group);

/* Prometheus lines of the membership half (groups per state, rebalances)
 * into buf, snprintf-style: returns the length they need.  For metrics.c. */
size_t sd_groups_metrics_render(const sd_broker *b, char *buf, size_t cap);

#endif
