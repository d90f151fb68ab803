/*
 * slcodec.c - test tool: runs libseglog's codecs (compress.c, docs/FORMAT.md
 * "Compression") as a filter from stdin to stdout, so integration tests can
 * compare them with other implementations.
 *
 *   slcodec compress   CODEC [LEVEL]
 *   slcodec decompress CODEC          CODEC may also be lz4-legacy
 *
 * Decompression is limited to 256 MiB.  Exit status: 0 ok, 1 codec failure,
 * 2 usage or I/O error; messages go to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seglog/compress.h"

#define DECOMPRESS_LIMIT ((size_t)256 * 1024 * 1024)

static int usage(void) {
  fprintf(stderr, "usage: slcodec compress CODEC [LEVEL]\n"
                  "       slcodec decompress CODEC\n"
                  "CODEC: none gzip snappy lz4 zstd (decompress also: lz4-legacy)\n");
  return 2;
}

static int read_all(FILE *f, sl_buf *b) {
  for (;;) {
    uint8_t *p = sl_buf_reserve(b, 65536);
    if (p == NULL)
      return SL_ENOMEM;
    size_t n = fread(p, 1, 65536, f);
    b->len += n;
    if (n < 65536)
      return ferror(f) ? SL_EIO : 0;
  }
}

static int parse_level(const char *s, int *level) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end != '\0' || v < -1000000 || v > 1000000)
    return -1;
  *level = (int)v;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4)
    return usage();
  int compress = strcmp(argv[1], "compress") == 0;
  if (!compress && strcmp(argv[1], "decompress") != 0)
    return usage();
  int legacy = !compress && strcasecmp(argv[2], "lz4-legacy") == 0;
  sl_compression codec = SL_COMPRESSION_LZ4;
  if (!legacy && sl_compression_parse(argv[2], &codec) != 0) {
    fprintf(stderr, "slcodec: unknown codec '%s'\n", argv[2]);
    return usage();
  }
  int level = SL_COMPRESSION_LEVEL_DEFAULT;
  if (argc == 4 && (!compress || parse_level(argv[3], &level) != 0)) {
    fprintf(stderr, "slcodec: bad level '%s'\n", argv[3]);
    return usage();
  }

  int status = 0;
  sl_buf in = SL_BUF_INIT, out = SL_BUF_INIT;
  int rc = read_all(stdin, &in);
  if (rc != 0) {
    fprintf(stderr, "slcodec: reading stdin: %s\n", sl_strerror(rc));
    status = 2;
    goto done;
  }
  sl_diag diag;
  sl_diag_clear(&diag);
  if (compress)
    rc = sl_compress(codec, level, in.data, in.len, &out);
  else if (legacy)
    rc = sl_decompress_lz4_legacy(in.data, in.len, DECOMPRESS_LIMIT, &out, &diag);
  else
    rc = sl_decompress(codec, in.data, in.len, DECOMPRESS_LIMIT, &out, &diag);
  if (rc != 0) {
    char msg[1024];
    if (diag.err)
      sl_diag_format(&diag, msg, sizeof(msg));
    else
      snprintf(msg, sizeof(msg), "%s (%s)", sl_strerror(rc), sl_errname(rc));
    fprintf(stderr, "slcodec: %s %s: %s\n", argv[1], argv[2], msg);
    status = 1;
    goto done;
  }
  if ((out.len && fwrite(out.data, 1, out.len, stdout) != out.len) || fflush(stdout)) {
    fprintf(stderr, "slcodec: writing stdout: %s\n", strerror(errno));
    status = 2;
  }
done:
  sl_buf_release(&in);
  sl_buf_release(&out);
  return status;
}
