/* SPDX-License-Identifier: MIT */
/*
 * ph_page.c: the public page API: set-up, allocation and free.
 *
 * First fit over regions: regions are kept sorted by address and tried
 * lowest first; inside a region the run index finds the lowest run
 * (ph_region_find).  The search hint (hint_region_, hint_page_) is the
 * lowest position that may be free: every page of the regions before
 * hint_region_, and every page below hint_page_ in it, is in use.  It lets
 * a one-page request take the first free page of the hint's chunk without
 * searching the run index, and lets every request skip the full regions below it.
 * Any free below the hint lowers it; it always names a real region (or the
 * end of the region table), never memory outside the heap.
 */
#include "ph_tree.h"

/* The run index's mark and search: inlined (ph_tree.h) when optimising for
 * speed, one out-of-line copy each (ph_region.c) at -Os. */
#if defined(__OPTIMIZE_SIZE__)
#define page_mark ph_region_mark
#define page_find ph_region_find
#define page_free_checked ph_region_free_checked
#else
#define page_mark region_mark
#define page_find region_find
#define page_free_checked region_free_checked
#endif

/* The run search, take and give are inlined into the public page calls for
 * speed; at -Os they stay single out-of-line copies. */
#if defined(__OPTIMIZE_SIZE__)
#define PH_PAGE_INLINE static __attribute__((noinline))
#else
#define PH_PAGE_INLINE PH_HOT_INLINE
#endif

static bool is_pow2(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

_Static_assert(sizeof(ph_heap) % sizeof(ph_word_t) == 0, "ph_init clears ph_heap word by word");

int ph_init(ph_heap *h, size_t page_size, const ph_port *port)
{
    ph_word_alias *w = (ph_word_alias *)(void *)h;
    size_t i;

    if (h == NULL)
        return PH_EINVAL;
    /* Every counter, list, hint and region slot starts at 0 (NULL): the
     * heap is cleared word by word (it may hold garbage; ph_heap is a whole
     * number of words), then the few fields that start elsewhere are set. */
    for (i = 0; i < sizeof *h / sizeof *w; i++)
        w[i] = 0;
    h->port_ = port;
    h->idle_.budget_bytes = PH_IDLE_BUDGET_BYTES;
    h->idle_.headroom_pct = PH_IDLE_HEADROOM_PCT;
    h->idle_.decay_shift = PH_IDLE_DECAY_SHIFT;
    if (page_size == 0)
        page_size = PH_DEFAULT_PAGE_SIZE;
    if (!is_pow2(page_size) || page_size < PH_MIN_PAGE_SIZE || page_size > PH_MAX_PAGE_SIZE) {
        h->page_shift_ = 0;
        return PH_EINVAL;
    }
    h->page_shift_ = ph_log2_ceil(page_size);
    ph_object_init(h);
    h->magic_ = PH_HEAP_MAGIC;
    return PH_OK;
}

/* Usable pages of a region of `total` pages once its metadata is placed;
 * *meta_pages gets the metadata page count.  0 when nothing is left. */
static size_t fit_region(size_t total, uint32_t shift, size_t *meta_pages)
{
    size_t page = (size_t)1 << shift;
    size_t usable = total, meta;

    if (usable > PH_REGION_MAX_PAGES)
        usable = PH_REGION_MAX_PAGES;
    /* Metadata grows with the usable pages: shrink until both fit, then
     * grow back page by page while they still do. */
    for (;;) {
        meta = (ph_region_meta_bytes(usable, shift) + page - 1) >> shift;
        if (meta >= total)
            return 0;
        if (meta + usable <= total)
            break;
        usable = total - meta;
    }
    while (usable < PH_REGION_MAX_PAGES && usable + 1 <= total - 1) {
        size_t m = (ph_region_meta_bytes(usable + 1, shift) + page - 1) >> shift;
        if (m + usable + 1 > total)
            break;
        usable++;
        meta = m;
    }
    *meta_pages = meta;
    return usable;
}

static void lay_out_region(struct ph_region *r, uintptr_t meta, size_t usable,
                           size_t meta_pages, uint32_t shift)
{
    uintptr_t p = meta + sizeof(struct ph_region);
    size_t sizes[PH_MAX_LEVELS];
    ph_word_alias *w;
    uint32_t k;
    unsigned tail;

    r->npages = usable;
    r->nchunks = (usable + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2;
    r->nlevels = ph_region_levels(r->nchunks, sizes);
    r->top_words = (uint32_t)sizes[r->nlevels - 1];
    r->meta_pages = meta_pages;
    r->base = meta + ((uintptr_t)meta_pages << shift);
    r->limit = r->base + ((uintptr_t)usable << shift);

    p = (p + sizeof(ph_word_t) - 1) & ~(uintptr_t)(sizeof(ph_word_t) - 1);
    /* the allocation bitmap between two words of ones: the chunks past
     * either end are in use, so a run's neighbours need no bounds test */
    r->alloc = (ph_word_t *)p + 1;
    r->released = r->alloc + r->nchunks + 1;
    r->obj = r->released + r->nchunks;
    r->scav = r->obj + r->nchunks;
    p = (uintptr_t)(r->scav + ((r->nchunks + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2));
    for (k = 0; k < r->nlevels; k++) {
        r->lv[k] = (uint8_t *)p;
        p += sizes[k] * PH_LANES;
    }
    p += PH_LANES; /* PH_TOP_STOP, set by ph_region_rebuild */
    r->inner = (uint8_t *)p;
    r->pmap = r->inner + r->nchunks;
    r->fanc = r->pmap;
    if (ph_anc_shift(shift) != shift)
        r->fanc = r->pmap + usable;

    /* Every bitmap, page-map code (PH_PM_NONE) and anchor starts at 0: the
     * metadata pages are cleared from the bitmaps on, word by word (the
     * run index and inner bytes are then rebuilt from the bitmap). */
    for (w = (ph_word_alias *)(void *)(r->alloc - 1);
         (uintptr_t)w < meta + ((uintptr_t)meta_pages << shift); w++)
        *w = 0;
    r->alloc[-1] = PH_WORD_ONES;
    r->alloc[r->nchunks] = PH_WORD_ONES;
    /* Pages past the end exist in the last word only: in use for ever. */
    tail = (unsigned)(usable & (PH_CHUNK_PAGES - 1));
    if (tail != 0)
        r->alloc[r->nchunks - 1] = ~ph_mask_below(tail);
    ph_region_rebuild(r);
}

int ph_add_region(ph_heap *h, void *base, size_t size, size_t granule)
{
    uintptr_t b = (uintptr_t)base, e, pa, pe, page;
    size_t total, usable, meta_pages = 0;
    uint32_t i, k;
    struct ph_region *r;
    int rc = PH_OK;

    if (!ph_heap_ok(h))
        return PH_EINVAL;
    page = (uintptr_t)1 << h->page_shift_;
    if (size == 0 || b + size < b)
        return PH_EINVAL;
    if (granule != 0 && (!is_pow2(granule) || granule < page))
        return PH_EINVAL;
    e = b + size;

    ph_lock(h);
    if (h->nregions_ >= PH_MAX_REGIONS) {
        rc = PH_ELIMIT;
        goto out;
    }
    for (i = 0; i < h->nregions_; i++) {
        const struct ph_region *o = h->regions_[i];
        if (b < o->raw_end && o->raw_base < e) {
            rc = PH_EOVERLAP;
            goto out;
        }
    }
    pa = (b + page - 1) & ~(page - 1);
    pe = e & ~(page - 1);
    if (pa < b || pe <= pa) { /* wrapped, or no whole page */
        rc = PH_ENOMEM;
        goto out;
    }
    total = (size_t)((pe - pa) >> h->page_shift_);
    usable = fit_region(total, h->page_shift_, &meta_pages);
    if (usable == 0) {
        rc = PH_ENOMEM;
        goto out;
    }

    r = (struct ph_region *)pa;
    r->raw_base = b;
    r->raw_end = e;
    r->granule = granule;
    lay_out_region(r, pa, usable, meta_pages, h->page_shift_);
    ph_scav_init_region(r, h->page_shift_);

    /* Insert in address order; the new region is all free, so a hint at
     * or above it moves down to its first page. */
    for (k = h->nregions_; k > 0 && h->regions_[k - 1]->raw_base > b; k--)
        h->regions_[k] = h->regions_[k - 1];
    h->regions_[k] = r;
    h->nregions_++;
    if (k <= h->hint_region_) {
        h->hint_region_ = k;
        h->hint_page_ = 0;
    }
    h->pages_total_ += usable;
    h->pages_free_ += usable;
    h->low_free_ += usable; /* the peak in use stays as it was */
    h->metadata_bytes_ += meta_pages << h->page_shift_;
out:
    ph_unlock(h);
    return rc;
}

/* One page from the hint's chunk, or SIZE_MAX when that chunk is full. */
static size_t alloc_at_hint(const ph_heap *h)
{
    struct ph_region *r;
    ph_word_t w;
    size_t c, page;

    if (h->hint_region_ >= h->nregions_)
        return SIZE_MAX;
    r = h->regions_[h->hint_region_];
    if (h->hint_page_ >= r->npages)
        return SIZE_MAX;
    c = h->hint_page_ >> PH_CHUNK_LOG2;
    w = r->alloc[c]; /* bits below the hint are set: hint invariant */
    if (w == PH_WORD_ONES)
        return SIZE_MAX;
    page = (c << PH_CHUNK_LOG2) + ph_ctz(~w);
    return page;
}

PH_PAGE_INLINE size_t pages_find(ph_heap *h, size_t n, uint32_t *ri)
{
    size_t page = SIZE_MAX;
    uint32_t i = h->hint_region_;

    if (n == 1)
        page = alloc_at_hint(h);
    if (page == SIZE_MAX)
        for (; i < h->nregions_; i++) {
            page = page_find(h->regions_[i], n);
            if (page != SIZE_MAX)
                break;
        }
    *ri = i;
    return page;
}

PH_PAGE_INLINE uintptr_t pages_take_at(ph_heap *h, uint32_t ri, size_t first, size_t n,
                                      bool lowest)
{
    struct ph_region *r = h->regions_[ri];

    if (h->pages_released_ != 0)
        ph_scav_acquire(h, r, first, n);
    page_mark(r, first, n, true, lowest); /* a first fit begins a free run */
    h->pages_free_ -= n;
    if (h->pages_free_ < h->low_free_) /* a new peak in use */
        h->low_free_ = h->pages_free_;
    /* A run at the lowest free page (a one-page first fit, or a run at the
     * hint): everything up to its end is now in use. */
    if (lowest && ((first == h->hint_page_ && ri == h->hint_region_) || n == 1)) {
        h->hint_region_ = ri;
        h->hint_page_ = first + n;
    }
    return ph_page_addr(h, r, first);
}

/* pages_find, and when it finds nothing while the object layer caches
 * empty spans, once more after they went back: an allocation fails only
 * with the cache empty (or when even every free and cached page together
 * would be too few, so the cache stays as it is). */
static __attribute__((noinline)) size_t pages_find_after_flush(ph_heap *h, size_t n, uint32_t *ri)
{
    ph_object_cache_give_all(h); /* the caller saw a cached span */
    return pages_find(h, n, ri); /* the rare path: one copy of the search */
}

PH_PAGE_INLINE size_t pages_find_all(ph_heap *h, size_t n, uint32_t *ri)
{
    size_t first = pages_find(h, n, ri);

    if (first == SIZE_MAX && h->cached_spans_ != 0 && n <= h->pages_free_ + h->cached_pages_)
        first = pages_find_after_flush(h, n, ri);
    return first;
}

/* The page layer's entry points for the object layer (ph_object.c); the
 * public calls below use the inline bodies directly. */
size_t ph_pages_find(ph_heap *h, size_t n, uint32_t *ri)
{
    return pages_find_all(h, n, ri);
}

uintptr_t ph_pages_take_at(ph_heap *h, uint32_t ri, size_t first, size_t n, bool lowest)
{
    return pages_take_at(h, ri, first, n, lowest);
}

uintptr_t ph_pages_take(ph_heap *h, size_t n, uint32_t *ri, size_t *first)
{
    *first = pages_find_all(h, n, ri);
    if (*first == SIZE_MAX)
        return 0;
    return pages_take_at(h, *ri, *first, n, true);
}

/* The bookkeeping of a free, once pages [first, first + n) of region ri
 * are marked free. */
PH_HOT_INLINE void pages_freed(ph_heap *h, struct ph_region *r, uint32_t ri, size_t first,
                               size_t n)
{
    ph_scav_note_free(r, first, n);
    h->pages_free_ += n;
    /* below the hint: ri < hint_region_, or ri == hint_region_ and first <
     * hint_page_ */
    if (ri < h->hint_region_ + (uint32_t)(first < h->hint_page_)) {
        h->hint_region_ = ri;
        h->hint_page_ = first;
    }
}

PH_PAGE_INLINE void pages_give(ph_heap *h, uint32_t ri, size_t first, size_t n)
{
    struct ph_region *r = h->regions_[ri];

    page_mark(r, first, n, false, false);
    pages_freed(h, r, ri, first, n);
}

void ph_pages_give(ph_heap *h, uint32_t ri, size_t first, size_t n)
{
    pages_give(h, ri, first, n);
}

void *ph_page_alloc(ph_heap *h, size_t npages)
{
    uint32_t ri;
    size_t first;
    uintptr_t a;

    if (npages == 0 || !ph_heap_ok(h))
        return NULL;
    ph_lock(h);
    first = pages_find_all(h, npages, &ri);
    a = first == SIZE_MAX ? 0 : pages_take_at(h, ri, first, npages, true);
    ph_unlock(h);
    return (void *)a;
}

void ph_page_free(ph_heap *h, void *p, size_t npages)
{
    uintptr_t a = (uintptr_t)p, off;
    struct ph_region *r;
    size_t first;
    uint32_t i;
    int fault = PH_FAULT_BAD_POINTER;

    if (npages == 0 || !ph_heap_ok(h))
        return;
    ph_lock(h);
    for (i = 0;; i++) { /* the region holding p (ph_region_of) */
        if (i == h->nregions_)
            goto refuse;
        r = h->regions_[i];
        off = a - r->base;
        if (off < r->limit - r->base)
            break;
    }
    if ((off & (((uintptr_t)1 << h->page_shift_) - 1)) != 0)
        goto refuse;
    first = (size_t)(off >> h->page_shift_);
    if (npages > r->npages - first)
        goto refuse;
    /* Refused when a page is free (PH_FAULT_DOUBLE_FREE) or object memory,
     * ph_free's (PH_FAULT_BAD_POINTER). */
    fault = page_free_checked(r, first, npages);
    if (fault != 0)
        goto refuse;
    pages_freed(h, r, i, first, npages);
    ph_unlock(h);
    return;

refuse:
    h->faults_++;
    ph_unlock(h);
    /* Reported outside the lock so the hook may call back into the heap. */
    if (h->port_ != NULL && h->port_->fault != NULL)
        h->port_->fault(h->port_->ctx, fault, p);
}
