/* SPDX-License-Identifier: MIT */
/*
 * demo (demo/qemu): the README's main job.  A firmware-like workload on a
 * QEMU board's default heap (newlib's malloc is pageheap, port/newlib), with
 * the scavenger powering RAM sections down in the idle loop, and the same
 * requests replayed on newlib's own allocators to show what they would have
 * kept powered.
 *
 * The story, in 10 ms scheduler ticks (simulated time: the firmware does
 * not wait, so a run takes about a second under QEMU):
 *   - a network stack keeps a ring of receive buffers for its whole life;
 *   - sensors write records every tick (IMU), every 10 ticks (environment)
 *     and every 100 ticks (GPS) into a ring that frees the oldest record;
 *     about one record in 48 is an event, copied into an event log that
 *     lives until the next upload (long-lived objects among short ones);
 *   - packets of 64..1536 B arrive in bursts of different strength, wait
 *     20..600 ms for processing and are freed; some grow (realloc: a header
 *     added) and some get a reply (a TX buffer freed a little later);
 *   - after every tick the CPU would sleep: it calls ph_idle on the default
 *     heap first, which releases RAM sections (granules) that the recent
 *     peak no longer needs, through the board's port (on QEMU boards the
 *     simulated power gate, port/simgate).
 * The phases (boot, quiet, burst, idle, storm, idle, upload, night) are in
 * `phases` below; the workload is scaled down on boards whose heap is small.
 *
 * After each phase the demo prints a map of the default heap, one character
 * per granule (per KiB where a region is never powered down):
 *     M  holds the region's metadata        #  every page in use
 *     +  some pages in use (powered)        .  free, still powered
 *     ~  released: powered down by the scavenger
 * then ph_get_stats, what the scavenger did (bytes released and re-acquired,
 * release/acquire calls, granule-seconds powered down; the simulated gate's
 * own record beside it) and the RAM each allocator keeps powered.  The
 * summary at the end compares them over the whole run: RAM powered for the
 * data (peak, mean, at the end), pageheap's metadata apart (it is always
 * powered and grows with the RAM handed to the heap: 2 B or so per page),
 * and granule-seconds powered down below each allocator's high-water mark
 * (RAM it had used and gave back), beside the total that includes the RAM
 * the workload never touched.
 *
 * newlib's malloc (full: dlmalloc; and newlib-nano's) never hands memory
 * below its sbrk top back to the board (dlmalloc trims the top only when
 * 128 KiB at the top are free), so what it keeps powered is its sbrk
 * extent.  The real allocators run here: demo/qemu/CMakeLists.txt copies
 * their objects out of the board's own libc.a and libc_nano.a and renames
 * their symbols (nlf_* for newlib, nln_* for newlib-nano), so they live
 * beside pageheap in this firmware, each on its own arena with its own
 * sbrk, and every request of the workload is made to all three.  The map
 * draws their arenas in the same granules (`|` marks the sbrk top; what lies
 * above it counts as powered down, which is generous to newlib: a board
 * would have to switch RAM at its sbrk top).
 *
 * Lines that begin with '@' are for scripts/plot-demo.py (scripts/run.sh
 * keeps the whole output in build/demo/<board>-output.txt, shows the other
 * lines and draws the plots from these):
 *   @info board=B cpu=C heap_ram=BYTES always_on=BYTES page=BYTES tick_ms=MS seed=N
 *   @phase n=N name=NAME start=TICK end=TICK
 *   @series t=TICK ph_data=B ph_meta=B ph_released=B [ph_released_used=B]
 *           [newlib=B nano=B]
 *       RAM powered after tick TICK (pageheap's data, its metadata; what it
 *       has released in all and, with a simulated gate, of that what lies
 *       below the workload's high-water mark: RAM it did use), printed when
 *       a value changed; t = the run's ticks: after the teardown
 *   @live t=TICK max=B   most live bytes after a tick of TICK-9..TICK
 *   @map name=peak|end t=TICK alloc=pageheap|newlib|nano region=R base=ADDR
 *        cell=BYTES [top=BYTES] cells=RUNS
 *       a map as above, each character followed by its repeat count when
 *       more than one ('_' = no heap page / above newlib's sbrk top); "peak"
 *       is printed again whenever pageheap's data reaches a new peak
 *   @end ticks=N
 *
 * Deterministic: the workload depends on DEMO_SEED only, never on an
 * address.  Every object is checked when freed (its fill bytes) and freed
 * at the end; the run exits 0 when ph_check() is PH_OK after every phase
 * and at the end, no call was refused (a fault) and no object changed, 1
 * otherwise.  A request the heap cannot serve is dropped and counted (a
 * NIC drops a packet): on a board with RAM enough there is none.
 *
 * Build-time switches (demo/qemu/CMakeLists.txt sets them):
 *   DEMO_SEED            the workload's seed (default 2024)
 *   DEMO_NEWLIB_MIRROR   1: link the renamed newlib allocators and compare
 *   DEMO_MIRROR_BYTES    each newlib allocator's arena (default 256 KiB)
 */
#include <errno.h>
#include <inttypes.h>
#include <reent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "pageheap.h"
#include "ph_newlib.h"
#if defined(__has_include)
#if __has_include("ph_simgate.h")
#include "ph_simgate.h"
#define DEMO_HAVE_SIMGATE 1
#endif
#endif
#ifndef DEMO_HAVE_SIMGATE
#define DEMO_HAVE_SIMGATE 0
#endif

#ifndef DEMO_SEED
#define DEMO_SEED 2024u
#endif
#ifndef DEMO_NEWLIB_MIRROR
#define DEMO_NEWLIB_MIRROR 0
#endif
#ifndef DEMO_MIRROR_BYTES
#define DEMO_MIRROR_BYTES (256u * 1024u)
#endif

#define KIB 1024u
#define TICK_MS 10u              /* one scheduler tick                       */
#define TICKS_PER_S (1000u / TICK_MS)
#define MAP_COLUMNS 64u          /* characters per map line                  */
#ifndef MAP_MAX_CELLS
#define MAP_MAX_CELLS 4096u      /* cells drawn per region at most           */
#endif
#define PLAIN_CELL (1u * KIB)    /* cell of a region that is never released  */

/* The workload at full scale (a heap of FULL_SCALE_HEAP bytes or more). */
#define FULL_SCALE_HEAP (384u * KIB)
#define RX_BUFFERS 8u            /* receive ring: long-lived 1536 B buffers  */
#define RX_BUFFER_BYTES 1536u
/* Table sizes (a board with little RAM builds smaller ones). */
#ifndef MAX_PACKETS
#define MAX_PACKETS 320u         /* packets and replies in flight at most    */
#endif
#ifndef SENSOR_RING
#define SENSOR_RING 160u         /* sensor records kept                      */
#endif
#ifndef EVENT_LOG
#define EVENT_LOG 64u            /* event records kept until the upload      */
#endif
#define EVENT_ONE_IN 48u         /* a record is an event with this odds      */

/* ---- deterministic random numbers (xorshift32) ------------------------- */

static uint32_t rng_state = DEMO_SEED;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Uniform in [lo, hi]. */
static uint32_t rng_range(uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(((uint64_t)rng() * (hi - lo + 1u)) >> 32);
}

/* ---- newlib's allocators, renamed (see the top of the file) ------------- */

#define NMIRRORS (DEMO_NEWLIB_MIRROR ? 2 : 0)

typedef struct mirror {
    const char *name;
    void *(*malloc_r)(struct _reent *, size_t);
    void (*free_r)(struct _reent *, void *);
    void *(*realloc_r)(struct _reent *, void *, size_t);
    char *base;              /* its arena                                    */
    size_t size;
    size_t brk, brk_high;    /* sbrk top, bytes from base; its high-water    */
    size_t sbrk_calls, trims;
    size_t failed;           /* requests it could not serve                  */
    uint64_t powered_ticks;  /* sum over ticks of mirror_powered             */
    uint64_t below_ticks;    /* sum over ticks of granules off below the
                                high-water mark (between top and high)       */
} mirror;

#if DEMO_NEWLIB_MIRROR
void *nlf_malloc_r(struct _reent *r, size_t n);
void nlf_free_r(struct _reent *r, void *p);
void *nlf_realloc_r(struct _reent *r, void *p, size_t n);
void *nln_malloc_r(struct _reent *r, size_t n);
void nln_free_r(struct _reent *r, void *p);
void *nln_realloc_r(struct _reent *r, void *p, size_t n);
/* What the renamed objects call instead of _sbrk_r. */
void *nlf_sbrk_r(struct _reent *r, ptrdiff_t incr);
void *nln_sbrk_r(struct _reent *r, ptrdiff_t incr);

static char arena_full[DEMO_MIRROR_BYTES] __attribute__((aligned(64)));
static char arena_nano[DEMO_MIRROR_BYTES] __attribute__((aligned(64)));

static mirror mirrors[2] = {
    { .name = "newlib (dlmalloc)", .malloc_r = nlf_malloc_r, .free_r = nlf_free_r,
      .realloc_r = nlf_realloc_r, .base = arena_full, .size = DEMO_MIRROR_BYTES },
    { .name = "newlib-nano", .malloc_r = nln_malloc_r, .free_r = nln_free_r,
      .realloc_r = nln_realloc_r, .base = arena_nano, .size = DEMO_MIRROR_BYTES },
};

static void *mirror_sbrk(mirror *m, struct _reent *r, ptrdiff_t incr)
{
    char *old = m->base + m->brk;
    m->sbrk_calls++;
    if (incr < 0) {
        if ((size_t)-incr > m->brk)
            goto nomem;
        m->brk -= (size_t)-incr;
        m->trims++;
    } else {
        if ((size_t)incr > m->size - m->brk)
            goto nomem;
        m->brk += (size_t)incr;
        if (m->brk > m->brk_high)
            m->brk_high = m->brk;
    }
    return old;
nomem:
    r->_errno = ENOMEM;
    return (void *)-1;
}

void *nlf_sbrk_r(struct _reent *r, ptrdiff_t incr) { return mirror_sbrk(&mirrors[0], r, incr); }
void *nln_sbrk_r(struct _reent *r, ptrdiff_t incr) { return mirror_sbrk(&mirrors[1], r, incr); }
#else
static mirror mirrors[1];
#endif

/* ---- the objects of the workload ---------------------------------------- */

enum kind { K_NONE, K_RX, K_PACKET, K_REPLY, K_RECORD, K_EVENT };

typedef struct obj {
    uint8_t *p;              /* pageheap's (malloc)                          */
    void *m[2];              /* the same request on each newlib allocator    */
    uint32_t size;
    uint32_t due;            /* tick at which it is freed (packets)          */
    uint8_t kind;
    uint8_t fill;            /* the byte it was filled with                  */
} obj;

static obj rx_ring[RX_BUFFERS];
static obj packets[MAX_PACKETS];
static obj ring[SENSOR_RING];
static obj events[EVENT_LOG];
static size_t ring_next, nevents;

static bool failed;          /* anything went wrong: exit non-zero           */
static size_t heap_ram;      /* bytes of RAM in the heap's regions           */
static size_t always_on;     /* of which in regions never powered down       */
static size_t nl_granule;    /* granule of the first bank that has one       */
static size_t page_size;
static uint32_t now;         /* the current tick                             */

typedef struct counts {
    size_t live_bytes, peak_live_bytes, live_objects;
    size_t mallocs, frees, reallocs, failed;
    size_t packets, replies, records, event_records, dropped_packets;
} counts;
static counts cnt;

static void fail(const char *what)
{
    printf("  ERROR: %s\n", what);
    failed = true;
}

/* The heap's regions, and per region the high-water mark of the
 * workload's objects (the end of the highest one so far): the granules the
 * scavenger powers down below it are RAM the workload did use, unlike the
 * untouched RAM above it that is off from boot on. */
#define DEMO_MAX_REGIONS 8u
typedef struct region_hw {
    uintptr_t base, end;     /* the region as handed to the heap             */
    size_t granule;
    uintptr_t high;          /* workload's high-water mark, base if unused   */
} region_hw;
static region_hw regs[DEMO_MAX_REGIONS];
static size_t nregs;

static void note_high(uintptr_t a, size_t size)
{
    for (size_t r = 0; r < nregs; r++)
        if (a >= regs[r].base && a < regs[r].end && a + size > regs[r].high)
            regs[r].high = a + size;
}

static void live_add(size_t bytes)
{
    cnt.live_bytes += bytes;
    if (cnt.live_bytes > cnt.peak_live_bytes)
        cnt.peak_live_bytes = cnt.live_bytes;
}

static void fill_check(const obj *o)
{
    /* The first and last bytes and one in the middle: cheap, and enough to
     * catch an object that overlaps another. */
    if (o->size == 0)
        return;
    if (o->p[0] != o->fill || o->p[o->size - 1] != o->fill || o->p[o->size / 2] != o->fill)
        fail("an object's contents changed while it was live");
}

/* malloc(size) on pageheap and on each newlib allocator.  false (and o
 * empty) when pageheap is out of memory. */
static bool obj_alloc(obj *o, size_t size, enum kind kind)
{
    o->p = malloc(size);
    cnt.mallocs++;
    if (o->p == NULL) {
        cnt.failed++;
        o->kind = K_NONE;
        return false;
    }
    note_high((uintptr_t)o->p, size);
    o->size = (uint32_t)size;
    o->kind = (uint8_t)kind;
    o->fill = (uint8_t)(0x40u + (rng_state & 0x3Fu));
    memset(o->p, o->fill, size); /* the DMA or the sensor writes it */
    for (int i = 0; i < NMIRRORS; i++) {
        o->m[i] = mirrors[i].malloc_r(_REENT, size);
        if (o->m[i] == NULL)
            mirrors[i].failed++;
    }
    cnt.live_objects++;
    live_add(size);
    return true;
}

static void obj_free(obj *o)
{
    if (o->kind == K_NONE)
        return;
    fill_check(o);
    free(o->p);
    cnt.frees++;
    for (int i = 0; i < NMIRRORS; i++)
        if (o->m[i] != NULL)
            mirrors[i].free_r(_REENT, o->m[i]);
    cnt.live_objects--;
    cnt.live_bytes -= o->size;
    o->kind = K_NONE;
    o->p = NULL;
}

/* realloc to `size`: the contents are kept (checked), the tail filled. */
static void obj_grow(obj *o, size_t size)
{
    fill_check(o);
    uint8_t *q = realloc(o->p, size);
    cnt.reallocs++;
    if (q == NULL) {
        cnt.failed++;
        return; /* the old object stays */
    }
    if (q[0] != o->fill || q[o->size - 1] != o->fill)
        fail("realloc lost an object's contents");
    memset(q + o->size, o->fill, size - o->size);
    for (int i = 0; i < NMIRRORS; i++) {
        if (o->m[i] == NULL)
            continue;
        void *m = mirrors[i].realloc_r(_REENT, o->m[i], size);
        if (m == NULL)
            mirrors[i].failed++; /* keeps the old one, as the C library does */
        else
            o->m[i] = m;
    }
    cnt.live_bytes -= o->size;
    live_add(size);
    o->p = q;
    note_high((uintptr_t)q, size);
    o->size = (uint32_t)size;
}

/* ---- the phases ----------------------------------------------------------- */

typedef struct phase {
    const char *name;
    const char *story;
    uint32_t ticks;          /* 10 ms each                                   */
    uint32_t rate16;         /* packets per tick, in sixteenths              */
    uint32_t big_pct;        /* percent of packets of 1024..1536 B           */
    uint32_t wait_max;       /* most ticks a packet waits for processing     */
    bool sensors;
    bool upload;             /* send the event log and free it               */
} phase;

static const phase phases[] = {
    { "boot", "receive ring set up, sensors start, a little traffic (DHCP, NTP)",
      100, 2, 10, 10, true, false },
    { "quiet", "sensors only, now and then a packet", 300, 1, 10, 10, true, false },
    { "burst", "a burst of traffic: ~150 packets/s, 20..600 ms in the stack",
      100, 24, 40, 60, true, false },
    { "idle", "the burst drained; the scavenger powers sections down", 400, 0, 0, 0, true, false },
    { "storm", "a bigger burst: ~300 packets/s, mostly near the MTU",
      150, 48, 70, 60, true, false },
    { "idle", "drained again", 400, 0, 0, 0, true, false },
    { "upload", "the event log is sent and freed, a few replies",
      100, 4, 20, 20, true, true },
    { "night", "sensors only, everything else asleep", 500, 0, 0, 0, true, false },
};
#define NPHASES (sizeof phases / sizeof phases[0])

/* Scale of the workload in 1/256: full on a heap of FULL_SCALE_HEAP or more,
 * less on small boards (packet rate and sizes of the rings). */
static uint32_t scale256 = 256;
static size_t ring_len = SENSOR_RING, event_len = EVENT_LOG;
static uint32_t max_packet = RX_BUFFER_BYTES; /* heap / 8 on a small heap */

/* ---- the heap's map ------------------------------------------------------ */

enum { CELL_META = 1, CELL_USED = 2, CELL_FREE = 4, CELL_RELEASED = 8 };

typedef struct map_ctx {
    uintptr_t origin;        /* address of cell 0                            */
    size_t cell;             /* bytes per cell                               */
    size_t page;
    size_t ncells;
    uint8_t flags[MAP_MAX_CELLS];
} map_ctx;

static map_ctx mapc;

static void map_walk(void *ctx, const void *base, size_t npages, int state)
{
    map_ctx *m = ctx;
    static const uint8_t flag[] = { CELL_META, CELL_USED, CELL_FREE, CELL_RELEASED };
    uintptr_t a = (uintptr_t)base, end = a + npages * m->page;
    if (end <= m->origin || a >= m->origin + m->ncells * m->cell)
        return; /* another region's run */
    if (a < m->origin)
        a = m->origin;
    for (; a < end; a = (a / m->cell + 1) * m->cell) {
        size_t c = (a - m->origin) / m->cell;
        if (c >= m->ncells)
            break;
        m->flags[c] |= flag[state];
    }
}

static char cell_char(uint8_t f)
{
    if (f & CELL_META)
        return 'M';
    if (f == CELL_RELEASED)
        return '~';
    if (f & CELL_USED)
        return (f & (CELL_FREE | CELL_RELEASED)) ? '+' : '#';
    if (f & CELL_FREE)
        return '.';
    return ' '; /* no page of the heap (the region's unaligned edge) */
}

/* Prints cells as lines of MAP_COLUMNS, each with its address; a tail of
 * identical cells longer than a line is folded into one note. */
static void print_cells(const char *s, size_t n, uintptr_t origin, size_t cell)
{
    size_t shown = n;
    while (shown > 0 && s[shown - 1] == s[n - 1])
        shown--;
    if (n - shown <= MAP_COLUMNS)
        shown = n;
    else
        shown = (shown + MAP_COLUMNS - 1) / MAP_COLUMNS * MAP_COLUMNS;
    for (size_t i = 0, k; i < shown; i += k) {
        k = shown - i < MAP_COLUMNS ? shown - i : MAP_COLUMNS;
        if (shown - i - k <= MAP_COLUMNS / 8)
            k = shown - i; /* a short last line joins this one */
        printf("    %08x %.*s\n", (unsigned)(origin + i * cell), (int)k, s + i);
    }
    if (shown < n)
        printf("    %08x ... %u more cells '%c' (%u KiB)\n",
               origin + shown * cell, n - shown, s[n - 1], (n - shown) * cell / KIB);
}

static char linebuf[MAP_MAX_CELLS + 1];


/* Region ri's map into linebuf: its number of cells, their first address
 * and size in *lo and *cell. */
static size_t heap_cells(ph_heap *h, const ph_region_info *ri, uintptr_t *lo, size_t *cell)
{
    *cell = ri->granule ? ri->granule : PLAIN_CELL;
    *lo = (uintptr_t)ri->raw_base / *cell * *cell;
    uintptr_t hi = (uintptr_t)ri->raw_base + ri->raw_size;
    size_t n = (hi - *lo + *cell - 1) / *cell;
    if (n > MAP_MAX_CELLS)
        n = MAP_MAX_CELLS;
    memset(&mapc, 0, sizeof mapc);
    mapc.origin = *lo;
    mapc.cell = *cell;
    mapc.page = page_size;
    mapc.ncells = n;
    ph_walk(h, map_walk, &mapc);
    for (size_t i = 0; i < n; i++)
        linebuf[i] = cell_char(mapc.flags[i]);
    return n;
}

static void print_heap_map(ph_heap *h)
{
    ph_region_info ri;
    for (size_t r = 0; ph_get_region(h, r, &ri) == PH_OK; r++) {
        uintptr_t lo;
        size_t cell;
        size_t n = heap_cells(h, &ri, &lo, &cell);
        if (ri.granule)
            printf("  region %u: %u KiB at %p, %u KiB granules (one character each)\n", r,
                   ri.raw_size / KIB, ri.raw_base, ri.granule / KIB);
        else
            printf("  region %u: %u KiB at %p, never powered down (one character per KiB)\n",
                   r, ri.raw_size / KIB, ri.raw_base);
        print_cells(linebuf, n, lo, cell);
    }
}

#if DEMO_NEWLIB_MIRROR
/* An arena in the heap's largest granule: '#' / '+' / '.' by the live bytes
 * of this workload in the cell, below the sbrk top (all of it powered, its
 * free holes included); ' ' above it (could be powered down). */
static size_t mirror_cells(const mirror *m, int idx)
{
    size_t cell = nl_granule;
    size_t n = (m->size + cell - 1) / cell;
    static uint32_t live[MAP_MAX_CELLS];
    if (n > MAP_MAX_CELLS)
        n = MAP_MAX_CELLS;
    memset(live, 0, n * sizeof live[0]);
    const obj *sets[] = { rx_ring, packets, ring, events };
    const size_t lens[] = { RX_BUFFERS, MAX_PACKETS, SENSOR_RING, EVENT_LOG };
    for (size_t s = 0; s < 4; s++) {
        for (size_t i = 0; i < lens[s]; i++) {
            const obj *o = &sets[s][i];
            if (o->kind == K_NONE || o->m[idx] == NULL)
                continue;
            size_t a = (size_t)((char *)o->m[idx] - m->base), e = a + o->size;
            while (a < e) {
                size_t c = a / cell, ce = (c + 1) * cell;
                size_t k = (ce < e ? ce : e) - a;
                if (c < n)
                    live[c] += (uint32_t)k;
                a += k;
            }
        }
    }
    size_t top = (m->brk + cell - 1) / cell;
    for (size_t i = 0; i < n; i++) {
        if (i >= top)
            linebuf[i] = ' ';
        else if (live[i] == 0)
            linebuf[i] = '.';
        else
            linebuf[i] = live[i] + cell / 16 >= cell ? '#' : '+';
    }
    return n;
}

static void print_mirror_map(const mirror *m, int idx)
{
    size_t cell = nl_granule;
    size_t n = mirror_cells(m, idx);
    size_t top = (m->brk + cell - 1) / cell;
    if (top < n)
        linebuf[top] = '|';
    printf("  %s: sbrk top %u KiB (high-water %u KiB), %u KiB granules\n", m->name,
           m->brk / KIB, m->brk_high / KIB, cell / KIB);
    print_cells(linebuf, top < n ? top + 1 : n, 0, cell);
}
#endif

/* ---- what is powered ---------------------------------------------------- */

/* Heap RAM powered: all of the regions as handed to the heap (unaligned
 * edges included) but the released granules.  Of it, the metadata (the
 * first pages of each region: bitmaps, summaries, page map) is always
 * powered; the rest holds the data: pages in use, free pages still
 * powered, RAM that is never powered down. */
static size_t ph_powered(const ph_stats *s)
{
    return heap_ram - s->pages_released * s->page_size;
}

static size_t ph_data_powered(const ph_stats *s)
{
    return ph_powered(s) - s->metadata_bytes;
}

/* newlib's allocators on the same RAM: an sbrk heap keeps [base, top)
 * powered, its chunk headers inside.  Its first `always_on` bytes are RAM
 * the board never powers down anyway; past them it holds whole granules
 * (of the first bank that has them, where an sbrk heap would start) up to
 * its top.  Everything above the top counts as powered down. */
static size_t mirror_powered_at(size_t brk)
{
    size_t p = always_on;
    if (brk > always_on)
        p += (brk - always_on + nl_granule - 1) / nl_granule * nl_granule;
    return p < heap_ram ? p : heap_ram;
}

static size_t mirror_powered(const mirror *m)
{
    return mirror_powered_at(m->brk);
}

/* ---- the lines for scripts/plot-demo.py (see the top of the file) ------- */

/* cells as runs: each character, then its count when more than one. */
static void print_runs(const char *c, size_t n)
{
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && c[j] == c[i];)
            j++;
        putchar(c[i] == ' ' ? '_' : c[i]);
        if (j - i > 1)
            printf("%u", (unsigned)(j - i));
    }
}

static void plot_maps(ph_heap *h, const char *name)
{
    ph_region_info ri;
    for (size_t r = 0; ph_get_region(h, r, &ri) == PH_OK; r++) {
        uintptr_t lo;
        size_t cell;
        size_t n = heap_cells(h, &ri, &lo, &cell);
        printf("@map name=%s t=%u alloc=pageheap region=%u base=0x%08x cell=%u cells=", name,
               (unsigned)now, (unsigned)r, (unsigned)lo, (unsigned)cell);
        print_runs(linebuf, n);
        printf("\n");
    }
#if DEMO_NEWLIB_MIRROR
    for (int i = 0; i < NMIRRORS; i++) {
        size_t n = mirror_cells(&mirrors[i], i);
        printf("@map name=%s t=%u alloc=%s region=0 base=0x00000000 cell=%u top=%u cells=", name,
               (unsigned)now, i == 0 ? "newlib" : "nano", (unsigned)nl_granule,
               (unsigned)mirrors[i].brk);
        print_runs(linebuf, n);
        printf("\n");
    }
#endif
}

/* The last @series values printed; released_used is SIZE_MAX without a
 * simulated gate (not printed). */
static size_t plot_last[6];
static bool plot_started;
static size_t live_window;

static void plot_series(const ph_stats *s, size_t released_used, uint32_t t, bool force)
{
    size_t v[6] = { ph_data_powered(s), s->metadata_bytes, s->pages_released * s->page_size,
                    released_used, 0, 0 };
    for (int i = 0; i < NMIRRORS; i++)
        v[4 + i] = mirror_powered(&mirrors[i]);
    if (!force && plot_started && memcmp(v, plot_last, sizeof v) == 0)
        return;
    plot_started = true;
    memcpy(plot_last, v, sizeof v);
    printf("@series t=%u ph_data=%u ph_meta=%u ph_released=%u", (unsigned)t, (unsigned)v[0],
           (unsigned)v[1], (unsigned)v[2]);
    if (released_used != SIZE_MAX)
        printf(" ph_released_used=%u", (unsigned)released_used);
    if (NMIRRORS)
        printf(" newlib=%u nano=%u", (unsigned)v[4], (unsigned)v[5]);
    printf("\n");
}

/* Bytes of released granules below the workload's high-water marks. */
static size_t released_used_bytes(void)
{
    size_t b = SIZE_MAX;
#if DEMO_HAVE_SIMGATE
    struct ph_simgate *g = board_simgate();
    if (g != NULL)
        b = 0;
    for (size_t r = 0; g != NULL && r < nregs; r++) {
        if (regs[r].granule == 0)
            continue;
        for (uintptr_t a = regs[r].base / regs[r].granule * regs[r].granule; a < regs[r].high;
             a += regs[r].granule)
            b += (size_t)ph_simgate_is_released(g, (const void *)a) * regs[r].granule;
    }
#endif
    return b;
}

typedef struct energy {
    uint64_t powered_ticks;     /* sum over ticks of ph_powered              */
    uint64_t data_ticks;        /* sum over ticks of ph_data_powered         */
    uint64_t granule_ticks;     /* sum over ticks of granules released       */
    uint64_t below_ticks;       /* ... of those below the high-water marks   */
    size_t peak_data;
} energy;
static energy en;

static void account_tick(ph_heap *h)
{
    ph_stats s;
    ph_get_stats(h, &s);
    en.powered_ticks += ph_powered(&s);
    en.data_ticks += ph_data_powered(&s);
    en.granule_ticks += s.granules_released;
    bool peak = ph_data_powered(&s) > en.peak_data;
    if (peak)
        en.peak_data = ph_data_powered(&s);
#if DEMO_HAVE_SIMGATE
    struct ph_simgate *g = board_simgate();
    for (size_t r = 0; g != NULL && r < nregs; r++) {
        if (regs[r].granule == 0)
            continue;
        for (uintptr_t a = regs[r].base / regs[r].granule * regs[r].granule; a < regs[r].high;
             a += regs[r].granule)
            en.below_ticks += (uint64_t)ph_simgate_is_released(g, (const void *)a);
    }
#endif
    for (int i = 0; i < NMIRRORS; i++) {
        mirror *m = &mirrors[i];
        m->powered_ticks += mirror_powered(m);
        m->below_ticks += (mirror_powered_at(m->brk_high) - mirror_powered(m)) / nl_granule;
    }
    plot_series(&s, released_used_bytes(), now, false);
    if (cnt.live_bytes > live_window)
        live_window = cnt.live_bytes;
    if (now % 10 == 9) {
        printf("@live t=%u max=%u\n", (unsigned)now, (unsigned)live_window);
        live_window = 0;
    }
    if (peak)
        plot_maps(h, "peak");
}

/* "12.3" from a value in tenths. */
static void print_kib(const char *label, uint64_t bytes)
{
    printf("%s%u.%u KiB", label, (unsigned)(bytes / KIB), (unsigned)(bytes % KIB * 10 / KIB));
}

/* A count of ticks as seconds, "12.34". */
static void print_seconds_n(uint64_t ticks)
{
    printf("%u.%02u", (unsigned)(ticks / TICKS_PER_S),
           (unsigned)(ticks % TICKS_PER_S * (100 / TICKS_PER_S)));
}

static void print_seconds(uint64_t ticks)
{
    printf("%u.%02u s", (unsigned)(ticks / TICKS_PER_S), (unsigned)(ticks % TICKS_PER_S * (100 / TICKS_PER_S)));
}

#if DEMO_HAVE_SIMGATE
/* The board's simulated power gate (port/simgate) keeps its own record of
 * what the heap released: it poisons released granules, makes them
 * no-access through the MPU where the core has one, and checks the poison
 * when they come back; any violation ends the run. */
static void demo_print_simgate(void)
{
    struct ph_simgate *g = board_simgate();
    if (g == NULL)
        return;
    printf("  simulated power gate: %lu granules off now (peak %lu); %lu release / %lu acquire calls",
           g->granules_released, g->peak_granules_released, g->releases, g->acquires);
    if (g->mpu_regions)
        printf("; MPU: %u of %u regions guard them (%lu updates)", (unsigned)g->mpu_regions_used,
               (unsigned)g->mpu_regions, g->mpu_updates);
    printf("; violations %lu\n", ph_simgate_violations(g));
}
#endif

static void print_stats(ph_heap *h)
{
    ph_stats s;
    ph_get_stats(h, &s);
    size_t used = s.pages_total - s.pages_free;
    printf("  stats: %u pages of %u B: %u in use (%u spans in %u pages, %u large objects in %u"
           " pages), %u free and powered, %u released; largest free run %u pages; metadata %u B;"
           " faults %u\n",
           s.pages_total, s.page_size, used, s.small_spans, s.small_span_pages, s.large_objects,
           s.large_pages, s.pages_free - s.pages_released, s.pages_released, s.largest_free_run,
           s.metadata_bytes, s.faults);
    size_t inflight = 0, records = 0;
    for (size_t i = 0; i < MAX_PACKETS; i++)
        inflight += packets[i].kind != K_NONE;
    for (size_t i = 0; i < SENSOR_RING; i++)
        records += ring[i].kind != K_NONE;
    printf("  live: %u objects, ", cnt.live_objects);
    print_kib("", cnt.live_bytes);
    print_kib(" (peak ", cnt.peak_live_bytes);
    printf("): %u packets in the stack, %u sensor records, %u events logged\n", (unsigned)inflight,
           (unsigned)records, (unsigned)nevents);
    printf("  scavenger: %u granules powered down now; ", s.granules_released);
    print_kib("released ", s.bytes_released);
    printf(" in %u calls, ", s.release_calls);
    print_kib("re-acquired ", s.bytes_acquired);
    printf(" in %u calls; ", s.acquire_calls);
    print_seconds_n(en.granule_ticks);
    printf(" granule-seconds powered down so far\n");
#if DEMO_HAVE_SIMGATE
    demo_print_simgate();
#endif
    print_kib("  RAM powered now: pageheap ", ph_data_powered(&s));
    print_kib(" + metadata ", s.metadata_bytes);
    for (int i = 0; i < NMIRRORS; i++)
        print_kib(i == 0 ? ", newlib " : ", newlib-nano ", mirror_powered(&mirrors[i]));
    printf("\n");
}

/* ---- the workload, one tick --------------------------------------------- */

static obj *free_packet_slot(void)
{
    for (size_t i = 0; i < MAX_PACKETS; i++)
        if (packets[i].kind == K_NONE)
            return &packets[i];
    return NULL;
}

static uint32_t packet_size(const phase *ph)
{
    uint32_t r = rng_range(0, 99), n;
    if (r < ph->big_pct)
        n = rng_range(1024, 1536);
    else if (r < ph->big_pct + (100 - ph->big_pct) / 2)
        n = rng_range(64, 160);      /* ACKs, small datagrams */
    else
        n = rng_range(256, 768);     /* requests, telemetry */
    return n < max_packet ? n : max_packet;
}

static void arrive(const phase *ph)
{
    obj *o = free_packet_slot();
    if (o == NULL) {
        cnt.dropped_packets++; /* the stack is full: dropped, as a NIC would */
        return;
    }
    if (!obj_alloc(o, packet_size(ph), K_PACKET)) {
        cnt.dropped_packets++;
        return;
    }
    o->due = now + rng_range(2, ph->wait_max > 2 ? ph->wait_max : 2);
    cnt.packets++;
}

static void process_due(const phase *ph)
{
    for (size_t i = 0; i < MAX_PACKETS; i++) {
        obj *o = &packets[i];
        if (o->kind == K_NONE || o->due > now)
            continue;
        if (o->kind == K_PACKET) {
            uint32_t r = rng_range(0, 99);
            if (r < 10 && o->size + 96 <= max_packet) {
                /* a tunnel header is added before it is forwarded */
                obj_grow(o, o->size + rng_range(16, 96));
                o->due = now + rng_range(1, 4);
                continue;
            }
            if (r < 35) {
                /* a reply, sent a little later */
                obj *t = free_packet_slot();
                if (t != NULL && obj_alloc(t, rng_range(64, 512), K_REPLY)) {
                    t->due = now + rng_range(1, 8);
                    cnt.replies++;
                }
            }
        }
        obj_free(o);
    }
    (void)ph;
}

static void sensor_record(size_t size)
{
    obj *o = &ring[ring_next];
    obj_free(o); /* the oldest record goes */
    if (!obj_alloc(o, size, K_RECORD))
        return;
    ring_next = (ring_next + 1) % ring_len;
    cnt.records++;
    if (rng_range(1, EVENT_ONE_IN) == 1 && nevents < event_len) {
        /* an event: a copy with a timestamp goes to the log until the upload */
        if (obj_alloc(&events[nevents], size + 8, K_EVENT)) {
            nevents++;
            cnt.event_records++;
        }
    }
}

static void upload_events(void)
{
    for (size_t i = 0; i < nevents; i++)
        obj_free(&events[i]);
    nevents = 0;
}

static void tick(const phase *ph)
{
    /* packets: rate in sixteenths per tick, scaled to the heap */
    uint32_t rate = ph->rate16 * scale256;
    uint32_t n = rate / (16u * 256u);
    if (rng_range(0, 16u * 256u - 1) < rate % (16u * 256u))
        n++;
    for (uint32_t i = 0; i < n; i++)
        arrive(ph);
    process_due(ph);
    if (ph->sensors) {
        sensor_record(rng_range(40, 56));                     /* IMU, every tick   */
        if (now % 10 == 0)
            sensor_record(24);                                /* environment       */
        if (now % TICKS_PER_S == 0)
            sensor_record(96);                                /* GPS fix           */
    }
    if (ph->upload && nevents > 0 && rng_range(0, 3) == 0) {
        upload_events();
    }
}

/* ---- main ---------------------------------------------------------------- */

static void print_legend(void)
{
    printf("map legend: M metadata, # in use, + partly in use, . free (powered), ~ released (powered down)\n");
#if DEMO_NEWLIB_MIRROR
    printf("newlib rows: the same requests on newlib's allocators: # / + / . = live bytes in the granule\n"
           "(all of it powered), | = sbrk top: RAM above it counts as powered down (generous)\n");
#endif
}

static void print_summary(ph_heap *h)
{
    ph_stats s;
    ph_get_stats(h, &s);
    uint32_t t = now;
    printf("\n== summary: %u ticks of %u ms (", (unsigned)t, TICK_MS);
    print_seconds(t);
    printf(" simulated), seed %u\n", (unsigned)DEMO_SEED);
    printf("requests: %u malloc, %u realloc, %u free (%u packets, %u replies, %u sensor records,"
           " %u events); %u failed, %u packets dropped\n",
           cnt.mallocs, cnt.reallocs, cnt.frees, cnt.packets, cnt.replies, cnt.records,
           cnt.event_records, cnt.failed, cnt.dropped_packets);
    print_kib("peak live bytes: ", cnt.peak_live_bytes);
    printf("\n\n");
    printf("| | pageheap + scavenger |");
    for (int i = 0; i < NMIRRORS; i++)
        printf(" %s |", mirrors[i].name);
    printf("\n|---|---:|");
    for (int i = 0; i < NMIRRORS; i++)
        printf("---:|");
    printf("\n");
    print_kib("| RAM powered for the data, peak | ", en.peak_data);
    for (int i = 0; i < NMIRRORS; i++)
        print_kib(" | ", mirror_powered_at(mirrors[i].brk_high));
    printf(" |\n");
    print_kib("| RAM powered for the data, mean over the run | ", en.data_ticks / (t ? t : 1));
    for (int i = 0; i < NMIRRORS; i++)
        print_kib(" | ", mirrors[i].powered_ticks / (t ? t : 1));
    printf(" |\n");
    print_kib("| RAM powered for the data at the end (all freed) | ", ph_data_powered(&s));
    for (int i = 0; i < NMIRRORS; i++)
        print_kib(" | ", mirror_powered(&mirrors[i]));
    printf(" |\n");
    print_kib("| allocator metadata, always powered | ", s.metadata_bytes);
    for (int i = 0; i < NMIRRORS; i++)
        printf(" | (headers inside the data)");
    printf(" |\n");
    print_kib("| RAM powered in all, mean over the run | ", en.powered_ticks / (t ? t : 1));
    for (int i = 0; i < NMIRRORS; i++)
        print_kib(" | ", mirrors[i].powered_ticks / (t ? t : 1));
    printf(" |\n");
#if DEMO_HAVE_SIMGATE
    printf("| granule-seconds powered down below the high-water mark | ");
    print_seconds_n(en.below_ticks);
    for (int i = 0; i < NMIRRORS; i++) {
        printf(" | ");
        print_seconds_n(mirrors[i].below_ticks);
    }
    printf(" |\n");
#endif
    printf("| granule-seconds powered down in all (untouched RAM included) | ");
    print_seconds_n(en.granule_ticks);
    for (int i = 0; i < NMIRRORS; i++)
        printf(" | -");
    printf(" |\n");
    printf("| release / acquire calls | %u / %u |", s.release_calls, s.acquire_calls);
    for (int i = 0; i < NMIRRORS; i++)
        printf(" sbrk %u (%u trims) |", mirrors[i].sbrk_calls, mirrors[i].trims);
    printf("\n| failed requests | %u |", cnt.failed);
    for (int i = 0; i < NMIRRORS; i++)
        printf(" %u |", mirrors[i].failed);
    printf("\n\n");
#if DEMO_NEWLIB_MIRROR
    printf("RAM powered: of the heap's %u KiB of RAM (%u KiB of it never powered down), what is not\n"
           "powered down.  pageheap: all but the granules the scavenger released; its metadata (%u.%u B\n"
           "per %u B page, in the first pages of each region) is always powered, so a board that hands\n"
           "the heap much more RAM than it needs, in small pages, pays for it there.  newlib on the same\n"
           "RAM: whole %u KiB granules up to its sbrk top (RAM above the top counts as powered down,\n"
           "which is generous: the board would have to switch sections at every sbrk itself).\n",
           (unsigned)(heap_ram / KIB), (unsigned)(always_on / KIB),
           (unsigned)(s.metadata_bytes / (s.pages_total + 1)),
           (unsigned)(s.metadata_bytes * 10 / (s.pages_total + 1) % 10), (unsigned)s.page_size,
           (unsigned)(nl_granule / KIB));
#endif
}

int main(void)
{
    printf("\npageheap demo on %s (%s): the default heap behind newlib's malloc, the scavenger in the idle loop\n",
           board_name(), board_cpu());
    ph_heap *h = ph_newlib_heap();
    if (h == NULL) {
        printf("demo: the default heap could not be set up\n");
        board_exit(1);
    }
    ph_stats s;
    ph_get_stats(h, &s);
    size_t heap_bytes = s.pages_total * s.page_size;
    ph_region_info ri;
    page_size = s.page_size;
    for (size_t r = 0; ph_get_region(h, r, &ri) == PH_OK; r++) {
        if (nregs < DEMO_MAX_REGIONS) {
            regs[nregs].base = (uintptr_t)ri.raw_base;
            regs[nregs].end = (uintptr_t)ri.raw_base + ri.raw_size;
            regs[nregs].granule = ri.granule;
            regs[nregs].high = (uintptr_t)ri.base; /* the metadata is no workload's */
            nregs++;
        }
        heap_ram += ri.raw_size;
        if (ri.granule == 0)
            always_on += ri.raw_size;
        if (ri.granule != 0 && nl_granule == 0)
            nl_granule = ri.granule;
    }
    if (nl_granule == 0)
        nl_granule = 4 * KIB;
    if (heap_bytes < FULL_SCALE_HEAP) {
        scale256 = (uint32_t)(heap_bytes * 256u / FULL_SCALE_HEAP);
        ring_len = SENSOR_RING * scale256 / 256u;
        event_len = EVENT_LOG * scale256 / 256u;
        if (ring_len < 8)
            ring_len = 8;
        if (event_len < 4)
            event_len = 4;
        if (ring_len > SENSOR_RING)
            ring_len = SENSOR_RING;
        if (event_len > EVENT_LOG)
            event_len = EVENT_LOG;
        if (heap_bytes / 8 < max_packet)
            max_packet = (uint32_t)(heap_bytes / 8);
    }
    printf("heap: %u regions, %u KiB usable in %u B pages, %u B metadata; workload scale %u/256\n",
           s.regions, heap_bytes / KIB, s.page_size, s.metadata_bytes, (unsigned)scale256);
    print_legend();
    printf("@info board=%s cpu=%s heap_ram=%u always_on=%u page=%u tick_ms=%u seed=%u\n",
           board_name(), board_cpu(), (unsigned)heap_ram, (unsigned)always_on,
           (unsigned)page_size, TICK_MS, (unsigned)DEMO_SEED);

    /* Boot: nothing is in use yet, so what the heap will not need soon can
     * be powered down at once (ph_idle would get there too, 4 KiB a call). */
    size_t off = ph_scavenge(h, SIZE_MAX);
    printf("boot: ph_scavenge(h, SIZE_MAX) powered down %u KiB of unused heap RAM\n", off / KIB);

    for (size_t i = 0; i < RX_BUFFERS * scale256 / 256u + 1 && i < RX_BUFFERS; i++)
        obj_alloc(&rx_ring[i], max_packet, K_RX);

    for (size_t p = 0; p < NPHASES; p++) {
        const phase *ph = &phases[p];
        uint32_t start = now;
        for (uint32_t k = 0; k < ph->ticks; k++, now++) {
            tick(ph);
            ph_idle(h); /* the CPU would sleep until the next tick now */
            account_tick(h);
        }
        if (ph->upload)
            upload_events();
        printf("@phase n=%u name=%s start=%u end=%u\n", (unsigned)(p + 1), ph->name,
               (unsigned)start, (unsigned)now);
        printf("\n== phase %u/%u: %s (", p + 1, NPHASES, ph->name);
        print_seconds(start);
        printf(" .. ");
        print_seconds(now);
        printf("): %s\n", ph->story);
        print_heap_map(h);
#if DEMO_NEWLIB_MIRROR
        for (int i = 0; i < NMIRRORS; i++)
            print_mirror_map(&mirrors[i], i);
#endif
        print_stats(h);
        int rc = ph_check(h);
        if (rc != PH_OK) {
            printf("  ph_check: %d\n", rc);
            failed = true;
        }
    }

    /* Teardown: everything goes; every page must be free again. */
    for (size_t i = 0; i < RX_BUFFERS; i++)
        obj_free(&rx_ring[i]);
    for (size_t i = 0; i < MAX_PACKETS; i++)
        obj_free(&packets[i]);
    for (size_t i = 0; i < SENSOR_RING; i++)
        obj_free(&ring[i]);
    upload_events();
    ph_scavenge(h, SIZE_MAX);
    printf("\n== teardown: every object freed, ph_scavenge(h, SIZE_MAX)\n");
    print_heap_map(h);
    {
        ph_stats e;
        ph_get_stats(h, &e);
        plot_series(&e, released_used_bytes(), now, true);
        plot_maps(h, "end");
        printf("@end ticks=%u\n", (unsigned)now);
    }
    print_stats(h);
    print_summary(h);

    ph_get_stats(h, &s);
    int rc = ph_check(h);
    printf("ph_check: %s (%d)\n", rc == PH_OK ? "OK" : "FAILED", rc);
    if (rc != PH_OK)
        failed = true;
    if (cnt.live_objects != 0 || cnt.live_bytes != 0)
        fail("the demo's own count of live objects is not zero");
    /* newlib's stdio buffers come from this heap too, so a few pages may
     * still be in use by them (they are never freed). */
    if (s.faults != 0)
        fail("the heap refused a call (a fault)");
    /* Out of memory is not a failure of the demo (a packet is dropped, a
     * record skipped), but it is shown: none on a board with RAM enough. */
    if (cnt.failed != 0)
        printf("note: %u requests found the heap full (dropped)\n", (unsigned)cnt.failed);
    printf("demo: %s\n", failed ? "FAILED" : "OK");
    board_exit(failed ? 1 : 0);
}
