/* SPDX-License-Identifier: MIT */
/*
 * fuzz_heap.c: a coverage-guided differential fuzzer of the whole heap
 * (libFuzzer, with AddressSanitizer and UndefinedBehaviorSanitizer).
 *
 * Every input is a heap and a stream of operations on it; any byte string
 * is a valid input (a read past the end gives zeros, and the stream stops
 * there).
 *
 *   header   page size (64 B .. 4 KiB), 1..4 regions and perhaps one more
 *            added later; per region its size in pages (1 page .. 512 KiB),
 *            a misaligned base and tail or not, its granule (0 or the page
 *            size times 1..32) and the gap after it (0: the regions touch).
 *            The regions lie in one static arena in slot order and are
 *            handed to ph_add_region in a shuffled order.
 *   ops      one byte picks the operation, the next bytes its arguments:
 *            ph_page_alloc, ph_page_free (whole, partial, double, misaligned,
 *            foreign, past the region, object memory, huge counts),
 *            ph_malloc / calloc / realloc / aligned_alloc / usable_size /
 *            free with good and bad pointers (interior, freed, foreign,
 *            page-API memory, metadata), ph_scavenge, ph_idle with a random
 *            policy, a late ph_add_region and refused ones, "free
 *            everything".
 *
 * The port poisons what it is given: `release` fills the range with a
 * pattern and marks it inaccessible to AddressSanitizer (so any read or
 * write by the heap is reported at once, with a stack); `acquire` checks that
 * the range is whole released granules whose pattern is intact, and makes it
 * accessible again.  Gaps between regions, the misaligned edges of regions
 * and regions not (yet) added are inaccessible too.  `lock` / `unlock`
 * count their nesting (it must never nest) and `fault` records its code and
 * address.
 *
 * The shadow model is the list of live page runs and objects, each filled
 * with a byte of its own.  After every operation:
 *   - ph_check is PH_OK, the lock is free;
 *   - ph_walk describes every region exactly (metadata first, then the
 *     usable pages); its counts equal ph_get_stats (free, released, largest
 *     run); its released pages are exactly those the port holds released;
 *   - every live run and object lies in used pages of one region, none
 *     overlaps another, the used pages are the runs' pages plus the object
 *     layer's (small_span_pages + large_pages);
 *   - the fault count is the number of refusals made so far.
 * ph_page_alloc must return the first fit that the reference model
 * (ref/refmodel.c, loaded with ph_walk's map before the call) returns.
 * Every refused call (its expected fault code from the model and ph_walk's
 * map) must leave ph_get_stats (but `faults`, +1) and the ph_walk list as
 * they were, and call `fault` once with that code and the pointer passed.
 * Contents are checked when an object or run is freed or reallocated,
 * every few operations, and at the end; the released pattern likewise.
 * After the stream everything is freed: every page is free after one
 * ph_scavenge(h, 0), and ph_scavenge(h, SIZE_MAX) releases every granule
 * that may be released.
 *
 * Any mismatch aborts, which libFuzzer reports as a crash with the input.
 */
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pageheap.h"
#include "refmodel.h"

/* ---- limits ------------------------------------------------------------ */

#define ARENA_BYTES ((size_t)4 << 20)
#define ARENA_ALIGN 65536
#define UNIT 64u                    /* smallest page: the release map's unit */
#define MAX_SLOTS 5                 /* 4 regions at set-up + 1 added later   */
#define MAX_REGION_BYTES ((size_t)512 << 10)
#define MAX_REGION_PAGES 2000u
#define MAX_PAGES 2048u             /* per region, for the page-state map    */
#define MAX_ITEMS 256
#define MAX_OPS 1500
#define MAX_RUNS (MAX_SLOTS * (MAX_PAGES + 2))
#define FREED_RING 32
#define POISON 0xA5u
#define VERIFY_EVERY 32             /* ops between full content checks      */

static _Alignas(ARENA_ALIGN) uint8_t arena[ARENA_BYTES];
static uint8_t relmap[ARENA_BYTES / UNIT]; /* 1 = released (port's view) */
static uint8_t outside_static[256];        /* a foreign object            */

/* ---- outcome counters (FUZZ_HEAP_STATS=1 prints them per input) ---- */

enum {
    C_PAGE_ALLOC, C_PAGE_ALLOC_NULL, C_PAGE_FREE, C_PAGE_BAD, C_PAGE_DOUBLE, C_NOP,
    C_OBJ_ALLOC, C_OBJ_FAIL, C_FREE, C_OBJ_BAD, C_OBJ_DOUBLE, C_OBJ_EITHER,
    C_RELEASE, C_ACQUIRE, C_IDLE_RELEASE, C_REGION_ADD, C_REGION_REFUSED, C_FREE_ALL, C_N
};
static const char *const counter_names[C_N] = {
    "page_alloc", "page_alloc_null", "page_free", "page_free_bad", "page_free_double", "nop",
    "obj_alloc", "obj_alloc_fail", "free", "obj_bad", "obj_double", "obj_either",
    "release_calls", "acquire_calls", "idle_releases", "region_add", "region_refused", "free_all"
};
static size_t counters[C_N];
#define COUNT(c) (counters[c]++)

/* ---- failure ------------------------------------------------------------- */

static size_t op_index;
static int op_code;

#define CHECK(c)                          \
    do {                                  \
        if (!(c))                         \
            fail(#c, __LINE__);           \
    } while (0)

static void fail(const char *what, int line)
{
    fprintf(stderr, "fuzz_heap: check failed, line %d, op #%zu (code %d): %s\n", line,
            op_index, op_code, what);
    abort();
}

/* ---- input ---------------------------------------------------------------- */

static const uint8_t *in_data;
static size_t in_len, in_pos;

static unsigned u8(void)
{
    return in_pos < in_len ? in_data[in_pos++] : 0u;
}

static unsigned u16(void)
{
    unsigned lo = u8();
    return lo | u8() << 8;
}

/* ---- the heap and its port -------------------------------------------------- */

static ph_heap heap;
static ph_port port;

/* PH_FUZZ_NULL_RELEASE=1 (CMake option of the same name): one input in two
 * gets a port whose release hook is NULL, which must release nothing
 * (API.md): ph_scavenge and ph_idle return 0 and no page counts as
 * released.  Off by default until that rule is in the core of this tree. */
#ifndef PH_FUZZ_NULL_RELEASE
#define PH_FUZZ_NULL_RELEASE 0
#endif
static int no_release; /* this input's port has no release hook */
static size_t ps; /* page size */

static int lock_depth;
static size_t lock_calls;
static size_t fault_calls;
static int last_fault_code;
static const void *last_fault_addr;

enum { ALLOW_NONE = 0, ALLOW_RELEASE = 1, ALLOW_ACQUIRE = 2 };
static int hook_allow;

/* hook calls of the current operation */
#define MAX_CALLS (MAX_SLOTS * MAX_PAGES) /* one per granule at most */
typedef struct hcall {
    uintptr_t base;
    size_t len;
} hcall;
static hcall rel_calls[MAX_CALLS], acq_calls[MAX_CALLS];
static size_t nrel_calls, nacq_calls, rel_bytes;

typedef struct slot {
    uint8_t *raw;
    size_t size;
    size_t granule;
    int added;
} slot;
static slot slots[MAX_SLOTS];
static size_t nslots, nslots_setup;
static uint8_t *arena_end_used;

static ph_region_info rinfo[MAX_SLOTS];
static size_t nreg;

static uintptr_t align_up(uintptr_t a, size_t al) { return (a + al - 1) & ~(uintptr_t)(al - 1); }
static uintptr_t align_down(uintptr_t a, size_t al) { return a & ~(uintptr_t)(al - 1); }

static void asan_poison(uintptr_t a, uintptr_t b)
{
    a = align_up(a, 8);
    b = align_down(b, 8);
    if (b > a)
        ASAN_POISON_MEMORY_REGION((void *)a, (size_t)(b - a));
}

static void asan_unpoison(uintptr_t a, uintptr_t b)
{
    if (b > a)
        ASAN_UNPOISON_MEMORY_REGION((void *)a, (size_t)(b - a));
}

static size_t relidx(uintptr_t a)
{
    CHECK(a >= (uintptr_t)arena && a < (uintptr_t)arena + ARENA_BYTES);
    return (size_t)(a - (uintptr_t)arena) / UNIT;
}

/* The region (address order) whose usable pages hold a, or nreg. */
static size_t region_of(uintptr_t a)
{
    for (size_t i = 0; i < nreg; i++) {
        uintptr_t b = (uintptr_t)rinfo[i].base;
        if (a >= b && a - b < rinfo[i].npages * ps)
            return i;
    }
    return nreg;
}

static uintptr_t region_end(size_t r)
{
    return (uintptr_t)rinfo[r].base + rinfo[r].npages * ps;
}

/* ---- the shadow model ---------------------------------------------------- */

enum { K_RUN = 1, K_OBJ = 2 };
typedef struct item {
    uintptr_t p;
    size_t len; /* bytes: npages * ps for a run, the usable size of an object */
    size_t req; /* pages of a run, bytes asked for an object                  */
    int kind;
    uint8_t tag;
} item;
static item items[MAX_ITEMS];
static size_t nitems;
static uint32_t next_id;
static uintptr_t freed[FREED_RING];
static size_t nfreed;
static size_t exp_faults;

static uint8_t new_tag(void)
{
    uint8_t t = (uint8_t)(++next_id * 167u + 13u);
    return t == POISON || t == 0 ? (uint8_t)(t ^ 0x11u) : t;
}

static void verify_bytes(uintptr_t p, size_t len, uint8_t tag)
{
    const uint8_t *b = (const uint8_t *)p;
    uint64_t w;
    size_t i = 0;
    memset(&w, tag, sizeof w);
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, b + i, 8);
        if (v != w)
            break;
    }
    for (; i < len; i++)
        CHECK(b[i] == tag); /* a live run or object was overwritten */
}

static void verify_item(const item *it)
{
    verify_bytes(it->p, it->len, it->tag);
}

static void verify_all_items(void)
{
    for (size_t i = 0; i < nitems; i++)
        verify_item(&items[i]);
}

static size_t overlap_len(const item *it)
{
    return it->len ? it->len : 1;
}

/* A new run or object: inside one region's usable pages, overlapping none. */
static item *add_item(uintptr_t p, size_t len, size_t req, int kind)
{
    size_t r = region_of(p);
    size_t l = len ? len : 1;
    CHECK(r < nreg);
    CHECK(p + l <= region_end(r));
    for (size_t i = 0; i < nitems; i++) {
        const item *o = &items[i];
        CHECK(p + l <= o->p || o->p + overlap_len(o) <= p); /* live blocks overlap */
    }
    CHECK(nitems < MAX_ITEMS);
    item *it = &items[nitems++];
    it->p = p;
    it->len = len;
    it->req = req;
    it->kind = kind;
    it->tag = new_tag();
    memset((void *)p, it->tag, len);
    return it;
}

static void drop_item(size_t i)
{
    if (items[i].kind == K_OBJ) {
        freed[nfreed % FREED_RING] = items[i].p;
        nfreed++;
    }
    items[i] = items[--nitems];
}

static item *find_obj(uintptr_t p)
{
    for (size_t i = 0; i < nitems; i++)
        if (items[i].kind == K_OBJ && items[i].p == p)
            return &items[i];
    return NULL;
}

/* Items of one kind, counted; the k-th (mod count) of them. */
static item *pick_item(int kind, unsigned k)
{
    size_t n = 0;
    for (size_t i = 0; i < nitems; i++)
        n += items[i].kind == kind;
    if (n == 0)
        return NULL;
    k %= (unsigned)n;
    for (size_t i = 0; i < nitems; i++)
        if (items[i].kind == kind && k-- == 0)
            return &items[i];
    return NULL;
}

/* ---- the port ---------------------------------------------------------------- */

__attribute__((no_sanitize("address"))) static void verify_poison(uintptr_t a, size_t len)
{
    /* a and len are multiples of the page size (64 at least) */
    const volatile uint64_t *w = (const volatile uint64_t *)a;
    const uint64_t want = POISON * 0x0101010101010101ull;
    for (size_t i = 0; i < len / 8; i++)
        if (w[i] != want)
            fail("released memory was written", __LINE__);
}

/* A release or acquire range: whole granules of one region's usable pages. */
static size_t hook_region(uintptr_t base, size_t len)
{
    size_t r = region_of(base);
    CHECK(r < nreg);
    size_t g = rinfo[r].granule;
    CHECK(g != 0);
    CHECK(len != 0 && len % g == 0);
    CHECK(base % g == 0);
    CHECK(base + len <= region_end(r));
    return r;
}

static void port_release(void *ctx, void *base, size_t len)
{
    uintptr_t a = (uintptr_t)base;
    (void)ctx;
    CHECK(hook_allow == ALLOW_RELEASE); /* only ph_scavenge and ph_idle release */
    hook_region(a, len);
    for (uintptr_t u = a; u < a + len; u += UNIT)
        CHECK(!relmap[relidx(u)]); /* released twice */
    for (size_t i = 0; i < nitems; i++)
        CHECK(items[i].p + overlap_len(&items[i]) <= a || a + len <= items[i].p);
    memset(base, POISON, len);
    asan_poison(a, a + len);
    for (uintptr_t u = a; u < a + len; u += UNIT)
        relmap[relidx(u)] = 1;
    CHECK(nrel_calls < MAX_CALLS);
    rel_calls[nrel_calls].base = a;
    rel_calls[nrel_calls++].len = len;
    rel_bytes += len;
    COUNT(C_RELEASE);
}

static void port_acquire(void *ctx, void *base, size_t len)
{
    uintptr_t a = (uintptr_t)base;
    (void)ctx;
    CHECK(hook_allow == ALLOW_ACQUIRE); /* only allocations acquire */
    hook_region(a, len);
    for (uintptr_t u = a; u < a + len; u += UNIT)
        CHECK(relmap[relidx(u)]); /* acquired but not released */
    verify_poison(a, len);
    asan_unpoison(a, a + len);
    for (uintptr_t u = a; u < a + len; u += UNIT)
        relmap[relidx(u)] = 0;
    CHECK(nacq_calls < MAX_CALLS);
    acq_calls[nacq_calls].base = a;
    acq_calls[nacq_calls++].len = len;
    COUNT(C_ACQUIRE);
}

static void port_lock(void *ctx)
{
    (void)ctx;
    CHECK(lock_depth == 0); /* the lock nests */
    lock_depth++;
    lock_calls++;
}

static void port_unlock(void *ctx)
{
    (void)ctx;
    CHECK(lock_depth == 1);
    lock_depth--;
}

static void port_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    fault_calls++;
    last_fault_code = code;
    last_fault_addr = addr;
}

static void hooks_begin(int allow)
{
    hook_allow = allow;
    nrel_calls = nacq_calls = rel_bytes = 0;
}

static void hooks_end(void)
{
    hook_allow = ALLOW_NONE;
    CHECK(lock_depth == 0);
}

/* ---- ph_walk snapshots and the page-state map ------------------------------ */

typedef struct wrun {
    uintptr_t base;
    size_t n;
    int state;
} wrun;
typedef struct snap {
    wrun runs[MAX_RUNS];
    size_t n;
} snap;
static snap walk_now, walk_before;
static uint8_t pst[MAX_SLOTS][MAX_PAGES];      /* PH_PAGES_* of every usable page */
static uint8_t pst_prev[MAX_SLOTS][MAX_PAGES];

static void walk_cb(void *ctx, const void *base, size_t npages, int state)
{
    snap *s = ctx;
    CHECK(lock_depth == 1); /* ph_walk holds the lock */
    CHECK(s->n < MAX_RUNS);
    s->runs[s->n].base = (uintptr_t)base;
    s->runs[s->n].n = npages;
    s->runs[s->n++].state = state;
}

static void take_walk(snap *s)
{
    size_t lc = lock_calls;
    s->n = 0;
    ph_walk(&heap, walk_cb, s);
    CHECK(lock_depth == 0);
    CHECK(lock_calls > lc);
}

static int snaps_equal(const snap *a, const snap *b)
{
    return a->n == b->n && memcmp(a->runs, b->runs, a->n * sizeof a->runs[0]) == 0;
}

static void get_stats(ph_stats *st)
{
    size_t lc = lock_calls;
    ph_get_stats(&heap, st);
    CHECK(lock_depth == 0);
    CHECK(lock_calls > lc);
}

static void refresh_regions(void)
{
    nreg = 0;
    while (nreg < MAX_SLOTS && ph_get_region(&heap, nreg, &rinfo[nreg]) == PH_OK)
        nreg++;
    ph_region_info dummy;
    CHECK(ph_get_region(&heap, nreg, &dummy) != PH_OK);
    for (size_t i = 0; i < nreg; i++) {
        CHECK(rinfo[i].npages >= 1 && rinfo[i].npages <= MAX_PAGES);
        CHECK((uintptr_t)rinfo[i].base % ps == 0);
        CHECK((uintptr_t)rinfo[i].meta_base + rinfo[i].meta_bytes == (uintptr_t)rinfo[i].base);
        CHECK((uintptr_t)rinfo[i].meta_base >= (uintptr_t)rinfo[i].raw_base);
        CHECK(region_end(i) <= (uintptr_t)rinfo[i].raw_base + rinfo[i].raw_size);
        if (i > 0)
            CHECK((uintptr_t)rinfo[i - 1].raw_base + rinfo[i - 1].raw_size <=
                  (uintptr_t)rinfo[i].raw_base);
    }
}

/* Loads ph_walk's runs into pst, checking that they describe every region
 * exactly: its metadata, then its usable pages, in address order. */
static void load_walk(const snap *s)
{
    size_t k = 0;
    for (size_t r = 0; r < nreg; r++) {
        uintptr_t a = (uintptr_t)rinfo[r].meta_base;
        if (rinfo[r].meta_bytes != 0) {
            CHECK(k < s->n);
            CHECK(s->runs[k].state == PH_PAGES_META);
            CHECK(s->runs[k].base == a && s->runs[k].n * ps == rinfo[r].meta_bytes);
            k++;
        }
        a = (uintptr_t)rinfo[r].base;
        int prev = -1;
        while (a < region_end(r)) {
            CHECK(k < s->n);
            const wrun *w = &s->runs[k++];
            CHECK(w->base == a && w->n >= 1);
            CHECK(w->state == PH_PAGES_USED || w->state == PH_PAGES_FREE ||
                  w->state == PH_PAGES_RELEASED);
            CHECK(w->state != prev); /* runs are maximal */
            CHECK(w->n <= (region_end(r) - a) / ps);
            size_t first = (a - (uintptr_t)rinfo[r].base) / ps;
            memset(&pst[r][first], w->state, w->n);
            a += w->n * ps;
            prev = w->state;
        }
    }
    CHECK(k == s->n);
}

/* ---- the reference model: first fit and free faults ------------------------ */

static ref_model ref;
static int ref_live;

/* Loads the model with the regions and the page map pst; the regions are
 * made again only when they changed. */
static void ref_load(void)
{
    int same = ref_live && ref.page_size == ps && ref.nregions == nreg;
    for (size_t r = 0; same && r < nreg; r++)
        same = ref.regions[r].base == (uintptr_t)rinfo[r].base &&
               ref.regions[r].npages == rinfo[r].npages;
    if (!same) {
        if (ref_live)
            ref_destroy(&ref);
        ref_init(&ref, ps);
        for (size_t r = 0; r < nreg; r++)
            ref_add_region(&ref, (uintptr_t)rinfo[r].base, rinfo[r].npages);
        ref_live = 1;
    }
    for (size_t r = 0; r < nreg; r++)
        for (size_t i = 0; i < rinfo[r].npages; i++)
            ref.regions[r].used[i] = pst[r][i] == PH_PAGES_USED;
}

/* ---- the checks after every operation -------------------------------------- */

static ph_stats st_now;

static void check_all(void)
{
    size_t lc = lock_calls;
    CHECK(lock_depth == 0);
    CHECK(ph_check(&heap) == PH_OK);
    CHECK(lock_calls > lc);
    get_stats(&st_now);
    take_walk(&walk_now);
    load_walk(&walk_now);

    size_t total = 0, nfree = 0, nrel = 0, largest = 0, used = 0;
    for (size_t r = 0; r < nreg; r++) {
        size_t run = 0;
        total += rinfo[r].npages;
        for (size_t i = 0; i < rinfo[r].npages; i++) {
            uintptr_t pa = (uintptr_t)rinfo[r].base + i * ps;
            int s = pst[r][i];
            run = s == PH_PAGES_USED ? 0 : run + 1;
            if (run > largest)
                largest = run;
            nfree += s != PH_PAGES_USED;
            nrel += s == PH_PAGES_RELEASED;
            used += s == PH_PAGES_USED;
            /* the port's released memory is exactly the walk's */
            CHECK((s == PH_PAGES_RELEASED) == (relmap[relidx(pa)] != 0));
        }
    }
    CHECK(st_now.page_size == ps);
    CHECK(st_now.regions == nreg);
    CHECK(st_now.pages_total == total);
    CHECK(st_now.pages_free == nfree);
    CHECK(st_now.pages_released == nrel);
    CHECK(st_now.largest_free_run == largest);
    CHECK(st_now.faults == exp_faults);
    CHECK(fault_calls == exp_faults);

    size_t run_pages = 0;
    for (size_t i = 0; i < nitems; i++) {
        const item *it = &items[i];
        size_t r = region_of(it->p);
        CHECK(r < nreg);
        CHECK(it->p + overlap_len(it) <= region_end(r));
        size_t first = (it->p - (uintptr_t)rinfo[r].base) / ps;
        size_t last = (it->p + overlap_len(it) - 1 - (uintptr_t)rinfo[r].base) / ps;
        for (size_t pg = first; pg <= last; pg++)
            CHECK(pst[r][pg] == PH_PAGES_USED); /* live memory in a free page */
        if (it->kind == K_RUN)
            run_pages += it->req;
    }
    CHECK(used == run_pages + st_now.small_span_pages + st_now.large_pages);
    CHECK(st_now.peak_pages_used >= used); /* the idle pacer's peak follows every allocation */
}

/* ---- refusals and calls that must change nothing ------------------------------ */

static ph_stats st_before;
static size_t fault_calls_before;

static void nochange_begin(void)
{
    get_stats(&st_before);
    take_walk(&walk_before);
    fault_calls_before = fault_calls;
}

/* A refused call: one fault with `code` (0: either code) and `addr`,
 * nothing else changed. */
static void refusal_end(int code, const void *addr)
{
    ph_stats st;
    get_stats(&st);
    CHECK(st.faults == st_before.faults + 1);
    st.faults--;
    CHECK(memcmp(&st, &st_before, sizeof st) == 0); /* a refused call changed the stats */
    take_walk(&walk_now);
    CHECK(snaps_equal(&walk_now, &walk_before)); /* a refused call changed the page map */
    CHECK(fault_calls == fault_calls_before + 1);
    CHECK(last_fault_addr == addr);
    if (code != 0)
        CHECK(last_fault_code == code);
    else
        CHECK(last_fault_code == PH_FAULT_BAD_POINTER || last_fault_code == PH_FAULT_DOUBLE_FREE);
    exp_faults++;
    check_all();
}

/* A call that must change nothing, not even `faults`.  A failed
 * allocation may empty an empty-span cache (API.md), seen as fewer spans:
 * then only the fixed figures are compared. */
static void nochange_end(int allow_cache)
{
    ph_stats st;
    get_stats(&st);
    CHECK(fault_calls == fault_calls_before);
    if (allow_cache && st.small_spans < st_before.small_spans) {
        CHECK(st.faults == st_before.faults && st.pages_total == st_before.pages_total &&
              st.regions == st_before.regions);
    } else {
        CHECK(memcmp(&st, &st_before, sizeof st) == 0);
        take_walk(&walk_now);
        CHECK(snaps_equal(&walk_now, &walk_before));
    }
    check_all(); /* and the page map (pst) is up to date again */
}

/* ---- expected outcomes ---------------------------------------------------------- */

enum { P_VALID = 0, P_BAD = PH_FAULT_BAD_POINTER, P_DOUBLE = PH_FAULT_DOUBLE_FREE,
       P_EITHER = 100, P_NOP = 101 };

/* What ph_free / ph_realloc / ph_usable_size must do with pointer a. */
static int predict_obj(uintptr_t a)
{
    if (a == 0)
        return P_NOP;
    if (find_obj(a) != NULL)
        return P_VALID;
    for (size_t i = 0; i < nitems; i++)
        if (a >= items[i].p && a < items[i].p + overlap_len(&items[i]))
            return P_BAD; /* inside a live object, or page-API memory */
    size_t r = region_of(a);
    if (r == nreg)
        return P_BAD;
    int s = pst[r][(a - (uintptr_t)rinfo[r].base) / ps];
    if (s != PH_PAGES_USED)
        return P_DOUBLE; /* the page it was in is free */
    return P_EITHER;     /* a span's header, tail or free slot */
}

/* What ph_page_free(a, n) must do. */
static int predict_page_free(uintptr_t a, size_t n)
{
    if (n == 0)
        return P_NOP;
    ref_load();
    int code = ref_free(&ref, a, n);
    if (code != 0)
        return code;
    /* every page is in use: they must all be page-API runs */
    for (uintptr_t pg = a; pg < a + n * ps; pg += ps) {
        size_t i;
        for (i = 0; i < nitems; i++)
            if (items[i].kind == K_RUN && pg >= items[i].p && pg < items[i].p + items[i].len)
                break;
        if (i == nitems)
            return P_BAD; /* object memory */
    }
    return P_VALID;
}

/* Drops [a, a + len) from the live runs, splitting them. */
static void runs_remove(uintptr_t a, size_t len)
{
    uintptr_t e = a + len;
    for (size_t i = 0; i < nitems;) {
        item *it = &items[i];
        uintptr_t ie = it->p + it->len;
        if (it->kind != K_RUN || ie <= a || e <= it->p) {
            i++;
            continue;
        }
        item left = *it, right = *it;
        left.len = a > it->p ? a - it->p : 0;
        right.p = e;
        right.len = ie > e ? ie - e : 0;
        drop_item(i);
        if (left.len) {
            left.req = left.len / ps;
            items[nitems++] = left;
        }
        if (right.len) {
            right.req = right.len / ps;
            CHECK(nitems < MAX_ITEMS);
            items[nitems++] = right;
        }
        /* items[i] is now another item: look at it too */
    }
}

/* ---- operations: pages ---------------------------------------------------- */

/* A page count: mostly small, sometimes around a chunk, a region, or huge. */
static size_t pick_npages(void)
{
    unsigned b = u8();
    switch (b & 7) {
    case 0: case 1: case 2: return 1 + (b >> 3) % 4;
    case 3: return 1 + (b >> 3) % 16;
    case 4: return 1 + (u8() | (b >> 3) << 8) % 140;
    case 5: return 1 + u16() % MAX_PAGES;
    case 6: return (b >> 3) % 2 ? 0 : 31 + (b >> 4) % 4;
    default: return (b >> 3) % 3 == 0 ? SIZE_MAX : (b >> 3) % 3 == 1 ? SIZE_MAX / 2 + 1
                                                                    : 60 + (b >> 3) % 10;
    }
}

static void op_page_alloc(void)
{
    size_t n = pick_npages();
    if (nitems >= MAX_ITEMS - 2)
        return;
    ph_stats sb;
    uintptr_t want = 0;

    ref_load();
    want = ref_alloc(&ref, n);
    memcpy(pst_prev, pst, sizeof pst);
    get_stats(&sb);
    nochange_begin();
    size_t lc = lock_calls;
    hooks_begin(ALLOW_ACQUIRE);
    void *p = ph_page_alloc(&heap, n);
    hooks_end();
    if (n != 0)
        CHECK(lock_calls > lc);
    ph_stats sa;
    get_stats(&sa);
    if (sa.small_spans < sb.small_spans) {
        /* an empty-span cache was emptied first: first fit over the map
         * as it is now, with the new run free again */
        take_walk(&walk_now);
        load_walk(&walk_now);
        if (p != NULL) {
            size_t r = region_of((uintptr_t)p);
            CHECK(r < nreg);
            size_t f = ((uintptr_t)p - (uintptr_t)rinfo[r].base) / ps;
            for (size_t i = 0; i < n; i++)
                pst[r][f + i] = PH_PAGES_FREE;
        }
        ref_load();
        want = ref_alloc(&ref, n);
    }
    CHECK((uintptr_t)p == want); /* first fit */
    if (p == NULL) {
        COUNT(C_PAGE_ALLOC_NULL);
        nochange_end(1);
        return;
    }
    CHECK((uintptr_t)p % ps == 0);
    size_t r = region_of((uintptr_t)p);
    CHECK(r < nreg);
    /* acquire: exactly the released granules the run touches */
    size_t g = rinfo[r].granule;
    for (size_t i = 0; i < nacq_calls; i++)
        CHECK(acq_calls[i].base < (uintptr_t)p + n * ps &&
              (uintptr_t)p < acq_calls[i].base + acq_calls[i].len);
    if (g != 0) { /* no page of this region in a granule the run touches is released */
        uintptr_t lo = align_down((uintptr_t)p, g), hi = align_up((uintptr_t)p + n * ps, g);
        if (lo < (uintptr_t)rinfo[r].base)
            lo = (uintptr_t)rinfo[r].base;
        if (hi > region_end(r))
            hi = region_end(r);
        for (uintptr_t a = lo; a < hi; a += ps)
            CHECK(!relmap[relidx(a)]);
    }
    COUNT(C_PAGE_ALLOC);
    add_item((uintptr_t)p, n * ps, n, K_RUN);
    /* the run's pages were free, now used; nothing else changed (unless
     * an empty-span cache was emptied first: its pages may be reused) */
    check_all();
    if (sa.small_spans < sb.small_spans)
        return;
    size_t f = ((uintptr_t)p - (uintptr_t)rinfo[r].base) / ps;
    for (size_t i = 0; i < n; i++)
        CHECK(pst_prev[r][f + i] != PH_PAGES_USED);
    CHECK(st_now.pages_free == sb.pages_free - n);
}

/* A page pointer that is foreign to the heap: NULL, gaps, edges, metadata,
 * outside the arena. */
static uintptr_t pick_foreign(unsigned b)
{
    size_t s = (b >> 3) % (nslots ? nslots : 1);
    switch (b & 7) {
    case 0: return 0;
    case 1: return (uintptr_t)arena + align_down((b >> 3) * 8u, 8);
    case 2: /* just past a slot: its tail or the gap after it */
        return nslots ? (uintptr_t)slots[s].raw + slots[s].size : (uintptr_t)arena;
    case 3: return nreg ? (uintptr_t)rinfo[s % nreg].meta_base : (uintptr_t)arena;
    case 4: return nreg ? (uintptr_t)rinfo[s % nreg].raw_base : (uintptr_t)arena;
    case 5: return (uintptr_t)outside_static;
    case 6: return (uintptr_t)arena_end_used + (b >> 3) * ps;
    default: return (uintptr_t)0 - ps * (1 + (b >> 3) % 2);
    }
}

/* A page (or any byte) of one region, by index. */
static uintptr_t pick_region_addr(void)
{
    if (nreg == 0)
        return (uintptr_t)arena;
    size_t r = u8() % nreg;
    size_t pg = u16() % rinfo[r].npages;
    return (uintptr_t)rinfo[r].base + pg * ps;
}

static void op_page_free(void)
{
    unsigned how = u8();
    unsigned k = u8();
    item *it = pick_item(K_RUN, k);
    uintptr_t a;
    size_t n;

    switch (how % 11) {
    case 0: case 1: case 2: /* a whole live run */
        if (!it)
            return;
        a = it->p;
        n = it->req;
        break;
    case 3: case 4: { /* part of a live run */
        if (!it)
            return;
        size_t off = u8() % it->req;
        a = it->p + off * ps;
        n = 1 + u8() % (it->req - off);
        break;
    }
    case 5: /* from a live run past its end (into free pages or others) */
        if (!it)
            return;
        a = it->p;
        n = it->req + 1 + u8() % 8;
        break;
    case 6: /* anywhere in a region: free pages mostly (double frees) */
        a = pick_region_addr();
        n = 1 + u8() % 8;
        break;
    case 7: /* misaligned */
        a = (it ? it->p : pick_region_addr()) + 1 + u8() % (ps - 1);
        n = 1 + u8() % 4;
        break;
    case 8: /* foreign */
        a = pick_foreign(k);
        n = 1 + u8() % 4;
        break;
    case 9: { /* object memory: the page of a live object, or a large one */
        item *o = pick_item(K_OBJ, k);
        if (!o)
            return;
        a = align_down(o->p, ps);
        n = (how >> 4) & 1 ? (o->len + ps - 1) / ps : 1;
        break;
    }
    default: /* huge or zero counts, a released page */
        a = it ? it->p : pick_region_addr();
        n = (how >> 4) % 4 == 0 ? 0 : (how >> 4) % 4 == 1 ? SIZE_MAX
            : (how >> 4) % 4 == 2 ? SIZE_MAX / ps + 1 : ((size_t)1 << 31) + 1;
        break;
    }

    int want = predict_page_free(a, n);
    if (want == P_VALID) {
        for (size_t i = 0; i < nitems; i++)
            if (items[i].kind == K_RUN && items[i].p < a + n * ps && a < items[i].p + items[i].len)
                verify_item(&items[i]);
        get_stats(&st_before);
        size_t lc = lock_calls;
        hooks_begin(ALLOW_NONE);
        ph_page_free(&heap, (void *)a, n);
        hooks_end();
        CHECK(lock_calls > lc);
        runs_remove(a, n * ps);
        COUNT(C_PAGE_FREE);
        check_all();
        CHECK(st_now.pages_free == st_before.pages_free + n);
        return;
    }
    nochange_begin();
    hooks_begin(ALLOW_NONE);
    ph_page_free(&heap, (void *)a, n);
    hooks_end();
    if (want == P_NOP) {
        COUNT(C_NOP);
        nochange_end(0);
    } else {
        COUNT(want == P_BAD ? C_PAGE_BAD : C_PAGE_DOUBLE);
        refusal_end(want, (const void *)a);
    }
}

/* ---- operations: objects ---------------------------------------------------- */

static size_t pick_size(void)
{
    unsigned b = u8();
    switch (b & 7) {
    case 0: return (b >> 3) % 4 == 0 ? 0 : (b >> 3) % 24;
    case 1: case 2: return 1 + u8() % 128;
    case 3: return 1 + u16() % 1024;
    case 4: return 1 + u16() % 8192;
    case 5: return 1 + u16() % PH_SMALL_MAX;
    case 6: return PH_SMALL_MAX - 16 + (b >> 3) % 64 + (size_t)(u8() % 4) * ps;
    default: return (b >> 3) % 4 == 0 ? SIZE_MAX : (b >> 3) % 4 == 1 ? SIZE_MAX / 2
                    : (b >> 3) % 4 == 2 ? 1 + u16() % MAX_REGION_BYTES : (size_t)u16() * 16;
    }
}

/* The pages a request takes at most when no span has room (a page run). */
static size_t worst_pages(size_t size)
{
    return size == 0 ? 1 : size / ps + (size % ps != 0);
}

/* An allocation returned p for `size` (align: 0 for the default). */
static void new_object(void *p, size_t size, size_t align)
{
    CHECK((uintptr_t)p % PH_ALIGN == 0);
    if (align)
        CHECK((uintptr_t)p % align == 0);
    size_t us = ph_usable_size(&heap, p);
    CHECK(lock_depth == 0);
    CHECK(us >= size);
    COUNT(C_OBJ_ALLOC);
    add_item((uintptr_t)p, us, size, K_OBJ);
}

/* After an allocation: every acquired granule had a page that the call put
 * in use. */
static void check_acquires(void)
{
    for (size_t i = 0; i < nacq_calls; i++) {
        size_t r = region_of(acq_calls[i].base);
        size_t f = (acq_calls[i].base - (uintptr_t)rinfo[r].base) / ps;
        size_t k, n = acq_calls[i].len / ps;
        for (k = 0; k < n; k++)
            if (pst_prev[r][f + k] != PH_PAGES_USED && pst[r][f + k] == PH_PAGES_USED)
                break;
        CHECK(k < n); /* acquired a granule the allocation did not touch */
    }
}

static void alloc_failed(size_t npages)
{
    COUNT(C_OBJ_FAIL);
    nochange_end(1);
    /* no memory means no run of the pages it needed (with the empty-span
     * cache emptied, if there is one: st_now is the heap after the call) */
    if (npages <= MAX_PAGES)
        CHECK(st_now.largest_free_run < npages);
}

static void op_malloc(void)
{
    size_t size = pick_size();
    if (nitems >= MAX_ITEMS - 2)
        return;
    memcpy(pst_prev, pst, sizeof pst);
    nochange_begin();
    size_t lc = lock_calls;
    hooks_begin(ALLOW_ACQUIRE);
    void *p = ph_malloc(&heap, size);
    hooks_end();
    CHECK(lock_calls > lc);
    if (p == NULL) {
        alloc_failed(worst_pages(size));
        return;
    }
    new_object(p, size, 0);
    check_all();
    check_acquires();
}

static void op_calloc(void)
{
    size_t n = u8() % 4 == 0 ? (size_t)u16() : 1 + u8() % 16;
    size_t size = pick_size();
    if (nitems >= MAX_ITEMS - 2)
        return;
    memcpy(pst_prev, pst, sizeof pst);
    nochange_begin();
    hooks_begin(ALLOW_ACQUIRE);
    void *p = ph_calloc(&heap, n, size);
    hooks_end();
    if (p == NULL) {
        if (size != 0 && n > SIZE_MAX / size)
            nochange_end(0); /* overflow: not even a cache flush */
        else
            alloc_failed(worst_pages(n * size));
        return;
    }
    CHECK(size == 0 || n <= SIZE_MAX / size);
    for (size_t i = 0; i < n * size; i++)
        CHECK(((const uint8_t *)p)[i] == 0); /* calloc did not zero */
    new_object(p, n * size, 0);
    check_all();
    check_acquires();
}

static void op_aligned_alloc(void)
{
    unsigned b = u8();
    size_t align = b % 8 == 0 ? (size_t)(b >> 3) % 25 : (size_t)1 << ((b >> 3) % 14);
    size_t size = pick_size();
    int bad = align == 0 || (align & (align - 1)) != 0;
    if (nitems >= MAX_ITEMS - 2)
        return;
    memcpy(pst_prev, pst, sizeof pst);
    nochange_begin();
    hooks_begin(ALLOW_ACQUIRE);
    void *p = ph_aligned_alloc(&heap, align, size);
    hooks_end();
    if (bad) {
        CHECK(p == NULL);
        nochange_end(0);
        return;
    }
    if (p == NULL) {
        nochange_end(1);
        return;
    }
    new_object(p, size, align);
    check_all();
    check_acquires();
}

/* A pointer for ph_free / realloc / usable_size, good or bad. */
static uintptr_t pick_obj_ptr(void)
{
    unsigned how = u8(), k = u8();
    item *o = pick_item(K_OBJ, k);
    switch (how % 10) {
    case 0: case 1: case 2: case 3: /* a live object */
        return o ? o->p : 0;
    case 4: /* interior */
        if (!o)
            return 0;
        if (o->len <= 1)
            return o->p + 1 + k % 8;
        return o->p + 1 + (how >> 4) * 7 % (o->len - 1);
    case 5: /* freed earlier (perhaps live again) */
        return nfreed ? freed[(nfreed - 1 - k % FREED_RING) % FREED_RING] : 0;
    case 6: { /* page-API memory */
        item *r = pick_item(K_RUN, k);
        return r ? r->p + (how >> 4) % 2 * ps : 0;
    }
    case 7: /* foreign */
        return pick_foreign(k);
    case 8: /* any page start in a region, or just after a live object */
        return how & 0x10 && o ? o->p + o->len : pick_region_addr();
    default: /* any aligned address in a region */
        return pick_region_addr() + (size_t)(u8() % (ps / 16)) * 16;
    }
}

static void obj_refusal(int want, uintptr_t a)
{
    COUNT(want == P_BAD ? C_OBJ_BAD : want == P_DOUBLE ? C_OBJ_DOUBLE : C_OBJ_EITHER);
    refusal_end(want == P_EITHER ? 0 : want, (const void *)a);
}

static void op_free(void)
{
    uintptr_t a = pick_obj_ptr();
    int want = predict_obj(a);
    if (want == P_VALID) {
        item *o = find_obj(a);
        verify_item(o);
        size_t lc = lock_calls;
        hooks_begin(ALLOW_NONE);
        ph_free(&heap, (void *)a);
        hooks_end();
        CHECK(lock_calls > lc);
        drop_item((size_t)(o - items));
        COUNT(C_FREE);
        check_all();
        return;
    }
    nochange_begin();
    hooks_begin(ALLOW_NONE);
    ph_free(&heap, (void *)a);
    hooks_end();
    if (want == P_NOP)
        nochange_end(0);
    else
        obj_refusal(want, a);
}

static void op_usable_size(void)
{
    uintptr_t a = pick_obj_ptr();
    int want = predict_obj(a);
    nochange_begin();
    hooks_begin(ALLOW_NONE);
    size_t us = ph_usable_size(&heap, (void *)a);
    hooks_end();
    if (want == P_VALID) {
        const item *o = find_obj(a);
        CHECK(us == o->len && us >= o->req);
        nochange_end(0);
    } else if (want == P_NOP) {
        CHECK(us == 0);
        nochange_end(0);
    } else {
        CHECK(us == 0);
        obj_refusal(want, a);
    }
}

static void op_realloc(void)
{
    uintptr_t a = pick_obj_ptr();
    size_t size = u8() % 8 == 0 ? 0 : pick_size();
    int want = predict_obj(a);
    if (nitems >= MAX_ITEMS - 2)
        return;
    memcpy(pst_prev, pst, sizeof pst);
    nochange_begin();
    if (want != P_VALID && want != P_NOP) {
        hooks_begin(ALLOW_NONE);
        void *q = ph_realloc(&heap, (void *)a, size);
        hooks_end();
        CHECK(q == NULL);
        obj_refusal(want, a);
        return;
    }
    item old = {0};
    if (want == P_VALID) {
        old = *find_obj(a);
        verify_item(&old);
    }
    hooks_begin(ALLOW_ACQUIRE);
    void *q = ph_realloc(&heap, (void *)a, size);
    hooks_end();
    if (q == NULL) {
        if (want == P_VALID)
            verify_item(&old); /* untouched */
        alloc_failed(worst_pages(size));
        return;
    }
    if (want == P_VALID) {
        size_t keep = old.req < size ? old.req : size;
        verify_bytes((uintptr_t)q, keep, old.tag); /* realloc lost the contents */
        drop_item((size_t)(find_obj(a) - items));
    }
    new_object(q, size, 0);
    check_all();
    check_acquires();
}

/* ---- operations: scavenging ------------------------------------------------- */

/* Releasable granules (every page free, not released), from pst. */
static int releasable(size_t r, uintptr_t g_addr, size_t g)
{
    size_t f = (g_addr - (uintptr_t)rinfo[r].base) / ps;
    for (size_t i = 0; i < g / ps; i++)
        if (pst[r][f + i] != PH_PAGES_FREE)
            return 0;
    return 1;
}

/* The highest releasable granule's address + 1 (0 if none), and the count
 * of eligible pages (granules wholly inside usable pages). */
static uintptr_t top_releasable(size_t *eligible_pages)
{
    uintptr_t top = 0;
    size_t el = 0;
    for (size_t r = 0; r < nreg; r++) {
        size_t g = rinfo[r].granule;
        if (g == 0)
            continue;
        for (uintptr_t a = align_up((uintptr_t)rinfo[r].base, g); a + g <= region_end(r); a += g) {
            el += g / ps;
            if (releasable(r, a, g) && a + 1 > top)
                top = a + 1;
        }
    }
    if (eligible_pages)
        *eligible_pages = el;
    return top;
}

/* The lowest release of this call and its granule. */
static uintptr_t lowest_release(size_t *g)
{
    uintptr_t low = UINTPTR_MAX;
    for (size_t i = 0; i < nrel_calls; i++)
        if (rel_calls[i].base < low) {
            low = rel_calls[i].base;
            *g = rinfo[region_of(low)].granule;
        }
    return low;
}

static void do_scavenge(size_t want)
{
    size_t lc = lock_calls;
    hooks_begin(ALLOW_RELEASE);
    size_t got = ph_scavenge(&heap, want);
    hooks_end();
    CHECK(lock_calls > lc || want == 0);
    CHECK(got == rel_bytes);
    if (want == 0 || no_release)
        CHECK(got == 0);
    check_all();
    uintptr_t top = top_releasable(NULL);
    if (got < want && !no_release)
        CHECK(top == 0); /* stopped with releasable granules left */
    if (nrel_calls) {
        size_t g = 0;
        uintptr_t low = lowest_release(&g);
        CHECK(top == 0 || top - 1 < low); /* not the highest address first */
        if (got >= want)
            CHECK(got - g < want); /* released more than needed */
    }
}

static void op_scavenge(void)
{
    unsigned b = u8();
    size_t want;
    switch (b % 6) {
    case 0: want = 0; break;
    case 1: want = 1; break;
    case 2: want = SIZE_MAX; break;
    case 3: want = ps * (1 + u8() % 8); break;
    default: want = (size_t)u16() * 16; break;
    }
    do_scavenge(want);
}

static void op_idle(void)
{
    unsigned b = u8();
    if (b & 1) {
        ph_idle_policy pol;
        unsigned c = u8();
        pol.budget_bytes = c % 4 == 0 ? 0 : c % 4 == 1 ? ps : c % 4 == 2 ? 4096 : (size_t)u16() * 64;
        pol.headroom_pct = u8() % 4 == 0 ? 0 : u8();
        pol.decay_shift = u8() % 24;
        ph_set_idle_policy(&heap, &pol);
        CHECK(lock_depth == 0);
    }
    size_t n = 1 + (b >> 1) % 4;
    for (size_t i = 0; i < n; i++) {
        hooks_begin(ALLOW_RELEASE);
        size_t got = ph_idle(&heap);
        hooks_end();
        CHECK(got == rel_bytes);
        CHECK(got == 0 || !no_release);
        check_all();
        if (got != 0) {
            COUNT(C_IDLE_RELEASE);
            size_t peak = st_now.peak_pages_used;
            /* the same rounding as pageheap.h documents: peak * pct / 100 */
            size_t pct = heap.idle_.headroom_pct;
            size_t goal = peak + peak / 100u * pct + peak % 100u * pct / 100u;
            CHECK(st_now.pages_total - st_now.pages_released >= goal); /* went below the goal */
            size_t budget = heap.idle_.budget_bytes, g = 0;
            lowest_release(&g);
            if (budget != 0)
                CHECK(got - g < budget); /* passed its budget by more than a granule */
        }
    }
}

/* ---- operations: regions ------------------------------------------------------ */

static int add_slot(size_t s)
{
    slot *sl = &slots[s];
    uintptr_t a = align_up((uintptr_t)sl->raw, ps), e = align_down((uintptr_t)sl->raw + sl->size, ps);
    asan_unpoison(a, e > a ? e : a);
    nochange_begin();
    hooks_begin(ALLOW_NONE);
    int rc = ph_add_region(&heap, sl->raw, sl->size, sl->granule);
    hooks_end();
    if (rc != PH_OK) {
        CHECK(rc < 0);
        COUNT(C_REGION_REFUSED);
        nochange_end(0);
        asan_poison(a, e);
        return rc;
    }
    sl->added = 1;
    COUNT(C_REGION_ADD);
    refresh_regions();
    return rc;
}

static void op_region(void)
{
    unsigned b = u8();
    if (b % 3 == 0) { /* the late region, once */
        for (size_t s = nslots_setup; s < nslots; s++)
            if (!slots[s].added) {
                add_slot(s);
                check_all();
                return;
            }
    }
    /* refused: overlapping an added region, or a bad granule */
    nochange_begin();
    int rc;
    if (b % 3 == 1 && nreg) {
        const ph_region_info *ri = &rinfo[u8() % nreg];
        size_t off = u16() % ri->raw_size;
        size_t len = 1 + u16() % (ri->raw_size + 4 * ps);
        uint8_t *base = (uint8_t *)ri->raw_base + off;
        if (u8() & 1) { /* ending inside it, from below */
            base = (uint8_t *)ri->raw_base - (len - 1 < off ? 0 : len - 1 - off);
            if ((uintptr_t)base < (uintptr_t)arena)
                return;
        }
        rc = ph_add_region(&heap, base, len, 0);
    } else {
        size_t s = nslots ? u8() % nslots : 0;
        size_t g = (b >> 2) % 3 == 0 ? ps / 2 : (b >> 2) % 3 == 1 ? ps * 3 : ps + 8;
        if (nslots == 0 || slots[s].added) {
            rc = ph_add_region(&heap, outside_static, sizeof outside_static, g);
        } else {
            rc = ph_add_region(&heap, slots[s].raw, slots[s].size, g);
        }
    }
    CHECK(lock_depth == 0);
    CHECK(rc < 0);
    COUNT(C_REGION_REFUSED);
    nochange_end(0);
}

/* ---- operations: everything at once --------------------------------------------- */

static void free_everything(void)
{
    COUNT(C_FREE_ALL);
    verify_all_items();
    hooks_begin(ALLOW_NONE);
    while (nitems) {
        item *it = &items[nitems - 1];
        if (it->kind == K_RUN)
            ph_page_free(&heap, (void *)it->p, it->req);
        else
            ph_free(&heap, (void *)it->p);
        nitems--;
    }
    hooks_end();
    do_scavenge(0);
    CHECK(st_now.pages_free == st_now.pages_total); /* a page leaked */
    CHECK(st_now.small_spans == 0 && st_now.small_span_pages == 0);
    CHECK(st_now.large_objects == 0 && st_now.large_pages == 0);
}

static void release_everything(void)
{
    size_t eligible;
    do_scavenge(SIZE_MAX);
    top_releasable(&eligible);
    CHECK(st_now.pages_released == (no_release ? 0 : eligible));
}

__attribute__((no_sanitize("address"))) static void verify_all_released(void)
{
    for (size_t r = 0; r < nreg; r++)
        for (size_t i = 0; i < rinfo[r].npages; i++) {
            uintptr_t pa = (uintptr_t)rinfo[r].base + i * ps;
            if (relmap[relidx(pa)])
                verify_poison(pa, ps);
        }
}

/* ---- set-up ----------------------------------------------------------------- */

static void setup(void)
{
    unsigned b0 = u8(), b1 = u8();
    ps = (size_t)PH_MIN_PAGE_SIZE << (b0 % 7);
    size_t nr = 1 + b1 % 4;
    int late = (b1 >> 2) & 1;
    size_t maxp = MAX_REGION_BYTES / ps < MAX_REGION_PAGES ? MAX_REGION_BYTES / ps : MAX_REGION_PAGES;

    port.ctx = &heap;
    no_release = PH_FUZZ_NULL_RELEASE && (b1 >> 5) & 1;
    port.release = no_release ? NULL : port_release;
    port.acquire = port_acquire;
    port.lock = port_lock;
    port.unlock = port_unlock;
    port.fault = port_fault;
    memset(&heap, 0xCD, sizeof heap); /* ph_init must not assume zeroes */
    CHECK(ph_init(&heap, ps, &port) == PH_OK);

    ASAN_UNPOISON_MEMORY_REGION(arena, ARENA_BYTES);
    memset(relmap, 0, sizeof relmap);
    uint8_t *cur = arena + ps * (1 + (b1 >> 3) % 4);
    nslots = 0;
    for (size_t i = 0; i < nr + (size_t)late; i++) {
        unsigned a = u8(), c = u8(), d = u8();
        size_t np;
        switch (a & 3) {
        case 0: np = 1 + (a >> 2) % 8; break;
        case 1: np = 1 + (a >> 2) % 64; break;
        case 2: np = 60 + (a >> 2) % 80; break;
        default: np = 1 + (a >> 2 | u8() << 6) % maxp; break;
        }
        if (np > maxp)
            np = maxp;
        size_t head = (c & 3) == 0 ? 0 : (size_t)(c & 0x0C) * 8 + (c & 3) * 3; /* misaligned */
        size_t tail = (c & 3) == 3 ? (d & 0x3F) : 0;
        unsigned gk = (c >> 4) & 7;
        size_t g = gk < 2 ? 0 : ps << (gk - 2);
        size_t gap = (d >> 6) == 0 ? 0 : (size_t)((d >> 6) - 1) * ps + ((d >> 3) & 7) * 8;
        size_t size = np * ps + tail;
        if ((size_t)(cur - arena) + head + size + gap + ps > ARENA_BYTES)
            break;
        slots[nslots].raw = cur + head;
        slots[nslots].size = size;
        slots[nslots].granule = g;
        slots[nslots].added = 0;
        nslots++;
        cur += head + size + gap;
    }
    arena_end_used = cur;
    nslots_setup = late && nslots > 1 ? nslots - 1 : nslots;
    /* everything but the added regions' page-aligned parts is off limits */
    asan_poison((uintptr_t)arena, (uintptr_t)arena + ARENA_BYTES);

    nreg = 0;
    nitems = 0;
    next_id = 0;
    nfreed = 0;
    exp_faults = 0;
    fault_calls = 0;
    lock_depth = 0;
    lock_calls = 0;
    check_all();

    size_t order[MAX_SLOTS];
    for (size_t i = 0; i < nslots_setup; i++)
        order[i] = i;
    for (size_t i = nslots_setup; i > 1; i--) {
        size_t j = u8() % i, t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < nslots_setup; i++) {
        add_slot(order[i]);
        check_all();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_data = data;
    in_len = size;
    in_pos = 0;
    op_index = 0;
    op_code = -1;
    setup();

    for (op_index = 1; in_pos < in_len && op_index <= MAX_OPS; op_index++) {
        unsigned op = u8();
        op_code = (int)(op % 16);
        switch (op_code) {
        case 0: case 1: case 2: op_page_alloc(); break;
        case 3: case 4: op_page_free(); break;
        case 5: case 6: op_malloc(); break;
        case 7: op_calloc(); break;
        case 8: op_realloc(); break;
        case 9: op_aligned_alloc(); break;
        case 10: case 11: op_free(); break;
        case 12: op_usable_size(); break;
        case 13: op_scavenge(); break;
        case 14: op_idle(); break;
        default:
            switch ((op >> 4) % 4) {
            case 0: op_region(); break;
            case 1: free_everything(); break;
            default: verify_all_items(); verify_all_released(); break;
            }
            break;
        }
        CHECK(lock_depth == 0);
        if (op_index % VERIFY_EVERY == 0) {
            verify_all_items();
            verify_all_released();
        }
    }
    op_code = -2;
    verify_all_released();
    free_everything();
    release_everything();
    verify_all_released();
    if (ref_live) {
        ref_destroy(&ref);
        ref_live = 0;
    }
    if (getenv("FUZZ_HEAP_STATS") != NULL) {
        fprintf(stderr, "fuzz_heap: page size %zu, %zu regions, %zu ops:", ps, nreg, op_index - 1);
        for (int i = 0; i < C_N; i++)
            fprintf(stderr, " %s=%zu", counter_names[i], counters[i]);
        fprintf(stderr, "\n");
    }
    memset(counters, 0, sizeof counters);
    return 0;
}
