# SPDX-License-Identifier: MIT
# boards/common/board.cmake: building firmware for the board named by
# PH_BOARD.  Included by boards/<board>/CMakeLists.txt right after the
# board's own boards/<board>/board.cmake, which sets:
#
#   PH_BOARD_CPU            -mcpu of the board; must equal PH_CPU
#   PH_BOARD_FLOAT_ABI      soft | softfp | hard; must equal PH_FLOAT_ABI
#   PH_BOARD_ARCH           cortex-m | cortex-a: which shared start-up code
#   PH_BOARD_QEMU_MACHINE   qemu-system-arm -M value
#   PH_BOARD_QEMU_ARGS      further QEMU arguments (a list, may be empty)
#   PH_BOARD_LINKER_SCRIPT  linker/<board>.ld
#   PH_BOARD_SOURCES        the board's own sources (console, counter, ...)
#   PH_BOARD_DEFINES        compile definitions for everything built for it
#   PH_BOARD_NUM_IRQS       external interrupts in the vector table / GIC
#
# and may set (each has a default derived from the RAM, see "sizing" below):
#
#   PH_BOARD_RAM_BYTES      the RAM that holds .data/.bss (REGION_DATA in the
#                           linker script; read from it when not set)
#   PH_BOARD_SUITE_ARENA_BYTES, PH_BOARD_SUITE_ARENA_FROM_HEAP,
#   PH_BOARD_SUITE_SCALE_PCT, PH_BOARD_SUITE_NANO     target-tests/
#   PH_BOARD_DEMO_MIRROR_BYTES, PH_BOARD_DEMO_DEFINES demo/qemu/
#   PH_BOARD_BENCH_HEAP_BYTES, PH_BOARD_BENCH_ARENA_BYTES  bench/target/
#
# (scripts/board.sh reads PH_BOARD_CPU and PH_BOARD_FLOAT_ABI from the same
# file, so the board folder is the single source of truth.)
#
# Then, for every firmware:
#
#   ph_board_firmware(<name> SOURCES <file>...
#                     [QEMU_TEST] [TIMEOUT <seconds>] [ICOUNT]
#                     [NANO] [NEWLIB_MALLOC]
#                     [LIBS <lib>...] [DEFINES <def>...] [INCLUDES <dir>...]
#                     [OPTIONS <compile option>...] [QEMU_ARGS <arg>...]
#                     [LABELS <label>...])
#
# builds <name>.elf (and <name>.map) in the calling directory's binary dir:
# the given sources + port/newlib/ph_newlib.c and port/libc/ph_libc.c (as objects: newlib's malloc
# family is pageheap's default heap) + the board objects (start-up, console,
# regions, syscalls, the simulated gate and the lock port) + libpageheap.a,
# linked with newlib (--specs=nosys.specs; stdout to the board's console,
# exit status to QEMU through semihosting).
#
#   QEMU_TEST      registers the CTest test "<board>:<name>": runs the
#                  board's QEMU command on it (boards/common/run-qemu.sh) and
#                  passes iff QEMU exits 0; labels "target;<board>" + LABELS
#   TIMEOUT s      seconds before the run is killed (default PH_QEMU_TIMEOUT)
#   ICOUNT         run it with -icount shift=0 (timers count in step with
#                  instructions); -DPH_QEMU_ICOUNT=ON does so for every run
#   NANO           newlib-nano (--specs=nano.specs) instead of full newlib
#   NEWLIB_MALLOC  keep newlib's own malloc (no ph_newlib.c; a _sbrk over
#                  heap bank 0 is linked instead): for baselines
#   LIBS / DEFINES / INCLUDES / OPTIONS   for the firmware's own sources
#   QEMU_ARGS      extra QEMU arguments for this firmware
#
# Every firmware also gets the custom target <name>-run, which runs it under
# QEMU in the terminal (cmake --build <dir> --target <name>-run).
#
# ph_board_add_suites() adds the other firmware folders that exist
# (target-tests/, demo/qemu/, bench/target/) so they build per board.
include_guard(GLOBAL)

set(PH_BOARD_COMMON_DIR ${CMAKE_CURRENT_LIST_DIR})

find_program(PH_QEMU qemu-system-arm)
option(PH_QEMU_ICOUNT "Run every board firmware under QEMU with -icount shift=0" OFF)
set(PH_QEMU_TIMEOUT 60 CACHE STRING "Default seconds before a QEMU test is killed")

# ---- the board's facts --------------------------------------------------------

foreach(_v PH_BOARD_CPU PH_BOARD_FLOAT_ABI PH_BOARD_ARCH PH_BOARD_QEMU_MACHINE
           PH_BOARD_LINKER_SCRIPT PH_BOARD_SOURCES)
  if(NOT DEFINED ${_v} OR "${${_v}}" STREQUAL "")
    message(FATAL_ERROR "boards/${PH_BOARD}/board.cmake does not set ${_v}")
  endif()
endforeach()
if(NOT DEFINED PH_BOARD_NUM_IRQS)
  set(PH_BOARD_NUM_IRQS 96)
endif()
if(NOT PH_BOARD_ARCH MATCHES "^cortex-[ma]$")
  message(FATAL_ERROR "PH_BOARD_ARCH must be cortex-m or cortex-a (got '${PH_BOARD_ARCH}')")
endif()
if(NOT CMAKE_CROSSCOMPILING)
  message(FATAL_ERROR "PH_BOARD=${PH_BOARD} needs the Arm toolchain: "
    "scripts/board.sh ${PH_BOARD} configure (or -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake "
    "-DPH_CPU=${PH_BOARD_CPU} -DPH_FLOAT_ABI=${PH_BOARD_FLOAT_ABI})")
endif()
if(NOT PH_CPU STREQUAL PH_BOARD_CPU)
  message(FATAL_ERROR "PH_BOARD=${PH_BOARD} is a ${PH_BOARD_CPU} board but PH_CPU=${PH_CPU}: "
    "configure with -DPH_CPU=${PH_BOARD_CPU}, or use scripts/board.sh ${PH_BOARD} configure")
endif()
if(NOT PH_FLOAT_ABI STREQUAL PH_BOARD_FLOAT_ABI)
  message(FATAL_ERROR "PH_BOARD=${PH_BOARD} uses the ${PH_BOARD_FLOAT_ABI} float ABI but "
    "PH_FLOAT_ABI=${PH_FLOAT_ABI}: configure with -DPH_FLOAT_ABI=${PH_BOARD_FLOAT_ABI}, "
    "or use scripts/board.sh ${PH_BOARD} configure")
endif()
if(NOT PH_QEMU)
  message(WARNING "qemu-system-arm not found: firmware builds, QEMU tests will fail "
                  "(scripts/install-deps.sh installs it)")
  set(PH_QEMU qemu-system-arm)
endif()

# ---- sizing: what the firmware folders take from the board's RAM ---------------

set(_ph_root ${PROJECT_SOURCE_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/sizing.cmake)
math(EXPR _r_kib "${PH_BOARD_RAM_BYTES} / 1024")
message(STATUS "board ${PH_BOARD}: ${_r_kib} KiB of RAM for .data/.bss; suite arena "
               "${PH_BOARD_SUITE_ARENA_BYTES}, demo newlib arenas ${PH_BOARD_DEMO_MIRROR_BYTES}, "
               "bench heap ${PH_BOARD_BENCH_HEAP_BYTES} / arena ${PH_BOARD_BENCH_ARENA_BYTES} bytes")

# The board's QEMU command, without -kernel (a list).
set(PH_BOARD_QEMU_COMMAND ${PH_QEMU} -M ${PH_BOARD_QEMU_MACHINE} -nographic -monitor none
    -semihosting-config enable=on,target=native ${PH_BOARD_QEMU_ARGS})

# binutils >= 2.39 warns about RWX segments, which a RAM-loaded firmware has.
execute_process(COMMAND ${CMAKE_C_COMPILER} -Wl,--help OUTPUT_VARIABLE _ph_ld_help ERROR_QUIET)
if(_ph_ld_help MATCHES "no-warn-rwx-segments")
  set(PH_HAVE_NO_WARN_RWX ON)
else()
  set(PH_HAVE_NO_WARN_RWX OFF)
endif()

# ---- board objects, once per C library flavour ---------------------------------

set(PH_BOARD_COMMON_SOURCES
    ${PH_BOARD_COMMON_DIR}/board_common.c
    ${PH_BOARD_COMMON_DIR}/board_faults.c
    ${PH_BOARD_COMMON_DIR}/semihost.c
    ${PH_BOARD_COMMON_DIR}/syscalls.c
    ${_ph_root}/port/simgate/ph_simgate.c
    ${_ph_root}/port/none/ph_none.c)
if(PH_BOARD_ARCH STREQUAL "cortex-m")
  list(APPEND PH_BOARD_COMMON_SOURCES
       ${PH_BOARD_COMMON_DIR}/cortex-m/startup.c
       ${PH_BOARD_COMMON_DIR}/cortex-m/exceptions.c
       ${_ph_root}/port/cortex-m/ph_cortexm.c)
  set(_ph_lock_port_dir ${_ph_root}/port/cortex-m)
else()
  enable_language(ASM)
  list(APPEND PH_BOARD_COMMON_SOURCES
       ${PH_BOARD_COMMON_DIR}/cortex-a/startup.S
       ${PH_BOARD_COMMON_DIR}/cortex-a/board_ca.c
       ${_ph_root}/port/cortex-a/ph_cortexa.c)
  set(_ph_lock_port_dir ${_ph_root}/port/cortex-a)
endif()

# _ph_board_objects(<out-var> full|nano): the OBJECT library with the board
# code compiled for that newlib (nano's struct _reent differs, and the board
# code calls stdio).
function(_ph_board_objects out flavour)
  set(t ph_board_${flavour})
  if(NOT TARGET ${t})
    add_library(${t} OBJECT ${PH_BOARD_SOURCES} ${PH_BOARD_COMMON_SOURCES})
    target_include_directories(${t} PUBLIC
      ${PH_BOARD_COMMON_DIR}
      ${_ph_root}/port/newlib
      ${_ph_root}/port/libc
      ${_ph_root}/port/simgate
      ${_ph_root}/port/none
      ${_ph_lock_port_dir})
    target_compile_definitions(${t}
      PUBLIC ${PH_BOARD_DEFINES}
      PRIVATE BOARD_NUM_IRQS=${PH_BOARD_NUM_IRQS})
    target_compile_options(${t} PRIVATE -Wall -Wextra -Werror -Wshadow
                                        -Wstrict-prototypes -Wmissing-prototypes)
    if(flavour STREQUAL "nano")
      target_compile_options(${t} PUBLIC --specs=nano.specs)
    endif()
    set_target_properties(${t} PROPERTIES C_EXTENSIONS ON)
    target_link_libraries(${t} PUBLIC pageheap)
  endif()
  set(${out} ${t} PARENT_SCOPE)
endfunction()

# ---- firmware -----------------------------------------------------------------------

function(ph_board_firmware name)
  cmake_parse_arguments(PARSE_ARGV 1 FW
    "QEMU_TEST;NANO;NEWLIB_MALLOC;ICOUNT"
    "TIMEOUT"
    "SOURCES;LIBS;DEFINES;INCLUDES;OPTIONS;QEMU_ARGS;LABELS")
  if(FW_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ph_board_firmware(${name}): unknown arguments ${FW_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT FW_SOURCES)
    message(FATAL_ERROR "ph_board_firmware(${name}): no SOURCES")
  endif()
  if(NOT FW_TIMEOUT)
    set(FW_TIMEOUT ${PH_QEMU_TIMEOUT})
  endif()

  if(FW_NANO)
    _ph_board_objects(objs nano)
    set(specs --specs=nano.specs)
  else()
    _ph_board_objects(objs full)
    set(specs "")
  endif()
  # pageheap::newlib compiles port/newlib/ph_newlib.c into the firmware,
  # with its flags and DEFINES (port/newlib/CMakeLists.txt).
  if(FW_NEWLIB_MALLOC)
    set(libc_glue ${PH_BOARD_COMMON_DIR}/sbrk.c)
    set(libc_port "")
  else()
    set(libc_glue "")
    set(libc_port pageheap::newlib)
  endif()

  add_executable(${name} ${FW_SOURCES} ${libc_glue})
  set_target_properties(${name} PROPERTIES
    SUFFIX ".elf"
    C_EXTENSIONS ON
    LINK_DEPENDS "${PH_BOARD_LINKER_SCRIPT};${_ph_root}/linker/sections.ld")
  target_link_libraries(${name} PRIVATE ${objs} ${libc_port} ${FW_LIBS})
  target_compile_definitions(${name} PRIVATE ${FW_DEFINES})
  target_include_directories(${name} PRIVATE ${FW_INCLUDES})
  target_compile_options(${name} PRIVATE -Wall -Wextra ${specs} ${FW_OPTIONS})
  target_link_options(${name} PRIVATE
    ${specs} --specs=nosys.specs -nostartfiles
    -T ${PH_BOARD_LINKER_SCRIPT} -L ${_ph_root}/linker
    -Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/${name}.map)
  if(PH_HAVE_NO_WARN_RWX)
    target_link_options(${name} PRIVATE -Wl,--no-warn-rwx-segments)
  endif()
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${name}>
    VERBATIM)

  set(qemu ${PH_BOARD_QEMU_COMMAND})
  if(FW_ICOUNT OR PH_QEMU_ICOUNT)
    list(APPEND qemu -icount shift=0)
  endif()
  list(APPEND qemu ${FW_QEMU_ARGS} -kernel $<TARGET_FILE:${name}>)

  if(FW_QEMU_TEST)
    add_test(NAME "${PH_BOARD}:${name}"
             COMMAND bash ${PH_BOARD_COMMON_DIR}/run-qemu.sh --timeout ${FW_TIMEOUT} -- ${qemu})
    math(EXPR ctest_timeout "${FW_TIMEOUT} + 30") # run-qemu.sh's limit comes first
    set_tests_properties("${PH_BOARD}:${name}" PROPERTIES
      TIMEOUT ${ctest_timeout}
      LABELS "target;${PH_BOARD};${FW_LABELS}")
  endif()
  add_custom_target(${name}-run
    COMMAND ${qemu}
    DEPENDS ${name}
    USES_TERMINAL
    COMMENT "QEMU ${PH_BOARD_QEMU_MACHINE}: ${name}.elf (exit with its status; Ctrl-A x quits)"
    VERBATIM)
endfunction()

# The other firmware folders (on-target suite, QEMU demo, on-target
# benchmark), built for this board when present.  -DPH_BOARD_SUITES=OFF
# builds only the board's own firmware (hello).
option(PH_BOARD_SUITES "Build target-tests/, demo/qemu/ and bench/target/ for the board" ON)
macro(ph_board_add_suites)
  foreach(_ph_suite target-tests demo/qemu bench/target)
    if(PH_BOARD_SUITES AND EXISTS ${PROJECT_SOURCE_DIR}/${_ph_suite}/CMakeLists.txt)
      add_subdirectory(${PROJECT_SOURCE_DIR}/${_ph_suite} ${CMAKE_BINARY_DIR}/${_ph_suite})
    endif()
  endforeach()
endmacro()
