/*
 * prodlat.c - produce latency at a fixed rate, for bench/06-broker.sh
 * (docs/BENCHMARKS.md, "Broker: throughput against librdkafka's mock
 * cluster").  Produces 1 KiB messages to one partition with librdkafka at
 * RATE messages per second (a burst every millisecond, so the pacing costs no
 * busy loop), for SECONDS after one second of warm-up, and prints the p50, p99
 * and max of enqueue-to-delivery-report time in milliseconds, the number of
 * latencies counted, failed deliveries and the rate achieved.
 *
 * usage: prodlat BROKERS TOPIC RATE SECONDS ACKS [key=value ...]
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct lat_state {
  int64_t *lat_us;
  size_t n, cap;
  int64_t warm_until_us; /* messages enqueued before this are not counted */
  long failed;
} lat_state;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  lat_state *st = opaque;
  int64_t sent = (int64_t)(intptr_t)m->_private;
  (void)rk;
  if (m->err) {
    st->failed++;
    return;
  }
  if (sent < st->warm_until_us || st->n == st->cap)
    return;
  st->lat_us[st->n++] = now_us() - sent;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: prodlat BROKERS TOPIC RATE SECONDS ACKS [key=value ...]\n");
    return 2;
  }
  const char *topic = argv[2];
  long rate = strtol(argv[3], NULL, 10), secs = strtol(argv[4], NULL, 10);
  if (rate <= 0 || secs <= 0) {
    fprintf(stderr, "prodlat: RATE and SECONDS must be positive\n");
    return 2;
  }
  char err[512];
  lat_state st = {0};
  st.cap = (size_t)rate * (size_t)(secs + 1);
  st.lat_us = calloc(st.cap, sizeof(*st.lat_us));
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (st.lat_us == NULL ||
      rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err)) ||
      rd_kafka_conf_set(conf, "acks", argv[5], err, sizeof(err))) {
    fprintf(stderr, "prodlat: %s\n", st.lat_us ? err : "out of memory");
    return 1;
  }
  for (int i = 6; i < argc; i++) {
    char kv[256];
    snprintf(kv, sizeof(kv), "%s", argv[i]);
    char *eq = strchr(kv, '=');
    if (eq == NULL) {
      fprintf(stderr, "prodlat: %s is not key=value\n", argv[i]);
      return 2;
    }
    *eq = '\0';
    if (rd_kafka_conf_set(conf, kv, eq + 1, err, sizeof(err))) {
      fprintf(stderr, "prodlat: %s\n", err);
      return 1;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &st);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == NULL) {
    fprintf(stderr, "prodlat: %s\n", err);
    return 1;
  }
  static char payload[1024];
  memset(payload, 'x', sizeof(payload));
  int64_t start = now_us();
  st.warm_until_us = start + 1000000;
  int64_t end = st.warm_until_us + (int64_t)secs * 1000000;
  long sent = 0;
  for (int64_t t = now_us(); t < end; t = now_us()) {
    /* Catch up to where the rate says we should be, then sleep to the next ms. */
    long due = (long)((t - start) * rate / 1000000);
    while (sent < due) {
      if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                            RD_KAFKA_V_VALUE(payload, sizeof(payload)),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_OPAQUE((void *)(intptr_t)now_us()),
                            RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_poll(rk, 1);
        continue;
      }
      sent++;
    }
    rd_kafka_poll(rk, 1);
  }
  rd_kafka_flush(rk, 30000);
  rd_kafka_destroy(rk);
  if (st.n == 0) {
    fprintf(stderr, "prodlat: no message delivered (%ld failed)\n", st.failed);
    return 1;
  }
  qsort(st.lat_us, st.n, sizeof(*st.lat_us), cmp_i64);
  size_t i50 = st.n / 2, i99 = st.n * 99 / 100;
  printf("%.3f %.3f %.3f %zu %ld %.0f\n", st.lat_us[i50] / 1000.0,
         st.lat_us[i99] / 1000.0, st.lat_us[st.n - 1] / 1000.0, st.n, st.failed,
         (double)sent / (double)(secs + 1));
  free(st.lat_us);
  return st.failed ? 1 : 0;
}
