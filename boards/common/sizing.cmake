# SPDX-License-Identifier: MIT
# boards/common/sizing.cmake: the sizes the firmware folders take from a
# board's RAM.  Included by boards/common/board.cmake (and, in script mode,
# by scripts/check-boards.sh through print-sizing.cmake) with
# PH_BOARD_LINKER_SCRIPT set and _ph_root the repository; sets every
# PH_BOARD_SUITE_* / PH_BOARD_DEMO_* / PH_BOARD_BENCH_* variable the
# board's board.cmake left unset, and PH_BOARD_RAM_BYTES.
#
# target-tests/, demo/qemu/ and bench/target/ put static buffers (the suite's
# arena, newlib's arenas in the demo, the benchmark's heap) in .bss, which
# shares REGION_DATA with the stack and heap bank 0.  So they are sized from
# that RAM, never by board name: a new board gets them from its linker
# script and sets a PH_BOARD_* variable in its board.cmake only to differ.

# _ph_ld_bytes(<out> <text>): a linker-script size ("64K", "4M", "0x10000").
function(_ph_ld_bytes out text)
  string(STRIP "${text}" text)
  if(text MATCHES "^(0[xX][0-9a-fA-F]+|[0-9]+)([KkMm]?)$")
    math(EXPR n "${CMAKE_MATCH_1}")
    string(TOUPPER "${CMAKE_MATCH_2}" suffix) # (each MATCHES below resets CMAKE_MATCH_*)
    if(suffix STREQUAL "K")
      math(EXPR n "${n} * 1024")
    elseif(suffix STREQUAL "M")
      math(EXPR n "${n} * 1024 * 1024")
    endif()
    set(${out} ${n} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# _ph_board_ram_bytes(<out> <script>): LENGTH of the MEMORY region that
# REGION_DATA aliases, following INCLUDEs of other board scripts.
function(_ph_board_ram_bytes out script)
  set(text "")
  set(todo ${script})
  while(todo)
    list(POP_FRONT todo f)
    file(READ ${f} t)
    string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" "" t "${t}") # comments
    string(APPEND text "${t}\n")
    string(REGEX MATCHALL "INCLUDE[ \t]+[A-Za-z0-9_./-]+" incs "${t}")
    foreach(i ${incs})
      string(REGEX REPLACE "INCLUDE[ \t]+" "" i "${i}")
      if(NOT i STREQUAL "sections.ld")
        list(APPEND todo ${_ph_root}/linker/${i})
      endif()
    endforeach()
  endwhile()
  set(${out} "" PARENT_SCOPE)
  if(text MATCHES "REGION_ALIAS[ \t]*\\([ \t]*\"?REGION_DATA\"?[ \t]*,[ \t]*([A-Za-z0-9_]+)")
    set(region ${CMAKE_MATCH_1})
    if(text MATCHES "[ \t\n]${region}[ \t]*(\\([^)]*\\))?[ \t]*:[ \t]*(ORIGIN|org|o)[ \t]*=[^,]*,[ \t]*(LENGTH|len|l)[ \t]*=[ \t]*([0-9A-Fa-fxXKM]+)")
      _ph_ld_bytes(n "${CMAKE_MATCH_4}")
      set(${out} ${n} PARENT_SCOPE)
    endif()
  endif()
endfunction()

if(NOT DEFINED PH_BOARD_RAM_BYTES)
  _ph_board_ram_bytes(PH_BOARD_RAM_BYTES ${PH_BOARD_LINKER_SCRIPT})
endif()
if(NOT PH_BOARD_RAM_BYTES MATCHES "^[0-9]+$" OR PH_BOARD_RAM_BYTES LESS 4096)
  message(FATAL_ERROR "cannot read REGION_DATA's LENGTH from ${PH_BOARD_LINKER_SCRIPT} "
                      "(got '${PH_BOARD_RAM_BYTES}'): set PH_BOARD_RAM_BYTES in "
                      "boards/${PH_BOARD}/board.cmake")
endif()

# _ph_board_default(<var> <value>): the board's value, else this default.
macro(_ph_board_default var value)
  if(NOT DEFINED ${var})
    set(${var} ${value})
  endif()
endmacro()

# _ph_round4k(<out> <bytes>): rounded down to 4 KiB.
function(_ph_round4k out n)
  math(EXPR n "${n} / 4096 * 4096")
  set(${out} ${n} PARENT_SCOPE)
endfunction()

# The defaults, in RAM classes (R = PH_BOARD_RAM_BYTES):
#   R <= 32 KiB (tiny: microbit's 16 KiB): the suite borrows a 4 KiB arena
#     from the default heap (no static arena worth testing in fits beside the
#     stack and the default heap), runs 40 % of the operations, newlib-nano;
#     the demo has no newlib comparison and small tables; no benchmark.
#   R < 1 MiB (small: netduinoplus2's 192 KiB, lm3s6965evb's 64 KiB): a
#     static suite arena of R/4, newlib's two demo arenas R*5/24 each, the
#     benchmark's heap R/3 in an arena of R*7/12 (each rounded down to
#     4 KiB); below 128 KiB the demo's tables shrink too, and there is
#     no benchmark (its trace and statistics tables alone take 40 KiB).
#   else: the full sizes (the small-object trace's heap), 256 KiB arenas and heaps (512 KiB bench arena).
set(_r ${PH_BOARD_RAM_BYTES})
set(_tiny_demo MAX_PACKETS=24 SENSOR_RING=24 EVENT_LOG=8 MAP_MAX_CELLS=128)
set(_small_demo MAX_PACKETS=96 SENSOR_RING=64 EVENT_LOG=24 MAP_MAX_CELLS=512)
if(_r LESS_EQUAL 32768)
  _ph_board_default(PH_BOARD_SUITE_ARENA_BYTES 4096)
  _ph_board_default(PH_BOARD_SUITE_ARENA_FROM_HEAP 1)
  _ph_board_default(PH_BOARD_SUITE_SCALE_PCT 40)
  _ph_board_default(PH_BOARD_SUITE_NANO ON)
  _ph_board_default(PH_BOARD_DEMO_MIRROR_BYTES 0)
  _ph_board_default(PH_BOARD_DEMO_DEFINES "${_tiny_demo}")
  _ph_board_default(PH_BOARD_BENCH_HEAP_BYTES 0)
  _ph_board_default(PH_BOARD_BENCH_ARENA_BYTES 0)
elseif(_r LESS 1048576)
  math(EXPR _a "${_r} / 4")
  _ph_round4k(_a ${_a})
  _ph_board_default(PH_BOARD_SUITE_ARENA_BYTES ${_a})
  math(EXPR _a "${_r} * 5 / 24")
  _ph_round4k(_a ${_a})
  _ph_board_default(PH_BOARD_DEMO_MIRROR_BYTES ${_a})
  if(_r LESS 131072)
    _ph_board_default(PH_BOARD_DEMO_DEFINES "${_small_demo}")
    # bench.c's own tables (trace, statistics) take 40 KiB beside its arena
    _ph_board_default(PH_BOARD_BENCH_HEAP_BYTES 0)
    _ph_board_default(PH_BOARD_BENCH_ARENA_BYTES 0)
  endif()
  math(EXPR _a "${_r} / 3")
  _ph_round4k(_a ${_a})
  _ph_board_default(PH_BOARD_BENCH_HEAP_BYTES ${_a})
  math(EXPR _a "${_r} * 7 / 12")
  _ph_round4k(_a ${_a})
  _ph_board_default(PH_BOARD_BENCH_ARENA_BYTES ${_a})
endif()
_ph_board_default(PH_BOARD_SUITE_ARENA_BYTES 262144)
_ph_board_default(PH_BOARD_SUITE_ARENA_FROM_HEAP 0)
_ph_board_default(PH_BOARD_SUITE_SCALE_PCT 100)
_ph_board_default(PH_BOARD_SUITE_NANO OFF)
_ph_board_default(PH_BOARD_DEMO_MIRROR_BYTES 262144)
_ph_board_default(PH_BOARD_DEMO_DEFINES "")
_ph_board_default(PH_BOARD_BENCH_HEAP_BYTES 262144)
_ph_board_default(PH_BOARD_BENCH_ARENA_BYTES 524288)
