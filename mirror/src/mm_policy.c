/*
 * mm_policy.c - MM2's replication policies (remote names, sources of names,
 * internal topics, cycles) and the provenance path header check.  Behaviour
 * and differences from MM2 in docs/MIRROR.md ("Replication policy").
 */
#include "mm_policy.h"

#include <stdio.h>
#include <string.h>

void mm_policy_init(mm_policy *p, const mm_config *c) {
  p->identity = c->identity_policy;
  snprintf(p->sep, sizeof p->sep, "%s", c->separator);
}

static bool ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && memcmp(s + n - m, suf, m) == 0;
}

int mm_policy_remote_topic(const mm_policy *p, const char *src, const char *topic,
                           char *out, size_t cap) {
  int n;
  /* Identity keeps names, except heartbeats, which must say where they came
   * from for MM2's tooling (as IdentityReplicationPolicy does). */
  if (p->identity && !mm_policy_is_heartbeats(p, topic))
    n = snprintf(out, cap, "%s", topic);
  else
    n = snprintf(out, cap, "%s%s%s", src, p->sep, topic);
  return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

void mm_policy_topic_source(const mm_policy *p, const char *topic, char *out,
                            size_t cap) {
  out[0] = '\0';
  if (p->identity && !mm_policy_is_heartbeats(p, topic))
    return;
  const char *s = strstr(topic, p->sep);
  if (!s || s == topic)
    return;
  snprintf(out, cap, "%.*s", (int)(s - topic), topic);
}

bool mm_policy_is_heartbeats(const mm_policy *p, const char *topic) {
  if (strcmp(topic, MM_HEARTBEATS_TOPIC) == 0)
    return true;
  size_t n = strlen(topic), h = strlen(MM_HEARTBEATS_TOPIC), s = strlen(p->sep);
  return n > h + s && ends_with(topic, MM_HEARTBEATS_TOPIC) &&
         memcmp(topic + n - h - s, p->sep, s) == 0;
}

bool mm_policy_is_internal(const mm_policy *p, const char *topic) {
  (void)p;
  return strncmp(topic, "__", 2) == 0 || topic[0] == '.' ||
         ends_with(topic, ".internal") || ends_with(topic, "-internal") ||
         strncmp(topic, "mm2-offset-syncs", 16) == 0;
}

bool mm_policy_is_cycle(const mm_policy *p, const char *topic, const char *alias) {
  char src[MM_ALIAS_MAX * 4];
  const char *t = topic;
  /* Walk "B.A.t": B, then A, ... (MM2's isCycle recursion). */
  for (;;) {
    mm_policy_topic_source(p, t, src, sizeof src);
    if (src[0] == '\0')
      return false;
    if (strcmp(src, alias) == 0)
      return true;
    t += strlen(src) + strlen(p->sep);
  }
}

void mm_policy_offset_syncs_topic(const mm_policy *p, const char *alias, char *out,
                                  size_t cap) {
  snprintf(out, cap, "mm2-offset-syncs%s%s.internal", p->sep, alias);
}

void mm_policy_checkpoints_topic(const mm_policy *p, const char *alias, char *out,
                                 size_t cap) {
  snprintf(out, cap, "%s%scheckpoints.internal", alias, p->sep);
}

bool mm_policy_topic_wanted(const mm_policy *p, const mm_flow_cfg *f, const char *src,
                            const char *dst, const char *topic) {
  (void)src;
  if (mm_policy_is_internal(p, topic))
    return false;
  if (mm_policy_is_cycle(p, topic, dst))
    return false;
  if (mm_policy_is_heartbeats(p, topic))
    return true;
  return mm_filter_match(&f->topics, topic) &&
         !mm_filter_match(&f->topics_exclude, topic);
}

bool mm_path_has(const char *v, size_t n, const char *alias) {
  size_t al = strlen(alias), i = 0;
  while (i <= n) {
    size_t j = i;
    while (j < n && v[j] != ',')
      j++;
    if (j - i == al && memcmp(v + i, alias, al) == 0)
      return true;
    i = j + 1;
  }
  return false;
}
