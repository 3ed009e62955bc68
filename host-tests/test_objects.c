/* SPDX-License-Identifier: MIT */
/*
 * test_objects.c: unit and table tests of the object layer (API.md
 * "Objects", pageheap.h "objects (the malloc family)", core/src/ph_object.c:
 * fit arenas carved into boundary-tag chunks).
 *
 *   chunk sizes    every request size 0 .. PH_SMALL_MAX on 64 B .. 64 KiB
 *                  pages: the chunk (size + header rounded to PH_ALIGN, at
 *                  least PH_FIT_MIN), the usable size (the chunk less its
 *                  header, or the whole arena when the rest is too small to
 *                  split off), the arena's pages (min(PH_FIT_ARENA, heap /
 *                  16), at least what the chunk needs), the first object at
 *                  the arena's start + PH_ALIGN; larger sizes are page runs
 *   basics         malloc(0), free(NULL), usable_size(NULL), alignment,
 *                  usable sizes, small objects inside an arena's chunks,
 *                  page runs outside, no overlap
 *   fit packing    N objects of one size fill an arena exactly as the chunk
 *                  arithmetic says, all inside it; the next one makes the
 *                  arena grow over the run after it (its free rest joined,
 *                  the object there), ph_free of it trims nothing,
 *                  ph_scavenge(h, 0) gives the free tail's whole pages back;
 *                  the arena empties (evens, then odds) only with the last
 *                  free
 *   coalescing     three adjacent chunks freed in each of the 6 orders: one
 *                  free chunk (white box), pointers into it refused as
 *                  double frees, a malloc of their sum back at the first
 *   LIFO           a chunk freed is the next one of its size handed out
 *   calloc         zeroes memory that held garbage; overflow -> NULL and no
 *                  change
 *   realloc        every path: NULL, shrink in place (tail split off or
 *                  not) for every size below a chunk, grow into a free
 *                  next chunk (whole or split), into the arena's free rest,
 *                  moved past a live neighbour, small <-> large, large grow
 *                  in place / moved, large shrink in place, failure (NULL,
 *                  old block intact, no change), a shrink that cannot move
 *                  stays, realloc(p, 0)
 *   aligned_alloc  every power of two 1 .. 64 KiB with several sizes and
 *                  page sizes: below the page size a chunk of an arena,
 *                  else (or past PH_SMALL_MAX) a page run; bad alignments
 *                  -> NULL, no fault
 *   large objects  page aligned, usable = whole pages, counted
 *   empty arenas   one arena per object (a page API page between them),
 *                  freed from the top and from the
 *                  bottom: the lowest empty one is cached, the others go
 *                  back at once; random objects all freed leave every page
 *                  free after ph_scavenge(h, 0)
 *   arena cache    reuse without page traffic, the lowest kept, ph_idle and
 *                  ph_scavenge(h, 0) flush it, not kept over budget or with
 *                  less than 1/8 of the heap free, page allocations and
 *                  failing mallocs take it back (a failed call changes no
 *                  statistic but the cache's)
 *   arena merge    arenas that meet are one: an arena grows over the run
 *                  after it (its free rest joined, a malloc of the joined
 *                  size served there), a run freed below an arena joins it,
 *                  a run between two joins both; a page API page keeps
 *                  arenas apart
 *   trim           ph_scavenge(h, 0) and ph_idle (never ph_free) give back
 *                  the whole pages of free chunks worth an arena, exactly
 *                  as fit_trim's rules say: a middle stretch splits the
 *                  arena in two, the head and the tail shrink it, a smaller
 *                  stretch stays; contents kept; every page free in the end
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
    /* metadata: the core's own formula (a header, the bitmaps, the index,
     * a page-map byte per page and the anchor bytes), then a page of slack */
    th->len = npages * ps +
              round_up(ph_region_meta_bytes(npages, (uint32_t)__builtin_ctzll(ps)), ps) + ps;
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


/* ---- chunk sizes -------------------------------------------------------------------- */

/* Usable bytes of the first object of cs bytes carved from a fresh arena
 * of `pages` pages: the chunk less its header, or the whole arena's chunk
 * when the rest would be smaller than PH_FIT_MIN. */
static size_t first_usable(size_t cs, size_t pages, size_t ps)
{
    size_t t = pages * ps - PH_ALIGN;
    return t - cs >= PH_FIT_MIN ? cs - PH_FIT_HDR : t - PH_FIT_HDR;
}

static void test_chunk_sizes(void **state)
{
    (void)state;
    static const size_t pss[] = { 64, 256, 4096, 65536 };

    /* the constants the layer is built on */
    assert_int_equal(PH_ALIGN % 8, 0);
    assert_true(PH_ALIGN >= 2 * sizeof(void *));
    assert_int_equal(PH_FIT_HDR, sizeof(size_t));
    assert_int_equal(PH_FIT_MIN, 2 * PH_ALIGN);
    assert_true(PH_SMALL_MAX >= 256 && PH_SMALL_MAX <= 32768 &&
                (PH_SMALL_MAX & (PH_SMALL_MAX - 1)) == 0);
    /* the model: monotone, multiples of PH_ALIGN, the header fits, waste < PH_ALIGN */
    for (size_t n = 0, prev = 0; n <= PH_SMALL_MAX; n++) {
        size_t cs = fit_chunk(n);
        if (cs < prev || cs % PH_ALIGN != 0 || cs < n + PH_FIT_HDR || cs < PH_FIT_MIN ||
            (cs > PH_FIT_MIN && cs >= n + PH_FIT_HDR + PH_ALIGN))
            fail_msg("model: fit_chunk(%zu) = %zu", n, cs);
        prev = cs;
    }
    assert_int_equal(fit_chunk(0), PH_FIT_MIN);

    pat_init();
    for (size_t k = 0; k < sizeof pss / sizeof pss[0]; k++) {
        const size_t ps = pss[k];
        theap th;
        ph_stats st;
        size_t cached = 0; /* pages of the cached arena, 0: none */
        /* 2 MiB: the arena is PH_FIT_ARENA (or a page) and fits the cache's budget */
        th_open(&th, ps, (2u << 20) / ps);
        const size_t total = th.st0.pages_total;
        for (size_t n = 0; n <= PH_SMALL_MAX + 1; n++) {
            char what[96];
            size_t cs = fit_chunk(n);
            snprintf(what, sizeof what, "page %zu, ph_malloc(%zu) (chunk %zu)", ps, n, cs);
            if (n > PH_SMALL_MAX)
                assert_int_equal(ph_scavenge(&th.h, 0), 0); /* the cached arena back */
            char *p = (char *)ph_malloc(&th.h, n);
            if (p == NULL)
                fail_msg("%s returned NULL", what);
            size_t u = ph_usable_size(&th.h, p);
            th_stats(&th, &st);
            if (n > PH_SMALL_MAX) { /* the first size past the arenas: a page run */
                if (st.large_objects != 1 || p != th.ri.base || u != round_up(n, ps) ||
                    st.small_spans != 0)
                    fail_msg("%s = %p: usable %zu, %zu large objects, %zu arenas", what,
                             (void *)p, u, st.large_objects, st.small_spans);
                ph_free(&th.h, p);
                break;
            }
            /* the cached arena when its chunk holds cs, else a new one at the same place */
            size_t pages = cached != 0 && cached * ps - PH_ALIGN >= cs
                               ? cached
                               : fit_arena_pages(cs, ps, total);
            if (st.small_spans != 1 || st.small_span_pages != pages || st.large_objects != 0 ||
                st.cached_spans != 0 || st.pages_total - st.pages_free != pages)
                fail_msg("%s: %zu arenas of %zu pages (expected 1 of %zu), %zu large, %zu "
                         "cached, %zu pages used", what, st.small_spans, st.small_span_pages,
                         pages, st.large_objects, st.cached_spans, st.pages_total - st.pages_free);
            if (p != (char *)th.ri.base + PH_ALIGN)
                fail_msg("%s = %p, expected the arena's start %p + PH_ALIGN", what, (void *)p,
                         th.ri.base);
            if (u != first_usable(cs, pages, ps) || !usable_ok(&th.h, n, ps, u))
                fail_msg("%s: usable size %zu, expected %zu (arena of %zu pages)", what, u,
                         first_usable(cs, pages, ps), pages);
            /* every usable byte is the caller's: fill them (the ends of large
             * ones), the headers around must not notice */
            if (u <= 1024) {
                memset(p, 0xA7, u);
            } else {
                memset(p, 0xA7, 512);
                memset(p + u - 512, 0xA7, 512);
            }
            if (n % 61 == 0 || n < 2 * PH_FIT_MIN || u != cs - PH_FIT_HDR)
                CHECK_OK(&th.h, what);
            ph_free(&th.h, p);
            th_stats(&th, &st);
            /* the arena emptied: the cache keeps it (within budget, the heap free) */
            if (st.cached_spans != 1 || st.cached_bytes != pages * ps || st.small_spans != 1 ||
                st.pages_total - st.pages_free != pages)
                fail_msg("%s: freed: %zu arenas, %zu cached (%zu B), %zu pages used", what,
                         st.small_spans, st.cached_spans, st.cached_bytes,
                         st.pages_total - st.pages_free);
            cached = pages;
        }
        assert_int_equal(th.t.faults, 0);
        th_close(&th, "chunk sizes");
    }
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
                 expect_small(&th->h, n) ? " (up to PH_FIT_MIN - PH_ALIGN more)" : "");
    if (!expect_small(&th->h, n) && (uintptr_t)p % th->ps != 0)
        fail_msg("%s: page-run object %p (%zu bytes) not page aligned", what, (void *)p, n);
    th_inside(th, p, u, what);
    uintptr_t as = 0, ae = 0;
    bool in_arena = wb_arena_of(&th->h, p, &as, &ae);
    if (expect_small(&th->h, n) &&
        (!in_arena || (uintptr_t)p < as + PH_ALIGN || (uintptr_t)p + u > ae - PH_FIT_HDR))
        fail_msg("%s: small object [%p, +%zu) not inside the chunks of an arena", what,
                 (void *)p, u);
    if (!expect_small(&th->h, n) && in_arena)
        fail_msg("%s: page-run object %p inside an arena", what, (void *)p);
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

/* ---- fit packing ------------------------------------------------------------------ */

/* How many chunks of cs bytes a fresh arena of `pages` pages hands out
 * before it has no room for one more (each carved from the rest, the last
 * one taking the rest whole when what would remain is smaller than
 * PH_FIT_MIN); the bytes they take in *taken. */
static size_t arena_fits(size_t cs, size_t pages, size_t ps, size_t *taken)
{
    size_t s = pages * ps - PH_ALIGN, n = 0;
    *taken = 0;
    while (s >= cs) {
        size_t t = s - cs >= PH_FIT_MIN ? cs : s;
        n++;
        *taken += t;
        s -= t;
    }
    return n;
}

static void test_fit_packing(void **state)
{
    (void)state;
    static const size_t pss[] = { 64, 256, 4096, 65536 };
    static const size_t sizes[] = { 0, 1, PH_FIT_MIN - PH_FIT_HDR, PH_FIT_MIN - PH_FIT_HDR + 1,
                                    24, 40, 100, 200, 500, 1000, 1500, 2000, 2040, 4000,
                                    PH_SMALL_MAX / 2, PH_SMALL_MAX };
    pat_init();
    for (size_t k = 0; k < sizeof pss / sizeof pss[0]; k++) {
        theap th;
        const size_t ps = pss[k];
        th_open(&th, ps, (4u << 20) / ps);
        const size_t total = th.st0.pages_total;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            const size_t sz = sizes[si], cs = fit_chunk(sz);
            const size_t pages = fit_arena_pages(cs, ps, total);
            size_t taken, n = arena_fits(cs, pages, ps, &taken), sum = 0;
            const uintptr_t lo = (uintptr_t)th.ri.base, hi = lo + pages * ps;
            ph_stats st;
            char what[128];
            snprintf(what, sizeof what, "page %zu, %zu-byte objects (chunk %zu, arena %zu pages, "
                     "%zu objects)", ps, sz, cs, pages, n);
            char **p = (char **)calloc(n + 1, sizeof *p);
            size_t *u = (size_t *)calloc(n + 1, sizeof *u);
            assert_true(n >= 1);
            for (size_t i = 0; i < n; i++) {
                p[i] = checked_malloc(&th, sz, &u[i], what);
                if ((uintptr_t)p[i] < lo + PH_ALIGN || (uintptr_t)p[i] + u[i] > hi - PH_FIT_HDR)
                    fail_msg("%s: object %zu at %p (+%zu) is outside the first arena's chunks "
                             "[%p, %p)", what, i, (void *)p[i], u[i], (void *)(lo + PH_ALIGN),
                             (void *)(hi - PH_FIT_HDR));
                sum += u[i] + PH_FIT_HDR;
                pat_fill(p[i], u[i], i);
                th_stats(&th, &st);
                if (st.small_spans != 1 || st.small_span_pages != pages)
                    fail_msg("%s: after %zu objects: %zu arenas (%zu pages), expected one arena",
                             what, i + 1, st.small_spans, st.small_span_pages);
            }
            if (p[0] != (char *)lo + PH_ALIGN)
                fail_msg("%s: the first object at %p, not the arena's start + PH_ALIGN", what,
                         (void *)p[0]);
            if (sum != taken)
                fail_msg("%s: the objects' chunks take %zu bytes of the arena, expected %zu", what,
                         sum, taken);
            {
                oset os = { 0 };
                for (size_t i = 0; i < n; i++)
                    oset_add(&os, (uintptr_t)p[i], u[i], i, what);
                oset_free(&os);
            }
            CHECK_OK(&th.h, what);
            /* the next one needs more pages: the run right after the arena,
             * which grows over it (arenas that meet merge), the arena's free
             * rest (0 or at least PH_FIT_MIN bytes) joined to the new memory,
             * so the object lands where that rest starts */
            p[n] = checked_malloc(&th, sz, &u[n], what);
            if ((uintptr_t)p[n] != lo + PH_ALIGN + taken)
                fail_msg("%s: object %zu of a full arena at %p, expected %p (the arena's rest, "
                         "joined to the pages after it)", what, n, (void *)p[n],
                         (void *)(lo + PH_ALIGN + taken));
            th_stats(&th, &st);
            if (st.small_spans != 1 || st.small_span_pages != 2 * pages)
                fail_msg("%s: after the arena filled: %zu arenas, %zu pages (expected one arena "
                         "of %zu)", what, st.small_spans, st.small_span_pages, 2 * pages);
            CHECK_OK(&th.h, what);
            for (size_t i = 0; i < n; i++)
                PAT_CHECK(p[i], u[i], i, "%s: object %zu changed", what, i);
            ph_free(&th.h, p[n]); /* a free tail of the merged arena: ph_free trims nothing */
            th_stats(&th, &st);
            if (st.small_spans != 1 || st.cached_spans != 0 || st.small_span_pages != 2 * pages ||
                st.pages_free != st.pages_total - 2 * pages)
                fail_msg("%s: ph_free of the tail object: %zu arenas (%zu pages), %zu cached, "
                         "%zu of %zu pages free", what, st.small_spans, st.small_span_pages,
                         st.cached_spans, st.pages_free, st.pages_total);
            /* ph_scavenge(h, 0) trims the free tail: the arena ends at the
             * first page fit_trim may cut at (at most hi: the rest is 0 or at
             * least PH_FIT_MIN bytes, so at least `pages` >= an arena go) */
            const size_t kept = (fit_trim_lo(lo + PH_ALIGN + taken, ps) - lo) / ps;
            assert_true(kept >= 1 && kept <= pages);
            assert_int_equal(ph_scavenge(&th.h, 0), 0);
            th_stats(&th, &st);
            if (st.small_spans != 1 || st.cached_spans != 0 || st.small_span_pages != kept ||
                st.pages_free != st.pages_total - kept)
                fail_msg("%s: free tail not trimmed to %zu pages: %zu arenas (%zu pages), %zu of "
                         "%zu pages free", what, kept, st.small_spans, st.small_span_pages,
                         st.pages_free, st.pages_total);
            CHECK_OK(&th.h, what);
            for (size_t i = 0; i < n; i++) {
                /* evens first, then odds: holes all over the arena, joined at the end */
                size_t j = i < (n + 1) / 2 ? 2 * i : 2 * (i - (n + 1) / 2) + 1;
                PAT_CHECK(p[j], u[j], j, "%s: object %zu changed", what, j);
                ph_free(&th.h, p[j]);
                th_stats(&th, &st);
                if (i + 1 < n && (st.small_spans != 1 || st.cached_spans != 0 ||
                                  st.pages_free != st.pages_total - kept))
                    fail_msg("%s: %zu of %zu freed: %zu arenas (%zu cached), %zu pages free",
                             what, i + 1, n, st.small_spans, st.cached_spans, st.pages_free);
                if (i % 64 == 0 || i + 2 >= n)
                    CHECK_OK(&th.h, what);
            }
            th_stats(&th, &st);
            if (st.small_spans != 1 || st.cached_spans != 1) /* joined whole: the cached arena */
                fail_msg("%s: every object freed: %zu arenas, %zu cached", what, st.small_spans,
                         st.cached_spans);
            stats_all_free(&th.h, what);
            free(p);
            free(u);
        }
        assert_int_equal(th.t.faults, 0);
        th_close(&th, "fit packing");
    }
}

/* ---- coalescing ------------------------------------------------------------------- */

/* The last call raised one more fault: code at p. */
static void expect_fault(theap *th, size_t *faults, int code, const void *p, const char *what)
{
    (*faults)++;
    if (th->t.faults != *faults || th->t.last_code != code || th->t.last_addr != p)
        fail_msg("%s: %zu faults (expected %zu), last code %d at %p; expected code %d at %p",
                 what, th->t.faults, *faults, th->t.last_code, th->t.last_addr, code, p);
}

/* Three adjacent chunks with live neighbours on both sides, freed in each
 * order: after every step ph_check holds, every freed pointer (and every
 * pointer into a joined chunk) is a double free, and at the end the arena
 * holds one free chunk of the three chunks' bytes, which a malloc of their
 * sum gets back at the first one's address (its exact free list). */
static void test_coalescing(void **state)
{
    (void)state;
    static const int order[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
                                     { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
    const size_t ps = 256;
    const size_t cmax = PH_FIT_EXACT_MAX / 3 / PH_ALIGN * PH_ALIGN;
    const size_t css[] = { PH_FIT_MIN, PH_FIT_MIN + PH_ALIGN, 5 * PH_ALIGN, cmax };
    theap th;
    size_t faults = 0;
    pat_init();
    th_open(&th, ps, 1024);
    for (size_t ci = 0; ci < sizeof css / sizeof css[0]; ci++) {
        const size_t cs = css[ci], sz = cs - PH_FIT_HDR;
        assert_true(3 * cs <= PH_FIT_EXACT_MAX);
        for (int o = 0; o < 6; o++) {
            enum { N = 7 };
            char *x[N], what[128];
            ph_stats a, b;
            snprintf(what, sizeof what, "chunks of %zu bytes freed in the order %d %d %d", cs,
                     order[o][0], order[o][1], order[o][2]);
            for (int i = 0; i < N; i++)
                x[i] = checked_malloc(&th, sz, NULL, what);
            /* sort by address; find five chunks in a row */
            for (int i = 1; i < N; i++)
                for (int j = i; j > 0 && x[j] < x[j - 1]; j--) {
                    char *t = x[j];
                    x[j] = x[j - 1];
                    x[j - 1] = t;
                }
            int at = -1;
            for (int i = 0; i + 4 < N && at < 0; i++) {
                bool row = true;
                for (int j = 0; j < 4; j++)
                    row = row && x[i + j + 1] == x[i + j] + cs &&
                          ph_usable_size(&th.h, x[i + j]) == sz;
                if (row)
                    at = i + 1;
            }
            if (at < 0)
                fail_msg("%s: no five adjacent chunks among %d mallocs in an arena", what, N);
            for (int i = 0; i < N; i++)
                pat_fill(x[i], sz, (uint64_t)i);
            size_t faults_a = faults;
            char *abc[3] = { x[at], x[at + 1], x[at + 2] };
            th_stats(&th, &a);
            for (int s = 0; s < 3; s++) {
                char *p = abc[order[o][s]];
                ph_free(&th.h, p);
                CHECK_OK(&th.h, what);
                for (int t = 0; t <= s; t++) { /* every freed one, joined or not */
                    char *q = abc[order[o][t]];
                    assert_int_equal(ph_usable_size(&th.h, q), 0);
                    expect_fault(&th, &faults, PH_FAULT_DOUBLE_FREE, q, what);
                    assert_int_equal(ph_usable_size(&th.h, q + PH_ALIGN), 0);
                    expect_fault(&th, &faults, PH_FAULT_DOUBLE_FREE, q + PH_ALIGN, what);
                }
            }
            /* white box: one free chunk of 3 cs bytes at the first, live around it */
            uintptr_t as = 0, ae = 0;
            wb_chunk ch[4096 / PH_FIT_MIN + 8];
            assert_true(wb_arena_of(&th.h, abc[0], &as, &ae));
            size_t nch = wb_chunks(as, ae, ch, sizeof ch / sizeof ch[0]), found = 0;
            assert_true(nch <= sizeof ch / sizeof ch[0]);
            for (size_t i = 0; i < nch; i++) {
                if (ch[i].u == (uintptr_t)abc[0]) {
                    found = 1;
                    if (ch[i].inuse || ch[i].size != 3 * cs || i == 0 || i + 1 == nch ||
                        !ch[i - 1].inuse || !ch[i + 1].inuse)
                        fail_msg("%s: the freed chunks are not one free chunk of %zu bytes "
                                 "(chunk %zu of %zu: %zu bytes, in use %d)", what, 3 * cs, i,
                                 nch, ch[i].size, (int)ch[i].inuse);
                }
                if (ch[i].u == (uintptr_t)abc[1] || ch[i].u == (uintptr_t)abc[2])
                    fail_msg("%s: a chunk still starts at %p after the join", what,
                             (void *)ch[i].u);
            }
            assert_int_equal(found, 1);
            th_stats(&th, &b);
            stats_all_assert(&a, &b, faults - faults_a, what); /* no page changed hands */
            /* their sum, from the exact list, at the first one */
            char *big = checked_malloc(&th, 3 * cs - PH_FIT_HDR, NULL, what);
            if (big != abc[0])
                fail_msg("%s: ph_malloc(%zu) = %p, expected the joined chunk at %p", what,
                         3 * cs - PH_FIT_HDR, (void *)big, (void *)abc[0]);
            assert_int_equal(ph_usable_size(&th.h, big), 3 * cs - PH_FIT_HDR);
            for (int i = 0; i < N; i++)
                if (i < at || i > at + 2)
                    PAT_CHECK(x[i], sz, (uint64_t)i, "%s: neighbour %d changed", what, i);
            ph_free(&th.h, big);
            for (int i = 0; i < N; i++)
                if (i < at || i > at + 2)
                    ph_free(&th.h, x[i]);
            stats_all_free(&th.h, what);
        }
    }
    assert_int_equal(th.t.faults, faults);
    th_close(&th, "coalescing");
}

/* ---- LIFO --------------------------------------------------------------------------- */

/* For sizes of the exact free lists: a chunk freed and its size asked for
 * again gives the same pointer back, with no page traffic; two freed (not
 * adjacent) come back last freed first. */
static void test_lifo(void **state)
{
    (void)state;
    const size_t ps = 256;
    theap th;
    ph_stats a, b;
    th_open(&th, ps, 1024);
    const size_t room = fit_arena_pages(PH_FIT_MIN, ps, th.st0.pages_total) * ps - PH_ALIGN;
    /* four in one arena, so that the guards keep x and y apart */
    for (size_t sz = 0; sz + PH_FIT_HDR <= PH_FIT_EXACT_MAX && 4 * fit_chunk(sz) <= room;
         sz += sz < 64 ? 1 : 37) {
        char what[96];
        snprintf(what, sizeof what, "LIFO, %zu-byte objects", sz);
        char *x = checked_malloc(&th, sz, NULL, what);
        char *g1 = checked_malloc(&th, sz, NULL, what);
        char *y = checked_malloc(&th, sz, NULL, what);
        char *g2 = checked_malloc(&th, sz, NULL, what);
        th_stats(&th, &a);
        for (int i = 0; i < 20; i++) {
            ph_free(&th.h, y);
            char *q = checked_malloc(&th, sz, NULL, what);
            if (q != y)
                fail_msg("%s: freed %p, got %p back", what, (void *)y, (void *)q);
        }
        ph_free(&th.h, x);
        ph_free(&th.h, y);
        CHECK_OK(&th.h, what);
        char *q1 = checked_malloc(&th, sz, NULL, what);
        char *q2 = checked_malloc(&th, sz, NULL, what);
        if (q1 != y || q2 != x)
            fail_msg("%s: freed %p then %p, got %p then %p", what, (void *)x, (void *)y,
                     (void *)q1, (void *)q2);
        th_stats(&th, &b);
        stats_all_assert(&a, &b, 0, what);
        ph_free(&th.h, x);
        ph_free(&th.h, g1);
        ph_free(&th.h, y);
        ph_free(&th.h, g2);
        stats_all_free(&th.h, what);
    }
    assert_int_equal(th.t.faults, 0);
    th_close(&th, "LIFO");
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

/* ph_realloc(p, size) must fail: NULL, p untouched, no statistic changed
 * but the cache's (a failing allocation gives it back), no fault. */
static void realloc_fails(theap *th, char *p, size_t size, uint64_t id, const char *what)
{
    ph_stats a, b;
    size_t u = ph_usable_size(&th->h, p), f = th->t.faults;
    th_stats(th, &a);
    void *q = ph_realloc(&th->h, p, size);
    th_stats(th, &b);
    if (q != NULL)
        fail_msg("%s: ph_realloc(%p, %zu) returned %p, expected NULL", what, (void *)p, size, q);
    stats_failed_assert(&a, &b, what);
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

/* ph_realloc(p, size) of a live chunk must stay in place: the same
 * pointer, the usable size the split rule gives, the contents kept, no
 * statistic changed. */
static char *realloc_in_place(theap *th, char *p, size_t size, size_t want_usable, uint64_t id,
                              size_t keep, const char *what)
{
    ph_stats a, b;
    th_stats(th, &a);
    char *q = (char *)ph_realloc(&th->h, p, size);
    th_stats(th, &b);
    if (q != p)
        fail_msg("%s: ph_realloc(%p, %zu) = %p, expected in place", what, (void *)p, size,
                 (void *)q);
    size_t u = ph_usable_size(&th->h, q);
    if (u != want_usable)
        fail_msg("%s: ph_realloc(%p, %zu): usable size %zu, expected %zu", what, (void *)p, size,
                 u, want_usable);
    KEPT(q, keep, id, what);
    stats_all_assert(&a, &b, 0, what);
    return q;
}

static void test_realloc_paths(void **state)
{
    (void)state;
    const size_t ps = 4096;
    theap th;
    ph_stats st;
    size_t u, faults = 0;
    uintptr_t as = 0, ae = 0;
    wb_chunk ch[64];
    pat_init();
    th_open(&th, ps, 256);

    /* NULL: a malloc */
    char *p = (char *)ph_realloc(&th.h, NULL, 100);
    assert_non_null(p);
    assert_int_equal(ph_usable_size(&th.h, p), fit_chunk(100) - PH_FIT_HDR);
    ph_free(&th.h, p);
    stats_all_free(&th.h, "realloc(NULL)");

    /* shrinks stay in place, to every smaller size: the tail split off when
     * it can be a chunk (and joined with the free rest after it), else the
     * chunk kept whole */
    {
        const size_t big = 1000;
        char *g = checked_malloc(&th, 16, NULL, "guard");
        p = checked_malloc(&th, big, &u, "shrink");
        const size_t whole = u + PH_FIT_HDR; /* p's chunk, then its free tails */
        char *g2 = checked_malloc(&th, 16, NULL, "guard 2"); /* live after p */
        pat_fill(p, u, 1);
        for (size_t sz = big; sz-- > 0;) {
            char what[64];
            snprintf(what, sizeof what, "shrink to %zu", sz);
            size_t want = fit_shrunk_usable(u, sz);
            p = realloc_in_place(&th, p, sz, want, 1, sz, what);
            if (want != u) { /* the tail is a free chunk of its own, right after p */
                assert_true(wb_arena_of(&th.h, p, &as, &ae));
                size_t n = wb_chunks(as, ae, ch, 64), i = 0;
                while (i < n && ch[i].u != (uintptr_t)p)
                    i++;
                if (i + 2 >= n || ch[i + 1].u != (uintptr_t)p + want + PH_FIT_HDR ||
                    ch[i + 1].inuse || ch[i + 1].size != whole - want - PH_FIT_HDR ||
                    ch[i + 2].u != (uintptr_t)g2)
                    fail_msg("%s: no free tail of %zu bytes between the object and the next",
                             what, whole - want - PH_FIT_HDR);
            }
            u = want;
            if (sz % 97 == 0)
                CHECK_OK(&th.h, what);
        }
        assert_true(usable_ok(&th.h, 0, ps, u)); /* as ph_malloc(0) */
        ph_free(&th.h, p);
        ph_free(&th.h, g);
        ph_free(&th.h, g2);
        stats_all_free(&th.h, "shrinks");
    }

    /* grow into the free chunk right after it: whole, or split */
    {
        char *a = checked_malloc(&th, 100, NULL, "a");
        char *n = checked_malloc(&th, 300, NULL, "n");
        char *g = checked_malloc(&th, 100, NULL, "g");
        const size_t ca = fit_chunk(100), cn = fit_chunk(300);
        assert_true(n == a + ca && g == n + cn); /* a fresh arena, carved in a row */
        pat_fill(a, 100, 2);
        ph_free(&th.h, n);
        /* exactly the two chunks */
        a = realloc_in_place(&th, a, ca + cn - PH_FIT_HDR, ca + cn - PH_FIT_HDR, 2, 100,
                             "grow into the whole next chunk");
        pat_fill(a, ca + cn - PH_FIT_HDR, 3);
        /* back down, the tail freed; then up again by a part of it */
        a = realloc_in_place(&th, a, 100, ca - PH_FIT_HDR, 3, 100, "shrink back");
        a = realloc_in_place(&th, a, 100 + 2 * PH_FIT_MIN, fit_chunk(100 + 2 * PH_FIT_MIN) - PH_FIT_HDR,
                             3, 100, "grow into a part of the next chunk");
        CHECK_OK(&th.h, "grow in place");
        /* the rest of the freed chunk is a chunk of its own, served to its size */
        size_t rest = ca + cn - fit_chunk(100 + 2 * PH_FIT_MIN);
        char *r = checked_malloc(&th, rest - PH_FIT_HDR, NULL, "the rest");
        if (r != a + fit_chunk(100 + 2 * PH_FIT_MIN))
            fail_msg("the split-off rest (%zu bytes) not handed out at %p but at %p", rest,
                     (void *)(a + fit_chunk(100 + 2 * PH_FIT_MIN)), (void *)r);
        /* a live neighbour: moves, the old one freed, contents kept */
        char *q = (char *)ph_realloc(&th.h, a, 600);
        assert_non_null(q);
        if (q == a)
            fail_msg("grow past a live neighbour stayed in place");
        KEPT(q, 100, 3, "grow moved");
        assert_true(usable_ok(&th.h, 600, ps, ph_usable_size(&th.h, q)));
        ph_free(&th.h, a);
        expect_double_free(&th, &faults, a, "free of the old chunk after a moving realloc");
        /* the arena's last chunk in use grows into the arena's free rest
         * (white box: whichever of the live objects that is) */
        char *last = checked_malloc(&th, 64, NULL, "last");
        char *live4[4] = { q, r, g, last };
        const size_t keep4[4] = { 100, rest - PH_FIT_HDR, 100, 64 };
        for (int i = 0; i < 4; i++)
            pat_fill(live4[i], keep4[i], 20 + (uint64_t)i);
        assert_true(wb_arena_of(&th.h, last, &as, &ae));
        size_t nch = wb_chunks(as, ae, ch, 64);
        assert_true(nch >= 2 && nch <= 64);
        int w = -1;
        for (int i = 0; i < 4; i++)
            if (ch[nch - 2].u == (uintptr_t)live4[i])
                w = i;
        if (w < 0 || ch[nch - 1].inuse || !ch[nch - 2].inuse)
            fail_msg("the arena's last chunks: %#lx (%zu bytes, in use %d) is none of the live "
                     "objects, then %zu bytes in use %d", (unsigned long)ch[nch - 2].u,
                     ch[nch - 2].size, (int)ch[nch - 2].inuse, ch[nch - 1].size,
                     (int)ch[nch - 1].inuse);
        {
            const size_t room = ch[nch - 1].size + ch[nch - 2].size;
            char *o = live4[w];
            o = realloc_in_place(&th, o, room - PH_FIT_HDR - PH_FIT_MIN,
                                 room - PH_FIT_HDR - PH_FIT_MIN, 20 + (uint64_t)w, keep4[w],
                                 "grow into the arena's free rest");
            o = realloc_in_place(&th, o, room - PH_FIT_HDR, room - PH_FIT_HDR, 20 + (uint64_t)w,
                                 keep4[w], "grow to the arena's end");
            /* one byte more: moves (a new arena) */
            char *m = (char *)ph_realloc(&th.h, o, room - PH_FIT_HDR + 1);
            assert_non_null(m);
            assert_ptr_not_equal(m, o);
            KEPT(m, keep4[w], 20 + (uint64_t)w, "past the arena's end");
            live4[w] = m;
        }
        for (int i = 0; i < 4; i++) {
            KEPT(live4[i], keep4[i], 20 + (uint64_t)i, "the arena's other objects");
            ph_free(&th.h, live4[i]);
        }
        stats_all_free(&th.h, "grow in place");
    }
    p = checked_malloc(&th, 1000, NULL, "p");
    pat_fill(p, 1000, 2);

    /* small shrink in place */
    p = realloc_in_place(&th, p, 50, fit_chunk(50) - PH_FIT_HDR, 2, 50, "small shrink");
    pat_fill(p, 50, 3);

    /* small -> large */
    char *q = (char *)ph_realloc(&th.h, p, 3 * PH_SMALL_MAX);
    assert_non_null(q);
    KEPT(q, 50, 3, "small -> large");
    assert_int_equal((uintptr_t)q % ps, 0);
    assert_int_equal(ph_usable_size(&th.h, q), round_up(3 * PH_SMALL_MAX, ps));
    th_stats(&th, &st);
    if (st.small_spans != st.cached_spans || st.large_objects != 1 || /* only empty arenas */
        st.large_pages != round_up(3 * PH_SMALL_MAX, ps) / ps)
        fail_msg("small -> large: %zu arenas (%zu cached), %zu large (%zu pages)", st.small_spans,
                 st.cached_spans, st.large_objects, st.large_pages);
    ph_free(&th.h, p);
    expect_double_free(&th, &faults, p, "free of a small object moved to a page run");
    pat_fill(q, 3 * PH_SMALL_MAX, 4);

    /* large -> small */
    p = (char *)ph_realloc(&th.h, q, 300);
    assert_non_null(p);
    KEPT(p, 300, 4, "large -> small");
    assert_int_equal(ph_usable_size(&th.h, p), fit_chunk(300) - PH_FIT_HDR);
    th_stats(&th, &st);
    assert_int_equal(st.large_objects, 0);
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
    /* a full heap: growing past every free chunk fails, a shrink that
     * cannot move stays put */
    size_t held = 0;
    char **pgs = (char **)calloc(th.st0.pages_total, sizeof *pgs);
    while ((pgs[held] = (char *)ph_page_alloc(&th.h, 1)) != NULL)
        held++;
    th_accounting(&th, held, "heap full");
    realloc_fails(&th, s, PH_FIT_ARENA, 10, "realloc(small 200 -> PH_FIT_ARENA), heap full");
    realloc_fails(&th, L, (n1 + 2) * ps, 8, "realloc(large grow), heap full");
    realloc_fails(&th, B, 16 * ps, 7, "realloc(large grow, neighbour live)");
    realloc_fails(&th, X, 16 * ps, 9, "realloc(large grow, heap full)");
    /* no free chunk of PH_FIT_ARENA - 2 PH_ALIGN bytes: s's arena holds s */
    th_stats(&th, &st);
    q = (char *)ph_realloc(&th.h, L, PH_FIT_ARENA - 2 * PH_ALIGN);
    if (q != L)
        fail_msg("a shrink of a large object to a chunk on a full heap returned %p, not %p",
                 (void *)q, (void *)L);
    assert_int_equal(ph_usable_size(&th.h, L), (n1 + 1) * ps);
    KEPT(q, PH_FIT_ARENA - 2 * PH_ALIGN, 8, "shrink on a full heap");
    {
        ph_stats st2;
        th_stats(&th, &st2);
        stats_failed_assert(&st, &st2, "a shrink that stayed");
    }
    /* one that fits a free chunk moves into it, even on a full heap */
    q = (char *)ph_realloc(&th.h, L, 100);
    if (q == NULL || q == L)
        fail_msg("a shrink of a large object to 100 bytes on a full heap: %p (from %p)",
                 (void *)q, (void *)L);
    KEPT(q, 100, 8, "shrink on a full heap");
    L = q;
    th_accounting(&th, held, "heap full");
    for (size_t i = 0; i < held; i++)
        ph_page_free(&th.h, pgs[i], 1);
    free(pgs);
    assert_int_equal(th.t.faults, faults);
    th_accounting(&th, 0, "page API pages freed");

    /* realloc(p, 0): p shrinks in place to the smallest chunk */
    ph_free(&th.h, L);
    ph_free(&th.h, B);
    ph_free(&th.h, X);
    ph_free(&th.h, s);
    stats_all_free(&th.h, "before realloc(p, 0)");
    p = checked_malloc(&th, 1000, NULL, "p for realloc(p, 0)");
    pat_fill(p, 1000, 11);
    p = realloc_in_place(&th, p, 0, PH_FIT_MIN - PH_FIT_HDR, 11, 0, "realloc(p, 0)");
    p = realloc_in_place(&th, p, 0, PH_FIT_MIN - PH_FIT_HDR, 11, 0, "realloc(p, 0) again");
    /* of a large object: it moves to the smallest chunk */
    L = checked_malloc(&th, PH_SMALL_MAX + 1, NULL, "L for realloc(L, 0)");
    q = (char *)ph_realloc(&th.h, L, 0);
    assert_non_null(q);
    assert_ptr_not_equal(q, L);
    assert_int_equal(ph_usable_size(&th.h, q), PH_FIT_MIN - PH_FIT_HDR);
    ph_free(&th.h, L);
    expect_double_free(&th, &faults, L, "free after realloc(large, 0)");
    ph_free(&th.h, q);
    ph_free(&th.h, p);
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
                    th_stats(&th, &a);
                    char *p = (char *)ph_aligned_alloc(&th.h, align, sz);
                    if (p == NULL)
                        fail_msg("%s returned NULL", what);
                    if ((uintptr_t)p % align != 0 || (uintptr_t)p % PH_ALIGN != 0)
                        fail_msg("%s = %p: misaligned", what, (void *)p);
                    size_t u = ph_usable_size(&th.h, p);
                    if (u < sz)
                        fail_msg("%s: usable size %zu", what, u);
                    /* below the page size a chunk of an arena, else a page run */
                    bool chunk = align < ps && sz <= PH_SMALL_MAX && align <= PH_SMALL_MAX;
                    uintptr_t as = 0, ae = 0;
                    bool in_arena = wb_arena_of(&th.h, p, &as, &ae);
                    th_stats(&th, &b);
                    if (chunk && (!usable_ok(&th.h, sz, ps, u) || !in_arena ||
                                  (uintptr_t)p + u > ae - PH_FIT_HDR ||
                                  b.large_objects != a.large_objects))
                        fail_msg("%s = %p: a chunk of an arena expected, usable %zu (in an "
                                 "arena: %d)", what, (void *)p, u, (int)in_arena);
                    if (!chunk && (u != round_up(sz ? sz : 1, ps) || (uintptr_t)p % ps ||
                                   in_arena || b.large_objects != a.large_objects + 1))
                        fail_msg("%s = %p: a page run expected, usable %zu", what, (void *)p, u);
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
        /* past PH_SMALL_MAX, whatever the page size (no small request is a
         * page run: test_chunk_sizes) */
        const size_t sizes[] = { PH_SMALL_MAX + 1, PH_SMALL_MAX + ps, 2 * PH_SMALL_MAX,
                                 4 * PH_SMALL_MAX + 3, (size_t)1 << 20, 3 * ps + 1 + PH_SMALL_MAX,
                                 PH_SMALL_MAX + PH_ALIGN, 65536 + 1 + PH_SMALL_MAX };
        const size_t ns = sizeof sizes / sizeof sizes[0];
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

/* ---- empty arenas ------------------------------------------------------------------- */

static void test_empty_arenas(void **state)
{
    (void)state;
    static const size_t pss[] = { 256, 4096 };
    pat_init();
    for (size_t k = 0; k < 2; k++) {
        const size_t ps = pss[k];
        theap th;
        ph_stats st;
        enum { NA = 12 };
        char *one[NA], *sep[NA];
        th_open(&th, ps, (8u << 20) / ps);
        const size_t total = th.st0.pages_total;
        /* a chunk that fills a default arena exactly: one arena per object,
         * each followed by a page API page (arenas that meet merge: the
         * page keeps the next one apart) */
        const size_t apages = fit_arena_pages(PH_FIT_MIN, ps, total);
        const size_t sz = apages * ps - PH_ALIGN - PH_FIT_HDR;
        assert_int_equal(fit_arena_pages(fit_chunk(sz), ps, total), apages);
        for (int dir = 0; dir < 2; dir++) { /* freed from the top, then from the bottom */
            for (size_t i = 0; i < NA; i++) {
                one[i] = checked_malloc(&th, sz, NULL, "one per arena");
                sep[i] = (char *)ph_page_alloc(&th.h, 1);
                th_stats(&th, &st);
                if (st.small_spans != i + 1 || st.small_span_pages != (i + 1) * apages ||
                    one[i] != (char *)th.ri.base + i * (apages + 1) * ps + PH_ALIGN ||
                    sep[i] != one[i] - PH_ALIGN + apages * ps)
                    fail_msg("object %zu (%zu bytes): %zu arenas of %zu pages, at %p (page %p)",
                             i, sz, st.small_spans, st.small_span_pages, (void *)one[i],
                             (void *)sep[i]);
            }
            for (size_t n = 0; n < NA; n++) {
                size_t i = dir == 0 ? NA - 1 - n : n;
                ph_free(&th.h, one[i]);
                th_stats(&th, &st);
                /* from the top: each is the lowest empty one, cached, the one
                 * above goes back; from the bottom: the first stays cached,
                 * every other goes back at once */
                size_t arenas = dir == 0 ? i + 1 : NA - n;
                if (st.small_spans != arenas || st.cached_spans != 1 ||
                    st.cached_bytes != apages * ps ||
                    st.pages_total - st.pages_free != arenas * apages + NA)
                    fail_msg("%s: freeing object %zu: %zu arenas (expected %zu), %zu cached "
                             "(%zu B), %zu pages used", dir == 0 ? "from the top" : "from the bottom",
                             i, st.small_spans, arenas, st.cached_spans, st.cached_bytes,
                             st.pages_total - st.pages_free);
                CHECK_OK(&th.h, "empty arenas");
            }
            /* the one kept is the lowest: the next object is served there */
            char *p = checked_malloc(&th, sz, NULL, "from the cache");
            assert_ptr_equal(p, one[0]);
            ph_free(&th.h, p);
            for (size_t i = 0; i < NA; i++)
                ph_page_free(&th.h, sep[i], 1);
            stats_all_free(&th.h, "one per arena");
        }

        /* many objects, random sizes and order */
        rng_t r;
        rng_seed(&r, test_seed("objects/empty_arenas", 0xE3B7ULL + k));
        enum { N = 3000 };
        obj *o = (obj *)calloc(N, sizeof *o);
        for (size_t i = 0; i < N; i++) {
            size_t s = rng_pct(&r, 95) ? rng_range(&r, 0, 512)
                                       : rng_range(&r, 513, PH_SMALL_MAX + 2 * ps);
            o[i].p = checked_malloc(&th, s, &o[i].usable, "empty arenas");
            o[i].id = i;
            pat_fill(o[i].p, o[i].usable, i);
        }
        check_no_overlap(o, N, "empty arenas");
        for (size_t i = N; i > 1; i--) {
            size_t j = rng_below(&r, i);
            obj t = o[i - 1];
            o[i - 1] = o[j];
            o[j] = t;
        }
        for (size_t i = 0; i < N; i++) {
            PAT_CHECK(o[i].p, o[i].usable, o[i].id, "empty arenas: object changed");
            ph_free(&th.h, o[i].p);
            th_accounting(&th, 0, "empty arenas");
            if (i % 500 == 0)
                CHECK_OK(&th.h, "empty arenas");
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
        th_close(&th, "empty arenas");
    }
}

/* ---- the empty-arena cache ---------------------------------------------------------- */

/* An arena that empties stays cached; a refill takes it back without a
 * page allocation; the lowest of two empty arenas is the one kept; ph_idle
 * and ph_scavenge(h, 0) give it back; it is not kept over its budget or
 * with less than 1/8 of the heap free; an allocation that needs its pages
 * gets them, and one that fails even then changes nothing else. */
static void test_arena_cache(void **state)
{
    (void)state;
    const size_t ps = 256, sz = 200;
    theap th;
    ph_stats st, st2;
    th_open(&th, ps, 512); /* the cache's budget: 32 pages */
    const size_t total = th.st0.pages_total, cs = fit_chunk(sz);
    const size_t pages = fit_arena_pages(cs, ps, total);
    size_t taken;
    const size_t per = arena_fits(cs, pages, ps, &taken);
    assert_true(pages <= total >> PH_CACHE_SHIFT);
    assert_true(per >= 2 && per < 64);
    char *first[64] = { 0 }, *second[64] = { 0 };

    /* an arena that empties and refills: no page traffic after the first */
    char *p = checked_malloc(&th, sz, NULL, "cycle");
    ph_free(&th.h, p);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    assert_int_equal(st.cached_bytes, pages * ps);
    assert_int_equal(st.pages_total - st.pages_free, pages);
    for (int i = 0; i < 100; i++) {
        char *q = checked_malloc(&th, sz + (size_t)i, NULL, "cycle");
        if (q != p)
            fail_msg("cycle %d: %p from another place than the cached arena's %p", i, (void *)q,
                     (void *)p);
        th_stats(&th, &st2);
        assert_int_equal(st2.cached_spans, 0);
        assert_int_equal(st2.cached_bytes, 0);
        assert_int_equal(st2.small_spans, 1);
        assert_int_equal(st2.pages_free, st.pages_free); /* no page allocation */
        ph_free(&th.h, q);
    }
    CHECK_OK(&th.h, "cycle");

    /* two arenas empty: the lower is kept, the higher goes back, whichever
     * empties first */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < per; i++)
            first[i] = checked_malloc(&th, sz, NULL, "first arena");
        /* a page API page after the first arena keeps the second apart
         * (arenas that meet merge) */
        char *sep = (char *)ph_page_alloc(&th.h, 1);
        assert_ptr_equal(sep, (char *)th.ri.base + pages * ps);
        for (size_t i = 0; i < per; i++)
            second[i] = checked_malloc(&th, sz, NULL, "second arena");
        assert_ptr_equal(first[0], (char *)th.ri.base + PH_ALIGN);
        assert_ptr_equal(second[0], (char *)th.ri.base + (pages + 1) * ps + PH_ALIGN);
        th_stats(&th, &st);
        assert_int_equal(st.small_spans, 2);
        assert_int_equal(st.cached_spans, 0);
        char **one = round == 0 ? second : first, **other = round == 0 ? first : second;
        for (size_t i = 0; i < per; i++)
            ph_free(&th.h, one[i]); /* this one empties first: cached */
        th_stats(&th, &st);
        assert_int_equal(st.cached_spans, 1);
        assert_int_equal(st.small_spans, 2);
        for (size_t i = 0; i < per; i++)
            ph_free(&th.h, other[i]); /* the other empties: the lower one stays */
        th_stats(&th, &st);
        assert_int_equal(st.cached_spans, 1);
        assert_int_equal(st.small_spans, 1);
        assert_int_equal(st.pages_total - st.pages_free, pages + 1);
        p = checked_malloc(&th, sz, NULL, "from the kept arena");
        if (p != first[0])
            fail_msg("round %d: the cache kept the higher arena: %p, the lower one was at %p",
                     round, (void *)p, (void *)first[0]);
        ph_free(&th.h, p);
        ph_page_free(&th.h, sep, 1);
        CHECK_OK(&th.h, "two arenas");
    }

    /* ph_idle gives the cache back (nothing to release: granule 0) */
    assert_int_equal(ph_idle(&th.h), 0);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 0);
    assert_int_equal(st.small_spans, 0);
    assert_int_equal(st.pages_free, st.pages_total);
    /* and so does ph_scavenge(h, 0) */
    p = checked_malloc(&th, sz, NULL, "to cache");
    ph_free(&th.h, p);
    assert_int_equal(ph_scavenge(&th.h, 0), 0);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 0);
    assert_int_equal(st.pages_free, st.pages_total);

    /* over the budget: an arena for a chunk of more than pages_total >>
     * PH_CACHE_SHIFT pages goes back at once */
    {
        const size_t bsz = ((total >> PH_CACHE_SHIFT) + 1) * ps;
        assert_true(bsz <= PH_SMALL_MAX);
        char *b = checked_malloc(&th, bsz, NULL, "over budget");
        th_stats(&th, &st);
        assert_true(st.small_span_pages > total >> PH_CACHE_SHIFT);
        ph_free(&th.h, b);
        th_stats(&th, &st);
        if (st.cached_spans != 0 || st.small_spans != 0 || st.pages_free != st.pages_total)
            fail_msg("an arena over the cache's budget: %zu arenas, %zu cached, %zu of %zu "
                     "pages free", st.small_spans, st.cached_spans, st.pages_free,
                     st.pages_total);
    }
    /* less than 1/8 of the heap free: an emptied arena goes back at once */
    {
        char *q = checked_malloc(&th, sz, NULL, "pressure");
        th_stats(&th, &st);
        size_t hold = st.pages_free - (total >> 3) + 1;
        char *pgr = (char *)ph_page_alloc(&th.h, hold);
        assert_non_null(pgr);
        ph_free(&th.h, q);
        th_stats(&th, &st);
        if (st.cached_spans != 0 || st.small_spans != 0)
            fail_msg("an arena emptied with %zu of %zu pages free was kept", st.pages_free,
                     st.pages_total);
        ph_page_free(&th.h, pgr, hold);
        /* with exactly 1/8 free it is kept */
        q = checked_malloc(&th, sz, NULL, "pressure");
        th_stats(&th, &st);
        hold = st.pages_free - (total >> 3);
        pgr = (char *)ph_page_alloc(&th.h, hold);
        assert_non_null(pgr);
        ph_free(&th.h, q);
        th_stats(&th, &st);
        assert_int_equal(st.cached_spans, 1);
        ph_page_free(&th.h, pgr, hold);
        assert_int_equal(ph_scavenge(&th.h, 0), 0);
    }

    /* an allocation that needs the cached arena's pages gets them */
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
    /* ... one that fits in the free and cached pages but in no run of
     * them (a page in use right after the cached arena) gives the cache
     * back, fails, and changes nothing else */
    char *mid = (char *)ph_page_alloc(&th.h, 1);
    assert_ptr_equal(mid, (char *)th.ri.base + pages * ps); /* the arena is at the base */
    th_stats(&th, &st);
    assert_null(ph_malloc(&th.h, (st.pages_free + pages) * ps));
    th_stats(&th, &st2);
    assert_int_equal(st2.cached_spans, 0);
    stats_failed_assert(&st, &st2, "failed malloc");
    /* a full heap but for the cached arena: a small malloc that fits its
     * chunk is served from it (no page traffic); one that does not fit
     * gives it back and fails, changing nothing else */
    p = checked_malloc(&th, sz, NULL, "to cache");
    ph_free(&th.h, p);
    th_stats(&th, &st);
    size_t nrest = st.pages_free;
    char *restp = nrest ? (char *)ph_page_alloc(&th.h, nrest) : NULL;
    assert_true(nrest == 0 || restp != NULL);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    assert_int_equal(st.pages_free, 0);
    p = checked_malloc(&th, pages * ps - PH_ALIGN - PH_FIT_HDR, NULL, "the whole cached arena");
    assert_ptr_equal(p, (char *)th.ri.base + PH_ALIGN);
    th_stats(&th, &st2);
    assert_int_equal(st2.cached_spans, 0);
    assert_int_equal(st2.pages_free, 0);
    assert_int_equal(st2.small_spans, 1);
    ph_free(&th.h, p);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 0); /* no page free: not kept */
    assert_int_equal(st.small_spans, 0);
    ph_page_free(&th.h, mid, 1);
    if (restp)
        ph_page_free(&th.h, restp, nrest);
    p = checked_malloc(&th, sz, NULL, "to cache");
    ph_free(&th.h, p);
    th_stats(&th, &st);
    nrest = st.pages_free;
    restp = (char *)ph_page_alloc(&th.h, nrest);
    assert_non_null(restp);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    /* a chunk PH_ALIGN larger than the cached arena's: the arena goes back,
     * no run for a new one, a page run of its own where the arena was */
    {
        const size_t n = pages * ps - PH_ALIGN - PH_FIT_HDR + 1;
        char *x = (char *)ph_malloc(&th.h, n);
        th_stats(&th, &st2);
        if (x != (char *)th.ri.base || ph_usable_size(&th.h, x) != pages * ps ||
            st2.large_objects != 1 || st2.large_pages != pages || st2.small_spans != 0 ||
            st2.cached_spans != 0 || st2.pages_free != 0)
            fail_msg("ph_malloc(%zu) on a full heap but for the cached arena: %p (base %p), "
                     "%zu large objects (%zu pages), %zu arenas, %zu cached", n, (void *)x,
                     th.ri.base, st2.large_objects, st2.large_pages, st2.small_spans,
                     st2.cached_spans);
        ph_free(&th.h, x);
    }
    /* one page more than the cached arena: it goes back, and the call fails */
    ph_page_free(&th.h, restp, nrest);
    p = checked_malloc(&th, sz, NULL, "to cache");
    ph_free(&th.h, p);
    restp = (char *)ph_page_alloc(&th.h, nrest);
    assert_non_null(restp);
    th_stats(&th, &st);
    assert_int_equal(st.cached_spans, 1);
    assert_int_equal(st.pages_free, 0);
    assert_null(ph_malloc(&th.h, pages * ps + 1));
    th_stats(&th, &st2);
    assert_int_equal(st2.cached_spans, 0);
    stats_failed_assert(&st, &st2, "failed small malloc");
    ph_page_free(&th.h, restp, nrest);
    th_stats(&th, &st2);
    assert_int_equal(st2.pages_free, st2.pages_total);
    CHECK_OK(&th.h, "arena cache");
    th_close(&th, "arena cache");
}

/* ---- arenas that meet merge ----------------------------------------------------------- */

/* The arena holding p (white box): [*s, *e) must be [s0, e0). */
static void th_arena_is(theap *th, const void *p, uintptr_t s0, uintptr_t e0, const char *what)
{
    uintptr_t s = 0, e = 0;
    if (!wb_arena_of(&th->h, p, &s, &e) || s != s0 || e != e0)
        fail_msg("%s: the arena of %p is [%p, %p), expected [%p, %p)", what, p, (void *)s,
                 (void *)e, (void *)s0, (void *)e0);
}

static void th_spans_are(theap *th, size_t spans, size_t pages, size_t page_api,
                         const char *what)
{
    ph_stats st;
    th_stats(th, &st);
    if (st.small_spans != spans || st.small_span_pages != pages)
        fail_msg("%s: %zu arenas of %zu pages, expected %zu of %zu", what, st.small_spans,
                 st.small_span_pages, spans, pages);
    stats_accounting(&st, page_api, what);
}

/* A request size whose chunk (cs) packs k times into an arena of abytes
 * bytes leaving a free rest of at least PH_FIT_MIN and less than cs. */
static size_t merge_size(size_t abytes, size_t *cs, size_t *k, size_t *rest)
{
    for (size_t sz = 200; sz < abytes / 2; sz++) {
        size_t c = fit_chunk(sz), room = abytes - PH_ALIGN;
        if (room % c >= PH_FIT_MIN && room / c >= 2) {
            *cs = c;
            *k = room / c;
            *rest = room % c;
            return sz;
        }
    }
    fail_msg("no size leaves a rest in an arena of %zu bytes", abytes);
    return 0;
}

/* Arenas that meet are one (core/src/ph_object.c, arena_new):
 *  - an arena whose free rest is too small for a request grows over the run
 *    right after it: the rest joined to the new memory, the object there,
 *    one arena of twice the pages; freed, the joined chunk is served whole
 *    at the rest's address;
 *  - a run placed just below an arena (the page API run that sat there
 *    freed) takes the arena's padding: one arena, the old arena's first
 *    chunk (in use) no longer its first, its padding no object;
 *  - a run between two arenas joins both (the first's free rest, the
 *    second's first chunk): three runs, one arena;
 *  - an arena separated by a page API page stays separate.
 * ph_check after every step; every object's contents kept. */
static void test_arena_merge(void **state)
{
    (void)state;
    static const size_t pss[] = { 64, 256 };
    pat_init();
    for (size_t pk = 0; pk < sizeof pss / sizeof pss[0]; pk++) {
        const size_t ps = pss[pk];
        theap th;
        char what[128];
        ph_stats st;
        size_t faults = 0;
        /* a heap of 16 KiB: arenas of 1 KiB (1/16 of the heap), so the
         * joined chunks stay below PH_SMALL_MAX */
        th_open(&th, ps, 16384 / ps);
        const size_t total = th.st0.pages_total;
        const size_t apages = fit_arena_pages(PH_FIT_MIN, ps, total), abytes = apages * ps;
        size_t cs = 0, k = 0, rest = 0;
        const size_t sz = merge_size(abytes, &cs, &k, &rest);
        const uintptr_t base = (uintptr_t)th.ri.base;
        char *x[64];
        assert_true(k + 2 <= 64 && 4 * apages <= total);
        assert_true(rest + abytes - PH_FIT_HDR <= PH_SMALL_MAX);

        /* 1. growing at the back: k objects, then one more past the rest */
        snprintf(what, sizeof what, "page %zu, back merge (%zu-byte chunks, rest %zu)", ps, cs,
                 rest);
        for (size_t i = 0; i < k; i++) {
            x[i] = checked_malloc(&th, sz, NULL, what);
            assert_ptr_equal(x[i], (char *)(base + PH_ALIGN + i * cs));
            pat_fill(x[i], sz, i);
        }
        th_spans_are(&th, 1, apages, 0, what);
        const uintptr_t ur = base + PH_ALIGN + k * cs; /* the free rest */
        x[k] = checked_malloc(&th, sz, NULL, what);
        pat_fill(x[k], sz, k);
        if ((uintptr_t)x[k] != ur)
            fail_msg("%s: the object past the rest at %p, expected the rest's %p", what,
                     (void *)x[k], (void *)ur);
        th_spans_are(&th, 1, 2 * apages, 0, what);
        th_arena_is(&th, x[0], base, base + 2 * abytes, what);
        CHECK_OK(&th.h, what);
        {   /* white box: k + 1 chunks in use, then one free chunk to the fence */
            wb_chunk ch[80];
            size_t n = wb_chunks(base, base + 2 * abytes, ch, 80);
            assert_int_equal(n, k + 2);
            assert_true(ch[k].inuse && ch[k].u == ur && ch[k].size == cs);
            assert_true(!ch[k + 1].inuse && ch[k + 1].u == ur + cs &&
                        ch[k + 1].size == base + 2 * abytes - (ur + cs));
        }
        /* the old fence is no object now but inside a chunk */
        ph_free(&th.h, x[k]);
        CHECK_OK(&th.h, what);
        th_spans_are(&th, 1, 2 * apages, 0, what); /* ph_free trims nothing */
        assert_int_equal(ph_usable_size(&th.h, (char *)(base + abytes)), 0);
        expect_fault(&th, &faults, PH_FAULT_DOUBLE_FREE, (char *)(base + abytes), what);
        /* the joined chunk (rest + the new run) is served whole at the rest */
        const size_t joined = base + 2 * abytes - ur;
        char *j = checked_malloc(&th, joined - PH_FIT_HDR, NULL, what);
        if ((uintptr_t)j != ur || ph_usable_size(&th.h, j) != joined - PH_FIT_HDR)
            fail_msg("%s: ph_malloc(%zu) = %p (usable %zu), expected the joined chunk at %p", what,
                     joined - PH_FIT_HDR, (void *)j, ph_usable_size(&th.h, j), (void *)ur);
        pat_fill(j, joined - PH_FIT_HDR, 1000);
        th_spans_are(&th, 1, 2 * apages, 0, what);
        CHECK_OK(&th.h, what);
        for (size_t i = 0; i < k; i++)
            PAT_CHECK(x[i], sz, i, "%s: object %zu changed", what, i);
        PAT_CHECK(j, joined - PH_FIT_HDR, 1000, "%s: the joined object changed", what);
        for (size_t i = 0; i < k; i++)
            ph_free(&th.h, x[i]);
        ph_free(&th.h, j);
        stats_all_free(&th.h, what);

        /* 2. a run placed below an arena: a page API run of one arena's
         * pages at the base, an arena B after it, the run freed */
        snprintf(what, sizeof what, "page %zu, front merge", ps);
        char *pg = (char *)ph_page_alloc(&th.h, apages);
        assert_ptr_equal(pg, th.ri.base);
        char *b0 = checked_malloc(&th, sz, NULL, what);
        assert_ptr_equal(b0, (char *)(base + abytes + PH_ALIGN));
        pat_fill(b0, sz, 2000);
        th_spans_are(&th, 1, apages, apages, what);
        ph_page_free(&th.h, pg, apages);
        CHECK_OK(&th.h, what);
        /* a chunk larger than B's free rest but within one arena's pages:
         * the lowest run of them is the freed one, ending at B's start */
        const size_t big = abytes - PH_ALIGN - PH_FIT_HDR;
        assert_true(fit_chunk(big) > abytes - PH_ALIGN - cs);
        char *f = checked_malloc(&th, big, NULL, what);
        if ((uintptr_t)f != base + PH_ALIGN)
            fail_msg("%s: ph_malloc(%zu) = %p, expected %p (the run below the arena)", what, big,
                     (void *)f, (void *)(base + PH_ALIGN));
        /* the run's chunk spans up to B's first chunk: PH_ALIGN more than
         * asked, too little to split off */
        assert_int_equal(ph_usable_size(&th.h, f), abytes - PH_FIT_HDR);
        pat_fill(f, abytes - PH_FIT_HDR, 2001);
        th_spans_are(&th, 1, 2 * apages, 0, what);
        th_arena_is(&th, b0, base, base + 2 * abytes, what);
        CHECK_OK(&th.h, what);
        PAT_CHECK(b0, sz, 2000, "%s: B's first object changed", what);
        /* B's padding is inside f's chunk now: no object there */
        assert_int_equal(ph_usable_size(&th.h, (char *)(base + abytes)), 0);
        expect_fault(&th, &faults, PH_FAULT_BAD_POINTER, (char *)(base + abytes), what);
        ph_free(&th.h, f);
        CHECK_OK(&th.h, what);
        ph_free(&th.h, b0);
        stats_all_free(&th.h, what);

        /* 3. a run between two arenas joins both; while a page API page
         * separates them they stay two */
        snprintf(what, sizeof what, "page %zu, a run between two arenas", ps);
        for (size_t i = 0; i < k; i++) {
            x[i] = checked_malloc(&th, sz, NULL, what);
            pat_fill(x[i], sz, 3000 + i);
        }
        pg = (char *)ph_page_alloc(&th.h, apages);
        assert_ptr_equal(pg, (char *)(base + abytes));
        b0 = checked_malloc(&th, sz, NULL, what); /* A's rest is too small: arena B */
        assert_ptr_equal(b0, (char *)(base + 2 * abytes + PH_ALIGN));
        pat_fill(b0, sz, 3100);
        th_spans_are(&th, 2, 2 * apages, apages, what); /* separated: two */
        CHECK_OK(&th.h, what);
        ph_page_free(&th.h, pg, apages);
        th_spans_are(&th, 2, 2 * apages, 0, what); /* freeing pages merges nothing */
        CHECK_OK(&th.h, what);
        f = checked_malloc(&th, big, NULL, what);
        if ((uintptr_t)f != ur)
            fail_msg("%s: ph_malloc(%zu) = %p, expected A's rest at %p", what, big, (void *)f,
                     (void *)ur);
        pat_fill(f, big, 3200);
        th_spans_are(&th, 1, 3 * apages, 0, what);
        th_arena_is(&th, x[0], base, base + 3 * abytes, what);
        th_arena_is(&th, b0, base, base + 3 * abytes, what);
        CHECK_OK(&th.h, what);
        {   /* A's k objects, f, the free rest of the run, then b0 (no longer first) */
            wb_chunk ch[80];
            size_t n = wb_chunks(base, base + 3 * abytes, ch, 80);
            assert_true(n >= k + 3 && n <= 80);
            assert_true(ch[k].u == ur && ch[k].inuse);
            assert_true(!ch[k + 1].inuse && ch[k + 1].u == ur + fit_chunk(big) &&
                        ch[k + 1].u + ch[k + 1].size == (uintptr_t)b0);
            assert_true(ch[k + 2].u == (uintptr_t)b0 && ch[k + 2].inuse);
            assert_true((wb_hdr((uintptr_t)b0) & PH_FIT_FIRST) == 0);
        }
        /* the free rest between f and b0 is served whole */
        const size_t mid = (uintptr_t)b0 - (ur + fit_chunk(big));
        char *m = checked_malloc(&th, mid - PH_FIT_HDR, NULL, what);
        assert_ptr_equal(m, (char *)(ur + fit_chunk(big)));
        pat_fill(m, mid - PH_FIT_HDR, 3300);
        CHECK_OK(&th.h, what);
        for (size_t i = 0; i < k; i++)
            PAT_CHECK(x[i], sz, 3000 + i, "%s: A's object %zu changed", what, i);
        PAT_CHECK(b0, sz, 3100, "%s: B's object changed", what);
        PAT_CHECK(f, big, 3200, "%s: the run's object changed", what);
        PAT_CHECK(m, mid - PH_FIT_HDR, 3300, "%s: the rest's object changed", what);
        ph_free(&th.h, f);
        ph_free(&th.h, b0);
        for (size_t i = 0; i < k; i++)
            ph_free(&th.h, x[i]);
        CHECK_OK(&th.h, what);
        th_stats(&th, &st);
        assert_int_equal(st.small_spans, 1); /* m holds it */
        ph_free(&th.h, m);
        stats_all_free(&th.h, what);
        assert_int_equal(th.t.faults, faults);
        th_close(&th, "arena merge");
    }
}

/* ---- trimming at idle time ------------------------------------------------------------ */

/* The pages [p, q) lie in one free run of the page map (ph_walk). */
static void th_pages_free(theap *th, uintptr_t p, uintptr_t q, const char *what)
{
    walk_log w = { 0 };
    bool found = false;
    walk_take(&th->h, &w);
    for (size_t i = 0; i < w.n; i++) {
        uintptr_t b = (uintptr_t)w.runs[i].base, e = b + w.runs[i].npages * th->ps;
        if (w.runs[i].state == PH_PAGES_FREE && b <= p && q <= e)
            found = true;
    }
    walk_free(&w);
    if (!found)
        fail_msg("%s: the pages [%p, %p) are not free", what, (void *)p, (void *)q);
}

/* The arena's last chunk ends at end: a free one at u (when u != end) of
 * end - u bytes, else one in use. */
static void th_last_chunk(uintptr_t s, uintptr_t end, uintptr_t u, const char *what)
{
    wb_chunk ch[512];
    size_t n = wb_chunks(s, end, ch, 512);
    assert_true(n >= 1 && n <= 512);
    const wb_chunk *c = &ch[n - 1];
    if (c->u + c->size != end || (u != end && (c->inuse || c->u != u)) || (u == end && !c->inuse))
        fail_msg("%s: the last chunk of [%p, %p) is %p (%zu bytes, in use %d), expected %s %p",
                 what, (void *)s, (void *)end, (void *)c->u, c->size, (int)c->inuse,
                 u != end ? "a free one at" : "one in use, before", (void *)u);
}

/* The arena starting at s: its first chunk at s + PH_ALIGN (flag FIRST),
 * free up to n when n != s + PH_ALIGN, else the chunk at n. */
static void th_first_chunk(uintptr_t s, uintptr_t n, const char *what)
{
    uintptr_t v = s + PH_ALIGN;
    size_t hd = wb_hdr(v);
    bool ok = (hd & PH_FIT_FIRST) != 0 &&
              (v == n ? (hd & PH_FIT_CINUSE) != 0
                      : (hd & PH_FIT_CINUSE) == 0 && (hd & ~PH_FIT_FLAGS) == n - v);
    if (!ok)
        fail_msg("%s: the arena at %p starts with header %#zx, expected a first chunk %s", what,
                 (void *)s, hd, v == n ? "in use" : "free up to the next object");
}

enum { TRIM_SCAVENGE, TRIM_IDLE };

static void trim_call(theap *th, int how, const char *what)
{
    size_t r = how == TRIM_SCAVENGE ? ph_scavenge(&th->h, 0) : ph_idle(&th->h);
    if (r != 0)
        fail_msg("%s: %s released %zu bytes (granule 0)", what,
                 how == TRIM_SCAVENGE ? "ph_scavenge(h, 0)" : "ph_idle", r);
    CHECK_OK(&th->h, what);
}

typedef struct tstats {
    size_t spans, span_pages, pages_free;
} tstats;

static tstats th_t(theap *th)
{
    ph_stats st;
    th_stats(th, &st);
    tstats t = { st.small_spans, st.small_span_pages, st.pages_free };
    stats_accounting(&st, 0, "trim");
    return t;
}

static void th_t_is(theap *th, tstats want, const char *what)
{
    tstats t = th_t(th);
    if (t.spans != want.spans || t.span_pages != want.span_pages ||
        t.pages_free != want.pages_free)
        fail_msg("%s: %zu arenas of %zu pages, %zu pages free; expected %zu of %zu, %zu free",
                 what, t.spans, t.span_pages, t.pages_free, want.spans, want.span_pages,
                 want.pages_free);
}

/* Frees objects o[lo .. hi) (those still live) and marks them freed. */
static void th_free_objects(theap *th, char **o, bool *live, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++)
        if (live[i]) {
            ph_free(&th->h, o[i]);
            live[i] = false;
        }
}

/* Free chunks whose whole pages come to an arena go back to the page
 * allocator in ph_scavenge(h, 0) / ph_idle (core/src/ph_object.c,
 * fit_trim), never in ph_free:
 *  - objects filling 8 arenas' worth of runs (one merged arena), a stretch
 *    of 2.5 arenas in the middle freed: ph_free gives nothing back; the
 *    call gives back exactly the pages fit_trim_lo .. fit_trim_hi, the
 *    arena split in two there (fence before, padding and a first chunk
 *    after), the rest of the freed chunk on either side free;
 *  - a free stretch with less than an arena of whole pages stays;
 *  - a free run at the arena's head (its first chunk) and at its tail (up
 *    to the fence): the arena shrinks;
 *  - every object keeps its contents, ph_check after every step, and once
 *    every object is freed one ph_scavenge(h, 0) leaves every page free. */
static void test_trim(void **state)
{
    (void)state;
    static const size_t pss[] = { 64, 256 };
    pat_init();
    for (size_t pk = 0; pk < sizeof pss / sizeof pss[0]; pk++)
        for (int how = TRIM_SCAVENGE; how <= TRIM_IDLE; how++) {
            const size_t ps = pss[pk];
            theap th;
            char what[128];
            th_open(&th, ps, (256u << 10) / ps);
            const size_t total = th.st0.pages_total;
            const size_t apages = fit_arena_pages(PH_FIT_MIN, ps, total), abytes = apages * ps;
            const size_t sz = 200, cs = fit_chunk(sz);
            const size_t N = 8 * abytes / cs - 2;
            const size_t a = (3 * abytes / 2 + cs - 1) / cs, b = a + (5 * abytes / 2 + cs - 1) / cs;
            const size_t c = b + 5, d = c + (apages - 2) * ps / cs, f = d + 3, e = a - 3;
            const uintptr_t base = (uintptr_t)th.ri.base;
            const char *how_s = how == TRIM_SCAVENGE ? "ph_scavenge(h, 0)" : "ph_idle";
            char **o = (char **)calloc(N, sizeof *o);
            bool *live = (bool *)calloc(N, sizeof *live);
            assert_true(f + 10 < N && 8 * apages <= total >> 2);

            snprintf(what, sizeof what, "page %zu, %s: %zu objects in one arena", ps, how_s, N);
            for (size_t i = 0; i < N; i++) {
                o[i] = checked_malloc(&th, sz, NULL, what);
                live[i] = true;
                pat_fill(o[i], sz, i);
                /* one arena growing over run after run: each object right
                 * after the last one's chunk */
                if (i > 0 && (uintptr_t)o[i] != (uintptr_t)o[i - 1] + (wb_hdr((uintptr_t)o[i - 1]) & ~PH_FIT_FLAGS))
                    fail_msg("%s: object %zu at %p, not right after object %zu", what, i,
                             (void *)o[i], i - 1);
            }
            assert_ptr_equal(o[0], (char *)(base + PH_ALIGN));
            const uintptr_t E = base + 8 * abytes;
            th_arena_is(&th, o[0], base, E, what);
            tstats t0 = th_t(&th);
            assert_true(t0.spans == 1 && t0.span_pages == 8 * apages);
            ph_stats s0;
            th_stats(&th, &s0);
            /* the free rest at the tail, less than an arena: ph_idle keeps
             * it (it looks only at chunks of an arena or more), ph_scavenge
             * gives its whole pages back (an arena's free head or tail goes
             * back whatever its size: no split) */
            uintptr_t E2 = E;
            if (how == TRIM_SCAVENGE) {
                uintptr_t rest = (uintptr_t)o[N - 1] + (wb_hdr((uintptr_t)o[N - 1]) & ~PH_FIT_FLAGS);
                if (rest < E)
                    E2 = fit_trim_lo(rest, ps);
                t0.span_pages -= (E - E2) / ps;
                t0.pages_free += (E - E2) / ps;
            }
            trim_call(&th, how, what);
            th_t_is(&th, t0, what);
            th_arena_is(&th, o[0], base, E2, what);

            /* the middle stretch [a, b) */
            snprintf(what, sizeof what, "page %zu, %s: objects %zu .. %zu freed", ps, how_s, a, b - 1);
            const uintptr_t p = fit_trim_lo((uintptr_t)o[a], ps), q = fit_trim_hi((uintptr_t)o[b], ps);
            const size_t np = (q - p) / ps;
            assert_true(q > p && np >= 2 * apages);
            th_free_objects(&th, o, live, a, b);
            CHECK_OK(&th.h, what);
            th_t_is(&th, t0, what); /* ph_free gave nothing back */
            trim_call(&th, how, what);
            tstats t1 = { 2, t0.span_pages - np, t0.pages_free + np };
            th_t_is(&th, t1, what);
            th_arena_is(&th, o[0], base, p, what);
            th_arena_is(&th, o[b], q, E2, what);
            th_last_chunk(base, p, (uintptr_t)o[a], what);
            th_first_chunk(q, (uintptr_t)o[b], what);
            th_pages_free(&th, p, q, what);
            for (size_t i = 0; i < N; i++)
                if (live[i])
                    PAT_CHECK(o[i], sz, i, "%s: object %zu changed", what, i);
            /* the rest before the pages is served whole where it starts */
            if (p - (uintptr_t)o[a] >= PH_FIT_MIN) {
                char *r = checked_malloc(&th, p - (uintptr_t)o[a] - PH_FIT_HDR, NULL, what);
                assert_ptr_equal(r, o[a]);
                th_t_is(&th, t1, what);
                ph_free(&th.h, r);
            }
            CHECK_OK(&th.h, what);

            /* a stretch [c, d) with less than an arena of whole pages stays */
            snprintf(what, sizeof what, "page %zu, %s: objects %zu .. %zu freed", ps, how_s, c, d - 1);
            {
                uintptr_t p2 = fit_trim_lo((uintptr_t)o[c], ps), q2 = fit_trim_hi((uintptr_t)o[d], ps);
                assert_true(q2 <= p2 || (q2 - p2) / ps < apages);
                assert_true(d - c >= 2);
            }
            th_free_objects(&th, o, live, c, d);
            trim_call(&th, how, what);
            th_t_is(&th, t1, what);
            th_arena_is(&th, o[b], q, E2, what);

            /* the head: objects [0, e), the arena's first chunk */
            snprintf(what, sizeof what, "page %zu, %s: objects 0 .. %zu freed (the head)", ps,
                     how_s, e - 1);
            const uintptr_t qh = fit_trim_hi((uintptr_t)o[e], ps);
            const size_t nh = (qh - base) / ps;
            assert_true(qh > base && nh >= apages);
            th_free_objects(&th, o, live, 0, e);
            th_t_is(&th, t1, what);
            trim_call(&th, how, what);
            tstats t2 = { 2, t1.span_pages - nh, t1.pages_free + nh };
            th_t_is(&th, t2, what);
            th_arena_is(&th, o[e], qh, p, what);
            th_first_chunk(qh, (uintptr_t)o[e], what);
            th_pages_free(&th, base, qh, what);

            /* the tail: objects [f, N) and the arena's free rest, up to the fence */
            snprintf(what, sizeof what, "page %zu, %s: objects %zu .. %zu freed (the tail)", ps,
                     how_s, f, N - 1);
            const uintptr_t pt = fit_trim_lo((uintptr_t)o[f], ps);
            const size_t nt = (E2 - pt) / ps;
            assert_true(pt < E2 && (how == TRIM_SCAVENGE || nt >= apages));
            th_free_objects(&th, o, live, f, N);
            th_t_is(&th, t2, what);
            trim_call(&th, how, what);
            tstats t3 = { 2, t2.span_pages - nt, t2.pages_free + nt };
            th_t_is(&th, t3, what);
            th_arena_is(&th, o[b], q, pt, what);
            th_last_chunk(q, pt, (uintptr_t)o[f], what);
            th_pages_free(&th, pt, E2, what);
            for (size_t i = 0; i < N; i++)
                if (live[i])
                    PAT_CHECK(o[i], sz, i, "%s: object %zu changed", what, i);

            /* the arenas still serve: the trimmed pages come back as an
             * arena run when asked for */
            snprintf(what, sizeof what, "page %zu, %s: every object freed", ps, how_s);
            th_free_objects(&th, o, live, 0, N);
            stats_all_free(&th.h, what);
            assert_int_equal(th.t.faults, 0);
            free(o);
            free(live);
            th_close(&th, "trim");
        }
}

/* Freed all at once (no trim in between), a merged arena of many runs with
 * a live object at each end, then those two: every page free after one
 * ph_scavenge(h, 0). */
static void test_trim_all_free(void **state)
{
    (void)state;
    const size_t ps = 128;
    theap th;
    rng_t r;
    pat_init();
    th_open(&th, ps, 8192); /* 1 MiB */
    rng_seed(&r, test_seed("objects/trim_all_free", 0x7121ULL));
    enum { N = 2000 };
    obj *o = (obj *)calloc(N, sizeof *o);
    for (size_t i = 0; i < N; i++) {
        size_t s = rng_pct(&r, 97) ? rng_range(&r, 0, 300) : rng_range(&r, 301, 2048);
        o[i].p = checked_malloc(&th, s, &o[i].usable, "trim all free");
        o[i].id = i;
        pat_fill(o[i].p, o[i].usable, i);
    }
    check_no_overlap(o, N, "trim all free");
    th_accounting(&th, 0, "trim all free");
    /* free all but the first and the last in a random order, trimming now and then */
    for (size_t i = N - 2; i > 1; i--) {
        size_t j = 1 + rng_below(&r, i);
        obj t = o[i];
        o[i] = o[j];
        o[j] = t;
    }
    for (size_t i = 1; i + 1 < N; i++) {
        PAT_CHECK(o[i].p, o[i].usable, o[i].id, "trim all free: object changed");
        ph_free(&th.h, o[i].p);
        if (i % 200 == 0) {
            assert_int_equal(ph_scavenge(&th.h, 0), 0);
            CHECK_OK(&th.h, "trim all free");
            th_accounting(&th, 0, "trim all free");
            for (size_t k = i + 1; k + 1 < N; k += 37)
                PAT_CHECK(o[k].p, o[k].usable, o[k].id, "trim all free: object changed");
        }
    }
    PAT_CHECK(o[0].p, o[0].usable, o[0].id, "trim all free: the first object changed");
    PAT_CHECK(o[N - 1].p, o[N - 1].usable, o[N - 1].id, "trim all free: the last object changed");
    ph_free(&th.h, o[0].p);
    ph_free(&th.h, o[N - 1].p);
    stats_all_free(&th.h, "trim all free");
    free(o);
    assert_int_equal(th.t.faults, 0);
    th_close(&th, "trim all free");
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
        /* first fit: the page run, the arena (the first chunk at its start
         * + PH_ALIGN), the large object, in a row */
        char *span = s - PH_ALIGN;
        ph_stats st0;
        th_stats(&th, &st0);
        const size_t span_pages = st0.small_span_pages;
        assert_int_equal(st0.small_spans, 1);
        assert_int_equal(span_pages, fit_arena_pages(fit_chunk(48), ps, st0.pages_total));
        assert_ptr_equal(pg, th.ri.base);
        assert_ptr_equal(span, pg + 3 * ps);
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
                "ph_page_free(arena page)");
        REFUSED(&th, span, PH_FAULT_BAD_POINTER, ph_page_free(&th.h, span, span_pages),
                "ph_page_free(whole arena)");
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
        cmocka_unit_test(test_chunk_sizes),
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_fit_packing),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_lifo),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_realloc_paths),
        cmocka_unit_test(test_aligned_alloc),
        cmocka_unit_test(test_large_objects),
        cmocka_unit_test(test_empty_arenas),
        cmocka_unit_test(test_arena_cache),
        cmocka_unit_test(test_arena_merge),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_trim_all_free),
        cmocka_unit_test(test_page_object_mixing),
    };
    return cmocka_run_group_tests_name("objects", tests, NULL, NULL);
}
