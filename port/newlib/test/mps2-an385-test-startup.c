/*
 * Test-only start-up code for QEMU's mps2-an385 (Cortex-M3), used by
 * port/newlib/test-newlib.sh with mps2-an385-test.ld: a vector table and a
 * reset handler (copy .data, zero .bss, open the semihosting console, main,
 * exit).  boards/mps2-an385 replaces it in a later issue.
 *
 * The console is semihosting (librdimon, --specs=rdimon.specs): printf goes
 * to QEMU's stdout and exit(n) ends QEMU with status n.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

extern uint32_t __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

void initialise_monitor_handles(void); /* librdimon: opens stdin/out/err */
int main(void);
void ph_test_reset(void);

/* ---- start-up ------------------------------------------------------------ */

/* -nostartfiles drops crti/crtn, which define these; full newlib's exit
 * (__libc_fini_array) still calls _fini.  Nothing to do in either. */
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}

static void ph_test_trap(void)
{
    _exit(99); /* semihosting exit: QEMU ends with a non-zero status */
}

void ph_test_reset(void)
{
    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end)
        *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end; dst++)
        *dst = 0;
    initialise_monitor_handles();
    exit(main());
}

/* Cortex-M vector table: initial stack pointer, then handlers. */
__attribute__((section(".vectors"), used))
static const uintptr_t ph_test_vectors[16] = {
    (uintptr_t)__stack_top,
    (uintptr_t)ph_test_reset,
    (uintptr_t)ph_test_trap, /* NMI */
    (uintptr_t)ph_test_trap, /* HardFault */
    (uintptr_t)ph_test_trap, /* MemManage */
    (uintptr_t)ph_test_trap, /* BusFault */
    (uintptr_t)ph_test_trap, /* UsageFault */
    0, 0, 0, 0,
    (uintptr_t)ph_test_trap, /* SVCall */
    (uintptr_t)ph_test_trap, /* DebugMonitor */
    0,
    (uintptr_t)ph_test_trap, /* PendSV */
    (uintptr_t)ph_test_trap, /* SysTick */
};
