/* One leg's SQLite file, write side; see leg_store.h. */
#include "leg_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "traversal.h"

extern const char *const leg_migrations[];
extern const size_t leg_migrations_count;

const char leg_store_insert_event_sql[] =
	    "INSERT INTO events (carrier, seq, message_id, event_class, classifier, event_code,"
	    " event_time_ms, record_time_ms, node, locode, direction, mode, unit, train_id,"
	    " wagon_id, vessel_imo, voyage, truck_plate, container, iso_type, empty, gross_kg,"
	    " teu, container_count, delay_reason, remark, next_eta_ms, retracts_message_id,"
	    " unit_teu, unit_containers)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (carrier, seq) DO NOTHING";

enum stmt_id {
	ST_INSERT_EVENT,
	ST_RETRACT,
	ST_IS_RETRACTED,
	ST_MARK_RETRACTED,
	ST_UNIT_EVENTS,
	ST_DELETE_TRAVERSALS,
	ST_DELETE_TRAVERSAL,
	ST_UPSERT_TRAVERSAL,
	ST_MAX_ID,
	ST_ORPHAN_RETRACTIONS,
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
	    "SELECT id, event_time_ms, event_code, carrier, unit_teu, unit_containers, gross_kg"
	    " FROM events INDEXED BY events_by_unit WHERE unit = ?1 AND direction = ?2"
	    " AND classifier = 1 AND retracted = 0 ORDER BY event_time_ms, id",
	[ST_DELETE_TRAVERSALS] = "DELETE FROM traversals WHERE unit = ?1 AND direction = ?2",
	[ST_DELETE_TRAVERSAL] = "DELETE FROM traversals WHERE unit = ?1 AND direction = ?2"
	    " AND enter_time_ms = ?3",
	[ST_UPSERT_TRAVERSAL] =
	    "INSERT INTO traversals (unit, direction, enter_time_ms, exit_time_ms, duration_ms,"
	    " carrier, teu, containers, gross_kg) VALUES (?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (unit, direction, enter_time_ms) DO UPDATE SET"
	    " exit_time_ms = excluded.exit_time_ms, duration_ms = excluded.duration_ms,"
	    " carrier = excluded.carrier, teu = excluded.teu, containers = excluded.containers,"
	    " gross_kg = excluded.gross_kg",
	[ST_MAX_ID] = "SELECT coalesce(max(id), 0) FROM events",
	/* retractions whose target has not arrived (yet) */
	[ST_ORPHAN_RETRACTIONS] =
	    "SELECT count(*) FROM events r WHERE r.retracts_message_id IS NOT NULL"
	    " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.message_id = r.retracts_message_id"
	    " AND e.carrier = r.carrier)",
};

/* One stored event of a unit being re-paired, with room for its carrier
 * code (configured codes are shorter than CARRIER_CODE_BYTES). */
#define CARRIER_CODE_BYTES 32
struct unit_event {
	struct trav_event ev;
	char carrier[CARRIER_CODE_BYTES];
};

struct leg_store {
	sqlite3 *db;
	enum leg_kind kind;
	char code[LEG_CODE_MAX];
	char path[4096];
	sqlite3_stmt *st[ST_COUNT];
	/* Events with an id below this were stored before the current batch. */
	int64_t first_new_id;
	/* Retractions waiting for their target: while 0, a new event need not
	 * be checked against them. */
	int64_t orphan_retractions;
	/* scratch for re-pairing, reused from unit to unit */
	struct unit_event *uev;
	struct trav_event *ev, *ev_before;
	struct traversal *tr, *tr_before;
	size_t cap;
};

/* A (unit, direction) whose traversals must be re-paired after the batch;
 * the set may hold duplicates until it is sorted. unit points into an
 * update of the batch, or is owned when it came from a retraction. */
struct unit_key {
	const char *unit;
	char direction[2];
	bool owned;	/* from a retraction: its old pairing is not known, rebuild it */
};

struct unit_set {
	struct unit_key *keys;
	size_t count, cap;
};

/* Runs a statement that yields one integer. */
static int
query_int(sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

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
	if (query_int(s->st[ST_ORPHAN_RETRACTIONS], &s->orphan_retractions) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
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
	free(s->uev);
	free(s->ev);
	free(s->ev_before);
	free(s->tr);
	free(s->tr_before);
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
	sqlite3_bind_int64(st, 29, r->unit_teu);
	sqlite3_bind_int64(st, 30, r->unit_containers);
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
unit_set_add(struct unit_set *set, const char *unit, const char *direction, bool copy)
{
	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct unit_key *k = realloc(set->keys, cap * sizeof *k);

		if (k == NULL)
			return -1;
		set->keys = k;
		set->cap = cap;
	}
	set->keys[set->count].unit = copy ? strdup(unit) : unit;
	set->keys[set->count].owned = copy;
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
		if (set->keys[i].owned)
			free((char *)set->keys[i].unit);
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
		int found = 0;

		st = s->st[ST_RETRACT];
		bind_text(st, 1, r->retracts);
		bind_text(st, 2, r->carrier_code);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			found = 1;
			if (unit_set_add(units, (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1), true) == -1)
				rc = SQLITE_NOMEM;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return rc;
		if (!found)
			s->orphan_retractions++;
	}
	if (s->orphan_retractions == 0)
		return SQLITE_OK;
	st = s->st[ST_IS_RETRACTED];
	bind_text(st, 1, r->message_id);
	bind_text(st, 2, r->carrier_code);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		s->orphan_retractions--;
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
static void
read_unit_event(struct leg_store *s, sqlite3_stmt *st, struct unit_event *ue)
{
	struct trav_event *e = &ue->ev;

	e->id = sqlite3_column_int64(st, 0);
	e->time_ms = sqlite3_column_int64(st, 1);
	e->role = leg_event_role(s->kind, 1, sqlite3_column_int(st, 2));
	snprintf(ue->carrier, sizeof ue->carrier, "%s", (const char *)sqlite3_column_text(st, 3));
	e->teu = column_u32(st, 4);
	e->containers = column_u32(st, 5);
	e->gross_kg = column_u32(st, 6);
}

/* Makes room for n events in the re-pairing scratch. */
static int
scratch_reserve(struct leg_store *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 16;

	if (n <= s->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	/* each array keeps its old block when realloc fails */
#define SCRATCH_GROW(field) do {					\
	void *grown = realloc(s->field, cap * sizeof *s->field);	\
	if (grown == NULL)						\
		return -1;						\
	s->field = grown;						\
} while (0)
	SCRATCH_GROW(uev);
	SCRATCH_GROW(ev);
	SCRATCH_GROW(ev_before);
	SCRATCH_GROW(tr);
	SCRATCH_GROW(tr_before);
#undef SCRATCH_GROW
	s->cap = cap;
	return 0;
}

struct unit_change {
	struct leg_store *s;
	const struct unit_key *k;
};

/* Writes one traversal change: gone ones are deleted, others upserted. */
static int
change_traversal(void *arg, const struct traversal *t, bool gone)
{
	struct unit_change *ch = arg;
	sqlite3_stmt *st = ch->s->st[gone ? ST_DELETE_TRAVERSAL : ST_UPSERT_TRAVERSAL];
	int rc;

	bind_text(st, 1, ch->k->unit);
	bind_text(st, 2, ch->k->direction);
	sqlite3_bind_int64(st, 3, t->enter_ms);
	if (!gone) {
		bind_opt_int(st, 4, t->exit_ms, t->exit_ms >= 0);
		bind_opt_int(st, 5, t->exit_ms - t->enter_ms, t->exit_ms >= 0);
		bind_text(st, 6, t->carrier);
		sqlite3_bind_int64(st, 7, t->teu);
		sqlite3_bind_int64(st, 8, t->containers);
		sqlite3_bind_int64(st, 9, t->gross_kg);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Loads the (unit, direction)'s live events into the scratch; their count. */
static int
load_unit_events(struct leg_store *s, const struct unit_key *k, size_t *count)
{
	sqlite3_stmt *st = s->st[ST_UNIT_EVENTS];
	size_t n = 0;
	int rc;

	bind_text(st, 1, k->unit);
	bind_text(st, 2, k->direction);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (scratch_reserve(s, n + 1) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		read_unit_event(s, st, &s->uev[n]);
		n++;
	}
	sqlite3_reset(st);
	/* carriers point into uev only now that it no longer moves */
	for (size_t i = 0; i < n; i++) {
		s->ev[i] = s->uev[i].ev;
		s->ev[i].carrier = s->uev[i].carrier;
	}
	*count = n;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Re-pairs one (unit, direction) after the batch stored its events. The
 * pairing of the events stored before the batch is what the traversals
 * table holds, so only the difference is written: usually one insert (a
 * unit entered) or one update (it left). A unit touched by a retraction is
 * rebuilt whole, since its old pairing included the retracted event.
 */
static int
repair_unit(struct leg_store *s, const struct unit_key *k)
{
	struct unit_change ch = { s, k };
	size_t n, nb = 0, ntr, ntr_before = 0;
	int rc;

	if ((rc = load_unit_events(s, k, &n)) != SQLITE_OK)
		return rc;
	if (k->owned) {
		sqlite3_stmt *st = s->st[ST_DELETE_TRAVERSALS];

		bind_text(st, 1, k->unit);
		bind_text(st, 2, k->direction);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return rc;
	} else {
		for (size_t i = 0; i < n; i++)
			if (s->ev[i].id < s->first_new_id)
				s->ev_before[nb++] = s->ev[i];
		ntr_before = traversal_pair(s->ev_before, nb, s->tr_before);
	}
	ntr = traversal_pair(s->ev, n, s->tr);
	return traversal_diff(s->tr_before, ntr_before, s->tr, ntr, change_traversal, &ch);
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
		if (unit_set_add(units, r->unit, dir, false) == -1)
			return SQLITE_NOMEM;
	}
	/* A unit touched several times in the batch is re-paired once, and
	 * rebuilt whole if any of its touches was a retraction. */
	if (units->count == 0)
		return SQLITE_OK;	/* only duplicates: nothing to re-pair */
	qsort(units->keys, units->count, sizeof units->keys[0], unit_key_cmp);
	for (size_t i = 0; i < units->count;) {
		struct unit_key k = units->keys[i];
		size_t j = i + 1;

		for (; j < units->count && unit_key_cmp(&units->keys[i], &units->keys[j]) == 0; j++)
			k.owned = k.owned || units->keys[j].owned;
		if ((rc = repair_unit(s, &k)) != SQLITE_OK)
			return rc;
		i = j;
	}
	return SQLITE_OK;
}

int
leg_store_append(struct leg_store *s, struct update_rec **recs, size_t n)
{
	struct unit_set units = { 0 };
	int rc;

	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK && (rc = query_int(s->st[ST_MAX_ID], &s->first_new_id)) == SQLITE_OK) {
		s->first_new_id++;
		rc = append_all(s, recs, n, &units);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	unit_set_free(&units);
	if (rc == SQLITE_OK)
		return 0;
	log_warnx("leg=%s store failed updates=%zu sqlite=\"%s\" code=%d", s->code, n,
	    sqlite3_errstr(rc), rc);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	/* the rolled-back batch may have counted retractions that are gone */
	if (query_int(s->st[ST_ORPHAN_RETRACTIONS], &s->orphan_retractions) != SQLITE_OK)
		s->orphan_retractions = 1;	/* unknown: keep checking */
	for (size_t i = 0; i < n; i++) {
		recs[i]->result = REC_FAILED;
		recs[i]->fail_code = rc;
	}
	return -1;
}
