#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of fuzz_heap (host-tests/fuzz/corpus/).

Each seed is a heap header and an operation stream in fuzz_heap.c's input
format (see the comment at its top and setup()): page size, regions
(size, misalignment, granule, gap), add order, then ops, one code byte
(low 4 bits) and random argument bytes each.  The seeds only give libFuzzer
a start in every corner (each page size, granules, many regions, objects,
refusals, scavenging); it mutates them from there.  Deterministic:
re-running writes the same files.

    python3 host-tests/fuzz/gen_corpus.py      (rewrites corpus/seed-*)
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

# op codes of fuzz_heap.c's main loop
PAGE_ALLOC, PAGE_FREE, MALLOC, CALLOC, REALLOC, ALIGNED = 0, 3, 5, 7, 8, 9
FREE, USABLE, SCAVENGE, IDLE, OTHER = 10, 12, 13, 14, 15


def region(rng, scale, granule_k, gap, misalign):
    """Slot bytes a, c, d (+ a size byte for the large scale)."""
    a = (rng.randrange(64) << 2) | scale
    c = (granule_k << 4) | (rng.randrange(1, 16) if misalign else 0)
    if not misalign:
        c &= 0xF0
    d = (gap << 6) | rng.randrange(64)
    out = [a, c, d]
    if scale == 3:
        out.append(rng.randrange(256))
    return out


def seed(rng, ps_idx, regions, late, ops, weights, nops):
    b = [ps_idx, (len(regions) - 1) | (late << 2) | (rng.randrange(4) << 3)]
    for r in regions:
        b += r
    b += [rng.randrange(256) for _ in range(len(regions))]  # add order
    for _ in range(nops):
        code = rng.choices(ops, weights)[0]
        hi = rng.randrange(16)
        b.append(code | (hi << 4))
        b += [rng.randrange(256) for _ in range(4)]
    return bytes(b)


def main():
    rng = random.Random(20261202)
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.startswith("seed-"):
            os.remove(os.path.join(out, f))
    all_ops = [PAGE_ALLOC, PAGE_FREE, MALLOC, CALLOC, REALLOC, ALIGNED, FREE, USABLE,
               SCAVENGE, IDLE, OTHER]
    seeds = {
        # pages only, 64 B pages, four regions of every scale
        "pages-64": (0, [region(rng, s, 0, 1, s % 2) for s in range(4)], 0,
                     [PAGE_ALLOC, PAGE_FREE], [3, 3], 120),
        # 4 KiB pages, granules, scavenge between allocations
        "scavenge-4k": (6, [region(rng, 2, 3, 2, 0), region(rng, 3, 2, 0, 1)], 0,
                        [PAGE_ALLOC, PAGE_FREE, SCAVENGE, MALLOC, FREE], [3, 3, 2, 1, 1], 120),
        # objects on 256 B pages
        "objects-256": (2, [region(rng, 3, 4, 1, 1), region(rng, 2, 0, 3, 0)], 0,
                        [MALLOC, CALLOC, REALLOC, ALIGNED, FREE, USABLE], [4, 1, 2, 1, 4, 1], 200),
        # bad frees of every kind on 1 KiB pages
        "refusals-1k": (4, [region(rng, 1, 2, 1, 1), region(rng, 2, 3, 2, 0), region(rng, 0, 0, 1, 1)],
                        0, [PAGE_ALLOC, PAGE_FREE, MALLOC, FREE, REALLOC, USABLE],
                        [2, 4, 2, 4, 1, 1], 150),
        # ph_idle with policies, 512 B pages
        "idle-512": (3, [region(rng, 3, 5, 1, 0)], 0,
                     [PAGE_ALLOC, PAGE_FREE, MALLOC, FREE, IDLE, SCAVENGE], [2, 2, 2, 2, 3, 1], 150),
        # a late region, region refusals, free-everything
        "regions-128": (1, [region(rng, 1, 2, 0, 1), region(rng, 2, 3, 1, 1), region(rng, 0, 2, 2, 0)],
                        1, [OTHER, PAGE_ALLOC, MALLOC, SCAVENGE, PAGE_FREE, FREE],
                        [2, 2, 2, 1, 2, 2], 120),
        # everything, 2 KiB pages
        "mixed-2k": (5, [region(rng, 3, 3, 1, 1), region(rng, 3, 4, 2, 0), region(rng, 1, 2, 0, 1),
                         region(rng, 2, 0, 1, 0)], 0, all_ops, [3, 3, 3, 1, 2, 1, 3, 1, 1, 1, 1], 300),
        # everything, 64 B pages (deep trees, many chunks)
        "mixed-64": (0, [region(rng, 3, 6, 1, 0), region(rng, 3, 7, 1, 1)], 1, all_ops,
                     [3, 3, 3, 1, 2, 1, 3, 1, 1, 1, 1], 300),
    }
    total = 0
    for name, (ps_idx, regions, late, ops, weights, nops) in seeds.items():
        data = seed(rng, ps_idx, regions, late, ops, weights, nops)
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"gen_corpus: {len(seeds)} seeds, {total} bytes in {out}")


if __name__ == "__main__":
    main()
