/* SPDX-License-Identifier: MIT */
/*
 * ph_port_madvise.h: a host port that gives free granules back to the
 * operating system, as the Go runtime does on Linux.
 *
 *   release  madvise(MADV_DONTNEED) on the whole OS pages inside the range.
 *            On private anonymous memory (mmap MAP_PRIVATE|MAP_ANONYMOUS)
 *            the kernel drops the physical pages at once: the process's
 *            resident set falls, and the contents are lost.
 *   acquire  nothing but counting.  After MADV_DONTNEED a private anonymous
 *            page is still mapped read-write; the next access faults in a
 *            fresh zero page.  So the memory is "usable again on return"
 *            without any system call, which is all that ph_port.acquire
 *            promises (the contents of acquired memory are undefined to the
 *            heap's users anyway).  The hook only counts, so a demo can show
 *            how often the heap re-powered a granule.
 *   lock     a pthread mutex (non-recursive: the heap never nests its lock).
 *   fault    counted; with `verbose`, one line on stderr per refused call.
 *
 * Memory handed to a heap that uses this port must be private anonymous
 * memory (or any memory whose contents may be dropped: on a shared or file
 * mapping MADV_DONTNEED brings back the file's contents, which is harmless
 * to the heap but frees nothing).  A granule smaller than the OS page is
 * accepted but frees only the OS pages that a release call covers whole
 * (adjacent granules released together may cover one).
 *
 * Host only: uses libc, POSIX and pthreads, never built for a board.
 */
#ifndef PH_PORT_MADVISE_H
#define PH_PORT_MADVISE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "pageheap.h"

typedef struct ph_madvise_port {
    ph_port port;            /* hand &port to ph_init                        */
    pthread_mutex_t mutex;
    size_t os_page;          /* sysconf(_SC_PAGESIZE)                        */
    bool verbose;            /* faults reported on stderr                    */
    /* counters (read them with the heap idle or under the heap's lock) */
    size_t faults;           /* fault hook calls                             */
    int last_fault_code;
    const void *last_fault_addr;
    size_t release_calls;    /* release hook calls                           */
    size_t bytes_released;   /* bytes the heap handed to release             */
    size_t bytes_advised;    /* bytes actually passed to madvise             */
    size_t madvise_errors;   /* madvise calls that failed (errno ignored)   */
    size_t acquire_calls;    /* acquire hook calls                           */
    size_t bytes_acquired;   /* bytes the heap handed to acquire             */
} ph_madvise_port;

/* Sets up *p with every hook.  Returns 0, or
 * -1 when the mutex cannot be created. */
int ph_madvise_port_init(ph_madvise_port *p, bool verbose);

/* Destroys the mutex.  The heap must not be used afterwards. */
void ph_madvise_port_destroy(ph_madvise_port *p);

#endif /* PH_PORT_MADVISE_H */
