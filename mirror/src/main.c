/*
 * main.c - seglog-mirror: `seglog-mirror [--check] CONFIG`.  Loads the
 * mm2.properties-style config (mm_config.h), starts the metrics listener and
 * runs the flows until SIGINT/SIGTERM.  docs/MIRROR.md.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mm_config.h"
#include "mm_http.h"
#include "mm_log.h"
#include "mm_mirror.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

/* The metrics listener runs on its own thread; a scrape renders under the
 * engine's lock (mm_mirror_metrics), between two rounds of the loop. */
typedef struct http_ctx {
  mm_http *h;
  mm_mirror *m;
} http_ctx;

static int render(void *arg, sl_buf *out) {
  http_ctx *c = arg;
  return mm_mirror_metrics(c->m, out);
}

static void *http_main(void *arg) {
  http_ctx *c = arg;
  while (!stop_flag) {
    mm_http_serve(c->h, render, c);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void usage(FILE *to) {
  fprintf(to,
          "usage: seglog-mirror [--check] CONFIG\n"
          "  Mirrors topics between Kafka-compatible clusters as MirrorMaker 2 does.\n"
          "  --check  parse and check CONFIG, then exit (0 valid, 1 invalid)\n"
          "See docs/MIRROR.md for the configuration keys.\n");
}

int main(int argc, char **argv) {
  const char *path = NULL;
  bool check = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--check") == 0)
      check = true;
    else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (!path && argv[i][0] != '-')
      path = argv[i];
    else {
      usage(stderr);
      return 2;
    }
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  char err[1024] = "";
  mm_config *cfg = NULL;
  mm_mirror *m = NULL;
  mm_http *http = NULL;
  int rc = 1;
  if (mm_config_load(path, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "seglog-mirror: %s: %s\n", path, err);
    return 1;
  }
  if (check) {
    printf("%s: ok (%zu clusters, %zu flows)\n", path, cfg->n_clusters, cfg->n_flows);
    mm_config_free(cfg);
    return 0;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (mm_mirror_new(cfg, &m, err, sizeof err) != 0) {
    fprintf(stderr, "seglog-mirror: %s\n", err);
    goto done;
  }
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  http_ctx hc = {NULL, m};
  pthread_t th;
  bool have_thread = false;
  if (cfg->metrics_listener) {
    if (mm_http_open(cfg->metrics_listener, &http, err, sizeof err) != 0) {
      fprintf(stderr, "seglog-mirror: %s\n", err);
      goto done;
    }
    hc.h = http;
    mm_log("info", "metrics.listening", "address=%s port=%d", cfg->metrics_listener,
           mm_http_port(http));
    have_thread = pthread_create(&th, NULL, http_main, &hc) == 0;
  }
  mm_mirror_set_lock(m, &lock);
  rc = mm_mirror_run(m, &stop_flag) == 0 ? 0 : 1;
  stop_flag = 1;
  if (have_thread)
    pthread_join(th, NULL);
done:
  mm_http_close(http);
  mm_mirror_free(m);
  mm_config_free(cfg);
  return rc;
}
