/* Internal: the oneDNN engine and streams every module shares. */
#ifndef SELFSUP_CORE_DNNL_CTX_H
#define SELFSUP_CORE_DNNL_CTX_H

#include <dnnl.h>

#include "selfsup/status.h"

/* The process-wide CPU engine, created on first use (thread-safe). */
selfsup_status selfsup__dnnl_engine(dnnl_engine_t *out);

/* This thread's stream on that engine, created on first use and destroyed
 * when the thread exits. oneDNN streams must not be shared between threads
 * that execute at the same time, hence one per thread. */
selfsup_status selfsup__dnnl_stream(dnnl_stream_t *out);

/* SELFSUP_OK for dnnl_success; otherwise SELFSUP_ERR_BACKEND (or
 * SELFSUP_ERR_OUT_OF_MEMORY, SELFSUP_ERR_UNSUPPORTED) with a message
 * "where: what failed: oneDNN status". */
selfsup_status selfsup__dnnl_check(dnnl_status_t st, const char *where,
                                   const char *what);

/* 1 when oneDNN has bfloat16 kernels on this CPU under its current ISA
 * limit (ONEDNN_MAX_CPU_ISA): oneDNN 2.6 runs bf16 from AVX-512 (AVX512_CORE,
 * emulated; natively with AVX512_BF16 or AMX) and refuses it below. */
int selfsup__dnnl_has_bf16(void);

/* 1 if oneDNN runs bf16 on the CPU's own bf16 instructions (AVX512_BF16 or
 * AMX) rather than emulating them on AVX-512: where precision=auto takes
 * bf16. ONEDNN_MAX_CPU_ISA lowers it as it lowers the kernels. */
int selfsup__dnnl_has_native_bf16(void);

/* The instruction set oneDNN dispatches to ("avx2", "avx512_core", ...). */
const char *selfsup__dnnl_isa_name(void);

#define SS_DNNL(call, what) SS_TRY(selfsup__dnnl_check((call), __func__, what))

#endif
