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
test_pair_reentry_in_the_same_millisecond(void **state)
{
	/* in, out and in again at one instant, then out later: one traversal
	 * (two would share the entry time by which the store keys them, and
	 * the rollups would count one unit twice) */
	struct trav_event e[] = {
		ev(H(1), ROLE_ENTER, "KTZE", 1, 0), ev(H(1), ROLE_EXIT, "KTZE", 0, 0),
		ev(H(1), ROLE_ENTER, "KTZE", 1, 0), ev(H(5), ROLE_EXIT, "KTZE", 0, 0),
		ev(H(7), ROLE_ENTER, "KTZE", 1, 0), ev(H(7), ROLE_EXIT, "KTZE", 0, 0),
	};
	struct traversal t[6];

	(void)state;
	assert_int_equal(traversal_pair(e, 6, t), 2);
	assert_int_equal(t[0].enter_ms, H(1));
	assert_int_equal(t[0].exit_ms, H(5));
	/* a traversal of zero length on its own stays one */
	assert_int_equal(t[1].enter_ms, H(7));
	assert_int_equal(t[1].exit_ms, H(7));
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

/* What traversal_diff() emitted, for checking. */
struct emitted {
	struct traversal t[8];
	bool gone[8];
	size_t n;
};

static int
record(void *arg, const struct traversal *before, const struct traversal *after)
{
	struct emitted *e = arg;

	assert_true(e->n < 8);
	assert_true(before != NULL || after != NULL);
	if (before != NULL && after != NULL)
		assert_int_equal(before->enter_ms, after->enter_ms);
	e->t[e->n] = after != NULL ? *after : *before;
	e->gone[e->n++] = after == NULL;
	return 0;
}

static struct traversal
tr(int64_t enter, int64_t exit, const char *carrier)
{
	struct traversal t = { .enter_ms = enter, .exit_ms = exit, .carrier = carrier,
		.plan_ms = -1, .teu = 1, .containers = 1, .gross_kg = 10 };

	return t;
}

static struct trav_event
plan_ev(int64_t t, int classifier, bool exit_kind)
{
	struct trav_event e = ev(t, ROLE_NONE, "KTZE", 0, 0);

	e.classifier = classifier;
	e.exit_kind = exit_kind;
	return e;
}

static void
test_plans_and_estimates_attach_to_their_traversal(void **state)
{
	const int pln = CORRIDOR__CLASSIFIER__PLN, est = CORRIDOR__CLASSIFIER__EST;
	struct trav_event e[] = {
		plan_ev(H(20), pln, true),	/* first plan, superseded below */
		ev(H(0), ROLE_ENTER, "KTZE", 1, 0),
		plan_ev(H(30), pln, false),	/* a planned entry: not an exit plan */
		plan_ev(H(24), pln, true),	/* received later: this one stands */
		plan_ev(H(22), est, true),	/* error 3 h */
		plan_ev(H(26), est, true),	/* error 1 h */
		ev(H(25), ROLE_EXIT, "KTZE", 1, 0),
		ev(H(40), ROLE_ENTER, "KTZE", 1, 0),
		plan_ev(H(50), pln, true),	/* belongs to the second traversal */
		plan_ev(H(55), est, true),	/* error 5 h */
		ev(H(60), ROLE_EXIT, "KTZE", 1, 0),
		ev(H(70), ROLE_ENTER, "KTZE", 1, 0),
	};
	struct traversal t[12];
	size_t n = sizeof e / sizeof e[0];

	(void)state;
	for (size_t i = 0; i < n; i++)
		if (e[i].role != ROLE_NONE)
			e[i].classifier = CORRIDOR__CLASSIFIER__ACT;
	qsort(e, n, sizeof e[0], by_time);
	assert_int_equal(traversal_pair(e, n, t), 3);
	assert_int_equal(t[0].plan_ms, H(24));
	assert_int_equal(t[0].eta_n, 2);
	assert_int_equal(t[0].eta_err_ms, H(4));
	assert_int_equal(t[1].plan_ms, H(50));
	assert_int_equal(t[1].eta_n, 1);
	assert_int_equal(t[1].eta_err_ms, H(5));
	/* still open: no plan judged yet */
	assert_int_equal(t[2].plan_ms, -1);
	assert_int_equal(t[2].eta_n, 0);
}

static void
test_diff_new_open(void **state)
{
	struct traversal after[] = { tr(H(1), -1, "KTZE") };
	struct emitted e = { .n = 0 };

	(void)state;
	assert_int_equal(traversal_diff(NULL, 0, after, 1, record, &e), 0);
	assert_int_equal(e.n, 1);
	assert_false(e.gone[0]);
	assert_int_equal(e.t[0].enter_ms, H(1));
}

static void
test_diff_close_and_unchanged(void **state)
{
	struct traversal before[] = { tr(H(1), H(2), "KTZE"), tr(H(5), -1, "KTZE") };
	struct traversal after[] = { tr(H(1), H(2), "KTZE"), tr(H(5), H(9), "KTZE") };
	struct emitted e = { .n = 0 };

	(void)state;
	traversal_diff(before, 2, after, 2, record, &e);
	/* only the traversal that changed is written */
	assert_int_equal(e.n, 1);
	assert_false(e.gone[0]);
	assert_int_equal(e.t[0].exit_ms, H(9));
}

static void
test_diff_late_event_moves_entry(void **state)
{
	/* a late, earlier entry replaces the traversal that started later */
	struct traversal before[] = { tr(H(5), H(9), "KTZE") };
	struct traversal after[] = { tr(H(3), H(9), "KTZE") };
	struct emitted e = { .n = 0 };

	(void)state;
	traversal_diff(before, 1, after, 1, record, &e);
	assert_int_equal(e.n, 2);
	assert_false(e.gone[0]);
	assert_int_equal(e.t[0].enter_ms, H(3));
	assert_true(e.gone[1]);
	assert_int_equal(e.t[1].enter_ms, H(5));
}

static void
test_diff_cargo_and_carrier_changes(void **state)
{
	struct traversal before[] = { tr(H(1), H(2), "KTZE"), tr(H(3), H(4), "KTZE") };
	struct traversal after[] = { tr(H(1), H(2), "ADYC"), tr(H(3), H(4), "KTZE") };
	struct emitted e = { .n = 0 };

	(void)state;
	after[1].gross_kg = 11;
	traversal_diff(before, 2, after, 2, record, &e);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.t[0].carrier, "ADYC");
	assert_int_equal(e.t[1].gross_kg, 11);
}

static void
test_diff_all_gone(void **state)
{
	struct traversal before[] = { tr(H(1), H(2), "KTZE"), tr(H(3), -1, "KTZE") };
	struct emitted e = { .n = 0 };

	(void)state;
	traversal_diff(before, 2, NULL, 0, record, &e);
	assert_int_equal(e.n, 2);
	assert_true(e.gone[0] && e.gone[1]);
}

static int
stop_at_first(void *arg, const struct traversal *before, const struct traversal *after)
{
	(void)before;
	(void)after;
	++*(int *)arg;
	return 7;
}

static void
test_diff_stops_on_error(void **state)
{
	struct traversal after[] = { tr(H(1), -1, "KTZE"), tr(H(3), -1, "KTZE") };
	int calls = 0;

	(void)state;
	assert_int_equal(traversal_diff(NULL, 0, after, 2, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);
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
		cmocka_unit_test(test_pair_reentry_in_the_same_millisecond),
		cmocka_unit_test(test_pair_orphan_exit),
		cmocka_unit_test(test_pair_open),
		cmocka_unit_test(test_pair_ignores_none),
		cmocka_unit_test(test_pair_cargo_from_exit),
		cmocka_unit_test(test_diff_new_open),
		cmocka_unit_test(test_diff_close_and_unchanged),
		cmocka_unit_test(test_diff_late_event_moves_entry),
		cmocka_unit_test(test_diff_cargo_and_carrier_changes),
		cmocka_unit_test(test_diff_all_gone),
		cmocka_unit_test(test_plans_and_estimates_attach_to_their_traversal),
		cmocka_unit_test(test_diff_stops_on_error),
	};

	return UNIT_RUN(tests);
}
