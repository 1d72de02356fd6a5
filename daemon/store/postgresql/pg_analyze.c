/* Statistics of young tables; see pg_analyze.h. */
#include "pg_analyze.h"

#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "log.h"
#include "pg_store.h"

/* Fewer rows than this are not worth a statement: any plan is fast. */
#define PG_ANALYZE_FIRST_ROWS 1000

/* The table's rows as of its last ANALYZE (or VACUUM, or CREATE INDEX):
 * pg_class.reltuples, -1 when it never had one. */
static int
read_rows(struct pg_db *db, struct pg_growth *g)
{
	struct store_error err;
	const char *p[1] = { g->table };
	PGresult *res = pg_store_exec(db, "reading a table's size",
	    "SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)", 1, p, PGRES_TUPLES_OK,
	    &err);

	if (res == NULL) {
		log_warnx("postgresql statistics of %s: %s", g->table, err.message);
		return -1;
	}
	g->rows = PQntuples(res) == 1 ? strtod(PQgetvalue(res, 0, 0), NULL) : 0;
	if (g->rows < 0)
		g->rows = 0;	/* never analysed */
	g->read = true;
	PQclear(res);
	return 0;
}

void
pg_growth_note(struct pg_db *db, struct pg_growth *g, int64_t added, int64_t until)
{
	char sql[1024];
	struct store_error err;
	double now;
	PGresult *res;

	if (until <= 0 || added <= 0)
		return;
	g->added += added;
	if (!g->read && read_rows(db, g) == -1)
		return;
	now = g->rows + (double)g->added;
	if (g->rows >= (double)until || now < PG_ANALYZE_FIRST_ROWS || now < 2 * g->rows)
		return;
	if (snprintf(sql, sizeof sql, "ANALYZE %s", g->table) >= (int)sizeof sql)
		return;
	res = pg_store_exec(db, "analysing", sql, 0, NULL, PGRES_COMMAND_OK, &err);
	if (res == NULL) {
		log_warnx("postgresql statistics of %s: %s", g->table, err.message);
		/* not again before the next doubling: a failing ANALYZE (a table
		 * another role owns) must not cost every transaction */
	} else
		log_debug("postgresql statistics of %s taken at about %.0f rows", g->table, now);
	PQclear(res);
	g->rows = now;
	g->added = 0;
}
