/* SPDX-License-Identifier: MIT */
/*
 * bench_callgrind.h: what the benchmark programs share to be measured by
 * callgrind: its client requests (no-ops when valgrind's headers are not
 * installed, where only --mode plain is meaningful) and the attribute that
 * keeps a measured wrapper a real call of a fixed shape, so that the
 * ZERO/DUMP bracket costs the same around every call.
 */
#ifndef PH_BENCH_CALLGRIND_H
#define PH_BENCH_CALLGRIND_H

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
#define CALLGRIND_ZERO_STATS do { } while (0)
#define CALLGRIND_DUMP_STATS_AT(s) do { (void)(s); } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION do { } while (0)
#define CALLGRIND_START_INSTRUMENTATION do { } while (0)
#endif

#if defined(__clang__)
#define BENCH_OPAQUE __attribute__((noinline, used))
#else
#define BENCH_OPAQUE __attribute__((noipa, used))
#endif

#endif
