/* SPDX-License-Identifier: MIT */
/*
 * ph_preload.c: the C library's malloc family served by one pageheap, for
 * LD_PRELOAD on a Linux host (see README.md in this folder).
 *
 *   memory   regions reserved with mmap(MAP_PRIVATE | MAP_ANONYMOUS |
 *            MAP_NORESERVE): untouched pages cost nothing.  The first one is
 *            PH_PRELOAD_HEAP_MB (default 1 GiB); when an allocation fails, a
 *            new region twice the size of the last one (or as large as the
 *            request needs) is added, up to PH_MAX_REGIONS regions and
 *            PH_PRELOAD_MAX_MB of reservations in all.
 *   release  madvise(MADV_DONTNEED) on 64 KiB granules, from ph_idle every
 *            PH_PRELOAD_IDLE frees (paced: see ph_idle) and from malloc_trim.
 *   acquire  nothing: a private anonymous page is still mapped after
 *            MADV_DONTNEED, the next touch faults in a zero page.
 *   lock     one pthread mutex (non-recursive: the heap never nests it);
 *            pthread_atfork handlers hold it across fork().
 *   fault    a bad or double free is a bug in the program: one line on
 *            stderr (write(2), no stdio) and abort(), or with
 *            PH_PRELOAD_FAULT=count only counted (the call is refused).
 *
 * Nothing here calls anything that may allocate before the heap is ready:
 * no dlsym, no stdio, no pthread_once; getenv (no allocation) and mmap only.
 * Only the malloc family is exported (exports.map).
 */
#define _GNU_SOURCE /* MAP_NORESERVE, program_invocation_short_name */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h> /* memalign, pvalloc, malloc_usable_size, malloc_trim */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pageheap.h"

#define PH_EXPORT __attribute__((visibility("default")))
#define PH_LIKELY(x) __builtin_expect(!!(x), 1)
#define PH_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define GIB ((size_t)1 << 30)

#define DEFAULT_HEAP_MB 1024u           /* first region                      */
#define DEFAULT_MAX_MB (1024u * 1024u)  /* all reservations: 1 TiB (virtual) */
#define REGION_MAX (64 * GIB)           /* largest region: metadata ~2 B/page */
#define GRANULE (64 * KIB)              /* release unit                      */
#define DEFAULT_IDLE_PERIOD 64u         /* frees per ph_idle call            */
#define STATS_SAMPLE 1024u              /* allocations per peak sample       */
#define MAX_OBJ ((size_t)PTRDIFF_MAX)   /* larger requests fail at once      */

/* ---- state ---------------------------------------------------------------- */

static ph_heap g_heap;
static ph_port g_port;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;      /* the heap's   */
static pthread_mutex_t g_grow_lock = PTHREAD_MUTEX_INITIALIZER; /* adds regions */
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_ready;          /* atomic: g_heap is set up                     */
static size_t g_os_page = 4096;
static size_t g_page = 4096;  /* the heap's page size */

/* Configuration (from the environment, see read_config). */
static size_t g_first_region;
static size_t g_max_reserved;
static bool g_fault_count;   /* PH_PRELOAD_FAULT=count                      */
static unsigned g_idle_period;
static int g_stats;          /* 0 off, 1 stderr, 2 file g_stats_path        */
static const char *g_stats_path;

/* Reservations (under g_grow_lock; g_generation read atomically). */
static size_t g_reserved, g_last_region, g_nregions;
static unsigned g_generation;

/* Counters (atomic, relaxed). */
static size_t n_alloc, n_realloc, n_free, n_faults;
static size_t g_peak_used_pages;
static unsigned g_idle_tick;

/* Set by the fault hook in the calling thread: the call was refused, it is
 * not out of memory (do not grow the heap for it). */
static _Thread_local int t_faulted __attribute__((tls_model("initial-exec")));

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ADD(x, v) ((void)__atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED))

/* ---- output without stdio ---------------------------------------------------- */

typedef struct outbuf {
    char buf[512];
    size_t len;
} outbuf;

static void out_str(outbuf *o, const char *s)
{
    while (*s != '\0' && o->len < sizeof o->buf)
        o->buf[o->len++] = *s++;
}

static void out_num(outbuf *o, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0 && o->len < sizeof o->buf)
        o->buf[o->len++] = tmp[--n];
}

static void out_hex(outbuf *o, uintptr_t v)
{
    char tmp[2 * sizeof v];
    size_t n = 0;
    out_str(o, "0x");
    do {
        tmp[n++] = "0123456789abcdef"[v & 15u];
        v >>= 4;
    } while (v != 0);
    while (n > 0 && o->len < sizeof o->buf)
        o->buf[o->len++] = tmp[--n];
}

static void out_write(int fd, const outbuf *o)
{
    size_t done = 0;
    while (done < o->len) {
        ssize_t w = write(fd, o->buf + done, o->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        done += (size_t)w;
    }
}

/* ---- port hooks ------------------------------------------------------------ */

static void hook_release(void *ctx, void *base, size_t len)
{
    uintptr_t mask = (uintptr_t)g_os_page - 1u;
    uintptr_t lo = ((uintptr_t)base + mask) & ~mask;
    uintptr_t hi = ((uintptr_t)base + len) & ~mask;
    (void)ctx;
    if (hi > lo)
        (void)madvise((void *)lo, (size_t)(hi - lo), MADV_DONTNEED);
}

static void hook_lock(void *ctx)
{
    (void)ctx;
    if (pthread_mutex_lock(&g_lock) != 0)
        abort();
}

static void hook_unlock(void *ctx)
{
    (void)ctx;
    if (pthread_mutex_unlock(&g_lock) != 0)
        abort();
}

static void hook_fault(void *ctx, int code, const void *addr)
{
    outbuf o;
    (void)ctx;
    ADD(n_faults, 1);
    t_faulted = 1;
    if (g_fault_count)
        return;
    o.len = 0;
    out_str(&o, "pageheap-preload: fault: ");
    out_str(&o, code == PH_FAULT_DOUBLE_FREE ? "double free" : "bad pointer");
    out_str(&o, " ");
    out_hex(&o, (uintptr_t)addr);
    out_str(&o, " passed to free/realloc/malloc_usable_size; aborting "
                "(PH_PRELOAD_FAULT=count refuses the call and goes on)\n");
    out_write(2, &o);
    abort();
}

/* ---- fork ------------------------------------------------------------------ */

/* Order: grow lock, then heap lock (ph_add_region takes the heap lock while
 * grow_heap holds the grow lock). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&g_grow_lock);
    pthread_mutex_lock(&g_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&g_lock);
    pthread_mutex_unlock(&g_grow_lock);
}

static void fork_child(void)
{
    /* The child has one thread, this one: start with fresh mutexes. */
    pthread_mutex_init(&g_lock, NULL);
    pthread_mutex_init(&g_grow_lock, NULL);
}

/* ---- configuration ----------------------------------------------------------- */

/* Decimal value of environment variable name, or def when it is unset or
 * not a number.  getenv does not allocate; before the C library has set up
 * environ it returns NULL and the defaults hold. */
static size_t env_size(const char *name, size_t def)
{
    const char *s = getenv(name);
    size_t v = 0;
    if (s == NULL || *s < '0' || *s > '9')
        return def;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (SIZE_MAX - 9u) / 10u)
            return def;
        v = v * 10u + (size_t)(*s - '0');
    }
    return *s == '\0' ? v : def;
}

static void read_config(void)
{
    const char *f = getenv("PH_PRELOAD_FAULT");
    const char *st = getenv("PH_PRELOAD_STATS");
    size_t idle = env_size("PH_PRELOAD_IDLE", DEFAULT_IDLE_PERIOD);

    g_fault_count = f != NULL && strcmp(f, "count") == 0;
    g_idle_period = idle > 0xFFFFFFu ? 0xFFFFFFu : (unsigned)idle;
    if (st == NULL || *st == '\0' || strcmp(st, "0") == 0) {
        g_stats = 0;
    } else if (st[0] == '/') {
        g_stats = 2;
        g_stats_path = st;
    } else {
        g_stats = 1;
    }
}

/* ---- regions ----------------------------------------------------------------- */

/* Maps and adds a region of `size` bytes (a multiple of the granule).
 * Caller holds g_grow_lock (or is the initialiser).  True on success. */
static bool add_region(size_t size)
{
    void *base;
    int rc;

    if (size > g_max_reserved - g_reserved)
        return false;
    base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return false;
    rc = ph_add_region(&g_heap, base, size, GRANULE);
    if (rc != PH_OK) {
        munmap(base, size);
        return false;
    }
    g_reserved += size;
    g_last_region = size;
    g_nregions++;
    /* The new region is untouched, not resident: count it released (one
     * madvise of nothing) so that the idle pacer starts from what the
     * program really uses instead of releasing the new region piece by
     * piece.  Free granules of older regions go too: the heap is growing. */
    ph_scavenge(&g_heap, SIZE_MAX);
    __atomic_add_fetch(&g_generation, 1u, __ATOMIC_RELEASE);
    return true;
}

static size_t round_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* Bytes of a region of `bytes` bytes taken by metadata, rounded up
 * generously: bitmaps, summary tree and page map come to about two bytes
 * per page (see pageheap.h); count four. */
static size_t meta_bound(size_t bytes)
{
    return bytes / g_page * 4u + 4 * MIB;
}

/* Largest request a region can serve: REGION_MAX less its metadata and an
 * alignment's worth of slack. */
static size_t max_request(void)
{
    return REGION_MAX - meta_bound(REGION_MAX) - 64 * MIB;
}

/* An allocation of `need` bytes (alignment included) failed after the heap
 * was at generation `seen`.  Adds a region unless another thread already
 * did; true when the caller should try again. */
static bool grow_heap(size_t need, unsigned seen)
{
    size_t size, min;
    bool ok = false;

    if (need > max_request())
        return false;
    pthread_mutex_lock(&g_grow_lock);
    if (__atomic_load_n(&g_generation, __ATOMIC_ACQUIRE) != seen) {
        ok = true; /* a region came in meanwhile: try it */
    } else if (g_nregions < PH_MAX_REGIONS) {
        /* Room for the request and its region's metadata. */
        min = round_up(need + meta_bound(need), GRANULE);
        size = g_last_region > REGION_MAX / 2 ? REGION_MAX : 2 * g_last_region;
        if (size < min)
            size = min;
        ok = add_region(size) || (size > min && add_region(min));
    }
    pthread_mutex_unlock(&g_grow_lock);
    return ok;
}

/* ---- set-up ------------------------------------------------------------------ */

static ph_heap *heap_init_slow(void)
{
    pthread_mutex_lock(&g_init_lock);
    if (!__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE)) {
        long os_page = sysconf(_SC_PAGESIZE);
        size_t page = env_size("PH_PRELOAD_PAGE", 4096);
        size_t heap_mb = env_size("PH_PRELOAD_HEAP_MB", DEFAULT_HEAP_MB);
        size_t max_mb = env_size("PH_PRELOAD_MAX_MB", DEFAULT_MAX_MB);
        ph_idle_policy pol;

        if (os_page > 0)
            g_os_page = (size_t)os_page;
        read_config();
        g_port.ctx = NULL;
        g_port.release = hook_release;
        g_port.acquire = NULL;
        g_port.lock = hook_lock;
        g_port.unlock = hook_unlock;
        g_port.fault = hook_fault;
        if (page == 0 || page > GRANULE || ph_init(&g_heap, page, &g_port) != PH_OK) {
            page = 4096;
            ph_init(&g_heap, page, &g_port);
        }
        g_page = page;
        /* Release up to 1 MiB per idle call (the default 4 KiB suits a
         * board's RAM sections, not 64 KiB granules). */
        pol.budget_bytes = MIB;
        pol.headroom_pct = PH_IDLE_HEADROOM_PCT;
        pol.decay_shift = PH_IDLE_DECAY_SHIFT;
        ph_set_idle_policy(&g_heap, &pol);

        if (heap_mb == 0 || heap_mb > REGION_MAX / MIB)
            heap_mb = heap_mb == 0 ? DEFAULT_HEAP_MB : REGION_MAX / MIB;
        if (max_mb == 0 || max_mb > SIZE_MAX / MIB)
            max_mb = DEFAULT_MAX_MB;
        if (heap_mb > max_mb)
            heap_mb = max_mb;
        g_first_region = round_up(heap_mb * MIB, GRANULE);
        g_max_reserved = max_mb * MIB;
        g_reserved = 0;
        g_last_region = g_first_region / 2; /* so a failed first map doubles to it */
        /* A first region that cannot be mapped (RLIMIT_AS) makes way for a
         * small one; when both fail, the first allocation tries again. */
        if (!add_region(g_first_region) && g_first_region > 64 * MIB)
            (void)add_region(64 * MIB);
        __atomic_store_n(&g_ready, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&g_init_lock);
    return &g_heap;
}

static inline ph_heap *heap(void)
{
    if (PH_LIKELY(__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE)))
        return &g_heap;
    return heap_init_slow();
}

/* Runs once the C library is up (environ set, pthread_atfork usable): the
 * environment is read again (an allocation made while ld.so was still
 * relocating may have seen no environ) and the fork handlers are set. */
__attribute__((constructor)) static void preload_ctor(void)
{
    (void)heap();
    read_config();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- statistics -------------------------------------------------------------- */

static void stats_sample(void)
{
    ph_stats s;
    size_t used, peak;
    ph_get_stats(&g_heap, &s);
    used = s.pages_total - s.pages_free;
    peak = LOAD(g_peak_used_pages);
    while (used > peak &&
           !__atomic_compare_exchange_n(&g_peak_used_pages, &peak, used, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

static inline void count_alloc(void)
{
    if (PH_UNLIKELY(g_stats != 0) &&
        __atomic_add_fetch(&n_alloc, 1u, __ATOMIC_RELAXED) % STATS_SAMPLE == 0)
        stats_sample();
}

__attribute__((destructor)) static void preload_dtor(void)
{
    ph_stats s;
    outbuf o;
    struct rusage ru;
    int fd = 2, check;
    int saved = errno;

    if (g_stats == 0 || !__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE))
        return;
    stats_sample();
    ph_get_stats(&g_heap, &s);
    check = ph_check(&g_heap);
    o.len = 0;
    out_str(&o, "pageheap-preload: ");
    out_str(&o, program_invocation_short_name);
    out_str(&o, "[");
    out_num(&o, (size_t)getpid());
    out_str(&o, "]: ");
    out_num(&o, LOAD(n_alloc));
    out_str(&o, " mallocs, ");
    out_num(&o, LOAD(n_realloc));
    out_str(&o, " reallocs, ");
    out_num(&o, LOAD(n_free));
    out_str(&o, " frees, peak ");
    out_num(&o, (LOAD(g_peak_used_pages) * s.page_size + KIB / 2) / KIB);
    out_str(&o, " KiB in use (sampled), now ");
    out_num(&o, ((s.pages_total - s.pages_free) * s.page_size + KIB / 2) / KIB);
    out_str(&o, " KiB in ");
    out_num(&o, s.small_spans);
    out_str(&o, " spans + ");
    out_num(&o, s.large_objects);
    out_str(&o, " large, ");
    out_num(&o, s.regions);
    out_str(&o, " regions (");
    out_num(&o, g_reserved / MIB);
    out_str(&o, " MiB reserved), released ");
    out_num(&o, s.bytes_released / MIB);
    out_str(&o, " MiB in ");
    out_num(&o, s.release_calls);
    out_str(&o, " calls, faults ");
    out_num(&o, LOAD(n_faults));
    out_str(&o, ", check ");
    out_str(&o, check == PH_OK ? "ok" : "FAILED");
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        out_str(&o, ", maxrss ");
        out_num(&o, (size_t)ru.ru_maxrss);
        out_str(&o, " KiB");
    }
    out_str(&o, "\n");
    if (g_stats == 2) {
        fd = open(g_stats_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            fd = 2;
    }
    out_write(fd, &o);
    if (fd != 2)
        close(fd);
    errno = saved;
}

/* ---- the malloc family ---------------------------------------------------------- */

/* Calls `expr` (which sets p) until it succeeds, the heap cannot grow, or the
 * call was refused as a fault.  need: bytes a new region must hold for it. */
#define WITH_GROWTH(p, need, expr)                                            \
    do {                                                                      \
        unsigned seen_;                                                       \
        for (;;) {                                                            \
            seen_ = __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE);         \
            t_faulted = 0;                                                    \
            expr;                                                             \
            if (PH_LIKELY((p) != NULL) || t_faulted || !grow_heap((need), seen_)) \
                break;                                                        \
        }                                                                     \
    } while (0)

static void *do_malloc(size_t size)
{
    ph_heap *h = heap();
    void *p;

    if (PH_UNLIKELY(size > MAX_OBJ)) {
        errno = ENOMEM;
        return NULL;
    }
    WITH_GROWTH(p, size, p = ph_malloc(h, size));
    if (PH_UNLIKELY(p == NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    count_alloc();
    return p;
}

/* align: a power of two. */
static void *do_aligned(size_t align, size_t size)
{
    ph_heap *h = heap();
    void *p;

    if (align <= PH_ALIGN)
        return do_malloc(size);
    if (PH_UNLIKELY(size > MAX_OBJ || align > MAX_OBJ - size)) {
        errno = ENOMEM;
        return NULL;
    }
    WITH_GROWTH(p, size + align, p = ph_aligned_alloc(h, align, size));
    if (PH_UNLIKELY(p == NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    count_alloc();
    return p;
}

static bool is_pow2(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

PH_EXPORT void *malloc(size_t size)
{
    return do_malloc(size);
}

PH_EXPORT void free(void *p)
{
    ph_heap *h;
    int saved;

    if (p == NULL)
        return;
    h = heap();
    ph_free(h, p);
    if (g_stats != 0)
        ADD(n_free, 1);
    if (g_idle_period != 0 &&
        __atomic_add_fetch(&g_idle_tick, 1u, __ATOMIC_RELAXED) % g_idle_period == 0) {
        saved = errno; /* free does not change errno (POSIX.1-2024) */
        ph_idle(h);
        errno = saved;
    }
}

PH_EXPORT void *calloc(size_t n, size_t size)
{
    ph_heap *h = heap();
    size_t total;
    void *p;

    if (PH_UNLIKELY(__builtin_mul_overflow(n, size, &total) || total > MAX_OBJ)) {
        errno = ENOMEM;
        return NULL;
    }
    WITH_GROWTH(p, total, p = ph_calloc(h, n, size));
    if (PH_UNLIKELY(p == NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    count_alloc();
    return p;
}

PH_EXPORT void *realloc(void *old, size_t size)
{
    ph_heap *h;
    void *p;

    if (old == NULL)
        return do_malloc(size);
    if (size == 0) { /* glibc: frees and returns NULL */
        free(old);
        return NULL;
    }
    h = heap();
    if (PH_UNLIKELY(size > MAX_OBJ)) {
        errno = ENOMEM;
        return NULL;
    }
    WITH_GROWTH(p, size, p = ph_realloc(h, old, size));
    if (PH_UNLIKELY(p == NULL)) {
        errno = ENOMEM; /* also for a refused pointer (PH_PRELOAD_FAULT=count) */
        return NULL;
    }
    if (g_stats != 0)
        ADD(n_realloc, 1);
    return p;
}

PH_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, total);
}

/* glibc: an alignment that is not a power of two is rounded up to one. */
PH_EXPORT void *memalign(size_t align, size_t size)
{
    size_t a = PH_ALIGN;
    if (align > MAX_OBJ / 2) {
        errno = EINVAL;
        return NULL;
    }
    while (a < align)
        a <<= 1;
    return do_aligned(a, size);
}

/* C11 with DR 460 (glibc 2.38): any power of two, size need not be a
 * multiple of it; anything else is EINVAL. */
PH_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (!is_pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return do_aligned(align, size);
}

PH_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    int saved = errno;
    void *p;

    if (!is_pow2(align) || align % sizeof(void *) != 0)
        return EINVAL;
    p = do_aligned(align, size);
    errno = saved; /* posix_memalign reports through its result only */
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

PH_EXPORT void *valloc(size_t size)
{
    (void)heap(); /* sets g_os_page */
    return do_aligned(g_os_page, size);
}

PH_EXPORT void *pvalloc(size_t size)
{
    size_t page;
    (void)heap(); /* sets g_os_page */
    page = g_os_page;
    if (size > MAX_OBJ - page) {
        errno = ENOMEM;
        return NULL;
    }
    return do_aligned(page, size == 0 ? page : round_up(size, page));
}

PH_EXPORT size_t malloc_usable_size(void *p)
{
    if (p == NULL)
        return 0;
    return ph_usable_size(heap(), p);
}

/* Releases every free granule to the OS.  1 when memory was released. */
PH_EXPORT int malloc_trim(size_t pad)
{
    size_t n;
    (void)pad;
    n = ph_scavenge(heap(), SIZE_MAX);
    return n != 0;
}
