/* SPDX-License-Identifier: MIT */
/*
 * ph_hwgate_test.h: the harness the host unit tests of the RAM-gating ports
 * (port/nrf52840/test, port/rp2040/test) share: check counters and macros,
 * the log of register writes the port's ph_hwgate_mmio_trace hands the
 * test, the model of powered-down RAM on mmap'd memory, and the trap hook.
 * Included once, by the test's one source file (everything is static).
 */
#ifndef PH_HWGATE_TEST_H
#define PH_HWGATE_TEST_H

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- checks ----------------------------------------------------------------- */

static int failures, checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_EQ(a, b)                                                           \
    do {                                                                         \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
        checks++;                                                                \
        if (a_ != b_) {                                                          \
            failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = 0x%llx, %s = 0x%llx\n", \
                    __FILE__, __LINE__, #a, a_, #b, b_);                         \
        }                                                                        \
    } while (0)

/* The last line of a test: the counts; the exit status. */
static int checks_summary(const char *test)
{
    printf("%s: %d checks, %d failed\n", test, checks, failures);
    return failures == 0 ? 0 : 1;
}

/* ---- the register write log --------------------------------------------------- */

typedef struct mmio_write {
    uint32_t off;   /* from the register block the test names */
    uint32_t value;
} mmio_write;

static mmio_write wlog[256];
static size_t nwlog;

static void log_write(uint32_t off, uint32_t value)
{
    if (nwlog < sizeof wlog / sizeof wlog[0])
        wlog[nwlog++] = (mmio_write){off, value};
}

/* The log holds exactly these writes (offset, value pairs); then cleared. */
static void expect_writes(int line, size_t n, const mmio_write *want)
{
    checks++;
    if (nwlog != n || (n != 0 && memcmp(wlog, want, n * sizeof *want) != 0)) {
        failures++;
        fprintf(stderr, "%s:%d: register writes differ; got %zu:", __FILE__, line, nwlog);
        for (size_t i = 0; i < nwlog; i++)
            fprintf(stderr, " [+0x%x]=0x%08x", wlog[i].off, wlog[i].value);
        fprintf(stderr, "; want %zu:", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " [+0x%x]=0x%08x", want[i].off, want[i].value);
        fprintf(stderr, "\n");
    }
    nwlog = 0;
}

#define EXPECT_WRITES(...)                                                    \
    do {                                                                      \
        static const mmio_write want_[] = {__VA_ARGS__};                      \
        expect_writes(__LINE__, sizeof want_ / sizeof want_[0], want_);       \
    } while (0)
#define EXPECT_NO_WRITES() expect_writes(__LINE__, 0, NULL)

/* ---- the RAM ------------------------------------------------------------------ */

/* Powered down: what was there is gone, and any touch crashes the test. */
static void fake_ram_off(uint8_t *s, size_t size)
{
    memset(s, 0xA5, size);
    if (mprotect(s, size, PROT_NONE) != 0)
        perror("mprotect");
}

/* Powered up: usable again, holding anything (a fresh SRAM). */
static void fake_ram_on(uint8_t *s, size_t size)
{
    if (mprotect(s, size, PROT_READ | PROT_WRITE) != 0)
        perror("mprotect");
    memset(s, 0x5A, size);
}

/* `size` bytes of RAM aligned to `align` (a power of two) inside a fresh
 * mapping of size + align bytes (*map); NULL when mmap fails. */
static uint8_t *fake_ram_map(size_t size, size_t align, uint8_t **map)
{
    *map = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (*map == MAP_FAILED) {
        perror("mmap");
        return NULL;
    }
    return (uint8_t *)(((uintptr_t)*map + align - 1) & ~(uintptr_t)(align - 1));
}

/* ---- the port's trap ---------------------------------------------------------- */

static int traps, last_trap;
static void on_trap(void *ctx, int err, const void *base, size_t len)
{
    (void)ctx;
    (void)base;
    (void)len;
    traps++;
    last_trap = err;
}

#endif /* PH_HWGATE_TEST_H */
