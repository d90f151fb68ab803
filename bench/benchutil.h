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

#include "seglog/batch.h"
#include "seglog/bytes.h"

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

/* snprintf into a path buffer; -1 if it does not fit. */
#define BENCH_PATH(buf, ...)                                                             \
  ((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) >= sizeof(buf) ? -1 : 0)

/* Keeps the compiler from discarding a computed value. */
static volatile uint64_t bench_sink;

/*
 * Builds `nbatches` uncompressed v2 batches of `per_batch` records with
 * `value_len`-byte values (8-byte keys) back to back into `out`, with offsets
 * from `base_offset` on, as a producer-to-leader path would leave them.
 * Returns 0 or a negative SL_E* code.
 */
static inline int bench_build_batches(sl_buf *out, int64_t base_offset, long nbatches,
                                      int per_batch, int value_len) {
  sl_batch_builder_opts o;
  sl_batch_builder *b = NULL;
  uint8_t *value = malloc((size_t)value_len);
  int rc = SL_ENOMEM;
  if (!value)
    goto done;
  for (int i = 0; i < value_len; i++)
    value[i] = (uint8_t)(i * 131 + 7);
  sl_batch_builder_opts_init(&o);
  o.partition_leader_epoch = 0;
  if ((rc = sl_batch_builder_new(&o, &b)) != 0)
    goto done;
  int64_t off = base_offset, ts = 1700000000000LL;
  for (long n = 0; n < nbatches; n++) {
    o.base_offset = off;
    sl_batch_builder_reset(b, &o);
    for (int i = 0; i < per_batch; i++, off++, ts++) {
      char key[8];
      for (int k = 0; k < 8; k++)
        key[k] = (char)('a' + (off >> (k * 3) & 7));
      if ((rc = sl_batch_builder_add(b, ts, key, 8, value, value_len, NULL, 0)) != 0)
        goto done;
    }
    if ((rc = sl_batch_builder_finish(b, out)) != 0)
      goto done;
  }
  rc = 0;
done:
  sl_batch_builder_free(b);
  free(value);
  return rc;
}

#endif
