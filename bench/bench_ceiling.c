/*
 * The single-file ceiling: the benchmark's rows inserted in-process into one
 * leg database (same schema, indexes and INSERT as corridord) by one thread
 * with a prepared statement in large transactions. The fastest SQLite itself
 * stores these rows on this machine.
 * usage: bench_ceiling FILE ROWS [CARRIERS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"
#include "leg_store.h"
#include "timeutil.h"
#include "update_rec.h"

#include "bench_rows.h"

#define CEILING_TXN_ROWS 50000

extern const char *const leg_migrations[];
extern const size_t leg_migrations_count;

int
main(int argc, char **argv)
{
	struct leg_table legs = { .count = 0 };
	struct bench_update b;
	sqlite3 *db;
	sqlite3_stmt *st;
	char err[256];
	uint64_t rows, carriers = 16;
	int64_t base = time_now_ms() - 40LL * 86400 * 1000, t0, t1;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_ceiling FILE ROWS [CARRIERS]\n");
		return 2;
	}
	rows = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		carriers = strtoull(argv[3], NULL, 10);
	/* the same SQLite configuration as corridord */
	if (db_global_init() == -1 || legs_load_default(&legs, err, sizeof err) == -1 ||
	    (db = db_open_rw(argv[1], STORE_SYNC_FULL, leg_migrations, leg_migrations_count, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "bench_ceiling: %s\n", err);
		return 1;
	}
	if (sqlite3_prepare_v2(db, leg_store_insert_event_sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_ceiling: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	t0 = time_mono_ms();
	for (uint64_t n = 0; n < rows;) {
		db_exec(db, "BEGIN", err, sizeof err);
		for (uint64_t end = n + CEILING_TXN_ROWS; n < rows && n < end; n++) {
			struct update_rec *r;

			/* the same interleaving of carriers as the load generator */
			bench_make_update(&b, &legs, (unsigned)(n % carriers), n / carriers, 1, base);
			r = update_rec_new(&b.u, 0, base);
			leg_store_bind_event(st, r);
			if (sqlite3_step(st) != SQLITE_DONE) {
				fprintf(stderr, "bench_ceiling: %s\n", sqlite3_errmsg(db));
				return 1;
			}
			sqlite3_reset(st);
			free(r);
		}
		if (db_exec(db, "COMMIT", err, sizeof err) == -1) {
			fprintf(stderr, "bench_ceiling: %s\n", err);
			return 1;
		}
		if (isatty(2))
			fprintf(stderr, "\rceiling: %llu / %llu rows", (unsigned long long)n,
			    (unsigned long long)rows);
	}
	t1 = time_mono_ms();
	if (isatty(2))
		fprintf(stderr, "\n");
	printf("ceiling: rows=%llu seconds=%.2f rows_per_s=%.0f\n", (unsigned long long)rows,
	    (t1 - t0) / 1000.0, rows * 1000.0 / (double)(t1 - t0 > 0 ? t1 - t0 : 1));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}
