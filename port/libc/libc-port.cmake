# SPDX-License-Identifier: MIT
# port/libc/libc-port.cmake: ph_libc_port(), the CMake target of a C
# library port (pageheap::newlib, pageheap::picolibc), included by
# port/newlib/CMakeLists.txt and port/picolibc/CMakeLists.txt.
#
#   ph_libc_port(<name>)     in port/<name>/, with ph_<name>.c and ph_<name>.h
#
# defines pageheap_<name> (alias pageheap::<name>, exported as <name>): an
# INTERFACE library whose sources, port/<name>/ph_<name>.c and
# port/libc/ph_libc.c, are compiled as part of each executable that links
# it, for two reasons:
#   - as objects they are in the link ahead of libc, so their malloc ...
#     win over the C library's (an archive member would only be pulled if
#     something referred to it before libc is searched);
#   - they are compiled with the firmware's own flags (--specs=nano.specs:
#     newlib-nano's struct _reent has another layout) and definitions
#     (PH_NEWLIB_PAGE_SIZE, PH_NEWLIB_COUNT_CALLS, ...).
# Installed, both sources go to <prefix>/share/pageheap/<name>/ and the
# target points there.  Link it into one executable target, not into a
# library that several executables share.  A macro: it adds the target and
# the two headers to the caller's parent's PH_EXPORT_TARGETS /
# PH_EXPORT_HEADERS (what the top-level CMakeLists installs and exports).
macro(ph_libc_port _ph_name)
  include(GNUInstallDirs)
  set(_ph_dest ${CMAKE_INSTALL_DATADIR}/pageheap/${_ph_name})
  set(_ph_libc_dir ${CMAKE_CURRENT_LIST_DIR}/../libc)
  add_library(pageheap_${_ph_name} INTERFACE)
  add_library(pageheap::${_ph_name} ALIAS pageheap_${_ph_name})
  set_target_properties(pageheap_${_ph_name} PROPERTIES EXPORT_NAME ${_ph_name})
  target_sources(pageheap_${_ph_name} INTERFACE
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/ph_${_ph_name}.c>
    $<BUILD_INTERFACE:${_ph_libc_dir}/ph_libc.c>
    $<INSTALL_INTERFACE:${_ph_dest}/ph_${_ph_name}.c>
    $<INSTALL_INTERFACE:${_ph_dest}/ph_libc.c>)
  target_include_directories(pageheap_${_ph_name} INTERFACE
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${_ph_libc_dir}>)
  target_link_libraries(pageheap_${_ph_name} INTERFACE pageheap)
  if(PH_INSTALL)
    install(FILES ph_${_ph_name}.c ${_ph_libc_dir}/ph_libc.c DESTINATION ${_ph_dest})
  endif()
  set(PH_EXPORT_TARGETS ${PH_EXPORT_TARGETS} pageheap_${_ph_name} PARENT_SCOPE)
  set(PH_EXPORT_HEADERS ${PH_EXPORT_HEADERS} ${CMAKE_CURRENT_SOURCE_DIR}/ph_${_ph_name}.h
      ${_ph_libc_dir}/ph_libc.h PARENT_SCOPE)
endmacro()
