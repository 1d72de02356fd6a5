/*
 * A carrier's acknowledged mark and its done-window (daemon/core/carrier.h):
 * the mark moves over every contiguous seq that is done, and a mark raised
 * to what a shared store acknowledges (carrier_mark_raise) keeps what was
 * done above it and forgets what was below.
 */
#include "unit.h"

#include <stdlib.h>

#include "carrier.h"

#define WINDOW 16

static struct carrier *
fresh(void)
{
	struct carrier *c = calloc(1, sizeof *c);

	assert_non_null(c);
	assert_int_equal(carrier_init_window(c, WINDOW), 0);
	return c;
}

static void
release(struct carrier *c)
{
	free(c->done);
	free(c->queued);
	free(c);
}

static void
test_done_moves_the_mark(void **state)
{
	struct carrier *c = fresh();

	(void)state;
	assert_false(carrier_mark_done(c, 2));
	assert_true(carrier_seq_used(c, 2));
	assert_int_equal(c->acked_seq, 0);
	assert_true(carrier_mark_done(c, 1));
	assert_int_equal(c->acked_seq, 2);
	/* above the window: refused, not recorded */
	assert_false(carrier_seq_in_window(c, 2 + WINDOW + 1));
	assert_false(carrier_mark_done(c, 2 + WINDOW + 1));
	assert_int_equal(c->acked_seq, 2);
	release(c);
}

static void
test_raise_within_the_window(void **state)
{
	struct carrier *c = fresh();

	(void)state;
	assert_false(carrier_mark_done(c, 3));
	assert_false(carrier_mark_done(c, 8));
	assert_false(carrier_mark_done(c, 9));
	carrier_seq_queued(c, 5, true);
	/* another daemon acknowledged up to 7: 8 and 9 done here follow */
	assert_true(carrier_mark_raise(c, 7));
	assert_int_equal(c->acked_seq, 9);
	/* the bits below the new mark are clear: their slots serve 17.. now */
	for (uint64_t s = 10; s <= 9 + WINDOW; s++)
		assert_false(carrier_seq_used(c, s));
	assert_false(carrier_mark_raise(c, 4));		/* never lowered */
	assert_int_equal(c->acked_seq, 9);
	release(c);
}

static void
test_raise_beyond_the_window(void **state)
{
	struct carrier *c = fresh();

	(void)state;
	assert_false(carrier_mark_done(c, 2));
	assert_false(carrier_mark_done(c, 5));
	assert_true(carrier_mark_raise(c, 1000));
	assert_int_equal(c->acked_seq, 1000);
	for (uint64_t s = 1001; s <= 1000 + WINDOW; s++)
		assert_false(carrier_seq_used(c, s));
	assert_true(carrier_seq_used(c, 999));
	assert_true(carrier_mark_done(c, 1001));
	assert_int_equal(c->acked_seq, 1001);
	release(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_done_moves_the_mark),
		cmocka_unit_test(test_raise_within_the_window),
		cmocka_unit_test(test_raise_beyond_the_window),
	};

	return UNIT_RUN(tests);
}
