/* SPDX-License-Identifier: MIT */
/*
 * boards/common/cortex-m/startup.c: start-up code shared by every Cortex-M
 * board (ARMv6-M .. ARMv8.1-M).
 *
 *   vector table  (.vectors, placed by linker/sections.ld where the core
 *                 fetches it: 0 on most boards, 0x10000000 on the
 *                 Secure-booting mps2-an505 / mps3-an547): initial stack,
 *                 reset, faults, SysTick, then BOARD_NUM_IRQS external
 *                 interrupts;
 *   reset         FPU on (when the float ABI uses it), VTOR, .data copied,
 *                 .bss zeroed, fault handlers enabled, board_init(), the
 *                 simulated gate (board_gate_setup), C constructors,
 *                 pageheap's default heap (ph_newlib_init), main(), exit().
 *
 * Only board_init is required.  Everything else this file calls or puts in
 * the vector table is optional (weak): exceptions.c (fault reports, the
 * simulated gate's fault path, SysTick timer, interrupt dispatch) and
 * board_common.c supply them in board firmware; a program linked without
 * them (port/newlib's test, with rdimon) gets handlers that end the run
 * through semihosting with status 99, and no gate.
 */
#include <stdint.h>
#include <stdlib.h>

#include "board.h"
#include "board_internal.h"

#ifndef BOARD_NUM_IRQS
#define BOARD_NUM_IRQS 96
#endif

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define SCB_VTOR REG(0xE000ED08u)
#define SCB_CCR REG(0xE000ED14u)
#define SCB_SHCSR REG(0xE000ED24u)
#define SCB_CPACR REG(0xE000ED88u)

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || \
    defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define BOARD_HAVE_CFSR 1 /* configurable fault status, VTOR, fault enables */
#else
#define BOARD_HAVE_CFSR 0 /* ARMv6-M / v8-M Baseline: HardFault only */
#endif

extern uint32_t __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern const uintptr_t __vectors_start[];

int main(void);
void __libc_init_array(void);
/* Optional parts (weak references): absent, they are skipped. */
int ph_newlib_init(void) __attribute__((weak));     /* port/newlib */
void board_gate_setup(void) __attribute__((weak));  /* board_common.c */

void board_reset(void) __attribute__((noreturn));
void board_default_handler(void);
void _init(void);
void _fini(void);

/* The handlers exceptions.c defines; without it, board_default_handler. */
void board_fault_entry(void) __attribute__((weak, alias("board_default_handler")));
void board_systick_entry(void) __attribute__((weak, alias("board_default_handler")));
void board_irq_entry(void) __attribute__((weak, alias("board_default_handler")));
void board_unexpected(void) __attribute__((weak, alias("board_default_handler")));

/* Any exception without a handler: end the run (QEMU exits with 99). */
void board_default_handler(void)
{
    board_semihost_exit(BOARD_EXIT_FAULT);
}

/* -nostartfiles drops crti/crtn, which define these; __libc_init_array and
 * __libc_fini_array still call them.  Nothing to do. */
void _init(void) {}
void _fini(void) {}

/* ---- reset ------------------------------------------------------------------ */

void board_reset(void)
{
#if defined(__ARM_FP)
    /* CP10/CP11 full access before any floating-point instruction; the hard
     * float ABI may use FP registers in any function after this one. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" : : : "memory");
#endif
#if BOARD_HAVE_CFSR
    SCB_VTOR = (uint32_t)(uintptr_t)__vectors_start;
#endif
    uint32_t *src = __data_load, *dst = __data_start;
    if (src != dst)
        while (dst < __data_end)
            *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end; dst++)
        *dst = 0;
#if BOARD_HAVE_CFSR
    /* MemManage, BusFault and UsageFault get their own vector when
     * interrupts are unmasked (HardFault otherwise); divide by zero traps. */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);
    SCB_CCR |= 1u << 4; /* DIV_0_TRP */
#endif
    board_init();
    if (board_gate_setup)
        board_gate_setup();
    __libc_init_array();
    if (ph_newlib_init)
        ph_newlib_init();
    exit(main());
}

/* ---- the vector table --------------------------------------------------------------- */

__attribute__((section(".vectors"), used))
const uintptr_t board_vectors[16 + BOARD_NUM_IRQS] = {
    [0] = (uintptr_t)__stack_top,
    [1] = (uintptr_t)board_reset,
    [2] = (uintptr_t)board_unexpected,   /* NMI */
    [3] = (uintptr_t)board_fault_entry,  /* HardFault */
    [4] = (uintptr_t)board_fault_entry,  /* MemManage */
    [5] = (uintptr_t)board_fault_entry,  /* BusFault */
    [6] = (uintptr_t)board_fault_entry,  /* UsageFault */
    [7] = (uintptr_t)board_fault_entry,  /* SecureFault (v8-M) */
    [11] = (uintptr_t)board_unexpected,  /* SVCall */
    [12] = (uintptr_t)board_unexpected,  /* DebugMonitor */
    [14] = (uintptr_t)board_unexpected,  /* PendSV */
    [15] = (uintptr_t)board_systick_entry,
    [16 ... 16 + BOARD_NUM_IRQS - 1] = (uintptr_t)board_irq_entry,
};
