/*
 * fuzz_sdtopicconf.c - libFuzzer target for the stored per-topic configs
 * (topicconf.c, docs/BROKER.md "Per-topic configs"): the file text through
 * sd_tcfile_parse, then every topic's overrides through the effective-config
 * computation, copy/compare and IncrementalAlterConfigs-style edits.
 */
#include <stddef.h>
#include <stdint.h>

#include "topicconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sd_tcfile f;
  char err[512];
  if (sd_tcfile_parse((const char *)data, size, "fuzz", &f, err, sizeof(err)) != 0)
    return 0;
  sl_log_config base;
  sl_log_config_init(&base);
  for (int i = 0; i < f.n; i++) {
    sl_log_config out;
    sd_topicconf_apply(&f.t[i].conf, &base, &out, err, sizeof(err));
    sd_topicconf copy;
    if (sd_topicconf_copy(&copy, &f.t[i].conf) != 0)
      continue;
    if (!sd_topicconf_equal(&copy, &f.t[i].conf))
      __builtin_trap();
    for (int j = 0; j < f.t[i].conf.n; j++)
      sd_topicconf_set(&copy, f.t[i].conf.e[j].key, f.t[i].conf.e[j].value, err,
                       sizeof(err));
    if (!sd_topicconf_equal(&copy, &f.t[i].conf))
      __builtin_trap();
    if (copy.n > 0)
      sd_topicconf_unset(&copy, copy.e[0].key);
    sd_topicconf_release(&copy);
  }
  sd_tcfile_release(&f);
  return 0;
}
