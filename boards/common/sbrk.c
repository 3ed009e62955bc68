/* SPDX-License-Identifier: MIT */
/*
 * boards/common/sbrk.c: _sbrk for firmware that keeps newlib's own malloc
 * (ph_board_firmware(... NEWLIB_MALLOC)), e.g. the benchmark's baselines.
 * The arena is heap bank 0 of the linker script (__ph_heap0_start ..
 * __ph_heap0_end): the same memory pageheap's default heap would own, which
 * such a firmware does not link.  A firmware that also builds a pageheap
 * heap must give it other memory (bank 1 and up).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern char __ph_heap0_start[], __ph_heap0_end[];

void *_sbrk(ptrdiff_t incr);

void *_sbrk(ptrdiff_t incr)
{
    static char *brk;
    if (brk == NULL)
        brk = __ph_heap0_start;
    if (incr > __ph_heap0_end - brk || incr < __ph_heap0_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += incr;
    return old;
}
