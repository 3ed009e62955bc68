/* SPDX-License-Identifier: MIT */
/*
 * port/newlib: newlib's malloc family served by one default pageheap heap.
 * See ph_newlib.h for the board contract and README.md for the link check.
 *
 * Every name newlib's own allocator defines for its users is defined here,
 * so the linker never pulls newlib's mallocr.o / nano-mallocr.o (nor
 * _sbrk_r, which only they call):
 *
 *   plain       malloc free calloc realloc memalign aligned_alloc
 *               posix_memalign malloc_usable_size
 *   reentrant   _malloc_r _free_r _calloc_r _realloc_r _memalign_r
 *               _malloc_usable_size_r   (what stdio, dtoa, strdup, fopen ...
 *               call, with their struct _reent)
 *
 * newlib's own wrappers that only call these (valloc, pvalloc, reallocf,
 * reallocarray, cfree, strdup) keep working.  mallinfo, malloc_stats,
 * mallopt and malloc_trim are deliberately not defined: calling one pulls
 * newlib's mallocr.o, whose _malloc_r then clashes with this file's, so the
 * link fails loudly instead of running two allocators.
 *
 * The reentrant names set r->_errno, the plain names errno, to ENOMEM when
 * an allocation fails (EINVAL for a bad alignment); posix_memalign returns
 * the code instead.
 */
#include "ph_newlib.h"

#include <errno.h>
#include <malloc.h>
#include <reent.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- interrupt masking (the default lock) ----------------------------- */

unsigned long ph_newlib_irq_save(void)
{
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
    unsigned long primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask & 1u;
#elif defined(__arm__)
    unsigned long cpsr;
    __asm__ volatile("mrs %0, cpsr\n\tcpsid i" : "=r"(cpsr) : : "memory");
    return cpsr & 0x80u; /* the I bit */
#else
    return 0; /* not an Arm target (a compile check): nothing to mask */
#endif
}

void ph_newlib_irq_restore(unsigned long state)
{
#if defined(__arm__)
    /* Unmask only if interrupts were unmasked when save looked: a caller
     * that had masked them itself gets them back masked. */
    if (state == 0)
        __asm__ volatile("cpsie i" : : : "memory");
#else
    (void)state;
#endif
}

/* The heap never takes its lock while holding it, and interrupts stay
 * masked from save to restore, so one saved state suffices: an interrupt
 * handler that allocates runs either wholly before the mask or wholly after
 * the restore. */
static unsigned long ph_nl_lock_state;

static void ph_nl_lock(void *ctx)
{
    unsigned long s = ph_newlib_irq_save();
    (void)ctx;
    ph_nl_lock_state = s;
}

static void ph_nl_unlock(void *ctx)
{
    (void)ctx;
    ph_newlib_irq_restore(ph_nl_lock_state);
}

static void ph_nl_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    ph_board_fault(code, addr);
}

static const ph_port ph_nl_default_port = {
    .ctx = NULL,
    .release = NULL, /* nothing powered down: a board with RAM power */
    .acquire = NULL, /* switches supplies its own ph_board_port      */
    .lock = ph_nl_lock,
    .unlock = ph_nl_unlock,
    .fault = ph_nl_fault,
};

/* ---- weak board defaults ---------------------------------------------- */

/* Weak so that a board which supplies its own ph_board_regions need not
 * define them; when neither exists the heap has no region (see
 * PH_NEWLIB_FAULT_NO_HEAP). */
extern char __heap_start__[] __attribute__((weak));
extern char __heap_end__[] __attribute__((weak));

__attribute__((weak)) const ph_newlib_region *ph_board_regions(size_t *count)
{
    static ph_newlib_region one;
    if (__heap_start__ == NULL || __heap_end__ == NULL) {
        *count = 0;
        return NULL;
    }
    one.start = __heap_start__;
    one.end = __heap_end__;
    one.granule = 0;
    *count = 1;
    return &one;
}

__attribute__((weak)) const ph_port *ph_board_port(void)
{
    return &ph_nl_default_port;
}

__attribute__((weak)) void ph_board_fault(int code, const void *addr)
{
    (void)code;
    (void)addr;
    abort();
}

/* ---- the default heap ------------------------------------------------- */

static ph_heap ph_nl_heap; /* .bss; ph_init needs no zeroing */

enum { PH_NL_NOT_YET = 0, PH_NL_READY = 1, PH_NL_FAILED = 2 };
static volatile int ph_nl_state;
static int ph_nl_result;

#ifdef PH_NEWLIB_COUNT_CALLS
volatile ph_newlib_counts ph_newlib_calls;
#define PH_NL_COUNT(field) (ph_newlib_calls.field++)
#else
#define PH_NL_COUNT(field) ((void)0)
#endif

static int ph_nl_setup(void)
{
    int rc = ph_init(&ph_nl_heap, PH_NEWLIB_PAGE_SIZE, ph_board_port());
    if (rc != PH_OK) {
        ph_board_fault(PH_NEWLIB_FAULT_NO_HEAP, NULL);
        return rc;
    }
    size_t n = 0;
    const ph_newlib_region *t = ph_board_regions(&n);
    int first_error = PH_EINVAL; /* what "no regions at all" returns */
    size_t added = 0;
    for (size_t i = 0; t != NULL && i < n; i++) {
        uintptr_t lo = (uintptr_t)t[i].start, hi = (uintptr_t)t[i].end;
        rc = hi > lo ? ph_add_region(&ph_nl_heap, t[i].start, hi - lo, t[i].granule)
                     : PH_EINVAL;
        if (rc == PH_OK) {
            added++;
        } else {
            if (added == 0 && first_error == PH_EINVAL)
                first_error = rc;
            ph_board_fault(rc, t[i].start);
        }
    }
    if (added == 0) {
        ph_board_fault(PH_NEWLIB_FAULT_NO_HEAP, NULL);
        return first_error;
    }
    return PH_OK;
}

int ph_newlib_init(void)
{
    if (ph_nl_state != PH_NL_NOT_YET)
        return ph_nl_result;
    unsigned long s = ph_newlib_irq_save();
    if (ph_nl_state == PH_NL_NOT_YET) {
        /* Marked failed while it runs: a fault hook that prints or aborts
         * (and so allocates through stdio or exit) sees no heap instead of
         * re-entering the set-up. */
        ph_nl_result = PH_EINVAL;
        ph_nl_state = PH_NL_FAILED;
        ph_nl_result = ph_nl_setup();
        ph_nl_state = ph_nl_result == PH_OK ? PH_NL_READY : PH_NL_FAILED;
    }
    ph_newlib_irq_restore(s);
    return ph_nl_result;
}

ph_heap *ph_newlib_heap(void)
{
    if (ph_nl_state == PH_NL_READY)
        return &ph_nl_heap;
    return ph_newlib_init() == PH_OK ? &ph_nl_heap : NULL;
}

/* ---- the allocation functions ----------------------------------------- */
/* Each returns its result and leaves an errno value in *err on failure. */

static void *ph_nl_malloc(size_t n, int *err)
{
    ph_heap *h = ph_newlib_heap();
    void *p = h != NULL ? ph_malloc(h, n) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

static void ph_nl_free(void *p)
{
    if (p == NULL)
        return;
    ph_heap *h = ph_newlib_heap();
    if (h != NULL)
        ph_free(h, p);
}

static void *ph_nl_calloc(size_t n, size_t size, int *err)
{
    ph_heap *h = ph_newlib_heap();
    void *p = h != NULL ? ph_calloc(h, n, size) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

static void *ph_nl_realloc(void *old, size_t n, int *err)
{
    ph_heap *h = ph_newlib_heap();
    void *p = h != NULL ? ph_realloc(h, old, n) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

/* memalign: like dlmalloc (newlib's own), an alignment that is no power of
 * two is rounded up to one; only an impossible one is EINVAL. */
static void *ph_nl_memalign(size_t align, size_t n, int *err)
{
    if (align > SIZE_MAX / 2 + 1) {
        *err = EINVAL;
        return NULL;
    }
    size_t a = 1;
    while (a < align)
        a <<= 1;
    ph_heap *h = ph_newlib_heap();
    void *p = h != NULL ? ph_aligned_alloc(h, a, n) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

static size_t ph_nl_usable_size(void *p)
{
    if (p == NULL)
        return 0;
    ph_heap *h = ph_newlib_heap();
    return h != NULL ? ph_usable_size(h, p) : 0;
}

static int ph_nl_is_pow2(size_t a)
{
    return a != 0 && (a & (a - 1)) == 0;
}

/* ---- newlib's reentrant names ----------------------------------------- */

void *_malloc_r(struct _reent *r, size_t n)
{
    PH_NL_COUNT(malloc_r);
    return ph_nl_malloc(n, &__errno_r(r));
}

void _free_r(struct _reent *r, void *p)
{
    (void)r;
    PH_NL_COUNT(free_r);
    ph_nl_free(p);
}

void *_calloc_r(struct _reent *r, size_t n, size_t size)
{
    PH_NL_COUNT(calloc_r);
    return ph_nl_calloc(n, size, &__errno_r(r));
}

void *_realloc_r(struct _reent *r, void *p, size_t n)
{
    PH_NL_COUNT(realloc_r);
    return ph_nl_realloc(p, n, &__errno_r(r));
}

void *_memalign_r(struct _reent *r, size_t align, size_t n)
{
    PH_NL_COUNT(memalign_r);
    return ph_nl_memalign(align, n, &__errno_r(r));
}

size_t _malloc_usable_size_r(struct _reent *r, void *p)
{
    (void)r;
    return ph_nl_usable_size(p);
}

/* ---- the plain names ---------------------------------------------------- */

void *malloc(size_t n)
{
    return ph_nl_malloc(n, &errno);
}

void free(void *p)
{
    ph_nl_free(p);
}

void *calloc(size_t n, size_t size)
{
    return ph_nl_calloc(n, size, &errno);
}

void *realloc(void *p, size_t n)
{
    return ph_nl_realloc(p, n, &errno);
}

void *memalign(size_t align, size_t n)
{
    return ph_nl_memalign(align, n, &errno);
}

/* C11: align must be a power of two (any size is accepted, as C17 allows). */
void *aligned_alloc(size_t align, size_t n)
{
    if (!ph_nl_is_pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return ph_nl_memalign(align, n, &errno);
}

/* POSIX: EINVAL unless align is a power of two and a multiple of
 * sizeof(void *); ENOMEM when out of memory.  *memptr is set only on success
 * and errno is left alone. */
int posix_memalign(void **memptr, size_t align, size_t n)
{
    if (!ph_nl_is_pow2(align) || align % sizeof(void *) != 0)
        return EINVAL;
    int err = 0;
    void *p = ph_nl_memalign(align, n, &err);
    if (p == NULL)
        return err;
    *memptr = p;
    return 0;
}

size_t malloc_usable_size(void *p)
{
    return ph_nl_usable_size(p);
}
