/*
 * fuzz_sdrecompress.c - libFuzzer target for broker-side recompression
 * (recompress.c): produced record batches rebuilt in every target codec; a
 * rebuilt result must itself be valid batches (docs/BROKER.md, "APIs").
 */
#include <stdlib.h>
#include <string.h>

#include "recompress.h"
#include "seglog/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sl_compression targets[] = {SL_COMPRESSION_NONE, SL_COMPRESSION_GZIP,
                                           SL_COMPRESSION_SNAPPY, SL_COMPRESSION_LZ4,
                                           SL_COMPRESSION_ZSTD};
  if (size < 1)
    return 0;
  sl_compression target = targets[data[0] % 5];
  uint8_t *out = NULL;
  size_t out_len = 0;
  sl_diag diag;
  sl_diag_clear(&diag);
  if (sd_recompress(data + 1, size - 1, target, &out, &out_len, &diag) == 0) {
    /* Every rebuilt batch validates. */
    size_t pos = 0;
    while (pos < out_len) {
      int64_t base;
      int32_t bsize;
      int8_t magic;
      if (sl_batch_peek(out + pos, out_len - pos, &base, &bsize, &magic) != 0 ||
          (size_t)bsize > out_len - pos ||
          sl_batch_validate(out + pos, (size_t)bsize, NULL))
        abort();
      pos += (size_t)bsize;
    }
    free(out);
  }
  return 0;
}
