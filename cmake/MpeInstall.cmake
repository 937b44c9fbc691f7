# Installs headers, the library and a CMake package so that find_package(mpengine) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS mpengine EXPORT mpengineTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mpe DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT mpengineTargets NAMESPACE mpengine::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mpengine)

set(MPE_CONFIG_SHARED ${BUILD_SHARED_LIBS})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mpengineConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/mpengineConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mpengine)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mpengineConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mpengineConfig.cmake
              ${PROJECT_BINARY_DIR}/mpengineConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mpengine)
if(MPE_BUILD_TOOLS)
  install(TARGETS mpe mpe-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
