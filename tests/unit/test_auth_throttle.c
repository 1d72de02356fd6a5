/*
 * Failed-authentication delays (daemon/core/auth_throttle.c): the first failure
 * waits auth_fail_delay_ms, each recent one from the same address doubles
 * it up to auth_fail_delay_max_ms, failures older than auth_fail_window_s
 * are forgotten, addresses do not share a count, and a full table forgets
 * the least recently failing address rather than growing. Credential checks
 * (issue 11): an address without failures never waits; after a failure the
 * next check waits out the delay from the failure, checks in flight from one
 * address start a delay apart, checks whose peers left do not push the wait
 * out for ever, the per-address and overall caps refuse, an address with
 * checks in flight is never forgotten, and a success wipes nothing.
 */
#include "unit.h"

#include <stdbool.h>
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
test_clean_address_never_waits(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(64);
	int64_t wait = -1;

	(void)state;
	l.auth_checks_per_ip = 100;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(auth_throttle_begin(t, "192.0.2.1", 1000 + i, &l, &wait),
		    AUTH_GATE_OK);
		assert_int_equal(wait, 0);
	}
	assert_int_equal(auth_throttle_inflight(t, "192.0.2.1"), 50);
	/* another address's failures change nothing for it */
	auth_throttle_fail(t, "192.0.2.66", 2000, &l);
	assert_int_equal(auth_throttle_begin(t, "192.0.2.1", 2000, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(wait, 0);
	for (int i = 0; i < 51; i++)
		auth_throttle_end(t, "192.0.2.1");
	assert_int_equal(auth_throttle_inflight(t, "192.0.2.1"), 0);
	assert_int_equal(auth_throttle_inflight(t, NULL), 0);
	auth_throttle_free(t);
}

static void
test_check_waits_after_failure(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(64);
	int64_t now = 1000000, wait = -1;

	(void)state;
	l.auth_checks_per_ip = 8;
	assert_int_equal(auth_throttle_fail(t, "192.0.2.7", now, &l), 100);
	/* the next check waits out the delay counted from the failure */
	assert_int_equal(auth_throttle_begin(t, "192.0.2.7", now + 30, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(wait, 70);
	/* another at the same time starts one delay after that one */
	assert_int_equal(auth_throttle_begin(t, "192.0.2.7", now + 30, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(wait, 170);
	assert_int_equal(auth_throttle_begin(t, "192.0.2.7", now + 30, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(wait, 270);
	/* both fail: the delay doubles for what comes next */
	auth_throttle_end(t, "192.0.2.7");
	auth_throttle_end(t, "192.0.2.7");
	auth_throttle_end(t, "192.0.2.7");
	assert_int_equal(auth_throttle_fail(t, "192.0.2.7", now + 300, &l), 200);
	assert_int_equal(auth_throttle_begin(t, "192.0.2.7", now + 300, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(wait, 200);
	auth_throttle_end(t, "192.0.2.7");
	/* long after the delay (still inside the window) a check goes at once */
	assert_int_equal(auth_throttle_begin(t, "192.0.2.7", now + 5000, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(wait, 0);
	auth_throttle_end(t, "192.0.2.7");
	/* a success wipes nothing: the failures age out of the window only */
	assert_int_equal(auth_throttle_recent(t, "192.0.2.7", now + 5000, &l), 2);
	assert_int_equal(auth_throttle_fail(t, "192.0.2.7", now + 5000, &l), 400);
	/* past the window the address is clean again */
	assert_int_equal(auth_throttle_begin(t, "192.0.2.7", now + 5000 + 61000, &l, &wait),
	    AUTH_GATE_OK);
	assert_int_equal(wait, 0);
	auth_throttle_end(t, "192.0.2.7");
	auth_throttle_free(t);
}

static void
test_abandoned_checks_do_not_push_the_wait_out(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(64);
	int64_t now = 1000000, wait = -1;

	(void)state;
	for (int i = 0; i < 5; i++)
		auth_throttle_fail(t, "198.51.100.9", now, &l);
	/* connect, close at once, 1000 times: each check is given up while waiting */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(auth_throttle_begin(t, "198.51.100.9", now + i, &l, &wait),
		    AUTH_GATE_OK);
		assert_true(wait <= l.auth_fail_delay_max_ms);
		auth_throttle_end(t, "198.51.100.9");
	}
	/* a check now waits one delay from the last failure, not 1000 delays */
	assert_int_equal(auth_throttle_begin(t, "198.51.100.9", now + 1000, &l, &wait),
	    AUTH_GATE_OK);
	assert_int_equal(wait, 0);
	/* with checks in flight the wait is bounded by one delay per check */
	for (int i = 1; i < 4; i++) {
		assert_int_equal(auth_throttle_begin(t, "198.51.100.9", now + 1000, &l, &wait),
		    AUTH_GATE_OK);
		assert_true(wait <= (int64_t)i * l.auth_fail_delay_max_ms);
		assert_true(wait >= l.auth_fail_delay_max_ms);
	}
	auth_throttle_free(t);
}

static void
test_caps(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(64);
	int64_t wait;

	(void)state;
	l.auth_checks_per_ip = 2;
	l.auth_checks_max = 3;
	assert_int_equal(auth_throttle_begin(t, "10.0.0.1", 1, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(auth_throttle_begin(t, "10.0.0.1", 1, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(auth_throttle_begin(t, "10.0.0.1", 1, &l, &wait), AUTH_GATE_PER_IP);
	assert_int_equal(auth_throttle_inflight(t, "10.0.0.1"), 2);
	/* another address has its own share of the overall cap */
	assert_int_equal(auth_throttle_begin(t, "10.0.0.2", 1, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(auth_throttle_begin(t, "10.0.0.3", 1, &l, &wait), AUTH_GATE_TOTAL);
	assert_int_equal(auth_throttle_inflight(t, NULL), 3);
	/* a refused attempt holds nothing; an ended check frees its place */
	auth_throttle_end(t, "10.0.0.1");
	assert_int_equal(auth_throttle_begin(t, "10.0.0.3", 1, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(auth_throttle_begin(t, "10.0.0.1", 1, &l, &wait), AUTH_GATE_TOTAL);
	auth_throttle_end(t, "10.0.0.2");
	assert_int_equal(auth_throttle_begin(t, "10.0.0.1", 1, &l, &wait), AUTH_GATE_OK);
	assert_int_equal(auth_throttle_inflight(t, "10.0.0.1"), 2);
	auth_throttle_free(t);
}

static void
test_address_in_flight_is_kept(void **state)
{
	struct limits l = limits_for_test();
	struct auth_throttle *t = auth_throttle_new(16);
	char addr[32];
	int64_t wait;

	(void)state;
	l.auth_checks_max = 1000;
	assert_int_equal(auth_throttle_fail(t, "10.9.9.9", 1000, &l), 100);
	assert_int_equal(auth_throttle_begin(t, "10.9.9.9", 1000, &l, &wait), AUTH_GATE_OK);
	/* many failing addresses later, a table of 16 still holds the one in flight */
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "10.2.%d.%d", i / 256, i % 256);
		auth_throttle_fail(t, addr, 2000 + i, &l);
	}
	assert_int_equal(auth_throttle_inflight(t, "10.9.9.9"), 1);
	assert_int_equal(auth_throttle_recent(t, "10.9.9.9", 3000, &l), 1);
	auth_throttle_end(t, "10.9.9.9");
	assert_int_equal(auth_throttle_inflight(t, NULL), 0);
	/* a table whose probed slots are all in flight refuses rather than forget
	 * one: at least PROBE (8) fit before the first refusal, never more than 16 */
	{
		bool held[40];
		unsigned ok = 0;

		for (int i = 0; i < 40; i++) {
			snprintf(addr, sizeof addr, "10.3.0.%d", i);
			held[i] = auth_throttle_begin(t, addr, 5000, &l, &wait) == AUTH_GATE_OK;
			if (!held[i])
				assert_true(ok >= 8);
			ok += held[i];
		}
		assert_true(ok >= 8 && ok <= 16);
		assert_int_equal(auth_throttle_inflight(t, NULL), ok);
		for (int i = 0; i < 40; i++) {
			snprintf(addr, sizeof addr, "10.3.0.%d", i);
			assert_int_equal(auth_throttle_inflight(t, addr), held[i] ? 1 : 0);
		}
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
		cmocka_unit_test(test_clean_address_never_waits),
		cmocka_unit_test(test_check_waits_after_failure),
		cmocka_unit_test(test_abandoned_checks_do_not_push_the_wait_out),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_address_in_flight_is_kept),
		cmocka_unit_test(test_peer_address),
	};

	return UNIT_RUN(tests);
}
