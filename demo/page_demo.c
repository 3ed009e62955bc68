/* SPDX-License-Identifier: MIT */
/*
 * page_demo: pageheap's page allocator driven through a firmware-like day,
 * on the host, with a picture of the heap after every step.
 *
 * The story: a board with two RAM banks that the linker script hands to the
 * heap, a small fast one (DTCM, 64 KiB) and a big one (AXI SRAM, 256 KiB)
 * with a gap between them, 256-byte pages (the 32-bit board default).  A
 * network stack sets up its rings and receive buffers, a packet burst
 * arrives, sensor records are logged while the burst drains, a camera wants
 * one large contiguous DMA buffer, a firmware update needs a staging
 * buffer, some bad frees are refused, and everything is torn down again.
 *
 * After each phase the demo prints, per region, one character per page
 * (64 pages to a line, the line's address first) from ph_walk, then the
 * figures of ph_get_stats.  Pages in use are lettered by who owns them;
 * the demo keeps its own list of allocations and checks it against the
 * heap's view on every map (a page one side calls used and the other free
 * is drawn as '!' and makes the demo fail).  It ends with ph_check(), and
 * exits non-zero if anything disagreed.
 *
 * The banks are mmap'ed at the addresses they have on a Cortex-M7 part
 * (0x20000000 and 0x24000000) when the host lets us, elsewhere otherwise.
 */
#define _GNU_SOURCE
#include "pageheap.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE_SIZE 256u       /* bytes per page: the 32-bit board default   */
#define MAP_COLUMNS 64u      /* pages drawn per line                       */
#define KIB 1024u

/* The two banks, as a linker script would name them. */
typedef struct bank {
    const char *name;
    const char *what;
    uintptr_t want;          /* address on the real part                   */
    size_t size;
    size_t granule;          /* power section size, 0 = never powered off  */
    void *mem;               /* where it lives on this host                */
} bank;

static bank banks[] = {
    { "DTCM", "fast, tightly coupled, always on", 0x20000000u, 64 * KIB, 0, NULL },
    { "AXI-SRAM", "big, 8 KiB power sections", 0x24000000u, 256 * KIB, 8 * KIB, NULL },
};
#define NBANKS (sizeof banks / sizeof banks[0])

/* ---- who owns what ---------------------------------------------------- */

#define MAX_ALLOCS 256u

typedef struct allocation {
    void *p;
    size_t npages;
    char owner;              /* the letter drawn on its pages               */
} allocation;

static allocation allocs[MAX_ALLOCS];
static size_t nallocs;
static bool failed;          /* something disagreed: exit non-zero          */

static const struct {
    char letter;
    const char *meaning;
} owners[] = {
    { 'R', "DMA descriptor rings (RX, TX)" },
    { 'P', "network packet buffers, 1536 B (6 pages) each" },
    { 'L', "sensor log records, 512 B (2 pages) each" },
    { 'D', "camera DMA frame buffer, 48 KiB contiguous" },
    { 'U', "firmware-update staging buffer, 64 KiB contiguous" },
};

static ph_heap heap;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  ERROR: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failed = true;
}

static size_t pages_of(size_t bytes)
{
    return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static const char *bank_of(const void *p)
{
    for (size_t i = 0; i < NBANKS; i++) {
        uintptr_t b = (uintptr_t)banks[i].mem;
        if ((uintptr_t)p >= b && (uintptr_t)p < b + banks[i].size)
            return banks[i].name;
    }
    return "?";
}

/* Allocates npages for `owner`; NULL (and a note) when the heap has no run. */
static void *take(size_t npages, char owner)
{
    void *p = ph_page_alloc(&heap, npages);
    if (p == NULL)
        return NULL;
    if (nallocs == MAX_ALLOCS) {
        fail("the demo's allocation list is full");
        return p;
    }
    allocs[nallocs].p = p;
    allocs[nallocs].npages = npages;
    allocs[nallocs].owner = owner;
    nallocs++;
    return p;
}

/* Frees an allocation the demo made, by pointer. */
static void give_back(void *p)
{
    for (size_t i = 0; i < nallocs; i++) {
        if (allocs[i].p == p) {
            ph_page_free(&heap, p, allocs[i].npages);
            allocs[i] = allocs[--nallocs];
            return;
        }
    }
    fail("the demo freed %p, which it never allocated", p);
}

/* True when any page of [p, p + npages pages) belongs to a live allocation. */
static bool overlaps_live(const void *p, size_t npages)
{
    uintptr_t a = (uintptr_t)p, end = a + npages * PAGE_SIZE;
    for (size_t i = 0; i < nallocs; i++) {
        uintptr_t b = (uintptr_t)allocs[i].p;
        if (b < end && a < b + allocs[i].npages * PAGE_SIZE)
            return true;
    }
    return false;
}

/* Frees every allocation of one owner. */
static size_t give_back_all(char owner)
{
    size_t n = 0;
    for (size_t i = nallocs; i-- > 0;) {
        if (allocs[i].owner == owner) {
            give_back(allocs[i].p);
            n++;
        }
    }
    return n;
}

/* ---- the map ------------------------------------------------------------ */

typedef struct map_region {
    uintptr_t first;         /* address of the first drawn page (metadata) */
    size_t npages;           /* drawn pages: metadata + usable             */
    char *cells;
} map_region;

typedef struct map {
    map_region regions[PH_MAX_REGIONS];
    size_t nregions;
} map;

static char state_char(int state)
{
    switch (state) {
    case PH_PAGES_META: return 'M';
    case PH_PAGES_USED: return '#';
    case PH_PAGES_FREE: return '.';
    case PH_PAGES_RELEASED: return '~';
    default: return '?';
    }
}

static void on_run(void *ctx, const void *base, size_t npages, int state)
{
    map *m = ctx;
    uintptr_t a = (uintptr_t)base;
    for (size_t i = 0; i < m->nregions; i++) {
        map_region *r = &m->regions[i];
        if (a >= r->first && a < r->first + r->npages * PAGE_SIZE) {
            size_t at = (a - r->first) / PAGE_SIZE;
            if (npages > r->npages - at) {
                r->cells[0] = '!'; /* reported past its region: flagged below */
                return;
            }
            memset(r->cells + at, state_char(state), npages);
            return;
        }
    }
}

/* Letters the pages the demo owns; '!' where the demo and the heap differ. */
static size_t overlay_owners(map *m)
{
    size_t mismatches = 0;
    for (size_t i = 0; i < m->nregions; i++) {
        map_region *r = &m->regions[i];
        bool *owned = calloc(r->npages, sizeof *owned);
        if (owned == NULL) {
            fail("out of host memory");
            return 1;
        }
        for (size_t k = 0; k < nallocs; k++) {
            uintptr_t a = (uintptr_t)allocs[k].p;
            if (a < r->first || a >= r->first + r->npages * PAGE_SIZE)
                continue;
            size_t at = (a - r->first) / PAGE_SIZE;
            for (size_t j = at; j < at + allocs[k].npages && j < r->npages; j++) {
                owned[j] = true;
                if (r->cells[j] == '#') {
                    r->cells[j] = allocs[k].owner;
                } else {
                    r->cells[j] = '!';
                    mismatches++;
                }
            }
        }
        for (size_t j = 0; j < r->npages; j++) {
            if (r->cells[j] == '#' || r->cells[j] == '?' || (r->cells[j] == '!' && !owned[j])) {
                r->cells[j] = '!';
                mismatches++;
            }
        }
        free(owned);
    }
    return mismatches;
}

static void print_kib(size_t bytes)
{
    if (bytes % KIB == 0)
        printf("%zu KiB", bytes / KIB);
    else
        printf("%.2f KiB", (double)bytes / KIB);
}

static void show_stats(void)
{
    ph_stats s;
    ph_get_stats(&heap, &s);
    size_t used = s.pages_total - s.pages_free;
    printf("  in use %4zu pages (", used);
    print_kib(used * s.page_size);
    printf(")   free %4zu pages (", s.pages_free);
    print_kib(s.pages_free * s.page_size);
    printf("), largest free run %zu pages (", s.largest_free_run);
    print_kib(s.largest_free_run * s.page_size);
    printf(")\n  usable %zu pages in %zu regions, metadata ", s.pages_total, s.regions);
    print_kib(s.metadata_bytes);
    printf(", released (powered off) %zu pages, bad calls refused %zu\n", s.pages_released,
           s.faults);
}

/* Draws every region, then the statistics. */
static void show_heap(void)
{
    map m = { .nregions = 0 };
    ph_region_info info;

    while (m.nregions < PH_MAX_REGIONS && ph_get_region(&heap, m.nregions, &info) == PH_OK) {
        map_region *r = &m.regions[m.nregions++];
        r->first = (uintptr_t)info.meta_base;
        r->npages = info.meta_bytes / PAGE_SIZE + info.npages;
        r->cells = malloc(r->npages);
        if (r->cells == NULL) {
            fail("out of host memory");
            return;
        }
        memset(r->cells, '?', r->npages); /* anything ph_walk does not report */
    }
    ph_walk(&heap, on_run, &m);
    size_t mismatches = overlay_owners(&m);

    for (size_t i = 0; i < m.nregions; i++) {
        map_region *r = &m.regions[i];
        ph_get_region(&heap, i, &info);
        printf("\n  %s  0x%08jx-0x%08jx  ", bank_of(info.raw_base), (uintmax_t)(uintptr_t)info.raw_base,
               (uintmax_t)((uintptr_t)info.raw_base + info.raw_size));
        print_kib(info.raw_size);
        printf(", %zu metadata + %zu usable pages\n", info.meta_bytes / PAGE_SIZE, info.npages);
        for (size_t j = 0; j < r->npages; j += MAP_COLUMNS) {
            size_t n = r->npages - j < MAP_COLUMNS ? r->npages - j : MAP_COLUMNS;
            printf("  0x%08jx  %.*s\n", (uintmax_t)(r->first + j * PAGE_SIZE), (int)n,
                   r->cells + j);
        }
        free(r->cells);
    }
    printf("\n");
    show_stats();
    if (mismatches != 0)
        fail("%zu pages differ between the demo's allocations and ph_walk ('!')", mismatches);
}

static int phase_no;

static void phase(const char *title)
{
    printf("\n==========================================================================\n");
    printf(" %d. %s\n", ++phase_no, title);
    printf("==========================================================================\n");
}

/* ---- the port: only the fault hook, which a board would log ------------ */

static const char *fault_name(int code)
{
    switch (code) {
    case PH_FAULT_BAD_POINTER: return "bad pointer";
    case PH_FAULT_DOUBLE_FREE: return "double free";
    default: return "unknown fault";
    }
}

static size_t faults_seen;

static void on_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    faults_seen++;
    printf("  fault hook: %s, address %p: refused, heap unchanged\n", fault_name(code), addr);
}

static const ph_port port = { .fault = on_fault };

/* ---- set-up --------------------------------------------------------------- */

static void *map_bank(bank *b)
{
#ifdef MAP_FIXED_NOREPLACE
    void *p = mmap((void *)b->want, b->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != MAP_FAILED && p == (void *)b->want)
        return p;
    if (p != MAP_FAILED)
        munmap(p, b->size);
#endif
    void *q = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return q == MAP_FAILED ? NULL : q;
}

static void where(const char *what, const void *p, size_t npages)
{
    printf("  %-34s %4zu pages at %p (%s)\n", what, npages, p, p ? bank_of(p) : "no room");
}

int main(void)
{
    printf("pageheap page allocator demo: a firmware-like day on two RAM banks\n");
    printf("page size %u bytes; one character per page, %u pages (%u KiB) per line:\n",
           PAGE_SIZE, MAP_COLUMNS, MAP_COLUMNS * PAGE_SIZE / KIB);
    printf("  M  allocator metadata (bitmaps and summary tree, at the low end of a region)\n");
    printf("  .  free    ~  free and released (powered off)    !  demo and heap disagree\n");
    for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++)
        printf("  %c  in use: %s\n", owners[i].letter, owners[i].meaning);

    if (ph_init(&heap, PAGE_SIZE, &port) != PH_OK) {
        printf("ph_init failed\n");
        return 1;
    }

    /* 1 */
    phase("Boot: the linker script's two heap banks are handed to pageheap");
    printf("  The big bank is added first: regions may come in any order, the heap\n"
           "  keeps them sorted by address.  Each keeps its metadata in its own low pages.\n");
    for (size_t i = NBANKS; i-- > 0;) {
        bank *b = &banks[i];
        b->mem = map_bank(b);
        if (b->mem == NULL) {
            printf("cannot map %s\n", b->name);
            return 1;
        }
        int rc = ph_add_region(&heap, b->mem, b->size, b->granule);
        printf("  ph_add_region(%-8s %p, ", b->name, b->mem);
        print_kib(b->size);
        printf(", granule %zu) = %d   (%s%s)\n", b->granule, rc, b->what,
               (uintptr_t)b->mem == b->want ? "" : "; not at its board address on this host");
        if (rc != PH_OK)
            return 1;
    }
    show_heap();
    ph_stats boot;
    ph_get_stats(&heap, &boot);

    /* 2 */
    phase("Network stack init: descriptor rings and 8 receive buffers");
    printf("  First fit over all regions in address order: everything lands in DTCM,\n"
           "  the lowest bank, packed from its first free page.\n");
    where("RX descriptor ring (1 KiB)", take(pages_of(1 * KIB), 'R'), pages_of(1 * KIB));
    where("TX descriptor ring (1 KiB)", take(pages_of(1 * KIB), 'R'), pages_of(1 * KIB));
    for (int i = 0; i < 8; i++)
        (void)take(pages_of(1536), 'P');
    printf("  8 RX packet buffers of 1536 B      %4zu pages each, in DTCM\n", pages_of(1536));
    show_heap();

    /* 3 */
    phase("Packet burst: 40 more receive buffers");
    printf("  DTCM fills up; the buffers that do not fit there go to AXI-SRAM.\n");
    void *burst[40];
    size_t in_dtcm = 0;
    for (int i = 0; i < 40; i++) {
        burst[i] = take(pages_of(1536), 'P');
        if (burst[i] == NULL)
            fail("packet buffer %d: no room", i);
        else
            in_dtcm += strcmp(bank_of(burst[i]), "DTCM") == 0;
    }
    printf("  40 packet buffers: %zu in DTCM, %zu in AXI-SRAM\n", in_dtcm, 40 - in_dtcm);
    show_heap();

    /* 4 */
    phase("Sensor logging while the burst drains");
    printf("  Packets are processed out of order: every other burst buffer is freed,\n"
           "  leaving 6-page holes.  24 sensor records of 2 pages are logged meanwhile:\n"
           "  first fit puts them into the lowest holes, three to a hole.\n");
    for (int i = 0; i < 40; i += 2)
        give_back(burst[i]);
    for (int i = 0; i < 24; i++)
        if (take(pages_of(512), 'L') == NULL)
            fail("sensor record %d: no room", i);
    show_heap();

    /* 5 */
    phase("Camera: one 48 KiB contiguous DMA frame buffer");
    printf("  Plenty of pages are free, but a DMA engine needs one contiguous run:\n"
           "  first fit takes the lowest run long enough, past the holes.\n");
    where("camera frame buffer (48 KiB)", take(pages_of(48 * KIB), 'D'), pages_of(48 * KIB));
    show_heap();

    /* 6 */
    phase("Burst over: the remaining packet buffers are freed");
    printf("  The 8 standing RX buffers stay; the burst's buffers go.  The holes\n"
           "  between log records merge with their free neighbours.\n");
    for (int i = 1; i < 40; i += 2)
        give_back(burst[i]);
    show_heap();

    /* 7 */
    phase("Firmware update: a 64 KiB staging buffer");
    printf("  64 KiB is the whole DTCM bank, so only AXI-SRAM can hold it: it goes\n"
           "  to the lowest run there that is long enough.\n");
    void *staging = take(pages_of(64 * KIB), 'U');
    where("update staging buffer (64 KiB)", staging, pages_of(64 * KIB));
    if (staging == NULL)
        fail("no room for the staging buffer");
    show_heap();

    /* 8 */
    phase("Bugs in the application: bad frees are refused, not obeyed");
    ph_stats before, after;
    ph_get_stats(&heap, &before);
    /* An address in the gap between the banks (mapped nowhere; the heap
     * only compares it against its regions). */
    char *gap = (char *)banks[0].mem + banks[0].size + 16 * KIB;
    if (strcmp(bank_of(gap), "?") != 0)
        gap = (char *)banks[0].mem - 16 * KIB;
    /* A burst buffer whose pages nobody has reused since it was freed
     * (freeing reused pages is a use-after-free no allocator can see). */
    void *stale = NULL;
    for (int i = 39; i >= 0 && stale == NULL; i--)
        if (!overlaps_live(burst[i], pages_of(1536)))
            stale = burst[i];
    printf("  freeing a packet buffer that was already freed:\n");
    ph_page_free(&heap, stale, pages_of(1536));
    printf("  freeing an address in the gap between the banks, in no region:\n");
    ph_page_free(&heap, gap, 1);
    printf("  freeing the staging buffer from an address inside it, not page aligned:\n");
    ph_page_free(&heap, (char *)staging + 100, 1);
    ph_get_stats(&heap, &after);
    if (faults_seen != 3 || after.faults != before.faults + 3 || after.pages_free != before.pages_free)
        fail("the bad frees were not all refused cleanly");
    else
        printf("  3 faults reported and counted; no page changed state.\n");
    show_heap();

    /* 9 */
    phase("Shutdown: everything is freed");
    give_back_all('U');
    give_back_all('D');
    give_back_all('L');
    give_back_all('P');
    give_back_all('R');
    show_heap();
    ph_stats end;
    ph_get_stats(&heap, &end);
    if (end.pages_free != end.pages_total || end.largest_free_run != boot.largest_free_run)
        fail("the heap is not back to its boot state");

    int check = ph_check(&heap);
    printf("\nph_check() = %d (%s)\n", check, check == PH_OK ? "PH_OK: every invariant holds"
                                                            : "an invariant is broken");
    if (check != PH_OK || failed) {
        printf("page_demo: FAILED\n");
        return 1;
    }
    printf("page_demo: OK\n");
    return 0;
}
