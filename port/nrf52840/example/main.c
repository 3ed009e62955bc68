/* SPDX-License-Identifier: MIT */
/*
 * nRF52840 example firmware for port/nrf52840: a link test that shows how a
 * board sets the port up (scripts/build-hw-ports.sh builds it; QEMU does
 * not model the nRF52840, so nothing runs it here).  With the memory map of
 * nrf52840-example.ld:
 *
 *   - RAM0 (.data, .bss, stack) is protected: never powered down;
 *   - heap region 1 is RAM1..RAM7 (granule 4096), region 2 RAM8 (32768);
 *   - the sections holding the heap's metadata are protected as well
 *     (the heap never releases them anyway);
 *   - the main loop does bursts of work, then ph_idle powers the sections
 *     the burst no longer needs down before the CPU sleeps (WFE).
 *
 * Start-up: vector table, .data copy, .bss zeroing, FPU enable (the build
 * is -mfloat-abi=hard), main.  No C library (-nostdlib, libgcc only).
 */
#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"
#include "ph_hwgate_example.h"
#include "ph_port_nrf52840.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
extern char __keep_start[], __keep_end[];
extern char __heap4k_start[], __heap4k_end[];
extern char __heap32k_start[], __heap32k_end[];

int main(void);
void example_reset(void);

static ph_heap heap;
static ph_nrf52840_port port;

static void burst(void)
{
    /* packet buffers, a sensor log page run (24 KB): they power sections on */
    example_burst(&heap, 256u, 96u, 96);
}

int main(void)
{
    ph_nrf52840_port_init(&port);
    port.gate.trap = example_trap;
    (void)ph_nrf52840_protect(&port, __keep_start, __keep_end);

    ph_init(&heap, 256, &port.port);
    ph_add_region(&heap, __heap4k_start, span(__heap4k_start, __heap4k_end),
                  ph_nrf52840_granule_at(&port, __heap4k_start));
    ph_add_region(&heap, __heap32k_start, span(__heap32k_start, __heap32k_end),
                  ph_nrf52840_granule_at(&port, __heap32k_start));
    example_protect_meta(&port.gate, &heap);

    /* Nothing is in use yet: power down every section the heap can spare. */
    (void)ph_scavenge(&heap, SIZE_MAX);

    for (;;) {
        burst();
        for (unsigned i = 0; i < 16; i++)
            (void)ph_idle(&heap); /* paced: a section per call at most */
        __asm__ volatile("wfe");
    }
}

/* ---- start-up ------------------------------------------------------------ */

void example_reset(void)
{
    uint32_t *src = __data_load, *dst = __data_start;
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u; /* SCB->CPACR */

    while (dst < __data_end)
        *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end; dst++)
        *dst = 0;
    *cpacr |= 0xFu << 20; /* CP10, CP11: full access (FPU on) */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    (void)main();
    for (;;)
        __asm__ volatile("wfe");
}

static void example_fault(void)
{
    for (;;)
        __asm__ volatile("bkpt #1");
}

/* Cortex-M vector table: initial stack pointer, then the core's handlers
 * (the nRF52840's peripheral interrupts are not used here). */
__attribute__((section(".vectors"), used))
static const uintptr_t example_vectors[16] = {
    (uintptr_t)__stack_top,
    (uintptr_t)example_reset,
    (uintptr_t)example_fault, /* NMI */
    (uintptr_t)example_fault, /* HardFault */
    (uintptr_t)example_fault, /* MemManage */
    (uintptr_t)example_fault, /* BusFault: e.g. a touch of a powered-down section */
    (uintptr_t)example_fault, /* UsageFault */
    0, 0, 0, 0,
    (uintptr_t)example_fault, /* SVCall */
    (uintptr_t)example_fault, /* DebugMonitor */
    0,
    (uintptr_t)example_fault, /* PendSV */
    (uintptr_t)example_fault, /* SysTick */
};
