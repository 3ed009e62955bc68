/* SPDX-License-Identifier: MIT */
/*
 * test_scavenge_random.c: randomised differential runs of the page
 * allocator with its release state, against the reference model
 * ref/refscav.c, scavenges and idle calls interleaved with allocation.
 *
 * For every page size 64 B, 256 B, 1 KiB, 4 KiB, 16 KiB, 64 KiB and every
 * granule choice (1x, 4x, 16x, 128x the page, 0, and a mix per region),
 * a heap is built at random: 1..8 regions of random sizes at random
 * offsets of an aligned arena (unaligned bases and ends, gaps of any size,
 * sometimes none so that regions touch), added in random order, some of
 * them in the middle of the run.  Then a random mix of:
 *   - ph_page_alloc of 0, 1..4, 1..32, up to a whole region, or more than
 *     fits (address and acquire calls as the model says);
 *   - ph_page_free of a live run, whole or a random part of it;
 *   - alloc-then-free of the same pages (a burst that comes back);
 *   - freeing everything;
 *   - refused frees over free (retained or released) pages and metadata:
 *     one fault, nothing else changes, no hook call;
 *   - ph_scavenge(0 / 1 / SIZE_MAX / some granules / random bytes): return
 *     value and the exact release calls as the model says; after SIZE_MAX
 *     nothing releasable is left;
 *   - ph_idle under random policies (budget 0, one page, one granule,
 *     random; headroom 0..200%; decay shift 0..8): the properties its
 *     header documents (see sh_idle in scav_harness.h);
 * and after EVERY operation the harness compares ph_check, every
 * statistic, the whole ph_walk map and the hook calls with the model.
 *
 * Heaps whose granules are all 0 or multiples of the OS page run with the
 * guard port (released memory PROT_NONE; every fourth such heap also
 * scrubs it); the harness writes tags into every allocated page and checks
 * them on free, and every few dozen operations probes that a released
 * granule really faults and an allocated page does not.
 *
 * Seed: fixed, printed; PH_TEST_SEED=<n> replays or varies it.
 * Length: 2 heaps per page size and granule choice (72 heaps), 4000
 * operations each; PH_TEST_SCALE=<x> multiplies the operations per heap.
 * A failure names the page size, round and granule choice of the heap.
 */
#include "scav_harness.h"

#define MAX_R 8
#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

enum { MIXED = -1 };
#define ROUNDS 2          /* heaps per (page size, granule choice) */
#define OPS_PER_HEAP 4000 /* operations per heap, times PH_TEST_SCALE */

static const size_t page_sizes[] = { 64, 256, 1024, 4096, 16384, 65536 };
static const int mults[] = { 1, 4, 16, 128, 0, MIXED };

typedef struct rspec {
    uintptr_t base;
    size_t size, granule;
} rspec;

typedef struct run {
    sh s;
    rng_t rng;
    arena a;
    rspec pending[MAX_R];
    size_t npending;
    size_t maxg;        /* largest granule of the heap */
    size_t n_bad, n_burst, n_added_late;
} run;

static size_t pick_granule(run *r, size_t ps, int mult, bool big_only)
{
    static const size_t m[] = { 0, 1, 4, 16, 128 };
    if (mult != MIXED)
        return ps * (size_t)mult;
    for (;;) {
        size_t g = ps * m[rng_below(&r->rng, 5)];
        if (!big_only || g == 0 || g % os_page_size() == 0)
            return g;
    }
}

/* Lays out the regions in the arena; returns how many. */
static size_t lay_out(run *r, size_t ps, int mult, rspec *out, size_t *arena_bytes)
{
    size_t nr = 1 + rng_below(&r->rng, rng_pct(&r->rng, 80) ? 4 : MAX_R);
    size_t budget = ps >= 65536 ? 768 : ps >= 16384 ? 1536 : 2500; /* pages, all regions */
    bool big_only = rng_pct(&r->rng, 50);
    size_t off = rng_below(&r->rng, 3) * ps + (rng_pct(&r->rng, 30) ? rng_below(&r->rng, ps) : 0);

    r->maxg = 0;
    for (size_t i = 0; i < nr; i++) {
        size_t g = pick_granule(r, ps, mult, big_only);
        size_t gp = g / ps;
        size_t share = budget / nr;
        size_t pages = rng_range(&r->rng, 8, share > 8 ? share : 8);
        if (gp > 1 && rng_pct(&r->rng, 60)) {
            size_t want = gp * rng_range(&r->rng, 2, 6) + rng_below(&r->rng, gp);
            if (want > pages && want <= 2 * share + gp)
                pages = want;
        }
        size_t gap;
        switch (rng_below(&r->rng, 4)) {
        case 0: gap = 0; break;                                      /* touching      */
        case 1: gap = rng_below(&r->rng, 4 * ps);  break;            /* unaligned     */
        case 2: gap = (g ? g : ps) * rng_below(&r->rng, 3); break;   /* granules      */
        default: gap = rng_below(&r->rng, 16) * ps; break;
        }
        if (i == 0)
            gap = 0;
        off += gap;
        out[i].base = off; /* relative for now */
        out[i].size = pages * ps + (rng_pct(&r->rng, 30) ? rng_below(&r->rng, ps) : 0);
        out[i].granule = g;
        off += out[i].size;
        if (g > r->maxg)
            r->maxg = g;
    }
    *arena_bytes = off + ps;
    return nr;
}

static void maybe_add_pending(run *r)
{
    if (r->npending == 0)
        return;
    rspec sp = r->pending[--r->npending];
    int rc = sh_add_region(&r->s, sp.base, sp.size, sp.granule);
    if (rc != PH_OK && rc != PH_ENOMEM)
        SH_FAIL(&r->s, "ph_add_region(%p, %zu, %zu) returned %d", (void *)sp.base, sp.size,
                sp.granule, rc);
}

static size_t random_scavenge_bytes(run *r)
{
    sh *s = &r->s;
    size_t g = r->maxg ? r->maxg : s->ps;
    switch (rng_below(&r->rng, 10)) {
    case 0: return 0;
    case 1: case 2: return SIZE_MAX;
    case 3: return 1;
    case 4: case 5: return rng_range(&r->rng, 1, 4 * g);
    default: {
        /* a whole number of some region's granules */
        if (s->m.nregions == 0)
            return g;
        const rs_region *rg = &s->m.regions[rng_below(&r->rng, s->m.nregions)];
        return (rg->granule ? rg->granule : s->ps) * rng_range(&r->rng, 1, 5);
    }
    }
}

static void random_policy(run *r)
{
    static const uint32_t headrooms[] = { 0, 5, 12, 50, 200 };
    static const uint32_t shifts[] = { 0, 1, 2, 4, 8 };
    sh *s = &r->s;
    size_t budget;
    switch (rng_below(&r->rng, 5)) {
    case 0: budget = 0; break;
    case 1: budget = s->ps; break;
    case 2: budget = r->maxg ? r->maxg : s->ps; break;
    case 3: budget = PH_IDLE_BUDGET_BYTES; break;
    default: budget = rng_range(&r->rng, 1, 8 * (r->maxg ? r->maxg : s->ps)); break;
    }
    sh_set_policy(s, budget, headrooms[rng_below(&r->rng, 5)], shifts[rng_below(&r->rng, 5)]);
}

/* A free the heap must refuse: over free pages (retained or released), or
 * into metadata. */
static void bad_free(run *r)
{
    sh *s = &r->s;
    if (s->nr == 0)
        return;
    const ph_region_info *ri = &s->ri[rng_below(&r->rng, s->nr)];
    if (rng_pct(&r->rng, 20)) {
        sh_bad_free(s, (uintptr_t)ri->meta_base, 1); /* metadata: not a usable page */
        return;
    }
    const rs_region *mr = rs_region_of(&s->m, (uintptr_t)ri->base);
    for (int tries = 0; tries < 8; tries++) {
        size_t p = rng_below(&r->rng, ri->npages);
        if (mr->used[p])
            continue;
        size_t n = 1 + rng_below(&r->rng, 3);
        size_t first = p >= n - 1 ? p - rng_below(&r->rng, n) : p;
        if (first + n > ri->npages)
            n = ri->npages - first;
        sh_bad_free(s, (uintptr_t)ri->base + first * s->ps, n);
        return;
    }
}

/* Probes that a released granule faults and an allocated page does not. */
static void probe(run *r)
{
    sh *s = &r->s;
    if (!s->guarded)
        return;
    for (size_t i = 0; i < s->m.nregions; i++) {
        const rs_region *mr = &s->m.regions[i];
        for (size_t g = 0; g < mr->ngran; g++)
            if (mr->rel[g]) {
                uintptr_t a = mr->gbase + g * mr->granule + rng_below(&r->rng, mr->granule);
                if (!probe_faults((void *)a, false))
                    SH_FAIL(s, "released memory at %p is readable", (void *)a);
                break;
            }
    }
    if (s->nlive) {
        sh_live l = s->live[rng_below(&r->rng, s->nlive)];
        uintptr_t a = l.addr + rng_below(&r->rng, l.n * s->ps);
        if (probe_faults((void *)a, true))
            SH_FAIL(s, "allocated memory at %p faults", (void *)a);
    }
}

static size_t largest_region_pages(const sh *s)
{
    size_t m = 1;
    for (size_t i = 0; i < s->nr; i++)
        if (s->ri[i].npages > m)
            m = s->ri[i].npages;
    return m;
}

static void run_heap(const char *test, uint64_t seed, unsigned round, size_t ps, int mult,
                     size_t ops)
{
    static run r; /* big: keep it off the stack */
    rspec specs[MAX_R];
    size_t arena_bytes, nr;
    bool guard;
    sh *s = &r.s;

    memset(&r, 0, sizeof r);
    rng_seed(&r.rng, seed ^ (ps * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)(mult + 7) * 0x51ED27u ^
                         (uint64_t)round << 40);
    nr = lay_out(&r, ps, mult, specs, &arena_bytes);
    guard = true;
    for (size_t i = 0; i < nr; i++)
        if (specs[i].granule % os_page_size() != 0)
            guard = false;
    uintptr_t base = arena_map(&r.a, arena_bytes, r.maxg > MiB ? r.maxg : MiB);
    for (size_t i = 0; i < nr; i++)
        specs[i].base += base;
    sh_init(s, test, seed, ps,
            !guard ? SH_NO_GUARD : rng_pct(&r.rng, 25) ? SH_SCRUB : SH_PROTECT);
    /* random add order; some regions come later */
    for (size_t i = nr; i > 1; i--) {
        size_t j = rng_below(&r.rng, i);
        rspec t = specs[i - 1];
        specs[i - 1] = specs[j];
        specs[j] = t;
    }
    size_t now = 1 + rng_below(&r.rng, nr);
    for (size_t i = nr; i-- > now;)
        r.pending[r.npending++] = specs[i];
    for (size_t i = 0; i < now; i++) {
        int rc = sh_add_region(s, specs[i].base, specs[i].size, specs[i].granule);
        if (rc != PH_OK && rc != PH_ENOMEM)
            SH_FAIL(s, "ph_add_region returned %d", rc);
    }
    if (rng_pct(&r.rng, 50))
        random_policy(&r);

    for (size_t op = 0; op < ops; op++) {
        unsigned k = (unsigned)rng_below(&r.rng, 100);
        s->op = op;
        if (k < 34) {
            size_t n;
            unsigned kind = (unsigned)rng_below(&r.rng, 100);
            if (kind < 55)
                n = 1 + rng_below(&r.rng, 4);
            else if (kind < 80)
                n = 1 + rng_below(&r.rng, 32);
            else if (kind < 92)
                n = 1 + rng_below(&r.rng, largest_region_pages(s));
            else if (kind < 95)
                n = largest_region_pages(s) + 1;
            else
                n = 0;
            sh_alloc(s, n);
        } else if (k < 62) {
            if (s->nlive == 0)
                continue;
            sh_live l = s->live[rng_below(&r.rng, s->nlive)];
            if (rng_pct(&r.rng, 60)) {
                sh_free(s, l.addr, l.n);
            } else {
                size_t first = rng_below(&r.rng, l.n);
                size_t n = 1 + rng_below(&r.rng, l.n - first);
                sh_free(s, l.addr + first * s->ps, n);
            }
        } else if (k < 71) {
            size_t nbytes = random_scavenge_bytes(&r);
            sh_scavenge(s, nbytes);
            if (nbytes == SIZE_MAX) {
                rs_gran g;
                if (rs_next_releasable(&s->m, &g))
                    SH_FAIL(s, "ph_scavenge(SIZE_MAX) left granule %p releasable",
                            (void *)rs_gran_addr(&s->m, g));
            }
        } else if (k < 80) {
            sh_idle(s);
        } else if (k < 82) {
            random_policy(&r);
        } else if (k < 85) {
            bad_free(&r);
            r.n_bad++;
        } else if (k < 87) {
            if (r.npending && rng_pct(&r.rng, 30)) {
                maybe_add_pending(&r);
                r.n_added_late++;
            }
        } else if (k < 93) {
            /* a burst that frees and re-allocates the same memory */
            uintptr_t a = sh_alloc(s, 1 + rng_below(&r.rng, 16));
            if (a != 0)
                sh_free(s, a, s->live[s->nlive - 1].n);
            r.n_burst++;
        } else if (k < 94) {
            while (s->nlive)
                sh_free(s, s->live[s->nlive - 1].addr, s->live[s->nlive - 1].n);
        } else {
            sh_alloc(s, 1 + rng_below(&r.rng, 8));
        }
        if (op % 37 == 0)
            probe(&r);
    }
    while (r.npending)
        maybe_add_pending(&r);
    while (s->nlive)
        sh_free(s, s->live[s->nlive - 1].addr, s->live[s->nlive - 1].n);
    sh_scavenge(s, SIZE_MAX);
    {
        rs_gran g;
        if (rs_next_releasable(&s->m, &g))
            SH_FAIL(s, "empty heap: granule %p still releasable after ph_scavenge(SIZE_MAX)",
                    (void *)rs_gran_addr(&s->m, g));
    }
    char gname[16];
    if (mult == MIXED)
        snprintf(gname, sizeof gname, "mixed");
    else
        snprintf(gname, sizeof gname, "%dx page", mult);
    print_message("[ heap     ] %zu B pages, round %u, granule %s: %zu regions, %s, %zu ops: %zu allocs, "
                  "%zu frees, %zu scavenges, %zu idle, %zu bad frees, %zu bursts; %zu release "
                  "calls (%zu KiB), %zu acquire calls\n",
                  ps, round, gname, s->nr,
                  s->guarded ? (s->guard.mode == PH_GUARD_SCRUB ? "guard+scrub" : "guard")
                             : "no guard",
                  ops, s->n_alloc, s->n_free, s->n_scav, s->n_idle, r.n_bad, r.n_burst,
                  s->n_rel_calls, s->bytes_rel / KiB, s->n_acq_calls);
    sh_destroy(s);
    arena_unmap(&r.a);
}

static void test_page_size(void **state)
{
    size_t ps = *(const size_t *)*state;
    char name[64], heap[96];
    snprintf(name, sizeof name, "scavenge_random/%zu", ps);
    uint64_t seed = test_seed(name, 0x5CA7 + ps);
    for (unsigned round = 0; round < ROUNDS; round++)
        for (size_t m = 0; m < sizeof mults / sizeof mults[0]; m++) {
            if (mults[m] == MIXED)
                snprintf(heap, sizeof heap, "%s round %u granule mixed", name, round);
            else
                snprintf(heap, sizeof heap, "%s round %u granule %dx", name, round, mults[m]);
            run_heap(heap, seed, round, ps, mults[m], scaled(OPS_PER_HEAP));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_page_size, (void *)&page_sizes[0]),
        cmocka_unit_test_prestate(test_page_size, (void *)&page_sizes[1]),
        cmocka_unit_test_prestate(test_page_size, (void *)&page_sizes[2]),
        cmocka_unit_test_prestate(test_page_size, (void *)&page_sizes[3]),
        cmocka_unit_test_prestate(test_page_size, (void *)&page_sizes[4]),
        cmocka_unit_test_prestate(test_page_size, (void *)&page_sizes[5]),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
