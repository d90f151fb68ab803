/*
 * fuzz_decompress.c - libFuzzer target for the codec readers (compress.c,
 * docs/FORMAT.md "Compression").  The first input byte picks the reader
 * (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd, 5 legacy magic-0 lz4; modulo 6),
 * the rest is the stream; output is bounded at 1 MiB.  Whatever decodes must
 * also survive a round trip through the same codec's writer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/compress.h"

#define FUZZ_MAX_OUT ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int pick = data[0] % 6;
  const uint8_t *in = data + 1;
  size_t len = size - 1;
  sl_buf out = SL_BUF_INIT, z = SL_BUF_INIT, back = SL_BUF_INIT;
  sl_diag diag;
  sl_diag_clear(&diag);
  if (sl_buf_append(&out, "x", 1) != 0)
    abort();
  sl_compression codec = pick == 5 ? SL_COMPRESSION_LZ4 : (sl_compression)pick;
  int rc = pick == 5 ? sl_decompress_lz4_legacy(in, len, FUZZ_MAX_OUT, &out, &diag)
                     : sl_decompress(codec, in, len, FUZZ_MAX_OUT, &out, &diag);
  if (rc != 0) {
    /* Errors restore the length and always say something. */
    if (out.len != 1 || (rc != SL_ENOMEM && diag.msg[0] == '\0'))
      abort();
    goto done;
  }
  if (out.len - 1 > FUZZ_MAX_OUT || out.data[0] != 'x')
    abort();
  /* Round trip what was decoded. */
  if (sl_compress(codec, 1, out.data + 1, out.len - 1, &z) != 0)
    abort();
  if (sl_decompress(codec, z.data, z.len, out.len - 1, &back, NULL) != 0)
    abort();
  if (back.len != out.len - 1 || (back.len && memcmp(back.data, out.data + 1, back.len)))
    abort();
done:
  sl_buf_release(&out);
  sl_buf_release(&z);
  sl_buf_release(&back);
  return 0;
}
