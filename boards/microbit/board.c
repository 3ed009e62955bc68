/* SPDX-License-Identifier: MIT */
/*
 * boards/microbit: QEMU's microbit, a BBC micro:bit v1 (Nordic nRF51822:
 * Cortex-M0, ARMv6-M, no MPU, no FPU, 256 KiB flash at 0, 16 KiB SRAM at
 * 0x20000000).  The smallest heap of all boards: about 10 KiB in 1 KiB
 * granules (the simulated gate records 16 at most; no MPU, so only the
 * poison check guards released memory).
 *
 *   console   nRF51 UART0 at 0x40002000 (QEMU's serial0): ENABLE = 4,
 *             STARTTX, then one byte per TXD write, wait for TXDRDY
 *   counter   TIMER0 at 0x40008000, 32-bit, prescaler 1: 8 MHz, 125
 *             instructions per tick under -icount shift=0; read by the
 *             CAPTURE[3] task into CC[3]
 *   timer     SysTick on the processor clock, 16 MHz
 */
#include "board.h"
#include "board_internal.h"

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))

#define UART0 0x40002000u
#define UART_STARTTX REG(UART0 + 0x008u)
#define UART_TXDRDY REG(UART0 + 0x11Cu)
#define UART_ENABLE REG(UART0 + 0x500u)
#define UART_TXD REG(UART0 + 0x51Cu)

#define TIMER0 0x40008000u
#define TIMER_START REG(TIMER0 + 0x000u)
#define TIMER_STOP REG(TIMER0 + 0x004u)
#define TIMER_CLEAR REG(TIMER0 + 0x00Cu)
#define TIMER_CAPTURE3 REG(TIMER0 + 0x04Cu)
#define TIMER_MODE REG(TIMER0 + 0x504u)
#define TIMER_BITMODE REG(TIMER0 + 0x508u)
#define TIMER_PRESCALER REG(TIMER0 + 0x510u)
#define TIMER_CC3 REG(TIMER0 + 0x54Cu)

#define HCLK_HZ 16000000u
#define COUNTER_HZ (HCLK_HZ >> 1) /* prescaler 1 */

const char *board_name(void) { return "microbit"; }
const char *board_cpu(void) { return "cortex-m0"; }

void board_init(void)
{
    UART_ENABLE = 4;
    UART_STARTTX = 1;
    TIMER_STOP = 1;
    TIMER_MODE = 0;    /* timer */
    TIMER_BITMODE = 3; /* 32 bits */
    TIMER_PRESCALER = 1;
    TIMER_CLEAR = 1;
    TIMER_START = 1;
}

void board_putc(int c)
{
    UART_TXDRDY = 0;
    UART_TXD = (uint32_t)(unsigned char)c;
    while (UART_TXDRDY == 0)
        ;
}

uint32_t board_counter(void)
{
    TIMER_CAPTURE3 = 1;
    return TIMER_CC3;
}

uint32_t board_counter_hz(void) { return COUNTER_HZ; }
uint32_t board_counter_insns_per_tick(void) { return 1000000000u / COUNTER_HZ; }
uint32_t board_systick_hz(void) { return HCLK_HZ; }
