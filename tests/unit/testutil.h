/*
 * testutil.h - helpers shared by the cmocka unit tests: temporary directories
 * that clean themselves up, whole-file reads and writes, hex dumps.
 */
#ifndef SEGLOG_TESTUTIL_H
#define SEGLOG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the headers above first. */
#include <cmocka.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tu_mkdtemp(void);
/* rm -rf path (best effort) and free(path). */
void tu_rmtree_free(char *path);
/* Reads a whole file; returns malloc'd data (NUL-terminated) or NULL. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* Writes a whole file (creating/truncating); 0 or -1. */
int tu_write_file(const char *path, const void *data, size_t len);
/* Joins dir + "/" + name into a static-free malloc'd string. */
char *tu_path(const char *dir, const char *name);
/* Size of a file, -1 if missing. */
long long tu_file_size(const char *path);
/* Fills buf with deterministic pseudo-random bytes from seed. */
void tu_fill_random(void *buf, size_t len, uint64_t seed);
/* Decodes a hex string (spaces ignored) into out; returns bytes written. */
size_t tu_unhex(const char *hex, uint8_t *out, size_t cap);

#endif
