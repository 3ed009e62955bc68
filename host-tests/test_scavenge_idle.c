/* SPDX-License-Identifier: MIT */
/*
 * test_scavenge_idle.c: ph_idle, the idle-time entry point, against what
 * pageheap.h documents:
 *
 *   goal     = recent peak of pages in use + headroom_pct % of it;
 *   powered  = usable pages not released;
 *   a call releases granules (highest address first) only while powered
 *   exceeds the goal, only granules that fit in the excess (never below the
 *   goal), and stops once budget_bytes were released (its last granule may
 *   pass the budget; 0 = no limit);
 *   the peak follows every allocation at once and decays only in ph_idle,
 *   by (peak - in use) >> decay_shift per call (decay_shift 0: no memory).
 *
 * Every call also goes through the harness (scav_harness.h: model, stats,
 * map, hook calls and the property checks of sh_idle), with the guard port.
 * The tests here pin exact figures: how many calls reach the goal, how many
 * bytes each call releases for a given budget, the peak after each call,
 * and the hysteresis example: a burst that frees and re-allocates the same
 * memory keeps it powered on the next idle call with the default policy
 * (no release, and no acquire when the burst comes back), and repeated
 * idle calls once the burst is gone release it in the end.
 */
#include "scav_harness.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define PS 4096u

/* The figures below (goals, call counts) are worked out for the default
 * policy of pageheap.h; a change of defaults must update them. */
static void expect_default_policy(void)
{
    assert_int_equal(PH_IDLE_BUDGET_BYTES, 4096);
    assert_int_equal(PH_IDLE_HEADROOM_PCT, 12);
    assert_int_equal(PH_IDLE_DECAY_SHIFT, 4);
}

/* One region of `pages` raw pages of 4 KiB with `granule`, guard port. */
static uintptr_t idle_heap(sh *s, arena *a, const char *name, size_t pages, size_t granule)
{
    uintptr_t base = arena_map(a, pages * PS, MiB);
    sh_init(s, name, 1, PS, SH_PROTECT);
    if (sh_add_region(s, base, pages * PS, granule) != PH_OK)
        SH_FAIL(s, "ph_add_region failed");
    return base;
}

/* Usable pages of the heap, and metadata pages of region 0 (the layout's
 * choice: the figures below are worked out from them). */
static size_t usable(sh *s)
{
    ph_stats st;
    ph_get_stats(&s->h, &st);
    return st.pages_total;
}

static size_t meta_pages(sh *s)
{
    return s->ri[0].meta_bytes / PS;
}

static size_t powered(sh *s)
{
    ph_stats st;
    ph_get_stats(&s->h, &st);
    return st.pages_total - st.pages_released;
}

static size_t peak(sh *s)
{
    ph_stats st;
    ph_get_stats(&s->h, &st);
    return st.peak_pages_used;
}

/* Allocates n pages in runs of at most 64 (kept live in the harness). */
static void use_pages(sh *s, size_t n)
{
    while (n > 0) {
        size_t k = n > 64 ? 64 : n;
        if (sh_alloc(s, k) == 0)
            SH_FAIL(s, "use_pages: no room for %zu pages", k);
        n -= k;
    }
}

/* Frees the last `runs` live runs. */
static void drop_runs(sh *s, size_t runs)
{
    while (runs-- > 0 && s->nlive > 0)
        sh_free(s, s->live[s->nlive - 1].addr, s->live[s->nlive - 1].n);
}

/* Default policy: one 4 KiB granule per call until powered == goal. */
static void test_default_policy_reaches_goal(void **state)
{
    arena a;
    sh s;
    (void)state;
    expect_default_policy();
    idle_heap(&s, &a, "default policy reaches the goal", 1024, PS); /* U usable */
    use_pages(&s, 100);                                             /* peak 100 */
    assert_int_equal(peak(&s), 100);
    /* goal = 100 + 12 = 112 pages: U - 112 calls of one granule (911 with
     * one metadata page) */
    const size_t calls = usable(&s) - 112;
    assert_true(calls > 900);
    for (size_t i = 0; i < calls; i++) {
        s.op = i;
        if (sh_idle(&s) != PS)
            SH_FAIL(&s, "idle call %zu did not release exactly one 4 KiB granule", i);
    }
    assert_int_equal(powered(&s), 112);
    assert_int_equal(sh_idle(&s), 0); /* at the goal: nothing */
    assert_int_equal(sh_idle(&s), 0);
    assert_int_equal(powered(&s), 112);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* Budgets: 0 = everything above the goal at once; a budget that is not a
 * multiple of the granule is passed by the last granule. */
static void test_budgets(void **state)
{
    arena a;
    sh s;
    (void)state;
    idle_heap(&s, &a, "budgets", 1024, PS);
    use_pages(&s, 200); /* goal with 12 %: 224 */
    sh_set_policy(&s, 10000, 12, 4);
    assert_int_equal(sh_idle(&s), 3 * PS); /* 8 KiB < 10000 <= 12 KiB */
    sh_set_policy(&s, 1, 12, 4);
    assert_int_equal(sh_idle(&s), PS); /* one granule passes a budget of one byte */
    sh_set_policy(&s, 0, 12, 4);
    assert_int_equal(sh_idle(&s), (usable(&s) - 224 - 4) * PS);
    assert_int_equal(powered(&s), 224);
    assert_int_equal(sh_idle(&s), 0);
    /* headroom 50 %: the goal rises to 300, nothing to release; back to 0 %:
     * everything free goes but the 200 pages in use (the peak has stayed). */
    sh_set_policy(&s, 0, 50, 4);
    assert_int_equal(sh_idle(&s), 0);
    sh_set_policy(&s, 0, 0, 4);
    assert_int_equal(sh_idle(&s), 24 * PS);
    assert_int_equal(powered(&s), 200);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* A releasable granule larger than the excess stays: never below the goal.
 * It goes once the peak has decayed far enough. */
static void test_never_below_goal(void **state)
{
    arena a;
    sh s;
    ph_stats st;
    (void)state;
    /* 64 KiB granules (16 pages); 4 MiB raw: M metadata pages in granule 0
     * (16 - M usable pages there; the figures in the comments are for M =
     * 1), granules 1..63 eligible */
    idle_heap(&s, &a, "never below the goal", 1024, 64 * KiB);
    const size_t m = meta_pages(&s);
    assert_true(m >= 1 && m <= 4);
    use_pages(&s, 1); /* peak 1 */
    sh_set_policy(&s, 0, 0, 4);
    assert_int_equal(sh_idle(&s), 63 * 64 * KiB); /* goal 1: all 63 granules fit */
    assert_int_equal(powered(&s), 16 - m);        /* granule 0's usable pages */
    /* 20 pages from the second page: granule 0's 14 free pages and 6 of
     * granule 1, which is acquired; then freed again: 1 page in use. */
    assert_int_equal(sh_alloc(&s, 20), (uintptr_t)s.ri[0].base + PS);
    drop_runs(&s, 1);
    assert_int_equal(powered(&s), 32 - m);
    /* decay_shift 2: the peak 21 falls by ceil((21 - 1) / 4) = 5 to 16: goal 16,
     * excess 15 pages: granule 1 is releasable but would take powered (31)
     * to 15 < 16. */
    sh_set_policy(&s, 0, 0, 2);
    assert_int_equal(sh_idle(&s), 0);
    assert_int_equal(peak(&s), 16);
    /* next call: 16 - ceil(15 / 4) = 12: goal 12, granule 1 fits (31 - 16 = 15) */
    assert_int_equal(sh_idle(&s), 64 * KiB);
    ph_get_stats(&s.h, &st);
    assert_int_equal(st.peak_pages_used, 12);
    assert_int_equal(powered(&s), 16 - m);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* The peak: follows allocations at once, never frees; decays per idle call
 * by ceil((peak - used) / 2^shift). */
static void test_peak_decay(void **state)
{
    arena a;
    sh s;
    static const size_t after_idle[] = { 381, 363, 346, 330, 315, 301, 288, 276, 265, 254 };
    (void)state;
    idle_heap(&s, &a, "peak decay", 1024, PS);
    use_pages(&s, 100);
    assert_int_equal(peak(&s), 100);
    use_pages(&s, 300);
    assert_int_equal(peak(&s), 400);
    drop_runs(&s, 5); /* 300 pages: 64 * 4 + 44 */
    assert_int_equal(peak(&s), 400); /* a free leaves the peak */
    sh_set_policy(&s, PS, 12, 4);
    for (size_t i = 0; i < 10; i++) {
        s.op = i;
        sh_idle(&s);
        if (peak(&s) != after_idle[i])
            SH_FAIL(&s, "peak after idle call %zu is %zu, expected %zu", i, peak(&s),
                    after_idle[i]);
    }
    /* The decrement rounds up, so the peak reaches the pages in use. */
    for (size_t i = 0; i < 200; i++)
        sh_idle(&s);
    assert_int_equal(peak(&s), 100);
    sh_set_policy(&s, PS, 12, 0); /* no memory: the peak is the pages in use */
    sh_idle(&s);
    assert_int_equal(peak(&s), 100);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* The hysteresis example of the header. */
static void test_hysteresis(void **state)
{
    arena a;
    sh s;
    ph_stats st;
    size_t calls, acq;
    (void)state;
    expect_default_policy();
    idle_heap(&s, &a, "hysteresis", 1024, PS);
    use_pages(&s, 100);
    /* Settle: idle until nothing more goes (powered = goal = 112). */
    for (calls = 0; sh_idle(&s) != 0; calls++)
        s.op = calls;
    assert_int_equal(powered(&s), 112);

    /* A burst: 400 more pages (acquired), then freed. */
    use_pages(&s, 400);
    ph_get_stats(&s.h, &st);
    acq = st.acquire_calls;
    assert_true(acq >= 400 - 12); /* the burst needed released granules back */
    drop_runs(&s, 7);             /* 400 = 6 * 64 + 16 */
    assert_int_equal(sh_idle(&s), 0); /* the next idle call keeps it powered */

    /* The burst comes back a few times, with idle calls between: the memory
     * stays powered, so no acquire and no release. */
    for (int cycle = 0; cycle < 5; cycle++) {
        use_pages(&s, 400);
        drop_runs(&s, 7);
        for (int i = 0; i < 2; i++) /* peak 500 -> 475 -> 451: goal 532, 505 */
            assert_int_equal(sh_idle(&s), 0);
    }
    ph_get_stats(&s.h, &st);
    assert_int_equal(st.acquire_calls, acq);

    /* The burst is gone: repeated idle calls release it in the end, one
     * granule (the default budget) per call once the peak has decayed.  The
     * peak settles at the 100 pages in use (see test_peak_decay): goal 112. */
    size_t quiet = 0, first = 0;
    for (calls = 0; calls < 3000 && quiet < 50; calls++) {
        s.op = calls;
        if (sh_idle(&s) != 0) {
            quiet = 0;
            if (first == 0)
                first = calls + 1;
        } else {
            quiet++;
        }
    }
    assert_int_equal(powered(&s), 112);
    /* The last cycle's two idle calls kept it (peak 500 -> 475 -> 451, goal
     * 532, 505); the third call since the burst was freed (peak 429, goal
     * 480 < 500 powered) is the first to release. */
    assert_int_equal(first, 1);
    print_message("[ idle     ] burst of 400 pages: first release on idle call %zu, "
                  "down to the goal after %zu calls\n", first, calls - quiet);

    /* Without memory (decay_shift 0) the same burst is released on the very
     * next idle call: the hysteresis is the decay, and it can be turned off. */
    use_pages(&s, 400);
    drop_runs(&s, 7);
    sh_set_policy(&s, 0, 12, 0);
    assert_true(sh_idle(&s) >= 300 * PS);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* Regions of different granules: highest address first, with the budget
 * and the excess applied across regions. */
static void test_across_regions(void **state)
{
    arena a;
    sh s;
    uintptr_t base = arena_map(&a, 8 * MiB, MiB);
    (void)state;
    sh_init(&s, "idle across regions", 1, PS, SH_SCRUB);
    sh_add_region(&s, base, MiB, 4 * KiB);               /* low: 255 granules of 4 KiB  */
    sh_add_region(&s, base + 4 * MiB, MiB, 64 * KiB);   /* high: 15 granules of 64 KiB */
    use_pages(&s, 10);                                   /* goal 10 + 1 = 11 pages      */
    sh_set_policy(&s, 100 * KiB, 12, 4);
    /* highest first: the high region's granules, two per call (64 K < 100 K) */
    for (int i = 0; i < 7; i++)
        assert_int_equal(sh_idle(&s), 128 * KiB);
    assert_int_equal(sh_idle(&s), 64 * KiB + 36 * KiB); /* its last one, then 9 low ones */
    sh_set_policy(&s, 0, 12, 4);
    /* the rest of the low region: 255 granules - 10 in use - 9 released; the
     * high region's granule 0 (metadata) keeps its 15 usable pages */
    assert_int_equal(sh_idle(&s), 236 * PS);
    assert_int_equal(powered(&s), 10 + 15);
    sh_destroy(&s);
    arena_unmap(&a);
}

/* A high region whose granules do not fit in the excess must not hide the
 * smaller granules of a lower region that do: the header promises that
 * ph_idle releases while powered exceeds the goal, "only granules that fit
 * in that excess".  Here the high region has nothing free at all. */
static void test_small_granules_below_big_ones(void **state)
{
    arena a;
    sh s;
    uintptr_t base = arena_map(&a, 8 * MiB, MiB);
    (void)state;
    sh_init(&s, "small granules below big ones", 1, PS, SH_PROTECT);
    sh_add_region(&s, base, 256 * KiB, 4 * KiB);       /* low: 63 pages, granules of 4 KiB */
    sh_add_region(&s, base + 4 * MiB, MiB, 64 * KiB); /* high: 255 pages, 64 KiB         */
    assert_int_equal(sh_alloc(&s, 63), base + 4 * KiB);             /* the low region  */
    assert_int_equal(sh_alloc(&s, 255), base + 4 * MiB + 4 * KiB); /* the high region */
    sh_free(&s, base + 4 * KiB + 55 * PS, 8); /* the low region's top 8 granules */
    sh_set_policy(&s, 0, 0, 0);             /* goal = pages in use = 310   */
    /* powered 318, goal 310: 8 pages of excess, exactly the 8 free 4 KiB
     * granules of the low region. */
    assert_int_equal(sh_idle(&s), 8 * 4 * KiB);
    sh_destroy(&s);
    arena_unmap(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy_reaches_goal),
        cmocka_unit_test(test_budgets),
        cmocka_unit_test(test_never_below_goal),
        cmocka_unit_test(test_peak_decay),
        cmocka_unit_test(test_hysteresis),
        cmocka_unit_test(test_across_regions),
        cmocka_unit_test(test_small_granules_below_big_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
