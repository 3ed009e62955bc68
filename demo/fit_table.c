/* SPDX-License-Identifier: MIT */
/*
 * fit_table: prints what pageheap's object layer (fit arenas, see the top
 * of core/src/ph_object.c) makes of a request, for this build and a page
 * size, as markdown:
 *
 *   1. the chunk table, one row per free list: the chunk sizes the list
 *      holds, the requests that get such a chunk, the usable bytes
 *      (ph_usable_size) and the worst waste (chunk bytes minus the
 *      smallest request of the row);
 *   2. the arena a heap of a few sizes carves its chunks from (the first
 *      small request's run of pages).
 *
 *   build/host/demo/fit_table [page_size]     (default: the build's)
 *
 * The figures are not copied from the allocator: the layer's constants
 * are private (core/src/ph_internal.h), so they are modelled below, and
 * every figure the table prints is checked against a real heap on the
 * host: every request from 0 to PH_SMALL_MAX is allocated, measured with
 * ph_usable_size and freed, and the arenas are read back from
 * ph_get_stats.  The tool exits 1, naming the first request that
 * disagrees, when the model and the heap differ (CTest runs it).
 *
 * Chunks depend on PH_ALIGN (2 * sizeof(void *), at least 8), the header
 * word (sizeof(size_t)) and PH_SMALL_MAX, the arenas on PH_FIT_ARENA and
 * the page size: run it in the build whose figures you want (the host's
 * are 64-bit: PH_ALIGN 16, PH_SMALL_MAX 32768).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pageheap.h"

/* ---- the model (core/src/ph_internal.h and ph_object.c) ---------------- */

#define HDR sizeof(size_t)                 /* PH_FIT_HDR: a header word per chunk */
#define FIT_MIN (2u * PH_ALIGN)            /* PH_FIT_MIN: the smallest chunk      */
#define EXACT_MAX (FIT_MIN + (PH_FIT_EXACT - 1u) * PH_ALIGN) /* PH_FIT_EXACT_MAX */
#define FL0 (PH_ALIGN == 8 ? 9u : 10u)     /* log2 of the first ranged list       */

/* Chunk bytes for a request of n bytes (n <= PH_SMALL_MAX). */
static size_t chunk_for(size_t n)
{
    size_t s = (n + HDR + PH_ALIGN - 1) & ~(size_t)(PH_ALIGN - 1);
    return s < FIT_MIN ? FIT_MIN : s;
}

static unsigned floor_log2(size_t x)
{
    unsigned l = 0;
    while (x >>= 1)
        l++;
    return l;
}

/* The free list of a chunk of s bytes: one list per size up to EXACT_MAX,
 * then four per doubling. */
static unsigned list_of(size_t s)
{
    unsigned fl;
    if (s <= EXACT_MAX)
        return (unsigned)((s - FIT_MIN) / PH_ALIGN);
    fl = floor_log2(s);
    return PH_FIT_EXACT + (fl - FL0) * 4u + (unsigned)((s >> (fl - 2)) & 3u);
}

/* The arena (bytes) a new small request of n bytes opens on a heap of
 * `pages` usable pages of `page` bytes, when the run is free. */
static size_t arena_for(size_t n, size_t pages, size_t page)
{
    size_t bytes = pages * page / 16, need = (chunk_for(n) + PH_ALIGN + page - 1) / page;
    if (bytes > PH_FIT_ARENA)
        bytes = PH_FIT_ARENA;
    return (bytes / page < need ? need : bytes / page) * page;
}

/* ---- the heap it is checked against --------------------------------------- */

static ph_heap heap;
static unsigned long faults;

static void on_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    (void)code;
    (void)addr;
    faults++;
}

static const ph_port port = { NULL, NULL, NULL, NULL, NULL, on_fault };

static void *open_heap(size_t page, size_t bytes)
{
    void *mem = malloc(bytes + page);
    if (mem == NULL || ph_init(&heap, page, &port) != PH_OK ||
        ph_add_region(&heap, mem, bytes + page, 0) != PH_OK) {
        fprintf(stderr, "fit_table: no heap of %zu bytes at %zu-byte pages\n", bytes, page);
        exit(2);
    }
    return mem;
}

static int fail(const char *what, size_t n, size_t got, size_t want)
{
    fprintf(stderr, "fit_table: %s for a request of %zu bytes: the heap says %zu, the model %zu\n",
            what, n, got, want);
    return 1;
}

/* Every object freed: no arena but the cached one, which ph_scavenge(h, 0)
 * gives back, and then every page free. */
static int all_free(size_t n)
{
    ph_stats st;
    ph_get_stats(&heap, &st);
    if (st.small_spans != st.cached_spans || st.large_objects != 0)
        return fail("arenas left after the free", n, st.small_spans, st.cached_spans);
    ph_scavenge(&heap, 0);
    ph_get_stats(&heap, &st);
    if (st.pages_free != st.pages_total)
        return fail("free pages after ph_scavenge(h, 0)", n, st.pages_free, st.pages_total);
    return 0;
}

int main(int argc, char **argv)
{
    size_t page = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
    size_t n, heap_bytes, above = 0;
    ph_stats st;
    void *mem;
    int bad = 0;

    if (ph_init(&heap, page, NULL) != PH_OK) {
        fprintf(stderr, "fit_table: bad page size %zu\n", page);
        return 2;
    }
    ph_get_stats(&heap, &st);
    page = st.page_size;

    /* 1. every small request, measured on a heap of 16 arenas */
    heap_bytes = 16 * (PH_FIT_ARENA > PH_SMALL_MAX + page ? PH_FIT_ARENA : PH_SMALL_MAX + page);
    mem = open_heap(page, heap_bytes);
    for (n = 0; n <= PH_SMALL_MAX && !bad; n++) {
        size_t cs = chunk_for(n), u, want;
        void *p = ph_malloc(&heap, n);
        if (p == NULL) {
            fprintf(stderr, "fit_table: ph_malloc(%zu) = NULL\n", n);
            return 1;
        }
        u = ph_usable_size(&heap, p);
        ph_get_stats(&heap, &st);
        want = arena_for(n, st.pages_total, page);
        /* the chunk is cs bytes, or up to FIT_MIN - PH_ALIGN more when
         * the rest of the arena could not be a chunk of its own */
        if (u < cs - HDR || u > cs - HDR + FIT_MIN - PH_ALIGN)
            bad = fail("usable bytes", n, u, cs - HDR);
        else if ((uintptr_t)p % PH_ALIGN != 0)
            bad = fail("alignment", n, (uintptr_t)p % PH_ALIGN, 0);
        else if (st.large_objects != 0 || st.small_spans != 1)
            bad = fail("arenas (small requests are never page runs)", n, st.small_spans, 1);
        else if (st.small_span_pages * page != want)
            bad = fail("arena bytes", n, st.small_span_pages * page, want);
        above += u != cs - HDR;
        ph_free(&heap, p);
        if (!bad)
            bad = all_free(n);
    }
    if (!bad && faults != 0)
        bad = fail("faults", 0, faults, 0);
    free(mem);
    if (bad)
        return 1;

    printf("pageheap fit arenas: PH_ALIGN %zu, header %zu B, smallest chunk %zu B, "
           "PH_SMALL_MAX %u, PH_FIT_ARENA %u, page %zu B\n\n",
           (size_t)PH_ALIGN, (size_t)HDR, (size_t)FIT_MIN, (unsigned)PH_SMALL_MAX,
           (unsigned)PH_FIT_ARENA, page);
    printf("Chunk = max(%zu, request + %zu rounded up to %zu). Usable bytes are chunk - %zu "
           "(up to %zu more when an arena's rest is too small to be a chunk: %zu of the %u "
           "requests here). One row per free list (exact lists, then 4 per doubling).\n\n",
           (size_t)FIT_MIN, (size_t)HDR, (size_t)PH_ALIGN, (size_t)HDR,
           (size_t)(FIT_MIN - PH_ALIGN), above, (unsigned)PH_SMALL_MAX + 1);
    printf("| list | chunk bytes | requests | usable bytes | worst waste |\n");
    printf("|---:|---:|---|---:|---:|\n");
    {
        size_t lo = 0; /* smallest request of the current row */
        unsigned cur = list_of(chunk_for(0)), lists = 0;
        double worst_all = 0;
        for (n = 1; n <= PH_SMALL_MAX + 1; n++) {
            size_t hi = n - 1, cs_lo = chunk_for(lo), cs_hi = chunk_for(hi);
            double worst;
            if (n <= PH_SMALL_MAX && list_of(chunk_for(n)) == cur)
                continue;
            /* the row: requests lo..hi, chunks cs_lo..cs_hi; worst waste:
             * the chunk of the smallest request over that request (a
             * request of 0 counts as one byte) */
            worst = (double)(cs_lo - (lo != 0 ? lo : 1)) / (double)cs_lo;
            if (lo >= 128 && worst > worst_all)
                worst_all = worst;
            if (cs_lo == cs_hi)
                printf("| %u | %zu | %zu..%zu | %zu | %zu B (%.1f %%) |\n", cur, cs_lo, lo, hi,
                       cs_lo - HDR, cs_lo - (lo != 0 ? lo : 1), 100.0 * worst);
            else
                printf("| %u | %zu..%zu | %zu..%zu | %zu..%zu | %zu B (%.1f %%) |\n", cur, cs_lo,
                       cs_hi, lo, hi, cs_lo - HDR, cs_hi - HDR, cs_lo - (lo != 0 ? lo : 1),
                       100.0 * worst);
            lists++;
            if (n <= PH_SMALL_MAX) {
                unsigned next = list_of(chunk_for(n));
                if (next <= cur || next >= PH_FIT_LISTS) {
                    fprintf(stderr, "fit_table: list %u after list %u\n", next, cur);
                    return 1;
                }
                cur = next;
            }
            lo = n;
        }
        printf("\n%u lists hold the chunks of small requests (%u lists in all). A ranged list's "
               "chunks are exactly what their requests need: its waste is the header and the "
               "rounding to %zu, at most %.1f %% from 128 bytes on. Requests over %u bytes take "
               "whole pages.\n\n",
               lists, (unsigned)PH_FIT_LISTS, (size_t)PH_ALIGN, 100.0 * worst_all,
               (unsigned)PH_SMALL_MAX);
    }

    /* 2. the arena of a new small request, for a few heap sizes */
    printf("| region bytes | usable pages | arena, 1-byte request | arena, %u-byte request |\n",
           (unsigned)PH_SMALL_MAX);
    printf("|---:|---:|---:|---:|\n");
    {
        static const size_t kib[] = { 4, 16, 32, 64, 256, 1024 };
        for (size_t k = 0; k < sizeof kib / sizeof kib[0]; k++) {
            size_t got[2], want[2];
            static const size_t req[2] = { 1, PH_SMALL_MAX };
            heap_bytes = kib[k] * 1024;
            if (heap_bytes < 4 * page)
                continue;
            mem = open_heap(page, heap_bytes);
            for (int i = 0; i < 2; i++) {
                size_t need = (chunk_for(req[i]) + PH_ALIGN + page - 1) / page;
                void *p = ph_malloc(&heap, req[i]);
                ph_get_stats(&heap, &st);
                got[i] = p == NULL ? 0 : st.small_span_pages * page;
                /* an empty heap: the arena's run is free, or the heap is
                 * smaller than the pages the request needs */
                want[i] = need > st.pages_total ? 0 : arena_for(req[i], st.pages_total, page);
                if (got[i] != want[i] || (p != NULL && st.large_objects != 0))
                    bad = fail("arena bytes", req[i], got[i], want[i]);
                ph_free(&heap, p);
                if (!bad)
                    bad = all_free(req[i]);
            }
            ph_get_stats(&heap, &st);
            printf("| %zu | %zu | %zu |", heap_bytes, st.pages_total, got[0]);
            if (got[1] != 0)
                printf(" %zu |\n", got[1]);
            else
                printf(" none (it needs %zu pages) |\n",
                       (chunk_for(PH_SMALL_MAX) + PH_ALIGN + page - 1) / page);
            free(mem);
            if (bad)
                return 1;
        }
    }
    printf("\nArena = min(%u, usable heap bytes / 16) in whole pages, at least the pages the "
           "request needs; when no run that long is free, exactly those pages.\n",
           (unsigned)PH_FIT_ARENA);
    return 0;
}
