/*
 * producer_id.c - the InitProducerId handler (ApiKey 22, versions 0-4) for
 * idempotent producers, and the durable producer-id allocator behind it
 * (docs/BROKER.md, "Producer ids").
 *
 * Ids are handed out from blocks of SD_PRODUCER_ID_BLOCK (1000, Kafka's
 * block size), and a block is reserved on disk before any of its ids is
 * handed out: the file `producer-id-block` in every log directory says
 * `block.end=N` (ids below N may have been used), written to a temporary
 * file, fsynced and renamed over the old one, and the directory fsynced.  At
 * start the largest block.end of all directories is where the next block
 * begins, so an id is never handed out twice, whatever happened before: a
 * clean stop, a kill -9 (the unused rest of the block is skipped), or a step
 * of the wall clock (the clock plays no part once the file exists).  A
 * directory without the file (the first start) starts at the wall clock in
 * milliseconds << 10, the rule of earlier versions, so ids they handed out
 * stay below.  When the reservation cannot be written the producer gets
 * COORDINATOR_LOAD_IN_PROGRESS (retriable; Kafka's answer when its
 * controller cannot hand out a block) and one ERROR line says why.
 *
 * The per-partition sequence and epoch checks live in the log's producer
 * state (sl_log_append).  A producer that passes its current id and epoch
 * (KIP-360, v3+) gets the epoch bumped.  Transactional ids are refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED until transactions land.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "kerrors.h"
#include "kp_init_producer_id.h"
#include "sdlog.h"

#define SD_KERR_COORDINATOR_LOAD_IN_PROGRESS 14
#define SD_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED 53
#define PRODUCER_EPOCH_MAX 32766
#define SD_PRODUCER_ID_BLOCK 1000
#define BLOCK_FILE "producer-id-block"
#define BLOCK_FILE_MAX 4096

typedef struct block_file {
  int64_t end;
  bool have_end;
  bool bad;
} block_file;

static int block_entry(void *ctx, const char *key, const char *value, int line) {
  block_file *f = ctx;
  (void)line;
  if (strcmp(key, "block.end") == 0) {
    char *endp = NULL;
    errno = 0;
    long long v = strtoll(value, &endp, 10);
    if (errno != 0 || endp == value || *endp != '\0' || v < 0)
      f->bad = true;
    f->end = (int64_t)v;
    f->have_end = true;
  }
  return 0;
}

/* Reads dir's block file: 1 with *end set, 0 if there is none, -1 (err) if
 * it cannot be read or makes no sense. */
static int block_read(const char *dir, int64_t *end, char *err, size_t errcap) {
  char path[4096], text[BLOCK_FILE_MAX + 1];
  snprintf(path, sizeof(path), "%s/%s", dir, BLOCK_FILE);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, text + len, BLOCK_FILE_MAX - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
      close(fd);
      return -1;
    }
    if (n == 0 || (len += (size_t)n) == BLOCK_FILE_MAX)
      break;
  }
  close(fd);
  text[len] = '\0';
  block_file f = {0, false, false};
  char perr[256];
  if (len == BLOCK_FILE_MAX ||
      sd_props_parse(text, len, block_entry, &f, perr, sizeof(perr)) != 0 ||
      !f.have_end || f.bad) {
    snprintf(err, errcap,
             "%s is damaged (no valid block.end): remove it only if "
             "no producer ids were handed out from this directory",
             path);
    return -1;
  }
  *end = f.end;
  return 1;
}

static int fsync_path(const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

/* Replaces dir's block file with block.end = end, durably. */
static int block_write(const char *dir, int64_t end, int32_t node, char *err,
                       size_t errcap) {
  char path[4096], tmp[4200], text[256];
  snprintf(path, sizeof(path), "%s/%s", dir, BLOCK_FILE);
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  int n =
      snprintf(text, sizeof(text),
               "# seglogd producer-id reservation: ids below block.end may be in use\n"
               "version=1\nbroker=%d\nblock.end=%lld\n",
               (int)node, (long long)end);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const char *what = "create";
  if (fd < 0)
    goto fail;
  size_t done = 0;
  what = "write";
  while (done < (size_t)n) {
    ssize_t w = write(fd, text + done, (size_t)n - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      if (w == 0)
        errno = EIO;
      close(fd);
      goto fail;
    }
    done += (size_t)w;
  }
  what = "fsync";
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    goto fail;
  }
  close(fd);
  what = "rename";
  if (rename(tmp, path) != 0)
    goto fail;
  what = "fsync the directory of";
  if (fsync_path(dir, O_RDONLY | O_DIRECTORY) != 0)
    goto fail;
  return 0;
fail:
  snprintf(err, errcap, "cannot %s %s: %s", what, path, strerror(errno));
  unlink(tmp);
  return -1;
}

/* Loads the reservation (once): the next id is the end of the highest block. */
static int ids_load(sd_broker *b, char *err, size_t errcap) {
  int64_t end = 0;
  bool any = false;
  for (int i = 0; i < b->dirs.n; i++) {
    int64_t e = 0;
    int rc = block_read(b->dirs.paths[i], &e, err, errcap);
    if (rc < 0)
      return -1;
    if (rc == 1 && (!any || e > end)) {
      end = e;
      any = true;
    }
  }
  if (!any) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    end = ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) << 10;
  }
  if (end < b->last_producer_id + 1)
    end = b->last_producer_id + 1;
  b->last_producer_id = end - 1;
  b->producer_id_block_end = end; /* nothing of a new block is reserved yet */
  return 0;
}

/* The next producer id, reserving a new block on disk first when needed;
 * -1 with err when the reservation cannot be made. */
static int64_t next_producer_id(sd_broker *b, char *err, size_t errcap) {
  if (b->producer_id_block_end == 0 && ids_load(b, err, errcap) != 0)
    return -1;
  int64_t id = b->last_producer_id + 1;
  if (id >= b->producer_id_block_end) {
    int64_t end = id + SD_PRODUCER_ID_BLOCK;
    for (int i = 0; i < b->dirs.n; i++)
      if (block_write(b->dirs.paths[i], end, b->node_id, err, errcap) != 0)
        return -1;
    SD_DEBUG("producer ids %lld-%lld reserved", (long long)id, (long long)end - 1);
    b->producer_id_block_end = end;
  }
  b->last_producer_id = id;
  return id;
}

void sd_handle_init_producer_id(sd_req *req) {
  sd_broker *b = req->broker;
  const kp_init_producer_id_request *rq = req->body;
  kp_init_producer_id_response *resp = NULL;
  if (sd_req_alloc(req, 1, sizeof(*resp), (void **)&resp) != 0)
    return;
  kp_init_producer_id_response_init_defaults(resp);
  resp->throttle_time_ms = 0;
  resp->producer_id = -1;
  resp->producer_epoch = -1;
  if (rq->transactional_id.len >= 0) {
    resp->error_code = SD_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    sd_req_count_error(req);
    sd_req_respond(req, resp);
    return;
  }
  if (rq->producer_id >= 0 && rq->producer_epoch >= 0 &&
      rq->producer_epoch < PRODUCER_EPOCH_MAX) {
    resp->producer_id = rq->producer_id;
    resp->producer_epoch = (int16_t)(rq->producer_epoch + 1);
  } else {
    char err[4400];
    int64_t id = next_producer_id(b, err, sizeof(err));
    if (id < 0) {
      SD_ERROR("cannot hand out a producer id: %s", err);
      resp->error_code = SD_KERR_COORDINATOR_LOAD_IN_PROGRESS;
      sd_req_count_error(req);
      sd_req_respond(req, resp);
      return;
    }
    resp->producer_id = id;
    resp->producer_epoch = 0;
  }
  resp->error_code = SD_KERR_NONE;
  sd_req_respond(req, resp);
}
