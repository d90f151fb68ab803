/*
 * broker.h - the state of one seglogd process, shared by the server, the
 * request handlers and the metrics endpoint.  Everything runs on one libuv
 * loop thread; nothing here is locked.  docs/BROKER.md, "Architecture".
 */
#ifndef SD_BROKER_H
#define SD_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "datadir.h"
#include "metrics.h"
#include "topics.h"

typedef struct sd_server sd_server;

typedef struct sd_broker {
  uv_loop_t *loop;
  sd_config *cfg;
  int32_t node_id;
  sd_datadirs dirs;
  sd_topics topics;
  sd_metrics metrics;
  sd_server *server;
} sd_broker;

#endif
