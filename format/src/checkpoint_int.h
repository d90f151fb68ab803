/*
 * checkpoint_int.h - text helpers shared by checkpoint.c, meta.c and epoch.c:
 * Java BufferedReader.readLine line splitting and String.split("\\s+")
 * tokenising, so our readers accept exactly the texts Kafka's readers accept.
 * See docs/FORMAT.md ("Checkpoint files").
 */
#ifndef SEGLOG_CHECKPOINT_INT_H
#define SEGLOG_CHECKPOINT_INT_H

#include <stdbool.h>
#include <stddef.h>

/* A cursor over text lines. */
typedef struct sl__lines {
  const char *p;
  size_t len;
  size_t pos;
  long lineno; /* number of the line last returned, 1-based */
} sl__lines;

void sl__lines_init(sl__lines *it, const void *p, size_t len);
/*
 * Next line as Java's readLine returns it: terminated by "\n", "\r" or "\r\n"
 * (not included), or by the end of the text if at least one character is
 * left.  Returns false at the end.  *start is the byte position of the line.
 */
bool sl__lines_next(sl__lines *it, const char **line, size_t *len, size_t *start);

/* Java's \s: space, \t, \n, \x0B, \f, \r. */
static inline bool sl__is_java_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\x0B' || c == '\f' || c == '\r';
}

typedef struct sl__token {
  const char *p;
  size_t len;
} sl__token;

/*
 * Splits like Java's line.split("\\s+"): a leading empty token if the line
 * starts with whitespace, no trailing empty tokens.  Stores at most max tokens
 * and returns how many there are in all (may exceed max).
 */
size_t sl__split_ws(const char *line, size_t len, sl__token *tok, size_t max);

#endif
