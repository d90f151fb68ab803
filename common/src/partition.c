/*
 * partition.c - Kafka's Java default partitioner: murmur2 for keyed records,
 * a sticky random partition per batch for keyless ones
 * (slclient/partition.h; docs/CLI.md, "Partitioning").
 */
#include "slclient/partition.h"

int32_t sc_murmur2(const void *data, size_t len) {
  const uint8_t *p = data;
  const uint32_t m = 0x5bd1e995u;
  uint32_t h = 0x9747b28cu ^ (uint32_t)len;
  size_t n4 = len / 4;
  for (size_t i = 0; i < n4; i++) {
    const uint8_t *q = p + i * 4;
    uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                 (uint32_t)q[3] << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint8_t *tail = p + (len & ~(size_t)3);
  switch (len % 4) {
  case 3:
    h ^= (uint32_t)tail[2] << 16;
    /* fall through */
  case 2:
    h ^= (uint32_t)tail[1] << 8;
    /* fall through */
  case 1:
    h ^= tail[0];
    h *= m;
    break;
  default:
    break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return (int32_t)h;
}

int32_t sc_partition_for_key(const void *key, size_t len, int32_t num_partitions) {
  if (num_partitions <= 0)
    return 0;
  uint32_t positive = (uint32_t)sc_murmur2(key, len) & 0x7fffffffu;
  return (int32_t)(positive % (uint32_t)num_partitions);
}

static uint64_t sticky_rand(sc_sticky *s) {
  uint64_t x = s->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  s->rng = x;
  return x;
}

void sc_sticky_init(sc_sticky *s, uint64_t seed) {
  s->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
  s->current = -1;
}

int32_t sc_sticky_partition(sc_sticky *s, int32_t num_partitions) {
  if (num_partitions <= 1)
    return 0;
  if (s->current < 0 || s->current >= num_partitions)
    s->current = (int32_t)(sticky_rand(s) % (uint64_t)num_partitions);
  return s->current;
}

void sc_sticky_next_batch(sc_sticky *s, int32_t num_partitions) {
  if (num_partitions <= 1) {
    s->current = 0;
    return;
  }
  int32_t old = s->current;
  int32_t next = old;
  while (next == old)
    next = (int32_t)(sticky_rand(s) % (uint64_t)num_partitions);
  s->current = next;
}
