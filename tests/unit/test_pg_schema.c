/*
 * The PostgreSQL store's schema (schema/postgresql/) against a real
 * PostgreSQL 15 that tests/pg/with_postgres.sh starts for this binary: a
 * leg's partition of events, added by a row in legs or by the function, and
 * by two daemons at once; (carrier, seq) unique across legs; and every
 * SELECT the SQLite backend's queries make, with the leg as a column, using
 * its index. Each case makes its own database (pg_fixture.c).
 */
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_fixture.h"

/* an identifier as EXPLAIN prints it: up to 63 bytes, quoted */
#define PLAN_NAME_MAX (63 + 3)

#define LEG_A "KZ-RAIL-ALT-AKT"
#define LEG_B "AZ_PORT-BAK"

static const char add_legs_sql[] =
	"INSERT INTO legs (code, from_name, to_name, country, kind, mode, distance_km, min_h,"
	" typical_h, bad_h, created_ms) VALUES"
	" ('" LEG_A "', 'Altynkol', 'Aktau', 'KZ', 'movement', 'rail', 3200, 84, 120, 240, 0),"
	" ('" LEG_B "', 'Alat', 'Baku', 'AZ', 'port', 'sea', 1, 1, 24, 48, 0)"
	" ON CONFLICT (code) DO UPDATE SET mode = excluded.mode";

/* What a writer runs for one update: the corridor-wide claim of (carrier,
 * seq) first, the event only if the claim was made. */
static const char store_sql[] =
	"WITH claim AS (INSERT INTO update_seqs (carrier, seq, leg) VALUES ($1, $2::bigint, $3)"
	" ON CONFLICT DO NOTHING RETURNING carrier, seq, leg)"
	" INSERT INTO events (leg, carrier, seq, message_id, event_class, classifier,"
	" event_code, event_time_ms, record_time_ms, node, direction, unit, unit_teu,"
	" unit_containers) SELECT leg, carrier, seq, 'm-' || seq, 1, 1, 1, 1780000000000,"
	" 1780000000000, 'ALK', 'W', 'CSQU3054383', 2, 1 FROM claim";

/* Rows stored by store_sql, or -1 with err filled. */
static int
store_update(struct pg_db *db, const char *carrier, const char *seq, const char *leg,
    struct store_error *err)
{
	const char *params[3] = { carrier, seq, leg };
	PGresult *res = PQexecParams(pg_db_conn(db), store_sql, 3, NULL, params, NULL, NULL, 0);
	int n = -1;

	if (pg_db_check(db, res, PGRES_COMMAND_OK, "storing", err) == 0)
		n = atoi(PQcmdTuples(res));
	PQclear(res);
	return n;
}

static void
test_leg_partitions(void **state)
{
	struct store_error err;
	struct pg_db *db;
	PGconn *c;

	(void)state;
	make_db("t_legs");
	db = open_db("t_legs");
	migrate_ok(db);
	c = raw_connect("t_legs");
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass"), 0);
	/* adding a leg adds its partition, once, whatever the name's characters */
	assert_int_equal(pg_db_exec(db, add_legs_sql, &err), 0);
	assert_int_equal(pg_db_exec(db, add_legs_sql, &err), 0);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass AND inhrelid IN"
	    " ('\"events_" LEG_A "\"'::regclass, '\"events_" LEG_B "\"'::regclass)"), 2);
	assert_int_equal(pg_db_exec(db, "SELECT corridor_add_leg_partition('" LEG_A "')", &err),
	    0);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass"), 2);

	/* an update lands in its leg's partition; a leg never added has none */
	assert_int_equal(store_update(db, "KTZ", "1", LEG_A, &err), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_" LEG_A "\""), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_" LEG_B "\""), 0);
	assert_int_equal(store_update(db, "KTZ", "2", "NO-SUCH-LEG", &err), -1);
	assert_int_equal(err.kind, STORE_CORRUPT);
	assert_non_null(strstr(err.message, "23514"));
	/* the failed statement took its claim with it */
	assert_int_equal(raw_int(c, "SELECT count(*) FROM update_seqs WHERE seq = 2"), 0);
	/* a partition added later, for a leg added later */
	assert_int_equal(pg_db_exec(db, "INSERT INTO legs VALUES ('AZ-RAIL-BAK-BTK', 'Baku',"
	    " 'Akhalkalaki', 'AZ', 'movement', 'rail', 500, 10, 24, 48, 0)", &err), 0);
	assert_int_equal(store_update(db, "ADY", "1", "AZ-RAIL-BAK-BTK", &err), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_AZ-RAIL-BAK-BTK\""), 1);
	PQfinish(c);
	pg_db_free(db);
}

/* Two daemons starting together on an empty database, both adding the
 * same legs: both succeed, each leg has one partition. */
static void
test_legs_two_at_once(void **state)
{
	PGconn *c;

	(void)state;
	two_at_once("t_legs2", add_legs_sql);
	c = raw_connect("t_legs2");
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass"), 2);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM legs"), 2);
	PQfinish(c);
}

/* (carrier, seq) is unique across the corridor: the same pair on another
 * leg is not stored, neither through the claim nor around it. */
static void
test_carrier_seq_unique_across_legs(void **state)
{
	struct store_error err;
	struct pg_db *db;
	PGconn *c;

	(void)state;
	make_db("t_unique");
	db = open_db("t_unique");
	migrate_ok(db);
	assert_int_equal(pg_db_exec(db, add_legs_sql, &err), 0);
	c = raw_connect("t_unique");

	assert_int_equal(store_update(db, "KTZ", "7", LEG_A, &err), 1);
	/* a resend on the same leg, and the same pair on the other leg */
	assert_int_equal(store_update(db, "KTZ", "7", LEG_A, &err), 0);
	assert_int_equal(store_update(db, "KTZ", "7", LEG_B, &err), 0);
	/* another carrier's seq 7, and KTZ's seq 8, are theirs */
	assert_int_equal(store_update(db, "ADY", "7", LEG_B, &err), 1);
	assert_int_equal(store_update(db, "KTZ", "8", LEG_B, &err), 1);

	/* around the claim: the event without one, a second claim */
	assert_int_equal(pg_db_exec(db, "INSERT INTO events (leg, carrier, seq, message_id,"
	    " event_class, classifier, event_code, event_time_ms, record_time_ms, node,"
	    " direction, unit, unit_teu, unit_containers) VALUES ('" LEG_B "', 'KTZ', 7, 'x',"
	    " 1, 1, 1, 0, 0, 'BAK', 'W', 'CSQU3054383', 2, 1)", &err), -1);
	assert_int_equal(err.kind, STORE_CONFLICT);
	assert_non_null(strstr(err.message, "23503"));
	assert_int_equal(pg_db_exec(db, "INSERT INTO update_seqs VALUES ('KTZ', 7, '" LEG_B "')",
	    &err), -1);
	assert_int_equal(err.kind, STORE_CONFLICT);
	assert_non_null(strstr(err.message, "23505"));
	/* nor by moving a stored event to another leg's claim */
	assert_int_equal(pg_db_exec(db, "UPDATE update_seqs SET leg = '" LEG_B "'"
	    " WHERE carrier = 'KTZ' AND seq = 7", &err), -1);

	assert_int_equal(raw_int(c, "SELECT count(*) FROM events WHERE carrier = 'KTZ'"
	    " AND seq = 7"), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_" LEG_A "\""
	    " WHERE carrier = 'KTZ' AND seq = 7"), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM events"), 3);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM update_seqs"), 3);
	PQfinish(c);
	pg_db_free(db);
}

/*
 * Every SELECT of the SQLite backend (sqlite_reader.c; the writer's in
 * leg_store.c, rollup_store.c, leg_retention.c, catalog.c), with the leg
 * made a column, has its index here: with sequential scans priced out and
 * a leg's worth of rows, its plan uses that index (a partition's own index
 * is named by the partitioned one it belongs to). The rejections' count by
 * time is left out: SQLite scans that table too.
 */
static const struct {
	const char *sql;
	const char *index;	/* the index it must use ('|': any of them) */
} indexed_sql[] = {
	/* sqlite_reader.c */
	{ "SELECT n, sum_ms, hist FROM transit_hourly WHERE leg = 'L' AND hour_ms >= 0"
	    " AND hour_ms < 9 AND direction = 'W' AND carrier = 'K'",
	    "transit_hourly_pkey" },
	{ "SELECT unit, duration_ms, plan_ms FROM traversals WHERE leg = 'L' AND exit_time_ms >= 0"
	    " AND exit_time_ms < 9 AND direction = 'W' AND carrier = 'K'",
	    "traversals_by_exit" },
	{ "SELECT max(enter_time_ms) FROM traversals WHERE leg = 'L' AND unit = 'U'"
	    " AND direction = 'W' AND enter_time_ms <= 9",
	    "traversals_pkey" },
	{ "SELECT 1 FROM traversals WHERE leg = 'L' AND unit = 'U' AND direction = 'W'"
	    " AND enter_time_ms >= 9 LIMIT 1",
	    "traversals_pkey" },
	{ "SELECT unit, teu FROM traversals WHERE leg = 'L' AND exit_time_ms IS NULL"
	    " ORDER BY enter_time_ms, unit",
	    "traversals_open" },
	{ "SELECT direction, enter_time_ms FROM traversals WHERE leg = 'L' AND unit = 'U'",
	    "traversals_pkey" },
	{ "SELECT e.direction, e.event_time_ms, e.event_code FROM events AS e WHERE e.leg = 'L'"
	    " AND e.unit = 'U' AND e.classifier = 1 AND e.retracted = 0 AND NOT EXISTS (SELECT 1"
	    " FROM traversals AS t WHERE t.leg = e.leg AND t.unit = e.unit"
	    " AND t.direction = e.direction AND t.exit_time_ms = e.event_time_ms)"
	    " ORDER BY e.direction, e.event_time_ms",
	    "events_by_unit" },
	{ "SELECT 1 FROM events WHERE leg = 'L' AND unit = 'U' LIMIT 1",
	    "events_by_unit" },
	{ "SELECT hour_ms, units FROM volume_hourly WHERE leg = 'L' AND hour_ms >= 0"
	    " AND hour_ms < 9 AND direction = 'W'",
	    "volume_hourly_pkey" },
	{ "SELECT first_enter_ms, kind FROM conveyances WHERE leg = 'L' AND first_enter_ms >= 0"
	    " AND first_enter_ms < 9 AND direction = 'W'",
	    "conveyances_by_time" },
	{ "SELECT unit, direction, event_time_ms FROM events WHERE leg = 'L'"
	    " AND event_code IN (10, 11) AND event_code = 10 AND classifier = 1 AND retracted = 0"
	    " AND event_time_ms >= 0 AND event_time_ms < 9",
	    "events_holds" },
	{ "SELECT min(event_time_ms) FROM events WHERE leg = 'L' AND unit = 'U' AND direction = 'W'"
	    " AND event_time_ms >= 0 AND event_code = 11 AND classifier = 1 AND retracted = 0",
	    "events_by_unit" },
	{ "SELECT delay_reason, unit FROM events WHERE leg = 'L' AND delay_reason IS NOT NULL"
	    " AND retracted = 0 AND event_time_ms >= 0 AND event_time_ms < 9",
	    "events_delayed" },
	{ "SELECT carrier, updates, lag_hist FROM quality_hourly WHERE leg = 'L' AND hour_ms >= 0"
	    " AND hour_ms < 9",
	    "quality_hourly_pkey" },
	{ "SELECT carrier, sum(n) FROM duplicates_hourly WHERE hour_ms >= 0 AND hour_ms < 9"
	    " AND carrier = 'K' GROUP BY carrier",
	    "duplicates_hourly_pkey" },
	{ "SELECT 1 FROM carriers WHERE code = 'K'",
	    "carriers_pkey" },
	/* the writer's re-pairing, retractions, rollups and retention */
	{ "SELECT id, event_time_ms, classifier, record_time_ms FROM events WHERE leg = 'L'"
	    " AND unit = 'U' AND direction = 'W' AND retracted = 0 ORDER BY event_time_ms, id",
	    "events_by_unit" },
	{ "UPDATE events SET retracted = 1 WHERE leg = 'L' AND message_id = 'M' AND carrier = 'K'"
	    " AND retracted = 0 RETURNING unit, direction",
	    "events_by_message" },
	{ "SELECT 1 FROM events WHERE leg = 'L' AND retracts_message_id = 'M' AND carrier = 'K'"
	    " LIMIT 1",
	    "events_retracting" },
	{ "SELECT message_id, node FROM events WHERE leg = 'L' AND carrier = 'K' AND seq = 1",
	    "events_leg_carrier_seq_key" },
	{ "SELECT enter_time_ms, vessel_call FROM traversals WHERE leg = 'L' AND unit = 'U'"
	    " AND direction = 'W' ORDER BY enter_time_ms",
	    "traversals_pkey" },
	{ "SELECT min(duration_ms), max(duration_ms) FROM traversals WHERE leg = 'L'"
	    " AND exit_time_ms >= 0 AND exit_time_ms < 9 AND direction = 'W' AND carrier = 'K'",
	    "traversals_by_exit" },
	{ "SELECT count(*), min(enter_time_ms) FROM traversals WHERE leg = 'L' AND train_id = 'T'"
	    " AND direction = 'W'",
	    "traversals_by_train" },
	{ "SELECT count(*), min(enter_time_ms) FROM traversals WHERE leg = 'L'"
	    " AND vessel_call = 'V' AND direction = 'W'",
	    "traversals_by_vessel" },
	{ "SELECT units FROM conveyances WHERE leg = 'L' AND kind = 'T' AND ident = 'T'"
	    " AND direction = 'W'",
	    "conveyances_pkey" },
	{ "SELECT updates FROM quality_hourly WHERE leg = 'L' AND hour_ms = 0 AND carrier = 'K'",
	    "quality_hourly_pkey" },
	{ "SELECT value FROM rollup_meta WHERE leg = 'L' AND key = 'typical_ms'",
	    "rollup_meta_pkey" },
	/* retention's cursor over units, in steps (leg_retention.c) */
	{ "SELECT unit, direction FROM events WHERE leg = 'L' AND (unit, direction) > ('U', 'W')"
	    " GROUP BY unit, direction HAVING max(event_time_ms) < 9 ORDER BY unit, direction"
	    " LIMIT 100",
	    "events_by_unit" },
	/* the catalog: a carrier's stored sequence numbers, corridor-wide */
	{ "SELECT seq FROM update_seqs WHERE carrier = 'K' AND seq > 0 AND seq <= 9",
	    "update_seqs_pkey|update_seqs_carrier_seq_leg_key" },
	{ "SELECT seq FROM rejections WHERE carrier = 'K' AND seq > 0",
	    "rejections_pkey" },
};

/* A leg's worth of rows for the planner to choose by: 2,000 units, a
 * hold or release in ten events, a delay in fifty, a retraction in a
 * hundred; a traversal in ten open, trains and vessels on some; rollups
 * over a thousand hours. Times start well after the queries' ranges. */
static const char index_rows_sql[] =
	"INSERT INTO update_seqs SELECT 'K', g, 'L' FROM generate_series(1, 20000) g;"
	"INSERT INTO events (leg, carrier, seq, message_id, event_class, classifier, event_code,"
	" event_time_ms, record_time_ms, node, direction, unit, delay_reason,"
	" retracts_message_id, unit_teu, unit_containers)"
	" SELECT 'L', 'K', g, 'm' || g, 1, 1 + g % 3,"
	" CASE g % 20 WHEN 0 THEN 10 WHEN 1 THEN 11 ELSE 1 + g % 7 END, 100000 + g * 1000,"
	" 100000 + g * 1000, 'N', CASE g % 2 WHEN 0 THEN 'W' ELSE 'E' END, 'U' || g % 2000,"
	" CASE WHEN g % 50 = 0 THEN 'late' END, CASE WHEN g % 100 = 0 THEN 'm' || g - 1 END,"
	" 2, 1 FROM generate_series(1, 20000) g;"
	"INSERT INTO traversals (leg, unit, direction, enter_time_ms, exit_time_ms, duration_ms,"
	" carrier, teu, containers, gross_kg, train_id, vessel_call)"
	" SELECT 'L', 'U' || g % 2000, CASE g % 2 WHEN 0 THEN 'W' ELSE 'E' END, 100000 + g * 1000,"
	" CASE WHEN g % 10 <> 0 THEN 100500 + g * 1000 END, CASE WHEN g % 10 <> 0 THEN 500 END,"
	" 'K' || g % 5, 2, 1, 0, CASE WHEN g % 5 = 0 THEN 'T' || g % 50 END,"
	" CASE WHEN g % 7 = 0 THEN 'V' || g % 30 END FROM generate_series(1, 20000) g;"
	"INSERT INTO transit_hourly SELECT 'L', 3600000::bigint * (100 + g / 10), d, 'K' || g % 10, 1, 1,"
	" 1, 1, 1, 0, 0, 0, 0, 2, 1, 0, '' FROM generate_series(1, 10000) g,"
	" (VALUES ('W'), ('E')) v(d);"
	"INSERT INTO volume_hourly SELECT 'L', 3600000::bigint * (100 + g / 10), d, 'K' || g % 10, 1, 2,"
	" 1, 0 FROM generate_series(1, 10000) g, (VALUES ('W'), ('E')) v(d);"
	"INSERT INTO quality_hourly SELECT 'L', 3600000::bigint * (100 + g / 10), 'K' || g % 10, 1, 0, 0,"
	" '', 0, 0, 0, 0, 0 FROM generate_series(1, 10000) g;"
	"INSERT INTO conveyances SELECT 'L', 'T', 'T' || g, d, 100000 + g * 1000, 'K', 3"
	" FROM generate_series(1, 5000) g, (VALUES ('W'), ('E')) v(d);"
	"INSERT INTO carriers SELECT 'K' || g, 0, 0 FROM generate_series(1, 1000) g;"
	"INSERT INTO duplicates_hourly SELECT 'K' || g % 100, 3600000::bigint * (100 + g / 100), 1"
	" FROM generate_series(1, 10000) g;"
	"INSERT INTO rejections SELECT 'K' || g % 100, g, 1, '', g FROM generate_series(1, 10000) g;"
	"INSERT INTO rollup_meta VALUES ('L', 'typical_ms', 1), ('L', 'derived', 3);"
	"ANALYZE";

/* Whether plan (EXPLAIN's lines, one string) uses one of want ('|'
 * between names), a partition's index counting as its parent's. */
static bool
plan_uses(PGconn *c, const char *plan, const char *want)
{
	static const char parent_sql[] = "SELECT coalesce((SELECT p.relname FROM pg_inherits i"
	    " JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = x.oid), x.relname)"
	    " FROM pg_class x WHERE x.relname = $1";
	static const char *const marks[] = { "Scan using ", "Bitmap Index Scan on " };

	for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
	for (const char *at = plan; (at = strstr(at, marks[m])) != NULL; ) {
		char name[PLAN_NAME_MAX], *q;
		const char *params[1] = { name };
		PGresult *res;
		bool found = false;

		at += strlen(marks[m]);
		snprintf(name, sizeof name, "%.*s", (int)strcspn(at, " "), at);
		/* a quoted identifier (a partition's: "events_L_..._idx") */
		if (name[0] == '"') {
			memmove(name, name + 1, strlen(name));
			if ((q = strchr(name, '"')) != NULL)
				*q = '\0';
		}
		res = PQexecParams(c, parent_sql, 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			const char *parent = PQgetvalue(res, 0, 0), *w = want;
			size_t n = strlen(parent);

			for (; *w != '\0'; w += strcspn(w, "|"), w += *w == '|')
				if (strcspn(w, "|") == n && strncmp(w, parent, n) == 0)
					found = true;
		}
		PQclear(res);
		if (found)
			return true;
	}
	return false;
}

static void
test_indexes(void **state)
{
	char sql[1024], plan[4096];
	struct pg_db *db;
	struct store_error err;
	PGresult *res;
	PGconn *c;

	(void)state;
	make_db("t_indexes");
	db = open_db("t_indexes");
	migrate_ok(db);
	assert_int_equal(pg_db_exec(db, "INSERT INTO legs VALUES ('L', 'a', 'b', 'KZ', 'movement',"
	    " 'rail', 1, 1, 1, 1, 0)", &err), 0);
	if (pg_db_exec(db, index_rows_sql, &err) == -1)
		fail_msg("filling: %s", err.message);
	pg_db_free(db);
	c = raw_connect("t_indexes");
	raw_exec(c, "SET enable_seqscan = off");
	for (size_t i = 0; i < sizeof indexed_sql / sizeof indexed_sql[0]; i++) {
		snprintf(sql, sizeof sql, "EXPLAIN %s", indexed_sql[i].sql);
		res = PQexec(c, sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", indexed_sql[i].sql, PQerrorMessage(c));
		plan[0] = '\0';
		for (int r = 0; r < PQntuples(res); r++) {
			strncat(plan, PQgetvalue(res, r, 0), sizeof plan - strlen(plan) - 2);
			strcat(plan, "\n");
		}
		PQclear(res);
		if (!plan_uses(c, plan, indexed_sql[i].index))
			fail_msg("%s\n  does not use %s:\n%s", indexed_sql[i].sql,
			    indexed_sql[i].index, plan);
	}
	PQfinish(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leg_partitions),
		cmocka_unit_test(test_legs_two_at_once),
		cmocka_unit_test(test_carrier_seq_unique_across_legs),
		cmocka_unit_test(test_indexes),
	};
	int rc;

	if ((rc = pg_fixture_init()) != 0)
		return rc;
	return UNIT_RUN(tests);
}
