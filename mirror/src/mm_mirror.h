/*
 * mm_mirror.h - the replication engine of seglog-mirror: per enabled flow one
 * source consumer (manual assignment, no group), one idempotent producer to
 * the target, progress kept in MM2's offset-syncs topic, topic creation with
 * the source's partitions and configs, heartbeats, checkpoints and group
 * offset sync.  Design, guarantees and the duplicate bound: docs/MIRROR.md.
 */
#ifndef MM_MIRROR_H
#define MM_MIRROR_H

#include <pthread.h>
#include <signal.h>

#include "mm_config.h"
#include "seglog/bytes.h"

typedef struct mm_mirror mm_mirror;

/* Creates the clients of every flow (nothing is contacted yet).  The config
 * is borrowed and must outlive the mirror.  -1 with a message in err. */
int mm_mirror_new(const mm_config *c, mm_mirror **out, char *err, size_t cap);
/* Starts every flow (internal topics, progress read back), then replicates
 * until *stop becomes non-zero; then flushes and records progress.  Returns
 * 0, or -1 after a fatal error (logged). */
int mm_mirror_run(mm_mirror *m, volatile sig_atomic_t *stop);
/* Appends the Prometheus text exposition of the mirror's metrics, under the
 * lock (mm_mirror_set_lock); callable from another thread while
 * mm_mirror_run runs: the engine gives way to a waiting call. */
int mm_mirror_metrics(mm_mirror *m, sl_buf *out);
/* A mutex held while the engine touches its state (mm_mirror_metrics takes
 * it); NULL (the default) for none. Borrowed. */
void mm_mirror_set_lock(mm_mirror *m, pthread_mutex_t *lock);
void mm_mirror_free(mm_mirror *m); /* NULL ok */

#endif
