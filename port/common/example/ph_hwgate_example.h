/* SPDX-License-Identifier: MIT */
/*
 * ph_hwgate_example.h: what the example firmwares of port/nrf52840 and
 * port/rp2040 share (no C library; included once, by example/main.c):
 * the trap that stops a debugger on a refused release/acquire, the counters
 * a debugger reads, protecting the heap's metadata, and one burst of work.
 */
#ifndef PH_HWGATE_EXAMPLE_H
#define PH_HWGATE_EXAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"
#include "ph_hwgate.h"

/* For a debugger: what the firmware got done. */
volatile uint32_t example_bursts, example_failed;

/* A refused release/acquire is a board bug (wrong granule, a region over
 * protected memory): stop where a debugger sees it. */
static void example_trap(void *ctx, int err, const void *base, size_t len)
{
    (void)ctx;
    (void)err;
    (void)base;
    (void)len;
    for (;;)
        __asm__ volatile("bkpt #0");
}

static size_t span(const char *lo, const char *hi)
{
    return (size_t)((uintptr_t)hi - (uintptr_t)lo);
}

/* The sections/banks holding the heap's metadata are protected as well
 * (the heap never releases them anyway). */
static void example_protect_meta(ph_hwgate *g, ph_heap *heap)
{
    ph_region_info info;

    for (size_t i = 0; ph_get_region(heap, i, &info) == PH_OK; i++)
        (void)ph_hwgate_protect(g, info.meta_base,
                                (const char *)info.meta_base + info.meta_bytes);
}

/* Sixteen packet buffers (pkt_base + pkt_step * i bytes) and a page run of
 * `pages` pages, all freed again: they power memory up. */
static void example_burst(ph_heap *heap, size_t pkt_base, size_t pkt_step, size_t pages)
{
    void *pkt[16];
    void *run;

    for (unsigned i = 0; i < 16; i++) {
        pkt[i] = ph_malloc(heap, pkt_base + pkt_step * i);
        if (pkt[i] == NULL)
            example_failed++;
    }
    run = ph_page_alloc(heap, pages);
    if (run == NULL)
        example_failed++;
    for (unsigned i = 0; i < 16; i++)
        ph_free(heap, pkt[i]);
    if (run != NULL)
        ph_page_free(heap, run, pages);
    example_bursts++;
}

#endif /* PH_HWGATE_EXAMPLE_H */
