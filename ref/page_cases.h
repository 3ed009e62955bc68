/* SPDX-License-Identifier: MIT */
/*
 * page_cases.h: the page-allocator table cases, in the style of Go's
 * mpagealloc_test.go, shared by host-tests/test_pages_table.c (CMocka) and
 * target-tests/suite_pages.c (the on-target suite).  Each case is a heap
 * state and what happens to it:
 *
 *   regions   usable pages of each region, in address order, with the unused
 *             pages (gap) after it; a gap of 0 makes two regions touch.
 *   order     the order in which the regions are handed to ph_add_region
 *             (empty: address order).
 *   before    the page ranges in use before the steps.  The runners make
 *             them with the public API: every region is allocated whole,
 *             then the complement of `before` is freed, leaving the holes.
 *   steps     ALLOC(n, region, page): ph_page_alloc(n) must return that page;
 *             ALLOC_FAIL(n): it must return NULL;
 *             FREE(region, page, n): ph_page_free of those pages (valid frees
 *             only; refusals live in the refusal tests).
 *   after     the page ranges in use afterwards, compared with ph_walk.
 *   free_after the free page count afterwards (ph_get_stats).
 *
 * Pages are numbered from each region's page 0 as ph_get_region reports it,
 * and regions by address order (index 0 = lowest).  The cases are written in
 * W, the chunk size in pages (PH_WORD_BITS), which the includer defines
 * before this header as a size_t expression: they straddle chunk and
 * tree-level boundaries in both the 32- and the 64-bit layout.
 *
 * Each case is a macro PAGE_CASE_<NAME>(ps_) that expands to a tcase
 * initialiser with page size ps_: the host runs them at page sizes from 64
 * bytes to 64 KiB, the target suite at sizes small enough for a board's
 * arena, and each runner lists the cases it runs, in its own order.
 */
#ifndef PH_REF_PAGE_CASES_H
#define PH_REF_PAGE_CASES_H

#include <stddef.h>

#ifndef W
#error "define W (pages per chunk, PH_WORD_BITS) before including page_cases.h"
#endif

#define MAXR 8  /* regions per case  */
#define MAXB 12 /* ranges per list   */
#define MAXS 24 /* steps per case    */

enum { OP_END = 0, OP_ALLOC, OP_FREE };

typedef struct tstep {
    int op;
    size_t n;
    int region; /* -1: the allocation must fail */
    size_t page;
} tstep;

typedef struct trange {
    int region;
    size_t page, n; /* n == 0 ends the list */
} trange;

typedef struct tcase {
    const char *name;
    size_t page_size;
    size_t pages[MAXR]; /* usable pages per region, address order; 0 ends */
    size_t gap[MAXR];   /* unused pages after region i                     */
    int order[MAXR];    /* add order (all zero: address order)             */
    trange before[MAXB];
    tstep steps[MAXS];
    trange after[MAXB];
    size_t free_after;
} tcase;

#define ALLOC(n_, r_, p_) { OP_ALLOC, (n_), (r_), (p_) }
#define ALLOC_FAIL(n_) { OP_ALLOC, (n_), -1, 0 }
#define FREE(r_, p_, n_) { OP_FREE, (n_), (r_), (p_) }
#define RANGE(r_, p_, n_) { (r_), (p_), (n_) }

/* ---- shared by both: host-tests/test_pages_table.c and target-tests/suite_pages.c ---- */

#define PAGE_CASE_FIRST_PAGES(ps_) \
    { \
        .name = "first pages in address order", \
        .page_size = (ps_), \
        .pages = { W }, \
        .steps = { ALLOC(1, 0, 0), ALLOC(1, 0, 1), ALLOC(3, 0, 2), FREE(0, 1, 1), \
                   ALLOC(1, 0, 1), ALLOC(2, 0, 5), ALLOC(W - 7, 0, 7), ALLOC_FAIL(1), \
                   FREE(0, 3, 2), ALLOC_FAIL(3), ALLOC(2, 0, 3), FREE(0, W - 1, 1) }, \
        .after = { RANGE(0, 0, W - 1) }, \
        .free_after = 1, \
    }

#define PAGE_CASE_STRADDLE(ps_) \
    { \
        .name = "run straddling a chunk boundary", \
        .page_size = (ps_), \
        .pages = { 4 * W }, \
        .before = { RANGE(0, 0, W - 2), RANGE(0, W + 2, 3 * W - 2) }, \
        .steps = { ALLOC_FAIL(5), ALLOC(4, 0, W - 2), ALLOC_FAIL(1) }, \
        .after = { RANGE(0, 0, 4 * W) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_WHOLE_CHUNKS(ps_) \
    { \
        .name = "run covering whole chunks", \
        .page_size = (ps_), \
        .pages = { 4 * W }, \
        .before = { RANGE(0, 0, W - 1), RANGE(0, 3 * W + 1, W - 1) }, \
        .steps = { ALLOC_FAIL(2 * W + 3), ALLOC(2 * W + 2, 0, W - 1), FREE(0, W, W), \
                   ALLOC(1, 0, W), ALLOC(W - 1, 0, W + 1), ALLOC_FAIL(1), FREE(0, 2 * W - 1, 2) }, \
        .after = { RANGE(0, 0, 2 * W - 1), RANGE(0, 2 * W + 1, 2 * W - 1) }, \
        .free_after = 2, \
    }

#define PAGE_CASE_TREE_LEVELS(ps_) \
    { \
        /* holes across the level-0 (chunk), level-1, level-2 (root of 8 \
         * chunks) boundaries and one inside a chunk */ \
        .name = "runs across tree levels", \
        .page_size = (ps_), \
        .pages = { 8 * W }, \
        .before = { RANGE(0, 0, W - 3), RANGE(0, W + 2, W - 6), RANGE(0, 2 * W + 4, 2 * W - 10), \
                    RANGE(0, 4 * W + 6, 2 * W - 6), RANGE(0, 6 * W + 20, 2 * W - 20) }, \
        .steps = { ALLOC_FAIL(21), ALLOC(12, 0, 4 * W - 6), ALLOC(6, 0, 2 * W - 4), \
                   ALLOC(20, 0, 6 * W), ALLOC(2, 0, W - 3), ALLOC(3, 0, W - 1), \
                   ALLOC(2, 0, 2 * W + 2), ALLOC_FAIL(1) }, \
        .after = { RANGE(0, 0, 8 * W) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_FIRST_FIT(ps_) \
    { \
        .name = "first fit takes the lowest hole, not the best", \
        .page_size = (ps_), \
        .pages = { 8 * W }, \
        .before = { RANGE(0, 0, W - 3), RANGE(0, W + 2, W - 6), RANGE(0, 2 * W + 4, 2 * W - 10), \
                    RANGE(0, 4 * W + 6, 2 * W - 6), RANGE(0, 6 * W + 20, 2 * W - 20) }, \
        .steps = { ALLOC(4, 0, W - 3), ALLOC(4, 0, 2 * W - 4), ALLOC(4, 0, 2 * W), \
                   ALLOC(9, 0, 4 * W - 6), ALLOC(3, 0, 4 * W + 3), ALLOC(1, 0, W + 1), \
                   ALLOC(1, 0, 6 * W), FREE(0, 2 * W - 2, 4), ALLOC(3, 0, 2 * W - 2) }, \
        .after = { RANGE(0, 0, 2 * W + 1), RANGE(0, 2 * W + 2, 4 * W - 1), \
                   RANGE(0, 6 * W + 20, 2 * W - 20) }, \
        .free_after = 20, \
    }

#define PAGE_CASE_EXHAUSTION(ps_) \
    { \
        .name = "exact exhaustion", \
        .page_size = (ps_), \
        .pages = { 3 * W + 5 }, \
        .steps = { ALLOC(3 * W + 5, 0, 0), ALLOC_FAIL(1), FREE(0, 17, 1), ALLOC_FAIL(2), \
                   ALLOC(1, 0, 17), ALLOC_FAIL(1), FREE(0, 3 * W + 4, 1), ALLOC(1, 0, 3 * W + 4), \
                   ALLOC_FAIL(1), FREE(0, 0, 3 * W + 5), ALLOC_FAIL(3 * W + 6), \
                   ALLOC(3 * W + 5, 0, 0) }, \
        .after = { RANGE(0, 0, 3 * W + 5) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_MULTI_CHUNK(ps_) \
    { \
        .name = "multi-chunk runs", \
        .page_size = (ps_), \
        .pages = { 5 * W }, \
        .steps = { ALLOC(2 * W + 1, 0, 0), ALLOC(2 * W, 0, 2 * W + 1), ALLOC_FAIL(W), \
                   ALLOC(W - 1, 0, 4 * W + 1), FREE(0, 0, 2 * W + 1), ALLOC_FAIL(2 * W + 2), \
                   ALLOC(2 * W + 1, 0, 0), FREE(0, W, W), ALLOC_FAIL(W + 1), ALLOC(W, 0, W), \
                   FREE(0, 3 * W, 5) }, \
        .after = { RANGE(0, 0, 3 * W), RANGE(0, 3 * W + 5, 2 * W - 5) }, \
        .free_after = 5, \
    }

#define PAGE_CASE_PARTIAL_FREES(ps_) \
    { \
        .name = "partial frees of one run", \
        .page_size = (ps_), \
        .pages = { 2 * W }, \
        .steps = { ALLOC(10, 0, 0), FREE(0, 2, 3), FREE(0, 8, 2), ALLOC(4, 0, 8), ALLOC(3, 0, 2), \
                   ALLOC(1, 0, 12) }, \
        .after = { RANGE(0, 0, 13) }, \
        .free_after = 2 * W - 13, \
    }

#define PAGE_CASE_GAPS_OUT_OF_ORDER(ps_) \
    { \
        .name = "regions with gaps, added out of order", \
        .page_size = (ps_), \
        .pages = { 10, 50, W + 30 }, \
        .gap = { 3, 7, 0 }, \
        .order = { 2, 0, 1 }, \
        .steps = { ALLOC(20, 1, 0), ALLOC(40, 2, 0), ALLOC(10, 0, 0), ALLOC(30, 1, 20), \
                   ALLOC(1, 2, 40), ALLOC_FAIL(W), ALLOC(W - 11, 2, 41), ALLOC_FAIL(1), \
                   FREE(0, 3, 2), ALLOC(2, 0, 3), FREE(1, 0, 1) }, \
        .after = { RANGE(0, 0, 10), RANGE(1, 1, 49), RANGE(2, 0, W + 30) }, \
        .free_after = 1, \
    }

#define PAGE_CASE_TOUCHING(ps_) \
    { \
        .name = "touching regions never join", \
        .page_size = (ps_), \
        .pages = { 10, 10, 30 }, \
        .gap = { 0, 0, 0 }, \
        .order = { 1, 2, 0 }, \
        .steps = { ALLOC(5, 0, 0), ALLOC(15, 2, 0), ALLOC(10, 1, 0), ALLOC(6, 2, 15), \
                   ALLOC(5, 0, 5), ALLOC_FAIL(10), ALLOC(9, 2, 21), ALLOC_FAIL(1), \
                   FREE(0, 5, 5), FREE(1, 0, 5), ALLOC_FAIL(6), ALLOC(5, 0, 5) }, \
        .after = { RANGE(0, 0, 10), RANGE(1, 5, 5), RANGE(2, 0, 30) }, \
        .free_after = 5, \
    }

#define PAGE_CASE_LOWEST_REGION(ps_) \
    { \
        .name = "lowest region that fits, not the best fit", \
        .page_size = (ps_), \
        .pages = { 8, 100 }, \
        .gap = { 1 }, \
        .order = { 1, 0 }, \
        .before = { RANGE(0, 0, 2) }, \
        .steps = { ALLOC(7, 1, 0), ALLOC(6, 0, 2), ALLOC(1, 1, 7), FREE(0, 4, 1), ALLOC(2, 1, 8), \
                   ALLOC(1, 0, 4) }, \
        .after = { RANGE(0, 0, 8), RANGE(1, 0, 10) }, \
        .free_after = 90, \
    }

#define PAGE_CASE_ODD_SIZES(ps_) \
    { \
        .name = "odd region sizes", \
        .page_size = (ps_), \
        .pages = { W + 1, 1, 2 * W - 1 }, \
        .gap = { 1, 1 }, \
        .order = { 2, 1, 0 }, \
        .steps = { ALLOC(W + 1, 0, 0), ALLOC(2, 2, 0), ALLOC(1, 1, 0), ALLOC(2 * W - 3, 2, 2), \
                   ALLOC_FAIL(1), FREE(2, 2 * W - 2, 1), ALLOC_FAIL(2), ALLOC(1, 2, 2 * W - 2), \
                   FREE(0, W, 1), ALLOC(1, 0, W) }, \
        .after = { RANGE(0, 0, W + 1), RANGE(1, 0, 1), RANGE(2, 0, 2 * W - 1) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_DEEP_TREE(ps_) \
    { \
        /* 38 chunks: 64 leaves, height 6, 26 empty leaves past the end */ \
        .name = "deep tree with a partial last chunk", \
        .page_size = (ps_), \
        .pages = { 37 * W + 13 }, \
        .before = { RANGE(0, 0, 17 * W - 1), RANGE(0, 17 * W + 1, 14 * W + 4), \
                    RANGE(0, 36 * W, W) }, \
        .steps = { ALLOC_FAIL(5 * W - 4), ALLOC(13, 0, 31 * W + 5), ALLOC(5 * W - 18, 0, 31 * W + 18), \
                   ALLOC(13, 0, 37 * W), ALLOC(2, 0, 17 * W - 1), ALLOC_FAIL(1), \
                   FREE(0, 20 * W, 10 * W), ALLOC_FAIL(10 * W + 1), ALLOC(10 * W, 0, 20 * W) }, \
        .after = { RANGE(0, 0, 37 * W + 13) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_LARGE_PAGES(name_, ps_) \
    { \
        .name = (name_), \
        .page_size = (ps_), \
        .pages = { W / 2 + 3, 3 }, \
        .gap = { 2 }, \
        .order = { 1, 0 }, \
        .steps = { ALLOC_FAIL(W / 2 + 4), ALLOC(3, 0, 0), ALLOC(W / 2, 0, 3), ALLOC(3, 1, 0), \
                   ALLOC_FAIL(1), FREE(0, 1, W / 2), ALLOC_FAIL(W / 2 + 1), ALLOC(W / 2, 0, 1) }, \
        .after = { RANGE(0, 0, W / 2 + 3), RANGE(1, 0, 3) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_ONE_PAGE(ps_) \
    { \
        .name = "a heap of one page", \
        .page_size = (ps_), \
        .pages = { 1 }, \
        .steps = { ALLOC_FAIL(2), ALLOC(1, 0, 0), ALLOC_FAIL(1), FREE(0, 0, 1), ALLOC(1, 0, 0) }, \
        .after = { RANGE(0, 0, 1) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_EIGHT_REGIONS(ps_) \
    { \
        .name = "eight regions in scrambled order", \
        .page_size = (ps_), \
        .pages = { 3, 1, W, 2, W + W / 2, 5, 1, 2 * W }, \
        .gap = { 0, 2, 1, 0, 3, 0, 1 }, \
        .order = { 7, 3, 0, 5, 1, 6, 2, 4 }, \
        .steps = { ALLOC(2, 0, 0), ALLOC(2, 2, 0), ALLOC(1, 0, 2), ALLOC(1, 1, 0), \
                   ALLOC(W - 2, 2, 2), ALLOC(2, 3, 0), ALLOC(W + W / 2, 4, 0), ALLOC(6, 7, 0), \
                   ALLOC(5, 5, 0), ALLOC(1, 6, 0), ALLOC(2 * W - 6, 7, 6), ALLOC_FAIL(1), \
                   FREE(4, W / 2, W), FREE(7, 2, 2 * W - 2), ALLOC(W + 6, 7, 2) }, \
        .after = { RANGE(0, 0, 3), RANGE(1, 0, 1), RANGE(2, 0, W), RANGE(3, 0, 2), \
                   RANGE(4, 0, W / 2), RANGE(5, 0, 5), RANGE(6, 0, 1), RANGE(7, 0, W + 8) }, \
        /* a hole of W in region 4 (too small for W + 6), W - 8 left in region 7 */ \
        .free_after = W + (W - 8), \
    }

/* ---- small heaps (the target suite only: they fit even the smallest board's arena) ---- */

#define PAGE_CASE_SMALL_FIRST_BOUNDARY(ps_) \
    { \
        /* the small cases first: they fit even the smallest board's arena */ \
        .name = "small heap: runs across the first chunk boundary", \
        .page_size = (ps_), \
        .pages = { W + 8 }, \
        .before = { RANGE(0, 0, W - 3), RANGE(0, W + 2, 3) }, \
        .steps = { ALLOC_FAIL(6), ALLOC(5, 0, W - 3), ALLOC(3, 0, W + 5), ALLOC_FAIL(1), \
                   FREE(0, W - 4, 6), ALLOC(2, 0, W - 4), ALLOC(4, 0, W - 2), FREE(0, 0, W + 8), \
                   ALLOC(W + 8, 0, 0), ALLOC_FAIL(1) }, \
        .after = { RANGE(0, 0, W + 8) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_SMALL_EXHAUSTION(ps_) \
    { \
        .name = "small heap: exact exhaustion and a run of the whole region", \
        .page_size = (ps_), \
        .pages = { W + 5 }, \
        .steps = { ALLOC(W + 5, 0, 0), ALLOC_FAIL(1), FREE(0, 17, 1), ALLOC_FAIL(2), \
                   ALLOC(1, 0, 17), FREE(0, W + 4, 1), ALLOC(1, 0, W + 4), FREE(0, 0, W + 5), \
                   ALLOC_FAIL(W + 6), ALLOC(W, 0, 0), ALLOC(5, 0, W) }, \
        .after = { RANGE(0, 0, W + 5) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_SMALL_LOWEST_REGION(ps_) \
    { \
        .name = "small heap: the lowest region that fits, regions touching", \
        .page_size = (ps_), \
        .pages = { 6, 4, 20 }, \
        .gap = { 0, 1 }, \
        .order = { 2, 0, 1 }, \
        .before = { RANGE(0, 0, 2) }, \
        .steps = { ALLOC(5, 2, 0), ALLOC(4, 0, 2), ALLOC(4, 1, 0), ALLOC(1, 2, 5), \
                   FREE(0, 3, 2), ALLOC(3, 2, 6), ALLOC(2, 0, 3), ALLOC_FAIL(12), ALLOC(11, 2, 9) }, \
        .after = { RANGE(0, 0, 6), RANGE(1, 0, 4), RANGE(2, 0, 20) }, \
        .free_after = 0, \
    }

#define PAGE_CASE_STRADDLE_ONE(ps_) \
    { \
        .name = "run straddling one chunk boundary", \
        .page_size = (ps_), \
        .pages = { 2 * W }, \
        .before = { RANGE(0, 0, W - 2), RANGE(0, W + 2, W - 2) }, \
        .steps = { ALLOC_FAIL(5), ALLOC(4, 0, W - 2), ALLOC_FAIL(1), FREE(0, W - 3, 6), \
                   ALLOC(6, 0, W - 3), FREE(0, 0, 2 * W), ALLOC(2 * W, 0, 0) }, \
        .after = { RANGE(0, 0, 2 * W) }, \
        .free_after = 0, \
    }

#endif /* PH_REF_PAGE_CASES_H */
