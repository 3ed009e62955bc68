/* SPDX-License-Identifier: MIT */
/*
 * port/libc: what the C library ports share (port/newlib, port/picolibc):
 * one default pageheap heap, set up from the board's RAM regions, its
 * interrupt-masking lock, the weak board defaults, and the C library's
 * plain names
 *
 *     malloc free calloc realloc memalign aligned_alloc posix_memalign
 *     malloc_usable_size
 *
 * defined in ph_libc.c.  A C library port links ph_libc.c together with
 * its own file (newlib adds its reentrant _malloc_r family, picolibc its
 * cfree), both as objects, so the library's own allocator is never pulled
 * from libc.a.  The port headers (ph_newlib.h, ph_picolibc.h) include this
 * one and name its functions after themselves (ph_newlib_heap, ...).
 *
 * What the board supplies (all optional, weak defaults in ph_libc.c):
 *
 *   const ph_libc_region *ph_board_regions(size_t *count);
 *       The heap's RAM, one entry per bank, usually from linker symbols.
 *       Default: one region [__heap_start__, __heap_end__) (newlib-style
 *       scripts), else [__heap_start, __heap_end) (picolibc.ld), granule 0.
 *   const ph_port *ph_board_port(void);
 *       The heap's port.  Default: lock/unlock mask interrupts (PRIMASK on
 *       Cortex-M, CPSR.I on Cortex-A/R; nesting-safe), release/acquire NULL
 *       (nothing is powered down), fault calls ph_board_fault.
 *   void ph_board_fault(int code, const void *addr);
 *       A bad free/realloc was refused (PH_FAULT_* code, the pointer).
 *       Default: abort(), like a C library that detects a bad free.
 *
 * The heap is set up on the first allocation, or earlier by an explicit
 * ph_libc_init() from start-up code (recommended under an RTOS: before the
 * scheduler starts, since the lazy set-up masks interrupts only).
 */
#ifndef PH_LIBC_H
#define PH_LIBC_H

#include <stddef.h>

#include "pageheap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Page size of the default heap (a power of two, 64..65536), or 0 for the
 * build's PH_DEFAULT_PAGE_SIZE (256 bytes on 32-bit targets).  The port's
 * own name (PH_NEWLIB_PAGE_SIZE, PH_PICOLIBC_PAGE_SIZE) is taken too. */
#ifndef PH_LIBC_PAGE_SIZE
#if defined(PH_NEWLIB_PAGE_SIZE)
#define PH_LIBC_PAGE_SIZE PH_NEWLIB_PAGE_SIZE
#elif defined(PH_PICOLIBC_PAGE_SIZE)
#define PH_LIBC_PAGE_SIZE PH_PICOLIBC_PAGE_SIZE
#else
#define PH_LIBC_PAGE_SIZE 0u
#endif
#endif

/* One RAM bank of the default heap: [start, end), released in units of
 * granule bytes (its power-section size, a power of two >= the page size),
 * or 0 when that RAM is never powered down.  start and end need no
 * alignment. */
typedef struct ph_libc_region {
    void *start;
    void *end;
    size_t granule;
} ph_libc_region;

/* Fault code passed to ph_board_fault (with addr NULL) when the default heap
 * could not be set up: no region, or every region was refused by
 * ph_add_region.  Allocations then fail with ENOMEM. */
#define PH_LIBC_FAULT_NO_HEAP 0x100

/* ---- supplied by the board (weak defaults in ph_libc.c) ---------------- */

const ph_libc_region *ph_board_regions(size_t *count);
const ph_port *ph_board_port(void);
void ph_board_fault(int code, const void *addr);

/* ---- offered to the board --------------------------------------------- */

/* Sets the default heap up from ph_board_regions() and ph_board_port(), once;
 * later calls return the first call's result at once.  PH_OK when at least
 * one region was added (a refused region is reported through
 * ph_board_fault with its PH_E* code and its start address, and skipped);
 * otherwise a negative PH_E* code (PH_EINVAL: no regions), after
 * ph_board_fault(PH_LIBC_FAULT_NO_HEAP, NULL).  Safe against interrupts
 * on a single core (it masks them); call it before other cores or threads
 * allocate. */
int ph_libc_init(void);

/* The default heap, set up if it was not yet (for ph_get_stats, ph_check,
 * ph_idle, ph_scavenge); NULL when set-up failed.  O(1) once set up. */
ph_heap *ph_libc_heap(void);

/* The default port's interrupt mask, for boards that build their own port
 * on it: returns the previous mask state to hand back to irq_restore.
 * Nesting-safe (restore puts back exactly what save found). */
unsigned long ph_libc_irq_save(void);
void ph_libc_irq_restore(unsigned long state);

/* The same four under the names port/newlib gave them before port/libc
 * existed (ph_newlib.h): real functions, so older code that declares them
 * itself or takes their address still links. */
int ph_newlib_init(void);
ph_heap *ph_newlib_heap(void);
unsigned long ph_newlib_irq_save(void);
void ph_newlib_irq_restore(unsigned long state);

/* ---- for the C library ports (ph_newlib.c, ph_picolibc.c) --------------- */

/* The allocation functions of the default heap with the C library's
 * meanings; on failure each leaves an errno value (ENOMEM, or EINVAL for an
 * impossible alignment) in *err and returns NULL.  ph_libc_memalign rounds
 * an alignment that is no power of two up to one (as newlib's dlmalloc
 * does).  Bounds: those of ph_malloc and friends. */
void *ph_libc_malloc(size_t n, int *err);
void ph_libc_free(void *p);
void *ph_libc_calloc(size_t n, size_t size, int *err);
void *ph_libc_realloc(void *p, size_t n, int *err);
void *ph_libc_memalign(size_t align, size_t n, int *err);
size_t ph_libc_usable_size(void *p);

#ifdef __cplusplus
}
#endif

#endif /* PH_LIBC_H */
