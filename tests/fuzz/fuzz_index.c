/*
 * fuzz_index.c - the index parsers of seglog/index.h on hostile bytes, and the
 * segment loader behind them.
 *
 * First byte < 0xf0: it picks the base offset's magnitude and the rest is read
 * as an offset index, a time index and a transaction index image.  Invariants:
 * no crash or out-of-bounds read, live counts never exceed the slot counts,
 * and every entry the counters accept decodes and re-encodes to the same
 * bytes.
 *
 * First byte >= 0xf0: the rest is split into a .log and a .index (the second
 * byte says where) of one segment in a scratch partition dir; sl_log_verify
 * walks it, then sl_log_open recovers it, and a second verify must find
 * nothing wrong.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seglog/index.h"
#include "seglog/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_cb(void *ctx, const sl_verify_problem *p) {
  (void)p;
  ++*(int64_t *)ctx;
  return 0;
}

static void write_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    abort();
  if (n > 0 && fwrite(p, 1, n, f) != n)
    abort();
  fclose(f);
}

static char root[256], dir[300], logp[400], idxp[400];

static void empty_dir(void) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || e->d_name[1] == '.'))
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
}

static void cleanup(void) {
  char path[400];
  empty_dir();
  rmdir(dir);
  snprintf(path, sizeof(path), "%s/.lock", root);
  unlink(path);
  rmdir(root);
}

static void fuzz_loader(const uint8_t *p, size_t len) {
  if (root[0] == '\0') {
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/fuzz_index.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(root) == NULL)
      abort();
    atexit(cleanup);
    snprintf(dir, sizeof(dir), "%s/t-0", root);
    snprintf(logp, sizeof(logp), "%s/00000000000000000000.log", dir);
    snprintf(idxp, sizeof(idxp), "%s/00000000000000000000.index", dir);
  }
  if (len < 1)
    return;
  size_t split = (size_t)p[0] * 8 < len - 1 ? (size_t)p[0] * 8 : len - 1;
  const uint8_t *ix = p + 1, *lg = p + 1 + split;
  size_t ixn = split, lgn = len - 1 - split;
  /* Fresh partition dir each time (it holds only plain files). */
  empty_dir();
  sl_log *log = NULL;
  if (sl_log_open(dir, NULL, SL_LOG_CREATE, NULL, &log, NULL) != SL_OK)
    abort();
  sl_log_close(log, NULL);
  write_file(logp, lg, lgn);
  write_file(idxp, ix, ixn);
  int64_t problems = 0, counted = 0;
  if (sl_log_verify(dir, count_cb, &counted, &problems, NULL) != SL_OK)
    abort();
  if (problems != counted)
    abort();
  sl_log_open_opts o;
  sl_log_open_opts_init(&o);
  if (sl_log_open(dir, NULL, 0, &o, &log, NULL) != SL_OK)
    abort();
  sl_buf b = SL_BUF_INIT;
  int64_t next = sl_log_start_offset(log), leo = sl_log_end_offset(log);
  while (next < leo) {
    int64_t n;
    sl_buf_reset(&b);
    if (sl_log_read_copy(log, next, 1 << 16, -1, &b, &n, NULL) != SL_OK || n <= next)
      break;
    next = n;
  }
  sl_buf_release(&b);
  if (sl_log_close(log, NULL) != SL_OK)
    abort();
  if (sl_log_verify(dir, NULL, NULL, &problems, NULL) != SL_OK || problems != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  if (data[0] >= 0xf0) {
    fuzz_loader(data + 1, size - 1);
    return 0;
  }
  int64_t base = (int64_t)data[0] << (data[0] % 40);
  const uint8_t *p = data + 1;
  size_t len = size - 1;
  sl_diag d;

  size_t n = sl_offset_index_count(len);
  size_t live = sl_offset_index_live_count(p, len);
  if (live > n)
    abort();
  for (size_t i = 0; i < n; i++) {
    sl_offset_position e;
    uint8_t back[SL_OFFSET_INDEX_ENTRY_SIZE];
    if (sl_offset_index_entry(p, len, i, base, &e) != SL_OK)
      abort();
    sl_offset_index_encode(back, base, e.offset, (int32_t)e.position);
    if (memcmp(back, p + i * SL_OFFSET_INDEX_ENTRY_SIZE, sizeof(back)) != 0)
      abort();
  }
  (void)sl_offset_index_sanity_check(p, len, base, &d);

  n = sl_time_index_count(len);
  live = sl_time_index_live_count(p, len);
  if (live > n)
    abort();
  for (size_t i = 0; i < n; i++) {
    sl_timestamp_offset e;
    uint8_t back[SL_TIME_INDEX_ENTRY_SIZE];
    if (sl_time_index_entry(p, len, i, base, &e) != SL_OK)
      abort();
    sl_time_index_encode(back, base, e.timestamp, e.offset);
    if (memcmp(back, p + i * SL_TIME_INDEX_ENTRY_SIZE, sizeof(back)) != 0)
      abort();
  }
  (void)sl_time_index_sanity_check(p, len, base, &d);

  n = len / SL_TXN_INDEX_ENTRY_SIZE;
  for (size_t i = 0; i < n; i++) {
    sl_aborted_txn t;
    if (sl_txn_index_entry(p, len, i, &t) == SL_OK) {
      uint8_t back[SL_TXN_INDEX_ENTRY_SIZE];
      sl_txn_index_encode(back, &t);
      if (memcmp(back, p + i * SL_TXN_INDEX_ENTRY_SIZE, sizeof(back)) != 0)
        abort();
    }
  }
  (void)sl_txn_index_sanity_check(p, len, base, &d);
  return 0;
}
