/* SPDX-License-Identifier: MIT */
/*
 * port/simgate: the simulated power gate.  See ph_simgate.h for what it
 * checks and how the MPU is used.
 *
 * The record is one bit per granule, regions kept sorted by address, each
 * owning a slice of bits[].  Every release/acquire validates the range
 * against the record first, then changes memory (poison) and the MPU in
 * the order that never leaves a released granule unpoisoned or a granule
 * in use protected:
 *
 *   release:  record -> poison -> protect (MPU update)
 *   acquire:  unprotect (MPU update) -> check poison -> un-record
 */
#include "ph_simgate.h"

/* ---- the record ---------------------------------------------------------- */

static int sg_bit(const struct ph_simgate *g, uint32_t i)
{
    return (int)((g->bits[i >> 5] >> (i & 31u)) & 1u);
}

static void sg_set(struct ph_simgate *g, uint32_t i, int on)
{
    if (on)
        g->bits[i >> 5] |= 1u << (i & 31u);
    else
        g->bits[i >> 5] &= ~(1u << (i & 31u));
}

/* The region whose granules hold addr, or NULL. */
static const struct ph_simgate_region *sg_region(const struct ph_simgate *g, uintptr_t addr)
{
    for (uint32_t i = 0; i < g->nregions; i++) {
        const struct ph_simgate_region *r = &g->regions[i];
        if (addr >= r->base && addr - r->base < ((uintptr_t)r->ngranules << r->shift))
            return r;
    }
    return 0;
}

/* Checks that [base, base+len) is whole granules of one region; sets
 * *first (bit index) and *n (granules).  0 on success. */
static int sg_range(const struct ph_simgate *g, uintptr_t base, size_t len,
                    uint32_t *first, uint32_t *n)
{
    const struct ph_simgate_region *r = sg_region(g, base);
    if (r == 0 || len == 0)
        return -1;
    uintptr_t gmask = ((uintptr_t)1 << r->shift) - 1u;
    if ((base & gmask) != 0 || (len & gmask) != 0)
        return -1;
    uintptr_t idx = (base - r->base) >> r->shift;
    uintptr_t cnt = len >> r->shift;
    if (cnt > r->ngranules - idx)
        return -1;
    *first = r->first_bit + (uint32_t)idx;
    *n = (uint32_t)cnt;
    return 0;
}

static void sg_violation(struct ph_simgate *g, int kind, uintptr_t addr)
{
    if (g->on_violation)
        g->on_violation(g, kind, (const void *)addr);
}

/* ---- the MPU ---------------------------------------------------------------- */

#if PH_SIMGATE_HAVE_MPU

#define SG_REG(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define SG_SHCSR SG_REG(0xE000ED24u)
#define SG_MPU_TYPE SG_REG(0xE000ED90u)
#define SG_MPU_CTRL SG_REG(0xE000ED94u)
#define SG_MPU_RNR SG_REG(0xE000ED98u)
#define SG_MPU_RBAR SG_REG(0xE000ED9Cu)
#define SG_MPU_RASR SG_REG(0xE000EDA0u) /* PMSAv8: RLAR */

#define SG_SHCSR_MEMFAULTENA (1u << 16)
#define SG_CTRL_ENABLE 1u
#define SG_CTRL_PRIVDEFENA 4u

static void sg_barrier(void)
{
    __asm__ volatile("dsb\n\tisb" : : : "memory");
}

static void sg_mpu_enable(struct ph_simgate *g)
{
    g->mpu_regions = (SG_MPU_TYPE >> 8) & 0xFFu;
    if (g->mpu_regions == 0)
        return;
    for (uint32_t i = 0; i < g->mpu_regions; i++) {
        SG_MPU_RNR = i;
        SG_MPU_RASR = 0; /* disabled (RLAR.EN = 0 on PMSAv8) */
    }
    SG_SHCSR |= SG_SHCSR_MEMFAULTENA; /* MemManage, not HardFault, when unmasked */
    SG_MPU_CTRL = SG_CTRL_PRIVDEFENA | SG_CTRL_ENABLE;
    sg_barrier();
}

/* The regions being built by one update. */
struct sg_plan {
    uint32_t used;
    uint32_t max;
    unsigned long unprotected;
};

/* Programs region i: disabled first, so that a half-written region never
 * covers memory in use. */
static void sg_mpu_set(uint32_t i, uint32_t rbar, uint32_t rasr)
{
    SG_MPU_RNR = i;
    SG_MPU_RASR = 0;
    SG_MPU_RBAR = rbar;
    SG_MPU_RASR = rasr;
}

#if PH_SIMGATE_PMSAV8
/* PMSAv8: RBAR = base | SH 0 | AP 00 (read/write, privileged only) | XN;
 * RLAR = limit | AttrIndx 0 | EN.  Two identical regions: an access that
 * hits both always faults, privileged or not. */
static void sg_plan_run(struct sg_plan *p, uintptr_t a, uintptr_t b, uint32_t shift)
{
    if (p->used + 2u > p->max) {
        p->unprotected += (unsigned long)((b - a) >> shift);
        return;
    }
    uint32_t rbar = (uint32_t)a | 1u; /* XN */
    uint32_t rlar = ((uint32_t)(b - 1u) & ~31u) | 1u;
    sg_mpu_set(p->used++, rbar, rlar);
    sg_mpu_set(p->used++, rbar, rlar);
}
#else
/* PMSAv7: cover [a, b) with windows of 8 subregions.  At each step the
 * block u is the largest power of two that a is aligned to and that fits
 * in [a, b); the window is the 8u-aligned region around a, with the
 * subregions inside [a, b) enabled.  Either the run ends there or a moves
 * to an 8u boundary, so u grows by 8x per window up the run and shrinks
 * down its end: about 2 * log8(run / granule) windows. */
static void sg_plan_run(struct sg_plan *p, uintptr_t a, uintptr_t b, uint32_t shift)
{
    while (a < b) {
        if (p->used >= p->max) {
            p->unprotected += (unsigned long)((b - a) >> shift);
            return;
        }
        uint32_t u = (uint32_t)(a & (0u - a)); /* lowest set bit of a */
        if (u == 0 || u > (1u << 28))
            u = 1u << 28; /* a window of 8u must fit in 4 GiB */
        while (u > b - a)
            u >>= 1;
        uint32_t size = u * 8u;
        uint32_t base = (uint32_t)a & ~(size - 1u);
        uint32_t first = ((uint32_t)a - base) / u;
        uint32_t end = (b - base >= size) ? 8u : (uint32_t)(b - base) / u;
        uint32_t enabled = ((1u << end) - 1u) & ~((1u << first) - 1u);
        uint32_t srd = ~enabled & 0xFFu;
        uint32_t log2size = 31u - (uint32_t)__builtin_clz(size);
        /* XN | AP 000 (no access) | TEX 000 C 1 B 1 | SRD | SIZE | ENABLE */
        uint32_t rasr = (1u << 28) | (1u << 17) | (1u << 16) | (srd << 8) |
                        ((log2size - 1u) << 1) | 1u;
        sg_mpu_set(p->used++, base, rasr);
        a = (uintptr_t)base + (uintptr_t)end * u;
    }
}
#endif

/* Recomputes every MPU region from the record: runs of released granules,
 * highest address first, until the regions run out. */
static void sg_mpu_update(struct ph_simgate *g)
{
    if (g->mpu_regions == 0)
        return;
    struct sg_plan p = {0, g->mpu_regions, 0};
    for (uint32_t ri = g->nregions; ri-- > 0;) {
        const struct ph_simgate_region *r = &g->regions[ri];
        uint32_t i = r->ngranules;
        while (i > 0) {
            /* skip down over recorded-free granules, a word at a time */
            uint32_t bit = r->first_bit + i - 1u;
            if (g->bits[bit >> 5] == 0 && (bit & 31u) + 1u <= i) {
                i -= (bit & 31u) + 1u;
                continue;
            }
            if (!sg_bit(g, bit)) {
                i--;
                continue;
            }
            uint32_t hi = i; /* run is [lo, hi) in granules of r */
            while (i > 0 && sg_bit(g, r->first_bit + i - 1u))
                i--;
            uintptr_t a = r->base + ((uintptr_t)i << r->shift);
            uintptr_t b = r->base + ((uintptr_t)hi << r->shift);
            sg_plan_run(&p, a, b, r->shift);
        }
    }
    for (uint32_t i = p.used; i < g->mpu_regions && i < g->mpu_regions_used; i++) {
        SG_MPU_RNR = i;
        SG_MPU_RASR = 0;
    }
    sg_barrier();
    g->mpu_regions_used = p.used;
    if (p.used > g->mpu_regions_peak)
        g->mpu_regions_peak = p.used;
    g->mpu_unprotected_granules = p.unprotected;
    if (p.unprotected > g->mpu_unprotected_peak)
        g->mpu_unprotected_peak = p.unprotected;
    g->mpu_updates++;
}

#else /* no MPU */

static void sg_mpu_enable(struct ph_simgate *g)
{
    g->mpu_regions = 0;
}

static void sg_mpu_update(struct ph_simgate *g)
{
    (void)g;
}

#endif

/* ---- the hooks -------------------------------------------------------------- */

static void sg_release(void *ctx, void *base, size_t len)
{
    struct ph_simgate *g = ctx;
    uintptr_t a = (uintptr_t)base;
    uint32_t first, n;
    if (sg_range(g, a, len, &first, &n) != 0) {
        g->bad_releases++;
        sg_violation(g, PH_SIMGATE_BAD_RELEASE, a);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (sg_bit(g, first + i)) {
            g->bad_releases++;
            sg_violation(g, PH_SIMGATE_DOUBLE_RELEASE, a);
            return;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        sg_set(g, first + i, 1);
    volatile uint32_t *w = (volatile uint32_t *)base;
    for (size_t k = 0; k < len / sizeof(uint32_t); k++)
        w[k] = PH_SIMGATE_POISON;
    g->releases++;
    g->bytes_released += len;
    g->granules_released += n;
    if (g->granules_released > g->peak_granules_released)
        g->peak_granules_released = g->granules_released;
    if (g->protect)
        g->protect(g, base, len, 1);
    else
        sg_mpu_update(g);
}

static void sg_acquire(void *ctx, void *base, size_t len)
{
    struct ph_simgate *g = ctx;
    uintptr_t a = (uintptr_t)base;
    uint32_t first, n;
    if (sg_range(g, a, len, &first, &n) != 0) {
        g->bad_acquires++;
        sg_violation(g, PH_SIMGATE_BAD_ACQUIRE, a);
        return;
    }
    /* Un-record (and so unprotect) every released granule of the range,
     * even when some are not released, so that the heap can go on to the
     * report. */
    uint32_t missing = 0, found = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (sg_bit(g, first + i)) {
            sg_set(g, first + i, 0);
            found++;
        } else {
            missing++;
        }
    }
    g->granules_released -= found;
    if (found && g->protect)
        g->protect(g, base, len, 0);
    else if (found)
        sg_mpu_update(g);
    if (missing) {
        g->bad_acquires++;
        sg_violation(g, PH_SIMGATE_NOT_RELEASED, a);
        return;
    }
    /* The poison must be intact: nothing wrote there while released. */
    size_t gsize = len / n;
    const volatile uint32_t *w = (const volatile uint32_t *)base;
    for (uint32_t i = 0; i < n; i++) {
        for (size_t k = 0; k < gsize / sizeof(uint32_t); k++) {
            if (w[k] != PH_SIMGATE_POISON) {
                g->poison_violations++;
                sg_violation(g, PH_SIMGATE_POISON_BROKEN, (uintptr_t)&w[k]);
                break;
            }
        }
        w += gsize / sizeof(uint32_t);
    }
    g->acquires++;
    g->bytes_acquired += len;
}

static void sg_lock(void *ctx)
{
    const ph_port *in = ((struct ph_simgate *)ctx)->inner;
    in->lock(in->ctx);
}

static void sg_unlock(void *ctx)
{
    const ph_port *in = ((struct ph_simgate *)ctx)->inner;
    in->unlock(in->ctx);
}

static void sg_fault(void *ctx, int code, const void *addr)
{
    const ph_port *in = ((struct ph_simgate *)ctx)->inner;
    in->fault(in->ctx, code, addr);
}

/* ---- public ------------------------------------------------------------------- */

void ph_simgate_init(struct ph_simgate *g, const ph_port *inner,
                     ph_simgate_violation_fn on_violation)
{
    /* Everything to zero by hand: g may hold garbage, and this file does
     * not rely on memset. */
    volatile unsigned char *b = (volatile unsigned char *)g;
    for (size_t i = 0; i < sizeof *g; i++)
        b[i] = 0;
    g->inner = inner;
    g->on_violation = on_violation;
    g->port.ctx = g;
    g->port.release = sg_release;
    g->port.acquire = sg_acquire;
    g->port.lock = (inner && inner->lock) ? sg_lock : 0;
    g->port.unlock = (inner && inner->unlock) ? sg_unlock : 0;
    g->port.fault = (inner && inner->fault) ? sg_fault : 0;
}

int ph_simgate_add_region(struct ph_simgate *g, void *base, size_t size, size_t granule)
{
    if (granule < 32u || (granule & (granule - 1u)) != 0)
        return -1;
    if (g->nregions >= PH_SIMGATE_MAX_REGIONS)
        return -1;
    uintptr_t lo = ((uintptr_t)base + granule - 1u) & ~(uintptr_t)(granule - 1u);
    uintptr_t end = (uintptr_t)base + size;
    if (end < (uintptr_t)base || lo >= end)
        return -1;
    uintptr_t hi = end & ~(uintptr_t)(granule - 1u);
    if (hi <= lo)
        return -1;
    uint32_t shift = 31u - (uint32_t)__builtin_clz((unsigned)granule);
    uintptr_t count = (hi - lo) >> shift;
    if (count > PH_SIMGATE_MAX_GRANULES - g->nbits)
        return -1;
    for (uint32_t i = 0; i < g->nregions; i++) {
        const struct ph_simgate_region *r = &g->regions[i];
        uintptr_t rend = r->base + ((uintptr_t)r->ngranules << r->shift);
        if (lo < rend && r->base < hi)
            return -1;
    }
    /* Insert sorted by address; bit slices are handed out in call order. */
    uint32_t at = g->nregions;
    while (at > 0 && g->regions[at - 1u].base > lo) {
        g->regions[at] = g->regions[at - 1u];
        at--;
    }
    g->regions[at].base = lo;
    g->regions[at].ngranules = (uint32_t)count;
    g->regions[at].shift = shift;
    g->regions[at].first_bit = g->nbits;
    g->nbits += (uint32_t)count;
    if (g->nregions++ == 0)
        sg_mpu_enable(g);
    return 0;
}

int ph_simgate_is_released(const struct ph_simgate *g, const void *addr)
{
    const struct ph_simgate_region *r = sg_region(g, (uintptr_t)addr);
    if (r == 0)
        return 0;
    return sg_bit(g, r->first_bit + (uint32_t)(((uintptr_t)addr - r->base) >> r->shift));
}

int ph_simgate_can_trap(const struct ph_simgate *g)
{
    return g->protect != 0 || g->mpu_regions > 0;
}

unsigned long ph_simgate_violations(const struct ph_simgate *g)
{
    return g->bad_releases + g->bad_acquires + g->poison_violations +
           (g->mpu_faults - g->mpu_expected_faults);
}

void ph_simgate_expect_fault(struct ph_simgate *g, uint32_t n)
{
    g->expect_faults = n;
}

int ph_simgate_fault(struct ph_simgate *g, const void *addr, int addr_valid)
{
    g->mpu_faults++;
    g->last_fault_addr = addr_valid ? addr : 0;
    if (g->expect_faults > 0) {
        g->expect_faults--;
        g->mpu_expected_faults++;
        return 1;
    }
    return 0;
}
