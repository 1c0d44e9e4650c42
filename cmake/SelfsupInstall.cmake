# Install rules: headers, both libraries, pkg-config file, CMake package.
include(CMakePackageConfigHelpers)

if(SELFSUP_HAVE_MPI)
  install(DIRECTORY include/selfsup
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h")
else()
  install(DIRECTORY include/selfsup
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h" PATTERN "selfsup_mpi.h" EXCLUDE)
endif()

install(TARGETS selfsup selfsup_static
  EXPORT selfsupTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SELFSUP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/selfsup)

# libselfsup-mpi in its own export set, which the package file loads when
# it was installed (and then looks for MPI).
if(SELFSUP_HAVE_MPI)
  install(TARGETS selfsup_mpi
    EXPORT selfsupMpiTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT selfsupMpiTargets
    NAMESPACE selfsup::
    DESTINATION ${SELFSUP_CMAKE_DIR})
endif()
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
if(SELFSUP_HAVE_MPI)
  # Open MPI ships ompi-c.pc; other MPIs are found through their wrappers,
  # so the file names Open MPI's module only when that is the one in use.
  set(SELFSUP_PC_MPI "")
  if(MPI_C_LIBRARIES MATCHES "openmpi|libmpi\\.so")
    set(SELFSUP_PC_MPI ", ompi-c")
  endif()
  configure_file(cmake/selfsup-mpi.pc.in ${PROJECT_BINARY_DIR}/selfsup-mpi.pc
    @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/selfsup-mpi.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
