# Use ccache when it is installed: CI runs on the machine that built last, so the cache pays off.
# The build works the same without it.
option(MPE_CCACHE "Use ccache as a compiler launcher when found" ON)
if(MPE_CCACHE)
  find_program(MPE_CCACHE_PROGRAM ccache)
  if(MPE_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${MPE_CCACHE_PROGRAM})
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${MPE_CCACHE_PROGRAM})
  endif()
endif()
