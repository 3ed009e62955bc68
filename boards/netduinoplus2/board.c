/* SPDX-License-Identifier: MIT */
/*
 * boards/netduinoplus2: QEMU's netduinoplus2, a Netduino Plus 2 (ST
 * STM32F405RG: Cortex-M4 with FPU, MPU with 8 regions, 1 MiB flash at
 * 0x08000000 aliased at 0, 192 KiB SRAM at 0x20000000 in QEMU).
 *
 * The real chip has 112 KiB SRAM1 + 16 KiB SRAM2 at 0x20000000 and 64 KiB
 * CCM at 0x10000000; QEMU models one 192 KiB block at 0x20000000 and no
 * CCM.  The board uses QEMU's 192 KiB: heap bank 0 is the chip's SRAM1 +
 * SRAM2 after .bss, bank 1 QEMU's upper 64 KiB (standing in for the CCM;
 * see linker/netduinoplus2.ld).

 *   console   USART1 at 0x40011000 (QEMU's serial0): CR1 = UE | TE, write
 *             DR when SR.TXE
 *   counter   TIM2 at 0x40000000, 32-bit, free-running: QEMU clocks its
 *             STM32 timers at 1 GHz, so one tick per instruction under
 *             -icount shift=0 (exact)
 *   timer     SysTick on the processor clock, 168 MHz (about 5.95
 *             instructions per tick: periods are rounded to it)
 *   heap      linker/netduinoplus2.ld: two banks in 4 KiB granules, the
 *             simulated gate with the M4's MPU
 */
#include "board.h"
#include "board_internal.h"

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))

#define USART1 0x40011000u
#define USART_SR REG(USART1 + 0x00u)
#define USART_DR REG(USART1 + 0x04u)
#define USART_CR1 REG(USART1 + 0x0Cu)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)

#define TIM2 0x40000000u
#define TIM_CR1 REG(TIM2 + 0x00u)
#define TIM_EGR REG(TIM2 + 0x14u)
#define TIM_CNT REG(TIM2 + 0x24u)
#define TIM_PSC REG(TIM2 + 0x28u)
#define TIM_ARR REG(TIM2 + 0x2Cu)

#define SYSCLK_HZ 168000000u
#define TIM_HZ 1000000000u /* QEMU's stm32f2xx timer clock */

const char *board_name(void) { return "netduinoplus2"; }
const char *board_cpu(void) { return "cortex-m4"; }

void board_init(void)
{
    USART_CR1 = USART_CR1_UE | USART_CR1_TE;
    TIM_CR1 = 0;
    TIM_PSC = 0;
    TIM_ARR = 0xFFFFFFFFu;
    TIM_EGR = 1; /* UG: load PSC/ARR, counter to 0 */
    TIM_CR1 = 1; /* CEN */
}

void board_putc(int c)
{
    while ((USART_SR & USART_SR_TXE) == 0)
        ;
    USART_DR = (uint32_t)(unsigned char)c;
}

uint32_t board_counter(void) { return TIM_CNT; }
uint32_t board_counter_hz(void) { return TIM_HZ; }
uint32_t board_counter_insns_per_tick(void) { return 1; }
uint32_t board_systick_hz(void) { return SYSCLK_HZ; }
