/* SPDX-License-Identifier: MIT */
/*
 * ph_object.c: the malloc family on top of the page allocator.
 *
 * Size classes.  Requests up to 128 bytes are rounded up to a multiple of
 * PH_ALIGN (8 bytes on 32-bit targets, 16 on 64-bit ones); larger ones, up
 * to PH_SMALL_MAX, to one of 8 classes per doubling: (128, 256] in steps of
 * 16, (256, 512] in steps of 32, and so on.  The worst internal waste of a
 * class is therefore (step - 1) / class size: 7 bytes in 8 (87%, the
 * unavoidable case of a 1-byte request) below 128 bytes, at most
 * PH_ALIGN - 1 bytes; above 128 bytes at most 1/9 of the object (a request
 * one byte over the previous class), 1/16 on average for uniform sizes.
 * `ph_size_class` is arithmetic (a leading-zero count), so there is no
 * table to keep in sync; demo/class_table prints the classes, their worst
 * waste and their span layout for a page size.
 *
 * Spans.  A class takes spans of 1..PH_SPAN_MAX_PAGES pages from the page
 * allocator and carves them into equal objects after a small header (struct
 * ph_span: list links, free count, class, one bit per object; the class's
 * numbers live in ph_heap.cls_).  Per class, the span is the fewest pages
 * of at most PH_SPAN_CAP bytes (4 KiB), and at most 1/16 of the heap, whose
 * tail and header waste is at most 1/16 of the span; failing that, the
 * fewest pages (up to PH_SPAN_MAX_PAGES) that waste at most 1/8, or else
 * the page count with the least waste.  (With 1/8 alone, classes of
 * 256-byte pages wasted up to 12.5% and several held one or two objects a
 * span, so each of their mallocs was a page allocation; bench/target shows
 * what the 1/16 step buys.  The heap fraction keeps a heap of a few KiB,
 * such as microbit's, from giving one 448-byte object a 9-page span.)  The
 * layouts are computed again when a region is added while no span exists,
 * so they follow the heap's size.  A class that fits no object in
 * PH_SPAN_MAX_PAGES pages is served as a page run.
 * Per object the overhead is zero bytes: an object's state is its bit.
 *
 * Finding a pointer's span in O(1): every region keeps one page-map byte
 * per page (PH_PM_*, ph_internal.h).  ph_free reads the byte of the
 * pointer's page, which holds the distance to the span's first page (the
 * header), and turns the offset into an object index with a multiply by
 * the class's reciprocal; a pointer that is not exactly an object start,
 * or whose bit is clear, is refused, so bad frees change nothing.
 *
 * Spans with a free object sit on their class's list; malloc takes the
 * first free bit of the list head's bitmap.  A span whose last object is
 * freed becomes its class's cached span (at most one a class, the lowest;
 * see pageheap.h), or goes back to the page allocator at once, where the
 * scavenger can release it; ph_scavenge, ph_idle and an allocation that
 * would fail give the cached spans back.
 *
 * Large objects (over PH_SMALL_MAX, of a class with no span layout, or
 * small ones when no span of their class fits in the free pages) are page
 * runs: page map PH_PM_LARGE on the first page, PH_PM_LARGE_MORE on the
 * rest; their length is read back from the page map.
 */
#include "ph_internal.h"

#define ONE ((ph_word_t)1)

/* The malloc and free fast paths are inlined at every optimisation level,
 * -Os included (a firmware built for size is the common case, and an
 * out-of-line call per step costs about a third of a free there); the rest
 * follows PH_HOT_INLINE, which leaves -Os to the compiler. */
#if defined(__GNUC__) || defined(__clang__)
#define PH_FAST_INLINE static inline __attribute__((always_inline))
#else
#define PH_FAST_INLINE static inline
#endif
/* Their slow-path callers get one out-of-line copy at -Os instead. */
#if defined(__OPTIMIZE_SIZE__)
#define PH_SIZE_NOINLINE static __attribute__((noinline))
#else
#define PH_SIZE_NOINLINE static
#endif

/* ---- size classes ------------------------------------------------------ */

static uint32_t floor_log2(size_t x) /* x >= 1, x < 2^32 */
{
    return (uint32_t)(PH_WORD_BITS - 1) - ph_clz((ph_word_t)x);
}

PH_FAST_INLINE unsigned size_class(size_t size)
{
    uint32_t b;

    if (size <= 128)
        return size == 0 ? 0u : (unsigned)((size - 1) / PH_ALIGN);
    if (size > PH_SMALL_MAX)
        return PH_NCLASSES;
    b = floor_log2(size - 1); /* 7 .. log2(PH_SMALL_MAX) - 1 */
    return PH_CLASS_LINEAR + (b - 7) * 8 + (unsigned)(((size - 1) >> (b - 3)) & 7);
}

unsigned ph_size_class(size_t size)
{
    return size_class(size);
}

size_t ph_class_size(unsigned c)
{
    uint32_t b;

    if (c < PH_CLASS_LINEAR)
        return (c + 1) * PH_ALIGN;
    if (c >= PH_NCLASSES)
        return 0;
    c -= PH_CLASS_LINEAR;
    b = 7 + c / 8;
    return ((size_t)1 << b) + ((size_t)(c % 8 + 1) << (b - 3));
}

/* Objects of `size` bytes (aligned to oa) in a span of `bytes`: their
 * count in *n (0: none fits), object 0's offset in *off, the bitmap words
 * in *w; returns the bytes wasted (header, padding and tail). */
static size_t span_fit(size_t size, size_t oa, size_t bytes, size_t *n, size_t *off, size_t *w)
{
    *n = *off = *w = 0;
    if (bytes <= sizeof(struct ph_span))
        return bytes;
    *n = (bytes - sizeof(struct ph_span)) / size;
    if (*n > PH_SPAN_MAX_OBJECTS)
        *n = PH_SPAN_MAX_OBJECTS;
    *w = (*n + PH_WORD_BITS - 1) / PH_WORD_BITS;
    *off = ph_align_up(PH_SPAN_HDR(*w), oa);
    if (*off >= bytes)
        *n = 0;
    else if (*off + *n * size > bytes)
        *n = (bytes - *off) / size; /* fewer objects: the bitmap still fits */
    return bytes - *n * size;
}

size_t ph_span_layout(unsigned c, uint32_t page_shift, size_t cap, size_t *nobj,
                      size_t *first_off, size_t *nwords)
{
    size_t size = ph_class_size(c), oa = size & (0 - size), k, best = 0;
    size_t best_waste = 1, best_bytes = 0; /* ratio best_waste / best_bytes */
    size_t n, off, w, waste, bytes;
    bool eighth = false; /* best wastes at most 1/8: only a 1/16 span beats it */

    if (oa > 64)
        oa = 64; /* objects aligned to their size's power of two, up to 64 */
    *nobj = *first_off = *nwords = 0;
    for (k = 1; k <= PH_SPAN_MAX_PAGES; k++) {
        bytes = k << page_shift;
        if (eighth && bytes > cap)
            break;
        waste = span_fit(size, oa, bytes, &n, &off, &w);
        if (n == 0)
            continue;
        if ((bytes <= cap && waste * 16 <= bytes) ||
            (!eighth && (best == 0 || waste * best_bytes < best_waste * bytes))) {
            best = k;
            best_waste = waste;
            best_bytes = bytes;
            *nobj = n;
            *first_off = off;
            *nwords = w;
            if (bytes <= cap && waste * 16 <= bytes)
                break;
            eighth = waste * 8 <= bytes;
        }
    }
    return best;
}

size_t ph_span_cap(const ph_heap *h)
{
    size_t cap = (h->pages_total_ << h->page_shift_) / 16;
    return h->pages_total_ == 0 || cap > PH_SPAN_CAP ? PH_SPAN_CAP : cap;
}

void ph_object_init(ph_heap *h)
{
    unsigned c;

    for (c = 0; c < PH_NCLASSES; c++) {
        size_t nobj, off, nw;
        size_t k = ph_span_layout(c, h->page_shift_, h->span_cap_, &nobj, &off, &nw);
        uint32_t size = (uint32_t)ph_class_size(c);
        h->avail_[c] = NULL;
        h->cache_[c] = NULL;
        h->cls_[c].recip = (uint32_t)(0xFFFFFFFFu / size) + 1u;
        h->cls_[c].size = size;
        h->cls_[c].limit = (uint32_t)(nobj * size);
        h->cls_[c].nobj = (uint16_t)nobj;
        h->cls_[c].first_off = (uint16_t)off;
        h->cls_[c].npages = (uint8_t)k;
        h->cls_[c].nwords = (uint8_t)nw;
    }
}

size_t ph_class_span_pages(const ph_heap *h, unsigned c)
{
    return ph_heap_ok(h) && c < PH_NCLASSES ? h->cls_[c].npages : 0;
}

size_t ph_class_span_objects(const ph_heap *h, unsigned c)
{
    return ph_heap_ok(h) && c < PH_NCLASSES ? h->cls_[c].nobj : 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* Page map of pages [first, first + n): a span's (codes PH_PM_SPAN + the
 * distance to its first page), a large object's, or none; and the object
 * bitmap with it. */
static void set_pmap(struct ph_region *r, size_t first, size_t n, uint8_t head)
{
    size_t i;
    for (i = 0; i < n; i++)
        r->pmap[first + i] = head == PH_PM_SPAN ? (uint8_t)(PH_PM_SPAN + i)
                             : head == PH_PM_LARGE && i != 0 ? (uint8_t)PH_PM_LARGE_MORE
                                                             : head;
    ph_bits_fill(r->obj, first, n, head != PH_PM_NONE);
}

/* Counts a refused call, drops the lock and reports it (outside the lock,
 * so the hook may call back into the heap). */
static void refuse(ph_heap *h, int code, const void *p)
{
    h->faults_++;
    ph_unlock(h);
    if (h->port_ != NULL && h->port_->fault != NULL)
        h->port_->fault(h->port_->ctx, code, p);
}

static void zero_words(void *p, size_t n)
{
    uintptr_t *w = (uintptr_t *)p;
    size_t i;
    for (i = 0; i < (n + sizeof(uintptr_t) - 1) / sizeof(uintptr_t); i++)
        w[i] = 0;
}

static void copy_words(void *dst, const void *src, size_t n)
{
    uintptr_t *d = (uintptr_t *)dst;
    const uintptr_t *s = (const uintptr_t *)src;
    size_t i;
    for (i = 0; i < (n + sizeof(uintptr_t) - 1) / sizeof(uintptr_t); i++)
        d[i] = s[i];
}

/* ---- small objects ------------------------------------------------------ */

static void unlink_span(ph_heap *h, struct ph_span *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        h->avail_[s->cls] = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
}

/* A fresh span of class c, on its class list (which was empty), or NULL. */
static struct ph_span *span_new(ph_heap *h, unsigned c)
{
    const ph_class_info_ *ci = &h->cls_[c];
    uint32_t ri;
    size_t first, i;
    uintptr_t a = ph_pages_take(h, ci->npages, &ri, &first);
    struct ph_span *s = (struct ph_span *)a;

    if (a == 0)
        return NULL;
    set_pmap(h->regions_[ri], first, ci->npages, PH_PM_SPAN);
    s->next = s->prev = NULL;
    s->nfree = ci->nobj;
    s->cls = (uint8_t)c;
    s->magic = PH_SPAN_MAGIC;
    for (i = 0; i < ci->nwords; i++)
        s->used[i] = 0;
    if ((ci->nobj & (PH_WORD_BITS - 1)) != 0) /* bits past the last object */
        s->used[ci->nwords - 1] = ~ph_mask_below(ci->nobj & (PH_WORD_BITS - 1));
    h->avail_[c] = s;
    h->small_spans_++;
    h->small_span_pages_ += ci->npages;
    return s;
}

/* An object from span s of class c, which has a free one. */
PH_FAST_INLINE void *span_take(ph_heap *h, struct ph_span *s, unsigned c)
{
    ph_word_t *w;
    unsigned bit;

    for (w = s->used; *w == PH_WORD_ONES; w++)
        ; /* ends: nfree > 0 and the bits past nobj are set */
    bit = ph_ctz(~*w);
    *w |= ONE << bit;
    if (--s->nfree == 0) {
        h->avail_[c] = s->next;
        if (s->next != NULL)
            s->next->prev = NULL;
        s->next = NULL;
    }
    return (char *)s + h->cls_[c].first_off +
           (((size_t)(w - s->used) << PH_WORD_LOG2) + bit) * h->cls_[c].size;
}

/* span_take for the slow paths: one copy at -Os. */
PH_SIZE_NOINLINE void *span_take_slow(ph_heap *h, struct ph_span *s, unsigned c)
{
    return span_take(h, s, c);
}

/* Class c's cached empty span, out of the cache; NULL when it has none. */
static struct ph_span *cache_remove(ph_heap *h, unsigned c)
{
    struct ph_span *s = h->cache_[c];

    if (s != NULL) {
        h->cache_[c] = NULL;
        h->cached_spans_--;
        h->cached_pages_ -= h->cls_[c].npages;
    }
    return s;
}

/* Class c's cached empty span onto its class list (which is empty); NULL
 * when it has none.  Its header and bitmap are as span_new left them: an
 * empty span's bits are clear. */
static struct ph_span *cache_take(ph_heap *h, unsigned c)
{
    struct ph_span *s = cache_remove(h, c);

    if (s != NULL) {
        s->next = s->prev = NULL;
        h->avail_[c] = s;
    }
    return s;
}

static void *small_alloc(ph_heap *h, unsigned c)
{
    struct ph_span *s = h->avail_[c];

    if (s == NULL && (s = cache_take(h, c)) == NULL && (s = span_new(h, c)) == NULL)
        return NULL;
    return span_take_slow(h, s, c);
}

/* ---- large objects ----------------------------------------------------- */

/* Pages for n bytes (at least one), 0 when n is too large. */
static size_t pages_for(const ph_heap *h, size_t n)
{
    size_t page = (size_t)1 << h->page_shift_;
    if (n > SIZE_MAX - page)
        return 0;
    return n == 0 ? 1 : (n + page - 1) >> h->page_shift_;
}

static void large_mark(ph_heap *h, uint32_t ri, size_t first, size_t n)
{
    set_pmap(h->regions_[ri], first, n, PH_PM_LARGE);
    h->large_objects_++;
    h->large_pages_ += n;
}

/* A page run of at least size bytes aligned to align (a power of two).
 * For an alignment above the page size the first run of n + align / page
 * - 1 pages is searched and only its aligned part taken, so only that part
 * is acquired. */
static void *large_alloc(ph_heap *h, size_t size, size_t align)
{
    size_t n = pages_for(h, size), extra = 0, first, lead = 0;
    uint32_t ri;
    uintptr_t a;

    if (n == 0)
        return NULL;
    if (align > ((size_t)1 << h->page_shift_))
        extra = (align >> h->page_shift_) - 1;
    if (extra > SIZE_MAX - n)
        return NULL;
    first = ph_pages_find(h, n + extra, &ri);
    if (first == SIZE_MAX)
        return NULL;
    if (extra != 0) {
        a = ph_page_addr(h, h->regions_[ri], first);
        lead = ((align - (a & (align - 1))) & (align - 1)) >> h->page_shift_;
    }
    a = ph_pages_take_at(h, ri, first + lead, n, extra == 0);
    large_mark(h, ri, first + lead, n);
    return (void *)a;
}

/* ---- finding an object -------------------------------------------------- */

typedef struct obj_ref {
    uint32_t ri;
    size_t page;        /* first page of the span or run */
    struct ph_span *s;  /* NULL for a large object       */
    size_t idx;         /* object index in s             */
    size_t npages;      /* pages of a large object       */
} obj_ref;

/* The live object that starts at a, in the span whose page `page` of r
 * has page-map code `code` (a span code): 0 with the span's first page in
 * *page, the span in *sp and the object's index in *idx; else the fault
 * code.  Shared by ph_free's fast path and obj_find. */
PH_FAST_INLINE int span_object(const ph_heap *h, const struct ph_region *r, uintptr_t a,
                               uint8_t code, size_t *page, struct ph_span **sp, size_t *idx)
{
    struct ph_span *s;
    const ph_class_info_ *ci;
    size_t off;

    *page -= code - PH_PM_SPAN;
    s = (struct ph_span *)ph_page_addr(h, r, *page);
    ci = &h->cls_[s->cls];
    off = (size_t)(a - (uintptr_t)s) - ci->first_off; /* wraps for the header */
    if (off >= ci->limit)
        return PH_FAULT_BAD_POINTER;
    *idx = (size_t)(((uint64_t)off * ci->recip) >> 32);
    if (*idx * ci->size != off)
        return PH_FAULT_BAD_POINTER;
    if ((s->used[*idx >> PH_WORD_LOG2] & (ONE << (*idx & (PH_WORD_BITS - 1)))) == 0)
        return PH_FAULT_DOUBLE_FREE;
    *sp = s;
    return 0;
}

/* Finds the live object that starts at a: 0, or the fault code. */
PH_HOT_INLINE int obj_find(const ph_heap *h, uintptr_t a, obj_ref *o)
{
    uint32_t ri = ph_region_of(h, a);
    const struct ph_region *r;
    size_t page;
    uint8_t code;

    if (ri == h->nregions_)
        return PH_FAULT_BAD_POINTER;
    r = h->regions_[ri];
    page = (size_t)((a - r->base) >> h->page_shift_);
    code = r->pmap[page];
    o->ri = ri;
    if (PH_PM_IS_SPAN(code)) {
        int fault = span_object(h, r, a, code, &page, &o->s, &o->idx);
        o->page = page;
        return fault;
    }
    if (code == PH_PM_LARGE) {
        size_t n = 1;
        if ((a & (((uintptr_t)1 << h->page_shift_) - 1)) != 0)
            return PH_FAULT_BAD_POINTER;
        while (page + n < r->npages && r->pmap[page + n] == PH_PM_LARGE_MORE)
            n++;
        o->page = page;
        o->s = NULL;
        o->npages = n;
        return 0;
    }
    if (code == PH_PM_NONE) /* page API memory, or a free page */
        return ph_bits_set(r->alloc, page, 1) ? PH_FAULT_BAD_POINTER : PH_FAULT_DOUBLE_FREE;
    return PH_FAULT_BAD_POINTER; /* inside a large object */
}

static size_t obj_size(const ph_heap *h, const obj_ref *o)
{
    return o->s != NULL ? h->cls_[o->s->cls].size : o->npages << h->page_shift_;
}

/* Span s of region ri, first page `page`, empty and on no list: back to
 * the page allocator. */
static void span_give(ph_heap *h, struct ph_span *s, uint32_t ri, size_t page)
{
    size_t n = h->cls_[s->cls].npages;

    set_pmap(h->regions_[ri], page, n, PH_PM_NONE);
    h->small_spans_--;
    h->small_span_pages_ -= n;
    ph_pages_give(h, ri, page, n);
}

/* Span s (which holds an address) back to the page allocator, found by its
 * address: for spans that come out of the cache. */
static void span_give_at(ph_heap *h, struct ph_span *s)
{
    uint32_t ri = ph_region_of(h, (uintptr_t)s);
    const struct ph_region *r = h->regions_[ri];

    span_give(h, s, ri, (size_t)(((uintptr_t)s - r->base) >> h->page_shift_));
}

void ph_object_cache_give_all(ph_heap *h)
{
    unsigned c;

    for (c = 0; c < PH_NCLASSES && h->cached_spans_ != 0; c++) {
        struct ph_span *s = cache_remove(h, c);
        if (s != NULL)
            span_give_at(h, s);
    }
}

/* The last object of span s (first page `page` of region ri) was freed:
 * the span becomes its class's cached span if the class has none, the
 * cache stays within its budget (1 / 2^PH_CACHE_SHIFT of the heap's
 * pages) and at least 1/8 of the heap's pages are free (a heap under
 * pressure would only give it back at its next failing allocation, at a
 * cost: on a 64 KiB Cortex-M4 heap whose mallocs often fail, caching
 * anyway made the worst malloc 2,358 instructions instead of 1,544), or
 * if it lies below the class's cached one (which goes back instead: the
 * cache, like first fit, keeps to low addresses and leaves the high ones
 * to the scavenger); otherwise it goes back to the page allocator. */
static void span_drop(ph_heap *h, struct ph_span *s, uint32_t ri, size_t page)
{
    unsigned c = s->cls;
    struct ph_span *old = h->cache_[c];

    if (s->nfree != 1) /* it was on its class list */
        unlink_span(h, s);
    if (old != NULL ? (uintptr_t)old < (uintptr_t)s
                    : h->cached_pages_ + h->cls_[c].npages > (h->pages_total_ >> PH_CACHE_SHIFT) ||
                          h->pages_free_ < (h->pages_total_ >> 3)) {
        span_give(h, s, ri, page);
        return;
    }
    h->cache_[c] = s;
    if (old != NULL) {
        span_give_at(h, old);
    } else {
        h->cached_spans_++;
        h->cached_pages_ += h->cls_[c].npages;
    }
}

static void large_free(ph_heap *h, const obj_ref *o)
{
    set_pmap(h->regions_[o->ri], o->page, o->npages, PH_PM_NONE);
    ph_pages_give(h, o->ri, o->page, o->npages);
    h->large_objects_--;
    h->large_pages_ -= o->npages;
}

/* Span s was full and has a free object again: back on its class list. */
PH_FAST_INLINE void span_relist(ph_heap *h, struct ph_span *s)
{
    s->prev = NULL;
    s->next = h->avail_[s->cls];
    if (s->next != NULL)
        s->next->prev = s;
    h->avail_[s->cls] = s;
}

/* Frees the object o found (the lock is held). */
PH_HOT_INLINE void obj_release(ph_heap *h, const obj_ref *o)
{
    struct ph_span *s = o->s;

    if (s == NULL) {
        large_free(h, o);
        return;
    }
    s->used[o->idx >> PH_WORD_LOG2] &= ~(ONE << (o->idx & (PH_WORD_BITS - 1)));
    if (++s->nfree == h->cls_[s->cls].nobj) { /* empty: back to the page allocator */
        span_drop(h, s, o->ri, o->page);
    } else if (s->nfree == 1) { /* it was full */
        span_relist(h, s);
    }
}

/* ---- the public entry points -------------------------------------------- */

/* The first class from c up to PH_CLASS_BORROW above it with a free
 * object, or c. */
static unsigned borrow_class(const ph_heap *h, unsigned c)
{
    unsigned d;
    for (d = c; d <= c + PH_CLASS_BORROW && d < PH_NCLASSES; d++)
        if (h->avail_[d] != NULL)
            return d;
    return c;
}

/* ph_malloc's work when class c (PH_NCLASSES: none) has no span with a
 * free object: borrow, make a span, or take a page run; ph_realloc's for
 * any class (a span of c with a free object comes first).  The lock is
 * held. */
static void *alloc_slow(ph_heap *h, size_t size, unsigned c)
{
    void *p;

    if (c < PH_NCLASSES && h->cls_[c].nobj != 0) {
        p = small_alloc(h, borrow_class(h, c));
        if (p != NULL)
            return p;
        /* No room for a whole span (up to 16 pages): on a small or full
         * heap the request may still fit in a page run of its own. */
    }
    return large_alloc(h, size, 1);
}

/* ph_malloc's work, the lock held: the fast path (the first span of the
 * class list), else alloc_slow. */
PH_FAST_INLINE void *alloc_locked(ph_heap *h, size_t size)
{
    unsigned c = size_class(size);
    if (c < PH_NCLASSES && h->avail_[c] != NULL)
        return span_take(h, h->avail_[c], c);
    return alloc_slow(h, size, c);
}

void *ph_malloc(ph_heap *h, size_t size)
{
    void *p;

    if (!ph_heap_ok(h))
        return NULL;
    ph_lock(h);
    p = alloc_locked(h, size);
    ph_unlock(h);
    return p;
}

/* ph_free of anything but a live small object (or of a bad pointer): the
 * general lookup.  Called with the lock held; drops it.  Never inlined, so
 * that ph_free's fast path keeps few registers (Cortex-M4, exact counter:
 * free mean 82.8 -> 79.1, median 74 -> 70, at the smallest heap that
 * serves the small-object trace). */
static __attribute__((noinline)) void free_slow(ph_heap *h, void *p)
{
    obj_ref o;
    int fault = obj_find(h, (uintptr_t)p, &o);

    if (fault != 0) {
        refuse(h, fault, p);
        return;
    }
    obj_release(h, &o);
    ph_unlock(h);
}

/* ph_free's fast path (a live object of a small span that does not empty)
 * in one pass; anything else goes to free_slow, which checks
 * it again from the start. */
void ph_free(ph_heap *h, void *p)
{
    uintptr_t a = (uintptr_t)p;
    uint32_t i;

    if (p == NULL || !ph_heap_ok(h))
        return;
    ph_lock(h);
    for (i = 0; i < h->nregions_; i++) {
        const struct ph_region *r = h->regions_[i];
        uintptr_t off = a - r->base;
        size_t page, idx;
        struct ph_span *s;
        ph_word_t *w;
        uint8_t code;

        if (off >= r->limit - r->base)
            continue;
        page = (size_t)(off >> h->page_shift_);
        code = r->pmap[page];
        if (!PH_PM_IS_SPAN(code) || span_object(h, r, a, code, &page, &s, &idx) != 0)
            break;
        if (s->nfree + 1u == h->cls_[s->cls].nobj)
            break; /* the span empties: free_slow gives it back */
        w = &s->used[idx >> PH_WORD_LOG2];
        *w &= ~(ONE << (idx & (PH_WORD_BITS - 1)));
        if (s->nfree++ == 0) /* it was full */
            span_relist(h, s);
        ph_unlock(h);
        return;
    }
    free_slow(h, p);
}

void *ph_calloc(ph_heap *h, size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = ph_malloc(h, n * size);
    if (p != NULL) /* outside the lock: the object is the caller's now */
        zero_words(p, n * size);
    return p;
}

size_t ph_usable_size(ph_heap *h, void *p)
{
    obj_ref o;
    size_t n;
    int fault;

    if (p == NULL || !ph_heap_ok(h))
        return 0;
    ph_lock(h);
    fault = obj_find(h, (uintptr_t)p, &o);
    if (fault != 0) {
        refuse(h, fault, p);
        return 0;
    }
    n = obj_size(h, &o);
    ph_unlock(h);
    return n;
}

void *ph_aligned_alloc(ph_heap *h, size_t align, size_t size)
{
    void *p = NULL;
    unsigned c;

    if (align == 0 || (align & (align - 1)) != 0 || !ph_heap_ok(h))
        return NULL;
    if (align <= PH_ALIGN)
        return ph_malloc(h, size);
    ph_lock(h);
    /* A class whose size is a multiple of align has objects aligned to it
     * (ph_span_layout aligns object 0 to the size's power of two, up to
     * 64 bytes); the next such class is at most 8 classes up. */
    c = ph_size_class(size);
    if (align <= 64)
        for (; c < PH_NCLASSES; c++)
            if ((ph_class_size(c) & (align - 1)) == 0 && h->cls_[c].nobj != 0)
                break;
    if (align <= 64 && c < PH_NCLASSES)
        p = small_alloc(h, c);
    if (p == NULL) /* a large request, or no room for a span */
        p = large_alloc(h, size, align);
    ph_unlock(h);
    return p;
}

/* Grows the large object o in place to n pages when the pages after it
 * are free; true when it did. */
static bool large_grow(ph_heap *h, obj_ref *o, size_t n)
{
    struct ph_region *r = h->regions_[o->ri];
    size_t end = o->page + o->npages, more = n - o->npages;

    if (more > r->npages - end || !ph_bits_clear(r->alloc, end, more))
        return false;
    ph_pages_take_at(h, o->ri, end, more, false);
    set_pmap(r, end, more, PH_PM_LARGE_MORE);
    h->large_pages_ += more;
    return true;
}

void *ph_realloc(ph_heap *h, void *p, size_t size)
{
    obj_ref o;
    void *q;
    size_t old;
    unsigned c;
    int fault;

    if (p == NULL)
        return ph_malloc(h, size);
    if (!ph_heap_ok(h))
        return NULL;
    ph_lock(h);
    fault = obj_find(h, (uintptr_t)p, &o);
    if (fault != 0) {
        refuse(h, fault, p);
        return NULL;
    }
    old = obj_size(h, &o);
    c = ph_size_class(size);
    if (o.s != NULL) {
        /* In place while the object's class is the request's or one it may
         * borrow from (see PH_CLASS_BORROW). */
        if (c <= o.s->cls && c + PH_CLASS_BORROW >= o.s->cls)
            goto in_place;
    } else if (c >= PH_NCLASSES || h->cls_[c].nobj == 0) {
        size_t n = pages_for(h, size);
        if (n != 0 && n <= o.npages) { /* shrink: give back the tail */
            if (n < o.npages) {
                set_pmap(h->regions_[o.ri], o.page + n, o.npages - n, PH_PM_NONE);
                ph_pages_give(h, o.ri, o.page + n, o.npages - n);
                h->large_pages_ -= o.npages - n;
            }
            goto in_place;
        }
        if (n != 0 && large_grow(h, &o, n))
            goto in_place;
    }
    q = alloc_slow(h, size, c);
    ph_unlock(h);
    if (q == NULL)
        return size <= old ? p : NULL; /* a shrink that cannot move stays */
    copy_words(q, p, size < old ? size : old);
    ph_lock(h);
    /* The old object is still live: nobody else may free it (a second
     * thread freeing it now would be the caller's bug, and obj_find would
     * refuse it), so find it again before releasing it. */
    if (obj_find(h, (uintptr_t)p, &o) == 0)
        obj_release(h, &o);
    ph_unlock(h);
    return q;
in_place:
    ph_unlock(h);
    return p;
}
