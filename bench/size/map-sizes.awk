# SPDX-License-Identifier: MIT
# bench/size/map-sizes.awk: from a GNU ld map file (-Wl,-Map), the bytes of
# the input sections the link kept, per object file (an archive member's
# name alone), as "member rom|ram bytes" lines: rom = .text, .rodata,
# .ARM.exidx / .ARM.extab; ram = .data, .bss.  Only the part after
# "Linker script and memory map" is read (the discarded sections come
# before it).  A section whose name does not fit its line is continued on
# the next one; both forms are read.
/^Linker script and memory map/ { on = 1; next }
!on { next }
/^OUTPUT\(/ { exit }
{
    line = $0
    if (pending != "") { line = pending " " line; pending = "" }
    n = split(line, f, " ")
    if (n == 1 && f[1] ~ /^\./) { pending = f[1]; next }
    if (n >= 4 && f[1] ~ /^\.(text|rodata|data|bss|ARM\.exidx|ARM\.extab)/ &&
        f[2] ~ /^0x/ && f[3] ~ /^0x/) {
        m = f[4]
        sub(/.*\(/, "", m)
        sub(/\)$/, "", m)
        sub(/.*\//, "", m)
        kind = (f[1] ~ /^\.(data|bss)/) ? "ram" : "rom"
        tot[m " " kind] += hex(f[3])
    }
}
END { for (k in tot) if (tot[k] > 0) print k, tot[k] }
function hex(s,   i, v) {
    v = 0
    s = tolower(substr(s, 3))
    for (i = 1; i <= length(s); i++)
        v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v
}
