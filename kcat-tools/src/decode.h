/*
 * decode.h - readable fields of the records of Kafka's internal topics
 * (__consumer_offsets, __transaction_state) for `seglog dump`
 * (decode.c; docs/CLI.md, "dump").
 */
#ifndef SEGLOG_CLI_DECODE_H
#define SEGLOG_CLI_DECODE_H

#include "seglog/batch.h"
#include "seglog/bytes.h"

typedef enum {
  CLI_TOPIC_OTHER = 0,
  CLI_TOPIC_CONSUMER_OFFSETS,
  CLI_TOPIC_TRANSACTION_STATE
} cli_internal_topic;

/* Which internal topic a segment path belongs to (by its partition dir). */
cli_internal_topic cli_internal_topic_of(const char *path);
/* Appends the key and value as JSON objects ({"error":...} when malformed,
 * null for a tombstone value).  0, or -1 when something was malformed. */
int cli_decode_internal(cli_internal_topic t, const sl_record *r, sl_buf *key,
                        sl_buf *value);

#endif
