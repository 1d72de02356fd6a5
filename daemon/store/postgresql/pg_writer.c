/*
 * The PostgreSQL backend's writer handle (store_writer.h): one connection
 * per writer thread, the legs it was given by index. A batch of one leg is
 * one transaction under the leg's PG_STORE_LEG_LOCK, so however many
 * daemons write a leg, its writes are serialised and the shared derive
 * code's read-modify-write of traversals, rollups and conveyances is exact.
 *
 * A batch: the corridor-wide claims of the fresh updates in one statement
 * (update_seqs, schema/postgresql/002_events.sql), the events of the claims
 * made in one statement, the others compared with what the leg holds in one
 * statement, then retractions and re-pairing as the SQLite store does
 * (daemon/store/sqlite/leg_store.c), with the same result per update.
 * Retention's transactions are pg_retention.c's.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_writer_internal.h"
#include "timeutil.h"

/* Tries of a transaction that failed on a serialization failure or a
 * deadlock (SQLSTATE 40001, 40P01), which a new try usually gets through;
 * then the batch fails, retryable. */
#define PG_WRITER_TX_TRIES 4
/* The generated batch statements (insert, compare) fit in this. */
#define PG_EVENTS_SQL_MAX 8192

/* ------------------------------------------------------------ event columns */

/* The columns of an event a batch passes, one array each. EC_ID is the
 * event's id when inserting, the update's place in the batch when comparing. */
enum ev_col {
	EC_ID, EC_CARRIER, EC_SEQ, EC_MESSAGE_ID, EC_EVENT_CLASS, EC_CLASSIFIER,
	EC_EVENT_CODE, EC_EVENT_TIME, EC_RECORD_TIME, EC_NODE, EC_LOCODE, EC_DIRECTION,
	EC_MODE, EC_UNIT, EC_TRAIN_ID, EC_WAGON_ID, EC_VESSEL_IMO, EC_VOYAGE,
	EC_TRUCK_PLATE, EC_CONTAINER, EC_ISO_TYPE, EC_EMPTY, EC_GROSS_KG, EC_TEU,
	EC_CONTAINER_COUNT, EC_DELAY_REASON, EC_REMARK, EC_NEXT_ETA, EC_RETRACTS,
	EC_UNIT_TEU, EC_UNIT_CONTAINERS, EC_COUNT
};

/* same: compared when a (carrier, seq) is stored already (ST_SAME_EVENT of
 * leg_store.c: what the carrier sent, not the record time nor what is
 * derived from it) */
static const struct {
	const char *name, *type;
	bool same;
} ev_cols[EC_COUNT] = {
	[EC_ID] = { "id", "bigint", false },
	[EC_CARRIER] = { "carrier", "text", false },
	[EC_SEQ] = { "seq", "bigint", false },
	[EC_MESSAGE_ID] = { "message_id", "text", true },
	[EC_EVENT_CLASS] = { "event_class", "integer", true },
	[EC_CLASSIFIER] = { "classifier", "integer", true },
	[EC_EVENT_CODE] = { "event_code", "integer", true },
	[EC_EVENT_TIME] = { "event_time_ms", "bigint", true },
	[EC_RECORD_TIME] = { "record_time_ms", "bigint", false },
	[EC_NODE] = { "node", "text", true },
	[EC_LOCODE] = { "locode", "text", true },
	[EC_DIRECTION] = { "direction", "text", true },
	[EC_MODE] = { "mode", "integer", true },
	[EC_UNIT] = { "unit", "text", true },
	[EC_TRAIN_ID] = { "train_id", "text", true },
	[EC_WAGON_ID] = { "wagon_id", "text", true },
	[EC_VESSEL_IMO] = { "vessel_imo", "text", true },
	[EC_VOYAGE] = { "voyage", "text", true },
	[EC_TRUCK_PLATE] = { "truck_plate", "text", true },
	[EC_CONTAINER] = { "container", "text", true },
	[EC_ISO_TYPE] = { "iso_type", "text", true },
	[EC_EMPTY] = { "empty", "integer", true },
	[EC_GROSS_KG] = { "gross_kg", "bigint", true },
	[EC_TEU] = { "teu", "bigint", true },
	[EC_CONTAINER_COUNT] = { "container_count", "bigint", true },
	[EC_DELAY_REASON] = { "delay_reason", "text", true },
	[EC_REMARK] = { "remark", "text", true },
	[EC_NEXT_ETA] = { "next_eta_ms", "bigint", true },
	[EC_RETRACTS] = { "retracts_message_id", "text", true },
	[EC_UNIT_TEU] = { "unit_teu", "bigint", false },
	[EC_UNIT_CONTAINERS] = { "unit_containers", "bigint", false },
};

static const char *
opt_int(char *num, int64_t v, bool present)
{
	if (!present)
		return NULL;
	snprintf(num, PG_INT_TEXT_MAX, "%" PRId64, v);
	return num;
}

/* Column col of r as text (NULL: SQL NULL), numbers into num. */
static const char *
ev_value(const struct update_rec *r, int col, int64_t id, char *num)
{
	static const char *const dirs[] = { "W", "E" };

	switch (col) {
	case EC_ID: return opt_int(num, id, true);
	case EC_CARRIER: return r->carrier_code;
	/* as SQLite binds it: the 64 bits as a signed integer */
	case EC_SEQ: return opt_int(num, (int64_t)r->seq, true);
	case EC_MESSAGE_ID: return r->message_id;
	case EC_EVENT_CLASS: return opt_int(num, r->event_class, true);
	case EC_CLASSIFIER: return opt_int(num, r->classifier, true);
	case EC_EVENT_CODE: return opt_int(num, r->event_code, true);
	case EC_EVENT_TIME: return opt_int(num, r->event_time_ms, true);
	case EC_RECORD_TIME: return opt_int(num, r->record_time_ms, true);
	case EC_NODE: return r->node;
	case EC_LOCODE: return r->locode;
	case EC_DIRECTION:
		if (r->direction == 'W' || r->direction == 'E')
			return dirs[r->direction == 'E'];
		num[0] = r->direction;
		num[1] = '\0';
		return num;
	case EC_MODE: return opt_int(num, r->mode, r->mode != 0);
	case EC_UNIT: return r->unit;
	case EC_TRAIN_ID: return r->train_id;
	case EC_WAGON_ID: return r->wagon_id;
	case EC_VESSEL_IMO: return r->vessel_imo;
	case EC_VOYAGE: return r->voyage;
	case EC_TRUCK_PLATE: return r->truck_plate;
	case EC_CONTAINER: return r->container;
	case EC_ISO_TYPE: return r->iso_type;
	case EC_EMPTY: return opt_int(num, r->empty, r->has_empty);
	case EC_GROSS_KG: return opt_int(num, r->gross_kg, r->gross_kg >= 0);
	case EC_TEU: return opt_int(num, r->teu, r->teu >= 0);
	case EC_CONTAINER_COUNT: return opt_int(num, r->container_count, r->container_count >= 0);
	case EC_DELAY_REASON: return r->delay_reason;
	case EC_REMARK: return r->remark;
	case EC_NEXT_ETA: return opt_int(num, r->next_eta_ms, r->has_next_eta);
	case EC_RETRACTS: return r->retracts;
	case EC_UNIT_TEU: return opt_int(num, r->unit_teu, true);
	case EC_UNIT_CONTAINERS: return opt_int(num, r->unit_containers, true);
	default: return NULL;
	}
}

/* ------------------------------------------------------------ array parameters */

static void
buf_add(struct pg_buf *b, const char *s, size_t n)
{
	if (b->nomem)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->nomem = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends an element (NULL: SQL NULL), quoted so that any text is itself. */
void
pg_arr_add(struct pg_buf *b, const char *v)
{
	buf_add(b, b->count == 0 ? "{" : ",", 1);
	b->count++;
	if (v == NULL) {
		buf_add(b, "NULL", 4);
		return;
	}
	buf_add(b, "\"", 1);
	for (const char *c = v; *c != '\0'; c++) {
		size_t run = strcspn(c, "\"\\");

		buf_add(b, c, run);
		c += run;
		if (*c == '\0')
			break;
		buf_add(b, "\\", 1);
		buf_add(b, c, 1);
	}
	buf_add(b, "\"", 1);
}

/* Appends one field of COPY's text format (NULL: \N) and then sep. */
static void
copy_add(struct pg_buf *b, const char *v, char sep)
{
	if (v == NULL)
		buf_add(b, "\\N", 2);
	for (const char *c = v; c != NULL && *c != '\0'; c++) {
		size_t run = strcspn(c, "\\\t\n\r");

		buf_add(b, c, run);
		c += run;
		if (*c == '\0')
			break;
		buf_add(b, *c == '\t' ? "\\t" : *c == '\n' ? "\\n" : *c == '\r' ? "\\r" : "\\\\",
		    2);
	}
	buf_add(b, &sep, 1);
}

/* The literal, "{}" when empty; NULL when out of memory. */
const char *
pg_arr_end(struct pg_buf *b)
{
	buf_add(b, b->count == 0 ? "{}" : "}", b->count == 0 ? 2 : 1);
	return b->nomem ? NULL : b->p;
}

void
pg_arr_free(struct pg_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------ the handle */

struct pg_writer {
	const struct pg_store *store;
	struct pg_db *db;
	struct pg_leg *legs[LEGS_MAX];
	char copy_sql[PG_EVENTS_SQL_MAX];	/* the events of the claims made */
	char same_sql[PG_EVENTS_SQL_MAX];	/* which stored events are the same */
};

static int64_t
typical_ms(const struct leg *leg)
{
	return (int64_t)(leg->typical_h * 3600000.0 + 0.5);
}

static struct pg_leg *
leg_new(const struct pg_store *s, struct pg_db *db, const struct leg *leg,
    struct store_error *err)
{
	struct pg_leg *l = calloc(1, sizeof *l);

	if (l == NULL || (l->derive = derive_new(leg->kind, leg->code, typical_ms(leg))) == NULL) {
		free(l);
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	l->store = s;
	l->db = db;
	snprintf(l->code, sizeof l->code, "%s", leg->code);
	/* the partition corridor_add_leg_partition names with %I: quoted, and a
	 * leg code (leg_code_valid: letters, digits, '-', '_') holds no quote */
	snprintf(l->events_table, sizeof l->events_table, "\"events_%s\"", leg->code);
	l->growth.table = l->events_table;
	l->kind = leg->kind;
	l->typical_ms = typical_ms(leg);
	return l;
}

static void
leg_free(struct pg_leg *l)
{
	if (l == NULL)
		return;
	derive_free(l->derive);
	pg_unit_cache_clear(l);
	pg_writes_drop(l);
	free(l->retain_after);
	free(l);
}

static bool
try_again(const char *sqlstate)
{
	return strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0;
}

/* BEGIN, the leg's lock, and the first id the transaction's events have
 * (read under the lock: every event of the leg stored before is below), in
 * one round trip. */
static int
begin_locked(struct pg_leg *l, int64_t *first_new_id)
{
	static const char *const what[] = { "beginning", "locking the leg",
		"reading the leg's last id" };
	static const ExecStatusType want[] = { PGRES_COMMAND_OK, PGRES_TUPLES_OK,
		PGRES_TUPLES_OK };
	char cls[PG_INT_TEXT_MAX], key[PG_INT_TEXT_MAX];
	const char *lock_p[2] = { cls, key }, *p[1] = { l->code };
	struct pg_db_stmt s[] = {
		{ "BEGIN", 0, NULL, NULL, NULL, NULL },
		{ "SELECT pg_advisory_xact_lock($1::int, $2::int)", 2, lock_p, NULL, NULL, NULL },
		/* a statement of its own: its snapshot is taken after the lock */
		{ "SELECT coalesce(max(id), 0) FROM events WHERE leg = $1", 1, p, NULL, NULL,
		    NULL },
	};
	const size_t n = sizeof s / sizeof s[0];
	const PGresult *last;
	int rc = -1;

	snprintf(cls, sizeof cls, "%d", PG_STORE_LEG_LOCK);
	snprintf(key, sizeof key, "%" PRId32, pg_store_leg_key(l->code));
	if (pg_leg_pipeline(l, s, what, want, n) == -1)
		goto done;
	last = s[n - 1].res;
	if (PQntuples(last) != 1 || PQnfields(last) != 1) {
		pg_leg_fail(l, STORE_CORRUPT, "no last id");
		goto done;
	}
	*first_new_id = pg_col_int(last, 0, 0, 0) + 1;
	rc = 0;
done:
	for (size_t i = 0; i < n; i++)
		PQclear(s[i].res);
	return rc;
}

/* Runs body in a transaction of l under the leg's lock, again after a
 * serialization failure or a deadlock (undo, when not NULL, forgets what a
 * failed try left in arg). 0, or -1 with l->err. A lost connection is not
 * tried again here: pg_db_check dropped it and the next call reconnects
 * (pg_store_ensure, with backoff). */
int
pg_leg_tx(struct pg_leg *l, int (*body)(struct pg_leg *l, int64_t first_new_id, void *arg),
    void (*undo)(void *arg), void *arg)
{
	for (int tries = 1;; tries++) {
		int64_t first_new_id = 0;
		int rc;

		store_error_clear(&l->err);
		l->sqlstate[0] = '\0';
		if (pg_store_ensure(l->store, l->db, &l->err) == -1)
			return -1;
		rc = begin_locked(l, &first_new_id);
		if (rc == 0)
			rc = body(l, first_new_id, arg);
		/* the writes still waiting and the COMMIT: one round trip */
		if (rc == 0)
			rc = pg_writes_flush(l, true);
		derive_reset(l->derive);
		pg_unit_cache_clear(l);
		pg_writes_drop(l);
		if (rc == 0)
			return 0;
		if (l->err.kind == STORE_OK)
			pg_leg_fail(l, STORE_RETRYABLE, "transaction failed");
		pg_store_rollback(l->db);
		if (undo != NULL)
			undo(arg);
		if (!try_again(l->sqlstate) || tries == PG_WRITER_TX_TRIES)
			return -1;
		log_info("leg=%s transaction tried again try=%d sqlstate=%s", l->code, tries + 1,
		    l->sqlstate);
	}
}

/* ------------------------------------------------------------ append */

/* A claim this transaction made. */
struct claim {
	const char *carrier;	/* into the claims' result */
	uint64_t seq;
	size_t rec;		/* the update that stores it */
	bool taken;
};

struct batch {
	const struct pg_writer *w;
	struct update_rec **recs;
	size_t n;
	int64_t *ids;		/* per update: its event's id, 0: not inserted */
	struct unit_set units;
	struct claim *claims;
	size_t nclaims;
	PGresult *claims_res;
};

static const char *
carrier_of(const struct update_rec *r)
{
	return r->carrier_code != NULL ? r->carrier_code : "";
}

static int
claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = strcmp(x->carrier, y->carrier);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static struct claim *
claim_of(struct batch *b, const struct update_rec *r)
{
	struct claim key = { .carrier = carrier_of(r), .seq = r->seq };

	if (b->nclaims == 0)
		return NULL;
	return bsearch(&key, b->claims, b->nclaims, sizeof *b->claims, claim_cmp);
}

/* Claims the fresh updates' (carrier, seq) in one statement, in key order
 * (two daemons claiming the same keys wait for each other rather than
 * deadlock: another leg's transaction is not under this leg's lock); the first
 * fresh update of each claim made stores it, with an id of the sequence
 * (in the order of the batch, so that a later update has a larger id). */
static int
make_claims(struct pg_leg *l, struct batch *b)
{
	struct pg_buf carriers = { 0 }, seqs = { 0 };
	const char *p[3] = { l->code };
	int64_t *ids = NULL;
	size_t fresh = 0, next = 0;
	PGresult *res;
	int rc = -1;

	for (size_t i = 0; i < b->n; i++) {
		char num[PG_INT_TEXT_MAX];

		if (b->recs[i]->resend)
			continue;
		pg_arr_add(&carriers, carrier_of(b->recs[i]));
		pg_arr_add(&seqs, ev_value(b->recs[i], EC_SEQ, 0, num));
		fresh++;
	}
	if (fresh == 0)
		return 0;
	if ((p[1] = pg_arr_end(&carriers)) == NULL || (p[2] = pg_arr_end(&seqs)) == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
		goto done;
	}
	res = pg_leg_exec(l, "claiming sequence numbers",
	    "INSERT INTO update_seqs (carrier, seq, leg) SELECT c, s, $1"
	    " FROM unnest($2::text[], $3::bigint[]) AS u (c, s) ORDER BY c, s"
	    " ON CONFLICT DO NOTHING"
	    " RETURNING carrier, seq, nextval('events_id_seq')", 3, p, NULL, NULL,
	    PGRES_TUPLES_OK);
	if (res == NULL)
		goto done;
	b->claims_res = res;
	b->nclaims = (size_t)PQntuples(res);
	if (PQnfields(res) != 3) {
		pg_leg_fail(l, STORE_CORRUPT, "claims: other columns");
		goto done;
	}
	if (b->nclaims == 0) {
		rc = 0;
		goto done;
	}
	if ((b->claims = calloc(b->nclaims, sizeof *b->claims)) == NULL ||
	    (ids = calloc(b->nclaims, sizeof *ids)) == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
		goto done;
	}
	for (size_t k = 0; k < b->nclaims; k++) {
		const char *c = pg_col_text(res, (int)k, 0);

		b->claims[k].carrier = c != NULL ? c : "";
		b->claims[k].seq = (uint64_t)pg_col_int(res, (int)k, 1, 0);
		ids[k] = pg_col_int(res, (int)k, 2, 0);
	}
	qsort(b->claims, b->nclaims, sizeof *b->claims, claim_cmp);
	qsort(ids, b->nclaims, sizeof *ids, id_cmp);
	for (size_t i = 0; i < b->n; i++) {
		struct claim *c;

		if (b->recs[i]->resend || (c = claim_of(b, b->recs[i])) == NULL || c->taken)
			continue;
		c->taken = true;
		c->rec = i;
		if (next < b->nclaims)
			b->ids[i] = ids[next];
		next++;
	}
	if (next != b->nclaims) {
		/* a claim none of the updates asked for: not our answer */
		pg_leg_fail(l, STORE_CORRUPT, "claims do not match the batch");
		goto done;
	}
	rc = 0;
done:
	free(ids);
	pg_arr_free(&carriers);
	pg_arr_free(&seqs);
	return rc;
}

/* The events of the claims made, by COPY (measured: an INSERT of the same
 * rows from arrays of their columns cost the server 28 us a row, COPY 18):
 * 0, or -1 with l->err. */
static int
events_copy(struct pg_leg *l, struct batch *b)
{
	PGconn *conn = pg_db_conn(l->db);
	struct pg_buf data = { 0 };
	PGresult *res;
	int rc = -1;

	for (size_t i = 0; i < b->n; i++) {
		char num[PG_INT_TEXT_MAX];

		if (b->ids[i] <= 0)
			continue;
		copy_add(&data, l->code, '\t');
		for (int c = 0; c < EC_COUNT; c++)
			copy_add(&data, ev_value(b->recs[i], c, b->ids[i], num),
			    c + 1 < EC_COUNT ? '\t' : '\n');
	}
	if (data.nomem || data.len > INT_MAX) {
		pg_arr_free(&data);
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
		return -1;
	}
	if ((res = pg_leg_exec(l, "storing events", b->w->copy_sql, -1, NULL, NULL, NULL,
	    PGRES_COPY_IN)) == NULL) {
		pg_arr_free(&data);
		return -1;
	}
	PQclear(res);
	/* a failure here shows in the result below */
	if (PQputCopyData(conn, data.p, (int)data.len) == 1)
		(void)PQputCopyEnd(conn, NULL);
	else
		(void)PQputCopyEnd(conn, "corridord: the events could not be sent");
	res = pg_leg_result(l, PQgetResult(conn), PGRES_COMMAND_OK, "storing events");
	if (res != NULL)
		rc = 0;
	PQclear(res);
	/* the end of the command */
	while (pg_db_conn(l->db) != NULL && (res = PQgetResult(conn)) != NULL)
		PQclear(res);
	pg_arr_free(&data);
	return rc;
}

/* One statement over the updates to compare (as arrays of their columns):
 * which of them the leg holds already, and whether each is the same. */
static PGresult *
compare_exec(struct pg_leg *l, struct batch *b)
{
	struct pg_buf cols[EC_COUNT] = { 0 };
	const char *p[EC_COUNT + 1] = { l->code };
	PGresult *res = NULL;
	bool nomem = false;

	for (size_t i = 0; i < b->n; i++) {
		char num[PG_INT_TEXT_MAX];

		/* the ones not inserted and not a sequence number reused */
		if (b->ids[i] > 0 || b->recs[i]->result == REC_REUSED)
			continue;
		for (int c = 0; c < EC_COUNT; c++)
			pg_arr_add(&cols[c], ev_value(b->recs[i], c, (int64_t)i, num));
	}
	for (int c = 0; c < EC_COUNT; c++)
		if ((p[c + 1] = pg_arr_end(&cols[c])) == NULL)
			nomem = true;
	if (nomem)
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
	else
		res = pg_leg_exec(l, "comparing updates", b->w->same_sql, EC_COUNT + 1, p, NULL,
		    NULL, PGRES_TUPLES_OK);
	for (int c = 0; c < EC_COUNT; c++)
		pg_arr_free(&cols[c]);
	return res;
}

/* A resend, or a fresh update whose (carrier, seq) was claimed already:
 * REC_DUPLICATE when this leg holds the same update under it, REC_REUSED
 * when it holds another one or none (used on another leg, or rejected). An
 * update whose claim a later update of the batch made is compared, as
 * SQLite compares in order, with what the leg held before: none. */
static int
compare_events(struct pg_leg *l, struct batch *b)
{
	size_t compared = 0;
	PGresult *res;

	for (size_t i = 0; i < b->n; i++) {
		struct claim *c;

		if (b->ids[i] > 0)
			continue;
		b->recs[i]->result = REC_REUSED;
		if ((c = claim_of(b, b->recs[i])) != NULL && c->taken && c->rec > i)
			continue;
		b->recs[i]->result = REC_PENDING;
		compared++;
	}
	if (compared == 0)
		return 0;
	if ((res = compare_exec(l, b)) == NULL)
		return -1;
	for (size_t i = 0; i < b->n; i++)
		if (b->recs[i]->result == REC_PENDING)
			b->recs[i]->result = REC_REUSED;
	if (PQnfields(res) != 2) {
		PQclear(res);
		pg_leg_fail(l, STORE_CORRUPT, "comparing updates: other columns");
		return -1;
	}
	for (int k = 0; k < PQntuples(res); k++) {
		int64_t i = pg_col_int(res, k, 0, -1);
		const char *same = pg_col_text(res, k, 1);

		if (i < 0 || (size_t)i >= b->n || b->ids[i] > 0) {
			PQclear(res);
			pg_leg_fail(l, STORE_CORRUPT, "comparing updates: not the batch's");
			return -1;
		}
		if (same != NULL && same[0] == 't')
			b->recs[i]->result = REC_DUPLICATE;
	}
	PQclear(res);
	return 0;
}

/* Applies r's retraction to the leg's events; collects their units, whose
 * stored pairing is not what their older events give any more. */
static int
retract(struct pg_leg *l, struct batch *b, const struct update_rec *r)
{
	const char *p[3] = { l->code, r->retracts, carrier_of(r) };
	PGresult *res;
	int rc = 0;

	res = pg_leg_exec(l, "retracting", "UPDATE events SET retracted = 1 WHERE leg = $1"
	    " AND message_id = $2 AND carrier = $3 AND retracted = 0 RETURNING unit, direction",
	    3, p, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	for (int k = 0; k < PQntuples(res) && rc == 0; k++) {
		const char *unit = pg_col_text(res, k, 0), *dir = pg_col_text(res, k, 1);

		if (unit == NULL || dir == NULL || dir[0] == '\0') {
			pg_leg_fail(l, STORE_CORRUPT, "a retracted event without a unit");
			rc = -1;
		} else if (unit_set_add(&b->units, unit, dir, true, true) == -1) {
			pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
			rc = -1;
		}
	}
	PQclear(res);
	return rc;
}

/* The batch's new events that a retraction stored before them (or beside
 * them) retracts: the retraction arrived first. One statement, run with
 * the read of the units' events (which must see it) in one round trip:
 * their units are re-paired anyway, being new. It starts from the
 * retractions (the partial index events_retracting, probed with the new
 * events' message ids), which are few, rather than from the new events,
 * which are the batch. */
static int
retracted_before_and_units(struct pg_leg *l, struct batch *b)
{
	struct pg_buf ids = { 0 }, msgs = { 0 };
	const char *p[3] = { l->code };
	struct pg_db_stmt st = { "UPDATE events e SET retracted = 1"
	    " FROM (SELECT DISTINCT r.retracts_message_id AS m, r.carrier AS c FROM events r"
	    " WHERE r.leg = $1 AND r.retracts_message_id = ANY ($3::text[])) AS r"
	    " WHERE e.leg = $1 AND e.id = ANY ($2::bigint[]) AND e.retracted = 0"
	    " AND e.message_id = r.m AND e.carrier = r.c", 3, p, NULL, NULL, NULL };
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		char num[PG_INT_TEXT_MAX];

		if (b->ids[i] > 0) {
			pg_arr_add(&ids, opt_int(num, b->ids[i], true));
			pg_arr_add(&msgs, b->recs[i]->message_id);
		}
	}
	if (ids.count > 0 && ((p[1] = pg_arr_end(&ids)) == NULL ||
	    (p[2] = pg_arr_end(&msgs)) == NULL)) {
		pg_arr_free(&ids);
		pg_arr_free(&msgs);
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
		return -1;
	}
	rc = pg_unit_cache_fill(l, &b->units, "applying earlier retractions",
	    ids.count > 0 ? &st : NULL);
	pg_arr_free(&ids);
	pg_arr_free(&msgs);
	return rc;
}

/* What a try of the batch holds, freed (the results stay). */
static void
batch_clear(struct batch *b)
{
	unit_set_free(&b->units);
	free(b->claims);
	b->claims = NULL;
	b->nclaims = 0;
	PQclear(b->claims_res);
	b->claims_res = NULL;
}

/* A failed try: nothing of it was kept. */
static void
batch_undo(void *arg)
{
	struct batch *b = arg;

	for (size_t i = 0; i < b->n; i++) {
		b->recs[i]->result = REC_PENDING;
		b->ids[i] = 0;
	}
	batch_clear(b);
}

static int
append_body(struct pg_leg *l, int64_t first_new_id, void *arg)
{
	struct batch *b = arg;
	struct derive_tx tx = { &pg_derive_ops, l, first_new_id };
	size_t inserting = 0;
	int rc;

	if (make_claims(l, b) == -1)
		return -1;
	for (size_t i = 0; i < b->n; i++)
		inserting += b->ids[i] > 0;
	if (inserting > 0 && events_copy(l, b) == -1)
		return -1;
	if (compare_events(l, b) == -1)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		struct update_rec *r = b->recs[i];
		char dir[2] = { r->direction, '\0' };

		if (b->ids[i] > 0)
			r->result = REC_STORED;
		if (r->result != REC_REUSED &&
		    pg_leg_derive_rc(l, derive_note_update(l->derive, r)) == -1)
			return -1;
		if (b->ids[i] == 0)
			continue;
		if (r->retracts != NULL && retract(l, b, r) == -1)
			return -1;
		if (r->unit == NULL) {
			pg_leg_fail(l, STORE_CORRUPT, "an update without a unit");
			return -1;
		}
		if (unit_set_add(&b->units, r->unit, dir, false, false) == -1) {
			pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
			return -1;
		}
	}
	/* the events, now final, of every unit to re-pair: one round trip */
	if (retracted_before_and_units(l, b) == -1)
		return -1;
	rc = pg_leg_derive_rc(l, derive_repair(l->derive, &tx, &b->units));
	pg_unit_cache_clear(l);
	if (rc == -1)
		return -1;
	return pg_leg_derive_rc(l, derive_flush(l->derive, &tx));
}

/* ------------------------------------------------------------ deriving again */

/* The leg's rollup_meta: which derivation made its rows, against which
 * typical time (-1: none recorded). */
static int
read_meta(struct pg_leg *l, int64_t *derived, int64_t *typical)
{
	const char *p[1] = { l->code };
	PGresult *res;

	*derived = *typical = -1;
	res = pg_leg_exec(l, "reading rollup_meta", "SELECT key, value FROM rollup_meta"
	    " WHERE leg = $1", 1, p, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res) && PQnfields(res) == 2; i++) {
		const char *key = pg_col_text(res, i, 0);

		if (key != NULL && strcmp(key, "derived") == 0)
			*derived = pg_col_int(res, i, 1, -1);
		else if (key != NULL && strcmp(key, "typical_ms") == 0)
			*typical = pg_col_int(res, i, 1, -1);
	}
	PQclear(res);
	return 0;
}

struct again {
	int64_t nunits, nevents;
	bool done;		/* derived: another daemon had done it */
};

static int
again_body(struct pg_leg *l, int64_t first_new_id, void *arg)
{
	struct again *a = arg;
	struct derive_tx tx = { &pg_derive_ops, l, first_new_id };
	char version[PG_INT_TEXT_MAX], typical[PG_INT_TEXT_MAX];
	const char *p[3] = { l->code, version, typical };
	int64_t derived, was;
	PGresult *res;

	a->nunits = a->nevents = 0;
	a->done = false;
	/* under the lock: another daemon may have derived it meanwhile */
	if (read_meta(l, &derived, &was) == -1)
		return -1;
	if (derived == DERIVE_VERSION && was == l->typical_ms)
		return 0;
	if (pg_leg_derive_rc(l, derive_again(l->derive, &tx, l->typical_ms, &a->nunits,
	    &a->nevents)) == -1)
		return -1;
	snprintf(version, sizeof version, "%d", DERIVE_VERSION);
	snprintf(typical, sizeof typical, "%" PRId64, l->typical_ms);
	res = pg_leg_exec(l, "recording rollup_meta", "INSERT INTO rollup_meta (leg, key, value)"
	    " VALUES ($1, 'derived', $2), ($1, 'typical_ms', $3) ON CONFLICT (leg, key)"
	    " DO UPDATE SET value = excluded.value", 3, p, NULL, NULL, PGRES_COMMAND_OK);
	PQclear(res);
	a->done = res != NULL;
	return res != NULL ? 0 : -1;
}

/* Derives the leg's traversals and rollups again when they were made by
 * another derivation or against another typical time of the leg. */
static int
leg_current(struct pg_leg *l)
{
	int64_t start = time_now_ms(), derived, typical;
	struct again a = { 0 };

	store_error_clear(&l->err);
	if (read_meta(l, &derived, &typical) == -1)
		return -1;
	if (derived == DERIVE_VERSION && typical == l->typical_ms)
		return 0;
	if (pg_leg_tx(l, again_body, NULL, &a) == -1)
		return -1;
	if (a.done && a.nevents > 0)
		log_info("leg=%s derived traversals and rollups again units=%lld events=%lld"
		    " typical_ms=%lld ms=%lld", l->code, (long long)a.nunits, (long long)a.nevents,
		    (long long)l->typical_ms, (long long)(time_now_ms() - start));
	return 0;
}

/* ------------------------------------------------------------ the ops */

/* The leg's row in legs, made if there is none; the trigger makes its
 * events partition in the same statement. */
static int
record_leg(struct pg_leg *l, const struct leg *leg)
{
	char num[4][32], now[PG_INT_TEXT_MAX];
	const char *p[11] = { leg->code, leg->from, leg->to, leg->country,
		leg_kind_name(leg->kind), leg->mode, num[0], num[1], num[2], num[3], now };
	PGresult *res;

	/* %.17g: the double read back is the one written */
	snprintf(num[0], sizeof num[0], "%.17g", leg->distance_km);
	snprintf(num[1], sizeof num[1], "%.17g", leg->min_h);
	snprintf(num[2], sizeof num[2], "%.17g", leg->typical_h);
	snprintf(num[3], sizeof num[3], "%.17g", leg->bad_h);
	snprintf(now, sizeof now, "%" PRId64, time_now_ms());
	res = pg_leg_exec(l, "recording the leg", "INSERT INTO legs (code, from_name, to_name,"
	    " country, kind, mode, distance_km, min_h, typical_h, bad_h, created_ms)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (code) DO NOTHING",
	    11, p, NULL, NULL, PGRES_COMMAND_OK);
	PQclear(res);
	return res != NULL ? 0 : -1;
}

static int
w_prepare(void *store, const struct leg *leg, struct store_error *err)
{
	const struct pg_store *s = store;
	struct pg_db *db;
	struct pg_leg *l;
	int rc = -1;

	if ((db = pg_store_db(s, false, err)) == NULL)
		return -1;
	if ((l = leg_new(s, db, leg, err)) == NULL) {
		pg_db_free(db);
		return -1;
	}
	if (pg_store_ensure(s, db, err) == 0 &&
	    pg_db_migrate(db, pg_migrations, pg_migrations_count, err) == 0) {
		rc = record_leg(l, leg) == 0 && leg_current(l) == 0 ? 0 : -1;
		if (rc == -1 && err != NULL)
			*err = l->err;
	}
	leg_free(l);
	pg_db_free(db);
	return rc;
}

static void
w_where(void *store, const struct leg *leg, char *buf, size_t len)
{
	(void)store;
	snprintf(buf, len, "postgresql table events_%s", leg->code);
}

/* The batch statements, written out from ev_cols. */
static int
write_sql(struct pg_writer *w)
{
	size_t a = 0, b = 0, c = 0;
	char *copy = w->copy_sql, *same = w->same_sql;
	char cols[1024], arrays[1024], names[4096];
	int n;

	cols[0] = arrays[0] = names[0] = '\0';
	for (int i = 0; i < EC_COUNT; i++) {
		a += (size_t)snprintf(cols + a, sizeof cols - a, "%s%s", i ? ", " : "",
		    ev_cols[i].name);
		b += (size_t)snprintf(arrays + b, sizeof arrays - b, "%s$%d::%s[]", i ? ", " : "",
		    i + 2, ev_cols[i].type);
		if (ev_cols[i].same)
			c += (size_t)snprintf(names + c, sizeof names - c, "%se.%s IS NOT DISTINCT"
			    " FROM b.%s", c ? " AND " : "", ev_cols[i].name, ev_cols[i].name);
		if (a >= sizeof cols || b >= sizeof arrays || c >= sizeof names)
			return -1;
	}
	n = snprintf(copy, PG_EVENTS_SQL_MAX, "COPY events (leg, %s) FROM STDIN", cols);
	if (n < 0 || n >= PG_EVENTS_SQL_MAX)
		return -1;
	/* the stored event of each (carrier, seq) in the leg, and whether it
	 * is the one sent; b.id is the update's place in the batch */
	n = snprintf(same, PG_EVENTS_SQL_MAX, "SELECT b.id, %s FROM unnest(%s) AS b (%s)"
	    " JOIN events e ON e.leg = $1 AND e.carrier = b.carrier AND e.seq = b.seq", names,
	    arrays, cols);
	return n < 0 || n >= PG_EVENTS_SQL_MAX ? -1 : 0;
}

static void *
w_open(void *store, struct store_error *err)
{
	struct pg_writer *w = calloc(1, sizeof *w);

	if (w == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	w->store = store;
	if (write_sql(w) == -1) {
		store_error_set(err, STORE_UNSUPPORTED, "the batch statements are too long");
		free(w);
		return NULL;
	}
	/* connected by the first transaction (pg_store_ensure), so that a
	 * server down at start fails batches, retryable, not the writer */
	if ((w->db = pg_store_db(w->store, false, err)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

static void
w_close(void *arg)
{
	struct pg_writer *w = arg;

	if (w == NULL)
		return;
	for (size_t i = 0; i < LEGS_MAX; i++)
		leg_free(w->legs[i]);
	pg_db_free(w->db);
	free(w);
}

static int
w_add_leg(void *arg, size_t index, const struct leg *leg, int64_t cache_mib,
    struct store_error *err)
{
	struct pg_writer *w = arg;

	/* the server's shared_buffers cache every connection's reads */
	(void)cache_mib;
	if (index >= LEGS_MAX || w->legs[index] != NULL) {
		store_error_set(err, STORE_UNSUPPORTED, "leg %s: index %zu taken", leg->code, index);
		return -1;
	}
	if ((w->legs[index] = leg_new(w->store, w->db, leg, err)) == NULL)
		return -1;
	return 0;
}

static struct pg_leg *
leg_of(struct pg_writer *w, size_t index, struct store_error *err)
{
	if (index >= LEGS_MAX || w->legs[index] == NULL) {
		store_error_set(err, STORE_UNSUPPORTED, "no leg %zu in this writer", index);
		return NULL;
	}
	return w->legs[index];
}

static int
w_append(void *arg, size_t index, struct update_rec **recs, size_t n,
    struct store_error *err)
{
	struct pg_writer *w = arg;
	struct pg_leg *l = leg_of(w, index, err);
	struct batch b = { .w = w, .recs = recs, .n = n };
	int rc = -1;

	if (l == NULL) {
		/* the leg could not be taken: its updates fail as a failed
		 * transaction's would */
		for (size_t k = 0; k < n; k++) {
			recs[k]->result = REC_FAILED;
			recs[k]->fail_kind = STORE_UNSUPPORTED;
		}
		return -1;
	}
	if ((b.ids = calloc(n > 0 ? n : 1, sizeof *b.ids)) == NULL)
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
	else {
		for (size_t k = 0; k < n; k++)
			recs[k]->result = REC_PENDING;
		rc = pg_leg_tx(l, append_body, batch_undo, &b);
	}
	batch_clear(&b);
	if (rc == 0) {
		int64_t added = 0;

		for (size_t k = 0; k < n; k++)
			added += b.ids[k] > 0;
		free(b.ids);
		pg_growth_note(w->db, &l->growth, added, w->store->analyze_until_rows);
		return 0;
	}
	free(b.ids);
	log_warnx("leg=%s store failed updates=%zu error=\"%s\"", l->code, n, l->err.message);
	if (err != NULL)
		*err = l->err;
	for (size_t k = 0; k < n; k++) {
		recs[k]->result = REC_FAILED;
		recs[k]->fail_kind = l->err.kind != STORE_OK ? l->err.kind : STORE_RETRYABLE;
	}
	return -1;
}

static int
w_retain_step(void *arg, size_t index, int64_t cutoff_ms, size_t max_units,
    size_t *units_dropped, int64_t *events_dropped, bool *more, struct store_error *err)
{
	struct pg_leg *l = leg_of(arg, index, err);

	*units_dropped = 0;
	*events_dropped = 0;
	*more = false;
	if (l == NULL)
		return -1;
	return pg_leg_retain_step(l, cutoff_ms, max_units, units_dropped, events_dropped, more,
	    err);
}

const struct store_writer_ops pg_writer_ops = {
	.leg_prepare = w_prepare,
	.leg_where = w_where,
	.open = w_open,
	.close = w_close,
	.add_leg = w_add_leg,
	.append = w_append,
	.retain_step = w_retain_step,
};
