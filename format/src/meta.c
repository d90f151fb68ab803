/*
 * meta.c - identity and naming formats of a Kafka data dir: topic name rules
 * (Topic.validate), partition directory names and their -delete/-future/-stray
 * forms (LocalLog.parseTopicPartitionName), Kafka UUIDs in base64url form
 * (Uuid), `partition.metadata` (PartitionMetadataFile), `meta.properties`
 * (Java Properties as MetaProperties reads and writes them) and the
 * `.kafka_cleanshutdown` marker (CleanShutdownFileHandler).
 * Documented in docs/FORMAT.md ("Log directory layout", "partition.metadata",
 * "meta.properties", "Clean shutdown marker") and seglog/meta.h.
 */
#include "seglog/meta.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint_int.h"
#include "fileio_int.h"

#define MAX_SMALL_FILE (1u << 20) /* partition.metadata, meta.properties, marker */

static void set_path(sl_diag *diag, const char *path) {
  if (diag != NULL && path != NULL)
    sl_diag_set_path(diag, path);
}

static int join_path(char *out, size_t cap, const char *dir, const char *name,
                     sl_diag *diag) {
  if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
    return sl_diag_set(diag, SL_EINVAL, -1, "path too long: %s/%s", dir, name);
  return SL_OK;
}

/* ---- topic names ---- */

static bool topic_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

int sl_topic_name_validate(const char *name, size_t len, sl_diag *diag) {
  if (name == NULL || len == 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "topic name is empty");
  if (len > SL_TOPIC_NAME_MAX)
    return sl_diag_set(diag, SL_EINVAL, -1,
                       "topic name is %zu characters long, the maximum is %d", len,
                       SL_TOPIC_NAME_MAX);
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    return sl_diag_set(diag, SL_EINVAL, -1, "topic name cannot be \".\" or \"..\"");
  for (size_t i = 0; i < len; i++)
    if (!topic_char_ok(name[i]))
      return sl_diag_set(diag, SL_EINVAL, (int64_t)i,
                         "topic name has an illegal character (byte 0x%02x); legal "
                         "are ASCII letters, digits, '.', '_' and '-'",
                         (unsigned)(unsigned char)name[i]);
  return SL_OK;
}

bool sl_topic_name_is_valid(const char *name) {
  return name != NULL && sl_topic_name_validate(name, strlen(name), NULL) == SL_OK;
}

/* ---- partition directory names ---- */

static const char *const pdir_suffix[] = {"", "-delete", "-future", "-stray"};

static bool ends_with(const char *s, size_t len, const char *suf) {
  size_t n = strlen(suf);
  return len >= n && memcmp(s + len - n, suf, n) == 0;
}

int sl_pdir_name_parse(const char *name, sl_pdir_name *out, sl_diag *diag) {
  size_t len = name ? strlen(name) : 0;
  size_t base_len = len;
  int64_t part;
  memset(out, 0, sizeof(*out));
  out->kind = SL_PDIR_NORMAL;
  if (len == 0 || memchr(name, '-', len) == NULL)
    return sl_diag_set(diag, SL_EINVAL, -1, "'%s' is not in the form topic-partition",
                       name ? name : "");
  for (size_t i = 0; i < len; i++)
    if (sl__is_java_space(name[i]))
      return sl_diag_set(diag, SL_EINVAL, (int64_t)i,
                         "directory name contains whitespace");
  for (int k = SL_PDIR_DELETE; k <= SL_PDIR_STRAY; k++) {
    if (!ends_with(name, len, pdir_suffix[k]))
      continue;
    /* topic-N.<id>-suffix: split at the last '.' before the suffix */
    size_t x = len - strlen(pdir_suffix[k]);
    const char *dot = NULL;
    for (size_t i = x; i > 0; i--)
      if (name[i - 1] == '.') {
        dot = name + i - 1;
        break;
      }
    if (dot == NULL || (size_t)(dot - name) + 1 >= x)
      return sl_diag_set(diag, SL_EINVAL, -1,
                         "'%s' is not in the form topic-partition.uniqueId%s", name,
                         pdir_suffix[k]);
    size_t idlen = x - (size_t)(dot - name) - 1;
    if (idlen >= sizeof(out->unique_id))
      return sl_diag_set(diag, SL_EINVAL, -1, "unique id in '%s' is too long", name);
    memcpy(out->unique_id, dot + 1, idlen);
    out->unique_id[idlen] = '\0';
    out->kind = (sl_pdir_kind)k;
    base_len = (size_t)(dot - name);
    break;
  }
  /* split at the LAST '-' */
  size_t dash = base_len;
  while (dash > 0 && name[dash - 1] != '-')
    dash--;
  if (dash == 0)
    return sl_diag_set(diag, SL_EINVAL, -1, "'%s' is not in the form topic-partition",
                       name);
  dash--; /* index of the '-' */
  if (dash == 0 || dash + 1 >= base_len)
    return sl_diag_set(diag, SL_EINVAL, -1, "'%s' has an empty topic or partition", name);
  if (sl_parse_decimal(name + dash + 1, base_len - dash - 1, 0, INT32_MAX, &part) !=
          SL_OK ||
      name[dash + 1] == '+')
    return sl_diag_set(diag, SL_EINVAL, (int64_t)dash + 1,
                       "'%s': partition '%.*s' is not a non-negative int", name,
                       (int)(base_len - dash - 1), name + dash + 1);
  if (sl_topic_name_validate(name, dash, diag) != SL_OK)
    return SL_EINVAL;
  memcpy(out->topic, name, dash);
  out->topic[dash] = '\0';
  out->partition = (int32_t)part;
  return SL_OK;
}

int sl_pdir_name_format(const char *topic, int32_t partition, char *out, size_t cap) {
  if (!sl_topic_name_is_valid(topic) || partition < 0 || out == NULL)
    return SL_EINVAL;
  int n = snprintf(out, cap, "%s-%" PRId32, topic, partition);
  if (n < 0 || (size_t)n >= cap)
    return SL_EINVAL;
  return SL_OK;
}

int sl_pdir_name_format_suffixed(const char *topic, int32_t partition, sl_pdir_kind kind,
                                 const char *unique_id, char *out, size_t cap) {
  char suffix[128];
  if (!sl_topic_name_is_valid(topic) || partition < 0 || out == NULL ||
      unique_id == NULL || unique_id[0] == '\0' || kind < SL_PDIR_DELETE ||
      kind > SL_PDIR_STRAY)
    return SL_EINVAL;
  for (const char *c = unique_id; *c; c++)
    if (sl__is_java_space(*c) || *c == '/')
      return SL_EINVAL;
  int sn = snprintf(suffix, sizeof(suffix), "-%" PRId32 ".%s%s", partition, unique_id,
                    pdir_suffix[kind]);
  if (sn < 0 || (size_t)sn >= sizeof(suffix) || sn >= 255)
    return SL_EINVAL;
  size_t tlen = strlen(topic);
  if (tlen > (size_t)(255 - sn))
    tlen = (size_t)(255 - sn); /* Kafka truncates the topic to fit 255 */
  int n = snprintf(out, cap, "%.*s%s", (int)tlen, topic, suffix);
  if (n < 0 || (size_t)n >= cap)
    return SL_EINVAL;
  return SL_OK;
}

/* ---- UUIDs ---- */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

bool sl_uuid_is_zero(const sl_uuid *u) {
  for (int i = 0; i < 16; i++)
    if (u->b[i])
      return false;
  return true;
}

bool sl_uuid_equal(const sl_uuid *a, const sl_uuid *b) {
  return memcmp(a->b, b->b, 16) == 0;
}

void sl_uuid_to_string(const sl_uuid *u, char out[SL_UUID_STR_LEN + 1]) {
  size_t o = 0;
  for (int i = 0; i < 15; i += 3) {
    uint32_t v = (uint32_t)u->b[i] << 16 | (uint32_t)u->b[i + 1] << 8 | u->b[i + 2];
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
    out[o++] = b64url[v & 63];
  }
  out[o++] = b64url[u->b[15] >> 2];
  out[o++] = b64url[(u->b[15] & 3) << 4];
  out[o] = '\0';
}

int sl_uuid_parse(const char *s, size_t len, sl_uuid *out) {
  int v[SL_UUID_STR_LEN];
  if (s == NULL || out == NULL)
    return SL_EINVAL;
  if (len == SL_UUID_STR_LEN + 2 && s[22] == '=' && s[23] == '=')
    len = SL_UUID_STR_LEN;
  if (len != SL_UUID_STR_LEN)
    return SL_EINVAL;
  for (size_t i = 0; i < len; i++)
    if ((v[i] = b64url_value(s[i])) < 0)
      return SL_EINVAL;
  if (v[21] & 15)
    return SL_EINVAL; /* non-canonical: bits beyond the 16th byte */
  for (int g = 0; g < 5; g++) {
    uint32_t x = (uint32_t)v[4 * g] << 18 | (uint32_t)v[4 * g + 1] << 12 |
                 (uint32_t)v[4 * g + 2] << 6 | (uint32_t)v[4 * g + 3];
    out->b[3 * g] = (uint8_t)(x >> 16);
    out->b[3 * g + 1] = (uint8_t)(x >> 8);
    out->b[3 * g + 2] = (uint8_t)x;
  }
  out->b[15] = (uint8_t)(v[20] << 2 | v[21] >> 4);
  return SL_OK;
}

void sl_uuid_hex32(const sl_uuid *u, char out[33]) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    out[2 * i] = hex[u->b[i] >> 4];
    out[2 * i + 1] = hex[u->b[i] & 15];
  }
  out[32] = '\0';
}

static int random_bytes(void *buf, size_t len, sl_diag *diag) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = getrandom((char *)buf + got, len - got, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    got += (size_t)r;
  }
  if (got == len)
    return SL_OK;
  /* getrandom unavailable: fall back to /dev/urandom */
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sl__fio_error(errno, "open", "/dev/urandom", diag);
  got = 0;
  while (got < len) {
    ssize_t r = read(fd, (char *)buf + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      int e = r < 0 ? errno : EIO;
      close(fd);
      return sl__fio_error(e, "read", "/dev/urandom", diag);
    }
    got += (size_t)r;
  }
  close(fd);
  return SL_OK;
}

int sl_uuid_random(sl_uuid *out, sl_diag *diag) {
  for (;;) {
    int rc = random_bytes(out->b, 16, diag);
    if (rc)
      return rc;
    /* java.util.UUID.randomUUID: version 4, IETF variant */
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
    /* Kafka never hands out ids whose string starts with '-' (value 62) */
    if ((out->b[0] >> 2) == 62)
      continue;
    /* The reserved ids (zero, metadata topic id 1) cannot be version 4, so
     * there is nothing else to skip. */
    return SL_OK;
  }
}

/* ---- partition.metadata ---- */

/*
 * Java line.split(":\\s+", 2): the text before the first ':' followed by
 * whitespace, and everything after that whitespace.  false if there is no
 * such separator.
 */
static bool split_colon_ws2(const char *line, size_t len, sl__token *key,
                            sl__token *value) {
  for (size_t m = 0; m + 1 < len; m++) {
    if (line[m] == ':' && sl__is_java_space(line[m + 1])) {
      size_t v = m + 1;
      while (v < len && sl__is_java_space(line[v]))
        v++;
      key->p = line;
      key->len = m;
      value->p = line + v;
      value->len = len - v;
      return true;
    }
  }
  return false;
}

static bool token_is(const sl__token *t, const char *s) {
  return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

int sl_partition_metadata_parse(const void *p, size_t len, int32_t *version,
                                sl_uuid *topic_id, sl_diag *diag) {
  sl__lines it;
  const char *line;
  size_t ll, start;
  sl__token k, v;
  int64_t ver;
  sl__lines_init(&it, p, len);
  if (!sl__lines_next(&it, &line, &ll, &start))
    return sl_diag_set(diag, SL_ECORRUPT, 0, "partition metadata file is empty");
  if (!split_colon_ws2(line, ll, &k, &v) || !token_is(&k, "version") ||
      sl_parse_decimal(v.p, v.len, INT32_MIN, INT32_MAX, &ver) != SL_OK)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start, "line 1: malformed line '%.*s'",
                       (int)(ll > 64 ? 64 : ll), line);
  if (ver < 0)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start,
                       "unrecognised partition metadata version %" PRId64, ver);
  if (!sl__lines_next(&it, &line, &ll, &start))
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)len, "no topic_id line");
  if (!split_colon_ws2(line, ll, &k, &v) || !token_is(&k, "topic_id") ||
      sl_uuid_parse(v.p, v.len, topic_id) != SL_OK)
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start, "line 2: malformed line '%.*s'",
                       (int)(ll > 64 ? 64 : ll), line);
  if (sl_uuid_is_zero(topic_id))
    return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start, "invalid (zero) topic id");
  if (version)
    *version = (int32_t)ver;
  return SL_OK;
}

int sl_partition_metadata_format(const sl_uuid *topic_id, sl_buf *out) {
  char id[SL_UUID_STR_LEN + 1];
  char text[64];
  sl_uuid_to_string(topic_id, id);
  int n = snprintf(text, sizeof(text), "version: 0\ntopic_id: %s", id);
  return sl_buf_append(out, text, (size_t)n) ? SL_ENOMEM : SL_OK;
}

int sl_partition_metadata_read(const char *partition_dir, sl_uuid *topic_id,
                               sl_diag *diag) {
  char path[PATH_MAX];
  sl_buf b = SL_BUF_INIT;
  int rc = join_path(path, sizeof(path), partition_dir, SL_PARTITION_METADATA_FILE, diag);
  if (rc == SL_OK)
    rc = sl__fio_read_file(path, MAX_SMALL_FILE, &b, diag);
  if (rc == SL_OK) {
    rc = sl_partition_metadata_parse(b.data, b.len, NULL, topic_id, diag);
    if (rc)
      set_path(diag, path);
  }
  sl_buf_release(&b);
  return rc;
}

int sl_partition_metadata_write(const char *partition_dir, const sl_uuid *topic_id,
                                sl_diag *diag) {
  char path[PATH_MAX];
  sl_buf b = SL_BUF_INIT;
  if (sl_uuid_is_zero(topic_id))
    return sl_diag_set(diag, SL_EINVAL, -1, "refusing to write the zero topic id");
  int rc = join_path(path, sizeof(path), partition_dir, SL_PARTITION_METADATA_FILE, diag);
  if (rc == SL_OK && (rc = sl_partition_metadata_format(topic_id, &b)) != SL_OK)
    rc = sl_diag_set(diag, rc, -1, "out of memory");
  if (rc == SL_OK)
    rc = sl__fio_write_atomic(path, b.data, b.len, true, diag);
  sl_buf_release(&b);
  return rc;
}

/* ---- meta.properties (java.util.Properties text) ---- */

#define PROP_VAL_MAX 256

typedef struct prop_vals {
  bool has[5];
  char val[5][PROP_VAL_MAX];
} prop_vals;

static const char *const prop_keys[5] = {"version", "broker.id", "node.id", "cluster.id",
                                         "directory.id"};
enum { P_VERSION, P_BROKER_ID, P_NODE_ID, P_CLUSTER_ID, P_DIRECTORY_ID };

static bool prop_ws(char c) {
  return c == ' ' || c == '\t' || c == '\f';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/*
 * Unescapes s[0..len) (Properties.loadConvert) into out (cap bytes incl NUL).
 * \uXXXX is written as UTF-8.  Returns false if malformed or too long.
 */
static bool prop_unescape(const char *s, size_t len, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned cp;
    char c = s[i];
    if (c == '\\' && i + 1 < len) {
      c = s[++i];
      if (c == 'u') {
        if (i + 4 >= len)
          return false;
        cp = 0;
        for (int k = 1; k <= 4; k++) {
          int h = hexval(s[i + (size_t)k]);
          if (h < 0)
            return false;
          cp = cp << 4 | (unsigned)h;
        }
        i += 4;
        char u[3];
        size_t un;
        if (cp < 0x80) {
          u[0] = (char)cp;
          un = 1;
        } else if (cp < 0x800) {
          u[0] = (char)(0xC0 | cp >> 6);
          u[1] = (char)(0x80 | (cp & 0x3F));
          un = 2;
        } else {
          u[0] = (char)(0xE0 | cp >> 12);
          u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
          u[2] = (char)(0x80 | (cp & 0x3F));
          un = 3;
        }
        if (o + un >= cap)
          return false;
        memcpy(out + o, u, un);
        o += un;
        continue;
      }
      c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'f' ? '\f' : c;
    }
    if (o + 1 >= cap)
      return false;
    out[o++] = c;
  }
  out[o] = '\0';
  return true;
}

/* Handles one logical line (continuations already joined, escapes intact). */
static int prop_line(const char *s, size_t len, prop_vals *pv, long lineno, size_t start,
                     sl_diag *diag) {
  size_t i = 0;
  size_t kend;
  bool esc = false;
  char key[64];
  /* key ends at the first unescaped '=', ':' or whitespace */
  while (i < len) {
    char c = s[i];
    if (esc)
      esc = false;
    else if (c == '\\')
      esc = true;
    else if (c == '=' || c == ':' || prop_ws(c))
      break;
    i++;
  }
  kend = i;
  while (i < len && prop_ws(s[i]))
    i++;
  if (i < len && (s[i] == '=' || s[i] == ':')) {
    i++;
    while (i < len && prop_ws(s[i]))
      i++;
  }
  if (!prop_unescape(s, kend, key, sizeof(key)))
    return SL_OK; /* a key we do not know (too long or odd): ignored */
  for (int k = 0; k < 5; k++) {
    if (strcmp(key, prop_keys[k]) != 0)
      continue;
    if (!prop_unescape(s + i, len - i, pv->val[k], PROP_VAL_MAX))
      return sl_diag_set(diag, SL_ECORRUPT, (int64_t)start,
                         "line %ld: bad or too long value for %s", lineno, key);
    pv->has[k] = true; /* a later line wins, as in Properties */
  }
  return SL_OK;
}

/* Splits Properties text into logical lines (Properties.LineReader). */
static int prop_parse_text(const char *p, size_t len, prop_vals *pv, sl_diag *diag) {
  sl__lines it;
  const char *line;
  size_t ll, start;
  sl_buf logical = SL_BUF_INIT;
  size_t lstart = 0;
  long lno = 0;
  bool cont = false;
  int rc = SL_OK;
  sl__lines_init(&it, p, len);
  while (sl__lines_next(&it, &line, &ll, &start)) {
    size_t i = 0;
    while (i < ll && prop_ws(line[i]))
      i++;
    if (!cont) {
      if (i == ll || line[i] == '#' || line[i] == '!')
        continue; /* blank or comment line */
      sl_buf_reset(&logical);
      lstart = start;
      lno = it.lineno;
    }
    /* odd number of trailing backslashes: continues on the next line */
    size_t nb = 0;
    while (nb < ll - i && line[ll - 1 - nb] == '\\')
      nb++;
    cont = (nb % 2) == 1;
    if (sl_buf_append(&logical, line + i, ll - i - (cont ? 1 : 0))) {
      rc = sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
      goto out;
    }
    if (logical.len > 65536) {
      rc = sl_diag_set(diag, SL_ECORRUPT, (int64_t)lstart, "line %ld is too long", lno);
      goto out;
    }
    if (!cont) {
      rc = prop_line((const char *)logical.data, logical.len, pv, lno, lstart, diag);
      if (rc)
        goto out;
    }
  }
  if (cont) /* a continuation at EOF ends the line */
    rc = prop_line((const char *)logical.data, logical.len, pv, lno, lstart, diag);
out:
  sl_buf_release(&logical);
  return rc;
}

int sl_meta_properties_parse(const void *p, size_t len, sl_meta_properties *out,
                             sl_diag *diag) {
  prop_vals *pv = calloc(1, sizeof(*pv));
  int64_t v;
  int rc;
  if (pv == NULL)
    return sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  memset(out, 0, sizeof(*out));
  rc = prop_parse_text((const char *)p, len, pv, diag);
  if (rc)
    goto out;
  out->version = 0; /* a missing version means 0 */
  if (pv->has[P_VERSION]) {
    if (sl_parse_decimal(pv->val[P_VERSION], strlen(pv->val[P_VERSION]), INT32_MIN,
                         INT32_MAX, &v) != SL_OK) {
      rc = sl_diag_set(diag, SL_ECORRUPT, -1, "version '%s' is not a number",
                       pv->val[P_VERSION]);
      goto out;
    }
    if (v != 0 && v != 1) {
      rc = sl_diag_set(diag, SL_EUNSUPPORTED, -1,
                       "unknown meta.properties version %" PRId64, v);
      goto out;
    }
    out->version = (int)v;
  }
  int idk = out->version == 0 ? P_BROKER_ID : P_NODE_ID;
  if (pv->has[idk]) {
    if (sl_parse_decimal(pv->val[idk], strlen(pv->val[idk]), INT32_MIN, INT32_MAX, &v) !=
        SL_OK) {
      rc = sl_diag_set(diag, SL_ECORRUPT, -1,
                       "failed to parse %s property as an int: '%s'", prop_keys[idk],
                       pv->val[idk]);
      goto out;
    }
    if (v < 0) {
      rc = sl_diag_set(diag, SL_ECORRUPT, -1, "invalid %s %" PRId64, prop_keys[idk], v);
      goto out;
    }
    out->has_node_id = true;
    out->node_id = (int32_t)v;
  }
  if (pv->has[P_CLUSTER_ID]) {
    if (strlen(pv->val[P_CLUSTER_ID]) >= sizeof(out->cluster_id)) {
      rc = sl_diag_set(diag, SL_ECORRUPT, -1, "cluster.id is too long");
      goto out;
    }
    out->has_cluster_id = true;
    memcpy(out->cluster_id, pv->val[P_CLUSTER_ID], strlen(pv->val[P_CLUSTER_ID]) + 1);
  }
  if (pv->has[P_DIRECTORY_ID]) {
    if (sl_uuid_parse(pv->val[P_DIRECTORY_ID], strlen(pv->val[P_DIRECTORY_ID]),
                      &out->directory_id) != SL_OK) {
      rc = sl_diag_set(diag, SL_ECORRUPT, -1, "directory.id '%s' is not a UUID",
                       pv->val[P_DIRECTORY_ID]);
      goto out;
    }
    out->has_directory_id = true;
  }
  if (out->version == 1 && !out->has_cluster_id) {
    rc = sl_diag_set(diag, SL_ECORRUPT, -1, "cluster.id was not found");
    goto out;
  }
  if (out->version == 1 && !out->has_node_id) {
    rc = sl_diag_set(diag, SL_ECORRUPT, -1, "node.id was not found");
    goto out;
  }
out:
  free(pv);
  return rc;
}

/* Java Properties.saveConvert for a value (escapeSpace only for a leading space);
 * only printable ASCII is supported. */
static int prop_escape(sl_buf *out, const char *s, bool is_key) {
  for (size_t i = 0; s[i]; i++) {
    char c = s[i];
    const char *rep = NULL;
    char two[2] = {'\\', c};
    switch (c) {
    case '\t':
      rep = "\\t";
      break;
    case '\n':
      rep = "\\n";
      break;
    case '\r':
      rep = "\\r";
      break;
    case '\f':
      rep = "\\f";
      break;
    case ' ':
      if (i == 0 || is_key)
        rep = "\\ ";
      break;
    case '\\':
    case '=':
    case ':':
    case '#':
    case '!':
      if (sl_buf_append(out, two, 2))
        return SL_ENOMEM;
      continue;
    default:
      if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
        return SL_EINVAL;
    }
    if (rep ? sl_buf_append(out, rep, strlen(rep)) : sl_buf_append(out, &c, 1))
      return SL_ENOMEM;
  }
  return SL_OK;
}

static int prop_put(sl_buf *out, const char *key, const char *val) {
  int rc = prop_escape(out, key, true);
  if (rc == SL_OK && sl_buf_append(out, "=", 1))
    rc = SL_ENOMEM;
  if (rc == SL_OK)
    rc = prop_escape(out, val, false);
  if (rc == SL_OK && sl_buf_append(out, "\n", 1))
    rc = SL_ENOMEM;
  return rc;
}

int sl_meta_properties_format(const sl_meta_properties *m, int64_t now_ms, sl_buf *out) {
  static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char line[128];
  char num[16];
  struct tm tm;
  int rc;
  if (m->version != 0 && m->version != 1)
    return SL_EINVAL;
  if (m->version == 1 && (!m->has_node_id || !m->has_cluster_id))
    return SL_EINVAL;
  if (m->has_node_id && m->node_id < 0)
    return SL_EINVAL;
  time_t secs = (time_t)(now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000);
  if (gmtime_r(&secs, &tm) == NULL)
    return SL_EINVAL;
  /* Properties.store(w, ""): the (empty) comment line, then Date.toString. */
  int n = snprintf(line, sizeof(line), "#\n#%s %s %02d %02d:%02d:%02d UTC %d\n",
                   wday[tm.tm_wday], mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, tm.tm_year + 1900);
  if (sl_buf_append(out, line, (size_t)n))
    return SL_ENOMEM;
  /* Keys in sorted order, as Java 18+ Properties.store writes them. */
  if (m->version == 0 && m->has_node_id) {
    snprintf(num, sizeof(num), "%" PRId32, m->node_id);
    if ((rc = prop_put(out, "broker.id", num)) != SL_OK)
      return rc;
  }
  if (m->has_cluster_id && (rc = prop_put(out, "cluster.id", m->cluster_id)) != SL_OK)
    return rc;
  if (m->has_directory_id) {
    char id[SL_UUID_STR_LEN + 1];
    sl_uuid_to_string(&m->directory_id, id);
    if ((rc = prop_put(out, "directory.id", id)) != SL_OK)
      return rc;
  }
  if (m->version == 1) {
    snprintf(num, sizeof(num), "%" PRId32, m->node_id);
    if ((rc = prop_put(out, "node.id", num)) != SL_OK)
      return rc;
  }
  return prop_put(out, "version", m->version == 1 ? "1" : "0");
}

int sl_meta_properties_read(const char *log_dir, sl_meta_properties *out, sl_diag *diag) {
  char path[PATH_MAX];
  sl_buf b = SL_BUF_INIT;
  int rc = join_path(path, sizeof(path), log_dir, SL_META_PROPERTIES_FILE, diag);
  if (rc == SL_OK)
    rc = sl__fio_read_file(path, MAX_SMALL_FILE, &b, diag);
  if (rc == SL_OK) {
    rc = sl_meta_properties_parse(b.data, b.len, out, diag);
    if (rc)
      set_path(diag, path);
  }
  sl_buf_release(&b);
  return rc;
}

int sl_meta_properties_write(const char *log_dir, const sl_meta_properties *m,
                             sl_diag *diag) {
  char path[PATH_MAX];
  sl_buf b = SL_BUF_INIT;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int rc = join_path(path, sizeof(path), log_dir, SL_META_PROPERTIES_FILE, diag);
  if (rc == SL_OK) {
    rc = sl_meta_properties_format(m, (int64_t)ts.tv_sec * 1000, &b);
    if (rc)
      rc = sl_diag_set(diag, rc, -1, "cannot format meta.properties");
  }
  if (rc == SL_OK)
    rc = sl__fio_write_atomic(path, b.data, b.len, true, diag);
  sl_buf_release(&b);
  return rc;
}

/* ---- .kafka_cleanshutdown ---- */

typedef struct json_cur {
  const char *p;
  size_t len, pos;
} json_cur;

static void json_ws(json_cur *c) {
  while (c->pos < c->len && (c->p[c->pos] == ' ' || c->p[c->pos] == '\t' ||
                             c->p[c->pos] == '\n' || c->p[c->pos] == '\r'))
    c->pos++;
}

/* Skips a string starting at a quote; sets s and n to its raw contents. */
static bool json_string(json_cur *c, const char **s, size_t *n) {
  if (c->pos >= c->len || c->p[c->pos] != '"')
    return false;
  size_t st = ++c->pos;
  while (c->pos < c->len && c->p[c->pos] != '"') {
    if (c->p[c->pos] == '\\')
      c->pos++;
    c->pos++;
  }
  if (c->pos >= c->len)
    return false;
  *s = c->p + st;
  *n = c->pos - st;
  c->pos++;
  return true;
}

/* Skips any JSON value (nesting bounded by the input). */
static bool json_skip(json_cur *c) {
  int depth = 0;
  do {
    json_ws(c);
    if (c->pos >= c->len)
      return false;
    char ch = c->p[c->pos];
    if (ch == '"') {
      const char *s;
      size_t n;
      if (!json_string(c, &s, &n))
        return false;
    } else if (ch == '{' || ch == '[') {
      depth++;
      c->pos++;
    } else if (ch == '}' || ch == ']') {
      if (depth == 0)
        return false;
      depth--;
      c->pos++;
    } else if (ch == ',' || ch == ':') {
      if (depth == 0)
        return false;
      c->pos++;
    } else {
      size_t st = c->pos;
      while (c->pos < c->len && strchr(",:{}[]\" \t\r\n", c->p[c->pos]) == NULL)
        c->pos++;
      if (c->pos == st)
        return false;
    }
  } while (depth > 0);
  return true;
}

void sl_clean_shutdown_parse(const void *p, size_t len, int64_t *broker_epoch) {
  json_cur c = {(const char *)p, len, 0};
  int64_t epoch = -1;
  *broker_epoch = -1;
  if (p == NULL)
    return;
  json_ws(&c);
  if (c.pos >= c.len || c.p[c.pos] != '{')
    return;
  c.pos++;
  json_ws(&c);
  if (c.pos < c.len && c.p[c.pos] == '}')
    return;
  for (;;) {
    const char *k;
    size_t kn;
    json_ws(&c);
    if (!json_string(&c, &k, &kn))
      return;
    json_ws(&c);
    if (c.pos >= c.len || c.p[c.pos] != ':')
      return;
    c.pos++;
    json_ws(&c);
    size_t vst = c.pos;
    if (!json_skip(&c))
      return;
    if (kn == 11 && memcmp(k, "brokerEpoch", 11) == 0) {
      if (sl_parse_decimal(c.p + vst, c.pos - vst, INT64_MIN, INT64_MAX, &epoch) != SL_OK)
        return;
    }
    json_ws(&c);
    if (c.pos >= c.len)
      return;
    if (c.p[c.pos] == '}')
      break;
    if (c.p[c.pos] != ',')
      return;
    c.pos++;
  }
  *broker_epoch = epoch;
}

int sl_clean_shutdown_format(int64_t broker_epoch, sl_buf *out) {
  char text[80];
  int n = snprintf(text, sizeof(text), "{\"version\":0,\"brokerEpoch\":%" PRId64 "}",
                   broker_epoch);
  return sl_buf_append(out, text, (size_t)n) ? SL_ENOMEM : SL_OK;
}

int sl_clean_shutdown_read(const char *log_dir, bool *exists, int64_t *broker_epoch,
                           sl_diag *diag) {
  char path[PATH_MAX];
  sl_buf b = SL_BUF_INIT;
  int64_t e = -1;
  *exists = false;
  int rc = join_path(path, sizeof(path), log_dir, SL_CLEAN_SHUTDOWN_FILE, diag);
  if (rc == SL_OK) {
    rc = sl__fio_read_file(path, MAX_SMALL_FILE, &b, diag);
    if (rc == SL_ENOT_FOUND) {
      sl_diag_clear(diag);
      rc = SL_OK;
    } else if (rc == SL_OK || rc == SL_ETOO_LARGE) {
      /* it exists; only existence matters to Kafka */
      *exists = true;
      if (rc == SL_OK)
        sl_clean_shutdown_parse(b.data, b.len, &e);
      sl_diag_clear(diag);
      rc = SL_OK;
    }
  }
  if (broker_epoch)
    *broker_epoch = e;
  sl_buf_release(&b);
  return rc;
}

int sl_clean_shutdown_write(const char *log_dir, int64_t broker_epoch, sl_diag *diag) {
  char path[PATH_MAX];
  sl_buf b = SL_BUF_INIT;
  int rc = join_path(path, sizeof(path), log_dir, SL_CLEAN_SHUTDOWN_FILE, diag);
  if (rc == SL_OK && sl_clean_shutdown_format(broker_epoch, &b) != SL_OK)
    rc = sl_diag_set(diag, SL_ENOMEM, -1, "out of memory");
  if (rc == SL_OK)
    rc = sl__fio_write_atomic(path, b.data, b.len, true, diag);
  sl_buf_release(&b);
  return rc;
}

int sl_clean_shutdown_delete(const char *log_dir, sl_diag *diag) {
  char path[PATH_MAX];
  int rc = join_path(path, sizeof(path), log_dir, SL_CLEAN_SHUTDOWN_FILE, diag);
  if (rc == SL_OK)
    rc = sl__fio_unlink(path, diag);
  if (rc == SL_OK)
    rc = sl__fio_fsync_dir(log_dir, diag);
  return rc;
}
