/*
 * test_compress.c - the four codecs: round trips at block-boundary sizes, the
 * exact framing bytes Kafka expects (gzip header/trailer, xerial header and
 * chunks, LZ4 magic/FLG/BD/HC and stored blocks, zstd magic), streams written
 * by other implementations, the raw snappy fallback, the legacy LZ4 header
 * checksum, bounded output (bombs) and damaged input.
 *
 * The known streams were produced with Debian's python3-kafka 2.0.2
 * (kafka.codec), python3-snappy, python3-lz4 4.0.2 and python3-zstandard 0.20:
 *   P1 = b"hello kafka, hello seglog! " * 4
 *   P2 = bytes((i * 7) % 251 for i in range(300))
 * gzip_encode(P1); gzip_encode(P1[:50]) + gzip_encode(P1[50:]);
 * snappy_encode(P2); snappy_encode(P1, xerial_blocksize=40); snappy.compress(P1);
 * lz4_encode(P1); lz4.frame.compress(P2, block_linked=True, content_checksum=True,
 * block_checksum=True, block_size=BLOCKSIZE_MAX4MB); zstd_encode(P1);
 * ZstdCompressor(write_content_size=False).compress(P2); zstd_encode(P1[:60]) +
 * ZstdCompressor(level=19, write_content_size=False).compress(P1[60:]);
 * a compressobj() stream of P1 with window_log=27 (and 28), no content size.
 * The legacy LZ4 frame is lz4.frame.compress(P1, block_linked=False,
 * store_size=False) with its HC byte replaced by (xxh32(04 22 4d 18 60 40) >> 8).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/compress.h"

#define MIB ((size_t)1024 * 1024)

static const sl_compression all_codecs[] = {SL_COMPRESSION_NONE, SL_COMPRESSION_GZIP,
                                            SL_COMPRESSION_SNAPPY, SL_COMPRESSION_LZ4,
                                            SL_COMPRESSION_ZSTD};
#define N_CODECS (sizeof(all_codecs) / sizeof(all_codecs[0]))

static uint8_t *make_p1(size_t *len) {
  static const char unit[] = "hello kafka, hello seglog! ";
  size_t u = sizeof(unit) - 1;
  uint8_t *p = malloc(4 * u);
  assert_non_null(p);
  for (int i = 0; i < 4; i++)
    memcpy(p + i * u, unit, u);
  *len = 4 * u;
  return p;
}

static uint8_t *make_p2(size_t *len) {
  uint8_t *p = malloc(300);
  assert_non_null(p);
  for (size_t i = 0; i < 300; i++)
    p[i] = (uint8_t)((i * 7) % 251);
  *len = 300;
  return p;
}

/* Text-like data that every codec shrinks. */
static void fill_compressible(uint8_t *p, size_t len, uint64_t seed) {
  static const char *words[] = {"offset ", "record ", "batch ", "segment ",
                                "kafka ",  "index ",  "epoch ", "\n"};
  uint8_t r[1];
  size_t i = 0;
  while (i < len) {
    tu_fill_random(r, 1, seed + i);
    const char *w = words[r[0] % 8];
    for (size_t k = 0; w[k] && i < len; k++)
      p[i++] = (uint8_t)w[k];
  }
}

static size_t unhex_alloc(const char *hex, uint8_t **out) {
  size_t cap = strlen(hex) / 2 + 1;
  *out = malloc(cap);
  assert_non_null(*out);
  return tu_unhex(hex, *out, cap);
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(sl_compression_name(SL_COMPRESSION_NONE), "none");
  assert_string_equal(sl_compression_name(SL_COMPRESSION_GZIP), "gzip");
  assert_string_equal(sl_compression_name(SL_COMPRESSION_SNAPPY), "snappy");
  assert_string_equal(sl_compression_name(SL_COMPRESSION_LZ4), "lz4");
  assert_string_equal(sl_compression_name(SL_COMPRESSION_ZSTD), "zstd");
  assert_string_equal(sl_compression_name(5), "unknown");
  assert_string_equal(sl_compression_name(-1), "unknown");
  sl_compression c = SL_COMPRESSION_NONE;
  assert_int_equal(sl_compression_parse("ZStd", &c), 0);
  assert_int_equal(c, SL_COMPRESSION_ZSTD);
  assert_int_equal(sl_compression_parse("gzip", &c), 0);
  assert_int_equal(c, SL_COMPRESSION_GZIP);
  assert_int_equal(sl_compression_parse("none", &c), 0);
  assert_int_equal(c, SL_COMPRESSION_NONE);
  assert_int_equal(sl_compression_parse("lz4", &c), 0);
  assert_int_equal(c, SL_COMPRESSION_LZ4);
  assert_int_equal(sl_compression_parse("SNAPPY", &c), 0);
  assert_int_equal(c, SL_COMPRESSION_SNAPPY);
  c = SL_COMPRESSION_GZIP;
  assert_int_equal(sl_compression_parse("lz4hc", &c), SL_EINVAL);
  assert_int_equal(sl_compression_parse("", &c), SL_EINVAL);
  assert_int_equal(sl_compression_parse(NULL, &c), SL_EINVAL);
  assert_int_equal(c, SL_COMPRESSION_GZIP);
}

/* Round trip at `n` bytes; also checks the max_out boundary and appending. */
static void roundtrip_one(sl_compression codec, const uint8_t *data, size_t n) {
  sl_buf z = SL_BUF_INIT, d = SL_BUF_INIT;
  assert_int_equal(sl_buf_append(&z, "pre", 3), 0);
  assert_int_equal(sl_compress(codec, SL_COMPRESSION_LEVEL_DEFAULT, data, n, &z), 0);
  assert_true(z.len > 3 || (codec == SL_COMPRESSION_NONE && n == 0));
  assert_memory_equal(z.data, "pre", 3);
  if (codec == SL_COMPRESSION_NONE && n > 0)
    assert_memory_equal(z.data + 3, data, n);

  sl_diag diag;
  sl_diag_clear(&diag);
  assert_int_equal(sl_buf_append(&d, "XY", 2), 0);
  int rc = sl_decompress(codec, z.data + 3, z.len - 3, n, &d, &diag);
  if (rc != 0)
    fail_msg("%s n=%zu: %s", sl_compression_name(codec), n, diag.msg);
  assert_int_equal(d.len, n + 2);
  assert_memory_equal(d.data, "XY", 2);
  if (n > 0)
    assert_memory_equal(d.data + 2, data, n);

  if (n > 0) { /* one byte under the limit: refused, length restored */
    sl_diag_clear(&diag);
    rc = sl_decompress(codec, z.data + 3, z.len - 3, n - 1, &d, &diag);
    assert_int_equal(rc, SL_ETOO_LARGE);
    assert_int_equal(diag.err, SL_ETOO_LARGE);
    assert_true(diag.msg[0] != '\0');
    assert_int_equal(d.len, n + 2);
  }
  if (codec == SL_COMPRESSION_LZ4) { /* the legacy reader accepts a right HC too */
    d.len = 0;
    assert_int_equal(sl_decompress_lz4_legacy(z.data + 3, z.len - 3, n, &d, NULL), 0);
    assert_int_equal(d.len, n);
    if (n > 0)
      assert_memory_equal(d.data, data, n);
  }
  sl_buf_release(&z);
  sl_buf_release(&d);
}

static void test_roundtrip_sizes(void **state) {
  (void)state;
  const size_t sizes[] = {0, 1, 100, 65535, 65536, 65537, MIB};
  uint8_t *rnd = malloc(MIB), *txt = malloc(MIB);
  assert_non_null(rnd);
  assert_non_null(txt);
  tu_fill_random(rnd, MIB, 42);
  fill_compressible(txt, MIB, 7);
  for (size_t c = 0; c < N_CODECS; c++) {
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      roundtrip_one(all_codecs[c], rnd, sizes[s]);
      roundtrip_one(all_codecs[c], txt, sizes[s]);
    }
  }
  /* Compressible data really shrinks (the writers are not storing). */
  for (size_t c = 1; c < N_CODECS; c++) {
    sl_buf z = SL_BUF_INIT;
    assert_int_equal(
        sl_compress(all_codecs[c], SL_COMPRESSION_LEVEL_DEFAULT, txt, MIB, &z), 0);
    assert_true(z.len < MIB / 3);
    sl_buf_release(&z);
  }
  free(rnd);
  free(txt);
}

static void test_levels(void **state) {
  (void)state;
  const uint8_t data[] = "level test level test level test";
  struct {
    sl_compression codec;
    int level;
    int rc;
  } cases[] = {
      {SL_COMPRESSION_GZIP, 1, 0},          {SL_COMPRESSION_GZIP, 9, 0},
      {SL_COMPRESSION_GZIP, -1, 0},         {SL_COMPRESSION_GZIP, 0, SL_EINVAL},
      {SL_COMPRESSION_GZIP, 10, SL_EINVAL}, {SL_COMPRESSION_LZ4, 1, 0},
      {SL_COMPRESSION_LZ4, 17, 0},          {SL_COMPRESSION_LZ4, 0, SL_EINVAL},
      {SL_COMPRESSION_LZ4, 18, SL_EINVAL},  {SL_COMPRESSION_ZSTD, -5, 0},
      {SL_COMPRESSION_ZSTD, 1, 0},          {SL_COMPRESSION_ZSTD, 22, 0},
      {SL_COMPRESSION_ZSTD, 23, SL_EINVAL}, {SL_COMPRESSION_SNAPPY, 5, 0},
      {SL_COMPRESSION_NONE, 3, 0},          {(sl_compression)5, 0, SL_EINVAL},
      {(sl_compression)-1, 0, SL_EINVAL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sl_buf z = SL_BUF_INIT;
    assert_int_equal(sl_buf_append(&z, "ab", 2), 0);
    int rc = sl_compress(cases[i].codec, cases[i].level, data, sizeof(data), &z);
    if (rc != cases[i].rc)
      fail_msg("case %zu: codec %d level %d gave %d", i, cases[i].codec, cases[i].level,
               rc);
    if (rc == 0) {
      sl_buf d = SL_BUF_INIT;
      assert_int_equal(
          sl_decompress(cases[i].codec, z.data + 2, z.len - 2, 1000, &d, NULL), 0);
      assert_int_equal(d.len, sizeof(data));
      assert_memory_equal(d.data, data, sizeof(data));
      sl_buf_release(&d);
    } else {
      assert_int_equal(z.len, 2);
    }
    sl_buf_release(&z);
  }
  sl_buf z = SL_BUF_INIT;
  assert_int_equal(sl_compress(SL_COMPRESSION_GZIP, 6, NULL, 1, &z), SL_EINVAL);
  assert_int_equal(sl_compress(SL_COMPRESSION_GZIP, 6, data, 1, NULL), SL_EINVAL);
  assert_int_equal(sl_decompress(SL_COMPRESSION_GZIP, NULL, 1, 10, &z, NULL), SL_EINVAL);
  assert_int_equal(sl_decompress((sl_compression)9, data, 1, 10, &z, NULL), SL_EINVAL);
  sl_buf_release(&z);
}

static void test_gzip_framing(void **state) {
  (void)state;
  sl_buf z = SL_BUF_INIT;
  assert_int_equal(
      sl_compress(SL_COMPRESSION_GZIP, SL_COMPRESSION_LEVEL_DEFAULT, "abc", 3, &z), 0);
  assert_true(z.len >= 18 + 2);
  /* ID1 ID2 CM=deflate FLG=0, MTIME=0 */
  const uint8_t head[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0};
  assert_memory_equal(z.data, head, sizeof(head));
  /* Trailer: CRC-32 of "abc" (0x352441c2) and ISIZE 3, both little-endian. */
  const uint8_t tail[] = {0xc2, 0x41, 0x24, 0x35, 0x03, 0x00, 0x00, 0x00};
  assert_memory_equal(z.data + z.len - 8, tail, sizeof(tail));
  sl_buf_release(&z);
}

static const uint8_t xerial_header[16] = {0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00,
                                          0,    0,    0,    1,    0,    0,    0,    1};

static void test_snappy_framing(void **state) {
  (void)state;
  sl_buf z = SL_BUF_INIT;
  /* Empty input: the header alone, as SnappyOutputStream writes on close. */
  assert_int_equal(
      sl_compress(SL_COMPRESSION_SNAPPY, SL_COMPRESSION_LEVEL_DEFAULT, "", 0, &z), 0);
  assert_int_equal(z.len, 16);
  assert_memory_equal(z.data, xerial_header, 16);
  sl_buf d = SL_BUF_INIT;
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, z.data, z.len, 10, &d, NULL), 0);
  assert_int_equal(d.len, 0);

  /* 65537 bytes: chunks of 32768, 32768 and 1 input bytes, each a raw snappy
   * block that starts with the varint of its uncompressed length. */
  size_t n = 65537;
  uint8_t *data = malloc(n);
  assert_non_null(data);
  tu_fill_random(data, n, 3);
  z.len = 0;
  assert_int_equal(
      sl_compress(SL_COMPRESSION_SNAPPY, SL_COMPRESSION_LEVEL_DEFAULT, data, n, &z), 0);
  assert_memory_equal(z.data, xerial_header, 16);
  const uint8_t *p = z.data + 16;
  const uint8_t *end = z.data + z.len;
  const uint8_t v32k[] = {0x80, 0x80, 0x02};
  for (int chunk = 0; chunk < 3; chunk++) {
    assert_true(end - p >= 5);
    uint32_t clen = sl_load_be32(p);
    assert_true(clen > 0 && clen <= (size_t)(end - p - 4));
    if (chunk < 2)
      assert_memory_equal(p + 4, v32k, 3);
    else
      assert_int_equal(p[4], 0x01);
    p += 4 + clen;
  }
  assert_ptr_equal(p, end);
  free(data);
  sl_buf_release(&z);
  sl_buf_release(&d);
}

static void test_lz4_framing(void **state) {
  (void)state;
  sl_buf z = SL_BUF_INIT;
  /* Empty: magic, FLG 0x60 (v01, independent blocks), BD 0x40 (64 KiB), HC 0x82,
   * end mark. */
  assert_int_equal(
      sl_compress(SL_COMPRESSION_LZ4, SL_COMPRESSION_LEVEL_DEFAULT, "", 0, &z), 0);
  uint8_t want[64];
  size_t wn = tu_unhex("04224d18 604082 00000000", want, sizeof(want));
  assert_int_equal(z.len, wn);
  assert_memory_equal(z.data, want, wn);

  /* 65537 random bytes do not compress: two stored blocks (high bit set) of
   * 65536 and 1 bytes, the raw data, the end mark and no checksum. */
  size_t n = 65537;
  uint8_t *data = malloc(n);
  assert_non_null(data);
  tu_fill_random(data, n, 9);
  z.len = 0;
  assert_int_equal(
      sl_compress(SL_COMPRESSION_LZ4, SL_COMPRESSION_LEVEL_DEFAULT, data, n, &z), 0);
  assert_int_equal(z.len, 7 + 4 + 65536 + 4 + 1 + 4);
  assert_memory_equal(z.data, want, 7);
  const uint8_t b1[] = {0x00, 0x00, 0x01, 0x80};
  assert_memory_equal(z.data + 7, b1, 4);
  assert_memory_equal(z.data + 11, data, 65536);
  const uint8_t b2[] = {0x01, 0x00, 0x00, 0x80};
  assert_memory_equal(z.data + 11 + 65536, b2, 4);
  assert_int_equal(z.data[15 + 65536], data[65536]);
  const uint8_t endmark[] = {0, 0, 0, 0};
  assert_memory_equal(z.data + z.len - 4, endmark, 4);

  /* Compressible data: same header, a compressed block (high bit clear). */
  fill_compressible(data, n, 1);
  z.len = 0;
  assert_int_equal(sl_compress(SL_COMPRESSION_LZ4, 1, data, n, &z), 0);
  assert_memory_equal(z.data, want, 7);
  assert_int_equal(z.data[10] & 0x80, 0);
  free(data);
  sl_buf_release(&z);
}

static void test_zstd_framing(void **state) {
  (void)state;
  sl_buf z = SL_BUF_INIT;
  assert_int_equal(
      sl_compress(SL_COMPRESSION_ZSTD, SL_COMPRESSION_LEVEL_DEFAULT, "abc", 3, &z), 0);
  /* Magic 0xFD2FB528 little-endian; FHD 0x20: single segment, 1-byte content
   * size; content size 3. */
  const uint8_t head[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x03};
  assert_true(z.len > sizeof(head));
  assert_memory_equal(z.data, head, sizeof(head));
  sl_buf_release(&z);
}

/* Streams from other implementations (see the file comment). */
struct known {
  const char *name;
  sl_compression codec;
  int legacy;
  int payload; /* 1 = P1, 2 = P2 */
  const char *hex;
};

static const struct known known_streams[] = {
    {"gzip kafka-python", SL_COMPRESSION_GZIP, 0, 1,
     "1f8b0800e30f076b02ffcb48cdc9c957c84e4ccb4ed451c800738a53d373f2d315a13c2a4a010087"
     "83d27b6c000000"},
    {"gzip two members", SL_COMPRESSION_GZIP, 0, 1,
     "1f8b0800e30f076b02ffcb48cdc9c957c84e4ccb4ed451c800738a53d373f2d315a13c0c2900fe5a"
     "b2ff320000001f8b0800e30f076b02ffcb4f5754c848cdc9c957c84e4ccb4ed481728a53d373f2f1"
     "4b01003dee16bd3a000000"},
    {"snappy xerial", SL_COMPRESSION_SNAPPY, 0, 2,
     "82534e4150505900000000010000000100000105ac02f0fd00070e151c232a31383f464d545b6269"
     "70777e858c939aa1a8afb6bdc4cbd2d9e0e7eef501080f161d242b323940474e555c636a71787f86"
     "8d949ba2a9b0b7bec5ccd3dae1e8eff6020910171e252c333a41484f565d646b727980878e959ca3"
     "aab1b8bfc6cdd4dbe2e9f0f7030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0"
     "c7ced5dce3eaf1f8040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dd"
     "e4ebf2f9050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa"
     "060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf400070eb6fb"
     "00"},
    {"snappy xerial 40-byte blocks", SL_COMPRESSION_SNAPPY, 0, 1,
     "82534e4150505900000000010000000100000027283068656c6c6f206b61666b612c20090d507365"
     "676c6f67212068656c6c6f206b61666b612c2000000027283468656c6c6f207365676c6f67212009"
     "0e4c6b61666b612c2068656c6c6f207365676c6f67210000001e1c6c2068656c6c6f206b61666b61"
     "2c2068656c6c6f207365676c6f672120"},
    {"snappy raw block", SL_COMPRESSION_SNAPPY, 0, 1,
     "6c3068656c6c6f206b61666b612c20090d1c7365676c6f672120090efe1b001d1b"},
    {"lz4 kafka-python (content size)", SL_COMPRESSION_LZ4, 0, 1,
     "04224d1868406c000000000000005524000000d268656c6c6f206b61666b612c200d00737365676c"
     "6f67210e000f1b0033506c6f67212000000000"},
    {"lz4 linked blocks, checksums, 4 MiB", SL_COMPRESSION_LZ4, 0, 2,
     "04224d187c402c01000000000000fa06010000ffec00070e151c232a31383f464d545b626970777e"
     "858c939aa1a8afb6bdc4cbd2d9e0e7eef501080f161d242b323940474e555c636a71787f868d949b"
     "a2a9b0b7bec5ccd3dae1e8eff6020910171e252c333a41484f565d646b727980878e959ca3aab1b8"
     "bfc6cdd4dbe2e9f0f7030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5"
     "dce3eaf1f8040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2"
     "f9050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa060d14"
     "1b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb0019503940474e"
     "554ce79f140000000092f55306"},
    {"lz4 magic v0 broken HC", SL_COMPRESSION_LZ4, 1, 1,
     "04224d1860401a24000000d268656c6c6f206b61666b612c200d00737365676c6f67210e000f1b00"
     "33506c6f67212000000000"},
    {"zstd kafka-python", SL_COMPRESSION_ZSTD, 0, 1,
     "28b52ffd206cfd0000a068656c6c6f206b61666b612c207365676c6f6721031004e808843300fb02"},
    {"zstd without content size", SL_COMPRESSION_ZSTD, 0, 2,
     "28b52ffd0000250800b40f00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4"
     "cbd2d9e0e7eef501080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1"
     "e8eff6020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f703"
     "0a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8040b121920"
     "272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f9050c131a21282f363d"
     "444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa060d141b222930373e454c535a"
     "61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf401007bfd919102"},
    {"zstd two frames", SL_COMPRESSION_ZSTD, 0, 1,
     "28b52ffd203cf50000a068656c6c6f206b61666b612c207365676c6f67210310041e403803b02f28"
     "b52ffd0000ed0000a06b61666b612c2068656c6c6f207365676c6f672102003e3f10d96402"},
    /* What Kafka's streaming writer declares at level 22: a 2^27 window for a
     * small batch (zstandard, window_log=27, no content size). */
    {"zstd 128 MiB window", SL_COMPRESSION_ZSTD, 0, 1,
     "28b52ffd0088fd0000a068656c6c6f206b61666b612c207365676c6f6721031004e808843300fb02"},
};

static int decode_known(const struct known *k, const uint8_t *in, size_t n,
                        size_t max_out, sl_buf *out, sl_diag *diag) {
  if (k->legacy)
    return sl_decompress_lz4_legacy(in, n, max_out, out, diag);
  return sl_decompress(k->codec, in, n, max_out, out, diag);
}

static void test_known_streams(void **state) {
  (void)state;
  size_t p1n, p2n;
  uint8_t *p1 = make_p1(&p1n), *p2 = make_p2(&p2n);
  for (size_t i = 0; i < sizeof(known_streams) / sizeof(known_streams[0]); i++) {
    const struct known *k = &known_streams[i];
    uint8_t *in;
    size_t n = unhex_alloc(k->hex, &in);
    const uint8_t *want = k->payload == 1 ? p1 : p2;
    size_t wn = k->payload == 1 ? p1n : p2n;
    sl_buf d = SL_BUF_INIT;
    sl_diag diag;
    sl_diag_clear(&diag);
    int rc = decode_known(k, in, n, wn, &d, &diag);
    if (rc != 0)
      fail_msg("%s: %s (%d)", k->name, diag.msg, rc);
    assert_int_equal(d.len, wn);
    assert_memory_equal(d.data, want, wn);
    /* One byte less is too much. */
    d.len = 0;
    assert_int_equal(decode_known(k, in, n, wn - 1, &d, NULL), SL_ETOO_LARGE);
    assert_int_equal(d.len, 0);
    /* Every truncation fails cleanly, except where a shorter stream is still a
     * valid one (xerial stops at chunk boundaries; a gzip/zstd stream cut after
     * a whole member/frame), which must then give a strict prefix. */
    for (size_t cut = 0; cut < n; cut++) {
      d.len = 0;
      rc = decode_known(k, in, cut, wn, &d, NULL);
      if (rc == 0) {
        assert_true(d.len < wn);
        if (d.len > 0)
          assert_memory_equal(d.data, want, d.len);
      } else {
        assert_int_equal(d.len, 0);
      }
    }
    sl_buf_release(&d);
    free(in);
  }
  free(p1);
  free(p2);
}

static void test_lz4_legacy_header_checksum(void **state) {
  (void)state;
  size_t p1n;
  uint8_t *p1 = make_p1(&p1n);
  uint8_t *in;
  size_t n = unhex_alloc(known_streams[7].hex, &in);
  assert_int_equal(in[6], 0x1a); /* the wrong HC Kafka wrote for FLG 60 BD 40 */
  sl_buf d = SL_BUF_INIT;
  sl_diag diag;
  sl_diag_clear(&diag);
  /* The normal reader checks the HC and refuses it. */
  assert_int_equal(sl_decompress(SL_COMPRESSION_LZ4, in, n, 1000, &d, &diag),
                   SL_ECORRUPT);
  assert_int_equal(diag.err, SL_ECORRUPT);
  assert_non_null(strstr(diag.msg, "lz4"));
  assert_int_equal(d.len, 0);
  /* With the right HC (0x82) both accept it. */
  in[6] = 0x82;
  assert_int_equal(sl_decompress(SL_COMPRESSION_LZ4, in, n, 1000, &d, NULL), 0);
  assert_int_equal(d.len, p1n);
  d.len = 0;
  assert_int_equal(sl_decompress_lz4_legacy(in, n, 1000, &d, NULL), 0);
  assert_memory_equal(d.data, p1, p1n);
  free(in);

  /* A header with an 8-byte content size: the HC byte is at offset 14. */
  n = unhex_alloc(known_streams[5].hex, &in);
  in[14] ^= 0x5a;
  d.len = 0;
  assert_int_equal(sl_decompress(SL_COMPRESSION_LZ4, in, n, 1000, &d, NULL), SL_ECORRUPT);
  assert_int_equal(sl_decompress_lz4_legacy(in, n, 1000, &d, NULL), 0);
  assert_int_equal(d.len, p1n);
  assert_memory_equal(d.data, p1, p1n);
  /* Damage elsewhere in the header is still caught (reserved BD bits). */
  in[5] |= 0x01;
  d.len = 0;
  assert_int_equal(sl_decompress_lz4_legacy(in, n, 1000, &d, NULL), SL_ECORRUPT);
  /* Truncated headers. */
  assert_int_equal(sl_decompress_lz4_legacy(in, 10, 1000, &d, NULL), SL_ECORRUPT);
  assert_int_equal(sl_decompress_lz4_legacy(in, 3, 1000, &d, NULL), SL_ECORRUPT);
  assert_int_equal(sl_decompress_lz4_legacy(in, 0, 1000, &d, NULL), SL_ECORRUPT);
  assert_int_equal(d.len, 0);
  free(in);
  free(p1);
  sl_buf_release(&d);
}

static void test_snappy_raw_fallback(void **state) {
  (void)state;
  /* A raw block: varint length 5 then a 5-byte literal (tag (5-1)<<2). */
  const uint8_t raw[] = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
  sl_buf d = SL_BUF_INIT;
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, raw, sizeof(raw), 5, &d, NULL),
                   0);
  assert_int_equal(d.len, 5);
  assert_memory_equal(d.data, "hello", 5);
  /* An empty raw block is one byte, 0x00. */
  d.len = 0;
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, "\0", 1, 5, &d, NULL), 0);
  assert_int_equal(d.len, 0);
  /* Magic but shorter than the 16-byte header: treated as raw, which fails. */
  sl_diag diag;
  sl_diag_clear(&diag);
  assert_int_equal(
      sl_decompress(SL_COMPRESSION_SNAPPY, xerial_header, 12, MIB, &d, &diag),
      SL_ECORRUPT);
  assert_true(diag.msg[0] != '\0');
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, "", 0, 1000, &d, NULL),
                   SL_ECORRUPT);
  /* Two xerial streams back to back (snappy-java reads the second header). */
  sl_buf z = SL_BUF_INIT;
  assert_int_equal(sl_compress(SL_COMPRESSION_SNAPPY, 0, "abc", 3, &z), 0);
  assert_int_equal(sl_compress(SL_COMPRESSION_SNAPPY, 0, "defg", 4, &z), 0);
  d.len = 0;
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, z.data, z.len, 7, &d, NULL), 0);
  assert_int_equal(d.len, 7);
  assert_memory_equal(d.data, "abcdefg", 7);
  sl_buf_release(&z);
  sl_buf_release(&d);
}

/* 100 MB of zeros, decoded with a 1 MiB limit, stops early. */
static void test_bombs(void **state) {
  (void)state;
  size_t n = 100 * 1000 * 1000;
  uint8_t *zeros = calloc(1, n);
  assert_non_null(zeros);
  for (size_t c = 1; c < N_CODECS; c++) {
    sl_compression codec = all_codecs[c];
    sl_buf z = SL_BUF_INIT;
    assert_int_equal(
        sl_compress(codec, codec == SL_COMPRESSION_ZSTD ? 3 : 1, zeros, n, &z), 0);
    assert_true(z.len < n / 20);
    sl_buf d = SL_BUF_INIT;
    assert_int_equal(sl_buf_append(&d, "keep", 4), 0);
    sl_diag diag;
    sl_diag_clear(&diag);
    int rc = sl_decompress(codec, z.data, z.len, MIB, &d, &diag);
    if (rc != SL_ETOO_LARGE)
      fail_msg("%s bomb gave %d: %s", sl_compression_name(codec), rc, diag.msg);
    assert_int_equal(diag.err, SL_ETOO_LARGE);
    assert_int_equal(d.len, 4);
    assert_memory_equal(d.data, "keep", 4);
    assert_true(d.cap <= 4 * MIB); /* never near 100 MB */
    if (codec == SL_COMPRESSION_LZ4) {
      d.len = 0;
      assert_int_equal(sl_decompress_lz4_legacy(z.data, z.len, MIB, &d, NULL),
                       SL_ETOO_LARGE);
    }
    sl_buf_release(&z);
    sl_buf_release(&d);
  }
  free(zeros);

  sl_buf d = SL_BUF_INIT;
  /* A raw snappy block announcing 100 MB in its varint, checked before any
   * allocation. */
  const uint8_t snappy_lie[] = {0x80, 0xc2, 0xd7, 0x2f, 0x00, 0x00};
  assert_int_equal(
      sl_decompress(SL_COMPRESSION_SNAPPY, snappy_lie, sizeof(snappy_lie), MIB, &d, NULL),
      SL_ETOO_LARGE);
  assert_int_equal(d.cap, 0);
  /* A zstd frame header announcing 2^40 bytes. */
  const uint8_t zstd_lie[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00};
  assert_int_equal(
      sl_decompress(SL_COMPRESSION_ZSTD, zstd_lie, sizeof(zstd_lie), MIB, &d, NULL),
      SL_ETOO_LARGE);
  assert_int_equal(d.cap, 0);
  /* A zstd window of 2^28 is over zstd's (and zstd-jni's) 2^27 limit. */
  uint8_t *w28;
  size_t w28n = unhex_alloc("28b52ffd0090fd0000a068656c6c6f206b61666b612c207365676c6f6721"
                            "031004e808843300fb02",
                            &w28);
  sl_diag diag;
  sl_diag_clear(&diag);
  assert_int_equal(sl_decompress(SL_COMPRESSION_ZSTD, w28, w28n, MIB, &d, &diag),
                   SL_ETOO_LARGE);
  assert_non_null(strstr(diag.msg, "window"));
  free(w28);
  /* Uncompressed data is bounded too. */
  assert_int_equal(sl_decompress(SL_COMPRESSION_NONE, "abcdef", 6, 5, &d, NULL),
                   SL_ETOO_LARGE);
  sl_buf_release(&d);
}

/* Damage that every reader must report, and random damage that must never crash. */
static void test_corruption(void **state) {
  (void)state;
  size_t n = 20000;
  uint8_t *data = malloc(n);
  assert_non_null(data);
  fill_compressible(data, n, 5);
  for (size_t c = 1; c < N_CODECS; c++) {
    sl_compression codec = all_codecs[c];
    sl_buf z = SL_BUF_INIT, d = SL_BUF_INIT;
    assert_int_equal(sl_compress(codec, SL_COMPRESSION_LEVEL_DEFAULT, data, n, &z), 0);
    uint8_t *bad = malloc(z.len + 8);
    assert_non_null(bad);

    /* Trailing garbage after a complete stream. */
    memcpy(bad, z.data, z.len);
    memcpy(bad + z.len, "garbage!", 8);
    sl_diag diag;
    sl_diag_clear(&diag);
    int rc = sl_decompress(codec, bad, z.len + 8, 2 * n, &d, &diag);
    assert_int_equal(rc, SL_ECORRUPT);
    assert_int_equal(diag.err, SL_ECORRUPT);
    assert_true(diag.msg[0] != '\0');
    assert_int_equal(d.len, 0);

    /* Every single-byte flip (a stride of positions): error or some output
     * within the limit, never a crash or an overrun (ASan checks). */
    size_t stride = z.len > 600 ? z.len / 600 : 1;
    for (size_t pos = 0; pos < z.len; pos += stride) {
      memcpy(bad, z.data, z.len);
      bad[pos] ^= (uint8_t)(0x01 << (pos % 8));
      d.len = 0;
      rc = sl_decompress(codec, bad, z.len, n, &d, NULL);
      if (rc != 0)
        assert_int_equal(d.len, 0);
      else
        assert_true(d.len <= n);
    }
    /* Truncations: never the full output. */
    for (size_t cut = 0; cut < z.len; cut += stride) {
      d.len = 0;
      rc = sl_decompress(codec, z.data, cut, n, &d, NULL);
      if (rc == 0)
        assert_true(codec == SL_COMPRESSION_SNAPPY && d.len < n);
    }
    free(bad);
    sl_buf_release(&z);
    sl_buf_release(&d);
  }
  free(data);

  /* Specific damage with a known answer. */
  sl_buf z = SL_BUF_INIT, d = SL_BUF_INIT;
  assert_int_equal(sl_compress(SL_COMPRESSION_GZIP, 6, "hello", 5, &z), 0);
  z.data[z.len - 8] ^= 1; /* gzip CRC-32 */
  assert_int_equal(sl_decompress(SL_COMPRESSION_GZIP, z.data, z.len, 100, &d, NULL),
                   SL_ECORRUPT);
  z.data[z.len - 8] ^= 1;
  z.data[z.len - 1] ^= 1; /* gzip ISIZE */
  assert_int_equal(sl_decompress(SL_COMPRESSION_GZIP, z.data, z.len, 100, &d, NULL),
                   SL_ECORRUPT);
  assert_int_equal(sl_decompress(SL_COMPRESSION_GZIP, "", 0, 100, &d, NULL), SL_ECORRUPT);
  assert_int_equal(sl_decompress(SL_COMPRESSION_LZ4, "", 0, 100, &d, NULL), SL_ECORRUPT);
  assert_int_equal(sl_decompress(SL_COMPRESSION_ZSTD, "", 0, 100, &d, NULL), SL_ECORRUPT);
  /* xerial chunk lengths: negative, longer than the input. */
  uint8_t x[16 + 4 + 2];
  memcpy(x, xerial_header, 16);
  const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe, 0x00, 0x00};
  memcpy(x + 16, neg, 6);
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, x, sizeof(x), 100, &d, NULL),
                   SL_ECORRUPT);
  const uint8_t longer[] = {0x00, 0x00, 0x00, 0x03, 0x01, 0x00};
  memcpy(x + 16, longer, 6);
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, x, sizeof(x), 100, &d, NULL),
                   SL_ECORRUPT);
  /* 1-3 stray bytes after the last chunk. */
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, x, 18, 100, &d, NULL),
                   SL_ECORRUPT);
  /* Zero-length chunk. */
  const uint8_t zero[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  memcpy(x + 16, zero, 6);
  assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, x, 20, 100, &d, NULL),
                   SL_ECORRUPT);
  assert_int_equal(d.len, 0);
  sl_buf_release(&z);
  sl_buf_release(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_roundtrip_sizes),
      cmocka_unit_test(test_levels),
      cmocka_unit_test(test_gzip_framing),
      cmocka_unit_test(test_snappy_framing),
      cmocka_unit_test(test_lz4_framing),
      cmocka_unit_test(test_zstd_framing),
      cmocka_unit_test(test_known_streams),
      cmocka_unit_test(test_lz4_legacy_header_checksum),
      cmocka_unit_test(test_snappy_raw_fallback),
      cmocka_unit_test(test_bombs),
      cmocka_unit_test(test_corruption),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
