# Use ccache when it is installed: CI runs on the machine that built last, so the cache pays off.
# The build works the same without it.
option(MPE_CCACHE "Use ccache as a compiler launcher when found" ON)
if(MPE_CCACHE)
  find_program(MPE_CCACHE_PROGRAM ccache)
  if(MPE_CCACHE_PROGRAM)
    # Paths under the source tree are hashed relative to the build directory, so a fresh clone
    # elsewhere (CI) hits the entries another checkout made.
    set(_mpe_ccache ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} ${MPE_CCACHE_PROGRAM})
    set(CMAKE_CXX_COMPILER_LAUNCHER ${_mpe_ccache})
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${_mpe_ccache})
  endif()
endif()
