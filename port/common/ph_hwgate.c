/* SPDX-License-Identifier: MIT */
/*
 * ph_hwgate.c: the protected ranges, refusal and fault bookkeeping shared by
 * port/nrf52840 and port/rp2040.  See ph_hwgate.h.
 */
#include "ph_hwgate.h"

#if !defined(__arm__) && !defined(__thumb__)
uint32_t ph_hwgate_host_primask;
#endif

void ph_hwgate_init(ph_hwgate *g)
{
    for (uint32_t i = 0; i < PH_HWGATE_MAX_PROTECT; i++)
        g->protect[i].lo = g->protect[i].hi = 0;
    g->nprotect = 0;
    g->trap = NULL;
    g->trap_ctx = NULL;
    g->heap_fault = NULL;
    g->heap_fault_ctx = NULL;
    g->release_calls = g->acquire_calls = 0;
    g->errors = 0;
    g->last_error = 0;
    g->last_error_base = NULL;
    g->last_error_len = 0;
    g->unlocked_calls = 0;
    g->heap_faults = 0;
}

int ph_hwgate_protect(ph_hwgate *g, const void *lo, const void *hi)
{
    if ((uintptr_t)lo >= (uintptr_t)hi || g->nprotect >= PH_HWGATE_MAX_PROTECT)
        return -1;
    g->protect[g->nprotect].lo = (uintptr_t)lo;
    g->protect[g->nprotect].hi = (uintptr_t)hi;
    g->nprotect++;
    return 0;
}

bool ph_hwgate_touches_protected(const ph_hwgate *g, const void *self, size_t self_size,
                                 uintptr_t lo, uintptr_t hi)
{
    uintptr_t sp = ph_hwgate_current_sp();
    uintptr_t s = (uintptr_t)self;

    if (sp >= lo && sp < hi)
        return true;
    if (ph_hwgate_overlaps(lo, hi, s, s + self_size))
        return true;
    for (uint32_t i = 0; i < g->nprotect; i++)
        if (ph_hwgate_overlaps(lo, hi, g->protect[i].lo, g->protect[i].hi))
            return true;
    return false;
}

void ph_hwgate_refuse(ph_hwgate *g, int err, void *base, size_t len)
{
    g->errors++;
    g->last_error = err;
    g->last_error_base = base;
    g->last_error_len = len;
    if (g->trap != NULL)
        g->trap(g->trap_ctx, err, base, len);
}

void ph_hwgate_fault(ph_hwgate *g, int code, const void *addr)
{
    g->heap_faults++;
    if (g->heap_fault != NULL)
        g->heap_fault(g->heap_fault_ctx, code, addr);
}
