/* SPDX-License-Identifier: MIT */
/*
 * port/cortex-a: the heap's lock for one core of a 32-bit Cortex-A (or -R)
 * in a privileged mode: a critical section that masks IRQs through the
 * CPSR I bit.
 *
 * lock saves CPSR.I and sets it (cpsid i); unlock puts back exactly what
 * the outermost lock found.  Nesting-safe like port/cortex-m: a depth count
 * lets the holder take the lock again, and only the outermost unlock
 * restores the saved state, so a caller that had masked IRQs itself gets
 * them back masked.  FIQs (CPSR.F) are left alone: a FIQ handler must not
 * call the heap.
 *
 * This masks IRQs on the calling core only.  On SMP (virt -smp 2 with PSCI
 * secondaries), pair it with a spinlock (ldrex/strex) in your own port.
 * User mode cannot change CPSR.I: take the lock from a privileged mode.
 */
#ifndef PH_CORTEXA_H
#define PH_CORTEXA_H

#include <stdint.h>

#include "pageheap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The lock's state: pass its address as the port's ctx.  Zero (.bss) is
 * the unlocked state. */
typedef struct ph_cortexa_lock_s {
    volatile uint32_t depth; /* nested lock calls currently held          */
    uint32_t saved;          /* CPSR.I (0x80) found by the outermost lock  */
} ph_cortexa_lock_t;

#define PH_CORTEXA_CPSR_I 0x80u

/* Saves CPSR.I (0x80: IRQs were masked) and masks IRQs. */
static inline uint32_t ph_cortexa_irq_save(void)
{
    uint32_t cpsr;
    __asm__ volatile("mrs %0, cpsr\n\tcpsid i" : "=r"(cpsr) : : "memory");
    return cpsr & PH_CORTEXA_CPSR_I;
}

/* Puts back what ph_cortexa_irq_save returned. */
static inline void ph_cortexa_irq_restore(uint32_t saved)
{
    if ((saved & PH_CORTEXA_CPSR_I) == 0)
        __asm__ volatile("cpsie i" : : : "memory");
}

void ph_cortexa_lock_init(ph_cortexa_lock_t *l);

/* The hooks (ctx: a ph_cortexa_lock_t *).  O(1). */
void ph_cortexa_lock(void *ctx);
void ph_cortexa_unlock(void *ctx);

/* Fills *port: lock/unlock on *l (ctx = l), release/acquire NULL, fault as
 * given (may be NULL; it receives l as ctx). */
void ph_cortexa_port_init(ph_port *port, ph_cortexa_lock_t *l,
                          void (*fault)(void *ctx, int code, const void *addr));

#ifdef __cplusplus
}
#endif

#endif /* PH_CORTEXA_H */
