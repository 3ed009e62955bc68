# SPDX-License-Identifier: MIT
# Toolchain file: arm-none-eabi-gcc (Debian's gcc-arm-none-eabi 12.2) for
# bare-metal Cortex-M and Cortex-A.
#
#   cmake -S . -B build/arm-cortex-m4 \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DPH_CPU=cortex-m4
#
# Cache variables:
#   PH_CPU        the core, passed as -mcpu (default cortex-m3, the CPU of
#                 mps2-an385, the default QEMU board).  Known values:
#                 cortex-m0 cortex-m0plus cortex-m3 cortex-m4 cortex-m7
#                 cortex-m23 cortex-m33 cortex-m55 cortex-a7 cortex-a9 cortex-a15
#   PH_ARM_ISA    thumb (default) or arm.  M-profile cores only have Thumb;
#                 A-profile cores take either (-mthumb = Thumb-2, smaller code).
#   PH_FLOAT_ABI  soft (default), softfp or hard.  The allocator has no
#                 floating point at all, so soft keeps the library free of any
#                 FPU dependency and linkable into any firmware on that core
#                 (no -mfpu is passed).  A board that wants the hard-float
#                 newlib multilib may set hard together with its own -mfpu.
#   PH_C_LIBRARY  newlib (default: the compiler's built-in C library) or
#                 picolibc (adds --specs=picolibc.specs to compile and link:
#                 Debian's picolibc-arm-none-eabi; then pageheap::picolibc
#                 exists instead of pageheap::newlib).
#
# Code is built with -ffunction-sections -fdata-sections so that firmware
# linking with --gc-sections drops what it does not call.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++) # only for projects that enable C++ (target-tests/cxx)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar CACHE FILEPATH "archiver")
set(CMAKE_RANLIB arm-none-eabi-ranlib CACHE FILEPATH "ranlib")
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "objcopy")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "size")

# No board start-up code or linker script exists when CMake probes the
# compiler, so probe by building a static library instead of linking.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(PH_CPU "cortex-m3" CACHE STRING "Arm core (-mcpu)")
set_property(CACHE PH_CPU PROPERTY STRINGS
  cortex-m0 cortex-m0plus cortex-m3 cortex-m4 cortex-m7
  cortex-m23 cortex-m33 cortex-m55 cortex-a7 cortex-a9 cortex-a15)
set(PH_ARM_ISA "thumb" CACHE STRING "Instruction set: thumb or arm (A-profile only)")
set_property(CACHE PH_ARM_ISA PROPERTY STRINGS thumb arm)
set(PH_FLOAT_ABI "soft" CACHE STRING "Float ABI: soft, softfp or hard")
set_property(CACHE PH_FLOAT_ABI PROPERTY STRINGS soft softfp hard)

set(PH_C_LIBRARY "newlib" CACHE STRING "C library: newlib or picolibc")
set_property(CACHE PH_C_LIBRARY PROPERTY STRINGS newlib picolibc)

# try_compile projects re-read this file: hand them the same choices.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PH_CPU PH_ARM_ISA PH_FLOAT_ABI PH_C_LIBRARY)

if(PH_CPU MATCHES "^cortex-m")
  if(NOT PH_ARM_ISA STREQUAL "thumb")
    message(FATAL_ERROR "${PH_CPU} only executes Thumb: PH_ARM_ISA must be thumb")
  endif()
elseif(NOT PH_CPU MATCHES "^cortex-[ar][0-9]+")
  message(FATAL_ERROR "PH_CPU='${PH_CPU}' is not a Cortex-M/A/R core")
endif()
if(NOT PH_ARM_ISA MATCHES "^(thumb|arm)$")
  message(FATAL_ERROR "PH_ARM_ISA must be thumb or arm")
endif()
if(NOT PH_FLOAT_ABI MATCHES "^(soft|softfp|hard)$")
  message(FATAL_ERROR "PH_FLOAT_ABI must be soft, softfp or hard")
endif()
if(NOT PH_C_LIBRARY MATCHES "^(newlib|picolibc)$")
  message(FATAL_ERROR "PH_C_LIBRARY must be newlib or picolibc")
endif()

set(PH_ARCH_FLAGS "-mcpu=${PH_CPU} -m${PH_ARM_ISA} -mfloat-abi=${PH_FLOAT_ABI}")
# The C library's specs go with the compile flags, which CMake also passes
# when it links (a second --specs=picolibc.specs on one command is an error).
set(PH_LIBC_FLAGS "")
if(PH_C_LIBRARY STREQUAL "picolibc")
  set(PH_LIBC_FLAGS " --specs=picolibc.specs")
endif()
set(CMAKE_C_FLAGS_INIT   "${PH_ARCH_FLAGS}${PH_LIBC_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${PH_ARCH_FLAGS}${PH_LIBC_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${PH_ARCH_FLAGS}${PH_LIBC_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${PH_ARCH_FLAGS} -Wl,--gc-sections")

# Programs (python, qemu, ...) come from the host; the compiler finds its own
# newlib headers and libraries through its built-in sysroot.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
