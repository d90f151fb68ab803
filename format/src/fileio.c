/*
 * fileio.c - file operations with short-write handling, errno mapping and
 * test fault injection.  See fileio_int.h.
 */
#include "fileio_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The fault plan is test-only state; guarded so threaded tests stay sane. */
static pthread_mutex_t faults_lock = PTHREAD_MUTEX_INITIALIZER;
static sl__fio_faults faults = {-1, EIO, false, 0, -1, EIO};
static bool faults_on;
static bool crashed;

void sl__fio_faults_init(sl__fio_faults *f) {
  f->writes_until_fail = -1;
  f->write_errno = EIO;
  f->crash = false;
  f->short_write_max = 0;
  f->fsyncs_until_fail = -1;
  f->fsync_errno = EIO;
}

void sl__fio_set_faults(const sl__fio_faults *f) {
  pthread_mutex_lock(&faults_lock);
  if (f == NULL) {
    sl__fio_faults_init(&faults);
    faults_on = false;
  } else {
    faults = *f;
    faults_on = true;
  }
  crashed = false;
  pthread_mutex_unlock(&faults_lock);
}

/* Returns 0 to go ahead, or an errno to fail this write with; *cap limits it. */
static int fault_write(size_t *cap) {
  int e = 0;
  pthread_mutex_lock(&faults_lock);
  if (faults_on) {
    if (crashed) {
      e = faults.write_errno;
    } else if (faults.writes_until_fail == 0) {
      e = faults.write_errno;
      faults.writes_until_fail = -1;
      crashed = faults.crash;
    } else if (faults.writes_until_fail > 0) {
      faults.writes_until_fail--;
    }
    if (faults.short_write_max > 0 && *cap > (size_t)faults.short_write_max)
      *cap = (size_t)faults.short_write_max;
  }
  pthread_mutex_unlock(&faults_lock);
  return e;
}

static int fault_fsync(void) {
  int e = 0;
  pthread_mutex_lock(&faults_lock);
  if (faults_on) {
    if (crashed) {
      e = faults.fsync_errno;
    } else if (faults.fsyncs_until_fail == 0) {
      e = faults.fsync_errno;
      faults.fsyncs_until_fail = -1;
    } else if (faults.fsyncs_until_fail > 0) {
      faults.fsyncs_until_fail--;
    }
  }
  pthread_mutex_unlock(&faults_lock);
  return e;
}

int sl__fio_error(int errnum, const char *op, const char *path, sl_diag *diag) {
  int err;
  switch (errnum) {
  case ENOSPC:
  case EDQUOT:
    err = SL_ENOSPC;
    break;
  case ENOENT:
    err = SL_ENOT_FOUND;
    break;
  case EEXIST:
    err = SL_EEXISTS;
    break;
  case ENOMEM:
    err = SL_ENOMEM;
    break;
  case EAGAIN:
  case EACCES:
    err = errnum == EAGAIN ? SL_ELOCKED : SL_EIO;
    break;
  default:
    err = SL_EIO;
    break;
  }
  if (diag != NULL) {
    sl_diag_set(diag, err, -1, "%s: %s", op, strerror(errnum));
    sl_diag_set_path(diag, path ? path : "");
  }
  return err;
}

int sl__fio_open(const char *path, int flags, mode_t mode, int *fd, sl_diag *diag) {
  int f;
  do {
    f = open(path, flags | O_CLOEXEC, mode);
  } while (f < 0 && errno == EINTR);
  if (f < 0) {
    *fd = -1;
    return sl__fio_error(errno, "open", path, diag);
  }
  *fd = f;
  return SL_OK;
}

void sl__fio_close(int fd) {
  if (fd >= 0)
    close(fd);
}

static int write_loop(int fd, const uint8_t *p, size_t len, off_t off, bool positional,
                      const char *path, sl_diag *diag) {
  while (len > 0) {
    size_t n = len > (size_t)INT_MAX ? (size_t)INT_MAX : len;
    int e = fault_write(&n);
    if (e != 0)
      return sl__fio_error(e, "write", path, diag);
    ssize_t w = positional ? pwrite(fd, p, n, off) : write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return sl__fio_error(errno, "write", path, diag);
    }
    if (w == 0)
      return sl__fio_error(EIO, "write returned 0", path, diag);
    p += w;
    len -= (size_t)w;
    off += w;
  }
  return SL_OK;
}

int sl__fio_write_all(int fd, const void *buf, size_t len, const char *path,
                      sl_diag *diag) {
  return write_loop(fd, buf, len, 0, false, path, diag);
}

int sl__fio_pwrite_all(int fd, const void *buf, size_t len, off_t off, const char *path,
                       sl_diag *diag) {
  return write_loop(fd, buf, len, off, true, path, diag);
}

int sl__fio_pread_all(int fd, void *buf, size_t len, off_t off, size_t *got,
                      const char *path, sl_diag *diag) {
  uint8_t *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t r = pread(fd, p + done, len - done, off + (off_t)done);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      *got = done;
      return sl__fio_error(errno, "read", path, diag);
    }
    if (r == 0)
      break;
    done += (size_t)r;
  }
  *got = done;
  return SL_OK;
}

int sl__fio_fsync(int fd, const char *path, sl_diag *diag) {
  int e = fault_fsync();
  if (e != 0)
    return sl__fio_error(e, "fsync", path, diag);
  if (fsync(fd) != 0)
    return sl__fio_error(errno, "fsync", path, diag);
  return SL_OK;
}

int sl__fio_fsync_dir(const char *dir, sl_diag *diag) {
  int fd;
  int rc = sl__fio_open(dir, O_RDONLY | O_DIRECTORY, 0, &fd, diag);
  if (rc)
    return rc;
  rc = sl__fio_fsync(fd, dir, diag);
  close(fd);
  return rc;
}

int sl__fio_truncate(int fd, off_t len, const char *path, sl_diag *diag) {
  int r;
  do {
    r = ftruncate(fd, len);
  } while (r != 0 && errno == EINTR);
  return r == 0 ? SL_OK : sl__fio_error(errno, "truncate", path, diag);
}

int sl__fio_file_size(int fd, off_t *size, const char *path, sl_diag *diag) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return sl__fio_error(errno, "stat", path, diag);
  *size = st.st_size;
  return SL_OK;
}

int sl__fio_rename(const char *from, const char *to, sl_diag *diag) {
  if (rename(from, to) != 0)
    return sl__fio_error(errno, "rename", from, diag);
  return SL_OK;
}

int sl__fio_unlink(const char *path, sl_diag *diag) {
  if (unlink(path) != 0 && errno != ENOENT)
    return sl__fio_error(errno, "unlink", path, diag);
  return SL_OK;
}

static void parent_dir(const char *path, char *out, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    snprintf(out, cap, ".");
  } else if (slash == path) {
    snprintf(out, cap, "/");
  } else {
    size_t n = (size_t)(slash - path);
    if (n >= cap)
      n = cap - 1;
    memcpy(out, path, n);
    out[n] = '\0';
  }
}

int sl__fio_write_atomic(const char *path, const void *data, size_t len, bool do_fsync,
                         sl_diag *diag) {
  char tmp[PATH_MAX];
  char dir[PATH_MAX];
  int fd = -1;
  int rc;
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
    return sl_diag_set(diag, SL_EINVAL, -1, "path too long: %s", path);
  rc = sl__fio_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644, &fd, diag);
  if (rc)
    goto out;
  rc = sl__fio_write_all(fd, data, len, tmp, diag);
  if (rc)
    goto out;
  if (do_fsync) {
    rc = sl__fio_fsync(fd, tmp, diag);
    if (rc)
      goto out;
  }
  sl__fio_close(fd);
  fd = -1;
  rc = sl__fio_rename(tmp, path, diag);
  if (rc)
    goto out;
  if (do_fsync) {
    parent_dir(path, dir, sizeof(dir));
    rc = sl__fio_fsync_dir(dir, diag);
  }
out:
  sl__fio_close(fd);
  if (rc)
    unlink(tmp);
  return rc;
}

int sl__fio_read_file(const char *path, size_t max, sl_buf *out, sl_diag *diag) {
  int fd;
  size_t start = out->len;
  int rc = sl__fio_open(path, O_RDONLY, 0, &fd, diag);
  if (rc)
    return rc;
  for (;;) {
    uint8_t *p = sl_buf_reserve(out, 65536);
    if (p == NULL) {
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "reading %s", path);
      break;
    }
    ssize_t r = read(fd, p, 65536);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      rc = sl__fio_error(errno, "read", path, diag);
      break;
    }
    if (r == 0)
      break;
    out->len += (size_t)r;
    if (out->len - start > max) {
      rc = sl_diag_set(diag, SL_ETOO_LARGE, (int64_t)max, "%s is larger than %zu bytes",
                       path, max);
      break;
    }
  }
  close(fd);
  if (rc)
    out->len = start;
  return rc;
}
