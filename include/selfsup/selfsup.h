/* libselfsup: self-supervised learning of image encoders for C programs.
 *
 * The umbrella header: include this one. Every object is an opaque handle
 * made by selfsup_X_create and freed by selfsup_X_destroy (which accepts
 * NULL); every function that can fail returns a selfsup_status and leaves
 * its outputs untouched on failure, with selfsup_last_error() saying why. */
#ifndef SELFSUP_SELFSUP_H
#define SELFSUP_SELFSUP_H

#include "export.h"
#include "version.h"
#include "status.h"
#include "threads.h"
#include "comm.h"
#include "tensor.h"
#include "checkpoint.h"
#include "data.h"
#include "augment.h"
#include "objective.h"
#include "sortnet.h"
#include "encoder.h"
#include "whitening.h"
#include "eval.h"
#include "learner.h"
#include "optimizer.h"
#include "profile.h"

#endif
