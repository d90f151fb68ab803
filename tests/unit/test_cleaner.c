/*
 * test_cleaner.c - the log cleaner (format/src/cleaner.c, offsetmap.c): key
 * hash and offset map, the cleanable-range plan, and cleaning rounds on real
 * partition dirs written through the log API, including a simulated crash at
 * every file operation followed by a reopen (docs/FORMAT.md, "Log
 * compaction").
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "testutil.h"

#include "cleaner_int.h"
#include "fileio_int.h"
#include "seglog/batch.h"
#include "seglog/cleaner.h"
#include "seglog/crc.h"
#include "seglog/log.h"

#define NOW 1700000000000LL
#define DAY 86400000LL

/* ---- helpers ---- */

typedef struct rec {
  int64_t offset;
  char key[16]; /* "" with has_key false = null key */
  char value[16];
  bool has_key, has_value;
} rec;

typedef struct view {
  rec r[512];
  int n;
  int batches;
  int empty_batches;
} view;

static char *part_dir(char **root) {
  *root = tu_mkdtemp();
  char *d = tu_path(*root, "t-0");
  assert_int_equal(mkdir(d, 0755), 0);
  return d;
}

static void cfg_small(sl_log_config *c) {
  sl_log_config_init(c);
  c->cleanup_policy = SL_CLEANUP_COMPACT;
  c->file_delete_delay_ms = 0;
}

static sl_log *open_log(const char *dir, const sl_log_config *cfg, bool create) {
  sl_log_open_opts oo;
  sl_log_open_opts_init(&oo);
  oo.now_ms = NOW;
  sl_log *log = NULL;
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_log_open(dir, cfg, create ? SL_LOG_CREATE : 0, &oo, &log, &d);
  if (rc) {
    char buf[1024];
    fprintf(stderr, "open: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
  }
  assert_int_equal(rc, SL_OK);
  return log;
}

typedef struct kv {
  const char *k; /* NULL = null key */
  const char *v; /* NULL = tombstone */
} kv;

/* Appends one batch (leader mode) and returns its base offset. */
static int64_t append_batch(sl_log *log, const kv *recs, int n, int64_t pid,
                            int16_t epoch, int32_t seq, bool txn, int64_t ts) {
  sl_batch_builder_opts o;
  sl_batch_builder_opts_init(&o);
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  o.transactional = txn;
  sl_batch_builder *b;
  assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
  for (int i = 0; i < n; i++)
    assert_int_equal(
        sl_batch_builder_add(b, ts + i, recs[i].k,
                             recs[i].k ? (int32_t)strlen(recs[i].k) : -1, recs[i].v,
                             recs[i].v ? (int32_t)strlen(recs[i].v) : -1, NULL, 0),
        SL_OK);
  sl_buf out = SL_BUF_INIT;
  assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
  sl_append_info info;
  assert_int_equal(
      sl_log_append(log, out.data, out.len, SL_APPEND_LEADER, 0, NOW, &info, NULL),
      SL_OK);
  sl_buf_release(&out);
  sl_batch_builder_free(b);
  return info.first_offset;
}

static void append_kv(sl_log *log, const char *k, const char *v) {
  kv r = {k, v};
  append_batch(log, &r, 1, -1, -1, -1, false, NOW - DAY);
}

static void roll(sl_log *log) {
  assert_int_equal(sl_log_roll(log, NOW, NULL), SL_OK);
}

static void close_log(sl_log *log) {
  assert_int_equal(sl_log_close(log, NULL), SL_OK);
}

/* Every record of the log, read through a fresh open (recovery included). */
static void read_view(const char *dir, view *v) {
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false);
  memset(v, 0, sizeof(*v));
  sl_batch_reader *r;
  assert_int_equal(sl_batch_reader_new(0, &r), SL_OK);
  int64_t off = sl_log_start_offset(log), leo = sl_log_end_offset(log);
  while (off < leo) {
    sl_buf b = SL_BUF_INIT;
    int64_t next = -1;
    assert_int_equal(sl_log_read_copy(log, off, 1 << 20, -1, &b, &next, NULL), SL_OK);
    if (b.len == 0) {
      sl_buf_release(&b);
      break;
    }
    size_t pos = 0;
    while (pos < b.len) {
      int64_t base;
      int32_t sz;
      int8_t magic;
      assert_int_equal(sl_batch_peek(b.data + pos, b.len - pos, &base, &sz, &magic),
                       SL_OK);
      assert_int_equal(sl_batch_validate(b.data + pos, (size_t)sz, NULL), SL_OK);
      sl_batch_header h;
      assert_int_equal(sl_batch_reader_open(r, b.data + pos, (size_t)sz, &h, NULL),
                       SL_OK);
      v->batches++;
      if (h.records_count == 0)
        v->empty_batches++;
      sl_record rr;
      while (sl_batch_reader_next(r, &rr, NULL) == 1) {
        rec *x = &v->r[v->n++];
        x->offset = rr.offset;
        x->has_key = rr.key_len >= 0;
        x->has_value = rr.value_len >= 0;
        if (rr.key_len > 0)
          snprintf(x->key, sizeof(x->key), "%.*s", rr.key_len, (const char *)rr.key);
        if (rr.value_len > 0)
          snprintf(x->value, sizeof(x->value), "%.*s", rr.value_len,
                   (const char *)rr.value);
      }
      pos += (size_t)sz;
    }
    off = next;
    sl_buf_release(&b);
  }
  sl_batch_reader_free(r);
  close_log(log);
}

/* The latest record per key (the consumer's compacted view), as
 * "k=v@off;..." sorted by key; deleted keys are left out. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void latest_per_key(const view *v, char *out, size_t cap) {
  static char items[512][48];
  const char *ptr[512];
  int n = 0;
  for (int i = 0; i < v->n; i++) {
    if (!v->r[i].has_key)
      continue;
    bool later = false;
    for (int j = i + 1; j < v->n; j++)
      if (v->r[j].has_key && strcmp(v->r[j].key, v->r[i].key) == 0)
        later = true;
    if (later || !v->r[i].has_value)
      continue;
    snprintf(items[n], sizeof(items[n]), "%s=%s@%" PRId64 ";", v->r[i].key, v->r[i].value,
             v->r[i].offset);
    ptr[n] = items[n];
    n++;
  }
  qsort(ptr, (size_t)n, sizeof(ptr[0]), cmp_str);
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s", ptr[i]);
  }
}

static sl_cleaner_opts opts_at(int64_t now) {
  sl_cleaner_opts o;
  sl_cleaner_opts_init(&o);
  o.now_ms = now;
  o.dedupe_buffer_size = 1 << 20;
  return o;
}

static int clean(const char *dir, const sl_cleaner_opts *o, sl_cleaner_stats *st) {
  sl_diag d;
  sl_diag_clear(&d);
  int rc = sl_cleaner_clean_dir(dir, o, st, &d);
  if (rc) {
    char buf[1024];
    fprintf(stderr, "clean: %s\n", sl_diag_format(&d, buf, sizeof(buf)));
  }
  return rc;
}

static uint8_t *seg_file(const char *dir, int64_t base, const char *suffix, size_t *len) {
  char name[64];
  snprintf(name, sizeof(name), "%020" PRId64 "%s", base, suffix);
  char *p = tu_path(dir, name);
  uint8_t *data = tu_read_file(p, len);
  free(p);
  return data;
}

/* ---- hash and offset map ---- */

static void test_hash128(void **state) {
  (void)state;
  uint64_t h[2];
  sl__hash128("", 0, h);
  assert_true(h[0] == 0 && h[1] == 0);
  /* MurmurHash3_x64_128("The quick brown fox jumps over the lazy dog", 0). */
  const char *s = "The quick brown fox jumps over the lazy dog";
  sl__hash128(s, strlen(s), h);
  assert_true(h[0] == 0xe34bbc7bbc071b6cULL);
  assert_true(h[1] == 0x7a433ca9c49a9347ULL);
}

static void test_offset_map(void **state) {
  (void)state;
  sl__offset_map m;
  assert_int_equal(sl__offset_map_init(&m, 10, 0.9), SL_EINVAL);
  assert_int_equal(sl__offset_map_init(&m, 24 * 10, 0.5), SL_OK);
  assert_int_equal(m.nslots, 10);
  assert_int_equal(m.max_entries, 5);
  assert_int_equal(sl__offset_map_get(&m, "a", 1), -1);
  assert_int_equal(sl__offset_map_put(&m, "a", 1, 3), SL_OK);
  assert_int_equal(sl__offset_map_put(&m, "a", 1, 7), SL_OK);
  assert_int_equal(sl__offset_map_get(&m, "a", 1), 7);
  assert_int_equal(m.size, 1);
  assert_int_equal(m.latest_offset, 7);
  char k[8];
  for (int i = 0; i < 4; i++) {
    snprintf(k, sizeof(k), "k%d", i);
    assert_int_equal(sl__offset_map_put(&m, k, strlen(k), 10 + i), SL_OK);
  }
  assert_true(sl__offset_map_full(&m));
  assert_int_equal(sl__offset_map_put(&m, "new", 3, 20), SL_ETOO_LARGE);
  assert_int_equal(sl__offset_map_put(&m, "k2", 2, 21), SL_OK); /* existing key */
  assert_int_equal(sl__offset_map_get(&m, "k2", 2), 21);
  assert_int_equal(sl__offset_map_get(&m, "zz", 2), -1);
  sl__offset_map_clear(&m);
  assert_int_equal(sl__offset_map_get(&m, "a", 1), -1);
  assert_int_equal(m.latest_offset, -1);
  sl__offset_map_release(&m);
}

/* ---- plan ---- */

static void test_plan(void **state) {
  (void)state;
  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_segment s[4] = {{0, 1000, NOW - DAY, NOW - DAY},
                             {10, 1000, NOW - DAY, NOW - DAY},
                             {20, 1000, NOW - 10, NOW - 20},
                             {30, 500, NOW, NOW}};
  sl_cleaner_plan p;
  /* Never cleaned: everything below the active segment is dirty. */
  assert_int_equal(sl_cleaner_plan_compute(s, 4, 0, 35, &o, &p), SL_OK);
  assert_int_equal(p.first_dirty_offset, 0);
  assert_int_equal(p.first_uncleanable_offset, 30);
  assert_int_equal(p.clean_bytes, 0);
  assert_int_equal(p.cleanable_bytes, 3000);
  assert_true(p.should_clean);
  /* Cleaned up to 20: ratio 1000/3000 < 0.5: no clean. */
  o.first_dirty_offset = 20;
  assert_int_equal(sl_cleaner_plan_compute(s, 4, 0, 35, &o, &p), SL_OK);
  assert_int_equal(p.clean_bytes, 2000);
  assert_int_equal(p.cleanable_bytes, 1000);
  assert_true(p.cleanable_ratio > 0.333 && p.cleanable_ratio < 0.334);
  assert_false(p.should_clean);
  o.min_cleanable_dirty_ratio = 0.3;
  assert_int_equal(sl_cleaner_plan_compute(s, 4, 0, 35, &o, &p), SL_OK);
  assert_true(p.should_clean);
  /* max.compaction.lag.ms forces it below the ratio. */
  o.min_cleanable_dirty_ratio = 0.5;
  o.max_compaction_lag_ms = 15;
  assert_int_equal(sl_cleaner_plan_compute(s, 4, 0, 35, &o, &p), SL_OK);
  assert_int_equal(p.max_compaction_delay_ms, 5);
  assert_true(p.should_clean);
  o.max_compaction_lag_ms = INT64_MAX;
  /* min.compaction.lag.ms: segment 20 is too young, so [0, 20) only. */
  o.first_dirty_offset = -1;
  o.min_compaction_lag_ms = 1000;
  assert_int_equal(sl_cleaner_plan_compute(s, 4, 0, 35, &o, &p), SL_OK);
  assert_int_equal(p.first_uncleanable_offset, 20);
  assert_int_equal(p.cleanable_bytes, 2000);
  o.min_compaction_lag_ms = 0;
  /* The LSO rounds down to its segment's base. */
  o.last_stable_offset = 15;
  assert_int_equal(sl_cleaner_plan_compute(s, 4, 0, 35, &o, &p), SL_OK);
  assert_int_equal(p.first_uncleanable_offset, 10);
  o.last_stable_offset = -1;
  /* A checkpoint beyond the LEO resets to the log start. */
  o.first_dirty_offset = 99;
  assert_int_equal(sl_cleaner_plan_compute(s, 4, 0, 35, &o, &p), SL_OK);
  assert_true(p.checkpoint_reset);
  assert_int_equal(p.first_dirty_offset, 0);
  /* Only the active segment: nothing to clean. */
  o.first_dirty_offset = -1;
  assert_int_equal(sl_cleaner_plan_compute(&s[3], 1, 30, 35, &o, &p), SL_OK);
  assert_false(p.should_clean);
  assert_int_equal(sl_cleaner_plan_compute(s, 0, 0, 0, &o, &p), SL_EINVAL);
}

/* ---- cleaning rounds ---- */

/* 3 inactive segments of 4 single-record batches + an active one. */
static void build_basic(const char *dir) {
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  const char *keys[] = {"a", "b", "c", "a", "b", "a", "d", "c", "a", "b", "e", "a"};
  for (int i = 0; i < 12; i++) {
    char v[8];
    snprintf(v, sizeof(v), "v%d", i);
    append_kv(log, keys[i], v);
    if (i % 4 == 3)
      roll(log);
  }
  append_kv(log, "a", "active"); /* offset 12, in the active segment */
  close_log(log);
}

static void test_latest_per_key(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  build_basic(dir);
  view before, after;
  read_view(dir, &before);
  char want[512], got[512];
  latest_per_key(&before, want, sizeof(want));
  size_t alen;
  uint8_t *active_before = seg_file(dir, 12, ".log", &alen);
  assert_non_null(active_before);

  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_true(st.cleaned);
  assert_int_equal(st.plan.first_uncleanable_offset, 12);
  assert_int_equal(st.end_offset, 12);
  assert_int_equal(st.segments_before, 3);
  assert_int_equal(st.segments_after, 1); /* merged: they fit segment.bytes */
  assert_int_equal(st.records_before, 12);

  read_view(dir, &after);
  latest_per_key(&after, got, sizeof(got));
  assert_string_equal(got, want);
  /* Exactly the latest per key below 12, offsets unchanged, + the active. */
  const int64_t keep[] = {6, 7, 9, 10, 11, 12};
  assert_int_equal(after.n, 6);
  for (int i = 0; i < 6; i++)
    assert_int_equal(after.r[i].offset, keep[i]);
  assert_string_equal(after.r[0].key, "d");
  assert_string_equal(after.r[4].value, "v11");
  assert_int_equal(st.records_after, 5);
  /* The active segment is byte-identical; the old ones are gone. */
  size_t alen2;
  uint8_t *active_after = seg_file(dir, 12, ".log", &alen2);
  assert_int_equal(alen, alen2);
  assert_memory_equal(active_before, active_after, alen);
  size_t l;
  uint8_t *gone = seg_file(dir, 4, ".log", &l);
  assert_null(gone);
  /* cleaner-offset-checkpoint in the log dir. */
  char *cp = tu_path(root, "cleaner-offset-checkpoint");
  uint8_t *text = tu_read_file(cp, &l);
  assert_non_null(text);
  assert_string_equal((char *)text, "0\n1\nt 0 12\n");
  int64_t off;
  assert_int_equal(sl_cleaner_checkpoint_read(dir, &off, NULL), SL_OK);
  assert_int_equal(off, 12);
  sl_cleaner_plan plan;
  assert_int_equal(sl_cleaner_plan_dir(dir, NULL, &plan, NULL), SL_OK);
  assert_int_equal(plan.first_dirty_offset, 12);
  assert_int_equal(plan.cleanable_bytes, 0);
  assert_false(plan.should_clean);
  /* Next round: nothing dirty, the ratio is 0: no cleaning. */
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_false(st.cleaned);
  assert_int_equal(st.plan.first_dirty_offset, 12);
  free(text);
  free(cp);
  free(active_before);
  free(active_after);
  free(dir);
  tu_rmtree_free(root);
}

static void test_min_ratio_respected(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  build_basic(dir);
  size_t l0;
  uint8_t *seg0 = seg_file(dir, 0, ".log", &l0);
  sl_cleaner_opts o = opts_at(NOW);
  o.first_dirty_offset = 8; /* clean 8 of 12: ratio 1/3 */
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_false(st.cleaned);
  assert_true(st.plan.cleanable_ratio < 0.5 && st.plan.cleanable_ratio > 0.3);
  size_t l1;
  uint8_t *seg0b = seg_file(dir, 0, ".log", &l1);
  assert_int_equal(l0, l1);
  assert_memory_equal(seg0, seg0b, l0);
  /* Forced, the same plan cleans, and only keys >= 8 drive the map. */
  o.force = true;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_true(st.cleaned);
  view v;
  read_view(dir, &v);
  /* Map over [8,12): a@11, b@9, c(none), e@10.  c@2 and c@7, d@6 survive
   * (no later key in the map), a/b older copies go. */
  const int64_t keep[] = {2, 6, 7, 9, 10, 11, 12};
  assert_int_equal(v.n, 7);
  for (int i = 0; i < 7; i++)
    assert_int_equal(v.r[i].offset, keep[i]);
  free(seg0);
  free(seg0b);
  free(dir);
  tu_rmtree_free(root);
}

static void test_tombstones_and_null_keys(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  append_kv(log, "a", "1");
  append_kv(log, NULL, "nokey");
  append_kv(log, "b", "2");
  roll(log);
  append_kv(log, "a", NULL); /* tombstone at 3 */
  append_kv(log, "c", "3");
  roll(log);
  append_kv(log, "z", "active");
  close_log(log);

  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.invalid_records, 1);
  view v;
  read_view(dir, &v);
  /* b@2, tombstone a@3, c@4, z@5. */
  assert_int_equal(v.n, 4);
  assert_int_equal(v.r[0].offset, 2);
  assert_int_equal(v.r[1].offset, 3);
  assert_false(v.r[1].has_value);
  /* The tombstone's batch now carries the delete horizon. */
  size_t len;
  uint8_t *seg = seg_file(dir, 0, ".log", &len);
  assert_non_null(seg);
  size_t pos = 0;
  bool found = false;
  while (pos < len) {
    sl_batch_header h;
    assert_int_equal(sl_batch_header_decode(seg + pos, len - pos, &h, NULL), SL_OK);
    if (h.base_offset == 3) {
      found = true;
      assert_true(h.attributes & SL_ATTR_DELETE_HORIZON);
      assert_true(h.base_timestamp == NOW + DAY);
      assert_int_equal(sl_batch_validate(seg + pos, (size_t)sl_batch_size(&h), NULL),
                       SL_OK);
    } else {
      assert_false(h.attributes & SL_ATTR_DELETE_HORIZON);
    }
    pos += (size_t)sl_batch_size(&h);
  }
  assert_true(found);
  free(seg);

  /* Before the horizon the tombstone stays (forced: nothing is dirty). */
  o.force = true;
  o.first_dirty_offset = 0;
  o.now_ms = NOW + DAY - 1;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  read_view(dir, &v);
  assert_int_equal(v.n, 4);
  assert_int_equal(st.tombstones_dropped, 0);
  /* At the horizon it goes. */
  o.now_ms = NOW + DAY;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.tombstones_dropped, 1);
  read_view(dir, &v);
  assert_int_equal(v.n, 3);
  assert_string_equal(v.r[0].key, "b");
  assert_string_equal(v.r[1].key, "c");
  free(dir);
  tu_rmtree_free(root);
}

static void test_producer_last_batch_kept_empty(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  kv r1[2] = {{"a", "1"}, {"b", "1"}};
  append_batch(log, r1, 2, 42, 3, 0, false, NOW - DAY); /* 0-1, pid 42 */
  kv r2[2] = {{"x", "1"}, {"y", "1"}};
  append_batch(log, r2, 2, 43, 0, 0, false, NOW - DAY); /* 2-3, pid 43 */
  append_batch(log, r2, 2, 43, 0, 2, false, NOW - DAY); /* 4-5, pid 43 */
  append_kv(log, "a", "2");                             /* 6 */
  append_kv(log, "b", "2");                             /* 7 */
  roll(log);
  append_kv(log, "q", "active");
  close_log(log);

  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  /* pid 42's only (so last) batch lost both records: a 61-byte header keeps
   * its offsets, epoch and sequence.  pid 43's first batch is superseded by
   * its second and goes. */
  size_t len;
  uint8_t *seg = seg_file(dir, 0, ".log", &len);
  assert_non_null(seg);
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(seg, len, &h, NULL), SL_OK);
  assert_int_equal(sl_batch_size(&h), 61);
  assert_int_equal(h.base_offset, 0);
  assert_int_equal(h.last_offset_delta, 1);
  assert_int_equal(h.records_count, 0);
  assert_int_equal(h.producer_id, 42);
  assert_int_equal(h.producer_epoch, 3);
  assert_int_equal(h.base_sequence, 0);
  assert_true(h.base_timestamp == -1);
  assert_true(h.max_timestamp == NOW - DAY + 1);
  assert_int_equal(sl_batch_validate(seg, 61, NULL), SL_OK);
  assert_int_equal(sl_batch_header_decode(seg + 61, len - 61, &h, NULL), SL_OK);
  assert_int_equal(h.base_offset, 4);
  assert_int_equal(st.batches_emptied, 1);
  view v;
  read_view(dir, &v);
  assert_int_equal(v.empty_batches, 1);
  assert_int_equal(v.n, 5); /* x@4 y@5 a@6 b@7 q@8 */
  assert_int_equal(v.r[0].offset, 4);
  free(seg);
  free(dir);
  tu_rmtree_free(root);
}

static void write_txn_entry(const char *dir, int64_t seg_base, int64_t pid, int64_t first,
                            int64_t last, int64_t lso) {
  uint8_t e[34];
  sl_store_be16(e, 0);
  sl_store_be64(e + 2, (uint64_t)pid);
  sl_store_be64(e + 10, (uint64_t)first);
  sl_store_be64(e + 18, (uint64_t)last);
  sl_store_be64(e + 26, (uint64_t)lso);
  char name[64];
  snprintf(name, sizeof(name), "%020" PRId64 ".txnindex", seg_base);
  char *p = tu_path(dir, name);
  assert_int_equal(tu_write_file(p, e, sizeof(e)), 0);
  free(p);
}

static void append_marker(sl_log *log, int64_t pid, int16_t epoch, int type) {
  sl_buf b = SL_BUF_INIT;
  assert_int_equal(sl_batch_build_marker(&b, 0, pid, epoch, type, 0, NOW - DAY, 0),
                   SL_OK);
  assert_int_equal(
      sl_log_append(log, b.data, b.len, SL_APPEND_LEADER, 0, NOW, NULL, NULL), SL_OK);
  sl_buf_release(&b);
}

static void test_transactions(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  kv ab[2] = {{"k", "aborted"}, {"m", "aborted"}};
  append_batch(log, ab, 2, 7, 0, 0, true, NOW - DAY); /* 0-1 aborted txn */
  kv cm[1] = {{"n", "committed"}};
  append_batch(log, cm, 1, 8, 0, 0, true, NOW - DAY); /* 2 committed txn */
  append_marker(log, 7, 0, SL_CONTROL_ABORT);         /* 3 */
  append_marker(log, 8, 0, SL_CONTROL_COMMIT);        /* 4 */
  append_kv(log, "k", "plain");                       /* 5 */
  append_kv(log, "n", "newer");                       /* 6: supersedes n@2 */
  roll(log);
  /* Later batches of both producers: the transactional batches are not
   * their producers' last batches any more. */
  kv later[1] = {{"p7", "x"}};
  append_batch(log, later, 1, 7, 0, 2, false, NOW - DAY); /* 7 */
  later[0].k = "p8";
  append_batch(log, later, 1, 8, 0, 1, false, NOW - DAY); /* 8 */
  close_log(log);
  write_txn_entry(dir, 0, 7, 0, 3, 2);

  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.aborted_records_dropped, 2);
  int64_t offs[8];
  int16_t attrs[8];
  int64_t bts[8];
  int32_t counts[8];
  int nb = 0;
  size_t len;
  uint8_t *seg = seg_file(dir, 0, ".log", &len);
  for (size_t pos = 0; pos < len; nb++) {
    sl_batch_header h;
    assert_int_equal(sl_batch_header_decode(seg + pos, len - pos, &h, NULL), SL_OK);
    offs[nb] = h.base_offset;
    attrs[nb] = h.attributes;
    bts[nb] = h.base_timestamp;
    counts[nb] = h.records_count;
    pos += (size_t)sl_batch_size(&h);
  }
  free(seg);
  /* The aborted data went; the committed n@2 was superseded by n@6.  Both
   * markers stay (their transactions had data this round), unchanged. */
  assert_int_equal(nb, 4);
  const int64_t want1[] = {3, 4, 5, 6};
  for (int i = 0; i < 4; i++)
    assert_int_equal(offs[i], want1[i]);
  assert_false(attrs[0] & SL_ATTR_DELETE_HORIZON);
  assert_false(attrs[1] & SL_ATTR_DELETE_HORIZON);
  /* The cleaned segment's .txnindex keeps the abort (its marker is kept). */
  uint8_t *tx = seg_file(dir, 0, ".txnindex", &len);
  assert_non_null(tx);
  assert_int_equal(len, 34);
  assert_int_equal((int64_t)sl_load_be64(tx + 2), 7);
  assert_int_equal((int64_t)sl_load_be64(tx + 10), 0);
  assert_int_equal((int64_t)sl_load_be64(tx + 18), 3);
  free(tx);

  /* Second round: both transactions are empty now: the markers get a
   * delete horizon and the abort leaves the .txnindex. */
  o.force = true;
  o.first_dirty_offset = 0;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  seg = seg_file(dir, 0, ".log", &len);
  nb = 0;
  for (size_t pos = 0; pos < len; nb++) {
    sl_batch_header h;
    assert_int_equal(sl_batch_header_decode(seg + pos, len - pos, &h, NULL), SL_OK);
    offs[nb] = h.base_offset;
    attrs[nb] = h.attributes;
    bts[nb] = h.base_timestamp;
    counts[nb] = h.records_count;
    assert_int_equal(sl_batch_validate(seg + pos, (size_t)sl_batch_size(&h), NULL),
                     SL_OK);
    pos += (size_t)sl_batch_size(&h);
  }
  free(seg);
  assert_int_equal(nb, 4);
  for (int i = 0; i < 2; i++) {
    assert_true(attrs[i] & SL_ATTR_DELETE_HORIZON);
    assert_true(attrs[i] & SL_ATTR_CONTROL);
    assert_true(bts[i] == NOW + DAY);
    assert_int_equal(counts[i], 1);
  }
  tx = seg_file(dir, 0, ".txnindex", &len);
  assert_null(tx);
  /* Before the horizon they stay; at it they go. */
  o.now_ms = NOW + DAY - 1;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.markers_dropped, 0);
  o.now_ms = NOW + DAY;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.markers_dropped, 2);
  view v;
  read_view(dir, &v);
  assert_int_equal(v.n, 4); /* k@5 n@6 p7@7 p8@8 */
  assert_int_equal(v.r[0].offset, 5);
  free(dir);
  tu_rmtree_free(root);
}

static void test_untouched_batches_copied(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  kv b1[3] = {{"a", "1"}, {"b", "1"}, {"c", "1"}};
  append_batch(log, b1, 3, -1, -1, -1, false, NOW - DAY); /* 0-2: untouched */
  kv b2[3] = {{"d", "1"}, {"e", "1"}, {"f", "1"}};
  append_batch(log, b2, 3, -1, -1, -1, false, NOW - DAY); /* 3-5: loses e */
  append_kv(log, "e", "2");                               /* 6 */
  roll(log);
  append_kv(log, "z", "active");
  close_log(log);
  size_t l0;
  uint8_t *orig = seg_file(dir, 0, ".log", &l0);
  sl_batch_header h0;
  assert_int_equal(sl_batch_header_decode(orig, l0, &h0, NULL), SL_OK);
  size_t first = (size_t)sl_batch_size(&h0);

  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.batches_copied, 2);
  assert_int_equal(st.batches_rewritten, 1);
  size_t l1;
  uint8_t *now = seg_file(dir, 0, ".log", &l1);
  assert_memory_equal(now, orig, first); /* byte for byte */
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(now + first, l1 - first, &h, NULL), SL_OK);
  assert_int_equal(h.base_offset, 3);
  assert_int_equal(h.last_offset_delta, 2); /* kept although f... */
  assert_int_equal(h.records_count, 2);
  assert_int_equal(sl_batch_validate(now + first, (size_t)sl_batch_size(&h), NULL),
                   SL_OK);
  free(orig);
  free(now);
  free(dir);
  tu_rmtree_free(root);
}

static void test_grouping(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  build_basic(dir);
  size_t l;
  uint8_t *s0 = seg_file(dir, 0, ".log", &l);
  free(s0);
  sl_cleaner_opts o = opts_at(NOW);
  /* Room for one source segment per group: three cleaned segments. */
  o.segment_bytes = (int32_t)l + 10;
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.segments_before, 3);
  assert_int_equal(st.segments_after, 3);
  uint8_t *a = seg_file(dir, 0, ".log", &l);
  uint8_t *b = seg_file(dir, 4, ".log", &l);
  uint8_t *c = seg_file(dir, 8, ".log", &l);
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  free(a);
  free(b);
  free(c);
  view v;
  read_view(dir, &v);
  assert_int_equal(v.n, 6);
  free(dir);
  tu_rmtree_free(root);
}

static void test_small_dedupe_budget(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  build_basic(dir);
  view before;
  read_view(dir, &before);
  char want[512], got[512];
  latest_per_key(&before, want, sizeof(want));
  sl_cleaner_opts o = opts_at(NOW);
  o.dedupe_buffer_size = 24 * 3; /* 3 slots, 2 keys */
  o.dedupe_load_factor = 0.9;
  sl_cleaner_stats st;
  int rounds = 0;
  for (;;) {
    assert_int_equal(clean(dir, &o, &st), SL_OK);
    if (!st.cleaned)
      break;
    rounds++;
    assert_true(rounds < 20);
    read_view(dir, &before);
    latest_per_key(&before, got, sizeof(got));
    assert_string_equal(got, want);
    o.force = true; /* small rounds leave low ratios */
  }
  assert_true(rounds >= 3);
  view v;
  read_view(dir, &v);
  latest_per_key(&v, got, sizeof(got));
  assert_string_equal(got, want);
  const int64_t keep[] = {6, 7, 9, 10, 11, 12};
  assert_int_equal(v.n, 6);
  for (int i = 0; i < 6; i++)
    assert_int_equal(v.r[i].offset, keep[i]);
  free(dir);
  tu_rmtree_free(root);
}

/* How many names in dir end with suffix. */
static int count_suffix(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  size_t sl = strlen(suffix);
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0)
      n++;
  }
  closedir(d);
  return n;
}

/* A crash after every file operation of a round, then a reopen: the log is
 * readable and shows the same latest value per key. */
/* Two segments x,y | a,b grouped together, then a,b again: the second
 * segment of the group loses everything. */
static void build_trailing(const char *dir) {
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  append_kv(log, "x", "1");
  append_kv(log, "y", "1");
  roll(log);
  append_kv(log, "a", "1");
  append_kv(log, "b", "1");
  roll(log);
  append_kv(log, "a", "2");
  append_kv(log, "b", "2");
  roll(log);
  append_kv(log, "z", "active");
  close_log(log);
}

static void crash_loop(void (*build)(const char *), int32_t segment_bytes,
                       int want_groups, int want_n, int *saw_cleaned, int *saw_swap,
                       int *saw_deleted) {
  char want[512], got[512];
  int completed_at = -1;
  for (long stop = 0; stop < 200 && completed_at < 0; stop++) {
    char *root;
    char *dir = part_dir(&root);
    build(dir);
    view v;
    read_view(dir, &v);
    latest_per_key(&v, want, sizeof(want));
    sl_cleaner_opts o = opts_at(NOW);
    o.segment_bytes = segment_bytes;
    sl_cleaner_stats st;
    int rc = sl__cleaner_clean_dir_ex(dir, &o, &st, stop, NULL);
    if (rc == SL_OK) {
      completed_at = (int)stop;
      assert_int_equal(st.segments_before, 3);
      assert_int_equal(st.segments_after, want_groups);
    } else {
      assert_int_equal(rc, SL_EINTERRUPTED);
    }
    *saw_cleaned += count_suffix(dir, ".cleaned") > 0;
    *saw_swap += count_suffix(dir, ".swap") > 0;
    *saw_deleted += count_suffix(dir, ".deleted") > 0;
    read_view(dir, &v);
    assert_int_equal(count_suffix(dir, ".cleaned") + count_suffix(dir, ".swap") +
                         count_suffix(dir, ".deleted"),
                     0);
    latest_per_key(&v, got, sizeof(got));
    assert_string_equal(got, want);
    /* A cleaning after the crash finishes the job. */
    assert_int_equal(clean(dir, &o, &st), SL_OK);
    read_view(dir, &v);
    latest_per_key(&v, got, sizeof(got));
    assert_string_equal(got, want);
    assert_int_equal(v.n, want_n);
    free(dir);
    tu_rmtree_free(root);
  }
  assert_true(completed_at > 10);
}

static void test_crash_at_every_step(void **state) {
  (void)state;
  int saw_cleaned = 0, saw_swap = 0, saw_deleted = 0;
  crash_loop(build_basic, 200, 3, 6, &saw_cleaned, &saw_swap, &saw_deleted);
  crash_loop(build_trailing, 300, 2, 5, &saw_cleaned, &saw_swap, &saw_deleted);
  /* Every crash state was visited: output in progress, swaps pending with
   * the old segments present or already renamed. */
  assert_true(saw_cleaned > 0);
  assert_true(saw_swap > 0);
  assert_true(saw_deleted > 0);
}

/* Write failures from the file layer in crash mode, at every write. */
static void test_crash_mode_writes(void **state) {
  (void)state;
  char want[512], got[512];
  bool done = false;
  for (long n = 0; n < 60 && !done; n++) {
    char *root;
    char *dir = part_dir(&root);
    build_basic(dir);
    view v;
    read_view(dir, &v);
    latest_per_key(&v, want, sizeof(want));
    sl_cleaner_opts o = opts_at(NOW);
    sl__fio_faults f;
    sl__fio_faults_init(&f);
    f.writes_until_fail = n;
    f.crash = true;
    f.write_errno = 5; /* EIO */
    sl__fio_set_faults(&f);
    sl_cleaner_stats st;
    int rc = sl_cleaner_clean_dir(dir, &o, &st, NULL);
    sl__fio_set_faults(NULL);
    done = rc == SL_OK;
    read_view(dir, &v);
    latest_per_key(&v, got, sizeof(got));
    assert_string_equal(got, want);
    free(dir);
    tu_rmtree_free(root);
  }
  assert_true(done);
}

static void test_log_compact_open_log(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  build_basic(dir);
  view before;
  read_view(dir, &before);
  char want[512], got[512];
  latest_per_key(&before, want, sizeof(want));
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false);
  sl_log_set_high_watermark(log, sl_log_end_offset(log));
  /* A reader's slice on the first segment survives the swap. */
  sl_log_slice sl;
  assert_int_equal(sl_log_read(log, 0, 1 << 20, -1, &sl, NULL), SL_OK);
  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_opts_from_log_config(&o, &cfg);
  sl_cleaner_stats st;
  sl_diag d;
  sl_diag_clear(&d);
  assert_int_equal(sl_log_compact(log, &o, &st, &d), SL_OK);
  assert_true(st.cleaned);
  assert_int_equal(st.segments_after, 1);
  uint8_t buf[16];
  size_t got_n = 0;
  assert_int_equal(
      sl__fio_pread_all(sl.fd, buf, sizeof(buf), sl.position, &got_n, "slice", NULL),
      SL_OK);
  assert_int_equal(got_n, sizeof(buf));
  sl_log_slice_release(&sl);
  /* The log keeps working: reads see the cleaned data, appends go on. */
  sl_buf b = SL_BUF_INIT;
  int64_t next;
  assert_int_equal(sl_log_read_copy(log, 0, 1 << 20, -1, &b, &next, NULL), SL_OK);
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(b.data, b.len, &h, NULL), SL_OK);
  assert_int_equal(h.base_offset, 6);
  sl_buf_release(&b);
  append_kv(log, "f", "after");
  assert_int_equal(sl_log_end_offset(log), 14);
  close_log(log);
  view v;
  read_view(dir, &v);
  latest_per_key(&v, got, sizeof(got));
  assert_int_equal(v.n, 7);
  assert_string_equal(v.r[6].key, "f");
  free(dir);
  tu_rmtree_free(root);
}

/* A rewritten batch keeps its codec, timestamp type, base offset, last
 * offset delta and max timestamp (LogAppendTime). */
static void test_rewrite_keeps_codec_and_times(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  const sl_compression codecs[] = {SL_COMPRESSION_GZIP, SL_COMPRESSION_SNAPPY,
                                   SL_COMPRESSION_LZ4, SL_COMPRESSION_ZSTD};
  for (int c = 0; c < 4; c++) {
    sl_batch_builder_opts o;
    sl_batch_builder_opts_init(&o);
    o.compression = codecs[c];
    o.log_append_time = c == 1;
    if (o.log_append_time)
      o.max_timestamp = NOW - 5;
    sl_batch_builder *b;
    assert_int_equal(sl_batch_builder_new(&o, &b), SL_OK);
    char k[8];
    for (int i = 0; i < 3; i++) {
      snprintf(k, sizeof(k), "c%d-%d", c, i);
      assert_int_equal(
          sl_batch_builder_add(b, NOW - DAY + i, k, (int32_t)strlen(k), "v", 1, NULL, 0),
          SL_OK);
    }
    sl_buf out = SL_BUF_INIT;
    assert_int_equal(sl_batch_builder_finish(b, &out), SL_OK);
    assert_int_equal(
        sl_log_append(log, out.data, out.len, SL_APPEND_LEADER, 0, NOW, NULL, NULL),
        SL_OK);
    sl_buf_release(&out);
    sl_batch_builder_free(b);
  }
  /* Supersede the last record of every batch (c0-2@2, c1-2@5, ...). */
  for (int c = 0; c < 4; c++) {
    char k[8];
    snprintf(k, sizeof(k), "c%d-2", c);
    append_kv(log, k, "new");
  }
  roll(log);
  append_kv(log, "z", "active");
  close_log(log);
  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.batches_rewritten, 4);
  size_t len;
  uint8_t *seg = seg_file(dir, 0, ".log", &len);
  size_t pos = 0;
  sl_batch_reader *r;
  assert_int_equal(sl_batch_reader_new(0, &r), SL_OK);
  for (int c = 0; c < 4; c++) {
    sl_batch_header h;
    assert_int_equal(sl_batch_header_decode(seg + pos, len - pos, &h, NULL), SL_OK);
    assert_int_equal(sl_batch_validate(seg + pos, (size_t)sl_batch_size(&h), NULL),
                     SL_OK);
    assert_int_equal(h.base_offset, 3 * c);
    assert_int_equal(h.last_offset_delta, 2);
    assert_int_equal(h.records_count, 2);
    assert_int_equal(sl_batch_compression(&h), codecs[c]);
    assert_int_equal((h.attributes & SL_ATTR_LOG_APPEND_TIME) != 0, c == 1);
    assert_true(h.max_timestamp == (c == 1 ? NOW - 5 : NOW - DAY + 1));
    assert_int_equal(
        sl_batch_reader_open(r, seg + pos, (size_t)sl_batch_size(&h), &h, NULL), SL_OK);
    sl_record rr;
    for (int i = 0; i < 2; i++) {
      assert_int_equal(sl_batch_reader_next(r, &rr, NULL), 1);
      assert_int_equal(rr.offset, 3 * c + i);
      if (c != 1)
        assert_true(rr.timestamp == NOW - DAY + i);
    }
    assert_int_equal(sl_batch_reader_next(r, &rr, NULL), 0);
    pos += (size_t)sl_batch_size(&h);
  }
  sl_batch_reader_free(r);
  free(seg);
  free(dir);
  tu_rmtree_free(root);
}

/* An open transaction bounds the cleanable range (the LSO), and a zero
 * tail on the active segment (preallocation) does not stop the cleaner. */
static void test_open_transaction_and_active_tail(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, true);
  append_kv(log, "a", "1");
  append_kv(log, "a", "2");
  roll(log); /* 2 */
  kv t[1] = {{"a", "txn"}};
  append_batch(log, t, 1, 5, 0, 0, true, NOW - DAY); /* 2: open transaction */
  append_kv(log, "a", "3");
  roll(log); /* 4 */
  append_kv(log, "a", "4");
  roll(log); /* 5 */
  append_kv(log, "z", "active");
  close_log(log);
  char name[64];
  snprintf(name, sizeof(name), "%020d.log", 5);
  char *active = tu_path(dir, name);
  size_t alen;
  uint8_t *data = tu_read_file(active, &alen);
  uint8_t *padded = calloc(1, alen + 4096);
  memcpy(padded, data, alen);
  assert_int_equal(tu_write_file(active, padded, alen + 4096), 0);

  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_plan p;
  assert_int_equal(sl_cleaner_plan_dir(dir, &o, &p, NULL), SL_OK);
  assert_int_equal(p.first_uncleanable_offset, 2);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_true(st.cleaned);
  assert_int_equal(st.end_offset, 2);
  /* Only a@1 is left of the first segment; 2.. untouched. */
  size_t len;
  uint8_t *seg = seg_file(dir, 0, ".log", &len);
  sl_batch_header h;
  assert_int_equal(sl_batch_header_decode(seg, len, &h, NULL), SL_OK);
  assert_int_equal(h.base_offset, 1);
  assert_int_equal((size_t)sl_batch_size(&h), len);
  free(seg);
  uint8_t *after = tu_read_file(active, &len);
  assert_int_equal(len, alen + 4096);
  assert_memory_equal(after, padded, len);
  free(after);
  free(data);
  free(padded);
  free(active);
  free(dir);
  tu_rmtree_free(root);
}

/* One uncompressed v1 message (key, value; NULL = null). */
static size_t v1_message(uint8_t *out, int64_t offset, const char *key,
                         const char *value) {
  size_t kl = key ? strlen(key) : 0, vl = value ? strlen(value) : 0;
  size_t body = 4 + 1 + 1 + 8 + 4 + kl + 4 + vl; /* crc .. value */
  sl_store_be64(out, (uint64_t)offset);
  sl_store_be32(out + 8, (uint32_t)body);
  uint8_t *m = out + 12;
  m[4] = 1; /* magic */
  m[5] = 0; /* attributes */
  sl_store_be64(m + 6, (uint64_t)(NOW - DAY));
  sl_store_be32(m + 14, key ? (uint32_t)kl : 0xffffffffu);
  if (kl)
    memcpy(m + 18, key, kl);
  sl_store_be32(m + 18 + kl, value ? (uint32_t)vl : 0xffffffffu);
  if (vl)
    memcpy(m + 22 + kl, value, vl);
  sl_store_be32(m, sl_crc32_ieee(0, m + 4, body - 4));
  return 12 + body;
}

static void write_seg(const char *dir, int64_t base, const uint8_t *p, size_t n) {
  char name[64];
  snprintf(name, sizeof(name), "%020" PRId64 ".log", base);
  char *path = tu_path(dir, name);
  assert_int_equal(tu_write_file(path, p, n), 0);
  free(path);
}

/* Legacy v1 messages: superseded ones go, the rest are copied byte for byte;
 * a legacy tombstone lives until the last clean segment's mtime minus
 * delete.retention.ms. */
static void test_legacy_messages(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  uint8_t s0[512], s1[128], s2[128];
  size_t n0 = 0, m[4];
  const char *keys[4] = {"a", "b", "a", "b"};
  const char *vals[4] = {"1", "1", "2", NULL};
  for (int i = 0; i < 4; i++) {
    m[i] = v1_message(s0 + n0, i, keys[i], vals[i]);
    n0 += m[i];
  }
  write_seg(dir, 0, s0, n0);
  size_t n1 = v1_message(s1, 4, "c", "1");
  write_seg(dir, 4, s1, n1);
  size_t n2 = v1_message(s2, 5, "z", "active");
  write_seg(dir, 5, s2, n2);

  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_stats st;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_true(st.cleaned);
  size_t len;
  uint8_t *seg = seg_file(dir, 0, ".log", &len);
  /* a@2 and the tombstone b@3, then c@4, untouched. */
  assert_int_equal(len, m[2] + m[3] + n1);
  assert_memory_equal(seg, s0 + m[0] + m[1], m[2] + m[3]);
  assert_memory_equal(seg + m[2] + m[3], s1, n1);
  free(seg);

  /* Now with [4, 5) dirty and delete.retention.ms 0, segment 0 is past the
   * legacy horizon: the tombstone goes. */
  size_t n1b = v1_message(s1, 4, "c", "2");
  char *p0 = tu_path(dir, "00000000000000000000.log");
  seg = tu_read_file(p0, &len);
  /* Split the cleaned segment back into 0 (a, b) and 4 (c=2). */
  assert_int_equal(tu_write_file(p0, seg, m[2] + m[3]), 0);
  free(seg);
  write_seg(dir, 4, s1, n1b);
  o.first_dirty_offset = 4;
  o.delete_retention_ms = 0;
  o.force = true;
  assert_int_equal(clean(dir, &o, &st), SL_OK);
  assert_int_equal(st.tombstones_dropped, 1);
  seg = seg_file(dir, 0, ".log", &len);
  assert_int_equal(len, m[2] + n1b);
  assert_memory_equal(seg, s0 + m[0] + m[1], m[2]);
  free(seg);
  free(p0);
  free(dir);
  tu_rmtree_free(root);
}

typedef struct appender {
  sl_log *log;
  int n;
} appender;

static void *append_thread(void *arg) {
  appender *a = arg;
  for (int i = 0; i < a->n; i++) {
    char k[16], v[16];
    snprintf(k, sizeof(k), "t%d", i % 7);
    snprintf(v, sizeof(v), "w%d", i);
    kv r = {k, v};
    append_batch(a->log, &r, 1, -1, -1, -1, false, NOW);
  }
  return NULL;
}

/* Appends go on while an open log is compacted; nothing is lost. */
static void test_log_compact_concurrent_appends(void **state) {
  (void)state;
  char *root;
  char *dir = part_dir(&root);
  build_basic(dir);
  sl_log_config cfg;
  cfg_small(&cfg);
  sl_log *log = open_log(dir, &cfg, false);
  sl_log_set_high_watermark(log, sl_log_end_offset(log));
  appender a = {log, 300};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, append_thread, &a), 0);
  sl_cleaner_opts o = opts_at(NOW);
  sl_cleaner_opts_from_log_config(&o, &cfg);
  sl_cleaner_stats st;
  assert_int_equal(sl_log_compact(log, &o, &st, NULL), SL_OK);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_true(st.cleaned);
  assert_int_equal(sl_log_end_offset(log), 13 + 300);
  close_log(log);
  view v;
  read_view(dir, &v);
  /* a..e below 12 as compacted, then a@12 and all 300 appends. */
  assert_int_equal(v.n, 6 + 300);
  for (int i = 0; i < 300; i++)
    assert_int_equal(v.r[6 + i].offset, 13 + i);
  free(dir);
  tu_rmtree_free(root);
}

/* sl_log_compact with the file layer failing (crash mode) at every write
 * and fsync: the log either cleans, or fails cleanly (latched when segments
 * were already swapped); after a reopen the data is intact. */
static void test_log_compact_io_failures(void **state) {
  (void)state;
  char want[512], got[512];
  bool done = false;
  int latched = 0;
  for (long n = 0; n < 80 && !done; n++) {
    for (int kind = 0; kind < 2 && !done; kind++) {
      char *root;
      char *dir = part_dir(&root);
      build_basic(dir);
      view v;
      read_view(dir, &v);
      latest_per_key(&v, want, sizeof(want));
      sl_log_config cfg;
      cfg_small(&cfg);
      sl_log *log = open_log(dir, &cfg, false);
      sl_log_set_high_watermark(log, sl_log_end_offset(log));
      sl_cleaner_opts o = opts_at(NOW);
      sl_cleaner_opts_from_log_config(&o, &cfg);
      o.segment_bytes = 200; /* three groups */
      sl__fio_faults f;
      sl__fio_faults_init(&f);
      if (kind == 0) {
        f.writes_until_fail = n;
        f.crash = true;
      } else {
        f.fsyncs_until_fail = n;
      }
      sl__fio_set_faults(&f);
      sl_cleaner_stats st;
      int rc = sl_log_compact(log, &o, &st, NULL);
      sl__fio_set_faults(NULL);
      if (rc == SL_OK) {
        done = kind == 0;
      } else {
        assert_true(rc == SL_EIO || rc == SL_EFAILED);
        latched += rc == SL_EFAILED;
        assert_int_equal(sl_log_failed(log), rc == SL_EFAILED);
      }
      (void)sl_log_close(log, NULL);
      read_view(dir, &v);
      latest_per_key(&v, got, sizeof(got));
      assert_string_equal(got, want);
      free(dir);
      tu_rmtree_free(root);
    }
  }
  assert_true(done);
  assert_true(latched > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash128),
      cmocka_unit_test(test_offset_map),
      cmocka_unit_test(test_plan),
      cmocka_unit_test(test_latest_per_key),
      cmocka_unit_test(test_min_ratio_respected),
      cmocka_unit_test(test_tombstones_and_null_keys),
      cmocka_unit_test(test_producer_last_batch_kept_empty),
      cmocka_unit_test(test_transactions),
      cmocka_unit_test(test_untouched_batches_copied),
      cmocka_unit_test(test_grouping),
      cmocka_unit_test(test_small_dedupe_budget),
      cmocka_unit_test(test_crash_at_every_step),
      cmocka_unit_test(test_crash_mode_writes),
      cmocka_unit_test(test_log_compact_open_log),
      cmocka_unit_test(test_log_compact_concurrent_appends),
      cmocka_unit_test(test_log_compact_io_failures),
      cmocka_unit_test(test_rewrite_keeps_codec_and_times),
      cmocka_unit_test(test_open_transaction_and_active_tail),
      cmocka_unit_test(test_legacy_messages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
