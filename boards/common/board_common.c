/* SPDX-License-Identifier: MIT */
/*
 * boards/common/board_common.c: the parts of the board API that are the
 * same on every board (boards/common/board.h, port/newlib's board hooks):
 *
 *   ph_board_regions  the heap's RAM banks, read from the linker script's
 *                     symbols __ph_heap<N>_start / _end / _granule
 *                     (N = 0..BOARD_MAX_HEAPS-1; the granule symbol's value
 *                     is the bank's power-section size, 0 = never released);
 *   ph_board_port     the simulated power gate (port/simgate) over the
 *                     core's interrupt-masking lock (port/cortex-m or
 *                     port/cortex-a), fault -> ph_board_fault;
 *   (ph_board_fault, counting refused heap calls, is board_faults.c);
 *   console helpers without stdio (board_puts, board_put_hex, ...).
 *
 * board_gate_setup() (called by the start-up code after board_init) gives
 * the simgate every region with a granule.
 */
#include "board.h"
#include "board_internal.h"
#include "ph_simgate.h"

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#include "ph_cortexm.h"
typedef ph_cortexm_lock_t board_lock_t;
#define board_lock_port_init ph_cortexm_port_init
#else
#include "ph_cortexa.h"
typedef ph_cortexa_lock_t board_lock_t;
#define board_lock_port_init ph_cortexa_port_init
#endif

/* ---- console helpers ------------------------------------------------------- */

void board_puts(const char *s)
{
    while (*s)
        board_putc(*s++);
}

void board_put_hex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    board_puts("0x");
    for (int i = 28; i >= 0; i -= 4)
        board_putc(digits[(v >> i) & 0xFu]);
}

void board_put_dec(uint32_t v)
{
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0)
        board_putc(buf[--n]);
}

/* ---- heap regions from the linker script ------------------------------------ */

/* Weak: a board's script defines as many banks as it has. */
#define BOARD_HEAP_SYMS(n)                                                    \
    extern char __ph_heap##n##_start[] __attribute__((weak));                \
    extern char __ph_heap##n##_end[] __attribute__((weak));                  \
    extern char __ph_heap##n##_granule[] __attribute__((weak));
BOARD_HEAP_SYMS(0)
BOARD_HEAP_SYMS(1)
BOARD_HEAP_SYMS(2)
BOARD_HEAP_SYMS(3)

static ph_newlib_region board_regions[BOARD_MAX_HEAPS];
static size_t board_nregions;

static void board_add_heap(char *start, char *end, char *granule)
{
    if (start == 0 || end == 0 || end <= start)
        return;
    board_regions[board_nregions].start = start;
    board_regions[board_nregions].end = end;
    board_regions[board_nregions].granule = (size_t)(uintptr_t)granule;
    board_nregions++;
}

const ph_newlib_region *ph_board_regions(size_t *count)
{
    if (board_nregions == 0) {
        board_add_heap(__ph_heap0_start, __ph_heap0_end, __ph_heap0_granule);
        board_add_heap(__ph_heap1_start, __ph_heap1_end, __ph_heap1_granule);
        board_add_heap(__ph_heap2_start, __ph_heap2_end, __ph_heap2_granule);
        board_add_heap(__ph_heap3_start, __ph_heap3_end, __ph_heap3_granule);
    }
    *count = board_nregions;
    return board_regions;
}

/* ---- the port: simulated gate over the interrupt-masking lock ----------------- */

static board_lock_t board_lock;
static ph_port board_lock_port;
static struct ph_simgate board_gate;
static int board_gate_ready;

static void board_port_fault(void *ctx, int code, const void *addr)
{
    (void)ctx;
    ph_board_fault(code, addr);
}

static void board_gate_violation(struct ph_simgate *g, int kind, const void *addr)
{
    static const char *const what[] = {
        "?", "release of a range that is not whole granules of a region",
        "release of a granule already released",
        "acquire of a range that is not whole granules of a region",
        "acquire of a granule that is not released",
        "a released granule was written (poison broken)",
        "a released granule was touched (MPU)"};
    (void)g;
    board_puts("\nsimgate: VIOLATION: ");
    board_puts(kind > 0 && kind <= PH_SIMGATE_MPU_FAULT ? what[kind] : what[0]);
    board_puts(" at ");
    board_put_hex((uint32_t)(uintptr_t)addr);
    board_puts("\n");
    board_exit(BOARD_EXIT_SIMGATE);
}

void board_gate_setup(void)
{
    size_t n;
    const ph_newlib_region *r;
    if (board_gate_ready)
        return;
    board_lock_port_init(&board_lock_port, &board_lock, board_port_fault);
    ph_simgate_init(&board_gate, &board_lock_port, board_gate_violation);
    if (board_gate_protect)
        board_gate.protect = board_gate_protect; /* e.g. the Cortex-A MMU */
    r = ph_board_regions(&n);
    for (size_t i = 0; i < n; i++) {
        if (r[i].granule == 0)
            continue;
        if (ph_simgate_add_region(&board_gate, r[i].start,
                                  (size_t)((char *)r[i].end - (char *)r[i].start),
                                  r[i].granule) != 0) {
            board_puts("board: simgate cannot record heap region ");
            board_put_hex((uint32_t)(uintptr_t)r[i].start);
            board_puts(" (PH_SIMGATE_MAX_GRANULES too small?)\n");
            board_exit(BOARD_EXIT_SIMGATE);
        }
    }
    board_gate_ready = 1;
}

const ph_port *ph_board_port(void)
{
    board_gate_setup();
    return ph_simgate_port(&board_gate);
}

struct ph_simgate *board_simgate(void)
{
    board_gate_setup();
    return &board_gate;
}
