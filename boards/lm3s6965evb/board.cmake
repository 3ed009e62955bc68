# SPDX-License-Identifier: MIT
# boards/lm3s6965evb/board.cmake: the board's facts (see boards/README.md).
# Keep each set() on one line (scripts/board.sh reads them).  The sizes of
# the suite's arena, the demo's and the benchmark's buffers follow from the
# 64 KiB of SRAM in linker/lm3s6965evb.ld (boards/common/board.cmake).
set(PH_BOARD_CPU cortex-m3)
set(PH_BOARD_FLOAT_ABI soft)
set(PH_BOARD_ARCH cortex-m)
set(PH_BOARD_QEMU_MACHINE lm3s6965evb)
set(PH_BOARD_QEMU_ARGS "")
set(PH_BOARD_LINKER_SCRIPT ${PROJECT_SOURCE_DIR}/linker/lm3s6965evb.ld)
set(PH_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(PH_BOARD_DEFINES PH_SIMGATE_MAX_GRANULES=32u)
set(PH_BOARD_NUM_IRQS 64)
