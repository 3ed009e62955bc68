/* SPDX-License-Identifier: MIT */
/*
 * class_table: prints pageheap's size classes for this build and a page
 * size, as a markdown table: class size, the requests it serves, its worst
 * internal waste (a request one byte over the previous class), the span
 * layout (pages, objects, header + tail waste) for that page size.
 *
 *   build/host/demo/class_table [page_size]     (default: the build's)
 *
 * The classes depend on PH_ALIGN (2 * sizeof(void *), at least 8) and
 * PH_SMALL_MAX, the span layout also on the bitmap word and the page size:
 * run it in the build whose figures you want (the host's are 64-bit).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pageheap.h"

int main(int argc, char **argv)
{
    size_t page = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
    ph_heap h;
    unsigned c;
    size_t prev = 0;
    double worst_all = 0;

    if (ph_init(&h, page, NULL) != PH_OK) {
        fprintf(stderr, "class_table: bad page size %zu\n", page);
        return 2;
    }
    page = (size_t)1 << h.page_shift_;
    printf("pageheap size classes: PH_ALIGN %zu, PH_SMALL_MAX %u, %u classes, page %zu B\n\n",
           (size_t)PH_ALIGN, (unsigned)PH_SMALL_MAX, (unsigned)PH_NCLASSES, page);
    printf("| class | size | requests | worst waste | span pages | objects | span waste |\n");
    printf("|---:|---:|---|---:|---:|---:|---:|\n");
    for (c = 0; c < PH_NCLASSES; c++) {
        size_t size = ph_class_size(c), pages = ph_class_span_pages(&h, c);
        size_t nobj = ph_class_span_objects(&h, c), span = pages * page;
        /* worst: the smallest request of the class (prev + 1), except the
         * first class, whose 1-byte request is no meaningful figure: the
         * worst there is reported for a request of PH_ALIGN / 2 + 1. */
        size_t lo = prev + 1, wlo = c == 0 ? PH_ALIGN / 2 + 1 : lo;
        double worst = (double)(size - wlo) / (double)size;
        if (ph_size_class(size) != c || (size > 1 && ph_size_class(lo) != c)) {
            fprintf(stderr, "class_table: class %u does not serve %zu..%zu\n", c, lo, size);
            return 1;
        }
        if (size > 128 && worst > worst_all)
            worst_all = worst;
        if (nobj != 0)
            printf("| %u | %zu | %zu..%zu | %.1f %% | %zu | %zu | %.1f %% |\n", c, size, lo, size,
                   100.0 * worst, pages, nobj, 100.0 * (double)(span - nobj * size) / (double)span);
        else
            printf("| %u | %zu | %zu..%zu | %.1f %% | page run | | |\n", c, size, lo, size,
                   100.0 * worst);
        prev = size;
    }
    printf("\nWorst internal waste above 128 bytes: %.1f %% of the object; requests over %u "
           "bytes take whole pages.\n", 100.0 * worst_all, (unsigned)PH_SMALL_MAX);
    return 0;
}
