/*
 * upkeep.c - seglogd's periodic log work (docs/BROKER.md, "Topics" and
 * "Log compaction"): the retention pass every log.retention.check.interval.ms
 * (sl_log_retain with each topic's config: time, size and log-start rules), a
 * one-second tick (the flush of rolled segments, then sl_log_tick: flush.ms
 * and removal of *.deleted files after file.delete.delay.ms), both on the
 * thread pool (see log_job below), root checkpoints every 5 seconds (recovery points,
 * log start offsets, high watermarks; Kafka writes the HW file every 5 s),
 * and the log cleaner.  The checkpoints' values are taken on the loop thread
 * and their files written, each fsync'd, on libuv's thread pool
 * (sl_logdir_checkpoint_begin/_write/_end), as Kafka writes them from its
 * scheduler threads: an fsync that waits for the journal (measured up to
 * 0.5 s under write load) no longer stalls every connection.
 *
 * The cleaner compacts the partitions of topics whose cleanup.policy has
 * "compact", one partition at a time, on libuv's thread pool (uv_queue_work
 * running sl_log_compact, which reads and rewrites without the log's mutex
 * and takes it only to swap cleaned segments in, so appends and fetches on
 * the loop thread go on).  A pass visits every compacted partition in name
 * order; the round itself decides from the topic's min.cleanable.dirty.ratio
 * and compaction lags whether there is anything to do.  After a pass the
 * cleaner sleeps log.cleaner.backoff.ms.  log.cleaner.enable=false (or
 * log.cleaner.threads=0) turns it off.  Deleting a topic waits for a round
 * in progress (sd_cleaner_wait), a round does not start while root
 * checkpoints are being written, and root checkpoints are skipped while a
 * round runs (the round writes cleaner-offset-checkpoint itself).
 */
#include "upkeep.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "seglog/cleaner.h"
#include "sdlog.h"

struct sd_cleaner {
  sd_broker *b;
  uv_timer_t timer;
  uv_work_t work;
  bool timer_open, busy, stopping;
  uint64_t backoff_ms;
  /* The partition after which the pass goes on ("" / -1: from the start). */
  char cur_name[256];
  int32_t cur_part;
  /* The job on the thread pool. */
  char topic[256];
  int32_t partition;
  sl_log *log;
  bool job_invalid; /* its topic was deleted meanwhile */
  sl_cleaner_opts opts;
  sl_cleaner_stats stats;
  sl_diag diag;
  int rc;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;            /* the worker finished (sd_cleaner_wait) */
  bool wait_checkpoint; /* cleaner_next waits for cp_after */
};

static void cleaner_free_if_idle(sd_cleaner *c) {
  if (c->timer_open || c->busy)
    return;
  if (c->b->cleaner == c)
    c->b->cleaner = NULL;
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  free(c);
}

static void cleaner_work(uv_work_t *w) {
  sd_cleaner *c = w->data;
  c->rc = sl_log_compact(c->log, &c->opts, &c->stats, &c->diag);
  pthread_mutex_lock(&c->mu);
  c->done = true;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static void cleaner_next(sd_cleaner *c);
static void cleaner_timer_cb(uv_timer_t *t);

static void cleaner_after(uv_work_t *w, int status) {
  sd_cleaner *c = w->data;
  sd_broker *b = c->b;
  c->busy = false;
  const sd_topic *tp = sd_topics_find(&b->topics, c->topic, strlen(c->topic));
  const sd_partition *p = tp ? sd_topic_partition(tp, c->partition) : NULL;
  bool valid = status == 0 && !c->job_invalid && p != NULL && p->log == c->log;
  if (valid && c->rc == 0 && c->stats.cleaned) {
    /* Keep the log dir's copy of cleaner-offset-checkpoint in step with the
     * file the round wrote. */
    sl_logdir_set_cleaner_offset(b->dirs.ld[p->dir], c->topic, c->partition,
                                 c->stats.end_offset);
    SD_INFO("cleaner: %s-%d compacted: %d segments (%lld bytes, %lld records) -> %d "
            "(%lld bytes, %lld records), %lld tombstones removed, first dirty offset "
            "now %lld, %.1f ms",
            c->topic, (int)c->partition, (int)c->stats.segments_before,
            (long long)c->stats.bytes_before, (long long)c->stats.records_before,
            (int)c->stats.segments_after, (long long)c->stats.bytes_after,
            (long long)c->stats.records_after, (long long)c->stats.tombstones_dropped,
            (long long)c->stats.end_offset, (double)c->stats.duration_us / 1000.0);
  } else if (valid && c->rc != 0 && c->rc != SL_ENOT_FOUND) {
    char buf[700];
    SD_WARN("cleaner: %s-%d: %s", c->topic, (int)c->partition,
            sl_diag_format(&c->diag, buf, sizeof(buf)));
  }
  if (c->stopping) {
    cleaner_free_if_idle(c);
    return;
  }
  cleaner_next(c);
}

/* Starts the round of the next compacted partition, or ends the pass. */
static void cleaner_next(sd_cleaner *c) {
  sd_broker *b = c->b;
  if (b->checkpoint_busy) {
    /* A round writes cleaner-offset-checkpoint, which the root checkpoints
     * being written may also be writing: start when they are done. */
    c->wait_checkpoint = true;
    return;
  }
  for (int i = 0; i < b->topics.n; i++) {
    const sd_topic *tp = &b->topics.topics[i];
    int cmp = strcmp(tp->name, c->cur_name);
    if (cmp < 0 || !(tp->log_cfg.cleanup_policy & SL_CLEANUP_COMPACT))
      continue;
    for (int j = 0; j < tp->n_parts; j++) {
      const sd_partition *p = &tp->parts[j];
      if (cmp == 0 && p->index <= c->cur_part)
        continue;
      snprintf(c->cur_name, sizeof(c->cur_name), "%s", tp->name);
      c->cur_part = p->index;
      snprintf(c->topic, sizeof(c->topic), "%s", tp->name);
      c->partition = p->index;
      c->log = p->log;
      c->job_invalid = false;
      sl_cleaner_opts_init(&c->opts);
      sl_cleaner_opts_from_log_config(&c->opts, &tp->log_cfg);
      c->opts.dedupe_buffer_size = sd_cfg_i(b->cfg, SD_CFG_CLEANER_DEDUPE_BUFFER);
      c->opts.dedupe_load_factor = sd_cfg_d(b->cfg, SD_CFG_CLEANER_LOAD_FACTOR);
      memset(&c->stats, 0, sizeof(c->stats));
      sl_diag_clear(&c->diag);
      c->rc = 0;
      c->done = false;
      c->work.data = c;
      if (uv_queue_work(b->loop, &c->work, cleaner_work, cleaner_after) == 0) {
        c->busy = true;
        return;
      }
      SD_WARN("cleaner: cannot queue work; retrying after log.cleaner.backoff.ms");
      goto pass_done;
    }
  }
pass_done:
  c->cur_name[0] = '\0';
  c->cur_part = -1;
  if (c->timer_open)
    uv_timer_start(&c->timer, cleaner_timer_cb, c->backoff_ms, 0);
}

static void cleaner_timer_cb(uv_timer_t *t) {
  sd_cleaner *c = t->data;
  if (!c->busy && !c->stopping)
    cleaner_next(c);
}

static void cleaner_timer_closed(uv_handle_t *h) {
  sd_cleaner *c = h->data;
  c->timer_open = false;
  cleaner_free_if_idle(c);
}

static void cleaner_start(sd_broker *b) {
  if (!sd_cfg_b(b->cfg, SD_CFG_CLEANER_ENABLE) ||
      sd_cfg_i(b->cfg, SD_CFG_CLEANER_THREADS) < 1) {
    SD_INFO("log cleaner disabled (log.cleaner.enable / log.cleaner.threads)");
    return;
  }
  sd_cleaner *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    SD_ERROR("log cleaner: out of memory; compaction disabled");
    return;
  }
  c->b = b;
  c->cur_part = -1;
  int64_t backoff = sd_cfg_i(b->cfg, SD_CFG_CLEANER_BACKOFF_MS);
  c->backoff_ms = backoff > 0 ? (uint64_t)backoff : 1;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  uv_timer_init(b->loop, &c->timer);
  c->timer.data = c;
  c->timer_open = true;
  b->cleaner = c;
  /* The first pass starts after one backoff, as Kafka's cleaner threads do
   * once the broker is up. */
  uv_timer_start(&c->timer, cleaner_timer_cb, c->backoff_ms, 0);
}

static void cleaner_stop(sd_broker *b) {
  sd_cleaner *c = b->cleaner;
  if (c == NULL || c->stopping)
    return;
  c->stopping = true;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, cleaner_timer_closed);
}

void sd_cleaner_wait(sd_broker *b, const char *topic) {
  sd_cleaner *c = b->cleaner;
  if (c == NULL || !c->busy)
    return;
  SD_INFO("waiting for the cleaner's round on %s-%d", c->topic, (int)c->partition);
  pthread_mutex_lock(&c->mu);
  while (!c->done)
    pthread_cond_wait(&c->cv, &c->mu);
  pthread_mutex_unlock(&c->mu);
  if (topic == NULL || strcmp(topic, c->topic) == 0)
    c->job_invalid = true; /* the caller may delete its log now */
}

#define TICK_MS 1000
#define CHECKPOINT_MS 5000

/*
 * The per-log periodic work runs on the thread pool, as Kafka's runs on its
 * scheduler threads, so that what waits on the disk never stalls the loop
 * (and with it every connection): the retention pass (sl_log_retain: renames,
 * the leader-epoch checkpoint, unlinks of *.deleted files whose delay is
 * over) and the 1 s tick (sl_log_flush_rolled: Kafka's roll schedules the
 * fsync of the segments below the new one, and seglogd's logs have
 * roll_flush_async - a 1 GiB segment's fsync took 0.55 s here and used to
 * run inside the produce request that rolled; then sl_log_tick: flush.ms,
 * *.deleted removal, producer-id expiry).  The long waits, the fsync of
 * rolled segments and the unlinks, run without the log's mutex; the rest
 * holds it (a retention pass that moves the log start rewrites
 * leader-epoch-checkpoint), and a request for that partition waits for it on
 * the loop meanwhile.  A failure that latches a log is reported as the
 * produce path reports it (sd_partition_offline).  One job per kind at a
 * time; sd_upkeep_wait lets a topic deletion wait for the jobs that hold its
 * logs.
 */
typedef enum { JOB_TICK, JOB_RETAIN } log_job_kind;

typedef struct log_one {
  sl_log *log;
  char topic[256];
  int32_t partition;
  int rc;
  sl_retention_result res;
  sl_diag diag;
} log_one;

typedef struct log_job {
  uv_work_t work;
  sd_broker *b;
  log_job_kind kind;
  int n;
  log_one *l;
} log_job;

/* Jobs whose work has not finished, for sd_upkeep_wait.  Process-wide (a
 * condition variable a thread-pool worker signals); a process runs one
 * broker, and an in-process test broker's waits are as correct as they are
 * conservative.  Which kinds are queued is per broker (log_job_queued). */
static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;
static int jobs_running;

static void log_job_work(uv_work_t *w) {
  log_job *j = w->data;
  for (int i = 0; i < j->n; i++) {
    log_one *o = &j->l[i];
    sl_diag_clear(&o->diag);
    if (j->kind == JOB_RETAIN) {
      o->rc = sl_log_retain(o->log, 0, &o->res, &o->diag);
      continue;
    }
    o->rc = sl_log_flush_rolled(o->log, &o->diag);
    if (o->rc == 0)
      o->rc = sl_log_tick(o->log, 0, &o->diag);
  }
  pthread_mutex_lock(&jobs_mu);
  jobs_running--;
  pthread_cond_broadcast(&jobs_cv);
  pthread_mutex_unlock(&jobs_mu);
}

static void log_job_after(uv_work_t *w, int status) {
  log_job *j = w->data;
  sd_broker *b = j->b;
  (void)status; /* nothing cancels it */
  for (int i = 0; i < j->n; i++) {
    const log_one *o = &j->l[i];
    char buf[700];
    if (o->rc != 0) {
      sl_diag_format(&o->diag, buf, sizeof(buf));
      SD_WARN("%s of %s-%d: %s", j->kind == JOB_RETAIN ? "retention" : "periodic work",
              o->topic, (int)o->partition, buf);
      const sd_topic *t = sd_topics_find(&b->topics, o->topic, strlen(o->topic));
      const sd_partition *p = t ? sd_topic_partition(t, o->partition) : NULL;
      if (p != NULL && p->log == o->log)
        sd_partition_offline(b, t, p, buf); /* the ERROR line if it latched now */
    } else if (j->kind == JOB_RETAIN && o->res.segments_deleted > 0) {
      SD_INFO(
          "retention deleted %d segments (%lld bytes) of %s-%d; log start offset %lld",
          (int)o->res.segments_deleted, (long long)o->res.bytes_deleted, o->topic,
          (int)o->partition, (long long)o->res.log_start_offset);
    }
  }
  b->log_job_queued[j->kind] = false;
  free(j->l);
  free(j);
}

void sd_upkeep_wait(void) {
  pthread_mutex_lock(&jobs_mu);
  while (jobs_running > 0)
    pthread_cond_wait(&jobs_cv, &jobs_mu);
  pthread_mutex_unlock(&jobs_mu);
}

/* Queues `kind` for every partition (skipped while the last one runs). */
static void start_log_job(sd_broker *b, log_job_kind kind) {
  if (b->log_job_queued[kind])
    return;
  int n = 0;
  for (int i = 0; i < b->topics.n; i++)
    n += b->topics.topics[i].n_parts;
  if (n == 0)
    return;
  log_job *j = calloc(1, sizeof(*j));
  log_one *l = calloc((size_t)n, sizeof(*l));
  if (j == NULL || l == NULL) {
    free(j);
    free(l);
    return; /* next time */
  }
  j->b = b;
  j->kind = kind;
  j->l = l;
  for (int i = 0; i < b->topics.n; i++) {
    const sd_topic *tp = &b->topics.topics[i];
    for (int k = 0; k < tp->n_parts; k++) {
      log_one *o = &l[j->n++];
      o->log = tp->parts[k].log;
      snprintf(o->topic, sizeof(o->topic), "%s", tp->name);
      o->partition = tp->parts[k].index;
    }
  }
  j->work.data = j;
  pthread_mutex_lock(&jobs_mu);
  jobs_running++;
  pthread_mutex_unlock(&jobs_mu);
  b->log_job_queued[kind] = true;
  if (uv_queue_work(b->loop, &j->work, log_job_work, log_job_after) != 0) {
    log_job_work(&j->work); /* no thread pool: here */
    log_job_after(&j->work, 0);
  }
}

static void on_retention(uv_timer_t *t) {
  start_log_job(t->data, JOB_RETAIN);
}

static void on_tick(uv_timer_t *t) {
  start_log_job(t->data, JOB_TICK);
}

/* One round of root checkpoints: the values are taken on the loop thread, the
 * files (each fsync'd, with its directory) are written on the thread pool. */
typedef struct cp_job {
  uv_work_t work;
  sd_broker *b;
  int n;
  sl_logdir_cp *cp[SD_MAX_LOG_DIRS];
  int rc[SD_MAX_LOG_DIRS];
  sl_diag diag[SD_MAX_LOG_DIRS];
} cp_job;

static void cp_work(uv_work_t *w) {
  cp_job *j = w->data;
  for (int i = 0; i < j->n; i++)
    if (j->cp[i] != NULL)
      j->rc[i] = sl_logdir_checkpoint_write(j->cp[i], &j->diag[i]);
}

static void cp_after(uv_work_t *w, int status) {
  cp_job *j = w->data;
  sd_broker *b = j->b;
  (void)status; /* nothing cancels it */
  for (int i = 0; i < j->n; i++) {
    if (j->cp[i] == NULL)
      continue;
    if (j->rc[i] != 0) {
      char buf[700];
      SD_WARN("checkpoints of %s: %s", b->dirs.paths[i],
              sl_diag_format(&j->diag[i], buf, sizeof(buf)));
    }
    sl_logdir_checkpoint_end(b->dirs.ld[i], j->cp[i]);
  }
  b->checkpoint_busy = false;
  free(j);
  sd_cleaner *c = b->cleaner;
  if (c != NULL && c->wait_checkpoint && !c->stopping && !c->busy) {
    c->wait_checkpoint = false;
    cleaner_next(c);
  }
}

static void on_checkpoint(uv_timer_t *t) {
  sd_broker *b = t->data;
  if (b->cleaner != NULL && b->cleaner->busy)
    return; /* the round writes cleaner-offset-checkpoint: next time */
  if (b->checkpoint_busy)
    return; /* the last round's files are still being written */
  cp_job *j = calloc(1, sizeof(*j));
  if (j == NULL) {
    SD_WARN("checkpoints: out of memory; next time");
    return;
  }
  j->b = b;
  j->n = b->dirs.n;
  bool any = false;
  for (int i = 0; i < j->n; i++) {
    sl_diag_clear(&j->diag[i]);
    if (sl_logdir_checkpoint_begin(b->dirs.ld[i], &j->cp[i], &j->diag[i]) != 0) {
      char buf[700];
      SD_WARN("checkpoints of %s: %s", b->dirs.paths[i],
              sl_diag_format(&j->diag[i], buf, sizeof(buf)));
      continue;
    }
    any = true;
  }
  j->work.data = j;
  if (any && uv_queue_work(b->loop, &j->work, cp_work, cp_after) == 0) {
    b->checkpoint_busy = true;
    return;
  }
  /* Nothing taken, or no thread pool: write here (or drop what was taken). */
  if (any)
    cp_work(&j->work);
  cp_after(&j->work, 0);
}

void sd_upkeep_start(sd_broker *b) {
  uint64_t every = (uint64_t)sd_cfg_i(b->cfg, SD_CFG_RETENTION_CHECK_MS);
  uv_timer_init(b->loop, &b->retention_timer);
  uv_timer_init(b->loop, &b->tick_timer);
  uv_timer_init(b->loop, &b->checkpoint_timer);
  b->retention_timer.data = b->tick_timer.data = b->checkpoint_timer.data = b;
  uv_timer_start(&b->retention_timer, on_retention, every, every);
  uv_timer_start(&b->tick_timer, on_tick, TICK_MS, TICK_MS);
  uv_timer_start(&b->checkpoint_timer, on_checkpoint, CHECKPOINT_MS, CHECKPOINT_MS);
  b->upkeep_running = true;
  cleaner_start(b);
}

void sd_upkeep_stop(sd_broker *b) {
  if (!b->upkeep_running)
    return;
  b->upkeep_running = false;
  cleaner_stop(b);
  uv_close((uv_handle_t *)&b->retention_timer, NULL);
  uv_close((uv_handle_t *)&b->tick_timer, NULL);
  uv_close((uv_handle_t *)&b->checkpoint_timer, NULL);
}
