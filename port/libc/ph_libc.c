/* SPDX-License-Identifier: MIT */
/*
 * port/libc: the default pageheap heap and the C library's plain malloc
 * names, shared by port/newlib and port/picolibc.  See ph_libc.h.
 *
 * Defined here, each mapped onto the default heap with the C library's
 * meanings:
 *
 *   malloc free calloc realloc memalign aligned_alloc posix_memalign
 *   malloc_usable_size
 *
 * A failed allocation sets errno to ENOMEM (EINVAL for a bad alignment);
 * posix_memalign returns the code instead.  A C library's own internal
 * names (newlib's _malloc_r family) are its port's file, on top of the
 * ph_libc_* helpers below.
 */
#include "ph_libc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Declared by <stdlib.h> and <malloc.h> depending on the C library and
 * the -std feature macros: declared here as well, so every definition below
 * has its prototype whatever the headers show. */
void *memalign(size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **memptr, size_t align, size_t n);
size_t malloc_usable_size(void *p);

/* ---- interrupt masking (the default lock) ----------------------------- */

unsigned long ph_libc_irq_save(void)
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

void ph_libc_irq_restore(unsigned long state)
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
static unsigned long ph_lc_lock_state;

static void ph_lc_lock(void *ctx)
{
    unsigned long s = ph_libc_irq_save();
    (void)ctx;
    ph_lc_lock_state = s;
}

static void ph_lc_unlock(void *ctx)
{
    (void)ctx;
    ph_libc_irq_restore(ph_lc_lock_state);
}

static void ph_lc_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    ph_board_fault(code, addr);
}

static const ph_port ph_lc_default_port = {
    .ctx = NULL,
    .release = NULL, /* nothing powered down: a board with RAM power */
    .acquire = NULL, /* switches supplies its own ph_board_port      */
    .lock = ph_lc_lock,
    .unlock = ph_lc_unlock,
    .fault = ph_lc_fault,
};

/* ---- weak board defaults ---------------------------------------------- */

/* Weak so that a board which supplies its own ph_board_regions need not
 * define them; when none exists the heap has no region (see
 * PH_LIBC_FAULT_NO_HEAP).  __heap_start__ / __heap_end__ are what
 * newlib-style linker scripts name the heap, __heap_start / __heap_end what
 * picolibc's picolibc.ld does (the RAM between .bss and the stack). */
extern char __heap_start__[] __attribute__((weak));
extern char __heap_end__[] __attribute__((weak));
extern char __heap_start[] __attribute__((weak));
extern char __heap_end[] __attribute__((weak));

__attribute__((weak)) const ph_libc_region *ph_board_regions(size_t *count)
{
    static ph_libc_region one;
    char *lo = __heap_start__, *hi = __heap_end__;
    if (lo == NULL || hi == NULL) {
        lo = __heap_start;
        hi = __heap_end;
    }
    if (lo == NULL || hi == NULL) {
        *count = 0;
        return NULL;
    }
    one.start = lo;
    one.end = hi;
    one.granule = 0;
    *count = 1;
    return &one;
}

__attribute__((weak)) const ph_port *ph_board_port(void)
{
    return &ph_lc_default_port;
}

__attribute__((weak)) void ph_board_fault(int code, const void *addr)
{
    (void)code;
    (void)addr;
    abort();
}

/* ---- the default heap ------------------------------------------------- */

static ph_heap ph_lc_heap; /* .bss; ph_init needs no zeroing */

enum { PH_LC_NOT_YET = 0, PH_LC_READY = 1, PH_LC_FAILED = 2 };
static volatile int ph_lc_state;
static int ph_lc_result;

static int ph_lc_setup(void)
{
    int rc = ph_init(&ph_lc_heap, PH_LIBC_PAGE_SIZE, ph_board_port());
    if (rc != PH_OK) {
        ph_board_fault(PH_LIBC_FAULT_NO_HEAP, NULL);
        return rc;
    }
    size_t n = 0;
    const ph_libc_region *t = ph_board_regions(&n);
    int first_error = PH_EINVAL; /* what "no regions at all" returns */
    size_t added = 0;
    for (size_t i = 0; t != NULL && i < n; i++) {
        uintptr_t lo = (uintptr_t)t[i].start, hi = (uintptr_t)t[i].end;
        rc = hi > lo ? ph_add_region(&ph_lc_heap, t[i].start, hi - lo, t[i].granule)
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
        ph_board_fault(PH_LIBC_FAULT_NO_HEAP, NULL);
        return first_error;
    }
    return PH_OK;
}

int ph_libc_init(void)
{
    if (ph_lc_state != PH_LC_NOT_YET)
        return ph_lc_result;
    unsigned long s = ph_libc_irq_save();
    if (ph_lc_state == PH_LC_NOT_YET) {
        /* Marked failed while it runs: a fault hook that prints or aborts
         * (and so allocates through stdio or exit) sees no heap instead of
         * re-entering the set-up. */
        ph_lc_result = PH_EINVAL;
        ph_lc_state = PH_LC_FAILED;
        ph_lc_result = ph_lc_setup();
        ph_lc_state = ph_lc_result == PH_OK ? PH_LC_READY : PH_LC_FAILED;
    }
    ph_libc_irq_restore(s);
    return ph_lc_result;
}

ph_heap *ph_libc_heap(void)
{
    if (ph_lc_state == PH_LC_READY)
        return &ph_lc_heap;
    return ph_libc_init() == PH_OK ? &ph_lc_heap : NULL;
}

/* ---- the allocation functions ----------------------------------------- */
/* Each returns its result and leaves an errno value in *err on failure. */

void *ph_libc_malloc(size_t n, int *err)
{
    ph_heap *h = ph_libc_heap();
    void *p = h != NULL ? ph_malloc(h, n) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

void ph_libc_free(void *p)
{
    if (p == NULL)
        return;
    ph_heap *h = ph_libc_heap();
    if (h != NULL)
        ph_free(h, p);
}

void *ph_libc_calloc(size_t n, size_t size, int *err)
{
    ph_heap *h = ph_libc_heap();
    void *p = h != NULL ? ph_calloc(h, n, size) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

void *ph_libc_realloc(void *old, size_t n, int *err)
{
    ph_heap *h = ph_libc_heap();
    void *p = h != NULL ? ph_realloc(h, old, n) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

/* memalign: like dlmalloc (newlib's own), an alignment that is no power of
 * two is rounded up to one; only an impossible one is EINVAL. */
void *ph_libc_memalign(size_t align, size_t n, int *err)
{
    if (align > SIZE_MAX / 2 + 1) {
        *err = EINVAL;
        return NULL;
    }
    size_t a = 1;
    while (a < align)
        a <<= 1;
    ph_heap *h = ph_libc_heap();
    void *p = h != NULL ? ph_aligned_alloc(h, a, n) : NULL;
    if (p == NULL)
        *err = ENOMEM;
    return p;
}

size_t ph_libc_usable_size(void *p)
{
    if (p == NULL)
        return 0;
    ph_heap *h = ph_libc_heap();
    return h != NULL ? ph_usable_size(h, p) : 0;
}

static int ph_lc_is_pow2(size_t a)
{
    return a != 0 && (a & (a - 1)) == 0;
}

/* ---- the plain names ---------------------------------------------------- */

void *malloc(size_t n)
{
    return ph_libc_malloc(n, &errno);
}

void free(void *p)
{
    ph_libc_free(p);
}

void *calloc(size_t n, size_t size)
{
    return ph_libc_calloc(n, size, &errno);
}

void *realloc(void *p, size_t n)
{
    return ph_libc_realloc(p, n, &errno);
}

void *memalign(size_t align, size_t n)
{
    return ph_libc_memalign(align, n, &errno);
}

/* C11: align must be a power of two (any size is accepted, as C17 allows). */
void *aligned_alloc(size_t align, size_t n)
{
    if (!ph_lc_is_pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return ph_libc_memalign(align, n, &errno);
}

/* POSIX: EINVAL unless align is a power of two and a multiple of
 * sizeof(void *); ENOMEM when out of memory.  *memptr is set only on success
 * and errno is left alone. */
int posix_memalign(void **memptr, size_t align, size_t n)
{
    if (!ph_lc_is_pow2(align) || align % sizeof(void *) != 0)
        return EINVAL;
    int err = 0;
    void *p = ph_libc_memalign(align, n, &err);
    if (p == NULL)
        return err;
    *memptr = p;
    return 0;
}

size_t malloc_usable_size(void *p)
{
    return ph_libc_usable_size(p);
}

/* ---- port/newlib's older names ------------------------------------------ */

int ph_newlib_init(void)
{
    return ph_libc_init();
}

ph_heap *ph_newlib_heap(void)
{
    return ph_libc_heap();
}

unsigned long ph_newlib_irq_save(void)
{
    return ph_libc_irq_save();
}

void ph_newlib_irq_restore(unsigned long state)
{
    ph_libc_irq_restore(state);
}
