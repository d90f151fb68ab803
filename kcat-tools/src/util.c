/*
 * util.c - shared helpers of the seglog subcommands: diagnostics, the
 * buffered stdout writer, number/time/escape parsing, and offline log-dir
 * helpers (docs/CLI.md).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "seglog/batch.h"
#include "seglog/checkpoint.h"
#include "seglog/meta.h"

#define OUT_FLUSH_AT (1u << 20)

static const char *progname = "seglog";
static char progbuf[64];
static sl_buf out_buf = SL_BUF_INIT;
static bool out_closed;

void cli_set_progname(const char *cmd) {
  snprintf(progbuf, sizeof(progbuf), "seglog %s", cmd);
  progname = progbuf;
}

void cli_err(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", progname);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void cli_err_diag(const char *what, int rc, const sl_diag *d) {
  char buf[1024];
  if (d && d->err != 0 && (d->msg[0] || d->path[0]))
    cli_err("%s: %s", what, sl_diag_format(d, buf, sizeof(buf)));
  else
    cli_err("%s: %s", what, sl_strerror(rc));
}

int cli_usage_error(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", progname);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see `%s --help`)\n", progname);
  return CLI_USAGE;
}

sl_buf *cli_out(void) {
  return &out_buf;
}

int cli_out_flush(void) {
  if (out_closed) {
    out_buf.len = 0;
    return CLI_PIPE_CLOSED;
  }
  if (out_buf.err) {
    cli_err("out of memory");
    return CLI_ERROR;
  }
  size_t done = 0;
  while (done < out_buf.len) {
    ssize_t n = write(STDOUT_FILENO, out_buf.data + done, out_buf.len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      out_buf.len = 0;
      if (errno == EPIPE) {
        out_closed = true;
        return CLI_PIPE_CLOSED;
      }
      cli_err("writing to stdout: %s", strerror(errno));
      return CLI_ERROR;
    }
    done += (size_t)n;
  }
  out_buf.len = 0;
  return CLI_OK;
}

int cli_out_maybe_flush(void) {
  if (out_buf.err) {
    cli_err("out of memory");
    return CLI_ERROR;
  }
  return out_buf.len >= OUT_FLUSH_AT ? cli_out_flush() : CLI_OK;
}

int cli_out_str(const char *s) {
  sl_buf_append(&out_buf, s, strlen(s));
  return cli_out_maybe_flush();
}

int cli_out_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return CLI_ERROR;
  uint8_t *p = sl_buf_reserve(&out_buf, (size_t)n + 1);
  if (!p)
    return cli_out_maybe_flush();
  va_start(ap, fmt);
  vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  out_buf.len += (size_t)n;
  return cli_out_maybe_flush();
}

void cli_out_release(void) {
  sl_buf_release(&out_buf);
}

void cli_opts_init(cli_opts *o) {
  memset(o, 0, sizeof(*o));
  o->partition = -1;
}

int cli_opts_take(cli_opts *o, int opt, const char *arg) {
  switch (opt) {
  case 'd':
    o->dir = arg;
    return CLI_OK;
  case 't':
    o->topic = arg;
    return CLI_OK;
  case 'b':
    o->brokers = arg;
    return CLI_OK;
  case 'p':
    if (cli_parse_i64(arg, 0, INT32_MAX, &o->partition))
      return cli_usage_error("bad partition '%s'", arg);
    return CLI_OK;
  case 'X':
    if (o->nprops == CLI_MAX_PROPS)
      return cli_usage_error("too many -X");
    o->props[o->nprops++] = arg;
    return CLI_OK;
  default:
    return cli_usage_error("bad option");
  }
}

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) {
  if (!s || !*s)
    return SL_EINVAL;
  return sl_parse_decimal(s, strlen(s), min, max, out);
}

static int hexdigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int cli_unescape(const char *s, sl_buf *out) {
  for (size_t i = 0; s[i];) {
    uint8_t c = (uint8_t)s[i];
    if (c == '\\' && s[i + 1]) {
      char e = s[i + 1];
      i += 2;
      switch (e) {
      case 'n':
        c = '\n';
        break;
      case 'r':
        c = '\r';
        break;
      case 't':
        c = '\t';
        break;
      case '0':
        c = 0;
        break;
      case '\\':
        c = '\\';
        break;
      case 'x': {
        int h1 = hexdigit(s[i]);
        if (h1 < 0)
          return SL_EINVAL;
        int h2 = hexdigit(s[i + 1]);
        if (h2 >= 0) {
          c = (uint8_t)(h1 << 4 | h2);
          i += 2;
        } else {
          c = (uint8_t)h1;
          i += 1;
        }
        break;
      }
      default:
        return SL_EINVAL;
      }
    } else {
      i++;
    }
    if (sl_buf_u8(out, c))
      return SL_ENOMEM;
  }
  return SL_OK;
}

static int part_cmp(const void *a, const void *b) {
  const cli_partition *x = a, *y = b;
  int c = strcmp(x->topic, y->topic);
  if (c)
    return c;
  return (x->partition > y->partition) - (x->partition < y->partition);
}

int cli_list_partitions(const char *logdir, const char *topic, cli_partition **out,
                        size_t *n) {
  DIR *dir = opendir(logdir);
  cli_partition *list = NULL;
  size_t count = 0, cap = 0;
  *out = NULL;
  *n = 0;
  if (!dir)
    return errno == ENOENT ? SL_ENOT_FOUND : SL_EIO;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    sl_pdir_name pn;
    if (de->d_name[0] == '.')
      continue;
    if (sl_pdir_name_parse(de->d_name, &pn, NULL) != 0 || pn.kind != SL_PDIR_NORMAL)
      continue;
    if (topic && strcmp(pn.topic, topic) != 0)
      continue;
    if (count == cap) {
      size_t nc = cap ? cap * 2 : 16;
      cli_partition *nl = realloc(list, nc * sizeof(*nl));
      if (!nl) {
        free(list);
        closedir(dir);
        return SL_ENOMEM;
      }
      list = nl;
      cap = nc;
    }
    snprintf(list[count].topic, sizeof(list[count].topic), "%s", pn.topic);
    list[count].partition = pn.partition;
    count++;
  }
  closedir(dir);
  if (count)
    qsort(list, count, sizeof(*list), part_cmp);
  *out = list;
  *n = count;
  return SL_OK;
}

int cli_partition_dir(const char *logdir, const char *topic, int32_t p, char *buf,
                      size_t cap) {
  int n = snprintf(buf, cap, "%s/%s-%d", logdir, topic, (int)p);
  return (n < 0 || (size_t)n >= cap) ? SL_EINVAL : SL_OK;
}

int cli_open_readonly(const char *logdir, const char *topic, int32_t p, sl_log **out,
                      sl_diag *diag) {
  char path[4096];
  if (cli_partition_dir(logdir, topic, p, path, sizeof(path)))
    return sl_diag_set(diag, SL_EINVAL, -1, "path too long");
  return sl_log_open(path, NULL, SL_LOG_READONLY, NULL, out, diag);
}

int64_t cli_first_timestamp(sl_log *log) {
  sl_buf b = SL_BUF_INIT;
  int64_t ts = -1;
  int64_t start = sl_log_start_offset(log);
  if (sl_log_read_copy(log, start, 1, -1, &b, NULL, NULL) == 0 &&
      b.len >= SL_BATCH_HEADER_SIZE) {
    sl_batch_header h;
    if (sl_batch_header_decode(b.data, b.len, &h, NULL) == 0)
      ts = h.base_timestamp;
  }
  sl_buf_release(&b);
  return ts;
}

int64_t cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_human_bytes(int64_t n, char *buf, size_t cap) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf(buf, cap, "%lld B", (long long)n);
  else
    snprintf(buf, cap, "%.1f %s", v, units[u]);
}

int cli_parse_time(const char *s, int64_t *ms) {
  if (cli_parse_i64(s, INT64_MIN, INT64_MAX, ms) == 0)
    return SL_OK;
  /* YYYY-MM-DDTHH:MM:SS[.mmm][Z] */
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end)
    return SL_EINVAL;
  int64_t frac = 0;
  if (*end == '.') {
    int digits = 0;
    end++;
    while (*end >= '0' && *end <= '9') {
      if (digits < 3)
        frac = frac * 10 + (*end - '0');
      digits++;
      end++;
    }
    if (digits == 0)
      return SL_EINVAL;
    while (digits < 3) {
      frac *= 10;
      digits++;
    }
  }
  if (*end == 'Z')
    end++;
  if (*end)
    return SL_EINVAL;
  time_t t = timegm(&tm);
  *ms = (int64_t)t * 1000 + frac;
  return SL_OK;
}
