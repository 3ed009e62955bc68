/* SPDX-License-Identifier: MIT */
/*
 * obj_util.h: helpers shared by the object-layer tests (test_objects*.c),
 * one header on top of ph_test_util.h so every test stays one executable.
 *
 *   stats_all_assert  every ph_stats field, the scavenger's and the object
 *                     layer's included (stats_assert of ph_test_util.h
 *                     covers only the page allocator's fields);
 *   stats_failed_assert  the same after a failed allocation, which gives
 *                     the empty-arena cache back first.
 *   stats_accounting  pages in use = arenas' + large objects' + page API's;
 *                     at most one cached arena, within its budget.
 *   stats_all_free    every object freed: only the cached arena in use, and
 *                     nothing at all after one ph_scavenge(h, 0).
 *   lock_ok           lock hooks balanced, never nested, not held.
 *   pat_*             fill an object with a pattern derived from an id and
 *                     verify it (memcpy/memcmp from a random buffer, so it is
 *                     fast even at -O0 under ASan); two objects with
 *                     different ids get different byte sequences.
 *   oset_*            live objects sorted by address: insertion checks that
 *                     the new object overlaps no live one.
 *   fit_*, expect_*,  what a request gets (core/src/ph_object.c): a chunk of
 *   usable_ok         fit_chunk(size) bytes from an arena (usable = the chunk
 *                     less its header, or up to PH_FIT_MIN - PH_ALIGN more
 *                     when the rest was too small to split off) for sizes up
 *                     to PH_SMALL_MAX, else a page run (usable = whole
 *                     pages); the pages of a new arena.
 *   wb_*              white box (ph_internal.h): the arena holding an
 *                     address (page map, then the chunk headers to the
 *                     fence) and its chunks, to name padding, fences and
 *                     neighbours in the tests.
 */
#ifndef OBJ_UTIL_H
#define OBJ_UTIL_H

#include "ph_test_util.h"

#include "ph_internal.h" /* the core's private build constants, if any */
#include "cache_stats.h"

/* ---- what a request gets: the fit layer's arithmetic ------------------------------- */

/* Chunk bytes of a request of size <= PH_SMALL_MAX: room for the header,
 * rounded up to PH_ALIGN, at least PH_FIT_MIN (core/src/ph_internal.h). */
static inline size_t fit_chunk(size_t size)
{
    size_t s = round_up(size + PH_FIT_HDR, PH_ALIGN);
    return s < PH_FIT_MIN ? PH_FIT_MIN : s;
}

/* Pages a new arena needs at least for a chunk of cs bytes (the padding
 * in front, the fence behind). */
static inline size_t fit_need_pages(size_t cs, size_t ps)
{
    return (cs + PH_ALIGN + ps - 1) / ps;
}

/* Pages of a new arena made for a chunk of cs bytes on a heap of
 * pages_total pages, when that run is free: min(PH_FIT_ARENA, heap / 16)
 * in whole pages, at least what the chunk needs. */
static inline size_t fit_arena_pages(size_t cs, size_t ps, size_t pages_total)
{
    size_t bytes = pages_total * ps / 16, n;
    if (bytes > PH_FIT_ARENA)
        bytes = PH_FIT_ARENA;
    n = bytes / ps;
    return n < fit_need_pages(cs, ps) ? fit_need_pages(cs, ps) : n;
}

/* Trimming (core/src/ph_object.c, fit_trim, from ph_scavenge and ph_idle):
 * a free chunk gives back the whole pages inside it, leaving on either side
 * nothing or a chunk of at least PH_FIT_MIN bytes.  fit_trim_lo: the first
 * byte given back of a free chunk at user address u that is not its
 * arena's first (u rounded up to a page, one page further when that would
 * leave less than PH_FIT_MIN bytes before it); fit_trim_hi: the end of what
 * is given back when the chunk is followed by the chunk at user address n
 * (not the fence): the page boundary at or below n - PH_ALIGN (where the
 * arena after the pages puts its padding), one page lower when the chunk
 * there would be less than PH_FIT_MIN bytes.  An arena's first chunk gives
 * back from the arena's start, one before the fence up to the arena's end;
 * nothing happens unless the pages come to at least arena_pages. */
static inline uintptr_t fit_trim_lo(uintptr_t u, size_t ps)
{
    uintptr_t p = (u + ps - 1) & ~(uintptr_t)(ps - 1);
    return p != u && p - u < PH_FIT_MIN ? p + ps : p;
}

static inline uintptr_t fit_trim_hi(uintptr_t n, size_t ps)
{
    uintptr_t q = (n - PH_ALIGN) & ~(uintptr_t)(ps - 1);
    return n - PH_ALIGN - q != 0 && n - PH_ALIGN - q < PH_FIT_MIN ? q - ps : q;
}

/* True when ph_malloc(size) is a chunk of an arena (never a page run). */
static inline bool expect_small(const ph_heap *h, size_t size)
{
    (void)h;
    return size <= PH_SMALL_MAX;
}

/* Usable bytes of ph_malloc(h, size) at the least: the chunk less its
 * header, or whole pages. */
static inline size_t expect_usable(const ph_heap *h, size_t size, size_t ps)
{
    if (expect_small(h, size))
        return fit_chunk(size) - PH_FIT_HDR;
    return round_up(size ? size : 1, ps);
}

/* u is a usable size that ph_malloc(h, size) may give: a chunk of
 * fit_chunk(size) bytes or one up to PH_FIT_MIN - PH_ALIGN larger (a
 * remainder too small to be a chunk is not split off), less the header;
 * or whole pages for a page run. */
static inline bool usable_ok(const ph_heap *h, size_t size, size_t ps, size_t u)
{
    if (!expect_small(h, size))
        return u == round_up(size ? size : 1, ps);
    size_t lo = fit_chunk(size) - PH_FIT_HDR;
    return u >= lo && u <= lo + PH_FIT_MIN - PH_ALIGN && u % PH_ALIGN == lo % PH_ALIGN;
}

/* The usable size after an in-place ph_realloc of a chunk of usable bytes
 * to size (fit_chunk(size) <= usable + PH_FIT_HDR): the tail is split off
 * when it can be a chunk, else the chunk stays whole. */
static inline size_t fit_shrunk_usable(size_t usable, size_t size)
{
    size_t s = usable + PH_FIT_HDR, cs = fit_chunk(size);
    return s - cs >= PH_FIT_MIN ? cs - PH_FIT_HDR : usable;
}

/* ---- statistics ------------------------------------------------------------------ */

/* b must equal a in every field; faults may differ by exactly faults_delta. */
static inline void stats_all_assert(const ph_stats *a, const ph_stats *b, size_t faults_delta,
                                    const char *what)
{
    stats_assert(a, b, faults_delta, what);
    STATS_FIELD_EQ(a, b, granules_released, what);
    STATS_FIELD_EQ(a, b, release_calls, what);
    STATS_FIELD_EQ(a, b, acquire_calls, what);
    STATS_FIELD_EQ(a, b, bytes_released, what);
    STATS_FIELD_EQ(a, b, bytes_acquired, what);
    STATS_FIELD_EQ(a, b, peak_pages_used, what);
    STATS_FIELD_EQ(a, b, small_spans, what);
    STATS_FIELD_EQ(a, b, small_span_pages, what);
    STATS_FIELD_EQ(a, b, large_objects, what);
    STATS_FIELD_EQ(a, b, large_pages, what);
    STATS_FIELD_EQ(a, b, cached_spans, what);
    STATS_FIELD_EQ(a, b, cached_bytes, what);
}

/* A failed allocation: b is a (the request was larger than every free and
 * cached page together), or a with the empty-arena cache given back (the
 * cached arena's pages free, none cached) and nothing else changed; the
 * longest free run may only have grown, and only when the cache held
 * something. */
static inline void stats_failed_assert(const ph_stats *a, const ph_stats *b, const char *what)
{
    ph_stats e;
    if (b->cached_spans == a->cached_spans) {
        stats_all_assert(a, b, 0, what);
        return;
    }
    e = ph_ref_stats_cache_given_back(a, b);
    stats_all_assert(&e, b, 0, what);
}

/* Pages in use are exactly the arenas', the large objects' and page_api
 * pages the test holds from ph_page_alloc: no page leaks.  Every arena
 * holds at least one page (arenas that meet merge, so one arena may hold
 * any number of arena runs: no upper bound per arena); the cache holds at
 * most one, within 1 / 2^PH_CACHE_SHIFT of the heap. */
static inline void stats_accounting(const ph_stats *s, size_t page_api, const char *what)
{
    size_t used = s->pages_total - s->pages_free;
    if (s->pages_free > s->pages_total)
        fail_msg("%s: pages_free %zu > pages_total %zu", what, s->pages_free, s->pages_total);
    if (used != s->small_span_pages + s->large_pages + page_api)
        fail_msg("%s: %zu pages in use, but arenas hold %zu, large objects %zu and the page API "
                 "%zu (a leaked or double-counted page)",
                 what, used, s->small_span_pages, s->large_pages, page_api);
    /* ... and two arenas never meet: each but a region's last is followed
     * by a page of no arena */
    if ((s->small_spans == 0) != (s->small_span_pages == 0) ||
        s->small_span_pages < s->small_spans ||
        s->small_spans > s->pages_total - s->small_span_pages + s->regions)
        fail_msg("%s: %zu arenas holding %zu pages", what, s->small_spans, s->small_span_pages);
    if (s->cached_spans > 1 || s->cached_spans > s->small_spans ||
        (s->cached_spans == 0) != (s->cached_bytes == 0) ||
        s->cached_bytes % s->page_size != 0 ||
        s->cached_bytes / s->page_size > s->small_span_pages ||
        s->cached_bytes / s->page_size > s->pages_total >> PH_CACHE_SHIFT)
        fail_msg("%s: %zu cached arenas holding %zu bytes (%zu arena pages, budget %zu pages)",
                 what, s->cached_spans, s->cached_bytes, s->small_span_pages,
                 s->pages_total >> PH_CACHE_SHIFT);
    if ((s->large_objects == 0) != (s->large_pages == 0) || s->large_pages < s->large_objects)
        fail_msg("%s: %zu large objects holding %zu pages", what, s->large_objects,
                 s->large_pages);
}

/* Every object freed: the only pages in use are the cached arena's (at most
 * one), and one ph_scavenge(h, 0) gives them back; then every page is
 * free, no arena, no large object: nothing leaked. */
static inline void stats_all_free(ph_heap *h, const char *what)
{
    ph_stats s;
    ph_get_stats(h, &s);
    if (s.small_spans != s.cached_spans || s.cached_spans > 1 ||
        s.small_span_pages * s.page_size != s.cached_bytes || s.large_objects != 0 ||
        s.pages_total - s.pages_free != s.small_span_pages)
        fail_msg("%s: every object freed, but %zu arenas (%zu pages) of which %zu cached (%zu B), "
                 "%zu large objects, %zu pages in use",
                 what, s.small_spans, s.small_span_pages, s.cached_spans, s.cached_bytes,
                 s.large_objects, s.pages_total - s.pages_free);
    CHECK_OK(h, what);
    if (ph_scavenge(h, 0) != 0)
        fail_msg("%s: ph_scavenge(h, 0) released memory", what);
    ph_get_stats(h, &s);
    if (s.cached_spans != 0 || s.cached_bytes != 0)
        fail_msg("%s: ph_scavenge(h, 0) left %zu cached arenas", what, s.cached_spans);
    if (s.pages_free != s.pages_total || s.small_spans != 0 || s.small_span_pages != 0 ||
        s.large_objects != 0 || s.large_pages != 0)
        fail_msg("%s: not all free: pages_free %zu of %zu, %zu arenas (%zu pages), %zu large "
                 "objects (%zu pages)",
                 what, s.pages_free, s.pages_total, s.small_spans, s.small_span_pages,
                 s.large_objects, s.large_pages);
    if (s.largest_free_run == 0 && s.pages_total != 0)
        fail_msg("%s: largest_free_run 0 with every page free", what);
    CHECK_OK(h, what);
}

/* ---- locking --------------------------------------------------------------------- */

static inline void lock_ok(const tport *t, const char *what)
{
    if (t->nested || t->stray_unlocks || t->held || t->locks != t->unlocks)
        fail_msg("%s: locking broken: locks %zu unlocks %zu nested %zu stray %zu held %d", what,
                 t->locks, t->unlocks, t->nested, t->stray_unlocks, (int)t->held);
    if (t->bad_ctx)
        fail_msg("%s: a hook got a bad ctx", what);
}

/* ---- patterns -------------------------------------------------------------------- */

#define PAT_SPAN ((size_t)1 << 18) /* a pattern repeats every 256 KiB inside an object */
#define PAT_OFFS 32768u            /* distinct starting offsets                        */
static uint8_t pat_buf_[PAT_SPAN + PAT_OFFS];
static bool pat_ready_;

static inline void pat_init(void)
{
    rng_t r;
    size_t i;
    if (pat_ready_)
        return;
    rng_seed(&r, 0xF111A5E5ULL);
    for (i = 0; i + 8 <= sizeof pat_buf_; i += 8) {
        uint64_t v = rng_next(&r);
        memcpy(pat_buf_ + i, &v, 8);
    }
    pat_ready_ = true;
}

static inline size_t pat_off_(uint64_t id)
{
    uint64_t x = (id + 1) * 0x9E3779B97F4A7C15ULL;
    return (size_t)((x ^ (x >> 29)) % PAT_OFFS);
}

/* The byte an object with this id holds at offset i. */
static inline uint8_t pat_byte(uint64_t id, size_t i)
{
    return pat_buf_[pat_off_(id) + i % PAT_SPAN];
}

static inline void pat_fill(void *p, size_t n, uint64_t id)
{
    uint8_t *d = (uint8_t *)p;
    const uint8_t *s = pat_buf_ + pat_off_(id);
    while (n != 0) {
        size_t k = n < PAT_SPAN ? n : PAT_SPAN;
        memcpy(d, s, k);
        d += k;
        n -= k;
    }
}

/* Offset of the first byte of [p, p + n) that is not the pattern of id, or
 * SIZE_MAX when all are. */
static inline size_t pat_find_bad(const void *p, size_t n, uint64_t id)
{
    const uint8_t *d = (const uint8_t *)p;
    const uint8_t *s = pat_buf_ + pat_off_(id);
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < PAT_SPAN ? n - done : PAT_SPAN;
        if (memcmp(d + done, s, k) != 0) {
            for (size_t i = 0; i < k; i++)
                if (d[done + i] != s[i])
                    return done + i;
        }
        done += k;
    }
    return SIZE_MAX;
}

#define PAT_CHECK(p, n, id, ...)                                                           \
    do {                                                                                   \
        size_t bad_ = pat_find_bad((p), (n), (id));                                        \
        if (bad_ != SIZE_MAX) {                                                            \
            print_error("object %p (id %llu, %zu bytes checked): byte %zu is %#x, expected " \
                        "%#x\n",                                                           \
                        (const void *)(p), (unsigned long long)(id), (size_t)(n), bad_,    \
                        ((const uint8_t *)(p))[bad_], pat_byte((id), bad_));               \
            fail_msg(__VA_ARGS__);                                                         \
        }                                                                                  \
    } while (0)

/* First offset in [p, p + n) whose byte is not 0, or SIZE_MAX. */
static inline size_t find_nonzero(const void *p, size_t n)
{
    const uint8_t *d = (const uint8_t *)p;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0)
            return i;
    return SIZE_MAX;
}

/* ---- live objects sorted by address ------------------------------------------------ */

typedef struct oent {
    uintptr_t a;   /* start                 */
    size_t n;      /* usable bytes          */
    size_t slot;   /* the caller's index    */
} oent;

typedef struct oset {
    oent *e;
    size_t n, cap;
} oset;

/* Index of the first entry with address >= a. */
static inline size_t oset_lower(const oset *s, uintptr_t a)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->e[mid].a < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds [a, a + n); fails the test (naming what) when it overlaps a live
 * object or has the address of one (malloc(0) objects are unique too). */
static inline void oset_add(oset *s, uintptr_t a, size_t n, size_t slot, const char *what)
{
    size_t i = oset_lower(s, a);
    if (i < s->n && (s->e[i].a == a || a + n > s->e[i].a))
        fail_msg("%s: new object [%p, +%zu) overlaps live object [%p, +%zu)", what, (void *)a, n,
                 (void *)s->e[i].a, s->e[i].n);
    if (i > 0 && s->e[i - 1].a + s->e[i - 1].n > a)
        fail_msg("%s: new object [%p, +%zu) overlaps live object [%p, +%zu)", what, (void *)a, n,
                 (void *)s->e[i - 1].a, s->e[i - 1].n);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->e = (oent *)realloc(s->e, s->cap * sizeof *s->e);
        if (s->e == NULL)
            abort();
    }
    memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof *s->e);
    s->e[i].a = a;
    s->e[i].n = n;
    s->e[i].slot = slot;
    s->n++;
}

/* Entry of the object at a (which must be there). */
static inline oent *oset_get(oset *s, uintptr_t a)
{
    size_t i = oset_lower(s, a);
    if (i == s->n || s->e[i].a != a)
        fail_msg("harness: %p is not in the live set", (void *)a);
    return &s->e[i];
}

static inline void oset_del(oset *s, uintptr_t a)
{
    size_t i = oset_lower(s, a);
    if (i == s->n || s->e[i].a != a)
        fail_msg("harness: %p is not in the live set", (void *)a);
    memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof *s->e);
    s->n--;
}

static inline void oset_free(oset *s)
{
    free(s->e);
    memset(s, 0, sizeof *s);
}

/* ---- white box: arenas and chunks (ph_internal.h) ----------------------------------- */

/* The region of h whose usable pages hold a, or NULL. */
static inline const struct ph_region *wb_region(const ph_heap *h, uintptr_t a)
{
    for (uint32_t i = 0; i < h->nregions_; i++)
        if (a >= h->regions_[i]->base && a < h->regions_[i]->limit)
            return h->regions_[i];
    return NULL;
}

/* The header word of the chunk whose user address is u. */
static inline size_t wb_hdr(uintptr_t u)
{
    return *(const size_t *)(u - PH_FIT_HDR);
}

/* The fit arena holding address a: its first byte in *start, its end (the
 * byte after its fence) in *end; false when a is in no arena.  Arenas are
 * found from the page map (arenas that meet merge, so a run of fit pages
 * is one arena, but the walk does not rely on it) and walked over the
 * chunk headers to their fences. */
static inline bool wb_arena_of(const ph_heap *h, const void *p, uintptr_t *start, uintptr_t *end)
{
    uintptr_t a = (uintptr_t)p;
    const struct ph_region *r = wb_region(h, a);
    size_t page;
    if (r == NULL)
        return false;
    page = (size_t)((a - r->base) >> h->page_shift_);
    if (!PH_PM_IS_FIT(r->pmap[page]))
        return false;
    while (page > 0 && PH_PM_IS_FIT(r->pmap[page - 1]))
        page--;
    uintptr_t s = r->base + ((uintptr_t)page << h->page_shift_);
    for (;;) {
        uintptr_t u = s + PH_ALIGN;
        size_t n;
        while ((n = wb_hdr(u) & ~PH_FIT_FLAGS) != 0)
            u += n;
        if (a < u) {
            *start = s;
            *end = u;
            return true;
        }
        s = u;
    }
}

/* The chunks of the arena [start, end): user address, size, in use, in
 * order; returns how many (at most max are stored). */
typedef struct wb_chunk {
    uintptr_t u;
    size_t size;
    bool inuse;
} wb_chunk;

static inline size_t wb_chunks(uintptr_t start, uintptr_t end, wb_chunk *out, size_t max)
{
    size_t n = 0;
    uintptr_t u = start + PH_ALIGN;
    while (u < end) {
        size_t hd = wb_hdr(u);
        if ((hd & ~PH_FIT_FLAGS) == 0)
            break;
        if (n < max) {
            out[n].u = u;
            out[n].size = hd & ~PH_FIT_FLAGS;
            out[n].inuse = (hd & PH_FIT_CINUSE) != 0;
        }
        n++;
        u += hd & ~PH_FIT_FLAGS;
    }
    return n;
}

#endif /* OBJ_UTIL_H */
