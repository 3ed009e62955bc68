/* SPDX-License-Identifier: MIT */
/*
 * boards/common/hello.c: the first firmware of every board, a smoke test
 * of the board itself (boards/<board>/CMakeLists.txt registers it as the
 * CTest test "<board>:hello"):
 *
 *   - printf through newlib to the board's console (integers and a float:
 *     the float ABI and, where there is one, the FPU);
 *   - malloc / calloc / realloc / free through pageheap's default heap over
 *     the linker script's banks; a block too big for the first bank lands
 *     in a later one; ph_check holds;
 *   - a refused bad free reaches ph_board_fault (board_heap_faults);
 *   - the port's interrupt-masking lock nests and restores the mask;
 *   - board_counter advances; board_timer_start calls back periodically
 *     and board_timer_stop stops it;
 *   - ph_scavenge releases through the simulated gate (poison, MPU), a
 *     large malloc acquires granules back, the gate saw no violation;
 *     where touches trap (MPU, or the MMU on Cortex-A) a deliberate read of
 *     released memory faults and is skipped;
 *   - exits 0 after "hello: PASS" (1 after "hello: FAIL" lines).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "ph_simgate.h"

static unsigned failures;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("hello: FAIL line %d: %s\n", __LINE__, #cond);            \
            failures++;                                                       \
        }                                                                     \
    } while (0)

static volatile uint32_t ticks;

static void on_tick(void)
{
    ticks++;
}

/* 1 when interrupts are masked (PRIMASK on Cortex-M, CPSR.I on Cortex-A). */
static int irqs_masked(void)
{
    uint32_t v;
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
    __asm__ volatile("mrs %0, primask" : "=r"(v));
    return (v & 1u) != 0;
#else
    __asm__ volatile("mrs %0, cpsr" : "=r"(v));
    return (v & 0x80u) != 0;
#endif
}

static void irqs_mask(int on)
{
    if (on)
        __asm__ volatile("cpsid i" : : : "memory");
    else
        __asm__ volatile("cpsie i" : : : "memory");
}

/* The board port's lock (port/cortex-m or port/cortex-a under the gate):
 * nested pairs restore exactly, and a caller's own mask survives. */
static int lock_nests(void)
{
    const ph_port *p = ph_board_port();
    int ok = !irqs_masked();
    p->lock(p->ctx);
    ok &= irqs_masked();
    p->lock(p->ctx);
    p->unlock(p->ctx);
    ok &= irqs_masked(); /* inner unlock keeps the mask */
    p->unlock(p->ctx);
    ok &= !irqs_masked(); /* outer unlock restores it */
    irqs_mask(1);
    p->lock(p->ctx);
    p->unlock(p->ctx);
    ok &= irqs_masked(); /* masked before: masked after */
    irqs_mask(0);
    return ok;
}

/* ph_walk callback: the first released run. */
static void find_released(void *ctx, const void *base, size_t npages, int state)
{
    const void **out = ctx;
    (void)npages;
    if (state == PH_PAGES_RELEASED && *out == NULL)
        *out = base;
}

static void print_regions(ph_heap *h)
{
    ph_region_info ri;
    for (size_t i = 0; ph_get_region(h, i, &ri) == PH_OK; i++)
        printf("  region %u: %p..%p  %lu KiB  granule %lu\n", (unsigned)i, ri.raw_base,
               (void *)((char *)ri.raw_base + ri.raw_size), (unsigned long)(ri.raw_size / 1024),
               (unsigned long)ri.granule);
}

int main(void)
{
    ph_heap *h = ph_newlib_heap();
    struct ph_simgate *g = board_simgate();
    ph_stats st;

    printf("hello from %s (%s), counter %lu Hz, %lu insns/tick under -icount shift=0\n",
           board_name(), board_cpu(), (unsigned long)board_counter_hz(),
           (unsigned long)board_counter_insns_per_tick());
    printf("float: %.3f\n", 3.14159 * 2.0);
    CHECK(h != NULL);
    if (h == NULL)
        return 1;
    print_regions(h);

    /* ---- malloc family (sizes fit the 9 KiB heap of microbit too) ---- */
    ph_get_stats(h, &st);
    size_t heap_bytes = st.pages_total * st.page_size;
    size_t csize = heap_bytes / 4 < 5000 ? heap_bytes / 4 : 5000;
    char *a = malloc(100), *b = calloc(10, 100), *c = malloc(csize);
    CHECK(a && b && c);
    memset(a, 0x5A, 100);
    int zero = 1;
    for (int i = 0; b && i < 1000; i++)
        zero &= b[i] == 0;
    CHECK(zero);
    char *a2 = realloc(a, csize / 2);
    CHECK(a2 != NULL && (unsigned char)a2[99] == 0x5A);
    if (a2)
        a = a2;
    free(a);
    free(b);
    free(c);
    CHECK(ph_check(h) == PH_OK);

    /* A block bigger than every other bank lands in the largest one. */
    ph_region_info ri, rbig = {0};
    size_t nbig = 0, second = 0;
    for (size_t i = 0; ph_get_region(h, i, &ri) == PH_OK; i++) {
        if (ri.npages > nbig) {
            second = nbig;
            nbig = ri.npages;
            rbig = ri;
        } else if (ri.npages > second) {
            second = ri.npages;
        }
    }
    size_t big = (nbig - nbig / 4) * st.page_size;
    if (st.regions > 1 && nbig - nbig / 4 > second + 1) {
        char *p = malloc(big);
        CHECK(p != NULL);
        if (p) {
            CHECK((uintptr_t)p >= (uintptr_t)rbig.base &&
                  (uintptr_t)p < (uintptr_t)rbig.base + rbig.npages * st.page_size);
            p[0] = 1;
            p[big - 1] = 2;
            free(p);
        }
    }

    /* A refused bad free: counted by the board, nothing else changes. */
    unsigned long faults0 = board_heap_faults(NULL, NULL);
    char *d = malloc(64);
    char *volatile interior = d + 8; /* hidden from -Wfree-nonheap-object */
    free(interior);
    CHECK(board_heap_faults(NULL, NULL) == faults0 + 1);
    free(d);
    CHECK(ph_check(h) == PH_OK);

    /* ---- the lock ---- */
    CHECK(lock_nests());

    /* ---- counter and timer ---- */
    uint32_t c0 = board_counter();
    for (volatile int i = 0; i < 20000; i++)
        ;
    uint32_t c1 = board_counter();
    printf("counter: %lu ticks over a 20000-iteration loop\n", (unsigned long)(c1 - c0));
    CHECK(c1 != c0);

    uint32_t period = board_counter_hz() / 1000u; /* 1 ms */
    int rc = board_timer_start(period, on_tick);
    CHECK(rc == 0);
    if (rc == 0) {
        uint32_t t0 = board_counter();
        /* up to 2 s of counter time (wall time without -icount) */
        while (ticks < 5 && board_counter() - t0 < board_counter_hz() * 2u)
            ;
        board_timer_stop();
        uint32_t seen = ticks, elapsed = board_counter() - t0;
        printf("timer: %lu ticks of 1 ms in %lu counter ticks\n", (unsigned long)seen,
               (unsigned long)elapsed);
        CHECK(seen >= 5);
        for (volatile int i = 0; i < 100000; i++)
            ;
        CHECK(ticks == seen); /* stopped */
    }

    /* ---- scavenge, re-acquire, the simulated gate ---- */
    size_t released = ph_scavenge(h, SIZE_MAX);
    ph_get_stats(h, &st);
    printf("scavenge: %lu KiB released in %lu granules; gate: %lu releases, ",
           (unsigned long)(released / 1024), (unsigned long)g->granules_released, g->releases);
    if (g->protect)
        printf("unmapped in the MMU\n");
    else if (g->mpu_regions)
        printf("MPU %lu/%lu regions, %lu granules unprotected\n",
               (unsigned long)g->mpu_regions_used, (unsigned long)g->mpu_regions,
               g->mpu_unprotected_granules);
    else
        printf("no MPU: poison only\n");
    CHECK(released > 0);
    CHECK(g->granules_released > 0);
    CHECK(st.pages_released > 0);
    CHECK(ph_check(h) == PH_OK);

    const void *rel = NULL;
    ph_walk(h, find_released, &rel);
    CHECK(rel != NULL && ph_simgate_is_released(g, rel));
    if (rel && ph_simgate_can_trap(g)) {
        unsigned long f0 = g->mpu_expected_faults;
        ph_simgate_expect_fault(g, 1);
        uint32_t v = *(volatile const uint32_t *)rel; /* must fault and be skipped */
        (void)v;
        __asm__ volatile("" : : : "memory"); /* the handler changed *g */
        printf("gate: a read of released %p trapped: %s\n", rel,
               g->mpu_expected_faults == f0 + 1 ? "yes" : "NO");
        CHECK(g->mpu_expected_faults == f0 + 1);
        ph_simgate_expect_fault(g, 0);
    }

    /* Everything back: malloc most of the heap, granules are acquired. */
    size_t largest = st.largest_free_run * st.page_size;
    char *e = malloc(largest / 2);
    CHECK(e != NULL);
    if (e) {
        memset(e, 0xA5, largest / 2);
        free(e);
    }
    CHECK(g->acquires > 0);
    CHECK(ph_check(h) == PH_OK);
    printf("gate: %lu releases (%lu KiB), %lu acquires (%lu KiB), violations %lu\n",
           g->releases, (unsigned long)(g->bytes_released / 1024), g->acquires,
           (unsigned long)(g->bytes_acquired / 1024), ph_simgate_violations(g));
    CHECK(ph_simgate_violations(g) == 0);

    if (failures) {
        printf("hello: FAIL (%u)\n", failures);
        return 1;
    }
    printf("hello: PASS\n");
    return 0;
}
