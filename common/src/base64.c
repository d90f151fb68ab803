/*
 * base64.c - RFC 4648 base64 for the record envelope and format modifiers
 * (slclient/base64.h; docs/CLI.md, "Record envelope").
 */
#include "slclient/base64.h"

#include <stdint.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sc_base64_encoded_len(size_t n) {
  return (n + 2) / 3 * 4;
}

int sc_base64_encode(const void *in, size_t n, sl_buf *out) {
  const uint8_t *p = in;
  if (n == 0)
    return SL_OK;
  uint8_t *o = sl_buf_reserve(out, sc_base64_encoded_len(n));
  if (!o)
    return SL_ENOMEM;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *o++ = (uint8_t)b64_alphabet[v >> 18];
    *o++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
    *o++ = (uint8_t)b64_alphabet[(v >> 6) & 63];
    *o++ = (uint8_t)b64_alphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    *o++ = (uint8_t)b64_alphabet[v >> 18];
    *o++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    *o++ = (uint8_t)b64_alphabet[v >> 18];
    *o++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
    *o++ = (uint8_t)b64_alphabet[(v >> 6) & 63];
    *o++ = '=';
  }
  out->len += sc_base64_encoded_len(n);
  return SL_OK;
}

static int b64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int sc_base64_decode(const char *in, size_t n, sl_buf *out) {
  size_t start = out->len;
  /* Strip up to two '=' of padding; padded input must be a multiple of 4. */
  size_t data = n;
  if (data > 0 && in[data - 1] == '=') {
    if (n % 4 != 0)
      return SL_EINVAL;
    data--;
    if (data > 0 && in[data - 1] == '=')
      data--;
  }
  if (data % 4 == 1)
    return SL_EINVAL;
  if (data == 0)
    return n == 0 ? SL_OK : SL_EINVAL;
  uint8_t *o = sl_buf_reserve(out, data / 4 * 3 + 2);
  if (!o)
    return SL_ENOMEM;
  size_t w = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data; i++) {
    int v = b64_value(in[i]);
    if (v < 0)
      goto bad;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[w++] = (uint8_t)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* Leftover bits (2 or 4) must be zero for an exact round trip. */
  if (acc != 0)
    goto bad;
  out->len += w;
  return SL_OK;
bad:
  out->len = start;
  return SL_EINVAL;
}
