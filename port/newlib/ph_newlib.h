/* SPDX-License-Identifier: MIT */
/*
 * port/newlib: the C library's malloc family, served by one default
 * pageheap heap, for firmware linked with newlib (full or nano).
 *
 * Linking ph_newlib.c into a firmware defines malloc, free, calloc, realloc,
 * memalign, aligned_alloc, posix_memalign, malloc_usable_size and newlib's
 * reentrant _malloc_r, _free_r, _calloc_r, _realloc_r, _memalign_r and
 * _malloc_usable_size_r, so newlib's own allocations (stdio buffers, dtoa
 * bigints, fopen, strdup, ...) come from pageheap and newlib's allocator
 * (mallocr.o / nano-mallocr.o and _sbrk_r) is never linked.  See README.md.
 *
 * What the board supplies (all optional, weak defaults in ph_newlib.c):
 *
 *   const ph_newlib_region *ph_board_regions(size_t *count);
 *       The heap's RAM, one entry per bank, usually from linker symbols.
 *       Default: one region [__heap_start__, __heap_end__), granule 0.
 *   const ph_port *ph_board_port(void);
 *       The heap's port.  Default: lock/unlock mask interrupts (PRIMASK on
 *       Cortex-M, CPSR.I on Cortex-A/R; nesting-safe), release/acquire NULL
 *       (nothing is powered down), fault calls ph_board_fault.
 *   void ph_board_fault(int code, const void *addr);
 *       A bad free/realloc was refused (PH_FAULT_* code, the pointer).
 *       Default: abort(), like a C library that detects a bad free.
 *
 * The heap is set up on the first allocation, or earlier by an explicit
 * ph_newlib_init() from start-up code (recommended under an RTOS: before the
 * scheduler starts, since the lazy set-up masks interrupts only).
 */
#ifndef PH_NEWLIB_H
#define PH_NEWLIB_H

#include <stddef.h>

#include "pageheap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Page size of the default heap (a power of two, 64..65536), or 0 for the
 * build's PH_DEFAULT_PAGE_SIZE (256 bytes on 32-bit targets). */
#ifndef PH_NEWLIB_PAGE_SIZE
#define PH_NEWLIB_PAGE_SIZE 0u
#endif

/* One RAM bank of the default heap: [start, end), released in units of
 * granule bytes (its power-section size, a power of two >= the page size),
 * or 0 when that RAM is never powered down.  start and end need no
 * alignment. */
typedef struct ph_newlib_region {
    void *start;
    void *end;
    size_t granule;
} ph_newlib_region;

/* Fault code passed to ph_board_fault (with addr NULL) when the default heap
 * could not be set up: no region, or every region was refused by
 * ph_add_region.  Allocations then fail with ENOMEM. */
#define PH_NEWLIB_FAULT_NO_HEAP 0x100

/* ---- supplied by the board (weak defaults in ph_newlib.c) -------------- */

const ph_newlib_region *ph_board_regions(size_t *count);
const ph_port *ph_board_port(void);
void ph_board_fault(int code, const void *addr);

/* ---- offered to the board --------------------------------------------- */

/* Sets the default heap up from ph_board_regions() and ph_board_port(), once;
 * later calls return the first call's result at once.  PH_OK when at least
 * one region was added (a refused region is reported through
 * ph_board_fault with its PH_E* code and its start address, and skipped);
 * otherwise a negative PH_E* code (PH_EINVAL: no regions), after
 * ph_board_fault(PH_NEWLIB_FAULT_NO_HEAP, NULL).  Safe against interrupts
 * on a single core (it masks them); call it before other cores or threads
 * allocate. */
int ph_newlib_init(void);

/* The default heap, set up if it was not yet (for ph_get_stats, ph_check,
 * ph_idle, ph_scavenge); NULL when set-up failed. */
ph_heap *ph_newlib_heap(void);

/* The default port's interrupt mask, for boards that build their own port
 * on it: returns the previous mask state to hand back to irq_restore.
 * Nesting-safe (restore puts back exactly what save found). */
unsigned long ph_newlib_irq_save(void);
void ph_newlib_irq_restore(unsigned long state);

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
