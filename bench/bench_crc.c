/*
 * bench_crc.c - CRC-32C throughput: sl_crc32c (the run-time chosen path,
 * hardware where the CPU has it) and sl_crc32c_sw (portable slicing-by-8),
 * against memcpy of the same bytes as the memory-bandwidth baseline.
 * The CRC itself is documented in docs/FORMAT.md ("CRC"); the method and the
 * results in docs/BENCHMARKS.md.
 *
 * Usage: bench_crc [MiB per buffer = 64] [repetitions = 8]
 * Each figure is the best of `repetitions` passes over a warm buffer.  The
 * `[16KiB]` figures run over one batch-sized (16 KiB) piece of the buffer,
 * repeated for the same total, i.e. from L1/L2: what validating a batch that
 * was just received or just read costs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "seglog/crc.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static double best_crc(crc_fn fn, const uint8_t *buf, size_t len, int reps) {
  double best = 1e30;
  for (int i = 0; i < reps; i++) {
    double t0 = bench_now();
    uint32_t c = fn(0, buf, len);
    double dt = bench_now() - t0;
    bench_sink += c;
    if (dt < best)
      best = dt;
  }
  return best;
}

/* `fn` over the first `piece` bytes, `len / piece` times per pass. */
static double best_crc_piece(crc_fn fn, const uint8_t *buf, size_t len, size_t piece,
                             int reps) {
  double best = 1e30;
  size_t n = len / piece;
  for (int i = 0; i < reps; i++) {
    uint32_t c = 0;
    double t0 = bench_now();
    for (size_t k = 0; k < n; k++)
      c += fn(0, buf, piece);
    double dt = bench_now() - t0;
    bench_sink += c;
    if (dt < best)
      best = dt;
  }
  return best * (double)len / (double)(n * piece);
}

static double best_memcpy(uint8_t *dst, const uint8_t *src, size_t len, int reps) {
  double best = 1e30;
  for (int i = 0; i < reps; i++) {
    double t0 = bench_now();
    memcpy(dst, src, len);
    double dt = bench_now() - t0;
    bench_sink += dst[len / 2];
    if (dt < best)
      best = dt;
  }
  return best;
}

int main(int argc, char **argv) {
  size_t mib = (size_t)bench_arg(argc, argv, 1, 64);
  int reps = (int)bench_arg(argc, argv, 2, 8);
  size_t len = mib << 20;
  uint8_t *src = malloc(len), *dst = malloc(len);
  if (!src || !dst) {
    fprintf(stderr, "bench_crc: out of memory for %zu MiB\n", mib);
    free(src);
    free(dst);
    return 1;
  }
  uint64_t x = 0x9E3779B97F4A7C15ull; /* fill with xorshift noise, touch every page */
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    src[i] = (uint8_t)x;
  }
  memset(dst, 0, len);
  /* the two implementations must agree before their speed means anything */
  if (sl_crc32c(0, src, len) != sl_crc32c_sw(0, src, len)) {
    fprintf(stderr, "bench_crc: sl_crc32c and sl_crc32c_sw disagree\n");
    free(src);
    free(dst);
    return 1;
  }
  double gb = (double)len / 1e9;
  double t_cpy = best_memcpy(dst, src, len, reps);
  double t_hw = best_crc(sl_crc32c, src, len, reps);
  double t_sw = best_crc(sl_crc32c_sw, src, len, reps);
  printf("# %zu MiB buffer, best of %d; sl_crc32c implementation: %s\n", mib, reps,
         sl_crc32c_impl());
  bench_report("memcpy", gb / t_cpy, "GB/s", 1.0, "memcpy");
  char name[64];
  snprintf(name, sizeof name, "crc32c[%s]", sl_crc32c_impl());
  bench_report(name, gb / t_hw, "GB/s", t_cpy / t_hw, "memcpy");
  bench_report("crc32c[sw]", gb / t_sw, "GB/s", t_cpy / t_sw, "memcpy");
  double t_hw16 = best_crc_piece(sl_crc32c, src, len, 16384, reps);
  snprintf(name, sizeof name, "crc32c[%s,16KiB]", sl_crc32c_impl());
  bench_report(name, gb / t_hw16, "GB/s", t_cpy / t_hw16, "memcpy");
  free(src);
  free(dst);
  return 0;
}
