/* SPDX-License-Identifier: MIT */
/* port/none: no release, the lock you pass in.  See ph_none.h. */
#include "ph_none.h"

void ph_none_port_init(ph_port *port, void *ctx, void (*lock)(void *ctx),
                       void (*unlock)(void *ctx),
                       void (*fault)(void *ctx, int code, const void *addr))
{
    port->ctx = ctx;
    port->release = NULL;
    port->acquire = NULL;
    port->lock = lock;
    port->unlock = unlock;
    port->fault = fault;
}
