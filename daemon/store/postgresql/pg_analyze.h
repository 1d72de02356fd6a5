/*
 * The planner's statistics of tables that are still growing fast, kept by
 * the writers (pg_writer.c). PostgreSQL plans every statement from the
 * statistics ANALYZE last took; autovacuum takes them again only once a
 * table has changed by a tenth, and looks at most once a naptime (a
 * minute). A leg's events partition that is new, or small beside what is
 * arriving, is planned meanwhile as if it held a few rows: the writer's
 * re-pairing read then scans the whole partition for every unit of a batch
 * (measured: 59 ms a transaction at 10,000 events a leg, growing with the
 * leg, against 1.2 ms once analysed). So a writer analyses a table itself
 * each time the rows it added have doubled it, while the table is below
 * limits' pg_analyze_until_rows; above that, autovacuum's own analyze is
 * soon enough. The doublings make it a few ANALYZEs per table in all.
 */
#ifndef CORRIDOR_PG_ANALYZE_H
#define CORRIDOR_PG_ANALYZE_H

#include <stdint.h>

#include "pg_db.h"

/* One table (or a set analysed together) a writer adds rows to. */
struct pg_growth {
	const char *tables;	/* the ANALYZE list: identifiers, quoted where needed */
	const char *measured;	/* the one whose size counts (pg_class.reltuples) */
	double rows;		/* its rows when last analysed, as the server says */
	int64_t added;		/* rows this writer added since */
	int read;		/* 1: rows has been read from the server */
};

/* After a committed transaction that added added rows to g's tables:
 * ANALYZE them when they have doubled since they were last analysed and
 * are below until rows (0: never). On db, outside any transaction; a
 * failure is logged, not returned (statistics only make plans better). */
void pg_growth_note(struct pg_db *db, struct pg_growth *g, int64_t added, int64_t until);

#endif
