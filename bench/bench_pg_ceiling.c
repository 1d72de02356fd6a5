/*
 * The PostgreSQL ceiling: the benchmark's rows (bench_rows.c, the same the
 * load generator sends) copied into corridor's PostgreSQL schema with COPY
 * by one connection in large transactions, each row's corridor-wide claim
 * (update_seqs) and its event, nothing derived. The fastest this server
 * takes these rows in; bench/run.sh --store postgresql sets corridord's
 * rate against it. The database must have the schema and the legs
 * (corridord --init-store).
 * usage: bench_pg_ceiling CONNINFO ROWS [CARRIERS]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "timeutil.h"
#include "update_rec.h"

#include "bench_rows.h"

#define CEILING_TXN_ROWS 50000
#define LINE_MAX_BYTES 4096

static const char events_copy[] =
	"COPY events (leg, carrier, seq, message_id, event_class, classifier, event_code,"
	" event_time_ms, record_time_ms, node, locode, direction, mode, unit, train_id,"
	" wagon_id, vessel_imo, voyage, truck_plate, container, iso_type, empty, gross_kg, teu,"
	" container_count, delay_reason, remark, next_eta_ms, retracts_message_id, unit_teu,"
	" unit_containers) FROM STDIN";

static void
die(PGconn *c, const char *what)
{
	fprintf(stderr, "bench_pg_ceiling: %s: %s", what, c != NULL ? PQerrorMessage(c) : "\n");
	exit(1);
}

static void
exec_ok(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != want)
		die(c, sql);
	PQclear(res);
}

/* Appends one text-format field (NULL: \N) and its separator. */
static void
field(char *line, size_t *o, const char *v, char sep)
{
	if (v == NULL) {
		*o += (size_t)snprintf(line + *o, LINE_MAX_BYTES - *o, "\\N%c", sep);
		return;
	}
	for (; *v != '\0' && *o + 4 < LINE_MAX_BYTES; v++) {
		if (*v == '\\' || *v == '\t' || *v == '\n' || *v == '\r')
			line[(*o)++] = '\\';
		line[(*o)++] = *v == '\t' ? 't' : *v == '\n' ? 'n' : *v == '\r' ? 'r' : *v;
	}
	line[(*o)++] = sep;
	line[*o] = '\0';
}

static void
num(char *line, size_t *o, int64_t v, int present, char sep)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	field(line, o, present ? buf : NULL, sep);
}

static void
put(PGconn *c, const char *line, size_t len)
{
	if (PQputCopyData(c, line, (int)len) != 1)
		die(c, "PQputCopyData");
}

static void
end_copy(PGconn *c)
{
	PGresult *res;

	if (PQputCopyEnd(c, NULL) != 1)
		die(c, "PQputCopyEnd");
	while ((res = PQgetResult(c)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			die(c, "COPY");
		PQclear(res);
	}
}

int
main(int argc, char **argv)
{
	struct leg_table legs = { .count = 0 };
	struct bench_update b;
	char err[256], line[LINE_MAX_BYTES], dir[2] = { 0, 0 };
	uint64_t rows, carriers = 16;
	int64_t base = time_now_ms() - 40LL * 86400 * 1000, t0, t1;
	PGconn *c;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_pg_ceiling CONNINFO ROWS [CARRIERS]\n");
		return 2;
	}
	rows = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		carriers = strtoull(argv[3], NULL, 10);
	if (legs_load_default(&legs, err, sizeof err) == -1) {
		fprintf(stderr, "bench_pg_ceiling: %s\n", err);
		return 1;
	}
	if (PQstatus(c = PQconnectdb(argv[1])) != CONNECTION_OK)
		die(c, "connecting");
	t0 = time_mono_ms();
	for (uint64_t n = 0; n < rows;) {
		uint64_t first = n, end = n + CEILING_TXN_ROWS < rows ? n + CEILING_TXN_ROWS : rows;

		exec_ok(c, "BEGIN", PGRES_COMMAND_OK);
		/* the claims first: events reference them */
		exec_ok(c, "COPY update_seqs (carrier, seq, leg) FROM STDIN", PGRES_COPY_IN);
		for (n = first; n < end; n++) {
			size_t o = 0;

			bench_make_update(&b, &legs, (unsigned)(n % carriers), n / carriers, 1, base);
			field(line, &o, b.u.carrier, '\t');
			num(line, &o, (int64_t)b.u.seq, 1, '\t');
			field(line, &o, b.u.leg, '\n');
			put(c, line, o);
		}
		end_copy(c);
		exec_ok(c, events_copy, PGRES_COPY_IN);
		for (n = first; n < end; n++) {
			struct update_rec *r;
			size_t o = 0;

			bench_make_update(&b, &legs, (unsigned)(n % carriers), n / carriers, 1, base);
			if ((r = update_rec_new(&b.u, 0, base)) == NULL)
				die(NULL, "out of memory");
			dir[0] = r->direction;
			field(line, &o, r->leg, '\t');
			field(line, &o, r->carrier_code, '\t');
			num(line, &o, (int64_t)r->seq, 1, '\t');
			field(line, &o, r->message_id, '\t');
			num(line, &o, r->event_class, 1, '\t');
			num(line, &o, r->classifier, 1, '\t');
			num(line, &o, r->event_code, 1, '\t');
			num(line, &o, r->event_time_ms, 1, '\t');
			num(line, &o, r->record_time_ms, 1, '\t');
			field(line, &o, r->node, '\t');
			field(line, &o, r->locode, '\t');
			field(line, &o, dir, '\t');
			num(line, &o, r->mode, r->mode != 0, '\t');
			field(line, &o, r->unit, '\t');
			field(line, &o, r->train_id, '\t');
			field(line, &o, r->wagon_id, '\t');
			field(line, &o, r->vessel_imo, '\t');
			field(line, &o, r->voyage, '\t');
			field(line, &o, r->truck_plate, '\t');
			field(line, &o, r->container, '\t');
			field(line, &o, r->iso_type, '\t');
			num(line, &o, r->empty, r->has_empty, '\t');
			num(line, &o, r->gross_kg, r->gross_kg >= 0, '\t');
			num(line, &o, r->teu, r->teu >= 0, '\t');
			num(line, &o, r->container_count, r->container_count >= 0, '\t');
			field(line, &o, r->delay_reason, '\t');
			field(line, &o, r->remark, '\t');
			num(line, &o, r->next_eta_ms, r->has_next_eta, '\t');
			field(line, &o, r->retracts, '\t');
			num(line, &o, r->unit_teu, 1, '\t');
			num(line, &o, r->unit_containers, 1, '\n');
			put(c, line, o);
			free(r);
		}
		end_copy(c);
		exec_ok(c, "COMMIT", PGRES_COMMAND_OK);
		if (isatty(2))
			fprintf(stderr, "\rpg ceiling: %llu / %llu rows", (unsigned long long)n,
			    (unsigned long long)rows);
	}
	t1 = time_mono_ms();
	if (isatty(2))
		fprintf(stderr, "\n");
	printf("pg-ceiling: rows=%llu seconds=%.2f rows_per_s=%.0f\n", (unsigned long long)rows,
	    (t1 - t0) / 1000.0, rows * 1000.0 / (double)(t1 - t0 > 0 ? t1 - t0 : 1));
	PQfinish(c);
	return 0;
}
