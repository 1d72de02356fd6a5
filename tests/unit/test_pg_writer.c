/*
 * The PostgreSQL writer where it differs from a SQLite leg file: several
 * writers (daemons) on one leg at once. Each writer has its own connection;
 * the leg's advisory lock serialises their transactions, and the claims of
 * update_seqs make (carrier, seq) corridor-wide whoever stores it. Runs on
 * the store fixture with CORRIDOR_STORE=postgresql (postgresql suite).
 */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_derived.h"
#include "store_fixture.h"

/* What the derived rows of a leg add up to. */
struct sums {
	int64_t traversals, closed, transit_n, transit_sum_ms, volume_units, quality_updates;
	int64_t duplicates, on_time;
};

static void
sum_traversal(void *arg, const char *unit, const char *direction, const struct traversal *t)
{
	struct sums *s = arg;

	(void)unit;
	(void)direction;
	s->traversals++;
	s->closed += t->exit_ms >= 0;
}

static void
sum_rollup(void *arg, const struct rollup_key *k, const struct derive_rollup *v)
{
	struct sums *s = arg;

	switch (k->table) {
	case RT_TRANSIT:
		s->transit_n += v->n;
		s->transit_sum_ms += v->sum_ms;
		s->on_time += v->on_time;
		break;
	case RT_VOLUME:
		s->volume_units += v->n;
		break;
	case RT_QUALITY:
		s->quality_updates += v->n;
		s->duplicates += v->duplicates;
		break;
	}
}

static struct sums
derived_sums(const struct leg *leg)
{
	const struct store_derived_fns fns = { sum_traversal, sum_rollup, NULL };
	struct store_error err;
	struct sums s = { 0 };

	assert_int_equal(store_derived_read(st, leg, &fns, &s, &err), 0);
	return s;
}

static void
test_two_writers_share_a_leg(void **state)
{
	struct store_writer *a = writer(), *b = writer();
	struct update_rec *r[2];
	enum rec_result res[2];
	struct sums s;

	(void)state;
	/* a unit enters through one daemon and leaves through the other */
	r[0] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	append_to(a, 0, r, 1, res);
	assert_int_equal(res[0], REC_STORED);
	r[0] = rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(100), "CSQU3054383");
	/* the first again, fresh (its claim is the other writer's) */
	r[1] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	append_to(b, 0, r, 2, res);
	assert_int_equal(res[0], REC_STORED);
	assert_int_equal(res[1], REC_DUPLICATE);
	/* a seq one writer stores on the port is used for the other's movement leg */
	r[0] = rec_on(1, 3, CORRIDOR__EVENT_CODE__ARRI, T0, "MSKU1234565", NULL, false);
	append_to(b, 1, r, 1, res);
	assert_int_equal(res[0], REC_STORED);
	r[0] = rec(3, CORRIDOR__EVENT_CODE__DEPA, T0 + H(1), "MSKU1234565");
	r[1] = rec(3, CORRIDOR__EVENT_CODE__DEPA, T0 + H(1), "MSKU1234565");
	r[1]->resend = true;
	append_to(a, 0, r, 2, res);
	assert_int_equal(res[0], REC_REUSED);
	assert_int_equal(res[1], REC_REUSED);
	/* one traversal, paired across the two writers */
	s = derived_sums(&movement);
	assert_int_equal(s.traversals, 1);
	assert_int_equal(s.closed, 1);
	assert_int_equal(s.transit_n, 1);
	assert_int_equal(s.transit_sum_ms, H(100));
	assert_int_equal(s.volume_units, 1);
	assert_int_equal(s.quality_updates, 2);
	assert_int_equal(s.duplicates, 1);
	store_writer_close(a);
	store_writer_close(b);
}

/* A leg prepared with another typical time has every traversal and rollup
 * derived again from its events (through cursors over the events), the
 * same but for the on-time counts. */
static void
test_prepare_derives_again(void **state)
{
	struct store_writer *w = writer();
	struct leg slower = movement;
	struct store_error err;
	struct update_rec *r[4];
	enum rec_result res[4];
	struct sums before, after;

	(void)state;
	r[0] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	r[1] = rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(100), "CSQU3054383");
	r[2] = rec(3, CORRIDOR__EVENT_CODE__DEPA, T0 + H(1), "MSKU1234565");
	r[3] = rec(4, CORRIDOR__EVENT_CODE__ARRI, T0 + H(2), "MSKU1234565");
	append_to(w, 0, r, 4, res);
	r[0] = rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(100), "CSQU3054383");
	append_to(w, 0, r, 1, res);
	assert_int_equal(res[0], REC_DUPLICATE);
	store_writer_close(w);
	before = derived_sums(&movement);
	assert_int_equal(before.on_time, 2);	/* 100 h and 1 h against 120 h */
	slower.typical_h = 50;
	assert_int_equal(store_leg_prepare(st, &slower, &err), 0);
	after = derived_sums(&movement);
	assert_int_equal(after.on_time, 1);
	/* a duplicate is no event: derive_again() counts none (as on SQLite) */
	assert_int_equal(before.duplicates, 1);
	assert_int_equal(after.duplicates, 0);
	after.on_time = before.on_time;
	after.duplicates = before.duplicates;
	assert_memory_equal(&before, &after, sizeof before);
	/* and back: on time as before */
	assert_int_equal(store_leg_prepare(st, &movement, &err), 0);
	after = derived_sums(&movement);
	assert_int_equal(after.on_time, 2);
	after.duplicates = before.duplicates;
	assert_memory_equal(&before, &after, sizeof before);
	/* prepared again as it is: nothing derived (the rows stay) */
	assert_int_equal(store_leg_prepare(st, &movement, &err), 0);
	after = derived_sums(&movement);
	assert_int_equal(after.on_time, 2);
}

/* Writers storing the same leg at once, in threads (as daemons would). */
#define CONCURRENT_WRITERS 3
#define CONCURRENT_BATCHES 20
#define CONCURRENT_UNITS 4	/* per batch: each enters and leaves in it */

struct worker {
	int id;
	struct store_writer *w;
	int failures;		/* appends that failed or a result not REC_STORED */
};

static void *
work(void *arg)
{
	struct worker *k = arg;
	struct store_error err;

	for (int b = 0; b < CONCURRENT_BATCHES; b++) {
		struct update_rec *r[2 * CONCURRENT_UNITS];
		size_t n = 0;

		for (int u = 0; u < CONCURRENT_UNITS; u++) {
			char unit[32];
			uint64_t seq = (uint64_t)(k->id * 100000 + b * 100 + u * 2 + 1);

			snprintf(unit, sizeof unit, "W%dB%dU%d", k->id, b, u);
			/* every unit in the same hours: the same rollup rows */
			r[n++] = rec(seq, CORRIDOR__EVENT_CODE__DEPA, T0, unit);
			r[n++] = rec(seq + 1, CORRIDOR__EVENT_CODE__ARRI, T0 + H(50), unit);
		}
		if (store_writer_append(k->w, 0, r, n, &err) != 0)
			k->failures++;
		for (size_t i = 0; i < n; i++) {
			k->failures += r[i]->result != REC_STORED;
			free(r[i]);
		}
	}
	return NULL;
}

static void
test_concurrent_writers_keep_the_rollups_exact(void **state)
{
	struct worker k[CONCURRENT_WRITERS];
	pthread_t t[CONCURRENT_WRITERS];
	const int64_t units = CONCURRENT_WRITERS * CONCURRENT_BATCHES * CONCURRENT_UNITS;
	struct sums s;

	(void)state;
	for (int i = 0; i < CONCURRENT_WRITERS; i++) {
		k[i] = (struct worker){ .id = i + 1, .w = writer() };
		assert_int_equal(pthread_create(&t[i], NULL, work, &k[i]), 0);
	}
	for (int i = 0; i < CONCURRENT_WRITERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(k[i].failures, 0);
		store_writer_close(k[i].w);
	}
	/* every read-modify-write of the shared rows counted once */
	s = derived_sums(&movement);
	assert_int_equal(s.traversals, units);
	assert_int_equal(s.closed, units);
	assert_int_equal(s.transit_n, units);
	assert_int_equal(s.transit_sum_ms, units * H(50));
	assert_int_equal(s.volume_units, units);
	assert_int_equal(s.quality_updates, 2 * units);
}

/* Rows of table as its statistics say (pg_class.reltuples: -1 when it
 * was never analysed). */
static double
reltuples(PGconn *c, const char *table)
{
	const char *p[1] = { table };
	PGresult *res = PQexecParams(c, "SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)",
	    1, NULL, p, NULL, NULL, 0);
	double v;

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	v = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	return v;
}

static void
raw_ok(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
}

/* A young leg is analysed by its writer as it grows (pg_analyze.h), not a
 * minute later by autovacuum (turned off on the partition here, so that
 * only the writer can have taken the statistics). */
static void
test_young_tables_are_analysed(void **state)
{
	PGconn *c = PQconnectdb(cfg.pg_conninfo);
	char events[64];
	struct store_writer *w = writer();
	uint64_t seq = 1;

	(void)state;
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	snprintf(events, sizeof events, "\"events_%s\"", movement.code);
	{
		char sql[128];

		snprintf(sql, sizeof sql, "ALTER TABLE %s SET (autovacuum_enabled = false)", events);
		raw_ok(c, sql);
	}
	assert_true(reltuples(c, events) < 0);
	/* 1,200 events in batches of 200: past the first 1,000 */
	for (int b = 0; b < 6; b++) {
		struct update_rec *r[200];
		enum rec_result res[200];

		for (int u = 0; u < 100; u++) {
			char unit[16];

			snprintf(unit, sizeof unit, "AN%dU%d", b, u);
			r[2 * u] = rec(seq++, CORRIDOR__EVENT_CODE__DEPA, T0, unit);
			r[2 * u + 1] = rec(seq++, CORRIDOR__EVENT_CODE__ARRI, T0 + H(50), unit);
		}
		append_to(w, 0, r, 200, res);
		for (int i = 0; i < 200; i++)
			assert_int_equal(res[i], REC_STORED);
	}
	assert_true(reltuples(c, events) >= 1000);
	store_writer_close(w);
	PQfinish(c);
}

/* COPY's text format: a remark with a tab, newlines and backslashes is
 * stored as sent, and its resend is the same update. */
static void
test_events_are_copied_as_sent(void **state)
{
	static const char remark[] = "tab\there\nnew line\\N back\\slash\rreturn";
	PGconn *c = PQconnectdb(cfg.pg_conninfo);
	struct store_writer *w = writer();
	struct update_rec *r[1];
	enum rec_result res[1];
	PGresult *q;

	(void)state;
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r[0] = rec(7, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	r[0]->remark = remark;
	append_to(w, 0, r, 1, res);
	assert_int_equal(res[0], REC_STORED);
	q = PQexec(c, "SELECT remark, locode IS NULL FROM events WHERE carrier = 'KTZE' AND seq = 7");
	assert_int_equal(PQresultStatus(q), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(q), 1);
	assert_string_equal(PQgetvalue(q, 0, 0), remark);
	assert_string_equal(PQgetvalue(q, 0, 1), "t");
	PQclear(q);
	r[0] = rec(7, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383");
	r[0]->remark = remark;
	r[0]->resend = true;
	append_to(w, 0, r, 1, res);
	assert_int_equal(res[0], REC_DUPLICATE);
	store_writer_close(w);
	PQfinish(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_writers_share_a_leg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_derives_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers_keep_the_rollups_exact,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_young_tables_are_analysed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_are_copied_as_sent, setup, teardown),
	};

	return UNIT_RUN(tests);
}
