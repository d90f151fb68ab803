/*
 * fuzz_sdoffsets.c - libFuzzer target for what seglogd reads back from
 * __consumer_offsets at start (offsets_rec.c, offsets_mem.c): the input is a
 * sequence of records (u16 key length, key, i32 value length or -1, value)
 * applied as the replay applies them, then every group's stored metadata is
 * decoded for expiry and an expiry pass is computed.  docs/GROUPS.md,
 * "Replay".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offsets_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sd_offsets o;
  memset(&o, 0, sizeof(o));
  size_t at = 0;
  while (at + 2 <= size) {
    size_t klen = (size_t)data[at] << 8 | data[at + 1];
    at += 2;
    if (klen > size - at)
      break;
    const uint8_t *key = data + at;
    at += klen;
    if (at + 4 > size)
      break;
    int32_t vlen = (int32_t)((uint32_t)data[at] << 24 | (uint32_t)data[at + 1] << 16 |
                             (uint32_t)data[at + 2] << 8 | data[at + 3]);
    at += 4;
    const uint8_t *value = NULL;
    if (vlen >= 0) {
      if ((size_t)vlen > size - at)
        break;
      value = data + at;
      at += (size_t)vlen;
    } else {
      vlen = -1;
    }
    sd_offsets_apply(&o, key, (int32_t)klen, value, vlen);
    sd_okey k;
    sd_okey_decode(key, klen, &k);
  }
  for (uint32_t i = 0; i < o.nslots; i++) {
    for (sd_ogroup *g = o.slots[i]; g; g = g->next) {
      kp_arena a;
      kp_arena_init(&a, 1u << 20);
      sd_ometa mv;
      sd_offsets_meta_view(g, &a, &mv);
      sd_oentry **list = g->count ? malloc(sizeof(*list) * g->count) : NULL;
      if (list != NULL)
        sd_offsets_expired_of(g, &mv, INT64_MAX / 2, 60000, list, g->count);
      free(list);
      kp_arena_release(&a);
      (void)sd_offsets_meta_empty(g);
    }
  }
  sd_offsets_clear(&o);
  if (size > 0)
    (void)sd_java_string_hash((const char *)data, size);
  return 0;
}
