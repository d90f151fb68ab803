/*
 * fs_broker.h - seglogfs's broker back end: the same tree as the offline
 * mount, for every topic and partition of a Kafka-compatible cluster, read
 * and written through librdkafka (`seglogfs -b HOST:PORT MOUNTPOINT`).
 * Design: docs/FUSE.md ("Broker mode").
 */
#ifndef SEGLOGFS_BROKER_H
#define SEGLOGFS_BROKER_H

#define FUSE_USE_VERSION 312
#include <fuse.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct fb_opts {
  unsigned metadata_ttl_ms;     /* -o metadata_ttl=MS: topic list cache (1000) */
  unsigned delivery_timeout_ms; /* -o delivery_timeout=MS: message.timeout.ms (30000) */
  int partitions;        /* -o partitions=N for mkdir (0: broker's num.partitions) */
  int replication;       /* -o replication=N for mkdir (0: broker's default) */
  unsigned size_wait_ms; /* -o size_wait=MS: a stat counts this long (0: to the end) */
  bool allow_delete;     /* -o allow_delete: rmdir deletes the topic */
  bool read_only;        /* -o ro */
} fb_opts;

typedef struct fb_ctx fb_ctx;

/* Asks the cluster for its metadata once (before mounting, so that a wrong
 * address fails the command instead of the first `ls`).  0, or -1 with a
 * reason in err. */
int fb_check(const char *brokers, char *err, size_t cap);

/* The mount's state; librdkafka handles are created by the FUSE init (after
 * fuse_daemonize has forked) and destroyed by the FUSE destroy. */
int fb_ctx_new(const char *brokers, const fb_opts *o, fb_ctx **out);
void fb_ctx_free(fb_ctx *c); /* NULL ok */

extern const struct fuse_operations fb_ops;

#endif
