/* SPDX-License-Identifier: MIT */
/*
 * scav_bench: instructions per call and per released granule of
 * ph_scavenge and ph_idle on a 1 GiB host heap, counted with callgrind.
 *
 * A benchmark program, not a test.  Run it through bench/run-scav-bench.sh,
 * which runs it under `valgrind --tool=callgrind` and prints the table.
 *
 * The heap: one region of 1 GiB (262144 pages of 4 KiB, mmap'ed with
 * MAP_NORESERVE), --granule bytes per granule.  The port's release and
 * acquire hooks do nothing (an empty function each), so the figures are
 * the heap's own work plus the indirect call into the hook and its return,
 * not what a real hook (madvise, a power switch) costs.  No lock hooks.
 *
 * The trace (page_bench's): warm-up, not measured, allocates runs of 1..64
 * pages (uniform) until 75% of the pages are live.  Then, by --scenario:
 *   drain   free a uniformly chosen half of the live runs (fragmented free
 *           memory all over the heap), then measure ph_scavenge(h,
 *           SIZE_MAX) once (everything releasable) and once more (nothing
 *           left: the cost of an empty pass).
 *   scav    ph_scavenge(h, SIZE_MAX) (not measured: the untouched quarter
 *           at the top goes, so what is released later is memory that the
 *           churn freed), then --ops churn operations: allocate 1..64
 *           pages while below the fill target, else free a uniformly
 *           chosen live run; the target swings between 75% and 40% of the
 *           pages every 25,000 operations (busy and quiet phases, so the
 *           pacer's peak rises and decays).  After every --every
 *           operations, one measured ph_scavenge(h, --nbytes).
 *           Allocations acquire what the scavenger released, frees make
 *           new free granules: the steady state of a heap that is
 *           scavenged now and then.
 *   idle    the same start and churn, one measured ph_idle(h) after every --every
 *           operations, default policy (PH_IDLE_BUDGET_BYTES = 4 KiB budget
 *           per call, 12% headroom, decay shift 4) or --budget bytes.
 *
 * Measurement (--mode perop): each measured call goes through a wrapper that
 * brackets it with CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT(label),
 * so callgrind writes one dump part per call (page_bench's method, see
 * bench/run-page-bench.sh); the wrapper's constant overhead is measured by
 * calling a one-instruction stub through the same wrapper ("stub-<label>"
 * parts).  The program prints one line `call <label> <bytes released>` per
 * measured call, in order, so the script pairs the n-th part of a label
 * with the n-th call line.  --mode plain makes the same calls without
 * client requests, for a profile (callgrind --toggle-collect=ph_scavenge
 * --toggle-collect=ph_idle) that cross-checks the sums.
 */
#define _GNU_SOURCE
#include "pageheap.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_callgrind.h"
#include "bench_util.h"

#define PAGE_SIZE 4096u
#define HEAP_PAGES 262144u   /* 1 GiB of 4 KiB pages */
#define MAX_REQUEST_PAGES 64u
#define FILL_PERCENT 75u
#define LOW_PERCENT 40u      /* the churn's quiet phases                 */
#define PHASE_OPS 25000u     /* churn operations per phase              */
#define CALIBRATION_CALLS 1000u

/* ---- the port: hooks that do nothing ---- */

BENCH_OPAQUE static void nop_hook(void *ctx, void *base, size_t len)
{
    (void)ctx;
    (void)base;
    (void)len;
}

/* ---- measured wrappers ---- */

typedef size_t (*scav_fn)(ph_heap *, size_t);
typedef size_t (*idle_fn)(ph_heap *);

#if defined(__x86_64__) || defined(__aarch64__)
__asm__(".text\n"
        ".globl scav_bench_stub_ret\n"
        ".type scav_bench_stub_ret, %function\n"
        "scav_bench_stub_ret:\n"
        "\tret\n"
        ".size scav_bench_stub_ret, .-scav_bench_stub_ret\n");
size_t stub_scavenge(ph_heap *h, size_t nbytes) __asm__("scav_bench_stub_ret");
size_t stub_idle(ph_heap *h) __asm__("scav_bench_stub_ret");
#else
#error "scav_bench's calibration stub is written for x86-64 and AArch64 hosts"
#endif

BENCH_OPAQUE static size_t measured_scavenge(scav_fn fn, ph_heap *h, size_t nbytes,
                                             const char *label)
{
    CALLGRIND_ZERO_STATS;
    size_t r = fn(h, nbytes);
    CALLGRIND_DUMP_STATS_AT(label);
    return r;
}

BENCH_OPAQUE static size_t measured_idle(idle_fn fn, ph_heap *h, const char *label)
{
    CALLGRIND_ZERO_STATS;
    size_t r = fn(h);
    CALLGRIND_DUMP_STATS_AT(label);
    return r;
}

/* ---- the trace ---- */

typedef struct live_run {
    void *p;
    size_t npages;
} live_run;

typedef struct bench {
    ph_heap *h;
    uint64_t rng;
    live_run *live;
    size_t nlive, live_pages, fill_target;
    bool per_op;
    uint64_t calls, granules, bytes, failed;
    size_t granule;
} bench;

static void churn_step(bench *b)
{
    if (b->live_pages < b->fill_target) {
        size_t n = 1 + rng_below(&b->rng, MAX_REQUEST_PAGES);
        void *p = ph_page_alloc(b->h, n);
        if (p == NULL) {
            b->failed++;
            return;
        }
        b->live[b->nlive].p = p;
        b->live[b->nlive].npages = n;
        b->nlive++;
        b->live_pages += n;
    } else {
        size_t i = rng_below(&b->rng, b->nlive);
        live_run r = b->live[i];
        b->live[i] = b->live[--b->nlive];
        ph_page_free(b->h, r.p, r.npages);
        b->live_pages -= r.npages;
    }
}

static void record(bench *b, const char *label, size_t bytes)
{
    printf("call %s %zu\n", label, bytes);
    b->calls++;
    b->bytes += bytes;
    b->granules += bytes / b->granule;
}

static void do_scavenge(bench *b, size_t nbytes, const char *label)
{
    size_t r = b->per_op ? measured_scavenge(ph_scavenge, b->h, nbytes, label)
                         : ph_scavenge(b->h, nbytes);
    record(b, label, r);
}

static void do_idle(bench *b, const char *label)
{
    size_t r = b->per_op ? measured_idle(ph_idle, b->h, label) : ph_idle(b->h);
    record(b, label, r);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: scav_bench --granule BYTES --scenario drain|scav|idle [--ops N] [--every K]\n"
            "                  [--nbytes BYTES] [--budget BYTES] [--seed N] [--mode perop|plain]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    size_t granule = 0, nbytes = 0, every = 16, budget = PH_IDLE_BUDGET_BYTES;
    uint64_t ops = 100000, seed = 1;
    const char *scenario = NULL;
    bool per_op = false;

    if (argc % 2 != 1)
        usage();
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--granule") == 0)
            granule = (size_t)strtoull(v, NULL, 0);
        else if (strcmp(a, "--scenario") == 0)
            scenario = v;
        else if (strcmp(a, "--ops") == 0)
            ops = strtoull(v, NULL, 0);
        else if (strcmp(a, "--every") == 0)
            every = (size_t)strtoull(v, NULL, 0);
        else if (strcmp(a, "--nbytes") == 0)
            nbytes = (size_t)strtoull(v, NULL, 0);
        else if (strcmp(a, "--budget") == 0)
            budget = (size_t)strtoull(v, NULL, 0);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 0);
        else if (strcmp(a, "--mode") == 0 && strcmp(v, "perop") == 0)
            per_op = true;
        else if (strcmp(a, "--mode") == 0 && strcmp(v, "plain") == 0)
            per_op = false;
        else
            usage();
    }
    if (granule < PAGE_SIZE || (granule & (granule - 1)) != 0 || scenario == NULL || every == 0)
        usage();
    if (nbytes == 0)
        nbytes = granule;

    size_t bytes = (size_t)HEAP_PAGES * PAGE_SIZE;
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        perror("scav_bench: mmap");
        return 2;
    }
    static ph_port port;
    static ph_heap heap;
    port.release = nop_hook;
    port.acquire = nop_hook;
    ph_stats st;
    if (ph_init(&heap, PAGE_SIZE, &port) != PH_OK || ph_add_region(&heap, mem, bytes, granule) != PH_OK) {
        fprintf(stderr, "scav_bench: heap set-up failed\n");
        return 2;
    }
    ph_idle_policy pol = { budget, PH_IDLE_HEADROOM_PCT, PH_IDLE_DECAY_SHIFT };
    ph_set_idle_policy(&heap, &pol);
    ph_get_stats(&heap, &st);
    printf("heap pages=%u usable_pages=%zu page_size=%u granule=%zu scenario=%s ops=%" PRIu64
           " every=%zu nbytes=%zu budget=%zu seed=%" PRIu64 " mode=%s\n",
           HEAP_PAGES, st.pages_total, PAGE_SIZE, granule, scenario, ops, every, nbytes, budget,
           seed, per_op ? "perop" : "plain");

    static bench b;
    b.h = &heap;
    b.rng = seed;
    b.granule = granule;
    b.fill_target = st.pages_total * FILL_PERCENT / 100u;
    b.live = calloc(st.pages_total, sizeof *b.live);
    if (b.live == NULL)
        return 2;

    CALLGRIND_STOP_INSTRUMENTATION;
    while (b.live_pages < b.fill_target)
        churn_step(&b);
    CALLGRIND_START_INSTRUMENTATION;

    if (per_op) {
        for (unsigned i = 0; i < CALIBRATION_CALLS; i++) {
            (void)measured_scavenge(stub_scavenge, &heap, 1, "stub-scav");
            (void)measured_idle(stub_idle, &heap, "stub-idle");
        }
    }
    b.per_op = per_op;
    if (strcmp(scenario, "drain") == 0) {
        CALLGRIND_STOP_INSTRUMENTATION;
        for (size_t k = b.nlive / 2; k > 0; k--) {
            size_t i = rng_below(&b.rng, b.nlive);
            live_run r = b.live[i];
            b.live[i] = b.live[--b.nlive];
            ph_page_free(&heap, r.p, r.npages);
            b.live_pages -= r.npages;
        }
        CALLGRIND_START_INSTRUMENTATION;
        do_scavenge(&b, SIZE_MAX, "scav");
        do_scavenge(&b, SIZE_MAX, "scav-empty");
    } else if (strcmp(scenario, "scav") == 0 || strcmp(scenario, "idle") == 0) {
        bool idle = scenario[0] == 'i';
        /* Start from a scavenged heap (not measured): the untouched quarter
         * at the top is released, so every later release is memory that
         * the churn freed. */
        CALLGRIND_STOP_INSTRUMENTATION;
        (void)ph_scavenge(&heap, SIZE_MAX);
        CALLGRIND_START_INSTRUMENTATION;
        for (uint64_t i = 1; i <= ops; i++) {
            /* the load swings: FILL_PERCENT, then LOW_PERCENT, by phases */
            b.fill_target = st.pages_total * ((i / PHASE_OPS) % 2 ? LOW_PERCENT : FILL_PERCENT) / 100u;
            churn_step(&b);
            if (i % every == 0) {
                if (idle)
                    do_idle(&b, "idle");
                else
                    do_scavenge(&b, nbytes, "scav");
            }
        }
    } else {
        usage();
    }
    b.per_op = false;

    int check = ph_check(&heap);
    ph_get_stats(&heap, &st);
    printf("result scenario=%s granule=%zu calls=%" PRIu64 " granules=%" PRIu64 " bytes=%" PRIu64
           " failed_allocs=%" PRIu64 " live_pages=%zu pages_released=%zu release_calls=%zu"
           " acquire_calls=%zu check=%d\n",
           scenario, granule, b.calls, b.granules, b.bytes, b.failed, b.live_pages,
           st.pages_released, st.release_calls, st.acquire_calls, check);
    free(b.live);
    munmap(mem, bytes);
    return check == PH_OK && b.failed == 0 ? 0 : 1;
}
