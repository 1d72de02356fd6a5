/*
 * Time parsing and formatting (lib/timeutil.c): the forms the query protocol
 * accepts for `from` and `to`, and the ISO 8601 form it prints.
 */
#include "unit.h"

#include "timeutil.h"

#define T_2026_11_27 1795737600000LL	/* 2026-11-27T00:00:00Z */

static int64_t
parsed(const char *s)
{
	int64_t ms = -42;

	if (time_parse_iso(s, &ms) != 0)
		fail_msg("\"%s\" did not parse", s);
	return ms;
}

static void
test_date(void **state)
{
	(void)state;
	assert_int_equal(parsed("1970-01-01"), 0);
	assert_int_equal(parsed("2026-11-27"), T_2026_11_27);
	assert_int_equal(parsed("2000-01-01"), 946684800000LL);
	assert_int_equal(parsed("2024-02-29"), 1709164800000LL);	/* leap day */
	assert_int_equal(parsed("9999-12-31"), 253402214400000LL);
}

static void
test_datetime(void **state)
{
	(void)state;
	assert_int_equal(parsed("2026-11-27T05:04:10Z"), T_2026_11_27 + 18250000);
	assert_int_equal(parsed("2026-11-27T05:04Z"), T_2026_11_27 + 18240000);
	assert_int_equal(parsed("2026-11-27T05:04:10.123Z"), T_2026_11_27 + 18250123);
	assert_int_equal(parsed("2026-11-27T05:04:10.007Z"), T_2026_11_27 + 18250007);
	assert_int_equal(parsed("2026-11-27T23:59:59Z"), T_2026_11_27 + 86399000);
	assert_int_equal(parsed("2026-11-27T00:00:00Z"), T_2026_11_27);
}

static void
test_unix_ms(void **state)
{
	(void)state;
	assert_int_equal(parsed("1795737600000"), T_2026_11_27);
	assert_int_equal(parsed("1000000000"), 1000000000);	/* ten digits: a number */
	assert_int_equal(parsed("-1000000000"), -1000000000);
}

static void
test_rejects(void **state)
{
	static const char *const bad[] = {
		"", "2026", "2026-11", "26-11-27", "2026/11/27", "2026-13-01", "2026-00-10",
		"2026-11-00", "2026-11-32", "1969-12-31", "2026-11-27T", "2026-11-27T05:04",
		"2026-11-27 05:04:10Z", "2026-11-27T24:00Z", "2026-11-27T05:60Z",
		"2026-11-27T05:04:61Z", "2026-11-27T05:04:10+00:00", "2026-11-27T05:04:10.12Z",
		"2026-11-27T05:04:10.1234Z", "2026-11-27T05:04:10.Z", "2026-11-27T05:04:10ZZ",
		"2026-11-27X", "yesterday", "123456789", "12345678901x", "--1000000000",
		/* signs, spaces and short fields that sscanf's %d let through (fuzz_query) */
		"2026-06-01T12:-0Z", "2026-11-27T 5:04Z", "2026-+1-27", "2026-11-27T05:04:+1Z",
		"2026-11-27T05:04:10.+12Z", "2026-11-27T05:04:10.-12Z", " 2026-11-27",
		"+2026-11-27", "2026-11-27T05:04:1Z", "2026-11-27T05:4Z",
	};
	int64_t ms = 7;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (time_parse_iso(bad[i], &ms) != -1)
			fail_msg("\"%s\" parsed as %lld", bad[i], (long long)ms);
}

/* Beyond the 64-bit range or year 9999: refused as out of range, never
 * clamped to INT64_MIN/MAX; the ends of the range themselves parse. */
static void
test_out_of_range(void **state)
{
	static const char *const far[] = {
		"99999999999999999999", "-99999999999999999999", "9223372036854775808",
		"-9223372036854775809", "18446744073709551616", "10000-01-01", "99999-12-31",
		"123456789-01-01T00:00Z", "10000-01-01T00:00:00.000Z",
	};
	int64_t ms = 7;

	(void)state;
	for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
		if (time_parse(far[i], &ms) != TIME_OUT_OF_RANGE)
			fail_msg("\"%s\" is not out of range (ms %lld)", far[i], (long long)ms);
		if (time_parse_iso(far[i], &ms) != -1)
			fail_msg("\"%s\" parsed as %lld", far[i], (long long)ms);
	}
	assert_int_equal(ms, 7);	/* untouched */
	assert_int_equal(parsed("9223372036854775807"), INT64_MAX);
	assert_int_equal(parsed("-9223372036854775808"), INT64_MIN);
	assert_int_equal(time_parse("yesterday", &ms), TIME_MALFORMED);
	assert_int_equal(time_parse("12345-1-01", &ms), TIME_MALFORMED);
	assert_int_equal(time_parse("2026-11-27", &ms), TIME_PARSED);
}

static void
test_impossible_dates(void **state)
{
	int64_t ms = 0;

	(void)state;
	assert_int_equal(time_parse_iso("2026-02-31", &ms), -1);
	assert_int_equal(time_parse_iso("2025-02-29", &ms), -1);
	assert_int_equal(time_parse_iso("2026-04-31", &ms), -1);
}

static void
test_format(void **state)
{
	char buf[32];

	(void)state;
	time_format_iso(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	time_format_iso(T_2026_11_27 + 18250999, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-27T05:04:10Z");	/* milliseconds truncated */
	time_format_iso(-1, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");	/* floor, not toward zero */
	time_format_iso(-1000, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	time_format_iso(-1001, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:58Z");
}

static void
test_roundtrip(void **state)
{
	char buf[32];

	(void)state;
	for (int64_t ms = 946684800000LL; ms < 4102444800000LL; ms += 86400000LL * 97 + 3661000) {
		time_format_iso(ms, buf, sizeof buf);
		assert_int_equal(parsed(buf), ms);
	}
}

static void
test_clocks(void **state)
{
	int64_t a, b;

	(void)state;
	assert_true(time_now_ms() > 1577836800000LL);	/* after 2020 */
	a = time_mono_ms();
	b = time_mono_ms();
	assert_true(b >= a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_unix_ms),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_impossible_dates),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_clocks),
	};

	return UNIT_RUN(tests);
}
