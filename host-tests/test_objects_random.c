/* SPDX-License-Identifier: MIT */
/*
 * test_objects_random.c: randomised runs of the object layer.
 *
 * For page sizes 64 B, 256 B, 4 KiB and 64 KiB, heaps of 1..3 regions
 * (mmap'd, placed and sized by the PRNG), a mix of ph_malloc (mostly small
 * sizes, some up to 4 * PH_SMALL_MAX, some 0), ph_calloc, ph_realloc,
 * ph_aligned_alloc and ph_free.  After every operation:
 *   - a new object is aligned (PH_ALIGN, and the alignment asked for), its
 *     usable size is what the fit layer promises (its chunk less the
 *     header, up to PH_FIT_MIN - PH_ALIGN more; whole pages for a page
 *     run; a chunk for an alignment below the page size), a small request
 *     is a page run only when no run for an arena was free, it lies inside
 *     a region's usable pages and overlaps no live object (live objects
 *     are kept sorted by address);
 *   - every live object is filled with a pattern derived from its id; the
 *     pattern is verified before every free and realloc, and for every live
 *     object every few thousand operations; calloc memory reads zero;
 *     realloc keeps the contents up to the smaller size, stays in place
 *     (with the usable size of the split rule and no statistic changed)
 *     when the new chunk fits the old one or a page run shrinks, grows in
 *     place only into free memory, moves between chunks and page runs;
 *   - the statistics add up: pages in use = arena pages + large pages,
 *     large_objects / large_pages are what the live objects predict, and
 *     the live chunks fit in the arenas' pages;
 *   - a failed allocation (NULL) changed no statistic but the empty-arena
 *     cache's (given back, its pages free);
 *   - ph_check every operation at first, then every few operations.
 * Bad pointers now and then (interior pointers of live objects, a second
 * free right after a free) raise exactly one fault and change nothing else.
 * Out-of-memory phases allocate (descending sizes) until NULL, then free
 * everything: every page must be free again (no page leaked), and the run
 * goes on.
 *
 * Scavenger runs: regions with granules (4 KiB .. 256 KiB) under the
 * mprotect guard port in scrub mode (port/host/ph_port_guard.h): released
 * memory is PROT_NONE and was overwritten with 0xA5, so a heap that touches
 * it, or hands it out without acquiring it, crashes the test, and calloc
 * must return zeros even right after its pages were released and acquired
 * again.  ph_scavenge(h, SIZE_MAX) (and smaller amounts) at random points.
 *
 * PH_TEST_SEED replays a run (the seed of each run is printed, a failure
 * names the run and the operation); PH_TEST_SCALE scales the operation
 * counts (about 300,000 at 1).
 */
#include "obj_util.h"

#include <sys/mman.h>
#include <unistd.h>

#include "ph_port_guard.h"

#define MAXR 3

typedef struct robj {
    char *p;
    size_t req;    /* bytes asked for                 */
    size_t usable; /* ph_usable_size when it was made */
    uint64_t id;
    bool large;    /* a page run (predicted)          */
} robj;

typedef struct rheap {
    ph_heap h;
    size_t ps;
    bool scav;
    tport t;         /* plain runs: records faults and the lock        */
    ph_guard_port g; /* scavenger runs: guard port, scrub mode         */
    void *raw;
    size_t rawlen;
    size_t nr;
    ph_region_info ri[MAXR];
    size_t granule[MAXR];
    size_t heap_bytes;
    /* live objects */
    robj *o;
    size_t n, cap;
    oset set;
    size_t live_bytes, target_bytes;
    size_t large_objects, large_pages; /* predicted from the live objects */
    size_t chunk_bytes;                /* the live chunks' bytes          */
    uint64_t next_id;
    rng_t r;
    /* where we are, for messages */
    char tag[96];
    uint64_t seed, set_seed;
    size_t op;
    bool in_oom;
    /* counts */
    size_t n_malloc, n_calloc, n_realloc, n_aligned, n_free, n_null, n_bad, n_dbl, n_oom,
        n_check, n_verify, n_scav, n_calloc_acq;
    size_t bytes_scav;
} rheap;

#define RFAIL(R, ...)                                                                      \
    do {                                                                                   \
        print_error("[%s, run seed %#llx (PH_TEST_SEED=%#llx), op %zu%s] ", (R)->tag,      \
                    (unsigned long long)(R)->seed, (unsigned long long)(R)->set_seed,      \
                    (R)->op, (R)->in_oom ? ", out-of-memory phase" : "");                  \
        fail_msg(__VA_ARGS__);                                                             \
    } while (0)

static size_t rh_faults(const rheap *R)
{
    return R->scav ? R->g.faults : R->t.faults;
}

static int rh_code(const rheap *R)
{
    return R->scav ? R->g.last_fault_code : R->t.last_code;
}

static const void *rh_addr(const rheap *R)
{
    return R->scav ? R->g.last_fault_addr : R->t.last_addr;
}

static void rh_locks_ok(rheap *R)
{
    if (R->scav) {
        if (R->g.held || R->g.nested || R->g.stray_unlocks || R->g.errors)
            RFAIL(R, "guard port: held %d, nested %zu, stray unlocks %zu, errors %zu (%s)",
                  (int)R->g.held, R->g.nested, R->g.stray_unlocks, R->g.errors,
                  R->g.first_error);
    } else {
        lock_ok(&R->t, R->tag);
        if (R->t.faults_unlocked != R->t.faults)
            RFAIL(R, "the fault hook ran with the lock held (%zu of %zu calls outside it)",
                  R->t.faults_unlocked, R->t.faults);
        if (R->t.releases || R->t.acquires)
            RFAIL(R, "release/acquire without granules");
    }
}

/* ---- set-up ------------------------------------------------------------------------ */

static void rh_open(rheap *R, size_t ps, bool scav, uint64_t seed, uint64_t set_seed)
{
    const size_t os_page = (size_t)sysconf(_SC_PAGESIZE);
    memset(R, 0, sizeof *R);
    R->set_seed = set_seed;
    R->ps = ps;
    R->scav = scav;
    R->seed = seed;
    rng_seed(&R->r, seed);
    R->nr = (size_t)rng_range(&R->r, 1, MAXR);
    size_t total = ps <= 64 ? (2u << 20) : ps <= 256 ? (4u << 20) : ps <= 4096 ? (8u << 20)
                                                                            : (16u << 20);
    const size_t align = 1u << 20; /* every granule boundary lands the same way each run */
    R->rawlen = 2 * total + (MAXR + 2) * align;
    R->raw = mmap(NULL, R->rawlen, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (R->raw == MAP_FAILED) {
        perror("mmap");
        abort();
    }
    uintptr_t at = round_up_ptr((uintptr_t)R->raw, align);
    uintptr_t base[MAXR];
    size_t size[MAXR];
    for (size_t i = 0; i < R->nr; i++) {
        size_t share = total / R->nr;
        size[i] = share - share / 4 + (size_t)rng_below(&R->r, share / 2);
        at += (uintptr_t)rng_below(&R->r, 3 * ps + 4096); /* a gap, any byte offset */
        base[i] = at;
        at += size[i];
        R->heap_bytes += size[i];
        if (scav) {
            /* the guard port needs whole OS pages */
            size_t g = (ps > os_page ? ps : os_page) << rng_below(&R->r, 3);
            while (g > size[i] / 8)
                g /= 2;
            R->granule[i] = g < ps || g < os_page ? 0 : g;
        }
    }
    if (at > (uintptr_t)R->raw + R->rawlen)
        abort();
    if (scav)
        ph_guard_port_init(&R->g, PH_GUARD_SCRUB);
    else
        tport_init(&R->t, true);
    assert_int_equal(ph_init(&R->h, ps, scav ? &R->g.port : &R->t.port), PH_OK);
    /* add them in a random order */
    size_t order[MAXR] = { 0, 1, 2 };
    for (size_t i = R->nr; i > 1; i--) {
        size_t j = (size_t)rng_below(&R->r, i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t k = 0; k < R->nr; k++) {
        size_t i = order[k];
        if (ph_add_region(&R->h, (void *)base[i], size[i], R->granule[i]) != PH_OK)
            fail_msg("ph_add_region(%p, %zu, %zu) failed", (void *)base[i], size[i],
                     R->granule[i]);
        if (scav && ph_guard_port_add_area(&R->g, (void *)base[i], size[i], R->granule[i]) != 0)
            fail_msg("guard port refused %p + %zu, granule %zu", (void *)base[i], size[i],
                     R->granule[i]);
    }
    for (size_t i = 0; i < R->nr; i++)
        assert_int_equal(ph_get_region(&R->h, i, &R->ri[i]), PH_OK);
    snprintf(R->tag, sizeof R->tag, "%zu B pages, %zu region%s%s", ps, R->nr,
             R->nr > 1 ? "s" : "", scav ? ", scavenger + guard port" : "");
    R->target_bytes = R->heap_bytes / 3;
}

static void rh_close(rheap *R)
{
    free(R->o);
    oset_free(&R->set);
    if (R->scav)
        ph_guard_port_destroy(&R->g);
    munmap(R->raw, R->rawlen);
    R->raw = NULL;
}

/* ---- checks --------------------------------------------------------------------------- */

static void rh_stats(rheap *R, ph_stats *s)
{
    ph_get_stats(&R->h, s);
}

/* Statistics against the live objects. */
static void rh_accounting(rheap *R)
{
    ph_stats s;
    rh_stats(R, &s);
    if (s.pages_total - s.pages_free != s.small_span_pages + s.large_pages)
        RFAIL(R, "%zu pages in use, spans hold %zu and large objects %zu: a page leaked",
              s.pages_total - s.pages_free, s.small_span_pages, s.large_pages);
    if (s.large_objects != R->large_objects || s.large_pages != R->large_pages)
        RFAIL(R, "%zu large objects in %zu pages, the live objects say %zu in %zu",
              s.large_objects, s.large_pages, R->large_objects, R->large_pages);
    /* (arenas that meet merge: an arena may hold any number of pages) */
    if ((s.small_spans == 0) != (s.small_span_pages == 0) ||
        s.small_span_pages < s.small_spans)
        RFAIL(R, "%zu arenas in %zu pages", s.small_spans, s.small_span_pages);
    if (R->n - R->large_objects > 0 && s.small_spans == 0)
        RFAIL(R, "%zu small objects live but no arena", R->n - R->large_objects);
    /* every arena: PH_ALIGN of padding and the fence, chunks in between */
    if (R->chunk_bytes > s.small_span_pages * R->ps - s.small_spans * PH_ALIGN)
        RFAIL(R, "%zu bytes of live chunks in %zu arenas of %zu pages", R->chunk_bytes,
              s.small_spans, s.small_span_pages);
    if (s.cached_spans > 1 || (s.cached_spans == 0) != (s.cached_bytes == 0) ||
        s.cached_bytes / R->ps > s.pages_total >> PH_CACHE_SHIFT)
        RFAIL(R, "%zu cached arenas holding %zu bytes", s.cached_spans, s.cached_bytes);
    if (s.faults != rh_faults(R))
        RFAIL(R, "stats.faults %zu, the fault hook saw %zu", s.faults, rh_faults(R));
    if (s.pages_released > s.pages_free)
        RFAIL(R, "%zu pages released but %zu free", s.pages_released, s.pages_free);
}

static void rh_check(rheap *R)
{
    int rc = ph_check(&R->h);
    R->n_check++;
    if (rc != PH_OK)
        RFAIL(R, "ph_check returned %d", rc);
}

static void rh_verify_all(rheap *R)
{
    R->n_verify++;
    for (size_t i = 0; i < R->n; i++) {
        robj *o = &R->o[i];
        size_t u = ph_usable_size(&R->h, o->p);
        if (u != o->usable)
            RFAIL(R, "usable size of live object %p (id %llu) is %zu, was %zu", (void *)o->p,
                  (unsigned long long)o->id, u, o->usable);
        size_t bad = pat_find_bad(o->p, o->usable, o->id);
        if (bad != SIZE_MAX)
            RFAIL(R, "live object %p (id %llu, %zu bytes asked, %zu usable) changed at byte %zu",
                  (void *)o->p, (unsigned long long)o->id, o->req, o->usable, bad);
    }
    if (R->set.n != R->n)
        RFAIL(R, "harness: %zu objects, %zu in the address set", R->n, R->set.n);
}

/* [p, p + n) inside one region's usable pages. */
static void rh_inside(rheap *R, const char *p, size_t n, const char *what)
{
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < R->nr; i++) {
        uintptr_t lo = (uintptr_t)R->ri[i].base, hi = lo + R->ri[i].npages * R->ps;
        if (a >= lo && a < hi) {
            if (n > hi - a)
                RFAIL(R, "%s: object [%p, +%zu) runs past its region's pages (end %p)", what,
                      (void *)p, n, (void *)hi);
            return;
        }
    }
    RFAIL(R, "%s: object %p is in no region's usable pages", what, (void *)p);
}

/* ---- the live set ---------------------------------------------------------------------- */

static void rh_add(rheap *R, char *p, size_t req, size_t usable, bool large, uint64_t id,
                   const char *what)
{
    if (R->n == R->cap) {
        R->cap = R->cap ? 2 * R->cap : 1024;
        R->o = (robj *)realloc(R->o, R->cap * sizeof *R->o);
        if (R->o == NULL)
            abort();
    }
    rh_inside(R, p, usable, what);
    oset_add(&R->set, (uintptr_t)p, usable, R->n, what);
    robj *o = &R->o[R->n++];
    o->p = p;
    o->req = req;
    o->usable = usable;
    o->id = id;
    o->large = large;
    R->live_bytes += usable;
    if (large) {
        R->large_objects++;
        R->large_pages += usable / R->ps;
    } else {
        R->chunk_bytes += usable + PH_FIT_HDR;
    }
}

/* Removes live object i (swap with the last). */
static void rh_remove(rheap *R, size_t i)
{
    robj *o = &R->o[i];
    oset_del(&R->set, (uintptr_t)o->p);
    R->live_bytes -= o->usable;
    if (o->large) {
        R->large_objects--;
        R->large_pages -= o->usable / R->ps;
    } else {
        R->chunk_bytes -= o->usable + PH_FIT_HDR;
    }
    R->o[i] = R->o[--R->n];
    if (i < R->n)
        oset_get(&R->set, (uintptr_t)R->o[i].p)->slot = i;
}

/* ---- requests ------------------------------------------------------------------------------ */

/* A request size: 5% zero, most small, some up to PH_SMALL_MAX (log-uniform),
 * some page runs up to 4 * PH_SMALL_MAX. */
static size_t rand_size(rng_t *r)
{
    uint64_t k = rng_below(r, 100);
    if (k < 5)
        return 0;
    if (k < 68)
        return (size_t)rng_range(r, 1, 256);
    if (k < 95) {
        unsigned b = (unsigned)rng_range(r, 8, 14); /* 256 .. 32 K */
        size_t lo = (size_t)1 << b, hi = (size_t)2 << b;
        if (hi > PH_SMALL_MAX)
            hi = PH_SMALL_MAX;
        return (size_t)rng_range(r, lo + 1, hi);
    }
    return (size_t)rng_range(r, PH_SMALL_MAX + 1, 4 * PH_SMALL_MAX);
}

static size_t rand_align(rng_t *r)
{
    uint64_t k = rng_below(r, 100);
    if (k < 50)
        return (size_t)1 << rng_range(r, 0, 6);   /* 1 .. 64 */
    if (k < 95)
        return (size_t)1 << rng_range(r, 7, 13);  /* 128 .. 8 K: a chunk below the page size */
    return (size_t)1 << rng_range(r, 14, 16);     /* 16 K .. 64 K */
}

/* A small request (a chunk of cs bytes) may be served as a page run of its
 * own only when no free chunk held it and no run of free pages could hold
 * an arena for it (core/src/ph_object.c, alloc_slow): the largest free run
 * before the call was shorter than the arena's pages. */
static bool fallback_large_ok(const ph_stats *before, size_t cs, size_t ps)
{
    return before->largest_free_run < fit_need_pages(cs, ps);
}

enum { K_MALLOC, K_CALLOC, K_ALIGNED };

/* Makes an object of kind k, checks it against the header and tracks it.
 * Returns false when the heap had no memory (and checks that nothing
 * changed then). */
static bool rh_alloc(rheap *R, int k, size_t size, size_t align, size_t n_elems)
{
    ph_stats a, b;
    size_t faults = rh_faults(R);
    size_t req = k == K_CALLOC ? n_elems * size : size;
    char *p;
    char what[96];

    rh_stats(R, &a);
    switch (k) {
    case K_CALLOC:
        p = (char *)ph_calloc(&R->h, n_elems, size);
        R->n_calloc++;
        snprintf(what, sizeof what, "ph_calloc(%zu, %zu)", n_elems, size);
        break;
    case K_ALIGNED:
        p = (char *)ph_aligned_alloc(&R->h, align, size);
        R->n_aligned++;
        snprintf(what, sizeof what, "ph_aligned_alloc(%zu, %zu)", align, size);
        break;
    default:
        p = (char *)ph_malloc(&R->h, size);
        R->n_malloc++;
        snprintf(what, sizeof what, "ph_malloc(%zu)", size);
        break;
    }
    if (rh_faults(R) != faults)
        RFAIL(R, "%s raised a fault", what);
    if (p == NULL) {
        rh_stats(R, &b);
        stats_failed_assert(&a, &b, what); /* out of memory: only the cache went back */
        R->n_null++;
        return false;
    }
    if ((uintptr_t)p % PH_ALIGN != 0)
        RFAIL(R, "%s = %p: not aligned to %zu", what, (void *)p, (size_t)PH_ALIGN);
    if (k == K_ALIGNED && (uintptr_t)p % align != 0)
        RFAIL(R, "%s = %p: not aligned", what, (void *)p);
    size_t u = ph_usable_size(&R->h, p), want, cs;
    bool large, ok;
    rh_stats(R, &b);
    if (k == K_ALIGNED && align > PH_ALIGN) {
        /* below the page size a chunk (placed inside a larger one), else
         * a page run */
        large = !(align < R->ps && size <= PH_SMALL_MAX && align <= PH_SMALL_MAX);
        cs = fit_chunk(size) + align + PH_FIT_MIN;
    } else {
        large = !expect_small(&R->h, req);
        cs = fit_chunk(req);
    }
    want = large ? round_up(req ? req : 1, R->ps) : fit_chunk(req) - PH_FIT_HDR;
    ok = large ? u == want : usable_ok(&R->h, req, R->ps, u);
    if (!large && b.large_objects == a.large_objects + 1) {
        /* a small request served as a page run: only when no arena fitted */
        if (!fallback_large_ok(&a, cs, R->ps))
            RFAIL(R, "%s = %p: a page run although an arena of %zu pages fitted (largest free "
                     "run %zu)", what, (void *)p, fit_need_pages(cs, R->ps), a.largest_free_run);
        large = true;
        want = round_up(req ? req : 1, R->ps);
        ok = u == want;
    } else if (b.large_objects != a.large_objects + (large ? 1u : 0u)) {
        RFAIL(R, "%s = %p: %zu large objects, then %zu (a page run expected: %d)", what,
              (void *)p, a.large_objects, b.large_objects, (int)large);
    }
    if (!ok || u < req)
        RFAIL(R, "%s = %p: usable size %zu, expected %zu%s", what, (void *)p, u, want,
              large ? "" : " (up to PH_FIT_MIN - PH_ALIGN more)");
    if (R->op % 8 == 0) { /* (white box, a walk over the arena's neighbours: now and then) */
        uintptr_t as = 0, ae = 0;
        bool in_arena = wb_arena_of(&R->h, p, &as, &ae);
        if (in_arena == large || (in_arena && (uintptr_t)p + u > ae - PH_FIT_HDR))
            RFAIL(R, "%s = %p (+%zu): %s", what, (void *)p, u,
                  large ? "a page run inside an arena" : "not inside an arena's chunks");
    }
    if (large && (uintptr_t)p % R->ps != 0)
        RFAIL(R, "%s = %p: a page run that is not page aligned", what, (void *)p);
    if (k == K_CALLOC) {
        size_t bad = find_nonzero(p, req);
        if (bad != SIZE_MAX)
            RFAIL(R, "%s = %p: byte %zu is %#x, not zero%s", what, (void *)p, bad,
                  (unsigned char)p[bad],
                  (unsigned char)p[bad] == PH_GUARD_PATTERN ? " (the guard's scrub pattern: "
                                                              "released memory not zeroed)"
                                                            : "");
    }
    uint64_t id = R->next_id++;
    rh_add(R, p, req, u, large, id, what);
    pat_fill(p, u, id);
    return true;
}

/* A random allocation; false when it got NULL. */
static bool rh_alloc_random(rheap *R, size_t size)
{
    uint64_t k = rng_below(&R->r, 100);
    if (k < 70)
        return rh_alloc(R, K_MALLOC, size, 0, 0);
    if (k < 85) {
        size_t n = (size_t)rng_range(&R->r, 1, 8);
        return rh_alloc(R, K_CALLOC, size / n, 0, n);
    }
    return rh_alloc(R, K_ALIGNED, size, rand_align(&R->r), 0);
}

static void rh_free_at(rheap *R, size_t i, bool then_double)
{
    robj o = R->o[i];
    size_t faults = rh_faults(R);
    size_t bad = pat_find_bad(o.p, o.usable, o.id);
    if (bad != SIZE_MAX)
        RFAIL(R, "before ph_free: object %p (id %llu, %zu usable) changed at byte %zu",
              (void *)o.p, (unsigned long long)o.id, o.usable, bad);
    if (ph_usable_size(&R->h, o.p) != o.usable)
        RFAIL(R, "before ph_free: usable size of %p changed", (void *)o.p);
    ph_free(&R->h, o.p);
    R->n_free++;
    if (rh_faults(R) != faults)
        RFAIL(R, "ph_free(%p) of a live object raised a fault (code %d)", (void *)o.p,
              rh_code(R));
    rh_remove(R, i);
    if (!then_double)
        return;
    /* a second free right away (with a scavenge in between, now and then:
     * the refusal must not touch the released page) */
    bool scav = R->scav && rng_pct(&R->r, 50);
    if (scav) {
        R->bytes_scav += ph_scavenge(&R->h, SIZE_MAX);
        R->n_scav++;
    }
    ph_stats a, b;
    rh_stats(R, &a);
    uint64_t op = rng_below(&R->r, 3);
    if (op == 0) {
        ph_free(&R->h, o.p);
    } else if (op == 1) {
        if (ph_realloc(&R->h, o.p, (size_t)rng_below(&R->r, 100)) != NULL)
            RFAIL(R, "ph_realloc of a freed pointer %p did not return NULL", (void *)o.p);
    } else if (ph_usable_size(&R->h, o.p) != 0) {
        RFAIL(R, "ph_usable_size of a freed pointer %p is not 0", (void *)o.p);
    }
    rh_stats(R, &b);
    /* (after a scavenge, the freed chunk's pages may have gone back and an
     * arena may start there again: a pointer at its padding is no object
     * either, and is refused as a bad pointer) */
    if (rh_faults(R) != faults + 1 || rh_addr(R) != o.p ||
        (rh_code(R) != PH_FAULT_DOUBLE_FREE && !(scav && rh_code(R) == PH_FAULT_BAD_POINTER)))
        RFAIL(R, "second free (op %d) of %p (%zu usable): %zu faults, code %d at %p; expected "
                 "one DOUBLE_FREE", (int)op, (void *)o.p, o.usable, rh_faults(R) - faults,
              rh_code(R), rh_addr(R));
    stats_all_assert(&a, &b, 1, "second free");
    R->n_dbl++;
}

/* An interior pointer of a live object: refused, nothing changes. */
static void rh_bad_pointer(rheap *R)
{
    size_t i = (size_t)rng_below(&R->r, R->n);
    robj *o = &R->o[i];
    if (o->usable < 2)
        return;
    size_t off = rng_pct(&R->r, 50) ? (size_t)rng_range(&R->r, 1, o->usable - 1)
                                    : (size_t)rng_range(&R->r, 1, 3) * PH_ALIGN % o->usable;
    if (off == 0)
        off = 1;
    if (o->large && rng_pct(&R->r, 30) && o->usable > R->ps)
        off = R->ps * (size_t)rng_range(&R->r, 1, o->usable / R->ps - 1); /* a later page */
    char *p = o->p + off;
    ph_stats a, b;
    size_t faults = rh_faults(R);
    uint64_t op = rng_below(&R->r, 3);
    rh_stats(R, &a);
    if (op == 0) {
        ph_free(&R->h, p);
    } else if (op == 1) {
        if (ph_realloc(&R->h, p, (size_t)rng_below(&R->r, 2 * o->usable)) != NULL)
            RFAIL(R, "ph_realloc of interior pointer %p did not return NULL", (void *)p);
    } else if (ph_usable_size(&R->h, p) != 0) {
        RFAIL(R, "ph_usable_size of interior pointer %p is not 0", (void *)p);
    }
    rh_stats(R, &b);
    if (rh_faults(R) != faults + 1 || rh_code(R) != PH_FAULT_BAD_POINTER || rh_addr(R) != p)
        RFAIL(R, "interior pointer %p = %p + %zu (%zu usable, op %d): %zu faults, code %d at "
                 "%p; expected one BAD_POINTER", (void *)p, (void *)o->p, off, o->usable,
              (int)op, rh_faults(R) - faults, rh_code(R), rh_addr(R));
    stats_all_assert(&a, &b, 1, "interior pointer");
    size_t bad = pat_find_bad(o->p, o->usable, o->id);
    if (bad != SIZE_MAX)
        RFAIL(R, "a refused call on %p changed the object at byte %zu", (void *)p, bad);
    R->n_bad++;
}

static void rh_realloc(rheap *R)
{
    size_t i = (size_t)rng_below(&R->r, R->n);
    robj o = R->o[i];
    size_t size;
    uint64_t k = rng_below(&R->r, 100);
    if (k < 25) /* the same chunk or page count, mostly */
        size = o.req > 8 ? o.req - (size_t)rng_below(&R->r, 8) : o.req + 1;
    else if (k < 45) /* a little larger */
        size = o.req + (size_t)rng_range(&R->r, 1, o.req / 2 + 64);
    else if (k < 55)
        size = (size_t)rng_below(&R->r, o.req + 1);
    else if (k < 58)
        size = 0;
    else
        size = rand_size(&R->r);
    size_t bad = pat_find_bad(o.p, o.usable, o.id);
    if (bad != SIZE_MAX)
        RFAIL(R, "before ph_realloc: object %p (id %llu) changed at byte %zu", (void *)o.p,
              (unsigned long long)o.id, bad);

    ph_stats a, b;
    size_t faults = rh_faults(R);
    rh_stats(R, &a);
    char *q = (char *)ph_realloc(&R->h, o.p, size);
    R->n_realloc++;
    if (rh_faults(R) != faults)
        RFAIL(R, "ph_realloc(%p, %zu) raised a fault (code %d)", (void *)o.p, size, rh_code(R));
    if (q == NULL) {
        rh_stats(R, &b);
        stats_failed_assert(&a, &b, "failed ph_realloc");
        if (ph_usable_size(&R->h, o.p) != o.usable)
            RFAIL(R, "failed ph_realloc(%p, %zu) changed the usable size", (void *)o.p, size);
        bad = pat_find_bad(o.p, o.usable, o.id);
        if (bad != SIZE_MAX)
            RFAIL(R, "failed ph_realloc(%p, %zu) changed the object at byte %zu", (void *)o.p,
                  size, bad);
        R->n_null++;
        return;
    }
    size_t u = ph_usable_size(&R->h, q);
    const bool to_small = expect_small(&R->h, size), was_large = o.large;
    bool large = !to_small;
    char what[96];
    snprintf(what, sizeof what, "ph_realloc(%p [%zu usable], %zu) = %p", (void *)o.p, o.usable,
             size, (void *)q);
    rh_stats(R, &b);
    if (!was_large && to_small && fit_chunk(size) <= o.usable + PH_FIT_HDR) {
        /* the new chunk fits the old one: in place, the tail split off when
         * it can be a chunk, no page changes hands */
        if (q != o.p || u != fit_shrunk_usable(o.usable, size))
            RFAIL(R, "%s: usable %zu; expected in place with %zu usable", what, u,
                  fit_shrunk_usable(o.usable, size));
        stats_all_assert(&a, &b, 0, what);
    } else if (!was_large && to_small) {
        /* a growth: in place into free memory after it (no page changes
         * hands), or moved: into a chunk, or into a page run of its own
         * when no arena fitted */
        if (b.large_objects == a.large_objects && !usable_ok(&R->h, size, R->ps, u))
            RFAIL(R, "%s: usable size %zu, expected %zu", what, u,
                  fit_chunk(size) - PH_FIT_HDR);
        if (q == o.p)
            stats_all_assert(&a, &b, 0, what);
        if (b.large_objects != a.large_objects) {
            /* moved into a page run of its own: no arena fitted */
            if (q == o.p || !fallback_large_ok(&a, fit_chunk(size), R->ps) ||
                u != round_up(size ? size : 1, R->ps))
                RFAIL(R, "%s: a page run (usable %zu) although an arena fitted", what, u);
            large = true;
        }
    } else if (was_large == to_small && q == o.p && u == o.usable && size <= o.usable) {
        /* a small object to a page run, or a page run to a chunk, that
         * could not move (its allocation failed): it stays as it was, big
         * enough, and nothing changed but the cache ... */
        large = was_large;
        stats_failed_assert(&a, &b, "ph_realloc that could not move");
        /* ... which is right only if the heap really has no memory for it now */
        void *probe = ph_malloc(&R->h, size);
        if (probe != NULL) {
            ph_free(&R->h, probe);
            RFAIL(R, "%s stayed in place (%zu usable) although memory for %zu bytes was there",
                  what, u, size);
        }
    } else if (was_large && !to_small) {
        /* page runs: a shrink in place; a growth in place or moved */
        size_t n = (size + R->ps - 1) / R->ps;
        if (u != n * R->ps || (uintptr_t)q % R->ps != 0)
            RFAIL(R, "%s: usable size %zu, expected %zu pages", what, u, n);
        if (n <= o.usable / R->ps && q != o.p)
            RFAIL(R, "%s: a page run that shrinks moved", what);
    } else {
        /* between a chunk and a page run: moved */
        if (q == o.p)
            RFAIL(R, "%s: stayed in place but changed from %s", what,
                  was_large ? "a page run to a chunk" : "a chunk to a page run");
        if (to_small && b.large_objects + 1 != a.large_objects) {
            if (!fallback_large_ok(&a, fit_chunk(size), R->ps))
                RFAIL(R, "%s: a page run although an arena fitted", what);
            large = true;
        }
        if (large ? u != round_up(size ? size : 1, R->ps) || (uintptr_t)q % R->ps != 0
                  : !usable_ok(&R->h, size, R->ps, u))
            RFAIL(R, "%s: usable size %zu", what, u);
    }
    if ((uintptr_t)q % PH_ALIGN != 0)
        RFAIL(R, "%s: misaligned", what);
    size_t keep = o.req < size ? o.req : size;
    bad = pat_find_bad(q, keep, o.id);
    if (bad != SIZE_MAX)
        RFAIL(R, "%s: contents not kept: byte %zu of %zu", what, bad, keep);
    rh_remove(R, i);
    rh_add(R, q, size, u, large, o.id, what);
    pat_fill(q, u, o.id);
}

/* ---- out of memory ------------------------------------------------------------------------- */

static void rh_free_all(rheap *R)
{
    while (R->n > 0)
        rh_free_at(R, (size_t)rng_below(&R->r, R->n), false);
    rh_accounting(R);
    stats_all_free(&R->h, R->tag);
    walk_log w = { 0 };
    walk_take(&R->h, &w);
    for (size_t i = 0; i < w.n; i++)
        if (w.runs[i].state == PH_PAGES_USED)
            RFAIL(R, "every object freed, but %zu pages at %p are in use", w.runs[i].npages,
                  w.runs[i].base);
    walk_free(&w);
}

static void rh_oom_phase(rheap *R)
{
    static const size_t tiers[][2] = { { PH_SMALL_MAX + 1, 4 * PH_SMALL_MAX },
                                       { 4097, PH_SMALL_MAX },
                                       { 257, 4096 },
                                       { 1, 256 },
                                       { 1, 16 } };
    size_t nulls = R->n_null, made = 0;
    R->in_oom = true;
    R->n_oom++;
    for (size_t t = 0; t < sizeof tiers / sizeof tiers[0]; t++) {
        for (size_t guard = 0; guard < 2000000; guard++) {
            size_t size = (size_t)rng_range(&R->r, tiers[t][0], tiers[t][1]);
            if (!rh_alloc_random(R, size))
                break;
            made++;
            if (made % 64 == 0)
                rh_accounting(R);
        }
    }
    if (R->n_null == nulls)
        RFAIL(R, "out-of-memory phase: no allocation failed");
    /* the heap is full: more of everything, each either served or NULL
     * with nothing changed */
    for (int j = 0; j < 64; j++)
        rh_alloc_random(R, rand_size(&R->r));
    for (int j = 0; j < 16 && R->n > 0; j++)
        rh_realloc(R);
    rh_accounting(R);
    rh_check(R);
    rh_verify_all(R);
    /* everything back: no page leaked */
    rh_free_all(R);
    R->in_oom = false;

    if (!R->scav)
        return;
    /* released memory holds 0xA5 (scrub): calloc must still return zeros */
    ph_stats s;
    R->bytes_scav += ph_scavenge(&R->h, SIZE_MAX);
    R->n_scav++;
    rh_stats(R, &s);
    size_t acq = s.acquire_calls;
    if (s.pages_released == 0)
        return;
    for (int j = 0; j < 100000; j++) {
        size_t size = rng_pct(&R->r, 50) ? (size_t)rng_range(&R->r, 1, PH_SMALL_MAX)
                                         : (size_t)rng_range(&R->r, PH_SMALL_MAX, 4 * PH_SMALL_MAX);
        size_t n = (size_t)rng_range(&R->r, 1, 4);
        if (!rh_alloc(R, K_CALLOC, size / n, 0, n))
            break;
        rh_stats(R, &s);
        if (s.acquire_calls > acq + 2)
            break;
    }
    rh_stats(R, &s);
    if (s.acquire_calls == acq)
        RFAIL(R, "calloc after a scavenge never reused a released granule");
    R->n_calloc_acq += s.acquire_calls - acq;
    rh_accounting(R);
    rh_check(R);
}

/* ---- the run ---------------------------------------------------------------------------------- */

static void rh_run(rheap *R, size_t nops)
{
    const size_t oom_every = nops / 3 + 1;
    for (R->op = 0; R->op < nops; R->op++) {
        uint64_t k = rng_below(&R->r, 1000);
        if (R->op % 2048 == 0) /* a new level to aim at */
            R->target_bytes = R->heap_bytes / 100 * (size_t)rng_range(&R->r, 5, 70);
        if (R->n > 0 && k < 10) {
            rh_bad_pointer(R);
        } else if (R->scav && k < 16) {
            size_t want = rng_pct(&R->r, 70) ? SIZE_MAX : (size_t)rng_below(&R->r, 1u << 20);
            size_t got = ph_scavenge(&R->h, want);
            R->n_scav++;
            R->bytes_scav += got;
            if (got % (size_t)sysconf(_SC_PAGESIZE) != 0)
                RFAIL(R, "ph_scavenge(%zu) returned %zu: not whole granules", want, got);
        } else {
            bool want_free = R->n > 0 && (R->live_bytes > R->target_bytes ? rng_pct(&R->r, 60)
                                                                           : rng_pct(&R->r, 30));
            if (want_free) {
                rh_free_at(R, (size_t)rng_below(&R->r, R->n), rng_pct(&R->r, 4));
            } else if (R->n > 0 && rng_pct(&R->r, 25)) {
                rh_realloc(R);
            } else if (rng_pct(&R->r, 3)) {
                /* realloc(NULL, n) is malloc */
                ph_stats a, b;
                size_t size = rand_size(&R->r);
                rh_stats(R, &a);
                char *p = (char *)ph_realloc(&R->h, NULL, size);
                R->n_realloc++;
                if (p == NULL) {
                    rh_stats(R, &b);
                    stats_failed_assert(&a, &b, "ph_realloc(NULL) out of memory");
                    R->n_null++;
                } else {
                    size_t u = ph_usable_size(&R->h, p);
                    if (!usable_ok(&R->h, size, R->ps, u))
                        RFAIL(R, "ph_realloc(NULL, %zu): usable size %zu", size, u);
                    uint64_t id = R->next_id++;
                    rh_add(R, p, size, u, !expect_small(&R->h, size), id, "ph_realloc(NULL)");
                    pat_fill(p, u, id);
                }
            } else {
                rh_alloc_random(R, rand_size(&R->r));
            }
        }
        rh_accounting(R);
        if (R->op < 300 || R->op % 16 == 0)
            rh_check(R);
        if (R->op % 4096 == 4095)
            rh_verify_all(R);
        if (R->op % oom_every == oom_every - 1)
            rh_oom_phase(R);
    }
    rh_verify_all(R);
    rh_check(R);
    rh_oom_phase(R); /* ends with everything freed (and, with the scavenger, calloc'd) */
    rh_free_all(R);
    rh_locks_ok(R);
    print_message("[ run      ] %s, seed %#llx: %zu ops: %zu malloc, %zu calloc, %zu realloc, "
                  "%zu aligned, %zu free, %zu NULL (out of memory), %zu interior + %zu second "
                  "frees refused, %zu out-of-memory phases, %zu ph_check, %zu full verifies",
                  R->tag, (unsigned long long)R->seed, nops, R->n_malloc, R->n_calloc,
                  R->n_realloc, R->n_aligned, R->n_free, R->n_null, R->n_bad, R->n_dbl, R->n_oom,
                  R->n_check, R->n_verify);
    if (R->scav)
        print_message(", %zu scavenges (%zu KiB released), %zu acquires by calloc after a "
                      "scavenge", R->n_scav, R->bytes_scav >> 10, R->n_calloc_acq);
    print_message("\n");
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void run_set(const char *name, bool scav, uint64_t fixed_seed, size_t runs_per_ps,
                    size_t ops)
{
    static const size_t pss[] = { 64, 256, 4096, 65536 };
    uint64_t seed = test_seed(name, fixed_seed);
    size_t nops = scaled(ops);
    pat_init();
    for (size_t k = 0; k < sizeof pss / sizeof pss[0]; k++)
        for (size_t j = 0; j < runs_per_ps; j++) {
            rheap *R = (rheap *)calloc(1, sizeof *R);
            /* each run its own seed, derived from the printed one */
            uint64_t s = seed ^ (0x9E3779B97F4A7C15ULL * (k * 8 + j + 1));
            rh_open(R, pss[k], scav, s, seed);
            rh_run(R, nops);
            rh_close(R);
            free(R);
        }
}

static void test_random_objects(void **state)
{
    (void)state;
    run_set("objects_random/plain", false, 0x0B1EC75ULL, 2, 25000);
}

static void test_random_objects_scavenger(void **state)
{
    (void)state;
    run_set("objects_random/scavenger", true, 0x5CA7E9ULL, 1, 25000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_objects),
        cmocka_unit_test(test_random_objects_scavenger),
    };
    return cmocka_run_group_tests_name("objects_random", tests, NULL, NULL);
}
