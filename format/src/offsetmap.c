/*
 * offsetmap.c - the cleaner's dedupe map (Kafka's SkimpyOffsetMap): key hash
 * -> latest offset, in a fixed open-addressing table sized by
 * log.cleaner.dedupe.buffer.size, and the 128-bit key hash it uses
 * (MurmurHash3 x64_128; the choice and its collision risk are explained in
 * cleaner_int.h).  Design: docs/FORMAT.md, "Log compaction".
 */
#include <stdlib.h>
#include <string.h>

#include "cleaner_int.h"

static uint64_t rotl64(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}

static uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

static uint64_t load_le64(const uint8_t *p) {
  return (uint64_t)sl_load_le32(p) | (uint64_t)sl_load_le32(p + 4) << 32;
}

void sl__hash128(const void *key, size_t len, uint64_t out[2]) {
  const uint8_t *p = key;
  const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  uint64_t h1 = 0, h2 = 0;
  size_t nblocks = len / 16;
  for (size_t i = 0; i < nblocks; i++) {
    uint64_t k1 = load_le64(p + i * 16), k2 = load_le64(p + i * 16 + 8);
    k1 *= c1;
    k1 = rotl64(k1, 31);
    k1 *= c2;
    h1 ^= k1;
    h1 = rotl64(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= c2;
    k2 = rotl64(k2, 33);
    k2 *= c1;
    h2 ^= k2;
    h2 = rotl64(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }
  const uint8_t *tail = p + nblocks * 16;
  size_t rest = len & 15;
  uint64_t k1 = 0, k2 = 0;
  for (size_t i = rest; i > 8; i--)
    k2 ^= (uint64_t)tail[i - 1] << (8 * (i - 9));
  if (rest > 8) {
    k2 *= c2;
    k2 = rotl64(k2, 33);
    k2 *= c1;
    h2 ^= k2;
  }
  size_t lo = rest > 8 ? 8 : rest;
  for (size_t i = lo; i > 0; i--)
    k1 ^= (uint64_t)tail[i - 1] << (8 * (i - 1));
  if (rest > 0) {
    k1 *= c1;
    k1 = rotl64(k1, 31);
    k1 *= c2;
    h1 ^= k1;
  }
  h1 ^= (uint64_t)len;
  h2 ^= (uint64_t)len;
  h1 += h2;
  h2 += h1;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 += h2;
  h2 += h1;
  out[0] = h1;
  out[1] = h2;
}

int sl__offset_map_init(sl__offset_map *m, int64_t memory_bytes, double load_factor) {
  memset(m, 0, sizeof(*m));
  m->latest_offset = -1;
  if (memory_bytes < SL__OMAP_SLOT_BYTES || !(load_factor > 0.0 && load_factor <= 1.0))
    return SL_EINVAL;
  uint64_t n = (uint64_t)memory_bytes / SL__OMAP_SLOT_BYTES;
  if (n > SIZE_MAX / sizeof(sl__omap_slot))
    return SL_EINVAL;
  size_t max = (size_t)((double)n * load_factor);
  if (max >= n) /* keep one slot free so that every probe ends */
    max = (size_t)n - 1;
  if (max == 0)
    return SL_EINVAL;
  /* calloc: pages the map never touches are never faulted in, so a 128 MiB
   * budget costs little on a small log. */
  m->slots = calloc((size_t)n, sizeof(sl__omap_slot));
  if (m->slots == NULL)
    return SL_ENOMEM;
  m->nslots = (size_t)n;
  m->max_entries = max;
  return SL_OK;
}

void sl__offset_map_release(sl__offset_map *m) {
  free(m->slots);
  m->slots = NULL;
  m->nslots = m->size = 0;
}

void sl__offset_map_clear(sl__offset_map *m) {
  if (m->size > 0)
    memset(m->slots, 0, m->nslots * sizeof(sl__omap_slot));
  m->size = 0;
  m->latest_offset = -1;
  m->probes = m->lookups = 0;
}

bool sl__offset_map_full(const sl__offset_map *m) {
  return m->size >= m->max_entries;
}

/* Linear probing from h1; returns the slot holding the hash or the first
 * empty one (the table always has a free slot: max_entries < nslots and put
 * refuses new keys at max_entries). */
static sl__omap_slot *find_slot(sl__offset_map *m, const uint64_t h[2]) {
  size_t i = (size_t)(h[0] % m->nslots);
  m->lookups++;
  for (;;) {
    sl__omap_slot *s = &m->slots[i];
    m->probes++;
    if (s->offset_plus_1 == 0 || (s->h1 == h[0] && s->h2 == h[1]))
      return s;
    i = i + 1 == m->nslots ? 0 : i + 1;
  }
}

int sl__offset_map_put(sl__offset_map *m, const void *key, size_t len, int64_t offset) {
  uint64_t h[2];
  sl__hash128(key, len, h);
  sl__omap_slot *s = find_slot(m, h);
  if (s->offset_plus_1 == 0) {
    if (m->size >= m->max_entries)
      return SL_ETOO_LARGE;
    s->h1 = h[0];
    s->h2 = h[1];
    m->size++;
  }
  s->offset_plus_1 = offset + 1;
  m->latest_offset = offset;
  return SL_OK;
}

int64_t sl__offset_map_get(sl__offset_map *m, const void *key, size_t len) {
  if (m->size == 0)
    return -1;
  uint64_t h[2];
  sl__hash128(key, len, h);
  sl__omap_slot *s = find_slot(m, h);
  return s->offset_plus_1 - 1;
}

void sl__offset_map_update_latest(sl__offset_map *m, int64_t offset) {
  m->latest_offset = offset;
}
