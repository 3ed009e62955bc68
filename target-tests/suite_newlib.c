/* SPDX-License-Identifier: MIT */
/*
 * suite_newlib.c: newlib's printf and malloc go through pageheap.
 *
 * The board links port/newlib, so the C library's malloc family, and
 * newlib's own allocations (stdio buffers, printf's dtoa bigints, strdup)
 * are served by the default heap, ph_newlib_heap(), set up from the
 * board's linker-defined regions.  The group:
 *   - prints integers and floats (printf and snprintf, checked against the
 *     exact text), then finds pages in use on the default heap that were
 *     not there at boot (stdio and dtoa allocated through pageheap);
 *   - calls every C library name (malloc, free, calloc, realloc,
 *     memalign, aligned_alloc, posix_memalign, malloc_usable_size, strdup):
 *     results lie in the default heap's regions, aligned, contents kept,
 *     calloc zeroes dirty memory, errno and return codes as the C library
 *     promises;
 *   - refused bad frees on the default heap reach the board's fault
 *     counter (board_heap_faults) once each and change nothing else;
 *   - every page the group took is free again (no leak), ph_check of the
 *     default heap is PH_OK, and the default heap shares no byte with the
 *     suite's arena.
 *
 * The same group runs on picolibc (port/picolibc's test, SUITE_LIBC_ONLY):
 * picolibc's tiny stdio allocates nothing for printf and its FILE has no
 * newlib buffer, so there the stdio step checks instead that asprintf, the
 * C library's own allocation, is served by the default heap; every other
 * step is the same.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#ifndef SUITE_NEWLIB_NANO
#define SUITE_NEWLIB_NANO 0
#endif

#ifdef __PICOLIBC__
#define SUITE_STDIO_ALLOCATES 0 /* tinystdio: printf takes no heap, FILE has no _bf */
#else
#define SUITE_STDIO_ALLOCATES 1 /* newlib: stdout's buffer, dtoa's bigints */
#endif

#define NLB SUITE_TABLE(48u, 1024u) /* blocks of the C library burst */

/* Pages of h that hold objects: in use, but not the empty-arena cache's. */
static size_t pages_used(ph_heap *h)
{
    ph_stats s;
    ph_get_stats(h, &s);
    return suite_pages_held(&s);
}

/* Whether [p, p + n) lies in one region of h (its usable pages). */
static bool in_heap(ph_heap *h, const void *p, size_t n)
{
    ph_region_info ri;
    ph_stats s;
    ph_get_stats(h, &s);
    for (size_t i = 0; ph_get_region(h, i, &ri) == PH_OK; i++) {
        size_t bytes = ri.npages * s.page_size;
        if (in_range(p, ri.base, bytes) &&
            (n == 0 || in_range((const char *)p + n - 1, ri.base, bytes)))
            return true;
    }
    return false;
}

#define IN_HEAP(h, p, n)                                                             \
    SUITE_CHECKF(in_heap((h), (p), (n)), "%s = %p (%lu bytes) is not in the default heap", #p, \
                 (const void *)(p), (unsigned long)(n))

static bool aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1u)) == 0;
}

void group_newlib(void)
{
    suite_group_begin("newlib");
    ph_heap *dh = ph_newlib_heap();
    SUITE_CHECK(dh != NULL);

    /* the default heap and the suite's arena are apart */
    if (!SUITE_ARENA_FROM_HEAP) {
        ph_region_info ri;
        size_t n = 0;
        for (size_t i = 0; ph_get_region(dh, i, &ri) == PH_OK; i++, n++)
            SUITE_CHECKF((uintptr_t)ri.raw_base + ri.raw_size <= (uintptr_t)suite_arena ||
                             (uintptr_t)ri.raw_base >= (uintptr_t)suite_arena + SUITE_ARENA_BYTES,
                         "default heap region %lu [%p, +%lu) overlaps the suite's arena",
                         (unsigned long)i, ri.raw_base, (unsigned long)ri.raw_size);
        SUITE_CHECK(n >= 1);
    }

    /* 1. printf with integers and floats: stdio allocates through pageheap */
    size_t used_before = pages_used(dh);
    int printed = printf("suite: newlib printf: %d %u %ld %x %s | %.3f %e %g %.1f\n", -42, 42u,
                         -1234567890L, 0xBEEFu, board_name(), 3.14159, 12345.678, 1.0 / 3.0,
                         -0.25);
    SUITE_CHECK(printed > 40);
    char buf[96];
    int len = snprintf(buf, sizeof buf, "%.3f|%e|%g|%d|%5.1f|%s", 3.14159, 12345.678, 0.1, -7,
                       2.25, "x");
    SUITE_CHECKF(strcmp(buf, "3.142|1.234568e+04|0.1|-7|  2.2|x") == 0 && len == (int)strlen(buf),
                 "snprintf gave \"%s\"", buf);
    len = snprintf(buf, sizeof buf, "%08.3f %+d %lu", -1.5, 5, 4000000000ul);
    SUITE_CHECKF(strcmp(buf, "-001.500 +5 4000000000") == 0, "snprintf gave \"%s\"", buf);
#if !SUITE_NEWLIB_NANO /* newlib-nano's printf has no long long */
    len = snprintf(buf, sizeof buf, "%lld %llx", -9000000000ll, 0x123456789abcull);
    SUITE_CHECKF(strcmp(buf, "-9000000000 123456789abc") == 0, "snprintf gave \"%s\"", buf);
#endif
    fflush(stdout);
    size_t used_stdio = pages_used(dh);
#if SUITE_STDIO_ALLOCATES
    SUITE_CHECKF(used_stdio > 0 && (used_stdio > suite_boot_pages_used || used_stdio > used_before),
                 "no page of the default heap in use after printf (boot %lu, before %lu, after %lu)",
                 (unsigned long)suite_boot_pages_used, (unsigned long)used_before,
                 (unsigned long)used_stdio);
    /* a buffered stdout has its buffer in the default heap */
    bool stdout_buffered = stdout->_bf._base != NULL && stdout->_bf._size > 1;
    if (stdout_buffered)
        IN_HEAP(dh, stdout->_bf._base, (size_t)stdout->_bf._size);
#else
    bool stdout_buffered = false;
    (void)used_before;
    {
        /* the C library allocates through pageheap: asprintf grows its
         * string with realloc */
        char *as = NULL;
        ph_stats a;
        ph_get_stats(dh, &a);
        len = asprintf(&as, "%s %d %.3f %0200d", "asprintf", -3, 2.5, 7);
        SUITE_CHECK(len == 8 + 1 + 2 + 1 + 5 + 1 + 200 && as != NULL);
        SUITE_CHECKF(strncmp(as, "asprintf -3 2.500 000", 21) == 0 && as[len - 1] == '7',
                     "asprintf gave \"%.24s...\"", as);
        IN_HEAP(dh, as, (size_t)len + 1);
        SUITE_CHECK(malloc_usable_size(as) >= (size_t)len + 1);
        free(as);
        SUITE_EQ(pages_used(dh), used_stdio);
    }
#endif
    SUITE_HEAP_OK(dh);

    /* 2. the C library's names */
    size_t used0 = pages_used(dh);
    char *p = (char *)malloc(100);
    SUITE_CHECK(p != NULL && aligned(p, 8));
    IN_HEAP(dh, p, 100);
    SUITE_CHECK(malloc_usable_size(p) >= 100);
    SUITE_EQ(malloc_usable_size(p), ph_usable_size(dh, p));
    pat_fill(p, 100, 1);
    char *q = (char *)realloc(p, 1000);
    SUITE_CHECK(q != NULL);
    IN_HEAP(dh, q, 1000);
    PAT_CHECK(q, 100, 1);
    pat_fill(q, 1000, 2);
    q = (char *)realloc(q, 10);
    SUITE_CHECK(q != NULL);
    PAT_CHECK(q, 10, 2);

    char *d = (char *)malloc(300);
    SUITE_CHECK(d != NULL);
    memset(d, 0xFF, 300);
    free(d);
    char *c = (char *)calloc(30, 10);
    SUITE_CHECK(c != NULL);
    IN_HEAP(dh, c, 300);
    SUITE_EQ(find_nonzero(c, 300), SIZE_MAX);
    free(c);

    char *s = strdup("pageheap serves strdup");
    SUITE_CHECK(s != NULL && strcmp(s, "pageheap serves strdup") == 0);
    IN_HEAP(dh, s, strlen(s) + 1);

    /* the aligned names (each freed at once: the smallest board's heap
     * has room for a few arenas only) */
    void *pm = NULL;
    SUITE_EQ(posix_memalign(&pm, 64, 200), 0);
    SUITE_CHECK(pm != NULL && aligned(pm, 64));
    IN_HEAP(dh, pm, 200);
    void *pm_keep = pm;
    SUITE_EQ(posix_memalign(&pm, 3, 8), EINVAL);
    SUITE_EQ(posix_memalign(&pm, 2, 8), EINVAL); /* not a multiple of sizeof(void *) */
    SUITE_PTR_EQ(pm, pm_keep);                   /* untouched on failure */
    free(pm);
    {
        ph_stats a;
        ph_get_stats(dh, &a);
        size_t n = a.largest_free_run * a.page_size / 4 < 3000 ? 200 : 3000;
        void *pm2 = NULL;
        SUITE_EQ(posix_memalign(&pm2, 1024, n), 0);
        SUITE_CHECK(pm2 != NULL && aligned(pm2, 1024));
        IN_HEAP(dh, pm2, n);
        free(pm2);
    }
    void *ma = memalign(32, 50);
    SUITE_CHECK(ma != NULL && aligned(ma, 32));
    free(ma);
    void *ma3 = memalign(48, 10); /* rounded up to 64, as newlib's own memalign */
    SUITE_CHECK(ma3 != NULL && aligned(ma3, 64));
    free(ma3);
    void *aa = aligned_alloc(128, 256);
    SUITE_CHECK(aa != NULL && aligned(aa, 128));
    IN_HEAP(dh, aa, 256);
    free(aa);
    errno = 0;
    SUITE_PTR_EQ(aligned_alloc(suite_opaque_size(24), 10), NULL);
    SUITE_EQ(errno, EINVAL);

    /* out of memory: NULL and ENOMEM, nothing changed */
    {
        ph_stats a, b;
        ph_get_stats(dh, &a);
        errno = 0;
        SUITE_PTR_EQ(malloc(suite_opaque_size(SIZE_MAX / 2)), NULL);
        SUITE_EQ(errno, ENOMEM);
        errno = 0;
        SUITE_PTR_EQ(calloc(suite_opaque_size(SIZE_MAX / 4), 8), NULL);
        SUITE_EQ(errno, ENOMEM);
        char *big = (char *)realloc(q, suite_opaque_size(SIZE_MAX - 4096));
        SUITE_PTR_EQ(big, NULL);
        ph_get_stats(dh, &b);
        SUITE_CHECK(memcmp(&a, &b, sizeof a) == 0);
        PAT_CHECK(q, 10, 2);
    }
    void *rn = realloc(NULL, 24);
    SUITE_CHECK(rn != NULL);
    free(NULL);

    /* refused bad frees: counted by the board, nothing else changes */
    unsigned long bf0 = board_heap_faults(NULL, NULL);
    {
        ph_stats a, b;
        int code = 0;
        const void *addr = NULL;
        ph_get_stats(dh, &a);
        free(suite_opaque(s + 8)); /* an interior pointer */
        SUITE_EQ(board_heap_faults(&code, &addr), bf0 + 1);
        SUITE_EQ(code, PH_FAULT_BAD_POINTER);
        SUITE_PTR_EQ(addr, s + 8);
        static uint32_t foreign[4];
        free(suite_opaque(foreign)); /* memory of no region of the default heap */
        SUITE_EQ(board_heap_faults(&code, &addr), bf0 + 2);
        SUITE_EQ(code, PH_FAULT_BAD_POINTER);
        char *first = strdup("freed once");
        SUITE_CHECK(first != NULL);
        void *once = suite_opaque(first); /* the same pointer, after its free */
        free(first);
        ph_get_stats(dh, &a);
        free(suite_opaque(once)); /* freed twice */
        SUITE_EQ(board_heap_faults(&code, &addr), bf0 + 3);
        SUITE_EQ(code, PH_FAULT_DOUBLE_FREE);
        SUITE_PTR_EQ(addr, once);
        SUITE_PTR_EQ(realloc(suite_opaque(s + 1), 64), NULL); /* refused: NULL */
        SUITE_EQ(board_heap_faults(NULL, NULL), bf0 + 4);
        ph_get_stats(dh, &b);
        SUITE_EQ(b.faults, a.faults + 2); /* the second free and the realloc */
        b.faults = a.faults;
        SUITE_CHECK(memcmp(&a, &b, sizeof a) == 0);
        SUITE_CHECK(strcmp(s, "pageheap serves strdup") == 0);
    }
    SUITE_HEAP_OK(dh);

    free(rn);
    free(s);
    free(q);
    SUITE_EQ(board_heap_faults(NULL, NULL), bf0 + 4);
    /* nothing leaked: the runs taken above may have merged into the arena
     * that holds stdio's buffers (arenas that meet merge), whose free pages
     * only ph_scavenge gives back (free never trims); after it at most the
     * pages held before are */
    SUITE_CHECK(pages_used(dh) >= used0);
    SUITE_EQ(ph_scavenge(dh, 0), 0);
    SUITE_CHECKF(pages_used(dh) <= used0, "%lu pages held after the C library's names and "
                 "ph_scavenge, %lu before", (unsigned long)pages_used(dh), (unsigned long)used0);
    used0 = pages_used(dh);

    /* 3. a burst of C library allocations with fill-and-verify */
    {
        char **blk = (char **)suite_scratch(NLB * sizeof *blk);
        size_t *sz = (size_t *)suite_scratch(NLB * sizeof *sz);
        suite_rng r;
        rng_seed(&r, SUITE_SEED ^ 0xC11Bu);
        ph_stats st;
        ph_get_stats(dh, &st);
        size_t cap = st.largest_free_run * st.page_size / 64; /* keep well inside small heaps */
        if (cap > 4096)
            cap = 4096;
        if (cap < 64)
            cap = 64;
        for (size_t round = 0; round < SUITE_OPS(800); round++) {
            size_t i = rng_below(&r, NLB);
            if (blk[i] != NULL) {
                PAT_CHECK(blk[i], sz[i], (uint32_t)i);
                if (rng_pct(&r, 30)) {
                    size_t nsz = 1 + rng_below(&r, (uint32_t)cap);
                    char *nb = (char *)realloc(blk[i], nsz);
                    if (nb != NULL) {
                        PAT_CHECK(nb, nsz < sz[i] ? nsz : sz[i], (uint32_t)i);
                        blk[i] = nb;
                        sz[i] = nsz;
                        pat_fill(nb, nsz, (uint32_t)i);
                    }
                } else {
                    free(blk[i]);
                    blk[i] = NULL;
                }
            } else {
                sz[i] = 1 + rng_below(&r, (uint32_t)cap);
                blk[i] = (char *)(rng_pct(&r, 20) ? calloc(1, sz[i]) : malloc(sz[i]));
                if (blk[i] != NULL) {
                    IN_HEAP(dh, blk[i], sz[i]);
                    pat_fill(blk[i], sz[i], (uint32_t)i);
                }
            }
            if (round % 100 == 0)
                SUITE_HEAP_OK(dh);
        }
        for (size_t i = 0; i < NLB; i++) {
            if (blk[i] != NULL) {
                PAT_CHECK(blk[i], sz[i], (uint32_t)i);
                free(blk[i]);
                blk[i] = NULL;
            }
        }
        /* nothing leaked: the burst's runs may have merged into the arena
         * that holds stdio's buffers (arenas that meet merge), whose free
         * pages only ph_scavenge gives back (ph_free never trims); after
         * it at most the pages held before the burst are (the trim may cut
         * free pages that arena held before the burst too) */
        SUITE_CHECK(pages_used(dh) >= used0);
        SUITE_EQ(ph_scavenge(dh, 0), 0);
        SUITE_CHECKF(pages_used(dh) <= used0, "%lu pages held after the burst and ph_scavenge, "
                     "%lu before", (unsigned long)pages_used(dh), (unsigned long)used0);
    }
    SUITE_EQ(board_heap_faults(NULL, NULL), bf0 + 4);
    SUITE_HEAP_OK(dh);
    ph_stats st;
    ph_get_stats(dh, &st);
    suite_group_end("stdio holds %lu pages of %lu bytes, stdout %s%s", (unsigned long)used_stdio,
                    (unsigned long)st.page_size,
                    stdout_buffered ? "buffered in the default heap" : "unbuffered",
                    SUITE_STDIO_ALLOCATES ? "" : ", asprintf in the default heap");
}
