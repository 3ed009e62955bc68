/* SPDX-License-Identifier: MIT */
/*
 * ph_tree.h: the hot half of a region's summary tree (ph_region.c has the
 * rest): marking a run in use or free with the summaries brought up to
 * date, and the first-fit search.  Included by ph_page.c, which inlines it
 * into the page calls (no call inside an allocation or a free but the
 * rare doubling path of the longest-run scan), and by ph_region.c, which
 * keeps the out-of-line copies that -Os builds call instead.
 *
 * Node v at depth d (root d = 0) covers PH_CHUNK_PAGES << (height - d)
 * pages.  Its summary is the merge of its two children (ph_sum_merge), so
 * after bits of chunks [c0, c1] change, only those leaves and their
 * ancestors need recomputing, level by level, and the walk stops at the
 * first node that stays the same: the tree above was consistent and still
 * is.  The worst case is (c1 - c0 + 1) + 2 * height merges: two paths
 * that meet only at the root, or the ranges of a longer run.
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

/* What an update changed in a node: nothing, only its longest run, or its
 * start or end (and maybe its longest run).  Once a node keeps its start
 * and end, so do all its ancestors: a walk up is a phase of NODE_ENDS
 * steps, then one of NODE_MAX steps, each stopping at the first node that
 * stays the same. */
enum { NODE_SAME, NODE_MAX, NODE_ENDS };

/* Longest run of the node whose children are c[0] and c[1]. */
PH_HOT_INLINE uint32_t pair_max(const ph_sum *c)
{
    uint32_t max = c[0].max > c[1].max ? c[0].max : c[1].max;
    uint32_t cross = c[0].end + c[1].start;
    return cross > max ? cross : max;
}

/* Recomputes all of inner node v from its children (child_len pages each). */
PH_HOT_INLINE int pull_all(ph_sum *t, size_t v, uint32_t child_len)
{
    const ph_sum *c = t + 2 * v;
    ph_sum *p = t + v;
    uint32_t max = pair_max(c);
    uint32_t start = c[0].start == child_len ? child_len + c[1].start : c[0].start;
    uint32_t end = c[1].end == child_len ? child_len + c[0].end : c[1].end;
    int rc = NODE_SAME;

    if (start != p->start || end != p->end) {
        p->start = start;
        p->end = end;
        rc = NODE_ENDS;
    }
    if (max != p->max) {
        p->max = max;
        if (rc == NODE_SAME)
            rc = NODE_MAX;
    }
    return rc;
}

/* Recomputes the longest run of inner node v alone: its children kept
 * their start and end, so v keeps its own. */
PH_HOT_INLINE int pull_max(ph_sum *t, size_t v)
{
    uint32_t max = pair_max(t + 2 * v);
    if (max == t[v].max)
        return NODE_SAME;
    t[v].max = max;
    return NODE_MAX;
}

PH_HOT_INLINE int pull(ph_sum *t, size_t v, uint32_t child_len, int change)
{
    return change == NODE_ENDS ? pull_all(t, v, child_len) : pull_max(t, v);
}

/* Brings the ancestors of node v (of child_len pages) up to date after v
 * changed (`change`), stopping at the first ancestor that stays the same:
 * the tree above it was consistent and still is. */
PH_HOT_INLINE void walk_up(ph_sum *t, size_t v, uint32_t child_len, int change)
{
    if (change == NODE_ENDS) {
        while (v > 1) {
            v >>= 1;
            change = pull_all(t, v, child_len);
            child_len <<= 1;
            if (change != NODE_ENDS)
                break;
        }
    }
    if (change == NODE_SAME)
        return;
    while (v > 1) {
        uint32_t max;
        v >>= 1;
        max = pair_max(t + 2 * v);
        if (max == t[v].max)
            return;
        t[v].max = max;
    }
}

/* Two changed leaves side by side: climb both until their paths meet, then
 * one path; each side stops pulling once it stops changing. */
PH_HOT_INLINE void walk_up_pair(ph_sum *t, size_t a, int ca, int cb)
{
    size_t b = a + 1;
    uint32_t child_len = PH_CHUNK_PAGES;

    while (a >> 1 != b >> 1) {
        a >>= 1;
        b >>= 1;
        if (ca != NODE_SAME)
            ca = pull(t, a, child_len, ca);
        if (cb != NODE_SAME)
            cb = pull(t, b, child_len, cb);
        child_len <<= 1;
        if (ca == NODE_SAME && cb == NODE_SAME)
            return;
    }
    walk_up(t, a, child_len, ca > cb ? ca : cb);
}

/* Recomputes the ancestors of leaves [lo, hi] of tree t level by level
 * until a level where nothing changed (a run over three chunks or more:
 * ph_region.c). */
void ph_region_walk_range(ph_sum *t, size_t lo, size_t hi);

/* Length of the free run around bits [lo, hi) (0 <= lo < hi <= W, free in
 * `used` or about to be) inside one word: up to the nearest used bits. */
PH_HOT_INLINE uint32_t hole_around(ph_word_t used, unsigned lo, unsigned hi)
{
    ph_word_t below = used & ~ph_mask_from(lo);
    ph_word_t above = used & ~ph_mask_to(hi);
    unsigned left = below != 0 ? PH_WORD_BITS - ph_clz(below) : 0;
    unsigned right = above != 0 ? ph_ctz(above) : PH_WORD_BITS;
    return (uint32_t)(right - left);
}

/* Marks pages [lo, hi) of chunk c (0 <= lo < hi <= W) in use (in_use) or free, keeping
 * the chunk's summary exact without rescanning the word where it can:
 * freeing can only grow the longest run to the run around m; allocating
 * shrinks it only when the run around m was the longest.  Returns what
 * changed in the leaf (NODE_*). */
PH_HOT_INLINE int set_chunk(struct ph_region *r, size_t c, unsigned lo, unsigned hi, bool in_use)
{
    ph_word_t m = ph_mask_span(lo, hi);
    ph_sum *leaf = r->tree + r->leaves + c;
    ph_word_t w = r->alloc[c], nw;
    uint32_t start, max, end, old_max = leaf->max;
    int rc = NODE_SAME;

    if (in_use) {
        nw = w | m;
        if (nw == PH_WORD_ONES) {
            start = max = end = 0;
        } else {
            start = ph_ctz(nw);
            end = ph_clz(nw);
            max = hole_around(w, lo, hi) < old_max ? old_max : tree_max_run(nw);
        }
    } else {
        nw = w & ~m;
        if (nw == 0) {
            start = max = end = PH_WORD_BITS;
        } else {
            uint32_t hole = hole_around(nw, lo, hi);
            start = ph_ctz(nw);
            end = ph_clz(nw);
            max = hole > old_max ? hole : old_max;
        }
    }
    r->alloc[c] = nw;
    if (start != leaf->start || end != leaf->end) {
        leaf->start = start;
        leaf->end = end;
        rc = NODE_ENDS;
    }
    if (max != old_max) {
        leaf->max = max;
        if (rc == NODE_SAME)
            rc = NODE_MAX;
    }
    return rc;
}

/* ph_region_mark's body, inlined where in_use is a constant so that every
 * test of it folds away. */
PH_HOT_INLINE void mark_run(struct ph_region *r, size_t first, size_t npages, bool in_use)
{
    size_t last = first + npages - 1;
    size_t c0 = first >> PH_CHUNK_LOG2, c1 = last >> PH_CHUNK_LOG2, c;
    unsigned lo = (unsigned)(first & (PH_CHUNK_PAGES - 1));
    unsigned hi = (unsigned)(last & (PH_CHUNK_PAGES - 1)) + 1;

    if (c0 == c1) {
        walk_up(r->tree, r->leaves + c0, PH_CHUNK_PAGES,
                set_chunk(r, c0, lo, hi, in_use));
        return;
    }
    if (c1 == c0 + 1) {
        int ca = set_chunk(r, c0, lo, PH_CHUNK_PAGES, in_use);
        int cb = set_chunk(r, c1, 0, hi, in_use);
        walk_up_pair(r->tree, r->leaves + c0, ca, cb);
        return;
    }
    set_chunk(r, c0, lo, PH_CHUNK_PAGES, in_use);
    for (c = c0 + 1; c < c1; c++) {
        ph_sum *leaf = r->tree + r->leaves + c;
        uint32_t n = in_use ? 0 : PH_CHUNK_PAGES;
        r->alloc[c] = in_use ? PH_WORD_ONES : 0;
        leaf->start = leaf->max = leaf->end = n;
    }
    set_chunk(r, c1, 0, hi, in_use);
    ph_region_walk_range(r->tree, r->leaves + c0, r->leaves + c1);
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
        walk_up(r->tree, r->leaves + c0, PH_CHUNK_PAGES, set_chunk(r, c0, lo, hi, false));
        return 0;
    }
    if (c1 == c0 + 1) {
        ph_word_t ma = ph_mask_from(lo), mb = ph_mask_to(hi);
        int ca, cb;
        if ((r->alloc[c0] & ma) != ma || (r->alloc[c1] & mb) != mb)
            return PH_FAULT_DOUBLE_FREE;
        if (((r->obj[c0] & ma) | (r->obj[c1] & mb)) != 0)
            return PH_FAULT_BAD_POINTER;
        ca = set_chunk(r, c0, lo, PH_CHUNK_PAGES, false);
        cb = set_chunk(r, c1, 0, hi, false);
        walk_up_pair(r->tree, r->leaves + c0, ca, cb);
        return 0;
    }
    if (!ph_bits_set_range(r->alloc, first, npages))
        return PH_FAULT_DOUBLE_FREE;
    if (!ph_bits_clear(r->obj, first, npages))
        return PH_FAULT_BAD_POINTER;
    mark_run(r, first, npages, false);
    return 0;
}

/* ph_region_mark and ph_region_find (ph_internal.h), inlined. */
PH_TREE_INLINE void region_mark(struct ph_region *r, size_t first, size_t npages, bool in_use)
{
    mark_run(r, first, npages, in_use);
}

PH_TREE_INLINE size_t region_find(const struct ph_region *r, size_t n)
{
    const ph_sum *t = r->tree;
    size_t v = 1, base = 0;
    size_t len = (size_t)PH_CHUNK_PAGES << r->height;

    if (t[1].max < n)
        return SIZE_MAX;
    /* Invariant: node v holds a run of n; every run that starts left of
     * node v is shorter than n. */
    while (v < r->leaves) {
        const ph_sum *c = t + 2 * v;
        len >>= 1;
        if (c[0].max >= n) {
            v = 2 * v;
        } else if ((size_t)c[0].end + c[1].start >= n) {
            return base + len - c[0].end; /* crosses the middle */
        } else {
            v = 2 * v + 1;
            base += len;
        }
    }
    return base + tree_first_run(r->alloc[v - r->leaves], (unsigned)n);
}

#endif /* PH_TREE_H */
