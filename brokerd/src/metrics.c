/*
 * metrics.c - seglogd's counters and the Prometheus text exposition (format
 * 0.0.4) served over a minimal HTTP/1.0-style endpoint: one request per
 * connection, `GET /metrics` answers 200, anything else 404, the connection
 * closes after the answer (docs/BROKER.md, "Metrics").
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "groups.h"
#include "kp_api.h"
#include "faults.h"
#include "sdlog.h"

/* Upper bounds of the latency buckets, seconds. */
static const double lat_bounds[SD_LAT_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

#define HTTP_MAX_REQUEST 8192

typedef struct http_conn {
  uv_tcp_t tcp;
  sd_metrics *m;
  uv_write_t w;
  char *out;
  size_t len;
  bool answered;
  char buf[HTTP_MAX_REQUEST];
} http_conn;

void sd_metrics_request(sd_metrics *m, int16_t key, uint64_t ns) {
  if (key < 0 || key >= SD_API_KEYS)
    return;
  m->requests[key]++;
  double s = (double)ns / 1e9;
  m->lat_sum[key] += s;
  int i = 0;
  while (i < SD_LAT_BUCKETS && s > lat_bounds[i])
    i++;
  m->lat_bucket[key][i]++;
}

void sd_metrics_error(sd_metrics *m, int16_t key) {
  if (key >= 0 && key < SD_API_KEYS)
    m->errors[key]++;
}

typedef struct tbuf {
  char *p;
  size_t len, cap;
  bool oom;
} tbuf;

static void put(tbuf *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void put(tbuf *t, const char *fmt, ...) {
  if (t->oom)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->oom = true;
      return;
    }
    if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    size_t nc = t->cap * 2 + (size_t)n + 1;
    char *np = realloc(t->p, nc);
    if (np == NULL) {
      t->oom = true;
      return;
    }
    t->p = np;
    t->cap = nc;
  }
}

static const char *api_name(int key) {
  const kp_api *a = kp_api_find((int16_t)key);
  return a ? a->name : "Unknown";
}

char *sd_metrics_render(const sd_metrics *m, const sd_broker *b, size_t *len) {
  tbuf t = {malloc(16384), 0, 16384, false};
  if (t.p == NULL)
    return NULL;
  put(&t, "# HELP seglog_requests_total Requests answered, per API.\n"
          "# TYPE seglog_requests_total counter\n");
  for (int k = 0; k < SD_API_KEYS; k++)
    if (m->requests[k] || m->errors[k])
      put(&t, "seglog_requests_total{api=\"%s\"} %llu\n", api_name(k),
          (unsigned long long)m->requests[k]);
  put(&t, "# HELP seglog_request_errors_total Error codes answered and requests refused, "
          "per API.\n# TYPE seglog_request_errors_total counter\n");
  for (int k = 0; k < SD_API_KEYS; k++)
    if (m->requests[k] || m->errors[k])
      put(&t, "seglog_request_errors_total{api=\"%s\"} %llu\n", api_name(k),
          (unsigned long long)m->errors[k]);
  put(&t, "# HELP seglog_request_latency_seconds Time from a complete request to its "
          "answer, per API.\n# TYPE seglog_request_latency_seconds histogram\n");
  for (int k = 0; k < SD_API_KEYS; k++) {
    if (!m->requests[k])
      continue;
    uint64_t cum = 0;
    for (int i = 0; i < SD_LAT_BUCKETS; i++) {
      cum += m->lat_bucket[k][i];
      put(&t, "seglog_request_latency_seconds_bucket{api=\"%s\",le=\"%g\"} %llu\n",
          api_name(k), lat_bounds[i], (unsigned long long)cum);
    }
    cum += m->lat_bucket[k][SD_LAT_BUCKETS];
    put(&t, "seglog_request_latency_seconds_bucket{api=\"%s\",le=\"+Inf\"} %llu\n",
        api_name(k), (unsigned long long)cum);
    put(&t, "seglog_request_latency_seconds_sum{api=\"%s\"} %.9f\n", api_name(k),
        m->lat_sum[k]);
    put(&t, "seglog_request_latency_seconds_count{api=\"%s\"} %llu\n", api_name(k),
        (unsigned long long)cum);
  }
  put(&t,
      "# HELP seglog_network_bytes_in_total Request bytes received (frames, size "
      "included).\n# TYPE seglog_network_bytes_in_total counter\n"
      "seglog_network_bytes_in_total %llu\n"
      "# HELP seglog_network_bytes_out_total Response bytes sent.\n"
      "# TYPE seglog_network_bytes_out_total counter\n"
      "seglog_network_bytes_out_total %llu\n"
      "# HELP seglog_connections_active Open client connections.\n"
      "# TYPE seglog_connections_active gauge\n"
      "seglog_connections_active %lld\n"
      "# HELP seglog_connections_paused Connections not read because their answers "
      "wait for the client (backpressure).\n"
      "# TYPE seglog_connections_paused gauge\n"
      "seglog_connections_paused %lld\n"
      "# HELP seglog_connections_total Client connections accepted.\n"
      "# TYPE seglog_connections_total counter\n"
      "seglog_connections_total %llu\n"
      "# HELP seglog_protocol_errors_total Connections closed over a malformed or "
      "unsupported request.\n# TYPE seglog_protocol_errors_total counter\n"
      "seglog_protocol_errors_total %llu\n",
      (unsigned long long)m->bytes_in, (unsigned long long)m->bytes_out,
      (long long)m->connections_active, (long long)m->connections_paused,
      (unsigned long long)m->connections_total, (unsigned long long)m->protocol_errors);
  int parts = 0;
  for (int i = 0; i < b->topics.n; i++)
    parts += b->topics.topics[i].n_parts;
  put(&t,
      "# HELP seglog_accept_errors_total Connections the listeners failed to accept "
      "(out of file descriptors...).\n# TYPE seglog_accept_errors_total counter\n"
      "seglog_accept_errors_total %llu\n"
      "# HELP seglog_partitions_offline Partitions offline after a storage failure "
      "(restart to recover).\n# TYPE seglog_partitions_offline gauge\n"
      "seglog_partitions_offline %d\n",
      (unsigned long long)m->accept_errors, sd_partitions_offline_count(b));
  put(&t,
      "# HELP seglog_partitions Partitions led by this broker.\n"
      "# TYPE seglog_partitions gauge\nseglog_partitions %d\n"
      "# HELP seglog_log_size_bytes Bytes of a partition's files on disk.\n"
      "# TYPE seglog_log_size_bytes gauge\n",
      parts);
  for (int i = 0; i < b->topics.n; i++) {
    const sd_topic *tp = &b->topics.topics[i];
    for (int j = 0; j < tp->n_parts; j++)
      put(&t, "seglog_log_size_bytes{topic=\"%s\",partition=\"%d\"} %lld\n", tp->name,
          tp->parts[j].index, (long long)sl_log_size_bytes(tp->parts[j].log));
  }
  char groups[2048]; /* group coordinator series (group_api.c) */
  if (sd_groups_metrics_render(b, groups, sizeof(groups)) < sizeof(groups))
    put(&t, "%s", groups);
  if (t.oom) {
    free(t.p);
    return NULL;
  }
  *len = t.len;
  return t.p;
}

static void http_closed(uv_handle_t *h) {
  http_conn *hc = h->data;
  free(hc->out);
  free(hc);
}

static void http_written(uv_write_t *w, int status) {
  http_conn *hc = w->data;
  uv_close((uv_handle_t *)&hc->tcp, http_closed);
}

static void http_answer(http_conn *hc) {
  hc->answered = true;
  uv_read_stop((uv_stream_t *)&hc->tcp);
  const char *status = "404 Not Found";
  char *body = NULL;
  size_t blen = 0;
  bool is_get = strncmp(hc->buf, "GET ", 4) == 0;
  const char *path = hc->buf + 4;
  if (is_get &&
      (strncmp(path, "/metrics ", 9) == 0 || strncmp(path, "/metrics?", 9) == 0 ||
       strncmp(path, "/metrics\r", 9) == 0)) {
    body = sd_metrics_render(hc->m, hc->m->broker, &blen);
    status = body ? "200 OK" : "500 Internal Server Error";
  } else if (!is_get) {
    status = "405 Method Not Allowed";
  }
  const char *ctype = body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain";
  const char *fallback = body ? "" : "not found: try GET /metrics\n";
  if (!body)
    blen = strlen(fallback);
  char head[256];
  int hl = snprintf(head, sizeof(head),
                    "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n",
                    status, ctype, blen);
  hc->len = (size_t)hl + blen;
  hc->out = malloc(hc->len);
  if (hc->out == NULL) {
    free(body);
    uv_close((uv_handle_t *)&hc->tcp, http_closed);
    return;
  }
  memcpy(hc->out, head, (size_t)hl);
  memcpy(hc->out + hl, body ? body : fallback, blen);
  free(body);
  uv_buf_t b = uv_buf_init(hc->out, (unsigned)hc->len);
  hc->w.data = hc;
  if (uv_write(&hc->w, (uv_stream_t *)&hc->tcp, &b, 1, http_written) != 0)
    uv_close((uv_handle_t *)&hc->tcp, http_closed);
}

static void http_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  http_conn *hc = h->data;
  size_t have = strlen(hc->buf);
  *buf = uv_buf_init(hc->buf + have, (unsigned)(sizeof(hc->buf) - 1 - have));
}

static void http_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  http_conn *hc = st->data;
  if (hc->answered)
    return;
  if (nread < 0) {
    uv_close((uv_handle_t *)&hc->tcp, http_closed);
    return;
  }
  size_t have = strlen(hc->buf);
  size_t n = (size_t)nread;
  hc->buf[have + n] = '\0';
  if (memchr(buf->base, '\0', n) != NULL || strstr(hc->buf, "\r\n\r\n") != NULL ||
      strstr(hc->buf, "\n\n") != NULL || have + n >= sizeof(hc->buf) - 1)
    http_answer(hc);
}

static void http_accept(uv_stream_t *server, int status) {
  sd_metrics *m = server->data;
  if (status < 0)
    return;
  http_conn *hc = calloc(1, sizeof(*hc));
  if (hc == NULL)
    return;
  hc->m = m;
  uv_tcp_init(server->loop, &hc->tcp);
  hc->tcp.data = hc;
  if (uv_accept(server, (uv_stream_t *)&hc->tcp) != 0 ||
      uv_read_start((uv_stream_t *)&hc->tcp, http_alloc, http_read) != 0)
    uv_close((uv_handle_t *)&hc->tcp, http_closed);
}

int sd_metrics_listen(sd_metrics *m, sd_broker *b, const char *host, int port,
                      int *bound_port) {
  m->broker = b;
  struct sockaddr_storage addr;
  int rc = uv_ip4_addr(host[0] ? host : "0.0.0.0", port, (struct sockaddr_in *)&addr);
  if (rc != 0)
    rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
  if (rc != 0)
    return rc;
  uv_tcp_init(b->loop, &m->http);
  m->http.data = m;
  m->http_open = 1;
  rc = uv_tcp_bind(&m->http, (const struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&m->http, 128, http_accept);
  if (rc != 0)
    return rc;
  struct sockaddr_storage bound;
  int blen = sizeof(bound);
  *bound_port = port;
  if (uv_tcp_getsockname(&m->http, (struct sockaddr *)&bound, &blen) == 0) {
    if (bound.ss_family == AF_INET)
      *bound_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    else if (bound.ss_family == AF_INET6)
      *bound_port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
  }
  return 0;
}

static void http_listener_closed(uv_handle_t *h) {
  sd_metrics *m = h->data;
  m->http_open = 0;
}

void sd_metrics_close(sd_metrics *m) {
  if (m->http_open && !uv_is_closing((uv_handle_t *)&m->http))
    uv_close((uv_handle_t *)&m->http, http_listener_closed);
}
