/*
 * Query line splitting (lib/qproto.c): words, the "not given" markers and
 * the bytes a line may not carry.
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

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

/* The line is checked with its length: a NUL inside is a bad byte, not the
 * end of the line, and the position counts from 1. */
static void
test_check_line(void **state)
{
	static const struct {
		const char *line;
		size_t len, pos;
	} bad[] = {
		{ "PING\0 extra", 11, 5 }, { "\0", 1, 1 }, { "STATS * \0", 9, 9 },
		{ "PING \x01", 6, 6 }, { "PING\x7f", 5, 5 }, { "LEGS \xc3\xa9", 7, 6 },
		{ "PI\rNG", 6, 3 }, { "PING\r", 5, 5 }, { "PING\n", 5, 5 }, { "\x1b[A", 3, 1 },
	};
	char msg[160];
	size_t pos;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char want[32];

		pos = 0;
		if (qproto_check_line(bad[i].line, bad[i].len, &pos, msg, sizeof msg) != -1)
			fail_msg("bad[%zu] passed", i);
		assert_int_equal(pos, bad[i].pos);
		snprintf(want, sizeof want, "byte %zu of the line (0x%02x)", bad[i].pos,
		    (unsigned char)bad[i].line[bad[i].pos - 1]);
		if (strstr(msg, want) == NULL)
			fail_msg("bad[%zu]: \"%s\" does not say \"%s\"", i, msg, want);
	}
	assert_int_equal(qproto_check_line("STATS\t* - - W KTZE", 18, &pos, msg, sizeof msg), 0);
	assert_int_equal(qproto_check_line("", 0, NULL, NULL, 0), 0);
	/* only len bytes are looked at; NULL pos and msg are allowed */
	assert_int_equal(qproto_check_line("PING\0", 4, NULL, NULL, 0), 0);
	assert_int_equal(qproto_check_line("PING\0", 5, NULL, NULL, 0), -1);
	/* a short msg buffer is cut, never overrun */
	assert_int_equal(qproto_check_line("\x01", 1, NULL, msg, 8), -1);
	assert_int_equal(strlen(msg), 7);
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
		cmocka_unit_test(test_check_line),
		cmocka_unit_test(test_arg_given),
	};

	return UNIT_RUN(tests);
}
