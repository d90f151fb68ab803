/*
 * prodflood.c - a lean, pipelined producer for bench/06-broker.sh
 * (docs/BENCHMARKS.md, "Broker: the broker's own produce ceiling").
 *
 * rdkafka_performance tops out near 0.1 of loopback TCP on this machine
 * whichever broker it talks to, so it measures the client.  This tool
 * measures the broker: it builds one RecordBatch v2 of uncompressed 1 KiB
 * records once (CRC-32C computed here), then sends it over and over in
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
#include <arpa/inet.h>
#include <errno.h>
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

typedef struct wbuf {
  uint8_t *p;
  size_t len, cap;
} wbuf;

static void die(const char *what) {
  fprintf(stderr, "prodflood: %s\n", what);
  exit(1);
}

static void put(wbuf *b, const void *src, size_t n) {
  if (b->len + n > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 4096;
    while (nc < b->len + n)
      nc *= 2;
    b->p = realloc(b->p, nc);
    if (b->p == NULL)
      die("out of memory");
    b->cap = nc;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}
static void put8(wbuf *b, uint8_t v) {
  put(b, &v, 1);
}
static void put16(wbuf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  put(b, x, 2);
}
static void put32(wbuf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  put(b, x, 4);
}
static void put64(wbuf *b, uint64_t v) {
  put32(b, (uint32_t)(v >> 32));
  put32(b, (uint32_t)v);
}
static void putvar(wbuf *b, int64_t sv) { /* zigzag varint */
  uint64_t v = ((uint64_t)sv << 1) ^ (uint64_t)(sv >> 63);
  while (v >= 0x80) {
    put8(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  put8(b, (uint8_t)v);
}
static void putstr(wbuf *b, const char *s) {
  put16(b, (uint16_t)strlen(s));
  put(b, s, strlen(s));
}
static void set32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78): the batch is built once. */
static uint32_t crc32c(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One RecordBatch v2 of `count` records of `size`-byte values. */
static void build_batch(wbuf *b, int count, int size) {
  int64_t ts = now_ms();
  uint8_t *value = malloc((size_t)size);
  if (value == NULL)
    die("out of memory");
  for (int i = 0; i < size; i++)
    value[i] = (uint8_t)('a' + i % 26);
  put64(b, 0);              /* baseOffset: the broker assigns it */
  put32(b, 0);              /* batchLength, set below */
  put32(b, (uint32_t)-1);   /* partitionLeaderEpoch */
  put8(b, 2);               /* magic */
  put32(b, 0);              /* crc, set below */
  size_t crc_from = b->len; /* attributes .. end */
  put16(b, 0);              /* attributes: no compression, CreateTime */
  put32(b, (uint32_t)(count - 1));
  put64(b, (uint64_t)ts);
  put64(b, (uint64_t)ts);
  put64(b, (uint64_t)-1); /* producerId */
  put16(b, (uint16_t)-1); /* producerEpoch */
  put32(b, (uint32_t)-1); /* baseSequence */
  put32(b, (uint32_t)count);
  for (int i = 0; i < count; i++) {
    wbuf r = {0};
    put8(&r, 0);   /* attributes */
    putvar(&r, 0); /* timestampDelta */
    putvar(&r, i); /* offsetDelta */
    putvar(&r, -1);
    putvar(&r, size);
    put(&r, value, (size_t)size);
    putvar(&r, 0); /* headers */
    putvar(b, (int64_t)r.len);
    put(b, r.p, r.len);
    free(r.p);
  }
  set32(b->p + 8, (uint32_t)(b->len - 12));
  set32(b->p + 17, crc32c(b->p + crc_from, b->len - crc_from));
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
  size_t n = get32(sz);
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

/* Produce v7 response: [topics: name, [partitions: index, error_code, ...]] */
static int produce_error(const uint8_t *p, size_t n) {
  if (n < 4 + 2)
    die("short produce response");
  size_t nl = (size_t)(p[4] << 8 | p[5]);
  size_t at = 4 + 2 + nl + 4 + 4;
  if (at + 2 > n)
    die("short produce response");
  return (int16_t)(p[at] << 8 | p[at + 1]);
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
  int partition = (int)strtol(argv[3], NULL, 10);
  long msgs = strtol(argv[4], NULL, 10);
  int size = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 1024;
  int per = argc > 6 ? (int)strtol(argv[6], NULL, 10) : 1000;
  int window = argc > 7 ? (int)strtol(argv[7], NULL, 10) : 8;
  int acks = argc > 8 ? (int)strtol(argv[8], NULL, 10) : 1;
  if (msgs <= 0 || size < 0 || per <= 0 || window <= 0 || (acks != 1 && acks != -1))
    die("bad arguments");

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
  wbuf batch = {0};
  build_batch(&batch, per, size);
  wbuf req = {0};
  put32(&req, 0); /* size, set below */
  put16(&req, 0); /* Produce */
  put16(&req, 7);
  put32(&req, 0); /* correlation id, per send */
  putstr(&req, "prodflood");
  put16(&req, (uint16_t)-1); /* transactional_id: null */
  put16(&req, (uint16_t)(int16_t)acks);
  put32(&req, 30000);
  put32(&req, 1);
  putstr(&req, topic);
  put32(&req, 1);
  put32(&req, (uint32_t)partition);
  put32(&req, (uint32_t)batch.len);
  put(&req, batch.p, batch.len);
  set32(req.p, (uint32_t)(req.len - 4));

  /* Metadata v1 for the topic (brokers auto-create at this version when
   * configured to; librdkafka's mock answers only low versions). */
  wbuf md = {0};
  put32(&md, 0);
  put16(&md, 3);
  put16(&md, 1);
  put32(&md, 0);
  putstr(&md, "prodflood");
  put32(&md, 1);
  putstr(&md, topic);
  set32(md.p, (uint32_t)(md.len - 4));

  uint8_t *rbuf = NULL;
  size_t rcap = 0, rlen;
  int32_t corr = 0;
  int err = -1;
  for (int tries = 0; tries < 100 && err != 0; tries++) {
    set32(md.p + 8, (uint32_t)corr++);
    write_all(fd, md.p, md.len);
    read_frame(fd, &rlen, &rbuf, &rcap);
    set32(req.p + 8, (uint32_t)corr++);
    write_all(fd, req.p, req.len);
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
  double t0 = mono();
  while (acked < requests) {
    while (sent < requests && sent - acked < window) {
      set32(req.p + 8, (uint32_t)corr++);
      write_all(fd, req.p, req.len);
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
  double secs = mono() - t0;
  double n = (double)requests * per;
  printf("%.0f %.2f\n", n / secs, n * size / secs / 1e6);
  free(rbuf);
  free(req.p);
  free(md.p);
  free(batch.p);
  close(fd);
  return 0;
}
