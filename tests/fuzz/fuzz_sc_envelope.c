/* fuzz_sc_envelope.c - the JSON record envelope decoder and the format-string
 * compiler (common/, slclient) on arbitrary input: never crash, never leak;
 * whatever decodes re-encodes and decodes to the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slclient/envelope.h"
#include "slclient/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_envelope_decoder *d = NULL;
  sc_envelope_decoder *d2 = NULL;
  sl_buf b = SL_BUF_INIT;
  sc_record r, r2;
  if (sc_envelope_decoder_new(&d) || sc_envelope_decoder_new(&d2))
    goto out;
  if (sc_envelope_decode(d, (const char *)data, size, &r, NULL) == 0) {
    if (sc_envelope_encode(&r, &b) == 0) {
      if (sc_envelope_decode(d2, (const char *)b.data, b.len, &r2, NULL) != 0)
        abort();
      if (r2.key_len != r.key_len || r2.value_len != r.value_len ||
          r2.header_count != r.header_count || r2.timestamp != r.timestamp)
        abort();
      if (r.key_len > 0 && memcmp(r.key, r2.key, (size_t)r.key_len) != 0)
        abort();
      if (r.value_len > 0 && memcmp(r.value, r2.value, (size_t)r.value_len) != 0)
        abort();
    }
  }
  /* The same bytes as a format string (NUL-terminated copy). */
  char *fmt = malloc(size + 1);
  if (fmt) {
    memcpy(fmt, data, size);
    fmt[size] = 0;
    sc_format *f = NULL;
    if (sc_format_compile(fmt, &f, NULL) == 0) {
      sc_record_init(&r);
      sl_buf_reset(&b);
      (void)sc_format_render(f, &r, &b);
      sc_format_free(f);
    }
    free(fmt);
  }
out:
  sl_buf_release(&b);
  sc_envelope_decoder_free(d);
  sc_envelope_decoder_free(d2);
  return 0;
}
