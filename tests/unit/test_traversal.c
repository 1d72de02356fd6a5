/*
 * Traversal pairing (lib/traversal.c): which events enter and leave a leg,
 * and how a unit's events, sorted by time, pair into traversals.
 */
#include "unit.h"

#include <stdlib.h>

#include "corridor.pb-c.h"
#include "traversal.h"

#define H(x) ((int64_t)(x) * 3600 * 1000)

static struct trav_event
ev(int64_t t, enum event_role role, const char *carrier, uint32_t teu, uint32_t kg)
{
	static int64_t next_id;
	struct trav_event e = { .time_ms = t, .id = ++next_id, .role = role,
		.carrier = carrier, .teu = teu, .containers = teu ? 1 : 0, .gross_kg = kg };

	return e;
}

/* Sorted by time, then id: what the store does before pairing. */
static int
by_time(const void *a, const void *b)
{
	const struct trav_event *x = a, *y = b;

	if (x->time_ms != y->time_ms)
		return x->time_ms < y->time_ms ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static void
test_roles_movement(void **state)
{
	const int act = CORRIDOR__CLASSIFIER__ACT;

	(void)state;
	assert_int_equal(leg_event_role(LEG_MOVEMENT, act, CORRIDOR__EVENT_CODE__DEPA), ROLE_ENTER);
	assert_int_equal(leg_event_role(LEG_MOVEMENT, act, CORRIDOR__EVENT_CODE__GTOT), ROLE_ENTER);
	assert_int_equal(leg_event_role(LEG_MOVEMENT, act, CORRIDOR__EVENT_CODE__LOAD), ROLE_ENTER);
	assert_int_equal(leg_event_role(LEG_MOVEMENT, act, CORRIDOR__EVENT_CODE__ARRI), ROLE_EXIT);
	assert_int_equal(leg_event_role(LEG_MOVEMENT, act, CORRIDOR__EVENT_CODE__GTIN), ROLE_EXIT);
	assert_int_equal(leg_event_role(LEG_MOVEMENT, act, CORRIDOR__EVENT_CODE__DISC), ROLE_EXIT);
	for (int c = CORRIDOR__EVENT_CODE__STUF; c <= CORRIDOR__EVENT_CODE__RELS; c++)
		assert_int_equal(leg_event_role(LEG_MOVEMENT, act, c), ROLE_NONE);
}

static void
test_roles_stay(void **state)
{
	const int act = CORRIDOR__CLASSIFIER__ACT;

	(void)state;
	for (int k = 0; k < 2; k++) {
		enum leg_kind kind = k == 0 ? LEG_PORT : LEG_BORDER;

		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__ARRI), ROLE_ENTER);
		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__DISC), ROLE_ENTER);
		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__GTIN), ROLE_ENTER);
		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__DEPA), ROLE_EXIT);
		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__LOAD), ROLE_EXIT);
		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__GTOT), ROLE_EXIT);
		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__HOLD), ROLE_NONE);
		assert_int_equal(leg_event_role(kind, act, CORRIDOR__EVENT_CODE__INSP), ROLE_NONE);
	}
}

static void
test_roles_plan_estimate(void **state)
{
	(void)state;
	for (int code = CORRIDOR__EVENT_CODE__ARRI; code <= CORRIDOR__EVENT_CODE__RELS; code++) {
		assert_int_equal(leg_event_role(LEG_MOVEMENT, CORRIDOR__CLASSIFIER__PLN, code),
		    ROLE_NONE);
		assert_int_equal(leg_event_role(LEG_MOVEMENT, CORRIDOR__CLASSIFIER__EST, code),
		    ROLE_NONE);
		assert_int_equal(leg_event_role(LEG_PORT, CORRIDOR__CLASSIFIER__PLN, code),
		    ROLE_NONE);
		assert_int_equal(leg_event_role(LEG_BORDER, CORRIDOR__CLASSIFIER__EST, code),
		    ROLE_NONE);
	}
	assert_int_equal(leg_event_role(LEG_MOVEMENT, 0, CORRIDOR__EVENT_CODE__DEPA), ROLE_NONE);
}

static void
test_pair_in_order(void **state)
{
	struct trav_event e[] = {
		ev(H(0), ROLE_ENTER, "KTZE", 2, 24000), ev(H(100), ROLE_EXIT, "KTZE", 0, 0),
		ev(H(200), ROLE_ENTER, "KTZE", 1, 8000), ev(H(230), ROLE_EXIT, "ADYC", 0, 0),
	};
	struct traversal t[4];

	(void)state;
	assert_int_equal(traversal_pair(e, 4, t), 2);
	assert_int_equal(t[0].enter_ms, H(0));
	assert_int_equal(t[0].exit_ms, H(100));
	assert_string_equal(t[0].carrier, "KTZE");
	assert_int_equal(t[0].teu, 2);
	assert_int_equal(t[0].containers, 1);
	assert_int_equal(t[0].gross_kg, 24000);
	assert_int_equal(t[1].enter_ms, H(200));
	assert_int_equal(t[1].exit_ms, H(230));
	assert_string_equal(t[1].carrier, "KTZE");	/* the entry's carrier */
	assert_int_equal(t[1].teu, 1);
}

static void
test_pair_out_of_order(void **state)
{
	/* the exit was recorded first (a ferry without signal) */
	struct trav_event e[] = {
		ev(H(30), ROLE_EXIT, "ASCO", 0, 0), ev(H(5), ROLE_ENTER, "ASCO", 2, 0),
	};
	struct traversal t[2];

	(void)state;
	/* unsorted, the exit comes with nothing open and is ignored */
	assert_int_equal(traversal_pair(e, 2, t), 1);
	assert_int_equal(t[0].exit_ms, -1);
	qsort(e, 2, sizeof e[0], by_time);
	assert_int_equal(traversal_pair(e, 2, t), 1);
	assert_int_equal(t[0].enter_ms, H(5));
	assert_int_equal(t[0].exit_ms, H(30));
}

static void
test_pair_ties_by_id(void **state)
{
	/* enter and exit at the same instant: arrival order decides */
	struct trav_event e[2];
	struct traversal t[2];

	(void)state;
	e[0] = ev(H(1), ROLE_ENTER, "KTZE", 1, 0);
	e[1] = ev(H(1), ROLE_EXIT, "KTZE", 0, 0);
	qsort(e, 2, sizeof e[0], by_time);
	assert_int_equal(traversal_pair(e, 2, t), 1);
	assert_int_equal(t[0].exit_ms, H(1));
}

static void
test_pair_repeated_enter(void **state)
{
	/* a resent departure while the unit is in the leg does not restart it */
	struct trav_event e[] = {
		ev(H(0), ROLE_ENTER, "KTZE", 1, 0), ev(H(2), ROLE_ENTER, "KMTF", 2, 0),
		ev(H(10), ROLE_EXIT, "KTZE", 0, 0),
	};
	struct traversal t[3];

	(void)state;
	assert_int_equal(traversal_pair(e, 3, t), 1);
	assert_int_equal(t[0].enter_ms, H(0));
	assert_int_equal(t[0].exit_ms, H(10));
	assert_string_equal(t[0].carrier, "KTZE");
	assert_int_equal(t[0].teu, 1);
}

static void
test_pair_orphan_exit(void **state)
{
	struct trav_event e[] = {
		ev(H(0), ROLE_EXIT, "KTZE", 1, 0), ev(H(1), ROLE_ENTER, "KTZE", 1, 0),
		ev(H(2), ROLE_EXIT, "KTZE", 0, 0), ev(H(3), ROLE_EXIT, "KTZE", 0, 0),
	};
	struct traversal t[4];

	(void)state;
	assert_int_equal(traversal_pair(e, 4, t), 1);
	assert_int_equal(t[0].enter_ms, H(1));
	assert_int_equal(t[0].exit_ms, H(2));
}

static void
test_pair_open(void **state)
{
	struct trav_event e[] = {
		ev(H(0), ROLE_ENTER, "KTZE", 1, 0), ev(H(5), ROLE_EXIT, "KTZE", 0, 0),
		ev(H(9), ROLE_ENTER, "KTZE", 2, 0),
	};
	struct traversal t[3];

	(void)state;
	assert_int_equal(traversal_pair(e, 3, t), 2);
	assert_int_equal(t[0].exit_ms, H(5));
	assert_int_equal(t[1].enter_ms, H(9));
	assert_int_equal(t[1].exit_ms, -1);
	assert_int_equal(t[1].teu, 2);
}

static void
test_pair_ignores_none(void **state)
{
	struct trav_event e[] = {
		ev(H(0), ROLE_NONE, "KTZE", 1, 0), ev(H(1), ROLE_ENTER, "KTZE", 1, 0),
		ev(H(2), ROLE_NONE, "KTZE", 0, 0), ev(H(3), ROLE_EXIT, "KTZE", 0, 0),
	};
	struct traversal t[4];

	(void)state;
	assert_int_equal(traversal_pair(e, 4, t), 1);
	assert_int_equal(t[0].enter_ms, H(1));
	assert_int_equal(t[0].exit_ms, H(3));
	assert_int_equal(traversal_pair(e, 0, t), 0);
}

static void
test_pair_cargo_from_exit(void **state)
{
	/* the entry knew nothing of the cargo; the exit fills the gaps only */
	struct trav_event e[] = {
		ev(H(0), ROLE_ENTER, "KTZE", 0, 0), ev(H(5), ROLE_EXIT, "KTZE", 2, 30000),
		ev(H(6), ROLE_ENTER, "KTZE", 1, 0), ev(H(8), ROLE_EXIT, "KTZE", 2, 9000),
	};
	struct traversal t[4];

	(void)state;
	assert_int_equal(traversal_pair(e, 4, t), 2);
	assert_int_equal(t[0].teu, 2);
	assert_int_equal(t[0].containers, 1);
	assert_int_equal(t[0].gross_kg, 30000);
	assert_int_equal(t[1].teu, 1);		/* the entry's figure stands */
	assert_int_equal(t[1].gross_kg, 9000);	/* the gap is filled */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_movement),
		cmocka_unit_test(test_roles_stay),
		cmocka_unit_test(test_roles_plan_estimate),
		cmocka_unit_test(test_pair_in_order),
		cmocka_unit_test(test_pair_out_of_order),
		cmocka_unit_test(test_pair_ties_by_id),
		cmocka_unit_test(test_pair_repeated_enter),
		cmocka_unit_test(test_pair_orphan_exit),
		cmocka_unit_test(test_pair_open),
		cmocka_unit_test(test_pair_ignores_none),
		cmocka_unit_test(test_pair_cargo_from_exit),
	};

	return UNIT_RUN(tests);
}
