/* SPDX-License-Identifier: MIT */
/*
 * boards/common/board_internal.h: what the shared board code and each
 * board's own files say to each other (not part of the board API).
 */
#ifndef PH_BOARD_INTERNAL_H
#define PH_BOARD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Heap banks a linker script may define (__ph_heap0_* .. __ph_heap3_*). */
#define BOARD_MAX_HEAPS 4

/* Shared code (board_common.c): sets the simulated gate up over the
 * board's regions.  Called by the start-up code after board_init. */
void board_gate_setup(void);

/* A board that protects released granules by other means than the MPU
 * (cortex-a/board_ca.c: the MMU) defines this; weak, so absent elsewhere. */
struct ph_simgate;
void board_gate_protect(struct ph_simgate *g, void *base, size_t len, int on)
    __attribute__((weak));

/* Semihosting (semihost.c): ends QEMU with `status` (SYS_EXIT_EXTENDED). */
void board_semihost_exit(int status) __attribute__((noreturn));

/* Cortex-M boards (cortex-m/): the SysTick clock in Hz, for
 * board_timer_start (period in board_counter ticks -> SysTick ticks). */
uint32_t board_systick_hz(void);

/* Cortex-M fault report (cortex-m/startup.c), for tests of the board. */
void board_cm_fault(uint32_t *frame, uint32_t exc_return);

/* Cortex-A boards (cortex-a/): the RAM to map as normal memory
 * ([*lo, *hi), 1 MiB aligned), the GICv2 distributor and CPU interface. */
void board_ca_ram(uintptr_t *lo, uintptr_t *hi);
uintptr_t board_ca_gicd(void);
uintptr_t board_ca_gicc(void);
void board_ca_gic_init(void);

#endif /* PH_BOARD_INTERNAL_H */
