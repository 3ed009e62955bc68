/* SPDX-License-Identifier: MIT */
/*
 * test_objects.c: unit and table tests of the object layer (API.md
 * "Objects", pageheap.h "objects (the malloc family)").
 *
 *   class tables   ph_size_class / ph_class_size for every request size up
 *                  to PH_SMALL_MAX: monotone, smallest fitting class,
 *                  multiples of PH_ALIGN, PH_ALIGN steps to 128 bytes then 8
 *                  classes per doubling, waste <= 1/8 past 128 bytes; span
 *                  layouts for every page size 64 B .. 64 KiB (printed for
 *                  256 B and 4 KiB pages), the 1/16 spans of 256 B pages
 *   basics         malloc(0), free(NULL), usable_size(NULL), alignment,
 *                  usable size = the class size (or one of the OBJ_BORROW
 *                  classes above it) or whole pages, no overlap
 *   span packing   for every class and page size: a span holds exactly
 *                  ph_class_span_objects objects, all inside its pages, none
 *                  overlapping the header; the next one takes a new span;
 *                  an emptied span goes back at once
 *   calloc         zeroes memory that held garbage; overflow -> NULL and no
 *                  change
 *   realloc        every path: NULL, same class in place, the borrow range
 *                  (in place up to OBJ_BORROW classes down, moved past it),
 *                  across classes,
 *                  small <-> large, large grow in place / moved, large
 *                  shrink in place, failure (NULL, old block intact, no
 *                  change), realloc(p, 0)
 *   aligned_alloc  every power of two 1 .. 64 KiB with several sizes and
 *                  page sizes; bad alignments -> NULL, no fault
 *   large objects  page aligned, usable = whole pages, counted
 *   empty spans    every span goes back when its last object goes
 *   mixing         ph_free of ph_page_alloc memory and ph_page_free of
 *                  object memory are refused and change nothing
 *
 * Every heap runs with the recording port (lock hooks on); after every test
 * the locking is balanced and every page is free again.
 */
#include "obj_util.h"

/* ---- a test heap: one region of malloc'd memory ------------------------------------ */

typedef struct theap {
    ph_heap h;
    tport t;
    size_t ps;
    void *mem;
    size_t len;
    ph_region_info ri;
    ph_stats st0; /* right after ph_add_region */
} theap;

static void th_open(theap *th, size_t ps, size_t npages)
{
    memset(th, 0, sizeof *th);
    th->ps = ps;
    tport_init(&th->t, true);
    assert_int_equal(ph_init(&th->h, ps, &th->t.port), PH_OK);
    /* metadata: a header, three bitmaps, the tree and one page-map byte per
     * page: well under 4 bytes a page */
    th->len = npages * ps + round_up(2048 + 4 * npages, ps) + ps;
    th->mem = xaligned(ps, th->len);
    assert_int_equal(ph_add_region(&th->h, th->mem, th->len, 0), PH_OK);
    assert_int_equal(ph_get_region(&th->h, 0, &th->ri), PH_OK);
    assert_true(th->ri.npages >= npages);
    ph_get_stats(&th->h, &th->st0);
    assert_int_equal(th->st0.pages_free, th->st0.pages_total);
}

static void th_close(theap *th, const char *what)
{
    stats_all_free(&th->h, what);
    lock_ok(&th->t, what);
    if (th->t.releases || th->t.acquires)
        fail_msg("%s: release/acquire hooks called without a scavenge", what);
    free(th->mem);
    th->mem = NULL;
}

static void th_stats(theap *th, ph_stats *s)
{
    ph_get_stats(&th->h, s);
}

static void th_accounting(theap *th, size_t page_api, const char *what)
{
    ph_stats s;
    th_stats(th, &s);
    stats_accounting(&s, page_api, what);
}

/* p lies in the region's usable pages, n bytes from it too. */
static void th_inside(theap *th, const void *p, size_t n, const char *what)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)th->ri.base;
    uintptr_t hi = lo + th->ri.npages * th->ps;
    if (a < lo || a > hi || n > hi - a)
        fail_msg("%s: object [%p, +%zu) is not inside the usable pages [%p, %p)", what, p, n,
                 (void *)lo, (void *)hi);
}

static size_t th_used(theap *th)
{
    ph_stats s;
    th_stats(th, &s);
    return s.pages_total - s.pages_free;
}

/* ---- class tables ----------------------------------------------------------------- */

static void test_class_sizes(void **state)
{
    (void)state;
    size_t prev = 0;

    assert_true(PH_NCLASSES > PH_CLASS_LINEAR);
    assert_int_equal(PH_ALIGN % 8, 0);
    assert_true(PH_ALIGN >= 2 * sizeof(void *));
    for (unsigned c = 0; c < PH_NCLASSES; c++) {
        size_t s = ph_class_size(c);
        if (s == 0 || s % PH_ALIGN != 0)
            fail_msg("class %u: size %zu is not a positive multiple of PH_ALIGN %zu", c, s,
                     (size_t)PH_ALIGN);
        if (s <= prev)
            fail_msg("class %u: size %zu not above class %u's %zu", c, s, c - 1, prev);
        if (c < PH_CLASS_LINEAR && s != (c + 1) * PH_ALIGN)
            fail_msg("class %u: size %zu, expected %zu (PH_ALIGN steps up to 128)", c, s,
                     (c + 1) * PH_ALIGN);
        if (s > 128) {
            /* the worst request of class c is one byte over class c - 1 */
            size_t worst = prev + 1;
            if ((s - worst) * 8 > worst)
                fail_msg("class %u (%zu bytes): a %zu-byte request wastes %zu bytes, over 12.5%%",
                         c, s, worst, s - worst);
        }
        prev = s;
    }
    assert_int_equal(ph_class_size(PH_CLASS_LINEAR - 1), 128);
    assert_int_equal(ph_class_size(PH_NCLASSES - 1), PH_SMALL_MAX);
    /* 8 classes per doubling past 128 */
    for (size_t lo = 128; lo < PH_SMALL_MAX; lo *= 2) {
        unsigned n = 0;
        for (unsigned c = 0; c < PH_NCLASSES; c++)
            if (ph_class_size(c) > lo && ph_class_size(c) <= 2 * lo)
                n++;
        if (n != 8)
            fail_msg("(%zu, %zu]: %u classes, expected 8", lo, 2 * lo, n);
    }

    /* every request size: the smallest class that holds it, monotone */
    unsigned last = 0;
    for (size_t n = 0; n <= PH_SMALL_MAX; n++) {
        unsigned c = ph_size_class(n);
        if (c >= PH_NCLASSES)
            fail_msg("ph_size_class(%zu) = %u, not a class (PH_NCLASSES %u)", n, c,
                     (unsigned)PH_NCLASSES);
        if (c < last)
            fail_msg("ph_size_class(%zu) = %u < ph_size_class(%zu) = %u: not monotone", n, c,
                     n - 1, last);
        if (ph_class_size(c) < n)
            fail_msg("ph_size_class(%zu) = %u holds only %zu bytes", n, c, ph_class_size(c));
        if (c > 0 && ph_class_size(c - 1) >= n)
            fail_msg("ph_size_class(%zu) = %u, but class %u (%zu bytes) is smaller and fits", n,
                     c, c - 1, ph_class_size(c - 1));
        last = c;
    }
    assert_int_equal(ph_size_class(0), 0);
    const size_t big[] = { PH_SMALL_MAX + 1, PH_SMALL_MAX + PH_ALIGN, 2 * PH_SMALL_MAX,
                           (size_t)1 << 31, SIZE_MAX / 2, SIZE_MAX - 1, SIZE_MAX };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        if (ph_size_class(big[i]) != PH_NCLASSES)
            fail_msg("ph_size_class(%zu) = %u, expected PH_NCLASSES %u", big[i],
                     ph_size_class(big[i]), (unsigned)PH_NCLASSES);
}

static void print_class_table(const ph_heap *h, size_t ps)
{
    print_message("[ classes  ] page size %zu: class  size  pages  objects  span-waste  "
                  "worst-request-waste\n", ps);
    for (unsigned c = 0; c < PH_NCLASSES; c++) {
        size_t s = ph_class_size(c), k = ph_class_span_pages(h, c);
        size_t n = ph_class_span_objects(h, c);
        size_t worst = c == 0 ? 1 : ph_class_size(c - 1) + 1;
        if (k == 0) {
            print_message("[ classes  ]   %3u %6zu  page run (no %u-page span fits one)    "
                          "%5.1f%%\n", c, s, (unsigned)PH_SPAN_MAX_PAGES,
                          100.0 * (double)(s - worst) / (double)s);
            continue;
        }
        size_t bytes = k * ps;
        print_message("[ classes  ]   %3u %6zu %4zu %6zu %8zu B %5.1f%% %5.1f%%\n", c, s, k, n,
                      bytes - n * s, 100.0 * (double)(bytes - n * s) / (double)bytes,
                      100.0 * (double)(s - worst) / (double)s);
    }
}

static void test_class_spans(void **state)
{
    (void)state;
    ph_heap h;

    for (size_t ps = 64; ps <= 65536; ps *= 2) {
        bool no_span_seen = false;
        assert_int_equal(ph_init(&h, ps, NULL), PH_OK);
        for (unsigned c = 0; c < PH_NCLASSES; c++) {
            size_t s = ph_class_size(c), k = ph_class_span_pages(&h, c);
            size_t n = ph_class_span_objects(&h, c);
            if (k == 0 || n == 0) {
                /* served as a page run: only when no object fits in the
                 * largest span next to a header of at most 128 bytes */
                if (k != 0 || n != 0)
                    fail_msg("page %zu, class %u: %zu pages but %zu objects", ps, c, k, n);
                if (s + 128 <= PH_SPAN_MAX_PAGES * ps)
                    fail_msg("page %zu, class %u (%zu bytes): no span, but one fits in %u pages",
                             ps, c, s, (unsigned)PH_SPAN_MAX_PAGES);
                no_span_seen = true;
                continue;
            }
            if (no_span_seen)
                fail_msg("page %zu, class %u (%zu bytes) has a span but a smaller class has none",
                         ps, c, s);
            if (k > PH_SPAN_MAX_PAGES || n > PH_SPAN_MAX_OBJECTS)
                fail_msg("page %zu, class %u: %zu pages, %zu objects (max %u, %u)", ps, c, k, n,
                         (unsigned)PH_SPAN_MAX_PAGES, (unsigned)PH_SPAN_MAX_OBJECTS);
            if (n * s >= k * ps)
                fail_msg("page %zu, class %u: %zu objects of %zu bytes leave no room for the "
                         "header in %zu pages", ps, c, n, s, k);
        }
        if (ps >= 4096 && no_span_seen)
            fail_msg("page %zu: a class without a span", ps);
        if (ps == 256) {
            /* spans of up to PH_SPAN_CAP (4 KiB) that waste at most 1/16
             * (at 1/8 alone: 4 pages / 7, 1 / 1, 8 / 7 and 2 / 1) */
            static const size_t want[][3] = {
                { 128, 8, 15 }, { 224, 8, 9 }, { 256, 16, 15 }, { 448, 9, 5 }
            };
            for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                unsigned c = ph_size_class(want[i][0]);
                size_t k = ph_class_span_pages(&h, c), n = ph_class_span_objects(&h, c);
                if (ph_class_size(c) != want[i][0] || k != want[i][1] || n != want[i][2])
                    fail_msg("page 256, %zu-byte class: %zu pages, %zu objects; expected %zu, %zu",
                             want[i][0], k, n, want[i][1], want[i][2]);
            }
        }
        assert_int_equal(ph_class_span_pages(&h, PH_NCLASSES), 0);
        assert_int_equal(ph_class_span_objects(&h, PH_NCLASSES), 0);
        assert_int_equal(ph_class_span_pages(&h, ~0u), 0);
        if (ps == 256 || ps == 4096)
            print_class_table(&h, ps);
    }
    /* Layouts follow the heap's size until the first span: a 7 KiB heap
     * caps spans for 1/16 waste at 1/16 of itself (448 bytes, one page),
     * so those classes fall back to 1/8; once a span exists, adding a
     * region changes no layout. */
    {
        static _Alignas(256) unsigned char small[7 * 1024], big[64 * 1024];
        static const size_t want[][3] = { { 128, 4, 7 }, { 256, 8, 7 }, { 448, 2, 1 } };
        assert_int_equal(ph_init(&h, 256, NULL), PH_OK);
        assert_int_equal(ph_add_region(&h, small, sizeof small, 0), PH_OK);
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                unsigned c = ph_size_class(want[i][0]);
                size_t k = ph_class_span_pages(&h, c), n = ph_class_span_objects(&h, c);
                if (k != want[i][1] || n != want[i][2])
                    fail_msg("7 KiB heap (round %d), %zu-byte class: %zu pages, %zu objects; "
                             "expected %zu, %zu", round, want[i][0], k, n, want[i][1], want[i][2]);
            }
            assert_int_equal(ph_check(&h), PH_OK);
            if (round == 0) {
                void *p = ph_malloc(&h, 100); /* the first span */
                assert_non_null(p);
                assert_int_equal(ph_add_region(&h, big, sizeof big, 0), PH_OK);
                ph_free(&h, p);
            }
        }
        /* a heap whose regions came before any span: 71 KiB takes 4 KiB */
        assert_int_equal(ph_init(&h, 256, NULL), PH_OK);
        assert_int_equal(ph_add_region(&h, small, sizeof small, 0), PH_OK);
        assert_int_equal(ph_add_region(&h, big, sizeof big, 0), PH_OK);
        assert_int_equal(ph_class_span_pages(&h, ph_size_class(448)), 9);
        assert_int_equal(ph_check(&h), PH_OK);
    }
    /* a heap that is not initialised has no layout */
    memset(&h, 0, sizeof h);
    assert_int_equal(ph_init(&h, 100, NULL), PH_EINVAL);
    assert_int_equal(ph_class_span_pages(&h, 0), 0);
    assert_int_equal(ph_class_span_objects(&h, 0), 0);
    assert_int_equal(ph_class_span_pages(NULL, 0), 0);
}

/* ---- basics ------------------------------------------------------------------------ */

typedef struct obj {
    char *p;
    size_t req, usable;
    uint64_t id;
} obj;

/* Allocates with ph_malloc and checks what the header promises. */
static char *checked_malloc(theap *th, size_t n, size_t *usable, const char *what)
{
    char *p = (char *)ph_malloc(&th->h, n);
    if (p == NULL)
        fail_msg("%s: ph_malloc(%zu) returned NULL", what, n);
    if ((uintptr_t)p % PH_ALIGN != 0)
        fail_msg("%s: ph_malloc(%zu) = %p is not aligned to %zu", what, n, (void *)p,
                 (size_t)PH_ALIGN);
    size_t u = ph_usable_size(&th->h, p), want = expect_usable(&th->h, n, th->ps);
    if (u < n || !usable_ok(&th->h, n, th->ps, u))
        fail_msg("%s: ph_usable_size(ph_malloc(%zu)) = %zu, expected %zu%s", what, n, u, want,
                 OBJ_BORROW ? " (or a class it may borrow)" : "");
    if (!expect_small(&th->h, n) && (uintptr_t)p % th->ps != 0)
        fail_msg("%s: page-run object %p (%zu bytes) not page aligned", what, (void *)p, n);
    th_inside(th, p, u, what);
    if (usable)
        *usable = u;
    return p;
}

static void check_no_overlap(obj *o, size_t n, const char *what)
{
    oset s = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (o[i].p == NULL)
            continue;
        oset_add(&s, (uintptr_t)o[i].p, o[i].usable, i, what);
        PAT_CHECK(o[i].p, o[i].usable, o[i].id, "%s: object %zu (%zu bytes) changed", what, i,
                  o[i].req);
    }
    oset_free(&s);
}

static void test_basics(void **state)
{
    (void)state;
    static const size_t pss[] = { 256, 4096 };
    pat_init();
    for (size_t k = 0; k < 2; k++) {
        theap th;
        ph_stats a, b;
        size_t ps = pss[k];
        th_open(&th, ps, 16 * 1024 * 1024 / ps);

        /* malloc(0): unique, freeable */
        char *z[3];
        for (int i = 0; i < 3; i++) {
            z[i] = checked_malloc(&th, 0, NULL, "malloc(0)");
            for (int j = 0; j < i; j++)
                assert_ptr_not_equal(z[i], z[j]);
        }
        for (int i = 0; i < 3; i++)
            ph_free(&th.h, z[i]);
        assert_int_equal(th.t.faults, 0);
        stats_all_free(&th.h, "malloc(0) freed");

        /* free(NULL), usable_size(NULL): nothing at all */
        th_stats(&th, &a);
        ph_free(&th.h, NULL);
        assert_int_equal(ph_usable_size(&th.h, NULL), 0);
        th_stats(&th, &b);
        stats_all_assert(&a, &b, 0, "free(NULL), usable_size(NULL)");
        assert_int_equal(th.t.faults, 0);

        /* every size up to 1 KiB, then steps, then page runs */
        size_t cap = 4096, n = 0;
        obj *o = (obj *)calloc(cap, sizeof *o);
        for (size_t sz = 1; sz <= PH_SMALL_MAX + 3 * ps; sz += sz < 1024 ? 1 : sz < 8192 ? 61 : 997) {
            char what[64];
            snprintf(what, sizeof what, "page %zu, ph_malloc(%zu)", ps, sz);
            o[n].p = checked_malloc(&th, sz, &o[n].usable, what);
            o[n].req = sz;
            o[n].id = n;
            pat_fill(o[n].p, o[n].usable, o[n].id);
            n++;
            assert_true(n < cap);
            if (n % 256 == 0) {
                th_accounting(&th, 0, what);
                CHECK_OK(&th.h, what);
            }
        }
        check_no_overlap(o, n, "basics");
        th_accounting(&th, 0, "basics");
        CHECK_OK(&th.h, "basics");

        /* free in a shuffled order, checking each object first */
        rng_t r;
        rng_seed(&r, 0xBA51C5ULL + k);
        for (size_t i = n; i > 1; i--) {
            size_t j = rng_below(&r, i);
            obj t = o[i - 1];
            o[i - 1] = o[j];
            o[j] = t;
        }
        for (size_t i = 0; i < n; i++) {
            PAT_CHECK(o[i].p, o[i].usable, o[i].id, "object of %zu bytes changed", o[i].req);
            ph_free(&th.h, o[i].p);
            if (i % 128 == 0) {
                th_accounting(&th, 0, "freeing");
                CHECK_OK(&th.h, "freeing");
            }
        }
        assert_int_equal(th.t.faults, 0);
        free(o);
        th_close(&th, "basics");
    }
}

/* ---- span packing ------------------------------------------------------------------- */

static void test_span_packing(void **state)
{
    (void)state;
    static const size_t pss[] = { 64, 256, 4096, 65536 };
    char **p = (char **)calloc(PH_SPAN_MAX_OBJECTS + 1, sizeof *p);
    pat_init();
    for (size_t k = 0; k < sizeof pss / sizeof pss[0]; k++) {
        theap th;
        size_t ps = pss[k];
        th_open(&th, ps, 2 * PH_SPAN_MAX_PAGES + 8);
        for (unsigned c = 0; c < PH_NCLASSES; c++) {
            size_t s = ph_class_size(c), pages = ph_class_span_pages(&th.h, c);
            size_t n = ph_class_span_objects(&th.h, c);
            uintptr_t lo = (uintptr_t)th.ri.base, hi = lo + pages * ps;
            ph_stats st;
            char what[96];
            if (n == 0)
                continue;
            snprintf(what, sizeof what, "page %zu, class %u (%zu bytes, %zu pages, %zu objects)",
                     ps, c, s, pages, n);
            for (size_t i = 0; i < n; i++) {
                p[i] = checked_malloc(&th, s - (i % 3 == 1 ? PH_ALIGN - 1 : 0), NULL, what);
                if ((uintptr_t)p[i] <= lo || (uintptr_t)p[i] + s > hi)
                    fail_msg("%s: object %zu at %p is outside the span's objects (%p, %p)", what,
                             i, (void *)p[i], (void *)lo, (void *)hi);
                pat_fill(p[i], s, i);
            }
            th_stats(&th, &st);
            if (st.small_spans != 1 || st.small_span_pages != pages || st.large_objects != 0)
                fail_msg("%s: full span: %zu spans, %zu span pages, %zu large", what,
                         st.small_spans, st.small_span_pages, st.large_objects);
            {
                oset os = { 0 };
                for (size_t i = 0; i < n; i++)
                    oset_add(&os, (uintptr_t)p[i], s, i, what);
                oset_free(&os);
            }
            for (size_t i = 0; i < n; i++)
                PAT_CHECK(p[i], s, i, "%s: object %zu changed", what, i);
            CHECK_OK(&th.h, what);
            /* the next one needs a new span */
            p[n] = checked_malloc(&th, s, NULL, what);
            if ((uintptr_t)p[n] >= lo && (uintptr_t)p[n] < hi)
                fail_msg("%s: object %zu of a full span inside it", what, n);
            th_stats(&th, &st);
            if (st.small_spans != 2 || st.small_span_pages != 2 * pages)
                fail_msg("%s: after the span filled: %zu spans, %zu pages", what, st.small_spans,
                         st.small_span_pages);
            ph_free(&th.h, p[n]); /* its span empties: cached if the budget allows */
            th_stats(&th, &st);
            /* within the budget, and 1/8 of the heap free besides the span */
            const bool cache = pages <= st.pages_total >> PH_CACHE_SHIFT &&
                               st.pages_total - 2 * pages >= st.pages_total >> 3;
            if (st.small_spans != 1u + cache || st.cached_spans != cache ||
                st.cached_bytes != cache * pages * ps ||
                st.pages_free != st.pages_total - (1u + cache) * pages)
                fail_msg("%s: emptied span (cached: %d) wrongly kept: %zu spans, %zu cached, "
                         "%zu of %zu pages free",
                         what, (int)cache, st.small_spans, st.cached_spans, st.pages_free,
                         st.pages_total);
            assert_int_equal(ph_scavenge(&th.h, 0), 0); /* gives the cache back */
            th_stats(&th, &st);
            if (st.small_spans != 1 || st.cached_spans != 0 || st.pages_free != st.pages_total - pages)
                fail_msg("%s: cached span not given back: %zu spans, %zu of %zu pages free",
                         what, st.small_spans, st.pages_free, st.pages_total);
            for (size_t i = 0; i < n; i++) {
                /* evens first, then odds: holes all over the span */
                size_t j = i < (n + 1) / 2 ? 2 * i : 2 * (i - (n + 1) / 2) + 1;
                PAT_CHECK(p[j], s, j, "%s: object %zu changed", what, j);
                ph_free(&th.h, p[j]);
                th_stats(&th, &st);
                if (i + 1 < n && (st.small_spans != 1 || st.pages_free != st.pages_total - pages))
                    fail_msg("%s: %zu of %zu freed: %zu spans, %zu pages free", what, i + 1, n,
                             st.small_spans, st.pages_free);
            }
            stats_all_free(&th.h, what);
        }
        assert_int_equal(th.t.faults, 0);
        th_close(&th, "span packing");
    }
    free(p);
}

/* ---- calloc ----------------------------------------------------------------------- */

static void test_calloc_zeroes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 1, 7, 15, 16, 17, 100, 128, 129, 1000, 4000, 4096,
                                    PH_SMALL_MAX - 1, PH_SMALL_MAX, PH_SMALL_MAX + 1,
                                    3 * 4096 + 5, 100000 };
    enum { K = 6 };
    theap th;
    ph_stats a, b;
    size_t reused = 0;
    th_open(&th, 4096, 512);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t sz = sizes[i];
        char *g[K], *q[K];
        for (int j = 0; j < K; j++) {
            g[j] = checked_malloc(&th, sz, NULL, "calloc garbage");
            memset(g[j], 0xCD, ph_usable_size(&th.h, g[j]));
        }
        for (int j = 0; j < K; j++)
            ph_free(&th.h, g[j]);
        /* n * size = sz, split differently */
        for (int j = 0; j < K; j++) {
            size_t n = (j % 3 == 0 || sz % 2 != 0) ? 1 : sz % 4 == 0 && j % 3 == 2 ? 4 : 2;
            size_t m = sz / n;
            if (j % 2)
                q[j] = (char *)ph_calloc(&th.h, m, n);
            else
                q[j] = (char *)ph_calloc(&th.h, n, m);
            if (q[j] == NULL)
                fail_msg("ph_calloc(%zu, %zu) returned NULL", n, m);
            if ((uintptr_t)q[j] % PH_ALIGN != 0)
                fail_msg("ph_calloc(%zu, %zu) = %p not aligned", n, m, (void *)q[j]);
            if (!usable_ok(&th.h, sz, th.ps, ph_usable_size(&th.h, q[j])))
                fail_msg("ph_calloc(%zu, %zu): usable size %zu", n, m,
                         ph_usable_size(&th.h, q[j]));
            size_t bad = find_nonzero(q[j], sz);
            if (bad != SIZE_MAX)
                fail_msg("ph_calloc(%zu, %zu) = %p: byte %zu is %#x, not zero", n, m,
                         (void *)q[j], bad, (unsigned char)q[j][bad]);
            for (int l = 0; l < K; l++)
                if (q[j] == g[l])
                    reused++;
        }
        for (int j = 0; j < K; j++)
            ph_free(&th.h, q[j]);
        stats_all_free(&th.h, "calloc");
    }
    /* the test means something only if calloc got memory that held garbage */
    assert_true(reused >= sizeof sizes / sizeof sizes[0]);

    /* overflow and requests too large: NULL, no fault, no change */
    char *keep = checked_malloc(&th, 40, NULL, "calloc keep");
    const size_t half = (size_t)1 << (sizeof(size_t) * 4);
    const struct {
        size_t n, m;
    } bad[] = { { SIZE_MAX / 2, 3 }, { 3, SIZE_MAX / 2 }, { SIZE_MAX, 2 }, { 2, SIZE_MAX },
                { half, half }, { SIZE_MAX, SIZE_MAX }, { SIZE_MAX / 16 + 1, 16 },
                { 1, SIZE_MAX }, { SIZE_MAX, 1 }, { th.st0.pages_total + 1, 4096 },
                { 4096, th.st0.pages_total + 1 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "ph_calloc(%zu, %zu)", bad[i].n, bad[i].m);
        th_stats(&th, &a);
        void *p = ph_calloc(&th.h, bad[i].n, bad[i].m);
        th_stats(&th, &b);
        if (p != NULL)
            fail_msg("%s returned %p, expected NULL", what, p);
        stats_all_assert(&a, &b, 0, what);
        assert_int_equal(th.t.faults, 0);
        lock_ok(&th.t, what);
    }
    /* zero elements: a unique pointer or NULL, freeable either way */
    void *z1 = ph_calloc(&th.h, 0, 10), *z2 = ph_calloc(&th.h, 10, 0);
    if (z1 != NULL && z1 == z2)
        fail_msg("ph_calloc(0, 10) and ph_calloc(10, 0) returned the same pointer %p", z1);
    ph_free(&th.h, z1);
    ph_free(&th.h, z2);
    ph_free(&th.h, keep);
    assert_int_equal(th.t.faults, 0);
    th_close(&th, "calloc");
}

/* ---- realloc ------------------------------------------------------------------------ */

/* p must hold id's pattern over n bytes. */
#define KEPT(p, n, id, what) PAT_CHECK((p), (n), (id), "%s: contents not kept", (what))

/* ph_realloc(p, size) must fail: NULL, p untouched, no statistic changed,
 * no fault. */
static void realloc_fails(theap *th, char *p, size_t size, uint64_t id, const char *what)
{
    ph_stats a, b;
    size_t u = ph_usable_size(&th->h, p), f = th->t.faults;
    th_stats(th, &a);
    void *q = ph_realloc(&th->h, p, size);
    th_stats(th, &b);
    if (q != NULL)
        fail_msg("%s: ph_realloc(%p, %zu) returned %p, expected NULL", what, (void *)p, size, q);
    stats_all_assert(&a, &b, 0, what);
    if (th->t.faults != f)
        fail_msg("%s: a failed realloc raised a fault", what);
    if (ph_usable_size(&th->h, p) != u)
        fail_msg("%s: usable size of the old block changed", what);
    KEPT(p, u, id, what);
    CHECK_OK(&th->h, what);
    lock_ok(&th->t, what);
}

/* The last call raised one more fault: DOUBLE_FREE at p. */
static void expect_double_free(theap *th, size_t *faults, const void *p, const char *what)
{
    (*faults)++;
    if (th->t.faults != *faults || th->t.last_code != PH_FAULT_DOUBLE_FREE ||
        th->t.last_addr != p)
        fail_msg("%s: %zu faults (expected %zu), last code %d at %p; expected DOUBLE_FREE at %p",
                 what, th->t.faults, *faults, th->t.last_code, th->t.last_addr, p);
}

static void test_realloc_paths(void **state)
{
    (void)state;
    const size_t ps = 4096;
    theap th;
    ph_stats st;
    size_t u, faults = 0;
    pat_init();
    th_open(&th, ps, 256);

    /* NULL: a malloc */
    char *p = (char *)ph_realloc(&th.h, NULL, 100);
    assert_non_null(p);
    assert_int_equal(ph_usable_size(&th.h, p), ph_class_size(ph_size_class(100)));
    ph_free(&th.h, p);
    stats_all_free(&th.h, "realloc(NULL)");

    /* same class: in place */
    p = checked_malloc(&th, 20, &u, "20");
    assert_int_equal(u, ph_class_size(ph_size_class(20)));
    pat_fill(p, 20, 1);
    const size_t same[] = { 30, 17, 32, 25 };
    for (size_t i = 0; i < 4; i++) {
        char *q = (char *)ph_realloc(&th.h, p, same[i]);
        if (q != p)
            fail_msg("realloc(20 -> %zu) moved the object (%p -> %p) in its class", same[i],
                     (void *)p, (void *)q);
        KEPT(q, 17, 1, "same class");
    }

    /* the borrow range: a shrink by up to OBJ_BORROW classes stays, one more
     * class moves (the heap has memory) */
    {
        unsigned c = ph_size_class(1000);
        char *x = checked_malloc(&th, ph_class_size(c), NULL, "borrow range");
        pat_fill(x, ph_class_size(c), 11);
        for (unsigned d = 1; d <= OBJ_BORROW + 1; d++) {
            size_t sz = ph_class_size(c - d);
            char *y = (char *)ph_realloc(&th.h, x, sz);
            assert_non_null(y);
            if (d <= OBJ_BORROW && y != x)
                fail_msg("realloc %zu -> %zu (%u classes down) moved", ph_class_size(c), sz, d);
            if (d > OBJ_BORROW && y == x)
                fail_msg("realloc %zu -> %zu (%u classes down) stayed", ph_class_size(c), sz, d);
            KEPT(y, sz, 11, "borrow range");
            if (y != x) {
                assert_int_equal(ph_usable_size(&th.h, y), sz);
                x = y;
                break;
            }
            assert_int_equal(ph_usable_size(&th.h, x), ph_class_size(c));
        }
        ph_free(&th.h, x);
        ph_free(&th.h, p);
        stats_all_free(&th.h, "borrow range");
        p = checked_malloc(&th, 20, NULL, "20 again");
        pat_fill(p, 20, 1);
    }

    /* small grow to another class: moved, old one freed */
    char *q = (char *)ph_realloc(&th.h, p, 1000);
    assert_non_null(q);
    assert_ptr_not_equal(q, p);
    assert_int_equal(ph_usable_size(&th.h, q), ph_class_size(ph_size_class(1000)));
    KEPT(q, 17, 1, "small grow");
    th_stats(&th, &st);
    if (st.small_spans != 2 || st.cached_spans != 1) /* the 32-byte span emptied: cached */
        fail_msg("small grow: %zu spans (%zu cached), expected 2 (1)", st.small_spans,
                 st.cached_spans);
    ph_free(&th.h, p); /* freed by the realloc: its span is empty now */
    expect_double_free(&th, &faults, p, "free of the old block after a moving realloc");
    pat_fill(q, 1000, 2);

    /* small shrink to another class */
    p = (char *)ph_realloc(&th.h, q, 50);
    assert_non_null(p);
    assert_ptr_not_equal(p, q);
    KEPT(p, 50, 2, "small shrink");
    assert_int_equal(ph_usable_size(&th.h, p), ph_class_size(ph_size_class(50)));
    pat_fill(p, 50, 3);

    /* small -> large */
    q = (char *)ph_realloc(&th.h, p, 3 * PH_SMALL_MAX);
    assert_non_null(q);
    KEPT(q, 50, 3, "small -> large");
    assert_int_equal((uintptr_t)q % ps, 0);
    assert_int_equal(ph_usable_size(&th.h, q), round_up(3 * PH_SMALL_MAX, ps));
    th_stats(&th, &st);
    if (st.small_spans != st.cached_spans || st.large_objects != 1 || /* only empty spans */
        st.large_pages != round_up(3 * PH_SMALL_MAX, ps) / ps)
        fail_msg("small -> large: %zu spans (%zu cached), %zu large (%zu pages)", st.small_spans,
                 st.cached_spans, st.large_objects, st.large_pages);
    pat_fill(q, 3 * PH_SMALL_MAX, 4);

    /* large -> small */
    p = (char *)ph_realloc(&th.h, q, 300);
    assert_non_null(p);
    KEPT(p, 300, 4, "large -> small");
    assert_int_equal(ph_usable_size(&th.h, p), ph_class_size(ph_size_class(300)));
    ph_free(&th.h, p);
    stats_all_free(&th.h, "large -> small");

    /* large grow in place: nothing after it */
    const size_t n1 = (PH_SMALL_MAX + 1 + ps - 1) / ps; /* pages of PH_SMALL_MAX + 1 */
    char *L = checked_malloc(&th, PH_SMALL_MAX + 1, &u, "L");
    assert_ptr_equal(L, th.ri.base); /* first fit in an empty heap */
    pat_fill(L, u, 5);
    q = (char *)ph_realloc(&th.h, L, 20 * ps - 100);
    if (q != L)
        fail_msg("large grow with free pages after it moved (%p -> %p)", (void *)L, (void *)q);
    KEPT(L, n1 * ps, 5, "large grow in place");
    assert_int_equal(ph_usable_size(&th.h, L), 20 * ps);
    th_stats(&th, &st);
    assert_int_equal(st.large_pages, 20);
    assert_int_equal(st.pages_total - st.pages_free, 20);
    pat_fill(L, 20 * ps, 6);

    /* large grow with a live neighbour: moves */
    char *B = checked_malloc(&th, PH_SMALL_MAX + 1, NULL, "B");
    assert_ptr_equal(B, L + 20 * ps);
    pat_fill(B, n1 * ps, 7);
    q = (char *)ph_realloc(&th.h, L, 30 * ps);
    assert_non_null(q);
    if (q == L)
        fail_msg("large grow over a live neighbour stayed in place");
    KEPT(q, 20 * ps, 6, "large grow moved");
    KEPT(B, n1 * ps, 7, "neighbour of a moved realloc");
    th_stats(&th, &st);
    assert_int_equal(st.large_objects, 2);
    assert_int_equal(st.large_pages, 30 + n1);
    assert_int_equal(st.pages_total - st.pages_free, 30 + n1);
    ph_free(&th.h, L); /* already freed by the move */
    expect_double_free(&th, &faults, L, "free of a large object after a moving realloc");
    L = q;
    pat_fill(L, 30 * ps, 8);

    /* grow into pages that a free just gave back: X, Y at pages 0.., Y freed */
    char *X = checked_malloc(&th, PH_SMALL_MAX + 1, NULL, "X");
    char *Y = checked_malloc(&th, PH_SMALL_MAX + 1, NULL, "Y");
    assert_ptr_equal(X, th.ri.base);
    assert_ptr_equal(Y, X + n1 * ps);
    pat_fill(X, n1 * ps, 9);
    ph_free(&th.h, Y);
    q = (char *)ph_realloc(&th.h, X, 15 * ps);
    if (q != X)
        fail_msg("grow into freed pages moved (%p -> %p)", (void *)X, (void *)q);
    KEPT(X, n1 * ps, 9, "grow into freed pages");
    pat_fill(X, 15 * ps, 9);

    /* large shrink in place, pages given back */
    size_t free_before;
    th_stats(&th, &st);
    free_before = st.pages_free;
    q = (char *)ph_realloc(&th.h, L, PH_SMALL_MAX + 1 + ps);
    if (q != L)
        fail_msg("large shrink moved (%p -> %p)", (void *)L, (void *)q);
    KEPT(L, PH_SMALL_MAX + 1 + ps, 8, "large shrink");
    assert_int_equal(ph_usable_size(&th.h, L), (n1 + 1) * ps);
    th_stats(&th, &st);
    assert_int_equal(st.pages_free, free_before + 30 - (n1 + 1));
    assert_int_equal(st.large_pages, 15 + n1 + n1 + 1);
    th_accounting(&th, 0, "large shrink");
    CHECK_OK(&th.h, "large shrink");

    /* failures: NULL, old block intact, nothing changed */
    char *s = checked_malloc(&th, 200, &u, "s");
    pat_fill(s, u, 10);
    pat_fill(L, (n1 + 1) * ps, 8);
    const size_t huge[] = { SIZE_MAX, SIZE_MAX - ps, SIZE_MAX / 2, (th.st0.pages_total + 1) * ps,
                            th.st0.pages_total * ps };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "realloc(small, %zu)", huge[i]);
        realloc_fails(&th, s, huge[i], 10, what);
        snprintf(what, sizeof what, "realloc(large, %zu)", huge[i]);
        realloc_fails(&th, L, huge[i], 8, what);
    }
    /* a full heap: growing into another class fails, a shrink stays put */
    size_t held = 0;
    char **pgs = (char **)calloc(th.st0.pages_total, sizeof *pgs);
    while ((pgs[held] = (char *)ph_page_alloc(&th.h, 1)) != NULL)
        held++;
    th_accounting(&th, held, "heap full");
    realloc_fails(&th, s, 2000, 10, "realloc(small 200 -> 2000), heap full");
    realloc_fails(&th, L, (n1 + 2) * ps, 8, "realloc(large grow), heap full");
    realloc_fails(&th, B, 16 * ps, 7, "realloc(large grow, neighbour live)");
    realloc_fails(&th, X, 16 * ps, 9, "realloc(large grow, heap full)");
    q = (char *)ph_realloc(&th.h, L, 100); /* cannot move to a class: stays, still valid */
    if (q == NULL)
        fail_msg("a shrink of a large object to 100 bytes on a full heap returned NULL");
    KEPT(q, 100, 8, "shrink on a full heap");
    L = q;
    th_accounting(&th, held, "heap full");
    for (size_t i = 0; i < held; i++)
        ph_page_free(&th.h, pgs[i], 1);
    free(pgs);
    assert_int_equal(th.t.faults, faults);
    th_accounting(&th, 0, "page API pages freed");

    /* realloc(p, 0): p freed, a unique pointer back */
    ph_free(&th.h, L);
    ph_free(&th.h, B);
    ph_free(&th.h, X);
    ph_free(&th.h, s);
    stats_all_free(&th.h, "before realloc(p, 0)");
    p = checked_malloc(&th, 1000, NULL, "p for realloc(p, 0)");
    q = (char *)ph_realloc(&th.h, p, 0);
    if (q == NULL)
        fail_msg("realloc(p, 0) returned NULL");
    assert_ptr_not_equal(q, p);
    th_stats(&th, &st);
    assert_int_equal(st.small_spans - st.cached_spans, 1); /* p's span emptied (cached) */
    ph_free(&th.h, p);
    expect_double_free(&th, &faults, p, "free after realloc(p, 0)");
    char *q2 = (char *)ph_realloc(&th.h, q, 0); /* of a malloc(0) object: still valid */
    assert_non_null(q2);
    ph_free(&th.h, q2);
    th_stats(&th, &st);
    assert_int_equal(st.faults, faults);
    th_close(&th, "realloc");
}

/* ---- aligned_alloc ------------------------------------------------------------------ */

static void test_aligned_alloc(void **state)
{
    (void)state;
    static const size_t pss[] = { 64, 4096, 65536 };
    pat_init();
    for (size_t k = 0; k < sizeof pss / sizeof pss[0]; k++) {
        const size_t ps = pss[k];
        theap th;
        ph_stats a, b;
        uint64_t id = 0;
        th_open(&th, ps, (8u << 20) / ps);
        for (size_t align = 1; align <= 65536; align *= 2) {
            const size_t sizes[] = { 0, 1, align / 2 + 1, align - 1, align, align + 1,
                                     3 * align + 5, 200, PH_SMALL_MAX, PH_SMALL_MAX + 1 };
            obj o[sizeof sizes / sizeof sizes[0] * 2];
            size_t n = 0;
            for (size_t rep = 0; rep < 2; rep++)
                for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                    size_t sz = sizes[i];
                    char what[96];
                    snprintf(what, sizeof what, "page %zu: ph_aligned_alloc(%zu, %zu)", ps, align,
                             sz);
                    char *p = (char *)ph_aligned_alloc(&th.h, align, sz);
                    if (p == NULL)
                        fail_msg("%s returned NULL", what);
                    if ((uintptr_t)p % align != 0 || (uintptr_t)p % PH_ALIGN != 0)
                        fail_msg("%s = %p: misaligned", what, (void *)p);
                    size_t u = ph_usable_size(&th.h, p);
                    if (u < sz)
                        fail_msg("%s: usable size %zu", what, u);
                    if (align > 64 && (u != round_up(sz ? sz : 1, ps) || (uintptr_t)p % ps))
                        fail_msg("%s: a page run expected, usable %zu", what, u);
                    th_inside(&th, p, u, what);
                    o[n].p = p;
                    o[n].req = sz;
                    o[n].usable = u;
                    o[n].id = id++;
                    pat_fill(p, u, o[n].id);
                    n++;
                }
            check_no_overlap(o, n, "aligned");
            th_accounting(&th, 0, "aligned");
            CHECK_OK(&th.h, "aligned");
            for (size_t i = 0; i < n; i++)
                ph_free(&th.h, o[i].p);
            stats_all_free(&th.h, "aligned objects freed");
        }
        /* not a power of two: NULL, no fault, no change; huge: NULL, no change */
        const size_t bad[] = { 0, 3, 5, 6, 7, 12, 24, 48, 96, 100, 4095, 4097, 65537, 3u << 20,
                               SIZE_MAX, SIZE_MAX / 2, (SIZE_MAX / 2) + 2 };
        size_t heap_pow2 = 1;
        while (heap_pow2 < th.ri.npages * ps * 2)
            heap_pow2 <<= 1;
        const size_t huge[] = { (size_t)1 << (sizeof(size_t) * 8 - 1),
                                (size_t)1 << (sizeof(size_t) * 8 - 2), (size_t)1 << 31,
                                heap_pow2 };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0] + sizeof huge / sizeof huge[0]; i++) {
            size_t al = i < sizeof bad / sizeof bad[0] ? bad[i] : huge[i - sizeof bad / sizeof bad[0]];
            char what[96];
            snprintf(what, sizeof what, "page %zu: ph_aligned_alloc(%zu, 64)", ps, al);
            th_stats(&th, &a);
            void *p = ph_aligned_alloc(&th.h, al, 64);
            th_stats(&th, &b);
            if (p != NULL)
                fail_msg("%s returned %p, expected NULL", what, p);
            stats_all_assert(&a, &b, 0, what);
            lock_ok(&th.t, what);
        }
        assert_int_equal(th.t.faults, 0);
        th_close(&th, "aligned_alloc");
    }
}

/* ---- large objects ------------------------------------------------------------------ */

static void test_large_objects(void **state)
{
    (void)state;
    static const size_t pss[] = { 64, 256, 4096, 65536 };
    pat_init();
    for (size_t k = 0; k < sizeof pss / sizeof pss[0]; k++) {
        const size_t ps = pss[k];
        theap th;
        ph_stats st;
        obj o[64];
        size_t n = 0, pages = 0;
        th_open(&th, ps, (12u << 20) / ps);
        size_t sizes[40] = { PH_SMALL_MAX + 1, PH_SMALL_MAX + ps, 2 * PH_SMALL_MAX,
                             4 * PH_SMALL_MAX + 3, (size_t)1 << 20, 3 * ps + 1 + PH_SMALL_MAX };
        size_t ns = 6;
        /* classes without a span at this page size are page runs too */
        for (unsigned c = 0; c < PH_NCLASSES && ns < 40; c++)
            if (ph_class_span_objects(&th.h, c) == 0) {
                sizes[ns++] = ph_class_size(c);
                sizes[ns++] = ph_class_size(c) - PH_ALIGN + 1;
            }
        for (size_t i = 0; i < ns; i++) {
            char what[96];
            snprintf(what, sizeof what, "page %zu: large ph_malloc(%zu)", ps, sizes[i]);
            assert_false(expect_small(&th.h, sizes[i]));
            o[n].p = checked_malloc(&th, sizes[i], &o[n].usable, what);
            if ((uintptr_t)o[n].p % ps != 0 || o[n].usable != round_up(sizes[i], ps))
                fail_msg("%s = %p, usable %zu: expected page aligned, %zu", what,
                         (void *)o[n].p, o[n].usable, round_up(sizes[i], ps));
            o[n].req = sizes[i];
            o[n].id = 1000 + n;
            pat_fill(o[n].p, o[n].usable, o[n].id);
            pages += o[n].usable / ps;
            n++;
            th_stats(&th, &st);
            if (st.large_objects != n || st.large_pages != pages || st.small_spans != 0)
                fail_msg("%s: %zu large objects (%zu pages), expected %zu (%zu)", what,
                         st.large_objects, st.large_pages, n, pages);
            th_accounting(&th, 0, what);
        }
        check_no_overlap(o, n, "large");
        CHECK_OK(&th.h, "large");
        for (size_t i = 0; i < n; i++) {
            size_t j = (i * 5 + 3) % n;
            while (o[j].p == NULL)
                j = (j + 1) % n;
            PAT_CHECK(o[j].p, o[j].usable, o[j].id, "large object changed");
            ph_free(&th.h, o[j].p);
            pages -= o[j].usable / ps;
            o[j].p = NULL;
            th_stats(&th, &st);
            if (st.large_objects != n - i - 1 || st.large_pages != pages)
                fail_msg("page %zu: after %zu frees: %zu large objects (%zu pages)", ps, i + 1,
                         st.large_objects, st.large_pages);
        }
        assert_int_equal(th.t.faults, 0);
        th_close(&th, "large objects");
    }
}

/* ---- empty spans go back at once ---------------------------------------------------- */

static void test_empty_spans(void **state)
{
    (void)state;
    static const size_t pss[] = { 256, 4096 };
    pat_init();
    for (size_t k = 0; k < 2; k++) {
        const size_t ps = pss[k];
        theap th;
        ph_stats st;
        char *one[PH_NCLASSES];
        size_t spans = 0, freed = 0;
        th_open(&th, ps, (8u << 20) / ps);
        /* one object per class: one span each */
        for (unsigned c = 0; c < PH_NCLASSES; c++) {
            one[c] = NULL;
            if (ph_class_span_objects(&th.h, c) == 0)
                continue;
            one[c] = checked_malloc(&th, ph_class_size(c), NULL, "one per class");
            spans++;
            th_stats(&th, &st);
            if (st.small_spans != spans)
                fail_msg("class %u: %zu spans, expected %zu", c, st.small_spans, spans);
        }
        for (unsigned c = PH_NCLASSES; c-- > 0;) {
            if (one[c] == NULL)
                continue;
            size_t used = th_used(&th), cached_before = st.cached_bytes;
            size_t n = ph_class_span_pages(&th.h, c);
            /* each class keeps its one empty span while the cache's budget lasts */
            bool cache = cached_before / ps + n <= st.pages_total >> PH_CACHE_SHIFT &&
                         st.pages_free >= st.pages_total >> 3;
            ph_free(&th.h, one[c]);
            th_stats(&th, &st);
            freed += cache;
            spans -= !cache;
            if (st.small_spans != spans || st.pages_total - st.pages_free != used - !cache * n ||
                st.cached_spans != freed || st.cached_bytes != cached_before + cache * n * ps)
                fail_msg("class %u (cached: %d): freeing the only object left %zu spans (%zu cached), "
                         "%zu pages used", c, (int)cache, st.small_spans, st.cached_spans,
                         st.pages_total - st.pages_free);
        }
        th_stats(&th, &st);
        if (st.cached_spans != spans || st.small_spans != spans || freed == 0)
            fail_msg("one per class: %zu spans cached of %zu", st.cached_spans, spans);
        stats_all_free(&th.h, "one per class");

        /* many objects, random sizes and order */
        rng_t r;
        rng_seed(&r, test_seed("objects/empty_spans", 0xE3B7ULL + k));
        enum { N = 3000 };
        obj *o = (obj *)calloc(N, sizeof *o);
        for (size_t i = 0; i < N; i++) {
            size_t sz = rng_pct(&r, 95) ? rng_range(&r, 0, 512)
                                        : rng_range(&r, 513, PH_SMALL_MAX + 2 * ps);
            o[i].p = checked_malloc(&th, sz, &o[i].usable, "empty spans");
            o[i].id = i;
            pat_fill(o[i].p, o[i].usable, i);
        }
        check_no_overlap(o, N, "empty spans");
        for (size_t i = N; i > 1; i--) {
            size_t j = rng_below(&r, i);
            obj t = o[i - 1];
            o[i - 1] = o[j];
            o[j] = t;
        }
        for (size_t i = 0; i < N; i++) {
            PAT_CHECK(o[i].p, o[i].usable, o[i].id, "empty spans: object changed");
            ph_free(&th.h, o[i].p);
            th_accounting(&th, 0, "empty spans");
            if (i % 500 == 0)
                CHECK_OK(&th.h, "empty spans");
        }
        free(o);
        /* the whole map is free again, once the cache went back */
        assert_int_equal(ph_scavenge(&th.h, 0), 0);
        walk_log w = { 0 };
        walk_take(&th.h, &w);
        for (size_t i = 0; i < w.n; i++)
            if (w.runs[i].state != PH_PAGES_META && w.runs[i].state != PH_PAGES_FREE)
                fail_msg("run %zu (%p, %zu pages) in state %d after every object was freed", i,
                         w.runs[i].base, w.runs[i].npages, w.runs[i].state);
        walk_free(&w);
        assert_int_equal(th.t.faults, 0);
        th_close(&th, "empty spans");
    }
}

/* ---- the empty-span cache ------------------------------------------------------------ */

/* One span a class stays cached when it empties; a refill takes it back
 * without a page allocation; the lowest of two empty spans is the one kept;
 * ph_idle and ph_scavenge(h, 0) give it back; an allocation that needs its
 * pages gets them, and one that fails even then changes nothing else. */
static void test_span_cache(void **state)
{
    (void)state;
    const size_t ps = 256, sz = 200;
    theap th;
    ph_stats st, st2;
    th_open(&th, ps, 512); /* the cache's budget: 32 pages */
    const unsigned c = ph_size_class(sz);
    const size_t per = ph_class_span_objects(&th.h, c), pages = ph_class_span_pages(&th.h, c);
    assert_true(per >= 2 && per < 64);
    char *first[64] = { 0 }, *second[64] = { 0 };

    /* a class that empties and refills one span: no page traffic after the first */
    char *p = checked_malloc(&th, sz, NULL, "cycle");
    ph_free(&th.h, p);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    assert_int_equal(st.cached_bytes, pages * ps);
    assert_int_equal(st.pages_total - st.pages_free, pages);
    for (int i = 0; i < 100; i++) {
        char *q = checked_malloc(&th, sz, NULL, "cycle");
        if (q != p)
            fail_msg("cycle %d: %p from another place than the cached span's %p", i, (void *)q,
                     (void *)p);
        th_stats(&th, &st2);
        assert_int_equal(st2.cached_spans, 0);
        assert_int_equal(st2.pages_free, st.pages_free); /* no page allocation */
        ph_free(&th.h, q);
    }
    CHECK_OK(&th.h, "cycle");

    /* two spans of the class empty: the lower is kept, the higher goes back */
    for (size_t i = 0; i < per; i++)
        first[i] = checked_malloc(&th, sz, NULL, "first span");
    for (size_t i = 0; i < per; i++)
        second[i] = checked_malloc(&th, sz, NULL, "second span");
    assert_true(second[0] > first[0]);
    th_stats(&th, &st);
    assert_int_equal(st.small_spans, 2);
    for (size_t i = 0; i < per; i++)
        ph_free(&th.h, second[i]); /* the higher one empties first: cached */
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    assert_int_equal(st.small_spans, 2);
    for (size_t i = 0; i < per; i++)
        ph_free(&th.h, first[i]); /* the lower one empties: cached, the higher back */
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    assert_int_equal(st.small_spans, 1);
    assert_int_equal(st.pages_total - st.pages_free, pages);
    p = checked_malloc(&th, sz, NULL, "from the kept span");
    if (p != first[0])
        fail_msg("the cache kept the higher span: %p, the lower one was at %p", (void *)p,
                 (void *)first[0]);
    ph_free(&th.h, p);

    /* ph_idle gives the cache back (nothing to release: granule 0) */
    assert_int_equal(ph_idle(&th.h), 0);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 0);
    assert_int_equal(st.pages_free, st.pages_total);

    /* an allocation that needs the cached span's pages gets them */
    p = checked_malloc(&th, sz, NULL, "to cache");
    ph_free(&th.h, p);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    size_t rest = st.pages_free;
    char *big = (char *)ph_page_alloc(&th.h, rest + pages);
    assert_non_null(big);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 0);
    assert_int_equal(st.pages_free, 0);
    ph_page_free(&th.h, big, rest + pages);
    /* ... one larger than every free and cached page together fails at
     * once and changes nothing, the cache included ... */
    p = checked_malloc(&th, sz, NULL, "to cache");
    ph_free(&th.h, p);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    assert_null(ph_malloc(&th.h, (st.pages_total + 1) * ps));
    th_stats(&th, &st2);
    stats_all_assert(&st, &st2, 0, "malloc larger than the heap");
    /* ... and one that fits in the free and cached pages but in no run of
     * them (a page in use right after the cached span) gives the cache
     * back, fails, and changes nothing else */
    char *mid = (char *)ph_page_alloc(&th.h, 1);
    assert_ptr_equal(mid, (char *)th.ri.base + pages * ps); /* the span is at the base */
    th_stats(&th, &st);
    assert_null(ph_malloc(&th.h, (st.pages_free + pages) * ps));
    th_stats(&th, &st2);
    assert_int_equal(st2.cached_spans, 0);
    stats_failed_assert(&st, &st2, "failed malloc");
    ph_page_free(&th.h, mid, 1);
    th_stats(&th, &st2);
    assert_int_equal(st2.pages_free, st2.pages_total);
    CHECK_OK(&th.h, "span cache");
    th_close(&th, "span cache");
}

/* ---- the page API and the object API do not mix ------------------------------------- */

/* op() must raise exactly one fault (code, address p) and change nothing
 * but the fault count. */
#define REFUSED(th, p, code, op, what)                                                     \
    do {                                                                                   \
        ph_stats a_, b_;                                                                   \
        size_t f_ = (th)->t.faults;                                                        \
        th_stats((th), &a_);                                                               \
        op;                                                                                \
        th_stats((th), &b_);                                                               \
        if ((th)->t.faults != f_ + 1 || (th)->t.last_code != (code) ||                     \
            (th)->t.last_addr != (const void *)(p))                                        \
            fail_msg("%s: %zu faults, last code %d at %p; expected one, code %d at %p",    \
                     (what), (th)->t.faults - f_, (th)->t.last_code, (th)->t.last_addr,    \
                     (int)(code), (const void *)(p));                                      \
        stats_all_assert(&a_, &b_, 1, (what));                                             \
        CHECK_OK(&(th)->h, (what));                                                        \
        lock_ok(&(th)->t, (what));                                                         \
    } while (0)

static void test_page_object_mixing(void **state)
{
    (void)state;
    static const size_t pss[] = { 256, 4096 };
    pat_init();
    for (size_t k = 0; k < 2; k++) {
        const size_t ps = pss[k];
        theap th;
        size_t us, ul;
        th_open(&th, ps, 512);
        char *pg = (char *)ph_page_alloc(&th.h, 3);
        char *s = checked_malloc(&th, 48, &us, "small");
        char *s2 = checked_malloc(&th, 48, NULL, "small 2");
        char *L = checked_malloc(&th, PH_SMALL_MAX + ps + 1, &ul, "large");
        assert_non_null(pg);
        pat_fill(pg, 3 * ps, 1);
        pat_fill(s, us, 2);
        pat_fill(s2, us, 3);
        pat_fill(L, ul, 4);
        char *span = (char *)((uintptr_t)s & ~(uintptr_t)(ps - 1));
        /* first fit: the page run, the span, the large object, in a row */
        assert_ptr_equal(pg, th.ri.base);
        assert_ptr_equal(span, pg + 3 * ps);
        assert_true(span != s); /* the header is at the span's start */
        unsigned c48 = ph_size_class(48);
        size_t span_pages = ph_class_span_pages(&th.h, c48);
        assert_ptr_equal(L, span + span_pages * ps);

        /* object calls on page API memory */
        REFUSED(&th, pg, PH_FAULT_BAD_POINTER, ph_free(&th.h, pg), "ph_free(page run)");
        REFUSED(&th, pg + ps, PH_FAULT_BAD_POINTER, ph_free(&th.h, pg + ps),
                "ph_free(page run + 1 page)");
        REFUSED(&th, pg, PH_FAULT_BAD_POINTER, assert_int_equal(ph_usable_size(&th.h, pg), 0),
                "ph_usable_size(page run)");
        REFUSED(&th, pg, PH_FAULT_BAD_POINTER, assert_null(ph_realloc(&th.h, pg, 10)),
                "ph_realloc(page run)");
        /* page calls on object memory */
        REFUSED(&th, span, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, span, 1),
                "ph_page_free(span page)");
        REFUSED(&th, span, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, span, span_pages),
                "ph_page_free(whole span)");
        REFUSED(&th, L, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, L, 1),
                "ph_page_free(large object's first page)");
        REFUSED(&th, L + ps, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, L + ps, 1),
                "ph_page_free(large object's second page)");
        REFUSED(&th, L, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, L, ul / ps),
                "ph_page_free(large object, all its pages)");
        REFUSED(&th, pg, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, pg, 3 + ul / ps + span_pages),
                "ph_page_free(page run and object pages after it)");
        REFUSED(&th, pg, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, pg, 4),
                "ph_page_free(page run + one object page)");
        PAT_CHECK(pg, 3 * ps, 1, "page run changed");
        PAT_CHECK(s, us, 2, "small object changed");
        PAT_CHECK(s2, us, 3, "small object 2 changed");
        PAT_CHECK(L, ul, 4, "large object changed");
        assert_int_equal(ph_usable_size(&th.h, s), us);
        assert_int_equal(ph_usable_size(&th.h, L), ul);
        ph_page_free(&th.h, pg, 3);
        ph_free(&th.h, s);
        ph_free(&th.h, s2);
        ph_free(&th.h, L);
        ph_stats st;
        th_stats(&th, &st);
        assert_int_equal(st.faults, th.t.faults);
        th_close(&th, "mixing");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_sizes),
        cmocka_unit_test(test_class_spans),
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_span_packing),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_realloc_paths),
        cmocka_unit_test(test_aligned_alloc),
        cmocka_unit_test(test_large_objects),
        cmocka_unit_test(test_empty_spans),
        cmocka_unit_test(test_span_cache),
        cmocka_unit_test(test_page_object_mixing),
    };
    return cmocka_run_group_tests_name("objects", tests, NULL, NULL);
}
