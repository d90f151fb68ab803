/*
 * compress.c - the four record-batch codecs (gzip, snappy, lz4, zstd) in both
 * directions, with the stream formats Apache Kafka's Java client writes and
 * accepts.  Formats and the reader rules are in docs/FORMAT.md, "Compression"
 * (xerial snappy framing, Kafka's LZ4 frame, the magic-v0 LZ4 header quirk).
 *
 * Writers are strict: they emit exactly what Kafka writes (gzip via zlib,
 * xerial-framed snappy in 32 KiB blocks, LZ4 frames with independent 64 KiB
 * blocks and no checksums, one zstd frame).  Readers are lenient where Kafka or
 * the reference libraries are (concatenated gzip members, xerial or raw snappy,
 * any LZ4 frame liblz4 accepts, several zstd frames) and strict on everything
 * that can only come from damage (truncation, trailing garbage).
 *
 * Every decoder writes into the caller's sl_buf through out_room(), which never
 * offers more than max_out + 1 bytes in total: the extra byte is how a decoder
 * notices that the stream wants to go past max_out (SL_ETOO_LARGE) without ever
 * allocating what the stream announces.
 */
#include "seglog/compress.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* Kafka's level ranges (GzipCompression, Lz4Compression, ZstdCompression). */
#define GZIP_LEVEL_MIN 1
#define GZIP_LEVEL_MAX 9
#define LZ4_LEVEL_MIN 1
#define LZ4_LEVEL_MAX 17
#define LZ4_LEVEL_DEFAULT 9
#define ZSTD_LEVEL_DEFAULT 3

/* Output is requested from the decoders in steps of at least this size. */
#define OUT_STEP_MIN ((size_t)64 * 1024)
#define OUT_STEP_MAX ((size_t)8 * 1024 * 1024)
/* Input is handed to zlib in pieces that fit its 32-bit counters. */
#define ZLIB_IN_MAX ((size_t)1 << 30)

/* xerial snappy-java framing (docs/FORMAT.md, "xerial snappy framing"). */
#define XERIAL_HEADER_SIZE 16
#define XERIAL_MAGIC_SIZE 8
#define XERIAL_VERSION 1
#define XERIAL_MIN_COMPATIBLE 1
#define XERIAL_BLOCK_SIZE ((size_t)32 * 1024)
static const uint8_t xerial_magic[XERIAL_MAGIC_SIZE] = {0x82, 'S', 'N', 'A',
                                                        'P',  'P', 'Y', 0};

/* LZ4 frame header fields (docs/FORMAT.md, "LZ4 frame as used by Kafka"). */
#define LZ4_MAGIC 0x184D2204u
#define LZ4_FLG_CONTENT_SIZE 0x08
#define LZ4_FLG_DICT_ID 0x01
#define LZ4_HEADER_MAX 19 /* magic 4 + FLG + BD + content size 8 + dictID 4 + HC */

/*
 * Largest zstd window accepted: 128 MiB, zstd's default limit and so what
 * Kafka's zstd-jni reader accepts.  Kafka's streaming writer declares the
 * level's window whatever the batch size (2^27 at level 22), so a smaller
 * limit would refuse valid batches.  The window is allocated up front but
 * only the pages the decoder writes are touched, and it writes no further
 * than about max_out plus one 128 KiB block before we stop it.
 */
#define ZSTD_WINDOWLOG_MAX 27

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *sl_compression_name(int codec) {
  if (codec < 0 || codec > SL_COMPRESSION_ZSTD)
    return "unknown";
  return codec_names[codec];
}

int sl_compression_parse(const char *name, sl_compression *out) {
  if (name == NULL || out == NULL)
    return SL_EINVAL;
  for (int i = 0; i <= SL_COMPRESSION_ZSTD; i++) {
    if (strcasecmp(name, codec_names[i]) == 0) {
      *out = (sl_compression)i;
      return SL_OK;
    }
  }
  return SL_EINVAL;
}

/* ---- output room for the decoders ---- */

/*
 * Returns room for the next piece of decoded output at the end of `out` and its
 * size in *room, such that the bytes produced since `base` never exceed
 * max_out + 1.  Returns NULL with *err = SL_ETOO_LARGE when max_out + 1 bytes
 * are already there, or SL_ENOMEM.
 */
static uint8_t *out_room(sl_buf *out, size_t base, size_t max_out, size_t *room,
                         int *err) {
  size_t produced = out->len - base;
  if (produced > max_out) {
    *err = SL_ETOO_LARGE;
    return NULL;
  }
  size_t budget = max_out - produced;
  budget = budget == SIZE_MAX ? SIZE_MAX : budget + 1;
  size_t want = produced < OUT_STEP_MIN   ? OUT_STEP_MIN
                : produced > OUT_STEP_MAX ? OUT_STEP_MAX
                                          : produced;
  if (out->cap - out->len > want)
    want = out->cap - out->len; /* use what is already allocated */
  if (want > budget)
    want = budget;
  uint8_t *p = sl_buf_reserve(out, want);
  if (p == NULL) {
    *err = out->err ? out->err : SL_ENOMEM;
    return NULL;
  }
  *room = want;
  return p;
}

static int too_large(sl_diag *diag, const char *codec, size_t pos, size_t max_out) {
  return sl_diag_set(diag, SL_ETOO_LARGE, (int64_t)pos,
                     "%s stream decompresses to more than %zu bytes", codec, max_out);
}

/* ---- gzip ---- */

static int gzip_compress(int level, const uint8_t *in, size_t len, sl_buf *out) {
  if (level == SL_COMPRESSION_LEVEL_DEFAULT)
    level = Z_DEFAULT_COMPRESSION;
  else if (level != Z_DEFAULT_COMPRESSION &&
           (level < GZIP_LEVEL_MIN || level > GZIP_LEVEL_MAX))
    return SL_EINVAL;
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  /* windowBits 15 + 16: a gzip (RFC 1952) wrapper, as GZIPOutputStream. */
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return SL_ENOMEM;
  int rc = SL_OK;
  size_t pos = 0;
  for (;;) {
    if (zs.avail_in == 0 && pos < len) {
      size_t n = len - pos < ZLIB_IN_MAX ? len - pos : ZLIB_IN_MAX;
      zs.next_in = (Bytef *)(uintptr_t)(in + pos);
      zs.avail_in = (uInt)n;
      pos += n;
    }
    size_t room = (size_t)deflateBound(&zs, zs.avail_in) + 64;
    uint8_t *dst = sl_buf_reserve(out, room);
    if (dst == NULL) {
      rc = SL_ENOMEM;
      break;
    }
    zs.next_out = dst;
    zs.avail_out = (uInt)room;
    int zr = deflate(&zs, pos == len ? Z_FINISH : Z_NO_FLUSH);
    out->len += room - zs.avail_out;
    if (zr == Z_STREAM_END)
      break;
    if (zr != Z_OK && zr != Z_BUF_ERROR) {
      rc = SL_ENOMEM; /* deflate fails only on bad state or memory */
      break;
    }
  }
  deflateEnd(&zs);
  return rc;
}

/*
 * Reads one or more gzip members (GZIPInputStream accepts concatenated
 * members).  Anything after a member must be another complete member: Java
 * silently ignores trailing bytes that do not parse as a gzip header, we treat
 * them as damage, because Kafka never writes them.
 */
static int gzip_decompress(const uint8_t *in, size_t len, size_t max_out, sl_buf *out,
                           sl_diag *diag) {
  size_t base = out->len;
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    return SL_ENOMEM;
  int rc = SL_OK;
  size_t pos = 0; /* input handed to zlib so far */
  for (;;) {
    if (zs.avail_in == 0 && pos < len) {
      size_t n = len - pos < ZLIB_IN_MAX ? len - pos : ZLIB_IN_MAX;
      zs.next_in = (Bytef *)(uintptr_t)(in + pos);
      zs.avail_in = (uInt)n;
      pos += n;
    }
    size_t room;
    uint8_t *dst = out_room(out, base, max_out, &room, &rc);
    if (dst == NULL) {
      if (rc == SL_ETOO_LARGE)
        too_large(diag, "gzip", pos - zs.avail_in, max_out);
      break;
    }
    if (room > UINT32_MAX)
      room = UINT32_MAX;
    zs.next_out = dst;
    zs.avail_out = (uInt)room;
    int zr = inflate(&zs, Z_NO_FLUSH);
    out->len += room - zs.avail_out;
    size_t consumed = pos - zs.avail_in;
    if (zr == Z_STREAM_END) {
      if (consumed == len)
        break;
      inflateReset(&zs); /* another member follows */
      continue;
    }
    if (zr == Z_OK)
      continue;
    if (zr == Z_BUF_ERROR && consumed == len) {
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)consumed, "gzip stream is truncated");
      break;
    }
    if (zr == Z_BUF_ERROR)
      continue; /* no progress possible with this room; out_room gives more */
    if (zr == Z_MEM_ERROR) {
      rc = SL_ENOMEM;
      break;
    }
    rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)consumed, "gzip: %s",
                     zs.msg ? zs.msg : "invalid stream");
    break;
  }
  inflateEnd(&zs);
  if (rc == SL_OK && out->len - base > max_out)
    rc = too_large(diag, "gzip", len, max_out);
  return rc;
}

/* ---- snappy (xerial framing) ---- */

static int snappy_compress_xerial(const uint8_t *in, size_t len, sl_buf *out) {
  uint8_t hdr[XERIAL_HEADER_SIZE];
  memcpy(hdr, xerial_magic, XERIAL_MAGIC_SIZE);
  sl_store_be32(hdr + 8, XERIAL_VERSION);
  sl_store_be32(hdr + 12, XERIAL_MIN_COMPATIBLE);
  int rc = sl_buf_append(out, hdr, sizeof(hdr));
  for (size_t pos = 0; rc == SL_OK && pos < len;) {
    size_t n = len - pos < XERIAL_BLOCK_SIZE ? len - pos : XERIAL_BLOCK_SIZE;
    size_t clen = snappy_max_compressed_length(n);
    uint8_t *dst = sl_buf_reserve(out, 4 + clen);
    if (dst == NULL)
      return SL_ENOMEM;
    if (snappy_compress((const char *)in + pos, n, (char *)dst + 4, &clen) != SNAPPY_OK)
      return SL_ENOMEM;
    sl_store_be32(dst, (uint32_t)clen);
    out->len += 4 + clen;
    pos += n;
  }
  return rc;
}

/* Decodes one raw snappy block at input position `at`, bounded by the budget. */
static int snappy_block(const uint8_t *blk, size_t blen, size_t at, size_t base,
                        size_t max_out, sl_buf *out, sl_diag *diag) {
  size_t n;
  if (blen == 0 || snappy_uncompressed_length((const char *)blk, blen, &n) != SNAPPY_OK)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)at,
                       "snappy block of %zu bytes has no valid length header", blen);
  if (n > max_out - (out->len - base))
    return sl_diag_set(diag, SL_ETOO_LARGE, (int64_t)at,
                       "snappy block announces %zu bytes, over the limit of %zu", n,
                       max_out);
  if (n == 0)
    return snappy_validate_compressed_buffer((const char *)blk, blen) == SNAPPY_OK
               ? SL_OK
               : sl_diag_set(diag, SL_ECORRUPT, (int64_t)at, "invalid snappy block");
  uint8_t *dst = sl_buf_reserve(out, n);
  if (dst == NULL)
    return SL_ENOMEM;
  size_t got = n;
  if (snappy_uncompress((const char *)blk, blen, (char *)dst, &got) != SNAPPY_OK ||
      got != n)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)at, "invalid snappy block");
  out->len += n;
  return SL_OK;
}

/*
 * Reads what SnappyInputStream reads: the xerial framing when the input starts
 * with the 16-byte header, else the whole input as one raw snappy block.  A
 * chunk length equal to the first four magic bytes starts a concatenated
 * xerial stream, as in snappy-java.  Unlike snappy-java, 1-3 stray bytes after
 * the last chunk are an error, not silently dropped.
 */
static int snappy_decompress_any(const uint8_t *in, size_t len, size_t max_out,
                                 sl_buf *out, sl_diag *diag) {
  size_t base = out->len;
  if (len == 0)
    return sl_diag_set(diag, SL_ECORRUPT, 0, "empty snappy stream");
  if (len < XERIAL_HEADER_SIZE || memcmp(in, xerial_magic, XERIAL_MAGIC_SIZE) != 0)
    return snappy_block(in, len, 0, base, max_out, out, diag);
  sl_rbuf r;
  sl_rbuf_init(&r, in, len);
  sl_rbuf_skip(&r, XERIAL_HEADER_SIZE); /* version fields: any is accepted */
  const uint32_t magic_head = sl_load_be32(xerial_magic);
  while (sl_rbuf_left(&r) > 0) {
    size_t at = r.pos;
    uint32_t clen = sl_rbuf_u32(&r);
    if (sl_rbuf_err(&r))
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)at,
                         "xerial snappy chunk length is truncated");
    if (clen == magic_head) {
      const uint8_t *h = sl_rbuf_bytes(&r, XERIAL_HEADER_SIZE - 4);
      if (h == NULL || memcmp(h, xerial_magic + 4, XERIAL_MAGIC_SIZE - 4) != 0)
        return sl_diag_set(diag, SL_ECORRUPT, (int64_t)at,
                           "invalid concatenated xerial snappy header");
      continue;
    }
    if (clen > INT32_MAX)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)at,
                         "negative xerial snappy chunk length %d", (int32_t)clen);
    const uint8_t *blk = sl_rbuf_bytes(&r, clen);
    if (blk == NULL)
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)at,
                         "xerial snappy chunk of %u bytes is truncated (%zu left)", clen,
                         len - at - 4);
    int rc = snappy_block(blk, clen, at + 4, base, max_out, out, diag);
    if (rc != SL_OK)
      return rc;
  }
  return SL_OK;
}

/* ---- lz4 ---- */

/* XXH32 with seed 0 for inputs under 16 bytes: the LZ4 frame header checksum. */
static uint32_t xxh32_short(const uint8_t *p, size_t len) {
  const uint32_t p1 = 2654435761u, p2 = 2246822519u, p3 = 3266489917u, p4 = 668265263u,
                 p5 = 374761393u;
  uint32_t h = p5 + (uint32_t)len;
  for (; len >= 4; p += 4, len -= 4) {
    h += sl_load_le32(p) * p3;
    h = ((h << 17) | (h >> 15)) * p4;
  }
  for (; len > 0; p++, len--) {
    h += *p * p5;
    h = ((h << 11) | (h >> 21)) * p1;
  }
  h ^= h >> 15;
  h *= p2;
  h ^= h >> 13;
  h *= p3;
  h ^= h >> 16;
  return h;
}

static int lz4_compress_frame(int level, const uint8_t *in, size_t len, sl_buf *out) {
  if (level == SL_COMPRESSION_LEVEL_DEFAULT)
    level = LZ4_LEVEL_DEFAULT;
  else if (level < LZ4_LEVEL_MIN || level > LZ4_LEVEL_MAX)
    return SL_EINVAL;
  LZ4F_preferences_t prefs;
  memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.frameInfo.frameType = LZ4F_frame;
  prefs.frameInfo.contentSize = 0;
  prefs.compressionLevel = level;
  size_t bound = LZ4F_compressFrameBound(len, &prefs);
  if (LZ4F_isError(bound))
    return SL_EINVAL;
  uint8_t *dst = sl_buf_reserve(out, bound);
  if (dst == NULL)
    return SL_ENOMEM;
  size_t n = LZ4F_compressFrame(dst, bound, in, len, &prefs);
  if (LZ4F_isError(n))
    return SL_ENOMEM;
  out->len += n;
  return SL_OK;
}

/*
 * Decodes LZ4 frames with liblz4's streaming decoder.  First `pre` (a patched
 * copy of the frame header, or nothing) is fed, then `in`.  Lenient on read:
 * everything liblz4 accepts is accepted, including linked blocks, block and
 * content checksums (both verified), content size, skippable and concatenated
 * frames, although Kafka's Java reader rejects linked blocks.  Our writer never
 * produces any of those.
 */
static int lz4_decode(const uint8_t *pre, size_t pre_len, const uint8_t *in, size_t len,
                      size_t max_out, sl_buf *out, sl_diag *diag) {
  size_t base = out->len;
  LZ4F_dctx *dctx = NULL;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return SL_ENOMEM;
  int rc = SL_OK;
  size_t ipos = 0; /* position in the logical input pre + in */
  size_t total = pre_len + len;
  size_t hint = 1;
  if (total == 0)
    rc = sl_diag_set(diag, SL_ECORRUPT, 0, "empty lz4 stream");
  while (rc == SL_OK) {
    const uint8_t *src = ipos < pre_len ? pre + ipos : in + (ipos - pre_len);
    size_t src_len = ipos < pre_len ? pre_len - ipos : total - ipos;
    size_t room;
    uint8_t *dst = out_room(out, base, max_out, &room, &rc);
    if (dst == NULL) {
      if (rc == SL_ETOO_LARGE)
        too_large(diag, "lz4", ipos, max_out);
      break;
    }
    size_t dst_len = room;
    hint = LZ4F_decompress(dctx, dst, &dst_len, src, &src_len, NULL);
    if (LZ4F_isError(hint)) {
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)(ipos + src_len), "lz4: %s",
                       LZ4F_getErrorName(hint));
      break;
    }
    out->len += dst_len;
    ipos += src_len;
    if (src_len == 0 && dst_len == 0 && ipos < total) {
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)ipos, "lz4 decoder made no progress");
      break;
    }
    if (ipos == total) {
      if (hint == 0)
        break; /* a frame ended exactly at the end of the input */
      if (dst_len < room)
        rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)ipos, "lz4 frame is truncated");
    }
  }
  LZ4F_freeDecompressionContext(dctx);
  if (rc == SL_OK && out->len - base > max_out)
    rc = too_large(diag, "lz4", total, max_out);
  return rc;
}

/*
 * Magic-v0 messages carry an LZ4 frame whose header checksum Kafka computed
 * over magic+FLG+BD instead of FLG+BD.  The Java reader does not check it for
 * v0; we recompute the right byte in a copy of the header and decode normally.
 */
static int lz4_decompress_legacy(const uint8_t *in, size_t len, size_t max_out,
                                 sl_buf *out, sl_diag *diag) {
  if (len < 7 || sl_load_le32(in) != LZ4_MAGIC)
    return lz4_decode(NULL, 0, in, len, max_out, out, diag);
  size_t hlen = 7;
  if (in[4] & LZ4_FLG_CONTENT_SIZE)
    hlen += 8;
  if (in[4] & LZ4_FLG_DICT_ID)
    hlen += 4;
  if (len < hlen)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)len, "lz4 frame header is truncated");
  uint8_t hdr[LZ4_HEADER_MAX];
  memcpy(hdr, in, hlen);
  hdr[hlen - 1] = (uint8_t)(xxh32_short(hdr + 4, hlen - 5) >> 8);
  return lz4_decode(hdr, hlen, in + hlen, len - hlen, max_out, out, diag);
}

/* ---- zstd ---- */

static int zstd_compress_frame(int level, const uint8_t *in, size_t len, sl_buf *out) {
  if (level == SL_COMPRESSION_LEVEL_DEFAULT)
    level = ZSTD_LEVEL_DEFAULT;
  else if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
    return SL_EINVAL;
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  if (cctx == NULL)
    return SL_ENOMEM;
  int rc = SL_OK;
  size_t bound = ZSTD_compressBound(len);
  uint8_t *dst = ZSTD_isError(bound) ? NULL : sl_buf_reserve(out, bound);
  if (dst == NULL) {
    rc = ZSTD_isError(bound) ? SL_EINVAL : SL_ENOMEM;
    goto done;
  }
  if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))) {
    rc = SL_EINVAL;
    goto done;
  }
  size_t n = ZSTD_compress2(cctx, dst, bound, in, len);
  if (ZSTD_isError(n)) {
    rc = SL_ENOMEM;
    goto done;
  }
  out->len += n;
done:
  ZSTD_freeCCtx(cctx);
  return rc;
}

static int zstd_error(size_t code, size_t pos, sl_diag *diag) {
  switch (ZSTD_getErrorCode(code)) {
  case ZSTD_error_memory_allocation:
    return sl_diag_set(diag, SL_ENOMEM, (int64_t)pos, "zstd: %s",
                       ZSTD_getErrorName(code));
  case ZSTD_error_frameParameter_windowTooLarge:
    return sl_diag_set(diag, SL_ETOO_LARGE, (int64_t)pos,
                       "zstd frame window is larger than 2^%d bytes", ZSTD_WINDOWLOG_MAX);
  default:
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)pos, "zstd: %s",
                       ZSTD_getErrorName(code));
  }
}

/*
 * Streaming decode of one or more zstd frames (with or without content size,
 * skippable frames included).  A first frame that announces more than max_out
 * fails before any allocation; the decoder's window is capped (see
 * ZSTD_WINDOWLOG_MAX) so a hostile header cannot make it allocate gigabytes.
 */
static int zstd_decompress_frames(const uint8_t *in, size_t len, size_t max_out,
                                  sl_buf *out, sl_diag *diag) {
  size_t base = out->len;
  if (len == 0)
    return sl_diag_set(diag, SL_ECORRUPT, 0, "empty zstd stream");
  unsigned long long csize = ZSTD_getFrameContentSize(in, len);
  if (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != ZSTD_CONTENTSIZE_ERROR &&
      csize > max_out)
    return sl_diag_set(diag, SL_ETOO_LARGE, 0,
                       "zstd frame announces %llu bytes, over the limit of %zu", csize,
                       max_out);
  ZSTD_DCtx *dctx = ZSTD_createDCtx();
  if (dctx == NULL)
    return SL_ENOMEM;
  int rc = SL_OK;
  if (ZSTD_isError(
          ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_MAX))) {
    rc = SL_ENOMEM;
    goto done;
  }
  ZSTD_inBuffer ib = {in, len, 0};
  for (;;) {
    size_t room;
    uint8_t *dst = out_room(out, base, max_out, &room, &rc);
    if (dst == NULL) {
      if (rc == SL_ETOO_LARGE)
        too_large(diag, "zstd", ib.pos, max_out);
      break;
    }
    ZSTD_outBuffer ob = {dst, room, 0};
    size_t before = ib.pos;
    size_t ret = ZSTD_decompressStream(dctx, &ob, &ib);
    if (ZSTD_isError(ret)) {
      rc = zstd_error(ret, ib.pos, diag);
      break;
    }
    out->len += ob.pos;
    if (ib.pos == before && ob.pos == 0 && ib.pos < len) {
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)ib.pos,
                       "zstd decoder made no progress");
      break;
    }
    if (ib.pos == len && ret == 0)
      break; /* the last frame is complete and flushed */
    if (ib.pos == len && ob.pos < room) {
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)len, "zstd frame is truncated");
      break;
    }
  }
done:
  ZSTD_freeDCtx(dctx);
  if (rc == SL_OK && out->len - base > max_out)
    rc = too_large(diag, "zstd", len, max_out);
  return rc;
}

/* ---- public entry points ---- */

int sl_compress(sl_compression codec, int level, const void *in, size_t len,
                sl_buf *out) {
  if (out == NULL || (in == NULL && len > 0))
    return SL_EINVAL;
  static const uint8_t empty[1] = {0};
  const uint8_t *src = in ? (const uint8_t *)in : empty;
  size_t base = out->len;
  int rc;
  switch (codec) {
  case SL_COMPRESSION_NONE:
    rc = sl_buf_append(out, src, len);
    break;
  case SL_COMPRESSION_GZIP:
    rc = gzip_compress(level, src, len, out);
    break;
  case SL_COMPRESSION_SNAPPY:
    rc = snappy_compress_xerial(src, len, out);
    break;
  case SL_COMPRESSION_LZ4:
    rc = lz4_compress_frame(level, src, len, out);
    break;
  case SL_COMPRESSION_ZSTD:
    rc = zstd_compress_frame(level, src, len, out);
    break;
  default:
    rc = SL_EINVAL;
    break;
  }
  if (rc != SL_OK)
    out->len = base;
  return rc;
}

int sl_decompress(sl_compression codec, const void *in, size_t len, size_t max_out,
                  sl_buf *out, sl_diag *diag) {
  if (out == NULL || (in == NULL && len > 0))
    return sl_diag_set(diag, SL_EINVAL, -1, "no buffer given");
  static const uint8_t empty[1] = {0};
  const uint8_t *src = in ? (const uint8_t *)in : empty;
  size_t base = out->len;
  int rc;
  switch (codec) {
  case SL_COMPRESSION_NONE:
    rc = len > max_out ? too_large(diag, "uncompressed", 0, max_out)
                       : sl_buf_append(out, src, len);
    break;
  case SL_COMPRESSION_GZIP:
    rc = gzip_decompress(src, len, max_out, out, diag);
    break;
  case SL_COMPRESSION_SNAPPY:
    rc = snappy_decompress_any(src, len, max_out, out, diag);
    break;
  case SL_COMPRESSION_LZ4:
    rc = lz4_decode(NULL, 0, src, len, max_out, out, diag);
    break;
  case SL_COMPRESSION_ZSTD:
    rc = zstd_decompress_frames(src, len, max_out, out, diag);
    break;
  default:
    rc = sl_diag_set(diag, SL_EINVAL, -1, "unknown compression codec %d", (int)codec);
    break;
  }
  if (rc != SL_OK)
    out->len = base;
  return rc;
}

int sl_decompress_lz4_legacy(const void *in, size_t len, size_t max_out, sl_buf *out,
                             sl_diag *diag) {
  if (out == NULL || (in == NULL && len > 0))
    return sl_diag_set(diag, SL_EINVAL, -1, "no buffer given");
  static const uint8_t empty[1] = {0};
  size_t base = out->len;
  int rc =
      lz4_decompress_legacy(in ? (const uint8_t *)in : empty, len, max_out, out, diag);
  if (rc != SL_OK)
    out->len = base;
  return rc;
}
