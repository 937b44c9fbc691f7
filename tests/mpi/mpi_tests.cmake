# Included from tests/CMakeLists.txt: the MPI suite and the mpe program under mpirun.
mpe_test_suite(mpe_mpi_tests mpi mpi)
# Without a launcher: 3 processes started by hand, joined by the TCP rendezvous
# (dist::from_unique_id), run the communicator and partitioned-graph tests (any build).
add_test(NAME tcp_ranks_np3
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/mpi/run_tcp_ranks.sh 3
                 $<TARGET_FILE:mpe_mpi_tests>
                 --gtest_filter=DistCommunicator.*:DistGraph.*:DistBp.*:DistRelevance.*)
set_tests_properties(tcp_ranks_np3 PROPERTIES LABELS mpi TIMEOUT 300 PROCESSORS 3)
if(NOT MPE_HAVE_MPI)
  # Visible in the ctest summary as skipped, not silently absent.
  add_test(NAME mpi_ranks COMMAND ${CMAKE_COMMAND} -E echo
           "SKIPPED: MPI not built (MPE_MPI=${MPE_MPI}); install openmpi-bin libopenmpi-dev")
  set_tests_properties(mpi_ranks PROPERTIES LABELS mpi SKIP_REGULAR_EXPRESSION SKIPPED)
  return()
endif()
set(MPE_MPIEXEC_FLAGS ${MPIEXEC_PREFLAGS})
# Open MPI: refuses root without the first two (CI containers run as root) and more ranks than
# cores without the third (--oversubscribe; 4 ranks on a 2-core machine). One OpenMP thread per
# rank. Other MPIs ignore these variables.
set(MPE_MPI_TEST_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1 MPE_DEVICE=cpu)
foreach(n 2 4)
  add_test(NAME mpi_suite_np${n}
           COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} ${MPE_MPIEXEC_FLAGS}
                   $<TARGET_FILE:mpe_mpi_tests>)
  set_tests_properties(mpi_suite_np${n} PROPERTIES LABELS mpi TIMEOUT 300 PROCESSORS ${n}
                       ENVIRONMENT "${MPE_MPI_TEST_ENV}")
endforeach()
if(MPE_BUILD_TOOLS)
  add_test(NAME mpi_cli
           COMMAND ${CMAKE_COMMAND} -DMPE=$<TARGET_FILE:mpe> -DMPIEXEC=${MPIEXEC_EXECUTABLE}
                   -DNP_FLAG=${MPIEXEC_NUMPROC_FLAG} "-DFLAGS=${MPE_MPIEXEC_FLAGS}"
                   -DEXAMPLES=${PROJECT_SOURCE_DIR}/examples
                   -DDATA=${CMAKE_CURRENT_SOURCE_DIR}/mpi/data
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/mpi/check_mpi_cli.cmake)
  set_tests_properties(mpi_cli PROPERTIES LABELS mpi TIMEOUT 600 PROCESSORS 4
                       ENVIRONMENT "${MPE_MPI_TEST_ENV}")
endif()
