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

volatile uint32_t example_bursts, example_failed;

static void example_trap(void *ctx, int err, const void *base, size_t len)
{
    (void)ctx;
    (void)err;
    (void)base;
    (void)len;
    for (;;)
        __asm__ volatile("bkpt #0");
}

static void burst(void)
{
    void *pkt[16];
    void *frame;

    for (unsigned i = 0; i < 16; i++) {
        pkt[i] = ph_malloc(&heap, 512u + 128u * i);
        if (pkt[i] == NULL)
            example_failed++;
    }
    frame = ph_page_alloc(&heap, 320); /* 80 KB: powers banks up */
    if (frame == NULL)
        example_failed++;
    for (unsigned i = 0; i < 16; i++)
        ph_free(&heap, pkt[i]);
    if (frame != NULL)
        ph_page_free(&heap, frame, 320);
    example_bursts++;
}

int main(void)
{
    ph_region_info info;

    ph_rp2040_port_init(&port);
    port.trap = example_trap;
    (void)ph_rp2040_protect(&port, __keep_start, __keep_end);

    ph_init(&heap, 256, &port.port);
    ph_add_region(&heap, __heap_start, (size_t)((uintptr_t)__heap_end - (uintptr_t)__heap_start),
                  ph_rp2040_granule_at(&port, __heap_start));
    if (ph_get_region(&heap, 0, &info) == PH_OK)
        (void)ph_rp2040_protect(&port, info.meta_base,
                                (const char *)info.meta_base + info.meta_bytes);

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
