# SPDX-License-Identifier: MIT
# demo/qemu/newlib-alloc.cmake: ph_newlib_renamed(), newlib's own allocator
# objects, renamed, for firmware that runs them beside pageheap (the demo's
# comparison, the target benchmark's baselines).  Included by
# demo/qemu/CMakeLists.txt and bench/target/CMakeLists.txt.
#
#   ph_newlib_renamed(<out-var> <prefix> full|nano)
#
# Sets <out-var> to object files copied at build time out of the libc.a
# (full: dlmalloc's mallocr.o, freer.o, reallocr.o, callocr.o) or
# libc_nano.a (nano-mallocr.o, nano-freer.o, nano-reallocr.o, nano-msizer.o)
# that the compiler links for this build's -mcpu / -mfloat-abi, with their
# allocator symbols renamed <prefix><name> (newlib-rename.cmake): list them
# in a firmware's SOURCES and define <prefix>_sbrk_r there.  One firmware per
# prefix and directory (a custom command's outputs must have one consumer).
include_guard(GLOBAL)

set(PH_NEWLIB_RENAME_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/newlib-rename.cmake CACHE INTERNAL
    "demo/qemu/newlib-rename.cmake (ph_newlib_renamed)")

function(ph_newlib_renamed out prefix flavour)
  if(flavour STREQUAL "full")
    set(lib libc.a)
    set(members lib_a-mallocr.o lib_a-freer.o lib_a-reallocr.o lib_a-callocr.o)
  elseif(flavour STREQUAL "nano")
    set(lib libc_nano.a)
    set(members lib_a-nano-mallocr.o lib_a-nano-freer.o lib_a-nano-reallocr.o
                lib_a-nano-msizer.o)
  else()
    message(FATAL_ERROR "ph_newlib_renamed: flavour must be full or nano (got '${flavour}')")
  endif()
  # The multilib of this build: the same flags the firmware is linked with.
  separate_arguments(flags UNIX_COMMAND "${CMAKE_C_FLAGS}")
  execute_process(COMMAND ${CMAKE_C_COMPILER} ${flags} -print-file-name=${lib}
                  OUTPUT_VARIABLE path OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT IS_ABSOLUTE "${path}" OR NOT EXISTS "${path}")
    message(FATAL_ERROR "ph_newlib_renamed: ${CMAKE_C_COMPILER} finds no ${lib} for "
                        "'${CMAKE_C_FLAGS}' (libnewlib-arm-none-eabi installed?)")
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/newlib-renamed)
  set(outputs "")
  foreach(m IN LISTS members)
    list(APPEND outputs ${dir}/${prefix}-${m})
  endforeach()
  string(REPLACE ";" "," members_arg "${members}")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${CMAKE_COMMAND} -DAR=${CMAKE_AR} -DOBJCOPY=${CMAKE_OBJCOPY}
            -DLIBC=${path} -DPREFIX=${prefix} -DOUT=${dir} "-DMEMBERS=${members_arg}"
            -P ${PH_NEWLIB_RENAME_SCRIPT}
    DEPENDS ${path} ${PH_NEWLIB_RENAME_SCRIPT}
    COMMENT "newlib's ${flavour} allocator from ${lib} as ${prefix}_malloc_r ..."
    VERBATIM)
  set_source_files_properties(${outputs} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  set(${out} ${outputs} PARENT_SCOPE)
endfunction()
