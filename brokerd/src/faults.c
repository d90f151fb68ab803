/*
 * faults.c - storage faults as the broker reports them (see faults.h;
 * docs/BROKER.md, "Storage failures"): what recovery cut at start, and
 * partitions taken offline by a latched storage failure.  The state of the
 * latter is the log's own
 * latch (sl_log_failed); this file only decides what the broker says about
 * it and makes sure each failure is logged once: the partitions already
 * reported are remembered by topic id and index in the metrics state.
 */
#include "faults.h"

#include <string.h>

#include "sdlog.h"

bool sd_partition_offline(sd_broker *b, const sd_topic *t, const sd_partition *p,
                          const char *cause) {
  if (p == NULL || p->log == NULL || !sl_log_failed(p->log))
    return false;
  sd_metrics *m = &b->metrics;
  for (int i = 0; i < m->n_offline; i++)
    if (m->offline[i].partition == p->index &&
        memcmp(m->offline[i].topic_id, t->id.b, 16) == 0)
      return true;
  if (m->n_offline >= SD_OFFLINE_MAX)
    return true; /* reported enough: the gauge still counts them */
  memcpy(m->offline[m->n_offline].topic_id, t->id.b, 16);
  m->offline[m->n_offline].partition = p->index;
  m->n_offline++;
  SD_ERROR("partition %s-%d is offline after a storage failure%s%s: its log refuses "
           "writes; clients get KAFKA_STORAGE_ERROR and no leader; restart seglogd to "
           "recover it (other partitions keep working)",
           t->name, (int)p->index, cause ? ": " : "", cause ? cause : "");
  return true;
}

int sd_partitions_offline_count(const sd_broker *b) {
  int n = 0;
  for (int i = 0; i < b->topics.n; i++) {
    const sd_topic *tp = &b->topics.topics[i];
    for (int j = 0; j < tp->n_parts; j++)
      if (tp->parts[j].log != NULL && sl_log_failed(tp->parts[j].log))
        n++;
  }
  return n;
}

int sd_faults_report_recovery(const sd_topics *t) {
  int n = 0;
  for (int i = 0; i < t->n; i++) {
    const sd_topic *tp = &t->topics[i];
    for (int j = 0; j < tp->n_parts; j++) {
      sl_log_load_report r;
      sl_log_load_report_get(tp->parts[j].log, &r);
      if (r.bytes_truncated <= 0 && r.segments_deleted <= 0)
        continue;
      n++;
      SD_WARN("recovery of %s-%d truncated a torn or corrupt tail: %lld bytes cut from "
              "%s at position %lld, %d later segments deleted; the log ends at offset "
              "%lld",
              tp->name, (int)tp->parts[j].index, (long long)r.bytes_truncated,
              r.first_bad_file[0] ? r.first_bad_file : "?",
              (long long)r.first_bad_position, (int)r.segments_deleted,
              (long long)sl_log_end_offset(tp->parts[j].log));
    }
  }
  return n;
}
