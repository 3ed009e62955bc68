/* SPDX-License-Identifier: MIT */
/*
 * bench (bench/target): instructions per malloc, free, page alloc, page
 * free and scavenge on a QEMU board, for pageheap and for newlib's own
 * allocators, on the same requests.  A benchmark program, not a test:
 * bench/target/run-target-bench.sh builds it for the chosen boards, runs it
 * under `qemu-system-arm -icount shift=0` and prints the table.
 *
 * Counting.  Under -icount shift=0 QEMU's virtual clock advances 1 ns per
 * executed instruction, so a timer counts instructions: board_counter()
 * gives board_counter_insns_per_tick() instructions per tick (1 on
 * netduinoplus2's TIM2 and virt's PMU cycle counter: exact; 40 on the mps2
 * boards' CMSDK timer at 25 MHz).  Each measured call is bracketed by two
 * counter reads in a wrapper that calls the allocator through a function
 * pointer; the wrapper's own cost is measured by calling a one-instruction
 * stub (`bx lr`) the same way, CALIBRATION_CALLS times, and (stub - 1) is
 * subtracted, so a figure counts the allocator function from its first
 * instruction to its return, all its callees included (the call set-up in
 * the caller excluded): the convention of the host benchmarks
 * (bench/obj_bench.c).
 *
 * On a board with 40 instructions per tick a single call is only known to
 * within 40 instructions, so its median and worst are rounded to that.  The
 * mean is right when each call starts at a uniformly distributed phase of
 * the tick, which loops do not ensure (a loop of constant length samples a
 * few phases only: the calibration loop was four instructions off that
 * way), so every bracket is preceded by a random delay of 0 .. ipt-1
 * instructions (dither(), outside the bracket).  The mean is checked by a
 * second method ("totals"): the same request sequence runs twice more
 * without brackets, once on the allocator (a fresh copy) and once on the
 * stubs, each timed in chunks of 256 operations; (allocator run - stub run)
 * / calls + 1 is the allocator's mean cost per call, which must equal the
 * bracketed mean: exactly on a 1-per-tick board, where both count the same
 * instructions (when no malloc failed: a failed malloc's later free is
 * skipped on the allocator, not on the stubs), to a few hundredths on a
 * 40-per-tick one.
 *
 * Allocators, one after the other in one run, each starting fresh on the
 * same static arena (BENCH_ARENA_BYTES, of which the trace's heap uses
 * BENCH_HEAP_BYTES):
 *   pageheap     ph_malloc / ph_free on a heap of its own (ph_init +
 *                ph_add_region over the arena, 256-byte pages, no port:
 *                no lock, as the host benchmark), PH_* as the core is built;
 *   newlib       newlib's malloc (dlmalloc, full newlib: _malloc_r /
 *                _free_r) and
 *   newlib-nano  newlib-nano's (nano-mallocr), both copied out of the
 *                board's libc.a / libc_nano.a by bench/target/CMakeLists.txt
 *                with their symbols renamed (demo/qemu/newlib-rename.cmake),
 *                twice each (one copy per run, so each run starts fresh),
 *                with an sbrk of their own on the arena (BENCH_HEAP_BYTES at
 *                most).  They are called at _malloc_r / _free_r (what
 *                malloc() and free() call after loading _impure_ptr: 3..4
 *                instructions more).  Their __malloc_lock is newlib's own.
 * Built with BENCH_LIBC=1 (firmware bench-newlib and bench-nano, linked
 * with newlib's own allocator and no port/newlib), the program measures the
 * C library's malloc() / free() instead, on the board's sbrk, bracketed only.
 *
 * Workloads
 *   small    the small-object trace: sizes uniform in 16..512 B, BENCH_LIVE live objects
 *            (745 in a 256 KiB heap: 75% full), BENCH_OPS measured malloc /
 *            free after BENCH_LIVE warm-up mallocs, each a malloc with
 *            probability 0.5 + (live target - live) / 64, else the free of
 *            a uniformly chosen live object: bench/obj_bench.c's "small"
 *            trace, drawn from the same splitmix64 stream with the same
 *            seed (integer arithmetic that gives the same decisions), so at
 *            745 / 1,000,000 / seed 1 it is the very trace the host
 *            benchmark measures.  A failed malloc is counted and the trace
 *            goes on (the later free of that object is skipped).
 *   pages    page_bench's trace, scaled to the board: one region of
 *            BENCH_HEAP_BYTES in 256-byte pages, runs of 1..BENCH_PAGE_MAX
 *            pages, the heap held at 75% of its pages, frees of uniformly
 *            chosen live runs; BENCH_PAGE_OPS measured operations.
 *   scavenge the same page churn with BENCH_GRANULE-byte granules and a
 *            port whose release / acquire hooks do nothing (the heap's own
 *            work), the load swinging between 75% and 40% every 2,000
 *            operations; every 16 operations one measured
 *            ph_scavenge(h, SIZE_MAX): per call, and per granule released.
 *   footprint  (pageheap) the smallest region, in whole pages, metadata
 *            included, that serves the whole small trace without a failed
 *            request: a binary search, each candidate running the trace,
 *            up to BENCH_ARENA_BYTES; when the trace's heap saw failed
 *            mallocs, the small trace is measured once more in that
 *            smallest heap (as the host benchmark does);
 *            (newlib) the sbrk high-water mark of the bracketed run.
 *
 * Output: `key=value` lines (bench, trace, result, total, footprint) that
 * the script turns into the table; ends with "bench: done".
 */
#include <reent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "pageheap.h"

#ifndef BENCH_OPS
#define BENCH_OPS 1000000u
#endif
#ifndef BENCH_HEAP_BYTES
#define BENCH_HEAP_BYTES (256u * 1024u)
#endif
#ifndef BENCH_LIVE /* 745 objects per 256 KiB: 75% of the heap at 264 B mean */
#define BENCH_LIVE ((unsigned)((745ull * BENCH_HEAP_BYTES) / (256u * 1024u)))
#endif
#ifndef BENCH_SEED
#define BENCH_SEED 1u
#endif
#ifndef BENCH_PAGE_SIZE
#define BENCH_PAGE_SIZE 256u
#endif
#ifndef BENCH_PAGE_MAX
#define BENCH_PAGE_MAX 16u
#endif
#ifndef BENCH_PAGE_OPS
#define BENCH_PAGE_OPS (BENCH_OPS / 2u)
#endif
#ifndef BENCH_GRANULE
#define BENCH_GRANULE 4096u
#endif
#ifndef BENCH_SCAV_OPS
#define BENCH_SCAV_OPS (BENCH_OPS / 5u)
#endif
#ifndef BENCH_ARENA_BYTES /* room for the footprint search above the heap */
#define BENCH_ARENA_BYTES (2u * BENCH_HEAP_BYTES)
#endif
#ifndef BENCH_NEWLIB      /* 1: the renamed newlib / newlib-nano copies are linked */
#define BENCH_NEWLIB 0
#endif
#ifndef BENCH_LIBC        /* 1: measure the C library's own malloc() / free()   */
#define BENCH_LIBC 0
#endif
#ifndef BENCH_LIBC_NAME
#define BENCH_LIBC_NAME "libc"
#endif
#ifndef BENCH_FOOTPRINT
#define BENCH_FOOTPRINT 1
#endif
#if BENCH_LIBC && BENCH_NEWLIB
#error "BENCH_LIBC firmware links newlib's allocator itself: no renamed copies"
#endif

#define SIZE_MIN 16u
#define SIZE_MAX_REQ 512u
#define FILL_PERCENT 75u
#define CALIBRATION_CALLS 64000u /* with a coarse counter the mean needs many */
#define CHUNK_OPS 256u           /* totals: ops per timed chunk              */
#define HIST_EXACT 1024u         /* histogram: one bin per instruction below, */
#define HIST_COARSE 1024u        /* then bins of HIST_STEP instructions       */
#define HIST_STEP 16u
#define MAX_SLOTS (2u * BENCH_LIVE + 64u)
#define MAX_RUNS 1024u           /* page traces: live runs at most           */

#define NOIPA __attribute__((noipa))

/* ---- the arena all allocators run on ---------------------------------- */

#if !BENCH_LIBC
static uint8_t arena[BENCH_ARENA_BYTES] __attribute__((aligned(BENCH_PAGE_SIZE)));
#endif

/* ---- random numbers: bench/obj_bench.c's splitmix64 -------------------- */

static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* (r * n) >> 64 for n < 2^32: obj_bench's rng_below without __int128. */
static uint32_t rng_below(uint64_t *state, uint32_t n)
{
    uint64_t r = rng_next(state);
    uint64_t lo = (uint64_t)(uint32_t)r * n, hi = (r >> 32) * n;
    return (uint32_t)((hi + (lo >> 32)) >> 32);
}

/* ---- the small trace (obj_bench's generator, on the fly) --------------- */

enum { OP_MALLOC, OP_FREE };

typedef struct trace_gen {
    uint64_t rng;
    uint32_t i;              /* ops generated                                */
    uint32_t nlive, nfree, next_slot;
    uint32_t live[MAX_SLOTS], freeslot[MAX_SLOTS];
    uint32_t size[MAX_SLOTS];
    uint32_t live_bytes, peak_live_bytes, peak_live_objects;
    uint32_t mallocs, frees; /* measured ops only                            */
} trace_gen;

static trace_gen gen;

static void trace_start(trace_gen *g)
{
    memset(g, 0, sizeof *g);
    g->rng = BENCH_SEED;
}

/* The next op (kind, slot, size); warm-up ops are the first BENCH_LIVE.
 * obj_bench: do_malloc = nlive == 0 || rng_unit < p, p = 0.5 + (target -
 * nlive) / 64; rng_unit = (r >> 11) 2^-53, so the test is (r >> 11) <
 * 2^52 + (target - nlive) 2^47, exactly, in integers. */
static int trace_next(trace_gen *g, uint32_t *slot, uint32_t *size)
{
    bool measured = g->i >= BENCH_LIVE, do_malloc;
    g->i++;
    if (!measured) {
        do_malloc = true;
    } else {
        int64_t thr = ((int64_t)1 << 52) + ((int64_t)BENCH_LIVE - (int64_t)g->nlive) * ((int64_t)1 << 47);
        do_malloc = g->nlive == 0 || (int64_t)(rng_next(&g->rng) >> 11) < thr;
    }
    if (do_malloc) {
        uint32_t sz = SIZE_MIN + rng_below(&g->rng, SIZE_MAX_REQ - SIZE_MIN + 1);
        uint32_t s = g->nfree ? g->freeslot[--g->nfree] : g->next_slot++;
        g->size[s] = sz;
        g->live[g->nlive++] = s;
        g->live_bytes += sz;
        if (g->live_bytes > g->peak_live_bytes)
            g->peak_live_bytes = g->live_bytes;
        if (g->nlive > g->peak_live_objects)
            g->peak_live_objects = g->nlive;
        if (measured)
            g->mallocs++;
        *slot = s;
        *size = sz;
        return OP_MALLOC;
    }
    uint32_t k = rng_below(&g->rng, g->nlive);
    uint32_t s = g->live[k];
    g->live[k] = g->live[--g->nlive];
    g->freeslot[g->nfree++] = s;
    g->live_bytes -= g->size[s];
    g->frees++;
    *slot = s;
    *size = 0;
    return OP_FREE;
}

#define TRACE_OPS (BENCH_LIVE + BENCH_OPS)

/* ---- measured calls ----------------------------------------------------- */

/* Every allocator call is made through one of these types (AAPCS: a pointer
 * and a size_t travel alike in r0..r2); the stub is one `bx lr`. */
typedef uintptr_t (*op2_fn)(uintptr_t, uintptr_t);
typedef uintptr_t (*op3_fn)(uintptr_t, uintptr_t, uintptr_t);

__asm__(".text\n"
        ".balign 4\n"
        ".globl bench_stub_ret\n"
#if defined(__thumb__)
        ".thumb\n"
        ".thumb_func\n"
#endif
        ".type bench_stub_ret, %function\n"
        "bench_stub_ret:\n"
        "\tbx lr\n"
        ".size bench_stub_ret, .-bench_stub_ret\n");
uintptr_t bench_stub_ret(uintptr_t a, uintptr_t b, uintptr_t c);

/* bench_delay(d): exactly d + 5 instructions for d < 64 (Thumb-2: a
 * computed jump into a sled of 16-bit nops); see dither() below. */
#if defined(__thumb2__)
__asm__(".text\n"
        ".balign 4\n"
        ".globl bench_delay\n"
        ".thumb\n"
        ".thumb_func\n"
        ".type bench_delay, %function\n"
        "bench_delay:\n"
        "\tadr.w r1, 1f\n"
        "\tsub.w r1, r1, r0, lsl #1\n"
        "\torr.w r1, r1, #1\n"
        "\tbx r1\n"
        ".rept 64\n"
        "\tnop.n\n"
        ".endr\n"
        "1:\tbx lr\n"
        ".size bench_delay, .-bench_delay\n");
void bench_delay(uint32_t d);
#define BENCH_HAVE_DELAY 1
#else
#define BENCH_HAVE_DELAY 0
#endif

#define AS_OP2(f) ((op2_fn)(void (*)(void))(f))
#define AS_OP3(f) ((op3_fn)(void (*)(void))(f))

static uint32_t ipt; /* instructions per counter tick */

/* With several instructions per tick, a bracketed call is seen as a whole
 * number of ticks, and the mean of many such figures is the call's true
 * cost only if the call starts at a uniformly distributed phase of the
 * tick.  Loops and traces do not ensure that (a loop of constant length
 * samples a few phases only, and the fixed calibration loop was off by
 * four instructions that way), so each bracket starts after a random
 * delay of 0 .. ipt-1 instructions (its own random stream, not the
 * trace's); it lies outside the bracket. */
static uint32_t dither_state = 0x2545F491u;

static void dither(void)
{
#if BENCH_HAVE_DELAY
    if (ipt > 1 && ipt <= 64) {
        uint32_t x = dither_state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        dither_state = x;
        bench_delay((uint32_t)(((uint64_t)x * ipt) >> 32));
    }
#endif
}

NOIPA static uint32_t timed2(op2_fn f, uintptr_t a, uintptr_t b, uintptr_t *out)
{
    dither();
    uint32_t t0 = board_counter();
    uintptr_t r = f(a, b);
    uint32_t t1 = board_counter();
    *out = r;
    return (t1 - t0) * ipt;
}

NOIPA static uint32_t timed3(op3_fn f, uintptr_t a, uintptr_t b, uintptr_t c, uintptr_t *out)
{
    dither();
    uint32_t t0 = board_counter();
    uintptr_t r = f(a, b, c);
    uint32_t t1 = board_counter();
    *out = r;
    return (t1 - t0) * ipt;
}

/* Overheads of the two wrappers in 1/1000 instruction: stub calls' mean
 * minus the stub's one instruction. */
static uint32_t over2_milli, over3_milli;

static void calibrate(void)
{
    uint64_t s2 = 0, s3 = 0;
    uintptr_t out;
    for (unsigned i = 0; i < CALIBRATION_CALLS; i++) {
        s2 += timed2(AS_OP2(bench_stub_ret), 1, 2, &out);
        s3 += timed3(AS_OP3(bench_stub_ret), 1, 2, 3, &out);
    }
    over2_milli = (uint32_t)(s2 * 1000u / CALIBRATION_CALLS) - 1000u;
    over3_milli = (uint32_t)(s3 * 1000u / CALIBRATION_CALLS) - 1000u;
    printf("calibration wrapper2=%u.%03u wrapper3=%u.%03u (instructions around a call, stub excluded)\n",
           (unsigned)(over2_milli / 1000), (unsigned)(over2_milli % 1000),
           (unsigned)(over3_milli / 1000), (unsigned)(over3_milli % 1000));
}

/* ---- per-operation statistics ------------------------------------------ */

typedef struct opstat {
    uint64_t sum_milli;      /* sum of (measured * 1000 - overhead)         */
    uint32_t n, worst;
    uint32_t hist[HIST_EXACT + HIST_COARSE];
    uint32_t over;           /* samples past the last bin                    */
} opstat;

static opstat st_a, st_b; /* the two ops of the run being measured */
#if !BENCH_LIBC
static opstat st_c;       /* the scavenge trace's third figure          */
#endif

static void opstat_reset(opstat *s)
{
    memset(s, 0, sizeof *s);
}

static void opstat_add(opstat *s, uint32_t measured, uint32_t over_milli)
{
    uint64_t m = (uint64_t)measured * 1000u;
    uint32_t v = m > over_milli ? (uint32_t)((m - over_milli + 500u) / 1000u) : 0;
    s->sum_milli += m > over_milli ? m - over_milli : 0;
    s->n++;
    if (v > s->worst)
        s->worst = v;
    if (v < HIST_EXACT)
        s->hist[v]++;
    else if (v < HIST_EXACT + HIST_COARSE * HIST_STEP)
        s->hist[HIST_EXACT + (v - HIST_EXACT) / HIST_STEP]++;
    else
        s->over++;
}

/* The value at rank ceil(q/100 * n) (the median for q = 50): exact below
 * HIST_EXACT, the middle of its HIST_STEP-wide bin above (within 8). */
static uint32_t opstat_quantile(const opstat *s, uint32_t q)
{
    uint32_t rank = (uint32_t)(((uint64_t)s->n * q + 99u) / 100u), seen = 0;
    if (rank == 0)
        rank = 1;
    for (uint32_t b = 0; b < HIST_EXACT + HIST_COARSE; b++) {
        seen += s->hist[b];
        if (seen >= rank) {
            uint32_t v = b < HIST_EXACT ? b : HIST_EXACT + (b - HIST_EXACT) * HIST_STEP + HIST_STEP / 2;
            return v < s->worst ? v : s->worst;
        }
    }
    return s->worst; /* in the overflow: only the worst is known */
}

static void print_milli(uint64_t milli_sum, uint32_t n)
{
    uint64_t m = n ? milli_sum / n : 0; /* mean in 1/1000 */
    printf("%u.%02u", (unsigned)(m / 1000u), (unsigned)(m % 1000u / 10u));
}

static void opstat_print(const char *alloc, const char *work, uint32_t heap, const char *op,
                         const opstat *s, uint32_t extra_failed)
{
    printf("result alloc=%s work=%s heap=%u op=%s n=%u mean=", alloc, work, (unsigned)heap, op,
           (unsigned)s->n);
    print_milli(s->sum_milli, s->n);
    printf(" median=%u p99=%u worst=%u failed=%u\n", (unsigned)opstat_quantile(s, 50),
           (unsigned)opstat_quantile(s, 99), (unsigned)s->worst, (unsigned)extra_failed);
}

/* ---- allocators of the small trace -------------------------------------- */

typedef struct allocator {
    const char *name;
    op2_fn malloc_fn, free_fn;     /* the measured copy                       */
    op2_fn malloc_fn2, free_fn2;   /* a second, fresh copy for the totals run;
                                      NULL: none (the C library's malloc)    */
    uintptr_t (*setup)(int copy, size_t bytes); /* fresh heap on the arena:
                                                   the first argument of its
                                                   calls (heap or _reent), or
                                                   0 for malloc(n) / free(p) */
    size_t (*footprint)(void);     /* bytes taken by sbrk (newlib)           */
} allocator;

/* f(ctx, x), or f(x) when ctx is 0 (the C library's malloc / free). */
#define CALL2(f, ctx, x) ((ctx) ? (f)((ctx), (x)) : (f)((x), 0))
#define TIMED2(f, ctx, x, out) ((ctx) ? timed2((f), (ctx), (x), (out)) : timed2((f), (x), 0, (out)))

#if !BENCH_LIBC
static ph_heap bench_heap;

static uintptr_t ph_setup(int copy, size_t bytes)
{
    (void)copy;
    if (ph_init(&bench_heap, BENCH_PAGE_SIZE, NULL) != PH_OK ||
        ph_add_region(&bench_heap, arena, bytes, 0) != PH_OK) {
        printf("bench: ph_init / ph_add_region failed\n");
        board_exit(2);
    }
    return (uintptr_t)&bench_heap;
}
#endif

#if BENCH_NEWLIB
/* The renamed copies (bench/target/CMakeLists.txt): nlf = newlib, nln =
 * newlib-nano; the B copies are the second, fresh ones. */
void *nlf_malloc_r(struct _reent *, size_t);
void nlf_free_r(struct _reent *, void *);
void *nlfb_malloc_r(struct _reent *, size_t);
void nlfb_free_r(struct _reent *, void *);
void *nln_malloc_r(struct _reent *, size_t);
void nln_free_r(struct _reent *, void *);
void *nlnb_malloc_r(struct _reent *, size_t);
void nlnb_free_r(struct _reent *, void *);
void *nlf_sbrk_r(struct _reent *, ptrdiff_t);
void *nlfb_sbrk_r(struct _reent *, ptrdiff_t);
void *nln_sbrk_r(struct _reent *, ptrdiff_t);
void *nlnb_sbrk_r(struct _reent *, ptrdiff_t);

static size_t brk, brk_high, brk_limit;

static void *arena_sbrk(struct _reent *r, ptrdiff_t incr)
{
    void *old = arena + brk;
    if ((incr < 0 && (size_t)-incr > brk) || (incr > 0 && (size_t)incr > brk_limit - brk)) {
        r->_errno = 12; /* ENOMEM */
        return (void *)-1;
    }
    brk += (size_t)incr;
    if (brk > brk_high)
        brk_high = brk;
    return old;
}

void *nlf_sbrk_r(struct _reent *r, ptrdiff_t incr) { return arena_sbrk(r, incr); }
void *nlfb_sbrk_r(struct _reent *r, ptrdiff_t incr) { return arena_sbrk(r, incr); }
void *nln_sbrk_r(struct _reent *r, ptrdiff_t incr) { return arena_sbrk(r, incr); }
void *nlnb_sbrk_r(struct _reent *r, ptrdiff_t incr) { return arena_sbrk(r, incr); }

static uintptr_t nl_setup(int copy, size_t bytes)
{
    (void)copy;
    brk = brk_high = 0;
    brk_limit = bytes;
    return (uintptr_t)_REENT;
}

static size_t nl_footprint(void)
{
    return brk_high;
}
#endif

#if BENCH_LIBC
/* The firmware's own C library allocator (ph_board_firmware NEWLIB_MALLOC):
 * malloc() / free(), its sbrk the board's (boards/common/sbrk.c, heap bank
 * 0).  Its footprint is the sbrk top's high-water mark above where it stood
 * when the trace began (stdio's buffers lie below). */
#include <stdlib.h>
#include <unistd.h>
static char *libc_brk0, *libc_brk_high;

static uintptr_t libc_setup(int copy, size_t bytes)
{
    (void)copy;
    (void)bytes;
    libc_brk0 = libc_brk_high = sbrk(0);
    return 0;
}

static size_t libc_footprint(void)
{
    return (size_t)(libc_brk_high - libc_brk0);
}

static void libc_track_brk(void)
{
    char *b = sbrk(0);
    if (b > libc_brk_high)
        libc_brk_high = b;
}
#endif

static const allocator allocators[] = {
#if BENCH_LIBC
    { BENCH_LIBC_NAME, AS_OP2(malloc), AS_OP2(free), NULL, NULL, libc_setup, libc_footprint },
#else
    { "pageheap", AS_OP2(ph_malloc), AS_OP2(ph_free), AS_OP2(ph_malloc), AS_OP2(ph_free),
      ph_setup, NULL },
#endif
#if BENCH_NEWLIB
    { "newlib", AS_OP2(nlf_malloc_r), AS_OP2(nlf_free_r), AS_OP2(nlfb_malloc_r),
      AS_OP2(nlfb_free_r), nl_setup, nl_footprint },
    { "newlib-nano", AS_OP2(nln_malloc_r), AS_OP2(nln_free_r), AS_OP2(nlnb_malloc_r),
      AS_OP2(nlnb_free_r), nl_setup, nl_footprint },
#endif
};
#define NALLOCATORS (sizeof allocators / sizeof allocators[0])

static uintptr_t ptrs[MAX_SLOTS];

/* The small trace with every call bracketed, on a heap of `bytes`.
 * Returns failed mallocs. */
NOIPA static uint32_t small_perop(const allocator *a, size_t bytes)
{
    uintptr_t ctx = a->setup(0, bytes), out;
    uint32_t failed = 0, slot, size;
    opstat_reset(&st_a);
    opstat_reset(&st_b);
    trace_start(&gen);
    for (uint32_t i = 0; i < TRACE_OPS; i++) {
        bool measured = i >= BENCH_LIVE;
        if (trace_next(&gen, &slot, &size) == OP_MALLOC) {
            uint32_t t = TIMED2(a->malloc_fn, ctx, size, &out);
            ptrs[slot] = out;
            if (out == 0)
                failed++;
#if BENCH_LIBC
            libc_track_brk();
#endif
            if (measured)
                opstat_add(&st_a, t, over2_milli);
        } else {
            uint32_t t = 0;
            if (ptrs[slot] != 0)
                t = TIMED2(a->free_fn, ctx, ptrs[slot], &out);
            ptrs[slot] = 0;
            if (measured && t != 0)
                opstat_add(&st_b, t, over2_milli);
        }
    }
    return failed;
}

/* The same trace without brackets, timed in chunks: the allocator's copy B
 * (fresh), or the stubs (use_stub).  Returns instructions counted over the
 * measured ops. */
NOIPA static uint64_t small_total(const allocator *a, bool use_stub)
{
    uintptr_t ctx = use_stub ? 1 : a->setup(1, BENCH_HEAP_BYTES);
    op2_fn fm = use_stub ? AS_OP2(bench_stub_ret) : a->malloc_fn2;
    op2_fn ff = use_stub ? AS_OP2(bench_stub_ret) : a->free_fn2;
    uint64_t total = 0;
    uint32_t slot, size, i = 0;
    trace_start(&gen);
    for (; i < BENCH_LIVE; i++) { /* warm-up, not timed */
        trace_next(&gen, &slot, &size);
        ptrs[slot] = CALL2(fm, ctx, size);
    }
    while (i < TRACE_OPS) {
        uint32_t end = i + CHUNK_OPS < TRACE_OPS ? i + CHUNK_OPS : TRACE_OPS;
        uint32_t t0 = board_counter();
        for (; i < end; i++) {
            if (trace_next(&gen, &slot, &size) == OP_MALLOC) {
                ptrs[slot] = CALL2(fm, ctx, size);
            } else {
                if (ptrs[slot] != 0)
                    CALL2(ff, ctx, ptrs[slot]);
                ptrs[slot] = 0;
            }
        }
        total += (uint64_t)(board_counter() - t0) * ipt;
    }
    return total;
}

/* ---- footprint: the smallest pageheap region that serves the trace ------ */

#if BENCH_FOOTPRINT && !BENCH_LIBC
static bool ph_serves(size_t bytes)
{
    uint32_t slot, size;
    if (ph_init(&bench_heap, BENCH_PAGE_SIZE, NULL) != PH_OK ||
        ph_add_region(&bench_heap, arena, bytes, 0) != PH_OK)
        return false;
    trace_start(&gen);
    for (uint32_t i = 0; i < TRACE_OPS; i++) {
        if (trace_next(&gen, &slot, &size) == OP_MALLOC) {
            void *p = ph_malloc(&bench_heap, size);
            if (p == NULL)
                return false;
            ptrs[slot] = (uintptr_t)p;
        } else {
            ph_free(&bench_heap, (void *)ptrs[slot]);
        }
    }
    return ph_check(&bench_heap) == PH_OK;
}

/* Returns the smallest region that serves the trace, 0 when even the
 * whole arena does not. */
static size_t footprint_search(uint32_t peak_live)
{
    /* pages: lo fails (or is below the live bytes), hi serves */
    size_t lo = peak_live / BENCH_PAGE_SIZE, hi = BENCH_HEAP_BYTES / BENCH_PAGE_SIZE;
    while (!ph_serves(hi * BENCH_PAGE_SIZE)) {
        lo = hi;
        if (hi * BENCH_PAGE_SIZE >= BENCH_ARENA_BYTES) {
            printf("footprint alloc=pageheap min_heap_bytes=none (the %u B arena does not serve it)\n",
                   (unsigned)BENCH_ARENA_BYTES);
            return 0;
        }
        hi += hi / 4;
        if (hi * BENCH_PAGE_SIZE > BENCH_ARENA_BYTES)
            hi = BENCH_ARENA_BYTES / BENCH_PAGE_SIZE;
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ph_serves(mid * BENCH_PAGE_SIZE))
            hi = mid;
        else
            lo = mid;
    }
    ph_stats s;
    ph_serves(hi * BENCH_PAGE_SIZE);
    ph_get_stats(&bench_heap, &s);
    uint32_t bytes = (uint32_t)(hi * BENCH_PAGE_SIZE);
    printf("footprint alloc=pageheap min_heap_bytes=%u meta_bytes=%u peak_live_bytes=%u ratio=%u.%03u\n",
           (unsigned)bytes, (unsigned)s.metadata_bytes, (unsigned)peak_live,
           (unsigned)(bytes / peak_live), (unsigned)((uint64_t)(bytes % peak_live) * 1000u / peak_live));
    return bytes;
}
#endif

#if !BENCH_LIBC
/* ---- page traces ---------------------------------------------------------- */

typedef struct run {
    uintptr_t p;
    uint32_t n;
} run;

static run runs[MAX_RUNS];
static uint32_t nruns, live_pages;

/* Counts nothing: the heap's own work only. */
static void nop_hook(void *ctx, void *base, size_t len)
{
    (void)ctx;
    (void)base;
    (void)len;
}

static const ph_port nop_port = { NULL, nop_hook, nop_hook, NULL, NULL, NULL };

static void page_heap_setup(size_t granule, const ph_port *port)
{
    if (ph_init(&bench_heap, BENCH_PAGE_SIZE, port) != PH_OK ||
        ph_add_region(&bench_heap, arena, BENCH_HEAP_BYTES, granule) != PH_OK) {
        printf("bench: page heap set-up failed\n");
        board_exit(2);
    }
    nruns = live_pages = 0;
}

/* One op of the page churn toward `target` live pages: allocate 1..max
 * pages below it, else free a uniformly chosen live run.  Bracketed when
 * `measure`; returns false when an allocation failed. */
static bool page_op(uint64_t *rng, uint32_t target, bool measure, op2_fn fa, op3_fn ff,
                    opstat *sa, opstat *sf)
{
    uintptr_t out;
    if ((live_pages < target && nruns < MAX_RUNS) || nruns == 0) {
        uint32_t n = 1 + rng_below(rng, BENCH_PAGE_MAX);
        uint32_t t = timed2(fa, (uintptr_t)&bench_heap, n, &out);
        if (measure)
            opstat_add(sa, t, over2_milli);
        if (out == 0)
            return false;
        runs[nruns].p = out;
        runs[nruns].n = n;
        nruns++;
        live_pages += n;
    } else {
        uint32_t k = rng_below(rng, nruns);
        uint32_t t = timed3(ff, (uintptr_t)&bench_heap, runs[k].p, runs[k].n, &out);
        if (measure)
            opstat_add(sf, t, over3_milli);
        live_pages -= runs[k].n;
        runs[k] = runs[--nruns];
    }
    return true;
}

static void bench_pages(void)
{
    uint64_t rng = BENCH_SEED + 2u;
    uint32_t failed = 0;
    page_heap_setup(0, NULL);
    ph_stats s;
    ph_get_stats(&bench_heap, &s);
    uint32_t target = (uint32_t)(s.pages_total * FILL_PERCENT / 100u);
    opstat_reset(&st_a);
    opstat_reset(&st_b);
    while (live_pages < target)
        if (!page_op(&rng, target, false, AS_OP2(ph_page_alloc), AS_OP3(ph_page_free), &st_a, &st_b))
            break;
    for (uint32_t i = 0; i < BENCH_PAGE_OPS; i++)
        if (!page_op(&rng, target, true, AS_OP2(ph_page_alloc), AS_OP3(ph_page_free), &st_a, &st_b))
            failed++;
    printf("trace name=pages heap=%u page=%u usable_pages=%u requests=1..%u fill=%u%% ops=%u\n",
           (unsigned)BENCH_HEAP_BYTES, (unsigned)BENCH_PAGE_SIZE, (unsigned)s.pages_total,
           (unsigned)BENCH_PAGE_MAX, (unsigned)FILL_PERCENT, (unsigned)BENCH_PAGE_OPS);
    opstat_print("pageheap", "pages", BENCH_HEAP_BYTES, "page_alloc", &st_a, failed);
    opstat_print("pageheap", "pages", BENCH_HEAP_BYTES, "page_free", &st_b, 0);
    if (ph_check(&bench_heap) != PH_OK)
        printf("bench: ph_check failed after the page trace\n");
}

static void bench_scavenge(void)
{
    uint64_t rng = BENCH_SEED + 3u;
    opstat *calls = &st_a, *empty = &st_b, *per_granule = &st_c;
    uint32_t failed = 0, granules = 0, releasing = 0;
    uint64_t releasing_sum = 0;
    page_heap_setup(BENCH_GRANULE, &nop_port);
    ph_stats s;
    ph_get_stats(&bench_heap, &s);
    uint32_t hi = (uint32_t)(s.pages_total * FILL_PERCENT / 100u), lo = (uint32_t)(s.pages_total * 40u / 100u);
    opstat_reset(calls);
    opstat_reset(per_granule);
    opstat_reset(empty);
    while (live_pages < hi)
        if (!page_op(&rng, hi, false, AS_OP2(ph_page_alloc), AS_OP3(ph_page_free), NULL, NULL))
            break;
    ph_scavenge(&bench_heap, SIZE_MAX); /* what the churn frees is measured */
    for (uint32_t i = 0; i < BENCH_SCAV_OPS; i++) {
        uint32_t target = (i / 2000u) % 2u ? lo : hi;
        if (!page_op(&rng, target, false, AS_OP2(ph_page_alloc), AS_OP3(ph_page_free), NULL, NULL))
            failed++;
        if (i % 16u == 15u) {
            uintptr_t released;
            uint32_t t = timed2(AS_OP2(ph_scavenge), (uintptr_t)&bench_heap, SIZE_MAX, &released);
            uint32_t g = (uint32_t)(released / BENCH_GRANULE);
            opstat_add(calls, t, over2_milli);
            if (g == 0) {
                opstat_add(empty, t, over2_milli);
            } else {
                uint64_t m = (uint64_t)t * 1000u;
                m = m > over2_milli ? m - over2_milli : 0;
                releasing++;
                releasing_sum += m;
                granules += g;
                /* per granule: the call's cost shared out, g samples */
                uint32_t per = (uint32_t)((m / g + 500u) / 1000u);
                for (uint32_t k = 0; k < g; k++)
                    opstat_add(per_granule, per, 0);
            }
        }
    }
    printf("trace name=scavenge heap=%u page=%u granule=%u requests=1..%u fill=75%%/40%% ops=%u"
           " calls=%u releasing=%u granules=%u failed=%u\n",
           (unsigned)BENCH_HEAP_BYTES, (unsigned)BENCH_PAGE_SIZE, (unsigned)BENCH_GRANULE,
           (unsigned)BENCH_PAGE_MAX, (unsigned)BENCH_SCAV_OPS, (unsigned)calls->n,
           (unsigned)releasing, (unsigned)granules, (unsigned)failed);
    opstat_print("pageheap", "scavenge", BENCH_HEAP_BYTES, "scavenge_call", calls, 0);
    opstat_print("pageheap", "scavenge", BENCH_HEAP_BYTES, "scavenge_nothing_released", empty, 0);
    opstat_print("pageheap", "scavenge", BENCH_HEAP_BYTES, "scavenge_granule", per_granule, 0);
    printf("result alloc=pageheap work=scavenge heap=%u op=scavenge_granule_amortised n=%u mean=",
           (unsigned)BENCH_HEAP_BYTES, (unsigned)granules);
    print_milli(releasing_sum, granules);
    printf("\n");
    if (ph_check(&bench_heap) != PH_OK)
        printf("bench: ph_check failed after the scavenge trace\n");
}

#endif /* !BENCH_LIBC */

/* ---- main ------------------------------------------------------------------ */

static void small_report(const allocator *a, size_t bytes, uint32_t failed)
{
    opstat_print(a->name, "small", (uint32_t)bytes, "malloc", &st_a, failed);
    opstat_print(a->name, "small", (uint32_t)bytes, "free", &st_b, 0);
}

/* The totals cross-check (see the top of the file) on a fresh copy. */
static void small_totals(const allocator *a)
{
    if (a->malloc_fn2 == NULL)
        return;
    uint64_t per_op_milli = st_a.sum_milli + st_b.sum_milli;
    uint32_t n = st_a.n + st_b.n;
    uint64_t real = small_total(a, false), stub = small_total(a, true);
    /* each stub call is its one instruction: (real - stub) + n = the
     * allocator's instructions over the n measured calls */
    int64_t diff = (int64_t)(real - stub) + (int64_t)n;
    printf("total alloc=%s work=small heap=%u n=%u chunked_mean=", a->name,
           (unsigned)BENCH_HEAP_BYTES, (unsigned)n);
    print_milli((uint64_t)(diff > 0 ? diff : 0) * 1000u, n);
    printf(" bracketed_mean=");
    print_milli(per_op_milli, n);
    printf(" chunked_minus_bracketed=%d\n", (int)(diff - (int64_t)((per_op_milli + 500u) / 1000u)));
}

int main(void)
{
    ipt = board_counter_insns_per_tick();
    printf("bench board=%s cpu=%s insns_per_tick=%u heap=%u live=%u ops=%u seed=%u page=%u\n",
           board_name(), board_cpu(), (unsigned)ipt, (unsigned)BENCH_HEAP_BYTES,
           (unsigned)BENCH_LIVE, (unsigned)BENCH_OPS, (unsigned)BENCH_SEED,
           (unsigned)BENCH_PAGE_SIZE);
    calibrate();

    uint32_t ph_failed = 0;
    for (size_t k = 0; k < NALLOCATORS; k++) {
        const allocator *a = &allocators[k];
        uint32_t failed = small_perop(a, BENCH_HEAP_BYTES);
        if (k == 0)
            printf("trace name=small warmup=%u ops=%u mallocs=%u frees=%u peak_live_bytes=%u"
                   " peak_live_objects=%u\n",
                   (unsigned)BENCH_LIVE, (unsigned)BENCH_OPS, (unsigned)gen.mallocs,
                   (unsigned)gen.frees, (unsigned)gen.peak_live_bytes,
                   (unsigned)gen.peak_live_objects);
        small_report(a, BENCH_HEAP_BYTES, failed);
        if (a->footprint != NULL) {
            uint32_t f = (uint32_t)a->footprint(), pl = gen.peak_live_bytes;
            printf("footprint alloc=%s sbrk_high_bytes=%u peak_live_bytes=%u ratio=%u.%03u\n", a->name,
                   (unsigned)f, (unsigned)pl, (unsigned)(f / pl),
                   (unsigned)((uint64_t)(f % pl) * 1000u / pl));
        }
#if !BENCH_LIBC
        if (k == 0) {
            ph_failed = failed;
            if (ph_check(&bench_heap) != PH_OK)
                printf("bench: ph_check failed after the small trace\n");
        }
#endif
        small_totals(a);
    }
#if BENCH_FOOTPRINT && !BENCH_LIBC
    size_t min_bytes = footprint_search(gen.peak_live_bytes);
    if (ph_failed != 0 && min_bytes != 0) {
        /* as the host benchmark: pageheap once more in the smallest heap
         * that serves the whole trace */
        uint32_t failed = small_perop(&allocators[0], min_bytes);
        small_report(&allocators[0], min_bytes, failed);
    }
#else
    (void)ph_failed;
#endif
#if !BENCH_LIBC
    bench_pages();
    bench_scavenge();
#endif
    printf("bench: done\n");
    board_exit(0);
}
