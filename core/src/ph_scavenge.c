/* SPDX-License-Identifier: MIT */
/*
 * ph_scavenge.c: giving free RAM back through the port's release hook, and
 * taking it back through acquire, in place of Go's madvise.
 *
 * A granule is a region's release unit: one RAM power section, a power of
 * two of at least one page, at an address that is a multiple of its size.
 * Only granules wholly inside the region's usable pages are ever released,
 * so metadata never lies in one.  The released bitmap marks every page of a
 * released granule; invariants (ph_check): a granule's pages are all
 * released or none is, and no released page is in use.
 *
 * Order: highest address first (Go's scavenger walks down from the top), so
 * that first-fit allocation at low addresses and release at high addresses
 * do not fight over the same memory.
 *
 * Finding work (the scavenge index, in the spirit of Go 1.19's): one bit
 * per chunk says "this chunk may overlap a releasable granule".  A free sets
 * the bits of its chunks (ph_scav_note_free); a pass finds the highest set
 * bit below its cursor with count-leading-zeros over index words, looks only
 * at the free, unreleased pages of that chunk (a word operation), examines
 * the granule of the highest such page, jumps below it, and clears the bit
 * once the chunk holds nothing releasable.  So a pass never rescans memory
 * an earlier pass found in use, dense chunks cost nothing, and the work is
 * proportional to the frees since the last pass.  Invariant (ph_check):
 * every releasable granule overlaps a chunk whose bit is set.
 *
 * Acquire: when an allocation touches a released granule, the whole granule
 * is acquired (port->acquire, once per granule) before the memory is handed
 * out, and its other free pages count as retained again: the section is
 * powered, so they are as good as never released.
 */
#include "ph_internal.h"

void ph_scav_init_region(struct ph_region *r, uint32_t page_shift)
{
    uintptr_t first_addr;

    size_t w, nwords = (r->nchunks + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2;

    r->gran_first = 0;
    r->ngran = 0;
    r->scav_top = 0;
    r->gran_shift = 0;
    for (w = 0; w < nwords; w++)
        r->scav[w] = 0;
    if (r->granule == 0)
        return;
    r->gran_shift = ph_log2_ceil(r->granule) - page_shift;
    first_addr = (r->base + (r->granule - 1)) & ~(uintptr_t)(r->granule - 1);
    if (first_addr < r->base || first_addr >= r->limit) /* wrapped, or none */
        return;
    r->gran_first = (size_t)((first_addr - r->base) >> page_shift);
    r->ngran = (r->npages - r->gran_first) >> r->gran_shift;
    if (r->ngran != 0)
        ph_scav_note_free(r, 0, r->npages); /* all free: every chunk */
}

static size_t gran_page(const struct ph_region *r, size_t g)
{
    return r->gran_first + (g << r->gran_shift);
}

static bool gran_released(const struct ph_region *r, size_t g)
{
    size_t p = gran_page(r, g);
    return (r->released[p >> PH_CHUNK_LOG2] >> (p & (PH_CHUNK_PAGES - 1))) & 1u;
}

void ph_scav_acquire(ph_heap *h, struct ph_region *r, size_t first, size_t n)
{
    size_t gpages = (size_t)1 << r->gran_shift;
    size_t last = first + n - 1, g, g_end;
    size_t gbytes = gpages << h->page_shift_;

    if (r->ngran == 0 || last < r->gran_first || ph_bits_clear(r->released, first, n))
        return;
    g = first < r->gran_first ? 0 : (first - r->gran_first) >> r->gran_shift;
    g_end = ((last - r->gran_first) >> r->gran_shift) + 1;
    if (g_end > r->ngran)
        g_end = r->ngran;
    for (; g < g_end; g++) {
        if (!gran_released(r, g))
            continue;
        if (h->port_ != NULL && h->port_->acquire != NULL)
            h->port_->acquire(h->port_->ctx, (void *)ph_page_addr(h, r, gran_page(r, g)), gbytes);
        ph_bits_fill(r->released, gran_page(r, g), gpages, false);
        h->pages_released_ -= gpages;
        h->granules_released_--;
        h->acquire_calls_++;
        h->bytes_acquired_ += gbytes;
    }
}

/* Hands granules [lo, hi) of r, adjacent, to the release hook in one call. */
static void release_run(ph_heap *h, struct ph_region *r, size_t lo, size_t hi)
{
    size_t pages = (hi - lo) << r->gran_shift;
    size_t bytes = pages << h->page_shift_;

    if (lo == hi)
        return;
    /* The bits first: the hook may power the memory off at once, and the
     * heap must already treat it as released. */
    ph_bits_fill(r->released, gran_page(r, lo), pages, true);
    h->pages_released_ += pages;
    h->granules_released_ += hi - lo;
    h->release_calls_++;
    h->bytes_released_ += bytes;
    h->port_->release(h->port_->ctx, (void *)ph_page_addr(h, r, gran_page(r, lo)), bytes);
}

/* The highest chunk below `top` whose index bit is set; false if none. */
static bool highest_marked(const struct ph_region *r, size_t top, size_t *chunk)
{
    size_t w;
    ph_word_t bits;

    if (top == 0)
        return false;
    w = (top - 1) >> PH_CHUNK_LOG2;
    bits = r->scav[w] & ph_mask_below((unsigned)((top - 1) & (PH_CHUNK_PAGES - 1)) + 1);
    for (;;) {
        if (bits != 0) {
            *chunk = (w << PH_CHUNK_LOG2) + (PH_WORD_BITS - 1 - ph_clz(bits));
            return true;
        }
        if (w == 0)
            return false;
        bits = r->scav[--w];
    }
}

/* Scans r downward through its scavenge index, releasing free granules,
 * until `want` bytes are released in all (`done` so far) or one more of
 * r's granules would take the total past `limit` (a lower region with
 * smaller granules may still fit).  Returns the bytes released in all. */
static PH_NOINLINE size_t scavenge_region(ph_heap *h, struct ph_region *r, size_t want,
                                          size_t limit, size_t done)
{
    size_t gpages = (size_t)1 << r->gran_shift;
    size_t gbytes = gpages << h->page_shift_;
    size_t gran_end = r->gran_first + (r->ngran << r->gran_shift);
    size_t top = r->scav_top, c = 0, run_lo = 0, run_hi = 0;
    bool full = false;

    while (!full && highest_marked(r, top, &c)) {
        size_t floor = c << PH_CHUNK_LOG2, lowest = floor;
        /* Free pages not yet released: only their granules can be released. */
        ph_word_t m = ~(r->alloc[c] | r->released[c]);

        while (m != 0) {
            size_t p = floor + (PH_WORD_BITS - 1 - ph_clz(m)), g, gp;
            if (done >= want || limit - done < gbytes) {
                full = true;
                break;
            }
            if (p < r->gran_first || p >= gran_end) { /* in no whole granule */
                m &= ~((ph_word_t)1 << (p - floor));
                continue;
            }
            g = (p - r->gran_first) >> r->gran_shift;
            gp = gran_page(r, g);
            /* A granule straddling into this chunk from above may already be
             * in the pending run (its bits are set when the run goes out). */
            if ((run_lo == run_hi || g < run_lo) && ph_bits_clear(r->alloc, gp, gpages)) {
                done += gbytes;
                if (run_lo != run_hi && g + 1 != run_lo) {
                    release_run(h, r, run_lo, run_hi);
                    run_hi = g + 1;
                } else if (run_lo == run_hi) {
                    run_hi = g + 1;
                }
                run_lo = g;
            }
            /* Everything of this chunk from g's first page up is done. */
            if (gp <= floor) {
                lowest = gp;
                m = 0;
            } else {
                m &= ph_mask_below((unsigned)(gp - floor));
            }
        }
        if (full)
            break;
        /* Chunk c, and the chunks wholly inside the granule that reached
         * below it, overlap nothing releasable any more. */
        top = (lowest + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2;
        ph_bits_fill(r->scav, top, c + 1 - top, false);
    }
    if (run_lo != run_hi)
        release_run(h, r, run_lo, run_hi);
    r->scav_top = full ? c + 1 : 0; /* else no bit is left below top */
    return done;
}

/* Releases until `want` bytes are released or nothing is left, never more
 * than `limit` in all.  Highest region first.  Without a release hook
 * nothing can be powered down, so nothing is released or counted as such:
 * "released" means the port was told it may drop the memory. */
static size_t scavenge_locked(ph_heap *h, size_t want, size_t limit)
{
    size_t done = 0;
    uint32_t i = h->nregions_;

    if (h->port_ == NULL || h->port_->release == NULL)
        return 0;
    while (i-- > 0) {
        struct ph_region *r = h->regions_[i];
        if (r->scav_top != 0 && (done = scavenge_region(h, r, want, limit, done)) >= want)
            break;
    }
    return done;
}

size_t ph_scavenge(ph_heap *h, size_t nbytes)
{
    size_t done;

    if (!ph_heap_ok(h))
        return 0;
    ph_lock(h);
    /* Cached empty spans first, so their pages can be released too;
     * ph_scavenge(h, 0) does only this. */
    ph_object_cache_flush(h);
    ph_object_trim(h, true);
    done = nbytes == 0 ? 0 : scavenge_locked(h, nbytes, SIZE_MAX);
    ph_unlock(h);
    return done;
}

size_t ph_idle(ph_heap *h)
{
    size_t used, peak, goal, powered, done = 0;

    if (!ph_heap_ok(h))
        return 0;
    ph_lock(h);
    ph_object_cache_flush(h); /* as ph_scavenge */
    ph_object_trim(h, false);
    used = h->pages_total_ - h->pages_free_;
    peak = h->pages_total_ - h->low_free_; /* at least used */
    /* Rounded up, so the peak reaches the pages in use in the end. */
    peak -= (peak - used + ((size_t)1 << h->idle_.decay_shift) - 1) >> h->idle_.decay_shift;
    h->low_free_ = h->pages_total_ - peak;
    goal = peak + peak / 100u * h->idle_.headroom_pct + peak % 100u * h->idle_.headroom_pct / 100u;
    powered = h->pages_total_ - h->pages_released_;
    if (powered > goal) {
        size_t excess = (powered - goal) << h->page_shift_;
        size_t budget = h->idle_.budget_bytes != 0 ? h->idle_.budget_bytes : SIZE_MAX;
        /* Only granules that fit in the excess: never below the goal, so a
         * heap sitting at its goal does not toggle a section per call. */
        done = scavenge_locked(h, budget < excess ? budget : excess, excess);
    }
    ph_unlock(h);
    return done;
}

void ph_set_idle_policy(ph_heap *h, const ph_idle_policy *policy)
{
    if (!ph_heap_ok(h) || policy == NULL)
        return;
    ph_lock(h);
    h->idle_ = *policy;
    if (h->idle_.decay_shift > PH_IDLE_MAX_DECAY_SHIFT)
        h->idle_.decay_shift = PH_IDLE_MAX_DECAY_SHIFT;
    ph_unlock(h);
}
