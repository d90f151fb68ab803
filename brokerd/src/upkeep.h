/*
 * upkeep.h - periodic log work of seglogd: retention, the per-log tick, root
 * checkpoints and background compaction (see upkeep.c; docs/BROKER.md,
 * "Topics" and "Log compaction").
 */
#ifndef SD_UPKEEP_H
#define SD_UPKEEP_H

#include "broker.h"

/* Starts the timers on b->loop. */
void sd_upkeep_start(sd_broker *b);
/* Closes the timers (shutdown); safe to call twice.  A compaction round in
 * progress finishes on the thread pool; the loop runs until it has. */
void sd_upkeep_stop(sd_broker *b);
/*
 * Blocks until the cleaner's round in progress (if any) has ended; call
 * before closing or deleting logs (DeleteTopics; the log dir's checkpoints
 * are rewritten then too).  If the round was on a partition of `topic` (NULL:
 * any) its bookkeeping is skipped.
 */
void sd_cleaner_wait(sd_broker *b, const char *topic);
/* Blocks until the flush of rolled segments in progress (if any) has ended;
 * call before closing or deleting logs. */
void sd_flush_wait(void);

#endif
