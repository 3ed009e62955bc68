# SPDX-License-Identifier: MIT
# C-library semantics of the malloc family, called through ctypes from a
# python3 run under the preload library (port/preload/test-preload.sh):
#
#   api      malloc/calloc/realloc/memalign/aligned_alloc/posix_memalign/
#            valloc/pvalloc/reallocarray/malloc_usable_size/malloc_trim:
#            results, alignment, errno on failure; a 3 GiB block (more than
#            the first region, so the heap grows); then 4 threads calling
#            malloc/realloc/free through ctypes (which drops the GIL, so
#            they really run at once) while the main thread forks children
#            that allocate and exit (the fork handlers must leave the heap
#            usable in the child).  Prints "api ok".
#   double   frees a block twice and frees an interior pointer: the library
#            must abort on the first (or, with PH_PRELOAD_FAULT=count, refuse
#            both and go on, printing "faults refused").
import ctypes
import errno
import os
import sys
import threading

libc = ctypes.CDLL(None, use_errno=True)
vp, sz = ctypes.c_void_p, ctypes.c_size_t


def fn(name, res, *args):
    f = getattr(libc, name)
    f.restype = res
    f.argtypes = list(args)
    return f


malloc = fn("malloc", vp, sz)
free = fn("free", None, vp)
calloc = fn("calloc", vp, sz, sz)
realloc = fn("realloc", vp, vp, sz)
reallocarray = fn("reallocarray", vp, vp, sz, sz)
memalign = fn("memalign", vp, sz, sz)
aligned_alloc = fn("aligned_alloc", vp, sz, sz)
posix_memalign = fn("posix_memalign", ctypes.c_int, ctypes.POINTER(vp), sz, sz)
valloc = fn("valloc", vp, sz)
pvalloc = fn("pvalloc", vp, sz)
usable = fn("malloc_usable_size", sz, vp)
trim = fn("malloc_trim", ctypes.c_int, sz)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("api-check: FAILED:", what, file=sys.stderr)


def fails_with(p, err, what):
    e = ctypes.get_errno()
    check(p is None, what + ": returns NULL")
    check(e == err, "%s: errno %d, want %d" % (what, e, err))


def api():
    # malloc(0): a unique pointer that can be freed
    a, b = malloc(0), malloc(0)
    check(a is not None and b is not None and a != b, "malloc(0) unique")
    free(a)
    free(b)
    free(None)

    # sizes, alignment, usable size, contents kept by realloc
    p = None
    for n in (1, 7, 16, 100, 1000, 5000, 40000, 300000):
        q = malloc(n)
        check(q is not None and q % 16 == 0, "malloc(%d) aligned to 16" % n)
        check(usable(q) >= n, "malloc_usable_size(malloc(%d))" % n)
        ctypes.memset(q, n & 255, n)
        if p is not None:
            free(p)
        p = q
    p = realloc(p, 1 << 20)
    check(ctypes.string_at(p, 300000) == bytes([300000 & 255]) * 300000, "realloc keeps contents")
    p = realloc(p, 10)
    check(ctypes.string_at(p, 10) == bytes([300000 & 255]) * 10, "realloc shrink keeps contents")
    ctypes.set_errno(0)
    check(realloc(p, 0) is None, "realloc(p, 0) frees and returns NULL (glibc)")

    # calloc zeroes, also memory that held data before
    for n in (64, 4096, 100000):
        q = malloc(n)
        ctypes.memset(q, 0xAB, n)
        free(q)
        q = calloc(n, 1)
        check(ctypes.string_at(q, n) == bytes(n), "calloc(%d, 1) zeroed" % n)
        free(q)

    # alignment calls
    for al in (16, 32, 64, 128, 4096, 1 << 16, 1 << 21):
        q = aligned_alloc(al, 100)
        check(q is not None and q % al == 0, "aligned_alloc(%d)" % al)
        free(q)
        q = memalign(al, 5000)
        check(q is not None and q % al == 0, "memalign(%d)" % al)
        free(q)
        out = vp()
        rc = posix_memalign(ctypes.byref(out), al, 3000)
        check(rc == 0 and out.value % al == 0, "posix_memalign(%d)" % al)
        free(out)
    q = memalign(48, 10)  # glibc rounds the alignment up to 64
    check(q is not None and q % 64 == 0, "memalign(48) rounds up to 64")
    free(q)
    out = vp()
    check(posix_memalign(ctypes.byref(out), 24, 10) == errno.EINVAL, "posix_memalign(24): EINVAL")
    check(posix_memalign(ctypes.byref(out), 4, 10) == errno.EINVAL, "posix_memalign(4): EINVAL")
    ctypes.set_errno(0)
    fails_with(aligned_alloc(24, 10), errno.EINVAL, "aligned_alloc(24)")
    q = valloc(10)
    check(q is not None and q % 4096 == 0, "valloc page aligned")
    free(q)
    q = pvalloc(10)
    check(q is not None and q % 4096 == 0 and usable(q) >= 4096, "pvalloc a whole page")
    free(q)

    # out of memory: NULL and ENOMEM
    ctypes.set_errno(0)
    fails_with(malloc(1 << 62), errno.ENOMEM, "malloc(2^62)")
    ctypes.set_errno(0)
    fails_with(malloc(1 << 40), errno.ENOMEM, "malloc(1 TiB)")
    ctypes.set_errno(0)
    fails_with(calloc(1 << 40, 1 << 30), errno.ENOMEM, "calloc overflow")
    ctypes.set_errno(0)
    fails_with(reallocarray(None, 1 << 40, 1 << 30), errno.ENOMEM, "reallocarray overflow")
    ctypes.set_errno(0)
    p = malloc(100)
    fails_with(realloc(p, 1 << 62), errno.ENOMEM, "realloc(p, 2^62)")
    check(usable(p) >= 100, "p still there after a failed realloc")
    free(p)

    # more than the first region: the heap adds a region
    big = 3 << 30
    q = malloc(big)
    check(q is not None, "malloc(3 GiB) grows the heap")
    if q is not None:
        check(usable(q) >= big, "malloc_usable_size(3 GiB)")
        ctypes.memset(q, 1, 4096)
        ctypes.memset(q + big - 4096, 2, 4096)
        free(q)
    check(trim(0) in (0, 1), "malloc_trim")

    # threads through ctypes (no GIL held in the calls) while forking
    stop = threading.Event()

    def churn(seed):
        ptrs = []
        x = seed
        n = 0
        while not stop.is_set() or n < 20000:
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            size = (x >> 8) % (1 << ((x >> 4) % 17)) + 1
            if len(ptrs) < 200 and x & 1:
                ptrs.append(malloc(size))
            elif ptrs:
                i = x % len(ptrs)
                if x & 2:
                    ptrs[i] = realloc(ptrs[i], size)
                else:
                    free(ptrs.pop(i))
            n += 1
        for p in ptrs:
            free(p)

    threads = [threading.Thread(target=churn, args=(i + 1,)) for i in range(4)]
    for t in threads:
        t.start()
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            xs = [bytes(i % 5000) for i in range(20000)]  # the child allocates
            q = malloc(1 << 20)
            free(q)
            os._exit(0 if len(xs) == 20000 and q is not None else 1)
        _, status = os.waitpid(pid, 0)
        check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "forked child ran")
    stop.set()
    for t in threads:
        t.join()
    print("api", "ok" if not failures else "FAILED: " + "; ".join(failures))


def double():
    p = malloc(64)
    free(p)
    free(p)  # aborts unless PH_PRELOAD_FAULT=count
    q = malloc(256)
    free(q + 16)  # an interior pointer
    free(q)
    print("faults refused")


{"api": api, "double": double}[sys.argv[1]]()
sys.exit(1 if failures else 0)
