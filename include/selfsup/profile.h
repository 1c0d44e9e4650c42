/* libselfsup: where the time goes, per layer and per phase of a step. */
#ifndef SELFSUP_PROFILE_H
#define SELFSUP_PROFILE_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A process-wide profile of the library's work, off by default.
 * selfsup_profile_start clears it and turns it on; from then until
 * selfsup_profile_stop every oneDNN primitive the library runs
 * (convolutions, inner products, batch norm, pooling, reorders, ...), every
 * matrix product of the objectives and every phase of selfsup_learner_step
 * is timed and counted, one entry per distinct operation: primitives by
 * kind, direction, shapes and oneDNN implementation (the layers of one
 * shape share an entry), phases by name. While it is on, each primitive
 * costs two clock reads and a table lookup more, and calls from several
 * threads are serialised at the table; off, one atomic load. The table
 * holds up to 1024 entries; operations beyond that are counted in a last
 * entry named "(other)". */

/* What an entry counts. */
typedef enum selfsup_profile_kind {
    /* One oneDNN primitive or matrix product; entries of this kind do not
     * overlap, so their seconds add up. */
    SELFSUP_PROFILE_OPERATION = 0,
    /* A phase of selfsup_learner_step ("step: forward", "step: objective",
     * "step: backward", ...); it contains operations. */
    SELFSUP_PROFILE_PHASE = 1
} selfsup_profile_kind;

/* Clears the table and starts counting (again, if it was on). The table
 * is static: starting, stopping and counting never allocate or fail. */
SELFSUP_API void selfsup_profile_start(void);

/* Stops counting; the table stays readable until the next start. */
SELFSUP_API void selfsup_profile_stop(void);

/* The number of entries (0 before the first start). */
SELFSUP_API int64_t selfsup_profile_count(void);

/* Entry index (0 <= index < selfsup_profile_count(), in the order the
 * operations first ran): its kind (a selfsup_profile_kind), its name (valid
 * until the next selfsup_profile_start), how many times it ran, the seconds
 * of wall time those runs took, and their floating-point operations (a
 * multiply-add counts 2; 0 for operations that only move or normalise
 * data: their cost is memory traffic). Any output pointer may be NULL. */
SELFSUP_API selfsup_status selfsup_profile_entry(int64_t index, int *kind,
                                                 const char **name,
                                                 int64_t *calls,
                                                 double *seconds,
                                                 double *flops);

/* The instruction set oneDNN's kernels dispatch to on this CPU, under
 * ONEDNN_MAX_CPU_ISA if set: "avx2", "avx512_core", "avx512_core_bf16",
 * "avx512_core_amx", ... (a static string). */
SELFSUP_API const char *selfsup_profile_isa(void);

/* The machine's practical float32 peak for the library's kernels: the
 * floating-point rate (in GFLOP/s, into *gflops) of one 3x3 convolution
 * from 64 to 64 channels on 64 images of 16x16 (1.21 GFLOP a run), run
 * alone on the library's threads for about `seconds` (0.05 to 60), the
 * fastest run counted. A training step's GFLOP/s over this is the share of
 * the peak it reaches. */
SELFSUP_API selfsup_status selfsup_profile_roof(double seconds, double *gflops);

/* selfsup_profile_roof for a precision, "f32" (the same figure) or
 * "bf16": the same convolution with bf16 source, weights and destination,
 * the peak of a precision=bf16 step. SELFSUP_ERR_UNSUPPORTED for bf16 where
 * oneDNN has no bf16 kernels (below AVX-512); SELFSUP_ERR_INVALID_ARGUMENT
 * for another name. */
SELFSUP_API selfsup_status selfsup_profile_roof_precision(const char *precision,
                                                          double seconds,
                                                          double *gflops);

#ifdef __cplusplus
}
#endif

#endif
