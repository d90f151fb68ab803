/*
 * fuzz_sdgroup.c - libFuzzer target for what the group coordinator's
 * membership half reads from disk and from members: a stored
 * GroupMetadataValue (group_store.c) is decoded, replayed into a coordinator
 * (group.c), driven through its deadlines and encoded again; the bytes are
 * also read as a consumer-protocol subscription (docs/GROUPS.md).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "group_int.h"
#include "group_store.h"
#include "sdlog.h"

static void no_join(void *ctx, void *waiter, const sdg_join_result *r) {
  (void)ctx;
  (void)waiter;
  (void)r;
}

static void no_sync(void *ctx, void *waiter, const sdg_sync_result *r) {
  (void)ctx;
  (void)waiter;
  (void)r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sd_log_set_level(SD_LOG_ERROR);
  (void)sdg_subscription_has_topic(data, (int32_t)(size > INT32_MAX ? INT32_MAX : size),
                                   KP_STR("t"));
  sdg_config cfg = {6000, 1800000, 0, 3};
  sdg_hooks hooks = {NULL, no_join, no_sync, NULL, NULL, NULL};
  sdg_coord *c = sdg_new(&cfg, &hooks);
  if (c == NULL)
    return 0;
  kp_arena arena;
  kp_arena_init(&arena, size * 8 + 4096);
  sdg_stored_group sg;
  if (sdg_store_decode(data, size, &arena, &sg) == 0 &&
      sdg_replay(c, KP_STR("g"), &sg, 0) == 0) {
    sdg_group *g = sdg_find(c, KP_STR("g"));
    uint8_t *v = NULL;
    size_t len = 0;
    if (g != NULL && sdg_store_encode(g, &v, &len) == 0)
      free(v);
    (void)sdg_check_offset_delete(c, KP_STR("g"), KP_STR("t"));
    sdg_tick(c, 3600000);
    sdg_tick(c, 7200000);
  }
  kp_arena_release(&arena);
  sdg_stop(c, SDG_ERR_NOT_COORDINATOR);
  sdg_free(c);
  return 0;
}
