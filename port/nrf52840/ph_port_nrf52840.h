/* SPDX-License-Identifier: MIT */
/*
 * ph_port_nrf52840.h: a pageheap port for the Nordic nRF52840 that really
 * powers RAM sections down when the heap releases them (README.md here has
 * the datasheet facts, with sources, and how a board uses it).
 *
 * The RAM (256 KB from 0x20000000) is built of power sections switched
 * through the POWER peripheral (base 0x40000000):
 *
 *   RAM0..RAM7  0x20000000-0x2000FFFF  8 blocks x 2 sections of  4 KB
 *   RAM8        0x20010000-0x2003FFFF  1 block  x 6 sections of 32 KB
 *
 *   POWER.RAM[n].POWER     0x900 + 0x10*n   read: bit x = section x on,
 *                                           bit 16+x = its retention on
 *   POWER.RAM[n].POWERSET  0x904 + 0x10*n   write 1s: switch on
 *   POWER.RAM[n].POWERCLR  0x908 + 0x10*n   write 1s: switch off
 *
 * So a board hands the heap two kinds of region: RAM in 0x20000000-
 * 0x2000FFFF with granule 4096 and RAM in 0x20010000-0x2003FFFF with
 * granule 32768 (ph_nrf52840_granule_at tells which).
 *
 *   release  checks that [base, base+len) is whole sections of one kind,
 *            none of them already off, none holding a protected range
 *            (ph_nrf52840_protect: .data, .bss, the stacks, the heap
 *            object), the current stack pointer or this port object; then
 *            writes, per RAM block it touches, one POWERCLR with the
 *            sections' power bits and their retention bits (16 + x).  The
 *            sections are then fully off: no retention current, contents
 *            lost, and any access is a bus fault (the heap never touches a
 *            released granule).  A range that fails a check is refused:
 *            nothing is written, the error is counted and `trap` is called.
 *   acquire  the same checks (every section must be off); then one
 *            POWERSET per block with the power bits and the retention bits
 *            the sections had before they were released, a read-back of
 *            RAM[n].POWER and a DSB, so the memory is usable when the hook
 *            returns.  Its contents are undefined (what a freshly powered
 *            SRAM holds); the heap hands out acquired pages as new memory.
 *   lock     masks interrupts: PRIMASK saved on the outermost lock and
 *            restored by the matching unlock (nesting-safe, usable from
 *            interrupt handlers; the nRF52840 has one core).
 *   fault    counts the heap's refused calls and forwards them to
 *            `heap_fault` when set.
 *
 * The register block and the RAM base are fields of the port object
 * (ph_nrf52840_port_remap), so host unit tests point them at a fake POWER
 * block and at mmap'd memory: every section computation is relative to
 * `ram_base`.  The hooks must run under the heap's lock (they do when the
 * heap calls them); they keep no state outside the port object.
 *
 * Freestanding: includes only pageheap.h and the compiler's headers.
 */
#ifndef PH_PORT_NRF52840_H
#define PH_PORT_NRF52840_H

#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"
#include "ph_hwgate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the hardware (nRF52840 Product Specification, POWER chapter) ----- */

#define PH_NRF52840_POWER_BASE 0x40000000u  /* POWER peripheral            */
#define PH_NRF52840_RAM_REGS 0x900u         /* POWER.RAM[0].POWER          */
#define PH_NRF52840_RAM_STRIDE 0x10u        /* RAM[n+1] - RAM[n]           */
#define PH_NRF52840_REG_POWER 0x0u          /* RAM[n].POWER    (rw)        */
#define PH_NRF52840_REG_POWERSET 0x4u       /* RAM[n].POWERSET (w1 = on)   */
#define PH_NRF52840_REG_POWERCLR 0x8u       /* RAM[n].POWERCLR (w1 = off)  */
#define PH_NRF52840_RETENTION_SHIFT 16u     /* SxRETENTION = bit 16 + x    */
#define PH_NRF52840_RAM_BLOCKS 9u           /* RAM0..RAM8                  */

#define PH_NRF52840_RAM_BASE 0x20000000u    /* data RAM, 256 KB            */
#define PH_NRF52840_RAM_SIZE 0x40000u
/* RAM0..RAM7: 4 KB sections, two per block. */
#define PH_NRF52840_SMALL_SECTION 0x1000u
#define PH_NRF52840_SMALL_OFFSET 0x0u       /* from the RAM base            */
#define PH_NRF52840_SMALL_COUNT 16u
#define PH_NRF52840_SMALL_PER_BLOCK 2u
/* RAM8: 32 KB sections, six in one block. */
#define PH_NRF52840_LARGE_SECTION 0x8000u
#define PH_NRF52840_LARGE_OFFSET 0x10000u
#define PH_NRF52840_LARGE_COUNT 6u
#define PH_NRF52840_LARGE_BLOCK 8u
/* Sections are numbered 0..15 (4 KB, RAMn Sx with n = i / 2, x = i % 2)
 * and 16..21 (32 KB, RAM8 Sx with x = i - 16) in the port's bitmaps. */
#define PH_NRF52840_SECTIONS (PH_NRF52840_SMALL_COUNT + PH_NRF52840_LARGE_COUNT)

/* ---- the port ------------------------------------------------------------ */

/* Why a release or acquire was refused (passed to `trap`). */
enum {
    PH_NRF52840_ERR_RANGE = 1,     /* empty, outside the RAM, not whole
                                      sections, or sections of both kinds */
    PH_NRF52840_ERR_PROTECTED = 2, /* covers a protected range, the stack
                                      pointer or the port object itself   */
    PH_NRF52840_ERR_STATE = 3      /* release: a section is already off;
                                      acquire: a section is on            */
};

/* Memory that must never be powered down. */
#define PH_NRF52840_MAX_PROTECT PH_HWGATE_MAX_PROTECT

typedef struct ph_nrf52840_port {
    ph_port port;            /* hand &port to ph_init                        */
    /* where the hardware is (ph_nrf52840_port_remap changes them) */
    uintptr_t power_base;    /* POWER peripheral                             */
    uintptr_t ram_base;      /* start of RAM0 section 0                      */
    /* state: bit i = section i (see above) */
    uint32_t off;            /* switched off by release                      */
    uint32_t retained;       /* its retention bit was set before release     */
    /* protected ranges, trap and fault callbacks, release/acquire and
     * refusal counters (ph_hwgate.h): gate.trap, gate.errors, ... */
    ph_hwgate gate;
    size_t sections_released, sections_acquired;
    /* lock */
    uint32_t lock_depth;
    uint32_t saved_primask;
} ph_nrf52840_port;

/* Sets up *p for the real chip: every hook, POWER at 0x40000000, RAM at
 * 0x20000000, nothing protected, every section counted as on, no
 * callbacks.  O(1). */
void ph_nrf52840_port_init(ph_nrf52840_port *p);

/* Points the port at another POWER register block and RAM base (host
 * tests: a fake register array and mmap'd memory).  ram_base must be a
 * multiple of 32 KB (the large sections are aligned); returns 0, or -1 and
 * changes nothing.  Call it before the heap uses the port. */
int ph_nrf52840_port_remap(ph_nrf52840_port *p, volatile void *power_base, void *ram_base);

/* Adds [lo, hi) to the memory that is never powered down: a release or
 * acquire of a section overlapping it is refused.  Returns 0, or -1 when
 * lo >= hi or the table (PH_NRF52840_MAX_PROTECT) is full. */
int ph_nrf52840_protect(ph_nrf52840_port *p, const void *lo, const void *hi);

/* The granule to give ph_add_region for RAM at addr: 4096 in RAM0..RAM7,
 * 32768 in RAM8, 0 outside the RAM (relative to the port's ram_base). */
size_t ph_nrf52840_granule_at(const ph_nrf52840_port *p, const void *addr);

/* Sections switched off by this port right now. */
uint32_t ph_nrf52840_sections_off(const ph_nrf52840_port *p);

#ifdef __cplusplus
}
#endif

#endif /* PH_PORT_NRF52840_H */
