/* SPDX-License-Identifier: MIT */
/*
 * test_chunk.c: the one-word chunk operations.
 *
 * ph_word_first_run, ph_word_max_run and ph_region_inner (the run index's
 * longest run touching neither end of a word) answer questions about the
 * free (0) bits of one bitmap word with word-wide tricks; here each is
 * compared with a loop over the bits, on
 *   - every 16-bit pattern placed at the low end, the high end and across the
 *     middle of the word, with the rest of the word used or free;
 *   - every word with one free run and every word with two free runs;
 *   - named patterns (0, all ones, alternating, ...) and random words of
 *     several densities and run-length structures.
 */
#include "ph_test_util.h"

#include "ph_internal.h"

#define W PH_WORD_BITS

/* ---- naive models -------------------------------------------------------- */

static bool used_bit(ph_word_t w, unsigned i)
{
    return ((w >> i) & 1u) != 0;
}

/* First run of n free bits, by scanning one bit at a time; W if none. */
static unsigned naive_first_run(ph_word_t used, unsigned n)
{
    unsigned run = 0;
    for (unsigned i = 0; i < W; i++) {
        run = used_bit(used, i) ? 0 : run + 1;
        if (run == n)
            return i + 1 - n;
    }
    return W;
}

/* first[n] for every n in 1..W in one pass: the start of the first run
 * that reaches n free bits.  Cross-checked against naive_first_run below. */
static void naive_first_runs(ph_word_t used, unsigned first[W + 1])
{
    unsigned run = 0;
    for (unsigned n = 0; n <= W; n++)
        first[n] = W;
    for (unsigned i = 0; i < W; i++) {
        run = used_bit(used, i) ? 0 : run + 1;
        if (run > 0 && first[run] == W)
            first[run] = i + 1 - run;
    }
}

/* Longest free run of w, and the longest touching neither end (bit 0 nor
 * bit W - 1), by one pass over the bits. */
static void naive_runs(ph_word_t w, unsigned *max, unsigned *inner)
{
    unsigned run = 0;

    *max = *inner = 0;
    for (unsigned i = 0; i < W; i++) {
        if (!used_bit(w, i)) {
            run++;
            if (run > *max)
                *max = run;
            continue;
        }
        if (run > 0 && run < i && run > *inner) /* ended here, began after bit 0 */
            *inner = run;
        run = 0;
    }
}

static unsigned naive_max_run(ph_word_t w)
{
    unsigned max, inner;
    naive_runs(w, &max, &inner);
    return max;
}

static unsigned naive_inner(ph_word_t w)
{
    unsigned max, inner;
    naive_runs(w, &max, &inner);
    return inner;
}

/* ---- the word check ------------------------------------------------------- */

static size_t words_checked;

/* Every chunk operation agrees with the loops on used. */
static void check_word(ph_word_t used)
{
    unsigned first[W + 1];
    unsigned long long v = (unsigned long long)used;

    naive_first_runs(used, first);
    for (unsigned n = 1; n <= W; n++) {
        unsigned got = ph_word_first_run(used, n);
        if (got != first[n])
            fail_msg("ph_word_first_run(%#llx, %u) = %u, expected %u", v, n, got, first[n]);
    }
    unsigned mr = naive_max_run(used);
    if (ph_word_max_run(used) != mr)
        fail_msg("ph_word_max_run(%#llx) = %u, expected %u", v, ph_word_max_run(used), mr);
    unsigned in = naive_inner(used);
    if (ph_region_inner(used) != in)
        fail_msg("ph_region_inner(%#llx) = %u, expected %u", v, ph_region_inner(used), in);
    words_checked++;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_naive_models_agree(void **state)
{
    (void)state;
    /* the one-pass model is checked against the plain one on random words */
    rng_t r;
    rng_seed(&r, test_seed("chunk/naive_models", 0xC0FFEE01ULL));
    for (int k = 0; k < 20000; k++) {
        ph_word_t w = (ph_word_t)rng_next(&r);
        if (k & 1)
            w &= (ph_word_t)rng_next(&r) & (ph_word_t)rng_next(&r);
        unsigned first[W + 1];
        naive_first_runs(w, first);
        for (unsigned n = 1; n <= W; n++)
            assert_int_equal(first[n], naive_first_run(w, n));
    }
}

static void test_named_patterns(void **state)
{
    (void)state;
    const ph_word_t ones = PH_WORD_ONES;
    const ph_word_t alt = (ph_word_t)0x5555555555555555ULL; /* even bits used */

    /* spelled-out expectations for the extremes */
    assert_int_equal(ph_word_first_run(0, 1), 0);
    assert_int_equal(ph_word_first_run(0, W), 0);
    assert_int_equal(ph_word_first_run(ones, 1), W);
    assert_int_equal(ph_word_max_run(0), W);
    assert_int_equal(ph_word_max_run(ones), 0);
    assert_int_equal(ph_region_inner(0), 0);    /* one run, touching both ends */
    assert_int_equal(ph_region_inner(ones), 0);
    /* alternating: every other page free, so runs of exactly one */
    assert_int_equal(ph_word_first_run(alt, 1), 1);
    assert_int_equal(ph_word_first_run(alt, 2), W);
    assert_int_equal(ph_word_first_run((ph_word_t)~alt, 1), 0);
    assert_int_equal(ph_word_max_run(alt), 1);
    assert_int_equal(ph_region_inner(alt), 1); /* the top page's run touches the end */
    /* only the top page free / only the bottom page free */
    assert_int_equal(ph_word_first_run(ones >> 1 , 1), W - 1);
    assert_int_equal(ph_word_first_run(ones << 1, 1), 0);
    assert_int_equal(ph_word_first_run(ones << 1, 2), W);
    assert_int_equal(ph_word_max_run(ones >> 1), 1);
    assert_int_equal(ph_region_inner(ones >> 1), 0);
    assert_int_equal(ph_region_inner(~((ph_word_t)1 << (W / 2))), 1); /* one free page inside */
    assert_int_equal(ph_region_inner((ph_word_t)1 | (ph_word_t)1 << (W - 1)), W - 2);

    const ph_word_t named[] = {
        0, ones, alt, (ph_word_t)~alt,
        (ph_word_t)0x3333333333333333ULL, (ph_word_t)0xCCCCCCCCCCCCCCCCULL,
        (ph_word_t)0x0F0F0F0F0F0F0F0FULL, (ph_word_t)0xF0F0F0F0F0F0F0F0ULL,
        (ph_word_t)0x00FF00FF00FF00FFULL, (ph_word_t)0xFF00FF00FF00FF00ULL,
        (ph_word_t)0x0000FFFF0000FFFFULL, (ph_word_t)0xFFFF0000FFFF0000ULL,
        (ph_word_t)0x00000000FFFFFFFFULL, (ph_word_t)0xFFFFFFFF00000000ULL,
        (ph_word_t)0x8000000000000001ULL, (ph_word_t)0x7FFFFFFFFFFFFFFEULL,
        (ph_word_t)0x0123456789ABCDEFULL, (ph_word_t)0xFEDCBA9876543210ULL,
        1, (ph_word_t)1 << (W - 1), ones >> 1, ones << 1, ones >> (W / 2), ones << (W / 2),
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        check_word(named[i]);
    for (unsigned i = 0; i < W; i++) {
        check_word((ph_word_t)1 << i);              /* one used page   */
        check_word((ph_word_t)~((ph_word_t)1 << i)); /* one free page   */
        check_word(ones << i);                      /* free low end    */
        check_word(ones >> i);                      /* free high end   */
    }
}

/* Every 16-bit pattern, at four places in the word, with the rest used and
 * with the rest free. */
static void test_exhaustive_16bit_windows(void **state)
{
    (void)state;
    const unsigned shifts[] = {0, W / 2 - 8, W - 16, 7};
    for (size_t si = 0; si < sizeof shifts / sizeof shifts[0]; si++) {
        unsigned sh = shifts[si];
        ph_word_t window = (ph_word_t)0xFFFFu << sh;
        for (uint32_t p = 0; p <= 0xFFFFu; p++) {
            ph_word_t pat = (ph_word_t)p << sh;
            check_word(pat | (ph_word_t)~window); /* rest used */
            check_word(pat);                      /* rest free */
        }
    }
}

/* Every word with exactly one free run and every word with exactly two. */
static void test_exhaustive_runs(void **state)
{
    (void)state;
    for (unsigned s1 = 0; s1 < W; s1++) {
        for (unsigned l1 = 1; s1 + l1 <= W; l1++) {
            ph_word_t one = (ph_word_t)~ph_mask_range(s1, s1 + l1);
            check_word(one);
            /* the spelled-out answers for one run */
            assert_int_equal(ph_word_max_run(one), l1);
            assert_int_equal(ph_word_first_run(one, l1), s1);
            if (l1 < W)
                assert_int_equal(ph_word_first_run(one, l1 + 1), W);
            for (unsigned s2 = s1 + l1 + 1; s2 < W; s2++) {
                for (unsigned l2 = 1; s2 + l2 <= W; l2++) {
                    ph_word_t two = one & (ph_word_t)~ph_mask_range(s2, s2 + l2);
                    check_word(two);
                }
            }
        }
    }
    print_message("[ info     ] %zu words checked so far\n", words_checked);
}

static ph_word_t random_runs_word(rng_t *r, unsigned max_run)
{
    /* alternating used and free runs of random lengths */
    ph_word_t w = 0;
    unsigned i = 0;
    bool used = rng_pct(r, 50);
    while (i < W) {
        unsigned len = (unsigned)rng_range(r, 1, max_run);
        if (len > W - i)
            len = W - i;
        if (used)
            w |= ph_mask_range(i, i + len);
        i += len;
        used = !used;
    }
    return w;
}

static void test_random_words(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("chunk/random_words", 0xC4C4C4C4ULL));
    size_t n = scaled(300000);
    for (size_t k = 0; k < n; k++) {
        ph_word_t w;
        switch (k % 5) {
        case 0: w = (ph_word_t)rng_next(&r); break;
        case 1: w = (ph_word_t)(rng_next(&r) & rng_next(&r) & rng_next(&r)); break; /* mostly free */
        case 2: w = (ph_word_t)(rng_next(&r) | rng_next(&r) | rng_next(&r)); break; /* mostly used */
        case 3: w = random_runs_word(&r, 8); break;
        default: w = random_runs_word(&r, W); break;
        }
        check_word(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_naive_models_agree),
        cmocka_unit_test(test_named_patterns),
        cmocka_unit_test(test_exhaustive_16bit_windows),
        cmocka_unit_test(test_exhaustive_runs),
        cmocka_unit_test(test_random_words),
    };
    return cmocka_run_group_tests_name("chunk", tests, NULL, NULL);
}
