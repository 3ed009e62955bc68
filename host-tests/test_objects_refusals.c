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
 * of a large object, later pages of a multi-page span), span headers and
 * span tails, objects freed already (span alive, span given back, large),
 * free pages never allocated.
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
    char *s16[4];            /* class 0, one span                           */
    char *m1, *m2;           /* 100 bytes: a span that also held f1         */
    char *sm;                /* 700 bytes: a multi-page span                */
    char *L;                 /* PH_SMALL_MAX + 300: a large object          */
    char *pr;                /* 4096 bytes: no span at 256 B pages, a run   */
    char *al64, *al1k;       /* aligned 64 (a class), 1024 (a page run)     */
    char *lb;                /* a large object in region B                  */
    char *f1;                /* freed, its span still alive                 */
    char *alone;             /* freed, its span given back                  */
    char *cached;            /* freed, its span empty in the span cache     */
    char *fl;                /* freed large object                          */
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
    for (int i = 0; i < 4; i++)
        f->s16[i] = fix_keep(f, (char *)ph_malloc(&f->h, 16), "s16");
    f->m1 = fix_keep(f, (char *)ph_malloc(&f->h, 100), "m1");
    f->f1 = (char *)ph_malloc(&f->h, 100);
    f->m2 = fix_keep(f, (char *)ph_malloc(&f->h, 100), "m2");
    f->sm = fix_keep(f, (char *)ph_malloc(&f->h, 700), "sm");
    f->alone = (char *)ph_malloc(&f->h, 1400);
    f->cached = (char *)ph_malloc(&f->h, 300); /* no live class up to 2 above: a new span */
    f->L = fix_keep(f, (char *)ph_malloc(&f->h, PH_SMALL_MAX + 300), "L");
    f->fl = (char *)ph_malloc(&f->h, PH_SMALL_MAX + 1);
    f->pr = fix_keep(f, (char *)ph_malloc(&f->h, 4096), "pr");
    f->al64 = fix_keep(f, (char *)ph_aligned_alloc(&f->h, 64, 100), "al64");
    f->al1k = fix_keep(f, (char *)ph_aligned_alloc(&f->h, 1024, 50), "al1k");
    f->lb = fix_keep(f, (char *)ph_malloc(&f->h, 450 * ps), "lb");
    if (!f->f1 || !f->alone || !f->fl || !f->cached)
        return -1;
    ph_free(&f->h, f->f1);
    ph_free(&f->h, f->alone);
    ph_scavenge(&f->h, 0); /* alone's span, cached empty, goes back */
    ph_free(&f->h, f->fl);
    ph_free(&f->h, f->cached); /* the span stays, empty, as the class's cached span */
    ph_stats st;
    ph_get_stats(&f->h, &st);
    if (st.cached_spans != 1) {
        fprintf(stderr, "fixture: %zu cached spans, expected 1\n", st.cached_spans);
        return -1;
    }
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

/* Every op on p must be refused with code. */
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
        if (f->t.last_code != code)
            fail_msg("%s: fault code %d, expected %d (%s)", what, f->t.last_code, code,
                     code == PH_FAULT_BAD_POINTER ? "BAD_POINTER" : "DOUBLE_FREE");
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
    /* interior pointers of page runs */
    size_t lu = ph_usable_size(&f->h, f->L);
    BAD("large + 1", f->L + 1);
    BAD("large + PH_ALIGN", f->L + PH_ALIGN);
    BAD("middle of a large object", f->L + lu / 2);
    BAD("large object's second page", f->L + ps);
    BAD("large object's last page", f->L + lu - ps);
    BAD("large object's last byte", f->L + lu - 1);
    BAD("4096-byte page-run object + 1 page", f->pr + ps);
    BAD("4096-byte page-run object + 1", f->pr + 1);
    BAD("aligned(1024) run + 1", f->al1k + 1);
    BAD("aligned(1024) run + 64", f->al1k + 64);
    BAD("large object in B, page 100", f->lb + 100 * ps);

    /* spans: header, later pages, tail */
    static const struct {
        size_t size;
        int which; /* index in s16 / m1 / sm */
    } sp[] = { { 16, 0 }, { 100, 1 }, { 700, 2 } };
    char *firsts[3] = { f->s16[0], f->m1, f->sm };
    static char names[3][4][80];
    for (size_t k = 0; k < 3; k++) {
        unsigned c = ph_size_class(sp[k].size);
        size_t nobj, off, nw, pages = ph_span_layout(c, 8, f->h.span_cap_, &nobj, &off, &nw);
        size_t size = ph_class_size(c);
        char *span = firsts[k] - off; /* each is object 0 of its span */
        assert_int_equal(pages, ph_class_span_pages(&f->h, c));
        assert_int_equal(nobj, ph_class_span_objects(&f->h, c));
        assert_int_equal((uintptr_t)span % ps, 0);
        assert_true(off >= PH_ALIGN);
        snprintf(names[k][0], 80, "the header of the %zu-byte span", size);
        BAD(names[k][0], span);
        snprintf(names[k][1], 80, "the header of the %zu-byte span + PH_ALIGN", size);
        BAD(names[k][1], span + PH_ALIGN);
        if (off + nobj * size < pages * ps) {
            snprintf(names[k][2], 80, "the tail of the %zu-byte span", size);
            BAD(names[k][2], span + off + nobj * size);
        }
        if (pages > 1 && (ps - off) % size != 0) {
            snprintf(names[k][3], 80, "the second page of the %zu-byte span", size);
            BAD(names[k][3], span + ps);
        }
    }

    /* already free */
    DBL("a freed object, span alive", f->f1);
    DBL("a freed object whose span went back", f->alone);
    DBL("a freed object whose span went back, + PH_ALIGN", f->alone + PH_ALIGN);
    DBL("a freed object whose span is cached, empty", f->cached);
    BAD("inside a freed object whose span is cached", f->cached + PH_ALIGN);
    DBL("a freed large object", f->fl);
    DBL("a freed large object's second page", f->fl + ps);
    DBL("a free page of A never allocated", alim - ps);
    DBL("a free page of A never allocated, + PH_ALIGN", alim - ps + PH_ALIGN);
    DBL("B's last page, free", blim - ps);
#undef BAD
#undef DBL

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
    assert_int_equal(f->t.faults, NOPS * n);
    stats_all_free(&f->h, "after the refusals");
    lock_ok(&f->t, "after the refusals");
    free(libc);
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
     * cached empty span back */
    while (held <= avail && (pgs[held] = (char *)ph_page_alloc(&f->h, 1)) != NULL)
        held++;
    assert_int_equal(held, avail);
    ph_get_stats(&f->h, &st);
    assert_int_equal(st.cached_spans, 0);
    assert_int_equal(st.pages_free, 0);
    char *m1 = f->m1; /* its class span has free objects (f1's slot) */
    struct {
        const char *name;
        int kind;
        size_t a, b;
    } oom[] = {
        { "malloc of a class with no span", 0, 40, 0 },
        { "malloc(0) (class 16's span is not full: served)", 9, 0, 0 },
        { "malloc of a page run", 0, PH_SMALL_MAX + 1, 0 },
        { "malloc(SIZE_MAX)", 0, SIZE_MAX, 0 },
        { "calloc of a class with no span", 1, 3, 20 },
        { "calloc of a page run", 1, 2, PH_SMALL_MAX },
        { "aligned_alloc(32, 40)", 2, 32, 40 },
        { "aligned_alloc(128, 10)", 2, 128, 10 },
        { "aligned_alloc(4096, 10)", 2, 4096, 10 },
        { "realloc of a 100-byte object to 500", 3, 500, 0 },
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
            p = ph_malloc(&f->h, 0);
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
    void *p = ph_malloc(&f->h, 40);
    void *r = ph_aligned_alloc(&f->h, 4096, 10);
    assert_non_null(p);
    assert_non_null(r);
    ph_free(&f->h, p);
    ph_free(&f->h, r);
    for (size_t i = 0; i < f->nlive; i++)
        ph_free(&f->h, f->lv[i].p);
    ph_page_free(&f->h, f->pg, 2);
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

    LOCKED_CALL(&t, a = (char *)ph_malloc(&h, 24), false);              /* new span  */
    LOCKED_CALL(&t, b = (char *)ph_malloc(&h, 24), false);              /* same span */
    LOCKED_CALL(&t, c = (char *)ph_malloc(&h, PH_SMALL_MAX + 1), false); /* page run */
    LOCKED_CALL(&t, d = (char *)ph_malloc(&h, 0), false);
    LOCKED_CALL(&t, assert_null(ph_malloc(&h, SIZE_MAX / 2)), false);   /* no memory */
    LOCKED_CALL(&t, e = (char *)ph_calloc(&h, 3, 10), false);
    LOCKED_CALL(&t, assert_null(ph_calloc(&h, SIZE_MAX / 2, 3)), true); /* overflow */
    LOCKED_CALL(&t, assert_null(ph_calloc(&h, 1, SIZE_MAX / 2)), false);
    LOCKED_CALL(&t, g = (char *)ph_aligned_alloc(&h, 64, 10), false);
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
    assert_int_equal(u, 32);
    LOCKED_CALL(&t, assert_int_equal(ph_usable_size(&h, NULL), 0), true);
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, NULL, 10), false);        /* malloc */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, 12), false);           /* same class */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, 300), false);          /* moves */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, PH_SMALL_MAX + 10), false); /* to a run */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, PH_SMALL_MAX + 10 * ps), false); /* grows */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, PH_SMALL_MAX + 2), false); /* shrinks */
    LOCKED_CALL(&t, assert_null(ph_realloc(&h, q, SIZE_MAX / 2)), false); /* fails */
    LOCKED_CALL(&t, q = (char *)ph_realloc(&h, q, 0), false);            /* free + malloc(0) */
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
    LOCKED_CALL(&t, (void)ph_class_span_pages(&h, 3), true);
    LOCKED_CALL(&t, (void)ph_class_span_objects(&h, 3), true);
    LOCKED_CALL(&t, ph_free(&h, b), false);                              /* span empties */
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
        cmocka_unit_test_setup_teardown(test_double_frees, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, fix_setup, fix_teardown),
        cmocka_unit_test(test_locking),
        cmocka_unit_test(test_reentrant_fault_hook),
        cmocka_unit_test(test_null_port_and_bad_heap),
    };
    return cmocka_run_group_tests_name("objects_refusals", tests, NULL, NULL);
}
