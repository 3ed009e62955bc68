/* SPDX-License-Identifier: MIT */
/*
 * consumer-tests/firmware/startup.c: the consumer firmware's own start-up
 * code for a Cortex-M (nothing from pageheap's boards/): a vector table
 * with the stack top and the reset handler, every exception ending the run
 * with status 99 through semihosting, and a reset handler that copies
 * .data, zeroes .bss, opens librdimon's semihosting console and runs
 * main() (its return value becomes QEMU's exit status through exit()).
 */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void initialise_monitor_handles(void); /* librdimon */
void consumer_reset(void) __attribute__((noreturn));
void consumer_trap(void) __attribute__((noreturn));

#define CONSUMER_EXIT_FAULT 99
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define SEMIHOST_ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* An exception nobody handles: exit(99) without stdio (the state may be
 * broken), by semihosting SYS_EXIT_EXTENDED. */
void consumer_trap(void)
{
    static uint32_t block[2] = {SEMIHOST_ADP_STOPPED_APPLICATION_EXIT, CONSUMER_EXIT_FAULT};
    register uint32_t r0 __asm__("r0") = SEMIHOST_SYS_EXIT_EXTENDED;
    register uint32_t *r1 __asm__("r1") = block;
    for (;;)
        __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

void consumer_reset(void)
{
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
    initialise_monitor_handles();
    exit(main());
}

__attribute__((section(".vectors"), used))
const uintptr_t consumer_vectors[16] = {
    [0] = (uintptr_t)__stack_top,
    [1] = (uintptr_t)consumer_reset,
    [2 ... 15] = (uintptr_t)consumer_trap,
};
