#include "knn_vote.h"

#include <math.h>

void selfsup__knn_class_scores(double *scores, int n_classes,
                               const int64_t *neighbors, const float *sims,
                               int k, const int32_t *train_labels,
                               float temperature)
{
    for (int c = 0; c < n_classes; c++)
        scores[c] = 0.0;
    double best = sims[0], inv_t = 1.0 / (double)temperature;
    for (int i = 0; i < k; i++)
        scores[train_labels[neighbors[i]]] +=
            exp(((double)sims[i] - best) * inv_t);
}

int32_t selfsup__knn_top_class(const double *scores, int n_classes)
{
    int32_t top = 0;
    for (int c = 1; c < n_classes; c++)
        if (scores[c] > scores[top])
            top = c;
    return top;
}

int selfsup__knn_rank_of(const double *scores, int n_classes, int32_t label)
{
    int before = 0;
    double s = scores[label];
    for (int c = 0; c < n_classes; c++)
        if (scores[c] > s || (scores[c] == s && c < label))
            before++;
    return before;
}
