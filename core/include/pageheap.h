/* SPDX-License-Identifier: MIT */
/*
 * pageheap: a freestanding page allocator (and, later, malloc family) for
 * bare-metal Cortex-M / Cortex-A boards and for the host.
 *
 * The page allocator follows the design the Go runtime adopted in Go 1.14:
 * one allocation bitmap word per chunk of pages and address-ordered first
 * fit, found through a run index over the chunks (a byte per chunk: the
 * longest free run that begins in it, capped at W; bytes above it holding
 * the largest of each word below), with a search hint for the one-page
 * case.
 *
 * This header is the whole public contract (see shared/API.md).  It includes
 * only the compiler's freestanding headers.
 *
 * Bounds (W = pages per chunk = bits of the machine word: 32 on Arm, 64 on
 * x86-64; C = chunks of a region; K = levels of its run index, the least
 * with at most T words at the top, each level below L times wider, where a
 * word is an SSE2 vector of L = 16 byte lanes on x86-64 (T = 16) and a
 * machine word of L = W / 8 lanes elsewhere (T = 8): on x86-64 K = 1 up to
 * 256 chunks (16 Ki pages), 2 up to 4096; on Arm 1 up to 32 chunks, 2 up
 * to 128, 3 up to 512; k = chunks the run touches, n / W + 2 at most; R =
 * regions, at most PH_MAX_REGIONS):
 *   ph_page_alloc(h, n <= W): O(R + K + log W + k): per region at most T
 *                        top words, one word per level below, at most 4
 *                        runs of the chunk found then a doubling search;
 *                        then the k bitmap words, a longest inner run
 *                        rescanned (O(log W)), at most 4 chunk values, each
 *                        carried up at most K - 1 levels.
 *   ph_page_alloc(h, n > W): O(R + C + k): the runs that may be that long
 *                        (one per chunk at most) are measured in order.
 *   ph_page_free(h, p, n): O(R + K + log W + k): region lookup, the entry
 *                        checks on the k words the free then clears, the
 *                        same update.
 *   None depends on how fragmented the heap is but the search over W.
 *   Worst case per call in instructions, one region, x86-64 -O2 (W = 64),
 *   measured by bench/run-page-bench.sh on heaps laid out to make the
 *   search and the update longest (and on the whole heap in one call, and
 *   on a run over W past a candidate in every chunk):
 *     ph_page_alloc(n <= W)  <= 500 + 100 K
 *     ph_page_alloc(n > W)   <= 500 + 100 K + 90 C + 20 n / W
 *     ph_page_free           <= 470 + 40 K + 35 n / W
 *   e.g. 16 Ki pages (K = 1): alloc <= 600 (measured 525 constructed, 499
 *   on the page trace), free <= 510 (426 constructed, 446 on the trace);
 *   256 Ki pages (K = 2): alloc <= 700 (560, 509), free <= 550 (445, 413);
 *   over W pages: 16 Ki pages <= 23,660 (21,777), 256 Ki <= 369,090
 *   (346,654).
 *   Each region below the one that serves adds about 10.  On a Cortex-M
 *   the terms are the same with other constants: Cortex-M3, 1024 pages of
 *   256 B, runs of up to 16 pages (bench/target), page alloc at most 390,
 *   free at most 349 measured (counted to within 40).
 */
#ifndef PAGEHEAP_H
#define PAGEHEAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ----------------------------------------------------------- */

/* The release this header belongs to.  It equals project(VERSION) in the
 * top-level CMakeLists.txt (configuring fails when they differ) and the
 * version find_package(pageheap) reports.  PH_VERSION orders releases as
 * one number, major * 10000 + minor * 100 + patch (0.1.0 is 100, 1.2.3 is
 * 10203), for "#if PH_VERSION >= ..."; minor and patch stay below 100.
 * PH_VERSION_STRING is "major.minor.patch", spelled from the three. */
#define PH_VERSION_MAJOR 0
#define PH_VERSION_MINOR 1
#define PH_VERSION_PATCH 0
#define PH_VERSION (PH_VERSION_MAJOR * 10000 + PH_VERSION_MINOR * 100 + PH_VERSION_PATCH)
#define PH_VERSION_STR_(x) #x
#define PH_VERSION_XSTR_(x) PH_VERSION_STR_(x)
#define PH_VERSION_STRING PH_VERSION_XSTR_(PH_VERSION_MAJOR) "." \
    PH_VERSION_XSTR_(PH_VERSION_MINOR) "." PH_VERSION_XSTR_(PH_VERSION_PATCH)

/* ---- build parameters ------------------------------------------------ */

/* Regions one heap can hold.  The API promises at least 8. */
#ifndef PH_MAX_REGIONS
#define PH_MAX_REGIONS 16
#endif

/* Page size used when ph_init is given 0: small pages on 32-bit boards
 * (fine-grained arenas and page runs for small RAM), 4 KiB on 64-bit hosts. */
#ifndef PH_DEFAULT_PAGE_SIZE
#if UINTPTR_MAX > 0xFFFFFFFFu
#define PH_DEFAULT_PAGE_SIZE 4096u
#else
#define PH_DEFAULT_PAGE_SIZE 256u
#endif
#endif

/* Largest request served from a fit arena; larger ones get their own page
 * run.  A power of two from 256 to 32768. */
#ifndef PH_SMALL_MAX
#if UINTPTR_MAX > 0xFFFFFFFFu
#define PH_SMALL_MAX 32768u
#else
#define PH_SMALL_MAX 2048u
#endif
#endif

/* Object alignment: at least 2 * sizeof(void *) and 8 bytes (API.md).
 * Chunk sizes are multiples of it. */
#define PH_ALIGN (2 * sizeof(void *) > 8 ? 2 * sizeof(void *) : 8)

/* Bytes of a new fit arena (a run of pages the object layer carves into
 * chunks): at most this, at most 1/16 of the heap, at least what the
 * request needs, in whole pages.  Small arenas strand little memory; each
 * new one is a page allocation. */
#ifndef PH_FIT_ARENA
#define PH_FIT_ARENA 4096u
#endif

/* The empty-arena cache holds at most 1 / 2^PH_CACHE_SHIFT of the heap's
 * pages (see the objects section). */
#ifndef PH_CACHE_SHIFT
#define PH_CACHE_SHIFT 4u
#endif

#define PH_MIN_PAGE_SIZE 64u
#define PH_MAX_PAGE_SIZE 65536u

/* ---- return codes ------------------------------------------------------ */

enum {
    PH_OK = 0,
    PH_EINVAL = -1,   /* bad argument: page size, granule, NULL heap, ... */
    PH_ENOMEM = -2,   /* region too small to hold one usable page         */
    PH_EOVERLAP = -3, /* region overlaps one already added                */
    PH_ELIMIT = -4    /* PH_MAX_REGIONS regions already added             */
};

/* ph_check results: the first invariant found broken. */
enum {
    PH_CHECK_HEAP = -100,      /* heap header not initialised / corrupt     */
    PH_CHECK_REGIONS = -101,   /* region table unsorted, overlapping        */
    PH_CHECK_BITMAP = -102,    /* padding bits past the region's end clear  */
    PH_CHECK_LEAF = -103,      /* a chunk's run-index value disagrees with
                                  its bitmap words                          */
    PH_CHECK_TREE = -104,      /* a run-index byte disagrees with the word
                                  below it                                  */
    PH_CHECK_COUNTS = -105,    /* pages_free disagrees with the bitmaps     */
    PH_CHECK_HINT = -106,      /* a free page lies below the search hint    */
    PH_CHECK_RELEASED = -107,  /* release state inconsistent                */
    PH_CHECK_OBJECTS = -108    /* page map, anchors, chunks or free lists broken */
};

/* Fault codes passed to port->fault. */
enum {
    PH_FAULT_BAD_POINTER = 1, /* not page aligned, in no region, past its end */
    PH_FAULT_DOUBLE_FREE = 2  /* the range holds a page that is already free;
                                 the object, or its page, is already free    */
};

/* ---- types ------------------------------------------------------------- */

typedef struct ph_port {
    void *ctx;                                            /* passed back to every hook */
    void (*release)(void *ctx, void *base, size_t len);   /* may lose the contents  */
    void (*acquire)(void *ctx, void *base, size_t len);   /* usable again on return */
    void (*lock)(void *ctx);                              /* e.g. mask interrupts   */
    void (*unlock)(void *ctx);
    void (*fault)(void *ctx, int code, const void *addr); /* bad input was refused  */
} ph_port;                                                /* every hook may be NULL */

typedef struct ph_stats {
    size_t page_size;        /* bytes per page                                   */
    size_t regions;          /* regions added                                    */
    size_t pages_total;      /* usable pages, metadata excluded                  */
    size_t pages_free;       /* free pages, released ones included               */
    size_t pages_released;   /* free pages whose granule is released right now   */
    size_t largest_free_run; /* longest run of free pages inside one region      */
    size_t metadata_bytes;   /* bytes of the regions taken by the allocator      */
    size_t faults;           /* bad inputs refused since ph_init                 */
    /* Extension: what a board designer needs to see of the scavenger. */
    size_t granules_released; /* granules released right now                     */
    size_t release_calls;     /* calls of port->release since ph_init            */
    size_t acquire_calls;     /* calls of port->acquire since ph_init            */
    size_t bytes_released;    /* bytes handed to release since ph_init           */
    size_t bytes_acquired;    /* bytes handed to acquire since ph_init           */
    size_t peak_pages_used;   /* the idle pacer's recent peak of pages in use    */
    /* Extension: the object layer (ph_malloc and the rest). */
    size_t small_spans;       /* fit arenas carved into objects (the name stayed) */
    size_t small_span_pages;  /* pages those arenas hold                         */
    size_t large_objects;     /* objects with their own page run                 */
    size_t large_pages;       /* pages those runs hold                           */
    size_t cached_spans;      /* empty arenas kept for reuse (0 or 1; counted in
                                 small_spans too)                                */
    size_t cached_bytes;      /* bytes that arena holds                          */
} ph_stats;

/* Pacing of ph_idle (see there).  Defaults: PH_IDLE_DEFAULTS. */
typedef struct ph_idle_policy {
    size_t budget_bytes;   /* a ph_idle call stops once it released this many
                              bytes (its last granule may pass it); 0 = no
                              limit                                            */
    uint32_t headroom_pct; /* powered memory kept above the recent peak of
                              memory in use, in percent of that peak           */
    uint32_t decay_shift;  /* per ph_idle call the recent peak falls by
                              (peak - in use) >> decay_shift, rounded up;
                              0 = no memory                                    */
} ph_idle_policy;

struct ph_region; /* lives in the metadata pages at the low end of a region */
struct ph_fit_chunk; /* a free chunk of the object layer                    */

/* Free lists of the object layer: PH_FIT_EXACT lists of one chunk size
 * each (PH_ALIGN apart, from 2 * PH_ALIGN), then 4 lists per doubling of
 * the chunk size from 512 (1024 on 64-bit cores) up to 128 KiB, the last
 * one holding every larger chunk (an arena is at most PH_FIT_ARENA bytes
 * or what one request and its alignment need). */
#define PH_FIT_EXACT 64u
#define PH_FIT_LISTS (PH_FIT_EXACT + 32u)
#define PH_FIT_MAP_WORDS ((PH_FIT_LISTS + 31u) / 32u)

/* The heap object.  A complete type so that a board can place one in .bss;
 * every field is private to the allocator and may change between versions. */
typedef struct ph_heap {
    uint32_t magic_;                   /* PH_HEAP_MAGIC once ph_init succeeded */
    uint32_t page_shift_;              /* log2(page size)                       */
    const ph_port *port_;              /* NULL: no hooks                        */
    uint32_t nregions_;
    uint32_t hint_region_;             /* search hint: every page below        */
    size_t hint_page_;                 /*   (region, page) is in use           */
    size_t pages_total_;
    size_t pages_free_;
    size_t metadata_bytes_;
    size_t faults_;
    size_t pages_released_;
    size_t granules_released_;
    size_t release_calls_, acquire_calls_;
    size_t bytes_released_, bytes_acquired_;
    size_t low_free_;                  /* idle pacer's recent peak, as the     */
                                       /* lowest pages_free_ (decays up)        */
    ph_idle_policy idle_;
    struct ph_region *regions_[PH_MAX_REGIONS]; /* sorted by address        */
    size_t small_spans_, small_span_pages_;
    size_t large_objects_, large_pages_;
    uint32_t anc_shift_;                 /* log2(bytes per anchor block)       */
    uintptr_t anc_mask_;                 /* bytes per anchor block - 1         */
    uintptr_t fit_cache_;                /* start of the cached empty arena, 0 */
    size_t cached_spans_, cached_pages_;
    uint32_t fit_map_[PH_FIT_MAP_WORDS];   /* bit i: fit_free_[i] is not empty */
    struct ph_fit_chunk *fit_free_[PH_FIT_LISTS];
} ph_heap;

/* ---- set-up ------------------------------------------------------------ */

/* Initialises *h (which may hold garbage).  page_size: a power of two in
 * [PH_MIN_PAGE_SIZE, PH_MAX_PAGE_SIZE], or 0 for PH_DEFAULT_PAGE_SIZE.
 * port may be NULL (nothing is ever released, no locking, faults only
 * counted); it is kept by pointer and must outlive the heap.  A port whose
 * release hook is NULL releases nothing either: ph_scavenge and ph_idle
 * return 0 and no page ever counts as released.
 * Returns PH_OK or PH_EINVAL (h is then unusable: every call refuses it).
 * O(1); takes no lock. */
int ph_init(ph_heap *h, size_t page_size, const ph_port *port);

/* Hands [base, base+size) to the heap.  Metadata (a header; per chunk of W
 * pages three bitmap words and two run-index bytes, plus a byte per word of
 * each index level above; a page-map byte per page) is placed in whole
 * pages at the low end of the page-aligned part.  granule: 0 (never released)
 * or a power of two >= the page size.  Returns PH_OK, or without any change:
 * PH_EINVAL (bad heap or granule, size 0, address wrap), PH_EOVERLAP,
 * PH_ENOMEM (no usable page once metadata is placed), PH_ELIMIT.
 * A region holds at most 2^31 pages; memory past that is not used.
 * O(chunks of the region + regions). */
int ph_add_region(ph_heap *h, void *base, size_t size, size_t granule);

/* ---- pages ------------------------------------------------------------- */

/* The lowest-addressed run of npages free pages (first fit over all regions,
 * never spanning two), page aligned; NULL when npages is 0 or no run exists
 * (nothing changes then).  Bound: see the top of this header. */
void *ph_page_alloc(ph_heap *h, size_t npages);

/* Frees npages pages from p.  Refused through the fault hook, changing
 * nothing but the fault count: PH_FAULT_BAD_POINTER for a p that is not page
 * aligned or in no region's usable pages, or a range reaching past its
 * region; PH_FAULT_DOUBLE_FREE for a range holding a free page.  npages 0
 * changes nothing.  Bound: see the top of this header. */
void ph_page_free(ph_heap *h, void *p, size_t npages);

/* ---- scavenging (releasing free memory, in place of madvise) ----------- */

/* Releases free granules that are not released yet, highest address first,
 * until at least nbytes were released or none is left; returns the bytes
 * released (a multiple of the granule sizes).  A granule is released only
 * when all its pages are free, it lies wholly inside the region's usable
 * pages (so it holds no metadata) and its region has a granule size.
 * Adjacent granules go to port->release in one call.  Work is found through
 * a scavenge index, one bit per chunk set by frees: a pass visits only
 * chunks freed into since an earlier pass looked at them, and in each only
 * the granules of its free, unreleased pages.
 * Cost: O(regions + index words scanned + marked chunks visited + granules
 * examined x words per granule); everything visited was marked by a free
 * since the last pass, so the work is proportional to the frees.
 * ph_scavenge(h, SIZE_MAX) releases everything releasable.  With no port,
 * or a port whose release hook is NULL, it releases nothing and returns 0. */
size_t ph_scavenge(ph_heap *h, size_t nbytes);

/* The idle-time entry point, for a system with no background thread: call
 * it from the idle loop (or before sleeping).  It releases granules while
 * the powered memory (usable pages not released) exceeds the goal, the
 * recent peak of pages in use plus headroom_pct percent, and only granules
 * that fit in that excess (it never goes below the goal); it stops once
 * policy.budget_bytes are released.  The peak follows every allocation at once and
 * decays only in ph_idle, by (peak - in use) >> decay_shift per call
 * (rounded up, so it reaches the pages in use in the end), so a
 * burst that frees and soon re-allocates the same memory keeps it powered
 * (hysteresis): a RAM section is not toggled on every cycle.  Returns the
 * bytes released (0 without a release hook, as ph_scavenge).  Same cost as
 * ph_scavenge. */
size_t ph_idle(ph_heap *h);

/* Replaces the idle policy; ph_init sets PH_IDLE_BUDGET_BYTES,
 * PH_IDLE_HEADROOM_PCT and PH_IDLE_DECAY_SHIFT. */
void ph_set_idle_policy(ph_heap *h, const ph_idle_policy *policy);

/* Defaults: a board whose RAM section wakes in tens of microseconds can
 * afford to release one small section per idle call; keep 1/8 above the
 * recent peak; let the peak decay by 1/16 of its excess per idle call (it
 * halves in about 11 calls). */
#ifndef PH_IDLE_BUDGET_BYTES
#define PH_IDLE_BUDGET_BYTES 4096u
#endif
#ifndef PH_IDLE_HEADROOM_PCT
#define PH_IDLE_HEADROOM_PCT 12u
#endif
/* Larger decay shifts are clamped to this (a peak that falls by less than
 * 1/65536 of its excess per call never falls in practice). */
#define PH_IDLE_MAX_DECAY_SHIFT 16u
#ifndef PH_IDLE_DECAY_SHIFT
#define PH_IDLE_DECAY_SHIFT 4u
#endif

/* ---- objects (the malloc family) -------------------------------------- */

/* C library meanings, on this heap.  Objects are aligned to PH_ALIGN.
 *
 * Sizes up to PH_SMALL_MAX are chunks carved from fit arenas: runs of
 * pages (PH_FIT_ARENA bytes, at most 1/16 of the heap, at least what the
 * request needs) taken from the page allocator.  A request of s bytes
 * takes a chunk of max(2 * PH_ALIGN, s + sizeof(size_t) rounded up to
 * PH_ALIGN) bytes: one header word per object, and the rounding (at most
 * PH_ALIGN - 1 bytes); a chunk keeps PH_ALIGN bytes more when the rest
 * would be too small to be a chunk (ph_usable_size says how much).  Free
 * chunks sit on LIFO lists, one per chunk size up to 64 sizes (16 .. 520
 * bytes on a 32-bit core), then four per doubling; a free joins the chunk
 * with its free neighbours at once, so free memory in an arena is never
 * split into adjacent pieces.  Arenas that meet (a new run of pages right
 * after or before an arena) become one, so memory taken in arena-sized
 * steps behaves as one heap with no seams.  ph_scavenge and ph_idle give
 * the whole pages inside any free chunk back to the page allocator when
 * they come to at least an arena (the arena ends before them and a new one
 * starts after them), so the scavenger can release them; ph_free never
 * does.  Larger sizes take their own page run, page aligned, and so does a
 * small request when no free chunk and no run for an arena (its header,
 * padding and fence may need a page more) is there.
 *
 * The empty-arena cache: an arena whose last object is freed is kept,
 * empty, as the cached arena when none is cached (or when it lies below
 * the cached one, which then goes back), so a heap that empties and
 * refills one arena does not allocate and free pages each time; any other
 * empty arena goes back to the page allocator at once.  The cache holds at
 * most one arena (ph_get_stats: cached_spans 0 or 1, cached_bytes), of at
 * most 1 / 2^PH_CACHE_SHIFT of the heap's pages, and takes one only while
 * at least 1/8 of the heap's pages are free.  It is emptied by every
 * ph_scavenge (ph_scavenge(h, 0) included) and ph_idle before they release
 * anything, and by any allocation (ph_malloc and the rest, ph_page_alloc)
 * that would otherwise fail, which then tries once more: an allocation
 * fails only when it fails with the cache empty, and a failed one changes
 * no statistic but the cache's.  So when every object has been freed,
 * every page is free again after one ph_scavenge(h, 0).  (ph_stats keeps
 * the names small_spans / small_span_pages for the arenas and their
 * pages.)
 *
 * Refusing bad pointers: every block of an arena (a page, or 128 *
 * PH_ALIGN bytes of a larger page) has an anchor byte naming the first
 * chunk that starts in it (for pages of up to 128 * PH_ALIGN bytes it is
 * the page map's byte, so it costs nothing more).  A free walks from the
 * anchor over the chunk headers to the pointer, at most 128 * PH_ALIGN /
 * (2 * PH_ALIGN) = 64 steps, and only a pointer it lands on exactly is an
 * object; the walk reads only headers reached from a trusted one, so the
 * contents of objects cannot make a bad pointer pass.  Bad pointers are
 * refused through the fault hook and change nothing but `faults`:
 *   PH_FAULT_BAD_POINTER  in no region, not the start of an object (an
 *                         interior or misaligned pointer, an arena's
 *                         padding or fence), or memory of ph_page_alloc
 *                         (the two APIs do not mix: ph_page_free refuses
 *                         object memory the same way);
 *   PH_FAULT_DOUBLE_FREE  the start of, or a pointer into, a free chunk, or
 *                         a free page.
 *
 * Cost bounds (R = regions):
 *   ph_malloc, small: O(1) from a list (the exact one, else the first
 *     non-empty list above it: PH_FIT_MAP_WORDS bitmap words), plus one
 *     split; else a new arena: one ph_page_alloc of at most
 *     max(PH_FIT_ARENA, the request) bytes of pages and O(its pages) to
 *     mark them (or the cached arena, O(1)); an allocation that would fail
 *     adds one emptying of the cache (a ph_page_free) and a second search;
 *   ph_malloc, large, n pages: one ph_page_alloc of n pages plus O(n);
 *   ph_free, small: O(R) to find the region, a walk of at most 64 chunk
 *     headers, O(1) to join and list; when its arena empties, at most two
 *     ph_page_free of an arena (it, or the cached one it replaces) and a
 *     rewrite of their page-map and anchor bytes, a word at a time (an
 *     arena that merged with others can span most of its region);
 *   ph_free, large, n pages: O(R + n) plus one ph_page_free of n pages.
 *   ph_calloc adds the zeroing of the object; ph_realloc adds one copy of
 *   the smaller of the two sizes when it moves the object.  The lock is
 *   held for none of the zeroing or copying.
 * In instructions, the worst single call measured on the small-object
 * trace (sizes 16..512 B, 1,000,000 calls at 75 % load, 256 B pages, -O2;
 * bench/target/run-target-bench.sh), a new arena's page allocation
 * included, worst malloc / worst free: Cortex-M3 550 / 190 (counted to
 * within 40), Cortex-M4 560 / 202, Cortex-A15 569 / 221.  The malloc
 * worst is a new arena: a ph_page_alloc (see the bounds at the top) and
 * the arena's page-map bytes.  No free emptied an arena in that trace: one
 * that does adds a ph_page_free and its arena's page-map bytes, a word at
 * a time.
 * Out of memory returns NULL and changes nothing. */
void *ph_malloc(ph_heap *h, size_t size);
void ph_free(ph_heap *h, void *p);
/* Zeroes the n * size bytes asked for (memory that came back through
 * `acquire` is never assumed to be zero; the rest of the usable size is
 * not zeroed).  NULL when n * size overflows. */
void *ph_calloc(ph_heap *h, size_t n, size_t size);
/* ph_realloc(h, NULL, n) is ph_malloc(h, n).  ph_realloc(h, p, 0) shrinks
 * p to the smallest object (as from ph_malloc(h, 0)) and returns it.  In
 * place when p's chunk holds the new size (a shrink frees the tail when it
 * can be a chunk), or the chunk after it is free and the two hold it, or
 * p is a page run that can shrink, or grow into free pages right after
 * it; otherwise a new object, a copy and a free.
 * On failure NULL, and p is untouched.  A bad p is refused (NULL). */
void *ph_realloc(ph_heap *h, void *p, size_t size);
/* align: a power of two; anything else gets NULL (not a fault).  Alignments
 * below the page size, for sizes up to PH_SMALL_MAX, are served by a chunk
 * of an arena (the part before the aligned address split off and freed);
 * larger ones from a page run.  An alignment above the page size is
 * found inside the first run of n + align / page_size - 1 free pages (so it
 * may fail while a smaller aligned run exists lower down); only the
 * aligned n pages are taken and acquired. */
void *ph_aligned_alloc(ph_heap *h, size_t align, size_t size);
/* Bytes usable at p (at least what was asked).  0 for NULL; a bad p is
 * refused through the fault hook and gets 0. */
size_t ph_usable_size(ph_heap *h, void *p);

/* ---- checking and statistics ------------------------------------------ */

/* Fills *out.  O(regions), and O(chunks) for a region whose longest free
 * run is over W pages (largest_free_run measures it). */
void ph_get_stats(ph_heap *h, ph_stats *out);

/* PH_OK when every invariant holds, else the PH_CHECK_* code of the first
 * broken one.  Changes nothing.  O(pages / W + index levels' bytes). */
int ph_check(ph_heap *h);

/* ---- introspection (extension) ---------------------------------------- */

typedef struct ph_region_info {
    void *raw_base;      /* the memory handed to ph_add_region           */
    size_t raw_size;
    void *meta_base;     /* first metadata page (page aligned)           */
    size_t meta_bytes;   /* whole pages of metadata                      */
    void *base;          /* first usable page, right after the metadata */
    size_t npages;       /* usable pages                                 */
    size_t granule;      /* release unit, 0 = never released             */
} ph_region_info;

/* Describes region `index` (0 = lowest address).  PH_EINVAL when there is
 * no such region.  O(1). */
int ph_get_region(ph_heap *h, size_t index, ph_region_info *out);

/* Page states reported by ph_walk. */
enum {
    PH_PAGES_META = 0,     /* metadata pages of a region              */
    PH_PAGES_USED = 1,     /* allocated                               */
    PH_PAGES_FREE = 2,     /* free, retained (powered)                */
    PH_PAGES_RELEASED = 3  /* free, its granule released              */
};

typedef void (*ph_walk_fn)(void *ctx, const void *base, size_t npages, int state);

/* Calls fn once per maximal run of pages of one state, regions in address
 * order, metadata first in each region.  fn must not call into the heap
 * (the lock is held).  O(pages / W + runs). */
void ph_walk(ph_heap *h, ph_walk_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PAGEHEAP_H */
