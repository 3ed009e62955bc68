/* SPDX-License-Identifier: MIT */
/*
 * ph_chunk.c: runs of free pages inside one chunk (one bitmap word).
 *
 * All three questions are answered with whole-word operations in
 * O(log W) steps, never a bit-by-bit loop:
 *
 *   x_k, the set of bit positions where a free run of at least k pages
 *   starts, obeys x_(a+s) = x_a & (x_a >> s) for s <= a: a run of a+s pages
 *   at i is a run of a pages at i overlapping one of a pages at i+s.
 *   Doubling k finds the first run of n pages in ceil(log2 n) steps, and
 *   doubling then halving finds the longest run in 2*log2(W) steps.
 */
#include "ph_internal.h"

unsigned ph_word_first_run(ph_word_t used, unsigned n)
{
    ph_word_t x = ~used; /* starts of runs of >= 1 free page */
    unsigned have = 1;

    while (have < n && x != 0) {
        unsigned step = have < n - have ? have : n - have;
        x &= x >> step;
        have += step;
    }
    return x != 0 ? ph_ctz(x) : PH_WORD_BITS;
}

/* Longest run by doubling then halving: O(log W) steps whatever the word. */
static unsigned max_run_doubling(ph_word_t x)
{
    ph_word_t pow[PH_WORD_LOG2]; /* pow[j]: starts of runs >= 2^j pages */
    unsigned j = 0, len;
    ph_word_t cur;

    /* The caller passes a word that is neither empty nor full, so runs are
     * shorter than W, 2^j stays below W and every shift is in range. */
    pow[0] = x;
    for (;;) {
        ph_word_t next = pow[j] & (pow[j] >> (1u << j));
        if (next == 0)
            break;
        pow[++j] = next;
    }
    len = 1u << j;
    cur = pow[j];
    while (j-- > 0) {
        ph_word_t next = cur & (pow[j] >> len);
        if (next != 0) {
            cur = next;
            len += 1u << j;
        }
    }
    return len;
}

/* Runs visited one by one before switching to doubling: a chunk usually
 * holds a few holes, and visiting each costs a handful of instructions. */
#define PH_MAX_RUN_VISITS 4

unsigned ph_word_max_run(ph_word_t used)
{
    ph_word_t x = ~used;
    unsigned best = 0, visits;

    if (x == PH_WORD_ONES)
        return PH_WORD_BITS;
    for (visits = 0; x != 0; visits++) {
        unsigned start, len;
        ph_word_t from_start;
        if (visits == PH_MAX_RUN_VISITS) {
            len = max_run_doubling(x);
            return len > best ? len : best;
        }
        start = ph_ctz(x);
        from_start = ~(x >> start); /* 0 bits: the run, then the rest */
        len = from_start != 0 ? ph_ctz(from_start) : PH_WORD_BITS - start;
        if (len > best)
            best = len;
        if (start + len >= PH_WORD_BITS)
            break;
        x &= ~ph_mask_below(start + len);
    }
    return best;
}

ph_sum ph_word_summary(ph_word_t used)
{
    ph_sum s;
    if (used == 0) {
        s.start = s.max = s.end = PH_WORD_BITS;
    } else {
        s.start = ph_ctz(used);
        s.end = ph_clz(used);
        s.max = ph_word_max_run(used);
    }
    return s;
}
