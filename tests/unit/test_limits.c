/*
 * The limits table (lib/limit_table.c): every entry is coherent, and
 * limits_set() takes only whole numbers inside min..max.
 */
#include "unit.h"

#include <stdio.h>

#include "limit_table.h"

static void
test_table_coherent(void **state)
{
	struct limits l;

	(void)state;
	/* one entry per field of struct limits, each field once */
	assert_int_equal(limit_defs_count, sizeof(struct limits) / sizeof(int64_t));
	limits_set_defaults(&l);
	for (size_t i = 0; i < limit_defs_count; i++) {
		const struct limit_def *d = &limit_defs[i];

		assert_non_null(d->name);
		assert_non_null(d->help);
		assert_true(d->help[0] != '\0');
		if (!(d->min <= d->def && d->def <= d->max))
			fail_msg("%s: default %lld outside %lld..%lld", d->name,
			    (long long)d->def, (long long)d->min, (long long)d->max);
		assert_true(d->offset % sizeof(int64_t) == 0);
		assert_true(d->offset < sizeof(struct limits));
		assert_ptr_equal(limits_find(d->name), d);
		assert_int_equal(limits_get(&l, d), d->def);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(limit_defs[j].name, d->name);
			assert_int_not_equal(limit_defs[j].offset, d->offset);
		}
	}
}

static void
test_documented_defaults(void **state)
{
	struct limits l;

	(void)state;
	/* the values docs/wire-protocol.md and docs/query-protocol.md promise */
	limits_set_defaults(&l);
	assert_int_equal(l.max_frame_bytes, 1048576);
	assert_int_equal(l.max_batch_updates, 1000);
	assert_int_equal(l.max_inflight_updates, 10000);
	assert_int_equal(l.max_string_bytes, 64);
	assert_int_equal(l.max_remark_bytes, 512);
	assert_int_equal(l.handshake_timeout_s, 10);
	assert_int_equal(l.max_future_skew_s, 900);
	assert_int_equal(l.seq_window, 65536);
	assert_int_equal(l.max_query_line_bytes, 1024);
}

static void
test_set_bounds(void **state)
{
	struct limits l;
	char err[160], v[32];

	(void)state;
	for (size_t i = 0; i < limit_defs_count; i++) {
		const struct limit_def *d = &limit_defs[i];

		limits_set_defaults(&l);
		snprintf(v, sizeof v, "%lld", (long long)d->min);
		assert_int_equal(limits_set(&l, d->name, v, err, sizeof err), 0);
		assert_int_equal(limits_get(&l, d), d->min);
		snprintf(v, sizeof v, "%lld", (long long)d->max);
		assert_int_equal(limits_set(&l, d->name, v, err, sizeof err), 0);
		assert_int_equal(limits_get(&l, d), d->max);
		snprintf(v, sizeof v, "%lld", (long long)d->min - 1);
		assert_int_equal(limits_set(&l, d->name, v, err, sizeof err), -1);
		assert_non_null(strstr(err, d->name));
		assert_non_null(strstr(err, "outside"));
		snprintf(v, sizeof v, "%lld", (long long)d->max + 1);
		assert_int_equal(limits_set(&l, d->name, v, err, sizeof err), -1);
		assert_int_equal(limits_get(&l, d), d->max);	/* unchanged by a refusal */
	}
}

static void
test_set_junk(void **state)
{
	static const char *const junk[] = {
		"", "abc", "12abc", "1.5", "1e3", "0x10", "99999999999999999999",
		"-99999999999999999999", "10 ", "+",
	};
	struct limits l;
	char err[160];

	(void)state;
	limits_set_defaults(&l);
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		if (limits_set(&l, "max_batch_updates", junk[i], err, sizeof err) != -1)
			fail_msg("\"%s\" was accepted", junk[i]);
		assert_non_null(strstr(err, "max_batch_updates"));
	}
	assert_int_equal(l.max_batch_updates, 1000);
	assert_int_equal(limits_set(&l, "no_such_limit", "1", err, sizeof err), -1);
	assert_non_null(strstr(err, "no_such_limit"));
	assert_null(limits_find("no_such_limit"));
	assert_null(limits_find(""));
	assert_int_equal(limits_set(&l, "max_batch_updates", "+7", err, sizeof err), 0);
	assert_int_equal(l.max_batch_updates, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_coherent),
		cmocka_unit_test(test_documented_defaults),
		cmocka_unit_test(test_set_bounds),
		cmocka_unit_test(test_set_junk),
	};

	return UNIT_RUN(tests);
}
