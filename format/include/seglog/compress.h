/*
 * seglog/compress.h - the four record-batch codecs, in both directions.
 *
 * Stream formats are the ones Apache Kafka's Java client writes and accepts
 * (docs/FORMAT.md, "Compression"):
 *   gzip   RFC 1952 stream (concatenated members accepted on read)
 *   snappy xerial snappy-java framing on write; on read both the xerial
 *          framing and a bare raw snappy block (what librdkafka may send)
 *   lz4    LZ4 frame, independent blocks, 64 KiB blocks, no checksums, no
 *          content size on write; on read any frame liblz4 accepts (also
 *          linked blocks, which Kafka's Java reader refuses), and the magic-v0
 *          broken header checksum when asked (legacy messages)
 *   zstd   one standard frame on write; on read one or more frames, with or
 *          without content size, streaming decode
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

/*
 * Compresses [in, in+len) and appends the stream to `out` (the caller's buffer;
 * `in` is only read).  `level` is SL_COMPRESSION_LEVEL_DEFAULT or, as Kafka
 * allows: gzip 1..9 or -1, lz4 1..17, zstd ZSTD_minCLevel()..22; other values
 * give SL_EINVAL.  none and snappy have no levels and ignore it.  On error
 * `out->len` is restored (SL_ENOMEM also stays sticky in `out->err`).
 */
int sl_compress(sl_compression codec, int level, const void *in, size_t len, sl_buf *out);

/*
 * Decompresses [in, in+len) and appends the result to `out`.  At most `max_out`
 * bytes are produced; more gives SL_ETOO_LARGE, detected without allocating
 * much more than max_out.  Malformed input (including truncation and trailing
 * bytes after the last complete member/frame/chunk) gives SL_ECORRUPT with
 * detail in `diag` (may be NULL; `pos` is a byte position in `in`).  On error
 * `out->len` is restored to its value before the call (the bytes past it are
 * unspecified).  SL_COMPRESSION_NONE appends a copy (bounded by max_out too).
 */
int sl_decompress(sl_compression codec, const void *in, size_t len, size_t max_out,
                  sl_buf *out, sl_diag *diag);

/* The LZ4 variant for legacy magic 0 messages, whose frame header checksum
 * Kafka computed wrongly (over magic+FLG+BD): the header checksum byte of the
 * first frame is not verified; everything else is as sl_decompress. */
int sl_decompress_lz4_legacy(const void *in, size_t len, size_t max_out, sl_buf *out,
                             sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
