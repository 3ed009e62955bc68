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

#ifdef __cplusplus
}
#endif

#endif /* PH_BOARD_H */
