/* SPDX-License-Identifier: MIT */
#include "refmodel.h"

#include <stdlib.h>
#include <string.h>
#include <assert.h>

/* pageheap's fault codes, repeated so the model needs no pageheap header. */
enum { REF_FAULT_BAD_POINTER = 1, REF_FAULT_DOUBLE_FREE = 2 };

void ref_init(ref_model *m, size_t page_size)
{
    memset(m, 0, sizeof *m);
    m->page_size = page_size;
}

void ref_destroy(ref_model *m)
{
    for (size_t i = 0; i < m->nregions; i++)
        free(m->regions[i].used);
    m->nregions = 0;
}

void ref_add_region(ref_model *m, uintptr_t base, size_t npages)
{
    assert(m->nregions < REF_MAX_REGIONS);
    size_t i = m->nregions;
    while (i > 0 && m->regions[i - 1].base > base) {
        m->regions[i] = m->regions[i - 1];
        i--;
    }
    m->regions[i].base = base;
    m->regions[i].npages = npages;
    m->regions[i].used = calloc(npages ? npages : 1, 1);
    assert(m->regions[i].used);
    m->nregions++;
}

uintptr_t ref_alloc(ref_model *m, size_t npages)
{
    if (npages == 0)
        return 0;
    for (size_t r = 0; r < m->nregions; r++) {
        ref_region *g = &m->regions[r];
        size_t run = 0;
        for (size_t i = 0; i < g->npages; i++) {
            run = g->used[i] ? 0 : run + 1;
            if (run == npages) {
                size_t first = i + 1 - npages;
                memset(g->used + first, 1, npages);
                return g->base + first * m->page_size;
            }
        }
    }
    return 0;
}

static ref_region *ref_find(const ref_model *m, uintptr_t p)
{
    for (size_t r = 0; r < m->nregions; r++) {
        const ref_region *g = &m->regions[r];
        if (p >= g->base && (p - g->base) / m->page_size < g->npages)
            return (ref_region *)g;
    }
    return NULL;
}

int ref_free(ref_model *m, uintptr_t p, size_t npages)
{
    if (npages == 0)
        return 0;
    ref_region *g = ref_find(m, p);
    if (!g || (p - g->base) % m->page_size != 0)
        return REF_FAULT_BAD_POINTER;
    size_t first = (p - g->base) / m->page_size;
    if (npages > g->npages - first)
        return REF_FAULT_BAD_POINTER;
    for (size_t i = first; i < first + npages; i++)
        if (!g->used[i])
            return REF_FAULT_DOUBLE_FREE;
    memset(g->used + first, 0, npages);
    return 0;
}

bool ref_page_used(const ref_model *m, uintptr_t page_addr)
{
    const ref_region *g = ref_find(m, page_addr);
    assert(g);
    return g->used[(page_addr - g->base) / m->page_size] != 0;
}

size_t ref_pages_total(const ref_model *m)
{
    size_t n = 0;
    for (size_t r = 0; r < m->nregions; r++)
        n += m->regions[r].npages;
    return n;
}

size_t ref_pages_free(const ref_model *m)
{
    size_t n = 0;
    for (size_t r = 0; r < m->nregions; r++)
        for (size_t i = 0; i < m->regions[r].npages; i++)
            n += !m->regions[r].used[i];
    return n;
}

size_t ref_largest_run(const ref_model *m)
{
    size_t best = 0;
    for (size_t r = 0; r < m->nregions; r++) {
        size_t run = 0;
        for (size_t i = 0; i < m->regions[r].npages; i++) {
            run = m->regions[r].used[i] ? 0 : run + 1;
            if (run > best)
                best = run;
        }
    }
    return best;
}
