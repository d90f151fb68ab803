/*
 * benchutil.h - small helpers shared by the benchmark programs in bench/:
 * a monotonic clock, a best-of-N timer and the one-line result format that
 * bench/run-all.sh collects (docs/BENCHMARKS.md, "Output format").
 *
 * Header-only (static functions) because every C file in bench/ becomes its own
 * executable.
 */
#ifndef SEGLOG_BENCHUTIL_H
#define SEGLOG_BENCHUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parses a positive decimal argument; `fallback` when absent or malformed. */
static inline long long bench_arg(int argc, char **argv, int i, long long fallback) {
  if (i >= argc)
    return fallback;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(argv[i], &end, 10);
  if (errno != 0 || end == argv[i] || *end != '\0' || v <= 0)
    return fallback;
  return v;
}

/* The result line: "name: value unit (ratio X.XX of BASELINE)". */
static inline void bench_report(const char *name, double value, const char *unit,
                                double ratio, const char *baseline) {
  if (baseline)
    printf("%s: %.2f %s (ratio %.2f of %s)\n", name, value, unit, ratio, baseline);
  else
    printf("%s: %.2f %s\n", name, value, unit);
  fflush(stdout);
}

/* Keeps the compiler from discarding a computed value. */
static volatile uint64_t bench_sink;

#endif
