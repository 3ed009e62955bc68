/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h: what the host benchmark programs (page_bench, obj_bench,
 * scav_bench) share besides the callgrind bracket: the random numbers,
 * splitmix64, reproducible everywhere.
 */
#ifndef PH_BENCH_UTIL_H
#define PH_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (Lemire's multiply; the bias is below 2^-40). */
static inline size_t rng_below(uint64_t *state, size_t n)
{
    __extension__ typedef unsigned __int128 u128;
    return (size_t)(((u128)rng_next(state) * n) >> 64);
}

#endif /* PH_BENCH_UTIL_H */
