/* The learner's precision key: auto resolves by the CPU and by
 * ONEDNN_MAX_CPU_ISA (CTest runs this suite a second time with it at AVX2),
 * every network follows the key unless its spec names its own, checkpoints
 * record what ran, exports run in float32, and a bf16 learner trains where
 * oneDNN has bf16 kernels and is refused by name where it has none. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/dnnl_ctx.h"
#include "io/checkpoint_file.h"
#include "learner_fixture.h"

/* Whether the kernel lists flag among the CPU's. */
static int cpu_has_flag(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    ck_assert_msg(f != NULL, "cannot read /proc/cpuinfo");
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        size_t n = strlen(flag);
        for (const char *at = strstr(line, flag); at && !found;
             at = strstr(at + 1, flag))
            found = isspace((unsigned char)at[-1]) &&
                    (isspace((unsigned char)at[n]) || at[n] == '\0');
    }
    fclose(f);
    return found;
}

/* What precision=auto must choose here, worked out apart from oneDNN:
 * bf16 when the CPU has bf16 instructions and ONEDNN_MAX_CPU_ISA, if set,
 * lets oneDNN use them. */
static const char *expected_auto(void)
{
    int native = cpu_has_flag("avx512_bf16") || cpu_has_flag("amx_bf16");
    const char *limit = getenv("ONEDNN_MAX_CPU_ISA");
    if (limit && *limit && strcasecmp(limit, "ALL") != 0 &&
        strncasecmp(limit, "AVX512_CORE_BF16", 16) != 0 &&
        strncasecmp(limit, "AVX512_CORE_AMX", 15) != 0)
        native = 0;
    return native ? "bf16" : "f32";
}

static selfsup_learner *make(const char *method, const char *precision)
{
    selfsup_learner_config *c = small_config(method, 30);
    ss_assert_ok(selfsup_learner_config_set(c, "precision", precision));
    selfsup_learner *l;
    ss_assert_ok(selfsup_learner_create(&l, c));
    selfsup_learner_config_destroy(c);
    return l;
}

static const char *spec_of(selfsup_learner *l, const char *role)
{
    selfsup_encoder *net;
    ss_assert_ok(selfsup_learner_network(l, role, &net));
    return selfsup_encoder_spec(net);
}

static const char *const BYOL_ROLES[] = {"online.encoder", "online.projector",
                                         "online.predictor", "target.encoder",
                                         "target.projector"};

START_TEST(auto_follows_the_cpu)
{
    const char *want = expected_auto();
    fprintf(stderr, "precision: auto should choose %s here (oneDNN at %s)\n",
            want, selfsup__dnnl_isa_name());
    selfsup_learner_config *c;
    ss_assert_ok(selfsup_learner_config_create(&c, "groco"));
    char buf[16];
    ss_assert_ok(selfsup_learner_config_get(c, "precision", buf, sizeof buf));
    ck_assert_str_eq(buf, want);
    selfsup_learner_config_destroy(c);

    /* Every method's recipe leaves it at auto, BYOL's too (its float32
     * exception ended with its LARS recipe: docs/training.md); a
     * config reads auto back as what it chooses */
    static const char *const methods[] = {"byol",   "simsiam", "vicreg",
                                          "simclr", "barlow",  "groco"};
    for (int m = 0; m < 6; m++) {
        ss_assert_ok(selfsup_learner_config_create(&c, methods[m]));
        ss_assert_ok(
            selfsup_learner_config_get(c, "precision", buf, sizeof buf));
        ck_assert_msg(strcmp(buf, want) == 0, "%s's recipe: precision %s",
                      methods[m], buf);
        selfsup_learner_config_destroy(c);
    }

    selfsup_learner *l = make("byol", "auto");
    ss_assert_ok(selfsup_learner_config_value(l, "precision", buf, sizeof buf));
    ck_assert_str_eq(buf, want);
    char suffix[32];
    snprintf(suffix, sizeof suffix, "precision=%s", want);
    for (int r = 0; r < 5; r++)
        ck_assert_msg(strstr(spec_of(l, BYOL_ROLES[r]), suffix), "%s is %s",
                      BYOL_ROLES[r], spec_of(l, BYOL_ROLES[r]));
    selfsup_learner_destroy(l);
}
END_TEST

START_TEST(bad_values_are_refused)
{
    selfsup_learner_config *c;
    ss_assert_ok(selfsup_learner_config_create(&c, "simclr"));
    ss_assert_fails(selfsup_learner_config_set(c, "precision", "half"),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "selfsup_learner_config_set: precision = \"half\" is not "
                    "auto, f32 or bf16");
    ss_assert_fails(selfsup_learner_config_set(c, "precision", "BF16"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not auto, f32 or bf16");
    ss_assert_fails(selfsup_learner_config_set(c, "precision", ""),
                    SELFSUP_ERR_INVALID_ARGUMENT, "precision");
    /* the refused values left the key as it was */
    char buf[16];
    ss_assert_ok(selfsup_learner_config_set(c, "precision", "f32"));
    ss_assert_ok(selfsup_learner_config_get(c, "precision", buf, sizeof buf));
    ck_assert_str_eq(buf, "f32");
    selfsup_learner_config_destroy(c);
}
END_TEST

/* Every network takes the key's precision, target included, unless its
 * spec names one: the spec's own wins. Making the networks needs no bf16
 * kernels, only running them does. */
START_TEST(networks_follow_the_key_unless_their_spec_says)
{
    selfsup_learner *l = make("byol", "bf16");
    for (int r = 0; r < 5; r++)
        ck_assert_msg(strstr(spec_of(l, BYOL_ROLES[r]), "precision=bf16"),
                      "%s is %s", BYOL_ROLES[r], spec_of(l, BYOL_ROLES[r]));
    selfsup_learner_destroy(l);

    selfsup_learner_config *c = small_config("byol", 30);
    ss_assert_ok(selfsup_learner_config_set(c, "precision", "bf16"));
    ss_assert_ok(selfsup_learner_config_set(
        c, "projector", "mlp:hidden=64,out=32,layers=2,precision=f32"));
    ss_assert_ok(selfsup_learner_create(&l, c));
    ck_assert_str_eq(spec_of(l, "online.projector"),
                     "mlp:in=128,hidden=64,out=32,layers=2,last_bn=0,bias=1,"
                     "precision=f32");
    ck_assert_str_eq(spec_of(l, "online.encoder"),
                     "resnet18:width=16,in_channels=1,precision=bf16");
    ck_assert_ptr_nonnull(strstr(spec_of(l, "online.predictor"), "=bf16"));
    selfsup_learner_destroy(l);

    ss_assert_ok(selfsup_learner_config_set(c, "precision", "f32"));
    ss_assert_ok(selfsup_learner_config_set(
        c, "encoder", "resnet18:width=16,in_channels=1,precision=bf16"));
    ss_assert_ok(selfsup_learner_create(&l, c));
    ck_assert_str_eq(spec_of(l, "online.encoder"),
                     "resnet18:width=16,in_channels=1,precision=bf16");
    ck_assert_ptr_nonnull(strstr(spec_of(l, "online.projector"), "=f32"));
    selfsup_learner_destroy(l);
    selfsup_learner_config_destroy(c);
}
END_TEST

/* A checkpoint holds what auto chose, not "auto", so that a run resumes
 * in the precision it ran in; its load builds the same networks. */
START_TEST(checkpoints_record_the_choice)
{
    selfsup_learner *l = make("simsiam", "auto");
    const char *path = temp_path();
    ss_assert_ok(selfsup_learner_save(l, path));
    selfsup__ckpt_reader *r;
    ss_assert_ok(selfsup__ckpt_reader_open(&r, path, NULL));
    const char *text;
    ss_assert_ok(
        selfsup__ckpt_get_string(r, "learner/config/precision", &text));
    ck_assert_str_eq(text, expected_auto());
    selfsup__ckpt_reader_close(r);
    selfsup_learner *back;
    ss_assert_ok(selfsup_learner_load(&back, path));
    ck_assert_str_eq(spec_of(back, "online.projector"),
                     spec_of(l, "online.projector"));
    unlink(path);
    selfsup_learner_destroy(back);
    selfsup_learner_destroy(l);
}
END_TEST

/* The export runs on any CPU: float32, the online encoder's parameters
 * bit for bit, whatever precision trained it; and so does the online
 * encoder loaded from a full checkpoint. */
START_TEST(exports_are_float32)
{
    selfsup_learner *l = make("groco", "bf16");
    const char *path = temp_path();
    ss_assert_ok(selfsup_learner_export_encoder(l, path));
    selfsup_encoder *e;
    ss_assert_ok(selfsup_encoder_load(&e, path));
    ck_assert_str_eq(selfsup_encoder_spec(e),
                     "resnet18:width=16,in_channels=1,precision=f32");
    int64_t n_online, n_export;
    float *online = snapshot_encoder(selfsup_learner_encoder(l), &n_online);
    float *exported = snapshot_encoder(e, &n_export);
    ck_assert_int_eq(n_online, n_export);
    ck_assert_int_eq(
        memcmp(online, exported, (size_t)n_online * sizeof *online), 0);
    const int64_t dims[4] = {4, 1, 28, 28}, out[2] = {4, 128};
    selfsup_tensor *x, *y;
    ss_assert_ok(selfsup_tensor_create(&x, 4, dims));
    ss_assert_ok(selfsup_tensor_create(&y, 2, out));
    ss_assert_ok(selfsup_tensor_fill_normal(x, 3, 0, 1));
    ss_assert_ok(selfsup_encoder_infer(e, x, y));
    selfsup_encoder_destroy(e);
    free(exported);

    /* the online encoder of a full checkpoint loads the same way */
    ss_assert_ok(selfsup_learner_save(l, path));
    ss_assert_ok(selfsup_encoder_load(&e, path));
    ck_assert_str_eq(selfsup_encoder_spec(e),
                     "resnet18:width=16,in_channels=1,precision=f32");
    exported = snapshot_encoder(e, &n_export);
    ck_assert_int_eq(
        memcmp(online, exported, (size_t)n_online * sizeof *online), 0);
    ss_assert_ok(selfsup_encoder_infer(e, x, y));
    selfsup_tensor_destroy(x);
    selfsup_tensor_destroy(y);
    free(online);
    free(exported);
    unlink(path);
    selfsup_encoder_destroy(e);
    selfsup_learner_destroy(l);
}
END_TEST

/* Where oneDNN has bf16 kernels a bf16 learner fits a fixed batch as the
 * float32 one does: its first loss within 5% of float32's (bf16 rounds the
 * encoder's output by about 2.5%, tests/nn/test_bf16.c) and its loss falls
 * over 30 steps. Where it has none, the first step is refused by name and
 * nothing is counted. */
START_TEST(bf16_learner_trains_or_is_refused)
{
    selfsup_tensor *views[2];
    make_views(32, 0, views);
    selfsup_learner *l = make("groco", "bf16");
    float loss = NAN;
    if (!selfsup__dnnl_has_bf16()) {
        ck_assert_int_eq(selfsup_learner_step(
                             l, 2, (const selfsup_tensor *const *)views, &loss),
                         SELFSUP_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(selfsup_last_error(),
                                     "precision=bf16 needs oneDNN's "
                                     "AVX-512 kernels"));
        ck_assert_int_eq(selfsup_learner_steps(l), 0);
        fprintf(stderr,
                "bf16: oneDNN at %s has no bf16 kernels: checked the "
                "refusal, not the training\n",
                selfsup__dnnl_isa_name());
    } else {
        selfsup_learner *f = make("groco", "f32");
        float reference;
        ss_assert_ok(selfsup_learner_step(
            f, 2, (const selfsup_tensor *const *)views, &reference));
        double first = 0, last = 0;
        for (int s = 0; s < 30; s++) {
            ss_assert_ok(selfsup_learner_step(
                l, 2, (const selfsup_tensor *const *)views, &loss));
            ck_assert(isfinite(loss));
            if (s == 0)
                ck_assert_msg(fabs(loss - reference) <= 0.05 * fabs(reference),
                              "bf16 loss %g, f32 %g", (double)loss,
                              (double)reference);
            if (s < 5)
                first += loss / 5;
            if (s >= 25)
                last += loss / 5;
        }
        ck_assert_msg(last < first, "bf16: loss did not fall (%g -> %g)", first,
                      last);
        selfsup_learner_destroy(f);
    }
    selfsup_learner_destroy(l);
    selfsup_tensor_destroy(views[0]);
    selfsup_tensor_destroy(views[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("precision");
    TCase *tc = tcase_create("precision");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, auto_follows_the_cpu);
    tcase_add_test(tc, bad_values_are_refused);
    tcase_add_test(tc, networks_follow_the_key_unless_their_spec_says);
    tcase_add_test(tc, checkpoints_record_the_choice);
    tcase_add_test(tc, exports_are_float32);
    tcase_add_test(tc, bf16_learner_trains_or_is_refused);
    suite_add_tcase(s, tc);
    return ss_run_suite(s);
}
