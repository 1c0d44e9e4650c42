#include "suites.h"
#include "test_support.h"

int main(void)
{
    Suite *s = suite_create("train");
    suite_add_tcase(s, optimizer_tcase());
    suite_add_tcase(s, optimizer_state_tcase());
    suite_add_tcase(s, schedule_tcase());
    suite_add_tcase(s, ema_tcase());
    suite_add_tcase(s, checkpoint_tcase());
    suite_add_tcase(s, checkpoint_damage_tcase());
    suite_add_tcase(s, checkpoint_save_tcase());
    return ss_run_suite(s);
}
