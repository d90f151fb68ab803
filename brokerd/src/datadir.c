/*
 * datadir.c - opening, locking and identifying seglogd's log directories (see
 * datadir.h; docs/BROKER.md, "Log directories").  meta.properties is read with
 * the daemon's Java-properties parser and written atomically (temp file,
 * fsync, rename, fsync of the directory).
 */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sdlog.h"

static int fail(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(char *err, size_t cap, const char *fmt, ...) {
  if (cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void sd_uuid_to_base64(const uint8_t uuid[16], char out[23]) {
  size_t o = 0;
  for (int i = 0; i < 16; i += 3) {
    uint32_t v = (uint32_t)uuid[i] << 16;
    int n = 16 - i >= 3 ? 3 : 16 - i;
    if (n > 1)
      v |= (uint32_t)uuid[i + 1] << 8;
    if (n > 2)
      v |= uuid[i + 2];
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    if (n > 1)
      out[o++] = b64url[(v >> 6) & 63];
    if (n > 2)
      out[o++] = b64url[v & 63];
  }
  out[o] = '\0';
}

static int b64val(char ch) {
  const char *p = strchr(b64url, ch);
  return (ch != '\0' && p != NULL) ? (int)(p - b64url) : -1;
}

int sd_uuid_from_base64(const char *text, uint8_t uuid[16]) {
  if (strlen(text) != 22)
    return 0;
  uint8_t out[18];
  size_t o = 0;
  for (int i = 0; i < 24 && o < 16; i += 4) {
    int v[4] = {0, 0, 0, 0};
    for (int j = 0; j < 4; j++) {
      if (i + j < 22) {
        v[j] = b64val(text[i + j]);
        if (v[j] < 0)
          return 0;
      }
    }
    uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                 (uint32_t)v[3];
    out[o++] = (uint8_t)(x >> 16);
    out[o++] = (uint8_t)(x >> 8);
    out[o++] = (uint8_t)x;
  }
  memcpy(uuid, out, 16);
  return 1;
}

int sd_uuid_random(uint8_t uuid[16]) {
  size_t got = 0;
  while (got < 16) {
    ssize_t n = getrandom(uuid + got, 16 - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    got += (size_t)n;
  }
  uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
  uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
  return 0;
}

static int mkdirs(const char *path) {
  char tmp[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof(tmp)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(tmp, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (tmp[i] == '/' || tmp[i] == '\0') {
      char saved = tmp[i];
      tmp[i] = '\0';
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
      tmp[i] = saved;
    }
  }
  return 0;
}

typedef struct meta_read {
  char cluster_id[64];
  char node_id[32];
  char version[16];
} meta_read;

static int meta_entry(void *ctx, const char *key, const char *value, int line) {
  meta_read *m = ctx;
  if (strcmp(key, "cluster.id") == 0)
    snprintf(m->cluster_id, sizeof(m->cluster_id), "%s", value);
  else if (strcmp(key, "node.id") == 0)
    snprintf(m->node_id, sizeof(m->node_id), "%s", value);
  else if (strcmp(key, "version") == 0)
    snprintf(m->version, sizeof(m->version), "%s", value);
  return 0;
}

/* 1 if read, 0 if absent, -1 on error. */
static int meta_load(const char *dir, meta_read *m, char *err, size_t cap) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/meta.properties", dir);
  memset(m, 0, sizeof(*m));
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    if (errno == ENOENT)
      return 0;
    return fail(err, cap, "log.dirs: cannot read %s: %s", path, strerror(errno));
  }
  char text[8192];
  size_t n = fread(text, 1, sizeof(text), f);
  int rerr = ferror(f);
  fclose(f);
  if (rerr)
    return fail(err, cap, "log.dirs: cannot read %s", path);
  char perr[128];
  if (sd_props_parse(text, n, meta_entry, m, perr, sizeof(perr)) != 0)
    return fail(err, cap, "log.dirs: %s: %s", path, perr);
  return 1;
}

static int meta_write(const char *dir, const char *cluster_id, int32_t node_id, char *err,
                      size_t cap) {
  char path[4200], tmp[4210];
  snprintf(path, sizeof(path), "%s/meta.properties", dir);
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  uint8_t dir_uuid[16];
  char dir_id[23];
  if (sd_uuid_random(dir_uuid) != 0)
    return fail(err, cap, "log.dirs: no randomness for a directory id");
  sd_uuid_to_base64(dir_uuid, dir_id);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char when[64];
  strftime(when, sizeof(when), "%a %b %d %H:%M:%S UTC %Y", &tm);
  char text[512];
  int len = snprintf(text, sizeof(text),
                     "#\n#%s\ncluster.id=%s\ndirectory.id=%s\nnode.id=%d\nversion=1\n",
                     when, cluster_id, dir_id, (int)node_id);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(err, cap, "log.dirs: cannot create %s: %s", tmp, strerror(errno));
  const char *p = text;
  size_t left = (size_t)len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      close(fd);
      unlink(tmp);
      return fail(err, cap, "log.dirs: cannot write %s: %s", tmp, strerror(e));
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return fail(err, cap, "log.dirs: cannot fsync %s: %s", tmp, strerror(e));
  }
  close(fd);
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return fail(err, cap, "log.dirs: cannot rename %s: %s", tmp, strerror(e));
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    if (fsync(dfd) != 0) {
      int e = errno;
      close(dfd);
      return fail(err, cap, "log.dirs: cannot fsync %s: %s", dir, strerror(e));
    }
    close(dfd);
  }
  return 0;
}

int sd_datadirs_open(sd_datadirs *d, const sd_config *c, char *err, size_t errcap) {
  memset(d, 0, sizeof(*d));
  for (int i = 0; i < SD_MAX_LOG_DIRS; i++)
    d->lock_fds[i] = -1;
  int32_t node_id = (int32_t)sd_cfg_i(c, SD_CFG_NODE_ID);
  bool missing[SD_MAX_LOG_DIRS] = {false};
  for (int i = 0; i < c->n_log_dirs; i++) {
    const char *dir = c->log_dirs[i];
    d->paths[i] = strdup(dir);
    d->n = i + 1;
    if (d->paths[i] == NULL) {
      fail(err, errcap, "out of memory");
      goto fail;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
      if (errno != ENOENT || mkdirs(dir) != 0) {
        fail(err, errcap, "log.dirs: cannot create log directory %s: %s", dir,
             strerror(errno));
        goto fail;
      }
      SD_INFO("created log directory %s", dir);
    } else if (!S_ISDIR(st.st_mode)) {
      fail(err, errcap, "log.dirs: %s is not a directory", dir);
      goto fail;
    }
    if (access(dir, R_OK | W_OK | X_OK) != 0) {
      fail(err, errcap, "log.dirs: log directory %s is not writable: %s", dir,
           strerror(errno));
      goto fail;
    }
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s/.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      fail(err, errcap, "log.dirs: cannot open %s: %s", lock, strerror(errno));
      goto fail;
    }
    d->lock_fds[i] = fd;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      fail(err, errcap,
           "log.dirs: log directory %s is in use by another process (lock %s held)", dir,
           lock);
      goto fail;
    }
    meta_read m;
    int mr = meta_load(dir, &m, err, errcap);
    if (mr < 0)
      goto fail;
    if (mr == 0) {
      missing[i] = true;
      continue;
    }
    if (strcmp(m.version, "1") != 0 && strcmp(m.version, "0") != 0) {
      fail(err, errcap, "log.dirs: %s/meta.properties has unsupported version '%s'", dir,
           m.version);
      goto fail;
    }
    char want[32];
    snprintf(want, sizeof(want), "%d", (int)node_id);
    if (m.node_id[0] != '\0' && strcmp(m.node_id, want) != 0) {
      fail(err, errcap,
           "node.id: configured %d but %s/meta.properties belongs to node.id %s",
           (int)node_id, dir, m.node_id);
      goto fail;
    }
    if (m.cluster_id[0] != '\0') {
      if (d->cluster_id[0] != '\0' && strcmp(d->cluster_id, m.cluster_id) != 0) {
        fail(
            err, errcap,
            "log.dirs: %s/meta.properties has cluster.id %s but another directory has %s",
            dir, m.cluster_id, d->cluster_id);
        goto fail;
      }
      snprintf(d->cluster_id, sizeof(d->cluster_id), "%s", m.cluster_id);
    }
  }
  if (d->cluster_id[0] == '\0') {
    uint8_t uuid[16];
    if (sd_uuid_random(uuid) != 0) {
      fail(err, errcap, "no randomness for a cluster id");
      goto fail;
    }
    sd_uuid_to_base64(uuid, d->cluster_id);
    SD_INFO("generated cluster id %s", d->cluster_id);
  }
  for (int i = 0; i < d->n; i++) {
    if (missing[i] && meta_write(d->paths[i], d->cluster_id, node_id, err, errcap) != 0)
      goto fail;
  }
  return 0;
fail:
  sd_datadirs_close(d);
  return -1;
}

void sd_datadirs_close(sd_datadirs *d) {
  if (d == NULL)
    return;
  for (int i = 0; i < d->n; i++) {
    if (d->lock_fds[i] >= 0) {
      close(d->lock_fds[i]);
      d->lock_fds[i] = -1;
    }
    free(d->paths[i]);
    d->paths[i] = NULL;
  }
  d->n = 0;
}
