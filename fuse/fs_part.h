/*
 * fs_part.h - one partition as seglogfs shows it: a read-only sl_log, the
 * rendered views of its records (data, data.lp, records.jsonl) and the
 * lazily built sparse index that maps a byte position in a view to a log
 * offset.  Design: docs/FUSE.md ("Views and the position index").
 *
 * Every function here takes the partition's mutex itself; an fs_part is
 * shared by all FUSE threads.  Errors are negative errno values (what FUSE
 * returns to the reader); the reason of an EIO goes to the log (fs_log).
 */
#ifndef SEGLOGFS_PART_H
#define SEGLOGFS_PART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "seglog/batch.h"
#include "seglog/bytes.h"
#include "seglog/log.h"

typedef enum fs_view {
  FS_VIEW_DATA = 0, /* value + '\n' */
  FS_VIEW_LP = 1,   /* 4-byte big-endian length (-1 = null) + value */
  FS_VIEW_JSONL = 2 /* one JSON object + '\n' */
} fs_view;
#define FS_NVIEWS 3

/* An index entry: every record with offset < `offset` renders to `cum` bytes
 * in the view (counted from the index base); `offset` is a batch base offset. */
typedef struct fs_idx_entry {
  int64_t offset;
  int64_t cum;
} fs_idx_entry;

/* One view's index, built only when that view is first asked for. */
typedef struct fs_vindex {
  fs_idx_entry *idx;
  size_t n_idx, cap_idx;
  int64_t end_offset;  /* records below this are counted */
  int64_t end_cum;     /* their bytes */
  int64_t since_entry; /* log bytes walked since the last entry */
  int64_t records;     /* records counted (not control records) */
  bool complete;       /* counted to the log end (as of the last refresh) */
} fs_vindex;

/* Where a reader stopped: the first record with offset >= `offset` starts at
 * absolute position `pos` of the view (absolute = counted from the index
 * base).  Valid while gen matches the partition's. */
typedef struct fs_cursor {
  uint64_t gen;
  int64_t offset;
  int64_t pos;
  bool valid;
} fs_cursor;

/* A record walk's position in fs_part.bdata (fs_part.c's walker). */
typedef struct fs_walk_state {
  size_t pos;        /* next batch in bdata */
  int64_t next_read; /* where the next slice starts */
  bool control;      /* the open batch is a control batch */
  bool pending;      /* `rec` is the next record (a resumed walk) */
  int32_t batch_size;
  sl_batch_header h; /* the open batch */
  sl_record rec;
} fs_walk_state;

/* The slice after the current one, mapped, populated and CRC-checked by the
 * read-ahead thread while the reader's reply is on its way (fs_part.c). */
typedef struct fs_ahead_slot {
  void *map;
  size_t map_len;
  const uint8_t *bdata;
  size_t blen;
  size_t crc_ok; /* bytes of bdata whose CRCs were checked */
  int64_t from, next, seg, pos;
  uint64_t gen; /* p->gen when it was read */
  bool ready;   /* filled, not yet taken */
  bool busy;    /* the thread is reading `want` */
  int64_t want; /* the offset asked for, -1 none */
} fs_ahead_slot;

typedef struct fs_part {
  char *topic;
  int32_t partition;
  char *dir; /* the partition dir <logdir>/<topic>-<partition> */
  pthread_mutex_t mu;
  sl_log *log;
  sl_batch_reader *rd;
  /* The batches of the current walk: bdata[0..blen) is one slice of a
   * segment, mapped read-only (map, map_len: the page-aligned mapping) or,
   * when it cannot be mapped, copied into `batches`.  Every access to a
   * mapping runs under the SIGBUS guard (fs_part.c, docs/FUSE.md
   * "Performance"). */
  const uint8_t *bdata;
  size_t blen;
  void *map;
  size_t map_len;
  int64_t map_seg;         /* segment base offset of the slice (log lines) */
  int64_t map_pos;         /* file position of bdata */
  sl_buf batches;          /* the copy of a slice that could not be mapped */
  sl_buf scratch;          /* one rendered record */
  fs_vindex vx[FS_NVIEWS]; /* the sparse indexes, one per view */
  uint64_t gen;            /* bumped when the indexes are rebuilt */
  /* bdata holds the whole batches of one read, from the batch holding
   * cache_from up to cache_next (exclusive): the next walk that starts in
   * that range reuses them (a sequential reader's next request). */
  bool cache_valid;
  int64_t cache_from, cache_next;
  size_t crc_lo, crc_hi; /* bytes of bdata whose CRCs were checked */
  /* Where the last read stopped inside a batch of bdata, so that the next
   * sequential read continues there instead of decoding the batch from its
   * start again.  Valid until any other walk uses rd. */
  bool resume_valid;
  int64_t resume_offset; /* the walk that resumes starts at this offset */
  fs_walk_state resume;
  fs_ahead_slot ahead;
} fs_part;

/* Opens the partition dir read-only (no lock).  *out owns the log. */
int fs_part_open(const char *dir, const char *topic, int32_t partition, fs_part **out);
void fs_part_free(fs_part *p); /* NULL ok */

/* Picks up new records (sl_log_refresh) and extends the index to the end. */
int fs_part_refresh(fs_part *p);

/* Log start offset and log end offset (after the last refresh). */
void fs_part_offsets(fs_part *p, int64_t *start, int64_t *end);
/* The mtime of the last append (the newest segment file's mtime). */
int fs_part_mtime(fs_part *p, struct timespec *ts);

/* The first offset whose record timestamp is >= ts_ms, or the log end when
 * no record qualifies yet. */
int fs_part_offset_for_time(fs_part *p, int64_t ts_ms, int64_t *offset);

/* Size of view v starting at offset `start` (records with offset >= start,
 * up to the log end).  Refreshes first, then counts new records for at most
 * wait_ns (0: until the end).  *exact (may be NULL) is false when the count
 * stopped early: *size is then the bytes counted so far (docs/FUSE.md,
 * "Sizes of large partitions"). */
int fs_part_view_size(fs_part *p, fs_view v, int64_t start, int64_t wait_ns,
                      int64_t *size, bool *exact);

/* Continues counting view v for at most budget_ns (0: to the end): 1 when
 * the view is counted to the log end, 0 when more is left, or -errno.  The
 * background counter's step. */
int fs_part_count(fs_part *p, fs_view v, int64_t budget_ns);

/* Reads up to `len` bytes at position `pos` of view v starting at `start`
 * into out; returns the number of bytes (0 at the end) or -errno.  `cur`
 * (may be NULL) is the caller's cursor, which makes sequential reads O(read). */
ssize_t fs_part_view_read(fs_part *p, fs_view v, int64_t start, int64_t pos, char *out,
                          size_t len, fs_cursor *cur);

/* One record's value by offset: copies up to len bytes at pos into out (out
 * may be NULL to ask only for the size) and sets *size.  -ENOENT when no
 * data record has that offset. */
ssize_t fs_part_record_value(fs_part *p, int64_t offset, int64_t pos, char *out,
                             size_t len, int64_t *size);

/* Stops the read-ahead thread (started by the first sequential read) and
 * waits for it; call before freeing the partitions. */
void fs_part_ahead_stop(void);

/* Log line (stderr, and syslog when running in the background). */
void fs_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void fs_log_use_syslog(bool on);

#endif
