/* SPDX-License-Identifier: MIT */
/*
 * page_bench: instructions per operation of pageheap's page allocator, and of
 * the naive reference model (ref/refmodel.c), on one random trace.
 *
 * This is a benchmark program, not a test.  Run it through
 * bench/run-page-bench.sh, which runs it under `valgrind --tool=callgrind`
 * and turns what it prints and what callgrind dumps into a table.
 *
 * The trace
 *   One region of --pages pages of 4 KiB (x86-64 host), mmap'ed with
 *   MAP_NORESERVE: the allocator only touches its own metadata, never the
 *   pages it hands out, so a 1 GiB heap costs little real memory.
 *   Warm-up: allocate runs of 1..64 pages (uniform) until the live pages
 *   reach FILL_PERCENT of the usable pages.  Then --ops operations: while
 *   the live pages are below FILL_PERCENT, allocate 1..64 pages (uniform),
 *   else free one uniformly chosen live run, whole.  A failed allocation is
 *   counted and the trace goes on.  The trace depends only on the seed and on
 *   the list of live runs, never on addresses, so pageheap and the reference
 *   model get exactly the same requests (as long as nothing fails); both are
 *   address-ordered first fit, so they must also return the same addresses,
 *   which the program checks (placement_match).
 *
 * Measurement modes (--mode)
 *   perop  every measured operation goes through a wrapper that brackets
 *          the one allocator call with CALLGRIND_ZERO_STATS and
 *          CALLGRIND_DUMP_STATS_AT("<label>"): callgrind then writes one dump
 *          part per operation whose `summary:` is the instructions executed
 *          in the bracket.  Calibration parts ("stub-<op>") call a stub of
 *          one instruction through the same wrapper; the script subtracts
 *          their constant overhead (see "measured wrappers" below).
 *   plain  no client requests: the measured pageheap operations run inside
 *          bench_measured_pageheap() and the reference model's inside
 *          bench_measured_reference(), so `callgrind --toggle-collect=...`
 *          can profile just them (inclusive cost per allocator function).
 *          Also the mode to use without valgrind (placement figures only).
 *
 * Output: one `result key=value ...` line per allocator on stdout.
 */
#define _GNU_SOURCE
#include "pageheap.h"
#include "ph_internal.h" /* ph_region_levels: K of the worst cases */
#include "refmodel.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_callgrind.h"
#include "bench_util.h"

#define PAGE_SIZE 4096u       /* the page trace's x86-64 page             */
/* Requests are uniform in 1..max_request pages (--max-run, default 64). */
static size_t max_request = 64;
#define FILL_PERCENT 75u      /* the heap is held near this fill          */
#define CALIBRATION_CALLS 1000u

/* ---- measured wrappers (perop mode) ----
 *
 * Callgrind counts a basic block when it is left, so a dump part holds the
 * block that issued CALLGRIND_ZERO_STATS (the wrapper's entry up to the
 * request), then the call and everything the callee executes, and stops
 * at the start of the block that issues CALLGRIND_DUMP_STATS_AT.  That
 * overhead is a constant of the wrapper's code, so each wrapper takes the
 * function to call as an argument: the very same wrapper code calls the
 * allocator and, for calibration, a stub whose body is one `ret`.  Then
 *     allocator instructions = part - (stub part - 1)
 * which counts from the allocator's first instruction to its `ret`,
 * exactly what callgrind's inclusive cost of the function is. */

typedef void *(*ph_alloc_fn)(ph_heap *, size_t);
typedef void (*ph_free_fn)(ph_heap *, void *, size_t);
typedef uintptr_t (*ref_alloc_fn)(ref_model *, size_t);
typedef int (*ref_free_fn)(ref_model *, uintptr_t, size_t);

#if defined(__x86_64__) || defined(__aarch64__)
/* One instruction, whatever the compiler: the callers ignore the result
 * of a stub call. */
__asm__(".text\n"
        ".globl bench_stub_ret\n"
        ".type bench_stub_ret, %function\n"
        "bench_stub_ret:\n"
        "\tret\n"
        ".size bench_stub_ret, .-bench_stub_ret\n");
void *stub_ph_alloc(ph_heap *h, size_t npages) __asm__("bench_stub_ret");
void stub_ph_free(ph_heap *h, void *p, size_t npages) __asm__("bench_stub_ret");
uintptr_t stub_ref_alloc(ref_model *m, size_t npages) __asm__("bench_stub_ret");
int stub_ref_free(ref_model *m, uintptr_t p, size_t npages) __asm__("bench_stub_ret");
#define BENCH_STUB_INSTRUCTIONS 1
#else
#error "page_bench's calibration stub is written for x86-64 and AArch64 hosts"
#endif

BENCH_OPAQUE static void *measured_ph_alloc(ph_alloc_fn fn, ph_heap *h, size_t npages,
                                            const char *label)
{
    CALLGRIND_ZERO_STATS;
    void *p = fn(h, npages);
    CALLGRIND_DUMP_STATS_AT(label);
    return p;
}

BENCH_OPAQUE static void measured_ph_free(ph_free_fn fn, ph_heap *h, void *p, size_t npages,
                                          const char *label)
{
    CALLGRIND_ZERO_STATS;
    fn(h, p, npages);
    CALLGRIND_DUMP_STATS_AT(label);
}

BENCH_OPAQUE static uintptr_t measured_ref_alloc(ref_alloc_fn fn, ref_model *m, size_t npages,
                                                 const char *label)
{
    CALLGRIND_ZERO_STATS;
    uintptr_t p = fn(m, npages);
    CALLGRIND_DUMP_STATS_AT(label);
    return p;
}

BENCH_OPAQUE static int measured_ref_free(ref_free_fn fn, ref_model *m, uintptr_t p,
                                          size_t npages, const char *label)
{
    CALLGRIND_ZERO_STATS;
    int fault = fn(m, p, npages);
    CALLGRIND_DUMP_STATS_AT(label);
    return fault;
}

/* CALIBRATION_CALLS parts per wrapper, labelled "stub-<op>". */
static void calibrate(ph_heap *h, ref_model *m)
{
    for (unsigned i = 0; i < CALIBRATION_CALLS; i++) {
        (void)measured_ph_alloc(stub_ph_alloc, h, 1, "stub-ph-alloc");
        measured_ph_free(stub_ph_free, h, NULL, 1, "stub-ph-free");
        (void)measured_ref_alloc(stub_ref_alloc, m, 1, "stub-ref-alloc");
        (void)measured_ref_free(stub_ref_free, m, 0, 1, "stub-ref-free");
    }
}

/* ---- constructed worst cases (perop mode) ----
 *
 * One heap laid out to make the search and the update of one call longest,
 * measured through the same wrappers with the labels "ph-worst-alloc" and
 * "ph-worst-free" (the script prints their largest part).  Every page is in
 * use but a few, in chunks c0 and c1 = c0 + 1 near the end, so that:
 *   A  the only fitting run (W/2 + 1 pages) lies inside chunk c0, above
 *      six single free pages: the search scans every word of the index's
 *      top level and takes the last one, descends every level, visits
 *      PH_MAX_RUN_VISITS runs of c0 and searches the rest by doubling; the
 *      run was c0's longest inner run, so the allocation rescans the word
 *      (visits, then doubling) and the chunk's value falls at every level
 *      (a lane maximum recomputed per level); the free raises them again;
 *   B  the only fitting run (W pages) straddles chunks c0 and c1: both
 *      values recomputed and carried up, both ways;
 *   E  a free of the whole chunk c1 between a free top run of c0 and a
 *      free bottom run of c1 + 1, the highest value, which falls to 0 at
 *      every level: three values change (and the allocation back);
 *   F  the top half of c0 taken from a run going on into c1: c0's value
 *      falls from the highest, c1's bottom run now begins;
 *   G  a free of W pages across c0 and c1 whose ends join each chunk's
 *      longest inner run to the run at its edge: both words rescanned
 *      (visits, then doubling), c0's value rises, c1's falls.
 * c1 is the first lane of a word of the index and c0 the last of the word
 * before, so each value is carried up on its own.
 * Runs of more than W pages take the search over the cap: D lays out runs
 * of W pages one page apart over the whole heap and asks for W + 1 pages,
 * which only the last free stretch holds ("ph-long-alloc"): every chunk is
 * a candidate, O(chunks).  Runs of more than W + 1 pages also add O(n / W)
 * words to the update: C allocates and frees the whole heap in one call
 * each ("ph-whole-alloc", "ph-whole-free").  The per-call formula in
 * pageheap.h states these. */

#ifdef PH_WORD_BITS
#define WORST_W ((size_t)PH_WORD_BITS)
#else
#define WORST_W (UINTPTR_MAX > 0xFFFFFFFFu ? (size_t)64 : (size_t)32)
#endif
#define WORST_HOLES 6u /* single free pages in a word: more than the visits */

static bool worst_free(ph_heap *h, uintptr_t base, size_t usable, size_t first, size_t n)
{
    if (first + n > usable)
        return false;
    ph_page_free(h, (void *)(base + first * PAGE_SIZE), n);
    return true;
}

/* A run of free pages in a constructed layout. */
typedef struct {
    size_t first, n;
} worst_run;

/* A fresh heap over mem with every page in use but the runs given; *base
 * and *npages get the region's.  False when the heap is too small. */
static bool worst_layout(ph_heap *h, void *mem, size_t bytes, const worst_run *runs,
                         size_t nruns, uintptr_t *base, size_t *npages)
{
    ph_region_info ri;
    if (ph_init(h, PAGE_SIZE, NULL) != PH_OK || ph_add_region(h, mem, bytes, 0) != PH_OK ||
        ph_get_region(h, 0, &ri) != PH_OK || ph_page_alloc(h, ri.npages) == NULL)
        return false;
    *base = (uintptr_t)ri.base;
    *npages = ri.npages;
    for (size_t i = 0; i < nruns; i++)
        if (!worst_free(h, *base, ri.npages, runs[i].first, runs[i].n))
            return false;
    return true;
}

/* Lays the heap out, frees run [first, first + n), then measures its
 * allocation and its free; the allocation must return the run. */
static bool worst_case(ph_heap *h, void *mem, size_t bytes, size_t first, size_t n,
                       const worst_run *runs, size_t nruns)
{
    uintptr_t base;
    size_t npages;
    if (!worst_layout(h, mem, bytes, runs, nruns, &base, &npages) ||
        !worst_free(h, base, npages, first, n))
        return false;
    void *p = measured_ph_alloc(ph_page_alloc, h, n, "ph-worst-alloc");
    if ((uintptr_t)p != base + first * PAGE_SIZE)
        return false;
    measured_ph_free(ph_page_free, h, p, n, "ph-worst-free");
    return ph_check(h) == PH_OK;
}

/* Lays the heap out, run [first, first + n) in use, and measures its free
 * alone. */
static bool worst_free_case(ph_heap *h, void *mem, size_t bytes, size_t first, size_t n,
                            const worst_run *runs, size_t nruns)
{
    uintptr_t base;
    size_t npages;
    if (!worst_layout(h, mem, bytes, runs, nruns, &base, &npages) || first + n > npages)
        return false;
    measured_ph_free(ph_page_free, h, (void *)(base + first * PAGE_SIZE), n, "ph-worst-free");
    return ph_check(h) == PH_OK;
}

/* Runs cases A to G on a fresh heap over mem; prints the index's
 * levels. */
static bool worst_cases(ph_heap *h, void *mem, size_t bytes, size_t usable)
{
    size_t w = WORST_W, nchunks = usable / w; /* whole chunks */
    worst_run holes[2 * WORST_HOLES];
    ph_region_info ri;
    if (nchunks < 4)
        return false;
    /* c1 the first lane of a word of the index (w / 8 lanes), c0 the last
     * lane of the word before: their values are carried up separately */
    size_t c1 = (nchunks - 2) / (w / 8) * (w / 8), c0 = c1 - 1;
    for (size_t i = 0; i < WORST_HOLES; i++) {
        holes[i] = (worst_run){c0 * w + 2 * i, 1};                        /* low end of c0 */
        holes[WORST_HOLES + i] = (worst_run){c1 * w + w / 2 + 1 + 2 * i, 1}; /* high of c1 */
    }
    bool ok = worst_case(h, mem, bytes, c0 * w + 2 * WORST_HOLES, w / 2 + 1, holes, WORST_HOLES) &&
              worst_case(h, mem, bytes, c1 * w - w / 2, w, holes, 2 * WORST_HOLES);
    /* E: a free of the whole chunk c1 between a free top run of c0 and a
     * free bottom run of c1 + 1 (the highest value, falling to 0 at every
     * level): the values of c0, c1 and c1 + 1 change.
     * F: the top half of c0 taken from a run going on into c1: c0's value
     * falls from the highest, c1's bottom run now begins.
     * G: a free of W pages across c0 and c1 whose ends join each chunk's
     * longest inner run (5 pages) to a run at the chunk's edge: both inner
     * runs are rescanned over five single free pages (visits, then
     * doubling), c0's value rises, c1's falls from the highest. */
    worst_run e_runs[2] = {{c1 * w - 3, 3}, {(c1 + 1) * w, w / 2 - 1}};
    worst_run f_runs[1] = {{c1 * w, w / 2}};
    worst_run g_runs[12];
    for (size_t i = 0; i < 5; i++) {
        g_runs[i] = (worst_run){c0 * w + 2 * i, 1};              /* 0, 2, .., 8 */
        g_runs[5 + i] = (worst_run){c1 * w + w / 2 + 7 + 2 * i, 1}; /* above c1's inner run */
    }
    g_runs[10] = (worst_run){c0 * w + w / 2 - 5, 5};
    g_runs[11] = (worst_run){c1 * w + w / 2, 5};
    ok = ok && worst_free_case(h, mem, bytes, c1 * w, w, e_runs, 2) &&
         worst_case(h, mem, bytes, c0 * w + w / 2, w / 2, f_runs, 1) &&
         worst_free_case(h, mem, bytes, c0 * w + w / 2, w, g_runs, 12);
    /* C: the whole heap in one call, for the O(n / W) term. */
    if (ok && ph_init(h, PAGE_SIZE, NULL) == PH_OK && ph_add_region(h, mem, bytes, 0) == PH_OK &&
        ph_get_region(h, 0, &ri) == PH_OK) {
        void *p = measured_ph_alloc(ph_page_alloc, h, ri.npages, "ph-whole-alloc");
        ok = p == ri.base;
        measured_ph_free(ph_page_free, h, p, ri.npages, "ph-whole-free");
        ok = ok && ph_check(h) == PH_OK;
    } else {
        ok = false;
    }
    /* D: runs of exactly W free pages, one used page apart, then a last
     * stretch of W + 1: a request of W + 1 pages measures every run. */
    uintptr_t base;
    size_t npages;
    if (ok && worst_layout(h, mem, bytes, NULL, 0, &base, &npages)) {
        size_t p = 0, last = npages - (w + 1);
        for (; p + w < last; p += w + 1)
            ok = ok && worst_free(h, base, npages, p, w);
        ok = ok && worst_free(h, base, npages, last, w + 1);
        void *q = measured_ph_alloc(ph_page_alloc, h, w + 1, "ph-long-alloc");
        ok = ok && (uintptr_t)q == base + last * PAGE_SIZE && ph_check(h) == PH_OK;
    } else {
        ok = false;
    }
    /* the index's levels, as the library lays them out */
    size_t levels = ph_region_levels((usable + w - 1) / w, NULL);
    printf("worst levels=%zu chunk_pages=%zu chunks=%zu ok=%s\n", levels, w,
           (usable + w - 1) / w, ok ? "yes" : "no");
    return ok;
}

/* ---- the trace ---- */

typedef struct live_run {
    uintptr_t addr;
    size_t npages;
} live_run;

typedef enum { ALLOC_PAGEHEAP, ALLOC_REFERENCE } allocator_kind;

typedef struct bench {
    allocator_kind kind;
    bool per_op;          /* bracket every call (perop mode, measured part) */
    ph_heap *heap;
    ref_model *ref;
    uintptr_t base;       /* first usable page                             */
    size_t usable_pages;
    size_t fill_target;   /* live pages at which the trace starts freeing  */
    uint64_t rng;
    live_run *live;       /* unordered; a free swaps the last one in       */
    size_t nlive;
    size_t live_pages;
    /* results */
    uint64_t ops, allocs, frees, failed;
    size_t highest_end;   /* one past the highest page index ever used     */
    size_t peak_live;
    uint64_t placement;   /* FNV-1a over the page index of every result    */
} bench;

static void placement_add(bench *b, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        b->placement ^= (v >> (8 * i)) & 0xFFu;
        b->placement *= 0x100000001B3u;
    }
}

static uintptr_t bench_alloc(bench *b, size_t npages)
{
    if (b->kind == ALLOC_PAGEHEAP)
        return (uintptr_t)(b->per_op
                               ? measured_ph_alloc(ph_page_alloc, b->heap, npages, "ph-alloc")
                               : ph_page_alloc(b->heap, npages));
    return b->per_op ? measured_ref_alloc(ref_alloc, b->ref, npages, "ref-alloc")
                     : ref_alloc(b->ref, npages);
}

static void bench_free(bench *b, uintptr_t p, size_t npages)
{
    if (b->kind == ALLOC_PAGEHEAP) {
        if (b->per_op)
            measured_ph_free(ph_page_free, b->heap, (void *)p, npages, "ph-free");
        else
            ph_page_free(b->heap, (void *)p, npages);
        return;
    }
    int fault = b->per_op ? measured_ref_free(ref_free, b->ref, p, npages, "ref-free")
                          : ref_free(b->ref, p, npages);
    if (fault != 0) {
        fprintf(stderr, "page_bench: reference model refused a free (%d)\n", fault);
        exit(2);
    }
}

/* One operation of the trace. */
static void bench_step(bench *b)
{
    b->ops++;
    if (b->live_pages < b->fill_target) {
        size_t npages = 1 + rng_below(&b->rng, max_request);
        uintptr_t p = bench_alloc(b, npages);
        b->allocs++;
        if (p == 0) {
            b->failed++;
            placement_add(b, UINT64_MAX);
            return;
        }
        size_t first = (p - b->base) / PAGE_SIZE;
        placement_add(b, first);
        b->live[b->nlive].addr = p;
        b->live[b->nlive].npages = npages;
        b->nlive++;
        b->live_pages += npages;
        if (first + npages > b->highest_end)
            b->highest_end = first + npages;
        if (b->live_pages > b->peak_live)
            b->peak_live = b->live_pages;
    } else {
        size_t i = rng_below(&b->rng, b->nlive);
        live_run run = b->live[i];
        b->live[i] = b->live[--b->nlive];
        bench_free(b, run.addr, run.npages);
        b->frees++;
        b->live_pages -= run.npages;
    }
}

/* Fills the heap to the fill target.  Afterwards allocs and frees count the
 * measured operations only; failed, highest_end and peak_live keep counting
 * over the whole run. */
static void bench_warm_up(bench *b)
{
    /* Not measured: run it uninstrumented, which matters for the reference
     * model (O(pages) per allocation). */
    CALLGRIND_STOP_INSTRUMENTATION;
    while (b->live_pages < b->fill_target)
        bench_step(b);
    CALLGRIND_START_INSTRUMENTATION;
    b->allocs = 0;
    b->frees = 0;
}

/* Kept out of line so that callgrind --toggle-collect can name them. */
__attribute__((noinline)) void bench_measured_pageheap(bench *b, uint64_t ops);
__attribute__((noinline)) void bench_measured_reference(bench *b, uint64_t ops);

void bench_measured_pageheap(bench *b, uint64_t ops)
{
    for (uint64_t i = 0; i < ops; i++)
        bench_step(b);
}

void bench_measured_reference(bench *b, uint64_t ops)
{
    for (uint64_t i = 0; i < ops; i++)
        bench_step(b);
}

static void bench_start(bench *b, allocator_kind kind, uintptr_t base, size_t usable,
                        uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->base = base;
    b->usable_pages = usable;
    b->fill_target = usable * FILL_PERCENT / 100u;
    b->rng = seed;
    b->placement = 0xCBF29CE484222325u;
    /* Every live run holds at least one page. */
    b->live = calloc(usable, sizeof *b->live);
    if (b->live == NULL) {
        fprintf(stderr, "page_bench: out of host memory\n");
        exit(2);
    }
}

static void print_result(const char *name, const bench *b, uint64_t warmup_ops,
                         uint64_t measured_ops)
{
    printf("result allocator=%s usable_pages=%zu fill_target=%zu warmup_ops=%" PRIu64
           " ops=%" PRIu64 " allocs=%" PRIu64 " frees=%" PRIu64 " failed=%" PRIu64
           " highest_page=%zu peak_live=%zu placement_hash=%016" PRIx64,
           name, b->usable_pages, b->fill_target, warmup_ops, measured_ops,
           b->allocs, b->frees, b->failed, b->highest_end, b->peak_live, b->placement);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: page_bench [--pages N] [--ops N] [--ref-ops N] [--seed N]"
            " [--mode perop|plain] [--max-run N]\n"
            "  --pages    heap size in 4 KiB pages, metadata included (default 16384)\n"
            "  --ops      measured pageheap operations after warm-up (default 1000000)\n"
            "  --ref-ops  measured reference-model operations, the same trace's first\n"
            "             ones (default 20000, at most --ops; 0 skips the model)\n"
            "  --mode     perop: one callgrind dump per operation; plain: none\n"
            "  --max-run  requests are uniform in 1..N pages (default 64)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    size_t pages = 16384;
    uint64_t ops = 1000000, ref_ops = 20000, seed = 1;
    bool per_op = false;

    if (argc % 2 != 1)
        usage();
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *arg = argv[i];
        const char *val = argv[i + 1];
        if (strcmp(arg, "--pages") == 0)
            pages = (size_t)strtoull(val, NULL, 0);
        else if (strcmp(arg, "--ops") == 0)
            ops = strtoull(val, NULL, 0);
        else if (strcmp(arg, "--ref-ops") == 0)
            ref_ops = strtoull(val, NULL, 0);
        else if (strcmp(arg, "--max-run") == 0)
            max_request = (size_t)strtoull(val, NULL, 0);
        else if (strcmp(arg, "--seed") == 0)
            seed = strtoull(val, NULL, 0);
        else if (strcmp(arg, "--mode") == 0 && strcmp(val, "perop") == 0)
            per_op = true;
        else if (strcmp(arg, "--mode") == 0 && strcmp(val, "plain") == 0)
            per_op = false;
        else
            usage();
    }
    if (pages < 2 || max_request < 1)
        usage();
    if (ref_ops > ops)
        ref_ops = ops; /* the model runs a prefix of pageheap's trace */

    size_t bytes = pages * (size_t)PAGE_SIZE;
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        perror("page_bench: mmap");
        return 2;
    }

    static ph_heap heap;
    ph_region_info region;
    if (ph_init(&heap, PAGE_SIZE, NULL) != PH_OK ||
        ph_add_region(&heap, mem, bytes, 0) != PH_OK ||
        ph_get_region(&heap, 0, &region) != PH_OK) {
        fprintf(stderr, "page_bench: heap set-up failed\n");
        return 2;
    }
    ph_stats stats;
    ph_get_stats(&heap, &stats);
    printf("heap pages=%zu page_size=%u usable_pages=%zu metadata_bytes=%zu mode=%s seed=%" PRIu64
           "\n", pages, PAGE_SIZE, region.npages, stats.metadata_bytes,
           per_op ? "perop" : "plain", seed);

    /* ---- pageheap ---- */
    static bench b;
    bench_start(&b, ALLOC_PAGEHEAP, (uintptr_t)region.base, region.npages, seed);
    b.heap = &heap;
    bench_warm_up(&b);
    uint64_t warmup_ops = b.ops;
    if (per_op) {
        static ref_model unused;
        calibrate(&heap, &unused);
        b.per_op = true;
    }
    /* The first ref_ops operations, then the rest, so that the placement of
     * the prefix that the reference model also runs can be compared. */
    bench_measured_pageheap(&b, ref_ops);
    uint64_t ph_prefix_placement = b.placement;
    bench_measured_pageheap(&b, ops - ref_ops);
    b.per_op = false;

    int check = ph_check(&heap);
    ph_get_stats(&heap, &stats);
    print_result("pageheap", &b, warmup_ops, ops);
    printf(" check=%d faults=%zu pages_free=%zu expected_free=%zu\n", check, stats.faults,
           stats.pages_free, b.usable_pages - b.live_pages);
    bool ph_ok = check == PH_OK && stats.faults == 0 &&
                 stats.pages_free == b.usable_pages - b.live_pages;
    free(b.live);

    /* ---- the reference model, same trace, same page addresses ---- */
    bool ref_ok = true;
    if (ref_ops > 0) {
        static ref_model ref;
        ref_init(&ref, PAGE_SIZE);
        ref_add_region(&ref, (uintptr_t)region.base, region.npages);
        bench_start(&b, ALLOC_REFERENCE, (uintptr_t)region.base, region.npages, seed);
        b.ref = &ref;
        bench_warm_up(&b);
        warmup_ops = b.ops;
        b.per_op = per_op;
        bench_measured_reference(&b, ref_ops);
        b.per_op = false;
        print_result("reference", &b, warmup_ops, ref_ops);
        ref_ok = b.placement == ph_prefix_placement;
        printf(" placement_match=%s\n", ref_ok ? "yes" : "no");
        free(b.live);
        ref_destroy(&ref);
    }

    bool worst_ok = !per_op || worst_cases(&heap, mem, bytes, region.npages);

    munmap(mem, bytes);
    if (!worst_ok)
        fprintf(stderr, "page_bench: a constructed worst case could not be laid out\n");
    if (!ph_ok)
        fprintf(stderr, "page_bench: pageheap's state is inconsistent after the run\n");
    if (!ref_ok)
        fprintf(stderr, "page_bench: pageheap and the reference model placed runs differently\n");
    return ph_ok && ref_ok && worst_ok ? 0 : 1;
}
