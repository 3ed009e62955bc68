/* SPDX-License-Identifier: MIT */
/*
 * boards/mps2-an385: QEMU's mps2-an385, an MPS2 FPGA board with a
 * Cortex-M3 (ARMv7-M, MPU with 8 regions, no FPU).  The default board.
 * boards/mps2-an386 builds this same file with BOARD_NAME/BOARD_CPU for its
 * Cortex-M4.
 *
 *   console   CMSDK UART0 at 0x40004000 (QEMU's serial0)
 *   counter   CMSDK TIMER0 at 0x40000000, free-running at SYSCLK 25 MHz
 *             (40 instructions per tick under -icount shift=0)
 *   timer     SysTick on the processor clock, also 25 MHz
 *   heap      linker/mps2-an385.ld: SSRAM2/3 (4 KiB granules) + PSRAM
 *             (8 KiB granules), the simulated gate with the M3's MPU
 */
#include "board.h"
#include "board_internal.h"
#include "cmsdk.h"

#ifndef BOARD_NAME
#define BOARD_NAME "mps2-an385"
#endif
#ifndef BOARD_CPU
#define BOARD_CPU "cortex-m3"
#endif

#define UART0 0x40004000u
#define TIMER0 0x40000000u
#define SYSCLK_HZ 25000000u

const char *board_name(void) { return BOARD_NAME; }
const char *board_cpu(void) { return BOARD_CPU; }

void board_init(void)
{
    cmsdk_uart_init(UART0);
    cmsdk_timer_free_run(TIMER0);
}

void board_putc(int c) { cmsdk_uart_putc(UART0, c); }

uint32_t board_counter(void) { return cmsdk_timer_count_up(TIMER0); }
uint32_t board_counter_hz(void) { return SYSCLK_HZ; }
uint32_t board_counter_insns_per_tick(void) { return 1000000000u / SYSCLK_HZ; }
uint32_t board_systick_hz(void) { return SYSCLK_HZ; }
