/*
 * legacy.c - read-only support for legacy message sets (magic 0 and 1):
 * validation with CRC-32 (IEEE).  Record iteration of legacy entries, including
 * compressed wrapper messages, lives with the batch reader in record.c.
 * Layout: docs/FORMAT.md, "Legacy message sets".
 */
#include "seglog/batch.h"
#include "seglog/crc.h"

int sl__legacy_validate(const uint8_t *entry, size_t size, sl_diag *diag);

int sl__legacy_validate(const uint8_t *entry, size_t size, sl_diag *diag) {
  /* offset(8) size(4) crc(4) magic(1) attributes(1) [timestamp(8)] key value */
  int8_t magic = (int8_t)entry[16];
  size_t min = magic == 0 ? SL_LEGACY_V0_MIN_MESSAGE : SL_LEGACY_V1_MIN_MESSAGE;
  if (size < SL_LOG_OVERHEAD + min)
    return sl_diag_set(diag, SL_ECORRUPT, SL_BATCH_OFF_LENGTH,
                       "magic %d message of %zu bytes is below the minimum %zu", magic,
                       size - SL_LOG_OVERHEAD, min);
  uint32_t stored = sl_load_be32(entry + 12);
  uint32_t crc = sl_crc32_ieee(0, entry + 16, size - 16);
  if (stored != crc)
    return sl_diag_set(diag, SL_ECRC, 12, "CRC-32 stored 0x%08x, computed 0x%08x", stored,
                       crc);
  return SL_OK;
}
