/*
 * prodflood.c - a lean, pipelined producer for bench/06-broker.sh
 * (docs/BENCHMARKS.md, "Broker: the broker's own produce ceiling").
 *
 * rdkafka_performance tops out near 0.1 of loopback TCP on this machine
 * whichever broker it talks to, so it measures the client.  This tool
 * measures the broker: it builds one RecordBatch v2 of uncompressed 1 KiB
 * records once (libseglog's batch builder), then sends it over and over in
 * Produce v7 requests on one connection with up to WINDOW requests in
 * flight, and counts the record bytes the broker acknowledged without error.
 * A broker must assign its own offsets, so resending the same batch bytes is
 * valid Kafka (a non-idempotent producer's retries do the same).
 *
 * Before timing, it asks for the topic's metadata (auto-creation) and sends
 * single requests until one is accepted.  Every response is checked: a
 * partition error stops the run with the code.
 *
 * usage: prodflood HOST:PORT TOPIC PARTITION MSGS [MSGSIZE=1024]
 *                  [PER_REQUEST=1000] [WINDOW=8] [ACKS=1]
 * prints: "msgs/s MB/s" (MB = 10^6 bytes of record values, as
 *         rdkafka_performance counts)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "seglog/batch.h"
#include "seglog/bytes.h"

static void die(const char *what) {
  fprintf(stderr, "prodflood: %s\n", what);
  exit(1);
}

static void put_str(sl_buf *b, const char *s) {
  sl_buf_i16(b, (int16_t)strlen(s));
  sl_buf_append(b, s, strlen(s));
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A whole decimal argument in [lo, hi]; anything else stops with its name. */
static long num_arg(const char *s, long lo, long hi, const char *name) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "prodflood: %s must be a number in [%ld, %ld], not '%s'\n", name, lo,
            hi, s);
    exit(2);
  }
  return v;
}

/* One RecordBatch v2 of `count` records of `size`-byte values, built by
 * libseglog's batch builder (baseOffset 0: the broker assigns it). */
static void build_batch(sl_buf *out, int count, int size) {
  uint8_t *value = malloc((size_t)size + 1);
  sl_batch_builder_opts o;
  sl_batch_builder *b = NULL;
  sl_batch_builder_opts_init(&o);
  if (value == NULL || sl_batch_builder_new(&o, &b) != 0)
    die("out of memory");
  for (int i = 0; i < size; i++)
    value[i] = (uint8_t)('a' + i % 26);
  int64_t ts = now_ms();
  for (int i = 0; i < count; i++)
    if (sl_batch_builder_add(b, ts, NULL, -1, value, size, NULL, 0) != 0)
      die("cannot build the batch");
  if (sl_batch_builder_finish(b, out) != 0)
    die("cannot build the batch");
  sl_batch_builder_free(b);
  free(value);
}

static void write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      die("write to the broker failed");
    p += w;
    n -= (size_t)w;
  }
}

static void read_all(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      die("the broker closed the connection");
    p += r;
    n -= (size_t)r;
  }
}

/* Reads one response frame; returns its body after the correlation id. */
static uint8_t *read_frame(int fd, size_t *len, uint8_t **buf, size_t *cap) {
  uint8_t sz[4];
  read_all(fd, sz, 4);
  size_t n = sl_load_be32(sz);
  if (n < 4 || n > (64u << 20))
    die("absurd response size");
  if (n > *cap) {
    *buf = realloc(*buf, n);
    if (*buf == NULL)
      die("out of memory");
    *cap = n;
  }
  read_all(fd, *buf, n);
  *len = n - 4;
  return *buf + 4;
}

/* Produce v7 response: [topics: name, [partitions: index, error_code, ...]]:
 * the one partition's error code. */
static int produce_error(const uint8_t *p, size_t n) {
  sl_rbuf r;
  sl_rbuf_init(&r, p, n);
  sl_rbuf_i32(&r);                                     /* topics */
  sl_rbuf_skip(&r, (size_t)(uint16_t)sl_rbuf_i16(&r)); /* name */
  sl_rbuf_i32(&r);                                     /* partitions */
  sl_rbuf_i32(&r);                                     /* index */
  int16_t err = sl_rbuf_i16(&r);
  if (sl_rbuf_err(&r) != 0)
    die("short produce response");
  return err;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: prodflood HOST:PORT TOPIC PARTITION MSGS [MSGSIZE] "
                    "[PER_REQUEST] [WINDOW] [ACKS]\n");
    return 2;
  }
  char host[256];
  snprintf(host, sizeof(host), "%s", argv[1]);
  char *colon = strrchr(host, ':');
  if (colon == NULL)
    die("broker must be HOST:PORT");
  *colon = '\0';
  const char *topic = argv[2];
  int partition = (int)num_arg(argv[3], 0, INT32_MAX, "PARTITION");
  long msgs = num_arg(argv[4], 1, LONG_MAX, "MSGS");
  int size = argc > 5 ? (int)num_arg(argv[5], 0, 1 << 20, "MSGSIZE") : 1024;
  int per = argc > 6 ? (int)num_arg(argv[6], 1, 1 << 20, "PER_REQUEST") : 1000;
  int window = argc > 7 ? (int)num_arg(argv[7], 1, 1024, "WINDOW") : 8;
  int acks = argc > 8 ? (int)num_arg(argv[8], -1, 1, "ACKS") : 1;
  if (acks == 0)
    die("ACKS must be 1 or -1 (acks=0 gets no answers to count)");

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
  if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
    die("cannot resolve the broker");
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
    die("cannot connect to the broker");
  freeaddrinfo(ai);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  /* Produce v7 request: header v1, then the body around one batch. */
  sl_buf batch = SL_BUF_INIT, req = SL_BUF_INIT, md = SL_BUF_INIT;
  build_batch(&batch, per, size);
  sl_buf_i32(&req, 0); /* size, set below */
  sl_buf_i16(&req, 0); /* Produce */
  sl_buf_i16(&req, 7);
  sl_buf_i32(&req, 0); /* correlation id, per send */
  put_str(&req, "prodflood");
  sl_buf_i16(&req, -1); /* transactional_id: null */
  sl_buf_i16(&req, (int16_t)acks);
  sl_buf_i32(&req, 30000);
  sl_buf_i32(&req, 1);
  put_str(&req, topic);
  sl_buf_i32(&req, 1);
  sl_buf_i32(&req, partition);
  sl_buf_i32(&req, (int32_t)batch.len);
  sl_buf_append(&req, batch.data, batch.len);
  sl_buf_patch_be32(&req, 0, (uint32_t)(req.len - 4));

  /* Metadata v1 for the topic (brokers auto-create at this version when
   * configured to; librdkafka's mock answers only low versions). */
  sl_buf_i32(&md, 0);
  sl_buf_i16(&md, 3);
  sl_buf_i16(&md, 1);
  sl_buf_i32(&md, 0);
  put_str(&md, "prodflood");
  sl_buf_i32(&md, 1);
  put_str(&md, topic);
  sl_buf_patch_be32(&md, 0, (uint32_t)(md.len - 4));
  if (batch.err != 0 || req.err != 0 || md.err != 0)
    die("out of memory");

  uint8_t *rbuf = NULL;
  size_t rcap = 0, rlen;
  int32_t corr = 0;
  int err = -1;
  for (int tries = 0; tries < 100 && err != 0; tries++) {
    sl_buf_patch_be32(&md, 8, (uint32_t)corr++);
    write_all(fd, md.data, md.len);
    read_frame(fd, &rlen, &rbuf, &rcap);
    sl_buf_patch_be32(&req, 8, (uint32_t)corr++);
    write_all(fd, req.data, req.len);
    const uint8_t *body = read_frame(fd, &rlen, &rbuf, &rcap);
    err = produce_error(body, rlen);
    if (err != 0) {
      struct timespec ts = {0, 100 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  if (err != 0) {
    fprintf(stderr, "prodflood: produce to %s/%d fails with error %d\n", topic, partition,
            err);
    return 1;
  }

  long requests = (msgs + per - 1) / per, sent = 0, acked = 0;
  double t0 = bench_now();
  while (acked < requests) {
    while (sent < requests && sent - acked < window) {
      sl_buf_patch_be32(&req, 8, (uint32_t)corr++);
      write_all(fd, req.data, req.len);
      sent++;
    }
    const uint8_t *body = read_frame(fd, &rlen, &rbuf, &rcap);
    err = produce_error(body, rlen);
    if (err != 0) {
      fprintf(stderr, "prodflood: produce error %d after %ld requests\n", err, acked);
      return 1;
    }
    acked++;
  }
  double secs = bench_now() - t0;
  double n = (double)requests * per;
  printf("%.0f %.2f\n", n / secs, n * size / secs / 1e6);
  free(rbuf);
  sl_buf_release(&req);
  sl_buf_release(&md);
  sl_buf_release(&batch);
  close(fd);
  return 0;
}
