/*
 * main.c - seglogd, the seglog broker: command line, start-up checks, the
 * libuv loop, and clean shutdown on SIGTERM/SIGINT (docs/BROKER.md, "Running
 * seglogd").
 *
 *   seglogd [--config FILE | FILE] [--override KEY=VALUE]...
 *
 * Start-up stops at the first problem (unknown key, bad value, a log
 * directory that cannot be used, a listener that cannot be bound) with one
 * line naming it and exit status 1.  The first SIGTERM/SIGINT stops accepting,
 * lets queued requests finish, then closes everything and exits 0; a second
 * signal, or 10 seconds, closes the remaining connections at once.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "broker.h"
#include "dispatch.h"
#include "faults.h"
#include "groups.h"
#include "sdlog.h"
#include "server.h"
#include "upkeep.h"

#define SHUTDOWN_GRACE_MS 10000

typedef struct daemon_state {
  sd_broker b;
  sd_config cfg;
  uv_loop_t loop;
  uv_signal_t sigterm, sigint;
  uv_timer_t grace;
  bool stopping;
} daemon_state;

static void usage(FILE *f) {
  fprintf(f, "usage: seglogd [--config FILE | FILE] [--override KEY=VALUE]...\n"
             "Starts the seglog broker.  FILE uses Kafka's server.properties syntax;\n"
             "each --override sets one key after the file (docs/BROKER.md).\n");
}

static void close_walk_cb(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void on_stopped(sd_broker *b) {
  daemon_state *d = (daemon_state *)b;
  SD_INFO("all connections closed");
  uv_close((uv_handle_t *)&d->sigterm, NULL);
  uv_close((uv_handle_t *)&d->sigint, NULL);
  uv_close((uv_handle_t *)&d->grace, NULL);
}

static void on_grace(uv_timer_t *t) {
  daemon_state *d = t->data;
  SD_WARN("shutdown grace period over: closing the remaining connections");
  sd_server_stop(&d->b, on_stopped);
}

static void on_signal(uv_signal_t *s, int signum) {
  daemon_state *d = s->data;
  if (d->stopping) {
    SD_WARN("second %s: closing the remaining connections",
            signum == SIGINT ? "SIGINT" : "SIGTERM");
    sd_server_stop(&d->b, on_stopped);
    return;
  }
  d->stopping = true;
  SD_INFO("%s: shutting down (stop accepting, finish in-flight requests)",
          signum == SIGINT ? "SIGINT" : "SIGTERM");
  sd_metrics_close(&d->b.metrics);
  sd_upkeep_stop(&d->b);
  sd_groups_stop(&d->b); /* parked JoinGroup/SyncGroup answer before the drain */
  sd_offsets_stop(&d->b);
  uv_timer_start(&d->grace, on_grace, SHUTDOWN_GRACE_MS, 0);
  uv_unref((uv_handle_t *)&d->grace);
  sd_server_stop(&d->b, on_stopped);
}

static void drain_loop(uv_loop_t *loop) {
  uv_walk(loop, close_walk_cb, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  if (uv_loop_close(loop) != 0)
    SD_WARN("event loop still busy at exit");
}

int main(int argc, char **argv) {
  static daemon_state d; /* large (metrics): not on the stack */
  char err[1024];
  const char *config_path = NULL;
  int status = 1;
  bool loop_ready = false, dirs_open = false, topics_open = false;

  if (sd_config_init(&d.cfg) != 0) {
    SD_ERROR("out of memory");
    return 1;
  }
  /* Overrides apply after the file, whatever their position. */
  const char **overrides = calloc((size_t)argc, sizeof(char *));
  int n_over = 0;
  if (overrides == NULL) {
    SD_ERROR("out of memory");
    goto out;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      status = 0;
      goto out;
    } else if (strcmp(a, "--version") == 0) {
      printf("seglogd 0.1.0\n");
      status = 0;
      goto out;
    } else if (strcmp(a, "--config") == 0 || strcmp(a, "--override") == 0) {
      if (i + 1 >= argc) {
        SD_ERROR("%s needs an argument", a);
        usage(stderr);
        goto out;
      }
      if (a[2] == 'c')
        config_path = argv[++i];
      else
        overrides[n_over++] = argv[++i];
    } else if (strncmp(a, "--override=", 11) == 0) {
      overrides[n_over++] = a + 11;
    } else if (strncmp(a, "--config=", 9) == 0) {
      config_path = a + 9;
    } else if (a[0] != '-' && config_path == NULL) {
      config_path = a; /* kafka-server-start.sh style */
    } else {
      SD_ERROR("unknown argument '%s'", a);
      usage(stderr);
      goto out;
    }
  }
  if (config_path != NULL &&
      sd_config_load_file(&d.cfg, config_path, err, sizeof(err)) != 0) {
    SD_ERROR("%s", err);
    goto out;
  }
  for (int i = 0; i < n_over; i++) {
    if (sd_config_set_override(&d.cfg, overrides[i], err, sizeof(err)) != 0) {
      SD_ERROR("%s", err);
      goto out;
    }
  }
  sd_level level = SD_LOG_INFO;
  if (sd_log_parse_level(sd_cfg_s(&d.cfg, SD_CFG_LOG_LEVEL), &level))
    sd_log_set_level(level);
  if (sd_config_finish(&d.cfg, err, sizeof(err)) != 0 ||
      sd_dispatch_check(err, sizeof(err)) != 0) {
    SD_ERROR("%s", err);
    goto out;
  }
  signal(SIGPIPE, SIG_IGN);

  d.b.cfg = &d.cfg;
  d.b.node_id = (int32_t)sd_cfg_i(&d.cfg, SD_CFG_NODE_ID);
  if (sd_datadirs_open(&d.b.dirs, &d.cfg, err, sizeof(err)) != 0) {
    SD_ERROR("%s", err);
    goto out;
  }
  dirs_open = true;
  if (sd_topics_load(&d.b.topics, &d.b.dirs, err, sizeof(err)) != 0) {
    SD_ERROR("%s", err);
    goto out;
  }
  topics_open = true;
  sd_faults_report_recovery(&d.b.topics);

  if (uv_loop_init(&d.loop) != 0) {
    SD_ERROR("cannot create the event loop");
    goto out;
  }
  loop_ready = true;
  d.b.loop = &d.loop;
  if (sd_groups_init(&d.b, err, sizeof(err)) != 0) {
    SD_ERROR("%s", err);
    goto out;
  }
  /* __consumer_offsets: created if missing, replayed into both halves. */
  if (sd_offsets_init(&d.b, err, sizeof(err)) != 0) {
    SD_ERROR("%s", err);
    goto out;
  }
  if (sd_server_start(&d.b, err, sizeof(err)) != 0) {
    SD_ERROR("%s", err);
    goto out;
  }
  int mport = 0;
  int rc = sd_metrics_listen(&d.b.metrics, &d.b, d.cfg.metrics_host, d.cfg.metrics_port,
                             &mport);
  if (rc != 0) {
    SD_ERROR("metrics.listener: cannot listen on %s:%d: %s", d.cfg.metrics_host,
             d.cfg.metrics_port, uv_strerror(rc));
    goto out;
  }
  SD_INFO("metrics on http://%s:%d/metrics", d.cfg.metrics_host, mport);
  sd_upkeep_start(&d.b);
  uv_signal_init(&d.loop, &d.sigterm);
  uv_signal_init(&d.loop, &d.sigint);
  uv_timer_init(&d.loop, &d.grace);
  d.sigterm.data = d.sigint.data = d.grace.data = &d;
  uv_signal_start(&d.sigterm, on_signal, SIGTERM);
  uv_signal_start(&d.sigint, on_signal, SIGINT);
  SD_INFO("seglogd started: node.id=%d cluster.id=%s log.dirs=%s", (int)d.b.node_id,
          d.b.dirs.cluster_id,
          sd_cfg_s(&d.cfg, SD_CFG_LOG_DIRS) ? sd_cfg_s(&d.cfg, SD_CFG_LOG_DIRS)
                                            : sd_cfg_s(&d.cfg, SD_CFG_LOG_DIR));
  uv_run(&d.loop, UV_RUN_DEFAULT);
  status = 0;

out:
  if (loop_ready) {
    drain_loop(&d.loop);
    sd_server_free(&d.b);
    sd_offsets_free(&d.b);
    sd_groups_free(&d.b);
  }
  if (topics_open)
    sd_topics_release(&d.b.topics);
  if (dirs_open && sd_datadirs_close(&d.b.dirs) != 0)
    status = 1;
  if (status == 0 && loop_ready)
    SD_INFO("seglogd stopped cleanly");
  sd_config_release(&d.cfg);
  free(overrides);
  return status;
}
