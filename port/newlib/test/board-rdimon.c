/* SPDX-License-Identifier: MIT */
/*
 * The board_init of port/newlib's test firmware: the test links the real
 * mps2-an385 start-up code (boards/common/cortex-m/startup.c) and linker
 * script (linker/mps2-an385.ld), but not the rest of the board (its
 * console, regions and port would replace what the test checks: the port's
 * weak defaults and the test's own hooks).  Its console is semihosting
 * (librdimon, --specs=rdimon.specs): printf goes to QEMU's stdout and
 * exit(n) ends QEMU with status n; unhandled exceptions end the run with
 * status 99 (the start-up code's default handler).
 */
void initialise_monitor_handles(void); /* librdimon: opens stdin/out/err */
void board_init(void);

void board_init(void)
{
    initialise_monitor_handles();
}
