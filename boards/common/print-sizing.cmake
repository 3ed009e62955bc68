# SPDX-License-Identifier: MIT
# boards/common/print-sizing.cmake: prints what boards/common/sizing.cmake
# gives one board, without configuring it (scripts/check-boards.sh sizes):
#
#   cmake -DPH_ROOT=<repository> -DPH_BOARD=<board> -P boards/common/print-sizing.cmake
#
# one line: "<board> ram=R suite=A from_heap=F scale=S nano=N demo_mirror=M
# demo_defines=D bench_heap=H bench_arena=B".
set(PROJECT_SOURCE_DIR ${PH_ROOT})
set(_ph_root ${PH_ROOT})
include(${PH_ROOT}/boards/${PH_BOARD}/board.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/sizing.cmake)
string(REPLACE ";" "," _defs "${PH_BOARD_DEMO_DEFINES}")
message("${PH_BOARD} ram=${PH_BOARD_RAM_BYTES} suite=${PH_BOARD_SUITE_ARENA_BYTES}"
        " from_heap=${PH_BOARD_SUITE_ARENA_FROM_HEAP} scale=${PH_BOARD_SUITE_SCALE_PCT}"
        " nano=${PH_BOARD_SUITE_NANO} demo_mirror=${PH_BOARD_DEMO_MIRROR_BYTES}"
        " demo_defines=${_defs} bench_heap=${PH_BOARD_BENCH_HEAP_BYTES}"
        " bench_arena=${PH_BOARD_BENCH_ARENA_BYTES}")
