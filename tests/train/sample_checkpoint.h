/* A small checkpoint with one section of every type and awkward values
 * (negative zero, a denormal, infinities, a NaN with payload, extreme
 * integers, NUL bytes, empty sections), for round-trip and damage tests. */
#ifndef SELFSUP_TEST_TRAIN_SAMPLE_CHECKPOINT_H
#define SELFSUP_TEST_TRAIN_SAMPLE_CHECKPOINT_H

#include <stddef.h>

#include "io/checkpoint_file.h"

enum { SAMPLE_SECTIONS = 10 };

/* Puts the sample's sections into w (asserting success). */
void put_sample(selfsup__ckpt_writer *w);
/* The same, returning the first failure (for allocation/I-O sweeps). */
selfsup_status try_put_sample(selfsup__ckpt_writer *w);
/* Writes the sample checkpoint to path. */
void write_sample(const char *path);
/* Asserts that r holds exactly the sample, bit for bit. */
void check_sample(const selfsup__ckpt_reader *r);
/* The sample as bytes (malloc'd), written through a file in dir. */
unsigned char *sample_image(const char *dir, size_t *size);

#endif
