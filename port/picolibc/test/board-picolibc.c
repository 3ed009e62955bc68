/* SPDX-License-Identifier: MIT */
/*
 * The board API (boards/common/board.h) that target-tests/suite_main.c and
 * suite_newlib.c use, for port/picolibc's test firmware: picolibc's own
 * start-up (crt0-semihost: .data, .bss, TLS, constructors, main, exit) and
 * its semihosting stdio (libsemihost) replace the board's start-up code and
 * UART, so this file supplies only
 *
 *   board_name, board_cpu   from -DPH_TEST_BOARD / -DPH_TEST_CPU
 *   board_exit              exit(): picolibc's semihosting _exit ends QEMU
 *                           with the status
 *   board_counter (_hz)     semihosting SYS_CLOCK, centiseconds
 *   board_timer_stop        nothing: no timer runs
 *
 * and the test links boards/common/board_faults.c (ph_board_fault counts
 * refused heap calls for board_heap_faults).
 *
 * The heap's regions and port are port/libc's defaults: one region,
 * picolibc.ld's [__heap_start, __heap_end) (the RAM between .bss and the
 * stack), and the interrupt-masking lock.
 */
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

#ifndef PH_TEST_BOARD
#define PH_TEST_BOARD "qemu"
#endif
#ifndef PH_TEST_CPU
#define PH_TEST_CPU "cortex-m"
#endif

long sys_semihost_clock(void); /* libsemihost: SYS_CLOCK, centiseconds */

const char *board_name(void)
{
    return PH_TEST_BOARD;
}

const char *board_cpu(void)
{
    return PH_TEST_CPU;
}

void board_exit(int status)
{
    fflush(stdout);
    exit(status);
}

uint32_t board_counter(void)
{
    return (uint32_t)sys_semihost_clock();
}

uint32_t board_counter_hz(void)
{
    return 100u;
}

void board_timer_stop(void)
{
}
