/* SPDX-License-Identifier: MIT */
/*
 * bench/size/ph_calls.c: a firmware's main that calls every allocator entry
 * point a firmware uses (the malloc family, the page API, ph_scavenge,
 * ph_idle), so that scripts/size.sh can measure what the allocator costs
 * once linked with --gc-sections.  PH_SIZE_MALLOC_ONLY leaves the page API
 * and ph_scavenge out: what a firmware that only mallocs links (the newlib
 * port's set, with ph_idle for the idle loop).  Never run.
 */
#include "pageheap.h"

static ph_heap heap;
static char arena[65536] __attribute__((aligned(256)));

int main(void)
{
    int n = ph_init(&heap, 256, 0);
    n += ph_add_region(&heap, arena, sizeof arena, 4096);
    void *p = ph_malloc(&heap, 100);
    p = ph_realloc(&heap, p, 200);
    void *q = ph_calloc(&heap, 2, 30);
    void *r = ph_aligned_alloc(&heap, 64, 40);
    n += (int)ph_usable_size(&heap, p);
    ph_free(&heap, p);
    ph_free(&heap, q);
    ph_free(&heap, r);
#ifndef PH_SIZE_MALLOC_ONLY
    void *pg = ph_page_alloc(&heap, 2);
    ph_page_free(&heap, pg, 2);
    n += (int)ph_scavenge(&heap, 4096);
#endif
    n += (int)ph_idle(&heap);
    return n;
}
