/*
 * offsets_int.h - the inside of offsets.c shared with its handlers
 * (offsets_api.c) and unit tests: the committed offsets in memory, per
 * group a hash table (topic, partition) -> offset, plus what the group's
 * latest GroupMetadata record says (for expiry).  docs/GROUPS.md, "Storage".
 */
#ifndef SD_OFFSETS_INT_H
#define SD_OFFSETS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "groups.h"
#include "seglog/batch.h"
#include "offsets_rec.h"

#define SD_OFFSETS_TOPIC "__consumer_offsets"

typedef struct sd_oentry {
  struct sd_oentry *next; /* hash chain */
  int32_t partition;
  int32_t topic_len;
  int64_t offset;
  int32_t leader_epoch; /* -1: none */
  int32_t metadata_len;
  char *metadata; /* malloc'd (metadata_len bytes), NULL when empty */
  int64_t commit_ts;
  int64_t expire_ts; /* -1: none (only commits with a retention time) */
  char topic[];
} sd_oentry;

typedef struct sd_ogroup {
  struct sd_ogroup *next; /* hash chain */
  sd_oentry **slots;
  uint32_t nslots, count;
  /* The latest GroupMetadata value stored (version prefix included), NULL
   * if none: what expiry knows about the group's state (docs/GROUPS.md). */
  uint8_t *meta;
  size_t meta_len;
  int32_t id_len;
  char id[];
} sd_ogroup;

struct sd_offsets {
  sd_broker *b;
  sd_ogroup **slots;
  uint32_t nslots, count;
  uv_timer_t expiry_timer;
  bool timer_running;
  sl_batch_builder *builder;
  sl_buf batch;
  /* Counters (tests, logs). */
  int64_t replayed_records, replay_errors, expired;
};

/* Records to append in one batch (one request). */
typedef struct sd_orecs {
  sl_buf keys, values;         /* concatenated bytes */
  size_t *key_end, *value_end; /* end positions */
  bool *tombstone;             /* value is null */
  size_t n, cap;
} sd_orecs;

void sd_orecs_init(sd_orecs *r);
void sd_orecs_release(sd_orecs *r);
int sd_orecs_add_offset(sd_orecs *r, kp_str group, kp_str topic, int32_t partition,
                        const sd_oval *v /* NULL: tombstone */);
int sd_orecs_add_group(sd_orecs *r, kp_str group, const uint8_t *value, size_t len,
                       bool tombstone);
/* Appends every record as one batch to `group`'s partition of
 * __consumer_offsets.  0 or an SL_E* code (nothing applied in memory). */
int sd_offsets_append(sd_broker *b, kp_str group, const sd_orecs *r);

sd_ogroup *sd_offsets_group(const sd_offsets *o, kp_str group);
sd_ogroup *sd_offsets_group_add(sd_offsets *o, kp_str group);
sd_oentry *sd_offsets_entry(const sd_ogroup *g, kp_str topic, int32_t partition);
/* Sets or replaces one committed offset.  0 or SL_ENOMEM. */
int sd_offsets_put(sd_ogroup *g, kp_str topic, int32_t partition, const sd_oval *v);
/* Forgets one committed offset (no-op if absent). */
void sd_offsets_remove(sd_ogroup *g, kp_str topic, int32_t partition);
/* Forgets a group and its offsets. */
void sd_offsets_group_drop(sd_offsets *o, sd_ogroup *g);

/* What a group's latest GroupMetadata record says (for expiry). */
typedef struct sd_ometa {
  bool known;        /* a record decoded */
  bool has_protocol; /* protocolType not empty */
  bool empty;        /* no members */
  bool consumer;     /* protocolType "consumer" and every subscription decoded */
  int64_t state_ts;  /* currentStateTimestamp, -1 if none */
  kp_str *topics;    /* subscribed topics (consumer), in the arena */
  int32_t n_topics;
} sd_ometa;

/* Decodes g->meta into *mv (arrays from a); mv->known false if none/corrupt. */
void sd_offsets_meta_view(const sd_ogroup *g, kp_arena *a, sd_ometa *mv);
/* Replaces g's remembered GroupMetadata value (NULL: none).  0 or SL_ENOMEM. */
int sd_offsets_set_meta(sd_ogroup *g, const uint8_t *value, size_t len);
/*
 * Kafka's GroupMetadata.removeExpiredOffsets at now_ms: up to cap expired
 * entries of g go to out; returns how many.  Simple groups (no protocol
 * type): since their commit; Empty groups: since the group became Empty
 * (currentStateTimestamp, else the commit); consumer groups with members:
 * offsets of topics no member subscribes to, since their commit (KIP-496);
 * other groups: none.  A v1 record's expire timestamp overrides all that.
 */
int64_t sd_offsets_expired_of(const sd_ogroup *g, const sd_ometa *mv, int64_t now_ms,
                              int64_t retention_ms, sd_oentry **out, int64_t cap);
/* Applies one __consumer_offsets record (replay): latest wins, a null value
 * deletes.  0, or an SL_E* code for a key/value that does not decode
 * (nothing changed). */
int sd_offsets_apply(sd_offsets *o, const uint8_t *key, int32_t key_len,
                     const uint8_t *value, int32_t value_len);
/* Frees every group (the tables stay usable, empty). */
void sd_offsets_clear(sd_offsets *o);

/* True when g's latest GroupMetadata record has no members, or there is
 * none (a simple consumer group): the group is Empty as far as storage knows. */
bool sd_offsets_meta_empty(const sd_ogroup *g);

/* Replays every partition of __consumer_offsets into memory and feeds the
 * group metadata to group.c.  0, or an SL_E* code for an unreadable log. */
int sd_offsets_replay(sd_broker *b);
/* One expiry pass at wall-clock time now_ms (the timer calls it).  Returns
 * the number of offsets expired. */
int64_t sd_offsets_expire(sd_broker *b, int64_t now_ms);

/* The partition log of group's __consumer_offsets partition, or NULL. */
const sd_partition *sd_offsets_log_of(const sd_broker *b, kp_str group);
int64_t sd_offsets_now_ms(void);

#endif
