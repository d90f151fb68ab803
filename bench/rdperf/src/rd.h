/*
 * rd.h - the few helpers librdkafka's example rdkafka_performance.c takes from
 * librdkafka's private source tree (which Debian does not ship), written for
 * seglog's broker benchmark (bench/06-broker.sh; docs/BENCHMARKS.md, "Broker").
 * The example is compiled unchanged against the installed librdkafka with
 * this directory on the include path; rdtime.h includes this file.
 */
#ifndef SEGLOG_BENCH_RD_H
#define SEGLOG_BENCH_RD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strndup, as the example expects */
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

/* Microseconds on a monotonic clock. */
typedef int64_t rd_ts_t;

static inline rd_ts_t rd_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (rd_ts_t)ts.tv_sec * 1000000 + (rd_ts_t)(ts.tv_nsec / 1000);
}

#define RD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RD_MAX(a, b) ((a) > (b) ? (a) : (b))

/* snprintf that returns the bytes written (never more than size - 1), so
 * `off += rd_snprintf(buf + off, sizeof(buf) - off, ...)` stays in bounds. */
static inline int rd_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int rd_snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  if (n < 0)
    return 0;
  if (size == 0)
    return 0;
  return (size_t)n >= size ? (int)(size - 1) : n;
}

#endif
