/* SPDX-License-Identifier: MIT */
/*
 * consumer-tests/host: a program built against an installed pageheap
 * (find_package(pageheap) + pageheap::pageheap).  It checks that the header
 * it got is the release the package reports, that the layout switches and
 * build parameters came with the imported target, and that the library works: one heap over a
 * static arena, objects and pages allocated, filled, checked and freed,
 * ph_check after each round, every page free at the end.
 * Prints "consumer: PASS" and exits 0, or names the first failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pageheap.h"

#if !defined(PH_VERSION_MAJOR) || !defined(PH_VERSION) || !defined(PH_VERSION_STRING)
#error "pageheap.h has no version macros"
#endif
#ifdef CONSUMER_VERSION_STRING /* from find_package's pageheap_VERSION */
#if PH_VERSION_MAJOR != CONSUMER_VERSION_MAJOR || PH_VERSION_MINOR != CONSUMER_VERSION_MINOR || \
    PH_VERSION_PATCH != CONSUMER_VERSION_PATCH
#error "pageheap.h's PH_VERSION_* differ from the package's version"
#endif
#if PH_VERSION != CONSUMER_VERSION_MAJOR * 10000 + CONSUMER_VERSION_MINOR * 100 + CONSUMER_VERSION_PATCH
#error "PH_VERSION is not major * 10000 + minor * 100 + patch"
#endif
#else
#define CONSUMER_VERSION_STRING PH_VERSION_STRING /* add_subdirectory: no package */
#endif
#ifdef CONSUMER_EXPECT_WORD_BITS
#if !defined(PH_WORD_BITS) || PH_WORD_BITS != CONSUMER_EXPECT_WORD_BITS
#error "PH_WORD_BITS did not come with pageheap::pageheap"
#endif
#endif
#ifdef CONSUMER_EXPECT_MAX_REGIONS
#if PH_MAX_REGIONS != CONSUMER_EXPECT_MAX_REGIONS
#error "PH_MAX_REGIONS (PH_CONFIG_DEFINES) did not come with pageheap::pageheap"
#endif
#endif

#define ARENA_BYTES (1024u * 1024u)
#define ROUNDS 20
#define LIVE 64

static _Alignas(65536) unsigned char arena[ARENA_BYTES];
static ph_heap heap;

static int failed;

static void fail(const char *what)
{
    printf("consumer: FAIL: %s\n", what);
    failed = 1;
}

int main(void)
{
    void *obj[LIVE];
    size_t size[LIVE];
    uint32_t seed = 12345u;
    ph_stats st;

    printf("consumer: pageheap %s (PH_VERSION %d), package %s\n",
           PH_VERSION_STRING, PH_VERSION, CONSUMER_VERSION_STRING);
    if (strcmp(PH_VERSION_STRING, CONSUMER_VERSION_STRING) != 0)
        fail("PH_VERSION_STRING differs from the package's version");

    if (ph_init(&heap, 0, NULL) != PH_OK)
        fail("ph_init");
    if (ph_add_region(&heap, arena, sizeof arena, 0) != PH_OK)
        fail("ph_add_region");
    ph_get_stats(&heap, &st);
    const size_t pages_free = st.pages_free;

    memset(obj, 0, sizeof obj);
    for (int round = 0; round < ROUNDS && !failed; round++) {
        for (int i = 0; i < LIVE; i++) {
            seed = seed * 1103515245u + 12345u;
            size[i] = 1u + (seed >> 8) % (i % 8 == 7 ? 20000u : 300u);
            obj[i] = ph_malloc(&heap, size[i]);
            if (obj[i] == NULL) {
                fail("ph_malloc returned NULL");
                break;
            }
            memset(obj[i], i, size[i]);
        }
        void *pages = ph_page_alloc(&heap, 3);
        if (pages == NULL)
            fail("ph_page_alloc");
        if (ph_check(&heap) != PH_OK)
            fail("ph_check with objects live");
        for (int i = 0; i < LIVE && obj[i] != NULL; i++) {
            const unsigned char *b = obj[i];
            for (size_t k = 0; k < size[i]; k++)
                if (b[k] != (unsigned char)i) {
                    fail("object contents changed");
                    break;
                }
            ph_free(&heap, obj[i]);
            obj[i] = NULL;
        }
        if (pages != NULL)
            ph_page_free(&heap, pages, 3);
        if (ph_check(&heap) != PH_OK)
            fail("ph_check after the frees");
    }
    ph_scavenge(&heap, 0); /* empty span caches go back to the pages */
    ph_get_stats(&heap, &st);
    if (st.pages_free != pages_free)
        fail("pages still in use after every free");
    if (st.faults != 0)
        fail("faults reported");

    if (failed)
        return 1;
    printf("consumer: PASS (%d rounds of %d objects, %zu pages of %zu bytes)\n",
           ROUNDS, LIVE, st.pages_total, st.page_size);
    return 0;
}
