/* SPDX-License-Identifier: MIT */
/*
 * port/common/ph_hwgate: what the ports that really power RAM down
 * (port/nrf52840, port/rp2040) share: the table of protected ranges, the
 * refusal (trap) and fault bookkeeping, the PRIMASK lock steps and the MMIO
 * accessors.  Each port embeds a ph_hwgate (its `gate` field) and keeps only
 * the chip's own part: mapping a range to power sections/banks, the
 * register writes and, on the RP2040, the per-core lock and SIO spinlock.
 *
 * Freestanding: no C library, only libgcc helpers.  On the host (the unit
 * tests under port/<chip>/test) PRIMASK is the variable
 * ph_hwgate_host_primask, and a build with -DPH_HWGATE_MMIO_TRACE reports
 * every register write to ph_hwgate_mmio_trace(addr, value), which the test
 * defines.
 */
#ifndef PH_HWGATE_H
#define PH_HWGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"

#if defined(__arm__) || defined(__thumb__)
#include "ph_cortexm.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Memory that must never be powered down: [lo, hi). */
#define PH_HWGATE_MAX_PROTECT 8u

typedef struct ph_hwgate_range {
    uintptr_t lo, hi; /* [lo, hi) */
} ph_hwgate_range;

/* The bookkeeping every gating port keeps (inside the port object, so the
 * stack and port checks of ph_hwgate_touches_protected see it). */
typedef struct ph_hwgate {
    /* what must stay powered */
    ph_hwgate_range protect[PH_HWGATE_MAX_PROTECT];
    uint32_t nprotect;
    /* optional callbacks */
    void (*trap)(void *ctx, int err, const void *base, size_t len);
    void *trap_ctx;          /* a refused release/acquire (an assert hook)   */
    void (*heap_fault)(void *ctx, int code, const void *addr);
    void *heap_fault_ctx;    /* the heap refused a bad call (PH_FAULT_*)     */
    /* counters */
    size_t release_calls, acquire_calls; /* hook calls, refused ones too     */
    size_t errors;           /* refused release/acquire calls                */
    int last_error;          /* the port's ERR_* code of the last one        */
    const void *last_error_base;
    size_t last_error_len;
    size_t unlocked_calls;   /* release/acquire with the lock hooks set but
                                not held: the caller is not the heap       */
    size_t heap_faults;      /* fault hook calls                             */
} ph_hwgate;

/* Nothing protected, no callbacks, every counter 0 (field by field: a
 * struct copy may become a memset call).  O(1). */
void ph_hwgate_init(ph_hwgate *g);

/* Adds [lo, hi) to the protected ranges.  Returns 0, or -1 when lo >= hi
 * or the table (PH_HWGATE_MAX_PROTECT) is full. */
int ph_hwgate_protect(ph_hwgate *g, const void *lo, const void *hi);

/* True when [lo, hi) holds something that must stay powered: the current
 * stack pointer, the port object [self, self + self_size), or a protected
 * range. */
bool ph_hwgate_touches_protected(const ph_hwgate *g, const void *self, size_t self_size,
                                 uintptr_t lo, uintptr_t hi);

/* Records a refused release/acquire (err: the port's ERR_* code) and calls
 * the trap when it is set. */
void ph_hwgate_refuse(ph_hwgate *g, int err, void *base, size_t len);

/* The heap's fault hook: counts it and forwards it to heap_fault. */
void ph_hwgate_fault(ph_hwgate *g, int code, const void *addr);

static inline bool ph_hwgate_overlaps(uintptr_t lo1, uintptr_t hi1, uintptr_t lo2, uintptr_t hi2)
{
    return lo1 < hi2 && lo2 < hi1;
}

/* ---- interrupt masking (PRIMASK), stack pointer, barrier ------------------ */

#if defined(__arm__) || defined(__thumb__)
static inline uint32_t ph_hwgate_irq_save(void)
{
    return ph_cortexm_irq_save();
}

static inline void ph_hwgate_irq_restore(uint32_t primask)
{
    ph_cortexm_irq_restore(primask);
}

static inline uintptr_t ph_hwgate_current_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* A register write has completed before any later access. */
static inline void ph_hwgate_barrier(void)
{
    __asm__ volatile("dsb" ::: "memory");
}
#else
/* Host builds (unit tests): PRIMASK is this variable (1 = masked). */
extern uint32_t ph_hwgate_host_primask;

static inline uint32_t ph_hwgate_irq_save(void)
{
    uint32_t primask = ph_hwgate_host_primask;
    ph_hwgate_host_primask = 1u;
    return primask;
}

static inline void ph_hwgate_irq_restore(uint32_t primask)
{
    ph_hwgate_host_primask = primask;
}

static inline uintptr_t ph_hwgate_current_sp(void)
{
    return (uintptr_t)__builtin_frame_address(0);
}

static inline void ph_hwgate_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#endif

/* The lock's two halves, nesting-safe, on a depth count and the PRIMASK
 * saved by the outermost lock (usable from interrupt handlers: interrupts
 * are masked while the depth is touched).
 *
 * ph_hwgate_lock_enter masks interrupts; true when this is the outermost
 * lock (the caller then takes whatever else it needs).
 * ph_hwgate_lock_leave drops one level; true when that was the outermost
 * (the caller then releases what it took and calls
 * ph_hwgate_irq_restore(*saved)).  An unbalanced unlock (depth 0) returns
 * false and leaves the interrupt state alone. */
static inline bool ph_hwgate_lock_enter(uint32_t *depth, uint32_t *saved)
{
    uint32_t primask = ph_hwgate_irq_save();

    if ((*depth)++ != 0)
        return false;
    *saved = primask;
    return true;
}

static inline bool ph_hwgate_lock_leave(uint32_t *depth)
{
    if (*depth == 0)
        return false;
    return --*depth == 0;
}

/* ---- MMIO ------------------------------------------------------------------
 * Every register access of the ports goes through these two. */
#ifdef PH_HWGATE_MMIO_TRACE
void ph_hwgate_mmio_trace(uintptr_t addr, uint32_t value); /* the test's */
#endif

static inline void ph_hwgate_mmio_write(uintptr_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
#ifdef PH_HWGATE_MMIO_TRACE
    ph_hwgate_mmio_trace(addr, value);
#endif
}

static inline uint32_t ph_hwgate_mmio_read(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

#ifdef __cplusplus
}
#endif

#endif /* PH_HWGATE_H */
