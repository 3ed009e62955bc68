/* SPDX-License-Identifier: MIT */
/*
 * boards/virt: QEMU's virt machine with a Cortex-A15 (-cpu cortex-a15,
 * ARMv7-A with virtualization and LPAE, VFPv4 + NEON, generic timer, PMU;
 * no MPU: the simulated gate records and poisons but cannot trap a touch).
 * RAM from 0x40000000, its size from -m (128 MiB here, see board.cmake and
 * linker/virt.ld).  Single core: secondaries (-smp) stay off until PSCI
 * CPU_ON, which this board never issues.
 *
 *   console   PL011 UART at 0x09000000 (QEMU's serial0; needs no set-up)
 *   counter   PMCCNTR, the PMU cycle counter: one tick per instruction
 *             under -icount shift=0 (exact), 1 GHz of virtual time
 *             otherwise
 *   timer     the virtual generic timer (PPI 27, CNTFRQ 62.5 MHz) through
 *             the GICv2 at 0x08000000 (distributor) / 0x08010000 (CPU)
 *   heap      linker/virt.ld: two banks of 64 MiB (16 KiB and 64 KiB
 *             granules)
 */
#include "board.h"
#include "board_internal.h"

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))

#define UART0 0x09000000u
#define UART_DR REG(UART0 + 0x000u)
#define UART_FR REG(UART0 + 0x018u)
#define UART_FR_TXFF (1u << 5)

#define GICD 0x08000000u
#define GICC 0x08010000u

extern char __ram_start[], __ram_end[];

const char *board_name(void) { return "virt"; }
const char *board_cpu(void) { return "cortex-a15"; }

void board_init(void) {}

void board_putc(int c)
{
    while (UART_FR & UART_FR_TXFF)
        ;
    UART_DR = (uint32_t)(unsigned char)c;
}

void board_ca_ram(uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)__ram_start;
    *hi = (uintptr_t)__ram_end;
}

uintptr_t board_ca_gicd(void) { return GICD; }
uintptr_t board_ca_gicc(void) { return GICC; }
