/* SPDX-License-Identifier: MIT */
/*
 * test_bits.c: the bit helpers of core/src/ph_bits.h.
 *
 * Count-trailing/leading-zero come in two flavours, the compiler builtin and
 * the portable binary search that a Cortex-M0 uses.  Both are compared with
 * an obviously correct one-bit-at-a-time loop: for every single-bit word,
 * for every prefix/suffix of ones, and for many random words of different
 * densities.  ph_ctz/ph_clz (whichever flavour this build selected) are
 * checked the same way, and ph_mask_below/ph_mask_range for every argument.
 */
#include "ph_test_util.h"

#include <limits.h>

#include "ph_internal.h"

#define W PH_WORD_BITS

static unsigned naive_ctz(ph_word_t x)
{
    unsigned n = 0;
    while ((x & 1u) == 0) {
        x >>= 1;
        n++;
    }
    return n;
}

static unsigned naive_clz(ph_word_t x)
{
    const ph_word_t top = (ph_word_t)1 << (W - 1);
    unsigned n = 0;
    while ((x & top) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

/* Every implementation agrees with the loop on x (x != 0). */
static void check_word(ph_word_t x)
{
    unsigned tz = naive_ctz(x), lz = naive_clz(x);
    unsigned long long v = (unsigned long long)x;

    if (ph_ctz_portable(x) != tz)
        fail_msg("ph_ctz_portable(%#llx) = %u, expected %u", v, ph_ctz_portable(x), tz);
    if (ph_clz_portable(x) != lz)
        fail_msg("ph_clz_portable(%#llx) = %u, expected %u", v, ph_clz_portable(x), lz);
#ifdef PH_HAVE_BUILTIN_BITS
    if (ph_ctz_builtin(x) != tz)
        fail_msg("ph_ctz_builtin(%#llx) = %u, expected %u", v, ph_ctz_builtin(x), tz);
    if (ph_clz_builtin(x) != lz)
        fail_msg("ph_clz_builtin(%#llx) = %u, expected %u", v, ph_clz_builtin(x), lz);
#endif
    if (ph_ctz(x) != tz)
        fail_msg("ph_ctz(%#llx) = %u, expected %u", v, ph_ctz(x), tz);
    if (ph_clz(x) != lz)
        fail_msg("ph_clz(%#llx) = %u, expected %u", v, ph_clz(x), lz);
}

static void test_word_parameters(void **state)
{
    (void)state;
    print_message("[ config   ] PH_WORD_BITS=%d builtin=%s selected=%s\n", W,
#ifdef PH_HAVE_BUILTIN_BITS
                  "yes",
#else
                  "no",
#endif
#if defined(PH_PORTABLE_BITS) || !defined(PH_HAVE_BUILTIN_BITS)
                  "portable"
#else
                  "builtin"
#endif
    );
    assert_int_equal(sizeof(ph_word_t) * CHAR_BIT, W);
    assert_int_equal(1u << PH_WORD_LOG2, W);
    assert_int_equal(PH_CHUNK_PAGES, W);
    assert_int_equal(1u << PH_CHUNK_LOG2, PH_CHUNK_PAGES);
    /* all ones: adding one wraps to zero, and every bit is set */
    assert_true((ph_word_t)(PH_WORD_ONES + 1u) == 0);
    assert_int_equal(naive_ctz(PH_WORD_ONES), 0);
    assert_int_equal(naive_clz(PH_WORD_ONES), 0);
}

static void test_single_bits(void **state)
{
    (void)state;
    for (unsigned i = 0; i < W; i++) {
        ph_word_t x = (ph_word_t)1 << i;
        /* the expected values are spelled out here, not only taken from the loop */
        assert_int_equal(ph_ctz_portable(x), i);
        assert_int_equal(ph_clz_portable(x), W - 1 - i);
#ifdef PH_HAVE_BUILTIN_BITS
        assert_int_equal(ph_ctz_builtin(x), i);
        assert_int_equal(ph_clz_builtin(x), W - 1 - i);
#endif
        assert_int_equal(ph_ctz(x), i);
        assert_int_equal(ph_clz(x), W - 1 - i);
        check_word(x);
    }
}

static void test_prefixes_and_suffixes(void **state)
{
    (void)state;
    for (unsigned i = 0; i < W; i++) {
        ph_word_t hi = PH_WORD_ONES << i; /* ones from bit i up   */
        ph_word_t lo = PH_WORD_ONES >> i; /* ones from bit 0 up   */
        assert_int_equal(ph_ctz_portable(hi), i);
        assert_int_equal(ph_clz_portable(hi), 0);
        assert_int_equal(ph_ctz_portable(lo), 0);
        assert_int_equal(ph_clz_portable(lo), i);
        check_word(hi);
        check_word(lo);
        /* two bits: the lower one decides ctz, the higher one clz */
        for (unsigned j = i + 1; j < W; j += 7) {
            ph_word_t x = ((ph_word_t)1 << i) | ((ph_word_t)1 << j);
            check_word(x);
        }
    }
}

static void test_random_words(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("bits/random_words", 0xB175B175ULL));
    size_t n = scaled(2000000);
    for (size_t k = 0; k < n; k++) {
        ph_word_t x = (ph_word_t)rng_next(&r);
        switch (k % 6) {
        case 0: break;                                                 /* dense   */
        case 1: x &= (ph_word_t)rng_next(&r); break;                   /* 1/4     */
        case 2: x &= (ph_word_t)rng_next(&r) & (ph_word_t)rng_next(&r); break;
        case 3: x >>= rng_below(&r, W); break;                         /* high zeros */
        case 4: x <<= rng_below(&r, W); break;                         /* low zeros  */
        case 5: x = (ph_word_t)1 << rng_below(&r, W); x |= x << rng_below(&r, W); break;
        }
        if (x == 0)
            x = (ph_word_t)1 << (k % W);
        check_word(x);
    }
}

static ph_word_t naive_mask(unsigned lo, unsigned hi)
{
    ph_word_t m = 0;
    for (unsigned i = lo; i < hi; i++)
        m |= (ph_word_t)1 << i;
    return m;
}

static void test_masks(void **state)
{
    (void)state;
    for (unsigned n = 0; n <= W; n++) {
        ph_word_t want = naive_mask(0, n);
        if (ph_mask_below(n) != want)
            fail_msg("ph_mask_below(%u) = %#llx, expected %#llx", n,
                     (unsigned long long)ph_mask_below(n), (unsigned long long)want);
    }
    assert_true(ph_mask_below(0) == 0);
    assert_true(ph_mask_below(W) == PH_WORD_ONES);
    for (unsigned lo = 0; lo <= W; lo++) {
        for (unsigned hi = lo; hi <= W; hi++) {
            ph_word_t want = naive_mask(lo, hi);
            ph_word_t got = ph_mask_range(lo, hi);
            if (got != want)
                fail_msg("ph_mask_range(%u, %u) = %#llx, expected %#llx", lo, hi,
                         (unsigned long long)got, (unsigned long long)want);
            /* the mask has exactly hi - lo bits */
            unsigned pop = 0;
            for (ph_word_t m = got; m; m &= m - 1)
                pop++;
            assert_int_equal(pop, hi - lo);
        }
    }
    assert_true(ph_mask_range(0, W) == PH_WORD_ONES);
    assert_true(ph_mask_range(W, W) == 0);
    assert_true(ph_mask_range(W - 1, W) == (ph_word_t)1 << (W - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_parameters),
        cmocka_unit_test(test_single_bits),
        cmocka_unit_test(test_prefixes_and_suffixes),
        cmocka_unit_test(test_random_words),
        cmocka_unit_test(test_masks),
    };
    return cmocka_run_group_tests_name("bits", tests, NULL, NULL);
}
