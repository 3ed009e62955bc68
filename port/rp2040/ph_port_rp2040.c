/* SPDX-License-Identifier: MIT */
/*
 * ph_port_rp2040.c: release/acquire power RP2040 SRAM banks down and up
 * through the atomic set/clear aliases of SYSCFG.MEMPOWERDOWN; lock/unlock
 * mask interrupts and optionally take a SIO spinlock.  See
 * ph_port_rp2040.h for the contract and README.md for the sources.
 *
 * A hook call is first mapped to one kind of bank (64 KB SRAM0..3 in the
 * non-striped alias, or 4 KB SRAM4/5) and a run of its banks, every check
 * is made, and only then is the register written, once, so a refused call
 * writes nothing.
 */
#include "ph_port_rp2040.h"

_Static_assert(PH_RP2040_BANK_SIZE == 1u << 16, "map_range shifts by 16");
_Static_assert(PH_RP2040_SMALL_SIZE == 1u << 12, "map_range shifts by 12");

/* ---- banks ----------------------------------------------------------------- */

/* A checked hook argument: MEMPOWERDOWN bits of whole banks of one kind.
 * Bank sizes are powers of two: shifts, not divisions (the M0+ has no
 * divide instruction). */
static bool map_range(const ph_rp2040_port *p, uintptr_t base, size_t len, uint32_t *bits)
{
    static const struct {
        uint32_t shift, count, first_bit;
    } kinds[2] = {
        {16u, PH_RP2040_BANK_COUNT, 0u},                    /* 64 KB */
        {12u, PH_RP2040_SMALL_COUNT, PH_RP2040_BANK_COUNT}, /*  4 KB */
    };
    const uintptr_t bases[2] = {p->bank_base, p->small_base};

    if (len == 0)
        return false;
    for (size_t k = 0; k < 2; k++) {
        uintptr_t size = (uintptr_t)1 << kinds[k].shift;
        uintptr_t span = size * kinds[k].count;
        uintptr_t rel;
        uint32_t first, n;

        if (base < bases[k] || base - bases[k] >= span)
            continue;
        rel = base - bases[k];
        if ((rel & (size - 1u)) != 0 || (len & (size - 1u)) != 0 || len > span - rel)
            return false;
        first = (uint32_t)(rel >> kinds[k].shift);
        n = (uint32_t)(len >> kinds[k].shift);
        *bits = ((1u << n) - 1u) << (kinds[k].first_bit + first);
        return true;
    }
    return false;
}

static uint32_t this_core(const ph_rp2040_port *p)
{
    return ph_hwgate_mmio_read(p->sio_base + PH_RP2040_SIO_CPUID) & 1u;
}

/* Common checks of release (want_off = false) and acquire (want_off =
 * true).  Returns 0 or a PH_RP2040_ERR_*. */
static int check_call(ph_rp2040_port *p, void *base, size_t len, bool want_off, uint32_t *bits)
{
    uintptr_t lo = (uintptr_t)base;

    if (p->port.lock != NULL && p->lock_depth[this_core(p)] == 0)
        p->gate.unlocked_calls++;
    if (!map_range(p, lo, len, bits))
        return PH_RP2040_ERR_RANGE;
    if (ph_hwgate_touches_protected(&p->gate, p, sizeof *p, lo, lo + len))
        return PH_RP2040_ERR_PROTECTED;
    if (want_off ? (p->off & *bits) != *bits : (p->off & *bits) != 0)
        return PH_RP2040_ERR_STATE;
    return 0;
}

static uint32_t popcount(uint32_t x)
{
    uint32_t n = 0;
    for (; x != 0; x &= x - 1u)
        n++;
    return n;
}

static void rp_release(void *ctx, void *base, size_t len)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;
    uint32_t bits;
    int err;

    p->gate.release_calls++;
    err = check_call(p, base, len, false, &bits);
    if (err != 0) {
        ph_hwgate_refuse(&p->gate, err, base, len);
        return;
    }
    ph_hwgate_mmio_write(p->syscfg_base + PH_RP2040_ALIAS_SET + PH_RP2040_MEMPOWERDOWN, bits);
    p->off |= bits;
    p->banks_released += popcount(bits);
}

static void rp_acquire(void *ctx, void *base, size_t len)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;
    uint32_t bits;
    int err;

    p->gate.acquire_calls++;
    err = check_call(p, base, len, true, &bits);
    if (err != 0) {
        ph_hwgate_refuse(&p->gate, err, base, len);
        return;
    }
    ph_hwgate_mmio_write(p->syscfg_base + PH_RP2040_ALIAS_CLR + PH_RP2040_MEMPOWERDOWN, bits);
    (void)ph_hwgate_mmio_read(p->syscfg_base + PH_RP2040_MEMPOWERDOWN); /* write has landed */
    for (volatile uint32_t i = 0; i < PH_RP2040_WAKE_SPINS; i++) {
        /* >= 20 ns before the bank is accessed */
    }
    ph_hwgate_barrier();
    p->off &= ~bits;
    p->banks_acquired += popcount(bits);
}

static void rp_lock(void *ctx)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;
    uint32_t core = this_core(p);

    /* Interrupts are masked on this core from here on, and only this core
     * touches its entries. */
    if (!ph_hwgate_lock_enter(&p->lock_depth[core], &p->saved_primask[core]))
        return;
    if (p->spinlock >= 0) {
        uintptr_t lock = p->sio_base + PH_RP2040_SIO_SPINLOCK0 + 4u * (uint32_t)p->spinlock;
        while (ph_hwgate_mmio_read(lock) == 0) {
            /* the other core holds it: spin (a read claims it when free) */
        }
        ph_hwgate_barrier();
    }
}

static void rp_unlock(void *ctx)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;
    uint32_t core = this_core(p);

    if (!ph_hwgate_lock_leave(&p->lock_depth[core]))
        return; /* still nested, or unbalanced: interrupts stay as they are */
    if (p->spinlock >= 0) {
        ph_hwgate_barrier();
        /* Writing any value releases it; its own bit is what a claim reads. */
        ph_hwgate_mmio_write(p->sio_base + PH_RP2040_SIO_SPINLOCK0 + 4u * (uint32_t)p->spinlock,
                   1u << (uint32_t)p->spinlock);
    }
    ph_hwgate_irq_restore(p->saved_primask[core]);
}

static void rp_fault(void *ctx, int code, const void *addr)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;

    ph_hwgate_fault(&p->gate, code, addr);
}

/* ---- set-up -------------------------------------------------------------------- */

void ph_rp2040_port_init(ph_rp2040_port *p)
{
    /* Field by field: a struct copy may become a memset call, and the port
     * needs no C library. */
    p->port.ctx = p;
    p->port.release = rp_release;
    p->port.acquire = rp_acquire;
    p->port.lock = rp_lock;
    p->port.unlock = rp_unlock;
    p->port.fault = rp_fault;
    p->syscfg_base = PH_RP2040_SYSCFG_BASE;
    p->sio_base = PH_RP2040_SIO_BASE;
    p->bank_base = PH_RP2040_BANK_BASE;
    p->small_base = PH_RP2040_SMALL_BASE;
    p->spinlock = -1;
    ph_hwgate_init(&p->gate);
    p->off = 0;
    p->banks_released = p->banks_acquired = 0;
    for (uint32_t c = 0; c < PH_RP2040_CORES; c++)
        p->lock_depth[c] = p->saved_primask[c] = 0;
}

int ph_rp2040_port_remap(ph_rp2040_port *p, volatile void *syscfg, volatile void *sio,
                         void *bank_base, void *small_base)
{
    uintptr_t big = (uintptr_t)bank_base, small = (uintptr_t)small_base;
    uintptr_t big_end = big + (uintptr_t)PH_RP2040_BANK_SIZE * PH_RP2040_BANK_COUNT;
    uintptr_t small_end = small + (uintptr_t)PH_RP2040_SMALL_SIZE * PH_RP2040_SMALL_COUNT;

    if (syscfg == NULL || sio == NULL || big % PH_RP2040_BANK_SIZE != 0 ||
        small % PH_RP2040_SMALL_SIZE != 0 || ph_hwgate_overlaps(big, big_end, small, small_end))
        return -1;
    p->syscfg_base = (uintptr_t)syscfg;
    p->sio_base = (uintptr_t)sio;
    p->bank_base = big;
    p->small_base = small;
    return 0;
}

int ph_rp2040_use_spinlock(ph_rp2040_port *p, int n)
{
    if (n < -1 || n >= (int)PH_RP2040_SPINLOCKS)
        return -1;
    p->spinlock = n;
    return 0;
}

int ph_rp2040_protect(ph_rp2040_port *p, const void *lo, const void *hi)
{
    return ph_hwgate_protect(&p->gate, lo, hi);
}

size_t ph_rp2040_granule_at(const ph_rp2040_port *p, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;

    if (a >= p->bank_base && a - p->bank_base < (uintptr_t)PH_RP2040_BANK_SIZE * PH_RP2040_BANK_COUNT)
        return PH_RP2040_BANK_SIZE;
    if (a >= p->small_base &&
        a - p->small_base < (uintptr_t)PH_RP2040_SMALL_SIZE * PH_RP2040_SMALL_COUNT)
        return PH_RP2040_SMALL_SIZE;
    return 0;
}

uint32_t ph_rp2040_banks_off(const ph_rp2040_port *p)
{
    return p->off;
}
