# SPDX-License-Identifier: MIT
# consumer-tests/subproject.cmake: add pageheap with add_subdirectory, as a
# project that vendors it (or gets it with FetchContent) would, and check
# that it behaves as a subproject:
#
#   consumer_add_pageheap(<pageheap source dir> ALLOWED <target>...)
#
#   - the targets it creates (in every folder it adds) are exactly the
#     libraries ALLOWED names: no tests, benchmarks, demos, reference
#     model or host helpers;
#   - it registers no CTest test;
#   - the parent's cache entry CMAKE_BUILD_TYPE is as it was before (value
#     and help string: pageheap's top-level default must not write it).
# Any difference is a configure error that lists what was found.
function(consumer_add_pageheap dir)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "ALLOWED")
  get_property(type_before CACHE CMAKE_BUILD_TYPE PROPERTY VALUE)
  get_property(help_before CACHE CMAKE_BUILD_TYPE PROPERTY HELPSTRING)

  add_subdirectory(${dir} ${CMAKE_BINARY_DIR}/pageheap)

  set(targets "")
  set(tests "")
  set(dirs ${dir})
  while(dirs)
    list(POP_FRONT dirs d)
    get_property(t DIRECTORY ${d} PROPERTY BUILDSYSTEM_TARGETS)
    get_property(x DIRECTORY ${d} PROPERTY TESTS)
    get_property(s DIRECTORY ${d} PROPERTY SUBDIRECTORIES)
    list(APPEND targets ${t})
    list(APPEND tests ${x})
    list(APPEND dirs ${s})
  endwhile()
  list(SORT targets)
  set(allowed ${ARG_ALLOWED})
  list(SORT allowed)
  message(STATUS "consumer: pageheap as a subproject made targets: ${targets}")
  set(errors "")
  if(NOT targets STREQUAL allowed)
    string(APPEND errors "\n  made the targets '${targets}', expected exactly '${allowed}'"
                         " (no tests, bench, demo)")
  endif()
  if(tests)
    string(APPEND errors "\n  registered tests: ${tests}")
  endif()
  get_property(type_after CACHE CMAKE_BUILD_TYPE PROPERTY VALUE)
  get_property(help_after CACHE CMAKE_BUILD_TYPE PROPERTY HELPSTRING)
  if(NOT "${type_after}" STREQUAL "${type_before}" OR NOT "${help_after}" STREQUAL "${help_before}")
    string(APPEND errors "\n  wrote the parent's cache: CMAKE_BUILD_TYPE '${type_before}'"
                         " (${help_before}) became '${type_after}' (${help_after})")
  endif()
  if(errors)
    message(FATAL_ERROR "consumer: FAIL: pageheap as a subproject:${errors}")
  endif()
  message(STATUS "consumer: subproject checks passed (CMAKE_BUILD_TYPE still '${type_after}', no tests)")
endfunction()
