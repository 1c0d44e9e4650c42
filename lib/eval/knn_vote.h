/* Internal: the weighted vote of a query's neighbours. */
#ifndef SELFSUP_EVAL_KNN_VOTE_H
#define SELFSUP_EVAL_KNN_VOTE_H

#include <stdint.h>

/* scores[c] = sum over the k neighbours i of class c of
 * exp((sims[i] - sims[0]) / temperature), neighbours most similar first.
 * This is the literature's exp(sim / T) vote scaled by exp(-sims[0] / T),
 * the same for every class: the ranking is unchanged and no weight exceeds
 * 1, so no temperature can overflow it. */
void selfsup__knn_class_scores(double *scores, int n_classes,
                               const int64_t *neighbors, const float *sims,
                               int k, const int32_t *train_labels,
                               float temperature);

/* The class with the largest score; the lowest index among equals. */
int32_t selfsup__knn_top_class(const double *scores, int n_classes);

/* How many classes rank before label: a larger score, or an equal score
 * and a lower index. label is in the top n when this is below n. */
int selfsup__knn_rank_of(const double *scores, int n_classes, int32_t label);

#endif
