/* SPDX-License-Identifier: MIT */
/*
 * RP2040 example firmware for port/rp2040: a link test that shows how a
 * board sets the port up (scripts/build-hw-ports.sh builds it; QEMU does
 * not model the RP2040, and the image lacks the boot2 stage a real one
 * needs, see rp2040-example.ld).  With that memory map:
 *
 *   - SRAM4/5 (.data, .bss, stack) are outside the heap and protected;
 *   - the heap is SRAM0..3 through the non-striped alias, granule 65536;
 *   - the heap's metadata (in SRAM0) is protected as well;
 *   - the main loop does bursts of work, then ph_idle powers the banks
 *     the burst no longer needs down before the core sleeps (WFE).
 *
 * One core uses the heap here, so no spinlock; a firmware that allocates
 * from both cores calls ph_rp2040_use_spinlock with a SIO spinlock that
 * nothing else uses.  No C library (-nostdlib, libgcc only).
 */
#include <stddef.h>
#include <stdint.h>

#include "pageheap.h"
#include "ph_hwgate_example.h"
#include "ph_port_rp2040.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
extern char __keep_start[], __keep_end[];
extern char __heap_start[], __heap_end[];

int main(void);
void example_reset(void);

static ph_heap heap;
static ph_rp2040_port port;

static void burst(void)
{
    /* packet buffers, an 80 KB frame: powers banks up */
    example_burst(&heap, 512u, 128u, 320);
}

int main(void)
{
    ph_rp2040_port_init(&port);
    port.gate.trap = example_trap;
    (void)ph_rp2040_protect(&port, __keep_start, __keep_end);

    ph_init(&heap, 256, &port.port);
    ph_add_region(&heap, __heap_start, span(__heap_start, __heap_end),
                  ph_rp2040_granule_at(&port, __heap_start));
    example_protect_meta(&port.gate, &heap);

    (void)ph_scavenge(&heap, SIZE_MAX); /* SRAM1..3 down */

    for (;;) {
        burst();
        for (unsigned i = 0; i < 16; i++)
            (void)ph_idle(&heap);
        __asm__ volatile("wfe");
    }
}

/* ---- start-up ------------------------------------------------------------ */

void example_reset(void)
{
    uint32_t *src = __data_load, *dst = __data_start;

    while (dst < __data_end)
        *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end; dst++)
        *dst = 0;
    (void)main();
    for (;;)
        __asm__ volatile("wfe");
}

static void example_fault(void)
{
    for (;;)
        __asm__ volatile("bkpt #1");
}

/* The first 256 bytes of flash: where pico-sdk's boot_stage2 for the
 * board's flash chip goes in a real image (it sets up XIP, then jumps to
 * the vector table).  A zero placeholder here: this image does not boot. */
__attribute__((section(".boot2"), used))
static const uint8_t example_boot2[256] = {0};

/* Cortex-M0+ vector table (after the 256-byte boot2 in flash). */
__attribute__((section(".vectors"), used))
static const uintptr_t example_vectors[16] = {
    (uintptr_t)__stack_top,
    (uintptr_t)example_reset,
    (uintptr_t)example_fault, /* NMI */
    (uintptr_t)example_fault, /* HardFault: e.g. a touch of a powered-down bank */
    0, 0, 0, 0, 0, 0, 0,
    (uintptr_t)example_fault, /* SVCall */
    0, 0,
    (uintptr_t)example_fault, /* PendSV */
    (uintptr_t)example_fault, /* SysTick */
};
