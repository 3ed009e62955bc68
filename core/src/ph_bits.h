/* SPDX-License-Identifier: MIT */
/*
 * ph_bits.h: the one home for bit tricks.
 *
 * A bitmap word holds one bit per page, bit i = page i of the chunk, 1 = in
 * use.  The word is the machine word (32 bits on Arm, 64 on x86-64) so that
 * a Cortex-M never pays for 64-bit shifts; PH_WORD_BITS=32 forces 32-bit
 * words on a 64-bit host so the Arm layout is tested there too.
 *
 * Count-leading/trailing-zero come in two flavours side by side: the
 * compiler builtin (one instruction on cores that have CLZ/RBIT, x86 BSF/
 * LZCNT) and a portable binary-search fallback for Cortex-M0 (no CLZ).
 * PH_PORTABLE_BITS selects the fallback; both are always compiled so host
 * tests can compare them.
 */
#ifndef PH_BITS_H
#define PH_BITS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifndef PH_WORD_BITS
#if UINTPTR_MAX > 0xFFFFFFFFu
#define PH_WORD_BITS 64
#else
#define PH_WORD_BITS 32
#endif
#endif

#if PH_WORD_BITS == 64
typedef uint64_t ph_word_t;
#define PH_WORD_LOG2 6
#elif PH_WORD_BITS == 32
typedef uint32_t ph_word_t;
#define PH_WORD_LOG2 5
#else
#error "PH_WORD_BITS must be 32 or 64"
#endif

#define PH_WORD_ONES ((ph_word_t)~(ph_word_t)0)

/* A bitmap-sized word for reading or writing bytes a word at a time: it may
 * alias the bytes it covers (written one by one elsewhere). */
#if defined(__GNUC__) || defined(__clang__)
typedef ph_word_t __attribute__((may_alias)) ph_word_alias;
#else
typedef ph_word_t ph_word_alias;
#endif

/* Cortex-M0/M0+/M23 (Armv6-M, Armv8-M baseline) have no CLZ instruction. */
#if !defined(PH_PORTABLE_BITS) && defined(__ARM_ARCH_6M__)
#define PH_PORTABLE_BITS 1
#endif
#if !defined(PH_PORTABLE_BITS) && defined(__ARM_ARCH_8M_BASE__)
#define PH_PORTABLE_BITS 1
#endif

/* Portable: number of trailing zero bits of x; x != 0. */
static inline unsigned ph_ctz_portable(ph_word_t x)
{
    unsigned n = 0;
#if PH_WORD_BITS == 64
    if ((x & 0xFFFFFFFFu) == 0) { n += 32; x >>= 32; }
#endif
    if ((x & 0xFFFFu) == 0) { n += 16; x >>= 16; }
    if ((x & 0xFFu) == 0) { n += 8; x >>= 8; }
    if ((x & 0xFu) == 0) { n += 4; x >>= 4; }
    if ((x & 0x3u) == 0) { n += 2; x >>= 2; }
    if ((x & 0x1u) == 0) { n += 1; }
    return n;
}

/* Portable: number of leading zero bits of x; x != 0. */
static inline unsigned ph_clz_portable(ph_word_t x)
{
    unsigned n = 0;
#if PH_WORD_BITS == 64
    if ((x >> 32) == 0) { n += 32; x <<= 32; }
#endif
    if ((x >> (PH_WORD_BITS - 16)) == 0) { n += 16; x <<= 16; }
    if ((x >> (PH_WORD_BITS - 8)) == 0) { n += 8; x <<= 8; }
    if ((x >> (PH_WORD_BITS - 4)) == 0) { n += 4; x <<= 4; }
    if ((x >> (PH_WORD_BITS - 2)) == 0) { n += 2; x <<= 2; }
    if ((x >> (PH_WORD_BITS - 1)) == 0) { n += 1; }
    return n;
}

#if defined(__GNUC__) || defined(__clang__)
#define PH_HAVE_BUILTIN_BITS 1
static inline unsigned ph_ctz_builtin(ph_word_t x)
{
#if PH_WORD_BITS == 64
    return (unsigned)__builtin_ctzll(x);
#else
    return (unsigned)__builtin_ctz(x); /* unsigned int is 32 bits on every target */
#endif
}
static inline unsigned ph_clz_builtin(ph_word_t x)
{
#if PH_WORD_BITS == 64
    return (unsigned)__builtin_clzll(x);
#else
    return (unsigned)__builtin_clz(x);
#endif
}
#endif

#if defined(PH_PORTABLE_BITS) || !defined(PH_HAVE_BUILTIN_BITS)
#define ph_ctz ph_ctz_portable
#define ph_clz ph_clz_portable
#else
#define ph_ctz ph_ctz_builtin
#define ph_clz ph_clz_builtin
#endif

/* Hot-path helpers are forced inline when optimising for speed (GCC would
 * otherwise keep one out-of-line copy for several call sites) and left to
 * the compiler at -Os, where code size matters more, and with the portable
 * bit helpers (Cortex-M0), whose inlined copies would double the code. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__OPTIMIZE_SIZE__) && \
    !defined(PH_PORTABLE_BITS)
#define PH_HOT_INLINE static inline __attribute__((always_inline))
#else
#define PH_HOT_INLINE static inline
#endif
/* A slow path kept out of line when optimising for speed, so that its
 * caller's fast exit saves and restores few registers; at -Os a single call
 * site is left to the compiler (out of line it costs a call and a frame). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__OPTIMIZE_SIZE__)
#define PH_NOINLINE __attribute__((noinline))
#else
#define PH_NOINLINE
#endif

/* x rounded up to a multiple of a (a power of two). */
static inline size_t ph_align_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* log2 of a power of two x (or of the next power of two up). */
static inline uint32_t ph_log2_ceil(uintptr_t x)
{
    uint32_t n = 0;
    while (((uintptr_t)1 << n) < x)
        n++;
    return n;
}

/* Bits [0, n) set; n in [0, PH_WORD_BITS]. */
static inline ph_word_t ph_mask_below(unsigned n)
{
    return n >= PH_WORD_BITS ? PH_WORD_ONES : (((ph_word_t)1 << n) - 1u);
}

/* Bits [lo, hi) set; 0 <= lo <= hi <= PH_WORD_BITS. */
static inline ph_word_t ph_mask_range(unsigned lo, unsigned hi)
{
    return ph_mask_below(hi) & ~ph_mask_below(lo);
}

/* Branch-free masks for the hot paths, each defined on a narrower domain
 * than ph_mask_below / ph_mask_range so that no shift reaches the word
 * width: */
/* bits [lo, W) set; lo in [0, PH_WORD_BITS). */
static inline ph_word_t ph_mask_from(unsigned lo)
{
    return PH_WORD_ONES << lo;
}

/* bits [0, hi) set; hi in [1, PH_WORD_BITS]. */
static inline ph_word_t ph_mask_to(unsigned hi)
{
    return PH_WORD_ONES >> (PH_WORD_BITS - hi);
}

/* bits [lo, hi) set; 0 <= lo < hi <= PH_WORD_BITS. */
static inline ph_word_t ph_mask_span(unsigned lo, unsigned hi)
{
    return ph_mask_from(lo) & ph_mask_to(hi);
}

#endif /* PH_BITS_H */
