/*
 * sdlog.h - seglogd's event log: one event per line on stderr, each with a UTC
 * timestamp and a level ("2026-11-25T16:50:01.123Z INFO  listening on ...").
 * The level threshold comes from the `log.level` config key (docs/BROKER.md,
 * "Logging").  Newlines and control bytes inside a message are escaped so an
 * event never spans two lines.
 */
#ifndef SD_SDLOG_H
#define SD_SDLOG_H

#include <stdbool.h>

typedef enum sd_level {
  SD_LOG_ERROR = 0,
  SD_LOG_WARN = 1,
  SD_LOG_INFO = 2,
  SD_LOG_DEBUG = 3,
} sd_level;

/* Events above `level` are dropped.  Default SD_LOG_INFO. */
void sd_log_set_level(sd_level level);
/* Parses "error", "warn", "info", "debug" (any case); false if unknown. */
bool sd_log_parse_level(const char *name, sd_level *out);
bool sd_log_enabled(sd_level level);

void sd_log(sd_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define SD_ERROR(...) sd_log(SD_LOG_ERROR, __VA_ARGS__)
#define SD_WARN(...) sd_log(SD_LOG_WARN, __VA_ARGS__)
#define SD_INFO(...) sd_log(SD_LOG_INFO, __VA_ARGS__)
#define SD_DEBUG(...)                                                                    \
  do {                                                                                   \
    if (sd_log_enabled(SD_LOG_DEBUG))                                                    \
      sd_log(SD_LOG_DEBUG, __VA_ARGS__);                                                 \
  } while (0)

#endif
