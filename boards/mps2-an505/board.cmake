# SPDX-License-Identifier: MIT
# boards/mps2-an505/board.cmake: the board's facts (see boards/README.md).
# Keep each set() on one line (scripts/board.sh reads them).
set(PH_BOARD_CPU cortex-m33)
set(PH_BOARD_FLOAT_ABI hard)
set(PH_BOARD_ARCH cortex-m)
set(PH_BOARD_QEMU_MACHINE mps2-an505)
set(PH_BOARD_QEMU_ARGS "")
set(PH_BOARD_LINKER_SCRIPT ${PROJECT_SOURCE_DIR}/linker/mps2-an505.ld)
set(PH_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(PH_BOARD_DEFINES PH_NEWLIB_PAGE_SIZE=2048u)
set(PH_BOARD_NUM_IRQS 128)
