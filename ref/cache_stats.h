/* SPDX-License-Identifier: MIT */
/*
 * ref/cache_stats.h: what a failed allocation may change in ph_stats,
 * shared by the host tests (host-tests/obj_util.h) and the on-target suite
 * (target-tests/suite_objects.c).  An allocation that would fail gives
 * the object layer's empty-span cache back first (pageheap.h), so after it
 * the statistics are either exactly as before (nothing cached, or the
 * request larger than every free and cached page together) or as before
 * with the cached spans' pages free, no span cached, and a longest free
 * run that may only have grown.
 */
#ifndef PH_REF_CACHE_STATS_H
#define PH_REF_CACHE_STATS_H

#include "pageheap.h"

/* The statistics a failed allocation must leave when it started from *a
 * and gave the cache back; b (the statistics after it) only lends its
 * longest free run, when that grew and something was cached. */
static inline ph_stats ph_ref_stats_cache_given_back(const ph_stats *a, const ph_stats *b)
{
    ph_stats e = *a;
    size_t cached_pages = a->cached_bytes / a->page_size;
    e.pages_free += cached_pages;
    e.small_spans -= a->cached_spans;
    e.small_span_pages -= cached_pages;
    e.cached_spans = 0;
    e.cached_bytes = 0;
    if (a->cached_spans != 0 && b->largest_free_run >= a->largest_free_run)
        e.largest_free_run = b->largest_free_run;
    return e;
}

#endif /* PH_REF_CACHE_STATS_H */
