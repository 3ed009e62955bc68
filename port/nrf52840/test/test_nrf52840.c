/* SPDX-License-Identifier: MIT */
/*
 * Host unit test of port/nrf52840 (run by scripts/build-hw-ports.sh).
 *
 * The port is built with PH_HWGATE_MMIO_TRACE, so every register write
 * comes here (mmio_trace) as it happens: the test logs it, applies it to a
 * fake POWER block as the chip would (POWERSET ORs into RAM[n].POWER,
 * POWERCLR clears), and models the RAM itself on mmap'd memory standing in
 * for 0x20000000-0x2003FFFF: a section switched off is scribbled over and
 * made PROT_NONE, so any touch of powered-down RAM crashes the test, and a
 * section switched on comes back readable with garbage in it (contents
 * lost).
 *
 * Part 1 checks, call by call, exactly which registers and bits release and
 * acquire write for several ranges, and what they refuse.  Part 2 runs the
 * heap on the port (two regions: granule 4096 over RAM0..7, 32768 over
 * RAM8) and checks that ph_scavenge switches off exactly the free sections
 * that hold no metadata, and that ph_page_alloc / ph_malloc switch on
 * exactly the off sections their memory lies in, before it is handed out.
 */
#include "ph_hwgate_test.h" /* first: it sets _DEFAULT_SOURCE */

#include "pageheap.h"
#include "ph_port_nrf52840.h"

/* ---- the fake chip ------------------------------------------------------------- */

#define RAM_SIZE PH_NRF52840_RAM_SIZE
static uint32_t fake_power[0x1000 / 4];   /* POWER peripheral, 4 KB        */
static uint8_t *ram;                      /* 256 KB, 256 KB aligned        */
static bool model_ram = true;             /* mprotect powered-down sections */

/* Address and size of RAM block b's section x. */
static uint8_t *section_addr(uint32_t b, uint32_t x, size_t *size)
{
    if (b < 8) {
        *size = PH_NRF52840_SMALL_SECTION;
        return ram + (b * 2u + x) * PH_NRF52840_SMALL_SECTION;
    }
    *size = PH_NRF52840_LARGE_SECTION;
    return ram + PH_NRF52840_LARGE_OFFSET + x * PH_NRF52840_LARGE_SECTION;
}

static uint32_t section_index(uint32_t b, uint32_t x)
{
    return b < 8 ? b * 2u + x : 16u + x;
}

void ph_hwgate_mmio_trace(uintptr_t addr, uint32_t value);
void ph_hwgate_mmio_trace(uintptr_t addr, uint32_t value)
{
    uint32_t off = (uint32_t)(addr - (uintptr_t)fake_power);
    uint32_t b, reg, *power;

    log_write(off, value);
    if (off < PH_NRF52840_RAM_REGS ||
        off >= PH_NRF52840_RAM_REGS + PH_NRF52840_RAM_BLOCKS * PH_NRF52840_RAM_STRIDE) {
        fprintf(stderr, "write outside POWER.RAM[]: +0x%x = 0x%x\n", off, value);
        failures++;
        return;
    }
    b = (off - PH_NRF52840_RAM_REGS) / PH_NRF52840_RAM_STRIDE;
    reg = (off - PH_NRF52840_RAM_REGS) % PH_NRF52840_RAM_STRIDE;
    power = &fake_power[(PH_NRF52840_RAM_REGS + b * PH_NRF52840_RAM_STRIDE) / 4];
    if (reg == PH_NRF52840_REG_POWERSET)
        *power |= value;
    else if (reg == PH_NRF52840_REG_POWERCLR)
        *power &= ~value;
    else {
        fprintf(stderr, "unexpected write to RAM[%u] +0x%x\n", b, reg);
        failures++;
        return;
    }
    if (!model_ram)
        return;
    for (uint32_t x = 0; x < 16u; x++) {
        size_t size;
        uint8_t *s;

        if (!(value & (1u << x)))
            continue;
        s = section_addr(b, x, &size);
        if (reg == PH_NRF52840_REG_POWERCLR)
            fake_ram_off(s, size); /* what was there is gone */
        else
            fake_ram_on(s, size);  /* a fresh SRAM holds anything */
    }
}

/* Every section on, retention as given, the write log empty. */
static void reset_chip(void)
{
    memset(fake_power, 0, sizeof fake_power);
    for (uint32_t b = 0; b < 8; b++)
        fake_power[(PH_NRF52840_RAM_REGS + b * PH_NRF52840_RAM_STRIDE) / 4] = 0x3u;
    fake_power[(PH_NRF52840_RAM_REGS + 8 * PH_NRF52840_RAM_STRIDE) / 4] = 0x3fu;
    if (mprotect(ram, RAM_SIZE, PROT_READ | PROT_WRITE) != 0)
        perror("mprotect");
    memset(ram, 0, RAM_SIZE);
    nwlog = 0;
}

static uint32_t fake_ram_power(uint32_t b)
{
    return fake_power[(PH_NRF52840_RAM_REGS + b * PH_NRF52840_RAM_STRIDE) / 4];
}

#define CLR(b) (PH_NRF52840_RAM_REGS + (b) * PH_NRF52840_RAM_STRIDE + PH_NRF52840_REG_POWERCLR)
#define SET(b) (PH_NRF52840_RAM_REGS + (b) * PH_NRF52840_RAM_STRIDE + PH_NRF52840_REG_POWERSET)

/* Sections the logged writes switched on and off (bitmaps of section
 * indexes), checking that each write sets power and retention bits alike
 * on release and no section is named twice; then clears the log. */
static void log_sections(uint32_t *on, uint32_t *off)
{
    *on = *off = 0;
    for (size_t i = 0; i < nwlog; i++) {
        uint32_t b = (wlog[i].off - PH_NRF52840_RAM_REGS) / PH_NRF52840_RAM_STRIDE;
        uint32_t reg = (wlog[i].off - PH_NRF52840_RAM_REGS) % PH_NRF52840_RAM_STRIDE;
        uint32_t power = wlog[i].value & 0xffffu, ret = wlog[i].value >> 16;

        for (uint32_t x = 0; x < 16u; x++) {
            uint32_t s;
            if (!(power & (1u << x)))
                continue;
            s = 1u << section_index(b, x);
            CHECK(((*on | *off) & s) == 0); /* named once */
            if (reg == PH_NRF52840_REG_POWERCLR)
                *off |= s;
            else
                *on |= s;
        }
        if (reg == PH_NRF52840_REG_POWERCLR)
            CHECK_EQ(ret, power); /* retention off with power */
        else
            CHECK((ret & ~power) == 0);
    }
    nwlog = 0;
}

/* Sections (bitmap) that [p, p + len) lies in. */
static uint32_t sections_of(const void *p, size_t len)
{
    uint32_t m = 0;
    uintptr_t lo = (uintptr_t)p - (uintptr_t)ram, hi = lo + len;

    for (uint32_t s = 0; s < PH_NRF52840_SECTIONS; s++) {
        uintptr_t a, e;
        if (s < 16) {
            a = s * PH_NRF52840_SMALL_SECTION;
            e = a + PH_NRF52840_SMALL_SECTION;
        } else {
            a = PH_NRF52840_LARGE_OFFSET + (s - 16u) * PH_NRF52840_LARGE_SECTION;
            e = a + PH_NRF52840_LARGE_SECTION;
        }
        if (lo < e && a < hi)
            m |= 1u << s;
    }
    return m;
}

/* ---- the port's callbacks -------------------------------------------------------- */

static int heap_faults_seen;
static void on_heap_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    (void)addr;
    (void)code;
    heap_faults_seen++;
}

static void new_port(ph_nrf52840_port *p)
{
    ph_nrf52840_port_init(p);
    CHECK_EQ(ph_nrf52840_port_remap(p, fake_power, ram), 0);
    p->gate.trap = on_trap;
    p->gate.heap_fault = on_heap_fault;
    traps = 0;
    last_trap = 0;
}

/* ---- part 1: register logic, call by call --------------------------------------- */

static void refused(ph_nrf52840_port *p, bool acquire, size_t off, size_t len, int err, int line)
{
    uint32_t was = p->off;
    int t = traps;
    size_t e = p->gate.errors;

    if (acquire)
        p->port.acquire(p, ram + off, len);
    else
        p->port.release(p, ram + off, len);
    expect_writes(line, 0, NULL);
    checks++;
    if (traps != t + 1 || last_trap != err || p->gate.errors != e + 1 || p->off != was ||
        p->gate.last_error != err) {
        failures++;
        fprintf(stderr, "%s:%d: %s(+0x%zx, 0x%zx): want refusal %d, got trap %d (%d calls)\n",
                __FILE__, line, acquire ? "acquire" : "release", off, len, err, last_trap,
                traps - t);
    }
}
#define REFUSED(p, acq, off, len, err) refused(p, acq, off, len, err, __LINE__)

static void test_registers(void)
{
    ph_nrf52840_port port, *p = &port;

    reset_chip();
    new_port(p);
    p->port.lock = NULL; /* hooks called directly, not by a heap */
    p->port.unlock = NULL;
    /* RAM0 keeps retention on for both its sections: release must clear it
     * and acquire must give it back. */
    fake_power[(PH_NRF52840_RAM_REGS + 0 * PH_NRF52840_RAM_STRIDE) / 4] = 0x00030003u;

    /* One 4 KB section: RAM0 S1. */
    p->port.release(p, ram + 0x1000, 0x1000);
    EXPECT_WRITES({CLR(0), 0x00020002u});
    CHECK_EQ(fake_ram_power(0), 0x00010001u);
    CHECK_EQ(p->off, 1u << 1);

    /* Three 4 KB sections over two blocks: RAM1 S1, RAM2 S0+S1. */
    p->port.release(p, ram + 0x3000, 0x3000);
    EXPECT_WRITES({CLR(1), 0x00020002u}, {CLR(2), 0x00030003u});
    CHECK_EQ(p->off, 0x3au);

    /* 32 KB of 4 KB sections: RAM4..RAM7, both sections each. */
    p->port.release(p, ram + 0x8000, 0x8000);
    EXPECT_WRITES({CLR(4), 0x00030003u}, {CLR(5), 0x00030003u}, {CLR(6), 0x00030003u},
                  {CLR(7), 0x00030003u});

    /* One 32 KB section: RAM8 S1 (0x20018000). */
    p->port.release(p, ram + 0x18000, 0x8000);
    EXPECT_WRITES({CLR(8), 0x00020002u});

    /* Three 32 KB sections: RAM8 S3..S5 (0x20028000-0x2003FFFF). */
    p->port.release(p, ram + 0x28000, 0x18000);
    EXPECT_WRITES({CLR(8), 0x00380038u});
    CHECK_EQ(fake_ram_power(8), 0x05u);
    CHECK_EQ(p->off, 0x3a0000u | 0xff3au);
    CHECK_EQ(p->sections_released, 1u + 3u + 8u + 1u + 3u);

    /* Acquire RAM0 S1: power and its old retention back. */
    p->port.acquire(p, ram + 0x1000, 0x1000);
    EXPECT_WRITES({SET(0), 0x00020002u});
    CHECK_EQ(fake_ram_power(0), 0x00030003u);
    ram[0x1000] = 1; /* usable: the model made it accessible */

    /* The heap acquires one granule at a time, out of a joined release. */
    p->port.acquire(p, ram + 0x4000, 0x1000);
    EXPECT_WRITES({SET(2), 0x00000001u});
    p->port.acquire(p, ram + 0x3000, 0x1000);
    EXPECT_WRITES({SET(1), 0x00000002u});
    p->port.acquire(p, ram + 0x5000, 0x1000);
    EXPECT_WRITES({SET(2), 0x00000002u});
    CHECK_EQ(fake_ram_power(1), 0x3u);
    CHECK_EQ(fake_ram_power(2), 0x3u);
    p->port.acquire(p, ram + 0x30000, 0x8000);
    EXPECT_WRITES({SET(8), 0x00000010u});
    p->port.acquire(p, ram + 0x28000, 0x8000);
    EXPECT_WRITES({SET(8), 0x00000008u});
    CHECK_EQ(p->off, 0x220000u | 0xff00u);

    /* Refusals: nothing written, counted, trapped, state unchanged. */
    REFUSED(p, false, 0x2000, 0, PH_NRF52840_ERR_RANGE);          /* empty           */
    REFUSED(p, false, RAM_SIZE, 0x1000, PH_NRF52840_ERR_RANGE);   /* past the RAM    */
    REFUSED(p, false, 0x2800, 0x1000, PH_NRF52840_ERR_RANGE);     /* unaligned base  */
    REFUSED(p, false, 0x2000, 0x1800, PH_NRF52840_ERR_RANGE);     /* partial section */
    REFUSED(p, false, 0xf000, 0x9000, PH_NRF52840_ERR_RANGE);     /* both kinds      */
    REFUSED(p, false, 0x10000, 0x1000, PH_NRF52840_ERR_RANGE);    /* 4 KB of a 32 KB */
    REFUSED(p, false, 0x38000, 0x10000, PH_NRF52840_ERR_RANGE);   /* past the end    */
    REFUSED(p, false, 0x8000, 0x1000, PH_NRF52840_ERR_STATE);     /* already off     */
    REFUSED(p, false, 0x7000, 0x2000, PH_NRF52840_ERR_STATE);     /* partly off      */
    REFUSED(p, true, 0x2000, 0x1000, PH_NRF52840_ERR_STATE);      /* acquire: on     */
    REFUSED(p, true, 0x6000, 0x4000, PH_NRF52840_ERR_STATE);      /* partly on       */
    REFUSED(p, true, 0x10000, 0x1000, PH_NRF52840_ERR_RANGE);     /* acquire: shape  */
    {
        uint8_t below[16];
        uint32_t was = p->off;
        p->port.release(p, below, 0x1000); /* below the RAM base */
        EXPECT_NO_WRITES();
        CHECK_EQ(p->gate.last_error, PH_NRF52840_ERR_RANGE);
        CHECK_EQ(p->off, was);
    }
    /* Protected memory (the board's .data/.bss/stack). */
    CHECK_EQ(ph_nrf52840_protect(p, ram + 0x0000, ram + 0x0800), 0);
    CHECK_EQ(ph_nrf52840_protect(p, ram + 0x0800, ram + 0x0800), -1);
    REFUSED(p, false, 0x0000, 0x1000, PH_NRF52840_ERR_PROTECTED);
    REFUSED(p, false, 0x0000, 0x8000, PH_NRF52840_ERR_PROTECTED);
    p->port.release(p, ram + 0x2000, 0x1000); /* next to it: fine */
    EXPECT_WRITES({CLR(1), 0x00010001u});

    /* A port object living in the RAM it would switch off. */
    {
        ph_nrf52840_port *inside = (ph_nrf52840_port *)(void *)(ram + 0x6100);
        ph_nrf52840_port_init(inside);
        CHECK_EQ(ph_nrf52840_port_remap(inside, fake_power, ram), 0);
        inside->port.lock = NULL;
        inside->port.release(inside, ram + 0x6000, 0x1000);
        EXPECT_NO_WRITES();
        CHECK_EQ(inside->gate.last_error, PH_NRF52840_ERR_PROTECTED);
        inside->port.release(inside, ram + 0x7000, 0x1000);
        EXPECT_WRITES({CLR(3), 0x00020002u});
    }

    /* Granules and remapping. */
    CHECK_EQ(ph_nrf52840_granule_at(p, ram), 4096u);
    CHECK_EQ(ph_nrf52840_granule_at(p, ram + 0xffff), 4096u);
    CHECK_EQ(ph_nrf52840_granule_at(p, ram + 0x10000), 32768u);
    CHECK_EQ(ph_nrf52840_granule_at(p, ram + 0x3ffff), 32768u);
    CHECK_EQ(ph_nrf52840_granule_at(p, ram + 0x40000), 0u);
    CHECK_EQ(ph_nrf52840_port_remap(p, fake_power, ram + 0x1000), -1);
    CHECK_EQ(p->ram_base, (uintptr_t)ram);
    {
        ph_nrf52840_port real;
        ph_nrf52840_port_init(&real);
        CHECK_EQ(real.power_base, 0x40000000u);
        CHECK_EQ(real.ram_base, 0x20000000u);
        CHECK_EQ(ph_nrf52840_granule_at(&real, (void *)(uintptr_t)0x2000f000u), 4096u);
        CHECK_EQ(ph_nrf52840_granule_at(&real, (void *)(uintptr_t)0x20010000u), 32768u);
    }
}

static void test_lock(void)
{
    ph_nrf52840_port port, *p = &port;

    new_port(p);
    ph_hwgate_host_primask = 0;
    p->port.lock(p);
    CHECK_EQ(ph_hwgate_host_primask, 1u);
    p->port.lock(p); /* nested */
    p->port.unlock(p);
    CHECK_EQ(ph_hwgate_host_primask, 1u);
    p->port.unlock(p);
    CHECK_EQ(ph_hwgate_host_primask, 0u);
    p->port.unlock(p); /* unbalanced: ignored */
    CHECK_EQ(ph_hwgate_host_primask, 0u);
    CHECK_EQ(p->lock_depth, 0u);
    ph_hwgate_host_primask = 1; /* already masked by the caller */
    p->port.lock(p);
    p->port.unlock(p);
    CHECK_EQ(ph_hwgate_host_primask, 1u);
    ph_hwgate_host_primask = 0;
    /* Called without the lock while lock hooks are set: counted. */
    p->port.release(p, ram + 0x1000, 0x1000);
    CHECK_EQ(p->gate.unlocked_calls, 1u);
    nwlog = 0;
}

/* ---- part 2: the heap on the port -------------------------------------------------- */

/* Bytes-to-sections expectation of one allocation: the off sections its
 * pages lie in are switched on (and nothing else, nothing off). */
static void expect_alloc_acquires(ph_nrf52840_port *p, uint32_t off_before, void *q, size_t len,
                                  int line)
{
    uint32_t on, off;
    uint32_t want = sections_of(q, len) & off_before;

    log_sections(&on, &off);
    checks++;
    if (q == NULL || on != want || off != 0 || p->off != (off_before & ~want)) {
        failures++;
        fprintf(stderr, "%s:%d: alloc %p+0x%zx: switched on 0x%x (want 0x%x), off 0x%x\n",
                __FILE__, line, q, len, on, want, off);
    }
    if (q != NULL)
        memset(q, 0x77, len); /* crashes if any of it is still powered down */
}
#define EXPECT_ALLOC(p, before, q, len) expect_alloc_acquires(p, before, q, len, __LINE__)

static void test_heap(void)
{
    static ph_heap heap;
    ph_nrf52840_port port, *p = &port;
    ph_heap *h = &heap;
    ph_region_info r0, r1;
    ph_stats st;
    uint32_t on, off, before, all_free;
    size_t got, n0;
    void *a, *b, *c, *d;
    const size_t pg = 256;

    reset_chip();
    new_port(p);
    ph_hwgate_host_primask = 0;
    /* RAM0 (0x20000000-0x20001FFF) stands for .data, .bss and the stack. */
    CHECK_EQ(ph_nrf52840_protect(p, ram, ram + 0x2000), 0);
    CHECK_EQ(ph_init(h, pg, &p->port), PH_OK);
    CHECK_EQ(ph_add_region(h, ram + 0x2000, 0xe000, ph_nrf52840_granule_at(p, ram + 0x2000)),
             PH_OK);
    CHECK_EQ(ph_add_region(h, ram + 0x10000, 0x30000, ph_nrf52840_granule_at(p, ram + 0x10000)),
             PH_OK);
    CHECK_EQ(ph_get_region(h, 0, &r0), PH_OK);
    CHECK_EQ(ph_get_region(h, 1, &r1), PH_OK);
    CHECK_EQ(r0.granule, 4096u);
    CHECK_EQ(r1.granule, 32768u);
    /* Metadata sits in each region's first section (RAM1 S0, RAM8 S0). */
    CHECK((uint8_t *)r0.base <= ram + 0x3000);
    CHECK((uint8_t *)r1.base <= ram + 0x18000);
    EXPECT_NO_WRITES(); /* nothing released before the first scavenge */

    /* Scavenge everything: every section but RAM0 (not the heap's), RAM1 S0
     * and RAM8 S0 (metadata). */
    got = ph_scavenge(h, SIZE_MAX);
    all_free = 0xfff8u | 0x3e0000u; /* sections 3..15, 17..21 */
    CHECK_EQ(got, 13u * 4096u + 5u * 32768u);
    log_sections(&on, &off);
    CHECK_EQ(on, 0u);
    CHECK_EQ(off, all_free);
    CHECK_EQ(p->off, all_free);
    CHECK_EQ(fake_ram_power(0), 0x3u);
    CHECK_EQ(fake_ram_power(1), 0x1u);
    for (uint32_t blk = 2; blk < 8; blk++)
        CHECK_EQ(fake_ram_power(blk), 0u);
    CHECK_EQ(fake_ram_power(8), 0x1u);
    ph_get_stats(h, &st);
    CHECK_EQ(st.pages_released, got / pg);
    CHECK_EQ(ph_check(h), PH_OK);
    CHECK_EQ(ph_scavenge(h, SIZE_MAX), 0u); /* nothing left */
    EXPECT_NO_WRITES();

    /* Fill what is left of the powered section RAM1 S0: no acquire. */
    n0 = (size_t)(ram + 0x3000 - (uint8_t *)r0.base) / pg;
    before = p->off;
    a = ph_page_alloc(h, n0);
    CHECK(a == r0.base);
    EXPECT_ALLOC(p, before, a, n0 * pg);
    /* The next page is RAM1 S1: switched on first. */
    before = p->off;
    b = ph_page_alloc(h, 1);
    CHECK(b == ram + 0x3000);
    EXPECT_ALLOC(p, before, b, pg);
    /* 32 pages = 8 KB from 0x20003100: RAM2 S0 and S1 switched on. */
    before = p->off;
    c = ph_page_alloc(h, 32);
    CHECK(c == ram + 0x3100);
    EXPECT_ALLOC(p, before, c, 32 * pg);
    CHECK_EQ(p->off & 0x30u, 0u);
    /* 75 KB do not fit in the first region: RAM8 from its first usable
     * page, switching on the 32 KB sections after the metadata one. */
    before = p->off;
    d = ph_page_alloc(h, 300);
    CHECK(d == r1.base);
    EXPECT_ALLOC(p, before, d, 300 * pg);
    CHECK_EQ(ph_check(h), PH_OK);
    CHECK_EQ(p->gate.acquire_calls, 1u + 2u + 2u);

    /* Free it all: scavenging switches the same sections off again. */
    ph_page_free(h, a, n0);
    ph_page_free(h, b, 1);
    ph_page_free(h, c, 32);
    ph_page_free(h, d, 300);
    EXPECT_NO_WRITES(); /* freeing never releases */
    ph_scavenge(h, SIZE_MAX);
    log_sections(&on, &off);
    CHECK_EQ(on, 0u);
    CHECK_EQ(off, 0x38u | 0x60000u); /* RAM1 S1, RAM2 S0+S1; RAM8 S1+S2 */
    CHECK_EQ(p->off, all_free);

    /* The malloc family: a large object, small objects, then idle time
     * hands everything back. */
    {
        void *big, *small[64];

        before = p->off;
        big = ph_malloc(h, 40000);
        CHECK(big != NULL);
        log_sections(&on, &off);
        CHECK(on != 0 && (on & ~before) == 0 && off == 0);
        CHECK((sections_of(big, 40000) & p->off) == 0);
        memset(big, 1, 40000);
        for (int i = 0; i < 64; i++) {
            small[i] = ph_malloc(h, (size_t)(16 + 24 * i));
            CHECK(small[i] != NULL);
            CHECK((sections_of(small[i], (size_t)(16 + 24 * i)) & p->off) == 0);
            memset(small[i], 2, (size_t)(16 + 24 * i));
        }
        nwlog = 0;
        for (int i = 0; i < 64; i++)
            ph_free(h, small[i]);
        ph_free(h, big);
        EXPECT_NO_WRITES();
        for (int i = 0; i < 1000 && p->off != all_free; i++)
            ph_idle(h);
        CHECK_EQ(p->off, all_free);
        log_sections(&on, &off);
        CHECK_EQ(on, 0u);
    }

    /* Bad frees reach the port's fault hook and the board's callback. */
    heap_faults_seen = 0;
    ph_page_free(h, NULL, 1);
    CHECK_EQ(p->gate.heap_faults, 1u);
    CHECK_EQ(heap_faults_seen, 1);

    CHECK_EQ(p->gate.errors, 0u);          /* the heap never gave a bad range  */
    CHECK_EQ(p->gate.unlocked_calls, 0u);  /* hooks ran under the heap's lock  */
    CHECK_EQ(p->lock_depth, 0u);
    CHECK_EQ(ph_hwgate_host_primask, 0u);
    CHECK_EQ(ph_check(h), PH_OK);
}

/* A board that gives RAM8 the wrong granule: the port refuses every
 * release (4 KB pieces of 32 KB sections) and the memory stays powered. */
static void test_wrong_granule(void)
{
    static ph_heap heap;
    ph_nrf52840_port port, *p = &port;
    void *q;

    reset_chip();
    new_port(p);
    CHECK_EQ(ph_init(&heap, 256, &p->port), PH_OK);
    CHECK_EQ(ph_add_region(&heap, ram + 0x10000, 0x30000, 4096), PH_OK);
    ph_scavenge(&heap, SIZE_MAX);
    EXPECT_NO_WRITES();
    CHECK(traps > 0);
    CHECK_EQ(last_trap, PH_NRF52840_ERR_RANGE);
    CHECK_EQ(p->off, 0u);
    q = ph_page_alloc(&heap, 64); /* its acquires are refused too */
    CHECK(q != NULL);
    EXPECT_NO_WRITES();
    memset(q, 3, 64 * 256);       /* still powered: usable */
    CHECK_EQ(ph_check(&heap), PH_OK);
}

int main(void)
{
    uint8_t *map;

    /* Aligned like the real RAM, so heap granules coincide with sections. */
    ram = fake_ram_map(RAM_SIZE, RAM_SIZE, &map);
    if (ram == NULL)
        return 1;

    test_registers();
    test_lock();
    test_heap();
    test_wrong_granule();

    mprotect(ram, RAM_SIZE, PROT_READ | PROT_WRITE);
    munmap(map, 2 * RAM_SIZE);
    return checks_summary("test_nrf52840");
}
