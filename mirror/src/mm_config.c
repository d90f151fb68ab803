/*
 * mm_config.c - parses seglog-mirror's mm2.properties-style file: the Java
 * .properties lexer, the key table (global keys, `A->B.<key>` flow overrides,
 * `<alias>.*` cluster and client keys), value checks, and the translation of
 * MM2's Java regex lists into POSIX ERE.  docs/MIRROR.md ("Configuration")
 * has the table of keys and their MirrorMaker 2 names.
 */
#include "mm_config.h"

#include <ctype.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MM_CONFIG_FILE_MAX (4u << 20)

typedef struct kvlist {
  mm_kv *v;
  size_t n, cap;
} kvlist;

static void seterr(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
}

static int kv_push(kvlist *l, const char *k, size_t kn, const char *v, size_t vn) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 32;
    mm_kv *nv = realloc(l->v, nc * sizeof *nv);
    if (!nv)
      return -1;
    l->v = nv;
    l->cap = nc;
  }
  char *kk = strndup(k, kn), *vv = strndup(v, vn);
  if (!kk || !vv) {
    free(kk);
    free(vv);
    return -1;
  }
  l->v[l->n].key = kk;
  l->v[l->n].value = vv;
  l->n++;
  return 0;
}

static void kv_release(mm_kv *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].key);
    free(v[i].value);
  }
  free(v);
}

/* Appends the UTF-8 encoding of cp. */
static size_t utf8_put(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xc0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  o[0] = (char)(0xe0 | (cp >> 12));
  o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
  o[2] = (char)(0x80 | (cp & 0x3f));
  return 3;
}

/* Java Properties unescaping of [p, p+n) into o (o has room for n bytes:
 * every escape shrinks or keeps the length). Returns the output length or -1. */
static long prop_unescape(const char *p, size_t n, char *o) {
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != '\\') {
      o[j++] = p[i];
      continue;
    }
    if (++i >= n)
      break; /* a lone trailing backslash is dropped, as Java does */
    char c = p[i];
    switch (c) {
    case 't':
      o[j++] = '\t';
      break;
    case 'n':
      o[j++] = '\n';
      break;
    case 'r':
      o[j++] = '\r';
      break;
    case 'f':
      o[j++] = '\f';
      break;
    case 'u': {
      if (i + 4 >= n)
        return -1;
      unsigned cp = 0;
      for (int k = 1; k <= 4; k++) {
        char h = p[i + (size_t)k];
        cp <<= 4;
        if (h >= '0' && h <= '9')
          cp |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f')
          cp |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
          cp |= (unsigned)(h - 'A' + 10);
        else
          return -1;
      }
      i += 4;
      if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;              /* NUL or a lone surrogate: not representable here */
      j += utf8_put(o + j, cp); /* \uXXXX is 6 bytes in, at most 3 out */
      break;
    }
    default:
      o[j++] = c;
      break;
    }
  }
  return (long)j;
}

/* Splits properties text into key/value pairs (both unescaped). */
static int prop_lex(const char *text, size_t len, kvlist *out, char *err, size_t errcap) {
  size_t i = 0, lineno = 0;
  char *logical = NULL;
  int rc = -1;
  while (i < len) {
    /* Assemble one logical line (continuations joined, leading ws of the
     * continued lines dropped). */
    size_t cap = 0, ll = 0;
    free(logical);
    logical = NULL;
    bool first = true;
    for (;;) {
      lineno++;
      size_t s = i;
      while (i < len && text[i] != '\n' && text[i] != '\r')
        i++;
      size_t e = i;
      if (i < len && text[i] == '\r')
        i++;
      if (i < len && text[i] == '\n')
        i++;
      size_t b = s;
      while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\f'))
        b++;
      if (first && (b == e || text[b] == '#' || text[b] == '!'))
        break; /* blank or comment */
      first = false;
      size_t bs = 0;
      for (size_t k = e; k > b && text[k - 1] == '\\'; k--)
        bs++;
      bool cont = (bs % 2) == 1;
      size_t take = e - b - (cont ? 1 : 0);
      if (ll + take + 1 > cap) {
        size_t nc = (ll + take + 1) * 2;
        char *nl = realloc(logical, nc);
        if (!nl)
          goto done;
        logical = nl;
        cap = nc;
      }
      memcpy(logical + ll, text + b, take);
      ll += take;
      logical[ll] = '\0';
      if (!cont || i >= len)
        break;
    }
    if (!logical)
      continue;
    /* Key: up to the first unescaped '=', ':' or whitespace. */
    size_t k = 0;
    while (k < ll) {
      char c = logical[k];
      if (c == '\\') {
        k += 2;
        continue;
      }
      if (c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f')
        break;
      k++;
    }
    if (k > ll)
      k = ll;
    size_t v = k;
    while (v < ll && (logical[v] == ' ' || logical[v] == '\t' || logical[v] == '\f'))
      v++;
    if (v < ll && (logical[v] == '=' || logical[v] == ':'))
      v++;
    while (v < ll && (logical[v] == ' ' || logical[v] == '\t' || logical[v] == '\f'))
      v++;
    char *kb = malloc(k + 1), *vb = malloc(ll - v + 1);
    if (!kb || !vb) {
      free(kb);
      free(vb);
      goto done;
    }
    long kn = prop_unescape(logical, k, kb);
    long vn = prop_unescape(logical + v, ll - v, vb);
    /* Trailing whitespace of values is kept by Java; we trim it (a value
     * ending in a space is nearly always a typo in a mirror config). */
    while (vn > 0 && (vb[vn - 1] == ' ' || vb[vn - 1] == '\t'))
      vn--;
    if (kn < 0 || vn < 0) {
      seterr(err, errcap, "line %zu: bad \\u escape", lineno);
      free(kb);
      free(vb);
      goto done;
    }
    int pr = kv_push(out, kb, (size_t)kn, vb, (size_t)vn);
    free(kb);
    free(vb);
    if (pr != 0)
      goto done;
  }
  rc = 0;
done:
  free(logical);
  if (rc != 0 && err[0] == '\0')
    seterr(err, errcap, "out of memory");
  return rc;
}

/* ---- Java regex -> POSIX ERE ---- */

static int rx_put(char *out, size_t cap, size_t *j, const char *s) {
  size_t n = strlen(s);
  if (*j + n + 1 > cap)
    return -1;
  memcpy(out + *j, s, n);
  *j += n;
  out[*j] = '\0';
  return 0;
}

int mm_regex_translate(const char *java, char *out, size_t outcap, char *err,
                       size_t errcap) {
  size_t j = 0;
  bool inbr = false;
  size_t brstart = 0;
  if (outcap == 0)
    return -1;
  out[0] = '\0';
  for (size_t i = 0; java[i]; i++) {
    char c = java[i];
    char tmp[8] = {c, '\0'};
    const char *put = tmp;
    if (c == '\\') {
      char d = java[i + 1];
      if (d == '\0') {
        seterr(err, errcap, "trailing backslash");
        return -1;
      }
      i++;
      if (inbr) {
        switch (d) {
        case 'd':
          put = "0-9";
          break;
        case 'w':
          put = "A-Za-z0-9_";
          break;
        case 's':
          put = "[:space:]";
          break;
        case 't':
          put = "\t";
          break;
        case '-':
          put = "[.-.]";
          break;
        case ']':
          put = "[.].]";
          break;
        case '^':
          put = "[.^.]";
          break;
        case '\\':
          put = "[.\\.]";
          break;
        default:
          if (isalnum((unsigned char)d)) {
            seterr(err, errcap, "escape \\%c inside [] is not supported", d);
            return -1;
          }
          tmp[0] = d;
          break;
        }
      } else {
        switch (d) {
        case 'd':
          put = "[0-9]";
          break;
        case 'D':
          put = "[^0-9]";
          break;
        case 'w':
          put = "[A-Za-z0-9_]";
          break;
        case 'W':
          put = "[^A-Za-z0-9_]";
          break;
        case 's':
          put = "[[:space:]]";
          break;
        case 'S':
          put = "[^[:space:]]";
          break;
        case 't':
          put = "\t";
          break;
        default:
          if (isalnum((unsigned char)d)) {
            seterr(err, errcap, "escape \\%c is not supported (no POSIX equivalent)", d);
            return -1;
          }
          tmp[0] = '\\';
          tmp[1] = d;
          tmp[2] = '\0';
          break;
        }
      }
    } else if (inbr) {
      if (c == ']' && i > brstart) {
        inbr = false;
      } else if (c == '[' && java[i + 1] == ':') {
        /* a POSIX class inside brackets: copy through to its ":]" */
        const char *e = strstr(java + i + 2, ":]");
        if (!e) {
          seterr(err, errcap, "unterminated [: class");
          return -1;
        }
        size_t n = (size_t)(e - (java + i)) + 2;
        if (j + n + 1 > outcap)
          goto toolong;
        memcpy(out + j, java + i, n);
        j += n;
        out[j] = '\0';
        i += n - 1;
        continue;
      } else if (c == '&' && java[i + 1] == '&') {
        seterr(err, errcap, "class intersection && is not supported");
        return -1;
      }
    } else {
      if (c == '[') {
        inbr = true;
        brstart = i + 1;
        if (java[brstart] == '^')
          brstart++;
        /* a ']' right after '[' or '[^' is literal in both dialects */
      } else if (c == '(' && java[i + 1] == '?') {
        seterr(err, errcap, "(?...) groups are not supported");
        return -1;
      } else if ((c == '*' || c == '+' || c == '?' || c == '}') &&
                 (java[i + 1] == '?' || java[i + 1] == '+')) {
        seterr(err, errcap, "lazy or possessive quantifiers are not supported");
        return -1;
      }
    }
    if (rx_put(out, outcap, &j, put) != 0)
      goto toolong;
  }
  if (inbr) {
    seterr(err, errcap, "unterminated [");
    return -1;
  }
  return 0;
toolong:
  seterr(err, errcap, "regex too long");
  return -1;
}

static void filter_release(mm_filter *f) {
  if (f->compiled)
    regfree(&f->re);
  free(f->text);
  memset(f, 0, sizeof *f);
}

/* Compiles an MM2 list "re1, re2" into ^((re1)|(re2))$. */
static int filter_set(mm_filter *f, const char *key, const char *text, char *err,
                      size_t errcap) {
  char *pat = NULL, *tr = NULL, *copy = NULL;
  int rc = -1;
  filter_release(f);
  f->text = strdup(text);
  copy = strdup(text);
  size_t cap = strlen(text) * 8 + 16;
  pat = malloc(cap);
  tr = malloc(cap);
  if (!f->text || !copy || !pat || !tr) {
    seterr(err, errcap, "out of memory");
    goto done;
  }
  size_t pj = 0;
  pat[0] = '\0';
  rx_put(pat, cap, &pj, "^(");
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ' || *tok == '\t')
      tok++;
    size_t tl = strlen(tok);
    while (tl > 0 && (tok[tl - 1] == ' ' || tok[tl - 1] == '\t'))
      tok[--tl] = '\0';
    if (tl == 0)
      continue;
    char why[160] = "";
    if (mm_regex_translate(tok, tr, cap, why, sizeof why) != 0) {
      seterr(err, errcap, "%s: regex '%s': %s", key, tok, why);
      goto done;
    }
    if (n++ > 0)
      rx_put(pat, cap, &pj, "|");
    rx_put(pat, cap, &pj, "(");
    rx_put(pat, cap, &pj, tr);
    rx_put(pat, cap, &pj, ")");
  }
  rx_put(pat, cap, &pj, ")$");
  f->empty = n == 0;
  if (!f->empty) {
    int r = regcomp(&f->re, pat, REG_EXTENDED | REG_NOSUB);
    if (r != 0) {
      char why[160];
      regerror(r, &f->re, why, sizeof why);
      seterr(err, errcap, "%s: bad regex list '%s': %s", key, text, why);
      goto done;
    }
    f->compiled = true;
  }
  rc = 0;
done:
  free(pat);
  free(tr);
  free(copy);
  return rc;
}

bool mm_filter_match(const mm_filter *f, const char *s) {
  if (f->empty || !f->compiled)
    return false;
  return regexec(&f->re, s, 0, NULL, 0) == 0;
}

/* ---- values ---- */

static int parse_bool(const char *key, const char *v, bool *out, char *err, size_t cap) {
  if (strcasecmp(v, "true") == 0)
    *out = true;
  else if (strcasecmp(v, "false") == 0)
    *out = false;
  else {
    seterr(err, cap, "%s: expected true or false, got '%s'", key, v);
    return -1;
  }
  return 0;
}

static int parse_int(const char *key, const char *v, int64_t lo, int64_t hi, int64_t *out,
                     char *err, size_t cap) {
  char *end = NULL;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi) {
    seterr(err, cap, "%s: expected an integer in [%lld, %lld], got '%s'", key,
           (long long)lo, (long long)hi, v);
    return -1;
  }
  *out = x;
  return 0;
}

/* Flow keys: valid globally and as `A->B.<key>`. */
enum flow_key {
  FK_TOPICS,
  FK_TOPICS_EXCLUDE,
  FK_GROUPS,
  FK_GROUPS_EXCLUDE,
  FK_REFRESH_TOPICS_S,
  FK_REFRESH_GROUPS_S,
  FK_HEARTBEATS_S,
  FK_CHECKPOINTS_S,
  FK_SYNC_GROUPS_S,
  FK_SYNC_CONFIGS_S,
  FK_EMIT_HEARTBEATS,
  FK_EMIT_CHECKPOINTS,
  FK_SYNC_GROUP_OFFSETS,
  FK_SYNC_TOPIC_CONFIGS,
  FK_REFRESH_TOPICS,
  FK_REFRESH_GROUPS,
  FK_SYNCS_LOCATION,
  FK_OFFSET_LAG_MAX,
  FK_WINDOW,
  FK_REPLICATION_FACTOR,
  FK_CONFIG_EXCLUDE,
  FK__CNT
};

static const char *const flow_key_names[FK__CNT] = {
    "topics",
    "topics.exclude",
    "groups",
    "groups.exclude",
    "refresh.topics.interval.seconds",
    "refresh.groups.interval.seconds",
    "emit.heartbeats.interval.seconds",
    "emit.checkpoints.interval.seconds",
    "sync.group.offsets.interval.seconds",
    "sync.topic.configs.interval.seconds",
    "emit.heartbeats.enabled",
    "emit.checkpoints.enabled",
    "sync.group.offsets.enabled",
    "sync.topic.configs.enabled",
    "refresh.topics.enabled",
    "refresh.groups.enabled",
    "offset-syncs.topic.location",
    "offset.lag.max",
    "mirror.window.records",
    "replication.factor",
    "config.properties.exclude",
};

/* MM2 defaults (docs/MIRROR.md lists where ours differ). */
static const char *const flow_key_defaults[FK__CNT] = {
    ".*",
    ".*[\\-\\.]internal, .*\\.replica, __.*",
    ".*",
    "console-consumer-.*, connect-.*, __.*",
    "600",
    "600",
    "1",
    "60",
    "60",
    "600",
    "true",
    "true",
    "false",
    "true",
    "true",
    "true",
    "source",
    "100",
    "20000",
    "-1",
    "follower\\.replication\\.throttled\\.replicas, "
    "leader\\.replication\\.throttled\\.replicas, "
    "message\\.timestamp\\.difference\\.max\\.ms, message\\.timestamp\\.type, "
    "unclean\\.leader\\.election\\.enable, min\\.insync\\.replicas",
};

static int flow_key_find(const char *k) {
  for (int i = 0; i < FK__CNT; i++)
    if (strcmp(k, flow_key_names[i]) == 0)
      return i;
  return -1;
}

static int flow_apply(mm_flow_cfg *f, int fk, const char *key, const char *v, char *err,
                      size_t cap) {
  int64_t x = 0;
  const int64_t day_s = 86400 * 365;
  switch (fk) {
  case FK_TOPICS:
    return filter_set(&f->topics, key, v, err, cap);
  case FK_TOPICS_EXCLUDE:
    return filter_set(&f->topics_exclude, key, v, err, cap);
  case FK_GROUPS:
    return filter_set(&f->groups, key, v, err, cap);
  case FK_GROUPS_EXCLUDE:
    return filter_set(&f->groups_exclude, key, v, err, cap);
  case FK_REFRESH_TOPICS_S:
  case FK_REFRESH_GROUPS_S:
  case FK_HEARTBEATS_S:
  case FK_CHECKPOINTS_S:
  case FK_SYNC_GROUPS_S:
  case FK_SYNC_CONFIGS_S:
    /* MM2 takes -1 to disable the emitter; so do we. */
    if (parse_int(key, v, -1, day_s, &x, err, cap) != 0)
      return -1;
    if (x == 0) {
      seterr(err, cap, "%s: must be positive, or -1 to disable", key);
      return -1;
    }
    x = x < 0 ? -1 : x * 1000;
    if (fk == FK_REFRESH_TOPICS_S)
      f->refresh_topics_ms = x;
    else if (fk == FK_REFRESH_GROUPS_S)
      f->refresh_groups_ms = x;
    else if (fk == FK_HEARTBEATS_S)
      f->heartbeats_ms = x;
    else if (fk == FK_CHECKPOINTS_S)
      f->checkpoints_ms = x;
    else if (fk == FK_SYNC_CONFIGS_S)
      f->sync_configs_ms = x;
    else
      f->sync_groups_ms = x;
    return 0;
  case FK_EMIT_HEARTBEATS:
    return parse_bool(key, v, &f->emit_heartbeats, err, cap);
  case FK_EMIT_CHECKPOINTS:
    return parse_bool(key, v, &f->emit_checkpoints, err, cap);
  case FK_SYNC_GROUP_OFFSETS:
    return parse_bool(key, v, &f->sync_group_offsets, err, cap);
  case FK_SYNC_TOPIC_CONFIGS:
    return parse_bool(key, v, &f->sync_topic_configs, err, cap);
  case FK_REFRESH_TOPICS:
    return parse_bool(key, v, &f->refresh_topics, err, cap);
  case FK_REFRESH_GROUPS:
    return parse_bool(key, v, &f->refresh_groups, err, cap);
  case FK_SYNCS_LOCATION:
    if (strcmp(v, "source") == 0)
      f->syncs_on_target = false;
    else if (strcmp(v, "target") == 0)
      f->syncs_on_target = true;
    else {
      seterr(err, cap, "%s: expected source or target, got '%s'", key, v);
      return -1;
    }
    return 0;
  case FK_OFFSET_LAG_MAX:
    return parse_int(key, v, 1, INT32_MAX, &f->offset_lag_max, err, cap);
  case FK_WINDOW:
    return parse_int(key, v, 1000, INT32_MAX, &f->window, err, cap);
  case FK_REPLICATION_FACTOR:
    if (parse_int(key, v, -1, 32767, &x, err, cap) != 0)
      return -1;
    if (x == 0) {
      seterr(err, cap, "%s: must be positive, or -1 for the target's default", key);
      return -1;
    }
    f->replication_factor = (int32_t)x;
    return 0;
  case FK_CONFIG_EXCLUDE: {
    for (size_t i = 0; i < f->n_config_exclude; i++)
      free(f->config_exclude[i]);
    free(f->config_exclude);
    f->config_exclude = NULL;
    f->n_config_exclude = 0;
    char *copy = strdup(v), *save = NULL;
    if (!copy)
      return -1;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      while (*t == ' ')
        t++;
      size_t tl = strlen(t);
      while (tl > 0 && t[tl - 1] == ' ')
        t[--tl] = '\0';
      if (tl == 0)
        continue;
      /* MM2 lists regexes; the usual entries are escaped names.  We keep
       * exact names: drop the backslashes. */
      char *name = malloc(tl + 1);
      size_t nj = 0;
      if (!name) {
        free(copy);
        return -1;
      }
      for (size_t i = 0; i < tl; i++)
        if (t[i] != '\\')
          name[nj++] = t[i];
      name[nj] = '\0';
      char **nv = realloc(f->config_exclude, (f->n_config_exclude + 1) * sizeof *nv);
      if (!nv) {
        free(name);
        free(copy);
        return -1;
      }
      f->config_exclude = nv;
      f->config_exclude[f->n_config_exclude++] = name;
    }
    free(copy);
    return 0;
  }
  default:
    return -1;
  }
}

static void flow_release(mm_flow_cfg *f) {
  filter_release(&f->topics);
  filter_release(&f->topics_exclude);
  filter_release(&f->groups);
  filter_release(&f->groups_exclude);
  for (size_t i = 0; i < f->n_config_exclude; i++)
    free(f->config_exclude[i]);
  free(f->config_exclude);
}

void mm_config_free(mm_config *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n_clusters; i++) {
    mm_cluster *k = &c->clusters[i];
    free(k->alias);
    free(k->bootstrap);
    kv_release(k->common, k->n_common);
    kv_release(k->producer, k->n_producer);
    kv_release(k->consumer, k->n_consumer);
  }
  free(c->clusters);
  for (size_t i = 0; i < c->n_flows; i++)
    flow_release(&c->flows[i]);
  free(c->flows);
  free(c->metrics_listener);
  free(c);
}

static bool alias_valid(const char *a, size_t n) {
  if (n == 0 || n >= MM_ALIAS_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)a[i]) || a[i] == '_' || a[i] == '-'))
      return false;
  return true;
}

static long cluster_find(const mm_config *c, const char *a, size_t n) {
  for (size_t i = 0; i < c->n_clusters; i++)
    if (strlen(c->clusters[i].alias) == n && memcmp(c->clusters[i].alias, a, n) == 0)
      return (long)i;
  return -1;
}

/* Checks a librdkafka property on a scratch conf so errors come at start. */
static int rk_check(const char *key, const char *prop, const char *v, char *err,
                    size_t cap) {
  char why[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (!conf)
    return -1;
  rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, prop, v, why, sizeof why);
  rd_kafka_conf_destroy(conf);
  if (r != RD_KAFKA_CONF_OK) {
    seterr(err, cap, "%s: %s", key, why);
    return -1;
  }
  return 0;
}

static int kv_add(mm_kv **v, size_t *n, const char *k, const char *val) {
  mm_kv *nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv)
    return -1;
  *v = nv;
  nv[*n].key = strdup(k);
  nv[*n].value = strdup(val);
  if (!nv[*n].key || !nv[*n].value) {
    free(nv[*n].key);
    free(nv[*n].value);
    return -1;
  }
  (*n)++;
  return 0;
}

/* Keys MM2 knows that have no effect here (accepted so an mm2.properties
 * file loads; docs/MIRROR.md says why each is ignored). */
static const char *const ignored_keys[] = {
    "tasks.max",
    "checkpoints.topic.replication.factor",
    "heartbeats.topic.replication.factor",
    "offset-syncs.topic.replication.factor",
    "offset.storage.replication.factor",
    "status.storage.replication.factor",
    "config.storage.replication.factor",
    "replication.policy.internal.topic.separator.enabled",
    "dedicated.mode.enable.internal.rest",
    NULL,
};

static bool ignored(const char *k) {
  for (size_t i = 0; ignored_keys[i]; i++)
    if (strcmp(k, ignored_keys[i]) == 0)
      return true;
  return false;
}

int mm_config_parse(const char *text, size_t len, mm_config **out, char *err,
                    size_t cap) {
  kvlist kv = {0};
  mm_config *c = NULL;
  mm_flow_cfg defaults;
  mm_flow_cfg *all = NULL; /* n_clusters^2 flow configs, indexed src*n+dst */
  size_t nall = 0;
  int rc = -1;
  memset(&defaults, 0, sizeof defaults);
  if (cap)
    err[0] = '\0';
  if (prop_lex(text, len, &kv, err, cap) != 0)
    goto done;
  c = calloc(1, sizeof *c);
  if (!c)
    goto oom;
  memcpy(c->separator, ".", 2);

  /* clusters first: every other key is read against the alias list. */
  const char *clusters = NULL;
  for (size_t i = 0; i < kv.n; i++)
    if (strcmp(kv.v[i].key, "clusters") == 0)
      clusters = kv.v[i].value;
  if (!clusters || !*clusters) {
    seterr(err, cap, "clusters: missing (e.g. clusters = A, B)");
    goto done;
  }
  {
    char *copy = strdup(clusters), *save = NULL;
    if (!copy)
      goto oom;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      while (*t == ' ' || *t == '\t')
        t++;
      size_t tl = strlen(t);
      while (tl > 0 && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
        t[--tl] = '\0';
      if (!alias_valid(t, tl)) {
        seterr(err, cap, "clusters: alias '%s' must be 1-%d of [A-Za-z0-9_-]", t,
               MM_ALIAS_MAX - 1);
        free(copy);
        goto done;
      }
      if (cluster_find(c, t, tl) >= 0) {
        seterr(err, cap, "clusters: alias '%s' listed twice", t);
        free(copy);
        goto done;
      }
      mm_cluster *nc = realloc(c->clusters, (c->n_clusters + 1) * sizeof *nc);
      if (!nc) {
        free(copy);
        goto oom;
      }
      c->clusters = nc;
      memset(&nc[c->n_clusters], 0, sizeof *nc);
      nc[c->n_clusters].alias = strdup(t);
      c->n_clusters++;
      if (!nc[c->n_clusters - 1].alias) {
        free(copy);
        goto oom;
      }
    }
    free(copy);
  }
  if (c->n_clusters < 2) {
    seterr(err, cap, "clusters: at least two aliases are needed");
    goto done;
  }

  /* Defaults, then global flow keys. */
  for (int k = 0; k < FK__CNT; k++)
    if (flow_apply(&defaults, k, flow_key_names[k], flow_key_defaults[k], err, cap) != 0)
      goto done;
  for (size_t i = 0; i < kv.n; i++) {
    const char *k = kv.v[i].key, *v = kv.v[i].value;
    int fk = flow_key_find(k);
    if (fk >= 0) {
      if (flow_apply(&defaults, fk, k, v, err, cap) != 0)
        goto done;
      continue;
    }
    if (strcmp(k, "clusters") == 0 || ignored(k))
      continue;
    if (strcmp(k, "replication.policy.class") == 0) {
      const char *dot = strrchr(v, '.');
      const char *base = dot ? dot + 1 : v;
      if (strcmp(base, "DefaultReplicationPolicy") == 0)
        c->identity_policy = false;
      else if (strcmp(base, "IdentityReplicationPolicy") == 0)
        c->identity_policy = true;
      else {
        seterr(err, cap,
               "%s: '%s' is not supported (DefaultReplicationPolicy or "
               "IdentityReplicationPolicy)",
               k, v);
        goto done;
      }
      continue;
    }
    if (strcmp(k, "replication.policy.separator") == 0) {
      size_t vl = strlen(v);
      if (vl == 0 || vl >= sizeof c->separator) {
        seterr(err, cap, "%s: must be 1-%zu characters", k, sizeof c->separator - 1);
        goto done;
      }
      memcpy(c->separator, v, vl + 1);
      continue;
    }
    if (strcmp(k, "metrics.listener") == 0) {
      free(c->metrics_listener);
      c->metrics_listener = strdup(v);
      if (!c->metrics_listener)
        goto oom;
      continue;
    }
    if (strcmp(k, "exactly.once.source.support") == 0 ||
        strcmp(k, "exactly.once.support") == 0) {
      if (strcmp(v, "disabled") == 0)
        continue;
      seterr(err, cap,
             "%s: exactly-once needs transactions on the target, which seglogd does "
             "not support yet; only 'disabled' is accepted (docs/MIRROR.md, Delivery)",
             k);
      goto done;
    }
    const char *arrow = strstr(k, "->");
    if (arrow) {
      long s = cluster_find(c, k, (size_t)(arrow - k));
      if (s < 0) {
        seterr(err, cap, "%s: '%.*s' is not in clusters", k, (int)(arrow - k), k);
        goto done;
      }
      continue; /* flow keys are applied per flow below */
    }
    const char *dot = strchr(k, '.');
    if (dot && cluster_find(c, k, (size_t)(dot - k)) >= 0) {
      mm_cluster *cl = &c->clusters[cluster_find(c, k, (size_t)(dot - k))];
      const char *rest = dot + 1;
      if (strcmp(rest, "bootstrap.servers") == 0) {
        free(cl->bootstrap);
        cl->bootstrap = strdup(v);
        if (!cl->bootstrap)
          goto oom;
      } else if (strncmp(rest, "producer.", 9) == 0) {
        if (rk_check(k, rest + 9, v, err, cap) != 0 ||
            kv_add(&cl->producer, &cl->n_producer, rest + 9, v) != 0)
          goto done;
      } else if (strncmp(rest, "consumer.", 9) == 0) {
        if (rk_check(k, rest + 9, v, err, cap) != 0 ||
            kv_add(&cl->consumer, &cl->n_consumer, rest + 9, v) != 0)
          goto done;
      } else if (strncmp(rest, "admin.", 6) == 0) {
        seterr(err, cap,
               "%s: admin.* is not used (admin requests go through the "
               "cluster's producer and consumer)",
               k);
        goto done;
      } else {
        if (rk_check(k, rest, v, err, cap) != 0 ||
            kv_add(&cl->common, &cl->n_common, rest, v) != 0)
          goto done;
      }
      continue;
    }
    seterr(err, cap, "%s: unknown key", k);
    goto done;
  }
  for (size_t i = 0; i < c->n_clusters; i++)
    if (!c->clusters[i].bootstrap) {
      seterr(err, cap, "%s.bootstrap.servers: missing", c->clusters[i].alias);
      goto done;
    }

  /* Per-flow: copy the defaults (re-parsing the global filter text so each
   * flow owns its compiled regexes), then apply `A->B.` keys in order. */
  nall = c->n_clusters * c->n_clusters;
  all = calloc(nall, sizeof *all);
  if (!all)
    goto oom;
  for (size_t s = 0; s < c->n_clusters; s++)
    for (size_t d = 0; d < c->n_clusters; d++) {
      mm_flow_cfg *f = &all[s * c->n_clusters + d];
      *f = defaults;
      memset(&f->topics, 0, sizeof f->topics);
      memset(&f->topics_exclude, 0, sizeof f->topics_exclude);
      memset(&f->groups, 0, sizeof f->groups);
      memset(&f->groups_exclude, 0, sizeof f->groups_exclude);
      f->config_exclude = NULL;
      f->n_config_exclude = 0;
      f->src = s;
      f->dst = d;
      f->enabled = false;
      if (filter_set(&f->topics, "topics", defaults.topics.text, err, cap) != 0 ||
          filter_set(&f->topics_exclude, "topics.exclude", defaults.topics_exclude.text,
                     err, cap) != 0 ||
          filter_set(&f->groups, "groups", defaults.groups.text, err, cap) != 0 ||
          filter_set(&f->groups_exclude, "groups.exclude", defaults.groups_exclude.text,
                     err, cap) != 0)
        goto done;
      for (size_t i = 0; i < defaults.n_config_exclude; i++) {
        char **nv = realloc(f->config_exclude, (f->n_config_exclude + 1) * sizeof *nv);
        if (!nv)
          goto oom;
        f->config_exclude = nv;
        nv[f->n_config_exclude] = strdup(defaults.config_exclude[i]);
        if (!nv[f->n_config_exclude])
          goto oom;
        f->n_config_exclude++;
      }
    }
  for (size_t i = 0; i < kv.n; i++) {
    const char *k = kv.v[i].key, *v = kv.v[i].value;
    const char *arrow = strstr(k, "->");
    if (!arrow)
      continue;
    long s = cluster_find(c, k, (size_t)(arrow - k));
    const char *rest = arrow + 2;
    long d = -1;
    const char *key = NULL;
    for (size_t j = 0; j < c->n_clusters; j++) {
      size_t al = strlen(c->clusters[j].alias);
      if (strncmp(rest, c->clusters[j].alias, al) == 0 && rest[al] == '.') {
        d = (long)j;
        key = rest + al + 1;
      }
    }
    if (d < 0) {
      seterr(err, cap, "%s: the target alias is not in clusters", k);
      goto done;
    }
    if (d == s) {
      seterr(err, cap, "%s: a flow needs two different clusters", k);
      goto done;
    }
    mm_flow_cfg *f = &all[(size_t)s * c->n_clusters + (size_t)d];
    if (strcmp(key, "enabled") == 0) {
      if (parse_bool(k, v, &f->enabled, err, cap) != 0)
        goto done;
      continue;
    }
    int fk = flow_key_find(key);
    if (fk < 0) {
      seterr(err, cap, "%s: unknown key", k);
      goto done;
    }
    if (flow_apply(f, fk, k, v, err, cap) != 0)
      goto done;
  }
  for (size_t i = 0; i < nall; i++) {
    if (!all[i].enabled)
      continue;
    if (all[i].window < 2 * all[i].offset_lag_max) {
      seterr(err, cap,
             "mirror.window.records: must be at least twice offset.lag.max (%lld)",
             (long long)all[i].offset_lag_max);
      goto done;
    }
    c->n_flows++;
  }
  if (c->n_flows == 0) {
    seterr(err, cap, "no flow is enabled (set e.g. %s->%s.enabled = true)",
           c->clusters[0].alias, c->clusters[1].alias);
    goto done;
  }
  c->flows = calloc(c->n_flows, sizeof *c->flows);
  if (!c->flows)
    goto oom;
  {
    size_t j = 0;
    for (size_t i = 0; i < nall; i++) {
      if (all[i].enabled) {
        c->flows[j++] = all[i];
        memset(&all[i], 0, sizeof all[i]);
      }
    }
  }
  rc = 0;
  goto done;
oom:
  seterr(err, cap, "out of memory");
done:
  if (all) {
    for (size_t i = 0; i < nall; i++)
      flow_release(&all[i]);
    free(all);
  }
  flow_release(&defaults);
  kv_release(kv.v, kv.n);
  if (rc == 0)
    *out = c;
  else
    mm_config_free(c);
  return rc;
}

int mm_config_load(const char *path, mm_config **out, char *err, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    seterr(err, cap, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *buf = malloc(MM_CONFIG_FILE_MAX);
  if (!buf) {
    fclose(f);
    seterr(err, cap, "out of memory");
    return -1;
  }
  size_t n = fread(buf, 1, MM_CONFIG_FILE_MAX, f);
  bool bad = ferror(f) || (n == MM_CONFIG_FILE_MAX);
  fclose(f);
  if (bad) {
    free(buf);
    seterr(err, cap, "%s: read error or larger than %u bytes", path, MM_CONFIG_FILE_MAX);
    return -1;
  }
  int rc = mm_config_parse(buf, n, out, err, cap);
  free(buf);
  return rc;
}
