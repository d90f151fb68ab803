/*
 * fs_render.h - how seglogfs renders one record in each view (docs/FUSE.md,
 * "Views"): data (value + newline), data.lp (4-byte big-endian length, -1 for
 * a null value, then the value) and records.jsonl (the JSON record envelope,
 * one object per line).
 */
#ifndef SEGLOGFS_RENDER_H
#define SEGLOGFS_RENDER_H

#include <stdint.h>

#include "seglog/batch.h"
#include "seglog/bytes.h"

/* Length of the record in the data / data.lp views (no rendering needed). */
int64_t fs_render_data_len(const sl_record *rec);
int64_t fs_render_lp_len(const sl_record *rec);
/* Appends the rendering to out; returns 0 or SL_ENOMEM. */
int fs_render_data(sl_buf *out, const sl_record *rec);
int fs_render_lp(sl_buf *out, const sl_record *rec);
/* The JSON envelope of `seglog consume -J` ({"topic","partition","offset",
 * "tstype","ts","broker","headers","key","payload"}) + '\n'. */
int fs_render_jsonl(sl_buf *out, const char *topic, int32_t partition,
                    const sl_batch_header *h, const sl_record *rec);

#endif
