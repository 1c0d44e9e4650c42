# Install rules: headers, both libraries, pkg-config file, CMake package.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/selfsup
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(TARGETS selfsup selfsup_static
  EXPORT selfsupTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SELFSUP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/selfsup)
install(EXPORT selfsupTargets
  NAMESPACE selfsup::
  DESTINATION ${SELFSUP_CMAKE_DIR})

configure_package_config_file(cmake/selfsupConfig.cmake.in
  ${PROJECT_BINARY_DIR}/selfsupConfig.cmake
  INSTALL_DESTINATION ${SELFSUP_CMAKE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/selfsupConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/selfsupConfig.cmake
  ${PROJECT_BINARY_DIR}/selfsupConfigVersion.cmake
  DESTINATION ${SELFSUP_CMAKE_DIR})

# The .pc file finds its prefix from its own location, so an installed tree
# can be moved (or installed with --prefix) and still work.
file(RELATIVE_PATH SELFSUP_PC_TO_PREFIX
  /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" SELFSUP_PC_TO_PREFIX "${SELFSUP_PC_TO_PREFIX}")
configure_file(cmake/selfsup.pc.in ${PROJECT_BINARY_DIR}/selfsup.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/selfsup.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
