/*
 * fuzz_sdprops.c - libFuzzer target for seglogd's configuration input: the
 * Java-properties parser, then every entry through sd_config_set and the
 * derived-value checks (docs/BROKER.md, "Configuration").
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

static int apply(void *ctx, const char *key, const char *value, int line) {
  char err[512];
  (void)line;
  sd_config_set(ctx, key, value, err, sizeof(err));
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sd_config c;
  char err[512];
  if (sd_config_init(&c) != 0)
    return 0;
  if (sd_props_parse((const char *)data, size, apply, &c, err, sizeof(err)) == 0)
    sd_config_finish(&c, err, sizeof(err));
  sd_config_release(&c);
  return 0;
}
