/* SPDX-License-Identifier: MIT */
/*
 * ph_check.c: invariant checking, statistics and introspection.  Kept apart
 * from the hot path; nothing here changes heap state.
 *
 * Invariants (ph_check verifies each, in this order):
 *   regions   sorted by address, not overlapping, metadata inside the raw
 *             range, usable pages right after the metadata;
 *   bitmap    the bits past a region's last page are set (in use for ever),
 *             as are the words of ones on either side of the bitmap;
 *   released  no page is both in use and released (the scavenger's state);
 *   leaf      each chunk's inner run and value in the run index equal
 *             what its bitmap words give, the lanes past the last chunk
 *             are 0;
 *   tree      each byte of a level above is the largest lane of its word
 *             one level down, the padding lanes 0;
 *   counts    the heap's page counts equal what the bitmaps say;
 *   hint      no free page lies below the search hint;
 *   objects   page map and object bitmap agree with each other and the
 *             allocation bitmap; every span header matches its class's
 *             layout, its free count its bitmap; class lists hold exactly
 *             the spans with a free object; object counts match.
 */
#include "ph_internal.h"

static unsigned popcount_word(ph_word_t w)
{
    unsigned n = 0;
    while (w != 0) {
        w &= w - 1;
        n++;
    }
    return n;
}

static int check_region_layout(const ph_heap *h, const struct ph_region *r)
{
    uintptr_t meta = (uintptr_t)r;
    size_t meta_bytes = r->meta_pages << h->page_shift_;

    if (meta < r->raw_base || r->base != meta + meta_bytes || r->limit > r->raw_end ||
        r->limit != r->base + ((uintptr_t)r->npages << h->page_shift_))
        return PH_CHECK_REGIONS;
    if (r->npages == 0 || r->npages > PH_REGION_MAX_PAGES ||
        r->nchunks != (r->npages + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2 ||
        r->nlevels != ph_region_levels(r->nchunks, NULL) || r->top_words == 0 ||
        r->top_words > PH_TOP_WORDS)
        return PH_CHECK_REGIONS;
    if (ph_region_meta_bytes(r->npages, h->page_shift_) > meta_bytes)
        return PH_CHECK_REGIONS;
    return PH_OK;
}

static int check_region_tree(const struct ph_region *r)
{
    size_t c, j, sizes[PH_MAX_LEVELS];
    uint32_t k;

    ph_region_levels(r->nchunks, sizes);
    if (r->top_words != sizes[r->nlevels - 1])
        return PH_CHECK_TREE;
    for (j = 0; j < PH_LANES; j++)
        if (r->lv[r->nlevels - 1][((size_t)r->top_words << PH_LANE_LOG2) + j] != PH_TOP_STOP)
            return PH_CHECK_TREE;
    for (c = 0; c < sizes[0] * PH_LANES; c++) {
        if (c >= r->nchunks) {
            if (r->lv[0][c] != 0)
                return PH_CHECK_LEAF;
        } else if (r->inner[c] != ph_region_inner(r->alloc[c]) ||
                   r->lv[0][c] != ph_region_value(r, c)) {
            return PH_CHECK_LEAF;
        }
    }
    for (k = 1; k < r->nlevels; k++) {
        for (j = 0; j < sizes[k] * PH_LANES; j++) {
            uint32_t want = 0;
            if (j < sizes[k - 1]) {
                const uint8_t *lane = r->lv[k - 1] + j * PH_LANES;
                unsigned i;
                for (i = 0; i < PH_LANES; i++)
                    if (lane[i] > want)
                        want = lane[i];
            }
            if (r->lv[k][j] != want)
                return PH_CHECK_TREE;
        }
    }
    return PH_OK;
}

/* Release state of r: released bits only in whole granules, all or none
 * per granule, none in use (checked by the caller), and no releasable
 * granule without a marked chunk in the scavenge index, no marked chunk at
 * or above its cursor.  Adds r's released pages and granules. */
static int check_region_released(const struct ph_region *r, size_t *pages, size_t *granules)
{
    size_t gpages = (size_t)1 << r->gran_shift, g, end;

    if (r->scav_top > r->nchunks || (r->granule == 0 && r->ngran != 0))
        return PH_CHECK_RELEASED;
    if (r->scav_top < r->nchunks && !ph_bits_clear(r->scav, r->scav_top, r->nchunks - r->scav_top))
        return PH_CHECK_RELEASED;
    if ((r->nchunks & (PH_CHUNK_PAGES - 1)) != 0 &&
        (r->scav[r->nchunks >> PH_CHUNK_LOG2] & ~ph_mask_below((unsigned)(r->nchunks & (PH_CHUNK_PAGES - 1)))) != 0)
        return PH_CHECK_RELEASED;
    end = r->gran_first + (r->ngran << r->gran_shift);
    if (r->ngran == 0) {
        if (!ph_bits_clear(r->released, 0, r->npages))
            return PH_CHECK_RELEASED;
        return PH_OK;
    }
    if (r->gran_first != 0 && !ph_bits_clear(r->released, 0, r->gran_first))
        return PH_CHECK_RELEASED;
    if (end < r->npages && !ph_bits_clear(r->released, end, r->npages - end))
        return PH_CHECK_RELEASED;
    for (g = 0; g < r->ngran; g++) {
        size_t first = r->gran_first + (g << r->gran_shift);
        if (ph_bits_set(r->released, first, gpages)) {
            *pages += gpages;
            *granules += 1;
        } else if (!ph_bits_clear(r->released, first, gpages)) {
            return PH_CHECK_RELEASED; /* partly released */
        } else if (ph_bits_clear(r->alloc, first, gpages)) {
            size_t c0 = first >> PH_CHUNK_LOG2, c1 = (first + gpages - 1) >> PH_CHUNK_LOG2;
            if (ph_bits_clear(r->scav, c0, c1 - c0 + 1))
                return PH_CHECK_RELEASED; /* releasable but not in the index */
        }
    }
    return PH_OK;
}

/* Free pages of r; *first_free gets the lowest free page (npages if none). */
static size_t count_free(const struct ph_region *r, size_t *first_free)
{
    size_t c, n = 0;
    *first_free = r->npages;
    for (c = 0; c < r->nchunks; c++) {
        ph_word_t w = r->alloc[c];
        if (w != PH_WORD_ONES && *first_free == r->npages)
            *first_free = (c << PH_CHUNK_LOG2) + ph_ctz(~w);
        n += PH_CHUNK_PAGES - popcount_word(w);
    }
    return n;
}

static int check_locked(const ph_heap *h)
{
    size_t total = 0, free_pages = 0, meta = 0, released = 0, granules = 0;
    uint32_t i;
    unsigned tail;
    int rc;

    if (h->nregions_ > PH_MAX_REGIONS || h->hint_region_ > h->nregions_)
        return PH_CHECK_HEAP;
    for (i = 0; i < h->nregions_; i++) {
        const struct ph_region *r = h->regions_[i];
        size_t c, first_free, nfree;

        if (r == NULL)
            return PH_CHECK_REGIONS;
        if (i > 0 && h->regions_[i - 1]->raw_end > r->raw_base)
            return PH_CHECK_REGIONS;
        rc = check_region_layout(h, r);
        if (rc != PH_OK)
            return rc;
        tail = (unsigned)(r->npages & (PH_CHUNK_PAGES - 1));
        if (tail != 0 && (r->alloc[r->nchunks - 1] | ph_mask_below(tail)) != PH_WORD_ONES)
            return PH_CHECK_BITMAP;
        if (r->alloc[-1] != PH_WORD_ONES || r->alloc[r->nchunks] != PH_WORD_ONES)
            return PH_CHECK_BITMAP;
        for (c = 0; c < r->nchunks; c++)
            if ((r->alloc[c] & r->released[c]) != 0)
                return PH_CHECK_RELEASED;
        rc = check_region_released(r, &released, &granules);
        if (rc != PH_OK)
            return rc;
        rc = check_region_tree(r);
        if (rc != PH_OK)
            return rc;
        nfree = count_free(r, &first_free);
        total += r->npages;
        free_pages += nfree;
        meta += r->meta_pages << h->page_shift_;
        if (i < h->hint_region_ && nfree != 0)
            return PH_CHECK_HINT;
        if (i == h->hint_region_ && (h->hint_page_ > r->npages || first_free < h->hint_page_))
            return PH_CHECK_HINT;
    }
    if (total != h->pages_total_ || free_pages != h->pages_free_ || meta != h->metadata_bytes_)
        return PH_CHECK_COUNTS;
    if (released != h->pages_released_ || granules != h->granules_released_)
        return PH_CHECK_RELEASED;
    return ph_object_check(h);
}

int ph_check(ph_heap *h)
{
    int rc;
    if (!ph_heap_ok(h))
        return PH_CHECK_HEAP;
    ph_lock(h);
    rc = check_locked(h);
    ph_unlock(h);
    return rc;
}

void ph_get_stats(ph_heap *h, ph_stats *out)
{
    uint32_t i;
    size_t largest = 0;

    if (out == NULL)
        return;
    out->page_size = 0;
    out->regions = 0;
    out->pages_total = 0;
    out->pages_free = 0;
    out->pages_released = 0;
    out->largest_free_run = 0;
    out->metadata_bytes = 0;
    out->faults = 0;
    out->granules_released = 0;
    out->release_calls = 0;
    out->acquire_calls = 0;
    out->bytes_released = 0;
    out->bytes_acquired = 0;
    out->peak_pages_used = 0;
    out->small_spans = 0;
    out->small_span_pages = 0;
    out->large_objects = 0;
    out->large_pages = 0;
    if (!ph_heap_ok(h))
        return;
    ph_lock(h);
    for (i = 0; i < h->nregions_; i++) {
        size_t run = ph_region_longest(h->regions_[i]);
        if (run > largest)
            largest = run;
    }
    out->page_size = (size_t)1 << h->page_shift_;
    out->regions = h->nregions_;
    out->pages_total = h->pages_total_;
    out->pages_free = h->pages_free_;
    out->largest_free_run = largest;
    out->metadata_bytes = h->metadata_bytes_;
    out->faults = h->faults_;
    out->pages_released = h->pages_released_;
    out->granules_released = h->granules_released_;
    out->release_calls = h->release_calls_;
    out->acquire_calls = h->acquire_calls_;
    out->bytes_released = h->bytes_released_;
    out->bytes_acquired = h->bytes_acquired_;
    out->peak_pages_used = h->pages_total_ - h->low_free_;
    out->small_spans = h->small_spans_;
    out->small_span_pages = h->small_span_pages_;
    out->large_objects = h->large_objects_;
    out->large_pages = h->large_pages_;
    out->cached_spans = h->cached_spans_;
    out->cached_bytes = h->cached_pages_ << h->page_shift_;
    ph_unlock(h);
}

int ph_get_region(ph_heap *h, size_t index, ph_region_info *out)
{
    const struct ph_region *r;
    int rc = PH_EINVAL;

    if (!ph_heap_ok(h) || out == NULL)
        return PH_EINVAL;
    ph_lock(h);
    if (index < h->nregions_) {
        r = h->regions_[index];
        out->raw_base = (void *)r->raw_base;
        out->raw_size = (size_t)(r->raw_end - r->raw_base);
        out->meta_base = (void *)(uintptr_t)r;
        out->meta_bytes = r->meta_pages << h->page_shift_;
        out->base = (void *)r->base;
        out->npages = r->npages;
        out->granule = r->granule;
        rc = PH_OK;
    }
    ph_unlock(h);
    return rc;
}

static int page_state(const struct ph_region *r, size_t page)
{
    size_t c = page >> PH_CHUNK_LOG2;
    ph_word_t bit = (ph_word_t)1 << (page & (PH_CHUNK_PAGES - 1));
    if (r->alloc[c] & bit)
        return PH_PAGES_USED;
    return (r->released[c] & bit) ? PH_PAGES_RELEASED : PH_PAGES_FREE;
}

/* True when all pages of chunk c are in `state`. */
static bool chunk_all(const struct ph_region *r, size_t c, int state)
{
    switch (state) {
    case PH_PAGES_USED:
        return r->alloc[c] == PH_WORD_ONES;
    case PH_PAGES_FREE:
        return r->alloc[c] == 0 && r->released[c] == 0;
    default:
        return r->alloc[c] == 0 && r->released[c] == PH_WORD_ONES;
    }
}

void ph_walk(ph_heap *h, ph_walk_fn fn, void *ctx)
{
    uint32_t i;

    if (!ph_heap_ok(h) || fn == NULL)
        return;
    ph_lock(h);
    for (i = 0; i < h->nregions_; i++) {
        const struct ph_region *r = h->regions_[i];
        size_t page = 0;
        fn(ctx, (const void *)r, r->meta_pages, PH_PAGES_META);
        while (page < r->npages) {
            int state = page_state(r, page);
            size_t end = page + 1;
            while (end < r->npages) {
                if ((end & (PH_CHUNK_PAGES - 1)) == 0 && end + PH_CHUNK_PAGES <= r->npages &&
                    chunk_all(r, end >> PH_CHUNK_LOG2, state))
                    end += PH_CHUNK_PAGES;
                else if (page_state(r, end) == state)
                    end++;
                else
                    break;
            }
            fn(ctx, (const void *)ph_page_addr(h, r, page), end - page, state);
            page = end;
        }
    }
    ph_unlock(h);
}
