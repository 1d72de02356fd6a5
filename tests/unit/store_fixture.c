/* The conformance tests' store fixture; see store_fixture.h. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_fixture.h"

/* store = postgresql: each test's own database on the server of
 * tests/pg/with_postgres.sh (CORRIDOR_PG_CONNINFO) */
#define PG_TEST_DB "corridor_conformance"

static char dir[64];
struct config cfg;
struct store *st;
struct leg movement = { .code = "KZ-RAIL-ALT-AKT", .kind = LEG_MOVEMENT,
	.typical_h = 120 };
struct leg port = { .code = "KZ-PORT-AKT", .kind = LEG_PORT, .typical_h = 72 };

/* Runs sql on the server's base database (CREATE and DROP DATABASE). */
static void
pg_base_exec(const char *sql)
{
	const char *base = getenv("CORRIDOR_PG_CONNINFO");
	PGconn *c;
	PGresult *res;

	if (base == NULL)
		fail_msg("store = postgresql needs CORRIDOR_PG_CONNINFO (tests/pg/with_postgres.sh)");
	c = PQconnectdb(base);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connecting to %s: %s", base, PQerrorMessage(c));
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

static bool
on_postgresql(void)
{
	return strcmp(cfg.store_backend, "postgresql") == 0;
}

static void
remove_tree(const char *path)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

int
setup(void **state)
{
	struct store_error err;
	const char *backend = getenv("CORRIDOR_STORE");

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/corridor-conformance.XXXXXX");
	assert_non_null(mkdtemp(dir));
	config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "%s", dir);
	if (backend != NULL && backend[0] != '\0')
		snprintf(cfg.store_backend, sizeof cfg.store_backend, "%s", backend);
	if (on_postgresql()) {
		pg_base_exec("DROP DATABASE IF EXISTS " PG_TEST_DB " WITH (FORCE)");
		pg_base_exec("CREATE DATABASE " PG_TEST_DB);
		snprintf(cfg.pg_conninfo, sizeof cfg.pg_conninfo, "%s dbname=" PG_TEST_DB,
		    getenv("CORRIDOR_PG_CONNINFO"));
	}
	cfg.sync = STORE_SYNC_NORMAL;
	st = store_open(&cfg, &err);
	if (st == NULL)
		fail_msg("store_open: %s", err.message);
	assert_int_equal(store_leg_prepare(st, &movement, &err), 0);
	assert_int_equal(store_leg_prepare(st, &port, &err), 0);
	return 0;
}

int
teardown(void **state)
{
	(void)state;
	store_close(st);
	if (on_postgresql())
		pg_base_exec("DROP DATABASE IF EXISTS " PG_TEST_DB " WITH (FORCE)");
	config_clear(&cfg);
	remove_tree(dir);
	return 0;
}

struct store_writer *
writer(void)
{
	struct store_error err;
	struct store_writer *w = store_writer_open(st, &err);

	assert_non_null(w);
	assert_int_equal(store_writer_add_leg(w, 0, &movement, 8, &err), 0);
	assert_int_equal(store_writer_add_leg(w, 1, &port, 8, &err), 0);
	return w;
}

struct update_rec *
rec_on(int leg, uint64_t seq, int code, int64_t t, const char *container, const char *retracts,
    bool resend)
{
	Corridor__ShipmentUpdate u = CORRIDOR__SHIPMENT_UPDATE__INIT;
	struct update_rec *r;
	char msg[32];

	snprintf(msg, sizeof msg, "m%llu", (unsigned long long)seq);
	u.carrier = (char *)"KTZE";
	u.has_seq = 1;
	u.seq = seq;
	u.message_id = msg;
	u.has_event_class = u.has_classifier = u.has_event_code = u.has_event_time_ms = 1;
	u.event_class = CORRIDOR__EVENT_CLASS__TRANSPORT;
	u.classifier = CORRIDOR__CLASSIFIER__ACT;
	u.event_code = (Corridor__EventCode)code;
	u.event_time_ms = t;
	u.node = (char *)(leg == 0 ? "ALTYNKOL" : "AKTAU");
	u.leg = leg == 0 ? movement.code : port.code;
	u.has_direction = 1;
	u.direction = CORRIDOR__DIRECTION__W;
	u.container = (char *)container;
	u.iso_type = (char *)"45G1";
	u.has_gross_kg = 1;
	u.gross_kg = 20000;
	u.retracts_message_id = (char *)retracts;
	r = update_rec_new(&u, leg, T0);
	assert_non_null(r);
	r->resend = resend;
	return r;
}

struct update_rec *
rec(uint64_t seq, int code, int64_t t, const char *container)
{
	return rec_on(0, seq, code, t, container, NULL, false);
}

void
append_to(struct store_writer *w, size_t leg, struct update_rec **recs, size_t n,
    enum rec_result *results)
{
	struct store_error err;

	assert_int_equal(store_writer_append(w, leg, recs, n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		results[i] = recs[i]->result;
		free(recs[i]);
	}
}

