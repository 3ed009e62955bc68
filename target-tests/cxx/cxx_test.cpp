// SPDX-License-Identifier: MIT
//
// target-tests/cxx/cxx_test.cpp: C++ on a board, with pageheap as newlib's
// malloc (pageheap::newlib).  libstdc++'s operator new / delete call
// malloc / free (aligned new: aligned_alloc), so every C++ allocation lands
// in pageheap's default heap, ph_newlib_heap().  Run under QEMU's
// mps2-an385 by scripts/test-libc-ports.sh; the link map check there shows
// that the new/delete objects of libstdc++ / libsupc++ call the port's
// malloc and free.  The program checks, against ph_get_stats and ph_walk of
// the default heap:
//
//   new / delete          a new'd object lies in the heap and is known to
//                         ph_usable_size; a large one is a page run
//                         (large_objects + 1, its pages out), delete gives
//                         them back
//   new[] / delete[]      arrays of objects with constructors and
//                         destructors (the array cookie): all constructed,
//                         all destroyed, the pages back
//   aligned new           alignas(64) and alignas(4096) types, single and
//                         array: aligned, in the heap (aligned_alloc)
//   sized delete          delete of a complete type calls
//                         operator delete(void *, size_t) (-fsized-
//                         deallocation, the default from C++14): freed
//   out of memory         new of an impossible size throws std::bad_alloc,
//                         new (std::nothrow) returns nullptr, the heap
//                         unchanged
//   STL workload          std::vector (growth by reallocation), std::map
//                         <int, std::string>, std::string past the small
//                         string buffer, std::shared_ptr / weak_ptr
//                         (make_shared and a separate control block), a
//                         std::vector<std::unique_ptr>; results checked,
//                         arenas and pages in use while it lives
//   at the end            every page back (after ph_scavenge(h, 0)),
//                         no fault, ph_check(ph_newlib_heap()) == PH_OK
//
// Prints "cxx-test: PASS ..." and returns 0 (QEMU's exit status), or
// "cxx-test: FAIL <line>: <what>" and returns 1.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "pageheap.h"
#include "ph_newlib.h"

// -nostartfiles drops crtbegin.o, which defines the handle that
// __cxa_atexit registers static destructors under (the program's and
// libstdc++'s own): one image, so any unique address will do.
extern "C" {
void *__dso_handle = &__dso_handle;
}

namespace {

int failures;

void check(bool ok, int line, const char *what)
{
    if (!ok && failures++ == 0)
        std::printf("cxx-test: FAIL %d: %s\n", line, what);
}
#define CHECK(c) check((c), __LINE__, #c)

ph_heap *heap()
{
    return ph_newlib_heap();
}

ph_stats stats()
{
    ph_stats s;
    ph_get_stats(heap(), &s);
    return s;
}

// Pages holding objects: in use, but not the empty-arena cache's.
std::size_t pages_held()
{
    ph_stats s = stats();
    return s.pages_total - s.pages_free - s.cached_bytes / s.page_size;
}

// Whether [p, p + n) lies in one region of the default heap.
bool in_heap(const void *p, std::size_t n)
{
    ph_region_info ri;
    std::size_t ps = stats().page_size;
    auto a = reinterpret_cast<std::uintptr_t>(p);
    for (std::size_t i = 0; ph_get_region(heap(), i, &ri) == PH_OK; i++) {
        auto lo = reinterpret_cast<std::uintptr_t>(ri.base);
        if (a >= lo && a + n <= lo + ri.npages * ps)
            return true;
    }
    return false;
}

bool aligned(const void *p, std::size_t a)
{
    return reinterpret_cast<std::uintptr_t>(p) % a == 0;
}

// Counts constructions and destructions (new[] / delete[] run them all).
struct Counted {
    static int live, made;
    std::uint32_t v[6];
    Counted() : v{0xC0FFEEu, 1, 2, 3, 4, 5} { live++; made++; }
    ~Counted() { live--; }
};
int Counted::live, Counted::made;

struct alignas(64) Line {
    unsigned char b[100];
};
struct alignas(4096) Page {
    unsigned char b[5000];
};

// A node type whose delete is sized (a complete, non-array type).
struct Node {
    Node *next;
    std::uint32_t payload[13];
};

std::size_t big_size = 1;
void *volatile sink; // keeps the optimiser from dropping allocations

void test_new_delete()
{
    const ph_stats s0 = stats();
    int *i = new int(42);
    CHECK(*i == 42 && in_heap(i, sizeof *i));
    CHECK(ph_usable_size(heap(), i) >= sizeof *i);
    delete i;

    // a large object: its own page run
    const std::size_t n = 64 * 1024;
    char *big = new char[n];
    sink = big;
    ph_stats s1 = stats();
    CHECK(in_heap(big, n) && ph_usable_size(heap(), big) >= n);
    CHECK(s1.large_objects == s0.large_objects + 1);
    CHECK(s0.pages_free - s1.pages_free >= n / s1.page_size);
    delete[] big;
    CHECK(stats().large_objects == s0.large_objects);

    // arrays of objects with constructors and destructors
    Counted::made = 0;
    Counted *a = new Counted[300];
    CHECK(Counted::made == 300 && Counted::live == 300 && in_heap(a, 300 * sizeof *a));
    bool ok = true;
    for (int k = 0; k < 300; k++)
        ok = ok && a[k].v[0] == 0xC0FFEEu && a[k].v[5] == 5;
    CHECK(ok);
    delete[] a;
    CHECK(Counted::live == 0);

    // sized delete: delete of a complete type calls operator delete(p, n)
    Node *head = nullptr;
    for (int k = 0; k < 1000; k++)
        head = new Node{head, {static_cast<std::uint32_t>(k)}};
    CHECK(in_heap(head, sizeof *head) && head->payload[0] == 999);
    while (head != nullptr) {
        Node *next = head->next;
        delete head;
        head = next;
    }
    // nothing leaked: the runs may have merged into the arena that holds
    // the C library's buffers, whose free tail ph_scavenge gives back (it
    // may give back a free tail that arena had before, too)
    ph_scavenge(heap(), 0);
    CHECK(stats().pages_free >= s0.pages_free);
}

void test_aligned_new()
{
    const ph_stats s0 = stats();
    Line *l = new Line;
    CHECK(aligned(l, 64) && in_heap(l, sizeof *l));
    CHECK(ph_usable_size(heap(), l) >= sizeof *l);
    Line *ls = new Line[7];
    CHECK(aligned(ls, 64) && in_heap(ls, 7 * sizeof *ls));
    Page *p = new Page;
    CHECK(aligned(p, 4096) && in_heap(p, sizeof *p));
    CHECK(ph_usable_size(heap(), p) >= sizeof *p);
    p->b[sizeof p->b - 1] = 7;
    delete p;
    delete[] ls;
    delete l;
    // nothing leaked: the runs may have merged into the arena that holds
    // the C library's buffers, whose free tail ph_scavenge gives back (it
    // may give back a free tail that arena had before, too)
    ph_scavenge(heap(), 0);
    CHECK(stats().pages_free >= s0.pages_free);
}

void test_out_of_memory()
{
    ph_scavenge(heap(), 0);
    const ph_stats s0 = stats();
    bool threw = false;
    try {
        big_size = SIZE_MAX / 2;
        sink = new char[big_size];
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    char *q = new (std::nothrow) char[big_size];
    CHECK(q == nullptr);
    // the exception object came from malloc too, and went back to a
    // arena that the cache may keep: every page free after a scavenge
    ph_scavenge(heap(), 0);
    ph_stats s1 = stats();
    CHECK(s1.pages_free == s0.pages_free);
    CHECK(s1.faults == s0.faults);
}

// The STL workload; returns a digest of what it computed.
unsigned long stl_workload(std::size_t *spans_live, std::size_t *pages_live)
{
    unsigned long digest = 0;
    std::vector<std::uint32_t> v;
    for (std::uint32_t k = 0; k < 20000; k++)
        v.push_back(k * 2654435761u);
    for (std::uint32_t x : v)
        digest += x >> 20;
    CHECK(v.size() == 20000 && in_heap(v.data(), v.size() * sizeof v[0]));

    std::map<int, std::string> m;
    for (int k = 0; k < 500; k++)
        m[(k * 7919) % 1000] = "value number " + std::to_string(k) + " of the map, long enough to leave the small string buffer";
    CHECK(m.size() == 500 && m.begin()->first == 0);
    for (const auto &kv : m)
        digest += kv.second.size() + static_cast<unsigned long>(kv.first);
    CHECK(in_heap(m.begin()->second.data(), m.begin()->second.size()));

    std::string s;
    for (int k = 0; k < 300; k++)
        s += "pageheap ";
    CHECK(s.size() == 2700 && in_heap(s.data(), s.size()));
    digest += s.size();

    auto sp = std::make_shared<std::vector<int>>(1000, 3);
    std::weak_ptr<std::vector<int>> wp = sp;
    {
        std::shared_ptr<std::vector<int>> sp2 = sp;
        CHECK(sp.use_count() == 2 && (*sp2)[999] == 3);
    }
    CHECK(sp.use_count() == 1 && !wp.expired() && in_heap(sp.get(), sizeof *sp));
    std::shared_ptr<Counted> sc(new Counted); // object and control block apart
    CHECK(Counted::live == 1 && in_heap(sc.get(), sizeof *sc));
    digest += static_cast<unsigned long>(sp->size()) + sc->v[3];

    std::vector<std::unique_ptr<Node>> owned;
    for (int k = 0; k < 200; k++)
        owned.push_back(std::make_unique<Node>());
    digest += owned.size();

    ph_stats st = stats();
    *spans_live = st.small_spans;
    *pages_live = pages_held();
    sp.reset();
    CHECK(wp.expired());
    return digest;
}

} // namespace

int main()
{
    ph_heap *h = heap();
    if (h == nullptr) {
        std::printf("cxx-test: FAIL: no default heap\n");
        return 1;
    }
    // stdio's buffers and libstdc++'s emergency exception pool were
    // allocated before main, through malloc: from the default heap.
    std::printf("cxx-test: start, %lu of %lu pages (%lu bytes) in use before main's first new\n",
                static_cast<unsigned long>(pages_held()),
                static_cast<unsigned long>(stats().pages_total),
                static_cast<unsigned long>(stats().page_size));
    ph_scavenge(h, 0);
    const ph_stats base = stats();
    const std::size_t held0 = pages_held();

    test_new_delete();
    test_aligned_new();
    test_out_of_memory();
    std::size_t spans = 0, pages = 0;
    unsigned long digest = stl_workload(&spans, &pages);
    CHECK(spans > base.small_spans && pages > held0);
    CHECK(Counted::live == 0);

    ph_scavenge(h, 0);
    const ph_stats end = stats();
    CHECK(end.pages_free == base.pages_free);
    CHECK(end.faults == 0);
    CHECK(ph_check(h) == PH_OK);
    if (failures != 0) {
        std::printf("cxx-test: FAIL (%d checks failed)\n", failures);
        return 1;
    }
    std::printf("cxx-test: STL workload held %lu arenas, %lu pages of %lu bytes (digest %lu); "
                "%lu pages in use before the tests and after them; ph_check OK\n",
                static_cast<unsigned long>(spans), static_cast<unsigned long>(pages),
                static_cast<unsigned long>(end.page_size), digest,
                static_cast<unsigned long>(held0));
    std::printf("cxx-test: PASS\n");
    return 0;
}
