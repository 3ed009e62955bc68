/* SPDX-License-Identifier: MIT */
/*
 * refscav.c: the reference model of pages and release state.  See
 * refscav.h for the rules it implements.
 */
#include "refscav.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { RS_FAULT_BAD_POINTER = 1, RS_FAULT_DOUBLE_FREE = 2 };

void rs_init(rs_model *m, size_t page_size)
{
    memset(m, 0, sizeof *m);
    m->page_size = page_size;
}

void rs_destroy(rs_model *m)
{
    for (size_t i = 0; i < m->nregions; i++) {
        free(m->regions[i].used);
        free(m->regions[i].rel);
    }
    free(m->calls);
    memset(m, 0, sizeof *m);
}

void rs_add_region(rs_model *m, uintptr_t base, size_t npages, size_t granule)
{
    assert(m->nregions < RS_MAX_REGIONS);
    size_t i = m->nregions;
    while (i > 0 && m->regions[i - 1].base > base) {
        m->regions[i] = m->regions[i - 1];
        i--;
    }
    rs_region *r = &m->regions[i];
    memset(r, 0, sizeof *r);
    r->base = base;
    r->npages = npages;
    r->granule = granule;
    r->used = calloc(npages ? npages : 1, 1);
    assert(r->used);
    /* Eligible granules: every multiple of the granule whose whole granule
     * lies in [base, limit).  Counted one by one, not by formula. */
    uintptr_t limit = base + npages * m->page_size;
    if (granule != 0) {
        uintptr_t a = base - base % granule;
        if (a < base)
            a += granule;
        r->gbase = a;
        while (a >= base && a + granule > a && a + granule <= limit) {
            r->ngran++;
            a += granule;
        }
    }
    r->rel = calloc(r->ngran ? r->ngran : 1, 1);
    assert(r->rel);
    m->nregions++;
}

void rs_calls_clear(rs_model *m)
{
    m->ncalls = 0;
}

static void log_call(rs_model *m, int kind, uintptr_t base, size_t len)
{
    if (m->ncalls == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->calls = realloc(m->calls, m->cap * sizeof *m->calls);
        assert(m->calls);
    }
    m->calls[m->ncalls].kind = kind;
    m->calls[m->ncalls].base = base;
    m->calls[m->ncalls].len = len;
    m->ncalls++;
}

static size_t gran_pages(const rs_model *m, const rs_region *r)
{
    return r->granule / m->page_size;
}

/* Page index (in r) of granule g's first page. */
static size_t gran_first_page(const rs_model *m, const rs_region *r, size_t g)
{
    return (size_t)((r->gbase + g * r->granule - r->base) / m->page_size);
}

static bool gran_all_free(const rs_model *m, const rs_region *r, size_t g)
{
    size_t p0 = gran_first_page(m, r, g), n = gran_pages(m, r);
    for (size_t p = p0; p < p0 + n; p++)
        if (r->used[p])
            return false;
    return true;
}

static size_t used_pages(const rs_model *m)
{
    return rs_pages_total(m) - rs_pages_free(m);
}

uintptr_t rs_alloc(rs_model *m, size_t npages)
{
    if (npages == 0)
        return 0;
    for (size_t ri = 0; ri < m->nregions; ri++) {
        rs_region *r = &m->regions[ri];
        size_t run = 0;
        for (size_t i = 0; i < r->npages; i++) {
            run = r->used[i] ? 0 : run + 1;
            if (run < npages)
                continue;
            size_t first = i + 1 - npages;
            uintptr_t lo = r->base + first * m->page_size;
            uintptr_t hi = lo + npages * m->page_size;
            /* Acquire every released granule that [lo, hi) touches. */
            for (size_t g = 0; g < r->ngran; g++) {
                uintptr_t ga = r->gbase + g * r->granule;
                if (r->rel[g] && ga < hi && lo < ga + r->granule) {
                    r->rel[g] = 0;
                    m->pages_released -= gran_pages(m, r);
                    m->granules_released--;
                    m->acquire_calls++;
                    m->bytes_acquired += r->granule;
                    log_call(m, RS_ACQUIRE, ga, r->granule);
                }
            }
            memset(r->used + first, 1, npages);
            size_t used = used_pages(m);
            if (used > m->peak_used)
                m->peak_used = used;
            return lo;
        }
    }
    return 0;
}

const rs_region *rs_region_of(const rs_model *m, uintptr_t addr)
{
    for (size_t ri = 0; ri < m->nregions; ri++) {
        const rs_region *r = &m->regions[ri];
        if (addr >= r->base && (addr - r->base) / m->page_size < r->npages)
            return r;
    }
    return NULL;
}

int rs_free(rs_model *m, uintptr_t p, size_t npages)
{
    if (npages == 0)
        return 0;
    rs_region *r = (rs_region *)rs_region_of(m, p);
    if (r == NULL || (p - r->base) % m->page_size != 0)
        return RS_FAULT_BAD_POINTER;
    size_t first = (p - r->base) / m->page_size;
    if (npages > r->npages - first)
        return RS_FAULT_BAD_POINTER;
    for (size_t i = first; i < first + npages; i++)
        if (!r->used[i])
            return RS_FAULT_DOUBLE_FREE;
    memset(r->used + first, 0, npages);
    return 0;
}

/* The scavenge pass: releasable granules in order, highest address first.
 * Stops before a granule once done >= want (bytes); a granule that does not
 * fit in what is left of `limit` is skipped.  Adjacent granules released by
 * one pass go to one release call, higher runs first. */
static size_t scavenge_pass(rs_model *m, size_t want, size_t limit)
{
    size_t done = 0;

    for (size_t ri = m->nregions; ri-- > 0;) {
        rs_region *r = &m->regions[ri];
        size_t run_lo = 0, run_len = 0; /* pending joined call: granules [run_lo, +run_len) */
        for (size_t g = r->ngran; g-- > 0;) {
            if (done >= want)
                break;
            bool take = !r->rel[g] && gran_all_free(m, r, g) && r->granule <= limit - done;
            if (take && run_len != 0 && run_lo == g + 1) {
                run_lo = g;
                run_len++;
            } else {
                if (run_len != 0) {
                    log_call(m, RS_RELEASE, r->gbase + run_lo * r->granule, run_len * r->granule);
                    m->release_calls++;
                    m->bytes_released += run_len * r->granule;
                }
                run_lo = g;
                run_len = take ? 1 : 0;
            }
            if (take) {
                r->rel[g] = 1;
                done += r->granule;
                m->pages_released += gran_pages(m, r);
                m->granules_released++;
            }
        }
        if (run_len != 0) {
            log_call(m, RS_RELEASE, r->gbase + run_lo * r->granule, run_len * r->granule);
            m->release_calls++;
            m->bytes_released += run_len * r->granule;
        }
    }
    return done;
}

size_t rs_scavenge(rs_model *m, size_t nbytes)
{
    return scavenge_pass(m, nbytes, SIZE_MAX);
}

size_t rs_idle_release(rs_model *m, size_t budget, size_t excess)
{
    return scavenge_pass(m, budget != 0 ? budget : SIZE_MAX, excess);
}

bool rs_next_releasable(const rs_model *m, rs_gran *out)
{
    for (size_t ri = m->nregions; ri-- > 0;) {
        const rs_region *r = &m->regions[ri];
        for (size_t g = r->ngran; g-- > 0;)
            if (!r->rel[g] && gran_all_free(m, r, g)) {
                out->region = ri;
                out->index = g;
                return true;
            }
    }
    return false;
}

uintptr_t rs_gran_addr(const rs_model *m, rs_gran g)
{
    const rs_region *r = &m->regions[g.region];
    return r->gbase + g.index * r->granule;
}

size_t rs_idle_goal(rs_model *m, unsigned headroom_pct, unsigned decay_shift)
{
    size_t used = used_pages(m);
    if (m->peak_used < used)
        m->peak_used = used;
    /* the decrement rounds up: (excess + 2^shift - 1) >> shift */
    m->peak_used -= (m->peak_used - used + ((size_t)1 << decay_shift) - 1) >> decay_shift;
    /* peak * pct / 100 rounded down, without overflow for any peak. */
    size_t q = m->peak_used / 100, rem = m->peak_used % 100;
    return m->peak_used + q * headroom_pct + rem * headroom_pct / 100;
}

int rs_page_state(const rs_model *m, uintptr_t page_addr)
{
    const rs_region *r = rs_region_of(m, page_addr);
    assert(r);
    size_t p = (page_addr - r->base) / m->page_size;
    if (r->used[p])
        return RS_USED;
    if (r->granule != 0 && page_addr >= r->gbase) {
        size_t g = (page_addr - r->gbase) / r->granule;
        if (g < r->ngran && r->rel[g])
            return RS_RELEASED;
    }
    return RS_FREE;
}

size_t rs_pages_total(const rs_model *m)
{
    size_t n = 0;
    for (size_t ri = 0; ri < m->nregions; ri++)
        n += m->regions[ri].npages;
    return n;
}

size_t rs_pages_free(const rs_model *m)
{
    size_t n = 0;
    for (size_t ri = 0; ri < m->nregions; ri++)
        for (size_t i = 0; i < m->regions[ri].npages; i++)
            n += !m->regions[ri].used[i];
    return n;
}

size_t rs_pages_powered(const rs_model *m)
{
    return rs_pages_total(m) - m->pages_released;
}

size_t rs_largest_run(const rs_model *m)
{
    size_t best = 0;
    for (size_t ri = 0; ri < m->nregions; ri++) {
        size_t run = 0;
        for (size_t i = 0; i < m->regions[ri].npages; i++) {
            run = m->regions[ri].used[i] ? 0 : run + 1;
            if (run > best)
                best = run;
        }
    }
    return best;
}
