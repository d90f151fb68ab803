/*
 * mm_log.h - seglog-mirror's log: one event per line on stderr,
 *   2026-11-25T19:30:00.123Z info topic.created flow=A->B topic=t remote=A.t
 * (time, level, event name, key=value fields).  docs/MIRROR.md ("Logs").
 */
#ifndef MM_LOG_H
#define MM_LOG_H

#include <stdint.h>

void mm_log(const char *level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Milliseconds since the epoch (wall clock) and a monotonic clock. */
int64_t mm_now_ms(void);
int64_t mm_mono_ms(void);

#endif
