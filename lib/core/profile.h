/* Internal: the hooks that feed the public profile (selfsup/profile.h). */
#ifndef SELFSUP_CORE_PROFILE_H
#define SELFSUP_CORE_PROFILE_H

#include "selfsup/profile.h"

/* 1 while selfsup_profile_start's counting is on: test it before building
 * a name, so that an unprofiled run pays one atomic load. */
int selfsup__profile_on(void);

/* Monotonic seconds. */
double selfsup__profile_clock(void);

/* Adds one run of the operation or phase called name (truncated to 127
 * bytes) that took seconds and did flops floating-point operations. */
void selfsup__profile_add(selfsup_profile_kind kind, const char *name,
                          double seconds, double flops);

/* A phase of a learner step, timed from _begin to _end while the profile
 * is on: double t = selfsup__profile_begin(); ...;
 * selfsup__profile_end("step: backward", t). */
double selfsup__profile_begin(void);
void selfsup__profile_end(const char *phase, double started);

#endif
