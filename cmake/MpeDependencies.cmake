# Third-party libraries, all from Debian's packages (see README): fmt, OpenMP, Threads;
# nlohmann-json for model files; CLI11 for the programs; GoogleTest for the tests.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)  # model files (header-only, private to the library)
find_package(SQLite3 REQUIRED)  # the relevance engine's store (libsqlite3-dev)
find_package(ICU REQUIRED COMPONENTS uc)  # the text tokenizer's Unicode tables (libicu-dev)
if(MPE_BUILD_TOOLS)
  find_package(CLI11 REQUIRED)
endif()
