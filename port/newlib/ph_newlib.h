/* SPDX-License-Identifier: MIT */
/*
 * port/newlib: the C library's malloc family, served by one default
 * pageheap heap, for firmware linked with newlib (full or nano).
 *
 * Linking ph_newlib.c and port/libc/ph_libc.c into a firmware defines
 * malloc, free, calloc, realloc, memalign, aligned_alloc, posix_memalign,
 * malloc_usable_size (ph_libc.c) and newlib's reentrant _malloc_r, _free_r,
 * _calloc_r, _realloc_r, _memalign_r and _malloc_usable_size_r
 * (ph_newlib.c), so newlib's own allocations (stdio buffers, dtoa bigints,
 * fopen, strdup, ...) come from pageheap and newlib's allocator (mallocr.o
 * / nano-mallocr.o and _sbrk_r) is never linked.  See README.md.
 *
 * The board contract (ph_board_regions, ph_board_port, ph_board_fault, all
 * optional) and the default heap are port/libc's (ph_libc.h); this header
 * gives them their newlib names: ph_newlib_init, ph_newlib_heap,
 * ph_newlib_irq_save / _restore, ph_newlib_region, PH_NEWLIB_PAGE_SIZE,
 * PH_NEWLIB_FAULT_NO_HEAP.
 */
#ifndef PH_NEWLIB_H
#define PH_NEWLIB_H

#include <stddef.h>

#include "pageheap.h"
#include "ph_libc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Page size of the default heap (a power of two, 64..65536), or 0 for the
 * build's PH_DEFAULT_PAGE_SIZE (256 bytes on 32-bit targets): what
 * ph_libc.c reads as PH_LIBC_PAGE_SIZE. */
#ifndef PH_NEWLIB_PAGE_SIZE
#define PH_NEWLIB_PAGE_SIZE 0u
#endif

/* port/libc's names under port/newlib's (ph_libc.h says what each does).
 * ph_newlib_init, ph_newlib_heap, ph_newlib_irq_save and
 * ph_newlib_irq_restore are declared (and defined, as functions, so code
 * that declares them itself or takes their address links as before) by
 * port/libc. */
typedef ph_libc_region ph_newlib_region;
#define PH_NEWLIB_FAULT_NO_HEAP PH_LIBC_FAULT_NO_HEAP

#ifdef PH_NEWLIB_COUNT_CALLS
/* Debug counters (built with -DPH_NEWLIB_COUNT_CALLS): calls of the
 * reentrant entry points, which only newlib's internals (and code that calls
 * the _r names itself) use; the plain names do not go through them.  Lets a
 * test prove that newlib's stdio allocates from pageheap. */
typedef struct ph_newlib_counts {
    unsigned long malloc_r, free_r, calloc_r, realloc_r, memalign_r;
} ph_newlib_counts;
extern volatile ph_newlib_counts ph_newlib_calls;
#endif

#ifdef __cplusplus
}
#endif

#endif /* PH_NEWLIB_H */
