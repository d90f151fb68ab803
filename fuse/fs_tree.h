/*
 * fs_tree.h - the tree seglogfs shows, shared by both back ends (the offline
 * log directory in seglogfs.c, the broker in fs_broker.c): what a path names
 * (fs_parse_path), stable inode numbers, the stat of a file or directory,
 * and the list of open file handles.  The tree is documented in docs/FUSE.md ("The
 * tree").
 */
#ifndef SEGLOGFS_TREE_H
#define SEGLOGFS_TREE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "fs_part.h"

typedef enum fs_node_kind {
  N_ROOT,
  N_TOPIC,
  N_CONFIG,
  N_PART,
  N_VIEW,
  N_EARLIEST,
  N_LATEST,
  N_OFFSETS_DIR,
  N_OFFSET,
  N_AT_DIR,
  N_AT_TIME,
  N_SEGMENTS_DIR,
  N_SEGMENT,
  N_GROUPS_DIR, /* broker mode: /.groups */
  N_GROUP,      /* /.groups/<group> */
  N_GROUP_LAG   /* /.groups/<group>/lag */
} fs_node_kind;

typedef struct fs_node {
  fs_node_kind kind;
  char topic[256];
  int32_t part;
  fs_view view;
  bool has_time;
  int64_t time_ms;
  int64_t offset;
  char seg[64];
  char group[256]; /* N_GROUP, N_GROUP_LAG */
} fs_node;

extern const char *const fs_view_names[FS_NVIEWS];

/* Kafka's topic name rule: [A-Za-z0-9._-], 1..249 bytes, not "." or "..". */
bool fs_topic_name_ok(const char *t, size_t n);
/* <20 digits>.log/.index/.timeindex/.txnindex */
bool fs_segment_name_ok(const char *s);
/* A non-negative decimal without sign or leading zeros (except "0"), <= max. */
bool fs_parse_uint(const char *s, int64_t max, int64_t *out);
/* What a path names (syntax only: existence is checked by the callers);
 * -ENOENT for a path outside the tree.  groups: accept /.groups/... (broker
 * mode). */
int fs_parse_path(const char *path, bool groups, fs_node *n);
/* FNV-1a of the path (1 for "/"): stable across mounts and processes. */
ino_t fs_path_ino(const char *path);
void fs_fill_dir(struct stat *st, const char *path, mode_t perm,
                 const struct timespec *t);
void fs_fill_file(struct stat *st, const char *path, mode_t perm, int64_t size,
                  const struct timespec *t);

/*
 * The open file handles of a mount.  The kernel may unmount with RELEASE
 * requests still unsent (a file closed just before `fusermount3 -u`), so
 * each back end's destroy frees what is left here.  A handle struct embeds
 * an fs_hnode as its first member.
 */
typedef struct fs_hnode {
  struct fs_hnode *prev, *next;
} fs_hnode;

typedef struct fs_hlist {
  pthread_mutex_t mu;
  fs_hnode *head;
} fs_hlist;

void fs_hlist_init(fs_hlist *l);
void fs_hlist_add(fs_hlist *l, fs_hnode *n);
void fs_hlist_remove(fs_hlist *l, fs_hnode *n);
/* Unlinks and returns one handle; NULL when none is left. */
fs_hnode *fs_hlist_pop(fs_hlist *l);

#endif
