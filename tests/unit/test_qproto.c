/*
 * Query line splitting (lib/qproto.c): words, the "not given" markers and
 * the bytes a line may not carry.
 */
#include "unit.h"

#include <stdio.h>

#include "qproto.h"

static struct qrequest req;

static void
split_ok(const char *text, int argc)
{
	static char line[256];

	snprintf(line, sizeof line, "%s", text);
	assert_int_equal(qproto_split(line, &req), 0);
	assert_int_equal(req.argc, argc);
}

static void
test_words(void **state)
{
	(void)state;
	split_ok("STATS KZ-PORT-AKT 2026-01-01 2026-02-01 W KTZE", 6);
	assert_string_equal(req.argv[0], "STATS");
	assert_string_equal(req.argv[1], "KZ-PORT-AKT");
	assert_string_equal(req.argv[5], "KTZE");
	split_ok("  ping  ", 1);
	assert_string_equal(req.argv[0], "ping");
	split_ok("a\tb \t c", 3);
	assert_string_equal(req.argv[2], "c");
}

static void
test_empty(void **state)
{
	(void)state;
	split_ok("", 0);
	split_ok("   ", 0);
	split_ok("\t", 0);
}

static void
test_arg_count(void **state)
{
	static char nine[] = "1 2 3 4 5 6 7 8 9";

	(void)state;
	split_ok("1 2 3 4 5 6 7 8", QPROTO_MAX_ARGS);
	assert_string_equal(req.argv[7], "8");
	assert_int_equal(qproto_split(nine, &req), -1);
}

static void
test_bad_bytes(void **state)
{
	static const char *const bad[] = {
		"PING\r", "PI\nNG", "PING\x01", "PING\x7f", "PING \xc3\xa9", "\x1b[A",
	};
	char line[32];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(line, sizeof line, "%s", bad[i]);
		if (qproto_split(line, &req) != -1)
			fail_msg("bad[%zu] was split", i);
	}
}

static void
test_arg_given(void **state)
{
	(void)state;
	split_ok("STATS * - 2026-01-01 - KTZE", 6);
	assert_true(qproto_arg_given(&req, 0));
	assert_false(qproto_arg_given(&req, 1));
	assert_false(qproto_arg_given(&req, 2));
	assert_true(qproto_arg_given(&req, 3));
	assert_false(qproto_arg_given(&req, 4));
	assert_true(qproto_arg_given(&req, 5));
	assert_false(qproto_arg_given(&req, 6));	/* beyond the words */
	assert_false(qproto_arg_given(&req, QPROTO_MAX_ARGS));
	split_ok("STATS -- **", 3);
	assert_true(qproto_arg_given(&req, 1));
	assert_true(qproto_arg_given(&req, 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_arg_count),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_arg_given),
	};

	return UNIT_RUN(tests);
}
