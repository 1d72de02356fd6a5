/*
 * The query command table (daemon/query/query_exec.c): every entry names the
 * right it needs, so that a new command cannot default to one by omission,
 * and query_right_needed (daemon/query/query_auth.c) answers from the table.
 */
#include "unit.h"

#include <string.h>

#include "query_auth.h"
#include "query_exec.h"

/* Every entry has a known right (an entry that omits it is UNSET). */
static void
test_every_command_has_a_right(void **state)
{
	enum command_right r;
	const char *name;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; (name = query_command_at(i, &r)) != NULL; i++, n++) {
		if (r != COMMAND_PUBLIC && r != COMMAND_READ && r != COMMAND_ADMIN)
			fail_msg("command %s has no right or an unknown one (%d)", name, (int)r);
	}
	assert_true(n >= 15);
}

/* The rights the operators' documentation promises. */
static void
test_rights_as_documented(void **state)
{
	static const char *const read_cmds[] = { "LEGS", "STATS", "HISTOGRAM", "ONTIME",
	    "VOLUMES", "JOURNEYS", "HOLDS", "DELAYS", "QUALITY", "INTRANSIT", "SHIPMENT" };
	enum command_right r;

	(void)state;
	assert_int_equal(query_right_needed("PING"), RIGHT_NONE);
	assert_int_equal(query_right_needed("help"), RIGHT_NONE);
	assert_int_equal(query_right_needed("QUIT"), RIGHT_NONE);
	assert_int_equal(query_right_needed("AUTH"), RIGHT_NONE);
	assert_int_equal(query_right_needed("backup"), RIGHT_ADMIN);
	for (size_t i = 0; i < sizeof read_cmds / sizeof read_cmds[0]; i++) {
		assert_int_equal(query_command_right(read_cmds[i], &r), 0);
		assert_int_equal(r, COMMAND_READ);
		assert_int_equal(query_right_needed(read_cmds[i]), RIGHT_READ);
	}
	/* an unknown word is refused before AUTH, not named unknown */
	assert_int_equal(query_command_right("NOSUCH", &r), -1);
	assert_int_equal(query_right_needed("NOSUCH"), RIGHT_READ);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_has_a_right),
		cmocka_unit_test(test_rights_as_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
