/*
 * server.c - the Kafka protocol server of seglogd (see server.h;
 * docs/BROKER.md, "Connections").
 *
 * Connection state machine (per client):
 *
 *   SIZE  --4 bytes-->  check size (8 <= size <= socket.request.max.bytes,
 *    ^                  else close; nothing is allocated for a bad size)
 *    |                      |
 *    |                  FRAME: buffer grows with the bytes that arrive,
 *    |                      |  never to more than the announced size
 *    +---- dispatch <-------+
 *
 * Each complete frame becomes an sd_req appended to the connection's queue
 * before its handler runs; answers leave from the head of the queue only, so
 * a connection's responses go out in request order even when a later request
 * is answered first.  Reading stops while too many requests are queued or too
 * many response bytes wait for the socket (a slow reader) and resumes when
 * they drain; other connections are unaffected.
 *
 * Zero-copy Fetch: an answer may have holes (kp_hole) that Fetch filled with
 * record batches as segment-file slices (sd_req_file_bytes).  Such an answer
 * goes to the connection's output queue, and conn_pump sends it piece by
 * piece from the loop: its bytes with send(), each hole with sendfile() from
 * the slice's fd (held open by the slice even if retention deletes the
 * segment), non-blocking; on EAGAIN the pump waits for the socket to become
 * writable (a uv_poll on a dup of the socket's fd) and resumes where it
 * stopped.  Answers without holes go through uv_write as before, but only
 * while the output queue is empty, so answers keep their order; the pump
 * starts only when libuv has no bytes of its own left to write.
 */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dispatch.h"
#include "sdlog.h"

/* Backpressure thresholds per connection. */
#define MAX_QUEUED_REQUESTS 64
#define MAX_PENDING_WRITE_BYTES ((size_t)8 << 20)
/* A frame smaller than this cannot hold a request header. */
#define MIN_FRAME 8
#define READ_CHUNK 65536
/* A frame with at least this much left is read into directly. */
#define DIRECT_READ_MIN 16384
/* A frame up to this size gets its whole buffer when its size arrives, so
 * it is read in as few calls as the socket allows (a produce request of
 * librdkafka's default batch.size is ~1 MB); a larger one grows with what
 * arrives.  Untouched pages of the buffer cost no memory. */
#define FRAME_PREALLOC_MAX ((size_t)4 << 20)

typedef struct sd_listener {
  uv_tcp_t tcp;
  sd_server *srv;
  int index;
} sd_listener;

struct sd_conn {
  uv_tcp_t tcp;
  sd_server *srv;
  sd_conn *prev, *next;
  int listener;
  uint64_t id;
  char peer[80];
  /* Read state. */
  uint8_t size_buf[4];
  size_t size_have;
  uint8_t *frame; /* NULL while reading the size */
  size_t frame_len, frame_have, frame_cap;
  /* Requests in arrival order. */
  sd_req *head, *tail;
  unsigned queued;
  /* Writes handed to libuv and not completed. */
  unsigned writes;
  size_t write_bytes;
  bool reading;
  bool paused;          /* reading stopped by backpressure */
  bool closing;         /* uv_close called */
  bool closed;          /* close callback ran */
  uint64_t last_active; /* loop time (ms) of the last read or completed write */
  /* Answers with file-backed holes (and those after them), sent by conn_pump. */
  sd_req *oq_head, *oq_tail;
  /* Writability wait for the pump: a poll on a dup of the socket fd. */
  uv_poll_t wpoll;
  int wfd;          /* the dup, -1 until first needed */
  bool wpoll_open;  /* initialised and not yet closed */
  bool wpoll_armed; /* waiting for UV_WRITABLE */
};

struct sd_server {
  sd_broker *b;
  sd_listener listeners[SD_MAX_LISTENERS];
  int n_listeners;
  int listeners_open;
  sd_conn *conns;
  uint64_t next_id;
  bool stopping;
  bool sendfile; /* zero-copy Fetch allowed (SEGLOG_FETCH_SENDFILE != 0) */
  void (*on_stopped)(sd_broker *b);
  uv_timer_t idle_timer;  /* closes connections idle for connections.max.idle.ms */
  uint64_t accept_warned; /* loop time of the last accept-failure WARN */
  uint64_t fd_warned;     /* loop time of the last near-the-fd-limit WARN */
  bool idle_timer_open;
  /* One read buffer for every connection: on_read consumes it at once (the
   * bytes are copied into frames), so an idle connection costs no buffer. */
  char rbuf[READ_CHUNK];
};

typedef struct write_req {
  uv_write_t w;
  sd_conn *c;
  uint8_t *data;
  size_t len;
} write_req;

static void conn_close(sd_conn *c, const char *why);
static void conn_flush(sd_conn *c);
static void conn_pump(sd_conn *c);

/* One file-backed hole of an answer (sd_req_file_bytes). */
typedef struct sd_splice {
  kp_hole hole;
  int64_t len;
  sl_log_slice slice;
  struct sd_splice *next;
} sd_splice;

static void check_stopped(sd_server *s) {
  if (s->stopping && s->conns == NULL && s->listeners_open == 0 && !s->idle_timer_open &&
      s->on_stopped) {
    void (*cb)(sd_broker *) = s->on_stopped;
    s->on_stopped = NULL;
    cb(s->b);
  }
}

typedef struct sd_owned {
  void *p;
  struct sd_owned *next;
} sd_owned;

int sd_req_own(sd_req *req, void *p) {
  sd_owned *o = NULL;
  if (kp_arena_alloc(&req->arena, 1, sizeof(*o), (void **)&o) != 0) {
    free(p);
    return -1;
  }
  o->p = p;
  o->next = req->owned;
  req->owned = o;
  return 0;
}

static void req_free(sd_req *r) {
  for (sd_splice *sp = r->splices; sp; sp = sp->next)
    sl_log_slice_release(&sp->slice);
  for (sd_owned *o = r->owned; o; o = o->next)
    free(o->p);
  kp_arena_release(&r->arena);
  free(r->frame);
  free(r->out);
  free(r);
}

static void conn_maybe_free(sd_conn *c) {
  if (!c->closed || c->head != NULL || c->writes != 0 || c->wpoll_open)
    return;
  sd_server *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  s->b->metrics.connections_active--;
  free(c->frame);
  free(c);
  check_stopped(s);
}

static void on_conn_closed(uv_handle_t *h) {
  sd_conn *c = h->data;
  c->closed = true;
  conn_maybe_free(c);
}

static void on_wpoll_closed(uv_handle_t *h) {
  sd_conn *c = h->data;
  if (c->wfd >= 0)
    close(c->wfd);
  c->wfd = -1;
  c->wpoll_open = false;
  conn_maybe_free(c);
}

static void conn_unpause(sd_conn *c) {
  if (c->paused) {
    c->paused = false;
    c->srv->b->metrics.connections_paused--;
  }
}

static void conn_close(sd_conn *c, const char *why) {
  if (c->closing)
    return;
  c->closing = true;
  conn_unpause(c);
  SD_DEBUG("connection %llu from %s closed: %s", (unsigned long long)c->id, c->peer, why);
  if (c->reading)
    uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = false;
  /* Unsent answers go (their slices are released), and the pump's poll. */
  while (c->oq_head) {
    sd_req *r = c->oq_head;
    c->oq_head = r->next;
    req_free(r);
  }
  c->oq_tail = NULL;
  if (c->wpoll_open && !uv_is_closing((uv_handle_t *)&c->wpoll))
    uv_close((uv_handle_t *)&c->wpoll, on_wpoll_closed);
  /* Answered requests go now; unanswered ones wait for their handler. */
  sd_req **pp = &c->head;
  c->tail = NULL;
  while (*pp) {
    sd_req *r = *pp;
    if (r->done) {
      *pp = r->next;
      c->queued--;
      req_free(r);
    } else {
      c->tail = r;
      pp = &r->next;
    }
  }
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* Starts or stops reading according to the backpressure limits. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void conn_update_reading(sd_conn *c) {
  if (c->closing)
    return;
  if (c->srv->stopping) {
    conn_unpause(c);
    if (c->reading) {
      uv_read_stop((uv_stream_t *)&c->tcp);
      c->reading = false;
    }
    if (c->head == NULL && c->writes == 0 && c->oq_head == NULL)
      conn_close(c, "broker shutting down");
    return;
  }
  bool busy =
      c->queued >= MAX_QUEUED_REQUESTS || c->write_bytes >= MAX_PENDING_WRITE_BYTES;
  if (busy && c->reading) {
    SD_DEBUG("connection %llu: %u requests queued, %zu bytes unsent: reading paused",
             (unsigned long long)c->id, c->queued, c->write_bytes);
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    c->paused = true;
    c->srv->b->metrics.connections_paused++;
  } else if (!busy && !c->reading) {
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
      conn_close(c, uv_strerror(rc));
      return;
    }
    c->reading = true;
    conn_unpause(c);
  }
}

static void on_write(uv_write_t *w, int status) {
  write_req *wr = (write_req *)w;
  sd_conn *c = wr->c;
  c->writes--;
  c->write_bytes -= wr->len;
  c->last_active = uv_now(c->srv->b->loop);
  free(wr->data);
  free(wr);
  if (status < 0 && !c->closing)
    conn_close(c, uv_strerror(status));
  if (c->closing)
    conn_maybe_free(c);
  else if (c->oq_head != NULL)
    conn_pump(c);
  else
    conn_update_reading(c);
}

static void conn_send(sd_conn *c, uint8_t *data, size_t len) {
  write_req *wr = malloc(sizeof(*wr));
  if (wr == NULL) {
    free(data);
    conn_close(c, "out of memory");
    return;
  }
  wr->c = c;
  wr->data = data;
  wr->len = len;
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  int rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_write);
  if (rc != 0) {
    free(data);
    free(wr);
    conn_close(c, uv_strerror(rc));
    return;
  }
  c->writes++;
  c->write_bytes += len;
  c->srv->b->metrics.bytes_out += len;
}

/* Sends every answered request at the head of the queue, in order. */
static void conn_flush(sd_conn *c) {
  while (c->head != NULL && c->head->done) {
    sd_req *r = c->head;
    c->head = r->next;
    if (c->head == NULL)
      c->tail = NULL;
    c->queued--;
    if (r->reply && !c->closing && (r->splices != NULL || c->oq_head != NULL)) {
      /* Behind or with file-backed bytes: the pump sends it, in order. */
      r->next = NULL;
      r->send_sp = r->splices;
      if (c->oq_tail)
        c->oq_tail->next = r;
      else
        c->oq_head = r;
      c->oq_tail = r;
      c->write_bytes += r->out_len;
      c->srv->b->metrics.bytes_out += r->out_len;
      continue;
    }
    if (r->reply && !c->closing) {
      conn_send(c, r->out, r->out_len);
      r->out = NULL;
    }
    req_free(r);
  }
  if (c->closing)
    conn_maybe_free(c);
  else if (c->oq_head != NULL)
    conn_pump(c);
  else
    conn_update_reading(c);
}

static void on_wpoll(uv_poll_t *h, int status, int events) {
  sd_conn *c = h->data;
  (void)events;
  uv_poll_stop(h);
  c->wpoll_armed = false;
  if (c->closing)
    return;
  if (status < 0) {
    conn_close(c, uv_strerror(status));
    return;
  }
  conn_pump(c);
}

/* Waits for the socket to take more bytes; false when that cannot be done. */
static bool conn_wait_writable(sd_conn *c, int fd) {
  if (c->wpoll_armed)
    return true;
  if (!c->wpoll_open) {
    /* libuv allows one watcher per fd number: poll a dup of the socket. */
    c->wfd = dup(fd);
    if (c->wfd < 0)
      return false;
    if (uv_poll_init(c->srv->b->loop, &c->wpoll, c->wfd) != 0) {
      close(c->wfd);
      c->wfd = -1;
      return false;
    }
    c->wpoll.data = c;
    c->wpoll_open = true;
  }
  if (uv_poll_start(&c->wpoll, UV_WRITABLE, on_wpoll) != 0)
    return false;
  c->wpoll_armed = true;
  return true;
}

/*
 * Sends as much of r as the socket takes: 1 when all of it went, 0 when the
 * socket is full, -1 on an error (`why` says which; the caller closes).
 */
static int pump_req(sd_req *r, int fd, const char **why) {
  for (;;) {
    sd_splice *sp = r->send_sp;
    size_t end = sp ? sp->hole.at : r->out_len;
    if (r->send_pos < end) {
      ssize_t n = send(fd, r->out + r->send_pos, end - r->send_pos,
                       MSG_DONTWAIT | MSG_NOSIGNAL | (sp ? MSG_MORE : 0));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return 0;
        *why = strerror(errno);
        return -1;
      }
      r->send_pos += (size_t)n;
      continue;
    }
    if (sp == NULL)
      return 1;
    int64_t left = sp->len - r->send_sp_done;
    if (left <= 0) {
      r->send_pos = sp->hole.at + (size_t)sp->len;
      r->send_sp = sp->next;
      r->send_sp_done = 0;
      sl_log_slice_release(&sp->slice); /* sent: the segment may go */
      continue;
    }
    off_t off = (off_t)(sp->slice.position + r->send_sp_done);
    size_t chunk = left > (1 << 30) ? (size_t)1 << 30 : (size_t)left;
    ssize_t n = sendfile(fd, sp->slice.fd, &off, chunk);
    if (n > 0) {
      r->send_sp_done += n;
      continue;
    }
    if (n == 0) {
      /* The file is shorter than the slice (truncated under it): the frame
       * cannot be completed. */
      *why = "segment file shorter than the fetched slice";
      return -1;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
      /* sendfile cannot read this file: copy the rest into the hole (its
       * capacity is in `out`) and send it as ordinary bytes. */
      size_t at = sp->hole.at + (size_t)r->send_sp_done, got = 0;
      while (got < (size_t)left) {
        ssize_t k = pread(sp->slice.fd, r->out + at + got, (size_t)left - got,
                          (off_t)(sp->slice.position + r->send_sp_done) + (off_t)got);
        if (k < 0 && errno == EINTR)
          continue;
        if (k <= 0) {
          *why = k < 0 ? strerror(errno) : "segment file shorter than the fetched slice";
          return -1;
        }
        got += (size_t)k;
      }
      r->send_sp = sp->next;
      r->send_sp_done = 0;
      sl_log_slice_release(&sp->slice);
      continue;
    }
    *why = strerror(errno);
    return -1;
  }
}

/* Sends the output queue, in order, as far as the socket takes it. */
static void conn_pump(sd_conn *c) {
  if (c->closing)
    return;
  /* libuv's own queued bytes go first (on_write calls back here). */
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 0)
    return;
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
    conn_close(c, "no socket");
    return;
  }
  while (c->oq_head != NULL) {
    sd_req *r = c->oq_head;
    const char *why = NULL;
    int rc = pump_req(r, fd, &why);
    if (rc < 0) {
      if (why == NULL)
        why = "send failed";
      conn_close(c, why);
      return;
    }
    if (rc == 0) {
      if (!conn_wait_writable(c, fd))
        conn_close(c, "cannot wait for the socket");
      return;
    }
    c->oq_head = r->next;
    if (c->oq_head == NULL)
      c->oq_tail = NULL;
    c->write_bytes -= r->out_len;
    c->last_active = uv_now(c->srv->b->loop);
    req_free(r);
  }
  conn_update_reading(c);
}

/* A request was answered: record it and flush what is now in order. */
static void req_finish(sd_req *r) {
  r->done = true;
  sd_conn *c = r->conn;
  sd_metrics_request(&r->broker->metrics, r->hdr.request_api_key,
                     uv_hrtime() - r->start_ns);
  if (c->closing) {
    /* Drop it from the queue wherever it is. */
    sd_req **pp = &c->head;
    c->tail = NULL;
    while (*pp) {
      if (*pp == r) {
        *pp = r->next;
        c->queued--;
        req_free(r);
        continue;
      }
      c->tail = *pp;
      pp = &(*pp)->next;
    }
    conn_maybe_free(c);
    return;
  }
  conn_flush(c);
}

bool sd_req_zero_copy(const sd_req *req) {
  /* Every listener is PLAINTEXT today; a TLS listener would say no here. */
  return req->broker->server != NULL && req->broker->server->sendfile;
}

int sd_req_file_bytes(sd_req *req, sl_log_slice *slice, kp_bytes *field) {
  sd_splice *sp = NULL;
  if (slice->length <= 0 || slice->length > INT32_MAX ||
      kp_arena_alloc(&req->arena, 1, sizeof(*sp), (void **)&sp) != 0) {
    sl_log_slice_release(slice);
    return -1;
  }
  sp->slice = *slice;
  sp->len = slice->length;
  sp->hole.at = SIZE_MAX; /* set by the encoder */
  memset(slice, 0, sizeof(*slice));
  slice->fd = -1;
  if (req->splices_tail)
    req->splices_tail->next = sp;
  else
    req->splices = sp;
  req->splices_tail = sp;
  sp->hole.len = (int32_t)sp->len;
  *field = kp_bytes_hole(&sp->hole);
  return 0;
}

void sd_req_drop_files(sd_req *req) {
  for (sd_splice *sp = req->splices; sp; sp = sp->next)
    sl_log_slice_release(&sp->slice);
  req->splices = req->splices_tail = NULL;
}

/* After encoding: holes the encoder did not place are dropped, the rest are
 * put in output order for the pump. */
static void splices_settle(sd_req *req) {
  sd_splice *sorted = NULL, **pp, *next;
  for (sd_splice *sp = req->splices; sp; sp = next) {
    next = sp->next;
    if (sp->hole.at == SIZE_MAX || sp->hole.at + (size_t)sp->len > req->out_len) {
      sl_log_slice_release(&sp->slice);
      continue;
    }
    for (pp = &sorted; *pp && (*pp)->hole.at < sp->hole.at; pp = &(*pp)->next)
      ;
    sp->next = *pp;
    *pp = sp;
  }
  req->splices = sorted;
  req->splices_tail = NULL;
}

void sd_req_respond(sd_req *req, const void *resp) {
  sl_buf out;
  sl_buf_init(&out);
  int rc = sl_buf_i32(&out, 0);
  int hv = req->unsupported ? 0 : kp_api_response_header_version(req->api, req->version);
  kp_response_header h;
  kp_response_header_init_defaults(&h);
  h.correlation_id = req->hdr.correlation_id;
  if (rc == 0)
    rc = kp_response_header_encode(&out, (int16_t)hv, &h);
  if (rc == 0)
    rc = req->api->response.encode(&out, req->version, resp);
  if (rc == 0 && out.err != 0)
    rc = out.err;
  if (rc != 0 || out.len - 4 > INT32_MAX) {
    SD_ERROR("cannot encode %s v%d response: %s", req->api->name, req->version,
             sl_strerror(rc));
    sl_buf_release(&out);
    sd_metrics_error(&req->broker->metrics, req->hdr.request_api_key);
    req->reply = false;
    if (!req->conn->closing)
      conn_close(req->conn, "response encoding failed");
    req_finish(req);
    return;
  }
  sl_buf_patch_be32(&out, 0, (uint32_t)(out.len - 4));
  req->out = sl_buf_detach(&out, &req->out_len);
  req->reply = true;
  splices_settle(req);
  req_finish(req);
}

void sd_req_no_response(sd_req *req) {
  req->reply = false;
  req_finish(req);
}

void sd_req_abort(sd_req *req, const char *why) {
  req->reply = false;
  sd_metrics_error(&req->broker->metrics, req->hdr.request_api_key);
  if (!req->conn->closing)
    conn_close(req->conn, why);
  req_finish(req);
}

int sd_req_alloc(sd_req *req, size_t count, size_t size, void **out) {
  int rc = kp_arena_alloc(&req->arena, count, size, out);
  if (rc != 0)
    sd_req_abort(req, "out of memory");
  return rc;
}

const char *sd_req_peer(const sd_req *req) {
  return req->conn != NULL ? req->conn->peer : "?";
}

void sd_req_count_error(sd_req *req) {
  sd_metrics_error(&req->broker->metrics, req->hdr.request_api_key);
}

static void protocol_error(sd_conn *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void protocol_error(sd_conn *c, const char *fmt, ...) {
  char why[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  c->srv->b->metrics.protocol_errors++;
  SD_INFO("closing connection %llu from %s: %s", (unsigned long long)c->id, c->peer, why);
  conn_close(c, why);
}

/* A complete frame arrived; takes ownership of frame. */
static void handle_frame(sd_conn *c, uint8_t *frame, size_t len) {
  sd_broker *b = c->srv->b;
  int16_t key = (int16_t)sl_load_be16(frame);
  int16_t version = (int16_t)sl_load_be16(frame + 2);
  const sd_api_entry *ent = sd_dispatch_find(key);
  const kp_api *api = kp_api_find(key);
  if (ent == NULL || api == NULL) {
    free(frame);
    protocol_error(c, "unknown or unsupported ApiKey %d (version %d)", key, version);
    return;
  }
  bool supported = version >= ent->min_version && version <= ent->max_version;
  if (!supported && key != SD_API_VERSIONS_KEY) {
    free(frame);
    if (key >= 0 && key < SD_API_KEYS)
      b->metrics.errors[key]++;
    protocol_error(c, "ApiKey %d version %d is not supported", key, version);
    return;
  }
  sd_req *r = calloc(1, sizeof(*r));
  if (r == NULL) {
    free(frame);
    conn_close(c, "out of memory");
    return;
  }
  r->broker = b;
  r->api = api;
  r->entry = ent;
  r->conn = c;
  r->listener = c->listener;
  r->frame = frame;
  r->frame_len = len;
  r->start_ns = uv_hrtime();
  /* Decoded arrays may be larger than their wire form; the decoders check
   * counts against the bytes present, so this only bounds the expansion. */
  kp_arena_init(&r->arena, ((size_t)1 << 20) + len * 16);
  kp_request_header_init_defaults(&r->hdr);
  if (c->tail)
    c->tail->next = r;
  else
    c->head = r;
  c->tail = r;
  c->queued++;

  if (!supported) {
    /* KIP-511: an ApiVersions version we do not know gets a v0 answer. */
    r->unsupported = true;
    r->version = 0;
    r->hdr.request_api_key = key;
    r->hdr.request_api_version = version;
    r->hdr.correlation_id = (int32_t)sl_load_be32(frame + 4);
    ent->handler(r);
    return;
  }
  r->version = version;
  sl_rbuf rd;
  sl_rbuf_init(&rd, frame, len);
  int hv = kp_api_request_header_version(api, version);
  int rc = kp_request_header_decode(&rd, (int16_t)hv, &r->arena, &r->hdr);
  if (rc == 0)
    rc = kp_arena_alloc(&r->arena, 1, api->request.size, &r->body);
  if (rc == 0)
    rc = api->request.decode(&rd, version, &r->arena, r->body);
  if (rc != 0) {
    char why[160];
    snprintf(why, sizeof(why), "malformed %s v%d request: %s", api->name, version,
             sl_strerror(rc));
    c->srv->b->metrics.protocol_errors++;
    SD_INFO("closing connection %llu from %s: %s", (unsigned long long)c->id, c->peer,
            why);
    sd_req_abort(r, why);
    return;
  }
  SD_DEBUG("connection %llu: %s v%d correlation %d client %.*s",
           (unsigned long long)c->id, api->name, version, r->hdr.correlation_id,
           r->hdr.client_id.len > 0 ? (int)r->hdr.client_id.len : 0,
           r->hdr.client_id.len > 0 ? r->hdr.client_id.ptr : "");
  ent->handler(r);
}

/* The frame being read is complete: dispatch it and wait for a size. */
static void frame_complete(sd_conn *c) {
  uint8_t *frame = c->frame;
  size_t len = c->frame_len;
  c->frame = NULL;
  c->size_have = 0;
  c->srv->b->metrics.bytes_in += len + 4;
  handle_frame(c, frame, len);
}

/* Feeds received bytes through the state machine. */
static void conn_feed(sd_conn *c, const uint8_t *p, size_t n) {
  size_t max = (size_t)sd_cfg_i(c->srv->b->cfg, SD_CFG_SOCKET_REQUEST_MAX);
  while (n > 0 && !c->closing) {
    if (c->frame == NULL) {
      size_t take = 4 - c->size_have;
      if (take > n)
        take = n;
      memcpy(c->size_buf + c->size_have, p, take);
      c->size_have += take;
      p += take;
      n -= take;
      if (c->size_have < 4)
        return;
      int32_t size = (int32_t)sl_load_be32(c->size_buf);
      if (size < 0 || (size_t)size > max) {
        char why[128];
        snprintf(why, sizeof(why), "request size %d is %s (socket.request.max.bytes=%zu)",
                 size, size < 0 ? "negative" : "too large", max);
        c->srv->b->metrics.protocol_errors++;
        SD_INFO("closing connection %llu from %s: %s", (unsigned long long)c->id, c->peer,
                why);
        conn_close(c, why);
        return;
      }
      if (size < MIN_FRAME) {
        protocol_error(c, "request size %d is shorter than a request header", size);
        return;
      }
      c->frame_len = (size_t)size;
      c->frame_have = 0;
      c->frame_cap = c->frame_len <= FRAME_PREALLOC_MAX ? c->frame_len : READ_CHUNK;
      c->frame = malloc(c->frame_cap);
      if (c->frame == NULL) {
        conn_close(c, "out of memory");
        return;
      }
      continue;
    }
    size_t take = c->frame_len - c->frame_have;
    if (take > n)
      take = n;
    if (c->frame_have + take > c->frame_cap) {
      /* Grow with what has arrived, never past the announced size. */
      size_t nc = c->frame_cap * 2;
      if (nc < c->frame_have + take)
        nc = c->frame_have + take;
      if (nc > c->frame_len)
        nc = c->frame_len;
      uint8_t *nf = realloc(c->frame, nc);
      if (nf == NULL) {
        conn_close(c, "out of memory");
        return;
      }
      c->frame = nf;
      c->frame_cap = nc;
    }
    memcpy(c->frame + c->frame_have, p, take);
    c->frame_have += take;
    p += take;
    n -= take;
    if (c->frame_have == c->frame_len)
      frame_complete(c);
  }
}

/*
 * The rest of a large frame is read straight into it (no copy through rbuf,
 * fewer reads); the frame grows as before, at most to twice what has
 * arrived and never past the announced size.  Small frames and sizes go
 * through rbuf, which may hold several pipelined requests.
 */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  sd_conn *c = h->data;
  (void)suggested;
  if (c->frame != NULL && c->frame_len - c->frame_have >= DIRECT_READ_MIN) {
    if (c->frame_have == c->frame_cap) {
      size_t nc = c->frame_cap * 2;
      if (nc > c->frame_len)
        nc = c->frame_len;
      uint8_t *nf = realloc(c->frame, nc);
      if (nf != NULL) {
        c->frame = nf;
        c->frame_cap = nc;
      }
    }
    if (c->frame_have < c->frame_cap) {
      *buf = uv_buf_init((char *)c->frame + c->frame_have,
                         (unsigned)(c->frame_cap - c->frame_have));
      return;
    }
  }
  *buf = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  sd_conn *c = st->data;
  if (nread < 0) {
    conn_close(c, nread == UV_EOF ? "closed by client" : uv_strerror((int)nread));
    return;
  }
  c->last_active = uv_now(c->srv->b->loop);
  if (buf->base != c->srv->rbuf) {
    /* Read into the frame (on_alloc): never past its end. */
    c->frame_have += (size_t)nread;
    if (c->frame_have == c->frame_len)
      frame_complete(c);
  } else {
    conn_feed(c, (const uint8_t *)buf->base, (size_t)nread);
  }
  if (!c->closing)
    conn_update_reading(c);
}

/* Descriptors are allocated lowest first, so a connection whose fd is near
 * RLIMIT_NOFILE means the process is nearly out of them: libuv then drops
 * further connections silently (its EMFILE reserve trick), so this is the
 * place to say so.  One WARN per 10 s. */
static void warn_near_fd_limit(sd_server *s, sd_conn *c) {
  uv_os_fd_t fd;
  struct rlimit rl;
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
      rl.rlim_cur == RLIM_INFINITY || (rlim_t)fd + 32 < rl.rlim_cur)
    return;
  uint64_t now = uv_now(s->b->loop);
  if (s->fd_warned != 0 && now - s->fd_warned < 10000)
    return;
  s->fd_warned = now ? now : 1;
  SD_WARN("connection %llu got descriptor %d of RLIMIT_NOFILE %llu: new connections are "
          "refused when none are left (raise ulimit -n)",
          (unsigned long long)c->id, (int)fd, (unsigned long long)rl.rlim_cur);
}

static void on_connection(uv_stream_t *server, int status) {
  sd_listener *l = server->data;
  sd_server *s = l->srv;
  if (status < 0) {
    /* Out of descriptors (EMFILE): libuv drops the pending connection, so
     * nothing spins; one WARN per 10 s keeps a flood from filling the log. */
    uint64_t now = uv_now(s->b->loop);
    s->b->metrics.accept_errors++;
    if (s->accept_warned == 0 || now - s->accept_warned >= 10000) {
      SD_WARN("accept on %s failed: %s (%llu accept failures so far; connections are "
              "refused until descriptors free up)",
              s->b->cfg->listeners[l->index].name, uv_strerror(status),
              (unsigned long long)s->b->metrics.accept_errors);
      s->accept_warned = now ? now : 1;
    }
    return;
  }
  sd_conn *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    SD_ERROR("out of memory accepting a connection");
    return;
  }
  c->srv = s;
  c->wfd = -1;
  c->listener = l->index;
  c->id = ++s->next_id;
  uv_tcp_init(s->b->loop, &c->tcp);
  c->tcp.data = c;
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->b->metrics.connections_total++;
  s->b->metrics.connections_active++;
  int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
  if (rc != 0) {
    conn_close(c, uv_strerror(rc));
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  c->last_active = uv_now(s->b->loop);
  warn_near_fd_limit(s, c);
  struct sockaddr_storage ss;
  int sl = sizeof(ss);
  snprintf(c->peer, sizeof(c->peer), "?");
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
    char ip[64] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
      const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
      uv_ip4_name(a, ip, sizeof(ip));
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
      uv_ip6_name(a, ip, sizeof(ip));
      port = ntohs(a->sin6_port);
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, port);
  }
  SD_DEBUG("connection %llu from %s on %s", (unsigned long long)c->id, c->peer,
           s->b->cfg->listeners[l->index].name);
  if (s->stopping) {
    conn_close(c, "broker shutting down");
    return;
  }
  conn_update_reading(c);
}

static int resolve(const char *host, int port, struct sockaddr_storage *out) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char ps[16];
  snprintf(ps, sizeof(ps), "%d", port);
  int rc = getaddrinfo(host[0] ? host : NULL, ps, &hints, &res);
  if (rc != 0 || res == NULL)
    return -1;
  memcpy(out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}

static void on_listener_closed(uv_handle_t *h) {
  sd_listener *l = h->data;
  l->srv->listeners_open--;
  check_stopped(l->srv);
}

/* Kafka's connections.max.idle.ms: a connection with nothing queued, nothing
 * unsent and no bytes for that long is closed. */
static void on_idle_sweep(uv_timer_t *t) {
  sd_server *s = t->data;
  int64_t max_idle = sd_cfg_i(s->b->cfg, SD_CFG_CONNECTIONS_MAX_IDLE_MS);
  uint64_t now = uv_now(s->b->loop);
  for (sd_conn *c = s->conns; c; c = c->next) {
    if (c->closing || c->head != NULL || c->writes != 0 || c->oq_head != NULL)
      continue;
    if (now - c->last_active >= (uint64_t)max_idle)
      conn_close(c, "idle for connections.max.idle.ms");
  }
}

static void on_idle_timer_closed(uv_handle_t *h) {
  sd_server *s = h->data;
  s->idle_timer_open = false;
  check_stopped(s);
}

/* Every connection and every open segment holds a descriptor: take the
 * whole hard limit, as the JVM does for Kafka (-XX:+MaxFDLimit). */
static void raise_nofile_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
    return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
    SD_INFO("open-file limit raised from %llu to %llu", (unsigned long long)was,
            (unsigned long long)rl.rlim_max);
}

int sd_server_start(sd_broker *b, char *err, size_t errcap) {
  sd_server *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  s->b = b;
  b->server = s;
  const char *sf = getenv("SEGLOG_FETCH_SENDFILE");
  s->sendfile = sf == NULL || strcmp(sf, "0") != 0;
  SD_INFO("Fetch: %s", s->sendfile ? "zero-copy (sendfile from segment files)"
                                   : "copying (SEGLOG_FETCH_SENDFILE=0)");
  sd_config *cfg = b->cfg;
  raise_nofile_limit();
  int64_t max_idle = sd_cfg_i(cfg, SD_CFG_CONNECTIONS_MAX_IDLE_MS);
  if (max_idle > 0) {
    uint64_t every = max_idle < 10000 ? (uint64_t)max_idle / 4 + 1 : 2500;
    uv_timer_init(b->loop, &s->idle_timer);
    s->idle_timer.data = s;
    s->idle_timer_open = true;
    uv_timer_start(&s->idle_timer, on_idle_sweep, every, every);
  }
  for (int i = 0; i < cfg->n_listeners; i++) {
    sd_listener_cfg *lc = &cfg->listeners[i];
    sd_listener *l = &s->listeners[i];
    l->srv = s;
    l->index = i;
    uv_tcp_init(b->loop, &l->tcp);
    l->tcp.data = l;
    s->n_listeners++;
    s->listeners_open++;
    struct sockaddr_storage addr;
    int rc = 0;
    if (resolve(lc->host, lc->port, &addr) != 0) {
      snprintf(err, errcap, "listeners: cannot resolve host '%s' of %s://%s:%d", lc->host,
               lc->name, lc->host, lc->port);
      return -1;
    }
    rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
      rc = uv_listen((uv_stream_t *)&l->tcp, 1024, on_connection);
    if (rc != 0) {
      snprintf(err, errcap, "listeners: cannot listen on %s://%s:%d: %s", lc->name,
               lc->host, lc->port, uv_strerror(rc));
      return -1;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    int port = lc->port;
    if (uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen) == 0) {
      if (bound.ss_family == AF_INET)
        port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
      else if (bound.ss_family == AF_INET6)
        port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    }
    sd_listener_cfg *ad = &cfg->advertised[i];
    if (ad->port == 0)
      ad->port = port;
    if (ad->host[0] == '\0' || strcmp(ad->host, "0.0.0.0") == 0 ||
        strcmp(ad->host, "::") == 0) {
      if (gethostname(ad->host, sizeof(ad->host)) != 0 || ad->host[0] == '\0')
        snprintf(ad->host, sizeof(ad->host), "127.0.0.1");
      ad->host[sizeof(ad->host) - 1] = '\0';
    }
    SD_INFO("listening on %s://%s:%d (advertised as %s:%d)", lc->name,
            lc->host[0] ? lc->host : "0.0.0.0", port, ad->host, ad->port);
  }
  return 0;
}

void sd_server_stop(sd_broker *b, void (*done)(sd_broker *b)) {
  sd_server *s = b->server;
  if (s == NULL) {
    if (done)
      done(b);
    return;
  }
  if (s->stopping) {
    /* Second request: close everything now. */
    for (sd_conn *c = s->conns; c; c = c->next)
      conn_close(c, "forced shutdown");
    return;
  }
  s->stopping = true;
  s->on_stopped = done;
  sd_fetch_stop(b);
  if (s->idle_timer_open && !uv_is_closing((uv_handle_t *)&s->idle_timer))
    uv_close((uv_handle_t *)&s->idle_timer, on_idle_timer_closed);
  for (int i = 0; i < s->n_listeners; i++) {
    if (!uv_is_closing((uv_handle_t *)&s->listeners[i].tcp))
      uv_close((uv_handle_t *)&s->listeners[i].tcp, on_listener_closed);
  }
  sd_conn *next;
  for (sd_conn *c = s->conns; c; c = next) {
    next = c->next;
    conn_update_reading(c);
  }
  check_stopped(s);
}

bool sd_server_stopping(const sd_broker *b) {
  return b->server == NULL || b->server->stopping;
}

void sd_server_free(sd_broker *b) {
  free(b->server);
  b->server = NULL;
}
