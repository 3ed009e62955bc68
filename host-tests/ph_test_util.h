/* SPDX-License-Identifier: MIT */
/*
 * ph_test_util.h: helpers shared by the host tests (one header, no library,
 * so that every test file stays one self-contained executable).
 *
 *   rng_*        a deterministic xorshift64* generator: every randomised test
 *                prints its seed, and PH_TEST_SEED=<n> in the environment
 *                replaces the built-in seed to replay or vary a run.
 *   test_scale() PH_TEST_SCALE=<x> (a positive number, default 1) multiplies
 *                the operation counts of the long randomised tests: 0.1 for a
 *                quick look, 10 for a soak.  Tests never skip; they only run
 *                fewer or more operations.
 *   tport        a port whose hooks record what the heap did: faults (code,
 *                address, count), lock/unlock balance and nesting, release/
 *                acquire calls, and that ctx comes back unchanged.
 *   walk_log     the output of ph_walk as an array of runs, to compare whole
 *                heap maps before and after a refused call.
 *   stats_equal  field-by-field comparison of two ph_stats with a message.
 */
#ifndef PH_TEST_UTIL_H
#define PH_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pageheap.h"

/* ---- deterministic PRNG ------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng_t;

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform-enough value in [0, n); 0 when n is 0. */
static inline uint64_t rng_below(rng_t *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

/* Value in [lo, hi]. */
static inline uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

/* True with probability pct/100. */
static inline bool rng_pct(rng_t *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

/* The seed a test runs with: PH_TEST_SEED from the environment when set,
 * else the test's own fixed seed.  Printed so that a failure can be replayed. */
static inline uint64_t test_seed(const char *test, uint64_t fixed)
{
    const char *e = getenv("PH_TEST_SEED");
    uint64_t s = fixed;
    if (e && *e)
        s = strtoull(e, NULL, 0);
    if (s == 0)
        s = 0x9E3779B97F4A7C15ULL; /* xorshift must not start at 0 */
    print_message("[ seed     ] %s: seed=%#llx (replay with PH_TEST_SEED=%#llx)\n",
                  test, (unsigned long long)s, (unsigned long long)s);
    return s;
}

static inline void rng_seed(rng_t *r, uint64_t seed)
{
    r->s = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

/* PH_TEST_SCALE: multiplier for operation counts (default 1). */
static inline double test_scale(void)
{
    const char *e = getenv("PH_TEST_SCALE");
    double s = 1.0;
    if (e && *e) {
        char *end = NULL;
        double v = strtod(e, &end);
        if (end != e && v > 0.0)
            s = v;
    }
    return s;
}

/* n scaled by PH_TEST_SCALE, at least 1. */
static inline size_t scaled(size_t n)
{
    double v = (double)n * test_scale();
    return v < 1.0 ? 1 : (size_t)v;
}

/* ---- recording port ----------------------------------------------------- */

typedef struct tport {
    ph_port port;
    /* fault hook */
    size_t faults;
    int last_code;
    const void *last_addr;
    /* lock hooks */
    size_t locks, unlocks;
    bool held;
    size_t nested;        /* lock while held                 */
    size_t stray_unlocks; /* unlock while not held           */
    size_t faults_unlocked; /* fault hook called without the lock (info) */
    /* release / acquire hooks */
    size_t releases, acquires;
    /* every hook checks that ctx is this record */
    size_t bad_ctx;
} tport;

static inline void tport_fault(void *ctx, int code, const void *addr)
{
    tport *t = (tport *)ctx;
    if (t == NULL || t->port.ctx != t) {
        /* cannot record anything sensible: make it visible */
        fprintf(stderr, "fault hook: bad ctx %p\n", ctx);
        abort();
    }
    t->faults++;
    t->last_code = code;
    t->last_addr = addr;
    if (t->port.lock && !t->held)
        t->faults_unlocked++;
}

static inline void tport_lock(void *ctx)
{
    tport *t = (tport *)ctx;
    if (t == NULL || t->port.ctx != t) {
        fprintf(stderr, "lock hook: bad ctx %p\n", ctx);
        abort();
    }
    if (t->held)
        t->nested++;
    t->held = true;
    t->locks++;
}

static inline void tport_unlock(void *ctx)
{
    tport *t = (tport *)ctx;
    if (t == NULL || t->port.ctx != t) {
        fprintf(stderr, "unlock hook: bad ctx %p\n", ctx);
        abort();
    }
    if (!t->held)
        t->stray_unlocks++;
    t->held = false;
    t->unlocks++;
}

static inline void tport_release(void *ctx, void *base, size_t len)
{
    tport *t = (tport *)ctx;
    (void)base;
    (void)len;
    if (t == NULL || t->port.ctx != t) {
        fprintf(stderr, "release hook: bad ctx %p\n", ctx);
        abort();
    }
    t->releases++;
}

static inline void tport_acquire(void *ctx, void *base, size_t len)
{
    tport *t = (tport *)ctx;
    (void)base;
    (void)len;
    if (t == NULL || t->port.ctx != t) {
        fprintf(stderr, "acquire hook: bad ctx %p\n", ctx);
        abort();
    }
    t->acquires++;
}

/* Sets up t with every hook (with_lock: lock/unlock too). */
static inline void tport_init(tport *t, bool with_lock)
{
    memset(t, 0, sizeof *t);
    t->port.ctx = t;
    t->port.fault = tport_fault;
    t->port.release = tport_release;
    t->port.acquire = tport_acquire;
    if (with_lock) {
        t->port.lock = tport_lock;
        t->port.unlock = tport_unlock;
    }
}

/* ---- ph_walk capture ---------------------------------------------------- */

typedef struct walk_run {
    const void *base;
    size_t npages;
    int state;
} walk_run;

typedef struct walk_log {
    walk_run *runs;
    size_t n, cap;
    size_t calls;
    tport *lock_owner; /* when set: every callback must run with the lock held */
    size_t unlocked_calls;
} walk_log;

static inline void walk_log_fn(void *ctx, const void *base, size_t npages, int state)
{
    walk_log *w = (walk_log *)ctx;
    w->calls++;
    if (w->lock_owner && !w->lock_owner->held)
        w->unlocked_calls++;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        walk_run *r = (walk_run *)realloc(w->runs, cap * sizeof *r);
        if (!r)
            abort();
        w->runs = r;
        w->cap = cap;
    }
    w->runs[w->n].base = base;
    w->runs[w->n].npages = npages;
    w->runs[w->n].state = state;
    w->n++;
}

static inline void walk_take(ph_heap *h, walk_log *w)
{
    w->n = 0;
    w->calls = 0;
    ph_walk(h, walk_log_fn, w);
}

static inline void walk_free(walk_log *w)
{
    free(w->runs);
    memset(w, 0, sizeof *w);
}

/* Fails the test when the two maps differ, naming the first difference. */
static inline void walk_assert_equal(const walk_log *a, const walk_log *b, const char *what)
{
    size_t i;
    for (i = 0; i < a->n && i < b->n; i++) {
        if (a->runs[i].base != b->runs[i].base || a->runs[i].npages != b->runs[i].npages ||
            a->runs[i].state != b->runs[i].state)
            fail_msg("%s: heap map changed at run %zu: (%p, %zu, state %d) became (%p, %zu, state %d)",
                     what, i, a->runs[i].base, a->runs[i].npages, a->runs[i].state,
                     b->runs[i].base, b->runs[i].npages, b->runs[i].state);
    }
    if (a->n != b->n)
        fail_msg("%s: heap map had %zu runs, now %zu", what, a->n, b->n);
}

/* ---- statistics ----------------------------------------------------------- */

#define STATS_FIELD_EQ(a, b, f, what)                                                   \
    do {                                                                               \
        if ((a)->f != (b)->f)                                                          \
            fail_msg("%s: stats." #f " is %zu, expected %zu", what, (size_t)(b)->f,    \
                     (size_t)(a)->f);                                                  \
    } while (0)

/* b must equal a in every field; faults may differ by exactly faults_delta. */
static inline void stats_assert(const ph_stats *a, const ph_stats *b, size_t faults_delta,
                                const char *what)
{
    ph_stats e = *a;
    e.faults += faults_delta;
    STATS_FIELD_EQ(&e, b, page_size, what);
    STATS_FIELD_EQ(&e, b, regions, what);
    STATS_FIELD_EQ(&e, b, pages_total, what);
    STATS_FIELD_EQ(&e, b, pages_free, what);
    STATS_FIELD_EQ(&e, b, pages_released, what);
    STATS_FIELD_EQ(&e, b, largest_free_run, what);
    STATS_FIELD_EQ(&e, b, metadata_bytes, what);
    STATS_FIELD_EQ(&e, b, faults, what);
}

/* ---- memory ---------------------------------------------------------------- */

/* size bytes aligned to align (a power of two), from malloc; free with free(). */
static inline void *xaligned(size_t align, size_t size)
{
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size ? size : 1) != 0 || !p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        abort();
    }
    return p;
}

static inline size_t round_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

static inline uintptr_t round_up_ptr(uintptr_t x, uintptr_t a)
{
    return (x + a - 1) & ~(a - 1);
}

#define CHECK_OK(h, what)                                                              \
    do {                                                                               \
        int check_rc_ = ph_check(h);                                                   \
        if (check_rc_ != PH_OK)                                                        \
            fail_msg("%s: ph_check returned %d", what, check_rc_);                     \
    } while (0)

#endif /* PH_TEST_UTIL_H */
