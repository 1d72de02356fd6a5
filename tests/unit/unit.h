/*
 * What every cmocka unit test includes: cmocka needs these standard headers
 * before its own, in this order.
 */
#ifndef CORRIDOR_TEST_UNIT_H
#define CORRIDOR_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define UNIT_RUN(tests) cmocka_run_group_tests_name(__FILE__, tests, NULL, NULL)

#endif
