/* SPDX-License-Identifier: MIT */
/*
 * refmodel: the naive reference page allocator that tests and benchmarks
 * compare pageheap against.  One byte per page, a linear first-fit scan over
 * regions kept in address order.  Obviously correct, deliberately slow.
 * Host only (uses libc).
 */
#ifndef PH_REFMODEL_H
#define PH_REFMODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define REF_MAX_REGIONS 64

typedef struct ref_region {
    uintptr_t base;   /* address of page 0 */
    size_t npages;
    uint8_t *used;    /* one byte per page, 1 = in use */
} ref_region;

typedef struct ref_model {
    size_t page_size;
    size_t nregions;
    ref_region regions[REF_MAX_REGIONS]; /* sorted by base */
} ref_model;

/* Return codes of ref_free: 0, or the pageheap fault code it must raise. */
void ref_init(ref_model *m, size_t page_size);
void ref_destroy(ref_model *m);
void ref_add_region(ref_model *m, uintptr_t base, size_t npages);
uintptr_t ref_alloc(ref_model *m, size_t npages);           /* 0 when none  */
int ref_free(ref_model *m, uintptr_t p, size_t npages);     /* 0 or fault   */
bool ref_page_used(const ref_model *m, uintptr_t page_addr); /* in a region  */
size_t ref_pages_total(const ref_model *m);
size_t ref_pages_free(const ref_model *m);
size_t ref_largest_run(const ref_model *m);                 /* inside one region */

#endif
