/* SPDX-License-Identifier: MIT */
/*
 * suite_irq.c: the lock hooks under real interrupts.
 *
 * A periodic timer interrupt (board_timer_start) allocates and frees while
 * the main loop does the same, on one heap:
 *
 *   phase 1, the default heap: both sides call the C library's malloc,
 *            calloc, realloc and free (port/newlib; the board's port masks
 *            interrupts in lock/unlock, under the simulated gate);
 *   phase 2, a heap of the suite's own in the arena, with ph_malloc and
 *            ph_free on both sides, whose port masks interrupts too and
 *            records whether the interrupt handler ever found the lock
 *            held (it must not: while the main loop holds it, interrupts
 *            are masked) and whether lock calls ever nested.
 *
 * Each side keeps its own objects, each filled with a pattern that is
 * verified before it is freed or reallocated (a corruption from a
 * concurrent update shows up here).  The main loop runs until the handler
 * has done at least SUITE_IRQ_MIN_OPS heap operations, then stops the
 * timer, frees everything and checks: no pattern broken on either side,
 * ph_check PH_OK, every page back (the default heap returns to the pages
 * it held before the group), the lock balanced.  The handler counts how
 * often it interrupted the main loop in the middle of a heap call (outside
 * the lock: the wrappers, calloc's zeroing, realloc's copy), which shows
 * that the two really interleave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define ISR_SLOTS 8
#define MAIN_SLOTS 24
#define ISR_MAX_BYTES 200u

typedef struct slot {
    char *p;
    size_t n;
    uint32_t id;
} slot;


/* ---- shared with the handler (volatile: written on both sides) ---------- */

static volatile int phase;              /* the heap in use: 1 default, 2 own   */
static volatile int isr_active;         /* the handler works on the heap       */
static volatile unsigned long isr_ticks, isr_ops, isr_null, isr_bad, isr_lock_held;
static volatile unsigned long isr_in_main_call; /* ticks that hit a main heap call */
static volatile const void *isr_bad_at;
static volatile int main_in_call;
static slot *isr_slot; /* ISR_SLOTS, from the scratch area */
static suite_rng isr_rng;
static uint32_t isr_id;

static void *isr_alloc(size_t n)
{
    return phase == 1 ? malloc(n) : ph_malloc(&suite_heap, n);
}

static void isr_release(void *p)
{
    if (phase == 1)
        free(p);
    else
        ph_free(&suite_heap, p);
}

/* One heap operation on the handler's own objects. */
static void isr_op(void)
{
    slot *s = &isr_slot[rng_below(&isr_rng, ISR_SLOTS)];
    if (s->p != NULL) {
        if (pat_find_bad(s->p, s->n, s->id) != SIZE_MAX) {
            isr_bad++;
            isr_bad_at = s->p;
        }
        isr_release(s->p);
        s->p = NULL;
    } else {
        size_t n = 1 + rng_below(&isr_rng, ISR_MAX_BYTES);
        char *p = (char *)isr_alloc(n);
        if (p == NULL) {
            isr_null++;
        } else {
            s->p = p;
            s->n = n;
            s->id = ++isr_id;
            pat_fill(p, n, s->id);
        }
    }
    isr_ops++;
}

static void isr_tick(void)
{
    isr_ticks++;
    if (!isr_active)
        return;
    if (main_in_call)
        isr_in_main_call++;
    if (phase == 2 && (suite_port.held || suite_port.locks != suite_port.unlocks))
        isr_lock_held++; /* the main loop holds the lock, yet we run */
    isr_op();
    isr_op();
}

/* ---- the main loop's side ------------------------------------------------ */

static slot *main_slot; /* MAIN_SLOTS, from the scratch area */

typedef struct mstats {
    unsigned long ops, null_;
} mstats;

static void main_op(suite_rng *r, size_t cap, mstats *m)
{
    slot *s = &main_slot[rng_below(r, MAIN_SLOTS)];
    uint32_t k = rng_below(r, 100);
    if (s->p != NULL) {
        PAT_CHECK(s->p, s->n, s->id);
        if (k < 25) {
            size_t n = 1 + rng_below(r, (uint32_t)cap);
            main_in_call = 1;
            char *q = (char *)(phase == 1 ? realloc(s->p, n) : ph_realloc(&suite_heap, s->p, n));
            main_in_call = 0;
            if (q == NULL) {
                m->null_++;
                PAT_CHECK(s->p, s->n, s->id);
            } else {
                PAT_CHECK(q, n < s->n ? n : s->n, s->id);
                s->p = q;
                s->n = n;
                pat_fill(q, n, s->id);
            }
        } else {
            main_in_call = 1;
            if (phase == 1)
                free(s->p);
            else
                ph_free(&suite_heap, s->p);
            main_in_call = 0;
            s->p = NULL;
        }
    } else {
        size_t n = 1 + rng_below(r, (uint32_t)cap);
        bool zero = k < 30;
        main_in_call = 1;
        char *p;
        if (phase == 1)
            p = (char *)(zero ? calloc(1, n) : malloc(n));
        else
            p = (char *)(zero ? ph_calloc(&suite_heap, 1, n) : ph_malloc(&suite_heap, n));
        main_in_call = 0;
        if (p == NULL) {
            m->null_++;
        } else {
            if (zero)
                SUITE_CHECKF(find_nonzero(p, n) == SIZE_MAX, "calloc(%lu) = %p is not zero",
                             (unsigned long)n, (void *)p);
            s->p = p;
            s->n = n;
            s->id = rng_next(r) | 0x80000000u; /* apart from the handler's ids */
            pat_fill(p, n, s->id);
        }
    }
    m->ops++;
}

static void main_free_all(void)
{
    for (size_t i = 0; i < MAIN_SLOTS; i++) {
        slot *s = &main_slot[i];
        if (s->p == NULL)
            continue;
        PAT_CHECK(s->p, s->n, s->id);
        if (phase == 1)
            free(s->p);
        else
            ph_free(&suite_heap, s->p);
        s->p = NULL;
    }
}

static void isr_free_all(void)
{
    for (size_t i = 0; i < ISR_SLOTS; i++) {
        slot *s = &isr_slot[i];
        if (s->p == NULL)
            continue;
        PAT_CHECK(s->p, s->n, s->id);
        isr_release(s->p);
        s->p = NULL;
    }
}

/* Runs one phase: returns the main loop's operation count. */
static unsigned long run_phase(int which, size_t cap, uint32_t period, mstats *m)
{
    suite_rng r;
    rng_seed(&r, SUITE_SEED ^ (0x1A0u + (uint32_t)which));
    rng_seed(&isr_rng, SUITE_SEED ^ (0x15Au + (uint32_t)which));
    memset(isr_slot, 0, ISR_SLOTS * sizeof *isr_slot);
    memset(main_slot, 0, MAIN_SLOTS * sizeof *main_slot);
    memset(m, 0, sizeof *m);
    isr_ops = isr_null = isr_bad = isr_lock_held = isr_in_main_call = 0;
    isr_bad_at = NULL;
    main_in_call = 0;
    phase = which;
    isr_active = 1;
    unsigned long ticks0 = isr_ticks;
    const unsigned long max_ops = 4000000ul; /* the timer must have fired long before */
    while (isr_ops < SUITE_IRQ_MIN_OPS && m->ops < max_ops)
        main_op(&r, cap, m);
    /* and as many main operations again, with the handler going on */
    unsigned long more = m->ops;
    for (unsigned long i = 0; i < more && i < 20000ul; i++)
        main_op(&r, cap, m);
    isr_active = 0; /* the handler leaves its objects alone from here on */
    SUITE_CHECKF(isr_ops >= SUITE_IRQ_MIN_OPS,
                 "phase %d: the timer interrupt did %lu heap operations in %lu ticks (period %lu) "
                 "while the main loop did %lu",
                 which, isr_ops, isr_ticks - ticks0, (unsigned long)period, m->ops);
    SUITE_CHECKF(isr_bad == 0, "phase %d: %lu objects of the interrupt handler were overwritten, "
                               "the first at %p",
                 which, isr_bad, (const void *)isr_bad_at);
    main_free_all();
    isr_free_all();
    return m->ops;
}

void group_irq(void)
{
    suite_group_begin("irq");
    isr_slot = (slot *)suite_scratch(ISR_SLOTS * sizeof *isr_slot);
    main_slot = (slot *)suite_scratch(MAIN_SLOTS * sizeof *main_slot);
    ph_heap *dh = ph_newlib_heap();
    SUITE_CHECK(dh != NULL);
    ph_stats st;
    ph_get_stats(dh, &st);
    const size_t used0 = suite_pages_held(&st);

    /* about one interrupt per SUITE_IRQ_PERIOD_INSNS instructions */
    uint32_t ipt = board_counter_insns_per_tick();
    uint32_t period = ipt != 0 ? SUITE_IRQ_PERIOD_INSNS / ipt : 500u;
    if (period < 50u)
        period = 50u;
    isr_active = 0;
    int rc = board_timer_start(period, isr_tick);
    SUITE_CHECKF(rc == 0, "board_timer_start(%lu) = %d: this board has no timer",
                 (unsigned long)period, rc);

    /* phase 1: the default heap, C library names on both sides */
    mstats m1, m2;
    size_t cap1 = st.largest_free_run * st.page_size / 64;
    if (cap1 > 1024)
        cap1 = 1024;
    if (cap1 < 32)
        cap1 = 32;
    run_phase(1, cap1, period, &m1);
    const unsigned long isr1 = isr_ops, hit1 = isr_in_main_call, null1 = isr_null;
    SUITE_HEAP_OK(dh);
    /* nothing leaked: the phase's runs may have merged into the arena that
     * holds stdio's buffers (arenas that meet merge), whose free pages only
     * ph_scavenge gives back (ph_free never trims); after it at most the
     * pages held before are */
    ph_get_stats(dh, &st);
    SUITE_CHECK(suite_pages_held(&st) >= used0);
    SUITE_EQ(ph_scavenge(dh, 0), 0);
    ph_get_stats(dh, &st);
    SUITE_CHECKF(suite_pages_held(&st) <= used0, "%lu pages held after phase 1 and ph_scavenge, "
                 "%lu before", (unsigned long)suite_pages_held(&st), (unsigned long)used0);
    SUITE_HEAP_OK(dh);

    /* phase 2: a heap of the suite's own, its lock masks interrupts */
    size_t bytes = suite_arena_open(64u * 1024u);
    SUITE_CHECKF(bytes >= 2048u, "an arena of %lu bytes is too small", (unsigned long)bytes);
    sport_init(&suite_port, 0, true);
    SUITE_EQ(ph_init(&suite_heap, 64, &suite_port.port), PH_OK);
    SUITE_EQ(ph_add_region(&suite_heap, suite_arena, bytes / 2 + 100, 0), PH_OK);
    SUITE_EQ(ph_add_region(&suite_heap, suite_arena + bytes / 2 + 300, bytes / 2 - 300, 0), PH_OK);
    run_phase(2, bytes / 32 > 512 ? 512 : bytes / 32, period, &m2);
    board_timer_stop();
    const unsigned long isr2 = isr_ops, hit2 = isr_in_main_call, null2 = isr_null;
    SUITE_CHECKF(isr_lock_held == 0, "the interrupt handler found the heap's lock held %lu times",
                 isr_lock_held);
    SPORT_QUIET(&suite_port);
    SUITE_EQ(suite_port.faults, 0);
    SUITE_HEAP_OK(&suite_heap);
    SUITE_EQ(ph_scavenge(&suite_heap, 0), 0); /* the empty-arena cache back */
    ph_get_stats(&suite_heap, &st);
    SUITE_EQ(st.pages_free, st.pages_total);
    suite_arena_close();
    SUITE_HEAP_OK(dh);
    suite_group_end("default heap: %lu main + %lu interrupt ops (%lu NULL), %lu hit a main heap call; "
                    "own heap: %lu main + %lu interrupt ops (%lu NULL), %lu hit a main heap call, "
                    "%lu locks",
                    m1.ops, isr1, m1.null_ + null1, hit1, m2.ops, isr2, m2.null_ + null2, hit2,
                    suite_port.locks);
}
