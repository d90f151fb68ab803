/*
 * seglog/error.h - the one error list of libseglog.
 *
 * Every libseglog function that can fail returns an int: 0 (SL_OK) on success or
 * a negative SL_E* code.  The list below generates the enum, the names and the
 * messages (as libuv's UV_ERRNO_MAP does), so they never drift apart.  The broker
 * maps these codes to Kafka wire ErrorCodes in one place.
 *
 * Errors that need detail (which file, which byte position, what was expected)
 * carry it in an optional sl_diag that the caller passes in.
 */
#ifndef SEGLOG_ERROR_H
#define SEGLOG_ERROR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, message) */
#define SL_ERR_MAP(X)                                                                    \
  X(NOMEM, "out of memory")                                                              \
  X(INVAL, "invalid argument")                                                           \
  X(IO, "I/O error")                                                                     \
  X(NOSPC, "no space left on device")                                                    \
  X(CORRUPT, "corrupt data")                                                             \
  X(CRC, "CRC mismatch")                                                                 \
  X(TRUNCATED, "incomplete data")                                                        \
  X(UNSUPPORTED, "unsupported format version or feature")                                \
  X(TOO_LARGE, "size exceeds the configured limit")                                      \
  X(NOT_FOUND, "not found")                                                              \
  X(EXISTS, "already exists")                                                            \
  X(LOCKED, "log is locked by another writer")                                           \
  X(OFFSET_OUT_OF_RANGE, "offset out of range")                                          \
  X(INVALID_OFFSET, "offsets are not increasing")                                        \
  X(INVALID_TIMESTAMP, "timestamp out of range")                                         \
  X(FAILED, "log failed after an I/O error and refuses further writes")                  \
  X(READONLY, "log was opened read-only")                                                \
  X(DUPLICATE_SEQUENCE, "duplicate producer sequence")                                   \
  X(OUT_OF_ORDER_SEQUENCE, "out of order producer sequence")                             \
  X(INVALID_PRODUCER_EPOCH, "producer epoch is older than the current one")              \
  X(UNKNOWN_PRODUCER_ID, "unknown producer id")                                          \
  X(INTERRUPTED, "operation interrupted")                                                \
  X(INVALID_TXN_STATE, "producer write is not valid in the transaction state")           \
  X(TRANSACTION_COORDINATOR_FENCED, "transaction marker from an older coordinator")      \
  X(INVALID_RECORD, "record batch is not valid for this log")

typedef enum sl_err {
  SL_OK = 0,
#define SL__ERR_ENUM(name, msg) SL_E##name,
  SL__ERR_FIRST = -1000,
  SL_ERR_MAP(SL__ERR_ENUM) SL__ERR_LAST
#undef SL__ERR_ENUM
} sl_err;

/* Short message for an error code; never NULL ("unknown error" for junk). */
const char *sl_strerror(int err);
/* The enum name without prefix, e.g. "CRC"; "OK" for 0. */
const char *sl_errname(int err);

/*
 * Detail for a failure: filled by functions that take an `sl_diag *` (which may
 * be NULL).  `path` is the file concerned (may be empty), `pos` the byte position
 * in that file or buffer (-1 if unknown), `msg` a human sentence.
 */
typedef struct sl_diag {
  int err;
  int64_t pos;
  char path[512];
  char msg[256];
} sl_diag;

/* Empty: err 0, pos -1, path and msg "" (only their first byte is written). */
void sl_diag_clear(sl_diag *d);
/* printf-style; sets err/pos/msg, leaves path alone.  Returns err. */
int sl_diag_set(sl_diag *d, int err, int64_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Sets d->path (truncating a longer path); no-op when d is NULL. */
void sl_diag_set_path(sl_diag *d, const char *path);
/* Formats "path: at byte pos: msg (ERRNAME)" into buf; returns buf. */
const char *sl_diag_format(const sl_diag *d, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
