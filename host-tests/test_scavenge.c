/* SPDX-License-Identifier: MIT */
/*
 * test_scavenge.c: tables of heap states for the scavenger, in the style of
 * Go's mpagealloc_test.go / mgcscavenge_test.go: regions at fixed offsets
 * of an aligned arena, the pages in use before, then a sequence of
 * ph_scavenge / ph_page_alloc / ph_page_free steps with, for each, the
 * value it must return and the exact hook calls it must make, and the
 * released ranges of the heap afterwards.  Offsets are in bytes from the
 * arena's base, which is aligned to 1 MiB, so where a granule falls is
 * written in the table, not computed.
 *
 * Every step also runs through the harness (scav_harness.h): the reference
 * model ref/refscav.c must agree, and ph_check, every statistic and the
 * whole ph_walk map are compared after it.  Heaps whose granules are
 * multiples of the OS page run with the guard port, so the heap touching
 * released memory, or acquire not restoring it, crashes the test.
 *
 * Further tests, generated rather than tabled:
 *   - blocker sweeps: one page in use, at every page of a region in turn;
 *     scavenge(SIZE_MAX) must release every eligible granule but the one
 *     holding that page, in two joined calls (and the next granule must
 *     fault under the guard port); then allocating the region whole must
 *     acquire them all.  Granules of 1, 4, 128 pages and more, each region
 *     placed twice one page apart, so that granules straddle bitmap-word
 *     (chunk = PH_WORD_BITS pages) boundaries at every offset (checked:
 *     some do) and span several words;
 *   - ph_scavenge(h, 0) and ph_scavenge on a NULL or uninitialised heap;
 *   - ph_scavenge(h, SIZE_MAX) on random heap states leaves nothing
 *     releasable and a second call returns 0;
 *   - a region added after a scavenge counts as retained;
 *   - with no port, or a port whose release hook is NULL, nothing is ever
 *     released: ph_scavenge and ph_idle return 0, no page counts as
 *     released, and acquire is never called.
 */
#include "scav_harness.h"

#include "ph_bits.h" /* PH_WORD_BITS: pages per chunk, as the library sees it */

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define ARENA_ALIGN MiB
#define NONE SIZE_MAX /* "no address" for an allocation that must fail */
#define ANY SIZE_MAX  /* a statistic the step does not state           */

typedef struct span {
    size_t off, len; /* bytes from the arena base */
} span;

typedef struct region_spec {
    size_t off, size, granule; /* size 0 ends the list */
    size_t meta;               /* expected metadata bytes */
} region_spec;

enum { END = 0, SCAV, ALLOC, FREE };

typedef struct step {
    int op;
    size_t arg;        /* SCAV: nbytes; ALLOC: npages; FREE: offset    */
    size_t npages;     /* FREE: pages                                   */
    size_t ret;        /* SCAV: bytes; ALLOC: offset or NONE            */
    span calls[6];     /* release calls (SCAV, in order) or acquire
                          calls (ALLOC, ascending); len 0 ends          */
    size_t released;   /* stats.pages_released after the step, or ANY   */
} step;

typedef struct table_case {
    const char *name;
    size_t page_size;
    region_spec regions[4]; /* in the order they are added */
    span used[6];           /* pages in use before the steps */
    step steps[12];
    span released[6];       /* RELEASED runs of ph_walk after the steps */
} table_case;

#define S(n, r, ...) { SCAV, (n), 0, (r), { __VA_ARGS__ }, ANY }
#define SR(n, r, rel, ...) { SCAV, (n), 0, (r), { __VA_ARGS__ }, (rel) }
#define A(n, r, ...) { ALLOC, (n), 0, (r), { __VA_ARGS__ }, ANY }
#define AR(n, r, rel, ...) { ALLOC, (n), 0, (r), { __VA_ARGS__ }, (rel) }
#define F(off, n) { FREE, (off), (n), 0, { { 0, 0 } }, ANY }
#define FR(off, n, rel) { FREE, (off), (n), 0, { { 0, 0 } }, (rel) }
#define C(off, len) { (off), (len) }

static const table_case cases[] = {
    {
        "one region, 16 KiB granules: highest first, nbytes rounds up to granules, joined calls",
        4096,
        { { 0, 256 * KiB, 16 * KiB, 4 * KiB } },
        { { 0, 0 } },
        {
            /* metadata [0, 4K) lies in granule 0: granules 1..15 are eligible */
            S(16 * KiB, 16 * KiB, C(240 * KiB, 16 * KiB)),
            S(1, 16 * KiB, C(224 * KiB, 16 * KiB)),
            S(20 * KiB, 32 * KiB, C(192 * KiB, 32 * KiB)),
            SR(SIZE_MAX, 176 * KiB, 60, C(16 * KiB, 176 * KiB)),
            SR(SIZE_MAX, 0, 60, { 0, 0 }),
            S(0, 0, { 0, 0 }),
        },
        { C(16 * KiB, 240 * KiB) },
    },
    {
        "pages in use split the joined calls; a granule freed later is found; acquire on alloc",
        4096,
        { { 0, 256 * KiB, 16 * KiB, 4 * KiB } },
        { C(84 * KiB, 4 * KiB), C(148 * KiB, 8 * KiB) }, /* in granules 5 and 9 */
        {
            SR(SIZE_MAX, 208 * KiB, 52,
               C(160 * KiB, 96 * KiB), C(96 * KiB, 48 * KiB), C(16 * KiB, 64 * KiB)),
            FR(148 * KiB, 2, 52), /* free never releases */
            SR(SIZE_MAX, 16 * KiB, 56, C(144 * KiB, 16 * KiB)),
            AR(1, 4 * KiB, 56, { 0, 0 }),            /* retained page of granule 0 */
            AR(3, 8 * KiB, 52, C(16 * KiB, 16 * KiB)), /* 8K, 12K and 16K: granule 1 */
        },
        { C(32 * KiB, 48 * KiB), C(96 * KiB, 160 * KiB) },
    },
    {
        "three regions added out of order: highest address first across regions, granule 0 never",
        4096,
        {
            { 1024 * KiB, 256 * KiB, 64 * KiB, 4 * KiB }, /* B: granules 1088K, 1152K, 1216K */
            { 0, 128 * KiB, 16 * KiB, 4 * KiB },          /* A: granules 16K .. 112K         */
            { 2048 * KiB, 128 * KiB, 0, 4 * KiB },        /* C: never released               */
        },
        { { 0, 0 } },
        {
            S(1, 64 * KiB, C(1216 * KiB, 64 * KiB)),
            S(100 * KiB, 128 * KiB, C(1088 * KiB, 128 * KiB)),
            S(17 * KiB, 32 * KiB, C(96 * KiB, 32 * KiB)),
            S(SIZE_MAX, 80 * KiB, C(16 * KiB, 80 * KiB)),
            SR(SIZE_MAX, 0, 76, { 0, 0 }),
        },
        { C(16 * KiB, 112 * KiB), C(1088 * KiB, 192 * KiB) },
    },
    {
        "unaligned region: the metadata granule and the partial granule at the end stay",
        4096,
        /* raw [12K+100, 164K+50): pages [16K, 164K), metadata [16K, 20K) */
        { { 12 * KiB + 100, 152 * KiB - 50, 16 * KiB, 4 * KiB } },
        { { 0, 0 } },
        {
            SR(SIZE_MAX, 128 * KiB, 32, C(32 * KiB, 128 * KiB)),
            AR(3, 20 * KiB, 32, { 0, 0 }),             /* 20K, 24K, 28K: retained pages */
            AR(1, 32 * KiB, 28, C(32 * KiB, 16 * KiB)), /* first fit: the released 32K  */
            AR(1, 36 * KiB, 28, { 0, 0 }),             /* now retained                  */
        },
        { C(48 * KiB, 112 * KiB) },
    },
    {
        "granule = page",
        4096,
        { { 0, 64 * KiB, 4 * KiB, 4 * KiB } },
        { C(20 * KiB, 4 * KiB) },
        {
            S(8 * KiB, 8 * KiB, C(56 * KiB, 8 * KiB)),
            SR(SIZE_MAX, 48 * KiB, 14, C(24 * KiB, 32 * KiB), C(4 * KiB, 16 * KiB)),
            AR(2, 4 * KiB, 12, C(4 * KiB, 4 * KiB), C(8 * KiB, 4 * KiB)),
        },
        { C(12 * KiB, 8 * KiB), C(24 * KiB, 40 * KiB) },
    },
    {
        "granules larger than a region: only whole granules inside the usable pages",
        4096,
        {
            { 0, 128 * KiB, 256 * KiB, 4 * KiB },          /* no whole granule            */
            { 512 * KiB, 512 * KiB, 256 * KiB, 4 * KiB },  /* 512K holds metadata; 768K ok */
        },
        { { 0, 0 } },
        {
            S(1, 256 * KiB, C(768 * KiB, 256 * KiB)),
            SR(SIZE_MAX, 0, 64, { 0, 0 }),
            A(32, 516 * KiB, { 0, 0 }),  /* the first region has 31 pages */
            AR(1, 4 * KiB, 64, { 0, 0 }),
        },
        { C(768 * KiB, 256 * KiB) },
    },
    {
        "downward cursor: memory freed above or below where a pass stopped is found",
        4096,
        { { 0, 256 * KiB, 16 * KiB, 4 * KiB } },
        { C(4 * KiB, 252 * KiB) }, /* everything in use */
        {
            S(SIZE_MAX, 0, { 0, 0 }),
            F(240 * KiB, 4),
            S(1, 16 * KiB, C(240 * KiB, 16 * KiB)),
            F(64 * KiB, 4),
            S(SIZE_MAX, 16 * KiB, C(64 * KiB, 16 * KiB)),
            F(16 * KiB, 4),
            F(32 * KiB, 3), /* granule 2 keeps a page in use */
            S(SIZE_MAX, 16 * KiB, C(16 * KiB, 16 * KiB)),
            F(44 * KiB, 1),
            SR(SIZE_MAX, 16 * KiB, 16, C(32 * KiB, 16 * KiB)),
        },
        { C(16 * KiB, 32 * KiB), C(64 * KiB, 16 * KiB), C(240 * KiB, 16 * KiB) },
    },
    {
        "acquire: a run over several released granules acquires each once, whole",
        4096,
        { { 0, 256 * KiB, 16 * KiB, 4 * KiB } },
        { { 0, 0 } },
        {
            SR(SIZE_MAX, 240 * KiB, 60, C(16 * KiB, 240 * KiB)),
            AR(1, 4 * KiB, 60, { 0, 0 }),
            AR(2, 8 * KiB, 60, { 0, 0 }),
            AR(1, 16 * KiB, 56, C(16 * KiB, 16 * KiB)), /* 3 other pages retained again */
            AR(2, 20 * KiB, 56, { 0, 0 }),
            AR(10, 28 * KiB, 44, C(32 * KiB, 16 * KiB), C(48 * KiB, 16 * KiB),
               C(64 * KiB, 16 * KiB)),
            FR(16 * KiB, 1, 44), /* free never releases */
            AR(1, 16 * KiB, 44, { 0, 0 }),
        },
        { C(80 * KiB, 176 * KiB) },
    },
    {
        "granule of 128 pages (several bitmap words)",
        4096,
        { { 0, 2 * MiB, 512 * KiB, 4 * KiB } },
        { C(1028 * KiB, 4 * KiB) }, /* blocks granule [1M, 1.5M) */
        {
            SR(SIZE_MAX, 1024 * KiB, 256, C(1536 * KiB, 512 * KiB), C(512 * KiB, 512 * KiB)),
            AR(127, 4 * KiB, 256, { 0, 0 }),
            AR(2, 512 * KiB, 128, C(512 * KiB, 512 * KiB)),
        },
        { C(1536 * KiB, 512 * KiB) },
    },
    {
        "touching regions: the granule across their boundary is never released",
        4096,
        {
            { 0, 72 * KiB, 16 * KiB, 4 * KiB },         /* A: 16K, 32K, 48K; 64K partial */
            { 72 * KiB, 120 * KiB, 16 * KiB, 4 * KiB }, /* B: metadata at 72K; 80K..176K */
        },
        { { 0, 0 } },
        {
            SR(SIZE_MAX, 160 * KiB, 40, C(80 * KiB, 112 * KiB), C(16 * KiB, 48 * KiB)),
            /* A's largest run is 17 pages: 18 go to B, [76K, 148K) */
            AR(18, 76 * KiB, 20, C(80 * KiB, 16 * KiB), C(96 * KiB, 16 * KiB),
               C(112 * KiB, 16 * KiB), C(128 * KiB, 16 * KiB), C(144 * KiB, 16 * KiB)),
        },
        { C(16 * KiB, 48 * KiB), C(160 * KiB, 32 * KiB) },
    },
    {
        "256-byte pages, 32 KiB sections (128 pages): the section with the metadata stays",
        256,
        { { 0, 256 * KiB, 32 * KiB, ANY } },
        { C(100 * KiB, 256) }, /* blocks section [96K, 128K) */
        {
            SR(SIZE_MAX, 192 * KiB, 768,
               C(128 * KiB, 128 * KiB), C(32 * KiB, 64 * KiB)),
            S(SIZE_MAX, 0, { 0, 0 }),
        },
        { C(32 * KiB, 64 * KiB), C(128 * KiB, 128 * KiB) },
    },
};

/* ---- running a table -------------------------------------------------------------- */

static void expect_calls(sh *s, uintptr_t base, const span *want, int kind, const char *what)
{
    size_t n = 0;
    while (n < 6 && want[n].len != 0)
        n++;
    for (size_t i = 0; i < s->rec.n || i < n; i++) {
        if (i >= s->rec.n || i >= n || s->rec.calls[i].kind != kind ||
            s->rec.calls[i].base != base + want[i].off || s->rec.calls[i].len != want[i].len) {
            sh_print_calls("heap", s->rec.calls, s->rec.n);
            for (size_t j = 0; j < n; j++)
                print_message("    want %zu: %s(+%zuK, %zuK)\n", j,
                              kind == RS_RELEASE ? "release" : "acquire", want[j].off / KiB,
                              want[j].len / KiB);
            SH_FAIL(s, "%s: hook call %zu differs from the table", what, i);
        }
    }
}

/* The RELEASED runs of ph_walk, as arena offsets, must be `want`. */
static void expect_released(sh *s, uintptr_t base, const span *want)
{
    walk_log w;
    size_t n = 0, k = 0;
    memset(&w, 0, sizeof w);
    walk_take(&s->h, &w);
    while (n < 6 && want[n].len != 0)
        n++;
    for (size_t i = 0; i < w.n; i++) {
        if (w.runs[i].state != PH_PAGES_RELEASED)
            continue;
        size_t off = (size_t)((uintptr_t)w.runs[i].base - base), len = w.runs[i].npages * s->ps;
        if (k >= n || want[k].off != off || want[k].len != len)
            SH_FAIL(s, "released run %zu is (+%zu, %zu bytes), the table says (+%zu, %zu)", k, off,
                    len, k < n ? want[k].off : 0, k < n ? want[k].len : 0);
        k++;
    }
    if (k != n)
        SH_FAIL(s, "%zu released runs, the table says %zu", k, n);
    walk_free(&w);
}

/* Makes exactly the pages of `used` (arena offsets) in use: every region is
 * allocated whole, then the rest is freed. */
static void set_used(sh *s, uintptr_t base, const span *used)
{
    for (size_t i = 0; i < s->nr; i++)
        if (sh_alloc(s, s->ri[i].npages) != (uintptr_t)s->ri[i].base)
            SH_FAIL(s, "set-up: region %zu could not be allocated whole", i);
    for (size_t i = 0; i < s->nr; i++) {
        uintptr_t p = (uintptr_t)s->ri[i].base, end = p + s->ri[i].npages * s->ps;
        while (p < end) {
            bool in_use = false;
            for (size_t u = 0; u < 6 && used[u].len != 0; u++)
                if (p >= base + used[u].off && p < base + used[u].off + used[u].len)
                    in_use = true;
            uintptr_t q = p;
            while (q < end) {
                bool u2 = false;
                for (size_t u = 0; u < 6 && used[u].len != 0; u++)
                    if (q >= base + used[u].off && q < base + used[u].off + used[u].len)
                        u2 = true;
                if (u2 != in_use)
                    break;
                q += s->ps;
            }
            if (!in_use)
                sh_free(s, p, (size_t)(q - p) / s->ps);
            p = q;
        }
    }
}

static bool all_granules_os_pages(const table_case *t, size_t os_page)
{
    for (size_t i = 0; i < 4 && t->regions[i].size != 0; i++)
        if (t->regions[i].granule != 0 && t->regions[i].granule % os_page != 0)
            return false;
    return true;
}

static void test_tables(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const table_case *t = &cases[c];
        arena a;
        sh s;
        uintptr_t base = arena_map(&a, 4 * MiB, ARENA_ALIGN);
        bool guard = all_granules_os_pages(t, os_page_size());

        sh_init(&s, t->name, c, t->page_size, guard ? SH_SCRUB : SH_NO_GUARD);
        print_message("[ table    ] %s%s\n", t->name, guard ? " (guard port)" : "");
        for (size_t i = 0; i < 4 && t->regions[i].size != 0; i++) {
            const region_spec *r = &t->regions[i];
            int rc = sh_add_region(&s, base + r->off, r->size, r->granule);
            if (rc != PH_OK)
                SH_FAIL(&s, "region %zu: ph_add_region returned %d", i, rc);
        }
        for (size_t i = 0; i < 4 && t->regions[i].size != 0; i++) {
            const region_spec *r = &t->regions[i];
            for (size_t k = 0; k < s.nr; k++)
                if ((uintptr_t)s.ri[k].raw_base == base + r->off && r->meta != ANY &&
                    s.ri[k].meta_bytes != r->meta)
                    SH_FAIL(&s, "region %zu: %zu metadata bytes, the table assumes %zu", i,
                            s.ri[k].meta_bytes, r->meta);
        }
        set_used(&s, base, t->used);
        for (size_t i = 0; i < 12 && t->steps[i].op != END; i++) {
            const step *st = &t->steps[i];
            ph_stats stats;
            s.op = i;
            switch (st->op) {
            case SCAV: {
                size_t got = sh_scavenge(&s, st->arg);
                if (got != st->ret)
                    SH_FAIL(&s, "ph_scavenge(%zu) returned %zu, the table says %zu", st->arg, got,
                            st->ret);
                expect_calls(&s, base, st->calls, RS_RELEASE, "ph_scavenge");
                break;
            }
            case ALLOC: {
                uintptr_t got = sh_alloc(&s, st->arg);
                uintptr_t want = st->ret == NONE ? 0 : base + st->ret;
                if (got != want)
                    SH_FAIL(&s, "ph_page_alloc(%zu) returned %p, the table says %p", st->arg,
                            (void *)got, (void *)want);
                expect_calls(&s, base, st->calls, RS_ACQUIRE, "ph_page_alloc");
                break;
            }
            case FREE:
                sh_free(&s, base + st->arg, st->npages);
                break;
            default:
                SH_FAIL(&s, "bad table step");
            }
            ph_get_stats(&s.h, &stats);
            if (st->released != ANY && stats.pages_released != st->released)
                SH_FAIL(&s, "pages_released is %zu, the table says %zu", stats.pages_released,
                        st->released);
        }
        expect_released(&s, base, t->released);
        sh_destroy(&s);
        arena_unmap(&a);
    }
}

/* ---- blocker sweeps: granules across chunk boundaries ------------------------------- */

typedef struct sweep {
    size_t page_size, granule, granules; /* region: `granules` granules, granule aligned */
} sweep;

static const sweep sweeps[] = {
    { 256, 32 * KiB, 8 },  /* 128 pages: 2 (64-bit) or 4 (32-bit) bitmap words */
    { 256, 1 * KiB, 80 },  /* 4 pages: some straddle a word boundary           */
    { 64, 64, 300 },       /* granule = page                                   */
    { 64, 8 * KiB, 6 },    /* 128 pages of 64 B                                */
    { 1024, 4 * KiB, 48 }, /* 4 pages, guard port                              */
    { 4096, 4 * KiB, 150 },
    { 4096, 512 * KiB, 4 },
    { 16384, 64 * KiB, 24 },
};

/* For every page p of the region: only p in use; scavenge(SIZE_MAX) must
 * release every eligible granule except p's, above it in one call and below
 * it in another; then p is freed and the region allocated whole again,
 * which must acquire every released granule. */
static void run_sweep(const sweep *w, size_t off_pages, size_t *straddling)
{
    arena a;
    sh s;
    size_t off = off_pages * w->page_size;
    size_t size = w->granule * w->granules - off;
    uintptr_t base = arena_map(&a, w->granule * w->granules, w->granule > MiB ? w->granule : MiB);
    bool guard = w->granule % os_page_size() == 0;
    char name[96];

    snprintf(name, sizeof name, "sweep %zu B pages, %zu B granules, region at +%zu pages",
             w->page_size, w->granule, off_pages);
    sh_init(&s, name, 1, w->page_size, guard ? SH_PROTECT : SH_NO_GUARD);
    if (sh_add_region(&s, base + off, size, w->granule) != PH_OK)
        SH_FAIL(&s, "ph_add_region failed");
    uintptr_t lo = (uintptr_t)s.ri[0].base, hi = lo + s.ri[0].npages * s.ps;
    /* Eligible granules: [glo, ghi) in granule numbers from the arena base
     * (the region's raw memory ends on a granule boundary). */
    size_t glo = (size_t)((lo - base + w->granule - 1) / w->granule);
    size_t ghi = (size_t)((hi - base) / w->granule);
    size_t n = s.ri[0].npages;
    size_t gpages = w->granule / w->page_size, multi = 0;
    if (ghi <= glo + 1 || ghi > w->granules)
        SH_FAIL(&s, "layout: eligible granules %zu..%zu of %zu", glo, ghi, w->granules);
    /* How many eligible granules lie across a bitmap-word (chunk) boundary
     * of the region's page numbering: the point of the sweep. */
    for (size_t g = glo; g < ghi; g++) {
        size_t first = (size_t)((base + g * w->granule - lo) / s.ps);
        if (first / PH_WORD_BITS != (first + gpages - 1) / PH_WORD_BITS)
            multi++;
    }
    *straddling += multi;
    print_message("[ sweep    ] %s: %zu metadata pages, granules %zu..%zu, %zu across a chunk "
                  "boundary%s\n", name, s.ri[0].meta_bytes / s.ps, glo, ghi - 1, multi,
                  guard ? " (guard port)" : "");

    for (size_t p = 0; p < n; p++) {
        uintptr_t pa = lo + p * s.ps;
        size_t k = (size_t)((pa - base) / w->granule); /* p's granule */
        bool in_elig = k >= glo && k < ghi;
        size_t expect = (ghi - glo) - (in_elig ? 1 : 0);
        span want[2];
        size_t nwant = 0;
        s.op = p;
        if (sh_alloc(&s, n) != lo)
            SH_FAIL(&s, "region not allocatable whole");
        if (p > 0)
            sh_free(&s, lo, p);
        if (p + 1 < n)
            sh_free(&s, pa + s.ps, n - p - 1);
        size_t got = sh_scavenge(&s, SIZE_MAX);
        if (got != expect * w->granule)
            SH_FAIL(&s, "page %zu in use: released %zu bytes, expected %zu granules", p, got,
                    expect);
        /* Above p's granule in one call, below it in another; all in one
         * call when p lies outside the eligible granules. */
        if (!in_elig) {
            want[nwant++] = (span){ glo * w->granule, (ghi - glo) * w->granule };
        } else {
            if (k + 1 < ghi)
                want[nwant++] = (span){ (k + 1) * w->granule, (ghi - k - 1) * w->granule };
            if (k > glo)
                want[nwant++] = (span){ glo * w->granule, (k - glo) * w->granule };
        }
        if (s.rec.n != nwant)
            SH_FAIL(&s, "page %zu: %zu release calls, expected %zu", p, s.rec.n, nwant);
        for (size_t c = 0; c < nwant; c++)
            if (s.rec.calls[c].base != base + want[c].off || s.rec.calls[c].len != want[c].len)
                SH_FAIL(&s, "page %zu: release call %zu is (%p, %zu), expected (+%zu, %zu)", p, c,
                        (void *)s.rec.calls[c].base, s.rec.calls[c].len, want[c].off,
                        want[c].len);
        if (guard && in_elig && k + 1 < ghi &&
            !probe_faults((void *)(base + (k + 1) * w->granule), false))
            SH_FAIL(&s, "page %zu: memory of a released granule is still readable", p);
        sh_free(&s, pa, 1);
    }
    sh_alloc(&s, n); /* acquires everything released */
    sh_destroy(&s);
    arena_unmap(&a);
}

static void test_sweeps(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sweeps / sizeof sweeps[0]; i++) {
        const sweep *w = &sweeps[i];
        size_t straddling = 0;
        /* Two placements one page apart: whatever the metadata size, granules
         * of 2..W-1 pages then start off a chunk boundary in at least one. */
        run_sweep(w, 0, &straddling);
        run_sweep(w, 1, &straddling);
        if (w->granule > w->page_size && straddling == 0)
            fail_msg("sweep %zu B pages, %zu B granules: no granule crossed a chunk boundary",
                     w->page_size, w->granule);
    }
}

/* ---- ph_scavenge(h, 0), bad heaps ---------------------------------------------------- */

static void test_scavenge_zero_and_bad_heaps(void **state)
{
    arena a;
    sh s;
    ph_heap garbage;
    uintptr_t base = arena_map(&a, MiB, MiB);
    (void)state;

    assert_int_equal(ph_scavenge(NULL, SIZE_MAX), 0);
    assert_int_equal(ph_idle(NULL), 0);
    memset(&garbage, 0x5A, sizeof garbage);
    assert_int_equal(ph_scavenge(&garbage, SIZE_MAX), 0);
    assert_int_equal(ph_idle(&garbage), 0);
    assert_int_equal(ph_init(&garbage, 100, NULL), PH_EINVAL); /* refused: unusable */
    assert_int_equal(ph_scavenge(&garbage, SIZE_MAX), 0);

    sh_init(&s, "scavenge(h, 0)", 1, 4096, SH_PROTECT);
    assert_int_equal(sh_scavenge(&s, 0), 0); /* no region */
    assert_int_equal(sh_scavenge(&s, SIZE_MAX), 0);
    sh_add_region(&s, base, MiB, 64 * KiB);
    assert_int_equal(sh_scavenge(&s, 0), 0); /* plenty releasable: still nothing */
    assert_int_equal(s.rec.n, 0);
    assert_int_equal(sh_scavenge(&s, 1), 64 * KiB);
    assert_int_equal(sh_scavenge(&s, 0), 0);
    assert_int_equal(s.rec.n, 0);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* ---- SIZE_MAX releases everything releasable -------------------------------------------- */

static void test_size_max_releases_all(void **state)
{
    static const size_t page_sizes[] = { 64, 256, 4096, 65536 };
    uint64_t seed = test_seed("size_max_releases_all", 0x5CA7E11);
    rng_t rng;
    (void)state;
    rng_seed(&rng, seed);
    for (size_t pi = 0; pi < 4; pi++) {
        size_t ps = page_sizes[pi];
        for (size_t round = 0; round < 4; round++) {
            arena a;
            sh s;
            size_t npages = ps >= 65536 ? 256 : 1024;
            size_t g = ps << rng_range(&rng, 0, 4);
            bool guard = g % os_page_size() == 0;
            uintptr_t base = arena_map(&a, npages * ps * 2, 16 * MiB);
            sh_init(&s, "size_max_releases_all", seed, ps, guard ? SH_PROTECT : SH_NO_GUARD);
            sh_add_region(&s, base + rng_below(&rng, 4) * ps, npages * ps, g);
            sh_add_region(&s, base + npages * ps + 7 * ps + 3, npages * ps - 8 * ps, g * 2);
            for (size_t i = 0; i < 200; i++) {
                s.op = i;
                if (s.nlive == 0 || rng_pct(&rng, 55)) {
                    sh_alloc(&s, 1 + rng_below(&rng, rng_pct(&rng, 80) ? 8 : 200));
                } else {
                    sh_live l = s.live[rng_below(&rng, s.nlive)];
                    sh_free(&s, l.addr, l.n);
                }
                if (rng_pct(&rng, 10)) {
                    rs_gran next;
                    sh_scavenge(&s, SIZE_MAX);
                    assert_false(rs_next_releasable(&s.m, &next));
                    assert_int_equal(sh_scavenge(&s, SIZE_MAX), 0);
                    assert_int_equal(s.rec.n, 0);
                }
            }
            sh_destroy(&s);
            arena_unmap(&a);
        }
    }
}

/* ---- new regions are retained; granule 0 is never released ------------------------------ */

static void test_new_region_retained_granule_zero_never(void **state)
{
    arena a;
    sh s;
    uintptr_t base = arena_map(&a, 8 * MiB, MiB);
    ph_stats st;
    (void)state;

    sh_init(&s, "new regions / granule 0", 1, 4096, SH_SCRUB);
    sh_add_region(&s, base, MiB, 0);
    assert_int_equal(sh_scavenge(&s, SIZE_MAX), 0);
    sh_set_policy(&s, 0, 0, 0); /* idle: release all the excess, no headroom */
    assert_int_equal(sh_idle(&s), 0);
    sh_add_region(&s, base + 2 * MiB, MiB, 64 * KiB);
    ph_get_stats(&s.h, &st);
    assert_int_equal(st.pages_released, 0); /* a new region is retained */
    assert_int_equal(sh_scavenge(&s, SIZE_MAX), 15 * 64 * KiB);
    sh_add_region(&s, base + 4 * MiB, MiB, 4096); /* added after a scavenge: retained */
    ph_get_stats(&s.h, &st);
    assert_int_equal(st.pages_released, 15 * 16);
    assert_int_equal(sh_idle(&s), 255 * 4096); /* goal 0 pages in use: all of it */
    assert_int_equal(sh_scavenge(&s, SIZE_MAX), 0);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* ---- no release hook: nothing is ever released ------------------------------------------ */

static unsigned no_release_acquires, no_release_locks;

static void no_release_acquire(void *ctx, void *base, size_t len)
{
    (void)ctx, (void)base, (void)len;
    no_release_acquires++;
}

static void no_release_lock(void *ctx)
{
    (void)ctx;
    no_release_locks++;
}

static void no_release_unlock(void *ctx)
{
    (void)ctx;
}

static void count_released(void *ctx, const void *base, size_t npages, int state)
{
    (void)base;
    if (state == PH_PAGES_RELEASED)
        *(size_t *)ctx += npages;
}

static void test_no_release_hook_releases_nothing(void **state)
{
    /* NULL port; a port with every hook but release (acquire alone must not
     * make memory count as released). */
    static const ph_port no_release = {
        .ctx = NULL, .release = NULL, .acquire = no_release_acquire,
        .lock = no_release_lock, .unlock = no_release_unlock, .fault = NULL,
    };
    const ph_port *ports[] = { NULL, &no_release };
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        ph_heap h;
        ph_stats st;
        ph_idle_policy all = { 0, 0, 0 }; /* no budget, no headroom: release the excess */
        size_t walked = 0;
        void *mem = aligned_alloc(MiB, MiB);
        void *p, *q;
        assert_non_null(mem);
        no_release_acquires = 0;
        assert_int_equal(ph_init(&h, 4096, ports[k]), PH_OK);
        assert_int_equal(ph_add_region(&h, mem, MiB, 64 * KiB), PH_OK);
        p = ph_page_alloc(&h, 100);
        q = ph_page_alloc(&h, 20);
        assert_non_null(p);
        assert_non_null(q);
        ph_page_free(&h, p, 100);
        assert_int_equal(ph_scavenge(&h, SIZE_MAX), 0);
        ph_set_idle_policy(&h, &all);
        assert_int_equal(ph_idle(&h), 0);
        ph_page_free(&h, q, 20);
        assert_int_equal(ph_idle(&h), 0);
        assert_int_equal(ph_scavenge(&h, SIZE_MAX), 0);
        ph_get_stats(&h, &st);
        assert_int_equal(st.pages_free, st.pages_total);
        assert_int_equal(st.pages_released, 0);
        assert_int_equal(st.granules_released, 0);
        assert_int_equal(st.release_calls, 0);
        assert_int_equal(st.bytes_released, 0);
        ph_walk(&h, count_released, &walked);
        assert_int_equal(walked, 0);
        /* The whole region again: nothing was released, so nothing is acquired. */
        p = ph_page_alloc(&h, st.pages_total);
        assert_non_null(p);
        ph_get_stats(&h, &st);
        assert_int_equal(st.acquire_calls, 0);
        assert_int_equal(no_release_acquires, 0);
        assert_int_equal(ph_check(&h), PH_OK);
        free(mem);
    }
    assert_true(no_release_locks > 0); /* the port was really in use */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_sweeps),
        cmocka_unit_test(test_scavenge_zero_and_bad_heaps),
        cmocka_unit_test(test_size_max_releases_all),
        cmocka_unit_test(test_new_region_retained_granule_zero_never),
        cmocka_unit_test(test_no_release_hook_releases_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
