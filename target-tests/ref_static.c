/* SPDX-License-Identifier: MIT */
/*
 * ref_static.c: the reference model (ref/refmodel.c, compiled unchanged)
 * with its two C library calls, calloc in ref_add_region and free in
 * ref_destroy, served from a static pool of its own.
 *
 * On a board the C library's calloc is pageheap's default heap: the model
 * that checks the allocator must not live in (and depend on) an allocator
 * under test, and its byte maps would compete with the suite's other
 * groups for the default heap's RAM.  One byte per page of the arena (the
 * smallest page is 64 bytes) plus one per region is all it can ask for.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h> /* first, so the names below do not rename its prototypes */

#include "suite.h"

/* The pool: the running group hands it over (suite_scratch memory) with
 * ref_static_pool before ref_init. */
static uint8_t *ref_pool;
static size_t ref_pool_bytes, ref_pool_used, ref_pool_live;

void ref_static_pool(void *buf, size_t bytes)
{
    ref_pool = (uint8_t *)buf;
    ref_pool_bytes = bytes;
    ref_pool_used = 0;
    ref_pool_live = 0;
}

/* Zeroed bytes from the pool; the pool is reset when the last block is
 * freed (ref_destroy frees every region's map). */
static void *ref_pool_calloc(size_t n, size_t size)
{
    size_t bytes = n * size;
    if (size != 0 && bytes / size != n)
        return NULL;
    bytes = (bytes + 7u) & ~(size_t)7u;
    if (ref_pool == NULL || bytes > ref_pool_bytes - ref_pool_used)
        return NULL; /* refmodel.c asserts on it */
    void *p = ref_pool + ref_pool_used;
    ref_pool_used += bytes;
    ref_pool_live++;
    for (size_t i = 0; i < bytes; i++)
        ((uint8_t *)p)[i] = 0;
    return p;
}

static void ref_pool_free(void *p)
{
    if (p == NULL)
        return;
    if (ref_pool_live > 0 && --ref_pool_live == 0)
        ref_pool_used = 0;
}

#define calloc ref_pool_calloc
#define free ref_pool_free
#include "refmodel.c"
#undef calloc
#undef free
