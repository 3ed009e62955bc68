# SPDX-License-Identifier: MIT
# boards/mps2-an500/board.cmake: the board's facts (see boards/README.md).
# Keep each set() on one line (scripts/board.sh reads them).
set(PH_BOARD_CPU cortex-m7)
set(PH_BOARD_FLOAT_ABI hard)
set(PH_BOARD_ARCH cortex-m)
set(PH_BOARD_QEMU_MACHINE mps2-an500)
set(PH_BOARD_QEMU_ARGS "")
set(PH_BOARD_LINKER_SCRIPT ${PROJECT_SOURCE_DIR}/linker/mps2-an500.ld)
set(PH_BOARD_SOURCES ${PROJECT_SOURCE_DIR}/boards/mps2-an385/board.c)
set(PH_BOARD_DEFINES BOARD_NAME="mps2-an500" BOARD_CPU="cortex-m7" PH_NEWLIB_PAGE_SIZE=2048u)
set(PH_BOARD_NUM_IRQS 32)
