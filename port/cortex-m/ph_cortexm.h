/* SPDX-License-Identifier: MIT */
/*
 * port/cortex-m: the heap's lock for a single Cortex-M core (ARMv6-M M0/M0+
 * through ARMv8.1-M M55): a critical section that masks interrupts through
 * PRIMASK.
 *
 * lock saves PRIMASK and sets it (cpsid i); unlock puts back exactly what
 * the outermost lock found.  The lock is nesting-safe: a depth count lets
 * code that already holds it take it again (the heap itself never nests,
 * but a board may wrap several heap calls, or its own hooks, in one
 * critical section), and only the outermost unlock restores the saved
 * mask, so a caller that had masked interrupts itself gets them back masked.
 * An interrupt handler may take the lock too: it only runs while the lock
 * is free (PRIMASK masks it otherwise), and leaves it free.
 *
 * PRIMASK masks every exception of configurable priority (all interrupts,
 * SysTick, PendSV, SVC, and MemManage/BusFault/UsageFault, which escalate
 * to HardFault meanwhile); NMI and HardFault still run.  Cost: a few
 * instructions, no memory barrier beyond the compiler's (cpsid/cpsie are
 * self-synchronising for interrupts on every M-profile core).
 *
 * Unprivileged code cannot change PRIMASK (cpsid is ignored there): take
 * the lock from privileged code only, or give the heap an RTOS mutex.
 */
#ifndef PH_CORTEXM_H
#define PH_CORTEXM_H

#include <stdint.h>

#include "pageheap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The lock's state: pass its address as the port's ctx.  Zero-initialised
 * (.bss) is the unlocked state; ph_cortexm_lock_init makes it so too. */
typedef struct ph_cortexm_lock_s {
    volatile uint32_t depth; /* nested lock calls currently held        */
    uint32_t saved;          /* PRIMASK bit 0 found by the outermost one */
} ph_cortexm_lock_t;

/* Saves PRIMASK (bit 0: 1 = interrupts were masked) and masks interrupts. */
static inline uint32_t ph_cortexm_irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask & 1u;
}

/* Puts back what ph_cortexm_irq_save returned: unmasks only if interrupts
 * were unmasked when it looked. */
static inline void ph_cortexm_irq_restore(uint32_t saved)
{
    if ((saved & 1u) == 0)
        __asm__ volatile("cpsie i" : : : "memory");
}

void ph_cortexm_lock_init(ph_cortexm_lock_t *l);

/* The hooks (ctx: a ph_cortexm_lock_t *).  O(1). */
void ph_cortexm_lock(void *ctx);
void ph_cortexm_unlock(void *ctx);

/* Fills *port: lock/unlock on *l (ctx = l), release/acquire NULL (nothing
 * is powered down), fault as given (may be NULL; it receives l as ctx). */
void ph_cortexm_port_init(ph_port *port, ph_cortexm_lock_t *l,
                          void (*fault)(void *ctx, int code, const void *addr));

#ifdef __cplusplus
}
#endif

#endif /* PH_CORTEXM_H */
