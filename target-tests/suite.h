/* SPDX-License-Identifier: MIT */
/*
 * suite.h: what the on-target suite's groups share.
 *
 *   checks     SUITE_CHECK(cond) and friends count every check of the
 *              running group; the first one that fails prints
 *              "suite: FAIL <file>:<line>: <what>" and ends the run through
 *              board_exit(1).  Code that runs in an interrupt handler or in
 *              a heap hook must not print: it counts in volatile
 *              variables that the main loop checks.
 *   rng        a 32-bit xorshift generator (no 64-bit arithmetic, so the
 *              Cortex-M0 build pays nothing for it); fixed seeds, printed.
 *   sport      the port of the suite's own heaps: counts faults (code and
 *              address of the last), checks that lock and unlock balance
 *              and never nest, and simulates a power gate of its own on the
 *              arena: release poisons the range and remembers it, acquire
 *              checks that the poison is intact (the heap wrote nothing
 *              there while it was released) and that the range was
 *              released.  Optionally masks interrupts in lock/unlock
 *              (for the heap that the interrupt test shares).
 *   snapshot   statistics plus a digest of the ph_walk map, to prove a
 *              refused call changed nothing.
 *   pattern    fill-and-verify of objects, derived from an id.
 *   arena      the memory every core group builds its heaps in, one
 *              after the other, on one ph_heap object (suite_heap): a
 *              static buffer in .bss sized per board (SUITE_ARENA_BYTES),
 *              or on microbit a page run borrowed from the default heap.
 *   scratch    one static area for the running group's tables.
 *
 * The suite never relies on the default heap (newlib's malloc) for its own
 * bookkeeping: every table it keeps is static.
 */
#ifndef PH_SUITE_H
#define PH_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "pageheap.h"

/* ---- build-time sizing (target-tests/CMakeLists.txt sets them per board) - */

/* Bytes of the static arena the suite's own heaps live in. */
#ifndef SUITE_ARENA_BYTES
#define SUITE_ARENA_BYTES (64u * 1024u)
#endif
/* Operation counts of the randomised groups, in percent of the defaults. */
#ifndef SUITE_SCALE_PCT
#define SUITE_SCALE_PCT 100u
#endif
/* Seed of every randomised group (each derives its own from it). */
#ifndef SUITE_SEED
#define SUITE_SEED 0x2545F491u
#endif
/* Smallest number of interrupt-side heap operations the interrupt test
 * needs before it stops the timer. */
#ifndef SUITE_IRQ_MIN_OPS
#define SUITE_IRQ_MIN_OPS 200u
#endif

/* Instructions between two timer interrupts of the interrupt test (about:
 * board_counter_insns_per_tick() converts): short, so the handler often
 * lands in the middle of the main loop's heap calls. */
#ifndef SUITE_IRQ_PERIOD_INSNS
#define SUITE_IRQ_PERIOD_INSNS 5000u
#endif

/* Pages per chunk (bitmap word): the cases are written in it so that they
 * straddle chunk boundaries whatever the layout. */
#ifdef PH_WORD_BITS
#define SUITE_W ((size_t)PH_WORD_BITS)
#else
#define SUITE_W (sizeof(uintptr_t) * 8u)
#endif

/* Scales a default operation count by SUITE_SCALE_PCT (at least 1). */
#define SUITE_OPS(n) ((size_t)(n) * SUITE_SCALE_PCT / 100u > 0 ? (size_t)(n) * SUITE_SCALE_PCT / 100u : 1u)

/* ---- checks ------------------------------------------------------------ */

extern unsigned long suite_checks; /* checks of the running group */

void suite_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define SUITE_CHECK(cond)                                                          \
    do {                                                                           \
        suite_checks++;                                                            \
        if (!(cond))                                                               \
            suite_fail(__FILE__, __LINE__, "%s", #cond);                           \
    } while (0)

/* With a message (printf format) that names the values. */
#define SUITE_CHECKF(cond, ...)                                                    \
    do {                                                                           \
        suite_checks++;                                                            \
        if (!(cond))                                                               \
            suite_fail(__FILE__, __LINE__, __VA_ARGS__);                           \
    } while (0)

/* Integer equality, printing both sides. */
#define SUITE_EQ(a, b)                                                             \
    do {                                                                           \
        unsigned long a_ = (unsigned long)(a), b_ = (unsigned long)(b);            \
        suite_checks++;                                                            \
        if (a_ != b_)                                                              \
            suite_fail(__FILE__, __LINE__, "%s == %s: %lu (%#lx) != %lu (%#lx)",   \
                       #a, #b, a_, a_, b_, b_);                                    \
    } while (0)

#define SUITE_PTR_EQ(a, b)                                                         \
    do {                                                                           \
        const void *a_ = (a), *b_ = (b);                                           \
        suite_checks++;                                                            \
        if (a_ != b_)                                                              \
            suite_fail(__FILE__, __LINE__, "%s == %s: %p != %p", #a, #b, a_, b_);  \
    } while (0)

/* ph_check(h) must be PH_OK. */
#define SUITE_HEAP_OK(h)                                                           \
    do {                                                                           \
        int rc_ = ph_check(h);                                                     \
        suite_checks++;                                                            \
        if (rc_ != PH_OK)                                                          \
            suite_fail(__FILE__, __LINE__, "ph_check(%s) = %d", #h, rc_);          \
    } while (0)

/* Starts and ends a group: the end prints "suite: <name> ok (N checks)". */
void suite_group_begin(const char *name);
void suite_group_end(const char *extra_fmt, ...) __attribute__((format(printf, 1, 2)));
/* A group that cannot run on this board (say why); counted, not a failure. */
void suite_group_skip(const char *why);

/* Hides a value from the optimiser (bad frees on purpose, huge sizes). */
void *suite_opaque(void *p);

/* Pages of h that hold objects or page-API runs: in use, but not the
 * empty-arena cache's (which any ph_scavenge gives back). */
static inline size_t suite_pages_held(const ph_stats *s)
{
    return s->pages_total - s->pages_free - s->cached_bytes / s->page_size;
}
size_t suite_opaque_size(size_t n);

/* ---- deterministic PRNG (32-bit xorshift) -------------------------------- */

typedef struct suite_rng {
    uint32_t s;
} suite_rng;

static inline void rng_seed(suite_rng *r, uint32_t seed)
{
    r->s = seed != 0 ? seed : 0x9E3779B9u;
}

static inline uint32_t rng_next(suite_rng *r)
{
    uint32_t x = r->s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->s = x;
    return x;
}

/* A value in [0, n); 0 when n is 0. */
static inline uint32_t rng_below(suite_rng *r, uint32_t n)
{
    return n != 0 ? rng_next(r) % n : 0;
}

/* A value in [lo, hi]. */
static inline uint32_t rng_range(suite_rng *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1u);
}

static inline bool rng_pct(suite_rng *r, uint32_t pct)
{
    return rng_below(r, 100u) < pct;
}

/* ---- the suite's port -------------------------------------------------- */

#define SPORT_POISON 0xA5u

typedef struct sport {
    ph_port port;
    bool mask_irq;                  /* lock/unlock mask interrupts too     */
    unsigned long irq_state;
    /* fault hook */
    volatile unsigned long faults;
    volatile int last_code;
    const void *volatile last_addr;
    /* lock hooks */
    volatile unsigned long locks, unlocks, nested, stray_unlocks;
    volatile bool held;
    /* release / acquire: the simulated gate over the arena */
    unsigned long releases, acquires;
    size_t bytes_released, bytes_acquired;
    unsigned long gate_errors;      /* see sport_gate_error                */
    const char *gate_error;         /* the first one                       */
    const void *gate_error_addr;
    size_t granule;                 /* the smallest granule of the heap    */
} sport;

/* Sets up a port with every hook; granule: the smallest granule of the
 * heap's regions (release ranges are recorded per granule of that size). */
void sport_init(sport *t, size_t granule, bool mask_irq);
/* Lock hooks balanced, not held, never nested; no gate error. */
void sport_assert_quiet(const sport *t, const char *file, int line);
#define SPORT_QUIET(t) sport_assert_quiet((t), __FILE__, __LINE__)
/* Bytes currently released through this port. */
size_t sport_released_bytes(const sport *t);
/* Whether [p, p + n) overlaps a released range. */
bool sport_touches_released(const sport *t, const void *p, size_t n);

/* ---- snapshots ------------------------------------------------------------ */

typedef struct snapshot {
    ph_stats st;
    uint32_t walk_digest; /* FNV-1a over every ph_walk run (base, pages, state) */
    size_t walk_runs;
} snapshot;

void snap_take(ph_heap *h, snapshot *s);
/* Every statistic and the map are as in *before, faults up by faults_delta. */
void snap_assert_same(ph_heap *h, const snapshot *before, size_t faults_delta, const char *file,
                      int line);
#define SNAP_SAME(h, before, df) snap_assert_same((h), (before), (df), __FILE__, __LINE__)

/* Pages in use are exactly the fit arenas' (small_span_pages), the large
 * objects' and `page_api` pages held through ph_page_alloc; arenas and the
 * empty-arena cache within their bounds. */
void stats_accounting(ph_heap *h, size_t page_api, const char *file, int line);
#define STATS_ACCOUNTING(h, n) stats_accounting((h), (n), __FILE__, __LINE__)

/* ---- patterns ------------------------------------------------------------- */

/* Fills [p, p + n) with the byte sequence of id; the first offset that is
 * not the sequence, or SIZE_MAX. */
void pat_fill(void *p, size_t n, uint32_t id);
size_t pat_find_bad(const void *p, size_t n, uint32_t id);
size_t find_nonzero(const void *p, size_t n);

#define PAT_CHECK(p, n, id)                                                        \
    do {                                                                           \
        size_t bad_ = pat_find_bad((p), (n), (id));                                \
        suite_checks++;                                                            \
        if (bad_ != SIZE_MAX)                                                      \
            suite_fail(__FILE__, __LINE__,                                         \
                       "object %p (id %lu, %lu bytes): byte %lu is %#x, not its pattern", \
                       (const void *)(p), (unsigned long)(id), (unsigned long)(n),        \
                       (unsigned long)bad_, ((const uint8_t *)(p))[bad_]);                \
    } while (0)

/* ---- the arena and the suite's heap ------------------------------------------ */

/* The one heap object (and its port) that every group builds its heaps
 * in, one after the other: a ph_heap is over a KiB, too much to have one
 * per group on the smallest board. */
extern ph_heap suite_heap;
extern sport suite_port;

/* One scratch area for the running group's tables (live runs and objects,
 * expected page maps, the reference model): the groups run one after the
 * other, so they share it instead of each keeping its own in .bss.
 * suite_scratch(n) hands out n zeroed bytes (8-byte aligned) after what
 * the group took before; every group starts with all of it free.  A group
 * asking for more than there is fails the run (with the figures). */
#ifndef SUITE_SCRATCH_BYTES
#define SUITE_SCRATCH_BYTES (SUITE_ARENA_BYTES / 16u + 1024u)
#endif
void *suite_scratch(size_t bytes);

/* Entries of the groups' tables of live runs and objects: scaled with the
 * arena (the arena cannot hold more), so small boards keep their RAM. */
#define SUITE_TABLE(max, bytes_per_entry)                                          \
    (SUITE_ARENA_BYTES / (bytes_per_entry) < 16u ? 16u                              \
     : SUITE_ARENA_BYTES / (bytes_per_entry) > (max) ? (max)                        \
     : SUITE_ARENA_BYTES / (bytes_per_entry))

#define SUITE_ARENA_ALIGN 256u

/* Up to SUITE_ARENA_BYTES bytes, SUITE_ARENA_ALIGN aligned, between
 * suite_arena_open() and suite_arena_close().  Static storage (.bss) on
 * every board but those built with SUITE_ARENA_FROM_HEAP=1 (microbit: 16
 * KiB of RAM cannot hold the stack, the board's 6 KiB minimum default heap
 * and a static arena worth testing in), where the arena is one run of
 * pages borrowed from the default heap with ph_page_alloc while the core
 * groups run and given back before the groups that test the default heap.
 * The suite's heaps are separate heaps either way: their own ph_heap,
 * metadata and port; the default heap only sees one allocated run. */
#ifndef SUITE_ARENA_FROM_HEAP
#define SUITE_ARENA_FROM_HEAP 0
#endif
extern uint8_t *suite_arena;
/* Opens the arena with up to `want` bytes (a multiple of SUITE_ARENA_ALIGN;
 * borrowed: as much of it as the default heap can lend); returns the
 * bytes the caller may use. */
size_t suite_arena_open(size_t want);
void suite_arena_close(void);

static inline uintptr_t align_up(uintptr_t x, uintptr_t a)
{
    return (x + a - 1u) & ~(a - 1u);
}

/* Whether p lies in [lo, lo + n). */
static inline bool in_range(const void *p, const void *lo, size_t n)
{
    return (uintptr_t)p >= (uintptr_t)lo && (uintptr_t)p - (uintptr_t)lo < n;
}

/* The smallest region (bytes, from `base`) that gives exactly `want` usable
 * pages of size ps, found by asking a scratch heap (ph_add_region writes
 * its metadata into [base, ...), which must be arena memory); 0 if none up
 * to `limit` bytes. */
size_t suite_raw_bytes_for(ph_heap *scratch, void *base, size_t ps, size_t want, size_t limit);

/* ref_static.c: the reference model's byte maps come from buf. */
void ref_static_pool(void *buf, size_t bytes);

/* ---- the object layer's geometry (a model) ------------------------------------
 *
 * The fit arenas' constants live in core/src/ph_internal.h, which is private
 * (this suite sees pageheap.h only), so they are modelled here from the
 * layer's description (core/src/ph_object.c, top comment):
 *   - a request of n <= PH_SMALL_MAX bytes is a chunk of max(FIT_MIN,
 *     n + FIT_HDR rounded up to PH_ALIGN) bytes, FIT_HDR (one size_t) of
 *     them its header; the chunk may be up to FIT_MIN - PH_ALIGN bytes
 *     larger (a rest too small to be a chunk of its own stays with it), so
 *     ph_usable_size is in [chunk - FIT_HDR, chunk - FIT_HDR + FIT_MIN -
 *     PH_ALIGN];
 *   - an arena (a run of pages carved into chunks) is min(PH_FIT_ARENA,
 *     usable heap bytes / 16) rounded down to pages, at least the pages
 *     that chunk + PH_ALIGN needs (its first PH_ALIGN - FIT_HDR bytes are
 *     padding, its last FIT_HDR bytes a fence); when no run that long is
 *     free, exactly the pages needed;
 *   - ph_aligned_alloc(align, n) with PH_ALIGN < align < page size and n <=
 *     PH_SMALL_MAX asks an arena for chunk + align + FIT_MIN bytes;
 *   - a new run that starts where an arena ends (or ends where one starts)
 *     joins it: the arena's fence becomes the new memory's header (joined
 *     with its last chunk when free), the next arena's padding and first
 *     chunk follow the run, so arenas never meet;
 *   - ph_scavenge and ph_idle give back the whole pages inside a free chunk
 *     when they come to at least an arena's pages, leaving either side
 *     nothing or a chunk of at least FIT_MIN bytes (an arena that is cut
 *     in two: a fence before the pages, PH_ALIGN of padding after). */
#define SUITE_FIT_HDR sizeof(size_t)
#define SUITE_FIT_MIN (2u * PH_ALIGN)

/* Chunk bytes of a request of n <= PH_SMALL_MAX bytes. */
static inline size_t suite_fit_chunk(size_t n)
{
    size_t s = (n + SUITE_FIT_HDR + PH_ALIGN - 1u) & ~(size_t)(PH_ALIGN - 1u);
    return s < SUITE_FIT_MIN ? SUITE_FIT_MIN : s;
}

/* Whether u is a usable size ph_malloc(h, n) may give, n <= PH_SMALL_MAX. */
static inline bool suite_fit_usable_ok(size_t n, size_t u)
{
    size_t cs = suite_fit_chunk(n);
    return u >= cs - SUITE_FIT_HDR && u <= cs - SUITE_FIT_HDR + SUITE_FIT_MIN - PH_ALIGN;
}

/* Pages of a new arena for a chunk of cs bytes on a heap of pages_total
 * usable pages of ps bytes, when a run that long is free. */
static inline size_t suite_fit_arena_pages(size_t pages_total, size_t ps, size_t cs)
{
    size_t bytes = pages_total * ps / 16u, need = (cs + PH_ALIGN + ps - 1u) / ps;
    if (bytes > PH_FIT_ARENA)
        bytes = PH_FIT_ARENA;
    return bytes / ps < need ? need : bytes / ps;
}

/* ---- the groups (suite_*.c) ------------------------------------------------ */

void group_pages_table(void);
void group_pages_refusals(void);
void group_objects_refusals(void);
void group_fit_chunks(void);
void group_malloc_basics(void);
void group_pages_random(void);
void group_objects_random(void);
void group_newlib(void);
void group_irq(void);
void group_scavenge(void);

/* Default-heap page usage at the start of main, before any stdio call. */
extern size_t suite_boot_pages_used;

#endif /* PH_SUITE_H */
