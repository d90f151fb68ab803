/*
 * cli.h - what the seglog subcommands share: the command table entry, the
 * buffered stdout writer (EPIPE ends the tool quietly), diagnostics, exit
 * codes, argument parsing helpers and the offline log-dir helpers (partition
 * lists, read-only opens).  Design and exit codes: docs/CLI.md.
 */
#ifndef SEGLOG_CLI_H
#define SEGLOG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/bytes.h"
#include "seglog/error.h"
#include "seglog/log.h"

/* Exit codes (docs/CLI.md, "Exit status"). */
enum {
  CLI_OK = 0,       /* success */
  CLI_ERROR = 1,    /* runtime error: I/O, missing topic, corrupt data read */
  CLI_USAGE = 2,    /* bad command line */
  CLI_PROBLEMS = 3, /* verify/dump found problems in the data */
  CLI_LOCKED = 4    /* the log dir is locked by another writer (seglogd) */
};

typedef struct cli_command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
  const char *usage; /* full help text of `seglog CMD --help` */
} cli_command;

int cmd_consume(int argc, char **argv);
int cmd_produce(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_compact(int argc, char **argv);
int cmd_topics(int argc, char **argv);
int cmd_offsets(int argc, char **argv);
int cmd_mock_cluster(int argc, char **argv);
int cmd_perf(int argc, char **argv);
int cmd_groups(int argc, char **argv);
/* `seglog topics alter` (argv[0] "alter"; groups.c). */
int cmd_topics_alter(int argc, char **argv);

/* The command table entry by name (NULL if unknown). */
const cli_command *cli_find_command(const char *name);
/* Prints `seglog CMD --help` text to stdout (to_stderr: to stderr). */
void cli_usage(const char *cmd, bool to_stderr);

/* ---- diagnostics (stderr, prefixed "seglog CMD: ") ---- */
void cli_set_progname(const char *cmd);
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "what: <diag or strerror>" */
void cli_err_diag(const char *what, int rc, const sl_diag *d);
/* Prints a usage error and returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- stdout ---- */

/* The output buffer; flushed by cli_out_maybe_flush when it holds more than
 * 1 MiB and by cli_out_flush.  After EPIPE (a closed pipe: `| head`) every
 * flush returns CLI_PIPE_CLOSED and the command stops quietly. */
#define CLI_PIPE_CLOSED 100
sl_buf *cli_out(void);
int cli_out_flush(void);
int cli_out_maybe_flush(void);
int cli_out_str(const char *s);
int cli_out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Releases the buffer at exit. */
void cli_out_release(void);

/* ---- parsing ---- */

/* The options most subcommands share (docs/CLI.md): -d DIR, -t TOPIC,
 * -p PARTITION (0..2^31-1), -b BROKERS and -X key=value (librdkafka). */
#define CLI_MAX_PROPS 64
typedef struct cli_opts {
  const char *dir, *topic, *brokers;
  int64_t partition; /* -1: no -p */
  const char *props[CLI_MAX_PROPS];
  int nprops;
} cli_opts;
void cli_opts_init(cli_opts *o);
/* Takes getopt's opt and optarg when opt is one of the shared options:
 * CLI_OK, or CLI_USAGE (reported: "bad option" for any other opt, or the bad
 * value).  Commands handle their own options first and pass the rest here. */
int cli_opts_take(cli_opts *o, int opt, const char *arg);

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Decodes \n \r \t \\ \0 \xHH in a delimiter (kcat's -D/-K). */
int cli_unescape(const char *s, sl_buf *out);

/* ---- offline log dirs ---- */

typedef struct cli_partition {
  char topic[256];
  int32_t partition;
} cli_partition;

/* The `topic-N` dirs of a log dir (topic NULL = all), sorted by topic then
 * partition; *out malloc'd. */
int cli_list_partitions(const char *logdir, const char *topic, cli_partition **out,
                        size_t *n);
/* "<logdir>/<topic>-<p>" into buf. */
int cli_partition_dir(const char *logdir, const char *topic, int32_t p, char *buf,
                      size_t cap);
/* Read-only open of a partition (no lock, no recovery). */
int cli_open_readonly(const char *logdir, const char *topic, int32_t p, sl_log **out,
                      sl_diag *diag);
/* Reads the first batch header at `offset` (for time ranges); -1 if none. */
int64_t cli_first_timestamp(sl_log *log);
/* Milliseconds since the epoch. */
int64_t cli_now_ms(void);
/* Human size "1.5 MiB". */
void cli_human_bytes(int64_t n, char *buf, size_t cap);
/* Parses a time: ms since the epoch, or ISO 8601 "2023-11-14T22:13:20[.123][Z]"
 * (UTC). */
int cli_parse_time(const char *s, int64_t *ms);

#endif
