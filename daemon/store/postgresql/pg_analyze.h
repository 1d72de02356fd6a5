/*
 * The planner's statistics of tables that are still growing fast, kept by
 * the writers (pg_writer.c). PostgreSQL plans every statement from the
 * statistics ANALYZE last took; autovacuum takes them again only once a
 * table has changed by a tenth, and looks at most once a naptime (a
 * minute). A leg's events partition that is new, or small beside what is
 * arriving, is planned meanwhile as if it held a few rows: the writer's
 * re-pairing read then scans the whole partition for every unit of a batch
 * (measured: 59 ms a transaction at 10,000 events a leg, growing with the
 * leg, against 1.2 ms once analysed; the earlier-retraction UPDATE scanned
 * it too). So a writer analyses a leg's partition itself each time the
 * rows it added have doubled it, while it is below limits'
 * pg_analyze_until_rows; above that, autovacuum's own analyze is soon
 * enough. The doublings make it a few ANALYZEs per leg in all. The derived
 * tables are left to autovacuum: one for all legs, read by key only, their
 * plans did not change with their statistics (measured).
 */
#ifndef CORRIDOR_PG_ANALYZE_H
#define CORRIDOR_PG_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "pg_db.h"

/* A table a writer adds rows to. */
struct pg_growth {
	const char *table;	/* its name as SQL has it (quoted where needed) */
	double rows;		/* its rows when last analysed, as the server says */
	int64_t added;		/* rows this writer added since */
	bool read;		/* rows has been read from the server */
};

/* After a committed transaction that added added rows to g's table:
 * ANALYZE it when it has doubled since it was last analysed and is below
 * until rows (0: never). On db, outside any transaction; a failure is
 * logged, not returned (statistics only make plans better). */
void pg_growth_note(struct pg_db *db, struct pg_growth *g, int64_t added, int64_t until);

#endif
