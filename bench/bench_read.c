/*
 * bench_read.c - reading a segment back from the page cache with full batch
 * validation (framing and CRC-32C of every batch, docs/FORMAT.md "Framing" and
 * "CRC"), against a plain read() of the same file as the baseline.
 * Method and results: docs/BENCHMARKS.md.
 *
 * Usage: bench_read DIR [MiB = 1024, at most 2000] [repetitions = 5]
 * Appends uncompressed batches of 16 records of ~1 KiB through sl_log_append
 * to a log in DIR/bench-0 (one segment), reads the segment once to make it
 * resident, then times, best of N:
 *   read             read() of the .log in 1 MiB chunks into one buffer
 *                    (the baseline)
 *   log_read+crc     sl_log_read_copy of up to 1 MiB at a time from offset 0 to
 *                    the LEO, every batch checked with sl_batch_validate
 *   log_read[mmap]+crc  sl_log_read slices of up to 1 MiB, each mapped from
 *                    the slice's fd and validated in place (zero copy)
 *   scan+crc         the baseline's read() loop, then every complete batch in
 *                    the chunk framed with sl_batch_peek and validated
 *   scan+crc[mmap]   the file mapped read-only, batches validated in place
 *   scan+crc+records as scan+crc, and every record decoded (sl_batch_reader)
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
#include "seglog/log.h"

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

/* Reads the whole log through sl_log_read_copy, 1 MiB at a time, validating
 * each batch. */
static double run_log_read(sl_log *log, sl_buf *buf, long *nbatches) {
  long nrec = 0;
  *nbatches = 0;
  double t0 = bench_now();
  int64_t off = 0, leo = sl_log_end_offset(log);
  while (off < leo) {
    int64_t next = -1;
    sl_buf_reset(buf);
    if (sl_log_read_copy(log, off, CHUNK, -1, buf, &next, NULL) != 0 || next <= off)
      return -1;
    if (scan_buf(buf->data, buf->len, NULL, nbatches, &nrec) != (long)buf->len)
      return -1;
    off = next;
  }
  return bench_now() - t0;
}

/* The same walk through sl_log_read slices, each slice mapped (read-only,
 * populated) from the slice's fd and validated in place: the zero-copy use of
 * the log read API. */
static double run_log_read_mmap(sl_log *log, long *nbatches) {
  long nrec = 0;
  long page = sysconf(_SC_PAGESIZE);
  *nbatches = 0;
  double t0 = bench_now();
  int64_t off = 0, leo = sl_log_end_offset(log);
  while (off < leo) {
    sl_log_slice sl;
    if (sl_log_read(log, off, CHUNK, -1, &sl, NULL) != 0 || sl.length <= 0)
      return -1;
    int64_t start = sl.position - sl.position % page;
    size_t maplen = (size_t)(sl.position - start + sl.length);
    void *m = mmap(NULL, maplen, PROT_READ, MAP_SHARED | MAP_POPULATE, sl.fd, start);
    long used = -1;
    if (m != MAP_FAILED) {
      used = scan_buf((const uint8_t *)m + (sl.position - start), (size_t)sl.length, NULL,
                      nbatches, &nrec);
      munmap(m, maplen);
    }
    off = sl.next_offset;
    int64_t want = sl.length;
    sl_log_slice_release(&sl);
    if (used != (long)want)
      return -1;
  }
  return bench_now() - t0;
}

/* Creates DIR/bench-0 with `nbatches` batches appended ~1 MiB at a time. */
static int make_log(const char *dir, long nbatches, int per_batch, int value_len,
                    sl_log **out, char *segpath, size_t segcap) {
  char path[4096];
  sl_log_config cfg;
  sl_diag d;
  sl_buf all = SL_BUF_INIT;
  sl_diag_clear(&d);
  sl_log_config_init(&cfg);
  cfg.segment_bytes = INT32_MAX; /* keep it one segment */
  if ((size_t)snprintf(path, sizeof path, "%s/bench-0", dir) >= sizeof path ||
      (size_t)snprintf(segpath, segcap, "%s/00000000000000000000.log", path) >= segcap)
    return SL_EINVAL;
  int rc = bench_build_batches(&all, 0, nbatches, per_batch, value_len);
  if (rc == 0)
    rc = sl_log_open(path, &cfg, SL_LOG_CREATE, NULL, out, &d);
  size_t pos = 0;
  while (rc == 0 && pos < all.len) {
    size_t n = 0; /* whole batches, about 1 MiB */
    while (pos + n < all.len && n < CHUNK) {
      int64_t base;
      int32_t size;
      int8_t magic;
      if ((rc = sl_batch_peek(all.data + pos + n, all.len - pos - n, &base, &size,
                              &magic)) != 0)
        break;
      n += (size_t)size;
    }
    if (rc == 0)
      rc = sl_log_append(*out, all.data + pos, n, SL_APPEND_LEADER, 0, 0, NULL, &d);
    pos += n;
  }
  if (rc == 0)
    rc = sl_log_flush(*out, -1, &d);
  if (rc != 0) {
    char msg[1024];
    fprintf(stderr, "bench_read: %s\n", sl_diag_format(&d, msg, sizeof msg));
  }
  sl_buf_release(&all);
  return rc;
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
  sl_buf seg = SL_BUF_INIT;
  sl_log *log = NULL;
  sl_batch_reader *deep = NULL;
  uint8_t *buf = malloc(2 * (size_t)CHUNK + (1u << 24));
  int status = 1;
  long per_batch = 16, value_len = 1000;
  long nbatches = (mib << 20) / (per_batch * (value_len + 24));
  if (mib > 2000 || !buf || sl_batch_reader_new(0, &deep) != 0)
    goto done;
  if (make_log(dir, nbatches, (int)per_batch, (int)value_len, &log, path, sizeof path) !=
      0)
    goto done;
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    goto done;
  }
  size_t len = (size_t)st.st_size;
  double gb = (double)len / 1e9;
  double best[6] = {1e30, 1e30, 1e30, 1e30, 1e30, 1e30};
  long nb[6] = {0};
  run_read(path, buf, 0, deep, &nb[0]); /* make it resident */
  for (int r = 0; r < reps; r++) {
    double t[6];
    t[0] = run_read(path, buf, 0, deep, &nb[0]);
    t[1] = run_read(path, buf, 1, deep, &nb[1]);
    t[2] = run_mmap(path, len, &nb[2]);
    t[3] = run_read(path, buf, 2, deep, &nb[3]);
    t[4] = run_log_read(log, &seg, &nb[4]);
    t[5] = run_log_read_mmap(log, &nb[5]);
    for (int i = 0; i < 6; i++) {
      if (t[i] < 0) {
        fprintf(stderr, "bench_read: pass %d failed\n", i);
        goto done;
      }
      if (t[i] < best[i])
        best[i] = t[i];
    }
  }
  if (nb[1] != nbatches || nb[2] != nbatches || nb[3] != nbatches || nb[4] != nbatches ||
      nb[5] != nbatches) {
    fprintf(stderr, "bench_read: saw %ld/%ld/%ld/%ld batches, wrote %ld\n", nb[1], nb[2],
            nb[3], nb[4], nbatches);
    goto done;
  }
  printf(
      "# segment %.0f MiB, %ld batches of %ld records, %zu bytes per batch, best of %d\n",
      (double)len / (1 << 20), nbatches, per_batch, len / (size_t)nbatches, reps);
  bench_report("read", gb / best[0], "GB/s", 1.0, "read");
  bench_report("log_read+crc", gb / best[4], "GB/s", best[0] / best[4], "read");
  bench_report("log_read[mmap]+crc", gb / best[5], "GB/s", best[0] / best[5], "read");
  bench_report("scan+crc", gb / best[1], "GB/s", best[0] / best[1], "read");
  bench_report("scan+crc[mmap]", gb / best[2], "GB/s", best[0] / best[2], "read");
  bench_report("scan+crc+records", gb / best[3], "GB/s", best[0] / best[3], "read");
  status = 0;
done:
  sl_log_close(log, NULL);
  sl_buf_release(&seg);
  sl_batch_reader_free(deep);
  free(buf);
  return status;
}
