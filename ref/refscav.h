/* SPDX-License-Identifier: MIT */
/*
 * refscav: the naive reference model of pageheap's pages AND their release
 * state, for the scavenger's differential tests.  Host only (libc).
 *
 * Pages: one byte per page, linear address-ordered first fit over regions
 * kept in address order (as ref/refmodel.c, which stays as it is for its
 * users).  Release state, straight from API.md "Scavenging" and the acquire
 * rule in "Pages":
 *
 *   - a region's granules sit at addresses that are multiples of the
 *     granule; only those wholly inside the region's usable pages are
 *     eligible (so none holds metadata), and a region of granule 0 has none;
 *   - one released flag per eligible granule;
 *   - scavenge(nbytes): over all regions from the highest address down,
 *     every eligible granule that is not released and whose pages are all
 *     free is released, until at least nbytes were released (checked before
 *     each granule) or none is left; granules released by one call that are
 *     adjacent go to `release` in one call, higher runs first;
 *   - alloc(n): first fit; then every released granule the run touches is
 *     acquired, whole (one `acquire` each, ascending), and is no longer
 *     released (its other free pages are retained again);
 *   - free never releases, and nothing else acquires;
 *   - idle (ph_idle): the pacer's peak and goal as pageheap.h documents
 *     them, then the scavenge order restricted to granules that fit in the
 *     excess over the goal, stopping once the budget is reached.
 *
 * The model keeps the counters of ph_stats (pages_released,
 * granules_released, release/acquire calls and bytes, the idle pacer's
 * peak) and a log of the hook calls the last operation must have made.
 * Obviously correct, deliberately slow: every query is a linear scan.
 */
#ifndef PH_REFSCAV_H
#define PH_REFSCAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RS_MAX_REGIONS 64

/* Page states, numbered as pageheap's PH_PAGES_* (USED, FREE, RELEASED). */
enum { RS_USED = 1, RS_FREE = 2, RS_RELEASED = 3 };

/* Hook calls. */
enum { RS_RELEASE = 1, RS_ACQUIRE = 2 };

typedef struct rs_call {
    int kind;        /* RS_RELEASE or RS_ACQUIRE */
    uintptr_t base;
    size_t len;
} rs_call;

typedef struct rs_region {
    uintptr_t base;  /* address of usable page 0            */
    size_t npages;   /* usable pages                        */
    size_t granule;  /* bytes, 0 = never released           */
    uintptr_t gbase; /* address of eligible granule 0       */
    size_t ngran;    /* eligible granules                   */
    uint8_t *used;   /* per page, 1 = in use                */
    uint8_t *rel;    /* per eligible granule, 1 = released  */
} rs_region;

typedef struct rs_model {
    size_t page_size;
    size_t nregions;
    rs_region regions[RS_MAX_REGIONS]; /* sorted by base */
    /* what ph_stats reports */
    size_t pages_released, granules_released;
    size_t release_calls, acquire_calls;
    size_t bytes_released, bytes_acquired;
    size_t peak_used;
    /* hook calls of the last operation, in order (rs_calls_clear empties) */
    rs_call *calls;
    size_t ncalls, cap;
} rs_model;

/* A granule named by its region (index in address order) and index. */
typedef struct rs_gran {
    size_t region, index;
} rs_gran;

void rs_init(rs_model *m, size_t page_size);
void rs_destroy(rs_model *m);

/* A region whose usable pages are [base, base + npages pages). */
void rs_add_region(rs_model *m, uintptr_t base, size_t npages, size_t granule);

void rs_calls_clear(rs_model *m);

/* First fit of npages (0 when none or npages is 0); acquires as above and
 * raises the peak. */
uintptr_t rs_alloc(rs_model *m, size_t npages);

/* 0, or the fault code pageheap must raise (1 bad pointer, 2 double free);
 * a refused free changes nothing. */
int rs_free(rs_model *m, uintptr_t p, size_t npages);

/* Releases as ph_scavenge(h, nbytes); returns the bytes. */
size_t rs_scavenge(rs_model *m, size_t nbytes);

/* What ph_idle releases once it knows its goal (pageheap.h): the same
 * order as scavenge, only granules that fit in what is left of `excess`
 * bytes (powered pages above the goal), stopping once `budget` bytes were
 * released (0 = no limit); returns the bytes. */
size_t rs_idle_release(rs_model *m, size_t budget, size_t excess);

/* The releasable granule that scavenge would release next: false when
 * there is none. */
bool rs_next_releasable(const rs_model *m, rs_gran *out);

/* The idle pacer's bookkeeping at the start of ph_idle: the peak catches
 * up with the pages in use, then falls by (peak - used) >> decay_shift
 * (to the pages in use when decay_shift is 0).  Returns the goal: the peak
 * plus headroom_pct percent of it (rounded down), in pages. */
size_t rs_idle_goal(rs_model *m, unsigned headroom_pct, unsigned decay_shift);

/* Queries (addresses must lie in a region's usable pages for page_state). */
int rs_page_state(const rs_model *m, uintptr_t page_addr);
const rs_region *rs_region_of(const rs_model *m, uintptr_t addr); /* NULL if none */
uintptr_t rs_gran_addr(const rs_model *m, rs_gran g);
size_t rs_pages_total(const rs_model *m);
size_t rs_pages_free(const rs_model *m);
size_t rs_pages_powered(const rs_model *m); /* total - released          */
size_t rs_largest_run(const rs_model *m);   /* inside one region         */

#endif /* PH_REFSCAV_H */
