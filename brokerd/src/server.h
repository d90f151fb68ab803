/*
 * server.h - seglogd's Kafka protocol server on libuv: listeners, one
 * connection state machine per client (size -> frame -> request), a queue of
 * requests per connection answered strictly in arrival order, backpressure,
 * and graceful shutdown.  docs/BROKER.md, "Connections".
 *
 * Request lifecycle, as seen by a handler (dispatch.h):
 *   the server decodes the header and body, queues an sd_req on its
 *   connection and calls the handler.  The handler answers now or later
 *   (async: long-poll fetch, acks=all) by calling exactly one of
 *   sd_req_respond / sd_req_no_response / sd_req_abort.  After that call the
 *   request is owned by the server again and must not be touched.  If the
 *   client disconnects first the request stays valid until the handler
 *   answers; the answer is then dropped.
 */
#ifndef SD_SERVER_H
#define SD_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "kp_api.h"
#include "kp_header.h"
#include "seglog/log.h"

typedef struct sd_conn sd_conn;
typedef struct sd_api_entry sd_api_entry;

typedef struct sd_req {
  /* For handlers (read-only except `body` contents): */
  sd_broker *broker;
  const kp_api *api;
  const sd_api_entry *entry;
  int16_t version;  /* the request's ApiVersion (0 for an unsupported ApiVersions) */
  bool unsupported; /* ApiVersions at a version we do not advertise */
  int listener;     /* index into cfg->listeners the client came in on */
  kp_request_header hdr;
  void *body;     /* decoded request (kp_<api>_request), in arena */
  kp_arena arena; /* per-request memory; freed with the request */
  void *ctx;      /* for the handler: state across an async answer */
  /* Server-private: */
  sd_conn *conn;
  struct sd_req *next;
  uint8_t *frame; /* the request bytes; body strings borrow from it */
  size_t frame_len;
  uint64_t start_ns;
  bool done;
  bool reply;
  uint8_t *out; /* encoded response frame, size prefix included */
  size_t out_len;
  struct sd_owned *owned; /* malloc'd blocks freed with the request */
  /* Zero-copy: file-backed holes of `out`, in output order, and the send
   * cursor once the answer is on its connection's output queue. */
  struct sd_splice *splices, *splices_tail;
  struct sd_splice *send_sp; /* next hole to send */
  size_t send_pos;           /* bytes of `out` before it that went out */
  int64_t send_sp_done;      /* bytes of send_sp's slice sent */
} sd_req;

/* Hands a malloc'd block to the request: freed when the request is.  On
 * failure (out of memory) p is freed at once and -1 returned. */
int sd_req_own(sd_req *req, void *p);

/* Encodes resp (a kp_<api>_response at req->version) and queues it. */
void sd_req_respond(sd_req *req, const void *resp);
/* The request gets no response (Produce with acks=0). */
void sd_req_no_response(sd_req *req);
/* The request cannot be answered: the connection is closed (Kafka's behaviour). */
void sd_req_abort(sd_req *req, const char *why);
/* kp_arena_alloc from the request's arena; on failure the request is
 * aborted ("out of memory") and the caller must return at once. */
int sd_req_alloc(sd_req *req, size_t count, size_t size, void **out);
/*
 * Zero-copy Fetch (docs/BROKER.md, "Zero-copy Fetch").
 * sd_req_zero_copy: true when this request's answer may carry file-backed
 * bytes (a plaintext listener, and SEGLOG_FETCH_SENDFILE was not 0 at start).
 * sd_req_file_bytes: *field becomes a hole of slice->length bytes that the
 * server fills from the slice's file with sendfile() when the answer goes out;
 * the request takes the slice (released once sent, or with the request).  On
 * failure (out of memory) the slice is released, *field is left as it was
 * and -1 is returned.
 * sd_req_drop_files: releases every slice given so far (a long-polling fetch
 * that does not answer yet; its holes must not be encoded any more).
 */
bool sd_req_zero_copy(const sd_req *req);
int sd_req_file_bytes(sd_req *req, sl_log_slice *slice, kp_bytes *field);
void sd_req_drop_files(sd_req *req);
/* The client's address, "ip:port" ("?" if unknown); valid while the request is. */
const char *sd_req_peer(const sd_req *req);
/* Counts an error (an ErrorCode != 0 in the answer) for the metrics. */
void sd_req_count_error(sd_req *req);
/* True once sd_server_stop was called (async handlers answer at once then). */
bool sd_server_stopping(const sd_broker *b);

/* Listens on every configured listener; -1 with err naming the listener. */
int sd_server_start(sd_broker *b, char *err, size_t errcap);
/*
 * Stops accepting, stops reading, lets queued requests finish and their
 * answers go out, then closes every connection; `done` is called once when
 * nothing is left.  A second call closes every connection at once.
 */
void sd_server_stop(sd_broker *b, void (*done)(sd_broker *b));
/* Frees the server after the loop has closed all its handles. */
void sd_server_free(sd_broker *b);

#endif
