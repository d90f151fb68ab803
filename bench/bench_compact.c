/*
 * bench_compact.c - log compaction throughput (docs/FORMAT.md "Log
 * compaction"): one sl_cleaner_clean_dir round over a partition whose records
 * reuse a limited key space, against a plain copy of the same segment files
 * (read() + write() + fsync of every file) as the baseline.
 * Method and results: docs/BENCHMARKS.md.
 *
 * Usage: bench_compact DIR [MiB = 256] [repetitions = 3]
 * Builds DIR/src/bench-0 once through sl_log_append (16 MiB segments, 1 KiB
 * records, keys drawn from a space of a quarter of the record count, every
 * 50th record a tombstone), then per repetition: copies it to DIR/rN/bench-0
 * (the timed baseline) and compacts that copy (timed).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"
#include "seglog/batch.h"
#include "seglog/bytes.h"
#include "seglog/cleaner.h"
#include "seglog/log.h"

#define PER_BATCH 16
#define VALUE_LEN 1000
#define SEGMENT_BYTES (16 << 20)

static int report_diag(const char *what, int rc, const sl_diag *d) {
  char msg[1024];
  fprintf(stderr, "bench_compact: %s: %s\n", what, sl_diag_format(d, msg, sizeof msg));
  return rc;
}

/* The source partition: nbatches batches, keys k % nkeys, some tombstones. */
static int make_source(const char *pdir, long nbatches, long nkeys) {
  sl_log_config cfg;
  sl_log *log = NULL;
  sl_batch_builder *b = NULL;
  sl_batch_builder_opts o;
  sl_buf batch = SL_BUF_INIT;
  sl_diag d;
  uint8_t value[VALUE_LEN];
  int rc;
  sl_diag_clear(&d);
  memset(value, 'v', sizeof value);
  sl_log_config_init(&cfg);
  cfg.segment_bytes = SEGMENT_BYTES;
  cfg.cleanup_policy = SL_CLEANUP_COMPACT;
  sl_batch_builder_opts_init(&o);
  if ((rc = sl_log_open(pdir, &cfg, SL_LOG_CREATE, NULL, &log, &d)) != 0)
    return report_diag("open", rc, &d);
  if ((rc = sl_batch_builder_new(&o, &b)) != 0)
    goto done;
  uint64_t x = 88172645463325252ull;
  int64_t ts = 1700000000000LL, rec = 0;
  for (long n = 0; n < nbatches && rc == 0; n++) {
    sl_batch_builder_reset(b, &o);
    for (int i = 0; i < PER_BATCH && rc == 0; i++, rec++, ts++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      char key[16];
      int klen = snprintf(key, sizeof key, "k%014llu", (unsigned long long)(x % nkeys));
      bool tomb = rec % 50 == 49;
      rc = sl_batch_builder_add(b, ts, key, klen, tomb ? NULL : value,
                                tomb ? -1 : VALUE_LEN, NULL, 0);
    }
    sl_buf_reset(&batch);
    if (rc == 0)
      rc = sl_batch_builder_finish(b, &batch);
    if (rc == 0)
      rc = sl_log_append(log, batch.data, batch.len, SL_APPEND_LEADER, 0, 0, NULL, &d);
  }
  if (rc == 0)
    rc = sl_log_roll(log, 0, &d); /* everything written becomes cleanable */
  if (rc != 0)
    report_diag("building the source log", rc, &d);
done:
  if (log && sl_log_close(log, &d) != 0 && rc == 0)
    rc = report_diag("close", SL_EIO, &d);
  sl_batch_builder_free(b);
  sl_buf_release(&batch);
  return rc;
}

/* Copies every regular file of src into the new directory dst, fsyncing each
 * (the cleaner makes its output durable before swapping it in, so the
 * baseline does too); returns the bytes copied or -1. */
static int64_t copy_dir(const char *src, const char *dst, uint8_t *buf, size_t cap) {
  char a[4096], b[4096];
  int64_t total = 0;
  DIR *dir = opendir(src);
  if (!dir || mkdir(dst, 0755) != 0) {
    if (dir)
      closedir(dir);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (BENCH_PATH(a, "%s/%s", src, e->d_name) != 0 ||
        BENCH_PATH(b, "%s/%s", dst, e->d_name) != 0) {
      total = -1;
      break;
    }
    int in = open(a, O_RDONLY), out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, cap)) > 0) {
      if (write(out, buf, (size_t)n) != n) {
        n = -1;
        break;
      }
      total += n;
    }
    if (in >= 0)
      close(in);
    if (out >= 0 && (fsync(out) != 0 || close(out) != 0))
      n = -1;
    if (in < 0 || out < 0 || n < 0) {
      total = -1;
      break;
    }
  }
  closedir(dir);
  return total;
}

static int64_t dir_log_bytes(const char *pdir) {
  char p[4096];
  int64_t total = 0;
  DIR *dir = opendir(pdir);
  if (!dir)
    return -1;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    size_t l = strlen(e->d_name);
    struct stat st;
    if (l < 4 || strcmp(e->d_name + l - 4, ".log") != 0)
      continue;
    if (BENCH_PATH(p, "%s/%s", pdir, e->d_name) == 0 && stat(p, &st) == 0)
      total += st.st_size;
  }
  closedir(dir);
  return total;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_compact DIR [MiB] [reps]\n");
    return 2;
  }
  const char *dir = argv[1];
  long mib = (long)bench_arg(argc, argv, 2, 256);
  int reps = (int)bench_arg(argc, argv, 3, 3);
  long nbatches = (mib << 20) / (PER_BATCH * (VALUE_LEN + 30));
  long nkeys = nbatches * PER_BATCH / 4;
  char src[4096], path[4096];
  size_t cap = 1u << 20;
  uint8_t *buf = malloc(cap);
  int status = 1;
  if (BENCH_PATH(path, "%s/src", dir) != 0 || BENCH_PATH(src, "%s/src/bench-0", dir) != 0)
    goto done;
  if (!buf || mkdir(path, 0755) != 0 || make_source(src, nbatches, nkeys) != 0)
    goto done;
  int64_t in_bytes = dir_log_bytes(src);
  double best_copy = 1e30, best_clean = 1e30;
  sl_cleaner_stats best_st;
  memset(&best_st, 0, sizeof best_st);
  for (int r = 0; r < reps; r++) {
    char rdir[4096], pdir[4096];
    if (BENCH_PATH(rdir, "%s/r%d", dir, r) != 0 ||
        BENCH_PATH(pdir, "%s/r%d/bench-0", dir, r) != 0 || mkdir(rdir, 0755) != 0)
      goto done;
    double t0 = bench_now();
    int64_t copied = copy_dir(src, pdir, buf, cap);
    double t_copy = bench_now() - t0;
    if (copied < 0) {
      perror("bench_compact: copy");
      goto done;
    }
    sl_cleaner_opts o;
    sl_cleaner_stats st;
    sl_diag d;
    sl_diag_clear(&d);
    sl_cleaner_opts_init(&o);
    o.force = true;
    o.segment_bytes = SEGMENT_BYTES;
    t0 = bench_now();
    int rc = sl_cleaner_clean_dir(pdir, &o, &st, &d);
    double t_clean = bench_now() - t0;
    if (rc != 0) {
      report_diag("clean", rc, &d);
      goto done;
    }
    if (!st.cleaned || st.bytes_after >= st.bytes_before) {
      fprintf(stderr, "bench_compact: the round cleaned nothing\n");
      goto done;
    }
    /* seconds per byte: the baseline moves every byte of the partition dir
     * once; the cleaner's figure is per byte of input .log */
    double spb_copy = t_copy / (double)copied, spb_clean = t_clean / (double)in_bytes;
    if (spb_copy < best_copy)
      best_copy = spb_copy;
    if (spb_clean < best_clean) {
      best_clean = spb_clean;
      best_st = st;
    }
  }
  printf("# %ld batches of %d records, %ld keys, %.0f MiB of .log in %d-MiB segments; "
         "kept %.0f%% of the bytes; best of %d\n",
         nbatches, PER_BATCH, nkeys, (double)in_bytes / (1 << 20), SEGMENT_BYTES >> 20,
         100.0 * (double)best_st.bytes_after / (double)best_st.bytes_before, reps);
  bench_report("copy", 1e-6 / best_copy, "MB/s", 1.0, "copy");
  bench_report("compact", 1e-6 / best_clean, "MB/s", best_copy / best_clean, "copy");
  status = 0;
done:
  free(buf);
  return status;
}
