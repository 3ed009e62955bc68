/* SPDX-License-Identifier: MIT */
/*
 * bench/size/newlib_calls.c: the same malloc-family calls as ph_calls.c
 * (PH_SIZE_MALLOC_ONLY) on newlib's own allocator (dlmalloc in full newlib),
 * for scripts/size.sh's linked-size comparison.  Never run.
 */
#include <malloc.h>
#include <stdlib.h>

int main(void)
{
    void *p = malloc(100);
    p = realloc(p, 200);
    void *q = calloc(2, 30);
    void *r = memalign(64, 40);
    int n = (int)malloc_usable_size(p);
    free(p);
    free(q);
    free(r);
    return n;
}
