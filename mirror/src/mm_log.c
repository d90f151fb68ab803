/*
 * mm_log.c - one-line event log and clocks for seglog-mirror (mm_log.h).
 */
#include "mm_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int64_t mm_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mm_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mm_log(const char *level, const char *event, const char *fmt, ...) {
  char line[2048], when[32];
  int64_t now = mm_now_ms();
  time_t s = (time_t)(now / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  int n = snprintf(line, sizeof line, "%s.%03dZ %s %s ", when, (int)(now % 1000), level,
                   event);
  if (n < 0)
    return;
  if ((size_t)n < sizeof line) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
  }
  /* One event, one line: newlines inside messages become spaces. */
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  fprintf(stderr, "%s\n", line);
}
