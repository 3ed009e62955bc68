/* SPDX-License-Identifier: MIT */
/*
 * test_lanes.c: the run index's word tricks and its search, against loops.
 *
 * The run index (core/src/ph_tree.h) keeps a 7-bit value per byte lane of
 * a word and answers "first lane >= n" and "largest lane" with whole-word
 * operations.  Here:
 *   - lanes_ge, lane_first, lanes_from, lanes_max and
 *     lanes_top, and on a word of a level (a machine word, or a 16-byte
 *     vector with SSE2) word_top, word_ge, flags_first and flags_from,
 *     against byte loops, on random words of 7-bit lanes (and words of
 *     equal lanes, zeros, the cap) for every n in 1..128;
 *   - region_find (the first-fit search, over the cap too) against a naive
 *     scan of the region's allocation bitmap for every n in 1..3W + 5,
 *     after each step of a random sequence of page allocations and frees
 *     in regions of several sizes (one chunk, a partial last chunk, enough
 *     chunks for three levels), with ph_check after every step;
 *   - ph_check finds a changed chunk value, a changed byte of the top
 *     level and a changed PH_TOP_STOP (the word that ends the top scan).
 */
#include "ph_test_util.h"

#include "ph_tree.h"

#define W PH_WORD_BITS

static unsigned lane(ph_word_t x, unsigned i)
{
    uint8_t b[sizeof(ph_word_t)];
    memcpy(b, &x, sizeof b);
    return b[i];
}

static ph_word_t random_lanes(rng_t *r)
{
    uint8_t b[sizeof(ph_word_t)];
    unsigned kind = (unsigned)rng_below(r, 4);
    for (unsigned i = 0; i < sizeof b; i++) {
        switch (kind) {
        case 0: b[i] = (uint8_t)rng_below(r, 128); break;          /* anything */
        case 1: b[i] = (uint8_t)rng_below(r, W + 1); break;        /* values */
        case 2: b[i] = rng_pct(r, 50) ? 0 : (uint8_t)W; break;     /* 0 or the cap */
        default: b[i] = (uint8_t)(rng_pct(r, 70) ? 0 : rng_below(r, 8)); break;
        }
    }
    ph_word_t x;
    memcpy(&x, b, sizeof x);
    return x;
}

#define WL ((unsigned)sizeof(ph_word_t)) /* lanes of a machine word */

/* t without the flag of its first lane: walks the flags lanes_ge set. */
static ph_word_t lane_drop_first(ph_word_t t)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return t & ~((ph_word_t)1 << (PH_WORD_BITS - 1 - ph_clz(t)));
#else
    return t & (t - 1);
#endif
}

static void check_word(ph_word_t x)
{
    unsigned top = 0;
    for (unsigned i = 0; i < WL; i++)
        if (lane(x, i) > top)
            top = lane(x, i);
    assert_int_equal(lanes_top(x), top);
    for (unsigned n = 1; n <= 128; n++) {
        ph_word_t t = lanes_ge(x, n);
        for (unsigned i = 0; i < WL; i++) {
            /* lanes_from(t, i): the flags of lanes i and above only */
            ph_word_t u = lanes_from(lanes_ge(x, n), i);
            for (unsigned j = i; j < WL; j++) {
                if (lane(x, j) >= n) {
                    assert_true(u != 0);
                    assert_int_equal(lane_first(u), j);
                    u = lane_drop_first(u);
                }
            }
            assert_true(u == 0);
            if (lane(x, i) >= n) {
                assert_true(t != 0);
                assert_int_equal(lane_first(t), i);
                t = lane_drop_first(t);
            }
        }
        assert_true(t == 0);
    }
}

/* A word of a level (PH_LANES bytes: a machine word, or a vector):
 * word_top, word_ge, flags_first and flags_from against byte loops. */
static void check_level_word(const uint8_t *g)
{
    unsigned top = 0;
    for (unsigned i = 0; i < PH_LANES; i++)
        if (g[i] > top)
            top = g[i];
    assert_int_equal(word_top(g), top);
    for (unsigned n = 1; n <= 128; n++) {
        for (unsigned i = 0; i < PH_LANES; i++) {
            ph_flags_t u = flags_from(word_ge(g, n), i);
            unsigned want = PH_LANES;
            for (unsigned j = i; j < PH_LANES && want == PH_LANES; j++)
                if (g[j] >= n)
                    want = j;
            if (want == PH_LANES) {
                assert_true(u == 0);
            } else {
                assert_true(u != 0);
                assert_int_equal(flags_first(u), want);
            }
        }
    }
}

static void check_words(const ph_word_t *w)
{
    union {
        ph_word_t w[(PH_LANES + WL - 1) / WL];
        uint8_t b[PH_LANES];
    } g;
    for (unsigned i = 0; i < (PH_LANES + WL - 1) / WL; i++) {
        check_word(w[i]);
        g.w[i] = w[i];
    }
    check_level_word(g.b);
}

static void test_lane_ops(void **state)
{
    (void)state;
    rng_t r;
    ph_word_t w[(PH_LANES + WL - 1) / WL];
    unsigned nw = (PH_LANES + WL - 1) / WL;
    rng_seed(&r, test_seed("lanes", 0x1a2e5));
    for (unsigned i = 0; i < nw; i++)
        w[i] = 0;
    check_words(w);
    for (unsigned i = 0; i < nw; i++)
        w[i] = LANE_LO * 127u;
    check_words(w);
    for (unsigned i = 0; i < nw; i++)
        w[i] = LANE_LO * (ph_word_t)W;
    check_words(w);
    for (size_t k = 0; k < scaled(20000); k++) {
        ph_word_t a = random_lanes(&r), b = random_lanes(&r), m = lanes_max(a, b);
        for (unsigned i = 0; i < WL; i++)
            assert_int_equal(lane(m, i), lane(a, i) > lane(b, i) ? lane(a, i) : lane(b, i));
        w[0] = a;
        for (unsigned i = 1; i < nw; i++)
            w[i] = rng_pct(&r, 50) ? b : random_lanes(&r);
        check_words(w);
    }
}

/* first[n]: the first page of a run of n free pages in r, by scanning the
 * bitmap once (SIZE_MAX if none), for n in 1..max. */
static void naive_first(const struct ph_region *r, size_t *first, size_t max)
{
    size_t p = 0;
    for (size_t n = 1; n <= max; n++)
        first[n] = SIZE_MAX;
    while (p < r->npages) {
        size_t start = p;
        while (p < r->npages && ((r->alloc[p / W] >> (p % W)) & 1u) == 0)
            p++;
        for (size_t n = 1; n <= max && n <= p - start; n++)
            if (first[n] == SIZE_MAX)
                first[n] = start;
        p++;
    }
}

static void search_region(size_t pages, uint64_t seed)
{
    const size_t page = 64;
    size_t bytes = (pages + pages / 4 + 64) * page;
    void *mem = aligned_alloc(page, bytes);
    ph_heap h;
    rng_t r;
    struct { void *p; size_t n; } live[512];
    size_t nlive = 0, want[3 * W + 6];

    assert_non_null(mem);
    rng_seed(&r, seed);
    assert_int_equal(ph_init(&h, page, NULL), PH_OK);
    assert_int_equal(ph_add_region(&h, mem, bytes, 0), PH_OK);
    const struct ph_region *reg = h.regions_[0];
    for (size_t step = 0; step < scaled(1500); step++) {
        bool grow = nlive == 0 || (nlive < 512 && rng_pct(&r, 55));
        if (grow) {
            size_t n = rng_pct(&r, 85) ? 1 + rng_below(&r, W) : 1 + rng_below(&r, 3 * W);
            void *p = ph_page_alloc(&h, n);
            if (p != NULL) {
                live[nlive].p = p;
                live[nlive++].n = n;
            }
        } else {
            size_t i = rng_below(&r, nlive);
            /* free the whole run, or a part of it at either end */
            size_t n = live[i].n, k = rng_pct(&r, 30) ? 1 + rng_below(&r, n) : n;
            if (k == n) {
                ph_page_free(&h, live[i].p, n);
                live[i] = live[--nlive];
            } else if (rng_pct(&r, 50)) {
                ph_page_free(&h, live[i].p, k);
                live[i].p = (char *)live[i].p + k * page;
                live[i].n = n - k;
            } else {
                ph_page_free(&h, (char *)live[i].p + (n - k) * page, k);
                live[i].n = n - k;
            }
        }
        assert_int_equal(ph_check(&h), PH_OK);
        naive_first(reg, want, 3 * W + 5);
        for (size_t n = 1; n <= 3 * W + 5; n++)
            if (region_find(reg, n) != want[n])
                fail_msg("region of %zu pages, step %zu: first fit of %zu pages at %zu, "
                         "the bitmap says %zu", pages, step, n, region_find(reg, n), want[n]);
    }
    free(mem);
}

static void test_search(void **state)
{
    (void)state;
    uint64_t seed = test_seed("lanes-search", 0x5ea4c);
    search_region(W - 3, seed);               /* one partial chunk */
    search_region(5 * W + 7, seed + 1);       /* a partial last chunk, one level */
    search_region(100 * W, seed + 2);         /* two levels (one with vectors) */
    search_region(PH_TOP_WORDS * PH_LANES * W + W, seed + 3); /* just past one level */
    search_region(PH_LANES * PH_LANES * (PH_TOP_WORDS + 1) * W + W / 2, seed + 4); /* three */
}

/* One byte (or the stop word) of the index changed: ph_check reports it
 * with `code`, and passes again once it is put back. */
static void expect_corrupt(ph_heap *h, uint8_t *byte, int code)
{
    uint8_t was = *byte;
    *byte = (uint8_t)(was ^ 1u);
    assert_int_equal(ph_check(h), code);
    *byte = was;
    assert_int_equal(ph_check(h), PH_OK);
}

static void test_check_index(void **state)
{
    (void)state;
    const size_t page = 64, pages = PH_LANES * PH_LANES * 2 * W; /* two levels or more */
    size_t bytes = (pages + pages / 4 + 64) * page;
    void *mem = aligned_alloc(page, bytes);
    ph_heap h;

    assert_non_null(mem);
    assert_int_equal(ph_init(&h, page, NULL), PH_OK);
    assert_int_equal(ph_add_region(&h, mem, bytes, 0), PH_OK);
    assert_non_null(ph_page_alloc(&h, 3));
    assert_non_null(ph_page_alloc(&h, W + 5));
    struct ph_region *reg = h.regions_[0];
    uint32_t top = reg->nlevels - 1;
    assert_true(top >= 1);
    assert_int_equal(ph_check(&h), PH_OK);
    expect_corrupt(&h, &reg->lv[0][1], PH_CHECK_LEAF);
    expect_corrupt(&h, &reg->lv[top][0], PH_CHECK_TREE);
    expect_corrupt(&h, &reg->lv[top][reg->top_words * PH_LANES], PH_CHECK_TREE);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lane_ops),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_check_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
