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
 * Finding work: each region keeps a downward cursor.  Granules at or above
 * it are known to be in use or released already; a pass scans down from the
 * cursor and leaves it below what it looked at.  Any free raises the cursor
 * to the granule of the highest freed page (ph_scav_note_free), which keeps
 * the invariant with one compare, so no pass rescans what an earlier pass
 * found in use and no free is ever missed.
 *
 * Acquire: when an allocation touches a released granule, the whole granule
 * is acquired (port->acquire, once per granule) before the memory is handed
 * out, and its other free pages count as retained again: the section is
 * powered, so they are as good as never released.
 */
#include "ph_internal.h"

static uint32_t log2_pow2(size_t x)
{
    uint32_t n = 0;
    while (((size_t)1 << n) < x)
        n++;
    return n;
}

void ph_scav_init_region(struct ph_region *r, uint32_t page_shift)
{
    uintptr_t first_addr;

    r->gran_first = 0;
    r->ngran = 0;
    r->cursor = 0;
    r->gran_shift = 0;
    if (r->granule == 0)
        return;
    r->gran_shift = log2_pow2(r->granule) - page_shift;
    first_addr = (r->base + (r->granule - 1)) & ~(uintptr_t)(r->granule - 1);
    if (first_addr < r->base || first_addr >= r->limit) /* wrapped, or none */
        return;
    r->gran_first = (size_t)((first_addr - r->base) >> page_shift);
    r->ngran = (r->npages - r->gran_first) >> r->gran_shift;
    r->cursor = r->ngran;
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
    if (h->port_ != NULL && h->port_->release != NULL)
        h->port_->release(h->port_->ctx, (void *)ph_page_addr(h, r, gran_page(r, lo)), bytes);
}

/* Scans r down from its cursor, releasing free granules, until `want`
 * bytes are released in all (counting *done) or one more of r's granules
 * would take the total past `limit` (a lower region with smaller granules
 * may still fit).  Returns true when `want` is reached. */
static bool scavenge_region(ph_heap *h, struct ph_region *r, size_t want, size_t limit,
                            size_t *done)
{
    size_t gpages = (size_t)1 << r->gran_shift;
    size_t gbytes = gpages << h->page_shift_;
    size_t g = r->cursor, run_hi = g;

    while (g > 0) {
        if (*done >= want || limit - *done < gbytes)
            break;
        g--;
        if (!gran_released(r, g) && ph_bits_clear(r->alloc, gran_page(r, g), gpages)) {
            *done += gbytes;
            continue; /* joins the run [g, run_hi) */
        }
        release_run(h, r, g + 1, run_hi);
        run_hi = g;
    }
    release_run(h, r, g, run_hi);
    r->cursor = g;
    return *done >= want;
}

/* Releases until `want` bytes are released or nothing is left, never more
 * than `limit` in all.  Highest region first. */
static size_t scavenge_locked(ph_heap *h, size_t want, size_t limit)
{
    size_t done = 0;
    uint32_t i = h->nregions_;

    while (i-- > 0) {
        struct ph_region *r = h->regions_[i];
        if (r->cursor != 0 && scavenge_region(h, r, want, limit, &done))
            break;
    }
    return done;
}

size_t ph_scavenge(ph_heap *h, size_t nbytes)
{
    size_t done;

    if (!ph_heap_ok(h) || nbytes == 0)
        return 0;
    ph_lock(h);
    done = scavenge_locked(h, nbytes, SIZE_MAX);
    ph_unlock(h);
    return done;
}

size_t ph_idle(ph_heap *h)
{
    size_t used, goal, powered, done = 0;

    if (!ph_heap_ok(h))
        return 0;
    ph_lock(h);
    used = h->pages_total_ - h->pages_free_;
    if (h->peak_used_ < used)
        h->peak_used_ = used;
    h->peak_used_ -= (h->peak_used_ - used) >> h->idle_.decay_shift;
    if (h->idle_.decay_shift == 0)
        h->peak_used_ = used;
    goal = h->peak_used_ + h->peak_used_ / 100u * h->idle_.headroom_pct +
           h->peak_used_ % 100u * h->idle_.headroom_pct / 100u;
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
    if (h->idle_.decay_shift >= 8 * sizeof(size_t))
        h->idle_.decay_shift = 8 * sizeof(size_t) - 1;
    ph_unlock(h);
}
