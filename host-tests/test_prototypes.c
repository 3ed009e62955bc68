/* SPDX-License-Identifier: MIT */
/*
 * test_prototypes.c: every public prototype of the malloc family has the C
 * library's parameter and return types, with the heap put in front, so
 * code that declares the prototypes itself, or stores the functions in
 * pointers of the C library's shape, compiles.  (Before the fix,
 * ph_usable_size took a const void *, and the declarations below did not
 * compile: "conflicting types for 'ph_usable_size'".)
 *
 * Three checks, each of which fails the build (so the test) on a mismatch:
 *   1. the prototypes written out again, as a user would: a conflicting
 *      redeclaration is an error;
 *   2. for each call, a _Static_assert that its type is the C library
 *      counterpart's type with a ph_heap * in front (GCC / clang
 *      __builtin_types_compatible_p);
 *   3. at run time, the functions called through such pointers.
 */
#include "ph_test_util.h"

#include <malloc.h>
#include <stdlib.h>

/* 1. What a user who does not include the whole header may write. */
void *ph_malloc(ph_heap *h, size_t size);
void ph_free(ph_heap *h, void *p);
void *ph_calloc(ph_heap *h, size_t nmemb, size_t size);
void *ph_realloc(ph_heap *h, void *p, size_t size);
void *ph_aligned_alloc(ph_heap *h, size_t alignment, size_t size);
size_t ph_usable_size(ph_heap *h, void *p);

/* 2. The C library's own types, with the heap in front. */
#define SAME_TYPE(f, type) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&(f)), type), #f " has the wrong type")

SAME_TYPE(malloc, void *(*)(size_t));
SAME_TYPE(free, void (*)(void *));
SAME_TYPE(calloc, void *(*)(size_t, size_t));
SAME_TYPE(realloc, void *(*)(void *, size_t));
SAME_TYPE(aligned_alloc, void *(*)(size_t, size_t));
SAME_TYPE(malloc_usable_size, size_t (*)(void *));

SAME_TYPE(ph_malloc, void *(*)(ph_heap *, size_t));
SAME_TYPE(ph_free, void (*)(ph_heap *, void *));
SAME_TYPE(ph_calloc, void *(*)(ph_heap *, size_t, size_t));
SAME_TYPE(ph_realloc, void *(*)(ph_heap *, void *, size_t));
SAME_TYPE(ph_aligned_alloc, void *(*)(ph_heap *, size_t, size_t));
SAME_TYPE(ph_usable_size, size_t (*)(ph_heap *, void *));

/* 3. Called through pointers of those shapes. */
static void test_calls_through_c_library_shapes(void **state)
{
    void *(*m)(ph_heap *, size_t) = ph_malloc;
    void (*f)(ph_heap *, void *) = ph_free;
    void *(*c)(ph_heap *, size_t, size_t) = ph_calloc;
    void *(*r)(ph_heap *, void *, size_t) = ph_realloc;
    void *(*a)(ph_heap *, size_t, size_t) = ph_aligned_alloc;
    size_t (*u)(ph_heap *, void *) = ph_usable_size;
    static _Alignas(4096) unsigned char mem[64 * 1024];
    ph_heap h;
    void *p, *q, *z;
    (void)state;

    assert_int_equal(ph_init(&h, 256, NULL), PH_OK);
    assert_int_equal(ph_add_region(&h, mem, sizeof mem, 0), PH_OK);
    p = m(&h, 100);
    assert_non_null(p);
    assert_true(u(&h, p) >= 100);
    q = r(&h, p, 300);
    assert_non_null(q);
    assert_true(u(&h, q) >= 300);
    z = c(&h, 10, 10);
    assert_non_null(z);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(((unsigned char *)z)[i], 0);
    p = a(&h, 64, 64);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    f(&h, p);
    f(&h, q);
    f(&h, z);
    assert_int_equal(u(&h, NULL), 0);
    assert_int_equal(ph_check(&h), PH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls_through_c_library_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
