/*
 * crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) with a
 * run-time choice between the hardware instruction and a portable
 * slicing-by-8 implementation; CRC-32 (IEEE) for legacy messages via zlib.
 *
 * The hardware path processes three independent 8-byte lanes interleaved so
 * the crc32 instruction's 3-cycle latency is hidden, then combines the lanes
 * with precomputed "shift by N zero bytes" tables (the technique from Intel's
 * paper on fast CRC computation, as used by Linux and others).  The choice and the
 * tables are made once, under pthread_once.
 */
#include "seglog/crc.h"

#include "crc_int.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <zlib.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];

static void table_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = table[0][n];
    for (int k = 1; k < 8; k++) {
      c = table[0][c & 0xff] ^ (c >> 8);
      table[k][n] = c;
    }
  }
}

static uint32_t crc_sw_raw(uint32_t c, const uint8_t *p, size_t n) {
  while (n && ((uintptr_t)p & 7)) {
    c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    n--;
  }
  while (n >= 8) {
    uint32_t lo = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                  (uint32_t)p[3] << 24;
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                  (uint32_t)p[7] << 24;
    lo ^= c;
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
        table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
        table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--)
    c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void choose(void);

uint32_t sl_crc32c_sw(uint32_t crc, const void *data, size_t len) {
  pthread_once(&once, choose);
  return ~crc_sw_raw(~crc, (const uint8_t *)data, len);
}

/* ---- hardware paths ---- */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SL_HAVE_HW 1
#define HW_NAME "sse4.2"
#include <cpuid.h>
static bool hw_available(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return false;
  return (c & bit_SSE4_2) != 0;
}
__attribute__((target("sse4.2"))) static inline uint32_t hw8(uint32_t c, uint64_t v) {
  return (uint32_t)__builtin_ia32_crc32di(c, v);
}
__attribute__((target("sse4.2"))) static inline uint32_t hw1(uint32_t c, uint8_t v) {
  return __builtin_ia32_crc32qi(c, v);
}
#define HW_TARGET __attribute__((target("sse4.2")))
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define SL_HAVE_HW 1
#define HW_NAME "armv8"
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
static bool hw_available(void) {
  return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
}
__attribute__((target("+crc"))) static inline uint32_t hw8(uint32_t c, uint64_t v) {
  return __builtin_aarch64_crc32cx(c, v);
}
__attribute__((target("+crc"))) static inline uint32_t hw1(uint32_t c, uint8_t v) {
  return __builtin_aarch64_crc32cb(c, v);
}
#define HW_TARGET __attribute__((target("+crc")))
#endif

#ifdef SL_HAVE_HW
static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8); /* both targets are little-endian */
  return v;
}

/*
 * Lane combination: crc of (A || zeros(n)) is a linear function of crc(A),
 * computed with four 256-entry tables per shift length.
 */
#define LANE 4096 /* bytes per lane in one round of the 3-way loop */
static uint32_t shift_tab[4][256];

/* multiply in GF(2) modulo the reflected polynomial: a * b */
static uint32_t gf2_mul(uint32_t a, uint32_t b) {
  uint32_t prod = 0;
  for (int i = 0; i < 32; i++) {
    if (a & 0x80000000u)
      prod ^= b;
    a <<= 1;
    b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
  }
  return prod;
}
/* x^(8n) mod P in reflected form */
static uint32_t xpow8n(size_t n) {
  uint32_t result = 0x80000000u; /* x^0 */
  uint32_t sq = 0x00800000u;     /* x^8 */
  while (n) {
    if (n & 1)
      result = gf2_mul(result, sq);
    sq = gf2_mul(sq, sq);
    n >>= 1;
  }
  return result;
}
static void shift_init(void) {
  uint32_t k = xpow8n(LANE);
  for (uint32_t i = 0; i < 256; i++)
    for (int j = 0; j < 4; j++)
      shift_tab[j][i] = gf2_mul(i << (8 * j), k);
}
static inline uint32_t shift_lane(uint32_t c) {
  return shift_tab[0][c & 0xff] ^ shift_tab[1][(c >> 8) & 0xff] ^
         shift_tab[2][(c >> 16) & 0xff] ^ shift_tab[3][c >> 24];
}

HW_TARGET static uint32_t crc_hw(uint32_t crc, const void *data, size_t n) {
  const uint8_t *p = data;
  uint32_t c = ~crc;
  while (n && ((uintptr_t)p & 7)) {
    c = hw1(c, *p++);
    n--;
  }
  while (n >= 3 * LANE) {
    uint32_t c1 = 0, c2 = 0;
    const uint8_t *p1 = p + LANE, *p2 = p + 2 * LANE;
    for (size_t i = 0; i < LANE; i += 8) {
      c = hw8(c, load_le64(p + i));
      c1 = hw8(c1, load_le64(p1 + i));
      c2 = hw8(c2, load_le64(p2 + i));
    }
    c = shift_lane(c) ^ c1;
    c = shift_lane(c) ^ c2;
    p += 3 * LANE;
    n -= 3 * LANE;
  }
  while (n >= 8) {
    c = hw8(c, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n--)
    c = hw1(c, *p++);
  return ~c;
}
#endif

/*
 * AVX-512 VPCLMULQDQ folding (x86-64 with AVX-512F and VPCLMULQDQ).
 *
 * Four 512-bit accumulators hold the 256 most recent bytes; each step folds
 * them 2048 bits forward with carry-less multiplies and xors in the next 256
 * bytes, so the work is bounded by load bandwidth rather than by the crc32
 * instruction's one-per-cycle throughput.  Folding keeps this invariant: the
 * raw CRC (no inversions) of the data seen so far, started from the caller's
 * register, equals the raw CRC from 0 of the 256 accumulator bytes.  So no
 * Barrett reduction is needed: the accumulators are stored and run through the
 * crc32 instruction, which then finishes the tail.
 *
 * The fold constants for a distance of D bits, per 128-bit lane, are
 * (x^(D+32) mod P) for the low and (x^(D-32) mod P) for the high quadword, in
 * bit-reflected form shifted left by one (the construction of Intel's "Fast CRC
 * Computation for Generic Polynomials Using PCLMULQDQ"); they are computed at
 * start-up with gf2_mul rather than written down.
 */
#if defined(SL_HAVE_HW) && defined(__x86_64__)
#define SL_HAVE_VPCLMUL 1
#include <immintrin.h>

static uint64_t fold_lo, fold_hi;

static bool vpclmul_available(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_SSE4_2))
    return false;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
    return false;
  if (!(b & bit_AVX512F) || !(c & bit_VPCLMULQDQ))
    return false;
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  return (lo & 0xe6) == 0xe6; /* XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM enabled */
}

static void vpclmul_init(void) {
  /* D = 2048 bits = 256 bytes: x^(D+32) = x^(8*260), x^(D-32) = x^(8*252). */
  fold_lo = (uint64_t)xpow8n(260) << 1;
  fold_hi = (uint64_t)xpow8n(252) << 1;
}

__attribute__((target("avx512f,vpclmulqdq,sse4.2"))) static inline __m512i
fold512(__m512i x, __m512i k, __m512i data) {
  __m512i a = _mm512_clmulepi64_epi128(x, k, 0x00);
  __m512i b = _mm512_clmulepi64_epi128(x, k, 0x11);
  return _mm512_ternarylogic_epi64(a, b, data, 0x96); /* a ^ b ^ data */
}

__attribute__((target("avx512f,vpclmulqdq,sse4.2"))) static uint32_t
crc_vpclmul(uint32_t crc, const void *data, size_t n) {
  const uint8_t *p = data;
  if (n < 1024)
    return crc_hw(crc, data, n);
  __m512i k = _mm512_set_epi64((long long)fold_hi, (long long)fold_lo, (long long)fold_hi,
                               (long long)fold_lo, (long long)fold_hi, (long long)fold_lo,
                               (long long)fold_hi, (long long)fold_lo);
  __m512i x0 = _mm512_loadu_si512((const void *)p);
  __m512i x1 = _mm512_loadu_si512((const void *)(p + 64));
  __m512i x2 = _mm512_loadu_si512((const void *)(p + 128));
  __m512i x3 = _mm512_loadu_si512((const void *)(p + 192));
  x0 = _mm512_xor_si512(x0, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)~crc)));
  p += 256;
  n -= 256;
  while (n >= 256) {
    x0 = fold512(x0, k, _mm512_loadu_si512((const void *)p));
    x1 = fold512(x1, k, _mm512_loadu_si512((const void *)(p + 64)));
    x2 = fold512(x2, k, _mm512_loadu_si512((const void *)(p + 128)));
    x3 = fold512(x3, k, _mm512_loadu_si512((const void *)(p + 192)));
    p += 256;
    n -= 256;
  }
  uint8_t acc[256];
  _mm512_storeu_si512((void *)acc, x0);
  _mm512_storeu_si512((void *)(acc + 64), x1);
  _mm512_storeu_si512((void *)(acc + 128), x2);
  _mm512_storeu_si512((void *)(acc + 192), x3);
  /* raw CRC from 0 of the accumulators: crc_hw inverts in and out */
  uint32_t c = ~crc_hw(~0u, acc, sizeof(acc));
  return crc_hw(~c, p, n);
}
#endif

static uint32_t crc_sw(uint32_t crc, const void *data, size_t len) {
  return ~crc_sw_raw(~crc, (const uint8_t *)data, len);
}

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);
static crc_fn chosen;
static const char *chosen_name;

static void choose(void) {
  table_init();
#ifdef SL_HAVE_HW
  if (hw_available()) {
    shift_init();
#ifdef SL_HAVE_VPCLMUL
    if (vpclmul_available()) {
      vpclmul_init();
      chosen_name = "avx512-vpclmulqdq";
      chosen = crc_vpclmul;
      return;
    }
#endif
    chosen_name = HW_NAME;
    chosen = crc_hw;
    return;
  }
#endif
  chosen_name = "sw";
  chosen = crc_sw;
}

uint32_t sl_crc32c(uint32_t crc, const void *data, size_t len) {
  pthread_once(&once, choose);
  return chosen(crc, data, len);
}

const char *sl_crc32c_impl(void) {
  pthread_once(&once, choose);
  return chosen_name;
}

bool sl__crc32c_with(const char *impl, uint32_t crc, const void *data, size_t len,
                     uint32_t *out) {
  pthread_once(&once, choose);
  if (strcmp(impl, "sw") == 0) {
    *out = crc_sw(crc, data, len);
    return true;
  }
#ifdef SL_HAVE_HW
  if (strcmp(impl, HW_NAME) == 0 && hw_available()) {
    *out = crc_hw(crc, data, len);
    return true;
  }
#endif
#ifdef SL_HAVE_VPCLMUL
  if (strcmp(impl, "avx512-vpclmulqdq") == 0 && vpclmul_available()) {
    if (fold_lo == 0)
      return false; /* not initialised: choose() picked another path */
    *out = crc_vpclmul(crc, data, len);
    return true;
  }
#endif
  return false;
}

uint32_t sl_crc32_ieee(uint32_t crc, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len > 0) { /* zlib takes uInt lengths */
    uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
    crc = (uint32_t)crc32(crc, p, n);
    p += n;
    len -= n;
  }
  return crc;
}
