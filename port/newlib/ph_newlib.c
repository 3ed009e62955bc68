/* SPDX-License-Identifier: MIT */
/*
 * port/newlib: newlib's reentrant malloc family, on top of port/libc.
 * See ph_newlib.h for the board contract and README.md for the link check.
 *
 * Every name newlib's own allocator defines for its users is defined by
 * this file and port/libc/ph_libc.c (both linked as objects), so the
 * linker never pulls newlib's mallocr.o / nano-mallocr.o (nor _sbrk_r,
 * which only they call):
 *
 *   plain       malloc free calloc realloc memalign aligned_alloc
 *               posix_memalign malloc_usable_size   (ph_libc.c)
 *   reentrant   _malloc_r _free_r _calloc_r _realloc_r _memalign_r
 *               _malloc_usable_size_r   (here: what stdio, dtoa, strdup,
 *               fopen ... call, with their struct _reent)
 *
 * newlib's own wrappers that only call these (valloc, pvalloc, reallocf,
 * reallocarray, cfree, strdup) keep working.  mallinfo, malloc_stats,
 * mallopt and malloc_trim are deliberately not defined: calling one pulls
 * newlib's mallocr.o, whose _malloc_r then clashes with this file's, so the
 * link fails loudly instead of running two allocators.
 *
 * The reentrant names set r->_errno, the plain names errno, to ENOMEM when
 * an allocation fails (EINVAL for a bad alignment).
 */
#include "ph_newlib.h"

#include <errno.h>
#include <malloc.h>
#include <reent.h>

#ifdef PH_NEWLIB_COUNT_CALLS
volatile ph_newlib_counts ph_newlib_calls;
#define PH_NL_COUNT(field) (ph_newlib_calls.field++)
#else
#define PH_NL_COUNT(field) ((void)0)
#endif

/* ---- newlib's reentrant names ----------------------------------------- */

void *_malloc_r(struct _reent *r, size_t n)
{
    PH_NL_COUNT(malloc_r);
    return ph_libc_malloc(n, &__errno_r(r));
}

void _free_r(struct _reent *r, void *p)
{
    (void)r;
    PH_NL_COUNT(free_r);
    ph_libc_free(p);
}

void *_calloc_r(struct _reent *r, size_t n, size_t size)
{
    PH_NL_COUNT(calloc_r);
    return ph_libc_calloc(n, size, &__errno_r(r));
}

void *_realloc_r(struct _reent *r, void *p, size_t n)
{
    PH_NL_COUNT(realloc_r);
    return ph_libc_realloc(p, n, &__errno_r(r));
}

void *_memalign_r(struct _reent *r, size_t align, size_t n)
{
    PH_NL_COUNT(memalign_r);
    return ph_libc_memalign(align, n, &__errno_r(r));
}

size_t _malloc_usable_size_r(struct _reent *r, void *p)
{
    (void)r;
    return ph_libc_usable_size(p);
}
