# The one way a CPU kernel is built for several x86-64 levels and picked at run time
# (kernels/cpu/cpu_level.hpp):
#
#   mpe_cpu_kernel(<op> LEVELS 3 [4])
#
# builds kernels/cpu/isa/<op>_x86_64_v<L>.cpp with -march=x86-64-v<L> for each level L asked
# for that the compiler supports (x86-64 with GCC or Clang only), appends those files to
# MPE_SOURCES in the caller's scope, and tells kernels/cpu/<op>.cpp (and the picker,
# kernels/cpu/cpu_level.cpp) which levels exist: MPE_CPU_V3 / MPE_CPU_V4 = 1 when built, else
# they stay 0. Level 1 is the plain build of kernels/cpu/<op>.cpp itself.
include(CheckCXXCompilerFlag)
include(CheckCXXSourceCompiles)

function(mpe_cpu_kernel op)
  cmake_parse_arguments(ARG "" "" "LEVELS" ${ARGN})
  set(sources ${MPE_SOURCES})
  set(defs "")
  # The picker asks __builtin_cpu_supports("x86-64-v3"/"-v4"), which GCC 12 knows and clang only
  # from version 16: with an older clang (the fuzz build) every kernel is built at the baseline.
  check_cxx_source_compiles(
    "int main() { return __builtin_cpu_supports(\"x86-64-v3\") + __builtin_cpu_supports(\"x86-64-v4\"); }"
    MPE_HAVE_CPU_LEVEL_BUILTIN)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang"
     AND MPE_HAVE_CPU_LEVEL_BUILTIN)
    foreach(level IN LISTS ARG_LEVELS)
      check_cxx_compiler_flag(-march=x86-64-v${level} MPE_HAVE_MARCH_V${level})
      if(MPE_HAVE_MARCH_V${level})
        set(src ${PROJECT_SOURCE_DIR}/kernels/cpu/isa/${op}_x86_64_v${level}.cpp)
        set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
                                    "-march=x86-64-v${level};-fno-trapping-math;-fno-math-errno")
        list(APPEND sources ${src})
        list(APPEND defs MPE_CPU_V${level}=1)
      endif()
    endforeach()
  endif()
  if(defs)
    set_property(SOURCE ${PROJECT_SOURCE_DIR}/kernels/cpu/${op}.cpp
                        ${PROJECT_SOURCE_DIR}/kernels/cpu/cpu_level.cpp
                 APPEND PROPERTY COMPILE_DEFINITIONS ${defs})
  endif()
  set(MPE_SOURCES ${sources} PARENT_SCOPE)
endfunction()
