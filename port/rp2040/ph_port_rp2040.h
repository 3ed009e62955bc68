/* SPDX-License-Identifier: MIT */
/*
 * ph_port_rp2040.h: a pageheap port for the Raspberry Pi RP2040 that powers
 * SRAM banks down through SYSCFG.MEMPOWERDOWN when the heap releases them
 * (README.md here has the datasheet facts, with sources, and how a board
 * uses it).
 *
 * The RP2040's 264 KB of SRAM are six banks, each with one bit in
 * SYSCFG.MEMPOWERDOWN (0x40004018; 1 = powered down):
 *
 *   SRAM0..3  64 KB each  bits 0..3  non-striped alias 0x21000000 + n * 0x10000
 *   SRAM4, 5   4 KB each  bits 4, 5  0x20040000, 0x20041000
 *   (bit 6 USB DPRAM, bit 7 ROM: never touched by this port)
 *
 * The 256 KB at 0x20000000 are the same four large banks word-striped:
 * every address there lies in all four at once, so the heap must use the
 * non-striped alias, and the firmware must not use 0x20000000-0x2003FFFF at
 * all when any of SRAM0..3 can be powered down.  A board hands the heap
 * regions in 0x21000000-0x2103FFFF with granule 65536 and/or in 0x20040000-
 * 0x20041FFF with granule 4096 (ph_rp2040_granule_at tells which).
 *
 *   release  checks that [base, base+len) is whole banks of one kind (all
 *            large or all small), none already down, none holding a
 *            protected range (ph_rp2040_protect: .data, .bss, both cores'
 *            stacks, the heap object), the current stack pointer or this
 *            port object; then sets their bits with one write to the
 *            register's atomic SET alias (+0x2000), so the other core's
 *            changes to the register are never lost.  The contents are
 *            lost to the heap (the datasheet: accessing a powered-down
 *            memory can corrupt its contents).  A range that fails a check
 *            is refused: nothing is written, the error is counted and
 *            `trap` is called.
 *   acquire  the same checks (every bank must be down); then one write of
 *            the bits to the CLR alias (+0x3000), a read-back of
 *            MEMPOWERDOWN, a short delay (the datasheet asks for 20 ns
 *            before the memory is accessed again) and a DSB.
 *   lock     masks interrupts on this core (PRIMASK, saved per core on the
 *            outermost lock, nesting-safe) and, when a SIO hardware
 *            spinlock is configured (ph_rp2040_use_spinlock), takes it, so
 *            that both cores may share one heap.
 *   fault    counts the heap's refused calls and forwards them to
 *            `heap_fault` when set.
 *
 * The register blocks and the two bank bases are fields of the port object
 * (ph_rp2040_port_remap), so host unit tests point them at fake register
 * arrays and mmap'd memory: every bank computation is relative to them.
 *
 * Freestanding: includes only pageheap.h and the compiler's headers.
 */
#ifndef PH_PORT_RP2040_H
#define PH_PORT_RP2040_H

#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"
#include "ph_hwgate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the hardware (RP2040 datasheet: SRAM, SYSCFG, SIO) ------------------ */

#define PH_RP2040_SYSCFG_BASE 0x40004000u
#define PH_RP2040_MEMPOWERDOWN 0x18u       /* SYSCFG.MEMPOWERDOWN offset     */
#define PH_RP2040_ALIAS_SET 0x2000u        /* APB atomic set alias           */
#define PH_RP2040_ALIAS_CLR 0x3000u        /* APB atomic clear alias         */
#define PH_RP2040_SIO_BASE 0xd0000000u
#define PH_RP2040_SIO_CPUID 0x000u         /* 0 on core 0, 1 on core 1       */
#define PH_RP2040_SIO_SPINLOCK0 0x100u     /* SPINLOCKn at 0x100 + 4 * n     */
#define PH_RP2040_SPINLOCKS 32u

#define PH_RP2040_BANK_BASE 0x21000000u    /* SRAM0, non-striped alias       */
#define PH_RP2040_BANK_SIZE 0x10000u       /* 64 KB                          */
#define PH_RP2040_BANK_COUNT 4u            /* SRAM0..3: bits 0..3            */
#define PH_RP2040_SMALL_BASE 0x20040000u   /* SRAM4                          */
#define PH_RP2040_SMALL_SIZE 0x1000u       /* 4 KB                           */
#define PH_RP2040_SMALL_COUNT 2u           /* SRAM4, 5: bits 4, 5            */
#define PH_RP2040_SRAM_BITS 0x3fu          /* the only bits this port writes */

/* Delay loop iterations after switching a bank on (each iteration takes
 * several cycles; 20 ns is under 3 cycles at 133 MHz). */
#ifndef PH_RP2040_WAKE_SPINS
#define PH_RP2040_WAKE_SPINS 4u
#endif

/* ---- the port ------------------------------------------------------------ */

/* Why a release or acquire was refused (passed to `trap`). */
enum {
    PH_RP2040_ERR_RANGE = 1,     /* empty, in no bank (the striped alias
                                    included), not whole banks, or banks of
                                    both sizes                              */
    PH_RP2040_ERR_PROTECTED = 2, /* covers a protected range, the stack
                                    pointer or the port object itself       */
    PH_RP2040_ERR_STATE = 3      /* release: a bank is already down;
                                    acquire: a bank is up                   */
};

#define PH_RP2040_MAX_PROTECT PH_HWGATE_MAX_PROTECT
#define PH_RP2040_CORES 2u

typedef struct ph_rp2040_port {
    ph_port port;            /* hand &port to ph_init                        */
    /* where the hardware is (ph_rp2040_port_remap changes them) */
    uintptr_t syscfg_base;   /* SYSCFG registers                             */
    uintptr_t sio_base;      /* SIO (CPUID, spinlocks)                       */
    uintptr_t bank_base;     /* SRAM0 in the non-striped alias               */
    uintptr_t small_base;    /* SRAM4                                        */
    int spinlock;            /* SIO spinlock taken by lock, -1 = none        */
    /* state */
    uint32_t off;            /* bit n: SRAMn powered down by this port       */
    /* protected ranges, trap and fault callbacks, release/acquire and
     * refusal counters (ph_hwgate.h): gate.trap, gate.errors, ... */
    ph_hwgate gate;
    size_t banks_released, banks_acquired;
    /* lock, per core (only that core touches its entry, interrupts masked) */
    uint32_t lock_depth[PH_RP2040_CORES];
    uint32_t saved_primask[PH_RP2040_CORES];
} ph_rp2040_port;

/* Sets up *p for the real chip: every hook, the real register and bank
 * addresses, no spinlock (one core uses the heap), nothing protected,
 * every bank counted as up, no callbacks.  O(1). */
void ph_rp2040_port_init(ph_rp2040_port *p);

/* Points the port at other SYSCFG and SIO blocks (each must span the
 * atomic aliases: 0x4000 bytes for SYSCFG, 0x180 for SIO) and bank bases
 * (host tests).  bank_base must be a multiple of 64 KB and small_base of
 * 4 KB, and the two bank ranges must not overlap; returns 0, or -1 and
 * changes nothing.  Call it before the heap uses the port. */
int ph_rp2040_port_remap(ph_rp2040_port *p, volatile void *syscfg, volatile void *sio,
                         void *bank_base, void *small_base);

/* Makes lock/unlock also take SIO spinlock `n` (0..31), so that both cores
 * can share the heap.  Returns 0, or -1 for a bad n. */
int ph_rp2040_use_spinlock(ph_rp2040_port *p, int n);

/* Adds [lo, hi) to the memory that is never powered down.  Returns 0, or
 * -1 when lo >= hi or the table (PH_RP2040_MAX_PROTECT) is full. */
int ph_rp2040_protect(ph_rp2040_port *p, const void *lo, const void *hi);

/* The granule to give ph_add_region for RAM at addr: 65536 in SRAM0..3
 * (non-striped alias), 4096 in SRAM4/5, 0 elsewhere (the striped alias
 * included: it can never be released). */
size_t ph_rp2040_granule_at(const ph_rp2040_port *p, const void *addr);

/* Banks powered down by this port right now (MEMPOWERDOWN bit order). */
uint32_t ph_rp2040_banks_off(const ph_rp2040_port *p);

#ifdef __cplusplus
}
#endif

#endif /* PH_PORT_RP2040_H */
