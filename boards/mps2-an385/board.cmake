# SPDX-License-Identifier: MIT
# boards/mps2-an385/board.cmake: the board's facts (see boards/README.md).
# Read by boards/common/board.cmake and, line by line, by scripts/board.sh:
# keep each set() on one line.
set(PH_BOARD_CPU cortex-m3)
set(PH_BOARD_FLOAT_ABI soft)
set(PH_BOARD_ARCH cortex-m)
set(PH_BOARD_QEMU_MACHINE mps2-an385)
set(PH_BOARD_QEMU_ARGS "")
set(PH_BOARD_LINKER_SCRIPT ${PROJECT_SOURCE_DIR}/linker/mps2-an385.ld)
set(PH_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(PH_BOARD_DEFINES PH_NEWLIB_PAGE_SIZE=2048u)
set(PH_BOARD_NUM_IRQS 32)
