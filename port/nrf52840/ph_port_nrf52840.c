/* SPDX-License-Identifier: MIT */
/*
 * ph_port_nrf52840.c: release/acquire switch nRF52840 RAM sections off and
 * on through POWER.RAM[n].POWERCLR / POWERSET; lock/unlock mask interrupts.
 * See ph_port_nrf52840.h for the contract and README.md for the sources.
 *
 * The RAM is described as two kinds of section (4 KB in RAM0..RAM7, 32 KB
 * in RAM8); a hook call is first mapped to one kind and a run of its
 * sections, every check is made, and only then are the registers written,
 * one write per RAM block touched, so a refused call writes nothing.
 */
#include "ph_port_nrf52840.h"

static inline uintptr_t ram_reg(const ph_nrf52840_port *p, uint32_t block, uint32_t reg)
{
    return p->power_base + PH_NRF52840_RAM_REGS + block * PH_NRF52840_RAM_STRIDE + reg;
}

/* ---- sections -------------------------------------------------------------- */

/* One kind of power section: `count` sections of `size` bytes from
 * ram_base + offset, `per_block` of them in each RAM block from
 * `first_block`, numbered from `first_index` in the port's bitmaps. */
typedef struct section_kind {
    uint32_t offset, size, count;
    uint32_t first_block, per_block, first_index;
} section_kind;

static const section_kind kinds[2] = {
    {PH_NRF52840_SMALL_OFFSET, PH_NRF52840_SMALL_SECTION, PH_NRF52840_SMALL_COUNT,
     0u, PH_NRF52840_SMALL_PER_BLOCK, 0u},
    {PH_NRF52840_LARGE_OFFSET, PH_NRF52840_LARGE_SECTION, PH_NRF52840_LARGE_COUNT,
     PH_NRF52840_LARGE_BLOCK, PH_NRF52840_LARGE_COUNT, PH_NRF52840_SMALL_COUNT},
};

/* A checked hook argument: sections [first, first + n) of one kind. */
typedef struct section_run {
    const section_kind *kind;
    uint32_t first, n;
    uint32_t mask; /* bits of the run in the port's bitmaps */
} section_run;

/* Maps [base, base + len) to whole sections of one kind; false when it is
 * empty, leaves the RAM, is not section aligned, or spans both kinds. */
static bool map_range(const ph_nrf52840_port *p, uintptr_t base, size_t len, section_run *run)
{
    uintptr_t off;

    if (len == 0 || base < p->ram_base)
        return false;
    off = base - p->ram_base;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const section_kind *kd = &kinds[k];
        uintptr_t rel;
        size_t room;

        if (off < kd->offset || off - kd->offset >= (uintptr_t)kd->size * kd->count)
            continue;
        rel = off - kd->offset;
        room = (size_t)kd->size * kd->count - rel;
        if (rel % kd->size != 0 || len % kd->size != 0 || len > room)
            return false;
        run->kind = kd;
        run->first = (uint32_t)(rel / kd->size);
        run->n = (uint32_t)(len / kd->size);
        run->mask = ((run->n >= 32u ? 0u : (1u << run->n)) - 1u) << (kd->first_index + run->first);
        return true;
    }
    return false;
}

/* Common checks of release (want_off = false: every section must be on)
 * and acquire (want_off = true).  Returns 0 or a PH_NRF52840_ERR_*. */
static int check_call(ph_nrf52840_port *p, void *base, size_t len, bool want_off,
                      section_run *run)
{
    uintptr_t lo = (uintptr_t)base;

    if (p->port.lock != NULL && p->lock_depth == 0)
        p->gate.unlocked_calls++;
    if (!map_range(p, lo, len, run))
        return PH_NRF52840_ERR_RANGE;
    if (ph_hwgate_touches_protected(&p->gate, p, sizeof *p, lo, lo + len))
        return PH_NRF52840_ERR_PROTECTED;
    if (want_off ? (p->off & run->mask) != run->mask : (p->off & run->mask) != 0)
        return PH_NRF52840_ERR_STATE;
    return 0;
}

/* Bits of RAM block `block` that the run covers (S0 = bit 0). */
static uint32_t block_bits(const section_run *run, uint32_t block)
{
    const section_kind *kd = run->kind;
    uint32_t bits = 0;

    for (uint32_t s = run->first; s < run->first + run->n; s++)
        if (kd->first_block + s / kd->per_block == block)
            bits |= 1u << (s % kd->per_block);
    return bits;
}

/* The RAM blocks the run touches: [*b0, *b1]. */
static void run_blocks(const section_run *run, uint32_t *b0, uint32_t *b1)
{
    const section_kind *kd = run->kind;

    *b0 = kd->first_block + run->first / kd->per_block;
    *b1 = kd->first_block + (run->first + run->n - 1u) / kd->per_block;
}

static void nrf_release(void *ctx, void *base, size_t len)
{
    ph_nrf52840_port *p = (ph_nrf52840_port *)ctx;
    section_run run;
    uint32_t b0, b1;
    int err;

    p->gate.release_calls++;
    err = check_call(p, base, len, false, &run);
    if (err != 0) {
        ph_hwgate_refuse(&p->gate, err, base, len);
        return;
    }
    run_blocks(&run, &b0, &b1);
    for (uint32_t b = b0; b <= b1; b++) {
        uint32_t bits = block_bits(&run, b);
        uint32_t was = ph_hwgate_mmio_read(ram_reg(p, b, PH_NRF52840_REG_POWER));
        uint32_t kept = (was >> PH_NRF52840_RETENTION_SHIFT) & bits;
        /* Remember which sections had retention on, to restore it. */
        for (uint32_t x = 0; x < 16u; x++)
            if (bits & (1u << x)) {
                uint32_t s = run.kind->first_index +
                             (b - run.kind->first_block) * run.kind->per_block + x;
                if (kept & (1u << x))
                    p->retained |= 1u << s;
                else
                    p->retained &= ~(1u << s);
            }
        /* Power and retention off: no retention current, contents lost. */
        ph_hwgate_mmio_write(ram_reg(p, b, PH_NRF52840_REG_POWERCLR),
                   bits | (bits << PH_NRF52840_RETENTION_SHIFT));
    }
    p->off |= run.mask;
    p->sections_released += run.n;
}

static void nrf_acquire(void *ctx, void *base, size_t len)
{
    ph_nrf52840_port *p = (ph_nrf52840_port *)ctx;
    section_run run;
    uint32_t b0, b1;
    int err;

    p->gate.acquire_calls++;
    err = check_call(p, base, len, true, &run);
    if (err != 0) {
        ph_hwgate_refuse(&p->gate, err, base, len);
        return;
    }
    run_blocks(&run, &b0, &b1);
    for (uint32_t b = b0; b <= b1; b++) {
        uint32_t bits = block_bits(&run, b);
        uint32_t first = run.kind->first_index + (b - run.kind->first_block) * run.kind->per_block;
        uint32_t ret = (p->retained >> first) & bits;

        ph_hwgate_mmio_write(ram_reg(p, b, PH_NRF52840_REG_POWERSET),
                   bits | (ret << PH_NRF52840_RETENTION_SHIFT));
        (void)ph_hwgate_mmio_read(ram_reg(p, b, PH_NRF52840_REG_POWER)); /* write has landed */
    }
    ph_hwgate_barrier();
    p->off &= ~run.mask;
    p->retained &= ~run.mask;
    p->sections_acquired += run.n;
}

static void nrf_lock(void *ctx)
{
    ph_nrf52840_port *p = (ph_nrf52840_port *)ctx;

    (void)ph_hwgate_lock_enter(&p->lock_depth, &p->saved_primask);
}

static void nrf_unlock(void *ctx)
{
    ph_nrf52840_port *p = (ph_nrf52840_port *)ctx;

    if (ph_hwgate_lock_leave(&p->lock_depth))
        ph_hwgate_irq_restore(p->saved_primask);
}

static void nrf_fault(void *ctx, int code, const void *addr)
{
    ph_nrf52840_port *p = (ph_nrf52840_port *)ctx;

    ph_hwgate_fault(&p->gate, code, addr);
}

/* ---- set-up -------------------------------------------------------------------- */

void ph_nrf52840_port_init(ph_nrf52840_port *p)
{
    /* Field by field, not `*p = (ph_nrf52840_port){0}`: a struct copy may
     * become a memset call, and the port needs no C library. */
    p->port.ctx = p;
    p->port.release = nrf_release;
    p->port.acquire = nrf_acquire;
    p->port.lock = nrf_lock;
    p->port.unlock = nrf_unlock;
    p->port.fault = nrf_fault;
    p->power_base = PH_NRF52840_POWER_BASE;
    p->ram_base = PH_NRF52840_RAM_BASE;
    ph_hwgate_init(&p->gate);
    p->off = p->retained = 0;
    p->sections_released = p->sections_acquired = 0;
    p->lock_depth = 0;
    p->saved_primask = 0;
}

int ph_nrf52840_port_remap(ph_nrf52840_port *p, volatile void *power_base, void *ram_base)
{
    uintptr_t ram = (uintptr_t)ram_base;

    if (power_base == NULL || ram % PH_NRF52840_LARGE_SECTION != 0)
        return -1;
    p->power_base = (uintptr_t)power_base;
    p->ram_base = ram;
    return 0;
}

int ph_nrf52840_protect(ph_nrf52840_port *p, const void *lo, const void *hi)
{
    return ph_hwgate_protect(&p->gate, lo, hi);
}

size_t ph_nrf52840_granule_at(const ph_nrf52840_port *p, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;

    if (a < p->ram_base || a - p->ram_base >= PH_NRF52840_RAM_SIZE)
        return 0;
    return a - p->ram_base < PH_NRF52840_LARGE_OFFSET ? PH_NRF52840_SMALL_SECTION
                                                      : PH_NRF52840_LARGE_SECTION;
}

uint32_t ph_nrf52840_sections_off(const ph_nrf52840_port *p)
{
    return p->off;
}
