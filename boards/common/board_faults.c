/* SPDX-License-Identifier: MIT */
/*
 * boards/common/board_faults.c: ph_board_fault, the heap's report of a
 * refused call (a bad free or realloc), counted with the code and address
 * of the last one for board_heap_faults (boards/common/board.h).  Its own
 * file so that firmware on another start-up (port/picolibc's test) counts
 * the same way.
 */
#include "board.h"

static volatile unsigned long board_fault_count;
static volatile int board_fault_code;
static const void *volatile board_fault_addr;

void ph_board_fault(int code, const void *addr)
{
    board_fault_count++;
    board_fault_code = code;
    board_fault_addr = addr;
}

unsigned long board_heap_faults(int *last_code, const void **last_addr)
{
    if (last_code)
        *last_code = board_fault_code;
    if (last_addr)
        *last_addr = board_fault_addr;
    return board_fault_count;
}
