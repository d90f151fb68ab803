/*
 * net.h - seglog's network mode (-b HOST:PORT, -X key=value) through
 * librdkafka: consume, produce, topics and offsets against seglogd or any
 * Kafka-compatible cluster (docs/CLI.md, "Network mode").  Built only when
 * librdkafka is found; otherwise every entry point says so and returns
 * CLI_USAGE.
 */
#ifndef SEGLOG_CLI_NET_H
#define SEGLOG_CLI_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "seglog/batch.h"
#include "slclient/envelope.h"

typedef struct net_conf {
  const char *brokers;
  const char **props; /* "key=value" strings for librdkafka (-X) */
  int nprops;
} net_conf;

typedef enum {
  NET_START_BEGINNING,
  NET_START_END,
  NET_START_ABS,
  NET_START_REL,
  NET_START_TIME
} net_start_kind;

typedef int (*net_emit_fn)(void *ctx, const sc_record *r);

typedef struct net_consume_args {
  const net_conf *conf;
  const char *topic;
  int64_t partition; /* -1 = all */
  net_start_kind start;
  int64_t start_value;
  int64_t stop_ts; /* -1 none */
  bool pin_end;
  int64_t count;     /* -1 unlimited */
  const char *group; /* -G: join this consumer group (subscribe), or NULL */
} net_consume_args;

/* Consumes and calls emit per record (a non-zero return stops and is
 * returned).  Returns a CLI_* status. */
int net_consume(const net_consume_args *a, net_emit_fn emit, void *ctx);

typedef struct net_producer net_producer;
int net_producer_new(const net_conf *conf, const char *codec, net_producer **out);
/* partition -1 = librdkafka's murmur2_random partitioner (Java's for keys). */
int net_producer_send(net_producer *np, const char *topic, int32_t partition,
                      const uint8_t *key, int32_t key_len, const uint8_t *value,
                      int32_t value_len, const sl_header *headers, int32_t nh,
                      int64_t ts);
/* Waits for every delivery report; CLI_OK only if all were delivered.  Frees. */
int net_producer_close(net_producer *np);

/* A producer handle for admin requests and metadata (bootstrap.servers,
 * client.id seglog, the -X properties); NULL after reporting an error.  The
 * caller destroys it (rd_kafka_destroy).  Used by groups.c too. */
struct rd_kafka_s *net_admin_client(const net_conf *conf);

int net_topics(const net_conf *conf, const char *topic, bool describe);
/* CreateTopics / DeleteTopics through the admin API.  configs: "k=v". */
int net_topic_create(const net_conf *conf, const char *topic, int32_t partitions,
                     int32_t replication, const char **configs, int nconfigs);
int net_topic_delete(const net_conf *conf, const char *topic);
/* has_time false: earliest/latest table; else offsets for ts (-1 latest,
 * -2 earliest, >= 0 a time). */
int net_offsets(const net_conf *conf, const char *topic, int64_t partition, bool has_time,
                int64_t ts);

/* `seglog perf produce|consume`: load generators whose output lines match
 * kafka-producer-perf-test and kafka-consumer-perf-test. */
int net_perf_produce(const net_conf *conf, const char *topic, int64_t num_records,
                     int32_t record_size, int64_t throughput);
int net_perf_consume(const net_conf *conf, const char *topic, int64_t num_records);

/* `seglog mock-cluster`: runs librdkafka's mock cluster (rdkafka_mock.h)
 * with `brokers` brokers, prints its bootstrap servers on stdout, and serves
 * until stdin reaches EOF or SIGTERM/SIGINT (for tests without a broker).
 * topics: "NAME:PARTITIONS" topics created first (the mock auto-creates
 * others with its default partition count). */
int net_mock_cluster(int brokers, const char **topics, int ntopics);

#endif
