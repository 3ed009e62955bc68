# SPDX-License-Identifier: MIT
# newlib-rename.cmake: copies newlib's allocator objects out of a libc
# archive and renames their symbols with a prefix, so that newlib's real
# malloc can run beside pageheap (which defines malloc, _malloc_r, ...) in one
# firmware, on an arena of its own.  Run as a script:
#
#   cmake -DAR=arm-none-eabi-ar -DOBJCOPY=arm-none-eabi-objcopy
#         -DLIBC=/path/to/libc.a -DPREFIX=nlf -DOUT=<dir>
#         -DMEMBERS=lib_a-mallocr.o,lib_a-freer.o,... -P newlib-rename.cmake
#
# Every symbol below, defined or referred to, becomes PREFIX<symbol>
# (_malloc_r -> nlf_malloc_r, __malloc_av_ -> nlf__malloc_av_, _sbrk_r ->
# nlf_sbrk_r), so the copies share no state with anything else: the
# firmware supplies PREFIX_sbrk_r (its arena).  What they call besides stays
# libc's own: __malloc_lock / __malloc_unlock (newlib's recursive-lock stubs
# on a system without an RTOS, the very code newlib's malloc runs), memset,
# memcpy, memmove.
# The renamed objects are written to OUT/<PREFIX>-<member>.
foreach(v AR OBJCOPY LIBC PREFIX OUT MEMBERS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "newlib-rename.cmake: -D${v}=... missing")
  endif()
endforeach()
string(REPLACE "," ";" MEMBERS "${MEMBERS}")
if(NOT EXISTS "${LIBC}")
  message(FATAL_ERROR "newlib-rename.cmake: ${LIBC} not found")
endif()

set(symbols
  # full newlib (dlmalloc: mallocr.o, freer.o, reallocr.o, callocr.o)
  _malloc_r _free_r _realloc_r _calloc_r _malloc_trim_r
  __malloc_av_ __malloc_current_mallinfo __malloc_max_sbrked_mem
  __malloc_max_total_mem __malloc_sbrk_base __malloc_top_pad
  __malloc_trim_threshold
  # newlib-nano (nano-mallocr.o, nano-freer.o, nano-reallocr.o, nano-msizer.o)
  __malloc_free_list __malloc_sbrk_start _malloc_usable_size_r
  # the system call both make
  _sbrk_r)

set(tmp "${OUT}/${PREFIX}-extract")
file(REMOVE_RECURSE "${tmp}")
file(MAKE_DIRECTORY "${tmp}")
set(map "${OUT}/${PREFIX}-symbols.txt")
set(lines "")
foreach(s IN LISTS symbols)
  string(APPEND lines "${s} ${PREFIX}${s}\n")
endforeach()
file(WRITE "${map}" "${lines}")

execute_process(COMMAND "${AR}" x "${LIBC}" ${MEMBERS}
                WORKING_DIRECTORY "${tmp}" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "newlib-rename.cmake: ${AR} x ${LIBC} ${MEMBERS}: ${err}")
endif()
foreach(m IN LISTS MEMBERS)
  execute_process(COMMAND "${OBJCOPY}" "--redefine-syms=${map}"
                          "${tmp}/${m}" "${OUT}/${PREFIX}-${m}"
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "newlib-rename.cmake: ${OBJCOPY} ${m}: ${err}")
  endif()
endforeach()
file(REMOVE_RECURSE "${tmp}")
