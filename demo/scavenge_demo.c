/* SPDX-License-Identifier: MIT */
/*
 * scavenge_demo: pageheap's scavenger giving memory back to Linux through
 * the madvise port (port/host/ph_port_madvise.h), the way the Go runtime
 * does it, with the process's resident memory read from /proc/self/statm
 * after every step.
 *
 * The story: one 256 MiB region (private anonymous mmap), 4 KiB pages,
 * 64 KiB granules.  Phase 1 allocates and touches 90% of it in runs of
 * 1..256 pages, so it becomes resident; phase 2 frees it all, and the
 * resident memory does not move (free never releases); phase 3 calls
 * ph_scavenge(h, SIZE_MAX), which hands every free granule to the port's
 * release hook, madvise(MADV_DONTNEED), and the resident memory falls.
 * Phase 4 shows the pacer: a 64 MiB burst is touched and freed, and
 * ph_idle (default policy: 4 KiB budget per call, so one 64 KiB granule)
 * keeps it powered for the first idle calls, then releases it granule by
 * granule as the recent peak decays (before the burst, idle calls let the
 * peak of phase 1 decay).
 *
 * Exit status: non-zero when ph_check fails, when the scavenge of phase 3
 * released less than 99% of the freed bytes, when the resident memory did
 * not fall by at least 90% of the freed memory, when the first idle call
 * after the burst released anything, or when the idle calls did not give
 * back at least 75% of the burst.  CTest runs it (test scavenge_demo).
 */
#define _DEFAULT_SOURCE
#include "pageheap.h"
#include "ph_port_madvise.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define HEAP_BYTES (256 * MiB)
#define PAGE_SIZE (4 * KiB)
#define GRANULE (64 * KiB)
#define FILL_PERCENT 90u
#define MAX_RUN 256u
#define BURST_BYTES (64 * MiB)

typedef struct run {
    uint8_t *p;
    size_t npages;
} run;

static ph_heap heap;
static ph_madvise_port port;
static size_t os_page;
static int failures;

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2) {
        fprintf(stderr, "scavenge_demo: cannot read /proc/self/statm\n");
        exit(2);
    }
    fclose(f);
    return (size_t)resident * os_page;
}

static void show(const char *step, size_t rss)
{
    ph_stats st;
    ph_get_stats(&heap, &st);
    printf("%-34s RSS %7.1f MiB | in use %6zu pages, free %6zu, released %6zu (%3zu granules)"
           " | release calls %zu, acquire calls %zu\n",
           step, (double)rss / (double)MiB, st.pages_total - st.pages_free, st.pages_free,
           st.pages_released, st.granules_released, st.release_calls, st.acquire_calls);
}

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s\n", what);
        failures++;
    }
}

/* Writes one byte per OS page: makes the run resident. */
static void touch(uint8_t *p, size_t bytes)
{
    for (size_t off = 0; off < bytes; off += os_page)
        p[off] = (uint8_t)(off >> 12);
}

int main(void)
{
    long sc = sysconf(_SC_PAGESIZE);
    os_page = sc > 0 ? (size_t)sc : 4096u;

    void *mem = mmap(NULL, HEAP_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        perror("scavenge_demo: mmap");
        return 2;
    }
    if (ph_madvise_port_init(&port, true) != 0 || ph_init(&heap, PAGE_SIZE, &port.port) != PH_OK ||
        ph_add_region(&heap, mem, HEAP_BYTES, GRANULE) != PH_OK) {
        fprintf(stderr, "scavenge_demo: heap set-up failed\n");
        return 2;
    }
    ph_stats st;
    ph_get_stats(&heap, &st);
    printf("pageheap scavenge demo: one %zu MiB region at %p, %zu KiB pages, %zu KiB granules,\n"
           "release = madvise(MADV_DONTNEED) (port/host/ph_port_madvise.c); %zu usable pages,\n"
           "%zu bytes of metadata.\n\n",
           HEAP_BYTES / MiB, mem, PAGE_SIZE / KiB, GRANULE / KiB, st.pages_total, st.metadata_bytes);

    size_t rss0 = rss_bytes();
    show("0. empty heap", rss0);

    /* 1. allocate and touch 90% in runs of 1..MAX_RUN pages */
    size_t target = st.pages_total * FILL_PERCENT / 100u, used = 0, nruns = 0;
    run *runs = calloc(target, sizeof *runs);
    uint64_t x = 0x2545F4914F6CDD1Dull;
    if (runs == NULL)
        return 2;
    while (used < target) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = 1 + (size_t)(x % MAX_RUN);
        if (n > target - used)
            n = target - used;
        uint8_t *p = ph_page_alloc(&heap, n);
        if (p == NULL)
            break;
        touch(p, n * PAGE_SIZE);
        runs[nruns].p = p;
        runs[nruns].npages = n;
        nruns++;
        used += n;
    }
    size_t rss1 = rss_bytes();
    show("1. 90% allocated and touched", rss1);
    check(used == target, "phase 1 allocated its target");

    /* 2. free everything: nothing is released yet */
    for (size_t i = 0; i < nruns; i++)
        ph_page_free(&heap, runs[i].p, runs[i].npages);
    size_t freed = used * PAGE_SIZE;
    size_t rss2 = rss_bytes();
    show("2. all freed (free never releases)", rss2);

    /* 3. scavenge: every free granule goes to madvise */
    size_t released = ph_scavenge(&heap, SIZE_MAX);
    size_t rss3 = rss_bytes();
    show("3. ph_scavenge(h, SIZE_MAX)", rss3);
    printf("\n   freed %.1f MiB; ph_scavenge released %.1f MiB in %zu madvise call(s);"
           " RSS fell by %.1f MiB (%.1f%% of the freed memory)\n\n",
           (double)freed / (double)MiB, (double)released / (double)MiB, port.release_calls,
           (double)(rss2 - rss3) / (double)MiB,
           rss2 > rss3 ? 100.0 * (double)(rss2 - rss3) / (double)freed : 0.0);
    check(released >= freed / 100u * 99u, "ph_scavenge released at least 99% of the freed bytes");
    check(rss2 > rss3 && rss2 - rss3 >= freed / 10u * 9u,
          "RSS fell by at least 90% of the freed memory");
    check(port.madvise_errors == 0, "no madvise error");

    /* 4. the pacer.  First let the recent peak (phase 1's 90%) decay: idle
     * calls with nothing left to release. */
    for (int i = 0; i < 300; i++)
        ph_idle(&heap);
    ph_get_stats(&heap, &st);
    printf("   after 300 idle calls the pacer's recent peak is %zu pages\n\n", st.peak_pages_used);
    /* A burst, then idle calls with the default policy. */
    size_t burst_pages = BURST_BYTES / PAGE_SIZE;
    uint8_t *b = ph_page_alloc(&heap, burst_pages);
    if (b == NULL)
        return 2;
    touch(b, BURST_BYTES);
    show("4. 64 MiB burst allocated, touched", rss_bytes());
    ph_page_free(&heap, b, burst_pages);
    size_t rss4 = rss_bytes();
    show("   burst freed", rss4);
    size_t first = ph_idle(&heap), idle_total = first, calls = 1;
    show("   first ph_idle after the burst", rss_bytes());
    check(first == 0, "the first idle call after the burst keeps it powered (hysteresis)");
    size_t quiet = 0;
    while (calls < 100000 && (idle_total == 0 || quiet < 64)) {
        size_t r = ph_idle(&heap);
        calls++;
        idle_total += r;
        quiet = r == 0 ? quiet + 1 : 0;
        if (calls % 64 == 0)
            show("   ... ph_idle", rss_bytes());
    }
    calls -= quiet;
    size_t rss5 = rss_bytes();
    show("   idle settled", rss5);
    printf("\n   %zu ph_idle calls released %.1f MiB of the 64 MiB burst; RSS fell by %.1f MiB\n",
           calls, (double)idle_total / (double)MiB,
           rss4 > rss5 ? (double)(rss4 - rss5) / (double)MiB : 0.0);
    check(idle_total >= BURST_BYTES / 4u * 3u, "ph_idle gave back at least 75% of the burst");
    check(rss4 > rss5 && rss4 - rss5 >= BURST_BYTES / 4u * 3u - 4 * MiB,
          "RSS fell with the idle releases");

    int rc = ph_check(&heap);
    check(rc == PH_OK, "ph_check");
    printf("\nph_check: %d; %s\n", rc, failures ? "FAILED" : "OK");
    free(runs);
    munmap(mem, HEAP_BYTES);
    ph_madvise_port_destroy(&port);
    return failures ? 1 : 0;
}
