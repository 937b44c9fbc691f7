# MPE_FUZZ: build everything with libFuzzer's coverage instrumentation plus ASan and UBSan, and
# the fuzz targets in tests/fuzz (clang only). tools/fuzz.sh configures, builds and runs them.
option(MPE_FUZZ "Build the libFuzzer targets in tests/fuzz (clang; with ASan + UBSan)" OFF)
# With MPE_FUZZ_COVERAGE the targets carry clang's source-based coverage instead of the
# sanitizers, to measure what a corpus reaches (tools/fuzz_coverage.sh).
option(MPE_FUZZ_COVERAGE "MPE_FUZZ for coverage reports: -fcoverage-mapping, no sanitizers" OFF)
if(MPE_FUZZ AND MPE_FUZZ_COVERAGE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MPE_FUZZ_COVERAGE needs clang: configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>
                      $<$<COMPILE_LANGUAGE:CXX>:-fprofile-instr-generate>
                      $<$<COMPILE_LANGUAGE:CXX>:-fcoverage-mapping>)
  add_link_options(-fprofile-instr-generate)
elseif(MPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MPE_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ (Debian: clang, libclang-rt-dev)")
  endif()
  if(MPE_SANITIZE OR MPE_TSAN)
    message(FATAL_ERROR "MPE_FUZZ brings its own sanitizers: turn MPE_SANITIZE and MPE_TSAN off")
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link,address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=address,undefined)
endif()
