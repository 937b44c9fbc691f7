# MPI for the distributed drivers (engine/dist, docs/distributed.md): MPE_MPI=AUTO builds it when
# an MPI is found (Debian: openmpi-bin, libopenmpi-dev), ON requires it, OFF leaves it out (the
# communicator is then one rank). METIS (libmetis-dev) partitions graphs when found; without it
# partitions are contiguous row ranges.
set(MPE_MPI AUTO CACHE STRING "Build the MPI communicator: AUTO (when MPI is found), ON or OFF")
set_property(CACHE MPE_MPI PROPERTY STRINGS AUTO ON OFF)
set(MPE_HAVE_MPI OFF)
set(MPE_HAVE_METIS OFF)
if(NOT MPE_MPI STREQUAL "OFF")
  # The C API through the C++ component (the project enables only CXX); no MPI C++ bindings.
  set(MPI_CXX_SKIP_MPICXX ON CACHE BOOL "mpengine uses MPI's C API only")
  if(MPE_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
  else()
    find_package(MPI QUIET COMPONENTS CXX)
  endif()
  if(MPI_CXX_FOUND)
    set(MPE_HAVE_MPI ON)
  endif()
  find_path(MPE_METIS_INCLUDE_DIR metis.h)
  find_library(MPE_METIS_LIBRARY metis)
  if(MPE_METIS_INCLUDE_DIR AND MPE_METIS_LIBRARY)
    set(MPE_HAVE_METIS ON)
  endif()
endif()
message(STATUS "mpengine: MPI=${MPE_HAVE_MPI} (MPE_MPI=${MPE_MPI}), METIS=${MPE_HAVE_METIS}")
