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

void ph_region_update(struct ph_region *r, size_t c0, size_t c1)
{
    ph_sum *s = r->sum;
    size_t lo = r->leaves + c0, hi = r->leaves + c1, v;
    uint32_t child_len = PH_CHUNK_PAGES;
    bool changed = false;

    for (v = lo; v <= hi; v++) {
        ph_sum n = ph_word_summary(r->alloc[v - r->leaves]);
        if (!ph_sum_eq(n, s[v])) {
            s[v] = n;
            changed = true;
        }
    }
    while (changed && lo > 1) {
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
