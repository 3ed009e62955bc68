#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pictures of the QEMU demo (demo/qemu) from its captured output.

    scripts/plot-demo.py OUTPUT [--out-dir DIR] [--png FILE]
    scripts/plot-demo.py --check [FIXTURE]

OUTPUT is what demo.elf printed (scripts/run.sh keeps it in
build/demo/<board>-output.txt); the lines that begin with '@' (see the top
of demo/qemu/demo.c) carry the time series and the maps.  Writes

    DIR/<board>-ram.svg   RAM kept powered over the simulated time line:
                          pageheap (data + metadata), newlib's dlmalloc and
                          newlib-nano; the RAM pageheap's scavenger released
                          below the workload's high-water mark shaded
    DIR/<board>-map.svg   the per-granule maps at pageheap's peak and at the
                          end, pageheap's regions and newlib's sbrk arenas

(DIR defaults to OUTPUT's folder) and prints their paths; --png FILE also
writes the RAM plot as a PNG (scripts/run.sh --docs: docs/demo-ram.png).

--check renders FIXTURE (default demo/qemu/sample-output.txt, a captured
run) into a scratch folder and checks that both SVGs exist and hold every
series and map row, and that the means, peaks and end values computed from
the series are the figures of the demo's own summary table.  Prints
"plot-demo: check: PASS ..." or what differs, exit status 1 then.

Exit status 3 when matplotlib is missing (python3-matplotlib, installed by
scripts/install-deps.sh): under another python3 than Debian's (a pyenv or a
virtualenv first on PATH) the script runs itself again with /usr/bin/python3.
"""
import os
import re
import sys
import tempfile

try:
    import matplotlib
except ImportError:
    debian = "/usr/bin/python3"
    if os.path.exists(debian) and os.path.realpath(sys.executable) != os.path.realpath(debian) \
            and not os.environ.get("PH_PLOT_REEXEC"):
        os.environ["PH_PLOT_REEXEC"] = "1"
        os.execv(debian, [debian] + sys.argv)
    print("plot-demo: matplotlib is missing (Debian: python3-matplotlib, "
          "scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(3)
matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "pageheap"  # the same ids on every run
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIB = 1024.0

# map characters (demo.c's cell_char and print_mirror_map; '_' is a blank)
STATES = [
    ("M", "metadata", "#5b2c6f"),
    ("#", "in use", "#c0392b"),
    ("+", "partly in use", "#f0932b"),
    (".", "free, powered", "#f9e79f"),
    ("~", "released (powered down)", "#aed6f1"),
]
COLOUR = {c: col for c, _, col in STATES}
ABOVE_TOP = "#eaf2f8"   # newlib: above the sbrk top, counted as powered down

SERIES_KEYS = ("ph_data", "ph_meta", "ph_released", "newlib", "nano")


class Demo:
    """What one demo run printed."""

    def __init__(self, path):
        self.path = path
        self.info, self.phases, self.series, self.live = {}, [], [], []
        self.maps = {}          # name -> [row dict] (peak: the last one printed)
        self.ticks = None
        self.summary = {}       # first column of the summary table -> cells
        pairs = re.compile(r"(\w+)=(\S*)")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if line.startswith("| "):
                    cells = [c.strip() for c in line.strip("|").split("|")]
                    self.summary[cells[0]] = cells[1:]
                    continue
                if not line.startswith("@"):
                    continue
                kind, _, rest = line[1:].partition(" ")
                kv = dict(pairs.findall(rest))
                if kind == "info":
                    self.info = kv
                elif kind == "phase":
                    self.phases.append((kv["name"], int(kv["start"]), int(kv["end"])))
                elif kind == "series":
                    self.series.append({k: int(v) for k, v in kv.items()})
                elif kind == "live":
                    self.live.append((int(kv["t"]), int(kv["max"])))
                elif kind == "map":
                    rows = self.maps.setdefault(kv["name"], [])
                    if rows and int(rows[-1]["t"]) != int(kv["t"]):
                        rows.clear()   # a newer peak
                    kv["cells"] = runs(kv["cells"])
                    rows.append(kv)
                elif kind == "end":
                    self.ticks = int(kv["ticks"])
        if not self.info or not self.series or self.ticks is None:
            raise SystemExit("plot-demo: %s: no '@info', '@series' or '@end' lines "
                             "(not the output of demo/qemu/demo.c?)" % path)
        self.board = self.info.get("board", "board")
        self.tick_s = int(self.info.get("tick_ms", "10")) / 1000.0
        self.per_tick = self.expand()
        self.end = self.series[-1] if self.series[-1]["t"] >= self.ticks else None

    def expand(self):
        """The series per tick 0..ticks-1 (a value holds until the next line)."""
        out = {k: [] for k in SERIES_KEYS + ("ph_released_used",)}
        i, cur = 0, self.series[0]
        for t in range(self.ticks):
            while i + 1 < len(self.series) and self.series[i + 1]["t"] <= t:
                i += 1
                cur = self.series[i]
            for k in out:
                out[k].append(cur.get(k, -1))
        if out["ph_released_used"][0] < 0:
            # no simulated gate: what the data fell below its peak so far
            peak, used = 0, []
            for d in out["ph_data"]:
                peak = max(peak, d)
                used.append(peak - d)
            out["ph_released_used"] = used
        return out

    def mean(self, values):
        return sum(values) // self.ticks


def runs(s):
    """'M#8+~867' -> the cells, one character each."""
    return "".join(c * int(n or 1) for c, n in re.findall(r"(\D)(\d*)", s))


def kib_text(b):
    """demo.c's print_kib: whole KiB and truncated tenths."""
    b = int(b)
    return "%d.%d KiB" % (b // 1024, b % 1024 * 10 // 1024)


def plot_ram(d, paths):
    pt = d.per_tick
    # The series change only where a line was printed: draw those steps.
    steps = [r for r in d.series if r["t"] < d.ticks]
    xs = [r["t"] * d.tick_s for r in steps] + [d.ticks * d.tick_s]

    def step(key):        # KiB, the last value held to the end of the run
        v = [r.get(key, 0) / KIB for r in steps]
        return v + v[-1:]

    meta = step("ph_meta")
    total = [a + b for a, b in zip(step("ph_data"), meta)]
    if "ph_released_used" in steps[0]:
        used = step("ph_released_used")
    else:                 # no simulated gate: what the data fell below its peak
        peak, used = 0.0, []
        for x in step("ph_data"):
            peak = max(peak, x)
            used.append(peak - x)
    upper = [a + b for a, b in zip(total, used)]
    fig, ax = plt.subplots(figsize=(10, 6.0), dpi=100)
    mirrors = [(k, name, col, ls) for k, name, col, ls in
               (("newlib", "newlib (dlmalloc)", "#e67e22", "-"),
                ("nano", "newlib-nano", "#8e44ad", "--")) if k in steps[0]]
    top = max(upper + sum((step(k) for k, _, _, _ in mirrors), [])) * 1.1
    for i, (name, start, end) in enumerate(d.phases):
        if i % 2:
            ax.axvspan(start * d.tick_s, end * d.tick_s, color="#f4f6f7", zorder=0, lw=0)
        ax.text((start + end) / 2 * d.tick_s, top * 0.985, name, ha="center", va="top",
                fontsize=8, color="#566573")
    ax.fill_between(xs, 0, meta, step="post", color="#d7bde2", lw=0,
                    label="pageheap's metadata (always powered)", gid="band-metadata")
    ax.fill_between(xs, total, upper, step="post", color="#abebc6", lw=0,
                    label="released by pageheap's scavenger: RAM it had used, powered down",
                    gid="shade-released")
    if d.live:
        lx = [(t + 1) * d.tick_s for t, _ in d.live]
        ax.plot(lx, [m / KIB for _, m in d.live], color="#7f8c8d", lw=0.8, ls=":",
                label="live bytes of the workload (most per 100 ms)", gid="series-live")
    total_t = [a + b for a, b in zip(pt["ph_data"], pt["ph_meta"])]
    ax.step(xs, total, where="post", color="#1f77b4", lw=2.0, zorder=3,
            label="pageheap, data + metadata: mean %s" % kib_text(d.mean(total_t)),
            gid="series-pageheap")
    for k, name, col, ls in mirrors:
        ax.step(xs, step(k), where="post", color=col, lw=1.6, ls=ls,
                label="%s: mean %s" % (name, kib_text(d.mean(pt[k]))), gid="series-" + k)
    ax.set_xlim(0, d.ticks * d.tick_s)
    ax.set_ylim(0, top)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("RAM kept powered (KiB)")
    never = d.mean(pt["ph_released"]) - d.mean(pt["ph_released_used"])
    ax.set_title("RAM kept powered over the demo: %s (%s), seed %s" %
                 (d.board, d.info.get("cpu", "?"), d.info.get("seed", "?")), fontsize=11)
    handles, labels = ax.get_legend_handles_labels()
    first = ("pageheap,", "newlib")
    order = [i for i, x in enumerate(labels) if x.startswith(first)] + \
        [i for i, x in enumerate(labels) if not x.startswith(first)]
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper center",
              bbox_to_anchor=(0.5, -0.11), ncol=2, fontsize=8, frameon=False)
    ax.grid(axis="y", color="#e5e8e8", lw=0.6)
    never = "%.1f MiB" % (never / KIB / KIB) if never >= KIB * KIB else kib_text(never)
    fig.text(0.5, 0.01, "not drawn: %s of the heap's RAM that the workload never touched, "
             "powered down by pageheap from boot on" % never,
             ha="center", fontsize=7.5, color="#566573")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    for p in paths:
        fig.savefig(p, metadata={"Date": None} if p.endswith(".svg") else None)
    plt.close(fig)


def row_label(r):
    cell = int(r["cell"]) // 1024
    if r["alloc"] == "pageheap":
        return "pageheap region %s\n%s, %d KiB cells" % (r["region"], r["base"], cell)
    name = "newlib (dlmalloc)" if r["alloc"] == "newlib" else "newlib-nano"
    return "%s\nsbrk top %s" % (name, kib_text(int(r["top"])))


def row_extent(r):
    """KiB of the row worth drawing: up to the start of its uniform tail."""
    cells, cell = r["cells"], int(r["cell"])
    k = len(cells)
    while k > 0 and cells[k - 1] == cells[-1]:
        k -= 1
    if "top" in r:
        k = max(k, -(-int(r["top"]) // cell))
    return (k + 2) * cell / KIB


def plot_maps(d, path):
    snaps = [(name, d.maps[name]) for name in ("peak", "end") if name in d.maps]
    if not snaps:
        raise SystemExit("plot-demo: %s: no '@map' lines" % d.path)
    xmax = max(row_extent(r) for _, rows in snaps for r in rows)
    nrows = sum(len(rows) for _, rows in snaps)
    nl = any(r["alloc"] != "pageheap" for _, rows in snaps for r in rows)
    fig, axes = plt.subplots(len(snaps), 1, figsize=(10, 1.2 + 0.55 * nrows), dpi=100,
                             squeeze=False)
    for ax, (name, rows) in zip(axes[:, 0], snaps):
        t = int(rows[0]["t"])
        what = "at pageheap's peak" if name == "peak" else "at the end (every object freed)"
        ax.set_title("%s, t = %.2f s" % (what, t * d.tick_s), fontsize=10, loc="left")
        labels = []
        for y, r in enumerate(rows):
            cell = int(r["cell"]) / KIB
            blank = ABOVE_TOP if r["alloc"] != "pageheap" else "white"
            shown = 0
            for i, c in enumerate(r["cells"]):
                x = i * cell
                if x >= xmax:
                    break
                shown = i + 1
                ax.add_patch(plt.Rectangle((x, y - 0.35), cell, 0.7, lw=0.4, ec="white",
                                           fc=COLOUR.get(c, blank),
                                           gid="cell-%s-%s-%d" % (name, r["alloc"], y)
                                           if i == 0 else None))
            if "top" in r:
                xt = int(r["top"]) / KIB
                ax.plot([xt, xt], [y - 0.45, y + 0.45], color="black", lw=1.2)
            rest = r["cells"][shown:]
            if rest:
                more = len(rest) * cell
                what = dict((c, n) for c, n, _ in STATES).get(rest[0], "above the sbrk top")
                note = ("+ %d KiB, all %s" % (more, what)) if len(set(rest)) == 1 \
                    else "+ %d KiB more" % more
                ax.text(xmax * 1.005, y, note, va="center", fontsize=7, color="#566573")
            labels.append(row_label(r))
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(labels, fontsize=7.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, xmax * 1.2)
        ax.set_xticks([x for x in ax.get_xticks() if 0 <= x <= xmax])
        ax.set_xlabel("KiB from the start of the region (pageheap) or arena (newlib)"
                      if nl else "KiB from the start of the region", fontsize=8)
        for s in ("top", "right", "left"):
            ax.spines[s].set_visible(False)
        ax.tick_params(axis="y", length=0)
    handles = [Patch(fc=col, ec="#bbbbbb", lw=0.5, label="%s %s" % (c, n)) for c, n, col in STATES]
    if nl:
        handles.append(Patch(fc=ABOVE_TOP, ec="#bbbbbb", lw=0.5,
                             label="above newlib's sbrk top (|, counted as off)"))
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7.5, frameon=False)
    fig.suptitle("The heap per granule: %s (%s)" % (d.board, d.info.get("cpu", "?")),
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def render(d, out_dir, png=None):
    os.makedirs(out_dir, exist_ok=True)
    ram = os.path.join(out_dir, "%s-ram.svg" % d.board)
    maps = os.path.join(out_dir, "%s-map.svg" % d.board)
    if png:
        os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    plot_ram(d, [ram] + ([png] if png else []))
    plot_maps(d, maps)
    return ram, maps


def check(fixture):
    d = Demo(fixture)
    bad = []
    with tempfile.TemporaryDirectory(prefix="ph-plot-") as tmp:
        ram, maps = render(d, tmp, os.path.join(tmp, "ram.png"))
        for p in (ram, maps, os.path.join(tmp, "ram.png")):
            if not os.path.isfile(p) or os.path.getsize(p) < 1000:
                bad.append("%s missing or empty" % os.path.basename(p))
        text = open(ram, encoding="utf-8").read() if os.path.isfile(ram) else ""
        mirrors = [k for k in ("newlib", "nano") if k in d.series[0]]
        for gid in ["series-pageheap", "shade-released", "band-metadata", "series-live"] + \
                ["series-" + k for k in mirrors]:
            if 'id="%s"' % gid not in text:
                bad.append("%s: no %s" % (os.path.basename(ram), gid))
        text = open(maps, encoding="utf-8").read() if os.path.isfile(maps) else ""
        for name in ("peak", "end"):
            for y, r in enumerate(d.maps.get(name, [])):
                if 'id="cell-%s-%s-%d"' % (name, r["alloc"], y) not in text:
                    bad.append("%s: no %s row of %s" % (os.path.basename(maps), name, r["alloc"]))
            if name not in d.maps:
                bad.append("no '@map name=%s' lines" % name)
    # The series against the demo's own summary table.
    pt = d.per_tick
    total = [a + b for a, b in zip(pt["ph_data"], pt["ph_meta"])]
    mirrors = [k for k in ("newlib", "nano") if k in d.series[0]]
    want = {
        "RAM powered in all, mean over the run": [d.mean(total)] + [d.mean(pt[k]) for k in mirrors],
        "RAM powered for the data, mean over the run":
            [d.mean(pt["ph_data"])] + [d.mean(pt[k]) for k in mirrors],
        "RAM powered for the data, peak": [max(pt["ph_data"])],
    }
    if d.end:
        want["RAM powered for the data at the end (all freed)"] = \
            [d.end["ph_data"]] + [d.end[k] for k in mirrors]
    for row, values in want.items():
        got = d.summary.get(row)
        if got is None:
            bad.append("no summary row '%s'" % row)
            continue
        for i, v in enumerate(values):
            if i < len(got) and got[i] != kib_text(v):
                bad.append("'%s', column %d: the series give %s, the table %s" %
                           (row, i + 1, kib_text(v), got[i]))
    if bad:
        for b in bad:
            print("plot-demo: check: " + b)
        print("plot-demo: check: FAIL (%s)" % fixture)
        return 1
    print("plot-demo: check: PASS (%s: %d series lines, %d ticks; both SVGs drawn, their "
          "means, peak and end = the summary table)" %
          (os.path.relpath(fixture, ROOT), len(d.series), d.ticks))
    return 0


def main(argv):
    if argv[:1] == ["--check"]:
        return check(argv[1] if len(argv) > 1 else
                     os.path.join(ROOT, "demo", "qemu", "sample-output.txt"))
    if not argv or argv[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    src, out_dir, png = argv[0], None, None
    i = 1
    while i < len(argv):
        if argv[i] == "--out-dir" and i + 1 < len(argv):
            out_dir = argv[i + 1]
        elif argv[i] == "--png" and i + 1 < len(argv):
            png = argv[i + 1]
        else:
            print("plot-demo: unknown argument %s" % argv[i], file=sys.stderr)
            return 2
        i += 2
    d = Demo(src)
    ram, maps = render(d, out_dir or os.path.dirname(os.path.abspath(src)), png)
    for p in (ram, maps) + ((png,) if png else ()):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
