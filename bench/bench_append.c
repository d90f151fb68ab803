/*
 * bench_append.c - append throughput of the log (docs/FORMAT.md "Append and
 * roll"): 1 KiB records in ~16 KiB batches appended through sl_log_append,
 * against plain write() of the same bytes to a file in the same directory.
 * The batches are built before the clock starts, so the figure measures the
 * log, not the builder; the builder's own steady-state throughput is reported
 * separately, relative to the write() baseline.  Method and results: docs/BENCHMARKS.md.
 *
 * Two variants, each against its own write() baseline: "cold" appends every
 * batch of a prebuilt 1 GiB buffer (the bytes come from DRAM), "hot" cycles
 * through 64 batches (~1 MiB, cache-resident, like a request buffer a broker
 * has just received from a socket) for the same total.
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
#define HOT_POOL 64 /* batches (~1 MiB) cycled through by the hot variant */

/* The sequence of batches one pass appends, as pointers into prebuilt memory. */
typedef struct batch_list {
  uint8_t **p;
  int32_t *len;
  long n;
  size_t total;
} batch_list;

/*
 * Plain write() of each batch, in order, to a new file.  The clock stops after
 * the last write; the file is then fsync'd and removed outside the timed part,
 * as sl_log_close fsyncs the log, so both start each repetition with no dirty
 * pages of the other pending.
 */
static double run_write(const char *dir, const batch_list *bl) {
  char path[4096];
  if (BENCH_PATH(path, "%s/plain.bin", dir) != 0)
    return -1;
  double t = -1, t0 = bench_now();
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return -1;
  for (long i = 0; i < bl->n; i++)
    if (write(fd, bl->p[i], (size_t)bl->len[i]) != bl->len[i])
      goto done;
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
 * Appends every batch with its own sl_log_append call as a broker appends a
 * Produce request (leader + client rules: offsets and epoch assigned in
 * place, every record parsed) to a new log in DIR/NAME (the calling script
 * removes DIR).  The clock stops after the last append; sl_log_close (which
 * fsyncs) runs outside it, as the baseline's fsync does.
 */
static double run_log(const char *dir, const char *name, const batch_list *bl,
                      int64_t *leo) {
  char path[4096];
  sl_log *log = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  if (BENCH_PATH(path, "%s/%s", dir, name) != 0)
    return -1;
  double t = -1, t0 = bench_now();
  int rc = sl_log_open(path, NULL, SL_LOG_CREATE, NULL, &log, &d);
  for (long i = 0; rc == 0 && i < bl->n; i++)
    rc = sl_log_append(log, bl->p[i], (size_t)bl->len[i],
                       SL_APPEND_LEADER | SL_APPEND_CLIENT, 0, 0, NULL, &d);
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

/* cold: every batch of `all` in order; hot: the first HOT_POOL batches of
 * `all`, cycled, for the same count. */
static int make_lists(sl_buf *all, long nbatches, batch_list *cold, batch_list *hot) {
  cold->p = malloc((size_t)nbatches * sizeof(*cold->p));
  cold->len = malloc((size_t)nbatches * sizeof(*cold->len));
  hot->p = malloc((size_t)nbatches * sizeof(*hot->p));
  hot->len = malloc((size_t)nbatches * sizeof(*hot->len));
  if (!cold->p || !cold->len || !hot->p || !hot->len)
    return -1;
  size_t pos = 0;
  cold->total = hot->total = 0;
  for (long i = 0; i < nbatches; i++) {
    int64_t base;
    int8_t magic;
    if (sl_batch_peek(all->data + pos, all->len - pos, &base, &cold->len[i], &magic) != 0)
      return -1;
    cold->p[i] = all->data + pos;
    pos += (size_t)cold->len[i];
    cold->total += (size_t)cold->len[i];
  }
  for (long i = 0; i < nbatches; i++) {
    hot->p[i] = cold->p[i % HOT_POOL];
    hot->len[i] = cold->len[i % HOT_POOL];
    hot->total += (size_t)hot->len[i];
  }
  cold->n = hot->n = nbatches;
  return 0;
}

static void free_list(batch_list *bl) {
  free(bl->p);
  free(bl->len);
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
  batch_list cold = {0}, hot = {0};
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

  if (nbatches < HOT_POOL || make_lists(&all, nbatches, &cold, &hot) != 0) {
    fprintf(stderr, "bench_append: need at least %d batches\n", HOT_POOL);
    goto done;
  }
  /* alternate the variants so that background writeback hits all alike */
  const batch_list *lists[2] = {&cold, &hot};
  double best_w[2] = {1e30, 1e30}, best_l[2] = {1e30, 1e30};
  for (int r = 0; r < reps; r++) {
    for (int v = 0; v < 2; v++) {
      char name[32];
      int64_t leo = -1;
      double tw = run_write(dir, lists[v]);
      if (tw < 0) {
        perror("bench_append: write baseline");
        goto done;
      }
      snprintf(name, sizeof name, "bench%s-%d", v ? "hot" : "cold", r);
      double tl = run_log(dir, name, lists[v], &leo);
      if (tl < 0)
        goto done;
      if (leo != (int64_t)nbatches * PER_BATCH) {
        fprintf(stderr, "bench_append: log end offset %lld, expected %lld\n",
                (long long)leo, (long long)nbatches * PER_BATCH);
        goto done;
      }
      if (tw < best_w[v])
        best_w[v] = tw;
      if (tl < best_l[v])
        best_l[v] = tl;
      if (getenv("BENCH_VERBOSE"))
        fprintf(stderr, "# rep %d %s: write %.3f s, log %.3f s\n", r, v ? "hot" : "cold",
                tw, tl);
    }
  }
  double gb = (double)cold.total / 1e9;
  printf("# %ld batches of %d records (%d-byte values), %zu bytes per batch, %.0f MiB, "
         "best of %d; cold = every batch from the prebuilt %0.f MiB, hot = %d batches "
         "cycled\n",
         nbatches, PER_BATCH, VALUE_LEN, cold.total / (size_t)nbatches,
         (double)cold.total / (1 << 20), reps, (double)cold.total / (1 << 20), HOT_POOL);
  bench_report("write[cold]", gb / best_w[0], "GB/s", 1.0, "write[cold]");
  bench_report("log_append[cold]", gb / best_l[0], "GB/s", best_w[0] / best_l[0],
               "write[cold]");
  gb = (double)hot.total / 1e9;
  bench_report("write[hot]", gb / best_w[1], "GB/s", 1.0, "write[hot]");
  bench_report("log_append[hot]", gb / best_l[1], "GB/s", best_w[1] / best_l[1],
               "write[hot]");
  /* not a target: shows that building batches is not what limits an appender */
  bench_report("builder", (double)built / 1e9 / t_build, "GB/s",
               ((double)built / t_build) / ((double)cold.total / best_w[0]),
               "write[cold]");
  status = 0;
done:
  free_list(&cold);
  free_list(&hot);
  sl_buf_release(&all);
  return status;
}
