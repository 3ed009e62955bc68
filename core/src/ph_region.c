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

static size_t align_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

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
    size_t bytes = align_up(sizeof(struct ph_region), sizeof(ph_word_t));
    bytes += 2 * nchunks * sizeof(ph_word_t); /* alloc + released bitmaps */
    bytes = align_up(bytes, sizeof(uint32_t));
    bytes += 2 * leaves * sizeof(ph_sum); /* tree, node 0 unused */
    return bytes;
}

void ph_region_rebuild(struct ph_region *r)
{
    ph_sum *s = r->sum;
    ph_sum none = { 0, 0, 0 };
    size_t c, v, first;
    uint32_t child_len = PH_CHUNK_PAGES;

    for (c = 0; c < r->leaves; c++)
        s[r->leaves + c] = c < r->nchunks ? ph_word_summary(r->alloc[c]) : none;
    for (first = r->leaves >> 1; first >= 1; first >>= 1) {
        for (v = first; v < 2 * first; v++)
            s[v] = ph_sum_merge(s[2 * v], s[2 * v + 1], child_len);
        child_len <<= 1;
    }
}

/* Recomputes ancestors of nodes [lo, hi] of one level (children of length
 * child_len) until a level where nothing changed. */
static void update_levels(ph_sum *s, size_t lo, size_t hi, uint32_t child_len)
{
    bool changed = true;

    while (changed && lo > 1) {
        size_t v;
        lo >>= 1;
        hi >>= 1;
        changed = false;
        for (v = lo; v <= hi; v++) {
            ph_sum n = ph_sum_merge(s[2 * v], s[2 * v + 1], child_len);
            if (!ph_sum_eq(n, s[v])) {
                s[v] = n;
                changed = true;
            }
        }
        child_len <<= 1;
    }
}

/* The common case of one changed leaf: walk its ancestors only, stopping
 * at the first one that does not change.  Most changes move only a `max`:
 * while the children's start and end stay put, so do the parent's, and
 * only the max is recomputed. */
static void update_path(ph_sum *s, size_t v, uint32_t child_len, bool ends_changed)
{
    for (; v > 1; v >>= 1, child_len <<= 1) {
        const ph_sum *l = &s[v & ~(size_t)1], *r = l + 1;
        ph_sum *p = &s[v >> 1];
        uint32_t max = l->max > r->max ? l->max : r->max;
        uint32_t cross = l->end + r->start;
        if (cross > max)
            max = cross;
        if (ends_changed) {
            uint32_t start = l->start == child_len ? child_len + r->start : l->start;
            uint32_t end = r->end == child_len ? child_len + l->end : r->end;
            ends_changed = p->start != start || p->end != end;
            p->start = start;
            p->end = end;
        }
        if (!ends_changed && p->max == max)
            return;
        p->max = max;
    }
}

void ph_region_update(struct ph_region *r, size_t c0, size_t c1)
{
    ph_sum *s = r->sum;
    size_t c;

    for (c = c0; c <= c1; c++)
        s[r->leaves + c] = ph_word_summary(r->alloc[c]);
    update_levels(s, r->leaves + c0, r->leaves + c1, PH_CHUNK_PAGES);
}

/* Length of the free run around mask m (contiguous, non-empty, bits free
 * in `used` or about to be) inside one word: up to the nearest used bits. */
static uint32_t hole_around(ph_word_t used, ph_word_t m)
{
    unsigned lo = ph_ctz(m), hi = PH_WORD_BITS - ph_clz(m);
    ph_word_t below = used & ph_mask_below(lo);
    ph_word_t above = used & ~ph_mask_below(hi);
    unsigned left = below != 0 ? PH_WORD_BITS - ph_clz(below) : 0;
    unsigned right = above != 0 ? ph_ctz(above) : PH_WORD_BITS;
    return (uint32_t)(right - left);
}

enum { LEAF_SAME, LEAF_MAX, LEAF_ENDS };

/* Marks the pages of mask m of chunk c in use (in_use) or free, keeping
 * the chunk's summary exact without rescanning the word where it can:
 * freeing can only grow the longest run to the run around m; allocating
 * shrinks it only when the run around m was the longest.  Returns what
 * changed in the summary: LEAF_SAME, LEAF_MAX or LEAF_ENDS. */
static int set_chunk(struct ph_region *r, size_t c, ph_word_t m, bool in_use)
{
    ph_word_t w = r->alloc[c];
    ph_sum *leaf = &r->sum[r->leaves + c];
    ph_sum n;
    int rc;

    if (in_use) {
        ph_word_t nw = w | m;
        r->alloc[c] = nw;
        if (nw == PH_WORD_ONES) {
            n.start = n.max = n.end = 0;
        } else {
            n.start = ph_ctz(nw);
            n.end = ph_clz(nw);
            n.max = hole_around(w, m) < leaf->max ? leaf->max : ph_word_max_run(nw);
        }
    } else {
        ph_word_t nw = w & ~m;
        r->alloc[c] = nw;
        if (nw == 0) {
            n.start = n.max = n.end = PH_WORD_BITS;
        } else {
            uint32_t hole = hole_around(nw, m);
            n.start = ph_ctz(nw);
            n.end = ph_clz(nw);
            n.max = hole > leaf->max ? hole : leaf->max;
        }
    }
    rc = (n.start != leaf->start || n.end != leaf->end) ? LEAF_ENDS : n.max != leaf->max ? LEAF_MAX : LEAF_SAME;
    *leaf = n;
    return rc;
}

static void walk(struct ph_region *r, size_t c, int change)
{
    if (change != LEAF_SAME)
        update_path(r->sum, r->leaves + c, PH_CHUNK_PAGES, change == LEAF_ENDS);
}

void ph_region_mark(struct ph_region *r, size_t first, size_t npages, bool in_use)
{
    size_t last = first + npages - 1;
    size_t c0 = first >> PH_CHUNK_LOG2, c1 = last >> PH_CHUNK_LOG2, c;
    unsigned lo = (unsigned)(first & (PH_CHUNK_PAGES - 1));
    unsigned hi = (unsigned)(last & (PH_CHUNK_PAGES - 1)) + 1;

    if (c0 == c1) {
        walk(r, c0, set_chunk(r, c0, ph_mask_range(lo, hi), in_use));
        return;
    }
    if (c1 == c0 + 1) {
        /* Two walks, one after the other: each starts from a tree that is
         * consistent but for its own leaf, so each may stop early. */
        walk(r, c0, set_chunk(r, c0, ~ph_mask_below(lo), in_use));
        walk(r, c1, set_chunk(r, c1, ph_mask_below(hi), in_use));
        return;
    }
    set_chunk(r, c0, ~ph_mask_below(lo), in_use);
    for (c = c0 + 1; c < c1; c++) {
        ph_sum *leaf = &r->sum[r->leaves + c];
        uint32_t v = in_use ? 0 : PH_CHUNK_PAGES;
        r->alloc[c] = in_use ? PH_WORD_ONES : 0;
        leaf->start = leaf->max = leaf->end = v;
    }
    set_chunk(r, c1, ph_mask_below(hi), in_use);
    update_levels(r->sum, r->leaves + c0, r->leaves + c1, PH_CHUNK_PAGES);
}

size_t ph_region_find(const struct ph_region *r, size_t n)
{
    const ph_sum *s = r->sum;
    size_t v = 1, base = 0;
    size_t len = (size_t)PH_CHUNK_PAGES << r->height;

    if (s[1].max < n)
        return SIZE_MAX;
    /* Invariant: node v holds a run of n; every run that starts left of
     * node v is shorter than n. */
    while (v < r->leaves) {
        const ph_sum *l = &s[2 * v];
        len >>= 1;
        if (l->max >= n) {
            v = 2 * v;
        } else if ((size_t)l->end + l[1].start >= n) {
            return base + len - l->end; /* crosses the middle */
        } else {
            v = 2 * v + 1;
            base += len;
        }
    }
    return base + ph_word_first_run(r->alloc[v - r->leaves], (unsigned)n);
}
