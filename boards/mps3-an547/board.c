/* SPDX-License-Identifier: MIT */
/*
 * boards/mps3-an547: QEMU's mps3-an547, an MPS3 FPGA image of the Arm
 * Corstone-300 (SSE-300) with a Cortex-M55 (ARMv8.1-M Mainline, Helium,
 * FPU, Security Extension, PMSAv8 MPU).  Boots Secure with its vector table
 * at 0x10000000 (the Secure alias of the ITCM); every address here is a
 * Secure alias.
 *
 *   console   CMSDK UART0 at 0x59303000 (Secure alias of 0x49303000), serial0
 *   counter   the SSE-300 system counter (CNTControlBase 0x58100000,
 *             CNTReadBase 0x58101000), low 32 bits, at MAINCLK 32 MHz:
 *             31.25 instructions per tick under -icount shift=0 (reported
 *             as 31; use board_counter_hz() for exact conversions)
 *   timer     SysTick (Secure) on the processor clock, 32 MHz
 *   heap      linker/mps3-an547.ld: DTCM, SRAM (after .data/.bss) and FPGA SRAM, the
 *             simulated gate with the M55's MPU (Secure)
 */
#include "board.h"
#include "board_internal.h"
#include "cmsdk.h"

#define UART0 0x59303000u
#define CNT_CONTROL 0x58100000u /* CNTCR +0x000: bit 0 EN */
#define CNT_READ 0x58101000u    /* CNTCV low +0x000, high +0x004 */
#define MAINCLK_HZ 32000000u

const char *board_name(void) { return "mps3-an547"; }
const char *board_cpu(void) { return "cortex-m55"; }

void board_init(void)
{
    cmsdk_uart_init(UART0);
    CMSDK_REG(CNT_CONTROL, 0x000) |= 1u; /* start the system counter */
}

void board_putc(int c) { cmsdk_uart_putc(UART0, c); }

uint32_t board_counter(void) { return CMSDK_REG(CNT_READ, 0x000); }
uint32_t board_counter_hz(void) { return MAINCLK_HZ; }
uint32_t board_counter_insns_per_tick(void) { return 1000000000u / MAINCLK_HZ; }
uint32_t board_systick_hz(void) { return MAINCLK_HZ; }
