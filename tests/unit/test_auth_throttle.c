/*
 * Failed-authentication delays (daemon/auth_throttle.c): the first failure
 * waits auth_fail_delay_ms, each recent one from the same address doubles
 * it up to auth_fail_delay_max_ms, failures older than auth_fail_window_s
 * are forgotten, addresses do not share a count, and a full table forgets
 * the least recently failing address rather than growing.
 */
#include "unit.h"

#include <stdio.h>

#include "auth_throttle.h"

static struct limits
limits_for_test(void)
{
	struct limits l;

	limits_set_defaults(&l);
	l.auth_fail_delay_ms = 100;
	l.auth_fail_delay_max_ms = 1000;
	l.auth_fail_window_s = 60;
	return l;
}

static void
test_doubling_and_cap(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(64);
	const int64_t want[] = { 100, 200, 400, 800, 1000, 1000, 1000 };
	int64_t now = 1000000;

	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(auth_throttle_fail(t, "192.0.2.7", now += 10, &l), want[i]);
	assert_int_equal(auth_throttle_recent(t, "192.0.2.7", now, &l), 7);
	/* another address starts from the beginning */
	assert_int_equal(auth_throttle_fail(t, "192.0.2.8", now, &l), 100);
	/* thousands of failures never overflow the delay */
	for (int i = 0; i < 5000; i++)
		assert_int_equal(auth_throttle_fail(t, "192.0.2.9", now, &l), i == 0 ? 100 :
		    i == 1 ? 200 : i == 2 ? 400 : i == 3 ? 800 : 1000);
	auth_throttle_free(t);
}

static void
test_window_forgets(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(64);
	int64_t now = 5000000;

	(void)state;
	assert_int_equal(auth_throttle_fail(t, "2001:db8::1", now, &l), 100);
	assert_int_equal(auth_throttle_fail(t, "2001:db8::1", now + 1000, &l), 200);
	/* within the window of the last failure: still counted */
	assert_int_equal(auth_throttle_recent(t, "2001:db8::1", now + 60000, &l), 2);
	/* past it: forgotten, and the next failure is a first one again */
	assert_int_equal(auth_throttle_recent(t, "2001:db8::1", now + 62000, &l), 0);
	assert_int_equal(auth_throttle_fail(t, "2001:db8::1", now + 62000, &l), 100);
	auth_throttle_free(t);
}

static void
test_zero_delay(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(16);

	(void)state;
	l.auth_fail_delay_ms = 0;
	assert_int_equal(auth_throttle_fail(t, "10.0.0.1", 1, &l), 0);
	assert_int_equal(auth_throttle_fail(t, "10.0.0.1", 2, &l), 0);
	auth_throttle_free(t);
}

static void
test_full_table(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(16);
	char addr[32];
	int64_t now = 1000000;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
		auth_throttle_fail(t, addr, now + i, &l);
		auth_throttle_fail(t, addr, now + i, &l);
		/* the address that just failed is always remembered */
		assert_int_equal(auth_throttle_recent(t, addr, now + i, &l), 2);
	}
	auth_throttle_free(t);
}

static void
test_peer_address(void **state)
{
	char a[48];

	(void)state;
	auth_peer_address("127.0.0.1:40212", a, sizeof a);
	assert_string_equal(a, "127.0.0.1");
	auth_peer_address("::1:40212", a, sizeof a);
	assert_string_equal(a, "::1");
	auth_peer_address("?", a, sizeof a);
	assert_string_equal(a, "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling_and_cap),
		cmocka_unit_test(test_window_forgets),
		cmocka_unit_test(test_zero_delay),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_peer_address),
	};

	return UNIT_RUN(tests);
}
