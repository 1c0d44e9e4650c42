/* Internal: eigenvalues and eigenvectors of a dense symmetric matrix.
 *
 * For the whitening of features (covariances of a few hundred dimensions):
 * Householder reduction to tridiagonal form, then the implicit symmetric QR
 * iteration with Wilkinson shifts (Golub & Van Loan, sections 8.3.1 and
 * 8.3.2), in double precision. O(n^3), no workspace beyond n doubles. */
#ifndef SELFSUP_CORE_SYMEIG_H
#define SELFSUP_CORE_SYMEIG_H

#include <stdint.h>

#include "selfsup/status.h"

/* a (n x n, row-major, symmetric: only the lower triangle is read) is
 * overwritten with the eigenvectors, column j of the result belonging to
 * values[j]; values come out in descending order. Each eigenvector's
 * entry of largest magnitude (the first such) is made positive, so the
 * result is a function of the matrix, not of the iteration. Fails only
 * when the iteration does not converge (SELFSUP_ERR_NUMERIC, which no
 * finite matrix has been seen to do) or on a non-finite entry, or when
 * the workspace cannot be allocated; messages start with where, the
 * public call. */
selfsup_status selfsup__symeig(double *a, int64_t n, double *values,
                               const char *where);

#endif
