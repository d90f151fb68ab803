/*
 * mm_http.h - the mirror's metrics endpoint: a non-blocking loopback HTTP/1.0
 * listener served from the main loop; every GET gets the Prometheus text.
 * docs/MIRROR.md ("Metrics").
 */
#ifndef MM_HTTP_H
#define MM_HTTP_H

#include "seglog/bytes.h"

typedef struct mm_http mm_http;
typedef int (*mm_http_render)(void *arg, sl_buf *out);

/* Listens on "host:port" (port 0 picks one).  -1 with a message in err. */
int mm_http_open(const char *hostport, mm_http **out, char *err, size_t cap);
/* The bound port. */
int mm_http_port(const mm_http *h);
/* Serves pending connections without blocking for more than a few ms. */
void mm_http_serve(mm_http *h, mm_http_render render, void *arg);
void mm_http_close(mm_http *h); /* NULL ok */

#endif
