/* SPDX-License-Identifier: MIT */
/*
 * port/cortex-a: nesting-safe IRQ-masking lock (CPSR.I).  See ph_cortexa.h.
 * The same reasoning as port/cortex-m: while the lock is held IRQs are
 * masked, so only the holder touches depth and saved.
 */
#include "ph_cortexa.h"

#include <stddef.h>

void ph_cortexa_lock_init(ph_cortexa_lock_t *l)
{
    l->depth = 0;
    l->saved = 0;
}

void ph_cortexa_lock(void *ctx)
{
    ph_cortexa_lock_t *l = ctx;
    uint32_t s = ph_cortexa_irq_save();
    if (l->depth++ == 0)
        l->saved = s;
}

void ph_cortexa_unlock(void *ctx)
{
    ph_cortexa_lock_t *l = ctx;
    if (l->depth == 0)
        return; /* unbalanced unlock: leave the mask alone */
    if (--l->depth == 0)
        ph_cortexa_irq_restore(l->saved);
}

void ph_cortexa_port_init(ph_port *port, ph_cortexa_lock_t *l,
                          void (*fault)(void *ctx, int code, const void *addr))
{
    ph_cortexa_lock_init(l);
    port->ctx = l;
    port->release = NULL;
    port->acquire = NULL;
    port->lock = ph_cortexa_lock;
    port->unlock = ph_cortexa_unlock;
    port->fault = fault;
}
