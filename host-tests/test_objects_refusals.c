/* SPDX-License-Identifier: MIT */
/*
 * test_objects_refusals.c: every refusal of the object API (API.md
 * "Objects", pageheap.h "objects"), and its locking.
 *
 * A bad pointer given to ph_free, ph_realloc or ph_usable_size is refused
 * through the fault hook and changes nothing else:
 *   - the hook is called exactly once, with the right code
 *     (PH_FAULT_BAD_POINTER or PH_FAULT_DOUBLE_FREE) and the pointer that
 *     was passed in; ph_realloc returns NULL, ph_usable_size 0;
 *   - every ph_stats field but `faults` (+1), the ph_walk map, the contents
 *     and usable sizes of every live object stay as they were;
 *   - ph_check is PH_OK; the lock hooks are balanced and never nested, and
 *     the fault hook runs outside the lock.
 * Pointers: foreign memory (stack, libc heap, static, NULL-page), just
 * before / after / between the regions, region metadata, page API memory,
 * interior pointers (p + 1, p + PH_ALIGN, last byte, middle and later pages
 * of a large object, later pages of a multi-page chunk; every offset 1 ..
 * chunk - 1 of several live chunks), chunk headers, an arena's padding and
 * fence, one past an arena's last chunk, pointers into free chunks (at
 * every offset of one), objects freed already (arena alive, arena given
 * back, arena cached, large), free pages never allocated.
 *
 * Out of memory returns NULL and changes nothing, no fault.  Every entry
 * point takes the lock, balanced, never nested; a fault hook may call back
 * into the heap (it runs outside the lock).  An uninitialised heap refuses
 * everything quietly.
 */
#include "obj_util.h"

#include "ph_internal.h"

/* ---- fixture -------------------------------------------------------------------- */

#define NLIVE 32

typedef struct live {
    char *p;
    size_t usable;
    uint64_t id;
    const char *name;
} live;

typedef struct rfix {
    ph_heap h;
    tport t;
    size_t ps;
    char *buf;
    size_t buflen;
    ph_region_info A, B;
    live lv[NLIVE];
    size_t nlive;
    char *pg;                /* ph_page_alloc(2)                            */
    char *pg2;               /* ph_page_alloc(1), right after pr's arena    */
    char *s16[4];            /* 16 bytes: the first chunks of arena 1       */
    char *m1, *m2;           /* 100 bytes, around f1                        */
    char *sm;                /* 700 bytes: a chunk over several pages       */
    char *L;                 /* PH_SMALL_MAX + 300: a large object          */
    char *pr;                /* a chunk filling a 17-page arena exactly     */
    char *al64, *al1k;       /* aligned 64 (a chunk), 1024 (a page run)     */
    char *lb;                /* a large object in region B                  */
    char *f1;                /* freed, between m1 and m2                    */
    char *alone;             /* freed, its arena given back                 */
    char *cached;            /* freed, its arena empty in the cache         */
    char *fl;                /* freed large object                          */
    uintptr_t a1s, a1e;      /* arena 1 (s16..sm): start, end               */
    uintptr_t prs, pre;      /* pr's arena                                  */
    uintptr_t cas, cae;      /* the cached arena                            */
} rfix;

static rfix fx;

static char *fix_keep(rfix *f, char *p, const char *name)
{
    if (p == NULL)
        fail_msg("fixture: %s: allocation failed", name);
    live *l = &f->lv[f->nlive];
    l->p = p;
    l->usable = ph_usable_size(&f->h, p);
    l->id = 100 + f->nlive;
    l->name = name;
    pat_fill(p, l->usable, l->id);
    f->nlive++;
    return p;
}

static int fix_setup(void **state)
{
    (void)state;
    rfix *f = &fx;
    memset(f, 0, sizeof *f);
    pat_init();
    f->ps = 256;
    const size_t ps = f->ps;
    f->buflen = 1200 * ps;
    f->buf = (char *)xaligned(ps, f->buflen);
    memset(f->buf, 0x5A, f->buflen);
    tport_init(&f->t, true);
    if (ph_init(&f->h, ps, &f->t.port) != PH_OK)
        return -1;
    char *a = f->buf + 3 * ps + 40;  /* unaligned */
    size_t asz = 420 * ps + 100;
    char *b = a + asz + 7 * ps + 8;  /* a gap */
    size_t bsz = 720 * ps;
    if (b + bsz > f->buf + f->buflen)
        return -1;
    if (ph_add_region(&f->h, b, bsz, 0) != PH_OK || ph_add_region(&f->h, a, asz, 0) != PH_OK)
        return -1;
    if (ph_get_region(&f->h, 0, &f->A) != PH_OK || ph_get_region(&f->h, 1, &f->B) != PH_OK)
        return -1;
    if (f->A.raw_base != a || f->B.raw_base != b || f->A.npages < 400 || f->B.npages < 600)
        return -1;

    f->pg = (char *)ph_page_alloc(&f->h, 2);
    if (f->pg != f->A.base)
        return -1;
    pat_fill(f->pg, 2 * ps, 1);
    /* the default arena: 16 pages (4 KiB); chunks of FILL bytes fill one */
    const size_t FILL = 16 * ps - PH_ALIGN - PH_FIT_HDR;
    for (int i = 0; i < 4; i++)
        f->s16[i] = fix_keep(f, (char *)ph_malloc(&f->h, 16), "s16");
    f->m1 = fix_keep(f, (char *)ph_malloc(&f->h, 100), "m1");
    f->f1 = (char *)ph_malloc(&f->h, 100);
    f->m2 = fix_keep(f, (char *)ph_malloc(&f->h, 100), "m2");
    f->sm = fix_keep(f, (char *)ph_malloc(&f->h, 700), "sm");
    f->al64 = fix_keep(f, (char *)ph_aligned_alloc(&f->h, 64, 100), "al64");
    /* arenas that meet merge: a page API page after each arena keeps the
     * next one apart; the pages are freed below, leaving a free page
     * after arena 1 and after the cached arena */
    char *sep[3];
    sep[0] = (char *)ph_page_alloc(&f->h, 1);
    f->alone = (char *)ph_malloc(&f->h, FILL);
    sep[1] = (char *)ph_page_alloc(&f->h, 1);
    f->cached = (char *)ph_malloc(&f->h, FILL);
    sep[2] = (char *)ph_page_alloc(&f->h, 1);
    f->pr = fix_keep(f, (char *)ph_malloc(&f->h, 17 * ps - PH_ALIGN - PH_FIT_HDR), "pr");
    f->pg2 = (char *)ph_page_alloc(&f->h, 1);
    f->L = fix_keep(f, (char *)ph_malloc(&f->h, PH_SMALL_MAX + 300), "L");
    f->fl = (char *)ph_malloc(&f->h, PH_SMALL_MAX + 1);
    f->al1k = fix_keep(f, (char *)ph_aligned_alloc(&f->h, 1024, 50), "al1k");
    f->lb = fix_keep(f, (char *)ph_malloc(&f->h, 450 * ps), "lb");
    if (!f->f1 || !f->alone || !f->fl || !f->cached || !f->pg2 || !sep[0] || !sep[1] || !sep[2])
        return -1;
    pat_fill(f->pg2, ps, 2);
    /* where the arenas are (white box: the page map and the chunk headers) */
    uintptr_t s = 0, e = 0;
    if (!wb_arena_of(&f->h, f->s16[0], &f->a1s, &f->a1e) || f->s16[0] != (char *)f->a1s + PH_ALIGN ||
        f->a1s != (uintptr_t)f->A.base + 2 * ps || f->a1e != f->a1s + 16 * ps)
        return -1;
    if (sep[0] != (char *)f->a1e || !wb_arena_of(&f->h, f->alone, &s, &e) ||
        f->alone != (char *)s + PH_ALIGN || s != f->a1e + ps || e != s + 16 * ps ||
        sep[1] != (char *)e)
        return -1;
    if (!wb_arena_of(&f->h, f->cached, &f->cas, &f->cae) || f->cached != (char *)f->cas + PH_ALIGN ||
        f->cas != e + ps || f->cae != f->cas + 16 * ps || sep[2] != (char *)f->cae)
        return -1;
    if (!wb_arena_of(&f->h, f->pr, &f->prs, &f->pre) || f->pr != (char *)f->prs + PH_ALIGN ||
        f->prs != f->cae + ps || f->pre != f->prs + 17 * ps || f->pg2 != (char *)f->pre)
        return -1;
    if (!wb_arena_of(&f->h, f->sm, &s, &e) || s != f->a1s)
        return -1;
    for (int i = 0; i < 3; i++)
        ph_page_free(&f->h, sep[i], 1);
    ph_free(&f->h, f->f1);
    ph_free(&f->h, f->alone);
    ph_scavenge(&f->h, 0); /* alone's arena, cached empty, goes back */
    /* and arena 1's free tail: its whole pages go back too, so it ends
     * earlier now, with a free page after it */
    if (!wb_arena_of(&f->h, f->s16[0], &f->a1s, &f->a1e) || f->a1e > (uintptr_t)sep[0])
        return -1;
    ph_free(&f->h, f->fl);
    ph_free(&f->h, f->cached); /* the arena stays, empty, as the cached one */
    ph_stats st;
    ph_get_stats(&f->h, &st);
    if (st.cached_spans != 1 || st.cached_bytes != 16 * ps) {
        fprintf(stderr, "fixture: %zu cached arenas (%zu B), expected 1\n", st.cached_spans,
                st.cached_bytes);
        return -1;
    }
    if (wb_arena_of(&f->h, f->alone, &s, &e))
        return -1;
    /* where the layout must be for the cases below */
    if ((uintptr_t)f->lb < (uintptr_t)f->B.base ||
        (uintptr_t)f->L + PH_SMALL_MAX + 300 > (uintptr_t)f->A.base + f->A.npages * ps)
        return -1;
    if (f->t.faults != 0 || ph_check(&f->h) != PH_OK)
        return -1;
    return 0;
}

static int fix_teardown(void **state)
{
    (void)state;
    free(fx.buf);
    memset(&fx, 0, sizeof fx);
    return 0;
}

/* ---- snapshots -------------------------------------------------------------------- */

typedef struct snap {
    ph_stats st;
    walk_log w;
    size_t usable[NLIVE];
} snap;

static void snap_take(rfix *f, snap *s)
{
    ph_get_stats(&f->h, &s->st);
    walk_take(&f->h, &s->w);
    for (size_t i = 0; i < f->nlive; i++)
        s->usable[i] = ph_usable_size(&f->h, f->lv[i].p);
}

/* Nothing changed since `before` but faults (+faults_delta). */
static void snap_same(rfix *f, const snap *before, size_t faults_delta, const char *what)
{
    snap now;
    memset(&now, 0, sizeof now);
    snap_take(f, &now);
    stats_all_assert(&before->st, &now.st, faults_delta, what);
    walk_assert_equal(&before->w, &now.w, what);
    walk_free(&now.w);
    for (size_t i = 0; i < f->nlive; i++) {
        const live *l = &f->lv[i];
        if (now.usable[i] != before->usable[i])
            fail_msg("%s: usable size of %s changed: %zu -> %zu", what, l->name,
                     before->usable[i], now.usable[i]);
        PAT_CHECK(l->p, l->usable, l->id, "%s: contents of %s changed", what, l->name);
    }
    PAT_CHECK(f->pg, 2 * f->ps, 1, "%s: the page API run changed", what);
    if (f->pg2 != NULL)
        PAT_CHECK(f->pg2, f->ps, 2, "%s: the second page API run changed", what);
    CHECK_OK(&f->h, what);
    lock_ok(&f->t, what);
    if (f->t.faults_unlocked != f->t.faults)
        fail_msg("%s: the fault hook ran with the lock held (%zu of %zu calls outside it)", what,
                 f->t.faults_unlocked, f->t.faults);
    if (f->t.releases || f->t.acquires)
        fail_msg("%s: release/acquire called", what);
}

enum { OP_FREE, OP_REALLOC, OP_REALLOC0, OP_USABLE, NOPS };
static const char *const op_name[NOPS] = { "ph_free", "ph_realloc(p, 32)", "ph_realloc(p, 0)",
                                           "ph_usable_size" };

/* Either fault code (the contract says only "refused"). */
#define ANY_CODE (-1)

/* Every op on p must be refused with code (or either code, ANY_CODE). */
static void refused(rfix *f, const void *p, int code, const char *name)
{
    for (int op = 0; op < NOPS; op++) {
        char what[200];
        snap s;
        size_t faults = f->t.faults;
        memset(&s, 0, sizeof s);
        snprintf(what, sizeof what, "%s(%s = %p)", op_name[op], name, p);
        snap_take(f, &s);
        switch (op) {
        case OP_FREE:
            ph_free(&f->h, (void *)(uintptr_t)p);
            break;
        case OP_REALLOC: {
            void *q = ph_realloc(&f->h, (void *)(uintptr_t)p, 32);
            if (q != NULL)
                fail_msg("%s returned %p, expected NULL", what, q);
            break;
        }
        case OP_REALLOC0: {
            void *q = ph_realloc(&f->h, (void *)(uintptr_t)p, 0);
            if (q != NULL)
                fail_msg("%s returned %p, expected NULL", what, q);
            break;
        }
        default: {
            size_t u = ph_usable_size(&f->h, (void *)(uintptr_t)p);
            if (u != 0)
                fail_msg("%s returned %zu, expected 0", what, u);
            break;
        }
        }
        if (f->t.faults != faults + 1)
            fail_msg("%s: fault hook called %zu times, expected once", what,
                     f->t.faults - faults);
        if (code == ANY_CODE ? f->t.last_code != PH_FAULT_BAD_POINTER &&
                                   f->t.last_code != PH_FAULT_DOUBLE_FREE
                             : f->t.last_code != code)
            fail_msg("%s: fault code %d, expected %d (%s)", what, f->t.last_code, code,
                     code == PH_FAULT_BAD_POINTER ? "BAD_POINTER"
                     : code == PH_FAULT_DOUBLE_FREE ? "DOUBLE_FREE" : "either");
        if (f->t.last_addr != p)
            fail_msg("%s: fault address %p, expected %p", what, f->t.last_addr, p);
        snap_same(f, &s, 1, what);
        walk_free(&s.w);
    }
}

/* ---- the table -------------------------------------------------------------------- */

typedef struct badp {
    const char *name;
    const void *p;
    int code;
} badp;

static int local_static_;

static void test_bad_pointers(void **state)
{
    (void)state;
    rfix *f = &fx;
    const size_t ps = f->ps;
    int local = 0;
    char *libc = (char *)malloc(64);
    badp t[128];
    size_t n = 0;
#define BAD(nm, ptr) (t[n].name = (nm), t[n].p = (ptr), t[n].code = PH_FAULT_BAD_POINTER, n++)
#define DBL(nm, ptr) (t[n].name = (nm), t[n].p = (ptr), t[n].code = PH_FAULT_DOUBLE_FREE, n++)
#define ANY(nm, ptr) (t[n].name = (nm), t[n].p = (ptr), t[n].code = ANY_CODE, n++)

    char *alim = (char *)f->A.base + f->A.npages * ps;
    char *blim = (char *)f->B.base + f->B.npages * ps;
    /* foreign memory */
    BAD("a stack variable", &local);
    BAD("memory from libc malloc", libc);
    BAD("a static variable", &local_static_);
    BAD("address 16", (void *)(uintptr_t)16);
    BAD("top of the address space", (void *)(UINTPTR_MAX & ~(uintptr_t)15));
    /* around and between the regions */
    BAD("16 bytes before the heap", (char *)f->A.raw_base - 16);
    BAD("start of the buffer", f->buf);
    BAD("A's raw base (unaligned)", f->A.raw_base);
    BAD("A's metadata", f->A.meta_base);
    BAD("A's last metadata bytes", (char *)f->A.base - PH_ALIGN);
    BAD("A's base - 1", (char *)f->A.base - 1);
    BAD("first byte past A's pages", alim);
    BAD("A's unaligned tail", alim + 40);
    BAD("the gap between A and B", (char *)f->A.raw_base + f->A.raw_size + 2 * ps);
    BAD("B's metadata", f->B.meta_base);
    BAD("first byte past the heap", blim);
    BAD("past the heap + PH_ALIGN", blim + PH_ALIGN);
    BAD("a page past the heap", blim + ps);
    /* page API memory */
    BAD("a ph_page_alloc run", f->pg);
    BAD("a ph_page_alloc run + 1 page", f->pg + ps);
    BAD("a ph_page_alloc run + PH_ALIGN", f->pg + PH_ALIGN);
    /* interior pointers of small objects */
    BAD("16-byte object + 1", f->s16[0] + 1);
    BAD("16-byte object + 8", f->s16[1] + 8);
    BAD("16-byte object + 15", f->s16[3] + 15);
    BAD("100-byte object + 1", f->m1 + 1);
    BAD("100-byte object + PH_ALIGN", f->m1 + PH_ALIGN);
    BAD("100-byte object's last byte", f->m2 + ph_usable_size(&f->h, f->m2) - 1);
    BAD("700-byte object + 1", f->sm + 1);
    BAD("700-byte object + PH_ALIGN", f->sm + PH_ALIGN);
    BAD("700-byte object + 350", f->sm + 350);
    BAD("aligned(64) object + 1", f->al64 + 1);
    BAD("aligned(64) object + 32", f->al64 + 32);
    BAD("aligned(64) object + 64", f->al64 + 64);
    /* interior pointers of page runs */
    size_t lu = ph_usable_size(&f->h, f->L);
    BAD("large + 1", f->L + 1);
    BAD("large + PH_ALIGN", f->L + PH_ALIGN);
    BAD("middle of a large object", f->L + lu / 2);
    BAD("large object's second page", f->L + ps);
    BAD("large object's last page", f->L + lu - ps);
    BAD("large object's last byte", f->L + lu - 1);
    BAD("aligned(1024) run + 1", f->al1k + 1);
    BAD("aligned(1024) run + 64", f->al1k + 64);
    BAD("large object in B, page 100", f->lb + 100 * ps);
    /* a chunk over 17 pages */
    BAD("a 17-page chunk + 1", f->pr + 1);
    BAD("a 17-page chunk + 1 page", f->pr + ps);
    BAD("a 17-page chunk, its last page", (char *)f->pre - ps);

    /* chunk headers, arenas' padding and fences, past an arena's end */
    BAD("the header of a chunk after a live one", f->m1 - PH_FIT_HDR);
    BAD("the header of the 700-byte chunk", f->sm - PH_FIT_HDR);
    BAD("arena 1's start (padding)", (char *)f->a1s);
    BAD("arena 1's padding + 1", (char *)f->a1s + 1);
    BAD("arena 1's first header", (char *)f->a1s + PH_ALIGN - PH_FIT_HDR);
    BAD("arena 1's last padding byte", (char *)f->a1s + PH_ALIGN - 1);
    BAD("the cached arena's start (padding)", (char *)f->cas);
    BAD("the padding of pr's arena", (char *)f->prs);
    BAD("the padding of pr's arena + 1", (char *)f->prs + 1);
    BAD("the fence of pr's arena (its last chunk live)", (char *)f->pre - PH_FIT_HDR);
    BAD("the last byte of pr's arena (its fence)", (char *)f->pre - 1);
    BAD("one past pr's arena (a page API page)", (char *)f->pre);
    /* arena 1 ends with its free rest, then a free page (the page API page
     * that kept alone's arena apart) and the free pages that alone's arena
     * gave back (its fence after a free chunk: test_fence_after_free); the
     * cached arena is followed by a free page too */
    DBL("one past arena 1 (a free page)", (char *)f->a1e);
    DBL("one past the cached arena (a free page)", (char *)f->cae);
    /* the header of a live chunk whose neighbour before it is free: only
     * refused (the walk sees it inside the free chunk; API.md names no code) */
    ANY("the header of a live chunk after a free one", f->m2 - PH_FIT_HDR);

    /* already free */
    size_t f1u = ph_usable_size(&f->h, f->m1); /* f1 had m1's size */
    DBL("a freed chunk between live ones", f->f1);
    DBL("a freed chunk + 1", f->f1 + 1);
    DBL("a freed chunk + PH_ALIGN", f->f1 + PH_ALIGN);
    DBL("a freed chunk's last usable byte", f->f1 + f1u - 1);
    DBL("a freed object whose arena went back", f->alone);
    DBL("a freed object whose arena went back, + PH_ALIGN", f->alone + PH_ALIGN);
    DBL("a freed object whose arena is cached, empty", f->cached);
    DBL("inside a freed object whose arena is cached", f->cached + PH_ALIGN);
    DBL("inside a freed object whose arena is cached, + 1", f->cached + 1);
    DBL("a freed large object", f->fl);
    DBL("a freed large object's second page", f->fl + ps);
    DBL("a free page of A never allocated", alim - ps);
    DBL("a free page of A never allocated, + PH_ALIGN", alim - ps + PH_ALIGN);
    DBL("B's last page, free", blim - ps);
#undef BAD
#undef DBL
#undef ANY

    for (size_t i = 0; i < n; i++)
        refused(f, t[i].p, t[i].code, t[i].name);
    ph_stats st;
    ph_get_stats(&f->h, &st);
    assert_int_equal(st.faults, NOPS * n);
    print_message("[ refusals ] %zu pointers x %d calls refused\n", n, NOPS);

    /* and the heap still works: everything frees, nothing leaked */
    for (size_t i = 0; i < f->nlive; i++) {
        PAT_CHECK(f->lv[i].p, f->lv[i].usable, f->lv[i].id, "%s changed", f->lv[i].name);
        ph_free(&f->h, f->lv[i].p);
    }
    ph_page_free(&f->h, f->pg, 2);
    ph_page_free(&f->h, f->pg2, 1);
    assert_int_equal(f->t.faults, NOPS * n);
    stats_all_free(&f->h, "after the refusals");
    lock_ok(&f->t, "after the refusals");
    free(libc);
}

/* An arena's fence is no chunk: a pointer into it is BAD_POINTER (as the
 * padding, and as the fence after a live chunk in test_bad_pointers), also
 * when the arena's last chunk is free (arena 1 ends with its free rest;
 * the cached arena is one free chunk). */
static void test_fence_after_free(void **state)
{
    (void)state;
    rfix *f = &fx;
    uintptr_t s = 0, e = 0;
    wb_chunk ch[128];
    size_t n;
    assert_true(wb_arena_of(&f->h, f->s16[0], &s, &e));
    n = wb_chunks(s, e, ch, 128);
    assert_true(n >= 2 && n <= 128 && !ch[n - 1].inuse); /* the last chunk is free */
    refused(f, (char *)f->a1e - PH_FIT_HDR, PH_FAULT_BAD_POINTER,
            "the fence of arena 1 (its last chunk free)");
    refused(f, (char *)f->a1e - 1, PH_FAULT_BAD_POINTER, "the last byte of arena 1 (its fence)");
    refused(f, (char *)f->cae - PH_FIT_HDR, PH_FAULT_BAD_POINTER,
            "the fence of the cached arena");
    refused(f, (char *)f->cae - 1, PH_FAULT_BAD_POINTER,
            "the last byte of the cached arena (its fence)");
}

/* Every offset 1 .. chunk - 1 of live chunks (their user bytes and the
 * next chunk's header: everything up to the next chunk's start) is refused
 * as BAD_POINTER; every offset of the free chunk f1's user bytes as
 * DOUBLE_FREE.  Each call is checked for its fault and statistics, and
 * every 16th offset (and the first and last 16) with the whole snapshot. */
static void refused_light(rfix *f, const void *p, int code, const char *name)
{
    for (int op = 0; op < NOPS; op++) {
        ph_stats a, b;
        size_t faults = f->t.faults;
        ph_get_stats(&f->h, &a);
        switch (op) {
        case OP_FREE:
            ph_free(&f->h, (void *)(uintptr_t)p);
            break;
        case OP_REALLOC:
        case OP_REALLOC0:
            if (ph_realloc(&f->h, (void *)(uintptr_t)p, op == OP_REALLOC ? 32 : 0) != NULL)
                fail_msg("%s(%s = %p) did not return NULL", op_name[op], name, p);
            break;
        default:
            if (ph_usable_size(&f->h, (void *)(uintptr_t)p) != 0)
                fail_msg("%s(%s = %p) did not return 0", op_name[op], name, p);
            break;
        }
        ph_get_stats(&f->h, &b);
        if (f->t.faults != faults + 1 || f->t.last_code != code || f->t.last_addr != p)
            fail_msg("%s(%s = %p): %zu faults, code %d at %p; expected one, code %d", op_name[op],
                     name, p, f->t.faults - faults, f->t.last_code, f->t.last_addr, code);
        stats_all_assert(&a, &b, 1, name);
    }
}

static void test_every_offset(void **state)
{
    (void)state;
    rfix *f = &fx;
    struct {
        const char *name;
        char *p;
        int code;
    } c[] = { { "16-byte chunk", f->s16[1], PH_FAULT_BAD_POINTER },
              { "the arena's first chunk", f->s16[0], PH_FAULT_BAD_POINTER },
              { "100-byte chunk", f->m1, PH_FAULT_BAD_POINTER },
              { "700-byte chunk", f->sm, PH_FAULT_BAD_POINTER },
              { "aligned(64) chunk", f->al64, PH_FAULT_BAD_POINTER },
              { "17-page chunk", f->pr, PH_FAULT_BAD_POINTER },
              { "free chunk", f->f1, PH_FAULT_DOUBLE_FREE } };
    size_t calls = 0;
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        /* a live chunk: up to the next chunk's start; the free one: its
         * user bytes (what its object had) */
        size_t end = c[k].code == PH_FAULT_BAD_POINTER
                         ? ph_usable_size(&f->h, c[k].p) + PH_FIT_HDR
                         : ph_usable_size(&f->h, f->m1);
        char name[96];
        for (size_t off = 1; off < end; off++) {
            snprintf(name, sizeof name, "%s + %zu", c[k].name, off);
            if (off <= 16 || off + 16 >= end || off % 16 == 0)
                refused(f, c[k].p + off, c[k].code, name);
            else
                refused_light(f, c[k].p + off, c[k].code, name);
            calls += NOPS;
        }
    }
    assert_int_equal(f->t.faults, calls);
    print_message("[ refusals ] %zu calls at every offset of %zu chunks refused\n", calls,
                  sizeof c / sizeof c[0]);
    /* the heap still works */
    for (size_t i = 0; i < f->nlive; i++) {
        PAT_CHECK(f->lv[i].p, f->lv[i].usable, f->lv[i].id, "%s changed", f->lv[i].name);
        ph_free(&f->h, f->lv[i].p);
    }
    ph_page_free(&f->h, f->pg, 2);
    ph_page_free(&f->h, f->pg2, 1);
    stats_all_free(&f->h, "after every offset");
}

/* A second free of each live object right after its first one is refused
 * and changes nothing (the object's span alive or given back, or its run). */
static void test_double_frees(void **state)
{
    (void)state;
    rfix *f = &fx;
    while (f->nlive > 0) {
        /* the middle one first: spans lose objects from the inside */
        size_t i = f->nlive / 2;
        live keep = f->lv[i];
        char what[96];
        snap s;
        size_t faults = f->t.faults;
        ph_free(&f->h, keep.p);
        assert_int_equal(f->t.faults, faults);
        CHECK_OK(&f->h, "a good free");
        f->lv[i] = f->lv[--f->nlive];
        /* the others stay as they were */
        memset(&s, 0, sizeof s);
        snap_take(f, &s);
        snprintf(what, sizeof what, "second ph_free(%s)", keep.name);
        ph_free(&f->h, keep.p);
        if (f->t.faults != faults + 1 || f->t.last_code != PH_FAULT_DOUBLE_FREE ||
            f->t.last_addr != keep.p)
            fail_msg("%s: %zu faults, code %d at %p; expected one DOUBLE_FREE at %p", what,
                     f->t.faults - faults, f->t.last_code, f->t.last_addr, (void *)keep.p);
        snap_same(f, &s, 1, what);
        walk_free(&s.w);
    }
    ph_page_free(&f->h, f->pg, 2);
    ph_page_free(&f->h, f->pg2, 1);
    stats_all_free(&f->h, "all freed twice");
}

/* ---- out of memory ----------------------------------------------------------------- */

static void test_out_of_memory(void **state)
{
    (void)state;
    rfix *f = &fx;
    const size_t ps = f->ps;
    size_t held = 0;
    ph_stats st;
    ph_get_stats(&f->h, &st);
    assert_int_equal(st.cached_spans, 1);
    size_t avail = st.pages_free + st.cached_bytes / ps;
    char **pgs = (char **)calloc(avail + 1, sizeof *pgs);
    /* take every free page: the last ones only once ph_page_alloc gave the
     * cached empty arena back */
    while (held <= avail && (pgs[held] = (char *)ph_page_alloc(&f->h, 1)) != NULL)
        held++;
    assert_int_equal(held, avail);
    ph_get_stats(&f->h, &st);
    assert_int_equal(st.cached_spans, 0);
    assert_int_equal(st.pages_free, 0);
    char *m1 = f->m1; /* f1's free chunk after it: too small to grow into */
    /* the largest free chunk left in the arenas (white box) */
    size_t maxfree = 0;
    for (uint32_t ri = 0; ri < f->h.nregions_; ri++) {
        const struct ph_region *r = f->h.regions_[ri];
        for (size_t pgi = 0; pgi < r->npages; pgi++) {
            uintptr_t as, ae;
            wb_chunk ch[512];
            if (!wb_arena_of(&f->h, (void *)(r->base + pgi * ps), &as, &ae))
                continue;
            size_t nch = wb_chunks(as, ae, ch, 512);
            assert_true(nch <= 512);
            for (size_t i = 0; i < nch; i++)
                if (!ch[i].inuse && ch[i].size > maxfree)
                    maxfree = ch[i].size;
            pgi = (ae - r->base) / ps - 1;
        }
    }
    assert_true(maxfree >= PH_FIT_MIN && maxfree + 200 <= PH_SMALL_MAX);
    print_message("[ oom      ] largest free chunk on the full heap: %zu bytes\n", maxfree);
    /* its chunk is maxfree + PH_FIT_HDR rounded up: one byte more than the
     * largest free chunk holds */
    const size_t over = maxfree - PH_FIT_HDR + 1, fits = maxfree - PH_FIT_HDR;
    /* m1 can grow in place into f1's free chunk (m1 + f1 hold 2 * 104 B
     * on a 32-bit layout), which may itself be the largest free chunk
     * once ph_scavenge trimmed the arenas' tails: past both */
    const size_t rover = over > 4 * PH_FIT_MIN + 200 ? over : 4 * PH_FIT_MIN + 200;
    struct {
        const char *name;
        int kind;
        size_t a, b;
    } oom[] = {
        { "malloc of one byte more than the largest free chunk", 0, over, 0 },
        { "malloc(0) (a free chunk serves it)", 9, 0, 0 },
        { "malloc of the largest free chunk (served)", 9, fits, 0 },
        { "malloc of a page run", 0, PH_SMALL_MAX + 1, 0 },
        { "malloc(SIZE_MAX)", 0, SIZE_MAX, 0 },
        { "calloc past the largest free chunk", 1, 1, over },
        { "calloc of a page run", 1, 2, PH_SMALL_MAX },
        { "aligned_alloc(32, past the largest free chunk)", 2, 32, over },
        { "aligned_alloc(128, about the largest free chunk)", 2, 128, maxfree - 100 },
        { "aligned_alloc(4096, 10)", 2, 4096, 10 },
        { "realloc of a 100-byte object past the largest free chunk", 3, rover, 0 },
        { "realloc of the large object, grow", 4, PH_SMALL_MAX + 300 + ps, 0 },
    };
    for (size_t i = 0; i < sizeof oom / sizeof oom[0]; i++) {
        snap s;
        void *p = NULL;
        size_t faults = f->t.faults;
        memset(&s, 0, sizeof s);
        snap_take(f, &s);
        switch (oom[i].kind) {
        case 0:
            p = ph_malloc(&f->h, oom[i].a);
            break;
        case 1:
            p = ph_calloc(&f->h, oom[i].a, oom[i].b);
            break;
        case 2:
            p = ph_aligned_alloc(&f->h, oom[i].a, oom[i].b);
            break;
        case 3:
            p = ph_realloc(&f->h, m1, oom[i].a);
            break;
        case 4:
            p = ph_realloc(&f->h, f->L, oom[i].a);
            break;
        default:
            p = ph_malloc(&f->h, oom[i].a);
            if (p == NULL)
                fail_msg("%s: NULL", oom[i].name);
            ph_free(&f->h, p);
            p = NULL;
            break;
        }
        if (p != NULL)
            fail_msg("%s on a full heap returned %p", oom[i].name, p);
        if (f->t.faults != faults)
            fail_msg("%s: out of memory raised a fault", oom[i].name);
        snap_same(f, &s, 0, oom[i].name);
        walk_free(&s.w);
    }
    /* the pages back: every request above is served again */
    for (size_t i = 0; i < held; i++)
        ph_page_free(&f->h, pgs[i], 1);
    free(pgs);
    void *p = ph_malloc(&f->h, over);
    void *r = ph_aligned_alloc(&f->h, 4096, 10);
    assert_non_null(p);
    assert_non_null(r);
    ph_free(&f->h, p);
    ph_free(&f->h, r);
    for (size_t i = 0; i < f->nlive; i++)
        ph_free(&f->h, f->lv[i].p);
    ph_page_free(&f->h, f->pg, 2);
    ph_page_free(&f->h, f->pg2, 1);
    assert_int_equal(f->t.faults, 0);
    stats_all_free(&f->h, "after out of memory");
}

/* ---- locking ---------------------------------------------------------------------- */

/* expr must take the lock at least once (or, with may_skip, any number of
 * times including none), balanced, never nested. */
#define LOCKED_CALL(t, expr, may_skip)                                                  \
    do {                                                                                \
        size_t locks_before_ = (t)->locks;                                              \
        expr;                                                                           \
        if (!(may_skip) && (t)->locks == locks_before_)                                 \
            fail_msg("line %d: %s took no lock", __LINE__, #expr);                      \
        lock_ok((t), #expr);                                                            \
    } while (0)

static void test_locking(void **state)
{
    (void)state;
    const size_t ps = 128;
    char *buf = (char *)xaligned(ps, 2048 * ps);
    tport t;
    ph_heap h;
    char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL, *g = NULL, *q = NULL;
    size_t u = 0;

    tport_init(&t, true);
    assert_int_equal(ph_init(&h, ps, &t.port), PH_OK);
    assert_int_equal(ph_add_region(&h, buf, 2048 * ps, 0), PH_OK);
    assert_int_equal(t.locks, t.unlocks);

    LOCKED_CALL(&t, a = (char *)ph_malloc(&h, 24), false);              /* new arena */
    LOCKED_CALL(&t, b = (char *)ph_malloc(&h, 24), false);              /* same one  */
    LOCKED_CALL(&t, c = (char *)ph_malloc(&h, PH_SMALL_MAX + 1), false); /* page run */
    LOCKED_CALL(&t, d = (char *)ph_malloc(&h, 0), false);
    LOCKED_CALL(&t, assert_null(ph_malloc(&h, SIZE_MAX / 2)), false);   /* no memory */
    LOCKED_CALL(&t, e = (char *)ph_calloc(&h, 3, 10), false);
    LOCKED_CALL(&t, assert_null(ph_calloc(&h, SIZE_MAX / 2, 3)), true); /* overflow */
    LOCKED_CALL(&t, assert_null(ph_calloc(&h, 1, SIZE_MAX / 2)), false);
    LOCKED_CALL(&t, g = (char *)ph_aligned_alloc(&h, 64, 10), false);    /* a chunk */
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    assert_non_null(e);
    assert_non_null(g);
    LOCKED_CALL(&t, ph_free(&h, g), false);
    LOCKED_CALL(&t, g = (char *)ph_aligned_alloc(&h, 4096, 10), false);  /* run, trimmed */
    assert_non_null(g);
    LOCKED_CALL(&t, assert_null(ph_aligned_alloc(&h, 48, 10)), true);    /* not a power */
    LOCKED_CALL(&t, assert_null(ph_aligned_alloc(&h, (size_t)1 << 40, 10)), false);
    LOCKED_CALL(&t, u = ph_usable_size(&h, a), false);
    assert_int_equal(u, fit_chunk(24) - PH_FIT_HDR);
    LOCKED_CALL(&t, assert_int_equal(ph_usable_size(&h, NULL), 0), true);
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, NULL, 10), false);        /* malloc */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, 12), false);           /* in place */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, 300), false);          /* grows or moves */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, PH_SMALL_MAX + 10), false); /* to a run */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, PH_SMALL_MAX + 10 * ps), false); /* grows */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, PH_SMALL_MAX + 2), false); /* shrinks */
    LOCKED_CALL(&t, assert_null(ph_realloc(&h, q, SIZE_MAX / 2)), false); /* fails */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, 0), false);            /* a run to a chunk */
    assert_non_null(q);
    size_t faults = t.faults;
    LOCKED_CALL(&t, ph_free(&h, a + 1), false);                          /* bad */
    LOCKED_CALL(&t, assert_null(ph_realloc(&h, a + 1, 10)), false);
    LOCKED_CALL(&t, assert_int_equal(ph_usable_size(&h, c + ps), 0), false);
    LOCKED_CALL(&t, ph_free(&h, &u), false);                             /* foreign */
    LOCKED_CALL(&t, ph_free(&h, a), false);
    LOCKED_CALL(&t, ph_free(&h, a), false);                              /* double */
    LOCKED_CALL(&t, ph_free(&h, NULL), true);
    assert_int_equal(t.faults, faults + 5);
    if (t.faults_unlocked != t.faults)
        fail_msg("the fault hook ran with the lock held: %zu of %zu calls outside it",
                 t.faults_unlocked, t.faults);
    LOCKED_CALL(&t, ph_free(&h, b), false);                              /* arena empties */
    LOCKED_CALL(&t, ph_free(&h, c), false);                              /* run */
    LOCKED_CALL(&t, ph_free(&h, d), false);
    LOCKED_CALL(&t, ph_free(&h, e), false);
    LOCKED_CALL(&t, ph_free(&h, g), false);
    LOCKED_CALL(&t, ph_free(&h, q), false);
    LOCKED_CALL(&t, assert_int_equal(ph_check(&h), PH_OK), false);
    assert_int_equal(t.nested, 0);
    stats_all_free(&h, "locking");
    lock_ok(&t, "locking");
    free(buf);
}

/* A fault hook that calls back into the heap: it runs outside the lock,
 * so the calls neither nest the lock nor deadlock a non-recursive mutex. */
typedef struct report {
    tport t;
    ph_heap *h;
    void *live;
    size_t calls, usable_seen;
    int check_rc;
} report;

static void reentrant_fault(void *ctx, int code, const void *addr)
{
    report *r = (report *)ctx;
    ph_stats st;
    tport_fault(&r->t, code, addr); /* records, and counts a held lock */
    if (r->t.held)
        fail_msg("fault hook called with the lock held");
    r->calls++;
    ph_get_stats(r->h, &st);
    r->check_rc = ph_check(r->h);
    r->usable_seen = ph_usable_size(r->h, r->live);
    void *p = ph_malloc(r->h, 50);
    ph_free(r->h, p);
}

static void test_reentrant_fault_hook(void **state)
{
    (void)state;
    const size_t ps = 256;
    char *buf = (char *)xaligned(ps, 256 * ps);
    report r;
    ph_heap h;
    memset(&r, 0, sizeof r);
    tport_init(&r.t, true);
    r.t.port.ctx = &r; /* tport is the first member: hooks see the same record */
    r.t.port.fault = reentrant_fault;
    r.h = &h;
    assert_int_equal(ph_init(&h, ps, &r.t.port), PH_OK);
    assert_int_equal(ph_add_region(&h, buf, 256 * ps, 0), PH_OK);
    char *p = (char *)ph_malloc(&h, 100), *L = (char *)ph_malloc(&h, PH_SMALL_MAX + 1);
    r.live = L;
    ph_free(&h, p + 1);
    assert_null(ph_realloc(&h, L + ps, 5));
    assert_int_equal(ph_usable_size(&h, p + 16), 0);
    ph_free(&h, p);
    ph_free(&h, p);
    assert_int_equal(r.calls, 4);
    assert_int_equal(r.check_rc, PH_OK);
    assert_int_equal(r.usable_seen, round_up(PH_SMALL_MAX + 1, ps));
    lock_ok(&r.t, "reentrant fault hook");
    ph_free(&h, L);
    stats_all_free(&h, "reentrant fault hook");
    free(buf);
}

/* ---- ports without hooks, heaps that are not initialised ------------------------------ */

static void test_null_port_and_bad_heap(void **state)
{
    (void)state;
    const size_t ps = 64;
    char *buf = (char *)xaligned(ps, 512 * ps);
    ph_heap h;
    ph_stats st;

    assert_int_equal(ph_init(&h, ps, NULL), PH_OK);
    assert_int_equal(ph_add_region(&h, buf, 512 * ps, 0), PH_OK);
    char *p = (char *)ph_malloc(&h, 30);
    assert_non_null(p);
    ph_free(&h, p + 1);
    assert_null(ph_realloc(&h, p + 16, 1));
    assert_int_equal(ph_usable_size(&h, buf), 0);
    ph_free(&h, p);
    ph_free(&h, p);
    ph_get_stats(&h, &st);
    assert_int_equal(st.faults, 4); /* only counted */
    stats_all_free(&h, "null port");

    /* a heap whose ph_init failed refuses everything and touches nothing */
    memset(&h, 0, sizeof h);
    assert_int_equal(ph_init(&h, 96, NULL), PH_EINVAL);
    memset(buf, 0x77, 64);
    assert_null(ph_malloc(&h, 10));
    assert_null(ph_calloc(&h, 1, 10));
    assert_null(ph_aligned_alloc(&h, 64, 10));
    assert_null(ph_realloc(&h, NULL, 10));
    assert_null(ph_realloc(&h, buf, 10));
    ph_free(&h, buf);
    assert_int_equal(ph_usable_size(&h, buf), 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal((unsigned char)buf[i], 0x77);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_pointers, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_fence_after_free, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_every_offset, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_double_frees, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, fix_setup, fix_teardown),
        cmocka_unit_test(test_locking),
        cmocka_unit_test(test_reentrant_fault_hook),
        cmocka_unit_test(test_null_port_and_bad_heap),
    };
    return cmocka_run_group_tests_name("objects_refusals", tests, NULL, NULL);
}
