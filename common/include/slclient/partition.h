/*
 * slclient/partition.h - Apache Kafka's Java default partitioner, so a key lands
 * where a Java producer would put it: murmur2 of the serialized key (Kafka's
 * Utils.murmur2, seed 0x9747b28c), made positive with `& 0x7fffffff`, modulo
 * the partition count.  Keyless records use a sticky partition (KIP-480): one
 * partition for a whole batch, a new one picked at random for the next batch.
 * Documented in docs/CLI.md ("Partitioning").
 */
#ifndef SLCLIENT_PARTITION_H
#define SLCLIENT_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kafka's Utils.murmur2 (returns the Java int as int32_t). */
int32_t sc_murmur2(const void *data, size_t len);
/* toPositive(murmur2(key)) % num_partitions; num_partitions must be > 0. */
int32_t sc_partition_for_key(const void *key, size_t len, int32_t num_partitions);

/* Sticky partition choice for keyless records; caller-owned, no globals. */
typedef struct sc_sticky {
  uint64_t rng;    /* xorshift state */
  int32_t current; /* -1 until the first pick */
} sc_sticky;

/* seed: anything (0 is replaced by a fixed non-zero constant). */
void sc_sticky_init(sc_sticky *s, uint64_t seed);
/* The current sticky partition (picks one on the first call). */
int32_t sc_sticky_partition(sc_sticky *s, int32_t num_partitions);
/* A batch was completed: pick a different partition next time (when there is
 * more than one), as Kafka's StickyPartitionCache.nextPartition does. */
void sc_sticky_next_batch(sc_sticky *s, int32_t num_partitions);

#ifdef __cplusplus
}
#endif
#endif
