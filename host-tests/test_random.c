/* SPDX-License-Identifier: MIT */
/*
 * test_random.c: randomised differential tests of the page allocator
 * against the naive reference model (ref/refmodel.c: one byte per page,
 * linear first fit).
 *
 * For every page size from 64 B to 64 KiB, several heaps are built at random:
 * 1..8 regions of random sizes, at random (mostly unaligned) addresses,
 * either carved from one malloc'ed or mmap'ed buffer with random gaps
 * (sometimes none, so that regions touch) or each from its own mmap (not
 * malloc: the address order of separate malloc blocks changes with ASLR, and
 * the run must repeat), handed to ph_add_region in a random order.  Each
 * heap then runs a random mix of
 *   - ph_page_alloc of 0, 1, a few, up to several chunks of pages, or more
 *     than fits: the address must equal ref_alloc's;
 *   - ph_page_free of a live run, whole or any sub-range of it;
 *   - invalid frees (unaligned, double, metadata, past the end, NULL, ...):
 *     the fault hook must report the code the model predicts, once, with
 *     the pointer passed, and nothing else may change;
 * and after EVERY operation: ph_check is PH_OK and pages_free and
 * largest_free_run equal the model's.  Every few dozen operations, and at
 * the end, the whole ph_walk map is compared with the model page by page.
 * Allocated runs carry a tag at both ends, verified when they are freed, so
 * a heap that wrote into handed-out pages or handed out its metadata fails.
 *
 * Further cases: a heap of exactly one usable page for every page size, and
 * one region of 1 GiB (mmap'ed with MAP_NORESERVE: the heap only writes its
 * metadata) with 4 KiB and 64 B pages, compared with the model on every
 * allocation's address and on the O(pages) statistics now and then.
 *
 * Determinism: a fixed seed per test, printed; PH_TEST_SEED=<n> replays or
 * varies it.  Failures name the seed, heap and operation index.
 * Run length: PH_TEST_SCALE=<x> multiplies the operation counts (default 1:
 * a little over one million operations in the whole file).
 */
#include "ph_test_util.h"

#include <sys/mman.h>
#include <time.h>

#include "ph_internal.h"
#include "refmodel.h"

/* Metadata bytes of a region of npages pages of ps bytes (the core's own
 * formula, which depends on the page size through the anchor bytes). */
static size_t meta_bytes_for(size_t npages, size_t ps)
{
    return ph_region_meta_bytes(npages, (uint32_t)__builtin_ctzll((unsigned long long)ps));
}

#define W ((size_t)PH_WORD_BITS)
#define MAX_REGIONS 8
#define TAG_HEAD 0x7061676568656164ULL /* "pageheap" */
#define TAG_TAIL 0x7461696C7461696CULL

/* ---- memory sources ---------------------------------------------------------------- */

typedef struct mem_block {
    void *p;     /* what the test uses: aligned to PH_MAX_PAGE_SIZE        */
    void *raw;   /* what malloc/mmap returned                              */
    size_t len;  /* bytes mapped (for munmap)                              */
    bool mapped;
} mem_block;

/* len bytes from malloc or mmap, aligned to the largest page size so that
 * every offset inside comes from the test's PRNG and not from where the C
 * library or ASLR put the block: runs repeat exactly, with any allocator. */
static void *mem_get(mem_block *b, size_t len, bool mapped)
{
    const size_t align = PH_MAX_PAGE_SIZE;
    b->mapped = mapped;
    if (mapped) {
        b->len = len + align;
        b->raw = mmap(NULL, b->len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (b->raw == MAP_FAILED) {
            perror("mmap");
            abort();
        }
        b->p = (void *)round_up_ptr((uintptr_t)b->raw, align);
    } else {
        b->len = len;
        b->raw = xaligned(align, len);
        b->p = b->raw;
    }
    return b->p;
}

static void mem_put(mem_block *b)
{
    if (b->mapped)
        munmap(b->raw, b->len);
    else
        free(b->raw);
    b->p = b->raw = NULL;
}

/* ---- one randomised heap ------------------------------------------------------------ */

typedef struct rspec {
    uintptr_t base;
    size_t size;
} rspec;

typedef struct live {
    uintptr_t addr;
    size_t n;
} live;

typedef struct rheap {
    const char *test;
    uint64_t seed;
    size_t heap_no;
    size_t op; /* index of the operation running, for messages */
    rng_t rng;

    ph_heap h;
    tport port;
    ref_model m;
    size_t ps;
    size_t nr;
    ph_region_info ri[MAX_REGIONS];
    mem_block mem[MAX_REGIONS + 1];
    size_t nmem;
    rspec pending[MAX_REGIONS]; /* regions in add order */
    size_t npending, added;

    live *runs;
    size_t nruns, cap;
    size_t faults; /* expected fault count */
    size_t pages_total;

    /* counters for the summary line */
    size_t n_alloc, n_alloc_null, n_free, n_partial, n_invalid;
} rheap;

#define RFAIL(r, fmt, ...)                                                                   \
    fail_msg("[%s seed %#llx heap %zu op %zu] " fmt, (r)->test, (unsigned long long)(r)->seed, \
             (r)->heap_no, (r)->op, ##__VA_ARGS__)

/* ---- tags ---------------------------------------------------------------------------- */

static void tag_run(rheap *r, uintptr_t a, size_t n)
{
    uint64_t *head = (uint64_t *)a;
    uint64_t *tail = (uint64_t *)(a + n * r->ps - 16);
    head[0] = TAG_HEAD ^ a;
    head[1] = n;
    tail[0] = TAG_TAIL ^ a;
    tail[1] = n;
}

static void tag_verify(rheap *r, uintptr_t a, size_t n)
{
    const uint64_t *head = (const uint64_t *)a;
    const uint64_t *tail = (const uint64_t *)(a + n * r->ps - 16);
    if (head[0] != (TAG_HEAD ^ a) || head[1] != n || tail[0] != (TAG_TAIL ^ a) || tail[1] != n)
        RFAIL(r, "run %#lx (%zu pages) lost its tags: the heap wrote into handed-out pages "
                 "or handed them out twice",
              (unsigned long)a, n);
}

/* ---- live runs ------------------------------------------------------------------------ */

static void runs_add(rheap *r, uintptr_t a, size_t n)
{
    if (r->nruns == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->runs = (live *)realloc(r->runs, r->cap * sizeof *r->runs);
        if (!r->runs)
            abort();
    }
    r->runs[r->nruns].addr = a;
    r->runs[r->nruns].n = n;
    r->nruns++;
    tag_run(r, a, n);
}

static void runs_remove(rheap *r, size_t k)
{
    r->runs[k] = r->runs[--r->nruns];
}

/* ---- verification ----------------------------------------------------------------------- */

/* The cheap checks always; ph_check when `check`; the model's O(pages)
 * statistics when `model_stats`. */
static void verify_stats(rheap *r, bool check, bool model_stats)
{
    int rc = check ? ph_check(&r->h) : PH_OK;
    if (rc != PH_OK)
        RFAIL(r, "ph_check returned %d", rc);
    ph_stats st;
    ph_get_stats(&r->h, &st);
    if (st.page_size != r->ps || st.regions != r->nr || st.pages_total != r->pages_total)
        RFAIL(r, "stats: page_size %zu regions %zu pages_total %zu, expected %zu %zu %zu",
              st.page_size, st.regions, st.pages_total, r->ps, r->nr, r->pages_total);
    if (st.faults != r->faults || r->port.faults != r->faults)
        RFAIL(r, "stats: faults %zu (hook %zu), expected %zu", st.faults, r->port.faults,
              r->faults);
    if (st.pages_released != 0 || r->port.releases || r->port.acquires)
        RFAIL(r, "release state changed without a scavenge");
    if (r->port.nested || r->port.held || r->port.locks != r->port.unlocks)
        RFAIL(r, "locking unbalanced");
    if (model_stats) {
        size_t f = ref_pages_free(&r->m), l = ref_largest_run(&r->m);
        if (st.pages_free != f)
            RFAIL(r, "pages_free %zu, model %zu", st.pages_free, f);
        if (st.largest_free_run != l)
            RFAIL(r, "largest_free_run %zu, model %zu", st.largest_free_run, l);
    }
}

typedef struct walk_cmp {
    rheap *r;
    size_t region; /* region of the last META run + 1 */
    size_t pages_seen;
    uintptr_t next; /* where the next run must start */
    int last_state;
} walk_cmp;

static void walk_cmp_fn(void *ctx, const void *base, size_t npages, int state)
{
    walk_cmp *c = (walk_cmp *)ctx;
    rheap *r = c->r;
    uintptr_t b = (uintptr_t)base;
    if (state == PH_PAGES_META) {
        if (c->region >= r->nr)
            RFAIL(r, "walk: more regions than %zu", r->nr);
        const ph_region_info *ri = &r->ri[c->region];
        if (base != ri->meta_base || npages * r->ps != ri->meta_bytes)
            RFAIL(r, "walk: meta run %p/%zu, region %zu has %p/%zu bytes", base, npages, c->region,
                  ri->meta_base, ri->meta_bytes);
        c->region++;
        c->next = (uintptr_t)ri->base;
        c->last_state = PH_PAGES_META;
        return;
    }
    if (c->region == 0 || b != c->next || npages == 0)
        RFAIL(r, "walk: run %p (%zu pages) does not continue at %#lx", base, npages,
              (unsigned long)c->next);
    if (state == c->last_state)
        RFAIL(r, "walk: run %p not maximal", base);
    if (state != PH_PAGES_USED && state != PH_PAGES_FREE)
        RFAIL(r, "walk: state %d", state);
    const ph_region_info *ri = &r->ri[c->region - 1];
    if (b + npages * r->ps > (uintptr_t)ri->base + ri->npages * r->ps)
        RFAIL(r, "walk: run %p (%zu pages) past region %zu", base, npages, c->region - 1);
    const ref_region *g = &r->m.regions[c->region - 1];
    size_t first = (b - g->base) / r->ps;
    for (size_t i = first; i < first + npages; i++)
        if ((g->used[i] != 0) != (state == PH_PAGES_USED))
            RFAIL(r, "walk: page %zu of region %zu is %s, model says %s", i, c->region - 1,
                  state == PH_PAGES_USED ? "in use" : "free", g->used[i] ? "in use" : "free");
    c->pages_seen += npages;
    c->next = b + npages * r->ps;
    c->last_state = state;
}

static void verify_map(rheap *r)
{
    walk_cmp c = { r, 0, 0, 0, -1 };
    ph_walk(&r->h, walk_cmp_fn, &c);
    if (c.region != r->nr || c.pages_seen != r->pages_total)
        RFAIL(r, "walk: %zu regions / %zu pages, expected %zu / %zu", c.region, c.pages_seen, r->nr,
              r->pages_total);
}

/* ---- building a heap ---------------------------------------------------------------------- */

/* Checks the layout the heap chose for a region handed [raw, raw + size). */
static void check_layout(rheap *r, const ph_region_info *ri)
{
    uintptr_t raw = (uintptr_t)ri->raw_base, meta = (uintptr_t)ri->meta_base;
    uintptr_t aligned = round_up_ptr(raw, r->ps);
    uintptr_t end = (raw + ri->raw_size) & ~(uintptr_t)(r->ps - 1);
    size_t aligned_pages = (size_t)((end - aligned) / r->ps);
    size_t meta_pages = ri->meta_bytes / r->ps;
    if (meta != aligned)
        RFAIL(r, "region %p: metadata at %p, not at the first page boundary %#lx", ri->raw_base,
              ri->meta_base, (unsigned long)aligned);
    if (ri->meta_bytes == 0 || ri->meta_bytes % r->ps != 0 ||
        (uintptr_t)ri->base != meta + ri->meta_bytes)
        RFAIL(r, "region %p: metadata %zu bytes, base %p", ri->raw_base, ri->meta_bytes, ri->base);
    if (ri->npages == 0 || meta_pages + ri->npages > aligned_pages)
        RFAIL(r, "region %p: %zu + %zu pages in %zu aligned pages", ri->raw_base, meta_pages,
              ri->npages, aligned_pages);
    if (meta_bytes_for(ri->npages, r->ps) > ri->meta_bytes)
        RFAIL(r, "region %p: %zu metadata bytes for %zu pages, needs %zu", ri->raw_base,
              ri->meta_bytes, ri->npages, meta_bytes_for(ri->npages, r->ps));
    /* packed tightly: one more usable page would not fit */
    size_t more = (meta_bytes_for(ri->npages + 1, r->ps) + r->ps - 1) / r->ps;
    if (more + ri->npages + 1 <= aligned_pages)
        RFAIL(r, "region %p: %zu usable pages, but %zu would fit in %zu pages", ri->raw_base,
              ri->npages, ri->npages + 1, aligned_pages);
}

/* Whether a region of `size` bytes at `base` holds at least one page. */
static bool region_fits(size_t ps, uintptr_t base, size_t size)
{
    uintptr_t a = round_up_ptr(base, ps), e = (base + size) & ~(uintptr_t)(ps - 1);
    if (e <= a)
        return false;
    size_t pages = (size_t)((e - a) / ps);
    return pages >= 1 + (meta_bytes_for(1, ps) + ps - 1) / ps;
}

/* Hands the next pending region to the heap and to the model, and
 * re-reads the region table (indexes shift when a region lands below
 * others). */
static void rheap_add_next(rheap *r)
{
    const rspec *sp = &r->pending[r->added++];
    int rc = ph_add_region(&r->h, (void *)sp->base, sp->size, 0);
    bool fits = region_fits(r->ps, sp->base, sp->size);
    if (rc == PH_OK && !fits)
        RFAIL(r, "a region of %zu bytes at %#lx was accepted without room for a page", sp->size,
              (unsigned long)sp->base);
    if (rc != PH_OK && (rc != PH_ENOMEM || fits))
        RFAIL(r, "ph_add_region(%#lx, %zu) returned %d", (unsigned long)sp->base, sp->size, rc);
    if (rc != PH_OK)
        return;
    r->nr++;
    for (size_t i = 0; i < r->nr; i++) {
        if (ph_get_region(&r->h, i, &r->ri[i]) != PH_OK)
            RFAIL(r, "ph_get_region(%zu) failed", i);
        if (i > 0 && (uintptr_t)r->ri[i - 1].raw_base >= (uintptr_t)r->ri[i].raw_base)
            RFAIL(r, "regions not in address order");
        if ((uintptr_t)r->ri[i].raw_base == sp->base) {
            if (r->ri[i].raw_size != sp->size)
                RFAIL(r, "region %zu: raw size %zu, handed %zu", i, r->ri[i].raw_size, sp->size);
            check_layout(r, &r->ri[i]);
            ref_add_region(&r->m, (uintptr_t)r->ri[i].base, r->ri[i].npages);
            r->pages_total += r->ri[i].npages;
        }
    }
    ph_region_info none;
    if (ph_get_region(&r->h, r->nr, &none) != PH_EINVAL)
        RFAIL(r, "ph_get_region(%zu) past the last region succeeded", r->nr);
}

/* Builds a random heap: up to 8 regions placed in memory; with add_all
 * they are all handed over (in random order), else they wait in
 * r->pending for rheap_add_next. */
static void rheap_open(rheap *r, const char *test, uint64_t seed, size_t heap_no, size_t ps,
                       size_t max_pages, bool add_all)
{
    memset(r, 0, sizeof *r);
    r->test = test;
    r->seed = seed;
    r->heap_no = heap_no;
    r->ps = ps;
    rng_seed(&r->rng, seed + heap_no * 0x9E3779B97F4A7C15ULL);
    tport_init(&r->port, true);
    if (ph_init(&r->h, ps, &r->port.port) != PH_OK)
        RFAIL(r, "ph_init(%zu) failed", ps);
    ref_init(&r->m, ps);

    rng_t *g = &r->rng;
    size_t nr = (size_t)rng_range(g, 1, MAX_REGIONS);
    size_t meta1 = (meta_bytes_for(1, ps) + ps - 1) / ps;
    /* total page budget: a quarter of the heaps log-uniform in [1, max_pages]
     * (tiny heaps, often full), the rest in [max_pages / 8, max_pages] */
    size_t budget;
    if (rng_pct(g, 25)) {
        budget = (size_t)1 << rng_below(g, 64 - (unsigned)__builtin_clzll(max_pages));
        budget += rng_below(g, budget);
        if (budget > max_pages)
            budget = max_pages;
    } else {
        budget = (size_t)rng_range(g, max_pages / 8, max_pages);
    }
    rspec spec[MAX_REGIONS];
    size_t raw_pages[MAX_REGIONS];
    for (size_t i = 0; i < nr; i++) {
        size_t share = budget / nr;
        size_t pages = share ? 1 + rng_below(g, 2 * share) : 1;
        if (rng_pct(g, 10))
            pages = 1 + rng_below(g, 3); /* tiny regions too */
        /* metadata is about 2 words + 2 summaries per chunk: add room for it */
        raw_pages[i] = pages + meta1 + (meta_bytes_for(pages, ps) + ps - 1) / ps;
    }
    bool one_buffer = rng_pct(g, 60);
    bool mapped = rng_pct(g, 50);
    if (one_buffer) {
        size_t total = ps; /* slack for the start offset */
        size_t gaps[MAX_REGIONS], offs[MAX_REGIONS];
        for (size_t i = 0; i < nr; i++) {
            offs[i] = rng_pct(g, 25) ? 0 : (size_t)rng_below(g, ps);
            gaps[i] = rng_pct(g, 30) ? 0 : (size_t)rng_range(g, 1, 3 * ps);
            total += raw_pages[i] * ps + offs[i] + gaps[i] + ps;
        }
        char *buf = (char *)mem_get(&r->mem[r->nmem++], total, mapped);
        uintptr_t at = (uintptr_t)buf + (uintptr_t)rng_below(g, ps);
        for (size_t i = 0; i < nr; i++) {
            /* a region starts at an offset and ends anywhere; the next one
             * starts right at its end when the gap is 0 */
            spec[i].base = at;
            spec[i].size = raw_pages[i] * ps + offs[i];
            at += spec[i].size + gaps[i];
        }
        if (at > (uintptr_t)buf + total)
            RFAIL(r, "test bug: layout overflows its buffer");
    } else {
        /* Separate mmaps, all of the largest length: region i goes into the
         * i-th lowest one, so that which region lies lowest comes from the
         * PRNG and not from where the kernel (or ASan) put the mappings. */
        size_t len = 0, off[MAX_REGIONS], cut[MAX_REGIONS];
        uintptr_t blocks[MAX_REGIONS];
        for (size_t i = 0; i < nr; i++) {
            off[i] = rng_pct(g, 25) ? 0 : (size_t)rng_below(g, ps);
            cut[i] = (size_t)rng_below(g, ps);
            if (raw_pages[i] * ps + off[i] + ps > len)
                len = raw_pages[i] * ps + off[i] + ps;
        }
        for (size_t i = 0; i < nr; i++)
            blocks[i] = (uintptr_t)mem_get(&r->mem[r->nmem++], len, true);
        for (size_t i = 1; i < nr; i++)
            for (size_t j = i; j > 0 && blocks[j - 1] > blocks[j]; j--) {
                uintptr_t t = blocks[j];
                blocks[j] = blocks[j - 1];
                blocks[j - 1] = t;
            }
        for (size_t i = 0; i < nr; i++) {
            spec[i].base = blocks[i] + off[i];
            spec[i].size = raw_pages[i] * ps + ps - cut[i];
        }
    }
    /* shuffle the add order */
    for (size_t i = nr; i > 1; i--) {
        size_t j = (size_t)rng_below(g, i);
        rspec t = spec[i - 1];
        spec[i - 1] = spec[j];
        spec[j] = t;
    }
    memcpy(r->pending, spec, nr * sizeof spec[0]);
    r->npending = nr;
    while (add_all && r->added < r->npending)
        rheap_add_next(r);
    verify_stats(r, true, true);
    verify_map(r);
}

static void rheap_close(rheap *r)
{
    ref_destroy(&r->m);
    for (size_t i = 0; i < r->nmem; i++)
        mem_put(&r->mem[i]);
    free(r->runs);
    r->runs = NULL;
}

/* ---- operations ------------------------------------------------------------------------------ */

static size_t pick_alloc_size(rheap *r)
{
    rng_t *g = &r->rng;
    unsigned k = (unsigned)rng_below(g, 100);
    if (k < 40)
        return 1;
    if (k < 65)
        return (size_t)rng_range(g, 2, 8);
    if (k < 80)
        return (size_t)rng_range(g, 9, W);
    if (k < 92)
        return (size_t)rng_range(g, W + 1, 3 * W);
    if (k < 97)
        return (size_t)rng_range(g, 3 * W, 6 * W);
    if (k < 99)
        return (size_t)rng_range(g, 1, r->pages_total + 2);
    return 0;
}

static void op_alloc(rheap *r, size_t n)
{
    void *p = ph_page_alloc(&r->h, n);
    uintptr_t want = ref_alloc(&r->m, n);
    if ((uintptr_t)p != want)
        RFAIL(r, "ph_page_alloc(%zu) = %p, model %#lx", n, p, (unsigned long)want);
    if (p) {
        if (((uintptr_t)p & (r->ps - 1)) != 0)
            RFAIL(r, "ph_page_alloc(%zu) = %p is not page aligned", n, p);
        runs_add(r, (uintptr_t)p, n);
        r->n_alloc++;
    } else {
        r->n_alloc_null++;
    }
}

static void op_free(rheap *r)
{
    rng_t *g = &r->rng;
    size_t k = (size_t)rng_below(g, r->nruns);
    live x = r->runs[k];
    size_t a = 0, b = x.n;
    tag_verify(r, x.addr, x.n);
    if (x.n > 1 && rng_pct(g, 40)) {
        a = (size_t)rng_below(g, x.n);
        b = (size_t)rng_range(g, a + 1, x.n);
    }
    uintptr_t p = x.addr + a * r->ps;
    ph_page_free(&r->h, (void *)p, b - a);
    if (r->port.faults != r->faults)
        RFAIL(r, "valid ph_page_free(%#lx, %zu) raised fault %d", (unsigned long)p, b - a,
              r->port.last_code);
    int rc = ref_free(&r->m, p, b - a);
    if (rc != 0)
        RFAIL(r, "test bug: the model refused a live run (%d)", rc);
    runs_remove(r, k);
    if (a > 0)
        runs_add(r, x.addr, a);
    if (b < x.n)
        runs_add(r, x.addr + b * r->ps, x.n - b);
    r->n_free++;
    if (b - a != x.n)
        r->n_partial++;
}

/* The fault ph_page_free(p, n) must raise per the contract (0 = valid);
 * *alt gets a second acceptable code where the contract leaves the choice
 * open (a range that both reaches past its region and holds free pages). */
static int expected_fault(const rheap *r, uintptr_t p, size_t n, int *alt)
{
    *alt = -1;
    if (n == 0)
        return 0;
    for (size_t k = 0; k < r->m.nregions; k++) {
        const ref_region *g = &r->m.regions[k];
        if (p < g->base || (p - g->base) / r->ps >= g->npages)
            continue;
        if ((p - g->base) % r->ps)
            return PH_FAULT_BAD_POINTER;
        size_t first = (p - g->base) / r->ps;
        bool any_free = false;
        size_t last = n > g->npages - first ? g->npages : first + n;
        for (size_t i = first; i < last && !any_free; i++)
            any_free = !g->used[i];
        if (n > g->npages - first) {
            if (any_free)
                *alt = PH_FAULT_DOUBLE_FREE;
            return PH_FAULT_BAD_POINTER;
        }
        return any_free ? PH_FAULT_DOUBLE_FREE : 0;
    }
    return PH_FAULT_BAD_POINTER;
}

/* Picks an invalid (p, n); false when this attempt found none. */
static bool pick_invalid(rheap *r, uintptr_t *pp, size_t *pn)
{
    rng_t *g = &r->rng;
    size_t ps = r->ps;
    if (r->nr == 0)
        return false;
    size_t ri = (size_t)rng_below(g, r->nr);
    const ph_region_info *R = &r->ri[ri];
    uintptr_t base = (uintptr_t)R->base, limit = base + R->npages * ps;
    uintptr_t p = 0;
    size_t n = 1;
    switch (rng_below(g, 9)) {
    case 0: /* unaligned inside a live run */
        if (!r->nruns)
            return false;
        p = r->runs[rng_below(g, r->nruns)].addr + (uintptr_t)rng_range(g, 1, ps - 1);
        n = (size_t)rng_range(g, 1, 3);
        break;
    case 1: /* a free page, and maybe more */
        for (int t = 0; t < 16; t++) {
            size_t i = (size_t)rng_below(g, R->npages);
            if (!r->m.regions[ri].used[i]) {
                p = base + i * ps;
                n = (size_t)rng_range(g, 1, R->npages - i);
                if (n > 8 && rng_pct(g, 70))
                    n = (size_t)rng_range(g, 1, 8);
                break;
            }
        }
        if (!p)
            return false;
        break;
    case 2: /* a live run and more */
        if (!r->nruns)
            return false;
        {
            live x = r->runs[rng_below(g, r->nruns)];
            p = x.addr;
            n = x.n + (size_t)rng_range(g, 1, 3);
        }
        break;
    case 3: /* the start of a live run, freed while partly free: sub-run before it */
        if (!r->nruns)
            return false;
        {
            live x = r->runs[rng_below(g, r->nruns)];
            if (x.addr == base || x.addr < base || x.addr >= limit)
                return false;
            p = x.addr - ps;
            n = x.n + 1;
        }
        break;
    case 4: /* metadata */
        p = (uintptr_t)R->meta_base + (uintptr_t)rng_below(g, R->meta_bytes / ps) * ps;
        n = (size_t)rng_range(g, 1, 2);
        break;
    case 5: /* past the region's pages, or in its unaligned tail */
        p = limit + (rng_pct(g, 50) ? 0 : (uintptr_t)rng_below(g, 3) * ps);
        if (rng_pct(g, 30))
            p += (uintptr_t)rng_below(g, ps);
        break;
    case 6: /* a range reaching past the region */
        {
            size_t back = (size_t)rng_range(g, 1, R->npages < 4 ? R->npages : 4);
            p = limit - back * ps;
            n = back + (size_t)rng_range(g, 1, 5);
            if (rng_pct(g, 10))
                n = SIZE_MAX - (size_t)rng_below(g, 3);
        }
        break;
    case 7: /* nothing to do with the heap */
        {
            static int not_heap;
            uintptr_t c[] = { 0, (uintptr_t)&not_heap, (uintptr_t)&p, (uintptr_t)R->raw_base - 1,
                              UINTPTR_MAX & ~(uintptr_t)(ps - 1) };
            p = c[rng_below(g, sizeof c / sizeof c[0])];
        }
        break;
    default: /* a huge count from a live run's start */
        if (!r->nruns)
            return false;
        p = r->runs[rng_below(g, r->nruns)].addr;
        n = rng_pct(g, 50) ? SIZE_MAX : SIZE_MAX / ps + 1;
        break;
    }
    *pp = p;
    *pn = n;
    return true;
}

static void op_invalid(rheap *r)
{
    uintptr_t p;
    size_t n;
    int code, alt;
    for (int tries = 0;; tries++) {
        if (tries == 20)
            return; /* nothing invalid found this time (e.g. full, tiny heap) */
        if (!pick_invalid(r, &p, &n))
            continue;
        code = expected_fault(r, p, n, &alt);
        if (code != 0)
            break;
    }
    ph_stats before, after;
    ph_get_stats(&r->h, &before);
    size_t hook = r->port.faults;
    ph_page_free(&r->h, (void *)p, n);
    if (r->port.faults != hook + 1)
        RFAIL(r, "invalid ph_page_free(%#lx, %zu): fault hook called %zu times", (unsigned long)p,
              n, r->port.faults - hook);
    if (r->port.last_code != code && r->port.last_code != alt)
        RFAIL(r, "invalid ph_page_free(%#lx, %zu): fault %d, expected %d", (unsigned long)p, n,
              r->port.last_code, code);
    if ((uintptr_t)r->port.last_addr != p)
        RFAIL(r, "invalid ph_page_free(%#lx, %zu): hook got %p", (unsigned long)p, n,
              r->port.last_addr);
    /* the model agrees that it is invalid (and so changes nothing either) */
    int mrc = ref_free(&r->m, p, n);
    if (mrc != code)
        RFAIL(r, "test bug: model says %d for (%#lx, %zu), predicted %d", mrc, (unsigned long)p, n,
              code);
    r->faults++;
    r->n_invalid++;
    ph_get_stats(&r->h, &after);
    char what[160];
    snprintf(what, sizeof what, "[seed %#llx heap %zu op %zu] invalid free (%#lx, %zu)",
             (unsigned long long)r->seed, r->heap_no, r->op, (unsigned long)p, n);
    stats_assert(&before, &after, 1, what);
}

/* Runs nops random operations on r, checking after each. */
static void rheap_run(rheap *r, size_t nops, size_t map_every)
{
    rng_t *g = &r->rng;
    bool grow = false; /* flipped to true at the first operation */
    size_t phase_left = 0;
    for (r->op = 0; r->op < nops; r->op++) {
        if (phase_left-- == 0) {
            grow = !grow;
            phase_left = (size_t)rng_range(g, 20, 400);
        }
        unsigned k = (unsigned)rng_below(g, 100);
        if (k < 4) {
            op_invalid(r);
        } else if (r->nruns == 0 || k < (grow ? 70u : 35u)) {
            op_alloc(r, pick_alloc_size(r));
        } else {
            op_free(r);
        }
        verify_stats(r, true, true);
        if (map_every && r->op % map_every == 0)
            verify_map(r);
    }
}

/* Frees everything left (in random order, whole runs and pieces) and
 * checks that the heap is whole again; full checks every `every` frees. */
static void rheap_drain(rheap *r, size_t every)
{
    while (r->nruns) {
        op_free(r);
        r->op++;
        verify_stats(r, r->op % every == 0, r->op % every == 0);
    }
    verify_stats(r, true, true);
    verify_map(r);
    ph_stats st;
    ph_get_stats(&r->h, &st);
    if (st.pages_free != r->pages_total)
        RFAIL(r, "drained heap has %zu of %zu pages free", st.pages_free, r->pages_total);
    /* each region comes back whole, lowest first */
    for (size_t i = 0; i < r->nr; i++) {
        void *p = ph_page_alloc(&r->h, r->ri[i].npages);
        if (p != r->ri[i].base)
            RFAIL(r, "drained heap: region %zu whole gave %p, expected %p", i, p, r->ri[i].base);
        ref_alloc(&r->m, r->ri[i].npages);
    }
    if (ph_page_alloc(&r->h, 1) != NULL)
        RFAIL(r, "drained heap: a page beyond all regions");
    verify_stats(r, true, true);
}

/* ---- the tests ------------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t total_ops; /* across the file, for the summary */

/* Heaps per page size and operations per heap at PH_TEST_SCALE=1: 11 page
 * sizes x 16 heaps x 6,000 operations = 1,056,000 checked operations (plus
 * the frees that drain each heap).  About 8 s in a RelWithDebInfo build and
 * 90 s in the -O0 sanitizer build on a 2-core x86-64. */
#define HEAPS_PER_SIZE 16
#define OPS_PER_HEAP 6000
/* Page budget per heap: the model's checks are O(pages) per operation.
 * The memory is malloc'ed or mmap'ed but only the metadata and the tags
 * are ever written, so large pages cost address space, not RAM. */
#define MAX_PAGES 8000
#define MAX_HEAP_BYTES ((size_t)256 << 20)

static void test_differential(void **state)
{
    size_t ps = *(size_t *)*state;
    char name[64];
    snprintf(name, sizeof name, "random/differential/page%zu", ps);
    uint64_t seed = test_seed(name, 0xD1FFu * 65537u + ps);
    size_t max_pages = MAX_HEAP_BYTES / ps < MAX_PAGES ? MAX_HEAP_BYTES / ps : MAX_PAGES;
    size_t nops = scaled(OPS_PER_HEAP);
    size_t sum[7] = {0};
    double t0 = now_s();
    for (size_t hn = 0; hn < HEAPS_PER_SIZE; hn++) {
        rheap r;
        rheap_open(&r, name, seed, hn, ps, max_pages, true);
        rheap_run(&r, nops, 61);
        sum[0] += r.op;
        sum[6] += r.pages_total;
        rheap_drain(&r, 1);
        sum[1] += r.n_alloc;
        sum[2] += r.n_alloc_null;
        sum[3] += r.n_free;
        sum[4] += r.n_partial;
        sum[5] += r.n_invalid;
        total_ops += r.op;
        rheap_close(&r);
    }
    print_message("[ info     ] page %zu: %d heaps of %zu pages on average, %zu ops (%zu allocs, "
                  "%zu NULL, %zu frees of which %zu partial, %zu invalid) in %.2f s\n",
                  ps, HEAPS_PER_SIZE, sum[6] / HEAPS_PER_SIZE, sum[0], sum[1], sum[2], sum[3],
                  sum[4], sum[5], now_s() - t0);
}

/* Regions handed over one at a time while pages are in use: below, between
 * and above the existing ones, so region indexes shift under live runs and
 * under the search hint (Go's hint bugs, golang/go#38605 and #40191, came
 * from a hint outside the heap's memory). */
static void test_growing_heap(void **state)
{
    (void)state;
    static const size_t sizes[] = { 64, 512, 4096, 32768 };
    uint64_t seed = test_seed("random/growing_heap", 0x6A0111ULL);
    size_t nops = scaled(1000), ops = 0;
    double t0 = now_s();
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t hn = 0; hn < 8; hn++) {
            rheap r;
            rheap_open(&r, "random/growing_heap", seed + sizes[si], hn, sizes[si], 3000, false);
            while (r.added < r.npending) {
                rheap_add_next(&r);
                verify_stats(&r, true, true);
                verify_map(&r);
                rheap_run(&r, nops, 37);
                ops += r.op;
                total_ops += r.op;
            }
            rheap_drain(&r, 1);
            rheap_close(&r);
        }
    }
    print_message("[ info     ] growing heaps: %zu ops in %.2f s\n", ops, now_s() - t0);
}

/* A heap of exactly one usable page, at a random unaligned address. */
static void test_one_page_heap(void **state)
{
    (void)state;
    uint64_t seed = test_seed("random/one_page_heap", 0x0E0E0E0EULL);
    rng_t g;
    rng_seed(&g, seed);
    for (size_t ps = 64; ps <= 65536; ps *= 2) {
        size_t meta = (meta_bytes_for(1, ps) + ps - 1) / ps;
        mem_block mb;
        char *buf = (char *)mem_get(&mb, (meta + 5) * ps, rng_pct(&g, 50));
        uintptr_t a = round_up_ptr((uintptr_t)buf, ps) + ps; /* aligned, room below */
        size_t off = (size_t)rng_range(&g, 1, ps - 1);
        uintptr_t base = a - off;
        size_t size = off + (meta + 1) * ps + (size_t)rng_below(&g, ps); /* < meta + 2 aligned pages */
        rheap r;
        memset(&r, 0, sizeof r);
        r.test = "random/one_page_heap";
        r.seed = seed;
        r.heap_no = ps;
        r.ps = ps;
        rng_seed(&r.rng, seed ^ ps);
        tport_init(&r.port, true);
        assert_int_equal(ph_init(&r.h, ps, &r.port.port), PH_OK);
        ref_init(&r.m, ps);
        int rc = ph_add_region(&r.h, (void *)base, size, 0);
        if (rc != PH_OK)
            RFAIL(&r, "one-page region (%zu bytes) refused: %d", size, rc);
        r.nr = 1;
        assert_int_equal(ph_get_region(&r.h, 0, &r.ri[0]), PH_OK);
        check_layout(&r, &r.ri[0]);
        if (r.ri[0].npages != 1)
            RFAIL(&r, "page %zu: %zu usable pages, expected 1", ps, r.ri[0].npages);
        ref_add_region(&r.m, (uintptr_t)r.ri[0].base, 1);
        r.pages_total = 1;
        verify_stats(&r, true, true);
        assert_null(ph_page_alloc(&r.h, 2));
        assert_ptr_equal(ph_page_alloc(&r.h, 1), r.ri[0].base);
        assert_null(ph_page_alloc(&r.h, 1));
        ph_page_free(&r.h, r.ri[0].base, 1);
        assert_null(ph_page_alloc(&r.h, 2));
        verify_stats(&r, true, true);
        /* and the random mix on it */
        rheap_run(&r, scaled(2000), 1);
        rheap_drain(&r, 1);
        ref_destroy(&r.m);
        free(r.runs);
        mem_put(&mb);
    }
}

/* One region of 1 GiB: allocation addresses always checked against the
 * model, the O(pages) statistics every `every` operations. */
static void huge_region(size_t ps, size_t nops, size_t every)
{
    const size_t len = (size_t)1 << 30;
    char name[64];
    snprintf(name, sizeof name, "random/huge_region/page%zu", ps);
    uint64_t seed = test_seed(name, 0x1619u + ps);
    rheap r;
    memset(&r, 0, sizeof r);
    r.test = "random/huge_region";
    r.seed = seed;
    r.ps = ps;
    rng_seed(&r.rng, seed);
    tport_init(&r.port, true);
    double t0 = now_s();
    assert_int_equal(ph_init(&r.h, ps, &r.port.port), PH_OK);
    ref_init(&r.m, ps);
    char *buf = (char *)mem_get(&r.mem[r.nmem++], len, true);
    int rc = ph_add_region(&r.h, buf + 24, len - 24 - 8, 0);
    if (rc != PH_OK)
        RFAIL(&r, "1 GiB region refused: %d", rc);
    r.nr = 1;
    assert_int_equal(ph_get_region(&r.h, 0, &r.ri[0]), PH_OK);
    check_layout(&r, &r.ri[0]);
    ref_add_region(&r.m, (uintptr_t)r.ri[0].base, r.ri[0].npages);
    r.pages_total = r.ri[0].npages;
    size_t N = r.pages_total;
    verify_stats(&r, true, true);
    double t_setup = now_s() - t0;

    /* the whole region in one piece, then one page short of it */
    void *p = ph_page_alloc(&r.h, N);
    assert_ptr_equal(p, r.ri[0].base);
    assert_null(ph_page_alloc(&r.h, 1));
    char *mid = (char *)p + (N / 2 + 3) * ps;
    ph_page_free(&r.h, mid, 1);
    assert_ptr_equal(ph_page_alloc(&r.h, 1), mid);
    ph_page_free(&r.h, p, N);
    assert_null(ph_page_alloc(&r.h, N + 1));
    assert_ptr_equal(ph_page_alloc(&r.h, N - 1), p);
    assert_ptr_equal(ph_page_alloc(&r.h, 1), (char *)p + (N - 1) * ps);
    ph_page_free(&r.h, p, N);
    verify_stats(&r, true, true);

    /* random mix: mostly small, now and then a run of many chunks */
    rng_t *g = &r.rng;
    for (r.op = 0; r.op < nops; r.op++) {
        unsigned k = (unsigned)rng_below(g, 100);
        if (k < 3) {
            op_invalid(&r);
        } else if (r.nruns == 0 || k < 60) {
            size_t n = pick_alloc_size(&r);
            if (rng_pct(g, 3))
                n = (size_t)rng_range(g, 1, N / 64); /* up to 1/64 of the region */
            op_alloc(&r, n);
        } else {
            op_free(&r);
        }
        /* the address of every allocation was compared with the model */
        verify_stats(&r, r.op % (every / 8 + 1) == 0, r.op % every == 0);
    }
    rheap_drain(&r, every);
    print_message("[ info     ] 1 GiB, page %zu: %zu pages, %zu metadata bytes, set-up %.3f s, "
                  "%zu ops in %.2f s\n",
                  ps, N, r.ri[0].meta_bytes, t_setup, nops, now_s() - t0);
    total_ops += nops;
    rheap_close(&r);
}

static void test_huge_region_4k(void **state)
{
    (void)state;
    huge_region(4096, scaled(3000), 25);
}

static void test_huge_region_64(void **state)
{
    (void)state;
    huge_region(64, scaled(1500), 250);
}

static int print_total(void **state)
{
    (void)state;
    print_message("[ info     ] %zu randomised operations in total (PH_TEST_SCALE=%g)\n", total_ops,
                  test_scale());
    return 0;
}

static size_t page_sizes[] = { 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_differential, &page_sizes[0]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[1]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[2]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[3]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[4]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[5]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[6]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[7]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[8]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[9]),
        cmocka_unit_test_prestate(test_differential, &page_sizes[10]),
        cmocka_unit_test(test_growing_heap),
        cmocka_unit_test(test_one_page_heap),
        cmocka_unit_test(test_huge_region_4k),
        cmocka_unit_test(test_huge_region_64),
    };
    return cmocka_run_group_tests_name("random", tests, NULL, print_total);
}
