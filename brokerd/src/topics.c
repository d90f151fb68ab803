/*
 * topics.c - the broker's topic registry over the opened log directories
 * (see topics.h; docs/BROKER.md, "Topics").
 */
#include "topics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdlog.h"

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int fail(char *err, size_t cap, int rc, const char *fmt, ...) {
  if (cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return rc;
}

bool sd_topic_name_valid(const char *name, size_t len) {
  return sl_topic_name_validate(name, len, NULL) == 0;
}

static int cmp_topic(const void *a, const void *b) {
  return strcmp(((const sd_topic *)a)->name, ((const sd_topic *)b)->name);
}
static int cmp_part(const void *a, const void *b) {
  int32_t x = ((const sd_partition *)a)->index, y = ((const sd_partition *)b)->index;
  return x < y ? -1 : x > y;
}

/* The effective config of a topic from its overrides. */
static int topic_effective(sd_topic *tp, const sd_datadirs *dirs, char *err, size_t cap) {
  if (sd_topicconf_apply(&tp->conf, &dirs->log_cfg, &tp->log_cfg, err, cap) != 0)
    return SL_EINVAL;
  snprintf(tp->compression, sizeof(tp->compression), "%s",
           sd_topicconf_compression(&tp->conf, dirs->compression_type));
  const char *mi = sd_topicconf_get(&tp->conf, "min.insync.replicas");
  tp->min_isr = mi ? (int32_t)strtol(mi, NULL, 10) : dirs->min_isr; /* validated INT */
  /* Kafka 3.6+: before/after.max.ms when set, else difference.max.ms. */
  const char *diff = sd_topicconf_get(&tp->conf, "message.timestamp.difference.max.ms");
  const char *before = sd_topicconf_get(&tp->conf, "message.timestamp.before.max.ms");
  const char *after = sd_topicconf_get(&tp->conf, "message.timestamp.after.max.ms");
  int64_t d = diff ? strtoll(diff, NULL, 10) : INT64_MAX;
  int64_t bv = before ? strtoll(before, NULL, 10) : INT64_MAX;
  int64_t av = after ? strtoll(after, NULL, 10) : INT64_MAX;
  tp->ts_before_ms = bv != INT64_MAX ? bv : d;
  tp->ts_after_ms = av != INT64_MAX ? av : d;
  return 0;
}

/*
 * After a failed store_write: the first `written` directories hold the
 * refused change; the registry's sets (the state before it) go back there
 * with a newer generation, so no start picks the refused change up.
 */
static void store_rollback(sd_topics *t, sd_datadirs *dirs, int written) {
  sd_tcfile f;
  memset(&f, 0, sizeof(f));
  bool ok = true;
  for (int i = 0; ok && i < t->n; i++)
    if (t->topics[i].conf.n > 0)
      ok =
          sd_tcfile_put(&f, t->topics[i].name, &t->topics[i].id, &t->topics[i].conf) == 0;
  f.generation = ++t->conf_generation;
  char werr[600];
  for (int d = 0; ok && d < written; d++) {
    if (sd_tcfile_write(dirs->paths[d], &f, werr, sizeof(werr)) != 0) {
      SD_ERROR("per-topic configs: cannot roll a refused change back: %s", werr);
      ok = false;
    }
  }
  if (!ok)
    SD_ERROR("per-topic configs: a refused change may apply at the next start");
  sd_tcfile_release(&f);
}

/*
 * Writes seglog-topic-configs.properties to every log directory: the
 * overrides of every topic in the registry, with `name`'s replaced by `conf`
 * (NULL: `name` left out; name NULL: the registry as it is).  Returns 0 or
 * SL_EIO with err.
 */
static int store_write(sd_topics *t, sd_datadirs *dirs, const char *name, size_t len,
                       const sl_uuid *id, const sd_topicconf *conf, char *err,
                       size_t cap) {
  sd_tcfile f;
  memset(&f, 0, sizeof(f));
  int rc = 0;
  bool named_done = false;
  for (int i = 0; rc == 0 && i < t->n; i++) {
    const sd_topic *tp = &t->topics[i];
    bool is_named =
        name != NULL && strlen(tp->name) == len && memcmp(tp->name, name, len) == 0;
    const sd_topicconf *c = is_named ? conf : &tp->conf;
    if (is_named)
      named_done = true;
    if (c == NULL || c->n == 0)
      continue;
    if (sd_tcfile_put(&f, tp->name, &tp->id, c) != 0)
      rc = fail(err, cap, SL_ENOMEM, "out of memory");
  }
  if (rc == 0 && name != NULL && !named_done && conf != NULL && conf->n > 0) {
    char *nm = strndup(name, len);
    if (nm == NULL || sd_tcfile_put(&f, nm, id, conf) != 0)
      rc = fail(err, cap, SL_ENOMEM, "out of memory");
    free(nm);
  }
  f.generation = t->conf_generation + 1;
  char werr[600];
  int written = 0;
  for (int d = 0; rc == 0 && d < dirs->n; d++) {
    if (sd_tcfile_write(dirs->paths[d], &f, werr, sizeof(werr)) != 0) {
      SD_ERROR("per-topic configs: %s", werr);
      rc = fail(err, cap, SL_EIO, "%s", werr);
    } else {
      written++;
    }
  }
  /* Never reuse a generation that may be on disk. */
  t->conf_generation = f.generation;
  sd_tcfile_release(&f);
  if (rc != 0 && written > 0 && name != NULL)
    store_rollback(t, dirs, written);
  return rc;
}

static sd_topic *topic_get(sd_topics *t, const char *name, size_t len) {
  for (int i = 0; i < t->n; i++)
    if (strlen(t->topics[i].name) == len && memcmp(t->topics[i].name, name, len) == 0)
      return &t->topics[i];
  sd_topic *nt = realloc(t->topics, sizeof(*nt) * (size_t)(t->n + 1));
  if (nt == NULL)
    return NULL;
  t->topics = nt;
  sd_topic *tp = &nt[t->n];
  memset(tp, 0, sizeof(*tp));
  tp->name = strndup(name, len);
  if (tp->name == NULL)
    return NULL;
  tp->internal = strcmp(tp->name, "__consumer_offsets") == 0 ||
                 strcmp(tp->name, "__transaction_state") == 0;
  t->n++;
  return tp;
}

/*
 * This node leads every partition: the leader epoch's start goes into the
 * leader-epoch cache (and its checkpoint) now, as Kafka's makeLeader does,
 * not in the first produce request.  A failure latches the log, which then
 * reports itself offline (faults.c); it is logged here.
 */
static int become_leader(const char *topic, const sd_partition *p) {
  sl_diag diag;
  sl_diag_clear(&diag);
  int rc = sl_log_become_leader(p->log, p->leader_epoch, &diag);
  if (rc != 0) {
    char buf[700];
    SD_ERROR("partition %s-%d: cannot record leader epoch %d: %s", topic, (int)p->index,
             (int)p->leader_epoch, sl_diag_format(&diag, buf, sizeof(buf)));
  }
  return rc;
}

static int add_partition(sd_topic *tp, int32_t index, sl_log *log, int dir) {
  sd_partition *np = realloc(tp->parts, sizeof(*np) * (size_t)(tp->n_parts + 1));
  if (np == NULL)
    return SL_ENOMEM;
  tp->parts = np;
  sd_partition *p = &np[tp->n_parts++];
  p->index = index;
  p->log = log;
  p->dir = dir;
  /* This node is the whole ISR: its high watermark is its log end offset
   * (Kafka's leader with ISR = {itself} advances the HW the same way). */
  sl_log_set_high_watermark(log, sl_log_end_offset(log));
  int32_t e = sl_log_latest_epoch(log);
  p->leader_epoch = e < 0 ? 0 : e;
  become_leader(tp->name, p);
  return 0;
}

static void sort_all(sd_topics *t) {
  if (t->n > 1)
    qsort(t->topics, (size_t)t->n, sizeof(*t->topics), cmp_topic);
  for (int i = 0; i < t->n; i++)
    if (t->topics[i].n_parts > 1)
      qsort(t->topics[i].parts, (size_t)t->topics[i].n_parts, sizeof(sd_partition),
            cmp_part);
}

int sd_topics_load(sd_topics *t, sd_datadirs *dirs, char *err, size_t errcap) {
  memset(t, 0, sizeof(*t));
  int parts = 0;
  for (int d = 0; d < dirs->n; d++) {
    size_t n = sl_logdir_count(dirs->ld[d]);
    for (size_t i = 0; i < n; i++) {
      const char *topic;
      int32_t part;
      sl_log *log;
      if (!sl_logdir_at(dirs->ld[d], i, &topic, &part, &log))
        continue;
      sd_topic *tp = topic_get(t, topic, strlen(topic));
      if (tp == NULL || add_partition(tp, part, log, d) != 0) {
        sd_topics_release(t);
        return fail(err, errcap, -1, "out of memory");
      }
      if (sl_uuid_is_zero(&tp->id)) {
        sl_uuid id;
        if (sl_partition_metadata_read(sl_log_dir(log), &id, NULL) == 0)
          tp->id = id;
      }
      parts++;
    }
  }
  /* Topics without partition.metadata get an id now, written to each partition. */
  for (int i = 0; i < t->n; i++) {
    sd_topic *tp = &t->topics[i];
    if (!sl_uuid_is_zero(&tp->id))
      continue;
    sl_diag diag;
    sl_diag_clear(&diag);
    if (sl_uuid_random(&tp->id, &diag) != 0) {
      sd_topics_release(t);
      return fail(err, errcap, -1, "no randomness for a topic id");
    }
    for (int j = 0; j < tp->n_parts; j++) {
      if (sl_partition_metadata_write(sl_log_dir(tp->parts[j].log), &tp->id, &diag) !=
          0) {
        char buf[700];
        SD_WARN("cannot write a topic id for %s: %s", tp->name,
                sl_diag_format(&diag, buf, sizeof(buf)));
      }
    }
  }
  /* The stored per-topic configs: each topic takes its entry (the logs
   * already opened with it); entries of topics that no longer exist, or of
   * an earlier topic with the same name, are dropped. */
  t->conf_generation = dirs->tconf.generation;
  bool rewrite = false;
  for (int i = 0; i < t->n; i++) {
    sd_topic *tp = &t->topics[i];
    sd_tcfile_topic *e = sd_tcfile_find(&dirs->tconf, tp->name);
    if (e != NULL && !sl_uuid_is_zero(&e->id) && !sl_uuid_equal(&e->id, &tp->id)) {
      SD_WARN("stored config of topic %s belongs to an earlier topic id; dropped",
              tp->name);
      e = NULL;
    }
    if (e != NULL) {
      if (sl_uuid_is_zero(&e->id))
        rewrite = true;
      tp->conf = e->conf;
      memset(&e->conf, 0, sizeof(e->conf));
    }
    char cerr[600];
    if (topic_effective(tp, dirs, cerr, sizeof(cerr)) != 0) {
      sd_topics_release(t);
      return fail(err, errcap, -1, "stored config of topic %s: %s", tp->name, cerr);
    }
    for (int j = 0; j < tp->n_parts; j++) {
      sl_diag diag;
      sl_diag_clear(&diag);
      if (sl_log_set_config(tp->parts[j].log, &tp->log_cfg, &diag) != 0) {
        char buf[700];
        sd_topics_release(t);
        return fail(err, errcap, -1, "config of %s-%d: %s", tp->name,
                    (int)tp->parts[j].index, sl_diag_format(&diag, buf, sizeof(buf)));
      }
    }
  }
  int with_conf = 0;
  for (int i = 0; i < t->n; i++)
    with_conf += t->topics[i].conf.n > 0;
  for (int i = 0; i < dirs->tconf.n; i++)
    rewrite = rewrite || dirs->tconf.t[i].conf.n > 0; /* not taken: stale */
  sd_tcfile_release(&dirs->tconf);
  sort_all(t);
  if (rewrite) {
    char werr[600];
    if (store_write(t, dirs, NULL, 0, NULL, NULL, werr, sizeof(werr)) != 0)
      SD_WARN("cannot rewrite the per-topic configs: %s", werr);
  }
  SD_INFO("serving %d topics, %d partitions (%d with config overrides)", t->n, parts,
          with_conf);
  return 0;
}

void sd_topics_release(sd_topics *t) {
  if (t == NULL)
    return;
  for (int i = 0; i < t->n; i++) {
    free(t->topics[i].parts);
    free(t->topics[i].name);
    sd_topicconf_release(&t->topics[i].conf);
  }
  free(t->topics);
  t->topics = NULL;
  t->n = 0;
}

int sd_topics_create(sd_topics *t, sd_datadirs *dirs, const char *name, size_t len,
                     int32_t partitions, const sd_topic **out, char *err, size_t errcap) {
  return sd_topics_create_with_config(t, dirs, name, len, partitions, NULL, out, err,
                                      errcap);
}

int sd_topics_create_with_config(sd_topics *t, sd_datadirs *dirs, const char *name,
                                 size_t len, int32_t partitions, const sd_topicconf *conf,
                                 const sd_topic **out, char *err, size_t errcap) {
  if (!sd_topic_name_valid(name, len))
    return fail(err, errcap, SL_EINVAL, "invalid topic name");
  if (sd_topics_find(t, name, len) != NULL)
    return fail(err, errcap, SL_EEXISTS, "topic exists");
  if (partitions < 1 || partitions > 100000)
    return fail(err, errcap, SL_EINVAL, "invalid partition count %d", (int)partitions);
  sd_topic nt0;
  memset(&nt0, 0, sizeof(nt0));
  if (sd_topicconf_copy(&nt0.conf, conf) != 0)
    return fail(err, errcap, SL_ENOMEM, "out of memory");
  int rc = topic_effective(&nt0, dirs, err, errcap);
  if (rc != 0) {
    sd_topicconf_release(&nt0.conf);
    return rc;
  }
  sl_uuid id;
  if (sl_uuid_random(&id, NULL) != 0) {
    sd_topicconf_release(&nt0.conf);
    return fail(err, errcap, SL_EIO, "no randomness for a topic id");
  }
  char *tname = strndup(name, len);
  if (tname == NULL) {
    sd_topicconf_release(&nt0.conf);
    return fail(err, errcap, SL_ENOMEM, "out of memory");
  }
  /* The config is durable before any partition exists: a crash in between
   * leaves an entry without partitions, dropped at the next start. */
  bool stored = false;
  if (nt0.conf.n > 0) {
    rc = store_write(t, dirs, tname, len, &id, &nt0.conf, err, errcap);
    stored = rc == 0;
  }
  sd_partition *parts = NULL;
  if (rc == 0) {
    parts = calloc((size_t)partitions, sizeof(*parts));
    if (parts == NULL)
      rc = fail(err, errcap, SL_ENOMEM, "out of memory");
  }
  int32_t made = 0;
  for (; rc == 0 && made < partitions; made++) {
    /* Spread partitions over the directories, fewest partitions first. */
    int best = 0;
    for (int d = 1; d < dirs->n; d++)
      if (sl_logdir_count(dirs->ld[d]) < sl_logdir_count(dirs->ld[best]))
        best = d;
    sl_log *log = NULL;
    sl_diag diag;
    sl_diag_clear(&diag);
    rc = sl_logdir_create_partition(dirs->ld[best], tname, made, &nt0.log_cfg, &id, &log,
                                    &diag);
    if (rc != 0) {
      char buf[700];
      fail(err, errcap, rc, "%s", sl_diag_format(&diag, buf, sizeof(buf)));
      break;
    }
    parts[made].index = made;
    parts[made].log = log;
    parts[made].dir = best;
    parts[made].leader_epoch = 0;
    rc = become_leader(tname, &parts[made]);
    if (rc != 0) {
      fail(err, errcap, rc, "cannot write the leader-epoch checkpoint of partition %d",
           (int)made);
      made++; /* created: undone below */
      break;
    }
  }
  sd_topic *nt = NULL;
  if (rc == 0) {
    nt = realloc(t->topics, sizeof(*nt) * (size_t)(t->n + 1));
    if (nt == NULL)
      rc = fail(err, errcap, SL_ENOMEM, "out of memory");
  }
  if (rc != 0) {
    /* Undo what was created, so a retry starts from nothing. */
    for (int32_t i = 0; i < made; i++)
      sl_logdir_delete_partition(dirs->ld[parts[i].dir], tname, i, NULL);
    if (stored) {
      char werr[600];
      if (store_write(t, dirs, tname, len, NULL, NULL, werr, sizeof(werr)) != 0)
        SD_WARN("topic %s: cannot drop its stored config: %s", tname, werr);
    }
    free(parts);
    free(tname);
    sd_topicconf_release(&nt0.conf);
    return rc;
  }
  t->topics = nt;
  sd_topic *tp = &nt[t->n++];
  *tp = nt0;
  tp->name = tname;
  tp->id = id;
  tp->parts = parts;
  tp->n_parts = partitions;
  tp->internal = strcmp(tname, "__consumer_offsets") == 0 ||
                 strcmp(tname, "__transaction_state") == 0;
  sort_all(t);
  SD_INFO("created topic %s with %d partitions%s", tname, (int)partitions,
          stored ? " and config overrides" : "");
  if (out)
    *out = sd_topics_find(t, name, len);
  return 0;
}

int sd_topics_set_config(sd_topics *t, sd_datadirs *dirs, const char *name, size_t len,
                         const sd_topicconf *conf, bool validate_only, char *err,
                         size_t errcap) {
  const sd_topic *found = sd_topics_find(t, name, len);
  if (found == NULL)
    return fail(err, errcap, SL_ENOT_FOUND, "The topic '%.*s' does not exist.", (int)len,
                name);
  sd_topic *tp = &t->topics[found - t->topics];
  sd_topic next;
  memset(&next, 0, sizeof(next));
  if (sd_topicconf_copy(&next.conf, conf) != 0)
    return fail(err, errcap, SL_ENOMEM, "out of memory");
  int rc = topic_effective(&next, dirs, err, errcap);
  if (rc != 0 || validate_only || sd_topicconf_equal(&next.conf, &tp->conf)) {
    sd_topicconf_release(&next.conf);
    return rc;
  }
  rc = store_write(t, dirs, tp->name, strlen(tp->name), &tp->id, &next.conf, err, errcap);
  if (rc != 0) {
    sd_topicconf_release(&next.conf);
    return rc;
  }
  sd_topicconf_release(&tp->conf);
  tp->conf = next.conf;
  tp->log_cfg = next.log_cfg;
  memcpy(tp->compression, next.compression, sizeof(tp->compression));
  tp->min_isr = next.min_isr;
  tp->ts_before_ms = next.ts_before_ms;
  tp->ts_after_ms = next.ts_after_ms;
  for (int j = 0; j < tp->n_parts; j++) {
    sl_diag diag;
    sl_diag_clear(&diag);
    if (sl_log_set_config(tp->parts[j].log, &tp->log_cfg, &diag) != 0) {
      char buf[700];
      SD_WARN("config of %s-%d: %s", tp->name, (int)tp->parts[j].index,
              sl_diag_format(&diag, buf, sizeof(buf)));
    }
  }
  SD_INFO("topic %s: config overrides replaced (%d set)", tp->name, tp->conf.n);
  return 0;
}

static int least_loaded_dir(const sd_datadirs *dirs) {
  int best = 0;
  for (int d = 1; d < dirs->n; d++)
    if (sl_logdir_count(dirs->ld[d]) < sl_logdir_count(dirs->ld[best]))
      best = d;
  return best;
}

int sd_topics_add_partitions(sd_topics *t, sd_datadirs *dirs, const char *name,
                             size_t len, int32_t count, char *err, size_t errcap) {
  const sd_topic *found = sd_topics_find(t, name, len);
  if (found == NULL)
    return fail(err, errcap, SL_ENOT_FOUND, "unknown topic");
  sd_topic *tp = &t->topics[found - t->topics];
  int32_t have = tp->n_parts > 0 ? tp->parts[tp->n_parts - 1].index + 1 : 0;
  if (count <= have || count > 100000)
    return fail(err, errcap, SL_EINVAL, "invalid partition count %d", (int)count);
  for (int32_t i = have; i < count; i++) {
    int d = least_loaded_dir(dirs);
    sl_log *log = NULL;
    sl_diag diag;
    sl_diag_clear(&diag);
    int rc = sl_logdir_create_partition(dirs->ld[d], tp->name, i, &tp->log_cfg, &tp->id,
                                        &log, &diag);
    if (rc != 0) {
      char buf[700];
      return fail(err, errcap, rc, "%s", sl_diag_format(&diag, buf, sizeof(buf)));
    }
    rc = add_partition(tp, i, log, d);
    if (rc != 0)
      return fail(err, errcap, rc, "out of memory");
  }
  SD_INFO("topic %s now has %d partitions", tp->name, (int)count);
  return 0;
}

int sd_topics_delete(sd_topics *t, sd_datadirs *dirs, const char *name, size_t len,
                     char *err, size_t errcap) {
  const sd_topic *found = sd_topics_find(t, name, len);
  if (found == NULL)
    return fail(err, errcap, SL_ENOT_FOUND, "unknown topic");
  int idx = (int)(found - t->topics);
  sd_topic *tp = &t->topics[idx];
  int rc = 0;
  int kept = 0;
  for (int j = 0; j < tp->n_parts; j++) {
    sl_diag diag;
    sl_diag_clear(&diag);
    int prc = sl_logdir_delete_partition(dirs->ld[tp->parts[j].dir], tp->name,
                                         tp->parts[j].index, &diag);
    if (prc != 0 && prc != SL_ENOT_FOUND) {
      char buf[700];
      if (rc == 0)
        rc = fail(err, errcap, prc, "%s", sl_diag_format(&diag, buf, sizeof(buf)));
      /* The log may still be open: keep the partition in the registry. */
      if (!sl_logdir_get(dirs->ld[tp->parts[j].dir], tp->name, tp->parts[j].index))
        continue;
      tp->parts[kept++] = tp->parts[j];
    }
  }
  tp->n_parts = kept;
  if (kept == 0) {
    SD_INFO("deleted topic %s", tp->name);
    /* The stored config goes after the partitions: a crash in between leaves
     * an entry without partitions, dropped at the next start. */
    bool had_conf = tp->conf.n > 0;
    free(tp->parts);
    free(tp->name);
    sd_topicconf_release(&tp->conf);
    memmove(&t->topics[idx], &t->topics[idx + 1],
            sizeof(*t->topics) * (size_t)(t->n - idx - 1));
    t->n--;
    char werr[600];
    if (had_conf && store_write(t, dirs, NULL, 0, NULL, NULL, werr, sizeof(werr)) != 0)
      SD_WARN("cannot drop a deleted topic's stored config: %s", werr);
  }
  return rc;
}

const sd_topic *sd_topics_find(const sd_topics *t, const char *name, size_t len) {
  int lo = 0, hi = t->n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    const char *mn = t->topics[mid].name;
    size_t ml = strlen(mn);
    int c = memcmp(mn, name, ml < len ? ml : len);
    if (c == 0)
      c = ml < len ? -1 : ml > len;
    if (c == 0)
      return &t->topics[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

const sd_topic *sd_topics_find_id(const sd_topics *t, const uint8_t id[16]) {
  sl_uuid u;
  memcpy(u.b, id, 16);
  if (sl_uuid_is_zero(&u))
    return NULL;
  for (int i = 0; i < t->n; i++)
    if (sl_uuid_equal(&t->topics[i].id, &u))
      return &t->topics[i];
  return NULL;
}

const sd_partition *sd_topic_partition(const sd_topic *t, int32_t index) {
  int lo = 0, hi = t->n_parts - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    if (t->parts[mid].index == index)
      return &t->parts[mid];
    if (t->parts[mid].index < index)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}
