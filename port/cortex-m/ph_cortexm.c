/* SPDX-License-Identifier: MIT */
/*
 * port/cortex-m: nesting-safe interrupt-masking lock (PRIMASK).  See
 * ph_cortexm.h.
 *
 * Why a depth count and one saved word suffice: between the outermost lock
 * and its unlock, PRIMASK is 1, so no interrupt handler runs on this core
 * and only the holder changes depth and saved.  A handler that takes the
 * lock finds depth 0 (it cannot interrupt a holder) and leaves depth 0.
 */
#include "ph_cortexm.h"

#include <stddef.h>

void ph_cortexm_lock_init(ph_cortexm_lock_t *l)
{
    l->depth = 0;
    l->saved = 0;
}

void ph_cortexm_lock(void *ctx)
{
    ph_cortexm_lock_t *l = ctx;
    uint32_t s = ph_cortexm_irq_save();
    if (l->depth++ == 0)
        l->saved = s;
}

void ph_cortexm_unlock(void *ctx)
{
    ph_cortexm_lock_t *l = ctx;
    if (l->depth == 0)
        return; /* unbalanced unlock: leave the mask alone */
    if (--l->depth == 0)
        ph_cortexm_irq_restore(l->saved);
}

void ph_cortexm_port_init(ph_port *port, ph_cortexm_lock_t *l,
                          void (*fault)(void *ctx, int code, const void *addr))
{
    ph_cortexm_lock_init(l);
    port->ctx = l;
    port->release = NULL;
    port->acquire = NULL;
    port->lock = ph_cortexm_lock;
    port->unlock = ph_cortexm_unlock;
    port->fault = fault;
}
