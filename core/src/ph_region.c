/* SPDX-License-Identifier: MIT */
/*
 * ph_region.c: one region's summary tree: building it, keeping it up to date
 * after a run of bits changed, and searching it for the first fit.
 *
 * Node v at depth d (root d = 0) covers PH_CHUNK_PAGES << (height - d)
 * pages.  Its summary is the merge of its two children (ph_sum_merge), so
 * after bits of chunks [c0, c1] change, only those leaves and their
 * ancestors need recomputing, level by level, and the walk stops at the
 * first level where no node changed: the tree above was consistent and
 * still is.  The worst case is (c1 - c0 + 1) + height merges.
 */
#include "ph_internal.h"

static size_t round_pow2(size_t x)
{
    size_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

size_t ph_region_meta_bytes(size_t npages)
{
    size_t nchunks = (npages + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2;
    size_t leaves = round_pow2(nchunks);
    size_t bytes = ph_align_up(sizeof(struct ph_region), sizeof(ph_word_t));
    bytes += 3 * nchunks * sizeof(ph_word_t); /* alloc, released, obj bitmaps */
    bytes += ((nchunks + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2) * sizeof(ph_word_t); /* scav */
    bytes = ph_align_up(bytes, sizeof(uint32_t));
    bytes += 3 * 2 * leaves * sizeof(uint32_t); /* tree fields, node 0 unused */
    bytes += npages;                            /* page map, one byte a page */
    return bytes;
}

/* Calls fn-like logic word by word over pages [first, first + n): the mask
 * of the bits of each word that the range covers. */
#define PH_FOR_RANGE(first, n, c, m, body)                                           \
    do {                                                                               \
        size_t last_ = (first) + (n) - 1;                                              \
        size_t c0_ = (first) >> PH_CHUNK_LOG2, c1_ = last_ >> PH_CHUNK_LOG2;          \
        unsigned lo_ = (unsigned)((first) & (PH_CHUNK_PAGES - 1));                     \
        unsigned hi_ = (unsigned)(last_ & (PH_CHUNK_PAGES - 1)) + 1;                   \
        for (c = c0_; c <= c1_; c++) {                                                 \
            m = ph_mask_range(c == c0_ ? lo_ : 0, c == c1_ ? hi_ : PH_CHUNK_PAGES);   \
            body                                                                       \
        }                                                                              \
    } while (0)

bool ph_bits_clear(const ph_word_t *words, size_t first, size_t n)
{
    size_t c;
    ph_word_t m;
    PH_FOR_RANGE(first, n, c, m, {
        if ((words[c] & m) != 0)
            return false;
    });
    return true;
}

bool ph_bits_set_range(const ph_word_t *words, size_t first, size_t n)
{
    size_t c;
    ph_word_t m;
    PH_FOR_RANGE(first, n, c, m, {
        if ((words[c] & m) != m)
            return false;
    });
    return true;
}

void ph_bits_fill(ph_word_t *words, size_t first, size_t n, bool value)
{
    size_t c;
    ph_word_t m;
    PH_FOR_RANGE(first, n, c, m, {
        if (value)
            words[c] |= m;
        else
            words[c] &= ~m;
    });
}

void ph_region_rebuild(struct ph_region *r)
{
    ph_sum none = { 0, 0, 0 };
    size_t c, v, first;
    uint32_t child_len = PH_CHUNK_PAGES;

    for (c = 0; c < r->leaves; c++)
        ph_set_node(r, r->leaves + c, c < r->nchunks ? ph_word_summary(r->alloc[c]) : none);
    for (first = r->leaves >> 1; first >= 1; first >>= 1) {
        for (v = first; v < 2 * first; v++)
            ph_set_node(r, v, ph_sum_merge(ph_node(r, 2 * v), ph_node(r, 2 * v + 1), child_len));
        child_len <<= 1;
    }
}

/* What an update changed in a node: nothing, only its longest run, or its
 * start or end (and maybe its longest run). */
enum { NODE_SAME, NODE_MAX, NODE_ENDS };

/* Recomputes inner node v from its children (of child_len pages each).
 * While the children's start and end stayed put, so do v's, and only the
 * longest run is recomputed: that is most steps of most walks. */
PH_HOT_INLINE int pull(struct ph_region *r, size_t v, uint32_t child_len, int change)
{
    uint32_t *st = r->st, *mx = r->mx, *en = r->en;
    size_t a = 2 * v, b = a + 1;
    uint32_t max = mx[a] > mx[b] ? mx[a] : mx[b];
    uint32_t cross = en[a] + st[b];
    int rc = NODE_SAME;

    if (cross > max)
        max = cross;
    if (change == NODE_ENDS) {
        uint32_t start = st[a] == child_len ? child_len + st[b] : st[a];
        uint32_t end = en[b] == child_len ? child_len + en[a] : en[b];
        if (start != st[v] || end != en[v]) {
            st[v] = start;
            en[v] = end;
            rc = NODE_ENDS;
        }
    }
    if (max != mx[v]) {
        mx[v] = max;
        if (rc == NODE_SAME)
            rc = NODE_MAX;
    }
    return rc;
}

/* Brings the ancestors of node v up to date after v changed (`change`),
 * stopping at the first ancestor that stays the same: the tree above it was
 * consistent and still is. */
static void walk_up(struct ph_region *r, size_t v, uint32_t child_len, int change)
{
    while (change != NODE_SAME && v > 1) {
        v >>= 1;
        change = pull(r, v, child_len, change);
        child_len <<= 1;
    }
}

/* Two changed leaves side by side: climb both until their paths meet, then
 * one path; each side stops pulling once it stops changing. */
static void walk_up_pair(struct ph_region *r, size_t a, int ca, int cb)
{
    size_t b = a + 1;
    uint32_t child_len = PH_CHUNK_PAGES;

    while (a >> 1 != b >> 1) {
        a >>= 1;
        b >>= 1;
        if (ca != NODE_SAME)
            ca = pull(r, a, child_len, ca);
        if (cb != NODE_SAME)
            cb = pull(r, b, child_len, cb);
        child_len <<= 1;
        if (ca == NODE_SAME && cb == NODE_SAME)
            return;
    }
    walk_up(r, a, child_len, ca > cb ? ca : cb);
}

/* Recomputes the ancestors of leaves [lo, hi] level by level until a level
 * where nothing changed. */
static void walk_up_range(struct ph_region *r, size_t lo, size_t hi)
{
    uint32_t child_len = PH_CHUNK_PAGES;
    bool changed = true;

    while (changed && lo > 1) {
        size_t v;
        lo >>= 1;
        hi >>= 1;
        changed = false;
        for (v = lo; v <= hi; v++)
            if (pull(r, v, child_len, NODE_ENDS) != NODE_SAME)
                changed = true;
        child_len <<= 1;
    }
}

/* Length of the free run around mask m (contiguous, non-empty, bits free
 * in `used` or about to be) inside one word: up to the nearest used bits. */
PH_HOT_INLINE uint32_t hole_around(ph_word_t used, ph_word_t m)
{
    unsigned lo = ph_ctz(m), hi = PH_WORD_BITS - ph_clz(m);
    ph_word_t below = used & ph_mask_below(lo);
    ph_word_t above = used & ~ph_mask_below(hi);
    unsigned left = below != 0 ? PH_WORD_BITS - ph_clz(below) : 0;
    unsigned right = above != 0 ? ph_ctz(above) : PH_WORD_BITS;
    return (uint32_t)(right - left);
}

/* Marks the pages of mask m of chunk c in use (in_use) or free, keeping
 * the chunk's summary exact without rescanning the word where it can:
 * freeing can only grow the longest run to the run around m; allocating
 * shrinks it only when the run around m was the longest.  Returns what
 * changed in the leaf (NODE_*). */
PH_HOT_INLINE int set_chunk(struct ph_region *r, size_t c, ph_word_t m, bool in_use)
{
    size_t v = r->leaves + c;
    ph_word_t w = r->alloc[c], nw;
    uint32_t start, max, end, old_max = r->mx[v];
    int rc = NODE_SAME;

    if (in_use) {
        nw = w | m;
        if (nw == PH_WORD_ONES) {
            start = max = end = 0;
        } else {
            start = ph_ctz(nw);
            end = ph_clz(nw);
            max = hole_around(w, m) < old_max ? old_max : ph_word_max_run(nw);
        }
    } else {
        nw = w & ~m;
        if (nw == 0) {
            start = max = end = PH_WORD_BITS;
        } else {
            uint32_t hole = hole_around(nw, m);
            start = ph_ctz(nw);
            end = ph_clz(nw);
            max = hole > old_max ? hole : old_max;
        }
    }
    r->alloc[c] = nw;
    if (start != r->st[v] || end != r->en[v]) {
        r->st[v] = start;
        r->en[v] = end;
        rc = NODE_ENDS;
    }
    if (max != old_max) {
        r->mx[v] = max;
        if (rc == NODE_SAME)
            rc = NODE_MAX;
    }
    return rc;
}

void ph_region_mark(struct ph_region *r, size_t first, size_t npages, bool in_use)
{
    size_t last = first + npages - 1;
    size_t c0 = first >> PH_CHUNK_LOG2, c1 = last >> PH_CHUNK_LOG2, c;
    unsigned lo = (unsigned)(first & (PH_CHUNK_PAGES - 1));
    unsigned hi = (unsigned)(last & (PH_CHUNK_PAGES - 1)) + 1;

    if (c0 == c1) {
        walk_up(r, r->leaves + c0, PH_CHUNK_PAGES, set_chunk(r, c0, ph_mask_range(lo, hi), in_use));
        return;
    }
    if (c1 == c0 + 1) {
        int ca = set_chunk(r, c0, ~ph_mask_below(lo), in_use);
        int cb = set_chunk(r, c1, ph_mask_below(hi), in_use);
        walk_up_pair(r, r->leaves + c0, ca, cb);
        return;
    }
    set_chunk(r, c0, ~ph_mask_below(lo), in_use);
    for (c = c0 + 1; c < c1; c++) {
        size_t v = r->leaves + c;
        uint32_t n = in_use ? 0 : PH_CHUNK_PAGES;
        r->alloc[c] = in_use ? PH_WORD_ONES : 0;
        r->st[v] = r->mx[v] = r->en[v] = n;
    }
    set_chunk(r, c1, ph_mask_below(hi), in_use);
    walk_up_range(r, r->leaves + c0, r->leaves + c1);
}

size_t ph_region_find(const struct ph_region *r, size_t n)
{
    const uint32_t *st = r->st, *mx = r->mx, *en = r->en;
    size_t v = 1, base = 0;
    size_t len = (size_t)PH_CHUNK_PAGES << r->height;

    if (mx[1] < n)
        return SIZE_MAX;
    /* Invariant: node v holds a run of n; every run that starts left of
     * node v is shorter than n. */
    while (v < r->leaves) {
        size_t a = 2 * v;
        len >>= 1;
        if (mx[a] >= n) {
            v = a;
        } else if ((size_t)en[a] + st[a + 1] >= n) {
            return base + len - en[a]; /* crosses the middle */
        } else {
            v = a + 1;
            base += len;
        }
    }
    return base + ph_word_first_run(r->alloc[v - r->leaves], (unsigned)n);
}
