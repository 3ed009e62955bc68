/* SPDX-License-Identifier: MIT */
/*
 * gate_fault.c: the negative test of the simulated power gate (firmware
 * "gate-fault", CTest "<board>:gate-fault").
 *
 * The suite proves that the heap never touches released memory by seeing
 * no gate violation; this firmware proves that the gate would have seen
 * one.  It scavenges the default heap, then writes one word into the
 * highest released granule, as a buggy heap would:
 *   - where the gate protects released memory (the MPU of Cortex-M3 ..
 *     M55; virt's MMU through the board's protect hook) the store traps
 *     and the board ends the run with BOARD_EXIT_SIMGATE, "simgate:
 *     VIOLATION: a released granule was touched";
 *   - elsewhere (microbit's Cortex-M0) the store lands; the firmware then
 *     allocates until that granule is acquired, and the gate's poison
 *     check at acquire ends the run the same way, "a released granule was
 *     written (poison broken)".
 * The test passes on that VIOLATION line; reaching the end of main means
 * the gate missed the touch and prints "gate-fault: FAIL".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "board.h"
#include "ph_simgate.h"

typedef struct highest {
    const void *base; /* the highest released run */
} highest;

static void find_released(void *ctx, const void *base, size_t npages, int state)
{
    (void)npages;
    if (state == PH_PAGES_RELEASED)
        ((highest *)ctx)->base = base;
}

int main(void)
{
    ph_heap *h = ph_newlib_heap();
    struct ph_simgate *g = board_simgate();
    if (h == NULL || g == NULL) {
        printf("gate-fault: FAIL: no default heap or no simulated gate\n");
        return 1;
    }
    /* stdio's buffers first (the first printf allocates them, and on a
     * small heap they would take the granule released below) */
    printf("gate-fault: %s: a store into a released granule must stop the run (%s)\n",
           board_name(),
           g->protect != NULL || PH_SIMGATE_HAVE_MPU ? "a trap" : "the poison check at acquire");
    fflush(stdout);
    size_t released = ph_scavenge(h, SIZE_MAX);
    highest hi = { NULL };
    ph_walk(h, find_released, &hi);
    if (released == 0 || hi.base == NULL || !ph_simgate_is_released(g, hi.base)) {
        printf("gate-fault: FAIL: nothing released (%lu bytes)\n", (unsigned long)released);
        return 1;
    }
    printf("gate-fault: %lu bytes released, storing to %p\n", (unsigned long)released, hi.base);
    fflush(stdout);
    if (!ph_simgate_is_released(g, hi.base)) {
        printf("gate-fault: FAIL: %p was acquired by the printf above\n", hi.base);
        return 1;
    }
    *(volatile uint32_t *)(uintptr_t)hi.base = 0x600DF00Du;

    /* no MPU: allocate until the touched granule comes back through acquire */
    ph_stats st;
    ph_get_stats(h, &st);
    size_t block = st.largest_free_run / 32u * st.page_size;
    if (block < 16u * st.page_size)
        block = 16u * st.page_size;
    unsigned long n = 0;
    while (ph_simgate_is_released(g, hi.base) && malloc(block) != NULL)
        n++;
    printf("gate-fault: FAIL: the store into released memory at %p went unnoticed "
           "(%lu blocks allocated after it, granule %s)\n",
           hi.base, n, ph_simgate_is_released(g, hi.base) ? "still released" : "acquired");
    return 1;
}
