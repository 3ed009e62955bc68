/* SPDX-License-Identifier: MIT */
/*
 * suite_objects.c: the object layer (ph_malloc and the rest) on target, on
 * heaps of the suite's own in the static arena.
 *
 *   fit-chunks       the fit layer's geometry (suite.h's model): every
 *                    request up to PH_SMALL_MAX gets an aligned chunk with
 *                    its usable size, never a page run, in an arena of the
 *                    modelled size; arenas packed with as many objects as
 *                    they hold, the next one opening a second arena; free
 *                    joining its free neighbours at once (a joined chunk
 *                    served whole, LIFO exact lists); realloc in place;
 *                    the empty-arena cache (the lowest arena, only while
 *                    1/8 of the pages are free, reused, given back by
 *                    ph_scavenge and by an allocation that would fail);
 *                    refusals of an arena's padding and fence, interior,
 *                    misaligned pointers and pointers into free chunks,
 *                    each changing nothing but the fault count.
 *   objects-refusals every bad pointer given to ph_free, ph_realloc and
 *                    ph_usable_size (foreign memory, metadata, gaps, page
 *                    API runs, interior pointers, an arena's padding,
 *                    objects freed already, free chunks): one fault with the right code and
 *                    address, statistics, heap map and every live object's
 *                    contents unchanged; out of memory changes nothing.
 *   malloc-basics    malloc(0), free(NULL), usable sizes, alignment, calloc
 *                    over dirty memory and its overflow, every realloc path,
 *                    aligned_alloc for every power of two, page-run objects.
 *   objects-random   random malloc / calloc / realloc / aligned_alloc /
 *                    free with fill-and-verify, no overlap, page accounting
 *                    after every operation, ph_check every few, bad frees,
 *                    out-of-memory phases with full recovery, scavenges
 *                    under the suite's simulated gate (calloc reads zero
 *                    from re-acquired memory).
 */
#include <stdio.h>
#include <string.h>

#include "suite.h"
#include "cache_stats.h"


/* ---- what a request gets -------------------------------------------------- */

/* Small requests are chunks of a fit arena, never page runs (but
 * ph_aligned_alloc with a large alignment); the rest are page runs. */
static bool expect_small(size_t size)
{
    return size <= PH_SMALL_MAX;
}

/* A usable size ph_malloc(h, size) may give: the request's chunk (suite.h's
 * model), or whole pages for a page run. */
static bool usable_ok(size_t size, size_t ps, size_t u)
{
    if (!expect_small(size))
        return u == align_up(size != 0 ? size : 1, ps);
    return suite_fit_usable_ok(size, u);
}

/* After a failed allocation b must be a, or a with the empty-arena cache
 * given back (its pages free, no cached arena) and nothing else changed;
 * the longest free run may only have grown, and only if the cache held an
 * arena. */
static bool failed_stats_ok(const ph_stats *a, const ph_stats *b)
{
    ph_stats e;
    if (memcmp(a, b, sizeof *a) == 0) /* nothing given back: it could not help */
        return true;
    e = ph_ref_stats_cache_given_back(a, b);
    if (memcmp(&e, b, sizeof e) != 0) {
        const size_t *x = (const size_t *)&e, *y = (const size_t *)b;
        for (size_t i = 0; i < sizeof e / sizeof(size_t); i++)
            if (x[i] != y[i])
                printf("suite: stats field %u: expected %lu, got %lu\n", (unsigned)i,
                       (unsigned long)x[i], (unsigned long)y[i]);
        return false;
    }
    return true;
}

/* Every object freed: only the empty-arena cache holds pages, and one
 * ph_scavenge(h, 0) gives them back; then every page is free, no arena, no
 * large object. */
static void all_free_at(ph_heap *h, const char *file, int line)
{
    ph_stats s;
    ph_get_stats(h, &s);
    suite_checks++;
    if (s.small_spans != s.cached_spans || s.small_span_pages * s.page_size != s.cached_bytes ||
        s.large_objects != 0 || s.pages_total - s.pages_free != s.small_span_pages)
        suite_fail(file, line, "every object freed, but %lu arenas (%lu cached), %lu large objects",
                   (unsigned long)s.small_spans, (unsigned long)s.cached_spans,
                   (unsigned long)s.large_objects);
    suite_checks++;
    if (ph_scavenge(h, 0) != 0)
        suite_fail(file, line, "ph_scavenge(h, 0) released memory");
    ph_get_stats(h, &s);
    suite_checks++;
    if (s.cached_spans != 0 || s.pages_free != s.pages_total || s.small_spans != 0 || s.small_span_pages != 0 ||
        s.large_objects != 0 || s.large_pages != 0)
        suite_fail(file, line, "not all free: %lu of %lu pages free, %lu arenas, %lu large objects",
                   (unsigned long)s.pages_free, (unsigned long)s.pages_total,
                   (unsigned long)s.small_spans, (unsigned long)s.large_objects);
    int rc = ph_check(h);
    suite_checks++;
    if (rc != PH_OK)
        suite_fail(file, line, "ph_check = %d", rc);
}
#define ALL_FREE(h) all_free_at((h), __FILE__, __LINE__)

/* One region of `pages` usable pages (about) at the start of the arena. */
static bool one_region_heap(size_t ps, size_t bytes, size_t granule)
{
    uintptr_t base = align_up((uintptr_t)suite_arena, ps);
    size_t avail = SUITE_ARENA_BYTES - (size_t)(base - (uintptr_t)suite_arena);
    if (bytes > avail)
        bytes = avail;
    sport_init(&suite_port, granule, false);
    SUITE_EQ(ph_init(&suite_heap, ps, &suite_port.port), PH_OK);
    return ph_add_region(&suite_heap, (void *)base, bytes, granule) == PH_OK;
}

/* ========================================================================
 * objects-refusals
 * ====================================================================== */

#define NLIVE 16

typedef struct olive {
    char *p;
    size_t usable;
    uint32_t id;
} olive;

typedef struct ofix {
    size_t ps;
    ph_region_info A, B;
    olive lv[NLIVE];
    size_t nlive;
    char *pg;            /* ph_page_alloc(2)                               */
    char *s16[4];        /* 16 bytes, the first one its arena's first chunk */
    char *m1, *m2;       /* 100 bytes, f1 between them                     */
    char *sm;            /* 700 bytes                                      */
    char *L;             /* a page-run object of a few pages               */
    size_t lsize;
    char *al64, *al1k;   /* aligned 64 (a chunk at 128-byte pages, a page
                            run at 64), 1024 (a page run)                  */
    char *lb;            /* a page run too big for A: in B                 */
    char *f1;            /* freed: a free chunk between live ones          */
    char *alone;         /* freed, its own arena given back                */
    char *fl;            /* freed page-run object                          */
} ofix;

static ofix of;

/* The regions' sizes are fixed in bytes (72 and 96 pages of 128 bytes), not
 * in pages: the fixture's objects (700 and 1400 bytes, a 1024-aligned one,
 * page runs of a few pages) take about the same bytes at any page size, so
 * at 64-byte pages A needs as many bytes as at 128, not half of them (with
 * 72 pages of 64 bytes, A overflowed into B and the page run meant for B
 * found no room: arenas of 12.7..48 KiB failed here).  The page size is the
 * largest of 128 and 64 whose fixture fits the arena. */
#define OF_ABYTES (72u * 128u)
#define OF_BBYTES (96u * 128u)
#define OF_META (8u * 128u) /* room for a region's metadata and alignment */

static size_t ofix_bytes_at(size_t ps)
{
    /* alignment slack, 3 pages + 40 before A, A + its metadata + 100, a gap
     * of 7 pages + 8, B + its metadata, and a little room for rounding */
    return ps + 3 * ps + 40 + OF_ABYTES + OF_META + 100 + 7 * ps + 8 + OF_BBYTES + OF_META + 52;
}

static size_t ofix_ps(void)
{
    return ofix_bytes_at(128u) <= SUITE_ARENA_BYTES ? 128u : 64u;
}

static size_t ofix_bytes(void)
{
    return ofix_bytes_at(ofix_ps());
}

static char *keep(char *p)
{
    SUITE_CHECK(p != NULL && of.nlive < NLIVE);
    olive *l = &of.lv[of.nlive];
    l->p = p;
    l->usable = ph_usable_size(&suite_heap, p);
    l->id = 100u + (uint32_t)of.nlive;
    pat_fill(p, l->usable, l->id);
    of.nlive++;
    return p;
}

static void ofix_open(void)
{
    memset(&of, 0, sizeof of);
    const size_t ps = ofix_ps();
    of.ps = ps;
    char *buf = (char *)align_up((uintptr_t)suite_arena, ps);
    memset(buf, 0x5A, ofix_bytes() - ps);
    char *a = buf + 3 * ps + 40; /* unaligned */
    size_t asz = OF_ABYTES + OF_META + 100;
    char *b = a + asz + 7 * ps + 8; /* a gap */
    size_t bsz = OF_BBYTES + OF_META;
    SUITE_CHECK(b + bsz <= (char *)suite_arena + SUITE_ARENA_BYTES);
    sport_init(&suite_port, 0, false);
    SUITE_EQ(ph_init(&suite_heap, ps, &suite_port.port), PH_OK);
    SUITE_EQ(ph_add_region(&suite_heap, b, bsz, 0), PH_OK);
    SUITE_EQ(ph_add_region(&suite_heap, a, asz, 0), PH_OK);
    SUITE_EQ(ph_get_region(&suite_heap, 0, &of.A), PH_OK);
    SUITE_EQ(ph_get_region(&suite_heap, 1, &of.B), PH_OK);
    SUITE_PTR_EQ(of.A.raw_base, a);
    SUITE_PTR_EQ(of.B.raw_base, b);
    SUITE_CHECK(of.A.npages >= OF_ABYTES / ps && of.B.npages >= OF_BBYTES / ps &&
                of.B.npages > of.A.npages + 2);

    of.pg = (char *)ph_page_alloc(&suite_heap, 2);
    SUITE_PTR_EQ(of.pg, of.A.base);
    pat_fill(of.pg, 2 * ps, 1);
    for (int i = 0; i < 4; i++)
        of.s16[i] = keep((char *)ph_malloc(&suite_heap, 16));
    of.m1 = keep((char *)ph_malloc(&suite_heap, 100));
    of.f1 = (char *)ph_malloc(&suite_heap, 100);
    of.m2 = keep((char *)ph_malloc(&suite_heap, 100));
    of.sm = keep((char *)ph_malloc(&suite_heap, 700));
    of.alone = (char *)ph_malloc(&suite_heap, 1400);
    of.lsize = PH_SMALL_MAX + 1 + 3 * ps; /* a few pages */
    of.L = keep((char *)ph_malloc(&suite_heap, of.lsize));
    of.fl = (char *)ph_malloc(&suite_heap, of.lsize);
    of.al64 = keep((char *)ph_aligned_alloc(&suite_heap, 64, 100));
    of.al1k = keep((char *)ph_aligned_alloc(&suite_heap, 1024, 50));
    of.lb = keep((char *)ph_malloc(&suite_heap, (of.A.npages + 1) * ps));
    SUITE_CHECK(of.f1 != NULL && of.alone != NULL && of.fl != NULL);
    ph_free(&suite_heap, of.f1);
    ph_free(&suite_heap, of.alone);
    ph_scavenge(&suite_heap, 0); /* alone's arena, cached empty, goes back */
    ph_free(&suite_heap, of.fl);
    SUITE_CHECK(in_range(of.lb, of.B.base, of.B.npages * ps));
    SUITE_CHECK(in_range(of.L, of.A.base, of.A.npages * ps));
    SUITE_CHECK((uintptr_t)of.L % ps == 0 && (uintptr_t)of.al1k % 1024 == 0);
    /* the first object opened the first arena: its first chunk is
     * PH_ALIGN bytes past the arena's first page (after the page API run) */
    SUITE_PTR_EQ(of.s16[0], of.pg + 2 * ps + PH_ALIGN);
    SUITE_EQ(suite_port.faults, 0);
    SUITE_HEAP_OK(&suite_heap);
}

typedef struct osnap {
    snapshot s;
    size_t usable[NLIVE];
} osnap;

static void osnap_take(osnap *s)
{
    snap_take(&suite_heap, &s->s);
    for (size_t i = 0; i < of.nlive; i++)
        s->usable[i] = ph_usable_size(&suite_heap, of.lv[i].p);
}

static void osnap_same(const osnap *s, size_t faults_delta, int line)
{
    snap_assert_same(&suite_heap, &s->s, faults_delta, __FILE__, line);
    for (size_t i = 0; i < of.nlive; i++) {
        const olive *l = &of.lv[i];
        suite_checks++;
        if (ph_usable_size(&suite_heap, l->p) != s->usable[i] || pat_find_bad(l->p, l->usable, l->id) != SIZE_MAX)
            suite_fail(__FILE__, line, "live object %p (id %lu) changed", (void *)l->p,
                       (unsigned long)l->id);
    }
    suite_checks++;
    if (of.pg != NULL && pat_find_bad(of.pg, 2 * of.ps, 1) != SIZE_MAX)
        suite_fail(__FILE__, line, "the page API run changed");
    sport_assert_quiet(&suite_port, __FILE__, line);
}

enum { OP_FREE, OP_REALLOC, OP_REALLOC0, OP_USABLE, NOPS };

/* The objects of a test threaded through themselves (their first word). */
static void *fit_push(void *list, void *o)
{
    *(void **)o = list;
    return o;
}

static void fit_free_list(void *list)
{
    while (list != NULL) {
        void *next = *(void **)list;
        ph_free(&suite_heap, list);
        list = next;
    }
}

/* The same for a list of single pages from ph_page_alloc; the list is
 * empty again after it. */
static void fit_free_pages(void **list)
{
    while (*list != NULL) {
        void *next = *(void **)*list;
        ph_page_free(&suite_heap, *list, 1);
        *list = next;
    }
}

/* Every entry point on p is refused with `code`. */
static void refused_at(const void *p, int code, const char *name, int line)
{
    for (int op = 0; op < NOPS; op++) {
        osnap s;
        unsigned long f0 = suite_port.faults;
        void *q = NULL;
        size_t u = 0;
        osnap_take(&s);
        void *bad = suite_opaque((void *)(uintptr_t)p);
        switch (op) {
        case OP_FREE:
            ph_free(&suite_heap, bad);
            break;
        case OP_REALLOC:
            q = ph_realloc(&suite_heap, bad, 32);
            break;
        case OP_REALLOC0:
            q = ph_realloc(&suite_heap, bad, 0);
            break;
        default:
            u = ph_usable_size(&suite_heap, bad);
            break;
        }
        suite_checks++;
        if (q != NULL || u != 0 || suite_port.faults != f0 + 1 || suite_port.last_code != code ||
            suite_port.last_addr != p)
            suite_fail(__FILE__, line,
                       "%s (%p), call %d: returned %p / %lu, %lu faults, code %d (expected %d), address %p",
                       name, p, op, q, (unsigned long)u, suite_port.faults - f0, suite_port.last_code, code,
                       suite_port.last_addr);
        osnap_same(&s, 1, line);
    }
}
#define BAD(p, name) refused_at((p), PH_FAULT_BAD_POINTER, (name), __LINE__)
#define DBL(p, name) refused_at((p), PH_FAULT_DOUBLE_FREE, (name), __LINE__)

void group_objects_refusals(void)
{
    suite_group_begin("objects-refusals");
    if (ofix_bytes() > SUITE_ARENA_BYTES) {
        static char why[80];
        snprintf(why, sizeof why, "its fixture needs %lu bytes, the arena has %lu",
                 (unsigned long)ofix_bytes(), (unsigned long)SUITE_ARENA_BYTES);
        suite_group_skip(why);
        return;
    }
    ofix_open();
    const size_t ps = of.ps;
    static int a_static;
    int a_local = 0;
    char *alim = (char *)of.A.base + of.A.npages * ps;
    char *blim = (char *)of.B.base + of.B.npages * ps;

    /* foreign memory */
    BAD(&a_local, "a stack variable");
    BAD(&a_static, "a static variable");
    BAD((void *)(uintptr_t)16, "address 16");
    BAD((void *)(UINTPTR_MAX & ~(uintptr_t)15), "the top of the address space");
    /* around and between the regions */
    BAD((char *)of.A.raw_base - 16, "16 bytes below the heap");
    BAD(of.A.raw_base, "A's raw base");
    BAD(of.A.meta_base, "A's metadata");
    BAD((char *)of.A.base - PH_ALIGN, "A's last metadata bytes");
    BAD(alim, "the first byte past A's pages");
    BAD((char *)of.A.raw_base + of.A.raw_size + 2 * ps, "the gap between A and B");
    BAD(of.B.meta_base, "B's metadata");
    BAD(blim, "the first byte past the heap");
    BAD(blim + ps, "a page past the heap");
    /* page API memory */
    BAD(of.pg, "a ph_page_alloc run");
    BAD(of.pg + ps, "a ph_page_alloc run + 1 page");
    BAD(of.pg + PH_ALIGN, "a ph_page_alloc run + PH_ALIGN");
    /* interior pointers */
    BAD(of.s16[0] + 1, "16-byte object + 1");
    BAD(of.s16[1] + 8, "16-byte object + 8");
    BAD(of.s16[3] + 15, "16-byte object + 15");
    BAD(of.m1 + 1, "100-byte object + 1");
    BAD(of.m1 + PH_ALIGN, "100-byte object + PH_ALIGN");
    BAD(of.m2 + ph_usable_size(&suite_heap, of.m2) - 1, "100-byte object's last byte");
    BAD(of.sm + 1, "700-byte object + 1");
    BAD(of.sm + 350, "700-byte object + 350");
    BAD(of.al64 + 32, "aligned(64) object + 32");
    size_t lu = ph_usable_size(&suite_heap, of.L);
    BAD(of.L + 1, "page-run object + 1");
    BAD(of.L + PH_ALIGN, "page-run object + PH_ALIGN");
    BAD(of.L + ps, "page-run object's second page");
    BAD(of.L + lu - ps, "page-run object's last page");
    BAD(of.L + lu - 1, "page-run object's last byte");
    BAD(of.al1k + ps / 2, "aligned(1024) run + half a page"); /* + 64 would be a free page at 64-byte pages */
    BAD(of.lb + 10 * ps, "page run in B, page 10");
    /* an arena's padding and its first chunk's header */
    BAD(of.s16[0] - PH_ALIGN, "an arena's first byte (padding)");
    BAD(of.s16[0] - SUITE_FIT_HDR, "an arena's first chunk header");
    BAD(of.s16[1] - SUITE_FIT_HDR, "a chunk header");
    BAD(of.m1 + 2, "100-byte object + 2 (misaligned)");
    /* already free */
    DBL(of.f1, "a freed object, its arena alive");
    DBL(of.f1 + PH_ALIGN, "inside a freed object's chunk");
    DBL(of.alone, "a freed object whose arena went back");
    DBL(of.fl, "a freed page-run object");
    DBL(of.fl + ps, "a freed page-run object's second page");
    DBL(alim - ps, "a free page of A never allocated");
    DBL(blim - ps, "B's last page, free");
    const unsigned long refused = suite_port.faults;

    /* out of memory: NULL, no fault, nothing changed */
    {
        osnap s;
        osnap_take(&s);
        SUITE_PTR_EQ(ph_malloc(&suite_heap, (of.B.npages + 1) * ps), NULL);
        SUITE_PTR_EQ(ph_malloc(&suite_heap, SIZE_MAX), NULL);
        SUITE_PTR_EQ(ph_malloc(&suite_heap, SIZE_MAX - ps), NULL);
        SUITE_PTR_EQ(ph_calloc(&suite_heap, suite_opaque_size(SIZE_MAX / 2), 3), NULL);
        SUITE_PTR_EQ(ph_calloc(&suite_heap, suite_opaque_size(1u << 16), 1u << 16), NULL);
        SUITE_PTR_EQ(ph_aligned_alloc(&suite_heap, 4096, (of.B.npages + 1) * ps), NULL);
        SUITE_PTR_EQ(ph_realloc(&suite_heap, of.L, (of.B.npages + 1) * ps), NULL);
        osnap_same(&s, 0, __LINE__);
        SUITE_EQ(suite_port.faults, refused);
        /* take every free page (a list threaded through them): then a
         * small request fails too */
        void *pages = NULL;
        void **pg;
        while ((pg = (void **)ph_page_alloc(&suite_heap, 1)) != NULL) {
            *pg = pages;
            pages = pg;
        }
        osnap_take(&s);
        SUITE_PTR_EQ(ph_malloc(&suite_heap, PH_SMALL_MAX), NULL);
        /* a chunk as big as all the arenas' pages together: no free chunk
         * of an arena has room */
        ph_stats st;
        ph_get_stats(&suite_heap, &st);
        size_t nofit = st.small_span_pages * ps;
        if (nofit <= PH_SMALL_MAX)
            SUITE_PTR_EQ(ph_malloc(&suite_heap, nofit), NULL);
        SUITE_PTR_EQ(ph_aligned_alloc(&suite_heap, 2 * PH_ALIGN, PH_SMALL_MAX), NULL);
        osnap_same(&s, 0, __LINE__);
        fit_free_pages(&pages);
    }

    /* a second free right after a good one, for every live object */
    while (of.nlive > 0) {
        size_t i = of.nlive / 2;
        olive k = of.lv[i];
        PAT_CHECK(k.p, k.usable, k.id);
        ph_free(&suite_heap, k.p);
        SUITE_HEAP_OK(&suite_heap);
        of.lv[i] = of.lv[--of.nlive];
        DBL(k.p, "an object freed twice");
    }
    ph_page_free(&suite_heap, of.pg, 2);
    ALL_FREE(&suite_heap);
    SPORT_QUIET(&suite_port);
    suite_group_end("%lu refused calls on %lu pointers", suite_port.faults, refused / NOPS);
}

/* ========================================================================
 * fit-chunks
 * ====================================================================== */


/* A fresh all-free heap for the next test: the live table emptied. */
static void fit_reset(size_t ps)
{
    memset(&of, 0, sizeof of);
    of.ps = ps;
}

static ph_stats fit_stats(void)
{
    ph_stats st;
    ph_get_stats(&suite_heap, &st);
    return st;
}

/* Every request 0 .. PH_SMALL_MAX on an empty heap: an aligned chunk of the
 * model's usable size in one new arena of the model's size, never a page
 * run; its whole usable size written; freed, the cache given back, every
 * page free.  Returns the requests whose chunk took the arena's small rest
 * (a larger usable size). */
static size_t fit_requests(size_t ps)
{
    size_t above = 0;
    ph_stats st = fit_stats();
    for (size_t n = 0; n <= PH_SMALL_MAX; n++) {
        size_t cs = suite_fit_chunk(n);
        char *p = (char *)ph_malloc(&suite_heap, n);
        size_t u = p != NULL ? ph_usable_size(&suite_heap, p) : 0;
        st = fit_stats();
        size_t want = suite_fit_arena_pages(st.pages_total, ps, cs);
        suite_checks++;
        if (p == NULL || (uintptr_t)p % PH_ALIGN != 0 || !suite_fit_usable_ok(n, u) ||
            st.large_objects != 0 || st.small_spans != 1 || st.small_span_pages != want ||
            (uintptr_t)p % ps != PH_ALIGN)
            suite_fail(__FILE__, __LINE__,
                       "page %lu: ph_malloc(%lu) = %p, usable %lu (chunk %lu); %lu arenas of %lu "
                       "pages (expected 1 of %lu), %lu large objects",
                       (unsigned long)ps, (unsigned long)n, (void *)p, (unsigned long)u,
                       (unsigned long)cs, (unsigned long)st.small_spans,
                       (unsigned long)st.small_span_pages, (unsigned long)want,
                       (unsigned long)st.large_objects);
        above += u != cs - SUITE_FIT_HDR;
        memset(p, 0xA5, u); /* the next chunk's header and the fence survive it */
        if (n % 128 == 0 || n == PH_SMALL_MAX)
            SUITE_HEAP_OK(&suite_heap);
        ph_free(&suite_heap, p);
        ph_scavenge(&suite_heap, 0); /* the cached arena back */
        st = fit_stats();
        suite_checks++;
        if (st.pages_free != st.pages_total || st.small_spans != 0 || st.cached_spans != 0)
            suite_fail(__FILE__, __LINE__, "ph_malloc(%lu) freed: %lu of %lu pages free, %lu arenas",
                       (unsigned long)n, (unsigned long)st.pages_free,
                       (unsigned long)st.pages_total, (unsigned long)st.small_spans);
    }
    SUITE_HEAP_OK(&suite_heap);
    return above;
}

/* Objects of n bytes fill one arena: as many as its chunks' bytes (the
 * arena less PH_ALIGN: padding and fence) hold, from its first chunk at
 * PH_ALIGN past its first page, the rest of it one more chunk (or kept by
 * the last object when too small for a chunk); the next object needs a
 * new run, the one right after the arena, which the arena grows over (its
 * fence the new object's header: one arena of twice the pages).  On the
 * full arena: its padding, the first chunk's header, the old fence, the
 * new fence, interior and misaligned pointers are refused, changing
 * nothing.  Returns false when the heap is too small for two such runs. */
static char **fit_objs; /* fit_objs_max entries, from the scratch area */
static size_t fit_objs_max;

static bool fit_pack(size_t ps, size_t n)
{
    ph_stats st = fit_stats();
    const size_t cs = suite_fit_chunk(n);
    const size_t apages = suite_fit_arena_pages(st.pages_total, ps, cs), abytes = apages * ps;
    const size_t k = (abytes - PH_ALIGN) / cs, rest = abytes - PH_ALIGN - k * cs;
    if (2 * apages > st.largest_free_run || k + 2 > fit_objs_max)
        return false;
    fit_reset(ps);
    size_t nobj = 0;
    char *first = NULL, *arena = NULL, *last = NULL;
    for (size_t i = 0; i < k; i++) {
        char *o = (char *)ph_malloc(&suite_heap, n);
        SUITE_CHECKF(o != NULL, "%lu-byte object %lu of %lu", (unsigned long)n, (unsigned long)i,
                     (unsigned long)k);
        if (i == 0) {
            first = o;
            arena = o - PH_ALIGN;
            SUITE_CHECKF((uintptr_t)arena % ps == 0, "the first chunk %p is not PH_ALIGN past a page",
                         (void *)o);
        }
        size_t u = ph_usable_size(&suite_heap, o);
        st = fit_stats();
        SUITE_CHECKF(st.small_spans == 1 && st.small_span_pages == apages &&
                         in_range(o, arena, abytes) && in_range(o + u - 1, arena, abytes) &&
                         suite_fit_usable_ok(n, u),
                     "%lu-byte object %lu of %lu: %p (usable %lu) in %lu arenas of %lu pages, the "
                     "first at %p (%lu pages)",
                     (unsigned long)n, (unsigned long)i, (unsigned long)k, (void *)o, (unsigned long)u,
                     (unsigned long)st.small_spans, (unsigned long)st.small_span_pages, (void *)arena,
                     (unsigned long)apages);
        fit_objs[nobj++] = o;
        last = o;
    }
    if (rest >= SUITE_FIT_MIN) { /* the rest as one chunk: the arena is full */
        last = (char *)ph_malloc(&suite_heap, rest - SUITE_FIT_HDR);
        SUITE_CHECK(last != NULL);
        SUITE_EQ(ph_usable_size(&suite_heap, last), rest - SUITE_FIT_HDR);
        fit_objs[nobj++] = last;
    } else {
        SUITE_EQ(ph_usable_size(&suite_heap, last), cs - SUITE_FIT_HDR + rest);
    }
    st = fit_stats();
    SUITE_EQ(st.small_spans, 1);
    /* the last chunk ends at the fence, the arena's last PH_FIT_HDR bytes */
    char *end = arena + abytes;
    SUITE_PTR_EQ(last + ph_usable_size(&suite_heap, last), end - SUITE_FIT_HDR);
    char *o2 = (char *)ph_malloc(&suite_heap, n);
    SUITE_PTR_EQ(o2, end); /* its header where the fence was */
    st = fit_stats();
    SUITE_EQ(st.small_spans, 1);
    SUITE_EQ(st.small_span_pages, 2 * apages);
    STATS_ACCOUNTING(&suite_heap, 0);
    SUITE_HEAP_OK(&suite_heap);

    keep(first);
    if (last != first)
        keep(last);
    keep(o2);
    BAD(arena, "an arena's first byte (padding)");
    BAD(first - SUITE_FIT_HDR, "an arena's first chunk header");
    BAD(first + PH_ALIGN, "an object + PH_ALIGN");
    BAD(first + 1, "an object + 1");
    BAD(first + SUITE_FIT_HDR / 2, "an object + half a word");
    BAD(last + PH_ALIGN, "the last object + PH_ALIGN");
    BAD(end - PH_ALIGN, "the last object's last PH_ALIGN bytes");
    BAD(end - SUITE_FIT_HDR, "the old fence, now the header of the chunk after it");
    BAD(end + abytes - SUITE_FIT_HDR, "the fence of the arena grown over a second run");
    BAD(o2 + SUITE_FIT_HDR, "the object in the second run + a word");
    of.nlive = 0;

    /* o2 freed: the second run is a free tail, which ph_free keeps and
     * ph_scavenge(h, 0) gives back (apages whole pages from the old fence
     * on, at least an arena's), the fence back where it was */
    ph_free(&suite_heap, o2);
    st = fit_stats();
    SUITE_CHECK(st.small_spans == 1 && st.small_span_pages == 2 * apages);
    SUITE_EQ(ph_scavenge(&suite_heap, 0), 0);
    st = fit_stats();
    SUITE_CHECKF(st.small_spans == 1 && st.small_span_pages == apages,
                 "the free tail not trimmed: %lu arenas of %lu pages, expected 1 of %lu",
                 (unsigned long)st.small_spans, (unsigned long)st.small_span_pages,
                 (unsigned long)apages);
    STATS_ACCOUNTING(&suite_heap, 0);
    SUITE_HEAP_OK(&suite_heap);
    keep(first);
    BAD(end - SUITE_FIT_HDR, "the fence again, after the trim");
    DBL(end, "a page the trim gave back");
    of.nlive = 0;
    for (size_t i = 0; i < nobj; i++)
        ph_free(&suite_heap, fit_objs[i]);
    ALL_FREE(&suite_heap);
    return true;
}

/* Free joins its free neighbours at once: a chunk freed between two free
 * ones makes one chunk, served whole to a request of its size; exact
 * lists are LIFO; pointers to and into free chunks are refused as double
 * frees; realloc shrinks in place and grows into the free chunk after. */
static void fit_join(size_t ps)
{
    const size_t n = 2u * PH_ALIGN, cs = suite_fit_chunk(n);
    char *o[6];
    fit_reset(ps);
    for (int i = 0; i < 6; i++) {
        o[i] = (char *)ph_malloc(&suite_heap, n);
        SUITE_CHECK(o[i] != NULL);
        if (i > 0) /* carved one after the other from the new arena */
            SUITE_PTR_EQ(o[i], o[i - 1] + cs);
    }
    SUITE_EQ(fit_stats().small_spans, 1);
    keep(o[0]);
    keep(o[4]);
    keep(o[5]);
    ph_free(&suite_heap, o[1]);
    ph_free(&suite_heap, o[3]);
    DBL(o[1], "a freed chunk");
    DBL(o[3], "another freed chunk");
    DBL(o[1] + PH_ALIGN, "inside a freed chunk");
    BAD(o[2] + PH_ALIGN, "inside a live chunk between two free ones");
    /* LIFO: the chunk freed last is the next one of its size */
    char *q = (char *)ph_malloc(&suite_heap, n);
    SUITE_PTR_EQ(q, o[3]);
    ph_free(&suite_heap, q);
    ph_free(&suite_heap, o[2]); /* joins o[1], o[2] and o[3] */
    SUITE_HEAP_OK(&suite_heap);
    DBL(o[1], "a joined free chunk");
    DBL(o[2], "a chunk joined into the one before");
    DBL(o[3], "the chunk after, joined too");
    DBL(o[3] + 1, "inside a joined chunk, misaligned");
    q = (char *)ph_malloc(&suite_heap, 3 * cs - SUITE_FIT_HDR);
    SUITE_PTR_EQ(q, o[1]);
    SUITE_EQ(ph_usable_size(&suite_heap, q), 3 * cs - SUITE_FIT_HDR);
    pat_fill(q, n, 9);
    /* realloc shrinks in place (the tail freed), grows into the free chunk
     * after it */
    char *r = (char *)ph_realloc(&suite_heap, q, n);
    SUITE_PTR_EQ(r, q);
    SUITE_EQ(ph_usable_size(&suite_heap, r), cs - SUITE_FIT_HDR);
    DBL(o[2], "a realloc's freed tail");
    r = (char *)ph_realloc(&suite_heap, q, 3 * cs - SUITE_FIT_HDR);
    SUITE_PTR_EQ(r, q);
    SUITE_EQ(ph_usable_size(&suite_heap, r), 3 * cs - SUITE_FIT_HDR);
    PAT_CHECK(r, n, 9);
    ph_free(&suite_heap, r);
    SUITE_PTR_EQ(of.lv[0].p, o[0]);
    of.lv[0] = of.lv[--of.nlive];
    ph_free(&suite_heap, o[0]); /* the arena's first chunk joins the one after */
    DBL(o[0] + cs, "inside a first chunk joined with its neighbour");
    of.nlive = 0;
    ph_free(&suite_heap, o[4]);
    ph_free(&suite_heap, o[5]); /* the arena is empty */
    ph_stats st = fit_stats();
    if (st.cached_spans != 0)
        DBL(o[0], "the cached empty arena's chunk");
    ALL_FREE(&suite_heap);
}

/* The empty-arena cache: one, the lowest wholly free arena, kept only while
 * at least 1/8 of the heap's pages are free; reused by the next arena;
 * given back by ph_scavenge(h, 0) and by an allocation that would
 * otherwise fail.  Returns false when the heap's arenas are too big for
 * it. */
static bool fit_cache(size_t ps)
{
    ph_stats st = fit_stats();
    const size_t total = st.pages_total;
    const size_t apages = suite_fit_arena_pages(total, ps, suite_fit_chunk(1));
    if (apages > (total >> PH_CACHE_SHIFT) || 4 * apages > total)
        return false;
    fit_reset(ps);

    /* the last free of an arena keeps it, empty; the next small request
     * takes it again */
    char *p = (char *)ph_malloc(&suite_heap, 1);
    SUITE_CHECK(p != NULL);
    char *a0 = p - PH_ALIGN;
    ph_free(&suite_heap, p);
    st = fit_stats();
    SUITE_CHECK(st.small_spans == 1 && st.cached_spans == 1 && st.small_span_pages == apages &&
                st.cached_bytes == apages * ps && st.pages_free == total - apages);
    STATS_ACCOUNTING(&suite_heap, 0);
    SUITE_HEAP_OK(&suite_heap);
    p = (char *)ph_malloc(&suite_heap, 1);
    SUITE_CHECK(in_range(p, a0, apages * ps));
    st = fit_stats();
    SUITE_CHECK(st.small_spans == 1 && st.cached_spans == 0 && st.cached_bytes == 0);

    /* the lowest empty arena is the one kept: a page API page after the
     * first arena (arenas that meet merge), then fill the first arena
     * until an object lands in a second one, past the page */
    char *sep = (char *)ph_page_alloc(&suite_heap, 1);
    SUITE_PTR_EQ(sep, a0 + apages * ps);
    void *list = fit_push(NULL, p);
    char *o2;
    for (;;) {
        o2 = (char *)ph_malloc(&suite_heap, 2u * PH_ALIGN);
        SUITE_CHECK(o2 != NULL);
        if (!in_range(o2, a0, apages * ps))
            break;
        list = fit_push(list, o2);
    }
    SUITE_PTR_EQ(o2, sep + ps + PH_ALIGN);
    SUITE_EQ(fit_stats().small_spans, 2);
    ph_free(&suite_heap, o2); /* the second arena empties first: cached */
    st = fit_stats();
    SUITE_CHECK(st.small_spans == 2 && st.cached_spans == 1);
    fit_free_list(list); /* the first empties: it is kept, the second goes back */
    st = fit_stats();
    SUITE_CHECK(st.small_spans == 1 && st.cached_spans == 1 && st.small_span_pages == apages &&
                st.pages_free == total - apages - 1);
    p = (char *)ph_malloc(&suite_heap, 1);
    SUITE_CHECKF(in_range(p, a0, apages * ps), "the cache kept the higher arena: %p, not %p",
                 (void *)p, (void *)a0);
    ph_free(&suite_heap, p);
    ph_page_free(&suite_heap, sep, 1);

    /* ph_scavenge(h, 0) gives it back */
    SUITE_EQ(ph_scavenge(&suite_heap, 0), 0);
    st = fit_stats();
    SUITE_CHECK(st.small_spans == 0 && st.cached_spans == 0 && st.pages_free == total);

    /* not kept while fewer than 1/8 of the pages are free */
    p = (char *)ph_malloc(&suite_heap, 1);
    SUITE_CHECK(p != NULL);
    void *pages = NULL;
    size_t npages = 0;
    while (fit_stats().pages_free >= (total >> 3)) {
        void *pg = ph_page_alloc(&suite_heap, 1);
        SUITE_CHECK(pg != NULL);
        pages = fit_push(pages, pg);
        npages++;
    }
    ph_free(&suite_heap, p);
    st = fit_stats();
    SUITE_CHECK(st.small_spans == 0 && st.cached_spans == 0 && st.pages_free == total - npages);
    STATS_ACCOUNTING(&suite_heap, npages);
    fit_free_pages(&pages);

    /* a page allocation that would fail takes the cached arena back */
    p = (char *)ph_malloc(&suite_heap, 1);
    ph_free(&suite_heap, p);
    SUITE_EQ(fit_stats().cached_spans, 1);
    npages = 0;
    for (void *pg; (pg = ph_page_alloc(&suite_heap, 1)) != NULL; npages++)
        pages = fit_push(pages, pg);
    st = fit_stats();
    SUITE_CHECK(npages == total && st.pages_free == 0 && st.small_spans == 0 && st.cached_spans == 0);
    fit_free_pages(&pages);

    /* so does ph_malloc: every page but the cached arena's taken, a page
     * run that fits in the arena's pages is served from them (one that
     * does not fails, changing nothing but, maybe, the cache) */
    p = (char *)ph_malloc(&suite_heap, 1);
    ph_free(&suite_heap, p);
    npages = 0;
    while (fit_stats().pages_free > 0) {
        pages = fit_push(pages, ph_page_alloc(&suite_heap, 1));
        npages++;
    }
    SUITE_EQ(fit_stats().cached_spans, 1);
    const bool fits = align_up(PH_SMALL_MAX + 1, ps) / ps <= apages;
    ph_stats before = fit_stats();
    char *big = (char *)ph_malloc(&suite_heap, PH_SMALL_MAX + 1);
    st = fit_stats();
    if (fits) {
        SUITE_CHECK(big != NULL && in_range(big, a0, apages * ps));
        SUITE_CHECK(st.cached_spans == 0 && st.small_spans == 0 && st.large_objects == 1);
        STATS_ACCOUNTING(&suite_heap, npages);
        ph_free(&suite_heap, big);
    } else { /* more pages than free and cached together: it fails */
        SUITE_PTR_EQ(big, NULL);
        SUITE_CHECK(failed_stats_ok(&before, &st));
    }
    fit_free_pages(&pages);
    ALL_FREE(&suite_heap);
    return true;
}

void group_fit_chunks(void)
{
    suite_group_begin("fit-chunks");
    SUITE_EQ(PH_ALIGN % 8, 0);
    SUITE_CHECK(PH_ALIGN >= 2 * sizeof(void *));
    SUITE_CHECK(PH_ALIGN >= SUITE_FIT_HDR && PH_SMALL_MAX % PH_ALIGN == 0);
    static const size_t pss[] = { 64, 256 };
    static const size_t sizes[] = { 0, 1, 2 * PH_ALIGN, 100, 500, 1000, PH_SMALL_MAX / 2,
                                    PH_SMALL_MAX - 1, PH_SMALL_MAX };
    unsigned pages_done = 0, packed = 0, cached = 0;
    unsigned long refused = 0;
    size_t above = 0;
    fit_objs_max = PH_FIT_ARENA / SUITE_FIT_MIN + 2u;
    fit_objs = (char **)suite_scratch(fit_objs_max * sizeof *fit_objs);
    for (size_t k = 0; k < sizeof pss / sizeof pss[0]; k++) {
        const size_t ps = pss[k];
        if (!one_region_heap(ps, SUITE_ARENA_BYTES, 0))
            continue;
        /* the largest request's arena, and a second page's worth of room */
        ph_stats st = fit_stats();
        if (st.largest_free_run < suite_fit_arena_pages(st.pages_total, ps, suite_fit_chunk(PH_SMALL_MAX)) + 1)
            continue;
        above += fit_requests(ps);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            packed += fit_pack(ps, sizes[i]);
        fit_join(ps);
        cached += fit_cache(ps);
        refused += suite_port.faults;
        SPORT_QUIET(&suite_port);
        pages_done++;
    }
    SUITE_CHECK(pages_done > 0);
    suite_group_end("%u page sizes: %lu requests each (%lu took an arena's small rest), %u arenas "
                    "packed, %u cache runs, %lu refused calls",
                    pages_done, (unsigned long)PH_SMALL_MAX + 1, (unsigned long)above, packed, cached,
                    refused);
}

/* ========================================================================
 * malloc-basics
 * ====================================================================== */

typedef struct bobj {
    char *p;
    size_t req, usable;
    uint32_t id;
} bobj;

static bool overlaps(const bobj *o, size_t n, const char *p, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].p != NULL && p < o[i].p + o[i].usable && o[i].p < p + len)
            return true;
    return false;
}

static char *checked_malloc_at(size_t size, size_t *usable, int line)
{
    char *p = (char *)ph_malloc(&suite_heap, size);
    suite_checks++;
    if (p == NULL)
        suite_fail(__FILE__, line, "ph_malloc(%lu) = NULL", (unsigned long)size);
    size_t u = ph_usable_size(&suite_heap, p);
    ph_stats st;
    ph_get_stats(&suite_heap, &st);
    suite_checks++;
    if ((uintptr_t)p % PH_ALIGN != 0 || u < size || !usable_ok(size, st.page_size, u) ||
        sport_touches_released(&suite_port, p, u))
        suite_fail(__FILE__, line, "ph_malloc(%lu) = %p, usable %lu", (unsigned long)size,
                   (void *)p, (unsigned long)u);
    if (usable != NULL)
        *usable = u;
    return p;
}
#define CHECKED_MALLOC(size, usable) checked_malloc_at((size), (usable), __LINE__)

void group_malloc_basics(void)
{
    suite_group_begin("malloc-basics");
    const size_t ps = SUITE_ARENA_BYTES >= 40u * 1024u ? 256u : 64u;
    const size_t want = SUITE_ARENA_BYTES >= 40u * 1024u ? 32u * 1024u : SUITE_ARENA_BYTES - ps;
    SUITE_CHECK(one_region_heap(ps, want, 4 * ps));
    ph_stats a, b;
    const size_t omax = SUITE_TABLE(160u, 512u);
    bobj *o = (bobj *)suite_scratch(omax * sizeof *o);
    size_t n = 0;

    /* malloc(0): unique, freeable; free(NULL), usable_size(NULL) */
    char *z[3];
    for (int i = 0; i < 3; i++) {
        z[i] = CHECKED_MALLOC(0, NULL);
        for (int j = 0; j < i; j++)
            SUITE_CHECK(z[i] != z[j]);
    }
    for (int i = 0; i < 3; i++)
        ph_free(&suite_heap, z[i]);
    ALL_FREE(&suite_heap);
    ph_get_stats(&suite_heap, &a);
    ph_free(&suite_heap, NULL);
    SUITE_EQ(ph_usable_size(&suite_heap, NULL), 0);
    ph_get_stats(&suite_heap, &b);
    SUITE_CHECK(memcmp(&a, &b, sizeof a) == 0);
    SUITE_EQ(suite_port.faults, 0);

    /* sizes up to PH_SMALL_MAX and a few page runs, no overlap */
    for (size_t sz = 1; sz <= PH_SMALL_MAX + 3 * ps && n < omax; sz += sz < 128 ? 7 : sz < 1024 ? 61 : 331) {
        size_t u;
        /* stop while a new arena or page run surely fits */
        ph_get_stats(&suite_heap, &a);
        size_t need = expect_small(sz) ? suite_fit_arena_pages(a.pages_total, ps, suite_fit_chunk(sz))
                                       : align_up(sz, ps) / ps;
        if (a.largest_free_run < need + 1)
            break;
        char *p = CHECKED_MALLOC(sz, &u);
        SUITE_CHECKF(!overlaps(o, n, p, u), "ph_malloc(%lu) = %p overlaps a live object",
                     (unsigned long)sz, (void *)p);
        o[n].p = p;
        o[n].req = sz;
        o[n].usable = u;
        o[n].id = (uint32_t)n + 7u;
        pat_fill(p, u, o[n].id);
        n++;
    }
    STATS_ACCOUNTING(&suite_heap, 0);
    SUITE_HEAP_OK(&suite_heap);
    for (size_t i = 0; i < n; i += 2) { /* every other one, then the rest */
        PAT_CHECK(o[i].p, o[i].usable, o[i].id);
        ph_free(&suite_heap, o[i].p);
    }
    SUITE_HEAP_OK(&suite_heap);
    for (size_t i = 1; i < n; i += 2) {
        PAT_CHECK(o[i].p, o[i].usable, o[i].id);
        ph_free(&suite_heap, o[i].p);
    }
    ALL_FREE(&suite_heap);
    const size_t basics = n;

    /* calloc over dirty memory; its overflow */
    {
        char *d = CHECKED_MALLOC(300, NULL);
        memset(d, 0xFF, 300);
        ph_free(&suite_heap, d);
        char *c = (char *)ph_calloc(&suite_heap, 3, 100);
        SUITE_CHECK(c != NULL);
        SUITE_EQ(find_nonzero(c, 300), SIZE_MAX);
        char *big = (char *)ph_malloc(&suite_heap, 3 * ps);
        SUITE_CHECK(big != NULL);
        memset(big, 0xEE, 3 * ps);
        ph_free(&suite_heap, big);
        char *cb = (char *)ph_calloc(&suite_heap, 3, ps);
        SUITE_CHECK(cb != NULL);
        SUITE_EQ(find_nonzero(cb, 3 * ps), SIZE_MAX);
        ph_get_stats(&suite_heap, &a);
        SUITE_PTR_EQ(ph_calloc(&suite_heap, suite_opaque_size(SIZE_MAX / 2 + 1), 2), NULL);
        SUITE_PTR_EQ(ph_calloc(&suite_heap, suite_opaque_size(65537), 65537), NULL);
        ph_get_stats(&suite_heap, &b);
        SUITE_CHECK(memcmp(&a, &b, sizeof a) == 0);
        ph_free(&suite_heap, c);
        ph_free(&suite_heap, cb);
        ALL_FREE(&suite_heap);
    }

    /* realloc: NULL, the same chunk, grow (in place into the free rest of
     * the arena, else moving), shrink (in place), page runs, 0 */
    {
        char *p = (char *)ph_realloc(&suite_heap, NULL, 100);
        SUITE_CHECK(p != NULL);
        SUITE_CHECK(suite_fit_usable_ok(100, ph_usable_size(&suite_heap, p)));
        ph_free(&suite_heap, p);
        p = CHECKED_MALLOC(20, NULL);
        pat_fill(p, 20, 1);
        static const size_t same[] = { 24, 17, 21 };
        for (size_t i = 0; i < 3; i++) {
            if (suite_fit_chunk(same[i]) != suite_fit_chunk(20))
                continue;
            char *q = (char *)ph_realloc(&suite_heap, p, same[i]);
            SUITE_PTR_EQ(q, p);
            PAT_CHECK(q, 17, 1);
        }
        /* p is its arena's only object (the heap was empty): the rest of
         * the arena is one free chunk right after it */
        ph_get_stats(&suite_heap, &a);
        SUITE_EQ(a.small_spans, 1);
        const bool grows = suite_fit_chunk(1000) <= a.small_span_pages * ps - PH_ALIGN;
        char *q = (char *)ph_realloc(&suite_heap, p, 1000);
        SUITE_CHECK(q != NULL && (q == p) == grows);
        PAT_CHECK(q, 17, 1);
        SUITE_CHECK(suite_fit_usable_ok(1000, ph_usable_size(&suite_heap, q)));
        pat_fill(q, 1000, 2);
        char *r = (char *)ph_realloc(&suite_heap, q, 40); /* shrinks in place */
        SUITE_PTR_EQ(r, q);
        PAT_CHECK(r, 40, 2);
        SUITE_CHECK(suite_fit_usable_ok(40, ph_usable_size(&suite_heap, r)));
        /* a page run grows in place into the free pages after it (an
         * arena emptied above, cached, goes back first: the run must not
         * land just below one) */
        SUITE_EQ(ph_scavenge(&suite_heap, 0), 0);
        char *L = CHECKED_MALLOC(PH_SMALL_MAX + 1, NULL);
        pat_fill(L, PH_SMALL_MAX + 1, 3);
        char *L2 = (char *)ph_realloc(&suite_heap, L, PH_SMALL_MAX + 2 * ps);
        SUITE_PTR_EQ(L2, L);
        PAT_CHECK(L2, PH_SMALL_MAX + 1, 3);
        SUITE_EQ(ph_usable_size(&suite_heap, L2), align_up(PH_SMALL_MAX + 2 * ps, ps));
        /* and shrinks in place */
        char *L3 = (char *)ph_realloc(&suite_heap, L2, PH_SMALL_MAX + 1);
        SUITE_PTR_EQ(L3, L);
        PAT_CHECK(L3, PH_SMALL_MAX + 1, 3);
        SUITE_EQ(ph_usable_size(&suite_heap, L3), align_up(PH_SMALL_MAX + 1, ps));
        /* a failed realloc leaves the object alone */
        ph_get_stats(&suite_heap, &a);
        SUITE_PTR_EQ(ph_realloc(&suite_heap, L3, SIZE_MAX - 2 * ps), NULL);
        ph_get_stats(&suite_heap, &b);
        SUITE_CHECK(memcmp(&a, &b, sizeof a) == 0);
        PAT_CHECK(L3, PH_SMALL_MAX + 1, 3);
        /* realloc(p, 0): the smallest object */
        char *s = (char *)ph_realloc(&suite_heap, r, 0);
        SUITE_CHECK(s != NULL);
        SUITE_CHECK(suite_fit_usable_ok(0, ph_usable_size(&suite_heap, s)));
        ph_free(&suite_heap, s);
        ph_free(&suite_heap, L3);
        SUITE_HEAP_OK(&suite_heap);
        ALL_FREE(&suite_heap);
    }

    /* aligned_alloc: every power of two up to four pages */
    unsigned aligned = 0;
    for (size_t al = 1; al <= 4 * ps && 8 * al <= want / 4; al *= 2) {
        static const size_t mult[] = { 0, 1, 2, 3 };
        char *ap[8];
        size_t na = 0;
        for (size_t k = 0; k < 4; k++) {
            size_t sz = mult[k] * al + (k == 3 ? 5 : 0);
            char *p = (char *)ph_aligned_alloc(&suite_heap, al, sz);
            SUITE_CHECKF(p != NULL, "ph_aligned_alloc(%lu, %lu) = NULL", (unsigned long)al,
                         (unsigned long)sz);
            size_t u = ph_usable_size(&suite_heap, p);
            SUITE_CHECKF((uintptr_t)p % al == 0 && (uintptr_t)p % PH_ALIGN == 0 && u >= sz,
                         "ph_aligned_alloc(%lu, %lu) = %p, usable %lu", (unsigned long)al,
                         (unsigned long)sz, (void *)p, (unsigned long)u);
            /* up to PH_ALIGN: ph_malloc; below the page size: an aligned
             * chunk of an arena (the heap has room); else a page run */
            if (al >= ps)
                SUITE_CHECKF((uintptr_t)p % ps == 0 && u == align_up(sz != 0 ? sz : 1, ps),
                             "ph_aligned_alloc(%lu, %lu) = %p, usable %lu: not a page run",
                             (unsigned long)al, (unsigned long)sz, (void *)p, (unsigned long)u);
            else
                SUITE_CHECKF(suite_fit_usable_ok(sz, u), "ph_aligned_alloc(%lu, %lu) = %p, usable %lu",
                             (unsigned long)al, (unsigned long)sz, (void *)p, (unsigned long)u);
            pat_fill(p, u, (uint32_t)(al + k));
            ap[na++] = p;
            aligned++;
        }
        STATS_ACCOUNTING(&suite_heap, 0);
        SUITE_HEAP_OK(&suite_heap);
        for (size_t k = 0; k < na; k++) {
            PAT_CHECK(ap[k], ph_usable_size(&suite_heap, ap[k]), (uint32_t)(al + k));
            ph_free(&suite_heap, ap[k]);
        }
        ALL_FREE(&suite_heap);
    }
    ph_get_stats(&suite_heap, &a);
    static const size_t bad_align[] = { 0, 3, 5, 6, 12, 24, 48, 100, 4095, SIZE_MAX };
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++)
        SUITE_PTR_EQ(ph_aligned_alloc(&suite_heap, bad_align[i], 64), NULL);
    SUITE_PTR_EQ(ph_aligned_alloc(&suite_heap, (size_t)1 << 31, 64), NULL);
    ph_get_stats(&suite_heap, &b);
    SUITE_CHECK(memcmp(&a, &b, sizeof a) == 0);

    /* page-run objects are page aligned and counted (two, or one where the
     * heap is small) */
    {
        ph_get_stats(&suite_heap, &a);
        const size_t s1 = PH_SMALL_MAX + 1, s2 = 2 * PH_SMALL_MAX;
        const size_t p1 = align_up(s1, ps) / ps, p2 = align_up(s2, ps) / ps;
        const bool both = a.largest_free_run >= p1 + p2;
        char *l1 = CHECKED_MALLOC(s1, NULL);
        char *l2 = both ? CHECKED_MALLOC(s2, NULL) : NULL;
        SUITE_CHECK((uintptr_t)l1 % ps == 0 && (uintptr_t)l2 % ps == 0);
        ph_get_stats(&suite_heap, &a);
        SUITE_EQ(a.large_objects, both ? 2 : 1);
        SUITE_EQ(a.large_pages, p1 + (both ? p2 : 0));
        STATS_ACCOUNTING(&suite_heap, 0);
        ph_free(&suite_heap, l1);
        ph_free(&suite_heap, l2);
        ALL_FREE(&suite_heap);
    }
    /* out of memory: NULL, nothing changed */
    ph_get_stats(&suite_heap, &a);
    SUITE_PTR_EQ(ph_malloc(&suite_heap, (a.pages_total + 1) * ps), NULL);
    SUITE_PTR_EQ(ph_malloc(&suite_heap, SIZE_MAX), NULL);
    ph_get_stats(&suite_heap, &b);
    SUITE_CHECK(memcmp(&a, &b, sizeof a) == 0);
    SUITE_EQ(suite_port.faults, 0);
    SPORT_QUIET(&suite_port);
    suite_group_end("%lu sizes, %u aligned allocations", (unsigned long)basics, aligned);
}

/* ========================================================================
 * objects-random
 * ====================================================================== */

#define OR_MAXR 3
#define OR_LIVE SUITE_TABLE(96u, 1024u)

typedef struct robj {
    char *p;
    size_t req, usable;
    uint32_t id;
} robj;

static robj *ro; /* OR_LIVE entries, from the scratch area */
static size_t nro;

typedef struct ostats {
    size_t malloc_, calloc_, realloc_, aligned, free_, null_, bad, oom, scav, calloc_acq, check;
    size_t small_runs; /* small requests served as page runs (no arena fitted) */
    size_t released;
} ostats;

static bool or_open(suite_rng *r, size_t *ps_out, size_t *heap_bytes)
{
    static const size_t pss[] = { 64, 128, 256, 512 };
    size_t ps = pss[rng_below(r, 4)];
    if (SUITE_ARENA_BYTES / ps < 64)
        ps = 64;
    size_t nr = rng_range(r, 1, OR_MAXR);
    uintptr_t lo = align_up((uintptr_t)suite_arena, ps);
    size_t avail = SUITE_ARENA_BYTES - (size_t)(lo - (uintptr_t)suite_arena);
    size_t share = avail / nr;
    uintptr_t at = lo;
    uintptr_t base[OR_MAXR];
    size_t size[OR_MAXR], gran[OR_MAXR], min_g = 0;
    for (size_t i = 0; i < nr; i++) {
        size_t gap = rng_below(r, (uint32_t)ps);
        size_t sz = share - ps - rng_below(r, (uint32_t)(share / 4));
        base[i] = at + gap;
        size[i] = sz;
        at += gap + sz;
        /* a granule of 1..8 pages on two regions out of three */
        gran[i] = rng_below(r, 3) != 0 ? ps << rng_below(r, 4) : 0;
        if (gran[i] != 0 && (min_g == 0 || gran[i] < min_g))
            min_g = gran[i];
    }
    sport_init(&suite_port, min_g, false);
    SUITE_EQ(ph_init(&suite_heap, ps, &suite_port.port), PH_OK);
    *heap_bytes = 0;
    for (size_t i = nr; i-- > 0;) { /* highest first */
        int rc = ph_add_region(&suite_heap, (void *)base[i], size[i], gran[i]);
        SUITE_CHECKF(rc == PH_OK || rc == PH_ENOMEM, "ph_add_region = %d", rc);
        if (rc == PH_OK)
            *heap_bytes += size[i];
    }
    *ps_out = ps;
    nro = 0;
    return *heap_bytes != 0;
}

static size_t or_pick_size(suite_rng *r, size_t ps, size_t heap_bytes)
{
    uint32_t k = rng_below(r, 100);
    if (k < 3)
        return 0;
    if (k < 55)
        return 1 + rng_below(r, 128);
    if (k < 85)
        return 1 + rng_below(r, 1024);
    if (k < 96)
        return 1 + rng_below(r, PH_SMALL_MAX);
    size_t max = heap_bytes / 8 > PH_SMALL_MAX + ps ? heap_bytes / 8 : PH_SMALL_MAX + ps;
    return PH_SMALL_MAX + 1 + rng_below(r, (uint32_t)(max - PH_SMALL_MAX));
}

/* A new object: aligned, in the heap, no overlap, not in released memory. */
static void or_add(char *p, size_t req, size_t align, uint32_t id, bool zeroed, size_t op)
{
    size_t u = ph_usable_size(&suite_heap, p);
    SUITE_CHECKF((uintptr_t)p % PH_ALIGN == 0 && (uintptr_t)p % align == 0 && u >= req,
                 "op %lu: %p (%lu bytes, align %lu): usable %lu", (unsigned long)op, (void *)p,
                 (unsigned long)req, (unsigned long)align, (unsigned long)u);
    SUITE_CHECKF(in_range(p, suite_arena, SUITE_ARENA_BYTES) &&
                     in_range(p + u - 1, suite_arena, SUITE_ARENA_BYTES),
                 "op %lu: %p is outside the arena", (unsigned long)op, (void *)p);
    SUITE_CHECKF(!sport_touches_released(&suite_port, p, u), "op %lu: %p (%lu bytes) is released memory",
                 (unsigned long)op, (void *)p, (unsigned long)u);
    for (size_t i = 0; i < nro; i++)
        SUITE_CHECKF(!(p < ro[i].p + ro[i].usable && ro[i].p < p + u),
                     "op %lu: %p (+%lu) overlaps %p (+%lu)", (unsigned long)op, (void *)p,
                     (unsigned long)u, (void *)ro[i].p, (unsigned long)ro[i].usable);
    if (zeroed)
        SUITE_CHECKF(find_nonzero(p, req) == SIZE_MAX, "op %lu: calloc(%lu) = %p is not zero",
                     (unsigned long)op, (unsigned long)req, (void *)p);
    ro[nro].p = p;
    ro[nro].req = req;
    ro[nro].usable = u;
    ro[nro].id = id;
    pat_fill(p, u, id);
    nro++;
}

static void or_free(size_t i)
{
    PAT_CHECK(ro[i].p, ro[i].usable, ro[i].id);
    unsigned long f0 = suite_port.faults;
    ph_free(&suite_heap, ro[i].p);
    SUITE_EQ(suite_port.faults, f0);
    ro[i] = ro[--nro];
}

static void or_run(uint32_t seed, size_t ops, ostats *c)
{
    suite_rng r;
    size_t ps, heap_bytes;
    rng_seed(&r, seed);
    if (!or_open(&r, &ps, &heap_bytes))
        return;
    uint32_t id = seed;
    size_t target = heap_bytes / 3;
    size_t live_bytes = 0;
    for (size_t op = 0; op < ops; op++) {
        uint32_t k = rng_below(&r, 1000);
        ph_stats before;
        ph_get_stats(&suite_heap, &before);
        if (k < 8) {
            /* scavenge, then a calloc that may land on re-acquired memory */
            size_t got = ph_scavenge(&suite_heap, rng_pct(&r, 50) ? SIZE_MAX : ps << rng_below(&r, 5));
            c->scav++;
            c->released += got;
            SUITE_HEAP_OK(&suite_heap);
            if (nro < OR_LIVE) {
                size_t sz = 1 + rng_below(&r, (uint32_t)(4 * ps));
                unsigned long acq = suite_port.acquires;
                char *p = (char *)ph_calloc(&suite_heap, 1, sz);
                if (p != NULL) {
                    or_add(p, sz, 1, ++id, true, op);
                    live_bytes += ro[nro - 1].usable;
                    c->calloc_acq += suite_port.acquires != acq;
                }
            }
        } else if (k < 20 && nro > 0) {
            /* a bad free: an interior pointer, or a second free */
            size_t i = rng_below(&r, (uint32_t)nro);
            unsigned long f0 = suite_port.faults;
            if (rng_pct(&r, 50) && ro[i].usable > 1) {
                char *bad = ro[i].p + 1 + rng_below(&r, (uint32_t)(ro[i].usable - 1));
                snapshot s;
                snap_take(&suite_heap, &s);
                ph_free(&suite_heap, suite_opaque(bad));
                SUITE_CHECKF(suite_port.faults == f0 + 1 && suite_port.last_code == PH_FAULT_BAD_POINTER &&
                                 suite_port.last_addr == bad,
                             "op %lu: interior pointer %p: %lu faults, code %d", (unsigned long)op,
                             (void *)bad, suite_port.faults - f0, suite_port.last_code);
                SNAP_SAME(&suite_heap, &s, 1);
                c->bad++;
            } else {
                char *p = ro[i].p;
                live_bytes -= ro[i].usable;
                or_free(i);
                snapshot s;
                snap_take(&suite_heap, &s);
                ph_free(&suite_heap, suite_opaque(p));
                SUITE_CHECKF(suite_port.faults == f0 + 1 && suite_port.last_code == PH_FAULT_DOUBLE_FREE &&
                                 suite_port.last_addr == p,
                             "op %lu: double free of %p: %lu faults, code %d", (unsigned long)op,
                             (void *)p, suite_port.faults - f0, suite_port.last_code);
                SNAP_SAME(&suite_heap, &s, 1);
                c->bad++;
            }
        } else if (k < 24) {
            /* out of memory: allocate (descending sizes) until NULL, then
             * free everything: every page must be free again */
            size_t sz = heap_bytes / 4;
            c->oom++;
            while (sz >= 16 && nro < OR_LIVE) {
                ph_stats a, b;
                ph_get_stats(&suite_heap, &a);
                char *p = (char *)ph_malloc(&suite_heap, sz);
                if (p == NULL) {
                    ph_get_stats(&suite_heap, &b);
                    SUITE_CHECKF(failed_stats_ok(&a, &b),
                                 "op %lu: a failed ph_malloc(%lu) changed the statistics",
                                 (unsigned long)op, (unsigned long)sz);
                    c->null_++;
                    sz /= 2;
                    continue;
                }
                or_add(p, sz, 1, ++id, false, op);
            }
            STATS_ACCOUNTING(&suite_heap, 0);
            SUITE_HEAP_OK(&suite_heap);
            while (nro > 0)
                or_free(nro - 1);
            live_bytes = 0;
            ALL_FREE(&suite_heap);
        } else if (nro > 0 && (nro == OR_LIVE || (live_bytes > target ? k < 600 : k < 380))) {
            size_t i = rng_below(&r, (uint32_t)nro);
            if (rng_pct(&r, 25)) {
                /* realloc: contents kept up to the smaller size */
                size_t sz = or_pick_size(&r, ps, heap_bytes);
                PAT_CHECK(ro[i].p, ro[i].usable, ro[i].id);
                char *q = (char *)ph_realloc(&suite_heap, ro[i].p, sz);
                c->realloc_++;
                if (q == NULL) {
                    ph_stats b;
                    ph_get_stats(&suite_heap, &b);
                    SUITE_CHECK(failed_stats_ok(&before, &b));
                    PAT_CHECK(ro[i].p, ro[i].usable, ro[i].id);
                    c->null_++;
                } else {
                    size_t keep = sz < ro[i].usable ? sz : ro[i].usable;
                    PAT_CHECK(q, keep, ro[i].id);
                    live_bytes -= ro[i].usable;
                    ro[i] = ro[--nro];
                    or_add(q, sz, 1, ++id, false, op);
                    live_bytes += ro[nro - 1].usable;
                }
            } else {
                live_bytes -= ro[i].usable;
                or_free(i);
                c->free_++;
            }
        } else if (nro < OR_LIVE) {
            uint32_t kind = rng_below(&r, 100);
            size_t sz = or_pick_size(&r, ps, heap_bytes);
            size_t align = 1;
            char *p;
            bool zero = false;
            if (kind < 70) {
                p = (char *)ph_malloc(&suite_heap, sz);
                c->malloc_++;
            } else if (kind < 85) {
                p = (char *)ph_calloc(&suite_heap, 1, sz);
                zero = true;
                c->calloc_++;
            } else {
                align = (size_t)8 << rng_below(&r, 8); /* 8 .. 1024 */
                p = (char *)ph_aligned_alloc(&suite_heap, align, sz);
                c->aligned++;
            }
            if (p == NULL) {
                ph_stats b;
                ph_get_stats(&suite_heap, &b);
                SUITE_CHECKF(failed_stats_ok(&before, &b),
                             "op %lu: a failed allocation of %lu changed the statistics",
                             (unsigned long)op, (unsigned long)sz);
                c->null_++;
            } else {
                ph_stats b;
                size_t u = ph_usable_size(&suite_heap, p);
                ph_get_stats(&suite_heap, &b);
                /* pages of the smallest arena that can hold sz's chunk */
                const size_t need = (suite_fit_chunk(sz) + PH_ALIGN + ps - 1) / ps;
                if ((align == 1 || align <= PH_ALIGN) && expect_small(sz) &&
                    b.large_objects == before.large_objects + 1) {
                    /* ph_malloc's fallback (core: alloc_slow): no free chunk
                     * and no run of pages for an arena: a page run of its
                     * own (never while a run for an arena was free) */
                    SUITE_CHECKF(need > before.largest_free_run &&
                                     u == align_up(sz != 0 ? sz : 1, ps) && (uintptr_t)p % ps == 0,
                                 "op %lu: %lu bytes got a page run (usable %lu) although a run of %lu "
                                 "pages for an arena was free (largest %lu, %lu cached)",
                                 (unsigned long)op, (unsigned long)sz, (unsigned long)u,
                                 (unsigned long)need, (unsigned long)before.largest_free_run,
                                 (unsigned long)(before.cached_bytes / ps));
                    c->small_runs++;
                } else if (align == 1 || align <= PH_ALIGN) {
                    /* ph_malloc: a small request is an arena's chunk; a
                     * large one a page run */
                    SUITE_CHECKF(usable_ok(sz, ps, u) &&
                                     (b.large_objects == before.large_objects) == expect_small(sz),
                                 "op %lu: %lu bytes got usable %lu (%lu large objects, %lu before)",
                                 (unsigned long)op, (unsigned long)sz, (unsigned long)u,
                                 (unsigned long)b.large_objects, (unsigned long)before.large_objects);
                } else if (b.large_objects == before.large_objects + 1) {
                    /* a large alignment or size, or no arena room: a page run */
                    SUITE_CHECKF(u == align_up(sz != 0 ? sz : 1, ps) && (uintptr_t)p % ps == 0,
                                 "op %lu: aligned(%lu, %lu) as a page run got usable %lu",
                                 (unsigned long)op, (unsigned long)align, (unsigned long)sz,
                                 (unsigned long)u);
                } else {
                    SUITE_CHECKF(align < ps && expect_small(sz) && suite_fit_usable_ok(sz, u),
                                 "op %lu: aligned(%lu, %lu) got usable %lu, no page run",
                                 (unsigned long)op, (unsigned long)align, (unsigned long)sz,
                                 (unsigned long)u);
                }
                or_add(p, sz, align, ++id, zero, op);
                live_bytes += ro[nro - 1].usable;
            }
        }
        STATS_ACCOUNTING(&suite_heap, 0);
        if (op < 100 || op % 8 == 0) {
            SUITE_HEAP_OK(&suite_heap);
            SPORT_QUIET(&suite_port);
            c->check++;
        }
        if (op % 256 == 255)
            for (size_t i = 0; i < nro; i++)
                PAT_CHECK(ro[i].p, ro[i].usable, ro[i].id);
    }
    while (nro > 0)
        or_free(nro - 1);
    ALL_FREE(&suite_heap);
    /* everything releasable goes; a calloc then comes from re-acquired
     * memory and reads zero */
    ph_stats st;
    ph_scavenge(&suite_heap, SIZE_MAX);
    ph_get_stats(&suite_heap, &st);
    SUITE_EQ(st.pages_released * ps, sport_released_bytes(&suite_port));
    if (st.pages_released != 0) {
        /* first fit may serve retained pages first: take memory until a
         * calloc had to acquire */
        unsigned long acq = suite_port.acquires;
        size_t sz = heap_bytes / 48 > 4 * ps ? heap_bytes / 48 : 4 * ps;
        /* ... and big enough that half the table outgrows the retained
         * free pages (on a small arena the table has only 16 entries) */
        size_t retained = (st.pages_free - st.pages_released) * ps;
        if (sz < retained / (OR_LIVE / 2u) + 1u)
            sz = retained / (OR_LIVE / 2u) + 1u;
        while (suite_port.acquires == acq && nro < OR_LIVE) {
            char *p = (char *)ph_calloc(&suite_heap, 1, sz);
            if (p == NULL)
                break;
            or_add(p, sz, 1, ++id, true, ops);
        }
        SUITE_CHECKF(suite_port.acquires > acq, "no calloc re-acquired released memory (%lu objects)",
                     (unsigned long)nro);
        c->calloc_acq++;
        while (nro > 0)
            or_free(nro - 1);
        ALL_FREE(&suite_heap);
    }
    SUITE_HEAP_OK(&suite_heap);
    SPORT_QUIET(&suite_port);
    c->check++;
}

void group_objects_random(void)
{
    ostats c;
    const size_t runs = 5;
    memset(&c, 0, sizeof c);
    suite_group_begin("objects-random");
    ro = (robj *)suite_scratch(OR_LIVE * sizeof *ro);
    for (size_t i = 0; i < runs; i++)
        or_run(SUITE_SEED * (uint32_t)(7 + 2 * i) + 0x0B1Eu, SUITE_OPS(3000), &c);
    SUITE_CHECK(c.malloc_ > 0 && c.free_ > 0);
    suite_group_end("%lu runs: %lu malloc, %lu calloc, %lu realloc, %lu aligned, %lu free, %lu NULL, "
                    "%lu refused, %lu OOM phases, %lu scavenges (%lu bytes), %lu callocs re-acquired, "
                    "%lu small requests as page runs",
                    (unsigned long)runs, (unsigned long)c.malloc_, (unsigned long)c.calloc_,
                    (unsigned long)c.realloc_, (unsigned long)c.aligned, (unsigned long)c.free_,
                    (unsigned long)c.null_, (unsigned long)c.bad, (unsigned long)c.oom,
                    (unsigned long)c.scav, (unsigned long)c.released, (unsigned long)c.calloc_acq,
                    (unsigned long)c.small_runs);
}
