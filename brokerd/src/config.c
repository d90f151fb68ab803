/*
 * config.c - server.properties parsing and Kafka's key table for seglogd (see
 * config.h; the keys, defaults and checks are listed in docs/BROKER.md,
 * "Configuration").  Parsing follows java.util.Properties.load; value parsing
 * follows Kafka's ConfigDef (values are trimmed; INT/LONG are plain decimal
 * integers with an optional sign; BOOLEAN is true/false in any case).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdlog.h"

typedef struct ckey_def {
  const char *name;
  sd_ctype type;
  const char *def;
  int64_t min;
  int64_t max;
  const char *allowed; /* comma-separated, or NULL */
} ckey_def;

static const ckey_def key_defs[SD_CFG__COUNT] = {
#define SD__CKEY_DEF(id, name, type, def, min, max, allowed)                             \
  {name, type, def, (int64_t)(min), (int64_t)(max), allowed},
    SD_CONFIG_MAP(SD__CKEY_DEF)
#undef SD__CKEY_DEF
};

/*
 * Kafka broker keys that a stock server.properties sets but that have no
 * meaning for a single seglogd node yet: accepted, with a warning, so that
 * Kafka's own sample file starts.
 */
static const char *const ignored_keys[] = {
    "broker.id",
    "process.roles",
    "controller.quorum.voters",
    "controller.quorum.bootstrap.servers",
    "controller.listener.names",
    "inter.broker.listener.name",
    "listener.security.protocol.map",
    "num.network.threads",
    "num.io.threads",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "num.recovery.threads.per.data.dir",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "group.initial.rebalance.delay.ms",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
    "zookeeper.connect",
    "zookeeper.connection.timeout.ms",
};

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

static char *xstrndup(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d != NULL) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* Java's String.trim: strips bytes <= ' ' at both ends. */
static void trim_span(const char **s, size_t *n) {
  const char *p = *s;
  size_t len = *n;
  while (len > 0 && (unsigned char)p[0] <= ' ') {
    p++;
    len--;
  }
  while (len > 0 && (unsigned char)p[len - 1] <= ' ')
    len--;
  *s = p;
  *n = len;
}

static const char *type_name(sd_ctype t) {
  switch (t) {
  case SD_CT_INT:
    return "INT";
  case SD_CT_LONG:
    return "LONG";
  case SD_CT_DOUBLE:
    return "DOUBLE";
  case SD_CT_BOOL:
    return "BOOLEAN";
  case SD_CT_STRING:
    return "STRING";
  case SD_CT_LIST:
    return "LIST";
  }
  return "?";
}

/* Decimal integer as Java's Long.parseLong: optional sign, digits only. */
static bool parse_i64(const char *s, int64_t *out) {
  if (*s == '\0')
    return false;
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  if (*p == '\0')
    return false;
  for (const char *q = p; *q; q++)
    if (!isdigit((unsigned char)*q))
      return false;
  errno = 0;
  char *end = NULL;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == NULL || *end != '\0')
    return false;
  *out = (int64_t)v;
  return true;
}

static bool parse_double(const char *s, double *out) {
  if (*s == '\0')
    return false;
  errno = 0;
  char *end = NULL;
  double v = strtod(s, &end);
  if (errno == ERANGE && fabs(v) > 1.0)
    return false;
  if (end == NULL || *end != '\0' || isnan(v))
    return false;
  /* Java accepts a trailing d/D/f/F; so do we. */
  *out = v;
  return true;
}

/* True if item (len n) is one of the comma-separated words in allowed. */
static bool in_allowed(const char *allowed, const char *item, size_t n) {
  const char *p = allowed;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t wl = comma ? (size_t)(comma - p) : strlen(p);
    if (wl == n && memcmp(p, item, n) == 0)
      return true;
    if (comma == NULL)
      break;
    p = comma + 1;
  }
  return false;
}

/* Parses text for key k into *v.  Kafka's wording for errors. */
static int parse_value(sd_ckey k, const char *text, sd_cvalue *v, char *err, size_t cap) {
  const ckey_def *d = &key_defs[k];
  const char *s = text;
  size_t n = strlen(text);
  trim_span(&s, &n);
  char *t = xstrndup(s, n);
  if (t == NULL)
    return fail(err, cap, "out of memory");
  int rc = 0;
  sd_cvalue nv = {0};
  switch (d->type) {
  case SD_CT_INT:
  case SD_CT_LONG: {
    int64_t x;
    int64_t lo = d->type == SD_CT_INT && d->min < INT32_MIN ? INT32_MIN : d->min;
    if (!parse_i64(t, &x) || (d->type == SD_CT_INT && (x < INT32_MIN || x > INT32_MAX))) {
      rc =
          fail(err, cap, "Invalid value %s for configuration %s: Not a number of type %s",
               t, d->name, type_name(d->type));
    } else if (x < lo) {
      rc = fail(err, cap,
                "Invalid value %s for configuration %s: Value must be at least %lld", t,
                d->name, (long long)lo);
    } else if (x > d->max) {
      rc = fail(err, cap,
                "Invalid value %s for configuration %s: Value must be no more "
                "than %lld",
                t, d->name, (long long)d->max);
    }
    nv.i = x;
    break;
  }
  case SD_CT_DOUBLE: {
    double x;
    char *u = t;
    size_t ul = strlen(u);
    if (ul > 0 && strchr("dDfF", u[ul - 1]) != NULL)
      u[ul - 1] = '\0';
    if (!parse_double(u, &x)) {
      rc = fail(err, cap,
                "Invalid value %s for configuration %s: Not a number of type DOUBLE", t,
                d->name);
    } else if (d->min != INT64_MIN && (x < (double)d->min || x > (double)d->max)) {
      rc = fail(err, cap,
                "Invalid value %s for configuration %s: Value must be between %lld and "
                "%lld",
                t, d->name, (long long)d->min, (long long)d->max);
    }
    nv.d = x;
    break;
  }
  case SD_CT_BOOL:
    if (strcasecmp(t, "true") == 0) {
      nv.i = 1;
    } else if (strcasecmp(t, "false") == 0) {
      nv.i = 0;
    } else {
      rc = fail(err, cap,
                "Invalid value %s for configuration %s: Expected value to be either true "
                "or false",
                t, d->name);
    }
    break;
  case SD_CT_STRING:
    if (d->allowed != NULL && !in_allowed(d->allowed, t, strlen(t))) {
      rc = fail(err, cap,
                "Invalid value %s for configuration %s: String must be one of: %s", t,
                d->name, d->allowed);
    }
    break;
  case SD_CT_LIST:
    if (d->allowed != NULL) {
      const char *p = t;
      while (rc == 0) {
        const char *comma = strchr(p, ',');
        const char *item = p;
        size_t il = comma ? (size_t)(comma - p) : strlen(p);
        trim_span(&item, &il);
        if (il == 0 || !in_allowed(d->allowed, item, il))
          rc = fail(err, cap,
                    "Invalid value %s for configuration %s: each item must be "
                    "one of: %s",
                    t, d->name, d->allowed);
        if (comma == NULL)
          break;
        p = comma + 1;
      }
    }
    break;
  }
  if (rc != 0) {
    free(t);
    return rc;
  }
  nv.s = t;
  free(v->s);
  *v = nv;
  return 0;
}

int sd_config_init(sd_config *c) {
  memset(c, 0, sizeof(*c));
  char err[256];
  for (int k = 0; k < SD_CFG__COUNT; k++) {
    if (key_defs[k].def == NULL) {
      c->v[k].is_null = true;
      continue;
    }
    if (parse_value((sd_ckey)k, key_defs[k].def, &c->v[k], err, sizeof(err)) != 0) {
      sd_config_release(c);
      return -1;
    }
  }
  return 0;
}

void sd_config_release(sd_config *c) {
  if (c == NULL)
    return;
  for (int k = 0; k < SD_CFG__COUNT; k++) {
    free(c->v[k].s);
    c->v[k].s = NULL;
  }
  for (int i = 0; i < c->n_log_dirs; i++)
    free(c->log_dirs[i]);
  c->n_log_dirs = 0;
}

const char *sd_config_key_name(sd_ckey k) {
  return key_defs[k].name;
}

int64_t sd_cfg_i(const sd_config *c, sd_ckey k) {
  return c->v[k].i;
}
double sd_cfg_d(const sd_config *c, sd_ckey k) {
  return c->v[k].d;
}
bool sd_cfg_b(const sd_config *c, sd_ckey k) {
  return c->v[k].i != 0;
}
const char *sd_cfg_s(const sd_config *c, sd_ckey k) {
  return c->v[k].is_null ? NULL : c->v[k].s;
}

int sd_config_set(sd_config *c, const char *key, const char *value, char *err,
                  size_t errcap) {
  for (int k = 0; k < SD_CFG__COUNT; k++) {
    if (strcmp(key_defs[k].name, key) != 0)
      continue;
    if (parse_value((sd_ckey)k, value, &c->v[k], err, errcap) != 0)
      return -1;
    c->v[k].explicit_set = true;
    return 0;
  }
  for (size_t i = 0; i < sizeof(ignored_keys) / sizeof(ignored_keys[0]); i++) {
    if (strcmp(ignored_keys[i], key) == 0) {
      SD_WARN("config: %s is a Kafka key that seglogd does not use; ignored", key);
      return 0;
    }
  }
  return fail(err, errcap, "Unknown configuration '%s'", key);
}

int sd_config_set_override(sd_config *c, const char *kv, char *err, size_t errcap) {
  const char *eq = strchr(kv, '=');
  if (eq == NULL || eq == kv)
    return fail(err, errcap, "--override expects KEY=VALUE, got '%s'", kv);
  char *key = xstrndup(kv, (size_t)(eq - kv));
  if (key == NULL)
    return fail(err, errcap, "out of memory");
  const char *ks = key;
  size_t kn = strlen(key);
  trim_span(&ks, &kn);
  char *tk = xstrndup(ks, kn);
  free(key);
  if (tk == NULL)
    return fail(err, errcap, "out of memory");
  char inner[512];
  int rc = sd_config_set(c, tk, eq + 1, inner, sizeof(inner));
  if (rc != 0)
    fail(err, errcap, "%s (--override %s)", inner, tk);
  free(tk);
  return rc;
}

/* ---- Java properties ---- */

typedef struct pbuf {
  char *p;
  size_t len, cap;
} pbuf;

static int pbuf_put(pbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc < b->len + n + 1)
      nc *= 2;
    char *np = realloc(b->p, nc);
    if (np == NULL)
      return -1;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static bool is_ws(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\f';
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Properties.loadConvert: resolves escapes of in[0..n) into out. */
static int load_convert(const char *in, size_t n, pbuf *out, int line, char *err,
                        size_t cap) {
  out->len = 0;
  if (pbuf_put(out, "", 0) != 0)
    return fail(err, cap, "out of memory");
  size_t i = 0;
  while (i < n) {
    char ch = in[i++];
    if (ch != '\\') {
      if (pbuf_put(out, &ch, 1) != 0)
        return fail(err, cap, "out of memory");
      continue;
    }
    if (i >= n)
      break; /* a lone trailing backslash is dropped */
    ch = in[i++];
    char utf8[4];
    size_t ul = 1;
    if (ch == 'u') {
      uint32_t cp = 0;
      for (int j = 0; j < 4; j++) {
        int h = i < n ? hexval(in[i]) : -1;
        if (h < 0)
          return fail(err, cap, "line %d: Malformed \\uxxxx encoding", line);
        cp = cp << 4 | (uint32_t)h;
        i++;
      }
      if (cp == 0)
        return fail(err, cap, "line %d: \\u0000 is not allowed", line);
      if (cp < 0x80) {
        utf8[0] = (char)cp;
      } else if (cp < 0x800) {
        utf8[0] = (char)(0xc0 | cp >> 6);
        utf8[1] = (char)(0x80 | (cp & 0x3f));
        ul = 2;
      } else {
        utf8[0] = (char)(0xe0 | cp >> 12);
        utf8[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        utf8[2] = (char)(0x80 | (cp & 0x3f));
        ul = 3;
      }
    } else if (ch == 't') {
      utf8[0] = '\t';
    } else if (ch == 'r') {
      utf8[0] = '\r';
    } else if (ch == 'n') {
      utf8[0] = '\n';
    } else if (ch == 'f') {
      utf8[0] = '\f';
    } else {
      utf8[0] = ch;
    }
    if (pbuf_put(out, utf8, ul) != 0)
      return fail(err, cap, "out of memory");
  }
  return 0;
}

int sd_props_parse(const char *text, size_t len, sd_props_cb cb, void *ctx, char *err,
                   size_t errcap) {
  pbuf logical = {0}, key = {0}, val = {0};
  size_t pos = 0;
  int line = 1;
  int rc = 0;
  while (pos < len && rc == 0) {
    /* Start of a natural line: skip leading whitespace. */
    while (pos < len && is_ws(text[pos]))
      pos++;
    if (pos >= len)
      break;
    if (text[pos] == '\n' || text[pos] == '\r') {
      if (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n')
        pos++;
      pos++;
      line++;
      continue;
    }
    if (text[pos] == '#' || text[pos] == '!') {
      while (pos < len && text[pos] != '\n' && text[pos] != '\r')
        pos++;
      continue; /* the line end is consumed above on the next turn */
    }
    int first_line = line;
    logical.len = 0;
    if (pbuf_put(&logical, "", 0) != 0) {
      rc = fail(err, errcap, "out of memory");
      break;
    }
    for (;;) {
      size_t start = pos;
      while (pos < len && text[pos] != '\n' && text[pos] != '\r')
        pos++;
      if (pbuf_put(&logical, text + start, pos - start) != 0) {
        rc = fail(err, errcap, "out of memory");
        break;
      }
      size_t bs = 0;
      while (bs < logical.len && logical.p[logical.len - 1 - bs] == '\\')
        bs++;
      bool cont = bs % 2 == 1;
      if (cont)
        logical.p[--logical.len] = '\0';
      if (pos < len) { /* consume the line end */
        if (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n')
          pos++;
        pos++;
        line++;
      }
      if (!cont || pos >= len)
        break;
      while (pos < len && is_ws(text[pos]))
        pos++;
    }
    if (rc != 0)
      break;
    /* Split key and value as Properties.load0 does. */
    const char *lp = logical.p;
    size_t limit = logical.len;
    size_t key_len = 0, value_start = limit;
    bool has_sep = false, preceding_bs = false;
    while (key_len < limit) {
      char ch = lp[key_len];
      if ((ch == '=' || ch == ':') && !preceding_bs) {
        value_start = key_len + 1;
        has_sep = true;
        break;
      }
      if (is_ws(ch) && !preceding_bs) {
        value_start = key_len + 1;
        break;
      }
      preceding_bs = ch == '\\' ? !preceding_bs : false;
      key_len++;
    }
    while (value_start < limit) {
      char ch = lp[value_start];
      if (!is_ws(ch)) {
        if (!has_sep && (ch == '=' || ch == ':'))
          has_sep = true;
        else
          break;
      }
      value_start++;
    }
    if (load_convert(lp, key_len, &key, first_line, err, errcap) != 0 ||
        load_convert(lp + value_start, limit - value_start, &val, first_line, err,
                     errcap) != 0) {
      rc = -1;
      break;
    }
    rc = cb(ctx, key.p, val.p, first_line);
  }
  free(logical.p);
  free(key.p);
  free(val.p);
  return rc;
}

typedef struct file_ctx {
  sd_config *c;
  const char *path;
  char *err;
  size_t cap;
} file_ctx;

static int file_entry(void *ctx, const char *key, const char *value, int line) {
  file_ctx *f = ctx;
  char inner[512];
  if (sd_config_set(f->c, key, value, inner, sizeof(inner)) != 0)
    return fail(f->err, f->cap, "%s (%s line %d)", inner, f->path, line);
  return 0;
}

int sd_config_load_file(sd_config *c, const char *path, char *err, size_t errcap) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return fail(err, errcap, "cannot open config file %s: %s", path, strerror(errno));
  pbuf text = {0};
  char chunk[8192];
  size_t n;
  int rc = 0;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    if (text.len + n > (size_t)16 << 20) {
      rc = fail(err, errcap, "config file %s is larger than 16 MiB", path);
      break;
    }
    if (pbuf_put(&text, chunk, n) != 0) {
      rc = fail(err, errcap, "out of memory");
      break;
    }
  }
  if (rc == 0 && ferror(f))
    rc = fail(err, errcap, "cannot read config file %s: %s", path, strerror(errno));
  fclose(f);
  if (rc == 0) {
    file_ctx fc = {c, path, err, errcap};
    char perr[256];
    perr[0] = '\0';
    rc = sd_props_parse(text.p ? text.p : "", text.len, file_entry, &fc, perr,
                        sizeof(perr));
    if (rc != 0 && perr[0] != '\0')
      fail(err, errcap, "config file %s: %s", path, perr);
  }
  free(text.p);
  return rc;
}

/* ---- listeners ---- */

int sd_listeners_parse(const char *key, const char *text, sd_listener_cfg *out, int max,
                       int *n, char *err, size_t errcap) {
  *n = 0;
  const char *p = text;
  while (*p) {
    const char *comma = strchr(p, ',');
    const char *item = p;
    size_t il = comma ? (size_t)(comma - p) : strlen(p);
    trim_span(&item, &il);
    if (il > 0) {
      char buf[512];
      if (il >= sizeof(buf))
        return fail(err, errcap, "Invalid value for configuration %s: listener too long",
                    key);
      memcpy(buf, item, il);
      buf[il] = '\0';
      char *sep = strstr(buf, "://");
      char *colon = sep ? strrchr(sep + 3, ':') : NULL;
      if (sep == NULL || sep == buf || colon == NULL)
        return fail(err, errcap,
                    "Invalid value %s for configuration %s: listener must be of the form "
                    "NAME://host:port",
                    buf, key);
      *sep = '\0';
      char *host = sep + 3;
      *colon = '\0';
      int64_t port;
      if (!parse_i64(colon + 1, &port) || port < 0 || port > 65535)
        return fail(err, errcap, "Invalid value %s for configuration %s: bad port '%s'",
                    text, key, colon + 1);
      size_t hl = strlen(host);
      if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
      }
      if (strlen(buf) >= sizeof(out->name) || strlen(host) >= sizeof(out->host))
        return fail(err, errcap, "Invalid value %s for configuration %s: name too long",
                    text, key);
      if (strcmp(buf, "PLAINTEXT") != 0)
        return fail(err, errcap,
                    "Invalid value %s for configuration %s: listener %s is not supported "
                    "(only PLAINTEXT)",
                    text, key, buf);
      for (int i = 0; i < *n; i++)
        if (strcmp(out[i].name, buf) == 0)
          return fail(err, errcap,
                      "Invalid value %s for configuration %s: each listener must have a "
                      "different name, %s appears twice",
                      text, key, buf);
      if (*n >= max)
        return fail(err, errcap,
                    "Invalid value %s for configuration %s: too many listeners", text,
                    key);
      memcpy(out[*n].name, buf, strlen(buf) + 1);
      memcpy(out[*n].host, host, strlen(host) + 1);
      out[*n].port = (int)port;
      (*n)++;
    }
    if (comma == NULL)
      break;
    p = comma + 1;
  }
  if (*n == 0)
    return fail(err, errcap, "Invalid value %s for configuration %s: no listener", text,
                key);
  return 0;
}

static int split_log_dirs(sd_config *c, const char *list, char *err, size_t cap) {
  const char *p = list;
  while (*p) {
    const char *comma = strchr(p, ',');
    const char *item = p;
    size_t il = comma ? (size_t)(comma - p) : strlen(p);
    trim_span(&item, &il);
    if (il > 0) {
      if (c->n_log_dirs >= SD_MAX_LOG_DIRS)
        return fail(err, cap,
                    "Invalid value %s for configuration log.dirs: more than %d "
                    "directories",
                    list, SD_MAX_LOG_DIRS);
      char *d = xstrndup(item, il);
      if (d == NULL)
        return fail(err, cap, "out of memory");
      c->log_dirs[c->n_log_dirs++] = d;
    }
    if (comma == NULL)
      break;
    p = comma + 1;
  }
  if (c->n_log_dirs == 0)
    return fail(err, cap, "Invalid value %s for configuration log.dirs: no directory",
                list);
  return 0;
}

int sd_config_finish(sd_config *c, char *err, size_t errcap) {
  if (sd_listeners_parse("listeners", sd_cfg_s(c, SD_CFG_LISTENERS), c->listeners,
                         SD_MAX_LISTENERS, &c->n_listeners, err, errcap) != 0)
    return -1;
  const char *adv = sd_cfg_s(c, SD_CFG_ADVERTISED_LISTENERS);
  if (adv == NULL) {
    memcpy(c->advertised, c->listeners, sizeof(c->listeners));
  } else {
    sd_listener_cfg tmp[SD_MAX_LISTENERS];
    int n;
    if (sd_listeners_parse("advertised.listeners", adv, tmp, SD_MAX_LISTENERS, &n, err,
                           errcap) != 0)
      return -1;
    for (int i = 0; i < c->n_listeners; i++) {
      bool found = false;
      for (int j = 0; j < n; j++) {
        if (strcmp(tmp[j].name, c->listeners[i].name) == 0) {
          c->advertised[i] = tmp[j];
          found = true;
        }
      }
      if (!found)
        c->advertised[i] = c->listeners[i];
    }
    for (int j = 0; j < n; j++) {
      if (strcmp(tmp[j].host, "0.0.0.0") == 0 || strcmp(tmp[j].host, "::") == 0)
        return fail(err, errcap,
                    "Invalid value %s for configuration advertised.listeners: %s is not "
                    "a valid address to advertise",
                    adv, tmp[j].host);
    }
  }

  const char *dirs = sd_cfg_s(c, SD_CFG_LOG_DIRS);
  if (dirs == NULL)
    dirs = sd_cfg_s(c, SD_CFG_LOG_DIR);
  if (dirs == NULL)
    return fail(err, errcap, "Missing required configuration log.dirs");
  if (split_log_dirs(c, dirs, err, errcap) != 0)
    return -1;

  const char *ml = sd_cfg_s(c, SD_CFG_METRICS_LISTENER);
  const char *colon = ml ? strrchr(ml, ':') : NULL;
  int64_t mport;
  if (colon == NULL || !parse_i64(colon + 1, &mport) || mport < 0 || mport > 65535 ||
      (size_t)(colon - ml) >= sizeof(c->metrics_host))
    return fail(err, errcap,
                "Invalid value %s for configuration metrics.listener: expected host:port",
                ml ? ml : "null");
  memcpy(c->metrics_host, ml, (size_t)(colon - ml));
  c->metrics_host[colon - ml] = '\0';
  c->metrics_port = (int)mport;

  /* Kafka: log.retention.ms, else .minutes, else .hours; -1 (any negative) = none. */
  if (!c->v[SD_CFG_RETENTION_MS].is_null)
    c->retention_ms = sd_cfg_i(c, SD_CFG_RETENTION_MS);
  else if (!c->v[SD_CFG_RETENTION_MINUTES].is_null)
    c->retention_ms = sd_cfg_i(c, SD_CFG_RETENTION_MINUTES) * 60000;
  else
    c->retention_ms = sd_cfg_i(c, SD_CFG_RETENTION_HOURS) * 3600000;
  if (c->retention_ms < 0) {
    c->retention_ms = -1;
  } else if (c->retention_ms == 0) {
    return fail(err, errcap,
                "Invalid value 0 for configuration log.retention.ms: must be "
                "unlimited (-1) or, equal or greater than 1");
  }
  if (!c->v[SD_CFG_ROLL_MS].is_null)
    c->roll_ms = sd_cfg_i(c, SD_CFG_ROLL_MS);
  else
    c->roll_ms = sd_cfg_i(c, SD_CFG_ROLL_HOURS) * 3600000;
  c->flush_ms = c->v[SD_CFG_FLUSH_MS].is_null ? sd_cfg_i(c, SD_CFG_FLUSH_SCHEDULER_MS)
                                              : sd_cfg_i(c, SD_CFG_FLUSH_MS);
  return 0;
}
