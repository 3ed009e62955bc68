/* SPDX-License-Identifier: MIT */
/*
 * Firmware test of port/newlib's weak defaults, run under QEMU (mps2-an385)
 * by port/newlib/test-newlib.sh: this program supplies no ph_board_regions,
 * ph_board_port or ph_board_fault, so the heap is the one region
 * [__heap_start__, __heap_end__) of the linker script, the lock masks
 * interrupts, and a refused free aborts.
 *
 * Prints "newlib-defaults-test: bad free next" once every check passed, then
 * frees an interior pointer: the default fault hook must abort() (QEMU exits
 * with a non-zero status); the line after it must never appear.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pageheap.h"
#include "ph_newlib.h"

extern char __heap_start__[], __heap_end__[];

static unsigned failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("newlib-defaults-test: FAIL line %d: %s\n", __LINE__, #cond);    \
            failures++;                                                              \
        }                                                                            \
    } while (0)

static void *opaque(void *p)
{
    void *volatile v = p;
    return v;
}

int main(void)
{
    int rc = ph_newlib_init(); /* explicit, as start-up code would */
    CHECK(rc == PH_OK);
    CHECK(ph_newlib_init() == rc); /* once */
    ph_heap *h = ph_newlib_heap();
    CHECK(h != NULL);
    if (h == NULL)
        return 2;

    ph_stats s;
    ph_region_info ri;
    ph_get_stats(h, &s);
    CHECK(s.regions == 1 && s.page_size == PH_DEFAULT_PAGE_SIZE);
    CHECK(ph_get_region(h, 0, &ri) == PH_OK);
    CHECK(ri.raw_base == (void *)__heap_start__);
    CHECK(ri.raw_size == (size_t)(__heap_end__ - __heap_start__) && ri.granule == 0);

    char *p = malloc(100);
    CHECK(p != NULL && (uintptr_t)p >= (uintptr_t)__heap_start__ &&
          (uintptr_t)p < (uintptr_t)__heap_end__);
    strcpy(p, "defaults");
    printf("newlib-defaults-test: one region of %u bytes at %p, %u pages; malloc gave %p (%s)\n",
           (unsigned)ri.raw_size, ri.raw_base, (unsigned)s.pages_total, (void *)p, p);
    CHECK(ph_check(h) == PH_OK);
    if (failures != 0)
        return 1;

    printf("newlib-defaults-test: bad free next\n");
    fflush(stdout);
    free(opaque(p + 8)); /* interior pointer: refused, and the default hook aborts */
    printf("newlib-defaults-test: FAIL: the default fault hook returned\n");
    return 1;
}
