/*
 * fileio_int.h - the one layer every libseglog file operation goes through.
 *
 * Short writes and EINTR are handled here, errno values are mapped to SL_E*
 * codes with the path and the system message in an sl_diag, and tests can
 * inject faults (as SQLite's test VFS does): fail the Nth write or fsync with a
 * chosen errno, cap every write to a few bytes, or "crash" (after the Nth write
 * every later write and fsync fails, as if the process had died there).
 *
 * Durability rule: a failed fsync is reported, never retried by callers; the
 * log that sees it latches into a failed state (docs/FORMAT.md, "Durability").
 */
#ifndef SEGLOG_FILEIO_INT_H
#define SEGLOG_FILEIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "seglog/bytes.h"
#include "seglog/error.h"

/* Fault injection, for tests only.  Counters < 0 are off. */
typedef struct sl__fio_faults {
  long writes_until_fail; /* the write after this many succeed fails */
  int write_errno;        /* ENOSPC, EIO, ... (default EIO) */
  bool crash;             /* after the failing write, everything fails */
  long short_write_max;   /* > 0: each write(2) transfers at most this much */
  long fsyncs_until_fail; /* the fsync after this many succeed fails */
  int fsync_errno;        /* default EIO */
} sl__fio_faults;

/* Installs (copies) a fault plan; NULL removes it.  Process-wide: for tests. */
void sl__fio_set_faults(const sl__fio_faults *f);
/* A plan with everything off. */
void sl__fio_faults_init(sl__fio_faults *f);

/* Maps an errno value to an SL_E* code and fills diag "op path: strerror". */
int sl__fio_error(int errnum, const char *op, const char *path, sl_diag *diag);

int sl__fio_open(const char *path, int flags, mode_t mode, int *fd, sl_diag *diag);
void sl__fio_close(int fd); /* -1 ok */
/* Writes all of buf at the current position / at off (short writes retried). */
int sl__fio_write_all(int fd, const void *buf, size_t len, const char *path,
                      sl_diag *diag);
int sl__fio_pwrite_all(int fd, const void *buf, size_t len, off_t off, const char *path,
                       sl_diag *diag);
/* Reads up to len bytes at off; *got is less than len only at end of file. */
int sl__fio_pread_all(int fd, void *buf, size_t len, off_t off, size_t *got,
                      const char *path, sl_diag *diag);
int sl__fio_fsync(int fd, const char *path, sl_diag *diag);
int sl__fio_fsync_dir(const char *dir, sl_diag *diag);
int sl__fio_truncate(int fd, off_t len, const char *path, sl_diag *diag);
int sl__fio_file_size(int fd, off_t *size, const char *path, sl_diag *diag);
int sl__fio_rename(const char *from, const char *to, sl_diag *diag);
int sl__fio_unlink(const char *path, sl_diag *diag); /* ENOENT is not an error */
/*
 * Replaces `path` atomically: writes `path.tmp`, fsyncs it (if do_fsync),
 * renames it over `path`, fsyncs the parent directory (if do_fsync).
 */
int sl__fio_write_atomic(const char *path, const void *data, size_t len, bool do_fsync,
                         sl_diag *diag);
/* Reads a whole file into out (appending); more than max bytes: SL_ETOO_LARGE. */
int sl__fio_read_file(const char *path, size_t max, sl_buf *out, sl_diag *diag);

#endif
