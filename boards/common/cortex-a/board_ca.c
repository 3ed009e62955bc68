/* SPDX-License-Identifier: MIT */
/*
 * boards/common/cortex-a/board_ca.c: the C half of the Cortex-A start-up
 * (startup.S has the vectors and mode set-up) and the pieces of the board
 * API every ARMv7-A board here shares:
 *
 *   board_ca_start   .data/.bss, a flat MMU map (RAM normal write-back in
 *                    4 KiB pages, everything else device; with the MMU off
 *                    every access is strongly ordered and unaligned ones
 *                    fault, which newlib's string functions would trip),
 *                    the PMU cycle counter, board_init, the simulated gate,
 *                    constructors, pageheap's default heap, main, exit;
 *   the gate         board_gate_protect unmaps released granules' pages,
 *                    so a touch takes a data abort (reported, or skipped
 *                    when announced by ph_simgate_expect_fault);
 *   interrupts       a GICv2 (distributor + CPU interface at the addresses
 *                    the board gives), board_irq_attach;
 *   board_timer_*    the virtual generic timer (PPI 27), re-armed on each
 *                    tick, period converted from board_counter ticks;
 *   board_counter    PMCCNTR, the PMU cycle counter (QEMU: one per
 *                    instruction under -icount shift=0, 1 GHz otherwise);
 *   aborts           reported with DFSR/DFAR/IFSR/IFAR, end the run
 *                    (BOARD_EXIT_SIMGATE when the address is released).
 */
#include <stdint.h>
#include <stdlib.h>

#include "board.h"
#include "board_internal.h"
#include "ph_simgate.h"

#ifndef BOARD_NUM_IRQS
#define BOARD_NUM_IRQS 128
#endif

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))

extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void __libc_init_array(void);
int ph_newlib_init(void) __attribute__((weak));

void board_ca_start(void) __attribute__((noreturn));
void _init(void);
void _fini(void);

/* -nostartfiles drops crti/crtn, which define these; __libc_init_array and
 * __libc_fini_array still call them.  Nothing to do. */
void _init(void) {}
void _fini(void) {}
void board_ca_irq(void);
void board_ca_abort(uint32_t *frame, uint32_t kind, uint32_t spsr);

/* ---- coprocessor access ------------------------------------------------------ */

#define CP15_READ(op1, crn, crm, op2, v) \
    __asm__ volatile("mrc p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 : "=r"(v))
#define CP15_WRITE(op1, crn, crm, op2, v) \
    __asm__ volatile("mcr p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 : : "r"(v) : "memory")

static inline void isb(void) { __asm__ volatile("isb" : : : "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb" : : : "memory"); }

/* ---- MMU: a flat map; RAM in 4 KiB pages --------------------------------------------

 * Everything outside RAM is device memory in 1 MiB sections.  RAM is
 * normal write-back memory mapped through second-level tables of 4 KiB
 * small pages, so that the simulated gate can unmap a released granule
 * (board_gate_protect: a touch then takes a translation fault, a data
 * abort) and map it again on acquire.  BOARD_CA_RAM_MB (board.cmake)
 * sizes the second-level tables: 1 KiB per MiB of RAM. */
#ifndef BOARD_CA_RAM_MB
#define BOARD_CA_RAM_MB 128
#endif

/* Short-descriptor formats.  Section: device (B: shareable device), never
 * executed, full access.  Coarse table: its address | 1 (domain 0).  Small
 * page: normal (TEX 001, C, B: write-back write-allocate), shareable, full
 * access. */
#define SECT_DEVICE (0x2u | (1u << 2) | (1u << 4) | (3u << 10))
#define COARSE 0x1u
#define PAGE_NORMAL (0x2u | (1u << 2) | (1u << 3) | (3u << 4) | (1u << 6) | (1u << 10))
#define PAGE_SHIFT 12u

static uint32_t board_ca_ttb[4096] __attribute__((aligned(16384)));
static uint32_t board_ca_l2[BOARD_CA_RAM_MB][256] __attribute__((aligned(1024)));
static uintptr_t board_ca_ram_lo, board_ca_ram_hi;

static void board_ca_mmu_on(void)
{
    uintptr_t lo, hi;
    board_ca_ram(&lo, &hi);
    if (hi - lo > (uintptr_t)BOARD_CA_RAM_MB << 20)
        hi = lo + ((uintptr_t)BOARD_CA_RAM_MB << 20);
    board_ca_ram_lo = lo;
    board_ca_ram_hi = hi;
    for (uint32_t i = 0; i < 4096u; i++) {
        uint32_t base = i << 20;
        if (base >= lo && base - lo < hi - lo) {
            uint32_t *l2 = board_ca_l2[(base - lo) >> 20];
            for (uint32_t j = 0; j < 256u; j++)
                l2[j] = (base + (j << PAGE_SHIFT)) | PAGE_NORMAL;
            board_ca_ttb[i] = (uint32_t)(uintptr_t)l2 | COARSE;
        } else {
            board_ca_ttb[i] = base | SECT_DEVICE;
        }
    }
    dsb();
    uint32_t zero = 0, dacr = 0x55555555u; /* every domain: client */
    CP15_WRITE(0, c2, c0, 2, zero);        /* TTBCR: TTBR0 only, short format */
    uint32_t ttbr0 = (uint32_t)(uintptr_t)board_ca_ttb;
    CP15_WRITE(0, c2, c0, 0, ttbr0);
    CP15_WRITE(0, c3, c0, 0, dacr);
    CP15_WRITE(0, c8, c7, 0, zero);        /* TLBIALL */
    CP15_WRITE(0, c7, c5, 0, zero);        /* ICIALLU */
    dsb();
    isb();
    uint32_t sctlr;
    CP15_READ(0, c1, c0, 0, sctlr);
    sctlr |= (1u << 0) | (1u << 2) | (1u << 11) | (1u << 12); /* M, C, Z, I */
    sctlr &= ~(1u << 1);                                       /* A: unaligned ok */
    CP15_WRITE(0, c1, c0, 0, sctlr);
    isb();
}

/* The simulated gate's protect hook: unmap (on) or map again (off) the
 * 4 KiB pages of [base, base+len).  Runs with the heap's lock held. */
void board_gate_protect(struct ph_simgate *g, void *base, size_t len, int on)
{
    uintptr_t a = (uintptr_t)base, end = a + len;
    (void)g;
    if (a < board_ca_ram_lo || end > board_ca_ram_hi || end < a)
        return; /* not RAM mapped in pages: nothing to do */
    uint32_t *pages = &board_ca_l2[0][0];
    for (uintptr_t p = a & ~(uintptr_t)0xFFFu; p < end; p += 1u << PAGE_SHIFT)
        pages[(p - board_ca_ram_lo) >> PAGE_SHIFT] = on ? 0u : ((uint32_t)p | PAGE_NORMAL);
    dsb();
    uint32_t zero = 0;
    if (len > (64u << PAGE_SHIFT)) {
        CP15_WRITE(0, c8, c7, 0, zero); /* TLBIALL */
    } else {
        for (uintptr_t p = a & ~(uintptr_t)0xFFFu; p < end; p += 1u << PAGE_SHIFT) {
            uint32_t mva = (uint32_t)p;
            CP15_WRITE(0, c8, c7, 1, mva); /* TLBIMVA */
        }
    }
    dsb();
    isb();
}

/* ---- PMU cycle counter -------------------------------------------------------------- */

static void board_ca_pmu_on(void)
{
    uint32_t pmcr;
    CP15_READ(0, c9, c12, 0, pmcr);
    pmcr |= (1u << 0) | (1u << 2); /* E, C: enable, reset the cycle counter */
    pmcr &= ~(1u << 3);            /* D: count every cycle */
    CP15_WRITE(0, c9, c12, 0, pmcr);
    uint32_t cyc = 1u << 31;
    CP15_WRITE(0, c9, c12, 1, cyc); /* PMCNTENSET: the cycle counter */
    isb();
}

uint32_t board_counter(void)
{
    uint32_t v;
    CP15_READ(0, c9, c13, 0, v); /* PMCCNTR */
    return v;
}

uint32_t board_counter_hz(void) { return 1000000000u; }
uint32_t board_counter_insns_per_tick(void) { return 1; }

/* ---- reset ------------------------------------------------------------------------- */

void board_ca_start(void)
{
    uint32_t *src = __data_load, *dst = __data_start;
    if (src != dst)
        while (dst < __data_end)
            *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end; dst++)
        *dst = 0;
    board_ca_mmu_on();
    board_ca_pmu_on();
    board_init();
    board_ca_gic_init();
    board_gate_setup();
    __libc_init_array();
    if (ph_newlib_init)
        ph_newlib_init();
    __asm__ volatile("cpsie i" : : : "memory");
    exit(main());
}

/* ---- GICv2 --------------------------------------------------------------------------- */

#define GICD_CTLR 0x000u
#define GICD_ISENABLER 0x100u
#define GICD_ICENABLER 0x180u
#define GICD_IPRIORITYR 0x400u
#define GICD_ITARGETSR 0x800u
#define GICC_CTLR 0x000u
#define GICC_PMR 0x004u
#define GICC_IAR 0x00Cu
#define GICC_EOIR 0x010u
#define GIC_SPURIOUS 1023u

static void (*volatile board_irq_fn[BOARD_NUM_IRQS])(void);

void board_ca_gic_init(void)
{
    uintptr_t d = board_ca_gicd(), c = board_ca_gicc();
    REG(d + GICD_CTLR) = 0;
    for (uint32_t i = 0; i < BOARD_NUM_IRQS; i += 32)
        REG(d + GICD_ICENABLER + i / 8u) = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < BOARD_NUM_IRQS; i += 4) {
        REG(d + GICD_IPRIORITYR + i) = 0xA0A0A0A0u;
        if (i >= 32)
            REG(d + GICD_ITARGETSR + i) = 0x01010101u; /* SPIs to CPU 0 */
    }
    REG(d + GICD_CTLR) = 1;
    REG(c + GICC_PMR) = 0xF0u;
    REG(c + GICC_CTLR) = 1;
}

int board_irq_attach(int irq, void (*fn)(void))
{
    if (irq < 0 || irq >= BOARD_NUM_IRQS)
        return -1;
    uintptr_t d = board_ca_gicd();
    uint32_t bit = 1u << ((uint32_t)irq % 32u), word = (uint32_t)irq / 32u;
    board_irq_fn[irq] = fn;
    if (fn)
        REG(d + GICD_ISENABLER + 4u * word) = bit;
    else
        REG(d + GICD_ICENABLER + 4u * word) = bit;
    return 0;
}

void board_ca_irq(void)
{
    uintptr_t c = board_ca_gicc();
    uint32_t iar = REG(c + GICC_IAR);
    uint32_t id = iar & 0x3FFu;
    if (id == GIC_SPURIOUS)
        return;
    void (*fn)(void) = id < BOARD_NUM_IRQS ? board_irq_fn[id] : 0;
    if (fn == 0) {
        board_puts("\nboard: unexpected interrupt ");
        board_put_dec(id);
        board_puts("\n");
        board_exit(BOARD_EXIT_FAULT);
    }
    fn();
    REG(c + GICC_EOIR) = iar;
}

/* ---- board_timer: the virtual generic timer ------------------------------------------ */

#define VTIMER_PPI 27
static volatile uint32_t board_timer_tval;
static void (*volatile board_timer_fn)(void);

static void board_ca_timer_tick(void)
{
    uint32_t tval = board_timer_tval;
    CP15_WRITE(0, c14, c3, 0, tval); /* CNTV_TVAL: next tick from now */
    void (*fn)(void) = board_timer_fn;
    if (fn)
        fn();
}

int board_timer_start(uint32_t period, void (*fn)(void))
{
    if (period == 0 || fn == 0)
        return -1;
    uint32_t frq;
    CP15_READ(0, c14, c0, 0, frq); /* CNTFRQ */
    uint64_t t = (uint64_t)period * frq / board_counter_hz();
    if (t == 0)
        t = 1;
    if (t > 0x7FFFFFFFu)
        return -1;
    uint32_t off = 0;
    CP15_WRITE(0, c14, c3, 1, off); /* CNTV_CTL: off */
    board_timer_fn = fn;
    board_timer_tval = (uint32_t)t;
    board_irq_attach(VTIMER_PPI, board_ca_timer_tick);
    uint32_t tval = (uint32_t)t, on = 1;
    CP15_WRITE(0, c14, c3, 0, tval);
    CP15_WRITE(0, c14, c3, 1, on); /* ENABLE, interrupt unmasked */
    isb();
    return 0;
}

void board_timer_stop(void)
{
    uint32_t off = 0;
    CP15_WRITE(0, c14, c3, 1, off);
    isb();
    board_irq_attach(VTIMER_PPI, 0);
    board_timer_fn = 0;
}

/* ---- aborts ------------------------------------------------------------------------------ */

static void board_put_reg(const char *name, uint32_t v)
{
    board_puts(name);
    board_put_hex(v);
}

/* frame: r0-r3, r12, then the address of the faulting instruction (data
 * and prefetch abort) or of the one after it (undefined, SVC).  kind: 0
 * data abort, 1 prefetch abort, 2 undefined, 3 SVC, 4 FIQ. */
void board_ca_abort(uint32_t *frame, uint32_t kind, uint32_t spsr)
{
    static const char *const names[] = {"data abort", "prefetch abort",
                                        "undefined instruction", "SVC", "FIQ"};
    uint32_t dfsr, dfar, ifsr, ifar;
    CP15_READ(0, c5, c0, 0, dfsr);
    CP15_READ(0, c6, c0, 0, dfar);
    CP15_READ(0, c5, c0, 1, ifsr);
    CP15_READ(0, c6, c0, 2, ifar);
    struct ph_simgate *g = board_simgate();
    if (kind == 0 && ph_simgate_is_released(g, (const void *)(uintptr_t)dfar) &&
        ph_simgate_fault(g, (const void *)(uintptr_t)dfar, 1)) {
        /* An announced touch of released memory: skip the instruction. */
        uint32_t pc = frame[5];
        if (spsr & (1u << 5)) { /* Thumb */
            uint16_t hw = *(const uint16_t *)(uintptr_t)pc;
            pc += ((hw & 0xF800u) >= 0xE800u) ? 4u : 2u;
        } else {
            pc += 4u;
        }
        frame[5] = pc;
        return;
    }
    board_puts("\nboard: FAULT: ");
    board_puts(kind < 5 ? names[kind] : "exception");
    board_put_reg(" pc=", frame[5]);
    board_put_reg(" spsr=", spsr);
    if (kind == 0) {
        board_put_reg(" dfsr=", dfsr);
        board_put_reg(" dfar=", dfar);
        if (ph_simgate_is_released(g, (const void *)(uintptr_t)dfar)) {
            board_puts("\nsimgate: VIOLATION: a released granule was touched at ");
            board_put_hex(dfar);
            board_puts("\n");
            board_exit(BOARD_EXIT_SIMGATE);
        }
    } else if (kind == 1) {
        board_put_reg(" ifsr=", ifsr);
        board_put_reg(" ifar=", ifar);
    }
    board_puts("\n");
    board_exit(BOARD_EXIT_FAULT);
}
