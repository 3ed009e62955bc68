/* SPDX-License-Identifier: MIT */
/*
 * ph_internal.h: the data structures behind pageheap's page allocator.
 *
 * Terms (as in Go's mpagealloc.go):
 *   page    the allocation unit, 2^page_shift bytes (64 B .. 64 KiB).
 *   chunk   PH_CHUNK_PAGES pages whose state is one bitmap word.  A chunk is
 *           one machine word so that every bitmap operation is a handful of
 *           single-word instructions, also on a Cortex-M.
 *   region  one contiguous piece of RAM handed over by ph_add_region.  Its
 *           metadata (struct ph_region, the bitmaps, the run index) sits
 *           in whole pages at the region's low end; page 0 of the region's
 *           bitmap is the first page after them.
 *
 * The run index of a region answers first fit in a few word operations.
 * The first fit for n pages is the lowest page that begins a free run of
 * at least n pages (a run begins at a free page whose page below is in use,
 * or at the region's first page).  Each chunk c has a byte, its value: the
 * longest free run that begins in it, its top run counted on into the next
 * chunk's bottom run, capped at PH_RUN_CAP = W pages.  Level 0 of the index
 * is these bytes; a byte of level k + 1 is the largest of the PH_LANES
 * bytes of one word of level k (a word of a level is a machine word, 8
 * lanes on 64-bit, 4 on 32-bit, or with SSE2 a 16-byte vector); the top
 * level is the first of at most PH_TOP_WORDS words.  Values fit in 7 bits,
 * so a word compares all its lanes with n at once (word_ge: a subtraction
 * and a mask, or a vector compare), and the search reads the top words in
 * order to the first lane whose value is at least n, then one word per
 * level below, to the first chunk whose value is n or more; the run is in
 * its bitmap word, or is its top run going on above it.  An update changes
 * the bitmap words of the run, the values of its first and last chunks,
 * of the chunk above it and of the chunk below when the free run below
 * reaches into it, and carries each changed value up to the first level
 * where the maximum stays.
 * Requests over the cap (more than W pages) visit the chunks whose value
 * is the cap in order (next_capped, O(levels) each) and measure each run.
 * inner[c] (the longest run touching neither end of chunk c's word) lets a
 * chunk whose word did not change get its value from a few reads.
 *
 * Runs never join across regions: each region has its own index, and an
 * allocation tries them in address order, so no run spans two regions.
 */
#ifndef PH_INTERNAL_H
#define PH_INTERNAL_H

#include "pageheap.h"
#include "ph_bits.h"

#define PH_HEAP_MAGIC 0x70686870u /* "phhp" */
#define PH_CHUNK_PAGES PH_WORD_BITS
#define PH_CHUNK_LOG2 PH_WORD_LOG2

/* Largest region, in pages (PH_MAX_LEVELS below is sized for it). */
#define PH_REGION_MAX_PAGES ((size_t)1 << 31)

/* The run index uses SSE2 byte vectors where there are (every x86-64; 0
 * forces machine words): a word of its levels is then a 16-byte vector,
 * compared with n and folded to its largest lane by a few vector
 * instructions (ph_tree.h). */
#if !defined(PH_LANES_SIMD)
#if PH_WORD_BITS == 64 && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define PH_LANES_SIMD 1
#else
#define PH_LANES_SIMD 0
#endif
#endif

/* The run index (above): byte lanes per word of a level (a machine word,
 * or a vector), the cap of a chunk's value, and the most levels a region
 * can need (2^26 chunks of 32 pages in 4-lane words: 13 levels; 2^25 of 64
 * in 8-lane words: 9). */
#if PH_LANES_SIMD
#define PH_LANES 16u
#define PH_LANE_LOG2 4
#else
#define PH_LANES ((unsigned)sizeof(ph_word_t))
#define PH_LANE_LOG2 (PH_WORD_LOG2 - 3)
#endif
#define PH_RUN_CAP ((unsigned)PH_CHUNK_PAGES)
#define PH_MAX_LEVELS 13
/* The top level of the run index is at most this many words, scanned in
 * order by a search (one level less to carry every update up): 64 lanes
 * of 64-bit words, 32 of 32-bit ones, 256 of vectors. */
#if PH_LANES_SIMD
#define PH_TOP_WORDS 16u
#else
#define PH_TOP_WORDS 8u
#endif

/* The byte of the word after a region's top level: every lane at 127, at
 * least any request the index serves, so the first-fit scan of the top
 * level needs no bound test (ph_tree.h). */
#define PH_TOP_STOP 0x7Fu

struct ph_region {
    uintptr_t base;        /* address of bitmap page 0 (after metadata)   */
    uintptr_t limit;       /* base + npages pages                         */
    uintptr_t raw_base;    /* the memory handed over: [raw_base, raw_end) */
    uintptr_t raw_end;
    size_t npages;         /* usable pages                                */
    size_t nchunks;        /* bitmap words: ceil(npages / PH_CHUNK_PAGES) */
    size_t meta_pages;     /* pages below base taken by metadata          */
    size_t granule;        /* release unit in bytes, 0 = never released   */
    /* Granules that may be released: those wholly inside the usable pages
     * (so never one holding metadata).  Granule i covers pages
     * [gran_first + (i << gran_shift), ... + (1 << gran_shift)). */
    size_t gran_first;     /* page index of the first whole granule        */
    size_t ngran;          /* whole granules; 0 when granule is 0          */
    ph_word_t *scav;       /* scavenge index, one bit per chunk: the chunk
                              may overlap a releasable granule.  Every
                              releasable granule overlaps a chunk whose
                              bit is set.                                  */
    size_t scav_top;       /* bits of chunks >= scav_top are clear: the
                              scavenger's downward cursor                  */
    uint32_t gran_shift;   /* log2(pages per granule)                      */
    uint32_t nlevels;      /* levels of the run index                     */
    uint32_t top_words;    /* words of its top level, 1..PH_TOP_WORDS     */
    ph_word_t *alloc;      /* nchunks words, 1 = in use                   */
    ph_word_t *released;   /* nchunks words, 1 = free and released        */
    uint8_t *inner;        /* nchunks bytes: longest run of the chunk's
                              word touching neither end                    */
    uint8_t *lv[PH_MAX_LEVELS]; /* the run index, level k word-aligned,
                              lv[0] one value per chunk, zero-padded to
                              whole words; the top level is followed by
                              a word of PH_TOP_STOP bytes, where its scan
                              ends                                         */
    /* The object layer's view (ph_object.c). */
    ph_word_t *obj;        /* nchunks words, 1 = page held by an object
                              (fit arena or large run): ph_page_free
                              refuses it                                   */
    uint8_t *pmap;         /* npages bytes, PH_PM_* per page               */
    uint8_t *fanc;         /* one anchor byte per block of 2^anc_shift
                              bytes (PH_ANC_*); the page map itself when a
                              block is a page                              */
};

/* Page map codes: what a page holds for the object layer.  A large object
 * is one PH_PM_LARGE page followed by PH_PM_LARGE_MORE pages; pages of
 * ph_page_alloc and free pages are PH_PM_NONE.  The code of a page of a
 * fit arena is PH_ANC_NONE or more: when anchor blocks are pages (pages of
 * at most PH_ANC_MAX_BLOCK bytes) it is its anchor byte, else PH_PM_FIT
 * and the anchors live in their own array. */
enum {
    PH_PM_NONE = 0,
    PH_PM_LARGE = 0x20,
    PH_PM_LARGE_MORE = 0x21,
    PH_PM_FIT = 0x80
};
#define PH_PM_IS_FIT(code) ((code) >= PH_ANC_NONE)

/* Anchor bytes.  The object layer's chunks tile each fit arena; the anchor
 * of a block (a page, or 128 * PH_ALIGN bytes of a larger page) names the
 * first chunk that starts in it (PH_ANC_FIT plus its user address, in
 * PH_ALIGN units from the block's start: 0x80 .. 0xFF), or is PH_ANC_NONE
 * (0x7F) when a chunk that started earlier covers the whole block.  A
 * free walks from the anchor of its pointer's block over the chunk
 * headers to the pointer: only a pointer the walk lands on exactly is a
 * chunk, so a bad pointer is refused without a bitmap of object starts.
 * Bytes outside fit arenas are below PH_ANC_NONE (the page map's other
 * codes, or 0). */
#define PH_ANC_FIT 0x80u
#define PH_ANC_NONE 0x7Fu
#define PH_ANC_MAX_BLOCK (128u * PH_ALIGN)

/* Chunks.  A chunk of S bytes (a multiple of PH_ALIGN, at least
 * PH_FIT_MIN) whose user address is u spans [u - PH_FIT_HDR, u - PH_FIT_HDR
 * + S); its header word at u - PH_FIT_HDR holds S and the flags; the next
 * chunk's user address is u + S.  A free chunk holds its list links at u
 * and its size again in its last word (the footer, at u + S - 2 *
 * PH_FIT_HDR), so the chunk after it finds it.  An arena (a run of pages)
 * starts with PH_ALIGN - PH_FIT_HDR bytes of padding, its first chunk at
 * user address start + PH_ALIGN (flag FIRST), and ends with a fence: a
 * header of size 0, in use, in its last PH_FIT_HDR bytes. */
#define PH_FIT_HDR sizeof(size_t)
#define PH_FIT_MIN (2u * PH_ALIGN)
#define PH_FIT_CINUSE ((size_t)1) /* this chunk is in use          */
#define PH_FIT_PINUSE ((size_t)2) /* the chunk before it is in use */
#define PH_FIT_FIRST ((size_t)4)  /* the first chunk of its arena  */
#define PH_FIT_FLAGS ((size_t)7)
/* Largest chunk size of an exact list. */
#define PH_FIT_EXACT_MAX (PH_FIT_MIN + (PH_FIT_EXACT - 1u) * PH_ALIGN)

struct ph_fit_chunk {
    struct ph_fit_chunk *next, *prev; /* prev NULL: the list's head */
};

/* ---- chunk (one word) operations: ph_chunk.c ---- */

/* Index of the first run of n free (0) bits in used, PH_WORD_BITS if none.
 * 1 <= n <= PH_WORD_BITS. */
unsigned ph_word_first_run(ph_word_t used, unsigned n);

/* Length of the longest run of free bits in used. */
unsigned ph_word_max_run(ph_word_t used);

/* ph_word_max_run's slow path: longest run of set bits of x (neither 0 nor
 * all ones) by doubling then halving, O(log W) whatever the word. */
unsigned ph_word_max_run_doubling(ph_word_t x);

/* The bodies of ph_word_first_run and ph_word_max_run, inlined into the
 * page calls (ph_tree.h).  See ph_chunk.c for how they work. */
PH_HOT_INLINE unsigned ph_word_first_run_inline(ph_word_t used, unsigned n)
{
    ph_word_t x = ~used; /* starts of runs of >= 1 free page */
    unsigned have = 1;

    while (have < n && x != 0) {
        unsigned step = have < n - have ? have : n - have;
        x &= x >> step;
        have += step;
    }
    return x != 0 ? ph_ctz(x) : PH_WORD_BITS;
}

/* Runs visited one by one before switching to doubling: a chunk usually
 * holds a few holes, and visiting each costs a handful of instructions. */
#define PH_MAX_RUN_VISITS 4

PH_HOT_INLINE unsigned ph_word_max_run_inline(ph_word_t used)
{
    ph_word_t x = ~used;
    unsigned best = 0, visits;

    if (x == PH_WORD_ONES)
        return PH_WORD_BITS;
    for (visits = 0; x != 0; visits++) {
        unsigned start, len;
        ph_word_t from_start;
        if (visits == PH_MAX_RUN_VISITS) {
            len = ph_word_max_run_doubling(x);
            return len > best ? len : best;
        }
        start = ph_ctz(x);
        from_start = ~(x >> start); /* 0 bits: the run, then the rest */
        len = from_start != 0 ? ph_ctz(from_start) : PH_WORD_BITS - start;
        if (len > best)
            best = len;
        if (start + len >= PH_WORD_BITS)
            break;
        x &= ~ph_mask_below(start + len);
    }
    return best;
}

/* ---- heap helpers shared by the public entry points ---- */

/* Every entry point's checks: inlined at -Os too (a call and a frame
 * would cost more than their few instructions). */
#if defined(__GNUC__) || defined(__clang__)
#define PH_ENTRY_INLINE static inline __attribute__((always_inline))
#else
#define PH_ENTRY_INLINE static inline
#endif

PH_ENTRY_INLINE bool ph_heap_ok(const ph_heap *h)
{
    return h != NULL && h->magic_ == PH_HEAP_MAGIC;
}

PH_ENTRY_INLINE void ph_lock(const ph_heap *h)
{
    if (h->port_ != NULL && h->port_->lock != NULL)
        h->port_->lock(h->port_->ctx);
}

PH_ENTRY_INLINE void ph_unlock(const ph_heap *h)
{
    if (h->port_ != NULL && h->port_->unlock != NULL)
        h->port_->unlock(h->port_->ctx);
}

static inline uintptr_t ph_page_addr(const ph_heap *h, const struct ph_region *r,
                                     size_t page)
{
    return r->base + ((uintptr_t)page << h->page_shift_);
}

/* ---- bit ranges over a region's bitmaps: ph_region.c ---- */

/* True when every bit of pages [first, first + n) of words is clear. */
bool ph_bits_clear(const ph_word_t *words, size_t first, size_t n);

/* ph_bits_clear with a range inside one or two words (every free of up to
 * W + 1 pages) as one or two masked tests (two words: not at -Os). */
static inline bool ph_bits_none(const ph_word_t *words, size_t first, size_t n)
{
    unsigned lo = (unsigned)(first & (PH_CHUNK_PAGES - 1));
    const ph_word_t *w = words + (first >> PH_CHUNK_LOG2);
    if (n <= PH_CHUNK_PAGES - lo)
        return (w[0] & ph_mask_range(lo, lo + (unsigned)n)) == 0;
#if !defined(__OPTIMIZE_SIZE__) /* -Os: the loop alone */
    if (n <= 2 * (size_t)PH_CHUNK_PAGES - lo)
        return (w[0] & ~ph_mask_below(lo)) == 0 &&
               (w[1] & ph_mask_below(lo + (unsigned)n - PH_CHUNK_PAGES)) == 0;
#endif
    return ph_bits_clear(words, first, n);
}

/* The same over any number of words (ph_bits_set's slow path). */
bool ph_bits_set_range(const ph_word_t *words, size_t first, size_t n);

/* True when every bit of pages [first, first + n) of words is set; a range
 * inside one or two words (every free of up to W + 1 pages) is one or two
 * masked compares (two words: not at -Os). */
static inline bool ph_bits_set(const ph_word_t *words, size_t first, size_t n)
{
    unsigned lo = (unsigned)(first & (PH_CHUNK_PAGES - 1));
    const ph_word_t *w = words + (first >> PH_CHUNK_LOG2);
    ph_word_t m;
    if (n <= PH_CHUNK_PAGES - lo) {
        m = ph_mask_range(lo, lo + (unsigned)n);
        return (w[0] & m) == m;
    }
#if !defined(__OPTIMIZE_SIZE__) /* -Os: the loop alone */
    if (n <= 2 * (size_t)PH_CHUNK_PAGES - lo) {
        m = ph_mask_below(lo + (unsigned)n - PH_CHUNK_PAGES);
        return (w[0] | ph_mask_below(lo)) == PH_WORD_ONES && (w[1] & m) == m;
    }
#endif
    return ph_bits_set_range(words, first, n);
}

/* Sets (value) or clears the bits of pages [first, first + n). */
void ph_bits_fill(ph_word_t *words, size_t first, size_t n, bool value);

/* ---- scavenger: ph_scavenge.c ---- */

/* Sets up r's granule fields (granule, base and npages already set). */
void ph_scav_init_region(struct ph_region *r, uint32_t page_shift);

/* Acquires every released granule that pages [first, first + n) of r
 * touch (called before they are handed out). */
void ph_scav_acquire(ph_heap *h, struct ph_region *r, size_t first, size_t n);

/* Pages [first, first + n) of r were freed: their chunks may now overlap
 * releasable granules.  O(n / W^2 + 1). */
static inline void ph_scav_note_free(struct ph_region *r, size_t first, size_t n)
{
    size_t c0 = first >> PH_CHUNK_LOG2, c1 = (first + n - 1) >> PH_CHUNK_LOG2;
    if (r->ngran == 0)
        return;
    if (c0 == c1)
        r->scav[c0 >> PH_CHUNK_LOG2] |= (ph_word_t)1 << (c0 & (PH_CHUNK_PAGES - 1));
    else
        ph_bits_fill(r->scav, c0, c1 - c0 + 1, true);
    if (c1 + 1 > r->scav_top)
        r->scav_top = c1 + 1;
}

/* ---- region layout: ph_region.c ----
 * ph_region_mark, ph_region_free_checked and ph_region_find are defined
 * out of line only at -Os; optimising for speed, ph_page.c inlines their
 * bodies from ph_tree.h. */

/* Bytes of metadata for a region of npages usable pages of 2^page_shift
 * bytes. */
size_t ph_region_meta_bytes(size_t npages, uint32_t page_shift);

/* log2 of the anchor block for pages of 2^page_shift bytes. */
static inline uint32_t ph_anc_shift(uint32_t page_shift)
{
    uint32_t max = PH_ALIGN == 8 ? 10u : 11u; /* log2(PH_ANC_MAX_BLOCK) */
    return page_shift < max ? page_shift : max;
}

/* Levels of the run index of a region of nchunks chunks; sizes[k] (when
 * not NULL) gets the words of level k. */
uint32_t ph_region_levels(size_t nchunks, size_t *sizes);

/* Longest free run of r, exactly: the top of its run index when under the
 * cap, else every capped run measured.  O(chunks) at worst. */
size_t ph_region_longest(const struct ph_region *r);

/* Value of chunk c in the run index, computed from the bitmap (ph_check). */
uint32_t ph_region_value(const struct ph_region *r, size_t c);

/* inner[c] of a bitmap word, computed from the word (ph_check). */
uint32_t ph_region_inner(ph_word_t used);

/* Rebuilds r's run index from its bitmap.  O(chunks). */
void ph_region_rebuild(struct ph_region *r);

/* Marks pages [first, first + npages) of r in use or free (the caller has
 * checked the range) and brings the run index up to date; begins (with
 * in_use): page first begins a free run, as a first fit's answer does.
 * O(levels + chunks covered). */
void ph_region_mark(struct ph_region *r, size_t first, size_t npages, bool in_use, bool begins);

/* Frees pages [first, first + npages) of r (inside r, checked by the
 * caller) when every one is in use and none is object memory, as
 * ph_region_mark(r, first, npages, false); returns 0, or the fault
 * (PH_FAULT_DOUBLE_FREE, PH_FAULT_BAD_POINTER) with nothing changed.
 * O(levels + chunks covered). */
int ph_region_free_checked(struct ph_region *r, size_t first, size_t npages);

/* First page index of a run of n free pages in r, or SIZE_MAX.
 * O(levels) for n <= PH_RUN_CAP, O(chunks) above. */
size_t ph_region_find(const struct ph_region *r, size_t n);

/* ---- page runs for the public API and the object layer: ph_page.c ----
 * Neither takes the lock: the caller holds it. */

/* Takes the first run of n free pages (acquiring released granules, moving
 * the hint, counting); its region index in *ri and page index in *first.
 * Returns the address, or 0 when there is no such run, even with the
 * object layer's empty-span cache given back (nothing else changed). */
uintptr_t ph_pages_take(ph_heap *h, size_t n, uint32_t *ri, size_t *first);

/* The first-fit search of ph_pages_take alone: page index of the first run
 * of n free pages (its region in *ri), SIZE_MAX when there is none, even
 * with the empty-span cache given back. */
size_t ph_pages_find(ph_heap *h, size_t n, uint32_t *ri);

/* Takes pages [first, first + n) of region ri, which are free.  lowest:
 * the run is ph_pages_find(h, n)'s answer for this same n (the first fit),
 * so the search hint may move past it and page first begins a free run. */
uintptr_t ph_pages_take_at(ph_heap *h, uint32_t ri, size_t first, size_t n, bool lowest);

/* Frees pages [first, first + n) of region ri (in use, checked by the
 * caller). */
void ph_pages_give(ph_heap *h, uint32_t ri, size_t first, size_t n);

/* Index of the region whose usable pages hold address a, or nregions_. */
static inline uint32_t ph_region_of(const ph_heap *h, uintptr_t a)
{
    uint32_t i;
    for (i = 0; i < h->nregions_; i++)
        if (a - h->regions_[i]->base < h->regions_[i]->limit - h->regions_[i]->base)
            return i;
    return h->nregions_;
}

/* ---- objects: ph_object.c ---- */

/* Sets up h's object layer (from ph_init). */
void ph_object_init(ph_heap *h);

/* Gives the cached empty arena back to the page allocator (the lock is
 * held; the cache holds one). */
void ph_object_cache_give_all(ph_heap *h);

/* Gives the whole pages of free chunks back to the page allocator (the
 * lock is held; from ph_scavenge, all: every free chunk, and ph_idle: only
 * chunks of at least an arena). */
void ph_object_trim_lists(ph_heap *h, bool all);

/* ph_object_trim_lists when there is an arena: a heap of pages only pays
 * one test per ph_scavenge / ph_idle. */
static inline void ph_object_trim(ph_heap *h, bool all)
{
    if (h->small_spans_ != 0)
        ph_object_trim_lists(h, all);
}

/* The object layer's invariants over every region (from ph_check). */
int ph_object_check(const ph_heap *h);

/* ph_object_cache_give_all when the cache holds a span: an empty cache
 * costs its callers (every ph_scavenge and ph_idle) one test, no call. */
static inline void ph_object_cache_flush(ph_heap *h)
{
    if (h->cached_spans_ != 0)
        ph_object_cache_give_all(h);
}

#endif /* PH_INTERNAL_H */
