/* One leg's SQLite file, write side; see leg_store.h. */
#include "leg_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iso6346.h"
#include "log.h"
#include "traversal.h"

extern const char *const leg_migrations[];
extern const size_t leg_migrations_count;

const char leg_store_insert_event_sql[] =
	    "INSERT INTO events (carrier, seq, message_id, event_class, classifier, event_code,"
	    " event_time_ms, record_time_ms, node, locode, direction, mode, unit, train_id,"
	    " wagon_id, vessel_imo, voyage, truck_plate, container, iso_type, empty, gross_kg,"
	    " teu, container_count, delay_reason, remark, next_eta_ms, retracts_message_id)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (carrier, seq) DO NOTHING";

enum stmt_id {
	ST_INSERT_EVENT,
	ST_RETRACT,
	ST_IS_RETRACTED,
	ST_MARK_RETRACTED,
	ST_UNIT_EVENTS,
	ST_DELETE_TRAVERSALS,
	ST_INSERT_TRAVERSAL,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_INSERT_EVENT] = leg_store_insert_event_sql,
	[ST_RETRACT] =
	    "UPDATE events SET retracted = 1 WHERE message_id = ?1 AND carrier = ?2"
	    " AND retracted = 0 RETURNING unit, direction",
	[ST_IS_RETRACTED] =
	    "SELECT 1 FROM events WHERE retracts_message_id = ?1 AND carrier = ?2 LIMIT 1",
	[ST_MARK_RETRACTED] = "UPDATE events SET retracted = 1 WHERE id = ?1",
	[ST_UNIT_EVENTS] =
	    "SELECT id, event_time_ms, event_code, carrier, container, iso_type, teu,"
	    " container_count, gross_kg FROM events WHERE unit = ?1 AND direction = ?2"
	    " AND classifier = 1 AND retracted = 0 ORDER BY event_time_ms, id",
	[ST_DELETE_TRAVERSALS] = "DELETE FROM traversals WHERE unit = ?1 AND direction = ?2",
	[ST_INSERT_TRAVERSAL] =
	    "INSERT OR REPLACE INTO traversals (unit, direction, enter_time_ms, exit_time_ms,"
	    " duration_ms, carrier, teu, containers, gross_kg) VALUES (?,?,?,?,?,?,?,?,?)",
};

struct leg_store {
	sqlite3 *db;
	enum leg_kind kind;
	char code[LEG_CODE_MAX];
	char path[4096];
	sqlite3_stmt *st[ST_COUNT];
};

/* A (unit, direction) whose traversals must be re-paired after the batch;
 * the set may hold duplicates until it is sorted. */
struct unit_key {
	char *unit;
	char direction[2];
};

struct unit_set {
	struct unit_key *keys;
	size_t count, cap;
};

struct leg_store *
leg_store_open(const char *legs_dir, const struct leg *leg, enum db_sync sync, char *err,
    size_t errlen)
{
	struct leg_store *s = calloc(1, sizeof *s);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->path, sizeof s->path, "%s/%s.db", legs_dir, leg->code);
	snprintf(s->code, sizeof s->code, "%s", leg->code);
	s->kind = leg->kind;
	s->db = db_open_rw(s->path, sync, leg_migrations, leg_migrations_count, err, errlen);
	if (s->db == NULL) {
		free(s);
		return NULL;
	}
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: preparing statement %d: %s", s->path, i,
			    sqlite3_errmsg(s->db));
			leg_store_close(s);
			return NULL;
		}
	return s;
}

void
leg_store_close(struct leg_store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

const char *
leg_store_path(const struct leg_store *s)
{
	return s->path;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int present)
{
	if (present)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

void
leg_store_bind_event(sqlite3_stmt *st, const struct update_rec *r)
{
	char dir[2] = { r->direction, '\0' };

	bind_text(st, 1, r->carrier_code);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->seq);
	bind_text(st, 3, r->message_id);
	sqlite3_bind_int(st, 4, r->event_class);
	sqlite3_bind_int(st, 5, r->classifier);
	sqlite3_bind_int(st, 6, r->event_code);
	sqlite3_bind_int64(st, 7, r->event_time_ms);
	sqlite3_bind_int64(st, 8, r->record_time_ms);
	bind_text(st, 9, r->node);
	bind_text(st, 10, r->locode);
	sqlite3_bind_text(st, 11, dir, 1, SQLITE_TRANSIENT);
	bind_opt_int(st, 12, r->mode, r->mode != 0);
	bind_text(st, 13, r->unit);
	bind_text(st, 14, r->train_id);
	bind_text(st, 15, r->wagon_id);
	bind_text(st, 16, r->vessel_imo);
	bind_text(st, 17, r->voyage);
	bind_text(st, 18, r->truck_plate);
	bind_text(st, 19, r->container);
	bind_text(st, 20, r->iso_type);
	bind_opt_int(st, 21, r->empty, r->has_empty);
	bind_opt_int(st, 22, r->gross_kg, r->gross_kg >= 0);
	bind_opt_int(st, 23, r->teu, r->teu >= 0);
	bind_opt_int(st, 24, r->container_count, r->container_count >= 0);
	bind_text(st, 25, r->delay_reason);
	bind_text(st, 26, r->remark);
	bind_opt_int(st, 27, r->next_eta_ms, r->has_next_eta);
	bind_text(st, 28, r->retracts);
}

static int
insert_event(struct leg_store *s, const struct update_rec *r, int *inserted)
{
	sqlite3_stmt *st = s->st[ST_INSERT_EVENT];
	int rc;

	leg_store_bind_event(st, r);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return rc;
	*inserted = sqlite3_changes(s->db) > 0;
	return SQLITE_OK;
}

static int
unit_set_add(struct unit_set *set, const char *unit, const char *direction)
{
	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct unit_key *k = realloc(set->keys, cap * sizeof *k);

		if (k == NULL)
			return -1;
		set->keys = k;
		set->cap = cap;
	}
	set->keys[set->count].unit = strdup(unit);
	if (set->keys[set->count].unit == NULL)
		return -1;
	set->keys[set->count].direction[0] = direction[0];
	set->keys[set->count].direction[1] = '\0';
	set->count++;
	return 0;
}

static int
unit_key_cmp(const void *a, const void *b)
{
	const struct unit_key *x = a, *y = b;
	int c = strcmp(x->unit, y->unit);

	return c != 0 ? c : x->direction[0] - y->direction[0];
}

static void
unit_set_free(struct unit_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		free(set->keys[i].unit);
	free(set->keys);
}

/* Applies r's retraction and checks whether r itself was retracted earlier
 * (the retraction arrived first); collects the units to re-pair. */
static int
apply_retractions(struct leg_store *s, const struct update_rec *r, struct unit_set *units)
{
	sqlite3_stmt *st;
	int rc;

	if (r->retracts != NULL) {
		st = s->st[ST_RETRACT];
		bind_text(st, 1, r->retracts);
		bind_text(st, 2, r->carrier_code);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			if (unit_set_add(units, (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1)) == -1)
				rc = SQLITE_NOMEM;
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return rc;
	}
	st = s->st[ST_IS_RETRACTED];
	bind_text(st, 1, r->message_id);
	bind_text(st, 2, r->carrier_code);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		st = s->st[ST_MARK_RETRACTED];
		sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(s->db));
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static uint32_t
column_u32(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 :
	    (uint32_t)sqlite3_column_int64(st, col);
}

/* Reads one row of ST_UNIT_EVENTS into a traversal event. */
static int
read_unit_event(struct leg_store *s, sqlite3_stmt *st, struct trav_event *e)
{
	const char *container = (const char *)sqlite3_column_text(st, 4);
	int has_teu = sqlite3_column_type(st, 6) != SQLITE_NULL;

	e->id = sqlite3_column_int64(st, 0);
	e->time_ms = sqlite3_column_int64(st, 1);
	e->role = leg_event_role(s->kind, 1, sqlite3_column_int(st, 2));
	e->carrier = strdup((const char *)sqlite3_column_text(st, 3));
	if (e->carrier == NULL)
		return -1;
	if (container != NULL) {
		unsigned t = iso6346_teu((const char *)sqlite3_column_text(st, 5));

		e->teu = has_teu ? column_u32(st, 6) : t != 0 ? t : 1;
		e->containers = 1;
	} else {
		e->teu = column_u32(st, 6);
		e->containers = column_u32(st, 7);
	}
	e->gross_kg = column_u32(st, 8);
	return 0;
}

static int
write_traversals(struct leg_store *s, const struct unit_key *k, const struct traversal *t,
    size_t n)
{
	sqlite3_stmt *st = s->st[ST_INSERT_TRAVERSAL];
	int rc = SQLITE_DONE;

	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		bind_text(st, 1, k->unit);
		bind_text(st, 2, k->direction);
		sqlite3_bind_int64(st, 3, t[i].enter_ms);
		bind_opt_int(st, 4, t[i].exit_ms, t[i].exit_ms >= 0);
		bind_opt_int(st, 5, t[i].exit_ms - t[i].enter_ms, t[i].exit_ms >= 0);
		bind_text(st, 6, t[i].carrier);
		sqlite3_bind_int64(st, 7, t[i].teu);
		sqlite3_bind_int64(st, 8, t[i].containers);
		sqlite3_bind_int64(st, 9, t[i].gross_kg);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Rebuilds the traversals of one (unit, direction) from its events. */
static int
repair_unit(struct leg_store *s, const struct unit_key *k)
{
	sqlite3_stmt *st = s->st[ST_UNIT_EVENTS];
	struct trav_event *ev = NULL;
	struct traversal *tr = NULL;
	size_t n = 0, cap = 0, ntr;
	int rc;

	bind_text(st, 1, k->unit);
	bind_text(st, 2, k->direction);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct trav_event *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(ev, cap * sizeof *ev);
			if (grown == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			ev = grown;
		}
		if (read_unit_event(s, st, &ev[n]) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		n++;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		st = s->st[ST_DELETE_TRAVERSALS];
		bind_text(st, 1, k->unit);
		bind_text(st, 2, k->direction);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	if (rc == SQLITE_DONE) {
		tr = calloc(n ? n : 1, sizeof *tr);
		if (tr == NULL)
			rc = SQLITE_NOMEM;
		else {
			ntr = traversal_pair(ev, n, tr);
			rc = write_traversals(s, k, tr, ntr);
		}
	}
	for (size_t i = 0; i < n; i++)
		free((char *)ev[i].carrier);
	free(ev);
	free(tr);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
append_all(struct leg_store *s, struct update_rec **recs, size_t n, struct unit_set *units)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct update_rec *r = recs[i];
		char dir[2] = { r->direction, '\0' };
		int inserted = 0;

		if ((rc = insert_event(s, r, &inserted)) != SQLITE_OK)
			return rc;
		r->result = inserted ? REC_STORED : REC_DUPLICATE;
		if (!inserted)
			continue;
		if ((rc = apply_retractions(s, r, units)) != SQLITE_OK)
			return rc;
		if (unit_set_add(units, r->unit, dir) == -1)
			return SQLITE_NOMEM;
	}
	/* A unit touched several times in the batch is re-paired once. */
	qsort(units->keys, units->count, sizeof units->keys[0], unit_key_cmp);
	for (size_t i = 0; i < units->count; i++) {
		if (i > 0 && unit_key_cmp(&units->keys[i - 1], &units->keys[i]) == 0)
			continue;
		if ((rc = repair_unit(s, &units->keys[i])) != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

int
leg_store_append(struct leg_store *s, struct update_rec **recs, size_t n)
{
	struct unit_set units = { 0 };
	int rc;

	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = append_all(s, recs, n, &units);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	unit_set_free(&units);
	if (rc == SQLITE_OK)
		return 0;
	log_warnx("leg=%s store failed updates=%zu sqlite=\"%s\" code=%d", s->code, n,
	    sqlite3_errstr(rc), rc);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		recs[i]->result = REC_FAILED;
		recs[i]->fail_code = rc;
	}
	return -1;
}
