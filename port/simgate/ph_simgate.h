/* SPDX-License-Identifier: MIT */
/*
 * port/simgate: a simulated RAM power gate for boards that have none (every
 * QEMU board), so that the heap's promise "never touch a released granule"
 * is checked on target.
 *
 *  release(base, len)  checks that [base, base+len) is whole, not yet
 *                      released granules of a configured region, records
 *                      them (one bit per granule), fills them with the
 *                      poison pattern (what a powered-down SRAM would hand
 *                      back: garbage), then, on a core with an MPU, makes
 *                      them no-access, so any later load, store or fetch
 *                      there faults;
 *  acquire(base, len)  checks that the range is exactly whole released
 *                      granules, lifts the MPU protection, checks that the
 *                      poison is intact in every word (a write while
 *                      released is a "poison violation": the only detector
 *                      on cores without an MPU), un-records and counts them.
 *                      The poison stays: memory that comes back from acquire
 *                      has undefined contents, and code that assumes zeroes
 *                      sees 0xDEADBEEF-like words instead.
 *
 * lock, unlock and fault are passed through to an inner port (the core's
 * interrupt-masking lock, port/cortex-m or port/cortex-a).
 *
 * MPU (ARMv7-M PMSAv7: Cortex-M3/M4/M7; ARMv8-M PMSAv8: Cortex-M33/M55;
 * compiled in when the target has one, see PH_SIMGATE_HAVE_MPU): the MPU is
 * enabled with the default memory map as background for privileged code
 * (PRIVDEFENA), and after every release/acquire its regions are recomputed
 * from the record:
 *   - PMSAv7 (8 or 16 regions): a region is a naturally aligned power of two
 *     with 8 subregions that can be disabled, so each maximal run of
 *     released granules is covered by windows of 8 aligned blocks (a block
 *     as large as the run's alignment allows), any run by about
 *     2 * log8(run / granule) regions, AP = no access, XN;
 *   - PMSAv8 (QEMU: 16 regions per security state): regions are [base,
 *     limit] with no "no access" permission for privileged code, so each run
 *     gets TWO identical regions: an address that hits two regions always
 *     faults (MemManage, privileged or not).  8 runs fit in 16 regions.
 * When the runs need more regions than the MPU has, the highest-addressed
 * runs (those the scavenger releases first) are protected first; the
 * granules left over are counted in mpu_unprotected_granules (poison still
 * checks them).  Adjacent released granules always form one run, whatever
 * the release calls were.
 *
 * A touch of a protected granule raises MemManage (HardFault while
 * interrupts are masked, e.g. inside the heap's lock); the board's fault
 * handler calls ph_simgate_fault() and, unless the fault was announced with
 * ph_simgate_expect_fault(), prints and fails the run.
 *
 * Cores without an MPU get the record and the poison check, plus whatever
 * the board's protect hook does: on Cortex-A (virt) the board unmaps
 * released granules in its MMU tables (4 KiB pages), so a touch takes a
 * data abort; on Cortex-M0 (microbit) nothing traps, and a stray write is
 * seen when the granule is acquired again.
 *
 * The simgate is a test device: release costs one store per word, acquire
 * one load per word, and each MPU update O(recorded granules / 32 + runs).
 * Benchmarks that want the heap's own cost use port/none.
 */
#ifndef PH_SIMGATE_H
#define PH_SIMGATE_H

#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Granules recorded at most, over all regions (one bit each).  A board with
 * little RAM defines a smaller figure; firmware that includes this header
 * must see the same value as the simgate itself (the board's CMake passes
 * it to everything it builds). */
#ifndef PH_SIMGATE_MAX_GRANULES
#define PH_SIMGATE_MAX_GRANULES 8192u
#endif
/* Regions (RAM banks) at most. */
#ifndef PH_SIMGATE_MAX_REGIONS
#define PH_SIMGATE_MAX_REGIONS 8u
#endif
/* The poison: each word of a released granule holds this value. */
#ifndef PH_SIMGATE_POISON
#define PH_SIMGATE_POISON 0xDEADBEEFu
#endif

/* Does this target's core have an MPU the simgate drives? */
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
#define PH_SIMGATE_HAVE_MPU 1
#define PH_SIMGATE_PMSAV8 0
#elif defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define PH_SIMGATE_HAVE_MPU 1
#define PH_SIMGATE_PMSAV8 1
#else
#define PH_SIMGATE_HAVE_MPU 0
#define PH_SIMGATE_PMSAV8 0
#endif

/* What went wrong, passed to the violation hook. */
enum {
    PH_SIMGATE_BAD_RELEASE = 1, /* range not whole granules of one region   */
    PH_SIMGATE_DOUBLE_RELEASE,  /* a granule of the range is released       */
    PH_SIMGATE_BAD_ACQUIRE,     /* range not whole granules of one region   */
    PH_SIMGATE_NOT_RELEASED,    /* acquire of a granule that is not released */
    PH_SIMGATE_POISON_BROKEN,   /* a word of a released granule changed     */
    PH_SIMGATE_MPU_FAULT        /* a released granule was touched (MPU)     */
};

struct ph_simgate;

/* Called on every violation, with the heap's lock held (from a hook) or
 * from the fault handler: it must not allocate.  addr: the first bad
 * address.  The board's hook prints and ends the run; NULL: only count. */
typedef void (*ph_simgate_violation_fn)(struct ph_simgate *g, int kind, const void *addr);

struct ph_simgate_region {
    uintptr_t base;       /* first whole granule                        */
    uint32_t ngranules;   /* whole granules of the region               */
    uint32_t shift;       /* log2(granule size)                         */
    uint32_t first_bit;   /* index of its first granule in bits[]       */
};

/* Optional protection by other means than the MPU (e.g. an MMU): called
 * with whole released granules after release poisoned them (on = 1: make
 * [base, base+len) inaccessible) and before acquire reads them (on = 0).
 * Set g->protect after ph_simgate_init; the MPU is then left alone. */
typedef void (*ph_simgate_protect_fn)(struct ph_simgate *g, void *base, size_t len, int on);

struct ph_simgate {
    ph_port port;              /* hand &g->port to ph_init (ctx = g)    */
    const ph_port *inner;      /* lock / unlock / fault go here          */
    ph_simgate_violation_fn on_violation;
    ph_simgate_protect_fn protect; /* NULL: the MPU, where there is one  */

    /* ---- counters (since ph_simgate_init) ---- */
    unsigned long releases;          /* release calls accepted             */
    unsigned long acquires;          /* acquire calls accepted             */
    uint64_t bytes_released;         /* bytes those calls covered          */
    uint64_t bytes_acquired;
    unsigned long granules_released; /* granules recorded as released now  */
    unsigned long peak_granules_released;
    unsigned long bad_releases;      /* BAD_RELEASE + DOUBLE_RELEASE        */
    unsigned long bad_acquires;      /* BAD_ACQUIRE + NOT_RELEASED          */
    unsigned long poison_violations; /* granules found with broken poison   */
    /* set by the fault handler, hence volatile */
    volatile unsigned long mpu_faults;          /* touches of protected memory */
    volatile unsigned long mpu_expected_faults; /* ... of those, announced     */
    const void *volatile last_fault_addr;       /* address of the last touch   */

    /* ---- MPU (0 everywhere on a core without one) ---- */
    uint32_t mpu_regions;            /* data regions the MPU has            */
    uint32_t mpu_regions_used;       /* by the last update                  */
    uint32_t mpu_regions_peak;
    unsigned long mpu_updates;       /* MPU reprogrammed                    */
    unsigned long mpu_unprotected_granules; /* released but not covered at
                                                the last update            */
    unsigned long mpu_unprotected_peak;
    volatile uint32_t expect_faults; /* faults announced, not yet seen      */

    /* ---- the record ---- */
    uint32_t nregions;
    uint32_t nbits;
    struct ph_simgate_region regions[PH_SIMGATE_MAX_REGIONS];
    uint32_t bits[(PH_SIMGATE_MAX_GRANULES + 31u) / 32u]; /* 1 = released */
};

/* Sets *g up over the inner port (lock/unlock/fault taken from it; inner
 * may be NULL: no lock, faults only counted by the heap).  Records nothing
 * yet; the MPU (when there is one) is not touched before the first
 * ph_simgate_add_region.  O(PH_SIMGATE_MAX_GRANULES / 32). */
void ph_simgate_init(struct ph_simgate *g, const ph_port *inner,
                     ph_simgate_violation_fn on_violation);

/* The port to pass to ph_init. */
static inline const ph_port *ph_simgate_port(struct ph_simgate *g)
{
    return &g->port;
}

/* Makes the whole granules inside [base, base+size) (granule: a power of
 * two, >= 32 bytes) releasable.  Give it the same memory and granule as
 * ph_add_region.  Returns 0, or -1 when the table or the bit budget is full
 * (the region is then not gated: a release there counts as BAD_RELEASE), or
 * the region holds no whole granule / overlaps another.  On a core with an
 * MPU, the first call enables it (background map for privileged code, no
 * region yet).  O(regions). */
int ph_simgate_add_region(struct ph_simgate *g, void *base, size_t size, size_t granule);

/* 1 when addr lies in a granule recorded as released.  O(regions). */
int ph_simgate_is_released(const struct ph_simgate *g, const void *addr);

/* 1 when a touch of released memory traps (an MPU with regions, or a
 * protect hook): ph_simgate_expect_fault is meaningful.  0: only the
 * poison check on acquire sees stray writes. */
int ph_simgate_can_trap(const struct ph_simgate *g);

/* Counters of violations added up (bad releases, bad acquires, poison,
 * unexpected MPU faults): 0 on a clean run. */
unsigned long ph_simgate_violations(const struct ph_simgate *g);

/* Announces that the next n touches of released memory are deliberate (a
 * test proving the MPU traps): ph_simgate_fault() then counts them and lets
 * the handler skip the faulting instruction.  Only meaningful with an MPU. */
void ph_simgate_expect_fault(struct ph_simgate *g, uint32_t n);

/* For the board's MemManage / HardFault handler: a memory fault at addr
 * (addr_valid: the core reported the address).  Counts it; returns 1 when
 * it was announced by ph_simgate_expect_fault (the handler skips the
 * instruction and returns), 0 otherwise (the handler reports, with
 * ph_simgate_is_released telling whether addr is released memory, and
 * ends the run).  Safe in a fault handler: no lock, no allocation. */
int ph_simgate_fault(struct ph_simgate *g, const void *addr, int addr_valid);

#ifdef __cplusplus
}
#endif

#endif /* PH_SIMGATE_H */
