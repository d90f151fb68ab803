/*
 * upkeep.h - periodic log work of seglogd: retention, the per-log tick and
 * root checkpoints (see upkeep.c; docs/BROKER.md, "Topics").
 */
#ifndef SD_UPKEEP_H
#define SD_UPKEEP_H

#include "broker.h"

/* Starts the timers on b->loop. */
void sd_upkeep_start(sd_broker *b);
/* Closes the timers (shutdown); safe to call twice. */
void sd_upkeep_stop(sd_broker *b);

#endif
