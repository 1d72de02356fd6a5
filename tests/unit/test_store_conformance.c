/*
 * The storage interface's conformance suite: a backend driven through
 * store.h only, so that the next backend runs it unchanged (set
 * CORRIDOR_STORE to its name; the default is the embedded one, sqlite).
 * Append, duplicates and resends, reused sequence numbers, retractions, late
 * and out-of-order updates, retention, the catalog's marks and rejections
 * after a reopen, marks recovery from what the legs store, and errors.
 * The derived rows are checked in test_store_derived.c; the fixture both
 * share is store_fixture.c.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

static void
test_append_duplicate_reused(void **state)
{
	struct store_writer *w = writer();
	struct update_rec *r[2] = {
		rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383"),
		rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(90), "CSQU3054383"),
	};
	struct update_rec *again[3];
	enum rec_result res[3];

	(void)state;
	append_to(w, 0, r, 2, res);
	assert_int_equal(res[0], REC_STORED);
	assert_int_equal(res[1], REC_STORED);
	/* the same content again (as a resend and as a fresh copy): duplicates;
	 * seq 2 with other content: another update under a used seq */
	again[0] = rec_on(0, 1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL, true);
	again[1] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	again[2] = rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(91), "CSQU3054383");
	append_to(w, 0, again, 3, res);
	assert_int_equal(res[0], REC_DUPLICATE);
	assert_int_equal(res[1], REC_DUPLICATE);
	assert_int_equal(res[2], REC_REUSED);
	/* a resend of a seq this leg never stored is not stored here */
	again[0] = rec_on(0, 7, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL, true);
	append_to(w, 0, again, 1, res);
	assert_int_equal(res[0], REC_REUSED);
	store_writer_close(w);
}

static void
test_reopen_keeps_what_was_stored(void **state)
{
	struct store_writer *w = writer();
	struct update_rec *r[1] = { rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383") };
	enum rec_result res[1];

	(void)state;
	append_to(w, 0, r, 1, res);
	assert_int_equal(res[0], REC_STORED);
	store_writer_close(w);
	/* the whole store closed and opened again */
	store_close(st);
	st = store_open(&cfg, &(struct store_error){ 0 });
	assert_non_null(st);
	w = writer();
	r[0] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	append_to(w, 0, r, 1, res);
	assert_int_equal(res[0], REC_DUPLICATE);
	store_writer_close(w);
}

static void
test_late_out_of_order_and_retractions(void **state)
{
	struct store_writer *w = writer();
	struct update_rec *r[3];
	enum rec_result res[3];

	(void)state;
	/* the exit before the entry, across batches, and a late earlier entry */
	r[0] = rec(1, CORRIDOR__EVENT_CODE__ARRI, T0 + H(100), "CSQU3054383");
	append_to(w, 0, r, 1, res);
	assert_int_equal(res[0], REC_STORED);
	r[0] = rec(2, CORRIDOR__EVENT_CODE__DEPA, T0 + H(10), "CSQU3054383");
	r[1] = rec(3, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	append_to(w, 0, r, 2, res);
	assert_int_equal(res[0], REC_STORED);
	assert_int_equal(res[1], REC_STORED);
	/* a retraction of a stored update, one that arrives before its target,
	 * and the target itself in the same batch */
	r[0] = rec_on(0, 4, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", "m3", false);
	r[1] = rec_on(0, 5, CORRIDOR__EVENT_CODE__DEPA, T0, "MSKU1234565", "m6", false);
	r[2] = rec_on(0, 6, CORRIDOR__EVENT_CODE__DEPA, T0 + H(1), "MSKU1234565", NULL, false);
	append_to(w, 0, r, 3, res);
	for (int i = 0; i < 3; i++)
		assert_int_equal(res[i], REC_STORED);
	/* retracting again is a new update, stored as such */
	r[0] = rec_on(0, 7, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", "m3", false);
	append_to(w, 0, r, 1, res);
	assert_int_equal(res[0], REC_STORED);
	store_writer_close(w);
}

static void
test_retention_steps(void **state)
{
	struct store_writer *w = writer();
	struct store_error err;
	char unit[16];
	uint64_t seq = 0;
	size_t units_total = 0, units;
	int64_t events_total = 0, events;
	bool more = true;
	int steps = 0;

	(void)state;
	/* five units through the leg and gone, one still in it */
	for (int u = 0; u < 6; u++) {
		struct update_rec *r[2];
		enum rec_result res[2];
		size_t n = u < 5 ? 2 : 1;

		snprintf(unit, sizeof unit, "TRAIN-%d", u);
		r[0] = rec(++seq, CORRIDOR__EVENT_CODE__DEPA, T0 + H(u), unit);
		r[1] = n == 2 ? rec(++seq, CORRIDOR__EVENT_CODE__ARRI, T0 + H(u + 50), unit) : NULL;
		append_to(w, 0, r, n, res);
	}
	/* two units a step: it resumes where it stopped until the leg is scanned */
	while (more) {
		assert_int_equal(store_writer_retain_step(w, 0, T0 + H(1000), 2, &units, &events,
		    &more, &err), 0);
		assert_true(units <= 2);
		units_total += units;
		events_total += events;
		assert_true(++steps < 10);
	}
	assert_int_equal(units_total, 5);
	assert_int_equal(events_total, 10);
	/* nothing more to drop; the unit still in the leg stays */
	assert_int_equal(store_writer_retain_step(w, 0, T0 + H(1000), 100, &units, &events, &more,
	    &err), 0);
	assert_int_equal(units, 0);
	assert_false(more);
	store_writer_close(w);
}

struct seqs {
	uint64_t v[16];
	size_t n;
};

static void
collect(void *arg, uint64_t seq)
{
	struct seqs *s = arg;

	assert_true(s->n < 16);
	s->v[s->n++] = seq;
}

static void
test_catalog_marks_rejections_recovery(void **state)
{
	struct store_writer *w = writer();
	struct store_catalog *cat;
	struct store_error err;
	struct leg_table legs = { .count = 2 };
	struct carrier_table *ct = calloc(1, sizeof *ct);
	struct store_mark mark = { "KTZE", 5, 2 }, lower = { "KTZE", 3, 0 };
	struct store_rejection rej[2] = {
		{ "KTZE", 9, 3, "container CSQU3054384: check digit should be 3" },
		{ "KTZE", 9, 3, "container CSQU3054384: check digit should be 3" },
	};
	struct update_rec *r[3];
	enum rec_result res[3];
	struct seqs got = { 0 };
	uint64_t saved = 99;

	(void)state;
	assert_non_null(ct);
	legs.legs[0] = movement;
	legs.legs[1] = port;
	r[0] = rec(6, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	r[1] = rec(8, CORRIDOR__EVENT_CODE__ARRI, T0 + H(5), "CSQU3054383");
	append_to(w, 0, r, 2, res);
	r[0] = rec_on(1, 7, CORRIDOR__EVENT_CODE__ARRI, T0 + H(6), "CSQU3054383", NULL, false);
	append_to(w, 1, r, 1, res);
	store_writer_close(w);

	assert_non_null(cat = store_catalog_open(st, &err));
	assert_int_equal(carrier_add(ct, "KTZE", "Kazakhstan Temir Zholy"), 0);
	assert_int_equal(store_catalog_sync(cat, &legs, ct, &err), 0);
	assert_int_equal(ct->items[0].saved_seq, 0);
	assert_int_equal(store_catalog_save_marks(cat, &mark, 1, &err), 0);
	/* a saved mark is never lowered */
	assert_int_equal(store_catalog_save_marks(cat, &lower, 1, &err), 0);
	/* a repeated rejection is kept once */
	assert_int_equal(store_catalog_save_rejections(cat, rej, 2, &err), 0);
	store_catalog_close(cat);

	/* reopened: the mark and the rejections are there */
	store_close(st);
	assert_non_null(st = store_open(&cfg, &err));
	assert_non_null(cat = store_catalog_open(st, &err));
	memset(ct, 0, sizeof *ct);
	assert_int_equal(carrier_add(ct, "KTZE", "Kazakhstan Temir Zholy"), 0);
	assert_int_equal(store_catalog_sync(cat, &legs, ct, &err), 0);
	assert_int_equal(ct->items[0].acked_seq, 5);
	assert_int_equal(ct->items[0].saved_seq, 5);
	assert_int_equal(store_catalog_saved_mark(cat, "KTZE", &saved, &err), 0);
	assert_int_equal(saved, 5);
	assert_int_equal(store_catalog_saved_mark(cat, "ADY", &saved, &err), 0);
	assert_int_equal(saved, 0);
	assert_int_equal(store_catalog_each_rejection(cat, "KTZE", 5, collect, &got, &err), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v[0], 9);
	got.n = 0;
	assert_int_equal(store_catalog_each_rejection(cat, "KTZE", 9, collect, &got, &err), 0);
	assert_int_equal(got.n, 0);
	/* recovery: what each leg stores above the mark, within the window */
	assert_int_equal(store_catalog_each_stored_seq(cat, &movement, "KTZE", 5, 100, collect,
	    &got, &err), 0);
	assert_int_equal(store_catalog_each_stored_seq(cat, &port, "KTZE", 5, 100, collect, &got,
	    &err), 0);
	assert_int_equal(got.n, 3);
	got.n = 0;
	assert_int_equal(store_catalog_each_stored_seq(cat, &movement, "KTZE", 5, 7, collect,
	    &got, &err), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v[0], 6);
	got.n = 0;
	assert_int_equal(store_catalog_each_stored_seq(cat, &movement, "ADY", 0, 100, collect,
	    &got, &err), 0);
	assert_int_equal(got.n, 0);
	store_catalog_close(cat);
	free(ct);
}

static void
test_errors(void **state)
{
	struct store_writer *w = writer();
	struct store_error err;
	struct config other = cfg;
	struct update_rec *r[1] = { rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383") };

	(void)state;
	/* a backend this build does not have */
	snprintf(other.store_backend, sizeof other.store_backend, "nosuchstore");
	assert_null(store_open(&other, &err));
	assert_int_equal(err.kind, STORE_UNSUPPORTED);
	assert_true(strlen(err.message) > 0);
	assert_false(store_backend_known("nosuchstore"));
	assert_true(store_backend_known(store_backend_name(st)));
	assert_true(strlen(store_backend_version(st)) > 0);
	/* a leg index taken twice, a leg this writer does not hold */
	assert_int_equal(store_writer_add_leg(w, 0, &movement, 8, &err), -1);
	assert_int_equal(err.kind, STORE_UNSUPPORTED);
	store_error_clear(&err);
	assert_int_equal(store_writer_append(w, 5, r, 1, &err), -1);
	assert_int_not_equal(err.kind, STORE_OK);
	assert_int_equal(r[0]->result, REC_FAILED);
	free(r[0]);
	store_writer_close(w);
	assert_string_equal(store_error_kind_name(STORE_RETRYABLE), "retryable");
	assert_string_equal(store_error_kind_name(STORE_CORRUPT), "corrupt");
	assert_string_equal(store_error_kind_name(STORE_UNSUPPORTED), "unsupported");
}

static int
staying_unit(void *arg, const struct store_open_traversal *o)
{
	char *got = arg;

	strcat(got, o->unit);
	strcat(got, " ");
	return 0;
}

/* Open traversals without those whose unit has entered an onward leg since
 * (INTRANSIT's inferred closes): in one statement on a backend that can
 * join the legs, question by question on one that cannot; the same rows. */
static void
test_open_staying(void **state)
{
	struct store_writer *w = writer();
	struct leg_table legs = { .count = 2 };
	const size_t port_index = 1;
	struct store_leg_set onward = { &port_index, 1 }, none = { NULL, 0 };
	struct store_reader *rd;
	struct store_error err;
	struct update_rec *r[3];
	enum rec_result res[3];
	char got[256] = "";

	(void)state;
	legs.legs[0] = movement;
	legs.legs[1] = port;
	/* A, B, C enter the movement leg going W and are never seen leaving */
	r[0] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "UNITA");
	r[1] = rec(2, CORRIDOR__EVENT_CODE__DEPA, T0, "UNITB");
	r[2] = rec(3, CORRIDOR__EVENT_CODE__DEPA, T0 + H(20), "UNITC");
	append_to(w, 0, r, 3, res);
	/* A arrives at the port after; C's port entry is older than its entry */
	r[0] = rec_on(1, 4, CORRIDOR__EVENT_CODE__ARRI, T0 + H(10), "UNITA", NULL, false);
	r[1] = rec_on(1, 5, CORRIDOR__EVENT_CODE__ARRI, T0 + H(5), "UNITC", NULL, false);
	append_to(w, 1, r, 2, res);
	assert_int_equal(res[0], REC_STORED);
	assert_int_equal(res[1], REC_STORED);
	assert_non_null(rd = store_reader_open(st, &err));
	assert_int_equal(store_reader_each_open_staying(rd, 0, &legs, &onward, &none, staying_unit,
	    got, &err), 0);
	assert_string_equal(got, "UNITB UNITC ");
	/* going E the port is not onward: all three stay */
	got[0] = '\0';
	assert_int_equal(store_reader_each_open_staying(rd, 0, &legs, &none, &onward, staying_unit,
	    got, &err), 0);
	assert_string_equal(got, "UNITA UNITB UNITC ");
	store_reader_close(rd);
	store_writer_close(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_duplicate_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_what_was_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_out_of_order_and_retractions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retention_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog_marks_rejections_recovery, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_staying, setup, teardown),
	};

	return UNIT_RUN(tests);
}
