/* SPDX-License-Identifier: MIT */
/*
 * suite_scavenge.c: a scavenge-and-reacquire cycle of the default heap
 * under the board's simulated power gate (port/simgate, board_simgate()).
 *
 *   1. allocate much of the default heap (blocks with a tag at both ends),
 *      then free it all: the granules were in use and are free again;
 *   2. ph_scavenge(h, SIZE_MAX) releases every free granule: the heap's
 *      counters and the gate's agree (release calls, bytes, granules now
 *      released), ph_walk shows released runs and the gate has each of them
 *      recorded; where the gate protects released memory (the MPU of
 *      Cortex-M3..M55, virt's MMU) a deliberate read of a released
 *      granule (announced with ph_simgate_expect_fault) traps and is
 *      skipped by the board's fault handler, elsewhere (microbit) the
 *      released memory holds the gate's poison;
 *   3. allocate again, with calloc: the gate sees acquire calls, the heap's
 *      acquire counters move with it, no block lies in released memory, and
 *      every calloc block reads zero although re-acquired memory comes back
 *      poisoned;
 *   4. free it all: ph_check PH_OK, the default heap holds the pages it held
 *      before the group, the gate counts no violation.
 * ph_idle then releases (paced) what the burst left powered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ph_simgate.h"
#include "suite.h"

#define SC_BLOCKS 16

static char **blk;     /* SC_BLOCKS each, from the scratch area */
static size_t *blk_n;

static void tag(char *p, size_t n, uint32_t t)
{
    memcpy(p, &t, sizeof t);
    t = ~t;
    memcpy(p + n - sizeof t, &t, sizeof t);
}

static bool tag_ok(const char *p, size_t n, uint32_t t)
{
    uint32_t a, b;
    memcpy(&a, p, sizeof a);
    memcpy(&b, p + n - sizeof b, sizeof b);
    return a == t && b == ~t;
}

typedef struct rel_walk {
    const void *highest;  /* base of the highest released run     */
    size_t runs, pages, unrecorded;
    size_t longest_free;  /* longest run of free, retained pages  */
    size_t longest_rel;   /* longest run of released pages        */
    const struct ph_simgate *g;
    size_t ps;
} rel_walk;

static void rel_walk_fn(void *ctx, const void *base, size_t npages, int state)
{
    rel_walk *w = (rel_walk *)ctx;
    if (state == PH_PAGES_FREE && npages > w->longest_free)
        w->longest_free = npages;
    if (state != PH_PAGES_RELEASED)
        return;
    w->runs++;
    w->pages += npages;
    w->highest = base;
    if (npages > w->longest_rel)
        w->longest_rel = npages;
    for (size_t i = 0; i < npages; i++)
        if (!ph_simgate_is_released(w->g, (const char *)base + i * w->ps))
            w->unrecorded++;
}

/* calloc(1, n): zero and not in released memory, then tagged; NULL when
 * out of memory. */
static char *zcalloc_at(struct ph_simgate *g, size_t n, uint32_t t, int line)
{
    char *p = (char *)calloc(1, n);
    if (p == NULL)
        return NULL;
    suite_checks++;
    if (ph_simgate_is_released(g, p) || ph_simgate_is_released(g, p + n - 1))
        suite_fail(__FILE__, line, "calloc(%lu) = %p lies in released memory", (unsigned long)n,
                   (void *)p);
    size_t bad = find_nonzero(p, n);
    suite_checks++;
    if (bad != SIZE_MAX)
        suite_fail(__FILE__, line, "calloc(%lu) = %p is not zero at +%lu (%#x)", (unsigned long)n,
                   (void *)p, (unsigned long)bad, (unsigned)(uint8_t)p[bad]);
    tag(p, n, t);
    return p;
}
#define ZCALLOC(g, n, t) zcalloc_at((g), (n), (t), __LINE__)

void group_scavenge(void)
{
    suite_group_begin("scavenge");
    blk = (char **)suite_scratch(SC_BLOCKS * sizeof *blk);
    blk_n = (size_t *)suite_scratch(SC_BLOCKS * sizeof *blk_n);
    struct ph_simgate *g = board_simgate();
    ph_heap *dh = ph_newlib_heap();
    SUITE_CHECKF(g != NULL, "board_simgate() is NULL on a QEMU board");
    SUITE_CHECK(dh != NULL);
    ph_stats st0, st;
    ph_get_stats(dh, &st0);
    const size_t ps = st0.page_size;
    const size_t used0 = suite_pages_held(&st0);

    /* the default heap's regions that have a granule */
    size_t gated_pages = 0, largest_granule = 0;
    ph_region_info ri;
    for (size_t i = 0; ph_get_region(dh, i, &ri) == PH_OK; i++) {
        if (ri.granule == 0)
            continue;
        gated_pages += ri.npages;
        if (ri.granule > largest_granule)
            largest_granule = ri.granule;
    }
    SUITE_CHECKF(gated_pages != 0, "no region of the default heap has a granule");
    SUITE_EQ(ph_simgate_violations(g), 0);

    /* 1. allocate much of the heap, then free it */
    size_t free_bytes = st0.pages_free * ps;
    size_t bsz = free_bytes / (4 * SC_BLOCKS);
    if (bsz < 2 * largest_granule)
        bsz = 2 * largest_granule;
    if (bsz > free_bytes / 4)
        bsz = free_bytes / 4;
    size_t n = 0, got = 0;
    for (; n < SC_BLOCKS; n++) {
        blk_n[n] = bsz;
        blk[n] = (char *)malloc(bsz);
        if (blk[n] == NULL)
            break;
        tag(blk[n], bsz, (uint32_t)n * 0x9E3779B9u);
        got += bsz;
    }
    SUITE_CHECKF(n >= 2, "the default heap gave only %lu blocks of %lu bytes", (unsigned long)n,
                 (unsigned long)bsz);
    for (size_t i = 0; i < n; i++) {
        SUITE_CHECK(tag_ok(blk[i], blk_n[i], (uint32_t)i * 0x9E3779B9u));
        free(blk[i]);
        blk[i] = NULL;
    }
    SUITE_HEAP_OK(dh);

    /* 2. release every free granule */
    const unsigned long g_rel0 = g->releases, g_acq0 = g->acquires;
    const uint64_t g_bytes0 = g->bytes_released;
    ph_get_stats(dh, &st0);
    size_t released = ph_scavenge(dh, SIZE_MAX);
    ph_get_stats(dh, &st);
    SUITE_CHECKF(released > 0, "ph_scavenge(SIZE_MAX) released nothing (%lu pages free)",
                 (unsigned long)st.pages_free);
    SUITE_CHECK(g->releases > g_rel0);
    SUITE_EQ(g->bytes_released - g_bytes0, released);
    SUITE_EQ(st.release_calls - st0.release_calls, g->releases - g_rel0);
    SUITE_EQ(st.bytes_released - st0.bytes_released, released);
    SUITE_EQ(st.granules_released, g->granules_released);
    SUITE_CHECK(st.pages_released * ps >= released && st.pages_released > 0);
    SUITE_EQ(ph_scavenge(dh, SIZE_MAX), 0); /* nothing left to release */
    SUITE_HEAP_OK(dh);
    rel_walk w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.ps = ps;
    ph_walk(dh, rel_walk_fn, &w);
    SUITE_CHECK(w.runs > 0 && w.highest != NULL);
    SUITE_EQ(w.pages, st.pages_released);
    SUITE_EQ(w.unrecorded, 0);
    SUITE_EQ(ph_simgate_is_released(g, w.highest), 1);
    const char *probe = (const char *)w.highest;
    const char *mode;
    /* Released memory traps where the gate protects it: the MPU (the
     * highest released runs first, all of them while regions last), or
     * the board's protect hook (virt: unmapped in the MMU tables). */
    bool traps = g->protect != NULL ||
                 (PH_SIMGATE_HAVE_MPU && g->mpu_regions != 0 && g->mpu_unprotected_granules == 0);
    if (traps) {
        /* a touch traps; the board's handler skips the load because we
         * announced it */
        unsigned long f0 = g->mpu_faults, e0 = g->mpu_expected_faults;
        ph_simgate_expect_fault(g, 1);
        (void)*(const volatile uint32_t *)(const void *)probe;
        SUITE_EQ(g->mpu_faults, f0 + 1);
        SUITE_EQ(g->mpu_expected_faults, e0 + 1);
        SUITE_EQ(g->expect_faults, 0);
        mode = g->protect != NULL ? "a read traps (board protection)" : "a read traps (MPU)";
    } else if (PH_SIMGATE_HAVE_MPU) {
        mode = "MPU out of regions: not probed";
    } else {
        /* nothing traps: released memory holds the poison */
        uint32_t v;
        memcpy(&v, probe, sizeof v);
        SUITE_EQ(v, PH_SIMGATE_POISON);
        memcpy(&v, probe + ps - sizeof v, sizeof v);
        SUITE_EQ(v, PH_SIMGATE_POISON);
        mode = "poisoned";
    }
    SUITE_EQ(ph_simgate_violations(g), 0);

    /* 3. allocate again with calloc: a run longer than any retained free
     * run must take released pages (first fit cannot place it elsewhere),
     * so it is acquired; then a few small ones */
    ph_get_stats(dh, &st0);
    const uint64_t g_bacq0 = g->bytes_acquired;
    size_t want = (w.longest_free + 1) * ps;
    if (want <= PH_SMALL_MAX)
        want = PH_SMALL_MAX + 1; /* a page run, not an arena's chunk */
    SUITE_CHECKF(want <= st0.largest_free_run * ps,
                 "no released run longer than the retained ones (%lu pages retained, largest %lu)",
                 (unsigned long)w.longest_free, (unsigned long)st0.largest_free_run);
    size_t zeroed = 0;
    n = 0;
    blk_n[n] = want;
    blk[n] = ZCALLOC(g, want, 0x51u);
    SUITE_CHECKF(blk[n] != NULL, "calloc(%lu) = NULL", (unsigned long)want);
    SUITE_CHECKF(g->acquires > g_acq0, "calloc(%lu) acquired nothing", (unsigned long)want);
    zeroed += want;
    n++;
    for (; n < SC_BLOCKS; n++) { /* small ones until the heap is full (microbit) */
        blk_n[n] = 8 + 97 * n;
        blk[n] = ZCALLOC(g, blk_n[n], (uint32_t)n * 0x85EBCA6Bu);
        if (blk[n] == NULL)
            break;
        zeroed += blk_n[n];
    }
    SUITE_CHECK(n >= 2);
    ph_get_stats(dh, &st);
    SUITE_EQ(st.acquire_calls - st0.acquire_calls, g->acquires - g_acq0);
    SUITE_EQ(st.bytes_acquired - st0.bytes_acquired, g->bytes_acquired - g_bacq0);
    SUITE_EQ(st.granules_released, g->granules_released);
    SUITE_HEAP_OK(dh);
    const unsigned long acquires = g->acquires - g_acq0;
    SUITE_CHECK(tag_ok(blk[0], blk_n[0], 0x51u));
    free(blk[0]);
    for (size_t i = 1; i < n; i++) {
        SUITE_CHECK(tag_ok(blk[i], blk_n[i], (uint32_t)i * 0x85EBCA6Bu));
        free(blk[i]);
        blk[i] = NULL;
    }

    /* 4. back where it was, no violation; ph_idle releases what is left.
     * The small ones' runs may have merged into the arena that holds
     * stdio's buffers (arenas that meet merge): free gives back no page of
     * it, ph_idle gives back its free pages, so that at most the pages
     * held before are held after it */
    ph_get_stats(dh, &st);
    SUITE_CHECKF(suite_pages_held(&st) >= used0, "%lu pages held, %lu before",
                 (unsigned long)suite_pages_held(&st), (unsigned long)used0);
    size_t idle_released = 0;
    for (int i = 0; i < 200; i++)
        idle_released += ph_idle(dh);
    ph_get_stats(dh, &st);
    SUITE_CHECKF(suite_pages_held(&st) <= used0, "%lu pages held after ph_idle, %lu before",
                 (unsigned long)suite_pages_held(&st), (unsigned long)used0);
    SUITE_EQ(st.granules_released, g->granules_released);
    SUITE_HEAP_OK(dh);
    SUITE_EQ(ph_simgate_violations(g), 0);
    SUITE_EQ(g->poison_violations, 0);
    SUITE_EQ(g->bad_releases + g->bad_acquires, 0);
    suite_group_end("%lu bytes taken and freed; released %lu bytes in %lu runs (%s), calloc of "
                    "%lu bytes: %lu acquires, %lu bytes zeroed; ph_idle released %lu more",
                    (unsigned long)got, (unsigned long)released, (unsigned long)w.runs, mode,
                    (unsigned long)want, acquires, (unsigned long)zeroed,
                    (unsigned long)idle_released);
}
