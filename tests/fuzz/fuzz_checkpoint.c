/*
 * fuzz_checkpoint.c - libFuzzer target for the text parsers of a Kafka data
 * dir: offset and leader-epoch checkpoints, partition.metadata,
 * meta.properties, the clean-shutdown marker and partition dir names
 * (docs/FORMAT.md, "Checkpoint files", "partition.metadata",
 * "meta.properties").  The first byte picks the parser; whatever parses must
 * format and parse back to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seglog/checkpoint.h"
#include "seglog/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void offsets(const uint8_t *p, size_t n) {
  sl_offset_checkpoint c, back;
  sl_buf b = SL_BUF_INIT;
  sl_offset_checkpoint_init(&c);
  sl_offset_checkpoint_init(&back);
  if (sl_offset_checkpoint_parse(p, n, &c, NULL) == SL_OK) {
    if (sl_offset_checkpoint_format(&c, &b) != SL_OK)
      abort();
    if (sl_offset_checkpoint_parse(b.data, b.len, &back, NULL) != SL_OK)
      abort();
    if (back.count != c.count)
      abort();
    for (size_t i = 0; i < c.count; i++)
      if (strcmp(c.entries[i].topic, back.entries[i].topic) != 0 ||
          c.entries[i].partition != back.entries[i].partition ||
          c.entries[i].offset != back.entries[i].offset)
        abort();
  }
  sl_buf_release(&b);
  sl_offset_checkpoint_release(&c);
  sl_offset_checkpoint_release(&back);
}

static void epochs(const uint8_t *p, size_t n) {
  sl_epoch_entry *e = NULL, *e2 = NULL;
  size_t ne = 0, ne2 = 0;
  sl_buf b = SL_BUF_INIT;
  if (sl_epoch_checkpoint_parse(p, n, &e, &ne, NULL) == SL_OK) {
    if (sl_epoch_checkpoint_format(e, ne, &b) != SL_OK)
      abort();
    if (sl_epoch_checkpoint_parse(b.data, b.len, &e2, &ne2, NULL) != SL_OK || ne2 != ne)
      abort();
    for (size_t i = 0; i < ne; i++)
      if (e[i].epoch != e2[i].epoch || e[i].start_offset != e2[i].start_offset)
        abort();
  }
  free(e);
  free(e2);
  sl_buf_release(&b);
}

static void partition_metadata(const uint8_t *p, size_t n) {
  sl_uuid u, u2;
  sl_buf b = SL_BUF_INIT;
  if (sl_partition_metadata_parse(p, n, NULL, &u, NULL) == SL_OK) {
    if (sl_uuid_is_zero(&u) || sl_partition_metadata_format(&u, &b) != SL_OK)
      abort();
    if (sl_partition_metadata_parse(b.data, b.len, NULL, &u2, NULL) != SL_OK ||
        !sl_uuid_equal(&u, &u2))
      abort();
  }
  sl_buf_release(&b);
}

static void meta_properties(const uint8_t *p, size_t n) {
  sl_meta_properties m, m2;
  sl_buf b = SL_BUF_INIT;
  if (sl_meta_properties_parse(p, n, &m, NULL) == SL_OK) {
    /* values with non-ASCII or control bytes cannot be written back */
    if (sl_meta_properties_format(&m, 0, &b) == SL_OK) {
      if (sl_meta_properties_parse(b.data, b.len, &m2, NULL) != SL_OK)
        abort();
      if (m.version != m2.version || m.has_node_id != m2.has_node_id ||
          m.node_id != m2.node_id || m.has_cluster_id != m2.has_cluster_id ||
          strcmp(m.cluster_id, m2.cluster_id) != 0 ||
          m.has_directory_id != m2.has_directory_id ||
          (m.has_directory_id && !sl_uuid_equal(&m.directory_id, &m2.directory_id)))
        abort();
    }
  }
  sl_buf_release(&b);
}

static void misc(const uint8_t *p, size_t n) {
  int64_t epoch;
  sl_clean_shutdown_parse(p, n, &epoch);
  char name[300];
  size_t k = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
  memcpy(name, p, k);
  name[k] = '\0';
  sl_pdir_name pd;
  if (sl_pdir_name_parse(name, &pd, NULL) == SL_OK) {
    char again[300];
    int rc = pd.kind == SL_PDIR_NORMAL
                 ? sl_pdir_name_format(pd.topic, pd.partition, again, sizeof(again))
                 : sl_pdir_name_format_suffixed(pd.topic, pd.partition, pd.kind,
                                                pd.unique_id, again, sizeof(again));
    sl_pdir_name pd2;
    if (rc == SL_OK && (sl_pdir_name_parse(again, &pd2, NULL) != SL_OK ||
                        pd2.partition != pd.partition || pd2.kind != pd.kind))
      abort();
  }
  sl_uuid u;
  if (sl_uuid_parse(name, k, &u) == SL_OK) {
    char s[SL_UUID_STR_LEN + 1];
    sl_uuid_to_string(&u, s);
    if (memcmp(s, name, SL_UUID_STR_LEN) != 0)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  switch (data[0] % 5) {
  case 0:
    offsets(p, n);
    break;
  case 1:
    epochs(p, n);
    break;
  case 2:
    partition_metadata(p, n);
    break;
  case 3:
    meta_properties(p, n);
    break;
  default:
    misc(p, n);
    break;
  }
  return 0;
}
