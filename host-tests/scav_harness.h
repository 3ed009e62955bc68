/* SPDX-License-Identifier: MIT */
/*
 * scav_harness.h: the scavenger tests' harness (one header, included by
 * each test_scav*.c, so every test file stays one executable).
 *
 * A harness heap (`sh`) runs pageheap and the reference model of pages and
 * release state (ref/refscav.h) side by side.  Every operation goes to
 * both, and afterwards sh_compare() checks, failing the test on the first
 * difference:
 *   - ph_check(h) == PH_OK;
 *   - every ph_stats field against the model (pages_free, pages_released,
 *     granules_released, largest_free_run, release/acquire calls and bytes,
 *     the idle pacer's peak, faults, metadata bytes);
 *   - the whole ph_walk map, page by page: USED / FREE / RELEASED as the
 *     model says, META exactly the region's metadata, runs maximal;
 *   - the hook calls of the operation (recorded by a port that forwards to
 *     the guard port): release calls exactly the model's sequence (granule
 *     aligned, adjacent granules joined, highest first), acquire calls the
 *     model's set (once per granule, whole); none at all on a free;
 *   - with the guard port: which granules it holds protected equals the
 *     model's released set, and the lock was held around every hook call.
 *
 * The guard port (port/host/ph_port_guard.h) is used whenever every region's
 * granule is 0 or a multiple of the OS page: released memory is then
 * PROT_NONE, so a stray access by the heap crashes the test.  The harness
 * itself writes a tag at the start and the end of every page it gets from
 * ph_page_alloc (which also crashes if acquire did not restore access) and
 * verifies the tags when the pages are freed (a heap that released,
 * scrubbed or wrote into allocated memory fails).
 *
 * Memory comes from mmap (MAP_NORESERVE), aligned so that where granules
 * fall depends only on the test's own offsets: runs repeat exactly.
 */
#ifndef SCAV_HARNESS_H
#define SCAV_HARNESS_H

#include "ph_test_util.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ph_port_guard.h"
#include "refscav.h"

#define SH_MAX_REGIONS PH_MAX_REGIONS

/* ---- memory --------------------------------------------------------------- */

typedef struct arena {
    void *raw;
    size_t len;
    uintptr_t base; /* aligned as asked */
} arena;

/* size bytes of fresh anonymous memory at an address aligned to align. */
static inline uintptr_t arena_map(arena *a, size_t size, size_t align)
{
    if (align < 4096)
        align = 4096;
    a->len = size + align;
    a->raw = mmap(NULL, a->len, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->raw == MAP_FAILED) {
        perror("mmap");
        abort();
    }
    a->base = round_up_ptr((uintptr_t)a->raw, align);
    return a->base;
}

static inline void arena_unmap(arena *a)
{
    if (a->raw != NULL)
        munmap(a->raw, a->len);
    a->raw = NULL;
}

static inline size_t os_page_size(void)
{
    long v = sysconf(_SC_PAGESIZE);
    return v > 0 ? (size_t)v : 4096u;
}

/* ---- probing: does touching an address fault? ------------------------------- */

static sigjmp_buf probe_jmp_;
static volatile sig_atomic_t probe_armed_;

static void probe_handler_(int sig)
{
    (void)sig;
    if (probe_armed_)
        siglongjmp(probe_jmp_, 1);
    abort();
}

/* True when reading (write: writing) the byte at addr faults. */
static inline bool probe_faults(const void *addr, bool write)
{
    struct sigaction sa, old_segv, old_bus;
    bool faulted;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = probe_handler_;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    if (sigsetjmp(probe_jmp_, 1) == 0) {
        probe_armed_ = 1;
        if (write)
            *(volatile uint8_t *)(uintptr_t)addr = *(volatile const uint8_t *)addr;
        else
            (void)*(volatile const uint8_t *)addr;
        faulted = false;
    } else {
        faulted = true;
    }
    probe_armed_ = 0;
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    return faulted;
}

/* ---- recording port ----------------------------------------------------------- */

typedef struct recorder {
    ph_port port;          /* ctx = this record                           */
    ph_guard_port *guard;  /* release/acquire/lock/unlock forwarded there */
    rs_call *calls;        /* release/acquire calls since the last clear  */
    size_t n, cap;
    size_t faults;
    int last_code;
    const void *last_addr;
    bool held;
    size_t nested, stray, unlocked_hooks, bad_ctx;
} recorder;

static inline recorder *rec_of_(void *ctx)
{
    recorder *r = (recorder *)ctx;
    if (r == NULL || r->port.ctx != r) {
        fprintf(stderr, "recorder: bad ctx %p\n", ctx);
        abort();
    }
    return r;
}

static inline void rec_log_(recorder *r, int kind, void *base, size_t len)
{
    if (!r->held)
        r->unlocked_hooks++;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->calls = (rs_call *)realloc(r->calls, r->cap * sizeof *r->calls);
        if (r->calls == NULL)
            abort();
    }
    r->calls[r->n].kind = kind;
    r->calls[r->n].base = (uintptr_t)base;
    r->calls[r->n].len = len;
    r->n++;
}

static inline void rec_release_(void *ctx, void *base, size_t len)
{
    recorder *r = rec_of_(ctx);
    rec_log_(r, RS_RELEASE, base, len);
    if (r->guard)
        r->guard->port.release(r->guard->port.ctx, base, len);
}

static inline void rec_acquire_(void *ctx, void *base, size_t len)
{
    recorder *r = rec_of_(ctx);
    rec_log_(r, RS_ACQUIRE, base, len);
    if (r->guard)
        r->guard->port.acquire(r->guard->port.ctx, base, len);
}

static inline void rec_lock_(void *ctx)
{
    recorder *r = rec_of_(ctx);
    if (r->held)
        r->nested++;
    r->held = true;
    if (r->guard)
        r->guard->port.lock(r->guard->port.ctx);
}

static inline void rec_unlock_(void *ctx)
{
    recorder *r = rec_of_(ctx);
    if (!r->held)
        r->stray++;
    r->held = false;
    if (r->guard)
        r->guard->port.unlock(r->guard->port.ctx);
}

static inline void rec_fault_(void *ctx, int code, const void *addr)
{
    recorder *r = rec_of_(ctx);
    r->faults++;
    r->last_code = code;
    r->last_addr = addr;
}

static inline void rec_init(recorder *r, ph_guard_port *guard)
{
    memset(r, 0, sizeof *r);
    r->port.ctx = r;
    r->port.release = rec_release_;
    r->port.acquire = rec_acquire_;
    r->port.lock = rec_lock_;
    r->port.unlock = rec_unlock_;
    r->port.fault = rec_fault_;
    r->guard = guard;
}

/* ---- the harness heap ----------------------------------------------------------- */

typedef enum { SH_NO_GUARD = -1, SH_PROTECT = PH_GUARD_PROTECT, SH_SCRUB = PH_GUARD_SCRUB } sh_guard;

typedef struct sh_live {
    uintptr_t addr;
    size_t n;
} sh_live;

typedef struct sh {
    const char *test;
    uint64_t seed;
    size_t op;             /* operation index, for messages          */
    ph_heap h;
    rs_model m;
    recorder rec;
    ph_guard_port guard;
    bool guarded;
    size_t ps, os_page;
    size_t faults;         /* expected fault count                   */
    ph_idle_policy policy; /* what the heap was given                */
    ph_region_info ri[SH_MAX_REGIONS]; /* address order              */
    size_t nr;
    sh_live *live;         /* runs the harness holds (tags written)  */
    size_t nlive, cap;
    uint64_t salt;
    /* counters for the summary line */
    size_t n_alloc, n_free, n_scav, n_idle, n_acq_calls, n_rel_calls, bytes_rel;
} sh;

#define SH_FAIL(s, fmt, ...)                                                                 \
    fail_msg("[%s seed %#llx op %zu] " fmt, (s)->test, (unsigned long long)(s)->seed, (s)->op, \
             ##__VA_ARGS__)

static inline void sh_init(sh *s, const char *test, uint64_t seed, size_t page_size,
                           sh_guard guard)
{
    memset(s, 0, sizeof *s);
    s->test = test;
    s->seed = seed;
    s->ps = page_size;
    s->os_page = os_page_size();
    s->guarded = guard != SH_NO_GUARD;
    s->salt = seed * 0x9E3779B97F4A7C15ULL + 1;
    if (s->guarded)
        ph_guard_port_init(&s->guard, (ph_guard_mode)guard);
    rec_init(&s->rec, s->guarded ? &s->guard : NULL);
    rs_init(&s->m, page_size);
    if (ph_init(&s->h, page_size, &s->rec.port) != PH_OK)
        SH_FAIL(s, "ph_init(%zu) failed", page_size);
    s->policy.budget_bytes = PH_IDLE_BUDGET_BYTES;
    s->policy.headroom_pct = PH_IDLE_HEADROOM_PCT;
    s->policy.decay_shift = PH_IDLE_DECAY_SHIFT;
}

static inline void sh_destroy(sh *s)
{
    if (s->guarded)
        ph_guard_port_destroy(&s->guard);
    rs_destroy(&s->m);
    free(s->rec.calls);
    free(s->live);
    s->rec.calls = NULL;
    s->live = NULL;
}

static inline void sh_refresh_regions(sh *s)
{
    s->nr = 0;
    while (s->nr < SH_MAX_REGIONS && ph_get_region(&s->h, s->nr, &s->ri[s->nr]) == PH_OK)
        s->nr++;
}

/* The harness region holding addr's usable pages, or NULL. */
static inline const ph_region_info *sh_region_of(const sh *s, uintptr_t a)
{
    for (size_t i = 0; i < s->nr; i++) {
        uintptr_t b = (uintptr_t)s->ri[i].base;
        if (a >= b && (a - b) / s->ps < s->ri[i].npages)
            return &s->ri[i];
    }
    return NULL;
}

/* ---- comparison ------------------------------------------------------------------ */

typedef struct sh_walk {
    const sh *s;
    size_t region;          /* region the next run belongs to         */
    uintptr_t next;         /* address the next non-META run starts at */
    int prev;               /* state of the previous run in the region */
    char err[512];
} sh_walk;

static inline int sh_model_state_(const sh *s, const rs_region *r, uintptr_t a)
{
    size_t p = (a - r->base) / s->ps;
    if (r->used[p])
        return RS_USED;
    if (r->granule != 0 && a >= r->gbase) {
        size_t g = (a - r->gbase) / r->granule;
        if (g < r->ngran && r->rel[g])
            return RS_RELEASED;
    }
    return RS_FREE;
}

static inline void sh_walk_fn_(void *ctx, const void *base, size_t npages, int state)
{
    sh_walk *w = (sh_walk *)ctx;
    const sh *s = w->s;
    uintptr_t a = (uintptr_t)base;

    if (w->err[0])
        return;
    if (state == PH_PAGES_META) {
        const ph_region_info *ri;
        if (w->region < s->nr && w->next == (uintptr_t)s->ri[w->region].base +
                                                 s->ri[w->region].npages * s->ps)
            w->region++;
        if (w->region >= s->nr) {
            snprintf(w->err, sizeof w->err, "walk: META run at %p past the last region", base);
            return;
        }
        ri = &s->ri[w->region];
        if (base != ri->meta_base || npages * s->ps != ri->meta_bytes ||
            a + ri->meta_bytes != (uintptr_t)ri->base) {
            snprintf(w->err, sizeof w->err,
                     "walk: META run (%p, %zu pages) is not region %zu's metadata (%p, %zu bytes)",
                     base, npages, w->region, ri->meta_base, ri->meta_bytes);
            return;
        }
        w->next = (uintptr_t)ri->base;
        w->prev = PH_PAGES_META;
        return;
    }
    if (w->region >= s->nr || a != w->next || npages == 0) {
        snprintf(w->err, sizeof w->err, "walk: run (%p, %zu pages, state %d) expected at %p",
                 base, npages, state, (void *)w->next);
        return;
    }
    if (state == w->prev) {
        snprintf(w->err, sizeof w->err, "walk: runs at %p not maximal (state %d twice)", base,
                 state);
        return;
    }
    const rs_region *r = rs_region_of(&s->m, a);
    if (r == NULL || r->base != (uintptr_t)s->ri[w->region].base) {
        snprintf(w->err, sizeof w->err, "walk: run at %p in no model region", base);
        return;
    }
    for (size_t i = 0; i < npages; i++) {
        uintptr_t pa = a + i * s->ps;
        int want;
        if ((pa - r->base) / s->ps >= r->npages) {
            snprintf(w->err, sizeof w->err, "walk: run (%p, %zu) passes its region's end", base,
                     npages);
            return;
        }
        want = sh_model_state_(s, r, pa);
        if (want != state) {
            snprintf(w->err, sizeof w->err,
                     "walk: page %p is state %d (1 used, 2 free, 3 released), model says %d",
                     (void *)pa, state, want);
            return;
        }
    }
    w->next = a + npages * s->ps;
    w->prev = state;
}

static inline void sh_compare_walk(sh *s)
{
    sh_walk w;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.next = 0;
    ph_walk(&s->h, sh_walk_fn_, &w);
    if (!w.err[0] && s->nr > 0 &&
        (w.region != s->nr - 1 ||
         w.next != (uintptr_t)s->ri[s->nr - 1].base + s->ri[s->nr - 1].npages * s->ps))
        snprintf(w.err, sizeof w.err, "walk: ended in region %zu at %p, not at the heap's end",
                 w.region, (void *)w.next);
    if (w.err[0])
        SH_FAIL(s, "%s", w.err);
}

static inline void sh_compare_stats(sh *s)
{
    ph_stats st;
    size_t meta = 0;
    const rs_model *m = &s->m;

    for (size_t i = 0; i < s->nr; i++)
        meta += s->ri[i].meta_bytes;
    ph_get_stats(&s->h, &st);
#define SH_STAT(field, want)                                                                  \
    do {                                                                                      \
        size_t want_ = (size_t)(want);                                                        \
        if (st.field != want_)                                                                \
            SH_FAIL(s, "stats." #field " is %zu, model says %zu", st.field, want_);           \
    } while (0)
    SH_STAT(page_size, s->ps);
    SH_STAT(regions, s->nr);
    SH_STAT(pages_total, rs_pages_total(m));
    SH_STAT(pages_free, rs_pages_free(m));
    SH_STAT(pages_released, m->pages_released);
    SH_STAT(granules_released, m->granules_released);
    SH_STAT(largest_free_run, rs_largest_run(m));
    SH_STAT(metadata_bytes, meta);
    SH_STAT(faults, s->faults);
    SH_STAT(release_calls, m->release_calls);
    SH_STAT(acquire_calls, m->acquire_calls);
    SH_STAT(bytes_released, m->bytes_released);
    SH_STAT(bytes_acquired, m->bytes_acquired);
    SH_STAT(peak_pages_used, m->peak_used);
#undef SH_STAT
}

/* The guard port holds exactly the model's released granules protected. */
static inline void sh_compare_guard(sh *s)
{
    size_t n = 0;
    if (!s->guarded)
        return;
    if (s->guard.errors != 0)
        SH_FAIL(s, "guard port: %s", s->guard.first_error);
    for (size_t i = 0; i < s->m.nregions; i++) {
        const rs_region *r = &s->m.regions[i];
        for (size_t g = 0; g < r->ngran; g++) {
            const void *a = (const void *)(r->gbase + g * r->granule);
            if (ph_guard_port_is_released(&s->guard, a) != (r->rel[g] != 0))
                SH_FAIL(s, "guard port: granule %p is %s, the model says %s", a,
                        r->rel[g] ? "accessible" : "protected",
                        r->rel[g] ? "released" : "not released");
            n += r->rel[g];
        }
    }
    if (s->guard.granules_released != n)
        SH_FAIL(s, "guard port holds %zu granules released, the model %zu",
                s->guard.granules_released, n);
}

static inline void sh_compare(sh *s)
{
    int rc = ph_check(&s->h);
    if (rc != PH_OK)
        SH_FAIL(s, "ph_check returned %d", rc);
    if (s->rec.nested || s->rec.stray || s->rec.held || s->rec.unlocked_hooks)
        SH_FAIL(s, "lock: nested %zu, stray unlocks %zu, held %d, hooks without lock %zu",
                s->rec.nested, s->rec.stray, s->rec.held, s->rec.unlocked_hooks);
    sh_compare_stats(s);
    sh_compare_walk(s);
    sh_compare_guard(s);
}

static inline void sh_print_calls(const char *who, const rs_call *c, size_t n)
{
    for (size_t i = 0; i < n && i < 16; i++)
        print_message("    %s %zu: %s(%p, %zu)\n", who, i,
                      c[i].kind == RS_RELEASE ? "release" : "acquire", (void *)c[i].base,
                      c[i].len);
}

/* The recorded calls must be the model's, in the same order. */
static inline void sh_calls_exact(sh *s, const char *what)
{
    bool same = s->rec.n == s->m.ncalls;
    for (size_t i = 0; same && i < s->rec.n; i++)
        same = s->rec.calls[i].kind == s->m.calls[i].kind &&
               s->rec.calls[i].base == s->m.calls[i].base &&
               s->rec.calls[i].len == s->m.calls[i].len;
    if (!same) {
        sh_print_calls("heap ", s->rec.calls, s->rec.n);
        sh_print_calls("model", s->m.calls, s->m.ncalls);
        SH_FAIL(s, "%s: %zu hook calls, model expects %zu (or they differ, see above)", what,
                s->rec.n, s->m.ncalls);
    }
}

static inline int sh_call_cmp_(const void *a, const void *b)
{
    const rs_call *x = (const rs_call *)a, *y = (const rs_call *)b;
    if (x->base != y->base)
        return x->base < y->base ? -1 : 1;
    return x->kind - y->kind;
}

/* The recorded calls must be the model's, in any order. */
static inline void sh_calls_as_set(sh *s, const char *what)
{
    if (s->rec.n > 1)
        qsort(s->rec.calls, s->rec.n, sizeof *s->rec.calls, sh_call_cmp_);
    if (s->m.ncalls > 1)
        qsort(s->m.calls, s->m.ncalls, sizeof *s->m.calls, sh_call_cmp_);
    sh_calls_exact(s, what);
}

static inline void sh_clear_calls(sh *s)
{
    s->rec.n = 0;
    rs_calls_clear(&s->m);
}

/* ---- tags in allocated pages --------------------------------------------------- */

static inline uint64_t sh_tag_(const sh *s, uintptr_t a)
{
    return (uint64_t)a ^ s->salt;
}

/* Writes a tag at the start and at the end of every page of the run: the
 * write faults if acquire did not make the memory accessible. */
static inline void sh_tag(sh *s, uintptr_t a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t p = a + i * s->ps, q = p + s->ps - sizeof(uint64_t);
        *(volatile uint64_t *)p = sh_tag_(s, p);
        *(volatile uint64_t *)q = sh_tag_(s, q);
    }
}

static inline void sh_check_tags(sh *s, uintptr_t a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t p = a + i * s->ps, q = p + s->ps - sizeof(uint64_t);
        if (*(volatile uint64_t *)p != sh_tag_(s, p) || *(volatile uint64_t *)q != sh_tag_(s, q))
            SH_FAIL(s, "page %p was allocated but its tag changed", (void *)p);
    }
}

static inline void sh_live_push(sh *s, uintptr_t a, size_t n)
{
    if (s->nlive == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->live = (sh_live *)realloc(s->live, s->cap * sizeof *s->live);
        if (s->live == NULL)
            abort();
    }
    s->live[s->nlive].addr = a;
    s->live[s->nlive].n = n;
    s->nlive++;
}

/* ---- operations --------------------------------------------------------------- */

/* Adds a region (guarded when the harness is) and checks the result code:
 * PH_OK regions join the model.  Returns the code. */
static inline int sh_add_region(sh *s, uintptr_t base, size_t size, size_t granule)
{
    int rc;
    sh_clear_calls(s);
    rc = ph_add_region(&s->h, (void *)base, size, granule);
    if (s->rec.n != 0)
        SH_FAIL(s, "ph_add_region made %zu hook calls", s->rec.n);
    if (rc == PH_OK) {
        const ph_region_info *ri = NULL;
        sh_refresh_regions(s);
        for (size_t i = 0; i < s->nr; i++)
            if ((uintptr_t)s->ri[i].raw_base == base)
                ri = &s->ri[i];
        if (ri == NULL || ri->granule != granule)
            SH_FAIL(s, "region %p not found after ph_add_region", (void *)base);
        rs_add_region(&s->m, (uintptr_t)ri->base, ri->npages, granule);
        if (s->guarded && ph_guard_port_add_area(&s->guard, (void *)base, size, granule) != 0)
            SH_FAIL(s, "guard port refused area %p + %zu, granule %zu", (void *)base, size,
                    granule);
    }
    sh_compare(s);
    return rc;
}

/* ph_page_alloc(n) against the model; tags the run and keeps it live. */
static inline uintptr_t sh_alloc(sh *s, size_t n)
{
    uintptr_t got, want;
    sh_clear_calls(s);
    got = (uintptr_t)ph_page_alloc(&s->h, n);
    want = rs_alloc(&s->m, n);
    if (got != want)
        SH_FAIL(s, "ph_page_alloc(%zu) returned %p, model %p", n, (void *)got, (void *)want);
    s->n_acq_calls += s->rec.n;
    sh_calls_as_set(s, "ph_page_alloc");
    if (got != 0) {
        sh_tag(s, got, n);
        sh_live_push(s, got, n);
    }
    s->n_alloc++;
    sh_compare(s);
    return got;
}

/* Frees pages [a, a + n pages) that the harness holds (part of a live run). */
static inline void sh_free(sh *s, uintptr_t a, size_t n)
{
    size_t i;
    int want;
    for (i = 0; i < s->nlive; i++)
        if (a >= s->live[i].addr && a + n * s->ps <= s->live[i].addr + s->live[i].n * s->ps)
            break;
    if (i == s->nlive)
        SH_FAIL(s, "harness: %p + %zu pages is not live", (void *)a, n);
    sh_check_tags(s, a, n);
    sh_clear_calls(s);
    ph_page_free(&s->h, (void *)a, n);
    want = rs_free(&s->m, a, n);
    if (want != 0)
        SH_FAIL(s, "model refused the free of %p + %zu (%d)", (void *)a, n, want);
    if (s->rec.n != 0)
        SH_FAIL(s, "ph_page_free made %zu hook calls (free never releases)", s->rec.n);
    {
        sh_live run = s->live[i];
        size_t lo = (size_t)((a - run.addr) / s->ps), hi = lo + n;
        s->live[i] = s->live[--s->nlive];
        if (lo > 0)
            sh_live_push(s, run.addr, lo);
        if (hi < run.n)
            sh_live_push(s, run.addr + hi * s->ps, run.n - hi);
    }
    s->n_free++;
    sh_compare(s);
}

/* A free the heap must refuse with the model's fault code; nothing else
 * may change. */
static inline void sh_bad_free(sh *s, uintptr_t a, size_t n)
{
    int want = rs_free(&s->m, a, n);
    if (want == 0)
        SH_FAIL(s, "harness: bad free %p + %zu is valid", (void *)a, n);
    sh_clear_calls(s);
    s->rec.faults = 0;
    ph_page_free(&s->h, (void *)a, n);
    if (s->rec.faults != 1 || s->rec.last_code != want || s->rec.last_addr != (void *)a)
        SH_FAIL(s, "bad free %p + %zu: %zu faults, code %d (want 1, code %d)", (void *)a, n,
                s->rec.faults, s->rec.last_code, want);
    if (s->rec.n != 0)
        SH_FAIL(s, "refused free made %zu hook calls", s->rec.n);
    s->faults++;
    sh_compare(s);
}

/* ph_scavenge(nbytes) against the model: the same bytes, the same release
 * calls in the same order. */
static inline size_t sh_scavenge(sh *s, size_t nbytes)
{
    size_t got, want;
    sh_clear_calls(s);
    got = ph_scavenge(&s->h, nbytes);
    want = rs_scavenge(&s->m, nbytes);
    if (got != want) {
        sh_print_calls("heap ", s->rec.calls, s->rec.n);
        sh_print_calls("model", s->m.calls, s->m.ncalls);
        SH_FAIL(s, "ph_scavenge(%zu) returned %zu, model %zu", nbytes, got, want);
    }
    sh_calls_exact(s, "ph_scavenge");
    s->n_rel_calls += s->rec.n;
    s->bytes_rel += got;
    s->n_scav++;
    sh_compare(s);
    return got;
}

static inline void sh_set_policy(sh *s, size_t budget, uint32_t headroom_pct,
                                 uint32_t decay_shift)
{
    s->policy.budget_bytes = budget;
    s->policy.headroom_pct = headroom_pct;
    s->policy.decay_shift = decay_shift;
    sh_clear_calls(s);
    ph_set_idle_policy(&s->h, &s->policy);
    if (s->rec.n != 0)
        SH_FAIL(s, "ph_set_idle_policy made hook calls");
    sh_compare(s);
}

/* Granule (bytes) of the model region holding address a; 0 if none. */
static inline size_t sh_granule_at_(const sh *s, uintptr_t a)
{
    const rs_region *r = rs_region_of(&s->m, a);
    return r ? r->granule : 0;
}

/* ph_idle against what its header documents:
 *   - the peak (stats.peak_pages_used) follows the model's bookkeeping;
 *   - goal = peak + headroom_pct% of it; nothing is released when the
 *     powered pages (usable, not released) are at or below the goal;
 *   - it never goes below the goal: the bytes fit in the excess;
 *   - budget: it stops once budget_bytes are released (the last granule may
 *     pass it), so without the last granule it was under the budget;
 *   - release calls of whole granules whose bytes sum to the return value;
 *   - exactly the model's release calls (rs_idle_release): highest address
 *     first, every releasable granule that fits in what is left of the
 *     excess, until the budget is reached, adjacent granules joined.
 * Returns the bytes released. */
static inline size_t sh_idle(sh *s)
{
    size_t powered = rs_pages_powered(&s->m);
    size_t goal = rs_idle_goal(&s->m, s->policy.headroom_pct, s->policy.decay_shift);
    size_t excess = powered > goal ? (powered - goal) * s->ps : 0;
    size_t got, sum = 0, last_g = 0, want;
    rs_call *calls;
    size_t ncalls;

    sh_clear_calls(s);
    got = ph_idle(&s->h);
    for (size_t i = 0; i < s->rec.n; i++) {
        const rs_call *c = &s->rec.calls[i];
        size_t g = sh_granule_at_(s, c->base);
        if (c->kind != RS_RELEASE || g == 0 || c->len % g != 0)
            SH_FAIL(s, "ph_idle: hook call %zu (%s %p, %zu) is not a release of whole granules",
                    i, c->kind == RS_RELEASE ? "release" : "acquire", (void *)c->base, c->len);
        sum += c->len;
        last_g = g;
    }
    if (sum != got)
        SH_FAIL(s, "ph_idle returned %zu, its release calls sum to %zu", got, sum);
    if (powered <= goal && got != 0)
        SH_FAIL(s, "ph_idle released %zu bytes with %zu powered pages <= goal %zu", got, powered,
                goal);
    if (got > excess)
        SH_FAIL(s, "ph_idle released %zu bytes, more than the excess %zu over the goal (%zu "
                   "powered, goal %zu pages): below the goal", got, excess, powered, goal);
    if (s->policy.budget_bytes != 0 && got != 0 && got - last_g >= s->policy.budget_bytes)
        SH_FAIL(s, "ph_idle released %zu bytes: it had %zu >= budget %zu before its last "
                   "granule", got, got - last_g, s->policy.budget_bytes);
    calls = s->rec.calls;
    ncalls = s->rec.n;
    rs_calls_clear(&s->m);
    want = rs_idle_release(&s->m, s->policy.budget_bytes, excess);
    if (want != got) {
        sh_print_calls("heap ", calls, ncalls);
        sh_print_calls("model", s->m.calls, s->m.ncalls);
        SH_FAIL(s, "ph_idle returned %zu, model %zu (powered %zu pages, goal %zu, excess %zu "
                   "bytes, budget %zu)", got, want, powered, goal, excess,
                s->policy.budget_bytes);
    }
    sh_calls_exact(s, "ph_idle");
    s->n_rel_calls += s->rec.n;
    s->bytes_rel += got;
    s->n_idle++;
    sh_compare(s);
    return got;
}

#endif /* SCAV_HARNESS_H */
