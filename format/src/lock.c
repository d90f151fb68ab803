/*
 * lock.c - the log dir lock: an fcntl open-file-description write lock on
 * `<logdir>/.lock`, the file Kafka's broker locks (FileChannel.tryLock, a
 * POSIX record lock on Linux, which conflicts with OFD locks), so neither a
 * second seglog writer nor a Kafka broker can share the dir.  Our pid goes
 * into the file so the loser's message can name the holder.  Design:
 * docs/FORMAT.md, "Log directory layout".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio_int.h"
#include "log_int.h"

static int try_lock(int fd, short type, int cmd) {
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0; /* the whole file, as Java's tryLock() */
  return fcntl(fd, cmd, &fl);
}

/* Who holds it: the pid in the file, or the POSIX lock owner (Kafka). */
static long holder_pid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n > 0) {
    buf[n] = '\0';
    char *end;
    errno = 0;
    long pid = strtol(buf, &end, 10);
    if (errno == 0 && end != buf && pid > 0)
      return pid;
  }
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
    return (long)fl.l_pid;
  return -1;
}

int sl_dir_lock_acquire(const char *logdir, sl_dir_lock **out, sl_diag *diag) {
  char path[SL__SEGMENT_NAME_MAX];
  int fd = -1, rc;
  *out = NULL;
  if ((size_t)snprintf(path, sizeof(path), "%s/.lock", logdir) >= sizeof(path))
    return sl_diag_set(diag, SL_EINVAL, -1, "log dir path too long");
  rc = sl__fio_open(path, O_RDWR | O_CREAT, 0644, &fd, diag);
  if (rc)
    return rc;
  if (try_lock(fd, F_WRLCK, F_OFD_SETLK) != 0) {
    int e = errno;
    if (e == EAGAIN || e == EACCES) {
      long pid = holder_pid(fd);
      sl__fio_close(fd);
      if (pid > 0)
        rc = sl_diag_set(diag, SL_ELOCKED, -1,
                         "log dir %s is locked by another writer (pid %ld)", logdir, pid);
      else
        rc = sl_diag_set(diag, SL_ELOCKED, -1,
                         "log dir %s is locked by another writer (a Kafka broker?)",
                         logdir);
      sl__diag_path(diag, path);
      return rc;
    }
    sl__fio_close(fd);
    return sl__fio_error(e, "lock", path, diag);
  }
  char pid[32];
  int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
  /* The content is informational: a failure to write it is not fatal. */
  if (sl__fio_truncate(fd, 0, path, NULL) == SL_OK)
    (void)sl__fio_pwrite_all(fd, pid, (size_t)n, 0, path, NULL);
  sl_dir_lock *l = calloc(1, sizeof(*l));
  char *p = l ? malloc(strlen(path) + 1) : NULL;
  if (l == NULL || p == NULL) {
    free(l);
    sl__fio_close(fd);
    return sl_diag_set(diag, SL_ENOMEM, -1, "locking %s", logdir);
  }
  memcpy(p, path, strlen(path) + 1);
  atomic_init(&l->refs, 1);
  l->fd = fd;
  l->path = p;
  *out = l;
  return SL_OK;
}

void sl_dir_lock_release(sl_dir_lock *lock) {
  if (lock == NULL)
    return;
  if (atomic_fetch_sub(&lock->refs, 1) != 1)
    return;
  /* Empty the file again (Kafka's is empty), then drop the lock. */
  (void)sl__fio_truncate(lock->fd, 0, lock->path, NULL);
  sl__fio_close(lock->fd);
  free(lock->path);
  free(lock);
}
