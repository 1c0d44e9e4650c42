#!/bin/sh
# Installs, as root on Debian 12, the packages libselfsup needs to build,
# test and run its main job. Asks apt only when something is missing.
# ocl-icd-opencl-dev is only a Recommends of libdnnl-dev, but Debian's oneDNN
# is built with the OpenCL GPU runtime and its CMake package requires it.
# The fuzz preset builds with clang against GCC's libgomp (the runtime oneDNN
# uses); clang does not search GCC's include directory, so libomp-14-dev
# provides the omp.h it compiles with (the omp_* calls the library makes are
# the same functions in both runtimes; only libgomp is linked).
# Open MPI builds libselfsup-mpi and runs its test under mpirun; the library
# and the program build without it.
set -eu
packages="cmake make gcc pkg-config libdnnl-dev ocl-icd-opencl-dev check zlib1g-dev libpng-dev libjpeg62-turbo-dev
          abigail-tools binutils clang libclang-rt-14-dev libomp-14-dev
          dataset-fashion-mnist libopenmpi-dev openmpi-bin"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $missing
fi
