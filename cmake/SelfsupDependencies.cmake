# Finds what libselfsup builds against and names the Debian package to
# install when something is missing.

function(selfsup_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR
      "libselfsup needs ${what}, which was not found.\n"
      "On Debian: apt-get install ${package}")
  endif()
endfunction()

find_package(dnnl CONFIG QUIET)
selfsup_require(dnnl_FOUND
  "oneDNN (CMake package 'dnnl', which needs OpenCL's development files)"
  "libdnnl-dev ocl-icd-opencl-dev")

find_package(ZLIB QUIET)
selfsup_require(ZLIB_FOUND "zlib" zlib1g-dev)

# Image collections: PNG and JPEG decoding (lib/data/decode_*.c).
find_package(PNG QUIET)
selfsup_require(PNG_FOUND "libpng" libpng-dev)
find_package(JPEG QUIET)
selfsup_require(JPEG_FOUND "libjpeg (libjpeg-turbo)" libjpeg62-turbo-dev)

find_package(OpenMP QUIET COMPONENTS C)
selfsup_require(OpenMP_C_FOUND "OpenMP for C"
  "gcc (libgomp), or libomp-dev for clang")

find_package(Threads REQUIRED)

# MPI is optional: with it, libselfsup-mpi (lib/mpi) and the selfsup
# program's mpirun support are built; libselfsup never needs it.
# SELFSUP_MPI=OFF builds without it even where it is installed.
option(SELFSUP_MPI "build libselfsup-mpi when MPI is found" ON)
if(SELFSUP_MPI)
  find_package(MPI QUIET COMPONENTS C)
endif()
if(SELFSUP_MPI AND MPI_C_FOUND)
  message(STATUS "libselfsup-mpi: MPI ${MPI_C_VERSION}")
  set(SELFSUP_HAVE_MPI ON)
elseif(SELFSUP_MPI)
  message(STATUS "libselfsup-mpi: not built (no MPI: apt-get install "
    "libopenmpi-dev openmpi-bin)")
  set(SELFSUP_HAVE_MPI OFF)
else()
  message(STATUS "libselfsup-mpi: not built (SELFSUP_MPI=OFF)")
  set(SELFSUP_HAVE_MPI OFF)
endif()

find_package(PkgConfig QUIET)
if(BUILD_TESTING)
  selfsup_require(PKG_CONFIG_FOUND "pkg-config" pkg-config)
  pkg_check_modules(CHECK QUIET IMPORTED_TARGET check)
  selfsup_require(CHECK_FOUND "Check (the C unit-test framework)" check)
endif()
