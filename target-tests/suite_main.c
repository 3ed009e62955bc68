/* SPDX-License-Identifier: MIT */
/*
 * suite_main.c: the on-target suite's entry point and shared helpers.
 *
 * One firmware per QEMU board (target-tests/CMakeLists.txt); main runs the
 * groups in order, each printing "suite: <group> ok (N checks)", then
 * "suite: PASS <board>" and board_exit(0).  The first failed check prints
 * "suite: FAIL <file>:<line>: ..." and ends the run with board_exit(1).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "suite.h"

/* 1: main runs the C library group (suite_newlib.c) only: port/picolibc's
 * test links this file with suite_newlib.c and a picolibc start-up. */
#ifndef SUITE_LIBC_ONLY
#define SUITE_LIBC_ONLY 0
#endif

#if SUITE_ARENA_FROM_HEAP
uint8_t *suite_arena;
static size_t arena_pages;
#else
static uint8_t arena_store[SUITE_ARENA_BYTES] __attribute__((aligned(SUITE_ARENA_ALIGN)));
uint8_t *suite_arena = arena_store;
#endif
ph_heap suite_heap;
sport suite_port;

unsigned long suite_checks;
size_t suite_boot_pages_used;

static uint64_t scratch_area[SUITE_SCRATCH_BYTES / 8u];
static size_t scratch_used;

static const char *group_name = "start";
static uint32_t group_t0; /* board_counter() at the group's start */
static unsigned long total_checks;
static unsigned groups_run, groups_skipped;

/* ---- checks ------------------------------------------------------------- */

void suite_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    const char *base = strrchr(file, '/');
    board_timer_stop();
    printf("suite: FAIL %s:%d: [%s] ", base != NULL ? base + 1 : file, line, group_name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\nsuite: FAIL %s\n", board_name());
    fflush(stdout);
    board_exit(1);
}

void suite_group_begin(const char *name)
{
    group_name = name;
    suite_checks = 0;
    scratch_used = 0;
    group_t0 = board_counter();
}

void *suite_scratch(size_t bytes)
{
    size_t n = (bytes + 7u) & ~(size_t)7u;
    if (n > sizeof scratch_area - scratch_used)
        suite_fail(__FILE__, __LINE__, "the scratch area holds %lu bytes, %lu are taken, %lu more asked",
                   (unsigned long)sizeof scratch_area, (unsigned long)scratch_used,
                   (unsigned long)bytes);
    uint8_t *p = (uint8_t *)scratch_area + scratch_used;
    scratch_used += n;
    memset(p, 0, n);
    return p;
}

/* Milliseconds of board_counter time since the group began (virtual time
 * under QEMU: host time, or instructions under -icount). */
static unsigned long group_ms(void)
{
    uint32_t hz = board_counter_hz();
    uint32_t ticks = board_counter() - group_t0;
    return hz >= 1000u ? (unsigned long)(ticks / (hz / 1000u)) : 0ul;
}

void suite_group_end(const char *extra_fmt, ...)
{
    unsigned long ms = group_ms();
    printf("suite: %s ok (%lu checks, %lu ms", group_name, suite_checks, ms);
    if (extra_fmt != NULL && extra_fmt[0] != '\0') {
        va_list ap;
        printf(", ");
        va_start(ap, extra_fmt);
        vprintf(extra_fmt, ap);
        va_end(ap);
    }
    printf(")\n");
    total_checks += suite_checks;
    groups_run++;
    group_name = "between groups";
}

void suite_group_skip(const char *why)
{
    printf("suite: %s skipped (%s)\n", group_name, why);
    total_checks += suite_checks;
    groups_skipped++;
    group_name = "between groups";
}

void *suite_opaque(void *p)
{
    void *volatile v = p;
    return v;
}

size_t suite_opaque_size(size_t n)
{
    volatile size_t v = n;
    return v;
}

/* ---- the suite's port --------------------------------------------------- */

#define GATE_UNIT 64u /* smallest page size: every granule is a multiple */
#define GATE_UNITS (SUITE_ARENA_BYTES / GATE_UNIT)
static uint8_t gate_map[(GATE_UNITS + 7u) / 8u]; /* 1 = unit released */

static bool gate_bit(size_t u)
{
    return (gate_map[u / 8u] >> (u % 8u)) & 1u;
}

static void gate_set(size_t u, bool on)
{
    if (on)
        gate_map[u / 8u] = (uint8_t)(gate_map[u / 8u] | (1u << (u % 8u)));
    else
        gate_map[u / 8u] = (uint8_t)(gate_map[u / 8u] & ~(1u << (u % 8u)));
}

static void sport_gate_error(sport *t, const char *what, const void *addr)
{
    if (t->gate_errors++ == 0) {
        t->gate_error = what;
        t->gate_error_addr = addr;
    }
}

/* The units [first, first + n) of a hook's range, or false when the range
 * is not whole units of the arena. */
static bool gate_units(sport *t, const void *base, size_t len, size_t *first, size_t *n,
                       const char *hook)
{
    uintptr_t b = (uintptr_t)base, lo = (uintptr_t)suite_arena;
    if (len == 0 || b < lo || b - lo > SUITE_ARENA_BYTES || len > SUITE_ARENA_BYTES - (b - lo)) {
        sport_gate_error(t, hook, base);
        return false;
    }
    if ((b - lo) % GATE_UNIT != 0 || len % GATE_UNIT != 0 ||
        (t->granule != 0 && (b % t->granule != 0 || len % t->granule != 0))) {
        sport_gate_error(t, hook, base);
        return false;
    }
    *first = (b - lo) / GATE_UNIT;
    *n = len / GATE_UNIT;
    return true;
}

static void sport_fault(void *ctx, int code, const void *addr)
{
    sport *t = (sport *)ctx;
    t->faults++;
    t->last_code = code;
    t->last_addr = addr;
}

static void sport_lock(void *ctx)
{
    sport *t = (sport *)ctx;
    unsigned long s = t->mask_irq ? ph_newlib_irq_save() : 0;
    if (t->held)
        t->nested++;
    t->held = true;
    t->locks++;
    t->irq_state = s;
}

static void sport_unlock(void *ctx)
{
    sport *t = (sport *)ctx;
    if (!t->held)
        t->stray_unlocks++;
    t->held = false;
    t->unlocks++;
    if (t->mask_irq)
        ph_newlib_irq_restore(t->irq_state);
}

static void sport_release(void *ctx, void *base, size_t len)
{
    sport *t = (sport *)ctx;
    size_t first, n;
    t->releases++;
    t->bytes_released += len;
    if (!gate_units(t, base, len, &first, &n, "release: range not whole granules of the arena"))
        return;
    for (size_t u = first; u < first + n; u++) {
        if (gate_bit(u))
            sport_gate_error(t, "release: granule released twice", suite_arena + u * GATE_UNIT);
        gate_set(u, true);
    }
    memset(base, SPORT_POISON, len); /* the contents are lost */
}

static void sport_acquire(void *ctx, void *base, size_t len)
{
    sport *t = (sport *)ctx;
    size_t first, n;
    t->acquires++;
    t->bytes_acquired += len;
    if (!gate_units(t, base, len, &first, &n, "acquire: range not whole granules of the arena"))
        return;
    for (size_t u = first; u < first + n; u++) {
        if (!gate_bit(u))
            sport_gate_error(t, "acquire: granule was not released", suite_arena + u * GATE_UNIT);
        gate_set(u, false);
    }
    const uint8_t *p = (const uint8_t *)base;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != SPORT_POISON) {
            sport_gate_error(t, "acquire: the heap wrote into released memory", p + i);
            break;
        }
    }
    /* Powered back up: garbage, not zeros (calloc must zero it). */
    memset(base, 0x5C, len);
}

void sport_init(sport *t, size_t granule, bool mask_irq)
{
    memset(t, 0, sizeof *t);
    memset(gate_map, 0, sizeof gate_map);
    t->port.ctx = t;
    t->port.release = sport_release;
    t->port.acquire = sport_acquire;
    t->port.lock = sport_lock;
    t->port.unlock = sport_unlock;
    t->port.fault = sport_fault;
    t->mask_irq = mask_irq;
    t->granule = granule;
}

void sport_assert_quiet(const sport *t, const char *file, int line)
{
    suite_checks++;
    if (t->held || t->nested != 0 || t->stray_unlocks != 0 || t->locks != t->unlocks)
        suite_fail(file, line, "lock hooks: held %d, nested %lu, stray unlocks %lu, locks %lu, unlocks %lu",
                   (int)t->held, t->nested, t->stray_unlocks, t->locks, t->unlocks);
    if (t->gate_errors != 0)
        suite_fail(file, line, "simulated gate: %lu errors, the first: %s at %p", t->gate_errors,
                   t->gate_error, t->gate_error_addr);
}

size_t sport_released_bytes(const sport *t)
{
    size_t n = 0;
    (void)t;
    for (size_t u = 0; u < GATE_UNITS; u++)
        n += gate_bit(u) ? GATE_UNIT : 0u;
    return n;
}

bool sport_touches_released(const sport *t, const void *p, size_t n)
{
    uintptr_t b = (uintptr_t)p, lo = (uintptr_t)suite_arena;
    (void)t;
    if (n == 0)
        n = 1;
    if (b + n <= lo || b >= lo + SUITE_ARENA_BYTES)
        return false;
    uintptr_t s = b < lo ? lo : b, e = b + n > lo + SUITE_ARENA_BYTES ? lo + SUITE_ARENA_BYTES : b + n;
    for (size_t u = (s - lo) / GATE_UNIT; u <= (e - 1 - lo) / GATE_UNIT; u++)
        if (gate_bit(u))
            return true;
    return false;
}

/* ---- snapshots ------------------------------------------------------------ */

typedef struct walk_digest {
    uint32_t h;
    size_t runs;
} walk_digest;

static void digest_word(walk_digest *d, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        d->h ^= (v >> (8u * i)) & 0xFFu;
        d->h *= 16777619u;
    }
}

static void digest_fn(void *ctx, const void *base, size_t npages, int state)
{
    walk_digest *d = (walk_digest *)ctx;
    digest_word(d, (uint32_t)(uintptr_t)base);
    digest_word(d, (uint32_t)npages);
    digest_word(d, (uint32_t)state);
    d->runs++;
}

void snap_take(ph_heap *h, snapshot *s)
{
    walk_digest d = { 2166136261u, 0 };
    memset(s, 0, sizeof *s);
    ph_get_stats(h, &s->st);
    ph_walk(h, digest_fn, &d);
    s->walk_digest = d.h;
    s->walk_runs = d.runs;
}

#define SNAP_FIELD(f)                                                                      \
    do {                                                                                   \
        suite_checks++;                                                                    \
        if (now.st.f != want.f)                                                            \
            suite_fail(file, line, "stats." #f " is %lu, expected %lu",                   \
                       (unsigned long)now.st.f, (unsigned long)want.f);                    \
    } while (0)

void snap_assert_same(ph_heap *h, const snapshot *before, size_t faults_delta, const char *file,
                      int line)
{
    snapshot now;
    ph_stats want = before->st;
    want.faults += faults_delta;
    snap_take(h, &now);
    SNAP_FIELD(page_size);
    SNAP_FIELD(regions);
    SNAP_FIELD(pages_total);
    SNAP_FIELD(pages_free);
    SNAP_FIELD(pages_released);
    SNAP_FIELD(largest_free_run);
    SNAP_FIELD(metadata_bytes);
    SNAP_FIELD(faults);
    SNAP_FIELD(granules_released);
    SNAP_FIELD(release_calls);
    SNAP_FIELD(acquire_calls);
    SNAP_FIELD(bytes_released);
    SNAP_FIELD(bytes_acquired);
    SNAP_FIELD(peak_pages_used);
    SNAP_FIELD(small_spans);
    SNAP_FIELD(small_span_pages);
    SNAP_FIELD(large_objects);
    SNAP_FIELD(large_pages);
    SNAP_FIELD(cached_spans);
    SNAP_FIELD(cached_bytes);
    suite_checks++;
    if (now.walk_digest != before->walk_digest || now.walk_runs != before->walk_runs)
        suite_fail(file, line, "the heap map changed (%lu runs, digest %#lx; before %lu, %#lx)",
                   (unsigned long)now.walk_runs, (unsigned long)now.walk_digest,
                   (unsigned long)before->walk_runs, (unsigned long)before->walk_digest);
    int rc = ph_check(h);
    suite_checks++;
    if (rc != PH_OK)
        suite_fail(file, line, "ph_check = %d", rc);
}

void stats_accounting(ph_heap *h, size_t page_api, const char *file, int line)
{
    ph_stats s;
    ph_get_stats(h, &s);
    size_t used = s.pages_total - s.pages_free;
    suite_checks++;
    if (s.pages_free > s.pages_total ||
        used != s.small_span_pages + s.large_pages + page_api ||
        s.small_span_pages < s.small_spans ||
        /* arenas that meet merge: no bound on one arena's pages, but each
         * arena except a region's last is followed by a page of no arena */
        s.small_spans > s.pages_total - s.small_span_pages + s.regions ||
        (s.large_objects == 0) != (s.large_pages == 0) || s.large_pages < s.large_objects ||
        s.cached_spans > 1 || s.cached_spans > s.small_spans ||
        (s.cached_spans == 0) != (s.cached_bytes == 0) || s.cached_bytes % s.page_size != 0 ||
        s.cached_bytes / s.page_size > s.small_span_pages ||
        s.cached_bytes / s.page_size > (s.pages_total >> PH_CACHE_SHIFT))
        suite_fail(file, line,
                   "page accounting: %lu of %lu pages in use, arenas %lu (%lu pages, %lu cached, "
                   "%lu bytes), large %lu (%lu pages), page API %lu",
                   (unsigned long)used, (unsigned long)s.pages_total,
                   (unsigned long)s.small_spans, (unsigned long)s.small_span_pages,
                   (unsigned long)s.cached_spans, (unsigned long)s.cached_bytes,
                   (unsigned long)s.large_objects, (unsigned long)s.large_pages,
                   (unsigned long)page_api);
}

/* ---- patterns ----------------------------------------------------------- */

/* The pattern is a sequence of 32-bit words (little-endian bytes), word k
 * of id being pat_word(id, k): filled and checked a word at a time where
 * the object is word aligned (every object and page is), so long objects
 * cost one store or load per word. */
static inline uint32_t pat_word(uint32_t id, uint32_t k)
{
    uint32_t x = id * 0x9E3779B9u ^ k * 0x85EBCA6Bu;
    return x ^ (x >> 15) ^ 0x5A5AA5A5u;
}

static inline uint8_t pat_byte(uint32_t id, size_t i)
{
    return (uint8_t)(pat_word(id, (uint32_t)(i / 4u)) >> (8u * (i % 4u)));
}

void pat_fill(void *p, size_t n, uint32_t id)
{
    uint8_t *d = (uint8_t *)p;
    size_t i = 0;
    if ((uintptr_t)d % sizeof(uint32_t) == 0) {
        uint32_t *w = (uint32_t *)p;
        for (; i + 4u <= n; i += 4u)
            w[i / 4u] = pat_word(id, (uint32_t)(i / 4u));
    }
    for (; i < n; i++)
        d[i] = pat_byte(id, i);
}

size_t pat_find_bad(const void *p, size_t n, uint32_t id)
{
    const uint8_t *d = (const uint8_t *)p;
    size_t i = 0;
    if ((uintptr_t)d % sizeof(uint32_t) == 0) {
        const uint32_t *w = (const uint32_t *)p;
        for (; i + 4u <= n; i += 4u)
            if (w[i / 4u] != pat_word(id, (uint32_t)(i / 4u)))
                break; /* the byte loop below names the byte */
    }
    for (; i < n; i++)
        if (d[i] != pat_byte(id, i))
            return i;
    return SIZE_MAX;
}

size_t find_nonzero(const void *p, size_t n)
{
    const uint8_t *d = (const uint8_t *)p;
    size_t i = 0;
    if ((uintptr_t)d % sizeof(uint32_t) == 0) {
        const uint32_t *w = (const uint32_t *)p;
        for (; i + 4u <= n; i += 4u)
            if (w[i / 4u] != 0)
                break;
    }
    for (; i < n; i++)
        if (d[i] != 0)
            return i;
    return SIZE_MAX;
}

/* ---- region sizing ---------------------------------------------------------- */

size_t suite_raw_bytes_for(ph_heap *scratch, void *base, size_t ps, size_t want, size_t limit)
{
    for (size_t raw = (want + 1) * ps; raw <= limit; raw += ps) {
        ph_region_info ri;
        if (ph_init(scratch, ps, NULL) != PH_OK)
            return 0;
        if (ph_add_region(scratch, base, raw, 0) != PH_OK)
            continue;
        if (ph_get_region(scratch, 0, &ri) != PH_OK)
            return 0;
        if (ri.npages == want)
            return raw;
        if (ri.npages > want)
            return 0;
    }
    return 0;
}

/* ---- the arena ---------------------------------------------------------------- */

size_t suite_arena_open(size_t want)
{
    if (want > SUITE_ARENA_BYTES)
        want = SUITE_ARENA_BYTES;
#if SUITE_ARENA_FROM_HEAP
    ph_heap *dh = ph_newlib_heap();
    ph_stats s;
    SUITE_CHECK(dh != NULL && suite_arena == NULL);
    ph_scavenge(dh, 0); /* the empty-arena cache back: it may split the free pages */
    ph_get_stats(dh, &s);
    /* the longest free run, at most `want` */
    size_t avail = s.largest_free_run * s.page_size;
    if (want > avail)
        want = avail & ~(size_t)(SUITE_ARENA_ALIGN - 1u);
    arena_pages = (want + s.page_size - 1u) / s.page_size;
    suite_arena = want != 0 ? (uint8_t *)ph_page_alloc(dh, arena_pages) : NULL;
    SUITE_CHECKF(suite_arena != NULL && (uintptr_t)suite_arena % SUITE_ARENA_ALIGN == 0,
                 "no arena of %lu pages in the default heap (%lu free, largest run %lu)",
                 (unsigned long)arena_pages, (unsigned long)s.pages_free,
                 (unsigned long)s.largest_free_run);
#endif
    return want;
}

void suite_arena_close(void)
{
#if SUITE_ARENA_FROM_HEAP
    ph_heap *dh = ph_newlib_heap();
    unsigned long f0 = board_heap_faults(NULL, NULL);
    ph_page_free(dh, suite_arena, arena_pages);
    SUITE_EQ(board_heap_faults(NULL, NULL), f0);
    suite_arena = NULL;
#endif
}

/* ---- main ------------------------------------------------------------------ */

int main(void)
{
    /* Before stdio has run: what the default heap holds at boot. */
    ph_heap *dh = ph_newlib_heap();
    if (dh != NULL) {
        ph_stats s;
        ph_get_stats(dh, &s);
        suite_boot_pages_used = s.pages_total - s.pages_free;
    }
    printf("suite: start %s (%s), arena %lu bytes (%s), scale %u%%, seed %#lx\n", board_name(),
           board_cpu(), (unsigned long)SUITE_ARENA_BYTES,
           SUITE_ARENA_FROM_HEAP ? "borrowed from the default heap" : "static",
           (unsigned)SUITE_SCALE_PCT, (unsigned long)SUITE_SEED);
    SUITE_CHECKF(dh != NULL, "the default heap (port/newlib) could not be set up");

#if !SUITE_LIBC_ONLY
    /* the core groups: the suite's own heaps in the arena */
    SUITE_EQ(suite_arena_open(SUITE_ARENA_BYTES), SUITE_ARENA_BYTES);
    group_fit_chunks();
    group_pages_table();
    group_pages_refusals();
    group_objects_refusals();
    group_malloc_basics();
    group_pages_random();
    group_objects_random();
    suite_arena_close();
    /* the board: newlib, interrupts, the simulated gate */
    group_newlib();
    group_irq();
    group_scavenge();
#else
    /* port/picolibc's test firmware: the C library's group alone, on a
     * picolibc start-up without the board's timer and gate */
    group_newlib();
#endif

    printf("suite: %u groups, %u skipped, %lu checks\n", groups_run, groups_skipped, total_checks);
    printf("suite: PASS %s\n", board_name());
    fflush(stdout);
    board_exit(0);
}
