/* SPDX-License-Identifier: MIT */
/*
 * port/picolibc: picolibc's malloc family served by one default pageheap
 * heap (port/libc's), for firmware linked with --specs=picolibc.specs.
 *
 * Linking ph_picolibc.c and port/libc/ph_libc.c (as objects) defines
 * malloc, free, calloc, realloc, memalign, aligned_alloc, posix_memalign,
 * malloc_usable_size (ph_libc.c) and cfree (ph_picolibc.c), every name of
 * picolibc's own allocator (nano-malloc-*.c.o in libc.a), so that allocator
 * and its sbrk are never linked; picolibc's callers (asprintf, strdup,
 * fopen, reallocarray, valloc, ...) get pageheap.  See README.md.
 *
 * The board contract (ph_board_regions, ph_board_port, ph_board_fault, all
 * optional) is port/libc's (ph_libc.h); the default ph_board_regions takes
 * picolibc.ld's [__heap_start, __heap_end).  This header gives port/libc's
 * functions picolibc names.
 */
#ifndef PH_PICOLIBC_H
#define PH_PICOLIBC_H

#include "ph_libc.h"

#define ph_picolibc_region ph_libc_region
#define PH_PICOLIBC_FAULT_NO_HEAP PH_LIBC_FAULT_NO_HEAP
#define ph_picolibc_init ph_libc_init
#define ph_picolibc_heap ph_libc_heap
#define ph_picolibc_irq_save ph_libc_irq_save
#define ph_picolibc_irq_restore ph_libc_irq_restore

#endif /* PH_PICOLIBC_H */
