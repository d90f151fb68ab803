/*
 * bench_append.c - append throughput of the log (docs/FORMAT.md "Append and
 * roll"): 1 KiB records in ~16 KiB batches appended through sl_log_append,
 * against plain write() of the same bytes to a file in the same directory.
 * The batches are built before the clock starts, so the figure measures the
 * log, not the builder; the builder's own steady-state throughput is reported
 * separately, relative to the write() baseline.  Method and results: docs/BENCHMARKS.md.
 *
 * Usage: bench_append DIR [MiB = 1024] [repetitions = 3]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "seglog/batch.h"
#include "seglog/bytes.h"
#include "seglog/log.h"

#define PER_BATCH 16
#define VALUE_LEN 1000

/*
 * Plain write() of each batch, in order, to a new file.  The clock stops after
 * the last write; the file is then fsync'd and removed outside the timed part,
 * as sl_log_close fsyncs the log, so both start each repetition with no dirty
 * pages of the other pending.
 */
static double run_write(const char *dir, const sl_buf *all) {
  char path[4096];
  if (BENCH_PATH(path, "%s/plain.bin", dir) != 0)
    return -1;
  double t = -1, t0 = bench_now();
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return -1;
  size_t pos = 0;
  while (pos < all->len) {
    int64_t base;
    int32_t size;
    int8_t magic;
    if (sl_batch_peek(all->data + pos, all->len - pos, &base, &size, &magic) != 0 ||
        write(fd, all->data + pos, (size_t)size) != size)
      goto done;
    pos += (size_t)size;
  }
  t = bench_now() - t0;
done:
  if (fsync(fd) != 0)
    t = -1;
  close(fd);
  unlink(path);
  return t;
}

/*
 * Steady-state builder throughput, as a producer runs it: one builder and one
 * output buffer, both reset (memory kept) for every batch.  Returns the time
 * for `nbatches` batches and their total size in *bytes, or -1.
 */
static double time_builder(long nbatches, size_t *bytes) {
  sl_batch_builder_opts o;
  sl_batch_builder *b = NULL;
  sl_buf out = SL_BUF_INIT;
  uint8_t value[VALUE_LEN];
  double t = -1;
  for (int i = 0; i < VALUE_LEN; i++)
    value[i] = (uint8_t)(i * 131 + 7);
  sl_batch_builder_opts_init(&o);
  if (sl_batch_builder_new(&o, &b) != 0)
    goto done;
  *bytes = 0;
  int64_t off = 0, ts = 1700000000000LL;
  double t0 = bench_now();
  for (long n = 0; n < nbatches; n++) {
    o.base_offset = off;
    sl_batch_builder_reset(b, &o);
    sl_buf_reset(&out);
    for (int i = 0; i < PER_BATCH; i++, off++, ts++) {
      char key[8];
      memcpy(key, &off, sizeof key);
      if (sl_batch_builder_add(b, ts, key, 8, value, VALUE_LEN, NULL, 0) != 0)
        goto done;
    }
    if (sl_batch_builder_finish(b, &out) != 0)
      goto done;
    *bytes += out.len;
  }
  t = bench_now() - t0;
done:
  sl_batch_builder_free(b);
  sl_buf_release(&out);
  return t;
}

/*
 * Appends every batch with its own sl_log_append call (leader mode: offsets
 * and epoch assigned in place) to a new log in DIR/bench-REP (the calling
 * script removes DIR).  The clock stops
 * after the last append: sl_log_close fsyncs, which the write() baseline does
 * not do, so the close is outside the timed part.
 */
static double run_log(const char *dir, int rep, sl_buf *all, int64_t *leo) {
  char path[4096];
  sl_log *log = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  if (BENCH_PATH(path, "%s/bench-%d", dir, rep) != 0)
    return -1;
  double t = -1, t0 = bench_now();
  int rc = sl_log_open(path, NULL, SL_LOG_CREATE, NULL, &log, &d);
  size_t pos = 0;
  while (rc == 0 && pos < all->len) {
    int64_t base;
    int32_t size;
    int8_t magic;
    rc = sl_batch_peek(all->data + pos, all->len - pos, &base, &size, &magic);
    if (rc == 0)
      rc = sl_log_append(log, all->data + pos, (size_t)size, SL_APPEND_LEADER, 0, 0, NULL,
                         &d);
    pos += (size_t)size;
  }
  if (rc == 0) {
    t = bench_now() - t0;
    *leo = sl_log_end_offset(log);
  } else {
    char msg[1024];
    fprintf(stderr, "bench_append: %s\n", sl_diag_format(&d, msg, sizeof msg));
  }
  sl_log_close(log, NULL);
  return t;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_append DIR [MiB] [reps]\n");
    return 2;
  }
  const char *dir = argv[1];
  long mib = (long)bench_arg(argc, argv, 2, 1024);
  int reps = (int)bench_arg(argc, argv, 3, 3);
  long nbatches = (mib << 20) / (PER_BATCH * (VALUE_LEN + 24));
  sl_buf all = SL_BUF_INIT;
  int status = 1;

  /* the batches the log and the baseline append, built before any timing */
  if (bench_build_batches(&all, 0, nbatches, PER_BATCH, VALUE_LEN) != 0) {
    fprintf(stderr, "bench_append: building batches failed\n");
    goto done;
  }
  size_t built = 0;
  double t_build = time_builder(nbatches, &built);
  if (t_build < 0) {
    fprintf(stderr, "bench_append: builder pass failed\n");
    goto done;
  }

  /* alternate the two so that background writeback hits both alike */
  double best_write = 1e30, best_log = 1e30;
  for (int r = 0; r < reps; r++) {
    double t = run_write(dir, &all);
    if (t < 0) {
      perror("bench_append: write baseline");
      goto done;
    }
    if (t < best_write)
      best_write = t;
    double tw = t;
    int64_t leo = -1;
    t = run_log(dir, r, &all, &leo);
    if (t < 0)
      goto done;
    if (leo != (int64_t)nbatches * PER_BATCH) {
      fprintf(stderr, "bench_append: log end offset %lld, expected %lld\n",
              (long long)leo, (long long)nbatches * PER_BATCH);
      goto done;
    }
    if (t < best_log)
      best_log = t;
    if (getenv("BENCH_VERBOSE"))
      fprintf(stderr, "# rep %d: write %.3f s, log %.3f s\n", r, tw, t);
  }
  double gb = (double)all.len / 1e9;
  printf("# %ld batches of %d records (%d-byte values), %zu bytes per batch, %.0f MiB, "
         "best of %d\n",
         nbatches, PER_BATCH, VALUE_LEN, all.len / (size_t)nbatches,
         (double)all.len / (1 << 20), reps);
  bench_report("write", gb / best_write, "GB/s", 1.0, "write");
  bench_report("log_append", gb / best_log, "GB/s", best_write / best_log, "write");
  /* not a target: shows that building batches is not what limits an appender */
  bench_report("builder", (double)built / 1e9 / t_build, "GB/s",
               ((double)built / t_build) / ((double)all.len / best_write), "write");
  status = 0;
done:
  sl_buf_release(&all);
  return status;
}
