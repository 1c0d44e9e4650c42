# Warnings, sanitizers and the flags every target of the project shares.

add_library(selfsup_build_flags INTERFACE)
target_compile_options(selfsup_build_flags INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wno-unknown-pragmas
  $<$<BOOL:${SELFSUP_WERROR}>:-Werror>)
# POSIX 2008 plus the BSD/SVID additions (M_PI, posix_memalign, fsync).
target_compile_definitions(selfsup_build_flags INTERFACE _DEFAULT_SOURCE)

if(SELFSUP_SANITIZE)
  set(_selfsup_san -fsanitize=address,undefined -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  target_compile_options(selfsup_build_flags INTERFACE ${_selfsup_san})
  target_link_options(selfsup_build_flags INTERFACE ${_selfsup_san})
endif()

if(SELFSUP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SELFSUP_FUZZ needs clang (libFuzzer).\n"
      "On Debian: apt-get install clang libclang-rt-14-dev; then use the "
      "'fuzz' preset")
  endif()
  # Instrument the library for coverage; fuzz targets add the driver.
  target_compile_options(selfsup_build_flags INTERFACE
    -fsanitize=fuzzer-no-link)
endif()
