/*
 * The PostgreSQL reader (daemon/store/postgresql/pg_reader.c) against the
 * SQLite reader it ports: updates are written through the SQLite store
 * (store_fixture.c with its default backend), every row of its leg files
 * and catalog is copied into a PostgreSQL database with the leg added, and
 * every reader primitive, asked the same with many filters on both stores,
 * must give the same rows in the same order. Then what only PostgreSQL
 * has: one snapshot per query, the server stopped and started under a
 * reader, a connection lost inside a query, and BACKUP refused.
 * Run by tests/pg/with_postgres.sh (CORRIDOR_PG_CONNINFO).
 */
#include "unit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <event2/buffer.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "carrier.h"
#include "iso6346.h"
#include "query_exec.h"
#include "store_catalog.h"
#include "store_error.h"
#include "store_fixture.h"
#include "store_reader.h"
#include "store_writer.h"

#define PG_DB "corridor_reader"
#define UNITS 6
#define ROUNDS 3
#define RECS_MAX 256
#define SQL_MAX 2048
#define COLS_MAX 48
/* A failing primitive with the server down answers at once: well within. */
#define DOWN_FAIL_MS 3000
/* The reader's backoff tops at 5 s (PG_DB_BACKOFF_MAX_MS): retry this long. */
#define BACK_WAIT_MS 20000
#define POLL_MS 100

static struct config pgcfg;
static struct store *pgst;
static PGconn *raw;
static char units[UNITS][16];
static uint64_t next_seq;

/* ------------------------------------------------------------ helpers */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static PGconn *
pg_connect(const char *db)
{
	char ci[1024];
	PGconn *c;

	snprintf(ci, sizeof ci, "%s%s%s", getenv("CORRIDOR_PG_CONNINFO"), db != NULL ?
	    " dbname=" : "", db != NULL ? db : "");
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connecting to %s: %s", ci, PQerrorMessage(c));
	return c;
}

static void
pg_run(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

static long long
pg_int(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	long long v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/* Runs pg_ctl on the test's server (as its owner when we are root). */
static void
pg_ctl(const char *action)
{
	const char *bin = getenv("CORRIDOR_PG_BIN"), *data = getenv("CORRIDOR_PG_DATA");
	const char *run = getenv("CORRIDOR_PG_RUN");
	char cmd[2048];

	assert_non_null(bin);
	assert_non_null(data);
	snprintf(cmd, sizeof cmd, "%s '%s/pg_ctl' -D '%s' -l '%s/../server.log' -m fast -w -t 60"
	    " %s >/dev/null", run != NULL ? run : "", bin, data, data, action);
	assert_int_equal(system(cmd), 0);
}

/* A growing text of rows. */
struct dump {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
put(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->s == NULL) {
		d->cap = 256;
		assert_non_null(d->s = malloc(d->cap));
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(d->s + d->len, d->cap - d->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (d->len + (size_t)n < d->cap)
			break;
		d->cap = (d->cap + (size_t)n + 1) * 2;
		assert_non_null(d->s = realloc(d->s, d->cap));
	}
	d->len += (size_t)n;
}

static void
put_hex(struct dump *d, const void *p, size_t len)
{
	const unsigned char *b = p;

	put(d, " [%zu:", len);
	for (size_t i = 0; i < len; i++)
		put(d, "%02x", b[i]);
	put(d, "]");
}

/* The two dumps equal, else the first line that differs. */
static void
same(const struct dump *a, const struct dump *b)
{
	size_t i = 0, line = 1, start = 0;

	assert_true(a->len > 0);
	while (i < a->len && i < b->len && a->s[i] == b->s[i]) {
		if (a->s[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (i == a->len && i == b->len)
		return;
	fail_msg("line %zu differs:\n sqlite:     %.200s\n postgresql: %.200s", line,
	    a->s + start, b->s + start);
}

/* ------------------------------------------------------------ the data */

struct ev {
	int leg, code, classifier;
	const char *carrier, *unit, *train, *imo, *voyage, *delay;
	char direction;
	int64_t event_ms, record_ms;
	uint64_t retracts;	/* seq of the update retracted, 0: none */
};

static struct update_rec *
make(const struct ev *e, uint64_t seq)
{
	Corridor__ShipmentUpdate u = CORRIDOR__SHIPMENT_UPDATE__INIT;
	struct update_rec *r;
	char msg[24], retracts[24];

	snprintf(msg, sizeof msg, "m%" PRIu64, seq);
	snprintf(retracts, sizeof retracts, "m%" PRIu64, e->retracts);
	u.carrier = (char *)e->carrier;
	u.has_seq = 1;
	u.seq = seq;
	u.message_id = msg;
	u.has_event_class = u.has_classifier = u.has_event_code = u.has_event_time_ms = 1;
	u.event_class = CORRIDOR__EVENT_CLASS__TRANSPORT;
	u.classifier = (Corridor__Classifier)e->classifier;
	u.event_code = (Corridor__EventCode)e->code;
	u.event_time_ms = e->event_ms;
	u.node = (char *)(e->leg == 0 ? "ALTYNKOL" : "AKTAU");
	u.leg = e->leg == 0 ? movement.code : port.code;
	u.has_direction = 1;
	u.direction = e->direction == 'W' ? CORRIDOR__DIRECTION__W : CORRIDOR__DIRECTION__E;
	u.container = (char *)e->unit;
	u.iso_type = (char *)(e->unit[5] % 2 == 0 ? "45G1" : "22G1");
	u.has_gross_kg = 1;
	u.gross_kg = 18000 + (uint32_t)(seq % 5) * 1500;
	u.train_id = (char *)e->train;
	u.vessel_imo = (char *)e->imo;
	u.voyage = (char *)e->voyage;
	u.delay_reason = (char *)e->delay;
	u.retracts_message_id = e->retracts != 0 ? retracts : NULL;
	assert_non_null(r = update_rec_new(&u, e->leg, e->record_ms));
	return r;
}

struct batch {
	struct update_rec *r[RECS_MAX];
	size_t n;
};

static uint64_t
add(struct batch *b, const struct ev *e)
{
	uint64_t seq = ++next_seq;

	assert_true(b->n < RECS_MAX);
	b->r[b->n++] = make(e, seq);
	return seq;
}

/*
 * Both legs, both directions, two carriers: units entering in the same
 * hour (rollup rows that differ by direction and carrier only), trains and
 * vessel calls, planned and estimated exits, holds released or not, delay
 * reasons, a retraction, traversals still open, and late updates.
 */
static void
seed_updates(bool port_ties)
{
	struct store_writer *w = writer();
	struct batch b[2] = { 0 };
	enum rec_result res[RECS_MAX];

	next_seq = 0;
	for (int u = 0; u < UNITS; u++) {
		char first10[11];

		snprintf(first10, sizeof first10, "CSQU%06d", 305430 + u * 17);
		snprintf(units[u], sizeof units[u], "%s%d", first10, iso6346_check_digit(first10));
	}
	for (int k = 0; k < ROUNDS; k++)
		for (int u = 0; u < UNITS; u++) {
			/* units 0-2 enter and exit at the same times: 0 and 1 differ by
			 * direction, 0 and 2 by carrier, 0 and 1 by train */
			const char *carrier = (k + (u == 2) + (u >= 3)) % 2 ? "ADY" : "KTZE";
			char dir = (k + (u == 1)) % 2 ? 'E' : 'W';
			int64_t enter = T0 + H(k * 60 + u / 3);
			int64_t exit = u < 3 ? T0 + H(k * 61 + 20) : enter + H(26 + u + k);
			const char *train = u % 2 ? "T100" : "T200";
			struct ev e = { .leg = 0, .classifier = CORRIDOR__CLASSIFIER__ACT,
				.carrier = carrier, .unit = units[u], .train = train,
				.direction = dir };
			uint64_t hold;

			e.code = CORRIDOR__EVENT_CODE__DEPA;
			e.event_ms = enter;
			e.record_ms = enter + 60000 * (u + 1);
			add(&b[0], &e);
			if (k == 0) {
				/* delays at one time: in the order they were stored */
				e.code = CORRIDOR__EVENT_CODE__INSP;
				e.event_ms = T0 + H(10);
				e.delay = u % 2 ? "INSPECTION" : "SEAL";
				add(&b[0], &e);
				e.delay = NULL;
			}
			if (u % 3 == 0) {
				e.classifier = CORRIDOR__CLASSIFIER__PLN;
				e.code = CORRIDOR__EVENT_CODE__ARRI;
				e.event_ms = exit - H(2) + u * 1000;
				e.record_ms = enter + H(1);
				add(&b[0], &e);
				e.classifier = CORRIDOR__CLASSIFIER__ACT;
			}
			if (u % 2 == 0) {
				e.code = CORRIDOR__EVENT_CODE__HOLD;
				e.event_ms = T0 + H(k * 60 + 3);	/* 0, 2 and 4 at once */
				e.record_ms = e.event_ms + 120000;
				e.delay = u == 0 ? "CUSTOMS" : "DOCS";
				hold = add(&b[0], &e);
				e.delay = NULL;
				if (u != 4 || k != 1) {
					e.code = CORRIDOR__EVENT_CODE__RELS;
					e.event_ms = enter + H(5 + u);
					e.record_ms = e.event_ms + 30000;
					add(&b[0], &e);
				}
				if (u == 2 && k == 2) {
					/* the hold taken back */
					e.code = CORRIDOR__EVENT_CODE__HOLD;
					e.retracts = hold;
					e.event_ms = T0 + H(k * 60 + 3);
					e.record_ms = enter + H(4);
					add(&b[0], &e);
					e.retracts = 0;
				}
			}
			if (k == ROUNDS - 1 && u % 3 == 2)
				continue;	/* still on its way */
			e.code = CORRIDOR__EVENT_CODE__ARRI;
			e.event_ms = exit;
			e.record_ms = exit + (k == 1 ? H(30) : 5000);
			add(&b[0], &e);

			/* then through the port: a vessel call per round and direction */
			e = (struct ev){ .leg = 1, .classifier = CORRIDOR__CLASSIFIER__ACT,
				.carrier = carrier, .unit = units[u], .imo = "9876543",
				.voyage = k % 2 ? "V2E" : "V1W", .direction = dir };
			e.code = CORRIDOR__EVENT_CODE__ARRI;
			e.event_ms = exit + H(1) + (port_ties ? 0 : u * 1000);
			e.record_ms = e.event_ms + 1000;
			add(&b[1], &e);
			if (u == 1 || u == 2)
				continue;	/* waits in the port */
			if (u == 3) {
				e.classifier = CORRIDOR__CLASSIFIER__EST;
				e.code = CORRIDOR__EVENT_CODE__DEPA;
				e.event_ms = exit + H(30);
				add(&b[1], &e);
				e.classifier = CORRIDOR__CLASSIFIER__ACT;
			}
			e.code = CORRIDOR__EVENT_CODE__DEPA;
			e.event_ms = exit + H(26 + u);
			e.record_ms = e.event_ms + 7000;
			e.delay = u == 5 ? "WEATHER" : NULL;
			add(&b[1], &e);
		}
	append_to(w, 0, b[0].r, b[0].n, res);
	append_to(w, 1, b[1].r, b[1].n, res);
	store_writer_close(w);
}

static void
seed_catalog(struct store *s, bool rows)
{
	struct store_catalog *cat;
	struct store_error err;
	struct leg_table *legs = calloc(1, sizeof *legs);
	struct carrier_table *ct = calloc(1, sizeof *ct);
	struct store_mark marks[2] = { { "KTZE", 2, 3 }, { "ADY", 1, 1 } };
	struct store_rejection rej[6] = {
		{ "KTZE", 1000, 3, "check digit" }, { "KTZE", 1001, 5, "unknown leg" },
		{ "KTZE", 1002, 3, "check digit" }, { "ADY", 1003, 5, "unknown leg" },
		{ "ADY", 1004, 3, "check digit" }, { "ADY", 1005, 1, "bad frame" },
	};

	assert_non_null(legs);
	assert_non_null(ct);
	legs->count = 2;
	legs->legs[0] = movement;
	legs->legs[1] = port;
	if ((cat = store_catalog_open(s, &err)) == NULL)
		fail_msg("store_catalog_open: %s", err.message);
	if (rows) {
		assert_int_equal(carrier_add(ct, "KTZE", "Kazakhstan Temir Zholy"), 0);
		assert_int_equal(carrier_add(ct, "ADY", "Azerbaijan Railways"), 0);
	}
	if (store_catalog_sync(cat, legs, ct, &err) == -1)
		fail_msg("store_catalog_sync: %s", err.message);
	if (rows) {
		assert_int_equal(store_catalog_save_marks(cat, marks, 2, &err), 0);
		assert_int_equal(store_catalog_save_rejections(cat, rej, 6, &err), 0);
	}
	store_catalog_close(cat);
	free(ct);
	free(legs);
}

/* Copies the rows select gives on the SQLite file path into table on
 * PostgreSQL, with a leg column first when leg is not NULL. */
static long long
copy_rows(const char *path, const char *select, const char *table, const char *leg)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[SQL_MAX];
	long long rows = 0;
	int n, off, rc;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, select, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", select, sqlite3_errmsg(db));
	n = sqlite3_column_count(st);
	assert_true(n + 1 <= COLS_MAX);
	off = snprintf(sql, sizeof sql, "INSERT INTO %s (%s", table, leg != NULL ? "leg" : "");
	for (int i = 0; i < n; i++)
		off += snprintf(sql + off, sizeof sql - (size_t)off, "%s%s",
		    i > 0 || leg != NULL ? ", " : "", sqlite3_column_name(st, i));
	off += snprintf(sql + off, sizeof sql - (size_t)off, ") VALUES (");
	for (int i = 0; i < n + (leg != NULL); i++)
		off += snprintf(sql + off, sizeof sql - (size_t)off, "%s$%d", i > 0 ? ", " : "",
		    i + 1);
	snprintf(sql + off, sizeof sql - (size_t)off, ")");
	assert_true(off < (int)sizeof sql - 2);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v[COLS_MAX];
		int len[COLS_MAX], fmt[COLS_MAX], p = 0;
		PGresult *res;

		if (leg != NULL) {
			v[p] = leg;
			len[p] = 0;
			fmt[p++] = 0;
		}
		for (int i = 0; i < n; i++, p++) {
			int type = sqlite3_column_type(st, i);

			/* a blob as bytea's binary form (its bytes), the rest as text */
			fmt[p] = type == SQLITE_BLOB;
			v[p] = type == SQLITE_NULL ? NULL : type == SQLITE_BLOB ?
			    (const char *)sqlite3_column_blob(st, i) :
			    (const char *)sqlite3_column_text(st, i);
			len[p] = sqlite3_column_bytes(st, i);
			if (type == SQLITE_BLOB && v[p] == NULL)
				v[p] = "";	/* an empty blob, not NULL */
		}
		res = PQexecParams(raw, sql, p, NULL, v, len, fmt, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(raw));
		PQclear(res);
		rows++;
	}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rows;
}

/* Every row of the SQLite store's tables into a fresh PostgreSQL database. */
static void
copy_to_postgresql(void)
{
	static const char *const leg_tables[] = { "events", "traversals", "transit_hourly",
		"volume_hourly", "conveyances", "quality_hourly", "rollup_meta" };
	static const char *const catalog_tables[] = { "carriers", "rejections",
		"duplicates_hourly" };
	const struct leg *legs[2] = { &movement, &port };
	struct store_error err;
	char path[CONFIG_PATH_MAX + 64], select[128], count[128];
	PGconn *base = pg_connect(NULL);

	pg_run(base, "DROP DATABASE IF EXISTS " PG_DB " WITH (FORCE)");
	pg_run(base, "CREATE DATABASE " PG_DB);
	PQfinish(base);
	config_defaults(&pgcfg);
	snprintf(pgcfg.state_dir, sizeof pgcfg.state_dir, "%s", cfg.state_dir);
	snprintf(pgcfg.store_backend, sizeof pgcfg.store_backend, "postgresql");
	snprintf(pgcfg.pg_conninfo, sizeof pgcfg.pg_conninfo, "%s dbname=" PG_DB,
	    getenv("CORRIDOR_PG_CONNINFO"));
	if ((pgst = store_open(&pgcfg, &err)) == NULL)
		fail_msg("store_open postgresql: %s", err.message);
	seed_catalog(pgst, false);	/* the schema, and the legs with their partitions */
	raw = pg_connect(PG_DB);
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/legs/%s.db", cfg.state_dir, legs[i]->code);
		copy_rows(path, "SELECT carrier, seq FROM events", "update_seqs", legs[i]->code);
		for (size_t t = 0; t < sizeof leg_tables / sizeof leg_tables[0]; t++) {
			long long n;

			snprintf(select, sizeof select, "SELECT * FROM %s", leg_tables[t]);
			n = copy_rows(path, select, leg_tables[t], legs[i]->code);
			snprintf(count, sizeof count, "SELECT count(*) FROM %s WHERE leg = '%s'",
			    leg_tables[t], legs[i]->code);
			assert_int_equal(pg_int(raw, count), n);
			/* the comparison means something: every table has rows */
			assert_true(n > 0);
		}
	}
	snprintf(path, sizeof path, "%s/corridor.db", cfg.state_dir);
	for (size_t t = 0; t < sizeof catalog_tables / sizeof catalog_tables[0]; t++) {
		snprintf(select, sizeof select, "SELECT * FROM %s", catalog_tables[t]);
		assert_true(copy_rows(path, select, catalog_tables[t], NULL) > 0);
	}
}

static int
setup_both(void **state)
{
	setup(state);
	seed_updates(true);
	seed_catalog(st, true);
	copy_to_postgresql();
	return 0;
}

static int
teardown_both(void **state)
{
	PGconn *base;

	PQfinish(raw);
	raw = NULL;
	store_close(pgst);
	pgst = NULL;
	config_clear(&pgcfg);
	base = pg_connect(NULL);
	pg_run(base, "DROP DATABASE IF EXISTS " PG_DB " WITH (FORCE)");
	PQfinish(base);
	return teardown(state);
}

/* ------------------------------------------------------------ every primitive */

struct ctx {
	struct dump *d;
	struct store_reader *r;
	size_t leg;
	const struct leg *l;
	int stop_after;		/* >0: the callback stops after that many rows */
	int seen;
};

static int
stop_here(struct ctx *c)
{
	return c->stop_after > 0 && ++c->seen >= c->stop_after ? 7 : 0;
}

static int
on_transit(void *arg, const struct store_transit_hour *h)
{
	struct ctx *c = arg;

	put(c->d, "transit %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
	    " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64, h->n,
	    h->sum_ms, h->min_ms, h->max_ms, h->on_time, h->planned, h->on_plan, h->eta_n,
	    h->eta_err_ms, h->teu, h->containers, h->gross_kg);
	put_hex(c->d, h->hist, h->hist_len);
	put(c->d, "\n");
	return stop_here(c);
}

static int
on_traversal(void *arg, const struct store_traversal *t)
{
	struct ctx *c = arg;
	struct store_error err;
	int64_t entry;

	put(c->d, "trav %s %s %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
	    " %" PRId64 " %d %" PRId64 " %" PRId64 " %" PRId64, t->unit, t->direction,
	    t->carrier, t->enter_ms, t->exit_ms, t->duration_ms, t->teu, t->containers,
	    t->gross_kg, t->planned, t->planned ? t->plan_ms : 0, t->eta_n, t->eta_err_ms);
	/* as JOURNEYS does: a primitive inside another's callback */
	assert_int_equal(store_reader_latest_entry(c->r, c->leg, c->l, t->unit, t->direction,
	    t->exit_ms, &entry, &err), 0);
	put(c->d, " latest %" PRId64 "\n", entry);
	return stop_here(c);
}

static int
on_open(void *arg, const struct store_open_traversal *o)
{
	struct ctx *c = arg;
	struct store_error err;
	bool since;

	assert_int_equal(store_reader_entered_since(c->r, c->leg, c->l, o->unit, o->direction,
	    o->enter_ms, &since, &err), 0);
	put(c->d, "open %s %s %s %" PRId64 " %" PRId64 " %" PRId64 " since %d\n", o->unit,
	    o->direction, o->carrier, o->enter_ms, o->teu, o->containers, since);
	return stop_here(c);
}

static int
on_unit_traversal(void *arg, const struct store_unit_traversal *t)
{
	struct ctx *c = arg;

	put(c->d, "utrav %s %" PRId64 " %" PRId64 "\n", t->direction, t->enter_ms, t->exit_ms);
	return stop_here(c);
}

static int
on_unpaired(void *arg, const struct store_unpaired_event *e)
{
	struct ctx *c = arg;

	put(c->d, "unpaired %s %" PRId64 " %d\n", e->direction, e->event_ms, e->event_code);
	return stop_here(c);
}

static int
on_volume(void *arg, const struct store_volume_hour *v)
{
	struct ctx *c = arg;

	put(c->d, "volume %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
	    v->hour_ms, v->units, v->teu, v->containers, v->gross_kg);
	return stop_here(c);
}

static int
on_conveyance(void *arg, const struct store_conveyance *v)
{
	struct ctx *c = arg;

	put(c->d, "conveyance %" PRId64 " %d\n", v->first_enter_ms, v->train);
	return stop_here(c);
}

static int
on_hold(void *arg, const struct store_event_ref *e)
{
	struct ctx *c = arg;
	struct store_error err;
	int64_t rels;

	/* as HOLDS does */
	assert_int_equal(store_reader_release_after(c->r, c->leg, c->l, e->unit, e->direction,
	    e->event_ms, &rels, &err), 0);
	put(c->d, "hold %s %s %" PRId64 " rels %" PRId64 "\n", e->unit, e->direction,
	    e->event_ms, rels);
	return stop_here(c);
}

static int
on_delay(void *arg, const struct store_delay *d)
{
	struct ctx *c = arg;

	put(c->d, "delay %s %s\n", d->reason, d->unit);
	return stop_here(c);
}

static int
on_quality(void *arg, const struct store_quality_hour *q)
{
	struct ctx *c = arg;

	put(c->d, "quality %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %"
	    PRId64 " %" PRId64, q->carrier, q->updates, q->lag_max_ms, q->lag_n, q->duplicates,
	    q->retractions, q->out_of_order, q->pln_est);
	put_hex(c->d, q->lag, q->lag_len);
	put(c->d, "\n");
	return stop_here(c);
}

static int
on_rejection(void *arg, const struct store_rejection_count *n)
{
	struct ctx *c = arg;

	put(c->d, "rejections %s %d %" PRId64 "\n", n->carrier, n->reason, n->count);
	return stop_here(c);
}

static int
on_duplicates(void *arg, const struct store_carrier_count *n)
{
	struct ctx *c = arg;

	put(c->d, "duplicates %s %" PRId64 "\n", n->carrier, n->count);
	return stop_here(c);
}

static const int64_t froms[] = { INT64_MIN, T0 + H(1), T0 + H(61), T0 + H(200) };
static const int64_t tos[] = { INT64_MAX, T0 + H(61), T0 + H(100), T0 + H(1) };
static const char *const directions[] = { NULL, "W", "E" };
static const char *const carriers[] = { NULL, "KTZE", "ADY", "NOPE" };

/* Every filtered primitive of a leg with f; the answer of each said too. */
static void
dump_filter(struct ctx *c, const struct store_filter *f)
{
	struct store_reader *r = c->r;
	struct dump *d = c->d;
	struct store_error err;

	c->seen = 0;
	put(d, "= %d\n", store_reader_each_transit_hour(r, c->leg, c->l, f, on_transit, c, &err));
	c->seen = 0;
	put(d, "= %d\n", store_reader_each_traversal_by_exit(r, c->leg, c->l, f, on_traversal, c,
	    &err));
	c->seen = 0;
	put(d, "= %d\n", store_reader_each_volume_hour(r, c->leg, c->l, f, on_volume, c, &err));
	c->seen = 0;
	put(d, "= %d\n", store_reader_each_conveyance(r, c->leg, c->l, f, on_conveyance, c,
	    &err));
	c->seen = 0;
	put(d, "= %d\n", store_reader_each_hold(r, c->leg, c->l, f, on_hold, c, &err));
	c->seen = 0;
	put(d, "= %d\n", store_reader_each_delay(r, c->leg, c->l, f, on_delay, c, &err));
	c->seen = 0;
	put(d, "= %d\n", store_reader_each_quality_hour(r, c->leg, c->l, f, on_quality, c,
	    &err));
}

/* Every primitive of a leg, with every filter and for every unit. */
static void
dump_leg(struct store_reader *r, size_t leg, const struct leg *l, int stop_after,
    struct dump *d)
{
	struct ctx c = { d, r, leg, l, stop_after, 0 };
	struct store_error err;

	for (size_t a = 0; a < sizeof froms / sizeof froms[0]; a++)
		for (size_t b = 0; b < sizeof tos / sizeof tos[0]; b++)
			for (size_t i = 0; i < sizeof directions / sizeof directions[0]; i++)
				for (size_t j = 0; j < sizeof carriers / sizeof carriers[0]; j++) {
					struct store_filter f = { froms[a], tos[b], directions[i],
						carriers[j] };

					put(d, "filter %s %zu %zu %s %s\n", l->code, a, b,
					    f.direction ? f.direction : "-",
					    f.carrier ? f.carrier : "-");
					dump_filter(&c, &f);
				}
	c.seen = 0;
	put(d, "= %d\n", store_reader_each_open(r, leg, l, on_open, &c, &err));
	for (int u = 0; u <= UNITS; u++) {
		const char *unit = u < UNITS ? units[u] : "NOSU0000000";
		bool reported;

		c.seen = 0;
		put(d, "unit %s = %d\n", unit, store_reader_each_unit_traversal(r, leg, l, unit,
		    on_unit_traversal, &c, &err));
		c.seen = 0;
		put(d, "= %d\n", store_reader_each_unpaired_event(r, leg, l, unit, on_unpaired, &c,
		    &err));
		assert_int_equal(store_reader_unit_reported(r, leg, l, unit, &reported, &err), 0);
		put(d, "reported %d\n", reported);
		for (size_t i = 1; i < sizeof directions / sizeof directions[0]; i++)
			for (int64_t t = T0 - H(1); t < T0 + H(300); t += H(7)) {
				int64_t v;
				bool since;

				assert_int_equal(store_reader_latest_entry(r, leg, l, unit, directions[i],
				    t, &v, &err), 0);
				put(d, "latest %s %" PRId64 " %" PRId64, directions[i], t, v);
				assert_int_equal(store_reader_entered_since(r, leg, l, unit,
				    directions[i], t, &since, &err), 0);
				assert_int_equal(store_reader_release_after(r, leg, l, unit,
				    directions[i], t, &v, &err), 0);
				put(d, " since %d rels %" PRId64 "\n", since, v);
			}
	}
}

static void
dump_all(struct store_reader *r, int stop_after, struct dump *d)
{
	struct ctx c = { d, r, 0, NULL, stop_after, 0 };
	struct store_error err;
	static const char *const codes[] = { "KTZE", "ADY", "NOPE", "" };

	dump_leg(r, 0, &movement, stop_after, d);
	dump_leg(r, 1, &port, stop_after, d);
	for (size_t a = 0; a < sizeof froms / sizeof froms[0]; a++)
		for (size_t j = 0; j < sizeof carriers / sizeof carriers[0]; j++) {
			/* the catalog's times are now's: the widest window holds them */
			struct store_filter f = { a == 0 ? INT64_MIN : froms[a], INT64_MAX, NULL,
				carriers[j] };

			c.seen = 0;
			put(d, "= %d\n", store_reader_each_rejection_count(r, &f, on_rejection, &c,
			    &err));
			c.seen = 0;
			put(d, "= %d\n", store_reader_each_mark_duplicates(r, &f, on_duplicates, &c,
			    &err));
		}
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		bool known;

		assert_int_equal(store_reader_carrier_known(r, codes[i], &known, &err), 0);
		put(d, "known %s %d\n", codes[i], known);
	}
	/* a leg index out of range is refused alike */
	put(d, "bad leg %d", store_reader_each_open(r, LEGS_MAX, &movement, on_open, &c, &err));
	put(d, " %s\n", store_error_kind_name(err.kind));
}

static struct store_reader *
reader(struct store *s)
{
	struct store_error err;
	struct store_reader *r = store_reader_open(s, &err);

	if (r == NULL)
		fail_msg("store_reader_open: %s", err.message);
	return r;
}

/* Both readers' dumps, outside a query or in one. */
static void
compare(struct store_reader *a, struct store_reader *b, bool in_query, int stop_after)
{
	struct dump da = { 0 }, db = { 0 };
	struct store_error err;

	if (in_query) {
		assert_int_equal(store_reader_begin(a, &err), 0);
		assert_int_equal(store_reader_begin(b, &err), 0);
	}
	dump_all(a, stop_after, &da);
	dump_all(b, stop_after, &db);
	if (in_query) {
		store_reader_end(a);
		store_reader_end(b);
	}
	same(&da, &db);
	free(da.s);
	free(db.s);
}

/* The same rows in the same order from both stores, alone and in a query,
 * read to the end and stopped by the callback. */
static void
test_same_rows(void **state)
{
	struct store_reader *a = reader(st), *b = reader(pgst);

	(void)state;
	compare(a, b, false, 0);
	compare(a, b, true, 0);
	compare(a, b, false, 2);
	compare(a, b, true, 1);
	store_reader_close(a);
	store_reader_close(b);
}

/* ------------------------------------------------------------ PostgreSQL's own */

static int
count_row(void *arg, const struct store_transit_hour *h)
{
	(void)h;
	(*(int *)arg)++;
	return 0;
}

static int
transit_rows(struct store_reader *r, int expect_rc, enum store_error_kind kind)
{
	struct store_filter f = { INT64_MIN, INT64_MAX, NULL, NULL };
	struct store_error err = { 0 };
	int n = 0, rc = store_reader_each_transit_hour(r, 0, &movement, &f, count_row, &n, &err);

	assert_int_equal(rc, expect_rc);
	if (rc == -1)
		assert_int_equal(err.kind, kind);
	return n;
}

static const char insert_hour[] = "INSERT INTO transit_hourly SELECT leg,"
    " hour_ms + 3600000::bigint * 10000, direction, carrier, n, sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n,"
    " eta_err_ms, teu, containers, gross_kg, hist FROM transit_hourly"
    " WHERE leg = 'KZ-RAIL-ALT-AKT' ORDER BY hour_ms LIMIT 1";

/* One query reads one snapshot; the next query, and a primitive outside
 * any, see what was committed meanwhile. */
static void
test_snapshot(void **state)
{
	struct store_reader *r = reader(pgst);
	struct store_error err;
	int64_t v;
	int n0;

	(void)state;
	n0 = transit_rows(r, 0, STORE_OK);
	assert_true(n0 > 0);
	assert_int_equal(store_reader_begin(r, &err), 0);
	assert_int_equal(transit_rows(r, 0, STORE_OK), n0);
	pg_run(raw, insert_hour);
	/* a single-row primitive in between: the same snapshot */
	assert_int_equal(store_reader_latest_entry(r, 0, &movement, units[0], "W", INT64_MAX, &v,
	    &err), 0);
	assert_int_equal(transit_rows(r, 0, STORE_OK), n0);
	store_reader_end(r);
	assert_int_equal(transit_rows(r, 0, STORE_OK), n0 + 1);
	assert_int_equal(store_reader_begin(r, &err), 0);
	assert_int_equal(transit_rows(r, 0, STORE_OK), n0 + 1);
	store_reader_end(r);
	/* no transaction left open between queries */
	assert_int_equal(pg_int(raw, "SELECT count(*) FROM pg_stat_activity WHERE"
	    " application_name = 'corridord' AND state <> 'idle'"), 0);
	store_reader_close(r);
}

/* Retries a reader until it reads again (its backoff may be waiting). */
static void
wait_back(struct store_reader *r, int n)
{
	struct store_filter f = { INT64_MIN, INT64_MAX, NULL, NULL };
	struct store_error err;
	int64_t deadline = now_ms() + BACK_WAIT_MS;
	int got;

	for (;;) {
		got = 0;
		if (store_reader_each_transit_hour(r, 0, &movement, &f, count_row, &got, &err) == 0)
			break;
		assert_int_equal(err.kind, STORE_RETRYABLE);
		if (now_ms() > deadline)
			fail_msg("the reader did not come back: %s", err.message);
		sleep_ms(POLL_MS);
	}
	assert_int_equal(got, n);
}

/* The server stopped: every primitive fails at once, retryable, also in a
 * query and from a reader opened meanwhile; started again, they all read
 * again, and the same rows as SQLite's. */
static void
test_server_down(void **state)
{
	struct store_reader *r = reader(pgst), *late, *a;
	struct store_error err;
	int64_t t0, v;
	bool known;
	int n;

	(void)state;
	n = transit_rows(r, 0, STORE_OK);
	PQfinish(raw);
	raw = NULL;
	pg_ctl("stop");
	for (int i = 0; i < 3; i++) {
		t0 = now_ms();
		transit_rows(r, -1, STORE_RETRYABLE);
		assert_int_equal(store_reader_latest_entry(r, 0, &movement, units[0], "W", T0, &v,
		    &err), -1);
		assert_int_equal(err.kind, STORE_RETRYABLE);
		assert_int_equal(store_reader_carrier_known(r, "KTZE", &known, &err), -1);
		assert_int_equal(err.kind, STORE_RETRYABLE);
		assert_false(known);
		assert_true(now_ms() - t0 < DOWN_FAIL_MS);
	}
	/* in a query: begin reads nothing yet, the first read fails */
	assert_int_equal(store_reader_begin(r, &err), 0);
	transit_rows(r, -1, STORE_RETRYABLE);
	store_reader_end(r);
	/* opened while the server is down: open needs no connection */
	late = reader(pgst);
	transit_rows(late, -1, STORE_RETRYABLE);
	pg_ctl("start");
	wait_back(r, n);
	wait_back(late, n);
	raw = pg_connect(PG_DB);
	a = reader(st);
	compare(a, late, true, 0);
	store_reader_close(a);
	store_reader_close(late);
	store_reader_close(r);
}

/* The connection lost inside a query: the rest of that query fails
 * (another connection would be another snapshot), and the next query works
 * on a new one. */
static void
test_lost_in_query(void **state)
{
	struct store_reader *r = reader(pgst);
	struct store_error err;
	int64_t v;
	int n;

	(void)state;
	n = transit_rows(r, 0, STORE_OK);
	assert_int_equal(store_reader_begin(r, &err), 0);
	assert_int_equal(transit_rows(r, 0, STORE_OK), n);
	assert_int_equal(pg_int(raw, "SELECT count(pg_terminate_backend(pid)) FROM"
	    " pg_stat_activity WHERE application_name = 'corridord'"
	    " AND datname = current_database()"), 1);
	transit_rows(r, -1, STORE_RETRYABLE);
	assert_int_equal(store_reader_latest_entry(r, 0, &movement, units[0], "W", T0, &v, &err),
	    -1);
	assert_int_equal(err.kind, STORE_RETRYABLE);
	store_reader_end(r);
	assert_int_equal(store_reader_begin(r, &err), 0);
	assert_int_equal(transit_rows(r, 0, STORE_OK), n);
	store_reader_end(r);

	/* a statement that failed in a query: end rolls back, the next works */
	assert_int_equal(store_reader_begin(r, &err), 0);
	pg_run(raw, "ALTER TABLE transit_hourly RENAME TO transit_hourly_away");
	transit_rows(r, -1, STORE_CORRUPT);
	transit_rows(r, -1, STORE_RETRYABLE);	/* the transaction is aborted */
	store_reader_end(r);
	pg_run(raw, "ALTER TABLE transit_hourly_away RENAME TO transit_hourly");
	assert_int_equal(transit_rows(r, 0, STORE_OK), n);
	store_reader_close(r);
}

static void
test_backup_unsupported(void **state)
{
	struct store_reader *r = reader(pgst);
	struct store_backup_file files[3];
	struct leg_table *legs = calloc(1, sizeof *legs);
	struct store_error err;
	char dest[CONFIG_PATH_MAX + 32];
	size_t n = 99;

	(void)state;
	assert_non_null(legs);
	legs->count = 2;
	legs->legs[0] = movement;
	legs->legs[1] = port;
	snprintf(dest, sizeof dest, "%s/backups/backup-pg", cfg.state_dir);
	assert_int_equal(store_reader_backup(r, legs, dest, files, &n, &err), -1);
	/* nothing made on the way to the answer */
	snprintf(dest, sizeof dest, "%s/backups", cfg.state_dir);
	assert_int_equal(access(dest, F_OK), -1);
	assert_int_equal(err.kind, STORE_UNSUPPORTED);
	assert_string_equal(err.message, "BACKUP is for the SQLite store; back PostgreSQL up with"
	    " pg_basebackup (or pg_dump)");
	assert_int_equal(n, 0);
	free(legs);
	store_reader_close(r);
}

/* ------------------------------------------------------------ the query commands */

/* What query_execute answers line. */
static char *
answer(struct query_ctx *q, const char *line)
{
	struct evbuffer *out = evbuffer_new();
	size_t len;
	char *s;

	assert_non_null(out);
	query_execute(q, line, T0 + H(400), out);
	len = evbuffer_get_length(out);
	assert_non_null(s = calloc(1, len + 1));
	evbuffer_remove(out, s, len);
	evbuffer_free(out);
	return s;
}

static void
set_legs(struct config *c)
{
	c->legs.count = 2;
	c->legs.legs[0] = movement;
	c->legs.legs[1] = port;
	snprintf(c->legs.legs[0].from_node, sizeof c->legs.legs[0].from_node, "ALTYNKOL");
	snprintf(c->legs.legs[0].to_node, sizeof c->legs.legs[0].to_node, "AKTAU");
	snprintf(c->legs.legs[1].from_node, sizeof c->legs.legs[1].from_node, "AKTAU");
	snprintf(c->legs.legs[1].to_node, sizeof c->legs.legs[1].to_node, "AKTAU");
}

static const char *const lines[] = { "STATS *", "STATS KZ-RAIL-ALT-AKT 2026-05-28 2026-06-10 W",
	"HISTOGRAM KZ-PORT-AKT", "ONTIME * 2026-05-28 2026-06-30 E KTZE", "VOLUMES * day",
	"VOLUMES KZ-PORT-AKT week 2026-05-01 2026-07-01 W ADY", "JOURNEYS ALTYNKOL AKTAU",
	"JOURNEYS ALTYNKOL AKTAU 2026-05-28 2026-07-01 E 3", "HOLDS *",
	"HOLDS KZ-RAIL-ALT-AKT 2026-05-28 2026-07-01 W KTZE", "DELAYS *", "QUALITY",
	"QUALITY KTZE", "QUALITY * 2026-05-28 2026-07-01", "INTRANSIT", "INTRANSIT KZ-PORT-AKT",
	"SHIPMENT CSQU0000000", "PING", "LEGS" };

/* Every query command (and a SHIPMENT of a unit seen) answers the same
 * through both contexts, and with rows. */
static void
same_answers(struct query_ctx *qs, struct query_ctx *qp)
{
	char *a, *b, line[64];

	for (size_t i = 0; i <= sizeof lines / sizeof lines[0]; i++) {
		if (i < sizeof lines / sizeof lines[0])
			snprintf(line, sizeof line, "%s", lines[i]);
		else
			snprintf(line, sizeof line, "SHIPMENT %s", units[0]);
		a = answer(qs, line);
		b = answer(qp, line);
		if (strcmp(a, b) != 0)
			fail_msg("%s:\n sqlite:\n%s\n postgresql:\n%s", line, a, b);
		/* answers with rows, not errors alike (but for the unit never seen) */
		if (strcmp(line, "SHIPMENT CSQU0000000") == 0)
			assert_true(strncmp(a, "ERR NOT_FOUND ", 14) == 0);
		else
			assert_true(strncmp(a, "OK\n", 3) == 0 && strstr(a, "\nEND 0\n") == NULL);
		free(a);
		free(b);
	}
}

/* Every query command answers the same on both stores; with the server
 * down a command that reads answers UNAVAILABLE (and PING still PONG), and
 * BACKUP on PostgreSQL UNSUPPORTED. */
static void
test_query_answers(void **state)
{
	struct query_ctx *qs, *qp;
	char *b;

	(void)state;
	set_legs(&cfg);
	set_legs(&pgcfg);
	assert_non_null(qs = query_ctx_new(&cfg, st));
	assert_non_null(qp = query_ctx_new(&pgcfg, pgst));
	same_answers(qs, qp);
	b = answer(qp, "BACKUP b1");
	assert_string_equal(b, "ERR UNSUPPORTED BACKUP is for the SQLite store; back PostgreSQL"
	    " up with pg_basebackup (or pg_dump)\n");
	free(b);
	{
		/* and made no backup directory on the way */
		char dir[CONFIG_PATH_MAX + 16];

		snprintf(dir, sizeof dir, "%s/backups", pgcfg.state_dir);
		assert_int_equal(access(dir, F_OK), -1);
	}

	PQfinish(raw);
	raw = NULL;
	pg_ctl("stop");
	b = answer(qp, "STATS KZ-RAIL-ALT-AKT");
	assert_string_equal(b, "ERR UNAVAILABLE KZ-RAIL-ALT-AKT is unavailable, try again\n");
	free(b);
	b = answer(qp, "QUALITY");
	assert_true(strncmp(b, "ERR UNAVAILABLE ", 16) == 0);
	free(b);
	b = answer(qp, "PING");
	assert_true(strncmp(b, "OK\n", 3) == 0);
	free(b);
	pg_ctl("start");
	raw = pg_connect(PG_DB);
	query_ctx_free(qs);
	query_ctx_free(qp);
}

/* The same updates written through each store's own writer (the
 * PostgreSQL writer's rows, not copies of SQLite's): every query command
 * answers alike. */
static void
test_written_through_postgresql(void **state)
{
	struct config *wcfg = calloc(1, sizeof *wcfg);
	struct store *wst, *sqlite = st;
	struct store_error err;
	struct query_ctx *qs, *qp;
	PGconn *base = pg_connect(NULL);

	(void)state;
	assert_non_null(wcfg);
	seed_updates(true);
	seed_catalog(st, true);
	pg_run(base, "DROP DATABASE IF EXISTS " PG_DB "_w WITH (FORCE)");
	pg_run(base, "CREATE DATABASE " PG_DB "_w");
	config_defaults(wcfg);
	snprintf(wcfg->state_dir, sizeof wcfg->state_dir, "%s", cfg.state_dir);
	snprintf(wcfg->store_backend, sizeof wcfg->store_backend, "postgresql");
	snprintf(wcfg->pg_conninfo, sizeof wcfg->pg_conninfo, "%s dbname=" PG_DB "_w",
	    getenv("CORRIDOR_PG_CONNINFO"));
	wcfg->sync = STORE_SYNC_NORMAL;
	if ((wst = store_open(wcfg, &err)) == NULL)
		fail_msg("store_open postgresql: %s", err.message);
	seed_catalog(wst, true);
	if (store_leg_prepare(wst, &movement, &err) == -1 ||
	    store_leg_prepare(wst, &port, &err) == -1)
		fail_msg("store_leg_prepare: %s", err.message);
	/* with units entering the port in one millisecond: a vessel call's
	 * carrier is that of its smallest unit among the first to enter, on
	 * both (SQLite: a bare column beside min(), met in index order) */
	st = wst;	/* the fixture's writer() writes to st */
	seed_updates(true);
	st = sqlite;
	set_legs(&cfg);
	set_legs(wcfg);
	assert_non_null(qs = query_ctx_new(&cfg, st));
	assert_non_null(qp = query_ctx_new(wcfg, wst));
	same_answers(qs, qp);
	query_ctx_free(qs);
	query_ctx_free(qp);
	store_close(wst);
	config_clear(wcfg);
	free(wcfg);
	pg_run(base, "DROP DATABASE " PG_DB "_w WITH (FORCE)");
	PQfinish(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_rows, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_snapshot, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_lost_in_query, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_backup_unsupported, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_server_down, setup_both, teardown_both),
		cmocka_unit_test_setup_teardown(test_query_answers, setup_both, teardown_both),
		/* its own PostgreSQL database, written by the PostgreSQL writer */
		cmocka_unit_test_setup_teardown(test_written_through_postgresql, setup, teardown),
	};

	if (getenv("CORRIDOR_PG_CONNINFO") == NULL) {
		fprintf(stderr, "no CORRIDOR_PG_CONNINFO: run under tests/pg/with_postgres.sh\n");
		return 77;
	}
	return UNIT_RUN(tests);
}
