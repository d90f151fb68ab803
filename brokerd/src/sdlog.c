/*
 * sdlog.c - seglogd's one-event-per-line logger (see sdlog.h and
 * docs/BROKER.md, "Logging").  The daemon is single-threaded (one libuv loop),
 * so the threshold is a plain process-wide setting of this file.
 */
#include "sdlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static sd_level g_level = SD_LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void sd_log_set_level(sd_level level) {
  g_level = level;
}

bool sd_log_enabled(sd_level level) {
  return level <= g_level;
}

bool sd_log_parse_level(const char *name, sd_level *out) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(name, names[i]) == 0) {
      *out = (sd_level)i;
      return true;
    }
  }
  if (strcasecmp(name, "warning") == 0) {
    *out = SD_LOG_WARN;
    return true;
  }
  return false;
}

void sd_log(sd_level level, const char *fmt, ...) {
  if (level > g_level)
    return;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (n < 0)
    return;

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);

  char line[4096 + 64];
  size_t len =
      (size_t)snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, level_names[level]);
  static const char hex[] = "0123456789abcdef";
  for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
    if (len + 5 >= sizeof(line))
      break;
    if (*p == '\n') {
      line[len++] = '\\';
      line[len++] = 'n';
    } else if (*p < 0x20 || *p == 0x7f) {
      line[len++] = '\\';
      line[len++] = 'x';
      line[len++] = hex[*p >> 4];
      line[len++] = hex[*p & 15];
    } else {
      line[len++] = (char)*p;
    }
  }
  line[len++] = '\n';
  /* One write per event, so concurrent writers never interleave a line. */
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
}
