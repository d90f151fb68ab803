/*
 * group_store.h - the GroupMetadataValue record of a classic group, as Kafka
 * stores it in __consumer_offsets (group_store.c; docs/GROUPS.md).
 */
#ifndef SD_GROUP_STORE_H
#define SD_GROUP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "group_int.h"

/* The version Kafka writes (MetadataVersion.groupMetadataValueVersion). */
#define SDG_STORE_VERSION 3

/* Encodes g (version prefix included) into a malloc'd buffer.  SL_OK or SL_E*. */
int sdg_store_encode(const sdg_group *g, uint8_t **out, size_t *out_len);

/*
 * Decodes a stored value (version prefix included, versions 0-4).  Strings
 * and bytes in *out borrow from v; arrays come from `arena` (the caller's,
 * released after use).  0, or -1 if the value does not decode.
 */
int sdg_store_decode(const uint8_t *v, size_t len, kp_arena *arena,
                     sdg_stored_group *out);

#endif
