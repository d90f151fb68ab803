/*
 * slclient/format.h - kcat's output format strings (`kcat -f`), compiled once
 * and rendered per record into a buffer.
 *
 *   %t topic   %p partition   %o offset   %T timestamp (ms)   %k key
 *   %K key length (-1 for null)   %s payload   %S payload length (-1 null)
 *   %R payload length as a 4-byte big-endian int32   %h headers as n=v,n=v
 *   %% a percent sign   \n \r \t \\ \0 and \xHH escapes
 *
 * Modifiers between '%' and the token (our addition, docs/CLI.md "Format
 * strings"): x = lowercase hex, b = base64 (for %k %s %h), i = the timestamp
 * as ISO 8601 UTC with milliseconds (for %T: 2023-11-14T22:13:20.000Z).
 * A null key or payload prints as the null string (empty by default, kcat's
 * -Z sets "NULL").
 */
#ifndef SLCLIENT_FORMAT_H
#define SLCLIENT_FORMAT_H

#include <stddef.h>

#include "seglog/bytes.h"
#include "seglog/error.h"
#include "slclient/envelope.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sc_format sc_format;

/* Compiles fmt (copied).  SL_EINVAL with the character position in diag->pos
 * for an unknown token, modifier or escape. */
int sc_format_compile(const char *fmt, sc_format **out, sl_diag *diag);
void sc_format_free(sc_format *f); /* NULL ok */
/* What a null key, payload or header value prints as (copied; default ""). */
int sc_format_set_null(sc_format *f, const char *null_str);
/* Appends the rendering of r to out.  0 or SL_ENOMEM. */
int sc_format_render(const sc_format *f, const sc_record *r, sl_buf *out);
/* Appends ms since the epoch as ISO 8601 UTC with milliseconds ("-1" stays
 * as is for no timestamp). */
int sc_format_iso_time(int64_t ms, sl_buf *out);

#ifdef __cplusplus
}
#endif
#endif
