/* Every message names the public function the host called, then the
 * detail, however deep the failure: a public call's own checks, a static
 * helper several calls down, another public function it calls, a worker
 * thread. ss_assert_fails checks the prefix of every failure it sees in
 * every suite (test_support.c); tests/abi/check_entry_names.sh checks that
 * every public function that returns a status fails through it somewhere.
 * This suite holds the public functions no other suite needed to fail, and
 * the failures that start deepest. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

static selfsup_tensor *tensor2(int64_t rows, int64_t cols, float fill)
{
    const int64_t dims[2] = {rows, cols};
    selfsup_tensor *t = NULL;
    ss_assert_ok(selfsup_tensor_create(&t, 2, dims));
    ss_assert_ok(selfsup_tensor_fill(t, fill));
    return t;
}

static selfsup_learner *small_learner(const char *method)
{
    selfsup_learner_config *c = NULL;
    ss_assert_ok(selfsup_learner_config_create(&c, method));
    ss_assert_ok(selfsup_learner_config_set(c, "encoder",
                                            "resnet18:width=4,in_channels=1"));
    ss_assert_ok(
        selfsup_learner_config_set(c, "projector", "mlp:hidden=8,out=8"));
    ss_assert_ok(selfsup_learner_config_set(c, "batch_size", "8"));
    ss_assert_ok(selfsup_learner_config_set(c, "total_steps", "4"));
    selfsup_learner *l = NULL;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    return l;
}

START_TEST(calls_no_other_suite_fails)
{
    uint8_t pixels[2 * 8 * 8] = {0};
    selfsup_dataset *d = NULL;
    ss_assert_ok(selfsup_dataset_from_memory(&d, pixels, 2, 8, 8, 1, NULL, 1));
    selfsup_augment *a = NULL;
    ss_assert_ok(selfsup_augment_create(&a, "flip:p=0.5"));
    const int64_t img[3] = {1, 8, 8};
    selfsup_tensor *out = NULL;
    ss_assert_ok(selfsup_tensor_create(&out, 3, img));
    ss_assert_fails(selfsup_augment_apply(NULL, d, 0, 1, 0, 0, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, "a");
    ss_assert_fails(selfsup_augment_apply(a, d, 2, 1, 0, 0, out),
                    SELFSUP_ERR_INVALID_ARGUMENT, NULL);
    float mean, std;
    ss_assert_fails(selfsup_dataset_stats(NULL, &mean, &std),
                    SELFSUP_ERR_INVALID_ARGUMENT, "d");

    selfsup_encoder *e = NULL;
    ss_assert_ok(
        selfsup_encoder_create(&e, "resnet18:width=4,in_channels=2", 1));
    selfsup_tensor *features = NULL;
    /* the dataset has 1 channel, the encoder 2 */
    ss_assert_fails(selfsup_embed_dataset(e, d, 0, 2, NULL, NULL, &features),
                    SELFSUP_ERR_SHAPE, "channels");
    int ndim;
    int64_t dims[4];
    ss_assert_fails(selfsup_encoder_param_shape(e, 9999, &ndim, dims),
                    SELFSUP_ERR_INVALID_ARGUMENT, "9999");
    const float means[2] = {0.5f, 0.5f}, stds[2] = {1.0f, 0.0f};
    ss_assert_fails(selfsup_encoder_set_input_normalization(e, means, stds),
                    SELFSUP_ERR_INVALID_ARGUMENT, "std");

    selfsup_learner *l = small_learner("simclr");
    char buf[64];
    /* the detail comes from selfsup_learner_config_get, called inside */
    ss_assert_fails(
        selfsup_learner_config_value(l, "no_such_key", buf, sizeof buf),
        SELFSUP_ERR_INVALID_ARGUMENT, "no_such_key");
    /* and from selfsup_encoder_infer */
    selfsup_tensor *flat = tensor2(2, 7, 0), *feat = tensor2(2, 32, 0);
    ss_assert_fails(selfsup_learner_embed(l, flat, feat), SELFSUP_ERR_SHAPE,
                    "input");
    ss_assert_fails(selfsup_learner_set_total_steps(l, 0),
                    SELFSUP_ERR_INVALID_ARGUMENT, "total_steps");
    /* from the checkpoint writer's helpers */
    const char *nowhere = "/nonexistent-selfsup-dir/x.ckpt";
    ss_assert_fails(selfsup_learner_save(l, nowhere), SELFSUP_ERR_IO,
                    "nonexistent-selfsup-dir");
    ss_assert_fails(selfsup_learner_export_encoder(l, nowhere), SELFSUP_ERR_IO,
                    "nonexistent-selfsup-dir");

    selfsup_whitening *w = NULL;
    ss_assert_fails(selfsup_whitening_clone(&w, NULL),
                    SELFSUP_ERR_INVALID_ARGUMENT, "w");
    ss_assert_fails(selfsup_whitening_read(NULL, &mean, &std),
                    SELFSUP_ERR_INVALID_ARGUMENT, "w");

    selfsup_learner_destroy(l);
    selfsup_encoder_destroy(e);
    selfsup_augment_destroy(a);
    selfsup_dataset_destroy(d);
    selfsup_tensor_destroy(out);
    selfsup_tensor_destroy(flat);
    selfsup_tensor_destroy(feat);
}
END_TEST

/* Failures raised by static helpers a few calls down, which used to start
 * with the helper's own name. */
START_TEST(deep_failures_name_the_call)
{
    selfsup_objective *o = NULL;
    ss_assert_ok(selfsup_objective_create(&o, "vicreg"));
    selfsup_tensor *a = tensor2(4, 8, 1), *b = tensor2(4, 6, 1);
    const selfsup_tensor *views[2] = {a, b};
    float loss;
    ss_assert_fails(selfsup_objective_compute(o, 2, views, NULL, &loss, NULL),
                    SELFSUP_ERR_SHAPE, "online[1]");
    selfsup_objective_destroy(o);

    selfsup_learner_config *c = NULL;
    ss_assert_ok(selfsup_learner_config_create(&c, "byol"));
    ss_assert_fails(
        selfsup_learner_config_set(c, "optimizer", "lars:momentum=7"),
        SELFSUP_ERR_INVALID_ARGUMENT, "momentum");
    selfsup_learner_config_destroy(c);

    /* a file that is not a checkpoint, refused by the reader's helpers */
    char path[] = "/tmp/selfsup_entry_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not a checkpoint at all", 23), 23);
    close(fd);
    selfsup_encoder *e = NULL;
    ss_assert_fails(selfsup_encoder_load(&e, path), SELFSUP_ERR_CORRUPT, path);
    selfsup_learner *l = NULL;
    ss_assert_fails(selfsup_learner_load(&l, path), SELFSUP_ERR_CORRUPT, path);
    unlink(path);
    selfsup_tensor_destroy(a);
    selfsup_tensor_destroy(b);
}
END_TEST

/* The mark a public call sets is cleared on its way out, on success and on
 * failure: the next call's failure names the next call. */
START_TEST(the_mark_ends_with_the_call)
{
    selfsup_learner *l = small_learner("simclr");
    char buf[64];
    ss_assert_ok(
        selfsup_learner_config_value(l, "batch_size", buf, sizeof buf));
    selfsup_tensor *t = NULL;
    const int64_t bad[1] = {-1};
    ss_assert_fails(selfsup_tensor_create(&t, 1, bad),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dims[0]");
    ss_assert_fails(selfsup_learner_config_value(l, "nope", buf, sizeof buf),
                    SELFSUP_ERR_INVALID_ARGUMENT, "nope");
    ss_assert_fails(selfsup_tensor_create(&t, 1, bad),
                    SELFSUP_ERR_INVALID_ARGUMENT, "dims[0]");
    ck_assert(strncmp(selfsup_last_error(), "selfsup_tensor_create: ", 23) ==
              0);
    selfsup_learner_destroy(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("entry_names");
    TCase *tc = tcase_create("entry_names");
    tcase_add_test(tc, calls_no_other_suite_fails);
    tcase_add_test(tc, deep_failures_name_the_call);
    tcase_add_test(tc, the_mark_ends_with_the_call);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
