/*
 * broker.h - the state of one seglogd process, shared by the server, the
 * request handlers and the metrics endpoint.  Everything runs on one libuv
 * loop thread; nothing here is locked.  docs/BROKER.md, "Architecture".
 */
#ifndef SD_BROKER_H
#define SD_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "datadir.h"
#include "metrics.h"
#include "topics.h"

typedef struct sd_server sd_server;
typedef struct sd_fetch_wait sd_fetch_wait;
typedef struct sd_groups sd_groups;
typedef struct sd_offsets sd_offsets;
typedef struct sd_cleaner sd_cleaner;

typedef struct sd_broker {
  uv_loop_t *loop;
  sd_config *cfg;
  int32_t node_id;
  sd_datadirs dirs;
  sd_topics topics;
  sd_metrics metrics;
  sd_server *server;
  sd_fetch_wait *fetch_waits; /* long-polling fetches (fetch.c) */
  /* Periodic log work (upkeep.c). */
  uv_timer_t retention_timer, tick_timer, checkpoint_timer;
  bool upkeep_running;
  bool checkpoint_busy;   /* root checkpoints being written on the thread pool */
  bool log_job_queued[2]; /* upkeep.c's retention / tick job is on the thread pool */
  /* producer_id.c: ids below this are reserved on disk (0: not loaded yet). */
  int64_t producer_id_block_end;
  sd_cleaner *cleaner;      /* background log compaction (upkeep.c) */
  int64_t last_producer_id; /* producer_id.c */
  sd_groups *groups;        /* group coordinator: membership (group.c, groups.h) */
  sd_offsets *offsets;      /* group coordinator: __consumer_offsets (offsets.c) */
} sd_broker;

/* Appends happened: parked fetches re-check whether they can answer (fetch.c). */
void sd_fetch_wake(sd_broker *b);
/* Shutdown: every parked fetch answers now with what it has (fetch.c). */
void sd_fetch_stop(sd_broker *b);

#endif
