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

/* ---- interrupt masking (Cortex-M0+: PRIMASK) ------------------------------
 * Local on purpose: the port builds on its own.  On the host (unit tests)
 * PRIMASK is a variable. */
#if defined(__arm__) || defined(__thumb__)
static inline uint32_t irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask" : "=r"(primask));
    __asm__ volatile("cpsid i" ::: "memory");
    return primask;
}

static inline void irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

static inline uintptr_t current_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

static inline void barrier(void)
{
    __asm__ volatile("dsb" ::: "memory");
}
#else
uint32_t ph_rp2040_host_primask;

static inline uint32_t irq_save(void)
{
    uint32_t primask = ph_rp2040_host_primask;
    ph_rp2040_host_primask = 1u;
    return primask;
}

static inline void irq_restore(uint32_t primask)
{
    ph_rp2040_host_primask = primask;
}

static inline uintptr_t current_sp(void)
{
    return (uintptr_t)__builtin_frame_address(0);
}

static inline void barrier(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#endif

/* ---- MMIO ----------------------------------------------------------------
 * Every register access goes through these two.  A host test built with
 * PH_RP2040_MMIO_TRACE also sees each write (address, value). */
#ifdef PH_RP2040_MMIO_TRACE
void ph_rp2040_mmio_trace(uintptr_t addr, uint32_t value); /* the test's */
#endif

static inline void mmio_write(uintptr_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
#ifdef PH_RP2040_MMIO_TRACE
    ph_rp2040_mmio_trace(addr, value);
#endif
}

static inline uint32_t mmio_read(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

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

static bool overlaps(uintptr_t lo1, uintptr_t hi1, uintptr_t lo2, uintptr_t hi2)
{
    return lo1 < hi2 && lo2 < hi1;
}

static bool touches_protected(const ph_rp2040_port *p, uintptr_t lo, uintptr_t hi)
{
    uintptr_t sp = current_sp();
    uintptr_t self = (uintptr_t)p;

    if (sp >= lo && sp < hi)
        return true;
    if (overlaps(lo, hi, self, self + sizeof *p))
        return true;
    for (uint32_t i = 0; i < p->nprotect; i++)
        if (overlaps(lo, hi, p->protect[i].lo, p->protect[i].hi))
            return true;
    return false;
}

static uint32_t this_core(const ph_rp2040_port *p)
{
    return mmio_read(p->sio_base + PH_RP2040_SIO_CPUID) & 1u;
}

static void refuse(ph_rp2040_port *p, int err, void *base, size_t len)
{
    p->errors++;
    p->last_error = err;
    p->last_error_base = base;
    p->last_error_len = len;
    if (p->trap != NULL)
        p->trap(p->trap_ctx, err, base, len);
}

/* Common checks of release (want_off = false) and acquire (want_off =
 * true).  Returns 0 or a PH_RP2040_ERR_*. */
static int check_call(ph_rp2040_port *p, void *base, size_t len, bool want_off, uint32_t *bits)
{
    uintptr_t lo = (uintptr_t)base;

    if (p->port.lock != NULL && p->lock_depth[this_core(p)] == 0)
        p->unlocked_calls++;
    if (!map_range(p, lo, len, bits))
        return PH_RP2040_ERR_RANGE;
    if (touches_protected(p, lo, lo + len))
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

    p->release_calls++;
    err = check_call(p, base, len, false, &bits);
    if (err != 0) {
        refuse(p, err, base, len);
        return;
    }
    mmio_write(p->syscfg_base + PH_RP2040_ALIAS_SET + PH_RP2040_MEMPOWERDOWN, bits);
    p->off |= bits;
    p->banks_released += popcount(bits);
}

static void rp_acquire(void *ctx, void *base, size_t len)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;
    uint32_t bits;
    int err;

    p->acquire_calls++;
    err = check_call(p, base, len, true, &bits);
    if (err != 0) {
        refuse(p, err, base, len);
        return;
    }
    mmio_write(p->syscfg_base + PH_RP2040_ALIAS_CLR + PH_RP2040_MEMPOWERDOWN, bits);
    (void)mmio_read(p->syscfg_base + PH_RP2040_MEMPOWERDOWN); /* write has landed */
    for (volatile uint32_t i = 0; i < PH_RP2040_WAKE_SPINS; i++) {
        /* >= 20 ns before the bank is accessed */
    }
    barrier();
    p->off &= ~bits;
    p->banks_acquired += popcount(bits);
}

static void rp_lock(void *ctx)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;
    uint32_t primask = irq_save();
    uint32_t core = this_core(p);

    /* Interrupts are masked on this core from here on, and only this core
     * touches its entries. */
    if (p->lock_depth[core]++ != 0)
        return;
    p->saved_primask[core] = primask;
    if (p->spinlock >= 0) {
        uintptr_t lock = p->sio_base + PH_RP2040_SIO_SPINLOCK0 + 4u * (uint32_t)p->spinlock;
        while (mmio_read(lock) == 0) {
            /* the other core holds it: spin (a read claims it when free) */
        }
        barrier();
    }
}

static void rp_unlock(void *ctx)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;
    uint32_t core = this_core(p);

    if (p->lock_depth[core] == 0)
        return; /* unbalanced: leave the interrupt state alone */
    if (--p->lock_depth[core] != 0)
        return;
    if (p->spinlock >= 0) {
        barrier();
        /* Writing any value releases it; its own bit is what a claim reads. */
        mmio_write(p->sio_base + PH_RP2040_SIO_SPINLOCK0 + 4u * (uint32_t)p->spinlock,
                   1u << (uint32_t)p->spinlock);
    }
    irq_restore(p->saved_primask[core]);
}

static void rp_fault(void *ctx, int code, const void *addr)
{
    ph_rp2040_port *p = (ph_rp2040_port *)ctx;

    p->heap_faults++;
    if (p->heap_fault != NULL)
        p->heap_fault(p->heap_fault_ctx, code, addr);
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
    for (uint32_t i = 0; i < PH_RP2040_MAX_PROTECT; i++)
        p->protect[i].lo = p->protect[i].hi = 0;
    p->nprotect = 0;
    p->off = 0;
    p->trap = NULL;
    p->trap_ctx = NULL;
    p->heap_fault = NULL;
    p->heap_fault_ctx = NULL;
    p->release_calls = p->acquire_calls = 0;
    p->banks_released = p->banks_acquired = 0;
    p->errors = 0;
    p->last_error = 0;
    p->last_error_base = NULL;
    p->last_error_len = 0;
    p->unlocked_calls = 0;
    p->heap_faults = 0;
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
        small % PH_RP2040_SMALL_SIZE != 0 || overlaps(big, big_end, small, small_end))
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
    if ((uintptr_t)lo >= (uintptr_t)hi || p->nprotect >= PH_RP2040_MAX_PROTECT)
        return -1;
    p->protect[p->nprotect].lo = (uintptr_t)lo;
    p->protect[p->nprotect].hi = (uintptr_t)hi;
    p->nprotect++;
    return 0;
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
