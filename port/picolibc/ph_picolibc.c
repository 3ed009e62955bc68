/* SPDX-License-Identifier: MIT */
/*
 * port/picolibc: what picolibc needs beyond port/libc's plain names.
 *
 * picolibc's allocator (nano-malloc) defines malloc, free, calloc, realloc,
 * memalign, aligned_alloc, posix_memalign, malloc_usable_size, and cfree in
 * the same object as free (nano-malloc-free.c.o): port/libc/ph_libc.c
 * defines the first eight, this file cfree, so no call of the family ever
 * pulls a nano-malloc object (whose free would clash with ph_libc.c's).
 * mallinfo, malloc_stats, mallopt are deliberately not defined: calling one
 * pulls picolibc's malloc and the link fails with "multiple definition of
 * `malloc'" instead of running two allocators.  Use ph_get_stats on
 * ph_picolibc_heap().
 */
#include "ph_picolibc.h"

#include <stdlib.h>

#ifndef __PICOLIBC__
#error "port/picolibc is for picolibc (--specs=picolibc.specs); newlib has port/newlib"
#endif

void cfree(void *p)
{
    ph_libc_free(p);
}
