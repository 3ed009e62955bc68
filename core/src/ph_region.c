/* SPDX-License-Identifier: MIT */
/*
 * ph_region.c: one region's summary tree, the cold half: its size, bit
 * ranges over a region's bitmaps, building the tree from the bitmap, the
 * walk after a run over many chunks, and the out-of-line copies of the hot
 * half (ph_tree.h) for -Os builds.
 */
#include "ph_tree.h"

static size_t round_pow2(size_t x)
{
    size_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

size_t ph_region_meta_bytes(size_t npages, uint32_t page_shift)
{
    uint32_t anc = ph_anc_shift(page_shift);
    size_t nchunks = (npages + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2;
    size_t leaves = round_pow2(nchunks);
    size_t bytes = ph_align_up(sizeof(struct ph_region), sizeof(ph_word_t));
    bytes += 3 * nchunks * sizeof(ph_word_t); /* alloc, released, obj bitmaps */
    bytes += ((nchunks + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2) * sizeof(ph_word_t); /* scav */
    bytes = ph_align_up(bytes, sizeof(uint32_t));
    bytes += 2 * leaves * sizeof(ph_sum); /* the tree, node 0 unused */
    bytes += npages;                            /* page map, one byte a page */
    if (anc != page_shift)                      /* anchors, a byte a block   */
        bytes += npages << (page_shift - anc);
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

/* Recomputes the ancestors of leaves [lo, hi] level by level until a level
 * where nothing changed. */
void ph_region_walk_range(ph_sum *t, size_t lo, size_t hi)
{
    uint32_t child_len = PH_CHUNK_PAGES;
    bool changed = true;

    while (changed && lo > 1) {
        size_t v;
        lo >>= 1;
        hi >>= 1;
        changed = false;
        for (v = lo; v <= hi; v++)
            if (pull_all(t, v, child_len) != NODE_SAME)
                changed = true;
        child_len <<= 1;
    }
}

/* The out-of-line copies of ph_tree.h that -Os builds call (ph_page.c);
 * optimising for speed, every caller inlines them and these would be dead
 * code in the library. */
#if defined(__OPTIMIZE_SIZE__)
void ph_region_mark(struct ph_region *r, size_t first, size_t npages, bool in_use)
{
    region_mark(r, first, npages, in_use);
}

int ph_region_free_checked(struct ph_region *r, size_t first, size_t npages)
{
    return region_free_checked(r, first, npages);
}

size_t ph_region_find(const struct ph_region *r, size_t n)
{
    return region_find(r, n);
}
#endif /* __OPTIMIZE_SIZE__ */
