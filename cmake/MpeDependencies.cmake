# Third-party libraries, all from Debian's packages (see README): fmt, OpenMP, Threads;
# CLI11 and nlohmann-json for the programs; GoogleTest for the tests.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(fmt REQUIRED)
if(MPE_BUILD_TOOLS)
  find_package(CLI11 REQUIRED)
  find_package(nlohmann_json 3.10 REQUIRED)
endif()
