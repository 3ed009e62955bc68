/* SPDX-License-Identifier: MIT */
/*
 * ph_chunk.c: runs of free pages inside one chunk (one bitmap word).
 *
 * Both questions (the first run of n pages, the longest run) are answered
 * with whole-word operations in
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
    return ph_word_first_run_inline(used, n);
}

/* Longest run by doubling then halving: O(log W) steps whatever the word. */
unsigned ph_word_max_run_doubling(ph_word_t x)
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

unsigned ph_word_max_run(ph_word_t used)
{
    return ph_word_max_run_inline(used);
}
