/* SPDX-License-Identifier: MIT */
/*
 * boards/lm3s6965evb: QEMU's lm3s6965evb, TI's Stellaris LM3S6965
 * evaluation board (Cortex-M3, ARMv7-M, MPU with 8 regions, no FPU; 256 KiB
 * flash at 0, 64 KiB SRAM at 0x20000000).
 *
 *   console   UART0 at 0x4000C000 (QEMU's serial0), a PL011: UARTEN | TXE
 *             in CTL, write DR when FR.TXFF is clear
 *   counter   the watchdog at 0x40000000, a 32-bit down-counter on the
 *             system clock, read upside down.  The general-purpose timers
 *             would be the natural choice, but QEMU does not model reading
 *             their value (GPTMTAR reads 0 except in RTC mode, 1 Hz).  With
 *             the watchdog's reset disabled (RESEN clear) it runs for two
 *             wraps, 687 s at 12.5 MHz (QEMU stops it at the second), more
 *             than any firmware here needs.
 *   clock     QEMU derives the system clock from RCC's SYSDIV alone,
 *             5 ns * (SYSDIV + 1): 80 ns, 12.5 MHz, at reset (SYSDIV 15);
 *             80 instructions per tick under -icount shift=0 (one
 *             instruction per ns).  On the chip the reset clock comes
 *             from its oscillators (RCC, in the datasheet), not from
 *             SYSDIV: a port to it would set the PLL up and change
 *             SYSCLK_HZ.
 *   timer     SysTick on the processor clock, the same 12.5 MHz
 *   heap      linker/lm3s6965evb.ld: one bank after .bss in 2 KiB granules,
 *             the simulated gate with the M3's MPU
 */
#include "board.h"
#include "board_internal.h"

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))

/* System control: run-mode clock gating (ignored by QEMU, needed on the chip). */
#define SYSCTL_RCGC0 REG(0x400FE100u)
#define SYSCTL_RCGC1 REG(0x400FE104u)
#define SYSCTL_RCGC2 REG(0x400FE108u)
#define RCGC0_WDT (1u << 3)
#define RCGC1_UART0 (1u << 0)
#define RCGC2_GPIOA (1u << 0)

/* GPIO port A: PA0/PA1 are U0Rx/U0Tx (alternate function). */
#define GPIOA 0x40004000u
#define GPIOA_AFSEL REG(GPIOA + 0x420u)
#define GPIOA_DEN REG(GPIOA + 0x51Cu)

#define UART0 0x4000C000u
#define UART_DR REG(UART0 + 0x000u)
#define UART_FR REG(UART0 + 0x018u)
#define UART_IBRD REG(UART0 + 0x024u)
#define UART_FBRD REG(UART0 + 0x028u)
#define UART_LCRH REG(UART0 + 0x02Cu)
#define UART_CTL REG(UART0 + 0x030u)
#define UART_FR_TXFF (1u << 5)
#define UART_LCRH_8N1_FIFO ((3u << 5) | (1u << 4)) /* WLEN 8 bits, FEN */
#define UART_CTL_EN ((1u << 0) | (1u << 8))       /* UARTEN, TXE */

#define WDT 0x40000000u
#define WDT_LOAD REG(WDT + 0x000u)
#define WDT_VALUE REG(WDT + 0x004u)
#define WDT_CTL REG(WDT + 0x008u)
#define WDT_LOCK REG(WDT + 0xC00u)
#define WDT_UNLOCK 0x1ACCE551u
#define WDT_CTL_INTEN (1u << 0) /* starts the counter; RESEN (bit 1) stays clear */

#define SYSCLK_HZ 12500000u     /* QEMU: 5 ns * (SYSDIV 15 + 1) */
#define UART_BAUD 115200u

const char *board_name(void) { return "lm3s6965evb"; }
const char *board_cpu(void) { return "cortex-m3"; }

void board_init(void)
{
    SYSCTL_RCGC0 |= RCGC0_WDT;
    SYSCTL_RCGC1 |= RCGC1_UART0;
    SYSCTL_RCGC2 |= RCGC2_GPIOA;
    GPIOA_AFSEL |= 3u;
    GPIOA_DEN |= 3u;

    /* 115200 baud from SYSCLK / 16: the divisor in 1/64ths */
    uint32_t div64 = (SYSCLK_HZ * 4u + UART_BAUD / 2u) / UART_BAUD;
    UART_CTL = 0;
    UART_IBRD = div64 / 64u;
    UART_FBRD = div64 % 64u;
    UART_LCRH = UART_LCRH_8N1_FIFO;
    UART_CTL = UART_CTL_EN;

    WDT_LOCK = WDT_UNLOCK;
    WDT_LOAD = 0xFFFFFFFFu; /* restarts the count from the top */
    WDT_CTL = WDT_CTL_INTEN; /* its interrupt stays off in the NVIC */
    WDT_LOCK = 0;            /* locked again */
}

void board_putc(int c)
{
    while ((UART_FR & UART_FR_TXFF) != 0)
        ;
    UART_DR = (uint32_t)(unsigned char)c;
}

uint32_t board_counter(void) { return 0xFFFFFFFFu - WDT_VALUE; }
uint32_t board_counter_hz(void) { return SYSCLK_HZ; }
uint32_t board_counter_insns_per_tick(void) { return 1000000000u / SYSCLK_HZ; }
uint32_t board_systick_hz(void) { return SYSCLK_HZ; }
