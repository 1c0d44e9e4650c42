#include "core/spec.h"
#include "suites.h"
#include "test_support.h"

START_TEST(parses_name_and_keys)
{
    selfsup__spec s;
    ss_assert_ok(selfsup__spec_parse(&s,
                                     " groco : topk=5, network = bitonic,"
                                     "steepness=2.5,flag=yes",
                                     "here"));
    ck_assert_str_eq(s.name, "groco");
    long topk = 10;
    double steep = 1;
    int net = 0, flag = 0;
    const char *relax = "cauchy";
    static const char *const nets[] = {"odd_even", "bitonic"};
    ss_assert_ok(selfsup__spec_int(&s, "topk", 1, 100, &topk));
    ss_assert_ok(
        selfsup__spec_double(&s, "steepness", 0, 1e6, SS_SPEC_OPEN_LO, &steep));
    ss_assert_ok(selfsup__spec_choice(&s, "network", nets, 2, &net));
    ss_assert_ok(selfsup__spec_string(&s, "relax", &relax));
    ss_assert_ok(selfsup__spec_bool(&s, "flag", &flag));
    ss_assert_ok(selfsup__spec_finish(&s));
    ck_assert_int_eq(topk, 5);
    ss_assert_close(steep, 2.5, 0, 0);
    ck_assert_int_eq(net, 1);
    ck_assert_int_eq(flag, 1);
    ck_assert_str_eq(relax, "cauchy"); /* absent keys keep the default */
    selfsup__spec_free(&s);

    ss_assert_ok(selfsup__spec_parse(&s, "byol", "here"));
    ck_assert_str_eq(s.name, "byol");
    ck_assert_int_eq(s.count, 0);
    ss_assert_ok(selfsup__spec_finish(&s));
    selfsup__spec_free(&s);
}
END_TEST

/* Quoted values keep commas, spaces and colons; \" and \\ escape. */
START_TEST(quoted_values)
{
    selfsup__spec s;
    ss_assert_ok(selfsup__spec_parse(
        &s, "folder: path = \" my photos, 2024: \\\"best\\\" \\\\ \" ,size=64",
        "here"));
    const char *path = NULL;
    long size = 0;
    ss_assert_ok(selfsup__spec_string(&s, "path", &path));
    ss_assert_ok(selfsup__spec_int(&s, "size", 1, 1000, &size));
    ss_assert_ok(selfsup__spec_finish(&s));
    ck_assert_str_eq(path, " my photos, 2024: \"best\" \\ ");
    ck_assert_int_eq(size, 64);
    selfsup__spec_free(&s);
    ss_assert_ok(selfsup__spec_parse(&s, "x:a=\"1,2\"", "here"));
    ck_assert_int_eq(s.count, 1);
    ck_assert_str_eq(s.values[0], "1,2");
    selfsup__spec_free(&s);
}
END_TEST

static void expect_parse_error(const char *text, const char *needle)
{
    selfsup__spec s;
    ss_assert_fails(selfsup__spec_parse(&s, text, "where"),
                    SELFSUP_ERR_INVALID_ARGUMENT, needle);
    selfsup__spec_free(&s);
}

START_TEST(malformed_specs_are_refused)
{
    expect_parse_error("", "not a name");
    expect_parse_error(":a=1", "not a name");
    expect_parse_error("na me", "not a name");
    expect_parse_error("x:a", "\"a\" is not key=value");
    expect_parse_error("x:a=", "key \"a\"");
    expect_parse_error("x:=3", "key \"\"");
    expect_parse_error("x:a=1,,b=2", "is not key=value");
    expect_parse_error("x:a=1,a=2", "\"a\" given twice");
    expect_parse_error(NULL, "spec is NULL");
    expect_parse_error("x:a=\"1,2", "unterminated quoted value");
    expect_parse_error("x:a=\"1\"2,b=3", "text after its quoted value");
    expect_parse_error("x:a=\"\"", "key \"a\" or its value is empty");
}
END_TEST

START_TEST(values_are_range_checked)
{
    selfsup__spec s;
    double t = 0.5;
    long k = 3;
    int c = 0;
    static const char *const opts[] = {"a", "b"};
    ss_assert_ok(selfsup__spec_parse(&s, "m:t=0,k=-2,c=z,x=1,d=1e999", "f"));
    ss_assert_fails(selfsup__spec_double(&s, "t", 0, 10, SS_SPEC_OPEN_LO, &t),
                    SELFSUP_ERR_INVALID_ARGUMENT, "t = 0 is outside (0, 10]");
    ss_assert_fails(selfsup__spec_int(&s, "k", 1, 9, &k),
                    SELFSUP_ERR_INVALID_ARGUMENT, "k = -2 is outside [1, 9]");
    ss_assert_fails(selfsup__spec_choice(&s, "c", opts, 2, &c),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not one of a, b");
    ss_assert_fails(selfsup__spec_double(&s, "d", 0, 1, 0, &t),
                    SELFSUP_ERR_INVALID_ARGUMENT, "not a finite number");
    ss_assert_fails(selfsup__spec_finish(&s), SELFSUP_ERR_INVALID_ARGUMENT,
                    "unknown key \"x\" (known keys: t, k, c, d)");
    ck_assert(t == 0.5 && k == 3 && c == 0); /* untouched on failure */
    selfsup__spec_free(&s);

    ss_assert_ok(selfsup__spec_parse(&s, "m:k=12abc,b=maybe", "f"));
    ss_assert_fails(selfsup__spec_int(&s, "k", 0, 99, &k),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "\"12abc\" is not an integer");
    ss_assert_fails(selfsup__spec_bool(&s, "b", &c),
                    SELFSUP_ERR_INVALID_ARGUMENT, "b = \"maybe\"");
    selfsup__spec_free(&s);
}
END_TEST

/* Setting a key rewrites the spec in the parser's own grammar: the other
 * keys in order, the key replaced where it was or appended, values that
 * need it quoted so that the result parses back to the same values. */
START_TEST(format_with_sets_one_key)
{
    char out[128];
    ss_assert_ok(selfsup__spec_format_with(" mlp : out=64, precision=bf16 ",
                                           "precision", "f32", 0, out,
                                           sizeof out, "f"));
    ck_assert_str_eq(out, "mlp:out=64,precision=f32");
    ss_assert_ok(selfsup__spec_format_with("mlp:out=64,precision=bf16",
                                           "precision", "f32", 1, out,
                                           sizeof out, "f"));
    ck_assert_str_eq(out, "mlp:out=64,precision=bf16");
    ss_assert_ok(selfsup__spec_format_with("resnet18", "precision", "bf16", 1,
                                           out, sizeof out, "f"));
    ck_assert_str_eq(out, "resnet18:precision=bf16");
    ss_assert_ok(selfsup__spec_format_with(
        "folder:path=\"a, \\\"b\\\"\"", "size", "64", 0, out, sizeof out, "f"));
    ck_assert_str_eq(out, "folder:path=\"a, \\\"b\\\"\",size=64");
    selfsup__spec s;
    const char *path = NULL;
    ss_assert_ok(selfsup__spec_parse(&s, out, "f"));
    ss_assert_ok(selfsup__spec_string(&s, "path", &path));
    ck_assert_str_eq(path, "a, \"b\"");
    selfsup__spec_free(&s);

    ss_assert_fails(selfsup__spec_format_with("mlp:out=", "precision", "f32", 0,
                                              out, sizeof out, "f"),
                    SELFSUP_ERR_INVALID_ARGUMENT, "empty or malformed");
    ss_assert_fails(selfsup__spec_format_with("mlp:out=64", "precision", "bf16",
                                              0, out, 20, "f"),
                    SELFSUP_ERR_INVALID_ARGUMENT,
                    "f: spec \"mlp:out=64\" with precision=bf16 is longer "
                    "than 19 characters");
    ss_assert_ok(selfsup__spec_format_with("mlp:out=64", "precision", "bf16", 0,
                                           out, 26, "f"));
    ck_assert_str_eq(out, "mlp:out=64,precision=bf16");
}
END_TEST

TCase *spec_tcase(void)
{
    TCase *tc = tcase_create("spec");
    tcase_add_test(tc, parses_name_and_keys);
    tcase_add_test(tc, malformed_specs_are_refused);
    tcase_add_test(tc, quoted_values);
    tcase_add_test(tc, values_are_range_checked);
    tcase_add_test(tc, format_with_sets_one_key);
    return tc;
}
