/* SPDX-License-Identifier: MIT */
/*
 * ph_tree.h: the hot half of a region's run index (ph_internal.h says what
 * it holds; ph_region.c has the cold half): marking a run in use or free
 * with the index brought up to date, and the first-fit search.  Included
 * by ph_page.c, which inlines it into the page calls, and by ph_region.c,
 * which keeps the out-of-line copies that -Os builds call instead.
 *
 * Costs, with K = r->nlevels (the top level at most PH_TOP_WORDS words,
 * each level below PH_LANES times wider):
 *   search  at most PH_TOP_WORDS word tests at the top, one per level below
 *           for n <= W, then at most PH_MAX_RUN_VISITS runs of one word and
 *           a doubling search (O(log W)); over the cap, the chunks whose
 *           value is the cap, O(K) each, and the words of the runs measured;
 *   update  the run's bitmap words, an inner run rescanned when the longest
 *           one went (O(log W)), the values of at most four chunks (the
 *           run's first and last, the one above, the one below), each a
 *           few reads, each carried up at most K - 1 levels: a compare per
 *           level, or a lane maximum of one word when the maximum fell.
 */
#ifndef PH_TREE_H
#define PH_TREE_H

#include "ph_internal.h"

/* At -Os the word scans stay single out-of-line copies (ph_chunk.c). */
#if defined(__OPTIMIZE_SIZE__)
#define PH_TREE_INLINE static inline
#define tree_first_run ph_word_first_run
#define tree_max_run ph_word_max_run
#else
#define PH_TREE_INLINE PH_HOT_INLINE
#define tree_first_run ph_word_first_run_inline
#define tree_max_run ph_word_max_run_inline
#endif

/* With vectors, when optimising for speed, the carry to level 1 and a
 * two-level region's marks are written out (set_value, carry_from,
 * region_mark); machine words and -Os keep the one carry loop. */
#if PH_LANES_SIMD && !defined(__OPTIMIZE_SIZE__)
#define PH_TREE_UNROLLED 1
#else
#define PH_TREE_UNROLLED 0
#endif

/* ---- byte lanes of a word (values 0..127) ---- */

#define LANE_LO (PH_WORD_ONES / 0xFFu)  /* 0x0101...01 */
#define LANE_HI (LANE_LO << 7)          /* 0x8080...80 */

/* The top bit of each lane whose value is at least n (1 <= n <= 128): no
 * lane borrows from the next, as (v | 0x80) - n >= 0. */
PH_HOT_INLINE ph_word_t lanes_ge(ph_word_t x, uint32_t n)
{
    return ((x | LANE_HI) - LANE_LO * n) & LANE_HI;
}

/* Index of the first lane (lowest address) flagged in t != 0. */
PH_HOT_INLINE unsigned lane_first(ph_word_t t)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return ph_clz(t) >> 3;
#else
    return ph_ctz(t) >> 3;
#endif
}

/* t without the flags of its lanes below lane i (0 <= i < PH_LANES). */
PH_HOT_INLINE ph_word_t lanes_from(ph_word_t t, unsigned i)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return t & (PH_WORD_ONES >> (i * 8u));
#else
    return t & (PH_WORD_ONES << (i * 8u));
#endif
}

/* Lane by lane maximum of a and b. */
PH_HOT_INLINE ph_word_t lanes_max(ph_word_t a, ph_word_t b)
{
    ph_word_t ge = ((a | LANE_HI) - b) & LANE_HI; /* a >= b */
    ph_word_t m = ge - (ge >> 7);                 /* 0x7F there */
    return (a & m) | (b & ~m);
}

/* Largest lane of x. */
PH_HOT_INLINE uint32_t lanes_top(ph_word_t x)
{
#if PH_WORD_BITS == 64
    x = lanes_max(x, x >> 32);
#endif
    x = lanes_max(x, x >> 16);
    x = lanes_max(x, x >> 8);
    return (uint32_t)(x & 0xFFu);
}

/* ---- words of a level: PH_LANES byte lanes ---- */

/* Word j of level k (levels are word-aligned; their bytes are written one
 * by one). */
PH_HOT_INLINE const uint8_t *level_at(const struct ph_region *r, uint32_t k, size_t j)
{
    return r->lv[k] + (j << PH_LANE_LOG2);
}

#if PH_LANES_SIMD
typedef unsigned char ph_v16u8 __attribute__((vector_size(16)));
typedef signed char ph_v16i8 __attribute__((vector_size(16)));
typedef char ph_v16c __attribute__((vector_size(16))); /* the builtins' type */

/* The lanes of a word at or above a value: bit i for lane i. */
typedef unsigned ph_flags_t;

PH_HOT_INLINE ph_v16u8 vec_load(const uint8_t *l)
{
    ph_v16u8 v;
    __builtin_memcpy(&v, l, sizeof v);
    return v;
}

/* Byte-wise maximum (pmaxub). */
PH_HOT_INLINE ph_v16u8 bytes_max(ph_v16u8 a, ph_v16u8 b)
{
#if defined(__clang__)
    return __builtin_elementwise_max(a, b);
#else
    return (ph_v16u8)__builtin_ia32_pmaxub128((ph_v16c)a, (ph_v16c)b);
#endif
}

/* The lanes of the word at l whose value is at least n (1 <= n <= 128): a
 * signed compare, as values are below 128. */
PH_HOT_INLINE ph_flags_t word_ge(const uint8_t *l, uint32_t n)
{
    ph_v16i8 v = (ph_v16i8)vec_load(l), lim = (ph_v16i8){0} + (signed char)(n - 1u);
    return (ph_flags_t)__builtin_ia32_pmovmskb128((ph_v16c)(v > lim));
}

/* Index of the first lane flagged in t != 0. */
PH_HOT_INLINE unsigned flags_first(ph_flags_t t)
{
    return (unsigned)__builtin_ctz(t);
}

/* t without the flags of its lanes below lane i (0 <= i < PH_LANES). */
PH_HOT_INLINE ph_flags_t flags_from(ph_flags_t t, unsigned i)
{
    return t & (~0u << i);
}

/* The lanes of v rearranged: 4-byte groups by pshufd, 2-byte ones by
 * pshuflw (the compilers pick them for these patterns). */
typedef unsigned ph_v4u32 __attribute__((vector_size(16)));
typedef unsigned short ph_v8u16 __attribute__((vector_size(16)));
#if defined(__clang__)
#define PH_SHUF4(v, a, b, c, d) __builtin_shufflevector((ph_v4u32)(v), (ph_v4u32)(v), a, b, c, d)
#define PH_SHUF8(v, a, b, c, d, e, f, g, h)                                                   \
    __builtin_shufflevector((ph_v8u16)(v), (ph_v8u16)(v), a, b, c, d, e, f, g, h)
#else
#define PH_SHUF4(v, a, b, c, d) __builtin_shuffle((ph_v4u32)(v), (ph_v4u32){a, b, c, d})
#define PH_SHUF8(v, a, b, c, d, e, f, g, h)                                                   \
    __builtin_shuffle((ph_v8u16)(v), (ph_v8u16){a, b, c, d, e, f, g, h})
#endif

/* Largest lane of the word at l: four folds, each a shuffle into a second
 * register (pshufd, pshufd, pshuflw, then a 16-bit shift) and a byte-wise
 * maximum. */
PH_HOT_INLINE uint32_t word_top(const uint8_t *l)
{
    ph_v16u8 v = vec_load(l);

    v = bytes_max(v, (ph_v16u8)PH_SHUF4(v, 2, 3, 0, 1));
    v = bytes_max(v, (ph_v16u8)PH_SHUF4(v, 1, 0, 3, 2));
    v = bytes_max(v, (ph_v16u8)PH_SHUF8(v, 1, 0, 3, 2, 4, 5, 6, 7));
    v = bytes_max(v, (ph_v16u8)((ph_v8u16)v >> 8));
    return v[0];
}
#else
typedef ph_word_t ph_flags_t;

PH_HOT_INLINE ph_word_t word_at(const uint8_t *l)
{
    return *(const ph_word_alias *)(const void *)l;
}

PH_HOT_INLINE ph_flags_t word_ge(const uint8_t *l, uint32_t n)
{
    return lanes_ge(word_at(l), n);
}

PH_HOT_INLINE unsigned flags_first(ph_flags_t t)
{
    return lane_first(t);
}

PH_HOT_INLINE ph_flags_t flags_from(ph_flags_t t, unsigned i)
{
    return lanes_from(t, i);
}

/* Largest of the PH_LANES bytes at l: with 8 lanes a tree of byte
 * compares, fewer instructions than three folds of the word; with 4 the
 * two folds are as short and keep to one load. */
PH_HOT_INLINE uint32_t word_top(const uint8_t *l)
{
#if PH_WORD_BITS == 64
    uint32_t a = l[0] > l[1] ? l[0] : l[1], b = l[2] > l[3] ? l[2] : l[3];
    uint32_t c = l[4] > l[5] ? l[4] : l[5], d = l[6] > l[7] ? l[6] : l[7];
    a = a > b ? a : b;
    b = c > d ? c : d;
    return a > b ? a : b;
#else
    return lanes_top(word_at(l));
#endif
}
#endif

/* ---- chunk values ---- */

/* Longest free run of `used` touching neither end of the word. */
PH_HOT_INLINE uint32_t inner_of(ph_word_t used)
{
    ph_word_t x;

    if (used == 0)
        return 0;
    x = used | ph_mask_below(ph_ctz(used)) | ~ph_mask_below(PH_WORD_BITS - ph_clz(used));
    return x == PH_WORD_ONES ? 0 : tree_max_run(x);
}

/* The value of chunk c (its words and inner[c] up to date): the longest
 * of its inner runs, its bottom run unless it goes on from the chunk
 * below, and its top run counted on into the next chunk's bottom run;
 * capped at PH_RUN_CAP = W pages. */
PH_HOT_INLINE uint32_t chunk_value(const struct ph_region *r, size_t c)
{
    ph_word_t w = r->alloc[c];
    /* the word below (alloc[-1], a word of ones, for chunk 0) */
    bool begins = ((r->alloc - 1)[c] >> (PH_WORD_BITS - 1)) != 0;
    uint32_t v, top;

    if (w == 0)
        return begins ? PH_RUN_CAP : 0;
    v = r->inner[c];
    if (begins && ph_ctz(w) > v)
        v = ph_ctz(w);
    top = ph_clz(w);
    if (top != 0) {
        ph_word_t next = r->alloc[c + 1]; /* alloc[nchunks]: ones */
        top += next != 0 ? ph_ctz(next) : PH_CHUNK_PAGES;
        if (top > PH_RUN_CAP)
            top = PH_RUN_CAP;
    }
    return top > v ? top : v;
}

/* inner after bits [lo, hi) of word w turn in use (nw = w | mask) or free
 * (nw = w & ~mask), from its value before: only a run that disappears and
 * was the longest sends it back to the word. */
PH_HOT_INLINE uint32_t inner_after(ph_word_t w, ph_word_t nw, unsigned lo, unsigned hi,
                                   uint32_t inner, bool in_use, bool begins)
{
    ph_word_t free_in = in_use ? w : nw; /* the word where [lo, hi) is free */
    ph_word_t below = free_in & ~ph_mask_from(lo); /* bits [0, lo) */
    ph_word_t above = free_in & ~ph_mask_to(hi);   /* bits [hi, W) */
    unsigned left = begins ? lo : below != 0 ? PH_WORD_BITS - ph_clz(below) : 0;
    unsigned right = above != 0 ? ph_ctz(above) : PH_WORD_BITS;
    bool inside = left != 0 && right != PH_WORD_BITS;
    uint32_t gone = 0;

    if (in_use) {
        if (inside) {
            gone = right - left; /* an inner run splits into shorter ones */
        } else {
            /* the bottom or top run: the piece cut off it turns inner */
            if (left != 0 && lo - left > inner)
                inner = lo - left;
            if (right != PH_WORD_BITS && right - hi > inner)
                inner = right - hi;
        }
    } else if (inside) {
        if (right - left > inner)
            inner = right - left;
    } else if (left != 0) {
        gone = lo - left; /* an inner piece joins the top run */
    } else if (right != PH_WORD_BITS) {
        gone = right - hi; /* an inner piece joins the bottom run */
    }
    if (gone != 0 && gone == inner)
        inner = inner_of(nw);
    return inner;
}

/* Bits [lo, hi) of chunk c in use or free, inner[c] kept; begins: the
 * bits taken start a free run (bit lo - 1 is in use, or lo is 0). */
PH_HOT_INLINE void set_bits(struct ph_region *r, size_t c, unsigned lo, unsigned hi, bool in_use,
                            bool begins)
{
    ph_word_t m = ph_mask_span(lo, hi), w = r->alloc[c];
    ph_word_t nw = in_use ? w | m : w & ~m;

    r->inner[c] = (uint8_t)inner_after(w, nw, lo, hi, r->inner[c], in_use, begins);
    r->alloc[c] = nw;
}

/* Carries the lane j of level k - 1 up from level k (1 <= k):
 * old, the lane's value before, v its value now.  With vectors level 1
 * is written out in set_value and this carries on from level 2, out of
 * line: regions of three levels or more are rare there (over
 * PH_TOP_WORDS * 256 chunks).  With machine words (where a region of 512
 * chunks has three levels) and at -Os it is the whole carry, inlined: one
 * loop, the code size of the library kept. */
#if PH_TREE_UNROLLED
#define PH_CARRY_INLINE static __attribute__((noinline))
#else
#define PH_CARRY_INLINE PH_HOT_INLINE
#endif
PH_CARRY_INLINE void carry_from(struct ph_region *r, uint32_t k, size_t j, uint32_t old,
                                uint32_t v)
{
    for (; k < r->nlevels; k++) {
        uint8_t *up = &r->lv[k][j >> PH_LANE_LOG2];
        uint32_t was = *up;
        if (v > was) {
            *up = (uint8_t)v;
        } else if (old == was) {
            v = word_top(level_at(r, k - 1, j >> PH_LANE_LOG2));
            if (v == was)
                return;
            *up = (uint8_t)v;
        } else {
            return;
        }
        old = was;
        j >>= PH_LANE_LOG2;
    }
}

/* The levels of r: nl when it is not 0 (a caller that knows them, so that
 * the tests on them fold away), else r->nlevels. */
PH_HOT_INLINE uint32_t levels_of(const struct ph_region *r, uint32_t nl)
{
    return nl != 0 ? nl : r->nlevels;
}

/* Sets the value of chunk c and carries it up the levels: a byte that
 * rises above its parent raises the parent; one that falls from its
 * parent's value sends the parent back to its word; anything else leaves
 * the parent, and so every level above, as it was.  Each changed chunk is
 * carried up before the next changes, so every carry starts from a
 * consistent index.  With vectors (optimising for speed) level 1 is
 * written out, as most regions have at most two levels, and nl
 * (levels_of) folds the tests on the levels away; else carry_from's loop
 * does it all. */
PH_HOT_INLINE void set_value(struct ph_region *r, size_t c, uint32_t nl)
{
    uint32_t old = r->lv[0][c], v = chunk_value(r, c);

    if (v == old)
        return;
    r->lv[0][c] = (uint8_t)v;
#if !PH_TREE_UNROLLED
    (void)nl;
    carry_from(r, 1, c, old, v); /* the loop: one copy of the carry */
#else
    if (levels_of(r, nl) > 1) {
        uint8_t *up = r->lv[1] + (c >> PH_LANE_LOG2);
        uint32_t was = *up, top;
        if (v > was) {
            *up = (uint8_t)v;
            if (levels_of(r, nl) > 2)
                carry_from(r, 2, c >> PH_LANE_LOG2, was, v);
        } else if (old == was) {
            top = word_top(r->lv[0] + ((c >> PH_LANE_LOG2) << PH_LANE_LOG2));
            if (top != was) {
                *up = (uint8_t)top;
                if (levels_of(r, nl) > 2)
                    carry_from(r, 2, c >> PH_LANE_LOG2, was, top);
            }
        }
    }
#endif
}

/* Marks pages [first, first + npages) in use or free, the index kept.
 * begins (with in_use): page first begins a free run (the first fit's
 * answer), so the run below it is untouched. */
PH_HOT_INLINE void mark_run(struct ph_region *r, size_t first, size_t npages, bool in_use,
                            bool begins, uint32_t nl)
{
    size_t last = first + npages - 1;
    size_t c0 = first >> PH_CHUNK_LOG2, c1 = last >> PH_CHUNK_LOG2, c;
    unsigned lo = (unsigned)(first & (PH_CHUNK_PAGES - 1));
    unsigned hi = (unsigned)(last & (PH_CHUNK_PAGES - 1)) + 1;

    if (c0 == c1) {
        set_bits(r, c0, lo, hi, in_use, begins);
    } else {
        set_bits(r, c0, lo, PH_CHUNK_PAGES, in_use, begins);
        for (c = c0 + 1; c < c1; c++) {
            r->alloc[c] = in_use ? PH_WORD_ONES : 0;
            r->inner[c] = 0; /* and the value stays 0: all in use, or
                                all free going on from below */
        }
        set_bits(r, c1, 0, hi, in_use, false);
    }
    /* The values that may change: chunks c0 and c1, the chunk below when
     * its top run reaches c0's bottom run (which may have changed), the
     * chunk above when its bottom run now begins, or no longer does. */
    if (!begins && (r->alloc[c0] & ~ph_mask_from(lo)) == 0 &&
        ((r->alloc - 1)[c0] >> (PH_WORD_BITS - 1)) == 0)
        set_value(r, c0 - 1, nl);
    set_value(r, c0, nl);
    if (c1 != c0)
        set_value(r, c1, nl);
    if (hi == PH_CHUNK_PAGES && c1 + 1 < r->nchunks)
        set_value(r, c1 + 1, nl);
}

/* ph_region_free_checked (ph_internal.h), inlined: the entry checks of a
 * free read the same one or two bitmap words that the free then clears. */
PH_TREE_INLINE int region_free_checked(struct ph_region *r, size_t first, size_t npages)
{
    size_t last = first + npages - 1;
    size_t c0 = first >> PH_CHUNK_LOG2, c1 = last >> PH_CHUNK_LOG2;
    unsigned lo = (unsigned)(first & (PH_CHUNK_PAGES - 1));
    unsigned hi = (unsigned)(last & (PH_CHUNK_PAGES - 1)) + 1;

    if (c0 == c1) {
        ph_word_t m = ph_mask_span(lo, hi);
        if ((r->alloc[c0] & m) != m)
            return PH_FAULT_DOUBLE_FREE;
        if ((r->obj[c0] & m) != 0)
            return PH_FAULT_BAD_POINTER;
    } else if (c1 == c0 + 1) {
        ph_word_t ma = ph_mask_from(lo), mb = ph_mask_to(hi);
        if ((r->alloc[c0] & ma) != ma || (r->alloc[c1] & mb) != mb)
            return PH_FAULT_DOUBLE_FREE;
        if (((r->obj[c0] & ma) | (r->obj[c1] & mb)) != 0)
            return PH_FAULT_BAD_POINTER;
    } else {
        if (!ph_bits_set_range(r->alloc, first, npages))
            return PH_FAULT_DOUBLE_FREE;
        if (!ph_bits_clear(r->obj, first, npages))
            return PH_FAULT_BAD_POINTER;
    }
    mark_run(r, first, npages, false, false, 0);
    return 0;
}

/* ph_region_mark and ph_region_find (ph_internal.h), inlined. */
PH_TREE_INLINE void region_mark(struct ph_region *r, size_t first, size_t npages, bool in_use,
                                bool begins)
{
#if PH_TREE_UNROLLED
    /* two levels (regions of PH_TOP_WORDS + 1 to PH_TOP_WORDS * PH_LANES
     * words of chunks): a copy of their own, the tests on the levels
     * folded away */
    if (r->nlevels == 2) {
        mark_run(r, first, npages, in_use, in_use && begins, 2);
        return;
    }
#endif
    mark_run(r, first, npages, in_use, in_use && begins, 0);
}

/* First fit over the cap (ph_region.c). */
size_t ph_region_find_long(const struct ph_region *r, size_t n);

PH_TREE_INLINE size_t region_find(const struct ph_region *r, size_t n)
{
    uint32_t k = r->nlevels - 1;
    ph_flags_t t;
    ph_word_t w, x;
    const uint8_t *top, *l;
    size_t j;
    unsigned visits, at;

    if (n > PH_RUN_CAP)
        return ph_region_find_long(r, n);
    /* Invariant: the first chunk whose value is at least n is in the
     * subtree of lane j of level k. */
    top = r->lv[k];
    for (l = top;; l += PH_LANES) { /* ends at PH_TOP_STOP, past the top level */
        t = word_ge(l, (uint32_t)n);
        if (t != 0)
            break;
    }
    j = (size_t)(l - top); /* the word's first lane */
    if (j == (size_t)r->top_words << PH_LANE_LOG2)
        return SIZE_MAX;
    j += flags_first(t);
#if PH_LANES_SIMD
    /* one word per level below; the step to level 0 written out (the only
     * one with two levels, the most a vector index usually has) */
    if (k > 0) {
        for (; k > 1; k--) {
            t = word_ge(level_at(r, k - 1, j), (uint32_t)n);
            j = (j << PH_LANE_LOG2) + flags_first(t);
        }
        t = word_ge(level_at(r, 0, j), (uint32_t)n);
        j = (j << PH_LANE_LOG2) + flags_first(t);
    }
#else
    while (k > 0) { /* one word per level below */
        k--;
        t = word_ge(level_at(r, k, j), (uint32_t)n);
        j = (j << PH_LANE_LOG2) + flags_first(t);
    }
#endif
    /* The run begins in chunk j: the first of its word's runs of n pages
     * or more, else its top run, which goes on into the chunk above.  A
     * bottom run that goes on from below is shorter than n (or the chunk
     * below would have been found).  Runs are visited one by one (adding
     * the lowest set bit of the free bits clears the lowest run and sets
     * the bit just past it), at most PH_MAX_RUN_VISITS of them; a word of
     * more holes is searched by doubling, O(log W) whatever it holds. */
    w = r->alloc[j];
    x = ~w;
    for (visits = 0; visits < PH_MAX_RUN_VISITS; visits++) {
        ph_word_t past = x + (x & (~x + 1));
        unsigned start = ph_ctz(x), end = past != 0 ? ph_ctz(past) : PH_WORD_BITS;
        if (end - start >= n || end == PH_WORD_BITS)
            return (j << PH_CHUNK_LOG2) + start;
        x &= past;
    }
    at = tree_first_run(~x, (unsigned)n);
    if (at == PH_WORD_BITS)
        at = PH_WORD_BITS - ph_clz(w); /* the top run (w has a used bit) */
    return (j << PH_CHUNK_LOG2) + at;
}

#endif /* PH_TREE_H */
