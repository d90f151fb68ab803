/*
 * group_int.h - the membership half of seglogd's group coordinator, inside:
 * the classic group protocol's state machine (group.c) as Kafka's
 * GroupCoordinator/GroupMetadata run it, kept free of libuv and of the
 * request plumbing so that unit tests drive it with a fake clock.  The
 * handlers, timers and storage glue (group_api.c) sit on top of it.
 * docs/GROUPS.md, "Membership", describes the design.
 *
 * Time: every call takes `now` (milliseconds, monotonic).  Deadlines
 * (session timeouts, the join and sync phases, the initial rebalance delay)
 * are processed by sdg_tick(now); sdg_next_deadline() tells the caller when
 * to call it next.
 *
 * Parked JoinGroup/SyncGroup requests are opaque `waiter` pointers; they are
 * answered, exactly once, through the hooks - possibly from inside the call
 * that parked them, or from another member's request, a tick, or sdg_stop.
 * A result passed to a hook (and everything it points to) is valid only
 * during the hook call.
 */
#ifndef SD_GROUP_INT_H
#define SD_GROUP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_runtime.h"

/* Kafka ErrorCodes of the group APIs (org.apache.kafka.common.protocol.Errors). */
enum {
  SDG_ERR_UNKNOWN_SERVER_ERROR = -1,
  SDG_ERR_NONE = 0,
  SDG_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
  SDG_ERR_COORDINATOR_NOT_AVAILABLE = 15,
  SDG_ERR_NOT_COORDINATOR = 16,
  SDG_ERR_ILLEGAL_GENERATION = 22,
  SDG_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
  SDG_ERR_INVALID_GROUP_ID = 24,
  SDG_ERR_UNKNOWN_MEMBER_ID = 25,
  SDG_ERR_INVALID_SESSION_TIMEOUT = 26,
  SDG_ERR_REBALANCE_IN_PROGRESS = 27,
  SDG_ERR_INVALID_REQUEST = 42,
  SDG_ERR_NON_EMPTY_GROUP = 68,
  SDG_ERR_GROUP_ID_NOT_FOUND = 69,
  SDG_ERR_MEMBER_ID_REQUIRED = 79,
  SDG_ERR_GROUP_MAX_SIZE_REACHED = 81,
  SDG_ERR_FENCED_INSTANCE_ID = 82,
  SDG_ERR_GROUP_SUBSCRIBED_TO_TOPIC = 86,
};

/* Kafka's GroupCoordinator.NewMemberJoinTimeoutMs. */
#define SDG_NEW_MEMBER_JOIN_TIMEOUT_MS 300000
#define SDG_NO_DEADLINE INT64_MAX

typedef enum sdg_state {
  SDG_EMPTY,
  SDG_PREPARING_REBALANCE,
  SDG_COMPLETING_REBALANCE,
  SDG_STABLE,
  SDG_DEAD,
} sdg_state;

/* Kafka's state names ("Empty", "PreparingRebalance", ...). */
const char *sdg_state_name(sdg_state s);

/* An owned byte string; p is NUL-terminated for logging; p == NULL: null. */
typedef struct sdg_str {
  char *p;
  int32_t len;
} sdg_str;

typedef struct sdg_protocol {
  sdg_str name;
  uint8_t *meta;
  int32_t meta_len;
} sdg_protocol;

typedef struct sdg_group sdg_group;
typedef struct sdg_member sdg_member;
typedef struct sdg_coord sdg_coord;

struct sdg_member {
  sdg_group *g;
  sdg_str id, instance_id, client_id, client_host;
  int32_t session_ms, rebalance_ms;
  sdg_protocol *protos;
  int32_t n_protos;
  uint8_t *assign;
  int32_t assign_len;
  void *join_waiter, *sync_waiter;
  bool awaiting_join, awaiting_sync;
  bool is_new;             /* joined and not yet through a completed join phase */
  bool is_pending;         /* KIP-394: got MEMBER_ID_REQUIRED, not yet rejoined */
  bool pending_sync;       /* got its JoinGroup answer, SyncGroup not yet seen */
  int64_t deadline;        /* session (or pending / new-member) expiry */
  sdg_member *prev, *next; /* in g->members or g->pending */
};

typedef struct sdg_pcount {
  sdg_str name;
  int32_t count; /* members supporting this protocol */
} sdg_pcount;

typedef struct sdg_map sdg_map;

struct sdg_group {
  sdg_coord *c;
  sdg_str id;
  sdg_state state;
  int32_t generation;
  sdg_str protocol_type; /* null: none yet */
  sdg_str protocol_name; /* null: none */
  sdg_member *leader;
  sdg_member *members, *members_tail; /* join order */
  int32_t n_members, n_awaiting_join;
  sdg_member *pending;
  int32_t n_pending;
  sdg_map *by_id;   /* member id -> member (members and pending) */
  sdg_map *statics; /* group.instance.id -> member */
  sdg_map *pcounts; /* protocol name -> sdg_pcount */
  /* PreparingRebalance: the join phase (DelayedJoin / InitialDelayedJoin). */
  int64_t join_deadline;
  bool initial_delay, new_member_added;
  int32_t initial_remaining_ms;
  /* CompletingRebalance/Stable: the sync phase (DelayedSync). */
  int64_t sync_deadline;
  int32_t n_pending_sync;
  int64_t state_ts_ms;  /* wall clock of the last new generation, -1 unknown */
  sdg_group *list_next; /* in the coordinator's list */
  sdg_group *list_prev;
};

typedef struct sdg_config {
  int32_t min_session_ms, max_session_ms;
  int32_t initial_rebalance_delay_ms;
  int32_t max_size;
} sdg_config;

typedef struct sdg_join_member {
  kp_str member_id, instance_id;
  kp_bytes metadata;
} sdg_join_member;

typedef struct sdg_join_result {
  int16_t error;
  int32_t generation;
  kp_str protocol_type, protocol_name; /* null: none */
  kp_str leader;
  kp_str member_id;
  bool skip_assignment;
  const sdg_join_member *members;
  int32_t n_members;
} sdg_join_result;

typedef struct sdg_sync_result {
  int16_t error;
  kp_str protocol_type, protocol_name; /* null: none */
  kp_bytes assignment;
} sdg_sync_result;

typedef struct sdg_hooks {
  void *ctx;
  void (*join_done)(void *ctx, void *waiter, const sdg_join_result *r);
  void (*sync_done)(void *ctx, void *waiter, const sdg_sync_result *r);
  /* Persists the group (GroupMetadataValue); returns a Kafka ErrorCode. NULL: no-op. */
  int16_t (*store)(void *ctx, const sdg_group *g);
  /* DeleteGroups / expiry: the group's offsets and metadata go (tombstones). */
  void (*deleted)(void *ctx, const sdg_group *g, bool via_delete_groups);
  /* Wall clock in ms (CurrentStateTimestamp). NULL: -1. */
  int64_t (*wall_ms)(void *ctx);
} sdg_hooks;

struct sdg_coord {
  sdg_config cfg;
  sdg_hooks hooks;
  sdg_map *groups;
  sdg_group *list; /* every group, newest first */
  int32_t n_groups;
  int64_t next_deadline;
  bool active;
  uint64_t rebalances;           /* prepareRebalance transitions */
  uint64_t completed_rebalances; /* leader's SyncGroup accepted */
};

sdg_coord *sdg_new(const sdg_config *cfg, const sdg_hooks *hooks);
/* Answers every parked request with `err` and refuses new ones
 * (COORDINATOR_NOT_AVAILABLE). */
void sdg_stop(sdg_coord *c, int16_t err);
void sdg_free(sdg_coord *c); /* NULL-safe; parked requests must be answered (sdg_stop) */

sdg_group *sdg_find(const sdg_coord *c, kp_str group_id);
sdg_member *sdg_find_member(const sdg_group *g,
                            kp_str member_id); /* members and pending */

typedef struct sdg_join_protocol {
  kp_str name;
  kp_bytes metadata;
} sdg_join_protocol;

typedef struct sdg_join_args {
  kp_str group_id, member_id, instance_id, protocol_type, client_id, client_host;
  int32_t session_ms, rebalance_ms;
  const sdg_join_protocol *protos;
  int32_t n_protos;
  bool require_known_member_id; /* v4+ without an instance id */
  bool support_skip_assignment; /* v9+ */
  void *waiter;
} sdg_join_args;

void sdg_join(sdg_coord *c, const sdg_join_args *a, int64_t now);

typedef struct sdg_assignment {
  kp_str member_id;
  kp_bytes assignment;
} sdg_assignment;

void sdg_sync(sdg_coord *c, kp_str group_id, int32_t generation, kp_str member_id,
              kp_str instance_id, kp_str protocol_type, kp_str protocol_name,
              const sdg_assignment *as, int32_t n_as, void *waiter, int64_t now);

int16_t sdg_heartbeat(sdg_coord *c, kp_str group_id, kp_str member_id, kp_str instance_id,
                      int32_t generation, int64_t now);

/* LeaveGroup: the top-level error (INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE or
 * NONE); *g is NULL when the group does not exist. */
int16_t sdg_leave_begin(sdg_coord *c, kp_str group_id, sdg_group **g);
/* One leaving member of a group from sdg_leave_begin (g may be NULL). */
int16_t sdg_leave_member(sdg_coord *c, sdg_group *g, kp_str member_id, kp_str instance_id,
                         int64_t now);

/* DeleteGroups for one group id. */
int16_t sdg_delete(sdg_coord *c, kp_str group_id);

int16_t sdg_check_commit(sdg_coord *c, kp_str group_id, kp_str member_id,
                         kp_str instance_id, int32_t generation, int64_t now);
int16_t sdg_check_offset_delete(sdg_coord *c, kp_str group_id, kp_str topic);
/* Creates an Empty group with no protocol type if missing; NULL on out of memory. */
sdg_group *sdg_touch(sdg_coord *c, kp_str group_id);
/* Offsets expired: an Empty group without members goes (hooks->deleted). */
void sdg_offsets_gone(sdg_coord *c, kp_str group_id);

/* Replay: a group as stored (members with their subscription and assignment). */
typedef struct sdg_stored_member {
  kp_str member_id, instance_id, client_id, client_host;
  int32_t rebalance_ms, session_ms;
  kp_bytes subscription, assignment;
} sdg_stored_member;

typedef struct sdg_stored_group {
  kp_str protocol_type;
  int32_t generation;
  kp_str protocol_name, leader;
  int64_t state_ts_ms;
  const sdg_stored_member *members;
  int32_t n_members;
} sdg_stored_group;

/* sg == NULL: tombstone (the group is forgotten).  0, or -1 on out of memory. */
int sdg_replay(sdg_coord *c, kp_str group_id, const sdg_stored_group *sg, int64_t now);

/* Processes every deadline <= now. */
void sdg_tick(sdg_coord *c, int64_t now);
/* The earliest pending deadline (SDG_NO_DEADLINE: none).  May be early, never late. */
int64_t sdg_next_deadline(const sdg_coord *c);

/* Consumer protocol: whether the member subscription names `topic`; true if
 * the bytes do not parse (Kafka: unknown subscriptions are kept). */
bool sdg_subscription_has_topic(const uint8_t *meta, int32_t len, kp_str topic);

#endif
