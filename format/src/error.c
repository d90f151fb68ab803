/*
 * error.c - messages and names for the SL_ERR_MAP error list, and sl_diag helpers.
 * See seglog/error.h.
 */
#include "seglog/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sl_strerror(int err) {
  switch (err) {
  case SL_OK:
    return "success";
#define SL__ERR_MSG(name, msg)                                                           \
  case SL_E##name:                                                                       \
    return msg;
    SL_ERR_MAP(SL__ERR_MSG)
#undef SL__ERR_MSG
  default:
    return "unknown error";
  }
}

const char *sl_errname(int err) {
  switch (err) {
  case SL_OK:
    return "OK";
#define SL__ERR_NAME(name, msg)                                                          \
  case SL_E##name:                                                                       \
    return #name;
    SL_ERR_MAP(SL__ERR_NAME)
#undef SL__ERR_NAME
  default:
    return "UNKNOWN";
  }
}

void sl_diag_clear(sl_diag *d) {
  if (d == NULL)
    return;
  /* Callers clear a diag per batch or per record on hot paths: reset the
   * fields, not the 780 bytes of buffers (the strings only need their NUL). */
  d->err = 0;
  d->pos = -1;
  d->path[0] = '\0';
  d->msg[0] = '\0';
}

int sl_diag_set(sl_diag *d, int err, int64_t pos, const char *fmt, ...) {
  if (d == NULL)
    return err;
  d->err = err;
  d->pos = pos;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
  va_end(ap);
  return err;
}

void sl_diag_set_path(sl_diag *d, const char *path) {
  if (d == NULL)
    return;
  size_t n = path ? strlen(path) : 0;
  if (n >= sizeof(d->path))
    n = sizeof(d->path) - 1;
  if (n)
    memcpy(d->path, path, n);
  d->path[n] = '\0';
}

const char *sl_diag_format(const sl_diag *d, char *buf, size_t cap) {
  if (cap == 0)
    return buf;
  if (d == NULL) {
    buf[0] = '\0';
    return buf;
  }
  char where[96] = "";
  if (d->pos >= 0)
    snprintf(where, sizeof(where), "at byte %lld: ", (long long)d->pos);
  snprintf(buf, cap, "%s%s%s%s (%s)", d->path, d->path[0] ? ": " : "", where,
           d->msg[0] ? d->msg : sl_strerror(d->err), sl_errname(d->err));
  return buf;
}
