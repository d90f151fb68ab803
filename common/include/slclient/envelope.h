/*
 * slclient/envelope.h - the JSON record envelope of `seglog consume -J` and
 * `seglog produce -J` (and the FUSE mount's records.jsonl): kcat's -J shape,
 * one object per line,
 *
 *   {"topic":"t","partition":0,"offset":5,"tstype":"create","ts":1700000000000,
 *    "broker":-1,"headers":["name","value",...],"key":"k","payload":"v"}
 *
 * with three rules kcat lacks, so that a consume -J | produce -J pipeline
 * copies records exactly (docs/CLI.md, "Record envelope"):
 *  - null and empty differ: a null key/payload/header value is JSON null, an
 *    empty one is "";
 *  - bytes that are not valid UTF-8 are written as {"base64":"..."} in place
 *    of the string (key, payload, header names and values);
 *  - "headers" is omitted when the record has none (as kcat does).
 * tstype is "create", "logappend" or "none" (timestamp -1).
 */
#ifndef SLCLIENT_ENVELOPE_H
#define SLCLIENT_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seglog/batch.h"
#include "seglog/bytes.h"
#include "seglog/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sc_tstype {
  SC_TSTYPE_NONE = 0,
  SC_TSTYPE_CREATE = 1,
  SC_TSTYPE_LOGAPPEND = 2
} sc_tstype;

/* One record with its coordinates.  All pointers are borrowed. */
typedef struct sc_record {
  const char *topic; /* NULL = unknown (omitted on encode) */
  size_t topic_len;
  int32_t partition; /* -1 = unknown */
  int64_t offset;    /* -1 = unknown */
  sc_tstype tstype;
  int64_t timestamp; /* -1 = none */
  int32_t broker;    /* -1 offline */
  const uint8_t *key;
  int32_t key_len; /* -1 = null */
  const uint8_t *value;
  int32_t value_len; /* -1 = null */
  const sl_header *headers;
  int32_t header_count;
} sc_record;

/* A record with every field unknown / null. */
void sc_record_init(sc_record *r);

/* True when [p, p+n) is well-formed UTF-8 (no overlongs, no surrogates, at
 * most U+10FFFF). */
bool sc_utf8_valid(const uint8_t *p, size_t n);

/* Appends a JSON string for the bytes (escaped), or {"base64":"..."} when they
 * are not valid UTF-8, or null when len is -1. */
int sc_json_bytes(sl_buf *out, const uint8_t *p, int32_t len);

/* Appends the envelope object for r (no trailing newline).  0 or SL_ENOMEM. */
int sc_envelope_encode(const sc_record *r, sl_buf *out);

/* Decoder state: owns the decoded bytes of the last record. */
typedef struct sc_envelope_decoder sc_envelope_decoder;

int sc_envelope_decoder_new(sc_envelope_decoder **out);
void sc_envelope_decoder_free(sc_envelope_decoder *d); /* NULL ok */

/*
 * Decodes one envelope object from [p, p+n) (surrounding whitespace allowed,
 * nothing else after the object).  Missing fields stay unknown/null as in
 * sc_record_init; unknown fields are skipped.  Strings are decoded with all
 * JSON escapes (\uXXXX with surrogate pairs to UTF-8); {"base64":"..."} objects
 * to their bytes.  "headers" must be an array of an even number of elements,
 * names not null.  SL_EINVAL with the byte position in diag->pos for malformed
 * input.  Pointers in *r are owned by the decoder and valid until the next
 * decode or free.
 */
int sc_envelope_decode(sc_envelope_decoder *d, const char *p, size_t n, sc_record *r,
                       sl_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
