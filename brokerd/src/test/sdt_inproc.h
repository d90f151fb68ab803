/*
 * sdt_inproc.h - test support for the broker's own tests and fuzz targets: a
 * whole seglogd (config, log directories, topics, the protocol server) in
 * this process on a temporary log directory, driven through a real loopback
 * TCP connection, so a request takes exactly the path a client's does
 * (conn_feed -> handle_frame -> decode -> handler -> encode).  The caller
 * spins the libuv loop (sdt_spin) between socket reads and writes; nothing
 * blocks.  Static functions: include it in one test file.  docs/BROKER.md,
 * "Robustness".
 */
#ifndef SDT_INPROC_H
#define SDT_INPROC_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "dispatch.h"
#include "groups.h"
#include "sdlog.h"
#include "seglog/bytes.h"
#include "server.h"

typedef struct sdt_broker {
  sd_broker b;
  sd_config cfg;
  uv_loop_t loop;
  char dir[512];
  int port;
  bool dirs_open, topics_open, loop_open, groups_open, offsets_open;
} sdt_broker;

static int sdt_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f) {
  (void)st;
  (void)flag;
  (void)f;
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* rm -rf path (test directories only). */
static void sdt_rmtree(const char *path) {
  nftw(path, sdt_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void sdt_close_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Frees everything sdt_start made and removes the directory; safe after a
 * failed start. */
static void sdt_stop(sdt_broker *t) {
  if (t->loop_open) {
    if (t->groups_open)
      sd_groups_stop(&t->b);
    if (t->offsets_open)
      sd_offsets_stop(&t->b);
    if (t->b.server != NULL) {
      sd_server_stop(&t->b, NULL);
      sd_server_stop(&t->b, NULL); /* second call: close every connection now */
    }
    uv_walk(&t->loop, sdt_close_cb, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    sd_server_free(&t->b);
    if (t->offsets_open)
      sd_offsets_free(&t->b);
    if (t->groups_open)
      sd_groups_free(&t->b);
    t->loop_open = t->groups_open = t->offsets_open = false;
  }
  if (t->topics_open)
    sd_topics_release(&t->b.topics);
  if (t->dirs_open)
    sd_datadirs_close(&t->b.dirs);
  t->topics_open = t->dirs_open = false;
  sd_config_release(&t->cfg);
  if (t->dir[0] != '\0')
    sdt_rmtree(t->dir);
  t->dir[0] = '\0';
}

/*
 * Starts a broker on a new temporary directory (under /dev/shm when it is
 * writable: fsync is free there) with a listener on a free loopback port and
 * `overrides` ("key=value", NULL-terminated) applied.  `reuse_dir` non-NULL:
 * use that directory instead (a restart) and do not make a new one.  Returns
 * 0, or -1 with the reason on stderr (everything made is freed).
 */
static int sdt_start(sdt_broker *t, const char *const *overrides, const char *reuse_dir) {
  char err[1024], kv[700];
  memset(t, 0, sizeof(*t));
  signal(SIGPIPE, SIG_IGN);
  if (reuse_dir != NULL) {
    snprintf(t->dir, sizeof(t->dir), "%s", reuse_dir);
  } else {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(t->dir, sizeof(t->dir), "%s/sdt-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(t->dir) == NULL) {
      fprintf(stderr, "sdt: mkdtemp %s: %s\n", t->dir, strerror(errno));
      t->dir[0] = '\0';
      return -1;
    }
  }
  if (sd_config_init(&t->cfg) != 0)
    goto fail_msg;
  snprintf(kv, sizeof(kv), "log.dirs=%s/data", t->dir);
  if (sd_config_set_override(&t->cfg, kv, err, sizeof(err)) != 0 ||
      sd_config_set_override(&t->cfg, "listeners=PLAINTEXT://127.0.0.1:0", err,
                             sizeof(err)) != 0)
    goto fail;
  for (int i = 0; overrides != NULL && overrides[i] != NULL; i++)
    if (sd_config_set_override(&t->cfg, overrides[i], err, sizeof(err)) != 0)
      goto fail;
  if (sd_config_finish(&t->cfg, err, sizeof(err)) != 0 ||
      sd_dispatch_check(err, sizeof(err)) != 0)
    goto fail;
  t->b.cfg = &t->cfg;
  t->b.node_id = (int32_t)sd_cfg_i(&t->cfg, SD_CFG_NODE_ID);
  if (sd_datadirs_open(&t->b.dirs, &t->cfg, err, sizeof(err)) != 0)
    goto fail;
  t->dirs_open = true;
  if (sd_topics_load(&t->b.topics, &t->b.dirs, err, sizeof(err)) != 0)
    goto fail;
  t->topics_open = true;
  if (uv_loop_init(&t->loop) != 0) {
    snprintf(err, sizeof(err), "uv_loop_init failed");
    goto fail;
  }
  t->loop_open = true;
  t->b.loop = &t->loop;
  /* The same start-up order as main.c. */
  if (sd_groups_init(&t->b, err, sizeof(err)) != 0)
    goto fail;
  t->groups_open = true;
  if (sd_offsets_init(&t->b, err, sizeof(err)) != 0)
    goto fail;
  t->offsets_open = true;
  if (sd_server_start(&t->b, err, sizeof(err)) != 0)
    goto fail;
  t->port = t->cfg.advertised[0].port;
  return 0;
fail_msg:
  snprintf(err, sizeof(err), "out of memory");
fail:
  fprintf(stderr, "sdt: %s\n", err);
  if (reuse_dir != NULL)
    t->dir[0] = '\0'; /* not ours to remove */
  sdt_stop(t);
  return -1;
}

/* One loop iteration that does not block. */
static void sdt_spin(sdt_broker *t) {
  uv_run(&t->loop, UV_RUN_NOWAIT);
}

/* A non-blocking client socket connected to the broker and accepted by it;
 * -1 on failure. */
static int sdt_connect(sdt_broker *t) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)t->port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  uint64_t before = t->b.metrics.connections_total;
  for (int i = 0; i < 1000 && t->b.metrics.connections_total == before; i++)
    sdt_spin(t);
  return fd;
}

/* Closes a client socket with a reset (no TIME_WAIT) and lets the broker see it. */
static void sdt_disconnect(sdt_broker *t, int fd) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd);
  for (int i = 0; i < 4; i++)
    sdt_spin(t);
}

enum { SDT_DONE = 0, SDT_EOF = 1, SDT_IDLE = 2 };

/*
 * Sends out[0, len) on fd and reads what the broker answers until a response
 * frame with correlation id `corr` is complete (SDT_DONE), the broker closes
 * the connection (SDT_EOF), or nothing moves for `idle_max` loop iterations
 * (SDT_IDLE).  Half-way through the idle allowance parked fetches are told to
 * answer (sd_fetch_stop), so a long poll never stalls a test.  Complete
 * response frames (size prefix included) are appended to `in` unless it is
 * NULL.
 */
static int sdt_exchange(sdt_broker *t, int fd, const uint8_t *out, size_t len,
                        int32_t corr, sl_buf *in, int idle_max) {
  size_t sent = 0;
  int idle = 0;
  uint8_t buf[65536];
  sl_buf acc = SL_BUF_INIT; /* bytes of an incomplete frame */
  int result = SDT_IDLE;
  bool seen = false;
  while (idle < idle_max && !seen) {
    bool progress = false;
    if (sent < len) {
      ssize_t w = send(fd, out + sent, len - sent, MSG_NOSIGNAL);
      if (w > 0) {
        sent += (size_t)w;
        progress = true;
      } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        sent = len; /* the broker closed: read what is left */
      }
    }
    sdt_spin(t);
    for (;;) {
      ssize_t r = recv(fd, buf, sizeof(buf), 0);
      if (r <= 0) {
        if (r == 0 || errno == ECONNRESET) {
          result = SDT_EOF;
          goto out;
        }
        break;
      }
      progress = true;
      if (sl_buf_append(&acc, buf, (size_t)r) != 0)
        goto out;
      /* Consume the complete frames. */
      size_t pos = 0;
      while (acc.len - pos >= 4) {
        size_t size = sl_load_be32(acc.data + pos);
        if (size > acc.len - pos - 4)
          break;
        if (size >= 4 && (int32_t)sl_load_be32(acc.data + pos + 4) == corr)
          seen = true;
        if (in != NULL)
          sl_buf_append(in, acc.data + pos, 4 + size);
        pos += 4 + size;
      }
      if (pos > 0) {
        memmove(acc.data, acc.data + pos, acc.len - pos);
        acc.len -= pos;
      }
    }
    if (progress) {
      idle = 0;
    } else if (++idle == idle_max / 2) {
      sd_fetch_stop(&t->b);
    }
  }
  if (seen)
    result = SDT_DONE;
out:
  sl_buf_release(&acc);
  return result;
}

/*
 * Encodes one request frame (size prefix, request header for api at version,
 * body) onto out.  Returns 0 or an SL_E* code.
 */
static int sdt_frame(sl_buf *out, int16_t key, int16_t version, int32_t corr,
                     const void *body) {
  const kp_api *api = kp_api_find(key);
  if (api == NULL)
    return SL_EINVAL;
  size_t at = out->len;
  kp_request_header h;
  kp_request_header_init_defaults(&h);
  h.request_api_key = key;
  h.request_api_version = version;
  h.correlation_id = corr;
  h.client_id = kp_str_from("sdt");
  int rc = sl_buf_i32(out, 0);
  if (rc == 0)
    rc = kp_request_header_encode(
        out, (int16_t)kp_api_request_header_version(api, version), &h);
  if (rc == 0)
    rc = api->request.encode(out, version, body);
  if (rc == 0 && out->err != 0)
    rc = out->err;
  if (rc != 0) {
    out->len = at;
    return rc;
  }
  sl_buf_patch_be32(out, at, (uint32_t)(out->len - at - 4));
  return 0;
}

/*
 * Sends one request and decodes its response (the body, after the response
 * header) into resp (a kp_<api>_response, allocated from arena).  Returns 0,
 * SL_EIO when no answer came, or a decode error.
 */
static int sdt_call(sdt_broker *t, int fd, int16_t key, int16_t version, const void *body,
                    kp_arena *arena, void *resp) {
  static int32_t next_corr = 1000;
  int32_t corr = next_corr++;
  const kp_api *api = kp_api_find(key);
  sl_buf out = SL_BUF_INIT, in = SL_BUF_INIT;
  int rc = sdt_frame(&out, key, version, corr, body);
  if (rc == 0 && sdt_exchange(t, fd, out.data, out.len, corr, &in, 20000) != SDT_DONE)
    rc = SL_EIO;
  if (rc == 0) {
    /* The last frame is ours (answers come in order, one request in flight). */
    size_t pos = 0, last = 0;
    while (pos < in.len) {
      last = pos;
      pos += 4 + sl_load_be32(in.data + pos);
    }
    /* Decoded strings borrow from the bytes: keep them in the arena. */
    size_t flen = sl_load_be32(in.data + last);
    uint8_t *copy = NULL;
    rc = kp_arena_alloc(arena, flen + 1, 1, (void **)&copy);
    if (rc != 0)
      goto done;
    memcpy(copy, in.data + last + 4, flen);
    sl_rbuf r;
    sl_rbuf_init(&r, copy, flen);
    kp_response_header rh;
    rc = kp_response_header_decode(
        &r, (int16_t)kp_api_response_header_version(api, version), arena, &rh);
    if (rc == 0)
      rc = api->response.decode(&r, version, arena, resp);
  }
done:
  sl_buf_release(&out);
  sl_buf_release(&in);
  return rc;
}

#endif
