/* SPDX-License-Identifier: MIT */
/* Boundary-tag allocator policies simulated on the pageheap "small" trace
 * (bench/target/bench.c's generator, seed 1, sizes uniform 16..512 B,
 * LIVE warm-up mallocs then 1e6 measured ops; LIVE = 745 is the 256 KiB
 * trace, 186 the 64 KiB one of netduinoplus2).
 * 32-bit layout: 4 B header per chunk, chunk = max(16, round8(req + 4)).
 * The figure of merit is the smallest heap that serves the trace divided by
 * the peak live bytes.  With the top used last that is the high-water mark
 * of the top (an allocation grows the heap only when no free chunk fits, so
 * a heap of exactly that size makes the same decisions); a policy that
 * carves the top first depends on the heap size, so its smallest heap is
 * found by bisection (as bench.c's footprint search does).
 *
 *   sim MODE [LIVE [SEED]]  one policy (sim list; C<N>: A in N-byte arenas)
 *   sim table         every policy on both traces, as a markdown table
 *   sim seeds [N]     every policy on both live targets, seeds 1..N: mean, worst
 *   sim list          the policies */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the trace: bench/target/bench.c's generator -------------------------- */

#define OPS 1000000u

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *st, uint32_t n)
{
    uint64_t r = rng_next(st);
    uint64_t lo = (uint64_t)(uint32_t)r * n, hi = (r >> 32) * n;
    return (uint32_t)((hi + (lo >> 32)) >> 32);
}

typedef struct op {
    uint32_t slot, size; /* size 0: free the slot's object */
} op;

static op *trace;
static uint32_t ntrace, nslots, peak_live, peak_obj;
static uint32_t peak_chunk; /* peak bytes of live chunks: a compacting allocator's floor */

static uint32_t chunk_bytes(uint32_t req)
{
    uint32_t bytes = (req + 4 + 7) & ~7u;
    return bytes < 16 ? 16 : bytes;
}

static void make_trace(uint32_t live_target, uint64_t seed)
{
    uint32_t max_slots = 2u * live_target + 64u;
    uint32_t *live = calloc(max_slots, 4), *freeslot = calloc(max_slots, 4);
    uint32_t *size = calloc(max_slots, 4);
    uint64_t rng = seed;
    uint32_t nlive = 0, nfree = 0, lb = 0, cb = 0;

    free(trace);
    trace = malloc((live_target + OPS) * sizeof *trace);
    ntrace = nslots = peak_live = peak_obj = peak_chunk = 0;
    for (uint32_t i = 0; i < live_target + OPS; i++) {
        bool dm = true;
        if (i >= live_target) {
            int64_t thr = ((int64_t)1 << 52) + ((int64_t)live_target - (int64_t)nlive) * ((int64_t)1 << 47);
            dm = nlive == 0 || (int64_t)(rng_next(&rng) >> 11) < thr;
        }
        if (dm) {
            uint32_t sz = 16 + rng_below(&rng, 512 - 16 + 1);
            uint32_t s = nfree ? freeslot[--nfree] : nslots++;
            size[s] = sz;
            live[nlive++] = s;
            lb += sz;
            cb += chunk_bytes(sz);
            if (lb > peak_live)
                peak_live = lb;
            if (cb > peak_chunk)
                peak_chunk = cb;
            if (nlive > peak_obj)
                peak_obj = nlive;
            trace[ntrace++] = (op){ s, sz };
        } else {
            uint32_t k = rng_below(&rng, nlive), s = live[k];
            live[k] = live[--nlive];
            freeslot[nfree++] = s;
            lb -= size[s];
            cb -= chunk_bytes(size[s]);
            trace[ntrace++] = (op){ s, 0 };
        }
    }
    free(live);
    free(freeslot);
    free(size);
}

/* ---- policies ---------------------------------------------------------------- */

enum order { LIFO, FIFO, ADDR, LOWHEAD };   /* where a freed chunk joins an exact list */
enum above { HEAD, BEST, HIGHEST, LOWEST };         /* which chunk when the exact list is empty */

typedef struct policy {
    const char *name, *what;
    enum order order;
    enum above above;     /* HEAD: head of the first non-empty list above;
                           * BEST: its smallest chunk (lowest address on ties);
                           * (exact lists above: their head, unless sorted);
                           * HIGHEST: head of the last non-empty list (worst fit);
                           * LOWEST: lowest address on the first non-empty list */
    uint32_t exact_max;   /* largest exact-list chunk, granules (0: 65 = 520 B) */
    uint32_t split_min;   /* smallest remainder split off, granules (0: 2 = 16 B) */
    uint32_t round;       /* chunk size granularity, granules (0: 1 = 8 B) */
    bool dv;              /* dlmalloc: exact or 8 B bigger list, else the last split's
                           * remainder ("designated victim"), else split, remainder -> dv */
    bool defer;           /* a freed chunk waits in the dv slot until the next free
                           * (used only before the top): time to join a neighbour */
    bool top_first;       /* on an exact miss, carve the top before the lists */
    bool carve_end;       /* a split hands out the chunk's end, the remainder stays low */
    bool first_fit;       /* B: address-ordered first fit over all free chunks */
    uint32_t arena;       /* C<N>: N-byte arenas, no top (granules) */
} policy;

static const policy policies[] = {
    { "A", "exact LIFO lists (<= 512 B), best fit above, top", .above = BEST, .exact_max = 64 },
    { "B", "address-ordered first fit over all free chunks, top", .first_fit = true },
    { "L", "today: exact LIFO (<= 520 B), head of the next non-empty list (4 per doubling above), top",
      .order = LIFO },
    { "O", "address-ordered best fit: exact lists sorted by address, smallest-lowest above, top",
      .order = ADDR, .above = BEST },
    { "F", "L with FIFO exact lists", .order = FIFO },
    { "D", "dlmalloc small bins: exact, 8 B bigger whole, last remainder (dv), next list -> dv", .dv = true },
    { "T", "L with the top carved before the lists on an exact miss (wilderness preservation off)",
      .top_first = true },
    { "S", "L, no 16 B splinters: whole chunk when the remainder is < 24 B", .split_min = 3 },
    { "H", "L, freed chunk goes second when the head is at a lower address", .order = LOWHEAD },
    { "W", "L, worst fit: head of the highest non-empty list", .above = HIGHEST },
    { "E", "L, a split hands out the chunk's high end", .carve_end = true },
    { "G", "L with 16 B chunk granularity", .round = 2 },
    { "Q", "L, the last freed chunk is reused only when nothing else fits", .defer = true },
    { "M", "L, an exact miss takes the lowest-addressed chunk of the next non-empty list (not O(1))",
      .above = LOWEST },
    { "AT", "A + T: best fit above the exact lists, the top before the lists", .above = BEST,
      .top_first = true },
    { "FS", "F + S: FIFO exact lists, no 16 B splinters", .order = FIFO, .split_min = 3 },
    { "OS", "O + S: address-ordered best fit, no 16 B splinters", .order = ADDR, .above = BEST,
      .split_min = 3 },
    { "FD", "F + D: FIFO exact lists and dlmalloc's dv", .order = FIFO, .dv = true },
};
#define NPOL (sizeof policies / sizeof policies[0])

static policy P;

/* ---- the heap: granules of 8 B --------------------------------------------------- */

#define HG (1u << 20)          /* heap granules (8 MiB) */
#define NL 128                 /* lists: exact ones by granules, then 4 per doubling */
#define NIL 0xffffffffu
static uint32_t csz[HG];       /* chunk size in granules at the chunk's start */
static uint8_t isfree[HG];
static uint32_t endfree[HG];   /* start + 1 at the last granule of a free chunk */
static uint32_t nx[HG], pv[HG];
static uint32_t head[NL], tail[NL];
static uint64_t lmap[NL / 64]; /* non-empty lists */
static uint64_t fbits[HG / 64]; /* free chunk starts, for B */
static uint32_t top, hw, cap, dv;
static uint32_t narena, peak_arena;
static uint8_t arena_used[HG];
static uint64_t c_exact, c_split, c_whole, c_grow, c_mallocs, c_frees, c_co[3], c_rel;

static unsigned list_of(uint32_t g)
{
    if (g <= P.exact_max)
        return g;
    uint32_t s = g * 8, fl = 31u - (uint32_t)__builtin_clz(s);
    return 66u + (fl - 9u) * 4u + ((s >> (fl - 2u)) & 3u);
}

/* The first non-empty list from i on (NL when none), or the last one. */
static unsigned map_first(unsigned i)
{
    for (unsigned w = i / 64; w < NL / 64; w++) {
        uint64_t m = lmap[w] & (w == i / 64 ? ~0ull << (i % 64) : ~0ull);
        if (m)
            return w * 64 + (unsigned)__builtin_ctzll(m);
    }
    return NL;
}

static unsigned map_last(void)
{
    for (unsigned w = NL / 64; w-- > 0;)
        if (lmap[w])
            return w * 64 + 63u - (unsigned)__builtin_clzll(lmap[w]);
    return NL;
}

static void mark_free(uint32_t c)
{
    isfree[c] = 1;
    endfree[c + csz[c] - 1] = c + 1;
    fbits[c >> 6] |= 1ull << (c & 63);
}

static void mark_used(uint32_t c)
{
    isfree[c] = 0;
    endfree[c + csz[c] - 1] = 0;
    fbits[c >> 6] &= ~(1ull << (c & 63));
}

/* c into list b after a (NIL: at the head) */
static void link_after(unsigned b, uint32_t a, uint32_t c)
{
    uint32_t n = a == NIL ? head[b] : nx[a];
    pv[c] = a;
    nx[c] = n;
    if (a == NIL)
        head[b] = c;
    else
        nx[a] = c;
    if (n == NIL)
        tail[b] = c;
    else
        pv[n] = c;
    lmap[b / 64] |= 1ull << (b % 64);
}

/* the free chunk c onto its list, placed as the policy says */
static void fl_ins(uint32_t c)
{
    unsigned b = list_of(csz[c]);
    uint32_t a = NIL;

    mark_free(c);
    if (head[b] != NIL && b <= P.exact_max) {
        if (P.order == FIFO)
            a = tail[b];
        else if (P.order == LOWHEAD && head[b] < c)
            a = head[b];
        else if (P.order == ADDR)
            for (uint32_t x = head[b]; x != NIL && x < c; x = nx[x])
                a = x;
    }
    link_after(b, a, c);
}

static void fl_del(uint32_t c)
{
    unsigned b = list_of(csz[c]);

    mark_used(c);
    if (pv[c] != NIL)
        nx[pv[c]] = nx[c];
    else
        head[b] = nx[c];
    if (nx[c] != NIL)
        pv[nx[c]] = pv[c];
    else
        tail[b] = pv[c];
    if (head[b] == NIL)
        lmap[b / 64] &= ~(1ull << (b % 64));
}

/* a free remainder: the designated victim (old one back on its list) or its list */
static void put_remainder(uint32_t r, bool as_dv)
{
    if (!as_dv) {
        fl_ins(r);
        return;
    }
    if (dv != NIL)
        fl_ins(dv);
    dv = r;
    mark_free(r);
}

/* need granules of the free chunk c (on no list, marked in use) */
static uint32_t carve(uint32_t c, uint32_t need, bool count, bool rem_dv)
{
    uint32_t g = csz[c];

    if (g - need < P.split_min) {
        if (count && g == need)
            c_exact++;
        else if (count)
            c_whole++;
        return c;
    }
    if (count)
        c_split++;
    uint32_t u = c, r = c + need;
    if (P.carve_end) {
        u = c + g - need;
        r = c;
    }
    csz[u] = need;
    csz[r] = g - need;
    put_remainder(r, rem_dv);
    return u;
}

static uint32_t alloc_arena(void)
{
    uint32_t a = 0;
    while (arena_used[a])
        a++;
    arena_used[a] = 1;
    if (++narena > peak_arena)
        peak_arena = narena;
    if ((a + 1) * P.arena > hw)
        hw = (a + 1) * P.arena;
    csz[a * P.arena] = P.arena;
    return a * P.arena;
}

/* the smallest chunk of at least need granules on list k (lowest address on ties) */
static uint32_t best_on(unsigned k, uint32_t need)
{
    uint32_t best = NIL;
    for (uint32_t c = head[k]; c != NIL; c = nx[c])
        if (csz[c] >= need && (best == NIL || csz[c] < csz[best] || (csz[c] == csz[best] && c < best)))
            best = c;
    return best;
}

/* the lowest-addressed chunk of at least need granules on list k */
static uint32_t lowest_on(unsigned k, uint32_t need)
{
    uint32_t low = NIL;
    for (uint32_t c = head[k]; c != NIL; c = nx[c])
        if (csz[c] >= need && c < low)
            low = c;
    return low;
}

/* A free chunk of at least need granules off the lists (NIL: none). */
static uint32_t list_take(uint32_t need, unsigned from)
{
    unsigned k = P.above == HIGHEST ? map_last() : map_first(from);
    for (; k < NL; k = map_first(k + 1)) {
        uint32_t c = P.above == LOWEST    ? lowest_on(k, need)
                     : P.above == BEST && (k > P.exact_max || P.order == ADDR) ? best_on(k, need)
                                                                              : head[k];
        if (c != NIL && csz[c] >= need) {
            fl_del(c);
            return c;
        }
    }
    return NIL;
}

static uint32_t from_top(uint32_t need)
{
    uint32_t c = top;
    c_grow++;
    top += need;
    if (top > hw)
        hw = top;
    csz[c] = need;
    return c;
}

static uint32_t first_fit(uint32_t need)
{
    for (uint32_t w = 0; w <= (top >> 6) && w < HG / 64; w++)
        for (uint64_t m = fbits[w]; m; m &= m - 1) {
            uint32_t c = w * 64 + (uint32_t)__builtin_ctzll(m);
            if (csz[c] >= need) {
                fl_del(c);
                return carve(c, need, true, false);
            }
        }
    return NIL;
}

/* A chunk for req bytes: its first granule, NIL when the heap is full. */
static uint32_t sim_malloc(uint32_t req)
{
    uint32_t need = (chunk_bytes(req) / 8 + P.round - 1) / P.round * P.round, c;
    unsigned b;

    c_mallocs++;
    if (P.first_fit) {
        if ((c = first_fit(need)) != NIL)
            return c;
    } else {
        b = list_of(need);
        if (need <= P.exact_max && head[b] != NIL) { /* exact */
            c = head[b];
            fl_del(c);
            c_exact++;
            return c;
        }
        if (P.dv && need + 1 <= P.exact_max && head[b + 1] != NIL) { /* 8 B bigger, whole */
            c = head[b + 1];
            fl_del(c);
            return carve(c, need, true, false);
        }
        if (P.dv && !P.defer && dv != NIL && csz[dv] >= need) {
            c = dv;
            dv = NIL;
            mark_used(c);
            return carve(c, need, true, true);
        }
        if (P.top_first && P.arena == 0 && top + need <= cap)
            return from_top(need);
        if ((c = list_take(need, need <= P.exact_max ? b + 1 : b)) != NIL)
            return carve(c, need, true, P.dv && !P.defer);
        if (P.defer && dv != NIL && csz[dv] >= need) {
            c = dv;
            dv = NIL;
            mark_used(c);
            return carve(c, need, true, false);
        }
    }
    if (P.arena) {
        c_grow++;
        return carve(alloc_arena(), need, false, false);
    }
    if (top + need > cap)
        return NIL;
    return from_top(need);
}

/* unlinks the free neighbour x (its list, or the dv); true when it was the dv */
static bool take_neighbour(uint32_t x)
{
    if (x == dv) {
        dv = NIL;
        mark_used(x);
        return true;
    }
    fl_del(x);
    return false;
}

static void sim_free(uint32_t c)
{
    uint32_t g = csz[c], n = 0, lo = 0, hi = top;
    bool was_dv = false;

    c_frees++;
    if (P.arena) {
        lo = c / P.arena * P.arena;
        hi = lo + P.arena;
    }
    if (c > lo && endfree[c - 1]) {
        uint32_t p = endfree[c - 1] - 1;
        was_dv |= take_neighbour(p);
        csz[p] += g;
        c = p;
        g = csz[c];
        n++;
    }
    if (c + g < hi && isfree[c + g]) {
        uint32_t q = c + g;
        was_dv |= take_neighbour(q);
        csz[c] += csz[q];
        g = csz[c];
        n++;
    } else if (!P.arena && c + g == top) {
        top = c;
        c_co[n + 1 > 2 ? 2 : n + 1]++;
        return;
    }
    c_co[n]++;
    if (P.arena && g == P.arena) {
        arena_used[c / P.arena] = 0;
        narena--;
        c_rel++;
        return;
    }
    if (was_dv || P.defer) { /* a chunk joined to the dv (or deferred) is the dv */
        if (P.defer && !was_dv && dv != NIL)
            fl_ins(dv);
        dv = c;
        mark_free(c);
    } else {
        fl_ins(c);
    }
}

/* ---- runs ------------------------------------------------------------------- */

static uint32_t ptr[1u << 16];

/* Replays the trace in a heap of cap_g granules; false at the first failure. */
static bool run(const policy *pol, uint32_t cap_g)
{
    P = *pol;
    if (!P.exact_max)
        P.exact_max = 65;
    if (!P.split_min)
        P.split_min = 2;
    if (!P.round)
        P.round = 1;
    memset(isfree, 0, sizeof isfree);
    memset(endfree, 0, sizeof endfree);
    memset(fbits, 0, sizeof fbits);
    memset(arena_used, 0, sizeof arena_used);
    memset(lmap, 0, sizeof lmap);
    for (int i = 0; i < NL; i++)
        head[i] = tail[i] = NIL;
    top = hw = narena = peak_arena = 0;
    cap = cap_g;
    dv = NIL;
    c_exact = c_split = c_whole = c_grow = c_mallocs = c_frees = c_rel = 0;
    memset(c_co, 0, sizeof c_co);
    for (uint32_t i = 0; i < ntrace; i++) {
        if (trace[i].size == 0) {
            sim_free(ptr[trace[i].slot]);
        } else if ((ptr[trace[i].slot] = sim_malloc(trace[i].size)) == NIL) {
            return false;
        }
        if (top > HG - 1024) {
            fprintf(stderr, "heap overflow\n");
            exit(1);
        }
    }
    return true;
}

/* The smallest heap (granules) that serves the trace; the last run is it. */
static uint32_t min_heap(const policy *pol)
{
    if (!pol->top_first) { /* top last: the high-water mark */
        run(pol, HG);
        return hw;
    }
    uint32_t lo = peak_live / 8, hi = lo * 2;
    while (!run(pol, hi))
        lo = hi, hi += hi / 2;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (run(pol, mid))
            hi = mid;
        else
            lo = mid;
    }
    run(pol, hi);
    return hi;
}

static double pct(uint64_t n)
{
    return 100.0 * (double)n / (double)c_mallocs;
}

static void one(const policy *pol, const char *label)
{
    double ext = (double)min_heap(pol) * 8, r = ext / peak_live;

    printf("%-7s live=%u peak_live=%u peak_obj=%u extent=%.0f ratio=%.4f ratio+bitmap=%.4f floor=%.4f", label,
           ntrace - OPS, peak_live, peak_obj, ext, r, ext * (1 + 1.0 / 64) / peak_live,
           (double)peak_chunk / peak_live);
    if (pol->arena)
        printf(" peak_arenas=%u released=%llu", peak_arena, (unsigned long long)c_rel);
    printf("\n  mallocs=%llu exact=%.4f split=%.4f whole-larger=%.4f grow=%.4f | frees=%llu "
           "coalesce0=%.4f 1=%.4f 2=%.4f\n",
           (unsigned long long)c_mallocs, pct(c_exact) / 100, pct(c_split) / 100, pct(c_whole) / 100,
           pct(c_grow) / 100, (unsigned long long)c_frees, (double)c_co[0] / c_frees,
           (double)c_co[1] / c_frees, (double)c_co[2] / c_frees);
}

static void table(void)
{
    static const uint32_t lives[2] = { 745, 186 };
    double ratio[NPOL][2], ex[NPOL][2], sp[NPOL][2], wh[NPOL][2], gr[NPOL][2];

    for (int t = 0; t < 2; t++) {
        make_trace(lives[t], 1);
        fprintf(stderr, "live %u: peak live %u B, %u objects; peak live chunks %u B (%.4f)\n", lives[t],
                peak_live, peak_obj, peak_chunk, (double)peak_chunk / peak_live);
        for (unsigned p = 0; p < NPOL; p++) {
            ratio[p][t] = (double)min_heap(&policies[p]) * 8 / peak_live;
            ex[p][t] = pct(c_exact);
            sp[p][t] = pct(c_split);
            wh[p][t] = pct(c_whole);
            gr[p][t] = pct(c_grow);
        }
    }
    printf("| policy | 256 KiB (745) | 64 KiB (186) | exact / split / whole / top %%, 745 | "
           "exact / split / whole / top %%, 186 |\n|---|---|---|---|---|\n");
    for (unsigned p = 0; p < NPOL; p++) {
        printf("| %s | %.4f | %.4f |", policies[p].name, ratio[p][0], ratio[p][1]);
        for (int t = 0; t < 2; t++)
            printf(" %.1f / %.1f / %.1f / %.2f |", ex[p][t], sp[p][t], wh[p][t], gr[p][t]);
        printf("\n");
    }
}

/* The same policies over seeds 1..n (other traces from the same generator):
 * mean and worst ratio, and the mean difference from L on the same trace
 * with its standard error, to tell a policy's merit from seed 1's luck. */
static void seeds(uint32_t n)
{
    static const uint32_t lives[2] = { 745, 186 };
    static double sum[NPOL][2], worst[NPOL][2], dsum[NPOL][2], dsq[NPOL][2];
    unsigned l = 0;

    while (strcmp(policies[l].name, "L"))
        l++;
    for (int t = 0; t < 2; t++)
        for (uint32_t s = 1; s <= n; s++) {
            double r[NPOL];
            make_trace(lives[t], s);
            for (unsigned p = 0; p < NPOL; p++) {
                r[p] = (double)min_heap(&policies[p]) * 8 / peak_live;
                sum[p][t] += r[p];
                if (r[p] > worst[p][t])
                    worst[p][t] = r[p];
            }
            for (unsigned p = 0; p < NPOL; p++) {
                dsum[p][t] += r[p] - r[l];
                dsq[p][t] += (r[p] - r[l]) * (r[p] - r[l]);
            }
        }
    printf("| policy | mean 745 | worst 745 | vs L 745 | mean 186 | worst 186 | vs L 186 |\n"
           "|---|---|---|---|---|---|---|\n");
    for (unsigned p = 0; p < NPOL; p++) {
        printf("| %s |", policies[p].name);
        for (int t = 0; t < 2; t++) {
            double m = dsum[p][t] / n, var = dsq[p][t] / n - m * m;
            printf(" %.4f | %.4f | %+.4f ± %.4f |", sum[p][t] / n, worst[p][t], m,
                   var > 0 ? sqrt(var / (n - 1)) : 0.0);
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sim MODE [LIVE [SEED]] | table | seeds [N] | list\n");
        return 2;
    }
    if (!strcmp(argv[1], "list")) {
        for (unsigned p = 0; p < NPOL; p++)
            printf("%-3s %s\n", policies[p].name, policies[p].what);
        return 0;
    }
    if (!strcmp(argv[1], "table")) {
        table();
        return 0;
    }
    if (!strcmp(argv[1], "seeds")) {
        seeds(argc > 2 ? (uint32_t)atoi(argv[2]) : 20u);
        return 0;
    }
    policy pol = policies[0]; /* C<N>: A in N-byte arenas */
    if (argv[1][0] == 'C') {
        pol.arena = (uint32_t)atoi(argv[1] + 1) / 8;
    } else {
        unsigned p = 0;
        while (p < NPOL && strcmp(policies[p].name, argv[1]))
            p++;
        if (p == NPOL) {
            fprintf(stderr, "sim: no policy %s (sim list)\n", argv[1]);
            return 2;
        }
        pol = policies[p];
    }
    make_trace(argc > 2 ? (uint32_t)atoi(argv[2]) : 745u, argc > 3 ? strtoull(argv[3], NULL, 0) : 1u);
    one(&pol, argv[1]);
    return 0;
}
