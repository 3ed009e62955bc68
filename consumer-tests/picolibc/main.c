/* SPDX-License-Identifier: MIT */
/*
 * consumer-tests/picolibc: a picolibc firmware that links pageheap::picolibc.
 * picolibc.ld's heap, [__heap_start, __heap_end) (the RAM between .bss and
 * the stack), is the default heap's one region (port/libc's default
 * ph_board_regions); malloc, calloc, realloc, cfree, reallocarray and
 * picolibc's own asprintf land in it and are known to ph_usable_size;
 * ph_check holds and every page comes back.  Prints
 * "consumer-picolibc: PASS" and returns 0, or names the first failure and
 * returns 1.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ph_picolibc.h"

extern char __heap_start[], __heap_end[]; /* picolibc.ld */

static int failed;

static void check(int ok, const char *what)
{
    if (!ok && !failed) {
        printf("consumer-picolibc: FAIL: %s\n", what);
        failed = 1;
    }
}

static int in_heap(const void *p, size_t n)
{
    return (const char *)p >= __heap_start && (const char *)p + n <= __heap_end &&
           ph_usable_size(ph_picolibc_heap(), (void *)p) >= n;
}

int main(void)
{
    ph_heap *h = ph_picolibc_heap();
    check(h != NULL, "no default heap");
    if (h == NULL)
        return 1;
    ph_stats s0, s1;
    ph_get_stats(h, &s0);
    check(s0.regions == 1, "not one region");

    char *a = malloc(100);
    char *b = calloc(50, 4);
    check(in_heap(a, 100) && in_heap(b, 200), "malloc / calloc outside the heap");
    memset(a, 'x', 100);
    a = realloc(a, 5000);
    check(in_heap(a, 5000) && a[99] == 'x', "realloc");
    int *r = reallocarray(NULL, 300, sizeof(int));
    check(in_heap(r, 300 * sizeof(int)), "reallocarray");
    char *s = NULL;
    int n = asprintf(&s, "%s %d", "picolibc asprintf", 42);
    check(n == 20 && s != NULL && in_heap(s, 21) && strcmp(s, "picolibc asprintf 42") == 0,
          "asprintf");
    check(malloc_usable_size(a) == ph_usable_size(h, a), "malloc_usable_size");
    check(ph_check(h) == PH_OK, "ph_check with blocks live");
    free(s);
    free(r);
    cfree(b);
    free(a);
    ph_scavenge(h, 0);
    ph_get_stats(h, &s1);
    check(s1.pages_free == s0.pages_free && s1.faults == 0, "pages not back, or faults");
    check(ph_check(h) == PH_OK, "ph_check at the end");
    if (failed)
        return 1;
    printf("consumer-picolibc: PASS (one region of %u pages of %u bytes, [%p, %p))\n",
           (unsigned)s1.pages_total, (unsigned)s1.page_size, (void *)__heap_start,
           (void *)__heap_end);
    return 0;
}
