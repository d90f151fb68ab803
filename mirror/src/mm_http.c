/*
 * mm_http.c - loopback metrics listener for seglog-mirror (mm_http.h).  One
 * connection at a time, request read with a short timeout, response written
 * and the connection closed (Prometheus scrapers handle that).
 */
#include "mm_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct mm_http {
  int fd;
  int port;
};

int mm_http_open(const char *hostport, mm_http **out, char *err, size_t cap) {
  char host[64];
  const char *colon = strrchr(hostport, ':');
  if (!colon || (size_t)(colon - hostport) >= sizeof host) {
    snprintf(err, cap, "metrics.listener: expected host:port, got '%s'", hostport);
    return -1;
  }
  memcpy(host, hostport, (size_t)(colon - hostport));
  host[colon - hostport] = '\0';
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (!end || *end || port < 0 || port > 65535 ||
      inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    snprintf(err, cap, "metrics.listener: expected IPv4-address:port, got '%s'",
             hostport);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
    snprintf(err, cap, "metrics.listener %s: %s", hostport, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  socklen_t sl = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  mm_http *h = malloc(sizeof *h);
  if (!h) {
    close(fd);
    snprintf(err, cap, "out of memory");
    return -1;
  }
  h->fd = fd;
  h->port = ntohs(sa.sin_port);
  *out = h;
  return 0;
}

int mm_http_port(const mm_http *h) {
  return h->port;
}

static void write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    struct pollfd pf = {fd, POLLOUT, 0};
    if (poll(&pf, 1, 1000) <= 0)
      return;
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    c += w;
    n -= (size_t)w;
  }
}

void mm_http_serve(mm_http *h, mm_http_render render, void *arg) {
  for (int i = 0; i < 8; i++) {
    int c = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
      return;
    /* Read the request head (up to a blank line or 8 KiB, 1 s at most). */
    char req[8192];
    size_t got = 0;
    while (got < sizeof req - 1) {
      struct pollfd pf = {c, POLLIN, 0};
      if (poll(&pf, 1, 1000) <= 0)
        break;
      ssize_t r = read(c, req + got, sizeof req - 1 - got);
      if (r <= 0)
        break;
      got += (size_t)r;
      req[got] = '\0';
      if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
        break;
    }
    req[got] = '\0';
    sl_buf body = SL_BUF_INIT;
    const char *status = "200 OK";
    if (strncmp(req, "GET ", 4) != 0) {
      status = "405 Method Not Allowed";
    } else if (render(arg, &body) != 0) {
      status = "500 Internal Server Error";
      sl_buf_reset(&body);
    }
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      status, body.len);
    write_all(c, head, (size_t)hn);
    write_all(c, body.data, body.len);
    sl_buf_release(&body);
    close(c);
  }
}

void mm_http_close(mm_http *h) {
  if (!h)
    return;
  close(h->fd);
  free(h);
}
