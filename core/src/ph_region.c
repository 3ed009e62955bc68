/* SPDX-License-Identifier: MIT */
/*
 * ph_region.c: one region's run index, the cold half: its size, bit ranges
 * over a region's bitmaps, building the index from the bitmap, the search
 * for runs over the cap, the exact longest run, and the out-of-line copies
 * of the hot half (ph_tree.h) for -Os builds.
 */
#include "ph_tree.h"

uint32_t ph_region_levels(size_t nchunks, size_t *sizes)
{
    uint32_t k = 0;
    size_t count = nchunks;

    for (;;) {
        size_t words = (count + PH_LANES - 1) >> PH_LANE_LOG2;
        if (sizes != NULL)
            sizes[k] = words;
        k++;
        if (words <= PH_TOP_WORDS)
            return k;
        count = words;
    }
}

size_t ph_region_meta_bytes(size_t npages, uint32_t page_shift)
{
    uint32_t anc = ph_anc_shift(page_shift), k, levels;
    size_t nchunks = (npages + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2;
    size_t sizes[PH_MAX_LEVELS];
    size_t bytes = ph_align_up(sizeof(struct ph_region), sizeof(ph_word_t));

    bytes += (3 * nchunks + 2) * sizeof(ph_word_t); /* alloc (with a word of
                                                       ones either side),
                                                       released, obj */
    bytes += ((nchunks + PH_CHUNK_PAGES - 1) >> PH_CHUNK_LOG2) * sizeof(ph_word_t); /* scav */
    levels = ph_region_levels(nchunks, sizes);
    for (k = 0; k < levels; k++)
        bytes += sizes[k] * PH_LANES; /* the run index */
    bytes += PH_LANES;                /* and its word of PH_TOP_STOP */
    bytes += nchunks;                          /* inner, a byte a chunk */
    bytes += npages;                           /* page map, a byte a page */
    if (anc != page_shift)                     /* anchors, a byte a block */
        bytes += npages << (page_shift - anc);
    return bytes;
}

/* Calls fn-like logic word by word over pages [first, first + n): the mask
 * of the bits of each word that the range covers. */
#define PH_FOR_RANGE(first, n, c, m, body)                                           \
    do {                                                                               \
        size_t last_ = (first) + (n) - 1;                                              \
        size_t c0_ = (first) >> PH_CHUNK_LOG2, c1_ = last_ >> PH_CHUNK_LOG2;          \
        unsigned lo_ = (unsigned)((first) & (PH_CHUNK_PAGES - 1));                     \
        unsigned hi_ = (unsigned)(last_ & (PH_CHUNK_PAGES - 1)) + 1;                   \
        for (c = c0_; c <= c1_; c++) {                                                 \
            m = ph_mask_range(c == c0_ ? lo_ : 0, c == c1_ ? hi_ : PH_CHUNK_PAGES);   \
            body                                                                       \
        }                                                                              \
    } while (0)

bool ph_bits_clear(const ph_word_t *words, size_t first, size_t n)
{
    size_t c;
    ph_word_t m;
    PH_FOR_RANGE(first, n, c, m, {
        if ((words[c] & m) != 0)
            return false;
    });
    return true;
}

bool ph_bits_set_range(const ph_word_t *words, size_t first, size_t n)
{
    size_t c;
    ph_word_t m;
    PH_FOR_RANGE(first, n, c, m, {
        if ((words[c] & m) != m)
            return false;
    });
    return true;
}

void ph_bits_fill(ph_word_t *words, size_t first, size_t n, bool value)
{
    size_t c;
    ph_word_t m;
    PH_FOR_RANGE(first, n, c, m, {
        if (value)
            words[c] |= m;
        else
            words[c] &= ~m;
    });
}

uint32_t ph_region_inner(ph_word_t used)
{
    return inner_of(used);
}

uint32_t ph_region_value(const struct ph_region *r, size_t c)
{
    return chunk_value(r, c);
}

void ph_region_rebuild(struct ph_region *r)
{
    size_t c, sizes[PH_MAX_LEVELS], j;
    uint32_t k;

    for (c = 0; c < r->nchunks; c++)
        r->inner[c] = (uint8_t)inner_of(r->alloc[c]);
    ph_region_levels(r->nchunks, sizes);
    for (c = 0; c < sizes[0] << PH_LANE_LOG2; c++)
        r->lv[0][c] = c < r->nchunks ? (uint8_t)chunk_value(r, c) : 0;
    for (k = 1; k < r->nlevels; k++)
        for (j = 0; j < sizes[k] << PH_LANE_LOG2; j++)
            r->lv[k][j] = j < sizes[k - 1] ? (uint8_t)word_top(level_at(r, k - 1, j)) : 0;
    for (j = 0; j < PH_LANES; j++)
        r->lv[r->nlevels - 1][((size_t)r->top_words << PH_LANE_LOG2) + j] = PH_TOP_STOP;
}

/* Length of the free run that begins at page p of r (p free), counted
 * until at least `enough`. */
static size_t run_from(const struct ph_region *r, size_t p, size_t enough)
{
    size_t c = p >> PH_CHUNK_LOG2, n;
    ph_word_t w = r->alloc[c] >> (p & (PH_CHUNK_PAGES - 1));

    if (w != 0)
        return ph_ctz(w);
    n = PH_CHUNK_PAGES - (p & (PH_CHUNK_PAGES - 1));
    for (c++; c < r->nchunks && n < enough; c++) {
        if (r->alloc[c] != 0)
            return n + ph_ctz(r->alloc[c]);
        n += PH_CHUNK_PAGES;
    }
    return n;
}

/* The first chunk at or after chunk c whose value is the cap, or SIZE_MAX:
 * up the levels from c until a word to the right holds a capped lane,
 * then down to its first one.  O(levels). */
static size_t next_capped(const struct ph_region *r, size_t c, const size_t *sizes)
{
    size_t j = c;
    uint32_t k = 0;
    ph_flags_t t;

    for (;;) {
        if ((j >> PH_LANE_LOG2) < sizes[k]) {
            t = flags_from(word_ge(level_at(r, k, j >> PH_LANE_LOG2), PH_RUN_CAP),
                           (unsigned)(j & (PH_LANES - 1))); /* lanes from j's on */
            if (t != 0) {
                j = (j & ~(size_t)(PH_LANES - 1)) + flags_first(t);
                break;
            }
        }
        if (k + 1 == r->nlevels) {
            /* the top level: on to its next word */
            j = (j | (PH_LANES - 1)) + 1;
            if ((j >> PH_LANE_LOG2) >= sizes[k])
                return SIZE_MAX;
            continue;
        }
        k++;
        j = (j >> PH_LANE_LOG2) + 1;
    }
    while (k-- > 0)
        j = (j << PH_LANE_LOG2) + flags_first(word_ge(level_at(r, k, j), PH_RUN_CAP));
    return j;
}

/* A walk over the runs that may be longer than the cap (the top run of a
 * chunk whose value is the cap), lowest first. */
struct long_runs {
    size_t sizes[PH_MAX_LEVELS]; /* words per level */
    size_t chunk;                /* where the next one is looked for */
};

/* The next such run: its first page in *p, its length counted until at
 * least `enough` in *len; false when there is none left. */
static bool next_long_run(const struct ph_region *r, struct long_runs *it, size_t enough,
                          size_t *p, size_t *len)
{
    size_t c = next_capped(r, it->chunk, it->sizes);
    ph_word_t w;

    if (c == SIZE_MAX)
        return false;
    w = r->alloc[c];
    *p = (c << PH_CHUNK_LOG2) + (w != 0 ? PH_WORD_BITS - ph_clz(w) : 0);
    *len = run_from(r, *p, enough);
    it->chunk = (*p + *len) >> PH_CHUNK_LOG2; /* where the run ends */
    return true;
}

size_t ph_region_find_long(const struct ph_region *r, size_t n)
{
    struct long_runs it;
    size_t p, len;

    ph_region_levels(r->nchunks, it.sizes);
    it.chunk = 0;
    while (next_long_run(r, &it, n, &p, &len))
        if (len >= n)
            return p;
    return SIZE_MAX;
}

size_t ph_region_longest(const struct ph_region *r)
{
    struct long_runs it;
    size_t p, len, best = 0, j, top = r->nlevels - 1;

    ph_region_levels(r->nchunks, it.sizes);
    for (j = 0; j < it.sizes[top]; j++) {
        size_t v = word_top(level_at(r, (uint32_t)top, j));
        if (v > best)
            best = v;
    }
    if (best < PH_RUN_CAP)
        return best;
    it.chunk = 0;
    while (next_long_run(r, &it, SIZE_MAX, &p, &len))
        if (len > best)
            best = len;
    return best;
}

/* The out-of-line copies of ph_tree.h that -Os builds call (ph_page.c);
 * optimising for speed, every caller inlines them and these would be dead
 * code in the library. */
#if defined(__OPTIMIZE_SIZE__)
void ph_region_mark(struct ph_region *r, size_t first, size_t npages, bool in_use, bool begins)
{
    region_mark(r, first, npages, in_use, begins);
}

int ph_region_free_checked(struct ph_region *r, size_t first, size_t npages)
{
    return region_free_checked(r, first, npages);
}

size_t ph_region_find(const struct ph_region *r, size_t n)
{
    return region_find(r, n);
}
#endif /* __OPTIMIZE_SIZE__ */
