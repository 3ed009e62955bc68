/*
 * test_pages_table.c: table tests of page allocation, in the style of Go's
 * mpagealloc_test.go: each case is a heap state and what happens to it.
 *
 *   regions   usable pages of each region, in address order, with the unused
 *             pages (gap) after it; all regions come from one malloc'ed
 *             buffer, and a gap of 0 makes two regions touch.
 *   order     the order in which the regions are handed to ph_add_region
 *             (empty: address order).
 *   before    the page ranges in use before the steps.  They are made with
 *             the public API: every region is allocated whole, then the
 *             complement of `before` is freed, leaving the holes.
 *   steps     ALLOC(n, region, page): ph_page_alloc(n) must return that page;
 *             ALLOC_FAIL(n): it must return NULL;
 *             FREE(region, page, n): ph_page_free of those pages (valid frees
 *             only; refusals live in test_refusals.c).
 *   after     the page ranges in use afterwards, compared with ph_walk.
 *   free_after the free page count afterwards (ph_get_stats).
 *
 * Pages are numbered from each region's page 0 as ph_get_region reports it,
 * and regions by address order (index 0 = lowest).  W is the chunk size
 * (PH_WORD_BITS pages): the cases are written in W so that they straddle
 * chunk and tree-level boundaries in both the 32- and the 64-bit layout.
 *
 * After every step ph_check must be PH_OK, and pages_free and
 * largest_free_run must match the expected page map.
 */
#include "ph_test_util.h"

#include "ph_internal.h"

#define W ((size_t)PH_WORD_BITS)
#define MAXR 8  /* regions per case  */
#define MAXB 12 /* ranges per list   */
#define MAXS 24 /* steps per case    */

enum { OP_END = 0, OP_ALLOC, OP_FREE };

typedef struct tstep {
    int op;
    size_t n;
    int region; /* -1: the allocation must fail */
    size_t page;
} tstep;

typedef struct trange {
    int region;
    size_t page, n; /* n == 0 ends the list */
} trange;

typedef struct tcase {
    const char *name;
    size_t page_size;
    size_t pages[MAXR]; /* usable pages per region, address order; 0 ends */
    size_t gap[MAXR];   /* unused pages after region i                     */
    int order[MAXR];    /* add order (all zero: address order)             */
    trange before[MAXB];
    tstep steps[MAXS];
    trange after[MAXB];
    size_t free_after;
} tcase;

#define ALLOC(n_, r_, p_) { OP_ALLOC, (n_), (r_), (p_) }
#define ALLOC_FAIL(n_) { OP_ALLOC, (n_), -1, 0 }
#define FREE(r_, p_, n_) { OP_FREE, (n_), (r_), (p_) }
#define RANGE(r_, p_, n_) { (r_), (p_), (n_) }

static const tcase cases[] = {
    {
        .name = "first pages in address order",
        .page_size = 4096,
        .pages = { W },
        .steps = { ALLOC(1, 0, 0), ALLOC(1, 0, 1), ALLOC(3, 0, 2), FREE(0, 1, 1),
                   ALLOC(1, 0, 1), ALLOC(2, 0, 5), ALLOC(W - 7, 0, 7), ALLOC_FAIL(1),
                   FREE(0, 3, 2), ALLOC_FAIL(3), ALLOC(2, 0, 3), FREE(0, W - 1, 1) },
        .after = { RANGE(0, 0, W - 1) },
        .free_after = 1,
    },
    {
        .name = "run straddling a chunk boundary",
        .page_size = 256,
        .pages = { 4 * W },
        .before = { RANGE(0, 0, W - 2), RANGE(0, W + 2, 3 * W - 2) },
        .steps = { ALLOC_FAIL(5), ALLOC(4, 0, W - 2), ALLOC_FAIL(1) },
        .after = { RANGE(0, 0, 4 * W) },
        .free_after = 0,
    },
    {
        .name = "run covering whole chunks",
        .page_size = 128,
        .pages = { 4 * W },
        .before = { RANGE(0, 0, W - 1), RANGE(0, 3 * W + 1, W - 1) },
        .steps = { ALLOC_FAIL(2 * W + 3), ALLOC(2 * W + 2, 0, W - 1), FREE(0, W, W),
                   ALLOC(1, 0, W), ALLOC(W - 1, 0, W + 1), ALLOC_FAIL(1), FREE(0, 2 * W - 1, 2) },
        .after = { RANGE(0, 0, 2 * W - 1), RANGE(0, 2 * W + 1, 2 * W - 1) },
        .free_after = 2,
    },
    {
        /* holes across the level-0 (chunk), level-1, level-2 (root of 8
         * chunks) boundaries and one inside a chunk */
        .name = "runs across tree levels",
        .page_size = 64,
        .pages = { 8 * W },
        .before = { RANGE(0, 0, W - 3), RANGE(0, W + 2, W - 6), RANGE(0, 2 * W + 4, 2 * W - 10),
                    RANGE(0, 4 * W + 6, 2 * W - 6), RANGE(0, 6 * W + 20, 2 * W - 20) },
        .steps = { ALLOC_FAIL(21), ALLOC(12, 0, 4 * W - 6), ALLOC(6, 0, 2 * W - 4),
                   ALLOC(20, 0, 6 * W), ALLOC(2, 0, W - 3), ALLOC(3, 0, W - 1),
                   ALLOC(2, 0, 2 * W + 2), ALLOC_FAIL(1) },
        .after = { RANGE(0, 0, 8 * W) },
        .free_after = 0,
    },
    {
        .name = "first fit takes the lowest hole, not the best",
        .page_size = 64,
        .pages = { 8 * W },
        .before = { RANGE(0, 0, W - 3), RANGE(0, W + 2, W - 6), RANGE(0, 2 * W + 4, 2 * W - 10),
                    RANGE(0, 4 * W + 6, 2 * W - 6), RANGE(0, 6 * W + 20, 2 * W - 20) },
        .steps = { ALLOC(4, 0, W - 3), ALLOC(4, 0, 2 * W - 4), ALLOC(4, 0, 2 * W),
                   ALLOC(9, 0, 4 * W - 6), ALLOC(3, 0, 4 * W + 3), ALLOC(1, 0, W + 1),
                   ALLOC(1, 0, 6 * W), FREE(0, 2 * W - 2, 4), ALLOC(3, 0, 2 * W - 2) },
        .after = { RANGE(0, 0, 2 * W + 1), RANGE(0, 2 * W + 2, 4 * W - 1),
                   RANGE(0, 6 * W + 20, 2 * W - 20) },
        .free_after = 20,
    },
    {
        .name = "exact exhaustion",
        .page_size = 128,
        .pages = { 3 * W + 5 },
        .steps = { ALLOC(3 * W + 5, 0, 0), ALLOC_FAIL(1), FREE(0, 17, 1), ALLOC_FAIL(2),
                   ALLOC(1, 0, 17), ALLOC_FAIL(1), FREE(0, 3 * W + 4, 1), ALLOC(1, 0, 3 * W + 4),
                   ALLOC_FAIL(1), FREE(0, 0, 3 * W + 5), ALLOC_FAIL(3 * W + 6),
                   ALLOC(3 * W + 5, 0, 0) },
        .after = { RANGE(0, 0, 3 * W + 5) },
        .free_after = 0,
    },
    {
        .name = "multi-chunk runs",
        .page_size = 1024,
        .pages = { 5 * W },
        .steps = { ALLOC(2 * W + 1, 0, 0), ALLOC(2 * W, 0, 2 * W + 1), ALLOC_FAIL(W),
                   ALLOC(W - 1, 0, 4 * W + 1), FREE(0, 0, 2 * W + 1), ALLOC_FAIL(2 * W + 2),
                   ALLOC(2 * W + 1, 0, 0), FREE(0, W, W), ALLOC_FAIL(W + 1), ALLOC(W, 0, W),
                   FREE(0, 3 * W, 5) },
        .after = { RANGE(0, 0, 3 * W), RANGE(0, 3 * W + 5, 2 * W - 5) },
        .free_after = 5,
    },
    {
        .name = "partial frees of one run",
        .page_size = 4096,
        .pages = { 2 * W },
        .steps = { ALLOC(10, 0, 0), FREE(0, 2, 3), FREE(0, 8, 2), ALLOC(4, 0, 8), ALLOC(3, 0, 2),
                   ALLOC(1, 0, 12) },
        .after = { RANGE(0, 0, 13) },
        .free_after = 2 * W - 13,
    },
    {
        .name = "regions with gaps, added out of order",
        .page_size = 512,
        .pages = { 10, 50, W + 30 },
        .gap = { 3, 7, 0 },
        .order = { 2, 0, 1 },
        .steps = { ALLOC(20, 1, 0), ALLOC(40, 2, 0), ALLOC(10, 0, 0), ALLOC(30, 1, 20),
                   ALLOC(1, 2, 40), ALLOC_FAIL(W), ALLOC(W - 11, 2, 41), ALLOC_FAIL(1),
                   FREE(0, 3, 2), ALLOC(2, 0, 3), FREE(1, 0, 1) },
        .after = { RANGE(0, 0, 10), RANGE(1, 1, 49), RANGE(2, 0, W + 30) },
        .free_after = 1,
    },
    {
        .name = "touching regions never join",
        .page_size = 256,
        .pages = { 10, 10, 30 },
        .gap = { 0, 0, 0 },
        .order = { 1, 2, 0 },
        .steps = { ALLOC(5, 0, 0), ALLOC(15, 2, 0), ALLOC(10, 1, 0), ALLOC(6, 2, 15),
                   ALLOC(5, 0, 5), ALLOC_FAIL(10), ALLOC(9, 2, 21), ALLOC_FAIL(1),
                   FREE(0, 5, 5), FREE(1, 0, 5), ALLOC_FAIL(6), ALLOC(5, 0, 5) },
        .after = { RANGE(0, 0, 10), RANGE(1, 5, 5), RANGE(2, 0, 30) },
        .free_after = 5,
    },
    {
        .name = "lowest region that fits, not the best fit",
        .page_size = 2048,
        .pages = { 8, 100 },
        .gap = { 1 },
        .order = { 1, 0 },
        .before = { RANGE(0, 0, 2) },
        .steps = { ALLOC(7, 1, 0), ALLOC(6, 0, 2), ALLOC(1, 1, 7), FREE(0, 4, 1), ALLOC(2, 1, 8),
                   ALLOC(1, 0, 4) },
        .after = { RANGE(0, 0, 8), RANGE(1, 0, 10) },
        .free_after = 90,
    },
    {
        .name = "odd region sizes",
        .page_size = 64,
        .pages = { W + 1, 1, 2 * W - 1 },
        .gap = { 1, 1 },
        .order = { 2, 1, 0 },
        .steps = { ALLOC(W + 1, 0, 0), ALLOC(2, 2, 0), ALLOC(1, 1, 0), ALLOC(2 * W - 3, 2, 2),
                   ALLOC_FAIL(1), FREE(2, 2 * W - 2, 1), ALLOC_FAIL(2), ALLOC(1, 2, 2 * W - 2),
                   FREE(0, W, 1), ALLOC(1, 0, W) },
        .after = { RANGE(0, 0, W + 1), RANGE(1, 0, 1), RANGE(2, 0, 2 * W - 1) },
        .free_after = 0,
    },
    {
        /* 38 chunks: 64 leaves, height 6, 26 empty leaves past the end */
        .name = "deep tree with a partial last chunk",
        .page_size = 64,
        .pages = { 37 * W + 13 },
        .before = { RANGE(0, 0, 17 * W - 1), RANGE(0, 17 * W + 1, 14 * W + 4),
                    RANGE(0, 36 * W, W) },
        .steps = { ALLOC_FAIL(5 * W - 4), ALLOC(13, 0, 31 * W + 5), ALLOC(5 * W - 18, 0, 31 * W + 18),
                   ALLOC(13, 0, 37 * W), ALLOC(2, 0, 17 * W - 1), ALLOC_FAIL(1),
                   FREE(0, 20 * W, 10 * W), ALLOC_FAIL(10 * W + 1), ALLOC(10 * W, 0, 20 * W) },
        .after = { RANGE(0, 0, 37 * W + 13) },
        .free_after = 0,
    },
    {
        .name = "largest page size",
        .page_size = 65536,
        .pages = { W / 2 + 3, 3 },
        .gap = { 2 },
        .order = { 1, 0 },
        .steps = { ALLOC_FAIL(W / 2 + 4), ALLOC(3, 0, 0), ALLOC(W / 2, 0, 3), ALLOC(3, 1, 0),
                   ALLOC_FAIL(1), FREE(0, 1, W / 2), ALLOC_FAIL(W / 2 + 1), ALLOC(W / 2, 0, 1) },
        .after = { RANGE(0, 0, W / 2 + 3), RANGE(1, 0, 3) },
        .free_after = 0,
    },
    {
        .name = "a heap of one page",
        .page_size = 64,
        .pages = { 1 },
        .steps = { ALLOC_FAIL(2), ALLOC(1, 0, 0), ALLOC_FAIL(1), FREE(0, 0, 1), ALLOC(1, 0, 0) },
        .after = { RANGE(0, 0, 1) },
        .free_after = 0,
    },
    {
        .name = "eight regions in scrambled order",
        .page_size = 128,
        .pages = { 3, 1, W, 2, W + W / 2, 5, 1, 2 * W },
        .gap = { 0, 2, 1, 0, 3, 0, 1 },
        .order = { 7, 3, 0, 5, 1, 6, 2, 4 },
        .steps = { ALLOC(2, 0, 0), ALLOC(2, 2, 0), ALLOC(1, 0, 2), ALLOC(1, 1, 0),
                   ALLOC(W - 2, 2, 2), ALLOC(2, 3, 0), ALLOC(W + W / 2, 4, 0), ALLOC(6, 7, 0),
                   ALLOC(5, 5, 0), ALLOC(1, 6, 0), ALLOC(2 * W - 6, 7, 6), ALLOC_FAIL(1),
                   FREE(4, W / 2, W), FREE(7, 2, 2 * W - 2), ALLOC(W + 6, 7, 2) },
        .after = { RANGE(0, 0, 3), RANGE(1, 0, 1), RANGE(2, 0, W), RANGE(3, 0, 2),
                   RANGE(4, 0, W / 2), RANGE(5, 0, 5), RANGE(6, 0, 1), RANGE(7, 0, W + 8) },
        /* a hole of W in region 4 (too small for W + 6), W - 8 left in region 7 */
        .free_after = W + (W - 8),
    },
};

/* ---- region set-up ---------------------------------------------------------- */

/* Smallest page-aligned region (in bytes) that has exactly `want` usable
 * pages, found by asking the heap itself. */
static size_t raw_bytes_for(size_t ps, size_t want)
{
    size_t bound = want + (ph_region_meta_bytes(want) + ps - 1) / ps + 2;
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
