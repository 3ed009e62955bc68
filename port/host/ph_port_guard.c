/* SPDX-License-Identifier: MIT */
/*
 * ph_port_guard.c: release = (scrub and) mprotect(PROT_NONE), acquire =
 * check and mprotect(PROT_READ|PROT_WRITE).  See ph_port_guard.h.
 */
#define _DEFAULT_SOURCE /* mprotect's MAP_* and sysconf under -std=c11 */
#include "ph_port_guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void guard_error(ph_guard_port *p, const char *fmt, ...)
{
    va_list ap;
    char msg[sizeof p->first_error];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->errors++ == 0)
        memcpy(p->first_error, msg, sizeof msg);
    if (p->abort_on_error) {
        fprintf(stderr, "ph_port_guard: %s\n", msg);
        abort();
    }
}

/* The area holding all of [a, a + len), or NULL. */
static ph_guard_area *area_of(ph_guard_port *p, uintptr_t a, size_t len)
{
    for (size_t i = 0; i < p->nareas; i++) {
        ph_guard_area *g = &p->areas[i];
        if (a >= g->lo && a < g->hi && len <= g->hi - a)
            return g;
    }
    return NULL;
}

/* Checks what every hook call must satisfy; the area, or NULL after an error. */
static ph_guard_area *check_call(ph_guard_port *p, const char *what, void *base, size_t len)
{
    uintptr_t a = (uintptr_t)base;
    ph_guard_area *g;

    if (p->port.lock != NULL && !p->held)
        guard_error(p, "%s(%p, %zu) called without the heap's lock", what, base, len);
    g = area_of(p, a, len);
    if (g == NULL) {
        guard_error(p, "%s(%p, %zu): not inside one guarded area", what, base, len);
        return NULL;
    }
    if (g->granule == 0) {
        guard_error(p, "%s(%p, %zu): in an area of granule 0 (never released)", what, base, len);
        return NULL;
    }
    if (len == 0 || a % g->granule != 0 || len % g->granule != 0) {
        guard_error(p, "%s(%p, %zu): not whole granules of %zu bytes", what, base, len,
                    g->granule);
        return NULL;
    }
    return g;
}

static void guard_release(void *ctx, void *base, size_t len)
{
    ph_guard_port *p = (ph_guard_port *)ctx;
    ph_guard_area *g = check_call(p, "release", base, len);
    size_t s0, n;

    p->release_calls++;
    p->bytes_released += len;
    if (g == NULL)
        return;
    s0 = ((uintptr_t)base - g->first) / g->granule;
    n = len / g->granule;
    for (size_t s = s0; s < s0 + n; s++)
        if (g->released[s]) {
            guard_error(p, "release(%p, %zu): granule %p is released already", base, len,
                        (void *)(g->first + s * g->granule));
            return;
        }
    if (p->mode == PH_GUARD_SCRUB)
        memset(base, PH_GUARD_PATTERN, len);
    if (mprotect(base, len, PROT_NONE) != 0) {
        guard_error(p, "release(%p, %zu): mprotect(PROT_NONE) failed", base, len);
        return;
    }
    memset(g->released + s0, 1, n);
    p->granules_released += n;
}

static void guard_acquire(void *ctx, void *base, size_t len)
{
    ph_guard_port *p = (ph_guard_port *)ctx;
    ph_guard_area *g = check_call(p, "acquire", base, len);
    size_t s;

    p->acquire_calls++;
    p->bytes_acquired += len;
    if (g == NULL)
        return;
    if (len != g->granule) {
        guard_error(p, "acquire(%p, %zu): not one granule of %zu bytes", base, len, g->granule);
        return;
    }
    s = ((uintptr_t)base - g->first) / g->granule;
    if (!g->released[s]) {
        guard_error(p, "acquire(%p, %zu): granule is not released", base, len);
        return;
    }
    if (mprotect(base, len, PROT_READ | PROT_WRITE) != 0) {
        guard_error(p, "acquire(%p, %zu): mprotect(PROT_READ|PROT_WRITE) failed", base, len);
        return;
    }
    g->released[s] = 0;
    p->granules_released--;
}

static void guard_lock(void *ctx)
{
    ph_guard_port *p = (ph_guard_port *)ctx;
    if (p->held) {
        p->nested++;
        guard_error(p, "lock taken while held");
    }
    p->held = true;
    p->locks++;
}

static void guard_unlock(void *ctx)
{
    ph_guard_port *p = (ph_guard_port *)ctx;
    if (!p->held) {
        p->stray_unlocks++;
        guard_error(p, "unlock without lock");
    }
    p->held = false;
}

static void guard_fault(void *ctx, int code, const void *addr)
{
    ph_guard_port *p = (ph_guard_port *)ctx;
    p->faults++;
    p->last_fault_code = code;
    p->last_fault_addr = addr;
}

void ph_guard_port_init(ph_guard_port *p, ph_guard_mode mode)
{
    long os_page = sysconf(_SC_PAGESIZE);

    memset(p, 0, sizeof *p);
    p->port.ctx = p;
    p->port.release = guard_release;
    p->port.acquire = guard_acquire;
    p->port.lock = guard_lock;
    p->port.unlock = guard_unlock;
    p->port.fault = guard_fault;
    p->mode = mode;
    p->os_page = os_page > 0 ? (size_t)os_page : 4096u;
    p->abort_on_error = true;
}

int ph_guard_port_add_area(ph_guard_port *p, void *base, size_t size, size_t granule)
{
    uintptr_t lo = (uintptr_t)base, hi = lo + size;
    ph_guard_area *g;

    if (p->nareas >= PH_GUARD_MAX_AREAS || size == 0 || hi < lo)
        return -1;
    if (granule != 0 && ((granule & (granule - 1)) != 0 || granule % p->os_page != 0))
        return -1;
    for (size_t i = 0; i < p->nareas; i++)
        if (lo < p->areas[i].hi && p->areas[i].lo < hi)
            return -1;
    g = &p->areas[p->nareas];
    g->lo = lo;
    g->hi = hi;
    g->granule = granule;
    g->first = granule != 0 ? lo & ~(uintptr_t)(granule - 1) : lo;
    g->nslots = granule != 0 ? (size_t)((hi - g->first + granule - 1) / granule) : 0;
    g->released = NULL;
    if (g->nslots != 0) {
        g->released = calloc(g->nslots, 1);
        if (g->released == NULL)
            return -1;
    }
    p->nareas++;
    return 0;
}

bool ph_guard_port_is_released(const ph_guard_port *p, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    for (size_t i = 0; i < p->nareas; i++) {
        const ph_guard_area *g = &p->areas[i];
        if (a >= g->lo && a < g->hi)
            return g->granule != 0 && g->released[(a - g->first) / g->granule] != 0;
    }
    return false;
}

void ph_guard_port_destroy(ph_guard_port *p)
{
    for (size_t i = 0; i < p->nareas; i++) {
        ph_guard_area *g = &p->areas[i];
        for (size_t s = 0; s < g->nslots; s++)
            if (g->released[s])
                mprotect((void *)(g->first + s * g->granule), g->granule,
                         PROT_READ | PROT_WRITE);
        free(g->released);
        g->released = NULL;
    }
    p->nareas = 0;
    p->granules_released = 0;
}
