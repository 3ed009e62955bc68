/* SPDX-License-Identifier: MIT */
/*
 * boards/common/semihost.c: the one semihosting call the boards need,
 * SYS_EXIT_EXTENDED (0x20): QEMU (-semihosting-config enable=on) ends with
 * the given status as its own exit code.  The call is `bkpt 0xab` on
 * Cortex-M, `svc 0xab` (Thumb) / `svc 0x123456` (Arm) on Cortex-A in a
 * privileged mode.  Without a debugger or semihosting the core would stop
 * or trap here, so the loop after it only guards against a return.
 */
#include "board_internal.h"

#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int board_semihost_call(uint32_t op, void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
#elif defined(__thumb__)
    __asm__ volatile("svc 0xab" : "+r"(r0) : "r"(r1) : "memory");
#else
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory");
#endif
    return (int)r0;
}

void board_semihost_exit(int status)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    board_semihost_call(SYS_EXIT_EXTENDED, block);
    for (;;)
        ;
}
