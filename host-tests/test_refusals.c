/* SPDX-License-Identifier: MIT */
/*
 * test_refusals.c: every refusal of API.md "Set-up" and "Pages", and the
 * locking rules.
 *
 * A refused call must change nothing but what the contract names:
 *   - ph_add_region refusals return a negative code and change nothing at
 *     all: statistics (faults included), the ph_walk map, the region table
 *     and the memory of the refused region stay as they were, and the fault
 *     hook is not called;
 *   - ph_page_free refusals raise exactly one fault: the fault count goes up
 *     by one, the hook is called once with the right code and the pointer
 *     that was passed in, and everything else (statistics, ph_walk map)
 *     stays as it was;
 *   - ph_page_alloc(h, 0), an allocation that cannot be served and
 *     ph_page_free(h, p, 0) change nothing and are no fault.
 * After every refusal ph_check is PH_OK.  The recording port also checks on
 * every call that locking is balanced and never nested, that ctx comes back
 * unchanged, and that release/acquire are never called (no scavenge here).
 */
#include "ph_test_util.h"

#include "ph_internal.h"

#define W ((size_t)PH_WORD_BITS)

/* ---- fixture ------------------------------------------------------------------- */

/*
 * Three regions from one buffer (page size 256):
 *   A  unaligned start, 3W pages plus a 100-byte tail
 *   B  starts exactly at A's raw end (touching, unaligned), 3W pages
 *   C  after a gap of 5 pages, W pages, granule 4 pages
 * Allocated: a 5-page run at A:0 with A:2 freed again, A:5 (1 page),
 * a W-page run at A:6, a 2W-page run at B:0.
 */
typedef struct rfix {
    ph_heap h;
    tport port;
    size_t ps;
    char *buf;
    size_t buflen;
    ph_region_info ri[3]; /* A, B, C by address */
    char *run5, *one, *runw, *runb;
} rfix;

static rfix fx;

static void lock_ok(const tport *t, const char *what)
{
    if (t->nested || t->stray_unlocks || t->held || t->locks != t->unlocks)
        fail_msg("%s: locking broken: locks %zu unlocks %zu nested %zu stray %zu held %d", what,
                 t->locks, t->unlocks, t->nested, t->stray_unlocks, (int)t->held);
    if (t->releases || t->acquires)
        fail_msg("%s: release (%zu) / acquire (%zu) called without a scavenge", what, t->releases,
                 t->acquires);
}

static int fix_setup(void **state)
{
    (void)state;
    rfix *f = &fx;
    memset(f, 0, sizeof *f);
    f->ps = 256;
    f->buflen = (8 * W + 64) * f->ps;
    f->buf = (char *)xaligned(f->ps, f->buflen);
    memset(f->buf, 0x5A, f->buflen);
    tport_init(&f->port, true);
    if (ph_init(&f->h, f->ps, &f->port.port) != PH_OK)
        return -1;
    char *a = f->buf + 4 * f->ps + 40;
    size_t asz = (3 * W + 8) * f->ps + 100; /* 8 pages for metadata is plenty */
    char *b = a + asz;
    size_t bsz = (3 * W + 8) * f->ps;
    char *c = b + bsz + 5 * f->ps;
    size_t csz = (W + 8) * f->ps;
    if (c + csz > f->buf + f->buflen)
        return -1;
    /* out of order: C, A, B */
    if (ph_add_region(&f->h, c, csz, 4 * f->ps) != PH_OK ||
        ph_add_region(&f->h, a, asz, 0) != PH_OK || ph_add_region(&f->h, b, bsz, 0) != PH_OK)
        return -1;
    for (size_t i = 0; i < 3; i++)
        if (ph_get_region(&f->h, i, &f->ri[i]) != PH_OK)
            return -1;
    if (f->ri[0].raw_base != a || f->ri[1].raw_base != b || f->ri[2].raw_base != c)
        return -1;
    if (f->ri[0].npages < 3 * W || f->ri[1].npages < 2 * W + 1 || f->ri[2].npages < 4)
        return -1;
    f->run5 = (char *)ph_page_alloc(&f->h, 5);
    f->one = (char *)ph_page_alloc(&f->h, 1);
    f->runw = (char *)ph_page_alloc(&f->h, W);
    f->runb = (char *)ph_page_alloc(&f->h, f->ri[0].npages); /* too big for A: goes to B */
    if (f->run5 != f->ri[0].base || f->one != f->run5 + 5 * f->ps ||
        f->runw != f->one + f->ps || f->runb != f->ri[1].base)
        return -1;
    ph_page_free(&f->h, f->run5 + 2 * f->ps, 1);
    if (f->port.faults != 0 || ph_check(&f->h) != PH_OK)
        return -1;
    return 0;
}

static int fix_teardown(void **state)
{
    (void)state;
    free(fx.buf);
    memset(&fx, 0, sizeof fx);
    return 0;
}

/* ---- snapshots ----------------------------------------------------------------- */

typedef struct snap {
    ph_stats st;
    walk_log w;
    size_t nreg;
    ph_region_info ri[PH_MAX_REGIONS];
    size_t faults;
} snap;

static void snap_take(ph_heap *h, const tport *t, snap *s)
{
    ph_get_stats(h, &s->st);
    walk_take(h, &s->w);
    s->nreg = 0;
    while (s->nreg < PH_MAX_REGIONS && ph_get_region(h, s->nreg, &s->ri[s->nreg]) == PH_OK)
        s->nreg++;
    s->faults = t ? t->faults : 0;
}

static void snap_free(snap *s)
{
    walk_free(&s->w);
}

/* Everything in `before` still holds, faults went up by faults_delta. */
static void snap_assert_same(ph_heap *h, const tport *t, const snap *before, size_t faults_delta,
                             const char *what)
{
    snap now;
    memset(&now, 0, sizeof now);
    snap_take(h, t, &now);
    stats_assert(&before->st, &now.st, faults_delta, what);
    walk_assert_equal(&before->w, &now.w, what);
    if (now.nreg != before->nreg)
        fail_msg("%s: %zu regions, expected %zu", what, now.nreg, before->nreg);
    for (size_t i = 0; i < now.nreg; i++)
        if (memcmp(&now.ri[i], &before->ri[i], sizeof now.ri[i]) != 0)
            fail_msg("%s: region %zu description changed", what, i);
    snap_free(&now);
    CHECK_OK(h, what);
    if (t)
        lock_ok(t, what);
}

/* ph_page_free(p, n) must be refused with `code`. */
static void refused_free(rfix *f, const void *p, size_t n, int code, const char *what)
{
    snap s;
    memset(&s, 0, sizeof s);
    snap_take(&f->h, &f->port, &s);
    ph_page_free(&f->h, (void *)(uintptr_t)p, n);
    if (f->port.faults != s.faults + 1)
        fail_msg("%s: fault hook called %zu times, expected once", what, f->port.faults - s.faults);
    if (f->port.last_code != code)
        fail_msg("%s: fault code %d, expected %d", what, f->port.last_code, code);
    if (f->port.last_addr != p)
        fail_msg("%s: fault address %p, expected %p", what, f->port.last_addr, p);
    snap_assert_same(&f->h, &f->port, &s, 1, what);
    snap_free(&s);
}

/* ph_add_region must be refused with rc_want and change nothing, not even
 * the memory it was offered. */
static void refused_add(ph_heap *h, tport *t, void *base, size_t size, size_t granule,
                        int rc_want, const char *what)
{
    snap s;
    memset(&s, 0, sizeof s);
    snap_take(h, t, &s);
    int rc = ph_add_region(h, base, size, granule);
    if (rc >= 0 || rc != rc_want)
        fail_msg("%s: ph_add_region returned %d, expected %d", what, rc, rc_want);
    if (t && t->faults != s.faults)
        fail_msg("%s: refused ph_add_region called the fault hook", what);
    snap_assert_same(h, t, &s, 0, what);
    snap_free(&s);
}

/* ---- ph_init --------------------------------------------------------------------- */

static void test_init_page_sizes(void **state)
{
    (void)state;
    ph_heap h;
    ph_stats st;

    assert_int_equal(ph_init(&h, 0, NULL), PH_OK);
    ph_get_stats(&h, &st);
    assert_int_equal(st.page_size, PH_DEFAULT_PAGE_SIZE);
    for (size_t ps = 64; ps <= 65536; ps *= 2) {
        memset(&h, 0xEE, sizeof h);
        assert_int_equal(ph_init(&h, ps, NULL), PH_OK);
        ph_get_stats(&h, &st);
        assert_int_equal(st.page_size, ps);
        assert_int_equal(ph_check(&h), PH_OK);
    }
    static const size_t bad[] = { 32, 100, 131072, 3, 1, 2, 63, 65, 96, 192, 4095, 4097,
                                  65535, 65537, 1u << 20, ((size_t)1 << 31), SIZE_MAX,
                                  SIZE_MAX - 63 };
    static char mem[64 * 1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&h, 0, sizeof h);
        int rc = ph_init(&h, bad[i], NULL);
        if (rc != PH_EINVAL)
            fail_msg("ph_init(page_size %zu) returned %d, expected PH_EINVAL", bad[i], rc);
        /* an unusable heap refuses everything */
        assert_true(ph_add_region(&h, mem, sizeof mem, 0) < 0);
        assert_null(ph_page_alloc(&h, 1));
        assert_true(ph_check(&h) != PH_OK);
    }
}

static void test_init_on_garbage(void **state)
{
    (void)state;
    static const int fills[] = { 0x00, 0xFF, 0xA5, 0x5A, 0x01 };
    void *mem = xaligned(4096, 64 * 4096);
    rng_t r;
    rng_seed(&r, test_seed("refusals/init_on_garbage", 0x6A4BA6EULL));
    for (size_t k = 0; k < sizeof fills / sizeof fills[0] + 3; k++) {
        ph_heap h;
        ph_stats st;
        walk_log w = {0};
        ph_region_info ri;
        if (k < sizeof fills / sizeof fills[0]) {
            memset(&h, fills[k], sizeof h);
        } else {
            unsigned char *b = (unsigned char *)&h;
            for (size_t i = 0; i < sizeof h; i++)
                b[i] = (unsigned char)rng_next(&r);
        }
        assert_int_equal(ph_init(&h, 4096, NULL), PH_OK);
        ph_get_stats(&h, &st);
        assert_int_equal(st.page_size, 4096);
        assert_int_equal(st.regions, 0);
        assert_int_equal(st.pages_total, 0);
        assert_int_equal(st.pages_free, 0);
        assert_int_equal(st.pages_released, 0);
        assert_int_equal(st.largest_free_run, 0);
        assert_int_equal(st.metadata_bytes, 0);
        assert_int_equal(st.faults, 0);
        assert_int_equal(ph_check(&h), PH_OK);
        walk_take(&h, &w);
        assert_int_equal(w.calls, 0);
        walk_free(&w);
        assert_int_equal(ph_get_region(&h, 0, &ri), PH_EINVAL);
        assert_null(ph_page_alloc(&h, 1));
        /* and it works */
        assert_int_equal(ph_add_region(&h, mem, 64 * 4096, 0), PH_OK);
        assert_int_equal(ph_get_region(&h, 0, &ri), PH_OK);
        assert_ptr_equal(ph_page_alloc(&h, 1), ri.base);
        assert_int_equal(ph_check(&h), PH_OK);
        /* ph_init again on a heap in use starts afresh */
        ph_page_free(&h, NULL, 1);
        assert_int_equal(ph_init(&h, 4096, NULL), PH_OK);
        ph_get_stats(&h, &st);
        assert_int_equal(st.regions, 0);
        assert_int_equal(st.pages_total, 0);
        assert_int_equal(st.faults, 0);
        assert_int_equal(ph_check(&h), PH_OK);
        assert_null(ph_page_alloc(&h, 1));
    }
    free(mem);
}

/* ---- ph_add_region ------------------------------------------------------------------ */

static void fill(char *p, size_t n, int v)
{
    memset(p, v, n);
}

static bool filled(const char *p, size_t n, int v)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] != (unsigned char)v)
            return false;
    return true;
}

/* A region refused for overlapping [x, x + n) must not have written there:
 * the bytes that belong to no region keep their fill. */
static void test_add_region_overlap(void **state)
{
    (void)state;
    const size_t ps = 512;
    const size_t len = 160 * ps;
    char *buf = (char *)xaligned(ps, len);
    tport t;
    ph_heap h;
    tport_init(&t, true);
    assert_int_equal(ph_init(&h, ps, &t.port), PH_OK);
    fill(buf, len, 0xC3);
    char *a = buf + 60 * ps + 17; /* unaligned start */
    size_t asz = 30 * ps + 33;    /* unaligned end   */
    char *ae = a + asz;
    assert_int_equal(ph_add_region(&h, a, asz, 0), PH_OK);
    void *p = ph_page_alloc(&h, 3);
    assert_non_null(p);
    CHECK_OK(&h, "set-up");

    struct {
        const char *name;
        char *base;
        size_t size;
    } bad[] = {
        { "one byte over the low end", a - 20 * ps, 20 * ps + 1 },
        { "one byte over the high end", ae - 1, 20 * ps },
        { "one byte at the high end only", ae - 1, 1 },
        { "one byte at the low end only", a, 1 },
        { "the same range", a, asz },
        { "a range around it", a - 10 * ps, asz + 20 * ps },
        { "a range inside it", a + 2 * ps, 4 * ps },
        { "a range inside its metadata", a + 10, 10 },
        { "unaligned, 1 byte into it from below", a - 7 * ps - 3, 7 * ps + 4 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[160];
        snprintf(what, sizeof what, "overlap: %s", bad[i].name);
        refused_add(&h, &t, bad[i].base, bad[i].size, 0, PH_EOVERLAP, what);
        /* memory outside region A was not touched */
        if (!filled(buf, (size_t)(a - buf), 0xC3) || !filled(ae, (size_t)(buf + len - ae), 0xC3))
            fail_msg("%s: memory outside the regions was written", what);
    }

    /* touching on both sides is fine (the low one touches at an unaligned
     * address, the high one too) */
    char *lo = a - 20 * ps - 5;
    assert_int_equal(ph_add_region(&h, lo, (size_t)(a - lo), 0), PH_OK);
    assert_int_equal(ph_add_region(&h, ae, 25 * ps + 3, 0), PH_OK);
    CHECK_OK(&h, "touching regions");
    ph_stats st;
    ph_get_stats(&h, &st);
    assert_int_equal(st.regions, 3);
    /* and the new ones are refused overlaps in turn */
    refused_add(&h, &t, lo - 4 * ps, 4 * ps + 1, 0, PH_EOVERLAP, "overlap: new low region");
    refused_add(&h, &t, ae + 25 * ps + 2, 4 * ps, 0, PH_EOVERLAP, "overlap: new high region");
    refused_add(&h, &t, lo, (size_t)(ae - lo) + 25 * ps + 3, 0, PH_EOVERLAP,
                "overlap: all three");
    /* one byte further is fine again */
    assert_int_equal(ph_add_region(&h, ae + 25 * ps + 3, 20 * ps, 0), PH_OK);
    ph_region_info ri[4];
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ph_get_region(&h, i, &ri[i]), PH_OK);
    assert_ptr_equal(ri[0].raw_base, lo);
    assert_ptr_equal(ri[1].raw_base, a);
    assert_ptr_equal(ri[2].raw_base, ae);
    assert_ptr_equal(ri[3].raw_base, ae + 25 * ps + 3);
    CHECK_OK(&h, "four regions");
    lock_ok(&t, "overlap");
    free(buf);
}

/* Smallest aligned region, in bytes, that the heap accepts (found by
 * asking a scratch heap). */
static size_t min_region_bytes(size_t ps, char *mem, size_t memlen)
{
    for (size_t n = 1; n * ps <= memlen; n++) {
        ph_heap sh;
        assert_int_equal(ph_init(&sh, ps, NULL), PH_OK);
        if (ph_add_region(&sh, mem, n * ps, 0) == PH_OK)
            return n * ps;
    }
    fail_msg("page size %zu: no region up to %zu bytes is accepted", ps, memlen);
    return 0;
}

static void test_add_region_too_small(void **state)
{
    (void)state;
    static const size_t sizes[] = { 64, 256, 4096, 65536 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const size_t ps = sizes[si];
        const size_t len = 64 * ps;
        char *buf = (char *)xaligned(ps, len);
        tport t;
        ph_heap h;
        char what[160];
        size_t min = min_region_bytes(ps, buf + 32 * ps, 32 * ps);
        assert_true(min >= 2 * ps); /* metadata takes at least one whole page */
        tport_init(&t, true);
        assert_int_equal(ph_init(&h, ps, &t.port), PH_OK);
        /* one region already there, so "nothing changed" means something */
        assert_int_equal(ph_add_region(&h, buf + 32 * ps, 32 * ps, 0), PH_OK);
        assert_non_null(ph_page_alloc(&h, 2));
        fill(buf, 32 * ps, 0x77);

        snprintf(what, sizeof what, "page %zu: size 0", ps);
        refused_add(&h, &t, buf, 0, 0, PH_EINVAL, what);
        snprintf(what, sizeof what, "page %zu: one byte", ps);
        refused_add(&h, &t, buf, 1, 0, PH_ENOMEM, what);
        snprintf(what, sizeof what, "page %zu: one page", ps);
        refused_add(&h, &t, buf, ps, 0, PH_ENOMEM, what);
        snprintf(what, sizeof what, "page %zu: one byte short of the minimum %zu", ps, min);
        refused_add(&h, &t, buf, min - 1, 0, PH_ENOMEM, what);
        snprintf(what, sizeof what, "page %zu: minimum size, unaligned start", ps);
        refused_add(&h, &t, buf + 1, min, 0, PH_ENOMEM, what);
        snprintf(what, sizeof what, "page %zu: half a page in, minimum + half a page - 1 byte", ps);
        refused_add(&h, &t, buf + ps / 2, min + ps / 2 - 1, 0, PH_ENOMEM, what);
        snprintf(what, sizeof what, "page %zu: 2 pages less 2 bytes across a page boundary", ps);
        refused_add(&h, &t, buf + 1, 2 * ps - 2, 0, PH_ENOMEM, what);
        if (!filled(buf, 32 * ps, 0x77))
            fail_msg("page %zu: a refused region's memory was written", ps);

        /* address wrap: nothing may be touched, so no memory is needed */
        snprintf(what, sizeof what, "page %zu: range wrapping the address space", ps);
        refused_add(&h, &t, (void *)(UINTPTR_MAX - 10 * ps + 1), 20 * ps, 0, PH_EINVAL, what);

        /* the minimum is accepted and has exactly one usable page */
        assert_int_equal(ph_add_region(&h, buf, min, 0), PH_OK);
        ph_region_info ri;
        assert_int_equal(ph_get_region(&h, 0, &ri), PH_OK);
        assert_ptr_equal(ri.raw_base, buf);
        assert_int_equal(ri.npages, 1);
        assert_ptr_equal(ri.meta_base, buf);
        assert_ptr_equal(ri.base, buf + min - ps);
        assert_ptr_equal(ph_page_alloc(&h, 1), ri.base); /* lowest region, lowest page */
        CHECK_OK(&h, what);
        lock_ok(&t, what);
        free(buf);
    }
}

static void test_add_region_bad_granule(void **state)
{
    (void)state;
    static const size_t sizes[] = { 64, 4096 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const size_t ps = sizes[si];
        const size_t len = 200 * ps;
        char *buf = (char *)xaligned(ps, len);
        tport t;
        ph_heap h;
        char what[160];
        tport_init(&t, true);
        assert_int_equal(ph_init(&h, ps, &t.port), PH_OK);
        assert_int_equal(ph_add_region(&h, buf + 100 * ps, 100 * ps, 0), PH_OK);
        assert_non_null(ph_page_alloc(&h, 7));
        const size_t bad[] = { 1, 2, 3, 32, 100, ps / 2, ps - 1, ps + 1, 3 * ps, 5 * ps,
                               ps * 4 + ps / 2, SIZE_MAX, ((size_t)1 << 40) + ps };
        fill(buf, 100 * ps, 0x3C);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            snprintf(what, sizeof what, "page %zu: granule %zu", ps, bad[i]);
            refused_add(&h, &t, buf, 20 * ps, bad[i], PH_EINVAL, what);
        }
        if (!filled(buf, 100 * ps, 0x3C))
            fail_msg("page %zu: a refused region's memory was written", ps);
        /* good granules, each on its own memory */
        const size_t good[] = { 0, ps, 2 * ps, 16 * ps, (size_t)1 << 20, (size_t)1 << 40 };
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
            char *base = buf + i * 16 * ps;
            assert_int_equal(ph_add_region(&h, base, 16 * ps, good[i]), PH_OK);
        }
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
            ph_region_info ri;
            assert_int_equal(ph_get_region(&h, i, &ri), PH_OK);
            assert_ptr_equal(ri.raw_base, buf + i * 16 * ps);
            assert_int_equal(ri.granule, good[i]);
        }
        CHECK_OK(&h, what);
        ph_stats st;
        ph_get_stats(&h, &st);
        assert_int_equal(st.pages_released, 0); /* nothing released before a scavenge */
        lock_ok(&t, what);
        free(buf);
    }
}

static void test_too_many_regions(void **state)
{
    (void)state;
    const size_t ps = 128, each = 12 * ps;
    assert_true(PH_MAX_REGIONS >= 8); /* the API promises at least 8 */
    const size_t len = (PH_MAX_REGIONS + 2) * 2 * each;
    char *buf = (char *)xaligned(ps, len);
    tport t;
    ph_heap h;
    tport_init(&t, true);
    assert_int_equal(ph_init(&h, ps, &t.port), PH_OK);
    /* added from the top down, with gaps */
    for (size_t i = 0; i < PH_MAX_REGIONS; i++) {
        char *base = buf + (PH_MAX_REGIONS - i) * 2 * each;
        int rc = ph_add_region(&h, base, each, 0);
        if (rc != PH_OK)
            fail_msg("region %zu of %d refused with %d", i + 1, PH_MAX_REGIONS, rc);
    }
    CHECK_OK(&h, "full table");
    assert_non_null(ph_page_alloc(&h, 2));
    refused_add(&h, &t, buf, each, 0, PH_ELIMIT, "one region too many (below all)");
    refused_add(&h, &t, buf + (PH_MAX_REGIONS + 1) * 2 * each, each, 0, PH_ELIMIT,
                "one region too many (above all)");
    ph_stats st;
    ph_get_stats(&h, &st);
    assert_int_equal(st.regions, PH_MAX_REGIONS);
    /* every region is usable: one page each comes back in address order */
    for (size_t i = 0; i < PH_MAX_REGIONS; i++) {
        ph_region_info ri;
        assert_int_equal(ph_get_region(&h, i, &ri), PH_OK);
        assert_ptr_equal(ri.raw_base, buf + (i + 1) * 2 * each);
        void *p = ph_page_alloc(&h, ri.npages - (i == 0 ? 2 : 0));
        assert_ptr_equal(p, (char *)ri.base + (i == 0 ? 2 * ps : 0));
    }
    assert_null(ph_page_alloc(&h, 1));
    CHECK_OK(&h, "all allocated");
    lock_ok(&t, "too many regions");
    free(buf);
}

/* ---- ph_page_alloc ------------------------------------------------------------------ */

static void test_alloc_nothing(void **state)
{
    (void)state;
    rfix *f = &fx;
    ph_stats st;
    ph_get_stats(&f->h, &st);
    assert_true(st.pages_free > st.largest_free_run); /* fragmented, for the cases below */
    const size_t bad[] = { 0, st.largest_free_run + 1, st.pages_free, st.pages_free + 1,
                           st.pages_total, st.pages_total + 1, SIZE_MAX / f->ps + 1, SIZE_MAX / 2,
                           SIZE_MAX - 1, SIZE_MAX, (size_t)1 << 31, ((size_t)1 << 31) + 1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[96];
        snap s;
        memset(&s, 0, sizeof s);
        snprintf(what, sizeof what, "ph_page_alloc(%zu)", bad[i]);
        snap_take(&f->h, &f->port, &s);
        void *p = ph_page_alloc(&f->h, bad[i]);
        if (p != NULL)
            fail_msg("%s returned %p, expected NULL", what, p);
        snap_assert_same(&f->h, &f->port, &s, 0, what);
        if (f->port.faults != s.faults)
            fail_msg("%s: called the fault hook", what);
        snap_free(&s);
    }
    /* the largest run itself is still there */
    assert_non_null(ph_page_alloc(&f->h, st.largest_free_run));
    CHECK_OK(&f->h, "largest run");
}

/* ---- ph_page_free refusals ---------------------------------------------------------- */

static void test_free_bad_pointer(void **state)
{
    (void)state;
    rfix *f = &fx;
    const size_t ps = f->ps;
    ph_region_info *A = &f->ri[0], *B = &f->ri[1], *C = &f->ri[2];
    char *alim = (char *)A->base + A->npages * ps;
    char *blim = (char *)B->base + B->npages * ps;
    char *clim = (char *)C->base + C->npages * ps;
    int local = 0;
    char other[4096];

    assert_true(A->meta_bytes >= ps);
    struct {
        const char *name;
        const void *p;
        size_t n;
    } bad[] = {
        { "NULL", NULL, 1 },
        { "NULL, many pages", NULL, 1000 },
        { "run + 1 byte", f->run5 + 1, 1 },
        { "run + half a page", f->run5 + ps / 2, 1 },
        { "run + a page less one byte", f->run5 + ps - 1, 1 },
        { "last byte of a used page", f->one + ps - 1, 1 },
        { "used run + 8 bytes, whole run", f->runw + 8, W },
        { "region B run + 3", f->runb + 3, 2 },
        { "metadata base of A", A->meta_base, 1 },
        { "metadata base of B", B->meta_base, 1 },
        { "metadata base of C", C->meta_base, 1 },
        { "last metadata page of A", (char *)A->base - ps, 1 },
        { "last metadata page of A, two pages", (char *)A->base - ps, 2 },
        { "last metadata page of B", (char *)B->base - ps, 1 },
        { "raw start of A (unaligned, below metadata)", A->raw_base, 1 },
        { "first byte past A's pages", alim, 1 },
        { "A's unaligned tail", alim + 50, 1 },
        { "first byte past B's pages", blim, 1 },
        { "end of B's raw range", (char *)B->raw_base + B->raw_size, 1 },
        { "gap between B and C", (char *)B->raw_base + B->raw_size + 2 * ps, 1 },
        { "first byte past C's pages", clim, 1 },
        { "a page past C", clim + ps, 1 },
        { "far above every region", clim + 1000 * ps, 1 },
        { "below every region", (char *)A->raw_base - 2 * ps, 1 },
        { "start of the buffer", f->buf, 1 },
        { "a stack variable", &local, 1 },
        { "another array", other, 1 },
        { "top of the address space", (void *)(UINTPTR_MAX & ~(uintptr_t)(ps - 1)), 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[160];
        snprintf(what, sizeof what, "free(%s, %zu)", bad[i].name, bad[i].n);
        refused_free(f, bad[i].p, bad[i].n, PH_FAULT_BAD_POINTER, what);
    }
    ph_stats st;
    ph_get_stats(&f->h, &st);
    assert_int_equal(st.faults, sizeof bad / sizeof bad[0]);
    assert_int_equal(f->port.faults, sizeof bad / sizeof bad[0]);
}

static void test_free_past_region(void **state)
{
    (void)state;
    rfix *f = &fx;
    const size_t ps = f->ps;
    ph_region_info *A = &f->ri[0], *C = &f->ri[2];
    /* fill every region */
    while (ph_page_alloc(&f->h, 1))
        ;
    CHECK_OK(&f->h, "all allocated");
    char *alast = (char *)A->base + (A->npages - 1) * ps;
    char *clast = (char *)C->base + (C->npages - 1) * ps;
    struct {
        const char *name;
        const void *p;
        size_t n;
    } bad[] = {
        { "A's last page, 2 pages (into B, which touches A)", alast, 2 },
        { "A's last page, 100 pages", alast, 100 },
        { "A whole plus one", A->base, A->npages + 1 },
        { "A from page 1, npages of A", (char *)A->base + ps, A->npages },
        { "C's last page, 2 pages", clast, 2 },
        { "C whole plus one", C->base, C->npages + 1 },
        { "A's last page, SIZE_MAX pages", alast, SIZE_MAX },
        { "A's base, SIZE_MAX pages", A->base, SIZE_MAX },
        { "A's base, pages whose byte size wraps", A->base, SIZE_MAX / ps + 2 },
        { "C's base, 2^31 pages", C->base, (size_t)1 << 31 },
        { "C's base, 2^32 + 1 pages", C->base, ((size_t)1 << 32) + 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[160];
        snprintf(what, sizeof what, "free(%s)", bad[i].name);
        refused_free(f, bad[i].p, bad[i].n, PH_FAULT_BAD_POINTER, what);
    }
    /* the exact ranges are fine */
    ph_page_free(&f->h, alast, 1);
    ph_page_free(&f->h, C->base, C->npages);
    assert_int_equal(f->port.faults, sizeof bad / sizeof bad[0]);
    CHECK_OK(&f->h, "exact frees");
}

static void test_double_free(void **state)
{
    (void)state;
    rfix *f = &fx;
    const size_t ps = f->ps;
    ph_region_info *A = &f->ri[0];
    char *hole = f->run5 + 2 * ps; /* freed in set-up */

    /* a run freed whole, then again */
    char *x = (char *)ph_page_alloc(&f->h, 4);
    assert_non_null(x);
    ph_page_free(&f->h, x, 4);
    CHECK_OK(&f->h, "free x");
    refused_free(f, x, 4, PH_FAULT_DOUBLE_FREE, "x freed twice");
    refused_free(f, x + ps, 1, PH_FAULT_DOUBLE_FREE, "x's second page freed twice");

    /* partial overlap with a free page: the hole inside run5 */
    refused_free(f, f->run5, 5, PH_FAULT_DOUBLE_FREE, "run5 whole, page 2 already free");
    refused_free(f, f->run5 + ps, 2, PH_FAULT_DOUBLE_FREE, "run5 pages 1-2");
    refused_free(f, hole, 2, PH_FAULT_DOUBLE_FREE, "run5 pages 2-3");
    refused_free(f, hole, 1, PH_FAULT_DOUBLE_FREE, "the hole itself");
    refused_free(f, f->run5, 3, PH_FAULT_DOUBLE_FREE, "run5 pages 0-2");

    /* a range of used pages ending in a free one, across a chunk boundary:
     * runw ends at A:W+5, and A:W+6.. is free */
    char *after_w = f->runw + W * ps;
    refused_free(f, f->runw, W + 1, PH_FAULT_DOUBLE_FREE, "runw plus the free page after it");
    refused_free(f, f->runw + (W - 2) * ps, 3, PH_FAULT_DOUBLE_FREE, "runw tail + 1 free");
    refused_free(f, after_w, 1, PH_FAULT_DOUBLE_FREE, "a page never allocated");
    refused_free(f, after_w, W, PH_FAULT_DOUBLE_FREE, "a free run never allocated");
    refused_free(f, (char *)A->base + (A->npages - 1) * ps, 1, PH_FAULT_DOUBLE_FREE,
                 "A's last page, free");
    /* a range reaching free pages in region C, granule region */
    refused_free(f, f->ri[2].base, f->ri[2].npages, PH_FAULT_DOUBLE_FREE, "C whole, all free");

    /* the used pages around the refused ranges are still in use: freeing
     * them one at a time works */
    ph_page_free(&f->h, f->run5, 2);
    ph_page_free(&f->h, f->run5 + 3 * ps, 2);
    refused_free(f, f->run5 + 4 * ps, 1, PH_FAULT_DOUBLE_FREE, "run5 page 4 freed twice");
    ph_page_free(&f->h, f->runw, W);
    refused_free(f, f->runw + (W / 2) * ps, 1, PH_FAULT_DOUBLE_FREE, "runw middle freed twice");
    CHECK_OK(&f->h, "after");
    ph_stats st;
    ph_get_stats(&f->h, &st);
    assert_int_equal(st.faults, 15);
}

static void test_free_zero_pages(void **state)
{
    (void)state;
    rfix *f = &fx;
    const void *ps[] = { f->run5, f->run5 + 2 * f->ps /* free */, f->one, f->runb,
                         f->runb + 5 * f->ps, f->ri[2].base /* free */ };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        char what[96];
        snap s;
        memset(&s, 0, sizeof s);
        snprintf(what, sizeof what, "ph_page_free(%p, 0)", ps[i]);
        snap_take(&f->h, &f->port, &s);
        ph_page_free(&f->h, (void *)(uintptr_t)ps[i], 0);
        if (f->port.faults != s.faults)
            fail_msg("%s called the fault hook", what);
        snap_assert_same(&f->h, &f->port, &s, 0, what);
        snap_free(&s);
    }
}

/* ---- ports without hooks ---------------------------------------------------------------- */

static void test_null_port(void **state)
{
    (void)state;
    const size_t ps = 64;
    char *buf = (char *)xaligned(ps, 64 * ps);
    ph_port empty;
    memset(&empty, 0, sizeof empty);
    empty.ctx = &empty;
    const ph_port *ports[] = { NULL, &empty };
    for (size_t k = 0; k < 2; k++) {
        ph_heap h;
        ph_stats st;
        assert_int_equal(ph_init(&h, ps, ports[k]), PH_OK);
        assert_int_equal(ph_add_region(&h, buf, 64 * ps, 0), PH_OK);
        char *p = (char *)ph_page_alloc(&h, 3);
        assert_non_null(p);
        ph_page_free(&h, NULL, 1);
        ph_page_free(&h, p + 1, 1);
        ph_page_free(&h, p + 3 * ps, 1);
        ph_get_stats(&h, &st);
        assert_int_equal(st.faults, 3); /* faults only counted */
        ph_page_free(&h, p, 3);
        ph_get_stats(&h, &st);
        assert_int_equal(st.pages_free, st.pages_total);
        assert_int_equal(ph_check(&h), PH_OK);
    }
    free(buf);
}

/* ---- locking ------------------------------------------------------------------------------ */

/* expr must take the lock at least once (or, with may_skip, any number of
 * times including none), balanced, never nested. */
#define LOCKED_CALL(t, expr, may_skip)                                                  \
    do {                                                                                \
        size_t locks_before_ = (t)->locks;                                              \
        expr;                                                                           \
        if (!(may_skip) && (t)->locks == locks_before_)                                 \
            fail_msg("line %d: %s took no lock", __LINE__, #expr);                      \
        lock_ok((t), #expr);                                                            \
    } while (0)

static void test_locking(void **state)
{
    (void)state;
    const size_t ps = 128;
    char *buf = (char *)xaligned(ps, 256 * ps);
    tport t;
    ph_heap h;
    ph_stats st;
    ph_region_info ri;
    walk_log w = {0};
    char *p = NULL, *q = NULL;
    int rc = 0;

    tport_init(&t, true);
    assert_int_equal(ph_init(&h, ps, &t.port), PH_OK);
    assert_int_equal(t.locks, 0); /* ph_init takes no lock */
    assert_int_equal(t.unlocks, 0);

    LOCKED_CALL(&t, rc = ph_add_region(&h, buf + 128 * ps, 128 * ps, 0), false);
    assert_int_equal(rc, PH_OK);
    LOCKED_CALL(&t, rc = ph_add_region(&h, buf + 100 * ps, 29 * ps, 0), false); /* overlap */
    assert_int_equal(rc, PH_EOVERLAP);
    LOCKED_CALL(&t, rc = ph_add_region(&h, buf, 1, 0), false); /* too small */
    assert_int_equal(rc, PH_ENOMEM);
    LOCKED_CALL(&t, rc = ph_add_region(&h, buf, 64 * ps, 4 * ps), false);
    assert_int_equal(rc, PH_OK);
    LOCKED_CALL(&t, p = (char *)ph_page_alloc(&h, 1), false);
    assert_non_null(p);
    LOCKED_CALL(&t, q = (char *)ph_page_alloc(&h, W + 3), false);
    assert_non_null(q);
    LOCKED_CALL(&t, assert_null(ph_page_alloc(&h, 100000)), false);
    LOCKED_CALL(&t, assert_null(ph_page_alloc(&h, 0)), true);
    LOCKED_CALL(&t, ph_page_free(&h, q + ps, 2), false);
    LOCKED_CALL(&t, ph_page_free(&h, q + ps, 2), false); /* double free */
    LOCKED_CALL(&t, ph_page_free(&h, q + 1, 1), false);  /* bad pointer */
    LOCKED_CALL(&t, ph_page_free(&h, NULL, 1), false);
    LOCKED_CALL(&t, ph_page_free(&h, q, 0), true);
    assert_int_equal(t.faults, 3);
    LOCKED_CALL(&t, ph_get_stats(&h, &st), false);
    assert_int_equal(st.faults, 3);
    LOCKED_CALL(&t, rc = ph_check(&h), false);
    assert_int_equal(rc, PH_OK);
    LOCKED_CALL(&t, rc = ph_get_region(&h, 1, &ri), false);
    assert_int_equal(rc, PH_OK);
    LOCKED_CALL(&t, rc = ph_get_region(&h, 7, &ri), false);
    assert_int_equal(rc, PH_EINVAL);
    w.lock_owner = &t;
    LOCKED_CALL(&t, walk_take(&h, &w), false);
    assert_true(w.calls >= 4);
    if (w.unlocked_calls)
        fail_msg("ph_walk called its callback %zu times without the lock", w.unlocked_calls);
    walk_free(&w);
    LOCKED_CALL(&t, ph_page_free(&h, p, 1), false);
    assert_int_equal(t.nested, 0);
    /* ph_init again: still no lock */
    size_t locks = t.locks;
    assert_int_equal(ph_init(&h, ps, &t.port), PH_OK);
    assert_int_equal(t.locks, locks);
    lock_ok(&t, "end");
    free(buf);
}

/* The refusal fixture runs with the lock hooks too: every refusal test
 * above already checks balance; here the totals add up across the set-up. */
static void test_fixture_locking(void **state)
{
    (void)state;
    rfix *f = &fx;
    assert_true(f->port.locks > 0);
    lock_ok(&f->port, "fixture");
    assert_int_equal(f->port.faults, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_page_sizes),
        cmocka_unit_test(test_init_on_garbage),
        cmocka_unit_test(test_add_region_overlap),
        cmocka_unit_test(test_add_region_too_small),
        cmocka_unit_test(test_add_region_bad_granule),
        cmocka_unit_test(test_too_many_regions),
        cmocka_unit_test_setup_teardown(test_alloc_nothing, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_free_bad_pointer, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_free_past_region, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_double_free, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_free_zero_pages, fix_setup, fix_teardown),
        cmocka_unit_test(test_null_port),
        cmocka_unit_test(test_locking),
        cmocka_unit_test_setup_teardown(test_fixture_locking, fix_setup, fix_teardown),
    };
    return cmocka_run_group_tests_name("refusals", tests, NULL, NULL);
}
