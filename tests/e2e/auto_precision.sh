# shellcheck shell=sh disable=SC2034
# Sourced: sets auto_precision to what `--precision auto` trains in here,
# bf16 where the CPU has bf16 instructions and ONEDNN_MAX_CPU_ISA (if set)
# lets oneDNN use them, else f32. Exports are f32 either way.
auto_precision=f32
if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo; then
    case ${ONEDNN_MAX_CPU_ISA:-ALL} in
    ALL | all | AVX512_CORE_BF16* | AVX512_CORE_AMX* | avx512_core_bf16* | \
        avx512_core_amx*) auto_precision=bf16 ;;
    esac
fi
