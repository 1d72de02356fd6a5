/*
 * What the PostgreSQL store's connection (daemon/store/postgresql/pg_db.c)
 * decides without a server: the store's kind of each SQLSTATE, the backoff
 * between connection attempts, a conninfo libpq cannot parse. The cases
 * against a real server are test_pg_db.c and test_pg_schema.c.
 */
#include "unit.h"

#include <stdio.h>

#include "pg_db.h"

static void
test_sqlstate_kinds(void **state)
{
	static const struct {
		const char *sqlstate;	/* NULL: no result at all */
		enum store_error_kind kind;
	} cases[] = {
		/* what retrying cures: the connection, a concurrent transaction,
		 * the server's state */
		{ NULL, STORE_RETRYABLE }, { "08006", STORE_RETRYABLE },
		{ "40001", STORE_RETRYABLE }, { "40P01", STORE_RETRYABLE },
		{ "57P01", STORE_RETRYABLE }, { "57P03", STORE_RETRYABLE },
		{ "53100", STORE_RETRYABLE }, { "25006", STORE_RETRYABLE },
		/* and what it does not */
		{ "XX001", STORE_CORRUPT }, { "42P01", STORE_CORRUPT }, { "23514", STORE_CORRUPT },
		{ "0A000", STORE_UNSUPPORTED }, { "23505", STORE_CONFLICT },
		{ "23503", STORE_CONFLICT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (pg_db_sqlstate_kind(cases[i].sqlstate) != cases[i].kind)
			fail_msg("SQLSTATE %s: %s, not %s", cases[i].sqlstate != NULL ?
			    cases[i].sqlstate : "(none)",
			    store_error_kind_name(pg_db_sqlstate_kind(cases[i].sqlstate)),
			    store_error_kind_name(cases[i].kind));
}

static void
test_backoff(void **state)
{
	(void)state;
	assert_int_equal(pg_db_backoff_ms(0), 0);
	assert_int_equal(pg_db_backoff_ms(1), PG_DB_BACKOFF_MIN_MS);
	assert_int_equal(pg_db_backoff_ms(2), 2 * PG_DB_BACKOFF_MIN_MS);
	assert_int_equal(pg_db_backoff_ms(3), 4 * PG_DB_BACKOFF_MIN_MS);
	assert_int_equal(pg_db_backoff_ms(100), PG_DB_BACKOFF_MAX_MS);
	assert_int_equal(pg_db_backoff_ms(~0u), PG_DB_BACKOFF_MAX_MS);
}

static void
test_bad_conninfo(void **state)
{
	struct store_error err;

	(void)state;
	assert_null(pg_db_new("host=/tmp nonsense", &err));
	assert_int_equal(err.kind, STORE_UNSUPPORTED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlstate_kinds),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_bad_conninfo),
	};

	return UNIT_RUN(tests);
}
