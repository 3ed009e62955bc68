# SPDX-License-Identifier: MIT
# python3 workload of port/preload/test-preload.sh: four threads build and
# drop dicts, lists and strings, round-trip them through json, compress with
# zlib and hash with hashlib (both release the GIL on big buffers, so their
# allocations run in parallel), sort 200k items and grow/shrink a bytearray.
# Prints one digest per thread and one of everything: the same output with
# and without the preload library.  Run it with PYTHONMALLOC=malloc so that
# every object goes through malloc, not only those above pymalloc's 512 bytes.
import hashlib, json, random, sys, threading, zlib

def work(n, out):
    rng = random.Random(1000 + n)
    h = hashlib.sha256()
    # dicts, lists and strings of many sizes, built and dropped
    for rnd in range(12):
        d = {f"k{rng.randrange(10**6)}-{i}": [rng.random() for _ in range(rng.randrange(1, 30))]
             for i in range(400)}
        s = json.dumps(d, sort_keys=True)
        back = json.loads(s)
        assert back == d
        h.update(s.encode())
        # zlib and hashlib release the GIL on big buffers: their malloc
        # calls run in parallel with the other threads
        blob = (s * 3).encode()
        z = zlib.compress(blob, 6)
        assert zlib.decompress(z) == blob
        h.update(hashlib.sha512(blob).digest())
        h.update(str(len(z)).encode())
    # a sort of 200k items
    items = [(rng.randrange(10**9), str(rng.random())) for _ in range(200_000)]
    items.sort()
    h.update(repr(items[::1000]).encode())
    # growing and shrinking buffers (realloc)
    buf = bytearray()
    for i in range(20000):
        buf += bytes([i & 255]) * (i % 97)
        if len(buf) > 1 << 20:
            h.update(bytes(buf))
            del buf[: len(buf) // 2]
    out[n] = h.hexdigest()

out = {}
threads = [threading.Thread(target=work, args=(n, out)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for n in sorted(out):
    print("thread", n, out[n])
print("all", hashlib.sha256("".join(out[n] for n in sorted(out)).encode()).hexdigest())
