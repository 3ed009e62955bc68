/* SPDX-License-Identifier: MIT */
/*
 * Firmware test of port/newlib, run under QEMU (mps2-an385) by
 * port/newlib/test-newlib.sh, once linked with full newlib and once with
 * newlib-nano.
 *
 *  1. printf of integers and floats: newlib's stdio must allocate its
 *     buffers (and dtoa its bigints) through our _malloc_r / _calloc_r, so
 *     the reentrant call counters and the heap's statistics move.
 *  2. The C library's names one by one: alignment, realloc keeps contents,
 *     calloc zeroes, errno, posix_memalign's EINVAL, strdup, both regions
 *     used, refused bad frees, the lock restores the interrupt mask.
 *  3. Many random-size allocations with fill-and-verify, ph_check on the
 *     way; at the end every page is free again except what stdio kept.
 *  4. Scavenge, then allocate again: released granules are acquired back.
 *
 * Prints "newlib-test: PASS" and exits 0, or exits 1 after "FAIL" lines.
 */
#include <errno.h>
#include <malloc.h>
#include <reent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pageheap.h"
#include "ph_newlib.h"

/* ---- the board's hooks of port/newlib ------------------------------------ */

/* The board's heap banks (linker/mps2-an385.ld): bank 0 is the SSRAM2/3
 * after .bss, bank 1 the PSRAM.  The test carves its two regions out of
 * them: 64 KiB at the start of bank 0 and 1 MiB at the start of bank 1. */
extern char __ph_heap0_start[], __ph_heap1_start[];
#define TEST_REGION1_BYTES (64u * 1024u)
#define TEST_REGION2_BYTES (1024u * 1024u)
static char *test_heap1_start, *test_heap1_end;
static char *test_heap2_start, *test_heap2_end;

/* Two banks: 64 KiB of SSRAM2 right after .bss and 1 MiB of PSRAM. */
const ph_newlib_region *ph_board_regions(size_t *count)
{
    static ph_newlib_region regions[2];
    test_heap1_start = __ph_heap0_start;
    test_heap1_end = __ph_heap0_start + TEST_REGION1_BYTES;
    test_heap2_start = __ph_heap1_start;
    test_heap2_end = __ph_heap1_start + TEST_REGION2_BYTES;
    regions[0].start = test_heap1_start;
    regions[0].end = test_heap1_end;
    regions[0].granule = 0;         /* always-on RAM */
    regions[1].start = test_heap2_start;
    regions[1].end = test_heap2_end;
    regions[1].granule = 64 * 1024; /* pretend power sections of 64 KiB */
    *count = 2;
    return regions;
}

/* Records instead of aborting (the test provokes refused frees on purpose).
 * Never prints: it runs with the heap's lock held. */
static volatile struct {
    unsigned long count;
    int last_code;
    const void *last_addr;
} ph_test_faults;

void ph_board_fault(int code, const void *addr)
{
    ph_test_faults.count++;
    ph_test_faults.last_code = code;
    ph_test_faults.last_addr = addr;
}

/* The default port's lock (interrupt masking, through the helpers that
 * ph_newlib.h offers) with release and acquire hooks that keep the contents
 * and count: without a release hook nothing would be released at all. */
static unsigned long ph_test_lock_state;
static volatile unsigned long ph_test_releases, ph_test_acquires;

static void ph_test_lock(void *ctx)
{
    (void)ctx;
    ph_test_lock_state = ph_newlib_irq_save();
}

static void ph_test_unlock(void *ctx)
{
    (void)ctx;
    ph_newlib_irq_restore(ph_test_lock_state);
}

static void ph_test_release(void *ctx, void *base, size_t len)
{
    (void)ctx, (void)base, (void)len;
    ph_test_releases++;
}

static void ph_test_acquire(void *ctx, void *base, size_t len)
{
    (void)ctx, (void)base, (void)len;
    ph_test_acquires++;
}

static void ph_test_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    ph_board_fault(code, addr);
}

const ph_port *ph_board_port(void)
{
    static const ph_port port = {
        .ctx = NULL,
        .release = ph_test_release,
        .acquire = ph_test_acquire,
        .lock = ph_test_lock,
        .unlock = ph_test_unlock,
        .fault = ph_test_fault,
    };
    return &port;
}

/* ---- checks ------------------------------------------------------------------ */

static unsigned failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("newlib-test: FAIL line %d: %s\n", __LINE__, #cond);             \
            failures++;                                                              \
        }                                                                            \
    } while (0)

static int aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

static int in_range(const void *p, const char *lo, const char *hi)
{
    return (uintptr_t)p >= (uintptr_t)lo && (uintptr_t)p < (uintptr_t)hi;
}

/* Hide values from the compiler, so it does not warn about the bad frees and
 * huge sizes this test makes on purpose. */
static void *opaque(void *p)
{
    void *volatile v = p;
    return v;
}

static size_t opaque_size(size_t n)
{
    volatile size_t v = n;
    return v;
}

static size_t pages_used(const ph_stats *s)
{
    return s->pages_total - s->pages_free;
}

static unsigned long primask(void)
{
    unsigned long v;
    __asm__ volatile("mrs %0, primask" : "=r"(v));
    return v & 1u;
}

/* ---- 1. stdio allocates from pageheap ----------------------------------- */

static void test_stdio(void)
{
    ph_newlib_counts before = ph_newlib_calls;
    printf("newlib-test: start (%s), ints %d %u %ld %x\n",
#ifdef PH_TEST_NANO
           "newlib-nano",
#else
           "full newlib",
#endif
           42, 4000000000u, -123456789L, 0xbeefu);
    printf("newlib-test: floats %.3f %e %g %.10f\n", 3.14159265, 1.5e-10, 2.5e6, 1.0 / 3.0);
    ph_newlib_counts after = ph_newlib_calls;
    printf("newlib-test: newlib internals called _malloc_r %lu, _calloc_r %lu, _realloc_r %lu, "
           "_free_r %lu times\n",
           after.malloc_r - before.malloc_r, after.calloc_r - before.calloc_r,
           after.realloc_r - before.realloc_r, after.free_r - before.free_r);
    CHECK(after.malloc_r > before.malloc_r); /* the stdout buffer */

    ph_heap *h = ph_newlib_heap();
    CHECK(h != NULL);
    if (h == NULL)
        return;
    ph_stats s;
    ph_get_stats(h, &s);
    printf("newlib-test: heap: %u regions, %u pages of %u bytes, %u in use by stdio "
           "(%u small spans, %u large objects)\n",
           (unsigned)s.regions, (unsigned)s.pages_total, (unsigned)s.page_size,
           (unsigned)pages_used(&s), (unsigned)s.small_spans, (unsigned)s.large_objects);
    CHECK(s.regions == 2);
    CHECK(pages_used(&s) > 0);
    CHECK(s.small_spans + s.large_objects > 0);

    /* Warm up what later output needs (sprintf's dtoa bigints, strtod). */
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g %e", 0.1, 6.02214076e23);
    CHECK(strtod("2.5", NULL) == 2.5);
}

/* ---- 2. the names one by one -------------------------------------------- */

static void fill(unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(tag + i * 131u);
}

static int verify(const unsigned char *p, size_t n, unsigned tag)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(tag + i * 131u))
            return 0;
    return 1;
}

static void test_names(void)
{
    ph_heap *h = ph_newlib_heap();
    if (h == NULL)
        return;

    /* malloc / free / usable size */
    void *z = malloc(0);
    CHECK(z != NULL);
    free(z);
    free(NULL);
    unsigned char *p = malloc(100);
    CHECK(p != NULL && aligned(p, 8));
    CHECK(in_range(p, test_heap1_start, test_heap1_end)); /* lowest region first */
    size_t us = malloc_usable_size(p);
    CHECK(us >= 100);
    fill(p, us, 1); /* the whole usable size is ours */
    CHECK(malloc_usable_size(NULL) == 0);

    /* realloc keeps the contents, growing into a page run and shrinking */
    p = realloc(p, 5000);
    CHECK(p != NULL && verify(p, 100, 1));
    fill(p, 5000, 2);
    p = realloc(p, 3000);
    CHECK(p != NULL && verify(p, 3000, 2));
    p = realloc(p, 40);
    CHECK(p != NULL && verify(p, 40, 2));
    free(p);
    p = realloc(NULL, 24);
    CHECK(p != NULL);
    free(p);

    /* calloc zeroes memory that was dirty */
    unsigned char *d = malloc(4000);
    CHECK(d != NULL);
    if (d)
        memset(d, 0xAA, 4000);
    free(d);
    uint32_t *c = calloc(1000, 4);
    CHECK(c != NULL);
    int zero = 1;
    for (size_t i = 0; c && i < 1000; i++)
        zero &= c[i] == 0;
    CHECK(zero);
    free(c);
    unsigned char *c2 = calloc(7, 9);
    CHECK(c2 != NULL && c2[0] == 0 && c2[62] == 0);
    free(c2);

    /* out of memory: NULL and ENOMEM, plain and reentrant */
    errno = 0;
    CHECK(calloc(opaque_size(SIZE_MAX / 2), 4) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(opaque_size(SIZE_MAX / 2)) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(opaque_size(2u << 20)) == NULL && errno == ENOMEM); /* more than either region */
    _REENT->_errno = 0;
    CHECK(_malloc_r(_REENT, opaque_size(3u << 20)) == NULL && _REENT->_errno == ENOMEM);
    void *r = _malloc_r(_REENT, 33);
    CHECK(r != NULL);
    r = _realloc_r(_REENT, r, 77);
    CHECK(r != NULL);
    _free_r(_REENT, r);
    r = _calloc_r(_REENT, 3, 5);
    CHECK(r != NULL && ((unsigned char *)r)[14] == 0);
    _free_r(_REENT, r);
    r = _memalign_r(_REENT, 128, 10);
    CHECK(r != NULL && aligned(r, 128));
    _free_r(_REENT, r);

    /* alignment */
    void *m = memalign(64, 100);
    CHECK(m != NULL && aligned(m, 64));
    void *m2 = memalign(4096, 10000);
    CHECK(m2 != NULL && aligned(m2, 4096));
    void *m3 = memalign(48, 10); /* rounded up to 64, as newlib does */
    CHECK(m3 != NULL && aligned(m3, 64));
    free(m);
    free(m2);
    free(m3);
    void *pm = (void *)1;
    CHECK(posix_memalign(&pm, 256, 1000) == 0 && pm != NULL && aligned(pm, 256));
    free(pm);
    pm = (void *)1;
    CHECK(posix_memalign(&pm, 24, 10) == EINVAL && pm == (void *)1);
    CHECK(posix_memalign(&pm, 2, 10) == EINVAL && pm == (void *)1);
    CHECK(posix_memalign(&pm, 0, 10) == EINVAL && pm == (void *)1);
    CHECK(posix_memalign(&pm, 8, 0) == 0 && pm != NULL && pm != (void *)1);
    free(pm);
    void *aa = aligned_alloc(32, 64);
    CHECK(aa != NULL && aligned(aa, 32));
    free(aa);
    errno = 0;
    CHECK(aligned_alloc(24, 48) == NULL && errno == EINVAL);

    /* strdup goes through _malloc_r */
    char *s = strdup("hello, pageheap");
    CHECK(s != NULL && strcmp(s, "hello, pageheap") == 0);
    free(s);

    /* both regions: a block larger than region 1 comes from region 2 */
    unsigned char *big = malloc(200 * 1024);
    CHECK(big != NULL && in_range(big, test_heap2_start, test_heap2_end));
    if (big) {
        fill(big, 200 * 1024, 3);
        CHECK(verify(big, 200 * 1024, 3));
    }
    free(big);

    /* refused frees: reported through ph_board_fault, nothing else changes */
    ph_stats s0, s1;
    unsigned char *q = malloc(100);
    void *q_again = opaque(q);
    CHECK(q != NULL);
    ph_get_stats(h, &s0);
    unsigned long f0 = ph_test_faults.count;
    free(opaque(q + 8)); /* interior pointer */
    CHECK(ph_test_faults.count == f0 + 1 && ph_test_faults.last_code == PH_FAULT_BAD_POINTER);
    int local;
    free(opaque(&local)); /* in no region */
    CHECK(ph_test_faults.count == f0 + 2 && ph_test_faults.last_code == PH_FAULT_BAD_POINTER);
    CHECK(realloc(opaque(q + 16), 10) == NULL);
    CHECK(ph_test_faults.count == f0 + 3);
    ph_get_stats(h, &s1);
    CHECK(s1.faults == s0.faults + 3 && s1.pages_free == s0.pages_free);
    free(q);
    free(q_again); /* double free */
    CHECK(ph_test_faults.count == f0 + 4 && ph_test_faults.last_code == PH_FAULT_DOUBLE_FREE);
    CHECK(ph_check(h) == PH_OK);

    /* the lock masks interrupts and restores the mask it found */
    void *l = malloc(10);
    CHECK(primask() == 0);
    __asm__ volatile("cpsid i" ::: "memory");
    free(l);
    l = malloc(20);
    CHECK(primask() == 1);
    __asm__ volatile("cpsie i" ::: "memory");
    free(l);
    CHECK(primask() == 0);
}

/* ---- 3. random allocations ------------------------------------------------ */

#define SLOTS 64
#define OPS 20000

static uint32_t rng_state = 0x2545F491u;

static uint32_t rnd(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static size_t random_size(void)
{
    uint32_t k = rnd() % 100;
    if (k < 70)
        return 1 + rnd() % 256;
    if (k < 95)
        return 257 + rnd() % (4096 - 256);
    return 4097 + rnd() % (65536 - 4096);
}

static void test_random(const ph_stats *base)
{
    ph_heap *h = ph_newlib_heap();
    if (h == NULL)
        return;
    static struct {
        unsigned char *p;
        size_t n;
        unsigned tag;
    } slot[SLOTS];
    size_t peak = 0, allocs = 0, reallocs = 0, frees = 0, nulls = 0, bad = 0;
    unsigned checks_failed = 0;
    ph_stats s;

    for (unsigned op = 0; op < OPS; op++) {
        unsigned i = rnd() % SLOTS;
        if (slot[i].p == NULL) {
            size_t n = random_size();
            unsigned tag = rnd();
            unsigned kind = rnd() % 8;
            unsigned char *p;
            if (kind == 0) {
                p = calloc(1, n);
                for (size_t j = 0; p && j < n; j++)
                    bad += p[j] != 0;
            } else if (kind == 1) {
                size_t a = (size_t)8 << (rnd() % 8); /* 8 .. 1024 */
                p = memalign(a, n);
                bad += p != NULL && !aligned(p, a);
            } else {
                p = malloc(n);
            }
            if (p == NULL) {
                nulls++;
                continue;
            }
            bad += !aligned(p, 8) || malloc_usable_size(p) < n;
            fill(p, n, tag);
            slot[i].p = p;
            slot[i].n = n;
            slot[i].tag = tag;
            allocs++;
        } else if (rnd() % 4 == 0) {
            size_t n = random_size();
            unsigned char *p = realloc(slot[i].p, n);
            if (p == NULL) {
                nulls++; /* the old object is untouched */
                bad += !verify(slot[i].p, slot[i].n, slot[i].tag);
                continue;
            }
            bad += !verify(p, n < slot[i].n ? n : slot[i].n, slot[i].tag);
            fill(p, n, slot[i].tag);
            slot[i].p = p;
            slot[i].n = n;
            reallocs++;
        } else {
            bad += !verify(slot[i].p, slot[i].n, slot[i].tag);
            free(slot[i].p);
            slot[i].p = NULL;
            frees++;
        }
        ph_get_stats(h, &s);
        if (pages_used(&s) > peak)
            peak = pages_used(&s);
        if (op % 1000 == 999 && ph_check(h) != PH_OK)
            checks_failed++;
    }
    for (unsigned i = 0; i < SLOTS; i++) {
        if (slot[i].p != NULL) {
            bad += !verify(slot[i].p, slot[i].n, slot[i].tag);
            free(slot[i].p);
            slot[i].p = NULL;
            frees++;
        }
    }
    ph_scavenge(h, 0); /* the empty-span cache back */
    ph_get_stats(h, &s);
    printf("newlib-test: random: %u ops, %u allocs, %u reallocs, %u frees, %u out of memory; "
           "peak %u pages in use (stdio %u)\n",
           OPS, (unsigned)allocs, (unsigned)reallocs, (unsigned)frees, (unsigned)nulls,
           (unsigned)peak, (unsigned)pages_used(base));
    CHECK(bad == 0);
    CHECK(checks_failed == 0);
    CHECK(allocs > OPS / 4);
    CHECK(peak > pages_used(base));
    CHECK(ph_check(h) == PH_OK);
    /* every page free again but stdio's */
    CHECK(s.pages_free == base->pages_free);
    CHECK(s.small_spans == base->small_spans);
    CHECK(s.large_objects == base->large_objects);
}

/* ---- 4. scavenge and acquire again -------------------------------------- */

static void test_scavenge(void)
{
    ph_heap *h = ph_newlib_heap();
    if (h == NULL)
        return;
    size_t released = ph_scavenge(h, SIZE_MAX);
    ph_stats s0, s1;
    ph_get_stats(h, &s0);
    CHECK(released > 0 && s0.granules_released > 0 && ph_test_releases > 0);
    unsigned char *big = malloc(300 * 1024); /* region 2, released granules */
    CHECK(big != NULL && in_range(big, test_heap2_start, test_heap2_end));
    if (big) {
        fill(big, 300 * 1024, 9);
        CHECK(verify(big, 300 * 1024, 9));
    }
    ph_get_stats(h, &s1);
    CHECK(s1.acquire_calls > s0.acquire_calls && ph_test_acquires == s1.acquire_calls);
    free(big);
    CHECK(ph_check(h) == PH_OK);

    /* calloc of released memory: this port's release keeps the contents
     * (the 9s written above), so only the zeroing makes it zero */
    CHECK(ph_scavenge(h, SIZE_MAX) > 0);
    uint32_t *zeroed = calloc(1, 250 * 1024);
    CHECK(zeroed != NULL);
    int all_zero = 1;
    for (size_t i = 0; zeroed && i < 250 * 1024 / 4; i++)
        all_zero &= zeroed[i] == 0;
    CHECK(all_zero);
    free(zeroed);

    /* alignments beyond the page size, from a page run */
    void *a16k = memalign(16384, 100);
    CHECK(a16k != NULL && aligned(a16k, 16384));
    void *a64k = aligned_alloc(65536, 70000);
    CHECK(a64k != NULL && aligned(a64k, 65536) && malloc_usable_size(a64k) >= 70000);
    free(a16k);
    free(a64k);
    CHECK(ph_check(h) == PH_OK);
    printf("newlib-test: scavenge released %u bytes (%u granules), a 300 KiB malloc "
           "acquired %u bytes back\n",
           (unsigned)released, (unsigned)s0.granules_released,
           (unsigned)(s1.bytes_acquired - s0.bytes_acquired));
}

int main(void)
{
    test_stdio();
    ph_heap *h = ph_newlib_heap();
    ph_stats base;
    /* ph_scavenge(h, 0) gives the empty-span cache back (and releases
     * nothing), so two snapshots compare the pages objects hold. */
    if (h != NULL) {
        ph_scavenge(h, 0);
        ph_get_stats(h, &base);
    }
    test_names();
    if (h != NULL) {
        ph_stats after;
        ph_scavenge(h, 0);
        ph_get_stats(h, &after);
        CHECK(after.pages_free == base.pages_free);
        test_random(&base);
    }
    test_scavenge();

    if (h != NULL) {
        ph_stats s;
        ph_get_stats(h, &s);
        printf("newlib-test: end: %u of %u pages free, %u released, %u faults, "
               "_malloc_r called %lu times in all\n",
               (unsigned)s.pages_free, (unsigned)s.pages_total, (unsigned)s.pages_released,
               (unsigned)s.faults, ph_newlib_calls.malloc_r);
    }
    if (failures != 0) {
        printf("newlib-test: FAIL (%u checks failed)\n", failures);
        return 1;
    }
    printf("newlib-test: PASS\n");
    return 0;
}
