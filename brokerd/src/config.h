/*
 * config.h - seglogd's configuration: Kafka's server.properties syntax (Java
 * properties), Kafka's key names, types, defaults and validation, plus a few
 * keys of our own (metrics.listener, log.level).  docs/BROKER.md,
 * "Configuration", lists every key.
 *
 * Lifecycle: sd_config_init (defaults) -> sd_config_load_file and/or
 * sd_config_set (later wins, as Kafka's --override) -> sd_config_finish
 * (cross-key checks, derived values: listeners, log dirs, retention) ->
 * sd_config_release.  Every failure fills `err` with one line naming the key
 * (and the file and line for file input), in Kafka's wording where Kafka has one.
 */
#ifndef SD_CONFIG_H
#define SD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sd_ctype {
  SD_CT_INT,    /* Java int */
  SD_CT_LONG,   /* Java long */
  SD_CT_DOUBLE, /* Java double */
  SD_CT_BOOL,   /* true/false, any case */
  SD_CT_STRING,
  SD_CT_LIST, /* comma-separated, items trimmed */
} sd_ctype;

/* X(ID, key, type, default (NULL = null), min, max, allowed values or NULL) */
#define SD_CONFIG_MAP(X)                                                                 \
  X(NODE_ID, "node.id", SD_CT_INT, "1", 0, INT32_MAX, NULL)                              \
  X(LOG_DIR, "log.dir", SD_CT_STRING, "/tmp/kafka-logs", 0, 0, NULL)                     \
  X(LOG_DIRS, "log.dirs", SD_CT_LIST, NULL, 0, 0, NULL)                                  \
  X(LISTENERS, "listeners", SD_CT_LIST, "PLAINTEXT://127.0.0.1:9092", 0, 0, NULL)        \
  X(ADVERTISED_LISTENERS, "advertised.listeners", SD_CT_LIST, NULL, 0, 0, NULL)          \
  X(NUM_PARTITIONS, "num.partitions", SD_CT_INT, "1", 1, INT32_MAX, NULL)                \
  X(AUTO_CREATE, "auto.create.topics.enable", SD_CT_BOOL, "true", 0, 0, NULL)            \
  X(DEFAULT_RF, "default.replication.factor", SD_CT_INT, "1", 1, INT16_MAX, NULL)        \
  X(MIN_ISR, "min.insync.replicas", SD_CT_INT, "1", 1, INT32_MAX, NULL)                  \
  X(SEGMENT_BYTES, "log.segment.bytes", SD_CT_INT, "1073741824", 14, INT32_MAX, NULL)    \
  X(ROLL_MS, "log.roll.ms", SD_CT_LONG, NULL, 1, INT64_MAX, NULL)                        \
  X(ROLL_HOURS, "log.roll.hours", SD_CT_INT, "168", 1, INT32_MAX, NULL)                  \
  X(RETENTION_MS, "log.retention.ms", SD_CT_LONG, NULL, INT64_MIN, INT64_MAX, NULL)      \
  X(RETENTION_MINUTES, "log.retention.minutes", SD_CT_INT, NULL, INT32_MIN, INT32_MAX,   \
    NULL)                                                                                \
  X(RETENTION_HOURS, "log.retention.hours", SD_CT_INT, "168", INT32_MIN, INT32_MAX,      \
    NULL)                                                                                \
  X(RETENTION_BYTES, "log.retention.bytes", SD_CT_LONG, "-1", INT64_MIN, INT64_MAX,      \
    NULL)                                                                                \
  X(RETENTION_CHECK_MS, "log.retention.check.interval.ms", SD_CT_LONG, "300000", 1,      \
    INT64_MAX, NULL)                                                                     \
  X(CLEANUP_POLICY, "log.cleanup.policy", SD_CT_LIST, "delete", 0, 0, "compact,delete")  \
  X(CLEANER_ENABLE, "log.cleaner.enable", SD_CT_BOOL, "true", 0, 0, NULL)                \
  X(CLEANER_THREADS, "log.cleaner.threads", SD_CT_INT, "1", 0, INT32_MAX, NULL)          \
  X(CLEANER_IO_MAX_BPS, "log.cleaner.io.max.bytes.per.second", SD_CT_DOUBLE,             \
    "1.7976931348623157E308", INT64_MIN, INT64_MAX, NULL)                                \
  X(CLEANER_DEDUPE_BUFFER, "log.cleaner.dedupe.buffer.size", SD_CT_LONG, "134217728",    \
    INT64_MIN, INT64_MAX, NULL)                                                          \
  X(CLEANER_IO_BUFFER, "log.cleaner.io.buffer.size", SD_CT_INT, "524288", 0, INT32_MAX,  \
    NULL)                                                                                \
  X(CLEANER_LOAD_FACTOR, "log.cleaner.io.buffer.load.factor", SD_CT_DOUBLE, "0.9",       \
    INT64_MIN, INT64_MAX, NULL)                                                          \
  X(CLEANER_BACKOFF_MS, "log.cleaner.backoff.ms", SD_CT_LONG, "15000", 0, INT64_MAX,     \
    NULL)                                                                                \
  X(CLEANER_MIN_RATIO, "log.cleaner.min.cleanable.ratio", SD_CT_DOUBLE, "0.5", 0, 1,     \
    NULL)                                                                                \
  X(CLEANER_DELETE_RETENTION_MS, "log.cleaner.delete.retention.ms", SD_CT_LONG,          \
    "86400000", 0, INT64_MAX, NULL)                                                      \
  X(CLEANER_MIN_LAG_MS, "log.cleaner.min.compaction.lag.ms", SD_CT_LONG, "0", 0,         \
    INT64_MAX, NULL)                                                                     \
  X(CLEANER_MAX_LAG_MS, "log.cleaner.max.compaction.lag.ms", SD_CT_LONG,                 \
    "9223372036854775807", 1, INT64_MAX, NULL)                                           \
  X(FLUSH_MESSAGES, "log.flush.interval.messages", SD_CT_LONG, "9223372036854775807", 1, \
    INT64_MAX, NULL)                                                                     \
  X(FLUSH_MS, "log.flush.interval.ms", SD_CT_LONG, NULL, INT64_MIN, INT64_MAX, NULL)     \
  X(FLUSH_SCHEDULER_MS, "log.flush.scheduler.interval.ms", SD_CT_LONG,                   \
    "9223372036854775807", INT64_MIN, INT64_MAX, NULL)                                   \
  X(INDEX_SIZE_MAX, "log.index.size.max.bytes", SD_CT_INT, "10485760", 4, INT32_MAX,     \
    NULL)                                                                                \
  X(INDEX_INTERVAL, "log.index.interval.bytes", SD_CT_INT, "4096", 0, INT32_MAX, NULL)   \
  X(TIMESTAMP_TYPE, "log.message.timestamp.type", SD_CT_STRING, "CreateTime", 0, 0,      \
    "CreateTime,LogAppendTime")                                                          \
  X(PREALLOCATE, "log.preallocate", SD_CT_BOOL, "false", 0, 0, NULL)                     \
  X(SEGMENT_DELETE_DELAY_MS, "log.segment.delete.delay.ms", SD_CT_LONG, "60000", 0,      \
    INT64_MAX, NULL)                                                                     \
  X(MESSAGE_MAX_BYTES, "message.max.bytes", SD_CT_INT, "1048588", 0, INT32_MAX, NULL)    \
  X(SOCKET_REQUEST_MAX, "socket.request.max.bytes", SD_CT_INT, "104857600", 1,           \
    INT32_MAX, NULL)                                                                     \
  X(CONNECTIONS_MAX_IDLE_MS, "connections.max.idle.ms", SD_CT_LONG, "600000", INT64_MIN, \
    INT64_MAX, NULL)                                                                     \
  X(COMPRESSION_TYPE, "compression.type", SD_CT_STRING, "producer", 0, 0,                \
    "uncompressed,zstd,lz4,snappy,gzip,producer")                                        \
  X(OFFSETS_TOPIC_PARTITIONS, "offsets.topic.num.partitions", SD_CT_INT, "50", 1,        \
    INT32_MAX, NULL)                                                                     \
  X(OFFSETS_TOPIC_SEGMENT_BYTES, "offsets.topic.segment.bytes", SD_CT_INT, "104857600",  \
    1, INT32_MAX, NULL)                                                                  \
  X(OFFSETS_RETENTION_MINUTES, "offsets.retention.minutes", SD_CT_INT, "10080", 1,       \
    INT32_MAX, NULL)                                                                     \
  X(OFFSETS_RETENTION_CHECK_MS, "offsets.retention.check.interval.ms", SD_CT_LONG,       \
    "600000", 1, INT64_MAX, NULL)                                                        \
  X(OFFSETS_COMMIT_TIMEOUT_MS, "offsets.commit.timeout.ms", SD_CT_INT, "5000", 1,        \
    INT32_MAX, NULL)                                                                     \
  X(OFFSETS_LOAD_BUFFER, "offsets.load.buffer.size", SD_CT_INT, "5242880", 1, INT32_MAX, \
    NULL)                                                                                \
  X(OFFSET_METADATA_MAX, "offset.metadata.max.bytes", SD_CT_INT, "4096", INT32_MIN,      \
    INT32_MAX, NULL)                                                                     \
  X(GROUP_MIN_SESSION_TIMEOUT_MS, "group.min.session.timeout.ms", SD_CT_INT, "6000",     \
    INT32_MIN, INT32_MAX, NULL)                                                          \
  X(GROUP_MAX_SESSION_TIMEOUT_MS, "group.max.session.timeout.ms", SD_CT_INT, "1800000",  \
    INT32_MIN, INT32_MAX, NULL)                                                          \
  X(GROUP_INITIAL_REBALANCE_DELAY_MS, "group.initial.rebalance.delay.ms", SD_CT_INT,     \
    "3000", 0, INT32_MAX, NULL)                                                          \
  X(GROUP_MAX_SIZE, "group.max.size", SD_CT_INT, "2147483647", 1, INT32_MAX, NULL)       \
  X(METRICS_LISTENER, "metrics.listener", SD_CT_STRING, "127.0.0.1:9644", 0, 0, NULL)    \
  X(LOG_LEVEL, "log.level", SD_CT_STRING, "info", 0, 0, "error,warn,info,debug")

typedef enum sd_ckey {
#define SD__CKEY_ENUM(id, name, type, def, min, max, allowed) SD_CFG_##id,
  SD_CONFIG_MAP(SD__CKEY_ENUM)
#undef SD__CKEY_ENUM
      SD_CFG__COUNT
} sd_ckey;

typedef struct sd_cvalue {
  bool is_null;
  bool explicit_set; /* given in the file or an override (not the default) */
  int64_t i;         /* INT, LONG, BOOL (0/1) */
  double d;          /* DOUBLE */
  char *s;           /* STRING, LIST: the trimmed text; NULL if null */
} sd_cvalue;

/* A parsed listener, "NAME://host:port". */
typedef struct sd_listener_cfg {
  char name[64];  /* listener name = security protocol (only PLAINTEXT) */
  char host[256]; /* "" = all interfaces */
  int port;
} sd_listener_cfg;

#define SD_MAX_LISTENERS 8
#define SD_MAX_LOG_DIRS 16

typedef struct sd_config {
  sd_cvalue v[SD_CFG__COUNT];
  /* Derived by sd_config_finish: */
  sd_listener_cfg listeners[SD_MAX_LISTENERS];
  int n_listeners;
  sd_listener_cfg advertised[SD_MAX_LISTENERS]; /* parallel to listeners */
  char *log_dirs[SD_MAX_LOG_DIRS];
  int n_log_dirs;
  char metrics_host[256];
  int metrics_port;
  int64_t retention_ms; /* -1 unlimited */
  int64_t roll_ms;
  int64_t flush_ms;
} sd_config;

/* Defaults.  Returns 0 or -1 (out of memory). */
int sd_config_init(sd_config *c);
void sd_config_release(sd_config *c);

/*
 * Sets `key` from its text value, parsed and validated now.  Returns 0, or -1
 * with err filled (unknown key, bad value).  Known Kafka keys that seglogd does
 * not implement are accepted with a warning (the list is in config.c).
 */
int sd_config_set(sd_config *c, const char *key, const char *value, char *err,
                  size_t errcap);
/* "KEY=VALUE" as given to --override. */
int sd_config_set_override(sd_config *c, const char *kv, char *err, size_t errcap);
/* Reads a server.properties file and sets every key in it. */
int sd_config_load_file(sd_config *c, const char *path, char *err, size_t errcap);
/* Cross-key validation and derived values; call once after all sets. */
int sd_config_finish(sd_config *c, char *err, size_t errcap);

const char *sd_config_key_name(sd_ckey k);
int64_t sd_cfg_i(const sd_config *c, sd_ckey k);
double sd_cfg_d(const sd_config *c, sd_ckey k);
bool sd_cfg_b(const sd_config *c, sd_ckey k);
/* NULL for a null value. */
const char *sd_cfg_s(const sd_config *c, sd_ckey k);

/*
 * Java properties parsing (java.util.Properties.load): comment lines (# or !),
 * `key=value`, `key: value`, `key value`, backslash escapes (\t \n \r \f
 * \uXXXX, any other char stands for itself), line continuations with a
 * trailing backslash.  Calls cb(key, value, line) for each entry in order;
 * `line` is the first line of the entry.  A non-zero return from cb stops the
 * parse and is returned.  Malformed \u escapes: -1 with err filled.
 */
typedef int (*sd_props_cb)(void *ctx, const char *key, const char *value, int line);
int sd_props_parse(const char *text, size_t len, sd_props_cb cb, void *ctx, char *err,
                   size_t errcap);

/* Parses a listener list ("PLAINTEXT://h:p,..."); used for both listener keys. */
int sd_listeners_parse(const char *key, const char *text, sd_listener_cfg *out, int max,
                       int *n, char *err, size_t errcap);

#endif
