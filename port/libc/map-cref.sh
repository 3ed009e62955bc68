# SPDX-License-Identifier: MIT
# port/libc/map-cref.sh: reading a GNU ld link map's cross-reference table
# (-Wl,-Map=... -Wl,--cref: each symbol with its defining file first, then
# the files that refer to it).  Sourced by the C library ports' tests
# (port/newlib/test-newlib.sh, port/picolibc/test-picolibc.sh).

# cref_definer MAP SYMBOL: the file that defines SYMBOL in the map's cross
# reference table (the first file listed for it), empty if absent.
cref_definer() {
    awk -v sym="$2" '
        /^Cross Reference Table/ { in_cref = 1; next }
        in_cref && $1 == sym && /^[^ ]/ { print $2; exit }' "$1"
}

# cref_users MAP SYMBOL: the files that refer to SYMBOL (one per line).
cref_users() {
    awk -v sym="$2" '
        /^Cross Reference Table/ { in_cref = 1; next }
        !in_cref { next }
        /^[^ ]/ { cur = $1; next }
        cur == sym && NF == 1 { print $1 }' "$1"
}

# newlib's allocator objects as archive members of libc.a / libc_nano.a (or
# libg*.a), as a map names them: none may be linked where a port serves
# malloc (port/newlib's test, the C++ firmware's check).
newlib_allocator_members='lib(c|c_nano|g|g_nano)\.a\(lib_a-(nano-)?(mallocr|freer|callocr|reallocr|malignr|msizer|vallocr|pvallocr|mallinfor|malloptr|mallstatsr|cfreer|malloc|calloc|realloc|malign|msize|aligned_alloc|mstats|mtrim|sbrkr|syssbrk|mlock)\.o\)'
