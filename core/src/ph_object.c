/* SPDX-License-Identifier: MIT */
/*
 * ph_object.c: the malloc family on top of the page allocator.
 *
 * Fit arenas.  Requests up to PH_SMALL_MAX bytes are served from arenas:
 * runs of pages taken from the page allocator (PH_FIT_ARENA bytes, at most
 * 1/16 of the heap, at least what the request needs) and carved into
 * chunks with boundary tags (ph_internal.h): a one-word header before
 * every chunk (its size, whether it and the chunk before it are in use),
 * and in a free chunk only, its list links and a footer with its size, so
 * a free joins its free neighbours at once in O(1).  A request is rounded
 * up to a chunk of PH_ALIGN multiples with room for the header (at least
 * PH_FIT_MIN bytes): the waste per object is its header and the rounding,
 * about PH_ALIGN bytes on average.
 *
 * Free lists.  PH_FIT_EXACT lists hold free chunks of one size each, every
 * PH_ALIGN bytes from PH_FIT_MIN (16 .. 520 bytes on a 32-bit core); above
 * them, 4 lists per doubling.  A bitmap (ph_heap.fit_map_) says which
 * lists hold a chunk.  malloc takes the head of its exact list when there
 * is one (the common case: one load and a few stores), else the head of
 * the first non-empty list above it, splitting off the rest when that is
 * at least PH_FIT_MIN bytes (good fit: the smallest chunks that are big
 * enough go first), else a new arena.  Lists are LIFO: a chunk freed is
 * the next one handed out of its size (the bench/fit-sim study measured
 * this against address-ordered first fit on the small-object trace: 1.096x
 * against 1.143x of the peak live bytes).
 *
 * Refusing bad frees without a bitmap of object starts: every block of an
 * arena (a page, or PH_ANC_MAX_BLOCK bytes of a larger page) has an anchor
 * byte naming the first chunk that starts in it (ph_internal.h).  ph_free
 * walks from the anchor of the pointer's block over the chunk headers; a
 * pointer the walk does not land on exactly is no chunk, and a chunk whose
 * header says free is a double free.  The walk never reads a header it
 * did not reach from a trusted one, so user data cannot forge a chunk, and
 * it takes at most PH_ANC_MAX_BLOCK / PH_FIT_MIN = 64 steps (usually none:
 * most chunks are the first of their block).  The anchors are the page map
 * itself for pages of up to PH_ANC_MAX_BLOCK bytes: refusing every bad free
 * costs no metadata beyond the byte a page that large runs need anyway.
 *
 * Arenas that empty: an arena whose last chunk is freed becomes the cached
 * arena (one, the lowest; see pageheap.h) or goes back to the page
 * allocator at once, where the scavenger can release it; ph_scavenge,
 * ph_idle and an allocation that would fail give the cached arena back.
 *
 * Large objects (over PH_SMALL_MAX, or aligned beyond what an arena's
 * chunks can serve) are page runs: page map PH_PM_LARGE on the first page,
 * PH_PM_LARGE_MORE on the rest; their length is read back from the page
 * map.
 */
#include "ph_internal.h"

#define HDR PH_FIT_HDR
#define MAPW 32u
#define ANC_OFF_MASK 0x7Fu
/* log2 of the first doubling above the exact lists. */
#define FL0 (PH_ALIGN == 8 ? 9u : 10u)

/* The malloc and free fast paths are inlined at every optimisation level,
 * -Os included (a firmware built for size is the common case, and an
 * out-of-line call per step costs a good part of a free there). */
#if defined(__GNUC__) || defined(__clang__)
#define PH_FAST_INLINE static inline __attribute__((always_inline))
#define PH_COLD static __attribute__((noinline))
#else
#define PH_FAST_INLINE static inline
#define PH_COLD static
#endif

typedef struct ph_fit_chunk fchunk;

/* ---- chunks ------------------------------------------------------------ */

static inline size_t *hdr_of(uintptr_t u)
{
    return (size_t *)(u - HDR);
}

static inline size_t csize(size_t hd)
{
    return hd & ~PH_FIT_FLAGS;
}

static inline void set_foot(uintptr_t u, size_t s)
{
    *(size_t *)(u + s - 2 * HDR) = s;
}

/* Chunk bytes for a request of size bytes (size <= PH_SMALL_MAX). */
static inline size_t chunk_for(size_t size)
{
    size_t s = (size + HDR + PH_ALIGN - 1) & ~(size_t)(PH_ALIGN - 1);
    return s < PH_FIT_MIN ? PH_FIT_MIN : s;
}

static inline unsigned floor_log2(size_t x) /* x >= 1 */
{
    return (unsigned)(PH_WORD_BITS - 1) - ph_clz((ph_word_t)x);
}

/* The list of a free chunk of s bytes (s >= PH_FIT_MIN, a multiple of
 * PH_ALIGN): exact up to PH_FIT_EXACT_MAX (inline everywhere), then
 * [2^f + k 2^(f-2), ...) (one copy at -Os). */
static unsigned list_of_large(size_t s)
{
    unsigned fl = floor_log2(s);

    if (fl >= FL0 + (PH_FIT_LISTS - PH_FIT_EXACT) / 4u) /* (a PH_FIT_ARENA of 128 KiB or more) */
        return PH_FIT_LISTS - 1u;
    return PH_FIT_EXACT + (fl - FL0) * 4u + (unsigned)((s >> (fl - 2)) & 3u);
}

PH_FAST_INLINE unsigned list_of(size_t s)
{
    if (s <= PH_FIT_EXACT_MAX)
        return (unsigned)((s - PH_FIT_MIN) / PH_ALIGN);
    return list_of_large(s);
}

PH_FAST_INLINE void map_set(ph_heap *h, unsigned i)
{
    h->fit_map_[i / MAPW] |= (uint32_t)1 << (i % MAPW);
}

PH_FAST_INLINE void map_clear(ph_heap *h, unsigned i)
{
    h->fit_map_[i / MAPW] &= ~((uint32_t)1 << (i % MAPW));
}

/* The first non-empty list from i on, PH_FIT_LISTS when there is none. */
static unsigned map_find(const ph_heap *h, unsigned i)
{
    unsigned w = i / MAPW;
    uint32_t m;

    if (i >= PH_FIT_LISTS)
        return PH_FIT_LISTS;
    m = h->fit_map_[w] & ~(((uint32_t)1 << (i % MAPW)) - 1);
    while (m == 0) {
        if (++w == PH_FIT_MAP_WORDS)
            return PH_FIT_LISTS;
        m = h->fit_map_[w];
    }
    return w * MAPW + ph_ctz((ph_word_t)m);
}

PH_FAST_INLINE void list_push(ph_heap *h, uintptr_t u, size_t s)
{
    unsigned i = list_of(s);
    fchunk *c = (fchunk *)u, *head = h->fit_free_[i];

    c->next = head;
    c->prev = NULL;
    if (head != NULL)
        head->prev = c;
    else
        map_set(h, i);
    h->fit_free_[i] = c;
}

/* The head of list i, which holds one, off the list. */
PH_FAST_INLINE fchunk *list_pop(ph_heap *h, unsigned i)
{
    fchunk *c = h->fit_free_[i];

    h->fit_free_[i] = c->next;
    if (c->next != NULL)
        c->next->prev = NULL;
    else
        map_clear(h, i);
    return c;
}

PH_FAST_INLINE void list_unlink(ph_heap *h, uintptr_t u, size_t s)
{
    fchunk *c = (fchunk *)u;

    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        unsigned i = list_of(s);
        h->fit_free_[i] = c->next;
        if (c->next == NULL)
            map_clear(h, i);
    }
    if (c->next != NULL)
        c->next->prev = c->prev;
}

/* The list calls of the rarer paths (new arenas, trims, aligned chunks,
 * resizes): one out-of-line copy each at -Os, inlined otherwise. */
#if defined(__OPTIMIZE_SIZE__)
PH_COLD void list_push_c(ph_heap *h, uintptr_t u, size_t s)
{
    list_push(h, u, s);
}

PH_COLD void list_unlink_c(ph_heap *h, uintptr_t u, size_t s)
{
    list_unlink(h, u, s);
}
#else
#define list_push_c list_push
#define list_unlink_c list_unlink
#endif

/* ---- anchors ------------------------------------------------------------ */

PH_FAST_INLINE uint8_t anc_code(const ph_heap *h, uintptr_t u)
{
    return (uint8_t)(PH_ANC_FIT | ((u & (((uintptr_t)1 << h->anc_shift_) - 1)) / PH_ALIGN));
}

static inline uint8_t *anc_at(const ph_heap *h, const struct ph_region *r, uintptr_t u)
{
    return &r->fanc[(u - r->base) >> h->anc_shift_];
}

static inline bool same_block(const ph_heap *h, uintptr_t a, uintptr_t b)
{
    return ((a ^ b) >> h->anc_shift_) == 0;
}

/* A chunk starts at x, after the one at u: x is the first start of its
 * block unless u is in the same block. */
static inline void anc_add(const ph_heap *h, const struct ph_region *r, uintptr_t u, uintptr_t x)
{
    if (!same_block(h, u, x))
        *anc_at(h, r, x) = anc_code(h, x);
}

/* The start x was joined into the chunk at u, now followed by the chunk
 * at n: x's block's first start is n if n is in it, else none (the chunk
 * at u covers the block up to there). */
static inline void anc_drop(const ph_heap *h, const struct ph_region *r, uintptr_t u, uintptr_t x,
                            uintptr_t n)
{
    if (!same_block(h, u, x))
        *anc_at(h, r, x) = same_block(h, x, n) ? anc_code(h, n) : (uint8_t)PH_ANC_NONE;
}

/* ---- statistics and faults ---------------------------------------------- */

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

/* Pages for n bytes (at least one), 0 when n is too large. */
static size_t pages_for(const ph_heap *h, size_t n)
{
    size_t page = (size_t)1 << h->page_shift_;
    if (n > SIZE_MAX - page)
        return 0;
    return n == 0 ? 1 : (n + page - 1) >> h->page_shift_;
}

/* ---- arenas --------------------------------------------------------------- */

/* Sets the n bytes at p to v, whole words in the middle (an arena that
 * merged with its neighbours can span most of a region, and giving it back
 * rewrites a byte per page or block). */
static void fill_bytes(uint8_t *p, size_t n, uint8_t v)
{
    ph_word_t w = PH_WORD_ONES / 0xFFu * v; /* v in every byte */

    for (; n != 0 && ((uintptr_t)p & (sizeof(ph_word_t) - 1)) != 0; n--)
        *p++ = v;
    for (; n >= sizeof(ph_word_t); n -= sizeof(ph_word_t), p += sizeof(ph_word_t))
        *(ph_word_alias *)(void *)p = w;
    for (; n != 0; n--)
        *p++ = v;
}

/* Page map and anchors of pages [first, first + n) of r: a fresh arena's
 * (fit, no chunk start yet), or none. */
static void mark_arena(const ph_heap *h, struct ph_region *r, size_t first, size_t n, bool fit)
{
    uint32_t k = h->page_shift_ - h->anc_shift_;

    if (k != 0) /* anchors of their own: the page map says "fit" */
        fill_bytes(r->pmap + first, n, fit ? (uint8_t)PH_PM_FIT : (uint8_t)PH_PM_NONE);
    fill_bytes(r->fanc + (first << k), n << k, fit ? (uint8_t)PH_ANC_NONE : 0u);
    ph_bits_fill(r->obj, first, n, fit);
}

void ph_object_init(ph_heap *h)
{
    /* (ph_init cleared the lists, their map and the cache) */
    h->anc_shift_ = ph_anc_shift(h->page_shift_);
    h->anc_mask_ = ((uintptr_t)1 << h->anc_shift_) - 1;
}

/* The empty arena at a (whose single free chunk is on no list) back to the
 * page allocator. */
static void arena_give(ph_heap *h, uintptr_t a)
{
    uint32_t ri = ph_region_of(h, a);
    struct ph_region *r = h->regions_[ri];
    size_t n = (csize(*hdr_of(a + PH_ALIGN)) + PH_ALIGN) >> h->page_shift_;
    size_t first = (size_t)((a - r->base) >> h->page_shift_);

    mark_arena(h, r, first, n, false);
    h->small_spans_--;
    h->small_span_pages_ -= n;
    ph_pages_give(h, ri, first, n);
}

void ph_object_cache_give_all(ph_heap *h)
{
    uintptr_t a = h->fit_cache_;

    if (a == 0)
        return;
    h->fit_cache_ = 0;
    h->cached_spans_ = 0;
    h->cached_pages_ = 0;
    arena_give(h, a);
}

/* Pages of a new arena: PH_FIT_ARENA bytes, at most 1/16 of the heap, at
 * least one page. */
static size_t arena_pages(const ph_heap *h)
{
    size_t n = (h->pages_total_ >> 4) < (PH_FIT_ARENA >> h->page_shift_)
                   ? h->pages_total_ >> 4
                   : PH_FIT_ARENA >> h->page_shift_;
    return n != 0 ? n : 1;
}

/* A free chunk of at least cs bytes in a new arena (or the cached one),
 * on no list; 0 when the pages are not there. */
static uintptr_t arena_new(ph_heap *h, size_t cs)
{
    size_t need = pages_for(h, cs + PH_ALIGN), n, first, fl;
    uintptr_t a, u, end;
    uint32_t ri;
    struct ph_region *r;

    if (need == 0)
        return 0;
    if (h->fit_cache_ != 0) {
        a = h->fit_cache_;
        if (csize(*hdr_of(a + PH_ALIGN)) >= cs) {
            h->fit_cache_ = 0;
            h->cached_spans_ = 0;
            h->cached_pages_ = 0;
            return a + PH_ALIGN;
        }
        ph_object_cache_give_all(h);
    }
    n = arena_pages(h);
    if (n < need)
        n = need;
    a = ph_pages_take(h, n, &ri, &first);
    if (a == 0 && n > need)
        a = ph_pages_take(h, n = need, &ri, &first);
    if (a == 0)
        return 0;
    r = h->regions_[ri];
    mark_arena(h, r, first, n, true);
    h->small_span_pages_ += n;
    end = a + (n << h->page_shift_);
    /* The front: when an arena ends at a, it grows over the run (its fence
     * becomes the new memory's header, joined to its last chunk when that
     * is free); else a new arena's padding and first chunk. */
    if (first != 0 && PH_PM_IS_FIT(r->pmap[first - 1])) {
        u = a;
        fl = PH_FIT_PINUSE;
        if ((*hdr_of(a) & PH_FIT_PINUSE) == 0) {
            size_t ps = *(size_t *)(a - 2 * HDR);
            u = a - ps;
            list_unlink_c(h, u, ps);
            fl = *hdr_of(u) & (PH_FIT_PINUSE | PH_FIT_FIRST);
        } else {
            *anc_at(h, r, u) = anc_code(h, u);
        }
    } else {
        u = a + PH_ALIGN;
        fl = PH_FIT_FIRST;
        *anc_at(h, r, u) = anc_code(h, u);
        h->small_spans_++;
    }
    /* The back: when an arena starts at end, the run takes its padding
     * and its first chunk follows (joined when free); else a fence.  So
     * arenas that meet are one, and never strand the bytes of a boundary. */
    if (first + n < r->npages && PH_PM_IS_FIT(r->pmap[first + n])) {
        uintptr_t w = end + PH_ALIGN;
        size_t wh = *hdr_of(w);
        h->small_spans_--;
        if ((wh & PH_FIT_CINUSE) == 0) {
            size_t ws = csize(wh);
            list_unlink_c(h, w, ws);
            end = w + ws;
            anc_drop(h, r, u, w, end);
        } else {
            *hdr_of(w) = wh & ~PH_FIT_FIRST;
            end = w;
        }
    } else {
        *hdr_of(end) = PH_FIT_CINUSE; /* the fence, the chunk before it free */
    }
    *hdr_of(u) = (end - u) | fl;
    set_foot(u, end - u);
    return u;
}

/* The arena [a, end) is empty (its one chunk written free, on no list):
 * it becomes the cached arena when the cache is empty (or holds a higher
 * one, which goes back instead: the cache, like first fit, keeps to low
 * addresses), it is within the cache's budget (1 / 2^PH_CACHE_SHIFT of the
 * heap's pages) and at least 1/8 of the heap's pages are free (a heap
 * under pressure would only give it back at its next failing allocation);
 * otherwise it goes back to the page allocator. */
PH_COLD void arena_drop(ph_heap *h, uintptr_t a, uintptr_t end)
{
    size_t n = (size_t)((end - a) >> h->page_shift_);
    uintptr_t old = h->fit_cache_;

    if (n > (h->pages_total_ >> PH_CACHE_SHIFT) || h->pages_free_ < (h->pages_total_ >> 3) ||
        (old != 0 && old < a)) {
        arena_give(h, a);
        return;
    }
    h->fit_cache_ = a;
    h->cached_spans_ = 1;
    h->cached_pages_ = n;
    if (old != 0)
        arena_give(h, old);
}

/* ---- chunks in and out ------------------------------------------------------ */

/* The region of x, which is inside one: with one region, no lookup. */
PH_FAST_INLINE uint32_t region_holding(const ph_heap *h, uintptr_t x)
{
    return h->nregions_ == 1 ? 0 : ph_region_of(h, x);
}

/* The free chunk at u (s bytes, on no list) in use for cs <= s bytes;
 * the rest, when it can be a chunk, split off onto its list (its region
 * looked up only when it starts a block). */
PH_FAST_INLINE void *carve(ph_heap *h, uintptr_t u, size_t s, size_t cs)
{
    size_t hd = *hdr_of(u);

    if (s - cs >= PH_FIT_MIN) {
        uintptr_t x = u + cs;
        *hdr_of(u) = hd - s + cs + PH_FIT_CINUSE; /* its flags kept */
        *hdr_of(x) = (s - cs) | PH_FIT_PINUSE;
        set_foot(x, s - cs);
        if (!same_block(h, u, x))
            *anc_at(h, h->regions_[region_holding(h, x)], x) = anc_code(h, x);
        list_push(h, x, s - cs);
    } else {
        *hdr_of(u) = hd | PH_FIT_CINUSE;
        *hdr_of(u + s) |= PH_FIT_PINUSE;
    }
    return (void *)u;
}

#if defined(__OPTIMIZE_SIZE__)
PH_COLD void *carve_c(ph_heap *h, uintptr_t u, size_t s, size_t cs)
{
    return carve(h, u, s, cs);
}
#else
#define carve_c carve
#endif

/* A free chunk of at least cs bytes off its list (the head of the first
 * list that can hold one), its size in *s; 0 when the lists have none. */
static uintptr_t fit_take(ph_heap *h, size_t cs, size_t *s)
{
    unsigned i = list_of(cs);
    fchunk *c = h->fit_free_[i];

    if (c == NULL || csize(*hdr_of((uintptr_t)c)) < cs) {
        i = map_find(h, i + 1);
        if (i == PH_FIT_LISTS)
            return 0;
    }
    c = list_pop(h, i);
    *s = csize(*hdr_of((uintptr_t)c));
    return (uintptr_t)c;
}

/* A chunk of cs bytes from the lists (unless the caller found them
 * without one: listless) or a new arena; NULL when neither has one. */
static void *fit_alloc(ph_heap *h, size_t cs, bool listless)
{
    size_t s;
    uintptr_t u = listless ? 0 : fit_take(h, cs, &s);

    if (u == 0) {
        u = arena_new(h, cs);
        if (u == 0)
            return NULL;
        s = csize(*hdr_of(u));
    }
    return carve_c(h, u, s, cs);
}

/* The listed free chunk at u (s bytes, flags fl: PH_FIT_PINUSE, or
 * PH_FIT_FIRST for an arena's first), which is not its whole arena: when
 * the whole pages inside it come to at least an arena's size, they go
 * back to the page allocator (where the scavenger can release them), and
 * what is left of the chunk on either side is listed again: the arena
 * ends before them with a fence, and a new one starts after them.
 * Returns false, changing nothing, when the pages are fewer. */
static bool fit_trim(ph_heap *h, uintptr_t u, size_t s, size_t fl)
{
    uintptr_t pg = (uintptr_t)1 << h->page_shift_, n = u + s, p, q;
    size_t nh = *hdr_of(n), first, np;
    bool head = (fl & PH_FIT_FIRST) != 0, tail = csize(nh) == 0;
    uint32_t ri = ph_region_of(h, u);
    struct ph_region *r = h->regions_[ri];

    /* [p, q): whole pages, leaving either side nothing or a chunk */
    if (head) {
        p = u - PH_ALIGN;
    } else {
        p = (u + pg - 1) & ~(pg - 1);
        if (p != u && p - u < PH_FIT_MIN)
            p += pg;
    }
    if (tail) {
        q = n;
    } else {
        q = (n - PH_ALIGN) & ~(pg - 1);
        if (n - PH_ALIGN - q != 0 && n - PH_ALIGN - q < PH_FIT_MIN)
            q -= pg;
    }
    /* a stretch in the middle splits the arena: only when it is worth an
     * arena; the arena's free head or tail goes back whatever its size */
    if (q <= p || (!head && !tail && ((q - p) >> h->page_shift_) < arena_pages(h)))
        return false;
    list_unlink_c(h, u, s);
    if (!head) { /* the arena before the pages: [.., p) */
        if (p != u) {
            *hdr_of(u) = (p - u) | fl;
            set_foot(u, p - u);
            list_push_c(h, u, p - u);
            *hdr_of(p) = PH_FIT_CINUSE; /* its fence, the chunk before free */
        } else {
            *hdr_of(p) = PH_FIT_CINUSE | PH_FIT_PINUSE;
        }
    }
    if (!tail) { /* the arena after them: [q, ..) */
        uintptr_t v = q + PH_ALIGN;
        if (v != n) {
            *hdr_of(v) = (n - v) | PH_FIT_FIRST;
            set_foot(v, n - v);
            list_push_c(h, v, n - v);
        } else {
            *hdr_of(n) = nh | PH_FIT_FIRST;
        }
        *anc_at(h, r, v) = anc_code(h, v);
    }
    if (!head && !tail)
        h->small_spans_++;
    first = (size_t)((p - r->base) >> h->page_shift_);
    np = (size_t)((q - p) >> h->page_shift_);
    mark_arena(h, r, first, np, false);
    h->small_span_pages_ -= np;
    ph_pages_give(h, ri, first, np);
    return true;
}

/* Gives back the whole pages inside free chunks (fit_trim): from
 * ph_scavenge (all: every free chunk, so an arena's free head and tail go
 * back whatever their size) and ph_idle (only chunks of at least an
 * arena's bytes: a short pass for the idle loop).  Never from ph_free, so
 * that frees stay short and a heap that frees and soon allocates again
 * does not move pages to and fro. */
void ph_object_trim_lists(ph_heap *h, bool all)
{
    unsigned i = all ? 0u : list_of(arena_pages(h) << h->page_shift_);

    for (i = map_find(h, i); i < PH_FIT_LISTS; i = map_find(h, i + 1)) {
        fchunk *c = h->fit_free_[i];
        while (c != NULL) {
            fchunk *next = c->next; /* (what fit_trim lists again is smaller) */
            size_t hd = *hdr_of((uintptr_t)c);
            fit_trim(h, (uintptr_t)c, csize(hd), hd & (PH_FIT_PINUSE | PH_FIT_FIRST));
            c = next;
        }
    }
}

/* Frees the chunk in use at u (header hd) of region r: joins its free
 * neighbours, then onto its list, or, when the arena is empty, to
 * arena_drop. */
PH_COLD void fit_release(ph_heap *h, const struct ph_region *r, uintptr_t u, size_t hd)
{
    size_t s = csize(hd), nh;
    uintptr_t n = u + s;

    nh = *hdr_of(n);
    if ((nh & PH_FIT_CINUSE) == 0) { /* join the chunk after */
        uintptr_t y = n;
        size_t ns = csize(nh);
        list_unlink(h, y, ns);
        s += ns;
        n += ns;
        nh = *hdr_of(n);
        anc_drop(h, r, u, y, n);
    }
    if ((hd & (PH_FIT_PINUSE | PH_FIT_FIRST)) == 0) { /* join the chunk before */
        size_t ps = *(size_t *)(u - 2 * HDR);
        uintptr_t x = u;
        u -= ps;
        list_unlink(h, u, ps);
        s += ps;
        hd = *hdr_of(u);
        anc_drop(h, r, u, x, n);
    }
    /* u's chunk before is in use, or u is its arena's first */
    *hdr_of(u) = s | (hd & (PH_FIT_PINUSE | PH_FIT_FIRST));
    set_foot(u, s);
    *hdr_of(n) = nh & ~PH_FIT_PINUSE;
    if ((hd & PH_FIT_FIRST) != 0 && csize(nh) == 0) { /* the whole arena is free */
        arena_drop(h, u - PH_ALIGN, n);
        return;
    }
    list_push(h, u, s);
}

/* ---- large objects ----------------------------------------------------- */

/* Page map and object bits of pages [first, first + n) of r: a large
 * object's (its first page at first when head), or none. */
static void set_pmap_large(struct ph_region *r, size_t first, size_t n, bool large, bool head)
{
    fill_bytes(r->pmap + first, n, large ? (uint8_t)PH_PM_LARGE_MORE : (uint8_t)PH_PM_NONE);
    if (head)
        r->pmap[first] = PH_PM_LARGE;
    ph_bits_fill(r->obj, first, n, large);
}

/* Pages [first, first + n) of region ri, a large object's, back to the
 * page allocator (the whole object, or the tail a shrink cuts off). */
static void large_give(ph_heap *h, uint32_t ri, size_t first, size_t n)
{
    set_pmap_large(h->regions_[ri], first, n, false, false);
    ph_pages_give(h, ri, first, n);
    h->large_pages_ -= n;
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
    set_pmap_large(h->regions_[ri], first + lead, n, true, true);
    h->large_objects_++;
    h->large_pages_ += n;
    return (void *)a;
}

/* ---- finding an object -------------------------------------------------- */

typedef struct obj_ref {
    uint32_t ri;
    uintptr_t u;        /* a chunk's user address, 0 for a large object */
    size_t hd;          /* its header                                    */
    size_t page;        /* first page of a large object                  */
    size_t npages;      /* its pages                                     */
} obj_ref;

/* Where a lies in the fit pages of r: 0 when a chunk starts at a (its
 * header in *hd); PH_FAULT_DOUBLE_FREE when a is inside a free chunk;
 * PH_FAULT_BAD_POINTER otherwise.  The walk starts at the anchor of a's
 * block, or of the nearest block before it that has one (a pointer into a
 * chunk that started earlier: up to the chunk's size / block size blocks
 * back, the refusal path only). */
static int fit_locate(const ph_heap *h, const struct ph_region *r, uintptr_t a, size_t *hd)
{
    size_t blk = (size_t)((a - r->base) >> h->anc_shift_);
    uintptr_t q;

    for (;;) {
        uint8_t anc = r->fanc[blk];
        if (anc != PH_ANC_NONE) { /* (else a chunk from an earlier block) */
            if ((anc & PH_ANC_FIT) == 0)
                return PH_FAULT_BAD_POINTER;
            q = r->base + ((uintptr_t)blk << h->anc_shift_) + (anc & ANC_OFF_MASK) * PH_ALIGN;
            if (q <= a)
                break;
        }
        if (blk == 0)
            return PH_FAULT_BAD_POINTER;
        blk--;
    }
    for (;;) {
        size_t s = csize(*hdr_of(q));
        if (s == 0) /* a fence: a is in the next arena's padding */
            return PH_FAULT_BAD_POINTER;
        if (a - q < s)
            break;
        q += s;
    }
    *hd = *hdr_of(q);
    if (q == a)
        return 0;
    /* a in the next chunk's header (or the fence) is no object either */
    return (*hd & PH_FIT_CINUSE) != 0 || a - q >= csize(*hd) - HDR ? PH_FAULT_BAD_POINTER
                                                                  : PH_FAULT_DOUBLE_FREE;
}

/* Finds the live object that starts at a: 0, or the fault code. */
static int obj_find(const ph_heap *h, uintptr_t a, obj_ref *o)
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
    if (PH_PM_IS_FIT(code)) {
        int fault = fit_locate(h, r, a, &o->hd);
        if (fault == 0 && (o->hd & PH_FIT_CINUSE) == 0)
            fault = PH_FAULT_DOUBLE_FREE;
        o->u = a;
        return fault;
    }
    if (code == PH_PM_LARGE) {
        size_t n = 1;
        if ((a & (((uintptr_t)1 << h->page_shift_) - 1)) != 0)
            return PH_FAULT_BAD_POINTER;
        while (page + n < r->npages && r->pmap[page + n] == PH_PM_LARGE_MORE)
            n++;
        o->u = 0;
        o->page = page;
        o->npages = n;
        return 0;
    }
    if (code == PH_PM_NONE) /* page API memory, or a free page */
        return ph_bits_set(r->alloc, page, 1) ? PH_FAULT_BAD_POINTER : PH_FAULT_DOUBLE_FREE;
    return PH_FAULT_BAD_POINTER; /* inside a large object */
}

static size_t obj_size(const ph_heap *h, const obj_ref *o)
{
    return o->u != 0 ? csize(o->hd) - HDR : o->npages << h->page_shift_;
}

static void large_free(ph_heap *h, const obj_ref *o)
{
    large_give(h, o->ri, o->page, o->npages);
    h->large_objects_--;
}

/* Frees the object o found (the lock is held). */
static void obj_release(ph_heap *h, const obj_ref *o)
{
    if (o->u != 0)
        fit_release(h, h->regions_[o->ri], o->u, o->hd);
    else
        large_free(h, o);
}

/* ---- the public entry points -------------------------------------------- */

/* ph_malloc's work when the exact list is empty, and everyone else's: a
 * chunk from the lists or a new arena, or a page run.  The lock is held. */
static void *alloc_slow(ph_heap *h, size_t size, bool listless)
{
    if (size <= PH_SMALL_MAX) {
        void *p = fit_alloc(h, chunk_for(size), listless);
        if (p != NULL)
            return p;
        /* no free chunk and no run for an arena (whose padding and fence
         * may need a page more): a page run of its own, when there is one */
    }
    return large_alloc(h, size, 1);
}

/* ph_malloc's work, the lock held: the head of the request's exact list,
 * else of the first non-empty list above it in the same map word (split),
 * else alloc_slow. */
PH_FAST_INLINE void *alloc_locked(ph_heap *h, size_t size)
{
    if (size <= PH_FIT_EXACT_MAX - HDR) {
        size_t cs = chunk_for(size);
        unsigned i = (unsigned)((cs - PH_FIT_MIN) / PH_ALIGN);
        unsigned w = (i + 1) / MAPW;
        uint32_t m;
        uintptr_t u;

        if (h->fit_free_[i] != NULL) { /* its exact list: nothing to split */
            u = (uintptr_t)list_pop(h, i);
            *hdr_of(u) |= PH_FIT_CINUSE;
            *hdr_of(u + cs) |= PH_FIT_PINUSE;
            return (void *)u;
        }
        /* the head of the next non-empty list: every list above i holds
         * chunks of cs bytes or more */
        m = h->fit_map_[w] & (~(uint32_t)0 << ((i + 1) % MAPW));
        while (m == 0) {
            if (++w == PH_FIT_MAP_WORDS)
                return alloc_slow(h, size, true); /* no list can serve it */
            m = h->fit_map_[w];
        }
        i = w * MAPW + ph_ctz((ph_word_t)m);
        u = (uintptr_t)list_pop(h, i);
        return carve(h, u, csize(*hdr_of(u)), cs);
    }
    return alloc_slow(h, size, false);
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

/* ph_free of anything but a live chunk its block's walk reaches (or of a
 * bad pointer): the general lookup.  Called with the lock held; drops it.
 * Never inlined, so that ph_free's fast path keeps few registers. */
PH_COLD void free_slow(ph_heap *h, void *p)
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

/* ph_free's fast path: the pointer's region, its block's anchor, the walk
 * to it, its header; anything else goes to free_slow, which checks it
 * again from the start. */
void ph_free(ph_heap *h, void *p)
{
    uintptr_t a = (uintptr_t)p;
    uint32_t i;

    if (p == NULL || !ph_heap_ok(h))
        return;
    ph_lock(h);
    for (i = 0; i < h->nregions_; i++) {
        const struct ph_region *r = h->regions_[i];
        uintptr_t off = a - r->base, q, d;
        uint8_t anc;
        size_t hd;

        if (off >= r->limit - r->base)
            continue;
        anc = r->fanc[off >> h->anc_shift_];
        d = off & h->anc_mask_; /* (regions start on a page boundary) */
        /* The block's first chunk is a when the anchor is a's offset in
         * the block, in PH_ALIGN units, with PH_ANC_FIT (one compare, which
         * a misaligned a never passes). */
        if (d + PH_ANC_FIT * PH_ALIGN != (uintptr_t)anc * PH_ALIGN) {
            if ((anc & PH_ANC_FIT) == 0)
                break; /* no chunk starts in the block, or no arena */
            /* bytes from the block's first chunk to a: not a multiple of
             * PH_ALIGN for a misaligned a, which the walk then never
             * reaches */
            d -= (anc & ANC_OFF_MASK) * PH_ALIGN;
            if (d >= PH_ANC_MAX_BLOCK)
                break; /* before the block's first chunk */
            q = a - d;
            while (q < a) {
                size_t s = csize(*hdr_of(q));
                if (s == 0)
                    break;
                q += s;
            }
            if (q != a)
                break;
        }
        hd = *hdr_of(a);
        if ((hd & (PH_FIT_CINUSE | PH_FIT_PINUSE)) == (PH_FIT_CINUSE | PH_FIT_PINUSE)) {
            /* in use, the chunk before it too (so not an arena's first) */
            size_t sz = hd & ~PH_FIT_FLAGS, nh = *hdr_of(a + sz);
            if ((nh & PH_FIT_CINUSE) != 0) { /* no neighbour to join */
                *hdr_of(a) = hd - PH_FIT_CINUSE;
                set_foot(a, sz);
                *hdr_of(a + sz) = nh - PH_FIT_PINUSE;
                list_push(h, a, sz);
                ph_unlock(h);
                return;
            }
        }
        if ((hd & PH_FIT_CINUSE) == 0)
            break;
        fit_release(h, r, a, hd);
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

/* A chunk for size bytes at an address aligned to align (PH_ALIGN < align
 * < the page size): a chunk big enough for any placement, the part before
 * the aligned address split off (at least PH_FIT_MIN bytes, or nothing)
 * and freed, the rest carved. */
static void *fit_aligned(ph_heap *h, size_t size, size_t align)
{
    size_t cs = chunk_for(size), s, gap;
    uintptr_t u, a;
    const struct ph_region *r;

    u = fit_take(h, cs + align + PH_FIT_MIN, &s);
    if (u == 0) {
        u = arena_new(h, cs + align + PH_FIT_MIN);
        if (u == 0)
            return NULL;
        s = csize(*hdr_of(u));
    }
    a = (u + align - 1) & ~(uintptr_t)(align - 1);
    if (a != u && a - u < PH_FIT_MIN)
        a += align;
    gap = (size_t)(a - u);
    if (gap != 0) {
        size_t hd = *hdr_of(u);
        r = h->regions_[ph_region_of(h, u)];
        *hdr_of(u) = gap | (hd & (PH_FIT_PINUSE | PH_FIT_FIRST));
        set_foot(u, gap);
        list_push_c(h, u, gap);
        *hdr_of(a) = s - gap; /* free, the chunk before it free */
        anc_add(h, r, u, a);
        s -= gap;
    }
    return carve_c(h, a, s, cs);
}

void *ph_aligned_alloc(ph_heap *h, size_t align, size_t size)
{
    void *p = NULL;

    if (align == 0 || (align & (align - 1)) != 0 || !ph_heap_ok(h))
        return NULL;
    if (align <= PH_ALIGN)
        return ph_malloc(h, size);
    ph_lock(h);
    if (align < ((size_t)1 << h->page_shift_) && size <= PH_SMALL_MAX && align <= PH_SMALL_MAX)
        p = fit_aligned(h, size, align);
    if (p == NULL) /* a large request or alignment, or no room for a chunk */
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
    set_pmap_large(r, end, more, true, false);
    h->large_pages_ += more;
    return true;
}

/* The chunk in use at u (o) resized in place to cs bytes when it can be:
 * a shrink splits off the tail, a growth takes the free chunk after it. */
static bool fit_resize(ph_heap *h, const obj_ref *o, size_t cs)
{
    const struct ph_region *r = h->regions_[o->ri];
    uintptr_t u = o->u, n, t;
    size_t s = csize(o->hd), flags = o->hd & PH_FIT_FLAGS;

    if (cs > s) {
        size_t nh;
        n = u + s;
        nh = *hdr_of(n);
        if ((nh & PH_FIT_CINUSE) != 0 || s + csize(nh) < cs)
            return false;
        list_unlink_c(h, n, csize(nh));
        s += csize(nh);
        anc_drop(h, r, u, n, u + s);
        *hdr_of(u) = s | flags;
        *hdr_of(u + s) |= PH_FIT_PINUSE;
    }
    if (s - cs >= PH_FIT_MIN) { /* the tail as a chunk of its own, freed */
        t = u + cs;
        *hdr_of(u) = cs | flags;
        *hdr_of(t) = (s - cs) | PH_FIT_PINUSE | PH_FIT_CINUSE;
        anc_add(h, r, u, t);
        fit_release(h, r, t, *hdr_of(t));
    }
    return true;
}

void *ph_realloc(ph_heap *h, void *p, size_t size)
{
    obj_ref o;
    void *q;
    size_t old;
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
    if (o.u != 0) {
        if (size <= PH_SMALL_MAX && fit_resize(h, &o, chunk_for(size)))
            goto in_place;
    } else if (size > PH_SMALL_MAX) {
        size_t n = pages_for(h, size);
        if (n != 0 && n <= o.npages) { /* shrink: give back the tail */
            if (n < o.npages)
                large_give(h, o.ri, o.page + n, o.npages - n);
            goto in_place;
        }
        if (n != 0 && large_grow(h, &o, n))
            goto in_place;
    }
    q = alloc_slow(h, size, false);
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

/* ---- checking ---------------------------------------------------------- */

/* The arena whose first page is `page` of r: chunks tile it up to a fence
 * at a page boundary inside r, headers agree with their neighbours, free
 * chunks have footers and are never adjacent, anchors name each block's
 * first chunk, its pages are fit pages in use.  Its pages in *npages, its
 * free chunks in *nfree, whether it is one free chunk in *empty. */
static int check_arena(const ph_heap *h, const struct ph_region *r, size_t page, size_t *npages,
                       size_t *nfree, bool *empty)
{
    uintptr_t start = ph_page_addr(h, r, page), u = start + PH_ALIGN, q;
    size_t blk, end_blk, chunks = 0, i;
    bool prev_inuse = true, first_inuse = false;
    size_t hd, s;

    *nfree = 0;
    for (;;) {
        if (u > r->limit)
            return PH_CHECK_OBJECTS;
        hd = *hdr_of(u);
        s = csize(hd);
        if (((hd & PH_FIT_PINUSE) != 0) != (prev_inuse && chunks != 0))
            return PH_CHECK_OBJECTS;
        if (s == 0)
            break;
        if (s < PH_FIT_MIN || (s & (PH_ALIGN - 1)) != 0 || s > r->limit - u ||
            ((hd & PH_FIT_FIRST) != 0) != (chunks == 0))
            return PH_CHECK_OBJECTS;
        if ((hd & PH_FIT_CINUSE) == 0) {
            if (!prev_inuse || *(size_t *)(u + s - 2 * HDR) != s)
                return PH_CHECK_OBJECTS;
            ++*nfree;
        }
        if (chunks == 0)
            first_inuse = (hd & PH_FIT_CINUSE) != 0;
        prev_inuse = (hd & PH_FIT_CINUSE) != 0;
        chunks++;
        u += s;
    }
    /* the fence: in use, at the end of a page */
    if ((hd & PH_FIT_CINUSE) == 0 || chunks == 0 ||
        (u & (((uintptr_t)1 << h->page_shift_) - 1)) != 0)
        return PH_CHECK_OBJECTS;
    /* Each block's anchor: the first chunk start in it, or none (a second
     * walk over the headers the first one checked; q stops at the fence,
     * at u). */
    q = start + PH_ALIGN;
    end_blk = (size_t)((u - r->base) >> h->anc_shift_);
    for (blk = (size_t)((start - r->base) >> h->anc_shift_); blk < end_blk; blk++) {
        uintptr_t bs = r->base + ((uintptr_t)blk << h->anc_shift_);
        uint8_t want;
        while (q < bs)
            q += csize(*hdr_of(q));
        want = q < bs + ((uintptr_t)1 << h->anc_shift_) && q < u ? anc_code(h, q)
                                                                : (uint8_t)PH_ANC_NONE;
        if (r->fanc[blk] != want)
            return PH_CHECK_OBJECTS;
    }
    *npages = (size_t)((u - start) >> h->page_shift_);
    for (i = page; i < page + *npages; i++)
        if (!PH_PM_IS_FIT(r->pmap[i]) ||
            (r->fanc != r->pmap && r->pmap[i] != PH_PM_FIT))
            return PH_CHECK_OBJECTS;
    if (!ph_bits_set(r->obj, page, *npages) || !ph_bits_set(r->alloc, page, *npages))
        return PH_CHECK_OBJECTS;
    *empty = chunks == 1 && !first_inuse;
    return PH_OK;
}

/* True when the n bytes at p are 0 (whole words in the middle: ph_check
 * reads every anchor byte of a heap of large pages). */
static bool bytes_zero(const uint8_t *p, size_t n)
{
    while (n != 0 && ((uintptr_t)p & (sizeof(ph_word_t) - 1)) != 0) {
        if (*p++ != 0)
            return false;
        n--;
    }
    for (; n >= sizeof(ph_word_t); n -= sizeof(ph_word_t), p += sizeof(ph_word_t))
        if (*(const ph_word_alias *)(const void *)p != 0)
            return false;
    while (n-- != 0)
        if (*p++ != 0)
            return false;
    return true;
}

/* Each free list: free chunks of its size range, linked both ways, as
 * many in all as the arenas hold (the cached arena's chunk on none); the
 * map bit of each list says whether it holds one. */
static int check_lists(const ph_heap *h, size_t expected)
{
    size_t total = 0;
    unsigned i;

    for (i = 0; i < PH_FIT_MAP_WORDS * MAPW; i++) {
        const fchunk *c = i < PH_FIT_LISTS ? h->fit_free_[i] : NULL, *prev = NULL;
        bool bit = (h->fit_map_[i / MAPW] >> (i % MAPW)) & 1u;
        if (bit != (c != NULL))
            return PH_CHECK_OBJECTS;
        while (c != NULL) {
            uintptr_t u = (uintptr_t)c;
            uint32_t ri = ph_region_of(h, u);
            size_t hd;
            if (ri == h->nregions_ || total++ >= expected ||
                !PH_PM_IS_FIT(h->regions_[ri]->pmap[(u - h->regions_[ri]->base) >> h->page_shift_]) ||
                fit_locate(h, h->regions_[ri], u, &hd) != 0 || (hd & PH_FIT_CINUSE) != 0 ||
                list_of(csize(hd)) != i || c->prev != prev ||
                (h->fit_cache_ != 0 && u == h->fit_cache_ + PH_ALIGN))
                return PH_CHECK_OBJECTS;
            prev = c;
            c = c->next;
        }
    }
    return total == expected ? PH_OK : PH_CHECK_OBJECTS;
}

int ph_object_check(const ph_heap *h)
{
    size_t arenas = 0, apages = 0, large = 0, lpages = 0, listed = 0, cached = 0, cpages = 0;
    uint32_t ri;
    int rc;

    if (h->anc_shift_ != ph_anc_shift(h->page_shift_))
        return PH_CHECK_OBJECTS;
    for (ri = 0; ri < h->nregions_; ri++) {
        const struct ph_region *r = h->regions_[ri];
        uint32_t k = h->page_shift_ - h->anc_shift_;
        size_t page = 0, c, n;

        for (c = 0; c < r->nchunks; c++)
            if ((r->obj[c] & ~r->alloc[c]) != 0)
                return PH_CHECK_OBJECTS;
        while (page < r->npages) {
            uint8_t code = r->pmap[page];
            bool obj = (r->obj[page >> PH_CHUNK_LOG2] >> (page & (PH_CHUNK_PAGES - 1))) & 1;
            size_t nfree;
            bool empty;

            if (PH_PM_IS_FIT(code)) {
                rc = check_arena(h, r, page, &n, &nfree, &empty);
                if (rc != PH_OK)
                    return rc;
                if (empty) { /* only as the cached arena */
                    if (h->fit_cache_ != ph_page_addr(h, r, page))
                        return PH_CHECK_OBJECTS;
                    cached++;
                    cpages += n;
                } else {
                    listed += nfree;
                }
                arenas++;
                apages += n;
                page += n;
                continue;
            }
            n = 1;
            if (code == PH_PM_LARGE) {
                while (page + n < r->npages && r->pmap[page + n] == PH_PM_LARGE_MORE)
                    n++;
                if (!ph_bits_set(r->obj, page, n) || !ph_bits_set(r->alloc, page, n))
                    return PH_CHECK_OBJECTS;
                large++;
                lpages += n;
            } else if (code != PH_PM_NONE || obj) {
                return PH_CHECK_OBJECTS; /* a large run's page with no head */
            } else { /* a run of pages outside the object layer, at once */
                while (page + n < r->npages && r->pmap[page + n] == PH_PM_NONE)
                    n++;
                if (!ph_bits_clear(r->obj, page, n))
                    return PH_CHECK_OBJECTS;
            }
            if (k != 0 && !bytes_zero(r->fanc + (page << k), n << k))
                return PH_CHECK_OBJECTS;
            page += n;
        }
    }
    if (arenas != h->small_spans_ || apages != h->small_span_pages_ || large != h->large_objects_ ||
        lpages != h->large_pages_ || cached != h->cached_spans_ || cpages != h->cached_pages_ ||
        (cached == 0) != (h->fit_cache_ == 0) || cpages > (h->pages_total_ >> PH_CACHE_SHIFT))
        return PH_CHECK_OBJECTS;
    return check_lists(h, listed);
}
