/*
 * faults.h - storage faults as the broker reports them: torn or corrupt log
 * tails that recovery cut at start, and partitions taken offline by a
 * storage failure.  A log that saw
 * a failed fsync or a write it could not roll back latches SL_EFAILED
 * (seglog/log.h) and refuses every later write; the broker then treats the
 * partition as Kafka treats a replica in an offline log directory: Produce,
 * Fetch, ListOffsets, DeleteRecords and OffsetForLeaderEpoch answer
 * KAFKA_STORAGE_ERROR, Metadata shows no leader (-1, LEADER_NOT_AVAILABLE,
 * this node in OfflineReplicas), other partitions are unaffected, and a
 * restart (recovery) brings it back.  docs/BROKER.md, "Storage failures".
 */
#ifndef SD_FAULTS_H
#define SD_FAULTS_H

#include <stdbool.h>

#include "broker.h"

/*
 * True when partition p of topic t is offline.  The first time a partition is
 * found offline one ERROR line names it, the cause (`cause`, may be NULL: the
 * error text of the operation that just failed) and the way back (restart).
 * p NULL: false.
 */
bool sd_partition_offline(sd_broker *b, const sd_topic *t, const sd_partition *p,
                          const char *cause);
/*
 * After the logs were opened: one WARN per partition whose recovery cut a
 * torn or corrupt tail (how many bytes, the file and position), and how many
 * partitions that were (returned).
 */
int sd_faults_report_recovery(const sd_topics *t);
/* Partitions offline now (for the metrics). */
int sd_partitions_offline_count(const sd_broker *b);

#endif
