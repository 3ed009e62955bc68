/* SPDX-License-Identifier: MIT */
/*
 * port/none: a port that never powers anything down.  release and acquire
 * are NULL, so ph_scavenge / ph_idle only mark granules as released (the
 * heap's bookkeeping and statistics still run, and the memory keeps its
 * contents); lock, unlock and fault are whatever you pass in (any of them
 * may be NULL: no locking, faults only counted).
 *
 * For boards without RAM power switches, and for benchmarks that want the
 * heap's own cost without a gate's.
 *
 *   static ph_cortexm_lock_t lk;
 *   static ph_port port;
 *   ph_none_port_init(&port, &lk, ph_cortexm_lock, ph_cortexm_unlock, NULL);
 *
 * or statically: static const ph_port port = PH_NONE_PORT(&lk,
 *   ph_cortexm_lock, ph_cortexm_unlock, NULL);
 */
#ifndef PH_NONE_H
#define PH_NONE_H

#include "pageheap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PH_NONE_PORT(ctx_, lock_, unlock_, fault_)                                    \
    { (ctx_), (void (*)(void *, void *, size_t))0, (void (*)(void *, void *, size_t))0, \
      (lock_), (unlock_), (fault_) }

/* Fills *port: ctx, lock, unlock and fault as given, release/acquire NULL. */
void ph_none_port_init(ph_port *port, void *ctx, void (*lock)(void *ctx),
                       void (*unlock)(void *ctx),
                       void (*fault)(void *ctx, int code, const void *addr));

#ifdef __cplusplus
}
#endif

#endif /* PH_NONE_H */
