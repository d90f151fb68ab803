/*
 * upkeep.c - seglogd's periodic log work on the loop thread (docs/BROKER.md,
 * "Topics"): the retention pass every log.retention.check.interval.ms
 * (sl_log_retain: time, size and log-start rules), a one-second tick
 * (sl_log_tick: flush.ms and removal of *.deleted files after
 * file.delete.delay.ms), and root checkpoints every 5 seconds
 * (sl_logdir_checkpoint: recovery points, log start offsets, high watermarks;
 * Kafka writes the HW file every 5 s).
 */
#include "upkeep.h"

#include <stdio.h>

#include "sdlog.h"

#define TICK_MS 1000
#define CHECKPOINT_MS 5000

static void on_retention(uv_timer_t *t) {
  sd_broker *b = t->data;
  for (int i = 0; i < b->topics.n; i++) {
    const sd_topic *tp = &b->topics.topics[i];
    for (int j = 0; j < tp->n_parts; j++) {
      sl_retention_result res;
      sl_diag diag;
      sl_diag_clear(&diag);
      int rc = sl_log_retain(tp->parts[j].log, 0, &res, &diag);
      if (rc != 0) {
        char buf[700];
        SD_WARN("retention of %s-%d: %s", tp->name, (int)tp->parts[j].index,
                sl_diag_format(&diag, buf, sizeof(buf)));
      } else if (res.segments_deleted > 0) {
        SD_INFO(
            "retention deleted %d segments (%lld bytes) of %s-%d; log start offset %lld",
            (int)res.segments_deleted, (long long)res.bytes_deleted, tp->name,
            (int)tp->parts[j].index, (long long)res.log_start_offset);
      }
    }
  }
}

static void on_tick(uv_timer_t *t) {
  sd_broker *b = t->data;
  for (int i = 0; i < b->topics.n; i++) {
    const sd_topic *tp = &b->topics.topics[i];
    for (int j = 0; j < tp->n_parts; j++) {
      sl_diag diag;
      sl_diag_clear(&diag);
      if (sl_log_tick(tp->parts[j].log, 0, &diag) != 0) {
        char buf[700];
        SD_WARN("periodic work on %s-%d: %s", tp->name, (int)tp->parts[j].index,
                sl_diag_format(&diag, buf, sizeof(buf)));
      }
    }
  }
}

static void on_checkpoint(uv_timer_t *t) {
  sd_broker *b = t->data;
  for (int i = 0; i < b->dirs.n; i++) {
    sl_diag diag;
    sl_diag_clear(&diag);
    if (sl_logdir_checkpoint(b->dirs.ld[i], &diag) != 0) {
      char buf[700];
      SD_WARN("checkpoints of %s: %s", b->dirs.paths[i],
              sl_diag_format(&diag, buf, sizeof(buf)));
    }
  }
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
}

void sd_upkeep_stop(sd_broker *b) {
  if (!b->upkeep_running)
    return;
  b->upkeep_running = false;
  uv_close((uv_handle_t *)&b->retention_timer, NULL);
  uv_close((uv_handle_t *)&b->tick_timer, NULL);
  uv_close((uv_handle_t *)&b->checkpoint_timer, NULL);
}
