/*
 * seglog/crc.h - CRC-32C (Castagnoli), as Kafka's RecordBatch v2 and producer
 * snapshots use it, and CRC-32 (IEEE) for legacy magic 0/1 messages.
 *
 * sl_crc32c picks a hardware path at run time: AVX-512 VPCLMULQDQ folding on
 * x86-64 CPUs that have it (for buffers of 1 KiB and more), else the SSE4.2
 * crc32 instruction on three interleaved lanes, the ARMv8 CRC extension on
 * aarch64, and a portable slicing-by-8 table implementation everywhere else.
 * All give identical results.
 */
#ifndef SEGLOG_CRC_H
#define SEGLOG_CRC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Chains like zlib's crc32(): start with crc = 0, feed pieces in order.
 * sl_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t sl_crc32c(uint32_t crc, const void *data, size_t len);
/* The portable implementation, always available (for tests and benchmarks). */
uint32_t sl_crc32c_sw(uint32_t crc, const void *data, size_t len);
/* Name of the implementation sl_crc32c uses here: "avx512-vpclmulqdq",
 * "sse4.2", "armv8" or "sw". */
const char *sl_crc32c_impl(void);

/* CRC-32 (IEEE 802.3, java.util.zip.CRC32), same chaining convention. */
uint32_t sl_crc32_ieee(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
