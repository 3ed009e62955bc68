/* SPDX-License-Identifier: MIT */
/*
 * boards/mps2-an505: QEMU's mps2-an505, an MPS2+ FPGA image of the Arm
 * IoT Kit (SSE-200) with one Cortex-M33 (ARMv8-M Mainline, Security
 * Extension, FPU, PMSAv8 MPU).  The core boots Secure with its vector
 * table at 0x10000000 (the Secure alias of SSRAM1) and stays Secure: every
 * address here is a Secure alias (bit 28 set), which the IDAU marks Secure
 * and the default MPC/PPC configuration lets Secure code reach.
 *
 *   console   CMSDK UART0 at 0x50200000 (Secure alias of 0x40200000), serial0
 *   counter   SSE-200 CMSDK TIMER0 at 0x50000000, free-running at MAINCLK
 *             20 MHz (50 instructions per tick under -icount shift=0)
 *   timer     SysTick (Secure) on the processor clock, also 20 MHz
 *   heap      linker/mps2-an505.ld: SSRAM2, SSRAM3, PSRAM and the SSE-200
 *             SRAM, the simulated gate with the M33's MPU (Secure)
 */
#include "board.h"
#include "board_internal.h"
#include "cmsdk.h"

#define UART0 0x50200000u
#define TIMER0 0x50000000u
#define MAINCLK_HZ 20000000u

const char *board_name(void) { return "mps2-an505"; }
const char *board_cpu(void) { return "cortex-m33"; }

void board_init(void)
{
    cmsdk_uart_init(UART0);
    cmsdk_timer_free_run(TIMER0);
}

void board_putc(int c) { cmsdk_uart_putc(UART0, c); }

uint32_t board_counter(void) { return cmsdk_timer_count_up(TIMER0); }
uint32_t board_counter_hz(void) { return MAINCLK_HZ; }
uint32_t board_counter_insns_per_tick(void) { return 1000000000u / MAINCLK_HZ; }
uint32_t board_systick_hz(void) { return MAINCLK_HZ; }
