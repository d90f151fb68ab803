/*
 * slclient/base64.h - RFC 4648 base64 (standard alphabet, '=' padding), as the
 * record envelope (slclient/envelope.h) uses it for binary keys, values and
 * headers, and as `seglog consume -f '%bs'` prints it.  Documented in
 * docs/CLI.md ("Record envelope").
 */
#ifndef SLCLIENT_BASE64_H
#define SLCLIENT_BASE64_H

#include <stddef.h>

#include "seglog/bytes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Length of the encoding of n bytes (with padding). */
size_t sc_base64_encoded_len(size_t n);
/* Appends the padded encoding of [in, in+n) to out.  0 or SL_ENOMEM. */
int sc_base64_encode(const void *in, size_t n, sl_buf *out);
/*
 * Decodes [in, in+n) and appends the bytes to out.  Accepts the standard
 * alphabet with or without '=' padding (a length of 1 mod 4 is an error);
 * whitespace and the URL-safe alphabet are NOT accepted, and the unused low
 * bits of the last character must be zero (so encode and decode round-trip
 * exactly).  On error out->len is restored and SL_EINVAL returned.
 */
int sc_base64_decode(const char *in, size_t n, sl_buf *out);

#ifdef __cplusplus
}
#endif
#endif
