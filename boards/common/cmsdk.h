/* SPDX-License-Identifier: MIT */
/*
 * boards/common/cmsdk.h: the Arm CMSDK APB UART and 32-bit timer, as
 * QEMU models them on mps2-an385/an386/an500, mps2-an505 and mps3-an547.
 *
 * UART: DATA +0x00, STATE +0x04 (bit 0: TX full), CTRL +0x08 (bit 0: TX
 * enable; QEMU prints nothing until it is set), BAUDDIV +0x10 (>= 16).
 * Timer: CTRL +0x00 (bit 0 enable), VALUE +0x04 (counts down at the APB
 * clock, reloads at 0), RELOAD +0x08.  Free-running from 0xFFFFFFFF, so
 * ~VALUE counts up from 0.
 */
#ifndef PH_BOARD_CMSDK_H
#define PH_BOARD_CMSDK_H

#include <stdint.h>

#define CMSDK_REG(base, off) (*(volatile uint32_t *)(uintptr_t)((base) + (off)))

static inline void cmsdk_uart_init(uintptr_t base)
{
    CMSDK_REG(base, 0x10) = 16; /* BAUDDIV: any legal value, QEMU ignores speed */
    CMSDK_REG(base, 0x08) = 1;  /* TX enable */
}

static inline void cmsdk_uart_putc(uintptr_t base, int c)
{
    while (CMSDK_REG(base, 0x04) & 1u)
        ;
    CMSDK_REG(base, 0x00) = (uint32_t)(unsigned char)c;
}

static inline void cmsdk_timer_free_run(uintptr_t base)
{
    CMSDK_REG(base, 0x00) = 0;
    CMSDK_REG(base, 0x08) = 0xFFFFFFFFu;
    CMSDK_REG(base, 0x04) = 0xFFFFFFFFu;
    CMSDK_REG(base, 0x00) = 1;
}

static inline uint32_t cmsdk_timer_count_up(uintptr_t base)
{
    return ~CMSDK_REG(base, 0x04);
}

#endif /* PH_BOARD_CMSDK_H */
