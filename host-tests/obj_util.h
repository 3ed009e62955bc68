/* SPDX-License-Identifier: MIT */
/*
 * obj_util.h: helpers shared by the object-layer tests (test_objects*.c),
 * one header on top of ph_test_util.h so every test stays one executable.
 *
 *   stats_all_assert  every ph_stats field, the scavenger's and the object
 *                     layer's included (stats_assert of ph_test_util.h
 *                     covers only the page allocator's fields);
 *   stats_failed_assert  the same after a failed allocation, which gives
 *                     the empty-span cache back first.
 *   lock_ok           lock hooks balanced, never nested, not held.
 *   pat_*             fill an object with a pattern derived from an id and
 *                     verify it (memcpy/memcmp from a random buffer, so it is
 *                     fast even at -O0 under ASan); two objects with
 *                     different ids get different byte sequences.
 *   oset_*            live objects sorted by address: insertion checks that
 *                     the new object overlaps no live one.
 *   expect_*,         what a request gets: its size class (usable = the
 *   usable_ok         class size, or one of the OBJ_BORROW classes above it
 *                     that ph_malloc may borrow from) or a page run (usable
 *                     = whole pages).
 */
#ifndef OBJ_UTIL_H
#define OBJ_UTIL_H

#include "ph_test_util.h"

#include "ph_internal.h" /* the core's private build constants, if any */
#include "cache_stats.h"

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
 * cached page together), or a with the empty-span cache given back (the
 * cached spans' pages free, no cached span) and nothing else changed; the
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

/* Pages in use are exactly the spans', the large objects' and page_api
 * pages the test holds from ph_page_alloc: no page leaks. */
static inline void stats_accounting(const ph_stats *s, size_t page_api, const char *what)
{
    size_t used = s->pages_total - s->pages_free;
    if (s->pages_free > s->pages_total)
        fail_msg("%s: pages_free %zu > pages_total %zu", what, s->pages_free, s->pages_total);
    if (used != s->small_span_pages + s->large_pages + page_api)
        fail_msg("%s: %zu pages in use, but spans hold %zu, large objects %zu and the page API "
                 "%zu (a leaked or double-counted page)",
                 what, used, s->small_span_pages, s->large_pages, page_api);
    if ((s->small_spans == 0) != (s->small_span_pages == 0) ||
        s->small_span_pages > s->small_spans * PH_SPAN_MAX_PAGES ||
        s->small_span_pages < s->small_spans)
        fail_msg("%s: %zu spans holding %zu pages", what, s->small_spans, s->small_span_pages);
    if ((s->large_objects == 0) != (s->large_pages == 0) || s->large_pages < s->large_objects)
        fail_msg("%s: %zu large objects holding %zu pages", what, s->large_objects,
                 s->large_pages);
}

/* Every object freed: the only pages in use are the empty-span cache's (at
 * most one span a class), and one ph_scavenge(h, 0) gives them back; then
 * every page is free, no span, no large object: nothing leaked. */
static inline void stats_all_free(ph_heap *h, const char *what)
{
    ph_stats s;
    ph_get_stats(h, &s);
    if (s.small_spans != s.cached_spans || s.cached_spans > PH_NCLASSES ||
        s.small_span_pages * s.page_size != s.cached_bytes || s.large_objects != 0 ||
        s.pages_total - s.pages_free != s.small_span_pages)
        fail_msg("%s: every object freed, but %zu spans (%zu pages) of which %zu cached (%zu B), "
                 "%zu large objects, %zu pages in use",
                 what, s.small_spans, s.small_span_pages, s.cached_spans, s.cached_bytes,
                 s.large_objects, s.pages_total - s.pages_free);
    CHECK_OK(h, what);
    if (ph_scavenge(h, 0) != 0)
        fail_msg("%s: ph_scavenge(h, 0) released memory", what);
    ph_get_stats(h, &s);
    if (s.cached_spans != 0 || s.cached_bytes != 0)
        fail_msg("%s: ph_scavenge(h, 0) left %zu cached spans", what, s.cached_spans);
    if (s.pages_free != s.pages_total || s.small_spans != 0 || s.small_span_pages != 0 ||
        s.large_objects != 0 || s.large_pages != 0)
        fail_msg("%s: not all free: pages_free %zu of %zu, %zu spans (%zu pages), %zu large "
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

/* ---- what a request gets --------------------------------------------------------- */

/* True when size is served from a size class on heap h (a class whose span
 * holds at least one object at this page size). */
static inline bool expect_small(const ph_heap *h, size_t size)
{
    unsigned c = ph_size_class(size);
    return c < PH_NCLASSES && ph_class_span_objects(h, c) != 0;
}

/* A small request of class c may be served as a page run of its own only
 * when no span of that class fitted in the free pages before the call
 * (core/src/ph_object.c, alloc_slow): the largest free run was shorter
 * than the class's span. */
static inline bool fallback_large_ok(const ph_heap *h, const ph_stats *before, unsigned c)
{
    return c < PH_NCLASSES && before->largest_free_run < ph_class_span_pages(h, c);
}

/* Usable bytes of ph_malloc(h, size) from the request's own class, or whole
 * pages. */
static inline size_t expect_usable(const ph_heap *h, size_t size, size_t ps)
{
    if (expect_small(h, size))
        return ph_class_size(ph_size_class(size));
    return round_up(size ? size : 1, ps);
}

/* Classes above its own that a small request may be served from: when the
 * request's class has no span with a free object, ph_malloc takes an
 * object of one of the next PH_CLASS_BORROW classes that has one before it
 * makes a new span (class borrowing, core/src/ph_object.c: 2 classes, about
 * 25% more than the request); ph_realloc stays in place within that range.
 * The constant is private to ph_object.c, so its value is repeated here
 * unless a header the tests see defines it.  ph_aligned_alloc never
 * borrows. */
#ifdef PH_CLASS_BORROW
#define OBJ_BORROW ((unsigned)PH_CLASS_BORROW)
#else
#define OBJ_BORROW 2u
#endif

/* u is a usable size that ph_malloc(h, size) may give: the request's class
 * (or one of the OBJ_BORROW classes above it), or whole pages for a page
 * run. */
static inline bool usable_ok(const ph_heap *h, size_t size, size_t ps, size_t u)
{
    if (!expect_small(h, size))
        return u == round_up(size ? size : 1, ps);
    unsigned c = ph_size_class(size);
    for (unsigned d = 0; d <= OBJ_BORROW && c + d < PH_NCLASSES; d++)
        if (ph_class_span_objects(h, c + d) != 0 && u == ph_class_size(c + d))
            return true;
    return false;
}

/* Whether ph_realloc of a small object of usable size `usable` to `size`
 * keeps the object's class (and so stays in place). */
static inline bool realloc_keeps_class(const ph_heap *h, size_t usable, size_t size)
{
    unsigned oc = ph_size_class(usable), nc = ph_size_class(size);
    return expect_small(h, size) && nc <= oc && oc <= nc + OBJ_BORROW;
}

#endif /* OBJ_UTIL_H */
