# SPDX-License-Identifier: MIT
# host-tests/scavenge.cmake: the scavenger's tests, included at
# the end of host-tests/CMakeLists.txt (which defines PH_CMOCKA and
# PH_TEST_WARNINGS).  Same pattern: one executable per file, one CTest test.
#
#   test_scavenge         tables: release order across regions, joined
#                         calls, partial and metadata granules, granules
#                         straddling chunk and region boundaries, acquire,
#                         scavenge(0) / scavenge(SIZE_MAX), granule 0
#   test_scavenge_random  randomised differential runs against ref/refscav.c
#                         (pages + release state), scavenges and idle calls
#                         interleaved, every page size, granule = 1x, 4x,
#                         16x, 128x the page, 0 and mixed
#   test_scavenge_idle    ph_idle: goal, budget, peak decay, hysteresis
#   test_host_ports       port/host: the guard port really faults, checks
#                         its calls, scrubs; the madvise port frees RSS
#
# Every test heap whose granules are multiples of the OS page runs with the
# guard port (port/host/ph_port_guard.h): released memory is PROT_NONE.

# phrefscav: the reference model with release state (ref/refscav.c).
add_library(phrefscav STATIC ${PROJECT_SOURCE_DIR}/ref/refscav.c ${PROJECT_SOURCE_DIR}/ref/refscav.h)
target_include_directories(phrefscav PUBLIC ${PROJECT_SOURCE_DIR}/ref)
target_compile_options(phrefscav PRIVATE -Wall -Wextra -Werror)

# name -> seconds before CTest gives up (the sanitizer build is -O0).
set(PH_SCAVENGE_TESTS
    test_scavenge:300
    test_scavenge_random:600
    test_scavenge_idle:300
    test_host_ports:300)

foreach(entry IN LISTS PH_SCAVENGE_TESTS)
  string(REPLACE ":" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 timeout)
  add_executable(${name} ${name}.c scav_harness.h ph_test_util.h)
  target_include_directories(${name} PRIVATE
    ${PROJECT_SOURCE_DIR}/core/src
    ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
  target_compile_options(${name} PRIVATE ${PH_TEST_WARNINGS})
  target_link_libraries(${name} PRIVATE pageheap phrefscav phport_host ${PH_CMOCKA})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout} LABELS "host;scavenge" ${PH_TEST_ENV})
endforeach()
