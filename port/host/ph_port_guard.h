/* SPDX-License-Identifier: MIT */
/*
 * ph_port_guard.h: a test port that makes released memory inaccessible, so
 * that any access by the heap (or by a test) to memory inside a released
 * granule crashes at once with SIGSEGV.
 *
 *   release  checks the range (see below), then makes it PROT_NONE with
 *            mprotect.  In PH_GUARD_SCRUB mode it first overwrites the
 *            whole range with a pattern byte: the contents are lost, as on
 *            a RAM section that was powered down, so a test that expected
 *            them to survive sees garbage even after the range is acquired.
 *   acquire  checks that the range is exactly one released granule (its
 *            base a multiple of the granule, its length the granule) and
 *            restores PROT_READ|PROT_WRITE.
 *   lock     no mutex (one thread): records nesting and unbalanced unlocks,
 *            and lets release/acquire check that the heap holds the lock.
 *   fault    counted (code and address of the last one).
 *
 * The port must be told which memory it guards and in what granule
 * (ph_guard_port_add_area, typically once per heap region with the same
 * granule).  A release or acquire outside every area, or in an area of
 * granule 0, is an error, as is a release of a granule already released, an
 * acquire of one that is not, a range that is not whole aligned granules,
 * or a hook called without the lock (when the lock hooks are in use).
 * Errors are counted and the first is kept as text; unless abort_on_error
 * is cleared, the port prints it and aborts.
 *
 * mprotect works in OS pages: an area's granule must be a power of two and
 * a multiple of the OS page size (sysconf(_SC_PAGESIZE), 4 KiB on x86-64);
 * ph_guard_port_add_area refuses anything else.  Granules sit at addresses
 * that are multiples of their size, so they are then OS-page aligned
 * whatever the area's base.  The memory must be mapped (mmap) memory of the
 * process, not memory that malloc shares with other objects: protecting it
 * would fault the C library.
 *
 * Host only: uses libc and POSIX.
 */
#ifndef PH_PORT_GUARD_H
#define PH_PORT_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"

#define PH_GUARD_MAX_AREAS 32
#define PH_GUARD_PATTERN 0xA5u /* what PH_GUARD_SCRUB writes before protecting */

typedef enum ph_guard_mode {
    PH_GUARD_PROTECT = 0, /* release: mprotect(PROT_NONE)                   */
    PH_GUARD_SCRUB = 1    /* release: fill with PH_GUARD_PATTERN, then same */
} ph_guard_mode;

typedef struct ph_guard_area {
    uintptr_t lo, hi;     /* the guarded memory [lo, hi)                     */
    size_t granule;       /* 0: nothing here may be released                 */
    uintptr_t first;      /* lo rounded down to the granule                  */
    size_t nslots;        /* granule slots from `first` covering [lo, hi)    */
    uint8_t *released;    /* one byte per slot, 1 = released                 */
} ph_guard_area;

typedef struct ph_guard_port {
    ph_port port;         /* hand &port to ph_init                           */
    ph_guard_mode mode;
    size_t os_page;
    bool abort_on_error;  /* default true                                    */
    ph_guard_area areas[PH_GUARD_MAX_AREAS];
    size_t nareas;
    /* what the heap did */
    size_t release_calls, acquire_calls;
    size_t bytes_released, bytes_acquired;
    size_t granules_released; /* released right now                          */
    size_t faults;
    int last_fault_code;
    const void *last_fault_addr;
    /* lock bookkeeping */
    bool held;
    size_t locks, nested, stray_unlocks;
    /* errors */
    size_t errors;
    char first_error[256];
} ph_guard_port;

/* Sets up *p with every hook; no areas yet. */
void ph_guard_port_init(ph_guard_port *p, ph_guard_mode mode);

/* Guards [base, base + size) with release unit `granule` (0 = never
 * released).  Returns 0, or -1 (and changes nothing) when the granule is
 * not 0 and not a power of two multiple of the OS page, the area overlaps
 * another, or the table is full. */
int ph_guard_port_add_area(ph_guard_port *p, void *base, size_t size, size_t granule);

/* True when addr lies in a granule that is released right now. */
bool ph_guard_port_is_released(const ph_guard_port *p, const void *addr);

/* Makes every released granule accessible again and frees the tables.
 * Call it before unmapping or reusing the memory. */
void ph_guard_port_destroy(ph_guard_port *p);

#endif /* PH_PORT_GUARD_H */
