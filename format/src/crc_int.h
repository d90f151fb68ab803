/*
 * crc_int.h - test access to each CRC-32C implementation, so that the paths
 * sl_crc32c does not choose on this CPU are still checked against the
 * portable one.
 */
#ifndef SEGLOG_CRC_INT_H
#define SEGLOG_CRC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Computes with the named implementation ("sw", "sse4.2", "armv8",
 * "avx512-vpclmulqdq"); false if it is not available on this machine. */
bool sl__crc32c_with(const char *impl, uint32_t crc, const void *data, size_t len,
                     uint32_t *out);

#endif
