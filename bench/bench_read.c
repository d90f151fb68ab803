/*
 * bench_read.c - reading a segment back from the page cache with full batch
 * validation (framing and CRC-32C of every batch, docs/FORMAT.md "Framing" and
 * "CRC"), against a plain read() of the same file as the baseline.
 * Method and results: docs/BENCHMARKS.md.
 *
 * Usage: bench_read DIR [MiB = 1024] [repetitions = 5]
 * Writes DIR/00000000000000000000.log (uncompressed batches of 16 records of
 * ~1 KiB), reads it once to make it resident, then times, best of N:
 *   read      read() in 1 MiB chunks into one buffer (the baseline)
 *   scan      the same read() loop, then every complete batch in the chunk is
 *             framed with sl_batch_peek and checked with sl_batch_validate
 *   scan-mmap the file mapped read-only, batches validated in place
 *   records   as scan, and every record decoded with sl_batch_reader
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"
#include "seglog/batch.h"
#include "seglog/bytes.h"

#define CHUNK (1u << 20)

/* Validates the complete batches in [p, p+len); returns the bytes consumed
 * (a trailing partial batch is left), or -1 on a bad batch. */
static long scan_buf(const uint8_t *p, size_t len, sl_batch_reader *deep, long *nbatches,
                     long *nrecords) {
  size_t pos = 0;
  for (;;) {
    int64_t base;
    int32_t size;
    int8_t magic;
    int rc = sl_batch_peek(p + pos, len - pos, &base, &size, &magic);
    if (rc == SL_ETRUNCATED || (rc == 0 && (size_t)size > len - pos))
      return (long)pos;
    if (rc != 0 || sl_batch_validate(p + pos, (size_t)size, NULL) != 0)
      return -1;
    if (deep) {
      sl_record rec;
      if (sl_batch_reader_open(deep, p + pos, (size_t)size, NULL, NULL) != 0)
        return -1;
      while ((rc = sl_batch_reader_next(deep, &rec, NULL)) == 1)
        (*nrecords)++;
      if (rc != 0)
        return -1;
    }
    (*nbatches)++;
    pos += (size_t)size;
  }
}

/* mode 0: plain read; 1: read + validate; 2: read + validate + records */
static double run_read(const char *path, uint8_t *buf, int mode, sl_batch_reader *deep,
                       long *nbatches) {
  long nrec = 0;
  *nbatches = 0;
  double t0 = bench_now();
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  size_t have = 0;
  uint64_t sum = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, CHUNK);
    if (n < 0) {
      close(fd);
      return -1;
    }
    if (n == 0)
      break;
    have += (size_t)n;
    if (mode == 0) {
      sum += buf[0];
      have = 0;
      continue;
    }
    long used = scan_buf(buf, have, mode == 2 ? deep : NULL, nbatches, &nrec);
    if (used < 0) {
      close(fd);
      return -1;
    }
    memmove(buf, buf + used, have - (size_t)used); /* keep the partial batch */
    have -= (size_t)used;
  }
  close(fd);
  bench_sink += sum + (uint64_t)nrec;
  if (mode != 0 && have != 0)
    return -1; /* the file ends inside a batch */
  return bench_now() - t0;
}

static double run_mmap(const char *path, size_t len, long *nbatches) {
  long nrec = 0;
  *nbatches = 0;
  double t0 = bench_now();
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  void *m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED)
    return -1;
  long used = scan_buf(m, len, NULL, nbatches, &nrec);
  munmap(m, len);
  if (used != (long)len)
    return -1;
  return bench_now() - t0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_read DIR [MiB] [reps]\n");
    return 2;
  }
  const char *dir = argv[1];
  long mib = (long)bench_arg(argc, argv, 2, 1024);
  int reps = (int)bench_arg(argc, argv, 3, 5);
  char path[4096];
  snprintf(path, sizeof path, "%s/00000000000000000000.log", dir);
  sl_buf seg = SL_BUF_INIT;
  sl_batch_reader *deep = NULL;
  uint8_t *buf = malloc(2 * (size_t)CHUNK + (1u << 24));
  int status = 1;
  long per_batch = 16, value_len = 1000;
  long nbatches = (mib << 20) / (per_batch * (value_len + 24));
  if (!buf || sl_batch_reader_new(0, &deep) != 0)
    goto done;
  if (bench_build_batches(&seg, 0, nbatches, (int)per_batch, (int)value_len) != 0) {
    fprintf(stderr, "bench_read: building batches failed\n");
    goto done;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, seg.data, seg.len) != (ssize_t)seg.len || close(fd) != 0) {
    perror(path);
    goto done;
  }
  size_t len = seg.len;
  sl_buf_release(&seg);
  double gb = (double)len / 1e9;
  double best[4] = {1e30, 1e30, 1e30, 1e30};
  long nb[4] = {0};
  run_read(path, buf, 0, deep, &nb[0]); /* make it resident */
  for (int r = 0; r < reps; r++) {
    double t[4];
    t[0] = run_read(path, buf, 0, deep, &nb[0]);
    t[1] = run_read(path, buf, 1, deep, &nb[1]);
    t[2] = run_mmap(path, len, &nb[2]);
    t[3] = run_read(path, buf, 2, deep, &nb[3]);
    for (int i = 0; i < 4; i++) {
      if (t[i] < 0) {
        fprintf(stderr, "bench_read: pass %d failed\n", i);
        goto done;
      }
      if (t[i] < best[i])
        best[i] = t[i];
    }
  }
  if (nb[1] != nbatches || nb[2] != nbatches || nb[3] != nbatches) {
    fprintf(stderr, "bench_read: saw %ld/%ld/%ld batches, wrote %ld\n", nb[1], nb[2],
            nb[3], nbatches);
    goto done;
  }
  printf("# segment %.0f MiB, %ld batches of %ld records, best of %d\n",
         (double)len / (1 << 20), nbatches, per_batch, reps);
  bench_report("read", gb / best[0], "GB/s", 1.0, "read");
  bench_report("scan+crc", gb / best[1], "GB/s", best[0] / best[1], "read");
  bench_report("scan+crc[mmap]", gb / best[2], "GB/s", best[0] / best[2], "read");
  bench_report("scan+crc+records", gb / best[3], "GB/s", best[0] / best[3], "read");
  status = 0;
done:
  unlink(path);
  sl_buf_release(&seg);
  sl_batch_reader_free(deep);
  free(buf);
  return status;
}
