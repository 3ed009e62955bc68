/* SPDX-License-Identifier: MIT */
/*
 * ph_port_madvise.c: release = madvise(MADV_DONTNEED), lock = a pthread
 * mutex.  See ph_port_madvise.h.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_DONTNEED under -std=c11 */
#include "ph_port_madvise.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void madvise_release(void *ctx, void *base, size_t len)
{
    ph_madvise_port *p = (ph_madvise_port *)ctx;
    uintptr_t mask = (uintptr_t)p->os_page - 1u;
    uintptr_t lo = ((uintptr_t)base + mask) & ~mask;     /* whole OS pages only */
    uintptr_t hi = ((uintptr_t)base + len) & ~mask;

    p->release_calls++;
    p->bytes_released += len;
    if (hi <= lo)
        return;
    if (madvise((void *)lo, (size_t)(hi - lo), MADV_DONTNEED) != 0)
        p->madvise_errors++;
    else
        p->bytes_advised += (size_t)(hi - lo);
}

/* Nothing to do: see the header. */
static void madvise_acquire(void *ctx, void *base, size_t len)
{
    ph_madvise_port *p = (ph_madvise_port *)ctx;
    (void)base;
    p->acquire_calls++;
    p->bytes_acquired += len;
}

static void madvise_lock(void *ctx)
{
    ph_madvise_port *p = (ph_madvise_port *)ctx;
    if (pthread_mutex_lock(&p->mutex) != 0)
        abort(); /* a heap with a broken lock must not go on */
}

static void madvise_unlock(void *ctx)
{
    ph_madvise_port *p = (ph_madvise_port *)ctx;
    if (pthread_mutex_unlock(&p->mutex) != 0)
        abort();
}

static void madvise_fault(void *ctx, int code, const void *addr)
{
    ph_madvise_port *p = (ph_madvise_port *)ctx;
    /* Called outside the heap's lock: take ours for the counters. */
    madvise_lock(p);
    p->faults++;
    p->last_fault_code = code;
    p->last_fault_addr = addr;
    madvise_unlock(p);
    if (p->verbose)
        fprintf(stderr, "pageheap: refused %s at %p\n",
                code == PH_FAULT_DOUBLE_FREE ? "double free" : "bad pointer", addr);
}

int ph_madvise_port_init(ph_madvise_port *p, bool verbose)
{
    long os_page = sysconf(_SC_PAGESIZE);

    p->port.ctx = p;
    p->port.release = madvise_release;
    p->port.acquire = madvise_acquire;
    p->port.lock = madvise_lock;
    p->port.unlock = madvise_unlock;
    p->port.fault = madvise_fault;
    p->os_page = os_page > 0 ? (size_t)os_page : 4096u;
    p->verbose = verbose;
    p->faults = 0;
    p->last_fault_code = 0;
    p->last_fault_addr = NULL;
    p->release_calls = 0;
    p->bytes_released = 0;
    p->bytes_advised = 0;
    p->madvise_errors = 0;
    p->acquire_calls = 0;
    p->bytes_acquired = 0;
    return pthread_mutex_init(&p->mutex, NULL) == 0 ? 0 : -1;
}

void ph_madvise_port_destroy(ph_madvise_port *p)
{
    pthread_mutex_destroy(&p->mutex);
}
