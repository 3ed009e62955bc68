/* SPDX-License-Identifier: MIT */
/*
 * consumer-tests/firmware: a firmware that takes pageheap as a library
 * (add_subdirectory or find_package) and links pageheap::newlib and
 * pageheap::cortexm.  It checks that newlib's malloc family is pageheap:
 * every block malloc/calloc/realloc hands out lies in the heap region the
 * linker script names and is known to ph_usable_size of ph_newlib_heap();
 * malloc_usable_size agrees; contents survive; ph_check holds; every page
 * comes back.  The heap's lock is pageheap::cortexm's, through the board
 * hook ph_board_port, counted to show it was taken.  Prints
 * "consumer-firmware: PASS" and returns 0 (QEMU's exit status), or names
 * the first failure and returns 1.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pageheap.h"
#include "ph_cortexm.h"
#include "ph_newlib.h"

extern char __heap_start__[], __heap_end__[]; /* mps2-an385.ld */

#define LIVE 200
#define ROUNDS 10

/* ---- the board's port: pageheap::cortexm's lock, counted --------------- */

static ph_cortexm_lock_t consumer_lock;
static ph_port consumer_port;
static unsigned consumer_locks;

static void consumer_lock_hook(void *ctx)
{
    ph_cortexm_lock(ctx);
    consumer_locks++;
}

const ph_port *ph_board_port(void)
{
    ph_cortexm_port_init(&consumer_port, &consumer_lock, NULL);
    consumer_port.lock = consumer_lock_hook;
    return &consumer_port;
}

/* ---- checks ------------------------------------------------------------ */

static int failed;

static void fail(const char *what, const void *p)
{
    printf("consumer-firmware: FAIL: %s (%p)\n", what, p);
    failed = 1;
}

/* p must be a pageheap object of at least n bytes in the linker's heap. */
static void check_block(const void *p, size_t n)
{
    ph_heap *h = ph_newlib_heap();
    if (p == NULL) {
        fail("allocation returned NULL", p);
        return;
    }
    if ((const char *)p < __heap_start__ || (const char *)p >= __heap_end__)
        fail("block outside __heap_start__..__heap_end__", p);
    if (ph_usable_size(h, (void *)p) < n)
        fail("ph_usable_size does not know the block", p);
    if (malloc_usable_size((void *)p) != ph_usable_size(h, (void *)p))
        fail("malloc_usable_size is not ph_usable_size", p);
}

int main(void)
{
    void *obj[LIVE];
    size_t size[LIVE];
    uint32_t seed = 2024u;
    ph_stats st;

    /* printf allocates stdio's buffer: through pageheap. */
    printf("consumer-firmware: pageheap %s (PH_VERSION %d)\n", PH_VERSION_STRING, PH_VERSION);
#ifdef CONSUMER_VERSION_STRING
    if (strcmp(PH_VERSION_STRING, CONSUMER_VERSION_STRING) != 0)
        fail("PH_VERSION_STRING differs from the package's version", NULL);
#endif
    ph_heap *h = ph_newlib_heap();
    if (h == NULL) {
        fail("no default heap", NULL);
        return 1;
    }
    /* the free tail of stdio's arena goes back at every ph_scavenge: count
     * the pages after one, as at the end */
    ph_scavenge(h, 0);
    ph_get_stats(h, &st);
    const size_t pages_free = st.pages_free;
    if (st.regions != 1 || st.pages_free == st.pages_total)
        fail("stdio did not allocate from the one region", NULL);

    for (int round = 0; round < ROUNDS && !failed; round++) {
        for (int i = 0; i < LIVE; i++) {
            seed = seed * 1103515245u + 12345u;
            size[i] = 1u + (seed >> 8) % (i % 16 == 15 ? 6000u : 200u);
            obj[i] = (i % 3 == 0) ? calloc(1, size[i]) : malloc(size[i]);
            check_block(obj[i], size[i]);
            if (obj[i] == NULL)
                return 1;
            if (i % 3 == 0 && ((unsigned char *)obj[i])[size[i] - 1] != 0)
                fail("calloc did not zero", obj[i]);
            memset(obj[i], i, size[i]);
        }
        for (int i = 0; i < LIVE; i += 2) { /* grow half of them */
            unsigned char *p = realloc(obj[i], size[i] * 2u);
            check_block(p, size[i] * 2u);
            if (p == NULL)
                return 1;
            if (p[0] != (unsigned char)i || p[size[i] - 1] != (unsigned char)i)
                fail("realloc lost the contents", p);
            memset(p, i, size[i] * 2u);
            obj[i] = p;
            size[i] *= 2u;
        }
        if (ph_check(h) != PH_OK)
            fail("ph_check with blocks live", NULL);
        for (int i = 0; i < LIVE; i++) {
            const unsigned char *b = obj[i];
            if (b[0] != (unsigned char)i || b[size[i] - 1] != (unsigned char)i)
                fail("contents changed", b);
            free(obj[i]);
        }
        if (ph_check(h) != PH_OK)
            fail("ph_check after the frees", NULL);
    }
    ph_scavenge(h, 0); /* the empty-arena cache and free tails back to the pages */
    ph_get_stats(h, &st);
    if (st.pages_free != pages_free)
        fail("pages still in use after every free", NULL);
    if (st.faults != 0)
        fail("faults reported", NULL);
    if (consumer_locks == 0 || consumer_lock.depth != 0)
        fail("pageheap::cortexm's lock was not used, or is still held", NULL);
    if (failed)
        return 1;
    printf("consumer-firmware: PASS (%d rounds of %d blocks, %u lock calls, %u pages of %u bytes)\n",
           ROUNDS, LIVE, consumer_locks, (unsigned)st.pages_total, (unsigned)st.page_size);
    return 0;
}
