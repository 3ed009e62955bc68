/* SPDX-License-Identifier: MIT */
/*
 * test_chunk.c: the one-word chunk operations and the summary merge.
 *
 * ph_word_first_run, ph_word_max_run and ph_word_summary answer questions
 * about the free (0) bits of one bitmap word with word-wide tricks; here each
 * is compared with a loop over the bits, on
 *   - every 16-bit pattern placed at the low end, the high end and across the
 *     middle of the word, with the rest of the word used or free;
 *   - every word with one free run and every word with two free runs;
 *   - named patterns (0, all ones, alternating, ...) and random words of
 *     several densities and run-length structures.
 * ph_sum_merge is compared with the summary of the concatenated bit arrays:
 * exhaustively for short children, randomly for long ones, and as a whole
 * binary tree of word summaries, node by node, up to 64 words.
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

static ph_sum naive_sum_bits(const uint8_t *used, size_t len)
{
    ph_sum s = {0, 0, 0};
    size_t i, run = 0, max = 0;
    for (i = 0; i < len && !used[i]; i++)
        ;
    s.start = (uint32_t)i;
    for (i = len; i > 0 && !used[i - 1]; i--)
        ;
    s.end = (uint32_t)(len - i);
    for (i = 0; i < len; i++) {
        run = used[i] ? 0 : run + 1;
        if (run > max)
            max = run;
    }
    s.max = (uint32_t)max;
    return s;
}

static void word_to_bits(ph_word_t w, uint8_t *out)
{
    for (unsigned i = 0; i < W; i++)
        out[i] = used_bit(w, i);
}

static ph_sum naive_summary(ph_word_t w)
{
    uint8_t b[W];
    word_to_bits(w, b);
    return naive_sum_bits(b, W);
}

static unsigned naive_max_run(ph_word_t w)
{
    return naive_summary(w).max;
}

#define SUM_FMT "(start %u, max %u, end %u)"
#define SUM_ARGS(s) (unsigned)(s).start, (unsigned)(s).max, (unsigned)(s).end

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
    ph_sum want = naive_summary(used), got = ph_word_summary(used);
    if (!ph_sum_eq(got, want))
        fail_msg("ph_word_summary(%#llx) = " SUM_FMT ", expected " SUM_FMT, v, SUM_ARGS(got),
                 SUM_ARGS(want));
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
    ph_sum s = ph_word_summary(0);
    assert_int_equal(s.start, W);
    assert_int_equal(s.max, W);
    assert_int_equal(s.end, W);
    s = ph_word_summary(ones);
    assert_int_equal(s.start, 0);
    assert_int_equal(s.max, 0);
    assert_int_equal(s.end, 0);
    /* alternating: every other page free, so runs of exactly one */
    assert_int_equal(ph_word_first_run(alt, 1), 1);
    assert_int_equal(ph_word_first_run(alt, 2), W);
    assert_int_equal(ph_word_first_run((ph_word_t)~alt, 1), 0);
    assert_int_equal(ph_word_max_run(alt), 1);
    s = ph_word_summary(alt);
    assert_int_equal(s.start, 0);
    assert_int_equal(s.end, 1);
    /* only the top page free / only the bottom page free */
    assert_int_equal(ph_word_first_run(ones >> 1 , 1), W - 1);
    assert_int_equal(ph_word_first_run(ones << 1, 1), 0);
    assert_int_equal(ph_word_first_run(ones << 1, 2), W);
    s = ph_word_summary(ones >> 1);
    assert_int_equal(s.start, 0);
    assert_int_equal(s.max, 1);
    assert_int_equal(s.end, 1);

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

/* ---- ph_sum_merge ------------------------------------------------------------ */

/* Merges the naive summaries of bits[0, len) and bits[len, 2*len) and
 * compares with the naive summary of bits[0, 2*len). */
static void check_merge(const uint8_t *bits, size_t len)
{
    ph_sum l = naive_sum_bits(bits, len);
    ph_sum r = naive_sum_bits(bits + len, len);
    ph_sum want = naive_sum_bits(bits, 2 * len);
    ph_sum got = ph_sum_merge(l, r, (uint32_t)len);
    if (!ph_sum_eq(got, want)) {
        char buf[1024];
        size_t k = 0;
        for (size_t i = 0; i < 2 * len && k + 2 < sizeof buf; i++) {
            if (i == len)
                buf[k++] = '|';
            buf[k++] = bits[i] ? '#' : '.';
        }
        buf[k] = 0;
        fail_msg("ph_sum_merge(" SUM_FMT ", " SUM_FMT ", %zu) = " SUM_FMT ", expected " SUM_FMT
                 " for %s",
                 SUM_ARGS(l), SUM_ARGS(r), len, SUM_ARGS(got), SUM_ARGS(want), buf);
    }
}

static void test_merge_exhaustive(void **state)
{
    (void)state;
    uint8_t bits[16];
    for (size_t len = 1; len <= 7; len++) {
        for (uint32_t p = 0; p < (1u << (2 * len)); p++) {
            for (size_t i = 0; i < 2 * len; i++)
                bits[i] = (p >> i) & 1u;
            check_merge(bits, len);
        }
    }
}

static void test_merge_random(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("chunk/merge_random", 0x3E7632ULL));
    enum { MAXLEN = 4 * W };
    uint8_t bits[2 * MAXLEN];
    size_t n = scaled(200000);
    for (size_t k = 0; k < n; k++) {
        size_t len = (k % 3 == 0) ? (size_t)W << rng_below(&r, 3) : rng_range(&r, 1, MAXLEN);
        unsigned mode = (unsigned)rng_below(&r, 5);
        for (size_t i = 0; i < 2 * len; i++) {
            switch (mode) {
            case 0: bits[i] = rng_pct(&r, 50); break;
            case 1: bits[i] = rng_pct(&r, 5); break;   /* long free runs */
            case 2: bits[i] = rng_pct(&r, 95); break;  /* short free runs */
            case 3: bits[i] = 0; break;                /* all free */
            default: bits[i] = i < len ? rng_pct(&r, 3) : rng_pct(&r, 97); break;
            }
        }
        /* sometimes make one side entirely free, the case that extends start/end */
        if (rng_pct(&r, 20))
            memset(bits + (rng_pct(&r, 50) ? 0 : len), 0, len);
        check_merge(bits, len);
    }
}

/* Large children whose page counts cannot be spelled as bit arrays. */
static void test_merge_large(void **state)
{
    (void)state;
    const uint32_t c = 1u << 30;
    ph_sum full = {c, c, c}, none = {0, 0, 0};
    ph_sum s = ph_sum_merge(full, full, c);
    assert_int_equal(s.start, 2u * c);
    assert_int_equal(s.max, 2u * c);
    assert_int_equal(s.end, 2u * c);
    ph_sum r = {5, 7, 3};
    s = ph_sum_merge(full, r, c);
    assert_int_equal(s.start, c + 5);
    assert_int_equal(s.max, c + 5);
    assert_int_equal(s.end, 3);
    s = ph_sum_merge(r, full, c);
    assert_int_equal(s.start, 5);
    assert_int_equal(s.max, c + 3);
    assert_int_equal(s.end, c + 3);
    s = ph_sum_merge(none, none, c);
    assert_true(ph_sum_eq(s, none));
    ph_sum a = {1, 100, 40}, b = {50, 60, 2};
    s = ph_sum_merge(a, b, c);
    assert_int_equal(s.start, 1);
    assert_int_equal(s.max, 100);
    assert_int_equal(s.end, 2);
    ph_sum a2 = {1, 80, 70};
    s = ph_sum_merge(a2, b, c);
    assert_int_equal(s.max, 120); /* the run across the boundary wins */
}

/* A whole tree over 2^k random words, merged bottom up as the region does:
 * every node equals the summary of the pages below it. */
static void test_merge_tree(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("chunk/merge_tree", 0x7EE7EEULL));
    enum { MAXK = 6, NW = 1 << MAXK };
    ph_word_t words[NW];
    uint8_t bits[NW * W];
    ph_sum node[2 * NW];
    size_t rounds = scaled(3000);
    for (size_t round = 0; round < rounds; round++) {
        unsigned k = (unsigned)(round % (MAXK + 1));
        size_t nw = (size_t)1 << k;
        for (size_t i = 0; i < nw; i++) {
            unsigned kind = (unsigned)rng_below(&r, 6);
            words[i] = kind == 0 ? 0
                     : kind == 1 ? PH_WORD_ONES
                     : kind == 2 ? (ph_word_t)~ph_mask_range(0, (unsigned)rng_range(&r, 1, W))
                     : kind == 3 ? (ph_word_t)~ph_mask_range((unsigned)rng_below(&r, W), W)
                     : kind == 4 ? random_runs_word(&r, W)
                                 : (ph_word_t)rng_next(&r);
            word_to_bits(words[i], bits + i * W);
            node[nw + i] = ph_word_summary(words[i]);
        }
        for (size_t v = nw - 1; v >= 1; v--) {
            /* level of v: its children cover child_len pages each */
            size_t depth_pages = W;
            for (size_t c = 2 * v; c < nw; c *= 2)
                depth_pages *= 2;
            node[v] = ph_sum_merge(node[2 * v], node[2 * v + 1], (uint32_t)depth_pages);
            /* node v covers pages [first, first + 2 * depth_pages) */
            size_t lo = v, span = 1;
            while (lo < nw) {
                lo *= 2;
                span *= 2;
            }
            size_t first = (lo - nw) * W;
            ph_sum want = naive_sum_bits(bits + first, span * W);
            if (!ph_sum_eq(node[v], want))
                fail_msg("tree of %zu words, node %zu (pages %zu..%zu): " SUM_FMT
                         ", expected " SUM_FMT,
                         nw, v, first, first + span * W, SUM_ARGS(node[v]), SUM_ARGS(want));
        }
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
        cmocka_unit_test(test_merge_exhaustive),
        cmocka_unit_test(test_merge_random),
        cmocka_unit_test(test_merge_large),
        cmocka_unit_test(test_merge_tree),
    };
    return cmocka_run_group_tests_name("chunk", tests, NULL, NULL);
}
