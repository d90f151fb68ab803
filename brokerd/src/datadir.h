/*
 * datadir.h - seglogd's log directories at start: each is created if missing,
 * checked to be a writable directory, locked (`.lock`, flock, as Kafka does),
 * and carries Kafka's KRaft `meta.properties` (version=1, cluster.id, node.id,
 * directory.id).  The cluster id is read from there, or generated once and
 * written to every directory.  docs/BROKER.md, "Log directories".
 *
 * Seam: when libseglog's log-dir layer (logdir.h) lands, this file becomes a
 * thin caller of it; the rest of the daemon only sees sd_datadirs.
 */
#ifndef SD_DATADIR_H
#define SD_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct sd_datadirs {
  int n;
  char *paths[SD_MAX_LOG_DIRS];
  int lock_fds[SD_MAX_LOG_DIRS];
  char cluster_id[64];
} sd_datadirs;

/*
 * Opens every directory of c->log_dirs.  Returns 0, or -1 with err naming the
 * directory and what failed; on failure nothing stays open or locked.
 */
int sd_datadirs_open(sd_datadirs *d, const sd_config *c, char *err, size_t errcap);
/* Releases the locks; d may be NULL or never opened (zeroed). */
void sd_datadirs_close(sd_datadirs *d);

/* Kafka's base64url (no padding) text of a 16-byte UUID: 22 characters. */
void sd_uuid_to_base64(const uint8_t uuid[16], char out[23]);
/* Parses such a text; false if it is not one. */
int sd_uuid_from_base64(const char *text, uint8_t uuid[16]);
/* A random version-4 UUID. */
int sd_uuid_random(uint8_t uuid[16]);

#endif
