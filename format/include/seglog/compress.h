/*
 * seglog/compress.h - the four record-batch codecs, in both directions.
 *
 * Stream formats are the ones Apache Kafka's Java client writes and accepts
 * (docs/FORMAT.md, "Compression"):
 *   gzip   RFC 1952 stream (concatenated members accepted on read)
 *   snappy xerial snappy-java framing on write; on read both the xerial
 *          framing and a bare raw snappy block (what librdkafka may send)
 *   lz4    LZ4 frame, independent blocks, 64 KiB blocks, no checksums, with
 *          Kafka's reader rules; on read also the magic-v0 broken header
 *          checksum when asked (legacy messages)
 *   zstd   standard zstd frame(s), streaming decode
 * Decompression is always bounded: exceeding `max_out` bytes stops with
 * SL_ETOO_LARGE, so a small batch cannot expand into gigabytes.
 */
#ifndef SEGLOG_COMPRESS_H
#define SEGLOG_COMPRESS_H

#include <limits.h>
#include <stddef.h>

#include "seglog/bytes.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_compression {
  SL_COMPRESSION_NONE = 0,
  SL_COMPRESSION_GZIP = 1,
  SL_COMPRESSION_SNAPPY = 2,
  SL_COMPRESSION_LZ4 = 3,
  SL_COMPRESSION_ZSTD = 4
} sl_compression;

/* Use the codec's Kafka default level (gzip 6/-1, lz4 9, zstd 3). */
#define SL_COMPRESSION_LEVEL_DEFAULT INT_MIN

/* "none", "gzip", "snappy", "lz4", "zstd"; "unknown" otherwise. */
const char *sl_compression_name(int codec);
/* Parses the names above (case-insensitive); SL_EINVAL otherwise. */
int sl_compression_parse(const char *name, sl_compression *out);

/* Compresses [in, in+len) and appends the stream to `out`. */
int sl_compress(sl_compression codec, int level, const void *in, size_t len, sl_buf *out);

/*
 * Decompresses [in, in+len) and appends the result to `out`.  At most `max_out`
 * bytes are produced; more gives SL_ETOO_LARGE.  Malformed input gives
 * SL_ECORRUPT with detail in `diag` (may be NULL).  On error `out` may hold a
 * partial result; its length before the call is restored.
 */
int sl_decompress(sl_compression codec, const void *in, size_t len, size_t max_out,
                  sl_buf *out, sl_diag *diag);

/* The LZ4 variant for legacy magic 0 messages, whose frame header checksum
 * Kafka computed wrongly: the header checksum byte is not verified. */
int sl_decompress_lz4_legacy(const void *in, size_t len, size_t max_out, sl_buf *out,
                             sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
