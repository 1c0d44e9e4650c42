#ifndef SELFSUP_TEST_TRAIN_SUITES_H
#define SELFSUP_TEST_TRAIN_SUITES_H

#include <check.h>

TCase *optimizer_tcase(void);
TCase *optimizer_state_tcase(void);
TCase *schedule_tcase(void);
TCase *ema_tcase(void);
TCase *checkpoint_tcase(void);
TCase *checkpoint_damage_tcase(void);
TCase *checkpoint_save_tcase(void);

#endif
