/* SPDX-License-Identifier: MIT */
/*
 * boards/common/cortex-m/exceptions.c: the Cortex-M exception handlers of
 * board firmware (startup.c puts them in the vector table; without this
 * file they fall back to board_default_handler):
 *
 *   faults        HardFault / MemManage / BusFault / UsageFault /
 *                 SecureFault print the stacked registers and the fault
 *                 status, then end the run with BOARD_EXIT_FAULT (99), or
 *                 BOARD_EXIT_SIMGATE (98) when the address is memory the
 *                 simulated gate released; a touch announced with
 *                 ph_simgate_expect_fault is counted instead and the
 *                 faulting instruction skipped;
 *   interrupts    external interrupts dispatched through a table in RAM
 *                 (board_irq_attach);
 *   SysTick       board_timer_start / board_timer_stop (period in
 *                 board_counter ticks, converted to SysTick ticks).
 */
#include <stdint.h>

#include "board.h"
#include "board_internal.h"
#include "ph_simgate.h"

#ifndef BOARD_NUM_IRQS
#define BOARD_NUM_IRQS 96
#endif

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define SCB_ICSR REG(0xE000ED04u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_HFSR REG(0xE000ED2Cu)
#define SCB_MMFAR REG(0xE000ED34u)
#define SCB_BFAR REG(0xE000ED38u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) REG(0xE000E180u + 4u * (n))

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || \
    defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define BOARD_HAVE_CFSR 1
#else
#define BOARD_HAVE_CFSR 0
#endif

void board_fault_entry(void);
void board_systick_entry(void);
void board_irq_entry(void);
void board_unexpected(void);

/* ---- interrupts ---------------------------------------------------------------- */

static void (*volatile board_irq_fn[BOARD_NUM_IRQS])(void);

int board_irq_attach(int irq, void (*fn)(void))
{
    if (irq < 0 || irq >= BOARD_NUM_IRQS)
        return -1;
    board_irq_fn[irq] = fn;
    if (fn)
        NVIC_ISER((uint32_t)irq / 32u) = 1u << ((uint32_t)irq % 32u);
    else
        NVIC_ICER((uint32_t)irq / 32u) = 1u << ((uint32_t)irq % 32u);
    return 0;
}

void board_irq_entry(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t irq = (ipsr & 0x1FFu) - 16u;
    void (*fn)(void) = irq < BOARD_NUM_IRQS ? board_irq_fn[irq] : 0;
    if (fn == 0) {
        board_puts("\nboard: unexpected interrupt ");
        board_put_dec(irq);
        board_puts("\n");
        board_exit(BOARD_EXIT_FAULT);
    }
    fn();
}

/* ---- SysTick: board_timer_start ------------------------------------------------- */

static void (*volatile board_timer_fn)(void);

int board_timer_start(uint32_t period, void (*fn)(void))
{
    if (period == 0 || fn == 0)
        return -1;
    uint64_t ticks = (uint64_t)period * board_systick_hz() / board_counter_hz();
    if (ticks == 0)
        ticks = 1;
    if (ticks > 0x1000000u) /* SysTick's reload is 24 bits */
        return -1;
    SYST_CSR = 0;
    board_timer_fn = fn;
    SYST_RVR = (uint32_t)ticks - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
    return 0;
}

void board_timer_stop(void)
{
    SYST_CSR = 0;
    SCB_ICSR = 1u << 25; /* PENDSTCLR: drop a tick already pending */
    board_timer_fn = 0;
}

void board_systick_entry(void)
{
    void (*fn)(void) = board_timer_fn;
    if (fn)
        fn();
}

/* ---- faults --------------------------------------------------------------------- */

static const char *board_exception_name(uint32_t n)
{
    switch (n) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    default: return "exception";
    }
}

static void board_put_reg(const char *name, uint32_t v)
{
    board_puts(name);
    board_put_hex(v);
}

/* Called by board_fault_entry with the stacked frame (r0-r3, r12, lr, pc,
 * xpsr) of the code that faulted. */
void board_cm_fault(uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;
#if BOARD_HAVE_CFSR
    uint32_t cfsr = SCB_CFSR, hfsr = SCB_HFSR;
    uint32_t mmfar = SCB_MMFAR, bfar = SCB_BFAR;
    int mm_valid = (cfsr & (1u << 7)) != 0;    /* MMARVALID */
    int mm_fault = (cfsr & 0xFFu) != 0;        /* a MemManage status bit */
    struct ph_simgate *g = board_simgate();
    if (mm_fault && (ipsr == 4 || ipsr == 3)) {
        if (ph_simgate_fault(g, (const void *)(uintptr_t)mmfar, mm_valid)) {
            /* An announced touch: skip the instruction (16 or 32 bits). */
            uint16_t hw = *(const uint16_t *)(uintptr_t)frame[6];
            frame[6] += ((hw & 0xF800u) >= 0xE800u) ? 4u : 2u;
            SCB_CFSR = cfsr; /* write 1 to clear */
            SCB_HFSR = hfsr;
            return;
        }
    }
#endif
    board_puts("\nboard: FAULT: ");
    board_puts(board_exception_name(ipsr));
    board_put_reg(" pc=", frame[6]);
    board_put_reg(" lr=", frame[5]);
    board_put_reg(" xpsr=", frame[7]);
    board_put_reg(" sp=", (uint32_t)(uintptr_t)frame);
    board_put_reg(" exc_return=", exc_return);
#if BOARD_HAVE_CFSR
    board_put_reg("\nboard:        cfsr=", cfsr);
    board_put_reg(" hfsr=", hfsr);
    if (mm_valid)
        board_put_reg(" mmfar=", mmfar);
    if (cfsr & (1u << 15))
        board_put_reg(" bfar=", bfar);
    if (mm_fault && mm_valid && ph_simgate_is_released(g, (const void *)(uintptr_t)mmfar)) {
        board_puts("\nsimgate: VIOLATION: a released granule was touched (MPU) at ");
        board_put_hex(mmfar);
        board_puts("\n");
        board_exit(BOARD_EXIT_SIMGATE);
    }
#endif
    board_puts("\n");
    board_exit(BOARD_EXIT_FAULT);
}

/* Finds the stacked frame (MSP or PSP, from EXC_RETURN bit 2) and calls
 * board_cm_fault; its return is the exception return.  Thumb-1 only, so it
 * also assembles for ARMv6-M. */
__attribute__((naked)) void board_fault_entry(void)
{
    __asm__ volatile(
        "movs r0, #4\n\t"
        "mov r1, lr\n\t"
        "tst r0, r1\n\t"
        "beq 1f\n\t"
        "mrs r0, psp\n\t"
        "b 2f\n"
        "1:\n\t"
        "mrs r0, msp\n"
        "2:\n\t"
        "push {r1, lr}\n\t"
        "bl board_cm_fault\n\t"
        "pop {r1, pc}\n");
}


void board_unexpected(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    board_puts("\nboard: unexpected ");
    board_puts(board_exception_name(ipsr & 0x1FFu));
    board_puts("\n");
    board_exit(BOARD_EXIT_FAULT);
}
