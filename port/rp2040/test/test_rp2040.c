/* SPDX-License-Identifier: MIT */
/*
 * Host unit test of port/rp2040 (run by scripts/build-hw-ports.sh).
 *
 * The port is built with PH_HWGATE_MMIO_TRACE, so every register write
 * comes here (mmio_trace): the test logs it and applies it as the chip
 * would (a write to MEMPOWERDOWN's SET alias ORs into the register, to its
 * CLR alias clears; a write to a SIO spinlock releases it).  mmap'd memory
 * stands in for the banks (SRAM0..3 in the non-striped alias, then SRAM4/5):
 * a bank powered down is scribbled over and made PROT_NONE, so any touch of
 * it crashes the test; a bank powered up comes back with garbage in it.
 *
 * Part 1 checks, call by call, exactly which bits release and acquire
 * write, and through which alias, and what they refuse; the lock's
 * PRIMASK nesting and spinlock.  Part 2 runs the heap on the port (granule
 * 65536 over SRAM0..3, 4096 over SRAM4/5) and checks the banks that
 * ph_scavenge powers down and that ph_page_alloc / ph_malloc power up.
 */
#include "ph_hwgate_test.h" /* first: it sets _DEFAULT_SOURCE */

#include "pageheap.h"
#include "ph_port_rp2040.h"

/* ---- the fake chip ------------------------------------------------------------- */

#define BANKS_SIZE (PH_RP2040_BANK_SIZE * PH_RP2040_BANK_COUNT)    /* 256 KB */
#define SMALL_SIZE (PH_RP2040_SMALL_SIZE * PH_RP2040_SMALL_COUNT)  /*   8 KB */
#define MAP_SIZE (BANKS_SIZE + SMALL_SIZE + PH_RP2040_BANK_SIZE)

static uint32_t fake_syscfg[0x4000 / 4]; /* SYSCFG with its atomic aliases */
static uint32_t fake_sio[0x180 / 4];     /* SIO: CPUID .. SPINLOCK31       */
static uint8_t *banks;                   /* SRAM0..3, 64 KB aligned        */
static uint8_t *small;                   /* SRAM4, SRAM5                   */
static bool model_ram = true;
static bool log_sio;                     /* log spinlock writes too        */

#define MEMPOWERDOWN fake_syscfg[PH_RP2040_MEMPOWERDOWN / 4]
#define SET_OFF (PH_RP2040_ALIAS_SET + PH_RP2040_MEMPOWERDOWN) /* 0x2018 */
#define CLR_OFF (PH_RP2040_ALIAS_CLR + PH_RP2040_MEMPOWERDOWN) /* 0x3018 */
#define SIO_TAG 0x10000u /* log offsets of SIO writes get this added */

static uint8_t *bank_addr(uint32_t n, size_t *size)
{
    if (n < PH_RP2040_BANK_COUNT) {
        *size = PH_RP2040_BANK_SIZE;
        return banks + n * PH_RP2040_BANK_SIZE;
    }
    *size = PH_RP2040_SMALL_SIZE;
    return small + (n - PH_RP2040_BANK_COUNT) * PH_RP2040_SMALL_SIZE;
}

void ph_hwgate_mmio_trace(uintptr_t addr, uint32_t value);
void ph_hwgate_mmio_trace(uintptr_t addr, uint32_t value)
{
    uint32_t off;

    if (addr >= (uintptr_t)fake_sio && addr < (uintptr_t)fake_sio + sizeof fake_sio) {
        off = (uint32_t)(addr - (uintptr_t)fake_sio);
        if (log_sio)
            log_write(SIO_TAG + off, value);
        /* A write releases the spinlock: the next read claims it again. */
        fake_sio[off / 4] = 1u << ((off - PH_RP2040_SIO_SPINLOCK0) / 4);
        return;
    }
    off = (uint32_t)(addr - (uintptr_t)fake_syscfg);
    if (nwlog < sizeof wlog / sizeof wlog[0])
        log_write(off, value);
    if (off == SET_OFF)
        MEMPOWERDOWN |= value;
    else if (off == CLR_OFF)
        MEMPOWERDOWN &= ~value;
    else {
        fprintf(stderr, "unexpected SYSCFG write +0x%x = 0x%x\n", off, value);
        failures++;
        return;
    }
    if ((value & ~PH_RP2040_SRAM_BITS) != 0) {
        fprintf(stderr, "write touches USB/ROM bits: 0x%x\n", value);
        failures++;
    }
    if (!model_ram)
        return;
    for (uint32_t n = 0; n < 6; n++) {
        size_t size;
        uint8_t *s;

        if (!(value & (1u << n)))
            continue;
        s = bank_addr(n, &size);
        if (off == SET_OFF)
            fake_ram_off(s, size);
        else
            fake_ram_on(s, size);
    }
}

static void reset_chip(void)
{
    memset(fake_syscfg, 0, sizeof fake_syscfg);
    memset(fake_sio, 0, sizeof fake_sio);
    for (uint32_t n = 0; n < PH_RP2040_SPINLOCKS; n++)
        fake_sio[(PH_RP2040_SIO_SPINLOCK0 + 4 * n) / 4] = 1u << n; /* all free */
    if (mprotect(banks, BANKS_SIZE, PROT_READ | PROT_WRITE) != 0 ||
        mprotect(small, SMALL_SIZE, PROT_READ | PROT_WRITE) != 0)
        perror("mprotect");
    memset(banks, 0, BANKS_SIZE);
    memset(small, 0, SMALL_SIZE);
    nwlog = 0;
}

/* Banks the logged writes powered up and down (MEMPOWERDOWN bits), each
 * named once; SIO writes are skipped.  Clears the log. */
static void log_banks(uint32_t *up, uint32_t *down)
{
    *up = *down = 0;
    for (size_t i = 0; i < nwlog; i++) {
        if (wlog[i].off >= SIO_TAG)
            continue;
        CHECK(((*up | *down) & wlog[i].value) == 0);
        if (wlog[i].off == SET_OFF)
            *down |= wlog[i].value;
        else
            *up |= wlog[i].value;
    }
    nwlog = 0;
}

/* MEMPOWERDOWN bits of the banks [p, p + len) lies in. */
static uint32_t banks_of(const void *p, size_t len)
{
    uint32_t m = 0;
    uintptr_t lo = (uintptr_t)p, hi = lo + len;

    for (uint32_t n = 0; n < 6; n++) {
        size_t size;
        uintptr_t a = (uintptr_t)bank_addr(n, &size);
        if (lo < a + size && a < hi)
            m |= 1u << n;
    }
    return m;
}

/* ---- the port's callbacks -------------------------------------------------------- */

static void new_port(ph_rp2040_port *p)
{
    ph_rp2040_port_init(p);
    CHECK_EQ(ph_rp2040_port_remap(p, fake_syscfg, fake_sio, banks, small), 0);
    p->gate.trap = on_trap;
    traps = 0;
    last_trap = 0;
}

/* ---- part 1: register logic, call by call --------------------------------------- */

static void refused(ph_rp2040_port *p, bool acquire, uint8_t *at, size_t len, int err, int line)
{
    uint32_t was = p->off;
    int t = traps;
    size_t e = p->gate.errors;

    if (acquire)
        p->port.acquire(p, at, len);
    else
        p->port.release(p, at, len);
    expect_writes(line, 0, NULL);
    checks++;
    if (traps != t + 1 || last_trap != err || p->gate.errors != e + 1 || p->off != was) {
        failures++;
        fprintf(stderr, "%s:%d: %s(%p, 0x%zx): want refusal %d, got trap %d (%d calls)\n",
                __FILE__, line, acquire ? "acquire" : "release", (void *)at, len, err, last_trap,
                traps - t);
    }
}
#define REFUSED(p, acq, at, len, err) refused(p, acq, at, len, err, __LINE__)

static void test_registers(void)
{
    ph_rp2040_port port, *p = &port;

    reset_chip();
    new_port(p);
    p->port.lock = NULL;
    p->port.unlock = NULL;

    /* One 64 KB bank: SRAM2, through the SET alias. */
    p->port.release(p, banks + 0x20000, 0x10000);
    EXPECT_WRITES({SET_OFF, 0x04u});
    /* Two adjacent banks in one call: SRAM0 and SRAM1. */
    p->port.release(p, banks, 0x20000);
    EXPECT_WRITES({SET_OFF, 0x03u});
    /* A 4 KB bank: SRAM5. */
    p->port.release(p, small + 0x1000, 0x1000);
    EXPECT_WRITES({SET_OFF, 0x20u});
    CHECK_EQ(MEMPOWERDOWN, 0x27u);
    CHECK_EQ(p->off, 0x27u);
    CHECK_EQ(p->banks_released, 4u);

    /* Acquire through the CLR alias, one bank at a time. */
    p->port.acquire(p, banks + 0x10000, 0x10000);
    EXPECT_WRITES({CLR_OFF, 0x02u});
    banks[0x10000] = 1; /* usable */
    p->port.acquire(p, small + 0x1000, 0x1000);
    EXPECT_WRITES({CLR_OFF, 0x20u});
    /* Both small banks in one call. */
    p->port.release(p, small, 0x2000);
    EXPECT_WRITES({SET_OFF, 0x30u});
    p->port.acquire(p, small, 0x2000);
    EXPECT_WRITES({CLR_OFF, 0x30u});
    /* All four large banks. */
    p->port.acquire(p, banks, 0x10000);
    EXPECT_WRITES({CLR_OFF, 0x01u});
    p->port.acquire(p, banks + 0x20000, 0x10000);
    EXPECT_WRITES({CLR_OFF, 0x04u});
    p->port.release(p, banks, BANKS_SIZE);
    EXPECT_WRITES({SET_OFF, 0x0fu});
    p->port.acquire(p, banks, BANKS_SIZE);
    EXPECT_WRITES({CLR_OFF, 0x0fu});
    CHECK_EQ(MEMPOWERDOWN, 0u);
    CHECK_EQ(p->off, 0u);

    /* Refusals. */
    p->port.release(p, banks + 0x30000, 0x10000); /* SRAM3 off for the state checks */
    EXPECT_WRITES({SET_OFF, 0x08u});
    REFUSED(p, false, banks, 0, PH_RP2040_ERR_RANGE);                     /* empty          */
    REFUSED(p, false, banks + 0x1000, 0x10000, PH_RP2040_ERR_RANGE);      /* unaligned      */
    REFUSED(p, false, banks, 0x1000, PH_RP2040_ERR_RANGE);                /* 4 KB of 64 KB  */
    REFUSED(p, false, banks, 0x18000, PH_RP2040_ERR_RANGE);               /* 1.5 banks      */
    REFUSED(p, false, banks + 0x30000, 0x20000, PH_RP2040_ERR_RANGE);     /* past SRAM3     */
    REFUSED(p, false, small, 0x10000, PH_RP2040_ERR_RANGE);               /* 64 KB at SRAM4 */
    REFUSED(p, false, small + 0x800, 0x1000, PH_RP2040_ERR_RANGE);        /* unaligned      */
    REFUSED(p, false, small + 0x2000, 0x1000, PH_RP2040_ERR_RANGE);       /* past SRAM5     */
    REFUSED(p, false, banks - 0x10000, 0x10000, PH_RP2040_ERR_RANGE);     /* below SRAM0    */
    REFUSED(p, false, banks + 0x30000, 0x10000, PH_RP2040_ERR_STATE);     /* already down   */
    REFUSED(p, false, banks + 0x20000, 0x20000, PH_RP2040_ERR_STATE);     /* partly down    */
    REFUSED(p, true, banks, 0x10000, PH_RP2040_ERR_STATE);                /* acquire: up    */
    REFUSED(p, true, banks + 0x20000, 0x20000, PH_RP2040_ERR_STATE);      /* partly up      */
    REFUSED(p, true, small + 0x1000, 0x1000, PH_RP2040_ERR_STATE);
    CHECK_EQ(ph_rp2040_protect(p, small, small + 0x100), 0);
    REFUSED(p, false, small, 0x1000, PH_RP2040_ERR_PROTECTED);
    REFUSED(p, false, small, 0x2000, PH_RP2040_ERR_PROTECTED);
    p->port.release(p, small + 0x1000, 0x1000);
    EXPECT_WRITES({SET_OFF, 0x20u});
    {
        /* A port object inside the bank it would power down. */
        ph_rp2040_port *inside = (ph_rp2040_port *)(void *)(banks + 0x10040);
        ph_rp2040_port_init(inside);
        CHECK_EQ(ph_rp2040_port_remap(inside, fake_syscfg, fake_sio, banks, small), 0);
        inside->port.lock = NULL;
        inside->port.release(inside, banks + 0x10000, 0x10000);
        EXPECT_NO_WRITES();
        CHECK_EQ(inside->gate.last_error, PH_RP2040_ERR_PROTECTED);
    }

    /* Granules, remapping, the real addresses. */
    CHECK_EQ(ph_rp2040_granule_at(p, banks), 65536u);
    CHECK_EQ(ph_rp2040_granule_at(p, banks + BANKS_SIZE - 1), 65536u);
    CHECK_EQ(ph_rp2040_granule_at(p, small), 4096u);
    CHECK_EQ(ph_rp2040_granule_at(p, small + SMALL_SIZE - 1), 4096u);
    CHECK_EQ(ph_rp2040_granule_at(p, small + SMALL_SIZE), 0u);
    CHECK_EQ(ph_rp2040_port_remap(p, fake_syscfg, fake_sio, banks + 0x1000, small), -1);
    CHECK_EQ(ph_rp2040_port_remap(p, fake_syscfg, fake_sio, banks, small + 0x800), -1);
    CHECK_EQ(ph_rp2040_port_remap(p, fake_syscfg, fake_sio, banks, banks + 0x1000), -1);
    CHECK_EQ(ph_rp2040_use_spinlock(p, 32), -1);
    {
        ph_rp2040_port real;
        ph_rp2040_port_init(&real);
        CHECK_EQ(real.syscfg_base + PH_RP2040_MEMPOWERDOWN, 0x40004018u);
        CHECK_EQ(ph_rp2040_granule_at(&real, (void *)(uintptr_t)0x21000000u), 65536u);
        CHECK_EQ(ph_rp2040_granule_at(&real, (void *)(uintptr_t)0x2103ffffu), 65536u);
        CHECK_EQ(ph_rp2040_granule_at(&real, (void *)(uintptr_t)0x20040000u), 4096u);
        CHECK_EQ(ph_rp2040_granule_at(&real, (void *)(uintptr_t)0x20041fffu), 4096u);
        CHECK_EQ(ph_rp2040_granule_at(&real, (void *)(uintptr_t)0x20000000u), 0u); /* striped */
        CHECK_EQ(ph_rp2040_granule_at(&real, (void *)(uintptr_t)0x2003ffffu), 0u);
    }
}

static void test_lock(void)
{
    ph_rp2040_port port, *p = &port;
    const uint32_t lock5 = SIO_TAG + PH_RP2040_SIO_SPINLOCK0 + 4 * 5;

    reset_chip();
    new_port(p);
    log_sio = true;
    /* No spinlock: PRIMASK only, nesting-safe. */
    ph_hwgate_host_primask = 0;
    p->port.lock(p);
    p->port.lock(p);
    CHECK_EQ(ph_hwgate_host_primask, 1u);
    p->port.unlock(p);
    CHECK_EQ(ph_hwgate_host_primask, 1u);
    p->port.unlock(p);
    CHECK_EQ(ph_hwgate_host_primask, 0u);
    p->port.unlock(p); /* unbalanced: ignored */
    CHECK_EQ(ph_hwgate_host_primask, 0u);
    EXPECT_NO_WRITES();

    /* SIO spinlock 5: claimed by the outermost lock (a read), released by
     * the outermost unlock (one write). */
    CHECK_EQ(ph_rp2040_use_spinlock(p, 5), 0);
    p->port.lock(p);
    p->port.lock(p);
    p->port.unlock(p);
    EXPECT_NO_WRITES();
    CHECK_EQ(ph_hwgate_host_primask, 1u);
    p->port.unlock(p);
    EXPECT_WRITES({lock5, 1u << 5});
    CHECK_EQ(ph_hwgate_host_primask, 0u);

    /* Core 1 keeps its own depth and saved PRIMASK. */
    fake_sio[PH_RP2040_SIO_CPUID / 4] = 1;
    ph_hwgate_host_primask = 1;
    p->port.lock(p);
    CHECK_EQ(p->lock_depth[1], 1u);
    CHECK_EQ(p->lock_depth[0], 0u);
    p->port.unlock(p);
    CHECK_EQ(ph_hwgate_host_primask, 1u);
    EXPECT_WRITES({lock5, 1u << 5});
    fake_sio[PH_RP2040_SIO_CPUID / 4] = 0;
    ph_hwgate_host_primask = 0;

    /* A hook called without the lock while lock hooks are set: counted. */
    p->port.release(p, banks + 0x30000, 0x10000);
    CHECK_EQ(p->gate.unlocked_calls, 1u);
    nwlog = 0;
    log_sio = false;
}

/* ---- part 2: the heap on the port -------------------------------------------------- */

static void expect_alloc_acquires(ph_rp2040_port *p, uint32_t off_before, void *q, size_t len,
                                  int line)
{
    uint32_t up, down;
    uint32_t want = banks_of(q, len) & off_before;

    log_banks(&up, &down);
    checks++;
    if (q == NULL || up != want || down != 0 || p->off != (off_before & ~want)) {
        failures++;
        fprintf(stderr, "%s:%d: alloc %p+0x%zx: powered up 0x%x (want 0x%x), down 0x%x\n",
                __FILE__, line, q, len, up, want, down);
    }
    if (q != NULL)
        memset(q, 0x77, len); /* crashes if any of it is still powered down */
}
#define EXPECT_ALLOC(p, before, q, len) expect_alloc_acquires(p, before, q, len, __LINE__)

static void test_heap(void)
{
    static ph_heap heap;
    ph_rp2040_port port, *p = &port;
    ph_heap *h = &heap;
    ph_region_info r0, r1;
    ph_stats st;
    uint32_t up, down, before, all_free;
    size_t got, n0;
    void *a, *b, *c, *d;
    const size_t pg = 256;

    reset_chip();
    new_port(p);
    CHECK_EQ(ph_rp2040_use_spinlock(p, 7), 0); /* as a two-core board would */
    ph_hwgate_host_primask = 0;
    CHECK_EQ(ph_init(h, pg, &p->port), PH_OK);
    CHECK_EQ(ph_add_region(h, banks, BANKS_SIZE, ph_rp2040_granule_at(p, banks)), PH_OK);
    CHECK_EQ(ph_add_region(h, small, SMALL_SIZE, ph_rp2040_granule_at(p, small)), PH_OK);
    /* Regions are kept in address order: which one is lower depends on
     * where mmap put the memory; find them by base. */
    CHECK_EQ(ph_get_region(h, 0, &r0), PH_OK);
    CHECK_EQ(ph_get_region(h, 1, &r1), PH_OK);
    if (r0.raw_base != banks) {
        ph_region_info t = r0;
        r0 = r1;
        r1 = t;
    }
    CHECK(r0.raw_base == banks && r1.raw_base == small);
    CHECK_EQ(r0.granule, 65536u);
    CHECK_EQ(r1.granule, 4096u);
    CHECK((uint8_t *)r0.base < banks + 0x10000); /* metadata in SRAM0 */
    CHECK((uint8_t *)r1.base < small + 0x1000);  /* metadata in SRAM4 */
    EXPECT_NO_WRITES();

    /* Scavenge: SRAM1..3 and SRAM5 go down; SRAM0 and SRAM4 hold metadata. */
    got = ph_scavenge(h, SIZE_MAX);
    all_free = 0x2eu;
    CHECK_EQ(got, 3u * 65536u + 4096u);
    log_banks(&up, &down);
    CHECK_EQ(up, 0u);
    CHECK_EQ(down, all_free);
    CHECK_EQ(MEMPOWERDOWN, all_free);
    CHECK_EQ(p->off, all_free);
    ph_get_stats(h, &st);
    CHECK_EQ(st.pages_released, got / pg);
    CHECK_EQ(ph_check(h), PH_OK);

    /* Fill SRAM0's free pages: nothing powered up.  The next page (lowest
     * address first) is SRAM1's first: powered up before it is returned. */
    n0 = (size_t)(banks + 0x10000 - (uint8_t *)r0.base) / pg;
    before = p->off;
    a = ph_page_alloc(h, n0);
    CHECK(a == r0.base);
    EXPECT_ALLOC(p, before, a, n0 * pg);
    before = p->off;
    b = ph_page_alloc(h, 1);
    CHECK(b == banks + 0x10000);
    EXPECT_ALLOC(p, before, b, pg);
    /* 128 KB from 0x21010100: the rest of SRAM1, SRAM2 and SRAM3's first
     * page. */
    before = p->off;
    c = ph_page_alloc(h, 512);
    CHECK(c == banks + 0x10100);
    EXPECT_ALLOC(p, before, c, 512 * pg);
    /* What is left of SRAM3 (64 KB minus the 256 bytes c took of it). */
    before = p->off;
    d = ph_page_alloc(h, 255);
    CHECK(d == banks + 0x30100);
    EXPECT_ALLOC(p, before, d, 255 * pg);
    CHECK_EQ(p->off, 0x20u);
    CHECK_EQ(ph_check(h), PH_OK);

    ph_page_free(h, a, n0);
    ph_page_free(h, b, 1);
    ph_page_free(h, c, 512);
    ph_page_free(h, d, 255);
    EXPECT_NO_WRITES();
    ph_scavenge(h, SIZE_MAX);
    log_banks(&up, &down);
    CHECK_EQ(up, 0u);
    CHECK_EQ(down, 0x0eu);
    CHECK_EQ(p->off, all_free);

    /* The malloc family, then idle time hands everything back. */
    {
        void *big, *obj[64];

        before = p->off;
        big = ph_malloc(h, 100000);
        CHECK(big != NULL);
        log_banks(&up, &down);
        CHECK(up != 0 && (up & ~before) == 0 && down == 0);
        CHECK((banks_of(big, 100000) & p->off) == 0);
        memset(big, 1, 100000);
        for (int i = 0; i < 64; i++) {
            obj[i] = ph_malloc(h, (size_t)(8 + 40 * i));
            CHECK(obj[i] != NULL);
            CHECK((banks_of(obj[i], (size_t)(8 + 40 * i)) & p->off) == 0);
            memset(obj[i], 2, (size_t)(8 + 40 * i));
        }
        nwlog = 0;
        for (int i = 0; i < 64; i++)
            ph_free(h, obj[i]);
        ph_free(h, big);
        EXPECT_NO_WRITES();
        for (int i = 0; i < 1000 && p->off != all_free; i++)
            ph_idle(h);
        CHECK_EQ(p->off, all_free);
        log_banks(&up, &down);
        CHECK_EQ(up, 0u);
    }

    ph_page_free(h, NULL, 1); /* a bad free reaches the fault hook */
    CHECK_EQ(p->gate.heap_faults, 1u);
    CHECK_EQ(p->gate.errors, 0u);
    CHECK_EQ(p->gate.unlocked_calls, 0u);
    CHECK_EQ(p->lock_depth[0], 0u);
    CHECK_EQ(ph_hwgate_host_primask, 0u);
    CHECK_EQ(ph_check(h), PH_OK);
}

/* A region in memory the port does not know (as the striped alias would
 * be) with a granule: every release is refused, nothing is written. */
static void test_unknown_memory(void)
{
    static ph_heap heap;
    ph_rp2040_port port, *p = &port;

    reset_chip();
    new_port(p);
    /* The port believes the banks are elsewhere. */
    CHECK_EQ(ph_rp2040_port_remap(p, fake_syscfg, fake_sio, banks + BANKS_SIZE + PH_RP2040_BANK_SIZE,
                                  small + SMALL_SIZE), 0);
    CHECK_EQ(ph_init(&heap, 256, &p->port), PH_OK);
    CHECK_EQ(ph_add_region(&heap, banks, BANKS_SIZE, 65536), PH_OK);
    ph_scavenge(&heap, SIZE_MAX);
    EXPECT_NO_WRITES();
    CHECK(traps > 0);
    CHECK_EQ(last_trap, PH_RP2040_ERR_RANGE);
    CHECK_EQ(p->off, 0u);
}

int main(void)
{
    uint8_t *map;

    banks = fake_ram_map(MAP_SIZE, PH_RP2040_BANK_SIZE, &map);
    if (banks == NULL)
        return 1;
    small = banks + BANKS_SIZE; /* 4 KB aligned, right after SRAM3 */

    test_registers();
    test_lock();
    test_heap();
    test_unknown_memory();

    mprotect(banks, BANKS_SIZE + SMALL_SIZE, PROT_READ | PROT_WRITE);
    munmap(map, MAP_SIZE + PH_RP2040_BANK_SIZE);
    return checks_summary("test_rp2040");
}
