/*
 * metrics.h - seglogd's counters and their Prometheus text endpoint
 * (`GET /metrics` on metrics.listener).  Counters are plain integers updated
 * on the loop thread; the HTTP side renders them on request.  docs/BROKER.md,
 * "Metrics", lists every series.
 */
#ifndef SD_METRICS_H
#define SD_METRICS_H

#include <stdint.h>
#include <uv.h>

#define SD_API_KEYS 128 /* ApiKeys are below this */
#define SD_LAT_BUCKETS 14

#define SD_OFFLINE_MAX 256 /* offline partitions remembered for logging once */

struct sd_broker;

typedef struct sd_offline_part {
  uint8_t topic_id[16];
  int32_t partition;
} sd_offline_part;

typedef struct sd_metrics {
  uint64_t requests[SD_API_KEYS];
  uint64_t errors[SD_API_KEYS];
  uint64_t lat_bucket[SD_API_KEYS][SD_LAT_BUCKETS + 1]; /* last: +Inf */
  double lat_sum[SD_API_KEYS];
  uint64_t bytes_in;
  uint64_t bytes_out;
  uint64_t connections_total;
  int64_t connections_active;
  int64_t connections_paused; /* reading stopped: client slow to read answers */
  uint64_t protocol_errors;   /* connections closed over a bad frame */
  uint64_t accept_errors;     /* accept failures (EMFILE...) on the listeners */
  /* Partitions already reported offline (faults.c). */
  sd_offline_part offline[SD_OFFLINE_MAX];
  int n_offline;
  /* HTTP endpoint */
  uv_tcp_t http;
  int http_open;
  struct sd_broker *broker;
} sd_metrics;

/* Records one answered request of api key `key` that took `ns`. */
void sd_metrics_request(sd_metrics *m, int16_t key, uint64_t ns);
void sd_metrics_error(sd_metrics *m, int16_t key);

/*
 * Listens on host:port.  Returns 0 or a negative libuv error.  *bound_port
 * receives the port actually bound (useful with port 0).
 */
int sd_metrics_listen(sd_metrics *m, struct sd_broker *b, const char *host, int port,
                      int *bound_port);
/* Stops listening (open scrapes finish on their own). */
void sd_metrics_close(sd_metrics *m);
/* Renders the exposition text into a malloc'd buffer (*len bytes). */
char *sd_metrics_render(const sd_metrics *m, const struct sd_broker *b, size_t *len);

#endif
