/* SPDX-License-Identifier: MIT */
/*
 * boards/common/board.h: what every board folder supplies to firmware
 * (the on-target suite, the demo, the benchmark), on top of port/newlib's
 * contract (ph_board_regions, ph_board_port, ph_board_fault in
 * port/newlib/ph_newlib.h), which every board also implements:
 *
 *   ph_board_regions  the heap's RAM banks from the board's linker script
 *                     (linker/<board>.ld), several where the board has
 *                     several, each with its granule (power-section size);
 *   ph_board_port     the board's port: on QEMU boards the simulated power
 *                     gate (port/simgate) over the core's interrupt-masking
 *                     lock (port/cortex-m, port/cortex-a);
 *   ph_board_fault    what a refused bad free does (the suite counts them).
 *
 * Firmware is linked with newlib, so printf and malloc work (malloc is
 * pageheap's default heap, port/newlib); stdout goes to board_putc.
 */
#ifndef PH_BOARD_H
#define PH_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"
#include "ph_newlib.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The board's folder name, e.g. "mps2-an385". */
const char *board_name(void);

/* The CPU, e.g. "cortex-m3". */
const char *board_cpu(void);

/* Called by the start-up code before main (after .data/.bss are set up):
 * console, interrupt controller, timers stopped. */
void board_init(void);

/* One character to the console (the board's UART where QEMU models it,
 * semihosting otherwise); newlib's stdout and stderr end here. */
void board_putc(int c);

/* Ends the run with `status` (under QEMU: semihosting exit, so
 * qemu-system-arm returns status).  Flushes stdout first. */
void board_exit(int status) __attribute__((noreturn));

/* A periodic interrupt: fn is called from interrupt context about every
 * `period` counter ticks (see board_counter) until board_timer_stop.  0, or
 * a negative value when the board has no timer. */
int board_timer_start(uint32_t period, void (*fn)(void));
void board_timer_stop(void);

/* A free-running up-counter for benchmarks.  Under QEMU with
 * `-icount shift=0` it advances in step with executed instructions:
 * board_counter_insns_per_tick() instructions per tick (1 where the
 * board has an exact counter: netduinoplus2 TIM2, virt's PMU cycle
 * counter; 40 for SysTick on mps2 at 25 MHz). */
uint32_t board_counter(void);
uint32_t board_counter_insns_per_tick(void);

/* The simulated power gate's record (QEMU boards), NULL on boards with a
 * real or no power gate.  See port/simgate/ph_simgate.h. */
struct ph_simgate;
struct ph_simgate *board_simgate(void);

/* ---- extensions (boards/README.md, "The board API") ----------------------- */

/* Exit statuses the board itself uses (board_exit / QEMU's exit code).
 * A firmware's own failures should use 1..63. */
#define BOARD_EXIT_SIMGATE 98   /* the simulated gate saw a violation        */
#define BOARD_EXIT_FAULT 99     /* CPU fault (HardFault, MemManage, abort...) */
#define BOARD_EXIT_SIGNAL 128   /* + signal: abort() ends with 128 + SIGABRT */

/* Nominal frequency of board_counter in Hz (25 MHz for SysTick/CMSDK timers
 * on mps2; under -icount shift=0 one instruction takes 1 ns, so
 * insns per tick = 1e9 / board_counter_hz() when that divides). */
uint32_t board_counter_hz(void);

/* Refused heap calls (ph_board_fault) since reset; the code and address of
 * the last one go to *last_code / *last_addr when not NULL.  The board's
 * ph_board_fault only counts them (the heap has already refused the call
 * and changed nothing): a test that provokes bad frees checks the count. */
unsigned long board_heap_faults(int *last_code, const void **last_addr);

/* Attaches fn to interrupt `irq` (the NVIC's external interrupt number on
 * Cortex-M, the GIC interrupt ID on Cortex-A) and enables it.  0, or
 * negative for a number the board does not have. */
int board_irq_attach(int irq, void (*fn)(void));

/* Text to the console without stdio (safe in fault handlers and with the
 * heap's lock held: no allocation). */
void board_puts(const char *s);
void board_put_hex(uint32_t v); /* "0x%08x" */
void board_put_dec(uint32_t v);

#ifdef __cplusplus
}
#endif

#endif /* PH_BOARD_H */
