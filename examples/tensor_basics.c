/* The smallest host program: make a tensor, fill it, read it back, and show
 * how a failing call reports itself. Built in-tree and, by the install test,
 * against an installed libselfsup through pkg-config and find_package. */
#include <selfsup/selfsup.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    printf("libselfsup %s (headers %d.%d.%d)\n", selfsup_version_string(),
           SELFSUP_VERSION_MAJOR, SELFSUP_VERSION_MINOR, SELFSUP_VERSION_PATCH);
    if (strcmp(selfsup_version_string(), "0.1.0") < 0)
        return 1;

    const int64_t dims[2] = {2, 3};
    selfsup_tensor *t = NULL;
    if (selfsup_tensor_create(&t, 2, dims) != SELFSUP_OK) {
        fprintf(stderr, "%s\n", selfsup_last_error());
        return 1;
    }
    const float values[6] = {1, 2, 3, 4, 5, 6};
    selfsup_tensor_write(t, values, 6);

    float back[6];
    selfsup_tensor_read(t, back, 6);
    float sum = 0;
    for (int i = 0; i < 6; i++)
        sum += back[i];
    printf("tensor (%lld, %lld), sum %g\n", (long long)selfsup_tensor_dim(t, 0),
           (long long)selfsup_tensor_dim(t, 1), (double)sum);

    /* A wrong count is refused with a status and a message. */
    selfsup_status s = selfsup_tensor_read(t, back, 5);
    printf("reading 5 of 6: %s (%s)\n", selfsup_status_string(s),
           selfsup_last_error());
    selfsup_tensor_destroy(t);
    return sum == 21.0f && s == SELFSUP_ERR_SHAPE ? 0 : 1;
}
