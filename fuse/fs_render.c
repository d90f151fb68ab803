/*
 * fs_render.c - renders one record for the data, data.lp and records.jsonl
 * views of seglogfs (docs/FUSE.md, "Views").  The JSON envelope is the one
 * `seglog consume -J` writes, from the shared client library
 * (slclient/envelope.h).
 */
#include "fs_render.h"

#include <string.h>

#include "slclient/envelope.h"

int64_t fs_render_data_len(const sl_record *rec) {
  return (rec->value_len > 0 ? rec->value_len : 0) + 1;
}

int64_t fs_render_lp_len(const sl_record *rec) {
  return 4 + (rec->value_len > 0 ? rec->value_len : 0);
}

int fs_render_data(sl_buf *out, const sl_record *rec) {
  if (rec->value_len > 0)
    sl_buf_append(out, rec->value, (size_t)rec->value_len);
  sl_buf_u8(out, '\n');
  return out->err;
}

int fs_render_lp(sl_buf *out, const sl_record *rec) {
  sl_buf_i32(out, rec->value_len < 0 ? -1 : rec->value_len);
  if (rec->value_len > 0)
    sl_buf_append(out, rec->value, (size_t)rec->value_len);
  return out->err;
}

int fs_render_jsonl(sl_buf *out, const char *topic, int32_t partition,
                    const sl_batch_header *h, const sl_record *rec) {
  sc_record r;
  sc_record_init(&r);
  r.topic = topic;
  r.topic_len = strlen(topic);
  r.partition = partition;
  r.offset = rec->offset;
  if (rec->timestamp < 0)
    r.tstype = SC_TSTYPE_NONE;
  else if (h->magic >= 1 && (h->attributes & SL_ATTR_LOG_APPEND_TIME))
    r.tstype = SC_TSTYPE_LOGAPPEND;
  else
    r.tstype = SC_TSTYPE_CREATE;
  r.timestamp = rec->timestamp;
  r.broker = -1;
  r.key = rec->key;
  r.key_len = rec->key_len;
  r.value = rec->value;
  r.value_len = rec->value_len;
  r.headers = rec->headers;
  r.header_count = rec->header_count;
  if (sc_envelope_encode(&r, out) != 0)
    return SL_ENOMEM;
  return sl_buf_u8(out, '\n');
}
