/* SPDX-License-Identifier: MIT */
/*
 * test_host_ports.c: the reusable host ports of port/host/.
 *
 * Guard port (ph_port_guard): released memory really faults on read and on
 * write, and is accessible again after acquire; PH_GUARD_PROTECT keeps the
 * contents, PH_GUARD_SCRUB overwrites them with PH_GUARD_PATTERN; every
 * misuse it promises to catch is caught (release outside an area, in an
 * area of granule 0, not whole granules, twice; acquire of memory not
 * released, of more or less than one granule; a hook without the lock;
 * lock nesting); areas it cannot guard are refused; counters are right.
 * With a heap: ph_scavenge under the guard port leaves released granules
 * faulting and the rest of the heap usable.
 *
 * madvise port (ph_port_madvise): release drops the resident memory of the
 * range (read from /proc/self/statm), only whole OS pages inside the range
 * are advised, the memory reads back as zeros and stays usable without any
 * acquire; the lock is a real mutex (trylock fails while the heap holds
 * it); faults are counted; and a heap using it gives memory back to the
 * OS on ph_scavenge.
 */
#include "scav_harness.h"

#include <errno.h>
#include <pthread.h>

#include "ph_port_madvise.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

/* ---- guard port ------------------------------------------------------------------ */

static void call_release(ph_guard_port *p, uintptr_t a, size_t len)
{
    p->port.lock(p->port.ctx);
    p->port.release(p->port.ctx, (void *)a, len);
    p->port.unlock(p->port.ctx);
}

static void call_acquire(ph_guard_port *p, uintptr_t a, size_t len)
{
    p->port.lock(p->port.ctx);
    p->port.acquire(p->port.ctx, (void *)a, len);
    p->port.unlock(p->port.ctx);
}

static void test_guard_faults_and_restores(void **state)
{
    arena a;
    ph_guard_port g;
    uintptr_t base = arena_map(&a, MiB, MiB);
    (void)state;

    ph_guard_port_init(&g, PH_GUARD_PROTECT);
    assert_int_equal(ph_guard_port_add_area(&g, (void *)base, MiB, 64 * KiB), 0);
    memset((void *)base, 0x3C, MiB);
    assert_false(probe_faults((void *)(base + 64 * KiB), false));

    call_release(&g, base + 64 * KiB, 128 * KiB);
    assert_int_equal(g.errors, 0);
    for (size_t off = 64 * KiB; off < 192 * KiB; off += 4 * KiB) {
        assert_true(probe_faults((void *)(base + off), false));
        assert_true(probe_faults((void *)(base + off + 4095), true));
    }
    assert_false(probe_faults((void *)(base + 64 * KiB - 1), true));
    assert_false(probe_faults((void *)(base + 192 * KiB), true));
    assert_true(ph_guard_port_is_released(&g, (void *)(base + 100 * KiB)));
    assert_false(ph_guard_port_is_released(&g, (void *)(base + 192 * KiB)));
    assert_int_equal(g.granules_released, 2);

    call_acquire(&g, base + 128 * KiB, 64 * KiB); /* the second granule first */
    assert_false(probe_faults((void *)(base + 128 * KiB), true));
    assert_true(probe_faults((void *)(base + 127 * KiB), false));
    call_acquire(&g, base + 64 * KiB, 64 * KiB);
    assert_false(probe_faults((void *)(base + 64 * KiB), true));
    assert_int_equal(g.errors, 0);
    /* PH_GUARD_PROTECT keeps the contents */
    for (size_t off = 64 * KiB; off < 192 * KiB; off += 512)
        assert_int_equal(((volatile uint8_t *)base)[off], 0x3C);
    assert_int_equal(g.release_calls, 1);
    assert_int_equal(g.bytes_released, 128 * KiB);
    assert_int_equal(g.acquire_calls, 2);
    assert_int_equal(g.bytes_acquired, 128 * KiB);
    assert_int_equal(g.granules_released, 0);
    assert_int_equal(g.locks, 3);
    ph_guard_port_destroy(&g);
    arena_unmap(&a);
}

static void test_guard_scrub_loses_contents(void **state)
{
    arena a;
    ph_guard_port g;
    uintptr_t base = arena_map(&a, MiB, MiB);
    (void)state;

    ph_guard_port_init(&g, PH_GUARD_SCRUB);
    assert_int_equal(ph_guard_port_add_area(&g, (void *)base, MiB, 4 * KiB), 0);
    memset((void *)base, 0x11, MiB);
    call_release(&g, base + 8 * KiB, 8 * KiB);
    assert_true(probe_faults((void *)(base + 8 * KiB), false));
    call_acquire(&g, base + 8 * KiB, 4 * KiB);
    call_acquire(&g, base + 12 * KiB, 4 * KiB);
    for (size_t off = 8 * KiB; off < 16 * KiB; off++)
        if (((volatile uint8_t *)base)[off] != PH_GUARD_PATTERN)
            fail_msg("byte %zu not scrubbed", off);
    assert_int_equal(((volatile uint8_t *)base)[8 * KiB - 1], 0x11); /* outside: kept */
    assert_int_equal(((volatile uint8_t *)base)[16 * KiB], 0x11);
    assert_int_equal(g.errors, 0);
    ph_guard_port_destroy(&g);
    arena_unmap(&a);
}

/* Each misuse is an error, counted, and changes no protection. */
static void test_guard_catches_misuse(void **state)
{
    arena a;
    ph_guard_port g;
    uintptr_t base = arena_map(&a, 2 * MiB, MiB);
    size_t e = 0;
    (void)state;

    ph_guard_port_init(&g, PH_GUARD_PROTECT);
    g.abort_on_error = false;
    assert_int_equal(ph_guard_port_add_area(&g, (void *)base, MiB, 64 * KiB), 0);
    assert_int_equal(ph_guard_port_add_area(&g, (void *)(base + MiB), 64 * KiB, 0), 0);
    /* areas it cannot guard */
    assert_int_equal(ph_guard_port_add_area(&g, (void *)(base + MiB + 64 * KiB), 64 * KiB, 2048), -1);
    assert_int_equal(ph_guard_port_add_area(&g, (void *)(base + MiB + 64 * KiB), 64 * KiB, 12 * KiB), -1);
    assert_int_equal(ph_guard_port_add_area(&g, (void *)(base + 512 * KiB), 64 * KiB, 4 * KiB), -1);
    assert_int_equal(g.nareas, 2);

#define EXPECT_ERROR(call)                                                          \
    do {                                                                            \
        call;                                                                       \
        if (g.errors != ++e)                                                        \
            fail_msg("not caught: " #call " (errors %zu)", g.errors);              \
    } while (0)
    EXPECT_ERROR(call_release(&g, base + 2 * MiB - 64 * KiB, 64 * KiB)); /* no area     */
    EXPECT_ERROR(call_release(&g, base + MiB, 4 * KiB));                /* granule 0   */
    EXPECT_ERROR(call_release(&g, base + 4 * KiB, 64 * KiB));           /* misaligned  */
    EXPECT_ERROR(call_release(&g, base, 96 * KiB));                     /* 1.5 granule */
    EXPECT_ERROR(call_release(&g, base + MiB - 64 * KiB, 128 * KiB));   /* past area   */
    EXPECT_ERROR(call_acquire(&g, base, 64 * KiB));                     /* not released */
    call_release(&g, base, 128 * KiB);
    assert_int_equal(g.errors, e);
    EXPECT_ERROR(call_release(&g, base + 64 * KiB, 64 * KiB));          /* twice       */
    EXPECT_ERROR(call_acquire(&g, base, 128 * KiB));                    /* two at once */
    EXPECT_ERROR(call_acquire(&g, base, 32 * KiB));                     /* half        */
    EXPECT_ERROR(g.port.acquire(g.port.ctx, (void *)base, 64 * KiB));   /* no lock     */
    /* the unlocked acquire above still restored granule 0: */
    assert_false(probe_faults((void *)base, true));
    assert_true(probe_faults((void *)(base + 64 * KiB), false));
    g.port.lock(g.port.ctx);
    EXPECT_ERROR(g.port.lock(g.port.ctx)); /* nested */
    g.port.unlock(g.port.ctx);
    EXPECT_ERROR(g.port.unlock(g.port.ctx)); /* stray */
    assert_int_equal(g.nested, 1);
    assert_int_equal(g.stray_unlocks, 1);
    assert_true(strstr(g.first_error, "not inside one guarded area") != NULL);
#undef EXPECT_ERROR
    ph_guard_port_destroy(&g);
    arena_unmap(&a);
}

/* With a heap: after ph_scavenge the released granules fault, the rest of
 * the heap works, and allocation brings them back. */
static void test_guard_with_heap(void **state)
{
    arena a;
    ph_guard_port g;
    ph_heap h;
    uintptr_t base = arena_map(&a, 4 * MiB, MiB);
    (void)state;

    ph_guard_port_init(&g, PH_GUARD_SCRUB);
    assert_int_equal(ph_init(&h, 4096, &g.port), PH_OK);
    assert_int_equal(ph_add_region(&h, (void *)base, 4 * MiB, 64 * KiB), PH_OK);
    assert_int_equal(ph_guard_port_add_area(&g, (void *)base, 4 * MiB, 64 * KiB), 0);
    /* the metadata takes the first pages (how many depends on the
     * layout: ph_get_region); p ends at 404K whatever they are */
    ph_region_info ri;
    const size_t locks0 = g.locks;
    assert_int_equal(ph_get_region(&h, 0, &ri), PH_OK);
    const size_t ri_locks = g.locks - locks0;
    const size_t np = 101 - ri.meta_bytes / 4096;
    assert_true(ri.meta_bytes >= 4096 && np >= 64);
    uint8_t *p = ph_page_alloc(&h, np); /* [meta, 404K): granules 0..6 */
    assert_non_null(p);
    assert_ptr_equal(p + np * 4096, (uint8_t *)base + 404 * KiB);
    memset(p, 0x77, np * 4096);
    assert_int_equal(ph_scavenge(&h, SIZE_MAX), (64 - 7) * 64 * KiB);
    assert_int_equal(g.granules_released, 57);
    assert_true(probe_faults((void *)(base + 448 * KiB), false));
    assert_true(probe_faults((void *)(base + 4 * MiB - 1), false));
    assert_false(probe_faults(p + np * 4096 - 1, true));
    for (size_t i = 0; i < np * 4096; i += 4096)
        assert_int_equal(p[i], 0x77);
    uint8_t *q = ph_page_alloc(&h, 40); /* [404K, 564K): acquires granules 7, 8 */
    assert_ptr_equal(q, (uint8_t *)base + 404 * KiB);
    memset(q, 0x55, 40 * 4096);
    assert_int_equal(g.acquire_calls, 2);
    assert_int_equal(g.granules_released, 55);
    assert_true(probe_faults((void *)(base + 576 * KiB), false));
    assert_int_equal(ph_check(&h), PH_OK);
    assert_int_equal(g.errors, 0);
    assert_int_equal(g.locks, 5 + ri_locks); /* add_region, alloc, scavenge, alloc, check */
    ph_guard_port_destroy(&g);
    arena_unmap(&a);
}

/* ---- madvise port ------------------------------------------------------------------ */

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2)
        fail_msg("cannot read /proc/self/statm");
    fclose(f);
    return (size_t)resident * os_page_size();
}

static void touch(uintptr_t a, size_t len)
{
    for (size_t off = 0; off < len; off += os_page_size())
        ((volatile uint8_t *)a)[off] = 0xEE;
}

static void test_madvise_releases_rss(void **state)
{
    ph_madvise_port p;
    void *m;
    uintptr_t base;
    size_t len = 64 * MiB, before, after;
    (void)state;

    assert_int_equal(ph_madvise_port_init(&p, false), 0);
    m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    base = (uintptr_t)m;
    touch(base, len);
    before = rss_bytes();
    p.port.lock(p.port.ctx);
    p.port.release(p.port.ctx, m, len);
    p.port.unlock(p.port.ctx);
    after = rss_bytes();
    print_message("[ madvise  ] RSS %zu KiB -> %zu KiB after releasing 64 MiB\n", before / KiB,
                  after / KiB);
    assert_true(before > after && before - after >= len - len / 16);
    assert_int_equal(p.release_calls, 1);
    assert_int_equal(p.bytes_released, len);
    assert_int_equal(p.bytes_advised, len);
    assert_int_equal(p.madvise_errors, 0);
    /* usable without acquire: reads zeros, takes writes */
    assert_int_equal(((volatile uint8_t *)base)[12345], 0);
    ((volatile uint8_t *)base)[12345] = 1;

    /* only whole OS pages inside the range are advised */
    touch(base, 4 * os_page_size());
    p.port.release(p.port.ctx, (void *)(base + 100), 2 * os_page_size());
    assert_int_equal(p.bytes_advised, len + os_page_size());
    assert_int_equal(((volatile uint8_t *)base)[0], 0xEE);                   /* kept    */
    assert_int_equal(((volatile uint8_t *)base)[os_page_size()], 0);         /* dropped */
    assert_int_equal(((volatile uint8_t *)base)[2 * os_page_size()], 0xEE); /* kept    */
    p.port.release(p.port.ctx, (void *)(base + 100), 100); /* no whole page: nothing */
    assert_int_equal(p.bytes_advised, len + os_page_size());
    assert_int_equal(p.release_calls, 3);

    /* acquire only counts */
    p.port.acquire(p.port.ctx, m, 8192);
    assert_int_equal(p.acquire_calls, 1);
    assert_int_equal(p.bytes_acquired, 8192);

    /* lock is a real mutex */
    p.port.lock(p.port.ctx);
    assert_int_equal(pthread_mutex_trylock(&p.mutex), EBUSY);
    p.port.unlock(p.port.ctx);
    assert_int_equal(pthread_mutex_trylock(&p.mutex), 0);
    pthread_mutex_unlock(&p.mutex);

    /* faults are counted */
    p.port.fault(p.port.ctx, PH_FAULT_DOUBLE_FREE, m);
    assert_int_equal(p.faults, 1);
    assert_int_equal(p.last_fault_code, PH_FAULT_DOUBLE_FREE);
    assert_ptr_equal(p.last_fault_addr, m);
    munmap(m, len);
    ph_madvise_port_destroy(&p);
}

/* A heap on the madvise port gives its free memory back to the OS. */
static void test_madvise_heap(void **state)
{
    ph_madvise_port p;
    ph_heap h;
    size_t len = 32 * MiB, before, after;
    void *m;
    uint8_t *run;
    (void)state;

    assert_int_equal(ph_madvise_port_init(&p, false), 0);
    m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(ph_init(&h, 4096, &p.port), PH_OK);
    assert_int_equal(ph_add_region(&h, m, len, 64 * KiB), PH_OK);
    run = ph_page_alloc(&h, 7000);
    assert_non_null(run);
    touch((uintptr_t)run, 7000 * 4096);
    before = rss_bytes();
    ph_page_free(&h, run, 7000);
    size_t rel = ph_scavenge(&h, SIZE_MAX);
    after = rss_bytes();
    print_message("[ madvise  ] heap: released %zu KiB, RSS %zu KiB -> %zu KiB\n", rel / KiB,
                  before / KiB, after / KiB);
    assert_true(rel >= 7000 * 4096 - 128 * KiB);
    assert_true(before - after >= 7000 * 4096 - MiB);
    assert_int_equal(p.bytes_released, rel);
    /* reuse: the pages come back zeroed and writable */
    run = ph_page_alloc(&h, 10);
    assert_non_null(run);
    run[4096 * 9] = 1;
    assert_int_equal(ph_check(&h), PH_OK);
    assert_int_equal(pthread_mutex_trylock(&p.mutex), 0); /* unlocked after every call */
    pthread_mutex_unlock(&p.mutex);
    munmap(m, len);
    ph_madvise_port_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guard_faults_and_restores),
        cmocka_unit_test(test_guard_scrub_loses_contents),
        cmocka_unit_test(test_guard_catches_misuse),
        cmocka_unit_test(test_guard_with_heap),
        cmocka_unit_test(test_madvise_releases_rss),
        cmocka_unit_test(test_madvise_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
