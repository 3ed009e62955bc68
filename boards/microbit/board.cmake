# SPDX-License-Identifier: MIT
# boards/microbit/board.cmake: the board's facts (see boards/README.md).
# Keep each set() on one line (scripts/board.sh reads them).
set(PH_BOARD_CPU cortex-m0)
set(PH_BOARD_FLOAT_ABI soft)
set(PH_BOARD_ARCH cortex-m)
set(PH_BOARD_QEMU_MACHINE microbit)
set(PH_BOARD_QEMU_ARGS "")
set(PH_BOARD_LINKER_SCRIPT ${PROJECT_SOURCE_DIR}/linker/microbit.ld)
set(PH_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(PH_BOARD_DEFINES PH_SIMGATE_MAX_GRANULES=16u)
set(PH_BOARD_NUM_IRQS 32)
