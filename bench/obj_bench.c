/* SPDX-License-Identifier: MIT */
/*
 * obj_bench: instructions per call of pageheap's malloc family, and of the
 * host's allocators (glibc, jemalloc, mimalloc) on the same trace; and the
 * footprint each one needs for it.
 *
 * This is a benchmark program, not a test.  Run it through
 * bench/run-obj-bench.sh, which runs it once per allocator and trace under
 * `valgrind --tool=callgrind` (and once natively for the footprints) and
 * turns what it prints and what callgrind dumps into a table.
 *
 * The traces (generated from --seed before anything is measured, so every
 * allocator gets exactly the same requests; they depend on nothing an
 * allocator returns)
 *   small  the small-object workload of the Cortex-M3 benchmark: sizes uniform in 16..512
 *          bytes, about 745 live objects (75% of a 256 KiB heap: 745 x 264 B
 *          mean), 1,000,000 measured operations.  Warm-up (not measured):
 *          745 mallocs.  Then each operation is a malloc with probability
 *          0.5 + (745 - live) / 64 (clamped to 0..1), else the free of a
 *          uniformly chosen live object: the live count stays within a few
 *          objects of 745, the live bytes near 75% of the heap.
 *   mixed  sizes log-uniform in 8 B..64 KiB, and for 10% of the requests
 *          log-uniform in 64..256 KiB; about 2,000 live objects (~41 MB,
 *          ~62% of a 64 MiB heap); 300,000 measured operations, 10% of
 *          them reallocs of a uniformly chosen live object to its size times
 *          2^u, u uniform in -1..1 (clamped to 1 B..256 KiB); the others
 *          malloc / free as in "small" (probability 0.5 + (2000 - live) / 64).
 *          Warm-up: 2,000 mallocs.
 *   A request that fails (NULL) is counted; the trace goes on (a later free
 *   of that object is skipped, a failed realloc keeps the old object).
 *
 * Allocators (--alloc), one per process:
 *   ph        ph_malloc / ph_free / ph_realloc on one region of --heap-bytes
 *             (mmap'ed), --page-size (default 256 for small, the Cortex-M
 *             default; 4096 for mixed), no port (no lock hooks)
 *   glibc     the C library's malloc / free / realloc
 *   jemalloc  malloc / free / realloc, which must come from libjemalloc:
 *   mimalloc  ... from libmimalloc: run the program with
 *             LD_PRELOAD=libjemalloc.so.2 (or libmimalloc.so.2); it checks
 *             with dladdr() which library serves malloc and refuses to run
 *             when it is the wrong one.  (jemalloc cannot be dlopen'ed:
 *             Debian's libjemalloc.so.2 uses initial-exec TLS, "cannot
 *             allocate memory in static TLS block"; preloading both peers
 *             the same way keeps the comparison uniform.)
 *   The program's own arrays (trace, pointer table) are mmap'ed, and stdout
 *   gets a static buffer, so the allocator under test serves only the trace.
 *
 * Modes (--mode)
 *   perop   the first --window measured operations (default: all) each go
 *           through a wrapper that brackets the one allocator call with
 *           CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT("<label>"),
 *           labels "malloc", "free", "realloc"; the wrapper's constant
 *           overhead is measured through the same wrapper with a
 *           one-instruction stub ("stub-<label>") and subtracted by the
 *           script (page_bench's method, see bench/run-page-bench.sh).
 *   plain   no client requests.  The measured operations call the allocator
 *           through out-of-line wrappers: win_<op> for the first --window
 *           operations, all_<op> for the rest (op = malloc, free, realloc;
 *           ph_<op> wrappers for pageheap, c_<op> for the others), so that
 *           callgrind_annotate's inclusive minus self cost of each wrapper is
 *           the exact cost of the allocator calls it made: the window's sum
 *           must equal the per-op dumps', and win + all give the exact mean
 *           over every measured operation.
 *   native  no valgrind: footprints.  Runs the trace with every object
 *           filled with a pattern that is verified at its free / realloc
 *           (an object that overlaps another, or is moved wrongly by
 *           realloc, is reported as corrupt), peaks sampled after every
 *           operation (pageheap: pages in use; glibc: mallinfo2() arena +
 *           hblkhd; jemalloc: stats.active and stats.resident; mimalloc:
 *           mi_process_info's peak commit); for pageheap also
 *           ph_usable_size and alignment of every object, ph_check at the end,
 *           and a binary search for the smallest region (whole pages,
 *           metadata included) that serves the whole trace, warm-up
 *           included, without one failed request.
 *
 * Output: `trace key=value ...`, `result key=value ...` and (native)
 * `footprint key=value ...` lines on stdout.
 */
#define _GNU_SOURCE
#include "pageheap.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_callgrind.h"
#include "bench_util.h"

#define CALIBRATION_CALLS 1000u

/* ---- random numbers: splitmix64 (bench_util.h), and: ---- */

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

/* Log-uniform integer in [lo, hi]. */
static size_t rng_log_uniform(uint64_t *state, size_t lo, size_t hi)
{
    double l = log2((double)lo), h = log2((double)hi + 1.0);
    size_t v = (size_t)exp2(l + (h - l) * rng_unit(state));
    return v < lo ? lo : v > hi ? hi : v;
}

static void *map_or_die(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        perror("obj_bench: mmap");
        exit(2);
    }
    return p;
}

/* ---- the trace ---- */

enum { OP_MALLOC = 0, OP_FREE = 1, OP_REALLOC = 2 };

typedef struct op {
    uint32_t slot; /* index into the replay's pointer table */
    uint32_t size; /* malloc / realloc: bytes requested      */
    uint32_t kind;
} op;

typedef struct trace {
    const char *name;
    op *ops;
    size_t nops;       /* warm-up + measured                      */
    size_t warmup;     /* the first `warmup` ops are not measured */
    size_t nslots;
    size_t mallocs, frees, reallocs; /* measured ops only */
    size_t peak_live_bytes, peak_live_objects;
    double mean_live_bytes, mean_live_objects; /* over the measured ops */
    size_t min_size, max_size;
} trace;

typedef struct trace_params {
    size_t target_live;
    size_t measured_ops;
    unsigned realloc_pct;
    bool mixed;
} trace_params;

static size_t draw_size(const trace_params *tp, uint64_t *rng)
{
    if (!tp->mixed)
        return 16 + rng_below(rng, 512 - 16 + 1);
    if (rng_below(rng, 10) == 0)
        return rng_log_uniform(rng, 65537, 262144);
    return rng_log_uniform(rng, 8, 65536);
}

static void trace_generate(trace *t, const char *name, const trace_params *tp, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->warmup = tp->target_live;
    t->nops = t->warmup + tp->measured_ops;
    t->ops = map_or_die(t->nops * sizeof *t->ops);
    size_t maxslots = tp->target_live * 2 + 64; /* the live count never gets near */
    uint32_t *live = map_or_die(maxslots * sizeof *live);   /* live slots        */
    uint32_t *freeslot = map_or_die(maxslots * sizeof *freeslot);
    uint32_t *size = map_or_die(maxslots * sizeof *size);
    size_t nlive = 0, nfree = 0, live_bytes = 0, next_slot = 0;
    double sum_bytes = 0, sum_objects = 0;
    uint64_t rng = seed;
    t->min_size = SIZE_MAX;

    for (size_t i = 0; i < t->nops; i++) {
        op *o = &t->ops[i];
        bool measured = i >= t->warmup;
        bool do_malloc;
        if (!measured) {
            do_malloc = true;
        } else if (tp->realloc_pct && nlive > 0 && rng_below(&rng, 100) < tp->realloc_pct) {
            size_t k = rng_below(&rng, nlive);
            uint32_t s = live[k];
            double f = exp2(2.0 * rng_unit(&rng) - 1.0);
            size_t ns = (size_t)((double)size[s] * f);
            ns = ns < 1 ? 1 : ns > 262144 ? 262144 : ns;
            o->kind = OP_REALLOC;
            o->slot = s;
            o->size = (uint32_t)ns;
            live_bytes = live_bytes - size[s] + ns;
            size[s] = (uint32_t)ns;
            t->reallocs++;
            goto account;
        } else {
            double p = 0.5 + ((double)tp->target_live - (double)nlive) / 64.0;
            do_malloc = nlive == 0 || rng_unit(&rng) < p;
        }
        if (do_malloc) {
            size_t sz = draw_size(tp, &rng);
            uint32_t s = nfree ? freeslot[--nfree] : (uint32_t)next_slot++;
            if (next_slot > maxslots) {
                fprintf(stderr, "obj_bench: trace generator ran out of slots\n");
                exit(2);
            }
            o->kind = OP_MALLOC;
            o->slot = s;
            o->size = (uint32_t)sz;
            size[s] = (uint32_t)sz;
            live[nlive++] = s;
            live_bytes += sz;
            if (measured)
                t->mallocs++;
        } else {
            size_t k = rng_below(&rng, nlive);
            uint32_t s = live[k];
            live[k] = live[--nlive];
            freeslot[nfree++] = s;
            o->kind = OP_FREE;
            o->slot = s;
            o->size = 0;
            live_bytes -= size[s];
            t->frees++;
        }
    account:
        if (o->kind != OP_FREE) {
            if (o->size < t->min_size)
                t->min_size = o->size;
            if (o->size > t->max_size)
                t->max_size = o->size;
        }
        if (live_bytes > t->peak_live_bytes)
            t->peak_live_bytes = live_bytes;
        if (nlive > t->peak_live_objects)
            t->peak_live_objects = nlive;
        if (measured) {
            sum_bytes += (double)live_bytes;
            sum_objects += (double)nlive;
        }
    }
    t->nslots = next_slot;
    t->mean_live_bytes = sum_bytes / (double)tp->measured_ops;
    t->mean_live_objects = sum_objects / (double)tp->measured_ops;
    munmap(live, maxslots * sizeof *live);
    munmap(freeslot, maxslots * sizeof *freeslot);
    munmap(size, maxslots * sizeof *size);
}

/* ---- the allocators ---- */

typedef enum { A_PH, A_GLIBC, A_JEMALLOC, A_MIMALLOC } alloc_kind;

typedef void *(*c_malloc_fn)(size_t);
typedef void (*c_free_fn)(void *);
typedef void *(*c_realloc_fn)(void *, size_t);
typedef void *(*ph_malloc_fn)(ph_heap *, size_t);
typedef void (*ph_free_fn)(ph_heap *, void *);
typedef void *(*ph_realloc_fn)(ph_heap *, void *, size_t);

static c_malloc_fn g_malloc;
static c_free_fn g_free;
static c_realloc_fn g_realloc;
static ph_heap g_heap;

/* ---- measured wrappers (perop mode): page_bench's, one family per
 * signature.  The same wrapper code calls the allocator and, for the
 * calibration, a stub whose body is one `ret`; the script subtracts
 * (stub part - 1), so a figure counts from the allocator function's first
 * instruction to its `ret`, callees included. */

#if defined(__x86_64__) || defined(__aarch64__)
__asm__(".text\n"
        ".globl obj_bench_stub_ret\n"
        ".type obj_bench_stub_ret, %function\n"
        "obj_bench_stub_ret:\n"
        "\tret\n"
        ".size obj_bench_stub_ret, .-obj_bench_stub_ret\n");
void *stub_c_malloc(size_t n) __asm__("obj_bench_stub_ret");
void stub_c_free(void *p) __asm__("obj_bench_stub_ret");
void *stub_c_realloc(void *p, size_t n) __asm__("obj_bench_stub_ret");
void *stub_ph_malloc(ph_heap *h, size_t n) __asm__("obj_bench_stub_ret");
void stub_ph_free(ph_heap *h, void *p) __asm__("obj_bench_stub_ret");
void *stub_ph_realloc(ph_heap *h, void *p, size_t n) __asm__("obj_bench_stub_ret");
#else
#error "obj_bench's calibration stub is written for x86-64 and AArch64 hosts"
#endif

BENCH_OPAQUE static void *measured_c_malloc(c_malloc_fn fn, size_t n, const char *label)
{
    CALLGRIND_ZERO_STATS;
    void *p = fn(n);
    CALLGRIND_DUMP_STATS_AT(label);
    return p;
}

BENCH_OPAQUE static void measured_c_free(c_free_fn fn, void *p, const char *label)
{
    CALLGRIND_ZERO_STATS;
    fn(p);
    CALLGRIND_DUMP_STATS_AT(label);
}

BENCH_OPAQUE static void *measured_c_realloc(c_realloc_fn fn, void *p, size_t n,
                                             const char *label)
{
    CALLGRIND_ZERO_STATS;
    void *q = fn(p, n);
    CALLGRIND_DUMP_STATS_AT(label);
    return q;
}

BENCH_OPAQUE static void *measured_ph_malloc(ph_malloc_fn fn, ph_heap *h, size_t n,
                                             const char *label)
{
    CALLGRIND_ZERO_STATS;
    void *p = fn(h, n);
    CALLGRIND_DUMP_STATS_AT(label);
    return p;
}

BENCH_OPAQUE static void measured_ph_free(ph_free_fn fn, ph_heap *h, void *p, const char *label)
{
    CALLGRIND_ZERO_STATS;
    fn(h, p);
    CALLGRIND_DUMP_STATS_AT(label);
}

BENCH_OPAQUE static void *measured_ph_realloc(ph_realloc_fn fn, ph_heap *h, void *p, size_t n,
                                              const char *label)
{
    CALLGRIND_ZERO_STATS;
    void *q = fn(h, p, n);
    CALLGRIND_DUMP_STATS_AT(label);
    return q;
}

static void calibrate(bool ph)
{
    for (unsigned i = 0; i < CALIBRATION_CALLS; i++) {
        if (ph) {
            (void)measured_ph_malloc(stub_ph_malloc, &g_heap, 16, "stub-malloc");
            measured_ph_free(stub_ph_free, &g_heap, NULL, "stub-free");
            (void)measured_ph_realloc(stub_ph_realloc, &g_heap, NULL, 16, "stub-realloc");
        } else {
            (void)measured_c_malloc(stub_c_malloc, 16, "stub-malloc");
            measured_c_free(stub_c_free, NULL, "stub-free");
            (void)measured_c_realloc(stub_c_realloc, NULL, 16, "stub-realloc");
        }
    }
}

/* ---- profiled wrappers (plain mode): out of line, one per op and part of
 * the run, so that callgrind_annotate's inclusive - self cost of each is
 * exactly what the allocator executed in its calls. */

#define PROFILED_WRAPPERS(part)                                                          \
    BENCH_OPAQUE void *part##_ph_malloc(size_t n);                                      \
    BENCH_OPAQUE void part##_ph_free(void *p);                                          \
    BENCH_OPAQUE void *part##_ph_realloc(void *p, size_t n);                            \
    BENCH_OPAQUE void *part##_c_malloc(size_t n);                                       \
    BENCH_OPAQUE void part##_c_free(void *p);                                           \
    BENCH_OPAQUE void *part##_c_realloc(void *p, size_t n);                             \
    void *part##_ph_malloc(size_t n) { return ph_malloc(&g_heap, n); }                  \
    void part##_ph_free(void *p) { ph_free(&g_heap, p); }                               \
    void *part##_ph_realloc(void *p, size_t n) { return ph_realloc(&g_heap, p, n); }    \
    void *part##_c_malloc(size_t n) { return g_malloc(n); }                             \
    void part##_c_free(void *p) { g_free(p); }                                          \
    void *part##_c_realloc(void *p, size_t n) { return g_realloc(p, n); }

PROFILED_WRAPPERS(win)
PROFILED_WRAPPERS(all)

/* ---- replay ---- */

typedef enum { MODE_PEROP, MODE_PLAIN, MODE_NATIVE } run_mode;

typedef struct replay {
    alloc_kind kind;
    run_mode mode;
    bool verify;      /* native: patterns, usable sizes, alignment */
    bool sample;      /* native: footprint peaks after every op    */
    void **ptr;       /* per slot: the object, or NULL             */
    size_t *size;     /* per slot: its size as the object has it   */
    /* results */
    size_t failed, failed_warmup, corrupt, misaligned, short_usable;
    size_t peak_pages_used;          /* pageheap */
    size_t peak_usable_bytes;        /* pageheap: sum of ph_usable_size */
    size_t usable_bytes;
    size_t peak_glibc;               /* mallinfo2 arena + hblkhd */
    size_t peak_je_active, peak_je_resident;
    size_t calls[3][2];              /* [op kind][0 = window, 1 = rest] */
} replay;

static int (*je_mallctl)(const char *, void *, size_t *, void *, size_t);
static void (*mi_proc_info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                            size_t *, size_t *);

static void *do_malloc(replay *r, size_t n, bool win, bool per_op)
{
    r->calls[OP_MALLOC][win ? 0 : 1]++;
    if (r->kind == A_PH) {
        if (per_op)
            return measured_ph_malloc(ph_malloc, &g_heap, n, "malloc");
        return win ? win_ph_malloc(n) : all_ph_malloc(n);
    }
    if (per_op)
        return measured_c_malloc(g_malloc, n, "malloc");
    return win ? win_c_malloc(n) : all_c_malloc(n);
}

static void do_free(replay *r, void *p, bool win, bool per_op)
{
    r->calls[OP_FREE][win ? 0 : 1]++;
    if (r->kind == A_PH) {
        if (per_op)
            measured_ph_free(ph_free, &g_heap, p, "free");
        else if (win)
            win_ph_free(p);
        else
            all_ph_free(p);
        return;
    }
    if (per_op)
        measured_c_free(g_free, p, "free");
    else if (win)
        win_c_free(p);
    else
        all_c_free(p);
}

static void *do_realloc(replay *r, void *p, size_t n, bool win, bool per_op)
{
    r->calls[OP_REALLOC][win ? 0 : 1]++;
    if (r->kind == A_PH) {
        if (per_op)
            return measured_ph_realloc(ph_realloc, &g_heap, p, n, "realloc");
        return win ? win_ph_realloc(p, n) : all_ph_realloc(p, n);
    }
    if (per_op)
        return measured_c_realloc(g_realloc, p, n, "realloc");
    return win ? win_c_realloc(p, n) : all_c_realloc(p, n);
}

static unsigned char pattern_of(size_t slot)
{
    return (unsigned char)(0x5Au ^ (slot * 0x9Du));
}

static void fill(void *p, size_t n, size_t slot)
{
    memset(p, pattern_of(slot), n);
}

static bool intact(const void *p, size_t n, size_t slot)
{
    const unsigned char *c = p;
    unsigned char v = pattern_of(slot);
    for (size_t i = 0; i < n; i++)
        if (c[i] != v)
            return false;
    return true;
}

/* pageheap promises PH_ALIGN to every object and ph_usable_size >= the
 * request; the C library promises the alignment only to objects that can
 * hold a type needing it (jemalloc and mimalloc give 8 bytes to sizes up to
 * 8), so their objects are checked for 8-byte alignment. */
static void check_new(replay *r, void *p, size_t n)
{
    uintptr_t align = r->kind == A_PH || n >= 16 ? PH_ALIGN : 8;
    if (((uintptr_t)p & (align - 1)) != 0)
        r->misaligned++;
    if (r->kind == A_PH) {
        size_t u = ph_usable_size(&g_heap, p);
        if (u < n)
            r->short_usable++;
    }
}

static void sample_peaks(replay *r)
{
    switch (r->kind) {
    case A_PH: {
        ph_stats s;
        ph_get_stats(&g_heap, &s);
        size_t used = s.pages_total - s.pages_free;
        if (used > r->peak_pages_used)
            r->peak_pages_used = used;
        if (r->usable_bytes > r->peak_usable_bytes)
            r->peak_usable_bytes = r->usable_bytes;
        break;
    }
    case A_GLIBC: {
        struct mallinfo2 mi = mallinfo2();
        size_t v = mi.arena + mi.hblkhd;
        if (v > r->peak_glibc)
            r->peak_glibc = v;
        break;
    }
    case A_JEMALLOC:
        if (je_mallctl) {
            uint64_t epoch = 1;
            size_t sz = sizeof epoch, active = 0, resident = 0, vs = sizeof(size_t);
            je_mallctl("epoch", &epoch, &sz, &epoch, sz);
            je_mallctl("stats.active", &active, &vs, NULL, 0);
            vs = sizeof(size_t);
            je_mallctl("stats.resident", &resident, &vs, NULL, 0);
            if (active > r->peak_je_active)
                r->peak_je_active = active;
            if (resident > r->peak_je_resident)
                r->peak_je_resident = resident;
        }
        break;
    case A_MIMALLOC:
        break; /* mi_process_info keeps its own peak */
    }
}

/* Runs trace ops [from, to).  window: ops with index < win_end are the
 * window (per-op dumps in perop mode, win_ wrappers in plain mode). */
static void replay_run(replay *r, const trace *t, size_t from, size_t to, size_t win_end)
{
    for (size_t i = from; i < to; i++) {
        const op *o = &t->ops[i];
        bool measured = i >= t->warmup;
        bool win = measured && i < win_end;
        bool per_op = win && r->mode == MODE_PEROP;
        size_t s = o->slot;
        switch (o->kind) {
        case OP_MALLOC: {
            void *p = do_malloc(r, o->size, win, per_op);
            r->ptr[s] = p;
            r->size[s] = o->size;
            if (p == NULL) {
                r->failed++;
                if (!measured)
                    r->failed_warmup++;
                break;
            }
            if (r->verify) {
                check_new(r, p, o->size);
                fill(p, o->size, s);
                if (r->kind == A_PH)
                    r->usable_bytes += ph_usable_size(&g_heap, p);
            }
            break;
        }
        case OP_FREE: {
            void *p = r->ptr[s];
            if (p == NULL)
                break;
            if (r->verify) {
                if (!intact(p, r->size[s], s))
                    r->corrupt++;
                if (r->kind == A_PH)
                    r->usable_bytes -= ph_usable_size(&g_heap, p);
            }
            do_free(r, p, win, per_op);
            r->ptr[s] = NULL;
            break;
        }
        case OP_REALLOC: {
            void *p = r->ptr[s];
            if (p == NULL)
                break;
            size_t old_usable = 0;
            if (r->verify) {
                if (!intact(p, r->size[s], s))
                    r->corrupt++;
                if (r->kind == A_PH)
                    old_usable = ph_usable_size(&g_heap, p);
            }
            void *q = do_realloc(r, p, o->size, win, per_op);
            if (q == NULL) {
                r->failed++;
                break;
            }
            if (r->verify) {
                size_t keep = r->size[s] < o->size ? r->size[s] : o->size;
                if (!intact(q, keep, s))
                    r->corrupt++;
                check_new(r, q, o->size);
                fill(q, o->size, s);
                if (r->kind == A_PH)
                    r->usable_bytes += ph_usable_size(&g_heap, q) - old_usable;
            }
            r->ptr[s] = q;
            r->size[s] = o->size;
            break;
        }
        }
        if (r->sample)
            sample_peaks(r);
    }
}

/* Frees whatever is still live (not measured). */
static void replay_drain(replay *r, const trace *t)
{
    for (size_t s = 0; s < t->nslots; s++) {
        if (r->ptr[s] == NULL)
            continue;
        if (r->verify && !intact(r->ptr[s], r->size[s], s))
            r->corrupt++;
        if (r->kind == A_PH)
            ph_free(&g_heap, r->ptr[s]);
        else
            g_free(r->ptr[s]);
        r->ptr[s] = NULL;
    }
}

static void replay_init(replay *r, alloc_kind kind, run_mode mode, const trace *t,
                        void **ptr, size_t *size)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->mode = mode;
    r->ptr = ptr;
    r->size = size;
    memset(ptr, 0, t->nslots * sizeof *ptr);
    memset(size, 0, t->nslots * sizeof *size);
}

/* pageheap: a fresh heap on the first `bytes` of mem. */
static bool ph_setup(void *mem, size_t bytes, size_t page_size)
{
    return ph_init(&g_heap, page_size, NULL) == PH_OK &&
           ph_add_region(&g_heap, mem, bytes, 0) == PH_OK;
}

/* Does a region of `pages` pages serve the whole trace (warm-up included)
 * without a failed request?  The heap is then left empty. */
static bool ph_serves(const trace *t, void *mem, size_t pages, size_t page_size, void **ptr,
                      size_t *size)
{
    if (!ph_setup(mem, pages * page_size, page_size))
        return false;
    replay r;
    replay_init(&r, A_PH, MODE_NATIVE, t, ptr, size);
    replay_run(&r, t, 0, t->nops, 0);
    replay_drain(&r, t);
    return r.failed == 0;
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: obj_bench --alloc ph|glibc|jemalloc|mimalloc [--trace small|mixed]\n"
            "                 [--mode perop|plain|native] [--ops N] [--window N] [--seed N]\n"
            "                 [--page-size N] [--heap-bytes N]\n"
            "  --trace       small (default): 16..512 B, ~745 live, 1,000,000 ops, 256 KiB heap\n"
            "                mixed: 8 B..64 KiB + 10%% up to 256 KiB, reallocs, ~2000 live,\n"
            "                300,000 ops, 64 MiB heap\n"
            "  --ops         measured operations after the warm-up (trace default)\n"
            "  --window      perop/plain: the first N measured ops are the window (default all)\n"
            "  --page-size   pageheap page size (small: 256, mixed: 4096)\n"
            "  --heap-bytes  pageheap region size, metadata included (small: 262144,\n"
            "                mixed: 67108864)\n");
    exit(2);
}

static const char *alloc_name(alloc_kind k)
{
    switch (k) {
    case A_PH: return "pageheap";
    case A_GLIBC: return "glibc";
    case A_JEMALLOC: return "jemalloc";
    case A_MIMALLOC: return "mimalloc";
    }
    return "?";
}

/* dlsym into a function pointer without the object-to-function cast ISO C
 * does not define (POSIX guarantees the representation). */
#define LOAD_SYM(var, name)                                                              \
    do {                                                                                 \
        void *sym_ = dlsym(RTLD_DEFAULT, name);                                          \
        memcpy(&(var), &sym_, sizeof(var));                                              \
    } while (0)

/* Which library serves malloc: must match the allocator asked for. */
static bool bind_c_allocator(alloc_kind kind, char *lib, size_t libsize)
{
    LOAD_SYM(g_malloc, "malloc");
    LOAD_SYM(g_free, "free");
    LOAD_SYM(g_realloc, "realloc");
    Dl_info info;
    void *addr;
    memcpy(&addr, &g_malloc, sizeof addr);
    if (g_malloc == NULL || g_free == NULL || g_realloc == NULL || dladdr(addr, &info) == 0 ||
        info.dli_fname == NULL)
        return false;
    snprintf(lib, libsize, "%s", info.dli_fname);
    const char *want = kind == A_GLIBC ? "libc.so" : kind == A_JEMALLOC ? "libjemalloc" : "libmimalloc";
    if (strstr(info.dli_fname, want) == NULL)
        return false;
    if (kind == A_JEMALLOC)
        LOAD_SYM(je_mallctl, "mallctl");
    if (kind == A_MIMALLOC)
        LOAD_SYM(mi_proc_info, "mi_process_info");
    return true;
}

static void print_trace(const trace *t, uint64_t seed)
{
    printf("trace name=%s seed=%" PRIu64 " warmup_ops=%zu ops=%zu mallocs=%zu frees=%zu"
           " reallocs=%zu peak_live_bytes=%zu peak_live_objects=%zu mean_live_bytes=%.0f"
           " mean_live_objects=%.1f min_size=%zu max_size=%zu slots=%zu\n",
           t->name, seed, t->warmup, t->nops - t->warmup, t->mallocs, t->frees, t->reallocs,
           t->peak_live_bytes, t->peak_live_objects, t->mean_live_bytes, t->mean_live_objects,
           t->min_size, t->max_size, t->nslots);
}

int main(int argc, char **argv)
{
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf); /* no malloc by stdio */

    const char *trace_name = "small";
    alloc_kind kind = A_PH;
    bool have_alloc = false;
    run_mode mode = MODE_PLAIN;
    size_t ops = 0, window = SIZE_MAX, page_size = 0, heap_bytes = 0;
    uint64_t seed = 1;

    if (argc % 2 != 1)
        usage();
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *arg = argv[i], *val = argv[i + 1];
        if (strcmp(arg, "--alloc") == 0) {
            have_alloc = true;
            if (strcmp(val, "ph") == 0 || strcmp(val, "pageheap") == 0)
                kind = A_PH;
            else if (strcmp(val, "glibc") == 0)
                kind = A_GLIBC;
            else if (strcmp(val, "jemalloc") == 0)
                kind = A_JEMALLOC;
            else if (strcmp(val, "mimalloc") == 0)
                kind = A_MIMALLOC;
            else
                usage();
        } else if (strcmp(arg, "--trace") == 0 &&
                   (strcmp(val, "small") == 0 || strcmp(val, "mixed") == 0)) {
            trace_name = strcmp(val, "small") == 0 ? "small" : "mixed";
        } else if (strcmp(arg, "--mode") == 0) {
            if (strcmp(val, "perop") == 0)
                mode = MODE_PEROP;
            else if (strcmp(val, "plain") == 0)
                mode = MODE_PLAIN;
            else if (strcmp(val, "native") == 0)
                mode = MODE_NATIVE;
            else
                usage();
        } else if (strcmp(arg, "--ops") == 0) {
            ops = (size_t)strtoull(val, NULL, 0);
        } else if (strcmp(arg, "--window") == 0) {
            window = (size_t)strtoull(val, NULL, 0);
        } else if (strcmp(arg, "--seed") == 0) {
            seed = strtoull(val, NULL, 0);
        } else if (strcmp(arg, "--page-size") == 0) {
            page_size = (size_t)strtoull(val, NULL, 0);
        } else if (strcmp(arg, "--heap-bytes") == 0) {
            heap_bytes = (size_t)strtoull(val, NULL, 0);
        } else {
            usage();
        }
    }
    if (!have_alloc)
        usage();
    bool mixed = strcmp(trace_name, "mixed") == 0;
    trace_params tp = {
        .target_live = mixed ? 2000 : 745,
        .measured_ops = ops ? ops : mixed ? 300000 : 1000000,
        .realloc_pct = mixed ? 10 : 0,
        .mixed = mixed,
    };
    if (page_size == 0)
        page_size = mixed ? 4096 : 256;
    if (heap_bytes == 0)
        heap_bytes = mixed ? (size_t)64 << 20 : (size_t)256 << 10;
    heap_bytes &= ~(page_size - 1);

    /* The trace first: nothing an allocator does can change it. */
    static trace t;
    trace_generate(&t, trace_name, &tp, seed);
    size_t win_end = window >= t.nops - t.warmup ? t.nops : t.warmup + window;
    void **ptr = map_or_die(t.nslots * sizeof *ptr);
    size_t *size = map_or_die(t.nslots * sizeof *size);

    char lib[512] = "pageheap (static)";
    void *mem = NULL;
    /* native: room for the footprint search to grow the region 16-fold */
    size_t max_pages = heap_bytes / page_size * (mode == MODE_NATIVE ? 16 : 1);
    if (kind == A_PH) {
        mem = map_or_die((max_pages + 64) * page_size);
        if (!ph_setup(mem, heap_bytes, page_size)) {
            fprintf(stderr, "obj_bench: heap set-up failed (page size %zu, %zu bytes)\n",
                    page_size, heap_bytes);
            return 2;
        }
    } else if (!bind_c_allocator(kind, lib, sizeof lib)) {
        fprintf(stderr,
                "obj_bench: malloc comes from %s, not from %s (run with LD_PRELOAD=%s)\n",
                lib[0] ? lib : "?", alloc_name(kind),
                kind == A_JEMALLOC ? "libjemalloc.so.2" : kind == A_MIMALLOC ? "libmimalloc.so.2" : "(nothing)");
        return 2;
    }

    print_trace(&t, seed);
    printf("alloc name=%s lib=%s mode=%s page_size=%zu heap_bytes=%zu window=%zu\n",
           alloc_name(kind), lib,
           mode == MODE_PEROP ? "perop" : mode == MODE_PLAIN ? "plain" : "native",
           kind == A_PH ? page_size : 0, kind == A_PH ? heap_bytes : 0, win_end - t.warmup);

    static replay r;
    replay_init(&r, kind, mode, &t, ptr, size);
    r.verify = r.sample = mode == MODE_NATIVE;

    /* Warm-up (not measured; includes each allocator's initialisation). */
    CALLGRIND_STOP_INSTRUMENTATION;
    replay_run(&r, &t, 0, t.warmup, 0);
    CALLGRIND_START_INSTRUMENTATION;
    if (mode == MODE_PEROP)
        calibrate(kind == A_PH);
    memset(r.calls, 0, sizeof r.calls); /* count the measured calls only */
    replay_run(&r, &t, t.warmup, t.nops, win_end);

    bool ok = true;
    size_t live_after = 0;
    for (size_t s = 0; s < t.nslots; s++)
        if (r.ptr[s] != NULL)
            live_after++;
    printf("result allocator=%s ops=%zu window=%zu mallocs=%zu frees=%zu reallocs=%zu"
           " failed=%zu failed_warmup=%zu live_after=%zu",
           alloc_name(kind), t.nops - t.warmup, win_end - t.warmup, t.mallocs, t.frees,
           t.reallocs, r.failed, r.failed_warmup, live_after);
    printf(" win_malloc=%zu win_free=%zu win_realloc=%zu all_malloc=%zu all_free=%zu"
           " all_realloc=%zu",
           r.calls[OP_MALLOC][0], r.calls[OP_FREE][0], r.calls[OP_REALLOC][0],
           r.calls[OP_MALLOC][1], r.calls[OP_FREE][1], r.calls[OP_REALLOC][1]);
    if (mode == MODE_NATIVE)
        printf(" corrupt=%zu misaligned=%zu short_usable=%zu", r.corrupt, r.misaligned,
               r.short_usable);
    if (kind == A_PH) {
        ph_stats st;
        ph_get_stats(&g_heap, &st);
        int check = ph_check(&g_heap);
        printf(" check=%d faults=%zu pages_total=%zu metadata_bytes=%zu small_spans=%zu"
               " large_objects=%zu",
               check, st.faults, st.pages_total, st.metadata_bytes, st.small_spans,
               st.large_objects);
        ok = ok && check == PH_OK && st.faults == 0;
    }
    printf("\n");
    if (mode == MODE_NATIVE) {
        ok = ok && r.corrupt == 0 && r.misaligned == 0 && r.short_usable == 0;
        printf("footprint allocator=%s peak_live_bytes=%zu", alloc_name(kind), t.peak_live_bytes);
        switch (kind) {
        case A_PH:
        {
            /* at the end of the run: how full the fit arenas are (the
             * stats' small_spans / small_span_pages count the arenas) */
            ph_stats st;
            ph_get_stats(&g_heap, &st);
            size_t small_usable = 0;
            for (size_t s = 0; s < t.nslots; s++)
                if (r.ptr[s] != NULL && r.size[s] <= PH_SMALL_MAX)
                    small_usable += ph_usable_size(&g_heap, r.ptr[s]);
            printf(" page_size=%zu heap_bytes=%zu peak_pages_used=%zu peak_used_bytes=%zu"
                   " peak_usable_bytes=%zu end_small_spans=%zu end_span_bytes=%zu"
                   " end_small_object_bytes=%zu",
                   page_size, heap_bytes, r.peak_pages_used, r.peak_pages_used * page_size,
                   r.peak_usable_bytes, st.small_spans, st.small_span_pages * page_size,
                   small_usable);
        }
            break;
        case A_GLIBC:
            printf(" peak_arena_hblkhd=%zu", r.peak_glibc);
            break;
        case A_JEMALLOC:
            printf(" peak_active=%zu peak_resident=%zu", r.peak_je_active, r.peak_je_resident);
            break;
        case A_MIMALLOC:
            if (mi_proc_info) {
                size_t el, ut, syst, rss, prss, commit, pcommit, pf;
                mi_proc_info(&el, &ut, &syst, &rss, &prss, &commit, &pcommit, &pf);
                printf(" peak_commit=%zu", pcommit);
            }
            break;
        }
        printf("\n");
        fflush(stdout);
        if (kind == A_PH) {
            /* Smallest region, in whole pages, that serves the whole trace:
             * from --heap-bytes, doubled (up to 16 times) until it serves,
             * then a binary search.  First fit is not guaranteed monotone in
             * the heap size, so every size up to 64 pages above the result
             * is run too and the failing ones counted. */
            size_t hi = heap_bytes / page_size, lo = 1; /* lo fails */
            replay_drain(&r, &t);
            while (hi <= max_pages && !ph_serves(&t, mem, hi, page_size, ptr, size)) {
                lo = hi;
                hi *= 2;
            }
            if (hi > max_pages) {
                printf("footprint_search allocator=pageheap result=none"
                       " reason=fails_at_heap_bytes_%zu\n", lo * page_size);
                ok = false;
            } else {
                while (hi - lo > 1) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (ph_serves(&t, mem, mid, page_size, ptr, size))
                        hi = mid;
                    else
                        lo = mid;
                }
                size_t nonmono = 0, top = hi + 64;
                for (size_t p = hi + 1; p <= top; p++)
                    if (!ph_serves(&t, mem, p, page_size, ptr, size))
                        nonmono++;
                ph_setup(mem, hi * page_size, page_size);
                ph_region_info ri;
                ph_get_region(&g_heap, 0, &ri);
                printf("footprint_search allocator=pageheap min_heap_pages=%zu min_heap_bytes=%zu"
                       " meta_bytes=%zu peak_live_bytes=%zu ratio=%.4f usable_ratio=%.4f"
                       " larger_sizes_failing=%zu of=%zu\n",
                       hi, hi * page_size, ri.meta_bytes, t.peak_live_bytes,
                       (double)(hi * page_size) / (double)t.peak_live_bytes,
                       (double)(ri.npages * page_size) / (double)t.peak_live_bytes, nonmono,
                       top - hi);
            }
        }
    }
    fflush(stdout);
    if (!ok)
        fprintf(stderr, "obj_bench: %s: inconsistent state or corrupt objects after the run\n",
                alloc_name(kind));
    return ok ? 0 : 1;
}
