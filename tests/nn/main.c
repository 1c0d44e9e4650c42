#include "nn_test.h"
#include "test_support.h"

selfsup_tensor *nn_tensor(int ndim, const int64_t *dims)
{
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, ndim, dims));
    return t;
}

selfsup_tensor *nn_random_tensor(int ndim, const int64_t *dims, uint64_t seed,
                                 float lo, float hi)
{
    selfsup_tensor *t = nn_tensor(ndim, dims);
    ss_assert_ok(selfsup_tensor_fill_uniform(t, seed, lo, hi));
    return t;
}

selfsup__plan_ctx nn_plan_ctx(selfsup_encoder *e, int bf16)
{
    selfsup__plan_ctx c = {0};
    int64_t count;
    const selfsup__param_info *table;
    int n;
    c.g = selfsup__encoder_graph(e);
    selfsup__encoder_params(e, &c.params, &c.grads, &count, &table, &n);
    selfsup__encoder_buffers(e, &c.buffers, &count, &table, &n);
    c.dt = bf16 ? dnnl_bf16 : dnnl_f32;
    return c;
}

size_t nn_activation_bytes(const selfsup__plan *p)
{
    size_t total = 0;
    for (int b = 0; b < p->n_act_bufs; b++)
        total += p->act_size[b];
    return total;
}

int main(void)
{
    Suite *s = suite_create("nn");
    suite_add_tcase(s, fd_tcase());
    suite_add_tcase(s, golden_tcase());
    suite_add_tcase(s, api_tcase());
    suite_add_tcase(s, alloc_tcase());
    suite_add_tcase(s, bf16_tcase());
    suite_add_tcase(s, layout_tcase());
    suite_add_tcase(s, whitening_tcase());
    suite_add_tcase(s, forward_only_tcase());
    suite_add_tcase(s, recompute_tcase());
    return ss_run_suite(s);
}
