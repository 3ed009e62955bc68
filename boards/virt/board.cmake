# SPDX-License-Identifier: MIT
# boards/virt/board.cmake: the board's facts (see boards/README.md).
# Keep each set() on one line (scripts/board.sh reads them).
set(PH_BOARD_CPU cortex-a15)
set(PH_BOARD_FLOAT_ABI hard)
set(PH_BOARD_ARCH cortex-a)
set(PH_BOARD_QEMU_MACHINE virt)
set(PH_BOARD_QEMU_ARGS -cpu cortex-a15 -m 128M -net none)
set(PH_BOARD_LINKER_SCRIPT ${PROJECT_SOURCE_DIR}/linker/virt.ld)
set(PH_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(PH_BOARD_DEFINES BOARD_CA_RAM_MB=128 PH_NEWLIB_PAGE_SIZE=4096u)
set(PH_BOARD_NUM_IRQS 128)
