/* SPDX-License-Identifier: MIT */
/*
 * suite_pages.c: the page allocator on target.
 *
 *   pages-table     tables of heap states (ref/page_cases.h, shared
 *                   with host-tests/test_pages_table.c; page sizes small
 *                   enough for a board): the regions (usable pages, gaps,
 *                   add order), the pages in use before, allocations with
 *                   the address each must return, frees, and the page map
 *                   afterwards.  Runs straddle chunk and tree-level
 *                   boundaries; exact exhaustion; touching regions.  After
 *                   every step ph_check, pages_free and largest_free_run
 *                   against the expected map; at the end the ph_walk map.
 *                   A case whose regions do not fit in the board's arena is
 *                   skipped (and counted).
 *   pages-refusals  every refused page call (API.md Set-up and Pages):
 *                   exactly one fault with the right code and address, and
 *                   every statistic and the heap map unchanged; refused
 *                   ph_add_region calls change nothing and raise no fault.
 *   pages-random    a randomised differential run against the reference
 *                   model (ref/refmodel.c): random page sizes, 1..4
 *                   regions (random sizes, unaligned starts, gaps, add
 *                   order, some with granules), allocations and whole or
 *                   partial frees, bad frees now and then, scavenges; after
 *                   every operation the address, pages_free and
 *                   largest_free_run must match the model, ph_check every
 *                   few operations.
 *
 * All heaps live in the suite's static arena.
 */
#include <stdio.h>
#include <string.h>

#include "refmodel.h"
#include "suite.h"

#define W SUITE_W
#include "page_cases.h"


/* ========================================================================
 * pages-table
 * ====================================================================== */

/* The cases of ref/page_cases.h, with page sizes small enough for a board;
 * the small cases first: they fit even the smallest board's arena. */
static const tcase cases[] = {
    PAGE_CASE_FIRST_PAGES(64),
    PAGE_CASE_SMALL_FIRST_BOUNDARY(64),
    PAGE_CASE_SMALL_EXHAUSTION(64),
    PAGE_CASE_SMALL_LOWEST_REGION(64),
    PAGE_CASE_STRADDLE_ONE(64),
    PAGE_CASE_STRADDLE(64),
    PAGE_CASE_WHOLE_CHUNKS(64),
    PAGE_CASE_TREE_LEVELS(64),
    PAGE_CASE_FIRST_FIT(64),
    PAGE_CASE_EXHAUSTION(64),
    PAGE_CASE_MULTI_CHUNK(128),
    PAGE_CASE_PARTIAL_FREES(256),
    PAGE_CASE_GAPS_OUT_OF_ORDER(64),
    PAGE_CASE_TOUCHING(64),
    PAGE_CASE_LOWEST_REGION(64),
    PAGE_CASE_ODD_SIZES(64),
    PAGE_CASE_ONE_PAGE(64),
    PAGE_CASE_EIGHT_REGIONS(64),
    PAGE_CASE_LARGE_PAGES("large pages, two regions", 1024),
    PAGE_CASE_DEEP_TREE(64),
};

#define NCASES (sizeof cases / sizeof cases[0])

/* The expected map of the running case: one byte per usable page, regions
 * one after the other (model_off[r] is region r's first entry). */
#define TABLE_MAX_PAGES (37u * 64u + 64u)
#define MODEL_BYTES (SUITE_ARENA_BYTES / 64u < TABLE_MAX_PAGES ? SUITE_ARENA_BYTES / 64u : TABLE_MAX_PAGES)
static uint8_t *model, *want_map; /* MODEL_BYTES each, from the scratch area */

typedef struct theap {
    size_t ps, nr;
    ph_region_info ri[MAXR];
    size_t model_off[MAXR];
    size_t total;
} theap;

static theap th;

static uint8_t *model_of(size_t r)
{
    return model + th.model_off[r];
}

static void *page_addr(size_t r, size_t page)
{
    return (char *)th.ri[r].base + page * th.ps;
}

static size_t model_free(void)
{
    size_t n = 0;
    for (size_t i = 0; i < th.total; i++)
        n += model[i] == 0;
    return n;
}

static size_t model_largest(void)
{
    size_t best = 0;
    for (size_t r = 0; r < th.nr; r++) {
        size_t run = 0;
        for (size_t i = 0; i < th.ri[r].npages; i++) {
            run = model_of(r)[i] ? 0 : run + 1;
            if (run > best)
                best = run;
        }
    }
    return best;
}

/* Lays the case's regions out in the arena and adds them; false when they
 * do not fit. */
static bool theap_open(const tcase *c, size_t nr)
{
    size_t raw[MAXR], off[MAXR];
    size_t ps = c->page_size;
    uintptr_t base = align_up((uintptr_t)suite_arena, ps);
    size_t avail = SUITE_ARENA_BYTES - (size_t)(base - (uintptr_t)suite_arena);
    size_t want_pages = 0;
    bool identity = nr < 2 || (c->order[0] == 0 && c->order[1] == 0);

    for (size_t i = 0; i < nr; i++)
        want_pages += c->pages[i];
    if (want_pages > MODEL_BYTES || avail < 2 * ps)
        return false;
    size_t at = ps; /* one unused page below region 0 */
    for (size_t i = 0; i < nr; i++) {
        if (at >= avail)
            return false;
        raw[i] = suite_raw_bytes_for(&suite_heap, (void *)(base + at), ps, c->pages[i], avail - at);
        if (raw[i] == 0)
            return false;
        off[i] = at;
        at += raw[i] + c->gap[i] * ps;
    }
    if (at + ps > avail)
        return false;

    memset(&th, 0, sizeof th);
    th.ps = ps;
    th.nr = nr;
    sport_init(&suite_port, 0, false);
    SUITE_EQ(ph_init(&suite_heap, ps, &suite_port.port), PH_OK);
    for (size_t k = 0; k < nr; k++) {
        size_t i = identity ? k : (size_t)c->order[k];
        SUITE_CHECK(i < nr);
        int rc = ph_add_region(&suite_heap, (void *)(base + off[i]), raw[i], 0);
        SUITE_CHECKF(rc == PH_OK, "%s: ph_add_region of region %u (%u bytes) = %d", c->name,
                     (unsigned)i, (unsigned)raw[i], rc);
    }
    for (size_t i = 0; i < nr; i++) {
        SUITE_EQ(ph_get_region(&suite_heap, i, &th.ri[i]), PH_OK);
        SUITE_PTR_EQ(th.ri[i].raw_base, (void *)(base + off[i]));
        SUITE_EQ(th.ri[i].npages, c->pages[i]);
        th.model_off[i] = th.total;
        th.total += c->pages[i];
    }
    ph_region_info extra;
    SUITE_EQ(ph_get_region(&suite_heap, nr, &extra), PH_EINVAL);
    memset(model, 0, th.total);
    return true;
}

static void theap_verify(const char *name, size_t step)
{
    ph_stats st;
    int rc = ph_check(&suite_heap);
    SUITE_CHECKF(rc == PH_OK, "%s, step %u: ph_check = %d", name, (unsigned)step, rc);
    ph_get_stats(&suite_heap, &st);
    SUITE_CHECKF(st.pages_total == th.total && st.regions == th.nr,
                 "%s, step %u: pages_total %u, regions %u", name, (unsigned)step,
                 (unsigned)st.pages_total, (unsigned)st.regions);
    SUITE_CHECKF(st.pages_free == model_free(), "%s, step %u: pages_free %u, expected %u", name,
                 (unsigned)step, (unsigned)st.pages_free, (unsigned)model_free());
    SUITE_CHECKF(st.largest_free_run == model_largest(),
                 "%s, step %u: largest_free_run %u, expected %u", name, (unsigned)step,
                 (unsigned)st.largest_free_run, (unsigned)model_largest());
    SUITE_CHECKF(st.pages_released == 0 && st.faults == 0 && suite_port.faults == 0,
                 "%s, step %u: released %u, faults %u", name, (unsigned)step,
                 (unsigned)st.pages_released, (unsigned)st.faults);
    SUITE_CHECK(suite_port.releases == 0 && suite_port.acquires == 0);
    SPORT_QUIET(&suite_port);
}

/* ph_walk against an expected map (one byte per page as in `model`). */
typedef struct walk_cmp {
    const uint8_t *want;
    size_t region;  /* region of the current run (META opens the next) */
    size_t metas, pages, bad;
    const void *bad_at;
} walk_cmp;

static void walk_cmp_fn(void *ctx, const void *base, size_t npages, int state)
{
    walk_cmp *w = (walk_cmp *)ctx;
    if (state == PH_PAGES_META) {
        w->region = w->metas++;
        if (w->region >= th.nr || base != th.ri[w->region].meta_base ||
            npages * th.ps != th.ri[w->region].meta_bytes) {
            w->bad++;
            w->bad_at = base;
        }
        return;
    }
    if (w->metas == 0 || w->region >= th.nr || (state != PH_PAGES_USED && state != PH_PAGES_FREE) ||
        !in_range(base, th.ri[w->region].base, th.ri[w->region].npages * th.ps)) {
        w->bad++;
        w->bad_at = base;
        return;
    }
    size_t first = (size_t)((uintptr_t)base - (uintptr_t)th.ri[w->region].base) / th.ps;
    for (size_t i = first; i < first + npages && i < th.ri[w->region].npages; i++) {
        w->pages++;
        if ((w->want[th.model_off[w->region] + i] != 0) != (state == PH_PAGES_USED)) {
            if (w->bad++ == 0)
                w->bad_at = page_addr(w->region, i);
        }
    }
}

static void walk_matches(const uint8_t *want, const char *name)
{
    walk_cmp w;
    memset(&w, 0, sizeof w);
    w.want = want;
    ph_walk(&suite_heap, walk_cmp_fn, &w);
    SUITE_CHECKF(w.bad == 0 && w.metas == th.nr && w.pages == th.total,
                 "%s: ph_walk map differs (%u bad, first at %p; %u regions, %u of %u pages)",
                 name, (unsigned)w.bad, w.bad_at, (unsigned)w.metas, (unsigned)w.pages,
                 (unsigned)th.total);
}

static void mark(const trange *list, uint8_t *map)
{
    memset(map, 0, th.total);
    for (const trange *x = list; x < list + MAXB && x->n != 0; x++) {
        SUITE_CHECK((size_t)x->region < th.nr && x->page + x->n <= th.ri[x->region].npages);
        memset(map + th.model_off[x->region] + x->page, 1, x->n);
    }
}

static void run_case(const tcase *c, size_t nr)
{
    /* the state before: every region allocated whole, then the complement
     * of `before` freed */
    for (size_t r = 0; r < nr; r++) {
        void *p = ph_page_alloc(&suite_heap, th.ri[r].npages);
        SUITE_CHECKF(p == th.ri[r].base, "%s: region %u whole gave %p, expected %p", c->name,
                     (unsigned)r, p, th.ri[r].base);
        memset(model_of(r), 1, th.ri[r].npages);
    }
    theap_verify(c->name, 0);
    uint8_t *want = want_map;
    mark(c->before, want);
    for (size_t r = 0; r < nr; r++) {
        const uint8_t *m = want + th.model_off[r];
        size_t n = th.ri[r].npages;
        for (size_t i = 0; i < n;) {
            if (m[i]) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < n && !m[j])
                j++;
            ph_page_free(&suite_heap, page_addr(r, i), j - i);
            memset(model_of(r) + i, 0, j - i);
            i = j;
        }
    }
    theap_verify(c->name, 0);
    walk_matches(model, c->name);

    for (size_t k = 0; k < MAXS && c->steps[k].op != OP_END; k++) {
        const tstep *s = &c->steps[k];
        if (s->op == OP_ALLOC) {
            void *p = ph_page_alloc(&suite_heap, s->n);
            void *exp = s->region < 0 ? NULL : page_addr((size_t)s->region, s->page);
            SUITE_CHECKF(p == exp, "%s, step %u: alloc(%u) gave %p, expected %p (region %d page %u)",
                         c->name, (unsigned)k, (unsigned)s->n, p, exp, s->region,
                         (unsigned)s->page);
            if (p != NULL)
                memset(model_of((size_t)s->region) + s->page, 1, s->n);
        } else {
            ph_page_free(&suite_heap, page_addr((size_t)s->region, s->page), s->n);
            memset(model_of((size_t)s->region) + s->page, 0, s->n);
        }
        theap_verify(c->name, k + 1);
    }
    mark(c->after, want);
    walk_matches(want, c->name);
    ph_stats st;
    ph_get_stats(&suite_heap, &st);
    SUITE_CHECKF(st.pages_free == c->free_after, "%s: pages_free %u, expected %u", c->name,
                 (unsigned)st.pages_free, (unsigned)c->free_after);
}

/* One page at a time through several regions: the pages come in address
 * order, and any one freed comes straight back. */
static void one_page_at_a_time(void)
{
    static const tcase c = {
        .name = "one page at a time",
        .page_size = 64,
        .pages = { 3, 1, W, 2, W / 2 + 3, 5 },
        .gap = { 0, 2, 1, 0, 3 },
        .order = { 5, 3, 0, 2, 1, 4 },
    };
    if (!theap_open(&c, 6))
        return;
    for (size_t r = 0; r < th.nr; r++)
        for (size_t i = 0; i < th.ri[r].npages; i++) {
            void *p = ph_page_alloc(&suite_heap, 1);
            SUITE_CHECKF(p == page_addr(r, i), "alloc(1) gave %p, expected region %u page %u",
                         p, (unsigned)r, (unsigned)i);
            model_of(r)[i] = 1;
        }
    SUITE_PTR_EQ(ph_page_alloc(&suite_heap, 1), NULL);
    theap_verify(c.name, 0);
    suite_rng rng;
    rng_seed(&rng, SUITE_SEED ^ 0x1B1B1Bu);
    for (int k = 0; k < 40; k++) {
        size_t r = rng_below(&rng, (uint32_t)th.nr);
        size_t i = rng_below(&rng, (uint32_t)th.ri[r].npages);
        ph_page_free(&suite_heap, page_addr(r, i), 1);
        model_of(r)[i] = 0;
        theap_verify(c.name, (size_t)k);
        SUITE_PTR_EQ(ph_page_alloc(&suite_heap, 2), NULL);
        SUITE_PTR_EQ(ph_page_alloc(&suite_heap, 1), page_addr(r, i));
        model_of(r)[i] = 1;
    }
    theap_verify(c.name, 0);
}

void group_pages_table(void)
{
    unsigned ran = 0, skipped = 0;
    suite_group_begin("pages-table");
    model = (uint8_t *)suite_scratch(MODEL_BYTES);
    want_map = (uint8_t *)suite_scratch(MODEL_BYTES);
    for (size_t i = 0; i < NCASES; i++) {
        size_t nr = 0;
        while (nr < MAXR && cases[i].pages[nr] != 0)
            nr++;
        if (!theap_open(&cases[i], nr)) {
            skipped++;
            continue;
        }
        run_case(&cases[i], nr);
        ran++;
    }
    one_page_at_a_time();
    suite_group_end("%u cases, %u too big for the arena", ran, skipped);
}

/* ========================================================================
 * pages-refusals
 * ====================================================================== */

/*
 * Three regions from the arena (64-byte pages; R = W pages per chunk where
 * the arena has room, else 8):
 *   A  unaligned start, R + 10 pages and a 100-byte tail
 *   B  starts exactly at A's raw end (touching), R + 14 pages
 *   C  after a gap of RF_GAP pages, RF_C pages, granule 4 pages
 * added in the order C, A, B.  Allocated: a 5-page run at A:0 with A:2
 * freed again, A:5 (1 page), an R-page run at A:6 (across A's first chunk
 * boundary when R = W), a run as long as A at B:0.
 */
typedef struct rfix {
    size_t ps;
    ph_region_info ri[3];
    char *run5, *one, *runw, *runb;
} rfix;

static rfix fx;

#define RF_PS 64u
#define RF_BIG (SUITE_ARENA_BYTES >= 12u * 1024u)
#define RF_RUN (RF_BIG ? W : 8u)
#define RF_GAP (RF_BIG ? 12u : 8u) /* pages between B and C: a region touching both fits */
#define RF_C (RF_BIG ? 16u : 8u)

static size_t rfix_bytes(void)
{
    return 4 * RF_PS + 40 + (RF_RUN + 10) * RF_PS + 100 + (RF_RUN + 14) * RF_PS + RF_GAP * RF_PS +
           RF_C * RF_PS;
}

static void rfix_open(void)
{
    memset(&fx, 0, sizeof fx);
    fx.ps = RF_PS;
    char *buf = (char *)suite_arena;
    memset(buf, 0x5A, rfix_bytes());
    char *a = buf + 4 * RF_PS + 40;
    size_t asz = (RF_RUN + 10) * RF_PS + 100;
    char *b = a + asz;
    size_t bsz = (RF_RUN + 14) * RF_PS;
    char *c = b + bsz + RF_GAP * RF_PS;
    size_t csz = RF_C * RF_PS;
    sport_init(&suite_port, 4 * RF_PS, false);
    SUITE_EQ(ph_init(&suite_heap, RF_PS, &suite_port.port), PH_OK);
    SUITE_EQ(ph_add_region(&suite_heap, c, csz, 4 * RF_PS), PH_OK);
    SUITE_EQ(ph_add_region(&suite_heap, a, asz, 0), PH_OK);
    SUITE_EQ(ph_add_region(&suite_heap, b, bsz, 0), PH_OK);
    for (size_t i = 0; i < 3; i++)
        SUITE_EQ(ph_get_region(&suite_heap, i, &fx.ri[i]), PH_OK);
    SUITE_PTR_EQ(fx.ri[0].raw_base, a);
    SUITE_PTR_EQ(fx.ri[1].raw_base, b);
    SUITE_PTR_EQ(fx.ri[2].raw_base, c);
    SUITE_CHECKF(fx.ri[0].npages >= RF_RUN + 7 && fx.ri[1].npages > fx.ri[0].npages &&
                     fx.ri[2].npages >= 4,
                 "fixture: %lu, %lu, %lu usable pages", (unsigned long)fx.ri[0].npages,
                 (unsigned long)fx.ri[1].npages, (unsigned long)fx.ri[2].npages);
    fx.run5 = (char *)ph_page_alloc(&suite_heap, 5);
    fx.one = (char *)ph_page_alloc(&suite_heap, 1);
    fx.runw = (char *)ph_page_alloc(&suite_heap, RF_RUN);
    fx.runb = (char *)ph_page_alloc(&suite_heap, fx.ri[0].npages); /* too big for A: goes to B */
    SUITE_PTR_EQ(fx.run5, fx.ri[0].base);
    SUITE_PTR_EQ(fx.one, fx.run5 + 5 * RF_PS);
    SUITE_PTR_EQ(fx.runw, fx.one + RF_PS);
    SUITE_PTR_EQ(fx.runb, fx.ri[1].base);
    ph_page_free(&suite_heap, fx.run5 + 2 * RF_PS, 1);
    SUITE_EQ(suite_port.faults, 0);
    SUITE_HEAP_OK(&suite_heap);
}

/* ph_page_free(p, n) must be refused with `code`: one fault, with p. */
static void refused_free_at(const void *p, size_t n, int code, const char *what, int line)
{
    snapshot s;
    snap_take(&suite_heap, &s);
    unsigned long f0 = suite_port.faults;
    ph_page_free(&suite_heap, suite_opaque((void *)(uintptr_t)p), n);
    suite_checks++;
    if (suite_port.faults != f0 + 1 || suite_port.last_code != code || suite_port.last_addr != p)
        suite_fail(__FILE__, line, "%s: %lu faults (expected 1), code %d (expected %d), address %p (expected %p)",
                   what, suite_port.faults - f0, suite_port.last_code, code, suite_port.last_addr, p);
    snap_assert_same(&suite_heap, &s, 1, __FILE__, line);
    sport_assert_quiet(&suite_port, __FILE__, line);
}
#define REFUSED_FREE(p, n, code, what) refused_free_at((p), (n), (code), (what), __LINE__)

/* ph_add_region must be refused with rc_want, no fault and no change. */
static void refused_add_at(void *base, size_t size, size_t granule, int rc_want, const char *what,
                           int line)
{
    snapshot s;
    snap_take(&suite_heap, &s);
    unsigned long f0 = suite_port.faults;
    int rc = ph_add_region(&suite_heap, base, size, granule);
    suite_checks++;
    if (rc != rc_want || suite_port.faults != f0)
        suite_fail(__FILE__, line, "%s: ph_add_region = %d (expected %d), %lu faults", what, rc,
                   rc_want, suite_port.faults - f0);
    snap_assert_same(&suite_heap, &s, 0, __FILE__, line);
}
#define REFUSED_ADD(b, s, g, rc, what) refused_add_at((b), (s), (g), (rc), (what), __LINE__)

/* A call that must change nothing and raise no fault. */
#define NO_CHANGE(stmt)                                                            \
    do {                                                                           \
        snapshot s_;                                                               \
        snap_take(&suite_heap, &s_);                                                     \
        unsigned long f_ = suite_port.faults;                                            \
        stmt;                                                                      \
        SUITE_EQ(suite_port.faults, f_);                                                 \
        SNAP_SAME(&suite_heap, &s_, 0);                                                  \
    } while (0)

void group_pages_refusals(void)
{
    suite_group_begin("pages-refusals");
    if (rfix_bytes() > SUITE_ARENA_BYTES) {
        static char why[80];
        snprintf(why, sizeof why, "its fixture needs %lu bytes, the arena has %lu",
                 (unsigned long)rfix_bytes(), (unsigned long)SUITE_ARENA_BYTES);
        suite_group_skip(why);
        return;
    }
    rfix_open();
    const size_t ps = RF_PS;
    ph_region_info *A = &fx.ri[0], *B = &fx.ri[1], *C = &fx.ri[2];
    char *a_end = (char *)A->base + A->npages * ps;
    char *b_end = (char *)B->base + B->npages * ps;      /* end of B's usable pages */
    char *b_raw_end = (char *)B->raw_base + B->raw_size; /* the gap starts here      */
    char *gap = (char *)align_up((uintptr_t)b_raw_end, ps); /* first whole gap page  */
    static uint8_t foreign[16];

    /* bad pointers */
    REFUSED_FREE(NULL, 1, PH_FAULT_BAD_POINTER, "NULL");
    REFUSED_FREE(foreign, 1, PH_FAULT_BAD_POINTER, "memory of no region");
    REFUSED_FREE(fx.one + 1, 1, PH_FAULT_BAD_POINTER, "not page aligned (+1)");
    REFUSED_FREE(fx.runw + ps / 2, 1, PH_FAULT_BAD_POINTER, "not page aligned (+ps/2)");
    REFUSED_FREE(fx.runb + ps - 8, 1, PH_FAULT_BAD_POINTER, "not page aligned (+ps-8)");
    REFUSED_FREE(A->meta_base, 1, PH_FAULT_BAD_POINTER, "A's metadata");
    REFUSED_FREE((char *)A->base - ps, 1, PH_FAULT_BAD_POINTER, "A's last metadata page");
    REFUSED_FREE(C->meta_base, 1, PH_FAULT_BAD_POINTER, "C's metadata");
    REFUSED_FREE((char *)A->raw_base - ps, 1, PH_FAULT_BAD_POINTER, "below A");
    REFUSED_FREE(gap, 1, PH_FAULT_BAD_POINTER, "the gap between B and C");
    REFUSED_FREE(b_end, 1, PH_FAULT_BAD_POINTER, "B's partial last page");
    REFUSED_FREE((char *)C->base + C->npages * ps + ps, 1, PH_FAULT_BAD_POINTER, "above C");
    REFUSED_FREE(a_end - ps, 2, PH_FAULT_BAD_POINTER, "A's last page, 2 pages: past A");
    REFUSED_FREE(fx.runw, A->npages, PH_FAULT_BAD_POINTER, "runw, A's page count: past A");
    REFUSED_FREE(fx.runb, B->npages + 1, PH_FAULT_BAD_POINTER, "B whole + 1: into the gap");
    REFUSED_FREE(fx.runw, SIZE_MAX, PH_FAULT_BAD_POINTER, "SIZE_MAX pages");
    REFUSED_FREE(fx.runw, SIZE_MAX / ps + 1, PH_FAULT_BAD_POINTER, "a page count that wraps the address");

    /* double frees */
    REFUSED_FREE(fx.run5 + 2 * ps, 1, PH_FAULT_DOUBLE_FREE, "A:2, already free");
    REFUSED_FREE(fx.run5, 5, PH_FAULT_DOUBLE_FREE, "run5 whole, A:2 free");
    REFUSED_FREE(fx.run5 + ps, 2, PH_FAULT_DOUBLE_FREE, "A:1..2, A:2 free");
    REFUSED_FREE(fx.runw + RF_RUN * ps, 1, PH_FAULT_DOUBLE_FREE, "the page after runw, never allocated");
    REFUSED_FREE(fx.runw, RF_RUN + 1, PH_FAULT_DOUBLE_FREE, "runw + 1 page");
    REFUSED_FREE(C->base, 1, PH_FAULT_DOUBLE_FREE, "C:0, never allocated");
    REFUSED_FREE(b_end - ps, 1, PH_FAULT_DOUBLE_FREE, "B's last page, free");

    /* a valid free, then the same free again */
    unsigned long fv = suite_port.faults;
    ph_page_free(&suite_heap, fx.one, 1);
    SUITE_EQ(suite_port.faults, fv);
    SUITE_HEAP_OK(&suite_heap);
    REFUSED_FREE(fx.one, 1, PH_FAULT_DOUBLE_FREE, "A:5 freed twice");
    /* part of a run freed, then the whole run */
    ph_page_free(&suite_heap, fx.runw + 3 * ps, 2);
    REFUSED_FREE(fx.runw, RF_RUN, PH_FAULT_DOUBLE_FREE, "runw after part of it was freed");
    REFUSED_FREE(fx.runw + 4 * ps, 1, PH_FAULT_DOUBLE_FREE, "the freed part again");

    /* changes nothing and is no fault */
    NO_CHANGE(SUITE_PTR_EQ(ph_page_alloc(&suite_heap, 0), NULL));
    NO_CHANGE(ph_page_free(&suite_heap, fx.runb, 0));
    NO_CHANGE(ph_page_free(&suite_heap, NULL, 0));
    NO_CHANGE(SUITE_PTR_EQ(ph_page_alloc(&suite_heap, B->npages + 1), NULL));
    NO_CHANGE(SUITE_PTR_EQ(ph_page_alloc(&suite_heap, SIZE_MAX), NULL));
    NO_CHANGE(SUITE_PTR_EQ(ph_page_alloc(&suite_heap, SIZE_MAX / ps + 1), NULL));

    /* object memory is not the page API's */
    void *obj = ph_malloc(&suite_heap, 24);
    SUITE_CHECK(obj != NULL);
    {
        ph_stats st;
        ph_get_stats(&suite_heap, &st);
        SUITE_EQ(st.small_spans, 1);
    }
    REFUSED_FREE(obj, 1, PH_FAULT_BAD_POINTER, "an object's memory");
    /* the arena's first page (its padding before the first chunk) is object
     * memory too */
    REFUSED_FREE((void *)((uintptr_t)obj & ~(uintptr_t)(ps - 1)), 1, PH_FAULT_BAD_POINTER,
                 "an object arena's page");
    ph_free(&suite_heap, obj);
    SUITE_HEAP_OK(&suite_heap);

    /* ph_add_region refusals: no change, no fault */
    REFUSED_ADD(A->raw_base, 2 * ps, 0, PH_EOVERLAP, "overlaps A's start");
    REFUSED_ADD((char *)A->raw_base - ps, ps + 1, 0, PH_EOVERLAP, "overlaps A by one byte");
    REFUSED_ADD(b_end - 1, 4 * ps, 0, PH_EOVERLAP, "overlaps B's last byte");
    REFUSED_ADD((char *)C->raw_base - 2 * ps, 2 * ps + 1, 0, PH_EOVERLAP, "overlaps C by one byte");
    REFUSED_ADD(suite_arena, SUITE_ARENA_BYTES, 0, PH_EOVERLAP, "the whole arena");
    REFUSED_ADD(gap, 2 * ps, 0, PH_ENOMEM, "too small for one usable page");
    REFUSED_ADD(gap, 3 * ps, 3 * ps, PH_EINVAL, "granule not a power of two");
    REFUSED_ADD(gap, 3 * ps, ps / 2, PH_EINVAL, "granule below the page size");
    REFUSED_ADD(gap, 0, 0, PH_EINVAL, "size 0");
    REFUSED_ADD((void *)(UINTPTR_MAX - ps), 4 * ps, 0, PH_EINVAL, "the address wraps");
    /* a region that touches both B's raw end and C's raw start is fine */
    {
        ph_stats st0, st1;
        ph_get_stats(&suite_heap, &st0);
        SUITE_EQ(ph_add_region(&suite_heap, b_raw_end, (size_t)((char *)C->raw_base - b_raw_end), 0),
                 PH_OK);
        ph_get_stats(&suite_heap, &st1);
        SUITE_EQ(st1.regions, 4);
        SUITE_CHECK(st1.pages_total > st0.pages_total);
        SUITE_HEAP_OK(&suite_heap);
    }

    SPORT_QUIET(&suite_port);
    SUITE_HEAP_OK(&suite_heap);
    const unsigned long refused = suite_port.faults;

    /* ph_init refuses bad page sizes, and the unusable heap refuses
     * everything (the fixture's heap object is reused: it is done) */
    static const size_t bad[] = { 0x20, 100, 131072, 3, 1, 63, 65, 96, 4095, 65535, 65537 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&suite_heap, 0xA5, sizeof suite_heap);
        SUITE_EQ(ph_init(&suite_heap, bad[i], NULL), PH_EINVAL);
        SUITE_CHECK(ph_add_region(&suite_heap, suite_arena, 1024, 0) < 0);
        SUITE_PTR_EQ(ph_page_alloc(&suite_heap, 1), NULL);
        SUITE_CHECK(ph_check(&suite_heap) != PH_OK);
    }
    SUITE_EQ(ph_init(&suite_heap, 0, NULL), PH_OK);
    ph_stats st;
    ph_get_stats(&suite_heap, &st);
    SUITE_EQ(st.page_size, PH_DEFAULT_PAGE_SIZE);
    SUITE_EQ(st.regions, 0);
    SUITE_EQ(st.pages_total, 0);
    SUITE_HEAP_OK(&suite_heap);
    suite_group_end("%lu refused frees", refused);
}

/* ========================================================================
 * pages-random: differential run against ref/refmodel.c
 * ====================================================================== */

#define RR_MAXR 4
#define RR_LIVE SUITE_TABLE(160u, 512u)

typedef struct rlive {
    char *p;
    size_t n;
    uint32_t tag;
} rlive;

static rlive *live;    /* RR_LIVE entries, from the scratch area */
static size_t nlive;
static ref_model *ref; /* from the scratch area too, with its pool */

typedef struct rrun {
    size_t ps, nr;
    size_t granule[RR_MAXR];
    ph_region_info ri[RR_MAXR];
    size_t total_pages;
    bool any_granule;
} rrun;

static void tag_write(char *p, size_t n, size_t ps, uint32_t tag)
{
    uint32_t *first = (uint32_t *)(void *)p;
    uint32_t *last = (uint32_t *)(void *)(p + n * ps - sizeof(uint32_t));
    *first = tag;
    *last = ~tag;
}

static bool tag_ok(const char *p, size_t n, size_t ps, uint32_t tag)
{
    const uint32_t *first = (const uint32_t *)(const void *)p;
    const uint32_t *last = (const uint32_t *)(const void *)(p + n * ps - sizeof(uint32_t));
    return *first == tag && *last == ~tag;
}

/* Lays out 1..4 regions in the arena; false when the page size leaves too
 * few pages. */
static bool rrun_open(rrun *R, suite_rng *r)
{
    static const size_t sizes[] = { 64, 128, 256, 512, 1024 };
    memset(R, 0, sizeof *R);
    /* the largest page size that still gives ~6 chunks in the arena */
    size_t nps = 0;
    while (nps < sizeof sizes / sizeof sizes[0] && SUITE_ARENA_BYTES / sizes[nps] >= 6 * W)
        nps++;
    if (nps == 0)
        nps = 1;
    R->ps = sizes[rng_below(r, (uint32_t)nps)];
    R->nr = rng_range(r, 1, RR_MAXR);
    size_t ps = R->ps;
    uintptr_t lo = align_up((uintptr_t)suite_arena, ps);
    size_t avail = SUITE_ARENA_BYTES - (size_t)(lo - (uintptr_t)suite_arena);
    size_t share = avail / R->nr;
    uintptr_t base[RR_MAXR];
    size_t size[RR_MAXR];
    uintptr_t at = lo;
    size_t got = 0;
    for (size_t i = 0; i < R->nr; i++) {
        size_t gap = rng_below(r, (uint32_t)(2 * ps));            /* any byte offset */
        size_t sz = share / 2 + rng_below(r, (uint32_t)(share / 2 - 2 * ps)); /* fits in share */
        if (at + gap + sz > lo + avail)
            break;
        /* granule: none, or 1, 2, 4, 8 pages */
        size_t g = rng_pct(r, 60) ? ps << rng_below(r, 4) : 0;
        base[got] = at + gap;
        size[got] = sz;
        R->granule[got] = g;
        at += gap + sz;
        got++;
    }
    R->nr = got;
    if (got == 0)
        return false;
    size_t min_granule = 0;
    for (size_t i = 0; i < got; i++)
        if (R->granule[i] != 0 && (min_granule == 0 || R->granule[i] < min_granule))
            min_granule = R->granule[i];
    sport_init(&suite_port, min_granule, false);
    SUITE_EQ(ph_init(&suite_heap, ps, &suite_port.port), PH_OK);
    /* add in a random order */
    size_t order[RR_MAXR] = { 0, 1, 2, 3 };
    for (size_t i = got; i > 1; i--) {
        size_t j = rng_below(r, (uint32_t)i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    size_t added = 0;
    for (size_t k = 0; k < got; k++) {
        size_t i = order[k];
        int rc = ph_add_region(&suite_heap, (void *)base[i], size[i], R->granule[i]);
        SUITE_CHECKF(rc == PH_OK || rc == PH_ENOMEM, "ph_add_region(%p, %u, %u) = %d",
                     (void *)base[i], (unsigned)size[i], (unsigned)R->granule[i], rc);
        added += rc == PH_OK;
    }
    R->nr = added;
    if (added == 0)
        return false;
    ref_init(ref, ps);
    for (size_t i = 0; i < added; i++) {
        SUITE_EQ(ph_get_region(&suite_heap, i, &R->ri[i]), PH_OK);
        ref_add_region(ref, (uintptr_t)R->ri[i].base, R->ri[i].npages);
        R->total_pages += R->ri[i].npages;
        R->any_granule |= R->ri[i].granule != 0;
    }
    nlive = 0;
    return true;
}

static void rr_compare(size_t op, bool full)
{
    ph_stats st;
    ph_get_stats(&suite_heap, &st);
    SUITE_CHECKF(st.pages_free == ref_pages_free(ref), "op %u: pages_free %u, model %u",
                 (unsigned)op, (unsigned)st.pages_free, (unsigned)ref_pages_free(ref));
    SUITE_CHECKF(st.largest_free_run == ref_largest_run(ref),
                 "op %u: largest_free_run %u, model %u", (unsigned)op,
                 (unsigned)st.largest_free_run, (unsigned)ref_largest_run(ref));
    if (full) {
        SUITE_CHECKF(st.pages_released * st.page_size == sport_released_bytes(&suite_port),
                     "op %u: %u pages released, but the gate holds %u bytes", (unsigned)op,
                     (unsigned)st.pages_released, (unsigned)sport_released_bytes(&suite_port));
        int rc = ph_check(&suite_heap);
        SUITE_CHECKF(rc == PH_OK, "op %u: ph_check = %d", (unsigned)op, rc);
        SPORT_QUIET(&suite_port);
    }
}

/* A refused free must raise the code the model names, and change nothing. */
static void rr_bad_free(const void *p, size_t n, size_t op)
{
    int want = ref_free(ref, (uintptr_t)p, n); /* refused there too: no change */
    SUITE_CHECKF(want != 0, "op %u: the bad free of %p, %u pages is valid in the model", (unsigned)op,
                 p, (unsigned)n);
    snapshot s;
    snap_take(&suite_heap, &s);
    unsigned long f0 = suite_port.faults;
    ph_page_free(&suite_heap, suite_opaque((void *)(uintptr_t)p), n);
    SUITE_CHECKF(suite_port.faults == f0 + 1 && suite_port.last_code == want && suite_port.last_addr == p,
                 "op %u: free(%p, %u): %lu faults, code %d (model %d)", (unsigned)op, p,
                 (unsigned)n, suite_port.faults - f0, suite_port.last_code, want);
    SNAP_SAME(&suite_heap, &s, 1);
}

static size_t rr_run(uint32_t seed, size_t ops, size_t *bad_frees, size_t *scavenges,
                     size_t *released)
{
    suite_rng r;
    rrun R;
    rng_seed(&r, seed);
    if (!rrun_open(&R, &r))
        return 0;
    const size_t ps = R.ps;
    size_t used = 0, target = R.total_pages * (40 + rng_below(&r, 45)) / 100;
    uint32_t next_tag = seed | 1u;

    for (size_t op = 0; op < ops; op++) {
        uint32_t k = rng_below(&r, 1000);
        bool want_alloc = nlive == 0 || (nlive < RR_LIVE && (used < target ? k < 650 : k < 350));
        if (op % 500 == 499) /* swing the load */
            target = R.total_pages * (20 + rng_below(&r, 70)) / 100;
        if (R.any_granule && rng_below(&r, 1000) < 12) {
            size_t want = rng_pct(&r, 30) ? SIZE_MAX : ps << rng_below(&r, 6);
            size_t got = ph_scavenge(&suite_heap, want);
            (*scavenges)++;
            *released += got;
            rr_compare(op, true);
            continue;
        }
        if (rng_below(&r, 1000) < 15) {
            /* a bad free: a free page, an unaligned pointer, or past the end */
            size_t ri = rng_below(&r, (uint32_t)R.nr);
            const ph_region_info *g = &R.ri[ri];
            uint32_t kind = rng_below(&r, 3);
            if (kind == 0) {
                size_t pg = rng_below(&r, (uint32_t)g->npages);
                char *p = (char *)g->base + pg * ps;
                if (!ref_page_used(ref, (uintptr_t)p)) {
                    rr_bad_free(p, 1 + rng_below(&r, 3), op);
                    (*bad_frees)++;
                }
            } else if (kind == 1 && nlive > 0) {
                rlive *x = &live[rng_below(&r, (uint32_t)nlive)];
                rr_bad_free(x->p + 1 + rng_below(&r, (uint32_t)(ps - 1)), 1, op);
                (*bad_frees)++;
            } else {
                char *p = (char *)g->base + (g->npages - 1) * ps;
                rr_bad_free(p, 2 + rng_below(&r, 4), op);
                (*bad_frees)++;
            }
            continue;
        }
        if (want_alloc) {
            size_t n;
            uint32_t sz = rng_below(&r, 100);
            if (sz < 60)
                n = 1 + rng_below(&r, 4);
            else if (sz < 90)
                n = 1 + rng_below(&r, (uint32_t)W);
            else
                n = 1 + rng_below(&r, (uint32_t)(3 * W));
            void *p = ph_page_alloc(&suite_heap, n);
            uintptr_t m = ref_alloc(ref, n);
            SUITE_CHECKF((uintptr_t)p == m, "op %u: alloc(%u) = %p, model %p (seed %#lx)",
                         (unsigned)op, (unsigned)n, p, (void *)m, (unsigned long)seed);
            if (p != NULL) {
                SUITE_CHECKF(!sport_touches_released(&suite_port, p, n * ps),
                             "op %u: alloc(%u) = %p lies in released memory", (unsigned)op,
                             (unsigned)n, p);
                live[nlive].p = (char *)p;
                live[nlive].n = n;
                live[nlive].tag = next_tag;
                tag_write((char *)p, n, ps, next_tag);
                next_tag += 0x9E3779B9u;
                nlive++;
                used += n;
            }
        } else {
            size_t i = rng_below(&r, (uint32_t)nlive);
            rlive *x = &live[i];
            SUITE_CHECKF(tag_ok(x->p, x->n, ps, x->tag), "op %u: run %p (%u pages) overwritten",
                         (unsigned)op, (void *)x->p, (unsigned)x->n);
            size_t off = 0, cnt = x->n;
            if (x->n > 1 && nlive + 1 < RR_LIVE && rng_pct(&r, 35)) {
                /* a part: a prefix, a suffix or a middle piece */
                off = rng_below(&r, (uint32_t)x->n);
                cnt = 1 + rng_below(&r, (uint32_t)(x->n - off));
            }
            unsigned long f0 = suite_port.faults;
            ph_page_free(&suite_heap, x->p + off * ps, cnt);
            SUITE_EQ(ref_free(ref, (uintptr_t)(x->p + off * ps), cnt), 0);
            SUITE_CHECKF(suite_port.faults == f0, "op %u: the valid free of %p, %u pages was refused",
                         (unsigned)op, (void *)(x->p + off * ps), (unsigned)cnt);
            used -= cnt;
            /* what is left of the run: up to two live pieces */
            char *p0 = x->p;
            size_t n0 = x->n;
            uint32_t t0 = x->tag;
            live[i] = live[--nlive];
            if (off > 0) {
                live[nlive].p = p0;
                live[nlive].n = off;
                live[nlive].tag = t0 ^ 0x55u;
                tag_write(p0, off, ps, t0 ^ 0x55u);
                nlive++;
            }
            if (off + cnt < n0) {
                live[nlive].p = p0 + (off + cnt) * ps;
                live[nlive].n = n0 - off - cnt;
                live[nlive].tag = t0 ^ 0xAAu;
                tag_write(live[nlive].p, live[nlive].n, ps, t0 ^ 0xAAu);
                nlive++;
            }
        }
        rr_compare(op, op < 200 || op % 16 == 0);
    }
    /* everything back: the heap is whole again */
    while (nlive > 0) {
        rlive *x = &live[--nlive];
        SUITE_CHECK(tag_ok(x->p, x->n, ps, x->tag));
        ph_page_free(&suite_heap, x->p, x->n);
        SUITE_EQ(ref_free(ref, (uintptr_t)x->p, x->n), 0);
    }
    rr_compare(ops, true);
    ph_stats st;
    ph_get_stats(&suite_heap, &st);
    SUITE_EQ(st.pages_free, st.pages_total);
    SUITE_EQ(st.faults, suite_port.faults);
    ref_destroy(ref);
    return R.total_pages;
}

void group_pages_random(void)
{
    size_t ops_total = 0, bad = 0, scav = 0, released = 0, pages_max = 0;
    const size_t runs = 6;
    suite_group_begin("pages-random");
    live = (rlive *)suite_scratch(RR_LIVE * sizeof *live);
    ref = (ref_model *)suite_scratch(sizeof *ref);
    const size_t pool = SUITE_ARENA_BYTES / 64u + 8u * (RR_MAXR + 1u);
    ref_static_pool(suite_scratch(pool), pool);
    for (size_t i = 0; i < runs; i++) {
        size_t ops = SUITE_OPS(2500);
        size_t pages = rr_run(SUITE_SEED * (uint32_t)(2 * i + 1) + 0x51u, ops, &bad, &scav, &released);
        if (pages > pages_max)
            pages_max = pages;
        ops_total += pages != 0 ? ops : 0;
    }
    SUITE_CHECK(ops_total > 0);
    suite_group_end("%u runs, %lu ops against the model, up to %lu pages, %lu bad frees, %lu scavenges released %lu bytes",
                    (unsigned)runs, (unsigned long)ops_total, (unsigned long)pages_max,
                    (unsigned long)bad, (unsigned long)scav, (unsigned long)released);
}
