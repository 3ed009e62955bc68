/* SPDX-License-Identifier: MIT */
/*
 * test_pages_table.c: table tests of page allocation, in the style of Go's
 * mpagealloc_test.go: each case is a heap state and what happens to it.
 * The cases (regions, pages in use before, allocations with the page each
 * must return, frees, the page map afterwards) are in ref/page_cases.h,
 * shared with the on-target suite; all regions of a case come from one
 * malloc'ed buffer here.
 *
 * After every step ph_check must be PH_OK, and pages_free and
 * largest_free_run must match the expected page map.
 */
#include "ph_test_util.h"

#include "ph_internal.h"

#define W ((size_t)PH_WORD_BITS)
#include "page_cases.h"

/* Metadata bytes of a region of npages pages of ps bytes (the core's own
 * formula, which depends on the page size through the anchor bytes). */
static size_t meta_bytes_for(size_t npages, size_t ps)
{
    return ph_region_meta_bytes(npages, (uint32_t)__builtin_ctzll((unsigned long long)ps));
}

/* The cases of ref/page_cases.h, at page sizes from 64 bytes to 64 KiB. */
static const tcase cases[] = {
    PAGE_CASE_FIRST_PAGES(4096),
    PAGE_CASE_STRADDLE(256),
    PAGE_CASE_WHOLE_CHUNKS(128),
    PAGE_CASE_TREE_LEVELS(64),
    PAGE_CASE_FIRST_FIT(64),
    PAGE_CASE_EXHAUSTION(128),
    PAGE_CASE_MULTI_CHUNK(1024),
    PAGE_CASE_PARTIAL_FREES(4096),
    PAGE_CASE_GAPS_OUT_OF_ORDER(512),
    PAGE_CASE_TOUCHING(256),
    PAGE_CASE_LOWEST_REGION(2048),
    PAGE_CASE_ODD_SIZES(64),
    PAGE_CASE_DEEP_TREE(64),
    PAGE_CASE_LARGE_PAGES("largest page size", 65536),
    PAGE_CASE_ONE_PAGE(64),
    PAGE_CASE_EIGHT_REGIONS(128),
};

/* ---- region set-up ---------------------------------------------------------- */

/* Smallest page-aligned region (in bytes) that has exactly `want` usable
 * pages, found by asking the heap itself. */
static size_t raw_bytes_for(size_t ps, size_t want)
{
    size_t bound = want + (meta_bytes_for(want, ps) + ps - 1) / ps + 2;
    void *scratch = xaligned(ps, bound * ps);
    for (size_t raw = want + 1; raw <= bound; raw++) {
        ph_heap sh;
        ph_region_info ri;
        assert_int_equal(ph_init(&sh, ps, NULL), PH_OK);
        if (ph_add_region(&sh, scratch, raw * ps, 0) != PH_OK)
            continue;
        assert_int_equal(ph_get_region(&sh, 0, &ri), PH_OK);
        if (ri.npages == want) {
            free(scratch);
            return raw * ps;
        }
        if (ri.npages > want)
            fail_msg("page size %zu: no region has exactly %zu usable pages (%zu raw pages give %zu)",
                     ps, want, raw, ri.npages);
    }
    fail_msg("page size %zu: no region of up to %zu pages holds %zu usable pages", ps, bound, want);
    return 0;
}

typedef struct theap {
    ph_heap h;
    tport port;
    size_t ps;
    size_t nr;
    void *buf;
    ph_region_info ri[MAXR];
    uint8_t *model[MAXR]; /* expected map: 1 = in use */
} theap;

static void theap_open(theap *t, size_t ps, const size_t *pages, const size_t *gap,
                       const int *order, size_t nr)
{
    size_t raw[MAXR], off[MAXR], total = ps; /* one unused page below region 0 */
    bool identity = nr < 2 || (order[0] == 0 && order[1] == 0);

    memset(t, 0, sizeof *t);
    t->ps = ps;
    t->nr = nr;
    for (size_t i = 0; i < nr; i++) {
        raw[i] = raw_bytes_for(ps, pages[i]);
        off[i] = total;
        total += raw[i] + gap[i] * ps;
    }
    total += ps;
    t->buf = xaligned(ps, total);
    tport_init(&t->port, true);
    assert_int_equal(ph_init(&t->h, ps, &t->port.port), PH_OK);
    for (size_t k = 0; k < nr; k++) {
        size_t i = identity ? k : (size_t)order[k];
        assert_true(i < nr);
        int rc = ph_add_region(&t->h, (char *)t->buf + off[i], raw[i], 0);
        if (rc != PH_OK)
            fail_msg("ph_add_region of region %zu (%zu bytes at +%zu) returned %d", i, raw[i],
                     off[i], rc);
    }
    for (size_t i = 0; i < nr; i++) {
        assert_int_equal(ph_get_region(&t->h, i, &t->ri[i]), PH_OK);
        /* index i is the i-th lowest region */
        assert_ptr_equal(t->ri[i].raw_base, (char *)t->buf + off[i]);
        assert_int_equal(t->ri[i].raw_size, raw[i]);
        assert_int_equal(t->ri[i].npages, pages[i]);
        t->model[i] = (uint8_t *)calloc(pages[i], 1);
        assert_non_null(t->model[i]);
    }
    ph_region_info extra;
    assert_int_equal(ph_get_region(&t->h, nr, &extra), PH_EINVAL);
}

static void theap_close(theap *t)
{
    for (size_t i = 0; i < t->nr; i++)
        free(t->model[i]);
    free(t->buf);
}

static void *page_addr(const theap *t, size_t r, size_t page)
{
    return (char *)t->ri[r].base + page * t->ps;
}

static size_t model_free(const theap *t)
{
    size_t n = 0;
    for (size_t r = 0; r < t->nr; r++)
        for (size_t i = 0; i < t->ri[r].npages; i++)
            n += !t->model[r][i];
    return n;
}

static size_t model_largest(const theap *t)
{
    size_t best = 0;
    for (size_t r = 0; r < t->nr; r++) {
        size_t run = 0;
        for (size_t i = 0; i < t->ri[r].npages; i++) {
            run = t->model[r][i] ? 0 : run + 1;
            if (run > best)
                best = run;
        }
    }
    return best;
}

/* ph_check, the statistics and the fault count agree with the model. */
static void theap_verify(theap *t, const char *what)
{
    ph_stats st;
    size_t total = 0;
    CHECK_OK(&t->h, what);
    ph_get_stats(&t->h, &st);
    for (size_t r = 0; r < t->nr; r++)
        total += t->ri[r].npages;
    if (st.pages_total != total)
        fail_msg("%s: pages_total %zu, expected %zu", what, st.pages_total, total);
    if (st.regions != t->nr)
        fail_msg("%s: regions %zu, expected %zu", what, st.regions, t->nr);
    if (st.pages_free != model_free(t))
        fail_msg("%s: pages_free %zu, expected %zu", what, st.pages_free, model_free(t));
    if (st.largest_free_run != model_largest(t))
        fail_msg("%s: largest_free_run %zu, expected %zu", what, st.largest_free_run,
                 model_largest(t));
    if (st.pages_released != 0)
        fail_msg("%s: pages_released %zu without any scavenge", what, st.pages_released);
    if (st.faults != 0 || t->port.faults != 0)
        fail_msg("%s: %zu faults (hook: %zu) from valid calls", what, st.faults, t->port.faults);
    if (t->port.releases || t->port.acquires)
        fail_msg("%s: release/acquire hooks called without a scavenge", what);
    if (t->port.nested || t->port.stray_unlocks || t->port.held || t->port.locks != t->port.unlocks)
        fail_msg("%s: unbalanced locking (locks %zu unlocks %zu nested %zu)", what, t->port.locks,
                 t->port.unlocks, t->port.nested);
}

/* The ph_walk map, page by page, against the used[] maps given. */
static void theap_walk_matches(theap *t, uint8_t *const *want, const char *what)
{
    walk_log w = {0};
    uint8_t *seen[MAXR];
    walk_take(&t->h, &w);
    for (size_t q = 0; q < t->nr; q++) {
        seen[q] = (uint8_t *)calloc(t->ri[q].npages, 1);
        assert_non_null(seen[q]);
    }
    long r = -1; /* region of the current run: each META run opens the next */
    for (size_t k = 0; k < w.n; k++) {
        const walk_run *x = &w.runs[k];
        uintptr_t b = (uintptr_t)x->base;
        if (k > 0) {
            const walk_run *p = &w.runs[k - 1];
            if ((uintptr_t)p->base + p->npages * t->ps == b && p->state == x->state)
                fail_msg("%s: walk runs %zu and %zu are not maximal", what, k - 1, k);
        }
        if (x->state == PH_PAGES_META) {
            r++;
            if ((size_t)r >= t->nr)
                fail_msg("%s: walk reports more regions than %zu", what, t->nr);
            if (x->base != t->ri[r].meta_base || x->npages * t->ps != t->ri[r].meta_bytes)
                fail_msg("%s: walk meta run (%p, %zu pages) != region %ld meta (%p, %zu bytes)",
                         what, x->base, x->npages, r, t->ri[r].meta_base, t->ri[r].meta_bytes);
            continue;
        }
        if (r < 0)
            fail_msg("%s: walk starts without the metadata of region 0", what);
        uintptr_t lo = (uintptr_t)t->ri[r].base;
        if (b < lo || (b - lo) % t->ps != 0 || (b - lo) / t->ps + x->npages > t->ri[r].npages)
            fail_msg("%s: walk run %zu (%p, %zu pages) outside region %ld", what, k, x->base,
                     x->npages, r);
        if (x->state != PH_PAGES_USED && x->state != PH_PAGES_FREE)
            fail_msg("%s: walk run %zu has state %d", what, k, x->state);
        size_t first = (b - lo) / t->ps;
        for (size_t i = first; i < first + x->npages; i++) {
            if (seen[r][i])
                fail_msg("%s: page %zu of region %ld reported twice", what, i, r);
            seen[r][i] = x->state == PH_PAGES_USED ? 1 : 2;
        }
    }
    if ((size_t)(r + 1) != t->nr)
        fail_msg("%s: walk covered %ld regions, expected %zu", what, r + 1, t->nr);
    for (size_t q = 0; q < t->nr; q++) {
        for (size_t i = 0; i < t->ri[q].npages; i++) {
            if (!seen[q][i])
                fail_msg("%s: walk never reported page %zu of region %zu", what, i, q);
            if ((seen[q][i] == 1) != (want[q][i] != 0))
                fail_msg("%s: page %zu of region %zu is %s, expected %s", what, i, q,
                         seen[q][i] == 1 ? "in use" : "free", want[q][i] ? "in use" : "free");
        }
        free(seen[q]);
    }
    walk_free(&w);
}

static void ranges_to_maps(const theap *t, const trange *list, uint8_t **maps)
{
    for (size_t r = 0; r < t->nr; r++) {
        maps[r] = (uint8_t *)calloc(t->ri[r].npages, 1);
        assert_non_null(maps[r]);
    }
    for (const trange *x = list; x < list + MAXB && x->n; x++) {
        assert_true((size_t)x->region < t->nr);
        assert_true(x->page + x->n <= t->ri[x->region].npages);
        memset(maps[x->region] + x->page, 1, x->n);
    }
}

/* Allocates every region whole, then frees all but `used`. */
static void theap_make_state(theap *t, const trange *used)
{
    uint8_t *maps[MAXR];
    for (size_t r = 0; r < t->nr; r++) {
        void *p = ph_page_alloc(&t->h, t->ri[r].npages);
        if (p != t->ri[r].base)
            fail_msg("set-up: allocating region %zu whole gave %p, expected %p", r, p,
                     t->ri[r].base);
        memset(t->model[r], 1, t->ri[r].npages);
    }
    theap_verify(t, "set-up: all allocated");
    ranges_to_maps(t, used, maps);
    for (size_t r = 0; r < t->nr; r++) {
        size_t n = t->ri[r].npages;
        for (size_t i = 0; i < n;) {
            if (maps[r][i]) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < n && !maps[r][j])
                j++;
            ph_page_free(&t->h, page_addr(t, r, i), j - i);
            memset(t->model[r] + i, 0, j - i);
            i = j;
        }
        free(maps[r]);
    }
    theap_verify(t, "set-up: holes made");
    theap_walk_matches(t, t->model, "set-up");
}

static void run_case(const tcase *c)
{
    theap t;
    size_t nr = 0;
    char what[256];

    while (nr < MAXR && c->pages[nr])
        nr++;
    print_message("[ case     ] %s (page %zu, %zu regions)\n", c->name, c->page_size, nr);
    theap_open(&t, c->page_size, c->pages, c->gap, c->order, nr);
    theap_make_state(&t, c->before);

    for (size_t k = 0; k < MAXS && c->steps[k].op != OP_END; k++) {
        const tstep *s = &c->steps[k];
        if (s->op == OP_ALLOC) {
            snprintf(what, sizeof what, "%s: step %zu alloc(%zu)", c->name, k, s->n);
            void *p = ph_page_alloc(&t.h, s->n);
            void *want = s->region < 0 ? NULL : page_addr(&t, (size_t)s->region, s->page);
            if (p != want) {
                /* name the region/page that came back, to make the diff readable */
                long gr = -1, gp = -1;
                for (size_t r = 0; r < nr && p; r++)
                    if ((char *)p >= (char *)t.ri[r].base &&
                        (char *)p < (char *)t.ri[r].base + t.ri[r].npages * t.ps) {
                        gr = (long)r;
                        gp = (long)(((char *)p - (char *)t.ri[r].base) / (ptrdiff_t)t.ps);
                    }
                fail_msg("%s returned %p (region %ld page %ld), expected %p (region %d page %zu)",
                         what, p, gr, gp, want, s->region, s->page);
            }
            if (p)
                memset(t.model[s->region] + s->page, 1, s->n);
        } else {
            snprintf(what, sizeof what, "%s: step %zu free(region %d, page %zu, %zu)", c->name, k,
                     s->region, s->page, s->n);
            ph_page_free(&t.h, page_addr(&t, (size_t)s->region, s->page), s->n);
            memset(t.model[s->region] + s->page, 0, s->n);
        }
        theap_verify(&t, what);
    }

    uint8_t *after[MAXR];
    snprintf(what, sizeof what, "%s: after", c->name);
    ranges_to_maps(&t, c->after, after);
    theap_walk_matches(&t, after, what);
    ph_stats st;
    ph_get_stats(&t.h, &st);
    if (st.pages_free != c->free_after)
        fail_msg("%s: pages_free %zu, expected %zu", what, st.pages_free, c->free_after);
    for (size_t r = 0; r < nr; r++)
        free(after[r]);
    theap_close(&t);
}

static void test_table(void **state)
{
    (void)state;
    print_message("[ config   ] chunk = %zu pages\n", W);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* ---- non-table cases ---------------------------------------------------------- */

static const size_t one_by_one_pages[] = { 3, 1, W, 2, W + W / 2, 5, 1, 2 * W + 7 };
static const size_t one_by_one_gaps[] = { 0, 2, 1, 0, 3, 0, 1, 0 };
static const int one_by_one_order[] = { 7, 3, 0, 5, 1, 6, 2, 4 };
#define ONE_BY_ONE_NR (sizeof one_by_one_pages / sizeof one_by_one_pages[0])

/* One page at a time: the pages come in address order through every region,
 * then NULL; any single page freed comes straight back. */
static void test_one_page_at_a_time(void **state)
{
    (void)state;
    static const size_t sizes[] = { 64, 512, 4096 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        theap t;
        char what[128];
        theap_open(&t, sizes[si], one_by_one_pages, one_by_one_gaps, one_by_one_order,
                   ONE_BY_ONE_NR);
        size_t total = 0;
        for (size_t r = 0; r < t.nr; r++) {
            for (size_t i = 0; i < t.ri[r].npages; i++) {
                void *p = ph_page_alloc(&t.h, 1);
                if (p != page_addr(&t, r, i))
                    fail_msg("page %zu: alloc(1) gave %p, expected region %zu page %zu (%p)",
                             sizes[si], p, r, i, page_addr(&t, r, i));
                t.model[r][i] = 1;
                total++;
                snprintf(what, sizeof what, "page %zu: alloc %zu", sizes[si], total);
                theap_verify(&t, what);
            }
        }
        assert_null(ph_page_alloc(&t.h, 1));
        rng_t rng;
        rng_seed(&rng, test_seed("pages/one_page_at_a_time", 0x1B1B1B + si));
        /* one page freed: exactly that page comes back */
        for (int k = 0; k < 50; k++) {
            size_t r = (size_t)rng_below(&rng, t.nr);
            size_t i = (size_t)rng_below(&rng, t.ri[r].npages);
            ph_page_free(&t.h, page_addr(&t, r, i), 1);
            t.model[r][i] = 0;
            theap_verify(&t, "single free");
            assert_null(ph_page_alloc(&t.h, 2 + (size_t)rng_below(&rng, 3)));
            void *p = ph_page_alloc(&t.h, 1);
            if (p != page_addr(&t, r, i))
                fail_msg("page %zu: after freeing region %zu page %zu, alloc(1) gave %p", sizes[si],
                         r, i, p);
            t.model[r][i] = 1;
            assert_null(ph_page_alloc(&t.h, 1));
            theap_verify(&t, "single realloc");
        }
        /* k pages freed: they come back in address order */
        for (int round = 0; round < 20; round++) {
            size_t k = 1 + (size_t)rng_below(&rng, 12);
            for (size_t j = 0; j < k; j++) {
                size_t r = (size_t)rng_below(&rng, t.nr);
                size_t i = (size_t)rng_below(&rng, t.ri[r].npages);
                if (!t.model[r][i])
                    continue;
                ph_page_free(&t.h, page_addr(&t, r, i), 1);
                t.model[r][i] = 0;
                theap_verify(&t, "scattered free");
            }
            for (size_t r = 0; r < t.nr; r++) {
                for (size_t i = 0; i < t.ri[r].npages; i++) {
                    if (t.model[r][i])
                        continue;
                    void *p = ph_page_alloc(&t.h, 1);
                    if (p != page_addr(&t, r, i))
                        fail_msg("page %zu: refill gave %p, expected region %zu page %zu (%p)",
                                 sizes[si], p, r, i, page_addr(&t, r, i));
                    t.model[r][i] = 1;
                    theap_verify(&t, "refill");
                }
            }
            assert_null(ph_page_alloc(&t.h, 1));
        }
        theap_walk_matches(&t, t.model, "one page at a time");
        theap_close(&t);
    }
}

/* Freed page by page in a scrambled order, the heap is whole again: each
 * region can be allocated in one piece, lowest first. */
static void test_free_scrambled_then_whole(void **state)
{
    (void)state;
    theap t;
    theap_open(&t, 256, one_by_one_pages, one_by_one_gaps, one_by_one_order, ONE_BY_ONE_NR);
    size_t total = 0;
    for (size_t r = 0; r < t.nr; r++)
        total += t.ri[r].npages;
    void **pages = (void **)calloc(total, sizeof *pages);
    assert_non_null(pages);
    for (size_t k = 0; k < total; k++) {
        pages[k] = ph_page_alloc(&t.h, 1);
        assert_non_null(pages[k]);
    }
    for (size_t r = 0; r < t.nr; r++)
        memset(t.model[r], 1, t.ri[r].npages);
    theap_verify(&t, "all allocated");
    rng_t rng;
    rng_seed(&rng, test_seed("pages/free_scrambled", 0x5C4A3B1EULL));
    for (size_t k = total; k > 1; k--) {
        size_t j = (size_t)rng_below(&rng, k);
        void *tmp = pages[j];
        pages[j] = pages[k - 1];
        pages[k - 1] = tmp;
    }
    for (size_t k = 0; k < total; k++) {
        ph_page_free(&t.h, pages[k], 1);
        for (size_t r = 0; r < t.nr; r++)
            if ((char *)pages[k] >= (char *)t.ri[r].base &&
                (char *)pages[k] < (char *)t.ri[r].base + t.ri[r].npages * t.ps)
                t.model[r][((char *)pages[k] - (char *)t.ri[r].base) / (ptrdiff_t)t.ps] = 0;
        theap_verify(&t, "scrambled free");
    }
    free(pages);
    /* nothing larger than the largest region fits anywhere */
    size_t big = 0;
    for (size_t r = 1; r < t.nr; r++)
        if (t.ri[r].npages > t.ri[big].npages)
            big = r;
    assert_null(ph_page_alloc(&t.h, t.ri[big].npages + 1));
    for (size_t r = 0; r < t.nr; r++) {
        void *p = ph_page_alloc(&t.h, t.ri[r].npages);
        /* regions before r are full, so region r is the lowest that fits */
        assert_ptr_equal(p, t.ri[r].base);
        memset(t.model[r], 1, t.ri[r].npages);
        theap_verify(&t, "whole region");
    }
    assert_null(ph_page_alloc(&t.h, 1));
    theap_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_one_page_at_a_time),
        cmocka_unit_test(test_free_scrambled_then_whole),
    };
    return cmocka_run_group_tests_name("pages_table", tests, NULL, NULL);
}
