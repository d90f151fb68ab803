/*
 * recompress.h - broker-side recompression for Produce (Kafka's
 * compression.type other than "producer"): every non-control batch whose
 * codec differs from the target is rebuilt with the target codec, keeping its
 * header fields (base offset, epoch, producer id/epoch/sequence, transactional
 * and timestamp-type bits, lastOffsetDelta) and its records.  docs/BROKER.md,
 * "APIs" (Produce).
 */
#ifndef SD_RECOMPRESS_H
#define SD_RECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "seglog/compress.h"
#include "seglog/error.h"

/*
 * Returns 1 when nothing needs rebuilding (use `data` as it is, including
 * when a batch is malformed: the append will reject it with the proper
 * error), 0 with *out (malloc'd, *out_len bytes; the caller frees) holding
 * the rebuilt batches, or a negative SL_E* code with diag.
 */
int sd_recompress(const uint8_t *data, size_t len, sl_compression target, uint8_t **out,
                  size_t *out_len, sl_diag *diag);

/* The target codec for a compression.type value; false for "producer". */
bool sd_compression_target(const char *type, sl_compression *out);

#endif
